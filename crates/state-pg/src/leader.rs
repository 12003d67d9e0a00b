//! Leader election among the replicas of `tunnelform watch` that share one state: a session-level
//! advisory lock (a key of its own, apart from the state lock's) held on a dedicated connection.
//!
//! The server releases a session lock when its session ends, so a leader killed with SIGKILL frees
//! it as soon as the server sees the socket closed (at once on one host; over a network, when the
//! TCP keepalives set on both ends give up, within about 30 seconds). A leader checks its
//! connection before every decision to act, so one cut off from the database stops acting.
//!
//! Runs on the caller's runtime (the watcher's loop awaits it); nothing here prints.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio_postgres::{Client, NoTls};

use crate::settings::PgSettings;
use crate::PgError;

/// How long one round trip of the election may take before the database counts as unreachable.
const ROUND_TRIP: Duration = Duration::from_secs(10);

/// How long a leader whose process is known gone is waited for in one poll.
const DEAD_LEADER_GRACE: Duration = Duration::from_secs(3);

/// What a poll of the election found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leadership {
    /// This process holds the leader lock.
    Leader,
    /// Another session holds it: its name (`tunnelform watch USER@HOST pid N`) when known.
    Follower { leader: Option<String> },
}

/// This process's place in the election of one state's (schema and workspace's) leader.
pub struct LeaderElection {
    settings: PgSettings,
    connector: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    key: i64,
    client: Option<Client>,
    leading: bool,
}

impl std::fmt::Debug for LeaderElection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderElection")
            .field("state", &self.settings.name())
            .field("leading", &self.leading)
            .finish_non_exhaustive()
    }
}

/// The leader lock's key: 64 bits of SHA-256 of `tunnelform-leader:SCHEMA/WORKSPACE` (the state
/// lock hashes another text, so the two never collide by construction).
fn leader_key(schema: &str, workspace: &str) -> i64 {
    let d = Sha256::digest(format!("tunnelform-leader:{schema}/{workspace}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

impl LeaderElection {
    /// Joins the election of the state `settings` name. Nothing is sent before the first poll.
    pub fn new(settings: &PgSettings) -> Result<LeaderElection, PgError> {
        let connector = crate::tls::connector(settings.ssl_mode, settings.root_cert.as_deref())?;
        Ok(LeaderElection {
            key: leader_key(&settings.schema, &settings.workspace),
            settings: settings.clone(),
            connector,
            client: None,
            leading: false,
        })
    }

    /// Whether this process leads now. A leader checks that its session is alive (else it has
    /// lost the lock with it); a follower tries to take the lock. An error means the database
    /// could not be asked: the caller must not act (and leads no more).
    pub async fn poll(&mut self) -> Result<Leadership, PgError> {
        let r = tokio::time::timeout(ROUND_TRIP, async {
            // A leader known dead (its process gone from this machine) is given the moment the
            // server takes to end its session, so the lead passes in this poll, not the next.
            let give_up = tokio::time::Instant::now() + DEAD_LEADER_GRACE;
            loop {
                let r = self.poll_once().await;
                let dead_leader = matches!(
                    &r,
                    Ok(Leadership::Follower { leader })
                        if Self::leader_gone_from_this_machine(leader.as_deref())
                );
                if !dead_leader || tokio::time::Instant::now() >= give_up {
                    break r;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        let r = r.unwrap_or_else(|_| {
            Err(PgError::Query {
                server: self.settings.server(),
                doing: "checking the watch leader lock".into(),
                cause: format!("no answer within {} s", ROUND_TRIP.as_secs()),
            })
        });
        if r.is_err() {
            // The session may be gone, and the lock with it: start afresh next time.
            self.client = None;
            self.leading = false;
        }
        r
    }

    async fn poll_once(&mut self) -> Result<Leadership, PgError> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
            self.leading = false;
        }
        if self.client.is_none() {
            self.client = Some(self.connect().await?);
        }
        let server = self.settings.server();
        let q = |doing: &str, e: tokio_postgres::Error| PgError::Query {
            server: server.clone(),
            doing: doing.to_string(),
            cause: e.to_string(),
        };
        let client = self.client.as_ref().ok_or(PgError::Gone)?;
        if self.leading {
            client
                .simple_query("SELECT 1")
                .await
                .map_err(|e| q("checking the watch leader's session", e))?;
            return Ok(Leadership::Leader);
        }
        let got: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&self.key])
            .await
            .map_err(|e| q("taking the watch leader lock", e))?
            .get(0);
        if got {
            self.leading = true;
            return Ok(Leadership::Leader);
        }
        let k = self.key as u64;
        let (hi, lo) = ((k >> 32) as i64, (k & 0xffff_ffff) as i64);
        let leader: Option<String> = client
            .query_opt(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'advisory' AND l.granted
                   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 1
                 LIMIT 1",
                &[&hi, &lo],
            )
            .await
            .map_err(|e| q("reading who leads", e))?
            .map(|r| r.get::<_, String>(0))
            .filter(|s| !s.is_empty());
        Ok(Leadership::Follower { leader })
    }

    /// Whether the lead is held by a watcher on this machine whose process is gone (killed): its
    /// session ends as soon as the server reads the closed socket, a moment a loaded server may
    /// take; until then the lock shows held.
    fn leader_gone_from_this_machine(leader: Option<&str>) -> bool {
        let Some(rest) = leader.and_then(|l| {
            l.strip_prefix(&format!(
                "tunnelform watch {} pid ",
                tunnelform_state::current_who()
            ))
        }) else {
            return false;
        };
        let Ok(pid) = rest.trim().parse::<u32>() else {
            return false;
        };
        pid != std::process::id()
            && std::path::Path::new("/proc/self").exists()
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
    }

    /// Gives the lead up (ending the session releases the lock): on stop.
    pub fn resign(&mut self) {
        self.client = None;
        self.leading = false;
    }

    async fn connect(&self) -> Result<Client, PgError> {
        let server = self.settings.server();
        let fail = |e: tokio_postgres::Error| PgError::Connect {
            server: server.clone(),
            cause: match e.as_db_error() {
                Some(db) => format!("{}: {}", db.severity(), db.message()),
                None => e.to_string(),
            },
        };
        let mut config = self.settings.config.clone();
        // Followers read the leader's name from pg_stat_activity.
        config.application_name(&format!(
            "tunnelform watch {} pid {}",
            tunnelform_state::current_who(),
            std::process::id()
        ));
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(10));
        let client = match &self.connector {
            Some(tls) => {
                let (client, conn) = config.connect(tls.clone()).await.map_err(fail)?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                client
            }
            None => {
                let (client, conn) = config.connect(NoTls).await.map_err(fail)?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                client
            }
        };
        // The server drops a vanished leader's session (and its lock) within about 30 seconds.
        client
            .batch_execute(
                "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; \
                 SET tcp_keepalives_count = 3; SET tcp_user_timeout = 30000",
            )
            .await
            .map_err(fail)?;
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leader_key_is_per_state_and_not_the_state_locks() {
        let a = leader_key("s", "default");
        assert_ne!(a, leader_key("s", "other"));
        assert_ne!(a, leader_key("t", "default"));
        assert_ne!(a, crate::lock_key("s", "default"));
    }
}
