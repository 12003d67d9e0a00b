//! Malformed and hostile requests: every required header missing in turn, malformed JSON, wrong
//! parameter types, bodies over the limit (declared, chunked, endless), slow and stalled bodies.
//! Each gets its Tencent error code in a normal envelope, the server reads no more than its body
//! limit, never panics, and keeps serving. (Signature details, bad bodies of the basic kinds and
//! slow headers are in protocol.rs.)

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tunnelform_sandbox::SandboxConfig;

use crate::common::*;
use tunnelform_tc3 as tc3;

/// The sandbox still answers a good request.
async fn still_serving(c: &Client) {
    let r = c.send(Req::vpc("DescribeVpcs", json!({}))).await;
    assert_eq!(r.error_code(), None, "{}", r.text);
}

/// Error code and message of an answer, checking the envelope on the way.
fn error_of(r: &Resp) -> (String, String) {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    let e = &r.response()["Error"];
    let code = e["Code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {}", r.text));
    assert!(!r.request_id().is_empty());
    (
        code.to_string(),
        e["Message"].as_str().unwrap_or("").to_string(),
    )
}

#[tokio::test]
async fn each_missing_header_has_its_error_code() {
    let (h, c) = start_default().await;
    // (header left out, code, text the message must contain)
    let cases = [
        ("x-tc-action", "MissingParameter", "`Action`"),
        ("x-tc-version", "MissingParameter", "`Version`"),
        ("x-tc-region", "MissingParameter", "`Region`"),
        (
            "x-tc-timestamp",
            "AuthFailure.InvalidAuthorization",
            "X-TC-Timestamp header is missing",
        ),
        (
            "authorization",
            "AuthFailure.InvalidAuthorization",
            "Authorization header is missing",
        ),
        (
            "content-type",
            "AuthFailure.InvalidAuthorization",
            "content-type",
        ),
    ];
    for (omit, code, text) in cases {
        let mut req = Req::vpc("DescribeVpcs", json!({}));
        req.omit_headers = vec![omit.to_string()];
        let r = c.send(req).await;
        let (got, message) = error_of(&r);
        assert_eq!(got, code, "without {omit}: {}", r.text);
        assert!(message.contains(text), "without {omit}: {message}");
    }
    // No Host at all (raw HTTP/1.0, which does not require one), signed as if it were there.
    let resp = raw_exchange(
        h.addr(),
        &signed_raw("HTTP/1.0", &c, &["host"], b"{}"),
        Duration::from_secs(5),
    )
    .await;
    assert!(
        resp.contains("\"Code\":\"AuthFailure.InvalidAuthorization\"") && resp.contains("host"),
        "{resp}"
    );
    still_serving(&c).await;
}

/// A signed request as raw bytes, with `omit` left out after signing.
fn signed_raw(version: &str, c: &Client, omit: &[&str], body: &[u8]) -> Vec<u8> {
    let ts = now();
    let headers = [
        ("content-type", "application/json".to_string()),
        ("host", c.host.clone()),
        ("x-tc-action", "DescribeVpcs".to_string()),
        ("x-tc-version", "2017-03-12".to_string()),
        ("x-tc-region", REGION.to_string()),
        ("x-tc-timestamp", ts.to_string()),
    ];
    let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let parts = tunnelform_tc3::RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &pairs,
        payload: body,
    };
    let signed = tunnelform_tc3::sign(
        &parts,
        &["content-type", "host"],
        "vpc",
        ts,
        &tunnelform_sandbox::Credentials::new(SECRET_ID, SECRET_KEY, None),
    )
    .unwrap();
    let mut out = format!("POST / {version}\r\n").into_bytes();
    for (n, v) in &headers {
        if !omit.contains(n) {
            out.extend(format!("{n}: {v}\r\n").bytes());
        }
    }
    out.extend(format!("authorization: {}\r\n", signed.authorization).bytes());
    out.extend(format!("content-length: {}\r\n\r\n", body.len()).bytes());
    out.extend_from_slice(body);
    out
}

/// Reads one answer: up to the end of its JSON envelope (or until the server closes).
async fn read_answer(rd: &mut (impl AsyncReadExt + Unpin)) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = rd.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.ends_with(b"}}") {
            break;
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Sends `bytes`, then reads until the server closes or `limit` passes; returns what was read.
async fn raw_exchange(addr: std::net::SocketAddr, bytes: &[u8], limit: Duration) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(limit, s.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn malformed_json_is_invalid_parameter() {
    let (_h, c) = start_default().await;
    let deep = format!(
        "{{\"Filters\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", b"{\"Limit\": 5, \"Offset\"".to_vec()),
        ("trailing garbage", b"{\"Limit\": 5} xyz".to_vec()),
        (
            "invalid UTF-8",
            b"{\"VpnGatewayName\": \"caf\xe9\"}".to_vec(),
        ),
        ("NUL bytes", b"\0\0\0\0".to_vec()),
        ("byte order mark", b"\xef\xbb\xbf{}".to_vec()),
        ("single quotes", b"{'Limit': 5}".to_vec()),
        ("NaN", b"{\"Limit\": NaN}".to_vec()),
        (
            "a number too large for any type",
            b"{\"Limit\": 1e999}".to_vec(),
        ),
        (
            "unpaired surrogate",
            b"{\"VpnGatewayName\": \"\\ud800\"}".to_vec(),
        ),
        ("100,000 nested arrays", deep.into_bytes()),
        ("null", b"null".to_vec()),
        ("a number", b"42".to_vec()),
    ];
    for (what, body) in bodies {
        let mut req = Req::vpc("DescribeVpnGateways", json!({}));
        req.body = body;
        let r = c.send(req).await;
        let (code, message) = error_of(&r);
        assert_eq!(code, "InvalidParameter", "{what}: {}", r.text);
        assert!(
            message.contains("JSON") || message.contains("parameter"),
            "{what}: {message}"
        );
    }
    still_serving(&c).await;
}

#[tokio::test]
async fn wrong_parameter_types_are_refused_before_the_action() {
    let (h, c) = start_default().await;
    // (action, body, code)
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "DescribeVpnGateways",
            json!({"VpnGatewayIds": "vpngw-12345678"}),
            "InvalidParameter",
        ),
        (
            "DescribeVpnGateways",
            json!({"VpnGatewayIds": [1, 2]}),
            "InvalidParameter",
        ),
        (
            "DescribeVpnGateways",
            json!({"VpnGatewayIds": [["vpngw-12345678"]]}),
            "InvalidParameter",
        ),
        (
            "DescribeVpnGateways",
            json!({"Limit": 1.5}),
            "InvalidParameter",
        ),
        (
            "DescribeVpnGateways",
            json!({"Limit": true}),
            "InvalidParameter",
        ),
        (
            "DescribeVpnGateways",
            json!({"Limit": {"n": 1}}),
            "InvalidParameter",
        ),
        (
            "DescribeVpnGateways",
            json!({"Offset": -5}),
            "InvalidParameter",
        ),
        (
            "DescribeVpnGateways",
            json!({"Limit": 18_446_744_073_709_551_615u64}),
            "InvalidParameterValue.Range",
        ),
        (
            "DescribeVpnGateways",
            json!({"Filters": [{"Name": 7, "Values": ["x"]}]}),
            "InvalidParameter",
        ),
        (
            "DescribeVpnGateways",
            json!({"Filters": [{"Name": "vpc-id", "Values": "vpc-sandbox1"}]}),
            "InvalidParameter",
        ),
        (
            "CreateCustomerGateway",
            json!({"CustomerGatewayName": ["c"], "IpAddress": "203.0.113.1"}),
            "InvalidParameter",
        ),
        (
            "CreateCustomerGateway",
            json!({"CustomerGatewayName": "c", "IpAddress": null}),
            "MissingParameter",
        ),
        (
            "CreateCustomerGateway",
            json!({"CustomerGatewayName": "c", "IpAddress": 3405803777u64}),
            "InvalidParameter",
        ),
        (
            "CreateVpnGateway",
            json!({"VpcId": "vpc-sandbox1", "VpnGatewayName": "g", "InternetMaxBandwidthOut": "5"}),
            "InvalidParameter",
        ),
    ];
    let before = h.stats();
    for (action, body, code) in &cases {
        let got = c.vpc_err(action, body.clone()).await;
        assert_eq!(&got, code, "{action} {body}");
    }
    // Nothing was created by a refused request.
    let cgws = c.vpc("DescribeCustomerGateways", json!({})).await;
    assert_eq!(cgws["TotalCount"], 0, "{cgws}");
    let gws = c.vpc("DescribeVpnGateways", json!({})).await;
    assert_eq!(gws["TotalCount"], 0, "{gws}");
    let after = h.stats();
    assert_eq!(
        after.errors_for("InvalidParameter") - before.errors_for("InvalidParameter"),
        cases.iter().filter(|c| c.2 == "InvalidParameter").count() as u64
    );
    still_serving(&c).await;
}

fn small_body_config() -> SandboxConfig {
    SandboxConfig {
        max_body_bytes: 64 * 1024,
        body_read_timeout: Duration::from_millis(300),
        ..config()
    }
}

#[tokio::test]
async fn a_huge_declared_length_is_refused_without_reading_the_body() {
    let (h, c) = start(small_body_config()).await;
    // 10 GB announced, a few bytes sent: the answer comes at once, the body is never awaited.
    let head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-TC-Action: DescribeVpcs\r\nContent-Length: 10000000000\r\n\r\n{\"Li";
    let started = Instant::now();
    let resp = raw_exchange(h.addr(), head.as_bytes(), Duration::from_secs(5)).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(
        resp.contains("\"Code\":\"RequestSizeLimitExceeded\""),
        "{resp}"
    );
    assert!(resp.contains("65536 bytes"), "{resp}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // A body of exactly the limit is read (and then judged on its content).
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    let mut body = b"{\"VpcIds\": [\"".to_vec();
    body.resize(64 * 1024 - 3, b'x');
    body.extend_from_slice(b"\"]}");
    assert_eq!(body.len(), 64 * 1024);
    req.body = body;
    let r = c.send(req).await;
    assert_ne!(error_of(&r).0, "RequestSizeLimitExceeded", "{}", r.text);
    still_serving(&c).await;
}

#[tokio::test]
async fn an_endless_chunked_body_is_cut_off_at_the_limit() {
    let (h, c) = start(small_body_config()).await;
    let mut s = TcpStream::connect(h.addr()).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{}Transfer-Encoding: chunked\r\n\r\n",
        authentic_looking_head("DescribeVpcs")
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let reader = tokio::spawn(async move { read_answer(&mut rd).await });
    // Send up to 256 MiB in 64 KiB chunks while the answer has not come; the server must answer
    // long before (it reads at most 64 KiB of body, then socket buffers fill up or it closes).
    let chunk = {
        let mut v = format!("{:x}\r\n", 64 * 1024).into_bytes();
        v.extend(std::iter::repeat_n(b' ', 64 * 1024));
        v.extend_from_slice(b"\r\n");
        v
    };
    let mut sent = 0usize;
    while !reader.is_finished() && sent < 256 << 20 {
        match tokio::time::timeout(Duration::from_millis(200), wr.write_all(&chunk)).await {
            Ok(Ok(())) => sent += chunk.len(),
            // The server stopped reading (or closed): it does not buffer what it will not use.
            Ok(Err(_)) | Err(_) => break,
        }
    }
    let resp = tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .expect("an answer")
        .unwrap();
    assert!(
        resp.contains("\"Code\":\"RequestSizeLimitExceeded\""),
        "{resp}"
    );
    assert!(
        sent < 128 << 20,
        "the client sent {sent} bytes before being answered"
    );
    still_serving(&c).await;
}

#[tokio::test]
async fn a_stalled_or_trickling_body_times_out() {
    let (h, c) = start(small_body_config()).await;
    // Stalled: 100 bytes announced, 10 sent.
    let started = Instant::now();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{}Content-Length: 100\r\n\r\n{{\"Limit\": ",
        authentic_looking_head("DescribeVpcs")
    );
    let resp = raw_exchange(h.addr(), head.as_bytes(), Duration::from_secs(5)).await;
    assert!(resp.contains("\"Code\":\"InvalidParameter\""), "{resp}");
    assert!(
        resp.contains("Timed out reading the request body"),
        "{resp}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // Trickling: one byte every 20 ms, for ever; the timeout bounds the whole body, not each read.
    let mut s = TcpStream::connect(h.addr()).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{}Content-Length: 60000\r\n\r\n",
        authentic_looking_head("DescribeVpcs")
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let trickle = tokio::spawn(async move {
        let mut sent = 0;
        while wr.write_all(b" ").await.is_ok() && sent < 1000 {
            sent += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sent
    });
    let resp = tokio::time::timeout(Duration::from_secs(5), read_answer(&mut rd))
        .await
        .expect("answered while the client was still trickling");
    assert!(
        resp.contains("Timed out reading the request body"),
        "{resp}"
    );
    trickle.abort();
    assert!(h.stats().errors_for("InvalidParameter") >= 2);
    still_serving(&c).await;
}

#[tokio::test]
async fn many_bad_requests_in_a_row_leave_the_server_serving() {
    // A deterministic mix of the above on one keep-alive client, then a good request.
    let (h, c) = start(small_body_config()).await;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for i in 0..200 {
        let mut req = Req::vpc("DescribeVpnConnections", json!({}));
        match rnd(6) {
            0 => req.body = (0..rnd(300)).map(|_| rnd(256) as u8).collect(),
            1 => req.omit_headers = vec!["x-tc-action".into()],
            2 => req.body = vec![b'['; (rnd(70_000) + 1) as usize],
            3 => req.action = Some(format!("Describe{}", "X".repeat(rnd(5000) as usize))),
            4 => {
                req.region = Some(
                    [
                        "",
                        "../..",
                        "ap-guangzhou ",
                        "AP-GUANGZHOU",
                        "x".repeat(4000).as_str(),
                    ][rnd(5) as usize]
                        .to_string(),
                )
            }
            _ => {
                req.body = serde_json::to_vec(&json!({"Limit": rnd(1000), "Offset": "x"})).unwrap()
            }
        }
        let r = c
            .try_send(req)
            .await
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        let j = r
            .json
            .as_ref()
            .unwrap_or_else(|| panic!("request {i}: not JSON: {} {}", r.status, r.text));
        assert!(
            j["Response"]["RequestId"].is_string(),
            "request {i}: {}",
            r.text
        );
        assert_eq!(r.status, 200, "request {i}: {}", r.text);
    }
    assert_eq!(h.stats().errors_for("InternalError"), 0);
    still_serving(&c).await;
}

/// The parts of a raw answer: the error code in its body, and whether the server closed the connection.
fn code_in(resp: &str) -> Option<&str> {
    let at = resp.find("\"Code\":\"")? + 8;
    resp[at..].split('"').next()
}

#[tokio::test]
async fn a_request_that_cannot_be_authentic_is_answered_without_reading_its_body() {
    // The default body timeout (30 s) and body limit (1 MiB): a server that read the body first would
    // wait for the 1 MiB announced here, which never comes.
    let (h, c) = start(config()).await;
    let ts = now();
    let scope = |id: &str, ts: i64| {
        tc3::authorization(id, ts, "vpc", &["content-type", "host"], &"0".repeat(64))
    };
    let common =
        "X-TC-Action: DescribeVpcs\r\nX-TC-Version: 2017-03-12\r\nX-TC-Region: ap-guangzhou\r\n";
    let cases = [
        (
            "no Authorization",
            format!("X-TC-Timestamp: {ts}\r\n"),
            "AuthFailure.InvalidAuthorization",
        ),
        (
            "malformed Authorization",
            format!("Authorization: TC3-HMAC-SHA256 nonsense\r\nX-TC-Timestamp: {ts}\r\n"),
            "AuthFailure.InvalidAuthorization",
        ),
        (
            "unknown secret id",
            format!(
                "Authorization: {}\r\nX-TC-Timestamp: {ts}\r\n",
                scope("AKIDnobody", ts)
            ),
            "AuthFailure.SecretIdNotFound",
        ),
        (
            "timestamp an hour old",
            format!(
                "Authorization: {}\r\nX-TC-Timestamp: {}\r\n",
                scope(SECRET_ID, ts - 3600),
                ts - 3600
            ),
            "AuthFailure.SignatureExpire",
        ),
        ("no Action", "".to_string(), "MissingParameter"),
    ];
    for (what, auth, code) in cases {
        let common = if what == "no Action" { "" } else { common };
        let head = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{common}{auth}Content-Length: 1048576\r\n\r\n{{\"Limit\": "
        );
        let started = Instant::now();
        // read_to_end: the answer comes and the connection is closed, both at once.
        let resp = raw_exchange(h.addr(), head.as_bytes(), Duration::from_secs(3)).await;
        assert_eq!(code_in(&resp), Some(code), "{what}: {resp}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{what}: answered after {:?} (the body was awaited)",
            started.elapsed()
        );
        assert!(
            resp.to_ascii_lowercase().contains("connection: close"),
            "{what}: {resp}"
        );
    }
    // A request that passes the head's checks has its body read (and its signature then checked).
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{}Content-Length: 2\r\n\r\n{{}}",
        authentic_looking_head("DescribeVpcs")
    );
    let resp = raw_exchange(h.addr(), head.as_bytes(), Duration::from_secs(3)).await;
    assert_eq!(
        code_in(&resp),
        Some("AuthFailure.SignatureFailure"),
        "{resp}"
    );
    assert_eq!(h.stats().errors_for("AuthFailure.SignatureFailure"), 1);
    still_serving(&c).await;
}

#[tokio::test]
async fn request_bodies_held_at_once_are_bounded_over_all_connections() {
    // Room for four bodies of the largest size at once; eight clients announce that size and send half.
    let config = SandboxConfig {
        max_body_bytes: 64 * 1024,
        max_body_memory_bytes: 4 * 64 * 1024,
        body_read_timeout: Duration::from_millis(1500),
        ..config()
    };
    let (h, c) = start(config).await;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{}Content-Length: 65536\r\n\r\n",
        authentic_looking_head("DescribeVpcs")
    );
    let h_addr = h.addr();
    let connect = |n: usize| {
        let head = head.clone();
        async move {
            let mut clients = Vec::new();
            for _ in 0..n {
                let mut s = TcpStream::connect(h_addr).await.unwrap();
                s.write_all(head.as_bytes()).await.unwrap();
                s.write_all(&vec![b' '; 32 * 1024]).await.unwrap();
                clients.push(tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let _ =
                        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
                    (Instant::now(), String::from_utf8_lossy(&buf).into_owned())
                }));
            }
            clients
        }
    };
    let started = Instant::now();
    let first = connect(4).await;
    // Let the server start reading those four bodies.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let more = connect(4).await;
    for t in more {
        let (at, resp) = t.await.unwrap();
        // Refused at once, the body unread (the first four are still being read).
        assert_eq!(code_in(&resp), Some("RequestLimitExceeded"), "{resp}");
        assert!(
            resp.contains("reading too many request bodies at once"),
            "{resp}"
        );
        assert!(
            at - started < Duration::from_millis(1200),
            "answered after {:?}",
            at - started
        );
    }
    for t in first {
        let (_, resp) = t.await.unwrap();
        assert!(
            resp.contains("Timed out reading the request body"),
            "{resp}"
        );
    }
    // The budget is free again.
    still_serving(&c).await;
}

#[tokio::test]
async fn unknown_action_names_do_not_grow_the_stats() {
    let (h, c) = start(config()).await;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..300 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Long random names, signed (so they reach the action lookup) or not.
        let name = format!("Act{seed:016x}{}", "x".repeat(1000));
        let mut req = Req::vpc(&name, json!({}));
        if i % 2 == 0 {
            req.omit_headers = vec!["authorization".into()];
        }
        let r = c.send(req).await;
        assert!(r.error_code().is_some(), "{}", r.text);
    }
    c.send(Req::vpc("DescribeVpcs", json!({}))).await;
    let stats = h.stats();
    assert_eq!(stats.requests_for("(unknown)"), 300);
    assert_eq!(stats.requests_for("DescribeVpcs"), 1);
    assert_eq!(stats.requests.len(), 2, "{:?}", stats.requests.keys());
}

#[tokio::test]
async fn a_connection_that_sends_no_complete_head_is_closed_within_seconds() {
    // The default header timeout.
    let (h, c) = start(config()).await;
    let started = Instant::now();
    let mut partial = TcpStream::connect(h.addr()).await.unwrap();
    partial
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(h.addr()).await.unwrap();
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(7), partial.read_to_end(&mut buf)).await;
    assert!(
        closed.is_ok(),
        "a half-sent head held its connection for 7 s"
    );
    let closed = tokio::time::timeout(Duration::from_secs(1), silent.read_to_end(&mut buf)).await;
    assert!(
        closed.is_ok(),
        "a silent connection held its slot for {:?}",
        started.elapsed()
    );
    // A client that sends its request at once is served on the same kind of connection.
    still_serving(&c).await;
}

#[tokio::test]
async fn a_huge_request_head_is_refused_by_the_http_layer() {
    let (_h, c) = start(config()).await;
    let addr = c.base.trim_start_matches("http://").to_string();
    // 200 KB of headers, sent at once: far more than a connection buffers for a head (64 KiB).
    let mut head = format!("POST / HTTP/1.1\r\nHost: {addr}\r\n");
    for i in 0..20 {
        head.push_str(&format!("X-Filler-{i}: {}\r\n", "f".repeat(10_000)));
    }
    head.push_str("\r\n");
    let resp = raw_exchange(
        addr.parse().unwrap(),
        head.as_bytes(),
        Duration::from_secs(3),
    )
    .await;
    assert!(
        resp.starts_with("HTTP/1.1 431"),
        "{}",
        &resp[..resp.len().min(200)]
    );
    // A head within the limit (a GET with a ~48 KiB query string) reaches the API (which judges it).
    let ids: Vec<String> = (0..2000).map(|i| format!("vpc-{i:08}")).collect();
    let r = c
        .send(Req::vpc_get("DescribeVpcs", json!({ "VpcIds": ids })))
        .await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(300)]);
    assert!(
        r.response()["RequestId"].is_string(),
        "{}",
        &r.text[..r.text.len().min(300)]
    );
    still_serving(&c).await;
}
