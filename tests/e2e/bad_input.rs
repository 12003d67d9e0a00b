//! Bad input through the binary: every diagnostic names file:line:column and shows the offending
//! line, the exit code is 1, and nothing is sent to the cloud (`validate` runs without one; `plan`
//! against a sandbox leaves its request counters at zero).

use crate::common::{SandboxProc, Work};

/// Checks `validate` and `plan` on a broken `main.tf`: exit 1, `cfg/main.tf:LINE:COL`, the line
/// itself, and each of `expect` in stderr.
#[track_caller]
fn rejected(main_tf: &str, line: usize, col: usize, expect: &[&str]) {
    rejected_with(main_tf, line, col, expect, false)
}

/// As [`rejected`]; `reads_allowed`: the check needs planned values, so `plan` may read the cloud
/// first (it must still write nothing).
#[track_caller]
fn rejected_with(main_tf: &str, line: usize, col: usize, expect: &[&str], reads_allowed: bool) {
    let w = Work::new();
    w.config(main_tf);
    let location = format!("--> cfg/main.tf:{line}:{col}");
    let source_line = main_tf.lines().nth(line - 1).expect("line in the file");
    let shown = format!("{line} | {source_line}");

    let v = w.tf(&["validate", "cfg"]);
    v.expect_code(1);
    for needle in [location.as_str(), shown.trim_end()]
        .into_iter()
        .chain(expect.iter().copied())
    {
        assert!(
            v.stderr.contains(needle),
            "{needle:?} not in:\n{}",
            v.stderr
        );
    }
    assert!(!v.stdout.contains("Success"), "{}", v.stdout);

    // The same through `plan` against a sandbox: the same diagnostic, and not one request.
    let sb = SandboxProc::start(50, &[]);
    let mut w = w;
    w.endpoint = Some(sb.url.clone());
    let p = w.plan(&[]);
    p.expect_code(1);
    assert!(p.stderr.contains(&location), "{}", p.stderr);
    assert_eq!(sb.write_request_count(), 0, "{}", sb.stats());
    if !reads_allowed {
        assert_eq!(sb.request_count(), 0, "{}", sb.stats());
    }
}

#[test]
fn syntax_error() {
    rejected(
        r#"resource "tencentcloud_vpn_gateway" "gw" {
  name   = "gw"
  vpc_id =
}
"#,
        3,
        11,
        &["error: Invalid expression"],
    );
}

#[test]
fn unknown_argument_suggests_the_right_one() {
    rejected(
        r#"resource "tencentcloud_vpn_gateway" "gw" {
  name     = "gw"
  vpc_id   = "vpc-sandbox1"
  bandwith = 10
}
"#,
        4,
        3,
        &[
            r#"Unsupported argument "bandwith""#,
            r#"did you mean "bandwidth"?"#,
        ],
    );
}

const TUNNEL_HEAD: &str = r#"resource "tencentcloud_vpn_connection" "t" {
  name                = "t"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = "vpngw-12345678"
  customer_gateway_id = "cgw-12345678"
  pre_share_key       = "k"
"#;

#[test]
fn invalid_enum_value() {
    rejected(
        &format!("{TUNNEL_HEAD}  ike_proto_encry_algorithm = \"AES-CBC-512\"\n}}\n"),
        7,
        31,
        &[
            r#"Invalid value for "ike_proto_encry_algorithm""#,
            r#""AES-CBC-256""#,
            r#"got "AES-CBC-512""#,
        ],
    );
}

#[test]
fn bad_cidr() {
    rejected(
        &format!(
            "{TUNNEL_HEAD}  security_group_policy {{\n    local_cidr_block  = \"10.0.1.0/24\"\n    remote_cidr_block = [\"192.168.300.0/24\"]\n  }}\n}}\n"
        ),
        9,
        25,
        &[
            r#"Invalid value for "remote_cidr_block""#,
            r#""192.168.300.0/24" is not an IPv4 CIDR block"#,
        ],
    );
}

#[test]
fn bgp_tunnel_cidr_must_be_a_slash_30() {
    rejected(
        &format!(
            "{TUNNEL_HEAD}  route_type          = \"Bgp\"\n  bgp_config {{\n    tunnel_cidr   = \"169.254.128.0/29\"\n    local_bgp_ip  = \"169.254.128.1\"\n    remote_bgp_ip = \"169.254.128.2\"\n  }}\n}}\n"
        ),
        9,
        21,
        &["must be a /30, got /29"],
    );
}

#[test]
fn reference_cycle_names_both_resources() {
    rejected(
        r#"resource "tencentcloud_vpn_gateway" "gw" {
  name   = tencentcloud_vpn_customer_gateway.c.name
  vpc_id = "vpc-sandbox1"
}

resource "tencentcloud_vpn_customer_gateway" "c" {
  name              = tencentcloud_vpn_gateway.gw.name
  public_ip_address = "203.0.113.1"
}
"#,
        1,
        1,
        &[
            "Cycle",
            "tencentcloud_vpn_gateway.gw",
            "tencentcloud_vpn_customer_gateway.c",
            "cfg/main.tf:6:1",
        ],
    );
}

#[test]
fn overlapping_spd_on_one_gateway() {
    let tunnel = |name: &str, cgw: &str, remote: &str| {
        format!(
            r#"resource "tencentcloud_vpn_connection" "{name}" {{
  name                = "{name}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = "vpngw-12345678"
  customer_gateway_id = "{cgw}"
  pre_share_key       = "k"
  security_group_policy {{
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["{remote}"]
  }}
}}
"#
        )
    };
    let text = format!(
        "{}{}",
        tunnel("a", "cgw-12345678", "192.168.1.0/24"),
        tunnel("b", "cgw-87654321", "192.168.1.128/25")
    );
    // Checked across instances after the walk, where `plan` has already looked for objects
    // tagged with these addresses (GetResources): reads, never a write.
    rejected_with(
        &text,
        20,
        25,
        &[
            "SPD entries overlap on the same VPN gateway",
            "the other one is at cfg/main.tf:7:3",
        ],
        true,
    );
}

#[test]
fn a_good_configuration_validates() {
    let w = Work::new();
    w.config(
        r#"resource "tencentcloud_vpn_gateway" "gw" {
  name   = "gw"
  vpc_id = "vpc-sandbox1"
}
"#,
    );
    let v = w.tf(&["validate", "cfg"]);
    v.success();
    assert!(
        v.stdout.contains("Success! The configuration is valid."),
        "{}",
        v.stdout
    );
}

#[test]
fn unterminated_string_and_unclosed_block() {
    rejected(
        "locals {\n  a = 1\n  b = \"unterminated\n}\n",
        3,
        7,
        &["error: Unterminated string"],
    );
    rejected(
        "resource \"tencentcloud_vpn_gateway\" \"gw\" {\n  name   = \"gw\"\n  vpc_id = \"vpc-sandbox1\"\n",
        3,
        26,
        &["error: Invalid syntax", "expected `}`"],
    );
}

#[test]
fn wrong_types() {
    rejected(
        "resource \"tencentcloud_vpn_gateway\" \"gw\" {\n  name      = \"gw\"\n  vpc_id    = \"vpc-sandbox1\"\n  bandwidth = \"lots\"\n}\n",
        4,
        15,
        &[
            r#"error: Incorrect attribute value type for "bandwidth""#,
            r#"a number is required, got "lots""#,
        ],
    );
    rejected(
        &format!("{TUNNEL_HEAD}  security_group_policy = \"10.0.0.0/24\"\n}}\n"),
        7,
        3,
        &[
            r#"error: "security_group_policy" is a block, not an argument"#,
            "help: write it as a block: security_group_policy { ... }",
        ],
    );
    rejected(
        "resource \"tencentcloud_vpn_gateway\" \"gw\" {\n  name   = \"gw\"\n  vpc_id = \"vpc-sandbox1\"\n  tags   = [\"a\", \"b\"]\n}\n",
        4,
        12,
        &[r#"Incorrect attribute value type for "tags""#],
    );
}

#[test]
fn unknown_blocks_and_resource_types() {
    rejected(
        "resource \"tencentcloud_vpn_gateway\" \"gw\" {\n  name   = \"gw\"\n  vpc_id = \"vpc-sandbox1\"\n  timeouts {\n    create = \"5m\"\n  }\n}\n",
        4,
        3,
        &[
            r#"error: Unsupported block type "timeouts""#,
            r#"the blocks allowed here are "lifecycle""#,
        ],
    );
    rejected(
        "resource \"tencentcloud_vpn_gatway\" \"gw\" {\n  name = \"gw\"\n}\n",
        1,
        10,
        &[
            "tencentcloud_vpn_gatway",
            r#"did you mean "tencentcloud_vpn_gateway"?"#,
        ],
    );
    rejected(
        "resouce \"tencentcloud_vpn_gateway\" \"gw\" {\n  name = \"gw\"\n}\n",
        1,
        1,
        &[
            r#"error: Unsupported block type "resouce""#,
            r#"did you mean "resource"?"#,
        ],
    );
}

#[test]
fn invalid_ip_addresses() {
    rejected(
        &customer_gateway("203.0.113.300"),
        3,
        23,
        &[
            r#"error: Invalid value for "public_ip_address""#,
            r#""203.0.113.300" is not an IPv4 address"#,
        ],
    );
    rejected(
        &customer_gateway("2001:db8::1"),
        3,
        23,
        &[r#""2001:db8::1" is not an IPv4 address"#],
    );
    rejected(
        &format!("{TUNNEL_HEAD}  health_check_local_ip = \"169.254.1\"\n}}\n"),
        7,
        27,
        &[r#"Invalid value for "health_check_local_ip""#, "169.254.1"],
    );
}

fn customer_gateway(ip: &str) -> String {
    format!(
        "resource \"tencentcloud_vpn_customer_gateway\" \"c\" {{\n  name              = \"c\"\n  public_ip_address = \"{ip}\"\n}}\n"
    )
}

#[test]
fn self_reference() {
    rejected(
        "locals {\n  a = local.a\n}\n",
        2,
        3,
        &["error: Cycle: local.a", "local.a refers to itself"],
    );
    rejected(
        "resource \"tencentcloud_vpn_gateway\" \"gw\" {\n  name   = tencentcloud_vpn_gateway.gw.id\n  vpc_id = \"vpc-sandbox1\"\n}\n",
        1,
        1,
        &[
            "error: Cycle: tencentcloud_vpn_gateway.gw",
            "refers to itself",
        ],
    );
}

#[test]
fn three_cycles_through_locals_variables_and_resources() {
    rejected(
        "variable \"v\" {\n  default = 1\n}\nlocals {\n  a = local.b + var.v\n  b = local.c\n  c = local.a\n}\n",
        5,
        3,
        &[
            "error: Cycle: local.a, local.b, local.c",
            "local.b at cfg/main.tf:6:3",
            "local.c at cfg/main.tf:7:3",
            "help: a value cannot depend on itself",
        ],
    );
    rejected(
        "locals {\n  n = tencentcloud_vpn_customer_gateway.c.name\n}\nresource \"tencentcloud_vpn_customer_gateway\" \"c\" {\n  name              = \"c\"\n  public_ip_address = \"203.0.113.1\"\n  depends_on        = [tencentcloud_vpn_gateway.g]\n}\nresource \"tencentcloud_vpn_gateway\" \"g\" {\n  name   = local.n\n  vpc_id = \"vpc-sandbox1\"\n}\n",
        2,
        3,
        &[
            "error: Cycle: local.n, tencentcloud_vpn_customer_gateway.c, tencentcloud_vpn_gateway.g",
            "break the cycle",
        ],
    );
}

// -------------------------------------------------------------------------------------------------
// Messages that say what is wrong (not something else)

const ONE_CGW: &str = r#"
resource "tencentcloud_vpn_customer_gateway" "a" {
  name              = "a"
  public_ip_address = "203.0.113.1"
}
"#;

#[test]
fn a_number_out_of_range_is_said_not_a_missing_newline() {
    let w = Work::new();
    w.config("resource \"tencentcloud_vpn_gateway\" \"gw\" {\n  name      = \"gw\"\n  vpc_id    = \"vpc-sandbox1\"\n  bandwidth = 1e400\n}\n");
    let r = w.tf(&["validate", "cfg"]);
    r.expect_code(1);
    for needle in [
        "Number out of range",
        "--> cfg/main.tf:4:15",
        "1e400 is too large",
    ] {
        assert!(
            r.stderr.contains(needle),
            "{needle:?} not in:\n{}",
            r.stderr
        );
    }
    assert!(!r.stderr.contains("Missing newline"), "{}", r.stderr);
}

#[test]
fn a_utf8_byte_order_mark_is_accepted() {
    let w = Work::new();
    w.config(&format!("\u{feff}{ONE_CGW}"));
    let r = w.tf(&["validate", "cfg"]);
    r.success();
    // An error further on is reported where it is, not as "Invalid syntax" at 1:1.
    w.config(&format!(
        "\u{feff}{}",
        ONE_CGW.replace("name              = \"a\"", "nme = \"a\"")
    ));
    let r = w.tf(&["validate", "cfg"]);
    r.expect_code(1);
    assert!(r.stderr.contains("--> cfg/main.tf:3:3"), "{}", r.stderr);
    assert!(!r.stderr.contains("Invalid syntax"), "{}", r.stderr);
    // fmt rewrites the file without the mark.
    w.tf(&["fmt", "cfg"]).success();
    let text = std::fs::read_to_string(w.cfg().join("main.tf")).unwrap();
    assert!(!text.starts_with('\u{feff}'), "{text:?}");
}

#[test]
fn a_var_file_that_is_not_a_file_is_said_so() {
    let w = Work::new();
    w.config(ONE_CGW);
    let r = w.tf(&["validate", "cfg", "--var-file", "/dev/zero"]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("Variable file /dev/zero is not a regular file"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("not found"), "{}", r.stderr);
    let r = w.tf(&["validate", "cfg", "--var-file", "cfg"]);
    r.expect_code(1);
    assert!(r.stderr.contains("is a directory"), "{}", r.stderr);
    let r = w.tf(&["validate", "cfg", "--var-file", "nope.tfvars"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("Variable file nope.tfvars not found"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_enum_suggestion_never_changes_a_number() {
    let tunnel = |field: &str, value: &str| format!("{TUNNEL_HEAD}  {field} = \"{value}\"\n}}\n");
    let w = Work::new();
    // GROUP15 is not a typo of GROUP1 (a weaker group): the valid values are listed, no guess.
    w.config(&tunnel("ike_dh_group_name", "GROUP15"));
    let r = w.tf(&["validate", "cfg"]);
    r.expect_code(1);
    assert!(!r.stderr.contains("did you mean"), "{}", r.stderr);
    assert!(
        r.stderr.contains(r#""GROUP14""#) && r.stderr.contains(r#""GROUP24""#),
        "{}",
        r.stderr
    );
    // An obvious typo still gets its suggestion.
    w.config(&tunnel("ike_dh_group_name", "GRUOP14"));
    let r = w.tf(&["validate", "cfg"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains(r#"did you mean "GROUP14"?"#),
        "{}",
        r.stderr
    );
}

#[test]
fn parallelism_is_bounded_not_a_panic() {
    let w = Work::new();
    w.config(ONE_CGW);
    for n in ["18446744073709551615", "0", "10001"] {
        let r = w.embedded(&["apply", "cfg", "--auto-approve", "--parallelism", n]);
        r.expect_code(2);
        assert!(
            r.stderr.contains("must be a whole number from 1 to 10000"),
            "{n}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{n}: {}", r.stderr);
    }
    let r = w.embedded(&["apply", "cfg", "--auto-approve", "--parallelism", "10000"]);
    r.success();
}

/// A saved plan edited by hand: its targets changed, or a control character put into it.
#[test]
fn a_tampered_plan_file_is_called_so() {
    let w = Work::new();
    w.config(&format!(
        "{ONE_CGW}{}",
        crate::common::customer_gateway_block("b", "203.0.113.2")
    ));
    w.embedded(&["apply", "cfg", "--auto-approve"]).success();
    w.config(
        &format!(
            "{ONE_CGW}{}",
            crate::common::customer_gateway_block("b", "203.0.113.2")
        )
        .replace("name              = \"a\"", "name              = \"a2\"")
        .replace(
            "name              = \"cgw-b\"",
            "name              = \"b2\"",
        ),
    );
    w.embedded(&[
        "plan",
        "cfg",
        "--out",
        "tfplan",
        "--target",
        "tencentcloud_vpn_customer_gateway.a",
    ])
    .success();
    let original = std::fs::read_to_string(w.path().join("tfplan")).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&original).unwrap();
    plan["targets"] = serde_json::json!(["tencentcloud_vpn_customer_gateway.b"]);
    w.write("tfplan", &plan.to_string());
    let r = w.embedded(&["apply", "tfplan"]);
    r.expect_code(1);
    assert!(r.stderr.contains("edited or damaged"), "{}", r.stderr);
    assert!(!r.stderr.contains("deleted outside"), "{}", r.stderr);

    // A control character in the file never reaches the terminal raw.
    let mut plan: serde_json::Value = serde_json::from_str(&original).unwrap();
    plan["plan"]["changes"][0]["address"] =
        serde_json::json!("tencentcloud_vpn_customer_gateway.a[\"\u{1b}[2J\"]");
    w.write("tfplan", &plan.to_string());
    for args in [
        &["show", "tfplan"][..],
        &["apply", "tfplan", "--sandbox"][..],
    ] {
        let r = w.tf(args);
        r.expect_code(1);
        assert!(
            !r.stdout.contains('\u{1b}') && !r.stderr.contains('\u{1b}'),
            "{args:?}: {:?} {:?}",
            r.stdout,
            r.stderr
        );
        assert!(
            r.stderr.contains("control character"),
            "{args:?}: {}",
            r.stderr
        );
    }
    // Nor through an error that quotes the file.
    let mut plan: serde_json::Value = serde_json::from_str(&original).unwrap();
    plan["plan"]["changes"][0]["action"] = serde_json::json!({"type": "\u{1b}[2Jboom"});
    w.write("tfplan", &plan.to_string());
    let r = w.tf(&["show", "tfplan"]);
    r.expect_code(1);
    assert!(!r.stderr.contains('\u{1b}'), "{:?}", r.stderr);
    assert!(r.stderr.contains("\\u{1b}[2Jboom"), "{}", r.stderr);
}

/// An id of the wrong kind in the state (a bad merge) is named at load, never sent to the API.
#[test]
fn a_state_id_of_the_wrong_kind_is_named() {
    let w = Work::new();
    w.config(&format!(
        "{}{ONE_CGW}",
        crate::common::gateway_block("kind-gw")
    ));
    w.embedded(&["apply", "cfg", "--auto-approve"]).success();
    let mut state = w.state();
    let cgw = state["resources"]["tencentcloud_vpn_customer_gateway.a"]["id"].clone();
    state["resources"]["tencentcloud_vpn_gateway.gw"]["id"] = cgw.clone();
    std::fs::write(w.state_path(), state.to_string()).unwrap();
    for args in [
        &["plan", "cfg"][..],
        &["apply", "cfg", "--auto-approve"][..],
        &["destroy", "cfg", "--auto-approve"][..],
    ] {
        let r = w.embedded(args);
        r.expect_code(1);
        for needle in [
            format!("holds the id {cgw} at tencentcloud_vpn_gateway.gw"),
            "is the id of a tencentcloud_vpn_customer_gateway".to_string(),
            "tunnelform state rm tencentcloud_vpn_gateway.gw".to_string(),
        ] {
            assert!(
                r.stderr.contains(&needle),
                "{args:?}: {needle:?} not in:\n{}",
                r.stderr
            );
        }
    }
}

#[test]
fn misspelt_region_is_caught_before_apply() {
    rejected(
        r#"provider "tencentcloud" {
  region = "ap-guangzou"
}

resource "tencentcloud_vpn_customer_gateway" "c" {
  name              = "c"
  public_ip_address = "203.0.113.10"
}
"#,
        2,
        12,
        &[
            "error: Unknown provider region",
            r#""ap-guangzou" is not a Tencent Cloud region"#,
            r#"did you mean "ap-guangzhou"?"#,
        ],
    );
}

#[test]
fn unknown_region_lists_the_valid_ones() {
    rejected(
        r#"provider "tencentcloud" {
  alias  = "us"
  region = "us-east-1"
}

resource "tencentcloud_vpn_customer_gateway" "c" {
  provider          = tencentcloud.us
  name              = "c"
  public_ip_address = "203.0.113.10"
}
"#,
        3,
        12,
        &[
            r#""us-east-1" is not a Tencent Cloud region"#,
            r#""ap-guangzhou""#,
            r#""na-siliconvalley""#,
        ],
    );
}

#[test]
fn misspelt_region_from_the_environment_is_caught() {
    let w = Work::new();
    w.config(
        r#"resource "tencentcloud_vpn_customer_gateway" "c" {
  name              = "c"
  public_ip_address = "203.0.113.10"
}
"#,
    );
    let v = crate::common::run_in(
        w.path(),
        &["validate", "cfg"],
        &[("TENCENTCLOUD_REGION", "ap-shangai")],
    );
    v.expect_code(1);
    assert!(
        v.stderr.contains("TENCENTCLOUD_REGION")
            && v.stderr.contains(r#"did you mean "ap-shanghai"?"#),
        "{}",
        v.stderr
    );
}

#[test]
fn reserved_bgp_asn() {
    rejected(
        r#"resource "tencentcloud_vpn_customer_gateway" "c" {
  name              = "c"
  public_ip_address = "203.0.113.10"
  bgp_asn           = 45090
}
"#,
        4,
        23,
        &[
            r#"Invalid value for "bgp_asn""#,
            "45090 is reserved by Tencent Cloud",
            "64512-65534",
        ],
    );
}

#[test]
fn too_many_spd_entries() {
    let spds: String = (0..11)
        .map(|i| {
            format!(
                "  security_group_policy {{\n    local_cidr_block  = \"10.0.{i}.0/24\"\n    remote_cidr_block = [\"192.168.{i}.0/24\"]\n  }}\n"
            )
        })
        .collect();
    // The 11th block starts on line 7 + 10 * 4.
    rejected(
        &format!("{TUNNEL_HEAD}{spds}}}\n"),
        47,
        3,
        &["Too many SPD entries", "at most 10", "this one has 11"],
    );
}
