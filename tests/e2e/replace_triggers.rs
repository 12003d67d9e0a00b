//! `lifecycle { replace_triggered_by }` through the binary and the sandbox: an in-place change
//! of a customer gateway replaces the tunnel that names it, one that names only an attribute
//! that did not change stays, and the plan after the apply is empty.

use crate::common::{gateway_block, SandboxProc, Work};

const REGION: &str = "ap-guangzhou";

/// A gateway, customer gateways `a` and `b` (their names given), tunnel `t` on `a` replaced by
/// any change of `a`, tunnel `u` on `b` replaced by a change of `b`'s address only.
fn config(a_name: &str, b_name: &str) -> String {
    format!(
        r#"
provider "tencentcloud" {{
  region = "{REGION}"
}}
{gw}
resource "tencentcloud_vpn_customer_gateway" "a" {{
  name              = "{a_name}"
  public_ip_address = "203.0.113.71"
}}

resource "tencentcloud_vpn_customer_gateway" "b" {{
  name              = "{b_name}"
  public_ip_address = "203.0.113.72"
}}

resource "tencentcloud_vpn_connection" "t" {{
  name                = "t"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = "trigger-key"
  security_group_policy {{
    local_cidr_block  = "10.0.7.0/24"
    remote_cidr_block = ["192.168.7.0/24"]
  }}
  lifecycle {{
    replace_triggered_by = [tencentcloud_vpn_customer_gateway.a]
  }}
}}

resource "tencentcloud_vpn_connection" "u" {{
  name                = "u"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.b.id
  pre_share_key       = "trigger-key"
  security_group_policy {{
    local_cidr_block  = "10.0.8.0/24"
    remote_cidr_block = ["192.168.8.0/24"]
  }}
  lifecycle {{
    replace_triggered_by = [tencentcloud_vpn_customer_gateway.b.public_ip_address]
  }}
}}
"#,
        gw = gateway_block("trigger-gw"),
    )
}

#[test]
fn an_in_place_change_replaces_the_tunnel_that_names_it_and_an_unchanged_attribute_does_not() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("cgw-a", "cgw-b"));
    w.apply(&[]).success();
    w.assert_no_changes(&[]);
    let ids = w.state_ids();

    // Both customer gateways are renamed (an update in place).
    w.config(&config("cgw-a2", "cgw-b2"));
    let p = w.plan(&[]);
    p.success();
    for needle in [
        "# tencentcloud_vpn_connection.t must be replaced",
        "# (replaced because tencentcloud_vpn_customer_gateway.a changed: lifecycle.replace_triggered_by)",
        "Plan: 1 to add, 2 to change, 1 to destroy.",
    ] {
        assert!(p.stdout.contains(needle), "{needle:?} not in\n{}", p.stdout);
    }
    assert!(
        !p.stdout.contains("tencentcloud_vpn_connection.u must"),
        "u names only b's address, which does not change:\n{}",
        p.stdout
    );
    let json = w.plan(&["--json"]);
    json.success();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    let changes = v["resource_changes"].as_array().expect("resource_changes");
    let of = |a: &str| {
        changes
            .iter()
            .find(|c| c["address"] == a)
            .unwrap_or_else(|| panic!("{a} in {v}"))
    };
    let t = of("tencentcloud_vpn_connection.t");
    assert_eq!(t["action_reason"], "replace_by_triggers", "{t}");
    assert_eq!(
        t["change"]["actions"],
        serde_json::json!(["delete", "create"])
    );
    let u = of("tencentcloud_vpn_connection.u");
    assert_eq!(u["change"]["actions"], serde_json::json!(["no-op"]), "{u}");

    w.apply(&[]).success();
    let after = w.state_ids();
    let t_new = &after["tencentcloud_vpn_connection.t"];
    assert_ne!(
        t_new, &ids["tencentcloud_vpn_connection.t"],
        "t was replaced"
    );
    for same in [
        "tencentcloud_vpn_connection.u",
        "tencentcloud_vpn_customer_gateway.a",
        "tencentcloud_vpn_customer_gateway.b",
        "tencentcloud_vpn_gateway.gw",
    ] {
        assert_eq!(after[same], ids[same], "{same} keeps its object");
    }
    let cloud = sb.cloud();
    let mut tunnels = cloud.connection_ids(REGION);
    tunnels.sort();
    let mut expected = vec![
        t_new.clone(),
        after["tencentcloud_vpn_connection.u"].clone(),
    ];
    expected.sort();
    assert_eq!(tunnels, expected, "the old t is gone, nothing else made");
    let names: Vec<String> = cloud
        .customer_gateways(REGION)
        .into_iter()
        .map(|c| c.customer_gateway_name)
        .collect();
    assert!(names.contains(&"cgw-a2".to_string()), "{names:?}");
    // Nothing changes any more, so nothing triggers.
    w.assert_no_changes(&[]);
}
