//! The state being applied: shared by the workers, saved atomically as steps complete.
//!
//! Every completed step is first recorded durably in the journal (one small fsynced append, or one
//! insert with the PostgreSQL backend); the state itself is saved at most every `save_interval`
//! (and always at the end), because rewriting a large state after each of thousands of steps would
//! cost more than the work itself (the PostgreSQL backend writes only the resources that changed).
//! Together they lose nothing: what the saved state does not have yet, the journal does.
//!
//! This is where the engine meets the [`StateBackend`]: the local files or PostgreSQL.

use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tunnelform_model::Map;

use tunnelform_kinds::ResourceKind;
use tunnelform_model::{Address, Mode, Value};
use tunnelform_plan::Attrs;
use tunnelform_state::{
    BackendError, Journal, LocalBackend, Origin, Record, ResourceState, SecretDigest, State,
    StateBackend, StateError, StateFile,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("writing the state failed: {0}")]
    State(#[from] StateError),
    #[error("writing the journal failed: {0}")]
    Journal(#[from] tunnelform_state::JournalError),
    #[error("writing the state failed: {0}")]
    Backend(BackendError),
    /// A journal append made by the journal's writer on behalf of several callers failed.
    #[error("writing the journal failed: {0}")]
    JournalWrite(String),
}

impl From<BackendError> for StoreError {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::State(e) => StoreError::State(*e),
            BackendError::Journal(e) => StoreError::Journal(*e),
            other => StoreError::Backend(other),
        }
    }
}

struct Inner {
    state: State,
    dirty: bool,
    last_save: Instant,
}

/// A record for the journal's writer, and who to tell once it is durable.
type Queued = (Record, tokio::sync::oneshot::Sender<Result<(), String>>);

/// The state and the backend keeping it (with its journal).
#[derive(Clone)]
pub struct StateStore {
    inner: Arc<Mutex<Inner>>,
    backend: Arc<dyn StateBackend>,
    save_interval: Duration,
    /// The journal's writer (a thread started on first use of [`StateStore::write_journal`]).
    writer: Arc<OnceLock<Option<mpsc::Sender<Queued>>>>,
}

/// Starts the thread that appends the queued records: every record queued while it writes goes
/// out with the next append, in order, all made durable by one fsync. It ends when the store does.
fn start_writer(backend: Arc<dyn StateBackend>) -> Option<mpsc::Sender<Queued>> {
    let (tx, rx) = mpsc::channel::<Queued>();
    let spawned = std::thread::Builder::new()
        .name("tunnelform-journal".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut queued = vec![first];
                while let Ok(more) = rx.try_recv() {
                    queued.push(more);
                }
                let (records, replies): (Vec<Record>, Vec<_>) = queued.into_iter().unzip();
                let message = |e: BackendError| StoreError::from(e).to_string();
                match backend.append_all(&records) {
                    Ok(()) => replies.into_iter().for_each(|r| {
                        let _ = r.send(Ok(()));
                    }),
                    // All or none were written: each is tried on its own, so that one record's
                    // error (e.g. out of sequence) is not every caller's.
                    Err(e) if records.len() == 1 => {
                        let e = message(e);
                        for reply in replies {
                            let _ = reply.send(Err(e.clone()));
                        }
                    }
                    Err(_) => {
                        for (record, reply) in records.iter().zip(replies) {
                            let _ = reply.send(backend.append(record).map_err(message));
                        }
                    }
                }
            }
        });
    spawned.ok().map(|_| tx)
}

impl StateStore {
    /// A state kept in its local file, with its journal beside it.
    pub fn new(file: StateFile, state: State, journal: Journal) -> Self {
        StateStore::with_backend(Arc::new(LocalBackend::with_journal(file, journal)), state)
    }

    /// A state kept by `backend` (read from it by the caller).
    pub fn with_backend(backend: Arc<dyn StateBackend>, state: State) -> Self {
        StateStore {
            inner: Arc::new(Mutex::new(Inner {
                state,
                dirty: false,
                last_save: Instant::now(),
            })),
            backend,
            save_interval: Duration::from_millis(250),
            writer: Arc::new(OnceLock::new()),
        }
    }

    pub fn with_save_interval(mut self, d: Duration) -> Self {
        self.save_interval = d;
        self
    }

    /// Reads the state in place (no copy is made), with the store locked meanwhile.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.inner.lock().expect("state lock").state)
    }

    pub fn snapshot(&self) -> State {
        self.inner.lock().expect("state lock").state.clone()
    }

    pub fn lineage(&self) -> String {
        self.inner.lock().expect("state lock").state.lineage.clone()
    }

    /// Appends a journal record durably.
    pub fn journal(&self, record: &Record) -> Result<(), StoreError> {
        self.backend.append(record)?;
        Ok(())
    }

    /// Appends a journal record durably without blocking the async runtime: the journal's writer
    /// thread appends the records of concurrent callers together, with one fsync, and this returns
    /// once the record is durable. (Thousands of steps each waiting for their own fsync on the
    /// runtime's workers would hold up every other step, and the API calls, behind the disk.)
    pub async fn write_journal(&self, record: Record) -> Result<(), StoreError> {
        let writer = self
            .writer
            .get_or_init(|| start_writer(self.backend.clone()));
        let Some(writer) = writer else {
            return self.journal(&record);
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        if let Err(mpsc::SendError((record, _))) = writer.send((record, tx)) {
            return self.journal(&record);
        }
        match rx.await {
            Ok(r) => r.map_err(StoreError::JournalWrite),
            Err(_) => Err(StoreError::JournalWrite(
                "the journal's writer stopped before the record was written".into(),
            )),
        }
    }

    /// Changes the state in memory and saves it if the last save is old enough.
    pub fn update(&self, f: impl FnOnce(&mut State)) -> Result<(), StoreError> {
        let mut g = self.inner.lock().expect("state lock");
        f(&mut g.state);
        g.dirty = true;
        if g.last_save.elapsed() >= self.save_interval {
            self.save_locked(&mut g)?;
        }
        Ok(())
    }

    /// Saves now if anything changed; clears the journal once the state holds everything.
    pub fn flush(&self) -> Result<(), StoreError> {
        let mut g = self.inner.lock().expect("state lock");
        if g.dirty {
            self.save_locked(&mut g)?;
        }
        Ok(())
    }

    /// Saves now and empties the journal of what the state now holds: all of it when no operation
    /// is left open, else the finished operations (so the next run's recovery settles only what
    /// this one could not).
    /// (With the PostgreSQL backend, the save and the journal's cleaning are one transaction.)
    pub fn finish(&self) -> Result<(), StoreError> {
        let mut g = self.inner.lock().expect("state lock");
        let dirty = g.dirty;
        self.backend.settle(dirty.then_some(&mut g.state), true)?;
        g.dirty = false;
        g.last_save = Instant::now();
        Ok(())
    }

    fn save_locked(&self, g: &mut Inner) -> Result<(), StoreError> {
        self.backend.save(&mut g.state)?;
        g.dirty = false;
        g.last_save = Instant::now();
        Ok(())
    }
}

/// `rs` with the attributes `attrs` read from the cloud (of the same object): everything else the
/// state knew is kept, and attributes the state keeps as digests (e.g. a name from a sensitive
/// variable) stay digests.
pub fn refreshed(rs: &ResourceState, kind: ResourceKind, attrs: &Attrs) -> ResourceState {
    let marks: Attrs = rs
        .secret_digests
        .keys()
        .map(|k| (k.clone(), Value::sensitive(Value::Null)))
        .collect();
    let mut fresh = resource_state(
        kind,
        &rs.id,
        &rs.region,
        rs.provider_alias.as_deref(),
        attrs,
        Some(&marks),
        rs.dependencies.iter().cloned().collect(),
        rs.create_before_destroy,
        rs.origin,
        rs.ownership_tags,
        Some(rs),
    );
    fresh.tainted = rs.tainted;
    fresh
}

/// Builds the state entry of an object from its refreshed attributes. Sensitive attributes (and
/// those planned sensitive, e.g. from a sensitive variable) are kept only as salted digests.
#[allow(clippy::too_many_arguments)]
pub fn resource_state(
    kind: ResourceKind,
    id: &str,
    region: &str,
    provider_alias: Option<&str>,
    attrs: &Attrs,
    planned: Option<&Attrs>,
    dependencies: Vec<Address>,
    create_before_destroy: bool,
    origin: Origin,
    ownership_tags: bool,
    previous: Option<&ResourceState>,
) -> ResourceState {
    let mut attributes = Map::new();
    let mut secret_digests = tunnelform_state::Digests::new();
    for (k, v) in attrs {
        if k == "id" {
            continue;
        }
        let planned_sensitive = planned
            .and_then(|p| p.get(k))
            .is_some_and(Value::contains_sensitive);
        if v.is_sensitive()
            || planned_sensitive
            || kind.schema().attr(k).is_some_and(|a| a.sensitive)
        {
            if v.is_null() {
                continue;
            }
            let prev = previous.and_then(|p| p.secret_digests.get(k.as_str()));
            secret_digests.insert(
                k.to_string(),
                SecretDigest::reuse_or_new_value(prev, &v.deep_unmarked()),
            );
            continue;
        }
        let prev = previous.and_then(|p| p.attributes.get(k));
        attributes.insert(k.clone(), tunnelform_state::mask_sensitive_reusing(v, prev));
    }
    // Write-only arguments are never read back: the planned value, else the one recorded before.
    for attr in kind.schema().attrs.iter().filter(|a| a.write_only) {
        if attributes.contains_key(attr.name) || secret_digests.contains_key(attr.name) {
            continue;
        }
        let kept = planned
            .and_then(|p| p.get(attr.name))
            .filter(|v| !v.is_unknown() && !v.contains_sensitive())
            .or_else(|| previous.and_then(|p| p.attributes.get(attr.name)));
        if let Some(v) = kept {
            attributes.insert(attr.name.into(), v.deep_unmarked());
        }
    }
    ResourceState {
        attributes,
        create_before_destroy,
        dependencies: dependencies.into_iter().collect(),
        deposed: previous.map(|p| p.deposed.clone()).unwrap_or_default(),
        id: id.to_string(),
        mode: Mode::Managed,
        origin,
        ownership_tags,
        provider_alias: provider_alias.map(str::to_string),
        region: region.to_string(),
        secret_digests,
        tainted: false,
        type_name: kind.type_name().to_string(),
    }
}
