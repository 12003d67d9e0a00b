//! Route tables, route entries, VPN gateway routes and the customer-gateway configuration actions
//! (from `vpc-route-api.json` and the VPN gateway route actions of `vpc-vpn-api.json`), with the
//! conventions of the parent module: required request members plain, optional ones `Option`;
//! response members plain and defaulted when missing or `null`.

use super::{Filter, Tag};
use serde::{Deserialize, Serialize};

/// `Route` (路由策略对象): a route table entry. As a request member only the fields an action
/// names are sent (DeleteRoutes: `RouteId` alone), so every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// IPv4 destination; may not lie inside the VPC's range.
    #[serde(
        rename = "DestinationCidrBlock",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_cidr_block: Option<String>,
    /// Next hop type: `CVM`, `VPN`, `DIRECTCONNECT`, `PEERCONNECTION`, `HAVIP`, `NAT`,
    /// `NORMAL_CVM`, `EIP`, `LOCAL_GATEWAY`, `CCN`, ...
    #[serde(
        rename = "GatewayType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub gateway_type: Option<String>,
    /// Next hop id (`NORMAL_CVM`: the instance's private address; `EIP`: `0`).
    #[serde(rename = "GatewayId", default, skip_serializing_if = "Option::is_none")]
    pub gateway_id: Option<String>,
    /// Numeric route id (IPv4), needed by delete when `RouteItemId` is not given.
    #[serde(rename = "RouteId", default, skip_serializing_if = "Option::is_none")]
    pub route_id: Option<u64>,
    #[serde(
        rename = "RouteDescription",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub route_description: Option<String>,
    /// Output only.
    #[serde(rename = "Enabled", default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `USER`, `NETD` (system), `CCN` (system): only `USER` routes can be changed.
    #[serde(rename = "RouteType", default, skip_serializing_if = "Option::is_none")]
    pub route_type: Option<String>,
    #[serde(
        rename = "RouteTableId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub route_table_id: Option<String>,
    #[serde(
        rename = "DestinationIpv6CidrBlock",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_ipv6_cidr_block: Option<String>,
    /// The unique string id (`rti-...`).
    #[serde(
        rename = "RouteItemId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub route_item_id: Option<String>,
    #[serde(
        rename = "PublishedToVbc",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub published_to_vbc: Option<bool>,
    #[serde(
        rename = "CreatedTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_time: Option<String>,
    #[serde(rename = "CdcId", default, skip_serializing_if = "Option::is_none")]
    pub cdc_id: Option<String>,
}

/// `RouteTableAssociation` (路由表关联关系).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteTableAssociation {
    #[serde(
        rename = "SubnetId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub subnet_id: String,
    #[serde(
        rename = "RouteTableId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub route_table_id: String,
}

/// `RouteTable` (路由表对象).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteTable {
    #[serde(
        rename = "VpcId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpc_id: String,
    #[serde(
        rename = "RouteTableId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub route_table_id: String,
    #[serde(
        rename = "RouteTableName",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub route_table_name: String,
    #[serde(
        rename = "AssociationSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub association_set: Vec<RouteTableAssociation>,
    #[serde(
        rename = "RouteSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub route_set: Vec<Route>,
    /// Whether this is the VPC's default route table.
    #[serde(rename = "Main", default, deserialize_with = "crate::de::null_default")]
    pub main: bool,
    #[serde(
        rename = "CreatedTime",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub created_time: String,
    #[serde(
        rename = "TagSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub tag_set: Vec<Tag>,
    /// Whether the local routes are published to the cloud connect network.
    #[serde(
        rename = "LocalCidrForCcn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub local_cidr_for_ccn: Option<Vec<CidrForCcn>>,
}

/// `CidrForCcn`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CidrForCcn {
    #[serde(rename = "Cidr", default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
    #[serde(
        rename = "PublishedToVbc",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub published_to_vbc: Option<bool>,
}

/// `CreateRouteTableRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateRouteTableRequest {
    #[serde(rename = "VpcId")]
    pub vpc_id: String,
    /// At most 60 bytes.
    #[serde(rename = "RouteTableName")]
    pub route_table_name: String,
    #[serde(rename = "Tags", default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

/// `CreateRouteTableResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateRouteTableResponse {
    #[serde(
        rename = "RouteTable",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub route_table: RouteTable,
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `DeleteRouteTableRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteRouteTableRequest {
    #[serde(rename = "RouteTableId")]
    pub route_table_id: String,
}

/// A response with nothing but its request id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestIdOnly {
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

pub type DeleteRouteTableResponse = RequestIdOnly;
pub type ModifyRouteTableAttributeResponse = RequestIdOnly;
pub type EnableRoutesResponse = RequestIdOnly;
pub type DisableRoutesResponse = RequestIdOnly;
pub type DeleteVpnGatewayRoutesResponse = RequestIdOnly;

/// `DescribeRouteTablesRequest`: ids xor filters (`route-table-id`, `route-table-name`,
/// `vpc-id`, `association.main`, `tag-key`, `tag:<key>`, ...); `Offset`/`Limit` are strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeRouteTablesRequest {
    #[serde(rename = "Filters", default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(
        rename = "RouteTableIds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub route_table_ids: Option<Vec<String>>,
    #[serde(rename = "Offset", default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
    /// Default 20, at most 100.
    #[serde(rename = "Limit", default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    #[serde(
        rename = "NeedRouterInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub need_router_info: Option<bool>,
}

/// `DescribeRouteTablesResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeRouteTablesResponse {
    #[serde(
        rename = "TotalCount",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub total_count: u64,
    #[serde(
        rename = "RouteTableSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub route_table_set: Vec<RouteTable>,
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `ModifyRouteTableAttributeRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModifyRouteTableAttributeRequest {
    #[serde(rename = "RouteTableId")]
    pub route_table_id: String,
    #[serde(rename = "RouteTableName")]
    pub route_table_name: String,
}

/// `CreateRoutesRequest`: many entries of one table in one call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateRoutesRequest {
    #[serde(rename = "RouteTableId")]
    pub route_table_id: String,
    #[serde(rename = "Routes")]
    pub routes: Vec<Route>,
}

/// `CreateRoutesResponse`: the table with its entries (the new ones among them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateRoutesResponse {
    #[serde(
        rename = "TotalCount",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub total_count: u64,
    #[serde(
        rename = "RouteTableSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub route_table_set: Vec<RouteTable>,
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `DeleteRoutesRequest`: entries by `RouteId` (or `RouteItemId`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteRoutesRequest {
    #[serde(rename = "RouteTableId")]
    pub route_table_id: String,
    #[serde(rename = "Routes", default, skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<Route>>,
}

/// `DeleteRoutesResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteRoutesResponse {
    #[serde(
        rename = "RouteSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub route_set: Vec<Route>,
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `ReplaceRoutesRequest`: entries named by `RouteId` take new values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplaceRoutesRequest {
    #[serde(rename = "RouteTableId")]
    pub route_table_id: String,
    #[serde(rename = "Routes")]
    pub routes: Vec<Route>,
}

/// `ReplaceRoutesResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplaceRoutesResponse {
    #[serde(
        rename = "OldRouteSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub old_route_set: Vec<Route>,
    #[serde(
        rename = "NewRouteSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub new_route_set: Vec<Route>,
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `EnableRoutesRequest` / `DisableRoutesRequest`: `RouteIds` xor `RouteItemIds`, at most 100.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteSwitchRequest {
    #[serde(rename = "RouteTableId")]
    pub route_table_id: String,
    #[serde(rename = "RouteIds", default, skip_serializing_if = "Option::is_none")]
    pub route_ids: Option<Vec<u64>>,
    #[serde(
        rename = "RouteItemIds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub route_item_ids: Option<Vec<String>>,
}

pub type EnableRoutesRequest = RouteSwitchRequest;
pub type DisableRoutesRequest = RouteSwitchRequest;

/// `VpnGatewayRoute` (VPN网关目的路由).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpnGatewayRoute {
    #[serde(
        rename = "DestinationCidrBlock",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub destination_cidr_block: String,
    /// `VPNCONN` or `CCN`.
    #[serde(
        rename = "InstanceType",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub instance_type: String,
    #[serde(
        rename = "InstanceId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub instance_id: String,
    /// 0 or 100.
    #[serde(
        rename = "Priority",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub priority: i64,
    /// `ENABLE` or `DISABLE`.
    #[serde(
        rename = "Status",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub status: String,
    /// `vpnr-...` (output).
    #[serde(rename = "RouteId", default, skip_serializing_if = "Option::is_none")]
    pub route_id: Option<String>,
    /// `VPC`, `CCN`, `Static`, `BGP` (output).
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub route_type: Option<String>,
    #[serde(
        rename = "CreateTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub create_time: Option<String>,
    #[serde(
        rename = "UpdateTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub update_time: Option<String>,
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
}

/// `VpnGatewayRouteModify`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpnGatewayRouteModify {
    #[serde(rename = "RouteId")]
    pub route_id: String,
    #[serde(rename = "Status", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
}

/// `CreateVpnGatewayRoutesRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateVpnGatewayRoutesRequest {
    #[serde(rename = "VpnGatewayId")]
    pub vpn_gateway_id: String,
    #[serde(rename = "Routes")]
    pub routes: Vec<VpnGatewayRoute>,
}

/// The answer of Create/ModifyVpnGatewayRoutes: the routes as they now are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpnGatewayRoutesResponse {
    #[serde(
        rename = "Routes",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub routes: Vec<VpnGatewayRoute>,
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

pub type CreateVpnGatewayRoutesResponse = VpnGatewayRoutesResponse;
pub type ModifyVpnGatewayRoutesResponse = VpnGatewayRoutesResponse;

/// `DescribeVpnGatewayRoutesRequest`: filters `DestinationCidr`, `InstanceId`, `InstanceType`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeVpnGatewayRoutesRequest {
    #[serde(rename = "VpnGatewayId")]
    pub vpn_gateway_id: String,
    #[serde(rename = "Filters", default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(rename = "Offset", default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Default 20, at most 100.
    #[serde(rename = "Limit", default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// `DescribeVpnGatewayRoutesResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeVpnGatewayRoutesResponse {
    #[serde(
        rename = "Routes",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub routes: Vec<VpnGatewayRoute>,
    #[serde(
        rename = "TotalCount",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub total_count: u64,
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `ModifyVpnGatewayRoutesRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModifyVpnGatewayRoutesRequest {
    #[serde(rename = "VpnGatewayId")]
    pub vpn_gateway_id: String,
    #[serde(rename = "Routes")]
    pub routes: Vec<VpnGatewayRouteModify>,
}

/// `DeleteVpnGatewayRoutesRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteVpnGatewayRoutesRequest {
    #[serde(rename = "VpnGatewayId")]
    pub vpn_gateway_id: String,
    #[serde(rename = "RouteIds")]
    pub route_ids: Vec<String>,
}

/// `CustomerGatewayVendor` (对端网关厂商信息对象).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CustomerGatewayVendor {
    #[serde(
        rename = "Platform",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub platform: String,
    #[serde(
        rename = "SoftwareVersion",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub software_version: String,
    #[serde(
        rename = "VendorName",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vendor_name: String,
}

/// `DescribeCustomerGatewayVendorsRequest` (no parameters).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeCustomerGatewayVendorsRequest {}

/// `DescribeCustomerGatewayVendorsResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeCustomerGatewayVendorsResponse {
    #[serde(
        rename = "CustomerGatewayVendorSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub customer_gateway_vendor_set: Vec<CustomerGatewayVendor>,
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `DownloadCustomerGatewayConfigurationRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DownloadCustomerGatewayConfigurationRequest {
    #[serde(rename = "VpnGatewayId")]
    pub vpn_gateway_id: String,
    #[serde(rename = "VpnConnectionId")]
    pub vpn_connection_id: String,
    #[serde(rename = "CustomerGatewayVendor")]
    pub customer_gateway_vendor: CustomerGatewayVendor,
    /// The peer device's interface the tunnel leaves through.
    #[serde(rename = "InterfaceName")]
    pub interface_name: String,
}

/// `DownloadCustomerGatewayConfigurationResponse`. The configuration holds the pre-shared key: it
/// is a [`Secret`](crate::Secret), never shown by `Debug`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DownloadCustomerGatewayConfigurationResponse {
    #[serde(rename = "CustomerGatewayConfiguration", default)]
    pub customer_gateway_configuration: crate::Secret,
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}
