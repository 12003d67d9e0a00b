//! `tunnelform reset ADDR`: one ResetVpnConnection for one tunnel of the state, its state and
//! net_status before and after; a tunnel that is up needs --auto-approve (or a yes on a terminal);
//! clear errors for an address that is not a tunnel in the state or a tunnel gone from the cloud.

use crate::common::{SandboxProc, Work};
use crate::watch::{config, set_status};

const REGION: &str = "ap-guangzhou";
const TUNNEL: &str = "tencentcloud_vpn_connection.t";

fn resets(sb: &SandboxProc) -> u64 {
    sb.stats()["requests"]["ResetVpnConnection"]
        .as_u64()
        .unwrap_or(0)
}

fn applied(sb: &SandboxProc) -> Work {
    let w = Work::with_sandbox(sb);
    w.config(&config("tunnel-one"));
    w.apply(&[]).success();
    w
}

#[test]
fn a_down_tunnel_is_reset_with_one_call_and_reported_before_and_after() {
    let sb = SandboxProc::start(20, &[]);
    let w = applied(&sb);
    let id = w.state_id(TUNNEL);
    set_status(&sb, &id, "UNAVAILABLE", "UNAVAILABLE");
    let writes = sb.write_request_count();
    let r = w.tf(&["reset", TUNNEL, "--dir", "cfg"]);
    r.success();
    let out = &r.stdout;
    assert!(out.contains(&id), "{out}");
    let before = out.find("before: state=AVAILABLE net_status=UNAVAILABLE");
    let after = out.find("after:  state=AVAILABLE net_status=AVAILABLE");
    assert!(
        before.is_some() && after.is_some() && before < after,
        "{out}"
    );
    // One write, the reset; nothing else touched.
    assert_eq!(resets(&sb), 1);
    assert_eq!(sb.write_request_count(), writes + 1);
    let c = sb.cloud().connection(REGION, &id).expect("the tunnel");
    assert_eq!(c.net_status, "AVAILABLE");
    w.assert_no_changes(&[]);
}

#[test]
fn a_tunnel_that_is_up_is_reset_only_with_auto_approve() {
    let sb = SandboxProc::start(20, &[]);
    let w = applied(&sb);
    let r = w.tf(&["reset", TUNNEL, "--dir", "cfg"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("is up") && r.stderr.contains("--auto-approve"),
        "{}",
        r.stderr
    );
    assert_eq!(resets(&sb), 0, "nothing reset without approval");
    let r = w.tf(&["reset", TUNNEL, "--dir", "cfg", "--auto-approve"]);
    r.success();
    assert!(
        r.stdout
            .contains("before: state=AVAILABLE net_status=AVAILABLE"),
        "{}",
        r.stdout
    );
    assert_eq!(resets(&sb), 1);
}

#[test]
fn addresses_that_are_not_a_tunnel_in_the_state_are_clear_errors() {
    let sb = SandboxProc::start(20, &[]);
    let w = applied(&sb);
    for (addr, says) in [
        (
            "tencentcloud_vpn_connection.nope",
            "is not in the state (tunnelform state list shows what is)",
        ),
        (
            "tencentcloud_vpn_gateway.gw",
            "is a tencentcloud_vpn_gateway; only tunnels (tencentcloud_vpn_connection) can be reset",
        ),
        ("not an address", "invalid resource address"),
    ] {
        let r = w.tf(&["reset", addr, "--dir", "cfg", "--auto-approve"]);
        r.expect_code(1);
        assert!(r.stderr.contains(says), "{addr}: {}", r.stderr);
    }
    assert_eq!(resets(&sb), 0);
}

#[test]
fn a_tunnel_deleted_outside_is_said_and_nothing_is_reset() {
    let sb = SandboxProc::start(20, &[]);
    let w = applied(&sb);
    let id = w.state_id(TUNNEL);
    let gw = w.state_id("tencentcloud_vpn_gateway.gw");
    sb.cloud().delete_connection(REGION, &gw, &id);
    let r = w.tf(&["reset", TUNNEL, "--dir", "cfg", "--auto-approve"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains(&id)
            && r.stderr.contains("no longer exists")
            && r.stderr.contains("deleted outside tunnelform"),
        "{}",
        r.stderr
    );
    assert_eq!(resets(&sb), 0);
}

#[test]
fn a_for_each_instance_is_reset_by_its_address_and_the_whole_block_is_refused() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    let text = config("tunnel-one").replace(
        "resource \"tencentcloud_vpn_connection\" \"t\" {\n",
        "resource \"tencentcloud_vpn_connection\" \"t\" {\n  for_each = toset([\"a\"])\n",
    );
    assert!(text.contains("for_each"), "{text}");
    w.config(&text);
    w.apply(&[]).success();
    let addr = "tencentcloud_vpn_connection.t[\"a\"]";
    let id = w.state_id(addr);
    set_status(&sb, &id, "UNAVAILABLE", "UNAVAILABLE");
    let r = w.tf(&["reset", TUNNEL, "--dir", "cfg"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("name the one to reset") && r.stderr.contains(addr),
        "{}",
        r.stderr
    );
    let r = w.tf(&["reset", addr, "--dir", "cfg"]);
    r.success();
    assert!(r.stdout.contains(&id), "{}", r.stdout);
    assert_eq!(resets(&sb), 1);
}

const SITE: &str = r#"
variable "gateway_id" {
  type = string
}

variable "public_ip" {
  type = string
}

resource "tencentcloud_vpn_customer_gateway" "cgw" {
  name              = "reset-site"
  public_ip_address = var.public_ip
}

resource "tencentcloud_vpn_connection" "t" {
  name                = "reset-site"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = var.gateway_id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.cgw.id
  pre_share_key       = "reset-key-Qm3vX8pL2w"
  security_group_policy {
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.71.0/24"]
  }
}
"#;

#[test]
fn a_tunnel_in_a_module_instance_is_reset_by_its_module_address() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&format!(
        r#"
provider "tencentcloud" {{
  region = "ap-guangzhou"
}}
{}
module "site" {{
  for_each   = {{ sh = "203.0.113.71" }}
  source     = "./modules/site"
  gateway_id = tencentcloud_vpn_gateway.gw.id
  public_ip  = each.value
}}
"#,
        crate::common::gateway_block("reset-gw")
    ));
    w.write("cfg/modules/site/main.tf", SITE);
    w.apply(&[]).success();
    let addr = "module.site[\"sh\"].tencentcloud_vpn_connection.t";
    let id = w.state_id(addr);
    set_status(&sb, &id, "UNAVAILABLE", "UNAVAILABLE");
    let r = w.tf(&["reset", addr, "--dir", "cfg"]);
    r.success();
    assert!(
        r.stdout.contains(addr)
            && r.stdout.contains(&id)
            && r.stdout
                .contains("after:  state=AVAILABLE net_status=AVAILABLE"),
        "{}",
        r.stdout
    );
    assert_eq!(resets(&sb), 1);
}
