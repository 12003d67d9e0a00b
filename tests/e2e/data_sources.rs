//! Data sources: gateways found by name and by tags, a VPC by id, used to build a tunnel.

use crate::common::{SandboxProc, Work};

/// Managed elsewhere: a hub gateway and a decoy with another name and tags.
const OTHER_TEAM: &str = r#"
resource "tencentcloud_vpn_gateway" "hub" {
  name   = "shared-hub"
  vpc_id = "vpc-sandbox1"
  tags = {
    role = "hub"
  }
}

resource "tencentcloud_vpn_gateway" "decoy" {
  name   = "shared-decoy"
  vpc_id = "vpc-sandbox1"
  tags = {
    role = "spoke"
  }
}
"#;

const CONSUMER: &str = r#"
data "tencentcloud_vpn_gateways" "by_name" {
  name = "shared-hub"
}

data "tencentcloud_vpn_gateways" "by_tags" {
  tags = {
    role = "hub"
  }
}

data "tencentcloud_vpc_instances" "vpc" {
  vpc_id = "vpc-sandbox1"
}

resource "tencentcloud_vpn_customer_gateway" "branch" {
  name              = "branch"
  public_ip_address = "198.51.100.50"
}

resource "tencentcloud_vpn_connection" "branch" {
  name                = "to-branch"
  vpc_id              = data.tencentcloud_vpc_instances.vpc.instance_list[0].vpc_id
  vpn_gateway_id      = data.tencentcloud_vpn_gateways.by_name.gateway_list[0].id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.branch.id
  pre_share_key       = "data-key"
  security_group_policy {
    local_cidr_block  = cidrsubnet(data.tencentcloud_vpc_instances.vpc.instance_list[0].cidr_block, 8, 5)
    remote_cidr_block = ["192.168.50.0/24"]
  }
}

output "by_name" {
  value = [for g in data.tencentcloud_vpn_gateways.by_name.gateway_list : g.id]
}

output "by_tags" {
  value = [for g in data.tencentcloud_vpn_gateways.by_tags.gateway_list : g.id]
}

output "vpc_cidr" {
  value = data.tencentcloud_vpc_instances.vpc.instance_list[0].cidr_block
}
"#;

#[test]
fn data_sources_find_gateways_by_name_and_tags_and_vpcs_by_id() {
    let sb = SandboxProc::start(50, &[]);
    let owner = Work::with_sandbox(&sb);
    owner.config(OTHER_TEAM);
    owner.apply(&[]).success();
    let hub = owner.state_id("tencentcloud_vpn_gateway.hub");

    let w = Work::with_sandbox(&sb);
    w.config(CONSUMER);
    let plan = w.plan(&[]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    // The gateway id is known at plan time: it was read.
    assert!(
        plan.stdout
            .contains(&format!(r#"+ vpn_gateway_id             = "{hub}""#)),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains(r#""10.0.5.0/24""#), "{}", plan.stdout);

    w.apply(&[]).success();
    let t = sb
        .cloud()
        .connection(
            "ap-guangzhou",
            &w.state_id("tencentcloud_vpn_connection.branch"),
        )
        .expect("tunnel");
    assert_eq!(t.vpn_gateway_id, hub);
    assert_eq!(t.vpc_id, "vpc-sandbox1");
    // Data sources are not managed: not in state as resources to destroy.
    assert_eq!(w.state_ids().len(), 2, "{:?}", w.state_ids());

    let out = w.tf(&["output", "--json", "--dir", "cfg"]);
    out.success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["by_name"]["value"], serde_json::json!([hub]));
    assert_eq!(v["by_tags"]["value"], serde_json::json!([hub]));
    assert_eq!(v["vpc_cidr"]["value"], "10.0.0.0/16");

    w.assert_no_changes(&[]);
    // The owner's configuration is not disturbed by a tunnel on its gateway.
    owner.assert_no_changes(&[]);

    // Destroying the consumer leaves the shared gateways alone.
    w.destroy(&[]).success();
    let gws: Vec<String> = sb
        .cloud()
        .gateways("ap-guangzhou")
        .into_iter()
        .map(|g| g.vpn_gateway_id)
        .collect();
    assert!(gws.contains(&hub));
    assert_eq!(gws.len(), 2);
    assert!(sb.cloud().connection_ids("ap-guangzhou").is_empty());
}

#[test]
fn a_data_source_that_needs_a_new_object_is_read_after_it_is_created() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(
        r#"
resource "tencentcloud_vpn_gateway" "gw" {
  name   = "deferred-gw"
  vpc_id = "vpc-sandbox1"
}

# Its id is known only after apply: the read happens during apply, after the gateway exists.
data "tencentcloud_vpn_gateways" "same" {
  id = tencentcloud_vpn_gateway.gw.id
}

resource "tencentcloud_vpn_customer_gateway" "c" {
  name              = "c"
  public_ip_address = "198.51.100.60"
}

resource "tencentcloud_vpn_connection" "t" {
  name                = "on-the-read-gateway"
  vpc_id              = data.tencentcloud_vpn_gateways.same.gateway_list[0].vpc_id
  vpn_gateway_id      = data.tencentcloud_vpn_gateways.same.gateway_list[0].id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.c.id
  pre_share_key       = "deferred-key"
  security_group_policy {
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.60.0/24"]
  }
}

output "found" {
  value = [for g in data.tencentcloud_vpn_gateways.same.gateway_list : g.name]
}
"#,
    );
    let plan = w.plan(&[]);
    plan.success();
    assert!(
        plan.stdout
            .contains("# data.tencentcloud_vpn_gateways.same will be read during apply"),
        "{}",
        plan.stdout
    );

    let r = w.apply(&[]);
    r.success();
    let pos = |needle: &str| {
        r.stdout
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in\n{}", r.stdout))
    };
    assert!(
        pos("tencentcloud_vpn_gateway.gw: Creation complete")
            < pos("data.tencentcloud_vpn_gateways.same: Reading..."),
        "{}",
        r.stdout
    );
    let gw = w.state_id("tencentcloud_vpn_gateway.gw");
    let t = sb
        .cloud()
        .connection("ap-guangzhou", &w.state_id("tencentcloud_vpn_connection.t"))
        .expect("tunnel");
    assert_eq!(t.vpn_gateway_id, gw);
    let out = w.tf(&["output", "found", "--json", "--dir", "cfg"]);
    out.success();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap(),
        serde_json::json!(["deferred-gw"])
    );
    w.assert_no_changes(&[]);
}

#[test]
fn customer_gateways_are_found_by_name_tags_and_address() {
    let sb = SandboxProc::start(50, &[]);
    let owner = Work::with_sandbox(&sb);
    owner.config(
        r#"
resource "tencentcloud_vpn_customer_gateway" "hq" {
  name              = "shared-office"
  public_ip_address = "203.0.113.1"
  tags = {
    site = "hq"
  }
}

resource "tencentcloud_vpn_customer_gateway" "branch" {
  name              = "other-office"
  public_ip_address = "203.0.113.2"
  tags = {
    site = "branch"
  }
}
"#,
    );
    owner.apply(&[]).success();

    let w = Work::with_sandbox(&sb);
    w.config(
        r#"
data "tencentcloud_vpn_customer_gateways" "by_name" {
  name = "shared-office"
}

data "tencentcloud_vpn_customer_gateways" "by_tags" {
  tags = {
    site = "branch"
  }
}

data "tencentcloud_vpn_customer_gateways" "by_address" {
  public_ip_address = "203.0.113.2"
}

output "by_name" {
  value = [for c in data.tencentcloud_vpn_customer_gateways.by_name.gateway_list : c.id]
}

output "by_tags" {
  value = [for c in data.tencentcloud_vpn_customer_gateways.by_tags.gateway_list : c.id]
}

output "by_address" {
  value = [for c in data.tencentcloud_vpn_customer_gateways.by_address.gateway_list : c.id]
}
"#,
    );
    let r = w.apply(&[]);
    r.success();
    assert!(
        r.stdout
            .contains("Resources: 0 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    let out = w.tf(&["output", "--json", "--dir", "cfg"]);
    out.success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let hq = owner.state_id("tencentcloud_vpn_customer_gateway.hq");
    let branch = owner.state_id("tencentcloud_vpn_customer_gateway.branch");
    assert_eq!(v["by_name"]["value"], serde_json::json!([hq]));
    assert_eq!(v["by_tags"]["value"], serde_json::json!([branch]));
    assert_eq!(v["by_address"]["value"], serde_json::json!([branch]));
    assert!(w.state_ids().is_empty());
    w.assert_no_changes(&[]);
}
