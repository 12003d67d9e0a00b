//! VPN connections: async lifecycle, defaults, state machine, validation, quotas, describe, rate limits.

use std::net::Ipv4Addr;

use serde_json::{json, Value};

use crate::common::*;

async fn setup(c: &Client) -> (String, String) {
    let gw = c.create_gateway(VPC).await;
    let cgw = c.create_cgw("58.211.1.12").await;
    (gw, cgw)
}

#[tokio::test]
async fn create_is_async_with_documented_defaults() {
    let (_h, c) = start_default().await;
    let (gw, cgw) = setup(&c).await;
    let gw_ip = c.wait_gateway(&gw).await["PublicIpAddress"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c
        .vpc(
            "CreateVpnConnection",
            json!({"VpnGatewayId": gw, "CustomerGatewayId": cgw, "VpnConnectionName": "office",
                   "PreShareKey": "s3cret", "Tags": [{"Key": "city", "Value": "shanghai"}]}),
        )
        .await;
    let conn = &r["VpnConnection"];
    let id = conn["VpnConnectionId"].as_str().unwrap().to_string();
    let task = r["RequestId"].as_str().unwrap().to_string();
    assert!(id.starts_with("vpnx-") && id.len() == 13, "{id}");
    assert_eq!(conn["State"], "PENDING");
    assert_eq!(conn["VpcId"], VPC);
    let ike = &conn["IKEOptionsSpecification"];
    assert_eq!(ike["PropoEncryAlgorithm"], "3DES-CBC");
    assert_eq!(ike["PropoAuthenAlgorithm"], "MD5");
    assert_eq!(ike["ExchangeMode"], "MAIN");
    assert_eq!(ike["LocalIdentity"], "ADDRESS");
    assert_eq!(ike["RemoteIdentity"], "ADDRESS");
    assert_eq!(ike["LocalAddress"], gw_ip.as_str());
    assert_eq!(ike["RemoteAddress"], "58.211.1.12");
    assert_eq!(ike["DhGroupName"], "GROUP1");
    assert_eq!(ike["IKESaLifetimeSeconds"], 86400);
    assert_eq!(ike["IKEVersion"], "IKEV1");
    let ipsec = &conn["IPSECOptionsSpecification"];
    assert_eq!(ipsec["EncryptAlgorithm"], "3DES-CBC");
    assert_eq!(ipsec["IntegrityAlgorith"], "MD5");
    assert_eq!(ipsec["PfsDhGroup"], "NULL");
    assert_eq!(ipsec["IPSECSaLifetimeSeconds"], 3600);
    assert_eq!(ipsec["IPSECSaLifetimeTraffic"], 1843200);
    assert_eq!(conn["DpdEnable"], 0);
    assert_eq!(conn["DpdTimeout"], "30");
    assert_eq!(conn["DpdAction"], "clear");
    assert_eq!(conn["NegotiationType"], "active");
    assert_eq!(conn["RouteType"], "StaticRoute");
    assert_eq!(conn["EnableHealthCheck"], false);
    for k in ["HealthCheckLocalIp", "HealthCheckRemoteIp"] {
        let ip: Ipv4Addr = conn[k].as_str().unwrap().parse().unwrap();
        let o = ip.octets();
        assert!(o[0] == 169 && o[1] == 254 && o[2] >= 128, "{ip}");
    }
    assert_ne!(conn["HealthCheckLocalIp"], conn["HealthCheckRemoteIp"]);

    let (status, output) = c.wait_task(&task).await;
    assert_eq!((status.as_str(), output.as_str()), ("SUCCESS", "SUCCESS"));
    let d = c.describe_conn(&id).await.unwrap();
    assert_eq!(d["State"], "AVAILABLE");
    assert_eq!(d["PreShareKey"], "s3cret");
    assert_eq!(d["TagSet"], json!([{"Key": "city", "Value": "shanghai"}]));
    assert_eq!(
        d["IKEOptionsSpecification"],
        conn["IKEOptionsSpecification"]
    );

    // Delete: DELETING, then gone.
    let r = c
        .vpc(
            "DeleteVpnConnection",
            json!({"VpnGatewayId": gw, "VpnConnectionId": id}),
        )
        .await;
    let del_task = r["RequestId"].as_str().unwrap().to_string();
    let during = c.describe_conn(&id).await;
    if let Some(d) = during {
        assert_eq!(d["State"], "DELETING");
        assert_eq!(
            c.vpc_err(
                "ModifyVpnConnectionAttribute",
                json!({"VpnConnectionId": id, "PreShareKey": "x"})
            )
            .await,
            "UnsupportedOperation.VpnConnInvalidState"
        );
    }
    assert_eq!(c.wait_task(&del_task).await.0, "SUCCESS");
    assert!(c.describe_conn(&id).await.is_none());
    assert_eq!(
        c.vpc_err(
            "DeleteVpnConnection",
            json!({"VpnGatewayId": gw, "VpnConnectionId": id})
        )
        .await,
        "ResourceNotFound"
    );
    // Unknown tasks, and tasks of another region.
    assert_eq!(
        c.vpc_err(
            "DescribeVpcTaskResult",
            json!({"TaskId": "00000000-0000-0000-0000-000000000000"})
        )
        .await,
        "ResourceNotFound"
    );
    assert_eq!(
        c.in_region("ap-shanghai")
            .vpc_err("DescribeVpcTaskResult", json!({"TaskId": task}))
            .await,
        "ResourceNotFound"
    );
}

#[tokio::test]
async fn state_machine_while_tasks_run() {
    let (_h, c, gw, cgw, _dir) = start_slow().await;
    let (id, task) = c.start_conn(&gw, &cgw, json!({})).await;
    // Describe shows it PENDING (and caches its rendering); the task is RUNNING.
    assert_eq!(c.describe_conn(&id).await.unwrap()["State"], "PENDING");
    let r = c
        .vpc("DescribeVpcTaskResult", json!({"TaskId": task}))
        .await;
    assert_eq!(r["Status"], "RUNNING");
    assert_eq!(r["Output"], "");
    // PENDING blocks modify and delete with the documented codes.
    assert_eq!(
        c.vpc_err(
            "ModifyVpnConnectionAttribute",
            json!({"VpnConnectionId": id, "VpnConnectionName": "x"})
        )
        .await,
        "UnsupportedOperation.VpnConnInvalidState"
    );
    assert_eq!(
        c.vpc_err(
            "DeleteVpnConnection",
            json!({"VpnGatewayId": gw, "VpnConnectionId": id})
        )
        .await,
        "UnsupportedOperation.DeleteVpnConnInvalidState"
    );
    // A new gateway stays PENDING, and a PENDING gateway takes no tunnels and cannot be deleted.
    let r = c
        .vpc(
            "CreateVpnGateway",
            json!({"VpcId": VPC, "VpnGatewayName": "gw2", "InternetMaxBandwidthOut": 5}),
        )
        .await;
    assert_eq!(r["VpnGateway"]["State"], "PENDING");
    let gw2 = r["VpnGateway"]["VpnGatewayId"].as_str().unwrap();
    let cgw2 = c.create_cgw("58.211.1.13").await;
    assert_eq!(
        c.vpc_err(
            "CreateVpnConnection",
            json!({"VpnGatewayId": gw2, "CustomerGatewayId": cgw2, "VpnConnectionName": "n", "PreShareKey": "k"})
        )
        .await,
        "UnsupportedOperation.InvalidState"
    );
    assert_eq!(
        c.vpc_err("DeleteVpnGateway", json!({"VpnGatewayId": gw2}))
            .await,
        // DeleteVpnGateway's page lists no InvalidState code: the common one.
        "UnsupportedOperation"
    );
    assert_eq!(
        c.vpc_err(
            "ModifyVpnGatewayAttribute",
            json!({"VpnGatewayId": gw2, "VpnGatewayName": "x"})
        )
        .await,
        "UnsupportedOperation.InvalidState"
    );
    let r = c
        .vpc("DescribeVpnGateways", json!({"VpnGatewayIds": [gw2]}))
        .await;
    assert_eq!(r["VpnGatewaySet"][0]["State"], "PENDING");
}

#[tokio::test]
async fn describe_reflects_every_change() {
    let (_h, c) = start_default().await;
    let (gw, cgw) = setup(&c).await;
    let (id, task) = c.start_conn(&gw, &cgw, json!({})).await;
    // Rendered (and cached) while PENDING or already AVAILABLE; either way AVAILABLE must show after the task.
    let first = c.describe_conn(&id).await.unwrap();
    assert!(first["State"] == "PENDING" || first["State"] == "AVAILABLE");
    assert_eq!(c.wait_task(&task).await.0, "SUCCESS");
    assert_eq!(c.describe_conn(&id).await.unwrap()["State"], "AVAILABLE");
}

#[tokio::test]
async fn modify_updates_and_merges() {
    let (_h, c) = start_default().await;
    let (gw, cgw) = setup(&c).await;
    let id = c
        .create_conn(
            &gw,
            &cgw,
            json!({"RouteType": "Policy", "SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.1.0/24", "RemoteCidrBlock": ["192.168.1.0/24"]}],
                   "IKEOptionsSpecification": {"PropoEncryAlgorithm": "AES-CBC-256", "IKESaLifetimeSeconds": 3600}}),
        )
        .await;
    assert_eq!(
        c.describe_conn(&id).await.unwrap()["VpnConnectionName"],
        "conn"
    );
    c.vpc(
        "ModifyVpnConnectionAttribute",
        json!({"VpnConnectionId": id, "VpnConnectionName": "renamed", "PreShareKey": "newkey",
               "IKEOptionsSpecification": {"DhGroupName": "GROUP14"},
               "SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.2.0/24", "RemoteCidrBlock": ["192.168.2.0/24", "192.168.3.0/24"]}],
               "DpdEnable": 1, "DpdTimeout": "45", "DpdAction": "restart", "NegotiationType": "passive"}),
    )
    .await;
    let d = c.describe_conn(&id).await.unwrap();
    assert_eq!(d["VpnConnectionName"], "renamed");
    assert_eq!(d["PreShareKey"], "newkey");
    assert_eq!(d["IKEOptionsSpecification"]["DhGroupName"], "GROUP14");
    assert_eq!(
        d["IKEOptionsSpecification"]["PropoEncryAlgorithm"],
        "AES-CBC-256"
    );
    assert_eq!(d["IKEOptionsSpecification"]["IKESaLifetimeSeconds"], 3600);
    assert_eq!(
        d["SecurityPolicyDatabaseSet"],
        json!([{"LocalCidrBlock": "10.0.2.0/24", "RemoteCidrBlock": ["192.168.2.0/24", "192.168.3.0/24"]}])
    );
    assert_eq!(d["DpdEnable"], 1);
    assert_eq!(d["DpdTimeout"], "45");
    assert_eq!(d["DpdAction"], "restart");
    assert_eq!(d["NegotiationType"], "passive");
    assert_eq!(d["State"], "AVAILABLE");
    // Move the tunnel to another customer gateway: the default remote address follows.
    let cgw2 = c.create_cgw("58.211.1.13").await;
    c.vpc(
        "ModifyVpnConnectionAttribute",
        json!({"VpnConnectionId": id, "CustomerGatewayId": cgw2}),
    )
    .await;
    let d = c.describe_conn(&id).await.unwrap();
    assert_eq!(d["CustomerGatewayId"], cgw2.as_str());
    assert_eq!(d["IKEOptionsSpecification"]["RemoteAddress"], "58.211.1.13");
    let r = c
        .vpc(
            "DescribeVpnConnections",
            json!({"Filters": [{"Name": "customer-gateway-id", "Values": [cgw2]}]}),
        )
        .await;
    assert_eq!(r["TotalCount"], 1);
    let r = c
        .vpc(
            "DescribeVpnConnections",
            json!({"Filters": [{"Name": "customer-gateway-id", "Values": [cgw]}]}),
        )
        .await;
    assert_eq!(r["TotalCount"], 0);
    assert_eq!(
        c.vpc_err(
            "ModifyVpnConnectionAttribute",
            json!({"VpnConnectionId": "vpnx-zzzzzzzz"})
        )
        .await,
        "ResourceNotFound"
    );
}

/// Creates a connection expecting an error code.
async fn create_err(c: &Client, gw: &str, cgw: &str, extra: Value) -> String {
    let mut body = json!({"VpnGatewayId": gw, "CustomerGatewayId": cgw, "VpnConnectionName": "n", "PreShareKey": "k"});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    c.vpc_err("CreateVpnConnection", body).await
}

#[tokio::test]
async fn value_validation() {
    // Each code is one CreateVpnConnection's page lists (or a common one): a finer code of
    // another action's page is answered as the documented code it refines.
    let (_h, c) = start_default().await;
    let (gw, cgw) = setup(&c).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"VpnConnectionName": "x".repeat(61)}),
            "InvalidParameterValue.TooLong",
        ),
        (json!({"PreShareKey": ""}), "InvalidParameterValue.Empty"),
        (
            json!({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "a"}]}),
            "InvalidParameterValue.TagDuplicateKey",
        ),
        (
            json!({"IKEOptionsSpecification": {"IKESaLifetimeSeconds": 59}}),
            "InvalidParameterValue",
        ),
        (
            json!({"IKEOptionsSpecification": {"IKESaLifetimeSeconds": 604801}}),
            "InvalidParameterValue",
        ),
        (
            json!({"IKEOptionsSpecification": {"PropoEncryAlgorithm": "ROT13"}}),
            "InvalidParameterValue",
        ),
        (
            json!({"IKEOptionsSpecification": {"LocalIdentity": "FQDN"}}),
            "MissingParameter",
        ),
        (
            json!({"IKEOptionsSpecification": {"LocalAddress": "not-an-ip"}}),
            "InvalidParameterValue.Malformed",
        ),
        (
            json!({"IPSECOptionsSpecification": {"IPSECSaLifetimeSeconds": 179}}),
            "InvalidParameterValue",
        ),
        (
            json!({"IPSECOptionsSpecification": {"IPSECSaLifetimeTraffic": 2559}}),
            "InvalidParameterValue",
        ),
        (
            json!({"IPSECOptionsSpecification": {"PfsDhGroup": "GROUP1"}}),
            "InvalidParameterValue",
        ),
        (json!({"DpdEnable": 2}), "InvalidParameterValue"),
        (json!({"DpdTimeout": "29"}), "InvalidParameterValue"),
        (json!({"DpdTimeout": "61"}), "InvalidParameterValue"),
        (
            json!({"DpdTimeout": "soon"}),
            "InvalidParameterValue.Malformed",
        ),
        (json!({"DpdAction": "explode"}), "InvalidParameterValue"),
        (json!({"NegotiationType": "lazy"}), "InvalidParameterValue"),
        (json!({"RouteType": "OSPF"}), "InvalidParameterValue"),
        (
            json!({"HealthCheckConfig": {"ProbeInterval": 999}}),
            "InvalidParameterValue",
        ),
        (
            json!({"HealthCheckConfig": {"ProbeThreshold": 9}}),
            "InvalidParameterValue",
        ),
        (
            json!({"HealthCheckConfig": {"ProbeTimeout": 9}}),
            "InvalidParameterValue",
        ),
        (
            json!({"HealthCheckLocalIp": "10.0.3.3"}),
            "InvalidParameterValue.VpnConnHealthCheckIpConflict",
        ),
        (
            json!({"HealthCheckLocalIp": "169.254.200.1", "HealthCheckRemoteIp": "169.254.200.1"}),
            "InvalidParameterValue.VpnConnHealthCheckIpConflict",
        ),
        (
            json!({"RouteType": "Policy", "EnableHealthCheck": true}),
            "UnsupportedOperation.VpnConnCidrNotSupportedHealthCheck",
        ),
        (
            json!({"SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.1.0/24", "RemoteCidrBlock": ["10.0.5.0/24"]}]}),
            "InvalidParameterValue.VpcCidrConflict",
        ),
        (
            json!({"SecurityPolicyDatabases": [{"LocalCidrBlock": "192.168.0.0/16", "RemoteCidrBlock": ["192.168.5.0/24"]}]}),
            "InvalidParameterValue.VpnConnSpdCidrConflict",
        ),
        (
            json!({"SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.1.0/24", "RemoteCidrBlock": ["172.16.0.0/16"]}, {"LocalCidrBlock": "10.0.1.128/25", "RemoteCidrBlock": ["172.17.0.0/16"]}]}),
            "UnsupportedOperation",
        ),
        (
            json!({"SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.1.0/24", "RemoteCidrBlock": []}]}),
            "InvalidParameterValue.Empty",
        ),
        (
            json!({"SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.1.0", "RemoteCidrBlock": ["1.0.0.0/8"]}]}),
            "InvalidParameterValue.Malformed",
        ),
        (
            json!({"BgpConfig": {"TunnelCidr": "169.254.10.0/30", "LocalBgpIp": "169.254.10.1", "RemoteBgpIp": "169.254.10.2"}}),
            "InvalidParameter",
        ),
        (json!({"RouteType": "Bgp"}), "MissingParameter"),
        (json!({"VpcId": "vpc-sandbox2"}), "ResourceNotFound"),
        (
            json!({"VpnGatewayId": "vpngw-zzzzzzzz"}),
            "ResourceNotFound",
        ),
        (
            json!({"VpnGatewayId": "gw"}),
            "InvalidParameterValue.Malformed",
        ),
        (
            json!({"CustomerGatewayId": "cgw-zzzzzzzz"}),
            "ResourceNotFound",
        ),
    ];
    for (extra, code) in cases {
        assert_eq!(
            create_err(&c, &gw, &cgw, extra.clone()).await,
            code,
            "{extra}"
        );
    }
    // Another VPC of the region that is not the gateway's.
    let other = c
        .vpc(
            "CreateVpc",
            json!({"VpcName": "other", "CidrBlock": "10.9.0.0/16"}),
        )
        .await["Vpc"]["VpcId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        create_err(&c, &gw, &cgw, json!({"VpcId": other})).await,
        "UnsupportedOperation"
    );
    // Nothing was created by the rejected calls.
    let r = c.vpc("DescribeVpnConnections", json!({})).await;
    assert_eq!(r["TotalCount"], 0);
}

#[tokio::test]
async fn bgp_rules() {
    let (_h, c) = start_default().await;
    let gw = c.create_gateway(VPC).await;
    let plain = c.create_cgw("58.211.1.12").await;
    let peer = c.create_cgw_asn("58.211.1.13", 65001).await;
    let peer2 = c.create_cgw_asn("58.211.1.14", 65002).await;
    let same_asn = c.create_cgw_asn("58.211.1.15", 64551).await;
    let bgp = |cidr: &str, l: &str, r: &str| json!({"RouteType": "Bgp", "BgpConfig": {"TunnelCidr": cidr, "LocalBgpIp": l, "RemoteBgpIp": r}});
    assert_eq!(
        create_err(
            &c,
            &gw,
            &peer,
            bgp("169.254.10.0/29", "169.254.10.1", "169.254.10.2")
        )
        .await,
        "InvalidParameterValue.VpnConnBgpTunnelCidrMask"
    );
    assert_eq!(
        create_err(
            &c,
            &gw,
            &peer,
            bgp("169.254.10.0/30", "169.254.10.1", "169.254.11.2")
        )
        .await,
        "InvalidParameterValue.VpnConnBgpTunnelCidrNotSupported"
    );
    assert_eq!(
        create_err(
            &c,
            &gw,
            &peer,
            bgp("169.254.10.0/30", "169.254.10.0", "169.254.10.2")
        )
        .await,
        "InvalidParameterValue.VpnConnBgpTunnelCidrNotSupported"
    );
    assert_eq!(
        create_err(
            &c,
            &gw,
            &plain,
            bgp("169.254.10.0/30", "169.254.10.1", "169.254.10.2")
        )
        .await,
        // The customer gateway has no ASN: CreateVpnConnection's page lists no finer code for it.
        "UnsupportedOperation"
    );
    assert_eq!(
        create_err(
            &c,
            &gw,
            &same_asn,
            bgp("169.254.10.0/30", "169.254.10.1", "169.254.10.2")
        )
        .await,
        "UnsupportedOperation.VpnUnsupportedBgpAsnEqual"
    );
    let id = c
        .create_conn(
            &gw,
            &peer,
            bgp("169.254.10.0/30", "169.254.10.1", "169.254.10.2"),
        )
        .await;
    let d = c.describe_conn(&id).await.unwrap();
    assert_eq!(d["RouteType"], "Bgp");
    assert_eq!(d["BgpConfig"]["TunnelCidr"], "169.254.10.0/30");
    assert_eq!(d["BgpConfig"]["LocalBgpAsn"], "64551");
    assert_eq!(d["BgpConfig"]["RemoteBgpAsn"], "65001");
    assert_eq!(
        create_err(
            &c,
            &gw,
            &peer2,
            bgp("169.254.10.0/30", "169.254.10.1", "169.254.10.2")
        )
        .await,
        "InvalidParameterValue.VpnConnBgpTunnelCidrConflict"
    );
    // Static and BGP tunnels do not mix on one gateway.
    assert_eq!(
        create_err(&c, &gw, &plain, json!({})).await,
        "UnsupportedOperation.VpnConnRouteTypeMixed"
    );
    c.create_conn(
        &gw,
        &peer2,
        bgp("169.254.10.4/30", "169.254.10.5", "169.254.10.6"),
    )
    .await;
    // The peer's ASN cannot change under a BGP tunnel.
    assert_eq!(
        c.vpc_err(
            "ModifyCustomerGatewayAttribute",
            json!({"CustomerGatewayId": peer, "CustomerGatewayName": "p", "BgpAsn": 65009})
        )
        .await,
        "UnsupportedOperation.VpnUnsupportedModifyBgpAsn"
    );
}

#[tokio::test]
async fn conflicts_between_tunnels_of_a_gateway() {
    let (_h, c) = start_default().await;
    let gw = c.create_gateway(VPC).await;
    let a = c.create_cgw("58.211.1.12").await;
    let b = c.create_cgw("58.211.1.13").await;
    let first = c
        .create_conn(
            &gw,
            &a,
            json!({"RouteType": "Policy", "HealthCheckLocalIp": "169.254.130.1", "HealthCheckRemoteIp": "169.254.130.2",
                   "SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.1.0/24", "RemoteCidrBlock": ["192.168.1.0/24"]}]}),
        )
        .await;
    assert_eq!(
        create_err(
            &c,
            &gw,
            &b,
            json!({"RouteType": "Policy", "SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.0.0/16", "RemoteCidrBlock": ["192.168.1.128/25"]}]})
        )
        .await,
        "InvalidParameterValue.VpnConnCidrConflict"
    );
    assert_eq!(
        create_err(
            &c,
            &gw,
            &b,
            json!({"RouteType": "Policy", "HealthCheckLocalIp": "169.254.130.2"})
        )
        .await,
        "InvalidParameterValue.VpnConnHealthCheckIpConflict"
    );
    // Disjoint selectors are fine; then modifying into a conflict is refused.
    let second = c
        .create_conn(
            &gw,
            &b,
            json!({"RouteType": "Policy", "SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.1.0/24", "RemoteCidrBlock": ["192.168.2.0/24"]}]}),
        )
        .await;
    assert_eq!(
        c.vpc_err(
            "ModifyVpnConnectionAttribute",
            json!({"VpnConnectionId": second, "SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.1.0/24", "RemoteCidrBlock": ["192.168.1.0/24"]}]})
        )
        .await,
        "InvalidParameterValue.VpnConnCidrConflict"
    );
    // Modifying a tunnel against its own old settings is not a conflict.
    c.vpc(
        "ModifyVpnConnectionAttribute",
        json!({"VpnConnectionId": first, "SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.1.0/24", "RemoteCidrBlock": ["192.168.1.0/25"]}]}),
    )
    .await;
}

#[tokio::test]
async fn tunnel_quotas() {
    let mut config = config();
    config.quotas.tunnels_per_vpn_gateway = 2;
    config.quotas.tunnels_per_customer_gateway = 1;
    config.quotas.spd_per_tunnel = 1;
    config.quotas.cidrs_per_spd = 2;
    let (_h, c) = start(config).await;
    let gw = c.create_gateway(VPC).await;
    let gw2 = c.create_gateway(VPC).await;
    let a = c.create_cgw("58.211.1.12").await;
    let b = c.create_cgw("58.211.1.13").await;
    let d = c.create_cgw("58.211.1.14").await;
    assert_eq!(
        create_err(
            &c,
            &gw,
            &a,
            json!({"SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.1.0/24", "RemoteCidrBlock": ["1.0.0.0/8"]},
                                               {"LocalCidrBlock": "10.0.2.0/24", "RemoteCidrBlock": ["2.0.0.0/8"]}]})
        )
        .await,
        "LimitExceeded"
    );
    assert_eq!(
        create_err(
            &c,
            &gw,
            &a,
            json!({"SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.1.0/24", "RemoteCidrBlock": ["1.0.0.0/8", "2.0.0.0/8", "3.0.0.0/8"]}]})
        )
        .await,
        "LimitExceeded"
    );
    c.start_conn(&gw, &a, json!({})).await;
    // One tunnel per (customer gateway, VPN gateway) pair, and per customer gateway here.
    assert_eq!(create_err(&c, &gw, &a, json!({})).await, "LimitExceeded");
    assert_eq!(create_err(&c, &gw2, &a, json!({})).await, "LimitExceeded");
    c.start_conn(&gw, &b, json!({})).await;
    assert_eq!(create_err(&c, &gw, &d, json!({})).await, "LimitExceeded");
}

#[tokio::test]
async fn describe_filters_and_paging() {
    let mut config = config();
    config.quotas.customer_gateways_per_region = 50;
    config.quotas.tunnels_per_vpn_gateway = 50;
    let (_h, c) = start(config).await;
    let gw = c.create_gateway(VPC).await;
    let gw2 = c.create_gateway(VPC).await;
    let mut ids = Vec::new();
    for i in 0..25 {
        let cgw = c.create_cgw(&format!("58.211.2.{}", i + 1)).await;
        let g = if i < 22 { &gw } else { &gw2 };
        let (id, _) = c
            .start_conn(g, &cgw, json!({"VpnConnectionName": format!("conn-{i}")}))
            .await;
        ids.push(id);
    }
    let r = c.vpc("DescribeVpnConnections", json!({})).await;
    assert_eq!(r["TotalCount"], 25);
    assert_eq!(
        r["VpnConnectionSet"].as_array().unwrap().len(),
        20,
        "default Limit is 20"
    );
    let r = c
        .vpc(
            "DescribeVpnConnections",
            json!({"Offset": 20, "Limit": 100}),
        )
        .await;
    let page: Vec<&str> = r["VpnConnectionSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["VpnConnectionId"].as_str().unwrap())
        .collect();
    assert_eq!(
        page,
        ids[20..].iter().map(String::as_str).collect::<Vec<_>>()
    );
    let r = c
        .vpc(
            "DescribeVpnConnections",
            json!({"Filters": [{"Name": "vpn-gateway-id", "Values": [gw2]}]}),
        )
        .await;
    assert_eq!(r["TotalCount"], 3);
    let r = c
        .vpc(
            "DescribeVpnConnections",
            json!({"Filters": [{"Name": "vpn-gateway-id", "Values": [gw, gw2]}, {"Name": "vpn-connection-name", "Values": ["conn-3", "conn-23"]}]}),
        )
        .await;
    assert_eq!(r["TotalCount"], 2);
    let r = c
        .vpc(
            "DescribeVpnConnections",
            json!({"Filters": [{"Name": "vpc-id", "Values": [VPC]}], "Limit": 5, "Offset": 1}),
        )
        .await;
    assert_eq!(r["TotalCount"], 25);
    assert_eq!(r["VpnConnectionSet"][0]["VpnConnectionId"], ids[1].as_str());
    let r = c
        .vpc(
            "DescribeVpnConnections",
            json!({"Filters": [{"Name": "vpn-connection-id", "Values": [ids[4], ids[2]]}]}),
        )
        .await;
    assert_eq!(r["TotalCount"], 2);
    let r = c
        .vpc(
            "DescribeVpnConnections",
            json!({"VpnConnectionIds": [ids[7], "vpnx-zzzzzzzz"]}),
        )
        .await;
    assert_eq!(r["TotalCount"], 1);
    assert_eq!(r["VpnConnectionSet"][0]["VpnConnectionName"], "conn-7");

    let many: Vec<String> = (0..101).map(|i| format!("vpnx-{i:08}")).collect();
    assert_eq!(
        c.vpc_err("DescribeVpnConnections", json!({"VpnConnectionIds": many}))
            .await,
        "InvalidParameterValue.LimitExceeded"
    );
    let filters: Vec<Value> = (0..11)
        .map(|_| json!({"Name": "vpc-id", "Values": [VPC]}))
        .collect();
    assert_eq!(
        c.vpc_err("DescribeVpnConnections", json!({"Filters": filters}))
            .await,
        "InvalidParameterValue.LimitExceeded"
    );
    assert_eq!(
        c.vpc_err(
            "DescribeVpnConnections",
            json!({"Filters": [{"Name": "vpc-id", "Values": ["a", "b", "c", "d", "e", "f"]}]})
        )
        .await,
        "InvalidParameterValue.LimitExceeded"
    );
    assert_eq!(
        c.vpc_err(
            "DescribeVpnConnections",
            json!({"VpnConnectionIds": [ids[0]], "Filters": [{"Name": "vpc-id", "Values": [VPC]}]})
        )
        .await,
        "InvalidParameter.Coexist"
    );
    assert_eq!(
        c.vpc_err(
            "DescribeVpnConnections",
            json!({"Filters": [{"Name": "color", "Values": ["red"]}]})
        )
        .await,
        "InvalidParameter.FilterInvalidKey"
    );
    assert_eq!(
        c.vpc_err("DescribeVpnConnections", json!({"Limit": 101}))
            .await,
        "InvalidParameterValue.Range"
    );
    assert_eq!(
        c.vpc_err(
            "DescribeVpnConnections",
            json!({"VpnConnectionIds": ["conn-1"]})
        )
        .await,
        "InvalidParameterValue.Malformed"
    );
}

#[tokio::test]
async fn failed_tasks() {
    let config = tunnelform_sandbox::SandboxConfig {
        task_failure_rate: 1.0,
        ..config()
    };
    let (_h, c) = start(config).await;
    let (gw, cgw) = setup(&c).await;
    let (id, task) = c.start_conn(&gw, &cgw, json!({})).await;
    let (status, output) = c.wait_task(&task).await;
    assert_eq!(status, "FAILED");
    assert!(!output.is_empty());
    assert!(
        c.describe_conn(&id).await.is_none(),
        "a failed create leaves no connection"
    );
}

#[tokio::test]
async fn rate_limits() {
    let mut config = config();
    config.rate_limits = tunnelform_sandbox::RateLimits::default();
    config
        .rate_limits
        .per_action
        .insert("DescribeVpnConnections".into(), 3);
    let (h, c) = start(config).await;
    // A burst of 20 concurrent requests; the limiter counts in fixed one-second windows, so at most
    // 3 per window the burst touched can pass.
    let started = std::time::Instant::now();
    let mut calls = Vec::new();
    for _ in 0..20 {
        let c = c.clone();
        calls.push(tokio::spawn(async move {
            c.send(Req::vpc("DescribeVpnConnections", json!({})))
                .await
                .error_code()
                .map(str::to_string)
        }));
    }
    let mut limited = 0u64;
    for call in calls {
        match call.await.unwrap().as_deref() {
            Some("RequestLimitExceeded") => limited += 1,
            None => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let windows = started.elapsed().as_secs() + 2;
    assert!(
        limited >= 20u64.saturating_sub(3 * windows),
        "limited {limited} over {windows} windows"
    );
    assert!(limited > 0);
    // Other regions and other actions have their own budgets.
    c.in_region("ap-shanghai")
        .vpc("DescribeVpnConnections", json!({}))
        .await;
    c.vpc("DescribeVpnGateways", json!({})).await;
    assert_eq!(h.stats().errors_for("RequestLimitExceeded"), limited);
}
