//! The connection's thread: one session, the schema's migrations, and every query the backend
//! sends, run one job at a time in the order they were sent.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;
use tunnelform_state::peek::{peek_entry, PeekedObject};
use tunnelform_state::{BackendError, LockRecord};

use crate::settings::PgSettings;
use crate::PgError;

/// Where an answer goes: a blocked caller, or an awaiting one.
pub(crate) enum Reply<T> {
    Sync(std::sync::mpsc::Sender<T>),
    Async(oneshot::Sender<T>),
}

impl<T> Reply<T> {
    fn send(self, v: T) {
        match self {
            Reply::Sync(tx) => {
                let _ = tx.send(v);
            }
            Reply::Async(tx) => {
                let _ = tx.send(v);
            }
        }
    }
}

type R<T> = Reply<Result<T, BackendError>>;

/// A state's rows as read in one snapshot.
pub(crate) struct Loaded {
    pub lineage: String,
    pub serial: u64,
    pub meta: String,
    /// (address, body), in no particular order.
    pub rows: Vec<(String, String)>,
    /// The managed objects the rows name, when they were looked at as they arrived (the read
    /// that took the lock does, so the refresh can start as soon as the last row is in).
    pub objects: Option<Vec<PeekedObject>>,
}

pub(crate) enum JournalDelete {
    None,
    All,
    Ops(Vec<String>),
}

/// One transaction's worth of writes.
pub(crate) struct Write {
    pub lineage: String,
    /// The serial the writer read: the row must not hold a newer one.
    pub base_serial: u64,
    pub new_serial: u64,
    pub meta: String,
    pub upserts: Vec<(String, String)>,
    pub deletes: Vec<String>,
    /// Replace every resource row (no baseline to diff against).
    pub full: bool,
    /// The state row may be created (it did not exist when read).
    pub may_create: bool,
    pub journal: JournalDelete,
    /// Makes a retried commit (its answer lost with the connection) a no-op.
    pub write_id: String,
}

pub(crate) enum WriteRefused {
    Lineage { on_disk: String, ours: String },
    Serial { on_disk: u64, ours: u64 },
    Vanished,
}

pub(crate) enum ForceUnlock {
    Cleared(Box<LockRecord>),
    NotLocked,
    WrongId(Box<LockRecord>),
    StillHeld(Box<LockRecord>),
}

pub(crate) enum Job {
    Exists(R<bool>),
    Load(R<Option<Loaded>>),
    Write(Box<Write>, R<Result<(), WriteRefused>>),
    ReadJournal(R<Vec<(i64, String)>>),
    Append(i64, String, String, R<()>),
    DeleteJournal(JournalDelete, R<()>),
    TryLock(i64, Box<LockRecord>, R<Option<Option<LockRecord>>>),
    Holder(i64, R<Option<LockRecord>>),
    Unlock(i64, String, Option<R<()>>),
    ForceUnlock(i64, String, R<ForceUnlock>),
    Workspaces(R<Vec<String>>),
    /// Delete this workspace's state (its resources with it) and journal.
    DeleteWorkspace(R<()>),
    /// Connect now (and set the session up), ahead of the first query; a failure is reported by
    /// the job that needs the connection (which tries again).
    Connect,
    /// Close the session (ending it at once on the server, and with it the lock) and stop.
    Shutdown,
}

/// The schema version this build writes; each entry of [`MIGRATIONS`] brings it one further.
const MIGRATIONS: &[&str] = &[
    // 1: states by workspace, resources by address, the journal, the lock holders.
    "CREATE TABLE {s}.states (
        workspace text PRIMARY KEY,
        lineage text NOT NULL,
        serial bigint NOT NULL,
        meta text NOT NULL,
        write_id text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE {s}.resources (
        workspace text NOT NULL REFERENCES {s}.states (workspace) ON DELETE CASCADE,
        address text NOT NULL,
        body text NOT NULL,
        PRIMARY KEY (workspace, address)
    );
    CREATE TABLE {s}.journal (
        workspace text NOT NULL,
        seq bigint NOT NULL,
        op_id text NOT NULL,
        record text NOT NULL,
        PRIMARY KEY (workspace, seq)
    );
    CREATE INDEX journal_by_op ON {s}.journal (workspace, op_id);
    CREATE TABLE {s}.locks (
        workspace text PRIMARY KEY,
        lock_id text NOT NULL,
        backend_pid integer NOT NULL,
        record text NOT NULL
    );",
];

/// Serialises schema migrations of every tunnelform across the database.
const MIGRATION_LOCK: i64 = 0x7475_6e6e_656c_666d; // "tunnelfm"

/// How long a lost connection is tried again before the job fails.
const RECONNECT_FOR: Duration = Duration::from_secs(20);

pub(crate) struct Session {
    settings: PgSettings,
    connector: Option<MakeRustlsConnect>,
    client: Option<Client>,
    migrated: bool,
    ever_connected: bool,
    held: Option<(i64, LockRecord)>,
    /// The state and journal read in the round trip that took the lock, for the `load` and
    /// `journal` that follow it. Valid while this session holds the lock and has written nothing
    /// since (every writer holds the lock, so nobody else can have changed them).
    prefetched: Option<Prefetched>,
    bytes: Arc<AtomicU64>,
    schema: String,
    /// The task driving the connection (awaited on shutdown, so the server is told goodbye).
    conn_task: Option<tokio::task::JoinHandle<()>>,
}

struct Prefetched {
    /// `None` once a load took it.
    state: Option<Option<Loaded>>,
    /// `None` once a journal read took it.
    journal: Option<Vec<(i64, String)>>,
}

/// The server, too, notices a runner that vanished from the network (and drops its lock).
const KEEPALIVES: &str = "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; \
                          SET tcp_keepalives_count = 3; SET tcp_user_timeout = 30000";

fn is_connection_error(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.as_db_error() {
        None => true,
        Some(db) => {
            let c = db.code().code();
            c.starts_with("57P") || c.starts_with("08")
        }
    }
}

macro_rules! retrying {
    ($self:ident, $doing:expr, $body:expr) => {{
        let mut attempt = 0;
        loop {
            if let Err(e) = $self.ensure().await {
                break Err(e);
            }
            match $body.await {
                Ok(v) => break Ok(v),
                Err(e) if attempt == 0 && is_connection_error(&e) => {
                    tracing::debug!(error = %e, "pg backend: connection lost; connecting again");
                    attempt += 1;
                    $self.client = None;
                }
                Err(e) => break Err($self.query_error($doing, &e)),
            }
        }
    }};
}

/// A statement's parameter with its type (sent without a separate prepare).
type Param<'a> = (&'a (dyn tokio_postgres::types::ToSql + Sync), Type);

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The first error of statements sent together (later ones fail because of it, or ran after it
/// in a transaction that the closing COMMIT then rolled back).
fn first_error<const N: usize>(
    results: [Result<(), tokio_postgres::Error>; N],
) -> Result<(), tokio_postgres::Error> {
    results.into_iter().collect()
}

/// A statement that may be left out of a pipeline.
async fn maybe<F: std::future::Future<Output = Result<u64, tokio_postgres::Error>>>(
    run: bool,
    f: F,
) -> Result<(), tokio_postgres::Error> {
    if run {
        f.await.map(|_| ())
    } else {
        Ok(())
    }
}

impl Session {
    pub(crate) fn new(
        settings: PgSettings,
        connector: Option<MakeRustlsConnect>,
        bytes: Arc<AtomicU64>,
    ) -> Session {
        let schema = format!("\"{}\"", settings.schema);
        Session {
            settings,
            connector,
            client: None,
            migrated: false,
            ever_connected: false,
            held: None,
            prefetched: None,
            bytes,
            schema,
            conn_task: None,
        }
    }

    pub(crate) fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Job>,
        done: std::sync::mpsc::Sender<()>,
    ) {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                tracing::error!(error = %e, "pg backend: cannot start its runtime");
                return;
            }
        };
        rt.block_on(async move {
            while let Some(job) = rx.recv().await {
                if matches!(job, Job::Shutdown) {
                    break;
                }
                self.handle(job).await;
            }
            // Dropping the client ends the session (a Terminate message): the server releases the
            // lock now rather than when it notices the socket closed.
            self.client = None;
            if let Some(task) = self.conn_task.take() {
                let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
            }
        });
        let _ = done.send(());
    }

    fn sql(&self, text: &str) -> String {
        text.replace("{s}", &self.schema)
    }

    fn query_error(&self, doing: &str, e: &tokio_postgres::Error) -> BackendError {
        let cause = match e.as_db_error() {
            Some(db) => {
                let mut s = format!("{}: {}", db.severity(), db.message());
                if let Some(d) = db.detail() {
                    s.push_str(&format!(" ({d})"));
                }
                if let Some(h) = db.hint() {
                    s.push_str(&format!("; hint: {h}"));
                }
                s
            }
            None => e.to_string(),
        };
        PgError::Query {
            server: self.settings.server(),
            doing: doing.to_string(),
            cause,
        }
        .into()
    }

    async fn connect_once(&mut self) -> Result<Client, PgError> {
        let server = self.settings.server();
        let fail = |e: tokio_postgres::Error| PgError::Connect {
            server: server.clone(),
            cause: match e.as_db_error() {
                Some(db) => format!("{}: {}", db.severity(), db.message()),
                None => {
                    let mut s = e.to_string();
                    let mut src = std::error::Error::source(&e);
                    while let Some(c) = src {
                        s.push_str(&format!(": {c}"));
                        src = c.source();
                    }
                    s
                }
            },
        };
        let client = match &self.connector {
            Some(tls) => {
                let (client, conn) = self
                    .settings
                    .config
                    .connect(tls.clone())
                    .await
                    .map_err(fail)?;
                self.conn_task = Some(tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "pg backend: connection ended");
                    }
                }));
                client
            }
            None => {
                let (client, conn) = self.settings.config.connect(NoTls).await.map_err(fail)?;
                self.conn_task = Some(tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "pg backend: connection ended");
                    }
                }));
                client
            }
        };
        Ok(client)
    }

    /// A live connection, with the schema migrated and the lock taken again if it was held.
    async fn ensure(&mut self) -> Result<(), BackendError> {
        if self.client.as_ref().is_some_and(|c| !c.is_closed()) {
            return Ok(());
        }
        self.client = None;
        // What was read on the lost connection may be stale by now.
        self.prefetched = None;
        let start = Instant::now();
        let mut pause = Duration::from_millis(200);
        let version = loop {
            let retry = self.ever_connected && start.elapsed() < RECONNECT_FOR;
            match self.connect_once().await {
                Ok(c) => {
                    self.client = Some(c);
                    match self.set_up_session().await {
                        Ok(v) => break v,
                        Err(e) if retry && is_connection_error(&e) => {
                            tracing::debug!(error = %e, "pg backend: session lost while setting it up; trying again");
                            self.client = None;
                        }
                        Err(e) => {
                            self.client = None;
                            return Err(self.query_error("setting up the session", &e));
                        }
                    }
                }
                Err(e) if retry => {
                    tracing::debug!(error = %e, "pg backend: server unreachable; trying again");
                }
                Err(e) => return Err(e.into()),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        };
        if self.ever_connected {
            tracing::info!(server = %self.settings.server(), "pg backend: connected again");
        }
        self.ever_connected = true;
        if let Some(version) = version {
            self.check_schema(version).await?;
        }
        self.migrated = true;
        if let Some((key, record)) = self.held.clone() {
            match self.try_lock(key, &record).await {
                Ok(None) => {}
                Ok(Some(holder)) => {
                    self.held = None;
                    return Err(PgError::LockLost {
                        name: self.settings.name(),
                        server: self.settings.server(),
                        holder: holder
                            .map_or_else(|| "another process".to_string(), |h| h.to_string()),
                    }
                    .into());
                }
                Err(e) => return Err(self.query_error("taking the state lock again", &e)),
            }
        }
        Ok(())
    }

    fn client(&self) -> Result<&Client, tokio_postgres::Error> {
        // `ensure` ran just before; a missing client is reported as a closed connection.
        match self.client.as_ref() {
            Some(c) => Ok(c),
            None => unreachable_closed(),
        }
    }

    /// A new session's settings (TCP keepalives) and, until the schema was found up to date once,
    /// its version (`Ok(None)` when the table of versions does not exist), sent together in one
    /// round trip. The outer error is the session's; the inner, the version's.
    #[allow(clippy::type_complexity)]
    async fn set_up_session(
        &mut self,
    ) -> Result<Option<Result<Option<i32>, tokio_postgres::Error>>, tokio_postgres::Error> {
        let check = !self.migrated;
        let version_sql =
            self.sql("SELECT coalesce(max(version), 0) FROM {s}.tunnelform_schema_migrations");
        let table = format!(
            "{}.tunnelform_schema_migrations",
            schema_sql_name(&self.settings.schema)
        );
        let client = self.client()?;
        // The version is read whether or not its table exists: when it does not, that read fails
        // and is ignored (it changes nothing; each statement is its own transaction).
        let (set, exists, version) = tokio::join!(
            client.batch_execute(KEEPALIVES),
            async {
                match check {
                    true => Some(
                        client
                            .query_typed_one(
                                "SELECT to_regclass($1) IS NOT NULL",
                                &[(&table, Type::TEXT)],
                            )
                            .await,
                    ),
                    false => None,
                }
            },
            async {
                match check {
                    true => Some(client.query_typed_one(&version_sql, &[]).await),
                    false => None,
                }
            },
        );
        set?;
        Ok(match (exists, version) {
            (None, _) => None,
            (Some(Err(e)), _) => Some(Err(e)),
            (Some(Ok(row)), version) => Some(match (row.get::<_, bool>(0), version) {
                (false, _) | (true, None) => Ok(None),
                (true, Some(Ok(v))) => Ok(Some(v.get(0))),
                (true, Some(Err(e))) => Err(e),
            }),
        })
    }

    /// Acts on the schema's version: nothing when up to date (the usual case: nothing to lock or
    /// create, so a role without the CREATE privilege can use a schema set up for it), a refusal
    /// when newer than this build, else the migrations.
    async fn check_schema(
        &mut self,
        version: Result<Option<i32>, tokio_postgres::Error>,
    ) -> Result<(), BackendError> {
        let known = MIGRATIONS.len() as i32;
        match version {
            Ok(Some(v)) if v == known => Ok(()),
            Ok(Some(v)) if v > known => Err(PgError::FutureSchema {
                schema: self.settings.schema.clone(),
                server: self.settings.server(),
                found: v,
                known,
            }
            .into()),
            Ok(_) => self.migrate().await,
            Err(e) => Err(self.query_error(
                &format!("reading the schema version of {}", self.settings.schema),
                &e,
            )),
        }
    }

    /// Creates or migrates the schema, under a transaction-level advisory lock so that runners
    /// starting together migrate it once.
    async fn migrate(&mut self) -> Result<(), BackendError> {
        let known = MIGRATIONS.len() as i32;
        let schema_sql = self.sql("CREATE SCHEMA IF NOT EXISTS {s}");
        let table_sql = self.sql(
            "CREATE TABLE IF NOT EXISTS {s}.tunnelform_schema_migrations (
                version integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        );
        let version_sql =
            self.sql("SELECT coalesce(max(version), 0) FROM {s}.tunnelform_schema_migrations");
        let insert_sql =
            self.sql("INSERT INTO {s}.tunnelform_schema_migrations (version) VALUES ($1)");
        let steps: Vec<String> = MIGRATIONS.iter().map(|m| self.sql(m)).collect();
        let server = self.settings.server();
        let schema = self.settings.schema.clone();
        let Some(client) = self.client.as_mut() else {
            return Err(PgError::Gone.into());
        };
        let result: Result<Result<(), PgError>, tokio_postgres::Error> = async {
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await?;
            tx.batch_execute(&schema_sql).await?;
            tx.batch_execute(&table_sql).await?;
            let current: i32 = tx.query_one(&version_sql, &[]).await?.get(0);
            if current > known {
                return Ok(Err(PgError::FutureSchema {
                    schema: schema.clone(),
                    server: server.clone(),
                    found: current,
                    known,
                }));
            }
            for (i, step) in steps.iter().enumerate().skip(current as usize) {
                tx.batch_execute(step).await?;
                tx.execute(&insert_sql, &[&(i as i32 + 1)]).await?;
                tracing::info!(schema = %schema, version = i + 1, "pg backend: schema migrated");
            }
            tx.commit().await?;
            Ok(Ok(()))
        }
        .await;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.into()),
            Err(e) => Err(self.query_error(
                &format!("creating or migrating the schema {}", self.settings.schema),
                &e,
            )),
        }
    }

    async fn handle(&mut self, job: Job) {
        let ws = self.settings.workspace.clone();
        match job {
            Job::Exists(r) => {
                if let Some(Some(state)) = self.prefetched.as_ref().map(|p| p.state.as_ref()) {
                    r.send(Ok(state.is_some()));
                    return;
                }
                let sql = self.sql("SELECT 1 FROM {s}.states WHERE workspace = $1");
                let res = retrying!(self, "reading the state", async {
                    self.client()?
                        .query_typed_opt(&sql, &[(&ws, Type::TEXT)])
                        .await
                });
                r.send(res.map(|row| row.is_some()));
            }
            Job::Load(r) => {
                if let Some(state) = self.prefetched.as_mut().and_then(|p| p.state.take()) {
                    r.send(Ok(state));
                    return;
                }
                let res = retrying!(self, "reading the state", self.load(&ws));
                r.send(res);
            }
            Job::Write(w, r) => {
                self.prefetched = None;
                let res = retrying!(self, "writing the state", self.write(&ws, &w));
                if let Ok(Ok(())) = &res {
                    let n = w.meta.len()
                        + w.upserts
                            .iter()
                            .map(|(a, b)| a.len() + b.len())
                            .sum::<usize>()
                        + w.deletes.iter().map(String::len).sum::<usize>();
                    self.bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
                r.send(res);
            }
            Job::ReadJournal(r) => {
                if let Some(rows) = self.prefetched.as_mut().and_then(|p| p.journal.take()) {
                    r.send(Ok(rows));
                    return;
                }
                let sql = self.sql(JOURNAL_SQL);
                let res = retrying!(self, "reading the journal", async {
                    let rows = self
                        .client()?
                        .query_typed(&sql, &[(&ws, Type::TEXT)])
                        .await?;
                    Ok::<_, tokio_postgres::Error>(journal_rows(&rows))
                });
                r.send(res);
            }
            Job::Append(seq, op, text, r) => {
                self.prefetched = None;
                let sql = self.sql(
                    "INSERT INTO {s}.journal (workspace, seq, op_id, record) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (workspace, seq) DO NOTHING",
                );
                let res = retrying!(self, "appending to the journal", async {
                    self.client()?
                        .execute_typed(
                            &sql,
                            &[
                                (&ws, Type::TEXT),
                                (&seq, Type::INT8),
                                (&op, Type::TEXT),
                                (&text, Type::TEXT),
                            ],
                        )
                        .await
                });
                if res.is_ok() {
                    self.bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
                }
                r.send(res.map(|_| ()));
            }
            Job::DeleteJournal(d, r) => {
                self.prefetched = None;
                let all = self.sql("DELETE FROM {s}.journal WHERE workspace = $1");
                let some =
                    self.sql("DELETE FROM {s}.journal WHERE workspace = $1 AND op_id = ANY($2)");
                let res = retrying!(self, "clearing the journal", async {
                    let c = self.client()?;
                    match &d {
                        JournalDelete::None => Ok(0),
                        JournalDelete::All => c.execute_typed(&all, &[(&ws, Type::TEXT)]).await,
                        JournalDelete::Ops(ops) => {
                            c.execute_typed(&some, &[(&ws, Type::TEXT), (ops, Type::TEXT_ARRAY)])
                                .await
                        }
                    }
                });
                r.send(res.map(|_| ()));
            }
            Job::TryLock(key, record, r) => {
                if let Some((k, rec)) = &self.held {
                    if *k == key {
                        // Held by this process already: a second holder here waits like any other.
                        r.send(Ok(Some(Some(rec.clone()))));
                        return;
                    }
                }
                let res = retrying!(
                    self,
                    "taking the state lock",
                    self.try_lock_and_read(key, &record)
                );
                r.send(res);
            }
            Job::Holder(key, r) => {
                let res = retrying!(self, "reading the state lock", self.holder(key));
                r.send(res);
            }
            Job::Unlock(key, id, r) => {
                self.prefetched = None;
                let res = self.unlock(key, &id).await;
                if let Some(r) = r {
                    r.send(res);
                } else if let Err(e) = res {
                    tracing::warn!(error = %e, "releasing the state lock");
                }
            }
            Job::ForceUnlock(key, id, r) => {
                let res = retrying!(self, "clearing the state lock", self.force_unlock(key, &id));
                r.send(res);
            }
            Job::Shutdown => {}
            Job::Connect => {
                if let Err(e) = self.ensure().await {
                    tracing::debug!(error = %e, "pg backend: connecting ahead failed; the next query tries again");
                }
            }
            Job::DeleteWorkspace(r) => {
                // One statement, so the state and its journal go together.
                let sql = self.sql(
                    "WITH j AS (DELETE FROM {s}.journal WHERE workspace = $1) \
                     DELETE FROM {s}.states WHERE workspace = $1",
                );
                let res = retrying!(self, "deleting the workspace", async {
                    self.client()?.execute(&sql, &[&ws]).await
                });
                r.send(res.map(|_| ()));
            }
            Job::Workspaces(r) => {
                let sql = self.sql("SELECT workspace FROM {s}.states ORDER BY workspace");
                let res = retrying!(self, "listing the workspaces", async {
                    let rows = self.client()?.query_typed(&sql, &[]).await?;
                    Ok::<_, tokio_postgres::Error>(
                        rows.iter()
                            .map(|r| r.get::<_, String>(0))
                            .collect::<Vec<_>>(),
                    )
                });
                r.send(res);
            }
        }
    }

    /// The state's rows in one snapshot: the transaction and its reads sent together, one round
    /// trip.
    async fn load(&mut self, ws: &str) -> Result<Option<Loaded>, tokio_postgres::Error> {
        let head = self.sql(HEAD_SQL);
        let rows_sql = self.sql(ROWS_SQL);
        let client = self.client()?;
        let by_ws: [Param; 1] = [(&ws, Type::TEXT)];
        let (begin, head, rows, commit) = tokio::join!(
            client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
            client.query_typed_opt(&head, &by_ws),
            client.query_typed(&rows_sql, &by_ws),
            client.batch_execute("COMMIT"),
        );
        begin?;
        let head = head?;
        let rows = rows?;
        commit?;
        Ok(head.map(|row| loaded(&row, row_pairs(rows), None)))
    }

    /// One transaction's writes in two round trips: the state row read `FOR UPDATE` (checked
    /// against the writer's lineage, serial and write id), then every change and the COMMIT sent
    /// together.
    async fn write(
        &mut self,
        ws: &str,
        w: &Write,
    ) -> Result<Result<(), WriteRefused>, tokio_postgres::Error> {
        let select = self.sql(
            "SELECT lineage, serial, write_id FROM {s}.states WHERE workspace = $1 FOR UPDATE",
        );
        let insert = self.sql(
            "INSERT INTO {s}.states (workspace, lineage, serial, meta, write_id) VALUES ($1, $2, $3, $4, $5)",
        );
        let update = self.sql(
            "UPDATE {s}.states SET lineage = $2, serial = $3, meta = $4, write_id = $5, updated_at = now() WHERE workspace = $1",
        );
        let delete_all = self.sql("DELETE FROM {s}.resources WHERE workspace = $1");
        let delete_some =
            self.sql("DELETE FROM {s}.resources WHERE workspace = $1 AND address = ANY($2)");
        let upsert = self.sql(
            "INSERT INTO {s}.resources (workspace, address, body) \
             SELECT $1, a, b FROM unnest($2::text[], $3::text[]) AS t(a, b) \
             ON CONFLICT (workspace, address) DO UPDATE SET body = EXCLUDED.body",
        );
        let journal_all = self.sql("DELETE FROM {s}.journal WHERE workspace = $1");
        let journal_some =
            self.sql("DELETE FROM {s}.journal WHERE workspace = $1 AND op_id = ANY($2)");
        let client = self.client()?;
        let by_ws: [Param; 1] = [(&ws, Type::TEXT)];
        let (begin, current) = tokio::join!(
            client.batch_execute("BEGIN"),
            client.query_typed_opt(&select, &by_ws),
        );
        let rollback = || client.batch_execute("ROLLBACK");
        if let Err(e) = begin {
            return Err(e);
        }
        let current = match current {
            Ok(c) => c,
            Err(e) => {
                let _ = rollback().await;
                return Err(e);
            }
        };
        let exists = match current {
            None => {
                if !w.may_create {
                    rollback().await?;
                    return Ok(Err(WriteRefused::Vanished));
                }
                false
            }
            Some(row) => {
                let lineage: String = row.get(0);
                let serial = u64::try_from(row.get::<_, i64>(1)).unwrap_or_default();
                let write_id: String = row.get(2);
                if write_id == w.write_id {
                    // This very write committed; its answer was lost with the connection.
                    rollback().await?;
                    return Ok(Ok(()));
                }
                if lineage != w.lineage {
                    rollback().await?;
                    return Ok(Err(WriteRefused::Lineage {
                        on_disk: lineage,
                        ours: w.lineage.clone(),
                    }));
                }
                if serial > w.base_serial {
                    rollback().await?;
                    return Ok(Err(WriteRefused::Serial {
                        on_disk: serial,
                        ours: w.base_serial,
                    }));
                }
                true
            }
        };
        let new_serial = to_i64(w.new_serial);
        let head_params: [Param; 5] = [
            (&ws, Type::TEXT),
            (&w.lineage, Type::TEXT),
            (&new_serial, Type::INT8),
            (&w.meta, Type::TEXT),
            (&w.write_id, Type::TEXT),
        ];
        let (addrs, bodies): (Vec<&str>, Vec<&str>) = w
            .upserts
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .unzip();
        let no_ops: Vec<String> = Vec::new();
        let (journal_sql, ops) = match &w.journal {
            JournalDelete::None | JournalDelete::All => (&journal_all, &no_ops),
            JournalDelete::Ops(ops) => (&journal_some, ops),
        };
        let journal_params: Vec<Param> = match &w.journal {
            JournalDelete::Ops(_) => vec![(&ws, Type::TEXT), (ops, Type::TEXT_ARRAY)],
            _ => vec![(&ws, Type::TEXT)],
        };
        let deletes: [Param; 2] = [(&ws, Type::TEXT), (&w.deletes, Type::TEXT_ARRAY)];
        let upserts: [Param; 3] = [
            (&ws, Type::TEXT),
            (&addrs, Type::TEXT_ARRAY),
            (&bodies, Type::TEXT_ARRAY),
        ];
        let (head, delete_all, delete_some, upsert, journal, commit) = tokio::join!(
            client.execute_typed(if exists { &update } else { &insert }, &head_params),
            maybe(w.full, client.execute_typed(&delete_all, &by_ws)),
            maybe(
                !w.deletes.is_empty(),
                client.execute_typed(&delete_some, &deletes)
            ),
            maybe(
                !w.upserts.is_empty(),
                client.execute_typed(&upsert, &upserts)
            ),
            maybe(
                !matches!(w.journal, JournalDelete::None),
                client.execute_typed(journal_sql, &journal_params)
            ),
            client.batch_execute("COMMIT"),
        );
        first_error([
            head.map(|_| ()),
            delete_all,
            delete_some,
            upsert,
            journal,
            commit,
        ])?;
        Ok(Ok(()))
    }

    /// Takes the advisory lock and records the holder: `None` when taken, else the holder (if its
    /// row is written yet). One statement.
    async fn try_lock(
        &mut self,
        key: i64,
        record: &LockRecord,
    ) -> Result<Option<Option<LockRecord>>, tokio_postgres::Error> {
        let sql = self.sql(LOCK_SQL);
        let ws = self.settings.workspace.clone();
        let text = serde_json::to_string(record).unwrap_or_default();
        let got: bool = self
            .client()?
            .query_typed_one(
                &sql,
                &[
                    (&key, Type::INT8),
                    (&ws, Type::TEXT),
                    (&record.id, Type::TEXT),
                    (&text, Type::TEXT),
                ],
            )
            .await?
            .get(0);
        if !got {
            return Ok(Some(self.holder(key).await?));
        }
        self.held = Some((key, record.clone()));
        Ok(None)
    }

    /// [`Session::try_lock`] and, in the same round trip, the state and the journal as they are
    /// once the lock is taken (kept for the `load` and `journal` that follow). The reads run in
    /// the lock's transaction, after it, and only find rows when the lock was taken (they are
    /// tied to the lock row this statement writes), so a holder waiting for the lock reads
    /// nothing.
    async fn try_lock_and_read(
        &mut self,
        key: i64,
        record: &LockRecord,
    ) -> Result<Option<Option<LockRecord>>, tokio_postgres::Error> {
        if self
            .held
            .as_ref()
            .is_some_and(|(k, r)| *k == key && r.id == record.id)
        {
            // Taken already: the connection dropped after the lock was taken, and `ensure` took
            // it again on the new one (taking it twice would need two releases).
            return Ok(None);
        }
        let lock_sql = self.sql(LOCK_SQL);
        let mine = self.sql(
            "EXISTS (SELECT 1 FROM {s}.locks k WHERE k.workspace = $1 AND k.lock_id = $2 \
             AND k.backend_pid = pg_backend_pid())",
        );
        let head = self.sql(&format!("{HEAD_SQL} AND {mine}"));
        let rows_sql = self.sql(&format!(
            "SELECT address, body FROM {{s}}.resources WHERE workspace = $1 AND {mine}"
        ));
        let journal_sql = self.sql(&format!(
            "SELECT seq, record FROM {{s}}.journal WHERE workspace = $1 AND {mine} ORDER BY seq"
        ));
        let ws = self.settings.workspace.clone();
        let text = serde_json::to_string(record).unwrap_or_default();
        let id = &record.id;
        let client = self.client()?;
        let lock_params: [Param; 4] = [
            (&key, Type::INT8),
            (&ws, Type::TEXT),
            (id, Type::TEXT),
            (&text, Type::TEXT),
        ];
        let read_params: [Param; 2] = [(&ws, Type::TEXT), (id, Type::TEXT)];
        let (begin, got, head, rows, journal, commit) = tokio::join!(
            // Read committed: each read sees what was committed before it ran, which is after
            // the lock was taken, so after the previous holder's last write.
            client.batch_execute("BEGIN"),
            client.query_typed_one(&lock_sql, &lock_params),
            client.query_typed_opt(&head, &read_params),
            rows_looked_at(client, &rows_sql, &read_params),
            client.query_typed(&journal_sql, &read_params),
            client.batch_execute("COMMIT"),
        );
        begin?;
        let got: bool = got?.get(0);
        // A session-level advisory lock outlives a failed transaction: taken is taken.
        if got {
            self.held = Some((key, record.clone()));
        }
        let reads = (|| {
            commit?;
            Ok::<_, tokio_postgres::Error>((head?, rows?, journal?))
        })();
        if !got {
            return Ok(Some(self.holder(key).await?));
        }
        match reads {
            Ok((head, (rows, objects), journal)) => {
                self.prefetched = Some(Prefetched {
                    state: Some(head.map(|row| loaded(&row, rows, objects))),
                    journal: Some(journal_rows(&journal)),
                });
            }
            Err(e) => {
                // The lock row did not commit: write it on its own (the reads are done again
                // by the load that follows).
                tracing::debug!(error = %e, "pg backend: reading with the lock failed");
                self.prefetched = None;
                let upsert = self.sql(UPSERT_LOCK_ROW_SQL);
                self.client()?
                    .execute_typed(
                        &upsert,
                        &[(&ws, Type::TEXT), (id, Type::TEXT), (&text, Type::TEXT)],
                    )
                    .await?;
            }
        }
        Ok(None)
    }

    /// The recorded holder of the lock, if its session still holds it.
    async fn holder(&mut self, key: i64) -> Result<Option<LockRecord>, tokio_postgres::Error> {
        let sql = self.sql(
            "SELECT l.record FROM {s}.locks l WHERE l.workspace = $1 AND EXISTS (
                SELECT 1 FROM pg_locks p
                WHERE p.locktype = 'advisory' AND p.granted AND p.pid = l.backend_pid
                  AND p.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND p.classid = $2::bigint::oid AND p.objid = $3::bigint::oid AND p.objsubid = 1)",
        );
        let (hi, lo) = halves(key);
        let ws = self.settings.workspace.clone();
        let row = self
            .client()?
            .query_typed_opt(
                &sql,
                &[(&ws, Type::TEXT), (&hi, Type::INT8), (&lo, Type::INT8)],
            )
            .await?;
        Ok(row.and_then(|r| serde_json::from_str(&r.get::<_, String>(0)).ok()))
    }

    async fn unlock(&mut self, key: i64, id: &str) -> Result<(), BackendError> {
        if self.held.as_ref().is_none_or(|(k, _)| *k != key) {
            return Ok(());
        }
        self.held = None;
        // Without a connection the lock is gone already (it lived in the session).
        let Some(client) = self.client.as_ref().filter(|c| !c.is_closed()) else {
            return Ok(());
        };
        // The row and the lock go in one statement (in either order another runner taking the
        // lock meanwhile keeps its own row: the delete is for this lock id only).
        let sql = self.sql(
            "WITH gone AS (DELETE FROM {s}.locks WHERE workspace = $1 AND lock_id = $2) \
             SELECT pg_advisory_unlock($3)",
        );
        let ws = self.settings.workspace.clone();
        let id_text = id.to_string();
        client
            .query_typed_one(
                &sql,
                &[
                    (&ws, Type::TEXT),
                    (&id_text, Type::TEXT),
                    (&key, Type::INT8),
                ],
            )
            .await
            .map_err(|e| self.query_error("releasing the state lock", &e))?;
        tracing::debug!(lock_id = %id, "state lock released");
        Ok(())
    }

    async fn force_unlock(
        &mut self,
        key: i64,
        id: &str,
    ) -> Result<ForceUnlock, tokio_postgres::Error> {
        let select = self.sql("SELECT lock_id, record FROM {s}.locks WHERE workspace = $1");
        let delete = self.sql("DELETE FROM {s}.locks WHERE workspace = $1 AND lock_id = $2");
        let ws = self.settings.workspace.clone();
        let id_text = id.to_string();
        let Some(row) = self
            .client()?
            .query_typed_opt(&select, &[(&ws, Type::TEXT)])
            .await?
        else {
            return Ok(ForceUnlock::NotLocked);
        };
        let lock_id: String = row.get(0);
        let Ok(record) = serde_json::from_str::<LockRecord>(&row.get::<_, String>(1)) else {
            return Ok(ForceUnlock::NotLocked);
        };
        if lock_id != id {
            return Ok(ForceUnlock::WrongId(Box::new(record)));
        }
        if self.holder(key).await?.is_some() {
            return Ok(ForceUnlock::StillHeld(Box::new(record)));
        }
        self.client()?
            .execute_typed(&delete, &[(&ws, Type::TEXT), (&id_text, Type::TEXT)])
            .await?;
        Ok(ForceUnlock::Cleared(Box::new(record)))
    }
}

/// The state row of a workspace.
const HEAD_SQL: &str = "SELECT lineage, serial, meta FROM {s}.states WHERE workspace = $1";
/// Its resources, in no order (sorting them, bodies included, took the server several
/// milliseconds at 1,000 rows in a session whose caches are cold; the state orders them by
/// address as it reads them).
const ROWS_SQL: &str = "SELECT address, body FROM {s}.resources WHERE workspace = $1";
/// Its journal, in order.
const JOURNAL_SQL: &str = "SELECT seq, record FROM {s}.journal WHERE workspace = $1 ORDER BY seq";
/// Takes the session advisory lock $1 and, when taken, records the holder ($3, $4) in the
/// workspace's ($2) lock row; answers whether it was taken. The lock function is volatile, so its
/// CTE runs once, before the insert that reads it.
const LOCK_SQL: &str = "WITH got AS (SELECT pg_try_advisory_lock($1) AS ok), \
     recorded AS (INSERT INTO {s}.locks (workspace, lock_id, backend_pid, record) \
         SELECT $2, $3, pg_backend_pid(), $4 FROM got WHERE got.ok \
         ON CONFLICT (workspace) DO UPDATE SET lock_id = EXCLUDED.lock_id, \
             backend_pid = EXCLUDED.backend_pid, record = EXCLUDED.record \
         RETURNING 1) \
     SELECT ok FROM got";
/// The lock row alone ($1 workspace, $2 lock id, $3 record).
const UPSERT_LOCK_ROW_SQL: &str =
    "INSERT INTO {s}.locks (workspace, lock_id, backend_pid, record) VALUES ($1, $2, pg_backend_pid(), $3) \
     ON CONFLICT (workspace) DO UPDATE SET lock_id = EXCLUDED.lock_id, \
         backend_pid = EXCLUDED.backend_pid, record = EXCLUDED.record";

fn loaded(
    head: &tokio_postgres::Row,
    rows: Vec<(String, String)>,
    objects: Option<Vec<PeekedObject>>,
) -> Loaded {
    let serial: i64 = head.get(1);
    Loaded {
        lineage: head.get(0),
        serial: u64::try_from(serial).unwrap_or_default(),
        meta: head.get(2),
        rows,
        objects,
    }
}

impl Loaded {
    /// The managed objects the rows name: as found while they arrived, else looked at now.
    /// `None` when a row cannot be looked at that way.
    pub fn take_objects(&mut self) -> Option<Vec<PeekedObject>> {
        self.objects.take().or_else(|| {
            let mut looked = Looked::default();
            for (_, body) in &self.rows {
                looked.add(body);
            }
            looked.0
        })
    }
}

/// The objects rows name, gathered one row at a time; `None` from the first row that cannot be
/// looked at on.
struct Looked(Option<Vec<PeekedObject>>);

impl Default for Looked {
    fn default() -> Self {
        Looked(Some(Vec::new()))
    }
}

impl Looked {
    fn add(&mut self, body: &str) {
        if let Some(found) = self.0.as_mut() {
            match peek_entry(body) {
                Some(object) => found.extend(object),
                None => self.0 = None,
            }
        }
    }
}

fn row_pairs(rows: Vec<tokio_postgres::Row>) -> Vec<(String, String)> {
    rows.into_iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
        .collect()
}

/// The resources' rows (`sql`: address and body), each looked at for the object it names as it
/// arrives, while the next ones are still on their way: the look costs no time after the last
/// row. The objects are `None` when a row cannot be looked at that way (the state's load then
/// says what is wrong with it).
async fn rows_looked_at(
    client: &Client,
    sql: &str,
    params: &[Param<'_>],
) -> Result<(Vec<(String, String)>, Option<Vec<PeekedObject>>), tokio_postgres::Error> {
    let stream = client
        .query_typed_raw(sql, params.iter().map(|(v, t)| (*v, t.clone())))
        .await?;
    let mut stream = std::pin::pin!(stream);
    let mut rows = Vec::new();
    let mut looked = Looked::default();
    while let Some(row) = stream.try_next().await? {
        let body: String = row.get(1);
        looked.add(&body);
        rows.push((row.get::<_, String>(0), body));
    }
    Ok((rows, looked.0))
}

fn journal_rows(rows: &[tokio_postgres::Row]) -> Vec<(i64, String)> {
    rows.iter()
        .map(|row| (row.get::<_, i64>(0), row.get::<_, String>(1)))
        .collect()
}

/// The schema's name quoted as SQL text for `to_regclass`.
fn schema_sql_name(schema: &str) -> String {
    format!("\"{schema}\"")
}

/// A bigint advisory key as pg_locks shows it: high half in `classid`, low half in `objid`.
fn halves(key: i64) -> (i64, i64) {
    let k = key as u64;
    ((k >> 32) as i64, (k & 0xffff_ffff) as i64)
}

/// `ensure` always leaves a client; should it not, the job fails as if the connection closed
/// (which `retrying!` answers by connecting again once).
fn unreachable_closed<T>() -> Result<T, tokio_postgres::Error> {
    Err(tokio_postgres::Error::__private_api_timeout())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(bodies: &[&str]) -> Loaded {
        Loaded {
            lineage: "l".into(),
            serial: 1,
            meta: "{}".into(),
            rows: bodies
                .iter()
                .enumerate()
                .map(|(i, b)| (format!("tencentcloud_vpn_gateway.g{i}"), b.to_string()))
                .collect(),
            objects: None,
        }
    }

    const GW: &str = r#"{"attributes": {"name": "x"}, "id": "vpngw-1", "mode": "managed",
        "region": "ap-guangzhou", "type": "tencentcloud_vpn_gateway"}"#;
    const DATA: &str = r#"{"attributes": {}, "id": "d", "mode": "data", "region": "ap-guangzhou",
        "type": "tencentcloud_vpn_gateways"}"#;

    #[test]
    fn the_objects_found_as_rows_arrive_are_those_found_later() {
        // Looked at later, from the rows.
        let mut later = rows(&[GW, DATA]);
        let found = later.take_objects().expect("every row can be looked at");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "vpngw-1");
        // Looked at as they arrived: what was found is given as it is, without looking again.
        let mut looked = Looked::default();
        looked.add(GW);
        looked.add(DATA);
        let mut arrived = rows(&["not looked at again"]);
        arrived.objects = looked.0;
        assert_eq!(arrived.take_objects(), Some(found));
        // One row that cannot be looked at: no objects, whichever way.
        let mut bad = rows(&[GW, "{\"attributes\": ", DATA]);
        assert_eq!(bad.take_objects(), None);
        let mut looked = Looked::default();
        for b in [GW, "{\"attributes\": ", DATA] {
            looked.add(b);
        }
        assert_eq!(looked.0, None);
    }
}
