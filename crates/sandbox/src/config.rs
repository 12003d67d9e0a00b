//! Configuration of the sandbox: [`SandboxConfig`] (programmatic) and [`SandboxArgs`] (the command line).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tunnelform_tc3::Credentials;

use crate::actions::Action;
use crate::error::ConfigError;
pub use tunnelform_sandbox_world::quotas::Quotas;
pub use tunnelform_sandbox_world::DEFAULT_UIN;

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9000";
/// Secret id used when neither the command line nor `TENCENTCLOUD_SECRET_ID` gives one.
pub const DEFAULT_SECRET_ID: &str = "AKIDsandbox";
/// Secret key used when neither the command line nor `TENCENTCLOUD_SECRET_KEY` gives one.
pub const DEFAULT_SECRET_KEY: &str = "sandboxsecret";

/// Per-action request rate limits, enforced per (region, action) in fixed one-second windows (the window is the
/// whole second since the sandbox started; a burst at the end of one window and the start of the next can
/// therefore pass up to twice the limit within one second, as with any fixed-window limiter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Limit for actions not listed in `per_action` (requests per second; 0 = unlimited).
    pub default_per_second: u32,
    /// Limits by action name (requests per second; 0 = unlimited).
    pub per_action: BTreeMap<String, u32>,
}

impl Default for RateLimits {
    /// The documented limits: CreateVpnConnection 100/s, DescribeVpnConnections 100/s, DescribeVpnGateways 300/s,
    /// ModifyVpnGatewayAttribute 100/s, DescribeVpcTaskResult 20/s, CreateRoutes, DeleteRoutes,
    /// DescribeRouteTables, DownloadCustomerGatewayConfiguration and ResetVpnConnection 100/s, everything
    /// else 20/s.
    fn default() -> Self {
        let per_action = [
            ("CreateVpnConnection", 100),
            ("DescribeVpnConnections", 100),
            ("DescribeVpnGateways", 300),
            ("ModifyVpnGatewayAttribute", 100),
            ("DescribeVpcTaskResult", 20),
            ("CreateRoutes", 100),
            ("DeleteRoutes", 100),
            ("DescribeRouteTables", 100),
            ("DownloadCustomerGatewayConfiguration", 100),
            ("ResetVpnConnection", 100),
        ]
        .into_iter()
        .map(|(a, n)| (a.to_string(), n))
        .collect();
        RateLimits {
            default_per_second: 20,
            per_action,
        }
    }
}

impl RateLimits {
    /// No limits at all (for benchmarks and tests).
    pub fn unlimited() -> Self {
        RateLimits {
            default_per_second: 0,
            per_action: BTreeMap::new(),
        }
    }

    /// The limit (requests per second, 0 = unlimited) that applies to `action`.
    pub fn limit_for(&self, action: &str) -> u32 {
        self.per_action
            .get(action)
            .copied()
            .unwrap_or(self.default_per_second)
    }
}

/// The kinds of injected faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// Answer `InternalError` without doing anything.
    InternalError,
    /// Answer HTTP 503 without doing anything.
    Http503,
    /// Close the connection without answering and without doing anything.
    DropBeforeCommit,
    /// Do the work (and persist it), then close the connection without answering.
    DropAfterCommit,
}

impl FaultKind {
    /// The name used in statistics.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::InternalError => "InternalError",
            FaultKind::Http503 => "Http503",
            FaultKind::DropBeforeCommit => "DropBeforeCommit",
            FaultKind::DropAfterCommit => "DropAfterCommit",
        }
    }
}

/// Relative weights of the fault kinds chosen when a fault is injected (all 1 by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultWeights {
    pub internal_error: u32,
    pub http_503: u32,
    pub drop_before_commit: u32,
    pub drop_after_commit: u32,
}

impl Default for FaultWeights {
    fn default() -> Self {
        FaultWeights {
            internal_error: 1,
            http_503: 1,
            drop_before_commit: 1,
            drop_after_commit: 1,
        }
    }
}

impl FaultWeights {
    /// Weights that always choose `kind`.
    pub fn only(kind: FaultKind) -> Self {
        let mut w = FaultWeights {
            internal_error: 0,
            http_503: 0,
            drop_before_commit: 0,
            drop_after_commit: 0,
        };
        match kind {
            FaultKind::InternalError => w.internal_error = 1,
            FaultKind::Http503 => w.http_503 = 1,
            FaultKind::DropBeforeCommit => w.drop_before_commit = 1,
            FaultKind::DropAfterCommit => w.drop_after_commit = 1,
        }
        w
    }

    pub(crate) fn total(&self) -> u64 {
        u64::from(self.internal_error)
            + u64::from(self.http_503)
            + u64::from(self.drop_before_commit)
            + u64::from(self.drop_after_commit)
    }

    /// Picks the kind for a draw in `0..total()`.
    pub(crate) fn pick(&self, draw: u64) -> FaultKind {
        let mut rest = draw;
        for (kind, w) in [
            (FaultKind::InternalError, self.internal_error),
            (FaultKind::Http503, self.http_503),
            (FaultKind::DropBeforeCommit, self.drop_before_commit),
            (FaultKind::DropAfterCommit, self.drop_after_commit),
        ] {
            let w = u64::from(w);
            if rest < w {
                return kind;
            }
            rest -= w;
        }
        FaultKind::DropAfterCommit
    }
}

/// Everything the sandbox can be configured with. `Default` gives the documented behaviour.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Address to listen on (port 0 picks a free port). Default `127.0.0.1:9000`.
    pub listen: SocketAddr,
    /// With a data file, every committed change is persisted atomically and resumed after a restart. The
    /// sandbox holds an exclusive lock on it (on `<data file>.lock`) while it runs: a second sandbox started
    /// on the same file fails with [`SandboxError::DataLocked`](crate::SandboxError::DataLocked).
    pub data_file: Option<PathBuf>,
    /// What is serving the data file (e.g. `tunnelform apply --sandbox`), recorded with the process id in
    /// the data file's lock so that another sandbox started on the same file can say who holds it.
    pub data_holder: Option<String>,
    /// The only accepted credentials (its `Debug` redacts the key). An `X-TC-Token` is required and compared
    /// only when the credentials carry a token.
    pub credentials: Credentials,
    /// How long async tasks (and new VPN gateways) stay RUNNING / PENDING. Default 1000 ms.
    pub task_latency: Duration,
    pub quotas: Quotas,
    pub rate_limits: RateLimits,
    /// Probability (0..=1) that a signed action request gets an injected fault.
    pub fault_rate: f64,
    /// Which faults are injected, by weight.
    pub fault_weights: FaultWeights,
    /// When set, only these actions are eligible for injected faults.
    pub fault_actions: Option<BTreeSet<String>>,
    /// Probability (0..=1) that an async task ends FAILED.
    pub task_failure_rate: f64,
    /// Seed for ids, addresses, faults and task failures (random when `None`).
    pub seed: Option<u64>,
    /// The account (uin) of a new world: answered by `GetCallerIdentity` and used in six-segment resource
    /// names. `None`: a random 10-digit one (from `seed` when set), so that two worlds are two accounts. A
    /// world loaded from a data file keeps the account recorded there (the default [`DEFAULT_UIN`] for
    /// files written before worlds had their own); a different `uin` here is then refused.
    pub uin: Option<String>,
    /// Largest accepted request body (bytes). Default 1 MiB.
    pub max_body_bytes: usize,
    /// Most request-body memory held at once over all connections (bytes; at least `max_body_bytes`). A
    /// request reserves its declared length (or `max_body_bytes` without one) before its body is read; one
    /// that does not fit is answered `RequestLimitExceeded` with its body unread. Default 32 MiB.
    pub max_body_memory_bytes: usize,
    /// A new connection must send the whole head of its first request within this time, else it is closed
    /// (so connections that never send a request cannot hold the connection slots). Default 5 s.
    pub header_read_timeout: Duration,
    /// A connection that has sent a request must send the whole head of its next one within this time after
    /// the previous answer (so idle keep-alive connections are closed after this long). Connections whose
    /// request failed authentication are closed after the answer. Default 30 s.
    pub keep_alive_timeout: Duration,
    /// A client must send its request body within this time.
    pub body_read_timeout: Duration,
    /// Most simultaneous client connections (further ones wait in the listen backlog).
    pub max_connections: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        let secret_id = std::env::var("TENCENTCLOUD_SECRET_ID")
            .ok()
            .filter(|s| !s.is_empty());
        let secret_key = std::env::var("TENCENTCLOUD_SECRET_KEY")
            .ok()
            .filter(|s| !s.is_empty());
        let credentials = match (secret_id, secret_key) {
            (Some(id), Some(key)) => Credentials::new(id, key, None),
            _ => Credentials::new(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, None),
        };
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            data_file: None,
            data_holder: None,
            credentials,
            task_latency: Duration::from_millis(1000),
            quotas: Quotas::default(),
            rate_limits: RateLimits::default(),
            fault_rate: 0.0,
            fault_weights: FaultWeights::default(),
            fault_actions: None,
            task_failure_rate: 0.0,
            seed: None,
            uin: None,
            max_body_bytes: 1024 * 1024,
            max_body_memory_bytes: 32 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(5),
            keep_alive_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

impl SandboxConfig {
    /// Checks value ranges (probabilities in 0..=1, non-empty credentials, at least one connection...), and
    /// refuses a non-loopback listen address with the well-known default secret key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_probability("fault-rate", self.fault_rate)?;
        check_probability("task-failure-rate", self.task_failure_rate)?;
        if self.fault_rate > 0.0 && self.fault_weights.total() == 0 {
            return Err(ConfigError::Invalid(
                "fault weights are all zero while the fault rate is positive".into(),
            ));
        }
        if self.credentials.secret_id.is_empty() || self.credentials.secret_key().is_empty() {
            return Err(ConfigError::Invalid(
                "the secret id and secret key must not be empty".into(),
            ));
        }
        // The default key is public (it is in the documentation): on a reachable address it guards nothing.
        if !self.listen.ip().to_canonical().is_loopback()
            && self.credentials.secret_key() == DEFAULT_SECRET_KEY
        {
            return Err(ConfigError::DefaultCredentialsOnNetwork { addr: self.listen });
        }
        if let Some(uin) = self.uin.as_deref().filter(|u| !crate::world::is_uin(u)) {
            return Err(ConfigError::Invalid(format!(
                "the uin must be 1 to 20 digits, got `{uin}`"
            )));
        }
        if self.max_connections == 0 || self.max_connections > u32::MAX as usize {
            return Err(ConfigError::Invalid(
                "max_connections must be at least 1".into(),
            ));
        }
        if self.max_body_bytes == 0 {
            return Err(ConfigError::Invalid(
                "max_body_bytes must be at least 1".into(),
            ));
        }
        if self.max_body_memory_bytes < self.max_body_bytes
            || self.max_body_memory_bytes > u32::MAX as usize
        {
            return Err(ConfigError::Invalid(format!(
                "max_body_memory_bytes ({}) must be at least max_body_bytes ({}) and at most {}",
                self.max_body_memory_bytes,
                self.max_body_bytes,
                u32::MAX
            )));
        }
        for action in self.rate_limits.per_action.keys() {
            if Action::from_any_name(action).is_none() {
                return Err(ConfigError::UnknownAction {
                    name: action.clone(),
                });
            }
        }
        Ok(())
    }
}

fn check_probability(flag: &'static str, value: f64) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::BadProbability {
            flag,
            value: value.to_string(),
        })
    }
}

/// The `tunnelform sandbox` command line. Flatten it into the CLI's subcommand and call
/// [`SandboxArgs::into_config`].
#[derive(clap::Args, Clone, Default)]
pub struct SandboxArgs {
    /// Address to listen on; port 0 picks a free port. A non-loopback address needs credentials of your
    /// own (--secret-id/--secret-key or the environment): the default ones are public.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub listen: Option<SocketAddr>,
    /// Persist every change to FILE atomically and resume from it (resources and pending tasks).
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Accepted secret id (default: $TENCENTCLOUD_SECRET_ID, else AKIDsandbox).
    #[arg(long, value_name = "ID", requires = "secret_key")]
    pub secret_id: Option<String>,
    /// Accepted secret key (default: $TENCENTCLOUD_SECRET_KEY, else sandboxsecret).
    #[arg(long, value_name = "KEY", requires = "secret_id")]
    pub secret_key: Option<String>,
    /// How long async tasks stay RUNNING (and new VPN gateways PENDING), in milliseconds.
    #[arg(long, value_name = "N", default_value = "1000")]
    pub task_latency_ms: Option<u64>,
    /// Override a quota, e.g. `--quota tunnels-per-vpn-gateway=50` (repeatable). Names: vpn-gateways-per-vpc,
    /// customer-gateways-per-region, tunnels-per-customer-gateway, tunnels-per-vpn-gateway, spd-per-tunnel,
    /// cidrs-per-spd, vpcs-per-region.
    #[arg(long = "quota", value_name = "NAME=N", value_parser = check_quota_arg)]
    pub quota: Vec<String>,
    /// Override a per-action rate limit in requests per second, e.g. `--rate-limit DescribeVpnConnections=1000`
    /// (repeatable; 0 = unlimited).
    #[arg(long = "rate-limit", value_name = "ACTION=N", value_parser = check_rate_limit_arg)]
    pub rate_limit: Vec<String>,
    /// Fraction (0..=1) of signed requests that get an injected fault: InternalError, HTTP 503, or a dropped
    /// connection before or after the change is committed.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Fraction (0..=1) of async tasks that end FAILED.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub task_failure_rate: f64,
    /// Seed for ids, faults and task failures, for reproducible runs.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// The account (uin) of a new world, answered by GetCallerIdentity and used in resource names
    /// (default: a random 10-digit one, kept in the --data file; a world from a data file keeps its own).
    #[arg(long, value_name = "DIGITS")]
    pub uin: Option<String>,
}

impl fmt::Debug for SandboxArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxArgs")
            .field("listen", &self.listen)
            .field("data", &self.data)
            .field("secret_id", &self.secret_id)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "** redacted **"),
            )
            .field("task_latency_ms", &self.task_latency_ms)
            .field("quota", &self.quota)
            .field("rate_limit", &self.rate_limit)
            .field("fault_rate", &self.fault_rate)
            .field("task_failure_rate", &self.task_failure_rate)
            .field("seed", &self.seed)
            .field("uin", &self.uin)
            .finish()
    }
}

fn split_setting<'a>(flag: &'static str, arg: &'a str) -> Result<(&'a str, u32), ConfigError> {
    let bad = |reason: &str| ConfigError::BadSetting {
        flag,
        arg: arg.to_string(),
        reason: reason.to_string(),
    };
    let (name, value) = arg.split_once('=').ok_or_else(|| bad("expected NAME=N"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("the name before `=` is empty"));
    }
    let value: u32 = value
        .trim()
        .parse()
        .map_err(|_| bad("the value after `=` must be a whole number from 0 to 4294967295"))?;
    Ok((name, value))
}

/// Parses one `--quota NAME=N`.
pub fn parse_quota_arg(arg: &str) -> Result<(String, u32), ConfigError> {
    let (name, value) = split_setting("--quota", arg)?;
    Quotas::default().set(name, value)?;
    Ok((name.to_string(), value))
}

/// Parses one `--rate-limit ACTION=N`.
pub fn parse_rate_limit_arg(arg: &str) -> Result<(String, u32), ConfigError> {
    let (name, value) = split_setting("--rate-limit", arg)?;
    if Action::from_any_name(name).is_none() {
        return Err(ConfigError::UnknownAction {
            name: name.to_string(),
        });
    }
    Ok((name.to_string(), value))
}

fn check_quota_arg(arg: &str) -> Result<String, String> {
    parse_quota_arg(arg)
        .map(|_| arg.to_string())
        .map_err(|e| e.to_string())
}

fn check_rate_limit_arg(arg: &str) -> Result<String, String> {
    parse_rate_limit_arg(arg)
        .map(|_| arg.to_string())
        .map_err(|e| e.to_string())
}

impl SandboxArgs {
    /// Builds the configuration, with clear errors for malformed `NAME=N` settings, unknown quota or action
    /// names, probabilities outside 0..=1, or only one of `--secret-id` / `--secret-key`.
    pub fn into_config(self) -> Result<SandboxConfig, ConfigError> {
        let mut config = SandboxConfig::default();
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        config.data_file = self.data;
        match (self.secret_id, self.secret_key) {
            (Some(id), Some(key)) => config.credentials = Credentials::new(id, key, None),
            (None, None) => {}
            _ => return Err(ConfigError::SecretPair),
        }
        if let Some(ms) = self.task_latency_ms {
            config.task_latency = Duration::from_millis(ms);
        }
        for arg in &self.quota {
            let (name, value) = parse_quota_arg(arg)?;
            config.quotas.set(&name, value)?;
        }
        for arg in &self.rate_limit {
            let (name, value) = parse_rate_limit_arg(arg)?;
            config.rate_limits.per_action.insert(name, value);
        }
        config.fault_rate = self.fault_rate;
        config.task_failure_rate = self.task_failure_rate;
        config.seed = self.seed;
        config.uin = self.uin;
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listening_on(addr: &str, credentials: Credentials) -> Result<(), ConfigError> {
        SandboxConfig {
            listen: addr.parse().unwrap(),
            credentials,
            ..SandboxConfig::default()
        }
        .validate()
    }

    #[test]
    fn the_default_key_is_refused_on_a_non_loopback_address_only() {
        let default = || Credentials::new(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, None);
        let own = || Credentials::new("AKIDmine", "a-key-of-my-own", None);
        for addr in [
            "0.0.0.0:9000",
            "[::]:9000",
            "192.0.2.1:9000",
            "[::ffff:10.0.0.1]:1",
        ] {
            let err = listening_on(addr, default()).unwrap_err();
            assert!(
                matches!(err, ConfigError::DefaultCredentialsOnNetwork { .. }),
                "{addr}: {err}"
            );
            assert!(!err.to_string().contains(DEFAULT_SECRET_KEY), "{err}");
            listening_on(addr, own()).unwrap();
        }
        for addr in [
            "127.0.0.1:9000",
            "127.1.2.3:0",
            "[::1]:0",
            "[::ffff:127.0.0.1]:0",
        ] {
            listening_on(addr, default()).unwrap();
        }
    }
}
