//! Durable persistence of the world to the data file.
//!
//! Every committed change bumps the world's generation. A single writer task snapshots the world (under the
//! lock), writes it to a temporary file in the same directory, fsyncs it, renames it over the data file and
//! fsyncs the directory. A request that changed the world is acknowledged only once a snapshot at least as new
//! as its change is durable; concurrent writers are batched into one write, so a burst of requests costs a few
//! fsyncs, not one each.
//!
//! One sandbox at a time serves a data file: it holds an exclusive lock on `<data file>.lock` from before it
//! reads the file until its last write ([`DataLock`]). Without it, two sandboxes started on one file (two
//! `tunnelform ... --sandbox` runs in one directory) would each load the same world and then overwrite each
//! other's changes.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{watch, Notify};

/// The newest generation written (or that failed to be written).
#[derive(Debug, Clone, Copy, Default)]
pub struct Durable {
    pub written: u64,
    pub failed: u64,
}

#[derive(Debug)]
pub struct Persister {
    pub path: PathBuf,
    wake: Notify,
    durable: watch::Sender<Durable>,
    /// The data file's lock, held until [`Persister::release`]; every write happens under this mutex with
    /// the lock still held, so nothing is written once it is released.
    lock: Mutex<Option<DataLock>>,
}

impl Persister {
    pub fn new(path: PathBuf, written: u64, lock: DataLock) -> Self {
        let (durable, _) = watch::channel(Durable { written, failed: 0 });
        Persister {
            path,
            wake: Notify::new(),
            durable,
            lock: Mutex::new(Some(lock)),
        }
    }

    /// Releases the data file's lock once a write in progress (if any) has finished; later writes fail.
    pub fn release(&self) {
        *self.lock.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Asks the writer to write the current generation (without waiting).
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// Waits until generation `gen` is durable. False when writing it failed.
    pub async fn wait_durable(&self, gen: u64) -> bool {
        let mut rx = self.durable.subscribe();
        self.wake.notify_one();
        let durable = match rx.wait_for(|d| d.written >= gen || d.failed >= gen).await {
            Ok(d) => d.written >= gen,
            Err(_) => false,
        };
        durable
    }

    pub fn written(&self) -> u64 {
        self.durable.borrow().written
    }

    /// Runs one write of `snapshot` (taken at `gen`) and publishes the outcome.
    pub async fn write(self: &Arc<Self>, gen: u64, snapshot: Vec<u8>) -> std::io::Result<()> {
        let me = self.clone();
        let result = tokio::task::spawn_blocking(move || {
            let held = me.lock.lock().unwrap_or_else(PoisonError::into_inner);
            if held.is_none() {
                return Err(std::io::Error::other(
                    "the sandbox was stopped: it no longer holds the data file's lock",
                ));
            }
            write_atomic(&me.path, &snapshot)
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        match &result {
            Ok(()) => self.durable.send_modify(|d| d.written = d.written.max(gen)),
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "cannot write the sandbox data file");
                self.durable.send_modify(|d| d.failed = d.failed.max(gen));
            }
        }
        result
    }

    /// Waits for a poke.
    pub async fn poked(&self) {
        self.wake.notified().await;
    }
}

/// Writes `bytes` to `path` atomically: temporary file in the same directory, fsync, rename, fsync directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sandbox.json".to_string());
    let tmp = dir.join(format!(".{file_name}.tmp"));
    {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // The file holds pre-shared keys.
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    #[cfg(unix)]
    File::open(&dir)?.sync_all()?;
    Ok(())
}

/// The exclusive lock on a data file, held for the whole life of the sandbox serving it.
///
/// It is an OS advisory lock (`flock(2)` through [`File::try_lock`]) on `<data file>.lock`, not on the data
/// file itself (which every write replaces by a rename). The kernel releases it when the holder's file is
/// closed, including when the process is killed, so a crash never leaves a stale lock. While held, the
/// lock file records who holds it (one line of text), so a second sandbox can say who is in the way. The
/// lock file is never deleted (that would let two processes lock two different files under one name).
#[derive(Debug)]
pub struct DataLock {
    file: File,
}

impl Drop for DataLock {
    fn drop(&mut self) {
        // Still locked here: the record goes before the lock does (best effort; it is only read while held).
        let _ = self.file.set_len(0);
    }
}

/// `<data file>.lock`.
pub fn data_lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Why the data file's lock was not taken.
#[derive(Debug)]
pub enum DataLockError {
    /// Another open file description holds it; its record, when it has written one.
    Held(Option<String>),
    Io(std::io::Error),
}

/// Takes the lock of the data file at `path` without waiting, recording `holder` in the lock file.
pub fn lock_data_file(path: &Path, holder: &str) -> Result<DataLock, DataLockError> {
    let lock_path = data_lock_path(path);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(DataLockError::Io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let record = fs::read_to_string(&lock_path)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            return Err(DataLockError::Held(record));
        }
        Err(fs::TryLockError::Error(e)) => return Err(DataLockError::Io(e)),
    }
    use std::io::{Seek, SeekFrom};
    file.set_len(0).map_err(DataLockError::Io)?;
    file.seek(SeekFrom::Start(0)).map_err(DataLockError::Io)?;
    file.write_all(format!("{holder}\n").as_bytes())
        .map_err(DataLockError::Io)?;
    Ok(DataLock { file })
}
