//! The batched watcher against the real sandbox (in-process, 127.0.0.1:0): new VPN gateways, PENDING for
//! the task latency, are all seen AVAILABLE through shared describes while more keep being registered.
//! (The in-flight race itself is unit-tested in `watch.rs`: loopback describes are too quick to hit it
//! reliably here.)

use std::time::Duration;

use tunnelform_apply::watch::{Settled, Watcher};
use tunnelform_kinds::ResourceKind;
use tunnelform_sandbox::{Sandbox, SandboxConfig};
use tunnelform_tencent_api::actions::CreateVpnGateway;
use tunnelform_tencent_api::vpc::CreateVpnGatewayRequest;
use tunnelform_tencent_api::{Client, ClientConfig, Credentials};

const REGION: &str = "ap-guangzhou";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateways_created_while_a_describe_is_in_flight_all_become_available() {
    let sandbox = Sandbox::start(SandboxConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        credentials: Credentials::new("AKIDwatch", "watch-secret", None),
        task_latency: Duration::from_millis(300),
        seed: Some(5),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = Client::new(
        ClientConfig::new(Credentials::new("AKIDwatch", "watch-secret", None))
            .with_endpoint(&sandbox.url())
            .unwrap(),
    )
    .unwrap();
    let watcher = Watcher::new(client.clone(), Duration::from_secs(20));
    // Staggered creates (the client spaces CreateVpnGateway at its 20/s limit anyway): waiters keep
    // arriving during the watcher's describes.
    let mut tasks = Vec::new();
    for i in 0..9u64 {
        let (client, watcher) = (client.clone(), watcher.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(i * 41)).await;
            let gw = client
                .call::<CreateVpnGateway>(
                    REGION,
                    &CreateVpnGatewayRequest {
                        vpc_id: "vpc-sandbox1".into(),
                        vpn_gateway_name: format!("gw-{i}"),
                        internet_max_bandwidth_out: 5,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .vpn_gateway;
            let id = gw.vpn_gateway_id;
            match watcher
                .wait_available(REGION, ResourceKind::VpnGateway, &id)
                .await
            {
                Settled::Available(o) => {
                    assert_eq!(o.id, id);
                    assert_eq!(
                        o.attrs.get("state").and_then(|v| v.as_str()),
                        Some("AVAILABLE")
                    );
                }
                other => panic!("{id}: {other:?}"),
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    sandbox.shutdown().await.unwrap();
}

/// A wait that is dropped (its step cancelled) is not described any more: the region's loop drops
/// the waiter at its next describe and stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_wait_is_not_described_any_more() {
    let sandbox = Sandbox::start(SandboxConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        credentials: Credentials::new("AKIDwatch", "watch-secret", None),
        // The gateway stays PENDING for the whole test.
        task_latency: Duration::from_secs(60),
        seed: Some(6),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = Client::new(
        ClientConfig::new(Credentials::new("AKIDwatch", "watch-secret", None))
            .with_endpoint(&sandbox.url())
            .unwrap(),
    )
    .unwrap();
    let watcher = Watcher::new(client.clone(), Duration::from_secs(120));
    let id = client
        .call::<CreateVpnGateway>(
            REGION,
            &CreateVpnGatewayRequest {
                vpc_id: "vpc-sandbox1".into(),
                vpn_gateway_name: "gw-dropped".into(),
                internet_max_bandwidth_out: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .vpn_gateway
        .vpn_gateway_id;
    let describes = || client.metrics().calls_of("DescribeVpnGateways");
    let wait = watcher.wait_available(REGION, ResourceKind::VpnGateway, &id);
    assert!(
        tokio::time::timeout(Duration::from_millis(600), wait)
            .await
            .is_err(),
        "still PENDING"
    );
    let at_drop = describes();
    assert!(at_drop >= 2, "the wait described the gateway: {at_drop}");
    // Polled every 125 ms while waited for; one describe may be in flight at the drop.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let later = describes();
    assert!(
        later <= at_drop + 2,
        "{} describes after the wait was dropped",
        later - at_drop
    );
    sandbox.shutdown().await.unwrap();
}
