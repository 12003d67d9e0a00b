//! VPN gateway destination routes: CreateVpnGatewayRoutes, DescribeVpnGatewayRoutes,
//! ModifyVpnGatewayRoutes and DeleteVpnGatewayRoutes.
//!
//! A route sends a destination range into a route-based (`StaticRoute`) tunnel of the gateway, or
//! into the cloud connect network from a CCN-type gateway. The tunnel must be AVAILABLE; a tunnel of
//! another route type cannot take destination routes (a gateway does not mix route types). The same
//! destination may go to several tunnels (priorities 0 and 100 make one the backup), but the same
//! destination to the same instance twice is a duplicate. A request changes all its routes or none.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::gateway::{find as find_gateway, require_available};
use super::query::Paging;
use super::Ctx;
use crate::clock;
use crate::error::{codes, ApiError, ApiResult};
use crate::validate;
use crate::world::model::{ConnectionState, GatewayRoute, StoredGatewayRoute};

const INSTANCE_TYPES: &[&str] = &["VPNCONN", "CCN"];
const STATUSES: &[&str] = &["ENABLE", "DISABLE"];
const PRIORITIES: &[i64] = &[0, 100];
const FILTERS: &[&str] = &["DestinationCidr", "InstanceId", "InstanceType"];
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

#[derive(Deserialize)]
pub struct RouteIn {
    #[serde(rename = "DestinationCidrBlock")]
    destination: String,
    #[serde(rename = "InstanceType")]
    instance_type: String,
    #[serde(rename = "InstanceId")]
    instance_id: String,
    #[serde(rename = "Priority")]
    priority: i64,
    #[serde(rename = "Status")]
    status: String,
    #[serde(rename = "Description")]
    description: Option<String>,
}

#[derive(Deserialize)]
pub struct CreateReq {
    #[serde(rename = "VpnGatewayId")]
    gateway: String,
    #[serde(rename = "Routes")]
    routes: Vec<RouteIn>,
}

#[derive(Serialize)]
struct RoutesOut<'a> {
    #[serde(rename = "Routes")]
    routes: &'a [GatewayRoute],
}

pub fn create(ctx: &mut Ctx<'_>, req: CreateReq) -> ApiResult<Vec<u8>> {
    let region = ctx.world.region(ctx.region);
    let g = find_gateway(region, "VpnGatewayId", &req.gateway)?;
    require_available(g)?;
    let Some(region) = region else {
        return Err(ApiError::internal("no region"));
    };
    if req.routes.is_empty() {
        return Err(ApiError::new(
            codes::IPV_EMPTY,
            "The parameter `Routes` must not be empty.",
        ));
    }
    let is_ccn_gateway = g.info.gateway_type == "CCN" || g.info.gateway_type == "SSL_CCN";
    let existing: Vec<&GatewayRoute> = region
        .gateway_routes
        .values()
        .filter(|r| r.gateway_id == req.gateway)
        .map(|r| &r.route)
        .collect();
    let mut seen: HashSet<(String, String)> = existing
        .iter()
        .map(|r| (r.destination.clone(), r.instance_id.clone()))
        .collect();
    for (n, r) in req.routes.iter().enumerate() {
        let param = |m: &str| format!("Routes.{n}.{m}");
        let net = validate::cidr(&param("DestinationCidrBlock"), &r.destination)?;
        if net.trunc() != net {
            return Err(ApiError::malformed(
                &param("DestinationCidrBlock"),
                &r.destination,
            ));
        }
        validate::one_of(&param("InstanceType"), &r.instance_type, INSTANCE_TYPES)?;
        validate::one_of(&param("Status"), &r.status, STATUSES)?;
        if !PRIORITIES.contains(&r.priority) {
            return Err(ApiError::range(
                &param("Priority"),
                format_args!("{} is not 0 or 100", r.priority),
            ));
        }
        match r.instance_type.as_str() {
            "VPNCONN" => {
                let Some(c) = region.connections().get(&r.instance_id) else {
                    return Err(ApiError::new(
                        codes::RESOURCE_NOT_FOUND,
                        format!(
                            "The VPN connection `{}` of {} does not exist.",
                            r.instance_id,
                            param("InstanceId")
                        ),
                    ));
                };
                if c.gateway_id != req.gateway {
                    return Err(ApiError::new(
                        codes::UO_INSTANCE_AND_RTB_NOT_MATCH,
                        format!(
                            "The VPN connection `{}` belongs to VPN gateway {}, not {}.",
                            c.id, c.gateway_id, req.gateway
                        ),
                    ));
                }
                if c.state != ConnectionState::Available {
                    return Err(ApiError::new(
                        codes::UO_VPN_CONN_INVALID_STATE,
                        format!("The VPN connection `{}` is not AVAILABLE.", c.id),
                    ));
                }
                if c.route_type != "StaticRoute" {
                    return Err(ApiError::new(
                        codes::UO_VPN_CONN_ROUTE_TYPE_MIXED,
                        format!(
                            "The VPN connection `{}` is a {} tunnel: destination routes go to route-based (StaticRoute) tunnels only.",
                            c.id, c.route_type
                        ),
                    ));
                }
            }
            _ => {
                if !is_ccn_gateway {
                    return Err(ApiError::new(
                        codes::UNSUPPORTED_OPERATION,
                        format!(
                            "VPN gateway {} is not a CCN-type gateway: its routes go to its tunnels (VPNCONN).",
                            req.gateway
                        ),
                    ));
                }
                super::check_id_format(
                    &param("InstanceId"),
                    &r.instance_id,
                    "ccn",
                    codes::IPV_MALFORMED,
                )?;
            }
        }
        if !seen.insert((net.to_string(), r.instance_id.clone())) {
            return Err(ApiError::new(
                codes::IPV_VPN_GATEWAY_ROUTE_DUPLICATE,
                format!(
                    "VPN gateway {} already has a route to {net} through {}.",
                    req.gateway, r.instance_id
                ),
            ));
        }
    }
    let quota = ctx.settings.quotas.routes_per_vpn_gateway as usize;
    if existing.len() + req.routes.len() > quota {
        return Err(ApiError::new(
            codes::LIMIT_EXCEEDED_VPN_GATEWAY_ROUTES,
            format!(
                "VPN gateway {} has {} routes; {} more would exceed its quota of {quota}.",
                req.gateway,
                existing.len(),
                req.routes.len()
            ),
        ));
    }
    let now = clock::format_time(ctx.now_ms);
    let mut out = Vec::with_capacity(req.routes.len());
    for r in req.routes {
        let id = ctx.world.new_id(ctx.rng, "vpnr");
        out.push(GatewayRoute {
            destination: r
                .destination
                .parse::<ipnet::Ipv4Net>()
                .map(|n| n.to_string())
                .unwrap_or(r.destination),
            instance_type: r.instance_type,
            instance_id: r.instance_id,
            priority: r.priority,
            status: r.status,
            id,
            route_type: "Static".to_string(),
            create_time: now.clone(),
            update_time: now.clone(),
            description: r.description.unwrap_or_default(),
        });
    }
    let body = ctx.reply(&RoutesOut { routes: &out })?;
    let region = ctx.world.region_mut(ctx.region);
    for route in out {
        region.gateway_routes.insert(
            route.id.clone(),
            StoredGatewayRoute {
                gateway_id: req.gateway.clone(),
                route,
            },
        );
    }
    Ok(body)
}

#[derive(Deserialize)]
pub struct DescribeReq {
    #[serde(rename = "VpnGatewayId")]
    gateway: String,
    #[serde(flatten)]
    paging: Paging<i64>,
}

pub fn describe(ctx: &mut Ctx<'_>, req: DescribeReq) -> ApiResult<Vec<u8>> {
    let region = ctx.world.region(ctx.region);
    find_gateway(region, "VpnGatewayId", &req.gateway)?;
    let filters = req.paging.filters.unwrap_or_default();
    for f in &filters {
        if !FILTERS.contains(&f.name.as_str()) {
            return Err(ApiError::new(
                codes::INVALID_PARAMETER_FILTER_INVALID_KEY,
                format!(
                    "The filter `{}` is not one of {}.",
                    f.name,
                    FILTERS.join(", ")
                ),
            ));
        }
    }
    let offset = req.paging.offset.unwrap_or(0);
    let limit = req.paging.limit.unwrap_or(DEFAULT_LIMIT);
    if offset < 0 {
        return Err(ApiError::range(
            "Offset",
            format_args!("{offset} is negative"),
        ));
    }
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::range(
            "Limit",
            format_args!("{limit} is not within [1, {MAX_LIMIT}]"),
        ));
    }
    let items: Vec<&GatewayRoute> = region
        .into_iter()
        .flat_map(|r| r.gateway_routes.values())
        .filter(|r| r.gateway_id == req.gateway)
        .map(|r| &r.route)
        .filter(|r| {
            filters.iter().all(|f| {
                f.values.iter().any(|v| match f.name.as_str() {
                    "DestinationCidr" => &r.destination == v,
                    "InstanceId" => &r.instance_id == v,
                    _ => &r.instance_type == v,
                })
            })
        })
        .collect();
    let total = items.len();
    let page: Vec<GatewayRoute> = items
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .cloned()
        .collect();
    ctx.reply_page("Routes", total, &page)
}

/// The routes of `gateway` named in a request: each must exist on it.
fn check_ids<'a>(
    ctx: &Ctx<'_>,
    gateway: &str,
    ids: impl Iterator<Item = (usize, &'a String)>,
) -> ApiResult<()> {
    let region = ctx.world.region(ctx.region);
    for (n, id) in ids {
        let found = region
            .and_then(|r| r.gateway_routes.get(id))
            .is_some_and(|r| r.gateway_id == gateway);
        if !found {
            return Err(ApiError::new(
                codes::RESOURCE_NOT_FOUND,
                format!("The route `{id}` (RouteIds.{n}) does not exist on VPN gateway {gateway}."),
            ));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct ModifyRouteIn {
    #[serde(rename = "RouteId")]
    id: String,
    #[serde(rename = "Status")]
    status: Option<String>,
    #[serde(rename = "Description")]
    description: Option<String>,
}

#[derive(Deserialize)]
pub struct ModifyReq {
    #[serde(rename = "VpnGatewayId")]
    gateway: String,
    #[serde(rename = "Routes")]
    routes: Vec<ModifyRouteIn>,
}

pub fn modify(ctx: &mut Ctx<'_>, req: ModifyReq) -> ApiResult<Vec<u8>> {
    let g = find_gateway(ctx.world.region(ctx.region), "VpnGatewayId", &req.gateway)?;
    require_available(g)?;
    check_ids(
        ctx,
        &req.gateway,
        req.routes.iter().map(|r| &r.id).enumerate(),
    )?;
    for (n, r) in req.routes.iter().enumerate() {
        if let Some(s) = &r.status {
            validate::one_of(&format!("Routes.{n}.Status"), s, STATUSES)?;
        }
    }
    let now = clock::format_time(ctx.now_ms);
    let region = ctx.world.region_mut(ctx.region);
    let mut out = Vec::with_capacity(req.routes.len());
    for r in req.routes {
        if let Some(stored) = region.gateway_routes.get_mut(&r.id) {
            if let Some(s) = r.status {
                stored.route.status = s;
            }
            if let Some(d) = r.description {
                stored.route.description = d;
            }
            stored.route.update_time = now.clone();
            out.push(stored.route.clone());
        }
    }
    ctx.reply(&RoutesOut { routes: &out })
}

#[derive(Deserialize)]
pub struct DeleteReq {
    #[serde(rename = "VpnGatewayId")]
    gateway: String,
    #[serde(rename = "RouteIds")]
    ids: Vec<String>,
}

pub fn delete(ctx: &mut Ctx<'_>, req: DeleteReq) -> ApiResult<Vec<u8>> {
    let g = find_gateway(ctx.world.region(ctx.region), "VpnGatewayId", &req.gateway)?;
    require_available(g)?;
    if req.ids.is_empty() {
        return Err(ApiError::missing("RouteIds"));
    }
    check_ids(ctx, &req.gateway, req.ids.iter().enumerate())?;
    let region = ctx.world.region_mut(ctx.region);
    for id in &req.ids {
        region.gateway_routes.shift_remove(id);
    }
    for id in &req.ids {
        ctx.world.release_id(id);
    }
    ctx.reply_empty()
}
