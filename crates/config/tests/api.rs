//! The rest of the public API: providers, imports, instance lookups, data sources, sharing.

use crate::common;

use common::*;
use tunnelform_config::{Config, InstanceKind, NoLookup, ProviderRef};
use tunnelform_kinds::DataKind;
use tunnelform_model::{Address, InstanceKey, Value};

#[test]
fn config_is_cheap_to_share_between_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Config>();
    let (_d, cfg) = load_ok("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = \"g\"\n}\n");
    let c2 = cfg.clone();
    let n = std::thread::spawn(move || {
        c2.expand_block(&addr("tencentcloud_vpn_gateway.g"), &NoLookup)
            .unwrap()
            .len()
    })
    .join()
    .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn providers_default_and_aliases() {
    let (_d, cfg) = load_ok("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = \"g\"\n}\n");
    assert_eq!(cfg.providers().len(), 1, "an implicit default provider");
    assert_eq!(cfg.providers()[0].alias, None);
    assert_eq!(cfg.providers()[0].region, "ap-guangzhou");
    let cfg = cfg.with_default_region("ap-singapore");
    assert_eq!(cfg.providers()[0].region, "ap-singapore");
    let g = cfg
        .expand_block(&addr("tencentcloud_vpn_gateway.g"), &NoLookup)
        .unwrap()
        .remove(0);
    assert_eq!(
        g.provider,
        ProviderRef {
            alias: None,
            region: "ap-singapore".into()
        }
    );

    let (_d, cfg) = load_ok(
        "variable \"r\" {\n  default = \"ap-beijing\"\n}\nlocals {\n  hk = \"ap-hongkong\"\n}\nprovider \"tencentcloud\" {\n  region = var.r\n}\nprovider \"tencentcloud\" {\n  alias  = \"hk\"\n  region = local.hk\n}\nprovider \"tencentcloud\" {\n  alias = \"noregion\"\n}\nresource \"tencentcloud_vpn_gateway\" \"g\" {\n  provider = tencentcloud.hk\n  name     = \"g\"\n}\n",
    );
    let regions: Vec<(Option<String>, String)> = cfg
        .providers()
        .iter()
        .map(|p| (p.alias.clone(), p.region.clone()))
        .collect();
    assert_eq!(
        regions,
        vec![
            (None, "ap-beijing".to_string()),
            (Some("hk".to_string()), "ap-hongkong".to_string()),
            (Some("noregion".to_string()), "ap-guangzhou".to_string()),
        ]
    );
    let g = cfg
        .expand_block(&addr("tencentcloud_vpn_gateway.g"), &NoLookup)
        .unwrap()
        .remove(0);
    assert_eq!(
        g.provider,
        ProviderRef {
            alias: Some("hk".into()),
            region: "ap-hongkong".into()
        }
    );
    assert_eq!(cfg.providers()[1].span.line, 10);

    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = \"g\"\n}\nprovider \"tencentcloud\" {\n  region = tencentcloud_vpn_gateway.g.zone\n}\n");
    assert_diag(
        &e,
        "Provider region depends on a resource",
        &d.file("main.tf"),
        5,
        12,
    );
}

#[test]
fn imports() {
    let (d, cfg) = load_ok(
        "variable \"gw_id\" {\n  default = \"vpngw-123\"\n}\nresource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = \"g\"\n}\nresource \"tencentcloud_vpn_customer_gateway\" \"c\" {\n  for_each          = { a = \"203.0.113.1\" }\n  name              = each.key\n  public_ip_address = each.value\n}\nimport {\n  to = tencentcloud_vpn_gateway.g\n  id = var.gw_id\n}\nimport {\n  to = tencentcloud_vpn_customer_gateway.c[\"a\"]\n  id = \"cgw-9\"\n}\n",
    );
    let imports = cfg.imports().unwrap();
    assert_eq!(imports.len(), 2);
    assert_eq!(imports[0].to, addr("tencentcloud_vpn_gateway.g"));
    assert_eq!(imports[0].id, "vpngw-123");
    assert_eq!(
        (imports[0].span.file.to_string(), imports[0].span.line),
        (d.file("main.tf"), 12)
    );
    assert_eq!(
        imports[1].to,
        addr("tencentcloud_vpn_customer_gateway.c[\"a\"]")
    );

    let (d, e) = load_err("import {\n  to = tencentcloud_vpn_gateway.missing\n  id = \"x\"\n}\n");
    assert_diag(
        &e,
        "Import target tencentcloud_vpn_gateway.missing is not declared",
        &d.file("main.tf"),
        2,
        8,
    );
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = \"g\"\n}\nimport {\n  to = tencentcloud_vpn_gateway.g[0]\n  id = \"x\"\n}\n");
    let diag = assert_diag(
        &e,
        "Import target key does not match",
        &d.file("main.tf"),
        5,
        8,
    );
    assert!(diag.help.unwrap().contains("single instance"));
    let (d, e) = load_err("import {\n  id = \"x\"\n}\n");
    assert_diag(&e, "Incomplete import block", &d.file("main.tf"), 1, 1);
}

#[test]
fn eval_instance_and_block_queries() {
    let (_d, cfg) = load_ok(
        "resource \"tencentcloud_vpn_gateway\" \"g\" {\n  count = 2\n  name  = \"g${count.index}\"\n}\ndata \"tencentcloud_vpn_gateways\" \"all\" {\n  name = \"g\"\n}\n",
    );
    assert!(cfg.is_multi_instance(&addr("tencentcloud_vpn_gateway.g")));
    assert!(!cfg.is_multi_instance(&addr("data.tencentcloud_vpn_gateways.all")));
    assert_eq!(
        cfg.block_kind(&addr("data.tencentcloud_vpn_gateways.all")),
        Some(InstanceKind::Data(DataKind::VpnGateways))
    );
    let one = cfg
        .eval_instance(&addr("tencentcloud_vpn_gateway.g[1]"), &NoLookup)
        .unwrap();
    assert_eq!(one.address.key, Some(InstanceKey::Index(1)));
    assert_eq!(one.attrs["name"], s("g1"));
    let gone = cfg
        .eval_instance(&addr("tencentcloud_vpn_gateway.g[5]"), &NoLookup)
        .unwrap_err();
    assert!(
        gone.to_string()
            .contains("No instance tencentcloud_vpn_gateway.g[5]"),
        "{gone}"
    );
    let missing = cfg
        .expand_block(&addr("tencentcloud_vpn_gateway.h"), &NoLookup)
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("did you mean \"tencentcloud_vpn_gateway.g\"?"),
        "{missing}"
    );
    assert_eq!(
        cfg.block_dependencies(&addr("tencentcloud_vpn_gateway.g")),
        Vec::<Address>::new()
    );
}

#[test]
fn data_source_results_feed_resources() {
    let (_d, cfg) = load_ok(
        r#"
data "tencentcloud_vpn_gateways" "existing" {
  name = "hub"
}
resource "tencentcloud_vpn_connection" "t" {
  name                = "t"
  vpn_gateway_id      = data.tencentcloud_vpn_gateways.existing.gateway_list[0].id
  customer_gateway_id = "cgw-1"
  pre_share_key       = "k"
  vpc_id              = one(data.tencentcloud_vpn_gateways.existing.gateway_list[*].vpc_id)
}
"#,
    );
    let deps = cfg.block_dependencies(&addr("tencentcloud_vpn_connection.t"));
    assert_eq!(deps, vec![addr("data.tencentcloud_vpn_gateways.existing")]);
    let t = cfg
        .expand_block(&addr("tencentcloud_vpn_connection.t"), &NoLookup)
        .unwrap()
        .remove(0);
    assert_eq!(t.attrs["vpn_gateway_id"], Value::Unknown);
    let lookup = |a: &Address| {
        (a.to_string() == "data.tencentcloud_vpn_gateways.existing").then(|| {
            map(vec![
                ("id", s("data-id")),
                (
                    "gateway_list",
                    list(vec![map(vec![
                        ("id", s("vpngw-77")),
                        ("vpc_id", s("vpc-1")),
                    ])]),
                ),
            ])
        })
    };
    let t = cfg
        .expand_block(&addr("tencentcloud_vpn_connection.t"), &lookup)
        .unwrap()
        .remove(0);
    assert_eq!(t.attrs["vpn_gateway_id"], s("vpngw-77"));
    assert_eq!(t.attrs["vpc_id"], s("vpc-1"));
    // An empty result is an error that names the index.
    let empty = |a: &Address| {
        (a.to_string() == "data.tencentcloud_vpn_gateways.existing")
            .then(|| map(vec![("gateway_list", list(vec![]))]))
    };
    let e = cfg
        .expand_block(&addr("tencentcloud_vpn_connection.t"), &empty)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("index 0 is out of range: the list has 0 elements"),
        "{e}"
    );
}

#[test]
fn locals_that_depend_on_resources_are_evaluated_per_lookup() {
    let (_d, cfg) = load_ok(
        "resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = \"g\"\n}\nlocals {\n  gw   = tencentcloud_vpn_gateway.g.id\n  name = \"tunnel-${local.gw}\"\n}\nresource \"tencentcloud_vpn_connection\" \"t\" {\n  name                = local.name\n  vpn_gateway_id      = local.gw\n  customer_gateway_id = \"cgw-1\"\n  pre_share_key       = \"k\"\n}\n",
    );
    assert_eq!(
        cfg.block_dependencies(&addr("tencentcloud_vpn_connection.t")),
        vec![addr("tencentcloud_vpn_gateway.g")]
    );
    let t = cfg
        .expand_block(&addr("tencentcloud_vpn_connection.t"), &NoLookup)
        .unwrap()
        .remove(0);
    assert_eq!(t.attrs["name"], Value::Unknown);
    let lookup = |a: &Address| {
        (a.to_string() == "tencentcloud_vpn_gateway.g").then(|| map(vec![("id", s("vpngw-5"))]))
    };
    let t = cfg
        .expand_block(&addr("tencentcloud_vpn_connection.t"), &lookup)
        .unwrap()
        .remove(0);
    assert_eq!(t.attrs["name"], s("tunnel-vpngw-5"));
    assert_eq!(t.attrs["vpn_gateway_id"], s("vpngw-5"));
}

/// Instance dependencies: a reference whose key comes from the instance's own scope names that
/// instance; anything the key cannot narrow (splats, `for`, locals, `depends_on`) stays the block.
#[test]
fn instances_depend_on_the_instances_their_keys_name() {
    let (_d, cfg) = load_ok(
        r#"
locals {
  sites = { a = { gw = "x", office = 0 }, b = { gw = "y", office = 1 } }
  all_gateways = tencentcloud_vpn_gateway.gw
}
resource "tencentcloud_vpn_gateway" "gw" {
  for_each = toset(["x", "y"])
  name     = each.key
}
resource "tencentcloud_vpn_customer_gateway" "office" {
  count             = 2
  name              = "office-${count.index}"
  public_ip_address = "203.0.113.${count.index + 1}"
}
resource "tencentcloud_vpn_gateway" "pinned" {
  for_each = local.sites
  name     = "${each.key}-${tencentcloud_vpn_gateway.gw[each.value.gw].name}-${tencentcloud_vpn_customer_gateway.office[each.value.office].name}"
}
resource "tencentcloud_vpn_gateway" "splat" {
  for_each = local.sites
  name     = join("-", tencentcloud_vpn_customer_gateway.office[*].name, [for g in tencentcloud_vpn_gateway.gw : g.name])
}
resource "tencentcloud_vpn_gateway" "via_local" {
  for_each = local.sites
  name     = "${each.key}-${local.all_gateways[each.value.gw].name}"
}
resource "tencentcloud_vpn_gateway" "explicit" {
  for_each   = local.sites
  name       = "${each.key}-${tencentcloud_vpn_gateway.gw[each.value.gw].name}"
  depends_on = [tencentcloud_vpn_gateway.gw]
}
"#,
    );
    let deps = |block: &str| -> Vec<(String, Vec<String>)> {
        cfg.expand_block(&addr(block), &NoLookup)
            .unwrap()
            .into_iter()
            .map(|i| {
                (
                    i.address.to_string(),
                    i.depends_on.iter().map(|a| a.to_string()).collect(),
                )
            })
            .collect()
    };
    assert_eq!(
        deps("tencentcloud_vpn_gateway.pinned"),
        [
            (
                r#"tencentcloud_vpn_gateway.pinned["a"]"#.to_string(),
                vec![
                    "tencentcloud_vpn_customer_gateway.office[0]".to_string(),
                    r#"tencentcloud_vpn_gateway.gw["x"]"#.to_string()
                ]
            ),
            (
                r#"tencentcloud_vpn_gateway.pinned["b"]"#.to_string(),
                vec![
                    "tencentcloud_vpn_customer_gateway.office[1]".to_string(),
                    r#"tencentcloud_vpn_gateway.gw["y"]"#.to_string()
                ]
            ),
        ]
    );
    let whole = vec![
        "tencentcloud_vpn_customer_gateway.office".to_string(),
        "tencentcloud_vpn_gateway.gw".to_string(),
    ];
    for (_, d) in deps("tencentcloud_vpn_gateway.splat") {
        assert_eq!(d, whole);
    }
    for block in [
        "tencentcloud_vpn_gateway.via_local",
        "tencentcloud_vpn_gateway.explicit",
    ] {
        for (a, d) in deps(block) {
            assert_eq!(d, ["tencentcloud_vpn_gateway.gw"], "{a}");
        }
    }
}

#[test]
fn blocks_read_by_other_blocks_locals_or_outputs_are_referenced() {
    let (_d, cfg) = load_ok(
        r#"
locals {
  office_name = tencentcloud_vpn_customer_gateway.office.name
}
resource "tencentcloud_vpn_gateway" "gw" {
  name = "gw"
}
resource "tencentcloud_vpn_customer_gateway" "office" {
  name              = "office"
  public_ip_address = "203.0.113.1"
}
resource "tencentcloud_vpn_gateway" "reader" {
  name = "${tencentcloud_vpn_gateway.gw.name}-2"
}
resource "tencentcloud_vpn_gateway" "unread" {
  name = "unread"
}
resource "tencentcloud_vpn_gateway" "in_output" {
  name = "out"
}
output "id" {
  value = tencentcloud_vpn_gateway.in_output.id
}
output "office" {
  value = local.office_name
}
"#,
    );
    let r = |a: &str| cfg.is_referenced(&addr(a));
    assert!(r("tencentcloud_vpn_gateway.gw"));
    assert!(r("tencentcloud_vpn_customer_gateway.office"));
    assert!(r("tencentcloud_vpn_gateway.in_output"));
    assert!(!r("tencentcloud_vpn_gateway.reader"));
    assert!(!r("tencentcloud_vpn_gateway.unread"));
}

#[test]
fn backend_pg_settings_are_read_and_checked() {
    let (_d, cfg) = load_ok(
        "terraform {\n  backend \"pg\" {\n    conn_str    = \"postgres://ci@db/state\"\n    schema_name = \"vpn\"\n  }\n}\n",
    );
    let pg = cfg.backend_pg().expect("the pg backend");
    assert_eq!(pg["conn_str"], "postgres://ci@db/state");
    assert_eq!(pg["schema_name"], "vpn");
    assert_eq!(cfg.backend_path(), None);
    // Settings may all come from --backend-config and the environment.
    let (_d, cfg) = load_ok("terraform {\n  backend \"pg\" {}\n}\n");
    assert!(cfg.backend_pg().is_some_and(|s| s.is_empty()));
    // Without a backend block: none.
    let (_d, cfg) = load_ok("locals {\n  a = 1\n}\n");
    assert!(cfg.backend_pg().is_none());
    // Unknown settings and a second backend are located errors.
    let (d, e) = load_err("terraform {\n  backend \"pg\" {\n    conn_string = \"x\"\n  }\n}\n");
    assert_diag(
        &e,
        "Unsupported argument \"conn_string\"",
        &d.file("main.tf"),
        3,
        5,
    );
    let (d, e) = load_err(
        "terraform {\n  backend \"local\" {\n    path = \"s.json\"\n  }\n  backend \"pg\" {}\n}\n",
    );
    assert_diag(
        &e,
        "Duplicate backend configuration",
        &d.file("main.tf"),
        5,
        3,
    );
}
