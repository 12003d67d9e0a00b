//! API 3.0 protocol fidelity: envelopes, signature checks, common headers, bodies, stats.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tunnelform_sandbox::{Credentials, SandboxConfig};

use crate::common::*;

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[tokio::test]
async fn success_envelope_and_exact_content_type() {
    let (_h, c) = start_default().await;
    let resp = c.send(Req::vpc("DescribeVpcs", json!({}))).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.content_type.as_deref(), Some("application/json"));
    let r = resp.response();
    assert!(is_uuid(resp.request_id()));
    assert_eq!(r["TotalCount"], 1);
    assert_eq!(r["VpcSet"][0]["VpcId"], VPC);
    assert_eq!(r["VpcSet"][0]["CidrBlock"], "10.0.0.0/16");
    // Every region has its own default VPC.
    for (region, vpc, cidr) in [
        ("ap-shanghai", "vpc-sandbox2", "10.1.0.0/16"),
        ("ap-beijing", "vpc-sandbox3", "10.2.0.0/16"),
    ] {
        let r = c.in_region(region).vpc("DescribeVpcs", json!({})).await;
        assert_eq!(r["VpcSet"][0]["VpcId"], vpc);
        assert_eq!(r["VpcSet"][0]["CidrBlock"], cidr);
    }
    // An empty body counts as `{}`.
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.body = Vec::new();
    assert!(c.send(req).await.error_code().is_none());
}

#[tokio::test]
async fn error_envelope() {
    let (_h, c) = start_default().await;
    let resp = c.send(Req::vpc("NoSuchAction", json!({}))).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.content_type.as_deref(), Some("application/json"));
    let r = resp.response();
    assert_eq!(r["Error"]["Code"], "InvalidAction");
    assert!(r["Error"]["Message"]
        .as_str()
        .unwrap()
        .contains("NoSuchAction"));
    assert!(is_uuid(resp.request_id()));
    assert_eq!(
        r.as_object().unwrap().len(),
        2,
        "only Error and RequestId: {r}"
    );
}

#[tokio::test]
async fn signature_checks() {
    let (_h, c) = start_default().await;
    let code = |r: Resp| r.error_code().map(str::to_string);

    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.timestamp = Some(now() - 301);
    assert_eq!(
        code(c.send(req).await).as_deref(),
        Some("AuthFailure.SignatureExpire")
    );
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.timestamp = Some(now() + 400);
    assert_eq!(
        code(c.send(req).await).as_deref(),
        Some("AuthFailure.SignatureExpire")
    );

    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.secret_id = "AKIDunknown".into();
    assert_eq!(
        code(c.send(req).await).as_deref(),
        Some("AuthFailure.SecretIdNotFound")
    );

    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.secret_key = "wrong".into();
    assert_eq!(
        code(c.send(req).await).as_deref(),
        Some("AuthFailure.SignatureFailure")
    );

    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.tamper = true;
    assert_eq!(
        code(c.send(req).await).as_deref(),
        Some("AuthFailure.SignatureFailure")
    );

    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.no_authorization = true;
    assert_eq!(
        code(c.send(req).await).as_deref(),
        Some("AuthFailure.InvalidAuthorization")
    );

    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.authorization = Some("TC3-HMAC-SHA256 garbage".into());
    assert_eq!(
        code(c.send(req).await).as_deref(),
        Some("AuthFailure.InvalidAuthorization")
    );

    // The credential scope must name the action's service.
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.scope_service = Some("tag".into());
    assert_eq!(
        code(c.send(req).await).as_deref(),
        Some("AuthFailure.SignatureFailure")
    );

    // The client's SignedHeaders list is honoured (the documentation's example also signs x-tc-action) ...
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.signed_headers = vec!["content-type".into(), "host".into(), "x-tc-action".into()];
    assert_eq!(code(c.send(req).await), None);
    // UNSIGNED-PAYLOAD signs the literal string instead of the body.
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.unsigned_payload = true;
    req.tamper = true;
    assert_eq!(code(c.send(req).await), None);

    // The Host is verified exactly as received, as tccli sends it.
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.host = Some(format!("http://{}", c.host));
    assert_eq!(code(c.send(req).await), None);
}

#[tokio::test]
async fn signed_header_value_tampering_is_detected() {
    let (_h, c) = start_default().await;
    // Sign x-tc-action = DescribeVpcs but send another action: the signature no longer matches.
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.signed_headers = vec!["content-type".into(), "host".into(), "x-tc-action".into()];
    let timestamp = now();
    req.timestamp = Some(timestamp);
    let pairs = [
        ("content-type", "application/json"),
        ("host", c.host.as_str()),
        ("x-tc-action", "describevpcs"),
    ];
    let parts = tunnelform_tc3::RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &pairs,
        payload: b"{}",
    };
    let signed = tunnelform_tc3::sign(
        &parts,
        &["content-type", "host", "x-tc-action"],
        "vpc",
        timestamp,
        &Credentials::new(SECRET_ID, SECRET_KEY, None),
    )
    .unwrap();
    req.action = Some("DescribeVpnGateways".into());
    req.authorization = Some(signed.authorization);
    req.body = b"{}".to_vec();
    assert_eq!(
        c.send(req).await.error_code(),
        Some("AuthFailure.SignatureFailure")
    );
}

#[tokio::test]
async fn token_is_required_when_configured() {
    let config = SandboxConfig {
        credentials: Credentials::new(SECRET_ID, SECRET_KEY, Some("tok".into())),
        ..config()
    };
    let (_h, c) = start(config).await;
    let req = Req::vpc("DescribeVpcs", json!({}));
    assert_eq!(
        c.send(req.clone()).await.error_code(),
        Some("AuthFailure.TokenFailure")
    );
    let mut ok = req;
    ok.extra_headers.push(("x-tc-token".into(), "tok".into()));
    assert_eq!(c.send(ok).await.error_code(), None);
}

#[tokio::test]
async fn common_parameters() {
    let (_h, c) = start_default().await;
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.action = None;
    assert_eq!(c.send(req).await.error_code(), Some("MissingParameter"));
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.region = None;
    assert_eq!(c.send(req).await.error_code(), Some("MissingParameter"));
    let req = Req::vpc("DescribeVpcs", json!({})).region("xx-nowhere");
    assert_eq!(c.send(req).await.error_code(), Some("UnsupportedRegion"));
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.version = "2099-01-01".into();
    assert_eq!(c.send(req).await.error_code(), Some("InvalidAction"));
    // A tag action under the vpc version, and a vpc action the sandbox does not serve.
    assert_eq!(
        c.send(Req::vpc("TagResources", json!({})))
            .await
            .error_code(),
        Some("InvalidAction")
    );
    assert_eq!(
        c.send(Req::vpc("DescribeVpnGatewayCcnRoutes", json!({})))
            .await
            .error_code(),
        Some("InvalidAction")
    );
    // Only POST.
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.method = reqwest::Method::GET;
    req.body = Vec::new();
    let resp = c.send(req).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.error_code(), Some("UnsupportedProtocol"));
    // JSON only.
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.content_type = "text/plain".into();
    assert_eq!(c.send(req).await.error_code(), Some("InvalidParameter"));
    // The official SDK's extra headers are ignored.
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.extra_headers = vec![
        ("x-tc-requestclient".into(), "SDK_PYTHON_3.0.0".into()),
        ("x-tc-language".into(), "en-US".into()),
        ("x-tc-traceid".into(), "abc".into()),
    ];
    assert_eq!(c.send(req).await.error_code(), None);
}

#[tokio::test]
async fn bad_bodies() {
    let config = SandboxConfig {
        max_body_bytes: 2048,
        ..config()
    };
    let (_h, c) = start(config).await;
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.body = b"{not json".to_vec();
    assert_eq!(c.send(req).await.error_code(), Some("InvalidParameter"));
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.body = b"[1,2]".to_vec();
    assert_eq!(c.send(req).await.error_code(), Some("InvalidParameter"));
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.body = b"\"str\"".to_vec();
    assert_eq!(c.send(req).await.error_code(), Some("InvalidParameter"));
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.body = serde_json::to_vec(&json!({"VpcIds": ["x".repeat(3000)]})).unwrap();
    let resp = c.send(req).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.error_code(), Some("RequestSizeLimitExceeded"));
    // Deep nesting is refused, not a crash.
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    let mut deep = "[".repeat(1000);
    deep.push_str(&"]".repeat(1000));
    req.body = format!("{{\"Filters\":{deep}}}").into_bytes();
    assert_eq!(c.send(req).await.error_code(), Some("InvalidParameter"));
    // Still serving.
    assert_eq!(
        c.send(Req::vpc("DescribeVpcs", json!({})))
            .await
            .error_code(),
        None
    );
}

#[tokio::test]
async fn parameter_validation_against_the_spec() {
    let (_h, c) = start_default().await;
    assert_eq!(
        c.vpc_err("DescribeVpnConnections", json!({"Bogus": 1}))
            .await,
        "UnknownParameter"
    );
    assert_eq!(
        c.vpc_err("DescribeVpnConnections", json!({"Limit": "5"}))
            .await,
        "InvalidParameter"
    );
    assert_eq!(
        c.vpc_err("DescribeVpnConnections", json!({"Offset": -1}))
            .await,
        "InvalidParameter"
    );
    assert_eq!(
        c.vpc_err(
            "DescribeVpnConnections",
            json!({"Filters": [{"Name": "vpc-id"}]})
        )
        .await,
        "MissingParameter"
    );
    assert_eq!(
        c.vpc_err(
            "DescribeVpnConnections",
            json!({"Filters": {"Name": "vpc-id"}})
        )
        .await,
        "InvalidParameter"
    );
    assert_eq!(
        c.vpc_err("CreateCustomerGateway", json!({"CustomerGatewayName": "x"}))
            .await,
        "MissingParameter"
    );
    assert_eq!(
        c.vpc_err(
            "CreateCustomerGateway",
            json!({"CustomerGatewayName": "x", "IpAddress": "1.2.3.4", "Tags": [{"Value": "v"}]})
        )
        .await,
        "MissingParameter"
    );
    assert_eq!(
        c.vpc_err(
            "CreateVpnConnection",
            json!({"VpnGatewayId": "vpngw-aaaaaaaa", "CustomerGatewayId": "cgw-aaaaaaaa",
                   "VpnConnectionName": "n", "PreShareKey": "k",
                   "IKEOptionsSpecification": {"IKESaLifetimeSeconds": "60"}})
        )
        .await,
        "InvalidParameter"
    );
    assert_eq!(
        c.vpc_err(
            "CreateVpnConnection",
            json!({"VpnGatewayId": "vpngw-aaaaaaaa", "CustomerGatewayId": "cgw-aaaaaaaa",
                   "VpnConnectionName": "n", "PreShareKey": "k", "EnableHealthCheck": "true"})
        )
        .await,
        "InvalidParameter"
    );
    // DescribeVpcs declares Offset/Limit as strings.
    assert_eq!(
        c.vpc_err("DescribeVpcs", json!({"Limit": 2})).await,
        "InvalidParameter"
    );
    c.vpc("DescribeVpcs", json!({"Limit": "2", "Offset": "0"}))
        .await;
    // null counts as absent.
    c.vpc("DescribeVpnConnections", json!({"Limit": null}))
        .await;
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let config = SandboxConfig {
        header_read_timeout: Duration::from_millis(200),
        ..config()
    };
    let (h, _c) = start(config).await;
    let mut stream = tokio::net::TcpStream::connect(h.addr()).await.unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    // The server closes the connection (possibly after a 408) instead of waiting for ever.
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was not closed");
    // A connection that sends nothing at all is closed too.
    let mut idle = tokio::net::TcpStream::connect(h.addr()).await.unwrap();
    let read = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the idle connection was not closed");
}

#[tokio::test]
async fn stats_endpoint() {
    let (h, c) = start_default().await;
    c.vpc("DescribeVpcs", json!({})).await;
    c.vpc("DescribeVpcs", json!({})).await;
    c.vpc_err("DescribeVpnGateways", json!({"VpnGatewayIds": ["bad"]}))
        .await;
    c.send(Req::vpc("NoSuchAction", json!({}))).await;
    let resp = c
        .http
        .get(format!("{}/_sandbox/stats", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["requests"]["DescribeVpcs"], 2);
    assert_eq!(v["requests"]["DescribeVpnGateways"], 1);
    // Unknown action names are counted under one key, not one each.
    assert_eq!(v["requests"]["(unknown)"], 1);
    assert!(v["requests"].get("NoSuchAction").is_none(), "{v}");
    assert_eq!(v["errors"]["InvalidVpnGatewayId.Malformed"], 1);
    assert_eq!(v["errors"]["InvalidAction"], 1);
    let stats = h.stats();
    assert_eq!(stats.requests_for("DescribeVpcs"), 2);
    assert_eq!(stats.errors_for("InvalidAction"), 1);
}

#[tokio::test]
async fn resources_live_in_the_region_of_the_request() {
    let (_h, c) = start_default().await;
    let cgw = c.create_cgw("58.211.1.12").await;
    let sh = c.in_region("ap-shanghai");
    let r = sh
        .vpc(
            "DescribeCustomerGateways",
            json!({"CustomerGatewayIds": [cgw]}),
        )
        .await;
    assert_eq!(r["TotalCount"], 0);
    assert_eq!(
        sh.vpc_err("DeleteCustomerGateway", json!({"CustomerGatewayId": cgw}))
            .await,
        "ResourceNotFound"
    );
    assert_eq!(
        sh.vpc_err(
            "CreateVpnGateway",
            json!({"VpcId": VPC, "VpnGatewayName": "g", "InternetMaxBandwidthOut": 5})
        )
        .await,
        "InvalidVpcId.NotFound"
    );
    // The same address may be used in another region.
    sh.create_cgw("58.211.1.12").await;
}

#[tokio::test]
async fn shutdown_is_clean() {
    let (h, c) = start_default().await;
    c.vpc("DescribeVpcs", json!({})).await;
    let addr = h.addr();
    h.shutdown().await.unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err() || {
            // The port may be reused by the OS; at least the sandbox no longer answers.
            c.try_send(Req::vpc("DescribeVpcs", json!({})))
                .await
                .is_err()
        }
    );
}

#[tokio::test]
async fn unknown_version_of_a_known_action() {
    // No code for an unknown version is documented in the references: InvalidAction, naming the version
    // the action exists in.
    let (_h, c) = start_default().await;
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.version = "2020-01-01".into();
    let resp = c.send(req).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.error_code(), Some("InvalidAction"));
    let message = resp.response()["Error"]["Message"].as_str().unwrap();
    assert!(
        message.contains("`2020-01-01`") && message.contains("2017-03-12"),
        "{message}"
    );
    let mut req = Req::tag("GetResources", json!({}));
    req.version = "2017-03-12".into();
    req.scope_service = Some("vpc".into());
    req.region = Some(REGION.into());
    let resp = c.send(req).await;
    assert_eq!(resp.error_code(), Some("InvalidAction"));
    let message = resp.response()["Error"]["Message"].as_str().unwrap();
    assert!(message.contains("tag version 2018-08-13"), "{message}");
    let mut req = Req::tag("GetResources", json!({}));
    req.version = "2099-01-01".into();
    let resp = c.send(req).await;
    assert_eq!(resp.error_code(), Some("InvalidAction"));
    let message = resp.response()["Error"]["Message"].as_str().unwrap();
    assert!(message.contains("2018-08-13"), "{message}");
}

#[test]
fn stats_answer_loopback_peers_only() {
    use std::net::SocketAddr;
    use tunnelform_sandbox::stats_peer_allowed;
    for ok in [
        "127.0.0.1:9000",
        "127.1.2.3:1",
        "[::1]:9000",
        "[::ffff:127.0.0.1]:9000",
    ] {
        assert!(
            stats_peer_allowed(ok.parse::<SocketAddr>().unwrap()),
            "{ok}"
        );
    }
    for denied in [
        "192.0.2.2:9000",
        "10.0.0.1:1",
        "0.0.0.0:1",
        "169.254.1.1:1",
        "[::]:1",
        "[2001:db8::1]:1",
        "[::ffff:10.0.0.1]:1",
        "[fe80::1]:1",
    ] {
        assert!(
            !stats_peer_allowed(denied.parse::<SocketAddr>().unwrap()),
            "{denied}"
        );
    }
}

/// This machine's own non-loopback IPv4 addresses (Linux: the local /32 entries of /proc/net/fib_trie).
fn local_non_loopback_ipv4() -> Vec<std::net::Ipv4Addr> {
    let Ok(trie) = std::fs::read_to_string("/proc/net/fib_trie") else {
        return Vec::new();
    };
    let lines: Vec<&str> = trie.lines().collect();
    let mut out = Vec::new();
    for pair in lines.windows(2) {
        if pair[1].trim() == "/32 host LOCAL" {
            if let Some(ip) = pair[0]
                .trim()
                .trim_start_matches("|--")
                .trim()
                .parse::<std::net::Ipv4Addr>()
                .ok()
                .filter(|ip| !ip.is_loopback())
            {
                if !out.contains(&ip) {
                    out.push(ip);
                }
            }
        }
    }
    out
}

/// `GET /_sandbox/stats` over a fresh connection from `source` (bound before connecting) to the sandbox on
/// 127.0.0.1; returns the status line.
async fn stats_status_from(
    source: std::net::IpAddr,
    sandbox: std::net::SocketAddr,
) -> std::io::Result<String> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(std::net::SocketAddr::new(source, 0))?;
    let mut stream =
        tokio::time::timeout(Duration::from_secs(3), socket.connect(sandbox)).await??;
    let request =
        format!("GET /_sandbox/stats HTTP/1.1\r\nHost: {sandbox}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await??;
    let text = String::from_utf8_lossy(&buf);
    Ok(text.lines().next().unwrap_or_default().to_string())
}

#[tokio::test]
async fn stats_refuse_a_non_loopback_peer() {
    // Traffic goes only to the sandbox on 127.0.0.1; the client binds one of this machine's own
    // non-loopback addresses as its source, so the sandbox sees a non-loopback peer.
    let (h, _c) = start_default().await;
    let from_loopback = stats_status_from("127.0.0.1".parse().unwrap(), h.addr())
        .await
        .unwrap();
    assert!(from_loopback.starts_with("HTTP/1.1 200"), "{from_loopback}");
    let Some(source) = local_non_loopback_ipv4().into_iter().next() else {
        eprintln!(
            "no non-loopback local address: covered by stats_answer_loopback_peers_only only"
        );
        return;
    };
    match stats_status_from(source.into(), h.addr()).await {
        Ok(status) => assert!(
            status.starts_with("HTTP/1.1 403"),
            "from {source}: {status}"
        ),
        Err(e) => eprintln!("cannot connect from {source} to 127.0.0.1 here ({e}); skipped"),
    }
}
