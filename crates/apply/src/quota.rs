//! Quotas, checked by the plan: a plan that would take the account over a quota fails before the
//! first write, with one error per quota and scope, instead of a run of `LimitExceeded` errors
//! half-way through an apply.
//!
//! The API has no action that tells these quotas (the VPN actions document none), so the limits
//! are the documented defaults of the VPN product's limits page, which an account whose quota
//! Tencent Cloud raised replaces with `--quota NAME=N` (or `TUNNELFORM_QUOTA`). What exists is
//! read with one paged Describe per region and kind (never one call per object), and only for
//! the quotas the plan adds objects to.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use tunnelform_config::{Config, Instance};
use tunnelform_kinds::ResourceKind;
use tunnelform_model::{Address, Diagnostic, Diagnostics, Value};
use tunnelform_plan::{Action, ObjectKind, Plan, ResourceChange};
use tunnelform_tencent_api::vpc::Filter;
use tunnelform_tencent_api::{ApiError, Client};

use crate::planner::{PlanError, PlanMode, PlanOptions};
use crate::rules::{Node, Topology};

/// A quota tunnelform checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QuotaName {
    /// VPN gateways per VPC (10).
    VpnGatewaysPerVpc,
    /// Customer gateways per region (20).
    CustomerGatewaysPerRegion,
    /// Tunnels per customer gateway (10).
    TunnelsPerCustomerGateway,
    /// Tunnels per VPN gateway (20).
    TunnelsPerVpnGateway,
}

impl QuotaName {
    pub const ALL: [QuotaName; 4] = [
        QuotaName::VpnGatewaysPerVpc,
        QuotaName::CustomerGatewaysPerRegion,
        QuotaName::TunnelsPerCustomerGateway,
        QuotaName::TunnelsPerVpnGateway,
    ];

    /// The name `--quota NAME=N` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaName::VpnGatewaysPerVpc => "vpn-gateways-per-vpc",
            QuotaName::CustomerGatewaysPerRegion => "customer-gateways-per-region",
            QuotaName::TunnelsPerCustomerGateway => "tunnels-per-customer-gateway",
            QuotaName::TunnelsPerVpnGateway => "tunnels-per-vpn-gateway",
        }
    }

    /// The default of Tencent Cloud's VPN limits page.
    pub fn documented_default(self) -> u64 {
        match self {
            QuotaName::VpnGatewaysPerVpc => 10,
            QuotaName::CustomerGatewaysPerRegion => 20,
            QuotaName::TunnelsPerCustomerGateway => 10,
            QuotaName::TunnelsPerVpnGateway => 20,
        }
    }

    fn objects(self) -> &'static str {
        match self {
            QuotaName::VpnGatewaysPerVpc => "VPN gateways",
            QuotaName::CustomerGatewaysPerRegion => "customer gateways",
            QuotaName::TunnelsPerCustomerGateway | QuotaName::TunnelsPerVpnGateway => "tunnels",
        }
    }
}

impl fmt::Display for QuotaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    #[error("invalid quota {0:?}: expected NAME=N, e.g. customer-gateways-per-region=50")]
    Syntax(String),
    #[error("unknown quota {name:?}: use one of {}", QuotaName::ALL.map(|q| q.as_str()).join(", "))]
    UnknownName { name: String },
    #[error("invalid quota {0:?}: N must be a whole number from 1 to 1000000")]
    Value(String),
}

/// Quotas raised for this account (`--quota NAME=N`); the others are the documented defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaOverrides(BTreeMap<QuotaName, u64>);

impl QuotaOverrides {
    /// Parses `NAME=N` arguments (a later one wins).
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Self, QuotaError> {
        let mut out = BTreeMap::new();
        for a in args {
            let a = a.as_ref().trim();
            let (name, n) = a
                .split_once('=')
                .ok_or_else(|| QuotaError::Syntax(a.to_string()))?;
            let q = QuotaName::ALL
                .into_iter()
                .find(|q| q.as_str() == name.trim())
                .ok_or_else(|| QuotaError::UnknownName {
                    name: name.trim().to_string(),
                })?;
            let n: u64 = n
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| QuotaError::Value(a.to_string()))?;
            out.insert(q, n);
        }
        Ok(QuotaOverrides(out))
    }

    /// The quota and where it comes from.
    pub fn get(&self, q: QuotaName) -> (u64, &'static str) {
        match self.0.get(&q) {
            Some(n) => (*n, "given with --quota / TUNNELFORM_QUOTA"),
            None => (
                q.documented_default(),
                "Tencent Cloud's documented default; the API does not tell an account's quota",
            ),
        }
    }
}

/// What a quota counts in: a region, a VPC, or one gateway.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Scope {
    Region,
    Vpc(String),
    Gateway(Node),
}

#[derive(Debug, Default)]
struct Tally<'a> {
    creates: u64,
    deletes: u64,
    /// The first object the plan creates in this scope (where the error points).
    first: Option<&'a Address>,
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
    Some(
        t.changes
            .iter()
            .find(|o| o.id.as_deref() == Some(id.as_str()))
            .map(|o| Node::Addr(o.address.clone()))
            .unwrap_or(Node::Id(id)),
    )
}

/// The quota check of a plan ([`check`]), for a normal plan made with a connection to the cloud.
pub(crate) async fn check_plan(
    client: Option<&Client>,
    config: &Config,
    instances: &BTreeMap<Address, Instance>,
    plan: &Plan,
    opts: &PlanOptions,
) -> Result<(), PlanError> {
    let Some(client) = client.filter(|_| opts.mode == PlanMode::Normal) else {
        return Ok(());
    };
    let diags = check(
        client,
        config,
        instances.values(),
        &plan.changes,
        &opts.quotas,
    )
    .await?;
    if diags.has_errors() {
        return Err(PlanError::Config(diags));
    }
    Ok(())
}

/// Fails with one error per (quota, region, scope) that the plan takes over its quota: what
/// exists (read from the cloud), what the plan creates and deletes, the quota and its source,
/// and how to proceed.
pub(crate) async fn check<'a>(
    client: &Client,
    config: &Config,
    instances: impl IntoIterator<Item = &'a Instance>,
    changes: &'a [ResourceChange],
    overrides: &QuotaOverrides,
) -> Result<Diagnostics, ApiError> {
    let t = Topology::new(instances, changes);
    let mut tally: BTreeMap<(QuotaName, String, Scope), Tally<'_>> = BTreeMap::new();
    for c in changes {
        let Some(kind) = kind_of(c) else { continue };
        let creates = matches!(c.action, Action::Create | Action::Replace { .. }) && !c.deposed;
        let deletes = c.id.is_some()
            && (matches!(c.action, Action::Delete | Action::Replace { .. }) || c.deposed);
        let mut add: Vec<(QuotaName, Scope)> = Vec::new();
        let mut sub: Vec<(QuotaName, Scope)> = Vec::new();
        match kind {
            ResourceKind::CustomerGateway => {
                add.push((QuotaName::CustomerGatewaysPerRegion, Scope::Region));
                sub.push((QuotaName::CustomerGatewaysPerRegion, Scope::Region));
            }
            ResourceKind::VpnGateway => {
                if creates {
                    if let Some(Value::String(vpc)) = t.value(c, "vpc_id") {
                        add.push((QuotaName::VpnGatewaysPerVpc, Scope::Vpc(vpc)));
                    }
                }
                if let Some(vpc) = before_str(c, "vpc_id") {
                    sub.push((QuotaName::VpnGatewaysPerVpc, Scope::Vpc(vpc)));
                }
            }
            ResourceKind::VpnConnection => {
                for (q, attr, k) in [
                    (
                        QuotaName::TunnelsPerVpnGateway,
                        "vpn_gateway_id",
                        ResourceKind::VpnGateway,
                    ),
                    (
                        QuotaName::TunnelsPerCustomerGateway,
                        "customer_gateway_id",
                        ResourceKind::CustomerGateway,
                    ),
                ] {
                    if creates {
                        if let Some(n) = t.target(c, attr, k) {
                            add.push((q, Scope::Gateway(n)));
                        }
                    }
                    if let Some(n) = before_node(&t, c, attr) {
                        sub.push((q, Scope::Gateway(n)));
                    }
                }
            }
            // Route quotas (per table, per gateway) are not counted before the apply: the API
            // answers LimitExceeded for them.
            ResourceKind::VpnGatewayRoute
            | ResourceKind::RouteTable
            | ResourceKind::RouteTableEntry => {}
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

    // What exists: one paged Describe per region and kind the plan adds to.
    let mut existing: HashMap<(QuotaName, String, Scope), u64> = HashMap::new();
    let mut regions: BTreeMap<&str, Vec<QuotaName>> = BTreeMap::new();
    for (q, region, _) in tally.keys() {
        let qs = regions.entry(region.as_str()).or_default();
        if !qs.contains(q) {
            qs.push(*q);
        }
    }
    let id_of = |n: &Node| match n {
        Node::Id(id) => Some(id.clone()),
        Node::Addr(a) => t.change(a).and_then(|c| c.id.clone()),
    };
    for (region, qs) in regions {
        let key = |q: QuotaName, s: Scope| (q, region.to_string(), s);
        if qs.contains(&QuotaName::CustomerGatewaysPerRegion) {
            let all = client
                .describe_customer_gateways_by_filters(region, &[])
                .await?;
            existing.insert(
                key(QuotaName::CustomerGatewaysPerRegion, Scope::Region),
                all.len() as u64,
            );
        }
        if qs.contains(&QuotaName::VpnGatewaysPerVpc) {
            let vpcs: Vec<String> = tally
                .keys()
                .filter_map(|(q, r, s)| match s {
                    Scope::Vpc(v) if *q == QuotaName::VpnGatewaysPerVpc && r == region => {
                        Some(v.clone())
                    }
                    _ => None,
                })
                .collect();
            let filter = Filter {
                name: "vpc-id".into(),
                values: vpcs,
            };
            for g in client
                .describe_vpn_gateways_by_filters(region, &[filter])
                .await?
            {
                *existing
                    .entry(key(QuotaName::VpnGatewaysPerVpc, Scope::Vpc(g.vpc_id)))
                    .or_default() += 1;
            }
        }
        if qs.contains(&QuotaName::TunnelsPerVpnGateway)
            || qs.contains(&QuotaName::TunnelsPerCustomerGateway)
        {
            // The existing gateways whose tunnels count: new ones have none.
            let mut gw_ids: Vec<String> = Vec::new();
            let mut cgw_ids: Vec<String> = Vec::new();
            for (q, r, s) in tally.keys() {
                let (Scope::Gateway(n), true) = (s, r == region) else {
                    continue;
                };
                match (q, id_of(n)) {
                    (QuotaName::TunnelsPerVpnGateway, Some(id)) => gw_ids.push(id),
                    (QuotaName::TunnelsPerCustomerGateway, Some(id)) => cgw_ids.push(id),
                    _ => {}
                }
            }
            // A few gateways (a change that adds a site): only their tunnels are read, one
            // filtered query for each kind; many: every tunnel of the region, once.
            let tunnels = if gw_ids.len() <= 5 && cgw_ids.len() <= 5 {
                let mut found = Vec::new();
                for (name, ids) in [("vpn-gateway-id", gw_ids), ("customer-gateway-id", cgw_ids)] {
                    if ids.is_empty() {
                        continue;
                    }
                    let filter = Filter {
                        name: name.into(),
                        values: ids,
                    };
                    found.extend(
                        client
                            .describe_vpn_connections_by_filters(region, &[filter])
                            .await?,
                    );
                }
                // A tunnel found by both queries is counted once for each kind below.
                let mut seen = std::collections::HashSet::new();
                found.retain(|c| seen.insert(c.vpn_connection_id.clone()));
                found
            } else {
                client
                    .describe_vpn_connections_by_filters(region, &[])
                    .await?
            };
            let mut by_gw: HashMap<String, u64> = HashMap::new();
            let mut by_cgw: HashMap<String, u64> = HashMap::new();
            for c in tunnels {
                *by_gw.entry(c.vpn_gateway_id).or_default() += 1;
                *by_cgw.entry(c.customer_gateway_id).or_default() += 1;
            }
            for (q, r, s) in tally.keys() {
                let (Scope::Gateway(n), true) = (s, r == region) else {
                    continue;
                };
                let counts = match q {
                    QuotaName::TunnelsPerVpnGateway => &by_gw,
                    QuotaName::TunnelsPerCustomerGateway => &by_cgw,
                    _ => continue,
                };
                let n_existing = id_of(n).and_then(|id| counts.get(&id).copied());
                existing.insert((*q, r.clone(), s.clone()), n_existing.unwrap_or(0));
            }
        }
    }

    let mut diags = Diagnostics::new();
    for ((q, region, scope), v) in &tally {
        let (quota, source) = overrides.get(*q);
        let now = existing
            .get(&(*q, region.clone(), scope.clone()))
            .copied()
            .unwrap_or(0);
        let after = (now + v.creates).saturating_sub(v.deletes);
        if after <= quota {
            continue;
        }
        let what = q.objects();
        let place = match scope {
            Scope::Region => format!("region {region}"),
            Scope::Vpc(vpc) => format!("VPC {vpc} ({region})"),
            Scope::Gateway(n) => format!(
                "{} {n} ({region})",
                if *q == QuotaName::TunnelsPerVpnGateway {
                    "VPN gateway"
                } else {
                    "customer gateway"
                }
            ),
        };
        let deleted = if v.deletes > 0 {
            format!(" and deletes {}", v.deletes)
        } else {
            String::new()
        };
        let mut d = Diagnostic::error(format!("Quota exceeded: {what} in {place}"))
            .with_detail(format!(
                "{place} has {now} {what}; the plan creates {}{deleted}, which makes {after}, over the quota of {quota} ({} = {quota}: {source}); the API would refuse the creates beyond it (LimitExceeded) half-way through the apply",
                v.creates, q
            ))
            .with_help(format!(
                "create fewer {what} (or delete unused ones), or, if Tencent Cloud raised this account's quota, give it: --quota {q}=N (or TUNNELFORM_QUOTA={q}=N)"
            ));
        if let Some(i) = v.first.and_then(|a| t.instances.get(a)) {
            d.span = Some(i.span.clone());
        }
        diags.push(d);
    }
    config.attach_source_lines(&mut diags);
    Ok(diags)
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
        assert_eq!(
            o.get(QuotaName::CustomerGatewaysPerRegion),
            (60, "given with --quota / TUNNELFORM_QUOTA")
        );
        assert_eq!(o.get(QuotaName::TunnelsPerVpnGateway).0, 50);
        assert_eq!(o.get(QuotaName::VpnGatewaysPerVpc).0, 10);
        assert!(o
            .get(QuotaName::VpnGatewaysPerVpc)
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
