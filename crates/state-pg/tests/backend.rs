//! The PostgreSQL backend against a real server: a throwaway cluster started by the tests
//! (initdb in a temporary directory, a free 127.0.0.1 port, TLS with a certificate made here).
//! Without PostgreSQL binaries these tests are reported as ignored, with the reason.

#![cfg_attr(not(pg_binaries), allow(unused))]

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tunnelform_kinds::ResourceKind;
use tunnelform_model::Address;
use tunnelform_state::{
    BackendError, Intent, JournalAction, LockError, LockInfo, OpResult, Outcome, Record,
    ResourceState, State, StateBackend, StateError, Timestamp,
};
use tunnelform_state_pg::testing::{Cluster, PASSWORD};
use tunnelform_state_pg::{PgBackend, PgSettings, Sources};

fn cluster() -> &'static Cluster {
    static C: OnceLock<Cluster> = OnceLock::new();
    C.get_or_init(Cluster::start)
}

fn settings(conn: &str, schema: &str, workspace: &str, password: &str) -> PgSettings {
    let block = BTreeMap::from([
        ("conn_str".to_string(), conn.to_string()),
        ("schema_name".to_string(), schema.to_string()),
    ]);
    let pw = password.to_string();
    let ws = workspace.to_string();
    let env = move |k: &str| match k {
        "PGPASSWORD" => Some(pw.clone()),
        "TF_WORKSPACE" => Some(ws.clone()),
        _ => None,
    };
    PgSettings::resolve(&Sources {
        block: &block,
        cli: &[],
        env: &env,
    })
    .unwrap()
}

fn backend(schema: &str, workspace: &str) -> PgBackend {
    let c = cluster();
    PgBackend::new(settings(
        &c.conn_str("disable"),
        schema,
        workspace,
        PASSWORD,
    ))
    .unwrap()
}

fn tunnel(i: usize) -> (Address, ResourceState) {
    let addr: Address = format!("tencentcloud_vpn_connection.t[{i}]")
        .parse()
        .unwrap();
    let mut rs = ResourceState::new(
        ResourceKind::VpnConnection,
        "ap-guangzhou",
        format!("vpnx-{i:08}"),
    );
    rs.attributes.insert(
        "name".into(),
        tunnelform_model::Value::from(format!("t{i}").as_str()),
    );
    (addr, rs)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

const NO_PG: &str =
    "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)";

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn a_state_round_trips_and_a_step_writes_only_its_resource() {
    let _ = NO_PG;
    let b = backend("rt_schema", "default");
    assert!(!b.exists().unwrap());
    let mut s = b.load().unwrap();
    assert_eq!(s.serial, 0);
    for i in 0..200 {
        let (a, r) = tunnel(i);
        s.resources.insert(a, r);
    }
    b.save(&mut s).unwrap();
    assert_eq!(s.serial, 1);
    let full = b.bytes_written();
    assert!(full > 200 * 100, "{full}");
    // One resource changes: only its row (and the small envelope) is written.
    let (a, mut r) = tunnel(7);
    r.attributes
        .insert("name".into(), tunnelform_model::Value::from("renamed"));
    s.resources.insert(a.clone(), r);
    b.save(&mut s).unwrap();
    let one = b.bytes_written() - full;
    assert!(one < 1000, "a one-resource save wrote {one} bytes");
    // Another process reads the same state.
    let other = backend("rt_schema", "default");
    let read = other.load().unwrap();
    assert_eq!(read, s);
    assert!(other.exists().unwrap());
    // Deleting a resource deletes its row.
    s.resources.remove(&a);
    b.save(&mut s).unwrap();
    assert_eq!(other.load().unwrap().resources.len(), 199);
    // Workspaces are separate states.
    let w2 = backend("rt_schema", "staging");
    assert!(w2.load().unwrap().resources.is_empty());
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn a_damaged_row_is_refused_naming_its_address_and_the_way_out() {
    let b = backend("damaged_rows", "default");
    let mut s = b.load().unwrap();
    for i in 0..5 {
        let (a, r) = tunnel(i);
        s.resources.insert(a, r);
    }
    b.save(&mut s).unwrap();
    let (victim, _) = tunnel(3);
    // The rows come back in no particular order; each is read into its resource.
    assert_eq!(backend("damaged_rows", "default").load().unwrap(), s);
    cluster().psql(&format!(
        "UPDATE damaged_rows.resources SET body = '{{\"attributes\": {{' WHERE address = '{victim}'"
    ));
    let other = backend("damaged_rows", "default");
    assert!(
        other.peek().is_none(),
        "a state with a damaged row gives no quick look"
    );
    let e = other.load().unwrap_err().to_string();
    assert!(e.contains("holds damaged data"), "{e}");
    assert!(e.contains(&victim.to_string()), "{e}");
    assert!(e.contains("not a valid resource"), "{e}");
    assert!(e.contains("tunnelform state push"), "{e}");
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn a_stale_serial_and_another_lineage_are_refused() {
    let a = backend("stale", "default");
    let b = backend("stale", "default");
    let mut sa = a.load().unwrap();
    let (addr, rs) = tunnel(1);
    sa.resources.insert(addr, rs);
    a.save(&mut sa).unwrap();
    let mut sb = b.load().unwrap();
    a.save(&mut sa).unwrap(); // serial 2
    let (addr, rs) = tunnel(2);
    sb.resources.insert(addr, rs);
    let e = b.save(&mut sb).unwrap_err();
    assert!(
        matches!(&e, BackendError::State(s) if matches!(**s, StateError::StaleSerial { on_disk: 2, ours: 1, .. })),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("serial 2") && msg.contains("1 when read") && msg.contains("pg:stale/default"),
        "{msg}"
    );
    assert_eq!(sb.serial, 1, "a refused save leaves the state as it was");
    // A state of another lineage cannot overwrite it.
    let c = backend("stale", "default");
    let mut other = State::new();
    other.serial = 5;
    let e = c.replace(&other).unwrap_err();
    assert!(e.to_string().contains("different state (lineage"), "{e}");
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn the_journal_is_kept_in_the_database_and_cleared_with_the_save() {
    let a = backend("journal", "default");
    let mut s = a.load().unwrap();
    assert!(a.journal().unwrap().is_empty());
    let (addr, rs) = tunnel(3);
    let intent = Intent::new(
        addr.clone(),
        JournalAction::Create,
        ResourceKind::VpnConnection,
        "ap-guangzhou",
    );
    let op = intent.op_id.clone();
    a.append(&Record::Intent(intent)).unwrap();
    // An outcome for an unknown operation is refused, as in the file journal.
    let bogus = Record::Outcome(Outcome {
        op_id: tunnelform_state::OpId::new(),
        result: OpResult::Ok,
        at: Timestamp::now(),
    });
    assert!(a.append(&bogus).is_err());
    // Another runner sees the unfinished operation.
    let b = backend("journal", "default");
    let j = b.journal().unwrap();
    assert_eq!(j.unfinished().len(), 1);
    assert_eq!(j.unfinished()[0].intent.address, addr);
    // The outcome and the state's save: the journal empties in the save's transaction.
    a.append(&Record::Outcome(Outcome {
        op_id: op,
        result: OpResult::Ok,
        at: Timestamp::now(),
    }))
    .unwrap();
    s.resources.insert(addr, rs);
    a.settle(Some(&mut s), true).unwrap();
    assert!(b.journal().unwrap().is_empty());
    assert_eq!(b.load().unwrap().resources.len(), 1);
    // Unfinished operations survive a settle that keeps them.
    let intent = Intent::new(
        tunnel(4).0,
        JournalAction::Create,
        ResourceKind::VpnConnection,
        "ap-guangzhou",
    );
    a.append(&Record::Intent(intent)).unwrap();
    a.settle(None, true).unwrap();
    assert_eq!(b.journal().unwrap().unfinished().len(), 1);
    a.settle(None, false).unwrap();
    assert!(b.journal().unwrap().is_empty());
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn a_second_writer_is_told_who_holds_the_lock_and_a_dead_holder_releases_it() {
    let rt = rt();
    rt.block_on(async {
        let a = backend("locks", "default");
        let held = a
            .lock(LockInfo::new("apply"), None, Box::new(|_| {}))
            .await
            .unwrap();
        let id = held.record().id.clone();
        let b = backend("locks", "default");
        let e = match b
            .lock(LockInfo::new("destroy"), None, Box::new(|_| {}))
            .await
        {
            Err(e) => e,
            Ok(_) => panic!("two holders"),
        };
        let msg = e.to_string();
        assert!(
            msg.contains("is locked by") && msg.contains(&id) && msg.contains("\"apply\""),
            "{msg}"
        );
        assert!(msg.contains(&tunnelform_state::current_who()), "{msg}");
        let holder = b.lock_holder().await.unwrap().unwrap();
        assert_eq!(holder.id, id);
        // Waiting: the holder is announced once, and the lock is taken once released.
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = async {
            b.lock(
                LockInfo::new("plan"),
                Some(Duration::from_secs(20)),
                Box::new(move |h| {
                    let _ = tx.send(h.map(|h| h.id.clone()));
                }),
            )
            .await
        };
        let release = async {
            tokio::time::sleep(Duration::from_millis(600)).await;
            held.unlock().await.unwrap();
        };
        let (got, ()) = tokio::join!(waiter, release);
        let got = got.unwrap();
        assert_eq!(rx.recv().unwrap(), Some(id));
        // The holder's session ends (its runner is cut off, and the server gives up on it): the
        // lock is free without force-unlock. (A killed process: see the end-to-end tests.)
        let holder_pid =
            cluster().psql("SELECT backend_pid FROM locks.locks WHERE workspace = 'default'");
        cluster().psql(&format!(
            "SELECT pg_terminate_backend({})",
            holder_pid.trim()
        ));
        let d = backend("locks", "default");
        let start = Instant::now();
        let taken = d
            .lock(
                LockInfo::new("apply"),
                Some(Duration::from_secs(10)),
                Box::new(|_| {}),
            )
            .await;
        assert!(taken.is_ok(), "{:?}", taken.err().map(|e| e.to_string()));
        assert!(start.elapsed() < Duration::from_secs(5));
        // force-unlock of a live lock is refused; the lock ends with the session.
        drop(got);
        let e = backend("locks", "default")
            .force_unlock(&taken.as_ref().unwrap().record().id.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(&e, BackendError::Lock(l) if matches!(**l, LockError::StillHeld { .. })),
            "{e}"
        );
    });
}

const CUT_CHILD: &str = "TUNNELFORM_PG_TEST_CUT_CHILD";

fn ip(args: &str) {
    let out = std::process::Command::new("ip")
        .args(args.split_whitespace())
        .output()
        .expect("running ip");
    assert!(
        out.status.success(),
        "ip {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A runner holding the lock is cut off from the network: no FIN, no RST, its process alive. The
/// test runs again in a network namespace of its own (`unshare -n`, so nothing outside it is
/// touched), with a server of its own there: the holder connects over TCP to 127.0.0.1, then the
/// namespace's loopback interface goes down, and the next runner reaches the server through its
/// Unix socket.
#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
#[cfg_attr(
    all(pg_binaries, not(loopback_cut)),
    ignore = "cutting the network under a holder needs root, unshare and ip (apt-get install util-linux iproute2)"
)]
fn a_holder_cut_off_from_the_network_loses_the_lock_by_itself() {
    if std::env::var_os(CUT_CHILD).is_some() {
        return cut_off_holder_in_this_namespace();
    }
    let out = std::process::Command::new("unshare")
        .arg("-n")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_holder_cut_off_from_the_network_loses_the_lock_by_itself",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CUT_CHILD, "1")
        .output()
        .expect("running the test in a network namespace of its own");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("the lock came free"))
        .unwrap_or_else(|| panic!("no figure in:\n{text}"));
    eprintln!("{line}");
}

fn cut_off_holder_in_this_namespace() {
    ip("link set lo up");
    let c = Cluster::start();
    let tcp = settings(&c.conn_str("disable"), "cut", "default", PASSWORD);
    let unix = settings(&c.conn_str_unix(), "cut", "default", PASSWORD);
    let rt = rt();
    rt.block_on(async {
        let holder = PgBackend::new(tcp).unwrap();
        let held = holder
            .lock(LockInfo::new("apply"), None, Box::new(|_| {}))
            .await
            .unwrap();
        let id = held.record().id.clone();
        // The network goes: nothing more reaches the holder or comes from it.
        ip("link set lo down");
        let cut_at = Instant::now();
        let next = PgBackend::new(unix).unwrap();
        let e = match next
            .lock(LockInfo::new("plan"), None, Box::new(|_| {}))
            .await
        {
            Err(e) => e,
            Ok(_) => panic!("the lock was free at once: the cut is not what freed it"),
        };
        assert!(e.to_string().contains(&id), "{e}");
        // The server gives up on the silent session (the TCP keepalives and tcp_user_timeout the
        // backend sets on its sessions) and the lock is free, with no force-unlock.
        let taken = next
            .lock(
                LockInfo::new("plan"),
                Some(Duration::from_secs(150)),
                Box::new(|_| {}),
            )
            .await;
        let waited = cut_at.elapsed();
        assert!(taken.is_ok(), "{:?}", taken.err().map(|e| e.to_string()));
        assert!(
            waited < Duration::from_secs(90),
            "the lock came free {waited:?} after the cut"
        );
        eprintln!("the lock came free {waited:?} after the holder was cut off");
        drop(taken);
        // The holder's own connection is dead: leave it to the process's end.
        std::mem::forget(held);
        std::mem::forget(holder);
    });
    drop(c);
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn tls_require_and_verify_full_work_and_an_unknown_ca_is_refused() {
    let c = cluster();
    let b = PgBackend::new(settings(&c.conn_str("require"), "tls", "default", PASSWORD)).unwrap();
    b.load().unwrap();
    let b = PgBackend::new(settings(&c.url_verify_full(), "tls", "default", PASSWORD)).unwrap();
    b.load().unwrap();
    // The server's certificate is not signed by a public CA: verify-full without its CA fails.
    let url = format!(
        "postgres://tunnelform@localhost:{}/postgres?sslmode=verify-full",
        c.port
    );
    let b = PgBackend::new(settings(&url, "tls", "default", PASSWORD)).unwrap();
    let e = b.load().unwrap_err().to_string();
    assert!(
        e.contains("cannot connect") && e.to_lowercase().contains("certificate"),
        "{e}"
    );
    // Who the server is (its name) is checked too: the certificate names localhost and 127.0.0.1.
    let url = format!(
        "postgres://tunnelform@127.0.0.1:{}/postgres?sslmode=verify-full&sslrootcert={}",
        c.port,
        c.ca_pem.display()
    );
    PgBackend::new(settings(&url, "tls", "default", PASSWORD))
        .unwrap()
        .load()
        .unwrap();
    let sessions = c.psql("SELECT count(*) FROM pg_stat_ssl WHERE ssl");
    assert!(sessions.trim().parse::<u32>().unwrap() >= 1, "{sessions}");
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn a_wrong_password_is_reported_without_the_password() {
    let c = cluster();
    let wrong = "Wrong-Password-0a1b2c";
    let s = settings(&c.conn_str("disable"), "pw", "default", wrong);
    assert!(!format!("{s:?}").contains(wrong));
    let b = PgBackend::new(s).unwrap();
    let e = b.load().unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(!text.contains(wrong) && !text.contains(PASSWORD), "{text}");
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn the_schema_is_versioned_and_a_newer_one_is_refused() {
    let c = cluster();
    backend("versioned", "default").load().unwrap();
    assert_eq!(
        c.psql("SELECT max(version) FROM versioned.tunnelform_schema_migrations")
            .trim(),
        "1"
    );
    c.psql("INSERT INTO versioned.tunnelform_schema_migrations (version) VALUES (99)");
    let e = backend("versioned", "default")
        .load()
        .unwrap_err()
        .to_string();
    assert!(e.contains("newer tunnelform") && e.contains("99"), "{e}");
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn a_server_restart_is_survived_by_a_holder_that_keeps_its_lock() {
    // Its own cluster: restarting the shared one would disturb the other tests.
    let own = Cluster::start();
    let rt = rt();
    rt.block_on(async {
        let a = PgBackend::new(settings(
            &own.conn_str("disable"),
            "restart",
            "default",
            PASSWORD,
        ))
        .unwrap();
        let held = a
            .lock(LockInfo::new("apply"), None, Box::new(|_| {}))
            .await
            .unwrap();
        let mut s = tokio::task::block_in_place(|| a.load()).unwrap();
        let (addr, rs) = tunnel(1);
        s.resources.insert(addr, rs);
        tokio::task::block_in_place(|| a.save(&mut s)).unwrap();
        tokio::task::block_in_place(|| own.restart());
        // The next write connects again, takes the lock again, and goes through.
        let (addr, rs) = tunnel(2);
        s.resources.insert(addr, rs);
        tokio::task::block_in_place(|| a.save(&mut s)).unwrap();
        let b = PgBackend::new(settings(
            &own.conn_str("disable"),
            "restart",
            "default",
            PASSWORD,
        ))
        .unwrap();
        assert_eq!(
            tokio::task::block_in_place(|| b.load())
                .unwrap()
                .resources
                .len(),
            2
        );
        let e = match b.lock(LockInfo::new("apply"), None, Box::new(|_| {})).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("the lock was not taken again after the restart"),
        };
        assert!(e.contains(&held.record().id), "{e}");
    });
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn a_role_without_create_uses_a_schema_set_up_for_it_and_is_told_why_it_cannot_set_one_up() {
    let c = cluster();
    backend("prepared", "default").load().unwrap();
    c.psql("CREATE ROLE limited_runner LOGIN PASSWORD 'limited-Secret-42'");
    c.psql("GRANT USAGE ON SCHEMA prepared TO limited_runner; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA prepared TO limited_runner");
    let conn = format!(
        "host=127.0.0.1 port={} user=limited_runner dbname=postgres sslmode=disable",
        c.port
    );
    let b = PgBackend::new(settings(&conn, "prepared", "default", "limited-Secret-42")).unwrap();
    let mut s = b.load().unwrap();
    s.resources.insert(tunnel(1).0, tunnel(1).1);
    b.save(&mut s).unwrap();
    let fresh = PgBackend::new(settings(
        &conn,
        "not_prepared",
        "default",
        "limited-Secret-42",
    ))
    .unwrap();
    let e = fresh.load().unwrap_err().to_string();
    assert!(
        e.contains("creating or migrating the schema not_prepared")
            && e.contains("permission denied"),
        "{e}"
    );
    assert!(!e.contains("limited-Secret-42"), "{e}");
}

/// A TCP relay between a backend and the cluster that counts round trips: the times the client
/// spoke again after the server had answered (the first message included).
struct Relay {
    port: u16,
    turns: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Relay {
    fn start(upstream: u16) -> Relay {
        use std::io::{Read, Write};
        use std::net::{Shutdown, TcpListener, TcpStream};
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use std::sync::Arc;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let turns = Arc::new(AtomicUsize::new(0));
        let counted = turns.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { return };
                let server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                // Whether the server spoke last: the client's next bytes start a round trip.
                let answered = Arc::new(AtomicBool::new(true));
                let (mut c_in, mut s_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (a, t) = (answered.clone(), counted.clone());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 65536];
                    while let Ok(n) = c_in.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        if a.swap(false, Ordering::SeqCst) {
                            t.fetch_add(1, Ordering::SeqCst);
                        }
                        if s_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = s_out.shutdown(Shutdown::Write);
                });
                let (mut s_in, mut c_out) = (server, client);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 65536];
                    while let Ok(n) = s_in.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        // Marked before it is passed on: the client cannot answer earlier.
                        answered.store(true, Ordering::SeqCst);
                        if c_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = c_out.shutdown(Shutdown::Write);
                });
            }
        });
        Relay { port, turns }
    }

    fn turns(&self) -> usize {
        self.turns.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The count once the relay has passed on everything sent so far (a client's last message,
    /// which gets no answer, may still be on its way through the relay).
    fn settled(&self) -> usize {
        loop {
            let n = self.turns();
            std::thread::sleep(Duration::from_millis(300));
            if self.turns() == n {
                return n;
            }
        }
    }
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn a_command_takes_the_lock_and_reads_the_state_and_journal_in_one_round_trip() {
    let c = cluster();
    // The schema exists (a first use creates it, which takes more round trips).
    backend("round_trips", "default").load().unwrap();
    let relay = Relay::start(c.port);
    let conn = format!(
        "host=127.0.0.1 port={} user=tunnelform dbname=postgres sslmode=disable",
        relay.port
    );
    let open = || PgBackend::new(settings(&conn, "round_trips", "default", PASSWORD)).unwrap();
    let rt = rt();
    // A first run writes a state and leaves an unfinished operation in the journal.
    let first = open();
    let held = rt
        .block_on(first.lock(LockInfo::new("apply"), None, Box::new(|_| {})))
        .unwrap();
    let mut s = first.load().unwrap();
    for i in 0..50 {
        let (a, r) = tunnel(i);
        s.resources.insert(a, r);
    }
    first.save(&mut s).unwrap();
    let (addr, _) = tunnel(60);
    let intent = Intent::new(
        addr.clone(),
        JournalAction::Create,
        ResourceKind::VpnConnection,
        "ap-guangzhou",
    );
    first.append(&Record::Intent(intent)).unwrap();
    // Another runner waits for the lock meanwhile: it reads nothing while it is held.
    let second = open();
    rt.block_on(async {
        let waiter = second.lock(
            LockInfo::new("plan"),
            Some(Duration::from_secs(20)),
            Box::new(|_| {}),
        );
        let release = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            // The last write before the release: the waiter must see it.
            let (a, mut r) = tunnel(7);
            r.attributes
                .insert("name".into(), tunnelform_model::Value::from("last write"));
            s.resources.insert(a, r);
            tokio::task::block_in_place(|| first.save(&mut s)).unwrap();
            held.unlock().await.unwrap();
        };
        let (got, ()) = tokio::join!(waiter, release);
        drop(got.unwrap());
    });
    drop(second);
    drop(first);

    // A command as the CLI runs it: open, lock, load, read the journal, release, close.
    let before = relay.settled();
    let b = open();
    let lock = rt
        .block_on(b.lock(LockInfo::new("plan"), None, Box::new(|_| {})))
        .unwrap();
    let setup_and_lock = relay.turns() - before;
    // The quick look that starts the refresh, then the load: from the rows the lock read.
    let peeked = b.peek().expect("a stored state can be looked at");
    let loaded = b.load().unwrap();
    let journal = b.journal().unwrap();
    let reads = relay.turns() - before - setup_and_lock;
    assert_eq!(loaded, s, "the state as the last holder left it");
    let mut ids: Vec<String> = peeked.objects.iter().map(|o| o.id.clone()).collect();
    ids.sort();
    let mut want: Vec<String> = s.resources.values().map(|r| r.id.clone()).collect();
    want.sort();
    assert_eq!(ids, want, "the look names every object of the state");
    assert_eq!(journal.unfinished().len(), 1);
    assert_eq!(journal.unfinished()[0].intent.address, addr);
    // Connecting (start-up and password exchange: 3), the session's set-up with the schema's
    // version (1), and the lock with the state and journal read in its transaction (1).
    assert!(
        setup_and_lock <= 5,
        "connecting and taking the lock took {setup_and_lock} round trips"
    );
    assert_eq!(reads, 0, "the state and journal were read again");
    // A save of one changed resource: the state row checked, then the writes and the commit.
    let mut s = loaded;
    let (a, mut r) = tunnel(8);
    r.attributes
        .insert("name".into(), tunnelform_model::Value::from("changed"));
    s.resources.insert(a, r);
    let before_save = relay.turns();
    b.save(&mut s).unwrap();
    let save = relay.turns() - before_save;
    assert!(save <= 2, "a save took {save} round trips");
    // A look taken before a write is not what a later load reads.
    assert!(b.peek().is_some());
    s.resources.remove(&tunnel(9).0);
    b.save(&mut s).unwrap();
    assert_eq!(
        b.load().unwrap(),
        s,
        "a load after a write reads the written state"
    );
    // Released in one statement; the session then ends.
    let before_unlock = relay.turns();
    rt.block_on(lock.unlock()).unwrap();
    drop(b);
    let end = relay.settled() - before_unlock;
    assert!(end <= 2, "releasing and closing took {end} round trips");
    assert_eq!(backend("round_trips", "default").load().unwrap(), s);
}
