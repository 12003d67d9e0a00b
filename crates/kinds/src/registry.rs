//! The registry: the kinds tunnelform knows, each pointing at its home. The only place that
//! lists them; everything else asks a kind through [`ResourceKind::def`] / [`DataKind::def`].

use serde::{Deserialize, Serialize};
use tunnelform_model::BlockSchema;

use crate::contract::Kind;
use crate::data::{self, DataSource};
use crate::{
    customer_gateway, route_table, route_table_entry, vpn_connection, vpn_gateway,
    vpn_gateway_route,
};

/// A managed resource kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    VpnGateway,
    CustomerGateway,
    VpnConnection,
    VpnGatewayRoute,
    RouteTable,
    RouteTableEntry,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 6] = [
        ResourceKind::VpnGateway,
        ResourceKind::CustomerGateway,
        ResourceKind::VpnConnection,
        ResourceKind::VpnGatewayRoute,
        ResourceKind::RouteTable,
        ResourceKind::RouteTableEntry,
    ];

    /// The kind's implementation.
    pub fn def(self) -> &'static dyn Kind {
        match self {
            ResourceKind::VpnGateway => &vpn_gateway::VpnGatewayKind,
            ResourceKind::CustomerGateway => &customer_gateway::CustomerGatewayKind,
            ResourceKind::VpnConnection => &vpn_connection::VpnConnectionKind,
            ResourceKind::VpnGatewayRoute => &vpn_gateway_route::VpnGatewayRouteKind,
            ResourceKind::RouteTable => &route_table::RouteTableKind,
            ResourceKind::RouteTableEntry => &route_table_entry::RouteTableEntryKind,
        }
    }

    pub fn type_name(self) -> &'static str {
        self.def().type_name()
    }

    pub fn schema(self) -> &'static BlockSchema {
        self.def().schema()
    }

    /// The id prefix (`vpnx-...`), which is also the tag service's resource prefix.
    pub fn id_prefix(self) -> &'static str {
        self.def().id_prefix()
    }

    pub fn from_type_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.type_name() == name)
    }

    /// The kind whose ids look like `id` (`vpngw-1a2b3c4d`).
    pub fn of_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.def().owns_id(id))
    }

    /// Whether `id` is the id of an object of this kind.
    pub fn owns_id(self, id: &str) -> bool {
        self.def().owns_id(id)
    }
}

/// A data-source kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataKind {
    VpnGateways,
    CustomerGateways,
    VpcInstances,
    RouteTables,
    CustomerGatewayVendors,
    ConfigurationDownload,
}

impl DataKind {
    pub const ALL: [DataKind; 6] = [
        DataKind::VpnGateways,
        DataKind::CustomerGateways,
        DataKind::VpcInstances,
        DataKind::RouteTables,
        DataKind::CustomerGatewayVendors,
        DataKind::ConfigurationDownload,
    ];

    /// The data source's implementation.
    pub fn def(self) -> &'static dyn DataSource {
        match self {
            DataKind::VpnGateways => &data::vpn_gateways::VpnGateways,
            DataKind::CustomerGateways => &data::customer_gateways::CustomerGateways,
            DataKind::VpcInstances => &data::vpc_instances::VpcInstances,
            DataKind::RouteTables => &data::route_tables::RouteTables,
            DataKind::CustomerGatewayVendors => {
                &data::customer_gateway_vendors::CustomerGatewayVendors
            }
            DataKind::ConfigurationDownload => &data::configuration_download::ConfigurationDownload,
        }
    }

    pub fn type_name(self) -> &'static str {
        self.def().type_name()
    }

    pub fn schema(self) -> &'static BlockSchema {
        self.def().schema()
    }

    pub fn from_type_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.type_name() == name)
    }
}

/// What an object is: a managed resource or a data source, by kind. Serialised as its type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    Managed(ResourceKind),
    Data(DataKind),
}

impl ObjectKind {
    pub fn type_name(self) -> &'static str {
        match self {
            ObjectKind::Managed(k) => k.type_name(),
            ObjectKind::Data(k) => k.type_name(),
        }
    }

    pub fn schema(self) -> &'static BlockSchema {
        match self {
            ObjectKind::Managed(k) => k.schema(),
            ObjectKind::Data(k) => k.schema(),
        }
    }

    pub fn managed(self) -> Option<ResourceKind> {
        match self {
            ObjectKind::Managed(k) => Some(k),
            ObjectKind::Data(_) => None,
        }
    }

    pub fn from_type_name(name: &str) -> Option<Self> {
        ResourceKind::from_type_name(name)
            .map(ObjectKind::Managed)
            .or_else(|| DataKind::from_type_name(name).map(ObjectKind::Data))
    }
}

impl Serialize for ObjectKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.type_name())
    }
}

impl<'de> Deserialize<'de> for ObjectKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ObjectKind::from_type_name(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown resource type {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in ResourceKind::ALL {
            assert_eq!(ResourceKind::from_type_name(k.type_name()), Some(k));
            if k.def().owns_id(&format!("{}-1a2b", k.id_prefix())) {
                assert_eq!(
                    ResourceKind::of_id(&format!("{}-1a2b", k.id_prefix())),
                    Some(k)
                );
            }
        }
        for k in DataKind::ALL {
            assert_eq!(DataKind::from_type_name(k.type_name()), Some(k));
        }
        assert_eq!(
            ResourceKind::from_type_name("tencentcloud_vpn_gateways"),
            None
        );
        assert_eq!(ResourceKind::of_id("vpc-1"), None);
    }

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
                // The provider's (commented-out) `route` is ForceNew too: the API cannot change it.
                "route",
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
    fn composite_ids_belong_to_their_kind_only() {
        assert_eq!(
            ResourceKind::of_id("12345.rtb-1a2b3c4d"),
            Some(ResourceKind::RouteTableEntry)
        );
        assert_eq!(
            ResourceKind::of_id("vpngw-1a2b3c4d#vpnr-5e6f7a8b"),
            Some(ResourceKind::VpnGatewayRoute)
        );
        assert_eq!(
            ResourceKind::of_id("rtb-1a2b3c4d"),
            Some(ResourceKind::RouteTable)
        );
        assert_eq!(
            ResourceKind::of_id("vpngw-1a2b3c4d"),
            Some(ResourceKind::VpnGateway)
        );
        assert!(!ResourceKind::VpnGateway.owns_id("vpngw-1a2b3c4d#vpnr-5e6f7a8b"));
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
    fn spd_is_an_unordered_block() {
        let spd = ResourceKind::VpnConnection
            .schema()
            .attr("security_group_policy")
            .unwrap();
        assert!(spd.is_set());
        let (_, block) = spd.block().unwrap();
        assert!(block.attr("remote_cidr_block").unwrap().is_set());
    }
}
