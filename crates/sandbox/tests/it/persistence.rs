//! Persistence with a data file: restart, pending tasks, crash safety, corruption.

use std::time::Duration;

use serde_json::{json, Value};
use tunnelform_sandbox::{Sandbox, SandboxConfig, SandboxError};

use crate::common::*;

fn with_data(path: &std::path::Path, latency_ms: u64) -> SandboxConfig {
    SandboxConfig {
        data_file: Some(path.to_path_buf()),
        task_latency: Duration::from_millis(latency_ms),
        ..config()
    }
}

#[tokio::test]
async fn restart_resumes_resources_and_pending_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.json");
    let (h, c) = start(with_data(&path, 50)).await;
    let gw = c.create_gateway(VPC).await;
    let cgw = c.create_cgw("58.211.1.12").await;
    let done = c
        .create_conn(&gw, &cgw, json!({"VpnConnectionName": "done"}))
        .await;
    // A long task that is still RUNNING at shutdown.
    let cgw2 = c.create_cgw("58.211.1.13").await;
    h.shutdown().await.unwrap();

    let (h, c) = start(with_data(&path, 60_000)).await;
    let d = c.describe_conn(&done).await.unwrap();
    assert_eq!(d["State"], "AVAILABLE");
    assert_eq!(d["PreShareKey"], "s3cret-psk");
    let (pending, task) = c
        .start_conn(&gw, &cgw2, json!({"VpnConnectionName": "pending"}))
        .await;
    let r = c
        .vpc("DescribeVpcTaskResult", json!({"TaskId": task}))
        .await;
    assert_eq!(r["Status"], "RUNNING");
    h.shutdown().await.unwrap();

    // Restarted, the task is still running (its deadline has not passed)...
    let (h, c) = start(with_data(&path, 50)).await;
    let r = c
        .vpc("DescribeVpcTaskResult", json!({"TaskId": task}))
        .await;
    assert_eq!(r["Status"], "RUNNING");
    assert_eq!(c.describe_conn(&pending).await.unwrap()["State"], "PENDING");
    // ... the world is intact, and new ids do not collide with old ones.
    let r = c.vpc("DescribeCustomerGateways", json!({})).await;
    assert_eq!(r["TotalCount"], 2);
    let cgw3 = c.create_cgw("58.211.1.14").await;
    assert!(cgw3 != cgw && cgw3 != cgw2);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_task_whose_deadline_passed_completes_on_load() {
    let (h, c, gw, cgw, dir) = start_slow().await;
    let path = dir.path().join("sandbox.json");
    let (id, task) = c.start_conn(&gw, &cgw, json!({})).await;
    h.shutdown().await.unwrap();
    // Move the stored deadline into the past, as if the sandbox had been down for ten minutes.
    let mut stored: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let t = stored["Tasks"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["TaskId"] == task.as_str())
        .unwrap();
    assert_eq!(t["Status"], "RUNNING");
    t["DeadlineMs"] = json!(1_000);
    std::fs::write(&path, serde_json::to_vec(&stored).unwrap()).unwrap();
    let (_h, c) = start(with_data(&path, 600_000)).await;
    let r = c
        .vpc("DescribeVpcTaskResult", json!({"TaskId": task}))
        .await;
    assert_eq!(r["Status"], "SUCCESS");
    assert_eq!(c.describe_conn(&id).await.unwrap()["State"], "AVAILABLE");
}

#[tokio::test]
async fn acknowledged_writes_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.json");
    let mut config = with_data(&path, 50);
    config.quotas.customer_gateways_per_region = 200;
    let (h, c) = start(config.clone()).await;
    // A burst of concurrent creates: every acknowledged one must be on disk without a clean shutdown.
    let mut tasks = Vec::new();
    for i in 0..100 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.create_cgw(&format!("58.212.{}.{}", i / 200 + 1, i % 200 + 1))
                .await
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    // "Crash": read the file as it is now, without shutdown.
    let stored: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let cgws = stored["Regions"][REGION]["CustomerGateways"]
        .as_object()
        .unwrap();
    for id in &ids {
        assert!(cgws.contains_key(id), "{id} acknowledged but not durable");
    }
    drop(h);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the data file holds pre-shared keys");
    }
    // And a new sandbox resumes from that file.
    config.listen = "127.0.0.1:0".parse().unwrap();
    let (_h2, c2) = start(config).await;
    let r = c2
        .vpc("DescribeCustomerGateways", json!({"Limit": 100}))
        .await;
    assert_eq!(r["TotalCount"], 100);
}

#[tokio::test]
async fn delete_task_failure_keeps_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.json");
    let (h, c) = start(with_data(&path, 50)).await;
    let gw = c.create_gateway(VPC).await;
    let cgw = c.create_cgw("58.211.1.12").await;
    let id = c.create_conn(&gw, &cgw, json!({})).await;
    h.shutdown().await.unwrap();
    let config = SandboxConfig {
        task_failure_rate: 1.0,
        ..with_data(&path, 50)
    };
    let (_h, c) = start(config).await;
    let r = c
        .vpc(
            "DeleteVpnConnection",
            json!({"VpnGatewayId": gw, "VpnConnectionId": id}),
        )
        .await;
    let (status, output) = c.wait_task(r["RequestId"].as_str().unwrap()).await;
    assert_eq!(status, "FAILED");
    assert!(!output.is_empty());
    assert_eq!(c.describe_conn(&id).await.unwrap()["State"], "AVAILABLE");
}

#[tokio::test]
async fn corrupt_data_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.json");
    std::fs::write(
        &path,
        b"{\"Format\": \"tunnelform-sandbox\", \"Version\": 1, trunc",
    )
    .unwrap();
    match Sandbox::start(with_data(&path, 50)).await {
        Err(SandboxError::CorruptData { .. }) => {}
        other => panic!("expected CorruptData, got {other:?}"),
    }
    std::fs::write(&path, b"").unwrap();
    assert!(matches!(
        Sandbox::start(with_data(&path, 50)).await,
        Err(SandboxError::CorruptData { .. })
    ));
    std::fs::write(
        &path,
        br#"{"Format":"other","Version":1,"Epoch":0,"Regions":{},"Tasks":[]}"#,
    )
    .unwrap();
    let err = Sandbox::start(with_data(&path, 50)).await.unwrap_err();
    assert!(err.to_string().contains("corrupt"), "{err}");
    // The file is left as it was.
    assert!(std::fs::read_to_string(&path).unwrap().contains("other"));
}
