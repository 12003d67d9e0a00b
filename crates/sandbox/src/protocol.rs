//! The API 3.0 protocol: method and form (`POST` with JSON, or `GET` with the parameters flattened into the
//! query string), body limits, common headers, TC3 signature (over the client's
//! `SignedHeaders`, the Host as received), service and action resolution, region, spec validation, then,
//! under the sandbox's one lock, rate limit, injected fault, timers and the action; answers are JSON envelopes
//! with HTTP 200 and `Content-Type: application/json` (an injected 503 aside). Also `GET /_sandbox/stats`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::Extension;
use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body as _;
use rand::rngs::StdRng;
use rand::Rng;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::SemaphorePermit;
use tunnelform_tc3::{self as tc3, RequestParts};

use crate::actions::{self, Action, Ctx, Service};
use crate::clock;
use crate::config::FaultKind;
use crate::error::{codes, ApiError};
use crate::server::{ConnInfo, Shared};
use crate::world::is_region;

const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

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

pub(crate) enum Outcome {
    Respond(Response<Body>),
    /// Close the connection without answering.
    Drop,
}

pub(crate) async fn api_handler(
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
        inner.counters.request(action.unwrap_or(""));
        inner.counters.error(err.code);
    }
    let request_id = uuid::Uuid::new_v4().hyphenated().to_string();
    tracing::debug!(action = action.unwrap_or(""), code = err.code, %request_id, "request rejected");
    Outcome::Respond(json_response(StatusCode::OK, error_body(&err, &request_id)))
}

/// The answer with `Connection: close` (the server closes the connection once it is sent).
fn closing(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Respond(mut resp) => {
            resp.headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            Outcome::Respond(resp)
        }
        Outcome::Drop => Outcome::Drop,
    }
}

/// Whether a Content-Type names `media` (parameters such as `; charset=utf-8` aside).
fn is_content_type(value: Option<&str>, media: &str) -> bool {
    value.is_some_and(|v| {
        v.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case(media))
    })
}

fn is_json_content_type(value: Option<&str>) -> bool {
    is_content_type(value, "application/json")
}

fn is_form_content_type(value: Option<&str>) -> bool {
    is_content_type(value, "application/x-www-form-urlencoded")
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

/// The request's target once authenticated.
struct Target<'a> {
    action: Action,
    service: Service,
    /// The request's region (`""` for the tag service, whose resources carry their region in their names).
    region: &'a str,
}

/// What happened under the lock.
struct Executed {
    request_id: String,
    result: Result<Vec<u8>, ApiError>,
    fault: Option<FaultKind>,
    /// The generation to wait for before answering (a committed change).
    commit: Option<u64>,
    /// Timers changed the world: ask the writer to persist (without waiting).
    poke: bool,
}

pub(crate) async fn handle(shared: &Shared, req: Request) -> Outcome {
    let (parts, body) = req.into_parts();
    let action_name = header(&parts.headers, "x-tc-action").filter(|a| !a.is_empty());
    // Everything the head can tell comes first: the body of a request that cannot be served or cannot be
    // authentic is never read.
    if let Err(e) = check_head(shared, &parts, clock::now_ms()) {
        // Nor is the connection kept for another request.
        return closing(early_error(shared, action_name, e));
    }
    // The reservation of body memory is held until the request is answered.
    let (_reservation, bytes) = match read_body(shared, &parts, body).await {
        Ok(b) => b,
        Err(e) => return early_error(shared, action_name, e),
    };
    let now_ms = clock::now_ms();
    let target = match authenticate(shared, &parts, &bytes, now_ms) {
        Ok(t) => t,
        Err(e) => return early_error(shared, action_name, e),
    };
    // Body checks are reported after the rate limit.
    let prepared = prepare_body(shared, &parts, &bytes, &target);
    let done = execute(shared, &target, prepared, now_ms);
    tracing::debug!(
        action = target.action.name(),
        region = target.region,
        request_id = %done.request_id,
        code = done.result.as_ref().err().map_or("", |e| e.code),
        fault = done.fault.map_or("", FaultKind::name),
        "request"
    );
    respond(shared, done).await
}

/// Which of the two API 3.0 request forms the sandbox serves a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `POST` with a JSON body.
    Json,
    /// `GET` with the parameters flattened into a form-urlencoded query string and an empty body.
    Query,
}

/// The request form, from the method and the content type; anything else is `UnsupportedProtocol`.
fn request_form(parts: &http::request::Parts) -> Result<Form, ApiError> {
    let form_content = is_form_content_type(header(&parts.headers, CONTENT_TYPE.as_str()));
    match parts.method {
        Method::POST if form_content => Err(ApiError::new(
            codes::UNSUPPORTED_PROTOCOL,
            "POST with Content-Type: application/x-www-form-urlencoded (the HmacSHA1/HmacSHA256 signature \
             method) is not supported: send POST with a JSON body (Content-Type: application/json), or GET with \
             the parameters in the query string, signed with TC3-HMAC-SHA256.",
        )),
        Method::POST => Ok(Form::Json),
        Method::GET if form_content => Ok(Form::Query),
        Method::GET => Err(ApiError::new(
            codes::UNSUPPORTED_PROTOCOL,
            "A GET request must have Content-Type: application/x-www-form-urlencoded and carry its parameters \
             in the query string (TC3-HMAC-SHA256).",
        )),
        _ => Err(ApiError::new(
            codes::UNSUPPORTED_PROTOCOL,
            format!(
                "The method {} is not supported: send POST with a JSON body, or GET with the parameters in the \
                 query string (TC3-HMAC-SHA256).",
                parts.method
            ),
        )),
    }
}

/// What the head alone tells, in this order: method and content type, size limit (of a GET's query string,
/// and of the body's declared length), then whether the request can be authentic: `X-TC-Action` and
/// `X-TC-Version` present, the `Authorization` header's shape, `X-TC-Timestamp` within 5 minutes, a known
/// secret id and the credential scope's date ([`tc3::verify_headers`]), and the token. The signature, which
/// covers the body, is checked once the body is read ([`authenticate`]).
fn check_head(shared: &Shared, parts: &http::request::Parts, now_ms: i64) -> Result<(), ApiError> {
    let form = request_form(parts)?;
    if form == Form::Query && parts.uri.query().map_or(0, str::len) > shared.max_body {
        return Err(ApiError::new(
            codes::REQUEST_SIZE_LIMIT_EXCEEDED,
            format!("The query string exceeds {} bytes.", shared.max_body),
        ));
    }
    let declared =
        header(&parts.headers, CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > shared.max_body as u64) {
        return Err(body_too_large(shared));
    }
    action_and_version(parts)?;
    let headers = header_pairs(parts);
    let request_parts = RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        payload: &[],
    };
    let creds = &shared.credentials;
    tc3::verify_headers(&request_parts, now_ms.div_euclid(1000), |id| {
        (id == creds.secret_id).then(|| creds.secret_key().to_string())
    })
    .map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    check_token(shared, parts)
}

fn check_token(shared: &Shared, parts: &http::request::Parts) -> Result<(), ApiError> {
    match shared.credentials.token() {
        Some(token) if header(&parts.headers, "x-tc-token") != Some(token) => Err(ApiError::new(
            codes::AUTH_TOKEN_FAILURE,
            "The X-TC-Token is missing or invalid.",
        )),
        _ => Ok(()),
    }
}

fn body_too_large(shared: &Shared) -> ApiError {
    ApiError::new(
        codes::REQUEST_SIZE_LIMIT_EXCEEDED,
        format!("The request body exceeds {} bytes.", shared.max_body),
    )
}

/// Reads the body (after [`check_head`]) within the size limit and the read timeout, holding a reservation
/// of body memory: its declared length, or the size limit when it declares none. The reservations of all
/// requests together never exceed the configured total: a request that does not fit is answered
/// `RequestLimitExceeded` (which clients retry after a pause) without a byte of its body being read.
async fn read_body<'a>(
    shared: &'a Shared,
    parts: &http::request::Parts,
    body: Body,
) -> Result<(Option<SemaphorePermit<'a>>, Bytes), ApiError> {
    let deadline = tokio::time::Instant::now() + shared.body_timeout;
    let reserve = body.size_hint().upper().map_or(shared.max_body, |n| {
        usize::try_from(n).map_or(shared.max_body, |n| n.min(shared.max_body))
    });
    let reservation = if reserve == 0 {
        None
    } else {
        // At most `max_body`, which the configuration keeps within u32 and the total.
        let permits = u32::try_from(reserve).unwrap_or(u32::MAX);
        match shared.body_memory.try_acquire_many(permits) {
            Ok(permit) => Some(permit),
            Err(_) => {
                return Err(ApiError::new(
                    codes::REQUEST_LIMIT_EXCEEDED,
                    "The sandbox is reading too many request bodies at once; retry later.",
                ))
            }
        }
    };
    let collected =
        tokio::time::timeout_at(deadline, Limited::new(body, shared.max_body).collect()).await;
    match collected {
        Ok(Ok(c)) => {
            let bytes = c.to_bytes();
            if parts.method == Method::GET && !bytes.is_empty() {
                return Err(ApiError::new(
                    codes::UNSUPPORTED_PROTOCOL,
                    "A GET request carries its parameters in the query string; its body must be empty.",
                ));
            }
            Ok((reservation, bytes))
        }
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(body_too_large(shared)),
        Ok(Err(e)) => Err(ApiError::new(
            codes::INVALID_PARAMETER,
            format!("Cannot read the request body: {e}"),
        )),
        Err(_) => Err(ApiError::new(
            codes::INVALID_PARAMETER,
            "Timed out reading the request body.",
        )),
    }
}

/// Common headers, the TC3 signature (over the headers the client signed, the Host exactly as received),
/// the token, the service and action, the region.
fn authenticate<'a>(
    shared: &Shared,
    parts: &'a http::request::Parts,
    bytes: &Bytes,
    now_ms: i64,
) -> Result<Target<'a>, ApiError> {
    let (action_name, version) = action_and_version(parts)?;
    let headers = header_pairs(parts);
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
            bytes
        },
    };
    let creds = &shared.credentials;
    let verified = tc3::verify(&request_parts, now_ms.div_euclid(1000), |id| {
        (id == creds.secret_id).then(|| creds.secret_key().to_string())
    })
    .map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    check_token(shared, parts)?;
    // No error code for an unknown version is documented in the references (vpc-error-codes.tsv, FACTS.md),
    // so it is answered `InvalidAction`, naming the version the action exists in.
    let services = Service::of_version(version);
    if services.is_empty() {
        let known = Action::from_any_name(action_name).map_or_else(
            || " (vpc: 2017-03-12, tag and sts: 2018-08-13)".to_string(),
            |a| {
                format!(
                    "; `{action_name}` exists in version {} ({})",
                    a.service().version(),
                    a.service().name()
                )
            },
        );
        return Err(ApiError::new(
            codes::INVALID_ACTION,
            format!("The version `{version}` is not supported{known}."),
        ));
    }
    let action = services
        .iter()
        .find_map(|s| Action::from_name(*s, action_name))
        .ok_or_else(|| {
            let elsewhere = Action::from_any_name(action_name).map_or_else(String::new, |a| {
                format!(
                    " (it belongs to {} version {})",
                    a.service().name(),
                    a.service().version()
                )
            });
            ApiError::new(
                codes::INVALID_ACTION,
                format!(
                    "The action `{action_name}` of version `{version}` does not exist or is not served by the sandbox{elsewhere}."
                ),
            )
        })?;
    let service = action.service();
    if verified.service != service.name() {
        return Err(ApiError::new(
            codes::AUTH_SIGNATURE_FAILURE,
            format!(
                "The credential scope names the service `{}` but `{action_name}` belongs to `{}`.",
                verified.service,
                service.name()
            ),
        ));
    }
    let region = match service {
        Service::Tag | Service::Sts => "",
        Service::Vpc => {
            let r = header(&parts.headers, "x-tc-region")
                .filter(|r| !r.is_empty())
                .ok_or_else(|| ApiError::missing("Region"))?;
            if !is_region(r) {
                return Err(ApiError::new(
                    codes::UNSUPPORTED_REGION,
                    format!("The region `{r}` is not supported."),
                ));
            }
            r
        }
    };
    Ok(Target {
        action,
        service,
        region,
    })
}

/// The parameters as a JSON object (the JSON body, or a GET's flattened query string converted by the
/// spec), validated against the action's input in the spec.
fn prepare_body(
    shared: &Shared,
    parts: &http::request::Parts,
    bytes: &Bytes,
    target: &Target<'_>,
) -> Result<Map<String, Value>, ApiError> {
    let spec = shared.specs.of(target.service);
    let map = if parts.method == Method::GET {
        spec.params_from_query(target.action.name(), parts.uri.query().unwrap_or(""))?
    } else {
        if !is_json_content_type(header(&parts.headers, CONTENT_TYPE.as_str())) {
            return Err(ApiError::new(
                codes::INVALID_PARAMETER,
                "The Content-Type must be application/json.",
            ));
        }
        parse_body(bytes)?
    };
    spec.validate(target.action.name(), &map)?;
    Ok(map)
}

/// Under the sandbox's one lock: count, rate limit, injected fault, timers, the action itself.
fn execute(
    shared: &Shared,
    target: &Target<'_>,
    prepared: Result<Map<String, Value>, ApiError>,
    now_ms: i64,
) -> Executed {
    let (action, region) = (target.action, target.region);
    let mut guard = shared.lock();
    let inner = &mut *guard;
    inner.counters.request(action.name());
    let request_id = request_id_from(&mut inner.rng);
    let mut fault = None;
    let mut commit = None;
    let mut poke = false;
    let result = if !inner.limiter.admit(region, action, Instant::now()) {
        Err(ApiError::new(
            codes::REQUEST_LIMIT_EXCEEDED,
            format!(
                "Too many {} requests in {region} this second.",
                action.name()
            ),
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
    Executed {
        request_id,
        result,
        fault,
        commit,
        poke,
    }
}

/// Injected 503s and drops; otherwise waits until a committed change is durable, then answers.
async fn respond(shared: &Shared, done: Executed) -> Outcome {
    match done.fault {
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
        if let Some(gen) = done.commit {
            if !persister.wait_durable(gen).await {
                let err = ApiError::internal("The change could not be persisted to the data file.");
                shared.lock().counters.error(err.code);
                return Outcome::Respond(json_response(
                    StatusCode::OK,
                    error_body(&err, &done.request_id),
                ));
            }
        } else if done.poke {
            persister.poke();
        }
    }
    if done.fault == Some(FaultKind::DropAfterCommit) {
        return Outcome::Drop;
    }
    let body = match done.result {
        Ok(body) => body,
        Err(e) => error_body(&e, &done.request_id),
    };
    Outcome::Respond(json_response(StatusCode::OK, body))
}

pub(crate) async fn stats_handler(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnInfo>,
) -> Response<Body> {
    if !crate::stats_peer_allowed(conn.peer) {
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

/// `POST /_sandbox/connection-status?id=vpnx-...&net_status=UNAVAILABLE&health_check_status=UNAVAILABLE`
/// (unsigned, loopback only): sets a tunnel's `NetStatus` and/or `HealthCheckStatus`, as the peer
/// going down or coming back would. 404 when no region holds the tunnel.
pub(crate) async fn connection_status_handler(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnInfo>,
    req: Request,
) -> Response<Body> {
    let fail = |status: StatusCode, msg: &str| {
        let mut resp = json_response(
            status,
            serde_json::json!({ "error": msg }).to_string().into_bytes(),
        );
        *resp.status_mut() = status;
        resp
    };
    if !crate::stats_peer_allowed(conn.peer) {
        return fail(
            StatusCode::FORBIDDEN,
            "the control endpoint answers loopback clients only",
        );
    }
    let (mut id, mut net, mut health) = (None, None, None);
    for pair in req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if v.is_empty()
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return fail(
                StatusCode::BAD_REQUEST,
                "values are letters, digits, '-' and '_'",
            );
        }
        match k {
            "id" => id = Some(v.to_string()),
            "net_status" => net = Some(v.to_string()),
            "health_check_status" => health = Some(v.to_string()),
            _ => {
                return fail(
                    StatusCode::BAD_REQUEST,
                    "parameters: id, net_status, health_check_status",
                )
            }
        }
    }
    let Some(id) = id else {
        return fail(
            StatusCode::BAD_REQUEST,
            "id (the tunnel's vpnx- id) is required",
        );
    };
    let mut inner = shared.lock();
    let mut found = false;
    for region in inner.world.regions.values_mut() {
        if let Some(c) = region.connection_mut(&id) {
            if let Some(n) = &net {
                c.net_status = n.clone();
            }
            if let Some(h) = &health {
                c.health_check_status = h.clone();
            }
            found = true;
        }
    }
    if !found {
        return fail(StatusCode::NOT_FOUND, "no such tunnel");
    }
    inner.generation += 1;
    json_response(StatusCode::OK, b"{}".to_vec())
}

/// The `X-TC-Action` and `X-TC-Version` headers, each required and non-empty.
fn action_and_version(parts: &http::request::Parts) -> Result<(&str, &str), ApiError> {
    let action = header(&parts.headers, "x-tc-action")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::missing("Action"))?;
    let version = header(&parts.headers, "x-tc-version")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::missing("Version"))?;
    Ok((action, version))
}

/// The request's headers as (name, value) pairs, as the signature check reads them (values that
/// are not text are left out).
fn header_pairs(parts: &http::request::Parts) -> Vec<(&str, &str)> {
    parts
        .headers
        .iter()
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
        .collect()
}
