//! tunnelform's resource kinds (layer 2): one home per kind, and the registry that lists them.
//!
//! A kind's home holds everything tunnelform knows about it: its schema (arguments, defaults the
//! API fills in, what forces replacement, what is sensitive), its rules across arguments, the
//! mapping to and from the API (batched read, create, update, delete) and how it settles (a task,
//! or a state to reach). The engine (plan, apply) asks kinds through [`Kind`] and knows none of
//! them. Shared helpers sit beside the kinds: [`tags`] (ownership and user tags, the tag
//! service), [`attrs`] (value conversions), [`net`] (CIDR arithmetic), [`asn`].

pub mod asn;
pub mod attrs;
pub mod coalesce;
pub mod contract;
pub mod customer_gateway;
pub mod data;
pub mod net;
pub mod registry;
pub mod route_table;
pub mod route_table_entry;
pub mod tags;
pub mod vpn_connection;
pub mod vpn_gateway;
pub mod vpn_gateway_route;

pub use contract::{
    Call, CallError, Claim, Conflict, Created, Deleted, Held, Kind, Member, Observed, Problem,
    RegionHint,
};
pub use registry::{DataKind, ObjectKind, ResourceKind};
pub use tags::Ownership;

use tunnelform_tencent_api::ApiError;

/// Whether an error says the object is not there (any `*NotFound*` code, or `*.NotExist`): a
/// delete that meets it has nothing left to do.
pub fn is_gone(e: &ApiError) -> bool {
    e.is_not_found() || e.code().is_some_and(|c| c.as_str().ends_with(".NotExist"))
}
