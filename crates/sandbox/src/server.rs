//! The HTTP server: start-up (world, persistence, listener), the accept loop (hyper, with per-connection
//! control so an injected fault can drop a connection), graceful shutdown and the in-process handle. The
//! protocol itself is in `protocol.rs`.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tower::ServiceExt;
use tunnelform_tc3::Credentials;

use crate::actions::{Action, Settings};
use crate::clock;
use crate::config::{FaultKind, FaultWeights, SandboxConfig};
use crate::error::SandboxError;
use crate::persist::{
    data_lock_path, lock_data_file, write_atomic, DataLock, DataLockError, Persister,
};
use crate::protocol::{api_handler, stats_handler};
use crate::ratelimit::RateLimiter;
use crate::spec::Specs;
use crate::stats::{Counters, SandboxStats};
use crate::world::{random_uin, World};

/// How long a shutdown waits for in-flight requests before closing their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The limit of each connection's read buffer, which bounds a request head (request line with a GET's query
/// string, and headers): a head that does not fit is answered 431 and the connection closed. hyper reads in
/// growing chunks, so a buffer may reach about twice this before the check; with hyper's default (~400 KB)
/// the connection slots alone could hold ~800 MB, with this about `max_connections` x 128 KiB (128 MiB).
const MAX_HEAD_BYTES: usize = 64 * 1024;

pub(crate) struct Faults {
    pub(crate) rate: f64,
    pub(crate) weights: FaultWeights,
    pub(crate) actions: Option<BTreeSet<String>>,
}

/// Everything behind the sandbox's one lock.
pub(crate) struct Inner {
    pub(crate) world: World,
    pub(crate) rng: StdRng,
    pub(crate) limiter: RateLimiter,
    pub(crate) counters: Counters,
    /// Bumped by every committed change (persisted generations are compared against it).
    pub(crate) generation: u64,
}

pub(crate) struct Shared {
    pub(crate) inner: Mutex<Inner>,
    pub(crate) specs: Specs,
    pub(crate) settings: Settings,
    pub(crate) credentials: Credentials,
    pub(crate) faults: Faults,
    pub(crate) max_body: usize,
    /// One permit per byte of request body that may be held at once, over all connections.
    pub(crate) body_memory: Semaphore,
    pub(crate) body_timeout: Duration,
    pub(crate) persister: Option<Arc<Persister>>,
}

impl Shared {
    pub(crate) fn new(
        config: &SandboxConfig,
        world: World,
        rng: StdRng,
        specs: Specs,
        persister: Option<Arc<Persister>>,
    ) -> Shared {
        let uin = world.uin.clone();
        Shared {
            inner: Mutex::new(Inner {
                world,
                rng,
                limiter: RateLimiter::new(&config.rate_limits),
                counters: Counters::default(),
                generation: 0,
            }),
            specs,
            settings: Settings {
                quotas: config.quotas,
                uin,
                task_latency: config.task_latency,
                task_failure_rate: config.task_failure_rate,
            },
            credentials: config.credentials.clone(),
            faults: Faults {
                rate: config.fault_rate,
                weights: config.fault_weights,
                actions: config.fault_actions.clone(),
            },
            max_body: config.max_body_bytes,
            body_memory: Semaphore::new(config.max_body_memory_bytes),
            body_timeout: config.body_read_timeout,
            persister,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn draw_fault(&self, inner: &mut Inner, action: Action) -> Option<FaultKind> {
        let f = &self.faults;
        if f.rate <= 0.0 {
            return None;
        }
        if f.actions
            .as_ref()
            .is_some_and(|set| !set.contains(action.name()))
        {
            return None;
        }
        if inner.rng.gen::<f64>() >= f.rate {
            return None;
        }
        let total = f.weights.total();
        if total == 0 {
            return None;
        }
        Some(f.weights.pick(inner.rng.gen_range(0..total)))
    }
}

/// Per-connection data handed to the handlers.
#[derive(Clone)]
pub(crate) struct ConnInfo {
    pub(crate) peer: SocketAddr,
    /// Notified by a handler to close the connection without answering.
    pub(crate) dropper: Arc<Notify>,
}

/// The in-process sandbox server.
pub struct Sandbox;

/// A running sandbox. Dropping it stops accepting connections and releases the data file (nothing is written
/// to it afterwards; changes not yet durable are lost, as in a crash); [`SandboxHandle::shutdown`] first waits
/// for in-flight requests and flushes the data file.
pub struct SandboxHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    accept_task: Option<JoinHandle<()>>,
    writer_stop: watch::Sender<bool>,
    writer_task: Option<JoinHandle<()>>,
    connections: Arc<Semaphore>,
    max_connections: u32,
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Loads (or creates) the world, binds the listen address and starts serving. Prints nothing.
    pub async fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
        config.validate()?;
        // Before the data file is read: another sandbox serving it would overwrite what this one does.
        let data_lock = match &config.data_file {
            None => None,
            Some(path) => Some(take_data_lock(path, config.data_holder.as_deref())?),
        };
        let specs = Specs::load().map_err(SandboxError::Spec)?;
        let now = clock::now_ms();
        let new_uin = || match (&config.uin, config.seed) {
            (Some(uin), _) => uin.clone(),
            (None, Some(seed)) => random_uin(&mut StdRng::seed_from_u64(seed)),
            (None, None) => random_uin(&mut rand::thread_rng()),
        };
        let world = match &config.data_file {
            None => World::new_default(now, new_uin()),
            Some(path) => load_world(path, now, new_uin).await?,
        };
        if let (Some(uin), Some(path)) = (&config.uin, &config.data_file) {
            if *uin != world.uin {
                return Err(SandboxError::OtherAccount {
                    path: path.clone(),
                    recorded: world.uin.clone(),
                    configured: uin.clone(),
                });
            }
        }
        let rng = match config.seed {
            Some(seed) => {
                StdRng::seed_from_u64(seed ^ world.epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            }
            None => StdRng::from_entropy(),
        };
        let persister = match (&config.data_file, data_lock) {
            (Some(path), Some(lock)) => {
                let snapshot = world.to_snapshot().map_err(|e| SandboxError::WriteData {
                    path: path.clone(),
                    source: std::io::Error::other(e),
                })?;
                let target = path.clone();
                tokio::task::spawn_blocking(move || write_atomic(&target, &snapshot))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
                    .map_err(|source| SandboxError::WriteData {
                        path: path.clone(),
                        source,
                    })?;
                Some(Arc::new(Persister::new(path.clone(), 0, lock)))
            }
            _ => None,
        };
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| SandboxError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: config.listen,
            source,
        })?;
        let shared = Arc::new(Shared::new(&config, world, rng, specs, persister.clone()));
        let router = Router::new()
            .route("/_sandbox/stats", get(stats_handler))
            .route(
                "/_sandbox/connection-status",
                post(crate::protocol::connection_status_handler),
            )
            .fallback(api_handler)
            .with_state(shared.clone());
        let max_connections = u32::try_from(config.max_connections).unwrap_or(u32::MAX);
        let connections = Arc::new(Semaphore::new(max_connections as usize));
        let (stop, stop_rx) = watch::channel(false);
        let accept_task = tokio::spawn(accept_loop(
            listener,
            router,
            stop_rx,
            connections.clone(),
            Timeouts {
                first_head: config.header_read_timeout,
                keep_alive: config.keep_alive_timeout,
            },
        ));
        let (writer_stop, writer_stop_rx) = watch::channel(false);
        let writer_task =
            persister.map(|p| tokio::spawn(writer_loop(shared.clone(), p, writer_stop_rx)));
        tracing::info!(%addr, "sandbox listening");
        Ok(SandboxHandle {
            addr,
            shared,
            stop,
            accept_task: Some(accept_task),
            writer_stop,
            writer_task,
            connections,
            max_connections,
        })
    }
}

impl SandboxHandle {
    /// The bound address (with the real port when the configuration asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The account (uin) of the world served: what `GetCallerIdentity` answers.
    pub fn uin(&self) -> &str {
        &self.shared.settings.uin
    }

    /// Requests, errors and faults counted since start.
    pub fn stats(&self) -> SandboxStats {
        self.shared.lock().counters.snapshot()
    }

    /// Stops accepting, lets in-flight requests finish (up to 5 s), then writes the data file a last time.
    pub async fn shutdown(mut self) -> Result<(), SandboxError> {
        let _ = self.stop.send(true);
        if let Some(task) = self.accept_task.take() {
            let _ = task.await;
        }
        let _ = tokio::time::timeout(
            SHUTDOWN_GRACE + Duration::from_secs(1),
            self.connections.acquire_many(self.max_connections),
        )
        .await;
        let _ = self.writer_stop.send(true);
        if let Some(task) = self.writer_task.take() {
            let _ = task.await;
        }
        if let Some(p) = &self.shared.persister {
            {
                let mut inner = self.shared.lock();
                if inner.world.advance(clock::now_ms()) {
                    inner.generation += 1;
                }
            }
            flush(&self.shared, p)
                .await
                .map_err(|source| SandboxError::WriteData {
                    path: p.path.clone(),
                    source,
                })?;
        }
        tracing::info!(addr = %self.addr, "sandbox stopped");
        Ok(())
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        // Nothing is written to the data file from now on, and another sandbox may take it.
        if let Some(p) = &self.shared.persister {
            p.release();
        }
    }
}

fn take_data_lock(path: &std::path::Path, holder: Option<&str>) -> Result<DataLock, SandboxError> {
    let record = format!(
        "pid {} ({}), since {}",
        std::process::id(),
        holder.unwrap_or("a tunnelform sandbox"),
        clock::format_utc(clock::now_ms())
    );
    lock_data_file(path, &record).map_err(|e| match e {
        DataLockError::Held(holder) => SandboxError::DataLocked {
            path: path.to_path_buf(),
            lock_path: data_lock_path(path),
            holder,
        },
        DataLockError::Io(source) => SandboxError::LockData {
            path: path.to_path_buf(),
            lock_path: data_lock_path(path),
            source,
        },
    })
}

async fn load_world(
    path: &std::path::Path,
    now: i64,
    new_uin: impl FnOnce() -> String,
) -> Result<World, SandboxError> {
    match tokio::fs::read(path).await {
        Ok(bytes) => {
            World::from_snapshot(&bytes, now).map_err(|reason| SandboxError::CorruptData {
                path: path.to_path_buf(),
                reason,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(World::new_default(now, new_uin()))
        }
        Err(source) => Err(SandboxError::ReadData {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes the current generation if it is newer than the last one written.
async fn flush(shared: &Shared, persister: &Arc<Persister>) -> std::io::Result<()> {
    let (gen, snapshot) = {
        let inner = shared.lock();
        if inner.generation <= persister.written() {
            return Ok(());
        }
        (inner.generation, inner.world.to_snapshot())
    };
    let snapshot = snapshot.map_err(std::io::Error::other)?;
    persister.write(gen, snapshot).await
}

async fn writer_loop(
    shared: Arc<Shared>,
    persister: Arc<Persister>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let stopping = tokio::select! {
            _ = persister.poked() => false,
            _ = stop.changed() => true,
        };
        // Errors are logged and reported to the waiting requests by `Persister::write`.
        let _ = flush(&shared, &persister).await;
        if stopping {
            break;
        }
    }
}

/// How long a connection may take to send a request head.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    /// The first one, from the accept.
    first_head: Duration,
    /// Each later one, from the previous answer (the idle keep-alive time).
    keep_alive: Duration,
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    mut stop: watch::Receiver<bool>,
    connections: Arc<Semaphore>,
    timeouts: Timeouts,
) {
    loop {
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => p,
            _ = stop.changed() => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.changed() => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(
                    stream,
                    peer,
                    router.clone(),
                    stop.clone(),
                    permit,
                    timeouts,
                ));
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
    timeouts: Timeouts,
) {
    let dropper = Arc::new(Notify::new());
    let info = ConnInfo {
        peer,
        dropper: dropper.clone(),
    };
    // Told when the first request head has arrived.
    let head_seen = Arc::new(Notify::new());
    let seen = head_seen.clone();
    let service =
        hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
            seen.notify_one();
            req.extensions_mut().insert(info.clone());
            router.clone().oneshot(req)
        });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's header timer runs whenever it waits for a head, idle keep-alive time included; the first
    // head is bounded (more tightly) below.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.keep_alive)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let first_head = async {
        if tokio::time::timeout(timeouts.first_head, head_seen.notified())
            .await
            .is_ok()
        {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(first_head);
    tokio::select! {
        _ = &mut first_head => {
            tracing::debug!(%peer, "no complete request head in time: connection closed");
        }
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        _ = dropper.notified() => {
            tracing::debug!(%peer, "connection dropped by an injected fault");
        }
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                _ = tokio::time::timeout(SHUTDOWN_GRACE, conn.as_mut()) => {}
                _ = dropper.notified() => {}
            }
        }
    }
}
