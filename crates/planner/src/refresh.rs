//! Refresh: read every object the state knows, in batches (ids in chunks of 100 per call, all
//! regions and kinds concurrently), never one call per resource.

use std::collections::HashMap;

use futures::future::try_join_all;
use tunnelform_kinds::ResourceKind;
use tunnelform_model::Address;
use tunnelform_plan::make::{with_write_only, RemoteObject, RemoteSnapshot};
use tunnelform_state::State;
use tunnelform_tencent_api::{ApiError, Client};

/// Reads `ids` of one kind in one region (batched).
pub async fn read_objects(
    client: &Client,
    region: &str,
    kind: ResourceKind,
    ids: &[String],
) -> Result<Vec<RemoteObject>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(kind
        .def()
        .read(client, region, ids)
        .await?
        .into_iter()
        .map(|o| RemoteObject {
            id: o.id,
            kind,
            region: region.to_string(),
            attrs: o.attrs,
            ownership: o.ownership,
        })
        .collect())
}

/// Refreshes every managed object in `state`.
pub async fn refresh(client: &Client, state: &State) -> Result<RemoteSnapshot, ApiError> {
    // (region, kind) -> [(address, id)]
    let mut groups: HashMap<(String, ResourceKind), Vec<(Address, String)>> = HashMap::new();
    for (addr, rs) in &state.resources {
        if let Some(kind) = rs.kind() {
            if rs.mode == tunnelform_model::Mode::Managed && !rs.id.is_empty() {
                groups
                    .entry((rs.region.clone(), kind))
                    .or_default()
                    .push((addr.clone(), rs.id.clone()));
            }
        }
    }
    let reads = groups
        .into_iter()
        .map(|((region, kind), members)| async move {
            let ids: Vec<String> = members.iter().map(|(_, id)| id.clone()).collect();
            let found = read_objects(client, &region, kind, &ids).await?;
            let mut by_id: HashMap<String, RemoteObject> =
                found.into_iter().map(|o| (o.id.clone(), o)).collect();
            // Each object moves to its address; an id the state holds at several addresses (a
            // damaged state) gives each of them a copy.
            let mut uses: HashMap<&str, usize> = HashMap::new();
            for id in &ids {
                *uses.entry(id.as_str()).or_default() += 1;
            }
            let mut out = Vec::with_capacity(members.len());
            for (addr, id) in members {
                let obj = match uses.get_mut(id.as_str()) {
                    Some(n) if *n > 1 => {
                        *n -= 1;
                        by_id.get(&id).cloned()
                    }
                    _ => by_id.remove(&id),
                };
                if let Some(mut o) = obj {
                    if let Some(rs) = state.resources.get(&addr) {
                        with_write_only(&mut o, &rs.attributes);
                    }
                    out.push((addr, o));
                }
            }
            Ok::<_, ApiError>(out)
        });
    let mut snapshot = RemoteSnapshot::default();
    for group in try_join_all(reads).await? {
        snapshot.objects.extend(group);
    }
    Ok(snapshot)
}
