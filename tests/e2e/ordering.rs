//! Ordering the API depends on: a CIDR moved between two tunnels of one gateway in one apply must be
//! released by the first tunnel before the second claims it.

use crate::common::{customer_gateway_block, gateway_block, SandboxProc, Work};

fn config(a_remotes: &str, b_remotes: &str) -> String {
    format!(
        r#"{}{}{}
resource "tencentcloud_vpn_connection" "a" {{
  name                = "a"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = "order-key"
  security_group_policy {{
    local_cidr_block  = "10.0.0.0/24"
    remote_cidr_block = [{a_remotes}]
  }}
}}

resource "tencentcloud_vpn_connection" "b" {{
  name                = "b"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.b.id
  pre_share_key       = "order-key"
  security_group_policy {{
    local_cidr_block  = "10.0.0.0/24"
    remote_cidr_block = [{b_remotes}]
  }}
}}
"#,
        gateway_block("order-gw"),
        customer_gateway_block("a", "203.0.113.1"),
        customer_gateway_block("b", "203.0.113.2"),
    )
}

fn remotes(cloud: &crate::common::Cloud, id: &str) -> Vec<String> {
    let c = cloud.connection("ap-guangzhou", id).expect("tunnel");
    let mut v: Vec<String> = c
        .security_policy_database_set
        .iter()
        .flat_map(|s| s.remote_cidr_block.clone())
        .collect();
    v.sort();
    v
}

#[test]
fn a_cidr_moves_between_tunnels_of_one_gateway_in_one_apply() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(
        r#""192.168.1.0/24", "192.168.2.0/24""#,
        r#""192.168.3.0/24""#,
    ));
    w.apply(&[]).success();
    let a = w.state_id("tencentcloud_vpn_connection.a");
    let b = w.state_id("tencentcloud_vpn_connection.b");

    // 192.168.2.0/24 moves from a to b.
    w.config(&config(
        r#""192.168.1.0/24""#,
        r#""192.168.3.0/24", "192.168.2.0/24""#,
    ));

    // The wrong order (b claims before a releases) is rejected by the sandbox: updating b alone fails.
    let wrong = w.apply(&["--target", "tencentcloud_vpn_connection.b"]);
    wrong.expect_code(1);
    assert!(
        wrong
            .stderr
            .contains("InvalidParameterValue.VpnConnCidrConflict"),
        "{}\n{}",
        wrong.stdout,
        wrong.stderr
    );
    assert_eq!(remotes(&sb.cloud(), &b), vec!["192.168.3.0/24"]);

    // The whole plan orders a's release before b's claim.
    let plan = w.plan(&[]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 2 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    let apply = w.apply(&[]);
    apply.success();
    let pos = |needle: &str| {
        apply
            .stdout
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in\n{}", apply.stdout))
    };
    assert!(
        pos("tencentcloud_vpn_connection.a: Modifications complete")
            < pos("tencentcloud_vpn_connection.b: Modifying..."),
        "{}",
        apply.stdout
    );
    let cloud = sb.cloud();
    assert_eq!(remotes(&cloud, &a), vec!["192.168.1.0/24"]);
    assert_eq!(
        remotes(&cloud, &b),
        vec!["192.168.2.0/24", "192.168.3.0/24"]
    );
    assert_eq!(w.state_id("tencentcloud_vpn_connection.a"), a);
    assert_eq!(w.state_id("tencentcloud_vpn_connection.b"), b);
    w.assert_no_changes(&[]);
}

/// A tunnel replaced with `create_before_destroy` keeps its gateway and customer gateway (and its
/// SPD): the API allows one tunnel per pair and no overlapping SPD on a gateway, so the new tunnel
/// cannot exist next to the old one. The plan must not promise what apply cannot do: it refuses,
/// naming the resource, create_before_destroy and the reason.
#[test]
fn create_before_destroy_of_a_tunnel_on_the_same_pair_is_refused_with_the_reason() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    let text = |route_type: &str| {
        config(r#""192.168.1.0/24""#, r#""192.168.3.0/24""#).replace(
            "resource \"tencentcloud_vpn_connection\" \"a\" {\n",
            &format!(
                "resource \"tencentcloud_vpn_connection\" \"a\" {{\n  route_type = \"{route_type}\"\n  lifecycle {{\n    create_before_destroy = true\n  }}\n"
            ),
        )
    };
    w.config(&text("StaticRoute"));
    w.apply(&[]).success();
    let old = w.state_id("tencentcloud_vpn_connection.a");

    w.config(&text("Policy"));
    let plan = w.plan(&[]);
    assert_eq!(
        plan.code(),
        Some(1),
        "the plan must refuse:\n{}",
        plan.stdout
    );
    assert!(
        plan.stderr.contains("tencentcloud_vpn_connection.a")
            && plan.stderr.contains("create_before_destroy")
            && plan.stderr.contains("one tunnel per pair"),
        "{}",
        plan.stderr
    );
    // Nothing was touched.
    assert!(sb.cloud().connection("ap-guangzhou", &old).is_some());
}

#[test]
fn swapping_cidrs_between_two_tunnels_is_refused_at_plan_time() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(r#""192.168.1.0/24""#, r#""192.168.2.0/24""#));
    w.apply(&[]).success();
    let requests_before = sb.write_request_count();

    // Each tunnel would have to release its range before the other claims it.
    w.config(&config(r#""192.168.2.0/24""#, r#""192.168.1.0/24""#));
    for r in [w.plan(&[]), w.apply(&[])] {
        r.expect_code(1);
        assert!(
            r.stderr.contains("dependency cycle between")
                && r.stderr.contains("tencentcloud_vpn_connection.a")
                && r.stderr.contains("tencentcloud_vpn_connection.b"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(sb.write_request_count(), requests_before);
}
