//! The tag service (2018-08-13): TagResources, UnTagResources, ModifyResourceTags, GetResources and
//! DescribeResourceTagsByResourceIds, over the sandbox's VPC resources named by six-segment names
//! `qcs::vpc:<region>:uin/<uin>:<prefix>/<id>` with the prefixes `vpc`, `vpngw`, `cgw`, `vpnx` and
//! `rtb`.
//!
//! A malformed name, a wrong uin or an unknown resource rejects the whole request (nothing is changed), so
//! `FailedResources` is always empty on success.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::error::{codes, ApiError, ApiResult};
use crate::validate::MAX_TAGS_PER_RESOURCE;
use crate::world::model::Tag;
use crate::world::{is_region, Region, World};

const MAX_RESOURCES_PER_REQUEST: usize = 10;
const MAX_TAGS_PER_REQUEST: usize = 10;
const MAX_TAG_FILTERS: usize = 6;
const MAX_TAG_FILTER_VALUES: usize = 10;
const DEFAULT_MAX_RESULTS: u64 = 50;
const MAX_MAX_RESULTS: u64 = 200;
const MAX_TAG_KEY_CHARS: usize = 127;
const MAX_TAG_VALUE_CHARS: usize = 255;
const RESERVED_KEY_PREFIXES: &[&str] = &["qcloud", "tencent", "project"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Vpc,
    VpnGateway,
    CustomerGateway,
    VpnConnection,
    RouteTable,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Vpc,
        Kind::VpnGateway,
        Kind::CustomerGateway,
        Kind::VpnConnection,
        Kind::RouteTable,
    ];

    fn prefix(self) -> &'static str {
        match self {
            Kind::Vpc => "vpc",
            Kind::VpnGateway => "vpngw",
            Kind::CustomerGateway => "cgw",
            Kind::VpnConnection => "vpnx",
            Kind::RouteTable => "rtb",
        }
    }

    fn from_prefix(prefix: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.prefix() == prefix)
    }
}

/// A parsed six-segment resource name.
#[derive(Debug, Clone)]
struct Name {
    region: String,
    kind: Kind,
    id: String,
}

fn description_error(name: &str, why: &str) -> ApiError {
    ApiError::new(
        codes::TAG_RESOURCE_DESCRIPTION_ERROR,
        format!("The resource description `{name}` is invalid: {why}."),
    )
}

fn parse_name(name: &str, uin: &str) -> ApiResult<Name> {
    let parts: Vec<&str> = name.split(':').collect();
    if parts.len() != 6 || parts[0] != "qcs" {
        return Err(description_error(
            name,
            "expected qcs::<service>:<region>:uin/<account>:<prefix>/<id>",
        ));
    }
    if parts[2] != "vpc" {
        return Err(ApiError::new(
            codes::TAG_SERVICE_TYPE_INVALID,
            format!(
                "The service type `{}` of `{name}` has no resources here (only vpc).",
                parts[2]
            ),
        ));
    }
    if !is_region(parts[3]) {
        return Err(ApiError::new(
            codes::TAG_REGION_INVALID,
            format!("The region `{}` of `{name}` is invalid.", parts[3]),
        ));
    }
    let account = parts[4]
        .strip_prefix("uin/")
        .filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| description_error(name, "the account segment must be uin/<digits>"))?;
    if account != uin {
        return Err(ApiError::new(
            codes::TAG_UIN_INVALID,
            format!("The account `{account}` of `{name}` is not this account's uin."),
        ));
    }
    let (prefix, id) = parts[5]
        .split_once('/')
        .ok_or_else(|| description_error(name, "the last segment must be <prefix>/<id>"))?;
    let kind = Kind::from_prefix(prefix).ok_or_else(|| {
        ApiError::new(
            codes::TAG_RESOURCE_PREFIX_INVALID,
            format!(
                "The resource prefix `{prefix}` of `{name}` is not one of vpc, vpngw, cgw, vpnx, rtb."
            ),
        )
    })?;
    if !id.starts_with(&format!("{prefix}-")) {
        return Err(ApiError::new(
            codes::TAG_RESOURCE_ID_INVALID,
            format!("The resource id `{id}` of `{name}` does not match its prefix `{prefix}`."),
        ));
    }
    Ok(Name {
        region: parts[3].to_string(),
        kind,
        id: id.to_string(),
    })
}

fn full_name(uin: &str, region: &str, kind: Kind, id: &str) -> String {
    format!("qcs::vpc:{region}:uin/{uin}:{}/{id}", kind.prefix())
}

fn tags_of<'a>(region: &'a Region, kind: Kind, id: &str) -> Option<&'a Vec<Tag>> {
    match kind {
        Kind::Vpc => region.vpcs.get(id).map(|v| &v.tags),
        Kind::VpnGateway => region.gateways.get(id).map(|g| &g.info.tags),
        Kind::CustomerGateway => region.customer_gateways.get(id).map(|c| &c.tags),
        Kind::VpnConnection => region.connections().get(id).map(|c| &c.tags),
        Kind::RouteTable => region.route_tables.get(id).map(|t| &t.tags),
    }
}

fn tags_of_mut<'a>(world: &'a mut World, name: &Name) -> Option<&'a mut Vec<Tag>> {
    let region = world.regions.get_mut(&name.region)?;
    match name.kind {
        Kind::Vpc => region.vpcs.get_mut(&name.id).map(|v| &mut v.tags),
        Kind::VpnGateway => region.gateways.get_mut(&name.id).map(|g| &mut g.info.tags),
        Kind::CustomerGateway => region
            .customer_gateways
            .get_mut(&name.id)
            .map(|c| &mut c.tags),
        Kind::VpnConnection => region.connection_mut(&name.id).map(|c| &mut c.tags),
        Kind::RouteTable => region.route_tables.get_mut(&name.id).map(|t| &mut t.tags),
    }
}

/// Parses the names of a write and checks that every resource exists.
fn existing_resources(ctx: &Ctx<'_>, names: &[String]) -> ApiResult<Vec<Name>> {
    if names.len() > MAX_RESOURCES_PER_REQUEST {
        return Err(ApiError::new(
            codes::TAG_RESOURCE_NUM_PER_REQUEST,
            format!("At most {MAX_RESOURCES_PER_REQUEST} resources are allowed per request."),
        ));
    }
    names
        .iter()
        .map(|n| {
            let name = parse_name(n, &ctx.settings.uin)?;
            let exists = ctx
                .world
                .region(&name.region)
                .and_then(|r| tags_of(r, name.kind, &name.id))
                .is_some();
            if exists {
                Ok(name)
            } else {
                Err(ApiError::new(
                    codes::TAG_RESOURCE_ID_INVALID,
                    format!("The resource `{n}` does not exist."),
                ))
            }
        })
        .collect()
}

/// A tag-service tag (`{"TagKey","TagValue"}`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TagKv {
    #[serde(rename = "TagKey")]
    key: String,
    #[serde(rename = "TagValue")]
    value: String,
}

#[derive(Debug, Deserialize)]
pub struct TagKeyObject {
    #[serde(rename = "TagKey")]
    key: String,
}

fn check_key(key: &str) -> ApiResult<()> {
    if key.is_empty() {
        return Err(ApiError::new(codes::TAG_KEY_EMPTY, "A tag key is empty."));
    }
    if key.chars().count() > MAX_TAG_KEY_CHARS {
        return Err(ApiError::new(
            codes::TAG_KEY_LENGTH_EXCEEDED,
            format!("The tag key `{key}` is longer than {MAX_TAG_KEY_CHARS} characters."),
        ));
    }
    if key.chars().any(char::is_control) {
        return Err(ApiError::new(
            codes::TAG_KEY_CHARACTER_ILLEGAL,
            "A tag key contains control characters.",
        ));
    }
    let lower = key.to_ascii_lowercase();
    if RESERVED_KEY_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return Err(ApiError::new(
            codes::TAG_RESERVED_TAG_KEY,
            format!("The tag key `{key}` is reserved (qcloud, tencent and project prefixes are reserved)."),
        ));
    }
    Ok(())
}

fn check_tags(tags: &[TagKv]) -> ApiResult<()> {
    if tags.len() > MAX_TAGS_PER_REQUEST {
        return Err(ApiError::new(
            codes::TAG_INVALID_PARAMETER_TAG,
            format!("At most {MAX_TAGS_PER_REQUEST} tags are allowed per request."),
        ));
    }
    let mut seen = HashSet::new();
    for t in tags {
        check_key(&t.key)?;
        if t.value.chars().count() > MAX_TAG_VALUE_CHARS {
            return Err(ApiError::new(
                codes::TAG_VALUE_LENGTH_EXCEEDED,
                format!(
                    "The value of tag `{}` is longer than {MAX_TAG_VALUE_CHARS} characters.",
                    t.key
                ),
            ));
        }
        if t.value.chars().any(char::is_control) {
            return Err(ApiError::new(
                codes::TAG_VALUE_CHARACTER_ILLEGAL,
                "A tag value contains control characters.",
            ));
        }
        if !seen.insert(t.key.as_str()) {
            return Err(ApiError::new(
                codes::TAG_INVALID_PARAMETER_TAG,
                format!("The tag key `{}` appears more than once.", t.key),
            ));
        }
    }
    Ok(())
}

/// Sets (adds or updates) tags on a tag list, keeping the order of existing keys.
fn upsert(list: &mut Vec<Tag>, tags: &[TagKv]) {
    for t in tags {
        match list.iter_mut().find(|x| x.key == t.key) {
            Some(x) => x.value = t.value.clone(),
            None => list.push(Tag {
                key: t.key.clone(),
                value: t.value.clone(),
            }),
        }
    }
}

fn resulting_count(list: &[Tag], add: &[TagKv], remove: &[&str]) -> usize {
    let mut keys: HashSet<&str> = list.iter().map(|t| t.key.as_str()).collect();
    for k in remove {
        keys.remove(k);
    }
    for t in add {
        keys.insert(t.key.as_str());
    }
    keys.len()
}

fn check_capacity(ctx: &Ctx<'_>, names: &[Name], add: &[TagKv], remove: &[&str]) -> ApiResult<()> {
    for name in names {
        let list = ctx
            .world
            .region(&name.region)
            .and_then(|r| tags_of(r, name.kind, &name.id));
        if list.is_some_and(|l| resulting_count(l, add, remove) > MAX_TAGS_PER_RESOURCE) {
            return Err(ApiError::new(
                codes::TAG_RESOURCE_ATTACHED_TAGS,
                format!(
                    "The resource `{}` would have more than {MAX_TAGS_PER_RESOURCE} tags.",
                    name.id
                ),
            ));
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct FailedOut {
    #[serde(rename = "FailedResources")]
    failed: [(); 0],
}

#[derive(Deserialize)]
pub struct TagResourcesReq {
    #[serde(rename = "ResourceList")]
    resources: Vec<String>,
    #[serde(rename = "Tags")]
    tags: Vec<TagKv>,
}

pub fn tag_resources(ctx: &mut Ctx<'_>, req: TagResourcesReq) -> ApiResult<Vec<u8>> {
    check_tags(&req.tags)?;
    let names = existing_resources(ctx, &req.resources)?;
    check_capacity(ctx, &names, &req.tags, &[])?;
    let body = ctx.reply(&FailedOut { failed: [] })?;
    for name in &names {
        if let Some(list) = tags_of_mut(ctx.world, name) {
            upsert(list, &req.tags);
        }
    }
    Ok(body)
}

#[derive(Deserialize)]
pub struct UnTagResourcesReq {
    #[serde(rename = "ResourceList")]
    resources: Vec<String>,
    #[serde(rename = "TagKeys")]
    keys: Vec<String>,
}

pub fn untag_resources(ctx: &mut Ctx<'_>, req: UnTagResourcesReq) -> ApiResult<Vec<u8>> {
    if req.keys.len() > MAX_TAGS_PER_REQUEST {
        return Err(ApiError::new(
            codes::TAG_INVALID_PARAMETER_TAG,
            format!("At most {MAX_TAGS_PER_REQUEST} tag keys are allowed per request."),
        ));
    }
    for k in &req.keys {
        if k.is_empty() {
            return Err(ApiError::new(codes::TAG_KEY_EMPTY, "A tag key is empty."));
        }
    }
    let names = existing_resources(ctx, &req.resources)?;
    let body = ctx.reply(&FailedOut { failed: [] })?;
    for name in &names {
        if let Some(list) = tags_of_mut(ctx.world, name) {
            list.retain(|t| !req.keys.contains(&t.key));
        }
    }
    Ok(body)
}

#[derive(Deserialize)]
pub struct ModifyResourceTagsReq {
    #[serde(rename = "Resource")]
    resource: String,
    #[serde(rename = "ReplaceTags")]
    replace: Option<Vec<TagKv>>,
    #[serde(rename = "DeleteTags")]
    delete: Option<Vec<TagKeyObject>>,
}

pub fn modify_resource_tags(ctx: &mut Ctx<'_>, req: ModifyResourceTagsReq) -> ApiResult<Vec<u8>> {
    if req.replace.is_none() && req.delete.is_none() {
        return Err(ApiError::new(
            codes::INVALID_PARAMETER,
            "One of `ReplaceTags` and `DeleteTags` must be given.",
        ));
    }
    if req.replace.as_ref().is_some_and(Vec::is_empty)
        || req.delete.as_ref().is_some_and(Vec::is_empty)
    {
        return Err(ApiError::new(
            codes::INVALID_PARAMETER,
            "`ReplaceTags` and `DeleteTags` may be omitted but not empty.",
        ));
    }
    let replace = req.replace.unwrap_or_default();
    let delete: Vec<&str> = req
        .delete
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|k| k.key.as_str())
        .collect();
    check_tags(&replace)?;
    if delete.len() > MAX_TAGS_PER_REQUEST {
        return Err(ApiError::new(
            codes::TAG_INVALID_PARAMETER_TAG,
            format!("At most {MAX_TAGS_PER_REQUEST} tags may be deleted per request."),
        ));
    }
    if let Some(k) = delete.iter().find(|k| replace.iter().any(|t| t.key == **k)) {
        return Err(ApiError::new(
            codes::TAG_DELETE_TAGS_PARAM_ERROR,
            format!("The tag key `{k}` is both replaced and deleted."),
        ));
    }
    let names = existing_resources(ctx, std::slice::from_ref(&req.resource))?;
    check_capacity(ctx, &names, &replace, &delete)?;
    let body = ctx.reply_empty()?;
    for name in &names {
        if let Some(list) = tags_of_mut(ctx.world, name) {
            list.retain(|t| !delete.contains(&t.key.as_str()));
            upsert(list, &replace);
        }
    }
    Ok(body)
}

#[derive(Deserialize)]
pub struct TagFilterIn {
    #[serde(rename = "TagKey")]
    key: String,
    #[serde(rename = "TagValue")]
    values: Option<Vec<String>>,
}

#[derive(Deserialize)]
pub struct GetResourcesReq {
    #[serde(rename = "ResourceList")]
    resources: Option<Vec<String>>,
    #[serde(rename = "TagFilters")]
    filters: Option<Vec<TagFilterIn>>,
    #[serde(rename = "PaginationToken")]
    token: Option<String>,
    #[serde(rename = "MaxResults")]
    max_results: Option<u64>,
}

#[derive(Serialize)]
struct Mapping {
    #[serde(rename = "Resource")]
    resource: String,
    #[serde(rename = "Tags")]
    tags: Vec<TagKv>,
}

pub fn get_resources(ctx: &mut Ctx<'_>, req: GetResourcesReq) -> ApiResult<Vec<u8>> {
    let filters = req.filters.unwrap_or_default();
    if filters.len() > MAX_TAG_FILTERS {
        return Err(ApiError::new(
            codes::TAG_FILTERS_LENGTH_EXCEEDED,
            format!("At most {MAX_TAG_FILTERS} tag filters are allowed."),
        ));
    }
    for f in &filters {
        if f.key.is_empty() {
            return Err(ApiError::new(
                codes::TAG_KEY_EMPTY,
                "A tag filter key is empty.",
            ));
        }
        if f.values
            .as_ref()
            .is_some_and(|v| v.len() > MAX_TAG_FILTER_VALUES)
        {
            return Err(ApiError::new(
                "InvalidParameterValue.TagFilters",
                format!("At most {MAX_TAG_FILTER_VALUES} values are allowed per tag filter."),
            ));
        }
    }
    let max_results = req.max_results.unwrap_or(DEFAULT_MAX_RESULTS);
    if max_results == 0 || max_results > MAX_MAX_RESULTS {
        return Err(ApiError::range(
            "MaxResults",
            format_args!("{max_results} is not within [1, {MAX_MAX_RESULTS}]"),
        ));
    }
    let offset: usize = match req.token.as_deref().filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t.parse().map_err(|_| {
            ApiError::new(
                codes::TAG_OFFSET_INVALID,
                format!("The pagination token `{t}` is invalid."),
            )
        })?,
    };
    let matches = |tags: &[Tag]| {
        filters.iter().all(|f| {
            tags.iter().any(|t| {
                t.key == f.key
                    && f.values
                        .as_ref()
                        .is_none_or(|vs| vs.is_empty() || vs.contains(&t.value))
            })
        })
    };
    let uin = ctx.settings.uin.as_str();
    let mut found: Vec<(String, &[Tag])> = Vec::new();
    let listed = req.resources.is_some();
    if let Some(list) = &req.resources {
        if list.len() > MAX_RESOURCES_PER_REQUEST {
            return Err(ApiError::new(
                codes::TAG_RESOURCE_NUM_PER_REQUEST,
                format!("At most {MAX_RESOURCES_PER_REQUEST} resources are allowed per request."),
            ));
        }
        for n in list {
            let name = parse_name(n, uin)?;
            if let Some(tags) = ctx
                .world
                .region(&name.region)
                .and_then(|r| tags_of(r, name.kind, &name.id))
            {
                if matches(tags) {
                    found.push((full_name(uin, &name.region, name.kind, &name.id), tags));
                }
            }
        }
    } else {
        for (region_name, region) in &ctx.world.regions {
            let all = region
                .vpcs
                .values()
                .map(|v| (Kind::Vpc, v.id.as_str(), v.tags.as_slice()))
                .chain(
                    region
                        .gateways
                        .values()
                        .map(|g| (Kind::VpnGateway, g.info.id.as_str(), g.info.tags.as_slice())),
                )
                .chain(
                    region
                        .customer_gateways
                        .values()
                        .map(|c| (Kind::CustomerGateway, c.id.as_str(), c.tags.as_slice())),
                )
                .chain(
                    region
                        .connections()
                        .values()
                        .map(|c| (Kind::VpnConnection, c.id.as_str(), c.tags.as_slice())),
                )
                .chain(
                    region
                        .route_tables
                        .values()
                        .map(|t| (Kind::RouteTable, t.id.as_str(), t.tags.as_slice())),
                );
            for (kind, id, tags) in all {
                if !tags.is_empty() && matches(tags) {
                    found.push((full_name(uin, region_name, kind, id), tags));
                }
            }
        }
    }
    let (page, next): (Vec<_>, String) = if listed {
        (found, String::new())
    } else {
        let total = found.len();
        let take = usize::try_from(max_results).unwrap_or(usize::MAX);
        let end = offset.saturating_add(take).min(total);
        let next = if end < total {
            end.to_string()
        } else {
            String::new()
        };
        (found.into_iter().skip(offset).take(take).collect(), next)
    };
    #[derive(Serialize)]
    struct Out {
        #[serde(rename = "PaginationToken")]
        token: String,
        #[serde(rename = "ResourceTagMappingList")]
        list: Vec<Mapping>,
    }
    let list = page
        .into_iter()
        .map(|(resource, tags)| Mapping {
            resource,
            tags: tags
                .iter()
                .map(|t| TagKv {
                    key: t.key.clone(),
                    value: t.value.clone(),
                })
                .collect(),
        })
        .collect();
    ctx.reply(&Out { token: next, list })
}

/// At most this many ids per `DescribeResourceTagsByResourceIds` call (documented: 50).
const MAX_TAGGED_IDS: usize = 50;
const DEFAULT_TAG_PAGE: u64 = 15;
const MAX_TAG_PAGE: u64 = 100;

#[derive(Deserialize)]
pub struct DescribeResourceTagsByResourceIdsReq {
    #[serde(rename = "ServiceType")]
    service_type: String,
    #[serde(rename = "ResourcePrefix")]
    prefix: String,
    #[serde(rename = "ResourceIds")]
    ids: Vec<String>,
    #[serde(rename = "ResourceRegion")]
    region: String,
    #[serde(rename = "Offset")]
    offset: Option<u64>,
    #[serde(rename = "Limit")]
    limit: Option<u64>,
    #[serde(rename = "Category")]
    category: Option<String>,
}

/// One (resource, tag) entry of `DescribeResourceTagsByResourceIds`.
#[derive(Serialize)]
struct TagResourceOut<'a> {
    #[serde(rename = "TagKey")]
    key: &'a str,
    #[serde(rename = "TagValue")]
    value: &'a str,
    #[serde(rename = "ResourceId")]
    resource_id: &'a str,
    #[serde(rename = "TagKeyMd5")]
    key_md5: String,
    #[serde(rename = "TagValueMd5")]
    value_md5: String,
    #[serde(rename = "ServiceType")]
    service_type: &'static str,
    #[serde(rename = "Category")]
    category: &'static str,
}

fn md5_hex(text: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The tags of the given ids of one resource type in one region, one entry per (resource, tag), paged.
pub fn describe_resource_tags_by_resource_ids(
    ctx: &mut Ctx<'_>,
    req: DescribeResourceTagsByResourceIdsReq,
) -> ApiResult<Vec<u8>> {
    if req.service_type != "vpc" {
        return Err(ApiError::new(
            codes::TAG_SERVICE_TYPE_INVALID,
            format!(
                "The service type `{}` has no resources here (only vpc).",
                req.service_type
            ),
        ));
    }
    let kind = Kind::from_prefix(&req.prefix).ok_or_else(|| {
        ApiError::new(
            codes::TAG_RESOURCE_PREFIX_INVALID,
            format!(
                "The resource prefix `{}` is not one of vpc, vpngw, cgw, vpnx, rtb.",
                req.prefix
            ),
        )
    })?;
    if !is_region(&req.region) {
        return Err(ApiError::new(
            codes::TAG_REGION_INVALID,
            format!(
                "The region `{}` is invalid (vpc resources need their region).",
                req.region
            ),
        ));
    }
    if req.ids.len() > MAX_TAGGED_IDS {
        return Err(ApiError::new(
            codes::TAG_RESOURCE_NUM_PER_REQUEST,
            format!("At most {MAX_TAGGED_IDS} resource ids are allowed per request."),
        ));
    }
    let prefix = format!("{}-", kind.prefix());
    if let Some(id) = req.ids.iter().find(|id| !id.starts_with(&prefix)) {
        return Err(ApiError::new(
            codes::TAG_RESOURCE_ID_INVALID,
            format!(
                "The resource id `{id}` does not match the prefix `{}`.",
                kind.prefix()
            ),
        ));
    }
    let custom = match req.category.as_deref() {
        None | Some("All") | Some("Custom") => true,
        Some("System") => false,
        Some(other) => {
            return Err(ApiError::new(
                codes::INVALID_PARAMETER_VALUE,
                format!(
                "The value `{other}` of parameter `Category` is not one of Custom, System, All."
            ),
            ))
        }
    };
    let limit = req.limit.unwrap_or(DEFAULT_TAG_PAGE);
    if limit == 0 || limit > MAX_TAG_PAGE {
        return Err(ApiError::new(
            codes::INVALID_PARAMETER_VALUE,
            format!("The value {limit} of parameter `Limit` is not within [1, {MAX_TAG_PAGE}]."),
        ));
    }
    let offset = req.offset.unwrap_or(0);
    if !offset.is_multiple_of(limit) {
        return Err(ApiError::new(
            codes::TAG_OFFSET_INVALID,
            format!("The offset {offset} is not a multiple of the limit {limit}."),
        ));
    }
    let region = ctx.world.region(&req.region);
    let mut seen = HashSet::new();
    let mut entries: Vec<(&str, &Tag)> = Vec::new();
    if custom {
        for id in &req.ids {
            if !seen.insert(id.as_str()) {
                continue;
            }
            if let Some(tags) = region.and_then(|r| tags_of(r, kind, id)) {
                entries.extend(tags.iter().map(|t| (id.as_str(), t)));
            }
        }
    }
    let total = entries.len();
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    let tags: Vec<TagResourceOut<'_>> = entries
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|(id, t)| TagResourceOut {
            key: &t.key,
            value: &t.value,
            resource_id: id,
            key_md5: md5_hex(&t.key),
            value_md5: md5_hex(&t.value),
            service_type: "vpc",
            category: "Custom",
        })
        .collect();
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(rename = "TotalCount")]
        total: usize,
        #[serde(rename = "Offset")]
        offset: u64,
        #[serde(rename = "Limit")]
        limit: u64,
        #[serde(rename = "Tags")]
        tags: Vec<TagResourceOut<'a>>,
    }
    ctx.reply(&Out {
        total,
        offset,
        limit,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use super::md5_hex;

    #[test]
    fn md5_of_tags() {
        // RFC 1321 test suite.
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            md5_hex("message digest"),
            "f96b697d7cb7938d525a2f31aaf161d0"
        );
    }
}
