//! Fixtures shared by the sandbox test binaries: a sandbox on 127.0.0.1:0 with 50 ms tasks and the
//! documented rate limits, clients for it, and helpers that create objects and wait for them.
#![allow(dead_code)]

use std::time::Duration;

use tunnelform_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use tunnelform_tencent_api::actions::*;
use tunnelform_tencent_api::vpc::*;
use tunnelform_tencent_api::*;

pub const SECRET_ID: &str = "AKIDitest";
pub const SECRET_KEY: &str = "itest-secret-key";
pub const REGION: &str = "ap-guangzhou";
pub const VPC: &str = "vpc-sandbox1";
pub const UIN: &str = tunnelform_sandbox::DEFAULT_UIN;

// ---------------------------------------------------------------------------------------------------------
// Fixtures

pub fn sandbox_config() -> SandboxConfig {
    SandboxConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        credentials: Credentials::new(SECRET_ID, SECRET_KEY, None),
        task_latency: Duration::from_millis(50),
        seed: Some(11),
        uin: Some(UIN.to_string()),
        ..SandboxConfig::default()
    }
}

pub async fn start(config: SandboxConfig) -> SandboxHandle {
    Sandbox::start(config).await.expect("the sandbox starts")
}

pub fn client_config(h: &SandboxHandle) -> ClientConfig {
    ClientConfig::new(Credentials::new(SECRET_ID, SECRET_KEY, None))
        .with_endpoint(&h.url())
        .unwrap()
}

pub fn client(h: &SandboxHandle) -> Client {
    Client::new(client_config(h)).unwrap()
}

pub fn client_with(h: &SandboxHandle, f: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut c = client_config(h);
    f(&mut c);
    Client::new(c).unwrap()
}

/// Retries as the default policy says, but with short delays (for tests whose errors are retried).
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

pub fn fast_wait() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(10),
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    }
}

pub fn tag(k: &str, v: &str) -> Tag {
    Tag {
        key: k.into(),
        value: v.into(),
    }
}

pub fn filter(name: &str, values: &[&str]) -> Filter {
    Filter {
        name: name.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

pub fn spd(local: &str, remote: &[&str]) -> SecurityPolicyDatabase {
    SecurityPolicyDatabase {
        local_cidr_block: local.into(),
        remote_cidr_block: remote.iter().map(|r| r.to_string()).collect(),
    }
}

/// The API error code of a failed call (panics when the call did not fail with an API error).
pub fn code<T: std::fmt::Debug>(r: Result<T, ApiError>) -> ErrorCode {
    match r {
        Ok(v) => panic!("expected an API error, got {v:?}"),
        Err(e) => e
            .code()
            .cloned()
            .unwrap_or_else(|| panic!("expected an API error code, got {e}")),
    }
}

pub async fn create_gateway(c: &Client, name: &str) -> VpnGateway {
    create_gateway_in(c, VPC, name).await
}

pub async fn create_gateway_in(c: &Client, vpc: &str, name: &str) -> VpnGateway {
    c.call::<CreateVpnGateway>(
        REGION,
        &CreateVpnGatewayRequest {
            vpc_id: vpc.into(),
            vpn_gateway_name: name.into(),
            internet_max_bandwidth_out: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .vpn_gateway
}

/// Polls until the gateway is AVAILABLE (new gateways are PENDING for the task latency).
pub async fn wait_available(c: &Client, id: &str) -> VpnGateway {
    for _ in 0..500 {
        let mut gws = c
            .describe_vpn_gateways_by_ids(REGION, &[id.to_string()])
            .await
            .unwrap();
        assert_eq!(gws.len(), 1, "gateway {id} is described");
        if gws[0].state == "AVAILABLE" {
            return gws.remove(0);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("gateway {id} never became AVAILABLE");
}

pub async fn ready_gateway(c: &Client, name: &str) -> VpnGateway {
    let g = create_gateway(c, name).await;
    wait_available(c, &g.vpn_gateway_id).await
}

pub async fn create_cgw(c: &Client, name: &str, ip: &str, asn: Option<i64>) -> CustomerGateway {
    c.call::<CreateCustomerGateway>(
        REGION,
        &CreateCustomerGatewayRequest {
            customer_gateway_name: name.into(),
            ip_address: ip.into(),
            bgp_asn: asn,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .customer_gateway
}

pub fn tunnel_req(gw: &str, cgw: &str, name: &str) -> CreateVpnConnectionRequest {
    CreateVpnConnectionRequest {
        vpn_gateway_id: gw.into(),
        customer_gateway_id: cgw.into(),
        vpn_connection_name: name.into(),
        pre_share_key: Secret::new(format!("psk-{name}")),
        ..Default::default()
    }
}

/// Creates a tunnel and waits for its task; returns the AVAILABLE connection as described.
pub async fn ready_tunnel(c: &Client, req: CreateVpnConnectionRequest) -> VpnConnection {
    let resp = c.call::<CreateVpnConnection>(REGION, &req).await.unwrap();
    let outcome = c
        .wait_task(REGION, &resp.request_id, fast_wait())
        .await
        .unwrap();
    assert!(outcome.is_success(), "{outcome:?}");
    describe_one(c, &resp.vpn_connection.vpn_connection_id).await
}

pub async fn describe_one(c: &Client, id: &str) -> VpnConnection {
    let mut v = c
        .describe_vpn_connections_by_ids(REGION, &[id.to_string()])
        .await
        .unwrap();
    assert_eq!(v.len(), 1, "connection {id} is described");
    v.remove(0)
}

pub fn is_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|r| {
            r.len() == 8
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}
