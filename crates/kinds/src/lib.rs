//! tunnelform's resource kinds (layer 2): one home per kind, and the registry that lists them.
//!
//! A kind's home holds everything tunnelform knows about it: its schema (arguments, defaults the
//! API fills in, what forces replacement, what is sensitive), its rules across arguments, the
//! mapping to and from the API (batched read, create, update, delete) and how it settles (a task,
//! or a state to reach). The engine (plan, apply) asks kinds through [`Kind`] and knows none of
//! them. Shared helpers sit beside the kinds: [`tags`] (ownership and user tags, the tag
//! service), [`attrs`] (value conversions), [`net`] (CIDR arithmetic), [`asn`], [`vpcs`] (the
//! CIDR blocks plan rules need).

pub mod asn;
pub mod attrs;
pub mod coalesce;
pub mod contract;
pub mod customer_gateway;
pub mod data;
pub mod net;
pub mod plan_view;
pub mod registry;
pub mod route_table;
pub mod route_table_entry;
pub mod tags;
pub mod vpcs;
pub mod vpn_connection;
pub mod vpn_gateway;
pub mod vpn_gateway_route;

pub use contract::{
    Call, CallError, Claim, Conflict, Created, Deleted, Held, Kind, Member, Observed, Per, Problem,
    Quota, RegionHint,
};
pub use plan_view::{PlanView, Step, Target};
pub use registry::{DataKind, ObjectKind, ResourceKind};
pub use tags::Ownership;

use tunnelform_tencent_api::ApiError;

/// The outcome of a delete request (`answer`: its request id, or the error): `None` when the
/// object was already gone; `with_task`: the API runs the deletion as a task named by the
/// request id.
pub fn deleted(
    answer: Result<String, ApiError>,
    with_task: bool,
) -> Result<Option<Deleted>, ApiError> {
    match answer {
        Ok(request_id) => Ok(Some(Deleted {
            task_id: with_task.then(|| request_id.clone()),
            request_id,
        })),
        Err(e) if is_gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether an error says the object is not there (a not-found code, see
/// `ErrorCode::is_not_found`: never an auth, permission or unsupported-operation code that merely
/// names "NotFound"; or `*.NotExist`): a delete that meets it has nothing left to do.
pub fn is_gone(e: &ApiError) -> bool {
    e.is_not_found() || e.code().is_some_and(|c| c.as_str().ends_with(".NotExist"))
}

/// Every quota of every kind, in the registry's order.
pub fn all_quotas() -> impl Iterator<Item = &'static Quota> {
    ResourceKind::ALL
        .into_iter()
        .flat_map(|k| k.def().quotas().iter())
}
