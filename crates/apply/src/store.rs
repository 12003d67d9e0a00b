//! The state being applied: shared by the workers, saved atomically as steps complete.
//!
//! Every completed step is first recorded durably in the journal (one small fsynced append, or one
//! insert with the PostgreSQL backend); the state itself is saved at most every `save_interval`
//! (and always at the end), because rewriting a large state after each of thousands of steps would
//! cost more than the work itself (the PostgreSQL backend writes only the resources that changed).
//! Together they lose nothing: what the saved state does not have yet, the journal does.
//!
//! This is where the engine meets the [`StateBackend`]: the local files or PostgreSQL.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// The state and the backend keeping it (with its journal).
#[derive(Clone)]
pub struct StateStore {
    inner: Arc<Mutex<Inner>>,
    backend: Arc<dyn StateBackend>,
    save_interval: Duration,
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
        }
    }

    pub fn with_save_interval(mut self, d: Duration) -> Self {
        self.save_interval = d;
        self
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
    let mut attributes = BTreeMap::new();
    let mut secret_digests = BTreeMap::new();
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
            let prev = previous.and_then(|p| p.secret_digests.get(k));
            secret_digests.insert(
                k.clone(),
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
            attributes.insert(attr.name.to_string(), v.deep_unmarked());
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
