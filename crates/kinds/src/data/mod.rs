//! Data sources: objects managed elsewhere, read and filtered by id, name or tags as the
//! provider does. One module per data source; [`crate::DataKind`] lists them.

use std::collections::HashMap;

use futures::future::BoxFuture;
use tunnelform_model::{Attrs, BlockSchema, Value};
use tunnelform_tencent_api::{ApiError, Client};

pub mod configuration_download;
pub mod customer_gateway_vendors;
pub mod customer_gateways;
pub mod route_tables;
pub mod vpc_instances;
pub mod vpn_gateways;

/// A data source kind.
pub trait DataSource: Send + Sync + 'static {
    /// The provider's type name (`tencentcloud_vpn_gateways`).
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &'static BlockSchema;
    /// The name of the result list attribute (`gateway_list`).
    fn list_name(&self) -> &'static str;
    /// The arguments that filter the items by equality with the item's field of the same name
    /// (`tags` and `tag_key` always filter). A source with such filters can also be answered from
    /// the region's whole listing filtered by them (see [`DataReads`]).
    fn filters(&self) -> &'static [&'static str] {
        &[]
    }
    /// The items the arguments select before filtering (by id when one is given, else all or
    /// a server-side filter).
    fn items<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        args: &'a Attrs,
    ) -> BoxFuture<'a, Result<Vec<Value>, ApiError>>;

    /// Whether the region's whole listing (its items without arguments), filtered by
    /// [`DataSource::filters`] and the tags, is the answer to any arguments: then many reads of
    /// the source in one plan cost one listing ([`DataReads`]).
    fn listable(&self) -> bool {
        false
    }

    /// What the source computes beside its arguments. Default: its items under
    /// [`DataSource::list_name`]; a source whose result is not a list (a configuration text)
    /// says so here.
    fn computed<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        args: &'a Attrs,
    ) -> BoxFuture<'a, Result<Attrs, ApiError>> {
        Box::pin(async move {
            let items: Vec<Value> = self
                .items(client, region, args)
                .await?
                .into_iter()
                .filter(|i| matches(i, args, self.filters()))
                .collect();
            let mut out = Attrs::new();
            out.insert(self.list_name().into(), Value::List(items));
            Ok(out)
        })
    }
}

/// Reads a data source: its arguments, its result list, and an id naming the source and region.
pub async fn read(
    source: &dyn DataSource,
    client: &Client,
    region: &str,
    args: &Attrs,
) -> Result<Value, ApiError> {
    let computed = source.computed(client, region, args).await?;
    Ok(result(source, region, args, computed))
}

fn result(source: &dyn DataSource, region: &str, args: &Attrs, computed: Attrs) -> Value {
    let mut out: Attrs = args.clone();
    out.extend(computed);
    out.insert(
        "id".into(),
        Value::from(format!("{}-{}", source.type_name(), region)),
    );
    Value::Map(out)
}

/// The data sources read by one plan, so that reading many of them costs what a region's listing
/// costs, however many blocks there are: the first read of a source in a region asks the API with
/// its arguments (one filtered call); from the second on, the region's whole listing is read once
/// (paged) and every read of that source in that region is answered from it. At most 1 + pages
/// calls per (source, region).
#[derive(Debug, Default)]
pub struct DataReads {
    seen: HashMap<(&'static str, String), Seen>,
}

#[derive(Debug)]
enum Seen {
    Once,
    All(Vec<Value>),
}

impl DataReads {
    /// [`read`], answered from the region's listing when this source was read there before.
    pub async fn read(
        &mut self,
        source: &dyn DataSource,
        client: &Client,
        region: &str,
        args: &Attrs,
    ) -> Result<Value, ApiError> {
        if !source.listable() {
            return read(source, client, region, args).await;
        }
        let key = (source.type_name(), region.to_string());
        match self.seen.get(&key) {
            None => {
                self.seen.insert(key, Seen::Once);
                read(source, client, region, args).await
            }
            Some(seen) => {
                if let Seen::Once = seen {
                    let all = source.items(client, region, &Attrs::new()).await?;
                    self.seen.insert(key.clone(), Seen::All(all));
                }
                let Some(Seen::All(all)) = self.seen.get(&key) else {
                    unreachable!("the listing was just stored")
                };
                let items = all
                    .iter()
                    .filter(|i| matches(i, args, source.filters()))
                    .cloned()
                    .collect();
                let computed = Attrs::from([(source.list_name().to_string(), Value::List(items))]);
                Ok(result(source, region, args, computed))
            }
        }
    }
}

pub(crate) fn arg<'a>(args: &'a Attrs, k: &str) -> Option<&'a str> {
    args.get(k).and_then(Value::as_str)
}

/// Whether an item matches every filter argument given (exact match; tags: every pair present).
fn matches(item: &Value, args: &Attrs, fields: &[&str]) -> bool {
    for name in fields {
        let (arg_name, item_field) = (name, name);
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
