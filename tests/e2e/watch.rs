//! `tunnelform watch`: drift made through the API appears as an event and in `/metrics`, and
//! clears when `--auto-apply` heals it; configuration changed on disk shows as a pending change;
//! SIGTERM stops the watcher with exit code 0.

use std::io::{Read, Write};
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
fn get(addr: &str, path: &str) -> (u16, String) {
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
fn wait_event(r: &mut Running, name: &str, address: Option<&str>) -> J {
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
fn wait_metric(addr: &str, line: &str) -> String {
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

fn stop(r: Running) -> Vec<J> {
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
