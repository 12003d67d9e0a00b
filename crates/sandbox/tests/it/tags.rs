//! The tag service over the sandbox's VPC resources.

use serde_json::{json, Value};

use crate::common::*;

const UIN: &str = "100000000001";

fn name(prefix: &str, id: &str) -> String {
    format!("qcs::vpc:{REGION}:uin/{UIN}:{prefix}/{id}")
}

#[tokio::test]
async fn tag_untag_modify_and_find() {
    let (_h, c) = start_default().await;
    let gw = c.create_gateway(VPC).await;
    let cgw = c.create_cgw("58.211.1.12").await;
    let conn = c.create_conn(&gw, &cgw, json!({})).await;
    let r = c
        .tag(
            "TagResources",
            json!({"ResourceList": [name("vpnx", &conn), name("cgw", &cgw)],
                   "Tags": [{"TagKey": "team", "TagValue": "net"}, {"TagKey": "env", "TagValue": "prod"}]}),
        )
        .await;
    assert_eq!(r["FailedResources"], json!([]));
    let d = c.describe_conn(&conn).await.unwrap();
    assert_eq!(
        d["TagSet"],
        json!([{"Key": "team", "Value": "net"}, {"Key": "env", "Value": "prod"}])
    );
    // The six-segment name carries the region: the request's region does not matter.
    let r = c
        .send(
            Req::tag(
                "GetResources",
                json!({"TagFilters": [{"TagKey": "env", "TagValue": ["prod"]}]}),
            )
            .region("ap-beijing"),
        )
        .await;
    let list = r.response()["ResourceTagMappingList"]
        .as_array()
        .unwrap()
        .clone();
    let names: Vec<&str> = list
        .iter()
        .map(|m| m["Resource"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&name("vpnx", &conn).as_str()));
    assert!(names.contains(&name("cgw", &cgw).as_str()));
    assert_eq!(r.response()["PaginationToken"], "");

    c.tag(
        "ModifyResourceTags",
        json!({"Resource": name("vpnx", &conn), "ReplaceTags": [{"TagKey": "env", "TagValue": "staging"}],
               "DeleteTags": [{"TagKey": "team"}]}),
    )
    .await;
    let d = c.describe_conn(&conn).await.unwrap();
    assert_eq!(d["TagSet"], json!([{"Key": "env", "Value": "staging"}]));
    c.tag(
        "UnTagResources",
        json!({"ResourceList": [name("cgw", &cgw)], "TagKeys": ["team", "env"]}),
    )
    .await;
    let r = c
        .vpc(
            "DescribeCustomerGateways",
            json!({"CustomerGatewayIds": [cgw]}),
        )
        .await;
    assert_eq!(r["CustomerGatewaySet"][0]["TagSet"], json!([]));

    // Paging over all tagged resources.
    c.tag(
        "TagResources",
        json!({"ResourceList": [name("vpngw", &gw), name("vpc", VPC)], "Tags": [{"TagKey": "k", "TagValue": "v"}]}),
    )
    .await;
    let r = c.tag("GetResources", json!({"MaxResults": 1})).await;
    assert_eq!(r["ResourceTagMappingList"].as_array().unwrap().len(), 1);
    let token = r["PaginationToken"].as_str().unwrap().to_string();
    assert!(!token.is_empty());
    let r = c
        .tag(
            "GetResources",
            json!({"MaxResults": 10, "PaginationToken": token}),
        )
        .await;
    assert_eq!(r["ResourceTagMappingList"].as_array().unwrap().len(), 2);
    assert_eq!(r["PaginationToken"], "");
    let r = c
        .tag(
            "GetResources",
            json!({"ResourceList": [name("vpngw", &gw)]}),
        )
        .await;
    assert_eq!(
        r["ResourceTagMappingList"][0]["Tags"],
        json!([{"TagKey": "k", "TagValue": "v"}])
    );
}

#[tokio::test]
async fn tag_errors() {
    let (_h, c) = start_default().await;
    let cgw = c.create_cgw("58.211.1.12").await;
    let tags = json!([{"TagKey": "a", "TagValue": "b"}]);
    let err = |resource: String| {
        let c = c.clone();
        let tags = tags.clone();
        async move {
            c.tag_err(
                "TagResources",
                json!({"ResourceList": [resource], "Tags": tags}),
            )
            .await
        }
    };
    assert_eq!(
        err(format!("qcs::vpc:{REGION}:uin/999:cgw/{cgw}")).await,
        "InvalidParameterValue.UinInvalid"
    );
    assert_eq!(
        err(name("cgw", "cgw-zzzzzzzz")).await,
        "InvalidParameterValue.ResourceIdInvalid"
    );
    assert_eq!(
        err("cgw-123".into()).await,
        "InvalidParameterValue.ResourceDescriptionError"
    );
    assert_eq!(
        err(format!("qcs::vpc:{REGION}:{UIN}:cgw/{cgw}")).await,
        "InvalidParameterValue.ResourceDescriptionError"
    );
    assert_eq!(
        err(format!("qcs::vpc:{REGION}:uin/{UIN}:vpnz/{cgw}")).await,
        "InvalidParameterValue.ResourcePrefixInvalid"
    );
    assert_eq!(
        err(format!("qcs::cvm:{REGION}:uin/{UIN}:instance/ins-1")).await,
        "InvalidParameterValue.ServiceTypeInvalid"
    );
    // The resource exists, but in another region.
    assert_eq!(
        err(format!("qcs::vpc:ap-shanghai:uin/{UIN}:cgw/{cgw}")).await,
        "InvalidParameterValue.ResourceIdInvalid"
    );
    assert_eq!(
        c.tag_err(
            "TagResources",
            json!({"ResourceList": [name("cgw", &cgw)], "Tags": [{"TagKey": "qcloud:x", "TagValue": "b"}]})
        )
        .await,
        "InvalidParameterValue.ReservedTagKey"
    );
    assert_eq!(
        c.tag_err(
            "TagResources",
            json!({"ResourceList": [name("cgw", &cgw)], "Tags": [{"TagKey": "", "TagValue": "b"}]})
        )
        .await,
        "InvalidParameterValue.TagKeyEmpty"
    );
    assert_eq!(
        c.tag_err(
            "TagResources",
            json!({"ResourceList": [name("cgw", &cgw)], "Tags": [{"TagKey": "k".repeat(128), "TagValue": "b"}]})
        )
        .await,
        "InvalidParameterValue.TagKeyLengthExceeded"
    );
    assert_eq!(
        c.tag_err(
            "ModifyResourceTags",
            json!({"Resource": name("cgw", &cgw), "ReplaceTags": [{"TagKey": "a", "TagValue": "1"}], "DeleteTags": [{"TagKey": "a"}]})
        )
        .await,
        "InvalidParameterValue.DeleteTagsParamError"
    );
    assert_eq!(
        c.tag_err("ModifyResourceTags", json!({"Resource": name("cgw", &cgw)}))
            .await,
        "InvalidParameter"
    );
    let many: Vec<String> = (0..11).map(|_| name("cgw", &cgw)).collect();
    assert_eq!(
        c.tag_err("TagResources", json!({"ResourceList": many, "Tags": tags}))
            .await,
        "LimitExceeded.ResourceNumPerRequest"
    );
    assert_eq!(
        c.tag_err("GetResources", json!({"PaginationToken": "zz"}))
            .await,
        "InvalidParameterValue.OffsetInvalid"
    );
    // The tag service's Tag needs TagValue; the vpc service's Key/Value shape is unknown here.
    assert_eq!(
        c.tag_err(
            "TagResources",
            json!({"ResourceList": [name("cgw", &cgw)], "Tags": [{"Key": "a", "Value": "b"}]})
        )
        .await,
        "UnknownParameter"
    );
    // A failed request changes nothing.
    let r = c
        .vpc(
            "DescribeCustomerGateways",
            json!({"CustomerGatewayIds": [cgw]}),
        )
        .await;
    assert_eq!(r["CustomerGatewaySet"][0]["TagSet"], json!([]));
}

#[tokio::test]
async fn describe_resource_tags_by_resource_ids() {
    let (_h, c) = start_default().await;
    let cgw = c.create_cgw("58.211.1.12").await;
    let cgw2 = c.create_cgw("58.211.1.13").await;
    let untagged = c.create_cgw("58.211.1.14").await;
    c.tag(
        "TagResources",
        json!({"ResourceList": [name("cgw", &cgw)],
               "Tags": [{"TagKey": "team", "TagValue": "net"}, {"TagKey": "env", "TagValue": "prod"}]}),
    )
    .await;
    c.tag(
        "TagResources",
        json!({"ResourceList": [name("cgw", &cgw2)], "Tags": [{"TagKey": "city", "TagValue": "上海"}]}),
    )
    .await;
    let ask = |extra: Value| {
        let mut body = json!({"ServiceType": "vpc", "ResourcePrefix": "cgw", "ResourceRegion": REGION,
                              "ResourceIds": [cgw, untagged, "cgw-zzzzzzzz", cgw, cgw2]});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body
    };
    let r = c
        .tag("DescribeResourceTagsByResourceIds", ask(json!({})))
        .await;
    assert_eq!(r["TotalCount"], 3);
    assert_eq!(r["Offset"], 0);
    assert_eq!(r["Limit"], 15);
    // One entry per (resource, tag), in the order of ResourceIds (repeats once); MD5s of the UTF-8 key and
    // value in lower-case hex (values from Python's hashlib).
    assert_eq!(
        r["Tags"],
        json!([
            {"TagKey": "team", "TagValue": "net", "ResourceId": cgw,
             "TagKeyMd5": "f894427cc1c571f79da49605ef8b112f", "TagValueMd5": "40fa73c9d0083043c6576dd2b40511e4",
             "ServiceType": "vpc", "Category": "Custom"},
            {"TagKey": "env", "TagValue": "prod", "ResourceId": cgw,
             "TagKeyMd5": "ff035a1dd7655da15295fa5fa89362a7", "TagValueMd5": "d6e4a9b6646c62fc48baa6dd6150d1f7",
             "ServiceType": "vpc", "Category": "Custom"},
            {"TagKey": "city", "TagValue": "上海", "ResourceId": cgw2,
             "TagKeyMd5": "4ed5d2eaed1a1fadcc41ad1d58ed603e", "TagValueMd5": "e94e8bd35fc8144f38fd1ebc1f81ab36",
             "ServiceType": "vpc", "Category": "Custom"},
        ])
    );
    // Paging: Offset a multiple of Limit.
    let r = c
        .tag(
            "DescribeResourceTagsByResourceIds",
            ask(json!({"Offset": 2, "Limit": 2})),
        )
        .await;
    assert_eq!(r["TotalCount"], 3);
    assert_eq!(
        (r["Offset"].clone(), r["Limit"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(r["Tags"].as_array().unwrap().len(), 1);
    assert_eq!(r["Tags"][0]["TagKey"], "city");
    // Only custom tags exist.
    for (category, total) in [("All", 3), ("Custom", 3), ("System", 0)] {
        let r = c
            .tag(
                "DescribeResourceTagsByResourceIds",
                ask(json!({"Category": category})),
            )
            .await;
        assert_eq!(r["TotalCount"], total, "{category}");
    }
    // Another region or another prefix sees none of them.
    let mut other = ask(json!({}));
    other["ResourceRegion"] = json!("ap-shanghai");
    let r = c.tag("DescribeResourceTagsByResourceIds", other).await;
    assert_eq!(r["TotalCount"], 0);
    assert_eq!(r["Tags"], json!([]));
    // The documentation's example is a GET with flattened parameters.
    let r = c
        .send(
            Req::tag("DescribeResourceTagsByResourceIds", json!({})).into_get(
                &json!({"ServiceType": "vpc", "ResourcePrefix": "cgw", "ResourceRegion": REGION,
                    "ResourceIds": [cgw2]}),
            ),
        )
        .await;
    assert!(r.error_code().is_none(), "{}", r.text);
    assert_eq!(r.response()["TotalCount"], 1);
    assert_eq!(r.response()["Tags"][0]["TagValue"], "上海");

    // Errors.
    let err = |extra: Value| c.tag_err("DescribeResourceTagsByResourceIds", ask(extra));
    assert_eq!(
        err(json!({"Offset": 3, "Limit": 2})).await,
        "InvalidParameterValue.OffsetInvalid"
    );
    assert_eq!(err(json!({"Limit": 0})).await, "InvalidParameterValue");
    assert_eq!(err(json!({"Limit": 101})).await, "InvalidParameterValue");
    assert_eq!(
        err(json!({"ServiceType": "cvm"})).await,
        "InvalidParameterValue.ServiceTypeInvalid"
    );
    assert_eq!(
        err(json!({"ResourcePrefix": "instance"})).await,
        "InvalidParameterValue.ResourcePrefixInvalid"
    );
    assert_eq!(
        err(json!({"ResourceRegion": "xx-nowhere"})).await,
        "InvalidParameterValue.RegionInvalid"
    );
    assert_eq!(
        err(json!({"ResourceRegion": ""})).await,
        "InvalidParameterValue.RegionInvalid"
    );
    assert_eq!(
        err(json!({"ResourceIds": ["vpnx-abcdefgh"]})).await,
        "InvalidParameterValue.ResourceIdInvalid"
    );
    let many: Vec<String> = (0..51).map(|i| format!("cgw-{i:08}")).collect();
    assert_eq!(
        err(json!({ "ResourceIds": many })).await,
        "LimitExceeded.ResourceNumPerRequest"
    );
    assert_eq!(
        err(json!({"Category": "Other"})).await,
        "InvalidParameterValue"
    );
    assert_eq!(
        c.tag_err(
            "DescribeResourceTagsByResourceIds",
            json!({"ServiceType": "vpc", "ResourcePrefix": "cgw", "ResourceIds": [cgw]})
        )
        .await,
        "MissingParameter"
    );
    assert_eq!(err(json!({"Limit": "2"})).await, "InvalidParameter");
}
