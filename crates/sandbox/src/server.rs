//! The HTTP server: accept loop (hyper, with per-connection control so a fault can drop a connection), the
//! axum router, the API-3.0 protocol (signature, common headers, body limits, JSON envelopes), fault injection
//! and the in-process handle.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::routing::get;
use axum::{Extension, Router};
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper_util::rt::{TokioIo, TokioTimer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tower::ServiceExt;
use tunnelform_tc3::{self as tc3, Credentials, RequestParts};

use crate::actions::{self, Action, Ctx, Service, Settings};
use crate::clock;
use crate::config::{FaultKind, FaultWeights, SandboxConfig};
use crate::error::{codes, ApiError, SandboxError};
use crate::persist::{write_atomic, Persister};
use crate::ratelimit::RateLimiter;
use crate::spec::Specs;
use crate::stats::{Counters, SandboxStats};
use crate::world::{is_region, World};

const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// How long a shutdown waits for in-flight requests before closing their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

struct Faults {
    rate: f64,
    weights: FaultWeights,
    actions: Option<BTreeSet<String>>,
}

/// Everything behind the sandbox's one lock.
struct Inner {
    world: World,
    rng: StdRng,
    limiter: RateLimiter,
    counters: Counters,
    /// Bumped by every committed change (persisted generations are compared against it).
    generation: u64,
}

struct Shared {
    inner: Mutex<Inner>,
    specs: Specs,
    settings: Settings,
    credentials: Credentials,
    faults: Faults,
    max_body: usize,
    body_timeout: Duration,
    persister: Option<Arc<Persister>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn draw_fault(&self, inner: &mut Inner, action: Action) -> Option<FaultKind> {
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
struct ConnInfo {
    peer: SocketAddr,
    /// Notified by a handler to close the connection without answering.
    dropper: Arc<Notify>,
}

/// The in-process sandbox server.
pub struct Sandbox;

/// A running sandbox. Dropping it stops accepting connections; [`SandboxHandle::shutdown`] also waits for
/// in-flight requests and flushes the data file.
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
        let specs = Specs::load().map_err(SandboxError::Spec)?;
        let now = clock::now_ms();
        let world = match &config.data_file {
            None => World::new_default(now),
            Some(path) => load_world(path, now).await?,
        };
        let rng = match config.seed {
            Some(seed) => {
                StdRng::seed_from_u64(seed ^ world.epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            }
            None => StdRng::from_entropy(),
        };
        let persister = match &config.data_file {
            None => None,
            Some(path) => {
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
                Some(Arc::new(Persister::new(path.clone(), 0)))
            }
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
        let shared = Arc::new(Shared {
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
                uin: config.uin.clone(),
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
            body_timeout: config.body_read_timeout,
            persister: persister.clone(),
        });
        let router = Router::new()
            .route("/_sandbox/stats", get(stats_handler))
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
            config.header_read_timeout,
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
    }
}

async fn load_world(path: &std::path::Path, now: i64) -> Result<World, SandboxError> {
    match tokio::fs::read(path).await {
        Ok(bytes) => {
            World::from_snapshot(&bytes, now).map_err(|reason| SandboxError::CorruptData {
                path: path.to_path_buf(),
                reason,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(World::new_default(now)),
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

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    mut stop: watch::Receiver<bool>,
    connections: Arc<Semaphore>,
    header_read_timeout: Duration,
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
                    header_read_timeout,
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
    header_read_timeout: Duration,
) {
    let dropper = Arc::new(Notify::new());
    let info = ConnInfo {
        peer,
        dropper: dropper.clone(),
    };
    let service =
        hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(info.clone());
            router.clone().oneshot(req)
        });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
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

fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn error_body(err: &ApiError, request_id: &str) -> Vec<u8> {
    #[derive(Serialize)]
    struct Envelope<'a> {
        #[serde(rename = "Response")]
        response: Inner<'a>,
    }
    #[derive(Serialize)]
    struct Inner<'a> {
        #[serde(rename = "Error")]
        error: ErrorOut<'a>,
        #[serde(rename = "RequestId")]
        request_id: &'a str,
    }
    #[derive(Serialize)]
    struct ErrorOut<'a> {
        #[serde(rename = "Code")]
        code: &'a str,
        #[serde(rename = "Message")]
        message: &'a str,
    }
    serde_json::to_vec(&Envelope {
        response: Inner {
            error: ErrorOut {
                code: err.code,
                message: &err.message,
            },
            request_id,
        },
    })
    .unwrap_or_else(|_| b"{\"Response\":{\"Error\":{\"Code\":\"InternalError\",\"Message\":\"\"},\"RequestId\":\"\"}}".to_vec())
}

fn request_id_from(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .hyphenated()
        .to_string()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

enum Outcome {
    Respond(Response<Body>),
    /// Close the connection without answering.
    Drop,
}

async fn api_handler(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnInfo>,
    req: Request,
) -> Response<Body> {
    match handle(&shared, req).await {
        Outcome::Respond(resp) => resp,
        Outcome::Drop => {
            conn.dropper.notify_one();
            std::future::pending().await
        }
    }
}

/// Answers an error found before the request reached the world (counted under the lock).
fn early_error(shared: &Shared, action: Option<&str>, err: ApiError) -> Outcome {
    {
        let mut inner = shared.lock();
        if let Some(a) = action {
            inner.counters.request(a);
        }
        inner.counters.error(err.code);
    }
    let request_id = uuid::Uuid::new_v4().hyphenated().to_string();
    tracing::debug!(action = action.unwrap_or(""), code = err.code, %request_id, "request rejected");
    Outcome::Respond(json_response(StatusCode::OK, error_body(&err, &request_id)))
}

fn is_json_content_type(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        v.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    })
}

/// Parses the body: empty means `{}`; anything but a JSON object is an error.
fn parse_body(bytes: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(
            codes::INVALID_PARAMETER,
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(ApiError::new(
            codes::INVALID_PARAMETER,
            format!("The request body is not valid JSON: {e}"),
        )),
    }
}

async fn handle(shared: &Shared, req: Request) -> Outcome {
    let (parts, body) = req.into_parts();
    let action_name = header(&parts.headers, "x-tc-action").filter(|a| !a.is_empty());
    if parts.method != Method::POST {
        return early_error(
            shared,
            action_name,
            ApiError::new(
                codes::UNSUPPORTED_PROTOCOL,
                "Only POST requests with a JSON body (TC3-HMAC-SHA256) are supported.",
            ),
        );
    }
    let too_large = || {
        ApiError::new(
            codes::REQUEST_SIZE_LIMIT_EXCEEDED,
            format!("The request body exceeds {} bytes.", shared.max_body),
        )
    };
    let declared =
        header(&parts.headers, CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > shared.max_body as u64) {
        return early_error(shared, action_name, too_large());
    }
    let collected = tokio::time::timeout(
        shared.body_timeout,
        Limited::new(body, shared.max_body).collect(),
    )
    .await;
    let bytes = match collected {
        Ok(Ok(c)) => c.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return early_error(shared, action_name, too_large())
        }
        Ok(Err(e)) => {
            return early_error(
                shared,
                action_name,
                ApiError::new(
                    codes::INVALID_PARAMETER,
                    format!("Cannot read the request body: {e}"),
                ),
            )
        }
        Err(_) => {
            return early_error(
                shared,
                action_name,
                ApiError::new(
                    codes::INVALID_PARAMETER,
                    "Timed out reading the request body.",
                ),
            )
        }
    };
    let Some(action_name) = action_name else {
        return early_error(shared, None, ApiError::missing("Action"));
    };
    let Some(version) = header(&parts.headers, "x-tc-version").filter(|v| !v.is_empty()) else {
        return early_error(shared, Some(action_name), ApiError::missing("Version"));
    };

    // Signature (TC3-HMAC-SHA256 over the headers the client signed, the Host exactly as received).
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
        .collect();
    // With `X-TC-Content-SHA256: UNSIGNED-PAYLOAD` (an SDK option) the literal string is hashed instead of
    // the body, as the protocol documents.
    let unsigned_payload = header(&parts.headers, "x-tc-content-sha256")
        .is_some_and(|v| v.eq_ignore_ascii_case(UNSIGNED_PAYLOAD));
    let request_parts = RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        payload: if unsigned_payload {
            UNSIGNED_PAYLOAD.as_bytes()
        } else {
            &bytes
        },
    };
    let now_ms = clock::now_ms();
    let creds = &shared.credentials;
    let verified = match tc3::verify(&request_parts, now_ms.div_euclid(1000), |id| {
        (id == creds.secret_id).then(|| creds.secret_key().to_string())
    }) {
        Ok(v) => v,
        Err(e) => {
            return early_error(
                shared,
                Some(action_name),
                ApiError::new(e.code(), e.to_string()),
            )
        }
    };
    if let Some(token) = creds.token() {
        if header(&parts.headers, "x-tc-token") != Some(token) {
            return early_error(
                shared,
                Some(action_name),
                ApiError::new(
                    codes::AUTH_TOKEN_FAILURE,
                    "The X-TC-Token is missing or invalid.",
                ),
            );
        }
    }
    let Some(service) = Service::from_version(version) else {
        return early_error(
            shared,
            Some(action_name),
            ApiError::new(
                codes::INVALID_ACTION,
                format!(
                    "The version `{version}` is not supported (vpc: 2017-03-12, tag: 2018-08-13)."
                ),
            ),
        );
    };
    let Some(action) = Action::from_name(service, action_name) else {
        return early_error(
            shared,
            Some(action_name),
            ApiError::new(
                codes::INVALID_ACTION,
                format!(
                    "The action `{action_name}` of version `{version}` does not exist or is not served by the sandbox."
                ),
            ),
        );
    };
    if verified.service != service.name() {
        return early_error(
            shared,
            Some(action_name),
            ApiError::new(
                codes::AUTH_SIGNATURE_FAILURE,
                format!(
                    "The credential scope names the service `{}` but `{action_name}` belongs to `{}`.",
                    verified.service,
                    service.name()
                ),
            ),
        );
    }
    let region = match service {
        Service::Tag => "",
        Service::Vpc => match header(&parts.headers, "x-tc-region").filter(|r| !r.is_empty()) {
            None => return early_error(shared, Some(action_name), ApiError::missing("Region")),
            Some(r) if !is_region(r) => {
                return early_error(
                    shared,
                    Some(action_name),
                    ApiError::new(
                        codes::UNSUPPORTED_REGION,
                        format!("The region `{r}` is not supported."),
                    ),
                )
            }
            Some(r) => r,
        },
    };

    // Body checks, reported after the rate limit.
    let prepared = if is_json_content_type(header(&parts.headers, CONTENT_TYPE.as_str())) {
        parse_body(&bytes).and_then(|map| {
            let spec = match service {
                Service::Vpc => &shared.specs.vpc,
                Service::Tag => &shared.specs.tag,
            };
            spec.validate(action.name(), &map).map(|()| map)
        })
    } else {
        Err(ApiError::new(
            codes::INVALID_PARAMETER,
            "The Content-Type must be application/json.",
        ))
    };

    // Under the lock: rate limit, fault, timers, the action itself.
    let mut fault = None;
    let mut poke = false;
    let mut commit = None;
    let (request_id, result) = {
        let mut guard = shared.lock();
        let inner = &mut *guard;
        inner.counters.request(action.name());
        let request_id = request_id_from(&mut inner.rng);
        let result = if !inner.limiter.admit(region, action, Instant::now()) {
            Err(ApiError::new(
                codes::REQUEST_LIMIT_EXCEEDED,
                format!("Too many {action_name} requests in {region} this second."),
            ))
        } else {
            fault = shared.draw_fault(inner, action);
            if let Some(kind) = fault {
                inner.counters.fault(kind.name());
            }
            match (fault, prepared) {
                (Some(FaultKind::InternalError), _) => Err(ApiError::internal(
                    "An internal error occurred (injected by the sandbox).",
                )),
                (Some(FaultKind::Http503 | FaultKind::DropBeforeCommit), _) => Ok(Vec::new()),
                (_, Err(e)) => Err(e),
                (_, Ok(body)) => {
                    if inner.world.advance(now_ms) {
                        inner.generation += 1;
                        poke = true;
                    }
                    let mut ctx = Ctx {
                        world: &mut inner.world,
                        rng: &mut inner.rng,
                        region,
                        now_ms,
                        settings: &shared.settings,
                        request_id: &request_id,
                    };
                    let result = actions::dispatch(&mut ctx, action, body);
                    if result.is_ok() && action.is_write() {
                        inner.generation += 1;
                        commit = Some(inner.generation);
                    }
                    result
                }
            }
        };
        if let Err(e) = &result {
            inner.counters.error(e.code);
        }
        (request_id, result)
    };
    tracing::debug!(
        action = action.name(),
        region,
        %request_id,
        code = result.as_ref().err().map_or("", |e| e.code),
        fault = fault.map_or("", FaultKind::name),
        "request"
    );
    match fault {
        Some(FaultKind::Http503) => {
            let mut resp = Response::new(Body::from(
                "503 Service Temporarily Unavailable (injected by the sandbox)\n",
            ));
            *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            resp.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            return Outcome::Respond(resp);
        }
        Some(FaultKind::DropBeforeCommit) => return Outcome::Drop,
        _ => {}
    }
    if let Some(persister) = &shared.persister {
        if let Some(gen) = commit {
            if !persister.wait_durable(gen).await {
                let err = ApiError::internal("The change could not be persisted to the data file.");
                shared.lock().counters.error(err.code);
                return Outcome::Respond(json_response(
                    StatusCode::OK,
                    error_body(&err, &request_id),
                ));
            }
        } else if poke {
            persister.poke();
        }
    }
    if fault == Some(FaultKind::DropAfterCommit) {
        return Outcome::Drop;
    }
    let body = match result {
        Ok(body) => body,
        Err(e) => error_body(&e, &request_id),
    };
    Outcome::Respond(json_response(StatusCode::OK, body))
}

async fn stats_handler(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnInfo>,
) -> Response<Body> {
    if !conn.peer.ip().to_canonical().is_loopback() {
        let mut resp = json_response(
            StatusCode::FORBIDDEN,
            b"{\"error\":\"the stats endpoint answers loopback clients only\"}".to_vec(),
        );
        *resp.status_mut() = StatusCode::FORBIDDEN;
        return resp;
    }
    let stats = shared.lock().counters.snapshot();
    let body = serde_json::to_vec(&stats).unwrap_or_else(|_| b"{}".to_vec());
    json_response(StatusCode::OK, body)
}
