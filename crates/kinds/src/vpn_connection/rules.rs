//! The tunnel's own rules across several of its arguments (SPD quotas, BGP addresses, IKE
//! identities), beyond the schema's per-value checks.

use std::net::Ipv4Addr;

use tunnelform_model::{Attrs, Value};

use crate::contract::Problem;
use crate::net::{parse_cidr, parse_ipv4, range_of};

/// Documented quotas of one tunnel: SPD entries, and remote blocks per entry.
pub const MAX_SPD_PER_TUNNEL: usize = 10;
pub const MAX_CIDRS_PER_SPD: usize = 50;

/// Every problem of one tunnel's arguments, keyed by the attribute path to point at.
pub fn check(attrs: &Attrs) -> Vec<Problem> {
    let mut out = Vec::new();

    // SPD quotas: entries per tunnel, remote blocks per entry.
    if let Some(spds) = attrs
        .get("security_group_policy")
        .and_then(|v| v.unmarked().as_list())
    {
        if spds.len() > MAX_SPD_PER_TUNNEL {
            out.push(Problem::new(format!("security_group_policy.{MAX_SPD_PER_TUNNEL}"),
                    "Too many SPD entries",
                    format!(
                        "a tunnel has at most {MAX_SPD_PER_TUNNEL} security_group_policy blocks (the API's quota), this one has {}",
                        spds.len()
                    ),
                )
                .help("merge entries with the same local_cidr_block, or split the traffic over several tunnels".into()));
        }
        for (i, spd) in spds.iter().enumerate() {
            let n = spd
                .unmarked()
                .get("remote_cidr_block")
                .and_then(|v| v.unmarked().as_list())
                .map_or(0, <[Value]>::len);
            if n > MAX_CIDRS_PER_SPD {
                out.push(Problem::new(format!("security_group_policy.{i}.remote_cidr_block"),
                        "Too many remote CIDR blocks",
                        format!(
                            "an SPD entry has at most {MAX_CIDRS_PER_SPD} remote_cidr_block values (the API's quota), this one has {n}"
                        ),
                    )
                    .help("summarise adjacent blocks into larger ones, or use another SPD entry".into()));
            }
        }
    }
    let known_str = |k: &str| {
        attrs
            .get(k)
            .and_then(|v| v.unmarked().as_str().map(str::to_string))
    };
    let is_set = |k: &str| attrs.get(k).is_some_and(|v| !v.is_null());

    // The tunnel's own route exists only on route-based tunnels (the API: InvalidParameter.Coexist).
    if is_set("route") {
        if let Some(rt) = known_str("route_type").filter(|t| t != "StaticRoute") {
            out.push(
                Problem::new(
                    "route",
                    "A route needs a route-based tunnel",
                    format!(
                        "route is only accepted with route_type = \"StaticRoute\", and this tunnel's route_type is \"{rt}\""
                    ),
                )
                .help("set route_type = \"StaticRoute\", or remove the route block (a policy-based tunnel's traffic follows its security_group_policy)".into()),
            );
        }
    }

    // BGP: the addresses inside the /30.
    let bgp = attrs.get("bgp_config").and_then(|v| v.unmarked().as_map());
    if let Some(bgp) = bgp {
        let s = |k: &str| bgp.get(k).and_then(|v| v.unmarked().as_str());
        if let Some(Ok((net, len))) = s("tunnel_cidr").map(parse_cidr) {
            let (lo, hi) = range_of(net, len);
            let mut ips = Vec::new();
            for key in ["local_bgp_ip", "remote_bgp_ip"] {
                if let Some(ip) = s(key).and_then(parse_ipv4) {
                    let n = u32::from(ip);
                    if n < lo || n > hi {
                        out.push(
                            Problem::new(
                                format!("bgp_config.{key}"),
                                format!("Invalid value for \"{key}\""),
                                format!(
                                    "{ip} is not inside the BGP tunnel block {}",
                                    s("tunnel_cidr").unwrap_or("")
                                ),
                            )
                            .help(format!(
                                "use an address of {}: {} or {}",
                                s("tunnel_cidr").unwrap_or(""),
                                Ipv4Addr::from(lo.saturating_add(1)),
                                Ipv4Addr::from(lo.saturating_add(2))
                            )),
                        );
                    }
                    ips.push(n);
                }
            }
            if ips.len() == 2 && ips[0] == ips[1] {
                out.push(Problem::new(
                    "bgp_config.remote_bgp_ip",
                    "Invalid value for \"remote_bgp_ip\"",
                    "the local and remote BGP addresses must differ",
                ));
            }
        }
    }
    if let Some(rt) = known_str("route_type") {
        if rt == "Bgp" && !is_set("bgp_config") {
            out.push(Problem::new("route_type",
                    "Missing bgp_config",
                    "a tunnel with route_type = \"Bgp\" needs a bgp_config { tunnel_cidr, local_bgp_ip, remote_bgp_ip } block",
                ));
        }
    }
    if is_set("bgp_config")
        && attrs
            .get("route_type")
            .is_none_or(|v| v.unmarked().as_str().is_some_and(|s| s != "Bgp"))
    {
        out.push(
            Problem::new(
                "bgp_config",
                "bgp_config needs route_type = \"Bgp\"",
                "the BGP settings are only used by tunnels whose route_type is \"Bgp\"",
            )
            .help("add route_type = \"Bgp\" or remove the bgp_config block".into()),
        );
    }

    // IKE identities: ADDRESS uses ike_*_address, FQDN uses ike_*_fqdn_name.
    for (ident_key, addr_key, fqdn_key) in [
        (
            "ike_local_identity",
            "ike_local_address",
            "ike_local_fqdn_name",
        ),
        (
            "ike_remote_identity",
            "ike_remote_address",
            "ike_remote_fqdn_name",
        ),
    ] {
        if attrs.get(ident_key).is_some_and(Value::is_unknown) {
            continue;
        }
        let identity = attrs
            .get(ident_key)
            .and_then(|v| v.unmarked().as_str())
            .unwrap_or("ADDRESS");
        match identity {
            "ADDRESS" if is_set(fqdn_key) => out.push(Problem::new(fqdn_key.to_string(),
                    format!("Conflicting arguments \"{fqdn_key}\" and \"{ident_key}\""),
                    format!("{fqdn_key} is only used when {ident_key} = \"FQDN\" ({ident_key} is \"ADDRESS\"{})",
                        if attrs.contains_key(ident_key) { "" } else { " by default" }),
                )
                .help(format!("set {ident_key} = \"FQDN\", or use {addr_key} instead"))),
            "FQDN" => {
                if is_set(addr_key) {
                    out.push(Problem::new(addr_key.to_string(),
                            format!("Conflicting arguments \"{addr_key}\" and \"{ident_key}\""),
                            format!("{addr_key} is only used when {ident_key} = \"ADDRESS\""),
                        )
                        .help(format!("remove {addr_key}, or set {ident_key} = \"ADDRESS\"")));
                }
                if !is_set(fqdn_key) {
                    out.push(Problem::new(ident_key.to_string(),
                            format!("Missing argument \"{fqdn_key}\""),
                            format!("{ident_key} = \"FQDN\" needs {fqdn_key}"),
                        ));
                }
            }
            _ => {}
        }
    }
    out
}
