//! Refresh: read every object the state knows, in batches (ids in chunks of 100 per call, all
//! regions and kinds concurrently), never one call per resource.
//!
//! Each chunk of 100 ids is its own read, decoded and turned into attributes on the refresh's
//! own task as soon as it arrives, while the later pages wait for the rate limit. The planning
//! does not wait for the last page: it asks for the objects of each block as it reaches the
//! block ([`Refresh::objects`]), so a block is evaluated while the pages of the blocks after it
//! are still coming. A refresh can also start before the state is loaded ([`prefetch`], from
//! the ids a quick look at the state file gives): [`Refresh::start`] then takes what it is
//! reading, reads what it missed and drops what the loaded state does not hold.

use std::collections::{HashMap, HashSet};

use futures::channel::mpsc;
use futures::future::join_all;
use futures::stream::{select_all, SelectAll};
use futures::StreamExt;
use tunnelform_kinds::ResourceKind;
use tunnelform_model::{Address, Mode};
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

/// One read's answer: the ids asked (of one kind in one region) and the objects found among them.
struct Chunk {
    kind: ResourceKind,
    region: String,
    ids: Vec<String>,
    found: Vec<RemoteObject>,
}

type Chunks = mpsc::UnboundedReceiver<Result<Chunk, ApiError>>;

/// A task reading chunks (aborted when dropped).
struct Reading(tokio::task::JoinHandle<()>);

impl Drop for Reading {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts reading `objects` (region, kind, id; each distinct id once), a call's worth of ids at
/// a time where the kind allows it: each chunk is sent, decoded, as soon as it is read.
fn start_reading(
    client: Client,
    objects: Vec<(String, ResourceKind, Vec<String>)>,
) -> (Reading, Chunks) {
    let (tx, rx) = mpsc::unbounded();
    let mut chunks: Vec<(String, ResourceKind, Vec<String>)> = Vec::new();
    for (region, kind, ids) in objects {
        if kind.def().reads_by_id() && ids.len() > MAX_IDS_PER_CALL {
            chunks.extend(
                ids.chunks(MAX_IDS_PER_CALL)
                    .map(|c| (region.clone(), kind, c.to_vec())),
            );
        } else if !ids.is_empty() {
            chunks.push((region, kind, ids));
        }
    }
    let task = tokio::spawn(async move {
        let client = &client;
        let tx = &tx;
        join_all(chunks.into_iter().map(|(region, kind, ids)| async move {
            let read = read_objects(client, &region, kind, &ids).await;
            // A refresh no longer listening (the plan failed) does not mind.
            let _ = tx.unbounded_send(read.map(|found| Chunk {
                kind,
                region,
                ids,
                found,
            }));
        }))
        .await;
    });
    (Reading(task), rx)
}

/// Ids by kind and region (looked up without allocating).
#[derive(Default)]
struct Ids(HashMap<ResourceKind, HashMap<String, HashSet<String>>>);

impl Ids {
    /// Adds an id; false when it was there.
    fn insert(&mut self, kind: ResourceKind, region: &str, id: &str) -> bool {
        let by_region = self.0.entry(kind).or_default();
        if let Some(ids) = by_region.get_mut(region) {
            return !ids.contains(id) && ids.insert(id.to_string());
        }
        by_region.insert(region.to_string(), HashSet::from([id.to_string()]));
        true
    }

    fn contains(&self, kind: ResourceKind, region: &str, id: &str) -> bool {
        self.0
            .get(&kind)
            .and_then(|m| m.get(region))
            .is_some_and(|ids| ids.contains(id))
    }
}

/// (region, kind) -> ids, each once, in their first order; and those ids.
fn by_group(
    objects: impl IntoIterator<Item = (String, ResourceKind, String)>,
) -> (Vec<(String, ResourceKind, Vec<String>)>, Ids) {
    // Which group of `out` holds (kind, region): found without allocating.
    let mut index: HashMap<ResourceKind, HashMap<String, usize>> = HashMap::new();
    let mut seen = Ids::default();
    let mut out: Vec<(String, ResourceKind, Vec<String>)> = Vec::new();
    for (region, kind, id) in objects {
        if !seen.insert(kind, &region, &id) {
            continue;
        }
        let by_region = index.entry(kind).or_default();
        let i = match by_region.get(&region) {
            Some(i) => *i,
            None => {
                by_region.insert(region.clone(), out.len());
                out.push((region, kind, Vec::new()));
                out.len() - 1
            }
        };
        out[i].2.push(id);
    }
    (out, seen)
}

/// Objects being read ahead of the state's load ([`prefetch`]): which ids were asked, and the
/// reads under way (cancelled when dropped).
pub struct Prefetch {
    asked: Ids,
    reading: Reading,
    chunks: Chunks,
}

impl std::fmt::Debug for Prefetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefetch").finish_non_exhaustive()
    }
}

/// Starts reading `objects` (region, kind, id), e.g. those a quick look at the state file names,
/// before the state is loaded, on a task of its own (on the current tokio runtime);
/// [`Refresh::start`] then takes its answers as they come.
pub fn prefetch(client: Client, objects: Vec<(String, ResourceKind, String)>) -> Prefetch {
    let (groups, asked) = by_group(objects);
    let (reading, chunks) = start_reading(client, groups);
    Prefetch {
        asked,
        reading,
        chunks,
    }
}

/// The objects a refresh of `state` reads: (region, kind, id) of every managed object.
pub fn state_objects(state: &State) -> Vec<(String, ResourceKind, String)> {
    state
        .resources
        .values()
        .filter_map(|rs| Some((rs.region.clone(), read_kind(rs)?, rs.id.clone())))
        .collect()
}

/// The kind of a state object the refresh reads: a managed object with an id and a known kind.
fn read_kind(rs: &tunnelform_state::ResourceState) -> Option<ResourceKind> {
    if rs.mode == Mode::Managed && !rs.id.is_empty() {
        rs.kind()
    } else {
        None
    }
}

/// Refreshes every managed object in `state`, waiting for all of them.
pub async fn refresh(client: &Client, state: &State) -> Result<RemoteSnapshot, ApiError> {
    let mut r = Refresh::start(client, state, None);
    let all: Vec<&Address> = state.resources.keys().collect();
    r.objects(all).await
}

/// What became of one object of the state in a refresh.
enum Slot {
    /// Asked, not answered yet.
    Waiting,
    Found(RemoteObject),
    /// Not found (or already given to every address holding it).
    Gone,
}

/// One id of the state: what the cloud answered, and how many of the state's addresses hold it
/// (one, unless the state is damaged: each address then gets a copy).
struct Entry {
    slot: Slot,
    holders: usize,
}

/// A refresh of a state's objects under way: [`Refresh::objects`] gives those of some
/// addresses as soon as their chunks are read, while the others are still being read.
pub struct Refresh<'s> {
    state: &'s State,
    /// kind -> region -> id -> what was read.
    entries: HashMap<ResourceKind, HashMap<String, HashMap<String, Entry>>>,
    chunks: SelectAll<Chunks>,
    reading: Vec<Reading>,
}

impl<'s> Refresh<'s> {
    /// Starts reading every managed object of `state`, taking the reads `ahead` already started
    /// (their objects the state does not hold are dropped as they come), and reading the rest.
    pub fn start(client: &Client, state: &'s State, ahead: Option<Prefetch>) -> Self {
        let (asked, mut reading, mut streams) = match ahead {
            Some(p) => (p.asked, vec![p.reading], vec![p.chunks]),
            None => (Ids::default(), Vec::new(), Vec::new()),
        };
        let (entries, missing) = Self::track(state, &asked);
        if !missing.is_empty() {
            let (r, c) = start_reading(client.clone(), by_group(missing).0);
            reading.push(r);
            streams.push(c);
        }
        Refresh {
            state,
            entries,
            chunks: select_all(streams),
            reading,
        }
    }

    /// An entry waiting for every object of `state` the refresh reads, and those not `asked`
    /// already (each id once).
    #[allow(clippy::type_complexity)]
    fn track(
        state: &State,
        asked: &Ids,
    ) -> (
        HashMap<ResourceKind, HashMap<String, HashMap<String, Entry>>>,
        Vec<(String, ResourceKind, String)>,
    ) {
        let mut entries: HashMap<ResourceKind, HashMap<String, HashMap<String, Entry>>> =
            HashMap::new();
        let mut missing = Vec::new();
        for rs in state.resources.values() {
            let Some(kind) = read_kind(rs) else {
                continue;
            };
            let e = entries
                .entry(kind)
                .or_default()
                .entry(rs.region.clone())
                .or_default()
                .entry(rs.id.clone())
                .or_insert(Entry {
                    slot: Slot::Waiting,
                    holders: 0,
                });
            e.holders += 1;
            if e.holders == 1 && !asked.contains(kind, &rs.region, &rs.id) {
                missing.push((rs.region.clone(), kind, rs.id.clone()));
            }
        }
        (entries, missing)
    }

    /// Takes one chunk's answer.
    fn take(&mut self, chunk: Chunk) {
        let Some(ids) = self
            .entries
            .get_mut(&chunk.kind)
            .and_then(|m| m.get_mut(&chunk.region))
        else {
            return;
        };
        for id in &chunk.ids {
            if let Some(e) = ids.get_mut(id) {
                if matches!(e.slot, Slot::Waiting) {
                    e.slot = Slot::Gone;
                }
            }
        }
        for o in chunk.found {
            if let Some(e) = ids.get_mut(&o.id) {
                e.slot = Slot::Found(o);
            }
        }
    }

    /// The objects at `addresses` (the state's), waiting for the chunks that hold them; an
    /// address whose object was not found (or that the refresh does not read: data sources,
    /// objects without an id) is absent from the answer. Objects are completed with the state's
    /// write-only values. Each address is to be asked once.
    pub async fn objects<'a>(
        &mut self,
        addresses: impl IntoIterator<Item = &'a Address>,
    ) -> Result<RemoteSnapshot, ApiError> {
        let mut snapshot = RemoteSnapshot::default();
        for addr in addresses {
            let Some(rs) = self.state.resources.get(addr) else {
                continue;
            };
            let Some(kind) = read_kind(rs) else {
                continue;
            };
            loop {
                let e = self.entry(kind, &rs.region, &rs.id);
                if !matches!(e.map(|e| &e.slot), Some(Slot::Waiting)) {
                    break;
                }
                match self.chunks.next().await {
                    Some(Ok(chunk)) => self.take(chunk),
                    Some(Err(e)) => return Err(e),
                    // Every read answers once, unless its task panicked: that panic goes on.
                    None => {
                        for r in &mut self.reading {
                            if let Err(e) = (&mut r.0).await {
                                if e.is_panic() {
                                    std::panic::resume_unwind(e.into_panic());
                                }
                            }
                        }
                        panic!("the refresh ended without reading {addr} ({})", rs.id);
                    }
                }
            }
            let Some(e) = self.entry(kind, &rs.region, &rs.id) else {
                continue;
            };
            e.holders = e.holders.saturating_sub(1);
            let obj = match &e.slot {
                Slot::Found(o) if e.holders > 0 => Some(o.clone()),
                Slot::Found(_) => match std::mem::replace(&mut e.slot, Slot::Gone) {
                    Slot::Found(o) => Some(o),
                    _ => None,
                },
                _ => None,
            };
            if let Some(mut o) = obj {
                with_write_only(&mut o, &rs.attributes);
                snapshot.objects.insert(addr.clone(), o);
            }
        }
        Ok(snapshot)
    }

    fn entry(&mut self, kind: ResourceKind, region: &str, id: &str) -> Option<&mut Entry> {
        self.entries.get_mut(&kind)?.get_mut(region)?.get_mut(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelform_state::ResourceState;

    const GZ: &str = "ap-guangzhou";
    const TUNNEL: ResourceKind = ResourceKind::VpnConnection;
    const GATEWAY: ResourceKind = ResourceKind::VpnGateway;

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

    fn addr(a: &str) -> Address {
        a.parse().expect("address")
    }

    fn chunk(kind: ResourceKind, ids: &[&str], found: &[&str]) -> Chunk {
        Chunk {
            kind,
            region: GZ.to_string(),
            ids: ids.iter().map(|s| s.to_string()).collect(),
            found: found.iter().map(|id| object(kind, id)).collect(),
        }
    }

    #[test]
    fn each_id_is_read_once_in_its_first_order() {
        let (groups, _) = by_group([
            (GZ.to_string(), TUNNEL, "vpnx-b".to_string()),
            (GZ.to_string(), GATEWAY, "vpngw-g".to_string()),
            (GZ.to_string(), TUNNEL, "vpnx-a".to_string()),
            (GZ.to_string(), TUNNEL, "vpnx-b".to_string()),
        ]);
        assert_eq!(
            groups,
            vec![
                (
                    GZ.to_string(),
                    TUNNEL,
                    vec!["vpnx-b".to_string(), "vpnx-a".to_string()]
                ),
                (GZ.to_string(), GATEWAY, vec!["vpngw-g".to_string()]),
            ]
        );
    }

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
        let mut asked = Ids::default();
        asked.insert(TUNNEL, GZ, "vpnx-a");
        asked.insert(TUNNEL, GZ, "vpnx-gone");
        let (_, mut missing) = Refresh::track(&s, &asked);
        missing.sort();
        let ids: Vec<&str> = missing.iter().map(|(_, _, id)| id.as_str()).collect();
        assert_eq!(ids, ["vpngw-g", "vpnx-b", "vpnx-c"]);
        // Nothing asked ahead: everything is read, each id once.
        assert_eq!(Refresh::track(&s, &Ids::default()).1.len(), 4);
    }

    /// A refresh fed by hand: chunks are sent on `tx` as a read would send them.
    fn fed(s: &State) -> (Refresh<'_>, mpsc::UnboundedSender<Result<Chunk, ApiError>>) {
        let (entries, _) = Refresh::track(s, &Ids::default());
        let (tx, rx) = mpsc::unbounded();
        let r = Refresh {
            state: s,
            entries,
            chunks: select_all([rx]),
            reading: Vec::new(),
        };
        (r, tx)
    }

    #[tokio::test]
    async fn an_address_is_answered_as_soon_as_its_chunk_is_read() {
        let s = state(&[
            ("tencentcloud_vpn_gateway.g", GATEWAY, "vpngw-g"),
            ("tencentcloud_vpn_connection.a", TUNNEL, "vpnx-a"),
            ("tencentcloud_vpn_connection.gone", TUNNEL, "vpnx-gone"),
        ]);
        let (mut r, tx) = fed(&s);
        tx.unbounded_send(Ok(chunk(GATEWAY, &["vpngw-g"], &["vpngw-g"])))
            .unwrap();
        // The tunnels' chunk has not come: the gateway is answered all the same.
        let got = r
            .objects([&addr("tencentcloud_vpn_gateway.g")])
            .await
            .unwrap();
        assert_eq!(got.objects.len(), 1);
        let a = addr("tencentcloud_vpn_connection.a");
        let waiting = r.objects([&a]);
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), waiting).await;
        assert!(waiting.is_err(), "answered before its chunk was read");
        // Objects read for ids the state does not hold are dropped; one not found is absent.
        tx.unbounded_send(Ok(chunk(
            TUNNEL,
            &["vpnx-a", "vpnx-gone", "vpnx-other"],
            &["vpnx-a", "vpnx-other"],
        )))
        .unwrap();
        let got = r
            .objects([
                &addr("tencentcloud_vpn_connection.a"),
                &addr("tencentcloud_vpn_connection.gone"),
            ])
            .await
            .unwrap();
        let ids: Vec<(String, &str)> = got
            .objects
            .iter()
            .map(|(a, o)| (a.to_string(), o.id.as_str()))
            .collect();
        assert_eq!(
            ids,
            [("tencentcloud_vpn_connection.a".to_string(), "vpnx-a")]
        );
    }

    #[tokio::test]
    async fn an_id_held_at_two_addresses_gives_each_a_copy() {
        let s = state(&[
            ("tencentcloud_vpn_connection.c", TUNNEL, "vpnx-c"),
            ("tencentcloud_vpn_connection.d", TUNNEL, "vpnx-c"),
        ]);
        let (mut r, tx) = fed(&s);
        tx.unbounded_send(Ok(chunk(TUNNEL, &["vpnx-c"], &["vpnx-c"])))
            .unwrap();
        let c = r
            .objects([&addr("tencentcloud_vpn_connection.c")])
            .await
            .unwrap();
        let d = r
            .objects([&addr("tencentcloud_vpn_connection.d")])
            .await
            .unwrap();
        assert_eq!(c.objects.len() + d.objects.len(), 2);
    }

    #[tokio::test]
    async fn a_failed_read_fails_the_refresh() {
        let s = state(&[("tencentcloud_vpn_connection.a", TUNNEL, "vpnx-a")]);
        let (mut r, tx) = fed(&s);
        tx.unbounded_send(Err(ApiError {
            action: "DescribeVpnConnections",
            region: GZ.to_string(),
            request_id: None,
            kind: tunnelform_tencent_api::ErrorKind::NotSent {
                reason: "refused".into(),
            },
            attempts: 1,
        }))
        .unwrap();
        let err = r
            .objects([&addr("tencentcloud_vpn_connection.a")])
            .await
            .unwrap_err();
        assert_eq!(err.action, "DescribeVpnConnections");
    }
}
