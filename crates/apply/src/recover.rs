//! Crash safety: before planning, settle what an earlier run left unfinished, and find objects
//! whose creation tunnelform cannot otherwise know about.
//!
//! - Every journal entry is resolved against the cloud (finished ones too: the state file is saved
//!   at intervals, so a crash can lose the last completed steps): a create whose response arrived
//!   is adopted by id; a create whose response never arrived is looked up by its ownership tags; a
//!   delete is checked; whatever exists ends up in state exactly once.
//! - [`find_owned`] finds objects carrying `tunnelform:address` tags for addresses the state does not
//!   know (a lost response or a lost state). A brand-new state adopts those that also carry its
//!   project's `tunnelform:project` tag (see the planner), instead of creating a duplicate; objects
//!   of another project with the same address are left alone.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use tunnelform_model::{Address, ResourceKind, Value};
use tunnelform_plan::Attrs;
use tunnelform_state::{
    Intent, Journal, JournalAction, OpId, OpResult, Origin, Record, Sent, State,
};
use tunnelform_tencent_api::tag::{GetResourcesRequest, TagFilter};
use tunnelform_tencent_api::{parse_resource_name, ApiError, Client};

use crate::mapping::{owner_address_value, OWNER_ADDRESS_TAG, OWNER_PROJECT_TAG};
use crate::refresh::{read_objects, RemoteObject};
use crate::store::resource_state;

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

/// Objects carrying `tunnelform:address` = the tag value of one of `wanted`, in `region`.
/// Returns address -> objects found (several means duplicates exist already).
pub async fn find_owned(
    client: &Client,
    region: &str,
    kind: ResourceKind,
    wanted: &[Address],
) -> Result<BTreeMap<Address, Vec<RemoteObject>>, ApiError> {
    let mut by_value: HashMap<String, Address> = wanted
        .iter()
        .map(|a| (owner_address_value(a), a.clone()))
        .collect();
    let mut found: BTreeMap<Address, Vec<RemoteObject>> = BTreeMap::new();
    if by_value.is_empty() {
        return Ok(found);
    }
    let values: Vec<String> = by_value.keys().cloned().collect();
    let mut ids_by_addr: Vec<(Address, String)> = Vec::new();
    // The tag service takes at most 10 values per filter; for more, one query by key lists them all.
    let queries: Vec<Option<Vec<String>>> = if values.len() <= 10 {
        vec![Some(values)]
    } else {
        vec![None]
    };
    for tag_value in queries {
        let req = GetResourcesRequest {
            tag_filters: Some(vec![TagFilter {
                tag_key: OWNER_ADDRESS_TAG.to_string(),
                tag_value,
            }]),
            ..Default::default()
        };
        for mapping in client.get_resources(region, req).await? {
            let Some(name) = parse_resource_name(&mapping.resource) else {
                continue;
            };
            if name.prefix != kind.id_prefix() || name.region != region {
                continue;
            }
            if let Some(tag) = mapping.tags.iter().find(|t| t.tag_key == OWNER_ADDRESS_TAG) {
                if let Some(addr) = by_value.get(&tag.tag_value) {
                    ids_by_addr.push((addr.clone(), name.id.clone()));
                }
            }
        }
    }
    by_value.clear();
    let ids: Vec<String> = ids_by_addr.iter().map(|(_, id)| id.clone()).collect();
    let objects = read_objects(client, region, kind, &ids).await?;
    for (addr, id) in ids_by_addr {
        if let Some(o) = objects.iter().find(|o| o.id == id) {
            found.entry(addr).or_default().push(o.clone());
        }
    }
    Ok(found)
}

/// Records `obj` at `addr`, keeping what the state knew of the object there (dependencies,
/// provider alias, lifecycle, which attributes are kept only as digests).
/// An object carrying a project's `tunnelform:project` tag, as the tag service lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectObject {
    pub kind: ResourceKind,
    pub id: String,
    /// Its `tunnelform:address` tag (an address, or a digest of one).
    pub address_tag: Option<String>,
}

/// Every VPN object in `region` tagged `tunnelform:project` = `project` (one paged tag query).
pub async fn find_project_objects(
    client: &Client,
    region: &str,
    project: &str,
) -> Result<Vec<ProjectObject>, ApiError> {
    let req = GetResourcesRequest {
        tag_filters: Some(vec![TagFilter {
            tag_key: OWNER_PROJECT_TAG.to_string(),
            tag_value: Some(vec![project.to_string()]),
        }]),
        ..Default::default()
    };
    let mut out = Vec::new();
    for mapping in client.get_resources(region, req).await? {
        let Some(name) = parse_resource_name(&mapping.resource) else {
            continue;
        };
        let kind = [
            ResourceKind::VpnConnection,
            ResourceKind::VpnGateway,
            ResourceKind::CustomerGateway,
        ]
        .into_iter()
        .find(|k| k.id_prefix() == name.prefix);
        let Some(kind) = kind.filter(|_| name.region == region) else {
            continue;
        };
        let project_tag = mapping.tags.iter().find(|t| t.tag_key == OWNER_PROJECT_TAG);
        if project_tag.is_none_or(|t| t.tag_value != project) {
            continue;
        }
        out.push(ProjectObject {
            kind,
            id: name.id.clone(),
            address_tag: mapping
                .tags
                .iter()
                .find(|t| t.tag_key == OWNER_ADDRESS_TAG)
                .map(|t| t.tag_value.clone()),
        });
    }
    Ok(out)
}

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

/// Settles every operation of the journal against the cloud and records the result in `state`.
/// The caller saves the state and then clears the journal.
///
/// Finished operations are settled too: the state file is saved at intervals during an apply, so
/// after a crash the journal may hold creates and deletes that completed after the last save.
/// Everything is checked against the cloud, so settling an operation the state already reflects
/// changes nothing. `project` is this configuration's project id (see
/// [`crate::mapping::OWNER_PROJECT_TAG`]), when ownership tags are on: a create whose answer was
/// lost is found by its address and lineage tags, or, when the state that sent it was never saved
/// (a new lineage now), by its address and project tags.
pub async fn recover(
    client: &Client,
    state: &mut State,
    journal: &Journal,
    project: Option<&str>,
) -> Result<Recovery, ApiError> {
    let mut report = Recovery::default();
    for op in operations(journal) {
        settle(client, state, &op, project, &mut report).await?;
    }
    Ok(report)
}

async fn settle(
    client: &Client,
    state: &mut State,
    op: &JournalOp,
    project: Option<&str>,
    report: &mut Recovery,
) -> Result<(), ApiError> {
    let intent = &op.intent;
    let addr = &intent.address;
    let kind = intent.kind;
    let region = intent.region.as_str();
    match intent.action {
        JournalAction::Create | JournalAction::ReplaceCreate => {
            let obj = match op.resource_id() {
                // Answered: the object exists unless its task failed (or it was deleted since).
                Some(id) => {
                    if state.resources.values().any(|r| r.id == id) {
                        // Already recorded (the state was saved after it).
                        return Ok(());
                    }
                    read_objects(client, region, kind, &[id.to_string()])
                        .await?
                        .into_iter()
                        .next()
                }
                // Refused, or failed before any request was sent: nothing was created.
                None if op.result.is_some() => None,
                None => {
                    // The response never arrived: look for the object by its ownership tags.
                    let found =
                        find_owned(client, region, kind, std::slice::from_ref(addr)).await?;
                    let mut candidates: Vec<RemoteObject> =
                        found.get(addr).cloned().unwrap_or_default();
                    candidates.retain(|o| {
                        o.ownership.lineage.as_deref() == Some(state.lineage.as_str())
                            || (project.is_some() && o.ownership.project.as_deref() == project)
                    });
                    candidates.retain(|o| !state.resources.values().any(|r| r.id == o.id));
                    match candidates.len() {
                        0 => None,
                        1 => candidates.pop(),
                        n => {
                            let ids: Vec<&str> = candidates.iter().map(|o| o.id.as_str()).collect();
                            report.unresolved.push(format!("{addr}: {n} objects carry its ownership tags ({}); keep one with `tunnelform import {addr} ID`, delete the others", ids.join(", ")));
                            None
                        }
                    }
                }
            };
            // Finish the interrupted create as the executor would have: wait until the object
            // leaves PENDING, so the plan's dependents (tunnels on a new gateway) can start.
            let obj = match obj {
                Some(o) => await_settled(client, region, kind, o).await?,
                None => None,
            };
            if let Some(o) = obj {
                if let Some(old) = state
                    .resources
                    .get(addr)
                    .map(|r| r.id.clone())
                    .filter(|old| *old != o.id)
                {
                    // The address held another object: a replacement that creates before it
                    // destroys was interrupted between the two. The new object takes the address
                    // (it is what the configuration asks for); the old one, if it still exists,
                    // is reported, since the state can hold one object per address.
                    let old_exists =
                        !read_objects(client, region, kind, std::slice::from_ref(&old))
                            .await?
                            .is_empty();
                    if old_exists {
                        report.unresolved.push(format!(
                            "{addr}: an interrupted replacement left the old object {old} behind; {} replaced it in the state. Delete {old} in the console (or with tccli) when it is no longer needed",
                            o.id
                        ));
                    }
                }
                adopt(state, addr, &o, Origin::Adopted);
                report.adopted.push((addr.clone(), o.id.clone()));
            } else if op.resource_id().is_none()
                && op.result.is_none()
                && !ownership_possible(state)
            {
                report.unresolved.push(format!(
                    "{addr}: a create was interrupted before its response and ownership tags are off; check the console for an object that is not in the state"
                ));
            }
        }
        JournalAction::Delete | JournalAction::ReplaceDelete => {
            let id = op
                .resource_id()
                .map(str::to_string)
                .or_else(|| state.resources.get(addr).map(|r| r.id.clone()));
            if let Some(id) = id {
                let tracked = state.resources.get(addr).is_some_and(|r| r.id == id);
                if !tracked {
                    return Ok(());
                }
                let still = read_objects(client, region, kind, std::slice::from_ref(&id)).await?;
                // A deletion in progress is waited for, as the executor would have.
                let still = match still.into_iter().next() {
                    Some(o) => await_settled(client, region, kind, o).await?,
                    None => None,
                };
                if still.is_none() {
                    state.resources.remove(addr);
                    report.removed.push((addr.clone(), id));
                }
            }
        }
        JournalAction::Update | JournalAction::Tag => {
            // The change may have been made without the state recording it: record the object as
            // it is now, so the plan neither shows the change as made outside tunnelform nor
            // loses the attributes. Whatever is still to change, the plan shows.
            let Some(rs) = state.resources.get(addr) else {
                return Ok(());
            };
            let id = rs.id.clone();
            let origin = rs.origin;
            if let Some(o) = read_objects(client, region, kind, std::slice::from_ref(&id))
                .await?
                .into_iter()
                .next()
            {
                adopt(state, addr, &o, origin);
            }
        }
    }
    Ok(())
}

/// How long recovery waits for an object an interrupted run left PENDING.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(600);

/// Polls `obj` until it is no longer PENDING (a new VPN gateway, a tunnel whose create task runs)
/// or DELETING (a deletion in progress). None when it disappears meanwhile (a create that failed:
/// nothing to adopt; a deletion that finished). After [`SETTLE_TIMEOUT`] the object is returned as
/// it is.
async fn await_settled(
    client: &Client,
    region: &str,
    kind: ResourceKind,
    mut obj: RemoteObject,
) -> Result<Option<RemoteObject>, ApiError> {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut delay = Duration::from_millis(200);
    loop {
        let pending = matches!(
            obj.attrs.get("state").and_then(Value::as_str),
            Some("PENDING" | "DELETING")
        );
        if !pending || Instant::now() >= deadline {
            return Ok(Some(obj));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 3 / 2).min(Duration::from_secs(2));
        match read_objects(client, region, kind, std::slice::from_ref(&obj.id))
            .await?
            .into_iter()
            .next()
        {
            Some(o) => obj = o,
            None => return Ok(None),
        }
    }
}

/// Whether objects created for this state carry ownership tags (the default).
fn ownership_possible(state: &State) -> bool {
    state.resources.values().all(|r| r.ownership_tags)
}
