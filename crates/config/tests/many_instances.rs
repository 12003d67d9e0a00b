//! A block of thousands of instances is evaluated on several cores when its lookup may be shared
//! between threads: the result must be the one a single thread gives, instances and errors in the
//! same order.

use crate::common;
use common::*;
use tunnelform_config::{Lookup, NoLookup};
use tunnelform_model::{Address, Value};

/// NoLookup's answers from a lookup that stays on one thread (`as_sync` is `None`).
struct OneThread;

impl Lookup for OneThread {
    fn instance(&self, a: &Address) -> Option<Value> {
        NoLookup.instance(a)
    }
}

fn tunnels(n: usize, bad_every: usize) -> String {
    format!(
        r#"
locals {{
  tunnels = {{ for i in range({n}) : format("t%05d", i) => i }}
}}
resource "tencentcloud_vpn_gateway" "g" {{
  name   = "g"
  vpc_id = "vpc-1"
}}
resource "tencentcloud_vpn_connection" "t" {{
  for_each            = local.tunnels
  name                = "tunnel-${{each.key}}"
  vpn_gateway_id      = tencentcloud_vpn_gateway.g.id
  customer_gateway_id = "cgw-1"
  pre_share_key       = "k-${{each.value}}"
  vpc_id              = "vpc-1"
  dpd_timeout         = each.value % {bad_every} == {bad_every} - 1 ? 5 : 30 + each.value % 31
}}
"#
    )
}

#[test]
fn a_big_for_each_block_evaluates_the_same_on_several_cores_as_on_one() {
    let (_d, cfg) = load_ok(&tunnels(5000, 100_000));
    let block: Address = "tencentcloud_vpn_connection.t".parse().unwrap();
    let shared = cfg.expand_block(&block, &NoLookup).unwrap();
    let alone = cfg.expand_block(&block, &OneThread).unwrap();
    assert_eq!(shared.len(), 5000);
    assert!(shared == alone, "the instances differ");
    assert_eq!(
        shared[0].address.to_string(),
        r#"tencentcloud_vpn_connection.t["t00000"]"#
    );
    assert_eq!(
        shared[4999].attrs["dpd_timeout"],
        Value::from(30 + 4999 % 31)
    );
}

#[test]
fn errors_of_a_big_for_each_block_come_in_the_same_order_on_several_cores() {
    // Every 500th instance (t00499, t00999, ...) has a dpd_timeout out of range; the same error
    // at the same place is reported once, naming its first instance, with the count of others.
    let (_d, cfg) = load_ok(&tunnels(5000, 500));
    let block: Address = "tencentcloud_vpn_connection.t".parse().unwrap();
    let shared = cfg.expand_block(&block, &NoLookup).unwrap_err();
    let alone = cfg.expand_block(&block, &OneThread).unwrap_err();
    assert_eq!(shared.to_string(), alone.to_string());
    let text = shared.to_string();
    assert!(text.contains("dpd_timeout"), "{text}");
    assert!(text.contains(r#"t["t00499"]"#), "{text}");
    assert!(!text.contains(r#"t["t00999"]"#), "{text}");
}

#[test]
fn argument_spans_are_the_same_built_from_the_block_or_while_evaluating() {
    // The same two policies as blocks (their spans built from the block's plan on first use)
    // and as a dynamic block (recorded while the instance is evaluated): the same keys, each
    // pointing at its own line.
    let (_d, cfg) = load_ok(
        r#"
resource "tencentcloud_vpn_connection" "fixed" {
  count               = 2
  name                = "fixed"
  vpn_gateway_id      = "vpngw-1"
  customer_gateway_id = "cgw-1"
  pre_share_key       = "k"
  vpc_id              = "vpc-1"
  security_group_policy {
    local_cidr_block  = "10.0.0.0/16"
    remote_cidr_block = ["10.1.0.0/16"]
  }
  security_group_policy {
    local_cidr_block  = "10.2.0.0/16"
    remote_cidr_block = ["10.3.0.0/16"]
  }
}

resource "tencentcloud_vpn_connection" "dynamic" {
  name                = "dynamic"
  vpn_gateway_id      = "vpngw-1"
  customer_gateway_id = "cgw-1"
  pre_share_key       = "k"
  vpc_id              = "vpc-1"
  dynamic "security_group_policy" {
    for_each = ["10.0.0.0/16", "10.2.0.0/16"]
    content {
      local_cidr_block  = security_group_policy.value
      remote_cidr_block = ["10.1.0.0/16"]
    }
  }
}
"#,
    );
    let fixed = cfg
        .expand_block(&addr("tencentcloud_vpn_connection.fixed"), &NoLookup)
        .unwrap();
    let dynamic = cfg
        .expand_block(&addr("tencentcloud_vpn_connection.dynamic"), &NoLookup)
        .unwrap()
        .remove(0);
    assert!(
        fixed[0].attr_spans.same(&fixed[1].attr_spans),
        "one set of spans for the block's instances"
    );
    let keys = |i: &tunnelform_config::Instance| -> Vec<String> {
        i.attr_spans.map().keys().cloned().collect()
    };
    assert_eq!(keys(&fixed[0]), keys(&dynamic));
    assert_eq!(
        keys(&dynamic),
        [
            "customer_gateway_id",
            "name",
            "pre_share_key",
            "security_group_policy.0",
            "security_group_policy.0.local_cidr_block",
            "security_group_policy.0.remote_cidr_block",
            "security_group_policy.1",
            "security_group_policy.1.local_cidr_block",
            "security_group_policy.1.remote_cidr_block",
            "vpc_id",
            "vpn_gateway_id",
        ]
    );
    let line = |i: &tunnelform_config::Instance, k: &str| i.attr_spans.get(k).unwrap().line;
    assert_eq!(line(&fixed[1], "name"), 4);
    assert_eq!(line(&fixed[1], "security_group_policy.0"), 9);
    assert_eq!(
        line(&fixed[1], "security_group_policy.1.local_cidr_block"),
        14
    );
    assert_eq!(line(&dynamic, "security_group_policy.1"), 25);
}
