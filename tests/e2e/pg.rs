//! The PostgreSQL backend through the binary, against a real server: a throwaway cluster started
//! here (initdb in a temporary directory, a free 127.0.0.1 port, password authentication), shared
//! by the tests (each in its own schema), and one of its own for the test that restarts it.
//!
//! Without PostgreSQL server binaries these tests are reported as ignored, with the reason; CI
//! (`.ci/run`) installs them and fails when they did not run.

#![cfg_attr(not(pg_binaries), allow(unused))]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tunnelform_state_pg::testing::{Cluster, PASSWORD};

use crate::common::{run_in, Run, Running, SandboxProc, Work};

const REGION: &str = "ap-guangzhou";
const PSK: &str = "psk-PG-LEAK-9c1e";

fn cluster() -> &'static Cluster {
    static C: OnceLock<Cluster> = OnceLock::new();
    C.get_or_init(Cluster::start)
}

/// A working directory whose configuration keeps its state in `schema` of `cluster`.
struct PgWork {
    work: Work,
    env: Vec<(String, String)>,
}

fn backend_block(cluster: &Cluster, schema: &str) -> String {
    format!(
        "terraform {{\n  backend \"pg\" {{\n    conn_str    = \"{}\"\n    schema_name = \"{schema}\"\n  }}\n}}\n",
        cluster.conn_str("disable")
    )
}

/// `n` tunnels from one gateway to `n` offices (`net.10`, `net.11`...).
fn tunnels(prefix: &str, net: &str, n: usize) -> String {
    let mut offices = String::new();
    for i in 0..n {
        offices.push_str(&format!(
            "    o{i} = {{ ip = \"{net}.{}\", cidr = \"192.168.{i}.0/24\" }}\n",
            10 + i
        ));
    }
    format!(
        r#"
locals {{
  offices = {{
{offices}  }}
}}

resource "tencentcloud_vpn_gateway" "gw" {{
  name   = "{prefix}-gw"
  vpc_id = "vpc-sandbox1"
}}

resource "tencentcloud_vpn_customer_gateway" "office" {{
  for_each          = local.offices
  name              = "{prefix}-${{each.key}}"
  public_ip_address = each.value.ip
}}

resource "tencentcloud_vpn_connection" "t" {{
  for_each            = local.offices
  name                = "{prefix}-${{each.key}}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.office[each.key].id
  pre_share_key       = "{PSK}"
  security_group_policy {{
    local_cidr_block  = "10.0.0.0/24"
    remote_cidr_block = [each.value.cidr]
  }}
}}

output "gateway" {{
  value = tencentcloud_vpn_gateway.gw.id
}}
"#
    )
}

impl PgWork {
    fn new(sb: &SandboxProc, cluster: &Cluster, schema: &str, resources: &str) -> PgWork {
        let work = Work::with_sandbox(sb);
        work.config(&format!("{}{resources}", backend_block(cluster, schema)));
        PgWork {
            work,
            env: vec![("PGPASSWORD".into(), PASSWORD.into())],
        }
    }

    fn with_env(mut self, k: &str, v: &str) -> PgWork {
        self.env.push((k.into(), v.into()));
        self
    }

    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = args.to_vec();
        if let Some(e) = &self.work.endpoint {
            all.push("--endpoint");
            all.push(e);
        }
        all
    }

    fn env(&self) -> Vec<(&str, &str)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    fn tf(&self, args: &[&str]) -> Run {
        run_in(self.work.path(), &self.args(args), &self.env())
    }

    fn tf_env(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let mut env = self.env();
        env.extend_from_slice(extra);
        run_in(self.work.path(), &self.args(args), &env)
    }

    fn spawn(&self, args: &[&str]) -> Running {
        // `Running::spawn` adds the endpoint itself.
        Running::spawn(&self.work, args, &self.env())
    }

    fn addresses(&self) -> Vec<String> {
        let r = self.tf(&["state", "list", "--dir", "cfg"]);
        r.success();
        r.stdout.lines().map(str::to_string).collect()
    }

    /// The state as `state pull` prints it.
    fn pulled(&self) -> serde_json::Value {
        let r = self.tf(&["state", "pull", "--dir", "cfg"]);
        r.success();
        serde_json::from_str(&r.stdout).expect("state pull prints a state")
    }

    fn state_ids(&self) -> BTreeMap<String, String> {
        self.pulled()["resources"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(a, r)| (a.clone(), r["id"].as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[track_caller]
    fn assert_no_changes(&self) {
        let r = self.tf(&["plan", "cfg", "--detailed-exitcode"]);
        r.expect_code(0);
        assert!(r.stdout.contains("No changes."), "{}", r.stdout);
    }
}

/// One tunnel applied on a pg state of its own (`schema`): the work and the tunnel's id.
fn one_tunnel_applied(sb: &SandboxProc, schema: &str, prefix: &str) -> (PgWork, String) {
    let w = PgWork::new(sb, cluster(), schema, &tunnels(prefix, "198.51.100", 1));
    w.tf(&["apply", "cfg", "--auto-approve"]).success();
    let id = w.state_ids()["tencentcloud_vpn_connection.t[\"o0\"]"].clone();
    (w, id)
}

/// Two auto-applying watchers of `w`: the first once it leads, the second once it follows (with
/// its `follower` event), each with its metrics address.
fn leader_and_follower(w: &PgWork) -> (Running, String, Running, String, serde_json::Value) {
    let (mut a, addr_a) = auto_applying_watcher(w);
    crate::watch::wait_event(&mut a, "leader_acquired", None);
    let (mut b, addr_b) = auto_applying_watcher(w);
    let follower = crate::watch::wait_event(&mut b, "follower", None);
    (a, addr_a, b, addr_b, follower)
}

/// A `watch --auto-apply` of `w`'s configuration every second, with its metrics on an ephemeral
/// loopback port: the process and that address, once it has started.
fn auto_applying_watcher(w: &PgWork) -> (Running, String) {
    let mut r = w.spawn(&[
        "watch",
        "cfg",
        "--interval",
        "1s",
        "--listen",
        "127.0.0.1:0",
        "--auto-apply",
    ]);
    let addr = crate::watch::wait_event(&mut r, "started", None)["listen"]
        .as_str()
        .expect("listen")
        .to_string();
    (r, addr)
}

/// Every object in the sandbox's region: (id, name).
fn cloud_objects(sb: &SandboxProc) -> Vec<(String, String)> {
    let cloud = sb.cloud();
    let mut v: Vec<(String, String)> = Vec::new();
    v.extend(
        cloud
            .connections(REGION)
            .into_iter()
            .map(|c| (c.vpn_connection_id, c.vpn_connection_name)),
    );
    v.extend(
        cloud
            .gateways(REGION)
            .into_iter()
            .map(|g| (g.vpn_gateway_id, g.vpn_gateway_name)),
    );
    v.extend(
        cloud
            .customer_gateways(REGION)
            .into_iter()
            .map(|c| (c.customer_gateway_id, c.customer_gateway_name)),
    );
    v.sort();
    v
}

/// No name twice among the objects whose names start with `prefix`; returns their ids.
#[track_caller]
fn assert_no_duplicates(sb: &SandboxProc, prefix: &str, ctx: &str) -> BTreeSet<String> {
    let objs: Vec<(String, String)> = cloud_objects(sb)
        .into_iter()
        .filter(|(_, n)| n.starts_with(&format!("{prefix}-")))
        .collect();
    let mut names = BTreeMap::new();
    for (id, n) in &objs {
        // A tunnel and its customer gateway share a name; a kind's objects must not.
        let kind = id.split('-').next().unwrap_or_default().to_string();
        if let Some(other) = names.insert((kind, n.clone()), id.clone()) {
            panic!("{ctx}: {n} exists twice ({other} and {id}): {objs:?}");
        }
    }
    objs.into_iter().map(|(id, _)| id).collect()
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn plan_apply_show_and_destroy_keep_the_state_in_postgres_and_no_secret_anywhere() {
    let c = cluster();
    let sb = SandboxProc::start(0, &[]);
    let w = PgWork::new(&sb, c, "lifecycle", &tunnels("life", "198.51.100", 3));
    let trace = [("TUNNELFORM_LOG", "trace")];
    let plan = w.tf_env(&["plan", "cfg", "--out", "p.json"], &trace);
    plan.success();
    assert!(plan.stdout.contains("Plan: 7 to add"), "{}", plan.stdout);
    let apply = w.tf_env(&["apply", "p.json"], &trace);
    apply.success();
    // Nothing on disk: the state, its journal and its lock are in the database.
    assert!(!w.work.path().join("state/cfg.tfstate.json").exists());
    assert!(!w
        .work
        .path()
        .join("state/cfg.tfstate.json.journal")
        .exists());
    let addrs = w.addresses();
    assert_eq!(addrs.len(), 7, "{addrs:?}");
    let ids = w.state_ids();
    let cloud = assert_no_duplicates(&sb, "life", "after apply");
    assert_eq!(ids.values().cloned().collect::<BTreeSet<_>>(), cloud);
    w.assert_no_changes();
    let show = w.tf(&[
        "state",
        "show",
        "tencentcloud_vpn_connection.t[\"o1\"]",
        "--dir",
        "cfg",
    ]);
    show.success();
    assert!(
        show.stdout.contains("pre_share_key = (sensitive value)"),
        "{}",
        show.stdout
    );
    let out = w.tf(&["output", "gateway", "--dir", "cfg"]);
    out.success();
    assert_eq!(out.stdout.trim(), ids["tencentcloud_vpn_gateway.gw"]);
    // state rm then import: the row goes and comes back.
    let t2 = "tencentcloud_vpn_connection.t[\"o2\"]";
    w.tf(&["state", "rm", t2, "--dir", "cfg"]).success();
    assert_eq!(w.addresses().len(), 6);
    w.tf(&["import", t2, &ids[t2], "--dir", "cfg"]).success();
    assert_eq!(w.state_ids()[t2], ids[t2]);
    // Drift: a tunnel changed in the console is seen, accepted into the state, then undone.
    let t0 = "tencentcloud_vpn_connection.t[\"o0\"]";
    sb.cloud()
        .modify_connection(REGION, &ids[t0], "changed-in-console", 45);
    w.tf(&["plan", "cfg", "--refresh-only", "--detailed-exitcode"])
        .expect_code(2);
    w.tf(&["apply", "cfg", "--refresh-only", "--auto-approve"])
        .success();
    w.tf(&["plan", "cfg", "--refresh-only", "--detailed-exitcode"])
        .expect_code(0);
    assert!(w
        .tf(&["state", "show", t0, "--dir", "cfg"])
        .stdout
        .contains("changed-in-console"));
    w.tf(&["apply", "cfg", "--auto-approve"]).success();
    w.assert_no_changes();
    // The pre-shared key is kept as a salted digest only; the password nowhere.
    let rows = c.psql("SELECT string_agg(body, '') FROM lifecycle.resources");
    assert!(
        rows.contains("hmac-sha256:") && !rows.contains(PSK),
        "{rows}"
    );
    let destroy = w.tf_env(&["destroy", "cfg", "--auto-approve"], &trace);
    destroy.success();
    assert!(assert_no_duplicates(&sb, "life", "after destroy").is_empty());
    assert!(w.addresses().is_empty());
    for r in [&plan, &apply, &destroy] {
        assert!(
            r.stderr.contains("TRACE") || r.stderr.contains("DEBUG"),
            "no trace logs: {}",
            r.stderr
        );
        for text in [&r.stdout, &r.stderr] {
            assert!(!text.contains(PASSWORD), "the password leaked: {text}");
            assert!(!text.contains(PSK), "the pre-shared key leaked: {text}");
        }
    }
    let saved = std::fs::read_to_string(w.work.path().join("p.json")).unwrap();
    assert!(!saved.contains(PSK) && !saved.contains(PASSWORD));
    // --backend-config wins over the block: another schema is another (empty) state.
    let other = w.tf(&[
        "state",
        "list",
        "--dir",
        "cfg",
        "--backend-config",
        "schema_name=elsewhere",
    ]);
    other.expect_code(1);
    assert!(
        other.stderr.contains("No state in pg:elsewhere/default"),
        "{}",
        other.stderr
    );
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn two_applies_racing_one_proceeds_and_the_other_names_the_holder() {
    let c = cluster();
    let sb = SandboxProc::start(150, &[]);
    let a = PgWork::new(&sb, c, "race", &tunnels("race", "198.51.101", 3));
    // Runner B: another checkout of the same configuration.
    let b = PgWork::new(&sb, c, "race", &tunnels("race", "198.51.101", 3));
    let mut first = a.spawn(&["apply", "cfg", "--auto-approve"]);
    first.wait_for_line("Plan: ");
    let second = b.tf(&["apply", "cfg", "--auto-approve"]);
    second.expect_code(1);
    let e = &second.stderr;
    assert!(e.contains("the state pg:race/default is locked by"), "{e}");
    assert!(
        e.contains("operation \"apply\"") && e.contains("lock id ") && e.contains("since "),
        "{e}"
    );
    assert!(e.contains("--lock-timeout"), "{e}");
    let (status, out, err) = first.finish();
    assert!(status.success(), "{out}\n{err}");
    // With --lock-timeout, the second waits for the first, saying for whom, then proceeds.
    let mut first = a.spawn(&["destroy", "cfg", "--auto-approve"]);
    first.wait_for_line("Plan: ");
    let waited = b.tf(&["plan", "cfg", "--lock-timeout", "60s"]);
    waited.success();
    assert!(
        waited
            .stderr
            .contains("Waiting for the state lock on pg:race/default"),
        "{}",
        waited.stderr
    );
    assert!(
        waited.stderr.contains("operation \"destroy\""),
        "{}",
        waited.stderr
    );
    let (status, out, err) = first.finish();
    assert!(status.success(), "{out}\n{err}");
    b.tf(&["apply", "cfg", "--auto-approve"]).success();
    assert_no_duplicates(&sb, "race", "after the race");
    b.assert_no_changes();
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn eight_runners_apply_eight_workspaces_at_once() {
    let c = cluster();
    let sb = SandboxProc::start(20, &[]);
    let runners: Vec<PgWork> = (0..8)
        .map(|i| {
            PgWork::new(
                &sb,
                c,
                "fleet",
                &tunnels(&format!("ws{i}"), &format!("203.0.{}", 100 + i), 2),
            )
            .with_env("TF_WORKSPACE", &format!("site-{i}"))
        })
        .collect();
    let start = Instant::now();
    let running: Vec<Running> = runners
        .iter()
        .map(|r| r.spawn(&["apply", "cfg", "--auto-approve"]))
        .collect();
    for (i, run) in running.into_iter().enumerate() {
        let (status, out, err) = run.finish();
        assert!(status.success(), "runner {i}:\n{out}\n{err}");
    }
    assert!(start.elapsed() < Duration::from_secs(60));
    let mut all_ids = BTreeSet::new();
    for (i, r) in runners.iter().enumerate() {
        let ids = r.state_ids();
        assert_eq!(ids.len(), 5, "workspace site-{i}: {ids:?}");
        let cloud = assert_no_duplicates(&sb, &format!("ws{i}"), "after the fleet");
        assert_eq!(
            ids.values().cloned().collect::<BTreeSet<_>>(),
            cloud,
            "site-{i}"
        );
        all_ids.extend(cloud);
    }
    assert_eq!(all_ids.len(), 40);
    let listed = c.psql("SELECT string_agg(workspace, ',' ORDER BY workspace) FROM fleet.states");
    assert_eq!(
        listed.trim(),
        (0..8)
            .map(|i| format!("site-{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    runners[3].assert_no_changes();
}

/// A deterministic 64-bit mix (splitmix64).
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

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn a_holder_killed_with_sigkill_frees_the_lock_at_once_and_the_next_runner_recovers_its_journal() {
    let c = cluster();
    let sb = SandboxProc::start(60, &[]);
    let cfg = tunnels("kill", "192.0.2", 6);
    let a = PgWork::new(&sb, c, "killed", &cfg);
    let b = PgWork::new(&sb, c, "killed", &cfg);
    let rounds: u64 = std::env::var("TUNNELFORM_PG_KILL_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    for round in 0..rounds {
        let destroy = round % 2 == 1;
        let cmd: &[&str] = if destroy {
            &["destroy", "cfg", "--auto-approve"]
        } else {
            &["apply", "cfg", "--auto-approve"]
        };
        // Kill runner A after its k-th progress line (k = 0: right after the plan).
        let k = (mix(round) % 10) as usize;
        let mut run = a.spawn(cmd);
        if k == 0 {
            run.wait_for_line("Plan: ");
        } else {
            run.wait_for_count(k, is_progress);
        }
        let (status, out, err) = run.kill();
        assert!(
            status.code().is_none() || status.success(),
            "round {round}: {out}\n{err}"
        );
        let ctx = format!("round {round} (k = {k}, {})", cmd[0]);
        assert_no_duplicates(&sb, "kill", &ctx);
        // Runner B proceeds at once (no lock timeout): the killed session's lock went with it.
        let started = Instant::now();
        let r = b.tf(cmd);
        assert!(
            r.code() == Some(0),
            "{ctx}: runner B failed:\n{}\n{}",
            r.stdout,
            r.stderr
        );
        assert!(started.elapsed() < Duration::from_secs(30), "{ctx}");
        assert!(!r.stderr.contains("locked"), "{ctx}: {}", r.stderr);
        let cloud = assert_no_duplicates(&sb, "kill", &ctx);
        let ids: BTreeSet<String> = b.state_ids().into_values().collect();
        assert_eq!(ids, cloud, "{ctx}: the state and the cloud differ");
        if destroy {
            assert!(cloud.is_empty(), "{ctx}: {cloud:?}");
        } else {
            assert_eq!(cloud.len(), 13, "{ctx}");
        }
        let journal = c.psql("SELECT count(*) FROM killed.journal");
        assert_eq!(journal.trim(), "0", "{ctx}: the journal was not settled");
        if destroy {
            b.tf(&["plan", "cfg", "--destroy", "--detailed-exitcode"])
                .expect_code(0);
        } else {
            b.assert_no_changes();
        }
    }
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn the_server_restarted_in_the_middle_of_an_apply_leaves_a_consistent_state_that_converges() {
    let own = Cluster::start();
    let sb = SandboxProc::start(100, &[]);
    let w = PgWork::new(&sb, &own, "restart", &tunnels("rst", "192.0.2", 5));
    let mut run = w.spawn(&["apply", "cfg", "--auto-approve"]);
    run.wait_for_count(3, is_progress);
    own.restart();
    let (status, out, err) = run.finish();
    // It resumed (connected again, took its lock again) or failed cleanly, saying why.
    eprintln!("the apply across the server's restart exited with {status}");
    if !status.success() {
        assert_eq!(status.code(), Some(1), "{out}\n{err}");
        assert!(
            err.contains("pg backend") || err.contains("journal"),
            "{err}"
        );
    }
    assert!(!err.contains("panicked"), "{err}");
    let again = w.tf(&["apply", "cfg", "--auto-approve"]);
    again.success();
    let cloud = assert_no_duplicates(&sb, "rst", "after the restart");
    assert_eq!(cloud.len(), 11);
    let ids: BTreeSet<String> = w.state_ids().into_values().collect();
    assert_eq!(ids, cloud);
    w.assert_no_changes();
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn a_stale_serial_is_refused_naming_both_serials() {
    let c = cluster();
    let sb = SandboxProc::start(150, &[]);
    let w = PgWork::new(&sb, c, "stale", &tunnels("stale", "198.18.0", 4));
    w.tf(&[
        "apply",
        "cfg",
        "--auto-approve",
        "--target",
        "tencentcloud_vpn_gateway.gw",
    ])
    .success();
    let before: u64 = w.pulled()["serial"].as_u64().unwrap();
    // Someone writes the state behind this run's back (a runner without the lock).
    let mut run = w.spawn(&["apply", "cfg", "--auto-approve"]);
    run.wait_for_count(1, is_progress);
    c.psql("UPDATE stale.states SET serial = serial + 10");
    let (status, out, err) = run.finish();
    assert_eq!(status.code(), Some(1), "{out}\n{err}");
    // Both serials are named: the one found (at least the bumped one) and the one this run read.
    let line = err
        .lines()
        .find(|l| l.contains("someone else saved it since it was read"))
        .unwrap_or_else(|| panic!("no stale-serial error:\n{err}"));
    let found: u64 = line
        .split("(serial ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(found >= before + 10, "{line}");
    assert!(
        line.contains(" on disk, ") && line.contains(" when read)"),
        "{line}"
    );
    // A pushed file older than the database is refused too, naming both serials.
    let pulled = w.tf(&["state", "pull", "--dir", "cfg"]);
    let mut old: serde_json::Value = serde_json::from_str(&pulled.stdout).unwrap();
    let now = old["serial"].as_u64().unwrap();
    old["serial"] = (now - 1).into();
    w.work
        .write("old.json", &serde_json::to_string_pretty(&old).unwrap());
    let push = w.tf(&["state", "push", "old.json", "--dir", "cfg"]);
    push.expect_code(1);
    assert!(
        push.stderr.contains(&format!(
            "serial {now}; the state given has serial {}",
            now - 1
        )),
        "{}",
        push.stderr
    );
    // The next apply settles the journal and converges.
    w.tf(&["apply", "cfg", "--auto-approve"]).success();
    assert_eq!(assert_no_duplicates(&sb, "stale", "after").len(), 9);
    w.assert_no_changes();
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn a_state_moves_local_to_pg_to_local_with_its_lineage_and_serial() {
    let c = cluster();
    let sb = SandboxProc::start(0, &[]);
    let resources = tunnels("mig", "198.18.1", 2);
    let w = PgWork::new(&sb, c, "migrated", &resources);
    // First a plain local configuration.
    w.work.config(&resources);
    w.tf(&["apply", "cfg", "--auto-approve"]).success();
    let local = w.work.state();
    let (lineage, serial) = (local["lineage"].clone(), local["serial"].clone());
    // Then the backend block, and the move.
    w.work
        .config(&format!("{}{resources}", backend_block(c, "migrated")));
    let m = w.tf(&["state", "migrate", "--to", "pg", "--dir", "cfg"]);
    m.success();
    assert!(m.stdout.contains("to pg:migrated/default"), "{}", m.stdout);
    let pg = w.pulled();
    assert_eq!(
        (pg["lineage"].clone(), pg["serial"].clone()),
        (lineage.clone(), serial.clone())
    );
    assert_eq!(pg["resources"], local["resources"]);
    w.assert_no_changes();
    // Again: the same state is already there, nothing to do.
    w.tf(&["state", "migrate", "--to", "pg", "--dir", "cfg"])
        .success();
    // A different state (another lineage) is never clobbered.
    let other = w.work.write(
        "other.json",
        &String::from_utf8({
            let mut s = local.clone();
            s["lineage"] = "0b8c6d9e-1111-4222-8333-944455556666".into();
            serde_json::to_vec_pretty(&s).unwrap()
        })
        .unwrap(),
    );
    let refused = w.tf(&[
        "state",
        "migrate",
        "--to",
        "pg",
        "--dir",
        "cfg",
        "--state",
        other.to_str().unwrap(),
    ]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("different state (lineage"),
        "{}",
        refused.stderr
    );
    let push = w.tf(&["state", "push", "other.json", "--dir", "cfg"]);
    push.expect_code(1);
    assert!(
        push.stderr.contains("different state (lineage"),
        "{}",
        push.stderr
    );
    // And back to a local file.
    let back = w.work.path().join("back.tfstate.json");
    w.tf(&[
        "state",
        "migrate",
        "--to",
        "local",
        "--dir",
        "cfg",
        "--state",
        back.to_str().unwrap(),
    ])
    .success();
    let text = std::fs::read_to_string(&back).unwrap();
    let round_trip: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (round_trip["lineage"].clone(), round_trip["serial"].clone()),
        (lineage, serial)
    );
    assert_eq!(round_trip["resources"], local["resources"]);
    assert!(!text.contains(PSK));
}

/// The value of an unlabelled (or fully spelled) sample `name` in a watcher's `/metrics`.
fn metric(addr: &str, name: &str) -> u64 {
    let (code, body) = crate::watch::get(addr, "/metrics");
    assert_eq!(code, 200, "{body}");
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{body}"))
}

/// Waits until the watcher at `addr` has ended `n` more successful cycles than now.
fn wait_cycles(addr: &str, n: u64) {
    const OK: &str = "tunnelform_cycles_total{outcome=\"ok\"}";
    let target = metric(addr, OK) + n;
    let deadline = Instant::now() + Duration::from_secs(60);
    while metric(addr, OK) < target {
        assert!(
            Instant::now() < deadline,
            "the watcher did not end {n} more cycles"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn a_watch_keeps_its_connections_across_cycles_and_connects_again_after_a_server_restart() {
    use crate::watch::{stop, wait_event};
    let own = Cluster::start();
    let sb = SandboxProc::start(20, &[]);
    let w = PgWork::new(&sb, &own, "watchconn", &tunnels("conn", "203.0.113", 1));
    w.tf(&["apply", "cfg", "--auto-approve"]).success();
    let t0 = "tencentcloud_vpn_connection.t[\"o0\"]";
    let id = w.state_ids()[t0].clone();
    let mut r = w.spawn(&[
        "watch",
        "cfg",
        "--interval",
        "300ms",
        "--listen",
        "127.0.0.1:0",
        "--auto-apply",
    ]);
    let addr = wait_event(&mut r, "started", None)["listen"]
        .as_str()
        .expect("listen")
        .to_string();
    // The server's client sessions other than this query's: (pid, start) of each.
    let sessions = || {
        own.psql(
            "SELECT coalesce(string_agg(pid::text || '@' || backend_start::text, ',' ORDER BY pid), '') \
             FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
        )
        .trim()
        .to_string()
    };
    wait_event(&mut r, "leader_acquired", None);
    wait_cycles(&addr, 2);
    let first = sessions();
    wait_cycles(&addr, 4);
    // The same two sessions (the state's and the leader election's), cycle after cycle: no
    // connection is opened per cycle.
    assert_eq!(
        sessions(),
        first,
        "the watch's sessions changed between cycles"
    );
    assert_eq!(first.split(',').count(), 2, "{first}");

    // The server restarts between cycles: the watch connects again and goes on acting.
    own.restart();
    wait_cycles(&addr, 3);
    // The election's task connects again on its own (no cycle waits for it): both sessions are
    // back within a few cycles.
    let deadline = Instant::now() + Duration::from_secs(30);
    let again = loop {
        let s = sessions();
        if s.split(',').count() == 2 || Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_ne!(again, first, "the sessions after the restart are new ones");
    wait_cycles(&addr, 4);
    assert_eq!(
        sessions(),
        again,
        "the watch's sessions changed between cycles"
    );
    assert_eq!(again.split(',').count(), 2, "{again}");
    sb.cloud()
        .modify_connection(REGION, &id, "by-hand-after-restart", 45);
    let done = wait_event(&mut r, "apply_finished", None);
    assert_eq!(done["outcome"], "success", "{done}");
    assert_eq!(
        sb.cloud()
            .connection(REGION, &id)
            .expect("tunnel")
            .vpn_connection_name,
        "conn-o0"
    );
    let all = stop(r);
    assert!(all.iter().any(|e| e["event"] == "stopped"), "{all:?}");
    w.assert_no_changes();
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn two_watchers_on_one_state_elect_one_actor_and_the_other_takes_over_when_it_is_killed() {
    use crate::watch::{get, stop, wait_event, wait_metric};
    let sb = SandboxProc::start(20, &[]);
    let (w, id) = one_tunnel_applied(&sb, "watchleader", "lead");
    let (mut a, addr_a, mut b, addr_b, follower) = leader_and_follower(&w);
    let e = follower;
    assert!(
        e["reason"].as_str().is_some_and(
            |s| s.contains(&format!("pid {} leads", a.pid())) && s.contains("tunnelform watch")
        ),
        "{e}"
    );
    // Ready once a cycle went through; the role shows there and as a gauge.
    let ready = |addr: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (code, body) = get(addr, "/readyz");
            if code == 200 || Instant::now() > deadline {
                return body;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    assert_eq!(ready(&addr_a), "ready (leader)\n");
    assert_eq!(ready(&addr_b), "ready (follower)\n");
    wait_metric(&addr_a, "tunnelform_leader 1");
    wait_metric(&addr_b, "tunnelform_leader 0");

    // Drift: the leader heals it, the follower only sees it.
    sb.cloud().modify_connection(REGION, &id, "by-hand-1", 45);
    let done = wait_event(&mut a, "apply_finished", None);
    assert_eq!(done["outcome"], "success", "{done}");
    let healed = |sb: &SandboxProc| {
        sb.cloud()
            .connection(REGION, &id)
            .expect("tunnel")
            .vpn_connection_name
            == "lead-o0"
    };
    assert!(healed(&sb));
    // The follower's next cycles see the healed state, and it never applied.
    wait_metric(&addr_b, r#"tunnelform_cycles_total{outcome="ok"} 3"#);
    assert!(
        !b.out.iter().any(|l| l.contains("\"apply_started\"")),
        "{:?}",
        b.out
    );

    // The leader dies without a word: the follower takes over within one interval, that is in
    // its first cycle that starts after the death (a design that needed two intervals, or two
    // polls, would take it a cycle later), and heals the next drift. The cycles are counted: the
    // kill comes just after a follower cycle ended, between two reads of the follower's
    // `cycles_started`, so the first cycle to start after it is numbered at most one more than
    // the second read.
    let ended = metric(&addr_b, "tunnelform_cycles_total{outcome=\"ok\"}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(&addr_b, "tunnelform_cycles_total{outcome=\"ok\"}") == ended {
        assert!(Instant::now() < deadline, "the follower's cycles stopped");
        std::thread::sleep(Duration::from_millis(5));
    }
    let before_kill = metric(&addr_b, "tunnelform_cycles_started_total");
    let (_, a_out, _) = a.kill();
    let after_kill = metric(&addr_b, "tunnelform_cycles_started_total");
    assert_eq!(a_out.matches("\"apply_started\"").count(), 1, "{a_out}");
    let took = wait_event(&mut b, "leader_acquired", None);
    let cycle = took["cycle"].as_u64().expect("the event's cycle");
    assert!(
        cycle > before_kill && cycle <= after_kill + 1,
        "the follower took the lead in its cycle {cycle}, not in the first one to start after the leader died (cycles begun: {before_kill} before the kill, {after_kill} after it): {took}"
    );
    wait_metric(&addr_b, "tunnelform_leader 1");
    sb.cloud().modify_connection(REGION, &id, "by-hand-2", 45);
    let done = wait_event(&mut b, "apply_finished", None);
    assert_eq!(done["outcome"], "success", "{done}");
    assert!(healed(&sb));
    let all = stop(b);
    assert_eq!(
        all.iter().filter(|e| e["event"] == "cycle_error").count(),
        0,
        "{all:?}"
    );
    w.assert_no_changes();
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn a_leader_frozen_with_sigstop_loses_the_lead_within_its_lease_and_does_not_act_when_it_wakes() {
    use crate::watch::{stop, wait_event, wait_metric};
    let sb = SandboxProc::start(20, &[]);
    let (w, id) = one_tunnel_applied(&sb, "watchfrozen", "frz");
    let (mut a, addr_a, mut b, addr_b, _) = leader_and_follower(&w);
    wait_metric(&addr_b, "tunnelform_leader 0");

    // The leader is frozen (its process alive, its socket open: the kernel still answers for
    // it) just after one of its cycles ended, so it holds no state lock. Its heartbeats stop; the
    // server ends its election session one lease (2 s for a 1 s interval) after the last one,
    // which grants the follower's waiting lock. The follower leads in a cycle it begins at most
    // about one lease after the freeze: with cycles begun every second, within four.
    const OK: &str = "tunnelform_cycles_total{outcome=\"ok\"}";
    let ended = metric(&addr_a, OK);
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(&addr_a, OK) == ended {
        assert!(Instant::now() < deadline, "the leader's cycles stopped");
        std::thread::sleep(Duration::from_millis(5));
    }
    let before = metric(&addr_b, "tunnelform_cycles_started_total");
    a.signal("STOP");
    let took = wait_event(&mut b, "leader_acquired", None);
    let cycle = took["cycle"].as_u64().expect("the event's cycle");
    assert!(
        cycle > before && cycle <= before + 4,
        "the follower took the lead in its cycle {cycle}; {before} had begun when the leader froze: {took}"
    );
    wait_metric(&addr_b, "tunnelform_leader 1");

    // The new leader acts while the old one is frozen.
    let writes = || sb.write_request_count();
    let healed = |sb: &SandboxProc| {
        sb.cloud()
            .connection(REGION, &id)
            .expect("tunnel")
            .vpn_connection_name
            == "frz-o0"
    };
    let w0 = writes();
    sb.cloud().modify_connection(REGION, &id, "by-hand-1", 45);
    let done = wait_event(&mut b, "apply_finished", None);
    assert_eq!(done["outcome"], "success", "{done}");
    assert!(healed(&sb));
    // The writes one drift and one heal cost: the drift's call and the leader's.
    let one_heal = writes() - w0;

    // Drift again, and the old leader wakes: its lease ran out long ago, so it says it lost the
    // lead and acts no more; the drift is healed once, by the new leader.
    let w1 = writes();
    sb.cloud().modify_connection(REGION, &id, "by-hand-2", 45);
    let a_before = a.out.len();
    a.signal("CONT");
    let lost = wait_event(&mut a, "leader_lost", None);
    assert!(
        lost["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{lost}"
    );
    wait_metric(&addr_a, "tunnelform_leader 0");
    assert!(b.wait_for_count(2, |l| l.contains("\"apply_finished\"")));
    assert!(healed(&sb));
    // The old leader's next cycles are a follower's.
    wait_cycles(&addr_a, 2);
    assert_eq!(
        crate::watch::get(&addr_a, "/readyz").1,
        "ready (follower)\n"
    );
    assert_eq!(
        writes() - w1,
        one_heal,
        "the drift was healed more than once"
    );
    let all_a = stop(a);
    let after_wake: Vec<_> = all_a.iter().skip(a_before).collect();
    for e in ["apply_started", "tunnel_reset", "leader_acquired"] {
        assert!(
            !after_wake.iter().any(|x| x["event"] == e),
            "the old leader acted after it woke: {after_wake:?}"
        );
    }
    assert_eq!(
        all_a.iter().filter(|x| x["event"] == "leader_lost").count(),
        1,
        "{all_a:?}"
    );
    assert!(
        !all_a.iter().any(|x| x["event"] == "apply_started"),
        "{all_a:?}"
    );
    let all_b = stop(b);
    assert_eq!(
        all_b
            .iter()
            .filter(|e| e["event"] == "apply_started")
            .count(),
        2,
        "{all_b:?}"
    );
    assert!(
        !all_b.iter().any(|e| e["event"] == "cycle_error"),
        "{all_b:?}"
    );
    w.assert_no_changes();
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn workspace_commands_keep_staging_and_production_apart_in_postgres() {
    let c = cluster();
    let sb = SandboxProc::start(150, &[]);
    let w = PgWork::new(&sb, c, "envs", crate::workspaces::CONFIG);
    let list = |w: &PgWork| {
        let r = w.tf(&["workspace", "list", "--dir", "cfg"]);
        r.success();
        r.stdout.clone()
    };
    assert_eq!(list(&w), "* default\n");
    w.tf(&["workspace", "new", "staging", "--dir", "cfg"])
        .success();
    w.tf(&["apply", "cfg", "--auto-approve"]).success();
    w.tf(&["workspace", "new", "production", "--dir", "cfg"])
        .success();
    w.tf(&["apply", "cfg", "--auto-approve"]).success();
    assert_eq!(list(&w), "  default\n* production\n  staging\n");
    let ids_prod = w.state_ids();
    assert_eq!(ids_prod.len(), 3, "{ids_prod:?}");
    let staging = w.tf_env(
        &["state", "pull", "--dir", "cfg"],
        &[("TF_WORKSPACE", "staging")],
    );
    staging.success();
    let staging: serde_json::Value = serde_json::from_str(&staging.stdout).unwrap();
    let ids_staging: BTreeSet<String> = staging["resources"]
        .as_object()
        .unwrap()
        .values()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids_staging.len(), 3);
    assert!(ids_prod.values().all(|id| !ids_staging.contains(id)));
    let objects = cloud_objects(&sb);
    for env in ["staging", "production"] {
        for what in ["hub", "office", "tunnel"] {
            let n = format!("ws-{env}-{what}");
            assert!(
                objects.iter().any(|(_, name)| *name == n),
                "{n}: {objects:?}"
            );
        }
    }

    // delete: refused while non-empty, for the selected workspace and for default.
    let r = w.tf(&["workspace", "delete", "staging", "--dir", "cfg"]);
    r.expect_code(1);
    assert!(r.stderr.contains("is not empty"), "{}", r.stderr);
    let r = w.tf(&["workspace", "delete", "production", "--dir", "cfg"]);
    r.expect_code(1);
    assert!(r.stderr.contains("is the selected one"), "{}", r.stderr);
    let r = w.tf(&["workspace", "delete", "default", "--dir", "cfg"]);
    r.expect_code(1);

    // delete takes the workspace's lock: refused while a destroy of staging holds it.
    w.tf(&["workspace", "select", "staging", "--dir", "cfg"])
        .success();
    let mut destroy = w.spawn(&["destroy", "cfg", "--auto-approve"]);
    destroy.wait_for_line("Plan: ");
    w.tf(&["workspace", "select", "production", "--dir", "cfg"])
        .success();
    let r = w.tf(&["workspace", "delete", "staging", "--force", "--dir", "cfg"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("pg:envs/staging is locked by") && r.stderr.contains("destroy"),
        "{}",
        r.stderr
    );
    let (status, out, err) = destroy.finish();
    assert!(status.success(), "{out}\n{err}");
    // Destroying staging left production as it was.
    assert_eq!(w.state_ids(), ids_prod);
    w.assert_no_changes();
    let objects = cloud_objects(&sb);
    assert!(
        !objects.iter().any(|(_, n)| n.starts_with("ws-staging")),
        "{objects:?}"
    );

    w.tf(&["workspace", "delete", "staging", "--dir", "cfg"])
        .success();
    assert_eq!(list(&w), "  default\n* production\n");
    let rows = c.psql("SELECT count(*) FROM envs.states WHERE workspace = 'staging'");
    assert_eq!(rows.trim(), "0");
    w.tf(&["destroy", "cfg", "--auto-approve"]).success();
}

#[test]
#[cfg_attr(
    not(pg_binaries),
    ignore = "PostgreSQL server binaries not found (install postgresql, or set TUNNELFORM_PG_BINDIR)"
)]
fn each_workspace_elects_its_own_leader_whichever_way_it_is_selected() {
    use crate::watch::{stop, wait_event};
    let c = cluster();
    let sb = SandboxProc::start(20, &[]);
    let w = PgWork::new(&sb, c, "wsleader", &tunnels("wsl", "198.51.100", 1));
    // `staging` is selected through `.terraform/environment` (no TF_WORKSPACE).
    w.tf(&["workspace", "new", "staging", "--dir", "cfg"])
        .success();
    // Watchers that may act (resets) but never apply: the states stay as they are.
    let args = [
        "watch",
        "cfg",
        "--interval",
        "1s",
        "--listen",
        "127.0.0.1:0",
        "--reset-down-after",
        "1h",
    ];
    let mut staging = w.spawn(&args);
    wait_event(&mut staging, "leader_acquired", None);
    // A watcher of `default` (chosen by TF_WORKSPACE) elects the leader of another state: it leads
    // too, it is not a follower of the `staging` watcher.
    let mut env = w.env();
    env.push(("TF_WORKSPACE", "default"));
    let mut default = Running::spawn(&w.work, &args, &env);
    wait_event(&mut default, "leader_acquired", None);
    let a = stop(staging);
    let b = stop(default);
    for all in [&a, &b] {
        assert!(!all.iter().any(|e| e["event"] == "follower"), "{all:?}");
        assert!(!all.iter().any(|e| e["event"] == "cycle_error"), "{all:?}");
    }
}
