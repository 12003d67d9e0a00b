//! A quick look at a state file before it is loaded: which objects it names (kind, region, id)
//! and whether it records its cloud account, read in one pass that skips every attribute.
//!
//! The CLI starts reading these objects from the cloud while the state itself is still being
//! loaded and checked. What this returns is a hint, never the state: the refresh uses the loaded
//! state, reads what the hint missed and drops what the loaded state does not hold, so a file this
//! look misreads costs time, not correctness.

use std::path::Path;

use serde::de::IgnoredAny;
use serde::Deserialize;

/// One managed object a state file names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeekedObject {
    /// The resource type (`tencentcloud_vpn_connection`).
    pub type_name: String,
    pub region: String,
    pub id: String,
}

/// What [`peek`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peeked {
    /// The managed objects with an id, in the file's order.
    pub objects: Vec<PeekedObject>,
    /// The cloud account the file records its objects belong to (`"cloud"`), if any.
    pub cloud_account: Option<String>,
}

/// A resource entry: only what the refresh needs; its attributes are skipped.
#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    id: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    region: String,
    #[serde(rename = "type", default)]
    type_name: String,
}

impl Entry {
    /// The managed object this entry names, if it has an id.
    fn object(self) -> Option<PeekedObject> {
        (self.mode == "managed" && !self.id.is_empty()).then(|| PeekedObject {
            type_name: self.type_name,
            region: self.region,
            id: self.id,
        })
    }
}

/// The objects the state file at `path` names, or `None` when it cannot be read this way (no
/// file, another format, invalid JSON: the state's own load then says what is wrong).
pub fn peek(path: &Path) -> Option<Peeked> {
    let bytes = std::fs::read(path).ok()?;
    peek_bytes(&bytes)
}

/// [`peek`] on a file's contents.
pub fn peek_bytes(bytes: &[u8]) -> Option<Peeked> {
    let env: Lenient = serde_json::from_slice(bytes).ok()?;
    Some(Peeked {
        objects: env
            .resources
            .0
            .into_iter()
            .filter_map(Entry::object)
            .collect(),
        cloud_account: env.cloud.map(|c| c.account),
    })
}

/// [`peek_bytes`] on a state kept in parts (see [`crate::State::from_json_parts`]): its envelope
/// and the objects its resources' entries name (each found by [`peek_entry`]). `None` when the
/// envelope cannot be read this way.
pub fn peek_parts(
    envelope: &[u8],
    objects: impl IntoIterator<Item = PeekedObject>,
) -> Option<Peeked> {
    let mut peeked = peek_bytes(envelope)?;
    peeked.objects.extend(objects);
    Some(peeked)
}

/// The managed object one resource's entry (its JSON body alone) names: `Some(None)` when it names
/// none (a data source, no id yet), `None` when the entry cannot be read this way.
pub fn peek_entry(body: &str) -> Option<Option<PeekedObject>> {
    serde_json::from_str::<Entry>(body).ok().map(Entry::object)
}

/// The envelope with the resources' entries collected in order (their keys, the addresses, are
/// skipped).
#[derive(Deserialize)]
struct Lenient {
    #[serde(default)]
    resources: Entries,
    #[serde(default)]
    cloud: Option<CloudAccount>,
}

#[derive(Deserialize)]
struct CloudAccount {
    account: String,
}

#[derive(Default)]
struct Entries(Vec<Entry>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of resources")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Entries, A::Error> {
                let mut out = Vec::with_capacity(m.size_hint().unwrap_or(0));
                while let Some((_, e)) = m.next_entry::<IgnoredAny, Entry>()? {
                    out.push(e);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_managed_objects_and_the_cloud_are_found_and_attributes_skipped() {
        let text = r#"{
          "format": "tunnelform-state", "version": 3, "serial": 4, "lineage": "l",
          "cloud": {"account": "1", "endpoint": "sandbox"},
          "resources": {
            "tencentcloud_vpn_gateway.a": {"attributes": {"name": "x", "tags": {"k": [1, {"a": null}]}},
              "id": "vpngw-1", "mode": "managed", "region": "ap-guangzhou", "type": "tencentcloud_vpn_gateway"},
            "data.tencentcloud_vpn_gateways.d": {"attributes": {}, "id": "d", "mode": "data",
              "region": "ap-guangzhou", "type": "tencentcloud_vpn_gateways"},
            "tencentcloud_vpn_connection.t": {"id": "vpnx-2", "mode": "managed", "region": "ap-shanghai",
              "type": "tencentcloud_vpn_connection", "attributes": {}},
            "tencentcloud_vpn_connection.u": {"id": "", "mode": "managed", "region": "ap-shanghai",
              "type": "tencentcloud_vpn_connection"}
          }
        }"#;
        let p = peek_bytes(text.as_bytes()).expect("peeked");
        assert_eq!(p.cloud_account.as_deref(), Some("1"));
        assert_eq!(
            p.objects,
            vec![
                PeekedObject {
                    type_name: "tencentcloud_vpn_gateway".into(),
                    region: "ap-guangzhou".into(),
                    id: "vpngw-1".into()
                },
                PeekedObject {
                    type_name: "tencentcloud_vpn_connection".into(),
                    region: "ap-shanghai".into(),
                    id: "vpnx-2".into()
                },
            ]
        );
    }

    #[test]
    fn entries_kept_apart_are_looked_at_one_by_one() {
        let gw = r#"{"attributes": {"name": "x", "tags": {"k": [1, {"a": null}]}}, "id": "vpngw-1",
            "mode": "managed", "region": "ap-guangzhou", "type": "tencentcloud_vpn_gateway"}"#;
        let data = r#"{"attributes": {}, "id": "d", "mode": "data", "region": "ap-guangzhou",
            "type": "tencentcloud_vpn_gateways"}"#;
        let no_id = r#"{"id": "", "mode": "managed", "region": "ap-shanghai",
            "type": "tencentcloud_vpn_connection"}"#;
        let object = PeekedObject {
            type_name: "tencentcloud_vpn_gateway".into(),
            region: "ap-guangzhou".into(),
            id: "vpngw-1".into(),
        };
        assert_eq!(peek_entry(gw), Some(Some(object.clone())));
        assert_eq!(peek_entry(data), Some(None));
        assert_eq!(peek_entry(no_id), Some(None));
        assert_eq!(peek_entry("{\"attributes\": "), None);
        assert_eq!(peek_entry("7"), None);

        let envelope = br#"{"format": "tunnelform-state", "version": 3, "serial": 4,
            "lineage": "l", "cloud": {"account": "1", "endpoint": "sandbox"}, "resources": {}}"#;
        let p = peek_parts(envelope, [object.clone()]).expect("peeked");
        assert_eq!(p.cloud_account.as_deref(), Some("1"));
        assert_eq!(p.objects, vec![object]);
        assert_eq!(peek_parts(b"not json", []), None);
    }

    #[test]
    fn a_file_that_is_not_a_state_gives_nothing() {
        assert_eq!(peek_bytes(b"not json"), None);
        assert_eq!(peek_bytes(br#"{"resources": []}"#), None);
        let empty = peek_bytes(br#"{"format": "tunnelform-state"}"#).expect("peeked");
        assert!(empty.objects.is_empty() && empty.cloud_account.is_none());
    }
}
