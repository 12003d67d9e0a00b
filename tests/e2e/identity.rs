//! A state records the cloud account it belongs to, and a run that talks to another account is
//! refused before it sends anything but `GetCallerIdentity` (unless `--allow-other-account`).

use std::path::Path;

use crate::common::{customer_gateway_block, gateway_block, Run, SandboxProc, Work};

/// The account a sandbox's data file records (written when it starts).
fn data_account(data: &Path) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data).expect("the sandbox's data file"))
            .expect("JSON");
    v["Uin"].as_str().expect("Uin").to_string()
}

fn recorded_account(w: &Work) -> Option<String> {
    w.state()["cloud"]["account"].as_str().map(str::to_string)
}

/// Requests by action the sandbox received since it started.
fn requests(sb: &SandboxProc) -> serde_json::Map<String, serde_json::Value> {
    sb.stats()["requests"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

#[track_caller]
fn only_identity_asked(sb: &SandboxProc, times: u64) {
    let r = requests(sb);
    let expected: serde_json::Map<_, _> = [(
        "GetCallerIdentity".to_string(),
        serde_json::Value::from(times),
    )]
    .into_iter()
    .collect();
    assert_eq!(
        r, expected,
        "the other account received more than GetCallerIdentity"
    );
}

#[track_caller]
fn refused_for(r: &Run, recorded: &str, current: &str) {
    r.expect_code(1);
    for needle in [
        "belongs to account",
        recorded,
        current,
        "--allow-other-account",
        "cfg.tfstate.json",
    ] {
        assert!(
            r.stderr.contains(needle),
            "{needle:?} not in:\n{}",
            r.stderr
        );
    }
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

#[test]
fn a_state_is_refused_by_another_sandbox_world_and_accepted_by_its_own_on_another_port() {
    let dir = tempfile::tempdir().unwrap();
    let (a_data, b_data) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let a = SandboxProc::start(20, &["--data", a_data.to_str().unwrap()]);
    let mut w = Work::with_sandbox(&a);
    let config = format!(
        "{}{}",
        gateway_block("gw"),
        customer_gateway_block("site", "203.0.113.91")
    );
    w.config(&config);
    w.apply(&[]).success();
    let account_a = data_account(&a_data);
    assert_eq!(recorded_account(&w).as_deref(), Some(account_a.as_str()));
    assert_eq!(w.state()["cloud"]["endpoint"], format!("{}/", a.url));

    // (a) Another world: refused, naming both accounts and the way out; B saw nothing else.
    let b = SandboxProc::start(20, &["--data", b_data.to_str().unwrap()]);
    let account_b = data_account(&b_data);
    assert_ne!(account_a, account_b);
    let before = std::fs::read(w.state_path()).unwrap();
    w.endpoint = Some(b.url.clone());
    for args in [
        vec!["plan", "cfg"],
        vec!["apply", "cfg", "--auto-approve"],
        vec!["destroy", "cfg", "--auto-approve"],
        vec!["plan", "cfg", "--refresh-only"],
    ] {
        let r = w.tf(&args);
        refused_for(&r, &account_a, &account_b);
    }
    // Import into an address of the configuration that is not in the state yet.
    w.config(&format!(
        "{config}{}",
        customer_gateway_block("more", "203.0.113.97")
    ));
    let r = w.tf(&[
        "import",
        "tencentcloud_vpn_customer_gateway.more",
        "cgw-00000000",
        "--dir",
        "cfg",
    ]);
    refused_for(&r, &account_a, &account_b);
    w.config(&config);
    only_identity_asked(&b, 5);
    assert_eq!(std::fs::read(w.state_path()).unwrap(), before);
    // Offline commands do not care which cloud.
    let list = w.tf(&["state", "list", "--state", "state/cfg.tfstate.json"]);
    list.success();
    assert!(
        list.stdout.contains("tencentcloud_vpn_gateway.gw"),
        "{}",
        list.stdout
    );

    // (b) The same world on another port: the same account, nothing to do.
    drop(a);
    let a2 = SandboxProc::start(20, &["--data", a_data.to_str().unwrap()]);
    w.endpoint = Some(a2.url.clone());
    w.assert_no_changes(&[]);
    assert_eq!(recorded_account(&w).as_deref(), Some(account_a.as_str()));

    // (c) The override: plan proceeds against B (which holds none of the objects), apply records B.
    w.endpoint = Some(b.url.clone());
    let p = w.plan(&["--allow-other-account"]);
    p.success();
    assert!(p.stdout.contains("2 to add"), "{}", p.stdout);
    assert!(p.stderr.contains(&account_a), "{}", p.stderr);
    assert_eq!(recorded_account(&w).as_deref(), Some(account_a.as_str()));
    w.apply(&["--allow-other-account"]).success();
    assert_eq!(recorded_account(&w).as_deref(), Some(account_b.as_str()));
    assert_eq!(w.state()["cloud"]["endpoint"], format!("{}/", b.url));
    w.assert_no_changes(&[]);
    // ... and now A is the other account.
    w.endpoint = Some(a2.url.clone());
    refused_for(&w.plan(&[]), &account_b, &account_a);
}

#[test]
fn a_state_from_the_embedded_sandbox_is_refused_through_an_endpoint() {
    let w = Work::new();
    w.config(&customer_gateway_block("site", "203.0.113.92"));
    w.embedded(&["apply", "cfg", "--auto-approve"]).success();
    let account = recorded_account(&w).expect("the account is recorded");
    assert_eq!(w.state()["cloud"]["endpoint"], "sandbox");
    assert_eq!(account, data_account(&w.path().join("state/sandbox.json")));

    let sb = SandboxProc::start(20, &[]);
    let mut w = w;
    w.endpoint = Some(sb.url.clone());
    let r = w.plan(&[]);
    refused_for(&r, &account, &sb.cloud().account());
    assert!(r.stderr.contains("the embedded sandbox"), "{}", r.stderr);
    assert!(r.stderr.contains(&sb.url), "{}", r.stderr);
    // The embedded sandbox itself still accepts it.
    w.endpoint = None;
    let r = w.embedded(&["plan", "cfg", "--detailed-exitcode"]);
    r.expect_code(0);
}

#[test]
fn a_state_written_before_states_recorded_their_cloud_is_used_and_gets_it_on_its_next_save() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a.json");
    let sb = SandboxProc::start(20, &["--data", data.to_str().unwrap()]);
    let w = Work::with_sandbox(&sb);
    w.config(&customer_gateway_block("one", "203.0.113.93"));
    w.apply(&[]).success();
    // As an older tunnelform wrote it.
    let mut old = w.state();
    assert!(old.as_object_mut().unwrap().remove("cloud").is_some());
    std::fs::write(w.state_path(), serde_json::to_vec_pretty(&old).unwrap()).unwrap();

    w.assert_no_changes(&[]);
    let list = w.tf(&["state", "list", "--state", "state/cfg.tfstate.json"]);
    list.success();
    assert!(list
        .stdout
        .contains("tencentcloud_vpn_customer_gateway.one"));
    // A plan saves nothing: still no account recorded.
    assert_eq!(recorded_account(&w), None);

    w.config(&format!(
        "{}{}",
        customer_gateway_block("one", "203.0.113.93"),
        customer_gateway_block("two", "203.0.113.94")
    ));
    w.apply(&[]).success();
    assert_eq!(recorded_account(&w), Some(data_account(&data)));
    assert_eq!(w.state_ids().len(), 2);
}

#[test]
fn a_saved_plan_made_against_another_account_is_refused() {
    let a = SandboxProc::start(20, &[]);
    let b = SandboxProc::start(20, &[]);
    let mut w = Work::with_sandbox(&a);
    w.config(&customer_gateway_block("one", "203.0.113.95"));
    w.apply(&[]).success();
    w.config(&format!(
        "{}{}",
        customer_gateway_block("one", "203.0.113.95"),
        customer_gateway_block("two", "203.0.113.96")
    ));
    w.plan(&["--out", "p.plan"]).success();
    let account_a = a.cloud().account();
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.path().join("p.plan")).unwrap()).unwrap();
    assert_eq!(saved["cloud"]["account"], account_a.as_str());

    w.endpoint = Some(b.url.clone());
    let before = std::fs::read(w.state_path()).unwrap();
    // Even with the state adopted for B, the plan is A's.
    let r = w.tf(&["apply", "p.plan", "--allow-other-account"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("was made against account") && r.stderr.contains(&account_a),
        "{}",
        r.stderr
    );
    let r = w.tf(&["apply", "p.plan"]);
    r.expect_code(1);
    assert!(r.stderr.contains("belongs to account"), "{}", r.stderr);
    only_identity_asked(&b, 2);
    assert_eq!(std::fs::read(w.state_path()).unwrap(), before);

    // Against its own account it applies.
    w.endpoint = Some(a.url.clone());
    w.tf(&["apply", "p.plan"]).success();
    assert_eq!(w.state_ids().len(), 2);
}
