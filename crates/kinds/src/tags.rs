//! Tags: the ownership tags tunnelform puts on what it creates, the user's tags of a planned
//! object, and changing the tags of an existing object through the tag service. Shared by every
//! kind.

use std::collections::BTreeMap;
use tunnelform_model::Map;

use tunnelform_model::{Address, Attrs, Value};
use tunnelform_tencent_api::actions::{TagResources, UnTagResources};
use tunnelform_tencent_api::resource_name;
use tunnelform_tencent_api::tag::{
    Tag as TagServiceTag, TagResourcesRequest, UnTagResourcesRequest,
};
pub use tunnelform_tencent_api::vpc::Tag;

use crate::contract::{Call, CallError};

/// Tag keys tunnelform puts on what it creates (Tencent's tag key rules: letters, digits and
/// `+ - = . _ : / @`, at most 127 characters, not starting with `qcloud`, `tencent` or `project`).
pub const OWNER_ADDRESS_TAG: &str = "tunnelform:address";
pub const OWNER_LINEAGE_TAG: &str = "tunnelform:lineage";
/// The project (configuration) an object belongs to, independent of its state file: a state that
/// was lost adopts the objects carrying its project's tags instead of creating them again.
pub const OWNER_PROJECT_TAG: &str = "tunnelform:project";

/// The longest tag value Tencent accepts.
pub const MAX_TAG_VALUE_LEN: usize = 255;

fn is_owner_tag(key: &str) -> bool {
    key == OWNER_ADDRESS_TAG || key == OWNER_LINEAGE_TAG || key == OWNER_PROJECT_TAG
}

/// Whether `s` can be a tag value as it is: 1 to 255 characters among letters, digits, space and
/// `+ - = . _ : / @` (the subset of Tencent's tag value characters that every service accepts).
pub fn is_plain_tag_value(s: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || " +-=._:/@".contains(c);
    !s.is_empty() && s.len() <= MAX_TAG_VALUE_LEN && s.chars().all(allowed)
}

/// `s` itself when it is a plain tag value, otherwise `sha256:` and 40 hex digits of its digest
/// (tags are compared, never parsed back).
pub fn tag_value_for(s: &str) -> String {
    if is_plain_tag_value(s) {
        s.to_string()
    } else {
        use sha2::{Digest, Sha256};
        format!(
            "sha256:{}",
            &hex::encode(Sha256::digest(s.as_bytes()))[..40]
        )
    }
}

/// The value of the `tunnelform:address` tag for an address: the address with each byte that tag
/// values do not allow written as `@` and two hex digits (`office["sh"]` is
/// `office@5B@22sh@22@5D`), so the address can be read back from the tag
/// ([`address_of_owner_value`]); a digest when that is longer than a tag value can be.
pub fn owner_address_value(address: &Address) -> String {
    let text = address.to_string();
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b" +-=._:/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("@{b:02X}"));
        }
    }
    if out.len() <= MAX_TAG_VALUE_LEN {
        out
    } else {
        tag_value_for(&text)
    }
}

/// The `tunnelform:address` tag value that earlier versions gave `address` when it is not the
/// current one (they digested every address with characters outside the plain set, e.g. every
/// `for_each` instance): objects they created are still found by it.
pub fn legacy_owner_address_value(address: &Address) -> Option<String> {
    let legacy = tag_value_for(&address.to_string());
    (legacy != owner_address_value(address)).then_some(legacy)
}

/// Every `tunnelform:address` tag value that names `address` (current, then legacy).
pub fn owner_address_values(address: &Address) -> impl Iterator<Item = String> {
    std::iter::once(owner_address_value(address)).chain(legacy_owner_address_value(address))
}

/// The address a `tunnelform:address` tag value names, when it can be read back (not a digest).
pub fn address_of_owner_value(value: &str) -> Option<Address> {
    if value.starts_with("sha256:") {
        return None;
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'@' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()?.parse().ok()
}

/// Ownership of a remote object, read from its tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ownership {
    pub address: Option<String>,
    pub lineage: Option<String>,
    pub project: Option<String>,
}

pub fn split_tags(tags: &[Tag]) -> (Value, Ownership) {
    let mut own = Ownership::default();
    let mut m = Map::new();
    for t in tags {
        match t.key.as_str() {
            OWNER_ADDRESS_TAG => own.address = Some(t.value.clone()),
            OWNER_LINEAGE_TAG => own.lineage = Some(t.value.clone()),
            OWNER_PROJECT_TAG => own.project = Some(t.value.clone()),
            _ => {
                m.insert(t.key.as_str().into(), Value::from(t.value.as_str()));
            }
        }
    }
    (Value::Map(m), own)
}

/// Configured tags plus, when enabled, the ownership tags: `owner` is the address and the state's
/// lineage; `project` the project id (a tag value already, see [`tag_value_for`]).
pub fn tags_for_create(
    after: &Attrs,
    owner: Option<(&Address, &str)>,
    project: Option<&str>,
) -> Vec<Tag> {
    let mut out: Vec<Tag> = user_tags(after)
        .into_iter()
        .map(|(key, value)| Tag { key, value })
        .collect();
    if let Some((address, lineage)) = owner {
        out.push(Tag {
            key: OWNER_ADDRESS_TAG.into(),
            value: owner_address_value(address),
        });
        out.push(Tag {
            key: OWNER_LINEAGE_TAG.into(),
            value: lineage.to_string(),
        });
        if let Some(project) = project {
            out.push(Tag {
                key: OWNER_PROJECT_TAG.into(),
                value: project.to_string(),
            });
        }
    }
    out
}

/// The user's tags of a planned object (ownership tags never come from configuration).
pub fn user_tags(attrs: &Attrs) -> BTreeMap<String, String> {
    attrs
        .get("tags")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !is_owner_tag(k))
                .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// A tag service request failed for the resource (the service answers 200 with a failure list).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TagFailure {
    pub code: Option<String>,
    pub message: String,
    pub request_id: String,
}

/// Changes the user's tags of object `id` (tag-service prefix `prefix`) from `have` to `want`:
/// one TagResources for what is new or different, one UnTagResources for what went away.
pub async fn retag(
    call: &Call<'_>,
    prefix: &str,
    id: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<(), RetagError> {
    let uin = call
        .client
        .uin(call.region)
        .await
        .map_err(RetagError::Uin)?;
    let name = resource_name(call.region, &uin, prefix, id);
    let set: Vec<TagServiceTag> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| TagServiceTag {
            tag_key: k.clone(),
            tag_value: v.clone(),
            category: None,
        })
        .collect();
    let remove: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if !set.is_empty() {
        let r = call
            .client
            .call::<TagResources>(
                call.region,
                &TagResourcesRequest {
                    resource_list: vec![name.clone()],
                    tags: set,
                },
            )
            .await
            .map_err(|e| RetagError::Call(e.into()))?;
        if let Some(f) = r.failed_resources.first() {
            return Err(RetagError::Failed(TagFailure {
                code: f.code.clone(),
                message: f.message.clone().unwrap_or_else(|| "tagging failed".into()),
                request_id: r.request_id,
            }));
        }
        call.sent(&r.request_id).map_err(RetagError::Call)?;
    }
    if !remove.is_empty() {
        let r = call
            .client
            .call::<UnTagResources>(
                call.region,
                &UnTagResourcesRequest {
                    resource_list: vec![name],
                    tag_keys: remove,
                },
            )
            .await
            .map_err(|e| RetagError::Call(e.into()))?;
        if let Some(f) = r.failed_resources.first() {
            return Err(RetagError::Failed(TagFailure {
                code: f.code.clone(),
                message: f
                    .message
                    .clone()
                    .unwrap_or_else(|| "untagging failed".into()),
                request_id: r.request_id,
            }));
        }
        call.sent(&r.request_id).map_err(RetagError::Call)?;
    }
    Ok(())
}

/// Why [`retag`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RetagError {
    #[error(transparent)]
    Uin(tunnelform_tencent_api::UinError),
    #[error(transparent)]
    Call(CallError),
    #[error(transparent)]
    Failed(TagFailure),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_value_is_readable_reversible_and_a_digest_only_when_too_long() {
        let a: Address = "tencentcloud_vpn_connection.office".parse().unwrap();
        assert_eq!(
            owner_address_value(&a),
            "tencentcloud_vpn_connection.office"
        );
        assert_eq!(legacy_owner_address_value(&a), None);
        let b: Address = "tencentcloud_vpn_connection.office[\"sh\"]"
            .parse()
            .unwrap();
        let v = owner_address_value(&b);
        assert_eq!(v, "tencentcloud_vpn_connection.office@5B@22sh@22@5D");
        assert!(is_plain_tag_value(&v));
        assert_eq!(address_of_owner_value(&v), Some(b.clone()));
        // Objects tagged by earlier versions (a digest) are still found.
        let legacy = legacy_owner_address_value(&b).unwrap();
        assert!(
            legacy.starts_with("sha256:") && legacy.len() == 47,
            "{legacy}"
        );
        assert_eq!(
            owner_address_values(&b).collect::<Vec<_>>(),
            vec![v.clone(), legacy]
        );
        // Keys with any character, an index, and an @ in a key read back exactly.
        for text in [
            "tencentcloud_vpn_connection.t[\"a@b c/é\"]",
            "tencentcloud_vpn_gateway.gw[3]",
        ] {
            let addr: Address = text.parse().unwrap();
            let v = owner_address_value(&addr);
            assert!(is_plain_tag_value(&v), "{v}");
            assert_eq!(address_of_owner_value(&v), Some(addr), "{v}");
        }
        // Too long for a tag value: a digest, which names no address.
        let long: Address = format!("tencentcloud_vpn_connection.t[\"{}\"]", "x".repeat(300))
            .parse()
            .unwrap();
        let d = owner_address_value(&long);
        assert!(d.starts_with("sha256:"), "{d}");
        assert_eq!(address_of_owner_value(&d), None);
        assert_eq!(address_of_owner_value("t.x@5"), None);
        assert_ne!(
            v,
            owner_address_value(
                &"tencentcloud_vpn_connection.office[\"bj\"]"
                    .parse()
                    .unwrap()
            )
        );
    }

    #[test]
    fn tag_values_are_kept_when_plain_and_digested_otherwise() {
        assert!(is_plain_tag_value("github.com/acme/infra//vpn/state.json"));
        assert!(!is_plain_tag_value(""));
        assert!(!is_plain_tag_value("a~b"));
        assert!(!is_plain_tag_value(&"a".repeat(256)));
        assert_eq!(tag_value_for("team-a"), "team-a");
        let d = tag_value_for("/home/é/state.json");
        assert!(d.starts_with("sha256:") && d.len() == 47, "{d}");
        assert!(is_plain_tag_value(&d));
        assert_ne!(d, tag_value_for("/home/e/state.json~"));
    }
}
