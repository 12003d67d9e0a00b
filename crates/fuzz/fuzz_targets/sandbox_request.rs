//! The sandbox's request handling without a socket (`tunnelform_sandbox::fuzzing::RequestHarness`):
//! method and form, body limit, headers, TC3 signature, service and action, region, validation
//! against the API spec, then the action on an in-memory world (fresh for every input, fixed seed).
//!
//! The input is a text script of requests separated by a line `===`. Each request is:
//!
//! ```text
//! METHOD ACTION VERSION REGION      (a token "-" leaves the header out; "vpc" and "tag" stand
//! name: value                        for their versions; missing tokens take the defaults)
//! !nosign | !badsig | !unsigned-payload | !stale
//!                                   (blank line)
//! body (the query string for GET)
//! ```
//!
//! Requests are signed with the sandbox's credentials unless told otherwise, so the fuzzer reaches
//! the actions. `$VPNGW`, `$CGW`, `$VPNX` and `$VPC` in a body are replaced with the last id of that
//! kind seen in an earlier answer, and `$TASK` with the previous answer's `RequestId` (the task id of
//! an asynchronous write), so scripts can create an object and then use it. Oracles: no panic, no hang, bounded memory, every answer is HTTP 200 with
//! `Content-Type: application/json` and a `{"Response": {..., "RequestId": "..."}}` envelope whose
//! error, if any, has a non-empty `Code` and `Message`.

#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use tunnelform_sandbox::fuzzing::RequestHarness;
use tunnelform_sandbox::{RateLimits, SandboxConfig};
use tunnelform_tc3::{self as tc3, RequestParts};

const HOST: &str = "vpc.tencentcloudapi.com";
const MAX_REQUESTS: usize = 16;

struct Env {
    rt: tokio::runtime::Runtime,
    harness: RequestHarness,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let config = SandboxConfig {
            task_latency: Duration::ZERO,
            rate_limits: RateLimits::unlimited(),
            seed: Some(1),
            max_body_bytes: 64 * 1024,
            body_read_timeout: Duration::from_secs(1),
            credentials: tc3::Credentials::new("AKIDfuzz", "fuzzsecret", None),
            ..SandboxConfig::default()
        };
        let harness = RequestHarness::new(&config).expect("harness");
        Env { rt, harness }
    })
}

/// `TUNNELFORM_FUZZ_DEBUG=1`: print every answer (to see what a script reaches).
fn debug() -> bool {
    static DEBUG: OnceLock<bool> = OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("TUNNELFORM_FUZZ_DEBUG").is_some())
}

struct Script<'a> {
    method: &'a str,
    action: Option<&'a str>,
    version: Option<&'a str>,
    region: Option<&'a str>,
    headers: Vec<(&'a str, &'a str)>,
    flags: Vec<&'a str>,
    body: &'a [u8],
}

fn split_requests(data: &[u8]) -> Vec<&[u8]> {
    let sep = b"\n===\n";
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    out.push(rest);
    out
}

fn parse(chunk: &[u8]) -> Script<'_> {
    // The head (text lines up to a blank line), then the body as raw bytes.
    let (head, body) = match chunk.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&chunk[..i], &chunk[i + 2..]),
        None => (chunk, &[][..]),
    };
    let head = std::str::from_utf8(head).unwrap_or("");
    let mut lines = head.lines();
    let first = lines.next().unwrap_or("");
    let mut tokens = first.split(' ');
    let mut tok = |default: Option<&'static str>| match tokens.next() {
        Some("-") => None,
        Some("") | None => default,
        Some(t) => Some(t),
    };
    let method = tok(Some("POST")).unwrap_or("POST");
    let action = tok(Some("DescribeVpnGateways"));
    let version = tok(Some("vpc")).map(|v| match v {
        "vpc" => "2017-03-12",
        "tag" => "2018-08-13",
        other => other,
    });
    let region = tok(Some("ap-guangzhou"));
    let mut headers = Vec::new();
    let mut flags = Vec::new();
    for line in lines {
        if let Some(flag) = line.strip_prefix('!') {
            flags.push(flag);
        } else if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim(), v.trim()));
        }
    }
    Script {
        method,
        action,
        version,
        region,
        headers,
        flags,
        body,
    }
}

fn build(s: &Script<'_>, creds: &tc3::Credentials) -> Option<http::Request<Vec<u8>>> {
    let method = http::Method::from_bytes(s.method.as_bytes()).ok()?;
    let is_get = method == http::Method::GET;
    let (query, body) = if is_get {
        (std::str::from_utf8(s.body).ok()?, Vec::new())
    } else {
        ("", s.body.to_vec())
    };
    let content_type = if is_get {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
        - if s.flags.contains(&"stale") { 3600 } else { 0 };
    let ts = timestamp.to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
    let explicit = |name: &str| s.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if !explicit("content-type") {
        headers.push(("content-type".into(), content_type.into()));
    }
    headers.push(("host".into(), HOST.into()));
    if !explicit("x-tc-timestamp") {
        headers.push(("x-tc-timestamp".into(), ts));
    }
    if let Some(a) = s.action {
        headers.push(("x-tc-action".into(), a.into()));
    }
    if let Some(v) = s.version {
        headers.push(("x-tc-version".into(), v.into()));
    }
    if let Some(r) = s.region {
        if s.version != Some("2018-08-13") {
            headers.push(("x-tc-region".into(), r.into()));
        }
    }
    let unsigned_payload = s.flags.contains(&"unsigned-payload");
    if unsigned_payload {
        headers.push(("x-tc-content-sha256".into(), "UNSIGNED-PAYLOAD".into()));
    }
    for (n, v) in &s.headers {
        headers.push((n.to_ascii_lowercase(), (*v).to_string()));
    }
    // Only what http accepts can be sent.
    let mut valid: Vec<(http::HeaderName, http::HeaderValue)> = Vec::new();
    for (n, v) in &headers {
        let name = http::HeaderName::from_bytes(n.as_bytes()).ok()?;
        let value = http::HeaderValue::from_str(v).ok()?;
        valid.push((name, value));
    }
    if !s.flags.contains(&"nosign") {
        let pairs: Vec<(&str, &str)> = valid
            .iter()
            .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
            .collect();
        let parts = RequestParts {
            method: method.as_str(),
            path: "/",
            query,
            headers: &pairs,
            payload: if unsigned_payload {
                b"UNSIGNED-PAYLOAD"
            } else {
                &body
            },
        };
        let service = if s.version == Some("2018-08-13") {
            "tag"
        } else {
            "vpc"
        };
        let key = if s.flags.contains(&"badsig") {
            tc3::Credentials::new(creds.secret_id.clone(), "wrong", None)
        } else {
            creds.clone()
        };
        if let Ok(signed) = tc3::sign(&parts, &["content-type", "host"], service, timestamp, &key) {
            let value = http::HeaderValue::from_str(&signed.authorization).ok()?;
            valid.push((http::header::AUTHORIZATION, value));
        }
    }
    let uri = if query.is_empty() {
        "/".to_string()
    } else {
        format!("/?{query}")
    };
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (n, v) in valid {
        builder = builder.header(n, v);
    }
    builder.body(body).ok()
}

fn check(resp: &tunnelform_sandbox::fuzzing::HarnessResponse) -> serde_json::Value {
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(resp.content_type.as_deref(), Some("application/json"));
    let v: serde_json::Value = serde_json::from_slice(&resp.body).expect("the answer is JSON");
    let r = v
        .get("Response")
        .and_then(|r| r.as_object())
        .expect("a Response object");
    assert!(
        r.get("RequestId")
            .and_then(|x| x.as_str())
            .is_some_and(|s| !s.is_empty()),
        "no RequestId: {v}"
    );
    if let Some(e) = r.get("Error") {
        let code = e.get("Code").and_then(|c| c.as_str()).unwrap_or("");
        let message = e.get("Message").and_then(|c| c.as_str()).unwrap_or("");
        assert!(!code.is_empty() && !message.is_empty(), "bad error: {v}");
        assert_ne!(code, "InternalError", "an internal error: {v}");
    }
    v
}

/// Ids seen in answers, by placeholder.
#[derive(Default)]
struct Ids(Vec<(&'static [u8], String)>);

impl Ids {
    fn learn(&mut self, v: &serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    if let (true, Some(s)) = (k.ends_with("Id"), x.as_str()) {
                        let slot: Option<&'static [u8]> = if k == "TaskId" || k == "RequestId" {
                            Some(b"$TASK")
                        } else if s.starts_with("vpngw-") {
                            Some(b"$VPNGW")
                        } else if s.starts_with("cgw-") {
                            Some(b"$CGW")
                        } else if s.starts_with("vpnx-") {
                            Some(b"$VPNX")
                        } else if s.starts_with("vpc-") {
                            Some(b"$VPC")
                        } else {
                            None
                        };
                        if let Some(slot) = slot {
                            self.0.retain(|(p, _)| *p != slot);
                            self.0.push((slot, s.to_string()));
                        }
                    } else if let Some(n) = x.as_u64().filter(|_| k == "TaskId") {
                        self.0.retain(|(p, _)| *p != b"$TASK");
                        self.0.push((b"$TASK", n.to_string()));
                    }
                    self.learn(x);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|x| self.learn(x)),
            _ => {}
        }
    }

    fn substitute(&self, body: &[u8]) -> Vec<u8> {
        let mut out = body.to_vec();
        for (placeholder, id) in &self.0 {
            let mut i = 0;
            while let Some(at) = out[i..]
                .windows(placeholder.len())
                .position(|w| w == *placeholder)
            {
                let at = i + at;
                out.splice(at..at + placeholder.len(), id.bytes());
                i = at + id.len();
            }
        }
        out
    }
}

fuzz_target!(|data: &[u8]| {
    let env = env();
    env.harness.reset();
    let mut ids = Ids::default();
    for chunk in split_requests(data).into_iter().take(MAX_REQUESTS) {
        let mut script = parse(chunk);
        let body = ids.substitute(script.body);
        script.body = &body;
        let Some(req) = build(&script, env.harness.credentials()) else {
            continue;
        };
        let resp = env.rt.block_on(env.harness.handle(req));
        let resp = resp.expect("no fault is injected, so every request is answered");
        if debug() {
            eprintln!("{}", String::from_utf8_lossy(&resp.body));
        }
        let v = check(&resp);
        ids.learn(&v);
    }
});
