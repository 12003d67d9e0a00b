//! Command-line arguments (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "tunnelform", version, about = "Declarative reconciler for Tencent Cloud site-to-site VPN", long_about = None)]
pub struct Cli {
    /// Run as if started in DIR (before anything else; Terraform's `-chdir=DIR` is accepted too).
    #[arg(long, value_name = "DIR", global = true)]
    pub chdir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// The most operations run at once: far more than any account's quotas allow in flight.
pub const MAX_PARALLELISM: usize = 10_000;

fn parse_parallelism(s: &str) -> Result<usize, String> {
    let out_of_range = || format!("must be a whole number from 1 to {MAX_PARALLELISM}, got {s:?}");
    match s.trim().parse::<u128>() {
        Ok(n) if (1..=MAX_PARALLELISM as u128).contains(&n) => Ok(n as usize),
        _ => Err(out_of_range()),
    }
}

/// Terraform's single-dash spellings of the options tunnelform shares with it (`-chdir=DIR`,
/// `-lock=false`, `-lock-timeout=30s`, `-replace=ADDR`) become the double-dash ones clap knows. Only these exact
/// names are rewritten (so a value such as `-1` is left alone), and nothing after `--`.
pub fn terraform_style(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    const NAMES: [&str; 4] = ["chdir", "lock", "lock-timeout", "replace"];
    let mut out = Vec::new();
    let mut rest = false;
    for a in args {
        if rest || a == "--" {
            rest = true;
            out.push(a);
            continue;
        }
        let rewritten = a.to_str().and_then(|s| {
            let flag = s.strip_prefix('-').filter(|f| !f.starts_with('-'))?;
            let name = flag.split('=').next().unwrap_or_default();
            NAMES.contains(&name).then(|| format!("-{s}").into())
        });
        out.push(rewritten.unwrap_or(a));
    }
    out
}

/// Flags shared by every command that reads configuration, state or the cloud.
#[derive(Debug, Args, Clone, Default)]
pub struct Common {
    /// State file (default: the backend "local" path, else state/<config dir name>.tfstate.json).
    #[arg(long, global = true)]
    pub state: Option<PathBuf>,
    /// Set a variable: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", global = true)]
    pub vars: Vec<String>,
    /// Load variables from a file (repeatable).
    #[arg(long = "var-file", value_name = "FILE", global = true)]
    pub var_files: Vec<PathBuf>,
    /// One endpoint URL for every service (e.g. a sandbox: http://127.0.0.1:9000).
    #[arg(long, env = "TUNNELFORM_ENDPOINT", global = true)]
    pub endpoint: Option<String>,
    /// Run against an embedded sandbox whose data persists in state/sandbox.json.
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Wait this long for the state lock, and for the embedded sandbox's data file (--sandbox), e.g. 30s, 2m,
    /// instead of failing at once.
    #[arg(long = "lock-timeout", value_name = "DURATION", global = true)]
    pub lock_timeout: Option<String>,
    /// Do not put tunnelform:address / tunnelform:lineage / tunnelform:project tags on created objects.
    #[arg(long = "no-ownership-tags", global = true)]
    pub no_ownership_tags: bool,
    /// Project id for the tunnelform:project tag, by which a new state adopts the objects of a lost
    /// one (default: the git origin URL and the state's path in the repository, else the state's
    /// absolute path).
    #[arg(long, value_name = "ID", env = "TUNNELFORM_PROJECT", global = true)]
    pub project: Option<String>,
    /// A quota Tencent Cloud raised for this account, checked by the plan instead of the
    /// documented default: NAME=N (repeatable; names: customer-gateways-per-region,
    /// vpn-gateways-per-vpc, tunnels-per-vpn-gateway, tunnels-per-customer-gateway).
    #[arg(
        long = "quota",
        value_name = "NAME=N",
        env = "TUNNELFORM_QUOTA",
        value_delimiter = ',',
        global = true
    )]
    pub quotas: Vec<String>,
    /// A setting of the configuration's backend "pg" kept out of the *.tf files: KEY=VALUE with KEY
    /// conn_str or schema_name (repeatable; wins over the block and PG_CONN_STR / PG_SCHEMA_NAME).
    #[arg(long = "backend-config", value_name = "KEY=VALUE", global = true)]
    pub backend_config: Vec<String>,
    /// Use a state that records another cloud account than the one this run talks to, and record this
    /// one in it (its objects are then looked up in this account).
    #[arg(long = "allow-other-account", global = true)]
    pub allow_other_account: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration (no API call).
    Validate {
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Rewrite *.tf files in the canonical format.
    Fmt {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Only check; exit 3 when a file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Show what apply would do.
    Plan {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Save the plan to apply it later with `apply FILE`.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the plan as one JSON document (same as --format json).
        #[arg(long)]
        json: bool,
        /// Output format: human (default), json, or markdown (a compact plan for a pull-request comment).
        #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
        format: PlanFormat,
        /// Only these resources (and what they depend on).
        #[arg(long = "target", value_name = "ADDR")]
        targets: Vec<String>,
        /// Replace this object even if nothing changed (repeatable; Terraform's -replace=ADDR).
        #[arg(long = "replace", value_name = "ADDR")]
        replace: Vec<String>,
        /// Exit 0 with no changes, 1 on error, 2 with changes.
        #[arg(long = "detailed-exitcode")]
        detailed_exitcode: bool,
        /// Show only changes made outside tunnelform.
        #[arg(long = "refresh-only")]
        refresh_only: bool,
        /// Plan to destroy everything in state.
        #[arg(long)]
        destroy: bool,
        /// Take the state lock while planning (as apply does); --lock=false reads without it.
        #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
        lock: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Make the cloud match the configuration.
    Apply {
        /// A configuration directory, or a plan file saved with `plan --out`.
        #[arg(default_value = ".")]
        target: PathBuf,
        /// Do not ask for confirmation.
        #[arg(long = "auto-approve")]
        auto_approve: bool,
        /// How many operations run at once, 1 to 10000 (waiting on a task is cheap; the API rate limits are enforced separately).
        #[arg(long, default_value_t = 200, value_parser = parse_parallelism)]
        parallelism: usize,
        /// Only these resources (and what they depend on).
        #[arg(long = "target", value_name = "ADDR")]
        targets: Vec<String>,
        /// Replace this object even if nothing changed (repeatable; Terraform's -replace=ADDR).
        #[arg(long = "replace", value_name = "ADDR")]
        replace: Vec<String>,
        /// Accept changes made outside tunnelform into state without changing the cloud.
        #[arg(long = "refresh-only")]
        refresh_only: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Destroy everything in state.
    Destroy {
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long = "auto-approve")]
        auto_approve: bool,
        /// How many operations run at once, 1 to 10000.
        #[arg(long, default_value_t = 200, value_parser = parse_parallelism)]
        parallelism: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Show a saved plan (or the state).
    Show {
        plan: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// The configuration whose state is shown (when no plan file is given).
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Inspect or change the state.
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// Manage workspaces: one state per workspace for the same configuration.
    Workspace {
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
    /// Print output values.
    Output {
        name: Option<String>,
        #[arg(long)]
        json: bool,
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Print the dependency graph of the configuration (DOT).
    Graph {
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Record an existing object in state at ADDR (no write to the cloud).
    Import {
        address: String,
        id: String,
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Reset one tunnel of the state (ResetVpnConnection) and show its state and net_status before
    /// and after. Asks first when the tunnel is up (the reset interrupts its traffic).
    Reset {
        /// The tunnel's address in the state, e.g. tencentcloud_vpn_connection.main or
        /// module.site["sh"].tencentcloud_vpn_connection.t["a"].
        address: String,
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        /// Do not ask for confirmation before resetting a tunnel that is up.
        #[arg(long = "auto-approve")]
        auto_approve: bool,
        /// How long to wait for the tunnel to come back up, e.g. 90s, 5m.
        #[arg(long, value_name = "DURATION", default_value = "5m")]
        timeout: String,
        #[command(flatten)]
        common: Common,
    },
    /// Clear a lock left by a process that died (LOCK_ID is in the lock error message).
    #[command(name = "force-unlock")]
    ForceUnlock {
        lock_id: String,
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Watch continuously: every interval (and on SIGHUP) reload the configuration, plan, and report
    /// drift, pending changes and tunnel health as events on stdout and metrics on /metrics.
    Watch {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Time between the starts of two cycles, e.g. 30s, 5m (a slower cycle delays the next).
        #[arg(long, value_name = "DURATION", default_value = "60s")]
        interval: String,
        /// Address of the HTTP endpoints (/metrics, /healthz, /readyz).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9464")]
        listen: std::net::SocketAddr,
        /// Apply plans of drift corrections and configuration changes (never deletes or
        /// replacements without --allow-destroy).
        #[arg(long = "auto-apply")]
        auto_apply: bool,
        /// With --auto-apply, also apply plans that delete or replace objects.
        #[arg(long = "allow-destroy", requires = "auto_apply")]
        allow_destroy: bool,
        /// How many operations an apply runs at once, 1 to 10000.
        #[arg(long, default_value_t = 200, value_parser = parse_parallelism)]
        parallelism: usize,
        /// Also POST every event as JSON to this http(s) URL (bounded queue, retries with
        /// backoff; never slows the loop).
        #[arg(long, value_name = "URL")]
        webhook: Option<String>,
        /// A file holding the secret that signs each webhook POST (HMAC-SHA256 in
        /// X-Tunnelform-Signature; see the README). Or set TUNNELFORM_WEBHOOK_SECRET.
        #[arg(
            long = "webhook-secret-file",
            value_name = "PATH",
            requires = "webhook"
        )]
        webhook_secret_file: Option<PathBuf>,
        /// Events waiting for the webhook at most; when full, the oldest is dropped (and counted).
        #[arg(long = "webhook-queue", value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        webhook_queue: u32,
        /// How long one webhook delivery try may take (connecting, sending, the answer), e.g. 5s.
        #[arg(
            long = "webhook-timeout",
            value_name = "DURATION",
            default_value = "5s"
        )]
        webhook_timeout: String,
        /// Reset (ResetVpnConnection) a tunnel whose NetStatus has been down for longer than
        /// this, e.g. 5m; at most once per tunnel per this window.
        #[arg(long = "reset-down-after", value_name = "DURATION")]
        reset_down_after: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Run the local emulator of the Tencent Cloud VPC and tag APIs.
    Sandbox(tunnelform_sandbox::SandboxArgs),
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the addresses in state.
    List {
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Show one object in state.
    Show {
        address: String,
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Write tunnelform state from a Terraform state file (format version 4) of the Tencent Cloud provider.
    #[command(name = "migrate-terraform")]
    MigrateTerraform {
        file: PathBuf,
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Move objects to another address (a rename in the state; the cloud is not touched).
    Mv {
        /// `TYPE.NAME` (every instance) or `TYPE.NAME[KEY]` (one instance).
        source: String,
        destination: String,
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Print the state (as a state file holds it) to standard output, from whichever backend keeps it.
    Pull {
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Write a state file into the configuration's backend, keeping its lineage and serial (refuses
    /// another lineage, an older serial, and a different state with the same serial).
    Push {
        file: PathBuf,
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Move the state between the local file (--state FILE, or the default path) and the
    /// configuration's backend "pg", keeping its lineage and serial.
    Migrate {
        /// Where the state goes: `pg` (from the local file) or `local` (from PostgreSQL).
        #[arg(long, value_name = "local|pg")]
        to: String,
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Forget an object (it is not destroyed).
    Rm {
        address: String,
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// List the workspaces (the selected one marked with *).
    List {
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Create a workspace (with an empty state) and select it.
    New {
        name: String,
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Select a workspace: later commands use its state.
    Select {
        name: String,
        /// Create the workspace when it does not exist.
        #[arg(long = "or-create")]
        or_create: bool,
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Delete a workspace's state (refused while it holds objects, unless --force).
    Delete {
        name: String,
        /// Delete it even though its state holds objects (they stay in the cloud, unmanaged).
        #[arg(long)]
        force: bool,
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Print the selected workspace.
    Show {
        #[arg(default_value = ".", long)]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}
