//! Shared plumbing: configuration, state location, the API client (or an embedded sandbox).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use tunnelform_config::{Config, VarArg, VarInputs};
use tunnelform_sandbox::{Sandbox, SandboxConfig, SandboxError, SandboxHandle};
use tunnelform_state::{Cloud, State};
use tunnelform_tencent_api::{Client, ClientConfig, Credentials, Endpoint};
use tunnelform_wait::{Instant, Schedule, Wait, WaitError};

use crate::args::Common;

/// A diagnostic-bearing error: printed as is.
#[derive(Debug)]
pub struct Rendered(pub String);

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Rendered {}

pub fn render_error(e: &anyhow::Error) -> String {
    if let Some(r) = e.downcast_ref::<Rendered>() {
        return r.0.trim_end().to_string();
    }
    let mut s = format!("error: {e}");
    for cause in e.chain().skip(1) {
        // An error that quotes its cause in its own message (an API error inside "reading the
        // cloud failed: ...") is not repeated.
        let text = cause.to_string();
        if s.contains(&text) {
            continue;
        }
        s.push_str(&format!("\n  caused by: {text}"));
    }
    s
}

/// Context for an error that must be read on one line with what was being done (an API error's
/// code and request id, which is what a support ticket needs): the message quotes the cause, which
/// stays the error's source, so the chain is kept ([`render_error`] does not repeat a cause that its
/// message quotes).
pub(crate) trait ContextInline<T> {
    fn context_inline(self, what: impl std::fmt::Display) -> Result<T>;
}

impl<T, E> ContextInline<T> for std::result::Result<T, E>
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn context_inline(self, what: impl std::fmt::Display) -> Result<T> {
        self.map_err(|e| {
            let message = format!("{what}: {e}");
            anyhow::Error::new(e).context(message)
        })
    }
}

pub fn var_inputs(common: &Common) -> Result<VarInputs> {
    let mut cli = Vec::new();
    // Command-line order matters; clap keeps each list in order, --var-file before --var.
    for f in &common.var_files {
        cli.push(VarArg::File(f.clone()));
    }
    for v in &common.vars {
        let (name, value) = v
            .split_once('=')
            .ok_or_else(|| anyhow!("--var {v:?} must be NAME=VALUE"))?;
        cli.push(VarArg::Pair(name.to_string(), value.to_string()));
    }
    let env = std::env::vars()
        .filter_map(|(k, v)| k.strip_prefix("TF_VAR_").map(|n| (n.to_string(), v)))
        .collect();
    Ok(VarInputs {
        cli,
        env,
        workspace: None,
    })
}

pub fn load_config(dir: &Path, common: &Common) -> Result<Config> {
    load_config_with(dir, common, Config::load)
}

/// For `validate`: variables without a value or a default are unknown, not an error.
pub fn load_config_unset_unknown(dir: &Path, common: &Common) -> Result<Config> {
    load_config_with(dir, common, Config::load_unset_unknown)
}

pub type Loader = fn(
    &Path,
    &VarInputs,
) -> std::result::Result<
    (Config, tunnelform_model::Diagnostics),
    tunnelform_model::Diagnostics,
>;

fn load_config_with(dir: &Path, common: &Common, load: Loader) -> Result<Config> {
    let (config, warnings) = load_config_quiet(dir, common, load)?;
    if !warnings.is_empty() {
        errln!("{warnings}");
    }
    Ok(config)
}

/// [`load_config`] without printing its warnings: they are returned, for a caller that loads the
/// configuration on another thread and prints them in their usual place.
pub fn load_config_quiet(
    dir: &Path,
    common: &Common,
    load: Loader,
) -> Result<(Config, tunnelform_model::Diagnostics)> {
    if !dir.is_dir() {
        bail!(
            "{} is not a directory (give the directory holding your *.tf files)",
            dir.display()
        );
    }
    let mut vars = var_inputs(common)?;
    vars.workspace = Some(crate::workspace::current(dir)?);
    match load(dir, &vars) {
        Ok((config, warnings)) => {
            // Without a provider block, the region comes from TENCENTCLOUD_REGION (as with the provider).
            let config = match std::env::var("TENCENTCLOUD_REGION")
                .ok()
                .filter(|r| !r.trim().is_empty())
            {
                Some(r) => {
                    let r = r.trim();
                    // Used only by provider blocks without `region` (those with one are checked
                    // where they are written).
                    let config = config.with_default_region(r);
                    if config.providers().iter().any(|p| p.region == r) {
                        if let Some((detail, help)) = tunnelform_config::region_problem(r) {
                            bail!("the environment variable TENCENTCLOUD_REGION: {detail}; {help}");
                        }
                    }
                    config
                }
                None => config,
            };
            Ok((config, warnings))
        }
        Err(diags) => Err(Rendered(diags.to_string()).into()),
    }
}

/// `--state`, else the backend "local" path, else `state/<config dir name>.tfstate.json`.
pub fn state_path(dir: &Path, config: Option<&Config>, common: &Common) -> PathBuf {
    if let Some(p) = &common.state {
        return p.clone();
    }
    if let Some(p) = config.and_then(Config::backend_path) {
        return p;
    }
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "default".to_string());
    PathBuf::from("state").join(format!("{name}.tfstate.json"))
}

pub fn parse_duration(s: &str) -> Result<Duration> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: u64 = num
        .parse()
        .with_context(|| format!("invalid duration {s:?} (examples: 30s, 2m, 500ms)"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => bail!("invalid duration {s:?} (examples: 30s, 2m, 500ms)"),
    })
}

/// The client, and the embedded sandbox when `--sandbox` is given (kept alive by the caller).
/// `operation` (`plan`, `apply`...) is recorded in the lock of the sandbox's data file.
pub async fn client(common: &Common, operation: &str) -> Result<(Client, Option<SandboxHandle>)> {
    if common.sandbox {
        let mut cfg = SandboxConfig {
            listen: "127.0.0.1:0".parse().expect("address"),
            ..Default::default()
        };
        let data = PathBuf::from("state").join("sandbox.json");
        if let Some(parent) = data.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        cfg.data_file = Some(data);
        cfg.data_holder = Some(format!("tunnelform {operation} --sandbox"));
        if let Ok(ms) = std::env::var("TUNNELFORM_SANDBOX_TASK_LATENCY_MS") {
            cfg.task_latency = Duration::from_millis(
                ms.parse()
                    .context("TUNNELFORM_SANDBOX_TASK_LATENCY_MS must be a number")?,
            );
        }
        let creds = cfg.credentials.clone();
        let handle = start_embedded_sandbox(cfg, common).await?;
        let uin = handle.uin().to_string();
        let mut cc = ClientConfig::new(creds);
        cc = cc
            .with_endpoint(&handle.url())
            .context("sandbox endpoint")?;
        cc.uin = Some(uin);
        let client = Client::new(cc).context("building the API client")?;
        return Ok((client, Some(handle)));
    }
    let mut cc = match ClientConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            if common.endpoint.is_some() {
                // A sandbox accepts its default credentials.
                let mut c =
                    ClientConfig::new(Credentials::new("AKIDsandbox", "sandboxsecret", None));
                c.region = std::env::var("TENCENTCLOUD_REGION").ok();
                c.uin = std::env::var("TENCENTCLOUD_UIN").ok();
                if std::env::var("TENCENTCLOUD_SECRET_ID").is_ok() {
                    return Err(e.into());
                }
                c
            } else {
                return Err(anyhow::Error::new(e).context(
                    "no credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or try tunnelform with --sandbox",
                ));
            }
        }
    };
    if let Some(ep) = &common.endpoint {
        cc = cc
            .with_endpoint(ep)
            .with_context(|| format!("invalid endpoint {ep:?}"))?;
    }
    Ok((Client::new(cc).context("building the API client")?, None))
}

/// What a run talks to, as a state records it: `sandbox` (`--sandbox`), the `--endpoint` URL, or
/// `tencentcloud` (Tencent's public endpoints).
pub fn endpoint_label(common: &Common, client: &Client) -> String {
    if common.sandbox {
        return ENDPOINT_SANDBOX.to_string();
    }
    match &client.config().endpoint {
        Endpoint::Override(url) => url.to_string(),
        Endpoint::Tencent => ENDPOINT_TENCENT.to_string(),
    }
}

const ENDPOINT_SANDBOX: &str = "sandbox";
const ENDPOINT_TENCENT: &str = "tencentcloud";

/// An endpoint label for people.
fn describe_endpoint(label: &str) -> String {
    match label {
        ENDPOINT_SANDBOX => "the embedded sandbox, --sandbox".to_string(),
        ENDPOINT_TENCENT => "Tencent Cloud's API".to_string(),
        url => format!("--endpoint {url}"),
    }
}

/// The cloud account this run talks to (`sts` `GetCallerIdentity`, asked once: the first request of
/// the run), with what it talks to.
pub async fn current_cloud(client: &Client, common: &Common) -> Result<Cloud> {
    let region = client
        .default_region()
        .unwrap_or("ap-guangzhou")
        .to_string();
    let id = client.caller_identity(&region).await.context(
        "cannot tell which cloud account this run talks to (sts GetCallerIdentity failed); \
         check the credentials and the --endpoint / --sandbox given",
    )?;
    Ok(Cloud {
        account: id.account_id,
        endpoint: endpoint_label(common, client),
    })
}

/// Checks that the state at `spath` belongs to the account this run talks to, before any other
/// request. Asks only when there is something to compare: when the state records an account, or
/// `eager` (a saved plan records one). A state recording another account is refused unless
/// `--allow-other-account` is given, which records the new one instead (written by the next save).
/// Only the account decides: the same account through another endpoint (a sandbox restarted on
/// another port with the same data file) is the same cloud. A state recording none is not asked
/// for here, so a run that stops at bad input sends nothing; [`record_cloud`] records the account
/// before its first save.
pub async fn check_cloud(
    client: &Client,
    common: &Common,
    spath: &Path,
    state: &mut State,
    eager: bool,
) -> Result<Option<Cloud>> {
    let Some(recorded) = state.cloud.clone() else {
        return if eager {
            current_cloud(client, common).await.map(Some)
        } else {
            Ok(None)
        };
    };
    let current = current_cloud(client, common).await?;
    if recorded.account == current.account {
        return Ok(Some(current));
    }
    if !common.allow_other_account {
        bail!(
            "the state {} belongs to account {} (recorded from {}), but this run talks to account {} ({}). \
             Planning against another account would create everything again. Use the same --sandbox / \
             --endpoint / credentials as the runs that wrote this state, or pass --allow-other-account to \
             adopt this state for account {} (its objects will be looked up there)",
            spath.display(),
            recorded.account,
            describe_endpoint(&recorded.endpoint),
            current.account,
            describe_endpoint(&current.endpoint),
            current.account,
        );
    }
    errln!(
        "warning: the state {} belongs to account {} (recorded from {}); with --allow-other-account it is used with account {} ({}), which its next save records.",
        spath.display(),
        recorded.account,
        describe_endpoint(&recorded.endpoint),
        current.account,
        describe_endpoint(&current.endpoint),
    );
    state.cloud = Some(current.clone());
    Ok(Some(current))
}

/// Records in `state` the account this run talks to when it records none (a new state, or one
/// written before states recorded their cloud): called before a save. Asks at most once per run
/// (the answer is cached by the client).
pub async fn record_cloud(client: &Client, common: &Common, state: &mut State) -> Result<Cloud> {
    if let Some(c) = &state.cloud {
        return Ok(c.clone());
    }
    let current = current_cloud(client, common).await?;
    state.cloud = Some(current.clone());
    Ok(current)
}

/// Starts the embedded sandbox. Its data file is served by one sandbox at a time (two runs in one
/// directory would otherwise overwrite each other's changes): when another run holds it, this fails at
/// once naming the holder, or with `--lock-timeout` waits for it up to that long (saying so on stderr).
async fn start_embedded_sandbox(cfg: SandboxConfig, common: &Common) -> Result<SandboxHandle> {
    /// What one start found.
    enum Start {
        Started(Box<SandboxHandle>),
        /// The data file is locked by another sandbox (its holder, once it has recorded itself).
        Locked {
            path: PathBuf,
            holder: Option<String>,
        },
    }
    let timeout = common
        .lock_timeout
        .as_deref()
        .map(parse_duration)
        .transpose()?
        .filter(|t| !t.is_zero());
    let start = Instant::now();
    let attempt = |_: Option<Start>| {
        let cfg = cfg.clone();
        async move {
            match Sandbox::start(cfg).await {
                Ok(handle) => Ok(Start::Started(Box::new(handle))),
                Err(SandboxError::DataLocked { path, holder, .. }) => {
                    Ok(Start::Locked { path, holder })
                }
                Err(e) => Err(e),
            }
        }
    };
    let failed = |e: SandboxError| anyhow::Error::new(e).context("starting the embedded sandbox");
    // A holder records who it is just after it takes the lock: give it a moment to say so.
    let found = Wait::new(Schedule {
        first: Duration::ZERO,
        then: Duration::from_millis(20),
        factor: 1.0,
        max: Duration::from_millis(20),
    })
    .deadline(start + Duration::from_secs(1))
    .until(attempt, |s| {
        !matches!(s, Start::Locked { holder: None, .. })
    })
    .await;
    let (path, holder) = match found {
        Ok(Start::Started(handle))
        | Err(WaitError::TimedOut {
            last: Start::Started(handle),
            ..
        }) => return Ok(*handle),
        Ok(Start::Locked { path, holder })
        | Err(WaitError::TimedOut {
            last: Start::Locked { path, holder },
            ..
        }) => (path, holder),
        Err(WaitError::Failed(e)) => return Err(failed(e)),
    };
    let who = |holder: Option<String>| holder.unwrap_or_else(|| "another process".to_string());
    let Some(limit) = timeout else {
        bail!(
            "the embedded sandbox's data file {} is in use by {}. Wait for that run to finish, or \
             retry with --lock-timeout DURATION (e.g. --lock-timeout 2m) to wait for it",
            path.display(),
            who(holder)
        );
    };
    let timed_out = |path: PathBuf, holder: Option<String>| {
        anyhow!(
            "timed out after {:.1}s waiting for the embedded sandbox's data file {}, in use by {}",
            start.elapsed().as_secs_f64(),
            path.display(),
            who(holder)
        )
    };
    if start.elapsed() >= limit {
        return Err(timed_out(path, holder));
    }
    eprintln!(
        "Waiting for the embedded sandbox's data file {} (up to {}), in use by {}...",
        path.display(),
        crate::gitops::human_duration(limit),
        who(holder)
    );
    let freed = Wait::new(Schedule {
        first: Duration::from_millis(10),
        then: Duration::from_millis(20),
        factor: 2.0,
        max: Duration::from_millis(250),
    })
    .deadline(start + limit)
    .until(attempt, |s| matches!(s, Start::Started(_)))
    .await;
    match freed {
        Ok(Start::Started(handle))
        | Err(WaitError::TimedOut {
            last: Start::Started(handle),
            ..
        }) => Ok(*handle),
        Ok(Start::Locked { path, holder })
        | Err(WaitError::TimedOut {
            last: Start::Locked { path, holder },
            ..
        }) => Err(timed_out(path, holder)),
        Err(WaitError::Failed(e)) => Err(failed(e)),
    }
}

// -------------------------------------------------------------------------------------------------
// The project id (`tunnelform:project` ownership tag)

/// Where a project id came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectSource {
    /// `--project` or `TUNNELFORM_PROJECT`.
    Explicit,
    /// The git repository holding the state file: its normalised `origin` URL and the state's path
    /// relative to the working tree's root.
    Git { origin: String, path: String },
    /// The state file's absolute path (no git repository with an `origin` remote around it).
    Path(PathBuf),
    /// A state kept by a backend: its identity (`pg://HOST:PORT/DB/SCHEMA/WORKSPACE`).
    Backend(String),
}

/// This configuration's project id: the value of the `tunnelform:project` tag put on every object
/// it creates, so that a new state whose predecessor was lost adopts its own objects and leaves
/// those of other configurations that happen to use the same addresses alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The tag value.
    pub id: String,
    pub source: ProjectSource,
}

/// The project id of the state at `state` (None with `--no-ownership-tags`: nothing is tagged).
///
/// It must not depend on the state file itself (which may be the thing that was lost), and must be
/// the same for every run of the same configuration, so it is, in order:
///
/// 1. `--project NAME` or `TUNNELFORM_PROJECT`, as given (it must be a valid tag value: 1 to 255
///    letters, digits, spaces and `+ - = . _ : / @`). Use it to keep one identity when the state
///    moves, or to give two copies of one repository separate objects.
/// 2. When the state file is inside a git working tree whose configuration names a remote
///    `origin`: `<origin>//<state path relative to the working tree's root>`, e.g.
///    `github.com/acme/network//vpn/state/prod.tfstate.json`. The URL is normalised (scheme, user
///    name, password and port dropped, host in lower case, trailing `/` and `.git` removed), so
///    every clone, over SSH or HTTPS and wherever it is on disk, derives the same id; two
///    configurations of one repository differ by their state paths. `.git/config` is read by hand
///    (no git program needed; `insteadOf` rewrites and `include`d files are not followed).
/// 3. Otherwise the state file's absolute path, symbolic links resolved.
///
/// A derived id that is not a valid tag value (too long, other characters) becomes
/// `sha256:<40 hex digits>` of it.
pub fn project(state: &Path, common: &Common) -> Result<Option<Project>> {
    if let Some(explicit) = explicit_project(common)? {
        return Ok(explicit);
    }
    let abs = absolute_path(state)
        .with_context(|| format!("locating the state file {}", state.display()))?;
    let (text, source) = match git_identity(&abs) {
        Some((origin, path)) => (
            format!("{origin}//{path}"),
            ProjectSource::Git { origin, path },
        ),
        None => (abs.to_string_lossy().into_owned(), ProjectSource::Path(abs)),
    };
    Ok(Some(Project {
        id: tunnelform_kinds::tags::tag_value_for(&text),
        source,
    }))
}

/// The project id of an opened state: [`project`] for a file; for a state in PostgreSQL, its
/// identity `pg://HOST:PORT/DB/SCHEMA/WORKSPACE` (one per workspace), unless given explicitly.
pub fn project_of(opened: &crate::backend::Opened, common: &Common) -> Result<Option<Project>> {
    match &opened.identity {
        crate::backend::Identity::File(p) => project(p, common),
        crate::backend::Identity::Remote(id) => {
            if let Some(explicit) = explicit_project(common)? {
                return Ok(explicit);
            }
            Ok(Some(Project {
                id: tunnelform_kinds::tags::tag_value_for(id),
                source: ProjectSource::Backend(id.clone()),
            }))
        }
    }
}

/// `Some(None)` with `--no-ownership-tags`, `Some(Some(..))` with `--project`, else `None`.
fn explicit_project(common: &Common) -> Result<Option<Option<Project>>> {
    if common.no_ownership_tags {
        return Ok(Some(None));
    }
    if let Some(p) = &common.project {
        if !tunnelform_kinds::tags::is_plain_tag_value(p) {
            bail!(
                "--project {p:?} (or TUNNELFORM_PROJECT) cannot be a tag value: use 1 to {} letters, digits, spaces and + - = . _ : / @",
                tunnelform_kinds::tags::MAX_TAG_VALUE_LEN
            );
        }
        return Ok(Some(Some(Project {
            id: p.clone(),
            source: ProjectSource::Explicit,
        })));
    }
    Ok(None)
}

/// `path` made absolute, with its longest existing ancestor resolved (symbolic links, `..`) and
/// the rest normalised lexically: the same answer before and after the file (or its directory)
/// exists.
fn absolute_path(path: &Path) -> std::io::Result<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut existing = abs.as_path();
    let mut rest: Vec<std::path::Component<'_>> = Vec::new();
    let base = loop {
        match existing.canonicalize() {
            Ok(c) => break c,
            Err(_) => {
                let mut comps = existing.components();
                match comps.next_back() {
                    Some(last) => {
                        rest.push(last);
                        existing = comps.as_path();
                    }
                    None => break PathBuf::new(),
                }
            }
        }
    };
    let mut out = base;
    for c in rest.into_iter().rev() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    Ok(out)
}

/// The normalised `origin` URL of the git working tree holding `abs` and `abs` relative to its
/// root (with `/` separators), when there is one with an `origin` remote.
fn git_identity(abs: &Path) -> Option<(String, String)> {
    for dir in abs.ancestors().skip(1) {
        let dotgit = dir.join(".git");
        let gitdir = if dotgit.is_dir() {
            dotgit
        } else if dotgit.is_file() {
            // A linked worktree or a submodule: `gitdir: <path>`.
            let text = std::fs::read_to_string(&dotgit).ok()?;
            let target = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
            dir.join(target)
        } else {
            continue;
        };
        // A linked worktree keeps the shared configuration in its common directory.
        let common = match std::fs::read_to_string(gitdir.join("commondir")) {
            Ok(c) if !c.trim().is_empty() => gitdir.join(c.trim()),
            _ => gitdir,
        };
        let config = std::fs::read_to_string(common.join("config")).ok()?;
        let origin = normalize_remote(&origin_url(&config)?)?;
        let rel = abs.strip_prefix(dir).ok()?;
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        return Some((origin, rel.join("/")));
    }
    None
}

/// The first `url` of `[remote "origin"]` in a git configuration file.
fn origin_url(config: &str) -> Option<String> {
    let mut in_origin = false;
    for line in config.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            let header = header.split(']').next().unwrap_or_default().trim();
            in_origin = match header.split_once(char::is_whitespace) {
                // `[remote "origin"]`: the section name is case-insensitive, the subsection is not.
                Some((section, sub)) => {
                    section.eq_ignore_ascii_case("remote") && sub.trim() == "\"origin\""
                }
                // The old `[remote.origin]` form.
                None => header.eq_ignore_ascii_case("remote.origin"),
            };
            continue;
        }
        if !in_origin || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("url") {
            continue;
        }
        let value = value.trim();
        let value = match value.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next().unwrap_or_default(),
            None => value
                .split([' ', '\t', '#', ';'])
                .next()
                .unwrap_or_default(),
        };
        if !value.is_empty() {
            return Some(value.to_string());
        }
    }
    None
}

/// A remote URL reduced to `host/path` (or a local path), so that the SSH, HTTPS and scp-like
/// forms of one repository compare equal. User names, passwords (never kept) and ports are
/// dropped; the host is lower-cased; a trailing `/` and `.git` are removed.
fn normalize_remote(url: &str) -> Option<String> {
    let url = url.trim();
    let host_path = |authority: &str, path: &str| {
        let host = authority.rsplit('@').next().unwrap_or_default();
        let host = if host.starts_with('[') {
            host.split(']')
                .next()
                .map(|h| format!("{h}]"))
                .unwrap_or_default()
        } else {
            host.split(':').next().unwrap_or_default().to_string()
        };
        format!(
            "{}/{}",
            host.to_ascii_lowercase(),
            path.trim_start_matches('/')
        )
    };
    let s = if let Some((scheme, rest)) = url.split_once("://") {
        if scheme.eq_ignore_ascii_case("file") {
            rest.to_string()
        } else {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            host_path(authority, path)
        }
    } else {
        match url.split_once(':') {
            // scp-like `[user@]host:path` (a `/` before the `:` makes it a local path).
            Some((authority, path)) if !authority.contains('/') && authority.len() > 1 => {
                let host = authority.rsplit('@').next().unwrap_or_default();
                format!(
                    "{}/{}",
                    host.to_ascii_lowercase(),
                    path.trim_start_matches('/')
                )
            }
            _ => url.to_string(),
        }
    };
    let s = s.trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s).trim_end_matches('/');
    (!s.is_empty()).then(|| s.to_string())
}

/// The quotas given with `--quota NAME=N` / `TUNNELFORM_QUOTA` (the others are the documented
/// defaults).
pub fn quota_overrides(common: &Common) -> Result<tunnelform_planner::QuotaOverrides> {
    tunnelform_planner::QuotaOverrides::parse(&common.quotas)
        .context("reading --quota (or TUNNELFORM_QUOTA)")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system's temporary directory, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "tunnelform-project-{name}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir.canonicalize().unwrap())
        }

        fn repo(&self, rel: &str, origin: Option<&str>) -> PathBuf {
            let root = self.0.join(rel);
            std::fs::create_dir_all(root.join(".git")).unwrap();
            let mut config = "[core]\n\trepositoryformatversion = 0\n\tbare = false\n".to_string();
            config.push_str("[remote \"upstream\"]\n\turl = https://github.com/other/thing.git\n");
            if let Some(o) = origin {
                config.push_str(&format!(
                    "[remote \"origin\"]\n\turl = {o}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
                ));
            }
            std::fs::write(root.join(".git/config"), config).unwrap();
            root
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn an_inline_context_quotes_its_cause_once_and_keeps_it() {
        let cause = std::io::Error::other("[InternalError] boom (request id r-1)");
        let e = Err::<(), _>(cause)
            .context_inline("resolving the operations an earlier run left unfinished")
            .unwrap_err();
        assert_eq!(
            render_error(&e),
            "error: resolving the operations an earlier run left unfinished: [InternalError] boom (request id r-1)"
        );
        assert!(e
            .chain()
            .any(|c| c.downcast_ref::<std::io::Error>().is_some()));
    }

    #[test]
    fn a_context_is_rendered_with_every_cause() {
        let e = anyhow::Error::new(std::io::Error::other("disk full"))
            .context("writing the state")
            .context("recording the import");
        assert_eq!(
            render_error(&e),
            "error: recording the import\n  caused by: writing the state\n  caused by: disk full"
        );
    }

    fn derive(state: &Path) -> Project {
        project(state, &Common::default()).unwrap().unwrap()
    }

    #[test]
    fn remotes_of_one_repository_normalise_alike_and_drop_credentials() {
        for url in [
            "git@github.com:acme/network.git",
            "ssh://git@github.com/acme/network.git",
            "ssh://git@GitHub.com:22/acme/network",
            "https://github.com/acme/network",
            "https://github.com/acme/network.git/",
            "https://alice:ghp_secret123@github.com/acme/network.git",
            "http://github.com:8080/acme/network",
        ] {
            assert_eq!(
                normalize_remote(url).as_deref(),
                Some("github.com/acme/network"),
                "{url}"
            );
        }
        assert_eq!(
            normalize_remote("/srv/git/network.git").as_deref(),
            Some("/srv/git/network")
        );
        assert_eq!(
            normalize_remote("file:///srv/git/network.git").as_deref(),
            Some("/srv/git/network")
        );
        assert_ne!(
            normalize_remote("git@github.com:acme/network.git"),
            normalize_remote("git@github.com:acme/network-2.git")
        );
        assert_eq!(normalize_remote("  "), None);
    }

    #[test]
    fn the_origin_url_is_read_from_its_own_section() {
        let config = "[core]\n\turl = nope\n[remote \"upstream\"]\n\turl = https://x/y\n# [remote \"origin\"]\n[Remote \"origin\"]\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n\tURL = git@example.com:team/repo.git ; comment\n\turl = https://second/one\n[branch \"main\"]\n\tremote = origin\n";
        assert_eq!(
            origin_url(config).as_deref(),
            Some("git@example.com:team/repo.git")
        );
        assert_eq!(
            origin_url("[remote \"origin\"]\n\turl = \"https://h/p q.git\"\n").as_deref(),
            Some("https://h/p q.git")
        );
        assert_eq!(
            origin_url("[remote.origin]\nurl=https://h/p\n").as_deref(),
            Some("https://h/p")
        );
        assert_eq!(
            origin_url("[remote \"Origin\"]\n\turl = https://h/p\n"),
            None
        );
        assert_eq!(
            origin_url("[remote \"upstream\"]\n\turl = https://h/p\n"),
            None
        );
    }

    #[test]
    fn a_state_in_a_git_repository_is_named_by_origin_and_relative_path() {
        let s = Scratch::new("git");
        let a = s.repo("alice/network", Some("git@github.com:acme/network.git"));
        let b = s.repo(
            "ci/checkout",
            Some("https://token:x@github.com/acme/network"),
        );
        // The state file (and its directory) need not exist yet: a lost state derives the same id.
        let pa = derive(&a.join("vpn/state/prod.tfstate.json"));
        assert_eq!(
            pa.id,
            "github.com/acme/network//vpn/state/prod.tfstate.json"
        );
        assert_eq!(
            pa.source,
            ProjectSource::Git {
                origin: "github.com/acme/network".into(),
                path: "vpn/state/prod.tfstate.json".into()
            }
        );
        std::fs::create_dir_all(a.join("vpn/state")).unwrap();
        std::fs::write(a.join("vpn/state/prod.tfstate.json"), "{}").unwrap();
        assert_eq!(derive(&a.join("vpn/state/prod.tfstate.json")), pa);
        // Another clone, elsewhere and over HTTPS: the same project.
        assert_eq!(derive(&b.join("vpn/state/prod.tfstate.json")).id, pa.id);
        // Another state of the same repository: another project.
        assert_eq!(
            derive(&b.join("vpn/state/staging.tfstate.json")).id,
            "github.com/acme/network//vpn/state/staging.tfstate.json"
        );
        // `..` and `.` in the path do not matter.
        assert_eq!(
            derive(&a.join("vpn/./x/../state/prod.tfstate.json")).id,
            pa.id
        );
        // The credentials in the remote never reach the id.
        assert!(!derive(&b.join("s.json")).id.contains("token"));
    }

    #[test]
    fn without_a_repository_or_its_origin_the_absolute_state_path_is_the_id() {
        let s = Scratch::new("path");
        let state = s.0.join("plain/state/cfg.tfstate.json");
        let p = derive(&state);
        assert_eq!(p.id, state.to_string_lossy());
        assert_eq!(p.source, ProjectSource::Path(state.clone()));
        // A repository without an origin remote: still the path.
        let r = s.repo("local-only", None);
        let state = r.join("state/cfg.tfstate.json");
        assert_eq!(derive(&state).id, state.to_string_lossy());
        // A relative path is made absolute (the same id from any spelling of the path).
        std::fs::create_dir_all(s.0.join("plain/state")).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(s.0.join("plain"), s.0.join("link")).unwrap();
            assert_eq!(
                derive(&s.0.join("link/state/cfg.tfstate.json")).id,
                s.0.join("plain/state/cfg.tfstate.json").to_string_lossy()
            );
        }
        // Characters a tag value cannot hold give a digest.
        let odd = s.0.join("odd~dir/state.json");
        let id = derive(&odd).id;
        assert!(id.starts_with("sha256:") && id.len() == 47, "{id}");
        assert_eq!(derive(&odd).id, id);
    }

    #[test]
    fn a_linked_worktree_reads_the_common_configuration() {
        let s = Scratch::new("worktree");
        let main = s.repo("main", Some("git@gitlab.example.com:net/vpn.git"));
        let wt_git = main.join(".git/worktrees/feature");
        std::fs::create_dir_all(&wt_git).unwrap();
        std::fs::write(wt_git.join("commondir"), "../..\n").unwrap();
        let wt = s.0.join("feature");
        std::fs::create_dir_all(&wt).unwrap();
        std::fs::write(wt.join(".git"), format!("gitdir: {}\n", wt_git.display())).unwrap();
        assert_eq!(
            derive(&wt.join("state/cfg.tfstate.json")).id,
            "gitlab.example.com/net/vpn//state/cfg.tfstate.json"
        );
    }

    #[test]
    fn an_explicit_project_wins_and_is_checked_and_no_tags_means_no_project() {
        let common = Common {
            project: Some("team-a/vpn".into()),
            ..Common::default()
        };
        let p = project(Path::new("state/x.json"), &common)
            .unwrap()
            .unwrap();
        assert_eq!(p.id, "team-a/vpn");
        assert_eq!(p.source, ProjectSource::Explicit);
        let bad = Common {
            project: Some("team~a".into()),
            ..Common::default()
        };
        let e = project(Path::new("state/x.json"), &bad).unwrap_err();
        assert!(e.to_string().contains("--project \"team~a\""), "{e}");
        let off = Common {
            no_ownership_tags: true,
            project: Some("team-a".into()),
            ..Common::default()
        };
        assert_eq!(project(Path::new("state/x.json"), &off).unwrap(), None);
    }
}
