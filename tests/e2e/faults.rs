//! Faults: with a fifth of all requests failing (InternalError, HTTP 503, a connection dropped
//! before or after the work was done) and one async task in twenty ending FAILED, repeated applies
//! converge to the configuration through creates, in-place modifications and deletes, with no
//! duplicate; every failure a round reports says what Tencent answered (error code and request id)
//! or that no answer came; a FAILED task shows its Output, its dependents are skipped, and the
//! state says exactly what exists.

use std::collections::BTreeMap;

use crate::common::{Run, SandboxProc, Work};

const REGION: &str = "ap-guangzhou";
/// Applies allowed per phase before the test gives up on convergence.
const MAX_ROUNDS: usize = 15;

/// Two gateways, `offices` offices, a tunnel from each gateway to each office.
fn config(offices: usize, dpd: u32, gw_suffix: &str) -> String {
    let mut locals = String::new();
    for i in 0..offices {
        locals.push_str(&format!(
            "    o{i} = {{ ip = \"198.51.100.{}\", cidr = \"192.168.{i}.0/24\" }}\n",
            10 + i
        ));
    }
    let mut tunnels = String::new();
    for g in ["a", "b"] {
        for i in 0..offices {
            tunnels.push_str(&format!(
                "    \"{g}-o{i}\" = {{ gw = \"{g}\", office = \"o{i}\" }}\n"
            ));
        }
    }
    format!(
        r#"
locals {{
  offices = {{
{locals}  }}
  tunnels = {{
{tunnels}  }}
}}

resource "tencentcloud_vpn_gateway" "gw" {{
  for_each = toset(["a", "b"])
  name     = "faults-${{each.key}}{gw_suffix}"
  vpc_id   = "vpc-sandbox1"
}}

resource "tencentcloud_vpn_customer_gateway" "office" {{
  for_each          = local.offices
  name              = "faults-${{each.key}}"
  public_ip_address = each.value.ip
}}

resource "tencentcloud_vpn_connection" "t" {{
  for_each            = local.tunnels
  name                = "faults-${{each.key}}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw[each.value.gw].id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.office[each.value.office].id
  pre_share_key       = "faults-key"
  dpd_timeout         = {dpd}
  security_group_policy {{
    local_cidr_block  = "10.0.0.0/24"
    remote_cidr_block = [local.offices[each.value.office].cidr]
  }}
}}
"#
    )
}

/// What a round's output says went wrong.
#[derive(Debug, Default)]
struct Seen {
    failures: usize,
    outcome_unknown: usize,
    task_failed: usize,
    recovered: usize,
}

/// Every failure a run reports must say what Tencent answered (`[Code]` and `(request id ...)`) or
/// that no answer came (the request may have been carried out); a failed task also shows its
/// Output. Returns what was seen.
fn check_reported_failures(r: &Run, seen: &mut Seen) {
    let all = format!("{}\n{}", r.stdout, r.stderr);
    let mut report = false;
    for line in r.stderr.lines() {
        if line.contains("operation(s) failed:") {
            report = true;
            continue;
        }
        let is_failure = report && line.starts_with("  - ");
        let is_error = line.starts_with("error:");
        if !is_failure && !is_error {
            continue;
        }
        seen.failures += 1;
        let unknown = line.contains("the request may have been carried out")
            || line.contains("outcome unknown");
        let answered = line.contains("(request id ")
            && (line.contains(": [") || line.contains(" failed: ") && is_error);
        assert!(
            unknown || answered,
            "a failure without its error code and request id, or without saying no answer came: {line:?}\n{all}"
        );
        if unknown {
            seen.outcome_unknown += 1;
        }
        if line.contains("[TaskFailed]") {
            seen.task_failed += 1;
            // The task's Output, as the sandbox words it.
            assert!(
                line.contains("(injected task failure)"),
                "a failed task without its Output: {line:?}"
            );
        }
    }
    for line in r.stdout.lines().filter(|l| l.contains(" failed after ")) {
        let unknown = line.contains("the request may have been carried out");
        assert!(
            unknown || (line.contains(": [") && line.contains("(request id ")),
            "{line:?}\n{all}"
        );
    }
    seen.recovered +=
        r.stderr.matches("Recovered ").count() + r.stderr.matches("Recorded that ").count();
    assert!(!all.contains("panicked"), "{all}");
}

/// Applies until one run succeeds; every run's failures must be reported properly.
fn converge(w: &Work, phase: &str, seen: &mut Seen) -> usize {
    for round in 1..=MAX_ROUNDS {
        let r = w.apply(&[]);
        check_reported_failures(&r, seen);
        if r.code() == Some(0) {
            return round;
        }
        assert_eq!(
            r.code(),
            Some(1),
            "{phase}, round {round}:\n{}\n{}",
            r.stdout,
            r.stderr
        );
    }
    panic!("{phase}: no convergence after {MAX_ROUNDS} applies");
}

/// A read that may meet injected faults, tried a few times.
fn retry<T>(what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let mut last = String::new();
    for _ in 0..10 {
        match f() {
            Ok(v) => return v,
            Err(e) => last = e,
        }
    }
    panic!("{what}: {last}");
}

/// Exactly the configuration's objects exist, once each, and the state records exactly them.
fn check_converged(w: &Work, sb: &SandboxProc, offices: usize, dpd: u32, phase: &str) {
    let ids = w.state_ids();
    assert_eq!(ids.len(), 2 + offices + 2 * offices, "{phase}: {ids:?}");
    let mut from_state: Vec<String> = ids.values().cloned().collect();
    from_state.sort();
    let cloud = sb.cloud();
    let all = retry("listing the sandbox", || cloud.try_all_ids(REGION));
    assert_eq!(all, from_state, "{phase}: cloud vs state");
    // No duplicate: every tunnel name once, with the configured DPD timeout.
    let conns = retry("listing tunnels", || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cloud.connections(REGION)))
            .map_err(|_| "DescribeVpnConnections failed".to_string())
    });
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for c in &conns {
        *names.entry(c.vpn_connection_name.clone()).or_default() += 1;
        assert_eq!(c.dpd_timeout, dpd.to_string(), "{phase}: {c:?}");
    }
    assert_eq!(names.len(), 2 * offices, "{phase}: {names:?}");
    assert!(names.values().all(|n| *n == 1), "{phase}: {names:?}");
    // Nothing left to do (a plan's own reads may meet faults too: a failed plan is tried again).
    let plan = retry("planning", || {
        let r = w.plan(&["--detailed-exitcode"]);
        match r.code() {
            Some(0) => Ok(r),
            Some(1) if r.stderr.contains("reading the cloud failed") => Err(r.stderr.clone()),
            _ => panic!(
                "{phase}: the plan is not empty:\n{}\n{}",
                r.stdout, r.stderr
            ),
        }
    });
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
}

#[test]
fn repeated_applies_through_faults_converge_over_creates_modifies_and_deletes() {
    // Fault kinds are equally likely: InternalError, HTTP 503, dropped before, dropped after commit.
    let sb = SandboxProc::start(
        50,
        &[
            "--fault-rate",
            "0.2",
            "--task-failure-rate",
            "0.05",
            "--seed",
            "20240601",
        ],
    );
    let w = Work::with_sandbox(&sb);
    let mut seen = Seen::default();
    let mut rounds = Vec::new();

    // Creates: 2 gateways, 8 offices, 16 tunnels.
    w.config(&config(8, 30, ""));
    rounds.push(converge(&w, "create", &mut seen));
    check_converged(&w, &sb, 8, 30, "create");

    // In-place modifications: every tunnel's DPD timeout, both gateways' names.
    w.config(&config(8, 45, "-v2"));
    rounds.push(converge(&w, "modify", &mut seen));
    check_converged(&w, &sb, 8, 45, "modify");
    let gw_names: Vec<String> = retry("listing gateways", || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sb.cloud().gateways(REGION)))
            .map_err(|_| "DescribeVpnGateways failed".to_string())
    })
    .into_iter()
    .map(|g| g.vpn_gateway_name)
    .collect();
    assert!(gw_names.iter().all(|n| n.ends_with("-v2")), "{gw_names:?}");

    // Deletes: three offices and their six tunnels go.
    w.config(&config(5, 45, "-v2"));
    rounds.push(converge(&w, "delete", &mut seen));
    check_converged(&w, &sb, 5, 45, "delete");

    let stats = sb.stats();
    eprintln!(
        "faults: rounds per phase {rounds:?}, {seen:?}, sandbox faults {}",
        stats["faults"]
    );
    // The faults really happened (answers lost after the work was done among them) and runs failed
    // because of them. (Each kind of write meeting drop-after-commit: reliability.rs.)
    assert!(
        stats["faults"]["DropAfterCommit"].as_u64().unwrap_or(0) > 0,
        "{stats}"
    );
    assert!(seen.failures > 0, "{seen:?}");
    assert!(seen.outcome_unknown > 0, "{seen:?}");
}

/// Runs with every async task ending FAILED (a data file carries the cloud across restarts).
#[test]
fn a_failed_task_shows_its_output_skips_its_dependents_and_the_state_says_what_exists() {
    let data = tempfile::tempdir().unwrap();
    let data_file = data.path().join("sandbox.json");
    let data_arg = data_file.to_str().unwrap();
    let tunnel = |label: &str, gw: &str, cgw: &str, n: u8, extra: &str| {
        format!(
            r#"
resource "tencentcloud_vpn_connection" "{label}" {{
  name                = "{label}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.{gw}.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.{cgw}.id
  pre_share_key       = "failed-task-key"
  {extra}
  security_group_policy {{
    local_cidr_block  = "10.0.{n}.0/24"
    remote_cidr_block = ["192.168.{n}.0/24"]
  }}
}}
"#
        )
    };
    let base = format!(
        r#"
resource "tencentcloud_vpn_gateway" "one" {{
  name   = "one"
  vpc_id = "vpc-sandbox1"
}}

resource "tencentcloud_vpn_gateway" "two" {{
  name   = "two"
  vpc_id = "vpc-sandbox1"
}}
{}{}"#,
        crate::common::customer_gateway_block("a", "203.0.113.1"),
        crate::common::customer_gateway_block("b", "203.0.113.2"),
    );

    // Tasks succeed: a tunnel to remove later.
    let ok = SandboxProc::start(50, &["--data", data_arg]);
    let mut w = Work::with_sandbox(&ok);
    w.config(&format!("{base}{}", tunnel("old", "one", "a", 1, "")));
    w.apply(&[]).success();
    let old = w.state_id("tencentcloud_vpn_connection.old");
    drop(ok);

    // Every task fails from now on: `first` cannot be created (and `after_first`, which depends on
    // it, must not start); `old` cannot be deleted.
    let failing = SandboxProc::start(50, &["--data", data_arg, "--task-failure-rate", "1"]);
    w.endpoint = Some(failing.url.clone());
    w.config(&format!(
        "{base}{}{}",
        tunnel("first", "one", "b", 2, ""),
        tunnel(
            "after_first",
            "two",
            "a",
            3,
            "depends_on          = [tencentcloud_vpn_connection.first]"
        ),
    ));
    let r = w.apply(&[]);
    r.expect_code(1);
    let line = |addr: &str| {
        r.stderr
            .lines()
            .find(|l| l.starts_with(&format!("  - {addr}: ")))
            .unwrap_or_else(|| panic!("no report line for {addr}:\n{}", r.stderr))
            .to_string()
    };
    let first = line("tencentcloud_vpn_connection.first");
    assert!(
        first.contains("create failed: [TaskFailed] task "),
        "{first}"
    );
    assert!(
        first.contains("the tunnel could not be provisioned (injected task failure)"),
        "{first}"
    );
    assert!(first.contains("(request id "), "{first}");
    let deleted = line("tencentcloud_vpn_connection.old");
    assert!(
        deleted.contains("delete failed: [TaskFailed] task "),
        "{deleted}"
    );
    assert!(
        deleted.contains("the tunnel could not be released (injected task failure)"),
        "{deleted}"
    );
    assert!(
        r.stdout.contains(
            "tencentcloud_vpn_connection.after_first: skipped because tencentcloud_vpn_connection.first failed"
        ),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout
            .contains("tencentcloud_vpn_connection.after_first: Creating"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("1 dependent operation(s) were skipped"),
        "{}",
        r.stderr
    );

    // The state says exactly what exists: the tunnel whose deletion failed is still there and
    // still in state; the tunnel whose creation failed is in neither.
    let ids = w.state_ids();
    assert_eq!(
        ids.keys().map(String::as_str).collect::<Vec<_>>(),
        vec![
            "tencentcloud_vpn_connection.old",
            "tencentcloud_vpn_customer_gateway.a",
            "tencentcloud_vpn_customer_gateway.b",
            "tencentcloud_vpn_gateway.one",
            "tencentcloud_vpn_gateway.two",
        ]
    );
    assert_eq!(ids["tencentcloud_vpn_connection.old"], old);
    let mut from_state: Vec<String> = ids.values().cloned().collect();
    from_state.sort();
    assert_eq!(failing.cloud().all_ids(REGION), from_state);
    let plan = w.plan(&[]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 2 to add, 0 to change, 1 to destroy."),
        "{}",
        plan.stdout
    );

    // Once tasks succeed again, one apply finishes the work.
    drop(failing);
    let healed = SandboxProc::start(50, &["--data", data_arg]);
    w.endpoint = Some(healed.url.clone());
    w.apply(&[]).success();
    let cloud = healed.cloud();
    let names: Vec<String> = cloud
        .connections(REGION)
        .into_iter()
        .map(|c| c.vpn_connection_name)
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, vec!["after_first", "first"]);
    w.assert_no_changes(&[]);
}
