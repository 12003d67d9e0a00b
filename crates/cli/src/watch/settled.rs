//! Reading a configuration directory that another process may be rewriting (a GitOps checkout
//! pulled while the watcher runs). A half-written `main.tf` can parse (cut at a block boundary)
//! and plan deletes, so the watcher reads only a tree that has been quiet for a moment and did
//! not change while it was read.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Result};

/// How long the tree must have been unchanged before it is read.
pub const QUIET: Duration = Duration::from_millis(500);
/// How many times a read that saw the tree change is tried again.
const TRIES: usize = 8;

/// The files a load may read, with their sizes and modification times: everything under the
/// directory except state files, hidden entries (`.terraform`, `.git`) and the local backend's
/// workspace states, which the watcher itself writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    files: Vec<(PathBuf, u64, Option<SystemTime>)>,
}

impl Fingerprint {
    pub fn of(dir: &Path) -> Fingerprint {
        let mut files = Vec::new();
        walk(dir, &mut files, 0);
        files.sort();
        Fingerprint { files }
    }

    /// The newest modification time in the tree.
    fn newest(&self) -> Option<SystemTime> {
        self.files.iter().filter_map(|f| f.2).max()
    }
}

fn skipped(name: &str) -> bool {
    name.starts_with('.')
        || name.contains(".tfstate")
        || name.ends_with(".lock")
        || name.ends_with(".journal")
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, u64, Option<SystemTime>)>, depth: usize) {
    // Modules live a few directories down; a symlink loop must not make this endless.
    if depth > 16 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if skipped(&name.to_string_lossy()) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(&path, out, depth + 1);
        } else {
            out.push((path, meta.len(), meta.modified().ok()));
        }
    }
}

/// Loads with `load` once the tree under `dir` has been quiet for [`QUIET`] and stayed the same
/// during the load; a tree still changing after a few tries is an error (the cycle is skipped and
/// said so, and the next one tries again).
pub async fn load<T>(dir: &Path, mut load: impl FnMut() -> Result<T>) -> Result<T> {
    for _ in 0..TRIES {
        let before = Fingerprint::of(dir);
        if let Some(age) = before
            .newest()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
        {
            if age < QUIET {
                tokio::time::sleep(QUIET - age).await;
                continue;
            }
        }
        let loaded = load();
        if Fingerprint::of(dir) == before {
            return loaded;
        }
        tokio::time::sleep(QUIET).await;
    }
    bail!(
        "the configuration in {} kept changing while it was read; this cycle is skipped and the \
         next one reads it again",
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn aged(path: &Path) {
        let old = SystemTime::now() - Duration::from_secs(10);
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(old).unwrap();
    }

    #[tokio::test]
    async fn a_file_rewritten_during_the_read_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("main.tf");
        std::fs::write(&main, "half").unwrap();
        aged(&main);
        let calls = Cell::new(0);
        let got = load(dir.path(), || {
            calls.set(calls.get() + 1);
            let text = std::fs::read_to_string(&main)?;
            if calls.get() == 1 {
                // Another process finishes writing the file while this read is under way.
                std::fs::write(&main, "whole file").unwrap();
                aged(&main);
            }
            Ok(text)
        })
        .await
        .unwrap();
        assert_eq!(got, "whole file");
        assert_eq!(calls.get(), 2);
    }

    #[tokio::test]
    async fn a_quiet_tree_is_read_once_and_state_files_do_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("main.tf");
        std::fs::write(&main, "x").unwrap();
        aged(&main);
        std::fs::create_dir_all(dir.path().join("modules/site")).unwrap();
        let m = dir.path().join("modules/site/main.tf");
        std::fs::write(&m, "y").unwrap();
        aged(&m);
        let calls = Cell::new(0);
        load(dir.path(), || {
            calls.set(calls.get() + 1);
            // The watcher's own state write is not a change of the configuration.
            std::fs::write(
                dir.path().join("terraform.tfstate"),
                calls.get().to_string(),
            )
            .unwrap();
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test]
    async fn a_file_in_a_module_changed_during_the_read_counts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("modules/site")).unwrap();
        let m = dir.path().join("modules/site/main.tf");
        std::fs::write(&m, "a").unwrap();
        aged(&m);
        let calls = Cell::new(0);
        load(dir.path(), || {
            calls.set(calls.get() + 1);
            if calls.get() == 1 {
                std::fs::write(&m, "ab").unwrap();
                aged(&m);
            }
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(calls.get(), 2);
    }

    #[tokio::test]
    async fn a_tree_that_keeps_changing_is_an_error_not_a_plan() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("main.tf");
        std::fs::write(&main, "0").unwrap();
        aged(&main);
        let n = Cell::new(0);
        let err = load(dir.path(), || {
            n.set(n.get() + 1);
            std::fs::write(&main, n.get().to_string().repeat(n.get())).unwrap();
            aged(&main);
            Ok(())
        })
        .await
        .unwrap_err();
        assert!(err.to_string().contains("kept changing"), "{err}");
    }
}
