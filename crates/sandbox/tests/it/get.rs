//! `GET` requests as Tencent's official Python SDK sends them with `HttpProfile(reqMethod="GET")`: the
//! parameters flattened into a form-urlencoded query string, signed over that query exactly as sent with an
//! empty payload.

use serde_json::{json, Value};
use tunnelform_sandbox::{Credentials, SandboxConfig};
use tunnelform_tc3::{self as tc3, RequestParts};

use crate::common::*;

/// The `sdk_vpc_get_form_urlencoded` vector of tc3-vectors.json (tencentcloud-sdk-python 3.1.193).
const VECTOR_QUERY: &str =
    "Filters.0.Name=vpn-gateway-id&Filters.0.Values.0=vpngw-1w9tue3d&Offset=0&Limit=1";
const VECTOR_SIGNATURE: &str = "ecd5e5970df19570e5c3881d59b3f66de4abcba31157e174a3b731df969a2d6e";

/// A response without its RequestId, to compare a GET with the same POST.
fn without_request_id(mut r: Value) -> Value {
    r.as_object_mut().unwrap().remove("RequestId");
    r
}

#[test]
fn the_test_client_flattens_and_signs_get_as_the_sdk_does() {
    let params = json!({"Filters": [{"Name": "vpn-gateway-id", "Values": ["vpngw-1w9tue3d"]}],
                        "Offset": 0, "Limit": 1});
    assert_eq!(sdk_query(&params), VECTOR_QUERY);
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("host", "127.0.0.1:8080"),
    ];
    let parts = RequestParts {
        method: "GET",
        path: "/",
        query: VECTOR_QUERY,
        headers: &headers,
        payload: b"",
    };
    let creds = Credentials::new("AKIDsandbox", "sandboxsecret", None);
    let signed = tc3::sign(
        &parts,
        &["content-type", "host"],
        "vpc",
        1_700_000_000,
        &creds,
    )
    .unwrap();
    assert!(
        signed.authorization.ends_with(VECTOR_SIGNATURE),
        "{}",
        signed.authorization
    );
    // Python's str() and quote_plus.
    assert_eq!(
        sdk_query(
            &json!({"A": true, "B": [false], "C": "a b/名", "D": null, "E": [], "F": {"G": 7}})
        ),
        "A=True&B.0=False&C=a+b%2F%E5%90%8D&F.G=7"
    );
}

#[tokio::test]
async fn the_sdk_vector_query_is_served() {
    let (_h, c) = start_default().await;
    let mut req = Req::vpc("DescribeVpnConnections", json!({}));
    req.method = reqwest::Method::GET;
    req.content_type = "application/x-www-form-urlencoded".into();
    req.body = Vec::new();
    req.query = VECTOR_QUERY.into();
    let resp = c.send(req).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.content_type.as_deref(), Some("application/json"));
    assert!(resp.error_code().is_none(), "{}", resp.text);
    assert_eq!(resp.response()["TotalCount"], 0);
    assert_eq!(resp.response()["VpnConnectionSet"], json!([]));
}

#[tokio::test]
async fn get_describes_answer_as_post_does() {
    let (_h, c) = start_default().await;
    let gw = c.create_gateway(VPC).await;
    let cgw = c.create_cgw("58.211.1.12").await;
    let cgw2 = c.create_cgw("58.211.1.13").await;
    let conn = c
        .create_conn(
            &gw,
            &cgw,
            json!({"Tags": [{"Key": "team", "Value": "net"}]}),
        )
        .await;
    c.create_conn(&gw, &cgw2, json!({"VpnConnectionName": "second"}))
        .await;
    let cases = [
        (
            "DescribeVpnConnections",
            json!({"VpnConnectionIds": [conn]}),
        ),
        (
            "DescribeVpnConnections",
            json!({"Filters": [{"Name": "vpc-id", "Values": [VPC]},
                               {"Name": "vpn-gateway-id", "Values": [gw, "vpngw-zzzzzzzz"]}],
                   "Offset": 1, "Limit": 20}),
        ),
        (
            "DescribeVpnConnections",
            json!({"Filters": [{"Name": "vpn-connection-name", "Values": ["second"]}]}),
        ),
        // DescribeVpcs declares Offset and Limit as strings; the SDK sends them as it got them.
        (
            "DescribeVpcs",
            json!({"Filters": [{"Name": "is-default", "Values": ["true"]}], "Offset": "0", "Limit": "20"}),
        ),
        ("DescribeVpnGateways", json!({"VpnGatewayIds": [gw]})),
        (
            "DescribeCustomerGateways",
            json!({"CustomerGatewayIds": [cgw, cgw2], "Offset": 0, "Limit": 1}),
        ),
        ("DescribeVpcs", json!({})),
    ];
    for (action, params) in cases {
        let get = c.vpc_get(action, params.clone()).await;
        let post = c.vpc(action, params.clone()).await;
        assert_eq!(
            without_request_id(get),
            without_request_id(post),
            "{action} {params}"
        );
    }
    let r = c
        .vpc_get(
            "DescribeVpnConnections",
            json!({"Filters": [{"Name": "vpn-gateway-id", "Values": [gw]}], "Offset": 1, "Limit": 20}),
        )
        .await;
    assert_eq!(r["TotalCount"], 2);
    assert_eq!(r["VpnConnectionSet"].as_array().unwrap().len(), 1);
    let r = c
        .vpc_get(
            "DescribeVpnConnections",
            json!({"VpnConnectionIds": [conn]}),
        )
        .await;
    assert_eq!(r["VpnConnectionSet"][0]["PreShareKey"], "s3cret-psk");
    assert_eq!(
        r["VpnConnectionSet"][0]["TagSet"],
        json!([{"Key": "team", "Value": "net"}])
    );
}

#[tokio::test]
async fn get_writes_with_nested_objects_lists_and_typed_values() {
    let (_h, c) = start_default().await;
    let gw = c.create_gateway(VPC).await;
    // A name with a space, a slash and non-ASCII characters survives the form encoding.
    let r = c
        .vpc_get(
            "CreateCustomerGateway",
            json!({"CustomerGatewayName": "office gw/上海", "IpAddress": "58.211.1.12", "BgpAsn": 65010,
                   "Tags": [{"Key": "city", "Value": "shang hai"}, {"Key": "team", "Value": "net"}]}),
        )
        .await;
    let cgw = r["CustomerGateway"]["CustomerGatewayId"]
        .as_str()
        .unwrap()
        .to_string();
    let d = c
        .vpc(
            "DescribeCustomerGateways",
            json!({"CustomerGatewayIds": [cgw]}),
        )
        .await;
    let g = &d["CustomerGatewaySet"][0];
    assert_eq!(g["CustomerGatewayName"], "office gw/上海");
    assert_eq!(g["BgpAsn"], 65010);
    assert_eq!(
        g["TagSet"],
        json!([{"Key": "city", "Value": "shang hai"}, {"Key": "team", "Value": "net"}])
    );

    let r = c
        .vpc_get(
            "CreateVpnConnection",
            json!({
                "VpnGatewayId": gw, "CustomerGatewayId": cgw, "VpnConnectionName": "get-conn",
                "PreShareKey": "p@ss word&=+", "VpcId": VPC,
                "SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.1.0/24",
                                             "RemoteCidrBlock": ["192.168.1.0/24", "192.168.2.0/24"]}],
                "IKEOptionsSpecification": {"PropoEncryAlgorithm": "AES-CBC-256", "PropoAuthenAlgorithm": "SHA",
                                            "IKESaLifetimeSeconds": 3600, "IKEVersion": "IKEV2"},
                "IPSECOptionsSpecification": {"EncryptAlgorithm": "AES-CBC-128", "PfsDhGroup": "DH-GROUP14"},
                "DpdEnable": 1, "DpdTimeout": "40", "DpdAction": "restart",
                "EnableHealthCheck": true,
                "HealthCheckConfig": {"ProbeInterval": 2000, "ProbeThreshold": 4, "ProbeTimeout": 150},
            }),
        )
        .await;
    let conn = r["VpnConnection"]["VpnConnectionId"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, output) = c.wait_task(r["RequestId"].as_str().unwrap()).await;
    assert_eq!(status, "SUCCESS", "{output}");
    let d = c.describe_conn(&conn).await.unwrap();
    assert_eq!(d["PreShareKey"], "p@ss word&=+");
    assert_eq!(
        d["SecurityPolicyDatabaseSet"][0]["RemoteCidrBlock"],
        json!(["192.168.1.0/24", "192.168.2.0/24"])
    );
    let ike = &d["IKEOptionsSpecification"];
    assert_eq!(ike["PropoEncryAlgorithm"], "AES-CBC-256");
    assert_eq!(ike["IKESaLifetimeSeconds"], 3600);
    assert_eq!(ike["IKEVersion"], "IKEV2");
    assert_eq!(ike["ExchangeMode"], "MAIN", "defaults still filled in");
    assert_eq!(d["IPSECOptionsSpecification"]["PfsDhGroup"], "DH-GROUP14");
    assert_eq!(d["DpdEnable"], 1);
    assert_eq!(d["DpdTimeout"], "40");
    assert_eq!(d["EnableHealthCheck"], true);
    assert_eq!(d["HealthCheckConfig"]["ProbeThreshold"], 4);

    c.vpc_get(
        "ModifyVpnConnectionAttribute",
        json!({"VpnConnectionId": conn, "IKEOptionsSpecification": {"DhGroupName": "GROUP14"},
               "EnableHealthCheck": false}),
    )
    .await;
    let d = c.describe_conn(&conn).await.unwrap();
    assert_eq!(d["IKEOptionsSpecification"]["DhGroupName"], "GROUP14");
    assert_eq!(
        d["IKEOptionsSpecification"]["PropoEncryAlgorithm"],
        "AES-CBC-256"
    );
    assert_eq!(d["EnableHealthCheck"], false);

    // Value rules answer as they do for POST.
    let (code, _) = c
        .vpc_get_err(
            "CreateCustomerGateway",
            json!({"CustomerGatewayName": "x".repeat(61), "IpAddress": "58.211.1.14"}),
        )
        .await;
    assert_eq!(code, "InvalidParameterValue.TooLong");
    let (code, _) = c
        .vpc_get_err(
            "DescribeVpnConnections",
            json!({"VpnConnectionIds": [conn], "Filters": [{"Name": "vpc-id", "Values": [VPC]}]}),
        )
        .await;
    assert_eq!(code, "InvalidParameter.Coexist");
    let post = c
        .vpc_err("DescribeVpnConnections", json!({"Limit": 1000}))
        .await;
    let (get, _) = c
        .vpc_get_err("DescribeVpnConnections", json!({"Limit": 1000}))
        .await;
    assert_eq!(get, post);

    let r = c
        .vpc_get(
            "DeleteVpnConnection",
            json!({"VpnGatewayId": gw, "VpnConnectionId": conn}),
        )
        .await;
    let (status, _) = c.wait_task(r["RequestId"].as_str().unwrap()).await;
    assert_eq!(status, "SUCCESS");
    assert!(c.describe_conn(&conn).await.is_none());
}

/// Sends a GET with the raw query `query` (signed as sent) and returns (code, message).
async fn raw_get_error(c: &Client, action: &str, query: &str) -> (String, String) {
    let mut req = Req::vpc_get(action, json!({}));
    req.query = query.into();
    let resp = c.send(req).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let code = resp
        .error_code()
        .unwrap_or_else(|| panic!("GET {action}?{query} unexpectedly succeeded: {}", resp.text))
        .to_string();
    let message = resp.response()["Error"]["Message"]
        .as_str()
        .unwrap()
        .to_string();
    (code, message)
}

#[tokio::test]
async fn flattened_parameter_errors() {
    let (_h, c) = start_default().await;
    let dvc = "DescribeVpnConnections";
    for (action, query, want, needle) in [
        (dvc, "Bogus=1", "UnknownParameter", "`Bogus`"),
        (
            dvc,
            "Filters.0.Bogus=1",
            "UnknownParameter",
            "`Filters.0.Bogus`",
        ),
        (
            "CreateCustomerGateway",
            "IpAddress.X=1",
            "UnknownParameter",
            "`IpAddress.X`",
        ),
        (
            "CreateVpnConnection",
            "IKEOptionsSpecification.Bogus=1",
            "UnknownParameter",
            "`IKEOptionsSpecification.Bogus`",
        ),
        (dvc, "Limit=abc", "InvalidParameter", "`Limit`"),
        (dvc, "Offset=-1", "InvalidParameter", "`Offset`"),
        (dvc, "Limit=1.5", "InvalidParameter", "`Limit`"),
        (dvc, "Filters=vpc-id", "InvalidParameter", "`Filters`"),
        (dvc, "Filters.Name=vpc-id", "InvalidParameter", "`Filters`"),
        (
            dvc,
            "VpnConnectionIds.1=vpnx-1",
            "InvalidParameter",
            "`VpnConnectionIds.0`",
        ),
        (dvc, "Limit=1&Limit=2", "InvalidParameter", "more than once"),
        (dvc, "Limit=%zz", "InvalidParameter", "malformed"),
        (dvc, "Filters..Name=x", "InvalidParameter", "malformed"),
        (
            dvc,
            "Filters.0.Name=vpc-id&Filters.0.Values.0=vpc-1&Filters.Name=x",
            "InvalidParameter",
            "contradict",
        ),
        (
            dvc,
            "VpcId=vpc-1&VpcId.A=x",
            "InvalidParameter",
            "contradict",
        ),
        (
            "CreateVpnConnection",
            "EnableHealthCheck=yes",
            "InvalidParameter",
            "`EnableHealthCheck`",
        ),
        (
            dvc,
            "Filters.0.Name=vpc-id",
            "MissingParameter",
            "`Filters.0.Values`",
        ),
        (
            "CreateCustomerGateway",
            "CustomerGatewayName=x",
            "MissingParameter",
            "`IpAddress`",
        ),
    ] {
        let (code, message) = raw_get_error(&c, action, query).await;
        assert_eq!(code, want, "{action}?{query}: {message}");
        assert!(message.contains(needle), "{action}?{query}: {message}");
    }
    // Both names of a contradiction are named.
    let (_, message) = raw_get_error(&c, dvc, "Filters.0.Name=a&Filters.B=c").await;
    assert!(
        message.contains("`Filters.0.Name`") && message.contains("`Filters.B`"),
        "{message}"
    );
    // Booleans: Python's True/False and lower case.
    let gw = c.create_gateway(VPC).await;
    let cgw = c.create_cgw("58.211.1.12").await;
    let mut req = Req::vpc_get("CreateVpnConnection", json!({}));
    req.query = format!(
        "VpnGatewayId={gw}&CustomerGatewayId={cgw}&VpnConnectionName=b&PreShareKey=k&EnableHealthCheck=true"
    );
    let resp = c.send(req).await;
    assert!(resp.error_code().is_none(), "{}", resp.text);
    assert_eq!(resp.response()["VpnConnection"]["EnableHealthCheck"], true);
}

#[tokio::test]
async fn get_protocol_rules() {
    let config = SandboxConfig {
        max_body_bytes: 2048,
        ..config()
    };
    let (h, c) = start(config).await;
    // The signature covers the query string exactly as sent.
    let mut req = Req::vpc_get("DescribeVpcs", json!({"VpcIds": [VPC]}));
    req.signed_query = Some(sdk_query(&json!({"VpcIds": ["vpc-sandbox2"]})));
    assert_eq!(
        c.send(req).await.error_code(),
        Some("AuthFailure.SignatureFailure")
    );
    // ... in the order sent, not sorted.
    let mut req = Req::vpc_get("DescribeVpnConnections", json!({}));
    req.query = "Offset=0&Limit=1".into();
    req.signed_query = Some("Limit=1&Offset=0".into());
    assert_eq!(
        c.send(req).await.error_code(),
        Some("AuthFailure.SignatureFailure")
    );
    // The payload of a GET is the empty string: a signature over a JSON body does not verify.
    let mut req = Req::vpc_get("DescribeVpcs", json!({}));
    let ts = now();
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("host", c.host.as_str()),
    ];
    let parts = RequestParts {
        method: "GET",
        path: "/",
        query: "",
        headers: &headers,
        payload: b"{}",
    };
    let creds = Credentials::new(SECRET_ID, SECRET_KEY, None);
    req.authorization = Some(
        tc3::sign(&parts, &["content-type", "host"], "vpc", ts, &creds)
            .unwrap()
            .authorization,
    );
    req.timestamp = Some(ts);
    assert_eq!(
        c.send(req).await.error_code(),
        Some("AuthFailure.SignatureFailure")
    );
    // The SDK's unsigned-payload option works with GET too.
    let mut req = Req::vpc_get("DescribeVpcs", json!({"VpcIds": [VPC]}));
    req.unsigned_payload = true;
    let resp = c.send(req).await;
    assert!(resp.error_code().is_none(), "{}", resp.text);
    assert_eq!(resp.response()["TotalCount"], 1);
    // A GET needs the form content type and no body.
    let mut req = Req::vpc_get("DescribeVpcs", json!({}));
    req.content_type = "application/json".into();
    assert_eq!(c.send(req).await.error_code(), Some("UnsupportedProtocol"));
    let mut req = Req::vpc_get("DescribeVpcs", json!({}));
    req.body = b"{}".to_vec();
    assert_eq!(c.send(req).await.error_code(), Some("UnsupportedProtocol"));
    // A charset parameter on the form content type is fine.
    let mut req = Req::vpc_get("DescribeVpcs", json!({"VpcIds": [VPC]}));
    req.content_type = "application/x-www-form-urlencoded; charset=utf-8".into();
    assert!(c.send(req).await.error_code().is_none());
    // POST with a form body (the older signature method) is refused with a clear message.
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.content_type = "application/x-www-form-urlencoded".into();
    req.body = b"VpcIds.0=vpc-sandbox1".to_vec();
    let resp = c.send(req).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.error_code(), Some("UnsupportedProtocol"));
    let message = resp.response()["Error"]["Message"].as_str().unwrap();
    assert!(
        message.contains("application/x-www-form-urlencoded")
            && message.contains("application/json"),
        "{message}"
    );
    // Other methods.
    let mut req = Req::vpc("DescribeVpcs", json!({}));
    req.method = reqwest::Method::PUT;
    assert_eq!(c.send(req).await.error_code(), Some("UnsupportedProtocol"));
    // A query string over the size limit.
    let ids: Vec<String> = (0..200).map(|i| format!("vpc-{i:08}")).collect();
    let resp = c
        .send(Req::vpc_get("DescribeVpcs", json!({ "VpcIds": ids })))
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.error_code(), Some("RequestSizeLimitExceeded"));
    // The tag service takes GET too (the documentation's own example is a GET).
    let r = c
        .send(Req::tag("GetResources", json!({})).into_get(
            &json!({"TagFilters": [{"TagKey": "env", "TagValue": ["prod"]}], "MaxResults": 10}),
        ))
        .await;
    assert!(r.error_code().is_none(), "{}", r.text);
    assert_eq!(r.response()["ResourceTagMappingList"], json!([]));
    // Counted like any request.
    assert!(h.stats().requests_for("DescribeVpcs") >= 6);
    assert_eq!(h.stats().requests_for("GetResources"), 1);
}
