//! The GitOps workflow: saved plans (`plan --out`, `apply FILE`, `show FILE`) and their stale
//! checks, import (command and block), migration from a Terraform state, the state lock between
//! racing jobs, and snapshots of the JSON and Markdown plans.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value as J;
use tunnelform_tencent_api::actions::{
    CreateCustomerGateway, CreateVpnConnection, CreateVpnGateway, ModifyVpnConnectionAttribute,
};
use tunnelform_tencent_api::vpc::{
    CreateCustomerGatewayRequest, CreateVpnConnectionRequest, CreateVpnGatewayRequest,
    HealthCheckConfig, IKEOptionsSpecification, IPSECOptionsSpecification,
    ModifyVpnConnectionAttributeRequest, SecurityPolicyDatabase, Tag,
};

use crate::common::{customer_gateway_block, gateway_block, Cloud, Running, SandboxProc, Work};

const REGION: &str = "ap-guangzhou";
const TUNNEL: &str = "tencentcloud_vpn_connection.t";

/// One gateway, one customer gateway, one tunnel whose key is the sensitive variable `psk`.
fn config(tunnel_args: &str) -> String {
    format!(
        r#"
provider "tencentcloud" {{
  region = "ap-guangzhou"
}}

variable "psk" {{
  type      = string
  sensitive = true
}}
{}{}
resource "tencentcloud_vpn_connection" "t" {{
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = var.psk
  security_group_policy {{
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.1.0/24"]
  }}
{tunnel_args}
}}
"#,
        gateway_block("gitops-gw"),
        customer_gateway_block("a", "203.0.113.1"),
    )
}

const BASE: &str = r#"
  name        = "tunnel-one"
  dpd_timeout = 30
  tags = {
    team = "net"
  }
"#;

const KEY: &str = "saved-plan-key-V9qL2mX7pR";
const OTHER_KEY: &str = "a-different-key-3kT8wQ1zN";

fn var(key: &str) -> String {
    format!("psk={key}")
}

fn json(text: &str) -> J {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// `apply PLANFILE` must be refused before any write, with `why` in the message.
#[track_caller]
fn assert_refused(w: &Work, sb: &SandboxProc, plan: &str, extra: &[&str], why: &str) {
    let writes = sb.write_request_count();
    let state = std::fs::read_to_string(w.state_path()).ok();
    let mut args = vec!["apply", plan];
    args.extend_from_slice(extra);
    let r = w.tf(&args);
    r.expect_code(1);
    assert!(
        r.stderr.contains(why),
        "expected {why:?} in the error:\n{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("tunnelform plan --out"),
        "the error does not say how to fix it:\n{}",
        r.stderr
    );
    assert_eq!(
        sb.write_request_count(),
        writes,
        "a refused plan wrote to the cloud"
    );
    assert_eq!(
        std::fs::read_to_string(w.state_path()).ok(),
        state,
        "a refused plan changed the state"
    );
}

#[test]
fn a_saved_plan_is_shown_and_applied_exactly_and_holds_no_secret() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    let v = var(KEY);

    let plan = w.plan(&["--out", "tfplan", "--var", &v, "--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("Saved the plan to: tfplan")
            && plan.stdout.contains("tunnelform apply tfplan"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 3 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    // Planning wrote nothing.
    assert!(sb.cloud().all_ids(REGION).is_empty());
    let file = std::fs::read_to_string(w.path().join("tfplan")).expect("the plan file");
    assert!(!file.contains(KEY), "the plan file holds the key in clear");
    // Nor when the key is written in the configuration itself.
    let literal = Work::with_sandbox(&sb);
    literal.config(&config(BASE).replace("var.psk", &format!("\"{OTHER_KEY}\"")));
    literal.plan(&["--out", "lit", "--var", &v]).success();
    let file = std::fs::read_to_string(literal.path().join("lit")).expect("the plan file");
    assert!(
        !file.contains(OTHER_KEY),
        "the plan file holds the key in clear"
    );

    // `show` renders the saved plan as `plan` did, in both formats, with no secret.
    let shown = w.tf(&["show", "tfplan"]);
    shown.success();
    let human = plan
        .stdout
        .split("\nSaved the plan to:")
        .next()
        .unwrap()
        .to_string();
    assert_eq!(shown.stdout.trim_end(), human.trim_end());
    assert!(
        shown.stdout.contains("(sensitive value)"),
        "{}",
        shown.stdout
    );
    let shown_json = w.tf(&["show", "tfplan", "--json"]);
    shown_json.success();
    let live_json = w.plan(&["--json", "--var", &v]);
    live_json.success();
    assert_eq!(json(&shown_json.stdout), json(&live_json.stdout));
    for out in [&shown.stdout, &shown_json.stdout] {
        assert!(!out.contains(KEY), "{out}");
        assert!(
            !out.contains("sensitive_digest") && !out.contains("hmac-sha256"),
            "a digest is shown:\n{out}"
        );
    }
    let doc = json(&shown_json.stdout);
    let t = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == TUNNEL)
        .expect("the tunnel");
    assert_eq!(t["change"]["actions"], serde_json::json!(["create"]));
    assert_eq!(t["change"]["after"]["pre_share_key"], J::Null);
    assert_eq!(t["change"]["after_sensitive"]["pre_share_key"], true);

    // The key is read again at apply time and checked against the plan: another one is refused.
    assert_refused(
        &w,
        &sb,
        "tfplan",
        &["--var", &var(OTHER_KEY)],
        "sensitive value",
    );
    let r = w.tf(&["apply", "tfplan", "--var", &var(OTHER_KEY)]);
    assert!(
        !r.stderr.contains(OTHER_KEY) && !r.stdout.contains(OTHER_KEY),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(TUNNEL) && r.stderr.contains("pre_share_key"),
        "the error does not say which value: {}",
        r.stderr
    );

    // With the same key: exactly the reviewed plan is applied (no confirmation asked).
    let apply = w.tf(&["apply", "tfplan", "--var", &v]);
    apply.success();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    let cloud = sb.cloud();
    let id = w.state_id(TUNNEL);
    let t = cloud.connection(REGION, &id).expect("the tunnel exists");
    assert_eq!(t.vpn_connection_name, "tunnel-one");
    assert_eq!(t.pre_share_key.expose(), KEY);
    assert_eq!(cloud.all_ids(REGION).len(), 3);
    let state = std::fs::read_to_string(w.state_path()).unwrap();
    assert!(!state.contains(KEY));
    w.assert_no_changes(&["--var", &v]);

    // The same plan again: the state moved on since (it was made against an empty state).
    assert_refused(
        &w,
        &sb,
        "tfplan",
        &["--var", &v],
        "the state has changed since it was made",
    );
}

#[test]
fn a_stale_saved_plan_is_refused_saying_why() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    let v = var(KEY);
    w.config(&config(BASE));
    w.apply(&["--var", &v]).success();
    let id = w.state_id(TUNNEL);
    let renamed = BASE.replace("tunnel-one", "tunnel-renamed");

    // 1. The state moved on: another apply ran between plan and apply.
    w.config(&config(&renamed));
    w.plan(&["--out", "p1", "--var", &v]).success();
    w.apply(&["--var", &v]).success();
    assert_refused(
        &w,
        &sb,
        "p1",
        &["--var", &v],
        "the state has changed since it was made",
    );

    // 2. The configuration changed after the plan was made.
    w.config(&config(&renamed.replace("30", "45")));
    w.plan(&["--out", "p2", "--var", &v]).success();
    w.config(&config(&renamed.replace("30", "50")));
    assert_refused(
        &w,
        &sb,
        "p2",
        &["--var", &v],
        "the configuration or its variables changed",
    );
    // Back to the configuration it was made from, it applies.
    w.config(&config(&renamed.replace("30", "45")));
    w.tf(&["apply", "p2", "--var", &v]).success();
    assert_eq!(
        sb.cloud()
            .connection(REGION, &id)
            .expect("tunnel")
            .dpd_timeout,
        "45"
    );

    // 3. An object the plan touches changed in the cloud after the plan was made.
    w.config(&config(&renamed.replace("30", "60")));
    w.plan(&["--out", "p3", "--var", &v]).success();
    sb.cloud().call::<ModifyVpnConnectionAttribute>(
        REGION,
        &ModifyVpnConnectionAttributeRequest {
            vpn_connection_id: id.clone(),
            vpn_connection_name: Some("renamed-in-console".into()),
            ..Default::default()
        },
    );
    assert_refused(
        &w,
        &sb,
        "p3",
        &["--var", &v],
        "tencentcloud_vpn_connection.t changed in the cloud since the plan was made (name)",
    );
    // A fresh plan sees the drift and is applied.
    w.plan(&["--out", "p4", "--var", &v]).success();
    w.tf(&["apply", "p4", "--var", &v]).success();
    let t = sb.cloud().connection(REGION, &id).expect("tunnel");
    assert_eq!(
        (t.vpn_connection_name.as_str(), t.dpd_timeout.as_str()),
        ("tunnel-renamed", "60")
    );
    w.assert_no_changes(&["--var", &v]);

    // A plan made with --target is applied with the same targets, and only with them.
    w.config(
        &(config(&BASE.replace("tunnel-one", "renamed-again"))
            + &customer_gateway_block("b", "203.0.113.2")),
    );
    let targeted = w.plan(&[
        "--out",
        "pt",
        "--var",
        &v,
        "--target",
        "tencentcloud_vpn_customer_gateway.b",
    ]);
    targeted.success();
    assert!(
        targeted
            .stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        targeted.stdout
    );
    let r = w.tf(&["apply", "pt", "--var", &v, "--target", TUNNEL]);
    r.expect_code(1);
    assert!(r.stderr.contains("is a saved plan"), "{}", r.stderr);
    let r = w.tf(&["apply", "pt", "--var", &v]);
    r.success();
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    assert_eq!(
        sb.cloud()
            .connection(REGION, &id)
            .expect("tunnel")
            .vpn_connection_name,
        "tunnel-renamed",
        "the tunnel was not in the targeted plan"
    );
}

#[test]
fn a_tunnel_going_down_between_plan_and_apply_does_not_make_the_plan_stale() {
    // The sandbox keeps its world in a file: stopped, edited as the cloud would change on its own
    // (the tunnel went down), and started again.
    let data = tempfile::tempdir().expect("tempdir");
    let data_file = data.path().join("world.json");
    let data_arg = data_file.to_str().unwrap().to_string();
    let sb = SandboxProc::start(20, &["--data", &data_arg]);
    let mut w = Work::with_sandbox(&sb);
    let v = var(KEY);
    w.config(&config(BASE));
    w.apply(&["--var", &v]).success();
    let id = w.state_id(TUNNEL);
    w.config(&config(&BASE.replace("tunnel-one", "tunnel-renamed")));
    w.plan(&["--out", "p", "--var", &v]).success();
    drop(sb);

    let world = std::fs::read_to_string(&data_file).expect("the sandbox's data");
    assert_eq!(
        world.matches(r#""NetStatus":"AVAILABLE""#).count(),
        1,
        "{world}"
    );
    std::fs::write(
        &data_file,
        world.replace(r#""NetStatus":"AVAILABLE""#, r#""NetStatus":"UNAVAILABLE""#),
    )
    .unwrap();
    let sb = SandboxProc::start(20, &["--data", &data_arg]);
    w.endpoint = Some(sb.url.clone());
    assert_eq!(
        sb.cloud()
            .connection(REGION, &id)
            .expect("tunnel")
            .net_status,
        "UNAVAILABLE"
    );
    // Not drift, and not a reason to refuse the reviewed plan.
    let plan = w.plan(&["--var", &v]);
    plan.success();
    assert!(
        !plan.stdout.contains("changed outside tunnelform"),
        "{}",
        plan.stdout
    );
    let apply = w.tf(&["apply", "p", "--var", &v]);
    apply.success();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    assert_eq!(
        sb.cloud()
            .connection(REGION, &id)
            .expect("tunnel")
            .vpn_connection_name,
        "tunnel-renamed"
    );
}

// -------------------------------------------------------------------------------------------------
// Objects made outside tunnelform, through the API (as the console or Terraform would)

/// Waits until a gateway created through the API is AVAILABLE.
fn wait_gateway(cloud: &Cloud, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let g = cloud
            .gateways(REGION)
            .into_iter()
            .find(|g| g.vpn_gateway_id == id)
            .expect("the gateway exists");
        if g.state == "AVAILABLE" {
            return;
        }
        assert!(Instant::now() < deadline, "{id} never became AVAILABLE");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn tags(pairs: &[(&str, &str)]) -> Option<Vec<Tag>> {
    (!pairs.is_empty()).then(|| {
        pairs
            .iter()
            .map(|(k, v)| Tag {
                key: k.to_string(),
                value: v.to_string(),
            })
            .collect()
    })
}

fn make_gateway(cloud: &Cloud, name: &str, tag_pairs: &[(&str, &str)]) -> String {
    let r = cloud.call::<CreateVpnGateway>(
        REGION,
        &CreateVpnGatewayRequest {
            vpc_id: "vpc-sandbox1".into(),
            vpn_gateway_name: name.into(),
            internet_max_bandwidth_out: 5,
            tags: tags(tag_pairs),
            ..Default::default()
        },
    );
    let id = r.vpn_gateway.vpn_gateway_id;
    wait_gateway(cloud, &id);
    id
}

fn make_customer_gateway(
    cloud: &Cloud,
    name: &str,
    ip: &str,
    tag_pairs: &[(&str, &str)],
) -> String {
    cloud
        .call::<CreateCustomerGateway>(
            REGION,
            &CreateCustomerGatewayRequest {
                customer_gateway_name: name.into(),
                ip_address: ip.into(),
                tags: tags(tag_pairs),
                ..Default::default()
            },
        )
        .customer_gateway
        .customer_gateway_id
}

fn make_tunnel(cloud: &Cloud, req: CreateVpnConnectionRequest) -> String {
    let r = cloud.call::<CreateVpnConnection>(REGION, &req);
    cloud.wait_task(REGION, &r.request_id);
    r.vpn_connection.vpn_connection_id
}

fn spd(local: &str, remote: &[&str]) -> SecurityPolicyDatabase {
    SecurityPolicyDatabase {
        local_cidr_block: local.into(),
        remote_cidr_block: remote.iter().map(|s| s.to_string()).collect(),
    }
}

/// The tunnel of [`config`] with [`BASE`], made through the API.
fn make_base_objects(cloud: &Cloud, key: &str) -> (String, String, String) {
    let gw = make_gateway(cloud, "gitops-gw", &[]);
    let cgw = make_customer_gateway(cloud, "cgw-a", "203.0.113.1", &[]);
    let tunnel = make_tunnel(
        cloud,
        CreateVpnConnectionRequest {
            vpn_gateway_id: gw.clone(),
            customer_gateway_id: cgw.clone(),
            vpn_connection_name: "tunnel-one".into(),
            pre_share_key: key.into(),
            vpc_id: Some("vpc-sandbox1".into()),
            security_policy_databases: Some(vec![spd("10.0.1.0/24", &["192.168.1.0/24"])]),
            dpd_timeout: Some("30".into()),
            tags: tags(&[("team", "net")]),
            ..Default::default()
        },
    );
    (gw, cgw, tunnel)
}

#[test]
fn objects_made_outside_are_imported_by_command_then_plan_no_changes() {
    let sb = SandboxProc::start(20, &[]);
    let cloud = sb.cloud();
    let (gw, cgw, tunnel) = make_base_objects(&cloud, KEY);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    let v = var(KEY);

    let writes = sb.write_request_count();
    for (addr, id) in [
        ("tencentcloud_vpn_gateway.gw", &gw),
        ("tencentcloud_vpn_customer_gateway.a", &cgw),
        (TUNNEL, &tunnel),
    ] {
        let r = w.tf(&["import", addr, id, "--dir", "cfg", "--var", &v]);
        r.success();
        assert!(
            r.stdout
                .contains(&format!("{addr}: Import complete [id={id}]")),
            "{}",
            r.stdout
        );
    }
    assert_eq!(
        sb.write_request_count(),
        writes,
        "import wrote to the cloud"
    );
    let st = w.state();
    assert_eq!(st["resources"][TUNNEL]["id"], tunnel.as_str());
    assert_eq!(st["resources"][TUNNEL]["origin"], "imported");
    let text = std::fs::read_to_string(w.state_path()).unwrap();
    assert!(
        !text.contains(KEY),
        "the imported key is in the state in clear"
    );

    w.assert_no_changes(&["--var", &v]);

    // Mistakes say what is wrong.
    let again = w.tf(&["import", TUNNEL, &tunnel, "--dir", "cfg", "--var", &v]);
    again.expect_code(1);
    assert!(
        again.stderr.contains("already in the state"),
        "{}",
        again.stderr
    );
    let missing = w.tf(&[
        "import",
        "tencentcloud_vpn_connection.nope",
        &tunnel,
        "--dir",
        "cfg",
        "--var",
        &v,
    ]);
    missing.expect_code(1);
    assert!(
        missing.stderr.contains("is not in the configuration"),
        "{}",
        missing.stderr
    );
    // A key that differs from the configuration's is a change to make, shown without the key.
    let other = var(OTHER_KEY);
    let plan = w.plan(&["--detailed-exitcode", "--var", &other]);
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("~ pre_share_key") && !plan.stdout.contains(OTHER_KEY),
        "{}",
        plan.stdout
    );
}

#[test]
fn import_blocks_are_planned_as_imports_and_applied_without_writes() {
    let sb = SandboxProc::start(20, &[]);
    let cloud = sb.cloud();
    let (gw, cgw, tunnel) = make_base_objects(&cloud, KEY);
    let w = Work::with_sandbox(&sb);
    let imports = format!(
        r#"
import {{
  to = tencentcloud_vpn_gateway.gw
  id = "{gw}"
}}

import {{
  to = tencentcloud_vpn_customer_gateway.a
  id = "{cgw}"
}}

import {{
  to = tencentcloud_vpn_connection.t
  id = "{tunnel}"
}}
"#
    );
    w.files(&[("main.tf", &config(BASE)), ("imports.tf", &imports)]);
    let v = var(KEY);

    let plan = w.plan(&["--detailed-exitcode", "--var", &v]);
    plan.expect_code(2);
    let out = &plan.stdout;
    for addr in [
        "tencentcloud_vpn_gateway.gw",
        "tencentcloud_vpn_customer_gateway.a",
        TUNNEL,
    ] {
        assert!(
            out.contains(&format!("# {addr} will be imported")),
            "{addr}:\n{out}"
        );
    }
    assert!(
        out.contains("Plan: 3 to import, 0 to add, 0 to change, 0 to destroy."),
        "{out}"
    );
    let doc = json(&w.plan(&["--json", "--var", &v]).stdout);
    assert_eq!(doc["summary"]["import"], 3);
    let t = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == TUNNEL)
        .expect("the tunnel");
    assert_eq!(t["change"]["importing"]["id"], tunnel.as_str());
    assert_eq!(t["change"]["actions"], serde_json::json!(["no-op"]));

    let writes = sb.write_request_count();
    let apply = w.apply(&["--var", &v]);
    apply.success();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 3 imported, 0 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    assert_eq!(
        sb.write_request_count(),
        writes,
        "importing wrote to the cloud:\n{}",
        apply.stdout
    );
    assert_eq!(w.state_id(TUNNEL), tunnel);
    assert_eq!(w.state_id("tencentcloud_vpn_gateway.gw"), gw);
    let text = std::fs::read_to_string(w.state_path()).unwrap();
    assert!(!text.contains(KEY));
    // The import blocks stay in the configuration and are done.
    w.assert_no_changes(&["--var", &v]);
    assert_eq!(cloud.all_ids(REGION).len(), 3);
}

// -------------------------------------------------------------------------------------------------
// Migration from Terraform

const MIGRATE_CONFIG: &str = r#"
provider "tencentcloud" {
  region = "ap-guangzhou"
}

variable "keys" {
  type      = map(string)
  sensitive = true
}

locals {
  sites = {
    beijing = {
      ip = "203.0.113.101"
    }
    shanghai = {
      ip = "203.0.113.102"
    }
  }
}

resource "tencentcloud_vpn_gateway" "main" {
  name      = "tf-main-gw"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
  tags = {
    team = "netops"
  }
}

resource "tencentcloud_vpn_customer_gateway" "site" {
  for_each          = local.sites
  name              = "site-${each.key}"
  public_ip_address = each.value.ip
  tags = {
    site = each.key
  }
}

resource "tencentcloud_vpn_connection" "site" {
  for_each            = local.sites
  name                = "tunnel-${each.key}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.main.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.site[each.key].id
  pre_share_key       = var.keys[each.key]

  dynamic "security_group_policy" {
    for_each = each.key == "beijing" ? { "10.0.0.0/24" = ["192.168.10.0/24", "192.168.11.0/24"] } : { "10.0.1.0/24" = ["192.168.20.0/24"], "10.0.2.0/24" = ["192.168.21.0/24", "192.168.22.0/24"] }
    content {
      local_cidr_block  = security_group_policy.key
      remote_cidr_block = security_group_policy.value
    }
  }

  ike_proto_encry_algorithm  = each.key == "beijing" ? "AES-CBC-256" : "AES-CBC-128"
  ike_proto_authen_algorithm = each.key == "beijing" ? "SHA-256" : "SHA"
  ike_dh_group_name          = each.key == "beijing" ? "GROUP14" : "GROUP2"
  ike_sa_lifetime_seconds    = each.key == "beijing" ? 86400 : 28800
  ike_version                = each.key == "beijing" ? "IKEV2" : "IKEV1"
  ipsec_encrypt_algorithm    = each.key == "beijing" ? "AES-CBC-256" : "AES-CBC-128"
  ipsec_integrity_algorithm  = each.key == "beijing" ? "SHA-256" : "SHA1"
  ipsec_pfs_dh_group         = each.key == "beijing" ? "DH-GROUP14" : "NULL"
  ipsec_sa_lifetime_seconds  = each.key == "beijing" ? 3600 : 14400
  ipsec_sa_lifetime_traffic  = each.key == "beijing" ? 1843200 : 4096000
  dpd_enable                 = each.key == "beijing" ? 0 : 1
  dpd_timeout                = each.key == "beijing" ? 30 : 45
  dpd_action                 = each.key == "beijing" ? "clear" : "restart"
  negotiation_type           = each.key == "beijing" ? "active" : "passive"
  enable_health_check        = each.key == "beijing"

  tags = merge({ site = each.key }, each.key == "beijing" ? { team = "netops" } : {})
}

resource "tencentcloud_vpn_customer_gateway" "backup" {
  count             = 2
  name              = "backup-${count.index}"
  public_ip_address = "198.51.100.${30 + count.index}"
}

resource "tencentcloud_vpn_connection" "backup" {
  count               = 2
  name                = "backup-${count.index}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.main.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.backup[count.index].id
  pre_share_key       = var.keys["backup-${count.index}"]
  security_group_policy {
    local_cidr_block  = "10.0.${3 + count.index}.0/24"
    remote_cidr_block = ["172.16.${count.index}.0/24"]
  }
}
"#;

const MIGRATE_KEYS: [(&str, &str); 4] = [
    ("beijing", "Bj-7hZ!q2LmX9pR4sV8tW1yA3nK6"),
    ("shanghai", "shanghai-Qw3rTy-8uI9oP0aS1dF2g"),
    ("backup-0", "backup-0-Zx8cV7bN6mL5kJ4hGf"),
    ("backup-1", "backup-1-Qa1Ws2Ed3Rf4Tg5Yh6"),
];

/// Makes, through the API, the objects the Terraform state of the fixture describes; returns the
/// fixture's placeholders.
fn make_terraform_objects(cloud: &Cloud) -> BTreeMap<String, String> {
    let key = |name: &str| {
        MIGRATE_KEYS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| k.to_string())
            .unwrap()
    };
    let mut ph = BTreeMap::new();
    let gw = make_gateway(cloud, "tf-main-gw", &[("team", "netops")]);
    let cgw_bj = make_customer_gateway(
        cloud,
        "site-beijing",
        "203.0.113.101",
        &[("site", "beijing")],
    );
    let cgw_sh = make_customer_gateway(
        cloud,
        "site-shanghai",
        "203.0.113.102",
        &[("site", "shanghai")],
    );
    let cgw_b: Vec<String> = (0..2)
        .map(|i| {
            make_customer_gateway(
                cloud,
                &format!("backup-{i}"),
                &format!("198.51.100.{}", 30 + i),
                &[],
            )
        })
        .collect();
    let bj = make_tunnel(
        cloud,
        CreateVpnConnectionRequest {
            vpn_gateway_id: gw.clone(),
            customer_gateway_id: cgw_bj.clone(),
            vpn_connection_name: "tunnel-beijing".into(),
            pre_share_key: key("beijing").into(),
            vpc_id: Some("vpc-sandbox1".into()),
            security_policy_databases: Some(vec![spd(
                "10.0.0.0/24",
                &["192.168.10.0/24", "192.168.11.0/24"],
            )]),
            ike_options_specification: Some(IKEOptionsSpecification {
                propo_encry_algorithm: Some("AES-CBC-256".into()),
                propo_authen_algorithm: Some("SHA-256".into()),
                dh_group_name: Some("GROUP14".into()),
                ike_sa_lifetime_seconds: Some(86400),
                ike_version: Some("IKEV2".into()),
                ..Default::default()
            }),
            ipsec_options_specification: Some(IPSECOptionsSpecification {
                encrypt_algorithm: Some("AES-CBC-256".into()),
                integrity_algorith: Some("SHA-256".into()),
                pfs_dh_group: Some("DH-GROUP14".into()),
                ipsec_sa_lifetime_seconds: Some(3600),
                ipsec_sa_lifetime_traffic: Some(1843200),
                ..Default::default()
            }),
            enable_health_check: Some(true),
            health_check_config: Some(HealthCheckConfig {
                probe_type: Some("NQA".into()),
                probe_interval: Some(5000),
                probe_threshold: Some(3),
                probe_timeout: Some(150),
            }),
            tags: tags(&[("site", "beijing"), ("team", "netops")]),
            ..Default::default()
        },
    );
    let sh = make_tunnel(
        cloud,
        CreateVpnConnectionRequest {
            vpn_gateway_id: gw.clone(),
            customer_gateway_id: cgw_sh.clone(),
            vpn_connection_name: "tunnel-shanghai".into(),
            pre_share_key: key("shanghai").into(),
            vpc_id: Some("vpc-sandbox1".into()),
            security_policy_databases: Some(vec![
                spd("10.0.1.0/24", &["192.168.20.0/24"]),
                spd("10.0.2.0/24", &["192.168.21.0/24", "192.168.22.0/24"]),
            ]),
            ike_options_specification: Some(IKEOptionsSpecification {
                propo_encry_algorithm: Some("AES-CBC-128".into()),
                propo_authen_algorithm: Some("SHA".into()),
                dh_group_name: Some("GROUP2".into()),
                ike_sa_lifetime_seconds: Some(28800),
                ike_version: Some("IKEV1".into()),
                ..Default::default()
            }),
            ipsec_options_specification: Some(IPSECOptionsSpecification {
                encrypt_algorithm: Some("AES-CBC-128".into()),
                integrity_algorith: Some("SHA1".into()),
                pfs_dh_group: Some("NULL".into()),
                ipsec_sa_lifetime_seconds: Some(14400),
                ipsec_sa_lifetime_traffic: Some(4096000),
                ..Default::default()
            }),
            negotiation_type: Some("passive".into()),
            dpd_enable: Some(1),
            dpd_timeout: Some("45".into()),
            dpd_action: Some("restart".into()),
            tags: tags(&[("site", "shanghai")]),
            ..Default::default()
        },
    );
    let backups: Vec<String> = (0..2)
        .map(|i| {
            make_tunnel(
                cloud,
                CreateVpnConnectionRequest {
                    vpn_gateway_id: gw.clone(),
                    customer_gateway_id: cgw_b[i].clone(),
                    vpn_connection_name: format!("backup-{i}"),
                    pre_share_key: key(&format!("backup-{i}")).into(),
                    vpc_id: Some("vpc-sandbox1".into()),
                    security_policy_databases: Some(vec![spd(
                        &format!("10.0.{}.0/24", 3 + i),
                        &[&format!("172.16.{i}.0/24")],
                    )]),
                    ..Default::default()
                },
            )
        })
        .collect();

    let g = cloud
        .gateways(REGION)
        .into_iter()
        .find(|g| g.vpn_gateway_id == gw)
        .unwrap();
    ph.insert("GW_ID".into(), gw.clone());
    ph.insert("GW_IP".into(), g.public_ip_address.clone());
    ph.insert("GW_ZONE".into(), g.zone.clone());
    ph.insert("GW_CREATED".into(), g.created_time.clone());
    ph.insert("GW_EXPIRES".into(), g.expired_time.clone());
    ph.insert("GW_ASN".into(), g.bgp_asn.unwrap_or(0).to_string());
    ph.insert("GW_MAX_CONNECTION".into(), g.max_connection.to_string());
    let cgws = cloud.customer_gateways(REGION);
    for (name, id) in [
        ("CGW_BJ", &cgw_bj),
        ("CGW_SH", &cgw_sh),
        ("CGW_B0", &cgw_b[0]),
        ("CGW_B1", &cgw_b[1]),
    ] {
        let c = cgws.iter().find(|c| &c.customer_gateway_id == id).unwrap();
        ph.insert(name.into(), id.clone());
        ph.insert(format!("{name}_CREATED"), c.created_time.clone());
    }
    let conns = cloud.connections(REGION);
    for (name, id) in [
        ("VPNX_BJ", &bj),
        ("VPNX_SH", &sh),
        ("VPNX_B0", &backups[0]),
        ("VPNX_B1", &backups[1]),
    ] {
        let c = conns.iter().find(|c| &c.vpn_connection_id == id).unwrap();
        ph.insert(name.into(), id.clone());
        ph.insert(format!("{name}_CREATED"), c.created_time.clone());
        ph.insert(format!("{name}_HC_LOCAL"), c.health_check_local_ip.clone());
        ph.insert(
            format!("{name}_HC_REMOTE"),
            c.health_check_remote_ip.clone(),
        );
    }
    for (name, k) in MIGRATE_KEYS {
        let ph_name = match name {
            "beijing" => "PSK_BJ",
            "shanghai" => "PSK_SH",
            "backup-0" => "PSK_B0",
            _ => "PSK_B1",
        };
        ph.insert(ph_name.into(), k.to_string());
    }
    ph
}

#[test]
fn a_terraform_state_migrates_and_the_same_files_plan_no_changes() {
    let sb = SandboxProc::start(20, &[]);
    let cloud = sb.cloud();
    let ph = make_terraform_objects(&cloud);
    let template = include_str!("fixtures/terraform-v4-sandbox.tfstate.tmpl");
    let mut tfstate = template.to_string();
    for (k, v) in &ph {
        tfstate = tfstate.replace(&format!("{{{{{k}}}}}"), v);
    }
    assert!(!tfstate.contains("{{"), "a placeholder is left:\n{tfstate}");

    let w = Work::with_sandbox(&sb);
    w.config(MIGRATE_CONFIG);
    w.write("terraform.tfstate", &tfstate);
    let keys: Vec<String> = MIGRATE_KEYS
        .iter()
        .map(|(n, k)| format!("\"{n}\" = \"{k}\""))
        .collect();
    w.write(
        "secrets.tfvars",
        &format!("keys = {{\n  {}\n}}\n", keys.join("\n  ")),
    );

    let writes = sb.write_request_count();
    let r = w.tf(&[
        "state",
        "migrate-terraform",
        "terraform.tfstate",
        "--dir",
        "cfg",
        "--var-file",
        "secrets.tfvars",
    ]);
    r.success();
    assert!(r.stdout.contains("Migrated 9 object(s)"), "{}", r.stdout);
    assert!(
        r.stderr.contains("data.tencentcloud_vpc_instances.main"),
        "the skipped data source is not reported:\n{}",
        r.stderr
    );
    assert_eq!(sb.write_request_count(), writes);

    let ids = w.state_ids();
    assert_eq!(ids.len(), 9, "{ids:?}");
    assert_eq!(
        ids[r#"tencentcloud_vpn_connection.site["beijing"]"#],
        ph["VPNX_BJ"]
    );
    assert_eq!(
        ids[r#"tencentcloud_vpn_connection.site["shanghai"]"#],
        ph["VPNX_SH"]
    );
    assert_eq!(ids["tencentcloud_vpn_connection.backup[1]"], ph["VPNX_B1"]);
    assert_eq!(
        ids["tencentcloud_vpn_customer_gateway.backup[0]"],
        ph["CGW_B0"]
    );
    assert_eq!(ids["tencentcloud_vpn_gateway.main"], ph["GW_ID"]);
    let text = std::fs::read_to_string(w.state_path()).unwrap();
    for (_, k) in MIGRATE_KEYS {
        assert!(!text.contains(k), "a key is in the migrated state in clear");
    }

    w.assert_no_changes(&["--var-file", "secrets.tfvars"]);

    // The digests were taken from Terraform's keys: another key is a change.
    let mut other = std::fs::read_to_string(w.path().join("secrets.tfvars")).unwrap();
    other = other.replace(MIGRATE_KEYS[1].1, "rotated-shanghai-key-1234");
    w.write("rotated.tfvars", &other);
    let plan = w.plan(&["--detailed-exitcode", "--var-file", "rotated.tfvars"]);
    plan.expect_code(2);
    assert!(
        plan.stdout
            .contains(r#"# tencentcloud_vpn_connection.site["shanghai"] will be updated in-place"#)
            && plan
                .stdout
                .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
}

// -------------------------------------------------------------------------------------------------
// The state lock between jobs

fn lock_record(w: &Work) -> J {
    let p = w.path().join("state").join("cfg.tfstate.json.lock");
    let text = std::fs::read_to_string(&p).unwrap_or_default();
    if text.trim().is_empty() {
        J::Null
    } else {
        json(&text)
    }
}

#[test]
fn two_applies_started_together_one_proceeds_the_other_fails_naming_the_holder() {
    // Tasks take a second: the apply that gets the lock holds it far longer than the two take to start.
    let sb = SandboxProc::start(1000, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    let v = var(KEY);
    let args = ["apply", "cfg", "--auto-approve", "--var", &v];
    let a = Running::spawn(&w, &args, &[]);
    let b = Running::spawn(&w, &args, &[]);
    let (sa, oa, ea) = a.finish();
    let (sb_, ob, eb) = b.finish();
    let runs = [(sa, oa, ea), (sb_, ob, eb)];
    let ok: Vec<&(std::process::ExitStatus, String, String)> =
        runs.iter().filter(|r| r.0.success()).collect();
    let failed: Vec<&(std::process::ExitStatus, String, String)> =
        runs.iter().filter(|r| !r.0.success()).collect();
    assert_eq!(
        (ok.len(), failed.len()),
        (1, 1),
        "exactly one apply must proceed:\n{runs:#?}"
    );
    assert!(
        ok[0]
            .1
            .contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."),
        "{}",
        ok[0].1
    );
    let (status, out, err) = failed[0];
    assert_eq!(status.code(), Some(1), "{err}");
    for needle in [
        "is locked by",
        "operation \"apply\"",
        "since ",
        "lock id ",
        "(pid ",
        "cfg.tfstate.json",
    ] {
        assert!(
            err.contains(needle),
            "{needle:?} not in the lock error:\n{err}"
        );
    }
    assert!(
        !out.contains("Creating...") && !out.contains("Apply complete"),
        "the loser did something:\n{out}"
    );
    // Nothing twice.
    let cloud = sb.cloud();
    assert_eq!(cloud.connections(REGION).len(), 1);
    assert_eq!(cloud.gateways(REGION).len(), 1);
    assert_eq!(cloud.customer_gateways(REGION).len(), 1);
    assert_eq!(lock_record(&w), J::Null, "the lock was not released");
    w.assert_no_changes(&["--var", &v]);
}

#[test]
fn lock_timeout_waits_for_the_holder_and_force_unlock_clears_a_dead_holders_lock() {
    // Tasks take two seconds: the holder keeps the lock well past the checks made while it runs.
    let sb = SandboxProc::start(2000, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    let v = var(KEY);
    let args = ["apply", "cfg", "--auto-approve", "--var", &v];

    let mut holder = Running::spawn(&w, &args, &[]);
    holder.wait_for_line("tencentcloud_vpn_gateway.gw: Creating...");
    let rec = lock_record(&w);
    assert_eq!(rec["operation"], "apply", "{rec}");
    let lock_id = rec["id"].as_str().expect("a lock id").to_string();

    // A short timeout gives up, naming the holder.
    let r = w.tf(&[
        "apply",
        "cfg",
        "--auto-approve",
        "--var",
        &v,
        "--lock-timeout",
        "100ms",
    ]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("timed out after") && r.stderr.contains(&lock_id),
        "{}",
        r.stderr
    );
    // A running holder's lock cannot be broken.
    let r = w.tf(&["force-unlock", &lock_id, "--dir", "cfg"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("held by a running process"),
        "{}",
        r.stderr
    );
    // A long timeout waits, then finds nothing left to do.
    let mut waiter = Running::spawn(
        &w,
        &[
            "apply",
            "cfg",
            "--auto-approve",
            "--var",
            &v,
            "--lock-timeout",
            "60s",
        ],
        &[],
    );
    waiter.wait_for_line("Waiting for the state lock");
    let (status, out, err) = holder.finish();
    assert!(status.success(), "{out}\n{err}");
    let (status, out, err) = waiter.finish();
    assert!(status.success(), "{out}\n{err}");
    assert!(
        out.contains("No changes. Your infrastructure matches the configuration."),
        "{out}"
    );
    assert_eq!(sb.cloud().connections(REGION).len(), 1);

    // A holder killed mid-apply leaves its record behind: force-unlock clears it.
    let two = config(&BASE.replace("tunnel-one", "tunnel-two")).replace(
        "tencentcloud_vpn_customer_gateway.a.id",
        "tencentcloud_vpn_customer_gateway.b.id",
    );
    w.config(&(two + &customer_gateway_block("b", "203.0.113.2")));
    let mut dying = Running::spawn(&w, &args, &[]);
    dying.wait_for_line("Creating...");
    let dead_id = lock_record(&w)["id"].as_str().expect("lock id").to_string();
    drop(dying); // SIGKILL
    assert_eq!(lock_record(&w)["id"], dead_id.as_str(), "the record stays");
    let wrong = w.tf(&["force-unlock", "not-the-lock-id", "--dir", "cfg"]);
    wrong.expect_code(1);
    assert!(wrong.stderr.contains("does not match"), "{}", wrong.stderr);
    let r = w.tf(&["force-unlock", &dead_id, "--dir", "cfg"]);
    r.success();
    assert!(
        r.stdout.contains(&format!("Released the lock {dead_id}")),
        "{}",
        r.stdout
    );
    assert_eq!(lock_record(&w), J::Null);
    // The next apply settles what the killed one left and finishes the job, once.
    w.apply(&["--var", &v]).success();
    assert_eq!(sb.cloud().connections(REGION).len(), 1);
    w.assert_no_changes(&["--var", &v]);
}

#[test]
fn plan_takes_the_state_lock_unless_told_not_to() {
    // Tasks take two seconds: the apply holds the lock while the plans below run.
    let sb = SandboxProc::start(2000, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    let v = var(KEY);
    let mut holder = Running::spawn(&w, &["apply", "cfg", "--auto-approve", "--var", &v], &[]);
    holder.wait_for_line("tencentcloud_vpn_gateway.gw: Creating...");
    let lock_id = lock_record(&w)["id"]
        .as_str()
        .expect("a lock id")
        .to_string();

    // A plan in the middle of an apply fails at once, naming the holder (it once said "No
    // changes" or showed a plan of a half-written state).
    let r = w.plan(&["--var", &v]);
    r.expect_code(1);
    for needle in [
        "is locked by",
        "operation \"apply\"",
        &lock_id,
        "--lock-timeout",
    ] {
        assert!(
            r.stderr.contains(needle),
            "{needle:?} not in:\n{}",
            r.stderr
        );
    }
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    // --lock-timeout is honoured: a short one gives up naming the holder.
    let r = w.plan(&["--var", &v, "--lock-timeout", "100ms"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("timed out after") && r.stderr.contains(&lock_id),
        "{}",
        r.stderr
    );
    // --lock=false (and Terraform's -lock=false) opts out.
    for flag in ["--lock=false", "-lock=false"] {
        let r = w.plan(&["--var", &v, flag]);
        r.success();
        assert!(r.stdout.contains("Plan:"), "{flag}: {}", r.stdout);
    }
    // A long timeout waits for the holder, then plans against what it wrote.
    let mut waiter = Running::spawn(
        &w,
        &["plan", "cfg", "--var", &v, "--lock-timeout", "60s"],
        &[],
    );
    waiter.wait_for_line("Waiting for the state lock");
    let (status, out, err) = holder.finish();
    assert!(status.success(), "{out}\n{err}");
    let (status, out, err) = waiter.finish();
    assert!(status.success(), "{out}\n{err}");
    assert!(
        out.contains("No changes. Your infrastructure matches the configuration."),
        "{out}\n{err}"
    );
    assert_eq!(lock_record(&w), J::Null, "the plan left its lock behind");
}

// -------------------------------------------------------------------------------------------------
// Snapshots of the machine and pull-request formats

#[test]
fn plan_json_and_markdown_with_drift_and_changes_snapshots() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    let v = var(KEY);
    w.config(&config(BASE));
    w.apply(&["--var", &v]).success();
    let id = w.state_id(TUNNEL);
    // Drift: renamed and re-keyed in the console. Changes: a new DPD timeout and a new customer
    // gateway.
    sb.cloud().call::<ModifyVpnConnectionAttribute>(
        REGION,
        &ModifyVpnConnectionAttributeRequest {
            vpn_connection_id: id,
            vpn_connection_name: Some("renamed-in-console".into()),
            pre_share_key: Some(OTHER_KEY.into()),
            ..Default::default()
        },
    );
    w.config(&(config(&BASE.replace("30", "45")) + &customer_gateway_block("b", "203.0.113.2")));

    let filters = vec![
        (r"\b(vpngw|cgw|vpnx)-[a-z0-9]{8}\b", "$1-[ID]"),
        (r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}", "[TIME]"),
        (
            r#"(health_check_local_ip|health_check_remote_ip|ike_local_address|public_ip_address)("?)( *[:=] *)"[0-9.]+""#,
            "$1$2$3\"[IP]\"",
        ),
        (
            r#""tunnelform_version": "[^"]*""#,
            r#""tunnelform_version": "[VERSION]""#,
        ),
    ];
    let json_plan = w.plan(&["--json", "--var", &v]);
    json_plan.success();
    // Saving the plan too: the note goes to stderr, stdout stays the pull-request comment.
    let md = w.plan(&["--format", "markdown", "--var", &v, "--out", "pr.tfplan"]);
    md.success();
    assert!(
        md.stderr.contains("Saved the plan to: pr.tfplan"),
        "{}",
        md.stderr
    );
    for out in [&json_plan.stdout, &md.stdout] {
        assert!(!out.contains(KEY) && !out.contains(OTHER_KEY), "{out}");
    }
    let doc = json(&json_plan.stdout);
    assert_eq!(doc["resource_drift"].as_array().map(Vec::len), Some(1));
    insta::with_settings!({
        prepend_module_to_snapshot => false,
        filters => filters,
    }, {
        insta::assert_snapshot!("gitops_plan_json_drift_and_changes", json_plan.stdout);
        insta::assert_snapshot!("gitops_plan_markdown_drift_and_changes", md.stdout);
    });
}

/// Import blocks for every instance of a `for_each` block are read together: one batched describe,
/// not one per instance.
#[test]
fn import_blocks_of_many_instances_are_read_in_one_batch() {
    let sb = SandboxProc::start(20, &[]);
    let cloud = sb.cloud();
    let sites: Vec<(String, String)> = (0..6)
        .map(|i| {
            let ip = format!("203.0.113.{}", 60 + i);
            (
                format!("s{i}"),
                make_customer_gateway(&cloud, &format!("site-s{i}"), &ip, &[]),
            )
        })
        .collect();
    let mut tf = String::from("locals {\n  sites = {\n");
    for (i, (k, _)) in sites.iter().enumerate() {
        tf.push_str(&format!("    {k} = \"203.0.113.{}\"\n", 60 + i));
    }
    tf.push_str(
        "  }\n}\n\nresource \"tencentcloud_vpn_customer_gateway\" \"site\" {\n  for_each          = local.sites\n  name              = \"site-${each.key}\"\n  public_ip_address = each.value\n}\n",
    );
    for (k, id) in &sites {
        tf.push_str(&format!(
            "\nimport {{\n  to = tencentcloud_vpn_customer_gateway.site[\"{k}\"]\n  id = \"{id}\"\n}}\n"
        ));
    }
    let w = Work::with_sandbox(&sb);
    w.config(&tf);
    let before = sb.stats()["requests"]["DescribeCustomerGateways"]
        .as_u64()
        .unwrap_or(0);
    let plan = w.plan(&[]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 6 to import, 0 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    let after = sb.stats()["requests"]["DescribeCustomerGateways"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(after - before, 1, "{}", sb.stats());
}

/// `apply PLANFILE` executes the saved plan: it checks it against what it was made from, but does
/// not make the plan again. Planning a new estate looks for this project's objects by their
/// ownership tags (GetResources) and reads the quotas (Describe*); applying the saved plan does
/// neither, and creates exactly what the file says.
#[test]
fn a_saved_plan_is_executed_as_it_was_made_not_planned_again() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&config(BASE));
    let v = var(KEY);
    let count = |action: &str| sb.stats()["requests"][action].as_u64().unwrap_or(0);

    let before = count("GetResources");
    w.plan(&["--out", "tfplan", "--var", &v]).success();
    assert!(
        count("GetResources") > before,
        "planning a new estate looks for its objects by their tags: {}",
        sb.stats()
    );
    let (tags, cgws) = (count("GetResources"), count("DescribeCustomerGateways"));
    let r = w.tf(&["apply", "tfplan", "--var", &v]);
    r.success();
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    assert_eq!(count("GetResources"), tags, "{}", sb.stats());
    // The customer gateway quota read (a paged DescribeCustomerGateways of the region) is the
    // plan's; the apply describes only what it created, to see it settle.
    assert!(
        count("DescribeCustomerGateways") <= cgws + 1,
        "{}",
        sb.stats()
    );
    assert_eq!(sb.cloud().all_ids(REGION).len(), 3);
    w.assert_no_changes(&["--var", &v]);
}
