//! The state reader: `State::from_json_bytes` (what every command reads first), the state file's
//! error messages (`StateFile::load`), the journal reader (`Journal::open_at`, which also cuts a
//! torn last line) and the Terraform state converter (`state migrate-terraform`).
//!
//! Oracles: no panic, no hang, bounded memory; a state that parses writes out and reads back to
//! the same state; an unreadable state file is never changed by loading it and its error names the
//! file; a journal that opens survives compaction with the same unfinished operations.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tunnelform_state::{migrate_terraform, Journal, State, StateFile};

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("tunnelform-fuzz-state-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("creating the fuzz directory");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    // The parser.
    match State::from_json_bytes(data) {
        Ok(state) => {
            let bytes = state
                .to_json_bytes()
                .expect("a state that was read can be written");
            let again = State::from_json_bytes(&bytes).expect("a written state reads back");
            assert_eq!(again, state, "the state changed through a write and a read");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }

    // The state file: loading never changes it; errors name it.
    let dir = dir();
    let path = dir.join("s.tfstate.json");
    let _ = std::fs::remove_file(dir.join("s.tfstate.json.backup"));
    std::fs::write(&path, data).expect("writing the state file");
    let file = StateFile::open(&path).expect("a file path");
    if let Err(e) = file.load() {
        let msg = e.to_string();
        assert!(
            msg.contains(&*path.to_string_lossy()),
            "the error does not name the file: {msg}"
        );
    }
    assert_eq!(
        std::fs::read(&path).expect("reading the state file back"),
        data,
        "loading changed the state file"
    );

    // The journal.
    let jpath = dir.join("s.tfstate.json.journal");
    std::fs::write(&jpath, data).expect("writing the journal");
    match Journal::open_at(&jpath) {
        Ok(mut j) => {
            let before = j.unfinished();
            j.compact().expect("compacting a journal that opened");
            let reopened = Journal::open_at(&jpath).expect("a compacted journal opens");
            assert_eq!(
                reopened.unfinished(),
                before,
                "compaction changed the unfinished operations"
            );
            assert!(reopened.warnings().is_empty(), "{:?}", reopened.warnings());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }

    // The Terraform converter.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((state, _warnings)) = migrate_terraform(text) {
            let bytes = state
                .to_json_bytes()
                .expect("a migrated state can be written");
            State::from_json_bytes(&bytes).expect("a migrated state reads back");
        }
    }
});
