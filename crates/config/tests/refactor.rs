//! `moved` and `removed` blocks: what the configuration alone can tell is wrong, as Terraform
//! diagnoses it, at file:line:column; chains resolve in order.

use crate::common;

use common::*;

const GW: &str =
    "resource \"tencentcloud_vpn_gateway\" \"c\" {\n  name   = \"gw\"\n  vpc_id = \"vpc-1\"\n}\n";

fn moved(from: &str, to: &str) -> String {
    format!("moved {{\n  from = {from}\n  to   = {to}\n}}\n")
}

fn load_with(extra: &str) -> Dir {
    Dir::new(&[("main.tf", GW), ("moves.tf", extra)])
}

#[test]
fn a_chain_of_moves_applies_in_order() {
    let d = load_with(&format!(
        "{}{}",
        moved("tencentcloud_vpn_gateway.b", "tencentcloud_vpn_gateway.c"),
        moved("tencentcloud_vpn_gateway.a", "tencentcloud_vpn_gateway.b")
    ));
    let (cfg, warnings) = d.load().unwrap_or_else(|e| panic!("{e}"));
    assert!(warnings.is_empty(), "{warnings}");
    let order: Vec<String> = cfg
        .moved()
        .iter()
        .map(|m| format!("{} -> {}", m.from, m.to))
        .collect();
    assert_eq!(
        order,
        [
            "tencentcloud_vpn_gateway.a -> tencentcloud_vpn_gateway.b",
            "tencentcloud_vpn_gateway.b -> tencentcloud_vpn_gateway.c"
        ]
    );
}

#[test]
fn cycles_ambiguities_and_type_changes_are_errors() {
    let d = load_with(&format!(
        "{}{}",
        moved("tencentcloud_vpn_gateway.x", "tencentcloud_vpn_gateway.y"),
        moved("tencentcloud_vpn_gateway.y", "tencentcloud_vpn_gateway.x")
    ));
    assert_diag(
        &d.errors(),
        "Cyclic dependency in move statements",
        &d.file("moves.tf"),
        1,
        1,
    );

    let d = load_with(&format!(
        "{}{}",
        moved("tencentcloud_vpn_gateway.x", "tencentcloud_vpn_gateway.c"),
        moved("tencentcloud_vpn_gateway.x", "tencentcloud_vpn_gateway.z")
    ));
    let e = assert_diag(
        &d.errors(),
        "Ambiguous move statements",
        &d.file("moves.tf"),
        5,
        1,
    );
    assert!(e
        .detail
        .unwrap_or_default()
        .contains("each object can move to only one address"));

    let d = load_with(&format!(
        "{}{}",
        moved("tencentcloud_vpn_gateway.x", "tencentcloud_vpn_gateway.c"),
        moved("tencentcloud_vpn_gateway.z", "tencentcloud_vpn_gateway.c")
    ));
    assert_diag(
        &d.errors(),
        "Ambiguous move statements",
        &d.file("moves.tf"),
        5,
        1,
    );

    let d = load_with(&moved(
        "tencentcloud_vpn_gateway.x",
        "tencentcloud_vpn_customer_gateway.c",
    ));
    assert_diag(
        &d.errors(),
        "Resource type mismatch",
        &d.file("moves.tf"),
        1,
        1,
    );

    let d = load_with(&moved(
        "data.tencentcloud_vpn_gateways.x",
        "data.tencentcloud_vpn_gateways.y",
    ));
    assert_diag(
        &d.errors(),
        "Data source address is not allowed",
        &d.file("moves.tf"),
        2,
        10,
    );

    let d = load_with(&moved(
        "tencentcloud_vpn_gateway.c",
        "tencentcloud_vpn_gateway.d",
    ));
    assert_diag(
        &d.errors(),
        "Moved object still exists",
        &d.file("moves.tf"),
        2,
        10,
    );

    let d = load_with(&moved("var.x", "tencentcloud_vpn_gateway.d"));
    assert_diag(
        &d.errors(),
        "Invalid address in \"from\"",
        &d.file("moves.tf"),
        2,
        10,
    );
}

#[test]
fn a_redundant_move_is_a_warning() {
    let d = load_with(&moved(
        "tencentcloud_vpn_gateway.c",
        "tencentcloud_vpn_gateway.c",
    ));
    let (cfg, warnings) = d.load().unwrap_or_else(|e| panic!("{e}"));
    assert!(cfg.moved().is_empty());
    assert!(
        warnings
            .iter()
            .any(|w| w.summary == "Redundant move statement"),
        "{warnings}"
    );
}

#[test]
fn removed_blocks() {
    let d = load_with(
        "removed {\n  from = tencentcloud_vpn_gateway.old\n  lifecycle {\n    destroy = false\n  }\n}\n",
    );
    let (cfg, _) = d.load().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.removed().len(), 1);
    assert!(!cfg.removed()[0].destroy);
    let d = load_with("removed {\n  from = tencentcloud_vpn_gateway.c\n}\n");
    assert_diag(
        &d.errors(),
        "Removed resource still exists",
        &d.file("moves.tf"),
        2,
        10,
    );
    let d = load_with(
        "removed {\n  from = tencentcloud_vpn_gateway.old\n  lifecycle {\n    destroy = \"no\"\n  }\n}\n",
    );
    assert_diag(
        &d.errors(),
        "Invalid value for destroy",
        &d.file("moves.tf"),
        4,
        15,
    );
}
