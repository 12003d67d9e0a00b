//! CreateVpnGateway, DescribeVpnGateways, ModifyVpnGatewayAttribute, ResetVpnGatewayInternetMaxBandwidth,
//! DeleteVpnGateway, GenerateVpnConnectionDefaultHealthCheckIp.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::connection::allocate_health_check_ips;
use super::query::{Paging, QuerySpec};
use super::{check_id_format, Ctx};
use crate::clock;
use crate::error::{codes, ApiError, ApiResult};
use crate::validate::{self, TagIn};
use crate::world::model::{GatewayQuotaSet, GatewayState, VpnGateway, VpnGatewayInfo};
use crate::world::{Region, World};

/// Bandwidths a new gateway may have (Mbps).
const CREATE_BANDWIDTHS: &[u64] = &[5, 10, 20, 50, 100, 200, 500, 1000, 3000];
/// Bandwidths a gateway may be reset to, and the ranges within which it may only grow.
const RESET_BANDWIDTHS: &[u64] = &[5, 10, 20, 50, 100, 200, 500, 1000];
const RESET_RANGES: &[(u64, u64)] = &[(5, 100), (200, 1000)];
const SSL_CONNECTIONS: &[u64] = &[5, 10, 20, 50, 100, 200, 500, 1000];
const PREPAID_PERIODS: &[u64] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36];
const GATEWAY_TYPES: &[&str] = &["IPSEC", "SSL", "CCN", "SSL_CCN"];
const CHARGE_TYPES: &[&str] = &["POSTPAID_BY_HOUR", "PREPAID"];
const RENEW_FLAGS: &[&str] = &["NOTIFY_AND_AUTO_RENEW", "NOTIFY_AND_MANUAL_RENEW"];
/// The ASN of a VPN gateway created without one (the documented default).
pub const DEFAULT_GATEWAY_ASN: u64 = 64551;
const NO_TIME: &str = "0000-00-00 00:00:00";

#[derive(Deserialize)]
pub struct PrepaidIn {
    #[serde(rename = "Period")]
    period: u64,
    #[serde(rename = "RenewFlag")]
    renew_flag: Option<String>,
}

#[derive(Deserialize)]
pub struct CreateReq {
    #[serde(rename = "VpcId")]
    vpc_id: String,
    #[serde(rename = "VpnGatewayName")]
    name: String,
    #[serde(rename = "InternetMaxBandwidthOut")]
    bandwidth: u64,
    #[serde(rename = "InstanceChargeType")]
    charge_type: Option<String>,
    #[serde(rename = "InstanceChargePrepaid")]
    prepaid: Option<PrepaidIn>,
    #[serde(rename = "Zone")]
    zone: Option<String>,
    #[serde(rename = "Type")]
    gateway_type: Option<String>,
    #[serde(rename = "Tags")]
    tags: Option<Vec<TagIn>>,
    #[serde(rename = "CdcId")]
    cdc_id: Option<String>,
    #[serde(rename = "MaxConnection")]
    max_connection: Option<u64>,
    #[serde(rename = "BgpAsn")]
    bgp_asn: Option<u64>,
    #[serde(rename = "IsPrivate")]
    is_private: Option<bool>,
    #[serde(rename = "IpStack")]
    ip_stack: Option<String>,
}

fn is_ccn_type(t: &str) -> bool {
    t == "CCN" || t == "SSL_CCN"
}

fn is_ssl_type(t: &str) -> bool {
    t == "SSL" || t == "SSL_CCN"
}

/// Finds a gateway of the request's region, with the documented codes for malformed and unknown ids.
pub fn find<'a>(region: Option<&'a Region>, param: &str, id: &str) -> ApiResult<&'a VpnGateway> {
    check_id_format(param, id, "vpngw", codes::INVALID_VPN_GATEWAY_ID_MALFORMED)?;
    region
        .and_then(|r| r.gateways.get(id))
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        codes::INVALID_VPN_GATEWAY_ID_NOT_FOUND,
        format!("The VPN gateway `{id}` does not exist."),
    )
}

pub fn require_available(g: &VpnGateway) -> ApiResult<()> {
    if g.info.state == GatewayState::Available {
        Ok(())
    } else {
        Err(ApiError::new(
            codes::UO_INVALID_STATE,
            format!(
                "The VPN gateway `{}` is not AVAILABLE yet (it is being created).",
                g.info.id
            ),
        ))
    }
}

fn new_public_ip(world: &World, rng: &mut rand::rngs::StdRng) -> String {
    loop {
        let ip = format!(
            "101.{}.{}.{}",
            rng.gen_range(32..=47),
            rng.gen_range(0..=255),
            rng.gen_range(1..=254)
        );
        let taken = world
            .regions
            .values()
            .flat_map(|r| r.gateways.values())
            .any(|g| g.info.public_ip == ip);
        if !taken {
            return ip;
        }
    }
}

pub fn create(ctx: &mut Ctx<'_>, req: CreateReq) -> ApiResult<Vec<u8>> {
    validate::name("VpnGatewayName", &req.name)?;
    if !CREATE_BANDWIDTHS.contains(&req.bandwidth) {
        return Err(ApiError::range(
            "InternetMaxBandwidthOut",
            format_args!("{} is not an offered bandwidth", req.bandwidth),
        ));
    }
    let gateway_type = req.gateway_type.unwrap_or_else(|| "IPSEC".to_string());
    validate::one_of("Type", &gateway_type, GATEWAY_TYPES)?;
    let charge_type = req
        .charge_type
        .unwrap_or_else(|| "POSTPAID_BY_HOUR".to_string());
    validate::one_of("InstanceChargeType", &charge_type, CHARGE_TYPES)?;
    let (renew_flag, expired_time) = if charge_type == "PREPAID" {
        let prepaid = req
            .prepaid
            .ok_or_else(|| ApiError::missing("InstanceChargePrepaid"))?;
        if !PREPAID_PERIODS.contains(&prepaid.period) {
            return Err(ApiError::range(
                "InstanceChargePrepaid.Period",
                format_args!("{} is not a valid period in months", prepaid.period),
            ));
        }
        let flag = prepaid
            .renew_flag
            .unwrap_or_else(|| "NOTIFY_AND_AUTO_RENEW".to_string());
        validate::one_of("InstanceChargePrepaid.RenewFlag", &flag, RENEW_FLAGS)?;
        let months_ms = i64::try_from(prepaid.period).unwrap_or(36) * 30 * 24 * 3600 * 1000;
        (
            flag,
            clock::format_time(ctx.now_ms.saturating_add(months_ms)),
        )
    } else {
        (String::new(), NO_TIME.to_string())
    };
    if req.is_private == Some(true) {
        return Err(ApiError::new(
            codes::UNSUPPORTED_OPERATION,
            "Private VPN gateways are not supported.",
        ));
    }
    if let Some(stack) = req.ip_stack.as_deref() {
        validate::one_of("IpStack", stack, &["4in4", "6in4", "6in6", "4in6"])?;
        if stack != "4in4" {
            return Err(ApiError::new(
                codes::UNSUPPORTED_OPERATION,
                "Only IPv4 over IPv4 (4in4) VPN gateways are supported.",
            ));
        }
    }
    let max_connection = if is_ssl_type(&gateway_type) {
        let n = req.max_connection.unwrap_or(5);
        if !SSL_CONNECTIONS.contains(&n) {
            return Err(ApiError::range(
                "MaxConnection",
                format_args!("{n} is not an offered SSL connection count"),
            ));
        }
        n
    } else {
        0
    };
    let bgp_asn = req.bgp_asn.unwrap_or(DEFAULT_GATEWAY_ASN);
    validate::bgp_asn("BgpAsn", bgp_asn)?;
    let tags = validate::vpc_tags("Tags", req.tags)?;
    if is_ccn_type(&gateway_type) {
        if !req.vpc_id.is_empty() {
            return Err(ApiError::new(
                codes::UO_VPN_GW_VPC_ID_NOT_HAVE,
                "A CCN-type VPN gateway takes an empty VpcId.",
            ));
        }
    } else {
        if req.vpc_id.is_empty() {
            return Err(ApiError::new(
                codes::UO_VPN_GW_VPC_ID_MUST_HAVE,
                "A VPC-type VPN gateway needs a VpcId.",
            ));
        }
        check_id_format("VpcId", &req.vpc_id, "vpc", codes::INVALID_VPC_ID_MALFORMED)?;
        let region = ctx.world.region(ctx.region);
        if !region.is_some_and(|r| r.vpcs.contains_key(&req.vpc_id)) {
            return Err(ApiError::new(
                codes::INVALID_VPC_ID_NOT_FOUND,
                format!("The VPC `{}` does not exist in {}.", req.vpc_id, ctx.region),
            ));
        }
        let quota = ctx.settings.quotas.vpn_gateways_per_vpc as usize;
        if region.map_or(0, |r| r.gateways_in_vpc(&req.vpc_id)) >= quota {
            return Err(ApiError::new(
                codes::LIMIT_EXCEEDED,
                format!(
                    "The VPC `{}` already has the maximum of {quota} VPN gateways.",
                    req.vpc_id
                ),
            ));
        }
    }
    let id = ctx.world.new_id(ctx.rng, "vpngw");
    let public_ip = new_public_ip(ctx.world, ctx.rng);
    let ready_at = ctx.deadline();
    let gateway = VpnGateway {
        info: VpnGatewayInfo {
            id: id.clone(),
            vpc_id: req.vpc_id,
            name: req.name,
            gateway_type,
            state: GatewayState::Pending,
            public_ip,
            renew_flag,
            charge_type,
            bandwidth: req.bandwidth,
            created_time: clock::format_time(ctx.now_ms),
            expired_time,
            is_address_blocked: false,
            new_purchase_plan: String::new(),
            restrict_state: "NORMAL".to_string(),
            zone: req
                .zone
                .filter(|z| !z.is_empty())
                .unwrap_or_else(|| format!("{}-1", ctx.region)),
            quota_set: GatewayQuotaSet,
            version: "4.0".to_string(),
            network_instance_id: String::new(),
            cdc_id: req.cdc_id.unwrap_or_default(),
            max_connection,
            bgp_asn,
            tags,
            is_private: false,
        },
        ready_at_ms: Some(ready_at),
    };
    let body = ctx.reply_one("VpnGateway", &gateway.info)?;
    ctx.world
        .region_mut(ctx.region)
        .gateways
        .insert(id.clone(), gateway);
    let region = ctx.region.to_string();
    ctx.world.schedule_gateway(&region, &id, ready_at);
    Ok(body)
}

#[derive(Deserialize)]
pub struct DescribeReq {
    #[serde(rename = "VpnGatewayIds")]
    ids: Option<Vec<String>>,
    #[serde(flatten)]
    paging: Paging<u64>,
}

const GATEWAY_FILTERS: &[&str] = &[
    "vpc-id",
    "vpn-gateway-id",
    "vpn-gateway-name",
    "type",
    "public-ip-address",
    "renew-flag",
    "zone",
];

pub fn describe(ctx: &mut Ctx<'_>, req: DescribeReq) -> ApiResult<Vec<u8>> {
    let q = QuerySpec {
        ids_param: "VpnGatewayIds",
        filter_names: GATEWAY_FILTERS,
        tag_filters: false,
    }
    .parse_paged(req.ids, req.paging)?;
    if let Some(ids) = &q.ids {
        for id in ids {
            check_id_format(
                "VpnGatewayIds",
                id,
                "vpngw",
                codes::INVALID_VPN_GATEWAY_ID_MALFORMED,
            )?;
        }
    }
    let items: Vec<&VpnGatewayInfo> = match ctx.world.region(ctx.region) {
        None => Vec::new(),
        Some(r) => r
            .gateways
            .values()
            .map(|g| &g.info)
            .filter(|g| q.wants_id(&g.id))
            .filter(|g| {
                q.matches(&g.tags, |name, value| match name {
                    "vpc-id" => g.vpc_id == value,
                    "vpn-gateway-id" => g.id == value,
                    "vpn-gateway-name" => g.name == value,
                    "type" => g.gateway_type == value,
                    "public-ip-address" => g.public_ip == value,
                    "renew-flag" => g.renew_flag == value,
                    "zone" => g.zone == value,
                    _ => false,
                })
            })
            .collect(),
    };
    let (total, page) = q.page(items);
    ctx.reply_page("VpnGatewaySet", total, &page)
}

#[derive(Deserialize)]
pub struct ModifyReq {
    #[serde(rename = "VpnGatewayId")]
    id: String,
    #[serde(rename = "VpnGatewayName")]
    name: Option<String>,
    #[serde(rename = "InstanceChargeType")]
    charge_type: Option<String>,
    #[serde(rename = "BgpAsn")]
    bgp_asn: Option<u64>,
    #[serde(rename = "MaxConnection")]
    max_connection: Option<u64>,
}

pub fn modify(ctx: &mut Ctx<'_>, req: ModifyReq) -> ApiResult<Vec<u8>> {
    let region = ctx.world.region(ctx.region);
    let g = find(region, "VpnGatewayId", &req.id)?;
    require_available(g)?;
    if let Some(name) = &req.name {
        validate::name("VpnGatewayName", name)?;
    }
    if let Some(ct) = &req.charge_type {
        validate::one_of("InstanceChargeType", ct, &["POSTPAID_BY_HOUR"])?;
    }
    if let Some(asn) = req.bgp_asn {
        validate::bgp_asn("BgpAsn", asn)?;
        let has_bgp_tunnels =
            region.is_some_and(|r| r.connections_on_gateway(&req.id).any(|c| c.is_bgp()));
        if asn != g.info.bgp_asn && has_bgp_tunnels {
            return Err(ApiError::new(
                codes::UO_VPN_UNSUPPORTED_MODIFY_BGP_ASN,
                "The BGP ASN of a VPN gateway with BGP tunnels cannot be changed.",
            ));
        }
    }
    if let Some(n) = req.max_connection {
        if !is_ssl_type(&g.info.gateway_type) {
            return Err(ApiError::new(
                codes::UNSUPPORTED_OPERATION,
                "MaxConnection applies to SSL VPN gateways only.",
            ));
        }
        if !SSL_CONNECTIONS.contains(&n) {
            return Err(ApiError::range(
                "MaxConnection",
                format_args!("{n} is not an offered SSL connection count"),
            ));
        }
    }
    let Some(g) = ctx.world.region_mut(ctx.region).gateways.get_mut(&req.id) else {
        return Err(not_found(&req.id));
    };
    if let Some(name) = req.name {
        g.info.name = name;
    }
    if let Some(ct) = req.charge_type {
        if g.info.charge_type != ct {
            g.info.charge_type = ct;
            g.info.renew_flag = String::new();
            g.info.expired_time = NO_TIME.to_string();
        }
    }
    if let Some(asn) = req.bgp_asn {
        g.info.bgp_asn = asn;
    }
    if let Some(n) = req.max_connection {
        g.info.max_connection = n;
    }
    ctx.reply_empty()
}

#[derive(Deserialize)]
pub struct ResetBandwidthReq {
    #[serde(rename = "VpnGatewayId")]
    id: String,
    #[serde(rename = "InternetMaxBandwidthOut")]
    bandwidth: u64,
}

pub fn reset_bandwidth(ctx: &mut Ctx<'_>, req: ResetBandwidthReq) -> ApiResult<Vec<u8>> {
    let g = find(ctx.world.region(ctx.region), "VpnGatewayId", &req.id)?;
    require_available(g)?;
    if !RESET_BANDWIDTHS.contains(&req.bandwidth) {
        return Err(ApiError::range(
            "InternetMaxBandwidthOut",
            format_args!("{} is not an offered bandwidth", req.bandwidth),
        ));
    }
    let current = g.info.bandwidth;
    let same_range = RESET_RANGES
        .iter()
        .any(|(lo, hi)| (*lo..=*hi).contains(&current) && (*lo..=*hi).contains(&req.bandwidth));
    if req.bandwidth < current || !same_range {
        return Err(ApiError::new(
            codes::UO_VPN_UNSUPPORTED_MODIFY_BANDWIDTH,
            format!(
                "The bandwidth can only grow within [5, 100] or [200, 1000] Mbps: {current} -> {} is not supported.",
                req.bandwidth
            ),
        ));
    }
    if let Some(g) = ctx.world.region_mut(ctx.region).gateways.get_mut(&req.id) {
        g.info.bandwidth = req.bandwidth;
    }
    ctx.reply_empty()
}

#[derive(Deserialize)]
pub struct DeleteReq {
    #[serde(rename = "VpnGatewayId")]
    id: String,
}

pub fn delete(ctx: &mut Ctx<'_>, req: DeleteReq) -> ApiResult<Vec<u8>> {
    let region = ctx.world.region(ctx.region);
    let g = find(region, "VpnGatewayId", &req.id)?;
    require_available(g)?;
    let tunnels = region.map_or(0, |r| r.count_on_gateway(&req.id));
    if tunnels > 0 {
        return Err(ApiError::new(
            codes::RESOURCE_IN_USE,
            format!(
                "The VPN gateway `{}` still has {tunnels} VPN connection(s); delete them first.",
                req.id
            ),
        ));
    }
    // Route table entries that send traffic to it.
    let routes: Vec<String> = region
        .into_iter()
        .flat_map(|r| r.routes_to("VPN", &req.id))
        .map(|r| format!("{} in {}", r.destination, r.route_table_id))
        .collect();
    if !routes.is_empty() {
        return Err(ApiError::new(
            codes::RESOURCE_IN_USE,
            format!(
                "The VPN gateway `{}` is the next hop of {} route(s) ({}); delete them first.",
                req.id,
                routes.len(),
                routes.join(", ")
            ),
        ));
    }
    let region = ctx.world.region_mut(ctx.region);
    region.gateways.shift_remove(&req.id);
    // Its own routes (to the cloud connect network) go with it.
    let own: Vec<String> = region
        .gateway_routes
        .values()
        .filter(|r| r.gateway_id == req.id)
        .map(|r| r.route.id.clone())
        .collect();
    for id in &own {
        region.gateway_routes.shift_remove(id);
    }
    for id in own {
        ctx.world.release_id(&id);
    }
    ctx.world.release_id(&req.id);
    ctx.reply_empty()
}

#[derive(Deserialize)]
pub struct GenerateHealthCheckIpReq {
    #[serde(rename = "VpnGatewayId")]
    id: String,
}

pub fn generate_health_check_ip(
    ctx: &mut Ctx<'_>,
    req: GenerateHealthCheckIpReq,
) -> ApiResult<Vec<u8>> {
    let region = ctx.world.region(ctx.region);
    find(region, "VpnGatewayId", &req.id)?;
    let (local, remote) = match region {
        Some(r) => allocate_health_check_ips(r, &req.id, ctx.rng),
        None => return Err(not_found(&req.id)),
    };
    #[derive(Serialize)]
    struct Out {
        #[serde(rename = "HealthCheckLocalIp")]
        local: String,
        #[serde(rename = "HealthCheckRemoteIp")]
        remote: String,
    }
    ctx.reply(&Out { local, remote })
}
