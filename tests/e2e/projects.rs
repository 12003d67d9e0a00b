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

/// A gateway, two offices and their tunnels (`for_each`), with the office IPs given.
fn sites_project(gateway_name: &str, ips: [&str; 2]) -> String {
    format!(
        r#"
locals {{
  sites = {{
    paris = {{ ip = "{}", cidr = "192.168.1.0/24" }}
    tokyo = {{ ip = "{}", cidr = "192.168.2.0/24" }}
  }}
}}

resource "tencentcloud_vpn_gateway" "gw" {{
  name   = "{gateway_name}"
  vpc_id = "vpc-sandbox1"
}}

resource "tencentcloud_vpn_customer_gateway" "site" {{
  for_each          = local.sites
  name              = "site-${{each.key}}"
  public_ip_address = each.value.ip
}}

resource "tencentcloud_vpn_connection" "site" {{
  for_each            = local.sites
  name                = "{gateway_name}-to-${{each.key}}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.site[each.key].id
  pre_share_key       = "lost-state-key"
  security_group_policy {{
    local_cidr_block  = "10.0.0.0/24"
    remote_cidr_block = [each.value.cidr]
  }}
}}
"#,
        ips[0], ips[1]
    )
}

/// Deletes the state file, its backup and its journal, as a lost disk or a `git clean` would.
fn lose_state(w: &Work) {
    let p = w.state_path();
    assert!(p.exists(), "{}", p.display());
    for suffix in ["", ".backup", ".journal", ".lock"] {
        let f = std::path::PathBuf::from(format!("{}{suffix}", p.display()));
        let _ = std::fs::remove_file(&f);
        assert!(!f.exists(), "{}", f.display());
    }
}

fn tag<'a>(tags: &'a [tunnelform_tencent_api::vpc::Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key == key).map(|t| t.value.as_str())
}

#[test]
fn a_lost_state_adopts_its_own_objects_and_leaves_another_projects_alone() {
    let sb = SandboxProc::start(50, &[]);
    // Another configuration with the same addresses, applied first, in another directory.
    let other = Work::with_sandbox(&sb);
    other.config(&sites_project("other-gw", ["203.0.113.21", "203.0.113.22"]));
    other.apply(&[]).success();
    let other_ids = other.state_ids();

    let w = Work::with_sandbox(&sb);
    w.config(&sites_project("mine-gw", ["203.0.113.11", "203.0.113.12"]));
    let first = w.apply(&[]);
    first.success();
    assert!(
        first
            .stdout
            .contains("Apply complete! Resources: 5 added, 0 changed, 0 destroyed."),
        "{}",
        first.stdout
    );
    // It said why it did not take the other project's objects tagged with its addresses.
    assert!(
        first.stderr.contains(&format!(
            "{} belongs to project",
            other_ids["tencentcloud_vpn_gateway.gw"]
        )),
        "{}",
        first.stderr
    );
    let mine = w.state_ids();
    assert_eq!(mine.len(), 5);
    // Everything it created carries its project: the absolute path of its state file (no git
    // repository around the temporary directory).
    let project = w
        .path()
        .canonicalize()
        .unwrap()
        .join("state/cfg.tfstate.json")
        .to_string_lossy()
        .into_owned();
    let cloud = sb.cloud();
    for g in cloud.gateways("ap-guangzhou") {
        let tags = g.tag_set.clone().unwrap_or_default();
        let want = if mine.values().any(|id| *id == g.vpn_gateway_id) {
            project.clone()
        } else {
            other
                .path()
                .canonicalize()
                .unwrap()
                .join("state/cfg.tfstate.json")
                .to_string_lossy()
                .into_owned()
        };
        assert_eq!(tag(&tags, "tunnelform:project"), Some(want.as_str()));
        assert_eq!(
            tag(&tags, "tunnelform:address"),
            Some("tencentcloud_vpn_gateway.gw")
        );
    }
    for c in cloud.connections("ap-guangzhou") {
        assert!(tag(&c.tag_set, "tunnelform:project").is_some(), "{c:?}");
    }

    // The state, its backup and its journal are lost.
    lose_state(&w);
    let writes = sb.write_request_count();
    let plan = w.plan(&[]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 5 to import, 0 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert_eq!(
        plan.stdout
            .matches("# (adopted: carries this project's ownership tags; its state was lost or is stale)")
            .count(),
        5,
        "{}",
        plan.stdout
    );
    // The other project's objects carry the same address tags: not adopted (not even mentioned,
    // since this project's own objects were found).
    for id in other_ids.values() {
        assert!(!plan.stdout.contains(id.as_str()), "{id}\n{}", plan.stdout);
    }
    assert!(!plan.stderr.contains("warning"), "{}", plan.stderr);

    let again = w.apply(&[]);
    again.success();
    assert!(
        again
            .stdout
            .contains("Apply complete! Resources: 5 imported, 0 added, 0 changed, 0 destroyed."),
        "{}",
        again.stdout
    );
    // Nothing was written to the cloud: no create, no duplicate.
    assert_eq!(sb.write_request_count(), writes);
    assert_eq!(w.state_ids(), mine);
    for r in w.state()["resources"].as_object().unwrap().values() {
        assert_eq!(r["origin"], "adopted", "{r}");
    }
    w.assert_no_changes(&[]);

    // Exactly both projects' objects exist; the other project still has no changes.
    let mut want: Vec<String> = mine.values().chain(other_ids.values()).cloned().collect();
    want.sort();
    assert_eq!(sb.cloud().all_ids("ap-guangzhou"), want);
    assert_eq!(other.state_ids(), other_ids);
    other.assert_no_changes(&[]);

    // Lost again, and meanwhile the configuration dropped the Tokyo office: its two objects are
    // the lost state's too, and the configuration no longer wants them. The plan deletes them,
    // as the lost state would have, and says why.
    lose_state(&w);
    w.config(
        &sites_project("mine-gw", ["203.0.113.11", "203.0.113.12"]).replace(
            "    tokyo = { ip = \"203.0.113.12\", cidr = \"192.168.2.0/24\" }\n",
            "",
        ),
    );
    let plan = w.plan(&[]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 3 to import, 0 to add, 0 to change, 2 to destroy."),
        "{}",
        plan.stdout
    );
    assert_eq!(
        plan.stdout
            .matches("# (not in the state, which is stale or was lost: found by this project's ownership tags)")
            .count(),
        2,
        "{}",
        plan.stdout
    );
    for addr in [
        "tencentcloud_vpn_customer_gateway.site[\"tokyo\"]",
        "tencentcloud_vpn_connection.site[\"tokyo\"]",
    ] {
        assert!(
            plan.stdout.contains(&format!("# {addr} will be destroyed")),
            "{addr}\n{}",
            plan.stdout
        );
        assert!(plan.stdout.contains(&mine[addr]), "{addr}\n{}", plan.stdout);
    }
    // The other project's objects are not this project's orphans.
    for id in other_ids.values() {
        assert!(!plan.stdout.contains(id.as_str()), "{id}\n{}", plan.stdout);
        assert!(!plan.stderr.contains(id.as_str()), "{id}\n{}", plan.stderr);
    }
    let apply = w.apply(&[]);
    apply.success();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 3 imported, 0 added, 0 changed, 2 destroyed."),
        "{}",
        apply.stdout
    );
    let mut want: Vec<String> = w
        .state_ids()
        .into_values()
        .chain(other_ids.values().cloned())
        .collect();
    want.sort();
    assert_eq!(sb.cloud().all_ids("ap-guangzhou"), want);
    w.assert_no_changes(&[]);
    other.assert_no_changes(&[]);
}

#[test]
fn an_explicit_project_follows_a_configuration_to_a_new_place() {
    let sb = SandboxProc::start(50, &[]);
    let first = Work::with_sandbox(&sb);
    first.config(&sites_project("moved-gw", ["203.0.113.31", "203.0.113.32"]));
    let p = ["--project", "acme/network-vpn"];
    first.apply(&p).success();
    let ids = first.state_ids();
    for g in sb.cloud().gateways("ap-guangzhou") {
        let tags = g.tag_set.clone().unwrap_or_default();
        assert_eq!(tag(&tags, "tunnelform:project"), Some("acme/network-vpn"));
    }

    // The same configuration in another directory, with a new state: without the project id it is
    // another project (it would create everything again)...
    let moved = Work::with_sandbox(&sb);
    moved.config(&sites_project("moved-gw", ["203.0.113.31", "203.0.113.32"]));
    let plan = moved.plan(&[]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 5 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    // ...with it, it adopts everything.
    let writes = sb.write_request_count();
    let r = moved.apply(&p);
    r.success();
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 5 imported, 0 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    assert_eq!(sb.write_request_count(), writes);
    assert_eq!(moved.state_ids(), ids);
    moved.assert_no_changes(&p);

    // A project id that cannot be a tag value is refused before anything is read or sent.
    let bad = moved.plan(&["--project", "acme~vpn"]);
    bad.expect_code(1);
    assert!(
        bad.stderr.contains("--project \"acme~vpn\""),
        "{}",
        bad.stderr
    );
}

/// `sites_project` with the Tokyo office removed.
fn paris_only(full: &str, tokyo_ip: &str) -> String {
    let line = format!("    tokyo = {{ ip = \"{tokyo_ip}\", cidr = \"192.168.2.0/24\" }}\n");
    assert!(full.contains(&line), "{full}");
    full.replace(&line, "")
}

/// Puts back an earlier version of the state file, as `git checkout` of a commit would (no
/// journal, no backup).
fn revert_state(w: &Work, committed: &[u8]) {
    lose_state(w);
    std::fs::write(w.state_path(), committed).unwrap();
}

/// Applies: `n` objects are adopted, nothing is written to the cloud, the state then records
/// exactly `ids`, which are all that exists, and nothing is left to do.
#[track_caller]
fn assert_apply_adopts_without_writing(
    w: &Work,
    sb: &SandboxProc,
    n: usize,
    ids: &std::collections::BTreeMap<String, String>,
) {
    let writes = sb.write_request_count();
    let apply = w.apply(&[]);
    apply.success();
    assert!(
        apply.stdout.contains(&format!(
            "Apply complete! Resources: {n} imported, 0 added, 0 changed, 0 destroyed."
        )),
        "{}",
        apply.stdout
    );
    // No create (no duplicate gateway, no InvalidParameterValue.Duplicate customer gateway).
    assert_eq!(sb.write_request_count(), writes);
    assert_eq!(&w.state_ids(), ids);
    let mut want: Vec<String> = ids.values().cloned().collect();
    want.sort();
    assert_eq!(sb.cloud().all_ids("ap-guangzhou"), want);
    w.assert_no_changes(&[]);
}

/// A state committed to Git and reverted (or checked out again after the runner that applied
/// died): the objects made since are not in it, but they carry this project's ownership tags, so
/// the plan adopts them instead of creating duplicates, and nothing is written to the cloud.
#[test]
fn a_stale_state_adopts_what_a_later_run_created_instead_of_creating_it_again() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    let full = sites_project("stale-gw", ["203.0.113.31", "203.0.113.32"]);
    w.config(&paris_only(&full, "203.0.113.32"));
    w.apply(&[]).success();
    // The version committed to Git.
    let committed = std::fs::read(w.state_path()).unwrap();
    w.config(&full);
    w.apply(&[]).success();
    let ids = w.state_ids();
    assert_eq!(ids.len(), 5, "{ids:?}");

    for round in 0..2 {
        // The state is reverted to the committed version (journal and backup as a fresh checkout
        // has them: none).
        revert_state(&w, &committed);
        let plan = w.plan(&[]);
        plan.success();
        assert!(
            plan.stdout
                .contains("Plan: 2 to import, 0 to add, 0 to change, 0 to destroy."),
            "round {round}\n{}",
            plan.stdout
        );
        assert_eq!(
            plan.stdout
                .matches("# (adopted: carries this project's ownership tags; its state was lost or is stale)")
                .count(),
            2,
            "{}",
            plan.stdout
        );
        for addr in [
            "tencentcloud_vpn_customer_gateway.site[\"tokyo\"]",
            "tencentcloud_vpn_connection.site[\"tokyo\"]",
        ] {
            assert!(plan.stdout.contains(&ids[addr]), "{addr}\n{}", plan.stdout);
        }
        assert_apply_adopts_without_writing(&w, &sb, 2, &ids);
    }
}

/// A state that records an object deleted since, while a later run (whose state was lost) made
/// its replacement: the replacement is adopted, not created a second time.
#[test]
fn an_object_recorded_as_gone_is_replaced_by_the_one_a_later_run_made() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&sites_project("gone-gw", ["203.0.113.41", "203.0.113.42"]));
    w.apply(&[]).success();
    let old = std::fs::read(w.state_path()).unwrap();
    let old_ids = w.state_ids();
    // Someone deletes the Tokyo tunnel; a run whose state is current recreates it.
    let tunnel = "tencentcloud_vpn_connection.site[\"tokyo\"]";
    sb.cloud().delete_connection(
        "ap-guangzhou",
        &old_ids["tencentcloud_vpn_gateway.gw"],
        &old_ids[tunnel],
    );
    w.apply(&[]).success();
    let new_ids = w.state_ids();
    assert_ne!(new_ids[tunnel], old_ids[tunnel]);
    // Then the old state comes back: it records the deleted tunnel.
    revert_state(&w, &old);
    let plan = w.plan(&[]);
    plan.success();
    assert!(plan.stdout.contains(&new_ids[tunnel]), "{}", plan.stdout);
    assert_apply_adopts_without_writing(&w, &sb, 1, &new_ids);
}

/// After a lost state, `destroy` finds this project's objects by their ownership tags, shows them
/// and deletes them; another project's objects with the same addresses are left alone.
#[test]
fn destroy_after_a_lost_state_deletes_this_projects_objects_and_nothing_else() {
    let sb = SandboxProc::start(50, &[]);
    let other = Work::with_sandbox(&sb);
    other.config(&sites_project("other-gw", ["203.0.113.51", "203.0.113.52"]));
    other.apply(&[]).success();
    let other_ids = other.state_ids();

    let w = Work::with_sandbox(&sb);
    w.config(&sites_project("mine-gw", ["203.0.113.61", "203.0.113.62"]));
    w.apply(&[]).success();
    let mine = w.state_ids();
    lose_state(&w);

    let plan = w.plan(&["--destroy"]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 0 to change, 5 to destroy."),
        "{}",
        plan.stdout
    );
    for id in mine.values() {
        assert!(plan.stdout.contains(id.as_str()), "{id}\n{}", plan.stdout);
    }
    for id in other_ids.values() {
        assert!(!plan.stdout.contains(id.as_str()), "{id}\n{}", plan.stdout);
    }

    let d = w.destroy(&[]);
    d.success();
    assert!(
        d.stdout
            .contains("Destroy complete! Resources: 5 destroyed."),
        "{}",
        d.stdout
    );
    let mut left: Vec<String> = other_ids.values().cloned().collect();
    left.sort();
    assert_eq!(sb.cloud().all_ids("ap-guangzhou"), left);
    other.assert_no_changes(&[]);
    // Nothing of this project is left to destroy.
    let again = w.destroy(&[]);
    again.success();
    assert!(
        again
            .stdout
            .contains("No changes. No objects need to be destroyed."),
        "{}",
        again.stdout
    );
}

/// A stale state whose objects all exist, while a later run (whose state was reverted) made more
/// for addresses the configuration has since dropped: `destroy` still finds and deletes them.
#[test]
fn destroy_with_a_stale_state_also_deletes_what_a_later_run_made() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    let full = sites_project("later-gw", ["203.0.113.71", "203.0.113.72"]);
    let paris = paris_only(&full, "203.0.113.72");
    w.config(&paris);
    w.apply(&[]).success();
    let committed = std::fs::read(w.state_path()).unwrap();
    w.config(&full);
    w.apply(&[]).success();
    let all = w.state_ids();
    // The change is reverted: configuration and state as committed.
    w.config(&paris);
    revert_state(&w, &committed);
    let d = w.destroy(&[]);
    d.success();
    for addr in [
        "tencentcloud_vpn_customer_gateway.site[\"tokyo\"]",
        "tencentcloud_vpn_connection.site[\"tokyo\"]",
    ] {
        assert!(d.stdout.contains(&all[addr]), "{addr}\n{}", d.stdout);
    }
    assert!(
        d.stdout
            .contains("Destroy complete! Resources: 5 destroyed."),
        "{}",
        d.stdout
    );
    assert_eq!(sb.cloud().all_ids("ap-guangzhou"), Vec::<String>::new());
}
