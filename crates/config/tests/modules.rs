//! Local module calls: loading, addresses, inputs, outputs, nesting and their diagnostics.

use std::path::Path;

use tunnelform_config::{Config, Lookup, NoLookup, VarInputs};
use tunnelform_model::{Address, Value};

const SITE: &str = r#"
variable "name" {
  type = string
}

variable "public_ip" {
  type = string
}

variable "gateway_id" {
  type = string
}

variable "psk" {
  type      = string
  sensitive = true
}

variable "bandwidth" {
  type    = number
  default = 10
}

locals {
  label = "site-${var.name}"
}

resource "tencentcloud_vpn_customer_gateway" "cgw" {
  name              = local.label
  public_ip_address = var.public_ip
}

resource "tencentcloud_vpn_connection" "primary" {
  name                = "${local.label}-primary"
  vpc_id              = "vpc-12345678"
  vpn_gateway_id      = var.gateway_id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.cgw.id
  pre_share_key       = var.psk

  security_group_policy {
    local_cidr_block  = "10.0.0.0/16"
    remote_cidr_block = ["172.16.0.0/16"]
  }
}

output "cgw_name" {
  value = tencentcloud_vpn_customer_gateway.cgw.name
}

output "label" {
  value = "${local.label}/${var.bandwidth}/${basename(path.module)}"
}

output "psk" {
  value     = var.psk
  sensitive = true
}
"#;

const ROOT: &str = r#"
resource "tencentcloud_vpn_gateway" "gw" {
  name      = "hub"
  vpc_id    = "vpc-12345678"
  bandwidth = 10
  zone      = "ap-guangzhou-3"
}

module "site" {
  source     = "./modules/site"
  name       = "sh"
  public_ip  = "203.0.113.10"
  gateway_id = tencentcloud_vpn_gateway.gw.id
  psk        = "s3cr3t-key"
}

output "label" {
  value = module.site.label
}

output "cgw_name" {
  value = module.site.cgw_name
}

output "psk" {
  value     = module.site.psk
  sensitive = true
}
"#;

/// A configuration directory with files at relative paths (subdirectories created).
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = tmp.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    tmp
}

fn load(dir: &Path) -> Config {
    Config::load(dir, &VarInputs::default())
        .unwrap_or_else(|e| panic!("load failed:\n{e}"))
        .0
}

fn load_errors(dir: &Path) -> tunnelform_config::Diagnostics {
    match Config::load(dir, &VarInputs::default()) {
        Ok((c, _)) => panic!("expected errors, loaded {c:?}"),
        Err(e) => e,
    }
}

struct Known(Vec<(Address, Value)>);

impl Lookup for Known {
    fn instance(&self, addr: &Address) -> Option<Value> {
        self.0
            .iter()
            .find(|(a, _)| a == addr)
            .map(|(_, v)| v.clone())
    }
}

fn obj(pairs: &[(&str, &str)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect(),
    )
}

#[test]
fn module_resources_have_module_addresses_and_get_their_inputs() {
    let dir = tree(&[("main.tf", ROOT), ("modules/site/main.tf", SITE)]);
    let cfg = load(dir.path());
    let order: Vec<String> = cfg
        .block_order()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(
        order,
        [
            "tencentcloud_vpn_gateway.gw",
            "module.site.tencentcloud_vpn_customer_gateway.cgw",
            "module.site.tencentcloud_vpn_connection.primary",
        ]
        .map(String::from)
        .iter()
        .filter(|a| order.contains(a))
        .cloned()
        .collect::<Vec<_>>()
    );
    assert_eq!(order.len(), 3, "{order:?}");
    let pos = |s: &str| order.iter().position(|a| a == s).unwrap();
    assert!(
        pos("tencentcloud_vpn_gateway.gw") < pos("module.site.tencentcloud_vpn_connection.primary")
    );
    assert!(
        pos("module.site.tencentcloud_vpn_customer_gateway.cgw")
            < pos("module.site.tencentcloud_vpn_connection.primary")
    );

    let known = Known(vec![
        (
            "tencentcloud_vpn_gateway.gw".parse().unwrap(),
            obj(&[("id", "vpngw-11112222")]),
        ),
        (
            "module.site.tencentcloud_vpn_customer_gateway.cgw"
                .parse()
                .unwrap(),
            obj(&[("id", "cgw-33334444"), ("name", "site-sh")]),
        ),
    ]);
    let conn: Address = "module.site.tencentcloud_vpn_connection.primary"
        .parse()
        .unwrap();
    let inst = cfg.expand_block(&conn, &known).unwrap();
    assert_eq!(inst.len(), 1);
    let i = &inst[0];
    assert_eq!(i.address, conn);
    assert_eq!(i.attrs["name"], Value::from("site-sh-primary"));
    assert_eq!(i.attrs["vpn_gateway_id"], Value::from("vpngw-11112222"));
    assert_eq!(i.attrs["customer_gateway_id"], Value::from("cgw-33334444"));
    assert!(matches!(i.attrs["pre_share_key"], Value::Sensitive(_)));
    let deps: Vec<String> = i.depends_on.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        deps,
        [
            "tencentcloud_vpn_gateway.gw",
            "module.site.tencentcloud_vpn_customer_gateway.cgw",
        ]
    );
    assert!(i.span.file.ends_with("modules/site/main.tf"), "{}", i.span);

    // Outputs flow back to the root; a sensitive module output stays sensitive.
    let outs = cfg.outputs(&known).unwrap();
    let get = |n: &str| outs.iter().find(|o| o.name == n).unwrap().value.clone();
    assert_eq!(get("label"), Value::from("site-sh/10/site"));
    assert_eq!(get("cgw_name"), Value::from("site-sh"));
    assert!(matches!(get("psk"), Value::Sensitive(_)));
    let outs = cfg.outputs(&NoLookup).unwrap();
    assert_eq!(
        outs.iter().find(|o| o.name == "cgw_name").unwrap().value,
        Value::Unknown
    );
}

#[test]
fn nested_modules_and_same_names_in_different_modules() {
    let inner = r#"
variable "n" {}
resource "tencentcloud_vpn_customer_gateway" "cgw" {
  name              = "inner-${var.n}"
  public_ip_address = "203.0.113.20"
}
output "id" {
  value = tencentcloud_vpn_customer_gateway.cgw.id
}
"#;
    let outer = r#"
variable "n" {}
module "inner" {
  source = "../inner"
  n      = "${var.n}-x"
}
resource "tencentcloud_vpn_customer_gateway" "cgw" {
  name              = "outer-${var.n}"
  public_ip_address = "203.0.113.21"
}
output "inner_id" {
  value = module.inner.id
}
"#;
    let root = r#"
module "a" {
  source = "./modules/outer"
  n      = "a"
}
module "b" {
  source = "./modules/outer"
  n      = "b"
}
resource "tencentcloud_vpn_customer_gateway" "cgw" {
  name              = "root"
  public_ip_address = "203.0.113.22"
}
output "ids" {
  value = [module.a.inner_id, module.b.inner_id]
}
"#;
    let dir = tree(&[
        ("main.tf", root),
        ("modules/outer/main.tf", outer),
        ("modules/inner/main.tf", inner),
    ]);
    let cfg = load(dir.path());
    let mut order: Vec<String> = cfg
        .block_order()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    order.sort();
    assert_eq!(
        order,
        [
            "module.a.module.inner.tencentcloud_vpn_customer_gateway.cgw",
            "module.a.tencentcloud_vpn_customer_gateway.cgw",
            "module.b.module.inner.tencentcloud_vpn_customer_gateway.cgw",
            "module.b.tencentcloud_vpn_customer_gateway.cgw",
            "tencentcloud_vpn_customer_gateway.cgw",
        ]
    );
    let a: Address = "module.b.module.inner.tencentcloud_vpn_customer_gateway.cgw"
        .parse()
        .unwrap();
    let inst = cfg.expand_block(&a, &NoLookup).unwrap();
    assert_eq!(inst[0].attrs["name"], Value::from("inner-b-x"));
    let known = Known(vec![
        (
            "module.a.module.inner.tencentcloud_vpn_customer_gateway.cgw"
                .parse()
                .unwrap(),
            obj(&[("id", "cgw-aaaaaaaa")]),
        ),
        (a.clone(), obj(&[("id", "cgw-bbbbbbbb")])),
    ]);
    assert_eq!(
        output_with(&cfg, &known, "ids"),
        Value::List(vec!["cgw-aaaaaaaa".into(), "cgw-bbbbbbbb".into()])
    );
}

fn output_with(cfg: &Config, l: &dyn Lookup, name: &str) -> Value {
    cfg.outputs(l)
        .unwrap()
        .into_iter()
        .find(|o| o.name == name)
        .unwrap()
        .value
}

#[test]
fn module_call_errors_name_the_place_and_the_call_chain() {
    // A missing required input, an argument the module does not declare.
    let dir = tree(&[
        (
            "main.tf",
            "module \"site\" {\n  source = \"./modules/site\"\n  nmae   = \"sh\"\n}\n",
        ),
        ("modules/site/main.tf", "variable \"name\" {}\n"),
    ]);
    let e = load_errors(dir.path());
    let main = dir.path().join("main.tf").display().to_string();
    let d = e
        .iter()
        .find(|d| d.summary == "Missing required argument \"name\"")
        .unwrap_or_else(|| panic!("{e}"));
    let span = d.span.as_ref().unwrap();
    assert_eq!(
        (span.file.as_ref(), span.line, span.column),
        (main.as_str(), 1, 1)
    );
    let d = e
        .iter()
        .find(|d| d.summary == "Unsupported argument \"nmae\"")
        .unwrap_or_else(|| panic!("{e}"));
    let span = d.span.as_ref().unwrap();
    assert_eq!(
        (span.file.as_ref(), span.line, span.column),
        (main.as_str(), 3, 3)
    );
    assert!(d
        .detail
        .as_ref()
        .unwrap()
        .contains("has no variable \"nmae\""));

    // An error inside a nested module names the module's file and the chain of calls.
    let dir = tree(&[
        ("main.tf", "module \"outer\" {\n  source = \"./modules/outer\"\n}\n"),
        (
            "modules/outer/main.tf",
            "module \"inner\" {\n  source = \"../inner\"\n}\n",
        ),
        (
            "modules/inner/main.tf",
            "resource \"tencentcloud_vpn_customer_gateway\" \"cgw\" {\n  name = \"x\"\n  public_ip_address = local.nope\n}\n",
        ),
    ]);
    let e = load_errors(dir.path());
    let inner = dir
        .path()
        .join("modules/inner/main.tf")
        .display()
        .to_string();
    let d = e
        .iter()
        .find(|d| d.summary.contains("undeclared local value"))
        .unwrap_or_else(|| panic!("{e}"));
    let span = d.span.as_ref().unwrap();
    assert_eq!(
        (span.file.as_ref(), span.line, span.column),
        (inner.as_str(), 3, 23)
    );
    let detail = d.detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains("module.outer.module.inner at ")
            && detail.contains("modules/outer/main.tf:1:1")
            && detail.contains("called from module.outer at "),
        "{detail}"
    );

    // Undeclared outputs and variables are named as written.
    let dir = tree(&[
        (
            "main.tf",
            "module \"site\" {\n  source = \"./modules/site\"\n}\noutput \"x\" {\n  value = module.site.nope\n}\n",
        ),
        ("modules/site/main.tf", "output \"y\" {\n  value = var.missing\n}\n"),
    ]);
    let e = load_errors(dir.path());
    assert!(
        e.iter()
            .any(|d| d.summary == "Reference to undeclared output \"nope\" of module \"site\""),
        "{e}"
    );
    assert!(
        e.iter()
            .any(|d| d.summary == "Reference to undeclared input variable \"missing\""),
        "{e}"
    );

    // A module directory that does not exist.
    let dir = tree(&[(
        "main.tf",
        "module \"site\" {\n  source = \"./modules/nope\"\n}\n",
    )]);
    let e = load_errors(dir.path());
    let d = e
        .iter()
        .find(|d| d.summary.contains("modules/nope"))
        .unwrap_or_else(|| panic!("{e}"));
    assert!(d.span.is_some(), "{d}");
}

#[test]
fn a_module_calling_itself_is_refused() {
    let dir = tree(&[
        (
            "main.tf",
            "module \"loop\" {\n  source = \"./modules/loop\"\n}\n",
        ),
        (
            "modules/loop/main.tf",
            "module \"again\" {\n  source = \"./\"\n}\n",
        ),
    ]);
    let e = load_errors(dir.path());
    assert!(
        e.iter()
            .any(|d| d.summary.contains("Modules nested too deeply")),
        "{e}"
    );
}

#[test]
fn moved_blocks_name_resources_inside_modules() {
    let dir = tree(&[
        (
            "main.tf",
            r#"
module "site" {
  source = "./modules/site"
}

moved {
  from = tencentcloud_vpn_customer_gateway.old
  to   = module.site.tencentcloud_vpn_customer_gateway.cgw
}

moved {
  from = module.legacy["x"].module.inner.tencentcloud_vpn_customer_gateway.cgw[0]
  to   = tencentcloud_vpn_customer_gateway.kept
}

resource "tencentcloud_vpn_customer_gateway" "kept" {
  name              = "kept"
  public_ip_address = "203.0.113.30"
}
"#,
        ),
        (
            "modules/site/main.tf",
            "resource \"tencentcloud_vpn_customer_gateway\" \"cgw\" {\n  name = \"c\"\n  public_ip_address = \"203.0.113.31\"\n}\n",
        ),
    ]);
    let cfg = load(dir.path());
    let moves: Vec<(String, String)> = cfg
        .moved()
        .iter()
        .map(|m| (m.from.to_string(), m.to.to_string()))
        .collect();
    assert!(moves.contains(&(
        "tencentcloud_vpn_customer_gateway.old".into(),
        "module.site.tencentcloud_vpn_customer_gateway.cgw".into()
    )));
    assert!(moves.contains(&(
        "module.legacy[\"x\"].module.inner.tencentcloud_vpn_customer_gateway.cgw[0]".into(),
        "tencentcloud_vpn_customer_gateway.kept".into()
    )));
}

const SITE_WITH_GATEWAY: &str = r#"
variable "name" {}
variable "public_ip" {}
variable "lan" {}

resource "tencentcloud_vpn_gateway" "gw" {
  name      = "gw-${var.name}"
  vpc_id    = "vpc-12345678"
  bandwidth = 5
}

resource "tencentcloud_vpn_customer_gateway" "cgw" {
  name              = "cgw-${var.name}"
  public_ip_address = var.public_ip
}

resource "tencentcloud_vpn_connection" "primary" {
  name                = "${var.name}-primary"
  vpc_id              = "vpc-12345678"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.cgw.id
  pre_share_key       = "k"
  security_group_policy {
    local_cidr_block  = "10.0.0.0/16"
    remote_cidr_block = [var.lan]
  }
}

output "tunnel_name" {
  value = tencentcloud_vpn_connection.primary.name
}
"#;

#[test]
fn for_each_over_a_csv_of_sites_and_count_on_module_calls() {
    let root = r#"
provider "tencentcloud" {
  region = "ap-guangzhou"
}

provider "tencentcloud" {
  alias  = "sh"
  region = "ap-shanghai"
}

locals {
  sites = { for s in csvdecode(file("${path.module}/sites.csv")) : s.name => s }
}

module "site" {
  source    = "./modules/site"
  for_each  = local.sites
  name      = each.key
  public_ip = each.value.public_ip
  lan       = each.value.lan
}

module "backup" {
  source    = "./modules/site"
  count     = 2
  name      = "backup${count.index}"
  public_ip = "198.51.100.${count.index + 1}"
  lan       = "172.30.${count.index}.0/24"
  providers = {
    tencentcloud = tencentcloud.sh
  }
  depends_on = [module.site]
}

output "sh" {
  value = module.site["sh"].tunnel_name
}

output "all" {
  value = [for k, m in module.site : m.tunnel_name]
}

output "backups" {
  value = module.backup[*].tunnel_name
}
"#;
    let dir = tree(&[
        ("main.tf", root),
        (
            "sites.csv",
            "name,public_ip,lan\nsh,203.0.113.1,192.168.1.0/24\nbj,203.0.113.2,192.168.2.0/24\n",
        ),
        ("modules/site/main.tf", SITE_WITH_GATEWAY),
    ]);
    let cfg = load(dir.path());
    let mut blocks: Vec<String> = cfg
        .block_order()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    blocks.sort();
    assert_eq!(blocks.len(), 12, "{blocks:#?}");
    for want in [
        "module.site[\"sh\"].tencentcloud_vpn_connection.primary",
        "module.site[\"bj\"].tencentcloud_vpn_gateway.gw",
        "module.backup[1].tencentcloud_vpn_customer_gateway.cgw",
    ] {
        assert!(
            blocks.iter().any(|b| b == want),
            "{want} not in {blocks:#?}"
        );
    }

    // A tunnel waits for its own site's gateway, not every gateway.
    let sh: Address = "module.site[\"sh\"].tencentcloud_vpn_connection.primary"
        .parse()
        .unwrap();
    let i = cfg.expand_block(&sh, &NoLookup).unwrap().remove(0);
    assert_eq!(i.address, sh);
    assert_eq!(i.attrs["name"], Value::from("sh-primary"));
    assert_eq!(
        i.attrs["security_group_policy"].as_list().unwrap()[0].get("remote_cidr_block"),
        Some(&Value::List(vec!["192.168.1.0/24".into()]))
    );
    let deps: Vec<String> = i.depends_on.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        deps,
        [
            "module.site[\"sh\"].tencentcloud_vpn_customer_gateway.cgw",
            "module.site[\"sh\"].tencentcloud_vpn_gateway.gw",
        ]
    );
    assert_eq!(i.provider.region, "ap-guangzhou");

    // count, providers and depends_on.
    let b1: Address = "module.backup[1].tencentcloud_vpn_connection.primary"
        .parse()
        .unwrap();
    let i = cfg.expand_block(&b1, &NoLookup).unwrap().remove(0);
    assert_eq!(i.attrs["name"], Value::from("backup1-primary"));
    assert_eq!(i.provider.alias.as_deref(), Some("sh"));
    assert_eq!(i.provider.region, "ap-shanghai");
    let deps: Vec<String> = i.depends_on.iter().map(|a| a.to_string()).collect();
    assert!(
        deps.contains(&"module.site[\"bj\"].tencentcloud_vpn_connection.primary".to_string()),
        "{deps:?}"
    );
    let cgw: Address = "module.backup[0].tencentcloud_vpn_customer_gateway.cgw"
        .parse()
        .unwrap();
    let i = cfg.expand_block(&cgw, &NoLookup).unwrap().remove(0);
    assert_eq!(i.attrs["public_ip_address"], Value::from("198.51.100.1"));

    // Outputs of one instance, of all instances.
    let known = Known(vec![
        (sh.clone(), obj(&[("id", "vpnx-1"), ("name", "sh-primary")])),
        (
            "module.site[\"bj\"].tencentcloud_vpn_connection.primary"
                .parse()
                .unwrap(),
            obj(&[("id", "vpnx-2"), ("name", "bj-primary")]),
        ),
    ]);
    assert_eq!(output_with(&cfg, &known, "sh"), Value::from("sh-primary"));
    assert_eq!(
        output_with(&cfg, &known, "all"),
        Value::List(vec!["bj-primary".into(), "sh-primary".into()])
    );
    assert_eq!(
        output_with(&cfg, &NoLookup, "backups"),
        Value::List(vec![Value::Unknown, Value::Unknown])
    );
}

#[test]
fn a_module_for_each_may_not_depend_on_resources() {
    let root = r#"
resource "tencentcloud_vpn_customer_gateway" "c" {
  name              = "c"
  public_ip_address = "203.0.113.9"
}
module "site" {
  source   = "./modules/site"
  for_each = toset([tencentcloud_vpn_customer_gateway.c.id])
  name      = each.key
  public_ip = "203.0.113.10"
  lan       = "192.168.0.0/24"
}
"#;
    let dir = tree(&[
        ("main.tf", root),
        ("modules/site/main.tf", SITE_WITH_GATEWAY),
    ]);
    let e = load_errors(dir.path());
    let d = e
        .iter()
        .find(|d| {
            d.summary
                .contains("Resource references are not allowed in a module call")
        })
        .unwrap_or_else(|| panic!("{e}"));
    let span = d.span.as_ref().unwrap();
    assert_eq!((span.line, span.column), (8, 21));
}

#[test]
fn import_blocks_name_resources_inside_modules() {
    let root = r#"
module "site" {
  source   = "./modules/site"
  for_each = toset(["sh"])
  name      = each.key
  public_ip = "203.0.113.10"
  lan       = "192.168.0.0/24"
}

import {
  to = module.site["sh"].tencentcloud_vpn_customer_gateway.cgw
  id = "cgw-12345678"
}
"#;
    let dir = tree(&[
        ("main.tf", root),
        ("modules/site/main.tf", SITE_WITH_GATEWAY),
    ]);
    let cfg = load(dir.path());
    let imports = cfg.imports().unwrap();
    assert_eq!(
        imports[0].to.to_string(),
        "module.site[\"sh\"].tencentcloud_vpn_customer_gateway.cgw"
    );

    let bad = root.replace("module.site[\"sh\"]", "module.nope[\"sh\"]");
    let dir = tree(&[
        ("main.tf", &bad),
        ("modules/site/main.tf", SITE_WITH_GATEWAY),
    ]);
    let e = load_errors(dir.path());
    assert!(
        e.iter().any(|d| d.summary
            == "Import target module.nope[\"sh\"].tencentcloud_vpn_customer_gateway.cgw is not declared"),
        "{e}"
    );
}

#[test]
fn module_variables_are_converted_to_their_type_and_validated() {
    let module = r#"
variable "bandwidth" {
  type = number
  validation {
    condition     = contains([5, 10, 20], var.bandwidth)
    error_message = "bandwidth must be 5, 10 or 20 Mbps."
  }
}
variable "tags" {
  type    = map(string)
  default = {}
}
resource "tencentcloud_vpn_gateway" "gw" {
  name      = "gw"
  vpc_id    = "vpc-12345678"
  bandwidth = var.bandwidth
  tags      = var.tags
}
output "bandwidth" {
  value = var.bandwidth
}
"#;
    let root = |bw: &str| {
        format!(
            "module \"m\" {{\n  source    = \"./modules/m\"\n  bandwidth = {bw}\n  tags      = {{ n = 1 }}\n}}\noutput \"bw\" {{\n  value = module.m.bandwidth\n}}\n"
        )
    };
    let dir = tree(&[("main.tf", &root("\"10\"")), ("modules/m/main.tf", module)]);
    let cfg = load(dir.path());
    assert_eq!(output_with(&cfg, &NoLookup, "bw"), Value::int(10));
    let gw: Address = "module.m.tencentcloud_vpn_gateway.gw".parse().unwrap();
    let i = cfg.expand_block(&gw, &NoLookup).unwrap().remove(0);
    assert_eq!(
        i.attrs["tags"],
        Value::Map([("n".to_string(), Value::from("1"))].into())
    );

    let dir = tree(&[("main.tf", &root("7")), ("modules/m/main.tf", module)]);
    let e = load_errors(dir.path());
    let d = e
        .iter()
        .find(|d| d.summary == "Invalid value for module variable \"bandwidth\"")
        .unwrap_or_else(|| panic!("{e}"));
    assert_eq!(
        d.detail.as_deref(),
        Some("bandwidth must be 5, 10 or 20 Mbps.")
    );
    let span = d.span.as_ref().unwrap();
    assert_eq!(
        (span.line, span.column),
        (3, 15),
        "at the value in the call"
    );

    let dir = tree(&[
        ("main.tf", &root("\"wide\"")),
        ("modules/m/main.tf", module),
    ]);
    let e = load_errors(dir.path());
    let d = e
        .iter()
        .find(|d| d.summary == "Invalid value for module variable \"bandwidth\"")
        .unwrap_or_else(|| panic!("{e}"));
    assert!(d.help.as_deref().unwrap().contains("number"), "{d}");
}

#[test]
fn errors_found_while_planning_inside_a_module_name_the_call_chain() {
    // The name is known only from a resource's value: the error comes at expansion time.
    let module = r#"
variable "gw" {}
resource "tencentcloud_vpn_customer_gateway" "cgw" {
  name              = "cgw"
  public_ip_address = "203.0.113.40"
  bgp_asn           = 1 / var.gw
}
"#;
    let root = r#"
resource "tencentcloud_vpn_gateway" "gw" {
  name      = "gw"
  vpc_id    = "vpc-12345678"
  bandwidth = 5
}
module "site" {
  source = "./modules/site"
  gw     = tencentcloud_vpn_gateway.gw.bandwidth
}
"#;
    let dir = tree(&[("main.tf", root), ("modules/site/main.tf", module)]);
    let cfg = load(dir.path());
    let known = Known(vec![(
        "tencentcloud_vpn_gateway.gw".parse().unwrap(),
        Value::Map([("bandwidth".to_string(), Value::int(0))].into()),
    )]);
    let cgw: Address = "module.site.tencentcloud_vpn_customer_gateway.cgw"
        .parse()
        .unwrap();
    let e = cfg.expand_block(&cgw, &known).unwrap_err();
    let d = e.iter().next().unwrap();
    let file = dir
        .path()
        .join("modules/site/main.tf")
        .display()
        .to_string();
    assert_eq!(d.span.as_ref().unwrap().file.as_ref(), file.as_str(), "{d}");
    assert!(
        d.detail
            .as_deref()
            .unwrap_or_default()
            .contains("in module call module.site at "),
        "{d}"
    );
}

/// The tunnels of one site, each with its gateway, as a repository passes them to a site module
/// (the shape of the bench's `module` configuration).
const SITE_TUNNELS: &str = r#"
variable "name" {
  type = string
}

variable "tunnels" {
  type = map(object({ gateway_id = string, local_cidr = string }))
}

locals {
  first = var.tunnels["${var.name}-g1"]
}

resource "tencentcloud_vpn_customer_gateway" "office" {
  name              = "office-${var.name}"
  public_ip_address = var.name == "sh" ? "203.0.113.1" : "203.0.113.2"
}

resource "tencentcloud_vpn_connection" "tunnel" {
  for_each            = var.tunnels
  name                = "t-${each.key}"
  vpc_id              = "vpc-12345678"
  vpn_gateway_id      = each.value.gateway_id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.office.id
  pre_share_key       = "k"

  security_group_policy {
    local_cidr_block  = each.value.local_cidr
    remote_cidr_block = ["172.16.0.0/24"]
  }
}

resource "tencentcloud_vpn_connection" "first" {
  name                = "first-${var.name}"
  vpc_id              = "vpc-12345678"
  vpn_gateway_id      = local.first.gateway_id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.office.id
  pre_share_key       = "k"

  security_group_policy {
    local_cidr_block  = "10.9.0.0/24"
    remote_cidr_block = ["172.16.1.0/24"]
  }
}

resource "tencentcloud_vpn_connection" "any" {
  name                = "any-${var.name}"
  vpc_id              = "vpc-12345678"
  vpn_gateway_id      = values(var.tunnels)[0].gateway_id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.office.id
  pre_share_key       = "k"

  security_group_policy {
    local_cidr_block  = "10.9.1.0/24"
    remote_cidr_block = ["172.16.2.0/24"]
  }
}
"#;

const ROOT_TUNNELS: &str = r#"
locals {
  gateways = {
    g1 = "10.0.1.0/24"
    g2 = "10.0.2.0/24"
    g3 = "10.0.3.0/24"
  }
  sites = {
    sh = { tunnels = { "sh-g1" = { gateway = "g1" }, "sh-g2" = { gateway = "g2" } } }
    bj = { tunnels = { "bj-g1" = { gateway = "g1" }, "bj-g3" = { gateway = "g3" } } }
  }
  hub = {
    primary   = tencentcloud_vpn_gateway.gw["g2"].id
    secondary = tencentcloud_vpn_gateway.gw["g3"].id
  }
}

resource "tencentcloud_vpn_gateway" "gw" {
  for_each  = local.gateways
  name      = "gw-${each.key}"
  vpc_id    = "vpc-12345678"
  bandwidth = 10
}

module "site" {
  source   = "./modules/site"
  for_each = local.sites
  name     = each.key
  tunnels = {
    for k, t in each.value.tunnels : k => {
      gateway_id = tencentcloud_vpn_gateway.gw[t.gateway].id
      local_cidr = local.gateways[t.gateway]
    }
  }
}

resource "tencentcloud_vpn_customer_gateway" "hub" {
  name              = "hub"
  public_ip_address = "203.0.113.9"
  tags = {
    gw = local.hub.secondary
  }
}

resource "tencentcloud_vpn_customer_gateway" "both" {
  name              = "both"
  public_ip_address = "203.0.113.8"
  tags = {
    gw = join(",", values(local.hub))
  }
}
"#;

fn deps_of(cfg: &Config, addr: &str) -> Vec<String> {
    let a: Address = addr.parse().unwrap();
    let mut found = cfg.expand_block(&a.resource(), &NoLookup).unwrap();
    let i = found
        .iter()
        .position(|i| i.address == a)
        .unwrap_or_else(|| panic!("no instance {addr}"));
    let mut deps: Vec<String> = found
        .remove(i)
        .depends_on
        .iter()
        .map(|a| a.to_string())
        .collect();
    deps.sort();
    deps
}

#[test]
fn a_tunnel_in_a_module_depends_on_its_own_gateway_through_the_modules_inputs() {
    let dir = tree(&[
        ("main.tf", ROOT_TUNNELS),
        ("modules/site/main.tf", SITE_TUNNELS),
    ]);
    let cfg = load(dir.path());
    // `each.value.gateway_id`, where each iterates the `tunnels` input built by a `for`
    // expression: the entry's gateway only, not every gateway the input names.
    assert_eq!(
        deps_of(
            &cfg,
            "module.site[\"sh\"].tencentcloud_vpn_connection.tunnel[\"sh-g2\"]"
        ),
        [
            "module.site[\"sh\"].tencentcloud_vpn_customer_gateway.office",
            "tencentcloud_vpn_gateway.gw[\"g2\"]",
        ]
    );
    assert_eq!(
        deps_of(
            &cfg,
            "module.site[\"bj\"].tencentcloud_vpn_connection.tunnel[\"bj-g3\"]"
        ),
        [
            "module.site[\"bj\"].tencentcloud_vpn_customer_gateway.office",
            "tencentcloud_vpn_gateway.gw[\"g3\"]",
        ]
    );
    // Through a local of the module reading one entry by a static key.
    assert_eq!(
        deps_of(
            &cfg,
            "module.site[\"bj\"].tencentcloud_vpn_connection.first"
        ),
        [
            "module.site[\"bj\"].tencentcloud_vpn_customer_gateway.office",
            "tencentcloud_vpn_gateway.gw[\"g1\"]",
        ]
    );
    // A dynamic path (a function of the whole input) depends on everything the input names.
    assert_eq!(
        deps_of(&cfg, "module.site[\"sh\"].tencentcloud_vpn_connection.any"),
        [
            "module.site[\"sh\"].tencentcloud_vpn_customer_gateway.office",
            "tencentcloud_vpn_gateway.gw[\"g1\"]",
            "tencentcloud_vpn_gateway.gw[\"g2\"]",
        ]
    );
    // A root local read through a static attribute: that entry's gateway; read whole: all of
    // the local's.
    assert_eq!(
        deps_of(&cfg, "tencentcloud_vpn_customer_gateway.hub"),
        ["tencentcloud_vpn_gateway.gw[\"g3\"]"]
    );
    assert_eq!(
        deps_of(&cfg, "tencentcloud_vpn_customer_gateway.both"),
        [
            "tencentcloud_vpn_gateway.gw[\"g2\"]",
            "tencentcloud_vpn_gateway.gw[\"g3\"]",
        ]
    );
    // The block-level order is unchanged: every tunnel block after the gateways.
    let order: Vec<String> = cfg
        .block_order()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    let gw = order
        .iter()
        .position(|a| a == "tencentcloud_vpn_gateway.gw")
        .unwrap();
    let t = order
        .iter()
        .position(|a| a == "module.site[\"sh\"].tencentcloud_vpn_connection.tunnel")
        .unwrap();
    assert!(gw < t, "{order:?}");
}

/// `terraform.workspace` is the workspace handed to the loader (`default` when none is), in the
/// root module and inside a module, in a local known at load, a resource argument and a
/// `for_each` key; and the local backend's `workspace_dir` is resolved next to `path`.
#[test]
fn terraform_workspace_is_the_workspace_handed_in() {
    let module = r#"
resource "tencentcloud_vpn_customer_gateway" "cgw" {
  name              = "cgw-${terraform.workspace}"
  public_ip_address = "203.0.113.50"
}
"#;
    let root = r#"
terraform {
  backend "local" {
    path          = "states/main.tfstate"
    workspace_dir = "envs"
  }
}

locals {
  env = terraform.workspace
}

resource "tencentcloud_vpn_gateway" "gw" {
  for_each  = toset([local.env])
  name      = "gw-${each.key}"
  vpc_id    = "vpc-12345678"
  bandwidth = terraform.workspace == "production" ? 100 : 10
}

module "site" {
  source = "./modules/site"
}
"#;
    let dir = tree(&[("main.tf", root), ("modules/site/main.tf", module)]);
    let names = |cfg: &Config| -> Vec<String> {
        let mut out = Vec::new();
        for b in [
            "tencentcloud_vpn_gateway.gw",
            "module.site.tencentcloud_vpn_customer_gateway.cgw",
        ] {
            for i in cfg.expand_block(&b.parse().unwrap(), &NoLookup).unwrap() {
                out.push(format!(
                    "{} {}",
                    i.address,
                    i.attrs["name"].as_str().unwrap()
                ));
                if let Some(bw) = i.attrs.get("bandwidth") {
                    out.push(format!("bandwidth {}", bw.as_i64().unwrap()));
                }
            }
        }
        out
    };
    let cfg = load(dir.path());
    assert_eq!(
        names(&cfg),
        [
            "tencentcloud_vpn_gateway.gw[\"default\"] gw-default",
            "bandwidth 10",
            "module.site.tencentcloud_vpn_customer_gateway.cgw cgw-default",
        ]
    );
    let (cfg, _) = Config::load(
        dir.path(),
        &VarInputs {
            workspace: Some("production".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        names(&cfg),
        [
            "tencentcloud_vpn_gateway.gw[\"production\"] gw-production",
            "bandwidth 100",
            "module.site.tencentcloud_vpn_customer_gateway.cgw cgw-production",
        ]
    );
    assert_eq!(
        cfg.backend_path(),
        Some(dir.path().join("states/main.tfstate"))
    );
    assert_eq!(cfg.backend_workspace_dir(), Some(dir.path().join("envs")));
}
