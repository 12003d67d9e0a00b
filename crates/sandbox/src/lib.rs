//! tunnelform's sandbox: a local emulator of the Tencent Cloud VPC API (2017-03-12) and tag API (2018-08-13)
//! for site-to-site VPN resources, served on one port by an in-process HTTP server.
//!
//! It follows the published protocol (TC3-HMAC-SHA256 over the client's `SignedHeaders` and the `Host` as
//! received, a 5-minute timestamp window, `{"Response":{...,"RequestId"}}` envelopes with HTTP 200 and
//! `Content-Type: application/json`), validates every request body against the embedded API spec, and emulates
//! the documented behaviour: id formats, async tasks (`DescribeVpcTaskResult`), state machines, defaults,
//! filters and paging, quotas, validation rules with their error codes, per-action rate limits, fault injection
//! and durable persistence.
//!
//! # Behaviour worth knowing (decisions where the documentation leaves room)
//!
//! - Service by `X-TC-Version` (`2017-03-12` vpc, `2018-08-13` tag); the credential scope must name the same
//!   service (else `AuthFailure.SignatureFailure`). An unknown action or version: `InvalidAction`. The vpc
//!   service needs `X-TC-Region` (`MissingParameter`; unknown region `UnsupportedRegion`); the tag service takes
//!   the region from each six-segment name. `X-TC-Content-SHA256: UNSIGNED-PAYLOAD` is honoured. Only `POST`
//!   with a JSON body is served (`UnsupportedProtocol` otherwise); bodies over the limit get
//!   `RequestSizeLimitExceeded`, malformed or non-object JSON `InvalidParameter`.
//! - Bodies are validated against the embedded spec first: `UnknownParameter`, `MissingParameter`,
//!   `InvalidParameter` (wrong JSON type; `null` counts as absent). Numbers must be JSON numbers and strings JSON
//!   strings, as declared (DescribeVpcs declares `Offset`/`Limit` as strings).
//! - After authentication, checks run in this order: rate limit (`RequestLimitExceeded`, fixed 1-second windows per region and action),
//!   injected fault, parameters, resource existence, value rules, quotas, conflicts with other tunnels.
//! - Not found: `InvalidVpcId.NotFound`, `InvalidVpnGatewayId.NotFound`, `ResourceNotFound` (customer gateways,
//!   connections, tasks); malformed ids: `InvalidVpcId.Malformed`, `InvalidVpnGatewayId.Malformed`,
//!   `InvalidParameterValue.Malformed`. Describe with unknown (well-formed) ids returns an empty set.
//! - Enumerations and numeric ranges: `InvalidParameterValue.Range`; names over 60 characters
//!   `InvalidParameterValue.TooLong`; empty names / keys `InvalidParameterValue.Empty`.
//! - Quotas and one tunnel per (customer gateway, VPN gateway) pair: `LimitExceeded` (`VpcLimitExceeded` for
//!   VPCs). Deleting a VPC with gateways, or a gateway / customer gateway with tunnels: `ResourceInUse`.
//! - A VPN gateway is `PENDING` for the task latency; until then it takes no tunnels and cannot be modified or
//!   deleted (`UnsupportedOperation.InvalidState`).
//! - Tag service: a malformed name (`InvalidParameterValue.ResourceDescriptionError`), another uin
//!   (`InvalidParameterValue.UinInvalid`) or an unknown resource (`InvalidParameterValue.ResourceIdInvalid`)
//!   rejects the whole request; `FailedResources` is therefore always empty.
//! - `0.0.0.0/0` (the any-selector of route-based tunnels) takes no part in SPD conflict checks.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tunnelform_sandbox::SandboxError> {
//! use tunnelform_sandbox::{Sandbox, SandboxConfig};
//! let config = SandboxConfig { listen: "127.0.0.1:0".parse().unwrap(), ..SandboxConfig::default() };
//! let sandbox = Sandbox::start(config).await?;
//! println!("listening on {}", sandbox.url());
//! sandbox.shutdown().await?;
//! # Ok(()) }
//! ```

mod actions;
mod clock;
mod config;
mod error;
mod persist;
mod protocol;
mod ratelimit;
mod server;
mod spec;
mod stats;
mod validate;
mod world;

pub use config::{
    parse_quota_arg, parse_rate_limit_arg, FaultKind, FaultWeights, Quotas, RateLimits,
    SandboxArgs, SandboxConfig, DEFAULT_LISTEN, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, DEFAULT_UIN,
};
pub use error::{ConfigError, SandboxError};
pub use server::{Sandbox, SandboxHandle};
pub use stats::SandboxStats;
pub use tunnelform_tc3::Credentials;

/// Names of every action the sandbox serves, with their service (`"vpc"` or `"tag"`).
pub fn served_actions() -> impl Iterator<Item = (&'static str, &'static str)> {
    actions::Action::ALL
        .iter()
        .map(|a| (a.service().name(), a.name()))
}
