//! `tencentcloud_vpc_route_tables`: route tables by id, name, VPC, tags or `association_main`
//! (the VPC's default table), each with its entries.

use tunnelform_model::Map;

use futures::future::BoxFuture;
use futures::FutureExt;
use tunnelform_model::schema::{AttrSchema, AttrType as T, BlockSchema};
use tunnelform_model::{Attrs, Value};
use tunnelform_tencent_api::vpc::{Filter, RouteTable};
use tunnelform_tencent_api::{ApiError, Client};

use super::{arg, DataSource};
use crate::attrs::s;

const STR: T = T::String;
const STR_MAP: T = T::Map(&T::String);

pub const SCHEMA: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("route_table_id", STR),
        AttrSchema::new("name", STR),
        AttrSchema::new("vpc_id", STR),
        AttrSchema::new("association_main", T::Bool),
        AttrSchema::new("tag_key", STR),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("result_output_file", STR),
        AttrSchema::new("instance_list", T::Any).read_only(),
    ],
};

/// A route table as a list item (the provider's element shape).
pub fn item(t: &RouteTable) -> Value {
    let mut a = crate::route_table::observe(t).attrs;
    a.insert("route_table_id".into(), s(&t.route_table_id));
    a.insert(
        "route_entry_infos".into(),
        Value::List(
            t.route_set
                .iter()
                .filter_map(|r| {
                    let o = crate::route_table_entry::observe(t, r)?;
                    let mut m: Map = Map::new();
                    m.insert("route_entry_id".into(), s(&o.id));
                    for k in [
                        "destination_cidr_block",
                        "next_type",
                        "next_hub",
                        "description",
                    ] {
                        m.insert(k.into(), o.attrs.get(k).cloned().unwrap_or(Value::Null));
                    }
                    m.insert(
                        "disabled".into(),
                        o.attrs
                            .get("disabled")
                            .cloned()
                            .unwrap_or(Value::Bool(false)),
                    );
                    Some(Value::Map(m))
                })
                .collect(),
        ),
    );
    Value::Map(a)
}

pub struct RouteTables;

impl DataSource for RouteTables {
    fn type_name(&self) -> &'static str {
        "tencentcloud_vpc_route_tables"
    }

    fn schema(&self) -> &'static BlockSchema {
        &SCHEMA
    }

    fn list_name(&self) -> &'static str {
        "instance_list"
    }

    fn filters(&self) -> &'static [&'static str] {
        &["name", "vpc_id"]
    }

    fn items<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        args: &'a Attrs,
    ) -> BoxFuture<'a, Result<Vec<Value>, ApiError>> {
        async move {
            let found = match arg(args, "route_table_id") {
                Some(id) => {
                    client
                        .describe_route_tables_by_ids(region, &[id.to_string()])
                        .await?
                }
                None => {
                    let mut filters = Vec::new();
                    let mut add = |name: &str, value: String| {
                        filters.push(Filter {
                            name: name.into(),
                            values: vec![value],
                        })
                    };
                    if let Some(v) = arg(args, "vpc_id") {
                        add("vpc-id", v.to_string());
                    }
                    if let Some(v) = arg(args, "name") {
                        add("route-table-name", v.to_string());
                    }
                    if let Some(v) = args.get("association_main").and_then(Value::as_bool) {
                        add("association.main", v.to_string());
                    }
                    client
                        .describe_route_tables_by_filters(region, &filters)
                        .await?
                }
            };
            Ok(found
                .iter()
                .filter(|t| {
                    args.get("association_main")
                        .and_then(Value::as_bool)
                        .is_none_or(|m| m == t.main)
                })
                .map(item)
                .collect())
        }
        .boxed()
    }
}
