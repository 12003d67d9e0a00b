//! `tencentcloud_vpn_customer_gateway`: the on-premises side of the tunnels (its public address
//! and BGP ASN). Created at once, with no task.

use futures::future::BoxFuture;
use futures::FutureExt;
use tunnelform_model::schema::{AttrSchema, AttrType as T, BlockSchema, Check as C};
use tunnelform_model::{Attrs, Value};
use tunnelform_tencent_api::actions::{
    CreateCustomerGateway, DeleteCustomerGateway, ModifyCustomerGatewayAttribute,
};
use tunnelform_tencent_api::vpc::{
    CreateCustomerGatewayRequest, CustomerGateway, DeleteCustomerGatewayRequest,
    ModifyCustomerGatewayAttributeRequest,
};
use tunnelform_tencent_api::{ApiError, Client};

use crate::attrs::{changed as has, get_int, get_str, get_u64, s};
use std::collections::HashMap;

use crate::contract::{
    Call, CallError, Created, Deleted, Kind, Observed, Per, Problem, Quota, RegionHint,
};
use crate::tags::{split_tags, Tag};

const STR: T = T::String;
const STR_MAP: T = T::Map(&T::String);

pub const SCHEMA: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("name", STR)
            .required()
            .checks(&[C::StrLen(1, 60)]),
        AttrSchema::new("public_ip_address", STR)
            .required()
            .force_new()
            .checks(&[C::CustomerGatewayIp]),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("bgp_asn", T::Int).computed(),
        AttrSchema::new("create_time", STR).read_only(),
    ],
};

/// Attributes of a described customer gateway (ownership tags set apart).
pub fn observe(c: &CustomerGateway) -> Observed {
    let (tags, own) = split_tags(c.tag_set.as_deref().unwrap_or_default());
    let mut a = crate::attrs::AttrsBuilder::with_capacity(6);
    a.insert("name".into(), s(&c.customer_gateway_name));
    a.insert("public_ip_address".into(), s(&c.ip_address));
    a.insert("tags".into(), tags);
    a.insert("bgp_asn".into(), Value::int(c.bgp_asn as i64));
    a.insert("create_time".into(), s(&c.created_time));
    Observed {
        id: c.customer_gateway_id.clone(),
        attrs: a.build(),
        ownership: own,
    }
}

pub fn create_request(a: &Attrs, tags: Vec<Tag>) -> CreateCustomerGatewayRequest {
    CreateCustomerGatewayRequest {
        customer_gateway_name: get_str(a, "name").unwrap_or_default(),
        ip_address: get_str(a, "public_ip_address").unwrap_or_default(),
        tags: if tags.is_empty() { None } else { Some(tags) },
        bgp_asn: get_int(a, "bgp_asn"),
    }
}

/// The kind.
pub struct CustomerGatewayKind;

impl Kind for CustomerGatewayKind {
    fn type_name(&self) -> &'static str {
        "tencentcloud_vpn_customer_gateway"
    }

    fn id_prefix(&self) -> &'static str {
        "cgw"
    }

    fn schema(&self) -> &'static BlockSchema {
        &SCHEMA
    }

    fn region_hint(&self) -> RegionHint {
        RegionHint::FollowedBy("customer_gateway_id")
    }

    fn quotas(&self) -> &'static [Quota] {
        &[Quota {
            name: "customer-gateways-per-region",
            objects: "customer gateways",
            default: 20,
            per: Per::Region,
        }]
    }

    fn count_existing<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        asked: &'a [(Quota, Vec<String>)],
    ) -> BoxFuture<'a, Result<Vec<HashMap<String, u64>>, ApiError>> {
        async move {
            let all = client
                .describe_customer_gateways_by_filters(region, &[])
                .await?;
            let counts = HashMap::from([(String::new(), all.len() as u64)]);
            Ok(vec![counts; asked.len()])
        }
        .boxed()
    }

    fn check(&self, attrs: &Attrs) -> Vec<Problem> {
        crate::asn::check_bgp_asn(attrs).into_iter().collect()
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
                .describe_customer_gateways_by_ids(region, ids)
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
                .call::<CreateCustomerGateway>(region, &create_request(attrs, tags))
                .await?;
            Ok(Created {
                id: r.customer_gateway.customer_gateway_id,
                request_id: r.request_id,
                task_id: None,
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
            if has(changed, "name") || has(changed, "bgp_asn") {
                let req = ModifyCustomerGatewayAttributeRequest {
                    customer_gateway_id: id.to_string(),
                    customer_gateway_name: get_str(attrs, "name").unwrap_or_default(),
                    bgp_asn: get_u64(attrs, "bgp_asn").filter(|_| has(changed, "bgp_asn")),
                };
                let r = call
                    .client
                    .call::<ModifyCustomerGatewayAttribute>(call.region, &req)
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
        _before: Option<&'a Attrs>,
    ) -> BoxFuture<'a, Result<Option<Deleted>, ApiError>> {
        async move {
            let req = DeleteCustomerGatewayRequest {
                customer_gateway_id: id.to_string(),
            };
            crate::deleted(
                client
                    .call::<DeleteCustomerGateway>(region, &req)
                    .await
                    .map(|r| r.request_id),
                false,
            )
        }
        .boxed()
    }
}
