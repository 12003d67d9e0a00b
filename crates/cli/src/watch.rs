//! `tunnelform watch`: a long-running reconciler. Every interval (and on SIGHUP) it reloads the
//! configuration from disk, plans with the same engine as `plan`, and reports drift (objects
//! changed outside tunnelform), pending changes (files ahead of the cloud) and tunnel health,
//! as events on stdout and as Prometheus metrics on `GET /metrics`. With `--auto-apply` it applies
//! plans it is allowed to (no deletes or replacements without `--allow-destroy`); with
//! `--reset-down-after` it resets tunnels that stay down (`resets`).

mod refusal;
mod resets;
mod settled;

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde_json::json;
use tunnelform_apply::{apply_plan, ApplyOptions, StateStore};
use tunnelform_kinds::ResourceKind;
use tunnelform_plan::{Action, Plan};
use tunnelform_planner::{make_plan, PlanMode, PlanOptions};

use crate::args::Common;
use crate::context::{check_cloud, client, load_config, project_of, record_cloud, Rendered};

/// What `tunnelform watch` was asked to do.
pub struct WatchArgs {
    pub dir: PathBuf,
    pub interval: Duration,
    pub listen: SocketAddr,
    pub auto_apply: bool,
    pub allow_destroy: bool,
    pub parallelism: usize,
    pub webhook: Option<String>,
    /// How events reach the webhook (signing secret, queue, timeout).
    pub webhook_options: crate::webhook::Options,
    /// Reset a tunnel down for longer than this (at most once per this window).
    pub reset_down_after: Option<Duration>,
    pub common: Common,
}

impl WatchArgs {
    /// Whether this watcher may ever act (apply, reset): only such a watcher takes the state lock
    /// and joins the leader election ([`crate::leader::Actor::decide`]).
    fn wants_to_act(&self) -> bool {
        self.auto_apply || self.reset_down_after.is_some()
    }
}

/// One object as a metric label set.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct ObjectLabels {
    address: String,
    kind: String,
    id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TunnelLabels {
    address: String,
    id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TunnelStatusLabels {
    address: String,
    id: String,
    state: String,
    net_status: String,
    health_check_status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct TunnelOutcomeLabels {
    address: String,
    id: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

/// A tunnel's health as the API reports it (kept apart from configuration drift).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Tunnel {
    id: String,
    state: String,
    net_status: String,
    health_check_status: String,
}

impl Tunnel {
    fn up(&self) -> bool {
        self.net_status == "AVAILABLE"
    }
}

/// What one cycle saw.
#[derive(Clone, Debug, Default)]
struct Observation {
    /// Every object of the state or the plan, by address: (kind, id).
    objects: BTreeMap<String, (String, String)>,
    /// Objects changed outside tunnelform: address -> changed arguments (empty when deleted).
    drift: BTreeMap<String, Vec<String>>,
    /// Changes the configuration asks for that are not drift corrections: address -> action.
    pending: BTreeMap<String, String>,
    tunnels: BTreeMap<String, Tunnel>,
}

/// What the HTTP endpoints serve, updated after every cycle.
#[derive(Default)]
struct Shared {
    last: Option<Observation>,
    /// Cycles begun (numbered from 1; the role events carry the number of theirs).
    cycles_started: u64,
    cycles_ok: u64,
    cycles_failed: u64,
    last_duration: f64,
    last_success: f64,
    applies: BTreeMap<String, u64>,
    role: crate::leader::Role,
    /// ResetVpnConnection calls made by `--reset-down-after`, by tunnel and outcome.
    resets: BTreeMap<TunnelOutcomeLabels, u64>,
    /// Whether the last cycle's plan was refused by `--auto-apply` (and the refusal stands).
    apply_refused: bool,
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Writes one event: a JSON line with a timestamp, or plain text on a terminal.
fn emit(event: &str, mut fields: serde_json::Map<String, serde_json::Value>) {
    let time = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    if std::io::stdout().is_terminal() {
        let mut line = serde_json::Map::new();
        line.insert("time".into(), json!(time));
        line.insert("event".into(), json!(event));
        line.extend(fields.clone());
        crate::webhook::push(&serde_json::Value::Object(line));
        let rest: Vec<String> = fields
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        crate::output::stdout_lossy(format_args!(
            "{time} {event} {}\n",
            crate::output::escape_controls(&rest.join(" "))
        ));
        return;
    }
    let mut line = serde_json::Map::new();
    line.insert("time".into(), json!(time));
    line.insert("event".into(), json!(event));
    line.append(&mut fields);
    let line = serde_json::Value::Object(line);
    crate::webhook::push(&line);
    crate::output::stdout_lossy(format_args!("{line}\n"));
}

macro_rules! fields {
    ($($k:literal : $v:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut m = serde_json::Map::new();
        $( m.insert($k.to_string(), json!($v)); )*
        m
    }};
}

/// What the plan says, split into drift, pending changes and tunnel health.
fn observe(state: &tunnelform_state::State, planned: &tunnelform_planner::Planned) -> Observation {
    let mut o = Observation::default();
    for (addr, rs) in &state.resources {
        if let Some(kind) = rs.kind() {
            if rs.mode == tunnelform_model::Mode::Managed {
                o.objects.insert(
                    addr.to_string(),
                    (kind.type_name().to_string(), rs.id.clone()),
                );
            }
        }
    }
    for d in &planned.plan.drift {
        let addr = d.address.to_string();
        o.objects
            .entry(addr.clone())
            .or_insert_with(|| (d.kind.type_name().to_string(), d.id.clone()));
        o.drift.insert(addr, d.changed.clone());
    }
    for c in &planned.plan.changes {
        if matches!(c.action, Action::NoOp | Action::Read) && c.importing.is_none() {
            continue;
        }
        let addr = c.address.to_string();
        if o.drift.contains_key(&addr) {
            continue;
        }
        o.objects.entry(addr.clone()).or_insert_with(|| {
            (
                c.kind.type_name().to_string(),
                c.id.clone().unwrap_or_default(),
            )
        });
        o.pending
            .insert(addr, c.action.json_actions().join("-").to_string());
    }
    // A normal plan hands each refreshed object's attributes to its change (`before`) rather than
    // copying them: they are read there, and from the snapshot for what the plan did not take.
    let refreshed: std::collections::HashMap<&tunnelform_model::Address, &tunnelform_plan::Attrs> =
        planned
            .plan
            .changes
            .iter()
            .filter(|c| !c.deposed)
            .filter_map(|c| Some((&c.address, c.before.as_deref()?)))
            .collect();
    for (addr, r) in &planned.remote.objects {
        if r.kind != ResourceKind::VpnConnection {
            continue;
        }
        let attrs = match refreshed.get(addr) {
            Some(before) if r.attrs.is_empty() => *before,
            _ => &r.attrs,
        };
        let s = |k: &str| {
            attrs
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        o.tunnels.insert(
            addr.to_string(),
            Tunnel {
                id: r.id.clone(),
                state: s("state"),
                net_status: s("net_status"),
                health_check_status: s("health_check_status"),
            },
        );
    }
    o
}

/// Events for what changed between two observations.
fn report_changes(prev: Option<&Observation>, now: &Observation) {
    let empty = Observation::default();
    let prev = prev.unwrap_or(&empty);
    let ident = |o: &Observation, a: &str| o.objects.get(a).cloned().unwrap_or_default();
    for (a, attrs) in &now.drift {
        if prev.drift.get(a) != Some(attrs) {
            let (kind, id) = ident(now, a);
            emit(
                "drift_appeared",
                fields!("address": a, "kind": kind, "id": id, "attributes": attrs),
            );
        }
    }
    for a in prev.drift.keys() {
        if !now.drift.contains_key(a) {
            let (kind, id) = ident(prev, a);
            emit(
                "drift_cleared",
                fields!("address": a, "kind": kind, "id": id),
            );
        }
    }
    for (a, action) in &now.pending {
        if prev.pending.get(a) != Some(action) {
            let (kind, id) = ident(now, a);
            emit(
                "pending_change",
                fields!("address": a, "kind": kind, "id": id, "action": action),
            );
        }
    }
    for a in prev.pending.keys() {
        if !now.pending.contains_key(a) {
            let (kind, id) = ident(prev, a);
            emit(
                "pending_cleared",
                fields!("address": a, "kind": kind, "id": id),
            );
        }
    }
    for (a, t) in &now.tunnels {
        let was_up = prev.tunnels.get(a).map(Tunnel::up);
        if was_up != Some(t.up()) && (was_up.is_some() || !t.up()) {
            emit(
                if t.up() { "tunnel_up" } else { "tunnel_down" },
                fields!(
                    "address": a,
                    "id": t.id,
                    "state": t.state,
                    "net_status": t.net_status,
                    "health_check_status": t.health_check_status,
                ),
            );
        }
    }
}

/// Why `--auto-apply` does not apply this plan, if it does not.
fn refuse_apply(plan: &Plan, allow_destroy: bool) -> Option<String> {
    if allow_destroy {
        return None;
    }
    let destructive: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Delete | Action::Replace { .. }) && !c.forget)
        .map(|c| c.address.to_string())
        .collect();
    (!destructive.is_empty()).then(|| {
        format!(
            "the plan deletes or replaces {}; rerun watch with --allow-destroy to let it apply such plans",
            destructive.join(", ")
        )
    })
}

fn render_metrics(shared: &Shared, api: &tunnelform_tencent_api::MetricsSnapshot) -> String {
    let mut reg = Registry::with_prefix("tunnelform");
    let drift = Family::<ObjectLabels, Gauge>::default();
    let pending = Family::<ObjectLabels, Gauge>::default();
    let tunnel_up = Family::<TunnelLabels, Gauge>::default();
    let health_up = Family::<TunnelLabels, Gauge>::default();
    let status = Family::<TunnelStatusLabels, Gauge>::default();
    if let Some(o) = &shared.last {
        for (addr, (kind, id)) in &o.objects {
            let l = ObjectLabels {
                address: addr.clone(),
                kind: kind.clone(),
                id: id.clone(),
            };
            drift
                .get_or_create(&l)
                .set(i64::from(o.drift.contains_key(addr)));
            pending
                .get_or_create(&l)
                .set(i64::from(o.pending.contains_key(addr)));
        }
        for (addr, t) in &o.tunnels {
            let l = TunnelLabels {
                address: addr.clone(),
                id: t.id.clone(),
            };
            tunnel_up.get_or_create(&l).set(i64::from(t.up()));
            health_up
                .get_or_create(&l)
                .set(i64::from(t.health_check_status == "AVAILABLE"));
            status
                .get_or_create(&TunnelStatusLabels {
                    address: addr.clone(),
                    id: t.id.clone(),
                    state: t.state.clone(),
                    net_status: t.net_status.clone(),
                    health_check_status: t.health_check_status.clone(),
                })
                .set(1);
        }
    }
    reg.register(
        "drift",
        "1 when the object was changed outside tunnelform (last cycle)",
        drift,
    );
    reg.register(
        "pending_change",
        "1 when the configuration asks for a change of the object that is not a drift correction",
        pending,
    );
    reg.register(
        "tunnel_up",
        "1 when the tunnel's NetStatus is AVAILABLE",
        tunnel_up,
    );
    reg.register(
        "tunnel_health_check_up",
        "1 when the tunnel's HealthCheckStatus is AVAILABLE",
        health_up,
    );
    reg.register(
        "tunnel_status",
        "The tunnel's State, NetStatus and HealthCheckStatus as labels (always 1)",
        status,
    );
    let cycles = Family::<OutcomeLabels, Counter>::default();
    cycles
        .get_or_create(&OutcomeLabels {
            outcome: "ok".into(),
        })
        .inc_by(shared.cycles_ok);
    cycles
        .get_or_create(&OutcomeLabels {
            outcome: "error".into(),
        })
        .inc_by(shared.cycles_failed);
    reg.register("cycles", "Watch cycles run, by outcome", cycles);
    let started = Counter::<u64>::default();
    started.inc_by(shared.cycles_started);
    reg.register(
        "cycles_started",
        "Watch cycles begun (the one in progress included); role events carry their cycle's number",
        started,
    );
    let duration = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    duration.set(shared.last_duration);
    reg.register(
        "cycle_duration_seconds",
        "Wall time of the last cycle",
        duration,
    );
    let last = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    last.set(shared.last_success);
    reg.register(
        "last_successful_cycle_timestamp_seconds",
        "Unix time the last successful cycle ended (0: none yet)",
        last,
    );
    let applies = Family::<OutcomeLabels, Counter>::default();
    for (outcome, n) in &shared.applies {
        applies
            .get_or_create(&OutcomeLabels {
                outcome: outcome.clone(),
            })
            .inc_by(*n);
    }
    reg.register(
        "applies",
        "Applies run by --auto-apply, by outcome",
        applies,
    );
    let refused = Gauge::<i64>::default();
    refused.set(i64::from(shared.apply_refused));
    reg.register(
        "apply_refused",
        "1 while --auto-apply refuses the plan (the apply_refused event is emitted once, when the refusal is new or changed)",
        refused,
    );
    let resets = Family::<TunnelOutcomeLabels, Counter>::default();
    for (l, n) in &shared.resets {
        resets.get_or_create(l).inc_by(*n);
    }
    reg.register(
        "tunnel_resets",
        "ResetVpnConnection calls made by --reset-down-after, by tunnel and outcome (success: the reset was accepted; error)",
        resets,
    );
    let calls = Family::<ActionLabels, Counter>::default();
    for (action, n) in &api.calls {
        calls
            .get_or_create(&ActionLabels {
                action: action.clone(),
            })
            .inc_by(*n);
    }
    reg.register(
        "api_requests",
        "API requests sent, by action (retries included)",
        calls,
    );
    let errors = Family::<CodeLabels, Counter>::default();
    for (code, n) in &api.errors {
        errors
            .get_or_create(&CodeLabels { code: code.clone() })
            .inc_by(*n);
    }
    reg.register("api_errors", "Failed API requests, by error code", errors);
    let limited = Counter::<u64>::default();
    limited.inc_by(api.request_limit_exceeded);
    reg.register(
        "api_request_limit_exceeded",
        "RequestLimitExceeded answers",
        limited,
    );
    let wait = Counter::<f64, std::sync::atomic::AtomicU64>::default();
    wait.inc_by(api.limiter_wait.as_secs_f64());
    reg.register(
        "rate_limiter_wait_seconds",
        "Time spent waiting for the client-side rate limiter",
        wait,
    );
    let leader = Gauge::<i64>::default();
    leader.set(i64::from(shared.role == crate::leader::Role::Leader));
    reg.register(
        "leader",
        "1 when this watcher may act (it leads the replicas of its state and holds the state lock)",
        leader,
    );
    if let Some(w) = crate::webhook::stats() {
        let events = Family::<OutcomeLabels, Counter>::default();
        for (outcome, n) in [
            ("sent", w.sent),
            ("failed", w.failed),
            ("dropped", w.dropped),
        ] {
            events
                .get_or_create(&OutcomeLabels {
                    outcome: outcome.into(),
                })
                .inc_by(n);
        }
        reg.register(
            "webhook_events",
            "Events for --webhook, by outcome: sent, failed (every retry failed), dropped (queue full, or left at stop)",
            events,
        );
        let retries = Counter::<u64>::default();
        retries.inc_by(w.retries);
        reg.register("webhook_retries", "Webhook deliveries tried again", retries);
        let queued = Gauge::<i64>::default();
        queued.set(i64::try_from(w.queued).unwrap_or(i64::MAX));
        reg.register(
            "webhook_queue",
            "Events waiting for webhook delivery",
            queued,
        );
    }
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &reg);
    out
}

async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Mutex<Shared>>,
    client: tunnelform_tencent_api::Client,
) {
    use axum::http::{header, StatusCode};
    use axum::routing::get;
    let s1 = shared.clone();
    let s2 = shared;
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let s1 = s1.clone();
                let client = client.clone();
                async move {
                    let body = {
                        let g = s1.lock().unwrap_or_else(|e| e.into_inner());
                        render_metrics(&g, &client.metrics())
                    };
                    (
                        [(
                            header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        body,
                    )
                }
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let s2 = s2.clone();
                async move {
                    let g = s2.lock().unwrap_or_else(|e| e.into_inner());
                    if g.last.is_some() {
                        (StatusCode::OK, format!("ready ({})\n", g.role.as_str()))
                    } else {
                        (
                            StatusCode::SERVICE_UNAVAILABLE,
                            "no successful cycle yet\n".to_string(),
                        )
                    }
                }
            }),
        );
    let _ = axum::serve(listener, app).await;
}

/// SIGHUP: asks for a cycle now.
struct Hangup {
    #[cfg(unix)]
    sig: tokio::signal::unix::Signal,
}

impl Hangup {
    fn listen() -> Result<Hangup> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Hangup {
                sig: signal(SignalKind::hangup()).context("listening for SIGHUP")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Hangup {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            if self.sig.recv().await.is_none() {
                std::future::pending::<()>().await
            }
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    }
}

/// SIGTERM and Ctrl-C: ask to stop.
struct Stop {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Stop {
    fn listen() -> Result<Stop> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Stop {
                term: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Stop {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The outcome of one cycle.
struct Cycle {
    observation: Observation,
    /// `Some(outcome)` when an apply ran.
    applied: Option<String>,
    role: crate::leader::Role,
    /// Resets made by `--reset-down-after`.
    resets: Vec<TunnelOutcomeLabels>,
}

/// What the watcher carries from one cycle to the next besides the last observation.
struct Memory {
    refusal: refusal::Refusal,
    resets: Option<resets::Resets>,
    /// The state's backend: a pg one (and its connection) is kept across cycles while the
    /// configuration names the same state.
    backend: Option<crate::backend::Opened>,
}

pub async fn watch(mut args: WatchArgs) -> Result<u8> {
    let options = std::mem::replace(
        &mut args.webhook_options,
        crate::webhook::Options {
            secret: None,
            queue: crate::webhook::QUEUE,
            timeout: crate::webhook::ATTEMPT_TIMEOUT,
        },
    );
    let signed = options.secret.is_some();
    let webhook = args
        .webhook
        .as_deref()
        .map(|url| crate::webhook::start(url, options))
        .transpose()?;
    let (client, sandbox) = client(&args.common, "watch").await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "listening on {} (--listen): is another watch or program using that address?",
                args.listen
            )
        })?;
    let local = listener
        .local_addr()
        .context("reading the listen address")?;
    let shared = Arc::new(Mutex::new(Shared::default()));
    tokio::spawn(serve(listener, shared.clone(), client.clone()));
    emit(
        "started",
        fields!(
            "listen": local.to_string(),
            "interval_seconds": args.interval.as_secs_f64(),
            "auto_apply": args.auto_apply,
            "webhook": webhook,
            "webhook_signed": webhook.is_some() && signed,
            "reset_down_after_seconds": args.reset_down_after.map(|d| d.as_secs_f64()),
        ),
    );
    let mut hangup = Hangup::listen()?;
    let mut stop_signal = Stop::listen()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut prev: Option<Observation> = None;
    // A pg lead lost between two polls (failed heartbeats) is reported here as it happens.
    let (lost_tx, mut lost_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut actor = crate::leader::Actor::new(crate::leader::lease_for(args.interval), lost_tx);
    let reported = actor.reported();
    let mut memory = Memory {
        refusal: refusal::Refusal::default(),
        resets: args.reset_down_after.map(resets::Resets::new),
        backend: None,
    };
    loop {
        let started = Instant::now();
        let number = {
            let mut g = shared.lock().unwrap_or_else(|e| e.into_inner());
            g.cycles_started += 1;
            g.cycles_started
        };
        // Planning is only reading: a stop drops it. An apply in flight is told to stop and
        // finishes its in-flight operations (as `apply` does on Ctrl-C); so is one whose
        // watcher loses the lead meanwhile (`halt`: this cycle acts no more).
        let mut stopping = false;
        let (halt_tx, halt_rx) = tokio::sync::watch::channel(*stop_rx.borrow());
        let result = {
            let cycle = cycle(
                &args,
                number,
                &client,
                prev.as_ref(),
                &mut actor,
                &mut memory,
                halt_rx,
            );
            tokio::pin!(cycle);
            loop {
                tokio::select! {
                    r = &mut cycle => break Some(r),
                    _ = stop_signal.recv(), if !stopping => {
                        stopping = true;
                        let _ = stop_tx.send(true);
                        let _ = halt_tx.send(true);
                        emit("stopping", fields!());
                        if !*applying_flag() {
                            break None;
                        }
                    }
                    Some(why) = lost_rx.recv() => {
                        let _ = halt_tx.send(true);
                        lead_lost(&reported, &shared, why);
                    }
                }
            }
        };
        let elapsed = started.elapsed();
        let Some(result) = result else { break };
        match result {
            Ok(c) => {
                let mut g = shared.lock().unwrap_or_else(|e| e.into_inner());
                g.cycles_ok += 1;
                g.last_duration = elapsed.as_secs_f64();
                g.last_success = now_unix();
                if let Some(outcome) = c.applied {
                    *g.applies.entry(outcome).or_default() += 1;
                }
                // A lead lost during the cycle shows at once, not at the next cycle.
                g.role = reported
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .unwrap_or(c.role);
                for r in c.resets {
                    *g.resets.entry(r).or_default() += 1;
                }
                g.apply_refused = memory.refusal.standing();
                g.last = Some(c.observation.clone());
                prev = Some(c.observation);
            }
            Err(e) => {
                emit(
                    "cycle_error",
                    fields!("error": crate::context::render_error(&e)),
                );
                let mut g = shared.lock().unwrap_or_else(|e| e.into_inner());
                g.cycles_failed += 1;
                g.last_duration = elapsed.as_secs_f64();
            }
        }
        if stopping {
            break;
        }
        if elapsed > args.interval {
            emit(
                "cycle_slow",
                fields!(
                    "duration_seconds": elapsed.as_secs_f64(),
                    "interval_seconds": args.interval.as_secs_f64(),
                ),
            );
        }
        let next = tokio::time::Instant::now() + args.interval.saturating_sub(elapsed);
        let stop_now = loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next) => break false,
                _ = hangup.recv() => {
                    emit("hangup", fields!());
                    break false;
                }
                _ = stop_signal.recv() => {
                    emit("stopping", fields!());
                    break true;
                }
                Some(why) = lost_rx.recv() => lead_lost(&reported, &shared, why),
            }
        };
        if stop_now {
            break;
        }
    }
    actor.resign().await;
    if let Some(s) = sandbox {
        s.shutdown().await.ok();
    }
    emit("stopped", fields!());
    crate::webhook::flush().await;
    Ok(0)
}

/// The pg lead was lost between polls (its heartbeats failed): said at once, as `leader_lost`,
/// unless the role reported is not the leader's already; the gauge follows.
fn lead_lost(reported: &crate::leader::Reported, shared: &Mutex<Shared>, why: String) {
    let mut r = reported.lock().unwrap_or_else(|e| e.into_inner());
    if *r != Some(crate::leader::Role::Leader) {
        return;
    }
    *r = Some(crate::leader::Role::Follower);
    drop(r);
    let cycle = {
        let mut g = shared.lock().unwrap_or_else(|e| e.into_inner());
        g.role = crate::leader::Role::Follower;
        g.cycles_started
    };
    emit("leader_lost", fields!("reason": why, "cycle": cycle));
}

/// Whether an apply is in flight (a stop then waits for it).
fn applying_flag() -> std::sync::MutexGuard<'static, bool> {
    static APPLYING: Mutex<bool> = Mutex::new(false);
    APPLYING.lock().unwrap_or_else(|e| e.into_inner())
}

async fn cycle(
    args: &WatchArgs,
    number: u64,
    client: &tunnelform_tencent_api::Client,
    prev: Option<&Observation>,
    actor: &mut crate::leader::Actor,
    memory: &mut Memory,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Cycle> {
    let common = &args.common;
    // Another process (a GitOps pull) may be rewriting the files: read a settled tree only.
    let config = settled::load(&args.dir, || load_config(&args.dir, common)).await?;
    let opened = crate::backend::open_cached(&args.dir, &config, common, &mut memory.backend)?;
    let spath = opened.name.clone();
    // The watcher that may act holds the state lock for the whole cycle; the others plan without
    // it (a state is saved whole, or in one transaction with pg, so they never read half of one).
    let permit = actor.decide(opened, args.wants_to_act()).await?;
    if let Some((event, reason)) = actor.change(&permit) {
        emit(event, fields!("reason": reason, "cycle": number));
    }
    let role = permit.role;
    let mut state = crate::backend::load(opened)?;
    let project = project_of(opened, common)?;
    check_cloud(client, common, &spath, &mut state, false).await?;
    let journal = opened.backend.journal()?;
    if !journal.is_empty() {
        let rec = tunnelform_recover::recover(
            client,
            &mut state,
            &journal,
            project.as_ref().map(|p| p.id.as_str()),
        )
        .await
        .context("resolving the operations an earlier run left unfinished")?;
        if permit.may_act() {
            record_cloud(client, common, &mut state).await?;
            opened.backend.settle(Some(&mut state), false)?;
        }
        for u in &rec.unresolved {
            emit("warning", fields!("message": u.to_string()));
        }
    }
    let opts = PlanOptions {
        mode: PlanMode::Normal,
        targets: vec![],
        replace: vec![],
        imports: vec![],
        project: project.as_ref().map(|p| p.id.clone()),
        quotas: crate::context::quota_overrides(common)?,
    };
    let planned = make_plan(client, &config, &state, &opts)
        .await
        .map_err(|e| match e {
            tunnelform_planner::PlanError::Config(d) => {
                anyhow::Error::from(Rendered(d.to_string()))
            }
            other => anyhow::Error::new(other),
        })?;
    let observation = observe(&state, &planned);
    // What changed is said before anything is done about it.
    report_changes(prev, &observation);
    // Who may act is decided once, by the permit (`crate::leader::Actor::decide`); a leader whose
    // lease ran out since (or whose loss the loop heard of: `stop`) does not act.
    let acting = permit.may_act() && !*stop.borrow() && actor.still_leads();
    let resets = match memory.resets.as_mut() {
        Some(r) if acting => reset_down_tunnels(client, r, &state, &observation).await,
        _ => Vec::new(),
    };
    let mut applied = None;
    let wants_apply = planned.plan.has_changes()
        && (!observation.drift.is_empty() || !observation.pending.is_empty());
    let refusal = (args.auto_apply && wants_apply && acting)
        .then(|| refuse_apply(&planned.plan, args.allow_destroy))
        .flatten();
    if args.auto_apply && acting && memory.refusal.note(refusal.as_deref()) {
        emit(
            "apply_refused",
            fields!("reason": refusal.as_deref().unwrap_or_default()),
        );
    }
    // The resets took time: the lead is checked again before an apply starts.
    let acting = acting && !*stop.borrow() && actor.still_leads();
    if args.auto_apply && wants_apply && acting {
        if refusal.is_some() {
            applied = Some("refused".to_string());
        } else {
            let s = planned.plan.summary();
            emit(
                "apply_started",
                fields!(
                    "add": s.add,
                    "change": s.change,
                    "destroy": s.destroy,
                    "drift": observation.drift.len(),
                    "pending": observation.pending.len(),
                ),
            );
            *applying_flag() = true;
            let result =
                run_apply(args, client, opened, &config, state, planned, project, stop).await;
            *applying_flag() = false;
            let (outcome, f) = match result {
                Ok(r) => {
                    let ok = r.failures.is_empty() && !r.interrupted;
                    (
                        if ok { "success" } else { "failed" },
                        fields!(
                            "outcome": if ok { "success" } else { "failed" },
                            "added": r.added,
                            "changed": r.changed,
                            "destroyed": r.destroyed,
                            "failures": r.failures.len(),
                            "interrupted": r.interrupted,
                        ),
                    )
                }
                Err(e) => (
                    "error",
                    fields!("outcome": "error", "error": crate::context::render_error(&e)),
                ),
            };
            emit("apply_finished", f);
            applied = Some(outcome.to_string());
        }
    }
    permit.release().await;
    Ok(Cycle {
        observation,
        applied,
        role,
        resets,
    })
}

/// `--reset-down-after`: resets the tunnels down for too long, each an event (`tunnel_reset`) and
/// a metric.
async fn reset_down_tunnels(
    client: &tunnelform_tencent_api::Client,
    memory: &mut resets::Resets,
    state: &tunnelform_state::State,
    observation: &Observation,
) -> Vec<TunnelOutcomeLabels> {
    // The state indexed by address once, and only when some tunnel is due (a scan per due tunnel
    // would be quadratic when many go down together).
    let index = std::cell::OnceCell::new();
    let place = |address: &str| {
        let rs = *index
            .get_or_init(|| {
                state
                    .resources
                    .iter()
                    .map(|(a, rs)| (a.to_string(), rs))
                    .collect::<HashMap<_, _>>()
            })
            .get(address)?;
        let gateway = rs.attributes.get("vpn_gateway_id")?.as_str()?.to_string();
        (!rs.region.is_empty() && !gateway.is_empty()).then(|| (rs.region.clone(), gateway))
    };
    let due = memory.due(&observation.tunnels, place, Instant::now());
    let mut out = Vec::new();
    for (d, result) in resets::run(client, due).await {
        memory.record(&d.id, Instant::now());
        let outcome = if result.is_ok() { "success" } else { "error" };
        let mut f = fields!(
            "address": d.address,
            "id": d.id,
            "outcome": outcome,
            "down_seconds": d.down_for.as_secs_f64(),
        );
        if let Err(e) = &result {
            f.insert("error".into(), json!(e.to_string()));
        }
        emit("tunnel_reset", f);
        out.push(TunnelOutcomeLabels {
            address: d.address,
            id: d.id,
            outcome: outcome.to_string(),
        });
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn run_apply(
    args: &WatchArgs,
    client: &tunnelform_tencent_api::Client,
    opened: &crate::backend::Opened,
    config: &tunnelform_config::Config,
    mut state: tunnelform_state::State,
    planned: tunnelform_planner::Planned,
    project: Option<crate::context::Project>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<tunnelform_apply::ApplyReport> {
    // The backend the cycle locked and loaded through (with pg, the session holding the lock,
    // whose rows it read: a save writes the rows that changed).
    record_cloud(client, &args.common, &mut state).await?;
    let store = StateStore::with_backend(opened.backend.clone(), state);
    let opts = ApplyOptions {
        parallelism: args.parallelism,
        ownership_tags: !args.common.no_ownership_tags,
        project: project.map(|p| p.id),
        interrupt: stop,
        task_timeout: Duration::from_secs(600),
    };
    let sink: Arc<dyn tunnelform_apply::EventSink> = Arc::new(|_e: tunnelform_apply::Event| {});
    let report = apply_plan(
        client,
        Some(Arc::new(config.clone())),
        Arc::new(planned.plan),
        Arc::new(planned.instances),
        planned.data,
        &store,
        opts,
        sink,
    )
    .await?;
    store.flush()?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tunnel(net: &str) -> Tunnel {
        Tunnel {
            id: "vpnx-1".into(),
            state: "AVAILABLE".into(),
            net_status: net.into(),
            health_check_status: "AVAILABLE".into(),
        }
    }

    #[test]
    fn metrics_carry_drift_pending_and_tunnel_health_per_object() {
        let mut o = Observation::default();
        o.objects.insert(
            "tencentcloud_vpn_connection.t".into(),
            ("tencentcloud_vpn_connection".into(), "vpnx-1".into()),
        );
        o.objects.insert(
            "tencentcloud_vpn_gateway.gw".into(),
            ("tencentcloud_vpn_gateway".into(), "vpngw-1".into()),
        );
        o.drift
            .insert("tencentcloud_vpn_connection.t".into(), vec!["name".into()]);
        o.pending
            .insert("tencentcloud_vpn_gateway.gw".into(), "update".into());
        o.tunnels.insert(
            "tencentcloud_vpn_connection.t".into(),
            tunnel("UNAVAILABLE"),
        );
        let shared = Shared {
            last: Some(o),
            cycles_ok: 3,
            ..Default::default()
        };
        let mut api = tunnelform_tencent_api::MetricsSnapshot::default();
        api.calls.insert("DescribeVpnConnections".into(), 7);
        api.errors.insert("LimitExceeded".into(), 1);
        let text = render_metrics(&shared, &api);
        for line in [
            r#"tunnelform_drift{address="tencentcloud_vpn_connection.t",kind="tencentcloud_vpn_connection",id="vpnx-1"} 1"#,
            r#"tunnelform_drift{address="tencentcloud_vpn_gateway.gw",kind="tencentcloud_vpn_gateway",id="vpngw-1"} 0"#,
            r#"tunnelform_pending_change{address="tencentcloud_vpn_gateway.gw",kind="tencentcloud_vpn_gateway",id="vpngw-1"} 1"#,
            r#"tunnelform_tunnel_up{address="tencentcloud_vpn_connection.t",id="vpnx-1"} 0"#,
            r#"tunnelform_tunnel_health_check_up{address="tencentcloud_vpn_connection.t",id="vpnx-1"} 1"#,
            r#"tunnelform_cycles_total{outcome="ok"} 3"#,
            r#"tunnelform_api_requests_total{action="DescribeVpnConnections"} 7"#,
            r#"tunnelform_api_errors_total{code="LimitExceeded"} 1"#,
        ] {
            assert!(text.contains(line), "missing {line} in:\n{text}");
        }
    }
}
