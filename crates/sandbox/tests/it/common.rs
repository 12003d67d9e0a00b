//! A small signed test client (reqwest + tunnelform-tc3) and fixtures.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tunnelform_sandbox::{Credentials, RateLimits, Sandbox, SandboxConfig, SandboxHandle};
use tunnelform_tc3::{self as tc3, RequestParts};

pub const SECRET_ID: &str = "AKIDtest";
pub const SECRET_KEY: &str = "testsecret";
pub const REGION: &str = "ap-guangzhou";
pub const VPC: &str = "vpc-sandbox1";

/// A configuration for tests: ephemeral port, test credentials, 50 ms tasks, no rate limits, fixed seed,
/// the default account.
pub fn config() -> SandboxConfig {
    SandboxConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        credentials: Credentials::new(SECRET_ID, SECRET_KEY, None),
        task_latency: Duration::from_millis(50),
        rate_limits: RateLimits::unlimited(),
        seed: Some(7),
        uin: Some(tunnelform_sandbox::DEFAULT_UIN.to_string()),
        ..SandboxConfig::default()
    }
}

pub async fn start(config: SandboxConfig) -> (SandboxHandle, Client) {
    let handle = Sandbox::start(config).await.expect("sandbox starts");
    let client = Client::new(&handle);
    (handle, client)
}

pub async fn start_default() -> (SandboxHandle, Client) {
    start(config()).await
}

/// A sandbox whose tasks (and new gateways) take ten minutes, so PENDING / RUNNING states can be observed
/// without racing the clock, with one AVAILABLE VPN gateway and one customer gateway made beforehand (through
/// a data file written by a fast sandbox). Returns the handle, a client, the gateway, the customer gateway and
/// the directory holding the data file.
pub async fn start_slow() -> (SandboxHandle, Client, String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.json");
    let fast = SandboxConfig {
        data_file: Some(path.clone()),
        ..config()
    };
    let (h, c) = start(fast).await;
    let gw = c.create_gateway(VPC).await;
    let cgw = c.create_cgw("58.211.1.12").await;
    h.shutdown().await.unwrap();
    let slow = SandboxConfig {
        data_file: Some(path),
        task_latency: Duration::from_secs(600),
        ..config()
    };
    let (h, c) = start(slow).await;
    (h, c, gw, cgw, dir)
}

/// Python's `urllib.parse.quote_plus` (what the SDK's `urlencode` applies to every name and value).
pub fn quote_plus(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The query string the official Python SDK sends for `params` with `reqMethod="GET"`
/// (`AbstractClient._format_params` then `urlencode`): lists by index, objects by member name, joined by
/// dots, in order; `null` and empty lists send nothing; leaves as Python's `str` (`True`/`False`).
pub fn sdk_query(params: &Value) -> String {
    fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
        let key = |k: &str| {
            if prefix.is_empty() {
                k.to_string()
            } else {
                format!("{prefix}.{k}")
            }
        };
        match value {
            Value::Null => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    flatten(&key(&i.to_string()), item, out);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    flatten(&key(k), v, out);
                }
            }
            Value::Bool(b) => out.push((prefix.into(), if *b { "True" } else { "False" }.into())),
            Value::Number(n) => out.push((prefix.into(), n.to_string())),
            Value::String(s) => out.push((prefix.into(), s.clone())),
        }
    }
    let mut pairs = Vec::new();
    flatten("", params, &mut pairs);
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// One request, with every part a test may want to change.
#[derive(Clone)]
pub struct Req {
    pub service: String,
    pub version: String,
    pub action: Option<String>,
    pub region: Option<String>,
    pub body: Vec<u8>,
    pub timestamp: Option<i64>,
    pub signed_headers: Vec<String>,
    /// Host header to send and sign (default: the address as reqwest sends it).
    pub host: Option<String>,
    pub content_type: String,
    pub secret_id: String,
    pub secret_key: String,
    /// Scope service in the credential (default: `service`).
    pub scope_service: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub no_authorization: bool,
    /// Change the body after signing.
    pub tamper: bool,
    pub method: reqwest::Method,
    /// Sign with `X-TC-Content-SHA256: UNSIGNED-PAYLOAD`.
    pub unsigned_payload: bool,
    /// The query string, sent and signed exactly as given (empty: none).
    pub query: String,
    /// Sign this query string instead of `query` (to test that the signature covers the query).
    pub signed_query: Option<String>,
    /// Headers (lower-case names) signed as usual but then not sent (`authorization` included).
    pub omit_headers: Vec<String>,
}

impl Req {
    pub fn vpc(action: &str, body: Value) -> Req {
        Req {
            service: "vpc".into(),
            version: "2017-03-12".into(),
            action: Some(action.into()),
            region: Some(REGION.into()),
            body: serde_json::to_vec(&body).unwrap(),
            timestamp: None,
            signed_headers: vec!["content-type".into(), "host".into()],
            host: None,
            content_type: "application/json".into(),
            secret_id: SECRET_ID.into(),
            secret_key: SECRET_KEY.into(),
            scope_service: None,
            extra_headers: Vec::new(),
            authorization: None,
            no_authorization: false,
            tamper: false,
            method: reqwest::Method::POST,
            unsigned_payload: false,
            query: String::new(),
            signed_query: None,
            omit_headers: Vec::new(),
        }
    }

    /// A vpc action sent as the official Python SDK sends it with `HttpProfile(reqMethod="GET")`:
    /// `GET /?<flattened, urlencoded params>`, form content type, empty body.
    pub fn vpc_get(action: &str, params: Value) -> Req {
        Req::vpc(action, json!({})).into_get(&params)
    }

    /// The same request as a GET with `params` flattened into the query string.
    pub fn into_get(mut self, params: &Value) -> Req {
        self.method = reqwest::Method::GET;
        self.content_type = "application/x-www-form-urlencoded".into();
        self.body = Vec::new();
        self.query = sdk_query(params);
        self
    }

    pub fn tag(action: &str, body: Value) -> Req {
        Req {
            service: "tag".into(),
            version: "2018-08-13".into(),
            region: None,
            ..Req::vpc(action, body)
        }
    }

    pub fn region(mut self, region: &str) -> Req {
        self.region = Some(region.into());
        self
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub content_type: Option<String>,
    pub text: String,
    pub json: Option<Value>,
}

impl Resp {
    /// The `Response` object.
    pub fn response(&self) -> &Value {
        &self
            .json
            .as_ref()
            .unwrap_or_else(|| panic!("not JSON: {}", self.text))["Response"]
    }

    pub fn error_code(&self) -> Option<&str> {
        self.response()["Error"]["Code"].as_str()
    }

    pub fn request_id(&self) -> &str {
        self.response()["RequestId"].as_str().expect("RequestId")
    }
}

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub host: String,
    pub region: String,
}

impl Client {
    pub fn new(handle: &SandboxHandle) -> Client {
        Client {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(8)
                .http1_only()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            base: handle.url(),
            host: handle.addr().to_string(),
            region: REGION.into(),
        }
    }

    pub fn in_region(&self, region: &str) -> Client {
        Client {
            region: region.into(),
            ..self.clone()
        }
    }

    /// Sends a request; transport errors are returned as `Err`.
    pub async fn try_send(&self, req: Req) -> Result<Resp, reqwest::Error> {
        let timestamp = req.timestamp.unwrap_or_else(now);
        let host = req.host.clone().unwrap_or_else(|| self.host.clone());
        let mut headers: Vec<(String, String)> = vec![
            ("content-type".into(), req.content_type.clone()),
            ("host".into(), host.clone()),
            ("x-tc-version".into(), req.version.clone()),
            ("x-tc-timestamp".into(), timestamp.to_string()),
        ];
        if let Some(a) = &req.action {
            headers.push(("x-tc-action".into(), a.clone()));
        }
        if let Some(r) = &req.region {
            headers.push(("x-tc-region".into(), r.clone()));
        }
        headers.extend(req.extra_headers.iter().cloned());
        if req.unsigned_payload {
            headers.push(("x-tc-content-sha256".into(), "UNSIGNED-PAYLOAD".into()));
        }
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let parts = RequestParts {
            method: req.method.as_str(),
            path: "/",
            query: req.signed_query.as_deref().unwrap_or(&req.query),
            headers: &pairs,
            payload: if req.unsigned_payload {
                b"UNSIGNED-PAYLOAD"
            } else {
                &req.body
            },
        };
        let signed: Vec<&str> = req.signed_headers.iter().map(String::as_str).collect();
        let creds = Credentials::new(req.secret_id.clone(), req.secret_key.clone(), None);
        let scope = req
            .scope_service
            .clone()
            .unwrap_or_else(|| req.service.clone());
        let authorization = match &req.authorization {
            Some(a) => a.clone(),
            None => {
                tc3::sign(&parts, &signed, &scope, timestamp, &creds)
                    .expect("sign")
                    .authorization
            }
        };
        let mut body = req.body.clone();
        if req.tamper {
            body.push(b' ');
        }
        let url = if req.query.is_empty() {
            format!("{}/", self.base)
        } else {
            format!("{}/?{}", self.base, req.query)
        };
        let mut builder = self.http.request(req.method.clone(), url);
        for (n, v) in &headers {
            if (n == "host" && req.host.is_none()) || req.omit_headers.contains(n) {
                continue;
            }
            builder = builder.header(n.as_str(), v.as_str());
        }
        if !req.no_authorization && !req.omit_headers.iter().any(|h| h == "authorization") {
            builder = builder.header("authorization", authorization);
        }
        let resp = builder.body(body).send().await?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let text = resp.text().await?;
        let json = serde_json::from_str(&text).ok();
        Ok(Resp {
            status,
            content_type,
            text,
            json,
        })
    }

    pub async fn send(&self, mut req: Req) -> Resp {
        if req.service == "vpc" && req.region.as_deref() == Some(REGION) {
            req.region = Some(self.region.clone());
        }
        self.try_send(req).await.expect("transport")
    }

    /// Calls a vpc action and returns its `Response`, panicking on an API error.
    pub async fn vpc(&self, action: &str, body: Value) -> Value {
        let resp = self.send(Req::vpc(action, body)).await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        assert!(
            resp.error_code().is_none(),
            "{action} failed: {}",
            resp.text
        );
        resp.response().clone()
    }

    /// Calls a vpc action that must fail; returns the error code.
    pub async fn vpc_err(&self, action: &str, body: Value) -> String {
        let resp = self.send(Req::vpc(action, body)).await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        resp.error_code()
            .unwrap_or_else(|| panic!("{action} unexpectedly succeeded: {}", resp.text))
            .to_string()
    }

    /// Calls a vpc action as a GET (the SDK's `reqMethod="GET"`) and returns its `Response`, panicking on an
    /// API error.
    pub async fn vpc_get(&self, action: &str, params: Value) -> Value {
        let resp = self.send(Req::vpc_get(action, params)).await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        assert!(
            resp.error_code().is_none(),
            "GET {action} failed: {}",
            resp.text
        );
        resp.response().clone()
    }

    /// Calls a vpc action as a GET that must fail; returns the error code and message.
    pub async fn vpc_get_err(&self, action: &str, params: Value) -> (String, String) {
        let resp = self.send(Req::vpc_get(action, params)).await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        let code = resp
            .error_code()
            .unwrap_or_else(|| panic!("GET {action} unexpectedly succeeded: {}", resp.text))
            .to_string();
        let message = resp.response()["Error"]["Message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        (code, message)
    }

    pub async fn tag(&self, action: &str, body: Value) -> Value {
        let resp = self.send(Req::tag(action, body)).await;
        assert!(
            resp.error_code().is_none(),
            "{action} failed: {}",
            resp.text
        );
        resp.response().clone()
    }

    pub async fn tag_err(&self, action: &str, body: Value) -> String {
        let resp = self.send(Req::tag(action, body)).await;
        resp.error_code()
            .unwrap_or_else(|| panic!("{action} unexpectedly succeeded: {}", resp.text))
            .to_string()
    }

    // ---- fixtures ----

    pub async fn create_cgw(&self, ip: &str) -> String {
        let r = self
            .vpc(
                "CreateCustomerGateway",
                json!({"CustomerGatewayName": format!("cgw-{ip}"), "IpAddress": ip}),
            )
            .await;
        r["CustomerGateway"]["CustomerGatewayId"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn create_cgw_asn(&self, ip: &str, asn: u64) -> String {
        let r = self
            .vpc(
                "CreateCustomerGateway",
                json!({"CustomerGatewayName": "bgp-peer", "IpAddress": ip, "BgpAsn": asn}),
            )
            .await;
        r["CustomerGateway"]["CustomerGatewayId"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Creates a VPN gateway in `vpc` and waits until it is AVAILABLE.
    pub async fn create_gateway(&self, vpc: &str) -> String {
        let r = self
            .vpc(
                "CreateVpnGateway",
                json!({"VpcId": vpc, "VpnGatewayName": "gw", "InternetMaxBandwidthOut": 5}),
            )
            .await;
        let id = r["VpnGateway"]["VpnGatewayId"]
            .as_str()
            .unwrap()
            .to_string();
        self.wait_gateway(&id).await;
        id
    }

    pub async fn wait_gateway(&self, id: &str) -> Value {
        for _ in 0..500 {
            let r = self
                .vpc("DescribeVpnGateways", json!({"VpnGatewayIds": [id]}))
                .await;
            let g = r["VpnGatewaySet"][0].clone();
            if g["State"] == "AVAILABLE" {
                return g;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("gateway {id} never became AVAILABLE");
    }

    /// Starts creating a connection; returns (connection id, task id).
    pub async fn start_conn(&self, gw: &str, cgw: &str, extra: Value) -> (String, String) {
        let mut body = json!({
            "VpnGatewayId": gw,
            "CustomerGatewayId": cgw,
            "VpnConnectionName": "conn",
            "PreShareKey": "s3cret-psk",
        });
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        let r = self.vpc("CreateVpnConnection", body).await;
        (
            r["VpnConnection"]["VpnConnectionId"]
                .as_str()
                .unwrap()
                .to_string(),
            r["RequestId"].as_str().unwrap().to_string(),
        )
    }

    /// Creates a connection and waits for its task to succeed.
    pub async fn create_conn(&self, gw: &str, cgw: &str, extra: Value) -> String {
        let (id, task) = self.start_conn(gw, cgw, extra).await;
        let (status, output) = self.wait_task(&task).await;
        assert_eq!(status, "SUCCESS", "{output}");
        id
    }

    /// Polls DescribeVpcTaskResult until the task is no longer RUNNING.
    pub async fn wait_task(&self, task: &str) -> (String, String) {
        for _ in 0..500 {
            let r = self
                .vpc("DescribeVpcTaskResult", json!({"TaskId": task}))
                .await;
            let status = r["Status"].as_str().unwrap().to_string();
            if status != "RUNNING" {
                return (status, r["Output"].as_str().unwrap().to_string());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("task {task} never finished");
    }

    pub async fn describe_conn(&self, id: &str) -> Option<Value> {
        let r = self
            .vpc("DescribeVpnConnections", json!({"VpnConnectionIds": [id]}))
            .await;
        r["VpnConnectionSet"].as_array().unwrap().first().cloned()
    }
}

/// The head lines (each ending in CRLF) of a vpc `action` request that passes every check made before the
/// body is read (known secret id, well-formed Authorization, timestamp now, scope dated today, version and
/// region), with a signature that cannot match any body: what a client knowing only the secret id sends.
pub fn authentic_looking_head(action: &str) -> String {
    let ts = now();
    format!(
        "Authorization: {}\r\nX-TC-Timestamp: {ts}\r\nX-TC-Action: {action}\r\nX-TC-Version: 2017-03-12\r\nX-TC-Region: {REGION}\r\n",
        tc3::authorization(SECRET_ID, ts, "vpc", &["content-type", "host"], &"0".repeat(64))
    )
}

impl Req {
    /// An `sts` action (version 2018-08-13, scope `sts`).
    pub fn sts(action: &str, body: Value) -> Req {
        Req {
            service: "sts".into(),
            version: "2018-08-13".into(),
            region: None,
            ..Req::vpc(action, body)
        }
    }
}

impl Client {
    /// `GetCallerIdentity`'s `AccountId`.
    pub async fn account(&self) -> String {
        let resp = self.send(Req::sts("GetCallerIdentity", json!({}))).await;
        assert!(resp.error_code().is_none(), "{}", resp.text);
        resp.response()["AccountId"]
            .as_str()
            .expect("AccountId")
            .to_string()
    }
}
