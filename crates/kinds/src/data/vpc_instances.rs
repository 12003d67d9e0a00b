//! `tencentcloud_vpc_instances`: VPCs by id, name, CIDR block or tags.

use futures::future::BoxFuture;
use futures::FutureExt;
use tunnelform_model::schema::{AttrSchema, AttrType as T, BlockSchema, Check as C};
use tunnelform_model::Map;
use tunnelform_model::{Attrs, Value};

use tunnelform_tencent_api::actions::DescribeVpcs;
use tunnelform_tencent_api::vpc::{DescribeVpcsRequest, Vpc};
use tunnelform_tencent_api::{ApiError, Client};

use super::{arg, DataSource};

const STR: T = T::String;
const STR_MAP: T = T::Map(&T::String);

pub const SCHEMA: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("vpc_id", STR),
        AttrSchema::new("name", STR),
        AttrSchema::new("cidr_block", STR).checks(&[C::Cidr]),
        AttrSchema::new("is_default", T::Bool),
        AttrSchema::new("is_multicast", T::Bool),
        AttrSchema::new("tag_key", STR),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("result_output_file", STR),
        AttrSchema::new("instance_list", T::Any).read_only(),
    ],
};

fn s(v: &str) -> Value {
    Value::from(v)
}

/// A VPC as a list item.
pub fn item(v: &Vpc) -> Value {
    Value::Map(Map::from([
        ("vpc_id".to_string(), s(&v.vpc_id)),
        ("name".to_string(), s(&v.vpc_name)),
        ("cidr_block".to_string(), s(&v.cidr_block)),
        ("is_default".to_string(), Value::Bool(v.is_default)),
        ("is_multicast".to_string(), Value::Bool(v.enable_multicast)),
        (
            "dns_servers".to_string(),
            Value::List(v.dns_server_set.iter().map(|d| s(d)).collect()),
        ),
        ("create_time".to_string(), s(&v.created_time)),
        ("tags".to_string(), crate::tags::split_tags(&v.tag_set).0),
        ("subnet_ids".to_string(), Value::List(vec![])),
    ]))
}

pub struct VpcInstances;

impl DataSource for VpcInstances {
    fn type_name(&self) -> &'static str {
        "tencentcloud_vpc_instances"
    }

    fn schema(&self) -> &'static BlockSchema {
        &SCHEMA
    }

    fn list_name(&self) -> &'static str {
        "instance_list"
    }

    fn filters(&self) -> &'static [&'static str] {
        &["vpc_id", "name", "cidr_block", "is_default", "is_multicast"]
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
            let mut all = Vec::new();
            let mut offset = 0u64;
            loop {
                let req = DescribeVpcsRequest {
                    vpc_ids: arg(args, "vpc_id").map(|v| vec![v.to_string()]),
                    offset: Some(offset.to_string()),
                    limit: Some("100".to_string()),
                    ..Default::default()
                };
                let resp = client.call::<DescribeVpcs>(region, &req).await?;
                let n = resp.vpc_set.len() as u64;
                all.extend(resp.vpc_set);
                offset += n;
                if n == 0 || offset >= resp.total_count {
                    break;
                }
            }
            Ok(all.iter().map(item).collect())
        }
        .boxed()
    }
}
