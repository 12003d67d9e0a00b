//! `tunnelform fmt`: canonical layout, idempotence, comments kept, meaning unchanged.

use crate::common;

use common::*;
use tunnelform_config::{format_source, Config, NoLookup, VarInputs};

const MESSY: &str = r#"


# Hub gateway   
resource "tencentcloud_vpn_gateway"   "main"{
name="hub"   # the name
    bandwidth =   10
  tags={
      env="prod",team   = "net" }



  // keep me
  vpc_id = var.vpc_id
}
variable "vpc_id" {
default="vpc-1"
}
/* a block
   comment */
resource "tencentcloud_vpn_connection" "t" {
  for_each = {for k,v in local.sites: k=>v if v.enabled}
  name = format("%s-%s",each.key,  "x")
  vpn_gateway_id = tencentcloud_vpn_gateway.main.id
  customer_gateway_id = "cgw-1"
  pre_share_key = <<EOT
  not   touched
EOT
  security_group_policy {
    local_cidr_block = "10.0.0.0/16"
    remote_cidr_block = [
    "192.168.0.0/24",
        "192.168.1.0/24",
    ]
  }
  dpd_timeout = 30+ 5*2
  ike_sa_lifetime_seconds = -1*-86400
}
locals {
  sites = { a = { enabled = true } }
}
"#;

const CANONICAL: &str = r#"# Hub gateway
resource "tencentcloud_vpn_gateway" "main" {
  name      = "hub" # the name
  bandwidth = 10
  tags = {
    env = "prod", team = "net" }

  // keep me
  vpc_id = var.vpc_id
}

variable "vpc_id" {
  default = "vpc-1"
}

/* a block
   comment */
resource "tencentcloud_vpn_connection" "t" {
  for_each            = { for k, v in local.sites : k => v if v.enabled }
  name                = format("%s-%s", each.key, "x")
  vpn_gateway_id      = tencentcloud_vpn_gateway.main.id
  customer_gateway_id = "cgw-1"
  pre_share_key       = <<EOT
  not   touched
EOT
  security_group_policy {
    local_cidr_block = "10.0.0.0/16"
    remote_cidr_block = [
      "192.168.0.0/24",
      "192.168.1.0/24",
    ]
  }
  dpd_timeout             = 30 + 5 * 2
  ike_sa_lifetime_seconds = -1 * -86400
}

locals {
  sites = { a = { enabled = true } }
}
"#;

#[test]
fn messy_file_becomes_canonical() {
    let out = format_source(MESSY, "messy.tf").unwrap();
    assert_eq!(out, CANONICAL, "\n--- got ---\n{out}");
    assert_eq!(format_source(&out, "messy.tf").unwrap(), out, "idempotent");
}

#[test]
fn fixtures_are_stable_and_keep_their_meaning() {
    for fx in ["quickstart", "provider_examples", "multi_site"] {
        let src_dir = fixture(fx);
        let d = Dir::new(&[]);
        let mut count = 0;
        for entry in std::fs::read_dir(&src_dir).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&p).unwrap();
            let out = if name.ends_with(".tf") || name.ends_with(".tfvars") {
                count += 1;
                let once = format_source(&text, &name).unwrap();
                let twice = format_source(&once, &name).unwrap();
                assert_eq!(once, twice, "{fx}/{name} is not idempotent");
                let comments = |s: &str| {
                    s.lines()
                        .filter(|l| l.trim_start().starts_with('#'))
                        .count()
                };
                assert_eq!(
                    comments(&text),
                    comments(&once),
                    "{fx}/{name} lost comments"
                );
                once
            } else {
                text
            };
            std::fs::write(d.path().join(&name), out).unwrap();
        }
        assert!(count > 0);
        // The formatted directory expands to the same instances (spans aside).
        let (a, _) = Config::load(&src_dir, &VarInputs::default()).unwrap();
        let (b, _) = Config::load(d.path(), &VarInputs::default()).unwrap();
        for addr in a.block_order().unwrap() {
            let x = a.expand_block(&addr, &NoLookup).unwrap();
            let y = b.expand_block(&addr, &NoLookup).unwrap();
            let strip = |v: Vec<tunnelform_config::Instance>| -> Vec<_> {
                v.into_iter().map(|i| (i.address, i.attrs)).collect()
            };
            assert_eq!(strip(x), strip(y), "{fx}: {addr}");
        }
    }
    // The documented examples are already canonical apart from alignment quirks.
    let ex = std::fs::read_to_string(fixture("provider_examples").join("connections.tf")).unwrap();
    assert_eq!(format_source(&ex, "connections.tf").unwrap(), ex);
}

#[test]
fn comments_everywhere_are_kept() {
    let src = "# head\nlocals { # after brace\n  # before\n  a = [ # in list\n    1, // one\n    /* two */ 2,\n  ] # after list\n  # end of block\n}\n# tail\n";
    let out = format_source(src, "c.tf").unwrap();
    for c in [
        "# head",
        "# after brace",
        "# before",
        "# in list",
        "// one",
        "/* two */",
        "# after list",
        "# end of block",
        "# tail",
    ] {
        assert!(out.contains(c), "{c} lost:\n{out}");
    }
    assert_eq!(format_source(&out, "c.tf").unwrap(), out);
}

#[test]
fn syntax_errors_are_diagnostics() {
    let e = format_source("resource \"x\" \"y\" {\n  a = \n}\n", "broken.tf").unwrap_err();
    let d = e.iter().next().unwrap();
    let span = d.span.as_ref().unwrap();
    assert_eq!((span.file.as_ref(), span.line), ("broken.tf", 2));
    assert!(d.source_line.is_some());
    assert_eq!(format_source("", "e.tf").unwrap(), "");
    assert_eq!(format_source("\n\n\n", "e.tf").unwrap(), "");
}
