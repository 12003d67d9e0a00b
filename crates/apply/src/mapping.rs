//! Translation between the API's objects and the schema's attributes (the provider's names).
//!
//! Everything that knows both vocabularies lives here: reading a described object into attributes,
//! building create/modify requests from planned attributes, and the ownership tags.

use std::collections::BTreeMap;

use tunnelform_model::{Address, Value};
use tunnelform_plan::Attrs;
use tunnelform_tencent_api::vpc::{
    BgpConfig, CreateCustomerGatewayRequest, CreateVpnConnectionRequest, CreateVpnGatewayRequest,
    CustomerGateway, HealthCheckConfig, IKEOptionsSpecification, IPSECOptionsSpecification,
    InstanceChargePrepaid, ModifyVpnConnectionAttributeRequest, SecurityPolicyDatabase, Tag, Vpc,
    VpnConnection, VpnGateway,
};
use tunnelform_tencent_api::Secret;

/// Tag keys tunnelform puts on what it creates (Tencent's tag key rules: letters, digits and
/// `+ - = . _ : / @`, at most 127 characters, not starting with `qcloud`, `tencent` or `project`).
pub const OWNER_ADDRESS_TAG: &str = "tunnelform:address";
pub const OWNER_LINEAGE_TAG: &str = "tunnelform:lineage";
/// The project (configuration) an object belongs to, independent of its state file: a state that
/// was lost adopts the objects carrying its project's tags instead of creating them again.
pub const OWNER_PROJECT_TAG: &str = "tunnelform:project";

/// The longest tag value Tencent accepts.
pub const MAX_TAG_VALUE_LEN: usize = 255;

fn is_owner_tag(key: &str) -> bool {
    key == OWNER_ADDRESS_TAG || key == OWNER_LINEAGE_TAG || key == OWNER_PROJECT_TAG
}

/// Whether `s` can be a tag value as it is: 1 to 255 characters among letters, digits, space and
/// `+ - = . _ : / @` (the subset of Tencent's tag value characters that every service accepts).
pub fn is_plain_tag_value(s: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || " +-=._:/@".contains(c);
    !s.is_empty() && s.len() <= MAX_TAG_VALUE_LEN && s.chars().all(allowed)
}

/// `s` itself when it is a plain tag value, otherwise `sha256:` and 40 hex digits of its digest
/// (tags are compared, never parsed back).
pub fn tag_value_for(s: &str) -> String {
    if is_plain_tag_value(s) {
        s.to_string()
    } else {
        use sha2::{Digest, Sha256};
        format!(
            "sha256:{}",
            &hex::encode(Sha256::digest(s.as_bytes()))[..40]
        )
    }
}

/// The value of the `tunnelform:address` tag for an address: the address with each byte that tag
/// values do not allow written as `@` and two hex digits (`office["sh"]` is
/// `office@5B@22sh@22@5D`), so the address can be read back from the tag
/// ([`address_of_owner_value`]); a digest when that is longer than a tag value can be.
pub fn owner_address_value(address: &Address) -> String {
    let text = address.to_string();
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b" +-=._:/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("@{b:02X}"));
        }
    }
    if out.len() <= MAX_TAG_VALUE_LEN {
        out
    } else {
        tag_value_for(&text)
    }
}

/// The `tunnelform:address` tag value that earlier versions gave `address` when it is not the
/// current one (they digested every address with characters outside the plain set, e.g. every
/// `for_each` instance): objects they created are still found by it.
pub fn legacy_owner_address_value(address: &Address) -> Option<String> {
    let legacy = tag_value_for(&address.to_string());
    (legacy != owner_address_value(address)).then_some(legacy)
}

/// Every `tunnelform:address` tag value that names `address` (current, then legacy).
pub fn owner_address_values(address: &Address) -> impl Iterator<Item = String> {
    std::iter::once(owner_address_value(address)).chain(legacy_owner_address_value(address))
}

/// The address a `tunnelform:address` tag value names, when it can be read back (not a digest).
pub fn address_of_owner_value(value: &str) -> Option<Address> {
    if value.starts_with("sha256:") {
        return None;
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'@' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()?.parse().ok()
}

/// Ownership of a remote object, read from its tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ownership {
    pub address: Option<String>,
    pub lineage: Option<String>,
    pub project: Option<String>,
}

fn split_tags(tags: &[Tag]) -> (Value, Ownership) {
    let mut own = Ownership::default();
    let mut m = BTreeMap::new();
    for t in tags {
        match t.key.as_str() {
            OWNER_ADDRESS_TAG => own.address = Some(t.value.clone()),
            OWNER_LINEAGE_TAG => own.lineage = Some(t.value.clone()),
            OWNER_PROJECT_TAG => own.project = Some(t.value.clone()),
            _ => {
                m.insert(t.key.clone(), Value::from(t.value.as_str()));
            }
        }
    }
    (Value::Map(m), own)
}

/// Configured tags plus, when enabled, the ownership tags: `owner` is the address and the state's
/// lineage; `project` the project id (a tag value already, see [`tag_value_for`]).
pub fn tags_for_create(
    after: &Attrs,
    owner: Option<(&Address, &str)>,
    project: Option<&str>,
) -> Vec<Tag> {
    let mut out: Vec<Tag> = user_tags(after)
        .into_iter()
        .map(|(key, value)| Tag { key, value })
        .collect();
    if let Some((address, lineage)) = owner {
        out.push(Tag {
            key: OWNER_ADDRESS_TAG.into(),
            value: owner_address_value(address),
        });
        out.push(Tag {
            key: OWNER_LINEAGE_TAG.into(),
            value: lineage.to_string(),
        });
        if let Some(project) = project {
            out.push(Tag {
                key: OWNER_PROJECT_TAG.into(),
                value: project.to_string(),
            });
        }
    }
    out
}

/// The user's tags of a planned object (ownership tags never come from configuration).
pub fn user_tags(attrs: &Attrs) -> BTreeMap<String, String> {
    attrs
        .get("tags")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !is_owner_tag(k))
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn s(v: &str) -> Value {
    Value::from(v)
}

fn opt_s(v: &Option<String>) -> Value {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(Value::from)
        .unwrap_or(Value::Null)
}

fn get_str(a: &Attrs, k: &str) -> Option<String> {
    a.get(k).and_then(Value::as_str).map(str::to_string)
}

fn get_int(a: &Attrs, k: &str) -> Option<i64> {
    let v = a.get(k)?;
    v.as_i64().or_else(|| v.as_str()?.parse().ok())
}

fn get_bool(a: &Attrs, k: &str) -> Option<bool> {
    a.get(k).and_then(Value::as_bool)
}

// ---------------------------------------------------------------------------------------------
// VPN connections

/// Attributes of a described VPN connection (the key marked sensitive, ownership tags set apart).
pub fn connection_attrs(c: &VpnConnection) -> (Attrs, Ownership) {
    let (tags, own) = split_tags(&c.tag_set);
    let ike = &c.ike_options_specification;
    let ipsec = &c.ipsec_options_specification;
    let mut a = Attrs::new();
    a.insert("name".into(), s(&c.vpn_connection_name));
    a.insert(
        "vpc_id".into(),
        if c.vpc_id.is_empty() {
            Value::Null
        } else {
            s(&c.vpc_id)
        },
    );
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
                    Value::Map(BTreeMap::from([
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
                Value::Map(BTreeMap::from([
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
                let mut m = BTreeMap::new();
                if let Some(v) = h.probe_type.as_deref().filter(|v| !v.is_empty()) {
                    m.insert("probe_type".to_string(), s(v));
                }
                for (k, v) in [
                    ("probe_interval", h.probe_interval),
                    ("probe_threshold", h.probe_threshold),
                    ("probe_timeout", h.probe_timeout),
                ] {
                    if let Some(v) = v {
                        m.insert(k.to_string(), Value::int(v));
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
        if c.health_check_local_ip.is_empty() {
            Value::Null
        } else {
            s(&c.health_check_local_ip)
        },
    );
    a.insert(
        "health_check_remote_ip".into(),
        if c.health_check_remote_ip.is_empty() {
            Value::Null
        } else {
            s(&c.health_check_remote_ip)
        },
    );
    a.insert("create_time".into(), s(&c.created_time));
    a.insert("state".into(), s(&c.state));
    a.insert("net_status".into(), s(&c.net_status));
    a.insert("vpn_proto".into(), s(&c.vpn_proto));
    a.insert("encrypt_proto".into(), s(&c.encrypt_proto));
    a.insert("health_check_status".into(), s(&c.health_check_status));
    (a, own)
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

fn secret_of(a: &Attrs, k: &str) -> Option<Secret> {
    a.get(k).and_then(Value::as_str).map(Secret::new)
}

/// The CreateVpnConnection request for planned attributes (all known by now).
pub fn create_connection_request(a: &Attrs, tags: Vec<Tag>) -> CreateVpnConnectionRequest {
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
        route: None,
        bgp_config: bgp_of(a),
        health_check_config: health_check_of(a),
    }
}

/// The ModifyVpnConnectionAttribute request for the changed arguments (None when nothing it can
/// change changed, e.g. only tags).
pub fn modify_connection_request(
    id: &str,
    a: &Attrs,
    changed: &[String],
) -> Option<ModifyVpnConnectionAttributeRequest> {
    let has = |k: &str| changed.iter().any(|c| c == k);
    let has_prefix = |p: &str| changed.iter().any(|c| c.starts_with(p));
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

// ---------------------------------------------------------------------------------------------
// VPN gateways

pub fn gateway_attrs(g: &VpnGateway) -> (Attrs, Ownership) {
    let (tags, own) = split_tags(g.tag_set.as_deref().unwrap_or_default());
    let mut a = Attrs::new();
    a.insert("name".into(), s(&g.vpn_gateway_name));
    a.insert(
        "vpc_id".into(),
        if g.vpc_id.is_empty() {
            Value::Null
        } else {
            s(&g.vpc_id)
        },
    );
    a.insert(
        "bandwidth".into(),
        Value::int(g.internet_max_bandwidth_out as i64),
    );
    a.insert("type".into(), s(&g.gateway_type));
    a.insert(
        "zone".into(),
        if g.zone.is_empty() {
            Value::Null
        } else {
            s(&g.zone)
        },
    );
    a.insert("charge_type".into(), s(&g.instance_charge_type));
    // The API does not report the prepaid period; the renew flag only means something when prepaid.
    a.insert("prepaid_period".into(), Value::int(1));
    a.insert(
        "prepaid_renew_flag".into(),
        if g.renew_flag.is_empty() || g.instance_charge_type != "PREPAID" {
            s("NOTIFY_AND_AUTO_RENEW")
        } else {
            s(&g.renew_flag)
        },
    );
    a.insert("tags".into(), tags);
    a.insert(
        "bgp_asn".into(),
        g.bgp_asn
            .map(|v| Value::int(v as i64))
            .unwrap_or(Value::Null),
    );
    a.insert(
        "cdc_id".into(),
        if g.cdc_id.is_empty() {
            Value::Null
        } else {
            s(&g.cdc_id)
        },
    );
    a.insert("max_connection".into(), Value::int(g.max_connection as i64));
    a.insert("public_ip_address".into(), s(&g.public_ip_address));
    a.insert("state".into(), s(&g.state));
    a.insert("create_time".into(), s(&g.created_time));
    a.insert("expired_time".into(), s(&g.expired_time));
    a.insert(
        "is_address_blocked".into(),
        Value::Bool(g.is_address_blocked),
    );
    a.insert("new_purchase_plan".into(), s(&g.new_purchase_plan));
    a.insert("restrict_state".into(), s(&g.restrict_state));
    (a, own)
}

pub fn create_gateway_request(a: &Attrs, tags: Vec<Tag>) -> CreateVpnGatewayRequest {
    let charge = get_str(a, "charge_type");
    CreateVpnGatewayRequest {
        vpc_id: get_str(a, "vpc_id").unwrap_or_default(),
        vpn_gateway_name: get_str(a, "name").unwrap_or_default(),
        internet_max_bandwidth_out: get_int(a, "bandwidth").unwrap_or(5) as u64,
        instance_charge_prepaid: (charge.as_deref() == Some("PREPAID")).then(|| {
            InstanceChargePrepaid {
                period: get_int(a, "prepaid_period").unwrap_or(1) as u64,
                renew_flag: get_str(a, "prepaid_renew_flag"),
            }
        }),
        instance_charge_type: charge,
        zone: get_str(a, "zone"),
        gateway_type: get_str(a, "type"),
        tags: if tags.is_empty() { None } else { Some(tags) },
        cdc_id: get_str(a, "cdc_id"),
        max_connection: get_int(a, "max_connection").map(|v| v as u64),
        bgp_asn: get_int(a, "bgp_asn").map(|v| v as u64),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Customer gateways

pub fn customer_gateway_attrs(c: &CustomerGateway) -> (Attrs, Ownership) {
    let (tags, own) = split_tags(c.tag_set.as_deref().unwrap_or_default());
    let mut a = Attrs::new();
    a.insert("name".into(), s(&c.customer_gateway_name));
    a.insert("public_ip_address".into(), s(&c.ip_address));
    a.insert("tags".into(), tags);
    a.insert("bgp_asn".into(), Value::int(c.bgp_asn as i64));
    a.insert("create_time".into(), s(&c.created_time));
    (a, own)
}

pub fn create_customer_gateway_request(a: &Attrs, tags: Vec<Tag>) -> CreateCustomerGatewayRequest {
    CreateCustomerGatewayRequest {
        customer_gateway_name: get_str(a, "name").unwrap_or_default(),
        ip_address: get_str(a, "public_ip_address").unwrap_or_default(),
        tags: if tags.is_empty() { None } else { Some(tags) },
        bgp_asn: get_int(a, "bgp_asn"),
    }
}

// ---------------------------------------------------------------------------------------------
// Data-source items (the provider's list element shapes)

fn tags_value(tags: &[Tag]) -> Value {
    split_tags(tags).0
}

pub fn gateway_item(g: &VpnGateway) -> Value {
    let (mut a, _) = gateway_attrs(g);
    a.insert("id".into(), s(&g.vpn_gateway_id));
    a.remove("prepaid_period");
    Value::Map(a)
}

pub fn customer_gateway_item(c: &CustomerGateway) -> Value {
    let (mut a, _) = customer_gateway_attrs(c);
    a.insert("id".into(), s(&c.customer_gateway_id));
    Value::Map(a)
}

pub fn vpc_item(v: &Vpc) -> Value {
    Value::Map(BTreeMap::from([
        ("vpc_id".to_string(), s(&v.vpc_id)),
        ("name".to_string(), s(&v.vpc_name)),
        ("cidr_block".to_string(), s(&v.cidr_block)),
        ("is_default".to_string(), Value::Bool(v.is_default)),
        ("is_multicast".to_string(), Value::Bool(v.enable_multicast)),
        (
            "dns_servers".to_string(),
            Value::List(v.dns_server_set.iter().map(|d| s(d)).collect()),
        ),
        ("create_time".to_string(), s(&v.created_time)),
        ("tags".to_string(), tags_value(&v.tag_set)),
        ("subnet_ids".to_string(), Value::List(vec![])),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_value_is_readable_reversible_and_a_digest_only_when_too_long() {
        let a: Address = "tencentcloud_vpn_connection.office".parse().unwrap();
        assert_eq!(
            owner_address_value(&a),
            "tencentcloud_vpn_connection.office"
        );
        assert_eq!(legacy_owner_address_value(&a), None);
        let b: Address = "tencentcloud_vpn_connection.office[\"sh\"]"
            .parse()
            .unwrap();
        let v = owner_address_value(&b);
        assert_eq!(v, "tencentcloud_vpn_connection.office@5B@22sh@22@5D");
        assert!(is_plain_tag_value(&v));
        assert_eq!(address_of_owner_value(&v), Some(b.clone()));
        // Objects tagged by earlier versions (a digest) are still found.
        let legacy = legacy_owner_address_value(&b).unwrap();
        assert!(
            legacy.starts_with("sha256:") && legacy.len() == 47,
            "{legacy}"
        );
        assert_eq!(
            owner_address_values(&b).collect::<Vec<_>>(),
            vec![v.clone(), legacy]
        );
        // Keys with any character, an index, and an @ in a key read back exactly.
        for text in [
            "tencentcloud_vpn_connection.t[\"a@b c/é\"]",
            "tencentcloud_vpn_gateway.gw[3]",
        ] {
            let addr: Address = text.parse().unwrap();
            let v = owner_address_value(&addr);
            assert!(is_plain_tag_value(&v), "{v}");
            assert_eq!(address_of_owner_value(&v), Some(addr), "{v}");
        }
        // Too long for a tag value: a digest, which names no address.
        let long: Address = format!("tencentcloud_vpn_connection.t[\"{}\"]", "x".repeat(300))
            .parse()
            .unwrap();
        let d = owner_address_value(&long);
        assert!(d.starts_with("sha256:"), "{d}");
        assert_eq!(address_of_owner_value(&d), None);
        assert_eq!(address_of_owner_value("t.x@5"), None);
        assert_ne!(
            v,
            owner_address_value(
                &"tencentcloud_vpn_connection.office[\"bj\"]"
                    .parse()
                    .unwrap()
            )
        );
    }

    #[test]
    fn tag_values_are_kept_when_plain_and_digested_otherwise() {
        assert!(is_plain_tag_value("github.com/acme/infra//vpn/state.json"));
        assert!(!is_plain_tag_value(""));
        assert!(!is_plain_tag_value("a~b"));
        assert!(!is_plain_tag_value(&"a".repeat(256)));
        assert_eq!(tag_value_for("team-a"), "team-a");
        let d = tag_value_for("/home/é/state.json");
        assert!(d.starts_with("sha256:") && d.len() == 47, "{d}");
        assert!(is_plain_tag_value(&d));
        assert_ne!(d, tag_value_for("/home/e/state.json~"));
    }

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
            Value::Map(BTreeMap::from([("team".to_string(), s("net"))])),
        );
        let owner: Address = "tencentcloud_vpn_connection.t".parse().unwrap();
        let req =
            create_connection_request(&a, tags_for_create(&a, Some((&owner, "lin")), Some("proj")));
        assert_eq!(req.dpd_timeout.as_deref(), Some("40"));
        let tags = req.tags.unwrap();
        assert_eq!(tags.len(), 4);
        let (user, own) = split_tags(&tags);
        assert_eq!(
            user,
            Value::Map(BTreeMap::from([("team".to_string(), s("net"))]))
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
        assert!(modify_connection_request("vpnx-1", &a, &["tags".into()]).is_none());
        let r = modify_connection_request("vpnx-1", &a, &["dpd_timeout".into()]).unwrap();
        assert_eq!(r.dpd_timeout.as_deref(), Some("45"));
        assert!(r.vpn_connection_name.is_none());
    }
}
