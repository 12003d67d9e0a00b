//! Leader election of `watch` replicas against a real server (a throwaway cluster started here):
//! one leader per state, a follower names it, the heartbeats keep the lead, and the lead passes on
//! (granted to the waiting follower by the server) when the leader resigns or its session ends. Without PostgreSQL binaries the test is reported as ignored.

#![cfg_attr(not(pg_binaries), allow(unused))]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tunnelform_state_pg::testing::{Cluster, PASSWORD};
use tunnelform_state_pg::{LeaderElection, Leadership, OnLost, PgSettings, Sources};

fn settings(c: &Cluster, workspace: &str) -> PgSettings {
    let block = BTreeMap::from([
        ("conn_str".to_string(), c.conn_str("disable")),
        ("schema_name".to_string(), "leaders".to_string()),
    ]);
    let ws = workspace.to_string();
    let env = move |k: &str| match k {
        "PGPASSWORD" => Some(PASSWORD.to_string()),
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

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn one_leader_per_state_and_the_lead_passes_on_when_it_resigns_or_its_session_ends() {
    let c = Cluster::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let lease = Duration::from_secs(2);
        let (lost_tx, mut lost_rx) = tokio::sync::mpsc::unbounded_channel::<(char, String)>();
        let told = |who: char| -> Option<OnLost> {
            let tx = lost_tx.clone();
            Some(Arc::new(move |why: String| {
                let _ = tx.send((who, why));
            }))
        };
        let mut a = LeaderElection::new(&settings(&c, "default"), lease, told('a')).unwrap();
        let mut b = LeaderElection::new(&settings(&c, "default"), lease, told('b')).unwrap();
        let mut other = LeaderElection::new(&settings(&c, "other"), lease, told('o')).unwrap();
        assert_eq!(a.poll().await.unwrap(), Leadership::Leader);
        assert!(a.leads_now());
        let me = format!("pid {}", std::process::id());
        match b.poll().await.unwrap() {
            Leadership::Follower { leader: Some(l) } => {
                assert!(l.starts_with("tunnelform watch ") && l.ends_with(&me), "{l}")
            }
            f => panic!("two leaders, or no name: {f:?}"),
        }
        assert!(!b.leads_now());
        // Another workspace has a leader of its own.
        assert_eq!(other.poll().await.unwrap(), Leadership::Leader);

        // The heartbeats keep the lead over several leases, with no poll in between.
        tokio::time::sleep(lease * 3).await;
        assert_eq!(a.poll().await.unwrap(), Leadership::Leader);
        assert!(matches!(
            b.poll().await.unwrap(),
            Leadership::Follower { .. }
        ));

        // The leader resigns (a watcher stopping): the follower's waiting lock is granted by the
        // server, without a poll asking for it.
        a.resign().await;
        until(|| b.leads_now(), "the follower was not granted the lock").await;
        assert_eq!(b.poll().await.unwrap(), Leadership::Leader);
        assert!(matches!(
            a.poll().await.unwrap(),
            Leadership::Follower { .. }
        ));

        other.resign().await;
        // The leader's session ends on the server (its host cut off, its lease run out): the
        // lock passes to the waiting follower, and the old leader is told at once.
        c.psql(&format!(
            "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND s.application_name LIKE 'tunnelform watch%{me}'"
        ));
        until(|| a.leads_now(), "the lock was never passed on").await;
        let (who, why) = tokio::time::timeout(Duration::from_secs(10), lost_rx.recv())
            .await
            .expect("the old leader was not told")
            .unwrap();
        assert_eq!(who, 'b', "{why}");
        assert!(why.contains("heartbeating as the watch leader"), "{why}");
        assert!(!b.leads_now());
        assert!(
            !matches!(b.poll().await, Ok(Leadership::Leader)),
            "the old leader still leads"
        );
        // It waits in the queue again.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !matches!(b.poll().await, Ok(Leadership::Follower { leader: Some(_) })) {
            assert!(std::time::Instant::now() < deadline, "not a follower again");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // A follower that resigns leaves the queue: its wait is cancelled, its session ends.
        let waiting = || {
            c.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                 AND application_name LIKE 'tunnelform watch%'",
            )
            .trim()
            .to_string()
        };
        assert_eq!(waiting(), "1");
        b.resign().await;
        assert_eq!(waiting(), "0");
        assert!(lost_rx.try_recv().is_err(), "only one lead was lost");
    });
}

/// Waits (at most 10 s) until `cond` holds.
async fn until(cond: impl Fn() -> bool, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
