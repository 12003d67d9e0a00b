//! The crate's integration tests, one module per file, built as one test binary
//! (one link instead of one per file: a faster build and a smaller target directory).

mod make;
mod triggers;
