//! The real client against the real sandbox with injected faults (fixed seeds) and across restarts with a
//! data file: reads survive faults through retries, a write is never sent twice, an answer lost after the
//! change was committed surfaces as `ErrorKind::OutcomeUnknown`, and a restarted sandbox resumes its
//! resources and pending tasks.

use std::collections::BTreeSet;
use std::time::Duration;

use tunnelform_sandbox::{FaultKind, FaultWeights, Sandbox, SandboxConfig, SandboxHandle};
use tunnelform_tencent_api::actions::*;
use tunnelform_tencent_api::vpc::*;
use tunnelform_tencent_api::*;

const SECRET_ID: &str = "AKIDitest";
const SECRET_KEY: &str = "itest-secret-key";
const REGION: &str = "ap-guangzhou";
const VPC: &str = "vpc-sandbox1";

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

/// The default retry policy with short delays (the bounds, not the delays, decide the outcomes here).
fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(10),
        ..RetryPolicy::default()
    }
}

fn client(h: &SandboxHandle) -> Client {
    let mut c = ClientConfig::new(Credentials::new(SECRET_ID, SECRET_KEY, None))
        .with_endpoint(&h.url())
        .unwrap();
    c.retry = fast_retry();
    Client::new(c).unwrap()
}

fn fast_wait() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(10),
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    }
}

fn tag(k: &str, v: &str) -> Tag {
    Tag {
        key: k.into(),
        value: v.into(),
    }
}

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter {
        name: name.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn faults_only(config: SandboxConfig, rate: f64, actions: &[&str]) -> SandboxConfig {
    SandboxConfig {
        fault_rate: rate,
        fault_actions: Some(actions.iter().map(|a| a.to_string()).collect()),
        ..config
    }
}

async fn create_gateway(c: &Client, name: &str) -> VpnGateway {
    c.call::<CreateVpnGateway>(
        REGION,
        &CreateVpnGatewayRequest {
            vpc_id: VPC.into(),
            vpn_gateway_name: name.into(),
            internet_max_bandwidth_out: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .vpn_gateway
}

async fn wait_available(c: &Client, id: &str) -> VpnGateway {
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

async fn create_cgw(c: &Client, name: &str, ip: &str) -> CustomerGateway {
    c.call::<CreateCustomerGateway>(
        REGION,
        &CreateCustomerGatewayRequest {
            customer_gateway_name: name.into(),
            ip_address: ip.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .customer_gateway
}

fn tunnel_req(gw: &str, cgw: &str, name: &str) -> CreateVpnConnectionRequest {
    CreateVpnConnectionRequest {
        vpn_gateway_id: gw.into(),
        customer_gateway_id: cgw.into(),
        vpn_connection_name: name.into(),
        pre_share_key: Secret::new(format!("psk-{name}")),
        ..Default::default()
    }
}

async fn tunnels_on(c: &Client, gw: &str) -> Vec<VpnConnection> {
    c.describe_vpn_connections_by_filters(REGION, &[filter("vpn-gateway-id", &[gw])])
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------------------------
// Faults

/// Fault rate 0.3 on the reads and on CreateVpnConnection, fixed seed. Everything is sequential and tasks
/// finish at once (latency 0), so the sandbox sees the same request sequence, hence the same faults, on
/// every run.
#[tokio::test]
async fn reads_survive_faults_and_a_create_is_never_sent_twice() {
    let h = start(faults_only(
        SandboxConfig {
            task_latency: Duration::ZERO,
            rate_limits: tunnelform_sandbox::RateLimits::unlimited(),
            seed: Some(20_240_601),
            ..sandbox_config()
        },
        0.3,
        &[
            "CreateVpnConnection",
            "DescribeVpnConnections",
            "DescribeVpnGateways",
            "DescribeCustomerGateways",
            "DescribeVpcTaskResult",
        ],
    ))
    .await;
    let c = client(&h);
    let gw = create_gateway(&c, "gw").await;
    let mut cgws = Vec::new();
    for i in 0..12 {
        cgws.push(create_cgw(&c, &format!("c{i}"), &format!("58.211.3.{}", i + 1)).await);
    }
    // Reads: every one succeeds, through retries.
    for _ in 0..10 {
        let g = c
            .describe_vpn_gateways_by_ids(REGION, std::slice::from_ref(&gw.vpn_gateway_id))
            .await
            .unwrap();
        assert_eq!(g[0].state, "AVAILABLE");
        let all = c
            .describe_customer_gateways_by_filters(REGION, &[])
            .await
            .unwrap();
        assert_eq!(all.len(), 12);
    }

    let before = h.stats();
    let mut succeeded = Vec::new();
    let mut unknown = 0;
    let mut internal = 0;
    for (i, cgw) in cgws.iter().enumerate() {
        let req = tunnel_req(
            &gw.vpn_gateway_id,
            &cgw.customer_gateway_id,
            &format!("t{i}"),
        );
        match c.call::<CreateVpnConnection>(REGION, &req).await {
            Ok(r) => succeeded.push(r),
            Err(e) => {
                assert_eq!(e.attempts, 1, "a failed create is not retried: {e}");
                match &e.kind {
                    ErrorKind::OutcomeUnknown { .. } => unknown += 1,
                    ErrorKind::Api { code, .. } if code.is_internal_error() => internal += 1,
                    other => panic!("unexpected failure {other:?}"),
                }
            }
        }
    }
    let after = h.stats();
    let fault = |s: &tunnelform_sandbox::SandboxStats, k: FaultKind| {
        s.faults.get(k.name()).copied().unwrap_or(0)
    };
    let delta = |k| fault(&after, k) - fault(&before, k);
    // Every create reached the sandbox exactly once.
    assert_eq!(
        after.requests_for("CreateVpnConnection") - before.requests_for("CreateVpnConnection"),
        12
    );
    assert_eq!(c.metrics().calls_of("CreateVpnConnection"), 12);
    assert_eq!(c.metrics().retries.get("CreateVpnConnection"), None);
    assert_eq!(
        unknown,
        delta(FaultKind::Http503)
            + delta(FaultKind::DropBeforeCommit)
            + delta(FaultKind::DropAfterCommit)
    );
    assert_eq!(internal, delta(FaultKind::InternalError));
    assert_eq!(succeeded.len() as u64 + unknown + internal, 12);
    assert!(
        unknown + internal > 0,
        "the seed injects faults into creates"
    );
    // This seed loses the answer of some creates after commit and of others before it.
    assert!(
        delta(FaultKind::DropAfterCommit) > 0,
        "seed exercises DropAfterCommit"
    );
    assert!(
        delta(FaultKind::DropBeforeCommit) + delta(FaultKind::Http503) > 0,
        "seed exercises an uncommitted create"
    );

    // The tunnels that exist: the acknowledged creates plus the ones whose answer was lost after commit.
    let existing = tunnels_on(&c, &gw.vpn_gateway_id).await;
    assert_eq!(
        existing.len() as u64,
        succeeded.len() as u64 + delta(FaultKind::DropAfterCommit)
    );
    let existing_ids: BTreeSet<_> = existing
        .iter()
        .map(|t| t.vpn_connection_id.clone())
        .collect();
    for r in &succeeded {
        assert!(existing_ids.contains(&r.vpn_connection.vpn_connection_id));
        // Tasks of acknowledged creates complete (the waiter's polls retry through faults too).
        let outcome = c
            .wait_task(REGION, &r.request_id, fast_wait())
            .await
            .unwrap();
        assert!(outcome.is_success(), "{outcome:?}");
    }

    let m = c.metrics();
    assert!(m.total_retries() > 0, "faults were retried");
    assert!(m.errors_of("OutcomeUnknown") + m.errors_of("InternalError") > 0);
    // The client's attempts match what the sandbox counted, action by action.
    let s = h.stats();
    for (action, n) in &m.calls {
        assert_eq!(s.requests_for(action), *n, "{action}");
    }
}

/// Each fault kind on a create, alone and certain: what the caller sees and what the sandbox holds.
#[tokio::test]
async fn each_fault_on_a_create_surfaces_as_its_kind() {
    for (kind, exists) in [
        (FaultKind::DropAfterCommit, true),
        (FaultKind::DropBeforeCommit, false),
        (FaultKind::Http503, false),
        (FaultKind::InternalError, false),
    ] {
        let h = start(SandboxConfig {
            fault_weights: FaultWeights::only(kind),
            ..faults_only(sandbox_config(), 1.0, &["CreateVpnConnection"])
        })
        .await;
        let c = client(&h);
        let gw = create_gateway(&c, "gw").await;
        let cgw = create_cgw(&c, "c", "58.211.1.1").await;
        wait_available(&c, &gw.vpn_gateway_id).await;

        let e = c
            .call::<CreateVpnConnection>(
                REGION,
                &tunnel_req(&gw.vpn_gateway_id, &cgw.customer_gateway_id, "t"),
            )
            .await
            .unwrap_err();
        assert_eq!(e.attempts, 1, "{kind:?}: never re-sent");
        assert_eq!(h.stats().requests_for("CreateVpnConnection"), 1, "{kind:?}");
        match kind {
            FaultKind::InternalError => {
                assert_eq!(e.code(), Some(&ErrorCode::InternalError));
                assert!(!e.is_outcome_unknown());
            }
            FaultKind::Http503 => {
                assert!(
                    matches!(
                        e.kind,
                        ErrorKind::OutcomeUnknown {
                            http_status: Some(503),
                            ..
                        }
                    ),
                    "{e}"
                );
            }
            _ => {
                assert!(
                    matches!(
                        e.kind,
                        ErrorKind::OutcomeUnknown {
                            http_status: None,
                            ..
                        }
                    ),
                    "{kind:?}: {e}"
                );
                assert!(e.is_outcome_unknown());
            }
        }
        let found = tunnels_on(&c, &gw.vpn_gateway_id).await;
        if exists {
            assert_eq!(found.len(), 1, "{kind:?}: the create was committed");
            let t = &found[0];
            assert_eq!(t.vpn_connection_name, "t");
            assert_eq!(t.pre_share_key.expose(), "psk-t");
            // The caller can adopt it by name instead of creating a duplicate, and it becomes AVAILABLE.
            let by_name = c
                .describe_vpn_connections_by_filters(
                    REGION,
                    &[
                        filter("vpn-gateway-id", &[&gw.vpn_gateway_id]),
                        filter("vpn-connection-name", &["t"]),
                    ],
                )
                .await
                .unwrap();
            assert_eq!(by_name.len(), 1);
            let id = by_name[0].vpn_connection_id.clone();
            let mut state = by_name[0].state.clone();
            for _ in 0..500 {
                if state == "AVAILABLE" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                state = c
                    .describe_vpn_connections_by_ids(REGION, std::slice::from_ref(&id))
                    .await
                    .unwrap()[0]
                    .state
                    .clone();
            }
            assert_eq!(state, "AVAILABLE");
        } else {
            assert!(found.is_empty(), "{kind:?}: nothing was created");
        }
        h.shutdown().await.unwrap();
    }
}

/// A read that fails every time stops after `max_attempts`, each attempt counted once by the sandbox.
#[tokio::test]
async fn a_read_that_always_fails_gives_up_after_the_retry_budget() {
    for kind in [
        FaultKind::InternalError,
        FaultKind::Http503,
        FaultKind::DropBeforeCommit,
    ] {
        let h = start(SandboxConfig {
            fault_weights: FaultWeights::only(kind),
            ..faults_only(sandbox_config(), 1.0, &["DescribeVpnConnections"])
        })
        .await;
        let c = client(&h);
        let e = c
            .call::<DescribeVpnConnections>(REGION, &Default::default())
            .await
            .unwrap_err();
        let max = RetryPolicy::default().max_attempts;
        assert_eq!(e.attempts, max, "{kind:?}: {e}");
        assert_eq!(
            h.stats().requests_for("DescribeVpnConnections"),
            u64::from(max),
            "{kind:?}"
        );
        assert_eq!(
            c.metrics().retries.get("DescribeVpnConnections").copied(),
            Some(u64::from(max - 1))
        );
        // Other actions are not faulted.
        c.call::<DescribeVpnGateways>(REGION, &Default::default())
            .await
            .unwrap();
        h.shutdown().await.unwrap();
    }
}

// ---------------------------------------------------------------------------------------------------------
// Restart with a data file

#[tokio::test]
async fn a_restart_on_the_same_data_file_resumes_resources_and_pending_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sandbox.json");
    let with_data = |latency_ms: u64| SandboxConfig {
        data_file: Some(data.clone()),
        task_latency: Duration::from_millis(latency_ms),
        ..sandbox_config()
    };

    // 1. Gateway, customer gateway and a VPC, then a clean shutdown.
    let h = start(with_data(50)).await;
    let c = client(&h);
    let gw = create_gateway(&c, "gw").await;
    let gw = wait_available(&c, &gw.vpn_gateway_id).await;
    let cgw = c
        .call::<CreateCustomerGateway>(
            REGION,
            &CreateCustomerGatewayRequest {
                customer_gateway_name: "c".into(),
                ip_address: "58.211.1.1".into(),
                bgp_asn: Some(65001),
                tags: Some(vec![tag("site", "hq")]),
            },
        )
        .await
        .unwrap()
        .customer_gateway;
    let vpc = c
        .call::<CreateVpc>(
            REGION,
            &CreateVpcRequest {
                vpc_name: "kept".into(),
                cidr_block: Some("172.16.0.0/16".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .vpc;
    drop(c);
    h.shutdown().await.unwrap();
    assert!(data.exists());

    // 2. Restart (tasks now take 1.5 s): everything is there; start a create task and stop while it runs.
    let h = start(with_data(1500)).await;
    let c = client(&h);
    let gws = c
        .describe_vpn_gateways_by_ids(REGION, std::slice::from_ref(&gw.vpn_gateway_id))
        .await
        .unwrap();
    assert_eq!(gws.len(), 1);
    assert_eq!(gws[0].state, "AVAILABLE");
    assert_eq!(gws[0].public_ip_address, gw.public_ip_address);
    let cgws = c
        .describe_customer_gateways_by_ids(REGION, std::slice::from_ref(&cgw.customer_gateway_id))
        .await
        .unwrap();
    assert_eq!(cgws.len(), 1);
    assert_eq!(cgws[0].bgp_asn, 65001);
    assert_eq!(cgws[0].tag_set, Some(vec![tag("site", "hq")]));
    let vpcs = c
        .call::<DescribeVpcs>(
            REGION,
            &DescribeVpcsRequest {
                vpc_ids: Some(vec![vpc.vpc_id.clone(), VPC.into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(vpcs.total_count, 2);

    let created = c
        .call::<CreateVpnConnection>(
            REGION,
            &CreateVpnConnectionRequest {
                tags: Some(vec![tag("env", "prod")]),
                ..tunnel_req(&gw.vpn_gateway_id, &cgw.customer_gateway_id, "t")
            },
        )
        .await
        .unwrap();
    let task = created.request_id.clone();
    let id = created.vpn_connection.vpn_connection_id.clone();
    let status = c
        .call::<DescribeVpcTaskResult>(
            REGION,
            &DescribeVpcTaskResultRequest {
                task_id: task.clone(),
            },
        )
        .await
        .unwrap()
        .status;
    assert_eq!(status, "RUNNING");
    drop(c);
    h.shutdown().await.unwrap();

    // 3. Restart again: the task is still running, then completes; the tunnel keeps its key and tags.
    let h = start(with_data(50)).await;
    let c = client(&h);
    let t = c
        .call::<DescribeVpcTaskResult>(
            REGION,
            &DescribeVpcTaskResultRequest {
                task_id: task.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(t.status, "RUNNING", "the pending task was resumed");
    let pending = c
        .describe_vpn_connections_by_ids(REGION, std::slice::from_ref(&id))
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].state, "PENDING");
    let outcome = c.wait_task(REGION, &task, fast_wait()).await.unwrap();
    assert!(outcome.is_success(), "{outcome:?}");
    let t = c
        .describe_vpn_connections_by_ids(REGION, std::slice::from_ref(&id))
        .await
        .unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].state, "AVAILABLE");
    assert_eq!(t[0].pre_share_key.expose(), "psk-t");
    assert_eq!(t[0].tag_set, vec![tag("env", "prod")]);
    assert_eq!(t[0].vpn_gateway_id, gw.vpn_gateway_id);

    // The restarted sandbox keeps working: new ids do not collide, quotas count the old tunnel.
    let cgw2 = create_cgw(&c, "c2", "58.211.1.2").await;
    assert_ne!(cgw2.customer_gateway_id, cgw.customer_gateway_id);
    let again = c
        .call::<CreateVpnConnection>(
            REGION,
            &tunnel_req(&gw.vpn_gateway_id, &cgw.customer_gateway_id, "dup-pair"),
        )
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some(&ErrorCode::LimitExceeded));
    drop(c);
    h.shutdown().await.unwrap();

    // 4. A delete's effect is durable too.
    let h = start(with_data(50)).await;
    let c = client(&h);
    assert_eq!(tunnels_on(&c, &gw.vpn_gateway_id).await.len(), 1);
    let del = c
        .call::<DeleteVpnConnection>(
            REGION,
            &DeleteVpnConnectionRequest {
                vpn_gateway_id: gw.vpn_gateway_id.clone(),
                vpn_connection_id: id.clone(),
            },
        )
        .await
        .unwrap();
    assert!(c
        .wait_task(REGION, &del.request_id, fast_wait())
        .await
        .unwrap()
        .is_success());
    drop(c);
    h.shutdown().await.unwrap();
    let h = start(with_data(50)).await;
    let c = client(&h);
    assert!(tunnels_on(&c, &gw.vpn_gateway_id).await.is_empty());
    h.shutdown().await.unwrap();
}

/// With a data file, a change whose answer was lost after commit was persisted before the connection
/// dropped: it survives a restart.
#[tokio::test]
async fn a_change_whose_answer_was_lost_after_commit_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sandbox.json");
    let h = start(SandboxConfig {
        data_file: Some(data.clone()),
        fault_weights: FaultWeights::only(FaultKind::DropAfterCommit),
        ..faults_only(sandbox_config(), 1.0, &["CreateCustomerGateway"])
    })
    .await;
    let c = client(&h);
    let e = c
        .call::<CreateCustomerGateway>(
            REGION,
            &CreateCustomerGatewayRequest {
                customer_gateway_name: "lost-answer".into(),
                ip_address: "58.211.1.1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    assert_eq!(e.attempts, 1);
    drop(c);
    h.shutdown().await.unwrap();

    let h = start(SandboxConfig {
        data_file: Some(data.clone()),
        ..sandbox_config()
    })
    .await;
    let c = client(&h);
    let found = c
        .describe_customer_gateways_by_filters(
            REGION,
            &[filter("customer-gateway-name", &["lost-answer"])],
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].ip_address, "58.211.1.1");
    h.shutdown().await.unwrap();
}

/// A delete task that fails leaves the tunnel AVAILABLE (set up without failures, then restarted with
/// `task_failure_rate` 1.0 on the same data file).
#[tokio::test]
async fn a_failed_delete_task_leaves_the_tunnel_available() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sandbox.json");
    let h = start(SandboxConfig {
        data_file: Some(data.clone()),
        ..sandbox_config()
    })
    .await;
    let c = client(&h);
    let gw = create_gateway(&c, "gw").await;
    let cgw = create_cgw(&c, "c", "58.211.1.1").await;
    wait_available(&c, &gw.vpn_gateway_id).await;
    let created = c
        .call::<CreateVpnConnection>(
            REGION,
            &tunnel_req(&gw.vpn_gateway_id, &cgw.customer_gateway_id, "t"),
        )
        .await
        .unwrap();
    assert!(c
        .wait_task(REGION, &created.request_id, fast_wait())
        .await
        .unwrap()
        .is_success());
    drop(c);
    h.shutdown().await.unwrap();

    let h = start(SandboxConfig {
        data_file: Some(data.clone()),
        task_failure_rate: 1.0,
        ..sandbox_config()
    })
    .await;
    let c = client(&h);
    let id = created.vpn_connection.vpn_connection_id.clone();
    let del = c
        .call::<DeleteVpnConnection>(
            REGION,
            &DeleteVpnConnectionRequest {
                vpn_gateway_id: gw.vpn_gateway_id.clone(),
                vpn_connection_id: id.clone(),
            },
        )
        .await
        .unwrap();
    let outcome = c
        .wait_task(REGION, &del.request_id, fast_wait())
        .await
        .unwrap();
    match &outcome {
        TaskOutcome::Failed { output } => assert!(output.contains(&id), "{output}"),
        other => panic!("expected FAILED, got {other:?}"),
    }
    let t = c
        .describe_vpn_connections_by_ids(REGION, std::slice::from_ref(&id))
        .await
        .unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].state, "AVAILABLE");
    // ...and it can be modified again.
    c.call::<ModifyVpnConnectionAttribute>(
        REGION,
        &ModifyVpnConnectionAttributeRequest {
            vpn_connection_id: id.clone(),
            vpn_connection_name: Some("kept".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    h.shutdown().await.unwrap();
}
