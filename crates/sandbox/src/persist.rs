//! Durable persistence of the world to the data file.
//!
//! Every committed change bumps the world's generation. A single writer task snapshots the world (under the
//! lock), writes it to a temporary file in the same directory, fsyncs it, renames it over the data file and
//! fsyncs the directory. A request that changed the world is acknowledged only once a snapshot at least as new
//! as its change is durable; concurrent writers are batched into one write, so a burst of requests costs a few
//! fsyncs, not one each.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::{watch, Notify};

/// The newest generation written (or that failed to be written).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Durable {
    pub written: u64,
    pub failed: u64,
}

#[derive(Debug)]
pub(crate) struct Persister {
    pub path: PathBuf,
    wake: Notify,
    durable: watch::Sender<Durable>,
}

impl Persister {
    pub fn new(path: PathBuf, written: u64) -> Self {
        let (durable, _) = watch::channel(Durable { written, failed: 0 });
        Persister {
            path,
            wake: Notify::new(),
            durable,
        }
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
        let path = self.path.clone();
        let result = tokio::task::spawn_blocking(move || write_atomic(&path, &snapshot))
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
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
