//! Apply: walk the plan's graph on tokio. A step starts as soon as every step it depends on has
//! finished (no barrier between graph levels); concurrency is capped by a semaphore separate
//! from graph order; a failure skips the steps that depend on it and lets independent work finish.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tunnelform_model::Map;

use petgraph::graph::NodeIndex;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tunnelform_config::{Config, Instance};
use tunnelform_kinds::coalesce::{Group, Member};
use tunnelform_kinds::tags::{retag, tags_for_create, user_tags, RetagError};
use tunnelform_kinds::ResourceKind;
use tunnelform_kinds::{Call, CallError};
use tunnelform_model::{Address, Value};
use tunnelform_plan::diff::planned_after;
use tunnelform_plan::{
    build_graph, Action, Attrs, ExecGraph, ObjectKind, Plan, Reason, ResourceChange, SharedAttrs,
    StepKind,
};
use tunnelform_state::{
    DeposedObject, Intent, JournalAction, OpId, OpResult, Origin, Outcome, Record, Sent, State,
    Timestamp,
};
use tunnelform_tencent_api::{ApiError, Client, ErrorKind};

use crate::store::{resource_state, StateStore, StoreError};
use crate::watch::{Expect, Settled, Watcher};
use tunnelform_plan::make::RemoteObject;
use tunnelform_planner::read_objects;

/// How to apply.
#[derive(Clone)]
pub struct ApplyOptions {
    pub parallelism: usize,
    /// Put `tunnelform:address` / `tunnelform:lineage` tags on what is created.
    pub ownership_tags: bool,
    /// With `ownership_tags`, also `tunnelform:project` with this value (a valid tag value).
    pub project: Option<String>,
    /// Becomes true on the first interrupt: start nothing new, let in-flight steps finish.
    pub interrupt: watch::Receiver<bool>,
    /// How long to wait for one asynchronous task or state change.
    pub task_timeout: Duration,
}

/// Progress, for the CLI to render.
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        address: Address,
        step: StepKind,
    },
    Completed {
        address: Address,
        step: StepKind,
        elapsed: Duration,
        id: Option<String>,
    },
    Failed {
        address: Address,
        step: StepKind,
        elapsed: Duration,
        failure: StepFailure,
    },
    Skipped {
        address: Address,
        step: StepKind,
        because: Address,
    },
}

pub trait EventSink: Send + Sync {
    fn event(&self, e: Event);
}

impl<F: Fn(Event) + Send + Sync> EventSink for F {
    fn event(&self, e: Event) {
        self(e)
    }
}

/// A step that failed, with everything needed to act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    pub address: Address,
    pub action: String,
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    /// The answer was lost: the request may have been carried out. The journal keeps such an
    /// operation open, so the next run settles it against the cloud before planning.
    pub outcome_unknown: bool,
}

impl std::fmt::Display for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} failed", self.address, self.action)?;
        if let Some(c) = &self.code {
            write!(f, ": [{c}]")?;
        }
        write!(f, " {}", self.message)?;
        if let Some(r) = &self.request_id {
            write!(f, " (request id {r})")?;
        }
        Ok(())
    }
}

#[derive(Debug, Default, Clone)]
pub struct ApplyReport {
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
    pub imported: usize,
    pub failures: Vec<StepFailure>,
    pub skipped: Vec<Address>,
    /// Steps never started because of an interrupt.
    pub not_started: usize,
    pub interrupted: bool,
    /// Outputs' preconditions that failed once everything was applied.
    pub condition_errors: tunnelform_model::Diagnostics,
    /// The results of the `check` blocks after the apply (failures are warnings).
    pub checks: Vec<tunnelform_plan::CheckResult>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Graph(#[from] tunnelform_plan::GraphError),
}

struct Ctx {
    client: Client,
    config: Option<Arc<Config>>,
    plan: Arc<Plan>,
    instances: Arc<BTreeMap<Address, Instance>>,
    store: StateStore,
    opts: ApplyOptions,
    /// Current object values (from state, updated as steps finish), for re-evaluating instances.
    values: Mutex<HashMap<Address, Value>>,
    sink: Arc<dyn EventSink>,
    lineage: String,
    /// Batched waiting on connection tasks.
    watcher: Watcher,
}

fn settled_failure(
    change: &ResourceChange,
    step: StepKind,
    id: &str,
    task_id: &str,
    s: Settled,
) -> StepFailure {
    match s {
        Settled::Failed(output) => failure(change, step, Some("TaskFailed".into()), format!("task {task_id} for {id} failed: {output}"), Some(task_id.into())),
        Settled::TimedOut(last) => failure(
            change,
            step,
            None,
            format!("{id} did not settle in time (last state {last:?}); run apply again later to pick it up"),
            Some(task_id.into()),
        ),
        Settled::Api(e) => api_failure(change, step, &e),
        Settled::Available(_) => failure(change, step, None, format!("{id} is still there after its deletion succeeded"), Some(task_id.into())),
        Settled::Gone => failure(change, step, None, format!("{id} disappeared after its creation succeeded"), Some(task_id.into())),
    }
}

impl tunnelform_config::Lookup for Ctx {
    fn instance(&self, addr: &Address) -> Option<Value> {
        self.values.lock().ok()?.get(addr).cloned()
    }
}

fn state_values(state: &State) -> HashMap<Address, Value> {
    state
        .resources
        .iter()
        .map(|(a, rs)| {
            let mut m = rs.attributes.clone();
            m.insert("id".into(), Value::from(rs.id.as_str()));
            (a.clone(), Value::Map(m))
        })
        .collect()
}

/// Applies a plan. Returns what happened; per-step failures are in the report, not errors.
pub async fn apply_plan(
    client: &Client,
    config: Option<Arc<Config>>,
    plan: Arc<Plan>,
    instances: Arc<BTreeMap<Address, Instance>>,
    data: BTreeMap<Address, Value>,
    store: &StateStore,
    opts: ApplyOptions,
    sink: Arc<dyn EventSink>,
) -> Result<ApplyReport, ApplyError> {
    // The graph made with the plan is the one executed; a plan saved without one gets it built.
    let graph = match &plan.graph {
        Some(data) => ExecGraph::from_data(data, &plan)?,
        None => build_graph(&plan)?,
    };
    // `moved` blocks and `removed { destroy = false }`: the state changes, the cloud is not asked.
    let renames = plan.renames();
    let forgotten: Vec<Address> = plan.forgotten().cloned().collect();
    if !renames.is_empty() || !forgotten.is_empty() {
        store.update(|s| {
            tunnelform_state::apply_renames(s, &renames);
            for a in &forgotten {
                s.resources.remove(a);
            }
        })?;
    }
    let mut values = state_values(&store.snapshot());
    values.extend(data);
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        config,
        lineage: store.lineage(),
        plan: plan.clone(),
        instances,
        store: store.clone(),
        opts: opts.clone(),
        values: Mutex::new(values),
        sink,
        watcher: Watcher::new(client.clone(), opts.task_timeout),
    });
    // Objects the refresh found gone that nothing creates again leave the state (as a refresh
    // would have recorded), so a stale state's ghosts do not outlive the apply.
    let gone: Vec<Address> = plan.gone_from_state().cloned().collect();
    if !gone.is_empty() {
        store.update(|s| {
            for a in &gone {
                if s.resources.get(a).is_some_and(|r| r.deposed.is_empty()) {
                    s.resources.remove(a);
                }
            }
        })?;
    }
    accept_drift_of_unchanged(store, &plan)?;
    let mut report = walk(ctx.clone(), &graph).await;
    // Outputs follow the configuration once everything has been applied.
    if let Some(cfg) = &ctx.config {
        if !plan.destroy && !plan.refresh_only {
            // Outputs' preconditions and checks, on the objects as applied.
            let (errors, checks) = crate::conditions::finally(cfg, ctx.as_ref());
            report.condition_errors = errors;
            report.checks = checks;
            if let Ok(outputs) = cfg.outputs(ctx.as_ref()) {
                store.update(|s| {
                    s.outputs.clear();
                    for o in outputs.into_iter().filter(|o| o.value.is_wholly_known()) {
                        let value = tunnelform_state::mask_sensitive(&o.value);
                        s.outputs.insert(
                            o.name,
                            tunnelform_state::OutputState {
                                sensitive: o.sensitive,
                                value,
                            },
                        );
                    }
                })?;
            }
        } else if plan.destroy {
            store.update(|s| s.outputs.clear())?;
        }
    }
    store.finish()?;
    Ok(report)
}

/// Objects that changed outside tunnelform but that the plan leaves alone (they match the
/// configuration, e.g. an earlier run that died made the change and its state was lost) are
/// recorded as they are, so the state does not report the same drift again after this apply.
fn accept_drift_of_unchanged(store: &StateStore, plan: &Plan) -> Result<(), StoreError> {
    let drifted: HashSet<&Address> = plan
        .drift
        .iter()
        .filter(|d| !d.deleted)
        .map(|d| &d.address)
        .collect();
    let unchanged: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| {
            c.action == Action::NoOp
                && !c.deposed
                && c.importing.is_none()
                && drifted.contains(&c.address)
        })
        .collect();
    if unchanged.is_empty() {
        return Ok(());
    }
    store.update(|s| {
        for c in unchanged {
            let (ObjectKind::Managed(kind), Some(before), Some(id)) = (c.kind, &c.before, &c.id)
            else {
                continue;
            };
            let Some(rs) = s.resources.get_mut(&c.address).filter(|r| &r.id == id) else {
                continue;
            };
            *rs = crate::store::refreshed(rs, kind, before);
        }
    })
}

async fn walk(ctx: Arc<Ctx>, graph: &ExecGraph) -> ApplyReport {
    let mut report = ApplyReport::default();
    let mut waiting: HashMap<NodeIndex, usize> = graph
        .graph
        .node_indices()
        .map(|n| (n, graph.dependencies(n).count()))
        .collect();
    let mut ready: Vec<NodeIndex> = waiting
        .iter()
        .filter(|(_, &d)| d == 0)
        .map(|(&n, _)| n)
        .collect();
    ready.sort_by_key(|n| std::cmp::Reverse(n.index()));
    let mut skipped: HashSet<NodeIndex> = HashSet::new();
    // Each region (provider) has its own worker budget: a region busy at its rate limits never
    // holds back the steps of another. Steps ready while their region's budget is spent queue up
    // per region, in order, and start as that region's steps finish.
    let mut budgets: HashMap<&str, Arc<Semaphore>> = HashMap::new();
    let mut queued: HashMap<&str, VecDeque<NodeIndex>> = HashMap::new();
    // The batch scope of queued steps that have one (see `Kind::batch_scope`).
    let mut batch_keys: HashMap<NodeIndex, BatchKey> = HashMap::new();
    let mut running: JoinSet<(NodeIndex, Result<Option<String>, StepFailure>)> = JoinSet::new();
    let mut interrupt = ctx.opts.interrupt.clone();

    loop {
        let interrupted = *interrupt.borrow();
        if interrupted {
            report.interrupted = true;
        }
        if !interrupted {
            while let Some(n) = ready.pop() {
                let region = ctx.plan.changes[graph.step(n).change].region.as_str();
                if let Some(key) = batch_key(&ctx, graph, n) {
                    batch_keys.insert(n, key);
                }
                queued.entry(region).or_default().push_back(n);
            }
            for (region, queue) in &mut queued {
                let budget = budgets
                    .entry(region)
                    .or_insert_with(|| Arc::new(Semaphore::new(ctx.opts.parallelism.max(1))));
                while let Some(&n) = queue.front() {
                    let Ok(permit) = budget.clone().try_acquire_owned() else {
                        break;
                    };
                    queue.pop_front();
                    // The queued steps of the same kind and batch scope start with it, on its
                    // worker: the kind's requests for them reach its batch calls together.
                    let mut group = vec![n];
                    if let Some(key) = batch_keys.remove(&n) {
                        queue.retain(|m| {
                            let same = batch_keys.get(m) == Some(&key);
                            if same {
                                group.push(*m);
                                batch_keys.remove(m);
                            }
                            !same
                        });
                    }
                    let permit = Arc::new(permit);
                    let gate = (group.len() > 1).then(|| Gate::new(group.len()));
                    for n in group {
                        let step = graph.step(n);
                        let ctx2 = ctx.clone();
                        let permit = permit.clone();
                        let pass = gate.clone().map(Pass::new);
                        running.spawn(async move {
                            let _permit = permit;
                            (n, run_step(&ctx2, step, pass).await)
                        });
                    }
                }
            }
        }
        if running.is_empty() {
            break;
        }
        let joined = tokio::select! {
            j = running.join_next() => j,
            _ = interrupt.changed(), if !interrupted => continue,
        };
        let Some(joined) = joined else { break };
        let (n, result) = match joined {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("a step panicked: {e}");
                continue;
            }
        };
        let step = graph.step(n);
        let change = &ctx.plan.changes[step.change];
        match result {
            Ok(_) => {
                match step.kind {
                    StepKind::Create => report.added += 1,
                    StepKind::CreateReplacement => report.added += 1,
                    StepKind::Update => report.changed += 1,
                    StepKind::Delete | StepKind::DeleteReplaced => report.destroyed += 1,
                    StepKind::Import => report.imported += 1,
                    StepKind::Read => {}
                }
                if change.importing.is_some() && step.kind != StepKind::Import {
                    report.imported += 1;
                }
                for d in graph.dependents(n) {
                    if skipped.contains(&d) {
                        continue;
                    }
                    let w = waiting.get_mut(&d).expect("node");
                    *w -= 1;
                    if *w == 0 {
                        ready.push(d);
                    }
                }
            }
            Err(failure) => {
                report.failures.push(failure);
                // Skip everything downstream.
                let mut stack: Vec<NodeIndex> = graph.dependents(n).collect();
                while let Some(d) = stack.pop() {
                    if skipped.insert(d) {
                        let s = graph.step(d);
                        let addr = ctx.plan.changes[s.change].address.clone();
                        ctx.sink.event(Event::Skipped {
                            address: addr.clone(),
                            step: s.kind,
                            because: change.address.clone(),
                        });
                        report.skipped.push(addr);
                        stack.extend(graph.dependents(d));
                    }
                }
            }
        }
    }
    let queued: usize = queued.values().map(VecDeque::len).sum();
    report.not_started = ready.len()
        + queued
        + waiting
            .iter()
            .filter(|(n, &w)| w > 0 && !skipped.contains(n))
            .count();
    report
}

/// Steps with the same key start together: same kind, same step, same batch scope.
type BatchKey = (ResourceKind, StepKind, String);

/// The batch key of step `n`: the value of its kind's [`tunnelform_kinds::Kind::batch_scope`]
/// attribute in the object it creates (as planned, or, when unknown then, as resolved now that its
/// dependencies are done) or deletes (as last known). Kinds without a batch scope cost nothing.
fn batch_key(ctx: &Ctx, graph: &ExecGraph, n: NodeIndex) -> Option<BatchKey> {
    let step = graph.step(n);
    let change = &ctx.plan.changes[step.change];
    let ObjectKind::Managed(kind) = change.kind else {
        return None;
    };
    let attr = kind.def().batch_scope()?;
    let scope_in = |attrs: &Attrs| -> Option<String> {
        let v = attrs.get(attr)?;
        if !v.is_wholly_known() {
            return None;
        }
        v.deep_unmarked()
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let scope = match step.kind {
        StepKind::Create | StepKind::CreateReplacement => {
            match change.after.as_deref().and_then(scope_in) {
                Some(s) => s,
                None => scope_in(&resolved_after(ctx, change, kind, step.kind).ok()?)?,
            }
        }
        StepKind::Delete | StepKind::DeleteReplaced => scope_in(change.before.as_ref()?)?,
        StepKind::Update | StepKind::Import | StepKind::Read => return None,
    };
    Some((kind, step.kind, scope))
}

/// Where the steps of one batch wait for each other: each records its intent (a journal append
/// each, one after the other) and then waits until every step of the batch has done so or
/// stopped, so that their requests reach the kind's batch calls together rather than spread over
/// the journal's appends.
/// Past the gate, the steps are members of one [`Group`] of the kind's coalescer: a batch call
/// goes out once every step's request has joined it, however the machine schedules them.
struct Gate {
    left: Mutex<usize>,
    open: watch::Sender<bool>,
    group: Arc<Group>,
}

impl Gate {
    fn new(steps: usize) -> Arc<Gate> {
        Arc::new(Gate {
            left: Mutex::new(steps),
            open: watch::Sender::new(steps == 0),
            group: Group::new(),
        })
    }

    fn arrived(&self) {
        let mut left = self.left.lock().unwrap_or_else(|e| e.into_inner());
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.open.send_replace(true);
        }
    }
}

/// One step's place at a [`Gate`]: a step that ends without reaching it (failed early, nothing
/// to send) still counts as arrived, so the others never wait for it.
struct Pass {
    gate: Arc<Gate>,
    arrived: bool,
}

impl Pass {
    fn new(gate: Arc<Gate>) -> Pass {
        Pass {
            gate,
            arrived: false,
        }
    }

    /// Arrives, and waits for the rest of the batch; the step then sends its request as the
    /// returned member of the batch's group.
    async fn arrive(mut self) -> Member {
        self.arrived = true;
        let member = self.gate.group.join();
        let mut open = self.gate.open.subscribe();
        self.gate.arrived();
        let _ = open.wait_for(|o| *o).await;
        member
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        if !self.arrived {
            self.gate.arrived();
        }
    }
}

fn action_word(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Create | StepKind::CreateReplacement => "create",
        StepKind::Update => "update",
        StepKind::Delete | StepKind::DeleteReplaced => "delete",
        StepKind::Read => "read",
        StepKind::Import => "import",
    }
}

fn failure(
    change: &ResourceChange,
    kind: StepKind,
    code: Option<String>,
    message: String,
    request_id: Option<String>,
) -> StepFailure {
    StepFailure {
        address: change.address.clone(),
        action: action_word(kind).into(),
        code,
        message,
        request_id,
        outcome_unknown: false,
    }
}

fn api_failure(change: &ResourceChange, kind: StepKind, e: &ApiError) -> StepFailure {
    let (code, message) = match &e.kind {
        ErrorKind::Api { code, message } => (Some(code.as_str().to_string()), message.clone()),
        ErrorKind::OutcomeUnknown { .. } => (
            None,
            format!("{e}; the request may have been carried out: run apply again, and tunnelform will find the object before doing anything"),
        ),
        _ => (None, e.to_string()),
    };
    let mut f = failure(change, kind, code, message, e.request_id.clone());
    f.outcome_unknown = matches!(e.kind, ErrorKind::OutcomeUnknown { .. });
    f
}

async fn run_step(
    ctx: &Ctx,
    step: tunnelform_plan::Step,
    pass: Option<Pass>,
) -> Result<Option<String>, StepFailure> {
    let change = &ctx.plan.changes[step.change];
    let started = Instant::now();
    ctx.sink.event(Event::Started {
        address: change.address.clone(),
        step: step.kind,
    });
    let result = match change.kind {
        ObjectKind::Data(kind) => read_deferred(ctx, change, kind).await,
        ObjectKind::Managed(kind) => match step.kind {
            StepKind::Create | StepKind::CreateReplacement => {
                create(ctx, change, kind, step.kind, pass).await
            }
            StepKind::Update => update(ctx, change, kind).await,
            StepKind::Delete | StepKind::DeleteReplaced => {
                delete(ctx, change, kind, step.kind, pass).await
            }
            StepKind::Import => import(ctx, change, kind).await,
            StepKind::Read => Ok(None),
        },
    };
    let elapsed = started.elapsed();
    match &result {
        Ok(id) => ctx.sink.event(Event::Completed {
            address: change.address.clone(),
            step: step.kind,
            elapsed,
            id: id.clone(),
        }),
        Err(f) => ctx.sink.event(Event::Failed {
            address: change.address.clone(),
            step: step.kind,
            elapsed,
            failure: f.clone(),
        }),
    }
    result
}

/// The preconditions of a change's object, checked just before its operation.
fn preconditions(ctx: &Ctx, change: &ResourceChange, step: StepKind) -> Result<(), StepFailure> {
    let Some(cfg) = &ctx.config else {
        return Ok(());
    };
    crate::conditions::before(cfg, &change.address, ctx)
        .map_err(|m| failure(change, step, None, m, None))
}

/// The postconditions of a change's object, on its value as applied (recorded in `ctx.values`).
fn postconditions(ctx: &Ctx, change: &ResourceChange, step: StepKind) -> Result<(), StepFailure> {
    let Some(cfg) = &ctx.config else {
        return Ok(());
    };
    let this = tunnelform_config::Lookup::instance(ctx, &change.address);
    crate::conditions::after(cfg, &change.address, this.as_ref(), ctx)
        .map_err(|m| failure(change, step, None, m, None))
}

/// The planned attributes, re-evaluated now that dependencies exist when some were unknown.
/// Computed arguments the configuration leaves out stay out of the request (the API fills them).
fn resolved_after(
    ctx: &Ctx,
    change: &ResourceChange,
    kind: ResourceKind,
    step: StepKind,
) -> Result<Attrs, StepFailure> {
    let known_config = |attrs: &Map| attrs.values().all(Value::is_wholly_known);
    let without_unknown = |a: Attrs| {
        a.into_iter()
            .map(|(k, v)| (k, if v.is_wholly_known() { v } else { Value::Null }))
            .collect::<Attrs>()
    };
    let after = change
        .after
        .clone()
        .map(SharedAttrs::into_attrs)
        .unwrap_or_default();
    let configured = ctx.instances.get(&change.address).map(|i| &i.attrs);
    if configured.is_some_and(known_config) {
        return Ok(without_unknown(after));
    }
    let Some(cfg) = &ctx.config else {
        return Err(failure(
            change,
            step,
            None,
            "values unknown at plan time and no configuration to evaluate them".into(),
            None,
        ));
    };
    let inst = cfg.eval_instance(&change.address, ctx).map_err(|d| {
        failure(
            change,
            step,
            None,
            format!("evaluating the configuration failed:\n{d}"),
            None,
        )
    })?;
    let missing: Vec<&str> = inst
        .attrs
        .iter()
        .filter(|(_, v)| !v.is_wholly_known())
        .map(|(k, _)| k.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(failure(
            change,
            step,
            None,
            format!(
                "{} still unknown after their dependencies were applied",
                missing.join(", ")
            ),
            None,
        ));
    }
    let existing = change
        .before
        .as_deref()
        .filter(|_| step == StepKind::Update)
        .map(|b| (change.id.as_deref().unwrap_or_default(), b));
    Ok(without_unknown(planned_after(
        kind,
        &inst.attrs,
        existing,
        &inst.lifecycle,
    )))
}

fn journal_failure(change: &ResourceChange, kind: StepKind, e: StoreError) -> StepFailure {
    failure(
        change,
        kind,
        None,
        format!("the journal could not be written: {e}"),
        None,
    )
}

/// Records `r` durably (with the records of the other steps written at the same time).
async fn record(
    ctx: &Ctx,
    change: &ResourceChange,
    kind: StepKind,
    r: Record,
) -> Result<(), StepFailure> {
    ctx.store
        .write_journal(r)
        .await
        .map_err(|e| journal_failure(change, kind, e))
}

/// Records `r` durably, from code that cannot wait asynchronously (a kind's update reporting a
/// request it sent).
fn record_now(
    ctx: &Ctx,
    change: &ResourceChange,
    kind: StepKind,
    r: &Record,
) -> Result<(), StepFailure> {
    ctx.store
        .journal(r)
        .map_err(|e| journal_failure(change, kind, e))
}

fn journal_action(kind: StepKind) -> JournalAction {
    match kind {
        StepKind::Create | StepKind::Import | StepKind::Read => JournalAction::Create,
        StepKind::CreateReplacement => JournalAction::ReplaceCreate,
        StepKind::Update => JournalAction::Update,
        StepKind::Delete => JournalAction::Delete,
        StepKind::DeleteReplaced => JournalAction::ReplaceDelete,
    }
}

async fn begin(
    ctx: &Ctx,
    change: &ResourceChange,
    kind: ResourceKind,
    step: StepKind,
) -> Result<OpId, StepFailure> {
    let intent = Intent::new(
        change.address.clone(),
        journal_action(step),
        kind,
        change.region.clone(),
    );
    let op = intent.op_id.clone();
    record(ctx, change, step, Record::Intent(intent)).await?;
    Ok(op)
}

fn sent_record(
    op: &OpId,
    request_id: &str,
    resource_id: Option<&str>,
    task_id: Option<&str>,
) -> Record {
    Record::Sent(Sent {
        op_id: op.clone(),
        request_id: request_id.to_string(),
        resource_id: resource_id.map(str::to_string),
        task_id: task_id.map(str::to_string),
        at: Timestamp::now(),
    })
}

async fn sent(
    ctx: &Ctx,
    change: &ResourceChange,
    step: StepKind,
    op: &OpId,
    request_id: &str,
    resource_id: Option<&str>,
    task_id: Option<&str>,
) -> Result<(), StepFailure> {
    let r = sent_record(op, request_id, resource_id, task_id);
    record(ctx, change, step, r).await
}

async fn finish(
    ctx: &Ctx,
    change: &ResourceChange,
    step: StepKind,
    op: &OpId,
    result: &Result<Option<String>, StepFailure>,
) -> Result<(), StepFailure> {
    let result = match result {
        Ok(_) => OpResult::Ok,
        // Not finished as far as anyone knows: left open for the next run's recovery.
        Err(f) if f.outcome_unknown => return Ok(()),
        Err(f) => OpResult::Failed {
            code: f.code.clone().unwrap_or_default(),
            message: f.message.clone(),
        },
    };
    record(
        ctx,
        change,
        step,
        Record::Outcome(Outcome {
            op_id: op.clone(),
            result,
            at: Timestamp::now(),
        }),
    )
    .await
}

/// Describes one object (None when it does not exist).
async fn describe(
    ctx: &Ctx,
    change: &ResourceChange,
    kind: ResourceKind,
    step: StepKind,
    id: &str,
) -> Result<Option<RemoteObject>, StepFailure> {
    read_objects(&ctx.client, &change.region, kind, &[id.to_string()])
        .await
        .map(|v| v.into_iter().next())
        .map_err(|e| api_failure(change, step, &e))
}

fn record_object(
    ctx: &Ctx,
    change: &ResourceChange,
    kind: ResourceKind,
    obj: &RemoteObject,
    planned: Option<&Attrs>,
    origin: Origin,
    step: StepKind,
) -> Result<(), StepFailure> {
    let inst = ctx.instances.get(&change.address);
    let deps = change.depends_on.clone();
    let cbd = inst.is_some_and(|i| i.lifecycle.create_before_destroy);
    let ownership = ctx.opts.ownership_tags && obj.ownership.lineage.is_some();
    ctx.store
        .update(|s| {
            let prev = s.resources.get(&change.address);
            let rs = resource_state(
                kind,
                &obj.id,
                &change.region,
                change.provider_alias.as_deref(),
                &obj.attrs,
                planned,
                deps,
                cbd,
                origin,
                ownership,
                prev,
            );
            s.resources.insert(change.address.clone(), rs);
        })
        .map_err(|e| failure(change, step, None, e.to_string(), None))?;
    let mut v = obj.attrs.clone();
    v.insert("id".into(), Value::from(obj.id.as_str()));
    ctx.values
        .lock()
        .expect("values")
        .insert(change.address.clone(), Value::Map(v));
    Ok(())
}

async fn create(
    ctx: &Ctx,
    change: &ResourceChange,
    kind: ResourceKind,
    step: StepKind,
    pass: Option<Pass>,
) -> Result<Option<String>, StepFailure> {
    preconditions(ctx, change, step)?;
    let after = resolved_after(ctx, change, kind, step)?;
    let a = after
        .iter()
        .map(|(k, v)| (k.clone(), v.deep_unmarked()))
        .collect::<Attrs>();
    let owner = ctx
        .opts
        .ownership_tags
        .then_some((&change.address, ctx.lineage.as_str()));
    let tags = tags_for_create(&a, owner, ctx.opts.project.as_deref());
    let op = begin(ctx, change, kind, step).await?;
    let member = match pass {
        Some(pass) => Some(pass.arrive().await),
        None => None,
    };
    let result = async {
        let create = kind.def().create(&ctx.client, &change.region, &a, tags);
        let created = match member {
            Some(m) => m.run(create).await,
            None => create.await,
        }
        .map_err(|e| api_failure(change, step, &e))?;
        let (id, request_id) = (created.id, created.request_id);
        sent(
            ctx,
            change,
            step,
            &op,
            &request_id,
            Some(&id),
            created.task_id.as_deref(),
        )
        .await?;
        let obj = match &created.task_id {
            // The task says when the object is there (or why it is not).
            Some(task_id) => match ctx
                .watcher
                .wait(&change.region, kind, &id, task_id, Expect::Available)
                .await
            {
                Settled::Available(o) => *o,
                other => {
                    let f = settled_failure(change, step, &id, task_id, other);
                    // A failed create leaves nothing behind; if something is there, keep track of it.
                    if let Ok(Some(o)) = describe(ctx, change, kind, step, &id).await {
                        record_object(ctx, change, kind, &o, Some(&after), Origin::Created, step)?;
                    }
                    return Err(f);
                }
            },
            None => match created.observed {
                // The create's answer lists the object as created: nothing to read back.
                Some(o) if o.id == id => RemoteObject {
                    id: o.id,
                    kind,
                    region: change.region.clone(),
                    attrs: o.attrs,
                    ownership: o.ownership,
                },
                // Without a task: batched with the region's other new objects until AVAILABLE.
                _ => wait_available(ctx, change, kind, step, &id, Some(&request_id)).await?,
            },
        };
        record_object(ctx, change, kind, &obj, Some(&after), Origin::Created, step)?;
        if change.action
            == (Action::Replace {
                create_before_destroy: true,
            })
        {
            // Until its delete succeeds, the old object is kept as deposed: a failed or
            // interrupted delete leaves it tracked, and the next plan deletes it.
            if let (Some(old), Some(before)) = (&change.id, &change.before) {
                ctx.store
                    .update(|s| {
                        if let Some(r) = s.resources.get_mut(&change.address) {
                            if !r.deposed.iter().any(|d| &d.id == old) {
                                r.deposed.push(DeposedObject::of(old, before));
                            }
                        }
                    })
                    .map_err(|e| failure(change, step, None, e.to_string(), None))?;
            }
        }
        Ok(Some(id))
    }
    .await;
    finish(ctx, change, step, &op, &result).await?;
    // The object exists and stays in state, whatever its postconditions say; a failed one stops
    // what depends on it.
    let id = result?;
    postconditions(ctx, change, step)?;
    Ok(id)
}

async fn update(
    ctx: &Ctx,
    change: &ResourceChange,
    kind: ResourceKind,
) -> Result<Option<String>, StepFailure> {
    let step = StepKind::Update;
    let id = change.id.clone().unwrap_or_default();
    preconditions(ctx, change, step)?;
    let after = resolved_after(ctx, change, kind, step)?;
    let a = after
        .iter()
        .map(|(k, v)| (k.clone(), v.deep_unmarked()))
        .collect::<Attrs>();
    let changed = &change.changed;
    let op = begin(ctx, change, kind, step).await?;
    let result = async {
        let record_sent = |request_id: &str| {
            let r = sent_record(&op, request_id, Some(&id), None);
            record_now(ctx, change, step, &r).map_err(|f| f.message)
        };
        let call = Call {
            client: &ctx.client,
            region: &change.region,
            sent: &record_sent,
        };
        kind.def()
            .update(&call, &id, &a, changed)
            .await
            .map_err(|e| call_failure(change, step, &e))?;
        if changed.iter().any(|c| c == "tags") {
            let have = change.before.as_deref().map(user_tags).unwrap_or_default();
            retag(&call, kind.id_prefix(), &id, &have, &user_tags(&a))
                .await
                .map_err(|e| match e {
                    RetagError::Uin(e) => failure(change, step, None, e.to_string(), None),
                    RetagError::Call(e) => call_failure(change, step, &e),
                    RetagError::Failed(f) => {
                        failure(change, step, f.code, f.message, Some(f.request_id))
                    }
                })?;
        }
        // Read back with the other objects being changed (batched describes).
        let obj = match ctx.watcher.read_back(&change.region, kind, &id).await {
            Settled::Available(o) => *o,
            Settled::Api(e) => return Err(api_failure(change, step, &e)),
            Settled::Failed(why) | Settled::TimedOut(why) => {
                return Err(failure(
                    change,
                    step,
                    None,
                    format!("{id} could not be read back after the update: {why}"),
                    None,
                ))
            }
            Settled::Gone => {
                return Err(failure(
                    change,
                    step,
                    None,
                    format!("{id} disappeared during the update"),
                    None,
                ))
            }
        };
        record_object(ctx, change, kind, &obj, Some(&after), Origin::Created, step)?;
        Ok(Some(id.clone()))
    }
    .await;
    finish(ctx, change, step, &op, &result).await?;
    let id = result?;
    postconditions(ctx, change, step)?;
    Ok(id)
}

fn call_failure(change: &ResourceChange, step: StepKind, e: &CallError) -> StepFailure {
    match e {
        CallError::Api(e) => api_failure(change, step, e),
        CallError::Record(message) => failure(change, step, None, message.clone(), None),
    }
}

async fn delete(
    ctx: &Ctx,
    change: &ResourceChange,
    kind: ResourceKind,
    step: StepKind,
    pass: Option<Pass>,
) -> Result<Option<String>, StepFailure> {
    let Some(id) = change.id.clone() else {
        return Ok(None);
    };
    let op = begin(ctx, change, kind, step).await?;
    let member = match pass {
        Some(pass) => Some(pass.arrive().await),
        None => None,
    };
    let result = async {
        let delete = kind
            .def()
            .delete(&ctx.client, &change.region, &id, change.before.as_deref());
        let deleted = match member {
            Some(m) => m.run(delete).await,
            None => delete.await,
        }
        .map_err(|e| api_failure(change, step, &e))?;
        if let Some(d) = deleted {
            sent(
                ctx,
                change,
                step,
                &op,
                &d.request_id,
                Some(&id),
                d.task_id.as_deref(),
            )
            .await?;
            if let Some(task_id) = &d.task_id {
                match ctx
                    .watcher
                    .wait(&change.region, kind, &id, task_id, Expect::Gone)
                    .await
                {
                    Settled::Gone => {}
                    other => return Err(settled_failure(change, step, &id, task_id, other)),
                }
            }
        }
        // For a replacement the new object may already sit at this address (create_before_destroy).
        ctx.store
            .update(|s| {
                if s.resources.get(&change.address).is_some_and(|r| r.id == id) {
                    s.resources.remove(&change.address);
                } else if let Some(r) = s.resources.get_mut(&change.address) {
                    // A deposed object (the new one holds the address).
                    r.deposed.retain(|d| d.id != id);
                }
            })
            .map_err(|e| failure(change, step, None, e.to_string(), None))?;
        if change.action == Action::Delete && !change.deposed {
            ctx.values.lock().expect("values").remove(&change.address);
        }
        Ok(Some(id.clone()))
    }
    .await;
    finish(ctx, change, step, &op, &result).await?;
    result
}

async fn import(
    ctx: &Ctx,
    change: &ResourceChange,
    kind: ResourceKind,
) -> Result<Option<String>, StepFailure> {
    let step = StepKind::Import;
    let id = change
        .importing
        .clone()
        .or_else(|| change.id.clone())
        .unwrap_or_default();
    // Read with the other objects being imported or adopted (batched describes, 100 ids per
    // call): importing or adopting N objects costs N/100 describes, not N.
    let mut obj = match ctx.watcher.read_back(&change.region, kind, &id).await {
        Settled::Available(o) => *o,
        Settled::Api(e) => return Err(api_failure(change, step, &e)),
        Settled::Gone => {
            return Err(failure(
                change,
                step,
                None,
                format!("{id} does not exist"),
                None,
            ))
        }
        Settled::Failed(why) | Settled::TimedOut(why) => {
            return Err(failure(
                change,
                step,
                None,
                format!("{id} could not be read: {why}"),
                None,
            ))
        }
    };
    // An object still being created (an earlier run that died left it PENDING) is waited for, as
    // its create would have been, before anything that depends on it starts.
    if obj.attrs.get("state").and_then(Value::as_str) == Some("PENDING") {
        obj = wait_available(ctx, change, kind, step, &id, None).await?;
    }
    // A lost state's object found by its project's ownership tags was adopted, not imported.
    let origin = if change.reasons.contains(&Reason::AdoptedLostState) {
        Origin::Adopted
    } else {
        Origin::Imported
    };
    record_object(
        ctx,
        change,
        kind,
        &obj,
        change.after.as_deref(),
        origin,
        step,
    )?;
    Ok(Some(id))
}

/// Waits (batched with the region's other waits) until object `id`, which has no task, is
/// AVAILABLE, and returns it as read; `request_id` is the create's, when this run created it.
async fn wait_available(
    ctx: &Ctx,
    change: &ResourceChange,
    kind: ResourceKind,
    step: StepKind,
    id: &str,
    request_id: Option<&str>,
) -> Result<RemoteObject, StepFailure> {
    let fail =
        |message: String| failure(change, step, None, message, request_id.map(str::to_string));
    match ctx.watcher.wait_available(&change.region, kind, id).await {
        Settled::Available(o) => Ok(*o),
        Settled::Failed(why) => Err(fail(why)),
        Settled::TimedOut(last) => Err(fail(format!(
            "{id} still not AVAILABLE after {:?} (last state {last:?}); run apply again later to pick it up",
            ctx.opts.task_timeout
        ))),
        Settled::Api(e) => Err(api_failure(change, step, &e)),
        Settled::Gone if request_id.is_some() => {
            Err(fail(format!("{id} was created but cannot be found")))
        }
        Settled::Gone => Err(fail(format!("{id} no longer exists"))),
    }
}

async fn read_deferred(
    ctx: &Ctx,
    change: &ResourceChange,
    kind: tunnelform_kinds::DataKind,
) -> Result<Option<String>, StepFailure> {
    let step = StepKind::Read;
    let Some(cfg) = &ctx.config else {
        return Ok(None);
    };
    preconditions(ctx, change, step)?;
    let inst = cfg
        .eval_instance(&change.address, ctx)
        .map_err(|d| failure(change, step, None, d.to_string(), None))?;
    let v = tunnelform_kinds::data::read(kind.def(), &ctx.client, &change.region, &inst.attrs)
        .await
        .map_err(|e| api_failure(change, step, &e))?;
    ctx.values
        .lock()
        .expect("values")
        .insert(change.address.clone(), v);
    postconditions(ctx, change, step)?;
    Ok(None)
}
