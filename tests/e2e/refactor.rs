//! Refactoring without downtime: `moved` blocks (resources and instances), `state mv`,
//! `removed { lifecycle { destroy = false } }` and `-replace`, through the binary against the
//! sandbox. A move is a rename in the state: it makes no write to the cloud.

use crate::common::{SandboxProc, Work};

const PSK: &str = "refactor-key-Tq7wN2xR5mK8";

fn gateway(name: &str) -> String {
    format!(
        r#"
provider "tencentcloud" {{
  region = "ap-guangzhou"
}}

resource "tencentcloud_vpn_gateway" "{name}" {{
  name      = "refactor-gw"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
}}
"#
    )
}

/// A gateway, a customer gateway and a tunnel; `cgw` and `tunnel` are the blocks as written.
fn config(gw: &str, cgw: &str, tunnel: &str, extra: &str) -> String {
    let (cgw_block, cgw_ref) = cgw.split_once('|').unwrap_or((cgw, cgw));
    format!(
        r#"{gateway}
{cgw_block}

resource "tencentcloud_vpn_connection" "{tunnel}" {{
  name                = "refactor-tunnel"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.{gw}.id
  customer_gateway_id = {cgw_ref}.id
  pre_share_key       = "{PSK}"
  security_group_policy {{
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.1.0/24"]
  }}
}}
{extra}
"#,
        gateway = gateway(gw)
    )
}

const CGW_A: &str = r#"resource "tencentcloud_vpn_customer_gateway" "a" {
  name              = "cgw-a"
  public_ip_address = "203.0.113.41"
}|tencentcloud_vpn_customer_gateway.a"#;

const CGW_SITES: &str = r#"resource "tencentcloud_vpn_customer_gateway" "site" {
  for_each          = { a = "203.0.113.41" }
  name              = "cgw-${each.key}"
  public_ip_address = each.value
}|tencentcloud_vpn_customer_gateway.site["a"]"#;

#[test]
fn moved_blocks_rename_in_the_state_without_a_write_to_the_cloud() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("gw", CGW_A, "t", ""));
    w.apply(&[]).success();
    let ids = w.state_ids();

    // A resource renamed and a resource given for_each, with moved blocks.
    w.config(&config(
        "gw",
        CGW_SITES,
        "tunnel",
        r#"
moved {
  from = tencentcloud_vpn_connection.t
  to   = tencentcloud_vpn_connection.tunnel
}

moved {
  from = tencentcloud_vpn_customer_gateway.a
  to   = tencentcloud_vpn_customer_gateway.site["a"]
}
"#,
    ));
    let p = w.plan(&["--detailed-exitcode"]);
    p.expect_code(2);
    for needle in [
        "# tencentcloud_vpn_connection.t has moved to tencentcloud_vpn_connection.tunnel",
        "# tencentcloud_vpn_customer_gateway.a has moved to tencentcloud_vpn_customer_gateway.site[\"a\"]",
        "Plan: 0 to add, 0 to change, 0 to destroy.",
    ] {
        assert!(p.stdout.contains(needle), "{needle:?} not in\n{}", p.stdout);
    }
    assert!(!p.stdout.contains("will be destroyed"), "{}", p.stdout);
    assert!(!p.stdout.contains(PSK), "{}", p.stdout);
    let json = w.plan(&["--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan JSON");
    let moved = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "tencentcloud_vpn_connection.tunnel")
        .expect("the tunnel's change");
    assert_eq!(moved["previous_address"], "tencentcloud_vpn_connection.t");
    assert_eq!(moved["change"]["actions"], serde_json::json!(["no-op"]));

    let writes = sb.write_request_count();
    let a = w.apply(&[]);
    a.success();
    assert_eq!(
        sb.write_request_count(),
        writes,
        "the move wrote to the cloud:\n{}\n{}",
        a.stdout,
        sb.stats()
    );
    let now = w.state_ids();
    assert_eq!(
        now["tencentcloud_vpn_connection.tunnel"],
        ids["tencentcloud_vpn_connection.t"]
    );
    assert_eq!(
        now["tencentcloud_vpn_customer_gateway.site[\"a\"]"],
        ids["tencentcloud_vpn_customer_gateway.a"]
    );
    assert!(
        !now.contains_key("tencentcloud_vpn_connection.t"),
        "{now:?}"
    );
    // The moved blocks may stay: they are no-ops once applied.
    w.assert_no_changes(&[]);

    // `state mv` renames the gateway; the configuration follows without a moved block.
    let mv = w.tf(&[
        "state",
        "mv",
        "tencentcloud_vpn_gateway.gw",
        "tencentcloud_vpn_gateway.main",
        "--dir",
        "cfg",
    ]);
    mv.success();
    assert!(
        mv.stdout
            .contains("Move \"tencentcloud_vpn_gateway.gw\" to \"tencentcloud_vpn_gateway.main\""),
        "{}",
        mv.stdout
    );
    w.config(&config("main", CGW_SITES, "tunnel", ""));
    w.assert_no_changes(&[]);
    assert_eq!(
        w.state_id("tencentcloud_vpn_gateway.main"),
        ids["tencentcloud_vpn_gateway.gw"]
    );
    // Onto an address the state holds: refused, nothing changes.
    let bad = w.tf(&[
        "state",
        "mv",
        "tencentcloud_vpn_gateway.main",
        "tencentcloud_vpn_connection.x",
        "--dir",
        "cfg",
    ]);
    bad.expect_code(1);
    assert!(bad.stderr.contains("different types"), "{}", bad.stderr);
    assert_eq!(sb.write_request_count(), writes, "{}", sb.stats());
}

#[test]
fn replace_and_removed_blocks() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config("gw", CGW_A, "t", ""));
    w.apply(&[]).success();
    let old = w.state_id("tencentcloud_vpn_connection.t");

    // -replace: an unchanged object is replaced when asked.
    let p = w.tf(&["plan", "cfg", "-replace=tencentcloud_vpn_connection.t"]);
    p.success();
    for needle in [
        "# tencentcloud_vpn_connection.t must be replaced",
        "# (replaced as requested with -replace)",
        "Plan: 1 to add, 0 to change, 1 to destroy.",
    ] {
        assert!(p.stdout.contains(needle), "{needle:?} not in\n{}", p.stdout);
    }
    w.apply(&["--replace", "tencentcloud_vpn_connection.t"])
        .success();
    let new = w.state_id("tencentcloud_vpn_connection.t");
    assert_ne!(new, old);
    w.assert_no_changes(&[]);

    // removed { destroy = false }: the tunnel leaves the state and stays in the cloud.
    let cfg = format!(
        "{}\nresource \"tencentcloud_vpn_customer_gateway\" \"a\" {{\n  name              = \"cgw-a\"\n  public_ip_address = \"203.0.113.41\"\n}}\n\nremoved {{\n  from = tencentcloud_vpn_connection.t\n  lifecycle {{\n    destroy = false\n  }}\n}}\n",
        gateway("gw")
    );
    w.config(&cfg);
    let p = w.plan(&[]);
    p.success();
    for needle in [
        "# tencentcloud_vpn_connection.t will no longer be managed by tunnelform",
        "Plan: 0 to add, 0 to change, 0 to destroy, 1 to forget.",
    ] {
        assert!(p.stdout.contains(needle), "{needle:?} not in\n{}", p.stdout);
    }
    let writes = sb.write_request_count();
    w.apply(&[]).success();
    assert_eq!(sb.write_request_count(), writes, "{}", sb.stats());
    assert!(!w.state_ids().contains_key("tencentcloud_vpn_connection.t"));
    assert!(
        sb.cloud().connection_ids("ap-guangzhou").contains(&new),
        "the forgotten tunnel was deleted"
    );
    // It is not taken for a lost state's object and deleted while the removed block stays.
    w.assert_no_changes(&[]);
    assert!(sb.cloud().connection_ids("ap-guangzhou").contains(&new));
}
