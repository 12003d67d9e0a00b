//! CreateVpnConnection, DescribeVpnConnections, ModifyVpnConnectionAttribute, DeleteVpnConnection.
//!
//! Create and delete are asynchronous: they answer at once, the call's RequestId is the task id, and the
//! connection is `PENDING` / `DELETING` until the task finishes (see `World::advance`).

use std::collections::HashSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use rand::rngs::StdRng;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::query::{FilterIn, QuerySpec};
use super::{check_id_format, customer_gateway, gateway, Ctx};
use crate::clock;
use crate::config::Quotas;
use crate::error::{codes, ApiError, ApiResult};
use crate::validate::{self, TagIn};
use crate::world::model::{
    is_bgp_route_type, BgpInfo, ConnectionState, HealthCheckConfig, IkeOptions, IpsecOptions,
    Secret, Spd, Task, TaskKind, TaskStatus, VpnConnection,
};
use crate::world::Region;

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
const ROUTE_TYPES: &[&str] = &["STATIC", "StaticRoute", "Policy", "Bgp"];
const DPD_ACTIONS: &[&str] = &["clear", "restart"];
const PROBE_TYPES: &[&str] = &["NQA"];
const MAX_PRE_SHARE_KEY_CHARS: usize = 128;
/// Health-check addresses are drawn from 169.254.128.0/17.
const HEALTH_CHECK_BASE: u32 = u32::from_be_bytes([169, 254, 128, 0]);
const HEALTH_CHECK_SIZE: u32 = 1 << 15;

const UO_VPN_CONN_SPD_OVERLAP: &str = "UnsupportedOperation.VpnConnSPDOverlap";

#[derive(Deserialize, Default)]
pub(crate) struct IkeIn {
    #[serde(rename = "PropoEncryAlgorithm")]
    encrypt_algorithm: Option<String>,
    #[serde(rename = "PropoAuthenAlgorithm")]
    authen_algorithm: Option<String>,
    #[serde(rename = "ExchangeMode")]
    exchange_mode: Option<String>,
    #[serde(rename = "LocalIdentity")]
    local_identity: Option<String>,
    #[serde(rename = "RemoteIdentity")]
    remote_identity: Option<String>,
    #[serde(rename = "LocalAddress")]
    local_address: Option<String>,
    #[serde(rename = "RemoteAddress")]
    remote_address: Option<String>,
    #[serde(rename = "LocalFqdnName")]
    local_fqdn_name: Option<String>,
    #[serde(rename = "RemoteFqdnName")]
    remote_fqdn_name: Option<String>,
    #[serde(rename = "DhGroupName")]
    dh_group_name: Option<String>,
    #[serde(rename = "IKESaLifetimeSeconds")]
    sa_lifetime_seconds: Option<u64>,
    #[serde(rename = "IKEVersion")]
    version: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct IpsecIn {
    #[serde(rename = "EncryptAlgorithm")]
    encrypt_algorithm: Option<String>,
    #[serde(rename = "IntegrityAlgorith")]
    integrity_algorith: Option<String>,
    #[serde(rename = "IntegrityAlgorithm")]
    integrity_algorithm: Option<String>,
    #[serde(rename = "IPSECSaLifetimeSeconds")]
    sa_lifetime_seconds: Option<u64>,
    #[serde(rename = "PfsDhGroup")]
    pfs_dh_group: Option<String>,
    #[serde(rename = "IPSECSaLifetimeTraffic")]
    sa_lifetime_traffic: Option<u64>,
}

#[derive(Deserialize)]
pub(crate) struct SpdIn {
    #[serde(rename = "LocalCidrBlock")]
    local: String,
    #[serde(rename = "RemoteCidrBlock")]
    remote: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct BgpIn {
    #[serde(rename = "TunnelCidr")]
    tunnel_cidr: String,
    #[serde(rename = "LocalBgpIp")]
    local_bgp_ip: String,
    #[serde(rename = "RemoteBgpIp")]
    remote_bgp_ip: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct HealthCheckIn {
    #[serde(rename = "ProbeType")]
    probe_type: Option<String>,
    #[serde(rename = "ProbeInterval")]
    probe_interval: Option<i64>,
    #[serde(rename = "ProbeThreshold")]
    probe_threshold: Option<i64>,
    #[serde(rename = "ProbeTimeout")]
    probe_timeout: Option<i64>,
}

#[derive(Deserialize)]
pub(crate) struct RouteIn {
    #[serde(rename = "DestinationCidrBlock")]
    destination_cidr_block: String,
    #[serde(rename = "Priority")]
    priority: Option<u64>,
}

/// The settings both create and modify take.
#[derive(Deserialize, Default)]
pub(crate) struct Changes {
    #[serde(rename = "SecurityPolicyDatabases")]
    spd: Option<Vec<SpdIn>>,
    #[serde(rename = "IKEOptionsSpecification")]
    ike: Option<IkeIn>,
    #[serde(rename = "IPSECOptionsSpecification")]
    ipsec: Option<IpsecIn>,
    #[serde(rename = "EnableHealthCheck")]
    enable_health_check: Option<bool>,
    #[serde(rename = "HealthCheckLocalIp")]
    health_check_local_ip: Option<String>,
    #[serde(rename = "HealthCheckRemoteIp")]
    health_check_remote_ip: Option<String>,
    #[serde(rename = "NegotiationType")]
    negotiation_type: Option<String>,
    #[serde(rename = "DpdEnable")]
    dpd_enable: Option<i64>,
    #[serde(rename = "DpdTimeout")]
    dpd_timeout: Option<String>,
    #[serde(rename = "DpdAction")]
    dpd_action: Option<String>,
    #[serde(rename = "HealthCheckConfig")]
    health_check_config: Option<HealthCheckIn>,
    #[serde(rename = "BgpConfig")]
    bgp: Option<BgpIn>,
}

#[derive(Deserialize)]
pub(crate) struct CreateReq {
    #[serde(rename = "VpnGatewayId")]
    gateway_id: String,
    #[serde(rename = "CustomerGatewayId")]
    customer_gateway_id: String,
    #[serde(rename = "VpnConnectionName")]
    name: String,
    #[serde(rename = "PreShareKey")]
    pre_share_key: Secret,
    #[serde(rename = "VpcId")]
    vpc_id: Option<String>,
    #[serde(rename = "Tags")]
    tags: Option<Vec<TagIn>>,
    #[serde(rename = "RouteType")]
    route_type: Option<String>,
    #[serde(rename = "Route")]
    route: Option<RouteIn>,
    #[serde(flatten)]
    changes: Changes,
}

fn check_pre_share_key(key: &Secret) -> ApiResult<()> {
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
pub(crate) fn allocate_health_check_ips(
    region: &Region,
    gateway_id: &str,
    rng: &mut StdRng,
) -> (String, String) {
    let used: HashSet<String> = region
        .connections_on_gateway(gateway_id)
        .flat_map(|c| {
            [
                c.health_check_local_ip.clone(),
                c.health_check_remote_ip.clone(),
            ]
        })
        .collect();
    let mut pick = |avoid: Option<&str>| loop {
        let ip =
            Ipv4Addr::from(HEALTH_CHECK_BASE + rng.gen_range(1..HEALTH_CHECK_SIZE - 1)).to_string();
        if !used.contains(&ip) && Some(ip.as_str()) != avoid {
            return ip;
        }
    };
    let local = pick(None);
    let remote = pick(Some(&local));
    (local, remote)
}

/// Applies the settings a request gives onto a connection (defaults or its current values).
fn apply_changes(conn: &mut VpnConnection, changes: Changes) {
    if let Some(spd) = changes.spd {
        conn.spd = spd
            .into_iter()
            .map(|s| Spd {
                local: s.local,
                remote: s.remote,
            })
            .collect();
    }
    if let Some(ike) = changes.ike {
        let o = &mut conn.ike;
        set(&mut o.encrypt_algorithm, ike.encrypt_algorithm);
        set(&mut o.authen_algorithm, ike.authen_algorithm);
        set(&mut o.exchange_mode, ike.exchange_mode);
        set(&mut o.local_identity, ike.local_identity);
        set(&mut o.remote_identity, ike.remote_identity);
        set(&mut o.local_address, ike.local_address);
        set(&mut o.remote_address, ike.remote_address);
        set(&mut o.local_fqdn_name, ike.local_fqdn_name);
        set(&mut o.remote_fqdn_name, ike.remote_fqdn_name);
        set(&mut o.dh_group_name, ike.dh_group_name);
        set(&mut o.sa_lifetime_seconds, ike.sa_lifetime_seconds);
        set(&mut o.version, ike.version);
    }
    if let Some(ipsec) = changes.ipsec {
        let o = &mut conn.ipsec;
        set(&mut o.encrypt_algorithm, ipsec.encrypt_algorithm);
        set(
            &mut o.integrity_algorithm,
            ipsec.integrity_algorith.or(ipsec.integrity_algorithm),
        );
        set(&mut o.sa_lifetime_seconds, ipsec.sa_lifetime_seconds);
        set(&mut o.pfs_dh_group, ipsec.pfs_dh_group);
        set(&mut o.sa_lifetime_traffic, ipsec.sa_lifetime_traffic);
    }
    set(&mut conn.enable_health_check, changes.enable_health_check);
    set(
        &mut conn.health_check_local_ip,
        changes.health_check_local_ip,
    );
    set(
        &mut conn.health_check_remote_ip,
        changes.health_check_remote_ip,
    );
    set(&mut conn.negotiation_type, changes.negotiation_type);
    set(&mut conn.dpd_enable, changes.dpd_enable);
    set(&mut conn.dpd_timeout, changes.dpd_timeout);
    set(&mut conn.dpd_action, changes.dpd_action);
    if let Some(hc) = changes.health_check_config {
        let current = conn
            .health_check_config
            .take()
            .unwrap_or(HealthCheckConfig {
                probe_type: "NQA".to_string(),
                probe_interval: 5000,
                probe_threshold: 3,
                probe_timeout: 150,
            });
        conn.health_check_config = Some(HealthCheckConfig {
            probe_type: hc.probe_type.unwrap_or(current.probe_type),
            probe_interval: hc.probe_interval.unwrap_or(current.probe_interval),
            probe_threshold: hc.probe_threshold.unwrap_or(current.probe_threshold),
            probe_timeout: hc.probe_timeout.unwrap_or(current.probe_timeout),
        });
    }
    conn.health_check_status = if conn.enable_health_check {
        "AVAILABLE".to_string()
    } else {
        String::new()
    };
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// Checks a BGP configuration and turns it into what describe shows.
fn bgp_info(bgp: &BgpIn, gateway_asn: u64, cgw_asn: u64) -> ApiResult<BgpInfo> {
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
struct Env<'a> {
    region: &'a Region,
    vpc_cidr: Option<Ipv4Net>,
    quotas: &'a Quotas,
    /// The connection being modified (excluded from conflict checks).
    except: Option<&'a str>,
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
fn check_values(c: &VpnConnection) -> ApiResult<()> {
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
fn check_against_gateway(c: &VpnConnection, env: &Env<'_>) -> ApiResult<()> {
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
fn check_tunnel_quotas(
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

fn start_task(ctx: &mut Ctx<'_>, kind: TaskKind, resource_id: &str) -> ApiResult<()> {
    if !ctx.world.claim_id(ctx.request_id) {
        return Err(ApiError::internal("the task id is already in use"));
    }
    let rate = ctx.settings.task_failure_rate;
    let will_fail = rate > 0.0 && ctx.rng.gen::<f64>() < rate;
    ctx.world.start_task(Task {
        id: ctx.request_id.to_string(),
        region: ctx.region.to_string(),
        kind,
        resource_id: resource_id.to_string(),
        deadline_ms: ctx.deadline(),
        will_fail,
        status: TaskStatus::Running,
        output: String::new(),
        finished_ms: None,
    });
    Ok(())
}

pub(crate) fn create(ctx: &mut Ctx<'_>, req: CreateReq) -> ApiResult<Vec<u8>> {
    validate::name("VpnConnectionName", &req.name)?;
    check_pre_share_key(&req.pre_share_key)?;
    let route_type = req.route_type.unwrap_or_else(|| "StaticRoute".to_string());
    validate::one_of("RouteType", &route_type, ROUTE_TYPES)?;
    if let Some(route) = &req.route {
        validate::cidr("Route.DestinationCidrBlock", &route.destination_cidr_block)?;
        if let Some(p) = route.priority {
            validate::one_of("Route.Priority", &p.to_string(), &["0", "100"])?;
        }
    }
    let tags = validate::vpc_tags("Tags", req.tags)?;
    let region = ctx.world.region(ctx.region);
    let gw = gateway::find(region, "VpnGatewayId", &req.gateway_id)?;
    let cgw = customer_gateway::find(region, "CustomerGatewayId", &req.customer_gateway_id)?;
    let Some(region) = region else {
        return Err(ApiError::internal("region vanished"));
    };
    gateway::require_available(gw)?;
    if gw.info.gateway_type.starts_with("SSL") {
        return Err(ApiError::new(
            codes::UNSUPPORTED_OPERATION,
            "An SSL VPN gateway has no IPsec tunnels.",
        ));
    }
    let vpc_id = match req.vpc_id.as_deref().filter(|v| !v.is_empty()) {
        None => gw.info.vpc_id.clone(),
        Some(v) => {
            check_id_format("VpcId", v, "vpc", codes::INVALID_VPC_ID_MALFORMED)?;
            if !region.vpcs.contains_key(v) {
                return Err(ApiError::new(
                    codes::INVALID_VPC_ID_NOT_FOUND,
                    format!("The VPC `{v}` does not exist in {}.", ctx.region),
                ));
            }
            if v != gw.info.vpc_id {
                return Err(ApiError::new(
                    codes::UO_VPC_MISMATCH,
                    format!("The VPN gateway `{}` is not in the VPC `{v}`.", gw.info.id),
                ));
            }
            v.to_string()
        }
    };
    let vpc_cidr = region.vpcs.get(&vpc_id).map(|v| v.cidr);
    if is_bgp_route_type(&route_type) != req.changes.bgp.is_some() {
        return Err(if req.changes.bgp.is_some() {
            ApiError::new(
                codes::INVALID_PARAMETER_CONFLICT,
                "BgpConfig requires RouteType Bgp.",
            )
        } else {
            ApiError::missing("BgpConfig")
        });
    }
    let bgp = match &req.changes.bgp {
        Some(b) => Some(bgp_info(b, gw.info.bgp_asn, cgw.bgp_asn)?),
        None => None,
    };
    let (hc_local, hc_remote) = allocate_health_check_ips(region, &gw.info.id, ctx.rng);
    let mut conn = VpnConnection {
        id: String::new(),
        name: req.name,
        vpc_id,
        gateway_id: gw.info.id.clone(),
        customer_gateway_id: cgw.id.clone(),
        pre_share_key: req.pre_share_key,
        vpn_proto: "IPSEC".to_string(),
        encrypt_proto: "IKE".to_string(),
        route_type,
        created_time: clock::format_time(ctx.now_ms),
        state: ConnectionState::Pending,
        net_status: String::new(),
        spd: Vec::new(),
        ike: IkeOptions {
            encrypt_algorithm: "3DES-CBC".to_string(),
            authen_algorithm: "MD5".to_string(),
            exchange_mode: "MAIN".to_string(),
            local_identity: "ADDRESS".to_string(),
            remote_identity: "ADDRESS".to_string(),
            local_address: gw.info.public_ip.clone(),
            remote_address: cgw.ip_address.clone(),
            local_fqdn_name: String::new(),
            remote_fqdn_name: String::new(),
            dh_group_name: "GROUP1".to_string(),
            sa_lifetime_seconds: 86_400,
            version: "IKEV1".to_string(),
        },
        ipsec: IpsecOptions {
            encrypt_algorithm: "3DES-CBC".to_string(),
            integrity_algorithm: "MD5".to_string(),
            sa_lifetime_seconds: 3600,
            pfs_dh_group: "NULL".to_string(),
            sa_lifetime_traffic: 1_843_200,
        },
        enable_health_check: false,
        health_check_local_ip: hc_local,
        health_check_remote_ip: hc_remote,
        health_check_status: String::new(),
        dpd_enable: 0,
        dpd_timeout: "30".to_string(),
        dpd_action: "clear".to_string(),
        tags,
        negotiation_type: "active".to_string(),
        bgp,
        health_check_config: None,
    };
    apply_changes(&mut conn, req.changes);
    check_values(&conn)?;
    check_tunnel_quotas(region, &ctx.settings.quotas, &gw.info.id, &cgw.id, None)?;
    check_against_gateway(
        &conn,
        &Env {
            region,
            vpc_cidr,
            quotas: &ctx.settings.quotas,
            except: None,
        },
    )?;
    conn.id = ctx.world.new_id(ctx.rng, "vpnx");
    start_task(ctx, TaskKind::CreateVpnConnection, &conn.id)?;
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(rename = "VpnConnection")]
        conn: &'a VpnConnection,
    }
    let body = ctx.reply(&Out { conn: &conn })?;
    ctx.world.region_mut(ctx.region).insert_connection(conn);
    Ok(body)
}

#[derive(Deserialize)]
pub(crate) struct DescribeReq {
    #[serde(rename = "VpnConnectionIds")]
    ids: Option<Vec<String>>,
    #[serde(rename = "Filters")]
    filters: Option<Vec<FilterIn>>,
    #[serde(rename = "Offset")]
    offset: Option<u64>,
    #[serde(rename = "Limit")]
    limit: Option<u64>,
}

const CONNECTION_FILTERS: &[&str] = &[
    "vpc-id",
    "vpn-gateway-id",
    "customer-gateway-id",
    "vpn-connection-name",
    "vpn-connection-id",
];

pub(crate) fn describe(ctx: &mut Ctx<'_>, req: DescribeReq) -> ApiResult<Vec<u8>> {
    let q = QuerySpec {
        ids_param: "VpnConnectionIds",
        filter_names: CONNECTION_FILTERS,
        tag_filters: false,
    }
    .parse(req.ids, req.filters, req.offset, req.limit)?;
    if let Some(ids) = &q.ids {
        for id in ids {
            check_id_format("VpnConnectionIds", id, "vpnx", codes::IPV_MALFORMED)?;
        }
    }
    let matches = |c: &VpnConnection| {
        q.matches(&c.tags, |name, value| match name {
            "vpc-id" => c.vpc_id == value,
            "vpn-gateway-id" => c.gateway_id == value,
            "customer-gateway-id" => c.customer_gateway_id == value,
            "vpn-connection-name" => c.name == value,
            "vpn-connection-id" => c.id == value,
            _ => false,
        })
    };
    // Positions (creation order) of the matching connections: narrowed by the ids or an indexed filter,
    // then checked against every filter.
    let positions: Vec<usize> = match ctx.world.region(ctx.region) {
        None => Vec::new(),
        Some(r) => {
            let index = [
                ("vpn-gateway-id", &r.index.by_gateway),
                ("customer-gateway-id", &r.index.by_customer_gateway),
                ("vpc-id", &r.index.by_vpc),
            ]
            .into_iter()
            .find_map(|(name, idx)| q.filter_values(name).map(|v| (v, idx)));
            let candidates = if let Some(ids) = &q.ids {
                Some(r.connection_positions(ids.iter()))
            } else if let Some((values, idx)) = index {
                Some(r.connection_positions(values.iter().filter_map(|v| idx.get(v)).flatten()))
            } else {
                q.filter_values("vpn-connection-id")
                    .map(|ids| r.connection_positions(ids.iter()))
            };
            let all = r.connections();
            match candidates {
                Some(positions) => positions
                    .into_iter()
                    .filter(|p| all.get_index(*p).is_some_and(|(_, c)| matches(c)))
                    .collect(),
                None => all
                    .values()
                    .enumerate()
                    .filter(|(_, c)| matches(c))
                    .map(|(p, _)| p)
                    .collect(),
            }
        }
    };
    let (total, page) = q.page(positions);
    // Serialise from the per-connection JSON cache.
    let set: Vec<&RawValue> = if page.is_empty() {
        Vec::new()
    } else {
        let region = ctx.world.region_mut(ctx.region);
        for p in &page {
            region.rendered_connection(*p);
        }
        let region = &*region;
        page.iter()
            .filter_map(|p| region.rendered_connection_cached(*p))
            .collect()
    };
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(rename = "TotalCount")]
        total: usize,
        #[serde(rename = "VpnConnectionSet")]
        set: Vec<&'a RawValue>,
    }
    let body = Out { total, set };
    super::reply(ctx.request_id, &body)
}

#[derive(Deserialize)]
pub(crate) struct ModifyReq {
    #[serde(rename = "VpnConnectionId")]
    id: String,
    #[serde(rename = "VpnConnectionName")]
    name: Option<String>,
    #[serde(rename = "PreShareKey")]
    pre_share_key: Option<Secret>,
    #[serde(rename = "CustomerGatewayId")]
    customer_gateway_id: Option<String>,
    #[serde(flatten)]
    changes: Changes,
}

fn find_connection<'a>(
    region: Option<&'a Region>,
    param: &str,
    id: &str,
) -> ApiResult<&'a VpnConnection> {
    check_id_format(param, id, "vpnx", codes::IPV_MALFORMED)?;
    region.and_then(|r| r.connections().get(id)).ok_or_else(|| {
        ApiError::new(
            codes::RESOURCE_NOT_FOUND,
            format!("The VPN connection `{id}` does not exist."),
        )
    })
}

pub(crate) fn modify(ctx: &mut Ctx<'_>, req: ModifyReq) -> ApiResult<Vec<u8>> {
    let region = ctx.world.region(ctx.region);
    let current = find_connection(region, "VpnConnectionId", &req.id)?;
    let Some(region) = region else {
        return Err(ApiError::internal("region vanished"));
    };
    if current.state != ConnectionState::Available {
        return Err(ApiError::new(
            codes::UO_VPN_CONN_INVALID_STATE,
            format!(
                "The VPN connection `{}` is not AVAILABLE; it cannot be modified now.",
                req.id
            ),
        ));
    }
    if let Some(name) = &req.name {
        validate::name("VpnConnectionName", name)?;
    }
    if let Some(key) = &req.pre_share_key {
        check_pre_share_key(key)?;
    }
    let Some(gw) = region.gateways.get(&current.gateway_id) else {
        return Err(ApiError::internal("the connection's VPN gateway vanished"));
    };
    let old_cgw = customer_gateway::find(
        Some(region),
        "CustomerGatewayId",
        &current.customer_gateway_id,
    )?;
    let new_cgw = match req.customer_gateway_id.as_deref() {
        Some(id) if id != current.customer_gateway_id => Some(customer_gateway::find(
            Some(region),
            "CustomerGatewayId",
            id,
        )?),
        _ => None,
    };
    let mut conn = current.clone();
    let remote_address_given = req
        .changes
        .ike
        .as_ref()
        .is_some_and(|i| i.remote_address.is_some());
    if let Some(cgw) = new_cgw {
        conn.customer_gateway_id = cgw.id.clone();
        if !remote_address_given && conn.ike.remote_address == old_cgw.ip_address {
            conn.ike.remote_address = cgw.ip_address.clone();
        }
    }
    let cgw = new_cgw.unwrap_or(old_cgw);
    if let Some(b) = &req.changes.bgp {
        if !conn.is_bgp() {
            return Err(ApiError::new(
                codes::INVALID_PARAMETER_CONFLICT,
                "BgpConfig applies to tunnels of RouteType Bgp only.",
            ));
        }
        conn.bgp = Some(bgp_info(b, gw.info.bgp_asn, cgw.bgp_asn)?);
    } else if let Some(b) = conn.bgp.as_mut() {
        b.remote_bgp_asn = cgw.bgp_asn.to_string();
        if cgw.bgp_asn == 0 {
            return Err(ApiError::new(
                codes::UO_VPN_UNSUPPORTED_USR_GW_NOT_EXIST_BGP_ASN,
                "The customer gateway has no BGP ASN.",
            ));
        }
    }
    if let Some(name) = req.name {
        conn.name = name;
    }
    if let Some(key) = req.pre_share_key {
        conn.pre_share_key = key;
    }
    apply_changes(&mut conn, req.changes);
    check_values(&conn)?;
    if let Some(cgw) = new_cgw {
        check_tunnel_quotas(
            region,
            &ctx.settings.quotas,
            &gw.info.id,
            &cgw.id,
            Some(&req.id),
        )?;
    }
    let vpc_cidr = region.vpcs.get(&conn.vpc_id).map(|v| v.cidr);
    check_against_gateway(
        &conn,
        &Env {
            region,
            vpc_cidr,
            quotas: &ctx.settings.quotas,
            except: Some(&req.id),
        },
    )?;
    let cgw_changed = new_cgw.map(|c| c.id.clone());
    let region = ctx.world.region_mut(ctx.region);
    if let Some(cgw) = cgw_changed {
        region.set_connection_customer_gateway(&req.id, &cgw);
    }
    if let Some(slot) = region.connection_mut(&req.id) {
        *slot = conn;
    }
    ctx.reply_empty()
}

#[derive(Deserialize)]
pub(crate) struct DeleteReq {
    #[serde(rename = "VpnGatewayId")]
    gateway_id: String,
    #[serde(rename = "VpnConnectionId")]
    id: String,
}

pub(crate) fn delete(ctx: &mut Ctx<'_>, req: DeleteReq) -> ApiResult<Vec<u8>> {
    let region = ctx.world.region(ctx.region);
    gateway::find(region, "VpnGatewayId", &req.gateway_id)?;
    let conn = find_connection(region, "VpnConnectionId", &req.id)?;
    if conn.gateway_id != req.gateway_id {
        return Err(ApiError::new(
            codes::RESOURCE_NOT_FOUND,
            format!(
                "The VPN connection `{}` does not belong to the VPN gateway `{}`.",
                req.id, req.gateway_id
            ),
        ));
    }
    if conn.state != ConnectionState::Available {
        return Err(ApiError::new(
            codes::UO_DELETE_VPN_CONN_INVALID_STATE,
            format!(
                "The VPN connection `{}` is being created, updated or deleted; it cannot be deleted now.",
                req.id
            ),
        ));
    }
    start_task(ctx, TaskKind::DeleteVpnConnection, &req.id)?;
    if let Some(c) = ctx.world.region_mut(ctx.region).connection_mut(&req.id) {
        c.state = ConnectionState::Deleting;
    }
    ctx.reply_empty()
}
