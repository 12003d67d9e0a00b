//! `for_each` over a map of sites from a variable file: growth adds exactly the new keys, shrinkage
//! removes exactly the dropped ones, the others are untouched.

use std::collections::BTreeMap;

use crate::common::{SandboxProc, Work};

const CONFIG: &str = r#"
variable "sites" {
  description = "Sites by name: the office's public IP and its LAN."
  type = map(object({
    ip   = string
    cidr = string
  }))
}

resource "tencentcloud_vpn_gateway" "hub" {
  name   = "hub"
  vpc_id = "vpc-sandbox1"
}

resource "tencentcloud_vpn_customer_gateway" "site" {
  for_each          = var.sites
  name              = "site-${each.key}"
  public_ip_address = each.value.ip
}

resource "tencentcloud_vpn_connection" "site" {
  for_each            = var.sites
  name                = "to-${each.key}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.hub.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.site[each.key].id
  pre_share_key       = "foreach-key"
  security_group_policy {
    local_cidr_block  = "10.0.0.0/24"
    remote_cidr_block = [each.value.cidr]
  }
}

output "tunnels" {
  value = { for k, t in tencentcloud_vpn_connection.site : k => t.id }
}
"#;

fn sites(list: &[(&str, &str, &str)]) -> String {
    let mut s = String::from("sites = {\n");
    for (k, ip, cidr) in list {
        s.push_str(&format!("  {k} = {{ ip = \"{ip}\", cidr = \"{cidr}\" }}\n"));
    }
    s.push_str("}\n");
    s
}

fn tunnel_ids(w: &Work) -> BTreeMap<String, String> {
    w.state_ids()
        .into_iter()
        .filter(|(a, _)| a.starts_with("tencentcloud_vpn_connection.site["))
        .collect()
}

#[test]
fn for_each_grows_and_shrinks_with_the_variable_file() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(CONFIG);
    let two = [
        ("paris", "198.51.100.1", "192.168.1.0/24"),
        ("tokyo", "198.51.100.2", "192.168.2.0/24"),
    ];
    w.write("sites.tfvars", &sites(&two));
    let vf = ["--var-file", "sites.tfvars"];

    let apply = w.apply(&vf);
    apply.success();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 5 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    let before = tunnel_ids(&w);
    assert_eq!(
        before.keys().cloned().collect::<Vec<_>>(),
        vec![
            r#"tencentcloud_vpn_connection.site["paris"]"#.to_string(),
            r#"tencentcloud_vpn_connection.site["tokyo"]"#.to_string(),
        ]
    );
    w.assert_no_changes(&vf);

    // Growth: one more site, nothing else touched.
    let mut three = two.to_vec();
    three.push(("lima", "198.51.100.3", "192.168.3.0/24"));
    w.write("sites.tfvars", &sites(&three));
    let plan = w.plan(&vf);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains(r#"# tencentcloud_vpn_connection.site["lima"] will be created"#),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains(r#"# tencentcloud_vpn_customer_gateway.site["lima"] will be created"#),
        "{}",
        plan.stdout
    );
    w.apply(&vf).success();
    let grown = tunnel_ids(&w);
    assert_eq!(grown.len(), 3);
    for (addr, id) in &before {
        assert_eq!(grown.get(addr), Some(id), "{addr} kept its tunnel");
    }
    let lima = sb
        .cloud()
        .connection(
            "ap-guangzhou",
            &grown[r#"tencentcloud_vpn_connection.site["lima"]"#],
        )
        .expect("the lima tunnel exists");
    assert_eq!(lima.vpn_connection_name, "to-lima");
    assert_eq!(
        lima.security_policy_database_set[0].remote_cidr_block,
        vec!["192.168.3.0/24"]
    );
    w.assert_no_changes(&vf);

    // Shrinkage: only tokyo is left.
    w.write("sites.tfvars", &sites(&two[1..]));
    let plan = w.plan(&vf);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 0 to change, 4 to destroy."),
        "{}",
        plan.stdout
    );
    w.apply(&vf).success();
    let left = tunnel_ids(&w);
    let tokyo = r#"tencentcloud_vpn_connection.site["tokyo"]"#;
    assert_eq!(left.keys().collect::<Vec<_>>(), vec![tokyo]);
    assert_eq!(left[tokyo], before[tokyo]);
    let cloud = sb.cloud();
    assert_eq!(
        cloud.connection_ids("ap-guangzhou"),
        vec![before[tokyo].clone()]
    );
    assert_eq!(cloud.customer_gateways("ap-guangzhou").len(), 1);
    w.assert_no_changes(&vf);

    // The output follows the map.
    let out = w.tf(&["output", "tunnels", "--json", "--dir", "cfg"]);
    out.success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("output --json");
    assert_eq!(v, serde_json::json!({ "tokyo": before[tokyo] }));
}

#[test]
fn count_grows_and_shrinks() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(
        r#"
variable "n" {
  type = number
}

resource "tencentcloud_vpn_customer_gateway" "office" {
  count             = var.n
  name              = format("office-%02d", count.index)
  public_ip_address = cidrhost("198.51.100.0/24", 10 + count.index)
}
"#,
    );
    w.apply(&["--var", "n=3"]).success();
    let names = || {
        let mut v: Vec<String> = sb
            .cloud()
            .customer_gateways("ap-guangzhou")
            .into_iter()
            .map(|c| format!("{} {}", c.customer_gateway_name, c.ip_address))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(),
        vec![
            "office-00 198.51.100.10",
            "office-01 198.51.100.11",
            "office-02 198.51.100.12"
        ]
    );
    let first = w.state_id("tencentcloud_vpn_customer_gateway.office[0]");
    w.assert_no_changes(&["--var", "n=3"]);

    let shrink = w.plan(&["--var", "n=1"]);
    shrink.success();
    assert!(
        shrink
            .stdout
            .contains("Plan: 0 to add, 0 to change, 2 to destroy."),
        "{}",
        shrink.stdout
    );
    w.apply(&["--var", "n=1"]).success();
    assert_eq!(names(), vec!["office-00 198.51.100.10"]);
    assert_eq!(
        w.state_id("tencentcloud_vpn_customer_gateway.office[0]"),
        first
    );

    w.apply(&["--var", "n=2"]).success();
    assert_eq!(names().len(), 2);
    w.assert_no_changes(&["--var", "n=2"]);
}
