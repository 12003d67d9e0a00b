//! The crate's integration tests, one module per file, built as one test binary
//! (one link instead of one per file: a faster build and a smaller target directory).

mod api;
mod big_objects;
mod common;
mod conditions;
mod expressions;
mod files;
mod fixtures_load;
mod fmt;
mod hostile;
mod many_instances;
mod modules;
mod refactor;
mod replace_triggered_by;
mod snapshots;
mod validation;
mod variables;
