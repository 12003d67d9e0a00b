//! `tencentcloud_vpn_customer_gateway_configuration_download`: the peer device's configuration for
//! one tunnel, ready to paste on the on-premises router (DownloadCustomerGatewayConfiguration). It
//! holds the tunnel's pre-shared key, so the result is sensitive.

use futures::future::BoxFuture;
use futures::FutureExt;
use tunnelform_model::schema::{AttrSchema, AttrType as T, BlockSchema, Nesting};
use tunnelform_model::{Attrs, Value};
use tunnelform_tencent_api::actions::DownloadCustomerGatewayConfiguration;
use tunnelform_tencent_api::vpc::{
    CustomerGatewayVendor, DownloadCustomerGatewayConfigurationRequest,
};
use tunnelform_tencent_api::{ApiError, Client};

use super::{arg, DataSource};
use crate::attrs::s;

const STR: T = T::String;

const VENDOR_BLOCK: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("platform", STR).required(),
        AttrSchema::new("software_version", STR).required(),
        AttrSchema::new("vendor_name", STR).required(),
    ],
};

pub const SCHEMA: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("vpn_gateway_id", STR).required(),
        AttrSchema::new("vpn_connection_id", STR).required(),
        AttrSchema::new(
            "customer_gateway_vendor",
            T::Block(Nesting::Single, &VENDOR_BLOCK),
        )
        .required(),
        AttrSchema::new("interface_name", STR).required(),
        AttrSchema::new("result_output_file", STR),
        AttrSchema::new("customer_gateway_configuration", STR)
            .read_only()
            .sensitive(),
    ],
};

pub struct ConfigurationDownload;

impl DataSource for ConfigurationDownload {
    fn type_name(&self) -> &'static str {
        "tencentcloud_vpn_customer_gateway_configuration_download"
    }

    fn schema(&self) -> &'static BlockSchema {
        &SCHEMA
    }

    fn list_name(&self) -> &'static str {
        "customer_gateway_configuration"
    }

    /// Not a list: see [`DataSource::computed`].
    fn items<'a>(
        &'a self,
        _client: &'a Client,
        _region: &'a str,
        _args: &'a Attrs,
    ) -> BoxFuture<'a, Result<Vec<Value>, ApiError>> {
        async move { Ok(Vec::new()) }.boxed()
    }

    fn computed<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        args: &'a Attrs,
    ) -> BoxFuture<'a, Result<Attrs, ApiError>> {
        async move {
            let vendor = args.get("customer_gateway_vendor");
            let field = |k: &str| {
                vendor
                    .and_then(|v| v.get(k))
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let req = DownloadCustomerGatewayConfigurationRequest {
                vpn_gateway_id: arg(args, "vpn_gateway_id").unwrap_or_default().to_string(),
                vpn_connection_id: arg(args, "vpn_connection_id")
                    .unwrap_or_default()
                    .to_string(),
                customer_gateway_vendor: CustomerGatewayVendor {
                    platform: field("platform"),
                    software_version: field("software_version"),
                    vendor_name: field("vendor_name"),
                },
                interface_name: arg(args, "interface_name").unwrap_or_default().to_string(),
            };
            let r = client
                .call::<DownloadCustomerGatewayConfiguration>(region, &req)
                .await?;
            let mut out = Attrs::new();
            out.insert(
                "customer_gateway_configuration".into(),
                Value::sensitive(s(r.customer_gateway_configuration.expose())),
            );
            Ok(out)
        }
        .boxed()
    }
}
