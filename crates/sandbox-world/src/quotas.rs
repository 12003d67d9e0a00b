//! The quotas the emulated account has (FACTS.md, "Quotas"), which the actions enforce.

/// The documented default quotas (FACTS.md, "Quotas").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// `vpn-gateways-per-vpc` (10).
    pub vpn_gateways_per_vpc: u32,
    /// `customer-gateways-per-region` (20).
    pub customer_gateways_per_region: u32,
    /// `tunnels-per-customer-gateway` (10).
    pub tunnels_per_customer_gateway: u32,
    /// `tunnels-per-vpn-gateway` (20).
    pub tunnels_per_vpn_gateway: u32,
    /// `spd-per-tunnel` (10).
    pub spd_per_tunnel: u32,
    /// `cidrs-per-spd` (50).
    pub cidrs_per_spd: u32,
    /// `vpcs-per-region` (20, Tencent's default VPC quota; `VpcLimitExceeded`).
    pub vpcs_per_region: u32,
    /// `route-tables-per-vpc` (10, the default one included).
    pub route_tables_per_vpc: u32,
    /// `routes-per-table` (200).
    pub routes_per_table: u32,
    /// `routes-per-vpn-gateway` (100; `LimitExceeded.VpnGatewayRoutesLimitExceeded`).
    pub routes_per_vpn_gateway: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            vpn_gateways_per_vpc: 10,
            customer_gateways_per_region: 20,
            tunnels_per_customer_gateway: 10,
            tunnels_per_vpn_gateway: 20,
            spd_per_tunnel: 10,
            cidrs_per_spd: 50,
            vpcs_per_region: 20,
            route_tables_per_vpc: 10,
            routes_per_table: 200,
            routes_per_vpn_gateway: 100,
        }
    }
}

impl Quotas {
    /// The names accepted by `--quota NAME=N`.
    pub const NAMES: &'static [&'static str] = &[
        "vpn-gateways-per-vpc",
        "customer-gateways-per-region",
        "tunnels-per-customer-gateway",
        "tunnels-per-vpn-gateway",
        "spd-per-tunnel",
        "cidrs-per-spd",
        "vpcs-per-region",
        "route-tables-per-vpc",
        "routes-per-table",
        "routes-per-vpn-gateway",
    ];

    /// Sets one quota by its command-line name.
    pub fn set(&mut self, name: &str, value: u32) -> Result<(), UnknownQuota> {
        let slot = match name {
            "vpn-gateways-per-vpc" => &mut self.vpn_gateways_per_vpc,
            "customer-gateways-per-region" => &mut self.customer_gateways_per_region,
            "tunnels-per-customer-gateway" => &mut self.tunnels_per_customer_gateway,
            "tunnels-per-vpn-gateway" => &mut self.tunnels_per_vpn_gateway,
            "spd-per-tunnel" => &mut self.spd_per_tunnel,
            "cidrs-per-spd" => &mut self.cidrs_per_spd,
            "vpcs-per-region" => &mut self.vpcs_per_region,
            "route-tables-per-vpc" => &mut self.route_tables_per_vpc,
            "routes-per-table" => &mut self.routes_per_table,
            "routes-per-vpn-gateway" => &mut self.routes_per_vpn_gateway,
            _ => {
                return Err(UnknownQuota {
                    name: name.to_string(),
                })
            }
        };
        *slot = value;
        Ok(())
    }
}

/// A quota name [`Quotas::set`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown quota `{name}`; known quotas: {}", Quotas::NAMES.join(", "))]
pub struct UnknownQuota {
    /// The name given.
    pub name: String,
}
