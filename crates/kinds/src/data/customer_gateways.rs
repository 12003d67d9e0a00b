//! `tencentcloud_vpn_customer_gateways`: customer gateways by id, name, address or tags.

use futures::future::BoxFuture;
use futures::FutureExt;
use tunnelform_model::schema::{AttrSchema, AttrType as T, BlockSchema, Check as C};
use tunnelform_model::{Attrs, Value};
use tunnelform_tencent_api::vpc::CustomerGateway;
use tunnelform_tencent_api::{ApiError, Client};

use super::{arg, DataSource};

const STR: T = T::String;
const STR_MAP: T = T::Map(&T::String);

pub const SCHEMA: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("id", STR),
        AttrSchema::new("name", STR),
        AttrSchema::new("public_ip_address", STR).checks(&[C::Ipv4]),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("result_output_file", STR),
        AttrSchema::new("gateway_list", T::Any).read_only(),
    ],
};

/// A customer gateway as a list item.
pub fn item(c: &CustomerGateway) -> Value {
    let mut a = crate::customer_gateway::observe(c).attrs;
    a.insert("id".into(), Value::from(c.customer_gateway_id.as_str()));
    Value::Map(a)
}

pub struct CustomerGateways;

impl DataSource for CustomerGateways {
    fn type_name(&self) -> &'static str {
        "tencentcloud_vpn_customer_gateways"
    }

    fn schema(&self) -> &'static BlockSchema {
        &SCHEMA
    }

    fn list_name(&self) -> &'static str {
        "gateway_list"
    }

    fn filters(&self) -> &'static [&'static str] {
        &["id", "name", "public_ip_address"]
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
                        .describe_customer_gateways_by_ids(region, &[id.to_string()])
                        .await?
                }
                None => {
                    client
                        .describe_customer_gateways_by_filters(region, &[])
                        .await?
                }
            };
            Ok(found.iter().map(item).collect())
        }
        .boxed()
    }
}
