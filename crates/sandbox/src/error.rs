//! Errors of starting and configuring the sandbox; the API errors it answers with are the actions' ([`ApiError`]).

use std::path::PathBuf;

use crate::config::{DEFAULT_LISTEN, DEFAULT_SECRET_ID};

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid {flag} `{arg}`: {reason}")]
    BadSetting {
        flag: &'static str,
        arg: String,
        reason: String,
    },
    #[error("unknown quota `{name}`; known quotas: {known}")]
    UnknownQuota { name: String, known: String },
    #[error("unknown action `{name}`: the sandbox serves no such action")]
    UnknownAction { name: String },
    #[error("--{flag} must be a probability from 0 to 1, got {value}")]
    BadProbability { flag: &'static str, value: String },
    #[error("--secret-id and --secret-key must be given together")]
    SecretPair,
    #[error("refusing to listen on {addr} with the well-known default credentials (secret id {DEFAULT_SECRET_ID}): anyone who can reach that address could use the sandbox with them. Give credentials of your own with --secret-id ID --secret-key KEY (or TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY), or listen on a loopback address such as {DEFAULT_LISTEN}")]
    DefaultCredentialsOnNetwork { addr: std::net::SocketAddr },
    #[error("{0}")]
    Invalid(String),
}

impl From<tunnelform_sandbox_world::quotas::UnknownQuota> for ConfigError {
    fn from(e: tunnelform_sandbox_world::quotas::UnknownQuota) -> Self {
        ConfigError::UnknownQuota {
            name: e.name,
            known: tunnelform_sandbox_world::quotas::Quotas::NAMES.join(", "),
        }
    }
}

/// Why the sandbox could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("invalid sandbox configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the data file {} is in use by another sandbox: {}. Two sandboxes serving one data file would overwrite each other's changes; wait for that one to exit (its lock on {} is released when it does, even if it is killed), or use another data file", path.display(), holder.as_deref().unwrap_or("a process that has not recorded who it is"), lock_path.display())]
    DataLocked {
        path: PathBuf,
        lock_path: PathBuf,
        /// Who holds it, as recorded in the lock file (`pid N (what), since TIME`).
        holder: Option<String>,
    },
    #[error("cannot lock the data file {} (through {}): {source}", path.display(), lock_path.display())]
    LockData {
        path: PathBuf,
        lock_path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the data file {}: {source}", path.display())]
    ReadData {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the data file {} is corrupt ({reason}); refusing to start with an empty world (move it away to start afresh)", path.display())]
    CorruptData { path: PathBuf, reason: String },
    #[error("the data file {} holds the world of account {recorded}, not of the configured uin {configured}: drop --uin to serve it, or use another data file for account {configured}", path.display())]
    OtherAccount {
        path: PathBuf,
        recorded: String,
        configured: String,
    },
    #[error("cannot write the data file {}: {source}", path.display())]
    WriteData {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the embedded API spec is invalid: {0}")]
    Spec(String),
}

pub(crate) use tunnelform_sandbox_actions::error::{codes, ApiError, ApiResult};
