//! API rules across a plan's objects that only the plan can check: they need the planned values
//! of other objects (a tunnel's customer gateway is often created in the same plan, or exists and
//! has an ASN the configuration does not set). Each rule is one the API enforces when the apply
//! reaches the call; checked here, a plan that would fail half-way is refused before the first
//! write.
//!
//! BGP rules (CreateVpnConnection / ModifyCustomerGateway / ModifyVpnGatewayAttribute):
//! - a BGP tunnel's customer gateway has a BGP ASN (the API refuses it: `UnsupportedOperation` on
//!   create, `UnsupportedOperation.VpnUnsupportedUsrGwNotExistBgpAsn` on a move in place);
//! - the customer gateway's ASN differs from the VPN gateway's (`VpnUnsupportedBgpAsnEqual`);
//! - two BGP tunnels on one VPN gateway whose customer gateways differ have different peer ASNs
//!   (`VpnUnsupportedBgpAsnEqual`);
//! - the ASN of a customer gateway or VPN gateway with BGP tunnels is not changed in place
//!   (`VpnUnsupportedModifyBgpAsn`).
//!
//! Health-check addresses: a tunnel's two differ, and two tunnels of one VPN gateway never share
//! one (`VpnConnHealthCheckIpConflict`).
//!
//! Against the tunnel's VPC (its CIDR read by the engine, see [`vpcs`]): no SPD remote block and
//! no destination of the tunnel's own `route` overlaps the VPC (`VpcCidrConflict`), and no health-check address lies inside it
//! (`VpnConnHealthCheckIpConflict`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ipnet::Ipv4Net;
use tunnelform_model::{Diagnostic, Span, Value};

use crate::plan_view::{PlanView, Step, Target};
use crate::registry::ResourceKind;
use crate::vpn_gateway::DEFAULT_ASN;

/// A gateway's BGP ASN as it will be when the tunnel is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asn {
    Is(i64),
    /// The customer gateway will have none.
    None,
    /// Not known before apply (or the object is not one of the configuration's).
    Unknown,
}

fn asn_of(v: &dyn PlanView, target: &Target, kind: ResourceKind) -> Asn {
    let Target::Planned(i) = *target else {
        return Asn::Unknown;
    };
    match v.value(i, "bgp_asn") {
        Some(x) if x.as_i64().is_some() => match x.as_i64() {
            // The API shows a customer gateway without an ASN as 0.
            Some(0) if kind == ResourceKind::CustomerGateway => Asn::None,
            Some(n) => Asn::Is(n),
            None => Asn::Unknown,
        },
        // Created without one: the VPN gateway gets the default, the customer gateway none.
        Some(Value::Null | Value::Unknown) | None
            if v.id(i).is_none() && !v.configured(i, "bgp_asn") =>
        {
            match kind {
                ResourceKind::VpnGateway => Asn::Is(DEFAULT_ASN),
                _ => Asn::None,
            }
        }
        _ => Asn::Unknown,
    }
}

fn is_tunnel(v: &dyn PlanView, i: usize) -> bool {
    v.kind(i) == Some(ResourceKind::VpnConnection)
}

fn is_bgp(v: &dyn PlanView, i: usize) -> bool {
    matches!(v.value(i, "route_type"), Some(Value::String(s)) if s == "Bgp")
        || v.value(i, "bgp_config")
            .is_some_and(|x| !x.is_null() && !x.is_unknown())
}

/// A diagnostic placed at a span that may be missing (an object without configuration).
fn at(mut d: Diagnostic, span: Option<Span>) -> Diagnostic {
    if span.is_some() {
        d.span = span;
    }
    d
}

/// The BGP and health-check rules on a plan's objects.
pub fn check(v: &dyn PlanView) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    // VPN gateway -> peer ASN -> (first tunnel, its customer gateway).
    let mut peers: BTreeMap<Target, BTreeMap<i64, (usize, Target)>> = BTreeMap::new();
    // Gateways (of either kind) with BGP tunnels that exist and stay.
    let mut with_bgp: BTreeMap<Target, usize> = BTreeMap::new();
    for c in (0..v.len()).filter(|&i| is_tunnel(v, i) && is_bgp(v, i)) {
        let gw = v.target(c, "vpn_gateway_id", ResourceKind::VpnGateway);
        let cgw = v.target(c, "customer_gateway_id", ResourceKind::CustomerGateway);
        if v.id(c).is_some() && matches!(v.step(c), Step::Keep | Step::Update) {
            for n in gw.iter().chain(cgw.iter()) {
                with_bgp.entry(n.clone()).or_insert(c);
            }
        }
        let Some(cgw) = cgw else { continue };
        let span = v.span(c, "customer_gateway_id");
        let address = v.address(c);
        let cgw_name = v.show(&cgw);
        let cgw_asn = asn_of(v, &cgw, ResourceKind::CustomerGateway);
        if cgw_asn == Asn::None {
            // The code each action's page lists: CreateVpnConnection answers the plain
            // UnsupportedOperation, ModifyVpnConnectionAttribute (a tunnel moved in place to
            // this customer gateway) its own UnsupportedOperation.VpnUnsupportedUsrGwNotExistBgpAsn.
            let code = if v.step(c) == Step::Update {
                "UnsupportedOperation.VpnUnsupportedUsrGwNotExistBgpAsn from ModifyVpnConnectionAttribute"
            } else {
                "UnsupportedOperation"
            };
            diags.push(at(
                Diagnostic::error("BGP tunnel to a customer gateway without a BGP ASN")
                    .with_detail(format!(
                        "{address} uses BGP, but its customer gateway {cgw_name} has no bgp_asn (the API refuses the tunnel with {code}); set bgp_asn on the customer gateway"
                    ))
                    .with_help(format!("set bgp_asn on {cgw_name} (the ASN of the on-premises BGP router), or use route_type = \"StaticRoute\"")),
                span,
            ));
            continue;
        }
        let Asn::Is(asn) = cgw_asn else { continue };
        let Some(gw) = gw else { continue };
        let gw_name = v.show(&gw);
        if let Asn::Is(gw_asn) = asn_of(v, &gw, ResourceKind::VpnGateway) {
            if gw_asn == asn {
                let gw_default = matches!(gw, Target::Planned(g) if !v.configured(g, "bgp_asn"));
                diags.push(at(
                    Diagnostic::error("Customer gateway and VPN gateway have the same BGP ASN")
                        .with_detail(format!(
                            "{address} connects customer gateway {cgw_name} (bgp_asn {asn}) to VPN gateway {gw_name}, whose BGP ASN is also {asn}{} (the API refuses the tunnel: VpnUnsupportedBgpAsnEqual)",
                            if gw_default { " (the default)" } else { "" }
                        ))
                        .with_help(format!("give {cgw_name} the ASN of the on-premises router, different from the VPN gateway's")),
                    span,
                ));
                continue;
            }
        }
        let on_gw = peers.entry(gw).or_default();
        match on_gw.get(&asn) {
            Some((first, first_cgw)) if *first_cgw != cgw => {
                let where_first = v
                    .span(*first, "customer_gateway_id")
                    .map(|s| format!(" (at {s})"))
                    .unwrap_or_default();
                diags.push(at(
                    Diagnostic::error("Two BGP tunnels of one VPN gateway have peers with the same ASN")
                        .with_detail(format!(
                            "{}{where_first} and {address} are BGP tunnels of VPN gateway {gw_name}, and their customer gateways {} and {cgw_name} both have bgp_asn {asn}; the API refuses the second tunnel created (VpnUnsupportedBgpAsnEqual), so each apply would leave one of them missing",
                            v.address(*first),
                            v.show(first_cgw),
                        ))
                        .with_help("give each site's customer gateway its own ASN (private ASNs 64512-65534 or 4200000000-4294967294), or put the two sites on different VPN gateways"),
                    span,
                ));
            }
            Some(_) => {}
            None => {
                on_gw.insert(asn, (c, cgw));
            }
        }
    }

    // An ASN changed in place on a gateway that keeps BGP tunnels.
    for c in 0..v.len() {
        if v.step(c) != Step::Update
            || !matches!(
                v.kind(c),
                Some(ResourceKind::CustomerGateway | ResourceKind::VpnGateway)
            )
        {
            continue;
        }
        let before = v.before(c, "bgp_asn").and_then(|x| x.unmarked().as_i64());
        let after = v.value(c, "bgp_asn").and_then(|x| x.as_i64());
        let (Some(before), Some(after)) = (before, after) else {
            continue;
        };
        if before == after {
            continue;
        }
        if let Some(&tunnel) = with_bgp.get(&Target::Planned(c)) {
            diags.push(at(
                Diagnostic::error("BGP ASN of a gateway with BGP tunnels cannot change")
                    .with_detail(format!(
                        "the plan changes the bgp_asn of {} from {before} to {after}, but {} is a BGP tunnel on it (the API refuses the change: VpnUnsupportedModifyBgpAsn)",
                        v.address(c),
                        v.address(tunnel),
                    ))
                    .with_help(format!("keep bgp_asn = {before}, or replace the BGP tunnels too (for example with -replace / by changing their route_type)")),
                v.span(c, "bgp_asn"),
            ));
        }
    }
    health_check_addresses(v, &mut diags);
    diags
}

/// Health-check addresses (CreateVpnConnection / ModifyVpnConnectionAttribute refuse both with
/// `VpnConnHealthCheckIpConflict`): a tunnel's local and remote addresses differ, and no address is
/// used by two tunnels of one VPN gateway. Addresses the API picks (none configured) are left out.
fn health_check_addresses(v: &dyn PlanView, diags: &mut Vec<Diagnostic>) {
    // VPN gateway -> address -> the first tunnel using it.
    let mut used: BTreeMap<Target, BTreeMap<tunnelform_model::Str, usize>> = BTreeMap::new();
    for c in (0..v.len()).filter(|&i| is_tunnel(v, i)) {
        let ip = |attr: &str| match v.value(c, attr) {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        let (local, remote) = (ip("health_check_local_ip"), ip("health_check_remote_ip"));
        if let (Some(l), Some(r)) = (&local, &remote) {
            if l == r {
                diags.push(at(
                    Diagnostic::error("Health-check addresses must differ")
                        .with_detail(format!(
                            "{} uses {l} as both its local and its remote health-check address (the API refuses it: VpnConnHealthCheckIpConflict)",
                            v.address(c)
                        ))
                        .with_help("give the two ends different addresses (by default the API picks free ones in 169.254.128.0/17)"),
                    v.span(c, "health_check_remote_ip"),
                ));
                continue;
            }
        }
        let Some(gw) = v.target(c, "vpn_gateway_id", ResourceKind::VpnGateway) else {
            continue;
        };
        let gw_name = v.show(&gw);
        let on_gw = used.entry(gw).or_default();
        for (attr, addr) in [
            ("health_check_local_ip", local),
            ("health_check_remote_ip", remote),
        ] {
            let Some(addr) = addr else { continue };
            match on_gw.get(&addr) {
                Some(&first) if v.address(first) != v.address(c) => {
                    diags.push(at(
                        Diagnostic::error("Two tunnels of one VPN gateway use the same health-check address")
                            .with_detail(format!(
                                "{} and {} are tunnels of VPN gateway {gw_name} and both use the health-check address {addr}; the API refuses the second one created (VpnConnHealthCheckIpConflict)",
                                v.address(first),
                                v.address(c)
                            ))
                            .with_help("give every tunnel of a gateway its own health-check addresses, or leave them out and let the API pick free ones"),
                        v.span(c, attr),
                    ));
                }
                Some(_) => {}
                None => {
                    on_gw.insert(addr, c);
                }
            }
        }
    }
}

fn changes_tunnel(v: &dyn PlanView, i: usize) -> bool {
    is_tunnel(v, i) && matches!(v.step(i), Step::Create | Step::Update | Step::Replace)
}

/// The VPCs of the tunnels a plan creates or changes, by region: the engine reads their CIDR
/// blocks for [`check_vpcs`].
pub fn vpcs(v: &dyn PlanView) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in (0..v.len()).filter(|&i| changes_tunnel(v, i)) {
        if let Some(Value::String(vpc)) = v.after(c, "vpc_id") {
            out.entry(v.region(c).to_string())
                .or_default()
                .insert(vpc.to_string());
        }
    }
    out
}

/// The rules that need the tunnel's VPC CIDR (`cidrs`, by VPC id), on the tunnels the plan
/// creates or changes.
pub fn check_vpcs(v: &dyn PlanView, cidrs: &HashMap<String, Ipv4Net>) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for c in (0..v.len()).filter(|&i| changes_tunnel(v, i)) {
        let Some(Value::String(vpc_id)) = v.value(c, "vpc_id") else {
            continue;
        };
        let Some(vpc) = cidrs.get(vpc_id.as_str()) else {
            continue;
        };
        let address = v.address(c);
        for attr in ["health_check_local_ip", "health_check_remote_ip"] {
            let Some(ip) = v.value(c, attr).and_then(|x| {
                x.as_str()
                    .and_then(|s| s.parse::<std::net::Ipv4Addr>().ok())
            }) else {
                continue;
            };
            if vpc.contains(&ip) {
                diags.push(at(
                    Diagnostic::error("Health-check address inside the VPC")
                        .with_detail(format!(
                            "{attr} of {address} is {ip}, inside {vpc_id}'s CIDR {vpc} (the API refuses it: VpnConnHealthCheckIpConflict)"
                        ))
                        .with_help("use an address outside the VPC (by default the API picks one in 169.254.128.0/17)"),
                    v.span(c, attr),
                ));
            }
        }
        if let Some(net) = v
            .value(c, "route")
            .and_then(|r| {
                r.get("destination_cidr_block")
                    .and_then(|d| d.unmarked().as_str().map(str::to_string))
            })
            .and_then(|d| d.parse::<Ipv4Net>().ok())
        {
            if net.contains(&vpc.network()) || vpc.contains(&net.network()) {
                diags.push(at(
                    Diagnostic::error("Tunnel route overlaps the VPC")
                        .with_detail(format!(
                            "{address}: the route's destination_cidr_block {net} overlaps {vpc_id}'s CIDR {vpc}; the route sends on-premises ranges into the tunnel (the API refuses it: InvalidParameterValue.VpcCidrConflict)"
                        ))
                        .with_help("route an on-premises range outside the VPC"),
                    v.span(c, "route.destination_cidr_block")
                        .or_else(|| v.span(c, "route")),
                ));
            }
        }
        let spds = v
            .value(c, "security_group_policy")
            .and_then(|x| x.as_list().map(<[Value]>::to_vec))
            .unwrap_or_default();
        for (i, spd) in spds.iter().enumerate() {
            let remotes = spd
                .unmarked()
                .get("remote_cidr_block")
                .and_then(|x| x.unmarked().as_list().map(<[Value]>::to_vec))
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
                    diags.push(at(
                        Diagnostic::error("SPD remote block overlaps the VPC")
                            .with_detail(format!(
                                "{address}: remote_cidr_block {net} overlaps {vpc_id}'s CIDR {vpc}; the remote side of a tunnel is the on-premises network (the API refuses it: VpcCidrConflict)"
                            ))
                            .with_help("list the on-premises ranges in remote_cidr_block, and the VPC's ranges in local_cidr_block"),
                        v.span(c, &format!("security_group_policy.{i}.remote_cidr_block"))
                            .or_else(|| v.span(c, "security_group_policy")),
                    ));
                }
            }
        }
    }
    diags
}
