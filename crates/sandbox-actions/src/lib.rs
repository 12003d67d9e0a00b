//! The sandbox's actions: a closed [`Action`] enum, the context handlers run in, the dispatcher, one
//! module per API object (VPCs, VPN gateways, customer gateways, tunnels, route tables, gateway routes,
//! tags, tasks, identity), the value rules they share ([`validate`]) and the error codes they answer
//! with ([`error`]). They change the emulated world (`tunnelform-sandbox-world`); the wire protocol that
//! calls them is `tunnelform-sandbox`'s.

pub mod error;
pub mod validate;

mod connection;
mod customer_gateway;
mod documented;
mod gateway;
mod gateway_route;
mod identity;
mod query;
mod route_table;
mod tag;
mod task;
mod vendor;
mod vpc;

use std::time::Duration;

use rand::rngs::StdRng;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{codes, ApiError, ApiResult};
use crate::world::World;
pub use tunnelform_sandbox_world::quotas::Quotas;
use tunnelform_sandbox_world::{self as world, clock};

/// The services served on one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Vpc,
    Tag,
    Sts,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Vpc => "vpc",
            Service::Tag => "tag",
            Service::Sts => "sts",
        }
    }

    /// The API version (`X-TC-Version`) of the service.
    pub fn version(self) -> &'static str {
        match self {
            Service::Vpc => "2017-03-12",
            Service::Tag | Service::Sts => "2018-08-13",
        }
    }

    /// The services of an API version (`tag` and `sts` share theirs), empty for an unknown one.
    pub fn of_version(version: &str) -> &'static [Service] {
        match version {
            "2017-03-12" => &[Service::Vpc],
            "2018-08-13" => &[Service::Tag, Service::Sts],
            _ => &[],
        }
    }
}

macro_rules! actions {
    ($($name:ident => $service:ident, $write:expr;)*) => {
        /// Every action the sandbox serves.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($name,)* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$name,)*];

            pub fn name(self) -> &'static str {
                match self { $(Action::$name => stringify!($name),)* }
            }

            pub fn service(self) -> Service {
                match self { $(Action::$name => Service::$service,)* }
            }

            /// Whether the action changes the world (and so is persisted before it is acknowledged).
            pub fn is_write(self) -> bool {
                match self { $(Action::$name => $write,)* }
            }
        }
    };
}

actions! {
    CreateVpc => Vpc, true;
    DescribeVpcs => Vpc, false;
    DeleteVpc => Vpc, true;
    CreateVpnGateway => Vpc, true;
    DescribeVpnGateways => Vpc, false;
    ModifyVpnGatewayAttribute => Vpc, true;
    ResetVpnGatewayInternetMaxBandwidth => Vpc, true;
    DeleteVpnGateway => Vpc, true;
    CreateCustomerGateway => Vpc, true;
    DescribeCustomerGateways => Vpc, false;
    ModifyCustomerGatewayAttribute => Vpc, true;
    DeleteCustomerGateway => Vpc, true;
    CreateVpnConnection => Vpc, true;
    DescribeVpnConnections => Vpc, false;
    ModifyVpnConnectionAttribute => Vpc, true;
    DeleteVpnConnection => Vpc, true;
    ResetVpnConnection => Vpc, true;
    DescribeVpcTaskResult => Vpc, false;
    GenerateVpnConnectionDefaultHealthCheckIp => Vpc, false;
    CreateRouteTable => Vpc, true;
    DeleteRouteTable => Vpc, true;
    DescribeRouteTables => Vpc, false;
    ModifyRouteTableAttribute => Vpc, true;
    CreateRoutes => Vpc, true;
    DeleteRoutes => Vpc, true;
    ReplaceRoutes => Vpc, true;
    EnableRoutes => Vpc, true;
    DisableRoutes => Vpc, true;
    CreateVpnGatewayRoutes => Vpc, true;
    DescribeVpnGatewayRoutes => Vpc, false;
    ModifyVpnGatewayRoutes => Vpc, true;
    DeleteVpnGatewayRoutes => Vpc, true;
    DescribeCustomerGatewayVendors => Vpc, false;
    DownloadCustomerGatewayConfiguration => Vpc, false;
    TagResources => Tag, true;
    UnTagResources => Tag, true;
    ModifyResourceTags => Tag, true;
    GetResources => Tag, false;
    DescribeResourceTagsByResourceIds => Tag, false;
    GetCallerIdentity => Sts, false;
}

impl Action {
    pub fn from_name(service: Service, name: &str) -> Option<Action> {
        Action::ALL
            .iter()
            .copied()
            .find(|a| a.service() == service && a.name() == name)
    }

    /// Looks an action up by name in either service.
    pub fn from_any_name(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }
}

/// Settings the handlers need.
#[derive(Debug, Clone)]
pub struct Settings {
    pub quotas: Quotas,
    /// The account of the world (its data file's, else the configured or a random one): what
    /// `GetCallerIdentity` answers and six-segment names carry.
    pub uin: String,
    pub task_latency: Duration,
    pub task_failure_rate: f64,
}

/// What a handler works with: the world (under the sandbox's lock), the seeded random generator, the
/// request's region, the time and the request id.
pub struct Ctx<'a> {
    pub world: &'a mut World,
    pub rng: &'a mut StdRng,
    pub region: &'a str,
    pub now_ms: i64,
    pub settings: &'a Settings,
    pub request_id: &'a str,
}

impl Ctx<'_> {
    /// Serialises a success response `{"Response":{...body, "RequestId"}}`.
    pub fn reply<T: Serialize>(&self, body: &T) -> ApiResult<Vec<u8>> {
        reply(self.request_id, body)
    }

    /// A response with nothing but the request id.
    pub fn reply_empty(&self) -> ApiResult<Vec<u8>> {
        #[derive(Serialize)]
        struct Empty {}
        self.reply(&Empty {})
    }

    /// A response with one member: `{"NAME": value}` (a created object, a removed set).
    pub fn reply_one<T: Serialize + ?Sized>(&self, name: &str, value: &T) -> ApiResult<Vec<u8>> {
        self.reply(&Members {
            total: None,
            name,
            value,
        })
    }

    /// A Describe* page: `{"TotalCount": total, "SET_NAME": page}`.
    pub fn reply_page<T: Serialize + ?Sized>(
        &self,
        set_name: &str,
        total: usize,
        page: &T,
    ) -> ApiResult<Vec<u8>> {
        reply_page(self.request_id, set_name, total, page)
    }

    pub fn task_latency_ms(&self) -> i64 {
        i64::try_from(self.settings.task_latency.as_millis()).unwrap_or(i64::MAX)
    }

    /// The time at which something started now finishes.
    pub fn deadline(&self) -> i64 {
        self.now_ms.saturating_add(self.task_latency_ms())
    }
}

/// A Describe* page: `{"TotalCount": total, "SET_NAME": page}`, in the envelope of [`reply`].
pub fn reply_page<T: Serialize + ?Sized>(
    request_id: &str,
    set_name: &str,
    total: usize,
    page: &T,
) -> ApiResult<Vec<u8>> {
    reply(
        request_id,
        &Members {
            total: Some(total),
            name: set_name,
            value: page,
        },
    )
}

/// A response body of a `TotalCount` (for pages) and one named member.
struct Members<'a, T: ?Sized> {
    total: Option<usize>,
    name: &'a str,
    value: &'a T,
}

impl<T: Serialize + ?Sized> Serialize for Members<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1 + usize::from(self.total.is_some())))?;
        if let Some(total) = self.total {
            m.serialize_entry("TotalCount", &total)?;
        }
        m.serialize_entry(self.name, self.value)?;
        m.end()
    }
}

/// Serialises `{"Response":{...body, "RequestId":"..."}}`. `body` must serialise to a JSON object (every
/// action's output struct does); its members are spliced into the envelope without a second pass.
pub fn reply<T: Serialize>(request_id: &str, body: &T) -> ApiResult<Vec<u8>> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"Response\":");
    serde_json::to_writer(&mut out, body)
        .map_err(|e| ApiError::internal(format!("cannot serialise the response: {e}")))?;
    if out.pop() != Some(b'}') {
        return Err(ApiError::internal("a response body is not a JSON object"));
    }
    if out.last() != Some(&b'{') {
        out.push(b',');
    }
    out.extend_from_slice(b"\"RequestId\":");
    serde_json::to_writer(&mut out, request_id)
        .map_err(|e| ApiError::internal(format!("cannot serialise the response: {e}")))?;
    out.extend_from_slice(b"}}");
    Ok(out)
}

/// Deserialises a (spec-validated) request body into the action's typed request.
pub fn parse<T: DeserializeOwned>(body: Map<String, Value>) -> ApiResult<T> {
    serde_json::from_value(Value::Object(body)).map_err(|e| {
        ApiError::new(
            codes::INVALID_PARAMETER,
            format!("The request parameters are invalid: {e}"),
        )
    })
}

/// Runs an action. The body has been validated against the spec.
pub fn dispatch(ctx: &mut Ctx<'_>, action: Action, body: Map<String, Value>) -> ApiResult<Vec<u8>> {
    run(ctx, action, body).map_err(|e| documented::conform(action, e))
}

fn run(ctx: &mut Ctx<'_>, action: Action, body: Map<String, Value>) -> ApiResult<Vec<u8>> {
    match action {
        Action::CreateVpc => vpc::create(ctx, parse(body)?),
        Action::DescribeVpcs => vpc::describe(ctx, parse(body)?),
        Action::DeleteVpc => vpc::delete(ctx, parse(body)?),
        Action::CreateVpnGateway => gateway::create(ctx, parse(body)?),
        Action::DescribeVpnGateways => gateway::describe(ctx, parse(body)?),
        Action::ModifyVpnGatewayAttribute => gateway::modify(ctx, parse(body)?),
        Action::ResetVpnGatewayInternetMaxBandwidth => gateway::reset_bandwidth(ctx, parse(body)?),
        Action::DeleteVpnGateway => gateway::delete(ctx, parse(body)?),
        Action::GenerateVpnConnectionDefaultHealthCheckIp => {
            gateway::generate_health_check_ip(ctx, parse(body)?)
        }
        Action::CreateCustomerGateway => customer_gateway::create(ctx, parse(body)?),
        Action::DescribeCustomerGateways => customer_gateway::describe(ctx, parse(body)?),
        Action::ModifyCustomerGatewayAttribute => customer_gateway::modify(ctx, parse(body)?),
        Action::DeleteCustomerGateway => customer_gateway::delete(ctx, parse(body)?),
        Action::CreateVpnConnection => connection::create(ctx, parse(body)?),
        Action::DescribeVpnConnections => connection::describe(ctx, parse(body)?),
        Action::ModifyVpnConnectionAttribute => connection::modify(ctx, parse(body)?),
        Action::DeleteVpnConnection => connection::delete(ctx, parse(body)?),
        Action::ResetVpnConnection => connection::reset(ctx, parse(body)?),
        Action::DescribeVpcTaskResult => task::describe(ctx, parse(body)?),
        Action::CreateRouteTable => route_table::create_table(ctx, parse(body)?),
        Action::DeleteRouteTable => route_table::delete_table(ctx, parse(body)?),
        Action::DescribeRouteTables => route_table::describe_tables(ctx, parse(body)?),
        Action::ModifyRouteTableAttribute => route_table::modify_table(ctx, parse(body)?),
        Action::CreateRoutes => route_table::create_routes(ctx, parse(body)?),
        Action::DeleteRoutes => route_table::delete_routes(ctx, parse(body)?),
        Action::ReplaceRoutes => route_table::replace_routes(ctx, parse(body)?),
        Action::EnableRoutes => route_table::switch_routes(ctx, parse(body)?, true),
        Action::DisableRoutes => route_table::switch_routes(ctx, parse(body)?, false),
        Action::CreateVpnGatewayRoutes => gateway_route::create(ctx, parse(body)?),
        Action::DescribeVpnGatewayRoutes => gateway_route::describe(ctx, parse(body)?),
        Action::ModifyVpnGatewayRoutes => gateway_route::modify(ctx, parse(body)?),
        Action::DeleteVpnGatewayRoutes => gateway_route::delete(ctx, parse(body)?),
        Action::DescribeCustomerGatewayVendors => vendor::describe_vendors(ctx, parse(body)?),
        Action::DownloadCustomerGatewayConfiguration => vendor::download(ctx, parse(body)?),
        Action::TagResources => tag::tag_resources(ctx, parse(body)?),
        Action::UnTagResources => tag::untag_resources(ctx, parse(body)?),
        Action::ModifyResourceTags => tag::modify_resource_tags(ctx, parse(body)?),
        Action::GetResources => tag::get_resources(ctx, parse(body)?),
        Action::DescribeResourceTagsByResourceIds => {
            tag::describe_resource_tags_by_resource_ids(ctx, parse(body)?)
        }
        Action::GetCallerIdentity => identity::get_caller_identity(ctx, parse(body)?),
    }
}

/// Checks that an id has the `<prefix>-` form, answering `code` (a `*.Malformed` code) otherwise.
pub fn check_id_format(param: &str, id: &str, prefix: &str, code: &'static str) -> ApiResult<()> {
    let well_formed = id
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
    if well_formed {
        Ok(())
    } else {
        Err(ApiError::new(
            code,
            format!("The value `{id}` of parameter `{param}` is not a valid {prefix} id."),
        ))
    }
}
