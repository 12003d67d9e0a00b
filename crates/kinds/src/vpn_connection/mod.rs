//! `tencentcloud_vpn_connection`: a tunnel between a VPN gateway and a customer gateway, with its
//! SPD, IKE, IPsec, DPD, BGP and health-check settings. Its creation and deletion run as
//! asynchronous tasks.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;
use tunnelform_model::Map;

use futures::future::BoxFuture;
use futures::FutureExt;
use ipnet::Ipv4Net;
use tunnelform_model::schema::{
    AttrSchema, AttrType as T, BlockSchema, Check as C, DefaultValue as D, Nesting,
};
use tunnelform_model::{Attrs, Diagnostic, Value};
use tunnelform_tencent_api::actions::{
    CreateVpnConnection, DeleteVpnConnection, ModifyVpnConnectionAttribute,
};
use tunnelform_tencent_api::vpc::{
    BgpConfig, CreateVpnConnRoute, CreateVpnConnectionRequest, DeleteVpnConnectionRequest, Filter,
    HealthCheckConfig, IKEOptionsSpecification, IPSECOptionsSpecification,
    ModifyVpnConnectionAttributeRequest, SecurityPolicyDatabase, VpnConnection,
};
use tunnelform_tencent_api::{ApiError, Client, Secret};

use crate::attrs::{self, get_bool, get_int, get_str, opt_s, s, secret_of};
use crate::contract::{
    Call, CallError, Claim, Conflict, Created, Deleted, Held, Kind, Member, Observed, Per, Problem,
    Quota, RegionHint,
};
use crate::plan_view::PlanView;
use crate::registry::ResourceKind;
use crate::tags::{split_tags, Tag};

pub mod plan_rules;
pub mod rules;
pub mod together;

const STR: T = T::String;
const STR_SET: T = T::Set(&T::String);
const STR_MAP: T = T::Map(&T::String);

pub const IKE_ENCRYPTION: &[&str] = &[
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
pub const IKE_AUTH: &[&str] = &["MD5", "SHA", "SHA-256", "SHA-384", "SHA-512", "SM3"];
pub const IKE_DH: &[&str] = &[
    "GROUP1", "GROUP2", "GROUP5", "GROUP14", "GROUP24", "GROUP19", "GROUP20",
];
pub const IPSEC_ENCRYPTION: &[&str] = &[
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
pub const IPSEC_INTEGRITY: &[&str] = &["MD5", "SHA1", "SHA-256", "SHA-384", "SHA-512", "SM3"];
pub const IPSEC_PFS: &[&str] = &[
    "NULL",
    "DH-GROUP1",
    "DH-GROUP2",
    "DH-GROUP5",
    "DH-GROUP14",
    "DH-GROUP24",
    "DH-GROUP19",
    "DH-GROUP20",
];
pub const ROUTE_TYPES: &[&str] = &["STATIC", "StaticRoute", "Policy", "Bgp"];
pub const NEGOTIATION_TYPES: &[&str] = &["active", "passive", "flowTrigger"];
pub const DPD_ACTIONS: &[&str] = &["clear", "restart"];

const SPD_BLOCK: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("local_cidr_block", STR)
            .required()
            .checks(&[C::Cidr])
            .doc("VPC-side CIDR block."),
        AttrSchema::new("remote_cidr_block", STR_SET)
            .required()
            .checks(&[C::Cidr])
            .doc("Customer-side CIDR blocks (a set)."),
    ],
};

const BGP_BLOCK: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("tunnel_cidr", STR)
            .required()
            .checks(&[C::Cidr30])
            .doc("BGP tunnel block, a /30."),
        AttrSchema::new("local_bgp_ip", STR)
            .required()
            .checks(&[C::Ipv4])
            .doc("Cloud-side BGP address, inside tunnel_cidr."),
        AttrSchema::new("remote_bgp_ip", STR)
            .required()
            .checks(&[C::Ipv4])
            .doc("Customer-side BGP address, inside tunnel_cidr."),
    ],
};

const HEALTH_CHECK_BLOCK: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("probe_type", STR)
            .computed()
            .default(D::Str("NQA"))
            .checks(&[C::OneOf(&["NQA"])]),
        AttrSchema::new("probe_interval", T::Int)
            .computed()
            .checks(&[C::IntRange(1000, 5000)])
            .doc("Milliseconds."),
        AttrSchema::new("probe_threshold", T::Int)
            .computed()
            .checks(&[C::IntRange(3, 8)]),
        AttrSchema::new("probe_timeout", T::Int)
            .computed()
            .checks(&[C::IntRange(10, 5000)])
            .doc("Milliseconds."),
    ],
};

/// `route` (`CreateVpnConnection.Route`, a `CreateVpnConnRoute`): the route the API adds on the
/// VPN gateway into this tunnel when it creates it. Only for `route_type = "StaticRoute"`. The API
/// takes it on create only (ModifyVpnConnectionAttribute has no such parameter, so a change
/// replaces the tunnel) and never returns it (DescribeVpnConnections has no such field): it is
/// write-only, kept as planned. The provider's (commented-out) schema names it `route`, a list of
/// at most one block with `destination_cidr_block` and `priority`; `description` is the API's.
const ROUTE_BLOCK: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("destination_cidr_block", STR)
            .required()
            .checks(&[C::Cidr])
            .doc("The on-premises range the route sends into the tunnel."),
        AttrSchema::new("priority", T::Int)
            .checks(&[C::IntOneOf(&[0, 100])])
            .doc("0 (preferred) or 100 (backup)."),
        AttrSchema::new("description", STR)
            .checks(&[C::StrLen(0, 100)])
            .doc("A note on the route."),
    ],
};

pub const SCHEMA: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("name", STR)
            .required()
            .checks(&[C::StrLen(1, 60)])
            .doc("Name of the tunnel, 1-60 characters."),
        AttrSchema::new("vpc_id", STR)
            .force_new()
            .doc("VPC of the VPN gateway (required unless the gateway is CCN)."),
        AttrSchema::new("is_ccn_type", T::Bool).read_only(),
        AttrSchema::new("vpn_gateway_id", STR)
            .required()
            .force_new(),
        AttrSchema::new("customer_gateway_id", STR)
            .required()
            .force_new(),
        AttrSchema::new("pre_share_key", STR)
            .required()
            .sensitive()
            .checks(&[C::StrLen(1, 128)]),
        AttrSchema::new("security_group_policy", T::Block(Nesting::Set, &SPD_BLOCK))
            .doc("SPD entries (a set): which VPC block talks to which customer blocks."),
        AttrSchema::new("ike_proto_encry_algorithm", STR)
            .default(D::Str("3DES-CBC"))
            .checks(&[C::OneOf(IKE_ENCRYPTION)]),
        AttrSchema::new("ike_proto_authen_algorithm", STR)
            .default(D::Str("MD5"))
            .checks(&[C::OneOf(IKE_AUTH)]),
        AttrSchema::new("ike_exchange_mode", STR)
            .default(D::Str("MAIN"))
            .checks(&[C::OneOf(&["AGGRESSIVE", "MAIN"])]),
        AttrSchema::new("ike_local_identity", STR)
            .default(D::Str("ADDRESS"))
            .checks(&[C::OneOf(&["ADDRESS", "FQDN"])]),
        AttrSchema::new("ike_remote_identity", STR)
            .default(D::Str("ADDRESS"))
            .checks(&[C::OneOf(&["ADDRESS", "FQDN"])]),
        AttrSchema::new("ike_local_address", STR)
            .computed()
            .checks(&[C::Ipv4]),
        AttrSchema::new("ike_remote_address", STR)
            .computed()
            .checks(&[C::Ipv4]),
        AttrSchema::new("ike_local_fqdn_name", STR).computed(),
        AttrSchema::new("ike_remote_fqdn_name", STR).computed(),
        AttrSchema::new("ike_dh_group_name", STR)
            .default(D::Str("GROUP1"))
            .checks(&[C::OneOf(IKE_DH)]),
        AttrSchema::new("ike_sa_lifetime_seconds", T::Int)
            .default(D::Int(86400))
            .checks(&[C::IntRange(60, 604800)]),
        AttrSchema::new("ike_version", STR)
            .default(D::Str("IKEV1"))
            .checks(&[C::OneOf(&["IKEV1", "IKEV2"])]),
        AttrSchema::new("ipsec_encrypt_algorithm", STR)
            .default(D::Str("3DES-CBC"))
            .checks(&[C::OneOf(IPSEC_ENCRYPTION)]),
        AttrSchema::new("ipsec_integrity_algorithm", STR)
            .default(D::Str("MD5"))
            .checks(&[C::OneOf(IPSEC_INTEGRITY)]),
        AttrSchema::new("ipsec_sa_lifetime_seconds", T::Int)
            .default(D::Int(3600))
            .checks(&[C::IntRange(180, 604800)]),
        AttrSchema::new("ipsec_pfs_dh_group", STR)
            .default(D::Str("NULL"))
            .checks(&[C::OneOf(IPSEC_PFS)]),
        AttrSchema::new("ipsec_sa_lifetime_traffic", T::Int)
            .default(D::Int(1843200))
            .checks(&[C::IntRange(2560, 4294967295)])
            .doc("Kilobytes."),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("dpd_enable", T::Int)
            .default(D::Int(0))
            .checks(&[C::IntRange(0, 1)]),
        AttrSchema::new("dpd_timeout", T::Int)
            .default(D::Int(30))
            .checks(&[C::IntRange(30, 60)])
            .doc("Seconds."),
        AttrSchema::new("dpd_action", STR)
            .default(D::Str("clear"))
            .checks(&[C::OneOf(DPD_ACTIONS)]),
        AttrSchema::new("route_type", STR)
            .default(D::Str("StaticRoute"))
            .force_new()
            .checks(&[C::OneOf(ROUTE_TYPES)]),
        AttrSchema::new("negotiation_type", STR)
            .default(D::Str("active"))
            .checks(&[C::OneOf(NEGOTIATION_TYPES)]),
        AttrSchema::new("route", T::Block(Nesting::Single, &ROUTE_BLOCK))
            .force_new()
            .write_only()
            .doc("The tunnel's own route on its VPN gateway (StaticRoute tunnels; create only, never read back)."),
        AttrSchema::new("bgp_config", T::Block(Nesting::Single, &BGP_BLOCK))
            .computed()
            .force_new(),
        AttrSchema::new(
            "health_check_config",
            T::Block(Nesting::Single, &HEALTH_CHECK_BLOCK),
        )
        .computed(),
        AttrSchema::new("enable_health_check", T::Bool).default(D::Bool(false)),
        AttrSchema::new("health_check_local_ip", STR)
            .computed()
            .checks(&[C::Ipv4]),
        AttrSchema::new("health_check_remote_ip", STR)
            .computed()
            .checks(&[C::Ipv4]),
        AttrSchema::new("create_time", STR).read_only(),
        AttrSchema::new("state", STR).read_only(),
        AttrSchema::new("net_status", STR).read_only(),
        AttrSchema::new("vpn_proto", STR).read_only(),
        AttrSchema::new("encrypt_proto", STR).read_only(),
        AttrSchema::new("health_check_status", STR).read_only(),
    ],
};

/// Attributes of a described VPN connection (the key marked sensitive, ownership tags set apart).
pub fn observe(c: &VpnConnection) -> Observed {
    let (tags, own) = split_tags(&c.tag_set);
    let ike = &c.ike_options_specification;
    let ipsec = &c.ipsec_options_specification;
    let mut a = crate::attrs::AttrsBuilder::with_capacity(40);
    a.insert("name".into(), s(&c.vpn_connection_name));
    a.insert("vpc_id".into(), attrs::non_empty(&c.vpc_id));
    a.insert("is_ccn_type".into(), Value::Bool(c.vpc_id.is_empty()));
    a.insert("vpn_gateway_id".into(), s(&c.vpn_gateway_id));
    a.insert("customer_gateway_id".into(), s(&c.customer_gateway_id));
    a.insert(
        "pre_share_key".into(),
        Value::sensitive(s(c.pre_share_key.expose())),
    );
    a.insert(
        "security_group_policy".into(),
        Value::List(
            c.security_policy_database_set
                .iter()
                .map(|e| {
                    Value::Map(Map::from([
                        ("local_cidr_block".to_string(), s(&e.local_cidr_block)),
                        (
                            "remote_cidr_block".to_string(),
                            Value::List(e.remote_cidr_block.iter().map(|r| s(r)).collect()),
                        ),
                    ]))
                })
                .collect(),
        ),
    );
    a.insert(
        "ike_proto_encry_algorithm".into(),
        opt_s(&ike.propo_encry_algorithm),
    );
    a.insert(
        "ike_proto_authen_algorithm".into(),
        opt_s(&ike.propo_authen_algorithm),
    );
    a.insert("ike_exchange_mode".into(), opt_s(&ike.exchange_mode));
    a.insert("ike_local_identity".into(), opt_s(&ike.local_identity));
    a.insert("ike_remote_identity".into(), opt_s(&ike.remote_identity));
    a.insert("ike_local_address".into(), opt_s(&ike.local_address));
    a.insert("ike_remote_address".into(), opt_s(&ike.remote_address));
    a.insert("ike_local_fqdn_name".into(), opt_s(&ike.local_fqdn_name));
    a.insert("ike_remote_fqdn_name".into(), opt_s(&ike.remote_fqdn_name));
    a.insert("ike_dh_group_name".into(), opt_s(&ike.dh_group_name));
    a.insert(
        "ike_sa_lifetime_seconds".into(),
        ike.ike_sa_lifetime_seconds
            .map(|v| Value::int(v as i64))
            .unwrap_or(Value::Null),
    );
    a.insert("ike_version".into(), opt_s(&ike.ike_version));
    a.insert(
        "ipsec_encrypt_algorithm".into(),
        opt_s(&ipsec.encrypt_algorithm),
    );
    a.insert(
        "ipsec_integrity_algorithm".into(),
        opt_s(
            &ipsec
                .integrity_algorithm
                .clone()
                .filter(|s| !s.is_empty())
                .or_else(|| ipsec.integrity_algorith.clone()),
        ),
    );
    a.insert(
        "ipsec_sa_lifetime_seconds".into(),
        ipsec
            .ipsec_sa_lifetime_seconds
            .map(|v| Value::int(v as i64))
            .unwrap_or(Value::Null),
    );
    a.insert("ipsec_pfs_dh_group".into(), opt_s(&ipsec.pfs_dh_group));
    a.insert(
        "ipsec_sa_lifetime_traffic".into(),
        ipsec
            .ipsec_sa_lifetime_traffic
            .map(|v| Value::int(v as i64))
            .unwrap_or(Value::Null),
    );
    a.insert("tags".into(), tags);
    a.insert("dpd_enable".into(), Value::int(c.dpd_enable));
    a.insert(
        "dpd_timeout".into(),
        c.dpd_timeout
            .parse::<i64>()
            .map(Value::int)
            .unwrap_or_else(|_| s(&c.dpd_timeout)),
    );
    a.insert("dpd_action".into(), s(&c.dpd_action));
    a.insert("route_type".into(), s(&c.route_type));
    a.insert("negotiation_type".into(), s(&c.negotiation_type));
    a.insert(
        "bgp_config".into(),
        match &c.bgp_config {
            Some(b) if b.tunnel_cidr.as_deref().is_some_and(|t| !t.is_empty()) => {
                Value::Map(Map::from([
                    ("tunnel_cidr".to_string(), opt_s(&b.tunnel_cidr)),
                    ("local_bgp_ip".to_string(), opt_s(&b.local_bgp_ip)),
                    ("remote_bgp_ip".to_string(), opt_s(&b.remote_bgp_ip)),
                ]))
            }
            _ => Value::Null,
        },
    );
    a.insert(
        "health_check_config".into(),
        match &c.health_check_config {
            Some(h) => {
                let mut m = Map::new();
                if let Some(v) = h.probe_type.as_deref().filter(|v| !v.is_empty()) {
                    m.insert("probe_type".into(), s(v));
                }
                for (k, v) in [
                    ("probe_interval", h.probe_interval),
                    ("probe_threshold", h.probe_threshold),
                    ("probe_timeout", h.probe_timeout),
                ] {
                    if let Some(v) = v {
                        m.insert(k.into(), Value::int(v));
                    }
                }
                if m.is_empty() {
                    Value::Null
                } else {
                    Value::Map(m)
                }
            }
            None => Value::Null,
        },
    );
    a.insert(
        "enable_health_check".into(),
        Value::Bool(c.enable_health_check),
    );
    a.insert(
        "health_check_local_ip".into(),
        attrs::non_empty(&c.health_check_local_ip),
    );
    a.insert(
        "health_check_remote_ip".into(),
        attrs::non_empty(&c.health_check_remote_ip),
    );
    a.insert("create_time".into(), s(&c.created_time));
    a.insert("state".into(), s(&c.state));
    a.insert("net_status".into(), s(&c.net_status));
    a.insert("vpn_proto".into(), s(&c.vpn_proto));
    a.insert("encrypt_proto".into(), s(&c.encrypt_proto));
    a.insert("health_check_status".into(), s(&c.health_check_status));
    Observed {
        id: c.vpn_connection_id.clone(),
        attrs: a.build(),
        ownership: own,
    }
}

fn spd_of(a: &Attrs) -> Option<Vec<SecurityPolicyDatabase>> {
    let entries = a.get("security_group_policy")?.as_list()?;
    Some(
        entries
            .iter()
            .filter_map(|e| {
                Some(SecurityPolicyDatabase {
                    local_cidr_block: e.get("local_cidr_block")?.as_str()?.to_string(),
                    remote_cidr_block: e
                        .get("remote_cidr_block")
                        .and_then(Value::as_list)
                        .map(|l| {
                            l.iter()
                                .filter_map(|r| r.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                })
            })
            .collect(),
    )
}

fn ike_of(a: &Attrs) -> IKEOptionsSpecification {
    IKEOptionsSpecification {
        propo_encry_algorithm: get_str(a, "ike_proto_encry_algorithm"),
        propo_authen_algorithm: get_str(a, "ike_proto_authen_algorithm"),
        exchange_mode: get_str(a, "ike_exchange_mode"),
        local_identity: get_str(a, "ike_local_identity"),
        remote_identity: get_str(a, "ike_remote_identity"),
        local_address: get_str(a, "ike_local_address"),
        remote_address: get_str(a, "ike_remote_address"),
        local_fqdn_name: get_str(a, "ike_local_fqdn_name"),
        remote_fqdn_name: get_str(a, "ike_remote_fqdn_name"),
        dh_group_name: get_str(a, "ike_dh_group_name"),
        ike_sa_lifetime_seconds: get_int(a, "ike_sa_lifetime_seconds").map(|v| v as u64),
        ike_version: get_str(a, "ike_version"),
    }
}

fn ipsec_of(a: &Attrs) -> IPSECOptionsSpecification {
    IPSECOptionsSpecification {
        encrypt_algorithm: get_str(a, "ipsec_encrypt_algorithm"),
        integrity_algorith: None,
        integrity_algorithm: get_str(a, "ipsec_integrity_algorithm"),
        ipsec_sa_lifetime_seconds: get_int(a, "ipsec_sa_lifetime_seconds").map(|v| v as u64),
        pfs_dh_group: get_str(a, "ipsec_pfs_dh_group"),
        ipsec_sa_lifetime_traffic: get_int(a, "ipsec_sa_lifetime_traffic").map(|v| v as u64),
    }
}

fn bgp_of(a: &Attrs) -> Option<BgpConfig> {
    let b = a.get("bgp_config")?;
    Some(BgpConfig {
        tunnel_cidr: b.get("tunnel_cidr")?.as_str()?.to_string(),
        local_bgp_ip: b.get("local_bgp_ip")?.as_str()?.to_string(),
        remote_bgp_ip: b.get("remote_bgp_ip")?.as_str()?.to_string(),
    })
}

fn route_of(a: &Attrs) -> Option<CreateVpnConnRoute> {
    let r = a.get("route")?.as_map()?;
    Some(CreateVpnConnRoute {
        destination_cidr_block: r.get("destination_cidr_block")?.as_str()?.to_string(),
        priority: r
            .get("priority")
            .and_then(Value::as_i64)
            .and_then(|p| u64::try_from(p).ok()),
        description: r
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

fn health_check_of(a: &Attrs) -> Option<HealthCheckConfig> {
    let h = a.get("health_check_config")?.as_map()?;
    let int = |k: &str| h.get(k).and_then(Value::as_i64);
    Some(HealthCheckConfig {
        probe_type: h
            .get("probe_type")
            .and_then(Value::as_str)
            .map(str::to_string),
        probe_interval: int("probe_interval"),
        probe_threshold: int("probe_threshold"),
        probe_timeout: int("probe_timeout"),
    })
}

/// The CreateVpnConnection request for planned attributes (all known by now).
pub fn create_request(a: &Attrs, tags: Vec<Tag>) -> CreateVpnConnectionRequest {
    CreateVpnConnectionRequest {
        vpn_gateway_id: get_str(a, "vpn_gateway_id").unwrap_or_default(),
        customer_gateway_id: get_str(a, "customer_gateway_id").unwrap_or_default(),
        vpn_connection_name: get_str(a, "name").unwrap_or_default(),
        pre_share_key: secret_of(a, "pre_share_key").unwrap_or_else(|| Secret::new("")),
        vpc_id: get_str(a, "vpc_id"),
        security_policy_databases: spd_of(a).filter(|v| !v.is_empty()),
        ike_options_specification: Some(ike_of(a)),
        ipsec_options_specification: Some(ipsec_of(a)),
        tags: if tags.is_empty() { None } else { Some(tags) },
        enable_health_check: get_bool(a, "enable_health_check"),
        health_check_local_ip: get_str(a, "health_check_local_ip"),
        health_check_remote_ip: get_str(a, "health_check_remote_ip"),
        route_type: get_str(a, "route_type"),
        negotiation_type: get_str(a, "negotiation_type"),
        dpd_enable: get_int(a, "dpd_enable"),
        dpd_timeout: get_int(a, "dpd_timeout").map(|v| v.to_string()),
        dpd_action: get_str(a, "dpd_action"),
        route: route_of(a),
        bgp_config: bgp_of(a),
        health_check_config: health_check_of(a),
    }
}

/// The ModifyVpnConnectionAttribute request for the changed arguments (None when nothing it can
/// change changed, e.g. only tags).
pub fn modify_request(
    id: &str,
    a: &Attrs,
    changed: &[String],
) -> Option<ModifyVpnConnectionAttributeRequest> {
    let has = |k: &str| attrs::changed(changed, k);
    let has_prefix = |p: &str| attrs::changed_prefix(changed, p);
    let mut r = ModifyVpnConnectionAttributeRequest {
        vpn_connection_id: id.to_string(),
        ..Default::default()
    };
    let mut any = false;
    if has("name") {
        r.vpn_connection_name = get_str(a, "name");
        any = true;
    }
    if has("pre_share_key") {
        r.pre_share_key = secret_of(a, "pre_share_key");
        any = true;
    }
    if has("security_group_policy") {
        r.security_policy_databases = Some(spd_of(a).unwrap_or_default());
        any = true;
    }
    if has_prefix("ike_") {
        r.ike_options_specification = Some(ike_of(a));
        any = true;
    }
    if has_prefix("ipsec_") {
        r.ipsec_options_specification = Some(ipsec_of(a));
        any = true;
    }
    if has("enable_health_check") || has("health_check_local_ip") || has("health_check_remote_ip") {
        r.enable_health_check = get_bool(a, "enable_health_check");
        r.health_check_local_ip = get_str(a, "health_check_local_ip");
        r.health_check_remote_ip = get_str(a, "health_check_remote_ip");
        any = true;
    }
    if has("health_check_config") {
        r.health_check_config = health_check_of(a);
        any = true;
    }
    if has("negotiation_type") {
        r.negotiation_type = get_str(a, "negotiation_type");
        any = true;
    }
    if has_prefix("dpd_") {
        r.dpd_enable = get_int(a, "dpd_enable");
        r.dpd_timeout = get_int(a, "dpd_timeout").map(|v| v.to_string());
        r.dpd_action = get_str(a, "dpd_action");
        any = true;
    }
    any.then_some(r)
}

/// The kind.
pub struct VpnConnectionKind;

impl Kind for VpnConnectionKind {
    fn type_name(&self) -> &'static str {
        "tencentcloud_vpn_connection"
    }

    fn id_prefix(&self) -> &'static str {
        "vpnx"
    }

    fn schema(&self) -> &'static BlockSchema {
        &SCHEMA
    }

    fn check_together(&self, members: &[Member<'_>]) -> Vec<Conflict> {
        together::check(members)
    }

    fn check_plan(&self, plan: &dyn PlanView) -> Vec<Diagnostic> {
        plan_rules::check(plan)
    }

    fn plan_vpcs(&self, plan: &dyn PlanView) -> BTreeMap<String, BTreeSet<String>> {
        plan_rules::vpcs(plan)
    }

    fn check_plan_vpcs(
        &self,
        plan: &dyn PlanView,
        cidrs: &HashMap<String, Ipv4Net>,
    ) -> Vec<Diagnostic> {
        plan_rules::check_vpcs(plan, cidrs)
    }

    fn quotas(&self) -> &'static [Quota] {
        &[
            Quota {
                name: "tunnels-per-customer-gateway",
                objects: "tunnels",
                default: 10,
                per: Per::Target {
                    attr: "customer_gateway_id",
                    kind: ResourceKind::CustomerGateway,
                    place: "customer gateway",
                    filter: "customer-gateway-id",
                },
            },
            Quota {
                name: "tunnels-per-vpn-gateway",
                objects: "tunnels",
                default: 20,
                per: Per::Target {
                    attr: "vpn_gateway_id",
                    kind: ResourceKind::VpnGateway,
                    place: "VPN gateway",
                    filter: "vpn-gateway-id",
                },
            },
        ]
    }

    // A few gateways (a change that adds a site): only their tunnels are read, one filtered
    // query for each quota; many: every tunnel of the region, once, for both.
    fn count_existing<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        asked: &'a [(Quota, Vec<String>)],
    ) -> BoxFuture<'a, Result<Vec<HashMap<String, u64>>, ApiError>> {
        async move {
            // Each quota names its attribute and the Describe filter on it (the kind contract's
            // `Per`); an object is counted under its attribute's value as the kind reads it
            // (`observe`, the mapping `read` uses), whatever the quota.
            let scope_of = |q: &Quota| match q.per {
                Per::Target { attr, filter, .. } | Per::Value { attr, filter, .. } => {
                    Some((attr, filter))
                }
                Per::Region => None,
            };
            let few = asked.iter().all(|(_, keys)| keys.len() <= 5);
            let tunnels = if few {
                let mut found: Vec<VpnConnection> = Vec::new();
                for (q, keys) in asked.iter().filter(|(_, k)| !k.is_empty()) {
                    let Some((_, name)) = scope_of(q) else {
                        continue;
                    };
                    let filter = Filter {
                        name: name.to_string(),
                        values: keys.clone(),
                    };
                    found.extend(
                        client
                            .describe_vpn_connections_by_filters(region, &[filter])
                            .await?,
                    );
                }
                // A tunnel found by both queries is counted once for each quota below.
                let mut seen = std::collections::HashSet::new();
                found.retain(|c| seen.insert(c.vpn_connection_id.clone()));
                found
            } else {
                client
                    .describe_vpn_connections_by_filters(region, &[])
                    .await?
            };
            let observed: Vec<Observed> = tunnels.iter().map(observe).collect();
            Ok(asked
                .iter()
                .map(|(q, _)| {
                    let mut counts: HashMap<String, u64> = HashMap::new();
                    for o in &observed {
                        let key = match scope_of(q) {
                            Some((attr, _)) => match o.attrs.get(attr).and_then(Value::as_str) {
                                Some(k) => k.to_string(),
                                None => continue,
                            },
                            None => String::new(),
                        };
                        *counts.entry(key).or_default() += 1;
                    }
                    counts
                })
                .collect())
        }
        .boxed()
    }

    fn noun(&self) -> &'static str {
        "tunnel"
    }

    // On its VPN gateway a tunnel holds its SPD remote ranges, its BGP tunnel range and the pair
    // (customer gateway, VPN gateway): the API refuses overlaps and a second tunnel per pair.
    fn claims(&self, attrs: &Attrs) -> Vec<Claim> {
        let Some(gw) = get_str(attrs, "vpn_gateway_id") else {
            return Vec::new();
        };
        let scope = format!("VPN gateway {gw}");
        let mut out = Vec::new();
        let range = |what, net| Claim {
            scope: scope.clone(),
            held: Held::Range { what, net },
        };
        for entry in attrs
            .get("security_group_policy")
            .and_then(Value::as_list)
            .into_iter()
            .flatten()
        {
            for r in entry
                .get("remote_cidr_block")
                .and_then(Value::as_list)
                .into_iter()
                .flatten()
            {
                if let Some(net) = r.as_str().and_then(|r| r.parse().ok()) {
                    out.push(range("SPD range", net));
                }
            }
        }
        if let Some(net) = attrs
            .get("bgp_config")
            .and_then(|b| b.get("tunnel_cidr"))
            .and_then(Value::as_str)
            .and_then(|c| c.parse().ok())
        {
            out.push(range("BGP range", net));
        }
        if let Some(cgw) = get_str(attrs, "customer_gateway_id") {
            out.push(Claim {
                scope: scope.clone(),
                held: Held::One {
                    why: format!("the new tunnel would connect the same customer gateway ({cgw}) and VPN gateway ({gw}) as the old one, and Tencent Cloud allows one tunnel per pair"),
                    key: cgw,
                },
            });
        }
        out
    }

    fn delete_needs(&self) -> &'static [&'static str] {
        &["vpn_gateway_id"]
    }

    fn region_hint(&self) -> RegionHint {
        RegionHint::Follows("vpn_gateway_id")
    }

    fn check(&self, attrs: &Attrs) -> Vec<Problem> {
        rules::check(attrs)
    }

    // Connections can be thousands, 100 per describe, against 100 calls/s shared with everything
    // else: polled half as often as gateways.
    fn poll_interval(&self) -> Duration {
        Duration::from_millis(250)
    }

    fn reads_by_id(&self) -> bool {
        true
    }

    fn read<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Observed>, ApiError>> {
        async move {
            Ok(client
                .describe_vpn_connections_by_ids(region, ids)
                .await?
                .iter()
                .map(observe)
                .collect())
        }
        .boxed()
    }

    fn create<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        attrs: &'a Attrs,
        tags: Vec<Tag>,
    ) -> BoxFuture<'a, Result<Created, ApiError>> {
        async move {
            let r = client
                .call::<CreateVpnConnection>(region, &create_request(attrs, tags))
                .await?;
            Ok(Created {
                id: r.vpn_connection.vpn_connection_id,
                task_id: Some(r.request_id.clone()),
                request_id: r.request_id,
                observed: None,
            })
        }
        .boxed()
    }

    fn update<'a>(
        &'a self,
        call: &'a Call<'a>,
        id: &'a str,
        attrs: &'a Attrs,
        changed: &'a [String],
    ) -> BoxFuture<'a, Result<(), CallError>> {
        async move {
            if let Some(req) = modify_request(id, attrs, changed) {
                let r = call
                    .client
                    .call::<ModifyVpnConnectionAttribute>(call.region, &req)
                    .await?;
                call.sent(&r.request_id)?;
            }
            Ok(())
        }
        .boxed()
    }

    fn delete<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        id: &'a str,
        before: Option<&'a Attrs>,
    ) -> BoxFuture<'a, Result<Option<Deleted>, ApiError>> {
        async move {
            let req = DeleteVpnConnectionRequest {
                vpn_gateway_id: before
                    .and_then(|b| get_str(b, "vpn_gateway_id"))
                    .unwrap_or_default(),
                vpn_connection_id: id.to_string(),
            };
            crate::deleted(
                client
                    .call::<DeleteVpnConnection>(region, &req)
                    .await
                    .map(|r| r.request_id),
                true,
            )
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::tags_for_create;
    use tunnelform_model::Address;

    #[test]
    fn create_and_read_back_agree() {
        let mut a = Attrs::new();
        a.insert("name".into(), s("t"));
        a.insert("vpn_gateway_id".into(), s("vpngw-1"));
        a.insert("customer_gateway_id".into(), s("cgw-1"));
        a.insert("pre_share_key".into(), s("k"));
        a.insert("dpd_timeout".into(), Value::int(40));
        a.insert(
            "tags".into(),
            Value::Map(Map::from([("team".to_string(), s("net"))])),
        );
        let owner: Address = "tencentcloud_vpn_connection.t".parse().unwrap();
        let req = create_request(&a, tags_for_create(&a, Some((&owner, "lin")), Some("proj")));
        assert_eq!(req.dpd_timeout.as_deref(), Some("40"));
        let tags = req.tags.unwrap();
        assert_eq!(tags.len(), 4);
        let (user, own) = split_tags(&tags);
        assert_eq!(
            user,
            Value::Map(Map::from([("team".to_string(), s("net"))]))
        );
        assert_eq!(own.lineage.as_deref(), Some("lin"));
        assert_eq!(own.project.as_deref(), Some("proj"));
        assert_eq!(
            own.address.as_deref(),
            Some("tencentcloud_vpn_connection.t")
        );
        // Without ownership tags, no project tag either.
        assert_eq!(tags_for_create(&a, None, Some("proj")).len(), 1);
    }

    #[test]
    fn modify_sends_only_what_changed() {
        let mut a = Attrs::new();
        a.insert("name".into(), s("n"));
        a.insert("dpd_timeout".into(), Value::int(45));
        assert!(modify_request("vpnx-1", &a, &["tags".into()]).is_none());
        let r = modify_request("vpnx-1", &a, &["dpd_timeout".into()]).unwrap();
        assert_eq!(r.dpd_timeout.as_deref(), Some("45"));
        assert!(r.vpn_connection_name.is_none());
    }
}
