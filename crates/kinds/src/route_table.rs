//! `tencentcloud_route_table`: a VPC route table of the user's own (each VPC's default table is
//! not managed here: it is found through the `tencentcloud_vpc_route_tables` data source). Created
//! at once, with no task; only its name changes in place.

use futures::future::BoxFuture;
use futures::FutureExt;
use tunnelform_model::schema::{AttrSchema, AttrType as T, BlockSchema, Check as C};
use tunnelform_model::{Attrs, Value};
use tunnelform_tencent_api::actions::{
    CreateRouteTable, DeleteRouteTable, ModifyRouteTableAttribute,
};
use tunnelform_tencent_api::vpc::{
    CreateRouteTableRequest, DeleteRouteTableRequest, ModifyRouteTableAttributeRequest, RouteTable,
};
use tunnelform_tencent_api::{ApiError, Client};

use crate::attrs::{changed as has, get_str, s};
use crate::contract::{Call, CallError, Created, Deleted, Kind, Observed, RegionHint};
use crate::tags::{split_tags, Tag};

const STR: T = T::String;
const STR_LIST: T = T::List(&T::String);
const STR_MAP: T = T::Map(&T::String);

pub const SCHEMA: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("vpc_id", STR).required().force_new(),
        AttrSchema::new("name", STR)
            .required()
            .checks(&[C::StrLen(1, 60)]),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("is_default", T::Bool).read_only(),
        AttrSchema::new("subnet_ids", STR_LIST).read_only(),
        AttrSchema::new("route_entry_ids", STR_LIST).read_only(),
        AttrSchema::new("create_time", STR).read_only(),
    ],
};

/// The id of a route table entry: `<route id>.<rtb-id>` (the provider's form).
pub fn entry_id(route_id: u64, table: &str) -> String {
    format!("{route_id}.{table}")
}

/// Attributes of a described route table (ownership tags set apart).
pub fn observe(t: &RouteTable) -> Observed {
    let (tags, own) = split_tags(&t.tag_set);
    let mut a = Attrs::new();
    a.insert("vpc_id".into(), s(&t.vpc_id));
    a.insert("name".into(), s(&t.route_table_name));
    a.insert("tags".into(), tags);
    a.insert("is_default".into(), Value::Bool(t.main));
    a.insert(
        "subnet_ids".into(),
        Value::List(t.association_set.iter().map(|x| s(&x.subnet_id)).collect()),
    );
    a.insert(
        "route_entry_ids".into(),
        Value::List(
            t.route_set
                .iter()
                .filter_map(|r| r.route_id)
                .map(|id| s(&entry_id(id, &t.route_table_id)))
                .collect(),
        ),
    );
    a.insert("create_time".into(), s(&t.created_time));
    Observed {
        id: t.route_table_id.clone(),
        attrs: a,
        ownership: own,
    }
}

/// The kind.
pub struct RouteTableKind;

impl Kind for RouteTableKind {
    fn type_name(&self) -> &'static str {
        "tencentcloud_route_table"
    }

    fn id_prefix(&self) -> &'static str {
        "rtb"
    }

    fn schema(&self) -> &'static BlockSchema {
        &SCHEMA
    }

    fn noun(&self) -> &'static str {
        "route table"
    }

    fn holds(&self) -> Option<(&'static str, crate::ResourceKind)> {
        Some(("route_entry_ids", crate::ResourceKind::RouteTableEntry))
    }

    fn region_hint(&self) -> RegionHint {
        RegionHint::FollowedBy("route_table_id")
    }

    fn read<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Observed>, ApiError>> {
        async move {
            Ok(client
                .describe_route_tables_by_ids(region, ids)
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
            let req = CreateRouteTableRequest {
                vpc_id: get_str(attrs, "vpc_id").unwrap_or_default(),
                route_table_name: get_str(attrs, "name").unwrap_or_default(),
                tags: if tags.is_empty() { None } else { Some(tags) },
            };
            let r = client.call::<CreateRouteTable>(region, &req).await?;
            // The answer lists the new table as a describe would (its page's example: name, VPC,
            // empty route and association sets, tags): nothing to read back.
            Ok(Created {
                observed: Some(observe(&r.route_table)),
                id: r.route_table.route_table_id,
                request_id: r.request_id,
                task_id: None,
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
            if has(changed, "name") {
                let req = ModifyRouteTableAttributeRequest {
                    route_table_id: id.to_string(),
                    route_table_name: get_str(attrs, "name").unwrap_or_default(),
                };
                let r = call
                    .client
                    .call::<ModifyRouteTableAttribute>(call.region, &req)
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
            let req = DeleteRouteTableRequest {
                route_table_id: id.to_string(),
            };
            match client.call::<DeleteRouteTable>(region, &req).await {
                Ok(r) => Ok(Some(Deleted {
                    request_id: r.request_id,
                    task_id: None,
                })),
                Err(e) if crate::is_gone(&e) => Ok(None),
                Err(e) => Err(e),
            }
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelform_tencent_api::vpc::{Route, Tag as ApiTag};

    #[test]
    fn observed_table_lists_its_entries_in_the_entry_id_form() {
        let t = RouteTable {
            vpc_id: "vpc-1".into(),
            route_table_id: "rtb-1".into(),
            route_table_name: "n".into(),
            route_set: vec![Route {
                route_id: Some(42),
                ..Default::default()
            }],
            tag_set: vec![ApiTag {
                key: "team".into(),
                value: "net".into(),
            }],
            ..Default::default()
        };
        let o = observe(&t);
        assert_eq!(o.id, "rtb-1");
        assert_eq!(o.attrs["route_entry_ids"], Value::List(vec![s("42.rtb-1")]));
        assert_eq!(o.attrs["is_default"], Value::Bool(false));
        assert_eq!(o.attrs["tags"].get("team"), Some(&s("net")));
    }
}
