//! Peer devices: DescribeCustomerGatewayVendors (the devices the configuration download knows) and
//! DownloadCustomerGatewayConfiguration (a tunnel's configuration for one of them, rendered from the
//! tunnel's real parameters: addresses, pre-shared key, IKE and IPsec proposals, SPD or routes, BGP).

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::gateway::find as find_gateway;
use super::{check_id_format, Ctx};
use crate::error::{codes, ApiError, ApiResult};
use crate::world::model::{VpnConnection, VpnGatewayInfo};
use crate::world::Region;

/// (vendor, platform, software version) of every device the sandbox renders configurations for.
pub const VENDORS: &[(&str, &str, &str)] = &[
    ("cisco", "ios", "V15.4"),
    ("h3c", "comware", "V1.0"),
    ("huawei", "vrp", "V5.x"),
    ("juniper", "junos", "V12.x"),
    ("strongswan", "linux", "V5.x"),
];

#[derive(Serialize, Deserialize, Clone)]
pub struct VendorIo {
    #[serde(rename = "Platform")]
    platform: String,
    #[serde(rename = "SoftwareVersion")]
    software_version: String,
    #[serde(rename = "VendorName")]
    vendor_name: String,
}

#[derive(Deserialize)]
pub struct DescribeVendorsReq {}

pub fn describe_vendors(ctx: &mut Ctx<'_>, _req: DescribeVendorsReq) -> ApiResult<Vec<u8>> {
    let set: Vec<VendorIo> = VENDORS
        .iter()
        .map(|(v, p, s)| VendorIo {
            platform: p.to_string(),
            software_version: s.to_string(),
            vendor_name: v.to_string(),
        })
        .collect();
    ctx.reply_one("CustomerGatewayVendorSet", &set)
}

#[derive(Deserialize)]
pub struct DownloadReq {
    #[serde(rename = "VpnGatewayId")]
    gateway: String,
    #[serde(rename = "VpnConnectionId")]
    connection: String,
    #[serde(rename = "CustomerGatewayVendor")]
    vendor: VendorIo,
    #[serde(rename = "InterfaceName")]
    interface: String,
}

pub fn download(ctx: &mut Ctx<'_>, req: DownloadReq) -> ApiResult<Vec<u8>> {
    let region = ctx.world.region(ctx.region);
    let g = find_gateway(region, "VpnGatewayId", &req.gateway)?;
    check_id_format(
        "VpnConnectionId",
        &req.connection,
        "vpnx",
        codes::IPV_MALFORMED,
    )?;
    let Some(region) = region else {
        return Err(ApiError::internal("no region"));
    };
    let c = region
        .connections()
        .get(&req.connection)
        .filter(|c| c.gateway_id == req.gateway)
        .ok_or_else(|| {
            ApiError::new(
                codes::RESOURCE_NOT_FOUND,
                format!(
                    "The VPN connection `{}` does not exist on VPN gateway {}.",
                    req.connection, req.gateway
                ),
            )
        })?;
    let v = &req.vendor;
    let Some(&(vendor, _, _)) = VENDORS
        .iter()
        .find(|(n, p, s)| *n == v.vendor_name && *p == v.platform && *s == v.software_version)
    else {
        return Err(ApiError::new(
            codes::INVALID_PARAMETER_VALUE,
            format!(
                "The vendor {} {} {} is not one DescribeCustomerGatewayVendors lists.",
                v.vendor_name, v.platform, v.software_version
            ),
        ));
    };
    let interface = req.interface.trim();
    if interface.is_empty() || interface.len() > 64 || interface.chars().any(char::is_control) {
        return Err(ApiError::new(
            codes::INVALID_PARAMETER_VALUE,
            "`InterfaceName` must be the name of the peer device's interface (1 to 64 printable characters).",
        ));
    }
    let text = render(vendor, region, &g.info, c, interface);
    ctx.reply_one("CustomerGatewayConfiguration", &text)
}

/// What every rendering needs of the tunnel.
struct Tunnel<'a> {
    cloud_ip: &'a str,
    peer_ip: &'a str,
    conn: &'a VpnConnection,
    /// The ranges on the cloud side and on the peer's side.
    cloud_nets: Vec<String>,
    peer_nets: Vec<String>,
}

fn tunnel<'a>(region: &'a Region, g: &'a VpnGatewayInfo, c: &'a VpnConnection) -> Tunnel<'a> {
    let peer_ip = region
        .customer_gateways
        .get(&c.customer_gateway_id)
        .map(|p| p.ip_address.as_str())
        .unwrap_or("");
    let mut cloud_nets: Vec<String> = c.spd.iter().map(|s| s.local.clone()).collect();
    let mut peer_nets: Vec<String> = c.spd.iter().flat_map(|s| s.remote.clone()).collect();
    if cloud_nets.is_empty() {
        if let Some(v) = region.vpcs.get(&c.vpc_id) {
            cloud_nets.push(v.cidr.to_string());
        }
    }
    if peer_nets.is_empty() {
        peer_nets = region
            .gateway_routes_to(&c.id)
            .map(|r| r.route.destination.clone())
            .collect();
    }
    cloud_nets.dedup();
    peer_nets.sort();
    peer_nets.dedup();
    Tunnel {
        cloud_ip: &g.public_ip,
        peer_ip,
        conn: c,
        cloud_nets,
        peer_nets,
    }
}

fn render(
    vendor: &str,
    region: &Region,
    g: &VpnGatewayInfo,
    c: &VpnConnection,
    interface: &str,
) -> String {
    let t = tunnel(region, g, c);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "! Tencent Cloud VPN connection {} ({}) on VPN gateway {}\r",
        c.id, c.name, g.id
    );
    let _ = writeln!(
        out,
        "! Peer device: {vendor}; tunnel leaves through {interface}\r"
    );
    let _ = writeln!(
        out,
        "! Cloud gateway {} <-> customer gateway {}; {} tunnel\r",
        t.cloud_ip, t.peer_ip, c.route_type
    );
    match vendor {
        "cisco" => cisco(&mut out, &t, interface),
        "h3c" | "huawei" => comware(&mut out, &t, interface, vendor == "huawei"),
        "juniper" => junos(&mut out, &t, interface),
        _ => strongswan(&mut out, &t, interface),
    }
    out
}

fn lifetime_kb(c: &VpnConnection) -> u64 {
    c.ipsec.sa_lifetime_traffic
}

fn cisco(out: &mut String, t: &Tunnel<'_>, interface: &str) {
    let c = t.conn;
    let _ = writeln!(out, "crypto isakmp policy 10\r");
    let _ = writeln!(
        out,
        " encryption {}\r",
        c.ike.encrypt_algorithm.to_lowercase()
    );
    let _ = writeln!(out, " hash {}\r", c.ike.authen_algorithm.to_lowercase());
    let _ = writeln!(
        out,
        " group {}\r",
        c.ike.dh_group_name.trim_start_matches("GROUP")
    );
    let _ = writeln!(out, " lifetime {}\r", c.ike.sa_lifetime_seconds);
    let _ = writeln!(
        out,
        "crypto isakmp key {} address {}\r",
        c.pre_share_key.0, t.cloud_ip
    );
    let _ = writeln!(
        out,
        "crypto ipsec transform-set TENCENT esp-{} esp-{}-hmac\r",
        c.ipsec.encrypt_algorithm.to_lowercase(),
        c.ipsec.integrity_algorithm.to_lowercase()
    );
    let _ = writeln!(out, "crypto map TENCENT 10 ipsec-isakmp\r");
    let _ = writeln!(out, " set peer {}\r", t.cloud_ip);
    let _ = writeln!(out, " set transform-set TENCENT\r");
    let _ = writeln!(
        out,
        " set security-association lifetime seconds {}\r",
        c.ipsec.sa_lifetime_seconds
    );
    let _ = writeln!(
        out,
        " set security-association lifetime kilobytes {}\r",
        lifetime_kb(c)
    );
    if c.ipsec.pfs_dh_group != "NULL" {
        let _ = writeln!(
            out,
            " set pfs group{}\r",
            c.ipsec.pfs_dh_group.trim_start_matches("DH-GROUP")
        );
    }
    let _ = writeln!(out, " match address TENCENT-ACL\r");
    let _ = writeln!(out, "ip access-list extended TENCENT-ACL\r");
    for p in &t.peer_nets {
        for q in &t.cloud_nets {
            let _ = writeln!(out, " permit ip {p} {q}\r");
        }
    }
    let _ = writeln!(out, "interface {interface}\r");
    let _ = writeln!(out, " crypto map TENCENT\r");
    bgp_lines(out, c, "router bgp");
}

fn comware(out: &mut String, t: &Tunnel<'_>, interface: &str, huawei: bool) {
    let c = t.conn;
    let _ = writeln!(out, "ike proposal 10\r");
    let _ = writeln!(
        out,
        " encryption-algorithm {}\r",
        c.ike.encrypt_algorithm.to_lowercase()
    );
    let _ = writeln!(
        out,
        " authentication-algorithm {}\r",
        c.ike.authen_algorithm.to_lowercase()
    );
    let _ = writeln!(out, " dh {}\r", c.ike.dh_group_name.to_lowercase());
    let _ = writeln!(out, " sa duration {}\r", c.ike.sa_lifetime_seconds);
    let keyword = if huawei { "ike peer" } else { "ike keychain" };
    let _ = writeln!(out, "{keyword} tencent\r");
    let _ = writeln!(
        out,
        " pre-shared-key address {} key simple {}\r",
        t.cloud_ip, c.pre_share_key.0
    );
    let _ = writeln!(out, "ipsec transform-set tencent\r");
    let _ = writeln!(
        out,
        " esp encryption-algorithm {}\r",
        c.ipsec.encrypt_algorithm.to_lowercase()
    );
    let _ = writeln!(
        out,
        " esp authentication-algorithm {}\r",
        c.ipsec.integrity_algorithm.to_lowercase()
    );
    let _ = writeln!(out, "acl advanced 3000\r");
    for (n, p) in t.peer_nets.iter().enumerate() {
        for q in &t.cloud_nets {
            let _ = writeln!(
                out,
                " rule {} permit ip source {p} destination {q}\r",
                n * 5
            );
        }
    }
    let _ = writeln!(out, "ipsec policy tencent 10 isakmp\r");
    let _ = writeln!(out, " security acl 3000\r");
    let _ = writeln!(out, " remote-address {}\r", t.cloud_ip);
    let _ = writeln!(
        out,
        " sa duration time-based {}\r",
        c.ipsec.sa_lifetime_seconds
    );
    let _ = writeln!(out, " sa duration traffic-based {}\r", lifetime_kb(c));
    let _ = writeln!(out, "interface {interface}\r");
    let _ = writeln!(out, " ipsec apply policy tencent\r");
    bgp_lines(out, c, "bgp");
}

fn junos(out: &mut String, t: &Tunnel<'_>, interface: &str) {
    let c = t.conn;
    let _ = writeln!(
        out,
        "set security ike proposal tencent authentication-method pre-shared-keys\r"
    );
    let _ = writeln!(
        out,
        "set security ike proposal tencent encryption-algorithm {}\r",
        c.ike.encrypt_algorithm.to_lowercase()
    );
    let _ = writeln!(
        out,
        "set security ike proposal tencent lifetime-seconds {}\r",
        c.ike.sa_lifetime_seconds
    );
    let _ = writeln!(
        out,
        "set security ike policy tencent pre-shared-key ascii-text \"{}\"\r",
        c.pre_share_key.0
    );
    let _ = writeln!(
        out,
        "set security ike gateway tencent address {} external-interface {interface}\r",
        t.cloud_ip
    );
    let _ = writeln!(
        out,
        "set security ipsec proposal tencent encryption-algorithm {}\r",
        c.ipsec.encrypt_algorithm.to_lowercase()
    );
    let _ = writeln!(
        out,
        "set security ipsec proposal tencent lifetime-seconds {}\r",
        c.ipsec.sa_lifetime_seconds
    );
    for (n, p) in t.peer_nets.iter().enumerate() {
        let _ = writeln!(
            out,
            "set security address-book global address peer-{n} {p}\r"
        );
    }
    for q in &t.cloud_nets {
        let _ = writeln!(out, "set routing-options static route {q} next-hop st0.0\r");
    }
    bgp_lines(out, c, "set protocols bgp");
}

fn strongswan(out: &mut String, t: &Tunnel<'_>, interface: &str) {
    let c = t.conn;
    let _ = writeln!(out, "# /etc/ipsec.conf\r");
    let _ = writeln!(out, "conn tencent\r");
    let _ = writeln!(out, "  left=%{interface}\r");
    let _ = writeln!(out, "  leftid={}\r", t.peer_ip);
    let _ = writeln!(out, "  leftsubnet={}\r", t.peer_nets.join(","));
    let _ = writeln!(out, "  right={}\r", t.cloud_ip);
    let _ = writeln!(out, "  rightsubnet={}\r", t.cloud_nets.join(","));
    let _ = writeln!(
        out,
        "  keyexchange={}\r",
        c.ike.version.to_lowercase().replace("ikev", "ikev")
    );
    let _ = writeln!(
        out,
        "  ike={}-{}-{}\r",
        c.ike.encrypt_algorithm.to_lowercase(),
        c.ike.authen_algorithm.to_lowercase(),
        c.ike.dh_group_name.to_lowercase()
    );
    let _ = writeln!(out, "  ikelifetime={}s\r", c.ike.sa_lifetime_seconds);
    let _ = writeln!(
        out,
        "  esp={}-{}\r",
        c.ipsec.encrypt_algorithm.to_lowercase(),
        c.ipsec.integrity_algorithm.to_lowercase()
    );
    let _ = writeln!(out, "  lifetime={}s\r", c.ipsec.sa_lifetime_seconds);
    let _ = writeln!(out, "  authby=secret\r");
    let _ = writeln!(out, "  auto=start\r");
    let _ = writeln!(out, "# /etc/ipsec.secrets\r");
    let _ = writeln!(
        out,
        "{} {} : PSK \"{}\"\r",
        t.peer_ip, t.cloud_ip, c.pre_share_key.0
    );
}

fn bgp_lines(out: &mut String, c: &VpnConnection, keyword: &str) {
    if let Some(b) = c.bgp.as_ref().filter(|b| !b.tunnel_cidr.is_empty()) {
        let _ = writeln!(
            out,
            "{keyword} {} neighbor {} remote-as {} (tunnel {}, local {})\r",
            b.remote_bgp_asn, b.local_bgp_ip, b.local_bgp_asn, b.tunnel_cidr, b.remote_bgp_ip
        );
    }
}
