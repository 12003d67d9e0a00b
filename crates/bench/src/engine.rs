//! In-process use of tunnelform's own engine (the crates the CLI is made of):
//!
//! - [`engine_setup`]: the fast, untimed setup of large worlds (10,000 tunnels). It runs exactly what
//!   `tunnelform apply` runs (`make_plan` then `apply_plan` with the state file and journal), but with the
//!   client-side rate limiter off, against a setup sandbox whose rate limits are lifted and whose task latency
//!   is 0. The objects and the state it leaves are the ones `tunnelform apply` would leave; only faster.
//! - [`offline_plan`]: benchmark 4, the planning pipeline without the network: parse, evaluate, diff, graph,
//!   render, with the refreshed remote objects already in memory: `tunnelform_planner::plan_from` without a
//!   client, the planning `tunnelform plan` runs after its refresh.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use serde::{Deserialize, Serialize};
use tunnelform_apply::{apply_plan, ApplyOptions, Event, StateStore};
use tunnelform_config::{Config, VarInputs};
use tunnelform_model::{Address, Target};
use tunnelform_plan::{build_graph, Plan};
use tunnelform_planner::{make_plan, plan_from, refresh, PlanOptions, RemoteSnapshot};
use tunnelform_render::{render_human, RenderOptions};
use tunnelform_state::{Journal, State, StateFile};
use tunnelform_tencent_api::{Client, ClientConfig, Credentials, RateLimits};

use crate::gen::{self, Layout};

/// Every quota raised far above what a benchmark creates: the sandboxes run with them, and
/// tunnelform's plan is told (`--quota`), as an account whose quotas were raised would do.
pub const RAISED_QUOTAS: &[&str] = &[
    "vpn-gateways-per-vpc=100000",
    "tunnels-per-vpn-gateway=100000",
    "customer-gateways-per-region=100000",
    "tunnels-per-customer-gateway=100000",
];

/// The sandbox's default credentials (what the CLI uses with `--endpoint` and no credentials set).
pub const SANDBOX_SECRET_ID: &str = "AKIDsandbox";
pub const SANDBOX_SECRET_KEY: &str = "sandboxsecret";

/// Every action a setup may send: their rate limits are lifted on the setup sandbox.
pub const ACTIONS: &[&str] = &[
    "CreateVpnGateway",
    "DescribeVpnGateways",
    "ModifyVpnGatewayAttribute",
    "CreateCustomerGateway",
    "DescribeCustomerGateways",
    "CreateVpnConnection",
    "DescribeVpnConnections",
    "ModifyVpnConnectionAttribute",
    "DescribeVpcTaskResult",
    "DescribeVpcs",
    "TagResources",
    "UnTagResources",
    "GetResources",
];

fn client(url: &str, limited: bool) -> Result<Client> {
    let mut cc = ClientConfig::new(Credentials::new(
        SANDBOX_SECRET_ID,
        SANDBOX_SECRET_KEY,
        None,
    ))
    .with_endpoint(url)
    .map_err(|e| anyhow!("{e}"))?;
    if !limited {
        cc.rate_limits = RateLimits::unlimited();
    }
    Client::new(cc).map_err(|e| anyhow!("{e}"))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting a tokio runtime")
}

fn load_config(dir: &Path) -> Result<Config> {
    Config::load(dir, &VarInputs::default())
        .map(|(c, _)| c)
        .map_err(|d| anyhow!("{d}"))
}

/// What a setup apply did.
#[derive(Debug, Clone, Copy)]
pub struct SetupReport {
    pub added: usize,
}

/// `tunnelform apply --auto-approve --target ...` in-process, without client-side rate limits (setup only),
/// once per group of targets: first the gateways and customer gateways, then the tunnels `chunk` at a time.
/// (Chunks keep each plan's journal and progress small.) The state is saved once per chunk.
pub fn engine_setup(
    url: &str,
    dir: &Path,
    state_path: &Path,
    layout: &Layout,
    shape: gen::Shape,
    chunk: usize,
) -> Result<SetupReport> {
    let parse = |s: String| {
        s.parse::<Address>()
            .map_err(|e| anyhow!("bad address {s}: {e}"))
    };
    let mut groups: Vec<Vec<Address>> = vec![shape
        .gateway_targets(layout)
        .into_iter()
        .map(parse)
        .collect::<Result<_>>()?];
    let tunnels: Vec<Address> = (0..layout.tunnels)
        .map(|i| parse(shape.tunnel_address(layout, i)))
        .collect::<Result<_>>()?;
    groups.extend(tunnels.chunks(chunk.max(1)).map(<[Address]>::to_vec));
    let rt = runtime()?;
    rt.block_on(async {
        let config = Arc::new(load_config(dir)?);
        let client = client(url, false)?;
        let mut added = 0;
        for targets in groups {
            let file = StateFile::open(state_path).map_err(|e| anyhow!("{e}"))?;
            let state = file.load().map_err(|e| anyhow!("{e}"))?;
            let opts = PlanOptions {
                targets: targets.into_iter().map(Target::Resource).collect(),
                quotas: tunnelform_planner::QuotaOverrides::parse(RAISED_QUOTAS)
                    .map_err(|e| anyhow!("{e}"))?,
                ..PlanOptions::default()
            };
            let planned = make_plan(&client, &config, &state, &opts)
                .await
                .map_err(|e| anyhow!("planning the setup failed: {e}"))?;
            let journal = Journal::open(state_path).map_err(|e| anyhow!("{e}"))?;
            let store = StateStore::new(file, state, journal)
                .with_save_interval(Duration::from_secs(24 * 3600));
            let (_tx, rx) = tokio::sync::watch::channel(false);
            let opts = ApplyOptions {
                parallelism: 256,
                ownership_tags: true,
                project: None,
                interrupt: rx,
                task_timeout: Duration::from_secs(600),
            };
            let sink: Arc<dyn tunnelform_apply::EventSink> = Arc::new(|_e: Event| {});
            let report = apply_plan(
                &client,
                Some(config.clone()),
                Arc::new(planned.plan),
                Arc::new(planned.instances),
                planned.data,
                &store,
                opts,
                sink,
            )
            .await
            .map_err(|e| anyhow!("{e}"))?;
            if !report.failures.is_empty() {
                let first: Vec<String> = report
                    .failures
                    .iter()
                    .take(5)
                    .map(|f| f.to_string())
                    .collect();
                bail!(
                    "the setup apply had {} failures, e.g.:\n  {}",
                    report.failures.len(),
                    first.join("\n  ")
                );
            }
            added += report.added;
        }
        Ok(SetupReport { added })
    })
}

/// Refreshes the objects of the state at `state_path` (with the documented client limits).
pub fn fetch_remote(url: &str, state_path: &Path) -> Result<RemoteSnapshot> {
    let state = StateFile::open(state_path)
        .and_then(|f| f.load())
        .map_err(|e| anyhow!("{e}"))?;
    let rt = runtime()?;
    rt.block_on(async {
        let client = client(url, true)?;
        refresh(&client, &state)
            .await
            .map_err(|e| anyhow!("refresh failed: {e}"))
    })
}

/// Wall time of each phase of the offline plan (milliseconds).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Phases {
    pub parse_ms: f64,
    pub state_ms: f64,
    pub drift_ms: f64,
    pub evaluate_diff_ms: f64,
    pub validate_ms: f64,
    pub outputs_digests_ms: f64,
    pub graph_ms: f64,
    pub render_ms: f64,
    pub total_ms: f64,
}

/// VmRSS (KiB) after each phase of the offline plan.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct RssSteps {
    pub config: u64,
    pub state: u64,
    pub plan: u64,
    pub render: u64,
}

/// What the offline worker reports (one JSON line on stdout).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OfflineResult {
    pub mode: String,
    pub phases: Phases,
    pub changes: usize,
    pub creates: usize,
    pub has_changes: bool,
    pub graph_steps: usize,
    pub rendered_bytes: usize,
    /// Peak RSS of the planning alone (VmHWM after resetting it just before), KiB; 0 when unavailable.
    pub planning_peak_kib: u64,
    /// Resident memory (VmRSS, KiB) after each phase: configuration loaded, state loaded, plan made
    /// (with the refreshed objects, the state and the configuration still alive), plan rendered.
    #[serde(default)]
    pub rss_after_kib: RssSteps,
    /// RSS when planning started (the remote objects already in memory), KiB.
    pub rss_before_kib: u64,
    /// RSS after the refresh, before the memory it freed was given back to the system, KiB.
    #[serde(default)]
    pub rss_refreshed_kib: u64,
    pub peak_reset: bool,
    /// Live heap bytes by step and structure (only with `TUNNELFORM_BENCH_HEAP=1`: see `heap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heap: Option<HeapBreakdown>,
}

/// Live heap (KiB, counted by the worker's allocator) after each step, the peak while planning, and
/// what each structure held (the drop in live heap when it was dropped, in this order after the
/// rendering: the rendered text, the plan's changes, the rest of the plan, the expanded instances,
/// the snapshot left after planning, the state, the configuration).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct HeapBreakdown {
    pub before: u64,
    pub config: u64,
    pub state: u64,
    pub plan: u64,
    pub render: u64,
    pub peak: u64,
    pub held_text: u64,
    pub held_changes: u64,
    pub held_plan_rest: u64,
    pub held_instances: u64,
    pub held_snapshot: u64,
    pub held_state: u64,
    pub held_config: u64,
}

fn heap_kib() -> u64 {
    (crate::heap::live() / 1024) as u64
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `VmRSS` / `VmHWM` of this process (KiB).
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Gives the memory the allocator holds free back to the system (mimalloc's `mi_collect`, forced:
/// this thread's free pages and those the refresh's ended threads left).
fn release_free_memory() {
    // SAFETY: mi_collect only releases free memory of the allocator; it takes no pointer.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

/// Resets the peak-RSS mark (`VmHWM`) of this process (Linux `clear_refs` value 5).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The planning pipeline (see the module documentation): the configuration and state loads, then
/// `tunnelform_planner::plan_from` without a client (what `tunnelform plan` runs after its refresh), then the
/// human rendering. `state_path`: plan against that state and the given remote objects (the no-change
/// plan); without, plan from an empty state (every object created). With the heap counted, `heap`
/// gets the live heap after each step and what each structure held.
pub fn offline_plan(
    dir: &Path,
    state_path: Option<&Path>,
    remote: RemoteSnapshot,
    heap: Option<&mut HeapBreakdown>,
) -> Result<(Plan, Phases, String, RssSteps)> {
    let rss = || proc_status_kib("VmRSS:").unwrap_or(0);
    let mut steps = RssSteps::default();
    let mut hs = HeapBreakdown::default();
    let mut ph = Phases::default();
    let t0 = Instant::now();
    let config = load_config(dir)?;
    ph.parse_ms = ms(t0.elapsed());
    steps.config = rss();
    hs.config = heap_kib();

    let t = Instant::now();
    let state = match state_path {
        Some(p) => StateFile::open(p)
            .and_then(|f| f.load())
            .map_err(|e| anyhow!("{e}"))?,
        None => State::new(),
    };
    ph.state_ms = ms(t.elapsed());
    steps.state = rss();
    hs.state = heap_kib();

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .context("starting a tokio runtime")?;
    let planned = rt
        .block_on(plan_from(
            None,
            &config,
            &state,
            remote,
            &PlanOptions::default(),
        ))
        .map_err(|e| anyhow!("{e}"))?;
    steps.plan = rss();
    hs.plan = heap_kib();
    let tm = planned.timings;
    ph.drift_ms = ms(tm.drift);
    ph.evaluate_diff_ms = ms(tm.evaluate_diff);
    ph.validate_ms = ms(tm.validate);
    ph.outputs_digests_ms = ms(tm.outputs_digests);
    ph.graph_ms = ms(tm.graph);

    let t = Instant::now();
    let text = render_human(&planned.plan, &RenderOptions { color: false });
    ph.render_ms = ms(t.elapsed());
    ph.total_ms = ms(t0.elapsed());
    steps.render = rss();
    hs.render = heap_kib();
    hs.peak = (crate::heap::peak() / 1024) as u64;
    let Some(out) = heap else {
        return Ok((planned.plan, ph, text, steps));
    };
    // What each structure holds: the fall of the live heap when it is dropped.
    let held = |f: &mut dyn FnMut()| {
        let before = heap_kib();
        f();
        before.saturating_sub(heap_kib())
    };
    // (The rendered text and the plan are still needed: copies of them are measured.)
    hs.held_text = (text.capacity() / 1024) as u64;
    let mut changes = planned.plan.changes.clone();
    hs.held_changes = held(&mut || drop(std::mem::take(&mut changes)));
    let plan = planned.plan;
    let mut rest = plan.clone();
    rest.changes = Vec::new();
    hs.held_plan_rest = held(&mut || drop(std::mem::replace(&mut rest, Plan::new(""))));
    let mut instances = planned.instances;
    hs.held_instances = held(&mut || drop(std::mem::take(&mut instances)));
    let mut snapshot = planned.remote;
    hs.held_snapshot = held(&mut || drop(std::mem::take(&mut snapshot)));
    let mut state = state;
    hs.held_state = held(&mut || drop(std::mem::replace(&mut state, State::new())));
    let mut config = Some(config);
    hs.held_config = held(&mut || drop(config.take()));
    *out = HeapBreakdown {
        before: out.before,
        ..hs
    };
    Ok((plan, ph, text, steps))
}

/// The worker behind benchmark 4 (run in its own process, pinned to one core): fetches the remote objects
/// (untimed) when planning against a state, resets the peak-RSS mark, runs [`offline_plan`], and prints one
/// JSON line.
pub fn offline_worker(dir: &Path, state: Option<&Path>, endpoint: Option<&str>) -> Result<()> {
    let remote = match (state, endpoint) {
        (Some(s), Some(url)) => fetch_remote(url, s)?,
        (Some(_), None) => bail!("--endpoint is needed to refresh the state's objects"),
        _ => RemoteSnapshot::default(),
    };
    // The refresh (untimed set-up) leaves the allocator holding what it freed (response bodies,
    // typed answers, the state it read, spread over the runtime's threads' arenas): given back
    // before planning starts, so that the planning's peak counts the refreshed objects, not the
    // set-up's leftovers.
    let rss_refreshed_kib = proc_status_kib("VmRSS:").unwrap_or(0);
    release_free_memory();
    let peak_reset = reset_peak_rss();
    let rss_before_kib = proc_status_kib("VmRSS:").unwrap_or(0);
    let mut heap = crate::heap::on().then(|| HeapBreakdown {
        before: heap_kib(),
        ..HeapBreakdown::default()
    });
    crate::heap::reset_peak();
    let (plan, phases, text, rss_after_kib) = offline_plan(dir, state, remote, heap.as_mut())?;
    let planning_peak_kib = if peak_reset {
        proc_status_kib("VmHWM:").unwrap_or(0)
    } else {
        0
    };
    let steps = build_graph(&plan).map(|g| g.len()).unwrap_or(0);
    let summary = plan.summary();
    let result = OfflineResult {
        mode: if state.is_some() {
            "no-change"
        } else {
            "create"
        }
        .into(),
        phases,
        changes: plan.changes.iter().filter(|c| !c.is_noop()).count(),
        creates: summary.add,
        has_changes: plan.has_changes(),
        graph_steps: steps,
        rendered_bytes: text.len(),
        planning_peak_kib,
        rss_after_kib,
        rss_before_kib,
        rss_refreshed_kib,
        peak_reset,
        heap,
    };
    println!("{}", serde_json::to_string(&result)?);
    Ok(())
}
