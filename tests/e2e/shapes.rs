//! A configuration written as many explicit blocks (one `resource` per object, as a script would
//! generate it) costs the API calls one `for_each` block costs: every phase that reads the cloud
//! asks per region and kind (paged, 100 ids per call), never per block or per instance.

use crate::common::{SandboxProc, Work};

const GATEWAYS: usize = 4;
const OFFICES: usize = 8;
const PROJECT: &[&str] = &["--project", "shapes-test"];

/// GATEWAYS VPN gateways and OFFICES customer gateways, each its own block.
fn explicit_blocks() -> String {
    let mut s = String::new();
    for g in 0..GATEWAYS {
        s.push_str(&format!(
            "resource \"tencentcloud_vpn_gateway\" \"gw{g}\" {{\n  name   = \"gw-{g}\"\n  vpc_id = \"vpc-sandbox1\"\n}}\n\n"
        ));
    }
    for c in 0..OFFICES {
        s.push_str(&format!(
            "resource \"tencentcloud_vpn_customer_gateway\" \"office{c}\" {{\n  name              = \"office-{c}\"\n  public_ip_address = \"203.0.113.{}\"\n}}\n\n",
            c + 10
        ));
    }
    s
}

/// The state is lost: its file, backup and journal are gone.
fn lose_state(w: &Work) {
    let dir = w.state_path().parent().unwrap().to_path_buf();
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
}

/// Requests of `action` the sandbox received since `before` (a stats snapshot).
fn calls(sb: &SandboxProc, before: &serde_json::Value, action: &str) -> u64 {
    let now = sb.stats()["requests"][action].as_u64().unwrap_or(0);
    now - before["requests"][action].as_u64().unwrap_or(0)
}

#[track_caller]
fn at_most(sb: &SandboxProc, before: &serde_json::Value, action: &str, max: u64, what: &str) {
    let n = calls(sb, before, action);
    assert!(
        n <= max,
        "{what}: {n} {action} calls (at most {max} expected, one per region and kind)\n{}",
        sb.stats()
    );
}

#[test]
fn explicit_blocks_cost_per_region_not_per_block_in_every_phase() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&explicit_blocks());

    // First plan and apply on an empty state: one ownership query for the region.
    let s = sb.stats();
    w.plan(PROJECT).success();
    at_most(&sb, &s, "GetResources", 1, "first plan");
    w.apply(PROJECT).success();
    let ids = w.state_ids();
    assert_eq!(ids.len(), GATEWAYS + OFFICES, "{ids:?}");

    // The state is lost: the plan finds the objects by their ownership tags (one query), reads
    // them in batches, and the apply adopts them with batched reads.
    lose_state(&w);
    let s = sb.stats();
    let plan = w.plan(PROJECT);
    plan.success();
    assert!(plan.stdout.contains("import"), "{}", plan.stdout);
    at_most(&sb, &s, "GetResources", 1, "lost-state plan");
    at_most(&sb, &s, "DescribeVpnGateways", 1, "lost-state plan");
    at_most(&sb, &s, "DescribeCustomerGateways", 1, "lost-state plan");
    let s = sb.stats();
    w.apply(PROJECT).success();
    // The apply plans again (one tag query, one read per kind) and then reads each adopted object
    // back, batched: one or two polls per kind, not one per object (was 5 and 9).
    at_most(&sb, &s, "DescribeVpnGateways", 3, "lost-state apply");
    at_most(&sb, &s, "DescribeCustomerGateways", 3, "lost-state apply");
    assert_eq!(w.state_ids(), ids);

    // Import blocks, one per object, on a new state: one batched read per kind.
    lose_state(&w);
    let mut imports = String::new();
    for (addr, id) in &ids {
        imports.push_str(&format!(
            "import {{\n  to = {addr}\n  id = \"{id}\"\n}}\n\n"
        ));
    }
    w.files(&[("main.tf", &explicit_blocks()), ("imports.tf", &imports)]);
    let s = sb.stats();
    let plan = w.plan(&["--no-ownership-tags"]);
    plan.success();
    assert!(
        plan.stdout
            .contains(&format!("Plan: {} to import", GATEWAYS + OFFICES)),
        "{}",
        plan.stdout
    );
    at_most(&sb, &s, "DescribeVpnGateways", 1, "plan importing");
    at_most(&sb, &s, "DescribeCustomerGateways", 1, "plan importing");
    let s = sb.stats();
    w.apply(&["--no-ownership-tags"]).success();
    at_most(&sb, &s, "DescribeVpnGateways", 3, "apply importing");
    at_most(&sb, &s, "DescribeCustomerGateways", 3, "apply importing");
    assert_eq!(w.state_ids(), ids);

    // Data sources, one block per object: one filtered read, then the region's listing once.
    let mut data = String::new();
    for (addr, id) in &ids {
        let (ty, name) = addr.split_once('.').unwrap();
        let source = if ty == "tencentcloud_vpn_gateway" {
            "tencentcloud_vpn_gateways"
        } else {
            "tencentcloud_vpn_customer_gateways"
        };
        data.push_str(&format!(
            "data \"{source}\" \"{name}\" {{\n  id = \"{id}\"\n}}\n\noutput \"{name}\" {{\n  value = data.{source}.{name}.gateway_list[0].id\n}}\n\n"
        ));
    }
    w.files(&[("main.tf", &explicit_blocks()), ("data.tf", &data)]);
    let s = sb.stats();
    let plan = w.plan(PROJECT);
    plan.success();
    let words = plan.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for (addr, id) in &ids {
        let name = addr.split_once('.').unwrap().1;
        assert!(
            words.contains(&format!("+ {name} = \"{id}\"")),
            "{name} = {id:?} not in:\n{}",
            plan.stdout
        );
    }
    // The refresh reads each kind once; the data sources add at most two reads per kind.
    at_most(
        &sb,
        &s,
        "DescribeVpnGateways",
        3,
        "plan reading data sources",
    );
    at_most(
        &sb,
        &s,
        "DescribeCustomerGateways",
        3,
        "plan reading data sources",
    );
}
