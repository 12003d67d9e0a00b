//! Data sources: objects managed elsewhere, read and filtered by id, name or tags as the
//! provider does. One module per data source; [`crate::DataKind`] lists them.

use std::collections::HashMap;

use futures::future::BoxFuture;
use tunnelform_model::{Attrs, BlockSchema, Value};
use tunnelform_tencent_api::{ApiError, Client};

pub mod customer_gateways;
pub mod vpc_instances;
pub mod vpn_gateways;

/// A data source kind.
pub trait DataSource: Send + Sync + 'static {
    /// The provider's type name (`tencentcloud_vpn_gateways`).
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &'static BlockSchema;
    /// The name of the result list attribute (`gateway_list`).
    fn list_name(&self) -> &'static str;
    /// The filter arguments matched exactly against an item's fields: (argument, item field).
    /// [`DataSource::items`] keeps the items matching them (and the tags), whatever the API
    /// filtered, so the region's whole listing filtered by them gives the same items.
    fn fields(&self) -> &'static [(&'static str, &'static str)];
    /// The items matching the arguments.
    fn items<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        args: &'a Attrs,
    ) -> BoxFuture<'a, Result<Vec<Value>, ApiError>>;
}

/// Reads a data source: its arguments, its result list, and an id naming the source and region.
pub async fn read(
    source: &dyn DataSource,
    client: &Client,
    region: &str,
    args: &Attrs,
) -> Result<Value, ApiError> {
    let items = source.items(client, region, args).await?;
    Ok(result(source, region, args, items))
}

fn result(source: &dyn DataSource, region: &str, args: &Attrs, items: Vec<Value>) -> Value {
    let mut out: Attrs = args.clone();
    out.insert(source.list_name().to_string(), Value::List(items));
    out.insert(
        "id".to_string(),
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
                    .filter(|i| matches(i, args, source.fields()))
                    .cloned()
                    .collect();
                Ok(result(source, region, args, items))
            }
        }
    }
}

pub(crate) fn arg<'a>(args: &'a Attrs, k: &str) -> Option<&'a str> {
    args.get(k).and_then(Value::as_str)
}

/// Whether an item matches every filter argument given (exact match; tags: every pair present).
pub(crate) fn matches(item: &Value, args: &Attrs, fields: &[(&str, &str)]) -> bool {
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
