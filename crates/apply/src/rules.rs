//! API rules across objects that only the plan can check: they need the planned values of other
//! objects (a tunnel's customer gateway is often created in the same plan, or exists and has an ASN
//! the configuration does not set). Each rule is one the API enforces when the apply reaches the
//! call; checked here, a plan that would fail half-way is refused before the first write.
//!
//! BGP rules (CreateVpnConnection / ModifyCustomerGateway / ModifyVpnGatewayAttribute):
//! - a BGP tunnel's customer gateway has a BGP ASN (`VpnUnsupportedUsrGwNotExistBgpAsn`);
//! - the customer gateway's ASN differs from the VPN gateway's (`VpnUnsupportedBgpAsnEqual`);
//! - two BGP tunnels on one VPN gateway whose customer gateways differ have different peer ASNs
//!   (`VpnUnsupportedBgpAsnEqual`);
//! - the ASN of a customer gateway or VPN gateway with BGP tunnels is not changed in place
//!   (`VpnUnsupportedModifyBgpAsn`).
//!
//! Health-check addresses: a tunnel's two differ, and two tunnels of one VPN gateway never share
//! one (`VpnConnHealthCheckIpConflict`).
//!
//! Against the tunnel's VPC (its CIDR read once per region, see [`vpc_cidrs`]): no SPD remote block
//! overlaps the VPC (`VpcCidrConflict`), and no health-check address lies inside it
//! (`VpnConnHealthCheckIpConflict`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ipnet::Ipv4Net;
use tunnelform_kinds::ResourceKind;
use tunnelform_tencent_api::actions::DescribeVpcs;
use tunnelform_tencent_api::vpc::DescribeVpcsRequest;
use tunnelform_tencent_api::{ApiError, Client};

use tunnelform_config::{Config, Instance};
use tunnelform_model::{Address, Diagnostic, Diagnostics, Span, Value};
use tunnelform_plan::{Action, ObjectKind, ResourceChange};

/// The BGP ASN of a VPN gateway created without one (the API's documented default).
pub const DEFAULT_VPN_GATEWAY_ASN: i64 = 64551;

/// An object a reference points at: a planned object of the configuration (by address), or an
/// object the configuration does not manage (by id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Node {
    Addr(Address),
    Id(String),
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::Addr(a) => write!(f, "{a}"),
            Node::Id(id) => write!(f, "{id}"),
        }
    }
}

/// The planned objects of a plan (deletes left out), with their configuration instances, and how
/// tunnels refer to gateways.
pub(crate) struct Topology<'a> {
    pub changes: Vec<&'a ResourceChange>,
    pub instances: HashMap<&'a Address, &'a Instance>,
    by_id: HashMap<&'a str, &'a Address>,
}

impl<'a> Topology<'a> {
    pub fn new(
        instances: impl IntoIterator<Item = &'a Instance>,
        changes: &'a [ResourceChange],
    ) -> Self {
        let changes: Vec<&ResourceChange> = changes
            .iter()
            .filter(|c| c.after.is_some() && c.action != Action::Delete && !c.deposed)
            .collect();
        let mut by_id = HashMap::new();
        for c in &changes {
            if let Some(id) = c.id.as_deref() {
                by_id.insert(id, &c.address);
            }
        }
        Topology {
            changes,
            instances: instances.into_iter().map(|i| (&i.address, i)).collect(),
            by_id,
        }
    }

    pub fn change(&self, addr: &Address) -> Option<&'a ResourceChange> {
        self.changes.iter().find(|c| &c.address == addr).copied()
    }

    /// The planned value of `attr` (the configuration's when set there).
    pub fn value(&self, c: &ResourceChange, attr: &str) -> Option<Value> {
        let v = self
            .instances
            .get(&c.address)
            .and_then(|i| i.attrs.get(attr))
            .filter(|v| !v.is_unknown())
            .or_else(|| c.after.as_ref().and_then(|a| a.get(attr)))?;
        Some(v.unmarked().clone())
    }

    /// What the reference `attr` of `c` points at, an object of `kind`: by its planned id, or
    /// (when the id is known only after apply) the one planned object of `kind` that `c`'s
    /// configuration depends on.
    pub fn target(&self, c: &ResourceChange, attr: &str, kind: ResourceKind) -> Option<Node> {
        if let Some(Value::String(id)) = self.value(c, attr) {
            return Some(match self.by_id.get(id.as_str()) {
                Some(a) => Node::Addr((*a).clone()),
                None => Node::Id(id),
            });
        }
        let inst = self.instances.get(&c.address)?;
        let mut found: Vec<&Address> = Vec::new();
        for dep in inst
            .depends_on
            .iter()
            .filter(|d| d.type_name == kind.type_name())
        {
            for o in &self.changes {
                if dep.contains(&o.address) && !found.contains(&&o.address) {
                    found.push(&o.address);
                }
            }
        }
        match found.as_slice() {
            [one] => Some(Node::Addr((*one).clone())),
            _ => None,
        }
    }

    /// Where to point at an argument of a planned object (its value, else its block).
    pub fn span(&self, addr: &Address, attr: &str) -> Option<Span> {
        let i = self.instances.get(addr)?;
        Some(i.attr_spans.get(attr).unwrap_or(&i.span).clone())
    }
}

fn kind_of(c: &ResourceChange) -> Option<ResourceKind> {
    match c.kind {
        ObjectKind::Managed(k) => Some(k),
        ObjectKind::Data(_) => None,
    }
}

/// A gateway's BGP ASN as it will be when the tunnel is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asn {
    Is(i64),
    /// The customer gateway will have none.
    None,
    /// Not known before apply (or the object is not one of the configuration's).
    Unknown,
}

fn asn_of(t: &Topology<'_>, node: &Node, kind: ResourceKind) -> Asn {
    let Node::Addr(addr) = node else {
        return Asn::Unknown;
    };
    let Some(c) = t.change(addr) else {
        return Asn::Unknown;
    };
    match t.value(c, "bgp_asn") {
        Some(v) if v.as_i64().is_some() => match v.as_i64() {
            // The API shows a customer gateway without an ASN as 0.
            Some(0) if kind == ResourceKind::CustomerGateway => Asn::None,
            Some(n) => Asn::Is(n),
            None => Asn::Unknown,
        },
        // Created without one: the VPN gateway gets the default, the customer gateway none.
        Some(Value::Null | Value::Unknown) | None
            if c.id.is_none() && !configured(t, c, "bgp_asn") =>
        {
            match kind {
                ResourceKind::VpnGateway => Asn::Is(DEFAULT_VPN_GATEWAY_ASN),
                _ => Asn::None,
            }
        }
        _ => Asn::Unknown,
    }
}

fn configured(t: &Topology<'_>, c: &ResourceChange, attr: &str) -> bool {
    t.instances
        .get(&c.address)
        .is_some_and(|i| i.attrs.contains_key(attr))
}

fn is_bgp(t: &Topology<'_>, c: &ResourceChange) -> bool {
    matches!(t.value(c, "route_type"), Some(Value::String(s)) if s == "Bgp")
        || t.value(c, "bgp_config")
            .is_some_and(|v| !v.is_null() && !v.is_unknown())
}

/// Checks the BGP rules above on a plan's changes (deletes excluded), with the instances of the
/// configuration for spans and references. Source lines come from `config`.
pub fn check(config: &Config, instances: &[Instance], changes: &[ResourceChange]) -> Diagnostics {
    let t = Topology::new(instances, changes);
    let mut diags = Diagnostics::new();
    // VPN gateway -> peer ASN -> (first tunnel, its customer gateway).
    let mut peers: BTreeMap<Node, BTreeMap<i64, (&Address, Node)>> = BTreeMap::new();
    // Gateways (of either kind) with BGP tunnels that exist and stay.
    let mut with_bgp: BTreeMap<Node, &Address> = BTreeMap::new();
    for c in &t.changes {
        if kind_of(c) != Some(ResourceKind::VpnConnection) || !is_bgp(&t, c) {
            continue;
        }
        let gw = t.target(c, "vpn_gateway_id", ResourceKind::VpnGateway);
        let cgw = t.target(c, "customer_gateway_id", ResourceKind::CustomerGateway);
        if c.id.is_some() && matches!(c.action, Action::NoOp | Action::Update) {
            for n in gw.iter().chain(cgw.iter()) {
                with_bgp.entry(n.clone()).or_insert(&c.address);
            }
        }
        let Some(cgw) = cgw else { continue };
        let span = t.span(&c.address, "customer_gateway_id");
        let cgw_asn = asn_of(&t, &cgw, ResourceKind::CustomerGateway);
        if cgw_asn == Asn::None {
            diags.push(
                Diagnostic::error("BGP tunnel to a customer gateway without a BGP ASN")
                    .with_span_opt(span.clone())
                    .with_detail(format!(
                        "{} uses BGP, but its customer gateway {cgw} has no bgp_asn (the API refuses the tunnel: VpnUnsupportedUsrGwNotExistBgpAsn)",
                        c.address
                    ))
                    .with_help(format!("set bgp_asn on {cgw} (the ASN of the on-premises BGP router), or use route_type = \"StaticRoute\"")),
            );
            continue;
        }
        let Asn::Is(asn) = cgw_asn else { continue };
        let Some(gw) = gw else { continue };
        if let Asn::Is(gw_asn) = asn_of(&t, &gw, ResourceKind::VpnGateway) {
            if gw_asn == asn {
                let gw_default = matches!(&gw, Node::Addr(a)
                    if t.change(a).is_some_and(|g| !configured(&t, g, "bgp_asn")));
                diags.push(
                    Diagnostic::error("Customer gateway and VPN gateway have the same BGP ASN")
                        .with_span_opt(span.clone())
                        .with_detail(format!(
                            "{} connects customer gateway {cgw} (bgp_asn {asn}) to VPN gateway {gw}, whose BGP ASN is also {asn}{} (the API refuses the tunnel: VpnUnsupportedBgpAsnEqual)",
                            c.address,
                            if gw_default { " (the default)" } else { "" }
                        ))
                        .with_help(format!("give {cgw} the ASN of the on-premises router, different from the VPN gateway's")),
                );
                continue;
            }
        }
        let on_gw = peers.entry(gw.clone()).or_default();
        match on_gw.get(&asn) {
            Some((first, first_cgw)) if *first_cgw != cgw => {
                let where_first = t
                    .span(first, "customer_gateway_id")
                    .map(|s| format!(" (at {s})"))
                    .unwrap_or_default();
                diags.push(
                    Diagnostic::error("Two BGP tunnels of one VPN gateway have peers with the same ASN")
                        .with_span_opt(span)
                        .with_detail(format!(
                            "{first}{where_first} and {} are BGP tunnels of VPN gateway {gw}, and their customer gateways {first_cgw} and {cgw} both have bgp_asn {asn}; the API refuses the second tunnel created (VpnUnsupportedBgpAsnEqual), so each apply would leave one of them missing",
                            c.address
                        ))
                        .with_help("give each site's customer gateway its own ASN (private ASNs 64512-65534 or 4200000000-4294967294), or put the two sites on different VPN gateways"),
                );
            }
            Some(_) => {}
            None => {
                on_gw.insert(asn, (&c.address, cgw));
            }
        }
    }

    // An ASN changed in place on a gateway that keeps BGP tunnels.
    for c in &t.changes {
        let kind = kind_of(c);
        if c.action != Action::Update
            || !matches!(
                kind,
                Some(ResourceKind::CustomerGateway | ResourceKind::VpnGateway)
            )
        {
            continue;
        }
        let before = c
            .before
            .as_ref()
            .and_then(|b| b.get("bgp_asn"))
            .and_then(|v| v.unmarked().as_i64());
        let after = t.value(c, "bgp_asn").and_then(|v| v.as_i64());
        let (Some(before), Some(after)) = (before, after) else {
            continue;
        };
        if before == after {
            continue;
        }
        if let Some(tunnel) = with_bgp.get(&Node::Addr(c.address.clone())) {
            diags.push(
                Diagnostic::error("BGP ASN of a gateway with BGP tunnels cannot change")
                    .with_span_opt(t.span(&c.address, "bgp_asn"))
                    .with_detail(format!(
                        "the plan changes the bgp_asn of {} from {before} to {after}, but {tunnel} is a BGP tunnel on it (the API refuses the change: VpnUnsupportedModifyBgpAsn)",
                        c.address
                    ))
                    .with_help(format!("keep bgp_asn = {before}, or replace the BGP tunnels too (for example with -replace / by changing their route_type)")),
            );
        }
    }
    health_check_addresses(&t, &mut diags);
    config.attach_source_lines(&mut diags);
    diags
}

/// Health-check addresses (CreateVpnConnection / ModifyVpnConnectionAttribute refuse both with
/// `VpnConnHealthCheckIpConflict`): a tunnel's local and remote addresses differ, and no address is
/// used by two tunnels of one VPN gateway. Addresses the API picks (none configured) are left out.
fn health_check_addresses(t: &Topology<'_>, diags: &mut Diagnostics) {
    // VPN gateway -> address -> the first tunnel using it.
    let mut used: BTreeMap<Node, BTreeMap<String, &Address>> = BTreeMap::new();
    for c in &t.changes {
        if kind_of(c) != Some(ResourceKind::VpnConnection) {
            continue;
        }
        let ip = |attr: &str| match t.value(c, attr) {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        let (local, remote) = (ip("health_check_local_ip"), ip("health_check_remote_ip"));
        if let (Some(l), Some(r)) = (&local, &remote) {
            if l == r {
                diags.push(
                    Diagnostic::error("Health-check addresses must differ")
                        .with_span_opt(t.span(&c.address, "health_check_remote_ip"))
                        .with_detail(format!(
                            "{} uses {l} as both its local and its remote health-check address (the API refuses it: VpnConnHealthCheckIpConflict)",
                            c.address
                        ))
                        .with_help("give the two ends different addresses (by default the API picks free ones in 169.254.128.0/17)"),
                );
                continue;
            }
        }
        let Some(gw) = t.target(c, "vpn_gateway_id", ResourceKind::VpnGateway) else {
            continue;
        };
        let on_gw = used.entry(gw.clone()).or_default();
        for (attr, addr) in [
            ("health_check_local_ip", local),
            ("health_check_remote_ip", remote),
        ] {
            let Some(addr) = addr else { continue };
            match on_gw.get(&addr) {
                Some(first) if *first != &c.address => {
                    diags.push(
                        Diagnostic::error("Two tunnels of one VPN gateway use the same health-check address")
                            .with_span_opt(t.span(&c.address, attr))
                            .with_detail(format!(
                                "{first} and {} are tunnels of VPN gateway {gw} and both use the health-check address {addr}; the API refuses the second one created (VpnConnHealthCheckIpConflict)",
                                c.address
                            ))
                            .with_help("give every tunnel of a gateway its own health-check addresses, or leave them out and let the API pick free ones"),
                    );
                }
                Some(_) => {}
                None => {
                    on_gw.insert(addr, &c.address);
                }
            }
        }
    }
}

/// `with_span` for a span that may be missing (an object without configuration).
trait WithSpanOpt {
    fn with_span_opt(self, span: Option<Span>) -> Self;
}

impl WithSpanOpt for Diagnostic {
    fn with_span_opt(mut self, span: Option<Span>) -> Self {
        if span.is_some() {
            self.span = span;
        }
        self
    }
}

/// The VPCs of the tunnels a plan creates or changes, by region.
pub fn tunnel_vpcs(changes: &[ResourceChange]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in changes {
        if kind_of(c) != Some(ResourceKind::VpnConnection)
            || !matches!(
                c.action,
                Action::Create | Action::Update | Action::Replace { .. }
            )
        {
            continue;
        }
        if let Some(Value::String(vpc)) = c.after.as_ref().and_then(|a| a.get("vpc_id")) {
            out.entry(c.region.clone()).or_default().insert(vpc.clone());
        }
    }
    out
}

/// The CIDR blocks of `vpcs` (region -> ids): one DescribeVpcs per region (100 ids per call).
pub async fn vpc_cidrs(
    client: &Client,
    vpcs: &BTreeMap<String, BTreeSet<String>>,
) -> Result<HashMap<String, Ipv4Net>, ApiError> {
    let mut out = HashMap::new();
    for (region, ids) in vpcs {
        let ids: Vec<String> = ids.iter().cloned().collect();
        for chunk in ids.chunks(100) {
            let req = DescribeVpcsRequest {
                vpc_ids: Some(chunk.to_vec()),
                limit: Some("100".to_string()),
                ..Default::default()
            };
            for vpc in client.call::<DescribeVpcs>(region, &req).await?.vpc_set {
                if let Ok(net) = vpc.cidr_block.parse::<Ipv4Net>() {
                    out.insert(vpc.vpc_id, net);
                }
            }
        }
    }
    Ok(out)
}

/// The rules that need the tunnel's VPC CIDR (`cidrs`, by VPC id), on the tunnels the plan
/// creates or changes.
pub fn check_vpc(
    config: &Config,
    instances: &[Instance],
    changes: &[ResourceChange],
    cidrs: &HashMap<String, Ipv4Net>,
) -> Diagnostics {
    let t = Topology::new(instances, changes);
    let mut diags = Diagnostics::new();
    for c in &t.changes {
        if kind_of(c) != Some(ResourceKind::VpnConnection)
            || !matches!(
                c.action,
                Action::Create | Action::Update | Action::Replace { .. }
            )
        {
            continue;
        }
        let Some(Value::String(vpc_id)) = t.value(c, "vpc_id") else {
            continue;
        };
        let Some(vpc) = cidrs.get(&vpc_id) else {
            continue;
        };
        for attr in ["health_check_local_ip", "health_check_remote_ip"] {
            let Some(ip) = t.value(c, attr).and_then(|v| {
                v.as_str()
                    .and_then(|s| s.parse::<std::net::Ipv4Addr>().ok())
            }) else {
                continue;
            };
            if vpc.contains(&ip) {
                diags.push(
                    Diagnostic::error("Health-check address inside the VPC")
                        .with_span_opt(t.span(&c.address, attr))
                        .with_detail(format!(
                            "{attr} of {} is {ip}, inside {vpc_id}'s CIDR {vpc} (the API refuses it: VpnConnHealthCheckIpConflict)",
                            c.address
                        ))
                        .with_help("use an address outside the VPC (by default the API picks one in 169.254.128.0/17)"),
                );
            }
        }
        let spds = t
            .value(c, "security_group_policy")
            .and_then(|v| v.as_list().map(<[Value]>::to_vec))
            .unwrap_or_default();
        for (i, spd) in spds.iter().enumerate() {
            let remotes = spd
                .unmarked()
                .get("remote_cidr_block")
                .and_then(|v| v.unmarked().as_list().map(<[Value]>::to_vec))
                .unwrap_or_default();
            for r in remotes {
                let Some(net) = r
                    .unmarked()
                    .as_str()
                    .and_then(|s| s.parse::<Ipv4Net>().ok())
                else {
                    continue;
                };
                if net.prefix_len() == 0 {
                    continue;
                }
                if net.contains(&vpc.network()) || vpc.contains(&net.network()) {
                    diags.push(
                        Diagnostic::error("SPD remote block overlaps the VPC")
                            .with_span_opt(
                                t.span(&c.address, &format!("security_group_policy.{i}.remote_cidr_block"))
                                    .or_else(|| t.span(&c.address, "security_group_policy")),
                            )
                            .with_detail(format!(
                                "{}: remote_cidr_block {net} overlaps {vpc_id}'s CIDR {vpc}; the remote side of a tunnel is the on-premises network (the API refuses it: VpcCidrConflict)",
                                c.address
                            ))
                            .with_help("list the on-premises ranges in remote_cidr_block, and the VPC's ranges in local_cidr_block"),
                    );
                }
            }
        }
    }
    config.attach_source_lines(&mut diags);
    diags
}
