//! Resource and data-source schemas, with the Terraform provider's argument names.
//!
//! One static description per kind drives validation (config), diffing and normalisation (plan)
//! and rendering. `default` is the value the API fills in when an argument is omitted, so an
//! omitted argument never produces a perpetual diff.

use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Int,
    Bool,
    List(&'static AttrType),
    /// Order-insensitive collection.
    Set(&'static AttrType),
    Map(&'static AttrType),
    /// Nested block(s): `security_group_policy { ... }`.
    Block(Nesting, &'static BlockSchema),
    /// Computed structured output (data-source result lists).
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block (the provider's `MaxItems: 1` lists).
    Single,
    /// Ordered blocks.
    List,
    /// Unordered blocks.
    Set,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    Str(&'static str),
    Int(i64),
    Bool(bool),
}

impl DefaultValue {
    pub fn to_value(self) -> Value {
        match self {
            DefaultValue::Str(s) => Value::from(s),
            DefaultValue::Int(i) => Value::int(i),
            DefaultValue::Bool(b) => Value::Bool(b),
        }
    }
}

/// Value checks applied before any API call; they mirror what the API would reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    OneOf(&'static [&'static str]),
    IntRange(i64, i64),
    IntOneOf(&'static [i64]),
    IntMin(i64),
    /// Length in characters, inclusive.
    StrLen(usize, usize),
    /// An IPv4 CIDR block `a.b.c.d/n`.
    Cidr,
    /// An IPv4 address.
    Ipv4,
    /// A public IPv4 address acceptable for a customer gateway.
    CustomerGatewayIp,
    /// A /30 IPv4 block (BGP tunnel).
    Cidr30,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrSchema {
    pub name: &'static str,
    pub ty: AttrType,
    pub required: bool,
    pub optional: bool,
    /// Filled in by the API when not configured (or always, when neither required nor optional).
    pub computed: bool,
    /// A change replaces the resource.
    pub force_new: bool,
    pub sensitive: bool,
    pub default: Option<DefaultValue>,
    pub checks: &'static [Check],
    pub description: &'static str,
}

impl AttrSchema {
    const fn new(name: &'static str, ty: AttrType) -> Self {
        AttrSchema {
            name,
            ty,
            required: false,
            optional: true,
            computed: false,
            force_new: false,
            sensitive: false,
            default: None,
            checks: &[],
            description: "",
        }
    }
    const fn required(mut self) -> Self {
        self.required = true;
        self.optional = false;
        self
    }
    const fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    /// Read-only: only the API sets it.
    const fn read_only(mut self) -> Self {
        self.computed = true;
        self.optional = false;
        self
    }
    const fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    const fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    const fn default(mut self, d: DefaultValue) -> Self {
        self.default = Some(d);
        self
    }
    const fn checks(mut self, c: &'static [Check]) -> Self {
        self.checks = c;
        self
    }
    const fn doc(mut self, d: &'static str) -> Self {
        self.description = d;
        self
    }

    /// Whether the user may set it.
    pub fn is_argument(&self) -> bool {
        self.required || self.optional
    }

    /// Whether the value is unordered (set semantics).
    pub fn is_set(&self) -> bool {
        matches!(self.ty, AttrType::Set(_) | AttrType::Block(Nesting::Set, _))
    }

    pub fn block(&self) -> Option<(Nesting, &'static BlockSchema)> {
        match self.ty {
            AttrType::Block(n, b) => Some((n, b)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSchema {
    pub attrs: &'static [AttrSchema],
}

impl BlockSchema {
    pub fn attr(&self, name: &str) -> Option<&'static AttrSchema> {
        // Called for every attribute of every object: compare the first byte before the rest (a
        // string comparison is a libc call; most names differ at once).
        let first = name.as_bytes().first();
        self.attrs
            .iter()
            .find(|a| a.name.as_bytes().first() == first && a.name == name)
    }

    pub fn argument_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.attrs
            .iter()
            .filter(|a| a.is_argument())
            .map(|a| a.name)
    }
}

use AttrType as T;
use Check as C;
use DefaultValue as D;

const STR: AttrType = T::String;
const STR_SET: AttrType = T::Set(&T::String);
const STR_MAP: AttrType = T::Map(&T::String);

pub const IKE_ENCRYPTION: &[&str] = &[
    "3DES-CBC",
    "AES-CBC-128",
    "AES-CBC-192",
    "AES-CBC-256",
    "DES-CBC",
    "SM4",
    "AES128GCM128",
    "AES192GCM128",
    "AES256GCM128",
];
pub const IKE_AUTH: &[&str] = &["MD5", "SHA", "SHA-256", "SHA-384", "SHA-512", "SM3"];
pub const IKE_DH: &[&str] = &[
    "GROUP1", "GROUP2", "GROUP5", "GROUP14", "GROUP24", "GROUP19", "GROUP20",
];
pub const IPSEC_ENCRYPTION: &[&str] = &[
    "3DES-CBC",
    "AES-CBC-128",
    "AES-CBC-192",
    "AES-CBC-256",
    "DES-CBC",
    "SM4",
    "NULL",
    "AES128GCM128",
    "AES192GCM128",
    "AES256GCM128",
];
pub const IPSEC_INTEGRITY: &[&str] = &["MD5", "SHA1", "SHA-256", "SHA-384", "SHA-512", "SM3"];
pub const IPSEC_PFS: &[&str] = &[
    "NULL",
    "DH-GROUP1",
    "DH-GROUP2",
    "DH-GROUP5",
    "DH-GROUP14",
    "DH-GROUP24",
    "DH-GROUP19",
    "DH-GROUP20",
];
pub const ROUTE_TYPES: &[&str] = &["STATIC", "StaticRoute", "Policy", "Bgp"];
pub const NEGOTIATION_TYPES: &[&str] = &["active", "passive", "flowTrigger"];
pub const DPD_ACTIONS: &[&str] = &["clear", "restart"];

const SPD_BLOCK: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("local_cidr_block", STR)
            .required()
            .checks(&[C::Cidr])
            .doc("VPC-side CIDR block."),
        AttrSchema::new("remote_cidr_block", STR_SET)
            .required()
            .checks(&[C::Cidr])
            .doc("Customer-side CIDR blocks (a set)."),
    ],
};

const BGP_BLOCK: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("tunnel_cidr", STR)
            .required()
            .checks(&[C::Cidr30])
            .doc("BGP tunnel block, a /30."),
        AttrSchema::new("local_bgp_ip", STR)
            .required()
            .checks(&[C::Ipv4])
            .doc("Cloud-side BGP address, inside tunnel_cidr."),
        AttrSchema::new("remote_bgp_ip", STR)
            .required()
            .checks(&[C::Ipv4])
            .doc("Customer-side BGP address, inside tunnel_cidr."),
    ],
};

const HEALTH_CHECK_BLOCK: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("probe_type", STR)
            .computed()
            .default(D::Str("NQA"))
            .checks(&[C::OneOf(&["NQA"])]),
        AttrSchema::new("probe_interval", T::Int)
            .computed()
            .checks(&[C::IntRange(1000, 5000)])
            .doc("Milliseconds."),
        AttrSchema::new("probe_threshold", T::Int)
            .computed()
            .checks(&[C::IntRange(3, 8)]),
        AttrSchema::new("probe_timeout", T::Int)
            .computed()
            .checks(&[C::IntRange(10, 5000)])
            .doc("Milliseconds."),
    ],
};

pub const VPN_CONNECTION: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("name", STR)
            .required()
            .checks(&[C::StrLen(1, 60)])
            .doc("Name of the tunnel, 1-60 characters."),
        AttrSchema::new("vpc_id", STR)
            .force_new()
            .doc("VPC of the VPN gateway (required unless the gateway is CCN)."),
        AttrSchema::new("is_ccn_type", T::Bool).read_only(),
        AttrSchema::new("vpn_gateway_id", STR)
            .required()
            .force_new(),
        AttrSchema::new("customer_gateway_id", STR)
            .required()
            .force_new(),
        AttrSchema::new("pre_share_key", STR)
            .required()
            .sensitive()
            .checks(&[C::StrLen(1, 128)]),
        AttrSchema::new("security_group_policy", T::Block(Nesting::Set, &SPD_BLOCK))
            .doc("SPD entries (a set): which VPC block talks to which customer blocks."),
        AttrSchema::new("ike_proto_encry_algorithm", STR)
            .default(D::Str("3DES-CBC"))
            .checks(&[C::OneOf(IKE_ENCRYPTION)]),
        AttrSchema::new("ike_proto_authen_algorithm", STR)
            .default(D::Str("MD5"))
            .checks(&[C::OneOf(IKE_AUTH)]),
        AttrSchema::new("ike_exchange_mode", STR)
            .default(D::Str("MAIN"))
            .checks(&[C::OneOf(&["AGGRESSIVE", "MAIN"])]),
        AttrSchema::new("ike_local_identity", STR)
            .default(D::Str("ADDRESS"))
            .checks(&[C::OneOf(&["ADDRESS", "FQDN"])]),
        AttrSchema::new("ike_remote_identity", STR)
            .default(D::Str("ADDRESS"))
            .checks(&[C::OneOf(&["ADDRESS", "FQDN"])]),
        AttrSchema::new("ike_local_address", STR)
            .computed()
            .checks(&[C::Ipv4]),
        AttrSchema::new("ike_remote_address", STR)
            .computed()
            .checks(&[C::Ipv4]),
        AttrSchema::new("ike_local_fqdn_name", STR).computed(),
        AttrSchema::new("ike_remote_fqdn_name", STR).computed(),
        AttrSchema::new("ike_dh_group_name", STR)
            .default(D::Str("GROUP1"))
            .checks(&[C::OneOf(IKE_DH)]),
        AttrSchema::new("ike_sa_lifetime_seconds", T::Int)
            .default(D::Int(86400))
            .checks(&[C::IntRange(60, 604800)]),
        AttrSchema::new("ike_version", STR)
            .default(D::Str("IKEV1"))
            .checks(&[C::OneOf(&["IKEV1", "IKEV2"])]),
        AttrSchema::new("ipsec_encrypt_algorithm", STR)
            .default(D::Str("3DES-CBC"))
            .checks(&[C::OneOf(IPSEC_ENCRYPTION)]),
        AttrSchema::new("ipsec_integrity_algorithm", STR)
            .default(D::Str("MD5"))
            .checks(&[C::OneOf(IPSEC_INTEGRITY)]),
        AttrSchema::new("ipsec_sa_lifetime_seconds", T::Int)
            .default(D::Int(3600))
            .checks(&[C::IntRange(180, 604800)]),
        AttrSchema::new("ipsec_pfs_dh_group", STR)
            .default(D::Str("NULL"))
            .checks(&[C::OneOf(IPSEC_PFS)]),
        AttrSchema::new("ipsec_sa_lifetime_traffic", T::Int)
            .default(D::Int(1843200))
            .checks(&[C::IntRange(2560, 4294967295)])
            .doc("Kilobytes."),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("dpd_enable", T::Int)
            .default(D::Int(0))
            .checks(&[C::IntRange(0, 1)]),
        AttrSchema::new("dpd_timeout", T::Int)
            .default(D::Int(30))
            .checks(&[C::IntRange(30, 60)])
            .doc("Seconds."),
        AttrSchema::new("dpd_action", STR)
            .default(D::Str("clear"))
            .checks(&[C::OneOf(DPD_ACTIONS)]),
        AttrSchema::new("route_type", STR)
            .default(D::Str("StaticRoute"))
            .force_new()
            .checks(&[C::OneOf(ROUTE_TYPES)]),
        AttrSchema::new("negotiation_type", STR)
            .default(D::Str("active"))
            .checks(&[C::OneOf(NEGOTIATION_TYPES)]),
        AttrSchema::new("bgp_config", T::Block(Nesting::Single, &BGP_BLOCK))
            .computed()
            .force_new(),
        AttrSchema::new(
            "health_check_config",
            T::Block(Nesting::Single, &HEALTH_CHECK_BLOCK),
        )
        .computed(),
        AttrSchema::new("enable_health_check", T::Bool).default(D::Bool(false)),
        AttrSchema::new("health_check_local_ip", STR)
            .computed()
            .checks(&[C::Ipv4]),
        AttrSchema::new("health_check_remote_ip", STR)
            .computed()
            .checks(&[C::Ipv4]),
        AttrSchema::new("create_time", STR).read_only(),
        AttrSchema::new("state", STR).read_only(),
        AttrSchema::new("net_status", STR).read_only(),
        AttrSchema::new("vpn_proto", STR).read_only(),
        AttrSchema::new("encrypt_proto", STR).read_only(),
        AttrSchema::new("health_check_status", STR).read_only(),
    ],
};

pub const VPN_GATEWAY: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("name", STR)
            .required()
            .checks(&[C::StrLen(1, 60)]),
        AttrSchema::new("vpc_id", STR).force_new(),
        AttrSchema::new("bandwidth", T::Int)
            .default(D::Int(5))
            .checks(&[C::IntOneOf(&[5, 10, 20, 50, 100, 200, 500, 1000, 3000])])
            .doc("Mbps."),
        AttrSchema::new("type", STR)
            .default(D::Str("IPSEC"))
            .force_new()
            .checks(&[C::OneOf(&["IPSEC", "SSL", "CCN", "SSL_CCN"])]),
        AttrSchema::new("zone", STR).computed().force_new(),
        AttrSchema::new("charge_type", STR)
            .default(D::Str("POSTPAID_BY_HOUR"))
            .checks(&[C::OneOf(&["PREPAID", "POSTPAID_BY_HOUR"])]),
        AttrSchema::new("prepaid_period", T::Int)
            .default(D::Int(1))
            .checks(&[C::IntOneOf(&[1, 2, 3, 4, 6, 7, 8, 9, 12, 24, 36])]),
        AttrSchema::new("prepaid_renew_flag", STR)
            .default(D::Str("NOTIFY_AND_AUTO_RENEW"))
            .checks(&[C::OneOf(&[
                "NOTIFY_AND_AUTO_RENEW",
                "NOTIFY_AND_MANUAL_RENEW",
                "NOTIFY_AND_NOT_RENEW",
            ])]),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("bgp_asn", T::Int).computed(),
        AttrSchema::new("cdc_id", STR).computed().force_new(),
        AttrSchema::new("max_connection", T::Int).computed(),
        AttrSchema::new("public_ip_address", STR).read_only(),
        AttrSchema::new("state", STR).read_only(),
        AttrSchema::new("create_time", STR).read_only(),
        AttrSchema::new("expired_time", STR).read_only(),
        AttrSchema::new("is_address_blocked", T::Bool).read_only(),
        AttrSchema::new("new_purchase_plan", STR).read_only(),
        AttrSchema::new("restrict_state", STR).read_only(),
    ],
};

pub const CUSTOMER_GATEWAY: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("name", STR)
            .required()
            .checks(&[C::StrLen(1, 60)]),
        AttrSchema::new("public_ip_address", STR)
            .required()
            .force_new()
            .checks(&[C::CustomerGatewayIp]),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("bgp_asn", T::Int).computed(),
        AttrSchema::new("create_time", STR).read_only(),
    ],
};

pub const DATA_VPN_GATEWAYS: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("id", STR),
        AttrSchema::new("name", STR),
        AttrSchema::new("vpc_id", STR),
        AttrSchema::new("public_ip_address", STR).checks(&[C::Ipv4]),
        AttrSchema::new("zone", STR),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("result_output_file", STR),
        AttrSchema::new("gateway_list", T::Any).read_only(),
    ],
};

pub const DATA_CUSTOMER_GATEWAYS: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("id", STR),
        AttrSchema::new("name", STR),
        AttrSchema::new("public_ip_address", STR).checks(&[C::Ipv4]),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("result_output_file", STR),
        AttrSchema::new("gateway_list", T::Any).read_only(),
    ],
};

pub const DATA_VPC_INSTANCES: BlockSchema = BlockSchema {
    attrs: &[
        AttrSchema::new("vpc_id", STR),
        AttrSchema::new("name", STR),
        AttrSchema::new("cidr_block", STR).checks(&[C::Cidr]),
        AttrSchema::new("is_default", T::Bool),
        AttrSchema::new("is_multicast", T::Bool),
        AttrSchema::new("tag_key", STR),
        AttrSchema::new("tags", STR_MAP),
        AttrSchema::new("result_output_file", STR),
        AttrSchema::new("instance_list", T::Any).read_only(),
    ],
};

/// The managed resource kinds tunnelform knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    VpnGateway,
    CustomerGateway,
    VpnConnection,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 3] = [
        ResourceKind::VpnGateway,
        ResourceKind::CustomerGateway,
        ResourceKind::VpnConnection,
    ];

    pub fn type_name(self) -> &'static str {
        match self {
            ResourceKind::VpnGateway => "tencentcloud_vpn_gateway",
            ResourceKind::CustomerGateway => "tencentcloud_vpn_customer_gateway",
            ResourceKind::VpnConnection => "tencentcloud_vpn_connection",
        }
    }

    pub fn from_type_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.type_name() == name)
    }

    pub fn schema(self) -> &'static BlockSchema {
        match self {
            ResourceKind::VpnGateway => &VPN_GATEWAY,
            ResourceKind::CustomerGateway => &CUSTOMER_GATEWAY,
            ResourceKind::VpnConnection => &VPN_CONNECTION,
        }
    }

    /// The id prefix (`vpnx-...`), which is also the tag service's resource prefix.
    pub fn id_prefix(self) -> &'static str {
        match self {
            ResourceKind::VpnGateway => "vpngw",
            ResourceKind::CustomerGateway => "cgw",
            ResourceKind::VpnConnection => "vpnx",
        }
    }
}

/// The data-source kinds tunnelform knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataKind {
    VpnGateways,
    CustomerGateways,
    VpcInstances,
}

impl DataKind {
    pub const ALL: [DataKind; 3] = [
        DataKind::VpnGateways,
        DataKind::CustomerGateways,
        DataKind::VpcInstances,
    ];

    pub fn type_name(self) -> &'static str {
        match self {
            DataKind::VpnGateways => "tencentcloud_vpn_gateways",
            DataKind::CustomerGateways => "tencentcloud_vpn_customer_gateways",
            DataKind::VpcInstances => "tencentcloud_vpc_instances",
        }
    }

    pub fn from_type_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.type_name() == name)
    }

    pub fn schema(self) -> &'static BlockSchema {
        match self {
            DataKind::VpnGateways => &DATA_VPN_GATEWAYS,
            DataKind::CustomerGateways => &DATA_CUSTOMER_GATEWAYS,
            DataKind::VpcInstances => &DATA_VPC_INSTANCES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_force_new_arguments() {
        let conn = ResourceKind::VpnConnection.schema();
        let forced: Vec<_> = conn
            .attrs
            .iter()
            .filter(|a| a.force_new)
            .map(|a| a.name)
            .collect();
        assert_eq!(
            forced,
            [
                "vpc_id",
                "vpn_gateway_id",
                "customer_gateway_id",
                "route_type",
                "bgp_config"
            ]
        );
        assert!(
            ResourceKind::CustomerGateway
                .schema()
                .attr("public_ip_address")
                .unwrap()
                .force_new
        );
        assert!(
            ResourceKind::VpnGateway
                .schema()
                .attr("vpc_id")
                .unwrap()
                .force_new
        );
    }

    #[test]
    fn only_the_key_is_sensitive() {
        for kind in ResourceKind::ALL {
            for a in kind.schema().attrs {
                assert_eq!(a.sensitive, a.name == "pre_share_key", "{}", a.name);
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for k in ResourceKind::ALL {
            assert_eq!(ResourceKind::from_type_name(k.type_name()), Some(k));
        }
        for k in DataKind::ALL {
            assert_eq!(DataKind::from_type_name(k.type_name()), Some(k));
        }
        assert_eq!(
            ResourceKind::from_type_name("tencentcloud_vpn_gateways"),
            None
        );
    }

    #[test]
    fn spd_is_an_unordered_block() {
        let spd = VPN_CONNECTION.attr("security_group_policy").unwrap();
        assert!(spd.is_set());
        let (_, block) = spd.block().unwrap();
        assert!(block.attr("remote_cidr_block").unwrap().is_set());
    }
}
