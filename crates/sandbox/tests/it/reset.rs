//! ResetVpnConnection: the tunnel renegotiates for the task latency and comes back AVAILABLE; the
//! page's error codes; no task to poll; persistence and injected task failures.

use std::time::Duration;

use serde_json::{json, Value};
use tunnelform_sandbox::SandboxConfig;

use crate::common::*;

/// Sets a tunnel's NetStatus through the loopback control endpoint (as the peer going down would).
async fn set_down(c: &Client, id: &str) {
    let r = c
        .http
        .post(format!(
            "{}/_sandbox/connection-status?id={id}&net_status=UNAVAILABLE",
            c.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn net_status(c: &Client, id: &str) -> (String, String) {
    let d = c.describe_conn(id).await.expect("the tunnel");
    (
        d["State"].as_str().unwrap().to_string(),
        d["NetStatus"].as_str().unwrap().to_string(),
    )
}

async fn wait_up(c: &Client, id: &str) {
    for _ in 0..500 {
        if net_status(c, id).await.1 == "AVAILABLE" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{id} never came back AVAILABLE");
}

fn reset(gw: &str, id: &str) -> Value {
    json!({"VpnGatewayId": gw, "VpnConnectionId": id})
}

#[tokio::test]
async fn a_reset_brings_a_down_tunnel_back_after_the_task_latency() {
    let (h, c) = start_default().await;
    let gw = c.create_gateway(VPC).await;
    let cgw = c.create_cgw("58.211.1.12").await;
    let id = c.create_conn(&gw, &cgw, json!({})).await;
    set_down(&c, &id).await;
    assert_eq!(
        net_status(&c, &id).await,
        ("AVAILABLE".into(), "UNAVAILABLE".into())
    );
    let r = c.vpc("ResetVpnConnection", reset(&gw, &id)).await;
    // Only a request id; it is no task id.
    let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["RequestId"], "{r}");
    assert_eq!(
        c.vpc_err(
            "DescribeVpcTaskResult",
            json!({"TaskId": r["RequestId"].as_str().unwrap()})
        )
        .await,
        "ResourceNotFound"
    );
    wait_up(&c, &id).await;
    assert_eq!(net_status(&c, &id).await.0, "AVAILABLE");
    assert_eq!(h.stats().requests_for("ResetVpnConnection"), 1);
}

#[tokio::test]
async fn reset_answers_the_codes_of_its_page() {
    let (_h, c) = start_default().await;
    let gw = c.create_gateway(VPC).await;
    let gw2 = c.create_gateway(VPC).await;
    let cgw = c.create_cgw("58.211.1.12").await;
    let id = c.create_conn(&gw, &cgw, json!({})).await;
    for (body, code) in [
        (reset("vpngw", &id), "InvalidParameterValue.Malformed"),
        (reset(&gw, "vpnx-"), "InvalidParameterValue.Malformed"),
        (reset("vpngw-00000000", &id), "ResourceNotFound"),
        (reset(&gw, "vpnx-00000000"), "ResourceNotFound"),
        // A tunnel of another gateway.
        (reset(&gw2, &id), "ResourceNotFound"),
        (json!({"VpnGatewayId": gw}), "MissingParameter"),
    ] {
        assert_eq!(
            c.vpc_err("ResetVpnConnection", body.clone()).await,
            code,
            "{body}"
        );
    }
    // Nothing was reset by the failed calls.
    assert_eq!(net_status(&c, &id).await.1, "AVAILABLE");
}

#[tokio::test]
async fn a_tunnel_being_created_cannot_be_reset() {
    let (_h, c, gw, cgw, _dir) = start_slow().await;
    let (id, _task) = c.start_conn(&gw, &cgw, json!({})).await;
    assert_eq!(
        c.vpc_err("ResetVpnConnection", reset(&gw, &id)).await,
        "UnsupportedOperation.VpnConnInvalidState"
    );
}

/// A data file holding one AVAILABLE tunnel, made by a fast sandbox: (gateway, tunnel, dir).
async fn world_with_a_tunnel() -> (String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (h, c) = start(SandboxConfig {
        data_file: Some(dir.path().join("sandbox.json")),
        ..config()
    })
    .await;
    let gw = c.create_gateway(VPC).await;
    let cgw = c.create_cgw("58.211.1.12").await;
    let id = c.create_conn(&gw, &cgw, json!({})).await;
    h.shutdown().await.unwrap();
    (gw, id, dir)
}

#[tokio::test]
async fn a_reset_in_progress_survives_a_restart() {
    let (gw, id, dir) = world_with_a_tunnel().await;
    let path = dir.path().join("sandbox.json");
    let slow = || SandboxConfig {
        data_file: Some(path.clone()),
        task_latency: Duration::from_secs(600),
        ..config()
    };
    let (h, c) = start(slow()).await;
    c.vpc("ResetVpnConnection", reset(&gw, &id)).await;
    assert_eq!(net_status(&c, &id).await.1, "UNAVAILABLE");
    h.shutdown().await.unwrap();
    // Restarted before the reset's end: still renegotiating.
    let (h, c) = start(slow()).await;
    assert_eq!(net_status(&c, &id).await.1, "UNAVAILABLE");
    h.shutdown().await.unwrap();
    // The sandbox was down past the reset's end: it completes on load.
    let mut stored: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let tasks = stored["Tasks"].as_array_mut().unwrap();
    let t = tasks
        .iter_mut()
        .find(|t| t["Kind"] == "ResetVpnConnection")
        .expect("the reset is stored");
    t["DeadlineMs"] = json!(1_000);
    std::fs::write(&path, serde_json::to_vec(&stored).unwrap()).unwrap();
    let (_h, c) = start(slow()).await;
    assert_eq!(
        net_status(&c, &id).await,
        ("AVAILABLE".into(), "AVAILABLE".into())
    );
}

#[tokio::test]
async fn an_injected_task_failure_leaves_the_tunnel_down() {
    let (gw, id, dir) = world_with_a_tunnel().await;
    let (_h, c) = start(SandboxConfig {
        data_file: Some(dir.path().join("sandbox.json")),
        task_failure_rate: 1.0,
        ..config()
    })
    .await;
    c.vpc("ResetVpnConnection", reset(&gw, &id)).await;
    // Well past the 50 ms latency.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        net_status(&c, &id).await,
        ("AVAILABLE".into(), "UNAVAILABLE".into())
    );
}
