//! Snapshots of the human plan output (insta) for a create, an update in place and a replacement,
//! with remote ids, times and addresses the sandbox chose filtered out.

use crate::common::{customer_gateway_block, gateway_block, SandboxProc, Work};

fn config(tunnel_args: &str) -> String {
    format!(
        r#"
variable "psk" {{
  type      = string
  default   = "snapshot-key"
  sensitive = true
}}
{}{}{}
resource "tencentcloud_vpn_connection" "office" {{
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  pre_share_key       = var.psk
  security_group_policy {{
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.1.0/24", "192.168.2.0/24"]
  }}
  ike_proto_encry_algorithm  = "AES-CBC-256"
  ike_proto_authen_algorithm = "SHA-256"
  ipsec_encrypt_algorithm    = "AES-CBC-256"
  ipsec_integrity_algorithm  = "SHA-256"
{tunnel_args}
}}

output "tunnel_id" {{
  value = tencentcloud_vpn_connection.office.id
}}
"#,
        gateway_block("snap-gw"),
        customer_gateway_block("a", "203.0.113.1"),
        customer_gateway_block("b", "203.0.113.2"),
    )
}

const BASE: &str = r#"
  name                = "office"
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  dpd_timeout         = 30
  tags = {
    team = "net"
  }
"#;

/// Runs `plan` and snapshots its stdout with the sandbox's choices filtered.
#[track_caller]
fn snapshot_plan(name: &str, w: &Work) {
    let plan = w.plan(&[]);
    plan.success();
    insta::with_settings!({
        prepend_module_to_snapshot => false,
        filters => vec![
            (r"\b(vpngw|cgw|vpnx)-[a-z0-9]{8}\b", "$1-[ID]"),
            (r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}", "[TIME]"),
            (r#"(health_check_local_ip|health_check_remote_ip|ike_local_address|ike_remote_address)( +)= "[0-9.]+""#, "$1$2= \"[IP]\""),
        ],
    }, {
        insta::assert_snapshot!(name, plan.stdout);
    });
}

#[test]
fn plan_create() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    snapshot_plan("plan_create", &w);
}

#[test]
fn plan_update_in_place() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    w.apply(&[]).success();
    w.config(&config(
        r#"
  name                = "office-renamed"
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  dpd_timeout         = 45
  tags = {
    team = "platform"
    env  = "prod"
  }
"#,
    ));
    // A CIDR list changed line by line, too.
    let text = config_with_remotes(&w, r#"["192.168.1.0/24", "192.168.3.0/24"]"#);
    w.config(&text);
    snapshot_plan("plan_update", &w);
}

fn config_with_remotes(w: &Work, remotes: &str) -> String {
    std::fs::read_to_string(w.cfg().join("main.tf"))
        .unwrap()
        .replace(r#"["192.168.1.0/24", "192.168.2.0/24"]"#, remotes)
}

#[test]
fn plan_replace() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    w.apply(&[]).success();
    w.config(&config(&BASE.replace(
        "tencentcloud_vpn_customer_gateway.a.id",
        "tencentcloud_vpn_customer_gateway.b.id",
    )));
    snapshot_plan("plan_replace", &w);
}
