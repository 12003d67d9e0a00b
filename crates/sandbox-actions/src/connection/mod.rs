//! CreateVpnConnection, DescribeVpnConnections, ModifyVpnConnectionAttribute, DeleteVpnConnection.
//!
//! Create and delete are asynchronous: they answer at once, the call's RequestId is the task id, and the
//! connection is `PENDING` / `DELETING` until the task finishes (see `World::advance`).

mod rules;
mod settings;

use rand::Rng;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::query::{Paging, QuerySpec};
use super::{check_id_format, customer_gateway, gateway, Ctx};
use crate::clock;
use crate::error::{codes, ApiError, ApiResult};
use crate::validate::{self, TagIn};
use crate::world::model::{
    is_bgp_route_type, ConnectionRoute, ConnectionState, IkeOptions, IpsecOptions, Secret, Task,
    TaskKind, TaskStatus, VpnConnection,
};
use crate::world::Region;
use rules::{
    bgp_info, check_against_gateway, check_pre_share_key, check_tunnel_quotas, check_values, Env,
    ROUTE_TYPES,
};
pub use settings::allocate_health_check_ips;
use settings::{apply_changes, Changes, RouteIn};

#[derive(Deserialize)]
pub struct CreateReq {
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

/// `Route` (a `CreateVpnConnRoute`): a destination range, priority 0 or 100, a description; only
/// on a route-based (`StaticRoute`) tunnel.
fn check_route(r: RouteIn, route_type: &str) -> ApiResult<ConnectionRoute> {
    if route_type != "StaticRoute" {
        return Err(ApiError::new(
            codes::INVALID_PARAMETER_COEXIST,
            format!("Route cannot be given with RouteType `{route_type}`: only a StaticRoute tunnel has routes."),
        ));
    }
    if r.destination_cidr_block.is_empty() {
        return Err(ApiError::new(
            codes::IPV_EMPTY,
            "Route.DestinationCidrBlock is empty.",
        ));
    }
    validate::cidr("Route.DestinationCidrBlock", &r.destination_cidr_block)?;
    if let Some(p) = r.priority.filter(|p| *p != 0 && *p != 100) {
        return Err(ApiError::malformed("Route.Priority", &p.to_string()));
    }
    if let Some(d) = r.description.as_deref().filter(|d| d.chars().count() > 100) {
        return Err(ApiError::new(
            codes::IPV_TOO_LONG,
            format!(
                "Route.Description is {} characters long, at most 100.",
                d.chars().count()
            ),
        ));
    }
    Ok(ConnectionRoute {
        destination_cidr_block: r.destination_cidr_block,
        priority: r.priority,
        description: r.description,
    })
}

pub fn create(ctx: &mut Ctx<'_>, req: CreateReq) -> ApiResult<Vec<u8>> {
    validate::name("VpnConnectionName", &req.name)?;
    check_pre_share_key(&req.pre_share_key)?;
    let route_type = req.route_type.unwrap_or_else(|| "StaticRoute".to_string());
    validate::one_of("RouteType", &route_type, ROUTE_TYPES)?;
    let route = match req.route {
        Some(r) => Some(check_route(r, &route_type)?),
        None => None,
    };
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
    if let (Some(r), Some(vpc)) = (&route, vpc_cidr) {
        if let Ok(net) = r.destination_cidr_block.parse::<ipnet::Ipv4Net>() {
            if net.contains(&vpc.network()) || vpc.contains(&net.network()) {
                return Err(ApiError::new(
                    codes::IPV_VPC_CIDR_CONFLICT,
                    format!(
                        "Route.DestinationCidrBlock `{net}` conflicts with the CIDR `{vpc}` of the VPC `{vpc_id}`."
                    ),
                ));
            }
        }
    }
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
    let body = ctx.reply_one("VpnConnection", &conn)?;
    let region = ctx.world.region_mut(ctx.region);
    if let Some(r) = route {
        region.connection_routes.insert(conn.id.clone(), r);
    }
    region.insert_connection(conn);
    Ok(body)
}

#[derive(Deserialize)]
pub struct DescribeReq {
    #[serde(rename = "VpnConnectionIds")]
    ids: Option<Vec<String>>,
    #[serde(flatten)]
    paging: Paging<u64>,
}

const CONNECTION_FILTERS: &[&str] = &[
    "vpc-id",
    "vpn-gateway-id",
    "customer-gateway-id",
    "vpn-connection-name",
    "vpn-connection-id",
];

pub fn describe(ctx: &mut Ctx<'_>, req: DescribeReq) -> ApiResult<Vec<u8>> {
    let q = QuerySpec {
        ids_param: "VpnConnectionIds",
        filter_names: CONNECTION_FILTERS,
        tag_filters: false,
    }
    .parse_paged(req.ids, req.paging)?;
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
    super::reply_page(ctx.request_id, "VpnConnectionSet", total, &set)
}

#[derive(Deserialize)]
pub struct ModifyReq {
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

/// The connection `id` (parameter `VpnConnectionId`), which must be one of `gateway_id`'s.
fn find_on_gateway<'a>(
    region: Option<&'a Region>,
    gateway_id: &str,
    id: &str,
) -> ApiResult<&'a VpnConnection> {
    let conn = find_connection(region, "VpnConnectionId", id)?;
    if conn.gateway_id != gateway_id {
        return Err(ApiError::new(
            codes::RESOURCE_NOT_FOUND,
            format!("The VPN connection `{id}` does not belong to the VPN gateway `{gateway_id}`."),
        ));
    }
    Ok(conn)
}

pub fn modify(ctx: &mut Ctx<'_>, req: ModifyReq) -> ApiResult<Vec<u8>> {
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
pub struct DeleteReq {
    #[serde(rename = "VpnGatewayId")]
    gateway_id: String,
    #[serde(rename = "VpnConnectionId")]
    id: String,
}

pub fn delete(ctx: &mut Ctx<'_>, req: DeleteReq) -> ApiResult<Vec<u8>> {
    let region = ctx.world.region(ctx.region);
    gateway::find(region, "VpnGatewayId", &req.gateway_id)?;
    let conn = find_on_gateway(region, &req.gateway_id, &req.id)?;
    if conn.state != ConnectionState::Available {
        return Err(ApiError::new(
            codes::UO_DELETE_VPN_CONN_INVALID_STATE,
            format!(
                "The VPN connection `{}` is being created, updated or deleted; it cannot be deleted now.",
                req.id
            ),
        ));
    }
    let routes: Vec<String> = region
        .into_iter()
        .flat_map(|r| r.gateway_routes_to(&req.id))
        .map(|r| format!("{} ({})", r.route.id, r.route.destination))
        .collect();
    if !routes.is_empty() {
        return Err(ApiError::new(
            codes::RESOURCE_IN_USE,
            format!(
                "The VPN connection `{}` is the next hop of {} VPN gateway route(s): {}; delete them first.",
                req.id,
                routes.len(),
                routes.join(", ")
            ),
        ));
    }
    start_task(ctx, TaskKind::DeleteVpnConnection, &req.id)?;
    if let Some(c) = ctx.world.region_mut(ctx.region).connection_mut(&req.id) {
        c.state = ConnectionState::Deleting;
    }
    ctx.reply_empty()
}

#[derive(Deserialize)]
pub struct ResetReq {
    #[serde(rename = "VpnGatewayId")]
    gateway_id: String,
    #[serde(rename = "VpnConnectionId")]
    id: String,
}

/// ResetVpnConnection: the tunnel renegotiates. It answers at once with only a request id (the
/// page documents no task); the tunnel's `NetStatus` is `UNAVAILABLE` for the task latency, then
/// `AVAILABLE` again as the peer reconnects (unless an injected task failure keeps it down). A
/// reset during a reset starts over. Codes are the page's: `InvalidParameterValue.Malformed`,
/// `ResourceNotFound` (gateway, tunnel, or a tunnel of another gateway),
/// `UnsupportedOperation.InvalidState` (the gateway is not AVAILABLE) and
/// `UnsupportedOperation.VpnConnInvalidState` (the tunnel is being created or deleted).
pub fn reset(ctx: &mut Ctx<'_>, req: ResetReq) -> ApiResult<Vec<u8>> {
    check_id_format(
        "VpnGatewayId",
        &req.gateway_id,
        "vpngw",
        codes::IPV_MALFORMED,
    )?;
    check_id_format("VpnConnectionId", &req.id, "vpnx", codes::IPV_MALFORMED)?;
    let region = ctx.world.region(ctx.region);
    let gw = region
        .and_then(|r| r.gateways.get(&req.gateway_id))
        .ok_or_else(|| {
            ApiError::new(
                codes::RESOURCE_NOT_FOUND,
                format!("The VPN gateway `{}` does not exist.", req.gateway_id),
            )
        })?;
    let conn = find_on_gateway(region, &req.gateway_id, &req.id)?;
    if gw.info.state != crate::world::model::GatewayState::Available {
        return Err(ApiError::new(
            codes::UO_INVALID_STATE,
            format!("The VPN gateway `{}` is not AVAILABLE.", req.gateway_id),
        ));
    }
    if conn.state != ConnectionState::Available {
        return Err(ApiError::new(
            codes::UO_VPN_CONN_INVALID_STATE,
            format!(
                "The VPN connection `{}` is being created or deleted; it cannot be reset now.",
                req.id
            ),
        ));
    }
    start_task(ctx, TaskKind::ResetVpnConnection, &req.id)?;
    if let Some(c) = ctx.world.region_mut(ctx.region).connection_mut(&req.id) {
        c.net_status = "UNAVAILABLE".to_string();
    }
    ctx.reply_empty()
}
