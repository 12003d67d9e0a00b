//! The batched watcher against the real sandbox (in-process, 127.0.0.1:0): new VPN gateways, PENDING for
//! the task latency, are all seen AVAILABLE through shared describes while more keep being registered.
//! (The in-flight race itself is unit-tested in `watch.rs`: loopback describes are too quick to hit it
//! reliably here.)

use std::time::Duration;

use tunnelform_kinds::ResourceKind;
use tunnelform_apply::watch::{Settled, Watcher};
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
