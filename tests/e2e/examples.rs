//! The examples, as a user runs them: against the embedded sandbox (`--sandbox`, data in
//! `state/sandbox.json`), applied, re-planned with `--detailed-exitcode` (0: no changes), destroyed.

use std::collections::BTreeMap;

use crate::common::Work;

/// Address -> (id, region) of a state file.
fn resources(state: &serde_json::Value) -> BTreeMap<String, (String, String)> {
    state["resources"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(a, r)| {
                    (
                        a.clone(),
                        (
                            r["id"].as_str().unwrap_or_default().to_string(),
                            r["region"].as_str().unwrap_or_default().to_string(),
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[track_caller]
fn no_changes(w: &Work, dir: &str) {
    let r = w.embedded(&["plan", dir, "--detailed-exitcode"]);
    r.expect_code(0);
    assert!(r.stdout.contains("No changes."), "{}", r.stdout);
}

#[track_caller]
fn has_changes(w: &Work, dir: &str) {
    w.embedded(&["plan", dir, "--detailed-exitcode"])
        .expect_code(2);
}

#[test]
fn quickstart() {
    let w = Work::new();
    w.copy_example("quickstart");
    has_changes(&w, "examples/quickstart");
    let r = w.embedded(&["apply", "examples/quickstart", "--auto-approve"]);
    r.success();
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 5 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    no_changes(&w, "examples/quickstart");
    // Outputs are recorded.
    let out = w.tf(&[
        "output",
        "tunnel_ids",
        "--json",
        "--dir",
        "examples/quickstart",
    ]);
    out.success();
    let ids: Vec<String> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(|i| i.starts_with("vpnx-")), "{ids:?}");

    let d = w.embedded(&["destroy", "examples/quickstart", "--auto-approve"]);
    d.success();
    assert!(
        d.stdout
            .contains("Destroy complete! Resources: 5 destroyed."),
        "{}",
        d.stdout
    );
    assert!(resources(&w.state_of("quickstart")).is_empty());
    // Gone from the cloud too: the next plan creates everything again.
    let p = w.embedded(&["plan", "examples/quickstart"]);
    p.success();
    assert!(
        p.stdout
            .contains("Plan: 5 to add, 0 to change, 0 to destroy."),
        "{}",
        p.stdout
    );
}

#[test]
fn modules() {
    let w = Work::new();
    w.copy_example("modules");
    has_changes(&w, "examples/modules");
    let r = w.embedded(&["apply", "examples/modules", "--auto-approve"]);
    r.success();
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 9 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    let res = resources(&w.state_of("modules"));
    for a in [
        "tencentcloud_vpn_gateway.hub",
        r#"module.site["shanghai"].tencentcloud_vpn_customer_gateway.office"#,
        r#"module.site["shanghai"].tencentcloud_vpn_connection.primary"#,
        r#"module.site["beijing"].tencentcloud_vpn_connection.primary"#,
        r#"module.site["beijing"].tencentcloud_vpn_gateway_route.lan"#,
        r#"module.site["shanghai"].tencentcloud_route_table_entry.lan"#,
    ] {
        assert!(res.contains_key(a), "{a} not in {res:?}");
    }
    assert_eq!(res.len(), 9, "{res:?}");
    no_changes(&w, "examples/modules");
    let out = w.tf(&[
        "output",
        "tunnel_ids",
        "--json",
        "--dir",
        "examples/modules",
    ]);
    out.success();
    let ids: BTreeMap<String, String> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        ids["beijing"],
        res[r#"module.site["beijing"].tencentcloud_vpn_connection.primary"#].0
    );
    assert_eq!(ids.len(), 2);

    // One more office in the CSV: exactly its four objects to add.
    let csv = w.path().join("examples/modules/sites.csv");
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text.push_str("shenzhen,203.0.113.73,192.168.73.0/24\n");
    std::fs::write(&csv, text).unwrap();
    let p = w.embedded(&["plan", "examples/modules", "--detailed-exitcode"]);
    p.expect_code(2);
    assert!(
        p.stdout
            .contains("Plan: 4 to add, 0 to change, 0 to destroy."),
        "{}",
        p.stdout
    );
    assert!(
        p.stdout.contains(
            r#"# module.site["shenzhen"].tencentcloud_vpn_connection.primary will be created"#
        ),
        "{}",
        p.stdout
    );
    assert!(
        p.stdout.contains(
            r#"# module.site["shenzhen"].tencentcloud_route_table_entry.lan will be created"#
        ),
        "{}",
        p.stdout
    );

    let d = w.embedded(&["destroy", "examples/modules", "--auto-approve"]);
    d.success();
    assert!(
        d.stdout
            .contains("Destroy complete! Resources: 9 destroyed."),
        "{}",
        d.stdout
    );
    assert!(resources(&w.state_of("modules")).is_empty());
}

#[test]
fn route_based() {
    let w = Work::new();
    w.copy_example("route-based");
    has_changes(&w, "examples/route-based");
    let r = w.embedded(&["apply", "examples/route-based", "--auto-approve"]);
    r.success();
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 11 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("route-based-demo-key-0001"));
    // Each tunnel's own route (write-only) is kept as planned.
    let state = w.state_of("route-based");
    assert_eq!(
        state["resources"][r#"tencentcloud_vpn_connection.dc["primary"]"#]["attributes"]["route"]
            ["destination_cidr_block"],
        "192.168.255.1/32",
        "{state}"
    );
    no_changes(&w, "examples/route-based");
    let out = w.tf(&[
        "output",
        "gateway_route_ids",
        "--json",
        "--dir",
        "examples/route-based",
    ]);
    out.success();
    let ids: Vec<String> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(ids.len(), 4);
    assert!(ids.iter().all(|i| i.contains("#vpnr-")), "{ids:?}");
    let d = w.embedded(&["destroy", "examples/route-based", "--auto-approve"]);
    d.success();
    assert!(
        d.stdout
            .contains("Destroy complete! Resources: 11 destroyed."),
        "{}",
        d.stdout
    );
    assert!(resources(&w.state_of("route-based")).is_empty());
}

#[test]
fn multi_site() {
    let w = Work::new();
    w.copy_example("multi-site");
    let r = w.embedded(&["apply", "examples/multi-site", "--auto-approve"]);
    r.success();
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 10 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    let res = resources(&w.state_of("multi-site"));
    let region_of = |a: &str| res.get(a).map(|(_, r)| r.as_str()).unwrap_or("missing");
    assert_eq!(
        region_of("tencentcloud_vpn_gateway.guangzhou"),
        "ap-guangzhou"
    );
    assert_eq!(
        region_of("tencentcloud_vpn_gateway.shanghai"),
        "ap-shanghai"
    );
    assert_eq!(
        region_of(r#"tencentcloud_vpn_connection.guangzhou["paris"]"#),
        "ap-guangzhou"
    );
    assert_eq!(
        region_of(r#"tencentcloud_vpn_connection.shanghai["osaka"]"#),
        "ap-shanghai"
    );
    assert_eq!(
        region_of(r#"tencentcloud_vpn_customer_gateway.shanghai["lima"]"#),
        "ap-shanghai"
    );
    // Refreshing reads every object in its own region: nothing to do.
    no_changes(&w, "examples/multi-site");

    let out = w.tf(&[
        "output",
        "tunnel_ids",
        "--json",
        "--dir",
        "examples/multi-site",
    ]);
    out.success();
    let ids: BTreeMap<String, String> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        ids.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["berlin", "lima", "osaka", "paris"]
    );

    let d = w.embedded(&["destroy", "examples/multi-site", "--auto-approve"]);
    d.success();
    assert!(
        d.stdout
            .contains("Destroy complete! Resources: 10 destroyed."),
        "{}",
        d.stdout
    );
    assert!(resources(&w.state_of("multi-site")).is_empty());
}

#[test]
fn existing_gateway_after_quickstart() {
    // Exactly as examples/existing-gateway/README.md says, in that order.
    let w = Work::new();
    w.copy_example("quickstart");
    w.copy_example("existing-gateway");
    w.embedded(&["apply", "examples/quickstart", "--auto-approve"])
        .success();
    let r = w.embedded(&["apply", "examples/existing-gateway", "--auto-approve"]);
    r.success();
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 4 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    no_changes(&w, "examples/existing-gateway");
    // The tunnels on its gateway do not disturb the quickstart.
    no_changes(&w, "examples/quickstart");

    // The tunnels sit on the quickstart's gateway, which this configuration does not own.
    let gw = resources(&w.state_of("quickstart"))["tencentcloud_vpn_gateway.main"]
        .0
        .clone();
    let eg = w.state_of("existing-gateway");
    let res = resources(&eg);
    assert_eq!(res.len(), 4, "{res:?}");
    assert!(!res
        .keys()
        .any(|a| a.starts_with("tencentcloud_vpn_gateway.")));
    for a in [
        r#"tencentcloud_vpn_connection.branch["lab"]"#,
        r#"tencentcloud_vpn_connection.branch["warehouse"]"#,
    ] {
        assert_eq!(
            eg["resources"][a]["attributes"]["vpn_gateway_id"].as_str(),
            Some(gw.as_str()),
            "{a}"
        );
    }
    let out = w.tf(&["output", "gateway_id", "--dir", "examples/existing-gateway"]);
    out.success();
    assert_eq!(out.stdout.trim(), gw);

    // Clean up in reverse order; the gateway outlives the first destroy.
    let d = w.embedded(&["destroy", "examples/existing-gateway", "--auto-approve"]);
    d.success();
    assert!(
        d.stdout
            .contains("Destroy complete! Resources: 4 destroyed."),
        "{}",
        d.stdout
    );
    no_changes(&w, "examples/quickstart");
    let d = w.embedded(&["destroy", "examples/quickstart", "--auto-approve"]);
    d.success();
    assert!(
        d.stdout
            .contains("Destroy complete! Resources: 5 destroyed."),
        "{}",
        d.stdout
    );
    assert!(resources(&w.state_of("quickstart")).is_empty());
    assert!(resources(&w.state_of("existing-gateway")).is_empty());
}

#[test]
fn existing_gateway_without_its_gateway_fails_clearly() {
    let w = Work::new();
    w.copy_example("existing-gateway");
    let r = w.embedded(&["plan", "examples/existing-gateway"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("examples/existing-gateway/main.tf:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("gateway_list[0]"), "{}", r.stderr);
    assert!(r.stderr.contains("the list has 0 elements"), "{}", r.stderr);
}

/// Every example is in the canonical format (`fmt --check` passes), as users copy them.
#[test]
fn every_example_passes_fmt_check() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("reading examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 3, "{dirs:?}");
    let w = Work::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        w.copy_example(&name);
        let r = w.tf(&["fmt", "--check", &format!("examples/{name}")]);
        assert_eq!(
            r.code(),
            Some(0),
            "examples/{name} is not formatted: run `tunnelform fmt examples/{name}`\n{}{}",
            r.stdout,
            r.stderr
        );
    }
}
