//! Every official example (vpc-vpn-examples.json, tag-api.json's examples) of the actions this crate
//! serves must deserialize into the typed request/response, and serializing back must keep every field
//! the example had (so no field is misnamed or dropped).

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tunnelform_tencent_api::actions::*;
use tunnelform_tencent_api::Action;

fn examples(file: &str, key: &str) -> Value {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v[key].clone()
}

/// `sub` ⊆ `sup`: every non-null field of `sub` is in `sup` with an equal value (numbers compared as f64).
fn assert_subset(sub: &Value, sup: &Value, path: &str) {
    match (sub, sup) {
        (Value::Null, _) => {}
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                if v.is_null() {
                    continue;
                }
                let w = b
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} lost in the round trip"));
                assert_subset(v, w, &format!("{path}.{k}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: array length");
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                assert_subset(v, w, &format!("{path}[{i}]"));
            }
        }
        (Value::Number(a), Value::Number(b)) => assert_eq!(a.as_f64(), b.as_f64(), "{path}"),
        (a, b) => assert_eq!(a, b, "{path}"),
    }
}

fn check<A>(all: &Value) -> usize
where
    A: Action,
    A::Request: DeserializeOwned + Serialize,
    A::Response: Serialize,
{
    let list = all[A::NAME]
        .as_array()
        .unwrap_or_else(|| panic!("no example for {}", A::NAME));
    assert!(!list.is_empty(), "{}", A::NAME);
    for (i, ex) in list.iter().enumerate() {
        let out: Value = serde_json::from_str(ex["output"].as_str().unwrap()).unwrap();
        let resp = &out["Response"];
        let typed: A::Response = serde_json::from_value(resp.clone())
            .unwrap_or_else(|e| panic!("{} example {i} response: {e}", A::NAME));
        let back = serde_json::to_value(&typed).unwrap();
        assert_subset(resp, &back, &format!("{}[{i}].Response", A::NAME));

        // Requests: the JSON body after the blank line (some examples are GET query strings: skipped).
        let input = ex["input"].as_str().unwrap();
        if let Some((_, body)) = input.split_once("\n\n") {
            let body: Value = serde_json::from_str(body).unwrap();
            let req: A::Request = serde_json::from_value(body.clone())
                .unwrap_or_else(|e| panic!("{} example {i} request: {e}", A::NAME));
            let back = serde_json::to_value(&req).unwrap();
            assert_subset(&body, &back, &format!("{}[{i}].Request", A::NAME));
            assert_subset(
                &back,
                &body,
                &format!("{}[{i}].Request (no extra fields)", A::NAME),
            );
        }
    }
    list.len()
}

#[test]
fn vpc_examples_round_trip() {
    let all = examples("vpc-vpn-examples.json", "actions");
    let mut n = 0;
    n += check::<CreateVpnConnection>(&all);
    n += check::<DescribeVpnConnections>(&all);
    n += check::<ModifyVpnConnectionAttribute>(&all);
    n += check::<DeleteVpnConnection>(&all);
    n += check::<CreateVpnGateway>(&all);
    n += check::<DescribeVpnGateways>(&all);
    n += check::<ModifyVpnGatewayAttribute>(&all);
    n += check::<ResetVpnGatewayInternetMaxBandwidth>(&all);
    n += check::<DeleteVpnGateway>(&all);
    n += check::<CreateCustomerGateway>(&all);
    n += check::<DescribeCustomerGateways>(&all);
    n += check::<ModifyCustomerGatewayAttribute>(&all);
    n += check::<DeleteCustomerGateway>(&all);
    n += check::<DescribeVpcTaskResult>(&all);
    n += check::<CreateVpc>(&all);
    n += check::<DescribeVpcs>(&all);
    n += check::<DeleteVpc>(&all);
    assert!(n >= 18, "{n}");
}

#[test]
fn route_examples_round_trip() {
    let all = examples("vpc-route-examples.json", "actions");
    let mut n = 0;
    n += check::<CreateRouteTable>(&all);
    n += check::<DeleteRouteTable>(&all);
    n += check::<DescribeRouteTables>(&all);
    n += check::<ModifyRouteTableAttribute>(&all);
    n += check::<CreateRoutes>(&all);
    n += check::<DeleteRoutes>(&all);
    n += check::<ReplaceRoutes>(&all);
    n += check::<EnableRoutes>(&all);
    n += check::<DisableRoutes>(&all);
    let vpn = examples("vpc-vpn-examples.json", "actions");
    n += check::<CreateVpnGatewayRoutes>(&vpn);
    n += check::<DescribeVpnGatewayRoutes>(&vpn);
    n += check::<ModifyVpnGatewayRoutes>(&vpn);
    n += check::<DeleteVpnGatewayRoutes>(&vpn);
    n += check::<DescribeCustomerGatewayVendors>(&vpn);
    n += check::<DownloadCustomerGatewayConfiguration>(&vpn);
    assert!(n >= 15, "{n}");
}

#[test]
fn downloaded_configuration_is_redacted_in_debug() {
    let r: <DownloadCustomerGatewayConfiguration as Action>::Response = serde_json::from_str(
        r#"{"CustomerGatewayConfiguration":"pre-shared-key s3cr3t-psk","RequestId":"r"}"#,
    )
    .unwrap();
    assert_eq!(
        r.customer_gateway_configuration.expose(),
        "pre-shared-key s3cr3t-psk"
    );
    assert!(!format!("{r:?}").contains("s3cr3t"));
}

#[test]
fn tag_examples_round_trip() {
    let all = examples("tag-examples.json", "examples");
    check::<TagResources>(&all);
    check::<UnTagResources>(&all);
    check::<ModifyResourceTags>(&all);
    check::<GetResources>(&all);
    check::<DescribeResourceTagsByResourceIds>(&all);
}

#[test]
fn response_debug_never_prints_the_pre_shared_key() {
    let all = examples("vpc-vpn-examples.json", "actions");
    let out: Value =
        serde_json::from_str(all["DescribeVpnConnections"][0]["output"].as_str().unwrap()).unwrap();
    let psk = out["Response"]["VpnConnectionSet"][0]["PreShareKey"]
        .as_str()
        .unwrap()
        .to_string();
    let typed: <DescribeVpnConnections as Action>::Response =
        serde_json::from_value(out["Response"].clone()).unwrap();
    assert_eq!(typed.vpn_connection_set[0].pre_share_key.expose(), psk);
    let dbg = format!("{typed:?} {typed:#?}");
    assert!(!dbg.contains(&psk), "{dbg}");
    assert!(dbg.contains("** redacted **"));
}

#[test]
fn responses_tolerate_missing_null_and_unknown_fields() {
    let typed: <DescribeVpnConnections as Action>::Response = serde_json::from_str(
        r#"{"VpnConnectionSet":[{"VpnConnectionId":"vpnx-1","TagSet":null,"BgpConfig":null,"NewField":{"x":1},
            "IPSECOptionsSpecification":{"IntegrityAlgorith":null,"IntegrityAlgorithm":"SHA1"}}],
            "RequestId":"r"}"#,
    )
    .unwrap();
    assert_eq!(typed.total_count, 0);
    let c = &typed.vpn_connection_set[0];
    assert_eq!(c.vpn_connection_id, "vpnx-1");
    assert!(c.tag_set.is_empty() && c.bgp_config.is_none() && c.state.is_empty());
    assert_eq!(
        c.ipsec_options_specification.integrity_algorithm.as_deref(),
        Some("SHA1")
    );
    assert_eq!(c.ipsec_options_specification.integrity_algorith, None);
}
