//! Durable file replacement and the names of the files kept beside a state file.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rand::RngCore;

/// `<state>.backup`: the previous version of the state.
pub fn backup_path(state_path: &Path) -> PathBuf {
    with_suffix(state_path, ".backup")
}

/// `<state>.lock`: the lock file (see [`crate::StateLock`]).
pub fn lock_path(state_path: &Path) -> PathBuf {
    with_suffix(state_path, ".lock")
}

/// `<state>.journal`: the journal of operations sent to the cloud (see [`crate::Journal`]).
pub fn journal_path(state_path: &Path) -> PathBuf {
    with_suffix(state_path, ".journal")
}

pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn temp_prefix(target: &Path) -> Option<String> {
    target
        .file_name()
        .map(|n| format!(".{}.tmp-", n.to_string_lossy()))
}

/// An I/O error with what was being done and to which path.
#[derive(Debug)]
pub(crate) struct IoFailure {
    pub op: &'static str,
    pub path: PathBuf,
    pub cause: io::Error,
}

pub(crate) fn io_err<'a>(
    op: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> IoFailure + 'a {
    move |cause| IoFailure {
        op,
        path: path.to_path_buf(),
        cause,
    }
}

/// Replaces `target` with `bytes` so that a crash at any moment leaves either the old or the new
/// contents: write a temporary file in the same directory, fsync it, rename it over the target, fsync
/// the directory. The temporary file is removed if anything fails before the rename.
pub(crate) fn write_atomic(target: &Path, bytes: &[u8]) -> Result<Option<FileId>, IoFailure> {
    let dir = parent_dir(target);
    let tmp = temp_name(target)?;
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io_err("create", &tmp))?;
        if let Ok(meta) = fs::metadata(target) {
            // Keep the permissions the user gave the file.
            let _ = f.set_permissions(meta.permissions());
        }
        f.write_all(bytes).map_err(io_err("write", &tmp))?;
        f.sync_all().map_err(io_err("fsync", &tmp))?;
        fs::rename(&tmp, target).map_err(io_err("rename over", target))?;
        // Read after the rename, which changes the file's change time.
        Ok(f.metadata().ok().and_then(|m| FileId::of(&m)))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    let id = result?;
    sync_dir(&dir)?;
    Ok(id)
}

/// Makes `target` a second name of the file `source` names now (a hard link, put in place by a
/// rename, so that `target` is always whole), durably. The file's data is not copied: this is
/// for a file that is about to be replaced by a rename, never written in place. Fails where the
/// filesystem has no hard links; the caller copies then.
pub(crate) fn link_atomic(source: &Path, target: &Path) -> Result<(), IoFailure> {
    let tmp = temp_name(target)?;
    let result = fs::hard_link(source, &tmp)
        .map_err(io_err("link", &tmp))
        .and_then(|()| fs::rename(&tmp, target).map_err(io_err("rename over", target)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(&parent_dir(target))
}

/// A fresh temporary name beside `target`, which [`remove_stale_temp_files`] recognises.
fn temp_name(target: &Path) -> Result<PathBuf, IoFailure> {
    let prefix = temp_prefix(target).ok_or_else(|| IoFailure {
        op: "write",
        path: target.to_path_buf(),
        cause: io::Error::other("no file name"),
    })?;
    let mut rnd = [0u8; 6];
    rand::thread_rng().fill_bytes(&mut rnd);
    Ok(parent_dir(target).join(format!(
        "{prefix}{}-{}",
        std::process::id(),
        hex::encode(rnd)
    )))
}

/// Which file a path names, and as of which change: its device and inode, its size, and its
/// modification and change times. Any write to the file changes its change time (which nothing
/// but the kernel sets), and a replacement by rename changes its inode; so a file whose
/// `FileId` is the one seen earlier holds what it held then. `None` where the platform does not
/// say (the caller then reads the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileId {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileId {
    #[cfg(unix)]
    pub(crate) fn of(meta: &fs::Metadata) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        Some(FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        })
    }

    #[cfg(not(unix))]
    pub(crate) fn of(_meta: &fs::Metadata) -> Option<FileId> {
        None
    }
}

/// Makes a rename or a file creation in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), IoFailure> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("fsync directory", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes temporary files a crashed writer of `target` left behind: those whose writer process is
/// gone (where that can be told, on Linux) or that are older than ten minutes. Best effort: a file
/// that cannot be removed is only logged. Returns the paths removed.
pub(crate) fn remove_stale_temp_files(target: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Some(prefix) = temp_prefix(target) else {
        return removed;
    };
    let dir = parent_dir(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return removed;
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let pid: Option<u32> = rest.split('-').next().and_then(|p| p.parse().ok());
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(600));
        let writer_gone = match pid {
            Some(p) if p == me => false,
            Some(p) => process_is_gone(p),
            None => true,
        };
        if writer_gone || old {
            let path = entry.path();
            match fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed a temporary file left by an interrupted write");
                    removed.push(path);
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot remove a leftover temporary file")
                }
            }
        }
    }
    removed
}

fn process_is_gone(pid: u32) -> bool {
    let proc_root = Path::new("/proc/self");
    if proc_root.exists() {
        !Path::new("/proc").join(pid.to_string()).exists()
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sibling_names() {
        let p = Path::new("state/net.tfstate.json");
        assert_eq!(backup_path(p), Path::new("state/net.tfstate.json.backup"));
        assert_eq!(lock_path(p), Path::new("state/net.tfstate.json.lock"));
        assert_eq!(journal_path(p), Path::new("state/net.tfstate.json.journal"));
        assert_eq!(parent_dir(Path::new("x.json")), Path::new("."));
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("f.json");
        write_atomic(&target, b"one").unwrap();
        write_atomic(&target, b"two").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("f.json")]);
    }

    #[test]
    fn stale_temp_of_a_dead_writer_is_removed_but_ours_and_others_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("f.json");
        // pid 0 is never a user process, so its writer is "gone" on Linux.
        let dead = dir.path().join(".f.json.tmp-0-abc");
        let ours = dir
            .path()
            .join(format!(".f.json.tmp-{}-abc", std::process::id()));
        let unrelated = dir.path().join(".g.json.tmp-0-abc");
        for p in [&dead, &ours, &unrelated] {
            fs::write(p, b"partial").unwrap();
        }
        let removed = remove_stale_temp_files(&target);
        if Path::new("/proc/self").exists() {
            assert_eq!(removed, vec![dead.clone()]);
            assert!(!dead.exists());
        }
        assert!(ours.exists());
        assert!(unrelated.exists());
    }
}
