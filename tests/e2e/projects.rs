//! Two configurations (two states) in one account and region that happen to use the same resource
//! addresses: each manages its own objects; a new state never takes over another state's objects.

use crate::common::{customer_gateway_block, SandboxProc, Work};

fn project(gateway_name: &str, office_ip: &str) -> String {
    format!(
        r#"
resource "tencentcloud_vpn_gateway" "gw" {{
  name   = "{gateway_name}"
  vpc_id = "vpc-sandbox1"
}}
{}"#,
        customer_gateway_block("office", office_ip)
    )
}

#[test]
fn a_new_state_does_not_take_over_objects_of_another_state_with_the_same_addresses() {
    let sb = SandboxProc::start(50, &[]);
    let team_a = Work::with_sandbox(&sb);
    team_a.config(&project("team-a-gw", "203.0.113.1"));
    team_a.apply(&[]).success();
    let a_gw = team_a.state_id("tencentcloud_vpn_gateway.gw");
    let a_cgw = team_a.state_id("tencentcloud_vpn_customer_gateway.office");

    // Team B: same addresses, its own gateway and office (a customer gateway's address is unique
    // in a region), a new state.
    let team_b = Work::with_sandbox(&sb);
    team_b.config(&project("team-b-gw", "203.0.113.2"));
    let plan = team_b.plan(&[]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("import"), "{}", plan.stdout);
    // It says why it does not reuse the tagged objects, and how to if they are its own.
    assert!(plan.stderr.contains("warning:"), "{}", plan.stderr);
    assert!(
        plan.stderr.contains(&format!(
            "tunnelform import tencentcloud_vpn_gateway.gw {a_gw}"
        )),
        "{}",
        plan.stderr
    );

    team_b.apply(&[]).success();
    let b_gw = team_b.state_id("tencentcloud_vpn_gateway.gw");
    assert_ne!(b_gw, a_gw);
    assert_ne!(
        team_b.state_id("tencentcloud_vpn_customer_gateway.office"),
        a_cgw
    );
    let cloud = sb.cloud();
    let mut names: Vec<(String, String)> = cloud
        .gateways("ap-guangzhou")
        .into_iter()
        .map(|g| (g.vpn_gateway_id, g.vpn_gateway_name))
        .collect();
    names.sort();
    let mut want = vec![
        (a_gw.clone(), "team-a-gw".to_string()),
        (b_gw.clone(), "team-b-gw".to_string()),
    ];
    want.sort();
    assert_eq!(names, want);
    team_a.assert_no_changes(&[]);
    team_b.assert_no_changes(&[]);

    // A third team still plans (two tagged objects per address are not an error for it).
    let team_c = Work::with_sandbox(&sb);
    team_c.config(&project("team-c-gw", "203.0.113.3"));
    let plan = team_c.plan(&[]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );

    // Destroying B leaves A alone.
    team_b.destroy(&[]).success();
    let left: Vec<String> = sb
        .cloud()
        .gateways("ap-guangzhou")
        .into_iter()
        .map(|g| g.vpn_gateway_id)
        .collect();
    assert_eq!(left, vec![a_gw]);
    team_a.assert_no_changes(&[]);
}
