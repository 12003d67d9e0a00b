//! Data sources: read objects managed elsewhere, filtered by id, name or tags as the provider does.

use std::collections::BTreeMap;

use tunnelform_model::{DataKind, Value};
use tunnelform_plan::Attrs;
use tunnelform_tencent_api::actions::DescribeVpcs;
use tunnelform_tencent_api::vpc::{DescribeVpcsRequest, Filter};
use tunnelform_tencent_api::{ApiError, Client};

use crate::mapping::{customer_gateway_item, gateway_item, vpc_item};

fn arg<'a>(args: &'a Attrs, k: &str) -> Option<&'a str> {
    args.get(k).and_then(Value::as_str)
}

/// Whether an item matches every filter argument given (exact match; tags: every pair present).
fn matches(item: &Value, args: &Attrs, fields: &[(&str, &str)]) -> bool {
    for (arg_name, item_field) in fields {
        if let Some(want) = args.get(*arg_name).filter(|v| !v.is_null()) {
            if item.get(item_field).map(|v| v.to_json()) != Some(want.to_json()) {
                return false;
            }
        }
    }
    if let Some(want) = args.get("tags").and_then(Value::as_map) {
        let have = item.get("tags").and_then(Value::as_map);
        for (k, v) in want {
            if have.and_then(|h| h.get(k)).map(|x| x.as_str()) != Some(v.as_str()) {
                return false;
            }
        }
    }
    if let Some(key) = arg(args, "tag_key") {
        if !item
            .get("tags")
            .and_then(Value::as_map)
            .is_some_and(|h| h.contains_key(key))
        {
            return false;
        }
    }
    true
}

/// Reads a data source: the arguments plus its result list attribute.
pub async fn read_data(
    client: &Client,
    region: &str,
    kind: DataKind,
    args: &Attrs,
) -> Result<Value, ApiError> {
    let (list_name, items): (&str, Vec<Value>) = match kind {
        DataKind::VpnGateways => {
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
            let fields = [
                ("id", "id"),
                ("name", "name"),
                ("vpc_id", "vpc_id"),
                ("public_ip_address", "public_ip_address"),
                ("zone", "zone"),
            ];
            (
                "gateway_list",
                found
                    .iter()
                    .map(gateway_item)
                    .filter(|i| matches(i, args, &fields))
                    .collect(),
            )
        }
        DataKind::CustomerGateways => {
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
            let fields = [
                ("id", "id"),
                ("name", "name"),
                ("public_ip_address", "public_ip_address"),
            ];
            (
                "gateway_list",
                found
                    .iter()
                    .map(customer_gateway_item)
                    .filter(|i| matches(i, args, &fields))
                    .collect(),
            )
        }
        DataKind::VpcInstances => {
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
            let fields = [
                ("vpc_id", "vpc_id"),
                ("name", "name"),
                ("cidr_block", "cidr_block"),
                ("is_default", "is_default"),
                ("is_multicast", "is_multicast"),
            ];
            (
                "instance_list",
                all.iter()
                    .map(vpc_item)
                    .filter(|i| matches(i, args, &fields))
                    .collect(),
            )
        }
    };
    let mut out: BTreeMap<String, Value> = args.clone();
    out.insert(list_name.to_string(), Value::List(items));
    out.insert(
        "id".to_string(),
        Value::from(format!("{}-{}", kind.type_name(), region)),
    );
    Ok(Value::Map(out))
}
