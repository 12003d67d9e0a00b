//! tunnelform's planner (layer 7, pure: no I/O): given what the configuration wants, what the state last
//! recorded and what the cloud reports now, decide what to do and in which order.
//!
//! - [`diff`] compares one object: normalises API defaults, compares sets without order, decides
//!   the action and explains it.
//! - [`drift`] compares the prior state with the refreshed remote object.
//! - [`graph`] orders the operations in a petgraph DAG (references, reverse order for deletes, and
//!   conflicts the API would reject mid-apply).
//! - [`make`] makes a whole plan from plain data (configuration, prior state, what was read from
//!   the cloud), asking for the reads it needs ([`make::Planning`]); no I/O.
//!
//! Rendering a plan (text, JSON, Markdown) is `tunnelform-render`'s.

pub mod diff;
pub mod drift;
pub mod graph;
pub mod make;
pub mod normalize;
pub mod types;

pub use diff::{
    diff_data, diff_managed, diff_managed_owned, force_replace, force_replace_because, DiffInput,
};
pub use drift::detect_drift;
pub use graph::{build_graph, ExecGraph, GraphData, GraphError, Step, StepKind};
/// The diff reads it; the model owns it.
pub use tunnelform_model::Lifecycle;
pub use types::*;

/// The version written into plans and state.
pub const TUNNELFORM_VERSION: &str = env!("CARGO_PKG_VERSION");
