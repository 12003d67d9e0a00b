//! The official examples' request bodies (spec/vpc-vpn-examples.json, tag examples in spec/tag-api.json) are
//! accepted, with their ids replaced by the sandbox's.

use serde_json::{json, Map, Value};

use crate::common::*;

const VPC_EXAMPLES: &str = include_str!("../../spec/vpc-vpn-examples.json");
const TAG_API: &str = include_str!("../../spec/tag-api.json");

/// The body of an example input: JSON after the blank line of a POST example, or the `&Key=Value` lines of
/// a GET example.
fn example_body(input: &str) -> Value {
    if let Some((_, json)) = input.split_once("\n\n") {
        return serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    }
    let mut map = Map::new();
    for line in input.lines().skip(1) {
        if let Some((k, v)) = line.trim_start_matches('&').split_once('=') {
            map.insert(k.to_string(), Value::String(v.to_string()));
        }
    }
    Value::Object(map)
}

/// The bodies of every example of `action`.
fn examples(action: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(VPC_EXAMPLES).unwrap();
    all["actions"][action]
        .as_array()
        .unwrap_or_else(|| panic!("no examples for {action}"))
        .iter()
        .map(|e| example_body(e["input"].as_str().unwrap()))
        .filter(|b| b.as_object().is_some_and(|m| !m.is_empty()) || action.starts_with("Describe"))
        .collect()
}

fn tag_examples(action: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(TAG_API).unwrap();
    all["examples"][action]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| example_body(e["input"].as_str().unwrap()))
        .collect()
}

/// Replaces ids (by prefix) and strips the stray quotes some examples carry.
fn adapt(value: &mut Value, ids: &[(&str, &str)]) {
    match value {
        Value::String(s) => {
            let trimmed = s.trim_matches('"').to_string();
            *s = trimmed;
            for (prefix, id) in ids {
                if s.starts_with(prefix) {
                    *s = id.to_string();
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| adapt(v, ids)),
        Value::Object(map) => map.values_mut().for_each(|v| adapt(v, ids)),
        _ => {}
    }
}

#[tokio::test]
async fn official_examples_are_accepted() {
    let (_h, c) = start_default().await;

    // CreateCustomerGateway, CreateVpc, CreateVpnGateway as given.
    let mut body = examples("CreateCustomerGateway").remove(0);
    adapt(&mut body, &[]);
    let cgw = c.vpc("CreateCustomerGateway", body).await["CustomerGateway"]["CustomerGatewayId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut body = examples("CreateVpc").remove(0);
    adapt(&mut body, &[]);
    let vpc = c.vpc("CreateVpc", body).await["Vpc"]["VpcId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut body = examples("CreateVpnGateway").remove(0);
    adapt(&mut body, &[("vpc-", &vpc)]);
    let gw = c.vpc("CreateVpnGateway", body).await["VpnGateway"]["VpnGatewayId"]
        .as_str()
        .unwrap()
        .to_string();
    c.wait_gateway(&gw).await;

    let ids_owned = [
        ("vpngw-", gw.clone()),
        ("vpn-", gw.clone()),
        ("cgw-", cgw.clone()),
        ("vpc-", vpc.clone()),
    ];
    let ids: Vec<(&str, &str)> = ids_owned.iter().map(|(p, i)| (*p, i.as_str())).collect();

    let mut body = examples("CreateVpnConnection").remove(0);
    adapt(&mut body, &ids);
    let r = c.vpc("CreateVpnConnection", body).await;
    let conn = r["VpnConnection"]["VpnConnectionId"]
        .as_str()
        .unwrap()
        .to_string();
    let task = r["RequestId"].as_str().unwrap().to_string();
    assert_eq!(
        r["VpnConnection"]["IKEOptionsSpecification"]["LocalAddress"],
        "58.211.2.5"
    );
    assert_eq!(c.wait_task(&task).await.0, "SUCCESS");
    let mut all_ids = ids.clone();
    all_ids.push(("vpnx-", &conn));
    all_ids.push(("481e9b6e", &task));

    for action in [
        "DescribeCustomerGateways",
        "DescribeVpcs",
        "DescribeVpnConnections",
        "DescribeVpnGateways",
        "DescribeVpcTaskResult",
        "GenerateVpnConnectionDefaultHealthCheckIp",
        "ModifyCustomerGatewayAttribute",
        "ModifyVpnConnectionAttribute",
        "ModifyVpnGatewayAttribute",
        "ResetVpnGatewayInternetMaxBandwidth",
    ] {
        for mut body in examples(action) {
            adapt(&mut body, &all_ids);
            c.vpc(action, body).await;
        }
    }
    let d = c.describe_conn(&conn).await.unwrap();
    assert_eq!(d["VpnConnectionName"], "test-abc");

    // Tag examples, on our resources.
    let resources = json!([
        format!("qcs::vpc:{REGION}:uin/100000000001:vpnx/{conn}"),
        format!("qcs::vpc:{REGION}:uin/100000000001:cgw/{cgw}")
    ]);
    for action in ["TagResources", "UnTagResources", "GetResources"] {
        for mut body in tag_examples(action) {
            body["ResourceList"] = resources.clone();
            let r = c.tag(action, body).await;
            if action == "GetResources" {
                assert_eq!(
                    r["ResourceTagMappingList"].as_array().unwrap().len(),
                    2,
                    "{r}"
                );
            }
        }
    }
    for mut body in tag_examples("ModifyResourceTags") {
        body["Resource"] = resources[0].clone();
        c.tag("ModifyResourceTags", body).await;
    }

    // Deletes last.
    for action in ["DeleteVpnConnection"] {
        for mut body in examples(action) {
            adapt(&mut body, &all_ids);
            let r = c.vpc(action, body).await;
            assert_eq!(
                c.wait_task(r["RequestId"].as_str().unwrap()).await.0,
                "SUCCESS"
            );
        }
    }
    for (action, prefix) in [
        ("DeleteCustomerGateway", "cgw-"),
        ("DeleteVpnGateway", "vpngw-"),
        ("DeleteVpc", "vpc-"),
    ] {
        for mut body in examples(action) {
            adapt(&mut body, &all_ids);
            let key = body.as_object().unwrap().keys().next().unwrap().clone();
            assert!(body[&key].as_str().unwrap().starts_with(prefix));
            c.vpc(action, body).await;
        }
    }
}
