//! Refresh: read every object the state knows, in batches (ids in chunks of 100 per call, all
//! regions and kinds concurrently), never one call per resource.
//!
//! Each chunk of 100 ids is its own read, so an answer is decoded and turned into attributes as
//! soon as it arrives, while the later pages wait for the rate limit, instead of all at the end.
//! A refresh can also start before the state is loaded ([`prefetch`], from the ids a quick look
//! at the state file gives): [`refresh_with`] then takes what it read, reads what it missed and
//! drops what the loaded state does not hold.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use futures::future::try_join_all;
use tunnelform_kinds::ResourceKind;
use tunnelform_model::Address;
use tunnelform_plan::make::{with_write_only, RemoteObject, RemoteSnapshot};
use tunnelform_state::State;
use tunnelform_tencent_api::{ApiError, Client, MAX_IDS_PER_CALL};

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

/// Reads distinct `ids` of one kind in one region, a call's worth at a time where the kind allows
/// it, each chunk decoded as it arrives.
async fn read_chunked(
    client: &Client,
    region: &str,
    kind: ResourceKind,
    ids: &[String],
) -> Result<Vec<RemoteObject>, ApiError> {
    if !kind.def().reads_by_id() || ids.len() <= MAX_IDS_PER_CALL {
        return read_objects(client, region, kind, ids).await;
    }
    let chunks = try_join_all(
        ids.chunks(MAX_IDS_PER_CALL)
            .map(|c| read_objects(client, region, kind, c)),
    )
    .await?;
    Ok(chunks.into_iter().flatten().collect())
}

/// (region, kind)
type Group = (String, ResourceKind);

/// Objects read ahead of the state's load ([`prefetch`]): which ids were asked, and what was found.
#[derive(Debug, Default)]
pub struct Prefetched {
    asked: HashMap<Group, HashSet<String>>,
    found: HashMap<Group, HashMap<String, RemoteObject>>,
}

impl Prefetched {
    /// How many ids were asked.
    pub fn asked(&self) -> usize {
        self.asked.values().map(HashSet::len).sum()
    }
}

/// Starts reading `objects` (region, kind, id), e.g. those a quick look at the state file names,
/// before the state is loaded. The future owns what it needs, so the caller can spawn it and load
/// the state meanwhile; [`refresh_with`] then uses its answers.
pub fn prefetch(
    client: Client,
    objects: Vec<(String, ResourceKind, String)>,
) -> impl Future<Output = Result<Prefetched, ApiError>> + Send + 'static {
    let mut asked: HashMap<Group, HashSet<String>> = HashMap::new();
    let mut order: HashMap<Group, Vec<String>> = HashMap::new();
    for (region, kind, id) in objects {
        let key = (region, kind);
        if asked.entry(key.clone()).or_default().insert(id.clone()) {
            order.entry(key).or_default().push(id);
        }
    }
    async move {
        let client = &client;
        let reads = order.into_iter().map(|(key, ids)| async move {
            let objs = read_chunked(client, &key.0, key.1, &ids).await?;
            Ok::<_, ApiError>((key, objs))
        });
        let mut found: HashMap<Group, HashMap<String, RemoteObject>> = HashMap::new();
        for (key, objs) in try_join_all(reads).await? {
            let m = found.entry(key).or_default();
            for o in objs {
                m.insert(o.id.clone(), o);
            }
        }
        Ok(Prefetched { asked, found })
    }
}

/// The objects a refresh of `state` reads: (region, kind, id) of every managed object.
pub fn state_objects(state: &State) -> Vec<(String, ResourceKind, String)> {
    state
        .resources
        .values()
        .filter(|rs| rs.mode == tunnelform_model::Mode::Managed && !rs.id.is_empty())
        .filter_map(|rs| Some((rs.region.clone(), rs.kind()?, rs.id.clone())))
        .collect()
}

/// Refreshes every managed object in `state`.
pub async fn refresh(client: &Client, state: &State) -> Result<RemoteSnapshot, ApiError> {
    refresh_with(client, state, None).await
}

/// [`refresh`], taking the objects `prefetched` already read: only the state's objects it did not
/// ask for are read now, and what it read that the state does not hold is dropped.
pub async fn refresh_with(
    client: &Client,
    state: &State,
    prefetched: Option<Prefetched>,
) -> Result<RemoteSnapshot, ApiError> {
    let groups = groups(state);
    let Prefetched { asked, mut found } = prefetched.unwrap_or_default();
    let reads = missing(&groups, &asked)
        .into_iter()
        .map(|(key, ids)| async move {
            let objs = read_chunked(client, &key.0, key.1, &ids).await?;
            Ok::<_, ApiError>((key, objs))
        });
    for (key, objs) in try_join_all(reads).await? {
        let m = found.entry(key).or_default();
        for o in objs {
            m.insert(o.id.clone(), o);
        }
    }
    Ok(assemble(state, groups, found))
}

/// The state's managed objects by (region, kind): [(address, id)].
fn groups(state: &State) -> HashMap<Group, Vec<(Address, String)>> {
    let mut groups: HashMap<Group, Vec<(Address, String)>> = HashMap::new();
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
    groups
}

/// The ids of `groups` not `asked` already, each once, by group.
fn missing(
    groups: &HashMap<Group, Vec<(Address, String)>>,
    asked: &HashMap<Group, HashSet<String>>,
) -> Vec<(Group, Vec<String>)> {
    let mut out = Vec::new();
    for (key, members) in groups {
        let asked = asked.get(key);
        let mut seen = HashSet::new();
        let ids: Vec<String> = members
            .iter()
            .map(|(_, id)| id)
            .filter(|id| asked.is_none_or(|a| !a.contains(*id)) && seen.insert(id.as_str()))
            .cloned()
            .collect();
        if !ids.is_empty() {
            out.push((key.clone(), ids));
        }
    }
    out
}

/// Each object `found` moves to its address in the state (objects found that the state does not
/// hold are dropped), completed with the state's write-only values.
fn assemble(
    state: &State,
    groups: HashMap<Group, Vec<(Address, String)>>,
    mut found: HashMap<Group, HashMap<String, RemoteObject>>,
) -> RemoteSnapshot {
    let mut snapshot = RemoteSnapshot::default();
    for (key, members) in groups {
        let mut by_id = found.remove(&key).unwrap_or_default();
        // An id the state holds at several addresses (a damaged state) gives each of them a copy.
        let mut uses: HashMap<&str, usize> = HashMap::new();
        for (_, id) in &members {
            *uses.entry(id.as_str()).or_default() += 1;
        }
        let mut out = Vec::with_capacity(members.len());
        for (addr, id) in &members {
            let obj = match uses.get_mut(id.as_str()) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    by_id.get(id).cloned()
                }
                _ => by_id.remove(id),
            };
            if let Some(mut o) = obj {
                if let Some(rs) = state.resources.get(addr) {
                    with_write_only(&mut o, &rs.attributes);
                }
                out.push((addr.clone(), o));
            }
        }
        snapshot.objects.extend(out);
    }
    snapshot
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelform_state::ResourceState;

    const GZ: &str = "ap-guangzhou";

    fn state(objects: &[(&str, ResourceKind, &str)]) -> State {
        let mut s = State::new();
        for (addr, kind, id) in objects {
            s.resources.insert(
                addr.parse().expect("address"),
                ResourceState::new(*kind, GZ, *id),
            );
        }
        s
    }

    fn object(kind: ResourceKind, id: &str) -> RemoteObject {
        RemoteObject {
            id: id.to_string(),
            kind,
            region: GZ.to_string(),
            attrs: Default::default(),
            ownership: Default::default(),
        }
    }

    const TUNNEL: ResourceKind = ResourceKind::VpnConnection;
    const GATEWAY: ResourceKind = ResourceKind::VpnGateway;

    #[test]
    fn only_what_the_look_ahead_did_not_ask_is_read_again() {
        let s = state(&[
            ("tencentcloud_vpn_connection.a", TUNNEL, "vpnx-a"),
            ("tencentcloud_vpn_connection.b", TUNNEL, "vpnx-b"),
            // Held at two addresses (a damaged state): read once.
            ("tencentcloud_vpn_connection.c", TUNNEL, "vpnx-c"),
            ("tencentcloud_vpn_connection.d", TUNNEL, "vpnx-c"),
            ("tencentcloud_vpn_gateway.g", GATEWAY, "vpngw-g"),
        ]);
        let asked = HashMap::from([(
            (GZ.to_string(), TUNNEL),
            HashSet::from(["vpnx-a".to_string(), "vpnx-gone".to_string()]),
        )]);
        let mut missing = missing(&groups(&s), &asked);
        missing.sort_by_key(|(k, _)| k.1.type_name());
        for (_, ids) in &mut missing {
            ids.sort();
        }
        assert_eq!(
            missing,
            vec![
                (
                    (GZ.to_string(), TUNNEL),
                    vec!["vpnx-b".to_string(), "vpnx-c".to_string()]
                ),
                ((GZ.to_string(), GATEWAY), vec!["vpngw-g".to_string()]),
            ]
        );
        // Nothing asked ahead: everything is read, each id once.
        let all: usize = missing_len(&s, &HashMap::new());
        assert_eq!(all, 4);
    }

    fn missing_len(s: &State, asked: &HashMap<Group, HashSet<String>>) -> usize {
        missing(&groups(s), asked)
            .iter()
            .map(|(_, ids)| ids.len())
            .sum()
    }

    #[test]
    fn objects_go_to_their_addresses_and_what_the_state_lacks_is_dropped() {
        let s = state(&[
            ("tencentcloud_vpn_connection.a", TUNNEL, "vpnx-a"),
            ("tencentcloud_vpn_connection.c", TUNNEL, "vpnx-c"),
            ("tencentcloud_vpn_connection.d", TUNNEL, "vpnx-c"),
            ("tencentcloud_vpn_connection.gone", TUNNEL, "vpnx-gone"),
        ]);
        let found = HashMap::from([(
            (GZ.to_string(), TUNNEL),
            HashMap::from([
                ("vpnx-a".to_string(), object(TUNNEL, "vpnx-a")),
                ("vpnx-c".to_string(), object(TUNNEL, "vpnx-c")),
                // Read ahead from a file the loaded state no longer matches.
                ("vpnx-other".to_string(), object(TUNNEL, "vpnx-other")),
            ]),
        )]);
        let snap = assemble(&s, groups(&s), found);
        let got: Vec<(String, String)> = snap
            .objects
            .iter()
            .map(|(a, o)| (a.to_string(), o.id.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "tencentcloud_vpn_connection.a".to_string(),
                    "vpnx-a".to_string()
                ),
                (
                    "tencentcloud_vpn_connection.c".to_string(),
                    "vpnx-c".to_string()
                ),
                (
                    "tencentcloud_vpn_connection.d".to_string(),
                    "vpnx-c".to_string()
                ),
            ]
        );
    }
}
