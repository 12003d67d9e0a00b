//! The state lock: contention names the holder, timeouts, waiting, force-unlock, and a holder killed
//! with SIGKILL leaving no stale lock (with a real second process).

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use tunnelform_state::{
    force_unlock, lock_holder, LockError, LockInfo, LockRecord, StateLock, Timestamp,
};

fn info(operation: &str, who: &str) -> LockInfo {
    LockInfo {
        operation: operation.into(),
        who: who.into(),
        version: "0.1.0".into(),
    }
}

#[tokio::test]
async fn second_writer_fails_at_once_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state/net.tfstate.json");
    let held = StateLock::acquire(&state, info("apply", "alice@ci-runner-3"), None)
        .await
        .unwrap();
    assert!(state.with_file_name("net.tfstate.json.lock").is_file());

    let err = StateLock::acquire(&state, info("destroy", "bob@laptop"), None)
        .await
        .unwrap_err();
    let LockError::Held {
        holder: Some(holder),
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(**holder, *held.record());
    let msg = err.to_string();
    for needle in [
        "alice@ci-runner-3".to_string(),
        format!("pid {}", std::process::id()),
        "operation \"apply\"".to_string(),
        format!("since {}", held.record().created),
        format!("lock id {}", held.id()),
        state.display().to_string(),
    ] {
        assert!(msg.contains(&needle), "{msg}\n  should contain {needle}");
    }
    assert_eq!(lock_holder(&state).unwrap().as_ref(), Some(held.record()));

    drop(held);
    assert_eq!(lock_holder(&state).unwrap(), None);
    let again = StateLock::acquire(&state, info("destroy", "bob@laptop"), None)
        .await
        .unwrap();
    assert_eq!(again.record().who, "bob@laptop");
}

#[tokio::test]
async fn zero_timeout_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let _held = StateLock::acquire(&state, info("apply", "a@h"), None)
        .await
        .unwrap();
    let err = StateLock::acquire(&state, info("apply", "b@h"), Some(Duration::ZERO))
        .await
        .unwrap_err();
    assert!(matches!(err, LockError::Held { .. }), "{err}");
}

#[tokio::test]
async fn timeout_expires_while_held() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let held = StateLock::acquire(&state, info("apply", "alice@ci"), None)
        .await
        .unwrap();
    let mut waited_for = None;
    let err = StateLock::acquire_with(
        &state,
        info("plan", "bob@ci"),
        Some(Duration::from_millis(150)),
        &mut |h: Option<&LockRecord>| waited_for = h.cloned(),
    )
    .await
    .unwrap_err();
    let LockError::Timeout {
        waited,
        holder: Some(holder),
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(*waited >= Duration::from_millis(150));
    assert_eq!(holder.id, held.id());
    assert_eq!(
        waited_for.as_ref().map(|h| h.id.as_str()),
        Some(held.id()),
        "on_wait saw the holder"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("timed out") && msg.contains("alice@ci") && msg.contains(held.id()),
        "{msg}"
    );
}

#[tokio::test]
async fn waiting_writer_gets_the_lock_when_it_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let held = StateLock::acquire(&state, info("apply", "first@h"), None)
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let path = state.clone();
    let waiter = tokio::spawn(async move {
        StateLock::acquire_with(
            &path,
            info("apply", "second@h"),
            Some(Duration::from_secs(30)),
            move |h| {
                tx.send(h.map(|h| h.who.clone())).unwrap();
            },
        )
        .await
    });
    // The waiter reports that it found the lock held and is waiting; only then release.
    assert_eq!(rx.await.unwrap().as_deref(), Some("first@h"));
    held.release().unwrap();
    let second = waiter.await.unwrap().unwrap();
    assert_eq!(second.record().who, "second@h");
    assert_eq!(
        lock_holder(&state).unwrap().map(|h| h.who),
        Some("second@h".to_string())
    );
}

#[tokio::test]
async fn force_unlock_checks_the_id_and_refuses_a_live_holder() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let err = force_unlock(&state, "whatever").unwrap_err();
    assert!(matches!(err, LockError::NotLocked { .. }), "{err}");

    let held = StateLock::acquire(&state, info("apply", "alice@ci"), None)
        .await
        .unwrap();
    let err = force_unlock(&state, "not-the-id").unwrap_err();
    assert!(matches!(err, LockError::WrongId { .. }), "{err}");
    assert!(err.to_string().contains(held.id()) && err.to_string().contains("not-the-id"));

    let err = force_unlock(&state, held.id()).unwrap_err();
    assert!(matches!(err, LockError::StillHeld { .. }), "{err}");
    assert!(err.to_string().contains("Stop that process"), "{err}");
    // Still held after the refused attempts.
    assert!(matches!(
        StateLock::acquire(&state, info("apply", "b@h"), None).await,
        Err(LockError::Held { .. })
    ));
}

#[tokio::test]
async fn force_unlock_clears_the_record_of_a_dead_holder() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    // What a holder killed before it could clean up leaves behind: a record, and no OS lock.
    let stale = LockRecord {
        created: Timestamp::parse("2024-05-01T12:00:00Z").unwrap(),
        id: "3f1c2b9a-0000-4000-8000-000000000001".into(),
        operation: "apply".into(),
        path: state.display().to_string(),
        pid: 999_999,
        version: "0.1.0".into(),
        who: "ghost@gone".into(),
    };
    let lock_file = dir.path().join("s.json.lock");
    fs::write(&lock_file, serde_json::to_vec(&stale).unwrap()).unwrap();
    assert_eq!(
        lock_holder(&state).unwrap(),
        None,
        "a record without an OS lock is not a holder"
    );

    assert!(matches!(
        force_unlock(&state, "other").unwrap_err(),
        LockError::WrongId { .. }
    ));
    assert_eq!(force_unlock(&state, &stale.id).unwrap(), stale);
    assert_eq!(fs::read(&lock_file).unwrap(), b"");
    assert!(matches!(
        force_unlock(&state, &stale.id).unwrap_err(),
        LockError::NotLocked { .. }
    ));

    // And a stale record never blocks a new writer.
    fs::write(&lock_file, serde_json::to_vec(&stale).unwrap()).unwrap();
    let lock = StateLock::acquire(&state, info("apply", "new@h"), None)
        .await
        .unwrap();
    assert_ne!(lock.id(), stale.id);
}

#[tokio::test]
async fn release_on_drop_empties_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    {
        let _l = StateLock::acquire(&state, info("apply", "a@h"), None)
            .await
            .unwrap();
        assert!(!fs::read(dir.path().join("s.json.lock")).unwrap().is_empty());
    }
    assert_eq!(fs::read(dir.path().join("s.json.lock")).unwrap(), b"");
}

#[test]
fn lock_info_new_fills_who_and_version() {
    let i = LockInfo::new("apply");
    assert_eq!(i.operation, "apply");
    assert!(i.who.contains('@'), "{}", i.who);
    assert_eq!(i.version, tunnelform_state::TUNNELFORM_VERSION);
}

const CHILD_ENV: &str = "TUNNELFORM_STATE_TEST_LOCK_CHILD";

/// Run only as a child of the test below: takes the lock, says so, and waits until killed.
#[tokio::test]
async fn lock_holder_child_process() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let lock = StateLock::acquire(Path::new(&path), info("apply", "child@test"), None)
        .await
        .unwrap();
    println!("LOCKED {}", lock.id());
    // Block until the parent kills us (or closes stdin).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}

#[tokio::test]
async fn another_process_is_refused_and_sigkill_leaves_no_stale_lock() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lock::lock_holder_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let id = loop {
        let line = lines
            .next()
            .expect("the child exited before locking")
            .unwrap();
        // libtest prints "test NAME ... " on the same line before the child's own output.
        if let Some(i) = line.find("LOCKED ") {
            break line[i + "LOCKED ".len()..].trim().to_string();
        }
    };

    let err = StateLock::acquire(&state, info("apply", "parent@test"), None)
        .await
        .unwrap_err();
    let LockError::Held {
        holder: Some(holder),
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(holder.pid, child.id());
    assert_eq!(holder.id, id);
    assert!(
        err.to_string().contains(&format!("pid {}", child.id())),
        "{err}"
    );
    assert!(matches!(
        force_unlock(&state, &id),
        Err(LockError::StillHeld { .. })
    ));

    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let lock = StateLock::acquire(&state, info("apply", "parent@test"), None)
        .await
        .unwrap();
    assert_eq!(lock.record().pid, std::process::id());
}

/// A holder writes its record just after taking the lock: a second writer arriving in between
/// waits a moment for the record instead of reporting an anonymous holder.
#[tokio::test]
async fn a_holder_that_has_not_written_its_record_yet_is_still_named() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("net.tfstate.json");
    let held = StateLock::acquire(&state, info("apply", "alice@ci"), None)
        .await
        .unwrap();
    let lock_path = state.with_file_name("net.tfstate.json.lock");
    let record = fs::read(&lock_path).unwrap();
    // As if the holder had only just taken the lock: empty record, written 200 ms later.
    fs::write(&lock_path, b"").unwrap();
    let writer = std::thread::spawn({
        let lock_path = lock_path.clone();
        move || {
            std::thread::sleep(Duration::from_millis(200));
            fs::write(&lock_path, record).unwrap();
        }
    });
    let err = StateLock::acquire(&state, info("apply", "bob@ci"), None)
        .await
        .unwrap_err();
    writer.join().unwrap();
    let msg = err.to_string();
    assert!(msg.contains("alice@ci"), "{msg}");
    assert!(msg.contains("operation \"apply\""), "{msg}");
    drop(held);
}

/// Waiting for the lock is asynchronous: on a single-threaded runtime, other tasks keep running
/// while a writer waits (a blocking sleep would starve them until the timeout).
#[tokio::test(flavor = "current_thread")]
async fn waiting_for_the_lock_does_not_block_the_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let _held = StateLock::acquire(&state, info("apply", "alice@ci"), None)
        .await
        .unwrap();
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let ticker = tokio::spawn({
        let ticks = ticks.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                ticks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    let err = StateLock::acquire(
        &state,
        info("apply", "bob@ci"),
        Some(Duration::from_millis(300)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, LockError::Timeout { .. }), "{err}");
    let n = ticks.load(std::sync::atomic::Ordering::SeqCst);
    ticker.abort();
    assert!(n >= 10, "only {n} ticks of 10 ms during a 300 ms wait");
}

/// The wait runs on tokio's clock: under paused time a ten-minute lock timeout passes at once, and
/// the error still names the holder.
#[tokio::test(start_paused = true)]
async fn a_long_lock_timeout_runs_on_tokio_time() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let held = StateLock::acquire(&state, info("apply", "alice@ci"), None)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut announced = None;
    let err = StateLock::acquire_with(
        &state,
        info("apply", "bob@ci"),
        Some(Duration::from_secs(600)),
        |h: Option<&LockRecord>| announced = h.map(|h| h.who.clone()),
    )
    .await
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let LockError::Timeout {
        waited,
        holder: Some(holder),
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(*waited >= Duration::from_secs(600), "{waited:?}");
    assert_eq!(holder.id, held.id());
    assert_eq!(announced.as_deref(), Some("alice@ci"));
    assert!(err.to_string().contains("timed out after 600.0s"), "{err}");
}
