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
