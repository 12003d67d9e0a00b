//! Validation before any API call: the schema's Check rules, cross-field rules, static schema
//! errors, cross-instance rules. Every message is asserted with its file:line:column.

use crate::common;

use common::*;
use tunnelform_config::{validate_instances, Diagnostics, Instance, NoLookup};

/// A tunnel with `extra` inserted at line 8 (column 3 is the start of its argument name).
fn tunnel(extra: &str) -> String {
    format!(
        r#"resource "tencentcloud_vpn_connection" "t" {{
  name                = "t"
  vpn_gateway_id      = "vpngw-1"
  customer_gateway_id = "cgw-1"
  pre_share_key       = "secret-key"
  security_group_policy {{
    local_cidr_block  = "10.0.0.0/16"
    remote_cidr_block = ["192.168.0.0/24"]
  }}
{extra}
}}
"#
    )
}

/// Expands every block of a configuration, returning the instances or the first failure.
fn expand_all(main: &str) -> (Dir, Result<Vec<Instance>, Diagnostics>) {
    let d = Dir::new(&[("main.tf", main)]);
    let cfg = match d.load() {
        Ok((c, _)) => c,
        Err(e) => return (d, Err(e)),
    };
    let mut all = Vec::new();
    for a in cfg.block_order().unwrap() {
        match cfg.expand_block(&a, &NoLookup) {
            Ok(i) => all.extend(i),
            Err(e) => return (d, Err(e)),
        }
    }
    (d, Ok(all))
}

fn expand_err(main: &str) -> (Dir, Diagnostics) {
    let (d, r) = expand_all(main);
    match r {
        Ok(i) => panic!("expected an error, got {} instances", i.len()),
        Err(e) => (d, e),
    }
}

#[test]
fn check_rules_with_messages_and_locations() {
    // (line to add at line 10, summary, detail fragment, help)
    let cases: &[(&str, &str, &str, Option<&str>)] = &[
        (
            "  ike_version = \"ikev2\"",
            "Invalid value for \"ike_version\"",
            "expected one of \"IKEV1\" or \"IKEV2\", got \"ikev2\"",
            Some("did you mean \"IKEV2\"?"),
        ),
        (
            "  dpd_action = \"reboot\"",
            "Invalid value for \"dpd_action\"",
            "expected one of \"clear\" or \"restart\"",
            None,
        ),
        (
            "  route_type = \"static\"",
            "Invalid value for \"route_type\"",
            "\"STATIC\", \"StaticRoute\", \"Policy\" or \"Bgp\"",
            Some("did you mean \"STATIC\"?"),
        ),
        (
            "  negotiation_type = \"flowtrigger\"",
            "Invalid value for \"negotiation_type\"",
            "\"active\", \"passive\" or \"flowTrigger\"",
            Some("did you mean \"flowTrigger\"?"),
        ),
        (
            "  ike_sa_lifetime_seconds = 59",
            "Invalid value for \"ike_sa_lifetime_seconds\"",
            "must be between 60 and 604800, got 59",
            None,
        ),
        (
            "  ipsec_sa_lifetime_seconds = 604801",
            "Invalid value for \"ipsec_sa_lifetime_seconds\"",
            "must be between 180 and 604800, got 604801",
            None,
        ),
        (
            "  ipsec_sa_lifetime_traffic = 2559",
            "Invalid value for \"ipsec_sa_lifetime_traffic\"",
            "must be between 2560 and 4294967295, got 2559",
            None,
        ),
        (
            "  dpd_timeout = 61",
            "Invalid value for \"dpd_timeout\"",
            "must be between 30 and 60, got 61",
            None,
        ),
        (
            "  dpd_enable = 2",
            "Invalid value for \"dpd_enable\"",
            "must be between 0 and 1, got 2",
            None,
        ),
        (
            "  ike_local_address = \"1.2.3\"",
            "Invalid value for \"ike_local_address\"",
            "\"1.2.3\" is not an IPv4 address",
            None,
        ),
        (
            "  health_check_local_ip = \"169.254.1.300\"",
            "Invalid value for \"health_check_local_ip\"",
            "is not an IPv4 address",
            None,
        ),
        (
            "  ike_sa_lifetime_seconds = 1.5",
            "Incorrect attribute value type for \"ike_sa_lifetime_seconds\"",
            "a whole number is required, got 1.5",
            None,
        ),
        (
            "  dpd_timeout = \"thirty\"",
            "Incorrect attribute value type for \"dpd_timeout\"",
            "a number is required, got \"thirty\"",
            None,
        ),
        (
            "  enable_health_check = \"yes\"",
            "Incorrect attribute value type for \"enable_health_check\"",
            "a bool is required, got string",
            None,
        ),
        (
            "  tags = [\"a\"]",
            "Incorrect attribute value type for \"tags\"",
            "a map is required, got list",
            None,
        ),
        (
            "  tags = { env = [\"x\"] }",
            "Incorrect attribute value type for \"tags\"",
            "a string is required, got list",
            None,
        ),
        (
            "  tags = { \"\" = \"x\" }",
            "Invalid tag key",
            "tag keys may not be empty",
            None,
        ),
    ];
    let mut failures = Vec::new();
    for (line, summary, detail, help) in cases {
        let main = tunnel(line);
        // The file has one `=` per line; the value starts after it.
        let column = line.find(" = ").map(|i| i + 4).unwrap();
        let (d, e) = expand_err(&main);
        let found = e.iter().find(|x| x.summary == *summary);
        let Some(diag) = found else {
            failures.push(format!("{line}: no {summary:?} in\n{e}"));
            continue;
        };
        let span = diag.span.as_ref().unwrap();
        if (span.file.as_ref(), span.line, span.column) != (d.file("main.tf").as_str(), 10, column)
        {
            failures.push(format!("{line}: at {span}, want line 10 column {column}"));
        }
        if !diag.detail.as_deref().unwrap_or("").contains(detail) {
            failures.push(format!("{line}: detail {:?} lacks {detail:?}", diag.detail));
        }
        if let Some(h) = help {
            if diag.help.as_deref() != Some(*h) {
                failures.push(format!("{line}: help {:?}, want {h:?}", diag.help));
            }
        }
        if diag.source_line.as_deref() != Some(*line) {
            failures.push(format!("{line}: source line {:?}", diag.source_line));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cidr_and_ip_rules() {
    let spd = |local: &str, remote: &str| {
        format!(
            r#"resource "tencentcloud_vpn_connection" "t" {{
  name                = "t"
  vpn_gateway_id      = "vpngw-1"
  customer_gateway_id = "cgw-1"
  pre_share_key       = "secret-key"
  security_group_policy {{
    local_cidr_block  = "{local}"
    remote_cidr_block = ["{remote}"]
  }}
}}
"#
        )
    };
    let (d, e) = expand_err(&spd("10.0.0.1/16", "192.168.0.0/24"));
    let diag = assert_diag(
        &e,
        "Invalid value for \"local_cidr_block\"",
        &d.file("main.tf"),
        7,
        25,
    );
    assert!(diag.detail.unwrap().contains("host bits set"));
    assert_eq!(diag.help.as_deref(), Some("did you mean \"10.0.0.0/16\"?"));
    let (d, e) = expand_err(&spd("10.0.0.0/16", "192.168.0.0/33"));
    let diag = assert_diag(
        &e,
        "Invalid value for \"remote_cidr_block\"",
        &d.file("main.tf"),
        8,
        25,
    );
    assert!(diag.detail.unwrap().contains("is not an IPv4 CIDR block"));

    let cgw = |ip: &str| {
        format!("resource \"tencentcloud_vpn_customer_gateway\" \"c\" {{\n  name              = \"c\"\n  public_ip_address = \"{ip}\"\n}}\n")
    };
    for (ip, why) in [
        ("0.0.0.0", "all-zero"),
        ("255.255.255.255", "broadcast"),
        ("224.1.1.1", "multicast"),
        ("127.0.0.1", "loopback"),
        ("169.254.10.10", "link-local"),
        ("10.0.0.0", "all zeros"),
        ("172.16.255.255", "all ones"),
        ("300.1.1.1", "not an IPv4 address"),
    ] {
        let (d, e) = expand_err(&cgw(ip));
        let diag = assert_diag(
            &e,
            "Invalid value for \"public_ip_address\"",
            &d.file("main.tf"),
            3,
            23,
        );
        assert!(diag.detail.as_ref().unwrap().contains(why), "{ip}: {diag}");
    }
    assert!(expand_all(&cgw("203.0.113.7")).1.is_ok());

    let long = "resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = join(\"\", [for i in range(61) : \"x\"])\n}\n";
    let (d, e) = expand_err(long);
    let diag = assert_diag(&e, "Invalid value for \"name\"", &d.file("main.tf"), 2, 10);
    assert!(diag
        .detail
        .unwrap()
        .contains("must be 1 to 60 characters long, got 61"));

    let gw =
        "resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name      = \"g\"\n  bandwidth = 15\n}\n";
    let (d, e) = expand_err(gw);
    let diag = assert_diag(
        &e,
        "Invalid value for \"bandwidth\"",
        &d.file("main.tf"),
        3,
        15,
    );
    assert!(diag
        .detail
        .unwrap()
        .contains("expected one of 5, 10, 20, 50, 100, 200, 500, 1000, 3000, got 15"));
}

#[test]
fn bgp_and_identity_rules() {
    let bgp = |cidr: &str, local: &str, remote: &str, route: &str| {
        tunnel(&format!(
            "  route_type = \"{route}\"\n  bgp_config {{\n    tunnel_cidr   = \"{cidr}\"\n    local_bgp_ip  = \"{local}\"\n    remote_bgp_ip = \"{remote}\"\n  }}"
        ))
    };
    assert!(expand_all(&bgp(
        "169.254.128.0/30",
        "169.254.128.1",
        "169.254.128.2",
        "Bgp"
    ))
    .1
    .is_ok());
    let (d, e) = expand_err(&bgp(
        "169.254.128.0/29",
        "169.254.128.1",
        "169.254.128.2",
        "Bgp",
    ));
    let diag = assert_diag(
        &e,
        "Invalid value for \"tunnel_cidr\"",
        &d.file("main.tf"),
        12,
        21,
    );
    assert!(diag.detail.unwrap().contains("must be a /30"));
    let (d, e) = expand_err(&bgp(
        "169.254.128.0/30",
        "169.254.128.9",
        "169.254.128.2",
        "Bgp",
    ));
    let diag = assert_diag(
        &e,
        "Invalid value for \"local_bgp_ip\"",
        &d.file("main.tf"),
        13,
        21,
    );
    assert!(diag
        .detail
        .unwrap()
        .contains("is not inside the BGP tunnel block 169.254.128.0/30"));
    assert!(diag
        .help
        .unwrap()
        .contains("169.254.128.1 or 169.254.128.2"));
    let (_, e) = expand_err(&bgp(
        "169.254.128.0/30",
        "169.254.128.1",
        "169.254.128.1",
        "Bgp",
    ));
    assert!(
        e.to_string()
            .contains("the local and remote BGP addresses must differ"),
        "{e}"
    );
    let (d, e) = expand_err(&bgp(
        "169.254.128.0/30",
        "169.254.128.1",
        "169.254.128.2",
        "StaticRoute",
    ));
    assert_diag(
        &e,
        "bgp_config needs route_type = \"Bgp\"",
        &d.file("main.tf"),
        11,
        3,
    );
    let (d, e) = expand_err(&tunnel("  route_type = \"Bgp\""));
    assert_diag(&e, "Missing bgp_config", &d.file("main.tf"), 10, 16);

    let (d, e) = expand_err(&tunnel("  ike_local_fqdn_name = \"vpn.example.com\""));
    let diag = assert_diag(
        &e,
        "Conflicting arguments \"ike_local_fqdn_name\" and \"ike_local_identity\"",
        &d.file("main.tf"),
        10,
        25,
    );
    assert!(diag.detail.unwrap().contains("by default"));
    let (d, e) = expand_err(&tunnel(
        "  ike_remote_identity = \"FQDN\"\n  ike_remote_address = \"203.0.113.1\"",
    ));
    assert_diag(
        &e,
        "Conflicting arguments \"ike_remote_address\" and \"ike_remote_identity\"",
        &d.file("main.tf"),
        11,
        24,
    );
    assert_diag(
        &e,
        "Missing argument \"ike_remote_fqdn_name\"",
        &d.file("main.tf"),
        10,
        25,
    );
    assert!(expand_all(&tunnel(
        "  ike_remote_identity = \"FQDN\"\n  ike_remote_fqdn_name = \"peer.example.com\""
    ))
    .1
    .is_ok());
}

#[test]
fn static_schema_errors() {
    let (d, e) = load_err(&tunnel("  pre_shared_key = \"x\""));
    let diag = assert_diag(
        &e,
        "Unsupported argument \"pre_shared_key\"",
        &d.file("main.tf"),
        10,
        3,
    );
    assert_eq!(
        diag.help.as_deref(),
        Some("did you mean \"pre_share_key\"?")
    );
    let (d, e) = load_err(&tunnel("  state = \"AVAILABLE\""));
    assert_diag(
        &e,
        "Read-only attribute \"state\"",
        &d.file("main.tf"),
        10,
        3,
    );
    let (d, e) = load_err(&tunnel("  bgp_config = {}"));
    assert_diag(
        &e,
        "\"bgp_config\" is a block, not an argument",
        &d.file("main.tf"),
        10,
        3,
    );
    let (d, e) = load_err(&tunnel("  tags {\n  }"));
    assert_diag(
        &e,
        "\"tags\" is an argument, not a block",
        &d.file("main.tf"),
        10,
        3,
    );
    let (d, e) = load_err(&tunnel("  security_grop_policy {\n  }"));
    let diag = assert_diag(
        &e,
        "Unsupported block type \"security_grop_policy\"",
        &d.file("main.tf"),
        10,
        3,
    );
    assert_eq!(
        diag.help.as_deref(),
        Some("did you mean \"security_group_policy\"?")
    );
    let (d, e) = load_err(&tunnel(
        "  bgp_config {\n    tunnel_cidr = \"169.254.128.0/30\"\n  }",
    ));
    assert_diag(
        &e,
        "Missing required argument \"local_bgp_ip\"",
        &d.file("main.tf"),
        10,
        3,
    );
    let (d, e) = load_err(&tunnel(
        "  health_check_config {\n  }\n  health_check_config {\n  }",
    ));
    assert_diag(
        &e,
        "Too many health_check_config blocks",
        &d.file("main.tf"),
        12,
        3,
    );
    let (d, e) = load_err("resource \"tencentcloud_vpn_connection\" \"t\" {\n  name = \"x\"\n}\n");
    for missing in ["vpn_gateway_id", "customer_gateway_id", "pre_share_key"] {
        assert_diag(
            &e,
            &format!("Missing required argument \"{missing}\""),
            &d.file("main.tf"),
            1,
            1,
        );
    }
    let (d, e) = load_err(&tunnel("  provisioner \"local-exec\" {\n  }"));
    assert_diag(
        &e,
        "provisioner blocks are not supported",
        &d.file("main.tf"),
        10,
        3,
    );

    // Unsupported types list the supported ones.
    let (d, e) = load_err("resource \"tencentcloud_vpn_gatway\" \"g\" {\n}\n");
    let diag = assert_diag(
        &e,
        "Unsupported resource type \"tencentcloud_vpn_gatway\"",
        &d.file("main.tf"),
        1,
        10,
    );
    assert!(diag.detail.unwrap().contains("\"tencentcloud_vpn_gateway\", \"tencentcloud_vpn_customer_gateway\", \"tencentcloud_vpn_connection\", \"tencentcloud_vpn_gateway_route\", \"tencentcloud_route_table\" or \"tencentcloud_route_table_entry\""));
    assert_eq!(
        diag.help.as_deref(),
        Some("did you mean \"tencentcloud_vpn_gateway\"?")
    );
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateways\" \"g\" {\n}\n");
    let diag = assert_diag(&e, "Unsupported resource type", &d.file("main.tf"), 1, 10);
    assert_eq!(
        diag.help.as_deref(),
        Some("did you mean \"tencentcloud_vpn_gateway\"?")
    );
    let (d, e) = load_err("data \"tencentcloud_instances\" \"g\" {\n}\n");
    let diag = assert_diag(
        &e,
        "Unsupported data source \"tencentcloud_instances\"",
        &d.file("main.tf"),
        1,
        6,
    );
    assert!(diag.detail.unwrap().contains("tencentcloud_vpc_instances"));
    let (d, e) = load_err("data \"tencentcloud_vpn_gateways\" \"g\" {\n  gateway_list = []\n}\n");
    assert_diag(
        &e,
        "Read-only attribute \"gateway_list\"",
        &d.file("main.tf"),
        2,
        3,
    );
}

#[test]
fn duplicates_point_at_both_places() {
    let gw = "resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = \"g\"\n}\n";
    let d = Dir::new(&[("a.tf", gw), ("b.tf", gw)]);
    let e = d.errors();
    let diag = assert_diag(
        &e,
        "Duplicate resource \"tencentcloud_vpn_gateway.g\"",
        &d.file("b.tf"),
        1,
        1,
    );
    assert!(diag
        .detail
        .unwrap()
        .contains(&format!("{}:1:1", d.file("a.tf"))));

    let (d, e) = load_err("variable \"x\" {}\nvariable \"x\" {}\n");
    let diag = assert_diag(&e, "Duplicate variable \"x\"", &d.file("main.tf"), 2, 1);
    assert!(diag.detail.unwrap().contains("main.tf:1:1"));
    let (d, e) = load_err("locals {\n  a = 1\n}\nlocals {\n  a = 2\n}\n");
    let diag = assert_diag(&e, "Duplicate local value \"a\"", &d.file("main.tf"), 5, 3);
    assert!(diag.detail.unwrap().contains("main.tf:2:3"));
    let (d, e) = load_err("output \"o\" {\n  value = 1\n}\noutput \"o\" {\n  value = 2\n}\n");
    let diag = assert_diag(&e, "Duplicate output \"o\"", &d.file("main.tf"), 4, 1);
    assert!(diag.detail.unwrap().contains("main.tf:1:1"));
    let (d, e) = load_err("provider \"tencentcloud\" {}\nprovider \"tencentcloud\" {\n  region = \"ap-shanghai\"\n}\n");
    assert_diag(
        &e,
        "Duplicate default provider configuration",
        &d.file("main.tf"),
        2,
        1,
    );
    let (d, e) = load_err("locals {\n  a = 1\n  a = 2\n}\n");
    assert_diag(&e, "Duplicate argument", &d.file("main.tf"), 3, 3);
    let (d, e) = load_err(&tunnel("  tags = {\n    env = \"a\"\n    env = \"b\"\n  }"));
    let diag = assert_diag(&e, "Duplicate object key", &d.file("main.tf"), 12, 5);
    assert!(diag.help.unwrap().contains("tags"));
    let (d, e) = expand_err(&tunnel(
        "  tags = {\n    (\"env\") = \"a\"\n    env     = \"b\"\n  }",
    ));
    assert_diag(
        &e,
        "Duplicate object key \"env\"",
        &d.file("main.tf"),
        12,
        5,
    );
}

#[test]
fn meta_arguments() {
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  count    = 1\n  for_each = {}\n  name     = \"g\"\n}\n");
    assert_diag(
        &e,
        "Invalid combination of \"count\" and \"for_each\"",
        &d.file("main.tf"),
        3,
        3,
    );
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = each.key\n}\n");
    assert_diag(
        &e,
        "Reference to \"each\" in a context without for_each",
        &d.file("main.tf"),
        2,
        10,
    );
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  for_each = { a = 1 }\n  name     = \"g${count.index}\"\n}\n");
    assert_diag(
        &e,
        "Reference to \"count\" in a context without count",
        &d.file("main.tf"),
        3,
        18,
    );
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  provider = tencentcloud.hongkog\n  name     = \"g\"\n}\nprovider \"tencentcloud\" {\n  alias  = \"hongkong\"\n  region = \"ap-hongkong\"\n}\n");
    let diag = assert_diag(
        &e,
        "Reference to undeclared provider tencentcloud.hongkog",
        &d.file("main.tf"),
        1,
        1,
    );
    assert_eq!(diag.help.as_deref(), Some("did you mean \"hongkong\"?"));
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name       = \"g\"\n  depends_on = [tencentcloud_vpn_gateway.h]\n}\n");
    assert_diag(
        &e,
        "Reference to undeclared resource \"tencentcloud_vpn_gateway.h\"",
        &d.file("main.tf"),
        3,
        17,
    );
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = \"g\"\n  lifecycle {\n    ignore_changes = [tagz]\n  }\n}\n");
    let diag = assert_diag(
        &e,
        "Unsupported attribute \"tagz\" in ignore_changes",
        &d.file("main.tf"),
        4,
        23,
    );
    assert_eq!(diag.help.as_deref(), Some("did you mean \"tags\"?"));
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = \"g\"\n  lifecycle {\n    prevent_destroy = \"maybe\"\n  }\n}\n");
    assert_diag(
        &e,
        "Invalid value for \"prevent_destroy\"",
        &d.file("main.tf"),
        4,
        23,
    );

    let (_d, cfg) = load_ok("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = \"g\"\n  lifecycle {\n    prevent_destroy = true\n    ignore_changes  = all\n  }\n}\n");
    let l = cfg.lifecycle(&addr("tencentcloud_vpn_gateway.g")).unwrap();
    assert!(l.prevent_destroy);
    assert!(l.ignores("anything"));

    // count and for_each values.
    let (d, e) = expand_err(
        "resource \"tencentcloud_vpn_gateway\" \"g\" {\n  count = -1\n  name  = \"g\"\n}\n",
    );
    assert_diag(&e, "Invalid count argument", &d.file("main.tf"), 2, 11);
    let (d, e) = expand_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  for_each = [\"a\", \"a\"]\n  name     = \"g\"\n}\n");
    let diag = assert_diag(&e, "Invalid for_each argument", &d.file("main.tf"), 2, 14);
    assert!(diag.help.unwrap().contains("toset"));
    let (d, e) = expand_err("resource \"tencentcloud_vpn_gateway\" \"a\" {\n  name = \"a\"\n}\nresource \"tencentcloud_vpn_gateway\" \"g\" {\n  for_each = toset([tencentcloud_vpn_gateway.a.id])\n  name     = each.key\n}\n");
    let diag = assert_diag(&e, "Invalid for_each argument", &d.file("main.tf"), 5, 14);
    assert!(diag.detail.unwrap().contains("known only after apply"));
    let (d, e) = expand_err("variable \"v\" {\n  sensitive = true\n  default   = { a = 1 }\n}\nresource \"tencentcloud_vpn_gateway\" \"g\" {\n  for_each = var.v\n  name     = each.key\n}\n");
    assert_diag(&e, "Invalid for_each argument", &d.file("main.tf"), 6, 14);

    // A set of strings and a count work.
    let (_, r) = expand_all("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  for_each = toset([\"b\", \"a\"])\n  name     = \"gw-${each.value}\"\n}\nresource \"tencentcloud_vpn_gateway\" \"c\" {\n  count = 3\n  name  = \"gw-${count.index}\"\n}\n");
    let names: Vec<String> = r
        .unwrap()
        .iter()
        .map(|i| format!("{}={}", i.address, i.attrs["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            "tencentcloud_vpn_gateway.g[\"a\"]=gw-a",
            "tencentcloud_vpn_gateway.g[\"b\"]=gw-b",
            "tencentcloud_vpn_gateway.c[0]=gw-0",
            "tencentcloud_vpn_gateway.c[1]=gw-1",
            "tencentcloud_vpn_gateway.c[2]=gw-2",
        ]
    );
}

#[test]
fn references_are_checked_statically() {
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  name = \"g\"\n}\noutput \"o\" {\n  value = tencentcloud_vpn_gateway.g.public_ip\n}\n");
    let diag = assert_diag(
        &e,
        "Unsupported attribute \"public_ip\"",
        &d.file("main.tf"),
        5,
        37,
    );
    assert_eq!(
        diag.help.as_deref(),
        Some("did you mean \"public_ip_address\"?")
    );
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"g\" {\n  count = 2\n  name  = \"g\"\n}\noutput \"o\" {\n  value = tencentcloud_vpn_gateway.g.id\n}\n");
    assert_diag(
        &e,
        "Missing resource instance key for tencentcloud_vpn_gateway.g",
        &d.file("main.tf"),
        6,
        37,
    );
    let (d, e) = load_err(
        "output \"o\" {\n  value = var.regoin\n}\nvariable \"region\" {\n  default = \"x\"\n}\n",
    );
    let diag = assert_diag(
        &e,
        "Reference to undeclared input variable \"regoin\"",
        &d.file("main.tf"),
        2,
        11,
    );
    assert_eq!(diag.help.as_deref(), Some("did you mean \"region\"?"));
    let (d, e) = load_err("locals {\n  common = 1\n}\noutput \"o\" {\n  value = local.comon\n}\n");
    let diag = assert_diag(
        &e,
        "Reference to undeclared local value \"comon\"",
        &d.file("main.tf"),
        5,
        11,
    );
    assert_eq!(diag.help.as_deref(), Some("did you mean \"common\"?"));
    let (d, e) = load_err("output \"o\" {\n  value = vra.x\n}\n");
    let diag = assert_diag(&e, "Unknown variable \"vra\"", &d.file("main.tf"), 2, 11);
    assert_eq!(diag.help.as_deref(), Some("did you mean \"var\"?"));
    let (d, e) = load_err("resource \"tencentcloud_vpn_gateway\" \"main\" {\n  name = \"g\"\n}\noutput \"o\" {\n  value = tencentcloud_vpn_gateway.mian.id\n}\n");
    let diag = assert_diag(
        &e,
        "Reference to undeclared resource \"tencentcloud_vpn_gateway.mian\"",
        &d.file("main.tf"),
        5,
        11,
    );
    assert_eq!(
        diag.help.as_deref(),
        Some("did you mean \"tencentcloud_vpn_gateway.main\"?")
    );
}

fn tunnel_on(
    name: &str,
    gw: &str,
    cgw: &str,
    local: &str,
    remote: &str,
    bgp: Option<&str>,
) -> String {
    let bgp = bgp
        .map(|c| {
            let base: Vec<u8> = c.split('/').next().unwrap().split('.').map(|p| p.parse().unwrap()).collect();
            format!(
                "  route_type = \"Bgp\"\n  bgp_config {{\n    tunnel_cidr   = \"{c}\"\n    local_bgp_ip  = \"{}.{}.{}.{}\"\n    remote_bgp_ip = \"{}.{}.{}.{}\"\n  }}\n",
                base[0], base[1], base[2], base[3] + 1, base[0], base[1], base[2], base[3] + 2
            )
        })
        .unwrap_or_default();
    format!(
        "resource \"tencentcloud_vpn_connection\" \"{name}\" {{\n  name                = \"{name}\"\n  vpn_gateway_id      = \"{gw}\"\n  customer_gateway_id = \"{cgw}\"\n  pre_share_key       = \"secret-key\"\n  security_group_policy {{\n    local_cidr_block  = \"{local}\"\n    remote_cidr_block = [\"{remote}\"]\n  }}\n{bgp}}}\n"
    )
}

#[test]
fn cross_instance_rules() {
    let files = [
        tunnel_on(
            "a",
            "vpngw-1",
            "cgw-1",
            "10.0.0.0/16",
            "192.168.0.0/24",
            Some("169.254.128.0/30"),
        ),
        tunnel_on(
            "b",
            "vpngw-1",
            "cgw-2",
            "10.0.1.0/24",
            "192.168.0.128/25",
            Some("169.254.128.0/30"),
        ),
        tunnel_on(
            "c",
            "vpngw-1",
            "cgw-1",
            "10.1.0.0/16",
            "192.168.0.0/24",
            Some("169.254.128.4/30"),
        ),
        // Another gateway may reuse everything.
        tunnel_on(
            "d",
            "vpngw-2",
            "cgw-1",
            "10.0.0.0/16",
            "192.168.0.0/24",
            Some("169.254.128.0/30"),
        ),
        // Same gateway, no overlap.
        tunnel_on(
            "e",
            "vpngw-1",
            "cgw-3",
            "10.0.0.0/16",
            "192.168.1.0/24",
            None,
        ),
    ];
    let main = files.join("\n");
    let (d, r) = expand_all(&main);
    let instances = r.unwrap_or_else(|e| panic!("{e}"));
    let diags = validate_instances(&instances);
    let text = diags.to_string();
    assert_eq!(diags.len(), 3, "{text}");
    // b overlaps a on the SPD (10.0.1.0/24 is inside 10.0.0.0/16; remotes overlap).
    let spd = diags
        .iter()
        .find(|x| x.summary == "SPD entries overlap on the same VPN gateway")
        .expect(&text);
    let span = spd.span.as_ref().unwrap();
    assert_eq!(
        (span.file.as_ref(), span.line),
        (d.file("main.tf").as_str(), 25)
    );
    let detail = spd.detail.as_ref().unwrap();
    assert!(
        detail.contains("tencentcloud_vpn_connection.a and tencentcloud_vpn_connection.b"),
        "{detail}"
    );
    assert!(
        detail.contains("10.0.1.0/24 <-> 192.168.0.128/25"),
        "{detail}"
    );
    assert_eq!(
        spd.source_line.as_deref(),
        Some("    remote_cidr_block = [\"192.168.0.128/25\"]")
    );
    let bgp = diags
        .iter()
        .find(|x| x.summary == "BGP tunnel blocks overlap on the same VPN gateway")
        .expect(&text);
    assert!(bgp
        .detail
        .as_ref()
        .unwrap()
        .contains("tencentcloud_vpn_connection.a and tencentcloud_vpn_connection.b"));
    let dup = diags
        .iter()
        .find(|x| x.summary == "Duplicate tunnel between the same gateways")
        .expect(&text);
    assert!(dup
        .detail
        .as_ref()
        .unwrap()
        .contains("customer gateway cgw-1 to VPN gateway vpngw-1"));

    // Config::validate_instances gives the same with source lines from memory.
    let (cfg, _) = d.load().unwrap();
    assert_eq!(cfg.validate_instances(&instances).to_string(), text);
}

#[test]
fn data_source_arguments_are_validated() {
    let (d, e) = expand_err(
        "data \"tencentcloud_vpc_instances\" \"v\" {\n  cidr_block = \"10.0.0.0/33\"\n}\n",
    );
    assert_diag(
        &e,
        "Invalid value for \"cidr_block\"",
        &d.file("main.tf"),
        2,
        16,
    );
    let (d, e) = load_err("data \"tencentcloud_vpn_gateways\" \"g\" {\n  nmae = \"x\"\n}\n");
    let diag = assert_diag(
        &e,
        "Unsupported argument \"nmae\"",
        &d.file("main.tf"),
        2,
        3,
    );
    assert_eq!(diag.help.as_deref(), Some("did you mean \"name\"?"));
}
