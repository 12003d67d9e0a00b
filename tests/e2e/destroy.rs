//! `destroy` removes everything in state (in reverse dependency order); `prevent_destroy` blocks it
//! with a clear error before anything is deleted.

use crate::common::{customer_gateway_block, gateway_block, SandboxProc, Work};

fn config(lifecycle: &str) -> String {
    format!(
        r#"{}{}
resource "tencentcloud_vpn_connection" "t" {{
  name                = "t"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = "destroy-key"
  security_group_policy {{
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.1.0/24"]
  }}
{lifecycle}
}}
"#,
        gateway_block("destroy-gw"),
        customer_gateway_block("a", "203.0.113.1"),
    )
}

#[test]
fn destroy_removes_everything() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(""));
    w.apply(&[]).success();
    assert_eq!(sb.cloud().all_ids("ap-guangzhou").len(), 3);

    let plan = w.plan(&["--destroy"]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 0 to change, 3 to destroy."),
        "{}",
        plan.stdout
    );

    let r = w.destroy(&[]);
    r.success();
    assert!(
        r.stdout
            .contains("Destroy complete! Resources: 3 destroyed."),
        "{}",
        r.stdout
    );
    // The tunnel went before the gateways it used.
    let pos = |needle: &str| {
        r.stdout
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}: {}", r.stdout))
    };
    assert!(
        pos("tencentcloud_vpn_connection.t: Destruction complete")
            < pos("tencentcloud_vpn_gateway.gw: Destroying..."),
        "{}",
        r.stdout
    );
    assert!(sb.cloud().all_ids("ap-guangzhou").is_empty());
    assert!(w.state_ids().is_empty(), "{:?}", w.state_ids());

    // Nothing left to destroy; applying again creates everything anew.
    let again = w.plan(&["--destroy"]);
    again.success();
    assert!(
        again
            .stdout
            .contains("No changes. No objects need to be destroyed."),
        "{}",
        again.stdout
    );
}

#[test]
fn prevent_destroy_blocks_destroy_with_a_clear_error() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("  lifecycle {\n    prevent_destroy = true\n  }"));
    w.apply(&[]).success();
    let before = sb.cloud().all_ids("ap-guangzhou");
    assert_eq!(before.len(), 3);

    let r = w.destroy(&[]);
    r.expect_code(1);
    assert!(
        r.stderr.contains(
            "Instance cannot be destroyed: tencentcloud_vpn_connection.t has lifecycle.prevent_destroy set"
        ),
        "{}",
        r.stderr
    );
    // Points at the resource block in the file.
    assert!(r.stderr.contains("main.tf:"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(r#"resource "tencentcloud_vpn_connection" "t""#),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains("Destroying..."), "{}", r.stdout);
    assert_eq!(sb.cloud().all_ids("ap-guangzhou"), before);
    assert_eq!(w.state_ids().len(), 3);

    // A change that would replace it is blocked the same way.
    w.config(
        &config("  lifecycle {\n    prevent_destroy = true\n  }").replace(
            "\"t\"\n  vpc_id",
            "\"t\"\n  route_type = \"Policy\"\n  vpc_id",
        ),
    );
    let r = w.apply(&[]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("Instance cannot be destroyed"),
        "{}",
        r.stderr
    );
    assert_eq!(sb.cloud().all_ids("ap-guangzhou"), before);
}
