//! `lifecycle { replace_triggered_by = [...] }`: the forms accepted (resolved per instance, with
//! the dependencies they add) and those refused, each with its file:line:column.

use crate::common;

use common::*;
use tunnelform_config::{Config, Instance, NoLookup, VarInputs};
use tunnelform_model::{InstanceKey, TriggerStep};

const CGWS: &str = r#"resource "tencentcloud_vpn_customer_gateway" "one" {
  name              = "one"
  public_ip_address = "198.51.100.1"
}

resource "tencentcloud_vpn_customer_gateway" "many" {
  for_each          = toset(["sh", "bj"])
  name              = each.key
  public_ip_address = "198.51.100.2"
}

resource "tencentcloud_vpn_customer_gateway" "counted" {
  count             = 2
  name              = "c${count.index}"
  public_ip_address = "198.51.100.3"
}
"#;

/// A gateway (line 1 of the appended text is line 18 of main.tf) whose lifecycle block holds
/// `lines`; `meta` goes before it (count or for_each).
fn with_gateway(meta: &str, lines: &str) -> String {
    format!(
        "{CGWS}resource \"tencentcloud_vpn_gateway\" \"gw\" {{\n{meta}  name = \"gw\"\n  lifecycle {{\n{lines}\n  }}\n}}\n"
    )
}

fn instances(main: &str) -> Vec<Instance> {
    let (_d, cfg) = load_ok(main);
    let mut all = Vec::new();
    for a in cfg.block_order().unwrap() {
        all.extend(cfg.expand_block(&a, &NoLookup).expect("expands"));
    }
    all
}

fn triggers(i: &Instance) -> Vec<String> {
    i.lifecycle
        .replace_triggered_by
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_accepted_forms_are_resolved_for_each_instance() {
    let all = instances(&with_gateway(
        "  for_each = toset([\"sh\", \"bj\"])\n",
        "    replace_triggered_by = [\n      tencentcloud_vpn_customer_gateway.one,\n      tencentcloud_vpn_customer_gateway.many[each.key],\n      tencentcloud_vpn_customer_gateway.counted[1].public_ip_address,\n      tencentcloud_vpn_customer_gateway.many[\"sh\"].tags[\"team\"],\n    ]",
    ));
    let sh = all
        .iter()
        .find(|i| i.address == addr("tencentcloud_vpn_gateway.gw[\"sh\"]"))
        .expect("the sh instance");
    assert_eq!(
        triggers(sh),
        [
            "tencentcloud_vpn_customer_gateway.one",
            "tencentcloud_vpn_customer_gateway.many[\"sh\"]",
            "tencentcloud_vpn_customer_gateway.counted[1].public_ip_address",
            "tencentcloud_vpn_customer_gateway.many[\"sh\"].tags[\"team\"]",
        ]
    );
    let last = &sh.lifecycle.replace_triggered_by[3];
    assert_eq!(
        last.path,
        [
            TriggerStep::Attr("tags".into()),
            TriggerStep::Index(InstanceKey::Key("team".into()))
        ]
    );
    let bj = all
        .iter()
        .find(|i| i.address == addr("tencentcloud_vpn_gateway.gw[\"bj\"]"))
        .expect("the bj instance");
    assert_eq!(
        triggers(bj)[1],
        "tencentcloud_vpn_customer_gateway.many[\"bj\"]"
    );
    // What the triggers name is planned first and applied first: the bj gateway waits for its
    // own customer gateway (each.key), not for sh's.
    assert!(bj
        .depends_on
        .contains(&addr("tencentcloud_vpn_customer_gateway.one")));
    assert!(bj
        .depends_on
        .contains(&addr("tencentcloud_vpn_customer_gateway.many[\"bj\"]")));
    assert!(!bj
        .depends_on
        .contains(&addr("tencentcloud_vpn_customer_gateway.many")));
    assert!(bj
        .depends_on
        .iter()
        .any(|a| a.resource() == addr("tencentcloud_vpn_customer_gateway.counted")));

    // count.index, and the legacy `.0` index.
    let all = instances(&with_gateway(
        "  count = 2\n",
        "    replace_triggered_by = [tencentcloud_vpn_customer_gateway.counted[count.index], tencentcloud_vpn_customer_gateway.counted.0.name]",
    ));
    let second = all
        .iter()
        .find(|i| i.address == addr("tencentcloud_vpn_gateway.gw[1]"))
        .expect("the second instance");
    assert_eq!(
        triggers(second),
        [
            "tencentcloud_vpn_customer_gateway.counted[1]",
            "tencentcloud_vpn_customer_gateway.counted[0].name"
        ]
    );
}

#[test]
fn anything_but_a_managed_resource_is_refused_where_it_is_written() {
    let pre = "variable \"v\" {\n  default = \"x\"\n}\nlocals {\n  l = \"y\"\n}\ndata \"tencentcloud_vpn_gateways\" \"all\" {\n}\n";
    // Line of the entry in main.tf: CGWS is 17 lines, `pre` 8, the gateway header, name and
    // lifecycle lines 3; the entry is on the next line, at column 29.
    let line = 17 + 8 + 3;
    let cases: &[(&str, &str, &str)] = &[
        (
            "var.v",
            "Invalid replace_triggered_by reference",
            "var.v is an input variable",
        ),
        (
            "local.l",
            "Invalid replace_triggered_by reference",
            "local.l is a local value",
        ),
        (
            "data.tencentcloud_vpn_gateways.all",
            "Invalid replace_triggered_by reference",
            "data source",
        ),
        (
            "upper(tencentcloud_vpn_customer_gateway.one.name)",
            "Invalid replace_triggered_by reference",
            "an expression, not a reference",
        ),
        (
            "tencentcloud_vpn_gateway.gw",
            "Invalid replace_triggered_by reference",
            "its own replacement",
        ),
    ];
    for (entry, summary, detail) in cases {
        let main = format!(
            "{}",
            with_gateway("", &format!("    replace_triggered_by = [{entry}]"),)
        );
        let main = main.replacen(
            "resource \"tencentcloud_vpn_gateway\"",
            &format!("{pre}resource \"tencentcloud_vpn_gateway\""),
            1,
        );
        let (d, e) = load_err(&main);
        let diag = assert_diag(&e, summary, &d.file("main.tf"), line, 29);
        let text = format!("{}", diag);
        assert!(text.contains(detail), "{entry}: {text}");
        assert!(
            diag.help
                .as_deref()
                .is_some_and(|h| h.contains("TYPE.NAME")),
            "{entry}: the help says what is allowed: {text}"
        );
    }
}

#[test]
fn bad_keys_paths_and_targets_are_refused_with_their_location() {
    let line = 17 + 3;
    // (entry, summary, column)
    let cases: &[(&str, &str, usize)] = &[
        (
            "tencentcloud_vpn_customer_gateway.many[each.value]",
            "Invalid replace_triggered_by instance key",
            67,
        ),
        (
            "tencentcloud_vpn_customer_gateway.many[*].name",
            "Invalid replace_triggered_by attribute path",
            67,
        ),
        (
            "tencentcloud_vpn_customer_gateway.nope",
            "Reference to undeclared resource",
            29,
        ),
        (
            "tencentcloud_vpn_customer_gateway.one.nmae",
            "Unsupported attribute",
            66,
        ),
        (
            "tencentcloud_vpn_customer_gateway.many[each.key]",
            "Reference to \"each\" in a context without for_each",
            68,
        ),
    ];
    for (entry, summary, column) in cases {
        let (d, e) = load_err(&with_gateway(
            "",
            &format!("    replace_triggered_by = [{entry}]"),
        ));
        assert_diag(&e, summary, &d.file("main.tf"), line, *column);
    }
    // Not a list.
    let (d, e) = load_err(&with_gateway(
        "",
        "    replace_triggered_by = tencentcloud_vpn_customer_gateway.one",
    ));
    assert_diag(
        &e,
        "Invalid replace_triggered_by",
        &d.file("main.tf"),
        line,
        28,
    );
}

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

#[test]
fn inside_a_module_references_are_relative_to_the_module() {
    let site = r#"variable "ip" {
  type = string
}

resource "tencentcloud_vpn_customer_gateway" "cgw" {
  name              = "site"
  public_ip_address = var.ip
}

resource "tencentcloud_vpn_gateway" "gw" {
  name = "gw"
  lifecycle {
    replace_triggered_by = [tencentcloud_vpn_customer_gateway.cgw.public_ip_address]
  }
}
"#;
    let main = r#"provider "tencentcloud" {
  region = "ap-guangzhou"
}

module "site" {
  source   = "./modules/site"
  for_each = toset(["sh", "bj"])
  ip       = "198.51.100.9"
}
"#;
    let d = tree(&[("main.tf", main), ("modules/site/main.tf", site)]);
    let (cfg, _) = Config::load(d.path(), &VarInputs::default()).expect("loads");
    let gw = addr("module.site[\"bj\"].tencentcloud_vpn_gateway.gw");
    let inst = cfg.expand_block(&gw, &NoLookup).expect("expands").remove(0);
    assert_eq!(
        triggers(&inst),
        ["module.site[\"bj\"].tencentcloud_vpn_customer_gateway.cgw.public_ip_address"]
    );
    assert!(inst.depends_on.contains(&addr(
        "module.site[\"bj\"].tencentcloud_vpn_customer_gateway.cgw"
    )));

    // A module's variable is refused by its name in the module, at its place in the module.
    let bad = site.replace(
        "tencentcloud_vpn_customer_gateway.cgw.public_ip_address",
        "var.ip",
    );
    let d = tree(&[("main.tf", main), ("modules/site/main.tf", &bad)]);
    let e = Config::load(d.path(), &VarInputs::default()).expect_err("refused");
    let file = d.path().join("modules/site/main.tf").display().to_string();
    let diag = assert_diag(&e, "Invalid replace_triggered_by reference", &file, 13, 29);
    assert!(
        format!("{diag}").contains("var.ip is an input variable"),
        "{diag}"
    );
}
