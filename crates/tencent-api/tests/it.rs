//! The crate's integration tests, one module per file, built as one test binary
//! (one link instead of one per file: a faster build and a smaller target directory).

mod common;
mod http;
mod sandbox_actions;
mod sandbox_faults;
mod sandbox_ratelimit;
mod sandbox_routes;
mod serde_examples;
