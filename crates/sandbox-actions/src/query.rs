//! Ids-or-filters queries with paging, as the Describe* actions document them: ids xor filters (at most 100
//! ids, at most 10 filters of at most 5 values; filters AND, values OR), `Offset` (default 0) and `Limit`
//! (default 20, at most 100).

use serde::Deserialize;

use crate::error::{codes, ApiError, ApiResult};
use crate::world::model::Tag;

pub const MAX_IDS: usize = 100;
pub const MAX_FILTERS: usize = 10;
pub const MAX_FILTER_VALUES: usize = 5;
pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

#[derive(Debug, Clone, Deserialize)]
pub struct FilterIn {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Values")]
    pub values: Vec<String>,
}

/// The `Filters`, `Offset` and `Limit` members of a paged Describe* request (flattened into each action's
/// request beside its ids member). `N` is the type the action's page documents for `Offset` and `Limit`:
/// an integer, or a string for the VPC and route table actions.
#[derive(Debug, Deserialize)]
pub struct Paging<N> {
    #[serde(rename = "Filters")]
    pub filters: Option<Vec<FilterIn>>,
    #[serde(rename = "Offset")]
    pub offset: Option<N>,
    #[serde(rename = "Limit")]
    pub limit: Option<N>,
}

impl Paging<String> {
    /// The string-typed `Offset` and `Limit` read as numbers.
    pub fn numbers(self) -> ApiResult<Paging<u64>> {
        Ok(Paging {
            offset: parse_string_number("Offset", self.offset.as_deref())?,
            limit: parse_string_number("Limit", self.limit.as_deref())?,
            filters: self.filters,
        })
    }
}

#[derive(Debug)]
pub struct Query {
    pub ids: Option<Vec<String>>,
    pub filters: Vec<FilterIn>,
    pub offset: usize,
    pub limit: usize,
}

/// What a query may filter on.
pub struct QuerySpec<'a> {
    pub ids_param: &'a str,
    pub filter_names: &'a [&'a str],
    /// Whether `tag-key` and `tag:<key>` filters are documented for this action.
    pub tag_filters: bool,
}

impl QuerySpec<'_> {
    /// [`QuerySpec::parse`] of a request's ids member and its paging members.
    pub fn parse_paged(&self, ids: Option<Vec<String>>, paging: Paging<u64>) -> ApiResult<Query> {
        self.parse(ids, paging.filters, paging.offset, paging.limit)
    }

    pub fn parse(
        &self,
        ids: Option<Vec<String>>,
        filters: Option<Vec<FilterIn>>,
        offset: Option<u64>,
        limit: Option<u64>,
    ) -> ApiResult<Query> {
        let ids = ids.filter(|v| !v.is_empty());
        let filters = filters.unwrap_or_default();
        if ids.is_some() && !filters.is_empty() {
            return Err(ApiError::new(
                codes::INVALID_PARAMETER_COEXIST,
                format!(
                    "The parameters `{}` and `Filters` cannot be specified at the same time.",
                    self.ids_param
                ),
            ));
        }
        if let Some(ids) = &ids {
            if ids.len() > MAX_IDS {
                return Err(ApiError::new(
                    codes::IPV_LIMIT_EXCEEDED,
                    format!(
                        "At most {MAX_IDS} values of `{}` are allowed per request.",
                        self.ids_param
                    ),
                ));
            }
        }
        if filters.len() > MAX_FILTERS {
            return Err(ApiError::new(
                codes::IPV_LIMIT_EXCEEDED,
                format!("At most {MAX_FILTERS} filters are allowed per request."),
            ));
        }
        for f in &filters {
            if f.values.len() > MAX_FILTER_VALUES {
                return Err(ApiError::new(
                    codes::IPV_LIMIT_EXCEEDED,
                    format!(
                        "At most {MAX_FILTER_VALUES} values are allowed for filter `{}`.",
                        f.name
                    ),
                ));
            }
            let known = self.filter_names.contains(&f.name.as_str())
                || (self.tag_filters
                    && (f.name == "tag-key"
                        || f.name.strip_prefix("tag:").is_some_and(|k| !k.is_empty())));
            if !known {
                return Err(ApiError::new(
                    codes::INVALID_PARAMETER_FILTER_INVALID_KEY,
                    format!(
                        "The filter `{}` is not supported; supported filters: {}.",
                        f.name,
                        self.filter_names.join(", ")
                    ),
                ));
            }
        }
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(ApiError::range(
                "Limit",
                format_args!("{limit} is not within [1, {MAX_LIMIT}]"),
            ));
        }
        let offset = usize::try_from(offset.unwrap_or(0)).unwrap_or(usize::MAX);
        Ok(Query {
            ids,
            filters,
            offset,
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        })
    }
}

impl Query {
    /// Whether an item passes every filter, `field(name, value)` telling whether the item's attribute `name`
    /// matches `value`.
    pub fn matches(&self, tags: &[Tag], mut field: impl FnMut(&str, &str) -> bool) -> bool {
        self.filters.iter().all(|f| {
            if f.name == "tag-key" {
                return tags.iter().any(|t| f.values.contains(&t.key));
            }
            if let Some(key) = f.name.strip_prefix("tag:") {
                return tags
                    .iter()
                    .any(|t| t.key == key && f.values.contains(&t.value));
            }
            f.values.iter().any(|v| field(&f.name, v))
        })
    }

    /// Whether an id was asked for (true when the query has no ids).
    pub fn wants_id(&self, id: &str) -> bool {
        self.ids
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|i| i == id))
    }

    /// The values of the first filter called `name`, if any (for index lookups).
    pub fn filter_values(&self, name: &str) -> Option<&[String]> {
        self.filters
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.values.as_slice())
    }

    /// Applies `Offset` / `Limit`; returns the total count and the page.
    pub fn page<T>(&self, items: Vec<T>) -> (usize, Vec<T>) {
        let total = items.len();
        let page = items
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        (total, page)
    }
}

/// `Offset` / `Limit` given as strings (DescribeVpcs declares them as String).
pub fn parse_string_number(param: &str, value: Option<&str>) -> ApiResult<Option<u64>> {
    match value {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => s
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| ApiError::malformed(param, s)),
    }
}
