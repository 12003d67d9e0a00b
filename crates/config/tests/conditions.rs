//! Custom conditions: `precondition` / `postcondition` in lifecycle blocks (resources and data
//! blocks), `precondition` in outputs, `check` blocks with `assert` and scoped data sources:
//! decoding, their errors (with locations), and their evaluation.

use crate::common;

use std::collections::BTreeMap;

use common::*;
use tunnelform_config::{CheckStatus, CondKind, Lookup, NoLookup, VarArg};
use tunnelform_model::{Address, Severity, Value};

const GOOD: &str = r#"variable "n" {
  default = 2
}

resource "tencentcloud_vpn_gateway" "gw" {
  vpc_id    = "vpc-1"
  name      = "gw"
  bandwidth = 5
  lifecycle {
    create_before_destroy = true
    precondition {
      condition     = var.n > 1
      error_message = "n must be above 1"
    }
    precondition {
      condition     = var.n > 3
      error_message = "n must be above 3, got ${var.n}"
    }
    postcondition {
      condition     = self.bandwidth == 5
      error_message = "the gateway has ${self.bandwidth} Mbps"
    }
  }
}

data "tencentcloud_vpn_gateways" "all" {
  lifecycle {
    precondition {
      condition     = var.n != 0
      error_message = "n is zero"
    }
    postcondition {
      condition     = length(self.gateway_list) > 0
      error_message = "no gateways"
    }
  }
}

output "gw" {
  value = tencentcloud_vpn_gateway.gw.id
  precondition {
    condition     = var.n < 10
    error_message = "n is too large"
  }
}

check "gateway_ip" {
  data "tencentcloud_vpn_gateways" "mine" {
    id = tencentcloud_vpn_gateway.gw.id
  }
  assert {
    condition     = length(data.tencentcloud_vpn_gateways.mine.gateway_list) == 1
    error_message = "the gateway is not listed"
  }
}

check "small" {
  assert {
    condition     = var.n < 2
    error_message = "n is ${var.n}, not below 2"
  }
}
"#;

fn with_n(n: &str) -> tunnelform_config::VarInputs {
    vars(vec![VarArg::Pair("n".into(), n.into())], vec![])
}

struct Values(BTreeMap<Address, Value>);

impl Lookup for Values {
    fn instance(&self, addr: &Address) -> Option<Value> {
        self.0.get(addr).cloned()
    }
}

#[test]
fn conditions_and_checks_are_loaded_and_evaluated() {
    let d = Dir::new(&[("main.tf", GOOD)]);
    let (cfg, _) = d.load().unwrap_or_else(|e| panic!("{e}"));
    let gw = addr("tencentcloud_vpn_gateway.gw");
    assert!(cfg.has_conditions(&gw, CondKind::Pre));
    assert!(cfg.has_conditions(&gw, CondKind::Post));
    // The second precondition fails with its message, located at its condition.
    let pre = cfg.conditions(&gw, CondKind::Pre, None, &NoLookup);
    assert!(pre.errors.is_empty(), "{:?}", pre.errors);
    assert_eq!(pre.failed.len(), 1, "{:?}", pre.failed);
    let f = &pre.failed[0];
    assert_eq!(f.summary, "Resource precondition failed");
    assert!(
        f.detail
            .as_deref()
            .unwrap()
            .contains("n must be above 3, got 2"),
        "{f}"
    );
    let span = f.span.as_ref().unwrap();
    assert_eq!((span.line, span.column), (16, 23), "{f}");
    assert!(span.file.ends_with("main.tf"));
    // With n = 5 every precondition holds.
    let (cfg5, _) = d.load_with(&with_n("5")).unwrap();
    assert!(cfg5.conditions(&gw, CondKind::Pre, None, &NoLookup).is_ok());

    // Postconditions see `self`: unknown until the object's values are known.
    let unknown = cfg.conditions(&gw, CondKind::Post, Some(&Value::Unknown), &NoLookup);
    assert!(unknown.is_ok());
    assert_eq!(unknown.unknown.len(), 1);
    let this = map(vec![("bandwidth", Value::int(10))]);
    let post = cfg.conditions(&gw, CondKind::Post, Some(&this), &NoLookup);
    assert_eq!(post.failed.len(), 1);
    assert_eq!(post.failed[0].summary, "Resource postcondition failed");
    assert!(post.failed[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("the gateway has 10 Mbps"));
    let this = map(vec![("bandwidth", Value::int(5))]);
    assert!(cfg
        .conditions(&gw, CondKind::Post, Some(&this), &NoLookup)
        .is_ok());

    // A data block's conditions.
    let all = addr("data.tencentcloud_vpn_gateways.all");
    let this = map(vec![("gateway_list", list(vec![]))]);
    let post = cfg.conditions(&all, CondKind::Post, Some(&this), &NoLookup);
    assert_eq!(post.failed[0].summary, "Data source postcondition failed");

    // Output preconditions.
    assert!(cfg.output_conditions(&NoLookup).is_ok());
    let (cfg20, _) = d.load_with(&with_n("20")).unwrap();
    let out = cfg20.output_conditions(&NoLookup);
    assert_eq!(out.failed.len(), 1);
    assert!(out.failed[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("n is too large (in output.gw)"));

    // Checks: unknown until the scoped data source is read; a failed assertion is a warning.
    let checks = cfg.checks(&NoLookup);
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0].address, "check.gateway_ip");
    assert_eq!(checks[0].status, CheckStatus::Unknown);
    assert_eq!(checks[1].status, CheckStatus::Fail);
    let p = &checks[1].problems[0];
    assert_eq!(p.severity, Severity::Warning);
    assert!(p.detail.as_deref().unwrap().contains("n is 2, not below 2"));
    assert_eq!(p.span.as_ref().unwrap().line, 59);
    // The scoped data source's value decides the first check.
    let mine = addr("data.tencentcloud_vpn_gateways.mine");
    let listed = Values(BTreeMap::from([(
        mine.clone(),
        map(vec![("gateway_list", list(vec![map(vec![])]))]),
    )]));
    assert_eq!(cfg.checks(&listed)[0].status, CheckStatus::Pass);
    let none = Values(BTreeMap::from([(
        mine,
        map(vec![("gateway_list", list(vec![]))]),
    )]));
    assert_eq!(cfg.checks(&none)[0].status, CheckStatus::Fail);
    assert_eq!(
        cfg.scoping_check(&addr("data.tencentcloud_vpn_gateways.mine")),
        Some("check.gateway_ip".to_string())
    );
    // The gateway is read by the check: its planned values are kept.
    assert!(cfg.is_referenced(&gw));
}

#[test]
fn self_in_a_precondition_is_an_error_with_its_location() {
    let (d, e) = load_err(
        "resource \"tencentcloud_vpn_gateway\" \"gw\" {\n  name = \"gw\"\n  lifecycle {\n    precondition {\n      condition     = self.name != \"\"\n      error_message = \"x\"\n    }\n  }\n}\n",
    );
    let f = d.file("main.tf");
    let diag = assert_diag(&e, "Invalid reference to \"self\"", &f, 5, 23);
    assert!(diag.help.as_deref().unwrap().contains("postcondition"));
}

#[test]
fn bad_conditions_are_errors_with_their_locations() {
    let (d, e) = load_err(
        r#"resource "tencentcloud_vpn_gateway" "gw" {
  name = "gw"
  lifecycle {
    precondition {
      condition     = 5
      error_message = "x"
    }
    postcondition {
      condition     = true
      error_message = 42
    }
    postcondition {
      condition = true
    }
    precondition {
      condition     = true
      error_message = "x"
      severity      = "warn"
    }
  }
}

check "c" {
  assert {
    condition     = self.x
    error_message = "x"
  }
}

check "empty" {
}

output "o" {
  value = data.tencentcloud_vpn_gateways.scoped.gateway_list
}

check "scoping" {
  data "tencentcloud_vpn_gateways" "scoped" {
  }
  assert {
    condition     = true
    error_message = "x"
  }
}

data "tencentcloud_vpn_gateways" "d" {
  lifecycle {
    prevent_destroy = true
  }
}
"#,
    );
    let f = d.file("main.tf");
    let diag = assert_diag(&e, "Invalid condition", &f, 5, 23);
    assert!(diag.detail.as_deref().unwrap().contains("got a number"));
    let diag = assert_diag(&e, "Invalid error_message", &f, 10, 23);
    assert!(diag.detail.as_deref().unwrap().contains("got a number"));
    assert_diag(
        &e,
        "Missing required argument in a postcondition block",
        &f,
        12,
        5,
    );
    assert_diag(&e, "Unsupported argument \"severity\"", &f, 18, 7);
    assert_diag(&e, "Invalid reference to \"self\" in an assert", &f, 25, 21);
    assert_diag(&e, "Missing assert block in check \"empty\"", &f, 30, 1);
    let diag = assert_diag(&e, "a data source scoped to a check block", &f, 34, 11);
    assert!(diag.detail.as_deref().unwrap().contains("check.scoping"));
    assert_diag(
        &e,
        "Unsupported argument \"prevent_destroy\" in a data block's lifecycle",
        &f,
        48,
        5,
    );
}

#[test]
fn a_condition_that_is_not_a_bool_is_an_error_when_evaluated() {
    let (_d, cfg) = load_ok(
        "variable \"s\" {\n  default = \"x\"\n}\nresource \"tencentcloud_vpn_gateway\" \"gw\" {\n  name = \"gw\"\n  lifecycle {\n    precondition {\n      condition     = var.s\n      error_message = \"x\"\n    }\n  }\n}\n",
    );
    let c = cfg.conditions(
        &addr("tencentcloud_vpn_gateway.gw"),
        CondKind::Pre,
        None,
        &NoLookup,
    );
    assert_eq!(c.errors.len(), 1, "{c:?}");
    assert_eq!(c.errors[0].summary, "Invalid condition result");
    assert_eq!(c.errors[0].span.as_ref().unwrap().line, 8);
}

#[test]
fn a_check_in_a_module_is_named_by_the_module_instance() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("modules/site")).unwrap();
    std::fs::write(
        tmp.path().join("main.tf"),
        "module \"site\" {\n  source   = \"./modules/site\"\n  for_each = toset([\"sh\", \"bj\"])\n  name     = each.key\n}\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("modules/site/main.tf"),
        "variable \"name\" {\n  type = string\n}\n\ncheck \"named\" {\n  assert {\n    condition     = var.name == \"sh\"\n    error_message = \"site ${var.name} is not sh\"\n  }\n}\n\noutput \"n\" {\n  value = var.name\n  precondition {\n    condition     = length(var.name) == 2\n    error_message = \"short names only\"\n  }\n}\n",
    )
    .unwrap();
    let (cfg, _) = tunnelform_config::Config::load(tmp.path(), &Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let checks = cfg.checks(&NoLookup);
    let by: BTreeMap<&str, &tunnelform_config::CheckOutcome> =
        checks.iter().map(|c| (c.address.as_str(), c)).collect();
    assert_eq!(
        by.keys().copied().collect::<Vec<_>>(),
        vec![
            "module.site[\"bj\"].check.named",
            "module.site[\"sh\"].check.named"
        ]
    );
    let bj = by["module.site[\"bj\"].check.named"];
    assert_eq!(bj.status, CheckStatus::Fail);
    assert_eq!(bj.module, "module.site[\"bj\"]");
    let p = &bj.problems[0];
    assert!(p.detail.as_deref().unwrap().contains("site bj is not sh"));
    assert!(p
        .span
        .as_ref()
        .unwrap()
        .file
        .ends_with("modules/site/main.tf"));
    assert_eq!(
        by["module.site[\"sh\"].check.named"].status,
        CheckStatus::Pass
    );
    assert!(cfg.output_conditions(&NoLookup).is_ok());
}

#[test]
fn fmt_keeps_conditions_and_checks() {
    // Already canonical: formatting changes nothing, comments included.
    assert_eq!(
        tunnelform_config::format_source(GOOD, "main.tf").unwrap(),
        GOOD
    );
    let messy =
        "check \"c\" {\n  # why\n  assert {\n  condition = true\n  error_message = \"x\"\n  }\n}\n";
    let out = tunnelform_config::format_source(messy, "main.tf").unwrap();
    assert_eq!(
        out,
        "check \"c\" {\n  # why\n  assert {\n    condition     = true\n    error_message = \"x\"\n  }\n}\n"
    );
}
