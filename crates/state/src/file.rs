//! Loading and saving the state file atomically, with the previous version kept as a backup.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::fsutil::{self, io_err, FileId, IoFailure};
use crate::state::{ParseError, State, WriteError, TUNNELFORM_VERSION};

/// A state file on disk: `<path>`, with `<path>.backup` (the previous version), `<path>.lock` and
/// `<path>.journal` beside it.
///
/// Writers should hold a [`crate::StateLock`] on the same path while they load, change and save.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
    replace_unreadable: bool,
    /// The file as this handle (or a clone of it) last loaded or saved it; see [`Seen`].
    seen: Arc<Mutex<Option<Seen>>>,
}

/// The state file as last loaded or saved through a [`StateFile`]: which file it was and the
/// lineage and serial it held. A save that finds that same file on disk (same [`FileId`]) knows
/// its lineage and serial without reading and parsing it again (at 10,000 tunnels, a 25 MB
/// document). Anything else on disk is read and checked in full.
#[derive(Debug, Clone)]
struct Seen {
    id: FileId,
    lineage: String,
    serial: u64,
}

/// Errors reading or writing the state file. Each message says what is wrong and how to recover.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot {op} {}: {cause}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        cause: io::Error,
    },

    /// The file exists but is not a state this tunnelform can read (`cause` says why: truncated,
    /// corrupt, future version, a Terraform or other foreign file).
    #[error("cannot read the state file {}: {cause}.\n{hint}", path.display())]
    Unreadable {
        path: PathBuf,
        cause: ParseError,
        hint: String,
    },

    /// `save` found a file it cannot read where it would write, and the caller did not decide to
    /// replace it.
    #[error("refusing to overwrite {}: the file there is not a readable tunnelform state ({cause}).\n{hint}", path.display())]
    WouldOverwriteUnreadable {
        path: PathBuf,
        cause: ParseError,
        hint: String,
    },

    #[error("refusing to write the state: {0}")]
    Invalid(#[from] WriteError),

    #[error("refusing to write {}: the file there belongs to a different state (lineage {on_disk}; this run read lineage {ours}). Another configuration may use the same state path; check --state", path.display())]
    LineageMismatch {
        path: PathBuf,
        on_disk: String,
        ours: String,
    },

    #[error("refusing to write {}: someone else saved it since it was read (serial {on_disk} on disk, {ours} when read). Run the command again so it starts from the current state", path.display())]
    StaleSerial {
        path: PathBuf,
        on_disk: u64,
        ours: u64,
    },

    #[error("the state file {} does not exist, but its backup {} does. If the state file was deleted by mistake, restore it with `cp {} {}`; to start from an empty state, delete the backup too", path.display(), backup.display(), backup.display(), path.display())]
    MissingWithBackup { path: PathBuf, backup: PathBuf },

    #[error("{} is a directory; --state must name a file", path.display())]
    IsDirectory { path: PathBuf },
}

impl From<IoFailure> for StateError {
    fn from(f: IoFailure) -> Self {
        StateError::Io {
            op: f.op,
            path: f.path,
            cause: f.cause,
        }
    }
}

impl StateError {
    /// Why the file could not be read, for the unreadable-file errors.
    pub fn parse_error(&self) -> Option<&ParseError> {
        match self {
            StateError::Unreadable { cause, .. }
            | StateError::WouldOverwriteUnreadable { cause, .. } => Some(cause),
            _ => None,
        }
    }
}

/// How to recover from an unreadable file at `path`. Each hint names the file, says that tunnelform
/// will not overwrite it, and, when `<path>.backup` exists, how to check and restore it.
fn recovery_hint(path: &Path, cause: &ParseError) -> String {
    let backup = fsutil::backup_path(path);
    let p = path.display();
    let b = backup.display();
    let check_and_restore = format!(
        "check it with `tunnelform state list --state {b}`, then restore it with `cp {b} {p}`"
    );
    let has_backup = backup.is_file();
    match cause {
        ParseError::Terraform { .. } | ParseError::Foreign { .. } => {
            let what = if matches!(cause, ParseError::Terraform { .. }) {
                format!(
                    "To manage these resources with tunnelform, convert it with `tunnelform state migrate-terraform {p}` and use the state it writes."
                )
            } else {
                "Check that --state (or the backend \"local\" path) names a tunnelform state file."
                    .to_string()
            };
            let mut hint = format!("{what} tunnelform will not overwrite {p}.");
            if has_backup {
                hint.push_str(&format!(
                    " If this file replaced your tunnelform state by mistake, the previous state is kept in {b}: {check_and_restore}."
                ));
            }
            hint
        }
        ParseError::FutureVersion { written_by, .. } => {
            let mut hint = format!(
                "Upgrade tunnelform{} to use this state. This version will not overwrite {p}.",
                written_by
                    .as_ref()
                    // A file that names this very version was edited by hand: no version to suggest.
                    .filter(|v| v.as_str() != TUNNELFORM_VERSION)
                    .map(|v| format!(" to {v} or later"))
                    .unwrap_or_default()
            );
            if has_backup {
                hint.push_str(&format!(
                    " {b} holds the version before the last save; restore it (`cp {b} {p}`) only if that save was a mistake: it does not record what the newer tunnelform changed since."
                ));
            }
            hint
        }
        _ => {
            if has_backup {
                format!(
                    "tunnelform will not overwrite it. The previous version is kept in {b}: {check_and_restore}, or restore {p} from version control."
                )
            } else {
                format!(
                    "tunnelform will not overwrite it. There is no backup at {b}; restore {p} from version control or your own backups."
                )
            }
        }
    }
}

/// The file's bytes, and which file they were read from (taken before the read: a write during
/// the read changes the file's identity, so it is not mistaken later for what was read).
fn read_with_id(path: &Path) -> io::Result<(Vec<u8>, Option<FileId>)> {
    use std::io::Read;
    let mut f = fs::File::open(path)?;
    let meta = f.metadata()?;
    let id = FileId::of(&meta);
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
    f.read_to_end(&mut bytes)?;
    Ok((bytes, id))
}

impl StateFile {
    /// A handle on the state file at `path` (nothing is created until the first save).
    pub fn open(path: impl AsRef<Path>) -> Result<StateFile, StateError> {
        let path = path.as_ref().to_path_buf();
        if path.is_dir() || path.file_name().is_none() {
            return Err(StateError::IsDirectory { path });
        }
        Ok(StateFile {
            path,
            replace_unreadable: false,
            seen: Arc::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn backup_path(&self) -> PathBuf {
        fsutil::backup_path(&self.path)
    }

    pub fn lock_path(&self) -> PathBuf {
        fsutil::lock_path(&self.path)
    }

    pub fn journal_path(&self) -> PathBuf {
        fsutil::journal_path(&self.path)
    }

    /// Let [`StateFile::save`] replace a file it cannot read. Only for a caller that decided so
    /// explicitly (for example a user confirming they want to start over); the unreadable file is
    /// first copied to `<path>.unreadable-<unix time>`, never simply lost.
    pub fn replace_unreadable(&mut self, yes: bool) -> &mut Self {
        self.replace_unreadable = yes;
        self
    }

    /// Reads the state. A missing file is an empty state with a fresh lineage (written by the first
    /// save), unless a backup exists without it, which is refused as a likely mistake.
    pub fn load(&self) -> Result<State, StateError> {
        match read_with_id(&self.path) {
            Ok((bytes, id)) => {
                let state = self.parse(&self.path, &bytes)?;
                self.remember(id, &state);
                Ok(state)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let backup = self.backup_path();
                if backup.exists() {
                    return Err(StateError::MissingWithBackup {
                        path: self.path.clone(),
                        backup,
                    });
                }
                tracing::debug!(path = %self.path.display(), "no state file yet; starting from an empty state");
                Ok(State::new())
            }
            Err(e) => Err(StateError::Io {
                op: "read",
                path: self.path.clone(),
                cause: e,
            }),
        }
    }

    /// Reads `<path>.backup`, the version before the last save.
    pub fn load_backup(&self) -> Result<State, StateError> {
        let backup = self.backup_path();
        let bytes = fs::read(&backup).map_err(io_err("read", &backup))?;
        self.parse(&backup, &bytes)
    }

    fn remember(&self, id: Option<FileId>, state: &State) {
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = id.map(|id| Seen {
            id,
            lineage: state.lineage.clone(),
            serial: state.serial,
        });
    }

    /// What was last seen of the file, if the file at the path is still that one.
    fn seen_unchanged(&self) -> Option<Seen> {
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        let now = fs::metadata(&self.path).ok().and_then(|m| FileId::of(&m))?;
        (now == seen.id).then_some(seen)
    }

    fn parse(&self, path: &Path, bytes: &[u8]) -> Result<State, StateError> {
        State::from_json_bytes(bytes).map_err(|cause| StateError::Unreadable {
            path: path.to_path_buf(),
            hint: recovery_hint(path, &cause),
            cause,
        })
    }

    /// Writes `state` durably, incrementing its serial and recording this tunnelform's version:
    ///
    /// 1. refuses a state with an unknown value or a sensitive value in clear;
    /// 2. refuses to replace a file it cannot parse (see [`StateFile::replace_unreadable`]), a file with
    ///    another lineage, or a file saved by someone else since `state` was read (higher serial);
    ///    A file this handle loaded or saved, still the same file on disk (see [`Seen`]), is not
    ///    read again: its lineage and serial are known;
    /// 3. keeps the current file as `<path>.backup` (atomically: a second name of the same file
    ///    when the filesystem has hard links, else a copy);
    /// 4. writes a temporary file in the same directory, fsyncs it, renames it over `<path>` and fsyncs
    ///    the directory; a crash at any point leaves the old or the new state, never a mix.
    ///
    /// Parent directories are created. Leftover temporary files of crashed writers are removed. On
    /// error, `state` is left as it was.
    pub fn save(&self, state: &mut State) -> Result<(), StateError> {
        state.validate()?;
        let next_serial = state
            .serial
            .checked_add(1)
            .ok_or(WriteError::SerialOverflow {
                serial: state.serial,
            })?;
        let dir = fsutil::parent_dir(&self.path);
        if !dir.is_dir() {
            fs::create_dir_all(&dir).map_err(io_err("create the directory", &dir))?;
            if let Some(grand) = dir.parent().filter(|g| !g.as_os_str().is_empty()) {
                fsutil::sync_dir(grand)?;
            }
        }
        fsutil::remove_stale_temp_files(&self.path);
        fsutil::remove_stale_temp_files(&self.backup_path());

        // The file on disk is what this handle last loaded or saved: its lineage and serial are
        // known. Else it is read and parsed, and checked as it is.
        let seen = self.seen_unchanged();
        let existing = match seen {
            Some(_) => None,
            None => match fs::read(&self.path) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => {
                    return Err(StateError::Io {
                        op: "read",
                        path: self.path.clone(),
                        cause: e,
                    })
                }
            },
        };
        let on_disk = match (&seen, &existing) {
            (Some(seen), _) => Some((seen.lineage.clone(), seen.serial)),
            (None, Some(bytes)) => match State::from_json_bytes(bytes) {
                Ok(disk) => Some((disk.lineage, disk.serial)),
                Err(cause) if !self.replace_unreadable => {
                    let hint = format!(
                        "{} To replace it anyway, move it aside first.",
                        recovery_hint(&self.path, &cause)
                    );
                    return Err(StateError::WouldOverwriteUnreadable {
                        path: self.path.clone(),
                        cause,
                        hint,
                    });
                }
                Err(cause) => {
                    let secs = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or_default();
                    let aside = fsutil::with_suffix(&self.path, &format!(".unreadable-{secs}"));
                    tracing::warn!(path = %self.path.display(), kept_as = %aside.display(), %cause, "replacing an unreadable state file as requested");
                    fsutil::write_atomic(&aside, bytes)?;
                    None
                }
            },
            (None, None) => None,
        };
        if let Some((lineage, serial)) = &on_disk {
            if *lineage != state.lineage {
                return Err(StateError::LineageMismatch {
                    path: self.path.clone(),
                    on_disk: lineage.clone(),
                    ours: state.lineage.clone(),
                });
            }
            if *serial > state.serial {
                return Err(StateError::StaleSerial {
                    path: self.path.clone(),
                    on_disk: *serial,
                    ours: state.serial,
                });
            }
        }
        let existing_is_good = on_disk.is_some();

        let previous = (
            state.serial,
            std::mem::replace(
                &mut state.tunnelform_version,
                TUNNELFORM_VERSION.to_string(),
            ),
        );
        state.serial = next_serial;
        let result = (|| -> Result<Option<FileId>, StateError> {
            let bytes = state.to_json_bytes()?;
            if existing_is_good {
                let backup = self.backup_path();
                match &existing {
                    Some(old) => {
                        fsutil::write_atomic(&backup, old)?;
                    }
                    // The file is replaced by a rename below, never written in place, so the
                    // backup can be the same file under a second name rather than a copy.
                    None => {
                        if let Err(e) = fsutil::link_atomic(&self.path, &backup) {
                            tracing::debug!(error = %e.cause, "no hard link for the backup; copying the state file");
                            let old = fs::read(&self.path).map_err(io_err("read", &self.path))?;
                            fsutil::write_atomic(&backup, &old)?;
                        }
                    }
                }
            }
            Ok(fsutil::write_atomic(&self.path, &bytes)?)
        })();
        match result {
            Ok(id) => {
                self.remember(id, state);
                Ok(())
            }
            Err(e) => {
                state.serial = previous.0;
                state.tunnelform_version = previous.1;
                Err(e)
            }
        }
    }
}
