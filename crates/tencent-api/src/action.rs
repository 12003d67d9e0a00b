//! The actions the client knows: one zero-sized type per action, tying its name, service, kind and
//! request/response types together.

use crate::{sts, tag, vpc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;

/// A Tencent Cloud API service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// `vpc`, version 2017-03-12.
    Vpc,
    /// `tag`, version 2018-08-13.
    Tag,
    /// `sts`, version 2018-08-13 (only `GetCallerIdentity`).
    Sts,
}

impl Service {
    /// The service name used in the credential scope and the default host (`vpc`, `tag`, `sts`).
    pub const fn name(self) -> &'static str {
        match self {
            Service::Vpc => "vpc",
            Service::Tag => "tag",
            Service::Sts => "sts",
        }
    }

    /// The `X-TC-Version` of the service.
    pub const fn version(self) -> &'static str {
        match self {
            Service::Vpc => "2017-03-12",
            Service::Tag | Service::Sts => "2018-08-13",
        }
    }

    /// Tencent's public endpoint of the service.
    pub const fn default_endpoint(self) -> &'static str {
        match self {
            Service::Vpc => "https://vpc.tencentcloudapi.com/",
            Service::Tag => "https://tag.tencentcloudapi.com/",
            Service::Sts => "https://sts.tencentcloudapi.com/",
        }
    }

    /// Whether rate limits of this service are per region (vpc) or global (tag, sts).
    pub const fn is_regional(self) -> bool {
        matches!(self, Service::Vpc)
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether an action only reads (always safe to repeat) or changes something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Read,
    Write,
}

/// An API action. Implemented by one zero-sized type per action (see the types in this module).
pub trait Action: Send + Sync + 'static {
    /// The action name, the `X-TC-Action` header.
    const NAME: &'static str;
    const SERVICE: Service;
    const KIND: ActionKind;
    type Request: Serialize + Send + Sync;
    type Response: DeserializeOwned + Send;
}

macro_rules! actions {
    ($( $(#[$doc:meta])* $name:ident: $service:ident, $kind:ident, $module:ident :: $req:ident => $resp:ident; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
            pub struct $name;

            impl Action for $name {
                const NAME: &'static str = stringify!($name);
                const SERVICE: Service = Service::$service;
                const KIND: ActionKind = ActionKind::$kind;
                type Request = $module::$req;
                type Response = $module::$resp;
            }
        )*

        /// Every action this crate knows: (name, service, kind).
        pub const ALL_ACTIONS: &[(&str, Service, ActionKind)] = &[
            $( (stringify!($name), Service::$service, ActionKind::$kind), )*
        ];
    };
}

actions! {
    /// Asynchronous: confirm with `DescribeVpcTaskResult` (task id = the response's `RequestId`).
    CreateVpnConnection: Vpc, Write, vpc::CreateVpnConnectionRequest => CreateVpnConnectionResponse;
    DescribeVpnConnections: Vpc, Read, vpc::DescribeVpnConnectionsRequest => DescribeVpnConnectionsResponse;
    ModifyVpnConnectionAttribute: Vpc, Write, vpc::ModifyVpnConnectionAttributeRequest => ModifyVpnConnectionAttributeResponse;
    /// Asynchronous: confirm with `DescribeVpcTaskResult` (task id = the response's `RequestId`).
    DeleteVpnConnection: Vpc, Write, vpc::DeleteVpnConnectionRequest => DeleteVpnConnectionResponse;
    /// Renegotiates a tunnel (documented limit: 100 requests/s). Returns no task: the tunnel's
    /// `NetStatus` shows when it is back.
    ResetVpnConnection: Vpc, Write, vpc::ResetVpnConnectionRequest => ResetVpnConnectionResponse;
    CreateVpnGateway: Vpc, Write, vpc::CreateVpnGatewayRequest => CreateVpnGatewayResponse;
    DescribeVpnGateways: Vpc, Read, vpc::DescribeVpnGatewaysRequest => DescribeVpnGatewaysResponse;
    ModifyVpnGatewayAttribute: Vpc, Write, vpc::ModifyVpnGatewayAttributeRequest => ModifyVpnGatewayAttributeResponse;
    ResetVpnGatewayInternetMaxBandwidth: Vpc, Write, vpc::ResetVpnGatewayInternetMaxBandwidthRequest => ResetVpnGatewayInternetMaxBandwidthResponse;
    DeleteVpnGateway: Vpc, Write, vpc::DeleteVpnGatewayRequest => DeleteVpnGatewayResponse;
    CreateCustomerGateway: Vpc, Write, vpc::CreateCustomerGatewayRequest => CreateCustomerGatewayResponse;
    DescribeCustomerGateways: Vpc, Read, vpc::DescribeCustomerGatewaysRequest => DescribeCustomerGatewaysResponse;
    ModifyCustomerGatewayAttribute: Vpc, Write, vpc::ModifyCustomerGatewayAttributeRequest => ModifyCustomerGatewayAttributeResponse;
    DeleteCustomerGateway: Vpc, Write, vpc::DeleteCustomerGatewayRequest => DeleteCustomerGatewayResponse;
    DescribeVpcTaskResult: Vpc, Read, vpc::DescribeVpcTaskResultRequest => DescribeVpcTaskResultResponse;
    CreateVpc: Vpc, Write, vpc::CreateVpcRequest => CreateVpcResponse;
    DescribeVpcs: Vpc, Read, vpc::DescribeVpcsRequest => DescribeVpcsResponse;
    DeleteVpc: Vpc, Write, vpc::DeleteVpcRequest => DeleteVpcResponse;
    CreateRouteTable: Vpc, Write, vpc::CreateRouteTableRequest => CreateRouteTableResponse;
    DeleteRouteTable: Vpc, Write, vpc::DeleteRouteTableRequest => DeleteRouteTableResponse;
    DescribeRouteTables: Vpc, Read, vpc::DescribeRouteTablesRequest => DescribeRouteTablesResponse;
    ModifyRouteTableAttribute: Vpc, Write, vpc::ModifyRouteTableAttributeRequest => ModifyRouteTableAttributeResponse;
    /// Many entries of one table per call.
    CreateRoutes: Vpc, Write, vpc::CreateRoutesRequest => CreateRoutesResponse;
    DeleteRoutes: Vpc, Write, vpc::DeleteRoutesRequest => DeleteRoutesResponse;
    ReplaceRoutes: Vpc, Write, vpc::ReplaceRoutesRequest => ReplaceRoutesResponse;
    EnableRoutes: Vpc, Write, vpc::EnableRoutesRequest => EnableRoutesResponse;
    DisableRoutes: Vpc, Write, vpc::DisableRoutesRequest => DisableRoutesResponse;
    /// Many routes of one gateway per call.
    CreateVpnGatewayRoutes: Vpc, Write, vpc::CreateVpnGatewayRoutesRequest => CreateVpnGatewayRoutesResponse;
    DescribeVpnGatewayRoutes: Vpc, Read, vpc::DescribeVpnGatewayRoutesRequest => DescribeVpnGatewayRoutesResponse;
    ModifyVpnGatewayRoutes: Vpc, Write, vpc::ModifyVpnGatewayRoutesRequest => ModifyVpnGatewayRoutesResponse;
    DeleteVpnGatewayRoutes: Vpc, Write, vpc::DeleteVpnGatewayRoutesRequest => DeleteVpnGatewayRoutesResponse;
    DescribeCustomerGatewayVendors: Vpc, Read, vpc::DescribeCustomerGatewayVendorsRequest => DescribeCustomerGatewayVendorsResponse;
    /// Only reads, but its answer holds the tunnel's pre-shared key.
    DownloadCustomerGatewayConfiguration: Vpc, Read, vpc::DownloadCustomerGatewayConfigurationRequest => DownloadCustomerGatewayConfigurationResponse;
    TagResources: Tag, Write, tag::TagResourcesRequest => TagResourcesResponse;
    UnTagResources: Tag, Write, tag::UnTagResourcesRequest => UnTagResourcesResponse;
    ModifyResourceTags: Tag, Write, tag::ModifyResourceTagsRequest => ModifyResourceTagsResponse;
    GetResources: Tag, Read, tag::GetResourcesRequest => GetResourcesResponse;
    DescribeResourceTagsByResourceIds: Tag, Read, tag::DescribeResourceTagsByResourceIdsRequest => DescribeResourceTagsByResourceIdsResponse;
    /// Which account the credentials belong to (documented limit: 20 requests/s).
    GetCallerIdentity: Sts, Read, sts::GetCallerIdentityRequest => GetCallerIdentityResponse;
}
