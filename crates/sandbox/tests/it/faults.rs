//! Fault injection: kinds, commit semantics, reproducibility by seed.

use std::collections::BTreeSet;

use serde_json::json;
use tunnelform_sandbox::{FaultKind, FaultWeights, SandboxConfig};

use crate::common::*;

fn faulty(kind: FaultKind, actions: &[&str]) -> SandboxConfig {
    SandboxConfig {
        fault_rate: 1.0,
        fault_weights: FaultWeights::only(kind),
        fault_actions: Some(
            actions
                .iter()
                .map(|a| a.to_string())
                .collect::<BTreeSet<_>>(),
        ),
        ..config()
    }
}

async fn cgw_count(c: &Client) -> u64 {
    c.vpc("DescribeCustomerGateways", json!({})).await["TotalCount"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn drop_after_commit_keeps_the_change() {
    let (h, c) = start(faulty(
        FaultKind::DropAfterCommit,
        &[
            "CreateCustomerGateway",
            "ModifyVpnConnectionAttribute",
            "DeleteVpnConnection",
            "CreateVpnConnection",
        ],
    ))
    .await;
    let r = c
        .try_send(Req::vpc(
            "CreateCustomerGateway",
            json!({"CustomerGatewayName": "x", "IpAddress": "58.211.1.12"}),
        ))
        .await;
    assert!(r.is_err(), "the connection must be dropped: {r:?}");
    assert_eq!(cgw_count(&c).await, 1, "the create was committed");
    let cgw = c.vpc("DescribeCustomerGateways", json!({})).await["CustomerGatewaySet"][0]
        ["CustomerGatewayId"]
        .as_str()
        .unwrap()
        .to_string();
    let gw = c.create_gateway(VPC).await;

    // Create: the response is lost but the tunnel exists and its task runs.
    let r = c
        .try_send(Req::vpc(
            "CreateVpnConnection",
            json!({"VpnGatewayId": gw, "CustomerGatewayId": cgw, "VpnConnectionName": "lost", "PreShareKey": "k"}),
        ))
        .await;
    assert!(r.is_err());
    let found = c
        .vpc(
            "DescribeVpnConnections",
            json!({"Filters": [{"Name": "vpn-connection-name", "Values": ["lost"]}]}),
        )
        .await;
    assert_eq!(found["TotalCount"], 1);
    let id = found["VpnConnectionSet"][0]["VpnConnectionId"]
        .as_str()
        .unwrap()
        .to_string();
    loop {
        if c.describe_conn(&id).await.unwrap()["State"] == "AVAILABLE" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    // Modify: lost response, change applied.
    let r = c
        .try_send(Req::vpc(
            "ModifyVpnConnectionAttribute",
            json!({"VpnConnectionId": id, "VpnConnectionName": "renamed"}),
        ))
        .await;
    assert!(r.is_err());
    assert_eq!(
        c.describe_conn(&id).await.unwrap()["VpnConnectionName"],
        "renamed"
    );

    // Delete: lost response, deletion under way.
    let r = c
        .try_send(Req::vpc(
            "DeleteVpnConnection",
            json!({"VpnGatewayId": gw, "VpnConnectionId": id}),
        ))
        .await;
    assert!(r.is_err());
    loop {
        match c.describe_conn(&id).await {
            None => break,
            Some(d) => assert_eq!(d["State"], "DELETING"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(h.stats().faults.get("DropAfterCommit"), Some(&4));
}

#[tokio::test]
async fn drop_before_commit_changes_nothing() {
    let (_h, c) = start(faulty(
        FaultKind::DropBeforeCommit,
        &["CreateCustomerGateway"],
    ))
    .await;
    let r = c
        .try_send(Req::vpc(
            "CreateCustomerGateway",
            json!({"CustomerGatewayName": "x", "IpAddress": "58.211.1.12"}),
        ))
        .await;
    assert!(r.is_err());
    assert_eq!(cgw_count(&c).await, 0);
}

#[tokio::test]
async fn internal_error_and_503_change_nothing() {
    let (h, c) = start(faulty(FaultKind::InternalError, &["CreateCustomerGateway"])).await;
    assert_eq!(
        c.vpc_err(
            "CreateCustomerGateway",
            json!({"CustomerGatewayName": "x", "IpAddress": "58.211.1.12"})
        )
        .await,
        "InternalError"
    );
    assert_eq!(cgw_count(&c).await, 0);
    assert_eq!(h.stats().errors_for("InternalError"), 1);

    let (_h, c) = start(faulty(FaultKind::Http503, &["CreateCustomerGateway"])).await;
    let r = c
        .send(Req::vpc(
            "CreateCustomerGateway",
            json!({"CustomerGatewayName": "x", "IpAddress": "58.211.1.12"}),
        ))
        .await;
    assert_eq!(r.status, 503);
    assert_eq!(cgw_count(&c).await, 0);
}

/// The outcome of each of `n` calls: "ok", an error code, "503" or "dropped".
async fn outcomes(seed: u64, n: usize) -> (Vec<String>, Vec<String>) {
    let config = SandboxConfig {
        fault_rate: 0.5,
        seed: Some(seed),
        ..config()
    };
    let (_h, c) = start(config).await;
    let mut out = Vec::new();
    let mut ids = Vec::new();
    for i in 0..n {
        let r = c
            .try_send(Req::vpc(
                "CreateCustomerGateway",
                json!({"CustomerGatewayName": "x", "IpAddress": format!("58.211.3.{}", i + 1)}),
            ))
            .await;
        out.push(match r {
            Err(_) => "dropped".to_string(),
            Ok(r) if r.status == 503 => "503".to_string(),
            Ok(r) => match r.error_code() {
                Some(code) => code.to_string(),
                None => {
                    ids.push(
                        r.response()["CustomerGateway"]["CustomerGatewayId"]
                            .as_str()
                            .unwrap()
                            .to_string(),
                    );
                    "ok".to_string()
                }
            },
        });
    }
    (out, ids)
}

#[tokio::test]
async fn faults_are_reproducible_by_seed() {
    let (a, ids_a) = outcomes(42, 16).await;
    let (b, ids_b) = outcomes(42, 16).await;
    assert_eq!(a, b);
    assert_eq!(ids_a, ids_b, "ids come from the seed too");
    let kinds: BTreeSet<&str> = a.iter().map(String::as_str).collect();
    assert!(kinds.contains("ok") && kinds.len() >= 3, "{a:?}");
    let (c, _) = outcomes(43, 16).await;
    assert_ne!(a, c, "another seed gives another sequence");
}
