//! Changes made outside tunnelform: the prior state against the refreshed remote object.
//!
//! Only arguments are compared: read-only attributes such as `state` or `net_status` change on
//! their own and are not drift (a drift job would otherwise page on every tunnel flap).

use tunnelform_kinds::ResourceKind;
use tunnelform_model::{Address, Value};

use crate::normalize::same;
use crate::types::{Attrs, Drift, ObjectKind};

/// Compares the prior state of an object with what the cloud reports now.
///
/// `secret_matches(attr, remote_value)` answers for sensitive attributes, which the state only
/// holds as salted digests: `Some(true)` when the remote value matches the recorded digest,
/// `Some(false)` when it does not, `None` when nothing was recorded.
pub fn detect_drift(
    address: &Address,
    kind: ResourceKind,
    id: &str,
    prior: &Attrs,
    remote: Option<&Attrs>,
    secret_matches: &dyn Fn(&str, &Value) -> Option<bool>,
) -> Option<Drift> {
    let Some(remote) = remote else {
        return Some(Drift {
            address: address.clone(),
            kind: ObjectKind::Managed(kind),
            id: id.to_string(),
            deleted: true,
            before: prior.clone(),
            after: None,
            changed: Vec::new(),
        });
    };
    let mut changed = Vec::new();
    let mut digested = Vec::new();
    // Write-only arguments are not read back: nothing to compare. The attributes go in name
    // order, each map walked once alongside.
    let (mut at_remote, mut at_prior) = (0, 0);
    for attr in crate::diff::sorted_attrs(kind)
        .iter()
        .filter(|a| a.is_argument() && a.is_read_back())
    {
        let r = remote
            .get_next(attr.name, &mut at_remote)
            .unwrap_or(&Value::Null);
        // Attributes the state keeps only as digests (keys, values from sensitive variables).
        let differs = match secret_matches(attr.name, r) {
            Some(matches) => {
                digested.push(attr.name);
                !matches
            }
            None if attr.sensitive => false,
            None => {
                let p = prior
                    .get_next(attr.name, &mut at_prior)
                    .unwrap_or(&Value::Null);
                !same(attr, p, r)
            }
        };
        if differs {
            changed.push(attr.name.to_string());
        }
    }
    if changed.is_empty() {
        return None;
    }
    // Reported in the schema's order, as the arguments are declared.
    let schema = kind.schema();
    changed.sort_by_key(|name: &String| schema.attrs.iter().position(|a| a.name == name));
    let mut after = remote.clone();
    for attr in kind
        .schema()
        .attrs
        .iter()
        .filter(|a| a.sensitive || digested.contains(&a.name))
    {
        if let Some(v) = after.get_mut(attr.name) {
            *v = Value::sensitive(v.clone());
        }
    }
    Some(Drift {
        address: address.clone(),
        kind: ObjectKind::Managed(kind),
        id: id.to_string(),
        deleted: false,
        before: prior.clone(),
        after: Some(after),
        changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelform_model::Map;

    fn attrs(pairs: &[(&str, Value)]) -> Attrs {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn read_only_changes_are_not_drift_but_arguments_are() {
        let a: Address = "tencentcloud_vpn_connection.x".parse().unwrap();
        let prior = attrs(&[
            ("name", "x".into()),
            ("net_status", "AVAILABLE".into()),
            ("dpd_timeout", Value::int(30)),
        ]);
        let remote = attrs(&[
            ("name", "x".into()),
            ("net_status", "UNAVAILABLE".into()),
            ("dpd_timeout", "30".into()),
        ]);
        let none = |_: &str, _: &Value| None;
        assert!(detect_drift(
            &a,
            ResourceKind::VpnConnection,
            "vpnx-1",
            &prior,
            Some(&remote),
            &none
        )
        .is_none());
        let remote = attrs(&[("name", "renamed".into()), ("dpd_timeout", "30".into())]);
        let d = detect_drift(
            &a,
            ResourceKind::VpnConnection,
            "vpnx-1",
            &prior,
            Some(&remote),
            &none,
        )
        .unwrap();
        assert_eq!(d.changed, vec!["name"]);
        assert!(!d.deleted);
    }

    #[test]
    fn a_key_changed_remotely_is_drift_shown_as_sensitive() {
        let a: Address = "tencentcloud_vpn_connection.x".parse().unwrap();
        let prior = attrs(&[("name", "x".into())]);
        let remote = attrs(&[
            ("name", "x".into()),
            ("pre_share_key", "changed-in-console".into()),
        ]);
        let mismatch = |attr: &str, _: &Value| (attr == "pre_share_key").then_some(false);
        let d = detect_drift(
            &a,
            ResourceKind::VpnConnection,
            "vpnx-1",
            &prior,
            Some(&remote),
            &mismatch,
        )
        .unwrap();
        assert_eq!(d.changed, vec!["pre_share_key"]);
        assert!(d.after.unwrap()["pre_share_key"].is_sensitive());
        let matches = |attr: &str, _: &Value| (attr == "pre_share_key").then_some(true);
        assert!(detect_drift(
            &a,
            ResourceKind::VpnConnection,
            "vpnx-1",
            &prior,
            Some(&remote),
            &matches
        )
        .is_none());
    }

    #[test]
    fn deleted_remotely() {
        let a: Address = "tencentcloud_vpn_gateway.g".parse().unwrap();
        let d = detect_drift(
            &a,
            ResourceKind::VpnGateway,
            "vpngw-1",
            &Map::new(),
            None,
            &|_, _| None,
        )
        .unwrap();
        assert!(d.deleted);
    }
}
