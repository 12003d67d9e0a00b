//! In-process use of tunnelform's own engine (the crates the CLI is made of):
//!
//! - [`engine_setup`]: the fast, untimed setup of large worlds (10,000 tunnels). It runs exactly what
//!   `tunnelform apply` runs (`make_plan` then `apply_plan` with the state file and journal), but with the
//!   client-side rate limiter off, against a setup sandbox whose rate limits are lifted and whose task latency
//!   is 0. The objects and the state it leaves are the ones `tunnelform apply` would leave; only faster.
//! - [`offline_plan`]: benchmark 4, the planning pipeline without the network: parse, evaluate, diff, graph,
//!   render, with the refreshed remote objects already in memory. It mirrors `tunnelform_apply::make_plan`
//!   (mode Normal, no data sources, no imports), which cannot be called without a client.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use serde::{Deserialize, Serialize};
use tunnelform_apply::{
    apply_plan, make_plan, refresh, ApplyOptions, Event, PlanOptions, RemoteSnapshot, StateStore,
};
use tunnelform_config::{Config, Instance, InstanceKind, VarInputs};
use tunnelform_model::{Address, Mode, ResourceKind, Value};
use tunnelform_plan::render::{render_human, RenderOptions};
use tunnelform_plan::{
    build_graph, detect_drift, diff_managed, object_digest, Action, Attrs, DiffInput, Lifecycle,
    OutputChange, Plan,
};
use tunnelform_state::{Journal, State, StateFile};
use tunnelform_tencent_api::{Client, ClientConfig, Credentials, RateLimits};

use crate::gen::{self, Layout};

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
/// (Chunks keep each plan's execution graph and journal small: building the graph of 10,000 tunnel creates
/// at once takes minutes, see BENCHMARKS.md.) The state is saved once per chunk.
pub fn engine_setup(
    url: &str,
    dir: &Path,
    state_path: &Path,
    layout: &Layout,
    chunk: usize,
) -> Result<SetupReport> {
    let parse = |s: String| {
        s.parse::<Address>()
            .map_err(|e| anyhow!("bad address {s}: {e}"))
    };
    let mut groups: Vec<Vec<Address>> = vec![vec![
        parse("tencentcloud_vpn_gateway.gw".into())?,
        parse("tencentcloud_vpn_customer_gateway.office".into())?,
    ]];
    let tunnels: Vec<Address> = (0..layout.tunnels)
        .map(|i| {
            parse(format!(
                "tencentcloud_vpn_connection.tunnel[\"{}\"]",
                gen::tunnel_key(layout, i)
            ))
        })
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
                targets,
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

/// Planned values of the instances evaluated so far (the evaluator's view of resources).
#[derive(Default)]
struct PlannedValues(RefCell<HashMap<Address, Value>>);

impl tunnelform_config::Lookup for PlannedValues {
    fn instance(&self, addr: &Address) -> Option<Value> {
        self.0.borrow().get(addr).cloned()
    }
}

fn lifecycle_of(i: &Instance) -> Lifecycle {
    Lifecycle {
        prevent_destroy: i.lifecycle.prevent_destroy,
        create_before_destroy: i.lifecycle.create_before_destroy,
        ignore_changes: i.lifecycle.ignore_changes.clone(),
    }
}

fn prior_attrs(rs: &tunnelform_state::ResourceState) -> Attrs {
    let mut a = rs.attributes.clone();
    for k in rs.secret_digests.keys() {
        a.insert(
            k.clone(),
            Value::sensitive(Value::from("(sensitive value)")),
        );
    }
    a.insert("id".into(), Value::from(rs.id.as_str()));
    a
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
    /// RSS when planning started (the remote objects already in memory), KiB.
    pub rss_before_kib: u64,
    pub peak_reset: bool,
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

/// Resets the peak-RSS mark (`VmHWM`) of this process (Linux `clear_refs` value 5).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The planning pipeline (see the module documentation). `with_state`: plan against the state at
/// `state_path` and the given remote objects (the no-change plan); without, plan from an empty state (every
/// object created).
pub fn offline_plan(
    dir: &Path,
    state_path: Option<&Path>,
    remote: &RemoteSnapshot,
) -> Result<(Plan, Phases, String)> {
    let mut ph = Phases::default();
    let t0 = Instant::now();
    let config = load_config(dir)?;
    ph.parse_ms = ms(t0.elapsed());

    let t = Instant::now();
    let state = match state_path {
        Some(p) => StateFile::open(p)
            .and_then(|f| f.load())
            .map_err(|e| anyhow!("{e}"))?,
        None => State::new(),
    };
    ph.state_ms = ms(t.elapsed());

    let t = Instant::now();
    let mut plan = Plan::new(tunnelform_apply::TUNNELFORM_VERSION);
    plan.lineage = Some(state.lineage.clone());
    plan.serial = Some(state.serial);
    plan.config_digest = config.digest();
    for (addr, rs) in &state.resources {
        let Some(kind) = ResourceKind::from_type_name(&rs.type_name) else {
            continue;
        };
        if rs.mode != Mode::Managed {
            continue;
        }
        let r = remote.objects.get(addr);
        let matches = |attr: &str, v: &Value| {
            rs.secret_digests
                .get(attr)
                .and_then(|d| v.as_str().map(|s| d.matches(s)))
        };
        if let Some(d) = detect_drift(
            addr,
            kind,
            &rs.id,
            &prior_attrs(rs),
            r.map(|o| &o.attrs),
            &matches,
        ) {
            plan.drift.push(d);
        }
    }
    ph.drift_ms = ms(t.elapsed());

    let t = Instant::now();
    let values = PlannedValues::default();
    let mut instances: BTreeMap<Address, Instance> = BTreeMap::new();
    let mut all: Vec<Instance> = Vec::new();
    let order = config.block_order().map_err(|d| anyhow!("{d}"))?;
    for block in &order {
        let expanded = config
            .expand_block(block, &values)
            .map_err(|d| anyhow!("{d}"))?;
        for inst in expanded {
            let InstanceKind::Managed(kind) = inst.kind else {
                bail!("the offline driver does not read data sources");
            };
            let r = remote.objects.get(&inst.address);
            let lc = lifecycle_of(&inst);
            let mut deps: BTreeSet<Address> = inst.depends_on.iter().cloned().collect();
            if let Some(rs) = state.resources.get(&inst.address) {
                deps.extend(rs.dependencies.iter().cloned());
            }
            let change = diff_managed(DiffInput {
                address: &inst.address,
                kind,
                region: &inst.provider.region,
                provider_alias: inst.provider.alias.as_deref(),
                desired: Some(&inst.attrs),
                remote: r.map(|o| (o.id.as_str(), &o.attrs)),
                in_state: state.resources.contains_key(&inst.address),
                lifecycle: &lc,
                depends_on: deps.into_iter().collect(),
                importing: None,
            });
            let planned = match change.action {
                Action::NoOp | Action::Update | Action::Create | Action::Replace { .. } => {
                    change.after.clone().map(Value::Map)
                }
                _ => None,
            };
            if let Some(v) = planned {
                values.0.borrow_mut().insert(inst.address.clone(), v);
            }
            plan.changes.push(change);
            all.push(inst.clone());
            instances.insert(inst.address.clone(), inst);
        }
    }
    // Objects in state that the configuration no longer has.
    for (addr, rs) in &state.resources {
        if rs.mode != Mode::Managed || instances.contains_key(addr) {
            continue;
        }
        let Some(kind) = ResourceKind::from_type_name(&rs.type_name) else {
            continue;
        };
        let r = remote.objects.get(addr);
        let lc = Lifecycle::default();
        plan.changes.push(diff_managed(DiffInput {
            address: addr,
            kind,
            region: &rs.region,
            provider_alias: rs.provider_alias.as_deref(),
            desired: None,
            remote: r.map(|o| (o.id.as_str(), &o.attrs)),
            in_state: true,
            lifecycle: &lc,
            depends_on: rs.dependencies.iter().cloned().collect(),
            importing: None,
        }));
    }
    ph.evaluate_diff_ms = ms(t.elapsed());

    let t = Instant::now();
    let diags = tunnelform_config::validate_instances(&all);
    if diags.has_errors() {
        bail!("{diags}");
    }
    ph.validate_ms = ms(t.elapsed());

    let t = Instant::now();
    let outputs = config.outputs(&values).map_err(|d| anyhow!("{d}"))?;
    for o in outputs {
        let before = state.outputs.get(&o.name).map(|s| s.value.clone());
        let action = match &before {
            None => Action::Create,
            Some(b)
                if !o.sensitive
                    && o.value.is_wholly_known()
                    && b.to_json() == o.value.to_json() =>
            {
                Action::NoOp
            }
            Some(_) if o.sensitive => Action::NoOp,
            Some(_) => Action::Update,
        };
        plan.outputs.push(OutputChange {
            name: o.name,
            action,
            before,
            after: Some(o.value),
            sensitive: o.sensitive,
        });
    }
    for c in &plan.changes {
        if let Some(b) = &c.before {
            plan.remote_digests
                .insert(c.address.to_string(), object_digest(b));
        }
    }
    plan.changes.sort_by(|a, b| a.address.cmp(&b.address));
    ph.outputs_digests_ms = ms(t.elapsed());

    let t = Instant::now();
    let graph = build_graph(&plan).map_err(|e| anyhow!("{e}"))?;
    let _steps = graph.len();
    ph.graph_ms = ms(t.elapsed());

    let t = Instant::now();
    let text = render_human(&plan, &RenderOptions { color: false });
    ph.render_ms = ms(t.elapsed());
    ph.total_ms = ms(t0.elapsed());
    Ok((plan, ph, text))
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
    let peak_reset = reset_peak_rss();
    let rss_before_kib = proc_status_kib("VmRSS:").unwrap_or(0);
    let (plan, phases, text) = offline_plan(dir, state, &remote)?;
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
        rss_before_kib,
        peak_reset,
    };
    println!("{}", serde_json::to_string(&result)?);
    drop(remote);
    Ok(())
}
