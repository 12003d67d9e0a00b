//! Rendered diagnostics, as a person sees them (insta snapshots; the temporary directory is
//! replaced by [DIR]).

use crate::common;

use common::*;
use tunnelform_config::{Diagnostics, NoLookup};

fn render(d: &Dir, diags: &Diagnostics) -> String {
    diags
        .to_string()
        .replace(&d.path().display().to_string(), "[DIR]")
}

#[test]
fn unsupported_argument_with_suggestion() {
    let (d, e) = load_err(
        "resource \"tencentcloud_vpn_connection\" \"office\" {\n  name                = \"office\"\n  vpn_gateway_id      = \"vpngw-1\"\n  customer_gateway_id = \"cgw-1\"\n  pre_shared_key      = \"k\"\n}\n",
    );
    insta::assert_snapshot!(render(&d, &e));
}

#[test]
fn invalid_enum_in_a_for_each_instance() {
    let (d, cfg) = load_ok(
        "locals {\n  sites = { a = \"IKEV2\", b = \"IKEv3\" }\n}\nresource \"tencentcloud_vpn_connection\" \"t\" {\n  for_each            = local.sites\n  name                = each.key\n  vpn_gateway_id      = \"vpngw-1\"\n  customer_gateway_id = \"cgw-${each.key}\"\n  pre_share_key       = \"k\"\n  ike_version         = each.value\n}\n",
    );
    let e = cfg
        .expand_block(&addr("tencentcloud_vpn_connection.t"), &NoLookup)
        .unwrap_err();
    insta::assert_snapshot!(render(&d, &e));
}

#[test]
fn cycle_between_locals() {
    let (d, e) = load_err("locals {\n  a = local.b\n  b = \"${local.a}-x\"\n}\n");
    insta::assert_snapshot!(render(&d, &e));
}

#[test]
fn syntax_error() {
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = \"g\n}\n");
    insta::assert_snapshot!(render(&d, &e));
}

#[test]
fn missing_required_variable() {
    let (d, e) = load_err("variable \"psk\" {\n  type        = string\n  sensitive   = true\n  description = \"Pre-shared key of the tunnels.\"\n}\n");
    insta::assert_snapshot!(render(&d, &e));
}
