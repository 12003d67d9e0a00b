//! `tencentcloud_route_table_entry`: one entry of a VPC route table (a destination and its next
//! hop). Its id is the provider's `<route id>.<rtb-id>`, so that it can be read without anything
//! else. Entries of one table are created and deleted many per call (CreateRoutes / DeleteRoutes)
//! and read one DescribeRouteTables per 100 tables; only `disabled` changes in place.
//!
//! A create that meets `InvalidParameterValue.Duplicate` (an earlier run's create whose answer was
//! lost, or a lost state) adopts the entry that is there with the same destination and next hop.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use futures::future::{join_all, BoxFuture};
use futures::FutureExt;
use ipnet::Ipv4Net;
use tunnelform_model::schema::{
    AttrSchema, AttrType as T, BlockSchema, Check as C, DefaultValue as D,
};
use tunnelform_model::{Attrs, Diagnostic, Value};
use tunnelform_tencent_api::actions::{CreateRoutes, DeleteRoutes, DisableRoutes, EnableRoutes};
use tunnelform_tencent_api::vpc::{
    CreateRoutesRequest, DeleteRoutesRequest, Route, RouteSwitchRequest, RouteTable,
};
use tunnelform_tencent_api::{ApiError, Client};

use crate::attrs::{changed as has, get_bool, get_str, s};
use crate::coalesce::{client_key, Coalescer};
use crate::contract::{
    Call, CallError, Claim, Conflict, Created, Deleted, Held, Kind, Member, Observed, Problem,
    RegionHint,
};
use crate::plan_view::{PlanView, Step, Target};
use crate::registry::ResourceKind;
use crate::route_table::entry_id;
use crate::tags::Tag;

const STR: T = T::String;

/// Next hop types (the provider's list); the API's own spelling is kept as written.
pub const NEXT_TYPES: &[&str] = &[
    "CVM",
    "VPN",
    "DIRECTCONNECT",
    "PEERCONNECTION",
    "SSLVPN",
    "HAVIP",
    "NAT",
    "NORMAL_CVM",
    "EIP",
    "LOCAL_GATEWAY",
    "CCN",
    "INTRANAT",
    "USER_CCN",
    "GWLB_ENDPOINT",
];

/// At most this many routes per CreateRoutes / DeleteRoutes call.
pub const MAX_ROUTES_PER_CALL: usize = 100;

pub const SCHEMA: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("route_table_id", STR)
            .required()
            .force_new(),
        AttrSchema::new("destination_cidr_block", STR)
            .required()
            .force_new()
            .checks(&[C::Cidr]),
        AttrSchema::new("next_type", STR)
            .required()
            .force_new()
            .checks(&[C::OneOf(NEXT_TYPES)]),
        AttrSchema::new("next_hub", STR).required().force_new(),
        AttrSchema::new("description", STR)
            .default(D::Str(""))
            .force_new()
            .checks(&[C::StrLen(0, 100)]),
        AttrSchema::new("disabled", T::Bool).default(D::Bool(false)),
        AttrSchema::new("route_item_id", STR).read_only(),
        AttrSchema::new("create_time", STR).read_only(),
    ],
};

/// Whether the plan creates entry `i` (entries are replaced, never changed, but for `disabled`).
fn creates_entry(plan: &dyn PlanView, i: usize) -> bool {
    plan.kind(i) == Some(ResourceKind::RouteTableEntry)
        && matches!(plan.step(i), Step::Create | Step::Replace)
}

/// What stands for entry `i`'s VPC in [`crate::vpcs::read_cidrs`]: the VPC of a table the plan
/// manages, else the table's id.
fn vpc_key(plan: &dyn PlanView, i: usize) -> Option<String> {
    match plan.target(i, "route_table_id", ResourceKind::RouteTable)? {
        Target::Planned(t) => plan
            .value(t, "vpc_id")
            .and_then(|v| v.as_str().map(str::to_string)),
        Target::Id(id) => id.starts_with("rtb-").then_some(id),
    }
}

/// `(route id, table id)` of an entry id `<route id>.<rtb-id>`.
pub fn parse_id(id: &str) -> Option<(u64, &str)> {
    let (route, table) = id.split_once('.')?;
    let route: u64 = route.parse().ok()?;
    let rest = table.strip_prefix("rtb-")?;
    (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())).then_some((route, table))
}

/// Attributes of one entry of a described table.
pub fn observe(table: &RouteTable, r: &Route) -> Option<Observed> {
    let route_id = r.route_id?;
    let mut a = Attrs::new();
    a.insert("route_table_id".into(), s(&table.route_table_id));
    a.insert(
        "destination_cidr_block".into(),
        s(r.destination_cidr_block.as_deref().unwrap_or_default()),
    );
    a.insert(
        "next_type".into(),
        s(r.gateway_type.as_deref().unwrap_or_default()),
    );
    a.insert(
        "next_hub".into(),
        s(r.gateway_id.as_deref().unwrap_or_default()),
    );
    a.insert(
        "description".into(),
        s(r.route_description.as_deref().unwrap_or_default()),
    );
    a.insert("disabled".into(), Value::Bool(r.enabled == Some(false)));
    a.insert(
        "route_item_id".into(),
        s(r.route_item_id.as_deref().unwrap_or_default()),
    );
    a.insert(
        "create_time".into(),
        s(r.created_time.as_deref().unwrap_or_default()),
    );
    Some(Observed {
        id: entry_id(route_id, &table.route_table_id),
        attrs: a,
        ownership: Default::default(),
    })
}

fn route_of(a: &Attrs) -> Route {
    Route {
        destination_cidr_block: get_str(a, "destination_cidr_block"),
        gateway_type: get_str(a, "next_type"),
        gateway_id: get_str(a, "next_hub"),
        route_description: get_str(a, "description").filter(|d| !d.is_empty()),
        ..Default::default()
    }
}

fn same_route(want: &Route, have: &Route) -> bool {
    want.destination_cidr_block == have.destination_cidr_block
        && want.gateway_type == have.gateway_type
        && want.gateway_id == have.gateway_id
}

/// A route created (or adopted): its id, the request's id, and the entry as the answer lists it.
#[derive(Debug, Clone)]
struct CreatedRoute {
    route_id: u64,
    request_id: String,
    observed: Option<Observed>,
}

static CREATES: LazyLock<Coalescer<Route, CreatedRoute>> = LazyLock::new(Coalescer::default);
static DELETES: LazyLock<Coalescer<u64, Option<String>>> = LazyLock::new(Coalescer::default);

/// Creates `routes` in `table` in one call: each route's id and the request id. When the call
/// fails and it had several routes, each is tried on its own so that each gets its own answer.
async fn create_many(
    client: &Client,
    region: &str,
    table: &str,
    routes: Vec<Route>,
) -> Vec<Result<CreatedRoute, ApiError>> {
    let req = CreateRoutesRequest {
        route_table_id: table.to_string(),
        routes: routes.clone(),
    };
    match client.call::<CreateRoutes>(region, &req).await {
        Ok(r) => routes
            .iter()
            .map(|want| {
                listed(&r.route_table_set, table, want, &r.request_id)
                    .ok_or_else(|| missing_in_answer(region, &r.request_id, want))
            })
            .collect(),
        Err(e) if routes.len() > 1 && !e.is_outcome_unknown() => {
            join_all(
                routes
                    .into_iter()
                    .map(|r| create_one(client, region, table, r)),
            )
            .await
        }
        Err(e) if routes.len() == 1 => {
            vec![adopt_duplicate(client, region, table, &routes[0], e).await]
        }
        Err(e) => routes.iter().map(|_| Err(e.clone())).collect(),
    }
}

async fn create_one(
    client: &Client,
    region: &str,
    table: &str,
    route: Route,
) -> Result<CreatedRoute, ApiError> {
    let req = CreateRoutesRequest {
        route_table_id: table.to_string(),
        routes: vec![route.clone()],
    };
    match client.call::<CreateRoutes>(region, &req).await {
        Ok(r) => listed(&r.route_table_set, table, &route, &r.request_id)
            .ok_or_else(|| missing_in_answer(region, &r.request_id, &route)),
        Err(e) => adopt_duplicate(client, region, table, &route, e).await,
    }
}

/// An entry already there with the same destination and next hop is the one this create made
/// earlier (an answer lost, a state lost): it is adopted.
async fn adopt_duplicate(
    client: &Client,
    region: &str,
    table: &str,
    route: &Route,
    e: ApiError,
) -> Result<CreatedRoute, ApiError> {
    if e.code().map(|c| c.as_str()) != Some("InvalidParameterValue.Duplicate") {
        return Err(e);
    }
    let tables = client
        .describe_route_tables_by_ids(region, &[table.to_string()])
        .await?;
    let request_id = e.request_id.clone().unwrap_or_default();
    listed(&tables, table, route, &request_id).ok_or(e)
}

/// The entry of `table` in `tables` (a create's answer, or a read) with the destination and next
/// hop of `route`, as created.
fn listed(
    tables: &[RouteTable],
    table: &str,
    route: &Route,
    request_id: &str,
) -> Option<CreatedRoute> {
    tables
        .iter()
        .filter(|t| t.route_table_id == table)
        .find_map(|t| {
            let have = t.route_set.iter().find(|have| same_route(route, have))?;
            Some(CreatedRoute {
                route_id: have.route_id?,
                request_id: request_id.to_string(),
                observed: observe(t, have),
            })
        })
}

fn missing_in_answer(region: &str, request_id: &str, route: &Route) -> ApiError {
    ApiError {
        action: "CreateRoutes",
        region: region.to_string(),
        request_id: Some(request_id.to_string()),
        kind: tunnelform_tencent_api::ErrorKind::InvalidRequest {
            reason: format!(
                "the answer does not list the new route to {}",
                route.destination_cidr_block.as_deref().unwrap_or_default()
            ),
        },
        attempts: 1,
    }
}

/// Deletes `ids` of `table` in one call (falling back to one call each): the request id, or None
/// when the route was already gone.
async fn delete_many(
    client: &Client,
    region: &str,
    table: &str,
    ids: Vec<u64>,
) -> Vec<Result<Option<String>, ApiError>> {
    crate::coalesce::delete_batch(&ids, |ids| async move {
        let req = DeleteRoutesRequest {
            route_table_id: table.to_string(),
            routes: Some(
                ids.iter()
                    .map(|id| Route {
                        route_id: Some(*id),
                        ..Default::default()
                    })
                    .collect(),
            ),
        };
        client
            .call::<DeleteRoutes>(region, &req)
            .await
            .map(|r| r.request_id)
    })
    .await
}

/// The kind.
pub struct RouteTableEntryKind;

impl Kind for RouteTableEntryKind {
    fn type_name(&self) -> &'static str {
        "tencentcloud_route_table_entry"
    }

    fn id_prefix(&self) -> &'static str {
        "rti"
    }

    fn owns_id(&self, id: &str) -> bool {
        parse_id(id).is_some()
    }

    fn id_form(&self) -> String {
        "look like \"<route id>.<rtb-id>\" (\"12345.rtb-1a2b3c4d\")".to_string()
    }

    fn schema(&self) -> &'static BlockSchema {
        &SCHEMA
    }

    fn noun(&self) -> &'static str {
        "route"
    }

    fn region_hint(&self) -> RegionHint {
        RegionHint::Follows("route_table_id")
    }

    // CreateRoutes and DeleteRoutes take many entries of one table per call.
    fn batch_scope(&self) -> Option<&'static str> {
        Some("route_table_id")
    }

    fn check(&self, attrs: &Attrs) -> Vec<Problem> {
        let (Some(t), Some(hub)) = (get_str(attrs, "next_type"), get_str(attrs, "next_hub")) else {
            return Vec::new();
        };
        let prefix = match t.as_str() {
            "VPN" | "SSLVPN" => Some("vpngw"),
            "DIRECTCONNECT" => Some("dcg"),
            "PEERCONNECTION" => Some("pcx"),
            "HAVIP" => Some("havip"),
            "NAT" => Some("nat"),
            "LOCAL_GATEWAY" => Some("lgw"),
            "CCN" | "USER_CCN" => Some("ccn"),
            _ => None,
        };
        let ok = match (t.as_str(), prefix) {
            (_, Some(p)) => hub.starts_with(&format!("{p}-")),
            ("NORMAL_CVM" | "CVM", _) => crate::net::parse_ipv4(&hub).is_some(),
            ("EIP", _) => hub == "0",
            _ => true,
        };
        if ok {
            return Vec::new();
        }
        let want = match (t.as_str(), prefix) {
            (_, Some(p)) => format!("the id of the next hop ({p}-...)"),
            ("EIP", _) => "\"0\" (the instance's public address)".to_string(),
            _ => "the instance's private address in the VPC".to_string(),
        };
        vec![Problem::new(
            "next_hub",
            "Next hop does not match its type",
            format!("a {t} route's next_hub is {want}, not {hub:?}"),
        )]
    }

    fn plan_vpcs(&self, plan: &dyn PlanView) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for i in (0..plan.len()).filter(|&i| creates_entry(plan, i)) {
            if let Some(key) = vpc_key(plan, i) {
                out.entry(plan.region(i).to_string())
                    .or_default()
                    .insert(key);
            }
        }
        out
    }

    // CreateRoutes refuses a destination inside the table's VPC (InvalidParameterValue.VpcCidrConflict):
    // the VPC's own ranges are routed by its local route.
    fn check_plan_vpcs(
        &self,
        plan: &dyn PlanView,
        cidrs: &HashMap<String, Ipv4Net>,
    ) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for i in (0..plan.len()).filter(|&i| creates_entry(plan, i)) {
            let Some(key) = vpc_key(plan, i) else {
                continue;
            };
            let Some(vpc) = cidrs.get(&key) else {
                continue;
            };
            let Some(dest) = plan
                .value(i, "destination_cidr_block")
                .and_then(|v| v.as_str().and_then(|s| s.parse::<Ipv4Net>().ok()))
            else {
                continue;
            };
            if !vpc.contains(&dest) {
                continue;
            }
            let table = plan
                .value(i, "route_table_id")
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "its route table".to_string());
            let mut d = Diagnostic::error("Route destination inside the VPC")
                .with_detail(format!(
                    "{}: destination_cidr_block {dest} lies inside the VPC's CIDR {vpc} (of {table}); the VPC's own ranges follow its local route, and the API refuses the entry (InvalidParameterValue.VpcCidrConflict)",
                    plan.address(i)
                ))
                .with_help("route a range outside the VPC (the on-premises or peer network)");
            if let Some(span) = plan.span(i, "destination_cidr_block") {
                d.span = Some(span);
            }
            out.push(d);
        }
        out
    }

    fn check_together(&self, members: &[Member<'_>]) -> Vec<Conflict> {
        let mut first: HashMap<(String, String), usize> = HashMap::new();
        let mut out = Vec::new();
        for (i, m) in members.iter().enumerate() {
            let get = |k: &str| {
                m.attrs
                    .get(k)
                    .and_then(|v| v.unmarked().as_str().map(str::to_string))
            };
            let (Some(table), Some(dest)) = (get("route_table_id"), get("destination_cidr_block"))
            else {
                continue;
            };
            let key = (table.clone(), normalise_cidr(&dest));
            if let Some(&j) = first.get(&key) {
                out.push(Conflict {
                    at: Some((i, "destination_cidr_block".into())),
                    other: Some((j, "destination_cidr_block".into())),
                    summary: "Two routes for one destination in a route table".into(),
                    detail: format!(
                        "{} and {} both route {dest} in route table {table}, which holds one route per destination",
                        members[j].address, m.address
                    ),
                    help: Some("keep one of them, or put them in different route tables".into()),
                });
            } else {
                first.insert(key, i);
            }
        }
        out
    }

    // A table holds one route per destination: moving a destination to another next hop releases
    // it before claiming it again.
    fn claims(&self, attrs: &Attrs) -> Vec<Claim> {
        let (Some(table), Some(dest)) = (
            get_str(attrs, "route_table_id"),
            get_str(attrs, "destination_cidr_block"),
        ) else {
            return Vec::new();
        };
        vec![Claim {
            scope: format!("route table {table}"),
            held: Held::One {
                why: format!(
                    "route table {table} holds one route per destination, and both the new and the old route are for {dest}"
                ),
                key: normalise_cidr(&dest),
            },
        }]
    }

    fn read<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Observed>, ApiError>> {
        async move {
            let mut wanted: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
            for id in ids {
                if let Some((route, table)) = parse_id(id) {
                    wanted.entry(table).or_default().push(route);
                }
            }
            let tables: Vec<String> = wanted.keys().map(|t| t.to_string()).collect();
            let found = client.describe_route_tables_by_ids(region, &tables).await?;
            let mut out = Vec::new();
            for t in &found {
                let Some(routes) = wanted.get(t.route_table_id.as_str()) else {
                    continue;
                };
                for r in &t.route_set {
                    if r.route_id.is_some_and(|id| routes.contains(&id)) {
                        out.extend(observe(t, r));
                    }
                }
            }
            Ok(out)
        }
        .boxed()
    }

    fn create<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        attrs: &'a Attrs,
        _tags: Vec<Tag>,
    ) -> BoxFuture<'a, Result<Created, ApiError>> {
        async move {
            let table = get_str(attrs, "route_table_id").unwrap_or_default();
            let key = client_key(client, region, &table);
            let created = CREATES
                .submit(key, route_of(attrs), MAX_ROUTES_PER_CALL, |routes| {
                    create_many(client, region, &table, routes)
                })
                .await?;
            let mut observed = created.observed;
            // A disabled route is created, then disabled: the answer listed it enabled, so it is
            // read back.
            if get_bool(attrs, "disabled") == Some(true) {
                switch(client, region, &table, created.route_id, false).await?;
                observed = None;
            }
            Ok(Created {
                id: entry_id(created.route_id, &table),
                request_id: created.request_id,
                task_id: None,
                observed,
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
            if has(changed, "disabled") {
                if let Some((route, table)) = parse_id(id) {
                    let enable = get_bool(attrs, "disabled") != Some(true);
                    let request_id = switch(call.client, call.region, table, route, enable).await?;
                    call.sent(&request_id)?;
                }
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
            let Some((route, table)) = parse_id(id) else {
                return Ok(None);
            };
            let key = client_key(client, region, table);
            let deleted = DELETES
                .submit(key, route, MAX_ROUTES_PER_CALL, |ids| {
                    delete_many(client, region, table, ids)
                })
                .await?;
            Ok(deleted.map(|request_id| Deleted {
                request_id,
                task_id: None,
            }))
        }
        .boxed()
    }
}

async fn switch(
    client: &Client,
    region: &str,
    table: &str,
    route: u64,
    enable: bool,
) -> Result<String, ApiError> {
    let req = RouteSwitchRequest {
        route_table_id: table.to_string(),
        route_ids: Some(vec![route]),
        route_item_ids: None,
    };
    Ok(if enable {
        client.call::<EnableRoutes>(region, &req).await?.request_id
    } else {
        client.call::<DisableRoutes>(region, &req).await?.request_id
    })
}

/// A CIDR in its canonical text (for comparing destinations).
fn normalise_cidr(c: &str) -> String {
    c.parse::<ipnet::Ipv4Net>()
        .map(|n| n.trunc().to_string())
        .unwrap_or_else(|_| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelform_model::Address;

    #[test]
    fn ids_are_the_providers_form() {
        assert_eq!(
            parse_id("12345.rtb-1a2b3c4d"),
            Some((12345, "rtb-1a2b3c4d"))
        );
        for bad in [
            "rtb-1",
            "x.rtb-1",
            "12.vpc-1",
            "12.rtb-",
            "12",
            "12.rtb-a#b",
        ] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
        assert!(RouteTableEntryKind.owns_id("7.rtb-abc"));
        assert!(!RouteTableEntryKind.owns_id("rti-abc"));
    }

    fn attrs(pairs: &[(&str, &str)]) -> Attrs {
        pairs.iter().map(|(k, v)| (k.to_string(), s(v))).collect()
    }

    #[test]
    fn next_hop_must_match_its_type() {
        let k = RouteTableEntryKind;
        assert!(k
            .check(&attrs(&[("next_type", "VPN"), ("next_hub", "vpngw-1")]))
            .is_empty());
        assert_eq!(
            k.check(&attrs(&[("next_type", "VPN"), ("next_hub", "10.0.0.1")]))[0].path,
            "next_hub"
        );
        assert!(k
            .check(&attrs(&[
                ("next_type", "NORMAL_CVM"),
                ("next_hub", "10.0.0.1")
            ]))
            .is_empty());
        assert!(!k
            .check(&attrs(&[("next_type", "EIP"), ("next_hub", "1")]))
            .is_empty());
    }

    #[test]
    fn one_destination_per_table() {
        let a: Address = "tencentcloud_route_table_entry.a".parse().unwrap();
        let b: Address = "tencentcloud_route_table_entry.b".parse().unwrap();
        let x = attrs(&[
            ("route_table_id", "rtb-1"),
            ("destination_cidr_block", "192.168.0.0/24"),
        ]);
        let y = attrs(&[
            ("route_table_id", "rtb-1"),
            ("destination_cidr_block", "192.168.0.0/24"),
        ]);
        let z = attrs(&[
            ("route_table_id", "rtb-2"),
            ("destination_cidr_block", "192.168.0.0/24"),
        ]);
        let k = RouteTableEntryKind;
        let c = k.check_together(&[
            Member {
                address: &a,
                attrs: &x,
            },
            Member {
                address: &b,
                attrs: &y,
            },
        ]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].at, Some((1, "destination_cidr_block".into())));
        assert!(k
            .check_together(&[
                Member {
                    address: &a,
                    attrs: &x
                },
                Member {
                    address: &b,
                    attrs: &z
                },
            ])
            .is_empty());
        assert!(k.claims(&x)[0]
            .conflict(&k.claims(&y)[0], "route")
            .is_some());
        assert!(k.claims(&x)[0]
            .conflict(&k.claims(&z)[0], "route")
            .is_none());
    }
}
