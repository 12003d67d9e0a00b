//! `tunnelform-bench`: the benchmarks of issue 5, run against `tunnelform sandbox` over loopback with the
//! documented rate limits and a task latency of 1000 ms. See BENCHMARKS.md for what is measured and how.
//!
//! ```sh
//! cargo run --release -p tunnelform-bench -- [all|plan-noop|apply-create|apply-modify|offline] \
//!     [--runs N] [--sizes 100,1000,10000] [--quick]
//! ```

mod bound;
mod engine;
mod gen;
mod heap;
mod pg;
mod proc;
mod report;
mod routes;
mod soak;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Parser, ValueEnum};

use crate::bound::Limits;
use crate::gen::{Layout, Shape};
use crate::proc::{command, run_measured, Outcome, Sandbox, Stats, StatsPoller};
use crate::report::{Header, Sample};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Bench {
    /// Every benchmark.
    All,
    /// 1. `tunnelform plan` with no changes, for each --sizes N and each shape.
    PlanNoop,
    /// 1b. The first `tunnelform plan` on an empty state (everything to create), for each --sizes N
    /// and each shape.
    PlanFirst,
    /// 2. `tunnelform apply` creating --apply-tunnels tunnels (gateways and customer gateways included).
    ApplyCreate,
    /// 3. `tunnelform apply` changing dpd_timeout on every tunnel (creates them first, untimed).
    ApplyModify,
    /// 7. `tunnelform apply` adding 1,000 route entries in 10 route tables and 1,000 VPN gateway
    ///    routes on 50 gateways (their gateways and tunnels created first, untimed).
    Routes,
    /// 4. The planning pipeline in-process, without the network, on one core.
    Offline,
    /// 5. The PostgreSQL state backend against the local file: no-change plan and apply of
    ///    --pg-tunnels tunnels, and bytes written per step at --pg-bytes-tunnels (only when named:
    ///    it needs the PostgreSQL server binaries).
    Pg,
    /// 6. The watch soak: `tunnelform watch` over --soak-tunnels tunnels for --soak-duration, with
    ///    faults injected; cycle time, API calls per cycle, memory over time (only when named).
    Soak,
    /// Internal: the process benchmark 4 measures.
    #[value(hide = true)]
    OfflineWorker,
    /// Internal: the untimed setup of a large world (its own process, so that the harness stays small).
    #[value(hide = true)]
    SetupWorker,
}

#[derive(Debug, Parser)]
#[command(
    name = "tunnelform-bench",
    about = "Benchmarks of tunnelform against the sandbox at the API's documented limits (see BENCHMARKS.md)"
)]
struct Args {
    /// Which benchmarks to run (one or more; default all).
    #[arg(value_enum, num_args = 0..)]
    benches: Vec<Bench>,
    /// Timed runs per measurement (the median is reported). Default 3 (1 with --quick).
    #[arg(long)]
    runs: Option<usize>,
    /// Tunnel counts N for benchmark 1. Default 100,1000,10000 (20,100 with --quick).
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<usize>>,
    /// Small and fast: one run, --sizes 20,100, --apply-tunnels 100, --offline-tunnels 1000; results are not
    /// written to BENCHMARKS.md unless --write is given.
    #[arg(long)]
    quick: bool,
    /// Tunnels of benchmarks 2 and 3. Default 1000 (100 with --quick).
    #[arg(long)]
    apply_tunnels: Option<usize>,
    /// Tunnels of benchmark 4. Default 10000 (1000 with --quick).
    #[arg(long)]
    offline_tunnels: Option<usize>,
    /// Tunnels of benchmark 5a. Default 1000 (100 with --quick).
    #[arg(long)]
    pg_tunnels: Option<usize>,
    /// Tunnels of benchmark 5b (bytes per step). Default 10000 (1000 with --quick).
    #[arg(long)]
    pg_bytes_tunnels: Option<usize>,
    /// Tunnels of the watch soak (6). Default 1000 (100 with --quick).
    #[arg(long)]
    soak_tunnels: Option<usize>,
    /// How long the watch soak runs, e.g. 30m, 180s. Default 30m (1m with --quick).
    #[arg(long)]
    soak_duration: Option<String>,
    /// The watch's --interval in the soak.
    #[arg(long, default_value = "10s")]
    soak_interval: String,
    /// The sandbox's --fault-rate in the soak (fraction of signed requests given a fault).
    #[arg(long, default_value_t = 0.02)]
    soak_fault_rate: f64,
    /// How often the soak scrapes the watch's /metrics and reads its RSS.
    #[arg(long, default_value = "2s")]
    soak_scrape_every: String,
    /// Soak with healing: the watch runs with --auto-apply and --reset-down-after, and the harness
    /// renames tunnels (drift) and sets tunnels down every --soak-fault-every.
    #[arg(long)]
    soak_heal: bool,
    /// How often the healing soak injects drift and downs.
    #[arg(long, default_value = "60s")]
    soak_fault_every: String,
    /// Tunnels renamed and tunnels set down per injection round of the healing soak.
    #[arg(long, default_value_t = 5)]
    soak_faults_per_round: usize,
    /// The watch's --reset-down-after in the healing soak.
    #[arg(long, default_value = "30s")]
    soak_reset_after: String,
    /// Tunnels per VPN gateway (G = ceil(N / this)).
    #[arg(long, default_value_t = 20)]
    tunnels_per_gateway: usize,
    /// Customer gateways: a number (tunnel i goes to customer gateway i mod C; at least
    /// --tunnels-per-gateway) or `per-tunnel`.
    #[arg(long, default_value = "20")]
    cgws: String,
    /// Configuration shapes of benchmarks 1, 1b and 2 (default: every shape).
    #[arg(long, value_enum, value_delimiter = ',')]
    shapes: Option<Vec<Shape>>,
    /// (setup-worker) the shape of the configuration.
    #[arg(long, value_enum, hide = true, default_value = "for-each")]
    shape: Shape,
    /// Passed as `tunnelform apply --parallelism P` (default: tunnelform's own default).
    #[arg(long)]
    parallelism: Option<usize>,
    /// The tunnelform binary to measure (default: the release build next to this binary, built with
    /// `cargo build --release --bin tunnelform` first).
    #[arg(long)]
    tunnelform: Option<PathBuf>,
    /// Do not run `cargo build --release --bin tunnelform` (fails if the binary is missing).
    #[arg(long)]
    no_build: bool,
    /// Write the results into BENCHMARKS.md (default unless --quick).
    #[arg(long, conflicts_with = "no_write")]
    write: bool,
    /// Do not write BENCHMARKS.md.
    #[arg(long)]
    no_write: bool,
    /// The Markdown file to update (default: BENCHMARKS.md at the workspace root).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep the temporary directory (configurations, states, sandbox data, logs) and print its path.
    #[arg(long)]
    keep: bool,
    /// Most seconds any one measured command may take before it is killed.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// (offline-worker) configuration directory.
    #[arg(long, hide = true)]
    dir: Option<PathBuf>,
    /// (offline-worker) state file; without it the plan starts from an empty state.
    #[arg(long, hide = true)]
    state: Option<PathBuf>,
    /// (offline-worker, setup-worker) sandbox URL.
    #[arg(long, hide = true)]
    endpoint: Option<String>,
    /// (setup-worker) tunnels of the layout.
    #[arg(long, hide = true)]
    tunnels: Option<usize>,
}

#[global_allocator]
static ALLOC: heap::Counting = heap::Counting;

fn main() -> ExitCode {
    let args = Args::parse();
    if args.benches.contains(&Bench::OfflineWorker) {
        heap::start_from_env();
        let Some(dir) = args.dir.as_deref() else {
            eprintln!("error: offline-worker needs --dir");
            return ExitCode::from(2);
        };
        return match engine::offline_worker(dir, args.state.as_deref(), args.endpoint.as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    if args.benches.contains(&Bench::SetupWorker) {
        return match setup_worker(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nerror: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn parse_cgws(s: &str) -> Result<Option<usize>> {
    match s {
        "per-tunnel" => Ok(None),
        s => Ok(Some(s.parse::<usize>().map_err(|_| {
            anyhow!("--cgws must be a number or `per-tunnel`")
        })?)),
    }
}

fn setup_worker(args: &Args) -> Result<()> {
    let (Some(dir), Some(state), Some(url), Some(n)) = (
        args.dir.as_deref(),
        args.state.as_deref(),
        args.endpoint.as_deref(),
        args.tunnels,
    ) else {
        bail!("setup-worker needs --dir, --state, --endpoint and --tunnels");
    };
    let layout = Layout::new(n, args.tunnels_per_gateway, parse_cgws(&args.cgws)?)?;
    let rep = engine::engine_setup(url, dir, state, &layout, args.shape, 1000)?;
    if rep.added != layout.objects() {
        bail!(
            "the setup created {} objects, expected {}",
            rep.added,
            layout.objects()
        );
    }
    Ok(())
}

/// Settings of one harness run.
struct Ctx {
    tf: PathBuf,
    tmp: PathBuf,
    runs: usize,
    timeout: Duration,
    per_gateway: usize,
    cgws: Option<usize>,
    parallelism: Option<usize>,
    taskset: Option<PathBuf>,
    limits: Limits,
    shapes: Vec<Shape>,
}

/// A configuration, its state and the sandbox data holding its objects.
struct World {
    dir: PathBuf,
    state: PathBuf,
    data: PathBuf,
}

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.to_path_buf())
}

/// The release `tunnelform` binary: built first (a no-op when fresh), then looked up next to this binary
/// (same target directory and profile), in $CARGO_TARGET_DIR/release, and in <workspace>/target/release.
fn locate_tunnelform(args: &Args) -> Result<PathBuf> {
    if let Some(p) = &args.tunnelform {
        if !p.is_file() {
            bail!("--tunnelform {}: no such file", p.display());
        }
        return Ok(p.clone());
    }
    let root = workspace_root();
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        if dir.file_name().is_some_and(|n| n == "release") {
            candidates.push(dir.join("tunnelform"));
        }
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        let t = PathBuf::from(t);
        let t = if t.is_absolute() { t } else { root.join(t) };
        candidates.push(t.join("release").join("tunnelform"));
    }
    candidates.push(root.join("target").join("release").join("tunnelform"));
    if !args.no_build {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        eprintln!("building: cargo build --release -p tunnelform --bin tunnelform");
        let status = std::process::Command::new(&cargo)
            .args([
                "build",
                "--release",
                "-p",
                "tunnelform",
                "--bin",
                "tunnelform",
            ])
            .current_dir(&root)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("warning: cargo build exited with {s}; using an existing binary if any")
            }
            Err(e) => eprintln!("warning: cannot run cargo ({e}); using an existing binary if any"),
        }
    }
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        anyhow!("no release tunnelform binary found; run `cargo build --release --bin tunnelform`")
    })
}

/// `--quota` arguments raising every quota (for the sandbox, and for tunnelform's plan-time quota
/// check, which must know the account's quotas were raised).
fn quotas() -> Vec<String> {
    engine::RAISED_QUOTAS
        .iter()
        .flat_map(|q| ["--quota".to_string(), q.to_string()])
        .collect()
}

/// The measured sandbox: documented rate limits, 1000 ms task latency, quotas raised.
fn measure_args(data: Option<&Path>) -> Vec<String> {
    let mut a = vec![
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--task-latency-ms".into(),
        "1000".into(),
    ];
    a.extend(quotas());
    if let Some(d) = data {
        a.push("--data".into());
        a.push(d.display().to_string());
    }
    a
}

/// The setup sandbox: no rate limits, no task latency, persisting to `data`.
fn setup_args(data: &Path) -> Vec<String> {
    let mut a = vec![
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--task-latency-ms".into(),
        "0".into(),
        "--data".into(),
        data.display().to_string(),
    ];
    a.extend(quotas());
    for action in engine::ACTIONS {
        a.push("--rate-limit".into());
        a.push(format!("{action}=0"));
    }
    a
}

impl Ctx {
    fn layout(&self, n: usize) -> Result<Layout> {
        Layout::new(n, self.per_gateway, self.cgws)
    }

    fn start_sandbox(&self, args: &[String], name: &str) -> Result<Sandbox> {
        Sandbox::start(
            &self.tf,
            args,
            &self.tmp.join(format!("{name}.sandbox.log")),
            Duration::from_secs(300),
        )
    }

    /// Creates the objects of `layout` fast (see `engine`), leaving a state file and sandbox data.
    fn build_world(&self, layout: Layout, shape: Shape, name: &str) -> Result<(World, f64)> {
        let base = self.tmp.join(name);
        let w = World {
            dir: base.join("config"),
            state: base.join("state.tfstate.json"),
            data: base.join("sandbox.json"),
        };
        gen::write_config(&w.dir, &layout, shape)?;
        let t = Instant::now();
        eprintln!(
            "  setup: creating {} objects ({}, {} blocks) through the engine against an unthrottled setup sandbox...",
            layout.objects(),
            layout.describe(),
            shape.name()
        );
        let sb = self.start_sandbox(&setup_args(&w.data), &format!("{name}-setup"))?;
        let exe = std::env::current_exe().context("locating this binary")?;
        let mut cmd = command(&exe);
        cmd.arg("setup-worker")
            .arg("--dir")
            .arg(&w.dir)
            .arg("--state")
            .arg(&w.state)
            .args(["--endpoint", &sb.url])
            .args(["--tunnels", &layout.tunnels.to_string()])
            .args(["--tunnels-per-gateway", &layout.per_gateway.to_string()])
            .args(["--cgws", &layout.customer_gateways.to_string()])
            .args(["--shape", shape.name_arg()])
            .current_dir(&self.tmp);
        let (o, e) = self.out(&format!("{name}-setup"));
        let out = run_measured(cmd, self.timeout, &o, &e)?;
        if !out.ok() {
            return Err(out.failure("the setup worker"));
        }
        sb.stop()?;
        let secs = t.elapsed().as_secs_f64();
        eprintln!("  setup: done in {secs:.1} s");
        Ok((w, secs))
    }

    fn out(&self, tag: &str) -> (PathBuf, PathBuf) {
        (
            self.tmp.join(format!("{tag}.stdout")),
            self.tmp.join(format!("{tag}.stderr")),
        )
    }

    fn plan(&self, sb: &Sandbox, w: &World, tag: &str, pinned: bool) -> Result<Outcome> {
        let mut cmd = match (&self.taskset, pinned) {
            (Some(ts), true) => {
                let mut c = command(ts);
                c.arg("-c").arg("0").arg(&self.tf);
                c
            }
            _ => command(&self.tf),
        };
        cmd.arg("plan")
            .arg(&w.dir)
            .args(["--endpoint", &sb.url, "--detailed-exitcode", "--state"])
            .arg(&w.state)
            .args(quotas())
            .current_dir(&self.tmp);
        let (o, e) = self.out(tag);
        run_measured(cmd, self.timeout, &o, &e)
    }

    /// `tunnelform apply`, with the sandbox's counters sampled during the run (for a timeline).
    fn apply(
        &self,
        sb: &Sandbox,
        dir: &Path,
        state: &Path,
        tag: &str,
    ) -> Result<(Outcome, Vec<(f64, Stats)>)> {
        let mut cmd = command(&self.tf);
        cmd.arg("apply")
            .arg(dir)
            .args(["--auto-approve", "--endpoint", &sb.url, "--state"])
            .arg(state)
            .args(quotas())
            .current_dir(&self.tmp);
        if let Some(p) = self.parallelism {
            cmd.args(["--parallelism", &p.to_string()]);
        }
        let (o, e) = self.out(tag);
        let poller = StatsPoller::start(&sb.host_port, Duration::from_millis(250));
        let out = run_measured(cmd, self.timeout, &o, &e);
        let samples = poller.finish();
        Ok((out?, samples))
    }

    /// A no-change check after an apply (untimed): `plan --detailed-exitcode` must exit 0.
    fn expect_no_changes(&self, sb: &Sandbox, dir: &Path, state: &Path, tag: &str) -> Result<()> {
        let w = World {
            dir: dir.to_path_buf(),
            state: state.to_path_buf(),
            data: PathBuf::new(),
        };
        let o = self.plan(sb, &w, tag, false)?;
        if !o.ok() {
            return Err(o.failure("the plan after apply (expected: no changes, exit 0)"));
        }
        Ok(())
    }
}

fn bench_plan_noop(
    ctx: &Ctx,
    sizes: &[usize],
    keep_for: usize,
    worlds: &mut HashMap<usize, World>,
) -> Result<Vec<report::PlanNoop>> {
    let mut results = Vec::new();
    for &n in sizes {
        for &shape in &ctx.shapes {
            let layout = ctx.layout(n)?;
            let sh = shape.name();
            eprintln!(
                "\n[1] plan with no changes: {}, {sh} blocks",
                layout.describe()
            );
            let (w, setup_secs) = ctx.build_world(layout, shape, &format!("world-{sh}-{n}"))?;
            let sb = ctx.start_sandbox(&measure_args(Some(&w.data)), &format!("plan-{sh}-{n}"))?;
            let warm = ctx.plan(&sb, &w, &format!("plan-{sh}-{n}-warmup"), false)?;
            if !warm.ok() {
                return Err(warm.failure(
                    "`tunnelform plan --detailed-exitcode` (expected exit 0: no changes)",
                ));
            }
            let mut samples = Vec::new();
            let mut calls = Vec::new();
            for r in 0..ctx.runs {
                let before = sb.stats()?;
                let o = ctx.plan(&sb, &w, &format!("plan-{sh}-{n}-{r}"), false)?;
                let after = sb.stats()?;
                if !o.ok() {
                    return Err(o.failure(
                        "`tunnelform plan --detailed-exitcode` (expected exit 0: no changes)",
                    ));
                }
                let d = after.since(&before);
                eprintln!(
                    "  run {}: {:.3} s, peak RSS {:.1} MB, {} calls ({})",
                    r + 1,
                    o.wall.as_secs_f64(),
                    report::mb(o.max_rss_kib),
                    d.total_requests(),
                    d.requests_line()
                );
                samples.push(Sample::from(&o));
                calls.push(d);
            }
            let mut pinned = Vec::new();
            // Benchmark 4 uses the for_each world (and this pinned run) at its N.
            let keep = n == keep_for && shape == Shape::ForEach;
            if keep && ctx.taskset.is_some() {
                for r in 0..ctx.runs {
                    let o = ctx.plan(&sb, &w, &format!("plan-{sh}-{n}-pinned-{r}"), true)?;
                    if !o.ok() {
                        return Err(o.failure("`taskset -c 0 tunnelform plan`"));
                    }
                    eprintln!(
                        "  pinned run {}: {:.3} s, CPU {:.3} s",
                        r + 1,
                        o.wall.as_secs_f64(),
                        (o.user + o.sys).as_secs_f64()
                    );
                    pinned.push(Sample::from(&o));
                }
            }
            sb.stop()?;
            results.push(report::PlanNoop {
                shape,
                layout,
                samples,
                calls,
                expected_calls: bound::refresh_calls(&layout, &ctx.limits).total(),
                refresh_floor: bound::refresh_bound(&layout, &ctx.limits),
                setup_secs,
                pinned,
            });
            if keep {
                worlds.insert(n, w);
            }
        }
    }
    Ok(results)
}

/// Benchmark 1b: the first plan on an empty state against an empty sandbox (every object to
/// create): what a new user's first `tunnelform plan` costs, per shape.
fn bench_plan_first(ctx: &Ctx, sizes: &[usize]) -> Result<Vec<report::PlanFirst>> {
    let mut results = Vec::new();
    for &n in sizes {
        for &shape in &ctx.shapes {
            let layout = ctx.layout(n)?;
            let sh = shape.name();
            eprintln!(
                "\n[1b] first plan on an empty state: {}, {sh} blocks",
                layout.describe()
            );
            let base = ctx.tmp.join(format!("first-{sh}-{n}"));
            let w = World {
                dir: base.join("config"),
                state: base.join("state.tfstate.json"),
                data: PathBuf::new(),
            };
            gen::write_config(&w.dir, &layout, shape)?;
            let sb = ctx.start_sandbox(&measure_args(None), &format!("first-{sh}-{n}"))?;
            let mut samples = Vec::new();
            let mut calls = Vec::new();
            for r in 0..ctx.runs {
                let before = sb.stats()?;
                let o = ctx.plan(&sb, &w, &format!("first-{sh}-{n}-{r}"), false)?;
                let after = sb.stats()?;
                // --detailed-exitcode: 2 means changes (everything to create).
                if o.code != Some(2) {
                    return Err(o.failure(
                        "`tunnelform plan --detailed-exitcode` (expected exit 2: changes)",
                    ));
                }
                let d = after.since(&before);
                eprintln!(
                    "  run {}: {:.3} s, peak RSS {:.1} MB, {} calls ({})",
                    r + 1,
                    o.wall.as_secs_f64(),
                    report::mb(o.max_rss_kib),
                    d.total_requests(),
                    d.requests_line()
                );
                samples.push(Sample::from(&o));
                calls.push(d);
            }
            sb.stop()?;
            results.push(report::PlanFirst {
                shape,
                layout,
                samples,
                calls,
            });
        }
    }
    Ok(results)
}

/// Runs the offline worker (pinned when taskset exists). `Ok(None)` when it ran out of `timeout`.
fn run_worker(
    ctx: &Ctx,
    args: &[&std::ffi::OsStr],
    tag: &str,
    timeout: Duration,
) -> Result<Option<(engine::OfflineResult, Sample)>> {
    let exe = std::env::current_exe().context("locating this binary")?;
    let mut cmd = match &ctx.taskset {
        Some(ts) => {
            let mut c = command(ts);
            c.arg("-c").arg("0").arg(&exe);
            c
        }
        None => command(&exe),
    };
    cmd.arg("offline-worker").args(args).current_dir(&ctx.tmp);
    let (o, e) = ctx.out(tag);
    let out = run_measured(cmd, timeout, &o, &e)?;
    if out.timed_out {
        return Ok(None);
    }
    if !out.ok() {
        return Err(out.failure("the offline worker"));
    }
    let text = std::fs::read_to_string(&out.stdout)?;
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| anyhow!("the offline worker printed no result"))?;
    let r: engine::OfflineResult = serde_json::from_str(line)?;
    Ok(Some((r, Sample::from(&out))))
}

/// The from-scratch offline plan runs once, and at most this long (its graph is the slow part).
const FROM_SCRATCH_TIMEOUT: Duration = Duration::from_secs(600);

fn bench_offline(
    ctx: &Ctx,
    n: usize,
    worlds: &mut HashMap<usize, World>,
    cli_pinned: Vec<Sample>,
) -> Result<report::Offline> {
    let layout = ctx.layout(n)?;
    eprintln!("\n[4] offline planning cost: {}", layout.describe());
    let w = match worlds.remove(&n) {
        Some(w) => w,
        None => {
            ctx.build_world(layout, Shape::ForEach, &format!("world-{n}"))?
                .0
        }
    };
    let sb = ctx.start_sandbox(&measure_args(Some(&w.data)), &format!("offline-{n}"))?;
    let mut no_change = Vec::new();
    for r in 0..ctx.runs {
        let (res, s) = run_worker(
            ctx,
            &[
                "--dir".as_ref(),
                w.dir.as_os_str(),
                "--state".as_ref(),
                w.state.as_os_str(),
                "--endpoint".as_ref(),
                sb.url.as_ref(),
            ],
            &format!("offline-noop-{r}"),
            ctx.timeout,
        )?
        .ok_or_else(|| anyhow!("the offline no-change plan timed out"))?;
        if res.has_changes {
            bail!("the offline no-change plan found {} changes", res.changes);
        }
        eprintln!(
            "  no-change run {}: {:.0} ms, planning peak {:.1} MB (process {:.1} MB)",
            r + 1,
            res.phases.total_ms,
            report::mb(res.planning_peak_kib),
            report::mb(s.rss_kib)
        );
        no_change.push((res, s));
    }
    sb.stop()?;
    let mut create = Vec::new();
    let timeout = FROM_SCRATCH_TIMEOUT.min(ctx.timeout);
    eprintln!(
        "  from-scratch plan: one run, at most {} s...",
        timeout.as_secs()
    );
    let create_timed_out = match run_worker(
        ctx,
        &["--dir".as_ref(), w.dir.as_os_str()],
        "offline-create",
        timeout,
    )? {
        Some((res, s)) => {
            if res.creates != layout.objects() {
                bail!(
                    "the offline from-scratch plan creates {} objects, expected {}",
                    res.creates,
                    layout.objects()
                );
            }
            eprintln!(
                "  from-scratch run: {:.0} ms (graph {:.0} ms), planning peak {:.1} MB",
                res.phases.total_ms,
                res.phases.graph_ms,
                report::mb(res.planning_peak_kib)
            );
            create.push((res, s));
            None
        }
        None => {
            eprintln!(
                "  from-scratch run: did not finish within {} s",
                timeout.as_secs()
            );
            Some(timeout)
        }
    };
    Ok(report::Offline {
        layout,
        pinned: ctx.taskset.is_some(),
        no_change,
        create,
        create_timed_out,
        cli_pinned,
    })
}

/// A sandbox that holds the objects of an applied configuration (benchmark 2's last run).
struct Live {
    sb: Sandbox,
    dir: PathBuf,
    state: PathBuf,
    layout: Layout,
}

type Timeline = Vec<(String, f64, f64, u64)>;

fn one_create(
    ctx: &Ctx,
    layout: Layout,
    shape: Shape,
    tag: &str,
) -> Result<(Outcome, Stats, Timeline, Live)> {
    let base = ctx.tmp.join(tag);
    let dir = base.join("config");
    let state = base.join("state.tfstate.json");
    gen::write_config(&dir, &layout, shape)?;
    let sb = ctx.start_sandbox(&measure_args(None), tag)?;
    let before = sb.stats()?;
    let (o, samples) = ctx.apply(&sb, &dir, &state, tag)?;
    let after = sb.stats()?;
    if !o.ok() {
        return Err(o.failure("`tunnelform apply` (create)"));
    }
    let d = after.since(&before);
    let tl = proc::timeline(&samples, &after);
    ctx.expect_no_changes(&sb, &dir, &state, &format!("{tag}-check"))?;
    Ok((
        o,
        d,
        tl,
        Live {
            sb,
            dir,
            state,
            layout,
        },
    ))
}

/// Benchmark 2 for `shape`; the live world of the last run is kept for benchmark 3.
fn bench_apply_create(ctx: &Ctx, n: usize, shape: Shape) -> Result<(report::ApplyRuns, Live)> {
    let layout = ctx.layout(n)?;
    let b = bound::create_bound(&layout, &ctx.limits);
    let sh = shape.name();
    eprintln!(
        "\n[2] apply creating {}, {sh} blocks, from scratch; lower bound {:.2} s",
        layout.describe(),
        b.total
    );
    let mut samples = Vec::new();
    let mut calls = Vec::new();
    let mut live = None;
    let mut timeline = Vec::new();
    for r in 0..ctx.runs {
        let (o, d, tl, l) = one_create(ctx, layout, shape, &format!("apply-create-{sh}-{r}"))?;
        timeline = tl;
        eprintln!(
            "  run {}: {:.2} s ({:.2}x the bound), peak RSS {:.1} MB, RequestLimitExceeded {}; {}",
            r + 1,
            o.wall.as_secs_f64(),
            o.wall.as_secs_f64() / b.total,
            report::mb(o.max_rss_kib),
            d.rate_limited(),
            d.requests_line()
        );
        samples.push(Sample::from(&o));
        calls.push(d);
        if let Some(old) = live.replace(l) {
            let old: Live = old;
            old.sb.stop()?;
        }
    }
    let live = live.ok_or_else(|| anyhow!("--runs must be at least 1"))?;
    Ok((
        report::ApplyRuns {
            shape,
            layout,
            samples,
            calls,
            parallelism: ctx.parallelism,
            note: String::new(),
            timeline,
        },
        live,
    ))
}

fn bench_apply_modify(ctx: &Ctx, n: usize, live: Option<Live>) -> Result<report::ApplyRuns> {
    let layout = ctx.layout(n)?;
    let b = bound::modify_bound(&layout, &ctx.limits);
    eprintln!(
        "\n[3] apply changing dpd_timeout on all {} tunnels; lower bound {:.2} s",
        layout.tunnels, b.total
    );
    let mut note = String::new();
    let live = match live {
        Some(l) if l.layout == layout => l,
        other => {
            if let Some(l) = other {
                l.sb.stop()?;
            }
            eprintln!("  setup: creating the tunnels with `tunnelform apply` (untimed)...");
            let (o, _, _, l) = one_create(ctx, layout, Shape::ForEach, "apply-modify-setup")?;
            note = format!(
                "(Setup, untimed: the tunnels were created by `tunnelform apply` in {:.1} s.)",
                o.wall.as_secs_f64()
            );
            l
        }
    };
    let mut samples = Vec::new();
    let mut calls = Vec::new();
    let mut timeline = Vec::new();
    for r in 0..ctx.runs {
        let value = if r % 2 == 0 { 45 } else { gen::DPD_TIMEOUT };
        gen::write_dpd_timeout(&live.dir, value)?;
        let tag = format!("apply-modify-{r}");
        let before = live.sb.stats()?;
        let (o, polled) = ctx.apply(&live.sb, &live.dir, &live.state, &tag)?;
        let after = live.sb.stats()?;
        if !o.ok() {
            return Err(o.failure("`tunnelform apply` (modify)"));
        }
        let d = after.since(&before);
        timeline = proc::timeline(&polled, &after);
        let modified = d.requests_for("ModifyVpnConnectionAttribute");
        if modified < layout.tunnels as u64 {
            bail!(
                "the apply sent {modified} ModifyVpnConnectionAttribute for {} tunnels",
                layout.tunnels
            );
        }
        ctx.expect_no_changes(&live.sb, &live.dir, &live.state, &format!("{tag}-check"))?;
        eprintln!(
            "  run {} (dpd_timeout = {value}): {:.2} s ({:.2}x the bound), peak RSS {:.1} MB, RequestLimitExceeded {}; {}",
            r + 1,
            o.wall.as_secs_f64(),
            o.wall.as_secs_f64() / b.total,
            report::mb(o.max_rss_kib),
            d.rate_limited(),
            d.requests_line()
        );
        samples.push(Sample::from(&o));
        calls.push(d);
    }
    live.sb.stop()?;
    Ok(report::ApplyRuns {
        shape: Shape::ForEach,
        layout,
        samples,
        calls,
        parallelism: ctx.parallelism,
        note,
        timeline,
    })
}

fn read_first(path: &str, key: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()?.lines().find_map(|l| {
        l.strip_prefix(key)
            .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
    })
}

fn machine() -> String {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpu = read_first("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown CPU".into());
    let mem = read_first("/proc/meminfo", "MemTotal")
        .and_then(|v| {
            v.split_whitespace()
                .next()
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|kib| format!("{:.1} GiB RAM", kib / 1024.0 / 1024.0))
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!(", Linux {}", s.trim()))
        .unwrap_or_default();
    format!("{nproc} vCPU ({cpu}), {mem}{kernel}")
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn now_utc() -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::now_utc()
        .format(&f)
        .unwrap_or_else(|_| "unknown date".into())
}

fn run(args: Args) -> Result<()> {
    let quick = args.quick;
    let runs = args.runs.unwrap_or(if quick { 1 } else { 3 });
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let sizes = args.sizes.clone().unwrap_or_else(|| {
        if quick {
            vec![20, 100]
        } else {
            vec![100, 1000, 10_000]
        }
    });
    let apply_n = args.apply_tunnels.unwrap_or(if quick { 100 } else { 1000 });
    let offline_n = args
        .offline_tunnels
        .unwrap_or(if quick { 1000 } else { 10_000 });
    let cgws = parse_cgws(&args.cgws)?;
    let write = !args.no_write && (args.write || !quick);
    let tf = locate_tunnelform(&args)?;
    let tmpdir = tempfile::Builder::new()
        .prefix("tunnelform-bench-")
        .tempdir()
        .context("creating a temporary directory")?;
    let ctx = Ctx {
        tf,
        tmp: tmpdir.path().to_path_buf(),
        runs,
        timeout: Duration::from_secs(args.timeout),
        per_gateway: args.tunnels_per_gateway,
        cgws,
        parallelism: args.parallelism,
        taskset: proc::taskset(),
        limits: Limits::default(),
        shapes: {
            let mut v = args.shapes.clone().unwrap_or_else(|| Shape::ALL.to_vec());
            v.sort();
            v.dedup();
            v
        },
    };
    // Check every layout before spending time.
    for &n in sizes.iter().chain([apply_n, offline_n].iter()) {
        ctx.layout(n)?;
    }
    let header_start = Header {
        date: now_utc(),
        machine: machine(),
        runs,
        load: loadavg(),
        quick,
    };
    eprintln!(
        "tunnelform-bench: {}\n  binary {}\n  machine {}\n  load average {}\n  work dir {}",
        now_utc(),
        ctx.tf.display(),
        header_start.machine,
        header_start.load,
        ctx.tmp.display()
    );

    let sel = |b: Bench| {
        args.benches.is_empty() || args.benches.contains(&Bench::All) || args.benches.contains(&b)
    };
    let mut worlds = HashMap::new();
    let mut sections: Vec<(&str, &str, String)> = Vec::new();
    let mut plan_results = Vec::new();
    if sel(Bench::PlanNoop) {
        plan_results = bench_plan_noop(&ctx, &sizes, offline_n, &mut worlds)?;
        let h = Header {
            load: format!("{} at start, {} at end", header_start.load, loadavg()),
            date: now_utc(),
            ..header_start_clone(&header_start)
        };
        sections.push((
            "plan-noop",
            "### 1. Plan with no changes",
            report::plan_noop_md(&h, &plan_results),
        ));
    }
    if sel(Bench::PlanFirst) {
        let start_load = loadavg();
        let r = bench_plan_first(&ctx, &sizes)?;
        let h = Header {
            load: format!("{start_load} at start, {} at end", loadavg()),
            date: now_utc(),
            ..header_start_clone(&header_start)
        };
        sections.push((
            "plan-first",
            "### 1b. First plan on an empty state",
            report::plan_first_md(&h, &r),
        ));
    }
    if sel(Bench::Offline) {
        let cli_pinned = plan_results
            .iter()
            .find(|r| r.layout.tunnels == offline_n)
            .map(|r| r.pinned.clone())
            .unwrap_or_default();
        let start_load = loadavg();
        let r = bench_offline(&ctx, offline_n, &mut worlds, cli_pinned)?;
        let h = Header {
            load: format!("{start_load} at start, {} at end", loadavg()),
            date: now_utc(),
            ..header_start_clone(&header_start)
        };
        sections.push((
            "offline",
            "### 4. Offline cost of planning",
            report::offline_md(&h, &r),
        ));
    }
    drop(worlds);
    let mut live = None;
    if sel(Bench::ApplyCreate) {
        let start_load = loadavg();
        let mut runs = Vec::new();
        // The for_each shape runs last, so that its live world serves benchmark 3.
        let mut shapes = ctx.shapes.clone();
        shapes.sort_by_key(|s| *s == Shape::ForEach);
        for shape in shapes {
            let (r, l) = bench_apply_create(&ctx, apply_n, shape)?;
            if let Some(old) = live.replace(l) {
                old.sb.stop()?;
            }
            runs.push(r);
        }
        runs.sort_by_key(|r| r.shape);
        let h = Header {
            load: format!("{start_load} at start, {} at end", loadavg()),
            date: now_utc(),
            ..header_start_clone(&header_start)
        };
        let bnd = bound::create_bound(&runs[0].layout, &ctx.limits);
        sections.push((
            "apply-create",
            "### 2. Apply creating everything from scratch",
            report::apply_create_shapes_md(&h, &runs, &bnd),
        ));
    }
    if sel(Bench::ApplyModify) {
        let start_load = loadavg();
        let r = bench_apply_modify(&ctx, apply_n, live.take())?;
        let h = Header {
            load: format!("{start_load} at start, {} at end", loadavg()),
            date: now_utc(),
            ..header_start_clone(&header_start)
        };
        let bnd = bound::modify_bound(&r.layout, &ctx.limits);
        sections.push((
            "apply-modify",
            "### 3. Apply changing one argument on every tunnel",
            report::apply_modify_md(&h, &r, &bnd),
        ));
    }
    if let Some(l) = live {
        l.sb.stop()?;
    }
    if sel(Bench::Routes) {
        let start_load = loadavg();
        let layout = if quick {
            routes::RoutesLayout::QUICK
        } else {
            routes::RoutesLayout::ISSUE
        };
        let r = routes::bench_routes(&ctx, layout)?;
        let h = Header {
            load: format!("{start_load} at start, {} at end", loadavg()),
            date: now_utc(),
            ..header_start_clone(&header_start)
        };
        sections.push(("routes", "### 7. Routes", routes::routes_md(&h, &r)));
    }
    if args.benches.contains(&Bench::Pg) {
        let start_load = loadavg();
        let n = args.pg_tunnels.unwrap_or(if quick { 100 } else { 1000 });
        let m = args
            .pg_bytes_tunnels
            .unwrap_or(if quick { 1000 } else { 10_000 });
        let r = pg::bench_pg(&ctx, n, m)?;
        let h = Header {
            load: format!("{start_load} at start, {} at end", loadavg()),
            date: now_utc(),
            ..header_start_clone(&header_start)
        };
        sections.push((
            "pg",
            "### 5. The PostgreSQL state backend",
            format!("{}{}", h.line(ctx.runs), r.markdown()),
        ));
    }

    if args.benches.contains(&Bench::Soak) {
        let start_load = loadavg();
        let opts = soak::SoakOpts {
            tunnels: args.soak_tunnels.unwrap_or(if quick { 100 } else { 1000 }),
            interval: soak::parse_duration(&args.soak_interval).context("--soak-interval")?,
            duration: soak::parse_duration(args.soak_duration.as_deref().unwrap_or(if quick {
                "1m"
            } else {
                "30m"
            }))
            .context("--soak-duration")?,
            fault_rate: args.soak_fault_rate,
            scrape_every: soak::parse_duration(&args.soak_scrape_every)
                .context("--soak-scrape-every")?,
            heal: if args.soak_heal {
                Some(soak::HealOpts {
                    every: soak::parse_duration(&args.soak_fault_every)
                        .context("--soak-fault-every")?,
                    drifts: args.soak_faults_per_round,
                    downs: args.soak_faults_per_round,
                    reset_after: soak::parse_duration(&args.soak_reset_after)
                        .context("--soak-reset-after")?,
                })
            } else {
                None
            },
        };
        if !(0.0..=1.0).contains(&opts.fault_rate) {
            bail!("--soak-fault-rate must be between 0 and 1");
        }
        let r = soak::bench_soak(&ctx, opts)?;
        let h = Header {
            load: format!("{start_load} at start, {} at end", loadavg()),
            date: now_utc(),
            ..header_start_clone(&header_start)
        };
        sections.push((
            "soak",
            "### 6. Watch soak",
            format!("{}{}", h.line(1), r.markdown()),
        ));
    }

    // The results, in the issue's order.
    let order = [
        "plan-noop",
        "plan-first",
        "apply-create",
        "apply-modify",
        "offline",
        "pg",
        "soak",
        "routes",
    ];
    sections.sort_by_key(|(n, _, _)| order.iter().position(|o| o == n));
    println!("\n# tunnelform-bench results\n");
    for (_, heading, md) in &sections {
        println!("{heading}\n\n{md}");
    }
    if write {
        let path = args
            .out
            .clone()
            .unwrap_or_else(|| workspace_root().join("BENCHMARKS.md"));
        let mut doc = std::fs::read_to_string(&path).unwrap_or_default();
        for (name, heading, md) in &sections {
            doc = report::replace_block(&doc, name, heading, md);
        }
        std::fs::write(&path, doc).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("results written to {}", path.display());
    }
    if args.keep {
        let kept = tmpdir.keep();
        eprintln!("kept {}", kept.display());
    }
    Ok(())
}

fn header_start_clone(h: &Header) -> Header {
    Header {
        date: h.date.clone(),
        machine: h.machine.clone(),
        runs: h.runs,
        load: h.load.clone(),
        quick: h.quick,
    }
}
