//! The real client against the real sandbox for route tables, route entries, VPN gateway routes and
//! the peer-device configuration: success paths (ids, defaults, values round-trip, batching many
//! routes per call), the documented error codes, quotas, deletion dependencies and persistence.
//!
//! Every test starts its own sandbox on 127.0.0.1:0 with 50 ms tasks and the documented rate limits.
#![allow(dead_code)]

use tunnelform_sandbox::{Quotas, SandboxConfig};
use tunnelform_tencent_api::actions::*;
use tunnelform_tencent_api::vpc::*;
use tunnelform_tencent_api::*;

use crate::common;
use common::*;

async fn ready_gateway_in(c: &Client, vpc: &str) -> VpnGateway {
    let g = create_gateway_in(c, vpc, "other").await;
    wait_available(c, &g.vpn_gateway_id).await
}

fn route(dest: &str, gateway_type: &str, gateway_id: &str) -> Route {
    Route {
        destination_cidr_block: Some(dest.into()),
        gateway_type: Some(gateway_type.into()),
        gateway_id: Some(gateway_id.into()),
        ..Default::default()
    }
}

async fn tables_of(c: &Client, vpc: &str) -> Vec<RouteTable> {
    c.describe_route_tables_by_filters(REGION, &[filter("vpc-id", &[vpc])])
        .await
        .unwrap()
}

async fn main_table(c: &Client, vpc: &str) -> RouteTable {
    let mut t = c
        .describe_route_tables_by_filters(
            REGION,
            &[
                filter("vpc-id", &[vpc]),
                filter("association.main", &["true"]),
            ],
        )
        .await
        .unwrap();
    assert_eq!(t.len(), 1, "{vpc} has one default route table");
    t.remove(0)
}

async fn table(c: &Client, id: &str) -> RouteTable {
    let mut t = c
        .describe_route_tables_by_ids(REGION, &[id.to_string()])
        .await
        .unwrap();
    assert_eq!(t.len(), 1, "{id} is described");
    t.remove(0)
}

fn gw_route(dest: &str, conn: &str, priority: i64) -> VpnGatewayRoute {
    VpnGatewayRoute {
        destination_cidr_block: dest.into(),
        instance_type: "VPNCONN".into(),
        instance_id: conn.into(),
        priority,
        status: "ENABLE".into(),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------------------------
// Route tables

#[tokio::test]
async fn every_vpc_is_born_with_its_default_route_table() {
    let h = start(sandbox_config()).await;
    let c = client(&h);
    let main = main_table(&c, VPC).await;
    assert!(main.main);
    assert!(is_id(&main.route_table_id, "rtb") || main.route_table_id.starts_with("rtb-"));
    assert_eq!(main.vpc_id, VPC);
    assert!(main.route_set.is_empty());
    let vpc = c
        .call::<CreateVpc>(
            REGION,
            &CreateVpcRequest {
                vpc_name: "v".into(),
                cidr_block: Some("172.16.0.0/16".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .vpc;
    let t = main_table(&c, &vpc.vpc_id).await;
    assert!(is_id(&t.route_table_id, "rtb"), "{}", t.route_table_id);
    assert_eq!(
        code(
            c.call::<DeleteRouteTable>(
                REGION,
                &DeleteRouteTableRequest {
                    route_table_id: t.route_table_id.clone(),
                },
            )
            .await
        )
        .as_str(),
        "UnsupportedOperation.DelDefaultRoute"
    );
    // The default table goes with its VPC.
    c.call::<DeleteVpc>(
        REGION,
        &DeleteVpcRequest {
            vpc_id: vpc.vpc_id.clone(),
        },
    )
    .await
    .unwrap();
    assert!(c
        .describe_route_tables_by_ids(REGION, &[t.route_table_id.clone()])
        .await
        .unwrap()
        .is_empty());
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn route_tables_create_describe_modify_delete() {
    let mut config = sandbox_config();
    config.quotas = Quotas {
        route_tables_per_vpc: 3,
        ..Quotas::default()
    };
    let h = start(config).await;
    let c = client(&h);
    let created = c
        .call::<CreateRouteTable>(
            REGION,
            &CreateRouteTableRequest {
                vpc_id: VPC.into(),
                route_table_name: "to-dc".into(),
                tags: Some(vec![tag("team", "net")]),
            },
        )
        .await
        .unwrap()
        .route_table;
    assert!(is_id(&created.route_table_id, "rtb"));
    assert!(!created.main);
    assert_eq!(created.tag_set, vec![tag("team", "net")]);
    let id = created.route_table_id.clone();
    assert_eq!(table(&c, &id).await.route_table_name, "to-dc");
    let by_tag = c
        .describe_route_tables_by_filters(REGION, &[filter("tag:team", &["net"])])
        .await
        .unwrap();
    assert_eq!(by_tag.len(), 1);
    c.call::<ModifyRouteTableAttribute>(
        REGION,
        &ModifyRouteTableAttributeRequest {
            route_table_id: id.clone(),
            route_table_name: "to-dc-2".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(table(&c, &id).await.route_table_name, "to-dc-2");
    assert_eq!(tables_of(&c, VPC).await.len(), 2);

    // Errors, each with its documented code.
    let create = |vpc: &str, name: &str| CreateRouteTableRequest {
        vpc_id: vpc.into(),
        route_table_name: name.into(),
        tags: None,
    };
    assert_eq!(
        code(
            c.call::<CreateRouteTable>(REGION, &create("vpc-nothere1", "x"))
                .await
        )
        .as_str(),
        "ResourceNotFound"
    );
    assert_eq!(
        code(
            c.call::<CreateRouteTable>(REGION, &create(VPC, &"n".repeat(61)))
                .await
        )
        .as_str(),
        "InvalidParameterValue.TooLong"
    );
    c.call::<CreateRouteTable>(REGION, &create(VPC, "third"))
        .await
        .unwrap();
    assert_eq!(
        code(
            c.call::<CreateRouteTable>(REGION, &create(VPC, "fourth"))
                .await
        )
        .as_str(),
        "LimitExceeded"
    );
    let del = |id: &str| DeleteRouteTableRequest {
        route_table_id: id.into(),
    };
    assert_eq!(
        code(c.call::<DeleteRouteTable>(REGION, &del("rtb_bad")).await).as_str(),
        "InvalidParameterValue.Malformed"
    );
    assert_eq!(
        code(
            c.call::<DeleteRouteTable>(REGION, &del("rtb-nothere1"))
                .await
        )
        .as_str(),
        "ResourceNotFound"
    );
    // A VPC with tables of its own cannot be deleted.
    assert_eq!(
        code(
            c.call::<DeleteVpc>(REGION, &DeleteVpcRequest { vpc_id: VPC.into() })
                .await
        )
        .as_str(),
        "ResourceInUse"
    );
    c.call::<DeleteRouteTable>(REGION, &del(&id)).await.unwrap();
    assert!(c
        .describe_route_tables_by_ids(REGION, &[id])
        .await
        .unwrap()
        .is_empty());
    h.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------------------
// Route entries

#[tokio::test]
async fn route_entries_go_in_many_per_call_and_are_validated_as_documented() {
    let mut config = sandbox_config();
    config.quotas = Quotas {
        routes_per_table: 5,
        ..Quotas::default()
    };
    let h = start(config).await;
    let c = client(&h);
    let gw = ready_gateway(&c, "gw").await;
    let gw_id = gw.vpn_gateway_id.clone();
    let rtb = main_table(&c, VPC).await.route_table_id;
    let create = |routes: Vec<Route>| CreateRoutesRequest {
        route_table_id: rtb.clone(),
        routes,
    };
    let before = c.metrics().calls_of("CreateRoutes");
    let r = c
        .call::<CreateRoutes>(
            REGION,
            &create(vec![
                route("192.168.0.0/24", "VPN", &gw_id),
                route("192.168.1.0/24", "NORMAL_CVM", "10.0.3.7"),
                Route {
                    route_description: Some("via eip".into()),
                    ..route("0.0.0.0/0", "EIP", "0")
                },
            ]),
        )
        .await
        .unwrap();
    assert_eq!(c.metrics().calls_of("CreateRoutes") - before, 1);
    assert_eq!(r.total_count, 3);
    let routes = &r.route_table_set[0].route_set;
    assert_eq!(routes.len(), 3);
    for e in routes {
        assert!(e.route_id.unwrap() > 0);
        assert!(is_id(e.route_item_id.as_deref().unwrap(), "rti"));
        assert_eq!(e.enabled, Some(true));
        assert_eq!(e.route_type.as_deref(), Some("USER"));
        assert_eq!(e.route_table_id.as_deref(), Some(rtb.as_str()));
    }
    assert_eq!(routes[2].route_description.as_deref(), Some("via eip"));
    let vpn_route = routes[0].clone();

    // Each rule, with its code; a refused request adds nothing.
    let cases: Vec<(Route, &str)> = vec![
        (
            route("10.0.5.0/24", "VPN", &gw_id),
            "InvalidParameterValue.VpcCidrConflict",
        ),
        (
            route("192.168.0.0/24", "VPN", &gw_id),
            "InvalidParameterValue.Duplicate",
        ),
        (
            route("192.168.0.0/24", "NORMAL_CVM", "10.0.0.9"),
            "UnsupportedOperation.EcmpWithUserRoute",
        ),
        (
            route("192.168.9.0/24", "VPN", "pcx-12345678"),
            "InvalidParameter",
        ),
        (
            route("192.168.9.0/24", "VPN", "vpngw-nothere1"),
            "ResourceNotFound",
        ),
        (
            route("192.168.9.0/24", "NORMAL_CVM", "172.16.0.1"),
            "InvalidParameterValue.RouteNextHopInvalid",
        ),
        (
            route("192.168.9.0/24", "EIP", "eip-1"),
            "InvalidParameterValue.RouteNextHopInvalid",
        ),
        (
            route("192.168.9.0/24", "WORMHOLE", "x"),
            "InvalidParameterValue",
        ),
        (
            route("192.168.9.1/24", "VPN", &gw_id),
            "InvalidParameterValue.Malformed",
        ),
        (
            Route {
                gateway_id: None,
                ..route("192.168.9.0/24", "VPN", &gw_id)
            },
            "MissingParameter",
        ),
    ];
    for (bad, want) in cases {
        let req = create(vec![route("192.168.8.0/24", "VPN", &gw_id), bad.clone()]);
        assert_eq!(
            code(c.call::<CreateRoutes>(REGION, &req).await).as_str(),
            want,
            "{bad:?}"
        );
    }
    assert_eq!(table(&c, &rtb).await.route_set.len(), 3);
    // Two entries for one destination in one request.
    assert_eq!(
        code(
            c.call::<CreateRoutes>(
                REGION,
                &create(vec![
                    route("192.168.8.0/24", "VPN", &gw_id),
                    route("192.168.8.0/24", "VPN", &gw_id),
                ]),
            )
            .await
        )
        .as_str(),
        "InvalidParameterValue.Duplicate"
    );
    // A gateway of another VPC, and one still being created.
    let other_vpc = c
        .call::<CreateVpc>(
            REGION,
            &CreateVpcRequest {
                vpc_name: "other".into(),
                cidr_block: Some("172.16.0.0/16".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .vpc;
    let pending = create_gateway(&c, "pending").await;
    assert_eq!(
        code(
            c.call::<CreateRoutes>(
                REGION,
                &create(vec![route(
                    "192.168.8.0/24",
                    "VPN",
                    &pending.vpn_gateway_id
                )])
            )
            .await
        )
        .as_str(),
        "UnsupportedOperation"
    );
    let other = ready_gateway_in(&c, &other_vpc.vpc_id).await;
    assert_eq!(
        code(
            c.call::<CreateRoutes>(
                REGION,
                &create(vec![route("192.168.8.0/24", "VPN", &other.vpn_gateway_id)])
            )
            .await
        )
        .as_str(),
        "UnsupportedOperation"
    );
    // The quota (5) counts what the table has.
    assert_eq!(
        code(
            c.call::<CreateRoutes>(
                REGION,
                &create(vec![
                    route("192.168.4.0/24", "VPN", &gw_id),
                    route("192.168.5.0/24", "VPN", &gw_id),
                    route("192.168.6.0/24", "VPN", &gw_id),
                ])
            )
            .await
        )
        .as_str(),
        "LimitExceeded"
    );

    // Disable by numeric id, enable by item id; not both at once.
    let rid = vpn_route.route_id.unwrap();
    c.call::<DisableRoutes>(
        REGION,
        &RouteSwitchRequest {
            route_table_id: rtb.clone(),
            route_ids: Some(vec![rid]),
            route_item_ids: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(table(&c, &rtb).await.route_set[0].enabled, Some(false));
    c.call::<EnableRoutes>(
        REGION,
        &RouteSwitchRequest {
            route_table_id: rtb.clone(),
            route_ids: None,
            route_item_ids: Some(vec![vpn_route.route_item_id.clone().unwrap()]),
        },
    )
    .await
    .unwrap();
    assert_eq!(table(&c, &rtb).await.route_set[0].enabled, Some(true));
    assert_eq!(
        code(
            c.call::<EnableRoutes>(
                REGION,
                &RouteSwitchRequest {
                    route_table_id: rtb.clone(),
                    route_ids: Some(vec![rid]),
                    route_item_ids: Some(vec!["rti-x".into()]),
                },
            )
            .await
        )
        .as_str(),
        "InvalidParameter.Coexist"
    );
    assert_eq!(
        code(
            c.call::<DisableRoutes>(
                REGION,
                &RouteSwitchRequest {
                    route_table_id: rtb.clone(),
                    route_ids: Some(vec![1]),
                    route_item_ids: None,
                },
            )
            .await
        )
        .as_str(),
        "ResourceNotFound"
    );

    // Replace keeps the entry's ids and changes its next hop.
    let replaced = c
        .call::<ReplaceRoutes>(
            REGION,
            &ReplaceRoutesRequest {
                route_table_id: rtb.clone(),
                routes: vec![Route {
                    route_id: Some(rid),
                    ..route("192.168.0.0/24", "NORMAL_CVM", "10.0.3.8")
                }],
            },
        )
        .await
        .unwrap();
    assert_eq!(
        replaced.old_route_set[0].gateway_id.as_deref(),
        Some(gw_id.as_str())
    );
    assert_eq!(
        replaced.new_route_set[0].gateway_id.as_deref(),
        Some("10.0.3.8")
    );
    assert_eq!(replaced.new_route_set[0].route_id, Some(rid));

    // The gateway is no next hop any more: a new entry to it blocks its deletion.
    c.call::<CreateRoutes>(
        REGION,
        &create(vec![route("192.168.7.0/24", "VPN", &gw_id)]),
    )
    .await
    .unwrap();
    assert_eq!(
        code(
            c.call::<DeleteVpnGateway>(
                REGION,
                &DeleteVpnGatewayRequest {
                    vpn_gateway_id: gw_id.clone(),
                },
            )
            .await
        )
        .as_str(),
        "ResourceInUse"
    );
    let all = table(&c, &rtb).await.route_set;
    let deleted = c
        .call::<DeleteRoutes>(
            REGION,
            &DeleteRoutesRequest {
                route_table_id: rtb.clone(),
                routes: Some(
                    all.iter()
                        .map(|e| Route {
                            route_id: e.route_id,
                            ..Default::default()
                        })
                        .collect(),
                ),
            },
        )
        .await
        .unwrap();
    assert_eq!(deleted.route_set.len(), all.len());
    assert!(table(&c, &rtb).await.route_set.is_empty());
    assert_eq!(
        code(
            c.call::<DeleteRoutes>(
                REGION,
                &DeleteRoutesRequest {
                    route_table_id: rtb.clone(),
                    routes: Some(vec![Route {
                        route_id: Some(rid),
                        ..Default::default()
                    }]),
                },
            )
            .await
        )
        .as_str(),
        "ResourceNotFound"
    );
    c.call::<DeleteVpnGateway>(
        REGION,
        &DeleteVpnGatewayRequest {
            vpn_gateway_id: gw_id,
        },
    )
    .await
    .unwrap();
    h.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------------------
// VPN gateway routes

#[tokio::test]
async fn vpn_gateway_routes_lifecycle_rules_and_dependencies() {
    let mut config = sandbox_config();
    config.quotas = Quotas {
        routes_per_vpn_gateway: 4,
        ..Quotas::default()
    };
    let h = start(config).await;
    let c = client(&h);
    let gw = ready_gateway(&c, "gw").await.vpn_gateway_id;
    let cgw_a = create_cgw(&c, "a", "203.0.113.10", None)
        .await
        .customer_gateway_id;
    let cgw_b = create_cgw(&c, "b", "203.0.113.11", None)
        .await
        .customer_gateway_id;
    let a = ready_tunnel(
        &c,
        CreateVpnConnectionRequest {
            route_type: Some("StaticRoute".into()),
            ..tunnel_req(&gw, &cgw_a, "a")
        },
    )
    .await
    .vpn_connection_id;
    let b = ready_tunnel(
        &c,
        CreateVpnConnectionRequest {
            route_type: Some("StaticRoute".into()),
            ..tunnel_req(&gw, &cgw_b, "b")
        },
    )
    .await
    .vpn_connection_id;
    let create = |routes: Vec<VpnGatewayRoute>| CreateVpnGatewayRoutesRequest {
        vpn_gateway_id: gw.clone(),
        routes,
    };
    // One destination through two tunnels, primary and backup, in one call.
    let created = c
        .call::<CreateVpnGatewayRoutes>(
            REGION,
            &create(vec![
                gw_route("192.168.0.0/16", &a, 0),
                gw_route("192.168.0.0/16", &b, 100),
            ]),
        )
        .await
        .unwrap()
        .routes;
    assert_eq!(created.len(), 2);
    for r in &created {
        assert!(is_id(r.route_id.as_deref().unwrap(), "vpnr"));
        assert_eq!(r.route_type.as_deref(), Some("Static"));
        assert_eq!(r.status, "ENABLE");
    }
    let cases: Vec<(VpnGatewayRoute, &str)> = vec![
        (
            gw_route("192.168.0.0/16", &a, 0),
            "InvalidParameterValue.VpnGatewayRouteDuplicate",
        ),
        (gw_route("192.168.1.0/24", &a, 50), "InvalidParameterValue"),
        (
            gw_route("192.168.1.1/24", &a, 0),
            "InvalidParameterValue.Malformed",
        ),
        (
            gw_route("192.168.1.0/24", "vpnx-nothere1", 0),
            "ResourceNotFound",
        ),
        (
            VpnGatewayRoute {
                status: "ON".into(),
                ..gw_route("192.168.1.0/24", &a, 0)
            },
            "InvalidParameterValue",
        ),
        (
            VpnGatewayRoute {
                instance_type: "CCN".into(),
                instance_id: "ccn-12345678".into(),
                ..gw_route("192.168.1.0/24", &a, 0)
            },
            "UnsupportedOperation",
        ),
    ];
    for (bad, want) in cases {
        assert_eq!(
            code(
                c.call::<CreateVpnGatewayRoutes>(REGION, &create(vec![bad.clone()]))
                    .await
            )
            .as_str(),
            want,
            "{bad:?}"
        );
    }
    // A policy-based tunnel takes no destination routes (UnsupportedOperation: the code
    // CreateVpnGatewayRoutes' page lists, not CreateVpnConnection's VpnConnRouteTypeMixed).
    let cgw_c = create_cgw(&c, "c", "203.0.113.12", None)
        .await
        .customer_gateway_id;
    let policy = ready_tunnel(
        &c,
        CreateVpnConnectionRequest {
            route_type: Some("Policy".into()),
            security_policy_databases: Some(vec![spd("10.0.0.0/24", &["172.30.0.0/24"])]),
            ..tunnel_req(&gw, &cgw_c, "c")
        },
    )
    .await
    .vpn_connection_id;
    assert_eq!(
        code(
            c.call::<CreateVpnGatewayRoutes>(
                REGION,
                &create(vec![gw_route("192.168.2.0/24", &policy, 0)])
            )
            .await
        )
        .as_str(),
        "UnsupportedOperation"
    );
    // The quota (4) counts the gateway's routes.
    assert_eq!(
        code(
            c.call::<CreateVpnGatewayRoutes>(
                REGION,
                &create(vec![
                    gw_route("192.168.3.0/24", &a, 0),
                    gw_route("192.168.4.0/24", &a, 0),
                    gw_route("192.168.5.0/24", &a, 0),
                ])
            )
            .await
        )
        .as_str(),
        "LimitExceeded.VpnGatewayRoutesLimitExceeded"
    );

    // Describe with filters; the batched reader.
    let by_b = c
        .call::<DescribeVpnGatewayRoutes>(
            REGION,
            &DescribeVpnGatewayRoutesRequest {
                vpn_gateway_id: gw.clone(),
                filters: Some(vec![filter("InstanceId", &[&b])]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_b.total_count, 1);
    assert_eq!(by_b.routes[0].priority, 100);
    assert_eq!(
        c.describe_vpn_gateway_routes(REGION, &gw)
            .await
            .unwrap()
            .len(),
        2
    );

    // Status is what changes in place.
    let id_a = created[0].route_id.clone().unwrap();
    let modified = c
        .call::<ModifyVpnGatewayRoutes>(
            REGION,
            &ModifyVpnGatewayRoutesRequest {
                vpn_gateway_id: gw.clone(),
                routes: vec![VpnGatewayRouteModify {
                    route_id: id_a.clone(),
                    status: Some("DISABLE".into()),
                    description: None,
                }],
            },
        )
        .await
        .unwrap();
    assert_eq!(modified.routes[0].status, "DISABLE");
    assert_eq!(
        code(
            c.call::<ModifyVpnGatewayRoutes>(
                REGION,
                &ModifyVpnGatewayRoutesRequest {
                    vpn_gateway_id: gw.clone(),
                    routes: vec![VpnGatewayRouteModify {
                        route_id: "vpnr-nothere1".into(),
                        status: Some("ENABLE".into()),
                        description: None,
                    }],
                },
            )
            .await
        )
        .as_str(),
        "ResourceNotFound"
    );

    // A tunnel that routes point at cannot be deleted.
    let delete_tunnel = |id: &str| DeleteVpnConnectionRequest {
        vpn_gateway_id: gw.clone(),
        vpn_connection_id: id.into(),
    };
    assert_eq!(
        code(
            c.call::<DeleteVpnConnection>(REGION, &delete_tunnel(&a))
                .await
        )
        .as_str(),
        "ResourceInUse"
    );
    c.call::<DeleteVpnGatewayRoutes>(
        REGION,
        &DeleteVpnGatewayRoutesRequest {
            vpn_gateway_id: gw.clone(),
            route_ids: vec![id_a.clone()],
        },
    )
    .await
    .unwrap();
    assert_eq!(
        code(
            c.call::<DeleteVpnGatewayRoutes>(
                REGION,
                &DeleteVpnGatewayRoutesRequest {
                    vpn_gateway_id: gw.clone(),
                    route_ids: vec![id_a],
                },
            )
            .await
        )
        .as_str(),
        "ResourceNotFound"
    );
    c.call::<DeleteVpnConnection>(REGION, &delete_tunnel(&a))
        .await
        .unwrap();
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn gateway_routes_are_read_in_pages_of_100() {
    let mut config = sandbox_config();
    config.quotas = Quotas {
        routes_per_vpn_gateway: 500,
        ..Quotas::default()
    };
    let h = start(config).await;
    let c = client(&h);
    let gw = ready_gateway(&c, "gw").await.vpn_gateway_id;
    let cgw = create_cgw(&c, "a", "203.0.113.10", None)
        .await
        .customer_gateway_id;
    let a = ready_tunnel(&c, tunnel_req(&gw, &cgw, "a"))
        .await
        .vpn_connection_id;
    let routes: Vec<VpnGatewayRoute> = (0..250)
        .map(|i| gw_route(&format!("172.{}.{}.0/24", 20 + i / 256, i % 256), &a, 0))
        .collect();
    for chunk in routes.chunks(100) {
        c.call::<CreateVpnGatewayRoutes>(
            REGION,
            &CreateVpnGatewayRoutesRequest {
                vpn_gateway_id: gw.clone(),
                routes: chunk.to_vec(),
            },
        )
        .await
        .unwrap();
    }
    let before = c.metrics().calls_of("DescribeVpnGatewayRoutes");
    let read = c.describe_vpn_gateway_routes(REGION, &gw).await.unwrap();
    assert_eq!(read.len(), 250);
    assert_eq!(c.metrics().calls_of("DescribeVpnGatewayRoutes") - before, 3);
    let mut ids: Vec<_> = read.iter().map(|r| r.route_id.clone().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 250);
    h.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------------------
// Peer devices

#[tokio::test]
async fn vendors_and_the_peer_configuration_of_a_tunnel() {
    let h = start(sandbox_config()).await;
    let c = client(&h);
    let vendors = c
        .call::<DescribeCustomerGatewayVendors>(REGION, &DescribeCustomerGatewayVendorsRequest {})
        .await
        .unwrap()
        .customer_gateway_vendor_set;
    assert!(vendors.len() >= 3);
    assert!(vendors.iter().any(|v| v.vendor_name == "cisco"));
    let gw = ready_gateway(&c, "gw").await;
    let cgw = create_cgw(&c, "a", "203.0.113.10", None)
        .await
        .customer_gateway_id;
    let conn = ready_tunnel(
        &c,
        CreateVpnConnectionRequest {
            security_policy_databases: Some(vec![spd("10.0.0.0/24", &["172.30.0.0/24"])]),
            ..tunnel_req(&gw.vpn_gateway_id, &cgw, "t1")
        },
    )
    .await;
    let download =
        |vendor: &CustomerGatewayVendor, conn: &str| DownloadCustomerGatewayConfigurationRequest {
            vpn_gateway_id: gw.vpn_gateway_id.clone(),
            vpn_connection_id: conn.into(),
            customer_gateway_vendor: vendor.clone(),
            interface_name: "GigabitEthernet0/1".into(),
        };
    for v in &vendors {
        let text = c
            .call::<DownloadCustomerGatewayConfiguration>(
                REGION,
                &download(v, &conn.vpn_connection_id),
            )
            .await
            .unwrap()
            .customer_gateway_configuration;
        let text = text.expose();
        for needle in [
            "psk-t1",
            gw.public_ip_address.as_str(),
            "172.30.0.0/24",
            "10.0.0.0/24",
        ] {
            assert!(
                text.contains(needle),
                "{}: no {needle} in\n{text}",
                v.vendor_name
            );
        }
    }
    let unknown = CustomerGatewayVendor {
        platform: "x".into(),
        software_version: "1".into(),
        vendor_name: "acme".into(),
    };
    assert_eq!(
        code(
            c.call::<DownloadCustomerGatewayConfiguration>(
                REGION,
                &download(&unknown, &conn.vpn_connection_id)
            )
            .await
        )
        .as_str(),
        "InvalidParameterValue"
    );
    assert_eq!(
        code(
            c.call::<DownloadCustomerGatewayConfiguration>(
                REGION,
                &download(&vendors[0], "vpnx-nothere1")
            )
            .await
        )
        .as_str(),
        "ResourceNotFound"
    );
    h.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------------------
// Persistence

#[tokio::test]
async fn routes_survive_a_restart_with_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("world.json");
    let config = || SandboxConfig {
        data_file: Some(data.clone()),
        ..sandbox_config()
    };
    let h = start(config()).await;
    let c = client(&h);
    let gw = ready_gateway(&c, "gw").await.vpn_gateway_id;
    let rtb = main_table(&c, VPC).await.route_table_id;
    let first = c
        .call::<CreateRoutes>(
            REGION,
            &CreateRoutesRequest {
                route_table_id: rtb.clone(),
                routes: vec![route("192.168.0.0/24", "VPN", &gw)],
            },
        )
        .await
        .unwrap()
        .route_table_set[0]
        .route_set[0]
        .clone();
    h.shutdown().await.unwrap();

    let h = start(config()).await;
    let c = client(&h);
    assert_eq!(main_table(&c, VPC).await.route_table_id, rtb);
    let t = table(&c, &rtb).await;
    assert_eq!(t.route_set, vec![first.clone()]);
    // Numeric ids are never reused.
    let second = c
        .call::<CreateRoutes>(
            REGION,
            &CreateRoutesRequest {
                route_table_id: rtb.clone(),
                routes: vec![route("192.168.1.0/24", "VPN", &gw)],
            },
        )
        .await
        .unwrap()
        .route_table_set[0]
        .route_set[1]
        .clone();
    assert!(second.route_id > first.route_id);
    h.shutdown().await.unwrap();
}
