//! Lost answers: the cloud did the work but the response never arrived. The next apply must find
//! the object (journal + ownership tags) instead of creating a second one.
//!
//! These tests need faults on one action only, which the sandbox's command line does not offer, so
//! the sandbox runs in-process here (tunnelform-sandbox), still on 127.0.0.1 with an ephemeral port;
//! the binary under test is the same subprocess as everywhere else.

use std::collections::BTreeSet;
use std::time::Duration;

use tunnelform_sandbox::{FaultKind, FaultWeights, Sandbox, SandboxConfig, SandboxHandle};

use crate::common::{customer_gateway_block, gateway_block, Cloud, Work};

/// An in-process sandbox whose `actions` always commit and then drop the connection unanswered.
struct FaultySandbox {
    rt: tokio::runtime::Runtime,
    handle: Option<SandboxHandle>,
}

impl FaultySandbox {
    fn start(actions: &[&str]) -> FaultySandbox {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let config = SandboxConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            task_latency: Duration::from_millis(50),
            fault_rate: 1.0,
            fault_weights: FaultWeights::only(FaultKind::DropAfterCommit),
            fault_actions: Some(
                actions
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<BTreeSet<_>>(),
            ),
            ..SandboxConfig::default()
        };
        let handle = rt.block_on(Sandbox::start(config)).expect("sandbox");
        FaultySandbox {
            rt,
            handle: Some(handle),
        }
    }

    fn url(&self) -> String {
        self.handle.as_ref().expect("running").url()
    }
}

impl Drop for FaultySandbox {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            let _ = self.rt.block_on(h.shutdown());
        }
    }
}

const TUNNEL: &str = r#"
resource "tencentcloud_vpn_connection" "t" {
  name                = "lost-answer"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = "lost-key"
  security_group_policy {
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.1.0/24"]
  }
}
"#;

#[test]
fn a_create_whose_answer_was_lost_is_found_by_the_next_apply() {
    let sb = FaultySandbox::start(&["CreateVpnConnection"]);
    let mut w = Work::new();
    w.endpoint = Some(sb.url());
    w.config(&format!(
        "{}{}{TUNNEL}",
        gateway_block("lost-gw"),
        customer_gateway_block("a", "203.0.113.1")
    ));

    let first = w.apply(&[]);
    first.expect_code(1);
    assert!(
        first
            .stderr
            .contains("the request may have been carried out"),
        "{}",
        first.stderr
    );
    let cloud = Cloud::new(&sb.url());
    // The tunnel was created all the same; the state could not know its id.
    assert_eq!(cloud.connection_ids("ap-guangzhou").len(), 1);
    assert!(!w.state_ids().contains_key("tencentcloud_vpn_connection.t"));

    // The next apply finds it (no second create, which would fail anyway: one tunnel per pair).
    let second = w.apply(&[]);
    second.success();
    assert!(
        second
            .stderr
            .contains("Recovered tencentcloud_vpn_connection.t"),
        "{}",
        second.stderr
    );
    let ids = cloud.connection_ids("ap-guangzhou");
    assert_eq!(ids.len(), 1);
    assert_eq!(w.state_id("tencentcloud_vpn_connection.t"), ids[0]);
    w.assert_no_changes(&[]);
}

#[test]
fn repeated_applies_through_random_faults_converge_without_duplicates() {
    use crate::common::SandboxProc;
    // 20 % of requests: InternalError, HTTP 503, or a connection dropped before or after the work.
    let sb = SandboxProc::start(50, &["--fault-rate", "0.2", "--seed", "7"]);
    let w = Work::with_sandbox(&sb);
    w.config(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart/main.tf"),
        )
        .unwrap(),
    );
    let mut attempts = 0;
    loop {
        attempts += 1;
        let r = w.apply(&[]);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        if r.code() == Some(0) {
            break;
        }
        r.expect_code(1);
        assert!(
            attempts < 15,
            "no convergence after {attempts} applies:\n{}",
            r.stderr
        );
    }
    // Exactly the five objects of the configuration exist, each once, all in state.
    let ids = w.state_ids();
    assert_eq!(ids.len(), 5, "{ids:?}");
    let mut from_state: Vec<String> = ids.values().cloned().collect();
    from_state.sort();
    let cloud = Cloud::new(&sb.url);
    // Reads meet injected faults too (the client retries them); a few tries guard the check.
    let all = (0..10)
        .find_map(|_| cloud.try_all_ids("ap-guangzhou").ok())
        .expect("listing the sandbox's objects");
    assert_eq!(all, from_state);
}
