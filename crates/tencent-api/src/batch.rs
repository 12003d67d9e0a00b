//! Batched readers for refresh: ids in chunks of 100 issued concurrently, filters paged with Limit=100
//! (pages after the first issued concurrently once TotalCount is known), tag-service paging by token.
//! The client's rate limiter paces all of it.

use crate::action::{
    Action, DescribeCustomerGateways, DescribeRouteTables, DescribeVpnConnections,
    DescribeVpnGatewayRoutes, DescribeVpnGateways, GetResources,
};
use crate::error::{ApiError, ErrorKind};
use crate::tag::{GetResourcesRequest, ResourceTagMapping};
use crate::vpc::{
    CustomerGateway, DescribeCustomerGatewaysRequest, DescribeRouteTablesRequest,
    DescribeVpnConnectionsRequest, DescribeVpnGatewayRoutesRequest, DescribeVpnGatewaysRequest,
    Filter, RouteTable, VpnConnection, VpnGateway, VpnGatewayRoute,
};
use crate::Client;
use futures::future::try_join_all;
use std::collections::HashSet;

/// At most this many ids per Describe call.
pub const MAX_IDS_PER_CALL: usize = 100;
/// The largest `Limit` of a Describe call.
pub const MAX_LIMIT: u64 = 100;
/// At most this many filters per call...
pub const MAX_FILTERS: usize = 10;
/// ...and this many values per filter.
pub const MAX_FILTER_VALUES: usize = 5;
/// A filter query with more values is split into at most this many calls.
const MAX_SPLIT_QUERIES: usize = 1000;
/// `MaxResults` of `GetResources` (its maximum).
const GET_RESOURCES_PAGE: u64 = 200;
/// Safety bound on token paging.
const MAX_TOKEN_PAGES: usize = 100_000;

/// A Describe action that takes ids xor filters with Offset/Limit paging.
pub(crate) trait Paged: Action {
    type Item: Send;
    fn request(
        ids: Option<Vec<String>>,
        filters: Option<Vec<Filter>>,
        offset: u64,
        limit: u64,
    ) -> Self::Request;
    fn split(resp: Self::Response) -> (u64, Vec<Self::Item>);
    fn id(item: &Self::Item) -> &str;
}

impl Paged for DescribeVpnConnections {
    type Item = VpnConnection;
    fn request(
        ids: Option<Vec<String>>,
        filters: Option<Vec<Filter>>,
        offset: u64,
        limit: u64,
    ) -> Self::Request {
        DescribeVpnConnectionsRequest {
            vpn_connection_ids: ids,
            filters,
            offset: Some(offset),
            limit: Some(limit),
        }
    }
    fn split(resp: Self::Response) -> (u64, Vec<Self::Item>) {
        (resp.total_count, resp.vpn_connection_set)
    }
    fn id(item: &Self::Item) -> &str {
        &item.vpn_connection_id
    }
}

impl Paged for DescribeVpnGateways {
    type Item = VpnGateway;
    fn request(
        ids: Option<Vec<String>>,
        filters: Option<Vec<Filter>>,
        offset: u64,
        limit: u64,
    ) -> Self::Request {
        DescribeVpnGatewaysRequest {
            vpn_gateway_ids: ids,
            filters,
            offset: Some(offset),
            limit: Some(limit),
        }
    }
    fn split(resp: Self::Response) -> (u64, Vec<Self::Item>) {
        (resp.total_count, resp.vpn_gateway_set)
    }
    fn id(item: &Self::Item) -> &str {
        &item.vpn_gateway_id
    }
}

impl Paged for DescribeCustomerGateways {
    type Item = CustomerGateway;
    fn request(
        ids: Option<Vec<String>>,
        filters: Option<Vec<Filter>>,
        offset: u64,
        limit: u64,
    ) -> Self::Request {
        DescribeCustomerGatewaysRequest {
            customer_gateway_ids: ids,
            filters,
            offset: Some(offset),
            limit: Some(limit),
        }
    }
    fn split(resp: Self::Response) -> (u64, Vec<Self::Item>) {
        (resp.total_count, resp.customer_gateway_set)
    }
    fn id(item: &Self::Item) -> &str {
        &item.customer_gateway_id
    }
}

impl Paged for DescribeRouteTables {
    type Item = RouteTable;
    fn request(
        ids: Option<Vec<String>>,
        filters: Option<Vec<Filter>>,
        offset: u64,
        limit: u64,
    ) -> Self::Request {
        // This action takes Offset and Limit as strings.
        DescribeRouteTablesRequest {
            route_table_ids: ids,
            filters,
            offset: Some(offset.to_string()),
            limit: Some(limit.to_string()),
            need_router_info: None,
        }
    }
    fn split(resp: Self::Response) -> (u64, Vec<Self::Item>) {
        (resp.total_count, resp.route_table_set)
    }
    fn id(item: &Self::Item) -> &str {
        &item.route_table_id
    }
}

impl Client {
    /// The connections with these ids (missing ones are simply absent from the result). Ids are
    /// de-duplicated and asked in chunks of 100, concurrently. If the API rejects a chunk because one of
    /// its ids does not exist (a `*NotFound` code), that chunk is asked again id by id.
    pub async fn describe_vpn_connections_by_ids(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<VpnConnection>, ApiError> {
        self.by_ids::<DescribeVpnConnections>(region, ids).await
    }

    /// Every connection matching `filters` (AND between filters, OR between a filter's values). A filter
    /// with more than 5 values is split into several queries, results de-duplicated by id.
    pub async fn describe_vpn_connections_by_filters(
        &self,
        region: &str,
        filters: &[Filter],
    ) -> Result<Vec<VpnConnection>, ApiError> {
        self.by_filters::<DescribeVpnConnections>(region, filters)
            .await
    }

    /// See [`Client::describe_vpn_connections_by_ids`].
    pub async fn describe_vpn_gateways_by_ids(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<VpnGateway>, ApiError> {
        self.by_ids::<DescribeVpnGateways>(region, ids).await
    }

    /// See [`Client::describe_vpn_connections_by_filters`].
    pub async fn describe_vpn_gateways_by_filters(
        &self,
        region: &str,
        filters: &[Filter],
    ) -> Result<Vec<VpnGateway>, ApiError> {
        self.by_filters::<DescribeVpnGateways>(region, filters)
            .await
    }

    /// See [`Client::describe_vpn_connections_by_ids`].
    pub async fn describe_customer_gateways_by_ids(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<CustomerGateway>, ApiError> {
        self.by_ids::<DescribeCustomerGateways>(region, ids).await
    }

    /// See [`Client::describe_vpn_connections_by_filters`].
    pub async fn describe_customer_gateways_by_filters(
        &self,
        region: &str,
        filters: &[Filter],
    ) -> Result<Vec<CustomerGateway>, ApiError> {
        self.by_filters::<DescribeCustomerGateways>(region, filters)
            .await
    }

    /// The route tables with these ids, each with its entries (see
    /// [`Client::describe_vpn_connections_by_ids`]).
    pub async fn describe_route_tables_by_ids(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<RouteTable>, ApiError> {
        self.by_ids::<DescribeRouteTables>(region, ids).await
    }

    /// See [`Client::describe_vpn_connections_by_filters`] (`vpc-id`, `route-table-name`,
    /// `association.main`, `tag-key`, `tag:<key>`, ...).
    pub async fn describe_route_tables_by_filters(
        &self,
        region: &str,
        filters: &[Filter],
    ) -> Result<Vec<RouteTable>, ApiError> {
        self.by_filters::<DescribeRouteTables>(region, filters)
            .await
    }

    /// Every route of VPN gateway `gateway_id` (100 per page: the first page, then the rest
    /// concurrently). A gateway that does not exist has no routes.
    pub async fn describe_vpn_gateway_routes(
        &self,
        region: &str,
        gateway_id: &str,
    ) -> Result<Vec<VpnGatewayRoute>, ApiError> {
        let req = |offset: u64, limit: u64| DescribeVpnGatewayRoutesRequest {
            vpn_gateway_id: gateway_id.to_string(),
            filters: None,
            offset: Some(offset as i64),
            limit: Some(limit as i64),
        };
        let first = match self
            .call::<DescribeVpnGatewayRoutes>(region, &req(0, MAX_LIMIT))
            .await
        {
            Ok(r) => r,
            Err(e) if e.is_not_found() => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let total = first.total_count;
        let mut routes = first.routes;
        let got = routes.len() as u64;
        if got == 0 || got >= total {
            return Ok(routes);
        }
        let page = got.min(MAX_LIMIT);
        let offsets: Vec<u64> = (1..).map(|i| i * page).take_while(|o| *o < total).collect();
        let rest = try_join_all(offsets.into_iter().map(|offset| {
            let r = req(offset, page);
            async move {
                let resp = self.call::<DescribeVpnGatewayRoutes>(region, &r).await?;
                Ok::<_, ApiError>(resp.routes)
            }
        }))
        .await?;
        let mut seen: HashSet<String> = routes.iter().filter_map(|r| r.route_id.clone()).collect();
        for r in rest.into_iter().flatten() {
            if r.route_id.as_ref().is_none_or(|id| seen.insert(id.clone())) {
                routes.push(r);
            }
        }
        Ok(routes)
    }

    /// Every route of each of these VPN gateways, by gateway (one paged query per gateway, all
    /// concurrently).
    pub async fn describe_vpn_gateway_routes_of(
        &self,
        region: &str,
        gateway_ids: &[String],
    ) -> Result<Vec<(String, Vec<VpnGatewayRoute>)>, ApiError> {
        let mut seen = HashSet::new();
        let ids: Vec<&String> = gateway_ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .collect();
        try_join_all(ids.into_iter().map(|gw| async move {
            Ok::<_, ApiError>((
                gw.clone(),
                self.describe_vpn_gateway_routes(region, gw).await?,
            ))
        }))
        .await
    }

    /// Every resource mapping of a `GetResources` query, following `PaginationToken` (200 per page).
    /// `req.pagination_token` and `req.max_results` are managed here.
    pub async fn get_resources(
        &self,
        region: &str,
        mut req: GetResourcesRequest,
    ) -> Result<Vec<ResourceTagMapping>, ApiError> {
        let mut out = Vec::new();
        let mut seen_tokens = HashSet::new();
        req.pagination_token = None;
        req.max_results = Some(GET_RESOURCES_PAGE);
        for _ in 0..MAX_TOKEN_PAGES {
            let resp = self.call::<GetResources>(region, &req).await?;
            out.extend(resp.resource_tag_mapping_list);
            let token = resp.pagination_token;
            if token.is_empty() {
                return Ok(out);
            }
            if !seen_tokens.insert(token.clone()) {
                return Err(local_error::<GetResources>(
                    region,
                    resp.request_id,
                    "PaginationToken repeats",
                ));
            }
            req.pagination_token = Some(token);
        }
        Err(local_error::<GetResources>(
            region,
            String::new(),
            "too many pages",
        ))
    }

    async fn by_ids<A: Paged>(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<A::Item>, ApiError> {
        let mut seen = HashSet::new();
        let ids: Vec<String> = ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .cloned()
            .collect();
        if ids.is_empty() {
            // An empty id list would mean "everything" to the API.
            return Ok(Vec::new());
        }
        let chunks = try_join_all(
            ids.chunks(MAX_IDS_PER_CALL)
                .map(|c| self.ids_chunk::<A>(region, c)),
        )
        .await?;
        Ok(chunks.into_iter().flatten().collect())
    }

    async fn ids_chunk<A: Paged>(
        &self,
        region: &str,
        chunk: &[String],
    ) -> Result<Vec<A::Item>, ApiError> {
        let req = A::request(Some(chunk.to_vec()), None, 0, MAX_LIMIT);
        match self.call::<A>(region, &req).await {
            Ok(resp) => Ok(A::split(resp).1),
            Err(e) if e.is_not_found() && chunk.len() > 1 => {
                let singles = try_join_all(chunk.iter().map(|id| async move {
                    let req = A::request(Some(vec![id.clone()]), None, 0, MAX_LIMIT);
                    match self.call::<A>(region, &req).await {
                        Ok(resp) => Ok(A::split(resp).1),
                        Err(e) if e.is_not_found() => Ok(Vec::new()),
                        Err(e) => Err(e),
                    }
                }))
                .await?;
                Ok(singles.into_iter().flatten().collect())
            }
            Err(e) if e.is_not_found() => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    async fn by_filters<A: Paged>(
        &self,
        region: &str,
        filters: &[Filter],
    ) -> Result<Vec<A::Item>, ApiError> {
        let queries =
            split_filters(filters).map_err(|why| local_error::<A>(region, String::new(), &why))?;
        let results =
            try_join_all(queries.into_iter().map(|f| self.all_pages::<A>(region, f))).await?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for item in results.into_iter().flatten() {
            if seen.insert(A::id(&item).to_string()) {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// Every page of one filter query: the first page, then the rest concurrently.
    async fn all_pages<A: Paged>(
        &self,
        region: &str,
        filters: Vec<Filter>,
    ) -> Result<Vec<A::Item>, ApiError> {
        let filters = if filters.is_empty() {
            None
        } else {
            Some(filters)
        };
        let first = self
            .call::<A>(region, &A::request(None, filters.clone(), 0, MAX_LIMIT))
            .await?;
        let (total, mut items) = A::split(first);
        let got = items.len() as u64;
        if got == 0 || got >= total {
            return Ok(items);
        }
        // Normally 100; a server returning smaller pages is followed at its own page size.
        let page = got.min(MAX_LIMIT);
        let offsets: Vec<u64> = (1..).map(|i| i * page).take_while(|o| *o < total).collect();
        let filters = &filters;
        let rest = try_join_all(offsets.into_iter().map(|offset| async move {
            let resp = self
                .call::<A>(region, &A::request(None, filters.clone(), offset, page))
                .await?;
            Ok::<_, ApiError>(A::split(resp).1)
        }))
        .await?;
        items.extend(rest.into_iter().flatten());
        Ok(items)
    }
}

/// Splits filters with more than [`MAX_FILTER_VALUES`] values into several queries whose union is the
/// original query (the cartesian product of value chunks).
pub(crate) fn split_filters(filters: &[Filter]) -> Result<Vec<Vec<Filter>>, String> {
    if filters.len() > MAX_FILTERS {
        return Err(format!(
            "at most {MAX_FILTERS} filters per query, got {}",
            filters.len()
        ));
    }
    let mut queries: Vec<Vec<Filter>> = vec![Vec::new()];
    for f in filters {
        let mut values: Vec<String> = Vec::new();
        for v in &f.values {
            if !values.contains(v) {
                values.push(v.clone());
            }
        }
        if values.is_empty() {
            return Err(format!("filter {} has no values", f.name));
        }
        let chunks: Vec<&[String]> = values.chunks(MAX_FILTER_VALUES).collect();
        if queries.len() * chunks.len() > MAX_SPLIT_QUERIES {
            return Err(format!(
                "filters expand to more than {MAX_SPLIT_QUERIES} queries"
            ));
        }
        let mut next = Vec::with_capacity(queries.len() * chunks.len());
        for q in &queries {
            for c in &chunks {
                let mut q = q.clone();
                q.push(Filter {
                    name: f.name.clone(),
                    values: c.to_vec(),
                });
                next.push(q);
            }
        }
        queries = next;
    }
    Ok(queries)
}

fn local_error<A: Action>(region: &str, request_id: String, why: &str) -> ApiError {
    ApiError {
        action: A::NAME,
        region: region.to_string(),
        request_id: if request_id.is_empty() {
            None
        } else {
            Some(request_id)
        },
        kind: ErrorKind::InvalidRequest {
            reason: why.to_string(),
        },
        attempts: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, n: usize) -> Filter {
        Filter {
            name: name.into(),
            values: (0..n).map(|i| format!("{name}-{i}")).collect(),
        }
    }

    #[test]
    fn filters_split_into_chunks_of_five() {
        assert_eq!(split_filters(&[]).unwrap(), vec![Vec::<Filter>::new()]);
        let q = split_filters(&[f("vpn-gateway-id", 5)]).unwrap();
        assert_eq!(q.len(), 1);
        let q = split_filters(&[f("vpn-gateway-id", 12), f("vpc-id", 1)]).unwrap();
        assert_eq!(q.len(), 3);
        assert_eq!(q[0][0].values.len(), 5);
        assert_eq!(q[2][0].values.len(), 2);
        assert!(q
            .iter()
            .all(|q| q[1].values == vec!["vpc-id-0".to_string()]));
        let q = split_filters(&[f("a", 6), f("b", 11)]).unwrap();
        assert_eq!(q.len(), 6);
        // Every (a, b) pair is covered exactly once.
        let mut pairs = HashSet::new();
        for query in &q {
            for a in &query[0].values {
                for b in &query[1].values {
                    assert!(pairs.insert((a.clone(), b.clone())));
                }
            }
        }
        assert_eq!(pairs.len(), 66);
        assert!(split_filters(&(0..11).map(|i| f(&i.to_string(), 1)).collect::<Vec<_>>()).is_err());
        assert!(split_filters(&[f("a", 0)]).is_err());
    }
}
