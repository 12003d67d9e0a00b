//! The planning walk: refresh, then evaluate the configuration block by block in dependency order,
//! diffing each instance and feeding its planned value to the blocks that reference it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tunnelform_config::{Config, Instance, InstanceKind};
use tunnelform_kinds::ResourceKind;
use tunnelform_model::{Address, Diagnostic, Diagnostics, Mode, Target, Value};
use tunnelform_plan::{
    build_graph, detect_drift, diff_data, diff_managed, diff_managed_owned, Action, Attrs,
    DiffInput, GraphError, Lifecycle, OutputChange, Plan, Reason, ResourceChange,
};
use tunnelform_state::State;
use tunnelform_tencent_api::{ApiError, Client};

use crate::ownership::{Found, OwnershipIndex};
use crate::refresh::{read_objects, refresh, RemoteObject, RemoteSnapshot};
use crate::TUNNELFORM_VERSION;

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
    pub quotas: crate::quota::QuotaOverrides,
    /// `-replace=ADDR`: replace these objects even if nothing changed.
    pub replace: Vec<Address>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Config(Diagnostics),
    #[error("reading the cloud failed: {0}")]
    Api(#[from] ApiError),
    #[error("{0}")]
    Graph(#[from] GraphError),
    #[error("planning without a connection to the cloud cannot {0}")]
    Offline(&'static str),
}

impl From<Diagnostics> for PlanError {
    fn from(d: Diagnostics) -> Self {
        PlanError::Config(d)
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
    /// Where the planning time went.
    pub timings: PlanTimings,
}

/// Wall time of each planning phase.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanTimings {
    /// Reading the objects of the state (zero when the snapshot was given).
    pub refresh: Duration,
    /// Prior state against the refreshed objects.
    pub drift: Duration,
    /// Evaluating the configuration block by block and diffing each instance.
    pub evaluate_diff: Duration,
    /// Cross-instance validation.
    pub validate: Duration,
    /// Outputs, sensitive markers and remote digests.
    pub outputs_digests: Duration,
    /// Building (checking) the execution graph.
    pub graph: Duration,
}

/// Planned object values for the evaluator, filled block by block.
#[derive(Default)]
pub(crate) struct PlannedValues(Mutex<HashMap<Address, Arc<Value>>>);

impl PlannedValues {
    pub(crate) fn insert(&self, addr: Address, v: Value) {
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
}

/// Objects that managed objects hold (a route table's entries) which neither the state nor an
/// import of this plan accounts for: made outside tunnelform, reported and left alone.
fn unowned(
    state: &State,
    remote: &RemoteSnapshot,
    imports: &BTreeMap<Address, String>,
) -> Vec<tunnelform_plan::Unowned> {
    let known: BTreeSet<&str> = state
        .resources
        .values()
        .map(|rs| rs.id.as_str())
        .chain(imports.values().map(String::as_str))
        .collect();
    let mut out = Vec::new();
    for (addr, rs) in &state.resources {
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
        for id in ids.iter().filter_map(Value::as_str) {
            if !known.contains(id) {
                out.push(tunnelform_plan::Unowned {
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
            k.clone(),
            Value::sensitive(Value::from("(sensitive value)")),
        );
    }
    a.insert("id".into(), Value::from(rs.id.as_str()));
    a
}

/// Makes a plan: reads the objects of the state, then [`plan_from`].
pub async fn make_plan(
    client: &Client,
    config: &Config,
    state: &State,
    opts: &PlanOptions,
) -> Result<Planned, PlanError> {
    let t = Instant::now();
    let remote = refresh(client, state).await?;
    let refreshed = t.elapsed();
    let mut planned = plan_from(Some(client), config, state, remote, opts).await?;
    planned.timings.refresh = refreshed;
    Ok(planned)
}

/// Makes a plan against objects already read (`remote`, the state's objects). Without a client
/// (offline), a plan that needs the cloud (a data source or an import to read) fails with
/// [`PlanError::Offline`], and a new state is not checked for objects carrying its ownership tags.
pub async fn plan_from(
    client: Option<&Client>,
    config: &Config,
    state: &State,
    mut remote: RemoteSnapshot,
    opts: &PlanOptions,
) -> Result<Planned, PlanError> {
    let mut timings = PlanTimings::default();
    let mut t = Instant::now();
    let mut lap = |slot: &mut Duration| {
        *slot = t.elapsed();
        t = Instant::now();
    };
    let mut plan = Plan::new(TUNNELFORM_VERSION);
    // A state that does not exist yet has no identity to record (its lineage is made up on load).
    let new_state = state.serial == 0 && state.resources.is_empty();
    plan.lineage = (!new_state).then(|| state.lineage.clone());
    plan.serial = Some(state.serial);
    plan.config_digest = config.digest();
    plan.destroy = opts.mode == PlanMode::Destroy;
    plan.refresh_only = opts.mode == PlanMode::RefreshOnly;
    // `moved` blocks: the prior state's objects take their new addresses before any comparison.
    let (moved_state, renamed, move_warnings) =
        crate::moves::apply_moved(config, state, &mut remote);
    let state = moved_state.as_ref().unwrap_or(state);

    // Drift: prior state against the refreshed objects.
    for (addr, rs) in &state.resources {
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
            plan.drift.push(d);
        }
    }
    lap(&mut timings.drift);

    let values = PlannedValues::default();
    let mut data = BTreeMap::new();
    let mut diags = move_warnings;
    let mut imports: BTreeMap<Address, String> = BTreeMap::new();
    for ib in config.imports()? {
        imports.insert(ib.to, ib.id);
    }
    for (a, id) in &opts.imports {
        imports.insert(a.clone(), id.clone());
    }
    plan.unowned = unowned(state, &remote, &imports);

    // Evaluate every block in dependency order.
    let order = config.block_order()?;
    let mut owners = OwnershipIndex::new(opts.project.as_deref(), state);
    // Address -> id of this project's objects the state did not hold, adopted by this plan.
    let mut adopted: BTreeMap<Address, String> = BTreeMap::new();
    let mut all: Vec<Instance> = Vec::new();
    // The objects to import, read once per region and kind for every block.
    let mut imported = ImportReads::default();
    // Data sources: at most one filtered read, then one paged listing, per source and region.
    let mut data_reads = tunnelform_kinds::data::DataReads::default();
    for block in &order {
        let expanded = match config.expand_block(block, &values) {
            Ok(e) => e,
            Err(d) => {
                diags.extend(d);
                continue;
            }
        };
        // Planned values are kept only for blocks something reads (memory: one attribute map per
        // instance).
        let keep_values = config.is_referenced(block);
        // The block's objects to import that the state does not hold: read now, as if refreshed
        // (before any instance is diffed), together: one batched read per region and kind.
        read_imports(
            client,
            &expanded,
            &imports,
            state,
            &mut imported,
            &mut remote,
            &mut diags,
        )
        .await?;
        for inst in expanded {
            match inst.kind {
                InstanceKind::Data(kind) => {
                    let args: Attrs = inst.attrs.clone();
                    let v = if Value::Map(args.clone()).is_wholly_known() {
                        let client = client.ok_or(PlanError::Offline("read a data source"))?;
                        data_reads
                            .read(kind.def(), client, &inst.provider.region, &args)
                            .await?
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
                        plan.changes.push(change);
                        Value::Unknown
                    };
                    data.insert(inst.address.clone(), v.clone());
                    values.insert(inst.address.clone(), v);
                }
                InstanceKind::Managed(kind) => {
                    // Before anything is created: does this project already have an object at this
                    // address that the state does not hold? (The state may be stale or lost.)
                    // Such an object is adopted, not created again; objects of another project
                    // (or without a project tag) with the same address are reported, never taken
                    // over (that would let this state change or destroy another state's objects).
                    // A destroy looks at every region of the configuration, so that it also
                    // finds this project's objects for addresses the configuration dropped.
                    let absent = !remote.objects.contains_key(&inst.address);
                    if let Some(client) = client.filter(|_| {
                        opts.mode != PlanMode::RefreshOnly
                            && !imports.contains_key(&inst.address)
                            && (absent || opts.mode == PlanMode::Destroy)
                    }) {
                        let region = inst.provider.region.as_str();
                        owners.load(client, region).await?;
                        if absent {
                            let found = owners.find(region, kind, &inst.address);
                            if let Some(adopt) = untracked_objects(
                                &inst.address,
                                region,
                                &found,
                                opts.project.as_deref(),
                                &mut diags,
                            ) {
                                adopted.insert(inst.address.clone(), adopt.id.clone());
                                remote.objects.insert(inst.address.clone(), adopt);
                            }
                        }
                    }
                    // A normal plan gives the refreshed object's attributes to the change (its
                    // `before`) instead of copying them: nothing reads them from the snapshot
                    // afterwards (memory: one attribute map per object).
                    let taken = match opts.mode {
                        PlanMode::Normal => remote
                            .objects
                            .get_mut(&inst.address)
                            .map(|o| (o.id.clone(), std::mem::take(&mut o.attrs))),
                        _ => None,
                    };
                    let r: Option<&RemoteObject> = match opts.mode {
                        PlanMode::Destroy | PlanMode::Normal => None,
                        PlanMode::RefreshOnly => remote.objects.get(&inst.address),
                    };
                    let input = DiffInput {
                        address: &inst.address,
                        kind,
                        region: &inst.provider.region,
                        provider_alias: inst.provider.alias.as_deref(),
                        desired: Some(&inst.attrs),
                        remote: r.map(|o| (o.id.as_str(), &o.attrs)),
                        in_state: state.resources.contains_key(&inst.address),
                        lifecycle: &inst.lifecycle,
                        depends_on: merged_deps(&inst, state),
                        importing: imports
                            .get(&inst.address)
                            .filter(|_| !state.resources.contains_key(&inst.address))
                            .or_else(|| adopted.get(&inst.address))
                            .cloned(),
                    };
                    let mut change = match taken {
                        Some((id, attrs)) => diff_managed_owned(input, Some((&id, attrs))),
                        None => diff_managed(input),
                    };
                    if adopted.contains_key(&inst.address) {
                        change.reasons.push(Reason::AdoptedLostState);
                    }
                    if opts.mode == PlanMode::Normal
                        && opts.replace.iter().any(|r| r.contains(&inst.address))
                    {
                        tunnelform_plan::force_replace(&mut change, &inst.attrs, &inst.lifecycle);
                    }
                    let planned = match change.action {
                        Action::NoOp | Action::Update | Action::Create | Action::Replace { .. }
                            if keep_values =>
                        {
                            change.after.clone().map(Value::Map)
                        }
                        _ => None,
                    };
                    if let Some(v) = planned {
                        values.insert(inst.address.clone(), v);
                    }
                    plan.changes.push(change);
                    all.push(inst);
                }
            }
        }
    }
    lap(&mut timings.evaluate_diff);
    diags.extend(tunnelform_config::validate_instances(&all));
    // The API's rules apply to what the plan creates or changes: a destroy or a refresh is never
    // held back by them.
    if opts.mode == PlanMode::Normal {
        diags.extend(crate::rules::check(config, &all, &plan.changes));
    }
    if let Some(client) = client.filter(|_| opts.mode == PlanMode::Normal && !diags.has_errors()) {
        let vpcs = crate::rules::plan_vpcs(&all, &plan.changes);
        if !vpcs.is_empty() {
            let cidrs = crate::rules::vpc_cidrs(client, &vpcs).await?;
            diags.extend(crate::rules::check_vpc(config, &all, &plan.changes, &cidrs));
        }
    }
    if diags.has_errors() {
        return Err(PlanError::Config(diags.sorted()));
    }
    let instances: BTreeMap<Address, Instance> =
        all.into_iter().map(|i| (i.address.clone(), i)).collect();
    // This project's objects that neither the state nor the configuration has (a lost or stale
    // state's, for addresses the configuration no longer names): nothing will manage them.
    let untracked = match &opts.project {
        Some(project) if opts.mode != PlanMode::RefreshOnly => {
            let mut u = unclaimed_objects(&owners, project, &instances, &mut diags);
            u.retain(|c| !crate::moves::kept_by_removed(config, &c.address));
            u
        }
        _ => Vec::new(),
    };
    lap(&mut timings.validate);

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
            // Destroy: every managed object that exists goes, whatever the configuration says.
            let mut destroy = Vec::new();
            for (addr, rs) in &state.resources {
                let Some(kind) = rs.kind() else {
                    continue;
                };
                // An object already gone stays in the plan as a no-op, so applying forgets it.
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
            // This project's objects that the state did not hold (it is stale or was lost), found
            // by their ownership tags: destroyed too, or they would be left behind.
            for (addr, id) in &adopted {
                let (Some(r), Some(inst)) = (remote.objects.get(addr), instances.get(addr)) else {
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

    // prevent_destroy: a delete or replace of a protected object is an error, before anything runs.
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
        return Err(PlanError::Config(protected));
    }

    if !opts.targets.is_empty() {
        apply_targets(&mut plan.changes, &opts.targets);
    }

    crate::quota::check_plan(client, config, &instances, &plan, opts).await?;

    // Outputs.
    if opts.mode != PlanMode::Destroy {
        let outputs = config.outputs(&values)?;
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

    // What the state keeps only as a digest (keys, values from sensitive variables) is shown and
    // saved only as sensitive, whatever the cloud returns in clear.
    for c in &mut plan.changes {
        if let Some(rs) = state.resources.get(&c.address) {
            for k in rs.secret_digests.keys() {
                for attrs in [c.before.as_mut(), c.after.as_mut()].into_iter().flatten() {
                    if let Some(v) = attrs.get_mut(k) {
                        if !v.is_null() && !v.is_sensitive() {
                            *v = Value::sensitive(v.clone());
                        }
                    }
                }
            }
        }
    }
    if opts.mode != PlanMode::Destroy {
        crate::moves::forget_removed(&mut plan, config);
    }
    crate::moves::annotate(&mut plan, &renamed, &instances, config)?;
    plan.changes.sort_by(|a, b| a.address.cmp(&b.address));
    lap(&mut timings.outputs_digests);
    plan.graph = Some(build_graph(&plan)?.to_data());
    lap(&mut timings.graph);
    Ok(Planned {
        plan,
        remote,
        instances,
        data,
        warnings: diags,
        timings,
    })
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
    let known: HashSet<String> = instances
        .keys()
        .flat_map(tunnelform_kinds::tags::owner_address_values)
        .collect();
    let mut changes = Vec::new();
    let mut unnamed: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (tag, o) in owners.unclaimed(&known) {
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

/// The objects to import, by region and kind: each (region, kind) is read once, on first use, for
/// every address of that kind to import (whichever block it is in), so a configuration of many
/// blocks costs one batched read (100 ids per call) per region and kind, as one `for_each` block
/// does.
#[derive(Default)]
struct ImportReads(HashMap<(String, ResourceKind), HashMap<String, RemoteObject>>);

/// Reads the objects that `instances` import (by `import` blocks or `tunnelform import`) and that
/// the state does not hold into `remote` (through `cache`); an id that does not exist is an error
/// naming the address.
async fn read_imports(
    client: Option<&Client>,
    instances: &[Instance],
    imports: &BTreeMap<Address, String>,
    state: &State,
    cache: &mut ImportReads,
    remote: &mut RemoteSnapshot,
    diags: &mut Diagnostics,
) -> Result<(), PlanError> {
    for inst in instances {
        let InstanceKind::Managed(kind) = inst.kind else {
            continue;
        };
        let Some(id) = imports.get(&inst.address) else {
            continue;
        };
        if state.resources.contains_key(&inst.address) {
            continue;
        }
        let region = inst.provider.region.as_str();
        let key = (region.to_string(), kind);
        if !cache.0.contains_key(&key) {
            let client = client.ok_or(PlanError::Offline("read an object to import"))?;
            // Every id of this kind to import: those of other regions are simply not found here.
            let mut ids: Vec<String> = imports
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
            let found = read_objects(client, region, kind, &ids)
                .await?
                .into_iter()
                .map(|o| (o.id.clone(), o))
                .collect();
            cache.0.insert(key.clone(), found);
        }
        match cache.0[&key].get(id) {
            Some(o) => {
                remote.objects.insert(inst.address.clone(), o.clone());
            }
            None => diags.push(
                Diagnostic::error(format!(
                    "Cannot import {}: no {} with id {id:?} in {region}",
                    inst.address,
                    kind.type_name()
                ))
                .with_help("check the id and the provider region (tccli or the console show it)"),
            ),
        }
    }
    Ok(())
}

/// Dependencies from configuration and from the prior state (so deletes keep their order).
fn merged_deps(inst: &Instance, state: &State) -> Vec<Address> {
    let mut deps: BTreeSet<Address> = inst.depends_on.iter().cloned().collect();
    if let Some(rs) = state.resources.get(&inst.address) {
        deps.extend(rs.dependencies.iter().cloned());
    }
    deps.into_iter().collect()
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
