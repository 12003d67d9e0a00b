//! The client: signing, transport, error classification, retries, rate limiting and metrics.

use crate::action::GetCallerIdentity;
use crate::action::{Action, Service};
use crate::config::{ClientConfig, ConfigError};
use crate::error::{ApiError, ErrorCode, ErrorKind};
use crate::limiter::{BucketKey, Limiter};
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::retry::Decision;
use crate::sts::{GetCallerIdentityRequest, GetCallerIdentityResponse};
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use reqwest::Url;
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;
use tracing::debug;
use tunnelform_tc3::{sign, RequestParts, DEFAULT_SIGNED_HEADERS};

/// A Tencent Cloud API client. Cheap to clone (an `Arc` inside); one HTTP connection pool, one set of
/// rate-limiter buckets and one set of metrics shared by every clone and every region.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    pub(crate) config: ClientConfig,
    limiter: Limiter,
    metrics: Metrics,
    pub(crate) uin: tokio::sync::OnceCell<String>,
    pub(crate) identity: tokio::sync::OnceCell<GetCallerIdentityResponse>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Where one service's requests go: the URL, the exact `Host` header sent (and signed) and the path.
struct Target {
    url: Url,
    host: String,
}

impl Target {
    fn new(url: Url) -> Self {
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => String::new(),
        };
        Target { url, host }
    }
}

/// The result of one attempt.
struct Attempt<T> {
    result: Result<T, ErrorKind>,
    request_id: Option<String>,
}

impl Client {
    /// Builds the client and its connection pool (rustls, HTTP/1.1 keep-alive).
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .http1_only()
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(50))
            .tcp_nodelay(true)
            .user_agent(concat!("tunnelform/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::Http(e.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                limiter: Limiter::new(config.rate_limits.clone()),
                config,
                metrics: Metrics::default(),
                uin: tokio::sync::OnceCell::new(),
                identity: tokio::sync::OnceCell::new(),
            }),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The configured default region (`TENCENTCLOUD_REGION`), if any.
    pub fn default_region(&self) -> Option<&str> {
        self.inner.config.region.as_deref()
    }

    /// Who the credentials belong to (`sts` `GetCallerIdentity`), asked once and cached. `region` is sent
    /// as `X-TC-Region` (`""` sends none). An answer without an `AccountId` is a decode error: the account
    /// is what callers need it for.
    pub async fn caller_identity(
        &self,
        region: &str,
    ) -> Result<GetCallerIdentityResponse, ApiError> {
        self.inner
            .identity
            .get_or_try_init(|| async {
                let id = self
                    .call::<GetCallerIdentity>(region, &GetCallerIdentityRequest {})
                    .await?;
                if id.account_id.trim().is_empty() {
                    return Err(ApiError {
                        action: GetCallerIdentity::NAME,
                        region: region.to_string(),
                        request_id: Some(id.request_id.clone()).filter(|r| !r.is_empty()),
                        kind: ErrorKind::Decode {
                            reason: "the answer names no AccountId".to_string(),
                        },
                        attempts: 1,
                    });
                }
                Ok(id)
            })
            .await
            .cloned()
    }

    /// The identity already learnt by [`Client::caller_identity`], if any (no request).
    pub fn known_identity(&self) -> Option<&GetCallerIdentityResponse> {
        self.inner.identity.get()
    }

    /// Counters since the client was created.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.snapshot()
    }

    /// The rate (requests per second) the client-side limiter currently allows for action `A` in `region`
    /// (lower than configured after `RequestLimitExceeded`, while it recovers).
    pub fn current_rate_limit<A: Action>(&self, region: &str) -> f64 {
        self.inner
            .limiter
            .current_rate(&bucket_key(A::SERVICE, region, A::NAME))
    }

    /// Calls action `A` in `region` (`""` sends no `X-TC-Region`), with rate limiting and the retry policy.
    pub async fn call<A: Action>(
        &self,
        region: &str,
        req: &A::Request,
    ) -> Result<A::Response, ApiError> {
        let body = match serde_json::to_vec(req) {
            Ok(b) => Bytes::from(b),
            Err(e) => {
                return Err(ApiError {
                    action: A::NAME,
                    region: region.to_string(),
                    request_id: None,
                    kind: ErrorKind::InvalidRequest {
                        reason: e.to_string(),
                    },
                    attempts: 0,
                })
            }
        };
        let inner = &self.inner;
        let target = Target::new(inner.config.endpoint.url_for(A::SERVICE));
        let key = bucket_key(A::SERVICE, region, A::NAME);
        let start = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let waited = inner.limiter.acquire(&key).await;
            inner.metrics.call(A::NAME, waited);
            let sent_at = Instant::now();
            let out = self.attempt::<A>(region, &target, &body).await;
            let latency = sent_at.elapsed();
            match out.result {
                Ok(resp) => {
                    debug!(
                        action = A::NAME,
                        region,
                        request_id = out.request_id.as_deref().unwrap_or(""),
                        attempt,
                        latency_ms = latency.as_millis() as u64,
                        "call succeeded"
                    );
                    return Ok(resp);
                }
                Err(kind) => {
                    let kind = scrub_secrets(kind, &body);
                    let rate_limited = kind.api_code().is_some_and(ErrorCode::is_rate_limited);
                    inner.metrics.error(&metric_key(&kind), rate_limited);
                    if rate_limited {
                        inner.limiter.throttled(&key);
                    }
                    debug!(
                        action = A::NAME,
                        region,
                        request_id = out.request_id.as_deref().unwrap_or(""),
                        attempt,
                        latency_ms = latency.as_millis() as u64,
                        error = %kind,
                        "call failed"
                    );
                    let policy = &inner.config.retry;
                    let elapsed = start.elapsed();
                    let mut decision = policy.decide(A::KIND, &kind, attempt, elapsed);
                    let delay = policy.delay(attempt, rand::random::<f64>());
                    if elapsed + delay >= policy.total_budget {
                        decision = Decision::Stop;
                    }
                    if decision == Decision::Stop {
                        return Err(ApiError {
                            action: A::NAME,
                            region: region.to_string(),
                            request_id: out.request_id,
                            kind,
                            attempts: attempt,
                        });
                    }
                    inner.metrics.retry(A::NAME);
                    debug!(
                        action = A::NAME,
                        region,
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        "retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// One signed HTTP exchange.
    async fn attempt<A: Action>(
        &self,
        region: &str,
        target: &Target,
        body: &Bytes,
    ) -> Attempt<A::Response> {
        let fail = |kind| Attempt {
            result: Err(kind),
            request_id: None,
        };
        let cfg = &self.inner.config;
        let timestamp = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(_) => 0,
        };
        let sign_headers = [
            ("content-type", "application/json"),
            ("host", target.host.as_str()),
        ];
        let parts = RequestParts {
            method: "POST",
            path: target.url.path(),
            query: "",
            headers: &sign_headers,
            payload: body,
        };
        let signed = match sign(
            &parts,
            DEFAULT_SIGNED_HEADERS,
            A::SERVICE.name(),
            timestamp,
            &cfg.credentials,
        ) {
            Ok(s) => s,
            Err(e) => {
                return fail(ErrorKind::InvalidRequest {
                    reason: e.to_string(),
                })
            }
        };
        let mut headers = HeaderMap::with_capacity(10);
        let mut put = |name: HeaderName, value: &str| -> Result<(), ErrorKind> {
            let v = HeaderValue::from_str(value).map_err(|_| ErrorKind::InvalidRequest {
                reason: format!("header {name} has a value that cannot be sent"),
            })?;
            headers.insert(name, v);
            Ok(())
        };
        let built = (|| {
            put(CONTENT_TYPE, "application/json")?;
            put(HOST, &target.host)?;
            put(HeaderName::from_static("x-tc-action"), A::NAME)?;
            put(
                HeaderName::from_static("x-tc-version"),
                A::SERVICE.version(),
            )?;
            put(
                HeaderName::from_static("x-tc-timestamp"),
                &timestamp.to_string(),
            )?;
            if !region.is_empty() {
                put(HeaderName::from_static("x-tc-region"), region)?;
            }
            if let Some(token) = cfg.credentials.token() {
                put(HeaderName::from_static("x-tc-token"), token)?;
            }
            if let Some(lang) = &cfg.language {
                put(HeaderName::from_static("x-tc-language"), lang)?;
            }
            put(AUTHORIZATION, &signed.authorization)
        })();
        if let Err(kind) = built {
            return fail(kind);
        }
        let sent = self
            .inner
            .http
            .post(target.url.clone())
            .headers(headers)
            .timeout(cfg.request_timeout)
            .body(body.clone())
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => return fail(classify_transport(&e)),
        };
        let status = resp.status();
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return fail(ErrorKind::OutcomeUnknown {
                    reason: format!("reading the response failed: {}", error_chain(&e)),
                    http_status: Some(status.as_u16()),
                })
            }
        };
        if status.is_server_error() {
            return fail(ErrorKind::OutcomeUnknown {
                reason: format!("HTTP {status}"),
                http_status: Some(status.as_u16()),
            });
        }
        if status != reqwest::StatusCode::OK {
            return fail(ErrorKind::UnexpectedStatus {
                status: status.as_u16(),
            });
        }
        parse_response::<A::Response>(&bytes)
    }
}

fn bucket_key(service: Service, region: &str, action: &'static str) -> BucketKey {
    if service.is_regional() {
        (Some(region.to_string()), action)
    } else {
        (None, action)
    }
}

#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "Response")]
    response: ProbeInner,
}

#[derive(Deserialize)]
struct ProbeInner {
    #[serde(rename = "Error", default)]
    error: Option<ErrorBody>,
    #[serde(rename = "RequestId", default)]
    request_id: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "Code", default)]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(rename = "Response")]
    response: T,
}

/// Parses a 200 answer: `{"Response": {"Error": ...}}` or `{"Response": {...}}`.
fn parse_response<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Attempt<T> {
    let probe: Probe = match serde_json::from_slice(bytes) {
        Ok(p) => p,
        Err(e) => {
            return Attempt {
                result: Err(ErrorKind::Decode {
                    reason: describe_json_error(&e),
                }),
                request_id: None,
            }
        }
    };
    let request_id = probe.response.request_id.filter(|s| !s.is_empty());
    if let Some(err) = probe.response.error {
        return Attempt {
            result: Err(ErrorKind::Api {
                code: ErrorCode::parse(&err.code),
                message: err.message,
            }),
            request_id,
        };
    }
    match serde_json::from_slice::<Envelope<T>>(bytes) {
        Ok(env) => Attempt {
            result: Ok(env.response),
            request_id,
        },
        Err(e) => Attempt {
            result: Err(ErrorKind::Decode {
                reason: describe_json_error(&e),
            }),
            request_id,
        },
    }
}

/// serde_json's message with any quoted value elided (it might be a secret), plus the position.
fn describe_json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let mut out = String::with_capacity(msg.len());
    let mut quoted = false;
    for c in msg.chars() {
        if c == '"' {
            if !quoted {
                out.push_str("\"…");
            } else {
                out.push('"');
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

/// A transport error: did the request reach the server?
fn classify_transport(e: &reqwest::Error) -> ErrorKind {
    let reason = error_chain(e);
    if e.is_connect() {
        // Connection refused, DNS, TLS handshake, connect timeout: nothing was sent.
        ErrorKind::NotSent { reason }
    } else if e.is_builder() {
        ErrorKind::InvalidRequest { reason }
    } else {
        // Sent (at least partly) and no answer: reset, closed mid-way, timeout after sending.
        ErrorKind::OutcomeUnknown {
            reason,
            http_status: None,
        }
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(cause) = src {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        src = cause.source();
    }
    s
}

/// The metrics key of a failure.
fn metric_key(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::Api { code, .. } => code.as_str().to_string(),
        ErrorKind::NotSent { .. } => "NotSent".into(),
        ErrorKind::OutcomeUnknown { .. } => "OutcomeUnknown".into(),
        ErrorKind::UnexpectedStatus { .. } => "UnexpectedStatus".into(),
        ErrorKind::Decode { .. } => "Decode".into(),
        ErrorKind::InvalidRequest { .. } => "InvalidRequest".into(),
    }
}

/// Removes from a server message any pre-shared key the request carried (a server might echo it).
fn scrub_secrets(kind: ErrorKind, body: &[u8]) -> ErrorKind {
    let ErrorKind::Api { code, mut message } = kind else {
        return kind;
    };
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let mut secrets = Vec::new();
        collect_secrets(&v, &mut secrets);
        for s in secrets.iter().filter(|s| s.len() >= 4) {
            message = message.replace(s.as_str(), "** redacted **");
        }
    }
    ErrorKind::Api { code, message }
}

fn collect_secrets(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("PreShareKey", serde_json::Value::String(s)) => out.push(s.clone()),
                    _ => collect_secrets(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_secrets(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vpc::DescribeVpnConnectionsResponse;

    #[test]
    fn parses_success_and_error_envelopes() {
        let ok =
            br#"{"Response":{"TotalCount":0,"VpnConnectionSet":[],"RequestId":"r-1","Extra":1}}"#;
        let a = parse_response::<DescribeVpnConnectionsResponse>(ok);
        assert_eq!(a.request_id.as_deref(), Some("r-1"));
        assert_eq!(a.result.unwrap().request_id, "r-1");

        let err = br#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"},"RequestId":"r-2"}}"#;
        let a = parse_response::<DescribeVpnConnectionsResponse>(err);
        assert_eq!(a.request_id.as_deref(), Some("r-2"));
        assert_eq!(
            a.result.unwrap_err(),
            ErrorKind::Api {
                code: ErrorCode::RequestLimitExceeded,
                message: "slow down".into()
            }
        );

        let bad = br#"{"Response":{"TotalCount":"many","PreShareKey":"x","RequestId":"r-3"}}"#;
        let a = parse_response::<DescribeVpnConnectionsResponse>(bad);
        assert_eq!(a.request_id.as_deref(), Some("r-3"));
        let ErrorKind::Decode { reason } = a.result.unwrap_err() else {
            panic!()
        };
        assert!(!reason.contains("many"), "{reason}");

        let a = parse_response::<DescribeVpnConnectionsResponse>(b"<html>");
        assert!(matches!(a.result.unwrap_err(), ErrorKind::Decode { .. }));
    }

    #[test]
    fn scrubs_pre_shared_keys_from_server_messages() {
        let body = br#"{"VpnConnectionId":"vpnx-1","PreShareKey":"s3cr3t-psk"}"#;
        let k = scrub_secrets(
            ErrorKind::Api {
                code: ErrorCode::InvalidParameter,
                message: "bad PreShareKey s3cr3t-psk".into(),
            },
            body,
        );
        assert_eq!(
            k.to_string(),
            "InvalidParameter: bad PreShareKey ** redacted **"
        );
    }

    #[test]
    fn host_header_is_host_and_explicit_port() {
        let t = Target::new(Url::parse("http://127.0.0.1:9000").unwrap());
        assert_eq!(t.host, "127.0.0.1:9000");
        let t = Target::new(Url::parse("https://vpc.tencentcloudapi.com/").unwrap());
        assert_eq!(t.host, "vpc.tencentcloudapi.com");
        let t = Target::new(Url::parse("http://[::1]:9000/").unwrap());
        assert_eq!(t.host, "[::1]:9000");
    }
}
