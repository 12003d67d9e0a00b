//! The local files behind the `StateBackend` interface: the same state, journal and lock as before,
//! plus `replace` (state push, migrations) keeping lineage and serial.

use std::time::Duration;

use tunnelform_kinds::ResourceKind;
use tunnelform_model::Address;
use tunnelform_state::{
    check_replace, Intent, JournalAction, LocalBackend, LockInfo, ResourceState, State,
    StateBackend, StateFile,
};

fn tunnel(i: usize) -> (Address, ResourceState) {
    let addr: Address = format!("tencentcloud_vpn_connection.t[{i}]")
        .parse()
        .unwrap();
    (
        addr,
        ResourceState::new(
            ResourceKind::VpnConnection,
            "ap-guangzhou",
            format!("vpnx-{i:08}"),
        ),
    )
}

#[test]
fn the_local_backend_saves_journals_and_settles_like_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let b = LocalBackend::open(&path).unwrap();
    assert!(!b.exists().unwrap());
    let mut s = b.load().unwrap();
    let (a, r) = tunnel(1);
    s.resources.insert(a.clone(), r);
    b.save(&mut s).unwrap();
    assert_eq!(s.serial, 1);
    assert_eq!(StateFile::open(&path).unwrap().load().unwrap(), s);
    let intent = Intent::new(
        a,
        JournalAction::Delete,
        ResourceKind::VpnConnection,
        "ap-guangzhou",
    );
    b.append(&tunnelform_state::Record::Intent(intent)).unwrap();
    assert_eq!(b.journal().unwrap().unfinished().len(), 1);
    assert!(path.with_extension("json.journal").exists());
    // Settling keeps the unfinished operation when asked to, and clears it otherwise.
    b.settle(Some(&mut s), true).unwrap();
    assert_eq!(s.serial, 2);
    assert_eq!(b.journal().unwrap().unfinished().len(), 1);
    b.settle(None, false).unwrap();
    assert!(b.journal().unwrap().is_empty());
}

#[test]
fn replace_keeps_lineage_and_serial_and_refuses_to_clobber() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = State::new();
    let (a, r) = tunnel(2);
    s.resources.insert(a, r);
    s.serial = 7;
    let b = LocalBackend::open(dir.path().join("pushed.json")).unwrap();
    b.replace(&s).unwrap();
    let read = b.load().unwrap();
    assert_eq!(
        (read.lineage.as_str(), read.serial),
        (s.lineage.as_str(), 7)
    );
    assert_eq!(read.resources, s.resources);
    // The same state again: nothing to do.
    b.replace(&s).unwrap();
    // Older, another lineage, or the same serial with other contents: refused.
    let mut older = s.clone();
    older.serial = 6;
    let e = b.replace(&older).unwrap_err().to_string();
    assert!(e.contains("serial 7; the state given has serial 6"), "{e}");
    let other = State {
        serial: 9,
        ..State::new()
    };
    let e = b.replace(&other).unwrap_err().to_string();
    assert!(e.contains("different state (lineage"), "{e}");
    let mut diverged = s.clone();
    diverged.resources.clear();
    assert!(check_replace("x", &read, &diverged).is_err());
    // Newer: written as given.
    let mut newer = s.clone();
    newer.serial = 12;
    b.replace(&newer).unwrap();
    assert_eq!(b.load().unwrap().serial, 12);
}

#[tokio::test]
async fn the_local_lock_is_taken_through_the_backend_and_names_its_holder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.json");
    let a = LocalBackend::open(&path).unwrap();
    let b = LocalBackend::open(&path).unwrap();
    let held = a
        .lock(LockInfo::new("apply"), None, Box::new(|_| {}))
        .await
        .unwrap();
    let e = match b
        .lock(
            LockInfo::new("plan"),
            Some(Duration::from_millis(100)),
            Box::new(|_| {}),
        )
        .await
    {
        Err(e) => e.to_string(),
        Ok(_) => panic!("two holders"),
    };
    assert!(
        e.contains(&held.record().id) && e.contains("timed out"),
        "{e}"
    );
    assert_eq!(b.lock_holder().await.unwrap().unwrap().id, held.record().id);
    held.unlock().await.unwrap();
    assert!(b.lock_holder().await.unwrap().is_none());
    b.lock(LockInfo::new("plan"), None, Box::new(|_| {}))
        .await
        .unwrap();
}
