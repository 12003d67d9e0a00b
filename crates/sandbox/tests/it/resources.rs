//! VPCs, VPN gateways and customer gateways.

use serde_json::json;
use tunnelform_sandbox::SandboxConfig;

use crate::common::*;

fn id_ok(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|r| {
            r.len() == 8
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn time_ok(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

#[tokio::test]
async fn vpc_lifecycle_filters_and_paging() {
    let (_h, c) = start_default().await;
    let r = c
        .vpc(
            "CreateVpc",
            json!({"VpcName": "TestVPC", "CidrBlock": "10.8.0.0/16", "Tags": [{"Key": "city", "Value": "shanghai"}]}),
        )
        .await;
    let vpc = r["Vpc"]["VpcId"].as_str().unwrap().to_string();
    assert!(id_ok(&vpc, "vpc"), "{vpc}");
    assert!(time_ok(r["Vpc"]["CreatedTime"].as_str().unwrap()));
    assert_eq!(
        r["Vpc"]["TagSet"],
        json!([{"Key": "city", "Value": "shanghai"}])
    );
    assert_eq!(r["Vpc"]["IsDefault"], false);

    let find = |filters: serde_json::Value| {
        let c = c.clone();
        async move {
            let r = c.vpc("DescribeVpcs", json!({"Filters": filters})).await;
            r["VpcSet"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["VpcId"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        find(json!([{"Name": "vpc-name", "Values": ["estV"]}])).await,
        vec![vpc.clone()]
    );
    assert_eq!(
        find(json!([{"Name": "tag:city", "Values": ["shanghai"]}])).await,
        vec![vpc.clone()]
    );
    assert_eq!(
        find(json!([{"Name": "tag-key", "Values": ["city"]}])).await,
        vec![vpc.clone()]
    );
    assert_eq!(
        find(json!([{"Name": "is-default", "Values": ["true"]}])).await,
        vec![VPC.to_string()]
    );
    assert_eq!(
        find(json!([{"Name": "cidr-block", "Values": ["192.168.0.0", "10.8.0.0"]}, {"Name": "is-default", "Values": ["false"]}])).await,
        vec![vpc.clone()]
    );
    let r = c
        .vpc("DescribeVpcs", json!({"Limit": "1", "Offset": "1"}))
        .await;
    assert_eq!(r["TotalCount"], 2);
    assert_eq!(r["VpcSet"][0]["VpcId"], vpc);
    assert_eq!(
        c.vpc_err(
            "DescribeVpcs",
            json!({"VpcIds": ["vpc-nope"], "Filters": [{"Name": "vpc-id", "Values": ["x"]}]})
        )
        .await,
        "InvalidParameter.Coexist"
    );
    assert_eq!(
        c.vpc_err("DescribeVpcs", json!({"VpcIds": ["nope"]})).await,
        "InvalidVpcId.Malformed"
    );
    assert_eq!(
        c.vpc_err("DescribeVpcs", json!({"Limit": "x"})).await,
        "InvalidParameterValue.Malformed"
    );

    assert_eq!(
        c.vpc_err(
            "CreateVpc",
            json!({"VpcName": "x", "CidrBlock": "11.0.0.0/16"})
        )
        .await,
        "InvalidParameterValue.Range"
    );
    assert_eq!(
        c.vpc_err(
            "CreateVpc",
            json!({"VpcName": "x", "CidrBlock": "10.0.0.0/30"})
        )
        .await,
        "InvalidParameterValue.Range"
    );
    assert_eq!(
        c.vpc_err(
            "CreateVpc",
            json!({"VpcName": "x", "CidrBlock": "10.0.0.1/16"})
        )
        .await,
        "InvalidParameterValue.Malformed"
    );
    assert_eq!(
        c.vpc_err(
            "CreateVpc",
            json!({"VpcName": "x".repeat(61), "CidrBlock": "10.9.0.0/16"})
        )
        .await,
        "InvalidParameterValue.TooLong"
    );
    assert_eq!(
        c.vpc_err(
            "CreateVpc",
            json!({"VpcName": "x", "CidrBlock": "10.9.0.0/16", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]})
        )
        .await,
        "InvalidParameterValue.TagDuplicateKey"
    );
    c.vpc("DeleteVpc", json!({"VpcId": vpc})).await;
    assert_eq!(
        c.vpc_err("DeleteVpc", json!({"VpcId": vpc})).await,
        "InvalidVpcId.NotFound"
    );
    let gw = c.create_gateway(VPC).await;
    assert_eq!(
        c.vpc_err("DeleteVpc", json!({"VpcId": VPC})).await,
        "ResourceInUse"
    );
    c.vpc("DeleteVpnGateway", json!({"VpnGatewayId": gw})).await;
    c.vpc("DeleteVpc", json!({"VpcId": VPC})).await;
}

#[tokio::test]
async fn vpc_quota() {
    let mut config = config();
    config.quotas.vpcs_per_region = 2;
    let (_h, c) = start(config).await;
    c.vpc(
        "CreateVpc",
        json!({"VpcName": "a", "CidrBlock": "10.3.0.0/16"}),
    )
    .await;
    assert_eq!(
        c.vpc_err(
            "CreateVpc",
            json!({"VpcName": "b", "CidrBlock": "10.4.0.0/16"})
        )
        .await,
        "VpcLimitExceeded"
    );
}

#[tokio::test]
async fn vpn_gateway_lifecycle() {
    let (_h, c) = start_default().await;
    let r = c
        .vpc(
            "CreateVpnGateway",
            json!({"VpcId": VPC, "VpnGatewayName": "gw1", "InternetMaxBandwidthOut": 5,
                   "Tags": [{"Key": "env", "Value": "test"}]}),
        )
        .await;
    let g = &r["VpnGateway"];
    let id = g["VpnGatewayId"].as_str().unwrap().to_string();
    assert!(id_ok(&id, "vpngw"), "{id}");
    assert_eq!(g["State"], "PENDING");
    assert_eq!(g["Type"], "IPSEC");
    assert_eq!(g["InstanceChargeType"], "POSTPAID_BY_HOUR");
    assert!(g["PublicIpAddress"]
        .as_str()
        .unwrap()
        .parse::<std::net::Ipv4Addr>()
        .is_ok());
    // Not usable while PENDING.
    assert_eq!(
        c.vpc_err("DeleteVpnGateway", json!({"VpnGatewayId": id}))
            .await,
        // DeleteVpnGateway's page lists no InvalidState code: the common one.
        "UnsupportedOperation"
    );
    let g = c.wait_gateway(&id).await;
    assert_eq!(g["TagSet"], json!([{"Key": "env", "Value": "test"}]));
    assert_eq!(g["VpnGatewayQuotaSet"].as_array().unwrap().len(), 9);

    c.vpc("ModifyVpnGatewayAttribute", json!({"VpnGatewayId": id, "VpnGatewayName": "renamed", "InstanceChargeType": "POSTPAID_BY_HOUR"}))
        .await;
    assert_eq!(
        c.vpc_err(
            "ModifyVpnGatewayAttribute",
            json!({"VpnGatewayId": id, "VpnGatewayName": "n".repeat(61)})
        )
        .await,
        "InvalidParameterValue.TooLong"
    );
    c.vpc(
        "ResetVpnGatewayInternetMaxBandwidth",
        json!({"VpnGatewayId": id, "InternetMaxBandwidthOut": 50}),
    )
    .await;
    assert_eq!(
        c.vpc_err(
            "ResetVpnGatewayInternetMaxBandwidth",
            json!({"VpnGatewayId": id, "InternetMaxBandwidthOut": 10})
        )
        .await,
        "UnsupportedOperation.VpnUnsupportedModifyBandwidth"
    );
    assert_eq!(
        c.vpc_err(
            "ResetVpnGatewayInternetMaxBandwidth",
            json!({"VpnGatewayId": id, "InternetMaxBandwidthOut": 200})
        )
        .await,
        "UnsupportedOperation.VpnUnsupportedModifyBandwidth"
    );
    assert_eq!(
        c.vpc_err(
            "ResetVpnGatewayInternetMaxBandwidth",
            json!({"VpnGatewayId": id, "InternetMaxBandwidthOut": 7})
        )
        .await,
        // The page lists no .Range: the code it refines.
        "InvalidParameterValue"
    );
    let r = c
        .vpc(
            "DescribeVpnGateways",
            json!({"Filters": [{"Name": "vpn-gateway-name", "Values": ["renamed"]}]}),
        )
        .await;
    assert_eq!(r["TotalCount"], 1);
    assert_eq!(r["VpnGatewaySet"][0]["InternetMaxBandwidthOut"], 50);
    let r = c
        .vpc(
            "GenerateVpnConnectionDefaultHealthCheckIp",
            json!({"VpnGatewayId": id}),
        )
        .await;
    for k in ["HealthCheckLocalIp", "HealthCheckRemoteIp"] {
        let ip: std::net::Ipv4Addr = r[k].as_str().unwrap().parse().unwrap();
        assert!(
            ip.octets()[0] == 169 && ip.octets()[1] == 254 && ip.octets()[2] >= 128,
            "{ip}"
        );
    }
    c.vpc("DeleteVpnGateway", json!({"VpnGatewayId": id})).await;
    assert_eq!(
        c.vpc_err("DeleteVpnGateway", json!({"VpnGatewayId": id}))
            .await,
        "InvalidVpnGatewayId.NotFound"
    );
    assert_eq!(
        c.vpc_err("DescribeVpnGateways", json!({"VpnGatewayIds": ["gw-1"]}))
            .await,
        "InvalidVpnGatewayId.Malformed"
    );
}

#[tokio::test]
async fn vpn_gateway_validation_and_quota() {
    let mut config = config();
    config.quotas.vpn_gateways_per_vpc = 1;
    let (_h, c) = start(config).await;
    let body = |vpc: &str, bw: u64| json!({"VpcId": vpc, "VpnGatewayName": "g", "InternetMaxBandwidthOut": bw});
    assert_eq!(
        c.vpc_err("CreateVpnGateway", body(VPC, 7)).await,
        // CreateVpnGateway's page lists no .Range: the code it refines.
        "InvalidParameterValue"
    );
    assert_eq!(
        c.vpc_err("CreateVpnGateway", body("vpc-zzzzzzzz", 5)).await,
        "InvalidVpcId.NotFound"
    );
    assert_eq!(
        c.vpc_err("CreateVpnGateway", body("zzz", 5)).await,
        "InvalidVpcId.Malformed"
    );
    assert_eq!(
        c.vpc_err("CreateVpnGateway", body("", 5)).await,
        "UnsupportedOperation.VpnGwVpcIdMustHave"
    );
    assert_eq!(
        c.vpc_err(
            "CreateVpnGateway",
            json!({"VpcId": VPC, "VpnGatewayName": "g", "InternetMaxBandwidthOut": 5, "Type": "CCN"})
        )
        .await,
        "UnsupportedOperation.VpnGwVpcIdNotHave"
    );
    assert_eq!(
        c.vpc_err(
            "CreateVpnGateway",
            json!({"VpcId": VPC, "VpnGatewayName": "g", "InternetMaxBandwidthOut": 5, "InstanceChargeType": "PREPAID"})
        )
        .await,
        "MissingParameter"
    );
    c.vpc("CreateVpnGateway", body(VPC, 5)).await;
    assert_eq!(
        c.vpc_err("CreateVpnGateway", body(VPC, 5)).await,
        "LimitExceeded"
    );
    // A CCN gateway is not in a VPC.
    c.vpc(
        "CreateVpnGateway",
        json!({"VpcId": "", "VpnGatewayName": "ccn", "InternetMaxBandwidthOut": 5, "Type": "CCN"}),
    )
    .await;
}

#[tokio::test]
async fn customer_gateway_lifecycle() {
    let (_h, c) = start_default().await;
    let r = c
        .vpc(
            "CreateCustomerGateway",
            json!({"CustomerGatewayName": "office", "IpAddress": "58.211.1.12", "BgpAsn": 65001,
                   "Tags": [{"Key": "site", "Value": "sh"}]}),
        )
        .await;
    let cg = &r["CustomerGateway"];
    let id = cg["CustomerGatewayId"].as_str().unwrap().to_string();
    assert!(id_ok(&id, "cgw"));
    assert_eq!(cg["IpAddress"], "58.211.1.12");
    assert_eq!(cg["BgpAsn"], 65001);
    assert_eq!(cg["VpnConnNum"], 0);
    assert!(time_ok(cg["CreatedTime"].as_str().unwrap()));

    c.vpc(
        "ModifyCustomerGatewayAttribute",
        json!({"CustomerGatewayId": id, "CustomerGatewayName": "NewName"}),
    )
    .await;
    let r = c
        .vpc(
            "DescribeCustomerGateways",
            json!({"Filters": [{"Name": "customer-gateway-name", "Values": ["NewName"]}]}),
        )
        .await;
    assert_eq!(r["TotalCount"], 1);
    assert_eq!(
        r["CustomerGatewaySet"][0]["TagSet"],
        json!([{"Key": "site", "Value": "sh"}])
    );
    let r = c
        .vpc(
            "DescribeCustomerGateways",
            json!({"Filters": [{"Name": "ip-address", "Values": ["58.211.1.12"]}]}),
        )
        .await;
    assert_eq!(r["CustomerGatewaySet"][0]["CustomerGatewayId"], id.as_str());

    let gw = c.create_gateway(VPC).await;
    let conn = c.create_conn(&gw, &id, json!({})).await;
    let r = c
        .vpc(
            "DescribeCustomerGateways",
            json!({"CustomerGatewayIds": [id]}),
        )
        .await;
    assert_eq!(r["CustomerGatewaySet"][0]["VpnConnNum"], 1);
    assert_eq!(
        c.vpc_err("DeleteCustomerGateway", json!({"CustomerGatewayId": id}))
            .await,
        "ResourceInUse"
    );
    assert_eq!(
        c.vpc_err("DeleteVpnGateway", json!({"VpnGatewayId": gw}))
            .await,
        "ResourceInUse"
    );
    let r = c
        .vpc(
            "DeleteVpnConnection",
            json!({"VpnGatewayId": gw, "VpnConnectionId": conn}),
        )
        .await;
    let (status, _) = c.wait_task(r["RequestId"].as_str().unwrap()).await;
    assert_eq!(status, "SUCCESS");
    c.vpc("DeleteCustomerGateway", json!({"CustomerGatewayId": id}))
        .await;
    c.vpc("DeleteVpnGateway", json!({"VpnGatewayId": gw})).await;
    assert_eq!(
        c.vpc_err("DeleteCustomerGateway", json!({"CustomerGatewayId": id}))
            .await,
        "ResourceNotFound"
    );
}

#[tokio::test]
async fn customer_gateway_rules_and_quota() {
    let mut config: SandboxConfig = config();
    config.quotas.customer_gateways_per_region = 2;
    let (_h, c) = start(config).await;
    let create = |ip: &str| json!({"CustomerGatewayName": "x", "IpAddress": ip});
    for bad in [
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.5",
        "127.0.0.1",
        "169.254.0.9",
        "10.0.0.0",
        "172.16.255.255",
        "192.168.1.0",
    ] {
        assert_eq!(
            c.vpc_err("CreateCustomerGateway", create(bad)).await,
            "InvalidParameterValue",
            "{bad}"
        );
    }
    assert_eq!(
        c.vpc_err("CreateCustomerGateway", create("1.2.3")).await,
        "InvalidParameterValue.Malformed"
    );
    assert_eq!(
        c.vpc_err("CreateCustomerGateway", create("2001:db8::1"))
            .await,
        // CreateCustomerGateway's page does not list CustomerGatewayIpv6: the common code.
        "UnsupportedOperation"
    );
    assert_eq!(
        c.vpc_err(
            "CreateCustomerGateway",
            json!({"CustomerGatewayName": "x", "IpAddress": "1.2.3.4", "BgpAsn": 45090})
        )
        .await,
        // The page lists no .Reserved: the code it refines.
        "InvalidParameterValue"
    );
    c.create_cgw("1.2.3.4").await;
    assert_eq!(
        c.vpc_err("CreateCustomerGateway", create("1.2.3.4")).await,
        "InvalidParameterValue.Duplicate"
    );
    c.create_cgw("1.2.3.5").await;
    assert_eq!(
        c.vpc_err("CreateCustomerGateway", create("1.2.3.6")).await,
        "LimitExceeded"
    );
}
