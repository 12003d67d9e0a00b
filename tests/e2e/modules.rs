//! Local modules through the binary against the sandbox: a root module calling `modules/site`,
//! outputs consumed by the root, Terraform's module addresses in the plan, the state and
//! `--target`, and `moved` blocks taking flat resources into the module without a write to
//! the cloud.

use crate::common::{SandboxProc, Work};

const PSK: &str = "modules-key-Vb6nQ3zL8pW2";

const GATEWAY: &str = r#"
provider "tencentcloud" {
  region = "ap-guangzhou"
}

resource "tencentcloud_vpn_gateway" "hub" {
  name      = "modules-hub"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
}
"#;

/// The site's customer gateway and tunnel, as written flat in the root module.
fn flat() -> String {
    format!(
        r#"{GATEWAY}
resource "tencentcloud_vpn_customer_gateway" "sh" {{
  name              = "site-sh"
  public_ip_address = "203.0.113.61"
}}

resource "tencentcloud_vpn_connection" "sh" {{
  name                = "site-sh-primary"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.hub.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.sh.id
  pre_share_key       = "{PSK}"
  security_group_policy {{
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.61.0/24"]
  }}
}}
"#
    )
}

const SITE_MODULE: &str = r#"
variable "name" {
  type = string
}

variable "public_ip" {
  type = string
}

variable "lan_cidr" {
  type = string
}

variable "gateway_id" {
  type = string
}

variable "pre_share_key" {
  type      = string
  sensitive = true
}

resource "tencentcloud_vpn_customer_gateway" "cgw" {
  name              = "site-${var.name}"
  public_ip_address = var.public_ip
}

resource "tencentcloud_vpn_connection" "primary" {
  name                = "site-${var.name}-primary"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = var.gateway_id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.cgw.id
  pre_share_key       = var.pre_share_key
  security_group_policy {
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = [var.lan_cidr]
  }
}

output "tunnel_id" {
  value = tencentcloud_vpn_connection.primary.id
}

output "customer_gateway_name" {
  value = tencentcloud_vpn_customer_gateway.cgw.name
}
"#;

/// The same site through `modules/site`, with moved blocks from the flat addresses.
fn with_module() -> String {
    format!(
        r#"{GATEWAY}
module "sh" {{
  source        = "./modules/site"
  name          = "sh"
  public_ip     = "203.0.113.61"
  lan_cidr      = "192.168.61.0/24"
  gateway_id    = tencentcloud_vpn_gateway.hub.id
  pre_share_key = "{PSK}"
}}

moved {{
  from = tencentcloud_vpn_customer_gateway.sh
  to   = module.sh.tencentcloud_vpn_customer_gateway.cgw
}}

moved {{
  from = tencentcloud_vpn_connection.sh
  to   = module.sh.tencentcloud_vpn_connection.primary
}}

output "sh_tunnel" {{
  value = module.sh.tunnel_id
}}

output "sh_cgw" {{
  value = module.sh.customer_gateway_name
}}
"#
    )
}

#[test]
fn a_flat_site_moves_into_a_module_without_a_write_and_the_module_plans_applies_and_destroys() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&flat());
    w.apply(&[]).success();
    let ids = w.state_ids();
    assert_eq!(ids.len(), 3, "{ids:?}");

    w.config(&with_module());
    w.write("cfg/modules/site/main.tf", SITE_MODULE);
    let p = w.plan(&["--detailed-exitcode"]);
    p.expect_code(2);
    for needle in [
        "# tencentcloud_vpn_customer_gateway.sh has moved to module.sh.tencentcloud_vpn_customer_gateway.cgw",
        "# tencentcloud_vpn_connection.sh has moved to module.sh.tencentcloud_vpn_connection.primary",
        "Plan: 0 to add, 0 to change, 0 to destroy.",
    ] {
        assert!(p.stdout.contains(needle), "{needle:?} not in\n{}", p.stdout);
    }
    assert!(!p.stdout.contains(PSK), "{}", p.stdout);

    let writes = sb.write_request_count();
    let a = w.apply(&[]);
    a.success();
    assert_eq!(
        sb.write_request_count(),
        writes,
        "the move into the module wrote to the cloud:\n{}\n{}",
        a.stdout,
        sb.stats()
    );
    let now = w.state_ids();
    assert_eq!(
        now["module.sh.tencentcloud_vpn_connection.primary"],
        ids["tencentcloud_vpn_connection.sh"]
    );
    assert_eq!(
        now["module.sh.tencentcloud_vpn_customer_gateway.cgw"],
        ids["tencentcloud_vpn_customer_gateway.sh"]
    );
    assert!(
        !now.contains_key("tencentcloud_vpn_connection.sh"),
        "{now:?}"
    );
    let state = w.state();
    assert_eq!(
        state["outputs"]["sh_tunnel"]["value"],
        ids["tencentcloud_vpn_connection.sh"].as_str(),
        "{}",
        state["outputs"]
    );
    assert_eq!(state["outputs"]["sh_cgw"]["value"], "site-sh");
    w.assert_no_changes(&[]);

    // A change inside the module, targeted by its module address.
    let changed = SITE_MODULE.replace("-primary\"", "-main\"");
    w.write("cfg/modules/site/main.tf", &changed);
    let p = w.plan(&[
        "--detailed-exitcode",
        "--target",
        "module.sh.tencentcloud_vpn_connection.primary",
    ]);
    p.expect_code(2);
    assert!(
        p.stdout
            .contains("# module.sh.tencentcloud_vpn_connection.primary will be updated in-place"),
        "{}",
        p.stdout
    );
    w.apply(&[]).success();
    let tunnel = &ids["tencentcloud_vpn_connection.sh"];
    let conn = sb
        .cloud()
        .connection("ap-guangzhou", tunnel)
        .expect("the tunnel still exists");
    assert_eq!(conn.vpn_connection_name, "site-sh-main");
    w.assert_no_changes(&[]);

    w.destroy(&[]).success();
    assert!(w.state_ids().is_empty(), "{:?}", w.state_ids());
    assert!(sb.cloud().all_ids("ap-guangzhou").is_empty());
}

#[test]
fn a_remote_module_source_is_refused_saying_only_local_sources_are_supported() {
    let w = Work::new();
    w.config(
        "module \"site\" {\n  source  = \"git::https://example.com/vpn-site.git?ref=v1\"\n}\n",
    );
    let r = w.tf(&["validate", "cfg"]);
    assert_ne!(r.code(), Some(0), "{}", r.stdout);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert!(
        out.contains("only local module sources are supported"),
        "{out}"
    );
    assert!(out.contains("main.tf:2:13"), "{out}");
}

const SITES_CSV: &str =
    "name,public_ip,lan_cidr\nsh,203.0.113.81,192.168.81.0/24\nbj,203.0.113.82,192.168.82.0/24\n";

/// The sites of the CSV, written flat with for_each in the root module.
fn flat_sites() -> String {
    format!(
        r#"{GATEWAY}
locals {{
  sites = {{ for s in csvdecode(file("${{path.module}}/sites.csv")) : s.name => s }}
}}

resource "tencentcloud_vpn_customer_gateway" "site" {{
  for_each          = local.sites
  name              = "site-${{each.key}}"
  public_ip_address = each.value.public_ip
}}

resource "tencentcloud_vpn_connection" "site" {{
  for_each            = local.sites
  name                = "site-${{each.key}}-primary"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.hub.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.site[each.key].id
  pre_share_key       = "{PSK}"
  security_group_policy {{
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = [each.value.lan_cidr]
  }}
}}
"#
    )
}

/// The same sites through `modules/site` called with for_each, and the moves.
fn module_sites() -> String {
    let mut moves = String::new();
    for site in ["sh", "bj"] {
        moves.push_str(&format!(
            r#"
moved {{
  from = tencentcloud_vpn_customer_gateway.site["{site}"]
  to   = module.site["{site}"].tencentcloud_vpn_customer_gateway.cgw
}}

moved {{
  from = tencentcloud_vpn_connection.site["{site}"]
  to   = module.site["{site}"].tencentcloud_vpn_connection.primary
}}
"#
        ));
    }
    format!(
        r#"{GATEWAY}
locals {{
  sites = {{ for s in csvdecode(file("${{path.module}}/sites.csv")) : s.name => s }}
}}

module "site" {{
  source        = "./modules/site"
  for_each      = local.sites
  name          = each.key
  public_ip     = each.value.public_ip
  lan_cidr      = each.value.lan_cidr
  gateway_id    = tencentcloud_vpn_gateway.hub.id
  pre_share_key = "{PSK}"
}}
{moves}
output "tunnels" {{
  value = {{ for name, site in module.site : name => site.tunnel_id }}
}}

output "sh_cgw" {{
  value = module.site["sh"].customer_gateway_name
}}
"#
    )
}

#[test]
fn sites_from_a_csv_move_into_a_module_called_with_for_each_without_a_write() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.files(&[("main.tf", &flat_sites()), ("sites.csv", SITES_CSV)]);
    w.apply(&[]).success();
    let ids = w.state_ids();
    assert_eq!(ids.len(), 5, "{ids:?}");

    w.files(&[("main.tf", &module_sites()), ("sites.csv", SITES_CSV)]);
    w.write("cfg/modules/site/main.tf", SITE_MODULE);
    let p = w.plan(&["--detailed-exitcode"]);
    p.expect_code(2);
    for needle in [
        "# tencentcloud_vpn_connection.site[\"sh\"] has moved to module.site[\"sh\"].tencentcloud_vpn_connection.primary",
        "# tencentcloud_vpn_customer_gateway.site[\"bj\"] has moved to module.site[\"bj\"].tencentcloud_vpn_customer_gateway.cgw",
        "Plan: 0 to add, 0 to change, 0 to destroy.",
    ] {
        assert!(p.stdout.contains(needle), "{needle:?} not in\n{}", p.stdout);
    }
    let writes = sb.write_request_count();
    let a = w.apply(&[]);
    a.success();
    assert_eq!(
        sb.write_request_count(),
        writes,
        "the move into the module wrote to the cloud:\n{}\n{}",
        a.stdout,
        sb.stats()
    );
    let now = w.state_ids();
    for site in ["sh", "bj"] {
        assert_eq!(
            now[&format!("module.site[\"{site}\"].tencentcloud_vpn_connection.primary")],
            ids[&format!("tencentcloud_vpn_connection.site[\"{site}\"]")]
        );
    }
    let state = w.state();
    assert_eq!(
        state["outputs"]["tunnels"]["value"]["bj"],
        ids["tencentcloud_vpn_connection.site[\"bj\"]"].as_str(),
        "{}",
        state["outputs"]
    );
    assert_eq!(state["outputs"]["sh_cgw"]["value"], "site-sh");
    w.assert_no_changes(&[]);

    // The plan JSON and the graph name the module instances.
    let json = w.plan(&["--json"]);
    assert!(
        json.stdout
            .contains("module.site[\\\"sh\\\"].tencentcloud_vpn_connection.primary"),
        "{}",
        json.stdout
    );

    w.destroy(&[]).success();
    assert!(w.state_ids().is_empty(), "{:?}", w.state_ids());
    assert!(sb.cloud().all_ids("ap-guangzhou").is_empty());
}

#[test]
fn a_whole_module_instance_is_targeted_with_what_it_depends_on() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    // The module configuration without the moves (nothing to move: a fresh estate).
    let config = module_sites();
    let config = config
        .split("\nmoved {")
        .next()
        .map(|head| format!("{head}\n"))
        .unwrap_or_default();
    assert!(!config.contains("moved"), "{config}");
    w.files(&[("main.tf", &config), ("sites.csv", SITES_CSV)]);
    w.write("cfg/modules/site/main.tf", SITE_MODULE);

    // One instance: its customer gateway and tunnel, and the hub its tunnel depends on.
    let p = w.plan(&["--detailed-exitcode", "--target", r#"module.site["sh"]"#]);
    p.expect_code(2);
    for needle in [
        "# module.site[\"sh\"].tencentcloud_vpn_customer_gateway.cgw will be created",
        "# module.site[\"sh\"].tencentcloud_vpn_connection.primary will be created",
        "# tencentcloud_vpn_gateway.hub will be created",
        "Plan: 3 to add, 0 to change, 0 to destroy.",
    ] {
        assert!(p.stdout.contains(needle), "{needle:?} not in\n{}", p.stdout);
    }
    assert!(!p.stdout.contains("module.site[\"bj\"]"), "{}", p.stdout);
    w.apply(&["--target", r#"module.site["sh"]"#]).success();
    let ids = w.state_ids();
    assert_eq!(
        ids.keys().cloned().collect::<Vec<_>>(),
        [
            "module.site[\"sh\"].tencentcloud_vpn_connection.primary",
            "module.site[\"sh\"].tencentcloud_vpn_customer_gateway.cgw",
            "tencentcloud_vpn_gateway.hub",
        ]
    );

    // The whole call: every instance (only bj's are left to create).
    let p = w.plan(&["--target", "module.site"]);
    p.success();
    assert!(
        p.stdout
            .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        p.stdout
    );
    assert!(
        p.stdout
            .contains("# module.site[\"bj\"].tencentcloud_vpn_connection.primary will be created"),
        "{}",
        p.stdout
    );
    w.apply(&["--target", "module.site"]).success();
    assert_eq!(w.state_ids().len(), 5);
    w.assert_no_changes(&[]);

    // A module that is not called is not a silent no-op target of something else.
    let p = w.plan(&["--target", "module.nope", "--detailed-exitcode"]);
    p.expect_code(0);

    w.destroy(&[]).success();
    assert!(sb.cloud().all_ids("ap-guangzhou").is_empty());
}

/// A site module taking one map of tunnels, each naming its gateway (as a repository with a
/// hub of several gateways writes it).
const TUNNELS_MODULE: &str = r#"
variable "name" {
  type = string
}

variable "public_ip" {
  type = string
}

variable "tunnels" {
  type = map(object({ gateway_id = string, local_cidr = string, remote_cidr = string }))
}

resource "tencentcloud_vpn_customer_gateway" "office" {
  name              = "site-${var.name}"
  public_ip_address = var.public_ip
}

resource "tencentcloud_vpn_connection" "tunnel" {
  for_each            = var.tunnels
  name                = "site-${each.key}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = each.value.gateway_id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.office.id
  pre_share_key       = "modules-key-Vb6nQ3zL8pW2"
  security_group_policy {
    local_cidr_block  = each.value.local_cidr
    remote_cidr_block = [each.value.remote_cidr]
  }
}
"#;

const TUNNELS_ROOT: &str = r#"
provider "tencentcloud" {
  region = "ap-guangzhou"
}

locals {
  gateways = {
    g1 = "10.0.1.0/24"
    g2 = "10.0.2.0/24"
  }
  sites = {
    sh = {
      ip      = "203.0.113.71"
      tunnels = { "sh-g1" = { gateway = "g1", remote = "192.168.71.0/24" }, "sh-g2" = { gateway = "g2", remote = "192.168.72.0/24" } }
    }
  }
}

resource "tencentcloud_vpn_gateway" "gw" {
  for_each  = local.gateways
  name      = "modules-${each.key}"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
}

module "site" {
  source    = "./modules/site"
  for_each  = local.sites
  name      = each.key
  public_ip = each.value.ip
  tunnels = {
    for k, t in each.value.tunnels : k => {
      gateway_id  = tencentcloud_vpn_gateway.gw[t.gateway].id
      local_cidr  = local.gateways[t.gateway]
      remote_cidr = t.remote
    }
  }
}
"#;

#[test]
fn a_tunnel_in_a_module_needs_only_its_own_gateway_from_the_modules_tunnels_input() {
    let sb = SandboxProc::start(0, &[]);
    let w = Work::with_sandbox(&sb);
    w.files(&[("main.tf", TUNNELS_ROOT)]);
    w.write("cfg/modules/site/main.tf", TUNNELS_MODULE);

    // The site's `tunnels` input names both gateways; the tunnel on g2 depends on g2 only, so
    // targeting it creates g2, the office and the tunnel, and leaves g1 alone.
    let target = r#"module.site["sh"].tencentcloud_vpn_connection.tunnel["sh-g2"]"#;
    let p = w.plan(&["--detailed-exitcode", "--target", target]);
    p.expect_code(2);
    for needle in [
        "# tencentcloud_vpn_gateway.gw[\"g2\"] will be created",
        "# module.site[\"sh\"].tencentcloud_vpn_customer_gateway.office will be created",
        "# module.site[\"sh\"].tencentcloud_vpn_connection.tunnel[\"sh-g2\"] will be created",
        "Plan: 3 to add, 0 to change, 0 to destroy.",
    ] {
        assert!(p.stdout.contains(needle), "{needle:?} not in\n{}", p.stdout);
    }
    assert!(!p.stdout.contains("gw[\"g1\"]"), "{}", p.stdout);
    w.apply(&["--target", target]).success();
    assert_eq!(
        w.state_ids().keys().cloned().collect::<Vec<_>>(),
        [
            "module.site[\"sh\"].tencentcloud_vpn_connection.tunnel[\"sh-g2\"]",
            "module.site[\"sh\"].tencentcloud_vpn_customer_gateway.office",
            "tencentcloud_vpn_gateway.gw[\"g2\"]",
        ]
    );
    // The state records the precise dependencies too (they order the deletes).
    let state = w.state();
    let deps = &state["resources"]
        ["module.site[\"sh\"].tencentcloud_vpn_connection.tunnel[\"sh-g2\"]"]["dependencies"];
    assert_eq!(
        deps,
        &serde_json::json!([
            "module.site[\"sh\"].tencentcloud_vpn_customer_gateway.office",
            "tencentcloud_vpn_gateway.gw[\"g2\"]"
        ]),
        "{state:#}"
    );

    // The rest, then nothing to do, then everything goes.
    w.apply(&[]).success();
    assert_eq!(w.state_ids().len(), 5, "{:?}", w.state_ids());
    w.assert_no_changes(&[]);
    w.destroy(&[]).success();
    assert!(w.state_ids().is_empty(), "{:?}", w.state_ids());
    assert!(sb.cloud().all_ids("ap-guangzhou").is_empty());
}
