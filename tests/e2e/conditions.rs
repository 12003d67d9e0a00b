//! Custom conditions through the binary and the sandbox: preconditions stop the plan or the
//! operation, postconditions fail the apply after the object exists, checks are warnings.

use crate::common::{SandboxProc, Work};

const REGION: &str = "ap-guangzhou";

/// A gateway whose lifecycle holds `lifecycle`, and a second gateway named after the first's id
/// (so it depends on it).
fn two_gateways(lifecycle: &str, second: &str) -> String {
    format!(
        r#"variable "bandwidth" {{
  default = 5
}}

resource "tencentcloud_vpn_gateway" "gw" {{
  name      = "cond-gw"
  vpc_id    = "vpc-sandbox1"
  bandwidth = var.bandwidth
  lifecycle {{
{lifecycle}
  }}
}}

resource "tencentcloud_vpn_gateway" "second" {{
  name      = "second-${{tencentcloud_vpn_gateway.gw.id}}"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
{second}
}}
"#
    )
}

#[test]
fn a_failed_precondition_stops_plan_and_apply_and_creates_nothing() {
    let sb = SandboxProc::start(0, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&two_gateways(
        r#"    precondition {
      condition     = var.bandwidth >= 10
      error_message = "gateways need at least 10 Mbps, got ${var.bandwidth}"
    }"#,
        "",
    ));
    for run in [w.plan(&["--detailed-exitcode"]), w.apply(&[])] {
        run.expect_code(1);
        assert!(
            run.stderr.contains("Resource precondition failed"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("gateways need at least 10 Mbps, got 5 (in tencentcloud_vpn_gateway.gw)"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("cfg/main.tf:11:23"), "{}", run.stderr);
        assert!(!run.stdout.contains("will be created"), "{}", run.stdout);
    }
    assert!(sb.cloud().all_ids(REGION).is_empty());
    // The same configuration with a value that satisfies it plans.
    w.plan(&["--detailed-exitcode", "--var", "bandwidth=10"])
        .expect_code(2);
}

#[test]
fn a_precondition_known_only_at_apply_stops_its_operation_and_its_dependents() {
    let sb = SandboxProc::start(0, &[]);
    let w = Work::with_sandbox(&sb);
    // The second gateway's precondition reads the first's address, known once it exists.
    w.config(&two_gateways(
        "",
        r#"  lifecycle {
    precondition {
      condition     = tencentcloud_vpn_gateway.gw.public_ip_address == "192.0.2.1"
      error_message = "the first gateway's address is ${tencentcloud_vpn_gateway.gw.public_ip_address}"
    }
  }"#,
    ));
    w.plan(&["--detailed-exitcode"]).expect_code(2);
    let apply = w.apply(&[]);
    apply.expect_code(1);
    assert!(
        apply
            .stderr
            .contains("tencentcloud_vpn_gateway.second: create failed")
            && apply
                .stderr
                .contains("Resource precondition failed: the first gateway's address is ")
            && apply.stderr.contains("cfg/main.tf:20:23"),
        "{}",
        apply.stderr
    );
    // The independent gateway was created and recorded; the second was never asked for.
    let gws = sb.cloud().gateways(REGION);
    assert_eq!(gws.len(), 1, "{gws:?}");
    let ids = w.state_ids();
    assert!(ids.contains_key("tencentcloud_vpn_gateway.gw"), "{ids:?}");
    assert!(
        !ids.contains_key("tencentcloud_vpn_gateway.second"),
        "{ids:?}"
    );
}

#[test]
fn a_failed_postcondition_on_self_fails_the_apply_keeps_the_object_and_skips_dependents() {
    let sb = SandboxProc::start(0, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&two_gateways(
        r#"    postcondition {
      condition     = self.public_ip_address == "192.0.2.1"
      error_message = "the gateway got ${self.public_ip_address}, not 192.0.2.1"
    }"#,
        "",
    ));
    // Not known while planning: the plan goes ahead.
    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        !plan.stderr.contains("postcondition failed"),
        "{}",
        plan.stderr
    );
    let apply = w.apply(&[]);
    apply.expect_code(1);
    assert!(
        apply
            .stderr
            .contains("tencentcloud_vpn_gateway.gw: create failed")
            && apply
                .stderr
                .contains("Resource postcondition failed: the gateway got ")
            && apply
                .stderr
                .contains("not 192.0.2.1 (in tencentcloud_vpn_gateway.gw)")
            && apply.stderr.contains("cfg/main.tf:11:23")
            && apply
                .stderr
                .contains("1 dependent operation(s) were skipped"),
        "{}",
        apply.stderr
    );
    // Created, kept in state; its dependent never created.
    let gws = sb.cloud().gateways(REGION);
    assert_eq!(gws.len(), 1, "{gws:?}");
    let ids = w.state_ids();
    assert_eq!(
        ids.get("tencentcloud_vpn_gateway.gw"),
        Some(&gws[0].vpn_gateway_id)
    );
    assert!(
        !ids.contains_key("tencentcloud_vpn_gateway.second"),
        "{ids:?}"
    );
    // Now the address is known: the next plan fails on the postcondition at once.
    let again = w.plan(&[]);
    again.expect_code(1);
    assert!(
        again.stderr.contains("Resource postcondition failed")
            && again.stderr.contains("cfg/main.tf:11:23"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_check_failing_after_apply_is_a_warning_with_exit_code_zero() {
    let sb = SandboxProc::start(0, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(
        r#"resource "tencentcloud_vpn_gateway" "gw" {
  name      = "checked"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
}

check "gateway_address" {
  assert {
    condition     = tencentcloud_vpn_gateway.gw.public_ip_address == "192.0.2.1"
    error_message = "the gateway's address is ${tencentcloud_vpn_gateway.gw.public_ip_address}"
  }
}
"#,
    );
    // At plan: not known yet, no warning; the JSON says unknown.
    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(!plan.stderr.contains("warning"), "{}", plan.stderr);
    let json = w.plan(&["--json"]);
    json.success();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON plan");
    assert_eq!(
        doc["checks"][0]["address"]["to_display"],
        "check.gateway_address"
    );
    assert_eq!(doc["checks"][0]["status"], "unknown");

    let apply = w.apply(&[]);
    apply.success();
    assert!(
        apply
            .stderr
            .contains("warning: Check block assertion failed")
            && apply.stderr.contains("the gateway's address is ")
            && apply.stderr.contains("(in check.gateway_address)")
            && apply.stderr.contains("cfg/main.tf:9:21"),
        "{}",
        apply.stderr
    );
    assert!(
        apply.stdout.contains("Apply complete! Resources: 1 added"),
        "{}",
        apply.stdout
    );
    assert_eq!(sb.cloud().gateways(REGION).len(), 1);

    // Known now: still a warning, and the plan has nothing to do (exit code 0).
    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(0);
    assert!(
        plan.stderr
            .contains("warning: Check block assertion failed"),
        "{}",
        plan.stderr
    );
    let json = w.plan(&["--json"]);
    json.success();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON plan");
    let check = &doc["checks"][0];
    assert_eq!(check["status"], "fail");
    let problem = &check["instances"][0]["problems"][0];
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .starts_with("the gateway's address is "),
        "{problem}"
    );
    assert_eq!(problem["range"]["start"]["line"], 9);
}

#[test]
fn a_check_inside_a_module_names_the_module_instance() {
    let sb = SandboxProc::start(0, &[]);
    let w = Work::with_sandbox(&sb);
    w.files(&[(
        "main.tf",
        r#"module "site" {
  source   = "./modules/site"
  for_each = toset(["bj", "sh"])
  name     = each.key
}
"#,
    )]);
    w.write(
        "cfg/modules/site/main.tf",
        r#"variable "name" {
  type = string
}

check "site_name" {
  assert {
    condition     = var.name == "sh"
    error_message = "site ${var.name} is not sh"
  }
}
"#,
    );
    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(0);
    assert!(
        plan.stderr
            .contains("warning: Check block assertion failed")
            && plan
                .stderr
                .contains("site bj is not sh (in module.site[\"bj\"].check.site_name)")
            && plan.stderr.contains("modules/site/main.tf:7:21"),
        "{}",
        plan.stderr
    );
    assert!(
        !plan.stderr.contains("site sh is not sh"),
        "{}",
        plan.stderr
    );
    let json = w.plan(&["--json"]);
    json.success();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON plan");
    let checks = doc["checks"].as_array().expect("checks");
    let bj = checks
        .iter()
        .find(|c| c["address"]["to_display"] == "module.site[\"bj\"].check.site_name")
        .expect("the bj instance's check");
    assert_eq!(bj["status"], "fail");
    assert_eq!(bj["address"]["module"], "module.site[\"bj\"]");
    let sh = checks
        .iter()
        .find(|c| c["address"]["to_display"] == "module.site[\"sh\"].check.site_name")
        .expect("the sh instance's check");
    assert_eq!(sh["status"], "pass");
    let apply = w.apply(&[]);
    apply.success();
    assert!(
        apply.stderr.contains("module.site[\"bj\"].check.site_name"),
        "{}",
        apply.stderr
    );
}
