//! The settings a create or modify request carries, and how they apply onto a connection.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use rand::rngs::StdRng;
use rand::Rng;
use serde::Deserialize;

use crate::world::model::{HealthCheckConfig, Spd, VpnConnection};
use crate::world::Region;

/// Health-check addresses are drawn from 169.254.128.0/17.
const HEALTH_CHECK_BASE: u32 = u32::from_be_bytes([169, 254, 128, 0]);
const HEALTH_CHECK_SIZE: u32 = 1 << 15;

#[derive(Deserialize, Default)]
pub struct IkeIn {
    #[serde(rename = "PropoEncryAlgorithm")]
    pub(super) encrypt_algorithm: Option<String>,
    #[serde(rename = "PropoAuthenAlgorithm")]
    pub(super) authen_algorithm: Option<String>,
    #[serde(rename = "ExchangeMode")]
    pub(super) exchange_mode: Option<String>,
    #[serde(rename = "LocalIdentity")]
    pub(super) local_identity: Option<String>,
    #[serde(rename = "RemoteIdentity")]
    pub(super) remote_identity: Option<String>,
    #[serde(rename = "LocalAddress")]
    pub(super) local_address: Option<String>,
    #[serde(rename = "RemoteAddress")]
    pub(super) remote_address: Option<String>,
    #[serde(rename = "LocalFqdnName")]
    pub(super) local_fqdn_name: Option<String>,
    #[serde(rename = "RemoteFqdnName")]
    pub(super) remote_fqdn_name: Option<String>,
    #[serde(rename = "DhGroupName")]
    pub(super) dh_group_name: Option<String>,
    #[serde(rename = "IKESaLifetimeSeconds")]
    pub(super) sa_lifetime_seconds: Option<u64>,
    #[serde(rename = "IKEVersion")]
    pub(super) version: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct IpsecIn {
    #[serde(rename = "EncryptAlgorithm")]
    pub(super) encrypt_algorithm: Option<String>,
    #[serde(rename = "IntegrityAlgorith")]
    pub(super) integrity_algorith: Option<String>,
    #[serde(rename = "IntegrityAlgorithm")]
    pub(super) integrity_algorithm: Option<String>,
    #[serde(rename = "IPSECSaLifetimeSeconds")]
    pub(super) sa_lifetime_seconds: Option<u64>,
    #[serde(rename = "PfsDhGroup")]
    pub(super) pfs_dh_group: Option<String>,
    #[serde(rename = "IPSECSaLifetimeTraffic")]
    pub(super) sa_lifetime_traffic: Option<u64>,
}

#[derive(Deserialize)]
pub struct SpdIn {
    #[serde(rename = "LocalCidrBlock")]
    pub(super) local: String,
    #[serde(rename = "RemoteCidrBlock")]
    pub(super) remote: Vec<String>,
}

#[derive(Deserialize)]
pub struct BgpIn {
    #[serde(rename = "TunnelCidr")]
    pub(super) tunnel_cidr: String,
    #[serde(rename = "LocalBgpIp")]
    pub(super) local_bgp_ip: String,
    #[serde(rename = "RemoteBgpIp")]
    pub(super) remote_bgp_ip: String,
}

#[derive(Deserialize, Default)]
pub struct HealthCheckIn {
    #[serde(rename = "ProbeType")]
    pub(super) probe_type: Option<String>,
    #[serde(rename = "ProbeInterval")]
    pub(super) probe_interval: Option<i64>,
    #[serde(rename = "ProbeThreshold")]
    pub(super) probe_threshold: Option<i64>,
    #[serde(rename = "ProbeTimeout")]
    pub(super) probe_timeout: Option<i64>,
}

#[derive(Deserialize)]
pub struct RouteIn {
    #[serde(rename = "DestinationCidrBlock")]
    pub(super) destination_cidr_block: String,
    #[serde(rename = "Priority")]
    pub(super) priority: Option<u64>,
    #[serde(rename = "Description")]
    pub(super) description: Option<String>,
}

/// The settings both create and modify take.
#[derive(Deserialize, Default)]
pub struct Changes {
    #[serde(rename = "SecurityPolicyDatabases")]
    pub(super) spd: Option<Vec<SpdIn>>,
    #[serde(rename = "IKEOptionsSpecification")]
    pub(super) ike: Option<IkeIn>,
    #[serde(rename = "IPSECOptionsSpecification")]
    pub(super) ipsec: Option<IpsecIn>,
    #[serde(rename = "EnableHealthCheck")]
    pub(super) enable_health_check: Option<bool>,
    #[serde(rename = "HealthCheckLocalIp")]
    pub(super) health_check_local_ip: Option<String>,
    #[serde(rename = "HealthCheckRemoteIp")]
    pub(super) health_check_remote_ip: Option<String>,
    #[serde(rename = "NegotiationType")]
    pub(super) negotiation_type: Option<String>,
    #[serde(rename = "DpdEnable")]
    pub(super) dpd_enable: Option<i64>,
    #[serde(rename = "DpdTimeout")]
    pub(super) dpd_timeout: Option<String>,
    #[serde(rename = "DpdAction")]
    pub(super) dpd_action: Option<String>,
    #[serde(rename = "HealthCheckConfig")]
    pub(super) health_check_config: Option<HealthCheckIn>,
    #[serde(rename = "BgpConfig")]
    pub(super) bgp: Option<BgpIn>,
}

pub fn allocate_health_check_ips(
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
pub(super) fn apply_changes(conn: &mut VpnConnection, changes: Changes) {
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
