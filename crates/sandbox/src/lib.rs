//! tunnelform's sandbox: a local emulator of the Tencent Cloud VPC API (2017-03-12) and tag API (2018-08-13)
//! for site-to-site VPN resources, and of sts (2018-08-13) `GetCallerIdentity`, served on one port by an
//! in-process HTTP server.
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
//! - Service by `X-TC-Version` (`2017-03-12` vpc, `2018-08-13` tag or sts, told apart by the action); the
//!   credential scope must name the same service (else `AuthFailure.SignatureFailure`). An unknown action: `InvalidAction`. An unknown version, even
//!   for a known action, is also `InvalidAction` (its message names the version the action exists in): the
//!   references this sandbox follows (`vpc-error-codes.tsv`, FACTS.md) document no code for an unknown
//!   version. The vpc service needs `X-TC-Region` (`MissingParameter`; unknown region `UnsupportedRegion`); the
//!   tag service takes the region from each six-segment name. `X-TC-Content-SHA256: UNSIGNED-PAYLOAD` is
//!   honoured.
//! - Two request forms are served, both signed with TC3-HMAC-SHA256: `POST` with a JSON body
//!   (`Content-Type: application/json`), and `GET /?<params>` with `Content-Type:
//!   application/x-www-form-urlencoded`, an empty body and the parameters flattened as the official SDKs do
//!   (`HttpProfile(reqMethod="GET")`: `Filters.0.Name=vpc-id&Filters.0.Values.0=vpc-abc&Limit=20`,
//!   `IKEOptionsSpecification.PropoEncryAlgorithm=...`, booleans `True`/`False`), signed over the query string
//!   exactly as sent with an empty payload. The spec types each flattened value (DescribeVpcs' `Limit` stays a
//!   string) and tells lists from objects; the result is validated like a JSON body. Names that contradict
//!   each other (`A.0` and `A.B`, `A` and `A.B`), duplicates, gaps in list indices and values that do not parse
//!   as the declared type are `InvalidParameter`. `POST` with a form-urlencoded body (the older HmacSHA1 /
//!   HmacSHA256 signature method), `GET` with another content type or a body, and other methods are
//!   `UnsupportedProtocol`. Bodies (and `GET` query strings) over the limit get `RequestSizeLimitExceeded`,
//!   malformed or non-object JSON `InvalidParameter`.
//! - Parameters are validated against the embedded spec first: `UnknownParameter`, `MissingParameter`,
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
//! - `DescribeResourceTagsByResourceIds` lists the tags of the given ids of one resource type (`ServiceType`
//!   `vpc`; `ResourcePrefix` `vpc`, `vpngw`, `cgw` or `vpnx`) in `ResourceRegion`, one entry per (resource, tag)
//!   in the order of `ResourceIds`, paged by `Offset` (a multiple of `Limit`, else
//!   `InvalidParameterValue.OffsetInvalid`) and `Limit` (default 15, at most 100). Unknown ids have no tags;
//!   every tag is `Custom` (`Category` `System` finds none).
//! - `GET /_sandbox/stats` counts requests by action for the actions the sandbox serves, and every request
//!   naming another action (or none) under `(unknown)` ([`UNKNOWN_ACTION`]), so that clients cannot grow it.
//! - Before a request's body is read, its head is checked: method and content type, declared length, then
//!   whether it can be authentic (`X-TC-Action` and `X-TC-Version` present, the `Authorization` header's
//!   shape, the timestamp window, a known secret id, the credential scope's date, the token); a request
//!   failing these is answered at once, its body unread, and its connection closed. The signature (which
//!   covers the body) is checked once the body is read. Request bodies are read within a memory budget
//!   shared by all connections (`max_body_memory_bytes`); a new connection must send its first request head
//!   within `header_read_timeout` (5 s), and a request head (a GET's query string included) larger than
//!   64 KiB is answered HTTP 431 by the HTTP layer.
//! - `GET /_sandbox/stats` answers loopback peers only (IPv4 127/8, `::1`, and IPv4-mapped loopback); any other
//!   peer gets 403 ([`stats_peer_allowed`]).
//! - One account per world: `GetCallerIdentity` answers the world's uin as a root account (`Type`
//!   `RootAccount`), whatever key is used; six-segment names carry the same uin. A new world gets
//!   [`SandboxConfig::uin`], else a random 10-digit uin (drawn from the seed when there is one), kept in its
//!   data file (`Uin`); a data file without one (written before) is [`DEFAULT_UIN`]'s world.
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

mod config;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod protocol;
mod ratelimit;
mod server;
mod spec;
mod stats;

// The layers below the wire protocol: the actions (one module per API object) and the world they change.
use tunnelform_sandbox_actions as actions;
use tunnelform_sandbox_world::{self as world, clock, persist};

pub use config::{
    parse_quota_arg, parse_rate_limit_arg, FaultKind, FaultWeights, Quotas, RateLimits,
    SandboxArgs, SandboxConfig, DEFAULT_LISTEN, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, DEFAULT_UIN,
};
pub use error::{ConfigError, SandboxError};
pub use server::{Sandbox, SandboxHandle};
pub use stats::{SandboxStats, UNKNOWN_ACTION};
pub use tunnelform_tc3::Credentials;

/// Whether a peer may read `GET /_sandbox/stats`: loopback addresses only (IPv4 `127.0.0.0/8`, IPv6 `::1`,
/// and IPv4-mapped loopback such as `::ffff:127.0.0.1`). Every other peer is answered 403.
pub fn stats_peer_allowed(peer: std::net::SocketAddr) -> bool {
    peer.ip().to_canonical().is_loopback()
}

/// Names of every action the sandbox serves, with their service (`"vpc"` or `"tag"`).
pub fn served_actions() -> impl Iterator<Item = (&'static str, &'static str)> {
    actions::Action::ALL
        .iter()
        .map(|a| (a.service().name(), a.name()))
}
