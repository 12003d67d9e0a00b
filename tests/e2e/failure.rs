//! A failure in the middle of the graph: the failed step's dependents are skipped, independent work
//! finishes, the report names the address, the Tencent error code and the request id, and the state
//! holds exactly what exists.

use crate::common::{SandboxProc, Work};

const CONFIG: &str = r#"
resource "tencentcloud_vpn_gateway" "one" {
  name   = "gw-one"
  vpc_id = "vpc-sandbox1"
}

resource "tencentcloud_vpn_gateway" "two" {
  name   = "gw-two"
  vpc_id = "vpc-sandbox1"
}

resource "tencentcloud_vpn_customer_gateway" "a" {
  name              = "a"
  public_ip_address = "203.0.113.1"
}

resource "tencentcloud_vpn_customer_gateway" "b" {
  name              = "b"
  public_ip_address = "203.0.113.2"
}

# Gateway one takes one tunnel (quota), so `second` fails and `after_second` is skipped;
# `independent` is on gateway two and must finish.
resource "tencentcloud_vpn_connection" "first" {
  name                = "first"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.one.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = "fail-key"
  security_group_policy {
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.1.0/24"]
  }
}

resource "tencentcloud_vpn_connection" "second" {
  name                = "second"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.one.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.b.id
  pre_share_key       = "fail-key"
  depends_on          = [tencentcloud_vpn_connection.first]
  security_group_policy {
    local_cidr_block  = "10.0.2.0/24"
    remote_cidr_block = ["192.168.2.0/24"]
  }
}

resource "tencentcloud_vpn_connection" "after_second" {
  name                = "after-second"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.two.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = "fail-key"
  depends_on          = [tencentcloud_vpn_connection.second]
  security_group_policy {
    local_cidr_block  = "10.0.3.0/24"
    remote_cidr_block = ["192.168.3.0/24"]
  }
}

resource "tencentcloud_vpn_connection" "independent" {
  name                = "independent"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.two.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.b.id
  pre_share_key       = "fail-key"
  security_group_policy {
    local_cidr_block  = "10.0.4.0/24"
    remote_cidr_block = ["192.168.4.0/24"]
  }
}
"#;

#[test]
fn a_failure_skips_dependents_and_lets_independent_work_finish() {
    let sb = SandboxProc::start(50, &["--quota", "tunnels-per-vpn-gateway=1"]);
    let w = Work::with_sandbox(&sb);
    w.config(CONFIG);

    let r = w.apply(&[]);
    r.expect_code(1);
    let report = r
        .stderr
        .lines()
        .find(|l| l.contains("tencentcloud_vpn_connection.second"))
        .unwrap_or_else(|| panic!("no report line for the failed tunnel:\n{}", r.stderr));
    assert!(report.contains("create"), "{report}");
    assert!(report.contains("[LimitExceeded]"), "{report}");
    // The request id is the one the sandbox answered with: a UUID.
    let rid = report
        .split("request id ")
        .nth(1)
        .map(|s| s.trim_end_matches(')').trim())
        .unwrap_or_else(|| panic!("no request id in {report:?}"));
    assert_eq!(rid.len(), 36, "{rid}");
    assert_eq!(rid.matches('-').count(), 4, "{rid}");
    assert!(
        r.stderr.contains("1 dependent operation(s) were skipped"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains("tencentcloud_vpn_connection.after_second: skipped because tencentcloud_vpn_connection.second failed"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("Apply complete!"), "{}", r.stdout);

    // Independent work finished; the state holds exactly what exists.
    let ids = w.state_ids();
    let addrs: Vec<&str> = ids.keys().map(String::as_str).collect();
    assert_eq!(
        addrs,
        vec![
            "tencentcloud_vpn_connection.first",
            "tencentcloud_vpn_connection.independent",
            "tencentcloud_vpn_customer_gateway.a",
            "tencentcloud_vpn_customer_gateway.b",
            "tencentcloud_vpn_gateway.one",
            "tencentcloud_vpn_gateway.two",
        ]
    );
    let mut from_state: Vec<String> = ids.values().cloned().collect();
    from_state.sort();
    assert_eq!(sb.cloud().all_ids("ap-guangzhou"), from_state);

    // What is left is planned again, nothing more.
    let plan = w.plan(&[]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
}
