//! The rules a connection's settings follow: enumerations and ranges on their own, then quotas and conflicts
//! among the tunnels of its gateway (SPD selectors, health-check addresses, BGP tunnel CIDRs and peers).

use ipnet::Ipv4Net;

use super::settings::BgpIn;
use crate::error::{codes, ApiError, ApiResult};
use crate::validate;
use crate::world::model::{BgpInfo, Secret, Spd, VpnConnection};
use crate::world::Region;
use crate::Quotas;

const IKE_ENCRYPT: &[&str] = &[
    "3DES-CBC",
    "AES-CBC-128",
    "AES-CBC-192",
    "AES-CBC-256",
    "DES-CBC",
    "SM4",
    "AES128GCM128",
    "AES192GCM128",
    "AES256GCM128",
];
const IKE_AUTHEN: &[&str] = &["MD5", "SHA", "SHA-256", "SHA-512"];
const EXCHANGE_MODES: &[&str] = &["MAIN", "AGGRESSIVE"];
const IDENTITIES: &[&str] = &["ADDRESS", "FQDN"];
const DH_GROUPS: &[&str] = &[
    "GROUP1", "GROUP2", "GROUP5", "GROUP14", "GROUP15", "GROUP16", "GROUP19", "GROUP20", "GROUP21",
    "GROUP24",
];
const IKE_VERSIONS: &[&str] = &["IKEV1", "IKEV2"];
const IPSEC_ENCRYPT: &[&str] = &[
    "3DES-CBC",
    "AES-CBC-128",
    "AES-CBC-192",
    "AES-CBC-256",
    "DES-CBC",
    "SM4",
    "NULL",
    "AES128GCM128",
    "AES192GCM128",
    "AES256GCM128",
];
const IPSEC_INTEGRITY: &[&str] = &["MD5", "SHA1", "SHA-256", "SHA-512", "SHA-384", "SM3"];
const PFS_GROUPS: &[&str] = &[
    "NULL",
    "DH-GROUP1",
    "DH-GROUP2",
    "DH-GROUP5",
    "DH-GROUP14",
    "DH-GROUP15",
    "DH-GROUP16",
    "DH-GROUP19",
    "DH-GROUP20",
    "DH-GROUP21",
    "DH-GROUP24",
];
const NEGOTIATION_TYPES: &[&str] = &["active", "passive", "flowTrigger"];
pub(super) const ROUTE_TYPES: &[&str] = &["STATIC", "StaticRoute", "Policy", "Bgp"];
const DPD_ACTIONS: &[&str] = &["clear", "restart"];
const PROBE_TYPES: &[&str] = &["NQA"];
const MAX_PRE_SHARE_KEY_CHARS: usize = 128;

const UO_VPN_CONN_SPD_OVERLAP: &str = "UnsupportedOperation.VpnConnSPDOverlap";

pub(super) fn check_pre_share_key(key: &Secret) -> ApiResult<()> {
    if key.0.is_empty() {
        return Err(ApiError::new(
            codes::IPV_EMPTY,
            "The parameter `PreShareKey` must not be empty.",
        ));
    }
    if key.0.chars().count() > MAX_PRE_SHARE_KEY_CHARS {
        return Err(ApiError::new(
            codes::IPV_TOO_LONG,
            format!(
                "The parameter `PreShareKey` is longer than {MAX_PRE_SHARE_KEY_CHARS} characters."
            ),
        ));
    }
    Ok(())
}

/// Two free health-check addresses in 169.254.128.0/17 for a new tunnel of `gateway_id`.
/// Checks a BGP configuration and turns it into what describe shows.
pub(super) fn bgp_info(bgp: &BgpIn, gateway_asn: u64, cgw_asn: u64) -> ApiResult<BgpInfo> {
    let cidr = validate::cidr("BgpConfig.TunnelCidr", &bgp.tunnel_cidr)?;
    if cidr.prefix_len() != 30 {
        return Err(ApiError::new(
            codes::IPV_BGP_TUNNEL_CIDR_MASK,
            format!("The BGP tunnel CIDR `{}` must be a /30.", bgp.tunnel_cidr),
        ));
    }
    let net = cidr.trunc();
    let local = validate::ipv4("BgpConfig.LocalBgpIp", &bgp.local_bgp_ip)?;
    let remote = validate::ipv4("BgpConfig.RemoteBgpIp", &bgp.remote_bgp_ip)?;
    for (ip, text) in [(local, &bgp.local_bgp_ip), (remote, &bgp.remote_bgp_ip)] {
        if !net.contains(&ip) || ip == net.network() || ip == net.broadcast() {
            return Err(ApiError::new(
                codes::IPV_BGP_TUNNEL_CIDR_NOT_SUPPORTED,
                format!("The BGP address `{text}` must be a host address within the BGP tunnel CIDR `{}`.", bgp.tunnel_cidr),
            ));
        }
    }
    if local == remote {
        return Err(ApiError::new(
            codes::IPV_DUPLICATE,
            "The cloud-side and customer-side BGP addresses must differ.",
        ));
    }
    if gateway_asn == 0 {
        return Err(ApiError::new(
            codes::UO_VPN_UNSUPPORTED_NOT_EXIST_BGP_ASN,
            "The VPN gateway has no BGP ASN.",
        ));
    }
    if cgw_asn == 0 {
        return Err(ApiError::new(
            codes::UO_VPN_UNSUPPORTED_USR_GW_NOT_EXIST_BGP_ASN,
            "The customer gateway has no BGP ASN.",
        ));
    }
    if gateway_asn == cgw_asn {
        return Err(ApiError::new(
            codes::UO_VPN_UNSUPPORTED_BGP_ASN_EQUAL,
            format!("The customer gateway's BGP ASN {cgw_asn} equals the VPN gateway's."),
        ));
    }
    Ok(BgpInfo {
        tunnel_cidr: bgp.tunnel_cidr.clone(),
        local_bgp_ip: bgp.local_bgp_ip.clone(),
        remote_bgp_ip: bgp.remote_bgp_ip.clone(),
        local_bgp_asn: gateway_asn.to_string(),
        remote_bgp_asn: cgw_asn.to_string(),
    })
}

/// What a connection is checked against.
pub(super) struct Env<'a> {
    pub(super) region: &'a Region,
    pub(super) vpc_cidr: Option<Ipv4Net>,
    pub(super) quotas: &'a Quotas,
    /// The connection being modified (excluded from conflict checks).
    pub(super) except: Option<&'a str>,
}

/// Parsed SPD entries of a connection.
fn parse_spd(spd: &[Spd]) -> ApiResult<Vec<(Ipv4Net, Vec<Ipv4Net>)>> {
    spd.iter()
        .enumerate()
        .map(|(i, s)| {
            let local = validate::cidr(
                &format!("SecurityPolicyDatabases.{i}.LocalCidrBlock"),
                &s.local,
            )?;
            let remote = s
                .remote
                .iter()
                .enumerate()
                .map(|(j, r)| {
                    validate::cidr(
                        &format!("SecurityPolicyDatabases.{i}.RemoteCidrBlock.{j}"),
                        r,
                    )
                })
                .collect::<ApiResult<Vec<_>>>()?;
            Ok((local, remote))
        })
        .collect()
}

/// The rules a connection's settings must follow on their own (enumerations, ranges, formats).
pub(super) fn check_values(c: &VpnConnection) -> ApiResult<()> {
    // Enumerations and ranges.
    validate::one_of("RouteType", &c.route_type, ROUTE_TYPES)?;
    validate::one_of("NegotiationType", &c.negotiation_type, NEGOTIATION_TYPES)?;
    let ike = &c.ike;
    let p = "IKEOptionsSpecification";
    validate::one_of(
        &format!("{p}.PropoEncryAlgorithm"),
        &ike.encrypt_algorithm,
        IKE_ENCRYPT,
    )?;
    validate::one_of(
        &format!("{p}.PropoAuthenAlgorithm"),
        &ike.authen_algorithm,
        IKE_AUTHEN,
    )?;
    validate::one_of(
        &format!("{p}.ExchangeMode"),
        &ike.exchange_mode,
        EXCHANGE_MODES,
    )?;
    validate::one_of(
        &format!("{p}.LocalIdentity"),
        &ike.local_identity,
        IDENTITIES,
    )?;
    validate::one_of(
        &format!("{p}.RemoteIdentity"),
        &ike.remote_identity,
        IDENTITIES,
    )?;
    validate::one_of(&format!("{p}.DhGroupName"), &ike.dh_group_name, DH_GROUPS)?;
    validate::one_of(&format!("{p}.IKEVersion"), &ike.version, IKE_VERSIONS)?;
    validate::int_range(
        &format!("{p}.IKESaLifetimeSeconds"),
        ike.sa_lifetime_seconds,
        60,
        604_800,
    )?;
    for (identity, address, fqdn, side) in [
        (
            &ike.local_identity,
            &ike.local_address,
            &ike.local_fqdn_name,
            "Local",
        ),
        (
            &ike.remote_identity,
            &ike.remote_address,
            &ike.remote_fqdn_name,
            "Remote",
        ),
    ] {
        if identity == "ADDRESS" {
            validate::ipv4(&format!("{p}.{side}Address"), address)?;
        } else if fqdn.is_empty() {
            return Err(ApiError::missing(&format!("{p}.{side}FqdnName")));
        }
    }
    let ipsec = &c.ipsec;
    let p = "IPSECOptionsSpecification";
    validate::one_of(
        &format!("{p}.EncryptAlgorithm"),
        &ipsec.encrypt_algorithm,
        IPSEC_ENCRYPT,
    )?;
    validate::one_of(
        &format!("{p}.IntegrityAlgorith"),
        &ipsec.integrity_algorithm,
        IPSEC_INTEGRITY,
    )?;
    validate::one_of(&format!("{p}.PfsDhGroup"), &ipsec.pfs_dh_group, PFS_GROUPS)?;
    validate::int_range(
        &format!("{p}.IPSECSaLifetimeSeconds"),
        ipsec.sa_lifetime_seconds,
        180,
        604_800,
    )?;
    validate::int_range(
        &format!("{p}.IPSECSaLifetimeTraffic"),
        ipsec.sa_lifetime_traffic,
        2560,
        u64::from(u32::MAX),
    )?;
    validate::int_range("DpdEnable", c.dpd_enable, 0, 1)?;
    let timeout: i64 = c
        .dpd_timeout
        .trim()
        .parse()
        .map_err(|_| ApiError::malformed("DpdTimeout", &c.dpd_timeout))?;
    validate::int_range("DpdTimeout", timeout, 30, 60)?;
    validate::one_of("DpdAction", &c.dpd_action, DPD_ACTIONS)?;
    if let Some(hc) = &c.health_check_config {
        let p = "HealthCheckConfig";
        validate::one_of(&format!("{p}.ProbeType"), &hc.probe_type, PROBE_TYPES)?;
        validate::int_range(&format!("{p}.ProbeInterval"), hc.probe_interval, 1000, 5000)?;
        validate::int_range(&format!("{p}.ProbeThreshold"), hc.probe_threshold, 3, 8)?;
        validate::int_range(&format!("{p}.ProbeTimeout"), hc.probe_timeout, 10, 5000)?;
    }
    if c.enable_health_check && c.route_type == "Policy" {
        return Err(ApiError::new(
            codes::UO_VPN_CONN_CIDR_NOT_SUPPORTED_HEALTH_CHECK,
            "A policy-based (SPD) tunnel does not support health checks.",
        ));
    }
    Ok(())
}

/// The rules a connection's settings must follow among the other tunnels of its gateway (and its VPC).
pub(super) fn check_against_gateway(c: &VpnConnection, env: &Env<'_>) -> ApiResult<()> {
    let others: Vec<&VpnConnection> = env
        .region
        .connections_on_gateway(&c.gateway_id)
        .filter(|o| Some(o.id.as_str()) != env.except)
        .collect();

    // Route types: BGP and non-BGP tunnels do not mix on one gateway.
    if let Some(o) = others.iter().find(|o| o.is_bgp() != c.is_bgp()) {
        return Err(ApiError::new(
            codes::UO_VPN_CONN_ROUTE_TYPE_MIXED,
            format!(
                "The VPN gateway already has tunnel `{}` of route type {}; dynamic (Bgp) and static tunnels cannot be mixed.",
                o.id, o.route_type
            ),
        ));
    }

    // SPD: quotas, then conflicts within the tunnel, with the VPC and with the gateway's other tunnels.
    if c.spd.len() > env.quotas.spd_per_tunnel as usize {
        return Err(ApiError::new(
            codes::LIMIT_EXCEEDED,
            format!(
                "A tunnel can have at most {} SPD entries.",
                env.quotas.spd_per_tunnel
            ),
        ));
    }
    for (i, s) in c.spd.iter().enumerate() {
        if s.remote.is_empty() {
            return Err(ApiError::new(
                codes::IPV_EMPTY,
                format!("`SecurityPolicyDatabases.{i}.RemoteCidrBlock` must not be empty."),
            ));
        }
        if s.remote.len() > env.quotas.cidrs_per_spd as usize {
            return Err(ApiError::new(
                codes::LIMIT_EXCEEDED,
                format!(
                    "An SPD entry can have at most {} remote CIDRs.",
                    env.quotas.cidrs_per_spd
                ),
            ));
        }
    }
    let spd = parse_spd(&c.spd)?;
    for (i, (local, remotes)) in spd.iter().enumerate() {
        for (j, (other_local, _)) in spd.iter().enumerate().skip(i + 1) {
            if !validate::is_any(local)
                && !validate::is_any(other_local)
                && validate::overlaps(local, other_local)
            {
                return Err(ApiError::new(
                    UO_VPN_CONN_SPD_OVERLAP,
                    format!("The local CIDRs of SPD entries {i} and {j} overlap."),
                ));
            }
        }
        for remote in remotes {
            if validate::is_any(local) || validate::is_any(remote) {
                continue;
            }
            if validate::overlaps(local, remote) {
                return Err(ApiError::new(
                    codes::IPV_VPN_CONN_SPD_CIDR_CONFLICT,
                    format!("The SPD local CIDR {local} overlaps its remote CIDR {remote}."),
                ));
            }
            if let Some(vpc) = env.vpc_cidr.filter(|v| validate::overlaps(v, remote)) {
                return Err(ApiError::new(
                    codes::IPV_VPC_CIDR_CONFLICT,
                    format!("The SPD remote CIDR {remote} conflicts with the VPC CIDR {vpc}."),
                ));
            }
        }
    }
    for other in &others {
        let Ok(other_spd) = parse_spd(&other.spd) else {
            continue;
        };
        for (local, remotes) in &spd {
            for (other_local, other_remotes) in &other_spd {
                if validate::is_any(local)
                    || validate::is_any(other_local)
                    || !validate::overlaps(local, other_local)
                {
                    continue;
                }
                let clash = remotes.iter().any(|r| {
                    other_remotes.iter().any(|o| {
                        !validate::is_any(r) && !validate::is_any(o) && validate::overlaps(r, o)
                    })
                });
                if clash {
                    return Err(ApiError::new(
                        codes::IPV_VPN_CONN_CIDR_CONFLICT,
                        format!("The SPD {local} conflicts with the SPD of tunnel `{}` on the same VPN gateway.", other.id),
                    ));
                }
            }
        }
    }

    // Health-check addresses.
    let local_hc = validate::ipv4("HealthCheckLocalIp", &c.health_check_local_ip)?;
    let remote_hc = validate::ipv4("HealthCheckRemoteIp", &c.health_check_remote_ip)?;
    if local_hc == remote_hc {
        return Err(ApiError::new(
            codes::IPV_HEALTH_CHECK_IP_CONFLICT,
            "The local and remote health-check addresses must differ.",
        ));
    }
    if let Some(vpc) = env.vpc_cidr {
        for (ip, name) in [
            (local_hc, "HealthCheckLocalIp"),
            (remote_hc, "HealthCheckRemoteIp"),
        ] {
            if vpc.contains(&ip) {
                return Err(ApiError::new(
                    codes::IPV_HEALTH_CHECK_IP_CONFLICT,
                    format!(
                        "The health-check address {ip} (`{name}`) lies inside the VPC CIDR {vpc}."
                    ),
                ));
            }
        }
    }
    for other in &others {
        for ip in [&c.health_check_local_ip, &c.health_check_remote_ip] {
            if *ip == other.health_check_local_ip || *ip == other.health_check_remote_ip {
                return Err(ApiError::new(
                    codes::IPV_HEALTH_CHECK_IP_CONFLICT,
                    format!(
                        "The health-check address {ip} is already used by tunnel `{}`.",
                        other.id
                    ),
                ));
            }
        }
    }

    // BGP tunnel CIDRs and peer ASNs.
    if let Some(bgp) = &c.bgp {
        let cidr = validate::cidr("BgpConfig.TunnelCidr", &bgp.tunnel_cidr)?;
        for other in &others {
            let Some(ob) = &other.bgp else { continue };
            if let Ok(other_cidr) = ob.tunnel_cidr.parse::<Ipv4Net>() {
                if validate::overlaps(&cidr, &other_cidr) {
                    return Err(ApiError::new(
                        codes::IPV_BGP_TUNNEL_CIDR_CONFLICT,
                        format!(
                            "The BGP tunnel CIDR {} overlaps the BGP tunnel CIDR {} of tunnel `{}`.",
                            bgp.tunnel_cidr, ob.tunnel_cidr, other.id
                        ),
                    ));
                }
            }
            if ob.remote_bgp_asn == bgp.remote_bgp_asn
                && other.customer_gateway_id != c.customer_gateway_id
            {
                return Err(ApiError::new(
                    codes::UO_VPN_UNSUPPORTED_BGP_ASN_EQUAL,
                    format!(
                        "The customer gateway's BGP ASN {} is already used by the peer of tunnel `{}`.",
                        bgp.remote_bgp_asn, other.id
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Quotas of tunnels per gateway, per customer gateway and per (customer gateway, gateway) pair.
pub(super) fn check_tunnel_quotas(
    region: &Region,
    quotas: &Quotas,
    gateway_id: &str,
    cgw_id: &str,
    except: Option<&str>,
) -> ApiResult<()> {
    let existing = usize::from(except.is_some());
    if region.count_on_gateway(gateway_id).saturating_sub(existing)
        >= quotas.tunnels_per_vpn_gateway as usize
    {
        return Err(ApiError::new(
            codes::LIMIT_EXCEEDED,
            format!(
                "The VPN gateway `{gateway_id}` already has the maximum of {} tunnels.",
                quotas.tunnels_per_vpn_gateway
            ),
        ));
    }
    if region.count_on_customer_gateway(cgw_id) >= quotas.tunnels_per_customer_gateway as usize {
        return Err(ApiError::new(
            codes::LIMIT_EXCEEDED,
            format!(
                "The customer gateway `{cgw_id}` already has the maximum of {} tunnels.",
                quotas.tunnels_per_customer_gateway
            ),
        ));
    }
    if region.pair_exists(gateway_id, cgw_id, except) {
        return Err(ApiError::new(
            codes::LIMIT_EXCEEDED,
            format!("The customer gateway `{cgw_id}` already has a tunnel to the VPN gateway `{gateway_id}` (at most one per pair)."),
        ));
    }
    Ok(())
}
