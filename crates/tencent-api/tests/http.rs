//! The client over real HTTP against a tiny HTTP/1.1 stub on 127.0.0.1 (ephemeral port) that checks every
//! request's TC3 signature with `tunnelform_tc3::verify` and answers whatever each test scripts: API
//! errors, HTTP 503, dropped connections, hangs, garbage.

use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tunnelform_tencent_api::actions::*;
use tunnelform_tencent_api::tag::{GetResourcesRequest, ResourceTagMapping};
use tunnelform_tencent_api::vpc::*;
use tunnelform_tencent_api::*;

const ID: &str = "AKIDtest";
const KEY: &str = "test-secret-key-value";

#[derive(Clone, Debug)]
enum Reply {
    /// 200, application/json.
    Json(Value),
    /// An API error (HTTP 200).
    Error(&'static str, &'static str),
    Status(u16),
    /// Close the connection after reading the request.
    Drop,
    /// Never answer.
    Hang,
    /// 200 with this body.
    Raw(&'static str),
}

#[derive(Clone, Debug)]
struct Req {
    headers: Vec<(String, String)>,
    body: Value,
    verified: Result<tunnelform_tc3::Verified, tunnelform_tc3::VerifyError>,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn action(&self) -> &str {
        self.header("x-tc-action").unwrap_or("")
    }
}

type Handler = Arc<dyn Fn(&Req, usize) -> Reply + Send + Sync>;

struct Stub {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Req>>>,
    connections: Arc<AtomicUsize>,
}

impl Stub {
    async fn start(handler: impl Fn(&Req, usize) -> Reply + Send + Sync + 'static) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let handler: Handler = Arc::new(handler);
        let (l, c) = (log.clone(), connections.clone());
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                c.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(sock, l.clone(), handler.clone()));
            }
        });
        Stub {
            addr,
            log,
            connections,
        }
    }

    fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }

    fn client(&self, retry: RetryPolicy) -> Client {
        client_for(&format!("http://{}", self.addr), retry)
    }
}

fn client_for(endpoint: &str, retry: RetryPolicy) -> Client {
    let mut cfg = ClientConfig::new(Credentials::new(ID, KEY, Some("session-token-xyz".into())))
        .with_endpoint(endpoint)
        .unwrap();
    cfg.rate_limits = RateLimits::unlimited();
    cfg.retry = retry;
    cfg.request_timeout = Duration::from_millis(500);
    Client::new(cfg).unwrap()
}

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
        total_budget: Duration::from_secs(10),
    }
}

async fn serve(sock: TcpStream, log: Arc<Mutex<Vec<Req>>>, handler: Handler) {
    let mut r = BufReader::new(sock);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).await.unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        if r.read_exact(&mut body).await.is_err() {
            return;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let hb: Vec<(&str, &str)> = headers
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let parts = tunnelform_tc3::RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers: &hb,
            payload: &body,
        };
        let verified =
            tunnelform_tc3::verify(&parts, now, |id| (id == ID).then(|| KEY.to_string()));
        let req = Req {
            headers,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            verified,
        };
        let n = {
            let mut log = log.lock().unwrap();
            log.push(req.clone());
            log.len() - 1
        };
        let (status, text) = match handler(&req, n) {
            Reply::Json(mut v) => {
                v["RequestId"] = json!(format!("req-{n}"));
                (200, json!({ "Response": v }).to_string())
            }
            Reply::Error(code, msg) => (
                200,
                json!({"Response": {"Error": {"Code": code, "Message": msg}, "RequestId": format!("req-{n}")}})
                    .to_string(),
            ),
            Reply::Status(s) => (s, "oops".to_string()),
            Reply::Raw(s) => (200, s.to_string()),
            Reply::Drop => return,
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                return;
            }
        };
        let resp = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if r.get_mut().write_all(resp.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn create_req() -> CreateVpnConnectionRequest {
    CreateVpnConnectionRequest {
        vpn_gateway_id: "vpngw-1w9tue3d".into(),
        customer_gateway_id: "cgw-qa9sxpy7".into(),
        vpn_connection_name: "office".into(),
        pre_share_key: Secret::new("the-psk-must-not-leak"),
        vpc_id: Some("vpc-gapcv96p".into()),
        security_policy_databases: Some(vec![SecurityPolicyDatabase {
            local_cidr_block: "10.0.0.0/24".into(),
            remote_cidr_block: vec!["192.168.0.0/24".into()],
        }]),
        dpd_timeout: Some("30".into()),
        bgp_config: Some(BgpConfig {
            tunnel_cidr: "169.254.128.0/30".into(),
            local_bgp_ip: "169.254.128.1".into(),
            remote_bgp_ip: "169.254.128.2".into(),
        }),
        health_check_config: Some(HealthCheckConfig {
            probe_interval: Some(5000),
            ..Default::default()
        }),
        route: Some(CreateVpnConnRoute {
            destination_cidr_block: "11.0.0.0/16".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn ok_create() -> Reply {
    Reply::Json(json!({"VpnConnection": {"VpnConnectionId": "vpnx-abcd1234", "State": "PENDING"}}))
}

#[tokio::test]
async fn signed_request_has_every_header_and_verifies() {
    let stub = Stub::start(|req, _| match req.action() {
        "CreateVpnConnection" => ok_create(),
        "GetResources" => Reply::Json(json!({"PaginationToken": "", "ResourceTagMappingList": []})),
        _ => Reply::Error("InvalidAction", "?"),
    })
    .await;
    let client = stub.client(fast_retry(1));
    let resp = client
        .call::<CreateVpnConnection>("ap-shanghai", &create_req())
        .await
        .unwrap();
    assert_eq!(resp.vpn_connection.vpn_connection_id, "vpnx-abcd1234");
    assert_eq!(resp.request_id, "req-0");
    client
        .call::<GetResources>("ap-shanghai", &GetResourcesRequest::default())
        .await
        .unwrap();

    let reqs = stub.requests();
    assert_eq!(reqs.len(), 2);
    let r = &reqs[0];
    let v = r.verified.as_ref().unwrap();
    assert_eq!((v.secret_id.as_str(), v.service.as_str()), (ID, "vpc"));
    assert_eq!(
        r.header("host"),
        Some(format!("127.0.0.1:{}", stub.addr.port()).as_str())
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-tc-action"), Some("CreateVpnConnection"));
    assert_eq!(r.header("x-tc-version"), Some("2017-03-12"));
    assert_eq!(r.header("x-tc-region"), Some("ap-shanghai"));
    assert_eq!(r.header("x-tc-token"), Some("session-token-xyz"));
    assert!(r
        .header("authorization")
        .unwrap()
        .contains("SignedHeaders=content-type;host,"));
    assert_eq!(r.body, serde_json::to_value(create_req()).unwrap());
    assert_eq!(r.body["PreShareKey"], "the-psk-must-not-leak");
    assert_eq!(r.body["DpdTimeout"], "30");
    assert_eq!(r.body["BgpConfig"]["TunnelCidr"], "169.254.128.0/30");
    assert!(
        r.body.get("IKEOptionsSpecification").is_none(),
        "None fields are omitted"
    );

    let t = &reqs[1];
    assert_eq!(t.verified.as_ref().unwrap().service, "tag");
    assert_eq!(t.header("x-tc-version"), Some("2018-08-13"));

    // Both services on one port, over one kept-alive connection.
    assert_eq!(stub.connections.load(Ordering::SeqCst), 1);
    let m = client.metrics();
    assert_eq!(m.calls_of("CreateVpnConnection"), 1);
    assert_eq!(m.calls_of("GetResources"), 1);
    assert_eq!(m.total_retries(), 0);
}

#[tokio::test]
async fn api_error_is_typed_and_never_retried_when_permanent() {
    let stub =
        Stub::start(|_, _| Reply::Error("InvalidParameterValue.TooLong", "name too long")).await;
    let client = stub.client(fast_retry(5));
    let e = client
        .call::<CreateVpnConnection>("ap-guangzhou", &create_req())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::InvalidParameterValueTooLong));
    assert_eq!(e.code().unwrap().as_str(), "InvalidParameterValue.TooLong");
    assert_eq!(e.request_id.as_deref(), Some("req-0"));
    assert_eq!((e.action, e.attempts), ("CreateVpnConnection", 1));
    let text = format!("{e} {e:?}");
    assert!(text.contains("InvalidParameterValue.TooLong") && text.contains("name too long"));
    assert!(text.contains("req-0") && text.contains("CreateVpnConnection"));
    assert!(
        !text.contains("the-psk-must-not-leak") && !text.contains(KEY),
        "{text}"
    );
    assert_eq!(stub.requests().len(), 1);
    assert_eq!(
        client.metrics().errors_of("InvalidParameterValue.TooLong"),
        1
    );
}

#[tokio::test]
async fn write_retries_rate_limit_and_busy_resigning_each_time() {
    let stub = Stub::start(|_, n| match n {
        0 => Reply::Error("RequestLimitExceeded", "too fast"),
        1 => Reply::Error("RequestLimitExceeded.UinLimitExceeded", "too fast"),
        2 => Reply::Error("ResourceBusy", "busy"),
        _ => ok_create(),
    })
    .await;
    let client = stub.client(fast_retry(5));
    let resp = client
        .call::<CreateVpnConnection>("ap-guangzhou", &create_req())
        .await
        .unwrap();
    assert_eq!(resp.request_id, "req-3");
    let reqs = stub.requests();
    assert_eq!(reqs.len(), 4);
    assert!(reqs.iter().all(|r| r.verified.is_ok()));
    let m = client.metrics();
    assert_eq!(m.request_limit_exceeded, 2);
    assert_eq!(m.retries["CreateVpnConnection"], 3);
    assert_eq!(m.calls_of("CreateVpnConnection"), 4);
    assert_eq!(m.errors_of("ResourceBusy"), 1);
}

#[tokio::test]
async fn write_is_never_resent_when_the_outcome_is_unknown() {
    for (reply, expect_unknown) in [
        (Reply::Status(503), true),
        (Reply::Status(502), true),
        (Reply::Drop, true),
        (Reply::Hang, true),
        (Reply::Error("InternalError", "boom"), false),
    ] {
        let r = reply.clone();
        let stub = Stub::start(move |_, _| r.clone()).await;
        let client = stub.client(fast_retry(5));
        let e = client
            .call::<CreateVpnConnection>("ap-guangzhou", &create_req())
            .await
            .unwrap_err();
        assert_eq!(e.attempts, 1, "{reply:?}");
        assert_eq!(
            stub.requests().len(),
            1,
            "{reply:?}: a create must not be re-sent"
        );
        assert_eq!(e.is_outcome_unknown(), expect_unknown, "{reply:?}: {e}");
        if let Reply::Status(s) = reply {
            assert!(
                matches!(e.kind, ErrorKind::OutcomeUnknown { http_status: Some(x), .. } if x == s)
            );
        }
        if !expect_unknown {
            assert_eq!(e.code(), Some(&ErrorCode::InternalError));
        }
    }
}

#[tokio::test]
async fn reads_retry_every_transient_failure() {
    let stub = Stub::start(|_, n| match n {
        0 => Reply::Error("InternalError", "boom"),
        1 => Reply::Status(503),
        2 => Reply::Drop,
        3 => Reply::Error("RequestLimitExceeded", "slow"),
        _ => Reply::Json(json!({"TotalCount": 0, "VpnConnectionSet": []})),
    })
    .await;
    let client = stub.client(fast_retry(6));
    let resp = client
        .call::<DescribeVpnConnections>("ap-guangzhou", &DescribeVpnConnectionsRequest::default())
        .await
        .unwrap();
    assert_eq!(resp.request_id, "req-4");
    assert_eq!(stub.requests().len(), 5);
    let m = client.metrics();
    assert_eq!(m.total_retries(), 4);
    assert_eq!(m.errors_of("OutcomeUnknown"), 2);
    assert_eq!(m.errors_of("InternalError"), 1);

    // The attempt budget is honoured.
    let stub = Stub::start(|_, _| Reply::Status(503)).await;
    let e = stub
        .client(fast_retry(3))
        .call::<DescribeVpnConnections>("ap-guangzhou", &DescribeVpnConnectionsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.attempts, 3);
    assert_eq!(stub.requests().len(), 3);
}

#[tokio::test]
async fn connection_refused_is_not_sent_and_retried_even_for_writes() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = client_for(&format!("http://{addr}"), fast_retry(3));
    let e = client
        .call::<CreateVpnConnection>("ap-guangzhou", &create_req())
        .await
        .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::NotSent { .. }), "{e}");
    assert_eq!(e.attempts, 3);
    assert_eq!(client.metrics().errors_of("NotSent"), 3);
}

#[tokio::test]
async fn signature_expire_is_resigned_once() {
    let stub = Stub::start(|_, n| {
        if n == 0 {
            Reply::Error("AuthFailure.SignatureExpire", "clock")
        } else {
            ok_create()
        }
    })
    .await;
    let client = stub.client(fast_retry(5));
    client
        .call::<CreateVpnConnection>("ap-guangzhou", &create_req())
        .await
        .unwrap();
    assert_eq!(stub.requests().len(), 2);

    let stub = Stub::start(|_, _| Reply::Error("AuthFailure.SignatureExpire", "clock")).await;
    let e = stub
        .client(fast_retry(5))
        .call::<CreateVpnConnection>("ap-guangzhou", &create_req())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::AuthFailureSignatureExpire));
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn decode_and_unexpected_status() {
    let stub = Stub::start(|_, _| Reply::Raw("<html>not json</html>")).await;
    let e = stub
        .client(fast_retry(3))
        .call::<DescribeVpcs>("ap-guangzhou", &DescribeVpcsRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Decode { .. }), "{e}");
    assert_eq!(stub.requests().len(), 1);

    let stub = Stub::start(|_, _| Reply::Status(404)).await;
    let e = stub
        .client(fast_retry(3))
        .call::<DescribeVpcs>("ap-guangzhou", &DescribeVpcsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnexpectedStatus { status: 404 });
}

// ---- batched readers ----

fn conn(i: usize) -> Value {
    let gw = if i < 240 { "vpngw-a" } else { "vpngw-b" };
    json!({"VpnConnectionId": format!("vpnx-{i:08}"), "VpnGatewayId": gw, "PreShareKey": "k", "State": "AVAILABLE"})
}

/// DescribeVpnConnections over 250 connections, with the documented rules (ids xor filters, at most 100
/// ids, Limit default 20, max 100). With `strict_ids`, an unknown id fails the whole call.
fn describe_stub(strict_ids: bool) -> impl Fn(&Req, usize) -> Reply + Send + Sync {
    move |req, _| {
        let all: Vec<Value> = (0..250).map(conn).collect();
        let b = &req.body;
        let offset = b["Offset"].as_u64().unwrap_or(0) as usize;
        let limit = b["Limit"].as_u64().unwrap_or(20) as usize;
        if limit > 100 {
            return Reply::Error("InvalidParameterValue.Range", "Limit");
        }
        let matching: Vec<Value> = if let Some(ids) = b["VpnConnectionIds"].as_array() {
            if b.get("Filters").is_some() {
                return Reply::Error("InvalidParameterValue", "ids and filters");
            }
            if ids.len() > 100 {
                return Reply::Error("InvalidParameterValue.Range", "ids");
            }
            let found: Vec<Value> = all
                .iter()
                .filter(|c| ids.contains(&c["VpnConnectionId"]))
                .cloned()
                .collect();
            if strict_ids && found.len() < ids.len() {
                return Reply::Error("ResourceNotFound", "no such connection");
            }
            found
        } else if let Some(filters) = b["Filters"].as_array() {
            let f = &filters[0];
            assert_eq!(f["Name"], "vpn-gateway-id");
            let vals = f["Values"].as_array().unwrap();
            if vals.len() > 5 {
                return Reply::Error("InvalidParameterValue.Range", "values");
            }
            all.iter()
                .filter(|c| vals.contains(&c["VpnGatewayId"]))
                .cloned()
                .collect()
        } else {
            all.clone()
        };
        let page: Vec<Value> = matching.iter().skip(offset).take(limit).cloned().collect();
        Reply::Json(json!({"TotalCount": matching.len(), "VpnConnectionSet": page}))
    }
}

#[tokio::test]
async fn by_ids_chunks_by_100() {
    let stub = Stub::start(describe_stub(false)).await;
    let client = stub.client(fast_retry(1));
    let mut ids: Vec<String> = (0..250).map(|i| format!("vpnx-{i:08}")).collect();
    ids.extend(["vpnx-00000001".to_string(), "vpnx-gone0001".to_string()]);
    let got = client
        .describe_vpn_connections_by_ids("ap-guangzhou", &ids)
        .await
        .unwrap();
    assert_eq!(got.len(), 250);
    assert_eq!(stub.requests().len(), 3, "251 unique ids: 3 calls");
    assert!(stub.requests().iter().all(|r| r.body["Limit"] == 100));
    assert!(client
        .describe_vpn_connections_by_ids("ap-guangzhou", &[])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(stub.requests().len(), 3, "no call for no ids");
    // The pre-shared key comes back, redacted in Debug.
    assert_eq!(got[0].pre_share_key.expose(), "k");
}

#[tokio::test]
async fn by_ids_falls_back_to_single_ids_when_the_api_rejects_a_chunk() {
    let stub = Stub::start(describe_stub(true)).await;
    let client = stub.client(fast_retry(1));
    let mut ids: Vec<String> = (0..105).map(|i| format!("vpnx-{i:08}")).collect();
    ids.push("vpnx-gone0001".into());
    let got = client
        .describe_vpn_connections_by_ids("ap-guangzhou", &ids)
        .await
        .unwrap();
    assert_eq!(got.len(), 105);
    // chunk 1 (100 ids) ok; chunk 2 (6 ids) rejected, then 6 single calls.
    assert_eq!(stub.requests().len(), 1 + 1 + 6);
}

#[tokio::test]
async fn by_filters_pages_and_splits_values() {
    let stub = Stub::start(describe_stub(false)).await;
    let client = stub.client(fast_retry(1));
    let f = Filter {
        name: "vpn-gateway-id".into(),
        values: vec!["vpngw-a".into()],
    };
    let got = client
        .describe_vpn_connections_by_filters("ap-guangzhou", &[f])
        .await
        .unwrap();
    assert_eq!(got.len(), 240);
    let offsets: Vec<u64> = stub
        .requests()
        .iter()
        .map(|r| r.body["Offset"].as_u64().unwrap())
        .collect();
    assert_eq!(offsets.len(), 3);
    assert_eq!(offsets[0], 0);
    let mut rest = offsets[1..].to_vec();
    rest.sort();
    assert_eq!(rest, vec![100, 200]);

    let stub = Stub::start(describe_stub(false)).await;
    let client = stub.client(fast_retry(1));
    let values = [
        "vpngw-a", "vpngw-b", "vpngw-x", "vpngw-y", "vpngw-z", "vpngw-w", "vpngw-a",
    ];
    let f = Filter {
        name: "vpn-gateway-id".into(),
        values: values.iter().map(|s| s.to_string()).collect(),
    };
    let got = client
        .describe_vpn_connections_by_filters("ap-guangzhou", &[f])
        .await
        .unwrap();
    assert_eq!(got.len(), 250);
    // [a,b,x,y,z]: 3 pages; [w]: 1 call (the duplicate value is dropped).
    assert_eq!(stub.requests().len(), 4);
}

// ---- task waiter ----

#[tokio::test]
async fn wait_task_polls_until_done() {
    let stub = Stub::start(|req, n| {
        assert_eq!(req.action(), "DescribeVpcTaskResult");
        match (req.body["TaskId"].as_str().unwrap(), n) {
            ("t-ok", 0..=1) => {
                Reply::Json(json!({"Status": "RUNNING", "Output": "", "Result": []}))
            }
            ("t-ok", _) => {
                Reply::Json(json!({"Status": "SUCCESS", "Output": "done", "Result": []}))
            }
            ("t-fail", _) => Reply::Json(json!({"Status": "FAILED", "Output": "quota exceeded"})),
            _ => Reply::Json(json!({"Status": "RUNNING"})),
        }
    })
    .await;
    let client = stub.client(fast_retry(1));
    let opts = WaitOptions {
        timeout: Duration::from_secs(5),
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    };
    let out = client
        .wait_task("ap-guangzhou", "t-ok", opts.clone())
        .await
        .unwrap();
    assert_eq!(
        out,
        TaskOutcome::Success {
            output: "done".into()
        }
    );
    assert_eq!(stub.requests().len(), 3);

    let out = client
        .wait_task("ap-guangzhou", "t-fail", opts.clone())
        .await
        .unwrap();
    assert!(!out.is_success());
    assert_eq!(out.output(), "quota exceeded");

    let short = WaitOptions {
        timeout: Duration::from_millis(60),
        ..opts
    };
    match client
        .wait_task("ap-guangzhou", "t-forever", short)
        .await
        .unwrap_err()
    {
        WaitError::Timeout {
            task_id,
            last_status,
            ..
        } => {
            assert_eq!(
                (task_id.as_str(), last_status.as_str()),
                ("t-forever", "RUNNING")
            );
        }
        e => panic!("{e}"),
    }
}

#[tokio::test]
async fn wait_task_surfaces_api_errors() {
    let stub = Stub::start(|_, _| Reply::Error("ResourceNotFound", "no task")).await;
    let e = stub
        .client(fast_retry(2))
        .wait_task(
            "ap-guangzhou",
            "nope",
            WaitOptions {
                initial_delay: Duration::from_millis(1),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, WaitError::Api(ref a) if a.is_not_found()),
        "{e}"
    );
}

// ---- tag service: paging and uin ----

#[tokio::test]
async fn get_resources_follows_tokens_and_discovers_uin() {
    let stub = Stub::start(|req, _| {
        let token = req.body["PaginationToken"].as_str().unwrap_or("");
        let (next, names): (&str, &[&str]) = match token {
            "" => (
                "p2",
                &[
                    "qcs::vpc:ap-guangzhou:uin/100000558920:vpnx/vpnx-1",
                    "qcs::vpc:ap-guangzhou:uin/100000558920:cgw/cgw-1",
                ],
            ),
            "p2" => (
                "p3",
                &["qcs::vpc:ap-guangzhou:uin/100000558920:vpngw/vpngw-1"],
            ),
            _ => ("", &[]),
        };
        let list: Vec<Value> = names
            .iter()
            .map(|n| json!({"Resource": n, "Tags": [{"TagKey": "k", "TagValue": "v"}]}))
            .collect();
        Reply::Json(json!({"PaginationToken": next, "ResourceTagMappingList": list}))
    })
    .await;
    let client = stub.client(fast_retry(1));
    let all: Vec<ResourceTagMapping> = client
        .get_resources("ap-guangzhou", GetResourcesRequest::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].tags[0].tag_key, "k");
    assert_eq!(stub.requests().len(), 3);
    assert!(stub.requests().iter().all(|r| r.body["MaxResults"] == 200));

    assert_eq!(client.uin("ap-guangzhou").await.unwrap(), "100000558920");
    let n = stub.requests().len();
    // Cached.
    assert_eq!(
        client
            .resource_name("ap-guangzhou", "vpnx", "vpnx-9")
            .await
            .unwrap(),
        "qcs::vpc:ap-guangzhou:uin/100000558920:vpnx/vpnx-9"
    );
    assert_eq!(stub.requests().len(), n);

    // Configured uin: no call at all.
    let mut cfg = ClientConfig::new(Credentials::new(ID, KEY, None))
        .with_endpoint(&format!("http://{}", stub.addr))
        .unwrap();
    cfg.uin = Some("42".into());
    let c2 = Client::new(cfg).unwrap();
    assert_eq!(c2.uin("ap-guangzhou").await.unwrap(), "42");
    assert_eq!(stub.requests().len(), n);

    // Nothing to learn from.
    let empty = Stub::start(|_, _| {
        Reply::Json(json!({"PaginationToken": "", "ResourceTagMappingList": []}))
    })
    .await;
    assert_eq!(
        empty
            .client(fast_retry(1))
            .uin("ap-guangzhou")
            .await
            .unwrap_err(),
        UinError::Unknown
    );
}

#[tokio::test]
async fn many_regions_and_tasks_share_one_client() {
    let stub =
        Stub::start(|_, _| Reply::Json(json!({"TotalCount": 0, "VpnConnectionSet": []}))).await;
    let client = stub.client(fast_retry(1));
    let mut handles = Vec::new();
    for i in 0..40 {
        let c = client.clone();
        let region = ["ap-guangzhou", "ap-shanghai", "ap-beijing"][i % 3];
        handles.push(tokio::spawn(async move {
            c.call::<DescribeVpnConnections>(region, &DescribeVpnConnectionsRequest::default())
                .await
        }));
    }
    for h in handles {
        h.await.unwrap().unwrap();
    }
    let reqs = stub.requests();
    assert_eq!(reqs.len(), 40);
    assert_eq!(
        reqs.iter()
            .filter(|r| r.header("x-tc-region") == Some("ap-beijing"))
            .count(),
        13
    );
    assert!(reqs.iter().all(|r| r.verified.is_ok()));
    assert_eq!(client.metrics().calls_of("DescribeVpnConnections"), 40);
}

/// A server enforcing the documented 20/s of DescribeVpcTaskResult over any sliding 1-second window never
/// rejects a client using its default limits, however many tasks poll at once.
#[tokio::test]
async fn default_limits_never_trip_a_server_enforcing_the_documented_rate() {
    let arrivals = Arc::new(Mutex::new(Vec::<std::time::Instant>::new()));
    let a = arrivals.clone();
    let stub = Stub::start(move |_, _| {
        let now = std::time::Instant::now();
        let mut a = a.lock().unwrap();
        a.retain(|t| now.duration_since(*t) < Duration::from_secs(1));
        if a.len() >= 20 {
            return Reply::Error("RequestLimitExceeded", "20/s");
        }
        a.push(now);
        Reply::Json(json!({"Status": "SUCCESS", "Output": ""}))
    })
    .await;
    let mut cfg = ClientConfig::new(Credentials::new(ID, KEY, None))
        .with_endpoint(&format!("http://{}", stub.addr))
        .unwrap();
    cfg.retry = RetryPolicy::none();
    let client = Client::new(cfg).unwrap();
    let started = std::time::Instant::now();
    let handles: Vec<_> = (0..45)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move {
                let req = DescribeVpcTaskResultRequest {
                    task_id: format!("t-{i}"),
                };
                c.call::<DescribeVpcTaskResult>("ap-guangzhou", &req).await
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap().unwrap();
    }
    assert_eq!(client.metrics().request_limit_exceeded, 0);
    assert!(
        (client.current_rate_limit::<DescribeVpcTaskResult>("ap-guangzhou") - 19.0).abs() < 1e-9
    );
    // 45 calls at 19/s (one burst slot): about 2.3 s, never faster than the limit.
    assert!(
        started.elapsed() >= Duration::from_secs_f64(44.0 / 20.0),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn caller_identity_is_asked_once_signed_for_sts_and_gives_the_uin() {
    let stub = Stub::start(|req, _| match req.action() {
        "GetCallerIdentity" => Reply::Json(json!({
            "Arn": "qcs::cam::uin/200000000002:uin/200000000002",
            "AccountId": "200000000002",
            "UserId": "200000000002",
            "PrincipalId": "200000000002",
            "Type": "RootAccount"
        })),
        _ => Reply::Error("InternalError", "unexpected"),
    })
    .await;
    let client = stub.client(fast_retry(1));
    assert!(client.known_identity().is_none());
    let id = client.caller_identity("ap-guangzhou").await.unwrap();
    assert_eq!(id.account_id, "200000000002");
    assert_eq!(id.r#type, "RootAccount");
    let again = client.caller_identity("ap-guangzhou").await.unwrap();
    assert_eq!(again, id);
    // The learnt account is the uin of resource names: no GetResources discovery.
    assert_eq!(client.uin("ap-guangzhou").await.unwrap(), "200000000002");
    let reqs = stub.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].header("x-tc-version"), Some("2018-08-13"));
    assert_eq!(reqs[0].body, json!({}));
    assert_eq!(reqs[0].verified.as_ref().unwrap().service, "sts");

    // An answer without an account is an error, not an empty account.
    let blank = Stub::start(|_, _| Reply::Json(json!({"Arn": "x", "AccountId": ""}))).await;
    let err = blank
        .client(fast_retry(1))
        .caller_identity("")
        .await
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Decode { .. }), "{err}");
    assert!(err.to_string().contains("AccountId"), "{err}");
}
