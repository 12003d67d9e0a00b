//! `tunnelform watch`: drift made through the API appears as an event and in `/metrics`, and
//! clears when `--auto-apply` heals it; configuration changed on disk shows as a pending change;
//! SIGTERM stops the watcher with exit code 0, and one that lands mid-apply loses nothing; events
//! reach a `--webhook` receiver (retried when it fails, never holding the loop up when it hangs,
//! signed with a shared secret that the receiver checks, dropped oldest first from a full queue);
//! a second watcher on a local state does not act while the first holds the lock.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value as J;

use crate::common::{customer_gateway_block, gateway_block, Running, SandboxProc, Work};

const REGION: &str = "ap-guangzhou";
const TUNNEL: &str = "tencentcloud_vpn_connection.t";

pub(crate) fn config(name: &str) -> String {
    format!(
        r#"
provider "tencentcloud" {{
  region = "ap-guangzhou"
}}
{}{}
resource "tencentcloud_vpn_connection" "t" {{
  name                = "{name}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = "watch-key-Xr4mQ9vL2p"
  dpd_timeout         = 30
  security_group_policy {{
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.1.0/24"]
  }}
}}
"#,
        gateway_block("watch-gw"),
        customer_gateway_block("a", "203.0.113.1"),
    )
}

/// `GET path` on 127.0.0.1: (status code, body).
pub(crate) fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connecting to the watcher");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("sending the request");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("reading the answer");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, body.to_string())
}

/// Waits for an event `name` (about `address` when given), unless one was read already; returns
/// the last one.
#[track_caller]
pub(crate) fn wait_event(r: &mut Running, name: &str, address: Option<&str>) -> J {
    let matches = |l: &str| {
        serde_json::from_str::<J>(l)
            .is_ok_and(|e| e["event"] == name && address.is_none_or(|a| e["address"] == a))
    };
    assert!(
        r.wait_for_count(1, matches),
        "the watcher ended before {name}; stdout:\n{}\nstderr:\n{}",
        r.out.join("\n"),
        r.err.join("\n")
    );
    let line = r.out.iter().rev().find(|l| matches(l)).expect("event");
    serde_json::from_str(line).expect("JSON")
}

/// Scrapes `/metrics` until `line` appears (the cycle that sees a change may still be running).
#[track_caller]
pub(crate) fn wait_metric(addr: &str, line: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, body) = get(addr, "/metrics");
        assert_eq!(code, 200, "{body}");
        if body.contains(line) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "no {line:?} in /metrics:\n{body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn start(w: &Work, extra: &[&str]) -> (Running, String) {
    start_every(w, "1s", extra)
}

fn start_every(w: &Work, interval: &str, extra: &[&str]) -> (Running, String) {
    let mut args = vec![
        "watch",
        "cfg",
        "--interval",
        interval,
        "--listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    let mut r = Running::spawn(w, &args, &[]);
    let started = wait_event(&mut r, "started", None);
    let addr = started["listen"].as_str().expect("listen").to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    (r, addr)
}

pub(crate) fn stop(r: Running) -> Vec<J> {
    r.signal("TERM");
    let (status, out, err) = r.finish();
    assert_eq!(status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn drift_and_pending_changes_are_events_and_metrics() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("tunnel-one"));
    w.apply(&[]).success();
    let id = w.state_id(TUNNEL);
    let (mut r, addr) = start(&w, &[]);
    assert_eq!(get(&addr, "/healthz").0, 200);

    // A clean first cycle: every object with drift 0, the tunnel up.
    let drift0 = format!(
        r#"tunnelform_drift{{address="{TUNNEL}",kind="tencentcloud_vpn_connection",id="{id}"}} 0"#
    );
    wait_metric(&addr, &drift0);
    wait_metric(
        &addr,
        &format!(r#"tunnelform_tunnel_up{{address="{TUNNEL}",id="{id}"}} 1"#),
    );
    assert_eq!(get(&addr, "/readyz").0, 200);

    // Changed in the console: an event and a gauge within about one interval.
    sb.cloud()
        .modify_connection(REGION, &id, "renamed-by-hand", 50);
    let e = wait_event(&mut r, "drift_appeared", Some(TUNNEL));
    assert_eq!(e["id"], id.as_str(), "{e}");
    assert_eq!(e["kind"], "tencentcloud_vpn_connection", "{e}");
    assert!(e["time"].as_str().is_some_and(|t| t.contains('T')), "{e}");
    let names: Vec<&str> = e["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .filter_map(J::as_str)
        .collect();
    assert!(names.contains(&"name"), "{e}");
    wait_metric(
        &addr,
        &format!(
            r#"tunnelform_drift{{address="{TUNNEL}",kind="tencentcloud_vpn_connection",id="{id}"}} 1"#
        ),
    );
    // Without --auto-apply nothing is written.
    assert_eq!(
        sb.cloud()
            .connection(REGION, &id)
            .expect("tunnel")
            .vpn_connection_name,
        "renamed-by-hand"
    );

    // The configuration on disk changes (a GitOps checkout pulled): a pending change of the gateway.
    w.write(
        "cfg/main.tf",
        &config("tunnel-one").replace("watch-gw", "watch-gw-renamed"),
    );
    let e = wait_event(
        &mut r,
        "pending_change",
        Some("tencentcloud_vpn_gateway.gw"),
    );
    assert_eq!(e["action"], "update", "{e}");
    let gw = w.state_id("tencentcloud_vpn_gateway.gw");
    let body = wait_metric(
        &addr,
        &format!(
            r#"tunnelform_pending_change{{address="tencentcloud_vpn_gateway.gw",kind="tencentcloud_vpn_gateway",id="{gw}"}} 1"#
        ),
    );
    assert!(
        body.contains("tunnelform_api_requests_total{action=\"DescribeVpnConnections\"}"),
        "{body}"
    );
    assert!(
        body.contains("tunnelform_last_successful_cycle_timestamp_seconds"),
        "{body}"
    );

    let all = stop(r);
    assert!(all.iter().any(|e| e["event"] == "stopped"), "{all:?}");
    assert!(
        !all.iter().any(|e| e["event"] == "apply_started"),
        "{all:?}"
    );
}

#[test]
fn auto_apply_heals_drift_and_the_metric_clears() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("tunnel-one"));
    w.apply(&[]).success();
    let id = w.state_id(TUNNEL);
    let (mut r, addr) = start(&w, &["--auto-apply"]);
    wait_metric(
        &addr,
        &format!(
            r#"tunnelform_drift{{address="{TUNNEL}",kind="tencentcloud_vpn_connection",id="{id}"}} 0"#
        ),
    );

    sb.cloud()
        .modify_connection(REGION, &id, "renamed-by-hand", 50);
    wait_event(&mut r, "drift_appeared", Some(TUNNEL));
    let started = wait_event(&mut r, "apply_started", None);
    assert_eq!(started["change"], 1, "{started}");
    let finished = wait_event(&mut r, "apply_finished", None);
    assert_eq!(finished["outcome"], "success", "{finished}");
    wait_event(&mut r, "drift_cleared", Some(TUNNEL));
    let body = wait_metric(
        &addr,
        &format!(
            r#"tunnelform_drift{{address="{TUNNEL}",kind="tencentcloud_vpn_connection",id="{id}"}} 0"#
        ),
    );
    assert!(
        body.contains(r#"tunnelform_applies_total{outcome="success"} 1"#),
        "{body}"
    );
    assert_eq!(
        sb.cloud()
            .connection(REGION, &id)
            .expect("tunnel")
            .vpn_connection_name,
        "tunnel-one"
    );
    stop(r);
    w.assert_no_changes(&[]);
}

#[test]
fn auto_apply_refuses_a_plan_that_deletes_without_allow_destroy() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("tunnel-one"));
    w.apply(&[]).success();
    let id = w.state_id(TUNNEL);
    let (mut r, addr) = start(&w, &["--auto-apply"]);
    // The tunnel leaves the configuration: the plan deletes it.
    let text = config("tunnel-one");
    let cut = text
        .find("resource \"tencentcloud_vpn_connection\"")
        .expect("tunnel block");
    w.write("cfg/main.tf", &text[..cut]);
    let e = wait_event(&mut r, "apply_refused", None);
    assert!(
        e["reason"]
            .as_str()
            .is_some_and(|s| s.contains(TUNNEL) && s.contains("--allow-destroy")),
        "{e}"
    );
    // The refusal stands through later cycles: said once, shown by a gauge.
    let cycles = |body: &str| -> u64 {
        body.lines()
            .find_map(|l| l.strip_prefix(r#"tunnelform_cycles_total{outcome="ok"} "#))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    let seen = cycles(&wait_metric(&addr, "tunnelform_apply_refused 1"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while cycles(&get(&addr, "/metrics").1) < seen + 3 {
        assert!(Instant::now() < deadline, "the watcher stopped cycling");
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_metric(&addr, "tunnelform_apply_refused 1");
    let all = stop(r);
    assert!(
        !all.iter().any(|e| e["event"] == "apply_started"),
        "{all:?}"
    );
    let refused = all.iter().filter(|e| e["event"] == "apply_refused").count();
    assert_eq!(refused, 1, "{all:?}");
    assert!(sb.cloud().connection(REGION, &id).is_some());
}

/// Sets a tunnel's NetStatus and HealthCheckStatus through the sandbox's loopback control endpoint.
pub(crate) fn set_status(sb: &SandboxProc, id: &str, net: &str, health: &str) {
    let addr = sb.url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connecting to the sandbox");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "POST /_sandbox/connection-status?id={id}&net_status={net}&health_check_status={health} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("sending the request");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("reading the answer");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

#[test]
fn a_tunnel_going_down_is_health_not_drift() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("tunnel-one"));
    w.apply(&[]).success();
    let id = w.state_id(TUNNEL);
    // A long interval: only SIGHUP makes the cycles that see the changes.
    let (mut r, addr) = start_every(&w, "10m", &[]);
    wait_metric(
        &addr,
        &format!(r#"tunnelform_tunnel_up{{address="{TUNNEL}",id="{id}"}} 1"#),
    );

    // The peer goes down: an event and a gauge, and no drift.
    set_status(&sb, &id, "UNAVAILABLE", "UNAVAILABLE");
    r.signal("HUP");
    let e = wait_event(&mut r, "tunnel_down", Some(TUNNEL));
    assert_eq!(e["net_status"], "UNAVAILABLE", "{e}");
    assert_eq!(e["health_check_status"], "UNAVAILABLE", "{e}");
    let body = wait_metric(
        &addr,
        &format!(r#"tunnelform_tunnel_up{{address="{TUNNEL}",id="{id}"}} 0"#),
    );
    assert!(
        body.contains(&format!(
            r#"tunnelform_tunnel_health_check_up{{address="{TUNNEL}",id="{id}"}} 0"#
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            r#"tunnelform_drift{{address="{TUNNEL}",kind="tencentcloud_vpn_connection",id="{id}"}} 0"#
        )),
        "{body}"
    );

    // It comes back.
    set_status(&sb, &id, "AVAILABLE", "AVAILABLE");
    r.signal("HUP");
    wait_event(&mut r, "tunnel_up", Some(TUNNEL));
    let all = stop(r);
    assert!(
        !all.iter().any(|e| e["event"] == "drift_appeared"),
        "{all:?}"
    );
}

/// An HTTP receiver on 127.0.0.1 for `--webhook`: answers 500 to the first `fail_first` requests,
/// then 200 (keeping each body), or never answers at all when `hang`. With a `secret`, it checks
/// each request's signature as the README tells receivers to, and answers 401 (keeping nothing)
/// to one that does not verify.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<J>>>,
    requests: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
}

/// The README's check of a signed delivery: the timestamp within 5 minutes of now, and
/// `sha256=` + hex(HMAC-SHA256(secret, "<timestamp>.<body>")) equal to the signature header
/// (compared in constant time).
fn verify(secret: &[u8], timestamp: Option<&str>, signature: Option<&str>, body: &[u8]) -> bool {
    use hmac::Mac as _;
    let (Some(ts), Some(sig)) = (timestamp, signature) else {
        return false;
    };
    let Ok(t) = ts.parse::<u64>() else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now.abs_diff(t) > 300 {
        return false;
    }
    let Some(hex_sig) = sig.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

impl Receiver {
    fn start(fail_first: usize, hang: bool) -> Receiver {
        Receiver::with(fail_first, hang, None)
    }

    fn signed(secret: &str) -> Receiver {
        Receiver::with(0, false, Some(secret.as_bytes().to_vec()))
    }

    fn with(fail_first: usize, hang: bool, secret: Option<Vec<u8>>) -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding the receiver");
        let url = format!(
            "http://{}/hook?token=HOOK-TOKEN-7f3a",
            listener.local_addr().expect("address")
        );
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let (b, n, r) = (bodies.clone(), requests.clone(), refused.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { break };
                let (b, n, r) = (b.clone(), n.clone(), r.clone());
                let secret = secret.clone();
                std::thread::spawn(move || {
                    serve_hook(conn, fail_first, hang, secret.as_deref(), &b, &n, &r)
                });
            }
        });
        Receiver {
            url,
            bodies,
            requests,
            refused,
        }
    }

    fn events(&self) -> Vec<J> {
        self.bodies.lock().unwrap().clone()
    }

    /// Waits until an event `name` was received; returns all received so far.
    #[track_caller]
    fn wait_for(&self, name: &str) -> Vec<J> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let all = self.events();
            if all.iter().any(|e| e["event"] == name) {
                return all;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got no {name} event: {all:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn serve_hook(
    conn: std::net::TcpStream,
    fail_first: usize,
    hang: bool,
    secret: Option<&[u8]>,
    bodies: &Mutex<Vec<J>>,
    requests: &AtomicUsize,
    refused: &AtomicUsize,
) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut conn = conn;
    loop {
        let mut length = 0usize;
        let mut first = true;
        let (mut timestamp, mut signature) = (None, None);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if first {
                assert!(line.starts_with("POST /hook?token="), "{line}");
                first = false;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().expect("content length");
            }
            if lower.starts_with("x-tunnelform-timestamp:") {
                timestamp = line.split_once(':').map(|x| x.1.trim().to_string());
            }
            if lower.starts_with("x-tunnelform-signature:") {
                signature = line.split_once(':').map(|x| x.1.trim().to_string());
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).expect("body");
        let n = requests.fetch_add(1, Ordering::SeqCst);
        if hang {
            // Holds the connection open without a word.
            std::thread::sleep(Duration::from_secs(600));
            return;
        }
        let status = if n < fail_first {
            "500 Internal Server Error"
        } else if secret
            .is_some_and(|k| !verify(k, timestamp.as_deref(), signature.as_deref(), &body))
        {
            refused.fetch_add(1, Ordering::SeqCst);
            "401 Unauthorized"
        } else {
            bodies
                .lock()
                .unwrap()
                .push(serde_json::from_slice(&body).expect("a JSON body"));
            "200 OK"
        };
        if write!(conn, "HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").is_err() {
            return;
        }
    }
}

#[test]
fn every_event_is_posted_to_the_webhook_and_a_failing_receiver_gets_it_again() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("tunnel-one"));
    w.apply(&[]).success();
    let id = w.state_id(TUNNEL);
    let hook = Receiver::start(2, false);
    let (mut r, addr) = start(&w, &["--auto-apply", "--webhook", &hook.url]);
    let started = wait_event(&mut r, "started", None);
    // The URL's token is never shown.
    assert_eq!(
        started["webhook"],
        hook.url.split("/hook").next().unwrap(),
        "{started}"
    );

    sb.cloud()
        .modify_connection(REGION, &id, "renamed-by-hand", 50);
    wait_event(&mut r, "drift_cleared", Some(TUNNEL));
    let got = hook.wait_for("drift_cleared");
    // The first event was refused twice, then delivered: the same object as its line on stdout.
    assert_eq!(got[0], started, "{got:?}");
    let body = wait_metric(&addr, "tunnelform_webhook_retries_total 2");
    assert!(
        body.contains(r#"tunnelform_webhook_events_total{outcome="failed"} 0"#),
        "{body}"
    );
    let all = stop(r);
    // Everything the watcher printed reached the receiver, in order, the last one on stop.
    let got = hook.wait_for("stopped");
    assert_eq!(got, all, "received {got:?}\nprinted {all:?}");
    for e in ["drift_appeared", "apply_started", "apply_finished"] {
        assert!(got.iter().any(|x| x["event"] == e), "no {e}: {got:?}");
    }
    assert_eq!(hook.requests.load(Ordering::SeqCst), got.len() + 2);
    let text = serde_json::to_string(&got).unwrap();
    assert!(!text.contains("watch-key-Xr4mQ9vL2p"), "{text}");
    assert!(!text.contains("HOOK-TOKEN"), "{text}");
}

#[test]
fn a_webhook_that_never_answers_does_not_hold_the_loop_up() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("tunnel-one"));
    w.apply(&[]).success();
    let id = w.state_id(TUNNEL);
    let hook = Receiver::start(0, true);
    let (mut r, addr) = start(&w, &["--webhook", &hook.url]);
    // Cycles go on while the first delivery waits for an answer that never comes.
    wait_metric(&addr, r#"tunnelform_cycles_total{outcome="ok"} 3"#);
    sb.cloud()
        .modify_connection(REGION, &id, "renamed-by-hand", 50);
    wait_event(&mut r, "drift_appeared", Some(TUNNEL));
    let body = wait_metric(
        &addr,
        r#"tunnelform_webhook_events_total{outcome="sent"} 0"#,
    );
    assert!(hook.requests.load(Ordering::SeqCst) >= 1, "{body}");
    // It stops (exit 0) after at most a bounded flush; what was not delivered counts as dropped.
    let all = stop(r);
    assert!(all.iter().any(|e| e["event"] == "stopped"), "{all:?}");
    assert!(hook.events().is_empty());
}

#[test]
fn a_webhook_must_be_an_http_url() {
    let w = Work::new();
    w.config(&config("tunnel-one"));
    for bad in ["ftp://example.com/x", "not a url"] {
        let r = w.tf(&["watch", "cfg", "--listen", "127.0.0.1:0", "--webhook", bad]);
        r.expect_code(1);
        assert!(
            r.stderr.contains("--webhook") && r.stderr.contains("http://"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn signed_webhook_deliveries_verify_with_the_shared_secret_and_the_secret_is_never_shown() {
    const SECRET: &str = "HOOK-SECRET-q8Zt2W";
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("tunnel-one"));
    w.apply(&[]).success();
    let id = w.state_id(TUNNEL);
    let file = w.write("hook.secret", &format!("{SECRET}\n"));
    let file = file.to_str().unwrap();
    let hook = Receiver::signed(SECRET);
    let (mut r, _) = start(
        &w,
        &[
            "--auto-apply",
            "--webhook",
            &hook.url,
            "--webhook-secret-file",
            file,
        ],
    );
    sb.cloud()
        .modify_connection(REGION, &id, "renamed-by-hand", 50);
    wait_event(&mut r, "drift_cleared", Some(TUNNEL));
    hook.wait_for("drift_cleared");
    let all = stop(r);
    let got = hook.wait_for("stopped");
    // Every event arrived signed, and every signature verified.
    assert_eq!(got, all, "received {got:?}\nprinted {all:?}");
    assert_eq!(hook.refused.load(Ordering::SeqCst), 0);
    assert_eq!(all[0]["webhook_signed"], true, "{:?}", all[0]);
    let text = serde_json::to_string(&got).unwrap();
    assert!(!text.contains(SECRET), "{text}");

    // The same through the environment, with --webhook-timeout and --webhook-queue given.
    let hook = Receiver::signed(SECRET);
    let mut args = vec![
        "watch",
        "cfg",
        "--interval",
        "1s",
        "--listen",
        "127.0.0.1:0",
        "--webhook",
        &hook.url,
        "--webhook-timeout",
        "2s",
        "--webhook-queue",
        "10",
    ];
    let mut r = Running::spawn(&w, &args, &[("TUNNELFORM_WEBHOOK_SECRET", SECRET)]);
    wait_event(&mut r, "started", None);
    hook.wait_for("started");
    let (status, out, err) = {
        r.signal("TERM");
        r.finish()
    };
    assert_eq!(status.code(), Some(0), "{out}\n{err}");
    assert_eq!(hook.refused.load(Ordering::SeqCst), 0);
    assert!(
        !out.contains(SECRET) && !err.contains(SECRET),
        "{out}\n{err}"
    );

    // A receiver holding another secret refuses every delivery: the check is real.
    let wrong = Receiver::signed("another-secret");
    args[7] = &wrong.url;
    let mut r = Running::spawn(&w, &args, &[("TUNNELFORM_WEBHOOK_SECRET", SECRET)]);
    wait_event(&mut r, "started", None);
    let deadline = Instant::now() + Duration::from_secs(30);
    while wrong.refused.load(Ordering::SeqCst) < 2 {
        assert!(Instant::now() < deadline, "the receiver was never asked");
        std::thread::sleep(Duration::from_millis(50));
    }
    stop(r);
    assert!(wrong.events().is_empty(), "{:?}", wrong.events());
    assert_eq!(
        wrong.refused.load(Ordering::SeqCst),
        wrong.requests.load(Ordering::SeqCst)
    );
}

#[test]
fn a_full_webhook_queue_drops_its_oldest_events_and_counts_them() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("tunnel-one"));
    w.apply(&[]).success();
    let hook = Receiver::start(0, true);
    let (mut r, addr) = start_every(
        &w,
        "1h",
        &[
            "--webhook",
            &hook.url,
            "--webhook-queue",
            "2",
            "--webhook-timeout",
            "60s",
        ],
    );
    // `started` is being delivered (the receiver never answers); four more events fill the queue
    // of two twice over.
    let deadline = Instant::now() + Duration::from_secs(30);
    while hook.requests.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the receiver was never asked");
        std::thread::sleep(Duration::from_millis(20));
    }
    for n in 1..=4 {
        r.signal("HUP");
        assert!(r.wait_for_count(n, |l| l.contains("\"hangup\"")));
    }
    let body = wait_metric(
        &addr,
        r#"tunnelform_webhook_events_total{outcome="dropped"} 2"#,
    );
    assert!(body.contains("tunnelform_webhook_queue 3"), "{body}");
    assert!(
        body.contains(r#"tunnelform_webhook_events_total{outcome="sent"} 0"#),
        "{body}"
    );
    r.signal("KILL");
}

#[test]
fn webhook_settings_are_checked() {
    let w = Work::new();
    w.config(&config("tunnel-one"));
    let empty = w.write("empty.secret", "\n");
    let empty = empty.to_str().unwrap();
    for (args, want) in [
        (
            vec![
                "--webhook",
                "http://127.0.0.1:9/h",
                "--webhook-secret-file",
                "no-such-file",
            ],
            "cannot read",
        ),
        (
            vec![
                "--webhook",
                "http://127.0.0.1:9/h",
                "--webhook-secret-file",
                empty,
            ],
            "is empty",
        ),
        (
            vec!["--webhook", "http://127.0.0.1:9/h", "--webhook-queue", "0"],
            "--webhook-queue",
        ),
        (
            vec![
                "--webhook",
                "http://127.0.0.1:9/h",
                "--webhook-timeout",
                "soon",
            ],
            "--webhook-timeout",
        ),
        (vec!["--webhook-secret-file", empty], "--webhook"),
    ] {
        let mut all = vec!["watch", "cfg", "--listen", "127.0.0.1:0"];
        all.extend(args.iter().copied());
        let r = w.tf(&all);
        assert!(
            r.code() == Some(1) || r.code() == Some(2),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn sigterm_mid_apply_lets_the_operations_in_flight_finish_and_loses_nothing() {
    // A new VPN gateway stays PENDING for 3 s: the apply is caught with it in flight.
    let sb = SandboxProc::start(3000, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("tunnel-one"));
    let (mut r, _addr) = start(&w, &["--auto-apply"]);
    wait_event(&mut r, "apply_started", None);
    let deadline = Instant::now() + Duration::from_secs(60);
    while sb.cloud().gateways(REGION).is_empty() {
        assert!(Instant::now() < deadline, "the gateway was never created");
        std::thread::sleep(Duration::from_millis(20));
    }
    r.signal("TERM");
    let (status, out, err) = r.finish();
    assert_eq!(status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    let events: Vec<J> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let finished = events
        .iter()
        .find(|e| e["event"] == "apply_finished")
        .unwrap_or_else(|| panic!("no apply_finished: {out}"));
    assert_eq!(finished["interrupted"], true, "{finished}");
    assert_eq!(events.last().unwrap()["event"], "stopped", "{out}");
    // The gateway in flight was awaited; the tunnel that needs it never started.
    assert_eq!(sb.cloud().gateways(REGION)[0].state, "AVAILABLE");
    assert!(sb.cloud().connection_ids(REGION).is_empty());
    // No orphan: every object in the cloud is in the state.
    let ids = w.state_ids();
    let mut from_state: Vec<String> = ids.values().cloned().collect();
    from_state.sort();
    assert_eq!(sb.cloud().all_ids(REGION), from_state, "{ids:?}");
    assert!(ids.contains_key("tencentcloud_vpn_gateway.gw"), "{ids:?}");
    // A new plan shows only what was not started.
    let plan = w.plan(&[]);
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!("{TUNNEL} will be created")),
        "{}",
        plan.stdout
    );
}

#[test]
fn a_watcher_waits_while_another_run_holds_the_local_state_lock() {
    // The apply below holds the lock for about 3 s (a new gateway stays PENDING that long).
    let sb = SandboxProc::start(3000, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("tunnel-one"));
    let mut apply = Running::spawn(&w, &["apply", "cfg", "--auto-approve"], &[]);
    apply.wait_for_line("tencentcloud_vpn_gateway.gw: Creating...");
    let (mut r, addr) = start_every(&w, "200ms", &["--auto-apply"]);
    let e = wait_event(&mut r, "follower", None);
    assert!(
        e["reason"]
            .as_str()
            .is_some_and(|s| s.contains("the state lock is held by") && s.contains("apply")),
        "{e}"
    );
    let (code, body) = get(&addr, "/readyz");
    assert!(code != 200 || body.contains("follower"), "{code} {body}");
    let (status, out, err) = apply.finish();
    assert!(status.success(), "stdout:\n{out}\nstderr:\n{err}");
    // Once the apply is done the watcher may act; it finds nothing to do.
    wait_event(&mut r, "leader_acquired", None);
    wait_metric(&addr, "tunnelform_leader 1");
    let all = stop(r);
    let count = |name: &str| all.iter().filter(|e| e["event"] == name).count();
    assert_eq!(count("follower"), 1, "{all:?}");
    assert_eq!(count("cycle_error"), 0, "{all:?}");
    assert_eq!(count("apply_started"), 0, "{all:?}");
    w.assert_no_changes(&[]);
}

fn reset_calls(sb: &SandboxProc) -> u64 {
    sb.stats()["requests"]["ResetVpnConnection"]
        .as_u64()
        .unwrap_or(0)
}

fn events(r: &Running, name: &str) -> Vec<J> {
    r.out
        .iter()
        .filter_map(|l| serde_json::from_str::<J>(l).ok())
        .filter(|e| e["event"] == name)
        .collect()
}

#[test]
fn a_tunnel_down_too_long_is_reset_once_and_comes_back() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("tunnel-one"));
    w.apply(&[]).success();
    let id = w.state_id(TUNNEL);
    let (mut r, addr) = start_every(&w, "200ms", &["--reset-down-after", "1s"]);
    wait_metric(
        &addr,
        &format!(r#"tunnelform_tunnel_up{{address="{TUNNEL}",id="{id}"}} 1"#),
    );
    assert_eq!(reset_calls(&sb), 0, "an up tunnel is not reset");

    set_status(&sb, &id, "UNAVAILABLE", "UNAVAILABLE");
    wait_event(&mut r, "tunnel_down", Some(TUNNEL));
    let e = wait_event(&mut r, "tunnel_reset", Some(TUNNEL));
    assert_eq!(e["id"], id.as_str(), "{e}");
    assert_eq!(e["outcome"], "success", "{e}");
    assert!(e["down_seconds"].as_f64().is_some_and(|s| s >= 1.0), "{e}");
    // The sandbox brings it back after the task latency.
    wait_event(&mut r, "tunnel_up", Some(TUNNEL));
    let body = wait_metric(
        &addr,
        &format!(r#"tunnelform_tunnel_up{{address="{TUNNEL}",id="{id}"}} 1"#),
    );
    assert!(
        body.contains(&format!(
            r#"tunnelform_tunnel_resets_total{{address="{TUNNEL}",id="{id}",outcome="success"}} 1"#
        )),
        "{body}"
    );
    let all = stop(r);
    let resets: Vec<&J> = all
        .iter()
        .filter(|e| e["event"] == "tunnel_reset")
        .collect();
    assert_eq!(resets.len(), 1, "{all:?}");
    assert_eq!(reset_calls(&sb), 1);
}

#[test]
fn a_tunnel_that_stays_down_is_reset_at_most_once_per_window() {
    let data = tempfile::tempdir().unwrap();
    let data_file = data.path().join("sandbox.json");
    let data_arg = data_file.to_str().unwrap();
    let ok = SandboxProc::start(20, &["--data", data_arg]);
    let mut w = Work::with_sandbox(&ok);
    w.config(&config("tunnel-one"));
    w.apply(&[]).success();
    let id = w.state_id(TUNNEL);
    drop(ok);
    // From now on the peer never answers a new negotiation: a reset leaves the tunnel down.
    let sb = SandboxProc::start(20, &["--data", data_arg, "--task-failure-rate", "1"]);
    w.endpoint = Some(sb.url.clone());
    set_status(&sb, &id, "UNAVAILABLE", "UNAVAILABLE");
    let (mut r, _addr) = start_every(&w, "200ms", &["--reset-down-after", "2s"]);
    wait_event(&mut r, "tunnel_reset", Some(TUNNEL));
    // Cycles go on seeing it down; the next reset waits a whole window.
    assert!(
        r.wait_for_count(2, |l| l.contains("\"tunnel_reset\"")),
        "no second reset; stdout:\n{}",
        r.out.join("\n")
    );
    let resets = events(&r, "tunnel_reset");
    let down = |e: &J| e["down_seconds"].as_f64().expect("down_seconds");
    assert!(down(&resets[0]) >= 2.0, "{resets:?}");
    assert!(
        down(&resets[1]) - down(&resets[0]) >= 2.0,
        "two resets within one window: {resets:?}"
    );
    let all = stop(r);
    let n = all.iter().filter(|e| e["event"] == "tunnel_reset").count() as u64;
    assert_eq!(reset_calls(&sb), n, "one call per reset event");
}
