//! The smaller commands: `--target`, `fmt`, `graph`, `completions`.

use crate::common::{customer_gateway_block, gateway_block, SandboxProc, Work};

fn two_customer_gateways() -> String {
    format!(
        "{}{}{}",
        gateway_block("targets-gw"),
        customer_gateway_block("a", "203.0.113.61"),
        customer_gateway_block("b", "203.0.113.62")
    )
}

#[test]
fn target_limits_the_plan_and_the_apply_to_the_named_resources() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&two_customer_gateways());
    let plan = w.plan(&["--target", "tencentcloud_vpn_customer_gateway.a"]);
    plan.expect_code(0);
    assert!(
        plan.stdout
            .contains("tencentcloud_vpn_customer_gateway.a will be created"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("customer_gateway.b"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("tencentcloud_vpn_gateway.gw"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    w.apply(&["--target", "tencentcloud_vpn_customer_gateway.a"])
        .success();
    let cgws = sb.cloud().customer_gateways("ap-guangzhou");
    assert_eq!(cgws.len(), 1, "{cgws:?}");
    assert_eq!(cgws[0].customer_gateway_name, "cgw-a");
    assert!(sb.cloud().gateways("ap-guangzhou").is_empty());
    // The rest follows without --target.
    w.apply(&[]).success();
    assert_eq!(sb.cloud().customer_gateways("ap-guangzhou").len(), 2);
    w.assert_no_changes(&[]);
    // An address that is not a resource address is a clear error.
    let bad = w.plan(&["--target", "not an address"]);
    bad.expect_code(1);
    assert!(
        bad.stderr.contains("invalid resource address"),
        "{}",
        bad.stderr
    );
}

#[test]
fn fmt_rewrites_and_check_reports_without_writing() {
    let w = Work::new();
    let messy = "resource \"tencentcloud_vpn_customer_gateway\" \"a\" {\nname = \"x\" # the office\n    public_ip_address=\"203.0.113.9\"\n}\n";
    w.config(messy);
    let check = w.tf(&["fmt", "--check", "cfg"]);
    check.expect_code(3);
    assert!(check.stdout.contains("main.tf"), "{}", check.stdout);
    assert_eq!(
        std::fs::read_to_string(w.cfg().join("main.tf")).unwrap(),
        messy,
        "--check must not write"
    );
    w.tf(&["fmt", "cfg"]).success();
    let formatted = std::fs::read_to_string(w.cfg().join("main.tf")).unwrap();
    assert!(
        formatted.contains("  name              = \"x\" # the office\n"),
        "{formatted}"
    );
    assert!(
        formatted.contains("  public_ip_address = \"203.0.113.9\"\n"),
        "{formatted}"
    );
    w.tf(&["fmt", "--check", "cfg"]).success();
}

#[test]
fn graph_prints_the_dependencies_in_dot() {
    let w = Work::new();
    w.config(&format!(
        "{}{}{}",
        gateway_block("graph-gw"),
        customer_gateway_block("a", "203.0.113.63"),
        r#"
resource "tencentcloud_vpn_connection" "t" {
  name                = "t"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = "graph-test-key"
}
"#
    ));
    let g = w.tf(&["graph", "cfg"]);
    g.success();
    assert!(g.stdout.starts_with("digraph"), "{}", g.stdout);
    assert!(
        g.stdout
            .contains("\"tencentcloud_vpn_connection.t\" -> \"tencentcloud_vpn_gateway.gw\""),
        "{}",
        g.stdout
    );
    assert!(
        g.stdout.contains(
            "\"tencentcloud_vpn_connection.t\" -> \"tencentcloud_vpn_customer_gateway.a\""
        ),
        "{}",
        g.stdout
    );
    assert!(!g.stdout.contains("graph-test-key"));
}

#[test]
fn completions_and_help() {
    let w = Work::new();
    let bash = w.tf(&["completions", "bash"]);
    bash.success();
    assert!(
        bash.stdout.contains("tunnelform") && bash.stdout.contains("complete"),
        "{}",
        &bash.stdout[..bash.stdout.len().min(300)]
    );
    for cmd in [
        &["--help"][..],
        &["plan", "--help"],
        &["apply", "--help"],
        &["sandbox", "--help"],
        &["state", "rm", "--help"],
    ] {
        let h = w.tf(cmd);
        h.success();
        assert!(h.stdout.contains("Usage:"), "{cmd:?}: {}", h.stdout);
    }
}
