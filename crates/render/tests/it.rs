//! The crate's integration tests, built as one test binary.

mod render;
