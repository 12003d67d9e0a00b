//! Leader election among the replicas of `tunnelform watch` that share one state: a session-level
//! advisory lock (a key of its own, apart from the state lock's) held on a dedicated connection,
//! kept by a lease.
//!
//! One task per election owns that connection and runs the campaign; [`LeaderElection::poll`] only
//! reads what it last found, so a cycle never waits on the election (but for the first answer).
//!
//! - A **follower** keeps a waiting `pg_advisory_lock(key)` outstanding: the server grants it the
//!   moment the leader's session ends, whichever host the leader ran on. The wait is cancelled
//!   (`CancelToken`) when the follower resigns or stops: a query in flight keeps a tokio-postgres
//!   connection open after its `Client` is dropped, so dropping alone would leave it waiting.
//! - A **leader** heartbeats on that connection from the task, independently of the cycle (a long
//!   apply keeps the lead), every quarter of the lease. Its session is set up so the server ends
//!   it (and frees the lock) when the heartbeats stop for one lease, whatever the cause:
//!   `idle_session_timeout` (PostgreSQL 14+) for a process that hangs or is stopped with its
//!   socket still open (the kernel keeps answering TCP keepalives for a stopped process), and
//!   `tcp_user_timeout` with keepalives for a network cut without FIN. The leader counts itself
//!   leader only until 7/8 of a lease after the send time of its last answered heartbeat (the
//!   server cannot end the session before one lease after that answer), and gives the lead up
//!   (closing the connection, telling the caller through `on_lost`) as soon as a heartbeat fails
//!   or goes unanswered for half a lease, so it stops acting before another replica can start.
//! - The server checks a waiting follower's socket every second (`client_connection_check_interval`),
//!   so a dead follower leaves the queue instead of being granted the lock.
//!
//! Nothing here prints.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_postgres::{Client, NoTls};

use crate::settings::PgSettings;
use crate::PgError;

/// How long the first answer of the election (connecting, the first try of the lock) may take.
const FIRST_ANSWER: Duration = Duration::from_secs(10);

/// The shortest lease: shorter ones would lose the lead to a loaded machine's pauses.
pub const MIN_LEASE: Duration = Duration::from_secs(2);

/// What a poll of the election found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leadership {
    /// This process holds the leader lock, and its lease is fresh.
    Leader,
    /// Another session holds it: its name (`tunnelform watch USER@HOST pid N`) when known, as
    /// read when this replica began to wait for the lock.
    Follower { leader: Option<String> },
}

/// What the campaign task last found.
#[derive(Clone, Debug)]
enum Status {
    /// No answer yet.
    Starting,
    /// The lock is ours until then (the lease as of the last answered heartbeat).
    Leader {
        until: Instant,
    },
    Follower {
        leader: Option<String>,
    },
    /// The database could not be asked (or the lead was lost); the task is connecting again.
    Down {
        cause: String,
    },
}

/// Called (from the election's task) when this process stops leading: with why.
pub type OnLost = Arc<dyn Fn(String) + Send + Sync>;

/// This process's place in the election of one state's (schema and workspace's) leader.
pub struct LeaderElection {
    campaign: Arc<Campaign>,
    run: Option<Run>,
}

/// The running campaign task.
struct Run {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    status: watch::Receiver<Status>,
}

/// What the campaign task needs.
struct Campaign {
    settings: PgSettings,
    connector: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    key: i64,
    lease: Duration,
    on_lost: Option<OnLost>,
}

impl std::fmt::Debug for LeaderElection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderElection")
            .field("state", &self.campaign.settings.name())
            .field("lease", &self.campaign.lease)
            .field("leading", &self.leads_now())
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

/// The lease's timings: heartbeat period, how long a heartbeat may go unanswered, and how long
/// after a heartbeat's send time its answer keeps this process leader.
fn timings(lease: Duration) -> (Duration, Duration, Duration) {
    (lease / 4, lease / 2, lease * 7 / 8)
}

impl LeaderElection {
    /// Joins the election of the state `settings` name, with heartbeats that keep the lead for
    /// `lease` (at least [`MIN_LEASE`]): a leader that stops heartbeating loses the lead within
    /// one lease. `on_lost` is told when this process stops leading. Nothing is sent before the
    /// first poll.
    pub fn new(
        settings: &PgSettings,
        lease: Duration,
        on_lost: Option<OnLost>,
    ) -> Result<LeaderElection, PgError> {
        let connector = crate::tls::connector(settings.ssl_mode, settings.root_cert.as_deref())?;
        Ok(LeaderElection {
            campaign: Arc::new(Campaign {
                key: leader_key(&settings.schema, &settings.workspace),
                settings: settings.clone(),
                connector,
                lease: lease.max(MIN_LEASE),
                on_lost,
            }),
            run: None,
        })
    }

    /// Whether this process leads now (the lock held and the lease fresh). An error means the
    /// database could not be asked: the caller must not act. Only the first poll waits (for the
    /// first answer); later ones read what the election's task last found.
    pub async fn poll(&mut self) -> Result<Leadership, PgError> {
        let campaign = self.campaign.clone();
        let run = self.run.get_or_insert_with(|| {
            let (stop, stopped) = oneshot::channel();
            let (tx, status) = watch::channel(Status::Starting);
            let task = tokio::spawn(campaign.run(tx, stopped));
            Run {
                stop: Some(stop),
                task,
                status,
            }
        });
        let status = {
            let mut rx = run.status.clone();
            let r = tokio::time::timeout(
                FIRST_ANSWER,
                rx.wait_for(|s| !matches!(s, Status::Starting)),
            )
            .await
            .map(|r| r.map(|s| s.clone()));
            match r {
                Ok(Ok(s)) => s,
                Ok(Err(_)) => Status::Down {
                    cause: "the election's task ended".into(),
                },
                Err(_) => Status::Down {
                    cause: format!("no answer within {} s", FIRST_ANSWER.as_secs()),
                },
            }
        };
        let server = self.campaign.settings.server();
        match status {
            Status::Leader { until } if Instant::now() < until => Ok(Leadership::Leader),
            Status::Leader { .. } => Err(PgError::Query {
                server,
                doing: "keeping the watch lead".into(),
                cause: "the leader's heartbeat went unanswered past its lease".into(),
            }),
            Status::Follower { leader } => Ok(Leadership::Follower { leader }),
            Status::Down { cause } => Err(PgError::Query {
                server,
                doing: "taking part in the watch leader election".into(),
                cause,
            }),
            Status::Starting => Err(PgError::Gone),
        }
    }

    /// Whether this process leads at this instant (no I/O): the lock held and the lease fresh.
    /// A leader asks before each action, so one whose lease ran out meanwhile does not act.
    pub fn leads_now(&self) -> bool {
        self.run.as_ref().is_some_and(
            |r| matches!(&*r.status.borrow(), Status::Leader { until } if Instant::now() < *until),
        )
    }

    /// Gives the lead (or the place in the queue) up: on stop. The session ends, so another
    /// replica takes over at once. Waits at most a few seconds for the server to be told.
    pub async fn resign(&mut self) {
        let Some(mut run) = self.run.take() else {
            return;
        };
        if let Some(stop) = run.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(Duration::from_secs(3), &mut run.task)
            .await
            .is_err()
        {
            run.task.abort();
        }
    }
}

/// How a session of the campaign ended.
enum End {
    /// Asked to stop.
    Stopped,
    /// The session failed (or was given up): why, and whether it led.
    Lost { cause: String, led: bool },
}

impl Campaign {
    async fn run(self: Arc<Self>, tx: watch::Sender<Status>, mut stop: oneshot::Receiver<()>) {
        let pause = (self.lease / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
        loop {
            let connected = tokio::select! {
                r = self.connect() => r,
                _ = &mut stop => return,
            };
            let began = Instant::now();
            let had_session = connected.is_ok();
            let (cause, led) = match connected {
                Err(e) => (e.to_string(), false),
                Ok((client, mut conn)) => {
                    let end = self.serve(&client, &mut conn, &tx, &mut stop).await;
                    drop(client);
                    match end {
                        End::Stopped => {
                            // Dropping the client sends Terminate once no answer is pending.
                            if tokio::time::timeout(Duration::from_secs(2), &mut conn)
                                .await
                                .is_err()
                            {
                                conn.abort();
                            }
                            return;
                        }
                        End::Lost { cause, led } => {
                            // Closing the socket ends the session if the server has not yet.
                            conn.abort();
                            (cause, led)
                        }
                    }
                }
            };
            let _ = tx.send(Status::Down {
                cause: cause.clone(),
            });
            if led {
                if let Some(f) = &self.on_lost {
                    f(cause);
                }
            }
            // A session that had lasted (a server restart, a lost lead) is opened again at once;
            // a failed connection, or a session lost at once, after a pause.
            if !had_session || began.elapsed() < pause {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = &mut stop => return,
                }
            }
        }
    }

    /// One session: follows (waiting for the lock) until granted, then leads (heartbeating)
    /// until the session fails or a stop is asked.
    async fn serve(
        &self,
        client: &Client,
        conn: &mut JoinHandle<()>,
        tx: &watch::Sender<Status>,
        stop: &mut oneshot::Receiver<()>,
    ) -> End {
        let server = self.settings.server();
        let (every, answer_within, keeps) = timings(self.lease);
        let lost = |doing: &str, cause: String, led: bool| End::Lost {
            cause: PgError::Query {
                server: server.clone(),
                doing: doing.to_string(),
                cause,
            }
            .to_string(),
            led,
        };
        let k = self.key as u64;
        let (hi, lo) = ((k >> 32) as i64, (k & 0xffff_ffff) as i64);
        let got = tokio::time::timeout(
            FIRST_ANSWER,
            client.query_one("SELECT pg_try_advisory_lock($1)", &[&self.key]),
        )
        .await;
        let got: bool = match got {
            Ok(Ok(row)) => row.get(0),
            Ok(Err(e)) => return lost("taking the watch leader lock", e.to_string(), false),
            Err(_) => return lost("taking the watch leader lock", "no answer".into(), false),
        };
        if !got {
            let leader = tokio::time::timeout(
                FIRST_ANSWER,
                client.query_opt(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                     WHERE l.locktype = 'advisory' AND l.granted
                       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                       AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 1
                     LIMIT 1",
                    &[&hi, &lo],
                ),
            )
            .await;
            let leader = match leader {
                Ok(Ok(row)) => row.map(|r| r.get::<_, String>(0)).filter(|s| !s.is_empty()),
                Ok(Err(e)) => return lost("reading who leads", e.to_string(), false),
                Err(_) => return lost("reading who leads", "no answer".into(), false),
            };
            let _ = tx.send(Status::Follower { leader });
            // The server answers this when the leader's session ends (or at once, if it ended
            // since the try above).
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&self.key];
            let wait = client.execute("SELECT pg_advisory_lock($1)", &params);
            tokio::select! {
                r = wait => if let Err(e) = r {
                    return lost("waiting for the watch leader lock", e.to_string(), false);
                },
                _ = &mut *stop => {
                    self.cancel(client).await;
                    return End::Stopped;
                }
            }
        }
        // Leading: heartbeats keep the session (and the lock) alive; the first one starts the
        // lease.
        loop {
            let sent = Instant::now();
            match tokio::time::timeout(answer_within, client.simple_query("SELECT 1")).await {
                Ok(Ok(_)) => {
                    let _ = tx.send(Status::Leader {
                        until: sent + keeps,
                    });
                }
                Ok(Err(e)) => return lost("heartbeating as the watch leader", e.to_string(), true),
                Err(_) => {
                    return lost(
                        "heartbeating as the watch leader",
                        format!("no answer within {} ms", answer_within.as_millis()),
                        true,
                    )
                }
            }
            tokio::select! {
                _ = tokio::time::sleep_until(sent + every) => {}
                _ = &mut *stop => return End::Stopped,
                // The server ended the session (restarted, terminated it): the lead is lost now,
                // not at the next heartbeat.
                _ = &mut *conn => {
                    return lost(
                        "heartbeating as the watch leader",
                        "the server closed the connection".into(),
                        true,
                    )
                }
            }
        }
    }

    /// Cancels the query in flight (the follower's wait), so the connection can close.
    async fn cancel(&self, client: &Client) {
        let token = client.cancel_token();
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            match &self.connector {
                Some(tls) => token.cancel_query(tls.clone()).await,
                None => token.cancel_query(NoTls).await,
            }
        })
        .await;
    }

    async fn connect(&self) -> Result<(Client, JoinHandle<()>), PgError> {
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
        config.application_name(format!(
            "tunnelform watch {} pid {}",
            tunnelform_state::current_who(),
            std::process::id()
        ));
        let lease_s = self.lease.as_secs().max(1);
        config.connect_timeout(FIRST_ANSWER);
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs((lease_s / 4).max(1)));
        config.keepalives_interval(Duration::from_secs(1));
        config.keepalives_retries(3);
        config.tcp_user_timeout(self.lease);
        let (client, conn) = match &self.connector {
            Some(tls) => {
                let (client, conn) = config.connect(tls.clone()).await.map_err(fail)?;
                let conn = tokio::spawn(async move {
                    let _ = conn.await;
                });
                (client, conn)
            }
            None => {
                let (client, conn) = config.connect(NoTls).await.map_err(fail)?;
                let conn = tokio::spawn(async move {
                    let _ = conn.await;
                });
                (client, conn)
            }
        };
        // The server ends the session (and frees the lock) one lease after the last heartbeat,
        // or when the network gives no sign of the client for a lease; it checks a waiting
        // follower's socket every second. No statement or lock wait is cut short.
        let ms = self.lease.as_millis();
        let set = format!(
            "SET statement_timeout = 0; SET lock_timeout = 0; \
             SET idle_session_timeout = {ms}; SET client_connection_check_interval = 1000; \
             SET tcp_keepalives_idle = {}; SET tcp_keepalives_interval = 1; \
             SET tcp_keepalives_count = 3; SET tcp_user_timeout = {ms}",
            (lease_s / 4).max(1)
        );
        let r = tokio::time::timeout(FIRST_ANSWER, client.batch_execute(&set)).await;
        let failed = match r {
            Ok(Ok(())) => None,
            Ok(Err(e)) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_OBJECT) => {
                Some(PgError::Connect {
                    server: server.clone(),
                    cause: format!(
                        "{}; the watch leader election needs PostgreSQL 14 or later (idle_session_timeout)",
                        e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string())
                    ),
                })
            }
            Ok(Err(e)) => Some(fail(e)),
            Err(_) => Some(PgError::Connect {
                server: server.clone(),
                cause: format!("no answer within {} s", FIRST_ANSWER.as_secs()),
            }),
        };
        if let Some(e) = failed {
            conn.abort();
            return Err(e);
        }
        Ok((client, conn))
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

    #[test]
    fn a_leader_stops_counting_itself_leader_before_the_server_can_free_the_lock() {
        for lease in [MIN_LEASE, Duration::from_secs(10), Duration::from_secs(60)] {
            let (every, answer_within, keeps) = timings(lease);
            // The server ends the session at least one lease after the last answered
            // heartbeat's send time; the leader gives up before, counting the next heartbeat's
            // wait for its answer.
            assert!(keeps < lease, "{lease:?}");
            assert!(every + answer_within < keeps, "{lease:?}");
            // A heartbeat answered in time renews the lease before it runs out.
            assert!(every < keeps, "{lease:?}");
        }
    }
}
