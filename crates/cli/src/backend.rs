//! Which backend keeps the state: `--state FILE` or the local default, or PostgreSQL when the
//! configuration says `backend "pg"`; taking its lock; moving a state between backends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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

    /// For a command done with its state (its lock dropped before): a pg session starts ending
    /// now, while the command finishes its output and the process winds down, and is waited for
    /// by [`finish_closing`] at the very end.
    pub fn close_at_exit(self) {
        if let Some(pg) = &self.pg {
            pg.close_soon();
        }
        CLOSING.lock().unwrap_or_else(|p| p.into_inner()).push(self);
    }
}

/// The states given to [`Opened::close_at_exit`].
static CLOSING: Mutex<Vec<Opened>> = Mutex::new(Vec::new());

/// Waits for the states given to [`Opened::close_at_exit`] to be closed (a pg session's end, so
/// that its lock is free when the process is gone). Called once the async runtime is shut down,
/// right before the process ends: a pg backend's memory (its copy of the state's rows as last
/// written) is left to the operating system, as `plan` leaves its state and plan.
pub fn finish_closing() {
    let closing = std::mem::take(&mut *CLOSING.lock().unwrap_or_else(|p| p.into_inner()));
    for opened in closing {
        match &opened.pg {
            Some(pg) => {
                pg.wait_closed();
                std::mem::forget(opened);
            }
            None => drop(opened),
        }
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

/// A pg backend opened, and connecting, from a quick early read of the configuration's
/// `backend "pg"` block while the whole configuration loads ([`prestart`], [`open_early`]).
pub struct Early(Option<std::thread::JoinHandle<Option<(PgSettings, Opened)>>>);

/// The literal value of a backend setting (backend settings are constant strings).
fn literal(e: &tunnelform_syntax::ast::Expr) -> Option<String> {
    use tunnelform_syntax::ast::{ExprKind, TemplatePart};
    match &e.kind {
        ExprKind::Literal(tunnelform_model::Value::String(s)) => Some(s.to_string()),
        ExprKind::Template(parts) => parts
            .iter()
            .map(|p| match p {
                TemplatePart::Lit(s) => Some(s.as_str()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// The settings of the one `terraform { backend "pg" {...} }` block among the `*.tf` files of
/// `dir`, when they are plain strings; `None` when there is none, more than one, or anything this
/// quick read is unsure of (the configuration's load decides then).
fn early_pg_block(dir: &Path) -> Option<BTreeMap<String, String>> {
    let mut found = None;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).ok()?;
        if !(text.contains("backend") && text.contains("\"pg\"")) {
            continue;
        }
        // The caller's thread has the parser's stack (see `prestart`).
        let (body, errors) = tunnelform_syntax::parse_body(0, &text).ok()?;
        if !errors.is_empty() {
            return None;
        }
        for t in body.blocks.iter().filter(|b| b.kind == "terraform") {
            for b in t.body.blocks.iter().filter(|b| b.kind == "backend") {
                if b.labels.len() != 1 || b.labels[0].0 != "pg" || found.is_some() {
                    return None;
                }
                let mut m = BTreeMap::new();
                for a in &b.body.attrs {
                    m.insert(a.name.clone(), literal(&a.expr)?);
                }
                found = Some(m);
            }
        }
    }
    found
}

/// Starts opening the pg backend of the configuration in `dir` on a thread of its own, from an
/// early read of its `backend "pg"` block, so the connection is set up while the caller loads the
/// configuration. [`open_early`] then uses it only if the loaded configuration names the same
/// state; nothing is taken (no lock, no read) before that.
pub fn prestart(dir: &Path, common: &Common) -> Early {
    if common.state.is_some() {
        return Early(None);
    }
    let dir = dir.to_path_buf();
    let common = common.clone();
    // Its stack is the parser's, so the block is parsed here rather than on a thread of its own.
    let handle = std::thread::Builder::new()
        .name("tunnelform-pg-early".into())
        .stack_size(tunnelform_syntax::PARSE_STACK)
        .spawn(move || {
            let block = early_pg_block(&dir)?;
            let ws = crate::workspace::current(&dir).ok()?;
            let settings = pg_settings(&block, &common)
                .ok()?
                .with_workspace(&ws)
                .ok()?;
            let opened = open_pg(settings.clone()).ok()?;
            if let Some(pg) = &opened.pg {
                pg.connect_ahead();
            }
            Some((settings, opened))
        });
    Early(handle.ok())
}

/// [`open`], with the backend [`prestart`] opened when the loaded configuration names that same
/// state (else it is dropped, and the state opened as [`open`] does).
pub fn open_early(dir: &Path, config: &Config, common: &Common, early: Early) -> Result<Opened> {
    if let Some((settings, opened)) = early.take() {
        if pg_agrees(dir, config, common, &settings)? {
            return Ok(opened);
        }
    }
    open(dir, Some(config), common)
}

impl Early {
    /// The pg backend [`prestart`] opened (and is connecting), with the settings it was opened
    /// with; `None` when it found none.
    pub fn take(self) -> Option<(PgSettings, Opened)> {
        self.0.and_then(|h| h.join().ok().flatten())
    }
}

/// Whether the loaded configuration's state is the pg state of `settings` (what [`prestart`]
/// read early).
pub fn pg_agrees(
    dir: &Path,
    config: &Config,
    common: &Common,
    settings: &PgSettings,
) -> Result<bool> {
    match (common.state.as_ref(), config.backend_pg()) {
        (None, Some(block)) => {
            let real =
                pg_settings(block, common)?.with_workspace(&crate::workspace::current(dir)?)?;
            Ok(real == *settings)
        }
        _ => Ok(false),
    }
}

/// [`open`] for a loop that opens the same state again and again (`watch`): a pg state whose
/// settings and workspace did not change is the one in `cache`, so its connection is kept from one
/// cycle to the next (the backend connects again by itself after a failure); anything else is
/// opened afresh into `cache`.
pub fn open_cached<'c>(
    dir: &Path,
    config: &Config,
    common: &Common,
    cache: &'c mut Option<Opened>,
) -> Result<&'c Opened> {
    let pg = match config.backend_pg() {
        Some(block) if common.state.is_none() => {
            Some(pg_settings(block, common)?.with_workspace(&crate::workspace::current(dir)?)?)
        }
        _ => None,
    };
    let reuse = match (&pg, cache.as_ref().and_then(|o| o.pg.as_ref())) {
        (Some(new), Some(old)) => old.settings() == new,
        _ => false,
    };
    if !reuse {
        // The old backend (and its connection) goes before the new one connects.
        *cache = None;
        *cache = Some(match pg {
            Some(settings) => open_pg(settings)?,
            None => open(dir, Some(config), common)?,
        });
    }
    cache.as_ref().context("the state's backend was not opened")
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
