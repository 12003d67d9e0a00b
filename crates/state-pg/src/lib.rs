//! tunnelform's PostgreSQL state backend (layer 4, above `state`): many runners, one state.
//!
//! - **State by resource**: a workspace's state is one row of `states` (lineage, serial, outputs,
//!   cloud) and one row of `resources` per address. A save writes, in one transaction, the rows
//!   that changed since this process last read or wrote them, after checking (`FOR UPDATE`) that
//!   nobody wrote a newer serial or another lineage since. A step completing in a 10,000-tunnel
//!   apply writes that tunnel's row, not the whole state.
//! - **The journal** of operations in flight is the `journal` table: each record is one insert, and
//!   the save that records their outcomes deletes them in the same transaction, so an apply killed
//!   on one runner is settled by the next command on any other.
//! - **The lock** is a session advisory lock (`pg_try_advisory_lock`) plus a `locks` row naming the
//!   holder (who, pid, since, operation, lock id). The server drops the lock when the holder's
//!   session ends: a runner killed with SIGKILL at once, one cut off from the network when the TCP
//!   keepalives (set on both ends) give up, within about 30 seconds. No `force-unlock` is needed.
//! - **Leader election** of `watch` replicas ([`LeaderElection`]): another session advisory lock on a
//!   connection of its own, which a task owns: followers keep a waiting `pg_advisory_lock` there (the
//!   server grants it when the leader's session ends), the leader heartbeats on a lease that the
//!   server enforces (`idle_session_timeout`), so a leader that dies, hangs or is cut off loses it
//!   within one lease.
//! - The schema is created on first use and versioned (`tunnelform_schema_migrations`), under a
//!   transaction-level advisory lock so that runners starting together migrate it once.
//! - **Few round trips**: statements go with their parameter types (no separate prepare), and
//!   those that do not depend on each other's answers are sent together. A command's start costs
//!   the connection, one round trip for the session's settings and the schema's version, and one
//!   for the lock with the state and the journal read in its transaction (kept for the `load` and
//!   `journal` that follow, valid while the lock is held and nothing was written); a save costs
//!   two (the state row checked `FOR UPDATE`, then every write and the COMMIT); the release, one.
//!
//! The connection lives on a thread of its own with its own runtime; the [`StateBackend`] calls
//! send it jobs (blocking for reads and writes, awaited for the lock), so the engine's synchronous
//! store and the command line's runtime can both use it. A connection lost mid-run (a server
//! restart) is opened again, the lock taken again (or the run fails, naming the new holder), and
//! the interrupted job retried; writes carry a write id so a retried commit is not applied twice.
//!
//! Nothing here prints; the password never appears in messages or `Debug`.

mod leader;
mod session;
mod settings;
mod tls;

#[cfg(feature = "test-cluster")]
pub mod testing;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use tunnelform_model::Address;
use tunnelform_state::{
    BackendError, BoxFuture, HeldLock, Journal, LockError, LockInfo, LockRecord, OnWait, OpId,
    Record, ResourceState, State, StateBackend, StateError, Timestamp,
};

pub use leader::{LeaderElection, Leadership, OnLost, MIN_LEASE};
pub use settings::{
    PgSettings, SettingsError, Sources, SslMode, DEFAULT_SCHEMA, DEFAULT_WORKSPACE,
};
pub use tls::TlsError;

use session::{Job, JournalDelete, Loaded, Reply, Write};

/// Errors of the backend itself (connection, schema, data), as messages that say what and where.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot connect to the pg backend's server {server}: {cause}. Check conn_str (or PG_CONN_STR / PGHOST, PGPORT, PGUSER, PGPASSWORD) and that the server accepts connections from here")]
    Connect { server: String, cause: String },
    #[error("the pg backend's server {server} failed while {doing}: {cause}")]
    Query {
        server: String,
        doing: String,
        cause: String,
    },
    #[error("the schema {schema} on {server} was set up by a newer tunnelform (schema version {found}, this one knows up to {known}); upgrade tunnelform")]
    FutureSchema {
        schema: String,
        server: String,
        found: i32,
        known: i32,
    },
    #[error("the state {name} holds damaged data: {detail}. Restore it from a backup of the database, or push a good copy with `tunnelform state push FILE`")]
    Damaged { name: String, detail: String },
    #[error(
        "the state {name} was deleted from the database since it was read; run the command again"
    )]
    Vanished { name: String },
    #[error("lost the state lock on {name} when the connection to {server} dropped, and {holder} took it meanwhile; this run stopped writing. Run the command again (its journal is settled then)")]
    LockLost {
        name: String,
        server: String,
        holder: String,
    },
    #[error("the pg backend's connection thread stopped")]
    Gone,
}

impl From<PgError> for BackendError {
    fn from(e: PgError) -> Self {
        BackendError::Other(Box::new(e))
    }
}

/// What the database holds as far as this process knows (rows are written against it).
struct Baseline {
    lineage: String,
    existed: bool,
    resources: BTreeMap<Address, ResourceState>,
}

/// A workspace's state in PostgreSQL.
pub struct PgBackend {
    settings: PgSettings,
    jobs: mpsc::UnboundedSender<Job>,
    baseline: Mutex<Option<Baseline>>,
    /// The journal's records read so far and the next sequence number.
    journal: Mutex<Option<(Journal, i64)>>,
    bytes_written: Arc<AtomicU64>,
    lock_key: i64,
    /// Signalled when the connection's thread has ended its session.
    done: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    /// The state's rows read by [`StateBackend::peek`] (`Some(None)`: there was no state), kept
    /// for the `load` that follows it; dropped by any write.
    peeked: Mutex<Option<Option<Loaded>>>,
}

impl std::fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBackend")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl PgBackend {
    /// Starts the backend's connection thread. Nothing is sent to the server before the first call
    /// (or [`PgBackend::connect_ahead`]).
    pub fn new(settings: PgSettings) -> Result<PgBackend, PgError> {
        let connector = tls::connector(settings.ssl_mode, settings.root_cert.as_deref())?;
        let (tx, rx) = mpsc::unbounded_channel();
        let bytes_written = Arc::new(AtomicU64::new(0));
        let session = session::Session::new(settings.clone(), connector, bytes_written.clone());
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("tunnelform-pg".into())
            .spawn(move || session.run(rx, done_tx))
            .map_err(|e| PgError::Connect {
                server: settings.server(),
                cause: format!("cannot start its thread: {e}"),
            })?;
        let lock_key = lock_key(&settings.schema, &settings.workspace);
        Ok(PgBackend {
            settings,
            jobs: tx,
            baseline: Mutex::new(None),
            journal: Mutex::new(None),
            bytes_written,
            lock_key,
            done: Mutex::new(Some(done)),
            peeked: Mutex::new(None),
        })
    }

    pub fn settings(&self) -> &PgSettings {
        &self.settings
    }

    /// Starts connecting now (the connection, the session's settings, the schema's version) on
    /// the backend's thread, without waiting: a command that knows its backend before it has
    /// finished loading its configuration overlaps the two. A failure is reported by the first
    /// call that needs the connection.
    pub fn connect_ahead(&self) {
        let _ = self.jobs.send(Job::Connect);
    }

    /// Starts ending the session without waiting for it: jobs sent before (a dropped lock's
    /// release) run first, and nothing can be asked of this backend afterwards. For a command
    /// that has finished with its state but still has work before it exits; dropping the backend
    /// then waits for the end (usually over by then), so the next runner still finds the lock free
    /// as soon as this process is gone.
    pub fn close_soon(&self) {
        let _ = self.jobs.send(Job::Shutdown);
    }

    /// Waits (at most 5 s) for the session to end, once [`PgBackend::close_soon`] asked for it.
    pub fn wait_closed(&self) {
        if let Some(done) = self.done.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = done.recv_timeout(Duration::from_secs(5));
        }
    }

    /// Bytes of state, outputs and journal records sent in writes so far (for benchmarks).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written.load(Ordering::Relaxed)
    }

    /// Workspaces with a state in this schema.
    pub fn workspaces(&self) -> Result<Vec<String>, BackendError> {
        self.call(Job::Workspaces)
    }

    /// Deletes this workspace's state (every resource row with it) and its journal. The caller
    /// holds the workspace's lock; the lock's own row goes when it is released.
    pub fn delete_workspace(&self) -> Result<(), BackendError> {
        self.take_peeked();
        self.call(Job::DeleteWorkspace)?;
        *self.baseline.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.journal.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }

    fn call<T: Send + 'static>(
        &self,
        job: impl FnOnce(Reply<Result<T, BackendError>>) -> Job,
    ) -> Result<T, BackendError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.jobs
            .send(job(Reply::Sync(tx)))
            .map_err(|_| PgError::Gone)?;
        rx.recv().map_err(|_| PgError::Gone)?
    }

    async fn call_async<T: Send + 'static>(
        jobs: &mpsc::UnboundedSender<Job>,
        job: impl FnOnce(Reply<Result<T, BackendError>>) -> Job,
    ) -> Result<T, BackendError> {
        let (tx, rx) = oneshot::channel();
        jobs.send(job(Reply::Async(tx)))
            .map_err(|_| PgError::Gone)?;
        rx.await.map_err(|_| PgError::Gone)?
    }

    fn name_path(&self) -> PathBuf {
        PathBuf::from(self.settings.name())
    }

    fn damaged(&self, detail: impl Into<String>) -> BackendError {
        PgError::Damaged {
            name: self.settings.name(),
            detail: detail.into(),
        }
        .into()
    }

    /// The state from its rows, through the same parser (and checks) as a state file: the
    /// envelope as a document of its own, each row's body parsed straight into its resource.
    fn assemble(&self, l: &Loaded) -> Result<State, BackendError> {
        let envelope = self.envelope(l)?;
        State::from_json_parts(
            envelope.as_bytes(),
            l.rows.iter().map(|(a, b)| (a.as_str(), b.as_str())),
        )
        .map_err(|e| self.damaged(e.to_string()))
    }

    /// What [`StateBackend::peek`] kept, taken (for one `load`).
    fn take_peeked(&self) -> Option<Option<Loaded>> {
        self.peeked.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// The state row as a state document without resources (`"resources": {}`): the header the
    /// rows' entries go into.
    fn envelope(&self, l: &Loaded) -> Result<String, BackendError> {
        let meta = l.meta.trim();
        let inner = meta
            .strip_prefix('{')
            .and_then(|m| m.strip_suffix('}'))
            .ok_or_else(|| self.damaged("its envelope is not a JSON object"))?;
        let mut doc = String::with_capacity(96 + meta.len());
        doc.push_str("{\"format\":\"tunnelform-state\",\"lineage\":");
        doc.push_str(&serde_json::to_string(&l.lineage).unwrap_or_default());
        doc.push_str(",\"serial\":");
        doc.push_str(&l.serial.to_string());
        doc.push_str(",\"resources\":{}");
        if !inner.trim().is_empty() {
            doc.push(',');
            doc.push_str(inner);
        }
        doc.push('}');
        Ok(doc)
    }

    /// The rows to write to bring the database from the baseline to `state`.
    fn write_for(
        &self,
        state: &State,
        new_serial: u64,
        force_full: bool,
    ) -> Result<(Write, Vec<Address>, Vec<Address>), BackendError> {
        state.validate().map_err(StateError::from)?;
        let base = self.baseline.lock().unwrap_or_else(|p| p.into_inner());
        let base = base
            .as_ref()
            .filter(|b| b.lineage == state.lineage && !force_full);
        let mut upserts = Vec::new();
        let mut changed = Vec::new();
        for (addr, rs) in &state.resources {
            if base.is_some_and(|b| b.resources.get(addr) == Some(rs)) {
                continue;
            }
            let body = serde_json::to_string(rs)
                .map_err(|e| self.damaged(format!("{addr} cannot be written: {e}")))?;
            upserts.push((addr.to_string(), body));
            changed.push(addr.clone());
        }
        let removed: Vec<Address> = match base {
            Some(b) => b
                .resources
                .keys()
                .filter(|a| !state.resources.contains_key(*a))
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        let mut meta = serde_json::Map::new();
        if let Some(c) = &state.cloud {
            meta.insert("cloud".into(), serde_json::to_value(c).unwrap_or_default());
        }
        meta.insert(
            "outputs".into(),
            serde_json::to_value(&state.outputs).unwrap_or_default(),
        );
        meta.insert(
            "tunnelform_version".into(),
            tunnelform_state::TUNNELFORM_VERSION.into(),
        );
        meta.insert("version".into(), state.version.into());
        let write = Write {
            lineage: state.lineage.clone(),
            base_serial: state.serial,
            new_serial,
            meta: serde_json::Value::Object(meta).to_string(),
            upserts,
            deletes: removed.iter().map(Address::to_string).collect(),
            full: base.is_none(),
            may_create: base.is_none_or(|b| !b.existed),
            journal: JournalDelete::None,
            write_id: uuid::Uuid::new_v4().to_string(),
        };
        Ok((write, changed, removed))
    }

    fn after_write(&self, state: &State, changed: Vec<Address>, removed: Vec<Address>, full: bool) {
        let mut g = self.baseline.lock().unwrap_or_else(|p| p.into_inner());
        match g.as_mut().filter(|b| b.lineage == state.lineage && !full) {
            Some(b) => {
                b.existed = true;
                for a in removed {
                    b.resources.remove(&a);
                }
                for a in changed {
                    if let Some(rs) = state.resources.get(&a) {
                        b.resources.insert(a, rs.clone());
                    }
                }
            }
            None => {
                *g = Some(Baseline {
                    lineage: state.lineage.clone(),
                    existed: true,
                    resources: state.resources.clone(),
                })
            }
        }
    }

    fn stale(&self, e: session::WriteRefused) -> BackendError {
        let path = self.name_path();
        match e {
            session::WriteRefused::Lineage { on_disk, ours } => StateError::LineageMismatch {
                path,
                on_disk,
                ours,
            }
            .into(),
            session::WriteRefused::Serial { on_disk, ours } => StateError::StaleSerial {
                path,
                on_disk,
                ours,
            }
            .into(),
            session::WriteRefused::Vanished => PgError::Vanished {
                name: self.settings.name(),
            }
            .into(),
        }
    }

    fn run_write(&self, w: Write) -> Result<(), BackendError> {
        self.take_peeked();
        match self.call(|r| Job::Write(Box::new(w), r))? {
            Ok(()) => Ok(()),
            Err(refused) => Err(self.stale(refused)),
        }
    }

    fn with_journal<T>(
        &self,
        f: impl FnOnce(&mut Journal, &mut i64) -> Result<T, BackendError>,
    ) -> Result<T, BackendError> {
        let mut g = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        if g.is_none() {
            let rows: Vec<(i64, String)> = self.call(Job::ReadJournal)?;
            let next = rows.last().map_or(1, |(s, _)| s + 1);
            let mut records = Vec::with_capacity(rows.len());
            for (seq, text) in rows {
                let r: Record = serde_json::from_str(&text).map_err(|e| {
                    self.damaged(format!("journal record {seq} is unreadable ({e})"))
                })?;
                records.push(r);
            }
            *g = Some((Journal::detached(self.name_path(), records), next));
        }
        match g.as_mut() {
            Some((j, next)) => f(j, next),
            None => Err(PgError::Gone.into()),
        }
    }
}

/// How long a lock whose holder's process is known to be gone is waited for, without a timeout.
const DEAD_HOLDER_GRACE: Duration = Duration::from_secs(10);

/// Whether `holder` ran on this machine (same `user@host`) in a process that no longer exists.
/// Only where `/proc` tells (Linux); elsewhere, false.
fn gone_from_this_machine(holder: &LockRecord) -> bool {
    if holder.pid == std::process::id()
        || holder.who != tunnelform_state::current_who()
        || !std::path::Path::new("/proc/self").exists()
    {
        return false;
    }
    !std::path::Path::new(&format!("/proc/{}", holder.pid)).exists()
}

/// The advisory lock key of a workspace: 64 bits of SHA-256 of `tunnelform:SCHEMA/WORKSPACE`.
fn lock_key(schema: &str, workspace: &str) -> i64 {
    let d = Sha256::digest(format!("tunnelform:{schema}/{workspace}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

impl StateBackend for PgBackend {
    fn name(&self) -> String {
        self.settings.name()
    }

    fn exists(&self) -> Result<bool, BackendError> {
        self.call(Job::Exists)
    }

    fn load(&self) -> Result<State, BackendError> {
        let loaded = match self.take_peeked() {
            Some(loaded) => loaded,
            None => self.call(Job::Load)?,
        };
        let (state, existed) = match loaded {
            Some(l) => (self.assemble(&l)?, true),
            None => (State::new(), false),
        };
        *self.baseline.lock().unwrap_or_else(|p| p.into_inner()) = Some(Baseline {
            lineage: state.lineage.clone(),
            existed,
            resources: state.resources.clone(),
        });
        Ok(state)
    }

    fn peek(&self) -> Option<tunnelform_state::peek::Peeked> {
        // The lock's transaction read the rows: this takes them without a round trip.
        let mut loaded: Option<Loaded> = self.call(Job::Load).ok()?;
        // Whatever this look finds, the rows are kept for the load that follows.
        let peeked = loaded.as_mut().and_then(|l| {
            let objects = l.take_objects()?;
            tunnelform_state::peek::peek_parts(self.envelope(l).ok()?.as_bytes(), objects)
        });
        *self.peeked.lock().unwrap_or_else(|p| p.into_inner()) = Some(loaded);
        peeked
    }

    fn save(&self, state: &mut State) -> Result<(), BackendError> {
        let next = state
            .serial
            .checked_add(1)
            .ok_or(tunnelform_state::WriteError::SerialOverflow {
                serial: state.serial,
            })
            .map_err(StateError::from)?;
        let (w, changed, removed) = self.write_for(state, next, false)?;
        let full = w.full;
        self.run_write(w)?;
        state.serial = next;
        state.tunnelform_version = tunnelform_state::TUNNELFORM_VERSION.to_string();
        self.after_write(state, changed, removed, full);
        Ok(())
    }

    fn replace(&self, state: &State) -> Result<(), BackendError> {
        let current: Option<Loaded> = self.call(Job::Load)?;
        let existed = current.is_some();
        if let Some(l) = current {
            let current = self.assemble(&l)?;
            tunnelform_state::check_replace(&self.name(), &current, state)?;
            if current == *state {
                return Ok(());
            }
        }
        if state.serial == 0 {
            return Err(BackendError::Other(
                "a state with serial 0 has never been saved: there is nothing to write".into(),
            ));
        }
        *self.baseline.lock().unwrap_or_else(|p| p.into_inner()) = Some(Baseline {
            lineage: state.lineage.clone(),
            existed,
            resources: BTreeMap::new(),
        });
        let (mut w, changed, removed) = self.write_for(state, state.serial, true)?;
        w.may_create = !existed;
        // The serial given is written as is: the row must hold at most the one below it.
        w.base_serial = state.serial;
        self.run_write(w)?;
        self.after_write(state, changed, removed, true);
        Ok(())
    }

    fn journal(&self) -> Result<Journal, BackendError> {
        // Read afresh (another runner may have left records), then kept for appends.
        *self.journal.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.with_journal(|j, _| Ok(Journal::detached(j.path(), j.records().to_vec())))
    }

    fn append(&self, record: &Record) -> Result<(), BackendError> {
        self.with_journal(|j, next| {
            j.check_sequence(record)?;
            let text =
                serde_json::to_string(record).map_err(|e| BackendError::Other(Box::new(e)))?;
            let seq = *next;
            let op = record.op_id().0.clone();
            self.call(|r| Job::Append(seq, op, text, r))?;
            *next += 1;
            j.append(record)?;
            Ok(())
        })
    }

    fn settle(&self, state: Option<&mut State>, keep_unfinished: bool) -> Result<(), BackendError> {
        let (delete, unfinished) = self.with_journal(|j, _| {
            let unfinished: BTreeSet<OpId> =
                j.unfinished().into_iter().map(|u| u.intent.op_id).collect();
            if !keep_unfinished || unfinished.is_empty() {
                return Ok((JournalDelete::All, unfinished));
            }
            let done: BTreeSet<String> = j
                .records()
                .iter()
                .map(Record::op_id)
                .filter(|o| !unfinished.contains(*o))
                .map(|o| o.0.clone())
                .collect();
            Ok((JournalDelete::Ops(done.into_iter().collect()), unfinished))
        })?;
        match state {
            Some(state) => {
                let next = state.serial.checked_add(1).ok_or_else(|| {
                    StateError::from(tunnelform_state::WriteError::SerialOverflow {
                        serial: state.serial,
                    })
                })?;
                let (mut w, changed, removed) = self.write_for(state, next, false)?;
                w.journal = delete;
                let full = w.full;
                self.run_write(w)?;
                state.serial = next;
                state.tunnelform_version = tunnelform_state::TUNNELFORM_VERSION.to_string();
                self.after_write(state, changed, removed, full);
            }
            None => {
                self.call(|r| Job::DeleteJournal(delete, r))?;
            }
        }
        self.with_journal(|j, _| {
            if keep_unfinished && !unfinished.is_empty() {
                j.compact()?;
            } else {
                j.clear()?;
            }
            Ok(())
        })
    }

    fn lock<'a>(
        &'a self,
        info: LockInfo,
        timeout: Option<Duration>,
        mut on_wait: OnWait<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn HeldLock>, BackendError>> {
        Box::pin(async move {
            let record = LockRecord {
                created: Timestamp::now(),
                id: uuid::Uuid::new_v4().to_string(),
                operation: info.operation,
                path: self.settings.name(),
                pid: std::process::id(),
                version: info.version,
                who: info.who,
            };
            let timeout = timeout.filter(|t| !t.is_zero());
            let start = Instant::now();
            let mut pause = Duration::from_millis(20);
            let mut announced = false;
            // A holder writes its row just after it takes the lock: one found held without a row
            // is given this long to say who it is.
            let record_deadline = start + Duration::from_secs(1);
            loop {
                let key = self.lock_key;
                let rec = record.clone();
                let got: Option<Option<LockRecord>> =
                    PgBackend::call_async(&self.jobs, |r| Job::TryLock(key, Box::new(rec), r))
                        .await?;
                let holder = match got {
                    None => {
                        tracing::debug!(lock_id = %record.id, state = %self.name(), "state lock acquired");
                        return Ok(Box::new(PgLock {
                            record,
                            key,
                            jobs: self.jobs.clone(),
                            released: false,
                        }) as Box<dyn HeldLock>);
                    }
                    Some(h) => h.map(Box::new),
                };
                if holder.is_none() && Instant::now() < record_deadline {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                // A holder on this machine whose process is gone (killed): the server ends its
                // session as soon as it reads the closed socket, which a loaded server may take a
                // moment to do. Its lock is as good as free: give the server that moment.
                if holder.as_deref().is_some_and(gone_from_this_machine)
                    && start.elapsed() < DEAD_HOLDER_GRACE
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                let Some(limit) = timeout else {
                    return Err(LockError::Held {
                        state: self.name_path(),
                        holder,
                    }
                    .into());
                };
                let waited = start.elapsed();
                if waited >= limit {
                    return Err(LockError::Timeout {
                        state: self.name_path(),
                        waited,
                        holder,
                    }
                    .into());
                }
                if !announced {
                    announced = true;
                    on_wait(holder.as_deref());
                }
                tokio::time::sleep(pause.min(limit - waited)).await;
                pause = (pause * 2).min(Duration::from_millis(500));
            }
        })
    }

    fn lock_holder(&self) -> BoxFuture<'_, Result<Option<LockRecord>, BackendError>> {
        Box::pin(async move {
            let key = self.lock_key;
            PgBackend::call_async(&self.jobs, |r| Job::Holder(key, r)).await
        })
    }

    fn force_unlock<'a>(
        &'a self,
        lock_id: &'a str,
    ) -> BoxFuture<'a, Result<LockRecord, BackendError>> {
        Box::pin(async move {
            let key = self.lock_key;
            let id = lock_id.to_string();
            let state = self.name_path();
            let res: session::ForceUnlock =
                PgBackend::call_async(&self.jobs, |r| Job::ForceUnlock(key, id, r)).await?;
            match res {
                session::ForceUnlock::Cleared(r) => Ok(*r),
                session::ForceUnlock::NotLocked => Err(LockError::NotLocked { state }.into()),
                session::ForceUnlock::WrongId(holder) => Err(LockError::WrongId {
                    state,
                    given: lock_id.to_string(),
                    holder,
                }
                .into()),
                session::ForceUnlock::StillHeld(holder) => {
                    Err(LockError::StillHeld { state, holder }.into())
                }
            }
        })
    }
}

impl Drop for PgBackend {
    /// Ends the session before returning (jobs already sent, such as a lock's release, run first),
    /// so the next runner finds the lock free at once.
    fn drop(&mut self) {
        self.close_soon();
        self.wait_closed();
    }
}

/// A held advisory lock; released by `unlock`, by dropping it, or by the session's end.
struct PgLock {
    record: LockRecord,
    key: i64,
    jobs: mpsc::UnboundedSender<Job>,
    released: bool,
}

impl HeldLock for PgLock {
    fn record(&self) -> &LockRecord {
        &self.record
    }

    fn unlock(mut self: Box<Self>) -> BoxFuture<'static, Result<(), BackendError>> {
        self.released = true;
        let jobs = self.jobs.clone();
        let key = self.key;
        let id = self.record.id.clone();
        Box::pin(
            async move { PgBackend::call_async(&jobs, |r| Job::Unlock(key, id, Some(r))).await },
        )
    }
}

impl Drop for PgLock {
    fn drop(&mut self) {
        if !self.released {
            let _ = self
                .jobs
                .send(Job::Unlock(self.key, self.record.id.clone(), None));
        }
    }
}
