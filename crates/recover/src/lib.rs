//! Crash safety: before planning, settle what an earlier run left unfinished, and find objects
//! whose creation tunnelform cannot otherwise know about.
//!
//! - Every journal entry is resolved against the cloud (finished ones too: the state file is saved
//!   at intervals, so a crash can lose the last completed steps): a create whose response arrived
//!   is adopted by id; a create whose response never arrived is looked up by its ownership tags; a
//!   delete is checked; whatever exists ends up in state exactly once.
//! - [`find_owned`] finds objects carrying `tunnelform:address` tags for the addresses of creates
//!   whose answer was lost. (The planner, through [`tunnelform_plan::make::OwnershipIndex`], does the same for every
//!   create it plans, so a stale or lost state adopts its project's objects instead of creating
//!   duplicates; objects of another project with the same address are left alone.)

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use tunnelform_kinds::ResourceKind;
use tunnelform_model::{Address, Value};
use tunnelform_plan::Attrs;
use tunnelform_state::{
    DeposedObject, Intent, Journal, JournalAction, OpId, OpResult, Origin, Record, Sent, State,
};
use tunnelform_tencent_api::tag::{GetResourcesRequest, TagFilter};
use tunnelform_tencent_api::{parse_resource_name, ApiError, Client};
use tunnelform_wait::{Instant, Schedule, Wait, WaitError};

use tunnelform_apply::store::resource_state;
use tunnelform_kinds::tags::{owner_address_values, OWNER_ADDRESS_TAG};
use tunnelform_plan::make::RemoteObject;
use tunnelform_planner::read_objects;

/// What recovery did, for the CLI to report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Objects found and recorded in state (address, id).
    pub adopted: Vec<(Address, String)>,
    /// Objects confirmed gone and removed from state.
    pub removed: Vec<(Address, String)>,
    /// Entries that could not be settled, with why (the plan will show their consequences).
    pub unresolved: Vec<String>,
}

impl Recovery {
    pub fn is_empty(&self) -> bool {
        self.adopted.is_empty() && self.removed.is_empty() && self.unresolved.is_empty()
    }
}

/// Objects carrying `tunnelform:address` = the tag value of one of `wanted` (of the address's own
/// kind), in `region`: one paged tag query for the region, whatever the kinds, then batched reads.
/// Returns address -> objects found (several means duplicates exist already).
pub async fn find_owned(
    client: &Client,
    region: &str,
    wanted: &[Address],
) -> Result<BTreeMap<Address, Vec<RemoteObject>>, ApiError> {
    let by_value: HashMap<String, (Address, ResourceKind)> = wanted
        .iter()
        .filter_map(|a| ResourceKind::from_type_name(&a.type_name).map(|k| (a, k)))
        .flat_map(|(a, k)| owner_address_values(a).map(move |v| (v, (a.clone(), k))))
        .collect();
    let mut found: BTreeMap<Address, Vec<RemoteObject>> = BTreeMap::new();
    if by_value.is_empty() {
        return Ok(found);
    }
    // The tag service takes at most 10 values per filter; for more, one query by key lists them all.
    let values: Vec<String> = by_value.keys().cloned().collect();
    let req = GetResourcesRequest {
        tag_filters: Some(vec![TagFilter {
            tag_key: OWNER_ADDRESS_TAG.to_string(),
            tag_value: (values.len() <= 10).then_some(values),
        }]),
        ..Default::default()
    };
    let mut ids_by_kind: HashMap<ResourceKind, Vec<(Address, String)>> = HashMap::new();
    for mapping in client.get_resources(region, req).await? {
        let Some(name) = parse_resource_name(&mapping.resource) else {
            continue;
        };
        let Some(tag) = mapping.tags.iter().find(|t| t.tag_key == OWNER_ADDRESS_TAG) else {
            continue;
        };
        if let Some((addr, kind)) = by_value.get(&tag.tag_value) {
            if name.prefix == kind.id_prefix() && name.region == region {
                ids_by_kind
                    .entry(*kind)
                    .or_default()
                    .push((addr.clone(), name.id.clone()));
            }
        }
    }
    for (kind, members) in ids_by_kind {
        let ids: Vec<String> = members.iter().map(|(_, id)| id.clone()).collect();
        let mut objects: HashMap<String, RemoteObject> = read_objects(client, region, kind, &ids)
            .await?
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
        for (addr, id) in members {
            if let Some(o) = objects.remove(&id) {
                found.entry(addr).or_default().push(o);
            }
        }
    }
    Ok(found)
}

/// Records `obj` at `addr`, keeping what the state knew of the object there (dependencies,
/// provider alias, lifecycle, which attributes are kept only as digests).
fn adopt(state: &mut State, addr: &Address, obj: &RemoteObject, origin: Origin) {
    let prev = state.resources.get(addr).filter(|p| p.id == obj.id);
    let deps = state
        .resources
        .get(addr)
        .map(|p| p.dependencies.iter().cloned().collect())
        .unwrap_or_default();
    // Attributes the state keeps as digests (e.g. from a sensitive variable) stay digests.
    let sensitive: Attrs = prev
        .map(|p| {
            p.secret_digests
                .keys()
                .map(|k| (k.clone(), Value::sensitive(Value::Null)))
                .collect()
        })
        .unwrap_or_default();
    let rs = resource_state(
        obj.kind,
        &obj.id,
        &obj.region,
        state
            .resources
            .get(addr)
            .and_then(|p| p.provider_alias.as_deref()),
        &obj.attrs,
        Some(&sensitive),
        deps,
        prev.is_some_and(|p| p.create_before_destroy),
        origin,
        obj.ownership.lineage.is_some(),
        prev,
    );
    let rs = tunnelform_state::ResourceState {
        tainted: prev.is_some_and(|p| p.tainted),
        ..rs
    };
    state.resources.insert(addr.clone(), rs);
}

/// One operation of the journal: its intent, the answers received, and its result if it ended.
#[derive(Debug, Clone)]
struct JournalOp {
    intent: Intent,
    sent: Vec<Sent>,
    result: Option<OpResult>,
}

impl JournalOp {
    fn resource_id(&self) -> Option<&str> {
        self.sent
            .iter()
            .rev()
            .find_map(|s| s.resource_id.as_deref())
    }
}

/// Every operation of the journal, in the order they were started.
fn operations(journal: &Journal) -> Vec<JournalOp> {
    let mut order: Vec<OpId> = Vec::new();
    let mut ops: HashMap<OpId, JournalOp> = HashMap::new();
    for r in journal.records() {
        match r {
            Record::Intent(i) => {
                order.push(i.op_id.clone());
                ops.insert(
                    i.op_id.clone(),
                    JournalOp {
                        intent: i.clone(),
                        sent: Vec::new(),
                        result: None,
                    },
                );
            }
            Record::Sent(s) => {
                if let Some(op) = ops.get_mut(&s.op_id) {
                    op.sent.push(s.clone());
                }
            }
            Record::Outcome(o) => {
                if let Some(op) = ops.get_mut(&o.op_id) {
                    op.result = Some(o.result.clone());
                }
            }
        }
    }
    order.into_iter().filter_map(|id| ops.remove(&id)).collect()
}

/// Objects read for recovery by (region, kind, id), settled (see [`read_settled`]); `None` when the
/// object does not exist.
#[derive(Default)]
struct Objects(HashMap<(String, ResourceKind, String), Option<RemoteObject>>);

type Wanted = HashMap<(String, ResourceKind), BTreeSet<String>>;

impl Objects {
    /// Reads what is not read yet.
    async fn load(&mut self, client: &Client, mut wanted: Wanted) -> Result<(), ApiError> {
        for ((region, kind), ids) in wanted.iter_mut() {
            ids.retain(|id| !self.0.contains_key(&(region.clone(), *kind, id.clone())));
        }
        wanted.retain(|_, ids| !ids.is_empty());
        for ((region, kind), found) in read_settled(client, wanted).await? {
            for (id, obj) in found {
                self.0.insert((region.clone(), kind, id), obj);
            }
        }
        Ok(())
    }

    /// One object, read now if it was not read before.
    async fn get(
        &mut self,
        client: &Client,
        region: &str,
        kind: ResourceKind,
        id: &str,
    ) -> Result<Option<RemoteObject>, ApiError> {
        let key = (region.to_string(), kind, id.to_string());
        if !self.0.contains_key(&key) {
            let wanted =
                HashMap::from([((region.to_string(), kind), BTreeSet::from([id.to_string()]))]);
            self.load(client, wanted).await?;
        }
        Ok(self.0.get(&key).cloned().flatten())
    }
}

/// Settles every operation of the journal against the cloud and records the result in `state`.
/// The caller saves the state and then clears the journal.
///
/// Finished operations are settled too: the state file is saved at intervals during an apply, so
/// after a crash the journal may hold creates and deletes that completed after the last save.
/// Everything is checked against the cloud, so settling an operation the state already reflects
/// changes nothing. `project` is this configuration's project id (see
/// [`tunnelform_kinds::tags::OWNER_PROJECT_TAG`]), when ownership tags are on: a create whose answer was
/// lost is found by its address and lineage tags, or, when the state that sent it was never saved
/// (a new lineage now), by its address and project tags.
///
/// The objects the journal names are read in batches first (100 per call), and those still
/// PENDING or DELETING are waited for together, so a crash in the middle of a large apply is
/// settled in a few calls, not one per operation.
pub async fn recover(
    client: &Client,
    state: &mut State,
    journal: &Journal,
    project: Option<&str>,
) -> Result<Recovery, ApiError> {
    let ops = operations(journal);
    let mut known: HashSet<String> = state.resources.values().map(|r| r.id.clone()).collect();
    let mut wanted: Wanted = HashMap::new();
    let mut lost: HashMap<String, BTreeSet<Address>> = HashMap::new();
    for op in &ops {
        let i = &op.intent;
        let key = (i.region.clone(), i.kind);
        match (i.action, op.resource_id()) {
            (JournalAction::Create | JournalAction::ReplaceCreate, Some(id)) => {
                if !known.contains(id) {
                    wanted.entry(key).or_default().insert(id.to_string());
                }
            }
            (JournalAction::Create | JournalAction::ReplaceCreate, None) => {
                if op.result.is_none() {
                    lost.entry(i.region.clone())
                        .or_default()
                        .insert(i.address.clone());
                }
            }
            (_, id) => {
                let tracked = state.resources.get(&i.address).map(|r| r.id.as_str());
                if let Some(id) = id.or(tracked).filter(|id| Some(*id) == tracked) {
                    wanted.entry(key).or_default().insert(id.to_string());
                }
            }
        }
    }
    // Creates whose answer never arrived: what carries their addresses' ownership tags.
    let mut tagged: HashMap<String, BTreeMap<Address, Vec<RemoteObject>>> = HashMap::new();
    for (region, addrs) in lost {
        let addrs: Vec<Address> = addrs.into_iter().collect();
        let found = find_owned(client, &region, &addrs).await?;
        for objs in found.values() {
            for o in objs {
                wanted
                    .entry((region.clone(), o.kind))
                    .or_default()
                    .insert(o.id.clone());
            }
        }
        tagged.insert(region, found);
    }
    let mut objects = Objects::default();
    objects.load(client, wanted).await?;

    let mut report = Recovery::default();
    let mut cx = Settle {
        client,
        state,
        known: &mut known,
        objects: &mut objects,
        tagged: &tagged,
        project,
        report: &mut report,
    };
    for op in &ops {
        cx.settle(op).await?;
    }
    Ok(report)
}

struct Settle<'a> {
    client: &'a Client,
    state: &'a mut State,
    /// Every id in `state`.
    known: &'a mut HashSet<String>,
    objects: &'a mut Objects,
    /// Objects carrying the ownership tags of the addresses of unanswered creates.
    tagged: &'a HashMap<String, BTreeMap<Address, Vec<RemoteObject>>>,
    project: Option<&'a str>,
    report: &'a mut Recovery,
}

impl Settle<'_> {
    fn adopt(&mut self, addr: &Address, obj: &RemoteObject, origin: Origin) {
        if let Some(old) = self.state.resources.get(addr) {
            self.known.remove(&old.id);
        }
        adopt(self.state, addr, obj, origin);
        self.known.insert(obj.id.clone());
    }

    async fn settle(&mut self, op: &JournalOp) -> Result<(), ApiError> {
        let intent = &op.intent;
        let addr = &intent.address;
        let kind = intent.kind;
        let region = intent.region.as_str();
        let client = self.client;
        match intent.action {
            JournalAction::Create | JournalAction::ReplaceCreate => {
                let obj = match op.resource_id() {
                    // Answered: the object exists unless its task failed (or it was deleted
                    // since).
                    Some(id) => {
                        if self.known.contains(id) {
                            // Already recorded (the state was saved after it).
                            return Ok(());
                        }
                        self.objects.get(client, region, kind, id).await?
                    }
                    // Refused, or failed before any request was sent: nothing was created.
                    None if op.result.is_some() => None,
                    None => {
                        // The response never arrived: look for the object by its ownership tags.
                        let lineage = self.state.lineage.as_str();
                        let project = self.project;
                        let known = &*self.known;
                        let mut candidates: Vec<&RemoteObject> = self
                            .tagged
                            .get(region)
                            .and_then(|m| m.get(addr))
                            .map(|v| v.iter().collect())
                            .unwrap_or_default();
                        candidates.retain(|o| {
                            o.ownership.lineage.as_deref() == Some(lineage)
                                || (project.is_some() && o.ownership.project.as_deref() == project)
                        });
                        candidates.retain(|o| !known.contains(&o.id));
                        match candidates.as_slice() {
                            [] => None,
                            [one] => {
                                let id = one.id.clone();
                                self.objects.get(client, region, kind, &id).await?
                            }
                            many => {
                                let ids: Vec<&str> = many.iter().map(|o| o.id.as_str()).collect();
                                self.report.unresolved.push(format!("{addr}: {} objects carry its ownership tags ({}); keep one with `tunnelform import {addr} ID`, delete the others", many.len(), ids.join(", ")));
                                None
                            }
                        }
                    }
                };
                if let Some(o) = obj {
                    // The address held another object: a replacement that creates before it
                    // destroys was interrupted between the two. The new object takes the address
                    // (it is what the configuration asks for); the old one, if it still exists, is
                    // kept as deposed, and the next plan deletes it.
                    let displaced = self
                        .state
                        .resources
                        .get(addr)
                        .filter(|r| r.id != o.id)
                        .cloned();
                    let mut deposed = Vec::new();
                    if let Some(old) = &displaced {
                        deposed.clone_from(&old.deposed);
                        if self
                            .objects
                            .get(client, region, kind, &old.id)
                            .await?
                            .is_some()
                            && !deposed.iter().any(|d| d.id == old.id)
                        {
                            deposed.push(DeposedObject::of(&old.id, &old.attributes));
                        }
                    }
                    self.adopt(addr, &o, Origin::Adopted);
                    if displaced.is_some() {
                        if let Some(rs) = self.state.resources.get_mut(addr) {
                            rs.deposed = deposed;
                        }
                    }
                    self.report.adopted.push((addr.clone(), o.id.clone()));
                } else if op.resource_id().is_none()
                    && op.result.is_none()
                    && !ownership_possible(self.state)
                {
                    self.report.unresolved.push(format!(
                        "{addr}: a create was interrupted before its response and ownership tags are off; check the console for an object that is not in the state"
                    ));
                }
            }
            JournalAction::Delete | JournalAction::ReplaceDelete => {
                // The delete of a deposed object: forget it once it is gone.
                if let Some(id) = op.resource_id().filter(|id| {
                    self.state
                        .resources
                        .get(addr)
                        .is_some_and(|r| r.deposed.iter().any(|d| d.id == *id))
                }) {
                    let id = id.to_string();
                    if self.objects.get(client, region, kind, &id).await?.is_none() {
                        if let Some(rs) = self.state.resources.get_mut(addr) {
                            rs.deposed.retain(|d| d.id != id);
                        }
                        self.report.removed.push((addr.clone(), id));
                    }
                    return Ok(());
                }
                let tracked = self.state.resources.get(addr).map(|r| r.id.clone());
                let id = op.resource_id().map(str::to_string).or(tracked.clone());
                // Only the object the state still has at the address is checked.
                let Some(id) = id.filter(|id| Some(id) == tracked.as_ref()) else {
                    return Ok(());
                };
                // A deletion still in progress was waited for, as the executor would have.
                if self.objects.get(client, region, kind, &id).await?.is_none() {
                    self.state.resources.remove(addr);
                    self.known.remove(&id);
                    self.report.removed.push((addr.clone(), id));
                }
            }
            JournalAction::Update | JournalAction::Tag => {
                // The change may have been made without the state recording it: record the
                // object as it is now, so the plan neither shows the change as made outside
                // tunnelform nor loses the attributes. Whatever is still to change, the plan
                // shows.
                let Some(rs) = self.state.resources.get(addr) else {
                    return Ok(());
                };
                let (id, origin) = (rs.id.clone(), rs.origin);
                if let Some(o) = self.objects.get(client, region, kind, &id).await? {
                    self.adopt(addr, &o, origin);
                }
            }
        }
        Ok(())
    }
}

/// Reads `wanted` in batches and waits, all together, for those PENDING (a new VPN gateway, a
/// tunnel whose create task runs) or DELETING (a deletion in progress) to settle, as the executor
/// would have: the plan's dependents can then start. `None` for an object that does not exist
/// (a create that failed, a deletion that finished). After [`SETTLE_TIMEOUT`] (one deadline for
/// all) objects are taken as they are.
async fn read_settled(
    client: &Client,
    wanted: Wanted,
) -> Result<Vec<((String, ResourceKind), Vec<(String, Option<RemoteObject>)>)>, ApiError> {
    /// What the reads of one (region, kind) found so far.
    struct Progress {
        settled: Vec<(String, Option<RemoteObject>)>,
        /// Still PENDING or DELETING at the last read: read again.
        busy: Vec<RemoteObject>,
    }
    let mut out = Vec::new();
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    // Read at once, then again after 200 ms, 300 ms... up to every 2 s.
    let schedule = Schedule {
        first: Duration::ZERO,
        then: Duration::from_millis(200),
        factor: 1.5,
        max: Duration::from_secs(2),
    };
    for ((region, kind), ids) in wanted {
        let (region_ref, ids) = (&region, &ids);
        let read = Wait::new(schedule)
            .deadline(deadline)
            .until(
                |prev: Option<Progress>| {
                    let (pending, mut progress): (Vec<String>, Progress) = match prev {
                        None => (
                            ids.iter().cloned().collect(),
                            Progress {
                                settled: Vec::new(),
                                busy: Vec::new(),
                            },
                        ),
                        Some(mut p) => (
                            std::mem::take(&mut p.busy)
                                .into_iter()
                                .map(|o| o.id)
                                .collect(),
                            p,
                        ),
                    };
                    async move {
                        let mut found: HashMap<String, RemoteObject> =
                            read_objects(client, region_ref, kind, &pending)
                                .await?
                                .into_iter()
                                .map(|o| (o.id.clone(), o))
                                .collect();
                        for id in pending {
                            match found.remove(&id) {
                                Some(o) if busy(&o) => progress.busy.push(o),
                                o => progress.settled.push((id, o)),
                            }
                        }
                        Ok(progress)
                    }
                },
                |p| p.busy.is_empty(),
            )
            .await;
        let settled = match read {
            Ok(p) => p.settled,
            // Still busy at the deadline: taken as they are.
            Err(WaitError::TimedOut { last, .. }) => {
                let mut settled = last.settled;
                settled.extend(last.busy.into_iter().map(|o| (o.id.clone(), Some(o))));
                settled
            }
            Err(WaitError::Failed(e)) => return Err(e),
        };
        out.push(((region, kind), settled));
    }
    Ok(out)
}

fn busy(o: &RemoteObject) -> bool {
    matches!(
        o.attrs.get("state").and_then(Value::as_str),
        Some("PENDING" | "DELETING")
    )
}

/// How long recovery waits for an object an interrupted run left PENDING.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(600);

/// Whether objects created for this state carry ownership tags (the default).
fn ownership_possible(state: &State) -> bool {
    state.resources.values().all(|r| r.ownership_tags)
}
