//! Lost answers: the cloud did the work but the response never arrived (the sandbox's
//! drop-after-commit fault, on one action at a time). The next apply must settle what happened
//! from the journal: find a created object (ownership tags) instead of creating a second one,
//! record a deletion that happened, and record a modification that was made, without sending the
//! request again. (Random faults over every action: `faults.rs`.)
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
        Self::start_with(actions, FaultKind::DropAfterCommit, None)
    }

    /// Every request for `actions` gets the fault `kind`; with `data`, the world persists there
    /// (a later sandbox on the same file resumes it).
    fn start_with(
        actions: &[&str],
        kind: FaultKind,
        data: Option<&std::path::Path>,
    ) -> FaultySandbox {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let config = SandboxConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            task_latency: Duration::from_millis(50),
            fault_rate: 1.0,
            fault_weights: FaultWeights::only(kind),
            data_file: data.map(std::path::Path::to_path_buf),
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

    /// Requests received for `action` since start.
    fn requests(&self, action: &str) -> u64 {
        self.handle
            .as_ref()
            .expect("running")
            .stats()
            .requests_for(action)
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

    // A plan already counts it (settling the journal in memory, writing nothing)...
    let plan = w.plan(&[]);
    plan.success();
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    assert!(
        plan.stderr.contains("note: an earlier run was interrupted"),
        "{}",
        plan.stderr
    );
    assert!(!w.state_ids().contains_key("tencentcloud_vpn_connection.t"));

    // ...and the next apply records it (no second create, which would fail anyway: one tunnel per
    // pair).
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

fn tunnel(dpd: u32) -> String {
    format!(
        "{}{}{}",
        gateway_block("lost-gw"),
        customer_gateway_block("a", "203.0.113.1"),
        TUNNEL.replace(
            "  pre_share_key       = \"lost-key\"\n",
            &format!("  pre_share_key       = \"lost-key\"\n  dpd_timeout         = {dpd}\n"),
        )
    )
}

#[test]
fn a_delete_whose_answer_was_lost_is_recorded_by_the_next_apply() {
    let sb = FaultySandbox::start(&["DeleteVpnConnection"]);
    let mut w = Work::new();
    w.endpoint = Some(sb.url());
    w.config(&tunnel(30));
    w.apply(&[]).success();
    let id = w.state_id("tencentcloud_vpn_connection.t");

    // The tunnel goes; its DeleteVpnConnection is carried out but never answered.
    w.config(&format!(
        "{}{}",
        gateway_block("lost-gw"),
        customer_gateway_block("a", "203.0.113.1")
    ));
    let first = w.apply(&[]);
    first.expect_code(1);
    assert!(
        first
            .stderr
            .contains("tencentcloud_vpn_connection.t: delete failed")
            && first
                .stderr
                .contains("the request may have been carried out"),
        "{}",
        first.stderr
    );
    // The state still has it: the run could not know.
    assert_eq!(w.state_id("tencentcloud_vpn_connection.t"), id);
    assert_eq!(sb.requests("DeleteVpnConnection"), 1);
    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(0);

    // The next apply finds it gone (waiting for the deletion if needed) and sends nothing.
    let second = w.apply(&[]);
    second.success();
    assert!(
        second.stderr.contains(&format!(
            "Recorded that tencentcloud_vpn_connection.t [id={id}] was deleted"
        )),
        "{}",
        second.stderr
    );
    assert!(second.stdout.contains("No changes."), "{}", second.stdout);
    assert_eq!(sb.requests("DeleteVpnConnection"), 1);
    assert!(!w.state_ids().contains_key("tencentcloud_vpn_connection.t"));
    let cloud = Cloud::new(&sb.url());
    assert!(cloud.connection_ids("ap-guangzhou").is_empty());
    w.assert_no_changes(&[]);
}

#[test]
fn a_modify_whose_answer_was_lost_is_recorded_by_the_next_apply() {
    let sb = FaultySandbox::start(&["ModifyVpnConnectionAttribute"]);
    let mut w = Work::new();
    w.endpoint = Some(sb.url());
    w.config(&tunnel(30));
    w.apply(&[]).success();
    let id = w.state_id("tencentcloud_vpn_connection.t");

    w.config(&tunnel(45));
    let first = w.apply(&[]);
    first.expect_code(1);
    assert!(
        first
            .stderr
            .contains("tencentcloud_vpn_connection.t: update failed")
            && first
                .stderr
                .contains("the request may have been carried out"),
        "{}",
        first.stderr
    );
    let cloud = Cloud::new(&sb.url());
    // Carried out all the same.
    assert_eq!(
        cloud.connection("ap-guangzhou", &id).unwrap().dpd_timeout,
        "45"
    );
    assert_eq!(sb.requests("ModifyVpnConnectionAttribute"), 1);

    // The next apply records the tunnel as it is: nothing to change, nothing shown as changed
    // outside tunnelform, no second request.
    let second = w.apply(&[]);
    second.success();
    assert!(second.stdout.contains("No changes."), "{}", second.stdout);
    assert!(
        !second.stdout.contains("changed outside"),
        "{}",
        second.stdout
    );
    assert_eq!(sb.requests("ModifyVpnConnectionAttribute"), 1);
    assert_eq!(
        w.state()["resources"]["tencentcloud_vpn_connection.t"]["attributes"]["dpd_timeout"],
        45
    );
    w.assert_no_changes(&[]);
}

/// A create_before_destroy replacement whose delete half fails: the old object stays tracked in the
/// state as deposed, every plan shows it to be destroyed, and the next apply deletes it.
#[test]
fn a_replaced_object_whose_delete_failed_stays_tracked_and_is_deleted_next_time() {
    let data = tempfile::tempdir().unwrap();
    let data_file = data.path().join("world.json");
    let cgw = |ip: &str| {
        format!(
            r#"
resource "tencentcloud_vpn_customer_gateway" "a" {{
  name              = "cbd"
  public_ip_address = "{ip}"
  lifecycle {{
    create_before_destroy = true
  }}
}}
"#
        )
    };
    let mut w = Work::new();
    let old_id;
    {
        let sb = FaultySandbox::start_with(
            &["DeleteCustomerGateway"],
            FaultKind::InternalError,
            Some(&data_file),
        );
        w.endpoint = Some(sb.url());
        w.config(&cgw("203.0.113.1"));
        w.apply(&[]).success();
        old_id = w.state_id("tencentcloud_vpn_customer_gateway.a");

        w.config(&cgw("203.0.113.2"));
        let r = w.apply(&[]);
        r.expect_code(1);
        assert!(r.stderr.contains("InternalError"), "{}", r.stderr);
        let cloud = Cloud::new(&sb.url());
        let ids: Vec<String> = cloud
            .customer_gateways("ap-guangzhou")
            .into_iter()
            .map(|c| c.customer_gateway_id)
            .collect();
        assert_eq!(ids.len(), 2, "the new object and the old one: {ids:?}");
        let new_id = w.state_id("tencentcloud_vpn_customer_gateway.a");
        assert_ne!(new_id, old_id);
        // The old one is still tracked, as deposed.
        let st = w.state();
        let deposed = &st["resources"]["tencentcloud_vpn_customer_gateway.a"]["deposed"];
        assert_eq!(deposed[0]["id"], old_id.as_str(), "{st:#}");

        let plan = w.plan(&["--detailed-exitcode"]);
        plan.expect_code(2);
        assert!(
            plan.stdout.contains(&format!(
                "tencentcloud_vpn_customer_gateway.a (deposed object {old_id}) will be destroyed"
            )),
            "{}",
            plan.stdout
        );
        assert!(
            plan.stdout
                .contains("Plan: 0 to add, 0 to change, 1 to destroy."),
            "{}",
            plan.stdout
        );
    }
    // The same world without the fault: the next apply deletes the deposed object, nothing else.
    let sb = FaultySandbox::start_with(
        &["NoSuchAction"],
        FaultKind::InternalError,
        Some(&data_file),
    );
    w.endpoint = Some(sb.url());
    let r = w.apply(&[]);
    r.success();
    let cloud = Cloud::new(&sb.url());
    let ids: Vec<String> = cloud
        .customer_gateways("ap-guangzhou")
        .into_iter()
        .map(|c| c.customer_gateway_id)
        .collect();
    assert_eq!(ids, [w.state_id("tencentcloud_vpn_customer_gateway.a")]);
    assert!(!ids.contains(&old_id));
    assert!(
        w.state()["resources"]["tencentcloud_vpn_customer_gateway.a"]
            .get("deposed")
            .is_none()
    );
    w.assert_no_changes(&[]);
}
