//! Benchmark 5: the PostgreSQL state backend against the local file (issue 13).
//!
//! - 5a. `tunnelform plan` and `tunnelform apply` with no changes on N tunnels (default 1,000), the
//!   same world once with its state in a file (`--state`) and once in PostgreSQL (`backend "pg"`,
//!   the state pushed there with `tunnelform state push`), runs alternating; the target is a pg
//!   median within 10 % of the local one.
//! - 5b. Bytes written to PostgreSQL per completed step at M tunnels (default 10,000): a state of M
//!   tunnels (copies of a real tunnel's entry) is saved once, then each step appends its journal
//!   records (intent, sent, outcome), changes one tunnel and saves, as the engine does (at worst one
//!   save per step); the bytes sent (rows and journal records) are counted by the backend. For
//!   comparison: the size of the whole state, which Terraform's `pg` backend rewrites on every save.
//!
//! The server is a throwaway cluster (initdb in a temporary directory, a free 127.0.0.1 port),
//! stopped at the end; it needs the PostgreSQL server binaries.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use tunnelform_model::Address;
use tunnelform_state::{
    Intent, JournalAction, OpResult, Outcome as OpOutcome, Record, Sent, StateBackend, StateFile,
    Timestamp,
};
use tunnelform_state_pg::testing::{Cluster, PASSWORD};
use tunnelform_state_pg::{PgBackend, PgSettings, Sources};

use crate::proc::{command, run_measured, Outcome, Sandbox};
use crate::{measure_args, quotas, Ctx};

/// Steps measured in 5b.
const STEPS: usize = 100;
const SCHEMA: &str = "bench";

pub struct PgResults {
    pub tunnels: usize,
    pub plan_local: Vec<f64>,
    pub plan_pg: Vec<f64>,
    pub apply_local: Vec<f64>,
    pub apply_pg: Vec<f64>,
    pub bytes_tunnels: usize,
    pub bytes_per_step: f64,
    pub whole_state_bytes: usize,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

impl PgResults {
    pub fn markdown(&self) -> String {
        let row = |what: &str, local: &[f64], pg: &[f64]| {
            let (l, p) = (median(local), median(pg));
            format!(
                "| {what} | {l:.3} s | {p:.3} s | {:.2}x | {} |\n",
                p / l,
                if p <= l * 1.10 {
                    "within 10 %"
                } else {
                    "over 10 %"
                }
            )
        };
        let mut md = format!(
            "{} tunnels, no changes; medians of {} runs each, local and pg alternating.\n\n\
             | command | local file | PostgreSQL | pg / local | target |\n| --- | --- | --- | --- | --- |\n",
            self.tunnels,
            self.plan_local.len()
        );
        md.push_str(&row("plan", &self.plan_local, &self.plan_pg));
        md.push_str(&row(
            "apply (no changes)",
            &self.apply_local,
            &self.apply_pg,
        ));
        md.push_str(&format!(
            "\nBytes written to PostgreSQL per completed step at {} tunnels: {:.0} bytes (the \
             tunnel's row, the small state row, and the step's three journal records), against \
             {} bytes for the whole state, which a backend storing one blob rewrites on every save.\n",
            self.bytes_tunnels, self.bytes_per_step, self.whole_state_bytes
        ));
        md
    }
}

fn settings(cluster: &Cluster) -> Result<PgSettings> {
    let block = std::collections::BTreeMap::from([
        ("conn_str".to_string(), cluster.conn_str("disable")),
        ("schema_name".to_string(), SCHEMA.to_string()),
    ]);
    let env = |k: &str| (k == "PGPASSWORD").then(|| PASSWORD.to_string());
    PgSettings::resolve(&Sources {
        block: &block,
        cli: &[],
        env: &env,
    })
    .map_err(|e| anyhow!("{e}"))
}

/// A copy of the configuration in `from` whose state is kept in the cluster.
fn pg_config(from: &Path, to: &Path, cluster: &Cluster) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    std::fs::write(
        to.join("backend.tf"),
        format!(
            "terraform {{\n  backend \"pg\" {{\n    conn_str    = \"{}\"\n    schema_name = \"{SCHEMA}\"\n  }}\n}}\n",
            cluster.conn_str("disable")
        ),
    )?;
    Ok(())
}

fn timed(ctx: &Ctx, args: &[&str], pg: bool, tag: &str) -> Result<Outcome> {
    let mut cmd = command(&ctx.tf);
    cmd.args(args).args(quotas()).current_dir(&ctx.tmp);
    if pg {
        cmd.env("PGPASSWORD", PASSWORD);
    }
    let (o, e) = ctx.out(tag);
    let out = run_measured(cmd, ctx.timeout, &o, &e)?;
    if !out.ok() {
        return Err(out.failure(&format!("`tunnelform {}`", args.join(" "))));
    }
    Ok(out)
}

pub fn bench_pg(ctx: &Ctx, n: usize, bytes_n: usize) -> Result<PgResults> {
    if tunnelform_state_pg::testing::bindir().is_none() {
        bail!("benchmark 5 needs the PostgreSQL server binaries (apt-get install postgresql, or TUNNELFORM_PG_BINDIR)");
    }
    let layout = ctx.layout(n)?;
    eprintln!(
        "\n[5] the pg backend against the local file: {}",
        layout.describe()
    );
    let (w, _) = ctx.build_world(layout, &format!("pg-world-{n}"))?;
    let cluster = Cluster::start();
    let pg_dir = ctx.tmp.join(format!("pg-config-{n}"));
    pg_config(&w.dir, &pg_dir, &cluster)?;
    let dir = pg_dir.display().to_string();
    let local_dir = w.dir.display().to_string();
    let state = w.state.display().to_string();
    timed(
        ctx,
        &["state", "push", &state, "--dir", &dir],
        true,
        "pg-push",
    )?;
    let sb: Sandbox = ctx.start_sandbox(&measure_args(Some(&w.data)), &format!("pg-{n}"))?;
    let url = sb.url.clone();
    let mut r = PgResults {
        tunnels: n,
        plan_local: Vec::new(),
        plan_pg: Vec::new(),
        apply_local: Vec::new(),
        apply_pg: Vec::new(),
        bytes_tunnels: bytes_n,
        bytes_per_step: 0.0,
        whole_state_bytes: 0,
    };
    // One untimed warm-up each (page cache, the schema's first use).
    let plan_local: Vec<&str> = vec![
        "plan",
        &local_dir,
        "--endpoint",
        &url,
        "--detailed-exitcode",
        "--state",
        &state,
    ];
    let plan_pg: Vec<&str> = vec!["plan", &dir, "--endpoint", &url, "--detailed-exitcode"];
    let apply_local: Vec<&str> = vec![
        "apply",
        &local_dir,
        "--auto-approve",
        "--endpoint",
        &url,
        "--state",
        &state,
    ];
    let apply_pg: Vec<&str> = vec!["apply", &dir, "--auto-approve", "--endpoint", &url];
    timed(ctx, &plan_local, false, "pg-warm-local")?;
    timed(ctx, &plan_pg, true, "pg-warm-pg")?;
    for i in 0..ctx.runs {
        for (args, pg, out) in [
            (&plan_local, false, &mut r.plan_local),
            (&plan_pg, true, &mut r.plan_pg),
            (&apply_local, false, &mut r.apply_local),
            (&apply_pg, true, &mut r.apply_pg),
        ] {
            let o = timed(ctx, args, pg, &format!("pg-{}-{i}", args[0]))?;
            out.push(o.wall.as_secs_f64());
        }
        eprintln!(
            "  run {}: plan {:.3} s local, {:.3} s pg; apply {:.3} s local, {:.3} s pg",
            i + 1,
            r.plan_local[i],
            r.plan_pg[i],
            r.apply_local[i],
            r.apply_pg[i]
        );
    }
    sb.stop()?;

    // 5b: bytes per step, in process.
    let template = StateFile::open(&w.state)
        .and_then(|f| f.load())
        .map_err(|e| anyhow!("{e}"))?
        .resources
        .into_iter()
        .find(|(a, _)| a.type_name == "tencentcloud_vpn_connection")
        .map(|(_, rs)| rs)
        .ok_or_else(|| anyhow!("the world has no tunnel to copy"))?;
    let settings = settings(&cluster)?
        .with_workspace("bytes")
        .map_err(|e| anyhow!("{e}"))?;
    let backend = PgBackend::new(settings).map_err(|e| anyhow!("{e}"))?;
    let mut s = backend.load().map_err(|e| anyhow!("{e}"))?;
    for i in 0..bytes_n {
        let addr: Address = format!("tencentcloud_vpn_connection.t[\"t{i}\"]")
            .parse()
            .map_err(|e| anyhow!("{e:?}"))?;
        let mut rs = template.clone();
        rs.id = format!("vpnx-{i:08x}");
        s.resources.insert(addr, rs);
    }
    let t = Instant::now();
    backend.save(&mut s).map_err(|e| anyhow!("{e}"))?;
    eprintln!(
        "  first save of {bytes_n} tunnels: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    r.whole_state_bytes = s.to_json_bytes().map_err(|e| anyhow!("{e}"))?.len();
    let before = backend.bytes_written();
    for step in 0..STEPS {
        let addr: Address = format!(
            "tencentcloud_vpn_connection.t[\"t{}\"]",
            step * 97 % bytes_n
        )
        .parse()
        .map_err(|e| anyhow!("{e:?}"))?;
        let kind = tunnelform_kinds::ResourceKind::VpnConnection;
        let intent = Intent::new(addr.clone(), JournalAction::Update, kind, "ap-guangzhou");
        let op = intent.op_id.clone();
        backend
            .append(&Record::Intent(intent))
            .map_err(|e| anyhow!("{e}"))?;
        backend
            .append(&Record::Sent(Sent {
                op_id: op.clone(),
                request_id: uuid::Uuid::new_v4().to_string(),
                resource_id: None,
                task_id: Some(format!("{step}")),
                at: Timestamp::now(),
            }))
            .map_err(|e| anyhow!("{e}"))?;
        backend
            .append(&Record::Outcome(OpOutcome {
                op_id: op,
                result: OpResult::Ok,
                at: Timestamp::now(),
            }))
            .map_err(|e| anyhow!("{e}"))?;
        if let Some(rs) = s.resources.get_mut(&addr) {
            rs.attributes.insert(
                "dpd_timeout".into(),
                tunnelform_model::Value::int(30 + step as i64 % 60),
            );
        }
        backend.save(&mut s).map_err(|e| anyhow!("{e}"))?;
    }
    r.bytes_per_step = (backend.bytes_written() - before) as f64 / STEPS as f64;
    eprintln!(
        "  {:.0} bytes per step at {bytes_n} tunnels (whole state: {} bytes)",
        r.bytes_per_step, r.whole_state_bytes
    );
    drop(backend);
    drop(cluster);
    std::thread::sleep(Duration::from_millis(10));
    Ok(r)
}
