//! Quotas, checked by the plan: a plan that would take the account over a quota fails before the
//! first write, with one error per quota and scope, instead of a run of `LimitExceeded` errors
//! half-way through an apply.
//!
//! The API has no action that tells these quotas (the VPN actions document none), so the limits
//! are the documented defaults of the VPN product's limits page, which an account whose quota
//! Tencent Cloud raised replaces with `--quota NAME=N` (or `TUNNELFORM_QUOTA`). What exists is
//! read (by the apply layer, asked through [`CountAsks`]) with one paged Describe per region and
//! kind (never one call per object), and only for the quotas the plan adds objects to.

use std::collections::{BTreeMap, HashMap};

use crate::{Action, ObjectKind, ResourceChange};
use tunnelform_config::{Config, Instance};
use tunnelform_kinds::{all_quotas, Per, Quota, ResourceKind};
use tunnelform_model::{Address, Diagnostic, Diagnostics, Value};

use super::rules::{Node, Topology};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    #[error("invalid quota {0:?}: expected NAME=N, e.g. customer-gateways-per-region=50")]
    Syntax(String),
    #[error("unknown quota {name:?}: use one of {}", all_quotas().map(|q| q.name).collect::<Vec<_>>().join(", "))]
    UnknownName { name: String },
    #[error("invalid quota {0:?}: N must be a whole number from 1 to 1000000")]
    Value(String),
}

/// Quotas raised for this account (`--quota NAME=N`, by the kinds' quota names); the others are
/// the documented defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaOverrides(BTreeMap<&'static str, u64>);

impl QuotaOverrides {
    /// Parses `NAME=N` arguments (a later one wins).
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Self, QuotaError> {
        let mut out = BTreeMap::new();
        for a in args {
            let a = a.as_ref().trim();
            let (name, n) = a
                .split_once('=')
                .ok_or_else(|| QuotaError::Syntax(a.to_string()))?;
            let q = all_quotas()
                .find(|q| q.name == name.trim())
                .ok_or_else(|| QuotaError::UnknownName {
                    name: name.trim().to_string(),
                })?;
            let n: u64 = n
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| QuotaError::Value(a.to_string()))?;
            out.insert(q.name, n);
        }
        Ok(QuotaOverrides(out))
    }

    /// The quota and where it comes from.
    pub fn get(&self, q: &Quota) -> (u64, &'static str) {
        match self.0.get(q.name) {
            Some(n) => (*n, "given with --quota / TUNNELFORM_QUOTA"),
            None => (
                q.default,
                "Tencent Cloud's documented default; the API does not tell an account's quota",
            ),
        }
    }
}

/// Where a quota counts: a region, the objects sharing a value (a VPC), or one target object (a
/// gateway).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Scope {
    Region,
    Value(String),
    Target(Node),
}

#[derive(Debug, Default)]
struct Tally<'a> {
    creates: u64,
    deletes: u64,
    /// The first object the plan creates in this scope (where the error points).
    first: Option<&'a Address>,
}

/// The kind a quota belongs to.
fn kind_of_quota(q: &Quota) -> Option<ResourceKind> {
    ResourceKind::ALL
        .into_iter()
        .find(|k| k.def().quotas().contains(q))
}

fn kind_of(c: &ResourceChange) -> Option<ResourceKind> {
    match c.kind {
        ObjectKind::Managed(k) => Some(k),
        ObjectKind::Data(_) => None,
    }
}

fn before_str(c: &ResourceChange, attr: &str) -> Option<String> {
    c.before
        .as_ref()?
        .get(attr)?
        .unmarked()
        .as_str()
        .map(str::to_string)
}

/// The node an existing object's reference (an id in `before`) stands for.
fn before_node(t: &Topology<'_>, c: &ResourceChange, attr: &str) -> Option<Node> {
    let id = before_str(c, attr)?;
    Some(match t.address_of_id(&id) {
        Some(a) => Node::Addr(a.clone()),
        None => Node::Id(id),
    })
}

/// What a quota check reads: for each region and kind, the quotas and scope keys to count
/// ([`tunnelform_kinds::Kind::count_existing`]).
pub type CountAsks = Vec<(String, ResourceKind, Vec<(Quota, Vec<String>)>)>;

/// The answers to [`CountAsks`], in their order: for each quota asked, scope key -> count.
pub type Counts = Vec<Vec<HashMap<String, u64>>>;

/// Fails with one error per (quota, region, scope) that the plan takes over its quota: what
/// exists (`counts`, read from the cloud), what the plan creates and deletes, the quota and its
/// source, and how to proceed. Without `counts`, says what to count (`Err`), unless the plan
/// creates nothing that could go over a quota (then no error and nothing to read).
pub(crate) fn check<'a>(
    config: &Config,
    instances: impl IntoIterator<Item = &'a Instance>,
    changes: &'a [ResourceChange],
    overrides: &QuotaOverrides,
    counts: Option<&Counts>,
) -> Result<Diagnostics, CountAsks> {
    let t = Topology::new(instances, changes);
    let mut tally: BTreeMap<(Quota, String, Scope), Tally<'_>> = BTreeMap::new();
    for c in changes {
        let Some(kind) = kind_of(c) else { continue };
        let creates = matches!(c.action, Action::Create | Action::Replace { .. }) && !c.deposed;
        let deletes = c.id.is_some()
            && (matches!(c.action, Action::Delete | Action::Replace { .. }) || c.deposed);
        let mut add: Vec<(Quota, Scope)> = Vec::new();
        let mut sub: Vec<(Quota, Scope)> = Vec::new();
        for q in kind.def().quotas() {
            match q.per {
                Per::Region => {
                    add.push((*q, Scope::Region));
                    sub.push((*q, Scope::Region));
                }
                Per::Value { attr, .. } => {
                    if creates {
                        if let Some(Value::String(v)) = t.value(c, attr) {
                            add.push((*q, Scope::Value(v.into_string())));
                        }
                    }
                    if let Some(v) = before_str(c, attr) {
                        sub.push((*q, Scope::Value(v)));
                    }
                }
                Per::Target { attr, kind, .. } => {
                    if creates {
                        if let Some(n) = t.target(c, attr, kind) {
                            add.push((*q, Scope::Target(n)));
                        }
                    }
                    if let Some(n) = before_node(&t, c, attr) {
                        sub.push((*q, Scope::Target(n)));
                    }
                }
            }
        }
        if creates {
            for (q, s) in add {
                let e = tally.entry((q, c.region.clone(), s)).or_default();
                e.creates += 1;
                e.first.get_or_insert(&c.address);
            }
        }
        if deletes {
            for (q, s) in sub {
                tally.entry((q, c.region.clone(), s)).or_default().deletes += 1;
            }
        }
    }
    tally.retain(|_, v| v.creates > v.deletes);
    if tally.is_empty() {
        return Ok(Diagnostics::new());
    }
    let Some(counts) = counts else {
        return Err(asks(&t, &tally));
    };

    let mut existing: HashMap<(Quota, String, String), u64> = HashMap::new();
    for ((region, _, quotas), counts) in asks(&t, &tally).iter().zip(counts) {
        for ((q, _), counts) in quotas.iter().zip(counts) {
            for (k, n) in counts {
                existing.insert((*q, region.to_string(), k.clone()), *n);
            }
        }
    }

    let mut diags = Diagnostics::new();
    for ((q, region, scope), v) in &tally {
        let (quota, source) = overrides.get(q);
        let now = key_of(&t, scope)
            .and_then(|k| existing.get(&(*q, region.clone(), k)).copied())
            .unwrap_or(0);
        let after = (now + v.creates).saturating_sub(v.deletes);
        if after <= quota {
            continue;
        }
        let what = q.objects;
        let place = match (scope, q.per) {
            (Scope::Value(v), Per::Value { place, .. }) => format!("{place} {v} ({region})"),
            (Scope::Target(n), Per::Target { place, .. }) => format!("{place} {n} ({region})"),
            _ => format!("region {region}"),
        };
        let deleted = if v.deletes > 0 {
            format!(" and deletes {}", v.deletes)
        } else {
            String::new()
        };
        let mut d = Diagnostic::error(format!("Quota exceeded: {what} in {place}"))
            .with_detail(format!(
                "{place} has {now} {what}; the plan creates {}{deleted}, which makes {after}, over the quota of {quota} ({} = {quota}: {source}); the API would refuse the creates beyond it (LimitExceeded) half-way through the apply",
                v.creates, q.name
            ))
            .with_help(format!(
                "create fewer {what} (or delete unused ones), or, if Tencent Cloud raised this account's quota, give it: --quota {name}=N (or TUNNELFORM_QUOTA={name}=N)",
                name = q.name
            ));
        if let Some(i) = v.first.and_then(|a| t.instances.get(a)) {
            d.span = Some(i.span.clone());
        }
        diags.push(d);
    }
    config.attach_source_lines(&mut diags);
    Ok(diags)
}

/// The scope key an existing object is counted under (a target by its id).
fn key_of(t: &Topology<'_>, s: &Scope) -> Option<String> {
    match s {
        Scope::Region => Some(String::new()),
        Scope::Value(v) => Some(v.clone()),
        // A target the plan creates has no id yet, nor any object counted against it.
        Scope::Target(Node::Id(id)) => Some(id.clone()),
        Scope::Target(Node::Addr(a)) => t.change(a).and_then(|c| c.id.clone()),
    }
}

/// The quotas of one kind asked in a region, each with its scope keys.
type QuotaKeys = Vec<(Quota, Vec<String>)>;

/// What exists is counted by each kind, for the quotas asked in a region, in as few reads as it
/// can (one paged describe, or a filtered one for a few scopes).
fn asks(t: &Topology<'_>, tally: &BTreeMap<(Quota, String, Scope), Tally<'_>>) -> CountAsks {
    let mut asked: BTreeMap<(&str, ResourceKind), QuotaKeys> = BTreeMap::new();
    for (q, region, scope) in tally.keys() {
        let Some(kind) = kind_of_quota(q) else {
            continue;
        };
        let per_kind = asked.entry((region.as_str(), kind)).or_default();
        let i = match per_kind.iter().position(|(x, _)| x == q) {
            Some(i) => i,
            None => {
                per_kind.push((*q, Vec::new()));
                per_kind.len() - 1
            }
        };
        if let (Some(k), false) = (key_of(t, scope), matches!(scope, Scope::Region)) {
            if !per_kind[i].1.contains(&k) {
                per_kind[i].1.push(k);
            }
        }
    }
    asked
        .into_iter()
        .map(|((region, kind), quotas)| (region.to_string(), kind, quotas))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_and_replace_the_defaults() {
        let o = QuotaOverrides::parse(&[
            "customer-gateways-per-region=60",
            " tunnels-per-vpn-gateway = 50 ",
        ])
        .unwrap();
        let quota = |name: &str| all_quotas().find(|q| q.name == name).unwrap();
        assert_eq!(
            o.get(quota("customer-gateways-per-region")),
            (60, "given with --quota / TUNNELFORM_QUOTA")
        );
        assert_eq!(o.get(quota("tunnels-per-vpn-gateway")).0, 50);
        assert_eq!(o.get(quota("vpn-gateways-per-vpc")).0, 10);
        assert!(o
            .get(quota("vpn-gateways-per-vpc"))
            .1
            .contains("documented default"));
        assert!(matches!(
            QuotaOverrides::parse(&["customer-gateways=60"]),
            Err(QuotaError::UnknownName { .. })
        ));
        assert!(matches!(
            QuotaOverrides::parse(&["customer-gateways-per-region"]),
            Err(QuotaError::Syntax(_))
        ));
        for bad in [
            "customer-gateways-per-region=0",
            "customer-gateways-per-region=-1",
        ] {
            assert!(matches!(
                QuotaOverrides::parse(&[bad]),
                Err(QuotaError::Value(_))
            ));
        }
    }
}
