//! `tencentcloud_vpn_gateway_route`: a destination route of a VPN gateway, into one of its
//! route-based (`StaticRoute`) tunnels or into the cloud connect network. Its id is the provider's
//! `<vpngw-id>#<vpnr-id>` (import also takes the bare `vpnr-...`); only `status` changes in place.
//! Routes of one gateway are created and deleted many per call and read one paged
//! DescribeVpnGatewayRoutes per gateway.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use futures::future::{join_all, try_join_all, BoxFuture};
use futures::FutureExt;
use tunnelform_model::schema::{AttrSchema, AttrType as T, BlockSchema, Check as C};
use tunnelform_model::{Attrs, Diagnostic, Value};
use tunnelform_tencent_api::actions::{
    CreateVpnGatewayRoutes, DeleteVpnGatewayRoutes, ModifyVpnGatewayRoutes,
};
use tunnelform_tencent_api::vpc::{
    CreateVpnGatewayRoutesRequest, DeleteVpnGatewayRoutesRequest, ModifyVpnGatewayRoutesRequest,
    VpnGatewayRoute, VpnGatewayRouteModify,
};
use tunnelform_tencent_api::{ApiError, Client};

use crate::attrs::{changed as has, get_int, get_str, s};
use crate::coalesce::{client_key, Coalescer};
use crate::contract::{
    Call, CallError, Claim, Conflict, Created, Deleted, Held, Kind, Member, Observed, RegionHint,
};
use crate::plan_view::{PlanView, Step, Target};
use crate::registry::ResourceKind;
use crate::tags::Tag;

const STR: T = T::String;

/// At most this many routes per CreateVpnGatewayRoutes / DeleteVpnGatewayRoutes call.
pub const MAX_ROUTES_PER_CALL: usize = 100;

pub const SCHEMA: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("vpn_gateway_id", STR)
            .required()
            .force_new(),
        AttrSchema::new("destination_cidr_block", STR)
            .required()
            .force_new()
            .checks(&[C::Cidr]),
        AttrSchema::new("instance_type", STR)
            .required()
            .force_new()
            .checks(&[C::OneOf(&["VPNCONN", "CCN"])]),
        AttrSchema::new("instance_id", STR).required().force_new(),
        AttrSchema::new("priority", T::Int)
            .required()
            .force_new()
            .checks(&[C::IntOneOf(&[0, 100])]),
        AttrSchema::new("status", STR)
            .required()
            .checks(&[C::OneOf(&["ENABLE", "DISABLE"])]),
        AttrSchema::new("route_id", STR).read_only(),
        AttrSchema::new("type", STR).read_only(),
        AttrSchema::new("create_time", STR).read_only(),
        AttrSchema::new("update_time", STR).read_only(),
    ],
};

/// `(gateway, route)` of an id `<vpngw-id>#<vpnr-id>`; the gateway is None for a bare `vpnr-...`.
pub fn parse_id(id: &str) -> Option<(Option<&str>, &str)> {
    let well_formed = |s: &str, prefix: &str| {
        s.strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    match id.split_once('#') {
        Some((gw, route)) if well_formed(gw, "vpngw") && well_formed(route, "vpnr") => {
            Some((Some(gw), route))
        }
        None if well_formed(id, "vpnr") => Some((None, id)),
        _ => None,
    }
}

pub fn route_id(gateway: &str, route: &str) -> String {
    format!("{gateway}#{route}")
}

/// Attributes of a described gateway route.
pub fn observe(gateway: &str, r: &VpnGatewayRoute) -> Option<Observed> {
    let rid = r.route_id.as_deref()?;
    let mut a = Attrs::new();
    a.insert("vpn_gateway_id".into(), s(gateway));
    a.insert(
        "destination_cidr_block".into(),
        s(&r.destination_cidr_block),
    );
    a.insert("instance_type".into(), s(&r.instance_type));
    a.insert("instance_id".into(), s(&r.instance_id));
    a.insert("priority".into(), Value::int(r.priority));
    a.insert("status".into(), s(&r.status));
    a.insert("route_id".into(), s(rid));
    a.insert(
        "type".into(),
        s(r.route_type.as_deref().unwrap_or_default()),
    );
    a.insert(
        "create_time".into(),
        s(r.create_time.as_deref().unwrap_or_default()),
    );
    a.insert(
        "update_time".into(),
        s(r.update_time.as_deref().unwrap_or_default()),
    );
    Some(Observed {
        id: route_id(gateway, rid),
        attrs: a,
        ownership: Default::default(),
    })
}

fn route_of(a: &Attrs) -> VpnGatewayRoute {
    VpnGatewayRoute {
        destination_cidr_block: get_str(a, "destination_cidr_block").unwrap_or_default(),
        instance_type: get_str(a, "instance_type").unwrap_or_default(),
        instance_id: get_str(a, "instance_id").unwrap_or_default(),
        priority: get_int(a, "priority").unwrap_or(0),
        status: get_str(a, "status").unwrap_or_else(|| "ENABLE".into()),
        ..Default::default()
    }
}

fn same_route(want: &VpnGatewayRoute, have: &VpnGatewayRoute) -> bool {
    want.destination_cidr_block == have.destination_cidr_block
        && want.instance_type == have.instance_type
        && want.instance_id == have.instance_id
}

/// A route created (or adopted): its id, the request's id, and the route as the answer lists it.
#[derive(Debug, Clone)]
struct CreatedRoute {
    route_id: String,
    request_id: String,
    observed: Option<Observed>,
}

/// The route of `gateway` in `routes` (a create's answer, or a read) to the destination of
/// `want` through its instance, as created.
fn listed(
    gateway: &str,
    routes: &[VpnGatewayRoute],
    want: &VpnGatewayRoute,
    request_id: &str,
) -> Option<CreatedRoute> {
    let have = routes.iter().find(|have| same_route(want, have))?;
    Some(CreatedRoute {
        route_id: have.route_id.clone()?,
        request_id: request_id.to_string(),
        observed: observe(gateway, have),
    })
}

static CREATES: LazyLock<Coalescer<VpnGatewayRoute, CreatedRoute>> =
    LazyLock::new(Coalescer::default);
static DELETES: LazyLock<Coalescer<String, Option<String>>> = LazyLock::new(Coalescer::default);

async fn create_many(
    client: &Client,
    region: &str,
    gateway: &str,
    routes: Vec<VpnGatewayRoute>,
) -> Vec<Result<CreatedRoute, ApiError>> {
    let req = |routes: Vec<VpnGatewayRoute>| CreateVpnGatewayRoutesRequest {
        vpn_gateway_id: gateway.to_string(),
        routes,
    };
    let answer = |want: &VpnGatewayRoute,
                  r: &tunnelform_tencent_api::vpc::VpnGatewayRoutesResponse| {
        listed(gateway, &r.routes, want, &r.request_id)
    };
    match client
        .call::<CreateVpnGatewayRoutes>(region, &req(routes.clone()))
        .await
    {
        Ok(r) => routes
            .iter()
            .map(|want| answer(want, &r).ok_or_else(|| not_listed(region, &r.request_id)))
            .collect(),
        Err(e) if routes.len() > 1 && !e.is_outcome_unknown() => {
            join_all(routes.into_iter().map(|route| async move {
                match client
                    .call::<CreateVpnGatewayRoutes>(region, &req(vec![route.clone()]))
                    .await
                {
                    Ok(r) => answer(&route, &r).ok_or_else(|| not_listed(region, &r.request_id)),
                    Err(e) => adopt_duplicate(client, region, gateway, &route, e).await,
                }
            }))
            .await
        }
        Err(e) if routes.len() == 1 => {
            vec![adopt_duplicate(client, region, gateway, &routes[0], e).await]
        }
        Err(e) => routes.iter().map(|_| Err(e.clone())).collect(),
    }
}

/// A route already there to the same destination through the same instance is the one an earlier
/// create made (its answer or the state lost): it is adopted.
async fn adopt_duplicate(
    client: &Client,
    region: &str,
    gateway: &str,
    route: &VpnGatewayRoute,
    e: ApiError,
) -> Result<CreatedRoute, ApiError> {
    if e.code().map(|c| c.as_str()) != Some("InvalidParameterValue.VpnGatewayRouteDuplicate") {
        return Err(e);
    }
    let routes = client.describe_vpn_gateway_routes(region, gateway).await?;
    let request_id = e.request_id.clone().unwrap_or_default();
    listed(gateway, &routes, route, &request_id).ok_or(e)
}

fn not_listed(region: &str, request_id: &str) -> ApiError {
    ApiError {
        action: "CreateVpnGatewayRoutes",
        region: region.to_string(),
        request_id: Some(request_id.to_string()),
        kind: tunnelform_tencent_api::ErrorKind::InvalidRequest {
            reason: "the answer does not list the new route".into(),
        },
        attempts: 1,
    }
}

async fn delete_many(
    client: &Client,
    region: &str,
    gateway: &str,
    ids: Vec<String>,
) -> Vec<Result<Option<String>, ApiError>> {
    crate::coalesce::delete_batch(&ids, |route_ids| async move {
        let req = DeleteVpnGatewayRoutesRequest {
            vpn_gateway_id: gateway.to_string(),
            route_ids,
        };
        client
            .call::<DeleteVpnGatewayRoutes>(region, &req)
            .await
            .map(|r| r.request_id)
    })
    .await
}

/// The kind.
pub struct VpnGatewayRouteKind;

impl Kind for VpnGatewayRouteKind {
    fn type_name(&self) -> &'static str {
        "tencentcloud_vpn_gateway_route"
    }

    fn id_prefix(&self) -> &'static str {
        "vpnr"
    }

    fn owns_id(&self, id: &str) -> bool {
        parse_id(id).is_some()
    }

    fn id_form(&self) -> String {
        "look like \"<vpngw-id>#<vpnr-id>\" (\"vpngw-1a2b3c4d#vpnr-5e6f7a8b\")".to_string()
    }

    fn schema(&self) -> &'static BlockSchema {
        &SCHEMA
    }

    fn noun(&self) -> &'static str {
        "gateway route"
    }

    fn region_hint(&self) -> RegionHint {
        RegionHint::Follows("vpn_gateway_id")
    }

    // CreateVpnGatewayRoutes and DeleteVpnGatewayRoutes take many routes of one gateway per call.
    fn batch_scope(&self) -> Option<&'static str> {
        Some("vpn_gateway_id")
    }

    // CreateVpnGatewayRoutes sends a destination into a tunnel only when the tunnel is
    // route-based: a route to a policy-based or BGP tunnel of the configuration is refused here.
    fn check_plan(&self, plan: &dyn PlanView) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for i in 0..plan.len() {
            if plan.kind(i) != Some(ResourceKind::VpnGatewayRoute)
                || !matches!(plan.step(i), Step::Create | Step::Replace)
                || plan
                    .value(i, "instance_type")
                    .as_ref()
                    .and_then(Value::as_str)
                    != Some("VPNCONN")
            {
                continue;
            }
            let Some(Target::Planned(t)) =
                plan.target(i, "instance_id", ResourceKind::VpnConnection)
            else {
                continue;
            };
            let Some(route_type) = plan
                .value(t, "route_type")
                .and_then(|v| v.as_str().map(str::to_string))
            else {
                continue;
            };
            if route_type == "StaticRoute" {
                continue;
            }
            let mut d = Diagnostic::error("VPN gateway route into a tunnel that is not route-based")
                .with_detail(format!(
                    "{} sends {} into {}, whose route_type is \"{route_type}\"; a VPN gateway's destination routes go into route-based tunnels only (the API refuses it: UnsupportedOperation)",
                    plan.address(i),
                    plan.value(i, "destination_cidr_block")
                        .as_ref()
                        .and_then(Value::as_str)
                        .unwrap_or("its destination"),
                    plan.address(t)
                ))
                .with_help(format!(
                    "set route_type = \"StaticRoute\" on {} (that replaces the tunnel), or route through another tunnel",
                    plan.address(t)
                ));
            if let Some(span) = plan.span(i, "instance_id") {
                d.span = Some(span);
            }
            out.push(d);
        }
        out
    }

    fn check_together(&self, members: &[Member<'_>]) -> Vec<Conflict> {
        let mut first: HashMap<(String, String, String), usize> = HashMap::new();
        let mut out = Vec::new();
        for (i, m) in members.iter().enumerate() {
            let get = |k: &str| {
                m.attrs
                    .get(k)
                    .and_then(|v| v.unmarked().as_str().map(str::to_string))
            };
            let (Some(gw), Some(dest), Some(inst)) = (
                get("vpn_gateway_id"),
                get("destination_cidr_block"),
                get("instance_id"),
            ) else {
                continue;
            };
            let key = (gw.clone(), dest.clone(), inst.clone());
            if let Some(&j) = first.get(&key) {
                out.push(Conflict {
                    at: Some((i, "destination_cidr_block".into())),
                    other: Some((j, "destination_cidr_block".into())),
                    summary: "Duplicate VPN gateway route".into(),
                    detail: format!(
                        "{} and {} both route {dest} through {inst} on VPN gateway {gw}",
                        members[j].address, m.address
                    ),
                    help: Some("a gateway takes one route per destination and next hop; for a backup path, route the destination through another tunnel at priority 100".into()),
                });
            } else {
                first.insert(key, i);
            }
        }
        out
    }

    fn claims(&self, attrs: &Attrs) -> Vec<Claim> {
        let (Some(gw), Some(dest), Some(inst)) = (
            get_str(attrs, "vpn_gateway_id"),
            get_str(attrs, "destination_cidr_block"),
            get_str(attrs, "instance_id"),
        ) else {
            return Vec::new();
        };
        vec![Claim {
            scope: format!("VPN gateway {gw}"),
            held: Held::One {
                why: format!("VPN gateway {gw} takes one route to {dest} through {inst}, and both the new and the old route are that one"),
                key: format!("{dest} via {inst}"),
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
            let mut by_gw: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            let mut bare: Vec<&str> = Vec::new();
            for id in ids {
                match parse_id(id) {
                    Some((Some(gw), route)) => by_gw.entry(gw.to_string()).or_default().push(route),
                    Some((None, route)) => bare.push(route),
                    None => {}
                }
            }
            let mut gateways: Vec<String> = by_gw.keys().cloned().collect();
            if !bare.is_empty() {
                // A bare route id (an import) names no gateway: every gateway of the region is asked.
                let all = client.describe_vpn_gateways_by_filters(region, &[]).await?;
                gateways = all.into_iter().map(|g| g.vpn_gateway_id).collect();
            }
            let found = client
                .describe_vpn_gateway_routes_of(region, &gateways)
                .await?;
            let mut out = Vec::new();
            for (gw, routes) in &found {
                let wanted = by_gw.get(gw);
                for r in routes {
                    let Some(rid) = r.route_id.as_deref() else {
                        continue;
                    };
                    if wanted.is_some_and(|w| w.contains(&rid)) || bare.contains(&rid) {
                        out.extend(observe(gw, r));
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
            let gw = get_str(attrs, "vpn_gateway_id").unwrap_or_default();
            let key = client_key(client, region, &gw);
            let created = CREATES
                .submit(key, route_of(attrs), MAX_ROUTES_PER_CALL, |routes| {
                    create_many(client, region, &gw, routes)
                })
                .await?;
            Ok(Created {
                id: route_id(&gw, &created.route_id),
                request_id: created.request_id,
                task_id: None,
                observed: created.observed,
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
            if has(changed, "status") {
                if let Some((Some(gw), rid)) = parse_id(id) {
                    let req = ModifyVpnGatewayRoutesRequest {
                        vpn_gateway_id: gw.to_string(),
                        routes: vec![VpnGatewayRouteModify {
                            route_id: rid.to_string(),
                            status: get_str(attrs, "status"),
                            description: None,
                        }],
                    };
                    let r = call
                        .client
                        .call::<ModifyVpnGatewayRoutes>(call.region, &req)
                        .await?;
                    call.sent(&r.request_id)?;
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
            let Some((Some(gw), rid)) = parse_id(id) else {
                return Ok(None);
            };
            let key = client_key(client, region, gw);
            let deleted = DELETES
                .submit(key, rid.to_string(), MAX_ROUTES_PER_CALL, |ids| {
                    delete_many(client, region, gw, ids)
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

/// Every route of these gateways, by gateway (for the data sources and tests).
pub async fn routes_of(
    client: &Client,
    region: &str,
    gateways: &[String],
) -> Result<Vec<Observed>, ApiError> {
    let found = try_join_all(gateways.iter().map(|gw| async move {
        let routes = client.describe_vpn_gateway_routes(region, gw).await?;
        Ok::<_, ApiError>(
            routes
                .iter()
                .filter_map(|r| observe(gw, r))
                .collect::<Vec<_>>(),
        )
    }))
    .await?;
    Ok(found.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_take_the_providers_form_or_a_bare_route_id() {
        assert_eq!(
            parse_id("vpngw-1a2b#vpnr-3c4d"),
            Some((Some("vpngw-1a2b"), "vpnr-3c4d"))
        );
        assert_eq!(parse_id("vpnr-3c4d"), Some((None, "vpnr-3c4d")));
        for bad in [
            "vpngw-1",
            "vpngw-1#",
            "#vpnr-1",
            "vpnx-1#vpnr-1",
            "vpnr-",
            "vpngw-1#vpnr-1#x",
        ] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
        // Not a VPN gateway's id.
        assert!(!crate::vpn_gateway::VpnGatewayKind.owns_id("vpngw-1#vpnr-1"));
        assert_eq!(
            crate::ResourceKind::of_id("vpngw-1#vpnr-1"),
            Some(crate::ResourceKind::VpnGatewayRoute)
        );
    }
}
