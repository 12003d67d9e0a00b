//! Which objects in the cloud carry tunnelform's ownership tags, region by region.
//!
//! Before the plan creates an object, it asks whether this project already has one at that
//! address: a state can be stale (committed to Git and reverted, checked out again after a runner
//! died mid-apply, restored from a backup) or lost, and creating again would duplicate what the
//! earlier run made. The answer costs one paged tag query per region, however many blocks and
//! instances the configuration has, plus batched reads (100 ids per call) of this project's objects
//! the state does not know: the state's own objects are never read twice. The apply layer reads
//! them; this index only takes what was read.

use std::collections::{BTreeMap, HashMap, HashSet};

use tunnelform_kinds::tags::owner_address_values;
use tunnelform_kinds::ResourceKind;
use tunnelform_model::Address;
use tunnelform_state::State;

use super::RemoteObject;

/// One object carrying a `tunnelform:address` tag, as the tag service lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    pub kind: ResourceKind,
    pub id: String,
    /// Its `tunnelform:address` tag (an address, or a digest of a long one).
    pub address_tag: String,
    pub project: Option<String>,
}

/// What the index knows of one address: this project's objects that the state does not hold (read,
/// so they can be adopted), and other projects' (or untagged projects') objects with the same
/// address tag (only listed: they are never taken over).
#[derive(Debug, Default)]
pub struct Found<'a> {
    pub mine: Vec<&'a RemoteObject>,
    pub others: Vec<&'a Tagged>,
}

#[derive(Debug, Default)]
struct RegionIndex {
    tagged: Vec<Tagged>,
    /// Address tag value -> positions in `tagged`.
    by_address: HashMap<String, Vec<usize>>,
    /// This project's objects that the state does not hold, as read (settling objects included;
    /// objects being deleted left out).
    read: HashMap<String, RemoteObject>,
}

/// The ownership tags of every region asked about so far (each region is loaded once, on first
/// use).
#[derive(Debug)]
pub struct OwnershipIndex {
    project: Option<String>,
    /// Every object id the state holds (at any address, deposed ones included).
    in_state: HashSet<String>,
    regions: HashMap<String, RegionIndex>,
}

impl OwnershipIndex {
    /// An index for `project` (None with ownership tags off: nothing is ever adopted, collisions
    /// are only reported).
    pub fn new(project: Option<&str>, state: &State) -> Self {
        let mut in_state = HashSet::new();
        for rs in state.resources.values() {
            in_state.insert(rs.id.clone());
            in_state.extend(rs.deposed.iter().map(|d| d.id.clone()));
        }
        OwnershipIndex {
            project: project.map(str::to_string),
            in_state,
            regions: HashMap::new(),
        }
    }

    /// Whether `region`'s tags were given ([`OwnershipIndex::insert_tagged`]).
    pub fn has_region(&self, region: &str) -> bool {
        self.regions.contains_key(region)
    }

    /// Takes the tag listing of `region` (one paged tag query) and says which of its objects to
    /// read (this project's that the state does not hold), by kind: give them to
    /// [`OwnershipIndex::insert_read`].
    pub fn insert_tagged(
        &mut self,
        region: &str,
        tagged: Vec<Tagged>,
    ) -> Vec<(ResourceKind, Vec<String>)> {
        let mut idx = RegionIndex::default();
        let mut unknown: BTreeMap<ResourceKind, Vec<String>> = BTreeMap::new();
        for (i, t) in tagged.iter().enumerate() {
            idx.by_address
                .entry(t.address_tag.clone())
                .or_default()
                .push(i);
            if self.is_mine(t) && !self.in_state.contains(&t.id) {
                unknown.entry(t.kind).or_default().push(t.id.clone());
            }
        }
        idx.tagged = tagged;
        self.regions.insert(region.to_string(), idx);
        unknown.into_iter().collect()
    }

    /// Takes the objects read for [`OwnershipIndex::insert_tagged`] (objects being deleted are
    /// left out: they are not there to adopt).
    pub fn insert_read(&mut self, region: &str, objects: Vec<RemoteObject>) {
        let Some(idx) = self.regions.get_mut(region) else {
            return;
        };
        for o in objects {
            if !being_deleted(&o) {
                idx.read.insert(o.id.clone(), o);
            }
        }
    }

    fn is_mine(&self, t: &Tagged) -> bool {
        self.project.is_some() && t.project == self.project
    }

    /// What carries the ownership tag of `address` (of `kind`) in `region`, leaving out the
    /// objects the state holds. The region must be loaded.
    pub fn find(&self, region: &str, kind: ResourceKind, address: &Address) -> Found<'_> {
        let mut found = Found::default();
        let Some(idx) = self.regions.get(region) else {
            return found;
        };
        let positions = owner_address_values(address)
            .filter_map(|v| idx.by_address.get(&v))
            .flatten();
        for &i in positions {
            let t = &idx.tagged[i];
            if t.kind != kind || self.in_state.contains(&t.id) {
                continue;
            }
            if self.is_mine(t) {
                // Objects being deleted (or gone since the tag query) are not there to adopt.
                if let Some(o) = idx.read.get(&t.id) {
                    found.mine.push(o);
                }
            } else {
                found.others.push(t);
            }
        }
        found
    }

    /// This project's objects in the loaded regions that the state does not hold and whose
    /// address tag is none of `known()` (tag values of the configuration's addresses): a lost or
    /// stale state's objects that nothing manages. (address tag, object), sorted by region and id.
    /// `known` is called only when there is such an object to check (a plan whose state holds all
    /// of this project's objects, or that loaded no tags, never lists its addresses' tags).
    pub fn unclaimed(&self, known: impl FnOnce() -> HashSet<String>) -> Vec<(&str, &RemoteObject)> {
        let mut out = Vec::new();
        for idx in self.regions.values() {
            for t in &idx.tagged {
                if !self.is_mine(t) || self.in_state.contains(&t.id) {
                    continue;
                }
                if let Some(o) = idx.read.get(&t.id) {
                    out.push((t.address_tag.as_str(), o));
                }
            }
        }
        if !out.is_empty() {
            let known = known();
            out.retain(|(tag, _)| !known.contains(*tag));
        }
        out.sort_by(|a, b| (&a.1.region, &a.1.id).cmp(&(&b.1.region, &b.1.id)));
        out
    }
}

fn being_deleted(o: &RemoteObject) -> bool {
    matches!(
        o.attrs
            .get("state")
            .and_then(tunnelform_model::Value::as_str),
        Some("DELETING" | "DELETED")
    )
}
