//! `tencentcloud_vpn_customer_gateway_vendors`: the peer devices whose configuration Tencent Cloud
//! can render (DescribeCustomerGatewayVendors).

use tunnelform_model::Map;

use futures::future::BoxFuture;
use futures::FutureExt;
use tunnelform_model::schema::{AttrSchema, AttrType as T, BlockSchema};
use tunnelform_model::{Attrs, Value};
use tunnelform_tencent_api::actions::DescribeCustomerGatewayVendors;
use tunnelform_tencent_api::vpc::DescribeCustomerGatewayVendorsRequest;
use tunnelform_tencent_api::{ApiError, Client};

use super::DataSource;
use crate::attrs::s;

pub const SCHEMA: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("result_output_file", T::String),
        AttrSchema::new("customer_gateway_vendor_set", T::Any).read_only(),
    ],
};

pub struct CustomerGatewayVendors;

impl DataSource for CustomerGatewayVendors {
    fn type_name(&self) -> &'static str {
        "tencentcloud_vpn_customer_gateway_vendors"
    }

    fn schema(&self) -> &'static BlockSchema {
        &SCHEMA
    }

    fn list_name(&self) -> &'static str {
        "customer_gateway_vendor_set"
    }

    fn items<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        _args: &'a Attrs,
    ) -> BoxFuture<'a, Result<Vec<Value>, ApiError>> {
        async move {
            let r = client
                .call::<DescribeCustomerGatewayVendors>(
                    region,
                    &DescribeCustomerGatewayVendorsRequest {},
                )
                .await?;
            Ok(r.customer_gateway_vendor_set
                .iter()
                .map(|v| {
                    Value::Map(Map::from([
                        ("platform".to_string(), s(&v.platform)),
                        ("software_version".to_string(), s(&v.software_version)),
                        ("vendor_name".to_string(), s(&v.vendor_name)),
                    ]))
                })
                .collect())
        }
        .boxed()
    }
}
