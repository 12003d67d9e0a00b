//! Making a plan, as a pure function of plain data: the configuration, the prior state, what was
//! read from the cloud and the options go in, the [`Plan`] comes out. Nothing here reads the
//! cloud, waits or looks at a clock.
//!
//! What the plan needs from the cloud is partly known only while the configuration is evaluated
//! (a data source's arguments can name other blocks' planned values; the objects to import and
//! the regions whose ownership tags to look at come from expanded instances), so making a plan is
//! a conversation: [`Planning::step`] walks the configuration block by block in dependency order,
//! diffing each instance and feeding its planned value to the blocks that reference it, until it
//! needs something read; it then returns [`Progress::Need`] with the reads ([`Read`]: their
//! evaluated arguments, batched as the API takes them), and the apply layer performs them and
//! calls [`Planning::step`] again with the answers ([`Answer`], in the same order). The walk
//! resumes where it stopped: nothing is evaluated twice, and every read is asked once. The
//! number of steps is bounded: at most four per block (imports, ownership tags, the objects they
//! name, data sources) and two after the walk (VPC ranges, quota counts).
//!
//! The refresh itself (the state's objects as the cloud holds them) can be given whole
//! ([`Planning::new`]) or asked for on the way ([`Planning::refreshing`], [`Read::Refresh`]):
//! each block's objects, a few pages at a time, once its instances are evaluated, and after the
//! walk those no block claimed. A caller that reads them concurrently then evaluates the
//! configuration while the last pages are still coming. Either way each object is compared with
//! the prior state (drift) as it arrives, before its block is diffed, and the plan is the same.
//!
//! A plan made without a connection to the cloud ([`Inputs::online`] false) never asks for
//! ownership tags, VPC ranges or quota counts; a data source or an import it needs is then an
//! error of the caller's (it has nothing to read them with).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipnet::Ipv4Net;
use tunnelform_config::{CondKind, Config, Instance, InstanceKind};
use tunnelform_kinds::{DataKind, ResourceKind};
use tunnelform_model::{Address, Diagnostic, Diagnostics, Mode, Target, Value};
use tunnelform_state::State;

use crate::{
    build_graph, detect_drift, diff_data, diff_managed, diff_managed_owned, Action, Attrs,
    DiffInput, GraphError, Lifecycle, OutputChange, Plan, Reason, ResourceChange,
};

mod conditions;
pub mod moves;
pub mod ownership;
pub mod quota;
pub mod remote;
pub mod rules;
pub mod triggers;

pub use ownership::{Found, OwnershipIndex, Tagged};
pub use quota::{CountAsks, Counts, QuotaError, QuotaOverrides};
pub use remote::{with_write_only, RemoteObject, RemoteSnapshot};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlanMode {
    #[default]
    Normal,
    Destroy,
    RefreshOnly,
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub mode: PlanMode,
    /// `--target`: only these resources or module instances (and what they depend on).
    pub targets: Vec<Target>,
    /// `tunnelform import ADDR ID`: import these (in addition to `import` blocks).
    pub imports: Vec<(Address, String)>,
    /// This configuration's project id (the `tunnelform:project` tag value), when ownership tags
    /// are on: a brand-new state adopts the objects tagged with its addresses and this project.
    pub project: Option<String>,
    /// Quotas raised for this account (`--quota NAME=N`).
    pub quotas: QuotaOverrides,
    /// `-replace=ADDR`: replace these objects even if nothing changed.
    pub replace: Vec<Address>,
}

/// Why no plan was made.
#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    #[error("{0}")]
    Config(Diagnostics),
    #[error("{0}")]
    Graph(#[from] GraphError),
    /// The answers given to [`Planning::step`] are not those of the reads it asked for.
    #[error("the planner was given {given} answer(s) for {asked} read(s), or an answer of the wrong kind")]
    Answers { asked: usize, given: usize },
}

impl From<Diagnostics> for MakeError {
    fn from(d: Diagnostics) -> Self {
        MakeError::Config(d)
    }
}

/// A plan and what was learnt while making it.
#[derive(Debug, Clone)]
pub struct Planned {
    pub plan: Plan,
    /// The objects read. In a normal plan, the attributes of the objects the configuration
    /// still has moved into their changes' `before` (their ids and kinds stay here).
    pub remote: RemoteSnapshot,
    /// Every expanded managed instance of the configuration, by address.
    pub instances: BTreeMap<Address, Instance>,
    /// Values of the data sources read during planning.
    pub data: BTreeMap<Address, Value>,
    pub warnings: Diagnostics,
    /// Where the planning time went (filled by the caller, who has the clock: see [`Phase`]).
    pub timings: PlanTimings,
}

/// Wall time of each planning phase.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanTimings {
    /// How long the planning waited for the objects of the state (their reads overlap the
    /// evaluation; zero when the snapshot was given).
    pub refresh: Duration,
    /// Prior state against the refreshed objects.
    pub drift: Duration,
    /// Evaluating the configuration block by block and diffing each instance (with the reads
    /// made meanwhile).
    pub evaluate_diff: Duration,
    /// Cross-instance validation.
    pub validate: Duration,
    /// Outputs, sensitive markers and remote digests.
    pub outputs_digests: Duration,
    /// Building (checking) the execution graph.
    pub graph: Duration,
}

/// The end of a planning phase, told to the `mark` callback of [`Planning::step`] (the caller
/// times them; the planner has no clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Drift,
    EvaluateDiff,
    Validate,
    OutputsDigests,
    Graph,
}

impl PlanTimings {
    /// The slot of `phase`.
    pub fn slot(&mut self, phase: Phase) -> &mut Duration {
        match phase {
            Phase::Drift => &mut self.drift,
            Phase::EvaluateDiff => &mut self.evaluate_diff,
            Phase::Validate => &mut self.validate,
            Phase::OutputsDigests => &mut self.outputs_digests,
            Phase::Graph => &mut self.graph,
        }
    }
}

/// Planned object values for the evaluator, filled block by block.
#[derive(Default)]
pub struct PlannedValues(Mutex<HashMap<Address, Arc<Value>>>);

impl PlannedValues {
    pub fn insert(&self, addr: Address, v: Value) {
        self.0
            .lock()
            .expect("planned values")
            .insert(addr, Arc::new(v));
    }
}

impl tunnelform_config::Lookup for PlannedValues {
    fn instance(&self, addr: &Address) -> Option<Value> {
        self.instance_shared(addr).map(|v| (*v).clone())
    }

    fn instance_shared(&self, addr: &Address) -> Option<Arc<Value>> {
        self.0.lock().ok()?.get(addr).cloned()
    }

    fn as_sync(&self) -> Option<&(dyn tunnelform_config::Lookup + Sync)> {
        Some(self)
    }
}

/// Something the plan needs read from the cloud, with its arguments evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    /// The objects to import of `kind` (every id to import of that kind, whichever block it is
    /// in: one batched read, 100 ids per call, per region and kind). Answered by
    /// [`Answer::Objects`] (an id not found is simply absent).
    Import {
        region: String,
        kind: ResourceKind,
        ids: Vec<String>,
    },
    /// This project's objects that the state does not hold, named by ownership tags (batched).
    /// Answered by [`Answer::Objects`].
    Owned {
        region: String,
        kind: ResourceKind,
        ids: Vec<String>,
    },
    /// Every object of `region` carrying a `tunnelform:address` tag (one paged tag query).
    /// Answered by [`Answer::Tagged`].
    Tagged { region: String },
    /// A data source with these arguments (all known). Answered by [`Answer::Data`] with its
    /// value (arguments, results, id). The reads of one step are made in their order.
    Data {
        kind: DataKind,
        region: String,
        args: Attrs,
    },
    /// The CIDR blocks of these VPCs (region -> VPC or route table ids), for the kinds' rules
    /// ([`tunnelform_kinds::Kind::check_plan_vpcs`]). Answered by [`Answer::VpcCidrs`].
    VpcCidrs(BTreeMap<String, BTreeSet<String>>),
    /// How many objects of `kind` exist in `region` for each quota and scope key
    /// ([`tunnelform_kinds::Kind::count_existing`]). Answered by [`Answer::Counts`].
    Counts {
        region: String,
        kind: ResourceKind,
        asked: Vec<(tunnelform_kinds::Quota, Vec<String>)>,
    },
    /// The objects of the state at these addresses (the state's own, before any `moved` block)
    /// as the cloud holds them now. Asked only by a plan started before its refresh ended
    /// ([`Planning::refreshing`]): block by block as the walk reaches each block (its instances
    /// are evaluated meanwhile), then, after the walk, the objects no block claimed. Answered by
    /// [`Answer::Refreshed`]: the objects found, by address (an address not found is absent),
    /// completed with the state's write-only values ([`with_write_only`]).
    Refresh(Vec<Address>),
}

/// What was read for a [`Read`].
#[derive(Debug, Clone)]
pub enum Answer {
    Objects(Vec<RemoteObject>),
    Tagged(Vec<Tagged>),
    Data(Value),
    VpcCidrs(HashMap<String, Ipv4Net>),
    Counts(Vec<HashMap<String, u64>>),
    Refreshed(RemoteSnapshot),
}

/// What [`Planning::step`] reached.
#[derive(Debug)]
pub enum Progress {
    /// Read these and call [`Planning::step`] again with the answers, in this order.
    Need(Vec<Read>),
    /// The plan (the [`Planning`] is spent).
    Done(Box<Planned>),
}

/// What the plan is made from (besides what it asks to read).
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub config: &'a Config,
    /// The prior state.
    pub state: &'a State,
    pub opts: &'a PlanOptions,
    /// Whether the caller can read the cloud: without, nothing is asked for ownership tags, VPC
    /// ranges or quotas (those checks are skipped), and a new state is not checked for objects
    /// carrying its ownership tags.
    pub online: bool,
}

/// Makes a plan from everything given at once: `reads` answers every [`Read`] the planner asks
/// (`None`: the planning stops with the reads still needed). For tests and tools that have
/// their answers at hand.
pub fn make_plan(
    inputs: Inputs<'_>,
    remote: RemoteSnapshot,
    mut reads: impl FnMut(&Read) -> Option<Answer>,
) -> Result<Result<Planned, Vec<Read>>, MakeError> {
    let mut planning = Planning::new(inputs, remote)?;
    let mut answers = Vec::new();
    loop {
        match planning.step(answers, &mut |_| {})? {
            Progress::Done(p) => return Ok(Ok(*p)),
            Progress::Need(needs) => {
                let got: Option<Vec<Answer>> = needs.iter().map(&mut reads).collect();
                match got {
                    Some(a) => answers = a,
                    None => return Ok(Err(needs)),
                }
            }
        }
    }
}

/// The block being planned: its expanded instances and how far its reads got.
struct Current {
    instances: Vec<Instance>,
    /// Whether a later block (or an output) reads its planned values.
    keep_values: bool,
    /// Its objects to import were taken into the snapshot.
    imported: bool,
    /// The values of its data sources (with known arguments), in order.
    data: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Walk,
    Check,
    Vpcs,
    Assemble,
    Quotas,
    Finish,
    Spent,
}

/// A plan being made: see the module's documentation.
pub struct Planning<'a> {
    inputs: Inputs<'a>,
    /// The prior state with the configuration's moves made, when something moved.
    moved: Option<State>,
    renamed: BTreeMap<Address, Address>,
    plan: Plan,
    remote: RemoteSnapshot,
    values: PlannedValues,
    data: BTreeMap<Address, Value>,
    diags: Diagnostics,
    imports: BTreeMap<Address, String>,
    order: Vec<Address>,
    next: usize,
    current: Option<Current>,
    owners: OwnershipIndex,
    /// Address -> id of this project's objects the state did not hold, adopted by this plan.
    adopted: BTreeMap<Address, String>,
    all: Vec<Instance>,
    /// The objects to import, read once per region and kind for every block.
    imported: HashMap<(String, ResourceKind), HashMap<String, RemoteObject>>,
    instances: BTreeMap<Address, Instance>,
    cidrs: Option<HashMap<String, Ipv4Net>>,
    counts: Option<Counts>,
    /// The reads asked by the last step, answered by the next.
    asked: Vec<Read>,
    stage: Stage,
    drift_marked: bool,
    /// The managed changes by resource, made when the first instance with
    /// `replace_triggered_by` is planned (none otherwise).
    triggers: Option<triggers::TriggerIndex>,
    /// The prior state's managed objects not refreshed yet (by their addresses after the
    /// moves): a block's are asked for before it is planned, the rest after the walk.
    unrefreshed: BTreeSet<Address>,
    /// Old address -> new address of the objects the moves renamed.
    moved_to: BTreeMap<Address, Address>,
    /// The ids of the state's objects and of the imports (for [`unowned`]; made when first
    /// needed).
    known_ids: std::cell::OnceCell<HashSet<String>>,
}

/// A block's objects are asked for this many at a time (a few pages of the refresh).
const REFRESH_PIECE: usize = 500;

/// A block with fewer objects to refresh asks for the state's next ones up to this many (a
/// page of the refresh).
const REFRESH_AHEAD: usize = 100;

/// From this many instances (or state objects), [`Planning`]'s cross-instance checks and the
/// kinds' rules run side by side on two threads, and drift is looked for on two threads.
const PARALLEL_CHECKS_FROM: usize = 2048;

/// `a` and `b`, on two threads when `size` reaches [`PARALLEL_CHECKS_FROM`] and the process may
/// run on two cores or more (its CPU affinity counts: pinned to one core, a second thread would
/// only cost); else one after the other.
fn both<A: Send, B: Send>(
    size: usize,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    // (The size first: asking for the cores reads the process's affinity and cgroup limits.)
    if size < PARALLEL_CHECKS_FROM
        || !std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
    {
        return (a(), b());
    }
    std::thread::scope(|s| {
        let later = s.spawn(b);
        let first = a();
        match later.join() {
            Ok(second) => (first, second),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

impl<'a> Planning<'a> {
    /// Starts a plan against `remote`, the state's objects as read (refreshed).
    pub fn new(inputs: Inputs<'a>, remote: RemoteSnapshot) -> Result<Self, MakeError> {
        let mut planning = Self::refreshing(inputs)?;
        planning.take_refreshed(None, remote);
        Ok(planning)
    }

    /// Starts a plan whose refresh is still under way: the state's objects are asked for with
    /// [`Read::Refresh`], those of each block when the walk reaches it (after its instances
    /// are evaluated), so the caller can answer each as soon as its pages are read.
    pub fn refreshing(inputs: Inputs<'a>) -> Result<Self, MakeError> {
        let Inputs {
            config,
            state,
            opts,
            ..
        } = inputs;
        let mut plan = Plan::new(crate::TUNNELFORM_VERSION);
        // A state that does not exist yet has no identity to record (its lineage is made up on
        // load).
        let new_state = state.serial == 0 && state.resources.is_empty();
        plan.lineage = (!new_state).then(|| state.lineage.clone());
        plan.serial = Some(state.serial);
        plan.config_digest = config.digest();
        plan.destroy = opts.mode == PlanMode::Destroy;
        plan.refresh_only = opts.mode == PlanMode::RefreshOnly;
        // `moved` blocks: the prior state's objects take their new addresses before any
        // comparison.
        let (moved, renamed, diags) =
            moves::apply_moved(config, state, &mut RemoteSnapshot::default());
        let prior = moved.as_ref().unwrap_or(state);
        let unrefreshed = prior
            .resources
            .iter()
            .filter(|(_, rs)| rs.mode == Mode::Managed && rs.kind().is_some())
            .map(|(a, _)| a.clone())
            .collect();
        let moved_to = renamed
            .iter()
            .map(|(new, old)| (old.clone(), new.clone()))
            .collect();

        let mut imports: BTreeMap<Address, String> = BTreeMap::new();
        for ib in config.imports()? {
            imports.insert(ib.to, ib.id);
        }
        for (a, id) in &opts.imports {
            imports.insert(a.clone(), id.clone());
        }
        let order = config.block_order()?;
        let owners = OwnershipIndex::new(opts.project.as_deref(), prior);
        Ok(Planning {
            inputs,
            moved,
            renamed,
            plan,
            remote: RemoteSnapshot::default(),
            values: PlannedValues::default(),
            data: BTreeMap::new(),
            diags,
            imports,
            order,
            next: 0,
            current: None,
            owners,
            adopted: BTreeMap::new(),
            all: Vec::new(),
            imported: HashMap::new(),
            instances: BTreeMap::new(),
            cidrs: None,
            counts: None,
            asked: Vec::new(),
            stage: Stage::Walk,
            drift_marked: false,
            triggers: None,
            unrefreshed,
            moved_to,
            known_ids: std::cell::OnceCell::new(),
        })
    }

    /// The read of the state's objects at `prior` addresses (after the moves), by their
    /// addresses in the state.
    fn refresh_read(&self, prior: impl IntoIterator<Item = Address>) -> Read {
        Read::Refresh(
            prior
                .into_iter()
                .map(|a| self.renamed.get(&a).cloned().unwrap_or(a))
                .collect(),
        )
    }

    /// Takes the refreshed objects `found` (by the state's addresses) of the objects at `asked`
    /// (by their addresses after the moves; those not found are gone) into the snapshot, and
    /// compares them with the prior state: drift, and objects they hold that nothing accounts
    /// for. Done before any of them is diffed (a normal plan's diff takes their attributes).
    /// `asked`: `None` for every object not refreshed yet (a whole snapshot).
    fn take_refreshed(&mut self, asked: Option<Vec<Address>>, found: RemoteSnapshot) {
        if self.remote.objects.is_empty() && self.moved_to.is_empty() {
            // The first piece, or the whole snapshot: taken as it is.
            self.remote = found;
        } else {
            for (addr, o) in found.objects {
                let addr = self.moved_to.get(&addr).cloned().unwrap_or(addr);
                self.remote.objects.insert(addr, o);
            }
        }
        let prior = self.moved.as_ref().unwrap_or(self.inputs.state);
        let objects: Vec<(&Address, &tunnelform_state::ResourceState)> = match asked {
            // In the state's order already.
            None => {
                let all = std::mem::take(&mut self.unrefreshed);
                prior
                    .resources
                    .iter()
                    .filter(|(a, _)| all.contains(*a))
                    .collect()
            }
            Some(asked) => {
                let mut objects = Vec::with_capacity(asked.len());
                for a in asked {
                    if let Some((addr, rs)) = self
                        .unrefreshed
                        .take(&a)
                        .and_then(|a| prior.resources.get_key_value(&a))
                    {
                        objects.push((addr, rs));
                    }
                }
                objects.sort_by(|a, b| a.0.cmp(b.0));
                objects
            }
        };
        self.plan.drift.extend(drift(&objects, &self.remote));
        let (imports, known_ids) = (&self.imports, &self.known_ids);
        let known = || {
            known_ids.get_or_init(|| {
                prior
                    .resources
                    .values()
                    .map(|rs| rs.id.clone())
                    .chain(imports.values().cloned())
                    .collect()
            })
        };
        let found = unowned(&objects, &self.remote, known);
        self.plan.unowned.extend(found);
        if self.unrefreshed.is_empty() {
            // Asked block by block: put back in the state's order.
            self.plan.drift.sort_by(|a, b| a.address.cmp(&b.address));
            self.plan.unowned.sort_by(|a, b| a.holder.cmp(&b.holder));
        }
    }

    /// The prior state, with the configuration's moves made.
    fn state(&self) -> &State {
        self.moved.as_ref().unwrap_or(self.inputs.state)
    }

    /// Goes on with the plan, given the answers to the reads the previous step asked for (none
    /// the first time), until it needs more read or is made. `mark` is told the end of each
    /// phase (see [`Phase`]).
    pub fn step(
        &mut self,
        answers: Vec<Answer>,
        mark: &mut dyn FnMut(Phase),
    ) -> Result<Progress, MakeError> {
        if !self.drift_marked {
            self.drift_marked = true;
            mark(Phase::Drift);
        }
        let follow_up = self.take_answers(answers)?;
        if !follow_up.is_empty() {
            return Ok(self.need(follow_up));
        }
        loop {
            match self.stage {
                Stage::Walk => {
                    if let Some(needs) = self.walk()? {
                        return Ok(self.need(needs));
                    }
                    mark(Phase::EvaluateDiff);
                    self.stage = Stage::Check;
                }
                Stage::Check => {
                    // The state's objects no block claimed (to delete, or forgotten): the
                    // rest of the refresh.
                    if !self.unrefreshed.is_empty() {
                        let read = self.refresh_read(self.unrefreshed.iter().cloned());
                        return Ok(self.need(vec![read]));
                    }
                    self.check();
                    self.stage = Stage::Vpcs;
                }
                Stage::Vpcs => {
                    if let Some(needs) = self.check_vpcs() {
                        return Ok(self.need(needs));
                    }
                    self.stage = Stage::Assemble;
                }
                Stage::Assemble => {
                    self.assemble()?;
                    mark(Phase::Validate);
                    self.stage = Stage::Quotas;
                }
                Stage::Quotas => {
                    if let Some(needs) = self.check_quotas()? {
                        return Ok(self.need(needs));
                    }
                    self.stage = Stage::Finish;
                }
                Stage::Finish => {
                    self.stage = Stage::Spent;
                    return self.finish(mark).map(|p| Progress::Done(Box::new(p)));
                }
                Stage::Spent => return Err(MakeError::Answers { asked: 0, given: 0 }),
            }
        }
    }

    fn need(&mut self, reads: Vec<Read>) -> Progress {
        self.asked = reads.clone();
        Progress::Need(reads)
    }

    /// Takes the answers to the last step's reads; returns the reads they lead to at once (the
    /// objects a region's ownership tags name).
    fn take_answers(&mut self, answers: Vec<Answer>) -> Result<Vec<Read>, MakeError> {
        let asked = std::mem::take(&mut self.asked);
        let wrong = MakeError::Answers {
            asked: asked.len(),
            given: answers.len(),
        };
        if asked.len() != answers.len() {
            return Err(wrong);
        }
        let mut follow_up = Vec::new();
        for (read, answer) in asked.into_iter().zip(answers) {
            match (read, answer) {
                (Read::Import { region, kind, .. }, Answer::Objects(found)) => {
                    let found = found.into_iter().map(|o| (o.id.clone(), o)).collect();
                    self.imported.insert((region, kind), found);
                }
                (Read::Owned { region, .. }, Answer::Objects(found)) => {
                    self.owners.insert_read(&region, found);
                }
                (Read::Tagged { region }, Answer::Tagged(tagged)) => {
                    for (kind, ids) in self.owners.insert_tagged(&region, tagged) {
                        follow_up.push(Read::Owned {
                            region: region.clone(),
                            kind,
                            ids,
                        });
                    }
                }
                (Read::Data { .. }, Answer::Data(v)) => {
                    if let Some(c) = self.current.as_mut() {
                        c.data.get_or_insert_with(Vec::new).push(v);
                    }
                }
                (Read::VpcCidrs(_), Answer::VpcCidrs(c)) => self.cidrs = Some(c),
                (Read::Counts { .. }, Answer::Counts(c)) => {
                    self.counts.get_or_insert_with(Vec::new).push(c)
                }
                (Read::Refresh(asked), Answer::Refreshed(found)) => {
                    let asked: Vec<Address> = asked
                        .into_iter()
                        .map(|a| self.moved_to.get(&a).cloned().unwrap_or(a))
                        .collect();
                    self.take_refreshed(Some(asked), found);
                }
                _ => return Err(wrong),
            }
        }
        Ok(follow_up)
    }

    /// Every id of `kind` to import that the state does not hold (sorted): those of other
    /// regions are simply not found in a region.
    fn import_ids(&self, kind: ResourceKind) -> Vec<String> {
        let state = self.state();
        let mut ids: Vec<String> = self
            .imports
            .iter()
            .filter(|(a, _)| {
                a.mode == Mode::Managed
                    && a.type_name == kind.type_name()
                    && !state.resources.contains_key(*a)
            })
            .map(|(_, id)| id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Evaluates the blocks in dependency order, until one needs something read.
    fn walk(&mut self) -> Result<Option<Vec<Read>>, MakeError> {
        let config = self.inputs.config;
        while self.next < self.order.len() {
            let mut current = match self.current.take() {
                Some(c) => c,
                None => {
                    let block = &self.order[self.next];
                    match config.expand_block(block, &self.values) {
                        Ok(instances) => Current {
                            instances: {
                                if self.inputs.opts.mode == PlanMode::Normal {
                                    conditions::preconditions(
                                        config,
                                        &instances,
                                        &self.values,
                                        &mut self.diags,
                                    );
                                }
                                instances
                            },
                            // Planned values are kept only for blocks something reads (memory:
                            // one attribute map per instance).
                            keep_values: config.is_referenced(block),
                            imported: false,
                            data: None,
                        },
                        Err(d) => {
                            self.diags.extend(d);
                            self.next += 1;
                            continue;
                        }
                    }
                }
            };
            let needs = self.block_needs(&mut current);
            if !needs.is_empty() {
                self.current = Some(current);
                return Ok(Some(needs));
            }
            self.plan_block(current);
            self.next += 1;
        }
        Ok(None)
    }

    /// What the block still needs read, in this order: its objects to import (as if refreshed,
    /// before any instance is diffed: one batched read per region and kind for every block), the
    /// ownership tags of the regions it may create in, its data sources.
    fn block_needs(&mut self, current: &mut Current) -> Vec<Read> {
        // The block's objects as refreshed, when the refresh is still under way: a piece at a
        // time, so each is compared with the state while the next ones are being read.
        if !self.unrefreshed.is_empty() {
            let mut asked: Vec<Address> = current
                .instances
                .iter()
                .filter(|i| {
                    matches!(i.kind, InstanceKind::Managed(_))
                        && self.unrefreshed.contains(&i.address)
                })
                .take(REFRESH_PIECE)
                .map(|i| i.address.clone())
                .collect();
            // A small block asks with it the state's next objects (in the state's order, most
            // often the next blocks' when blocks are written one per object): a round trip per
            // page, not per block.
            if let Some(last) = asked.iter().max().filter(|_| asked.len() < REFRESH_AHEAD) {
                let more: Vec<Address> = self
                    .unrefreshed
                    .range((Bound::Excluded(last), Bound::Unbounded))
                    .filter(|a| !asked.contains(a))
                    .take(REFRESH_AHEAD - asked.len())
                    .cloned()
                    .collect();
                asked.extend(more);
            }
            if !asked.is_empty() {
                return vec![self.refresh_read(asked)];
            }
        }
        if !current.imported {
            let mut needs: Vec<Read> = Vec::new();
            for (inst, kind) in self.importing_instances(&current.instances) {
                let region = inst.provider.region.as_str();
                let key = (region.to_string(), kind);
                let asked = needs.iter().any(|r| {
                    matches!(r, Read::Import { region: r, kind: k, .. } if *r == key.0 && *k == kind)
                });
                if !self.imported.contains_key(&key) && !asked {
                    needs.push(Read::Import {
                        region: key.0,
                        kind,
                        ids: self.import_ids(kind),
                    });
                }
            }
            if !needs.is_empty() {
                return needs;
            }
            self.take_imports(&current.instances);
            current.imported = true;
        }
        // Before anything is created: does this project already have an object at this address
        // that the state does not hold? (The state may be stale or lost.) Each region's tags are
        // listed once.
        let mut regions: Vec<Read> = Vec::new();
        for inst in &current.instances {
            if let InstanceKind::Managed(_) = inst.kind {
                let region = inst.provider.region.as_str();
                if self.looks_for_owner(inst)
                    && !self.owners.has_region(region)
                    && !regions
                        .iter()
                        .any(|r| matches!(r, Read::Tagged { region: r } if r == region))
                {
                    regions.push(Read::Tagged {
                        region: region.to_string(),
                    });
                }
            }
        }
        if !regions.is_empty() {
            return regions;
        }
        if current.data.is_none() {
            // Data sources: read now when their arguments are known (at most one filtered read,
            // then one paged listing, per source and region: the reader's business).
            let reads: Vec<Read> = current
                .instances
                .iter()
                .filter_map(|inst| match inst.kind {
                    InstanceKind::Data(kind)
                        if Value::Map(inst.attrs.clone()).is_wholly_known() =>
                    {
                        Some(Read::Data {
                            kind,
                            region: inst.provider.region.clone(),
                            args: inst.attrs.clone(),
                        })
                    }
                    _ => None,
                })
                .collect();
            if !reads.is_empty() {
                return reads;
            }
            current.data = Some(Vec::new());
        }
        Vec::new()
    }

    /// The managed instances to import that the state does not hold, with their kinds.
    fn importing_instances<'i>(
        &self,
        instances: &'i [Instance],
    ) -> Vec<(&'i Instance, ResourceKind)> {
        let state = self.state();
        instances
            .iter()
            .filter_map(|inst| match inst.kind {
                InstanceKind::Managed(kind)
                    if self.imports.contains_key(&inst.address)
                        && !state.resources.contains_key(&inst.address) =>
                {
                    Some((inst, kind))
                }
                _ => None,
            })
            .collect()
    }

    /// Takes the block's objects to import into the snapshot; an id that does not exist is an
    /// error naming the address.
    fn take_imports(&mut self, instances: &[Instance]) {
        for (inst, kind) in self.importing_instances(instances) {
            let region = inst.provider.region.as_str();
            let id = &self.imports[&inst.address];
            let found = self
                .imported
                .get(&(region.to_string(), kind))
                .and_then(|m| m.get(id));
            match found {
                Some(o) => {
                    self.remote.objects.insert(inst.address.clone(), o.clone());
                }
                None => self.diags.push(
                    Diagnostic::error(format!(
                        "Cannot import {}: no {} with id {id:?} in {region}",
                        inst.address,
                        kind.type_name()
                    ))
                    .with_help(
                        "check the id and the provider region (tccli or the console show it)",
                    ),
                ),
            }
        }
    }

    /// Whether the plan looks for this project's object at `inst`'s address among the tagged
    /// ones: when it is not in the snapshot (nor imported), or to destroy it. A destroy looks at
    /// every region of the configuration, so that it also finds this project's objects for
    /// addresses the configuration dropped.
    fn looks_for_owner(&self, inst: &Instance) -> bool {
        let mode = self.inputs.opts.mode;
        self.inputs.online
            && mode != PlanMode::RefreshOnly
            && !self.imports.contains_key(&inst.address)
            && (!self.remote.objects.contains_key(&inst.address) || mode == PlanMode::Destroy)
    }

    /// Diffs each instance of a block whose reads are all answered.
    fn plan_block(&mut self, current: Current) {
        let opts = self.inputs.opts;
        let config = self.inputs.config;
        let mut data_values = current.data.unwrap_or_default().into_iter();
        // Postconditions are checked on what is planned (normal plans only).
        let post = opts.mode == PlanMode::Normal
            && current
                .instances
                .first()
                .is_some_and(|i| config.has_conditions(&i.address, CondKind::Post));
        self.all.reserve(current.instances.len());
        self.plan.changes.reserve(current.instances.len());
        for inst in current.instances {
            match inst.kind {
                InstanceKind::Data(kind) => {
                    let args: Attrs = inst.attrs.clone();
                    let v = if Value::Map(args.clone()).is_wholly_known() {
                        data_values.next().unwrap_or(Value::Unknown)
                    } else {
                        let mut change = diff_data(
                            &inst.address,
                            kind,
                            &inst.provider.region,
                            inst.provider.alias.as_deref(),
                            &args,
                        );
                        // Read during apply: after what its arguments refer to.
                        change.depends_on = inst.depends_on.clone();
                        self.plan.changes.push(change);
                        Value::Unknown
                    };
                    if post {
                        conditions::postconditions(
                            config,
                            &inst.address,
                            &v,
                            &self.values,
                            &mut self.diags,
                        );
                    }
                    self.data.insert(inst.address.clone(), v.clone());
                    self.values.insert(inst.address.clone(), v);
                }
                InstanceKind::Managed(kind) => {
                    // This project's object at this address that the state does not hold is
                    // adopted, not created again; objects of another project (or without a
                    // project tag) with the same address are reported, never taken over (that
                    // would let this state change or destroy another state's objects).
                    let absent = !self.remote.objects.contains_key(&inst.address);
                    if absent && self.looks_for_owner(&inst) {
                        let region = inst.provider.region.as_str();
                        let found = self.owners.find(region, kind, &inst.address);
                        if let Some(adopt) = untracked_objects(
                            &inst.address,
                            region,
                            &found,
                            opts.project.as_deref(),
                            &mut self.diags,
                        ) {
                            self.adopted.insert(inst.address.clone(), adopt.id.clone());
                            self.remote.objects.insert(inst.address.clone(), adopt);
                        }
                    }
                    let change = self.diff_instance(&inst, kind);
                    if post {
                        conditions::postconditions(
                            config,
                            &inst.address,
                            &conditions::planned_self(&change),
                            &self.values,
                            &mut self.diags,
                        );
                    }
                    let planned = match change.action {
                        Action::NoOp | Action::Update | Action::Create | Action::Replace { .. }
                            if current.keep_values =>
                        {
                            change.after.as_deref().cloned().map(Value::Map)
                        }
                        _ => None,
                    };
                    if let Some(v) = planned {
                        self.values.insert(inst.address.clone(), v);
                    }
                    if let Some(ix) = &mut self.triggers {
                        ix.add(self.plan.changes.len(), &change);
                    }
                    self.plan.changes.push(change);
                    self.all.push(inst);
                }
            }
        }
    }

    fn diff_instance(&mut self, inst: &Instance, kind: ResourceKind) -> ResourceChange {
        let opts = self.inputs.opts;
        let state = self.moved.as_ref().unwrap_or(self.inputs.state);
        // A normal plan gives the refreshed object's attributes to the change (its `before`)
        // instead of copying them: nothing reads them from the snapshot afterwards (memory: one
        // attribute map per object).
        let taken = match opts.mode {
            PlanMode::Normal => self
                .remote
                .objects
                .get_mut(&inst.address)
                .map(|o| (o.id.clone(), std::mem::take(&mut o.attrs))),
            _ => None,
        };
        let r: Option<&RemoteObject> = match opts.mode {
            PlanMode::Destroy | PlanMode::Normal => None,
            PlanMode::RefreshOnly => self.remote.objects.get(&inst.address),
        };
        let prior = state.resources.get(&inst.address);
        let input = DiffInput {
            address: &inst.address,
            kind,
            region: &inst.provider.region,
            provider_alias: inst.provider.alias.as_deref(),
            desired: Some(&inst.attrs),
            remote: r.map(|o| (o.id.as_str(), &o.attrs)),
            in_state: prior.is_some(),
            lifecycle: &inst.lifecycle,
            depends_on: merged_deps(inst, prior),
            importing: self
                .imports
                .get(&inst.address)
                .filter(|_| prior.is_none())
                .or_else(|| self.adopted.get(&inst.address))
                .cloned(),
        };
        let mut change = match taken {
            Some((id, attrs)) => diff_managed_owned(input, Some((&id, attrs))),
            None => diff_managed(input),
        };
        if self.adopted.contains_key(&inst.address) {
            change.reasons.push(Reason::AdoptedLostState);
        }
        if opts.mode == PlanMode::Normal && opts.replace.iter().any(|r| r.contains(&inst.address)) {
            crate::force_replace(&mut change, &inst.attrs, &inst.lifecycle);
        }
        if opts.mode == PlanMode::Normal && !inst.lifecycle.replace_triggered_by.is_empty() {
            self.replace_if_triggered(inst, &mut change);
        }
        change
    }

    /// `lifecycle { replace_triggered_by }`: replaces an object the plan would keep or update
    /// when what its triggers name is planned to change (see [`triggers`]).
    fn replace_if_triggered(&mut self, inst: &Instance, change: &mut ResourceChange) {
        let changes = &self.plan.changes;
        let index = self
            .triggers
            .get_or_insert_with(|| triggers::TriggerIndex::new(changes));
        match triggers::fired(&inst.lifecycle.replace_triggered_by, changes, index) {
            Ok(by) if !by.is_empty() => crate::force_replace_because(
                change,
                &inst.attrs,
                &inst.lifecycle,
                Reason::ReplaceByTriggers { by },
            ),
            Ok(_) => {}
            Err(d) => self.diags.push(d.with_span(inst.span.clone(), None)),
        }
    }

    /// Cross-instance validation and the kinds' rules across the plan's objects.
    fn check(&mut self) {
        // The API's rules apply to what the plan creates or changes: a destroy or a refresh is
        // never held back by them.
        let rules_apply = self.inputs.opts.mode == PlanMode::Normal;
        let (config, all, changes) = (self.inputs.config, &self.all, &self.plan.changes);
        // The two checks read the same instances and are independent: a big plan runs them on
        // two cores.
        let (cross, rules) = both(
            all.len(),
            || tunnelform_config::validate_instances(all),
            || rules_apply.then(|| rules::check(config, all, changes)),
        );
        self.diags.extend(cross);
        if let Some(rules) = rules {
            self.diags.extend(rules);
        }
    }

    /// The kinds' rules that need the VPCs' CIDR blocks (asked for once).
    fn check_vpcs(&mut self) -> Option<Vec<Read>> {
        if !self.inputs.online
            || self.inputs.opts.mode != PlanMode::Normal
            || self.diags.has_errors()
        {
            return None;
        }
        match &self.cidrs {
            None => {
                let vpcs = rules::plan_vpcs(&self.all, &self.plan.changes);
                if vpcs.is_empty() {
                    return None;
                }
                Some(vec![Read::VpcCidrs(vpcs)])
            }
            Some(cidrs) => {
                self.diags.extend(rules::check_vpc(
                    self.inputs.config,
                    &self.all,
                    &self.plan.changes,
                    cidrs,
                ));
                None
            }
        }
    }

    /// Deletes of what the configuration no longer has, the destroy and refresh-only forms of the
    /// plan, `prevent_destroy` and `--target`.
    fn assemble(&mut self) -> Result<(), MakeError> {
        let Inputs { config, opts, .. } = self.inputs;
        if self.diags.has_errors() {
            return Err(MakeError::Config(std::mem::take(&mut self.diags).sorted()));
        }
        self.instances = std::mem::take(&mut self.all)
            .into_iter()
            .map(|i| (i.address.clone(), i))
            .collect();
        let instances = &self.instances;
        // This project's objects that neither the state nor the configuration has (a lost or
        // stale state's, for addresses the configuration no longer names): nothing will manage
        // them.
        let untracked = match &opts.project {
            Some(project) if opts.mode != PlanMode::RefreshOnly => {
                let mut u = unclaimed_objects(&self.owners, project, instances, &mut self.diags);
                u.retain(|c| !moves::kept_by_removed(config, &c.address));
                u
            }
            _ => Vec::new(),
        };
        let state = self.moved.as_ref().unwrap_or(self.inputs.state);
        let remote = &self.remote;
        let plan = &mut self.plan;

        // Objects in state that the configuration no longer has.
        for (addr, rs) in &state.resources {
            if rs.mode != Mode::Managed || instances.contains_key(addr) {
                continue;
            }
            let Some(kind) = rs.kind() else {
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

        plan.changes.extend(deposed_deletes(state));
        if opts.mode == PlanMode::Normal {
            plan.changes.extend(untracked.iter().cloned());
        }

        match opts.mode {
            PlanMode::Destroy => {
                // Destroy: every managed object that exists goes, whatever the configuration
                // says.
                let mut destroy = Vec::new();
                for (addr, rs) in &state.resources {
                    let Some(kind) = rs.kind() else {
                        continue;
                    };
                    // An object already gone stays in the plan as a no-op, so applying forgets
                    // it.
                    let r = remote.objects.get(addr);
                    let lc = Lifecycle::default();
                    destroy.push(diff_managed(DiffInput {
                        address: addr,
                        kind,
                        region: &rs.region,
                        provider_alias: rs.provider_alias.as_deref(),
                        desired: None,
                        remote: r.map(|r| (r.id.as_str(), &r.attrs)),
                        in_state: true,
                        lifecycle: &lc,
                        depends_on: rs.dependencies.iter().cloned().collect(),
                        importing: None,
                    }));
                }
                // This project's objects that the state did not hold (it is stale or was lost),
                // found by their ownership tags: destroyed too, or they would be left behind.
                for (addr, id) in &self.adopted {
                    let (Some(r), Some(inst)) = (remote.objects.get(addr), instances.get(addr))
                    else {
                        continue;
                    };
                    let mut change = diff_managed(DiffInput {
                        address: addr,
                        kind: r.kind,
                        region: &r.region,
                        provider_alias: inst.provider.alias.as_deref(),
                        desired: None,
                        remote: Some((id.as_str(), &r.attrs)),
                        in_state: false,
                        lifecycle: &Lifecycle::default(),
                        depends_on: inst.depends_on.clone(),
                        importing: None,
                    });
                    change.reasons.push(Reason::UntrackedOfProject);
                    destroy.push(change);
                }
                destroy.extend(untracked);
                destroy.extend(deposed_deletes(state));
                plan.changes = destroy;
            }
            PlanMode::RefreshOnly => {
                for c in &mut plan.changes {
                    c.action = Action::NoOp;
                    c.importing = None;
                }
                plan.changes.retain(|c| c.before.is_some() && !c.deposed);
            }
            PlanMode::Normal => {}
        }

        // prevent_destroy: a delete or replace of a protected object is an error, before
        // anything runs.
        let mut protected = Diagnostics::new();
        for c in &plan.changes {
            if matches!(c.action, Action::Delete | Action::Replace { .. }) && !c.deposed {
                if let Some(inst) = instances
                    .get(&c.address)
                    .filter(|i| i.lifecycle.prevent_destroy)
                {
                    protected.push(
                        Diagnostic::error(format!("Instance cannot be destroyed: {} has lifecycle.prevent_destroy set", c.address))
                            .with_span(inst.span.clone(), None)
                            .with_detail(format!("the plan would {} it", if c.action == Action::Delete { "destroy" } else { "replace" }))
                            .with_help("remove prevent_destroy (or change the plan so it is not destroyed), then run the command again"),
                    );
                }
            }
        }
        if protected.has_errors() {
            // Show the offending line, as every other diagnostic does.
            config.attach_source_lines(&mut protected);
            return Err(MakeError::Config(protected));
        }

        if !opts.targets.is_empty() {
            apply_targets(&mut plan.changes, &opts.targets);
        }
        Ok(())
    }

    /// The quota check of a normal plan made with a connection to the cloud: what exists is
    /// asked for once.
    fn check_quotas(&mut self) -> Result<Option<Vec<Read>>, MakeError> {
        if !self.inputs.online || self.inputs.opts.mode != PlanMode::Normal {
            return Ok(None);
        }
        let checked = quota::check(
            self.inputs.config,
            self.instances.values(),
            &self.plan.changes,
            &self.inputs.opts.quotas,
            self.counts.as_ref(),
        );
        match checked {
            Ok(diags) if diags.has_errors() => Err(MakeError::Config(diags)),
            Ok(_) => Ok(None),
            Err(asks) => Ok(Some(
                asks.into_iter()
                    .map(|(region, kind, asked)| Read::Counts {
                        region,
                        kind,
                        asked,
                    })
                    .collect(),
            )),
        }
    }

    /// Outputs, the sensitive markers, the renames and the execution graph.
    fn finish(&mut self, mark: &mut dyn FnMut(Phase)) -> Result<Planned, MakeError> {
        let Inputs { config, opts, .. } = self.inputs;
        let state = self.moved.as_ref().unwrap_or(self.inputs.state);
        let plan = &mut self.plan;
        // Outputs.
        if opts.mode == PlanMode::Normal {
            let mut diags = Diagnostics::new();
            plan.checks = conditions::outputs_and_checks(config, &self.values, &mut diags);
            if diags.has_errors() {
                return Err(MakeError::Config(diags.sorted()));
            }
            self.diags.extend(diags);
        }
        if opts.mode != PlanMode::Destroy {
            let outputs = config.outputs(&self.values)?;
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
        }

        // What the state keeps only as a digest (keys, values from sensitive variables) is shown
        // and saved only as sensitive, whatever the cloud returns in clear.
        for c in &mut plan.changes {
            if let Some(rs) = state.resources.get(&c.address) {
                for k in rs.secret_digests.keys() {
                    for attrs in [c.before.as_mut(), c.after.as_mut()].into_iter().flatten() {
                        // Written only when it changes: a shared map is copied on write.
                        if attrs
                            .get(k)
                            .is_some_and(|v| !v.is_null() && !v.is_sensitive())
                        {
                            if let Some(v) = attrs.get_mut(k) {
                                *v = Value::sensitive(v.clone());
                            }
                        }
                    }
                }
            }
        }
        if opts.mode != PlanMode::Destroy {
            moves::forget_removed(plan, config);
        }
        moves::annotate(plan, &self.renamed, &self.instances, config)?;
        plan.changes.sort_by(|a, b| a.address.cmp(&b.address));
        mark(Phase::OutputsDigests);
        plan.graph = Some(build_graph(plan)?.to_data());
        mark(Phase::Graph);
        Ok(Planned {
            plan: std::mem::replace(plan, Plan::new(crate::TUNNELFORM_VERSION)),
            remote: std::mem::take(&mut self.remote),
            instances: std::mem::take(&mut self.instances),
            data: std::mem::take(&mut self.data),
            warnings: std::mem::take(&mut self.diags),
            timings: PlanTimings::default(),
        })
    }
}

/// Drift: the prior state's `objects` against the refreshed ones. Many are compared on two
/// threads, each taking one contiguous half, so the result keeps their order.
fn drift(
    objects: &[(&Address, &tunnelform_state::ResourceState)],
    remote: &RemoteSnapshot,
) -> Vec<crate::Drift> {
    let (first, second) = objects.split_at(objects.len() / 2);
    let (mut out, mut rest) = both(
        objects.len(),
        || drift_of(first, remote),
        || drift_of(second, remote),
    );
    out.append(&mut rest);
    out
}

fn drift_of(
    objects: &[(&Address, &tunnelform_state::ResourceState)],
    remote: &RemoteSnapshot,
) -> Vec<crate::Drift> {
    let mut out = Vec::new();
    for &(addr, rs) in objects {
        let Some(kind) = rs.kind() else {
            continue;
        };
        if rs.mode != Mode::Managed {
            continue;
        }
        let r = remote.objects.get(addr);
        let matches = |attr: &str, v: &Value| {
            rs.secret_digests
                .get(attr)
                .map(|d| d.matches_value(&v.deep_unmarked()))
        };
        // Compared against the state's attributes as they are (secrets go through `matches`);
        // the copy with sensitive markers is made only for a drift to show.
        if let Some(mut d) = detect_drift(
            addr,
            kind,
            &rs.id,
            &rs.attributes,
            r.map(|o| &o.attrs),
            &matches,
        ) {
            d.before = prior_attrs(rs);
            out.push(d);
        }
    }
    out
}

/// Objects that the managed `objects` hold (a route table's entries) which neither the state nor
/// an import of this plan accounts for (`known`: their ids): made outside tunnelform, reported
/// and left alone.
fn unowned<'k>(
    objects: &[(&Address, &tunnelform_state::ResourceState)],
    remote: &RemoteSnapshot,
    known: impl Fn() -> &'k HashSet<String>,
) -> Vec<crate::Unowned> {
    let mut out = Vec::new();
    for &(addr, rs) in objects {
        if rs.mode != Mode::Managed {
            continue;
        }
        let Some((attr, held)) = rs.kind().and_then(|k| k.def().holds()) else {
            continue;
        };
        let Some(Value::List(ids)) = remote.objects.get(addr).and_then(|o| o.attrs.get(attr))
        else {
            continue;
        };
        let known = known();
        for id in ids.iter().filter_map(Value::as_str) {
            if !known.contains(id) {
                out.push(crate::Unowned {
                    holder: addr.clone(),
                    holder_id: rs.id.clone(),
                    type_name: held.def().type_name().to_string(),
                    id: id.to_string(),
                });
            }
        }
    }
    out
}

/// Prior-state attributes for drift and display: sensitive attributes shown as markers.
fn prior_attrs(rs: &tunnelform_state::ResourceState) -> Attrs {
    let mut a = rs.attributes.clone();
    for k in rs.secret_digests.keys() {
        a.insert(
            k.clone().into(),
            Value::sensitive(Value::from("(sensitive value)")),
        );
    }
    a.insert("id".into(), Value::from(rs.id.as_str()));
    a
}

/// What carries the ownership tag of `address` in `region` besides the state's objects (`found`):
/// returns this project's one object, to adopt, or says why nothing is adopted (another project's
/// object: a warning, the plan creates a new one; several of this project's: an error, since
/// nothing tells which one to keep).
fn untracked_objects(
    address: &Address,
    region: &str,
    found: &Found<'_>,
    project: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<RemoteObject> {
    match found.mine.as_slice() {
        [one] => Some((*one).clone()),
        [] if found.others.is_empty() => None,
        [] => {
            let others = &found.others;
            let ids: Vec<&str> = others.iter().map(|o| o.id.as_str()).collect();
            let mut theirs: Vec<String> = others
                .iter()
                .map(|o| match &o.project {
                    Some(p) => format!("{} belongs to project {p:?}", o.id),
                    None => format!("{} has no tunnelform:project tag", o.id),
                })
                .collect();
            theirs.dedup();
            let ours = match project {
                Some(p) => format!("this project is {p:?}"),
                None => "ownership tags are off for this run".to_string(),
            };
            diags.push(
                Diagnostic::warning(format!(
                    "{} in {region} already {} the ownership tag of {address}: {}",
                    if ids.len() == 1 { "an object" } else { "objects" },
                    if ids.len() == 1 { "carries" } else { "carry" },
                    ids.join(", ")
                ))
                .with_detail(format!(
                    "{} ({ours}), so it is another configuration's; the plan creates a new object",
                    theirs.join("; ")
                ))
                .with_help(match others.iter().find_map(|o| o.project.as_deref()) {
                    Some(p) => format!(
                        "if it is this configuration's, import it instead of creating another: tunnelform import {address} {} (or, if this configuration ran under project {p:?} before, run with --project {p:?} to adopt all its objects)",
                        ids[0]
                    ),
                    None => format!(
                        "if it is this configuration's, import it instead of creating another: tunnelform import {address} {}",
                        ids[0]
                    ),
                }),
            );
            None
        }
        many => {
            let ids: Vec<&str> = many.iter().map(|o| o.id.as_str()).collect();
            diags.push(
                Diagnostic::error(format!(
                    "{} objects in {region} carry this project's ownership tags for {address}: {}",
                    many.len(),
                    ids.join(", ")
                ))
                .with_detail("the state does not hold them (it is stale, or was lost), and the plan would adopt the object tagged with this project instead of creating another, but there are duplicates and it cannot tell which one to keep")
                .with_help(format!(
                    "keep one with `tunnelform import {address} {}` and delete the others in the console (or with tccli), then run the command again",
                    ids[0]
                )),
            );
            None
        }
    }
}

/// This project's objects (in the regions the plan looked at) that neither the state nor the
/// configuration holds: a lost or stale state's objects for addresses the configuration no longer
/// has. Each is deleted, as the state that recorded them would have deleted it (the plan shows
/// it); an object whose address tag is a digest (a long address) cannot be named, so it is only
/// reported.
fn unclaimed_objects(
    owners: &OwnershipIndex,
    project: &str,
    instances: &BTreeMap<Address, Instance>,
    diags: &mut Diagnostics,
) -> Vec<ResourceChange> {
    let known = || {
        instances
            .keys()
            .flat_map(tunnelform_kinds::tags::owner_address_values)
            .collect::<HashSet<String>>()
    };
    let mut changes = Vec::new();
    let mut unnamed: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (tag, o) in owners.unclaimed(known) {
        let address = tunnelform_kinds::tags::address_of_owner_value(tag)
            .filter(|a| a.mode == Mode::Managed && a.type_name == o.kind.type_name());
        let Some(address) = address else {
            unnamed
                .entry(o.region.as_str())
                .or_default()
                .push(format!("{} ({tag})", o.id));
            continue;
        };
        let mut change = diff_managed(DiffInput {
            address: &address,
            kind: o.kind,
            region: &o.region,
            provider_alias: None,
            desired: None,
            remote: Some((o.id.as_str(), &o.attrs)),
            in_state: false,
            lifecycle: &Lifecycle::default(),
            depends_on: Vec::new(),
            importing: None,
        });
        change.reasons.push(Reason::UntrackedOfProject);
        changes.push(change);
    }
    for (region, orphans) in unnamed {
        diags.push(
            Diagnostic::warning(format!(
                "{} object(s) in {region} carry this project's ownership tags but are not in the configuration: {}",
                orphans.len(),
                orphans.join(", ")
            ))
            .with_detail(format!(
                "the state does not hold them (it is stale, or was lost), so they were created by this project ({project:?}) for addresses the configuration no longer has; their address tags are digests of long addresses, so tunnelform cannot name them and will not change or destroy them"
            ))
            .with_help("delete them in the console (or with tccli), or add their blocks back and import them (tunnelform import ADDRESS ID) to manage or destroy them"),
        );
    }
    changes
}

/// Deletes of the deposed objects the state keeps (older objects that a create_before_destroy
/// replacement did not delete). An object already gone is deleted as a no-op (not found).
fn deposed_deletes(state: &State) -> Vec<ResourceChange> {
    let mut out = Vec::new();
    for (addr, rs) in &state.resources {
        let Some(kind) = rs.kind() else {
            continue;
        };
        for d in &rs.deposed {
            let before: Attrs = d
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect();
            let mut change = diff_managed(DiffInput {
                address: addr,
                kind,
                region: &rs.region,
                provider_alias: rs.provider_alias.as_deref(),
                desired: None,
                remote: Some((d.id.as_str(), &before)),
                in_state: true,
                lifecycle: &Lifecycle::default(),
                depends_on: rs.dependencies.iter().cloned().collect(),
                importing: None,
            });
            change.reasons = vec![Reason::Deposed];
            change.deposed = true;
            out.push(change);
        }
    }
    out
}

/// Dependencies from configuration and from the prior state (so deletes keep their order),
/// sorted, each once. The state's are usually the configuration's, and only the others are
/// copied.
fn merged_deps(inst: &Instance, prior: Option<&tunnelform_state::ResourceState>) -> Vec<Address> {
    let mut deps = inst.depends_on.clone();
    if let Some(rs) = prior {
        deps.extend(
            rs.dependencies
                .iter()
                .filter(|d| !inst.depends_on.contains(d))
                .cloned(),
        );
    }
    deps.sort_unstable();
    deps.dedup();
    deps
}

/// Keeps the targeted changes and everything they depend on.
fn apply_targets(changes: &mut Vec<ResourceChange>, targets: &[Target]) {
    let mut keep: BTreeSet<Address> = changes
        .iter()
        .filter(|c| targets.iter().any(|t| t.selects(&c.address)))
        .map(|c| c.address.clone())
        .collect();
    loop {
        let before = keep.len();
        let deps: Vec<Address> = changes
            .iter()
            .filter(|c| keep.contains(&c.address))
            .flat_map(|c| c.depends_on.clone())
            .collect();
        for c in changes.iter() {
            if deps.iter().any(|d| d.contains(&c.address)) {
                keep.insert(c.address.clone());
            }
        }
        if keep.len() == before {
            break;
        }
    }
    changes.retain(|c| keep.contains(&c.address));
}
