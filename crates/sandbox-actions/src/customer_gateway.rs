//! CreateCustomerGateway, DescribeCustomerGateways, ModifyCustomerGatewayAttribute, DeleteCustomerGateway.

use serde::{Deserialize, Serialize};

use super::query::{Paging, QuerySpec};
use super::{check_id_format, Ctx};
use crate::clock;
use crate::error::{codes, ApiError, ApiResult};
use crate::validate::{self, TagIn};
use crate::world::model::CustomerGateway;
use crate::world::Region;

/// A customer gateway as described, with its tunnel count.
#[derive(Serialize)]
struct View<'a> {
    #[serde(flatten)]
    cgw: &'a CustomerGateway,
    #[serde(rename = "VpnConnNum")]
    vpn_conn_num: usize,
}

/// Finds a customer gateway of the request's region (`ResourceNotFound` when it does not exist).
pub fn find<'a>(
    region: Option<&'a Region>,
    param: &str,
    id: &str,
) -> ApiResult<&'a CustomerGateway> {
    check_id_format(param, id, "cgw", codes::IPV_MALFORMED)?;
    region
        .and_then(|r| r.customer_gateways.get(id))
        .ok_or_else(|| {
            ApiError::new(
                codes::RESOURCE_NOT_FOUND,
                format!("The customer gateway `{id}` does not exist."),
            )
        })
}

#[derive(Deserialize)]
pub struct CreateReq {
    #[serde(rename = "CustomerGatewayName")]
    name: String,
    #[serde(rename = "IpAddress")]
    ip_address: String,
    #[serde(rename = "Tags")]
    tags: Option<Vec<TagIn>>,
    #[serde(rename = "BgpAsn")]
    bgp_asn: Option<i64>,
}

fn asn(value: i64) -> ApiResult<u64> {
    let asn = u64::try_from(value)
        .map_err(|_| ApiError::range("BgpAsn", format_args!("{value} is negative")))?;
    validate::bgp_asn("BgpAsn", asn)?;
    Ok(asn)
}

pub fn create(ctx: &mut Ctx<'_>, req: CreateReq) -> ApiResult<Vec<u8>> {
    validate::name("CustomerGatewayName", &req.name)?;
    let ip = validate::customer_gateway_ip("IpAddress", &req.ip_address)?;
    let bgp_asn = req.bgp_asn.map(asn).transpose()?.unwrap_or(0);
    let tags = validate::vpc_tags("Tags", req.tags)?;
    let ip = ip.to_string();
    if let Some(region) = ctx.world.region(ctx.region) {
        if let Some(other) = region
            .customer_gateways
            .values()
            .find(|c| c.ip_address == ip)
        {
            return Err(ApiError::new(
                codes::IPV_DUPLICATE,
                format!(
                    "The customer gateway `{}` already uses the address {ip}.",
                    other.id
                ),
            ));
        }
        let quota = ctx.settings.quotas.customer_gateways_per_region as usize;
        if region.customer_gateways.len() >= quota {
            return Err(ApiError::new(
                codes::LIMIT_EXCEEDED,
                format!(
                    "The region {} already has the maximum of {quota} customer gateways.",
                    ctx.region
                ),
            ));
        }
    }
    let id = ctx.world.new_id(ctx.rng, "cgw");
    let cgw = CustomerGateway {
        id: id.clone(),
        name: req.name,
        ip_address: ip,
        created_time: clock::format_time(ctx.now_ms),
        bgp_asn,
        tags,
    };
    let body = ctx.reply_one(
        "CustomerGateway",
        &View {
            cgw: &cgw,
            vpn_conn_num: 0,
        },
    )?;
    ctx.world
        .region_mut(ctx.region)
        .customer_gateways
        .insert(id, cgw);
    Ok(body)
}

#[derive(Deserialize)]
pub struct DescribeReq {
    #[serde(rename = "CustomerGatewayIds")]
    ids: Option<Vec<String>>,
    #[serde(flatten)]
    paging: Paging<u64>,
}

const CGW_FILTERS: &[&str] = &[
    "customer-gateway-id",
    "customer-gateway-name",
    "ip-address",
    "ip-version",
];

pub fn describe(ctx: &mut Ctx<'_>, req: DescribeReq) -> ApiResult<Vec<u8>> {
    let q = QuerySpec {
        ids_param: "CustomerGatewayIds",
        filter_names: CGW_FILTERS,
        tag_filters: false,
    }
    .parse_paged(req.ids, req.paging)?;
    if let Some(ids) = &q.ids {
        for id in ids {
            check_id_format("CustomerGatewayIds", id, "cgw", codes::IPV_MALFORMED)?;
        }
    }
    let items: Vec<View<'_>> = match ctx.world.region(ctx.region) {
        None => Vec::new(),
        Some(r) => r
            .customer_gateways
            .values()
            .filter(|c| q.wants_id(&c.id))
            .filter(|c| {
                q.matches(&c.tags, |name, value| match name {
                    "customer-gateway-id" => c.id == value,
                    "customer-gateway-name" => c.name == value,
                    "ip-address" => c.ip_address == value,
                    "ip-version" => value.eq_ignore_ascii_case("IPv4"),
                    _ => false,
                })
            })
            .map(|c| View {
                cgw: c,
                vpn_conn_num: r.count_on_customer_gateway(&c.id),
            })
            .collect(),
    };
    let (total, page) = q.page(items);
    ctx.reply_page("CustomerGatewaySet", total, &page)
}

#[derive(Deserialize)]
pub struct ModifyReq {
    #[serde(rename = "CustomerGatewayId")]
    id: String,
    #[serde(rename = "CustomerGatewayName")]
    name: String,
    #[serde(rename = "BgpAsn")]
    bgp_asn: Option<i64>,
}

pub fn modify(ctx: &mut Ctx<'_>, req: ModifyReq) -> ApiResult<Vec<u8>> {
    let region = ctx.world.region(ctx.region);
    let cgw = find(region, "CustomerGatewayId", &req.id)?;
    validate::name("CustomerGatewayName", &req.name)?;
    let new_asn = req.bgp_asn.map(asn).transpose()?;
    if let Some(asn) = new_asn {
        let has_bgp = region.is_some_and(|r| {
            r.index
                .by_customer_gateway
                .get(&req.id)
                .into_iter()
                .flatten()
                .filter_map(|id| r.connections().get(id))
                .any(|c| c.is_bgp())
        });
        if asn != cgw.bgp_asn && has_bgp {
            return Err(ApiError::new(
                codes::UO_VPN_UNSUPPORTED_MODIFY_BGP_ASN,
                "The BGP ASN of a customer gateway with BGP tunnels cannot be changed.",
            ));
        }
    }
    if let Some(c) = ctx
        .world
        .region_mut(ctx.region)
        .customer_gateways
        .get_mut(&req.id)
    {
        c.name = req.name;
        if let Some(asn) = new_asn {
            c.bgp_asn = asn;
        }
    }
    ctx.reply_empty()
}

#[derive(Deserialize)]
pub struct DeleteReq {
    #[serde(rename = "CustomerGatewayId")]
    id: String,
}

pub fn delete(ctx: &mut Ctx<'_>, req: DeleteReq) -> ApiResult<Vec<u8>> {
    let region = ctx.world.region(ctx.region);
    find(region, "CustomerGatewayId", &req.id)?;
    let tunnels = region.map_or(0, |r| r.count_on_customer_gateway(&req.id));
    if tunnels > 0 {
        return Err(ApiError::new(
            codes::RESOURCE_IN_USE,
            format!(
                "The customer gateway `{}` still has {tunnels} VPN connection(s); delete them first.",
                req.id
            ),
        ));
    }
    ctx.world
        .region_mut(ctx.region)
        .customer_gateways
        .shift_remove(&req.id);
    ctx.world.release_id(&req.id);
    ctx.reply_empty()
}
