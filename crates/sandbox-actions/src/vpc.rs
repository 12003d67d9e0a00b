//! CreateVpc, DescribeVpcs, DeleteVpc.

use ipnet::Ipv4Net;
use serde::Deserialize;

use super::query::{Paging, QuerySpec};
use super::{check_id_format, Ctx};
use crate::clock;
use crate::error::{codes, ApiError, ApiResult};
use crate::validate::{self, TagIn};
use crate::world::model::Vpc;

/// The private ranges a VPC may use, with the largest block (smallest prefix) allowed in each.
const VPC_RANGES: &[(&str, u8)] = &[
    ("10.0.0.0/12", 12),
    ("172.16.0.0/12", 12),
    ("192.168.0.0/16", 16),
];
const VPC_MAX_PREFIX: u8 = 28;
const MAX_DNS_SERVERS: usize = 4;

#[derive(Deserialize)]
pub struct CreateVpcReq {
    #[serde(rename = "VpcName")]
    name: String,
    #[serde(rename = "CidrBlock")]
    cidr: Option<String>,
    #[serde(rename = "EnableMulticast")]
    enable_multicast: Option<String>,
    #[serde(rename = "DnsServers")]
    dns_servers: Option<Vec<String>>,
    #[serde(rename = "DomainName")]
    domain_name: Option<String>,
    #[serde(rename = "Tags")]
    tags: Option<Vec<TagIn>>,
    #[serde(rename = "EnableRouteVpcPublish")]
    enable_route_vpc_publish: Option<bool>,
    #[serde(rename = "EnableRouteVpcPublishIpv6")]
    enable_route_vpc_publish_ipv6: Option<bool>,
}

fn vpc_cidr(value: &str) -> ApiResult<Ipv4Net> {
    let net = validate::cidr("CidrBlock", value)?;
    if net.trunc() != net {
        return Err(ApiError::malformed("CidrBlock", value));
    }
    let allowed = VPC_RANGES.iter().any(|(range, min_prefix)| {
        range.parse::<Ipv4Net>().is_ok_and(|r| r.contains(&net)) && net.prefix_len() >= *min_prefix
    }) && net.prefix_len() <= VPC_MAX_PREFIX;
    if !allowed {
        return Err(ApiError::range(
            "CidrBlock",
            format_args!(
                "`{value}` must lie in 10.0.0.0/12, 172.16.0.0/12 or 192.168.0.0/16 with a mask of at most /{VPC_MAX_PREFIX}"
            ),
        ));
    }
    Ok(net)
}

pub fn create(ctx: &mut Ctx<'_>, req: CreateVpcReq) -> ApiResult<Vec<u8>> {
    validate::name("VpcName", &req.name)?;
    let cidr = match req.cidr.as_deref() {
        Some(c) => vpc_cidr(c)?,
        None => return Err(ApiError::missing("CidrBlock")),
    };
    let enable_multicast = match req.enable_multicast.as_deref() {
        None => false,
        Some(v) => {
            validate::one_of("EnableMulticast", v, &["true", "false"])?;
            v == "true"
        }
    };
    let dns_servers = req.dns_servers.unwrap_or_default();
    if dns_servers.len() > MAX_DNS_SERVERS {
        return Err(ApiError::new(
            codes::IPV_LIMIT_EXCEEDED,
            format!("At most {MAX_DNS_SERVERS} DNS servers are allowed."),
        ));
    }
    for d in &dns_servers {
        validate::ipv4("DnsServers", d)?;
    }
    let tags = validate::vpc_tags("Tags", req.tags)?;
    let quota = ctx.settings.quotas.vpcs_per_region as usize;
    if ctx.world.region(ctx.region).map_or(0, |r| r.vpcs.len()) >= quota {
        return Err(ApiError::new(
            codes::VPC_LIMIT_EXCEEDED,
            format!(
                "The region {} already has the maximum of {quota} VPCs.",
                ctx.region
            ),
        ));
    }
    let id = ctx.world.new_id(ctx.rng, "vpc");
    let vpc = Vpc {
        name: req.name,
        id: id.clone(),
        cidr,
        is_default: false,
        enable_multicast,
        created_time: clock::format_time(ctx.now_ms),
        dns_servers: if dns_servers.is_empty() {
            vec!["183.60.83.19".to_string(), "183.60.82.98".to_string()]
        } else {
            dns_servers
        },
        domain_name: req.domain_name.unwrap_or_default(),
        dhcp_options_id: String::new(),
        enable_dhcp: true,
        ipv6_cidr_block: String::new(),
        tags,
        assistant_cidrs: Vec::new(),
        enable_route_vpc_publish: req.enable_route_vpc_publish.unwrap_or(false),
        ipv6_cidr_blocks: Vec::new(),
        enable_route_vpc_publish_ipv6: req.enable_route_vpc_publish_ipv6.unwrap_or(false),
    };
    let body = ctx.reply_one("Vpc", &vpc)?;
    // Every VPC is born with its default route table.
    let table_id = ctx.world.new_id(ctx.rng, "rtb");
    let table = crate::world::main_route_table(&table_id, &id, &vpc.created_time);
    let region = ctx.world.region_mut(ctx.region);
    region.vpcs.insert(id, vpc);
    region.route_tables.insert(table_id, table);
    Ok(body)
}

#[derive(Deserialize)]
pub struct DescribeVpcsReq {
    #[serde(rename = "VpcIds")]
    ids: Option<Vec<String>>,
    #[serde(flatten)]
    paging: Paging<String>,
}

const VPC_FILTERS: &[&str] = &[
    "vpc-name",
    "is-default",
    "vpc-id",
    "cidr-block",
    "ipv6-cidr-block",
    "isp-type",
    "address-type",
];

pub fn describe(ctx: &mut Ctx<'_>, req: DescribeVpcsReq) -> ApiResult<Vec<u8>> {
    let q = QuerySpec {
        ids_param: "VpcIds",
        filter_names: VPC_FILTERS,
        tag_filters: true,
    }
    .parse_paged(req.ids, req.paging.numbers()?)?;
    if let Some(ids) = &q.ids {
        for id in ids {
            check_id_format("VpcIds", id, "vpc", codes::INVALID_VPC_ID_MALFORMED)?;
        }
    }
    let items: Vec<&Vpc> = match ctx.world.region(ctx.region) {
        None => Vec::new(),
        Some(r) => r
            .vpcs
            .values()
            .filter(|v| q.wants_id(&v.id))
            .filter(|v| {
                q.matches(&v.tags, |name, value| match name {
                    "vpc-name" => v.name.contains(value),
                    "is-default" => {
                        value.eq_ignore_ascii_case(if v.is_default { "true" } else { "false" })
                    }
                    "vpc-id" => v.id == value,
                    "cidr-block" => {
                        v.cidr.to_string() == value || v.cidr.network().to_string() == value
                    }
                    _ => false,
                })
            })
            .collect(),
    };
    let (total, page) = q.page(items);
    ctx.reply_page("VpcSet", total, &page)
}

#[derive(Deserialize)]
pub struct DeleteVpcReq {
    #[serde(rename = "VpcId")]
    id: String,
}

pub fn delete(ctx: &mut Ctx<'_>, req: DeleteVpcReq) -> ApiResult<Vec<u8>> {
    check_id_format("VpcId", &req.id, "vpc", codes::INVALID_VPC_ID_MALFORMED)?;
    let region = ctx.world.region_mut(ctx.region);
    if !region.vpcs.contains_key(&req.id) {
        return Err(ApiError::new(
            codes::INVALID_VPC_ID_NOT_FOUND,
            format!("The VPC `{}` does not exist in {}.", req.id, ctx.region),
        ));
    }
    let gateways = region.gateways_in_vpc(&req.id);
    if gateways > 0 {
        return Err(ApiError::new(
            codes::RESOURCE_IN_USE,
            format!(
                "The VPC `{}` still has {gateways} VPN gateway(s); delete them first.",
                req.id
            ),
        ));
    }
    let tables = region
        .route_tables
        .values()
        .filter(|t| t.vpc_id == req.id && !t.main)
        .count();
    if tables > 0 {
        return Err(ApiError::new(
            codes::RESOURCE_IN_USE,
            format!(
                "The VPC `{}` still has {tables} route table(s) besides its default one; delete them first.",
                req.id
            ),
        ));
    }
    region.vpcs.shift_remove(&req.id);
    // Its default route table goes with it.
    let main: Vec<String> = region
        .route_tables
        .values()
        .filter(|t| t.vpc_id == req.id)
        .map(|t| t.id.clone())
        .collect();
    let mut released = vec![req.id.clone()];
    for t in main {
        if let Some(t) = region.route_tables.shift_remove(&t) {
            released.extend(t.routes.into_iter().map(|r| r.item_id));
            released.push(t.id);
        }
    }
    for id in released {
        ctx.world.release_id(&id);
    }
    ctx.reply_empty()
}
