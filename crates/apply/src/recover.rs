//! Crash safety: before planning, settle what an earlier run left unfinished, and find objects
//! whose creation tunnelform cannot otherwise know about.
//!
//! - Every unfinished journal entry is resolved against the cloud: a create whose response arrived
//!   is adopted by id; a create whose response never arrived is looked up by its ownership tags; a
//!   delete is checked; whatever exists ends up in state exactly once.
//! - [`find_owned`] finds objects carrying `tunnelform:address` tags for addresses the state does not
//!   know (a lost response or a lost state), so the plan imports them instead of creating a duplicate.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use tunnelform_model::{Address, ResourceKind, Value};
use tunnelform_state::{Journal, JournalAction, Origin, State, UnfinishedOp};
use tunnelform_tencent_api::tag::{GetResourcesRequest, TagFilter};
use tunnelform_tencent_api::{parse_resource_name, ApiError, Client};

use crate::mapping::{owner_address_value, OWNER_ADDRESS_TAG};
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

fn adopt(state: &mut State, addr: &Address, obj: &RemoteObject, origin: Origin) {
    let prev = state.resources.get(addr);
    let deps = prev
        .map(|p| p.dependencies.iter().cloned().collect())
        .unwrap_or_default();
    let rs = resource_state(
        obj.kind,
        &obj.id,
        &obj.region,
        prev.and_then(|p| p.provider_alias.as_deref()),
        &obj.attrs,
        None,
        deps,
        false,
        origin,
        obj.ownership.lineage.is_some(),
        prev,
    );
    state.resources.insert(addr.clone(), rs);
}

/// Settles every unfinished journal entry against the cloud and records the result in `state`.
/// The caller saves the state and then clears the journal.
pub async fn recover(
    client: &Client,
    state: &mut State,
    journal: &Journal,
) -> Result<Recovery, ApiError> {
    let mut report = Recovery::default();
    for op in journal.unfinished() {
        settle(client, state, &op, &mut report).await?;
    }
    Ok(report)
}

async fn settle(
    client: &Client,
    state: &mut State,
    op: &UnfinishedOp,
    report: &mut Recovery,
) -> Result<(), ApiError> {
    let intent = &op.intent;
    let addr = &intent.address;
    let kind = intent.kind;
    let region = intent.region.as_str();
    let id = op
        .resource_id()
        .map(str::to_string)
        .or_else(|| state.resources.get(addr).map(|r| r.id.clone()));
    match intent.action {
        JournalAction::Create | JournalAction::ReplaceCreate => {
            let obj = match &id {
                Some(id) if op.resource_id().is_some() => {
                    read_objects(client, region, kind, std::slice::from_ref(id))
                        .await?
                        .into_iter()
                        .next()
                }
                _ => {
                    // The response never arrived: look for the object by its ownership tags.
                    let found =
                        find_owned(client, region, kind, std::slice::from_ref(addr)).await?;
                    let mut candidates: Vec<RemoteObject> =
                        found.get(addr).cloned().unwrap_or_default();
                    candidates
                        .retain(|o| o.ownership.lineage.as_deref() == Some(state.lineage.as_str()));
                    candidates.retain(|o| !state.resources.values().any(|r| r.id == o.id));
                    match candidates.len() {
                        0 => None,
                        1 => candidates.pop(),
                        n => {
                            report.unresolved.push(format!("{addr}: {n} objects carry its ownership tags; keep one with `tunnelform import`, delete the others"));
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
                adopt(state, addr, &o, Origin::Adopted);
                report.adopted.push((addr.clone(), o.id.clone()));
            } else if op.resource_id().is_none() && !ownership_possible(state) {
                report.unresolved.push(format!(
                    "{addr}: a create was interrupted before its response and ownership tags are off; check the console for an object that is not in the state"
                ));
            }
        }
        JournalAction::Delete | JournalAction::ReplaceDelete => {
            if let Some(id) = id {
                let still = read_objects(client, region, kind, std::slice::from_ref(&id)).await?;
                if still.is_empty() {
                    if state.resources.get(addr).is_some_and(|r| r.id == id) {
                        state.resources.remove(addr);
                    }
                    report.removed.push((addr.clone(), id));
                }
            }
        }
        JournalAction::Update | JournalAction::Tag => {
            // The next plan refreshes the object and shows whatever is still to change.
        }
    }
    Ok(())
}

/// How long recovery waits for an object an interrupted run left PENDING.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(600);

/// Polls `obj` until it is no longer PENDING (a new VPN gateway, a tunnel whose create task runs).
/// None when it disappears meanwhile (a create that failed: nothing to adopt). After
/// [`SETTLE_TIMEOUT`] the object is returned as it is.
async fn await_settled(
    client: &Client,
    region: &str,
    kind: ResourceKind,
    mut obj: RemoteObject,
) -> Result<Option<RemoteObject>, ApiError> {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut delay = Duration::from_millis(200);
    loop {
        let pending = obj.attrs.get("state").and_then(Value::as_str) == Some("PENDING");
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
