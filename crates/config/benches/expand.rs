//! Loading and expanding 10,000 tunnels (for_each over a 10,000-entry map in a local, and in a
//! variable set by terraform.tfvars).

use std::fmt::Write as _;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use tunnelform_config::{validate_instances, Config, NoLookup, VarInputs};
use tunnelform_model::Address;

const N: usize = 10_000;

fn site_entries() -> String {
    let mut s = String::new();
    for i in 0..N {
        let _ = writeln!(
            s,
            "    s{i:05} = {{ ip = \"11.{}.{}.1\", cidr = \"10.{}.{}.0/24\", dpd = {} }}",
            i / 250,
            i % 250 + 1,
            i / 256,
            i % 256,
            30 + i % 31
        );
    }
    s
}

const RESOURCES: &str = r#"
resource "tencentcloud_vpn_gateway" "hub" {
  name      = "hub"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 1000
}

resource "tencentcloud_vpn_customer_gateway" "site" {
  for_each          = SITES
  name              = "cgw-${each.key}"
  public_ip_address = each.value.ip
  tags              = local.tags
}

resource "tencentcloud_vpn_connection" "site" {
  for_each            = SITES
  name                = format("tunnel-%s", each.key)
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.hub.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.site[each.key].id
  pre_share_key       = var.psk
  dpd_enable          = 1
  dpd_timeout         = each.value.dpd
  ike_version         = "IKEV2"

  security_group_policy {
    local_cidr_block  = "172.16.0.0/16"
    remote_cidr_block = [each.value.cidr]
  }

  tags = merge(local.tags, { site = each.key })
}

variable "psk" {
  type      = string
  sensitive = true
  default   = "bench-pre-shared-key"
}
"#;

fn write_local_map(dir: &Path) {
    let main = format!(
        "locals {{\n  tags = {{ project = \"bench\" }}\n  sites = {{\n{}  }}\n}}\n{}",
        site_entries(),
        RESOURCES.replace("SITES", "local.sites")
    );
    std::fs::write(dir.join("main.tf"), main).unwrap();
}

fn write_variable(dir: &Path) {
    let main = format!(
        "variable \"sites\" {{\n  type = map(object({{ ip = string, cidr = string, dpd = number }}))\n}}\nlocals {{\n  tags = {{ project = \"bench\" }}\n}}\n{}",
        RESOURCES.replace("SITES", "var.sites")
    );
    std::fs::write(dir.join("main.tf"), main).unwrap();
    std::fs::write(
        dir.join("terraform.tfvars"),
        format!("sites = {{\n{}}}\n", site_entries()),
    )
    .unwrap();
}

fn load_and_expand(dir: &Path) -> usize {
    let (cfg, _) = Config::load(dir, &VarInputs::default()).unwrap();
    let mut n = 0;
    for a in cfg.block_order().unwrap() {
        n += cfg.expand_block(&a, &NoLookup).unwrap().len();
    }
    n
}

fn bench(c: &mut Criterion) {
    let local = tempfile::tempdir().unwrap();
    write_local_map(local.path());
    let var = tempfile::tempdir().unwrap();
    write_variable(var.path());
    assert_eq!(load_and_expand(local.path()), 2 * N + 1);
    assert_eq!(load_and_expand(var.path()), 2 * N + 1);

    let mut g = c.benchmark_group("10k_tunnels");
    g.sample_size(10);
    g.bench_function("load_and_expand_local_map", |b| {
        b.iter(|| load_and_expand(local.path()))
    });
    g.bench_function("load_and_expand_tfvars_variable", |b| {
        b.iter(|| load_and_expand(var.path()))
    });

    let (cfg, _) = Config::load(local.path(), &VarInputs::default()).unwrap();
    g.bench_function("load_only", |b| {
        b.iter(|| Config::load(local.path(), &VarInputs::default()).unwrap())
    });
    let conn: Address = "tencentcloud_vpn_connection.site".parse().unwrap();
    g.bench_function("expand_tunnels_only", |b| {
        b.iter(|| cfg.expand_block(&conn, &NoLookup).unwrap().len())
    });
    let one: Address = "tencentcloud_vpn_connection.site[\"s04242\"]"
        .parse()
        .unwrap();
    g.bench_function("eval_one_instance", |b| {
        b.iter(|| cfg.eval_instance(&one, &NoLookup).unwrap())
    });
    let all: Vec<_> = cfg
        .block_order()
        .unwrap()
        .iter()
        .flat_map(|a| cfg.expand_block(a, &NoLookup).unwrap())
        .collect();
    g.bench_function("validate_instances", |b| {
        b.iter(|| validate_instances(&all).len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
