//! The client's rate limiting against the sandbox's enforcement, in-process over loopback.
//!
//! - A sandbox enforcing a low limit and a client configured above it: the client sees
//!   `RequestLimitExceeded`, retries (reads, and writes, which the server provably did not act on) until they
//!   succeed, and slows its own limiter down.
//! - Both sides at the documented limits: a burst of `DescribeVpcTaskResult` calls (20/s) never meets
//!   `RequestLimitExceeded`.
//!
//! These tests depend on wall-clock pacing, so they run one at a time (a shared lock), in their own binary.

use std::time::Duration;

use futures::future::join_all;
use tunnelform_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use tunnelform_tencent_api::actions::*;
use tunnelform_tencent_api::vpc::*;
use tunnelform_tencent_api::*;

const SECRET_ID: &str = "AKIDitest";
const SECRET_KEY: &str = "itest-secret-key";
const REGION: &str = "ap-guangzhou";
const VPC: &str = "vpc-sandbox1";

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn sandbox_config() -> SandboxConfig {
    SandboxConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        credentials: Credentials::new(SECRET_ID, SECRET_KEY, None),
        task_latency: Duration::from_millis(50),
        seed: Some(11),
        ..SandboxConfig::default()
    }
}

async fn start(config: SandboxConfig) -> SandboxHandle {
    Sandbox::start(config).await.expect("the sandbox starts")
}

fn client_with(h: &SandboxHandle, f: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut c = ClientConfig::new(Credentials::new(SECRET_ID, SECRET_KEY, None))
        .with_endpoint(&h.url())
        .unwrap();
    f(&mut c);
    Client::new(c).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_server_limit_the_client_retries_and_adapts() {
    let _serial = SERIAL.lock().await;
    let mut config = sandbox_config();
    config
        .rate_limits
        .per_action
        .insert("DescribeVpnConnections".into(), 5);
    config
        .rate_limits
        .per_action
        .insert("CreateCustomerGateway".into(), 3);
    let h = start(config).await;
    // The client believes both actions allow 20/s. More attempts than the default so that no call can
    // exhaust its retries inside one saturated second, whatever the jitter draws.
    let c = client_with(&h, |c| {
        c.rate_limits = RateLimits::default()
            .with("DescribeVpnConnections", 20.0)
            .with("CreateCustomerGateway", 20.0);
        c.retry = RetryPolicy {
            max_attempts: 12,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(800),
            ..RetryPolicy::default()
        };
    });
    assert_eq!(c.current_rate_limit::<DescribeVpnConnections>(REGION), 19.0);

    // Reads: 15 concurrent calls against 5/s.
    let reads = join_all((0..15).map(|_| {
        let c = c.clone();
        async move {
            c.call::<DescribeVpnConnections>(REGION, &Default::default())
                .await
        }
    }))
    .await;
    for r in &reads {
        assert_eq!(r.as_ref().unwrap().total_count, 0);
    }
    let m = c.metrics();
    let s = h.stats();
    let limited = s.errors_for("RequestLimitExceeded");
    assert!(
        m.request_limit_exceeded > 0,
        "the client met the server limit"
    );
    assert_eq!(m.request_limit_exceeded, limited);
    assert_eq!(m.errors_of("RequestLimitExceeded"), limited);
    assert_eq!(m.calls_of("DescribeVpnConnections"), 15 + limited);
    assert_eq!(s.requests_for("DescribeVpnConnections"), 15 + limited);
    assert_eq!(
        m.retries.get("DescribeVpnConnections").copied(),
        Some(limited)
    );
    // The limiter slowed down (it recovers over ~10 s).
    let rate = c.current_rate_limit::<DescribeVpnConnections>(REGION);
    assert!(rate < 19.0, "adapted rate {rate}");
    // ...other actions are unaffected.
    assert_eq!(c.current_rate_limit::<DescribeVpnGateways>(REGION), 285.0);

    // Writes: RequestLimitExceeded proves the server did not act, so a create is retried, and each
    // customer gateway exists exactly once.
    let before = h.stats();
    let creates = join_all((0..6).map(|i| {
        let c = c.clone();
        async move {
            c.call::<CreateCustomerGateway>(
                REGION,
                &CreateCustomerGatewayRequest {
                    customer_gateway_name: format!("c{i}"),
                    ip_address: format!("58.211.4.{}", i + 1),
                    ..Default::default()
                },
            )
            .await
        }
    }))
    .await;
    for r in &creates {
        assert!(r.is_ok(), "{r:?}");
    }
    let after = h.stats();
    let limited_writes =
        after.errors_for("RequestLimitExceeded") - before.errors_for("RequestLimitExceeded");
    assert!(limited_writes > 0);
    assert_eq!(
        after.requests_for("CreateCustomerGateway"),
        6 + limited_writes
    );
    // Duplicates would have been refused (same IP) and counted as errors: there are none.
    assert_eq!(after.errors.len(), 1, "{:?}", after.errors);
    let all = c
        .describe_customer_gateways_by_filters(REGION, &[])
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
    assert!(c.current_rate_limit::<CreateCustomerGateway>(REGION) < 19.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_documented_limits_a_burst_never_meets_request_limit_exceeded() {
    let _serial = SERIAL.lock().await;
    // Both sides at their defaults: the documented limits (DescribeVpcTaskResult: 20/s).
    let h = start(sandbox_config()).await;
    let c = client_with(&h, |_| {});

    // A task to ask about.
    let gw = c
        .call::<CreateVpnGateway>(
            REGION,
            &CreateVpnGatewayRequest {
                vpc_id: VPC.into(),
                vpn_gateway_name: "gw".into(),
                internet_max_bandwidth_out: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .vpn_gateway;
    let cgw = c
        .call::<CreateCustomerGateway>(
            REGION,
            &CreateCustomerGatewayRequest {
                customer_gateway_name: "c".into(),
                ip_address: "58.211.1.1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .customer_gateway;
    let task = loop {
        let r = c
            .call::<CreateVpnConnection>(
                REGION,
                &CreateVpnConnectionRequest {
                    vpn_gateway_id: gw.vpn_gateway_id.clone(),
                    customer_gateway_id: cgw.customer_gateway_id.clone(),
                    vpn_connection_name: "t".into(),
                    pre_share_key: Secret::new("psk"),
                    ..Default::default()
                },
            )
            .await;
        match r {
            Ok(r) => break r.request_id,
            // The new gateway is PENDING for 50 ms.
            Err(e) if e.code() == Some(&ErrorCode::UnsupportedOperationInvalidState) => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("{e}"),
        }
    };

    // 60 concurrent polls of one task, e.g. 60 waiters: paced to under 20/s by the client.
    let polls = join_all((0..60).map(|_| {
        let c = c.clone();
        let task = task.clone();
        async move {
            c.call::<DescribeVpcTaskResult>(REGION, &DescribeVpcTaskResultRequest { task_id: task })
                .await
        }
    }))
    .await;
    for p in &polls {
        assert!(
            matches!(
                p.as_ref().map(|r| r.status.as_str()),
                Ok("RUNNING" | "SUCCESS")
            ),
            "{p:?}"
        );
    }
    let m = c.metrics();
    assert_eq!(m.request_limit_exceeded, 0);
    assert_eq!(m.errors_of("RequestLimitExceeded"), 0);
    assert_eq!(m.calls_of("DescribeVpcTaskResult"), 60);
    assert_eq!(m.total_retries(), 0);
    assert!(
        m.limiter_wait > Duration::ZERO,
        "the limiter paced the burst"
    );
    let s = h.stats();
    assert_eq!(s.requests_for("DescribeVpcTaskResult"), 60);
    assert_eq!(s.errors_for("RequestLimitExceeded"), 0);
    assert_eq!(c.current_rate_limit::<DescribeVpcTaskResult>(REGION), 19.0);
}
