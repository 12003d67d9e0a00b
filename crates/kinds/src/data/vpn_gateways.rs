//! `tencentcloud_vpn_gateways`: VPN gateways by id, name, VPC, address, zone or tags.

use futures::future::BoxFuture;
use futures::FutureExt;
use tunnelform_model::schema::{AttrSchema, AttrType as T, BlockSchema, Check as C};
use tunnelform_model::{Attrs, Value};
use tunnelform_tencent_api::vpc::{Filter, VpnGateway};
use tunnelform_tencent_api::{ApiError, Client};

use super::{arg, DataSource};

const STR: T = T::String;
const STR_MAP: T = T::Map(&T::String);

pub const SCHEMA: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("id", STR),
        AttrSchema::new("name", STR),
        AttrSchema::new("vpc_id", STR),
        AttrSchema::new("public_ip_address", STR).checks(&[C::Ipv4]),
        AttrSchema::new("zone", STR),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("result_output_file", STR),
        AttrSchema::new("gateway_list", T::Any).read_only(),
    ],
};

/// A gateway as a list item (the provider's element shape).
pub fn item(g: &VpnGateway) -> Value {
    let mut a = crate::vpn_gateway::observe(g).attrs;
    a.insert("id".into(), Value::from(g.vpn_gateway_id.as_str()));
    a.remove("prepaid_period");
    Value::Map(a)
}

pub struct VpnGateways;

impl DataSource for VpnGateways {
    fn type_name(&self) -> &'static str {
        "tencentcloud_vpn_gateways"
    }

    fn schema(&self) -> &'static BlockSchema {
        &SCHEMA
    }

    fn list_name(&self) -> &'static str {
        "gateway_list"
    }

    fn filters(&self) -> &'static [&'static str] {
        &["id", "name", "vpc_id", "public_ip_address", "zone"]
    }

    fn listable(&self) -> bool {
        true
    }

    fn items<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        args: &'a Attrs,
    ) -> BoxFuture<'a, Result<Vec<Value>, ApiError>> {
        async move {
            let found = match arg(args, "id") {
                Some(id) => {
                    client
                        .describe_vpn_gateways_by_ids(region, &[id.to_string()])
                        .await?
                }
                None => {
                    let filters: Vec<Filter> = arg(args, "vpc_id")
                        .map(|v| {
                            vec![Filter {
                                name: "vpc-id".into(),
                                values: vec![v.into()],
                            }]
                        })
                        .unwrap_or_default();
                    client
                        .describe_vpn_gateways_by_filters(region, &filters)
                        .await?
                }
            };
            Ok(found.iter().map(item).collect())
        }
        .boxed()
    }
}
