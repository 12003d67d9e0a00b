//! An object's dependencies: a set of addresses kept as one sorted vector.
//!
//! Most objects depend on one to three others. A `BTreeSet` gave each of them a node of eleven
//! address slots (over a kilobyte); this keeps exactly the addresses, sorted and without repeats,
//! with the set operations the state uses.

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tunnelform_model::Address;

/// Sorted addresses without repeats. Written as their text forms, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressSet(Vec<Address>);

impl AddressSet {
    pub const fn new() -> AddressSet {
        AddressSet(Vec::new())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, a: &Address) -> bool {
        self.0.binary_search(a).is_ok()
    }

    /// Adds `a`; false when it was there already.
    pub fn insert(&mut self, a: Address) -> bool {
        match self.0.binary_search(&a) {
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, a);
                true
            }
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Address> {
        self.0.iter()
    }
}

impl FromIterator<Address> for AddressSet {
    fn from_iter<I: IntoIterator<Item = Address>>(it: I) -> AddressSet {
        let mut v: Vec<Address> = it.into_iter().collect();
        v.sort();
        v.dedup();
        v.shrink_to_fit();
        AddressSet(v)
    }
}

impl From<BTreeSet<Address>> for AddressSet {
    fn from(set: BTreeSet<Address>) -> AddressSet {
        AddressSet(set.into_iter().collect())
    }
}

impl<const N: usize> From<[Address; N]> for AddressSet {
    fn from(a: [Address; N]) -> AddressSet {
        a.into_iter().collect()
    }
}

impl IntoIterator for AddressSet {
    type Item = Address;
    type IntoIter = std::vec::IntoIter<Address>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a AddressSet {
    type Item = &'a Address;
    type IntoIter = std::slice::Iter<'a, Address>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Serialize for AddressSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let texts: BTreeSet<String> = self.0.iter().map(Address::to_string).collect();
        s.collect_seq(texts)
    }
}

impl<'de> Deserialize<'de> for AddressSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AddressSet, D::Error> {
        Ok(Vec::<Address>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Address {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_are_kept_sorted_once_each_and_written_by_their_text() {
        let mut set: AddressSet = [
            a("tencentcloud_vpn_gateway.main"),
            a("tencentcloud_vpn_customer_gateway.site[\"sh\"]"),
            a("tencentcloud_vpn_gateway.main"),
        ]
        .into();
        assert_eq!(set.len(), 2);
        assert!(set.contains(&a("tencentcloud_vpn_gateway.main")));
        assert!(!set.insert(a("tencentcloud_vpn_gateway.main")));
        assert!(set.insert(a("tencentcloud_vpn_gateway.other")));
        let sorted: BTreeSet<Address> = set.iter().cloned().collect();
        assert_eq!(
            set.iter().cloned().collect::<Vec<_>>(),
            sorted.into_iter().collect::<Vec<_>>()
        );
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(
            json,
            r#"["tencentcloud_vpn_customer_gateway.site[\"sh\"]","tencentcloud_vpn_gateway.main","tencentcloud_vpn_gateway.other"]"#
        );
        let back: AddressSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, set);
    }
}
