//! Create, update in place, replace, delete: each checked in the plan, in the cloud and in state.

use crate::common::{customer_gateway_block, gateway_block, SandboxProc, Work};

/// One gateway, two customer gateways, one tunnel `t` whose arguments the tests vary.
fn config(tunnel_args: &str) -> String {
    format!(
        r#"
provider "tencentcloud" {{
  region = "ap-guangzhou"
}}
{}{}{}
resource "tencentcloud_vpn_connection" "t" {{
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  pre_share_key       = "lifecycle-key"
  security_group_policy {{
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.1.0/24"]
  }}
{tunnel_args}
}}
"#,
        gateway_block("life-gw"),
        customer_gateway_block("a", "203.0.113.1"),
        customer_gateway_block("b", "203.0.113.2"),
    )
}

const BASE: &str = r#"
  name                = "tunnel-one"
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  dpd_timeout         = 30
  tags = {
    team = "net"
  }
"#;

#[test]
fn create_then_plan_shows_no_changes() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));

    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        plan.stdout
            .contains("Plan: 4 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains(r#"+ resource "tencentcloud_vpn_connection" "t" {"#),
        "{}",
        plan.stdout
    );
    // Nothing was created by planning.
    assert!(sb.cloud().all_ids("ap-guangzhou").is_empty());

    let apply = w.apply(&[]);
    apply.success();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 4 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    assert!(
        apply
            .stdout
            .contains("tencentcloud_vpn_connection.t: Creation complete after"),
        "{}",
        apply.stdout
    );

    // State and cloud agree, object by object.
    let ids = w.state_ids();
    assert_eq!(ids.len(), 4, "{ids:?}");
    let cloud = sb.cloud();
    let t = cloud
        .connection("ap-guangzhou", &w.state_id("tencentcloud_vpn_connection.t"))
        .expect("the tunnel exists");
    assert_eq!(t.vpn_connection_name, "tunnel-one");
    assert_eq!(t.vpn_gateway_id, w.state_id("tencentcloud_vpn_gateway.gw"));
    assert_eq!(
        t.customer_gateway_id,
        w.state_id("tencentcloud_vpn_customer_gateway.a")
    );
    let mut from_state: Vec<String> = ids.values().cloned().collect();
    from_state.sort();
    assert_eq!(cloud.all_ids("ap-guangzhou"), from_state);
    // The pre-shared key is never in the state in clear.
    let state_text = std::fs::read_to_string(w.state_path()).unwrap();
    assert!(!state_text.contains("lifecycle-key"));

    w.assert_no_changes(&[]);
}

#[test]
fn update_in_place_keeps_the_id() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    w.apply(&[]).success();
    let id = w.state_id("tencentcloud_vpn_connection.t");

    w.config(&config(
        r#"
  name                = "tunnel-renamed"
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  dpd_timeout         = 45
  tags = {
    team = "platform"
    env  = "prod"
  }
"#,
    ));
    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(2);
    let out = &plan.stdout;
    assert!(out.contains("~ update in-place"), "{out}");
    assert!(
        out.contains(r#"~ resource "tencentcloud_vpn_connection" "t" {"#),
        "{out}"
    );
    assert!(out.contains("~ dpd_timeout"), "{out}");
    assert!(out.contains("30 -> 45"), "{out}");
    assert!(
        out.contains(r#"~ name"#) && out.contains(r#""tunnel-one" -> "tunnel-renamed""#),
        "{out}"
    );
    assert!(
        out.contains(r#"+ "env"  = "prod""#) || out.contains(r#"+ "env" = "prod""#),
        "{out}"
    );
    assert!(out.contains(r#""net" -> "platform""#), "{out}");
    assert!(!out.contains("forces replacement"), "{out}");
    assert!(
        out.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{out}"
    );

    let apply = w.apply(&[]);
    apply.success();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    assert_eq!(w.state_id("tencentcloud_vpn_connection.t"), id);
    let t = sb
        .cloud()
        .connection("ap-guangzhou", &id)
        .expect("same tunnel");
    assert_eq!(t.vpn_connection_name, "tunnel-renamed");
    assert_eq!(t.dpd_timeout, "45");
    let mut tags: Vec<(String, String)> = t
        .tag_set
        .iter()
        .filter(|t| !t.key.starts_with("tunnelform:"))
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        vec![
            ("env".to_string(), "prod".to_string()),
            ("team".to_string(), "platform".to_string())
        ]
    );
    w.assert_no_changes(&[]);
}

#[test]
fn changing_the_customer_gateway_replaces_the_tunnel() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    w.apply(&[]).success();
    let old = w.state_id("tencentcloud_vpn_connection.t");

    w.config(&config(&BASE.replace(
        "tencentcloud_vpn_customer_gateway.a.id",
        "tencentcloud_vpn_customer_gateway.b.id",
    )));
    let plan = w.plan(&[]);
    plan.success();
    let out = &plan.stdout;
    assert!(
        out.contains(r#"-/+ resource "tencentcloud_vpn_connection" "t" {"#),
        "{out}"
    );
    assert!(out.contains("must be replaced"), "{out}");
    let forced: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("# forces replacement"))
        .collect();
    assert_eq!(forced.len(), 1, "{out}");
    assert!(forced[0].contains("customer_gateway_id"), "{out}");
    assert!(
        out.contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{out}"
    );

    w.apply(&[]).success();
    let new = w.state_id("tencentcloud_vpn_connection.t");
    assert_ne!(new, old);
    let cloud = sb.cloud();
    assert!(
        cloud.connection("ap-guangzhou", &old).is_none(),
        "the old tunnel is gone"
    );
    let t = cloud
        .connection("ap-guangzhou", &new)
        .expect("the new tunnel exists");
    assert_eq!(
        t.customer_gateway_id,
        w.state_id("tencentcloud_vpn_customer_gateway.b")
    );
    assert_eq!(cloud.connection_ids("ap-guangzhou"), vec![new]);
    w.assert_no_changes(&[]);
}

#[test]
fn changing_the_route_type_replaces_the_tunnel() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    w.apply(&[]).success();
    let old = w.state_id("tencentcloud_vpn_connection.t");

    w.config(&config(&format!("{BASE}\n  route_type = \"Policy\"\n")));
    let plan = w.plan(&[]);
    plan.success();
    let out = &plan.stdout;
    assert!(
        out.contains(r#"-/+ resource "tencentcloud_vpn_connection" "t" {"#),
        "{out}"
    );
    let forced: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("# forces replacement"))
        .collect();
    assert_eq!(forced.len(), 1, "{out}");
    assert!(
        forced[0].contains("route_type") && forced[0].contains(r#""StaticRoute" -> "Policy""#),
        "{out}"
    );

    w.apply(&[]).success();
    let new = w.state_id("tencentcloud_vpn_connection.t");
    assert_ne!(new, old);
    let cloud = sb.cloud();
    assert!(cloud.connection("ap-guangzhou", &old).is_none());
    assert_eq!(
        cloud
            .connection("ap-guangzhou", &new)
            .expect("new tunnel")
            .route_type,
        "Policy"
    );
    w.assert_no_changes(&[]);
}

#[test]
fn removing_a_block_deletes_the_object() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    w.apply(&[]).success();
    let cgw_b = w.state_id("tencentcloud_vpn_customer_gateway.b");
    let tunnel = w.state_id("tencentcloud_vpn_connection.t");

    // Drop customer gateway b (unused) and the tunnel.
    let text = config(BASE);
    let without_b = text.replace(&customer_gateway_block("b", "203.0.113.2"), "");
    let cut = without_b
        .find(r#"resource "tencentcloud_vpn_connection" "t""#)
        .unwrap();
    w.config(&without_b[..cut]);

    let plan = w.plan(&[]);
    plan.success();
    let out = &plan.stdout;
    assert!(
        out.contains("# tencentcloud_vpn_connection.t will be destroyed"),
        "{out}"
    );
    assert!(
        out.contains("# (because tencentcloud_vpn_connection.t is not in the configuration)"),
        "{out}"
    );
    assert!(
        out.contains(r#"- resource "tencentcloud_vpn_customer_gateway" "b" {"#),
        "{out}"
    );
    assert!(
        out.contains("Plan: 0 to add, 0 to change, 2 to destroy."),
        "{out}"
    );

    let apply = w.apply(&[]);
    apply.success();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 0 added, 0 changed, 2 destroyed."),
        "{}",
        apply.stdout
    );
    let cloud = sb.cloud();
    assert!(cloud.connection_ids("ap-guangzhou").is_empty());
    assert!(!cloud.all_ids("ap-guangzhou").contains(&cgw_b));
    assert!(!cloud.all_ids("ap-guangzhou").contains(&tunnel));
    let ids = w.state_ids();
    assert_eq!(
        ids.keys().cloned().collect::<Vec<_>>(),
        vec![
            "tencentcloud_vpn_customer_gateway.a".to_string(),
            "tencentcloud_vpn_gateway.gw".to_string()
        ]
    );
    w.assert_no_changes(&[]);
}

#[test]
fn reordered_sets_and_omitted_defaults_plan_no_changes() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    let tunnel = |spd: &str| {
        format!(
            r#"{}{}
resource "tencentcloud_vpn_connection" "t" {{
  name                = "sets"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = "sets-key"
  tags = {{
    b = "2"
    a = "1"
  }}
{spd}
}}
"#,
            gateway_block("sets-gw"),
            customer_gateway_block("a", "203.0.113.1"),
        )
    };
    let first = r#"
  security_group_policy {
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.1.0/24", "192.168.2.0/24", "192.168.3.0/24"]
  }
  security_group_policy {
    local_cidr_block  = "10.0.2.0/24"
    remote_cidr_block = ["192.168.4.0/24"]
  }
"#;
    let reordered = r#"
  security_group_policy {
    local_cidr_block  = "10.0.2.0/24"
    remote_cidr_block = ["192.168.4.0/24"]
  }
  security_group_policy {
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.3.0/24", "192.168.1.0/24", "192.168.2.0/24"]
  }
"#;
    w.config(&tunnel(first));
    w.apply(&[]).success();
    // Everything the configuration leaves out (IKE/IPsec/DPD defaults, health-check addresses the
    // API picks) follows the API: no perpetual diff.
    w.assert_no_changes(&[]);
    w.config(&tunnel(reordered));
    w.assert_no_changes(&[]);
}

#[test]
fn a_changed_pre_shared_key_is_detected_and_updated_without_showing_it() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    w.apply(&[]).success();
    let id = w.state_id("tencentcloud_vpn_connection.t");

    w.config(&config(BASE).replace("lifecycle-key", "rotated-key"));
    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("~ pre_share_key") && plan.stdout.contains("(sensitive value)"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("rotated-key"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("lifecycle-key"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );

    w.apply(&[]).success();
    assert_eq!(w.state_id("tencentcloud_vpn_connection.t"), id);
    let key = sb
        .cloud()
        .connection("ap-guangzhou", &id)
        .expect("tunnel")
        .pre_share_key;
    assert_eq!(key.expose(), "rotated-key");
    let state = std::fs::read_to_string(w.state_path()).unwrap();
    assert!(!state.contains("rotated-key"));
    w.assert_no_changes(&[]);
}

#[test]
fn create_before_destroy_replaces_a_customer_gateway_new_one_first() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    let text = |ip: &str| {
        config(BASE).replace(
            &customer_gateway_block("a", "203.0.113.1"),
            &format!(
                r#"
resource "tencentcloud_vpn_customer_gateway" "a" {{
  name              = "cgw-a"
  public_ip_address = "{ip}"
  lifecycle {{
    create_before_destroy = true
  }}
}}
"#
            ),
        )
    };
    w.config(&text("203.0.113.1"));
    w.apply(&[]).success();
    let old_cgw = w.state_id("tencentcloud_vpn_customer_gateway.a");
    let old_tunnel = w.state_id("tencentcloud_vpn_connection.t");

    w.config(&text("203.0.113.9"));
    let plan = w.plan(&[]);
    plan.success();
    let out = &plan.stdout;
    assert!(
        out.contains("+/- create replacement and then destroy"),
        "{out}"
    );
    assert!(
        out.contains(r#"+/- resource "tencentcloud_vpn_customer_gateway" "a" {"#),
        "{out}"
    );
    // The tunnel names the customer gateway: it is replaced too (destroy first, by default).
    assert!(
        out.contains(r#"-/+ resource "tencentcloud_vpn_connection" "t" {"#),
        "{out}"
    );
    assert!(
        out.contains("Plan: 2 to add, 0 to change, 2 to destroy."),
        "{out}"
    );

    let r = w.apply(&[]);
    r.success();
    let pos = |needle: &str| {
        r.stdout
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in\n{}", r.stdout))
    };
    // New customer gateway, then the tunnel moves to it, then the old one goes.
    assert!(
        pos("tencentcloud_vpn_customer_gateway.a: Creation complete")
            < pos("tencentcloud_vpn_connection.t: Creating..."),
        "{}",
        r.stdout
    );
    assert!(
        pos("tencentcloud_vpn_connection.t: Creation complete")
            < pos("tencentcloud_vpn_customer_gateway.a: Destroying..."),
        "{}",
        r.stdout
    );
    let cloud = sb.cloud();
    let cgws: Vec<String> = cloud
        .customer_gateways("ap-guangzhou")
        .into_iter()
        .map(|c| c.customer_gateway_id)
        .collect();
    let new_cgw = w.state_id("tencentcloud_vpn_customer_gateway.a");
    assert!(!cgws.contains(&old_cgw), "{cgws:?}");
    assert!(cgws.contains(&new_cgw), "{cgws:?}");
    let t = cloud
        .connection("ap-guangzhou", &w.state_id("tencentcloud_vpn_connection.t"))
        .expect("new tunnel");
    assert_ne!(t.vpn_connection_id, old_tunnel);
    assert_eq!(t.customer_gateway_id, new_cgw);
    w.assert_no_changes(&[]);
}

#[test]
fn changes_made_outside_tunnelform_are_shown_and_undone() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    w.apply(&[]).success();
    let id = w.state_id("tencentcloud_vpn_connection.t");
    let gw = w.state_id("tencentcloud_vpn_gateway.gw");
    let cloud = sb.cloud();

    // Modified in the console: the plan notes the drift and puts the configuration back.
    cloud.modify_connection("ap-guangzhou", &id, "renamed-by-hand", 50);
    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(2);
    let out = &plan.stdout;
    assert!(
        out.contains("Objects have changed outside tunnelform"),
        "{out}"
    );
    assert!(
        out.contains("# tencentcloud_vpn_connection.t has changed"),
        "{out}"
    );
    assert!(
        out.contains(r#""renamed-by-hand" -> "tunnel-one""#),
        "{out}"
    );
    assert!(
        out.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{out}"
    );
    w.apply(&[]).success();
    let t = cloud.connection("ap-guangzhou", &id).expect("same tunnel");
    assert_eq!(t.vpn_connection_name, "tunnel-one");
    assert_eq!(t.dpd_timeout, "30");
    w.assert_no_changes(&[]);

    // Deleted in the console: created again.
    cloud.delete_connection("ap-guangzhou", &gw, &id);
    let plan = w.plan(&[]);
    plan.success();
    assert!(
        plan.stdout
            .contains("# tencentcloud_vpn_connection.t has been deleted"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("# (because it was deleted outside tunnelform)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    w.apply(&[]).success();
    let new = w.state_id("tencentcloud_vpn_connection.t");
    assert_ne!(new, id);
    assert_eq!(cloud.connection_ids("ap-guangzhou"), vec![new]);
    w.assert_no_changes(&[]);
}
