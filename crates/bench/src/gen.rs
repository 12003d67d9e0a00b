//! Generated configurations: N tunnels on G = ceil(N / P) VPN gateways in `vpc-sandbox1`, written as
//! `for_each` over `locals` maps, the way a network team would write them.
//!
//! Shape (P tunnels per gateway, default 20; C customer gateways, default 20):
//! - tunnel `i` sits on gateway `i / P` and goes to customer gateway `i % C`. Because the P tunnels of a
//!   gateway are P consecutive indices and P <= C, they reach P different customer gateways: the API's
//!   one-tunnel-per-(customer gateway, VPN gateway) rule always holds. With C = 20 this is 20 offices, each
//!   with a tunnel to every VPN gateway; with C = N every tunnel has its own customer gateway.
//! - SPD: the local range is the gateway's slice of the VPC (10.0.0.0/16 cut into G slices), the remote range
//!   is the office's own network in 172.16.0.0/12. The tunnels of one gateway all have different remote
//!   ranges, so no two SPDs of a gateway conflict, and no remote range overlaps the VPC.
//! - Customer gateway `c` has the public address 11.x.y.7 (class A network 11, host part never all zeros or
//!   all ones).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context as _, Result};

/// The sandbox's default VPC in ap-guangzhou (10.0.0.0/16).
pub const VPC_ID: &str = "vpc-sandbox1";
pub const REGION: &str = "ap-guangzhou";
/// The pre-shared key of every generated tunnel (a variable's default: `sensitive = true`).
pub const PRE_SHARE_KEY: &str = "bench-pre-shared-key-0001";
/// `dpd_timeout` before benchmark 3 changes it.
pub const DPD_TIMEOUT: u32 = 30;
/// The file benchmark 3 rewrites to change `dpd_timeout` (a user would edit a tfvars file).
pub const TFVARS_FILE: &str = "bench.auto.tfvars";

/// How many objects of each kind, and who connects to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// N
    pub tunnels: usize,
    /// P: tunnels per VPN gateway (the last gateway may have fewer).
    pub per_gateway: usize,
    /// C
    pub customer_gateways: usize,
}

impl Layout {
    /// `cgws = None` means one customer gateway per tunnel.
    pub fn new(tunnels: usize, per_gateway: usize, cgws: Option<usize>) -> Result<Layout> {
        if tunnels == 0 {
            bail!("the number of tunnels must be at least 1");
        }
        if per_gateway == 0 {
            bail!("--tunnels-per-gateway must be at least 1");
        }
        let per_gateway = per_gateway.min(tunnels);
        let customer_gateways = cgws.unwrap_or(tunnels).min(tunnels);
        if customer_gateways < per_gateway {
            bail!(
                "{customer_gateways} customer gateways cannot serve {per_gateway} tunnels per VPN gateway: the API allows one tunnel per (customer gateway, VPN gateway) pair, so --cgws must be at least --tunnels-per-gateway"
            );
        }
        if customer_gateways > 1 << 16 {
            bail!("at most 65536 customer gateways (their public addresses are 11.x.y.7)");
        }
        Ok(Layout {
            tunnels,
            per_gateway,
            customer_gateways,
        })
    }

    /// G
    pub fn gateways(&self) -> usize {
        self.tunnels.div_ceil(self.per_gateway)
    }

    /// (gateway index, customer gateway index) of tunnel `i`.
    pub fn tunnel(&self, i: usize) -> (usize, usize) {
        (i / self.per_gateway, i % self.customer_gateways)
    }

    /// Objects in the configuration (tunnels + gateways + customer gateways).
    pub fn objects(&self) -> usize {
        self.tunnels + self.gateways() + self.customer_gateways
    }

    pub fn describe(&self) -> String {
        format!(
            "N={} tunnels, G={} VPN gateways ({} tunnels each), C={} customer gateways",
            self.tunnels,
            self.gateways(),
            self.per_gateway,
            self.customer_gateways
        )
    }
}

fn width(n: usize) -> usize {
    n.saturating_sub(1).max(1).to_string().len().max(2)
}

pub fn gateway_key(layout: &Layout, g: usize) -> String {
    format!("g{:0w$}", g, w = width(layout.gateways()))
}

pub fn office_key(layout: &Layout, c: usize) -> String {
    format!("o{:0w$}", c, w = width(layout.customer_gateways))
}

/// The gateway's slice of 10.0.0.0/16 (slices of at least /28; beyond 4096 gateways slices repeat, which
/// the API allows: SPD conflicts are checked among the tunnels of one gateway only).
pub fn gateway_cidr(layout: &Layout, g: usize) -> String {
    let g_count = layout.gateways();
    let bits = (usize::BITS - g_count.saturating_sub(1).leading_zeros()).min(12);
    let slot = (g % (1usize << bits)) as u32;
    let size = 1u32 << (16 - bits);
    let addr = slot * size;
    format!("10.0.{}.{}/{}", addr >> 8, addr & 0xff, 16 + bits)
}

/// The office's network: a /24 of 172.16.0.0/12 (a /28 when there are more than 4096 offices).
pub fn office_cidr(layout: &Layout, c: usize) -> String {
    let c = c as u32;
    if layout.customer_gateways <= 4096 {
        format!("172.{}.{}.0/24", 16 + (c >> 8), c & 0xff)
    } else {
        let addr = c * 16;
        format!(
            "172.{}.{}.{}/28",
            16 + (addr >> 16),
            (addr >> 8) & 0xff,
            addr & 0xff
        )
    }
}

/// A valid public address for customer gateway `c` (unique per `c`).
pub fn office_ip(c: usize) -> String {
    format!("11.{}.{}.7", (c >> 8) & 0xff, c & 0xff)
}

pub fn tunnel_key(layout: &Layout, i: usize) -> String {
    let (g, c) = layout.tunnel(i);
    format!("{}-{}", gateway_key(layout, g), office_key(layout, c))
}

const MAIN_TF: &str = r#"# Generated by tunnelform-bench: LAYOUT.
provider "tencentcloud" {
  region = "REGION"
}

variable "pre_share_key" {
  type      = string
  sensitive = true
  default   = "PRE_SHARE_KEY"
}

variable "dpd_timeout" {
  type    = number
  default = DPD_TIMEOUT
}

"#;

const FOR_EACH_TF: &str = r#"resource "tencentcloud_vpn_gateway" "gw" {
  for_each  = local.gateways
  name      = "bench-${each.key}"
  vpc_id    = local.vpc_id
  bandwidth = 100
  tags = {
    team = "network"
  }
}

resource "tencentcloud_vpn_customer_gateway" "office" {
  for_each          = local.offices
  name              = "office-${each.key}"
  public_ip_address = each.value.ip
}

resource "tencentcloud_vpn_connection" "tunnel" {
  for_each            = local.tunnels
  name                = "bench-${each.key}"
  vpc_id              = local.vpc_id
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw[each.value.gateway].id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.office[each.value.office].id
  pre_share_key       = var.pre_share_key

  security_group_policy {
    local_cidr_block  = local.gateways[each.value.gateway].cidr
    remote_cidr_block = [local.offices[each.value.office].cidr]
  }

  ike_proto_encry_algorithm  = "AES-CBC-256"
  ike_proto_authen_algorithm = "SHA-256"
  ike_dh_group_name          = "GROUP14"
  ike_sa_lifetime_seconds    = 28800
  ipsec_encrypt_algorithm    = "AES-CBC-256"
  ipsec_integrity_algorithm  = "SHA-256"
  ipsec_pfs_dh_group         = "DH-GROUP14"
  ipsec_sa_lifetime_seconds  = 3600
  dpd_enable                 = 1
  dpd_timeout                = var.dpd_timeout
  dpd_action                 = "restart"

  tags = {
    team = "network"
    site = each.value.office
  }
}
"#;

/// How the configuration is written. Every shape declares the same objects with the same
/// arguments (the API sees the same requests); only the addresses differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Shape {
    /// Three `for_each` blocks over `locals` maps (`tencentcloud_vpn_connection.tunnel["g001-o01"]`).
    ForEach,
    /// One `resource` block per object, as a script would generate them
    /// (`tencentcloud_vpn_connection.g001_o01`), with literal arguments.
    Explicit,
    /// The gateways as in `for_each`, and one `modules/site` per office called with `for_each`:
    /// the office's customer gateway and its tunnels
    /// (`module.site["o01"].tencentcloud_vpn_connection.tunnel["g001-o01"]`).
    Module,
}

impl Shape {
    pub const ALL: [Shape; 3] = [Shape::ForEach, Shape::Explicit, Shape::Module];

    pub fn name(self) -> &'static str {
        match self {
            Shape::ForEach => "for_each",
            Shape::Explicit => "explicit",
            Shape::Module => "module",
        }
    }

    /// The value of `--shape` that names it.
    pub fn name_arg(self) -> &'static str {
        match self {
            Shape::ForEach => "for-each",
            Shape::Explicit => "explicit",
            Shape::Module => "module",
        }
    }

    /// The addresses a setup applies first (every VPN gateway and customer gateway).
    pub fn gateway_targets(self, layout: &Layout) -> Vec<String> {
        match self {
            Shape::ForEach => vec![
                "tencentcloud_vpn_gateway.gw".into(),
                "tencentcloud_vpn_customer_gateway.office".into(),
            ],
            Shape::Explicit => (0..layout.gateways())
                .map(|g| format!("tencentcloud_vpn_gateway.{}", gateway_key(layout, g)))
                .chain((0..layout.customer_gateways).map(|c| {
                    format!(
                        "tencentcloud_vpn_customer_gateway.{}",
                        office_key(layout, c)
                    )
                }))
                .collect(),
            Shape::Module => (0..layout.gateways())
                .map(|g| {
                    format!(
                        "tencentcloud_vpn_gateway.gw[\"{}\"]",
                        gateway_key(layout, g)
                    )
                })
                .chain((0..layout.customer_gateways).map(|c| {
                    format!(
                        "module.site[\"{}\"].tencentcloud_vpn_customer_gateway.office",
                        office_key(layout, c)
                    )
                }))
                .collect(),
        }
    }

    /// The address of tunnel `i`.
    pub fn tunnel_address(self, layout: &Layout, i: usize) -> String {
        match self {
            Shape::ForEach => format!(
                "tencentcloud_vpn_connection.tunnel[\"{}\"]",
                tunnel_key(layout, i)
            ),
            Shape::Explicit => format!(
                "tencentcloud_vpn_connection.{}",
                tunnel_key(layout, i).replace('-', "_")
            ),
            Shape::Module => format!(
                "module.site[\"{}\"].tencentcloud_vpn_connection.tunnel[\"{}\"]",
                office_key(layout, layout.tunnel(i).1),
                tunnel_key(layout, i)
            ),
        }
    }
}

/// `main.tf` (provider, variables, and the `for_each` resources).
pub fn main_tf(layout: &Layout) -> String {
    header_tf(layout, Shape::ForEach) + FOR_EACH_TF
}

fn header_tf(layout: &Layout, shape: Shape) -> String {
    MAIN_TF
        .replace(
            "LAYOUT",
            &format!("{}, {} blocks", layout.describe(), shape.name()),
        )
        .replace("REGION", REGION)
        .replace("PRE_SHARE_KEY", PRE_SHARE_KEY)
        .replace("DPD_TIMEOUT", &DPD_TIMEOUT.to_string())
}

/// The start of both shapes' `locals.tf`: the VPC and the gateways map's entries (left open).
fn locals_head(s: &mut String, layout: &Layout) {
    s.push_str("locals {\n");
    let _ = writeln!(s, "  vpc_id = \"{VPC_ID}\"\n");
    s.push_str("  gateways = {\n");
    for g in 0..layout.gateways() {
        let _ = writeln!(
            s,
            "    {} = {{ cidr = \"{}\" }}",
            gateway_key(layout, g),
            gateway_cidr(layout, g)
        );
    }
}

/// `locals.tf`: the three maps the resources iterate over.
pub fn locals_tf(layout: &Layout) -> String {
    let mut s = String::with_capacity(layout.tunnels * 64 + 1024);
    locals_head(&mut s, layout);
    s.push_str("  }\n\n  offices = {\n");
    for c in 0..layout.customer_gateways {
        let _ = writeln!(
            s,
            "    {} = {{ ip = \"{}\", cidr = \"{}\" }}",
            office_key(layout, c),
            office_ip(c),
            office_cidr(layout, c)
        );
    }
    s.push_str("  }\n\n  tunnels = {\n");
    for i in 0..layout.tunnels {
        let (g, c) = layout.tunnel(i);
        let _ = writeln!(
            s,
            "    \"{}\" = {{ gateway = \"{}\", office = \"{}\" }}",
            tunnel_key(layout, i),
            gateway_key(layout, g),
            office_key(layout, c)
        );
    }
    s.push_str("  }\n}\n");
    s
}

/// `locals.tf` of the module shape: the gateways, and per office (site) its address, network and
/// tunnels (each with its gateway and that gateway's slice of the VPC).
pub fn module_locals_tf(layout: &Layout) -> String {
    let mut per_office: Vec<Vec<usize>> = vec![Vec::new(); layout.customer_gateways];
    for i in 0..layout.tunnels {
        per_office[layout.tunnel(i).1].push(i);
    }
    let mut s = String::with_capacity(layout.tunnels * 80 + 1024);
    locals_head(&mut s, layout);
    s.push_str("  }\n\n  sites = {\n");
    for (c, tunnels) in per_office.iter().enumerate() {
        let _ = writeln!(
            s,
            "    {} = {{\n      ip    = \"{}\"\n      cidr  = \"{}\"\n      tunnels = {{",
            office_key(layout, c),
            office_ip(c),
            office_cidr(layout, c)
        );
        for &i in tunnels {
            let g = layout.tunnel(i).0;
            let _ = writeln!(
                s,
                "        \"{}\" = {{ gateway = \"{}\", local_cidr = \"{}\" }}",
                tunnel_key(layout, i),
                gateway_key(layout, g),
                gateway_cidr(layout, g)
            );
        }
        s.push_str("      }\n    }\n");
    }
    s.push_str("  }\n}\n");
    s
}

/// `sites.tf` of the module shape: the gateways (as in `for_each`) and the module call.
const MODULE_ROOT_TF: &str = r#"resource "tencentcloud_vpn_gateway" "gw" {
  for_each  = local.gateways
  name      = "bench-${each.key}"
  vpc_id    = local.vpc_id
  bandwidth = 100
  tags = {
    team = "network"
  }
}

module "site" {
  source   = "./modules/site"
  for_each = local.sites

  name   = each.key
  ip     = each.value.ip
  cidr   = each.value.cidr
  vpc_id = local.vpc_id
  tunnels = {
    for k, t in each.value.tunnels : k => {
      gateway_id = tencentcloud_vpn_gateway.gw[t.gateway].id
      local_cidr = t.local_cidr
    }
  }
  pre_share_key = var.pre_share_key
  dpd_timeout   = var.dpd_timeout
}
"#;

/// `modules/site/main.tf`: one office's customer gateway and its tunnels.
const SITE_MODULE_TF: &str = r#"# Generated by tunnelform-bench: one office and its tunnels.
variable "name" {
  type = string
}

variable "ip" {
  type = string
}

variable "cidr" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "tunnels" {
  type = map(object({ gateway_id = string, local_cidr = string }))
}

variable "pre_share_key" {
  type      = string
  sensitive = true
}

variable "dpd_timeout" {
  type = number
}

resource "tencentcloud_vpn_customer_gateway" "office" {
  name              = "office-${var.name}"
  public_ip_address = var.ip
}

resource "tencentcloud_vpn_connection" "tunnel" {
  for_each            = var.tunnels
  name                = "bench-${each.key}"
  vpc_id              = var.vpc_id
  vpn_gateway_id      = each.value.gateway_id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.office.id
  pre_share_key       = var.pre_share_key

  security_group_policy {
    local_cidr_block  = each.value.local_cidr
    remote_cidr_block = [var.cidr]
  }

  ike_proto_encry_algorithm  = "AES-CBC-256"
  ike_proto_authen_algorithm = "SHA-256"
  ike_dh_group_name          = "GROUP14"
  ike_sa_lifetime_seconds    = 28800
  ipsec_encrypt_algorithm    = "AES-CBC-256"
  ipsec_integrity_algorithm  = "SHA-256"
  ipsec_pfs_dh_group         = "DH-GROUP14"
  ipsec_sa_lifetime_seconds  = 3600
  dpd_enable                 = 1
  dpd_timeout                = var.dpd_timeout
  dpd_action                 = "restart"

  tags = {
    team = "network"
    site = var.name
  }
}
"#;

/// `resources.tf` of the explicit shape: one block per object, arguments written out (the same
/// values the `for_each` blocks compute).
pub fn explicit_tf(layout: &Layout) -> String {
    let mut s = String::with_capacity(layout.tunnels * 1100 + layout.gateways() * 200 + 4096);
    for g in 0..layout.gateways() {
        let key = gateway_key(layout, g);
        let _ = write!(
            s,
            r#"resource "tencentcloud_vpn_gateway" "{key}" {{
  name      = "bench-{key}"
  vpc_id    = "{VPC_ID}"
  bandwidth = 100
  tags = {{
    team = "network"
  }}
}}

"#
        );
    }
    for c in 0..layout.customer_gateways {
        let key = office_key(layout, c);
        let _ = write!(
            s,
            r#"resource "tencentcloud_vpn_customer_gateway" "{key}" {{
  name              = "office-{key}"
  public_ip_address = "{}"
}}

"#,
            office_ip(c)
        );
    }
    for i in 0..layout.tunnels {
        let (g, c) = layout.tunnel(i);
        let (gw, office) = (gateway_key(layout, g), office_key(layout, c));
        let key = tunnel_key(layout, i);
        let _ = write!(
            s,
            r#"resource "tencentcloud_vpn_connection" "{name}" {{
  name                = "bench-{key}"
  vpc_id              = "{VPC_ID}"
  vpn_gateway_id      = tencentcloud_vpn_gateway.{gw}.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.{office}.id
  pre_share_key       = var.pre_share_key

  security_group_policy {{
    local_cidr_block  = "{local}"
    remote_cidr_block = ["{remote}"]
  }}

  ike_proto_encry_algorithm  = "AES-CBC-256"
  ike_proto_authen_algorithm = "SHA-256"
  ike_dh_group_name          = "GROUP14"
  ike_sa_lifetime_seconds    = 28800
  ipsec_encrypt_algorithm    = "AES-CBC-256"
  ipsec_integrity_algorithm  = "SHA-256"
  ipsec_pfs_dh_group         = "DH-GROUP14"
  ipsec_sa_lifetime_seconds  = 3600
  dpd_enable                 = 1
  dpd_timeout                = var.dpd_timeout
  dpd_action                 = "restart"

  tags = {{
    team = "network"
    site = "{office}"
  }}
}}

"#,
            name = key.replace('-', "_"),
            local = gateway_cidr(layout, g),
            remote = office_cidr(layout, c),
        );
    }
    s
}

/// Writes the configuration of `shape` into `dir` (created if needed): `main.tf` and
/// `locals.tf` (for_each), or `main.tf` (provider, variables) and `resources.tf` (explicit).
pub fn write_config(dir: &Path, layout: &Layout, shape: Shape) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let files = match shape {
        Shape::ForEach => vec![
            ("main.tf", main_tf(layout)),
            ("locals.tf", locals_tf(layout)),
        ],
        Shape::Explicit => vec![
            ("main.tf", header_tf(layout, shape)),
            ("resources.tf", explicit_tf(layout)),
        ],
        Shape::Module => {
            let module = dir.join("modules").join("site");
            std::fs::create_dir_all(&module)
                .with_context(|| format!("creating {}", module.display()))?;
            vec![
                ("main.tf", header_tf(layout, shape)),
                ("locals.tf", module_locals_tf(layout)),
                ("sites.tf", MODULE_ROOT_TF.to_string()),
                ("modules/site/main.tf", SITE_MODULE_TF.to_string()),
            ]
        }
    };
    for (name, text) in files {
        std::fs::write(dir.join(name), text)
            .with_context(|| format!("writing {}/{name}", dir.display()))?;
    }
    Ok(())
}

/// Sets `dpd_timeout` through `bench.auto.tfvars` (benchmark 3).
pub fn write_dpd_timeout(dir: &Path, value: u32) -> Result<()> {
    std::fs::write(dir.join(TFVARS_FILE), format!("dpd_timeout = {value}\n"))
        .with_context(|| format!("writing {}/{TFVARS_FILE}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashSet};
    use std::net::Ipv4Addr;

    fn parse_cidr(s: &str) -> (u32, u32) {
        let (a, p) = s.split_once('/').unwrap();
        let a: Ipv4Addr = a.parse().unwrap();
        let p: u32 = p.parse().unwrap();
        let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
        (u32::from(a) & mask, mask)
    }

    fn overlaps(a: &str, b: &str) -> bool {
        let (na, ma) = parse_cidr(a);
        let (nb, mb) = parse_cidr(b);
        let m = ma & mb;
        na & m == nb & m
    }

    #[test]
    fn pair_rule_and_spd_ranges_hold() {
        for (n, p, c) in [
            (1000, 20, Some(20)),
            (10_000, 20, Some(20)),
            (100, 20, None),
            (37, 20, Some(25)),
            (5000, 20, None),
            (10, 20, Some(20)),
        ] {
            let l = Layout::new(n, p, c).unwrap();
            let mut pairs = HashSet::new();
            let mut remotes_by_gw: Vec<BTreeSet<String>> = vec![BTreeSet::new(); l.gateways()];
            for i in 0..n {
                let (g, cg) = l.tunnel(i);
                assert!(g < l.gateways() && cg < l.customer_gateways);
                assert!(
                    pairs.insert((g, cg)),
                    "pair ({g}, {cg}) used twice ({n}, {p}, {c:?})"
                );
                let remote = office_cidr(&l, cg);
                assert!(
                    !overlaps(&remote, "10.0.0.0/16"),
                    "{remote} overlaps the VPC"
                );
                assert!(overlaps(&gateway_cidr(&l, g), "10.0.0.0/16"));
                // Distinct (hence, being aligned blocks of one size, non-overlapping) remotes per gateway.
                assert!(remotes_by_gw[g].insert(remote));
            }
            for rs in &remotes_by_gw {
                let v: Vec<&String> = rs.iter().collect();
                for i in 0..v.len() {
                    for j in i + 1..v.len() {
                        assert!(!overlaps(v[i], v[j]), "{} overlaps {}", v[i], v[j]);
                    }
                }
            }
            let names: HashSet<String> = (0..n).map(|i| tunnel_key(&l, i)).collect();
            assert_eq!(names.len(), n);
            assert!(names.iter().all(|k| format!("bench-{k}").len() <= 60));
        }
    }

    #[test]
    fn gateway_slices_are_disjoint_up_to_4096() {
        for n in [20, 100, 1000, 10_000] {
            let l = Layout::new(n, 20, Some(20)).unwrap();
            let cidrs: Vec<String> = (0..l.gateways()).map(|g| gateway_cidr(&l, g)).collect();
            let uniq: HashSet<&String> = cidrs.iter().collect();
            assert_eq!(uniq.len(), cidrs.len(), "{n}");
            for w in cidrs.windows(2) {
                assert!(!overlaps(&w[0], &w[1]), "{} / {}", w[0], w[1]);
            }
        }
    }

    #[test]
    fn office_addresses_are_unique_and_public() {
        let ips: HashSet<String> = (0..65_536).map(office_ip).collect();
        assert_eq!(ips.len(), 65_536);
        assert!(ips
            .iter()
            .all(|ip| ip.starts_with("11.") && ip.ends_with(".7")));
    }

    #[test]
    fn too_few_customer_gateways_is_refused() {
        assert!(Layout::new(100, 20, Some(10)).is_err());
        assert!(Layout::new(0, 20, None).is_err());
        let l = Layout::new(10, 20, Some(20)).unwrap();
        assert_eq!(
            (l.per_gateway, l.customer_gateways, l.gateways()),
            (10, 10, 1)
        );
    }

    #[test]
    fn generated_configuration_loads_and_expands() {
        let l = Layout::new(60, 20, Some(20)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        write_config(dir.path(), &l, Shape::ForEach).unwrap();
        let (config, warnings) =
            tunnelform_config::Config::load(dir.path(), &Default::default()).unwrap();
        assert!(!warnings.has_errors());
        let mut counts = std::collections::BTreeMap::new();
        let mut all = Vec::new();
        for block in config.block_order().unwrap() {
            let inst = config
                .expand_block(&block, &tunnelform_config::NoLookup)
                .unwrap();
            *counts.entry(block.to_string()).or_insert(0) += inst.len();
            all.extend(inst);
        }
        let diags = tunnelform_config::validate_instances(&all);
        assert!(!diags.has_errors(), "{diags}");
        assert_eq!(counts["tencentcloud_vpn_connection.tunnel"], 60);
        assert_eq!(counts["tencentcloud_vpn_gateway.gw"], 3);
        assert_eq!(counts["tencentcloud_vpn_customer_gateway.office"], 20);
        // benchmark 3's knob reaches every tunnel
        write_dpd_timeout(dir.path(), 45).unwrap();
        let (config, _) = tunnelform_config::Config::load(dir.path(), &Default::default()).unwrap();
        let block: tunnelform_model::Address =
            "tencentcloud_vpn_connection.tunnel".parse().unwrap();
        let inst = config
            .expand_block(&block, &tunnelform_config::NoLookup)
            .unwrap();
        assert!(inst
            .iter()
            .all(|i| i.attrs.get("dpd_timeout").and_then(|v| v.as_i64()) == Some(45)));
    }

    /// Every instance of a configuration: address -> arguments.
    fn instances(dir: &Path) -> std::collections::BTreeMap<String, tunnelform_model::Attrs> {
        let (config, warnings) = tunnelform_config::Config::load(dir, &Default::default()).unwrap();
        assert!(!warnings.has_errors(), "{warnings}");
        let mut all = Vec::new();
        for block in config.block_order().unwrap() {
            all.extend(
                config
                    .expand_block(&block, &tunnelform_config::NoLookup)
                    .unwrap(),
            );
        }
        let diags = tunnelform_config::validate_instances(&all);
        assert!(!diags.has_errors(), "{diags}");
        all.into_iter()
            .map(|i| (i.address.to_string(), i.attrs))
            .collect()
    }

    #[test]
    fn every_shape_declares_the_same_objects_with_the_same_arguments() {
        let l = Layout::new(45, 20, Some(20)).unwrap();
        let dirs: Vec<_> = Shape::ALL
            .iter()
            .map(|&shape| {
                let dir = tempfile::tempdir().unwrap();
                write_config(dir.path(), &l, shape).unwrap();
                (shape, dir)
            })
            .collect();
        let for_each = instances(dirs[0].1.path());
        assert_eq!(for_each.len(), l.objects());
        for (shape, dir) in &dirs[1..] {
            let other = instances(dir.path());
            assert_eq!(other.len(), l.objects(), "{shape:?}");
            // The same arguments, object by object (matched through the setup's addresses).
            for i in 0..l.tunnels {
                let a = &for_each[&Shape::ForEach.tunnel_address(&l, i)];
                let b = &other[&shape.tunnel_address(&l, i)];
                assert_eq!(a, b, "tunnel {i} ({shape:?})");
            }
            let targets: Vec<String> = shape.gateway_targets(&l);
            assert_eq!(targets.len(), l.gateways() + l.customer_gateways);
            for t in &targets {
                assert!(other.contains_key(t), "{t} ({shape:?})");
            }
            let names = |m: &std::collections::BTreeMap<String, tunnelform_model::Attrs>| {
                let mut v: Vec<String> = m
                    .values()
                    .map(|a| a.get("name").and_then(|n| n.as_str()).unwrap().to_string())
                    .collect();
                v.sort();
                v
            };
            assert_eq!(names(&for_each), names(&other), "{shape:?}");
        }
    }
}
