//! Route tables and their entries: CreateRouteTable, DeleteRouteTable, DescribeRouteTables,
//! ModifyRouteTableAttribute, CreateRoutes, DeleteRoutes, ReplaceRoutes, EnableRoutes and
//! DisableRoutes. Every VPC is born with its default (`Main`) table.
//!
//! Entries are validated as the API documents: the destination is an IPv4 CIDR outside the VPC's
//! range, one entry per destination in a table (the same next hop again is a duplicate, another
//! next hop would be an ECMP route the API refuses), the next hop's id matches its type, and the
//! next hops the sandbox emulates must exist: a VPN gateway of the same VPC that is AVAILABLE, an
//! instance address (`NORMAL_CVM`, `CVM`) inside the VPC, `0` for `EIP`. A request changes all of
//! its entries or none.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::query::{Paging, QuerySpec};
use super::{check_id_format, Ctx};
use crate::clock;
use crate::error::{codes, ApiError, ApiResult};
use crate::validate::{self, TagIn};
use crate::world::model::{GatewayState, RouteEntry, RouteTable, Vpc};
use crate::world::Region;

/// Next hop types the API documents, with what their `GatewayId` looks like.
const NEXT_HOPS: &[(&str, NextHop)] = &[
    ("CVM", NextHop::Address),
    ("VPN", NextHop::Prefix("vpngw")),
    ("DIRECTCONNECT", NextHop::Prefix("dcg")),
    ("PEERCONNECTION", NextHop::Prefix("pcx")),
    ("SSLVPN", NextHop::Prefix("vpngw")),
    ("HAVIP", NextHop::Prefix("havip")),
    ("NAT", NextHop::Prefix("nat")),
    ("NORMAL_CVM", NextHop::Address),
    ("EIP", NextHop::Zero),
    ("LOCAL_GATEWAY", NextHop::Prefix("lgw")),
    ("CCN", NextHop::Prefix("ccn")),
    ("INTRANAT", NextHop::Prefix("intranat")),
    ("USER_CCN", NextHop::Prefix("ccn")),
    ("GWLB_ENDPOINT", NextHop::Prefix("gwlbe")),
];

#[derive(Debug, Clone, Copy)]
enum NextHop {
    /// A private address inside the VPC.
    Address,
    /// An instance id `<prefix>-...`.
    Prefix(&'static str),
    /// The literal `0`.
    Zero,
}

/// At most this many ids per EnableRoutes / DisableRoutes call.
const MAX_SWITCH_IDS: usize = 100;

pub fn find<'a>(region: Option<&'a Region>, param: &str, id: &str) -> ApiResult<&'a RouteTable> {
    check_id_format(param, id, "rtb", codes::INVALID_ROUTE_TABLE_ID_MALFORMED)?;
    region
        .and_then(|r| r.route_tables.get(id))
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        codes::INVALID_ROUTE_TABLE_ID_NOT_FOUND,
        format!("The route table `{id}` does not exist."),
    )
}

fn table_mut<'a>(ctx: &'a mut Ctx<'_>, id: &str) -> ApiResult<&'a mut RouteTable> {
    ctx.world
        .region_mut(ctx.region)
        .route_tables
        .get_mut(id)
        .ok_or_else(|| not_found(id))
}

#[derive(Deserialize)]
pub struct CreateTableReq {
    #[serde(rename = "VpcId")]
    vpc_id: String,
    #[serde(rename = "RouteTableName")]
    name: String,
    #[serde(rename = "Tags")]
    tags: Option<Vec<TagIn>>,
}

#[derive(Serialize)]
struct TableOut<'a> {
    #[serde(rename = "RouteTable")]
    table: &'a RouteTable,
}

pub fn create_table(ctx: &mut Ctx<'_>, req: CreateTableReq) -> ApiResult<Vec<u8>> {
    check_id_format("VpcId", &req.vpc_id, "vpc", codes::INVALID_VPC_ID_MALFORMED)?;
    validate::name("RouteTableName", &req.name)?;
    let tags = validate::vpc_tags("Tags", req.tags)?;
    let region = ctx.world.region(ctx.region);
    if !region.is_some_and(|r| r.vpcs.contains_key(&req.vpc_id)) {
        return Err(ApiError::new(
            codes::INVALID_VPC_ID_NOT_FOUND,
            format!("The VPC `{}` does not exist in {}.", req.vpc_id, ctx.region),
        ));
    }
    let quota = ctx.settings.quotas.route_tables_per_vpc as usize;
    let have = region.map_or(0, |r| {
        r.route_tables
            .values()
            .filter(|t| t.vpc_id == req.vpc_id)
            .count()
    });
    if have >= quota {
        return Err(ApiError::new(
            codes::LIMIT_EXCEEDED,
            format!(
                "The VPC `{}` already has the maximum of {quota} route tables.",
                req.vpc_id
            ),
        ));
    }
    let id = ctx.world.new_id(ctx.rng, "rtb");
    let table = RouteTable {
        vpc_id: req.vpc_id,
        id: id.clone(),
        name: req.name,
        associations: Vec::new(),
        routes: Vec::new(),
        main: false,
        created_time: clock::format_time(ctx.now_ms),
        tags,
        local_cidr_for_ccn: Vec::new(),
    };
    let body = ctx.reply(&TableOut { table: &table })?;
    ctx.world
        .region_mut(ctx.region)
        .route_tables
        .insert(id, table);
    Ok(body)
}

#[derive(Deserialize)]
pub struct DeleteTableReq {
    #[serde(rename = "RouteTableId")]
    id: String,
}

pub fn delete_table(ctx: &mut Ctx<'_>, req: DeleteTableReq) -> ApiResult<Vec<u8>> {
    let t = find(ctx.world.region(ctx.region), "RouteTableId", &req.id)?;
    if t.main {
        return Err(ApiError::new(
            codes::UO_DEL_DEFAULT_ROUTE,
            format!(
                "`{}` is the default route table of {}: it goes with its VPC.",
                req.id, t.vpc_id
            ),
        ));
    }
    if !t.associations.is_empty() {
        return Err(ApiError::new(
            codes::UO_DEL_ROUTE_WITH_SUBNET,
            format!(
                "The route table `{}` is associated with {} subnet(s); associate them with another table first.",
                req.id,
                t.associations.len()
            ),
        ));
    }
    let region = ctx.world.region_mut(ctx.region);
    if let Some(t) = region.route_tables.shift_remove(&req.id) {
        for r in &t.routes {
            ctx.world.release_id(&r.item_id);
        }
    }
    ctx.world.release_id(&req.id);
    ctx.reply_empty()
}

#[derive(Deserialize)]
pub struct ModifyTableReq {
    #[serde(rename = "RouteTableId")]
    id: String,
    #[serde(rename = "RouteTableName")]
    name: String,
}

pub fn modify_table(ctx: &mut Ctx<'_>, req: ModifyTableReq) -> ApiResult<Vec<u8>> {
    find(ctx.world.region(ctx.region), "RouteTableId", &req.id)?;
    validate::name("RouteTableName", &req.name)?;
    table_mut(ctx, &req.id)?.name = req.name;
    ctx.reply_empty()
}

#[derive(Deserialize)]
pub struct DescribeTablesReq {
    #[serde(rename = "RouteTableIds")]
    ids: Option<Vec<String>>,
    #[serde(flatten)]
    paging: Paging<String>,
    #[serde(rename = "NeedRouterInfo")]
    need_router_info: Option<bool>,
}

const TABLE_FILTERS: &[&str] = &[
    "route-table-id",
    "route-table-name",
    "vpc-id",
    "association.main",
    "association.subnet-id",
];

pub fn describe_tables(ctx: &mut Ctx<'_>, req: DescribeTablesReq) -> ApiResult<Vec<u8>> {
    let q = QuerySpec {
        ids_param: "RouteTableIds",
        filter_names: TABLE_FILTERS,
        tag_filters: true,
    }
    .parse_paged(req.ids, req.paging.numbers()?)?;
    if let Some(ids) = &q.ids {
        for id in ids {
            check_id_format(
                "RouteTableIds",
                id,
                "rtb",
                codes::INVALID_ROUTE_TABLE_ID_MALFORMED,
            )?;
        }
    }
    let items: Vec<&RouteTable> = match ctx.world.region(ctx.region) {
        None => Vec::new(),
        Some(r) => r
            .route_tables
            .values()
            .filter(|t| q.wants_id(&t.id))
            .filter(|t| {
                q.matches(&t.tags, |name, value| match name {
                    "route-table-id" => t.id == value,
                    "route-table-name" => t.name == value,
                    "vpc-id" => t.vpc_id == value,
                    "association.main" => {
                        value.eq_ignore_ascii_case(if t.main { "true" } else { "false" })
                    }
                    "association.subnet-id" => t.associations.iter().any(|a| a.subnet_id == value),
                    _ => false,
                })
            })
            .collect(),
    };
    let (total, page) = q.page(items);
    let without_routes: Vec<RouteTable>;
    let set: Vec<&RouteTable> = if req.need_router_info == Some(false) {
        without_routes = page
            .iter()
            .map(|t| RouteTable {
                routes: Vec::new(),
                ..(*t).clone()
            })
            .collect();
        without_routes.iter().collect()
    } else {
        page
    };
    ctx.reply_page("RouteTableSet", total, &set)
}

/// A route in a request (every member optional: DeleteRoutes names routes by id alone).
#[derive(Deserialize, Clone)]
pub struct RouteIn {
    #[serde(rename = "DestinationCidrBlock")]
    destination: Option<String>,
    #[serde(rename = "GatewayType")]
    gateway_type: Option<String>,
    #[serde(rename = "GatewayId")]
    gateway_id: Option<String>,
    #[serde(rename = "RouteId")]
    route_id: Option<u64>,
    #[serde(rename = "RouteDescription")]
    description: Option<String>,
    #[serde(rename = "RouteItemId")]
    item_id: Option<String>,
    #[serde(rename = "DestinationIpv6CidrBlock")]
    destination_ipv6: Option<String>,
}

/// What a valid route in a create or replace request says.
struct Target {
    destination: Ipv4Net,
    gateway_type: String,
    gateway_id: String,
    description: String,
}

/// Checks one route of a create or replace request (`n`: its index) against the table's VPC.
fn check_route(region: &Region, vpc: &Vpc, n: usize, r: &RouteIn) -> ApiResult<Target> {
    let param = |m: &str| format!("Routes.{n}.{m}");
    if r.destination_ipv6.as_deref().is_some_and(|v| !v.is_empty()) {
        return Err(ApiError::new(
            codes::UNSUPPORTED_OPERATION,
            "IPv6 routes are not supported by the sandbox.",
        ));
    }
    let destination = r
        .destination
        .as_deref()
        .ok_or_else(|| ApiError::missing(&param("DestinationCidrBlock")))?;
    let gateway_type = r
        .gateway_type
        .as_deref()
        .ok_or_else(|| ApiError::missing(&param("GatewayType")))?;
    let gateway_id = r
        .gateway_id
        .as_deref()
        .ok_or_else(|| ApiError::missing(&param("GatewayId")))?;
    let net = validate::cidr(&param("DestinationCidrBlock"), destination)?;
    if net.trunc() != net {
        return Err(ApiError::malformed(
            &param("DestinationCidrBlock"),
            destination,
        ));
    }
    if vpc.cidr.contains(&net) {
        return Err(ApiError::new(
            codes::IPV_VPC_CIDR_CONFLICT,
            format!(
                "The destination {destination} of {} lies inside the range {} of VPC {}: routes there are the VPC's own.",
                param("DestinationCidrBlock"),
                vpc.cidr,
                vpc.id
            ),
        ));
    }
    let Some((_, hop)) = NEXT_HOPS.iter().find(|(t, _)| *t == gateway_type) else {
        let names: Vec<&str> = NEXT_HOPS.iter().map(|(t, _)| *t).collect();
        return Err(ApiError::range(
            &param("GatewayType"),
            format_args!("`{gateway_type}` is not one of {}", names.join(", ")),
        ));
    };
    let mismatch = || {
        ApiError::new(
            codes::INVALID_PARAMETER_NEXT_HOP_MISMATCH,
            format!(
                "The next hop `{gateway_id}` of {} does not match the next hop type {gateway_type}.",
                param("GatewayId")
            ),
        )
    };
    match hop {
        NextHop::Address => {
            let ip: Ipv4Addr = gateway_id.parse().map_err(|_| mismatch())?;
            if !vpc.cidr.contains(&ip) {
                return Err(ApiError::new(
                    codes::IPV_ROUTE_NEXT_HOP_INVALID,
                    format!(
                        "The next hop address {ip} of {} is not inside VPC {} ({}).",
                        param("GatewayId"),
                        vpc.id,
                        vpc.cidr
                    ),
                ));
            }
        }
        NextHop::Zero => {
            if gateway_id != "0" {
                return Err(ApiError::new(
                    codes::IPV_ROUTE_NEXT_HOP_INVALID,
                    format!("The next hop of an EIP route is `0`, not `{gateway_id}`."),
                ));
            }
        }
        NextHop::Prefix(prefix) => {
            let ok = gateway_id
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|rest| {
                    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
                });
            if !ok {
                return Err(mismatch());
            }
        }
    }
    if gateway_type == "VPN" {
        let Some(g) = region.gateways.get(gateway_id) else {
            return Err(ApiError::new(
                codes::RESOURCE_NOT_FOUND,
                format!(
                    "The VPN gateway `{gateway_id}` of {} does not exist.",
                    param("GatewayId")
                ),
            ));
        };
        if g.info.vpc_id != vpc.id {
            return Err(ApiError::new(
                codes::UO_INSTANCE_AND_RTB_NOT_MATCH,
                format!(
                    "The VPN gateway `{gateway_id}` is not in VPC {} of the route table.",
                    vpc.id
                ),
            ));
        }
        if g.info.state != GatewayState::Available {
            return Err(ApiError::new(
                codes::UO_INVALID_STATE,
                format!(
                    "The VPN gateway `{gateway_id}` is not AVAILABLE yet (it is being created)."
                ),
            ));
        }
    }
    let description = r.description.clone().unwrap_or_default();
    if description.chars().count() > 100 {
        return Err(ApiError::new(
            codes::IPV_TOO_LONG,
            format!(
                "{} is longer than 100 characters.",
                param("RouteDescription")
            ),
        ));
    }
    Ok(Target {
        destination: net,
        gateway_type: gateway_type.to_string(),
        gateway_id: gateway_id.to_string(),
        description,
    })
}

/// The error for a second entry for `destination` in a table: a duplicate when the next hop is the
/// same, else an ECMP route (which the API refuses for user routes).
fn clash(destination: &Ipv4Net, same_hop: bool, table: &str) -> ApiError {
    if same_hop {
        ApiError::new(
            codes::IPV_DUPLICATE,
            format!("The route table `{table}` already has a route to {destination} with this next hop."),
        )
    } else {
        ApiError::new(
            codes::UO_ECMP_WITH_USER_ROUTE,
            format!("The route table `{table}` already has a route to {destination} with another next hop."),
        )
    }
}

fn table_and_vpc<'a>(
    ctx: &'a Ctx<'_>,
    table_id: &str,
) -> ApiResult<(&'a Region, &'a RouteTable, &'a Vpc)> {
    let region = ctx.world.region(ctx.region);
    let t = find(region, "RouteTableId", table_id)?;
    let region = region.ok_or_else(|| not_found(table_id))?;
    let vpc = region
        .vpcs
        .get(&t.vpc_id)
        .ok_or_else(|| ApiError::internal(format!("route table {table_id} has no VPC")))?;
    Ok((region, t, vpc))
}

#[derive(Deserialize)]
pub struct CreateRoutesReq {
    #[serde(rename = "RouteTableId")]
    table: String,
    #[serde(rename = "Routes")]
    routes: Vec<RouteIn>,
}

#[derive(Serialize)]
struct CreateRoutesOut<'a> {
    #[serde(rename = "TotalCount")]
    total: usize,
    #[serde(rename = "RouteTableSet")]
    set: [&'a RouteTable; 1],
}

pub fn create_routes(ctx: &mut Ctx<'_>, req: CreateRoutesReq) -> ApiResult<Vec<u8>> {
    let (region, t, vpc) = table_and_vpc(ctx, &req.table)?;
    if req.routes.is_empty() {
        return Err(ApiError::new(
            codes::IPV_EMPTY,
            "The parameter `Routes` must not be empty.",
        ));
    }
    let mut targets = Vec::with_capacity(req.routes.len());
    let mut seen: HashSet<Ipv4Net> = HashSet::new();
    for (n, r) in req.routes.iter().enumerate() {
        let target = check_route(region, vpc, n, r)?;
        if let Some(old) = t
            .routes
            .iter()
            .find(|e| e.destination == target.destination.to_string())
        {
            let same =
                old.gateway_type == target.gateway_type && old.gateway_id == target.gateway_id;
            return Err(clash(&target.destination, same, &t.id));
        }
        if !seen.insert(target.destination) {
            return Err(ApiError::new(
                codes::IPV_DUPLICATE,
                format!(
                    "The destination {} appears twice in `Routes`.",
                    target.destination
                ),
            ));
        }
        targets.push(target);
    }
    let quota = ctx.settings.quotas.routes_per_table as usize;
    if t.routes.len() + targets.len() > quota {
        return Err(ApiError::new(
            codes::LIMIT_EXCEEDED,
            format!(
                "The route table `{}` has {} routes; {} more would exceed its quota of {quota}.",
                t.id,
                t.routes.len(),
                targets.len()
            ),
        ));
    }
    let created = clock::format_time(ctx.now_ms);
    let mut entries = Vec::with_capacity(targets.len());
    for target in targets {
        let route_id = ctx.world.new_route_id();
        let item_id = ctx.world.new_id(ctx.rng, "rti");
        entries.push(RouteEntry {
            destination: target.destination.to_string(),
            gateway_type: target.gateway_type,
            gateway_id: target.gateway_id,
            route_id,
            description: target.description,
            enabled: true,
            route_type: "USER".to_string(),
            route_table_id: req.table.clone(),
            destination_ipv6: String::new(),
            item_id,
            published_to_vbc: false,
            created_time: created.clone(),
            cdc_id: String::new(),
        });
    }
    let total = entries.len();
    let request_id = ctx.request_id.to_string();
    let table = table_mut(ctx, &req.table)?;
    table.routes.extend(entries);
    super::reply(
        &request_id,
        &CreateRoutesOut {
            total,
            set: [table],
        },
    )
}

/// Finds an entry of `table` by `RouteId` or `RouteItemId`, answering the documented codes.
fn entry_index(table: &RouteTable, n: usize, r: &RouteIn) -> ApiResult<usize> {
    let pos = match (r.route_id, r.item_id.as_deref()) {
        (Some(id), _) => table.routes.iter().position(|e| e.route_id == id),
        (None, Some(item)) => table.routes.iter().position(|e| e.item_id == item),
        (None, None) => return Err(ApiError::missing(&format!("Routes.{n}.RouteId"))),
    };
    let pos = pos.ok_or_else(|| {
        ApiError::new(
            codes::INVALID_ROUTE_ID_NOT_FOUND,
            format!(
                "The route {} does not exist in route table `{}`.",
                r.route_id
                    .map(|i| i.to_string())
                    .or_else(|| r.item_id.clone())
                    .unwrap_or_default(),
                table.id
            ),
        )
    })?;
    if table.routes[pos].route_type != "USER" {
        return Err(ApiError::new(
            codes::UO_SYSTEM_ROUTE,
            format!(
                "The route {} is a system route and cannot be changed.",
                table.routes[pos].route_id
            ),
        ));
    }
    Ok(pos)
}

#[derive(Deserialize)]
pub struct DeleteRoutesReq {
    #[serde(rename = "RouteTableId")]
    table: String,
    #[serde(rename = "Routes")]
    routes: Option<Vec<RouteIn>>,
}

pub fn delete_routes(ctx: &mut Ctx<'_>, req: DeleteRoutesReq) -> ApiResult<Vec<u8>> {
    let t = find(ctx.world.region(ctx.region), "RouteTableId", &req.table)?;
    let routes = req.routes.unwrap_or_default();
    if routes.is_empty() {
        return Err(ApiError::missing("Routes"));
    }
    let mut positions = Vec::with_capacity(routes.len());
    for (n, r) in routes.iter().enumerate() {
        let pos = entry_index(t, n, r)?;
        if !positions.contains(&pos) {
            positions.push(pos);
        }
    }
    let table = table_mut(ctx, &req.table)?;
    positions.sort_unstable();
    let mut removed = Vec::with_capacity(positions.len());
    for pos in positions.into_iter().rev() {
        removed.push(table.routes.remove(pos));
    }
    removed.reverse();
    for r in &removed {
        ctx.world.release_id(&r.item_id);
    }
    ctx.reply_one("RouteSet", &removed)
}

#[derive(Deserialize)]
pub struct ReplaceRoutesReq {
    #[serde(rename = "RouteTableId")]
    table: String,
    #[serde(rename = "Routes")]
    routes: Vec<RouteIn>,
}

pub fn replace_routes(ctx: &mut Ctx<'_>, req: ReplaceRoutesReq) -> ApiResult<Vec<u8>> {
    let (region, t, vpc) = table_and_vpc(ctx, &req.table)?;
    let mut changes = Vec::with_capacity(req.routes.len());
    for (n, r) in req.routes.iter().enumerate() {
        let pos = entry_index(t, n, r)?;
        let target = check_route(region, vpc, n, r)?;
        changes.push((pos, target));
    }
    // The table as it would be: one entry per destination.
    let mut after: Vec<(String, String, String)> = t
        .routes
        .iter()
        .map(|e| {
            (
                e.destination.clone(),
                e.gateway_type.clone(),
                e.gateway_id.clone(),
            )
        })
        .collect();
    for (pos, target) in &changes {
        after[*pos] = (
            target.destination.to_string(),
            target.gateway_type.clone(),
            target.gateway_id.clone(),
        );
    }
    let mut seen = HashSet::new();
    for (dest, _, _) in &after {
        if !seen.insert(dest.clone()) {
            return Err(ApiError::new(
                codes::IPV_DUPLICATE,
                format!(
                    "The route table `{}` would have two routes to {dest}.",
                    t.id
                ),
            ));
        }
    }
    let table = table_mut(ctx, &req.table)?;
    let mut old = Vec::with_capacity(changes.len());
    let mut new = Vec::with_capacity(changes.len());
    for (pos, target) in changes {
        let e = &mut table.routes[pos];
        old.push(e.clone());
        e.destination = target.destination.to_string();
        e.gateway_type = target.gateway_type;
        e.gateway_id = target.gateway_id;
        e.description = target.description;
        new.push(e.clone());
    }
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(rename = "OldRouteSet")]
        old: &'a [RouteEntry],
        #[serde(rename = "NewRouteSet")]
        new: &'a [RouteEntry],
    }
    ctx.reply(&Out {
        old: &old,
        new: &new,
    })
}

#[derive(Deserialize)]
pub struct SwitchRoutesReq {
    #[serde(rename = "RouteTableId")]
    table: String,
    #[serde(rename = "RouteIds")]
    route_ids: Option<Vec<u64>>,
    #[serde(rename = "RouteItemIds")]
    item_ids: Option<Vec<String>>,
}

/// EnableRoutes (`enable`) and DisableRoutes.
pub fn switch_routes(ctx: &mut Ctx<'_>, req: SwitchRoutesReq, enable: bool) -> ApiResult<Vec<u8>> {
    let t = find(ctx.world.region(ctx.region), "RouteTableId", &req.table)?;
    let ids = req.route_ids.filter(|v| !v.is_empty());
    let items = req.item_ids.filter(|v| !v.is_empty());
    let wanted: Vec<RouteIn> = match (ids, items) {
        (Some(_), Some(_)) => return Err(ApiError::new(
            codes::INVALID_PARAMETER_COEXIST,
            "The parameters `RouteIds` and `RouteItemIds` cannot be specified at the same time.",
        )),
        (None, None) => return Err(ApiError::missing("RouteIds")),
        (Some(ids), None) => ids
            .into_iter()
            .map(|id| RouteIn {
                route_id: Some(id),
                ..RouteIn::empty()
            })
            .collect(),
        (None, Some(items)) => items
            .into_iter()
            .map(|id| RouteIn {
                item_id: Some(id),
                ..RouteIn::empty()
            })
            .collect(),
    };
    if wanted.len() > MAX_SWITCH_IDS {
        return Err(ApiError::new(
            codes::IPV_LIMIT_EXCEEDED,
            format!("At most {MAX_SWITCH_IDS} routes per request."),
        ));
    }
    let mut positions = Vec::with_capacity(wanted.len());
    for (n, r) in wanted.iter().enumerate() {
        positions.push(entry_index(t, n, r)?);
    }
    let table = table_mut(ctx, &req.table)?;
    for pos in positions {
        table.routes[pos].enabled = enable;
    }
    ctx.reply_empty()
}

impl RouteIn {
    fn empty() -> RouteIn {
        RouteIn {
            destination: None,
            gateway_type: None,
            gateway_id: None,
            route_id: None,
            description: None,
            item_id: None,
            destination_ipv6: None,
        }
    }
}
