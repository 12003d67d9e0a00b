//! Where a state lives: the interface the engine and the command line use, whatever the storage.
//!
//! A [`StateBackend`] reads and writes one state (refusing to overwrite a newer serial or another
//! lineage), keeps its journal of operations in flight, and hands out its lock. Two implementations:
//!
//! - [`LocalBackend`]: the state file, its `<path>.journal` and its `<path>.lock` (an OS lock), as
//!   tunnelform always did;
//! - the PostgreSQL backend (crate `tunnelform-state-pg`): one row per resource, the journal in a
//!   table written in the same transactions, a session advisory lock and a row naming its holder.
//!
//! Reads and writes are blocking calls (the local backend fsyncs; the PostgreSQL backend waits for
//! its connection's thread): they are made where a blocking fsync was acceptable before. Taking the
//! lock is asynchronous, because it may wait for another holder (the local lock waits through
//! `StateLock`'s asynchronous wait).

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use crate::file::{StateError, StateFile};
use crate::journal::{Journal, JournalError, Record};
use crate::lock::{LockError, LockInfo, LockRecord, StateLock};
use crate::state::State;

/// A boxed future, for the asynchronous methods of the (object-safe) backend traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a backend could not read or write. Each case shows its cause's message and keeps the cause
/// as its source (so a caller can still find, say, the [`StateError`] in the chain).
#[derive(Debug)]
pub enum BackendError {
    State(Box<StateError>),
    Journal(Box<JournalError>),
    Lock(Box<LockError>),
    /// A backend's own failure (its message says what, where and how to fix it; never a secret).
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackendError::State(e) => e.fmt(f),
            BackendError::Journal(e) => e.fmt(f),
            BackendError::Lock(e) => e.fmt(f),
            BackendError::Other(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BackendError::State(e) => Some(e.as_ref()),
            BackendError::Journal(e) => Some(e.as_ref()),
            BackendError::Lock(e) => Some(e.as_ref()),
            BackendError::Other(e) => e.source(),
        }
    }
}

impl From<StateError> for BackendError {
    fn from(e: StateError) -> Self {
        BackendError::State(Box::new(e))
    }
}

impl From<JournalError> for BackendError {
    fn from(e: JournalError) -> Self {
        BackendError::Journal(Box::new(e))
    }
}

impl From<LockError> for BackendError {
    fn from(e: LockError) -> Self {
        BackendError::Lock(Box::new(e))
    }
}

/// Called once, with the holder, when a lock is found held and the caller is going to wait.
pub type OnWait<'a> = Box<dyn FnMut(Option<&LockRecord>) + Send + 'a>;

/// A held state lock. Dropping it releases the lock too (errors are then only logged).
pub trait HeldLock: Send + Sync {
    /// Who holds it: this process's record (its lock id, operation, since when).
    fn record(&self) -> &LockRecord;
    /// Releases the lock, reporting errors.
    fn unlock(self: Box<Self>) -> BoxFuture<'static, Result<(), BackendError>>;
}

/// One state and its journal and lock, wherever they are kept.
pub trait StateBackend: Send + Sync {
    /// How messages name the state (`state/x.tfstate.json`, `pg:tunnelform/default`).
    fn name(&self) -> String;

    /// Whether a state was ever written here.
    fn exists(&self) -> Result<bool, BackendError>;

    /// Reads the state (an empty state with a fresh lineage when none was written yet).
    fn load(&self) -> Result<State, BackendError>;

    /// A quick look at the objects the state names, taken before [`StateBackend::load`] parses
    /// it, so that their refresh can start meanwhile (see [`crate::peek`]: a hint, never the
    /// state). `None` when the storage cannot tell cheaply or holds no state. The PostgreSQL
    /// backend answers from the rows its lock read, and keeps them for the `load` that follows.
    fn peek(&self) -> Option<crate::peek::Peeked> {
        None
    }

    /// Writes `state`, incrementing its serial. Refuses another lineage and a newer serial than
    /// `state`'s (someone else wrote since it was read). Writes only what changed since the last
    /// load or save through this backend where the storage allows it. On error `state` is unchanged.
    fn save(&self, state: &mut State) -> Result<(), BackendError>;

    /// Writes `state` as it is, with its own lineage and serial (`state push`, migrations between
    /// backends). Refuses to replace a state of another lineage or a newer serial, and a different
    /// state with the same serial.
    fn replace(&self, state: &State) -> Result<(), BackendError>;

    /// The journal's records (for recovery and to check a record may be appended).
    fn journal(&self) -> Result<Journal, BackendError>;

    /// Appends a record durably.
    fn append(&self, record: &Record) -> Result<(), BackendError>;

    /// Appends records durably, in order (the local journal: one write and one fsync for all).
    fn append_all(&self, records: &[Record]) -> Result<(), BackendError> {
        records.iter().try_for_each(|r| self.append(r))
    }

    /// Saves `state` (when given) and drops from the journal the operations the state now holds:
    /// all of them, or all but the unfinished ones when `keep_unfinished`. The PostgreSQL backend
    /// does both in one transaction.
    fn settle(&self, state: Option<&mut State>, keep_unfinished: bool) -> Result<(), BackendError>;

    /// Takes the lock: fails at once naming the holder when `timeout` is `None` or zero, else waits
    /// up to `timeout` (calling `on_wait` once before waiting).
    fn lock<'a>(
        &'a self,
        info: LockInfo,
        timeout: Option<Duration>,
        on_wait: OnWait<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn HeldLock>, BackendError>>;

    /// Who holds the lock now, if anyone.
    fn lock_holder(&self) -> BoxFuture<'_, Result<Option<LockRecord>, BackendError>>;

    /// Clears the record of a lock whose holder is gone, if its id is `lock_id`.
    fn force_unlock<'a>(
        &'a self,
        lock_id: &'a str,
    ) -> BoxFuture<'a, Result<LockRecord, BackendError>>;
}

/// The state file, its journal and its lock file, side by side (the default backend).
#[derive(Debug)]
pub struct LocalBackend {
    file: StateFile,
    /// The journal, opened on first use and kept (an append checks the records read so far).
    journal: Mutex<Option<Journal>>,
}

impl LocalBackend {
    pub fn new(file: StateFile) -> LocalBackend {
        LocalBackend {
            file,
            journal: Mutex::new(None),
        }
    }

    /// The backend of `file` with its journal already open.
    pub fn with_journal(file: StateFile, journal: Journal) -> LocalBackend {
        LocalBackend {
            file,
            journal: Mutex::new(Some(journal)),
        }
    }

    fn journal_do<T>(
        &self,
        f: impl FnOnce(&mut Journal) -> Result<T, JournalError>,
    ) -> Result<T, BackendError> {
        let mut g = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        if g.is_none() {
            *g = Some(Journal::open(self.file.path())?);
        }
        match g.as_mut() {
            Some(j) => Ok(f(j)?),
            None => Err(BackendError::Other("the journal is not open".into())),
        }
    }

    pub fn open(path: impl AsRef<std::path::Path>) -> Result<LocalBackend, BackendError> {
        Ok(LocalBackend::new(StateFile::open(path)?))
    }

    pub fn file(&self) -> &StateFile {
        &self.file
    }
}

struct LocalLock(Option<StateLock>);

impl HeldLock for LocalLock {
    fn record(&self) -> &LockRecord {
        // Always Some until unlock consumes it.
        self.0.as_ref().map(StateLock::record).expect("held lock")
    }

    fn unlock(mut self: Box<Self>) -> BoxFuture<'static, Result<(), BackendError>> {
        let lock = self.0.take();
        Box::pin(async move {
            match lock {
                Some(l) => l.release().map_err(BackendError::from),
                None => Ok(()),
            }
        })
    }
}

impl StateBackend for LocalBackend {
    fn name(&self) -> String {
        self.file.path().display().to_string()
    }

    fn exists(&self) -> Result<bool, BackendError> {
        Ok(self.file.path().exists())
    }

    fn load(&self) -> Result<State, BackendError> {
        Ok(self.file.load()?)
    }

    fn peek(&self) -> Option<crate::peek::Peeked> {
        crate::peek::peek(self.file.path())
    }

    fn save(&self, state: &mut State) -> Result<(), BackendError> {
        Ok(self.file.save(state)?)
    }

    fn replace(&self, state: &State) -> Result<(), BackendError> {
        if self.file.path().exists() {
            let current = self.file.load()?;
            check_replace(&self.name(), &current, state)?;
            if current == *state {
                return Ok(());
            }
        }
        // `save` writes serial + 1: start one below so the file gets the state's own serial.
        let mut copy = state.clone();
        let Some(below) = copy.serial.checked_sub(1) else {
            return Err(BackendError::Other(
                "a state with serial 0 has never been saved: there is nothing to write".into(),
            ));
        };
        copy.serial = below;
        self.file.save(&mut copy)?;
        Ok(())
    }

    fn journal(&self) -> Result<Journal, BackendError> {
        Ok(Journal::open(self.file.path())?)
    }

    fn append(&self, record: &Record) -> Result<(), BackendError> {
        self.journal_do(|j| j.append(record))
    }

    fn append_all(&self, records: &[Record]) -> Result<(), BackendError> {
        self.journal_do(|j| j.append_all(records))
    }

    fn settle(&self, state: Option<&mut State>, keep_unfinished: bool) -> Result<(), BackendError> {
        if let Some(s) = state {
            self.file.save(s)?;
        }
        self.journal_do(|j| {
            if keep_unfinished && !j.unfinished().is_empty() {
                j.compact()
            } else {
                j.clear()
            }
        })
    }

    fn lock<'a>(
        &'a self,
        info: LockInfo,
        timeout: Option<Duration>,
        mut on_wait: OnWait<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn HeldLock>, BackendError>> {
        Box::pin(async move {
            let lock =
                StateLock::acquire_with(self.file.path(), info, timeout, move |h| on_wait(h))
                    .await?;
            Ok(Box::new(LocalLock(Some(lock))) as Box<dyn HeldLock>)
        })
    }

    fn lock_holder(&self) -> BoxFuture<'_, Result<Option<LockRecord>, BackendError>> {
        Box::pin(async move { Ok(crate::lock::lock_holder(self.file.path())?) })
    }

    fn force_unlock<'a>(
        &'a self,
        lock_id: &'a str,
    ) -> BoxFuture<'a, Result<LockRecord, BackendError>> {
        Box::pin(async move { Ok(crate::lock::force_unlock(self.file.path(), lock_id)?) })
    }
}

/// Why `replace` refuses to write `incoming` over `current` (`name` names the destination).
#[derive(Debug, thiserror::Error)]
pub enum ReplaceError {
    #[error("refusing to overwrite {name}: it holds a different state (lineage {current}; the state given has lineage {incoming}). Move it aside first if it is not needed, or write the state elsewhere")]
    Lineage {
        name: String,
        current: String,
        incoming: String,
    },
    #[error("refusing to overwrite {name}: it holds a newer version of this state (serial {current}; the state given has serial {incoming}). Pull the newer state instead")]
    Older {
        name: String,
        current: u64,
        incoming: u64,
    },
    #[error("refusing to overwrite {name}: it holds serial {serial} of this state with other contents than the state given (same lineage and serial); one of them was edited by hand")]
    Diverged { name: String, serial: u64 },
}

/// Checks that `incoming` may replace `current` at `name`: same lineage (or `current` empty and
/// never really used), and not older.
pub fn check_replace(name: &str, current: &State, incoming: &State) -> Result<(), ReplaceError> {
    if current.lineage != incoming.lineage {
        return Err(ReplaceError::Lineage {
            name: name.to_string(),
            current: current.lineage.clone(),
            incoming: incoming.lineage.clone(),
        });
    }
    if current.serial > incoming.serial {
        return Err(ReplaceError::Older {
            name: name.to_string(),
            current: current.serial,
            incoming: incoming.serial,
        });
    }
    if current.serial == incoming.serial
        && (current.resources != incoming.resources
            || current.outputs != incoming.outputs
            || current.cloud != incoming.cloud)
    {
        return Err(ReplaceError::Diverged {
            name: name.to_string(),
            serial: current.serial,
        });
    }
    Ok(())
}

impl From<ReplaceError> for BackendError {
    fn from(e: ReplaceError) -> Self {
        BackendError::Other(Box::new(e))
    }
}
