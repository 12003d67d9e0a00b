//! Typed requests and responses of the `vpc` service (version 2017-03-12).
//!
//! Generated from the machine-readable spec (`vpc-vpn-api.json`, extracted from tccli's api.json) and
//! then maintained by hand: serde names are exactly the API's, doc comments are the spec's own text.
//!
//! Conventions:
//! - request parameters the spec marks required are plain fields, optional ones are `Option` and are
//!   omitted from the body when `None`;
//! - response fields the spec marks as always returned are plain fields that default when missing or
//!   `null`; the others are `Option`. Unknown response fields are ignored.
//! - API quirks kept as they are: `DpdTimeout` is a string; the IPsec spec has both the legacy
//!   `IntegrityAlgorith` (what the API returns) and `IntegrityAlgorithm`; `DescribeVpcs` takes
//!   `Offset`/`Limit` as strings.
//! - `PreShareKey` is a [`Secret`]: it serialises as the plain string but never shows in `Debug`.

use crate::secret::Secret;
use serde::{Deserialize, Serialize};

mod routes;
pub use routes::*;

/// `AssistantCidr` (VPC辅助CIDR信息。).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssistantCidr {
    /// `VPC`实例`ID`。形如：`vpc-6v2ht8q5`
    #[serde(
        rename = "VpcId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpc_id: String,
    /// 辅助CIDR。形如：`172.16.0.0/16`
    #[serde(
        rename = "CidrBlock",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub cidr_block: String,
    /// 辅助CIDR类型（0：普通辅助CIDR，1：容器辅助CIDR），默认都是0。
    #[serde(
        rename = "AssistantType",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub assistant_type: i64,
    /// 辅助CIDR拆分的子网。
    #[serde(
        rename = "SubnetSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub subnet_set: Vec<Subnet>,
}

/// `BgpConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BgpConfig {
    /// BGP隧道网段。
    #[serde(rename = "TunnelCidr")]
    pub tunnel_cidr: String,
    /// 云端BGP地址。必须从BGP隧道网段内分配。
    #[serde(rename = "LocalBgpIp")]
    pub local_bgp_ip: String,
    /// 用户端BGP地址。必须从BGP隧道网段内分配。
    #[serde(rename = "RemoteBgpIp")]
    pub remote_bgp_ip: String,
}

/// `BgpConfigAndAsn` (VPN通道BGP配置).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BgpConfigAndAsn {
    /// BGP通道CIDR
    #[serde(
        rename = "TunnelCidr",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tunnel_cidr: Option<String>,
    /// 本端BGP IP
    #[serde(
        rename = "LocalBgpIp",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub local_bgp_ip: Option<String>,
    /// 对端BGP IP
    #[serde(
        rename = "RemoteBgpIp",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub remote_bgp_ip: Option<String>,
    /// 本端BGP ASN号
    #[serde(
        rename = "LocalBgpAsn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub local_bgp_asn: Option<String>,
    /// 对端BGP ASN号
    #[serde(
        rename = "RemoteBgpAsn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub remote_bgp_asn: Option<String>,
}

/// `CreateVpnConnRoute` (创建路由添加的指向此通道的路由).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateVpnConnRoute {
    /// 目的端IDC网段
    #[serde(rename = "DestinationCidrBlock")]
    pub destination_cidr_block: String,
    /// 优先级；可选值0，100。
    #[serde(rename = "Priority", default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u64>,
    /// 路由备注；可选值
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
}

/// `CustomerGateway` (对端网关).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerGateway {
    /// 用户网关唯一ID
    #[serde(
        rename = "CustomerGatewayId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub customer_gateway_id: String,
    /// 网关名称
    #[serde(
        rename = "CustomerGatewayName",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub customer_gateway_name: String,
    /// 公网地址
    #[serde(
        rename = "IpAddress",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub ip_address: String,
    /// 创建时间
    #[serde(
        rename = "CreatedTime",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub created_time: String,
    /// BGP ASN。
    #[serde(
        rename = "BgpAsn",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub bgp_asn: u64,
    /// 关联通道数
    #[serde(
        rename = "VpnConnNum",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vpn_conn_num: Option<u64>,
    /// 标签信息
    #[serde(rename = "TagSet", default, skip_serializing_if = "Option::is_none")]
    pub tag_set: Option<Vec<Tag>>,
}

/// `Filter` (过滤器).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// 属性名称, 若存在多个Filter时，Filter间的关系为逻辑与（AND）关系。
    #[serde(rename = "Name")]
    pub name: String,
    /// 属性值, 若同一个Filter存在多个Values，同一Filter下Values间的关系为逻辑或（OR）关系。当值类型为布尔类型时，可直接取值为字符串"TRUE"或 "FALSE"。
    #[serde(rename = "Values")]
    pub values: Vec<String>,
}

/// `HealthCheckConfig` (VPN通道健康检查配置).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthCheckConfig {
    /// 探测模式，默认值NQA，不可修改。
    #[serde(rename = "ProbeType", default, skip_serializing_if = "Option::is_none")]
    pub probe_type: Option<String>,
    /// 探测间隔，腾讯云两次健康检查间隔时间，范围【1000-5000】，单位ms。
    #[serde(
        rename = "ProbeInterval",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub probe_interval: Option<i64>,
    /// 探测次数，连续N次健康检查失败后执行路由切换，范围【3-8】，单位次。
    #[serde(
        rename = "ProbeThreshold",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub probe_threshold: Option<i64>,
    /// 探测超时时间，范围【10-5000】，单位ms。
    #[serde(
        rename = "ProbeTimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub probe_timeout: Option<i64>,
}

/// `IKEOptionsSpecification` (IKE配置（Internet Key Exchange，因特网密钥交换），IKE具有一套自我保护机制，用户配置网络安全协议).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IKEOptionsSpecification {
    /// 加密算法，可选值：'3DES-CBC', 'AES-CBC-128', 'AES-CBC-192', 'AES-CBC-256', 'DES-CBC', 'SM4', 'AES128GCM128', 'AES192GCM…
    #[serde(
        rename = "PropoEncryAlgorithm",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub propo_encry_algorithm: Option<String>,
    /// 认证算法：可选值：'MD5'，'SHA'，'SHA-256'，'SHA-512'， 默认为SHA。
    #[serde(
        rename = "PropoAuthenAlgorithm",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub propo_authen_algorithm: Option<String>,
    /// 协商模式：可选值：'AGGRESSIVE'， 'MAIN'，默认为MAIN。
    #[serde(
        rename = "ExchangeMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub exchange_mode: Option<String>,
    /// 本端标识类型：可选值：'ADDRESS', 'FQDN'，默认为ADDRESS
    #[serde(
        rename = "LocalIdentity",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub local_identity: Option<String>,
    /// 对端标识类型：可选值：'ADDRESS', 'FQDN'，默认为ADDRESS
    #[serde(
        rename = "RemoteIdentity",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub remote_identity: Option<String>,
    /// 本端标识，当LocalIdentity选为ADDRESS时，LocalAddress必填。localAddress默认为vpn网关公网IP
    #[serde(
        rename = "LocalAddress",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub local_address: Option<String>,
    /// 对端标识，当RemoteIdentity选为ADDRESS时，RemoteAddress必填
    #[serde(
        rename = "RemoteAddress",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub remote_address: Option<String>,
    /// 本端标识，当LocalIdentity选为FQDN时，LocalFqdnName必填
    #[serde(
        rename = "LocalFqdnName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub local_fqdn_name: Option<String>,
    /// 对端标识，当remoteIdentity选为FQDN时，RemoteFqdnName必填
    #[serde(
        rename = "RemoteFqdnName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub remote_fqdn_name: Option<String>,
    /// DH group，指定IKE交换密钥时使用的DH组，可选值：'GROUP1', 'GROUP2', 'GROUP5', 'GROUP14', 'GROUP15', 'GROUP16', 'GROUP19', 'GROUP…
    #[serde(
        rename = "DhGroupName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dh_group_name: Option<String>,
    /// IKE SA Lifetime，单位：秒，设置IKE SA的生存周期 取值范围：[60, 604800] 默认值：86400
    #[serde(
        rename = "IKESaLifetimeSeconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ike_sa_lifetime_seconds: Option<u64>,
    /// IKE版本 枚举值： IKEV1： IKEV1版本 IKEV2： IKEV2版本 默认值：IKEV1
    #[serde(
        rename = "IKEVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ike_version: Option<String>,
}

/// `IPSECOptionsSpecification` (IPSec配置，腾讯云提供IPSec安全会话设置).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IPSECOptionsSpecification {
    /// 加密算法，可选值：'3DES-CBC', 'AES-CBC-128', 'AES-CBC-192', 'AES-CBC-256', 'DES-CBC', 'SM4', 'NULL', 'AES128GCM128', 'A…
    #[serde(
        rename = "EncryptAlgorithm",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub encrypt_algorithm: Option<String>,
    /// 认证算法：可选值：'MD5', 'SHA1', 'SHA-256', 'SHA-512', 'SHA-384', 'SM3' 默认值：SHA1 注意：此字段可能返回 null，表示取不到有效值。
    /// (marked disabled/legacy in the spec, still accepted)
    #[serde(
        rename = "IntegrityAlgorith",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub integrity_algorith: Option<String>,
    /// IPsec SA lifetime(s) 取值范围：[180, 604800] 单位：秒 默认值：14400
    #[serde(
        rename = "IPSECSaLifetimeSeconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ipsec_sa_lifetime_seconds: Option<u64>,
    /// PFS：可选值：'NULL', 'DH-GROUP1', 'DH-GROUP2', 'DH-GROUP5', 'DH-GROUP14', 'DH-GROUP15','DH-GROUP16','DH-GROUP19','D…
    #[serde(
        rename = "PfsDhGroup",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pfs_dh_group: Option<String>,
    /// IPsec SA lifetime(KB) 取值范围：[2560, 4294967295] 单位：KB 默认值：4096000000
    #[serde(
        rename = "IPSECSaLifetimeTraffic",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ipsec_sa_lifetime_traffic: Option<u64>,
    /// 认证算法：可选值：'MD5', 'SHA1'，'SHA-256' 默认为
    #[serde(
        rename = "IntegrityAlgorithm",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub integrity_algorithm: Option<String>,
}

/// `ISPIPv6CidrBlock` (返回多运营商IPv6 Cidr Block).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ISPIPv6CidrBlock {
    /// IPv6网段
    #[serde(
        rename = "IPv6CidrBlock",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub ipv6_cidr_block: String,
    /// 网络运营商类型 枚举值： BGP： 默认 CMCC： 中国移动 CTCC： 中国电信 CUCC： 中国联通
    #[serde(
        rename = "ISPType",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub isp_type: String,
    /// IPv6网段类型 枚举值： GUA： 全球单播地址 ULA： 唯一本地地址
    #[serde(
        rename = "AddressType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub address_type: Option<String>,
}

/// `InstanceChargePrepaid` (预付费（包年包月）计费对象。).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceChargePrepaid {
    /// 购买实例的时长，单位：月。取值范围：1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36。
    #[serde(
        rename = "Period",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub period: u64,
    /// 自动续费标识。取值范围： NOTIFY_AND_AUTO_RENEW：通知过期且自动续费， NOTIFY_AND_MANUAL_RENEW：通知过期不自动续费。默认：NOTIFY_AND_AUTO_RENEW
    #[serde(rename = "RenewFlag", default, skip_serializing_if = "Option::is_none")]
    pub renew_flag: Option<String>,
}

/// `SecurityPolicyDatabase` (SecurityPolicyDatabase策略).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SecurityPolicyDatabase {
    /// 本端网段
    #[serde(
        rename = "LocalCidrBlock",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub local_cidr_block: String,
    /// 对端网段
    #[serde(
        rename = "RemoteCidrBlock",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub remote_cidr_block: Vec<String>,
}

/// `Subnet` (子网对象).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    /// VPC 实例 ID 。
    #[serde(rename = "VpcId", default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// 子网实例 ID ，例如：subnet-bthucmmy。
    #[serde(rename = "SubnetId", default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// 子网名称。
    #[serde(
        rename = "SubnetName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub subnet_name: Option<String>,
    /// 子网的 IPv4 CIDR 。
    #[serde(rename = "CidrBlock", default, skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    /// 是否默认子网。
    #[serde(rename = "IsDefault", default, skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
    /// 是否开启广播。
    #[serde(
        rename = "EnableBroadcast",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_broadcast: Option<bool>,
    /// 可用区。
    #[serde(rename = "Zone", default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// 路由表实例ID，例如：rtb-l2h8d7c2。
    #[serde(
        rename = "RouteTableId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub route_table_id: Option<String>,
    /// 创建时间。
    #[serde(
        rename = "CreatedTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_time: Option<String>,
    /// 可用 IPv4 数。
    #[serde(
        rename = "AvailableIpAddressCount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub available_ip_address_count: Option<u64>,
    /// 子网的 IPv6 CIDR 。
    #[serde(
        rename = "Ipv6CidrBlock",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ipv6_cidr_block: Option<String>,
    /// 关联 ACL ID
    #[serde(
        rename = "NetworkAclId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub network_acl_id: Option<String>,
    /// 是否为 SNAT 地址池子网。
    #[serde(
        rename = "IsRemoteVpcSnat",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_remote_vpc_snat: Option<bool>,
    /// 子网 IPv4 总数。
    #[serde(
        rename = "TotalIpAddressCount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub total_ip_address_count: Option<u64>,
    /// 标签键值对。
    #[serde(rename = "TagSet", default, skip_serializing_if = "Option::is_none")]
    pub tag_set: Option<Vec<Tag>>,
    /// CDC实例ID。
    #[serde(rename = "CdcId", default, skip_serializing_if = "Option::is_none")]
    pub cdc_id: Option<String>,
    /// 是否是CDC所属子网。0:否 1:是
    #[serde(
        rename = "IsCdcSubnet",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_cdc_subnet: Option<i64>,
    /// 协议栈类型 枚举值： DualStack： IPv4和IPv6双栈 IPv6Only： IPv6单栈
    #[serde(rename = "StackType", default, skip_serializing_if = "Option::is_none")]
    pub stack_type: Option<String>,
}

/// `Tag` (标签键值对).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    /// 标签键
    #[serde(rename = "Key", default, deserialize_with = "crate::de::null_default")]
    pub key: String,
    /// 标签值
    #[serde(
        rename = "Value",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub value: String,
}

/// `Vpc` (私有网络(VPC)对象。).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vpc {
    /// VPC 名称。
    #[serde(
        rename = "VpcName",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpc_name: String,
    /// VPC 实例 ID ，例如：vpc-azd4dt1c。
    #[serde(
        rename = "VpcId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpc_id: String,
    /// VPC 的 IPv4 CIDR 。
    #[serde(
        rename = "CidrBlock",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub cidr_block: String,
    /// 是否默认 VPC 。
    #[serde(
        rename = "IsDefault",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub is_default: bool,
    /// 是否开启组播。
    #[serde(
        rename = "EnableMulticast",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub enable_multicast: bool,
    /// 创建时间。
    #[serde(
        rename = "CreatedTime",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub created_time: String,
    /// DNS 列表。
    #[serde(
        rename = "DnsServerSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub dns_server_set: Vec<String>,
    /// DHCP 域名选项值。
    #[serde(
        rename = "DomainName",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub domain_name: String,
    /// DHCP 选项集 ID 。
    #[serde(
        rename = "DhcpOptionsId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub dhcp_options_id: String,
    /// 是否开启 DHCP 。
    #[serde(
        rename = "EnableDhcp",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub enable_dhcp: bool,
    /// VPC 的 IPv6 CIDR 。
    #[serde(
        rename = "Ipv6CidrBlock",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub ipv6_cidr_block: String,
    /// 标签键值对
    #[serde(
        rename = "TagSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub tag_set: Vec<Tag>,
    /// 辅助CIDR
    #[serde(
        rename = "AssistantCidrSet",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub assistant_cidr_set: Option<Vec<AssistantCidr>>,
    /// vpc关联云联网时路由发布策略， true：开启cidr路由发布，false：开启subnet子网路由发布。创建vpc时默认为子网路由发布，当选择cidr路由发布时,请通过工单加入白名单
    #[serde(
        rename = "EnableRouteVpcPublish",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub enable_route_vpc_publish: bool,
    /// 返回多运营商IPv6 Cidr Block
    #[serde(
        rename = "Ipv6CidrBlockSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub ipv6_cidr_block_set: Vec<ISPIPv6CidrBlock>,
    /// vpc关联云联网时IPv6类型路由发布策略， true：开启cidr路由发布，false：开启subnet子网路由发布。创建vpc时默认为子网路由发布，当选择cidr路由发布时，请通过工单加入白名单。
    #[serde(
        rename = "EnableRouteVpcPublishIpv6",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_route_vpc_publish_ipv6: Option<bool>,
    /// 协议栈类型 枚举值： DualStack： IPv4和IPv6双栈 IPv6Only： IPv6单栈
    #[serde(rename = "StackType", default, skip_serializing_if = "Option::is_none")]
    pub stack_type: Option<String>,
}

/// `VpcTaskResultDetailInfo` (Vpc任务结果详细信息。).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpcTaskResultDetailInfo {
    /// 资源ID。
    #[serde(
        rename = "ResourceId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub resource_id: String,
    /// 状态。
    #[serde(
        rename = "Status",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub status: String,
}

/// `VpnConnection` (VPN通道对象。).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpnConnection {
    /// 通道实例ID。
    #[serde(
        rename = "VpnConnectionId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpn_connection_id: String,
    /// 通道名称。
    #[serde(
        rename = "VpnConnectionName",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpn_connection_name: String,
    /// VPC实例ID。
    #[serde(
        rename = "VpcId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpc_id: String,
    /// VPN网关实例ID。
    #[serde(
        rename = "VpnGatewayId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpn_gateway_id: String,
    /// 对端网关实例ID。
    #[serde(
        rename = "CustomerGatewayId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub customer_gateway_id: String,
    /// 预共享密钥。
    #[serde(
        rename = "PreShareKey",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub pre_share_key: Secret,
    /// 通道传输协议。
    #[serde(
        rename = "VpnProto",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpn_proto: String,
    /// 通道加密协议。
    #[serde(
        rename = "EncryptProto",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub encrypt_proto: String,
    /// 路由类型。
    #[serde(
        rename = "RouteType",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub route_type: String,
    /// 创建时间。
    #[serde(
        rename = "CreatedTime",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub created_time: String,
    /// 通道的生产状态，PENDING：生产中，AVAILABLE：运行中，DELETING：删除中。
    #[serde(
        rename = "State",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub state: String,
    /// 通道连接状态，AVAILABLE：已连接。
    #[serde(
        rename = "NetStatus",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub net_status: String,
    /// SPD。
    #[serde(
        rename = "SecurityPolicyDatabaseSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub security_policy_database_set: Vec<SecurityPolicyDatabase>,
    /// IKE选项。
    #[serde(
        rename = "IKEOptionsSpecification",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub ike_options_specification: IKEOptionsSpecification,
    /// IPSEC选择。
    #[serde(
        rename = "IPSECOptionsSpecification",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub ipsec_options_specification: IPSECOptionsSpecification,
    /// 是否支持健康状态探测
    #[serde(
        rename = "EnableHealthCheck",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub enable_health_check: bool,
    /// 本端探测ip
    #[serde(
        rename = "HealthCheckLocalIp",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub health_check_local_ip: String,
    /// 对端探测ip
    #[serde(
        rename = "HealthCheckRemoteIp",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub health_check_remote_ip: String,
    /// 通道健康检查状态，AVAILABLE：正常，UNAVAILABLE：不正常。 未配置健康检查不返回该对象
    #[serde(
        rename = "HealthCheckStatus",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub health_check_status: String,
    /// DPD探测开关。默认为0，表示关闭DPD探测。可选值：0（关闭），1（开启）
    #[serde(
        rename = "DpdEnable",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub dpd_enable: i64,
    /// DPD超时时间。即探测确认对端不存在需要的时间。
    #[serde(
        rename = "DpdTimeout",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub dpd_timeout: String,
    /// DPD超时后的动作。默认为clear。dpdEnable为1（开启）时有效。可取值为clear（断开）和restart（重试）
    #[serde(
        rename = "DpdAction",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub dpd_action: String,
    /// 标签键值对数组
    #[serde(
        rename = "TagSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub tag_set: Vec<Tag>,
    /// 协商类型 枚举值： active： 主动协商 passive： 被动协商 flowTrigger： 流量协商
    #[serde(
        rename = "NegotiationType",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub negotiation_type: String,
    /// Bgp配置信息
    #[serde(rename = "BgpConfig", default, skip_serializing_if = "Option::is_none")]
    pub bgp_config: Option<BgpConfigAndAsn>,
    /// Nqa配置信息
    #[serde(
        rename = "HealthCheckConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub health_check_config: Option<HealthCheckConfig>,
}

/// `VpnGateway` (VPN网关对象。).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpnGateway {
    /// 网关实例ID。
    #[serde(
        rename = "VpnGatewayId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpn_gateway_id: String,
    /// VPC实例ID。
    #[serde(
        rename = "VpcId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpc_id: String,
    /// 网关实例名称。
    #[serde(
        rename = "VpnGatewayName",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpn_gateway_name: String,
    /// 网关实例类型 枚举值： IPSEC： IPSEC VPC类型VPN SSL： SSL VPC类型VPN CCN： IPSEC CCN类型VPN SSL_CCN： SSL CCN类型VPN 默认值：IPSEC
    #[serde(rename = "Type", default, deserialize_with = "crate::de::null_default")]
    pub gateway_type: String,
    /// 网关实例状态。 枚举值： PENDING： 生产中 PENDING_ERROR： 生产失败 DELETING： 删除中 DELETING_ERROR： 生产失败 AVAILABLE： 运行中
    #[serde(
        rename = "State",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub state: String,
    /// 网关公网IP。
    #[serde(
        rename = "PublicIpAddress",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub public_ip_address: String,
    /// 网关续费类型：'NOTIFY_AND_MANUAL_RENEW'：手动续费，'NOTIFY_AND_AUTO_RENEW'：自动续费，'NOT_NOTIFY_AND_NOT_RENEW'：到期不续费。
    #[serde(
        rename = "RenewFlag",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub renew_flag: String,
    /// 网关付费类型：POSTPAID_BY_HOUR：按量计费，PREPAID：包年包月预付费。
    #[serde(
        rename = "InstanceChargeType",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub instance_charge_type: String,
    /// 网关出带宽 单位：Mbps
    #[serde(
        rename = "InternetMaxBandwidthOut",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub internet_max_bandwidth_out: u64,
    /// 创建时间。
    #[serde(
        rename = "CreatedTime",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub created_time: String,
    /// 预付费网关过期时间。
    #[serde(
        rename = "ExpiredTime",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub expired_time: String,
    /// 公网IP是否被封堵。
    #[serde(
        rename = "IsAddressBlocked",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub is_address_blocked: bool,
    /// 计费模式变更，PREPAID_TO_POSTPAID：包年包月预付费到期转按小时后付费。
    #[serde(
        rename = "NewPurchasePlan",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub new_purchase_plan: String,
    /// 网关计费状态，PROTECTIVELY_ISOLATED：被安全隔离的实例，NORMAL：正常。
    #[serde(
        rename = "RestrictState",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub restrict_state: String,
    /// 可用区，如：ap-guangzhou-2。
    #[serde(rename = "Zone", default, deserialize_with = "crate::de::null_default")]
    pub zone: String,
    /// 网关带宽配额信息。
    #[serde(
        rename = "VpnGatewayQuotaSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpn_gateway_quota_set: Vec<VpnGatewayQuota>,
    /// 网关实例版本信息。
    #[serde(
        rename = "Version",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub version: String,
    /// Type值为CCN/SSL_CCN时，该值表示云联网实例ID。
    #[serde(
        rename = "NetworkInstanceId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub network_instance_id: String,
    /// CDC 实例ID。
    #[serde(
        rename = "CdcId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub cdc_id: String,
    /// SSL-VPN 客户端连接数。
    #[serde(
        rename = "MaxConnection",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub max_connection: u64,
    /// Bgp ASN
    #[serde(rename = "BgpAsn", default, skip_serializing_if = "Option::is_none")]
    pub bgp_asn: Option<u64>,
    /// 标签列表
    #[serde(rename = "TagSet", default, skip_serializing_if = "Option::is_none")]
    pub tag_set: Option<Vec<Tag>>,
    /// 私网VPN标识
    #[serde(rename = "IsPrivate", default, skip_serializing_if = "Option::is_none")]
    pub is_private: Option<bool>,
}

/// `VpnGatewayQuota` (VPN网关配额对象).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpnGatewayQuota {
    /// 带宽配额，单位：Mbps。
    #[serde(
        rename = "Bandwidth",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub bandwidth: u64,
    /// 配额中文名称
    #[serde(
        rename = "Cname",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub cname: String,
    /// 配额英文名称
    #[serde(rename = "Name", default, deserialize_with = "crate::de::null_default")]
    pub name: String,
    /// SSL 连接数可选配额
    #[serde(
        rename = "MaxConnection",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_connection: Option<Vec<u64>>,
}

/// `CreateVpnConnectionRequest` (CreateVpnConnection请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateVpnConnectionRequest {
    /// VPN网关实例ID。
    #[serde(rename = "VpnGatewayId")]
    pub vpn_gateway_id: String,
    /// 对端网关ID。例如：cgw-2wqq41m9，可通过 DescribeCustomerGateways 接口查询对端网关。
    #[serde(rename = "CustomerGatewayId")]
    pub customer_gateway_id: String,
    /// 通道名称，可任意命名，但不得超过60个字符。
    #[serde(rename = "VpnConnectionName")]
    pub vpn_connection_name: String,
    /// 预共享密钥。
    #[serde(rename = "PreShareKey")]
    pub pre_share_key: Secret,
    /// VPC实例ID。VPC类型网关可通过 DescribeVpcs 接口返回值中的VpcId获取，CCN类型网关传空值即可。
    #[serde(rename = "VpcId", default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// SPD策略组，例如：{"10.0.0.5/24":["172.123.10.5/16"]}，10.0.0.5/24是vpc内网段172.123.10.5/16是IDC网段。用户指定VPC内哪些网段可以和您IDC中哪些网段…
    #[serde(
        rename = "SecurityPolicyDatabases",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub security_policy_databases: Option<Vec<SecurityPolicyDatabase>>,
    /// IKE配置（Internet Key Exchange，因特网密钥交换），IKE具有一套自我保护机制，用户配置网络安全协议
    #[serde(
        rename = "IKEOptionsSpecification",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ike_options_specification: Option<IKEOptionsSpecification>,
    /// IPSec配置，腾讯云提供IPSec安全会话设置
    #[serde(
        rename = "IPSECOptionsSpecification",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ipsec_options_specification: Option<IPSECOptionsSpecification>,
    /// 指定绑定的标签列表，例如：[{"Key": "city", "Value": "shanghai"}]
    #[serde(rename = "Tags", default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// 是否支持隧道内健康检查，默认为False。
    #[serde(
        rename = "EnableHealthCheck",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_health_check: Option<bool>,
    /// 健康检查本端地址，默认值为随机在169.254.128.0/17分配一个IP。
    #[serde(
        rename = "HealthCheckLocalIp",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub health_check_local_ip: Option<String>,
    /// 健康检查对端地址，默认值为随机在169.254.128.0/17分配一个IP。
    #[serde(
        rename = "HealthCheckRemoteIp",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub health_check_remote_ip: Option<String>,
    /// 通道类型, 例如:["STATIC", "StaticRoute", "Policy", "Bgp"] 枚举值： StaticRoute： 目的路由类型 Policy： SPD策略类型 Bgp： BGP类型 默认值：ST…
    #[serde(rename = "RouteType", default, skip_serializing_if = "Option::is_none")]
    pub route_type: Option<String>,
    /// 协商类型，默认为active（主动协商）。可选值：active（主动协商），passive（被动协商），flowTrigger（流量协商）
    #[serde(
        rename = "NegotiationType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub negotiation_type: Option<String>,
    /// DPD探测开关。默认为0，表示关闭DPD探测。可选值：0（关闭），1（开启）
    #[serde(rename = "DpdEnable", default, skip_serializing_if = "Option::is_none")]
    pub dpd_enable: Option<i64>,
    /// DPD超时时间。即探测确认对端不存在需要的时间。dpdEnable为1（开启）时有效。默认30，单位为秒
    #[serde(
        rename = "DpdTimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dpd_timeout: Option<String>,
    /// DPD超时后的动作。 入参限制：dpdEnable为1（开启）时有效。 枚举值： clear： 断开 restart： 重试 默认值：restart
    #[serde(rename = "DpdAction", default, skip_serializing_if = "Option::is_none")]
    pub dpd_action: Option<String>,
    /// 创建通道路由信息。
    /// (marked disabled/legacy in the spec, still accepted)
    #[serde(rename = "Route", default, skip_serializing_if = "Option::is_none")]
    pub route: Option<CreateVpnConnRoute>,
    /// BGP配置。
    #[serde(rename = "BgpConfig", default, skip_serializing_if = "Option::is_none")]
    pub bgp_config: Option<BgpConfig>,
    /// 健康检查NQA配置。
    #[serde(
        rename = "HealthCheckConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub health_check_config: Option<HealthCheckConfig>,
}

/// `CreateVpnConnectionResponse` (CreateVpnConnection返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateVpnConnectionResponse {
    /// 通道实例对象。
    #[serde(
        rename = "VpnConnection",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpn_connection: VpnConnection,
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `DescribeVpnConnectionsRequest` (DescribeVpnConnections请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeVpnConnectionsRequest {
    /// VPN通道实例ID。形如：vpnx-f49l6u0z。每次请求的实例的上限为100。参数不支持同时指定VpnConnectionIds和Filters。
    #[serde(
        rename = "VpnConnectionIds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vpn_connection_ids: Option<Vec<String>>,
    /// 过滤条件。每次请求的Filters的上限为10，Filter.Values的上限为5。参数不支持同时指定VpnConnectionIds和Filters。 vpc-id - String - VPC实例ID，形如：`vp…
    #[serde(rename = "Filters", default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    /// 偏移量，默认为0。关于Offset的更进一步介绍请参考 API 简介中的相关小节。
    #[serde(rename = "Offset", default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// 返回数量，默认为20，最大值为100。
    #[serde(rename = "Limit", default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// `DescribeVpnConnectionsResponse` (DescribeVpnConnections返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeVpnConnectionsResponse {
    /// 符合条件的实例数量。
    #[serde(
        rename = "TotalCount",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub total_count: u64,
    /// VPN通道实例。
    #[serde(
        rename = "VpnConnectionSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpn_connection_set: Vec<VpnConnection>,
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `ModifyVpnConnectionAttributeRequest` (ModifyVpnConnectionAttribute请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModifyVpnConnectionAttributeRequest {
    /// VPN通道实例ID。形如：vpnx-f49l6u0z。
    #[serde(rename = "VpnConnectionId")]
    pub vpn_connection_id: String,
    /// VPN通道名称，可任意命名，但不得超过60个字符。
    #[serde(
        rename = "VpnConnectionName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vpn_connection_name: Option<String>,
    /// 预共享密钥。
    #[serde(
        rename = "PreShareKey",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_share_key: Option<Secret>,
    /// SPD策略组，例如：{"10.0.0.5/24":["172.123.10.5/16"]}，10.0.0.5/24是vpc内网段，172.123.10.5/16是IDC网段。用户指定VPC内哪些网段可以和您IDC中哪些网…
    #[serde(
        rename = "SecurityPolicyDatabases",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub security_policy_databases: Option<Vec<SecurityPolicyDatabase>>,
    /// IKE配置（Internet Key Exchange，因特网密钥交换），IKE具有一套自我保护机制，用户配置网络安全协议。
    #[serde(
        rename = "IKEOptionsSpecification",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ike_options_specification: Option<IKEOptionsSpecification>,
    /// IPSec配置，腾讯云提供IPSec安全会话设置。
    #[serde(
        rename = "IPSECOptionsSpecification",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ipsec_options_specification: Option<IPSECOptionsSpecification>,
    /// 是否启用通道健康检查，默认为False。
    #[serde(
        rename = "EnableHealthCheck",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_health_check: Option<bool>,
    /// 本端通道探测IP。
    #[serde(
        rename = "HealthCheckLocalIp",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub health_check_local_ip: Option<String>,
    /// 对端通道探测IP。
    #[serde(
        rename = "HealthCheckRemoteIp",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub health_check_remote_ip: Option<String>,
    /// 协商类型，默认为active（主动协商）。可选值：active（主动协商），passive（被动协商），flowTrigger（流量协商）
    #[serde(
        rename = "NegotiationType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub negotiation_type: Option<String>,
    /// DPD探测开关。默认为0，表示关闭DPD探测。可选值：0（关闭），1（开启）
    #[serde(rename = "DpdEnable", default, skip_serializing_if = "Option::is_none")]
    pub dpd_enable: Option<i64>,
    /// DPD超时时间。即探测确认对端不存在需要的时间。dpdEnable为1（开启）时有效。默认30，单位为秒
    #[serde(
        rename = "DpdTimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dpd_timeout: Option<String>,
    /// DPD超时后的动作。默认为clear。dpdEnable为1（开启）时有效。可取值为clear（断开）和restart（重试） 默认值：restart
    #[serde(rename = "DpdAction", default, skip_serializing_if = "Option::is_none")]
    pub dpd_action: Option<String>,
    /// 对端网关ID，4.0及以上网关下的通道支持更新。
    #[serde(
        rename = "CustomerGatewayId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_gateway_id: Option<String>,
    /// 健康检查配置
    #[serde(
        rename = "HealthCheckConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub health_check_config: Option<HealthCheckConfig>,
    /// BGP隧道配置
    #[serde(rename = "BgpConfig", default, skip_serializing_if = "Option::is_none")]
    pub bgp_config: Option<BgpConfig>,
}

/// `ModifyVpnConnectionAttributeResponse` (ModifyVpnConnectionAttribute返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModifyVpnConnectionAttributeResponse {
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `DeleteVpnConnectionRequest` (DeleteVpnConnection请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteVpnConnectionRequest {
    /// VPN网关实例ID。
    #[serde(rename = "VpnGatewayId")]
    pub vpn_gateway_id: String,
    /// VPN通道实例ID。形如：vpnx-f49l6u0z。
    #[serde(rename = "VpnConnectionId")]
    pub vpn_connection_id: String,
}

/// `DeleteVpnConnectionResponse` (DeleteVpnConnection返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteVpnConnectionResponse {
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `ResetVpnConnectionRequest` (ResetVpnConnection请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResetVpnConnectionRequest {
    /// VPN网关实例ID。
    #[serde(rename = "VpnGatewayId")]
    pub vpn_gateway_id: String,
    /// VPN通道实例ID。形如：vpnx-f49l6u0z。
    #[serde(rename = "VpnConnectionId")]
    pub vpn_connection_id: String,
}

/// `ResetVpnConnectionResponse` (ResetVpnConnection返回参数结构体): only the request id. The
/// documentation describes no task: the tunnel renegotiates on its own and its `NetStatus` shows
/// when it is back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResetVpnConnectionResponse {
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `CreateVpnGatewayRequest` (CreateVpnGateway请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateVpnGatewayRequest {
    /// VPC实例ID。可通过 DescribeVpcs 。接口返回值中的VpcId获取 入参限制：当Type为CCN/SSL_CCN 类型时传 ""，IPSEC/SSL 类型必须传对应VPC实例ID。
    #[serde(rename = "VpcId")]
    pub vpc_id: String,
    /// VPN网关名称，最大长度不能超过60个字节。
    #[serde(rename = "VpnGatewayName")]
    pub vpn_gateway_name: String,
    /// 公网带宽设置。可选带宽规格：5, 10, 20, 50, 100, 200, 500, 1000, 3000；单位：Mbps。
    #[serde(rename = "InternetMaxBandwidthOut")]
    pub internet_max_bandwidth_out: u64,
    /// VPN网关计费模式，PREPAID：表示预付费，即包年包月，POSTPAID_BY_HOUR：表示后付费，即按量计费。默认：POSTPAID_BY_HOUR，如果指定预付费模式，参数InstanceChargePrepa…
    #[serde(
        rename = "InstanceChargeType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_charge_type: Option<String>,
    /// 预付费模式，即包年包月相关参数设置。通过该参数可以指定包年包月实例的购买时长、是否设置自动续费等属性。若指定实例的付费模式为预付费则该参数必传。
    #[serde(
        rename = "InstanceChargePrepaid",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_charge_prepaid: Option<InstanceChargePrepaid>,
    /// 可用区，如：ap-guangzhou-2。
    /// (marked disabled/legacy in the spec, still accepted)
    #[serde(rename = "Zone", default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// VPN网关类型，默认为IPSEC。值“IPSEC”为VPC型IPSEC VPN网关，值“SSL”为VPC型SSL VPN网关，值“CCN”为云联网型IPSEC VPN网关，值“SSL_CCN”为云联网型SSL VPN网关…
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub gateway_type: Option<String>,
    /// 指定绑定的标签列表，例如：[{"Key": "city", "Value": "shanghai"}]。
    #[serde(rename = "Tags", default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// CDC实例ID。
    #[serde(rename = "CdcId", default, skip_serializing_if = "Option::is_none")]
    pub cdc_id: Option<String>,
    /// SSL VPN连接数设置，可选规格：5, 10, 20, 50, 100, 200, 500, 1000； 单位：个 默认值：5 仅 SSL / SSL_CCN 类型需要填这个参数。
    #[serde(
        rename = "MaxConnection",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_connection: Option<u64>,
    /// BGP ASN。
    #[serde(rename = "BgpAsn", default, skip_serializing_if = "Option::is_none")]
    pub bgp_asn: Option<u64>,
    /// 是否是私网类型
    #[serde(rename = "IsPrivate", default, skip_serializing_if = "Option::is_none")]
    pub is_private: Option<bool>,
    /// 私网唯一ID
    #[serde(rename = "SubnetId", default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// BGP 开关，开启时需指定BgpAsn。
    #[serde(rename = "BgpEnable", default, skip_serializing_if = "Option::is_none")]
    pub bgp_enable: Option<bool>,
    /// 内外层IP协议 枚举值： 4in4： IPv4 over IPv4 6in4： IPv6 over IPv4 6in6： IPv6 over IPv6 4in6： IPv4 over IPv6 默认值：4in4
    #[serde(rename = "IpStack", default, skip_serializing_if = "Option::is_none")]
    pub ip_stack: Option<String>,
    /// CCN类型私网VPN接入网段
    #[serde(
        rename = "AccessSubnet",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub access_subnet: Option<String>,
}

/// `CreateVpnGatewayResponse` (CreateVpnGateway返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateVpnGatewayResponse {
    /// VPN网关对象
    #[serde(
        rename = "VpnGateway",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpn_gateway: VpnGateway,
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `DescribeVpnGatewaysRequest` (DescribeVpnGateways请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeVpnGatewaysRequest {
    /// VPN网关实例ID。形如：vpngw-f49l6u0z。每次请求的实例的上限为100。参数不支持同时指定VpnGatewayIds和Filters。
    #[serde(
        rename = "VpnGatewayIds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vpn_gateway_ids: Option<Vec<String>>,
    /// 过滤条件，参数不支持同时指定VpnGatewayIds和Filters。 vpc-id - String - （过滤条件）VPC实例ID形如：vpc-f49l6u0z。 vpn-gateway-id - String -…
    #[serde(rename = "Filters", default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    /// 偏移量，默认值为0。
    #[serde(rename = "Offset", default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// 请求对象个数，默认值为20。
    #[serde(rename = "Limit", default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// `DescribeVpnGatewaysResponse` (DescribeVpnGateways返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeVpnGatewaysResponse {
    /// 符合条件的实例数量。
    #[serde(
        rename = "TotalCount",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub total_count: u64,
    /// VPN网关实例详细信息列表。
    #[serde(
        rename = "VpnGatewaySet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpn_gateway_set: Vec<VpnGateway>,
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `ModifyVpnGatewayAttributeRequest` (ModifyVpnGatewayAttribute请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModifyVpnGatewayAttributeRequest {
    /// VPN网关实例ID。
    #[serde(rename = "VpnGatewayId")]
    pub vpn_gateway_id: String,
    /// VPN网关名称，最大长度不能超过60个字节。
    #[serde(
        rename = "VpnGatewayName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vpn_gateway_name: Option<String>,
    /// VPN网关计费模式，目前只支持预付费（即包年包月）到后付费（即按量计费）的转换。即参数只支持：POSTPAID_BY_HOUR。
    #[serde(
        rename = "InstanceChargeType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_charge_type: Option<String>,
    /// BGP ASN。ASN取值范围为1- 4294967295，默认值64551，其中139341、45090和58835不可用。
    #[serde(rename = "BgpAsn", default, skip_serializing_if = "Option::is_none")]
    pub bgp_asn: Option<u64>,
    /// 服务端最大连接数个数。
    #[serde(
        rename = "MaxConnection",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_connection: Option<u64>,
}

/// `ModifyVpnGatewayAttributeResponse` (ModifyVpnGatewayAttribute返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModifyVpnGatewayAttributeResponse {
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `ResetVpnGatewayInternetMaxBandwidthRequest` (ResetVpnGatewayInternetMaxBandwidth请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResetVpnGatewayInternetMaxBandwidthRequest {
    /// VPN网关实例ID。
    #[serde(rename = "VpnGatewayId")]
    pub vpn_gateway_id: String,
    /// 新规格公网带宽设置。可选带宽规格：5, 10, 20, 50, 100, 200, 500, 1000；单位：Mbps。VPN网关带宽目前仅支持部分带宽范围内升降配，如【5,100】Mbps和【200,1000】Mbps…
    #[serde(rename = "InternetMaxBandwidthOut")]
    pub internet_max_bandwidth_out: u64,
}

/// `ResetVpnGatewayInternetMaxBandwidthResponse` (ResetVpnGatewayInternetMaxBandwidth返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResetVpnGatewayInternetMaxBandwidthResponse {
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `DeleteVpnGatewayRequest` (DeleteVpnGateway请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteVpnGatewayRequest {
    /// VPN网关实例ID。
    #[serde(rename = "VpnGatewayId")]
    pub vpn_gateway_id: String,
}

/// `DeleteVpnGatewayResponse` (DeleteVpnGateway返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteVpnGatewayResponse {
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `CreateCustomerGatewayRequest` (CreateCustomerGateway请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateCustomerGatewayRequest {
    /// 对端网关名称，可任意命名，但不得超过60个字符。
    #[serde(rename = "CustomerGatewayName")]
    pub customer_gateway_name: String,
    /// 对端网关公网IP。
    #[serde(rename = "IpAddress")]
    pub ip_address: String,
    /// 指定绑定的标签列表，例如：[{"Key": "city", "Value": "shanghai"}]
    #[serde(rename = "Tags", default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// BGP ASN。ASN取值范围为1- 4294967295，其中139341、45090和58835不可用。
    #[serde(rename = "BgpAsn", default, skip_serializing_if = "Option::is_none")]
    pub bgp_asn: Option<i64>,
}

/// `CreateCustomerGatewayResponse` (CreateCustomerGateway返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateCustomerGatewayResponse {
    /// 对端网关对象
    #[serde(
        rename = "CustomerGateway",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub customer_gateway: CustomerGateway,
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `DescribeCustomerGatewaysRequest` (DescribeCustomerGateways请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeCustomerGatewaysRequest {
    /// 对端网关ID，例如：cgw-2wqq41m9。每次请求的实例的上限为100。参数不支持同时指定CustomerGatewayIds和Filters。
    #[serde(
        rename = "CustomerGatewayIds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_gateway_ids: Option<Vec<String>>,
    /// 过滤条件，详见下表：实例过滤条件表。每次请求的Filters的上限为10，Filter.Values的上限为5。参数不支持同时指定CustomerGatewayIds和Filters。 customer-gateway-…
    #[serde(rename = "Filters", default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    /// 偏移量，默认为0。关于Offset的更进一步介绍请参考 API 简介 中的相关小节。
    #[serde(rename = "Offset", default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// 返回数量，默认为20，最大值为100。
    #[serde(rename = "Limit", default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// `DescribeCustomerGatewaysResponse` (DescribeCustomerGateways返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeCustomerGatewaysResponse {
    /// 对端网关对象列表。
    #[serde(
        rename = "CustomerGatewaySet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub customer_gateway_set: Vec<CustomerGateway>,
    /// 符合条件的实例数量。
    #[serde(
        rename = "TotalCount",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub total_count: u64,
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `ModifyCustomerGatewayAttributeRequest` (ModifyCustomerGatewayAttribute请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModifyCustomerGatewayAttributeRequest {
    /// 对端网关ID，例如：cgw-2wqq41m9，可通过[DescribeCustomerGateways](https://cloud.tencent.com/document/api/215/17516)接口查询对端网关…
    #[serde(rename = "CustomerGatewayId")]
    pub customer_gateway_id: String,
    /// 对端网关名称，可任意命名，但不得超过60个字符。
    #[serde(rename = "CustomerGatewayName")]
    pub customer_gateway_name: String,
    /// BGP ASN。只有开启BGP白名单才可以修改此参数。
    #[serde(rename = "BgpAsn", default, skip_serializing_if = "Option::is_none")]
    pub bgp_asn: Option<u64>,
}

/// `ModifyCustomerGatewayAttributeResponse` (ModifyCustomerGatewayAttribute返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModifyCustomerGatewayAttributeResponse {
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `DeleteCustomerGatewayRequest` (DeleteCustomerGateway请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteCustomerGatewayRequest {
    /// 对端网关ID，例如：cgw-2wqq41m9，可通过[DescribeCustomerGateways](https://cloud.tencent.com/document/api/215/17516)接口查询对端网关…
    #[serde(rename = "CustomerGatewayId")]
    pub customer_gateway_id: String,
}

/// `DeleteCustomerGatewayResponse` (DeleteCustomerGateway返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteCustomerGatewayResponse {
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `DescribeVpcTaskResultRequest` (DescribeVpcTaskResult请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeVpcTaskResultRequest {
    /// 异步任务请求返回的RequestId。
    #[serde(rename = "TaskId")]
    pub task_id: String,
}

/// `DescribeVpcTaskResultResponse` (DescribeVpcTaskResult返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeVpcTaskResultResponse {
    /// 异步任务执行结果。结果：SUCCESS、FAILED、RUNNING。3者其中之一。其中SUCCESS表示任务执行成功，FAILED表示任务执行失败，RUNNING表示任务执行中。
    #[serde(
        rename = "Status",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub status: String,
    /// 异步任务执行输出。
    #[serde(
        rename = "Output",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub output: String,
    /// 异步任务详细结果。只用于特殊场景，如批量删除弹性网卡时查询成功的网卡列表和失败的列表。
    #[serde(
        rename = "Result",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub result: Vec<VpcTaskResultDetailInfo>,
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `CreateVpcRequest` (CreateVpc请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateVpcRequest {
    /// vpc名称，最大长度不能超过60个字节。
    #[serde(rename = "VpcName")]
    pub vpc_name: String,
    /// 协议栈类型 枚举值： DualStack： IPv4和IPv6双栈 IPv6Only： IPv6单栈
    #[serde(rename = "StackType", default, skip_serializing_if = "Option::is_none")]
    pub stack_type: Option<String>,
    /// vpc的cidr，仅能在10.0.0.0/12，172.16.0.0/12，192.168.0.0/16这三个内网网段内。
    #[serde(rename = "CidrBlock", default, skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    /// VPC 的 IPv6 CIDR 。
    #[serde(
        rename = "Ipv6CidrBlock",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ipv6_cidr_block: Option<String>,
    /// IPv6网段类型 枚举值： GUA： 全球单播地址 ULA： 唯一本地地址
    #[serde(
        rename = "AddressType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub address_type: Option<String>,
    /// 是否开启组播。true: 开启, false: 不开启。
    #[serde(
        rename = "EnableMulticast",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_multicast: Option<String>,
    /// DNS地址，最多支持4个。
    #[serde(
        rename = "DnsServers",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dns_servers: Option<Vec<String>>,
    /// DHCP使用的域名。
    #[serde(
        rename = "DomainName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub domain_name: Option<String>,
    /// 指定绑定的标签列表，例如：[{"Key": "city", "Value": "shanghai"}]。
    #[serde(rename = "Tags", default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// vpc关联云联网时路由发布策略， true：开启cidr路由发布，false：开启subnet子网路由发布。创建vpc时默认为子网路由发布，当选择cidr路由发布时,请通过工单加入白名单
    #[serde(
        rename = "EnableRouteVpcPublish",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_route_vpc_publish: Option<bool>,
    /// vpc关联云联网时IPv6类型路由发布策略， true：开启cidr路由发布，false：开启subnet子网路由发布。创建vpc时默认为子网路由发布，当选择cidr路由发布时，请通过工单加入白名单。
    #[serde(
        rename = "EnableRouteVpcPublishIpv6",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_route_vpc_publish_ipv6: Option<bool>,
}

/// `CreateVpcResponse` (CreateVpc返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateVpcResponse {
    /// Vpc对象。
    #[serde(rename = "Vpc", default, deserialize_with = "crate::de::null_default")]
    pub vpc: Vpc,
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `DescribeVpcsRequest` (DescribeVpcs请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeVpcsRequest {
    /// VPC实例ID。形如：vpc-f49l6u0z。每次请求的实例的上限为100。参数不支持同时指定VpcIds和Filters。
    #[serde(rename = "VpcIds", default, skip_serializing_if = "Option::is_none")]
    pub vpc_ids: Option<Vec<String>>,
    /// 过滤条件，不支持同时指定VpcIds和Filters参数。 支持的过滤条件如下： vpc-name：VPC实例名称，支持模糊查询。 is-default ：是否默认VPC。 vpc-id ：VPC实例ID，例如：vpc-…
    #[serde(rename = "Filters", default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    /// 偏移量，默认为0。
    #[serde(rename = "Offset", default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
    /// 返回数量，默认为20，最大值为100。
    #[serde(rename = "Limit", default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// `DescribeVpcsResponse` (DescribeVpcs返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeVpcsResponse {
    /// 符合条件的对象数。
    #[serde(
        rename = "TotalCount",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub total_count: u64,
    /// VPC对象。
    #[serde(
        rename = "VpcSet",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub vpc_set: Vec<Vpc>,
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `DeleteVpcRequest` (DeleteVpc请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteVpcRequest {
    /// VPC实例ID。可通过DescribeVpcs接口返回值中的VpcId获取。
    #[serde(rename = "VpcId")]
    pub vpc_id: String,
}

/// `DeleteVpcResponse` (DeleteVpc返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteVpcResponse {
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}
