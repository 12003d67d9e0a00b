//! tunnelform's execution (layer 9): the execution of a plan against the Tencent Cloud API (or
//! the sandbox), recording every step in the state and its journal; saved plans, the batched
//! watcher and tunnel resets. Plans are made by `tunnelform-planner` (reads) with the plan
//! layer's pure planner; recovery is `tunnelform-recover`.

mod conditions;
pub mod executor;
pub mod reset;
pub mod saved;
pub mod store;
pub mod watch;

pub use executor::{
    apply_plan, ApplyError, ApplyOptions, ApplyReport, Event, EventSink, StepFailure,
};
pub use store::{StateStore, StoreError};
pub use tunnelform_plan::TUNNELFORM_VERSION;
