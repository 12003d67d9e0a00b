//! tunnelform's engine (layer 3): refresh, the planning walk and the execution of a plan against
//! the Tencent Cloud API (or the sandbox), recording every step in the state and its journal.

pub mod executor;
mod moves;
pub mod ownership;
pub mod planner;
pub mod quota;
pub mod recover;
pub mod refresh;
pub mod reset;
pub mod rules;
pub mod saved;
pub mod store;
pub mod watch;

pub use executor::{
    apply_plan, ApplyError, ApplyOptions, ApplyReport, Event, EventSink, StepFailure,
};
pub use planner::{make_plan, plan_from, PlanError, PlanMode, PlanOptions, PlanTimings, Planned};
pub use quota::{QuotaError, QuotaOverrides};
pub use recover::{recover, Recovery};
pub use refresh::{refresh, RemoteObject, RemoteSnapshot};
pub use store::{StateStore, StoreError};

/// The version written into plans and state.
pub const TUNNELFORM_VERSION: &str = env!("CARGO_PKG_VERSION");
