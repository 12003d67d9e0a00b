//! The state lock: one writer at a time.
//!
//! The lock is an OS advisory lock (`flock(2)`, through `std::fs::File::try_lock`) on `<state>.lock`.
//! The kernel drops it when the holder's file is closed, including when the process is killed with
//! SIGKILL, so a crashed run never leaves a stale lock behind. While held, the file also records who
//! holds it (lock id, user@host, pid, operation, since when) as one JSON object, so a second writer can
//! say who is in the way.
//!
//! flock belongs to an open file description: two handles opened separately conflict even inside one
//! process, which is what the tests use. The lock file itself is never deleted (deleting it would let
//! two processes lock two different files under the same name); it is emptied on release.
//!
//! Waiting for a holder is asynchronous (on [`tunnelform_wait`], tokio's timers): [`StateLock::acquire`]
//! never blocks a runtime thread.
//!
//! Limits: on a network filesystem flock is only as good as the server's lock support.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tunnelform_wait::{Instant, Schedule, Wait, WaitError};

use crate::fsutil;
use crate::state::TUNNELFORM_VERSION;
use crate::timestamp::Timestamp;

/// What a lock taker says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInfo {
    /// The command taking the lock (`apply`, `destroy`, `import`...).
    pub operation: String,
    /// `user@host`.
    pub who: String,
    /// The tunnelform version.
    pub version: String,
}

impl LockInfo {
    /// Info for `operation`, with `who` from the environment ([`current_who`]) and this version.
    pub fn new(operation: impl Into<String>) -> LockInfo {
        LockInfo {
            operation: operation.into(),
            who: current_who(),
            version: TUNNELFORM_VERSION.to_string(),
        }
    }
}

/// `user@host` for this process, from `USER`/`USERNAME`/`LOGNAME` and the host name (best effort).
pub fn current_who() -> String {
    let user = ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_string());
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown-host".to_string());
    format!("{user}@{host}")
}

/// The holder's record, as written in the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRecord {
    pub created: Timestamp,
    /// A UUID naming this acquisition (what `force-unlock` takes).
    pub id: String,
    pub operation: String,
    /// The state file the lock protects.
    pub path: String,
    pub pid: u32,
    pub version: String,
    pub who: String,
}

impl std::fmt::Display for LockRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (pid {}, tunnelform {}), operation {:?}, since {}, lock id {}",
            self.who, self.pid, self.version, self.operation, self.created, self.id
        )
    }
}

fn holder_text(holder: &Option<Box<LockRecord>>) -> String {
    match holder {
        Some(h) => h.to_string(),
        None => "another process (it has not recorded its details yet)".to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("the state {} is locked by {}. Wait for that run to finish, or retry with a lock timeout to wait for it", state.display(), holder_text(holder))]
    Held {
        state: PathBuf,
        holder: Option<Box<LockRecord>>,
    },

    #[error("timed out after {:.1}s waiting for the lock on the state {}, held by {}", waited.as_secs_f64(), state.display(), holder_text(holder))]
    Timeout {
        state: PathBuf,
        waited: Duration,
        holder: Option<Box<LockRecord>>,
    },

    #[error("the state {} is not locked (no lock is recorded in {})", state.display(), fsutil::lock_path(state).display())]
    NotLocked { state: PathBuf },

    #[error("lock id {given} does not match the lock on the state {}, which is held by {holder}", state.display())]
    WrongId {
        state: PathBuf,
        given: String,
        holder: Box<LockRecord>,
    },

    #[error("cannot force-unlock the state {}: the lock is held by a running process: {holder}. Stop that process (the operating system releases its lock when it exits, even if it is killed) and try again", state.display())]
    StillHeld {
        state: PathBuf,
        holder: Box<LockRecord>,
    },

    #[error("cannot {op} the lock file {}: {cause}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        cause: io::Error,
    },
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> LockError + 'a {
    move |cause| LockError::Io {
        op,
        path: path.to_path_buf(),
        cause,
    }
}

/// A held state lock; dropping it releases the lock.
#[derive(Debug)]
pub struct StateLock {
    file: File,
    lock_path: PathBuf,
    record: LockRecord,
    released: bool,
}

/// What one attempt at the OS lock found.
enum Attempt {
    Acquired,
    /// Held by another open file; its holder's record, if it has written one yet.
    Held(Option<Box<LockRecord>>),
}

fn try_lock_once(file: &File, lock_path: &Path) -> Result<Attempt, LockError> {
    match file.try_lock() {
        Ok(()) => Ok(Attempt::Acquired),
        Err(TryLockError::WouldBlock) => Ok(Attempt::Held(read_record(lock_path).map(Box::new))),
        Err(TryLockError::Error(e)) => Err(LockError::Io {
            op: "lock",
            path: lock_path.to_path_buf(),
            cause: e,
        }),
    }
}

/// A holder writes its record just after it takes the lock: a lock found held without a record is
/// given this long to show who holds it (and may be released meanwhile).
const RECORD_GRACE: Duration = Duration::from_secs(1);

impl StateLock {
    /// Takes the lock on `state_path`. With `timeout` `None` (or zero), fails at once with
    /// [`LockError::Held`] naming the holder; otherwise waits (asynchronously: the runtime thread is
    /// never blocked) until the timeout, then fails with [`LockError::Timeout`].
    pub async fn acquire(
        state_path: &Path,
        info: LockInfo,
        timeout: Option<Duration>,
    ) -> Result<StateLock, LockError> {
        StateLock::acquire_with(state_path, info, timeout, |_| {}).await
    }

    /// Like [`StateLock::acquire`], calling `on_wait` once with the holder when the lock is found held
    /// and the call is going to wait (so a caller can say "waiting for the lock held by ...").
    pub async fn acquire_with(
        state_path: &Path,
        info: LockInfo,
        timeout: Option<Duration>,
        on_wait: impl FnOnce(Option<&LockRecord>),
    ) -> Result<StateLock, LockError> {
        let lock_path = fsutil::lock_path(state_path);
        let dir = fsutil::parent_dir(&lock_path);
        fs::create_dir_all(&dir).map_err(io("create the directory of", &lock_path))?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io("open", &lock_path))?;
        let start = Instant::now();
        let timeout = timeout.filter(|t| !t.is_zero());
        let attempt = || std::future::ready(try_lock_once(&file, &lock_path));
        // First: at once, then every 20 ms while the holder has not written its record yet.
        let found = Wait::new(Schedule {
            first: Duration::ZERO,
            then: Duration::from_millis(20),
            factor: 1.0,
            max: Duration::from_millis(20),
        })
        .deadline(start + RECORD_GRACE)
        .until(|_| attempt(), |a| !matches!(a, Attempt::Held(None)))
        .await;
        let holder = match found {
            Ok(Attempt::Acquired) => None,
            Ok(Attempt::Held(h))
            | Err(WaitError::TimedOut {
                last: Attempt::Held(h),
                ..
            }) => Some(h),
            Err(WaitError::TimedOut {
                last: Attempt::Acquired,
                ..
            }) => None,
            Err(WaitError::Failed(e)) => return Err(e),
        };
        if let Some(holder) = holder {
            let Some(limit) = timeout else {
                return Err(LockError::Held {
                    state: state_path.to_path_buf(),
                    holder,
                });
            };
            let waited = start.elapsed();
            if waited >= limit {
                return Err(LockError::Timeout {
                    state: state_path.to_path_buf(),
                    waited,
                    holder,
                });
            }
            on_wait(holder.as_deref());
            // Then: every 10 ms, 20 ms... up to 250 ms, until the lock is free or the timeout.
            let freed = Wait::new(Schedule {
                first: Duration::from_millis(10),
                then: Duration::from_millis(20),
                factor: 2.0,
                max: Duration::from_millis(250),
            })
            .deadline(start + limit)
            .until(|_| attempt(), |a| matches!(a, Attempt::Acquired))
            .await;
            match freed {
                Ok(_)
                | Err(WaitError::TimedOut {
                    last: Attempt::Acquired,
                    ..
                }) => {}
                Err(WaitError::TimedOut {
                    last: Attempt::Held(holder),
                    ..
                }) => {
                    return Err(LockError::Timeout {
                        state: state_path.to_path_buf(),
                        waited: start.elapsed(),
                        holder,
                    });
                }
                Err(WaitError::Failed(e)) => return Err(e),
            }
        }
        let record = LockRecord {
            created: Timestamp::now(),
            id: uuid::Uuid::new_v4().to_string(),
            operation: info.operation,
            path: state_path.display().to_string(),
            pid: std::process::id(),
            version: info.version,
            who: info.who,
        };
        let lock = StateLock {
            file,
            lock_path,
            record,
            released: false,
        };
        lock.write_record()?;
        tracing::debug!(lock_id = %lock.record.id, path = %lock.lock_path.display(), "state lock acquired");
        Ok(lock)
    }

    fn write_record(&self) -> Result<(), LockError> {
        let mut json = serde_json::to_vec(&self.record).unwrap_or_default();
        json.push(b'\n');
        let mut f = &self.file;
        f.set_len(0).map_err(io("clear", &self.lock_path))?;
        f.seek(SeekFrom::Start(0))
            .map_err(io("write", &self.lock_path))?;
        f.write_all(&json).map_err(io("write", &self.lock_path))?;
        Ok(())
    }

    /// The id `force_unlock` would need.
    pub fn id(&self) -> &str {
        &self.record.id
    }

    pub fn record(&self) -> &LockRecord {
        &self.record
    }

    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }

    /// Releases the lock, reporting errors (dropping the guard releases too, only logging them).
    pub fn release(mut self) -> Result<(), LockError> {
        self.released = true;
        self.clear_and_unlock()
    }

    fn clear_and_unlock(&self) -> Result<(), LockError> {
        self.file.set_len(0).map_err(io("clear", &self.lock_path))?;
        self.file.unlock().map_err(io("unlock", &self.lock_path))?;
        tracing::debug!(lock_id = %self.record.id, "state lock released");
        Ok(())
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        if !self.released {
            if let Err(e) = self.clear_and_unlock() {
                // Closing the file below releases the OS lock anyway.
                tracing::warn!(error = %e, "releasing the state lock");
            }
        }
    }
}

/// The recorded holder in `lock_path`, if any can be read.
fn read_record(lock_path: &Path) -> Option<LockRecord> {
    let mut text = String::new();
    File::open(lock_path)
        .ok()?
        .take(64 * 1024)
        .read_to_string(&mut text)
        .ok()?;
    if text.trim().is_empty() {
        return None;
    }
    match serde_json::from_str(text.trim()) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::debug!(error = %e, path = %lock_path.display(), "unreadable lock record");
            None
        }
    }
}

/// Who holds the lock on `state_path` right now, if anyone (the record of a holder that died without
/// releasing is not reported: its lock is already gone).
pub fn lock_holder(state_path: &Path) -> Result<Option<LockRecord>, LockError> {
    let lock_path = fsutil::lock_path(state_path);
    let file = match OpenOptions::new().read(true).write(true).open(&lock_path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(LockError::Io {
                op: "open",
                path: lock_path,
                cause: e,
            })
        }
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            Ok(None)
        }
        Err(TryLockError::WouldBlock) => Ok(read_record(&lock_path)),
        Err(TryLockError::Error(e)) => Err(LockError::Io {
            op: "lock",
            path: lock_path,
            cause: e,
        }),
    }
}

/// Clears the lock recorded on `state_path` if its id is `lock_id`, and returns the record cleared.
///
/// Refuses a wrong id ([`LockError::WrongId`]) and a state with no recorded lock. Because the lock is
/// an OS lock, a lock whose holder died is already free and this only clears its record; a lock whose
/// holder is still running cannot be broken from outside ([`LockError::StillHeld`]): stop that process.
pub fn force_unlock(state_path: &Path, lock_id: &str) -> Result<LockRecord, LockError> {
    let lock_path = fsutil::lock_path(state_path);
    let not_locked = || LockError::NotLocked {
        state: state_path.to_path_buf(),
    };
    let file = match OpenOptions::new().read(true).write(true).open(&lock_path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_locked()),
        Err(e) => {
            return Err(LockError::Io {
                op: "open",
                path: lock_path,
                cause: e,
            })
        }
    };
    let Some(holder) = read_record(&lock_path) else {
        return Err(not_locked());
    };
    if holder.id != lock_id {
        return Err(LockError::WrongId {
            state: state_path.to_path_buf(),
            given: lock_id.to_string(),
            holder: Box::new(holder),
        });
    }
    match file.try_lock() {
        Ok(()) => {
            // Re-check under the lock: the record may have changed since it was read.
            let current = read_record(&lock_path);
            if current.as_ref().map(|r| r.id.as_str()) != Some(lock_id) {
                let _ = file.unlock();
                return match current {
                    Some(h) => Err(LockError::WrongId {
                        state: state_path.to_path_buf(),
                        given: lock_id.to_string(),
                        holder: Box::new(h),
                    }),
                    None => Err(not_locked()),
                };
            }
            let cleared = file.set_len(0).map_err(io("clear", &lock_path));
            let _ = file.unlock();
            cleared?;
            tracing::info!(lock_id, "cleared the record of a lock whose holder is gone");
            Ok(holder)
        }
        Err(TryLockError::WouldBlock) => Err(LockError::StillHeld {
            state: state_path.to_path_buf(),
            holder: Box::new(holder),
        }),
        Err(TryLockError::Error(e)) => Err(LockError::Io {
            op: "lock",
            path: lock_path,
            cause: e,
        }),
    }
}
