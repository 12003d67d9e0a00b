//! tunnelform's layer-1 client of the Tencent Cloud `vpc` (2017-03-12) and `tag` (2018-08-13) APIs, and of
//! `sts` (2018-08-13) `GetCallerIdentity` ([`Client::caller_identity`]).
//!
//! - [`Action`]: one zero-sized type per action ([`actions`]), with typed requests and responses
//!   ([`vpc`], [`tag`]) whose serde names are exactly the API's.
//! - [`Client::call`]: TC3-signed POST over one reqwest/rustls HTTP/1.1 keep-alive pool, with a
//!   client-side rate limiter per (region, action) and retries that never re-send a write whose outcome
//!   is unknown.
//! - [`ApiError`]: typed errors ([`ErrorCode`], [`ErrorKind::OutcomeUnknown`], ...).
//! - Batched readers for refresh ([`Client::describe_vpn_connections_by_ids`], ...) and the task waiter
//!   ([`Client::wait_task`]).

pub mod action;
mod batch;
mod client;
mod config;
mod de;
mod error;
mod limiter;
mod metrics;
mod names;
pub mod retry;
mod secret;
pub mod sts;
pub mod tag;
pub mod vpc;
mod waiter;

/// The action types, e.g. `actions::CreateVpnConnection`.
pub mod actions {
    pub use crate::action::{
        CreateCustomerGateway, CreateRouteTable, CreateRoutes, CreateVpc, CreateVpnConnection,
        CreateVpnGateway, CreateVpnGatewayRoutes, DeleteCustomerGateway, DeleteRouteTable,
        DeleteRoutes, DeleteVpc, DeleteVpnConnection, DeleteVpnGateway, DeleteVpnGatewayRoutes,
        DescribeCustomerGatewayVendors, DescribeCustomerGateways,
        DescribeResourceTagsByResourceIds, DescribeRouteTables, DescribeVpcTaskResult,
        DescribeVpcs, DescribeVpnConnections, DescribeVpnGatewayRoutes, DescribeVpnGateways,
        DisableRoutes, DownloadCustomerGatewayConfiguration, EnableRoutes, GetCallerIdentity,
        GetResources, ModifyCustomerGatewayAttribute, ModifyResourceTags,
        ModifyRouteTableAttribute, ModifyVpnConnectionAttribute, ModifyVpnGatewayAttribute,
        ModifyVpnGatewayRoutes, ReplaceRoutes, ResetVpnConnection,
        ResetVpnGatewayInternetMaxBandwidth, TagResources, UnTagResources,
    };
}

pub use action::{Action, ActionKind, Service, ALL_ACTIONS};
pub use batch::{MAX_FILTERS, MAX_FILTER_VALUES, MAX_IDS_PER_CALL, MAX_LIMIT};
pub use client::Client;
pub use config::{ClientConfig, ConfigError, Endpoint};
pub use error::{ApiError, ErrorCode, ErrorKind};
pub use limiter::RateLimits;
pub use metrics::MetricsSnapshot;
pub use names::{parse_resource_name, resource_name, ResourceName, UinError};
pub use retry::{should_retry, Decision, RetryPolicy};
pub use secret::Secret;
pub use tunnelform_tc3::Credentials;
pub use waiter::{TaskOutcome, TaskStatus, WaitError, WaitOptions};
