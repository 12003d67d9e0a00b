//! Which backend keeps the state: `--state FILE` or the local default, or PostgreSQL when the
//! configuration says `backend "pg"`; taking its lock; moving a state between backends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use tunnelform_config::Config;
use tunnelform_state::{HeldLock, LocalBackend, LockInfo, State, StateBackend};
use tunnelform_state_pg::{PgBackend, PgSettings, Sources};

use crate::args::Common;
use crate::context::{parse_duration, state_path};

/// A state's backend, opened.
pub struct Opened {
    pub backend: Arc<dyn StateBackend>,
    /// How messages and saved plans name the state: the file's path, or `pg:SCHEMA/WORKSPACE`.
    pub name: PathBuf,
    /// The state's identity for the project id: the file's path, or the pg state's
    /// `pg://HOST:PORT/DB/SCHEMA/WORKSPACE`.
    pub identity: Identity,
    /// The pg backend itself, for what only it does (listing and deleting workspaces).
    pub pg: Option<Arc<PgBackend>>,
    /// A local state: where its workspaces' files are.
    pub local: Option<crate::workspace::LocalLayout>,
}

pub enum Identity {
    File(PathBuf),
    Remote(String),
}

impl Opened {
    pub fn is_local(&self) -> bool {
        matches!(self.identity, Identity::File(_))
    }
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

/// The pg backend's settings from the configuration's block, `--backend-config` and the
/// environment.
pub fn pg_settings(block: &BTreeMap<String, String>, common: &Common) -> Result<PgSettings> {
    let settings = PgSettings::resolve(&Sources {
        block,
        cli: &common.backend_config,
        env: &env,
    })?;
    Ok(settings)
}

fn open_pg(settings: PgSettings) -> Result<Opened> {
    let name = PathBuf::from(settings.name());
    let identity = Identity::Remote(settings.identity());
    let backend = Arc::new(PgBackend::new(settings).context("opening the pg backend")?);
    Ok(Opened {
        backend: backend.clone(),
        name,
        identity,
        pg: Some(backend),
        local: None,
    })
}

pub fn open_local(path: &Path) -> Result<Opened> {
    let backend = LocalBackend::open(path)
        .with_context(|| format!("reading the state {}", path.display()))?;
    Ok(Opened {
        backend: Arc::new(backend),
        name: path.to_path_buf(),
        identity: Identity::File(path.to_path_buf()),
        pg: None,
        local: Some(crate::workspace::LocalLayout::new(path, None)),
    })
}

/// The local state of workspace `ws` in `layout`.
pub fn open_local_in(layout: crate::workspace::LocalLayout, ws: &str) -> Result<Opened> {
    let mut opened = open_local(&layout.path(ws))?;
    opened.local = Some(layout);
    Ok(opened)
}

/// The backend of the configuration in `dir`, in its selected workspace: `--state FILE` (always
/// a local file), else `backend "pg"`, else the local file of [`state_path`].
pub fn open(dir: &Path, config: Option<&Config>, common: &Common) -> Result<Opened> {
    open_in(dir, config, common, &crate::workspace::current(dir)?)
}

/// [`open`] in workspace `ws`.
pub fn open_in(dir: &Path, config: Option<&Config>, common: &Common, ws: &str) -> Result<Opened> {
    if common.state.is_none() {
        if let Some(block) = config.and_then(Config::backend_pg) {
            return open_pg(pg_settings(block, common)?.with_workspace(ws)?);
        }
    }
    if !common.backend_config.is_empty() {
        bail!("--backend-config is for the pg backend, and this configuration does not use one (add terraform {{ backend \"pg\" {{}} }}, or drop --backend-config)");
    }
    // `--state FILE` stands for the whole local backend: its other workspaces are in FILE.d.
    let workspace_dir = match common.state {
        Some(_) => None,
        None => config.and_then(Config::backend_workspace_dir),
    };
    let layout =
        crate::workspace::LocalLayout::new(&state_path(dir, config, common), workspace_dir);
    open_local_in(layout, ws)
}

/// Takes the state lock for `operation`. With `--lock-timeout`, waits for the holder (saying so on
/// stderr, with who holds it) up to that long; without, fails at once naming the holder.
pub async fn lock(opened: &Opened, operation: &str, common: &Common) -> Result<Box<dyn HeldLock>> {
    let timeout = common
        .lock_timeout
        .as_deref()
        .map(parse_duration)
        .transpose()?;
    let name = opened.name.display().to_string();
    let on_wait = Box::new(move |holder: Option<&tunnelform_state::LockRecord>| {
        let who = holder.map_or_else(|| "another process".to_string(), |h| h.to_string());
        errln!(
            "Waiting for the state lock on {name} (up to {}), held by {who}...",
            timeout.map_or_else(String::new, crate::gitops::human_duration),
        );
    });
    // The wait is asynchronous: the tasks already running (the embedded sandbox, signal
    // listeners) keep running meanwhile.
    let acquired = opened
        .backend
        .lock(LockInfo::new(operation), timeout, on_wait)
        .await;
    acquired.map_err(|e| {
        let held = matches!(
            &e,
            tunnelform_state::BackendError::Lock(l) if matches!(**l, tunnelform_state::LockError::Held { .. })
        );
        let e = anyhow::Error::new(e);
        if !held {
            return e;
        }
        let no_lock = if operation == "plan" {
            ", or plan without the lock with --lock=false"
        } else {
            ""
        };
        e.context(format!(
            "cannot {operation}: another run holds the state lock. Wait for it with --lock-timeout DURATION (e.g. --lock-timeout 5m){no_lock}"
        ))
    })
}

/// Tries the lock once, for a reader that goes on without it when it is held.
pub async fn try_lock(opened: &Opened, operation: &str) -> Option<Box<dyn HeldLock>> {
    opened
        .backend
        .lock(LockInfo::new(operation), None, Box::new(|_| {}))
        .await
        .ok()
}

/// Loads the state, saying which.
pub fn load(opened: &Opened) -> Result<State> {
    opened
        .backend
        .load()
        .with_context(|| format!("reading the state {}", opened.name.display()))
}

/// `tunnelform state migrate --to local|pg`: copies the state (lineage and serial kept) from one
/// backend of the configuration to the other, both locked, refusing to clobber another lineage or a
/// newer serial, and refusing a source whose journal still lists unsettled operations.
pub async fn migrate(dir: &Path, to: &str, config: &Config, common: &Common) -> Result<u8> {
    let Some(block) = config.backend_pg() else {
        bail!(
            "the configuration in {} has no backend \"pg\": add terraform {{ backend \"pg\" {{ conn_str = \"...\" }} }} first (the local side is --state FILE, or the default state file)",
            dir.display()
        );
    };
    let local_path = match &common.state {
        Some(p) => p.clone(),
        None => {
            let no_backend = Common {
                state: None,
                ..common.clone()
            };
            // The local file the configuration would use without its pg backend.
            state_path(dir, None, &no_backend)
        }
    };
    let ws = crate::workspace::current(dir)?;
    let local = open_local_in(crate::workspace::LocalLayout::new(&local_path, None), &ws)?;
    let pg = open_pg(pg_settings(block, common)?.with_workspace(&ws)?)?;
    let (from, into) = match to {
        "pg" => (&local, &pg),
        "local" => (&pg, &local),
        other => bail!("--to {other:?}: use --to pg (local file to PostgreSQL) or --to local (PostgreSQL to the local file)"),
    };
    let _from_lock = lock(from, "state migrate", common).await?;
    let _into_lock = lock(into, "state migrate", common).await?;
    if !from.backend.exists()? {
        bail!("there is no state in {} to migrate", from.name.display());
    }
    let journal = from.backend.journal()?;
    if !journal.is_empty() {
        bail!(
            "the journal of {} lists operations of an interrupted run: run `tunnelform apply` (or plan) against it first so they are settled, then migrate",
            from.name.display()
        );
    }
    let state = load(from)?;
    into.backend
        .replace(&state)
        .with_context(|| format!("writing the state to {}", into.name.display()))?;
    outln!(
        "Migrated the state (lineage {}, serial {}, {} object(s)) from {} to {}.",
        state.lineage,
        state.serial,
        state.resources.len(),
        from.name.display(),
        into.name.display()
    );
    if to == "pg" {
        outln!("The local file {} is left as it was; remove it once you have checked the migration (the state lives in PostgreSQL now).", local.name.display());
    } else {
        outln!("The state is still in PostgreSQL too; remove the backend \"pg\" block to use the local file from now on.");
    }
    Ok(0)
}
