//! Routes: a whole site (gateway, customer gateway, route-based tunnel, gateway route, VPC route
//! table entries, the peer's configuration) in one apply; the batching of route entries; drift of
//! routes changed in the console (an extra route is shown but never deleted); import by id; a
//! destination moving to another next hop; plan-time conflicts; destroy.

use tunnelform_tencent_api::actions::{
    CreateRoutes, DeleteVpnGatewayRoutes, DescribeRouteTables, DisableRoutes,
};
use tunnelform_tencent_api::vpc::{
    CreateRoutesRequest, DeleteVpnGatewayRoutesRequest, DescribeRouteTablesRequest, Filter, Route,
    RouteSwitchRequest, RouteTable,
};

use crate::common::{Cloud, SandboxProc, Work};

const REGION: &str = "ap-guangzhou";
const PSK: &str = "site-psk-Zq8wLm3xR2";
const ENTRY: &str = "tencentcloud_route_table_entry.to_dc";
const GW_ROUTE: &str = "tencentcloud_vpn_gateway_route.to_dc";

/// A site: gateway, customer gateway, a StaticRoute tunnel, the gateway route into it, the default
/// route table's entry to the gateway, a table of its own with `n` entries, and the peer's
/// configuration as a sensitive output.
fn site(n: usize, main_hub: &str) -> String {
    let app: Vec<String> = (0..n).map(|i| format!("\"172.20.{i}.0/24\"")).collect();
    let tunnel = tunnel_with_route("", "StaticRoute");
    format!(
        r#"{tunnel}
resource "tencentcloud_vpn_gateway_route" "to_dc" {{
  vpn_gateway_id         = tencentcloud_vpn_gateway.gw.id
  destination_cidr_block = "192.168.0.0/16"
  instance_type          = "VPNCONN"
  instance_id            = tencentcloud_vpn_connection.t.id
  priority               = 0
  status                 = "ENABLE"
}}

data "tencentcloud_vpc_route_tables" "main" {{
  vpc_id           = "vpc-sandbox1"
  association_main = true
}}

resource "tencentcloud_route_table_entry" "to_dc" {{
  route_table_id         = data.tencentcloud_vpc_route_tables.main.instance_list[0].route_table_id
  destination_cidr_block = "192.168.0.0/16"
  next_type              = "{hub_type}"
  next_hub               = {main_hub}
  description            = "on-premises"
}}

resource "tencentcloud_route_table" "app" {{
  vpc_id = "vpc-sandbox1"
  name   = "app"
  tags = {{
    team = "net"
  }}
}}

resource "tencentcloud_route_table_entry" "app" {{
  for_each               = toset([{app}])
  route_table_id         = tencentcloud_route_table.app.id
  destination_cidr_block = each.value
  next_type              = "VPN"
  next_hub               = tencentcloud_vpn_gateway.gw.id
}}

data "tencentcloud_vpn_customer_gateway_configuration_download" "dc" {{
  vpn_gateway_id    = tencentcloud_vpn_gateway.gw.id
  vpn_connection_id = tencentcloud_vpn_connection.t.id
  customer_gateway_vendor {{
    platform         = "comware"
    software_version = "V1.0"
    vendor_name      = "h3c"
  }}
  interface_name = "GigabitEthernet1/0/1"
}}

output "peer_config" {{
  value     = data.tencentcloud_vpn_customer_gateway_configuration_download.dc.customer_gateway_configuration
  sensitive = true
}}
"#,
        app = app.join(", "),
        hub_type = if main_hub.starts_with('"') {
            "NORMAL_CVM"
        } else {
            "VPN"
        },
    )
}

fn table_of(cloud: &Cloud, id: &str) -> RouteTable {
    let mut t = cloud
        .call::<DescribeRouteTables>(
            REGION,
            &DescribeRouteTablesRequest {
                route_table_ids: Some(vec![id.to_string()]),
                ..Default::default()
            },
        )
        .route_table_set;
    assert_eq!(t.len(), 1, "{id}");
    t.remove(0)
}

fn main_table(cloud: &Cloud) -> RouteTable {
    let mut t = cloud
        .call::<DescribeRouteTables>(
            REGION,
            &DescribeRouteTablesRequest {
                filters: Some(vec![
                    Filter {
                        name: "vpc-id".into(),
                        values: vec!["vpc-sandbox1".into()],
                    },
                    Filter {
                        name: "association.main".into(),
                        values: vec!["true".into()],
                    },
                ]),
                ..Default::default()
            },
        )
        .route_table_set;
    t.remove(0)
}

fn calls(sb: &SandboxProc, action: &str) -> u64 {
    sb.stats()["requests"][action].as_u64().unwrap_or(0)
}

#[test]
fn a_whole_site_carries_traffic_after_one_apply() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&site(20, "tencentcloud_vpn_gateway.gw.id"));
    let r = w.apply(&[]);
    r.success();
    r.expect_stdout("Resources: 26 added");
    assert!(!r.stdout.contains(PSK) && !r.stderr.contains(PSK));
    let cloud = sb.cloud();
    let gw = w.state_id("tencentcloud_vpn_gateway.gw");
    let tunnel = w.state_id("tencentcloud_vpn_connection.t");

    // The VPC's default table sends the on-premises range to the gateway, the gateway sends it
    // into the tunnel.
    let main = main_table(&cloud);
    let to_dc: Vec<&Route> = main
        .route_set
        .iter()
        .filter(|r| r.destination_cidr_block.as_deref() == Some("192.168.0.0/16"))
        .collect();
    assert_eq!(to_dc.len(), 1);
    assert_eq!(to_dc[0].gateway_type.as_deref(), Some("VPN"));
    assert_eq!(to_dc[0].gateway_id.as_deref(), Some(gw.as_str()));
    assert_eq!(
        w.state_id(ENTRY),
        format!("{}.{}", to_dc[0].route_id.unwrap(), main.route_table_id)
    );
    let gw_route = w.state_id(GW_ROUTE);
    assert!(gw_route.starts_with(&format!("{gw}#vpnr-")), "{gw_route}");
    let app = table_of(&cloud, &w.state_id("tencentcloud_route_table.app"));
    assert_eq!(app.route_set.len(), 20);

    // 21 entries in two tables: batched (one call per table when they start together, never
    // one call per entry).
    let creates = calls(&sb, "CreateRoutes");
    assert!((2..=6).contains(&creates), "CreateRoutes calls: {creates}");

    // Nothing to do; the peer configuration is in no state and no output unless asked for.
    w.assert_no_changes(&[]);
    let state = std::fs::read_to_string(w.state_path()).unwrap();
    assert!(!state.contains(PSK) && !state.contains("ike proposal"));
    let out = w.tf(&["output", "peer_config", "--dir", "cfg"]);
    assert!(!out.stdout.contains(PSK), "{}", out.stdout);
    assert!(tunnel.starts_with("vpnx-"));

    // Destroy: routes go before what they point at.
    let d = w.destroy(&[]);
    d.success();
    assert!(cloud.gateways(REGION).is_empty());
    assert!(main_table(&cloud)
        .route_set
        .iter()
        .all(|r| r.destination_cidr_block.as_deref() != Some("192.168.0.0/16")));
}

#[test]
fn routes_changed_in_the_console_are_drift_and_an_extra_route_is_left_alone() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&site(2, "tencentcloud_vpn_gateway.gw.id"));
    w.apply(&[]).success();
    let cloud = sb.cloud();
    let gw = w.state_id("tencentcloud_vpn_gateway.gw");
    let entry = w.state_id(ENTRY);
    let (route_id, rtb) = entry.split_once('.').unwrap();
    let app = w.state_id("tencentcloud_route_table.app");

    // In the console: the entry disabled, the gateway route deleted, an extra route added.
    cloud.call::<DisableRoutes>(
        REGION,
        &RouteSwitchRequest {
            route_table_id: rtb.into(),
            route_ids: Some(vec![route_id.parse().unwrap()]),
            route_item_ids: None,
        },
    );
    let gw_route = w.state_id(GW_ROUTE);
    cloud.call::<DeleteVpnGatewayRoutes>(
        REGION,
        &DeleteVpnGatewayRoutesRequest {
            vpn_gateway_id: gw.clone(),
            route_ids: vec![gw_route.split_once('#').unwrap().1.to_string()],
        },
    );
    cloud.call::<CreateRoutes>(
        REGION,
        &CreateRoutesRequest {
            route_table_id: app.clone(),
            routes: vec![Route {
                destination_cidr_block: Some("172.31.0.0/24".into()),
                gateway_type: Some("VPN".into()),
                gateway_id: Some(gw.clone()),
                ..Default::default()
            }],
        },
    );
    let p = w.plan(&["--detailed-exitcode"]);
    p.expect_code(2);
    for needle in [ENTRY, "disabled", GW_ROUTE, "1 to add, 1 to change"] {
        p.expect_stdout(needle);
    }
    w.apply(&[]).success();
    w.assert_no_changes(&[]);
    assert!(main_table(&cloud)
        .route_set
        .iter()
        .any(|r| r.route_id == Some(route_id.parse().unwrap()) && r.enabled == Some(true)));
    // The route tunnelform does not own is still there.
    assert!(table_of(&cloud, &app)
        .route_set
        .iter()
        .any(|r| r.destination_cidr_block.as_deref() == Some("172.31.0.0/24")));

    // Import: forget two routes, import them back by id (the gateway route by its bare vpnr- id).
    let new_gw_route = w.state_id(GW_ROUTE);
    for addr in [ENTRY, GW_ROUTE] {
        w.tf(&["state", "rm", addr, "--dir", "cfg"]).success();
    }
    w.tf(&["import", ENTRY, &entry, "--dir", "cfg"]).success();
    let bare = new_gw_route.split_once('#').unwrap().1.to_string();
    w.tf(&["import", GW_ROUTE, &bare, "--dir", "cfg"]).success();
    assert_eq!(w.state_id(GW_ROUTE), new_gw_route);
    w.assert_no_changes(&[]);
    let bad = w.tf(&["import", ENTRY, "rtb-12345678", "--dir", "cfg"]);
    bad.expect_code(1);
    bad.expect_stderr("<route id>.<rtb-id>");
}

#[test]
fn an_extra_route_in_a_managed_table_is_reported_as_not_owned_and_never_deleted() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&site(2, "tencentcloud_vpn_gateway.gw.id"));
    w.apply(&[]).success();
    let cloud = sb.cloud();
    let gw = w.state_id("tencentcloud_vpn_gateway.gw");
    let app = w.state_id("tencentcloud_route_table.app");
    // In the console: a route of nobody's configuration added to the managed table.
    cloud.call::<CreateRoutes>(
        REGION,
        &CreateRoutesRequest {
            route_table_id: app.clone(),
            routes: vec![Route {
                destination_cidr_block: Some("172.31.9.0/24".into()),
                gateway_type: Some("VPN".into()),
                gateway_id: Some(gw.clone()),
                ..Default::default()
            }],
        },
    );
    let extra = table_of(&cloud, &app)
        .route_set
        .iter()
        .find(|r| r.destination_cidr_block.as_deref() == Some("172.31.9.0/24"))
        .and_then(|r| r.route_id)
        .map(|id| format!("{id}.{app}"))
        .expect("the extra route");

    // The human plan names it, with the table holding it, as not owned; nothing to do about it.
    let p = w.plan(&["--detailed-exitcode"]);
    p.expect_code(0);
    let line = format!(
        "tencentcloud_route_table.app ({app}) holds tencentcloud_route_table_entry {extra}, not owned by tunnelform"
    );
    assert!(p.stdout.contains(&line), "{line:?} not in:\n{}", p.stdout);
    p.expect_stdout("never deletes them");
    // The owned entries of the same table are not reported.
    let owned = w.state_id("tencentcloud_route_table_entry.app[\"172.20.0.0/24\"]");
    assert!(!p.stdout.contains(&owned), "{}", p.stdout);

    // JSON: the same, in `unowned_objects`.
    let j = w.plan(&["--json"]);
    j.success();
    let doc: serde_json::Value = serde_json::from_str(&j.stdout).expect("plan JSON");
    assert_eq!(
        doc["unowned_objects"],
        serde_json::json!([{
            "holder": "tencentcloud_route_table.app",
            "holder_id": app,
            "type": "tencentcloud_route_table_entry",
            "id": extra,
        }])
    );
    assert_eq!(doc["has_changes"], serde_json::json!(false));

    // Apply and destroy-free re-plan leave it in place and keep reporting it.
    let a = w.apply(&[]);
    a.success();
    a.expect_stdout(&line);
    assert!(table_of(&cloud, &app)
        .route_set
        .iter()
        .any(|r| r.destination_cidr_block.as_deref() == Some("172.31.9.0/24")));

    // Once imported, it is owned: no longer reported.
    let tf = format!(
        "{}\nresource \"tencentcloud_route_table_entry\" \"console\" {{\n  route_table_id         = tencentcloud_route_table.app.id\n  destination_cidr_block = \"172.31.9.0/24\"\n  next_type              = \"VPN\"\n  next_hub               = tencentcloud_vpn_gateway.gw.id\n}}\n",
        site(2, "tencentcloud_vpn_gateway.gw.id")
    );
    w.config(&tf);
    w.tf(&[
        "import",
        "tencentcloud_route_table_entry.console",
        &extra,
        "--dir",
        "cfg",
    ])
    .success();
    let p = w.plan(&["--detailed-exitcode"]);
    p.expect_code(0);
    assert!(
        !p.stdout.contains("not owned by tunnelform"),
        "{}",
        p.stdout
    );
}

#[test]
fn a_destination_moves_to_another_next_hop_in_one_apply() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&site(1, "tencentcloud_vpn_gateway.gw.id"));
    w.apply(&[]).success();
    let before = w.state_id(ENTRY);
    // Same destination, now to an instance: the old entry goes before the new one comes.
    w.config(&site(1, "\"10.0.3.7\""));
    let r = w.apply(&[]);
    r.success();
    r.expect_stdout("1 added, 0 changed, 1 destroyed");
    assert_ne!(w.state_id(ENTRY), before);
    let main = main_table(&sb.cloud());
    let to_dc: Vec<&Route> = main
        .route_set
        .iter()
        .filter(|r| r.destination_cidr_block.as_deref() == Some("192.168.0.0/16"))
        .collect();
    assert_eq!(to_dc.len(), 1);
    assert_eq!(to_dc[0].gateway_id.as_deref(), Some("10.0.3.7"));
    w.assert_no_changes(&[]);
}

#[test]
fn two_routes_for_one_destination_fail_the_plan_with_their_locations() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    let tf = r#"
provider "tencentcloud" {
  region = "ap-guangzhou"
}

# The default route table of the sandbox's vpc-sandbox1.
resource "tencentcloud_route_table_entry" "a" {
  route_table_id         = "rtb-sandbox1"
  destination_cidr_block = "192.168.0.0/24"
  next_type              = "NORMAL_CVM"
  next_hub               = "10.0.0.5"
}

resource "tencentcloud_route_table_entry" "b" {
  route_table_id         = "rtb-sandbox1"
  destination_cidr_block = "192.168.0.0/24"
  next_type              = "VPN"
  next_hub               = "10.0.0.6"
}
"#;
    w.config(tf);
    let p = w.plan(&[]);
    p.expect_code(1);
    for needle in [
        "Next hop does not match its type",
        "cfg/main.tf:18:28",
        "(vpngw-...)",
    ] {
        p.expect_stderr(needle);
    }
    w.config(&tf.replace("\"10.0.0.6\"", "\"vpngw-12345678\""));
    let p = w.plan(&[]);
    p.expect_code(1);
    for needle in [
        "Two routes for one destination in a route table",
        "tencentcloud_route_table_entry.a",
        "tencentcloud_route_table_entry.b",
        "cfg/main.tf:16:",
    ] {
        p.expect_stderr(needle);
    }
    assert_eq!(sb.write_request_count(), 0);
}

// -------------------------------------------------------------------------------------------------
// The tunnel's own route (`CreateVpnConnection.Route`): write-only

const TUNNEL: &str = "tencentcloud_vpn_connection.t";

/// A gateway, a customer gateway and one route-based tunnel with `route` (HCL of the block, or
/// "" for none) and `route_type`.
fn tunnel_with_route(route: &str, route_type: &str) -> String {
    format!(
        r#"
provider "tencentcloud" {{
  region = "ap-guangzhou"
}}

resource "tencentcloud_vpn_gateway" "gw" {{
  name      = "site-gw"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
}}

resource "tencentcloud_vpn_customer_gateway" "dc" {{
  name              = "dc"
  public_ip_address = "203.0.113.10"
}}

resource "tencentcloud_vpn_connection" "t" {{
  name                = "dc-tunnel"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.dc.id
  pre_share_key       = "{PSK}"
  route_type          = "{route_type}"
{route}
}}
"#
    )
}

fn route_block(dest: &str, priority: i64) -> String {
    format!(
        r#"  route {{
    destination_cidr_block = "{dest}"
    priority               = {priority}
    description            = "data centre"
  }}"#
    )
}

/// The routes the sandbox keeps for its tunnels (from its data file: the API never returns them),
/// by tunnel id.
fn kept_routes(data: &std::path::Path) -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(data).expect("reading the sandbox data file");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut out = serde_json::Map::new();
    for region in v["Regions"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        if let Some(m) = region["VpnConnectionRoutes"].as_object() {
            out.extend(m.clone());
        }
    }
    out
}

/// `file:line:column` of the first `needle` in the configuration `tf` (written as cfg/main.tf).
fn location(tf: &str, needle: &str) -> String {
    let at = tf
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the configuration"));
    let line = tf[..at].matches('\n').count() + 1;
    let column = at - tf[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
    format!("cfg/main.tf:{line}:{column}")
}

#[test]
fn a_tunnel_keeps_its_route_as_planned_and_a_changed_route_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sandbox.json");
    let sb = SandboxProc::start(20, &["--data", data.to_str().unwrap()]);
    let w = Work::with_sandbox(&sb);
    w.config(&tunnel_with_route(
        &route_block("192.168.50.0/24", 100),
        "StaticRoute",
    ));
    let r = w.apply(&[]);
    r.success();
    let first = w.state_id(TUNNEL);

    // Sent on create: the sandbox has it with the tunnel; DescribeVpnConnections does not return it.
    let kept = kept_routes(&data);
    assert_eq!(
        kept[&first]["DestinationCidrBlock"], "192.168.50.0/24",
        "{kept:?}"
    );
    assert_eq!(kept[&first]["Priority"], 100);
    assert_eq!(kept[&first]["Description"], "data centre");
    // Kept in the state as planned, and no change on the next plan (nothing to read back).
    let state = w.state();
    let route = &state["resources"][TUNNEL]["attributes"]["route"];
    assert_eq!(
        route["destination_cidr_block"], "192.168.50.0/24",
        "{state}"
    );
    assert_eq!(route["priority"], 100);
    w.assert_no_changes(&[]);

    // ModifyVpnConnectionAttribute takes no Route: a changed route replaces the tunnel.
    w.config(&tunnel_with_route(
        &route_block("192.168.50.0/24", 0),
        "StaticRoute",
    ));
    let p = w.plan(&["--detailed-exitcode"]);
    p.expect_code(2);
    for needle in [
        "tencentcloud_vpn_connection.t must be replaced",
        "route",
        "Plan: 1 to add, 0 to change, 1 to destroy.",
    ] {
        p.expect_stdout(needle);
    }
    w.apply(&[]).success();
    let second = w.state_id(TUNNEL);
    assert_ne!(second, first);
    let kept = kept_routes(&data);
    assert_eq!(kept[&second]["Priority"], 0);
    assert!(
        !kept.contains_key(&first),
        "the old tunnel's route outlived it: {kept:?}"
    );
    w.assert_no_changes(&[]);

    // Removing the route is a replacement too (the API cannot drop it from a tunnel).
    w.config(&tunnel_with_route("", "StaticRoute"));
    let p = w.plan(&["--detailed-exitcode"]);
    p.expect_code(2);
    p.expect_stdout("Plan: 1 to add, 0 to change, 1 to destroy.");
}

#[test]
fn an_imported_tunnel_takes_the_configured_route_without_a_change() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    let tf = tunnel_with_route(&route_block("192.168.60.0/24", 100), "StaticRoute");
    w.config(&tf);
    w.apply(&[]).success();
    let id = w.state_id(TUNNEL);

    // The route cannot be read from the cloud: an imported tunnel records the configuration's.
    w.tf(&["state", "rm", TUNNEL, "--dir", "cfg"]).success();
    w.tf(&["import", TUNNEL, &id, "--dir", "cfg"]).success();
    assert_eq!(w.state_id(TUNNEL), id);
    let state = w.state();
    assert_eq!(
        state["resources"][TUNNEL]["attributes"]["route"]["destination_cidr_block"],
        "192.168.60.0/24",
        "{state}"
    );
    w.assert_no_changes(&[]);
    // From then on the recorded value is the tunnel's: a change replaces it.
    w.config(&tunnel_with_route(
        &route_block("192.168.61.0/24", 100),
        "StaticRoute",
    ));
    let p = w.plan(&["--detailed-exitcode"]);
    p.expect_code(2);
    p.expect_stdout("tencentcloud_vpn_connection.t must be replaced");
}

#[test]
fn a_route_on_a_policy_tunnel_or_inside_the_vpc_fails_the_plan_before_any_write() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    let tf = tunnel_with_route(&route_block("192.168.50.0/24", 0), "Policy");
    w.config(&tf);
    let p = w.plan(&[]);
    p.expect_code(1);
    for needle in [
        "A route needs a route-based tunnel".to_string(),
        "route_type = \"StaticRoute\"".to_string(),
        location(&tf, "route {"),
    ] {
        p.expect_stderr(&needle);
    }
    // vpc-sandbox1 is 10.0.0.0/16.
    let tf = tunnel_with_route(&route_block("10.0.8.0/24", 0), "StaticRoute");
    w.config(&tf);
    let p = w.plan(&[]);
    p.expect_code(1);
    for needle in [
        "Tunnel route overlaps the VPC".to_string(),
        "10.0.0.0/16".to_string(),
        location(&tf, "\"10.0.8.0/24\""),
    ] {
        p.expect_stderr(&needle);
    }
    assert_eq!(sb.write_request_count(), 0);
}

// -------------------------------------------------------------------------------------------------
// Plan-time route checks

#[test]
fn route_entries_inside_the_vpc_and_gateway_routes_into_policy_tunnels_fail_the_plan() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    // The default table by id (not managed here), and a table this plan creates: both in
    // vpc-sandbox1 (10.0.0.0/16).
    let tf = r#"
provider "tencentcloud" {
  region = "ap-guangzhou"
}

resource "tencentcloud_route_table" "app" {
  vpc_id = "vpc-sandbox1"
  name   = "app"
}

resource "tencentcloud_route_table_entry" "default" {
  route_table_id         = "rtb-sandbox1"
  destination_cidr_block = "10.0.3.0/24"
  next_type              = "NORMAL_CVM"
  next_hub               = "10.0.0.5"
}

resource "tencentcloud_route_table_entry" "app" {
  route_table_id         = tencentcloud_route_table.app.id
  destination_cidr_block = "10.0.200.0/24"
  next_type              = "NORMAL_CVM"
  next_hub               = "10.0.0.5"
}

resource "tencentcloud_route_table_entry" "outside" {
  route_table_id         = tencentcloud_route_table.app.id
  destination_cidr_block = "192.168.0.0/24"
  next_type              = "NORMAL_CVM"
  next_hub               = "10.0.0.5"
}
"#;
    w.config(tf);
    let p = w.plan(&[]);
    p.expect_code(1);
    for needle in [
        "Route destination inside the VPC".to_string(),
        location(tf, "\"10.0.3.0/24\""),
        location(tf, "\"10.0.200.0/24\""),
        "InvalidParameterValue.VpcCidrConflict".to_string(),
    ] {
        p.expect_stderr(&needle);
    }
    assert!(!p.stderr.contains("192.168.0.0/24"), "{}", p.stderr);

    // A gateway route into a tunnel of the configuration that is not route-based.
    let tf = format!(
        "{}{}",
        tunnel_with_route("", "Policy").replace(
            "  route_type          = \"Policy\"\n",
            "  route_type          = \"Policy\"\n  security_group_policy {\n    local_cidr_block  = \"10.0.1.0/24\"\n    remote_cidr_block = [\"192.168.7.0/24\"]\n  }\n",
        ),
        r#"
resource "tencentcloud_vpn_gateway_route" "to_dc" {
  vpn_gateway_id         = tencentcloud_vpn_gateway.gw.id
  destination_cidr_block = "192.168.7.0/24"
  instance_type          = "VPNCONN"
  instance_id            = tencentcloud_vpn_connection.t.id
  priority               = 0
  status                 = "ENABLE"
}
"#
    );
    w.config(&tf);
    let p = w.plan(&[]);
    p.expect_code(1);
    for needle in [
        "VPN gateway route into a tunnel that is not route-based".to_string(),
        "route_type is \"Policy\"".to_string(),
        location(&tf, "tencentcloud_vpn_connection.t.id"),
    ] {
        p.expect_stderr(&needle);
    }
    assert_eq!(sb.write_request_count(), 0);
}

// -------------------------------------------------------------------------------------------------
// Terraform-state migration of the three route kinds

/// One managed resource of a Terraform v4 state.
fn tf_resource(type_name: &str, name: &str, attributes: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "mode": "managed",
        "type": type_name,
        "name": name,
        "provider": "provider[\"registry.terraform.io/tencentcloudstack/tencentcloud\"]",
        "instances": [{
            "schema_version": 0,
            "attributes": attributes,
            "sensitive_attributes": [],
            "private": "bnVsbA=="
        }]
    })
}

#[test]
fn a_terraform_state_of_route_tables_entries_and_gateway_routes_migrates_with_no_changes() {
    use tunnelform_tencent_api::actions::{CreateRouteTable, CreateVpnGatewayRoutes};
    use tunnelform_tencent_api::vpc::{
        CreateRouteTableRequest, CreateVpnGatewayRoutesRequest, VpnGatewayRoute,
    };

    let sb = SandboxProc::start(20, &[]);
    let cloud = sb.cloud();
    // The gateway and its route-based tunnel, made by tunnelform in another directory.
    let base = Work::with_sandbox(&sb);
    base.config(&tunnel_with_route("", "StaticRoute"));
    base.apply(&[]).success();
    let gw = base.state_id("tencentcloud_vpn_gateway.gw");
    let tunnel = base.state_id(TUNNEL);

    // What Terraform made: a route table, an entry in it and a gateway route into the tunnel.
    let table = cloud
        .call::<CreateRouteTable>(
            REGION,
            &CreateRouteTableRequest {
                vpc_id: "vpc-sandbox1".into(),
                route_table_name: "tf-app".into(),
                tags: None,
            },
        )
        .route_table;
    let rtb = table.route_table_id.clone();
    let created = cloud.call::<CreateRoutes>(
        REGION,
        &CreateRoutesRequest {
            route_table_id: rtb.clone(),
            routes: vec![Route {
                destination_cidr_block: Some("192.168.70.0/24".into()),
                gateway_type: Some("VPN".into()),
                gateway_id: Some(gw.clone()),
                route_description: Some("tf".into()),
                ..Default::default()
            }],
        },
    );
    let entry = created.route_table_set[0]
        .route_set
        .iter()
        .find(|r| r.destination_cidr_block.as_deref() == Some("192.168.70.0/24"))
        .unwrap()
        .clone();
    let gw_route = cloud
        .call::<CreateVpnGatewayRoutes>(
            REGION,
            &CreateVpnGatewayRoutesRequest {
                vpn_gateway_id: gw.clone(),
                routes: vec![VpnGatewayRoute {
                    destination_cidr_block: "192.168.70.0/24".into(),
                    instance_type: "VPNCONN".into(),
                    instance_id: tunnel.clone(),
                    priority: 100,
                    status: "DISABLE".into(),
                    ..Default::default()
                }],
            },
        )
        .routes
        .remove(0);
    let vpnr = gw_route.route_id.clone().unwrap();

    // The provider's ids: the table's, `<route id>.<rtb-id>`, `<vpngw-id>#<vpnr-id>`.
    let entry_id = format!("{}.{rtb}", entry.route_id.unwrap());
    let gw_route_id = format!("{gw}#{vpnr}");
    let tfstate = serde_json::json!({
        "version": 4,
        "terraform_version": "1.5.7",
        "serial": 7,
        "lineage": "0c4d5e6f-1a2b-4c3d-8e9f-a0b1c2d3e4f5",
        "outputs": {},
        "resources": [
            tf_resource("tencentcloud_route_table", "app", serde_json::json!({
                "id": rtb,
                "vpc_id": "vpc-sandbox1",
                "name": "tf-app",
                "tags": {},
                "is_default": false,
                "subnet_ids": [],
                "route_entry_ids": [entry_id.clone()],
                "create_time": table.created_time,
            })),
            tf_resource("tencentcloud_route_table_entry", "to_dc", serde_json::json!({
                "id": entry_id,
                "route_table_id": rtb,
                "destination_cidr_block": "192.168.70.0/24",
                "next_type": "VPN",
                "next_hub": gw,
                "description": "tf",
                "disabled": false,
                "route_item_id": entry.route_item_id,
            })),
            tf_resource("tencentcloud_vpn_gateway_route", "to_dc", serde_json::json!({
                "id": gw_route_id,
                "vpn_gateway_id": gw,
                "destination_cidr_block": "192.168.70.0/24",
                "instance_type": "VPNCONN",
                "instance_id": tunnel,
                "priority": 100,
                "status": "DISABLE",
                "route_id": vpnr,
                "type": gw_route.route_type,
                "create_time": gw_route.create_time,
                "update_time": gw_route.update_time,
            })),
        ]
    });

    // The same files Terraform used (the gateway and tunnel are not managed here).
    let w = Work::with_sandbox(&sb);
    w.config(&format!(
        r#"
provider "tencentcloud" {{
  region = "ap-guangzhou"
}}

resource "tencentcloud_route_table" "app" {{
  vpc_id = "vpc-sandbox1"
  name   = "tf-app"
}}

resource "tencentcloud_route_table_entry" "to_dc" {{
  route_table_id         = tencentcloud_route_table.app.id
  destination_cidr_block = "192.168.70.0/24"
  next_type              = "VPN"
  next_hub               = "{gw}"
  description            = "tf"
}}

resource "tencentcloud_vpn_gateway_route" "to_dc" {{
  vpn_gateway_id         = "{gw}"
  destination_cidr_block = "192.168.70.0/24"
  instance_type          = "VPNCONN"
  instance_id            = "{tunnel}"
  priority               = 100
  status                 = "DISABLE"
}}
"#
    ));
    w.write("terraform.tfstate", &tfstate.to_string());
    let writes = sb.write_request_count();
    let r = w.tf(&[
        "state",
        "migrate-terraform",
        "terraform.tfstate",
        "--dir",
        "cfg",
    ]);
    r.success();
    r.expect_stdout("Migrated 3 object(s)");
    assert_eq!(sb.write_request_count(), writes);
    let ids = w.state_ids();
    assert_eq!(ids["tencentcloud_route_table.app"], rtb);
    assert_eq!(ids[ENTRY], entry_id);
    assert_eq!(ids[GW_ROUTE], gw_route_id);
    w.assert_no_changes(&[]);
    assert_eq!(sb.write_request_count(), writes);
}

// -------------------------------------------------------------------------------------------------
// Batching: each table's (gateway's) new routes in as few calls as the API allows

/// Two gateways with a route-based tunnel each and two route tables; with `routes`, `entries`
/// entries in each table and `gw_routes` routes on each gateway.
fn two_tables_two_gateways(routes: bool, entries: usize, gw_routes: usize) -> String {
    let mut tf = String::from(
        r#"
provider "tencentcloud" {
  region = "ap-guangzhou"
}

resource "tencentcloud_vpn_customer_gateway" "dc" {
  name              = "dc"
  public_ip_address = "203.0.113.10"
}
"#,
    );
    for g in ["a", "b"] {
        tf.push_str(&format!(
            r#"
resource "tencentcloud_vpn_gateway" "{g}" {{
  name      = "gw-{g}"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
}}

resource "tencentcloud_vpn_connection" "{g}" {{
  name                = "tunnel-{g}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.{g}.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.dc.id
  pre_share_key       = "{PSK}"
  route_type          = "StaticRoute"
}}

resource "tencentcloud_route_table" "{g}" {{
  vpc_id = "vpc-sandbox1"
  name   = "table-{g}"
}}
"#
        ));
    }
    if routes {
        for (n, g) in ["a", "b"].iter().enumerate() {
            let dests = |count: usize, second: usize| {
                (0..count)
                    .map(|i| format!("\"{second}.{}.{i}.0/24\"", 20 + n))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            tf.push_str(&format!(
                r#"
resource "tencentcloud_route_table_entry" "{g}" {{
  for_each               = toset([{entry_dests}])
  route_table_id         = tencentcloud_route_table.{g}.id
  destination_cidr_block = each.value
  next_type              = "VPN"
  next_hub               = tencentcloud_vpn_gateway.{g}.id
}}

resource "tencentcloud_vpn_gateway_route" "{g}" {{
  for_each               = toset([{gw_dests}])
  vpn_gateway_id         = tencentcloud_vpn_gateway.{g}.id
  destination_cidr_block = each.value
  instance_type          = "VPNCONN"
  instance_id            = tencentcloud_vpn_connection.{g}.id
  priority               = 0
  status                 = "ENABLE"
}}
"#,
                entry_dests = dests(entries, 172),
                gw_dests = dests(gw_routes, 192),
            ));
        }
    }
    tf
}

const READS: [&str; 2] = ["DescribeRouteTables", "DescribeVpnGatewayRoutes"];

#[test]
fn each_tables_and_each_gateways_new_routes_go_in_one_call_without_reading_them_back() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&two_tables_two_gateways(false, 0, 0));
    w.apply(&[]).success();

    // 2 x 60 entries and 2 x 40 gateway routes, even with a worker budget far smaller than the
    // number of routes: one CreateRoutes per table, one CreateVpnGatewayRoutes per gateway.
    w.config(&two_tables_two_gateways(true, 60, 40));
    let before: Vec<u64> = READS.iter().map(|a| calls(&sb, a)).collect();
    w.plan(&[]).success();
    let planned: Vec<u64> = READS.iter().map(|a| calls(&sb, a)).collect();
    let r = w.apply(&["--parallelism", "2"]);
    r.success();
    r.expect_stdout("Resources: 200 added");
    for action in ["CreateRoutes", "CreateVpnGatewayRoutes"] {
        assert_eq!(calls(&sb, action), 2, "{action}: {}", sb.stats());
    }
    // The create answers list the new routes: the apply reads no more than its plan did.
    for (i, action) in READS.iter().enumerate() {
        let plan_reads = planned[i] - before[i];
        let apply_reads = calls(&sb, action) - planned[i];
        assert_eq!(apply_reads, plan_reads, "{action} calls of the apply");
    }
    // What was recorded from the answers is what a read finds.
    w.assert_no_changes(&[]);
    let cloud = sb.cloud();
    for g in ["a", "b"] {
        let t = table_of(
            &cloud,
            &w.state_id(&format!("tencentcloud_route_table.{g}")),
        );
        assert_eq!(t.route_set.len(), 60, "{g}");
    }
}
