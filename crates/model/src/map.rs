//! The map of attribute values: [`Map`] keeps its entries in one vector sorted by [`Name`].
//!
//! Objects hold a few dozen attributes and their nested maps (tags, a policy) one to five; a
//! B-tree gives each of those a node of eleven slots (about 630 bytes for a map of two), and a
//! heap string per key. Here a map is one exactly sized vector of entries, and a key that is an
//! identifier seen before (an attribute name) points at one shared copy instead of its own.
//! Lookups are binary searches; iteration is in key order, as with the `BTreeMap` it replaces.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::ops::DerefMut;
use std::ptr::NonNull;
use std::sync::{Arc, LazyLock, RwLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::value::Value;

/// A map key: a string that is either shared (see [`Name::new`]) or owned, in two words (a map
/// entry is a key and a value, and there are about fifty of them per object).
pub struct Name {
    ptr: NonNull<u8>,
    /// The length; its top bit ([`OWNED`]) is set when `ptr` is this name's own `Box<str>`.
    len: usize,
}

const OWNED: usize = 1 << (usize::BITS - 1);

// SAFETY: a Name is a `&'static str` or a `Box<str>` it owns alone; both are Send and Sync.
unsafe impl Send for Name {}
// SAFETY: as above; a Name is never written through a shared reference.
unsafe impl Sync for Name {}

impl Drop for Name {
    fn drop(&mut self) {
        if self.is_owned() {
            let raw = std::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len & !OWNED);
            // SAFETY: an owned name's pointer and length are those `Box::into_raw` gave for its
            // `Box<str>` (see `Name::owned`), and only this drop frees it.
            drop(unsafe { Box::from_raw(raw as *mut str) });
        }
    }
}

impl Clone for Name {
    fn clone(&self) -> Name {
        if self.is_owned() {
            Name::owned(self.as_str().into())
        } else {
            Name {
                ptr: self.ptr,
                len: self.len,
            }
        }
    }
}

/// Keys at most this long that look like identifiers are shared.
const SHARED_MAX_LEN: usize = 48;
/// At most this many distinct keys are shared; later new ones are owned. Attribute names come
/// first and are few; the cap bounds what a long-running process keeps of user keys.
const SHARED_MAX: usize = 4096;

static SHARED: LazyLock<RwLock<HashSet<&'static str>>> =
    LazyLock::new(|| RwLock::new(HashSet::with_capacity(256)));

/// FNV-1a: keys are short, and a lookup here is on the path of every key parsed or built.
#[derive(Default, Clone, Copy)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvSet = HashSet<&'static str, std::hash::BuildHasherDefault<Fnv>>;

thread_local! {
    /// This thread's copy of the shared keys it has met, so that finding one takes no lock.
    static LOCAL: std::cell::RefCell<FnvSet> = std::cell::RefCell::new(FnvSet::default());
}

fn shareable(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= SHARED_MAX_LEN
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn shared(s: &str) -> Option<&'static str> {
    if !shareable(s) {
        return None;
    }
    if let Some(found) = LOCAL.with(|l| l.borrow().get(s).copied()) {
        return Some(found);
    }
    let found = shared_globally(s)?;
    LOCAL.with(|l| l.borrow_mut().insert(found));
    Some(found)
}

fn shared_globally(s: &str) -> Option<&'static str> {
    if let Some(found) = SHARED.read().ok()?.get(s) {
        return Some(found);
    }
    let mut set = SHARED.write().ok()?;
    if let Some(found) = set.get(s) {
        return Some(found);
    }
    if set.len() >= SHARED_MAX {
        return None;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    set.insert(leaked);
    Some(leaked)
}

impl Name {
    /// The key `s`: the shared copy when `s` is an identifier (lower case, digits, `_`).
    pub fn new(s: &str) -> Name {
        match shared(s) {
            Some(k) => Name::shared_copy(k),
            None => Name::owned(s.into()),
        }
    }

    fn shared_copy(s: &'static str) -> Name {
        Name {
            ptr: NonNull::from(s).cast(),
            len: s.len(),
        }
    }

    fn owned(b: Box<str>) -> Name {
        let len = b.len();
        debug_assert!(len & OWNED == 0);
        // SAFETY: `Box::into_raw` never returns null.
        let ptr = unsafe { NonNull::new_unchecked(Box::into_raw(b).cast::<u8>()) };
        Name {
            ptr,
            len: len | OWNED,
        }
    }

    fn is_owned(&self) -> bool {
        self.len & OWNED != 0
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        let bytes = std::ptr::slice_from_raw_parts(self.ptr.as_ptr(), self.len & !OWNED);
        // SAFETY: the pointer and length are those of a live `str`: a `&'static str`, or the
        // `Box<str>` this name owns until it drops.
        unsafe { &*(bytes as *const str) }
    }
}

impl Deref for Name {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Name {
    #[inline]
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Name {
    /// Whether the two are one shared string (interned names of equal text always are): equal
    /// without reading the bytes.
    #[inline]
    fn same_string(&self, other: &Name) -> bool {
        self.ptr == other.ptr && (self.len & !OWNED) == (other.len & !OWNED)
    }
}
impl PartialEq for Name {
    #[inline]
    fn eq(&self, other: &Name) -> bool {
        self.same_string(other) || self.as_str() == other.as_str()
    }
}
impl Eq for Name {}
impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Name {
    #[inline]
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        if self.same_string(other) {
            return std::cmp::Ordering::Equal;
        }
        self.as_str().cmp(other.as_str())
    }
}
impl Hash for Name {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}
impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}
impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}
impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}
impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}
impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name::new(s)
    }
}
impl From<&String> for Name {
    fn from(s: &String) -> Name {
        Name::new(s)
    }
}
impl From<String> for Name {
    fn from(s: String) -> Name {
        match shared(&s) {
            Some(k) => Name::shared_copy(k),
            None => Name::owned(s.into_boxed_str()),
        }
    }
}
impl From<&Name> for Name {
    fn from(n: &Name) -> Name {
        n.clone()
    }
}
impl From<Name> for String {
    fn from(n: Name) -> String {
        n.as_str().to_owned()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Name;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, s: &str) -> Result<Name, E> {
                Ok(Name::new(s))
            }
            fn visit_string<E>(self, s: String) -> Result<Name, E> {
                Ok(Name::from(s))
            }
        }
        d.deserialize_str(V)
    }
}

/// Reads a map key as a [`Name`], expecting `.0`: the key the previous map read at the same
/// depth had at the same place. Objects of one kind come one after another with the same keys
/// in the same order, so the key is nearly always that shared name, found with one comparison
/// instead of a lookup among the shared names.
pub(crate) struct KeyLike(pub Option<&'static str>);

impl<'de> serde::de::DeserializeSeed<'de> for KeyLike {
    type Value = Name;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Name, D::Error> {
        d.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for KeyLike {
    type Value = Name;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E>(self, s: &str) -> Result<Name, E> {
        Ok(match self.0 {
            Some(like) if like == s => Name::shared_copy(like),
            _ => Name::new(s),
        })
    }
    fn visit_string<E>(self, s: String) -> Result<Name, E> {
        Ok(match self.0 {
            Some(like) if like == s => Name::shared_copy(like),
            _ => Name::from(s),
        })
    }
}

impl Name {
    /// The shared copy this name points at; `None` for a name that owns its string.
    pub(crate) fn as_shared(&self) -> Option<&'static str> {
        if self.is_owned() {
            return None;
        }
        let bytes = std::ptr::slice_from_raw_parts(self.ptr.as_ptr(), self.len);
        // SAFETY: a name that is not owned points at a `&'static str` (see `shared_copy`).
        Some(unsafe { &*(bytes as *const str) })
    }
}

/// The order of `str`, compared byte by byte inline: keys are short and most differ early, so
/// this beats a call to `memcmp` per step of a search.
#[inline]
fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// Maps up to this long are searched by a scan (see [`Map::find`]).
const SCAN_MAX: usize = 64;

/// A map from [`Name`] to [`Value`], sorted by key, with the `BTreeMap` methods tunnelform uses.
#[derive(Clone, Default, PartialEq)]
pub struct Map {
    entries: Vec<(Name, Value)>,
}

impl Map {
    pub const fn new() -> Map {
        Map {
            entries: Vec::new(),
        }
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Map {
        Map {
            entries: Vec::with_capacity(n),
        }
    }

    /// Gives back the room no entry uses.
    pub fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit()
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear()
    }

    /// Where `k` is (or would go). A map of a few dozen entries is scanned in order: the
    /// entries of a map met for the first time are rarely in the cache, and a scan lets the
    /// processor fetch them ahead, where each step of a binary search waits for its own line.
    #[inline]
    fn find(&self, k: &str) -> Result<usize, usize> {
        let kb = k.as_bytes();
        if self.entries.len() <= SCAN_MAX {
            // Equal lengths first: most keys differ in length, so few bytes are compared.
            if let Some(i) = self
                .entries
                .iter()
                .position(|(n, _)| n.len() == kb.len() && n.as_bytes() == kb)
            {
                return Ok(i);
            }
            return Err(self
                .entries
                .partition_point(|(n, _)| compare(n.as_bytes(), kb).is_lt()));
        }
        self.entries
            .binary_search_by(|(n, _)| compare(n.as_bytes(), kb))
    }

    #[inline]
    pub fn get(&self, k: &str) -> Option<&Value> {
        self.find(k).ok().map(|i| &self.entries[i].1)
    }

    /// [`Map::get`] for keys asked in increasing order, as a walk of this map: `cursor` starts
    /// at 0 and is where the walk is; each call goes on from there, so a run of calls costs one
    /// pass over the entries instead of a search each. A key asked out of order is not found.
    #[inline]
    pub fn get_next(&self, k: &str, cursor: &mut usize) -> Option<&Value> {
        let kb = k.as_bytes();
        while let Some((n, v)) = self.entries.get(*cursor) {
            match compare(n.as_bytes(), kb) {
                std::cmp::Ordering::Less => *cursor += 1,
                std::cmp::Ordering::Equal => {
                    *cursor += 1;
                    return Some(v);
                }
                std::cmp::Ordering::Greater => return None,
            }
        }
        None
    }

    #[inline]
    pub fn get_mut(&mut self, k: &str) -> Option<&mut Value> {
        self.find(k).ok().map(|i| &mut self.entries[i].1)
    }

    #[inline]
    pub fn contains_key(&self, k: &str) -> bool {
        self.find(k).is_ok()
    }

    /// Sets `k` to `v`, returning the value it replaced.
    pub fn insert(&mut self, k: Name, v: Value) -> Option<Value> {
        // Entries given in order (the usual case when a map is built) are appended.
        if self.entries.last().is_none_or(|(last, _)| *last < k) {
            self.entries.push((k, v));
            return None;
        }
        match self.find(&k) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, v)),
            Err(i) => {
                self.entries.insert(i, (k, v));
                None
            }
        }
    }

    pub fn remove(&mut self, k: &str) -> Option<Value> {
        self.find(k).ok().map(|i| self.entries.remove(i).1)
    }

    pub fn entry(&mut self, k: Name) -> Entry<'_> {
        match self.find(&k) {
            Ok(i) => Entry::Occupied(OccupiedEntry {
                entry: &mut self.entries[i],
            }),
            Err(i) => Entry::Vacant(VacantEntry {
                map: self,
                at: i,
                key: k,
            }),
        }
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&Name, &mut Value) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v))
    }

    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries.iter())
    }

    pub fn iter_mut(&mut self) -> IterMut<'_> {
        IterMut(self.entries.iter_mut())
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Name> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = Name> + ExactSizeIterator {
        self.entries.into_iter().map(|(k, _)| k)
    }

    pub fn into_values(self) -> impl DoubleEndedIterator<Item = Value> + ExactSizeIterator {
        self.entries.into_iter().map(|(_, v)| v)
    }

    /// Moves every entry of `other` in (replacing equal keys), leaving it empty.
    pub fn append(&mut self, other: &mut Map) {
        let taken = std::mem::take(&mut other.entries);
        self.extend(taken);
    }

    /// Sorts entries pushed in any order; of equal keys, the last pushed is kept.
    fn normalize(&mut self) {
        if self
            .entries
            .windows(2)
            .all(|w| w[0].0.as_str() < w[1].0.as_str())
        {
            return;
        }
        // Stable: equal keys stay in the order they were given.
        self.entries.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let mut out: Vec<(Name, Value)> = Vec::with_capacity(self.entries.len());
        for e in self.entries.drain(..) {
            match out.last_mut() {
                Some(last) if last.0 == e.0 => *last = e,
                _ => out.push(e),
            }
        }
        self.entries = out;
    }
}

/// Builds a [`Map`] from entries given in any order (an object or `for` expression's), in
/// O(n log n): inserting each into the sorted vector would move half of it every time.
#[derive(Default)]
pub struct Builder {
    entries: Vec<(Name, Value)>,
    /// Where each key is in `entries`, once there are more than a few.
    index: HashMap<Name, usize>,
}

/// Up to this many entries a builder looks keys up by scanning.
const BUILDER_SCAN: usize = 16;

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    fn position(&self, k: &str) -> Option<usize> {
        if self.entries.len() <= BUILDER_SCAN {
            self.entries.iter().position(|(n, _)| n.as_str() == k)
        } else {
            self.index.get(k).copied()
        }
    }

    /// The value given for `k`, if any.
    #[inline]
    pub fn get_mut(&mut self, k: &str) -> Option<&mut Value> {
        self.position(k).map(|i| &mut self.entries[i].1)
    }

    #[inline]
    pub fn contains_key(&self, k: &str) -> bool {
        self.position(k).is_some()
    }

    /// Adds `k`, which must not have been given yet (see [`Builder::contains_key`]).
    pub fn push_new(&mut self, k: Name, v: Value) {
        debug_assert!(!self.contains_key(&k));
        self.entries.push((k, v));
        let n = self.entries.len();
        if n == BUILDER_SCAN + 1 {
            self.index = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect();
        } else if n > BUILDER_SCAN + 1 {
            self.index.insert(self.entries[n - 1].0.clone(), n - 1);
        }
    }

    pub fn finish(self) -> Map {
        self.entries.into_iter().collect()
    }
}

/// An entry of a [`Map`], from [`Map::entry`].
pub enum Entry<'a> {
    Occupied(OccupiedEntry<'a>),
    Vacant(VacantEntry<'a>),
}

pub struct OccupiedEntry<'a> {
    entry: &'a mut (Name, Value),
}

impl<'a> OccupiedEntry<'a> {
    pub fn key(&self) -> &Name {
        &self.entry.0
    }

    pub fn get(&self) -> &Value {
        &self.entry.1
    }

    pub fn get_mut(&mut self) -> &mut Value {
        &mut self.entry.1
    }

    pub fn into_mut(self) -> &'a mut Value {
        &mut self.entry.1
    }

    pub fn insert(&mut self, v: Value) -> Value {
        std::mem::replace(&mut self.entry.1, v)
    }
}

pub struct VacantEntry<'a> {
    map: &'a mut Map,
    at: usize,
    key: Name,
}

impl<'a> VacantEntry<'a> {
    pub fn insert(self, v: Value) -> &'a mut Value {
        self.map.entries.insert(self.at, (self.key, v));
        &mut self.map.entries[self.at].1
    }

    pub fn key(&self) -> &Name {
        &self.key
    }
}

impl<'a> Entry<'a> {
    pub fn or_insert(self, v: Value) -> &'a mut Value {
        self.or_insert_with(|| v)
    }

    pub fn or_insert_with(self, f: impl FnOnce() -> Value) -> &'a mut Value {
        match self {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(e) => e.insert(f()),
        }
    }

    pub fn or_default(self) -> &'a mut Value {
        self.or_insert_with(Value::default)
    }
}

pub struct Iter<'a>(std::slice::Iter<'a, (Name, Value)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Name, &'a Value);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}
impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}
impl ExactSizeIterator for Iter<'_> {}
impl Clone for Iter<'_> {
    fn clone(&self) -> Self {
        Iter(self.0.clone())
    }
}

pub struct IterMut<'a>(std::slice::IterMut<'a, (Name, Value)>);

impl<'a> Iterator for IterMut<'a> {
    type Item = (&'a Name, &'a mut Value);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (&*k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}
impl DoubleEndedIterator for IterMut<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (&*k, v))
    }
}
impl ExactSizeIterator for IterMut<'_> {}

pub struct IntoIter(std::vec::IntoIter<(Name, Value)>);

impl Iterator for IntoIter {
    type Item = (Name, Value);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}
impl DoubleEndedIterator for IntoIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back()
    }
}
impl ExactSizeIterator for IntoIter {}

impl IntoIterator for Map {
    type Item = (Name, Value);
    type IntoIter = IntoIter;
    fn into_iter(self) -> IntoIter {
        IntoIter(self.entries.into_iter())
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a Name, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Map {
    type Item = (&'a Name, &'a mut Value);
    type IntoIter = IterMut<'a>;
    fn into_iter(self) -> IterMut<'a> {
        self.iter_mut()
    }
}

impl<K: Into<Name>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(it: I) -> Map {
        let mut m = Map {
            entries: it.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        };
        m.normalize();
        m.entries.shrink_to_fit();
        m
    }
}

impl<K: Into<Name>> Extend<(K, Value)> for Map {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, it: I) {
        let before = self.entries.len();
        self.entries
            .extend(it.into_iter().map(|(k, v)| (k.into(), v)));
        if self.entries.len() > before {
            self.normalize();
        }
    }
}

impl<K: Into<Name>, const N: usize> From<[(K, Value); N]> for Map {
    fn from(entries: [(K, Value); N]) -> Map {
        entries.into_iter().collect()
    }
}

impl std::ops::Index<&str> for Map {
    type Output = Value;
    fn index(&self, k: &str) -> &Value {
        self.get(k)
            .unwrap_or_else(|| panic!("no entry {k:?} in the map"))
    }
}

/// Debug never shows more than [`Value`]'s own `Debug` does.
impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Map {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            map.serialize_entry(k.as_str(), v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Map {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        crate::value::deserialize_attrs(d)
    }
}

/// An attribute map that holders share instead of copying (a no-op change's `after` is its
/// `before`; a state object's attributes are the refreshed object's when both are equal). It reads as a
/// [`Map`] (`Deref`); writing through it (`DerefMut`) copies the map first when it is shared, so each
/// holder still sees its own value. Serialised as the map it holds.
#[derive(Clone, Default)]
pub struct SharedAttrs(Arc<Map>);

impl SharedAttrs {
    pub fn new(attrs: Map) -> SharedAttrs {
        SharedAttrs(Arc::new(attrs))
    }

    /// Whether both hold the very same map (not only equal ones).
    pub fn ptr_eq(a: &SharedAttrs, b: &SharedAttrs) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// The map, copied only when it is shared.
    pub fn into_attrs(self) -> Map {
        Arc::unwrap_or_clone(self.0)
    }
}

impl PartialEq for SharedAttrs {
    fn eq(&self, other: &SharedAttrs) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || *self.0 == *other.0
    }
}

impl From<Map> for SharedAttrs {
    fn from(attrs: Map) -> Self {
        SharedAttrs::new(attrs)
    }
}

impl Deref for SharedAttrs {
    type Target = Map;
    fn deref(&self) -> &Map {
        &self.0
    }
}

impl DerefMut for SharedAttrs {
    fn deref_mut(&mut self) -> &mut Map {
        Arc::make_mut(&mut self.0)
    }
}

impl fmt::Debug for SharedAttrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for SharedAttrs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SharedAttrs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Map::deserialize(d).map(SharedAttrs::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_stay_sorted_and_the_last_of_equal_keys_wins() {
        let mut m = Map::new();
        m.insert("b".into(), Value::int(2));
        m.insert("a".into(), Value::int(1));
        m.insert("c".into(), Value::int(3));
        assert_eq!(m.insert("b".into(), Value::int(20)), Some(Value::int(2)));
        let keys: Vec<&str> = m.keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(m.get("b"), Some(&Value::int(20)));

        let collected: Map = [
            ("z", Value::int(1)),
            ("y", Value::int(2)),
            ("z", Value::int(3)),
        ]
        .into_iter()
        .collect();
        let pairs: Vec<(&str, &Value)> = collected.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(pairs, [("y", &Value::int(2)), ("z", &Value::int(3))]);

        let mut e = Map::new();
        e.insert("m".into(), Value::int(0));
        e.extend([("a", Value::int(1)), ("m", Value::int(9))]);
        assert_eq!(e.get("m"), Some(&Value::int(9)));
        assert_eq!(e.len(), 2);
        assert_eq!(e.remove("a"), Some(Value::int(1)));
        assert!(!e.contains_key("a"));
        *e.entry("q".into()).or_insert(Value::int(5)) = Value::int(6);
        assert_eq!(e.get("q"), Some(&Value::int(6)));
    }

    #[test]
    fn a_builder_takes_keys_in_any_order_and_finds_them_before_and_after_indexing() {
        let mut b = Builder::new();
        for i in (0..40).rev() {
            let k = format!("k{i:02}");
            assert!(!b.contains_key(&k));
            b.push_new(k.into(), Value::int(i));
            assert!(b.contains_key("k39"), "after k{i:02}");
        }
        *b.get_mut("k05").unwrap() = Value::int(500);
        assert!(b.get_mut("k40").is_none());
        let m = b.finish();
        assert_eq!(m.len(), 40);
        assert_eq!(m.keys().next().map(|k| k.as_str()), Some("k00"));
        assert_eq!(m.get("k05"), Some(&Value::int(500)));
        assert_eq!(m.get("k39"), Some(&Value::int(39)));
    }

    #[test]
    fn a_walk_in_key_order_finds_what_get_finds() {
        let m: Map = ["ike_version", "ike_dh", "id", "dpd", "ike", "tags"]
            .into_iter()
            .enumerate()
            .map(|(i, k)| (k, Value::int(i as i64)))
            .collect();
        let mut asked = vec![
            "a",
            "dpd",
            "id",
            "ike",
            "ike_d",
            "ike_dh",
            "ike_version",
            "tags",
            "z",
        ];
        asked.sort();
        let mut cursor = 0;
        for k in &asked {
            assert_eq!(m.get_next(k, &mut cursor), m.get(k), "{k}");
        }
        assert_eq!(cursor, m.len());
        // Out of order: not found, and the walk is not moved back.
        assert_eq!(m.get_next("dpd", &mut cursor), None);
        let mut from_start = 0;
        assert_eq!(m.get_next("tags", &mut from_start), m.get("tags"));
        assert_eq!(m.get_next("ike", &mut from_start), None);
    }

    #[test]
    fn identifier_keys_are_shared_and_others_owned() {
        let a = Name::new("dpd_timeout");
        let b = Name::from("dpd_timeout".to_string());
        assert!(
            !a.is_owned() && !b.is_owned(),
            "an attribute name should be shared"
        );
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        let owned = Name::new("Team Name");
        assert!(owned.is_owned() && Name::new("").is_owned());
        assert_eq!(owned.clone(), owned);
        assert!(!std::ptr::eq(owned.clone().as_str(), owned.as_str()));
        assert_eq!(String::from(owned), "Team Name");
        assert_eq!(std::mem::size_of::<Name>(), 16);
        assert_eq!(Name::new("Team Name"), "Team Name");
    }

    #[test]
    fn a_map_round_trips_through_json_in_key_order() {
        let m: Map =
            serde_json::from_str(r#"{"b": 1, "a": {"y": true, "x": null}, "b": 2}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"a":{"x":null,"y":true},"b":2}"#
        );
    }
}
