//! API rules the plan can see are checked by the plan: a plan that the API would refuse half-way
//! through an apply fails before the first write.

use crate::common::{Run, SandboxProc, Work};

/// Every one of `needles` is in the run's standard error.
#[track_caller]
fn assert_says(run: &Run, needles: &[&str]) {
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "{needle:?} not in:\n{}",
            run.stderr
        );
    }
}

/// A VPN gateway (BGP ASN `gw_asn`, or the default) with two BGP tunnels to two customer gateways
/// with ASNs `asn_a` and `asn_b` (None: no ASN).
fn bgp_sites(gw_asn: Option<u32>, asn_a: Option<u32>, asn_b: Option<u32>) -> String {
    let asn = |a: Option<u32>| {
        a.map(|n| format!("  bgp_asn           = {n}\n"))
            .unwrap_or_default()
    };
    let gw_asn = gw_asn
        .map(|n| format!("  bgp_asn   = {n}\n"))
        .unwrap_or_default();
    let tunnel = |s: &str, cidr: &str, local: &str, remote: &str| {
        format!(
            r#"
resource "tencentcloud_vpn_connection" "{s}" {{
  name                = "{s}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.{s}.id
  pre_share_key       = "bgp-key"
  route_type          = "Bgp"
  bgp_config {{
    tunnel_cidr   = "{cidr}"
    local_bgp_ip  = "{local}"
    remote_bgp_ip = "{remote}"
  }}
}}
"#
        )
    };
    format!(
        r#"resource "tencentcloud_vpn_gateway" "gw" {{
  name      = "gw"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
{gw_asn}}}

resource "tencentcloud_vpn_customer_gateway" "a" {{
  name              = "site-a"
  public_ip_address = "203.0.113.10"
{}}}

resource "tencentcloud_vpn_customer_gateway" "b" {{
  name              = "site-b"
  public_ip_address = "203.0.113.20"
{}}}
{}{}"#,
        asn(asn_a),
        asn(asn_b),
        tunnel("a", "169.254.128.0/30", "169.254.128.1", "169.254.128.2"),
        tunnel("b", "169.254.128.4/30", "169.254.128.5", "169.254.128.6"),
    )
}

/// Line and column of the value of `customer_gateway_id` in tunnel `name` of `tf`.
fn cgw_ref_location(tf: &str, name: &str) -> String {
    let start = tf
        .find(&format!("\"tencentcloud_vpn_connection\" \"{name}\""))
        .expect("the tunnel");
    let (n, line) = tf
        .lines()
        .enumerate()
        .skip(tf[..start].lines().count())
        .find(|(_, l)| l.trim_start().starts_with("customer_gateway_id"))
        .expect("customer_gateway_id");
    let col = line
        .find("tencentcloud_vpn_customer_gateway")
        .expect("value")
        + 1;
    format!("cfg/main.tf:{}:{col}", n + 1)
}

#[test]
fn bgp_peers_with_the_same_asn_on_one_gateway_fail_the_plan() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    let tf = bgp_sites(None, Some(65010), Some(65010));
    w.config(&tf);
    for run in [w.plan(&[]), w.apply(&[])] {
        run.expect_code(1);
        assert_says(
            &run,
            &[
                "Two BGP tunnels of one VPN gateway have peers with the same ASN",
                "tencentcloud_vpn_connection.a",
                "tencentcloud_vpn_connection.b",
                "bgp_asn 65010",
                "VpnUnsupportedBgpAsnEqual",
                &cgw_ref_location(&tf, "b"),
            ],
        );
    }
    assert_eq!(sb.write_request_count(), 0, "{}", sb.stats());

    // Different ASNs: the plan passes and the API accepts both tunnels.
    w.config(&bgp_sites(None, Some(65010), Some(65020)));
    w.apply(&[]).success();
    assert_eq!(sb.cloud().connections("ap-guangzhou").len(), 2);
}

#[test]
fn bgp_peer_asn_equal_to_the_gateway_asn_fails_the_plan() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    // 64551: the VPN gateway's default ASN.
    let tf = bgp_sites(None, Some(64551), Some(65020));
    w.config(&tf);
    let p = w.plan(&[]);
    p.expect_code(1);
    assert_says(
        &p,
        &[
            "Customer gateway and VPN gateway have the same BGP ASN",
            "tencentcloud_vpn_connection.a",
            "64551 (the default)",
            &cgw_ref_location(&tf, "a"),
        ],
    );
    // Set on the gateway explicitly.
    w.config(&bgp_sites(Some(65020), Some(65010), Some(65020)));
    let p = w.plan(&[]);
    p.expect_code(1);
    assert!(
        p.stderr.contains("tencentcloud_vpn_connection.b") && p.stderr.contains("is also 65020"),
        "{}",
        p.stderr
    );
    assert_eq!(sb.write_request_count(), 0, "{}", sb.stats());
}

#[test]
fn bgp_tunnel_to_a_customer_gateway_without_asn_fails_the_plan() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    let tf = bgp_sites(None, Some(65010), None);
    w.config(&tf);
    let p = w.plan(&[]);
    p.expect_code(1);
    assert_says(
        &p,
        &[
            "BGP tunnel to a customer gateway without a BGP ASN",
            "tencentcloud_vpn_customer_gateway.b has no bgp_asn",
            &cgw_ref_location(&tf, "b"),
        ],
    );
    assert_eq!(sb.write_request_count(), 0, "{}", sb.stats());
}

#[test]
fn changing_the_asn_of_a_customer_gateway_with_bgp_tunnels_fails_the_plan() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&bgp_sites(None, Some(65010), Some(65020)));
    w.apply(&[]).success();
    let writes = sb.write_request_count();
    w.config(&bgp_sites(None, Some(65011), Some(65020)));
    let p = w.plan(&[]);
    p.expect_code(1);
    assert_says(
        &p,
        &[
            "BGP ASN of a gateway with BGP tunnels cannot change",
            "from 65010 to 65011",
            "VpnUnsupportedModifyBgpAsn",
        ],
    );
    w.apply(&[]).expect_code(1);
    assert_eq!(sb.write_request_count(), writes, "{}", sb.stats());
}

/// `n` customer gateways named `{prefix}-{i}` (public IPs 198.51.100.{first + i}).
fn customer_gateways(prefix: &str, first: usize, n: usize) -> String {
    format!(
        r#"resource "tencentcloud_vpn_customer_gateway" "site" {{
  count             = {n}
  name              = "{prefix}-${{count.index}}"
  public_ip_address = "198.51.100.${{count.index + {first}}}"
}}
"#
    )
}

#[test]
fn a_plan_over_the_customer_gateway_quota_fails_before_any_write() {
    // The sandbox enforces the documented default (20 per region), as the cloud does.
    let sb = SandboxProc::start(20, &[]);
    // 15 customer gateways that another configuration made.
    let other = Work::with_sandbox(&sb);
    other.config(&customer_gateways("other", 1, 15));
    other.apply(&[]).success();
    let writes = sb.write_request_count();

    let w = Work::with_sandbox(&sb);
    let tf = customer_gateways("mine", 101, 6);
    w.config(&tf);
    for run in [w.plan(&[]), w.apply(&[])] {
        run.expect_code(1);
        assert_says(&run, &[
            "Quota exceeded: customer gateways in region ap-guangzhou",
            "has 15 customer gateways; the plan creates 6, which makes 21, over the quota of 20",
            "customer-gateways-per-region = 20: Tencent Cloud's documented default",
            "--quota customer-gateways-per-region=N",
            "cfg/main.tf:1:1",
        ]);
        // One error for the quota, not one per object.
        assert_eq!(
            run.stderr.matches("Quota exceeded").count(),
            1,
            "{}",
            run.stderr
        );
    }
    assert_eq!(sb.write_request_count(), writes, "{}", sb.stats());

    // Within the quota once the other configuration's objects are gone.
    other.destroy(&[]).success();
    w.plan(&[]).success();
}

#[test]
fn a_raised_quota_is_given_with_an_override() {
    // An account whose quota was raised to 30.
    let sb = SandboxProc::start(20, &["--quota", "customer-gateways-per-region=30"]);
    let w = Work::with_sandbox(&sb);
    w.config(&customer_gateways("site", 1, 25));
    let p = w.plan(&[]);
    p.expect_code(1);
    assert!(
        p.stderr
            .contains("creates 25, which makes 25, over the quota of 20"),
        "{}",
        p.stderr
    );
    assert_eq!(sb.write_request_count(), 0, "{}", sb.stats());

    let low = w.plan(&["--quota", "customer-gateways-per-region=24"]);
    low.expect_code(1);
    assert!(
        low.stderr.contains("over the quota of 24")
            && low.stderr.contains("given with --quota / TUNNELFORM_QUOTA"),
        "{}",
        low.stderr
    );
    let bad = w.plan(&["--quota", "customer-gateway-per-region=30"]);
    bad.expect_code(1);
    assert!(
        bad.stderr
            .contains("unknown quota \"customer-gateway-per-region\"")
            && bad.stderr.contains("customer-gateways-per-region"),
        "{}",
        bad.stderr
    );

    w.plan(&["--quota", "customer-gateways-per-region=30"])
        .success();
    w.apply(&["--quota", "customer-gateways-per-region=30"])
        .success();
    assert_eq!(sb.cloud().customer_gateways("ap-guangzhou").len(), 25);
}

#[test]
fn a_plan_over_the_vpn_gateways_per_vpc_quota_fails() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(
        r#"resource "tencentcloud_vpn_gateway" "gw" {
  count     = 11
  name      = "gw-${count.index}"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
}
"#,
    );
    let p = w.plan(&[]);
    p.expect_code(1);
    assert_says(
        &p,
        &[
            "Quota exceeded: VPN gateways in VPC vpc-sandbox1 (ap-guangzhou)",
            "the plan creates 11, which makes 11, over the quota of 10",
            "--quota vpn-gateways-per-vpc=N",
        ],
    );
    assert_eq!(sb.write_request_count(), 0, "{}", sb.stats());
}

#[test]
fn tunnels_per_vpn_gateway_count_what_exists() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    // Two BGP sites with distinct ASNs: two tunnels on one gateway.
    let two = bgp_sites(None, Some(65010), Some(65020));
    // The same with tunnel b left out.
    let one = two[..two
        .find("resource \"tencentcloud_vpn_connection\" \"b\"")
        .unwrap()]
        .to_string();
    w.config(&one);
    w.apply(&["--quota", "tunnels-per-vpn-gateway=1"]).success();
    let writes = sb.write_request_count();

    w.config(&two);
    let p = w.plan(&["--quota", "tunnels-per-vpn-gateway=1"]);
    p.expect_code(1);
    assert_says(
        &p,
        &[
            "Quota exceeded: tunnels in VPN gateway tencentcloud_vpn_gateway.gw (ap-guangzhou)",
            "has 1 tunnels; the plan creates 1, which makes 2, over the quota of 1",
        ],
    );
    assert_eq!(sb.write_request_count(), writes, "{}", sb.stats());
    w.plan(&["--quota", "tunnels-per-vpn-gateway=2"]).success();
}

/// Two static tunnels of one VPN gateway with the given health-check addresses (local, remote).
fn health_checked_sites(a: (&str, &str), b: (&str, &str)) -> String {
    let tunnel = |s: &str, cidr: &str, (local, remote): (&str, &str)| {
        format!(
            r#"
resource "tencentcloud_vpn_customer_gateway" "{s}" {{
  name              = "site-{s}"
  public_ip_address = "203.0.113.{}"
}}

resource "tencentcloud_vpn_connection" "{s}" {{
  name                   = "{s}"
  vpc_id                 = "vpc-sandbox1"
  vpn_gateway_id         = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id    = tencentcloud_vpn_customer_gateway.{s}.id
  pre_share_key          = "hc-key"
  enable_health_check    = true
  health_check_local_ip  = "{local}"
  health_check_remote_ip = "{remote}"
  security_group_policy {{
    local_cidr_block  = "10.0.0.0/24"
    remote_cidr_block = ["{cidr}"]
  }}
}}
"#,
            if s == "a" { 30 } else { 40 }
        )
    };
    format!(
        "{}{}{}",
        crate::common::gateway_block("hc-gw"),
        tunnel("a", "192.168.10.0/24", a),
        tunnel("b", "192.168.20.0/24", b),
    )
}

#[test]
fn health_check_address_conflicts_fail_the_plan() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    // One address on two tunnels of one gateway (b's remote is a's local).
    w.config(&health_checked_sites(
        ("169.254.200.1", "169.254.200.2"),
        ("169.254.200.3", "169.254.200.1"),
    ));
    for run in [w.plan(&[]), w.apply(&[])] {
        run.expect_code(1);
        assert_says(
            &run,
            &[
                "Two tunnels of one VPN gateway use the same health-check address",
                "tencentcloud_vpn_connection.a and tencentcloud_vpn_connection.b",
                "169.254.200.1",
                "VpnConnHealthCheckIpConflict",
                "--> cfg/main.tf:",
            ],
        );
    }
    // The same address at both ends of one tunnel.
    w.config(&health_checked_sites(
        ("169.254.200.1", "169.254.200.1"),
        ("169.254.200.3", "169.254.200.4"),
    ));
    let run = w.plan(&[]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("Health-check addresses must differ")
            && run.stderr.contains(
                "tencentcloud_vpn_connection.a uses 169.254.200.1 as both its local and its remote"
            ),
        "{}",
        run.stderr
    );
    assert_eq!(sb.write_request_count(), 0, "{}", sb.stats());

    // Distinct addresses: the plan passes and the API accepts both tunnels.
    w.config(&health_checked_sites(
        ("169.254.200.1", "169.254.200.2"),
        ("169.254.200.3", "169.254.200.4"),
    ));
    w.apply(&[]).success();
    assert_eq!(sb.cloud().connections("ap-guangzhou").len(), 2);
}

#[test]
fn rules_against_the_tunnels_vpc_fail_the_plan() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    // vpc-sandbox1 is 10.0.0.0/16: a remote block inside it is not the on-premises side.
    let ok = health_checked_sites(
        ("169.254.200.1", "169.254.200.2"),
        ("169.254.200.3", "169.254.200.4"),
    );
    w.config(&ok.replace("192.168.20.0/24", "10.0.5.0/24"));
    let run = w.plan(&[]);
    run.expect_code(1);
    assert_says(&run, &[
        "SPD remote block overlaps the VPC",
        "tencentcloud_vpn_connection.b: remote_cidr_block 10.0.5.0/24 overlaps vpc-sandbox1's CIDR 10.0.0.0/16",
        "VpcCidrConflict",
    ]);
    // A health-check address inside the VPC.
    w.config(&ok.replace("169.254.200.3", "10.0.0.9"));
    let run = w.plan(&[]);
    run.expect_code(1);
    assert_says(&run, &[
        "Health-check address inside the VPC",
        "health_check_local_ip of tencentcloud_vpn_connection.b is 10.0.0.9, inside vpc-sandbox1's CIDR 10.0.0.0/16",
        "--> cfg/main.tf:",
    ]);
    assert_eq!(sb.write_request_count(), 0, "{}", sb.stats());

    // The rules hold back what would be created, never a destroy.
    w.config(&ok);
    w.apply(&[]).success();
    w.config(&ok.replace("169.254.200.3", "169.254.200.1"));
    w.plan(&[]).expect_code(1);
    let d = w.destroy(&[]);
    d.success();
    assert!(
        sb.cloud().all_ids("ap-guangzhou").is_empty(),
        "{}",
        d.stdout
    );
}
