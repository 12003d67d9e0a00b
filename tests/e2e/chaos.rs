//! Chaos: an apply (or destroy) of about 50 tunnels is killed with SIGKILL at a moment chosen by a
//! seed, then run again to completion; after every round nothing may be lost, duplicated, or
//! touched that is not this configuration's.
//!
//! Rounds cycle through four phases so that kills land in creates, in-place modifications,
//! deletions mixed with modifications, and a destroy:
//!
//! | phase   | configuration                                 | command |
//! |---------|-----------------------------------------------|---------|
//! | create  | 3 gateways, 17 offices, 51 tunnels, DPD 30 s  | apply   |
//! | modify  | gateways renamed, DPD 45 s on every tunnel    | apply   |
//! | shrink  | 5 offices and their 15 tunnels removed, DPD 30 | apply  |
//! | destroy | (the shrunk configuration)                    | destroy |
//!
//! Each round's seed picks the k-th progress line after which the process is killed (k = 0: right
//! after the plan is printed, before any step), and in some rounds the run that recovers is killed
//! too, at its own k-th line. A foreign project using the very same addresses (another state in
//! another directory) exists from the start and must never be touched.
//!
//! After every kill: the state file still loads, the journal is whole (every record parses and
//! follows its operation's intent), and none of this project's objects exists twice. After every
//! round: the state loads, the journal is empty, exactly the configuration's objects exist once
//! each (found by name and `tunnelform:project` tag) with the configured values and the ids the
//! state records, the foreign objects are unchanged, and a plan shows no changes.
//!
//! `TUNNELFORM_CHAOS_ROUNDS=N` runs N rounds instead of the default (the seeds stay deterministic).

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{Running, SandboxProc, Work};
use tunnelform_tencent_api::vpc::Tag;

const REGION: &str = "ap-guangzhou";
const DEFAULT_ROUNDS: usize = 8;
const OFFICES: usize = 17;
const SHRUNK_OFFICES: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Create,
    Modify,
    Shrink,
    Destroy,
}

const PHASES: [Phase; 4] = [Phase::Create, Phase::Modify, Phase::Shrink, Phase::Destroy];

/// What a configuration asks for.
#[derive(Debug, Clone)]
struct Target {
    /// Object names are `<prefix>-...`.
    prefix: &'static str,
    gateways: Vec<&'static str>,
    offices: usize,
    /// First octets of the offices' public IPs (`<net>.<10 + i>`).
    net: &'static str,
    dpd: u32,
    /// Suffix of the VPN gateways' names.
    gw_suffix: &'static str,
}

impl Target {
    fn ours(phase: Phase) -> Target {
        let (offices, dpd, gw_suffix) = match phase {
            Phase::Create => (OFFICES, 30, ""),
            Phase::Modify => (OFFICES, 45, "-v2"),
            Phase::Shrink | Phase::Destroy => (SHRUNK_OFFICES, 30, ""),
        };
        Target {
            prefix: "chaos",
            gateways: vec!["a", "b", "c"],
            offices,
            net: "198.51.100",
            dpd,
            gw_suffix,
        }
    }

    fn office_keys(&self) -> Vec<String> {
        (0..self.offices).map(|i| format!("o{i}")).collect()
    }

    fn tunnel_keys(&self) -> Vec<String> {
        let mut v = Vec::new();
        for g in &self.gateways {
            for o in self.office_keys() {
                v.push(format!("{g}-{o}"));
            }
        }
        v
    }

    fn config(&self) -> String {
        let mut offices = String::new();
        for i in 0..self.offices {
            offices.push_str(&format!(
                "    o{i} = {{ ip = \"{}.{}\", cidr = \"192.168.{i}.0/24\" }}\n",
                self.net,
                10 + i
            ));
        }
        let mut tunnels = String::new();
        for g in &self.gateways {
            for i in 0..self.offices {
                tunnels.push_str(&format!(
                    "    \"{g}-o{i}\" = {{ gw = \"{g}\", office = \"o{i}\" }}\n"
                ));
            }
        }
        let gateways = self
            .gateways
            .iter()
            .map(|g| format!("\"{g}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let p = self.prefix;
        format!(
            r#"
locals {{
  offices = {{
{offices}  }}
  tunnels = {{
{tunnels}  }}
}}

resource "tencentcloud_vpn_gateway" "gw" {{
  for_each = toset([{gateways}])
  name     = "{p}-${{each.key}}{suffix}"
  vpc_id   = "vpc-sandbox1"
}}

resource "tencentcloud_vpn_customer_gateway" "office" {{
  for_each          = local.offices
  name              = "{p}-${{each.key}}"
  public_ip_address = each.value.ip
}}

resource "tencentcloud_vpn_connection" "t" {{
  for_each            = local.tunnels
  name                = "{p}-${{each.key}}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw[each.value.gw].id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.office[each.value.office].id
  pre_share_key       = "chaos-key"
  dpd_timeout         = {dpd}
  security_group_policy {{
    local_cidr_block  = "10.0.0.0/24"
    remote_cidr_block = [local.offices[each.value.office].cidr]
  }}
}}
"#,
            suffix = self.gw_suffix,
            dpd = self.dpd,
        )
    }

    /// Address -> expected name, for every object of the configuration.
    fn expected(&self) -> BTreeMap<String, String> {
        let p = self.prefix;
        let mut m = BTreeMap::new();
        for g in &self.gateways {
            m.insert(
                format!("tencentcloud_vpn_gateway.gw[\"{g}\"]"),
                format!("{p}-{g}{}", self.gw_suffix),
            );
        }
        for o in self.office_keys() {
            m.insert(
                format!("tencentcloud_vpn_customer_gateway.office[\"{o}\"]"),
                format!("{p}-{o}"),
            );
        }
        for t in self.tunnel_keys() {
            m.insert(
                format!("tencentcloud_vpn_connection.t[\"{t}\"]"),
                format!("{p}-{t}"),
            );
        }
        m
    }
}

/// A deterministic 64-bit mix (splitmix64) of the round's seed.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn is_progress(line: &str) -> bool {
    line.starts_with("tencentcloud_")
        && (line.ends_with("...")
            || line.contains(" complete after ")
            || line.contains(" failed after "))
}

fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key == key).map(|t| t.value.as_str())
}

/// One object in the cloud, as the invariants look at it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Obj {
    id: String,
    name: String,
    project: Option<String>,
    /// DPD timeout of a tunnel.
    dpd: Option<String>,
}

fn cloud_objects(sb: &SandboxProc) -> Vec<Obj> {
    let cloud = sb.cloud();
    let mut v = Vec::new();
    for c in cloud.connections(REGION) {
        v.push(Obj {
            project: tag(&c.tag_set, "tunnelform:project").map(str::to_string),
            id: c.vpn_connection_id,
            name: c.vpn_connection_name,
            dpd: Some(c.dpd_timeout),
        });
    }
    for g in cloud.gateways(REGION) {
        v.push(Obj {
            project: tag(
                g.tag_set.as_deref().unwrap_or_default(),
                "tunnelform:project",
            )
            .map(str::to_string),
            id: g.vpn_gateway_id,
            name: g.vpn_gateway_name,
            dpd: None,
        });
    }
    for c in cloud.customer_gateways(REGION) {
        v.push(Obj {
            project: tag(
                c.tag_set.as_deref().unwrap_or_default(),
                "tunnelform:project",
            )
            .map(str::to_string),
            id: c.customer_gateway_id,
            name: c.customer_gateway_name,
            dpd: None,
        });
    }
    v.sort();
    v
}

/// The state loads (through the binary's own reader) and lists exactly what the file holds; a
/// run killed before its first write leaves no state file, which `state list` says.
fn check_state_loads(w: &Work, ctx: &str) {
    let r = w.tf(&["state", "list", "--dir", "cfg"]);
    if w.state_path().exists() {
        assert_eq!(
            r.code(),
            Some(0),
            "{ctx}: the state does not load:\n{}",
            r.stderr
        );
        let listed: BTreeSet<String> = r.stdout.lines().map(str::to_string).collect();
        let in_file: BTreeSet<String> = w.state_ids().into_keys().collect();
        assert_eq!(listed, in_file, "{ctx}");
    } else {
        assert_eq!(r.code(), Some(1), "{ctx}:\n{}", r.stderr);
        assert!(
            r.stderr.contains("No state file at state/cfg.tfstate.json"),
            "{ctx}:\n{}",
            r.stderr
        );
        assert_eq!(r.stdout.trim(), "", "{ctx}");
    }
}

/// The journal's records, checked: every complete line is JSON, the first is the header, every
/// later record names an operation whose intent came before, and nothing follows an outcome. A
/// partial last line (a kill during an append) is allowed. Returns how many operations are open
/// and how many there are.
fn check_journal(w: &Work, ctx: &str) -> (usize, usize) {
    let path = std::path::PathBuf::from(format!("{}.journal", w.state_path().display()));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return (0, 0);
    };
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    let mut open: BTreeSet<String> = BTreeSet::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    for (i, line) in complete.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{ctx}: journal line {} is not JSON ({e}): {line}", i + 1));
        if i == 0 {
            assert_eq!(v["format"], "tunnelform-journal", "{ctx}: {line}");
            continue;
        }
        let op = v["op_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{ctx}: no op_id: {line}"))
            .to_string();
        assert!(
            !finished.contains(&op),
            "{ctx}: record after an outcome: {line}"
        );
        match v["record"].as_str() {
            Some("intent") => {
                assert!(open.insert(op), "{ctx}: a second intent: {line}");
            }
            Some("sent") => assert!(open.contains(&op), "{ctx}: no intent before: {line}"),
            Some("outcome") => {
                assert!(open.remove(&op), "{ctx}: no intent before: {line}");
                finished.insert(op);
            }
            other => panic!("{ctx}: unknown record {other:?}: {line}"),
        }
    }
    (open.len(), open.len() + finished.len())
}

/// After a kill: nothing of this project exists twice, the foreign objects are untouched, the
/// state loads and the journal is whole. Returns how many operations the journal holds.
fn check_after_kill(
    w: &Work,
    sb: &SandboxProc,
    foreign: &[Obj],
    project: &str,
    ctx: &str,
) -> usize {
    check_state_loads(w, ctx);
    let (_, ops) = check_journal(w, ctx);
    let all = cloud_objects(sb);
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for o in all.iter().filter(|o| o.project.as_deref() == Some(project)) {
        *names.entry(o.name.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = names.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{ctx}: duplicates {twice:?}");
    for f in foreign {
        assert!(
            all.contains(f),
            "{ctx}: foreign object changed or gone: {f:?}"
        );
    }
    ops
}

/// Describe calls of every kind counted by the sandbox so far.
fn describes(sb: &SandboxProc) -> u64 {
    let stats = sb.stats();
    [
        "DescribeVpnConnections",
        "DescribeVpnGateways",
        "DescribeCustomerGateways",
    ]
    .iter()
    .map(|a| stats["requests"][a].as_u64().unwrap_or(0))
    .sum()
}

/// After a round: exactly the target's objects exist, once each, as configured, in state.
fn check_converged(
    w: &Work,
    sb: &SandboxProc,
    foreign: &[Obj],
    project: &str,
    target: Option<&Target>,
    ctx: &str,
) {
    check_state_loads(w, ctx);
    assert_eq!(check_journal(w, ctx).0, 0, "{ctx}: operations left open");
    let journal = std::path::PathBuf::from(format!("{}.journal", w.state_path().display()));
    if let Ok(text) = std::fs::read_to_string(&journal) {
        assert!(
            text.lines().count() <= 1,
            "{ctx}: journal not emptied:\n{text}"
        );
    }
    let all = cloud_objects(sb);
    let state = w.state_ids();
    let foreign_ids: BTreeSet<&str> = foreign.iter().map(|f| f.id.as_str()).collect();
    for f in foreign {
        assert!(
            all.contains(f),
            "{ctx}: foreign object changed or gone: {f:?}"
        );
    }
    // Everything in the cloud is in the state, or foreign; everything in the state exists.
    let mut want: Vec<&str> = state
        .values()
        .map(String::as_str)
        .chain(foreign_ids.iter().copied())
        .collect();
    want.sort();
    let have: Vec<&str> = all.iter().map(|o| o.id.as_str()).collect();
    let mut have_sorted = have.clone();
    have_sorted.sort();
    assert_eq!(have_sorted, want, "{ctx}: cloud vs state + foreign");
    let expected = target.map(Target::expected).unwrap_or_default();
    assert_eq!(
        state.keys().cloned().collect::<BTreeSet<_>>(),
        expected.keys().cloned().collect::<BTreeSet<_>>(),
        "{ctx}: addresses in state"
    );
    // Each object of the configuration exists exactly once, by name and project tag, with the id
    // the state records.
    let ours: Vec<&Obj> = all
        .iter()
        .filter(|o| !foreign_ids.contains(o.id.as_str()))
        .collect();
    assert_eq!(ours.len(), expected.len(), "{ctx}: {ours:#?}");
    for (addr, name) in &expected {
        let found: Vec<&&Obj> = ours.iter().filter(|o| &o.name == name).collect();
        assert_eq!(found.len(), 1, "{ctx}: {name}: {found:?}");
        let o = found[0];
        assert_eq!(o.project.as_deref(), Some(project), "{ctx}: {o:?}");
        assert_eq!(state[addr], o.id, "{ctx}: {addr}");
        if let (Some(t), Some(dpd)) = (target, &o.dpd) {
            assert_eq!(dpd, &t.dpd.to_string(), "{ctx}: {o:?}");
        }
    }
    // Nothing left to do.
    let r = match target {
        Some(_) => w.plan(&["--detailed-exitcode"]),
        None => w.plan(&["--destroy", "--detailed-exitcode"]),
    };
    assert_eq!(
        r.code(),
        Some(0),
        "{ctx}: the plan after the round is not empty:\n{}\n{}",
        r.stdout,
        r.stderr
    );
    assert!(r.stdout.contains("No changes."), "{ctx}:\n{}", r.stdout);
}

/// Runs `args` and kills it after its `k`-th progress line (k = 0: once the plan is printed).
/// Returns whether it was killed before finishing.
fn run_and_kill(w: &Work, args: &[&str], k: usize) -> bool {
    let mut run = Running::spawn(w, args, &[]);
    let reached = if k == 0 {
        run.wait_for_count(1, |l| {
            l.starts_with("Plan: ") || l.starts_with("No changes.")
        })
    } else {
        run.wait_for_count(k, is_progress)
    };
    let (status, out, err) = run.kill();
    if status.code().is_some() {
        // It finished before the kill: then it must have finished well.
        assert_eq!(
            status.code(),
            Some(0),
            "`{}` failed:\n{out}\n{err}",
            args.join(" ")
        );
    }
    reached && status.code().is_none()
}

/// Another project with the same addresses, applied first from another directory: its work
/// directory and its three objects.
fn foreign_project(sb: &SandboxProc) -> (Work, Vec<Obj>) {
    let other = Work::with_sandbox(sb);
    other.config(
        &Target {
            prefix: "foreign",
            gateways: vec!["a"],
            offices: 1,
            net: "203.0.113",
            dpd: 40,
            gw_suffix: "",
        }
        .config(),
    );
    other.apply(&[]).success();
    let foreign = cloud_objects(sb);
    assert_eq!(foreign.len(), 3, "{foreign:?}");
    (other, foreign)
}

/// The project id of `w`'s state (its absolute path: no Git repository around it).
fn project_of(w: &Work) -> String {
    w.path()
        .canonicalize()
        .unwrap()
        .join("state/cfg.tfstate.json")
        .to_string_lossy()
        .into_owned()
}

/// About how many progress lines a phase's run prints (two per step).
fn progress_lines(phase: Phase) -> usize {
    match phase {
        Phase::Create => 2 * (3 + OFFICES + 3 * OFFICES),
        Phase::Modify => 2 * (3 + 3 * OFFICES),
        Phase::Shrink => 2 * (3 + 3 * OFFICES + (OFFICES - SHRUNK_OFFICES)),
        Phase::Destroy => 2 * (3 + SHRUNK_OFFICES + 3 * SHRUNK_OFFICES),
    }
}

fn command_of(phase: Phase) -> &'static [&'static str] {
    match phase {
        Phase::Destroy => &["destroy", "cfg", "--auto-approve"],
        _ => &["apply", "cfg", "--auto-approve"],
    }
}

/// The run that ends a round (uninterrupted) must succeed, and leave the round converged.
fn finish_round(
    w: &Work,
    sb: &SandboxProc,
    foreign: &[Obj],
    project: &str,
    phase: Phase,
    target: &Target,
    ctx: &str,
) {
    let done = match phase {
        Phase::Destroy => w.destroy(&[]),
        _ => w.apply(&[]),
    };
    assert_eq!(
        done.code(),
        Some(0),
        "{ctx}: the run that ends the round failed:\n{}\n{}",
        done.stdout,
        done.stderr
    );
    let target = (phase != Phase::Destroy).then_some(target);
    check_converged(w, sb, foreign, project, target, ctx);
}

#[test]
fn sigkill_at_any_moment_loses_nothing_duplicates_nothing_and_touches_nothing_foreign() {
    let rounds: usize = std::env::var("TUNNELFORM_CHAOS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    let sb = SandboxProc::start(20, &["--seed", "11"]);
    let (other, foreign) = foreign_project(&sb);
    let w = Work::with_sandbox(&sb);
    let project = project_of(&w);
    let mut killed = 0;
    let mut kills_in_recovery = 0;
    // (journal operations, describe calls) of the largest journal a plan settled.
    let mut max_calls = (0, 0);
    for round in 0..rounds {
        let phase = PHASES[round % PHASES.len()];
        let target = Target::ours(phase);
        w.config(&target.config());
        let args = command_of(phase);
        let lines = progress_lines(phase);
        let r = mix(0xC4A0_5EED ^ round as u64);
        let k = (r % (lines as u64 + 1)) as usize;
        let ctx = format!("round {round} ({phase:?}, killed after progress line {k})");
        if run_and_kill(&w, args, k) {
            killed += 1;
        }
        let ops = check_after_kill(&w, &sb, &foreign, &project, &ctx);
        // A plan settles the journal in memory: the objects it names are read in batches (a few
        // calls for refresh, recovery and its waits), not one call per operation.
        if ops >= 30 {
            let before = describes(&sb);
            let plan = w.plan(&[]);
            assert_eq!(plan.code(), Some(0), "{ctx}:\n{}", plan.stderr);
            let calls = describes(&sb) - before;
            max_calls = max_calls.max((ops, calls));
            assert!(
                calls <= 20,
                "{ctx}: {calls} describe calls to settle {ops} operations"
            );
        }
        // In a third of the rounds, the run that recovers is killed too.
        if (r >> 32).is_multiple_of(3) {
            let k2 = ((r >> 40) % (lines as u64 / 2 + 1)) as usize;
            let ctx2 = format!("{ctx}, recovery killed after line {k2}");
            if run_and_kill(&w, args, k2) {
                kills_in_recovery += 1;
            }
            check_after_kill(&w, &sb, &foreign, &project, &ctx2);
        }
        finish_round(&w, &sb, &foreign, &project, phase, &target, &ctx);
    }
    eprintln!(
        "chaos: {rounds} rounds, {killed} killed mid-run, {kills_in_recovery} recoveries killed; the largest journal settled by a plan: {} operations in {} describe calls",
        max_calls.0, max_calls.1
    );
    // The seeds must actually interrupt work (not only let it finish).
    assert!(
        killed * 2 >= rounds,
        "only {killed} of {rounds} rounds were killed mid-run"
    );
    // The foreign project still has nothing to do.
    other.assert_no_changes(&[]);
}

/// What a CI runner's checkout has of the state: the version committed to Git (`None`: none yet),
/// and no journal, backup or lock (those died with the runner that wrote them).
fn checkout_state(w: &Work, committed: Option<&[u8]>) {
    let p = w.state_path();
    for suffix in ["", ".backup", ".journal", ".lock"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
    if let Some(bytes) = committed {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
    }
}

/// The GitOps flow with ephemeral runners: every run starts from the state committed to Git, and
/// a runner killed mid-apply takes its state changes and its journal with it. The next runner (or
/// two more, each killed too) starts from the same stale state; the merge job commits the state
/// of the run that finished, except in some rounds where that commit is reverted. Whatever the
/// kill moment, no object of this project ever exists twice, and after each round exactly the
/// configuration's objects exist, all in the state (no orphan), the foreign ones untouched.
#[test]
fn runners_killed_at_any_moment_with_the_state_from_git_duplicate_nothing_and_orphan_nothing() {
    let rounds: usize = std::env::var("TUNNELFORM_CHAOS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    let sb = SandboxProc::start(20, &["--seed", "12"]);
    let (other, foreign) = foreign_project(&sb);
    let w = Work::with_sandbox(&sb);
    let project = project_of(&w);
    // The state as committed to Git.
    let mut committed: Option<Vec<u8>> = None;
    let (mut killed, mut reverted) = (0, 0);
    for round in 0..rounds {
        let phase = PHASES[round % PHASES.len()];
        let target = Target::ours(phase);
        w.config(&target.config());
        let args = command_of(phase);
        let lines = progress_lines(phase) as u64;
        let r = mix(0x5_7A1E_5EED ^ round as u64);
        // One, two or three runners are killed, each starting from the committed state.
        let kills = 1 + (r >> 56) % 3;
        for n in 0..kills {
            let k = ((r >> (n * 16)) % (lines + 1)) as usize;
            let ctx = format!("round {round} ({phase:?}), runner {n} killed after line {k}");
            checkout_state(&w, committed.as_deref());
            if run_and_kill(&w, args, k) {
                killed += 1;
            }
            check_after_kill(&w, &sb, &foreign, &project, &ctx);
        }
        let ctx = format!("round {round} ({phase:?}) after {kills} killed runner(s)");
        checkout_state(&w, committed.as_deref());
        finish_round(&w, &sb, &foreign, &project, phase, &target, &ctx);
        // The merge job commits the state; in every third round that commit is reverted.
        if (r >> 48) % 3 == 0 {
            reverted += 1;
        } else {
            committed = Some(std::fs::read(w.state_path()).unwrap());
        }
    }
    eprintln!(
        "chaos (state from git): {rounds} rounds, {killed} runners killed mid-run, {reverted} commits reverted"
    );
    assert!(
        killed >= rounds,
        "only {killed} runners were killed mid-run in {rounds} rounds"
    );
    other.assert_no_changes(&[]);
}
