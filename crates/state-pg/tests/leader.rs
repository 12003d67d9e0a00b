//! Leader election of `watch` replicas against a real server (a throwaway cluster started here):
//! one leader per state, a follower names it, and the lead passes on when the leader resigns or
//! its session ends. Without PostgreSQL binaries the test is reported as ignored.

#![cfg_attr(not(pg_binaries), allow(unused))]

use std::collections::BTreeMap;

use tunnelform_state_pg::testing::{Cluster, PASSWORD};
use tunnelform_state_pg::{LeaderElection, Leadership, PgSettings, Sources};

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
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut a = LeaderElection::new(&settings(&c, "default")).unwrap();
        let mut b = LeaderElection::new(&settings(&c, "default")).unwrap();
        let mut other = LeaderElection::new(&settings(&c, "other")).unwrap();
        assert_eq!(a.poll().await.unwrap(), Leadership::Leader);
        assert_eq!(a.poll().await.unwrap(), Leadership::Leader);
        let me = format!("pid {}", std::process::id());
        match b.poll().await.unwrap() {
            Leadership::Follower { leader: Some(l) } => {
                assert!(l.starts_with("tunnelform watch ") && l.ends_with(&me), "{l}")
            }
            f => panic!("two leaders, or no name: {f:?}"),
        }
        // Another workspace has a leader of its own.
        assert_eq!(other.poll().await.unwrap(), Leadership::Leader);

        // The leader resigns (a watcher stopping): the follower leads at its next poll.
        a.resign();
        assert_eq!(b.poll().await.unwrap(), Leadership::Leader);
        assert!(matches!(
            a.poll().await.unwrap(),
            Leadership::Follower { .. }
        ));

        // The leader's session ends on the server (its host cut off, the keepalives given up):
        // the lock is free for another, and the old leader is told at its next poll.
        c.psql(
            "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND s.application_name LIKE 'tunnelform watch%'",
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            // The server ends the session asynchronously: the lock is free a moment later.
            if a.poll().await.unwrap() == Leadership::Leader {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the lock was never freed");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            !matches!(b.poll().await, Ok(Leadership::Leader)),
            "the old leader still leads"
        );
        assert!(matches!(
            b.poll().await.unwrap(),
            Leadership::Follower { leader: Some(_) }
        ));
    });
}
