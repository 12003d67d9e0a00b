//! Diff of one object: desired (configuration) against the refreshed remote object.

use std::borrow::Cow;

use tunnelform_kinds::{DataKind, ResourceKind};
use tunnelform_model::schema::AttrSchema;
use tunnelform_model::{Address, Lifecycle, Value};

use crate::normalize::same;
use crate::types::{Action, Attrs, ObjectKind, Reason, ResourceChange, SharedAttrs};

/// Everything known about one managed object.
#[derive(Debug, Clone)]
pub struct DiffInput<'a> {
    pub address: &'a Address,
    pub kind: ResourceKind,
    pub region: &'a str,
    pub provider_alias: Option<&'a str>,
    /// Attributes from the configuration (only what it sets); `None` when not in the configuration.
    pub desired: Option<&'a Attrs>,
    /// The refreshed remote object: its id and attributes; `None` when it does not exist.
    pub remote: Option<(&'a str, &'a Attrs)>,
    /// Whether the prior state knew this object.
    pub in_state: bool,
    pub lifecycle: &'a Lifecycle,
    pub depends_on: Vec<Address>,
    /// Importing an existing object with this id.
    pub importing: Option<String>,
}

/// The planned value of every attribute after apply. `existing` is the remote object the result
/// builds on (None for a new object: computed attributes are then unknown).
pub fn planned_after(
    kind: ResourceKind,
    desired: &Attrs,
    existing: Option<(&str, &Attrs)>,
    lifecycle: &Lifecycle,
) -> Attrs {
    let attrs = sorted_attrs(kind);
    // Collected, then built in one go (a BTreeMap built from a list sorts it once and fills its
    // nodes in order, instead of searching the tree for every insert).
    let mut after: Vec<(String, Value)> = Vec::with_capacity(attrs.len() + 1);
    after.push((
        "id".to_string(),
        existing
            .map(|(id, _)| Value::from(id))
            .unwrap_or(Value::Unknown),
    ));
    let (mut d, mut r) = (0, 0);
    for attr in attrs {
        let remote = existing.map(|(_, e)| e.get_next(attr.name, &mut r));
        let v = planned_value(attr, desired.get_next(attr.name, &mut d), remote, lifecycle)
            .into_owned();
        let v = if attr.sensitive && !v.is_null() {
            Value::sensitive(v)
        } else {
            v
        };
        after.push((attr.name.to_string(), v));
    }
    after.into_iter().collect()
}

/// The attributes of a kind's schema in the order of their names, the order a map keeps its
/// entries in: a walk through them looks each up with [`tunnelform_model::Map::get_next`].
pub(crate) fn sorted_attrs(kind: ResourceKind) -> &'static [&'static AttrSchema] {
    static SORTED: [std::sync::OnceLock<Vec<&'static AttrSchema>>; ResourceKind::ALL.len()] =
        [const { std::sync::OnceLock::new() }; ResourceKind::ALL.len()];
    SORTED[kind as usize].get_or_init(|| {
        let mut attrs: Vec<&'static AttrSchema> = kind.schema().attrs.iter().collect();
        attrs.sort_by_key(|a| a.name);
        attrs
    })
}

/// One attribute of [`planned_after`] (before its sensitive mark), borrowed where it can be:
/// from what the configuration sets (`desired`) and, for an existing object, what it holds
/// (`existing`: `Some` of the attribute's remote value, if any).
fn planned_value<'v>(
    attr: &AttrSchema,
    desired: Option<&'v Value>,
    existing: Option<Option<&'v Value>>,
    lifecycle: &Lifecycle,
) -> Cow<'v, Value> {
    let remote = existing.flatten();
    if existing.is_some() && lifecycle.ignores(attr.name) && attr.is_argument() {
        return remote.map_or(Cow::Owned(Value::Null), Cow::Borrowed);
    }
    match desired {
        Some(v) if !v.is_null() => Cow::Borrowed(v),
        _ => {
            if attr.default.is_none() && attr.computed && existing.is_some() {
                remote.map_or(Cow::Owned(Value::Null), Cow::Borrowed)
            } else {
                Cow::Owned(default_or_computed(attr, remote, existing.is_some()))
            }
        }
    }
}

/// Whether [`planned_after`] of an existing object would equal the object itself with its id
/// (the map a change's `before` holds): then nothing changes, and the change's `after` is its
/// `before`, without building it.
fn after_is_before(
    kind: ResourceKind,
    desired: &Attrs,
    remote: &Attrs,
    lifecycle: &Lifecycle,
) -> bool {
    let attrs = sorted_attrs(kind);
    // `before` holds the remote attributes and "id"; `after` the schema's attributes and "id".
    let before_len = remote.len() + usize::from(!remote.contains_key("id"));
    if before_len != attrs.len() + 1 {
        return false;
    }
    let (mut d, mut r) = (0, 0);
    attrs.iter().all(|attr| {
        let Some(rv) = remote.get_next(attr.name, &mut r) else {
            return false;
        };
        let v = planned_value(
            attr,
            desired.get_next(attr.name, &mut d),
            Some(Some(rv)),
            lifecycle,
        );
        if attr.sensitive && !v.is_null() && !v.is_sensitive() {
            matches!(rv, Value::Sensitive(inner) if **inner == *v)
        } else {
            *v == *rv
        }
    })
}

fn default_or_computed(attr: &AttrSchema, remote: Option<&Value>, exists: bool) -> Value {
    if let Some(d) = attr.default {
        return d.to_value();
    }
    if attr.computed {
        return if exists {
            remote.cloned().unwrap_or(Value::Null)
        } else {
            Value::Unknown
        };
    }
    Value::Null
}

/// Which arguments differ between the planned `after` and the remote object.
fn changed_arguments(
    kind: ResourceKind,
    after: &Attrs,
    remote: &Attrs,
) -> (Vec<String>, Vec<String>) {
    let mut changed = Vec::new();
    let mut forced = Vec::new();
    for attr in kind.schema().attrs.iter().filter(|a| a.is_argument()) {
        // A write-only argument the state never recorded (an imported, adopted or migrated
        // object) cannot be read from the cloud: the configuration's value is taken as it is.
        if attr.write_only && !remote.contains_key(attr.name) {
            continue;
        }
        let a = after.get(attr.name).unwrap_or(&Value::Null);
        let b = remote.get(attr.name).unwrap_or(&Value::Null);
        if !same(attr, a, b) {
            // A computed argument the configuration leaves out follows the remote value: no change.
            if a.is_null() && attr.computed {
                continue;
            }
            changed.push(attr.name.to_string());
            if attr.force_new {
                forced.push(attr.name.to_string());
            }
        }
    }
    (changed, forced)
}

/// Plans one managed object.
pub fn diff_managed(input: DiffInput<'_>) -> ResourceChange {
    let before = input.remote.map(|(id, r)| with_id(id, r));
    let mut change = diff(&input);
    change.before = before.map(SharedAttrs::new);
    share_unchanged(&mut change);
    change
}

/// An unchanged object's `after` is its `before` (left unset by [`diff`]), and an `after` equal
/// to the `before` becomes the same shared map (memory: an unchanged object's attributes once,
/// not twice).
fn share_unchanged(change: &mut ResourceChange) {
    match (&change.before, &change.after) {
        (Some(before), None) if change.action == Action::NoOp && change.id.is_some() => {
            change.after = Some(before.clone());
        }
        (Some(before), Some(after))
            if !SharedAttrs::ptr_eq(before, after) && **before == **after =>
        {
            change.after = Some(before.clone());
        }
        _ => {}
    }
}

/// [`diff_managed`] for a remote object the caller gives away (`input.remote` is not read): its
/// attributes become the change's `before` instead of a copy of them (a plan of N unchanged
/// objects holds N attribute maps fewer).
pub fn diff_managed_owned(input: DiffInput<'_>, remote: Option<(&str, Attrs)>) -> ResourceChange {
    let mut change = diff(&DiffInput {
        remote: remote.as_ref().map(|(id, r)| (*id, r)),
        ..input
    });
    change.before = remote.map(|(id, mut r)| {
        r.insert("id".into(), Value::from(id));
        SharedAttrs::new(r)
    });
    share_unchanged(&mut change);
    change
}

/// Everything but `before` (and but `after` when it is `before`: see [`after_is_before`]).
fn diff(input: &DiffInput<'_>) -> ResourceChange {
    let mut change = ResourceChange {
        address: input.address.clone(),
        kind: ObjectKind::Managed(input.kind),
        region: input.region.to_string(),
        provider_alias: input.provider_alias.map(str::to_string),
        action: Action::NoOp,
        id: input.remote.map(|(id, _)| id.to_string()),
        before: None,
        after: None,
        changed: Vec::new(),
        replace_paths: Vec::new(),
        reasons: Vec::new(),
        importing: input.importing.clone(),
        depends_on: input.depends_on.clone(),
        deposed: false,
        moved_from: None,
        forget: false,
    };
    if let Some(id) = &input.importing {
        change.reasons.push(Reason::Import { id: id.clone() });
    }
    match (input.desired, input.remote) {
        (Some(desired), None) => {
            change.action = Action::Create;
            change.after = Some(planned_after(input.kind, desired, None, input.lifecycle).into());
            change.reasons.push(if input.in_state {
                Reason::DeletedOutsideTunnelform
            } else {
                Reason::NewInConfiguration
            });
        }
        (Some(desired), Some((_, remote)))
            if after_is_before(input.kind, desired, remote, input.lifecycle) =>
        {
            // Nothing changes: `after` is `before`, shared by the caller (`share_unchanged`).
        }
        (Some(desired), Some((id, remote))) => {
            let after = planned_after(input.kind, desired, Some((id, remote)), input.lifecycle);
            let (changed, forced) = changed_arguments(input.kind, &after, remote);
            if !forced.is_empty() {
                change.action = Action::Replace {
                    create_before_destroy: input.lifecycle.create_before_destroy,
                };
                change.after =
                    Some(planned_after(input.kind, desired, None, input.lifecycle).into());
                change.reasons.push(Reason::ForcesReplacement {
                    attributes: forced.clone(),
                });
            } else if !changed.is_empty() {
                change.action = Action::Update;
                change.reasons.push(Reason::ArgumentsChanged {
                    attributes: changed.clone(),
                });
                change.after = Some(after.into());
            } else {
                change.after = Some(after.into());
            }
            change.changed = changed;
            change.replace_paths = forced;
        }
        (None, Some(_)) => {
            change.action = Action::Delete;
            change.reasons.push(Reason::RemovedFromConfiguration);
        }
        (None, None) => {
            if input.in_state {
                change.reasons.push(Reason::DeletedOutsideTunnelform);
            }
        }
    }
    change
}

/// `-replace=ADDR`: an existing object the plan would keep or update is replaced instead
/// (delete and create, in the order `create_before_destroy` says), its computed attributes
/// unknown until the new object exists. A create, delete or replacement is left as it is.
pub fn force_replace(change: &mut ResourceChange, desired: &Attrs, lifecycle: &Lifecycle) {
    force_replace_because(change, desired, lifecycle, Reason::ReplaceByRequest);
}

/// [`force_replace`] for `reason` (`-replace=ADDR`, or `replace_triggered_by`).
pub fn force_replace_because(
    change: &mut ResourceChange,
    desired: &Attrs,
    lifecycle: &Lifecycle,
    reason: Reason,
) {
    let ObjectKind::Managed(kind) = change.kind else {
        return;
    };
    if change.before.is_none() || !matches!(change.action, Action::NoOp | Action::Update) {
        return;
    }
    change.action = Action::Replace {
        create_before_destroy: lifecycle.create_before_destroy,
    };
    change.after = Some(planned_after(kind, desired, None, lifecycle).into());
    change.reasons.push(reason);
}

/// A data source whose arguments are not known until apply: read during apply.
pub fn diff_data(
    address: &Address,
    kind: DataKind,
    region: &str,
    provider_alias: Option<&str>,
    args: &Attrs,
) -> ResourceChange {
    let mut after = args.clone();
    for attr in kind.schema().attrs.iter().filter(|a| !a.is_argument()) {
        after.insert(attr.name.into(), Value::Unknown);
    }
    ResourceChange {
        address: address.clone(),
        kind: ObjectKind::Data(kind),
        region: region.to_string(),
        provider_alias: provider_alias.map(str::to_string),
        action: Action::Read,
        id: None,
        before: None,
        after: Some(after.into()),
        changed: Vec::new(),
        replace_paths: Vec::new(),
        reasons: vec![Reason::ReadDeferredUntilApply],
        importing: None,
        depends_on: Vec::new(),
        deposed: false,
        moved_from: None,
        forget: false,
    }
}

fn with_id(id: &str, attrs: &Attrs) -> Attrs {
    let mut out = attrs.clone();
    out.insert("id".into(), Value::from(id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelform_model::Map;

    fn addr() -> Address {
        "tencentcloud_vpn_connection.office".parse().unwrap()
    }

    fn desired() -> Attrs {
        Map::from([
            ("name".to_string(), Value::from("office")),
            ("vpc_id".to_string(), Value::from("vpc-sandbox1")),
            ("vpn_gateway_id".to_string(), Value::from("vpngw-aaaaaaaa")),
            (
                "customer_gateway_id".to_string(),
                Value::from("cgw-bbbbbbbb"),
            ),
            (
                "pre_share_key".to_string(),
                Value::sensitive(Value::from("s3cret")),
            ),
        ])
    }

    /// What the API reports for `desired()` with every default filled in.
    fn remote() -> Attrs {
        let mut r = desired();
        r.insert(
            "pre_share_key".into(),
            Value::sensitive(Value::from("s3cret")),
        );
        for (k, v) in [
            ("ike_proto_encry_algorithm", Value::from("3DES-CBC")),
            ("ike_proto_authen_algorithm", Value::from("MD5")),
            ("ike_exchange_mode", Value::from("MAIN")),
            ("ike_local_identity", Value::from("ADDRESS")),
            ("ike_remote_identity", Value::from("ADDRESS")),
            ("ike_local_address", Value::from("203.0.113.10")),
            ("ike_remote_address", Value::from("198.51.100.7")),
            ("ike_dh_group_name", Value::from("GROUP1")),
            ("ike_sa_lifetime_seconds", Value::int(86400)),
            ("ike_version", Value::from("IKEV1")),
            ("ipsec_encrypt_algorithm", Value::from("3DES-CBC")),
            ("ipsec_integrity_algorithm", Value::from("MD5")),
            ("ipsec_sa_lifetime_seconds", Value::int(3600)),
            ("ipsec_pfs_dh_group", Value::from("NULL")),
            ("ipsec_sa_lifetime_traffic", Value::int(1843200)),
            ("dpd_enable", Value::int(0)),
            ("dpd_timeout", Value::from("30")),
            ("dpd_action", Value::from("clear")),
            ("route_type", Value::from("StaticRoute")),
            ("negotiation_type", Value::from("active")),
            ("enable_health_check", Value::Bool(false)),
            ("health_check_local_ip", Value::from("169.254.130.1")),
            ("health_check_remote_ip", Value::from("169.254.130.2")),
            ("state", Value::from("AVAILABLE")),
            ("tags", Value::Map(Map::new())),
        ] {
            r.insert(k.into(), v);
        }
        r
    }

    fn run(desired: Option<&Attrs>, remote: Option<&Attrs>, lc: &Lifecycle) -> ResourceChange {
        let a = addr();
        diff_managed(DiffInput {
            address: &a,
            kind: ResourceKind::VpnConnection,
            region: "ap-guangzhou",
            provider_alias: None,
            desired,
            remote: remote.map(|r| ("vpnx-12345678", r)),
            in_state: remote.is_some(),
            lifecycle: lc,
            depends_on: vec![],
            importing: None,
        })
    }

    #[test]
    fn giving_the_remote_object_away_plans_the_same_change() {
        let mut changed = desired();
        changed.insert("dpd_timeout".into(), Value::int(45));
        let mut renamed = desired();
        renamed.insert("vpc_id".into(), Value::from("vpc-other"));
        let lc = Lifecycle::default();
        for (d, r) in [
            (Some(desired()), Some(remote())),
            (Some(desired()), Some(remote_full())),
            (Some(changed), Some(remote())),
            (Some(renamed), Some(remote())),
            (Some(desired()), None),
            (None, Some(remote())),
            (None, None),
        ] {
            let a = addr();
            let input = |remote| DiffInput {
                address: &a,
                kind: ResourceKind::VpnConnection,
                region: "ap-guangzhou",
                provider_alias: None,
                desired: d.as_ref(),
                remote,
                in_state: r.is_some(),
                lifecycle: &lc,
                depends_on: vec![],
                importing: None,
            };
            let copied = diff_managed(input(r.as_ref().map(|r| ("vpnx-12345678", r))));
            let owned = diff_managed_owned(input(None), r.clone().map(|r| ("vpnx-12345678", r)));
            assert_eq!(copied, owned);
            assert_eq!(
                owned.action == Action::NoOp && r.as_ref() == Some(&remote_full()),
                matches!((&owned.before, &owned.after), (Some(b), Some(a)) if SharedAttrs::ptr_eq(b, a))
            );
            assert_eq!(
                owned.before.as_ref().map(|b| b.get("id").cloned()),
                r.as_ref().map(|_| Some(Value::from("vpnx-12345678")))
            );
        }
    }

    /// The refreshed object as the API reports every attribute of the schema (what
    /// `planned_after` keeps of `remote()`, without the id).
    fn remote_full() -> Attrs {
        let mut r = planned_after(
            ResourceKind::VpnConnection,
            &desired(),
            Some(("vpnx-12345678", &remote())),
            &Lifecycle::default(),
        );
        r.remove("id");
        r
    }

    #[test]
    fn an_unchanged_objects_after_is_its_before_shared_and_as_planned() {
        let lc = Lifecycle::default();
        let c = run(Some(&desired()), Some(&remote_full()), &lc);
        assert_eq!(c.action, Action::NoOp, "{:?}", c.changed);
        let (before, after) = (c.before.clone().unwrap(), c.after.clone().unwrap());
        assert!(SharedAttrs::ptr_eq(&before, &after), "after is a copy");
        // The value is the after planned in full, as before the sharing.
        let planned = planned_after(
            ResourceKind::VpnConnection,
            &desired(),
            Some(("vpnx-12345678", &remote_full())),
            &lc,
        );
        assert_eq!(*after, planned);
        // Serialised (plan files, JSON) as two maps, as before.
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["before"], json["after"]);
        assert_eq!(json["after"]["name"], "office");
        // Writing through one leaves the other as it was.
        let mut c = c;
        c.after
            .as_mut()
            .unwrap()
            .insert("name".into(), Value::from("renamed"));
        assert_eq!(c.before.as_ref().unwrap()["name"], Value::from("office"));
        assert_eq!(c.after.as_ref().unwrap()["name"], Value::from("renamed"));
    }

    #[test]
    fn the_shared_after_is_the_after_planned_in_full_whatever_the_case() {
        let ignore_name = Lifecycle {
            ignore_changes: tunnelform_model::lifecycle::IgnoreChanges::Attributes(vec![
                "name".into()
            ]),
            ..Lifecycle::default()
        };
        let lc = Lifecycle::default();
        let mut renamed = desired();
        renamed.insert("name".into(), Value::from("other"));
        let mut defaults_written = desired();
        defaults_written.insert("ike_exchange_mode".into(), Value::from("MAIN"));
        let mut plain_key = remote_full();
        plain_key.insert("pre_share_key".into(), Value::from("s3cret"));
        let mut extra = remote_full();
        extra.insert("not_in_schema".into(), Value::from("x"));
        let mut missing = remote_full();
        missing.remove("ike_local_fqdn_name");
        let mut with_id = remote_full();
        with_id.insert("id".into(), Value::from("vpnx-12345678"));
        let cases: Vec<(&str, Attrs, Attrs, &Lifecycle, bool)> = vec![
            ("unchanged", desired(), remote_full(), &lc, true),
            (
                "ignored rename",
                renamed.clone(),
                remote_full(),
                &ignore_name,
                true,
            ),
            ("rename", renamed, remote_full(), &lc, false),
            (
                "defaults written",
                defaults_written,
                remote_full(),
                &lc,
                true,
            ),
            ("key read unmarked", desired(), plain_key, &lc, false),
            ("attribute outside the schema", desired(), extra, &lc, false),
            ("attribute missing", desired(), missing, &lc, false),
            ("id in the attributes", desired(), with_id, &lc, true),
        ];
        for (what, d, r, lc, shared) in cases {
            let c = run(Some(&d), Some(&r), lc);
            let planned = planned_after(
                ResourceKind::VpnConnection,
                &d,
                Some(("vpnx-12345678", &r)),
                lc,
            );
            let (before, after) = (c.before.clone().unwrap(), c.after.clone().unwrap());
            assert_eq!(*after, planned, "{what}");
            assert_eq!(SharedAttrs::ptr_eq(&before, &after), shared, "{what}");
        }
    }

    #[test]
    fn omitted_arguments_filled_by_the_api_are_no_change() {
        let c = run(Some(&desired()), Some(&remote()), &Lifecycle::default());
        assert_eq!(c.action, Action::NoOp, "{:?}", c.changed);
    }

    #[test]
    fn changed_argument_is_an_update_with_its_name() {
        let mut d = desired();
        d.insert("dpd_timeout".into(), Value::int(45));
        let c = run(Some(&d), Some(&remote()), &Lifecycle::default());
        assert_eq!(c.action, Action::Update);
        assert_eq!(c.changed, vec!["dpd_timeout"]);
    }

    #[test]
    fn changed_key_is_an_update_and_stays_sensitive() {
        let mut d = desired();
        d.insert(
            "pre_share_key".into(),
            Value::sensitive(Value::from("other")),
        );
        let c = run(Some(&d), Some(&remote()), &Lifecycle::default());
        assert_eq!(c.action, Action::Update);
        assert_eq!(c.changed, vec!["pre_share_key"]);
        assert!(c.after.unwrap()["pre_share_key"].is_sensitive());
    }

    #[test]
    fn force_new_argument_replaces_in_the_requested_order() {
        let mut d = desired();
        d.insert("customer_gateway_id".into(), Value::from("cgw-cccccccc"));
        let c = run(Some(&d), Some(&remote()), &Lifecycle::default());
        assert_eq!(
            c.action,
            Action::Replace {
                create_before_destroy: false
            }
        );
        assert_eq!(c.replace_paths, vec!["customer_gateway_id"]);
        let after = c.after.unwrap();
        assert!(after["id"].is_unknown());
        assert!(after["state"].is_unknown());
        let cbd = Lifecycle {
            create_before_destroy: true,
            ..Default::default()
        };
        assert_eq!(
            run(Some(&d), Some(&remote()), &cbd).action,
            Action::Replace {
                create_before_destroy: true
            }
        );
    }

    #[test]
    fn unknown_force_new_argument_replaces() {
        let mut d = desired();
        d.insert("vpn_gateway_id".into(), Value::Unknown);
        assert!(matches!(
            run(Some(&d), Some(&remote()), &Lifecycle::default()).action,
            Action::Replace { .. }
        ));
    }

    #[test]
    fn ignore_changes_keeps_the_remote_value() {
        let mut d = desired();
        d.insert("name".into(), Value::from("renamed"));
        let lc = Lifecycle {
            ignore_changes: tunnelform_model::IgnoreChanges::Attributes(vec!["name".into()]),
            ..Default::default()
        };
        assert_eq!(run(Some(&d), Some(&remote()), &lc).action, Action::NoOp);
    }

    #[test]
    fn create_and_delete_and_gone() {
        let c = run(Some(&desired()), None, &Lifecycle::default());
        assert_eq!(c.action, Action::Create);
        assert_eq!(c.reasons, vec![Reason::NewInConfiguration]);
        assert_eq!(
            c.after.as_ref().unwrap()["dpd_action"],
            Value::from("clear")
        );
        let c = run(None, Some(&remote()), &Lifecycle::default());
        assert_eq!(c.action, Action::Delete);
        assert_eq!(c.reasons, vec![Reason::RemovedFromConfiguration]);
    }
}
