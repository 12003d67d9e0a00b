//! `lifecycle { replace_triggered_by }` in the pure planner: an existing object is replaced when
//! what it names is planned for update or replacement (or, for an attribute, when that
//! attribute's value changes), never for a create, and the plan says why.

use std::path::Path;
use tunnelform_model::Map;

use tunnelform_config::{Config, VarInputs};
use tunnelform_kinds::{Ownership, ResourceKind};
use tunnelform_model::{Address, Value};
use tunnelform_plan::make::{
    make_plan, Inputs, MakeError, PlanOptions, Planned, RemoteObject, RemoteSnapshot,
};
use tunnelform_plan::{Action, Attrs, Reason, ResourceChange};
use tunnelform_render::{render_human, render_json, RenderOptions};
use tunnelform_state::{ResourceState, State};

const REGION: &str = "ap-guangzhou";

fn addr(s: &str) -> Address {
    s.parse().expect("address")
}

/// Customer gateways as they exist: (address, id, name, public ip).
const EXISTING: &[(&str, &str, &str, &str)] = &[
    (
        "tencentcloud_vpn_customer_gateway.a",
        "cgw-a",
        "a",
        "198.51.100.1",
    ),
    (
        "tencentcloud_vpn_customer_gateway.b",
        "cgw-b",
        "b",
        "198.51.100.2",
    ),
    (
        "tencentcloud_vpn_customer_gateway.many[\"sh\"]",
        "cgw-sh",
        "sh",
        "198.51.100.3",
    ),
    (
        "tencentcloud_vpn_customer_gateway.many[\"bj\"]",
        "cgw-bj",
        "bj",
        "198.51.100.4",
    ),
    (
        "tencentcloud_vpn_customer_gateway.per[\"sh\"]",
        "cgw-psh",
        "p-sh",
        "198.51.100.5",
    ),
    (
        "tencentcloud_vpn_customer_gateway.per[\"bj\"]",
        "cgw-pbj",
        "p-bj",
        "198.51.100.6",
    ),
];

fn attrs(name: &str, ip: &str) -> Attrs {
    Map::from([
        ("name".to_string(), Value::from(name)),
        ("public_ip_address".to_string(), Value::from(ip)),
        ("tags".to_string(), Value::Map(Map::new())),
        ("bgp_asn".to_string(), Value::int(0)),
    ])
}

/// Plans `text` against the existing objects (those `text` declares are in the state and in the
/// cloud as EXISTING says).
fn plan(text: &str) -> Result<Planned, MakeError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        format!("provider \"tencentcloud\" {{\n  region = \"{REGION}\"\n}}\n{text}"),
    )
    .unwrap();
    let config = load(dir.path());
    let mut state = State::new();
    let mut remote = RemoteSnapshot::default();
    for (a, id, name, ip) in EXISTING {
        let address = addr(a);
        let block = address.resource();
        if !text.contains(&format!("\"{}\"", block.name)) {
            continue;
        }
        let mut rs = ResourceState::new(ResourceKind::CustomerGateway, REGION, *id);
        rs.set_attributes(attrs(name, ip)).unwrap();
        state.resources.insert(address.clone(), rs);
        remote.objects.insert(
            address,
            RemoteObject {
                id: id.to_string(),
                kind: ResourceKind::CustomerGateway,
                region: REGION.into(),
                attrs: attrs(name, ip),
                ownership: Ownership::default(),
            },
        );
    }
    state.serial = 1;
    let opts = PlanOptions::default();
    let inputs = Inputs {
        config: &config,
        state: &state,
        opts: &opts,
        online: false,
    };
    make_plan(inputs, remote, |r| panic!("nothing to read, asked {r:?}"))
        .map(|p| p.expect("nothing to read"))
}

fn load(dir: &Path) -> Config {
    Config::load(dir, &VarInputs::default())
        .unwrap_or_else(|e| panic!("load failed:\n{e}"))
        .0
}

fn change<'p>(p: &'p Planned, a: &str) -> &'p ResourceChange {
    p.plan
        .changes
        .iter()
        .find(|c| c.address == addr(a))
        .unwrap_or_else(|| panic!("{a} is planned"))
}

/// Gateway `a` (named `a_name`) and gateway `b` (with `lifecycle` lines).
fn pair(a_name: &str, a_ip: &str, b_lifecycle: &str) -> String {
    format!(
        r#"
resource "tencentcloud_vpn_customer_gateway" "a" {{
  name              = "{a_name}"
  public_ip_address = "{a_ip}"
}}

resource "tencentcloud_vpn_customer_gateway" "b" {{
  name              = "b"
  public_ip_address = "198.51.100.2"
  lifecycle {{
{b_lifecycle}
  }}
}}
"#
    )
}

#[test]
fn an_update_of_the_named_resource_replaces_and_the_plan_says_why() {
    let p = plan(&pair(
        "a-renamed",
        "198.51.100.1",
        "    replace_triggered_by = [tencentcloud_vpn_customer_gateway.a]",
    ))
    .unwrap();
    assert_eq!(
        change(&p, "tencentcloud_vpn_customer_gateway.a").action,
        Action::Update
    );
    let b = change(&p, "tencentcloud_vpn_customer_gateway.b");
    assert_eq!(
        b.action,
        Action::Replace {
            create_before_destroy: false
        }
    );
    assert_eq!(
        b.reasons,
        [Reason::ReplaceByTriggers {
            by: vec!["tencentcloud_vpn_customer_gateway.a".into()]
        }]
    );
    // The replacement's computed attributes are unknown until the new object exists.
    assert_eq!(b.after.as_ref().unwrap()["bgp_asn"], Value::Unknown);

    let json = render_json(&p.plan);
    let rc = json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "tencentcloud_vpn_customer_gateway.b")
        .unwrap();
    assert_eq!(rc["action_reason"], "replace_by_triggers");
    assert_eq!(
        rc["change"]["actions"],
        serde_json::json!(["delete", "create"])
    );
    let text = render_human(&p.plan, &RenderOptions::default());
    assert!(
        text.contains("replaced because tencentcloud_vpn_customer_gateway.a changed"),
        "{text}"
    );

    // create_before_destroy is honoured.
    let p = plan(&pair(
        "a-renamed",
        "198.51.100.1",
        "    create_before_destroy = true\n    replace_triggered_by = [tencentcloud_vpn_customer_gateway.a]",
    ))
    .unwrap();
    assert_eq!(
        change(&p, "tencentcloud_vpn_customer_gateway.b").action,
        Action::Replace {
            create_before_destroy: true
        }
    );
}

#[test]
fn nothing_changed_nothing_replaced() {
    let p = plan(&pair(
        "a",
        "198.51.100.1",
        "    replace_triggered_by = [tencentcloud_vpn_customer_gateway.a]",
    ))
    .unwrap();
    assert!(
        p.plan.changes.iter().all(|c| c.action == Action::NoOp),
        "{:?}",
        p.plan.changes
    );
}

#[test]
fn an_attribute_fires_only_when_its_value_changes() {
    // a's name changes, its address does not: b stays.
    let p = plan(&pair(
        "a-renamed",
        "198.51.100.1",
        "    replace_triggered_by = [tencentcloud_vpn_customer_gateway.a.public_ip_address]",
    ))
    .unwrap();
    assert_eq!(
        change(&p, "tencentcloud_vpn_customer_gateway.a").action,
        Action::Update
    );
    assert_eq!(
        change(&p, "tencentcloud_vpn_customer_gateway.b").action,
        Action::NoOp
    );
    // The name it names does change: b is replaced.
    let p = plan(&pair(
        "a-renamed",
        "198.51.100.1",
        "    replace_triggered_by = [tencentcloud_vpn_customer_gateway.a.name]",
    ))
    .unwrap();
    assert_eq!(
        change(&p, "tencentcloud_vpn_customer_gateway.b").reasons,
        [Reason::ReplaceByTriggers {
            by: vec!["tencentcloud_vpn_customer_gateway.a.name".into()]
        }]
    );
    // a is replaced (its address forces it): its computed bgp_asn is unknown until apply,
    // which counts as a change.
    let p = plan(&pair(
        "a",
        "198.51.100.9",
        "    replace_triggered_by = [tencentcloud_vpn_customer_gateway.a.bgp_asn]",
    ))
    .unwrap();
    assert!(matches!(
        change(&p, "tencentcloud_vpn_customer_gateway.a").action,
        Action::Replace { .. }
    ));
    assert!(matches!(
        change(&p, "tencentcloud_vpn_customer_gateway.b").action,
        Action::Replace { .. }
    ));
}

#[test]
fn a_create_of_the_named_resource_does_not_fire() {
    // `c` is new: Terraform's rule is that only an update or a replacement fires.
    let p = plan(
        r#"
resource "tencentcloud_vpn_customer_gateway" "c" {
  name              = "c"
  public_ip_address = "198.51.100.7"
}

resource "tencentcloud_vpn_customer_gateway" "b" {
  name              = "b"
  public_ip_address = "198.51.100.2"
  lifecycle {
    replace_triggered_by = [tencentcloud_vpn_customer_gateway.c]
  }
}
"#,
    )
    .unwrap();
    assert_eq!(
        change(&p, "tencentcloud_vpn_customer_gateway.c").action,
        Action::Create
    );
    assert_eq!(
        change(&p, "tencentcloud_vpn_customer_gateway.b").action,
        Action::NoOp
    );
}

#[test]
fn each_key_replaces_only_the_instance_whose_own_trigger_changed() {
    let p = plan(
        r#"
locals {
  names = { sh = "sh-renamed", bj = "bj" }
  ips   = { sh = "198.51.100.3", bj = "198.51.100.4" }
}

resource "tencentcloud_vpn_customer_gateway" "many" {
  for_each          = local.names
  name              = each.value
  public_ip_address = local.ips[each.key]
}

resource "tencentcloud_vpn_customer_gateway" "per" {
  for_each          = local.names
  name              = "p-${each.key}"
  public_ip_address = each.key == "sh" ? "198.51.100.5" : "198.51.100.6"
  lifecycle {
    replace_triggered_by = [tencentcloud_vpn_customer_gateway.many[each.key]]
  }
}
"#,
    )
    .unwrap();
    assert_eq!(
        change(&p, "tencentcloud_vpn_customer_gateway.many[\"sh\"]").action,
        Action::Update
    );
    let sh = change(&p, "tencentcloud_vpn_customer_gateway.per[\"sh\"]");
    assert!(matches!(sh.action, Action::Replace { .. }), "{sh:?}");
    assert_eq!(
        sh.reasons,
        [Reason::ReplaceByTriggers {
            by: vec!["tencentcloud_vpn_customer_gateway.many[\"sh\"]".into()]
        }]
    );
    assert_eq!(
        change(&p, "tencentcloud_vpn_customer_gateway.per[\"bj\"]").action,
        Action::NoOp
    );
}

#[test]
fn a_whole_resource_reference_fires_on_any_instance_and_a_missing_instance_is_an_error() {
    let text = |trigger: &str| {
        format!(
            r#"
resource "tencentcloud_vpn_customer_gateway" "many" {{
  for_each          = {{ sh = "sh", bj = "bj-renamed" }}
  name              = each.value
  public_ip_address = each.key == "sh" ? "198.51.100.3" : "198.51.100.4"
}}

resource "tencentcloud_vpn_customer_gateway" "b" {{
  name              = "b"
  public_ip_address = "198.51.100.2"
  lifecycle {{
    replace_triggered_by = [{trigger}]
  }}
}}
"#
        )
    };
    let p = plan(&text("tencentcloud_vpn_customer_gateway.many")).unwrap();
    assert!(matches!(
        change(&p, "tencentcloud_vpn_customer_gateway.b").action,
        Action::Replace { .. }
    ));
    let p = plan(&text("tencentcloud_vpn_customer_gateway.many[\"sh\"]")).unwrap();
    assert_eq!(
        change(&p, "tencentcloud_vpn_customer_gateway.b").action,
        Action::NoOp
    );
    let Err(MakeError::Config(d)) = plan(&text("tencentcloud_vpn_customer_gateway.many[\"gz\"]"))
    else {
        panic!("a trigger naming a missing instance is an error");
    };
    assert!(
        d.to_string()
            .contains("replace_triggered_by names tencentcloud_vpn_customer_gateway.many[\"gz\"]"),
        "{d}"
    );
}
