//! The stored resources. Their serde names are the API's output names, so a stored resource is also its
//! API representation (and the data file's).

use std::fmt;

use ipnet::Ipv4Net;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret string (pre-shared key): serialised as is, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

/// A VPC-service tag (`{"Key","Value"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value")]
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vpc {
    #[serde(rename = "VpcName")]
    pub name: String,
    #[serde(rename = "VpcId")]
    pub id: String,
    #[serde(rename = "CidrBlock")]
    pub cidr: Ipv4Net,
    #[serde(rename = "IsDefault")]
    pub is_default: bool,
    #[serde(rename = "EnableMulticast")]
    pub enable_multicast: bool,
    #[serde(rename = "CreatedTime")]
    pub created_time: String,
    #[serde(rename = "DnsServerSet")]
    pub dns_servers: Vec<String>,
    #[serde(rename = "DomainName")]
    pub domain_name: String,
    #[serde(rename = "DhcpOptionsId")]
    pub dhcp_options_id: String,
    #[serde(rename = "EnableDhcp")]
    pub enable_dhcp: bool,
    #[serde(rename = "Ipv6CidrBlock")]
    pub ipv6_cidr_block: String,
    #[serde(rename = "TagSet")]
    pub tags: Vec<Tag>,
    #[serde(rename = "AssistantCidrSet")]
    pub assistant_cidrs: Vec<serde_json::Value>,
    #[serde(rename = "EnableRouteVpcPublish")]
    pub enable_route_vpc_publish: bool,
    #[serde(rename = "Ipv6CidrBlockSet")]
    pub ipv6_cidr_blocks: Vec<serde_json::Value>,
    #[serde(rename = "EnableRouteVpcPublishIpv6")]
    pub enable_route_vpc_publish_ipv6: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GatewayState {
    #[serde(rename = "PENDING")]
    Pending,
    #[serde(rename = "AVAILABLE")]
    Available,
}

/// The bandwidth quota list every VPN gateway shows (as in the official example).
#[derive(Debug, Clone, Copy, Default)]
pub struct GatewayQuotaSet;

const GATEWAY_QUOTAS: &[(u64, &str, &str)] = &[
    (5, "微小型", "cdmini"),
    (10, "小型", "cdsmall"),
    (20, "中型", "cdmiddle"),
    (50, "大型", "cdlarge"),
    (100, "超大型", "cdsuperLarge"),
    (200, "超大型2", "cdsuperLarge2"),
    (500, "超大型3", "cdsuperLarge3"),
    (1000, "超大型4", "cdsuperLarge4"),
    (3000, "超大型5", "cdsuperLarge5"),
];

impl Serialize for GatewayQuotaSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Quota {
            #[serde(rename = "Bandwidth")]
            bandwidth: u64,
            #[serde(rename = "Cname")]
            cname: &'static str,
            #[serde(rename = "Name")]
            name: &'static str,
        }
        serializer.collect_seq(
            GATEWAY_QUOTAS
                .iter()
                .map(|&(bandwidth, cname, name)| Quota {
                    bandwidth,
                    cname,
                    name,
                }),
        )
    }
}

impl<'de> Deserialize<'de> for GatewayQuotaSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer)?;
        Ok(GatewayQuotaSet)
    }
}

/// A VPN gateway as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VpnGatewayInfo {
    #[serde(rename = "VpnGatewayId")]
    pub id: String,
    #[serde(rename = "VpcId")]
    pub vpc_id: String,
    #[serde(rename = "VpnGatewayName")]
    pub name: String,
    #[serde(rename = "Type")]
    pub gateway_type: String,
    #[serde(rename = "State")]
    pub state: GatewayState,
    #[serde(rename = "PublicIpAddress")]
    pub public_ip: String,
    #[serde(rename = "RenewFlag")]
    pub renew_flag: String,
    #[serde(rename = "InstanceChargeType")]
    pub charge_type: String,
    #[serde(rename = "InternetMaxBandwidthOut")]
    pub bandwidth: u64,
    #[serde(rename = "CreatedTime")]
    pub created_time: String,
    #[serde(rename = "ExpiredTime")]
    pub expired_time: String,
    #[serde(rename = "IsAddressBlocked")]
    pub is_address_blocked: bool,
    #[serde(rename = "NewPurchasePlan")]
    pub new_purchase_plan: String,
    #[serde(rename = "RestrictState")]
    pub restrict_state: String,
    #[serde(rename = "Zone")]
    pub zone: String,
    #[serde(rename = "VpnGatewayQuotaSet")]
    pub quota_set: GatewayQuotaSet,
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "NetworkInstanceId")]
    pub network_instance_id: String,
    #[serde(rename = "CdcId")]
    pub cdc_id: String,
    #[serde(rename = "MaxConnection")]
    pub max_connection: u64,
    #[serde(rename = "BgpAsn")]
    pub bgp_asn: u64,
    #[serde(rename = "TagSet")]
    pub tags: Vec<Tag>,
    #[serde(rename = "IsPrivate")]
    pub is_private: bool,
}

/// A stored VPN gateway: what the API shows plus when it becomes AVAILABLE.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VpnGateway {
    #[serde(rename = "VpnGateway")]
    pub info: VpnGatewayInfo,
    #[serde(rename = "ReadyAtMs", default, skip_serializing_if = "Option::is_none")]
    pub ready_at_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomerGateway {
    #[serde(rename = "CustomerGatewayId")]
    pub id: String,
    #[serde(rename = "CustomerGatewayName")]
    pub name: String,
    #[serde(rename = "IpAddress")]
    pub ip_address: String,
    #[serde(rename = "CreatedTime")]
    pub created_time: String,
    #[serde(rename = "BgpAsn")]
    pub bgp_asn: u64,
    #[serde(rename = "TagSet")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectionState {
    #[serde(rename = "PENDING")]
    Pending,
    #[serde(rename = "AVAILABLE")]
    Available,
    #[serde(rename = "DELETING")]
    Deleting,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spd {
    #[serde(rename = "LocalCidrBlock")]
    pub local: String,
    #[serde(rename = "RemoteCidrBlock")]
    pub remote: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IkeOptions {
    #[serde(rename = "PropoEncryAlgorithm")]
    pub encrypt_algorithm: String,
    #[serde(rename = "PropoAuthenAlgorithm")]
    pub authen_algorithm: String,
    #[serde(rename = "ExchangeMode")]
    pub exchange_mode: String,
    #[serde(rename = "LocalIdentity")]
    pub local_identity: String,
    #[serde(rename = "RemoteIdentity")]
    pub remote_identity: String,
    #[serde(rename = "LocalAddress")]
    pub local_address: String,
    #[serde(rename = "RemoteAddress")]
    pub remote_address: String,
    #[serde(rename = "LocalFqdnName")]
    pub local_fqdn_name: String,
    #[serde(rename = "RemoteFqdnName")]
    pub remote_fqdn_name: String,
    #[serde(rename = "DhGroupName")]
    pub dh_group_name: String,
    #[serde(rename = "IKESaLifetimeSeconds")]
    pub sa_lifetime_seconds: u64,
    #[serde(rename = "IKEVersion")]
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpsecOptions {
    #[serde(rename = "EncryptAlgorithm")]
    pub encrypt_algorithm: String,
    #[serde(rename = "IntegrityAlgorith")]
    pub integrity_algorithm: String,
    #[serde(rename = "IPSECSaLifetimeSeconds")]
    pub sa_lifetime_seconds: u64,
    #[serde(rename = "PfsDhGroup")]
    pub pfs_dh_group: String,
    #[serde(rename = "IPSECSaLifetimeTraffic")]
    pub sa_lifetime_traffic: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BgpInfo {
    #[serde(rename = "TunnelCidr")]
    pub tunnel_cidr: String,
    #[serde(rename = "LocalBgpIp")]
    pub local_bgp_ip: String,
    #[serde(rename = "RemoteBgpIp")]
    pub remote_bgp_ip: String,
    #[serde(rename = "LocalBgpAsn")]
    pub local_bgp_asn: String,
    #[serde(rename = "RemoteBgpAsn")]
    pub remote_bgp_asn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheckConfig {
    #[serde(rename = "ProbeType")]
    pub probe_type: String,
    #[serde(rename = "ProbeInterval")]
    pub probe_interval: i64,
    #[serde(rename = "ProbeThreshold")]
    pub probe_threshold: i64,
    #[serde(rename = "ProbeTimeout")]
    pub probe_timeout: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VpnConnection {
    #[serde(rename = "VpnConnectionId")]
    pub id: String,
    #[serde(rename = "VpnConnectionName")]
    pub name: String,
    #[serde(rename = "VpcId")]
    pub vpc_id: String,
    #[serde(rename = "VpnGatewayId")]
    pub gateway_id: String,
    #[serde(rename = "CustomerGatewayId")]
    pub customer_gateway_id: String,
    #[serde(rename = "PreShareKey")]
    pub pre_share_key: Secret,
    #[serde(rename = "VpnProto")]
    pub vpn_proto: String,
    #[serde(rename = "EncryptProto")]
    pub encrypt_proto: String,
    #[serde(rename = "RouteType")]
    pub route_type: String,
    #[serde(rename = "CreatedTime")]
    pub created_time: String,
    #[serde(rename = "State")]
    pub state: ConnectionState,
    #[serde(rename = "NetStatus")]
    pub net_status: String,
    #[serde(rename = "SecurityPolicyDatabaseSet")]
    pub spd: Vec<Spd>,
    #[serde(rename = "IKEOptionsSpecification")]
    pub ike: IkeOptions,
    #[serde(rename = "IPSECOptionsSpecification")]
    pub ipsec: IpsecOptions,
    #[serde(rename = "EnableHealthCheck")]
    pub enable_health_check: bool,
    #[serde(rename = "HealthCheckLocalIp")]
    pub health_check_local_ip: String,
    #[serde(rename = "HealthCheckRemoteIp")]
    pub health_check_remote_ip: String,
    #[serde(rename = "HealthCheckStatus")]
    pub health_check_status: String,
    #[serde(rename = "DpdEnable")]
    pub dpd_enable: i64,
    #[serde(rename = "DpdTimeout")]
    pub dpd_timeout: String,
    #[serde(rename = "DpdAction")]
    pub dpd_action: String,
    #[serde(rename = "TagSet")]
    pub tags: Vec<Tag>,
    #[serde(rename = "NegotiationType")]
    pub negotiation_type: String,
    #[serde(rename = "BgpConfig", default, skip_serializing_if = "Option::is_none")]
    pub bgp: Option<BgpInfo>,
    #[serde(
        rename = "HealthCheckConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub health_check_config: Option<HealthCheckConfig>,
}

impl VpnConnection {
    pub fn is_bgp(&self) -> bool {
        is_bgp_route_type(&self.route_type)
    }
}

pub fn is_bgp_route_type(route_type: &str) -> bool {
    route_type == "Bgp"
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskKind {
    CreateVpnConnection,
    DeleteVpnConnection,
    /// A tunnel renegotiating after ResetVpnConnection. Internal: the API documents no task for a
    /// reset, so `DescribeVpcTaskResult` does not show it; it is a task for its timer and its
    /// persistence.
    ResetVpnConnection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskStatus {
    #[serde(rename = "RUNNING")]
    Running,
    #[serde(rename = "SUCCESS")]
    Success,
    #[serde(rename = "FAILED")]
    Failed,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Running => "RUNNING",
            TaskStatus::Success => "SUCCESS",
            TaskStatus::Failed => "FAILED",
        }
    }
}

/// An async task (`DescribeVpcTaskResult`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    #[serde(rename = "TaskId")]
    pub id: String,
    #[serde(rename = "Region")]
    pub region: String,
    #[serde(rename = "Kind")]
    pub kind: TaskKind,
    #[serde(rename = "ResourceId")]
    pub resource_id: String,
    #[serde(rename = "DeadlineMs")]
    pub deadline_ms: i64,
    /// Decided when the task starts, so that a restart does not change the outcome.
    #[serde(rename = "WillFail")]
    pub will_fail: bool,
    #[serde(rename = "Status")]
    pub status: TaskStatus,
    #[serde(rename = "Output")]
    pub output: String,
    #[serde(
        rename = "FinishedMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub finished_ms: Option<i64>,
}

/// A route table entry as the API shows it (`Route`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEntry {
    #[serde(rename = "DestinationCidrBlock")]
    pub destination: String,
    #[serde(rename = "GatewayType")]
    pub gateway_type: String,
    #[serde(rename = "GatewayId")]
    pub gateway_id: String,
    #[serde(rename = "RouteId")]
    pub route_id: u64,
    #[serde(rename = "RouteDescription")]
    pub description: String,
    #[serde(rename = "Enabled")]
    pub enabled: bool,
    /// `USER` (the only kind a user can change), `NETD`, `CCN`.
    #[serde(rename = "RouteType")]
    pub route_type: String,
    #[serde(rename = "RouteTableId")]
    pub route_table_id: String,
    #[serde(rename = "DestinationIpv6CidrBlock")]
    pub destination_ipv6: String,
    #[serde(rename = "RouteItemId")]
    pub item_id: String,
    #[serde(rename = "PublishedToVbc")]
    pub published_to_vbc: bool,
    #[serde(rename = "CreatedTime")]
    pub created_time: String,
    #[serde(rename = "CdcId")]
    pub cdc_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTableAssociation {
    #[serde(rename = "SubnetId")]
    pub subnet_id: String,
    #[serde(rename = "RouteTableId")]
    pub route_table_id: String,
}

/// A route table with its entries (`RouteTable`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RouteTable {
    #[serde(rename = "VpcId")]
    pub vpc_id: String,
    #[serde(rename = "RouteTableId")]
    pub id: String,
    #[serde(rename = "RouteTableName")]
    pub name: String,
    #[serde(rename = "AssociationSet")]
    pub associations: Vec<RouteTableAssociation>,
    #[serde(rename = "RouteSet")]
    pub routes: Vec<RouteEntry>,
    /// The VPC's default table.
    #[serde(rename = "Main")]
    pub main: bool,
    #[serde(rename = "CreatedTime")]
    pub created_time: String,
    #[serde(rename = "TagSet")]
    pub tags: Vec<Tag>,
    #[serde(rename = "LocalCidrForCcn")]
    pub local_cidr_for_ccn: Vec<serde_json::Value>,
}

/// A VPN gateway's destination route (`VpnGatewayRoute`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayRoute {
    #[serde(rename = "DestinationCidrBlock")]
    pub destination: String,
    /// `VPNCONN` or `CCN`.
    #[serde(rename = "InstanceType")]
    pub instance_type: String,
    #[serde(rename = "InstanceId")]
    pub instance_id: String,
    #[serde(rename = "Priority")]
    pub priority: i64,
    #[serde(rename = "Status")]
    pub status: String,
    #[serde(rename = "RouteId")]
    pub id: String,
    /// `Static` for the routes a user creates.
    #[serde(rename = "Type")]
    pub route_type: String,
    #[serde(rename = "CreateTime")]
    pub create_time: String,
    #[serde(rename = "UpdateTime")]
    pub update_time: String,
    #[serde(rename = "Description")]
    pub description: String,
}

/// The route a tunnel was created with (`CreateVpnConnection.Route`). The API takes it on create
/// only and never describes it: the sandbox keeps it with the tunnel (in its data file) until the
/// tunnel is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRoute {
    #[serde(rename = "DestinationCidrBlock")]
    pub destination_cidr_block: String,
    #[serde(rename = "Priority", default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u64>,
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
}

/// A stored VPN gateway route: the route and its gateway.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredGatewayRoute {
    #[serde(rename = "VpnGatewayId")]
    pub gateway_id: String,
    #[serde(rename = "Route")]
    pub route: GatewayRoute,
}
