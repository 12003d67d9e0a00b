//! The real client against the real sandbox, in-process over loopback: every action the client has, with
//! its success path (values round-trip, defaults filled in, `PreShareKey` and `TagSet` returned) and its
//! error paths (typed `ErrorCode`s for authentication, quotas, validation, states, unknown resources), the
//! batched readers (call counts from `Client::metrics` and the sandbox's own counters) and the task waiter.
//!
//! Every test starts its own sandbox on 127.0.0.1:0 with 50 ms tasks and the documented rate limits.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::stream::{self, StreamExt, TryStreamExt};
use tunnelform_sandbox::{Quotas, SandboxConfig};
use tunnelform_tencent_api::actions::*;
use tunnelform_tencent_api::tag::{
    GetResourcesRequest, ModifyResourceTagsRequest, Tag as TagKv, TagFilter, TagKeyObject,
    TagResourcesRequest, UnTagResourcesRequest,
};
use tunnelform_tencent_api::vpc::*;
use tunnelform_tencent_api::*;

use crate::common;
use common::*;

// ---------------------------------------------------------------------------------------------------------
// Success paths, action by action

#[tokio::test]
async fn vpcs_create_describe_delete() {
    let h = start(sandbox_config()).await;
    let c = client(&h);

    // The three default VPCs, each in its region.
    for (region, id, cidr) in [
        ("ap-guangzhou", "vpc-sandbox1", "10.0.0.0/16"),
        ("ap-shanghai", "vpc-sandbox2", "10.1.0.0/16"),
        ("ap-beijing", "vpc-sandbox3", "10.2.0.0/16"),
    ] {
        let r = c
            .call::<DescribeVpcs>(region, &DescribeVpcsRequest::default())
            .await
            .unwrap();
        assert_eq!(r.total_count, 1, "{region}");
        assert_eq!(r.vpc_set[0].vpc_id, id);
        assert_eq!(r.vpc_set[0].cidr_block, cidr);
        assert!(r.vpc_set[0].is_default);
    }

    let created = c
        .call::<CreateVpc>(
            REGION,
            &CreateVpcRequest {
                vpc_name: "itest-vpc".into(),
                cidr_block: Some("172.16.0.0/16".into()),
                dns_servers: Some(vec!["1.1.1.1".into(), "8.8.8.8".into()]),
                domain_name: Some("corp.example".into()),
                tags: Some(vec![tag("env", "test"), tag("owner", "net")]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let vpc = created.vpc;
    assert!(is_id(&vpc.vpc_id, "vpc"), "{}", vpc.vpc_id);
    assert!(!created.request_id.is_empty());
    assert_eq!(vpc.vpc_name, "itest-vpc");
    assert_eq!(vpc.cidr_block, "172.16.0.0/16");
    assert!(!vpc.is_default);

    // By id: every value round-trips.
    let r = c
        .call::<DescribeVpcs>(
            REGION,
            &DescribeVpcsRequest {
                vpc_ids: Some(vec![vpc.vpc_id.clone()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(r.total_count, 1);
    let d = &r.vpc_set[0];
    assert_eq!(d.vpc_name, "itest-vpc");
    assert_eq!(d.cidr_block, "172.16.0.0/16");
    assert_eq!(d.dns_server_set, vec!["1.1.1.1", "8.8.8.8"]);
    assert_eq!(d.domain_name, "corp.example");
    assert_eq!(d.tag_set, vec![tag("env", "test"), tag("owner", "net")]);

    // Filters and string-typed paging (DescribeVpcs takes Offset/Limit as strings).
    let page = |offset: &str, limit: &str| DescribeVpcsRequest {
        offset: Some(offset.into()),
        limit: Some(limit.into()),
        ..Default::default()
    };
    let first = c
        .call::<DescribeVpcs>(REGION, &page("0", "1"))
        .await
        .unwrap();
    let second = c
        .call::<DescribeVpcs>(REGION, &page("1", "1"))
        .await
        .unwrap();
    assert_eq!((first.total_count, second.total_count), (2, 2));
    assert_eq!(first.vpc_set.len() + second.vpc_set.len(), 2);
    assert_ne!(first.vpc_set[0].vpc_id, second.vpc_set[0].vpc_id);
    let by_tag = c
        .call::<DescribeVpcs>(
            REGION,
            &DescribeVpcsRequest {
                filters: Some(vec![filter("tag:env", &["test"])]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_tag.vpc_set.len(), 1);
    assert_eq!(by_tag.vpc_set[0].vpc_id, vpc.vpc_id);
    let defaults = c
        .call::<DescribeVpcs>(
            REGION,
            &DescribeVpcsRequest {
                filters: Some(vec![filter("is-default", &["true"])]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(defaults.vpc_set.len(), 1);
    assert_eq!(defaults.vpc_set[0].vpc_id, VPC);

    // Resources live in the region of the request.
    let elsewhere = c
        .call::<DescribeVpcs>(
            "ap-shanghai",
            &DescribeVpcsRequest {
                vpc_ids: Some(vec![vpc.vpc_id.clone()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(elsewhere.total_count, 0);

    c.call::<DeleteVpc>(
        REGION,
        &DeleteVpcRequest {
            vpc_id: vpc.vpc_id.clone(),
        },
    )
    .await
    .unwrap();
    let gone = c
        .call::<DescribeVpcs>(
            REGION,
            &DescribeVpcsRequest {
                vpc_ids: Some(vec![vpc.vpc_id.clone()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(gone.total_count, 0);
    let again = c
        .call::<DeleteVpc>(
            REGION,
            &DeleteVpcRequest {
                vpc_id: vpc.vpc_id.clone(),
            },
        )
        .await;
    let e = again.unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::parse("InvalidVpcId.NotFound")));
    assert!(e.is_not_found());
    assert_eq!(e.attempts, 1);

    // Nothing here needed a retry, and the client's counts agree with the sandbox's.
    let m = c.metrics();
    assert_eq!(m.total_retries(), 0);
    assert_eq!(m.request_limit_exceeded, 0);
    let s = h.stats();
    for action in ["DescribeVpcs", "CreateVpc", "DeleteVpc"] {
        assert_eq!(m.calls_of(action), s.requests_for(action), "{action}");
    }
}

#[tokio::test]
async fn vpn_gateways_create_describe_modify_reset_delete() {
    let h = start(sandbox_config()).await;
    let c = client(&h);

    let created = c
        .call::<CreateVpnGateway>(
            REGION,
            &CreateVpnGatewayRequest {
                vpc_id: VPC.into(),
                vpn_gateway_name: "gw-a".into(),
                internet_max_bandwidth_out: 5,
                tags: Some(vec![tag("env", "test")]),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .vpn_gateway;
    assert!(is_id(&created.vpn_gateway_id, "vpngw"));
    assert_eq!(created.state, "PENDING");
    assert_eq!(created.vpc_id, VPC);
    // Defaults of omitted parameters.
    assert_eq!(created.gateway_type, "IPSEC");
    assert_eq!(created.instance_charge_type, "POSTPAID_BY_HOUR");
    assert!(!created.public_ip_address.is_empty());

    // PENDING: not modifiable yet.
    let pending = c
        .call::<ModifyVpnGatewayAttribute>(
            REGION,
            &ModifyVpnGatewayAttributeRequest {
                vpn_gateway_id: created.vpn_gateway_id.clone(),
                vpn_gateway_name: Some("too-early".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(pending), ErrorCode::UnsupportedOperationInvalidState);

    let gw = wait_available(&c, &created.vpn_gateway_id).await;
    assert_eq!(gw.vpn_gateway_name, "gw-a");
    assert_eq!(gw.internet_max_bandwidth_out, 5);
    assert_eq!(gw.public_ip_address, created.public_ip_address);
    assert_eq!(gw.tag_set, Some(vec![tag("env", "test")]));

    c.call::<ModifyVpnGatewayAttribute>(
        REGION,
        &ModifyVpnGatewayAttributeRequest {
            vpn_gateway_id: gw.vpn_gateway_id.clone(),
            vpn_gateway_name: Some("gw-renamed".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    c.call::<ResetVpnGatewayInternetMaxBandwidth>(
        REGION,
        &ResetVpnGatewayInternetMaxBandwidthRequest {
            vpn_gateway_id: gw.vpn_gateway_id.clone(),
            internet_max_bandwidth_out: 20,
        },
    )
    .await
    .unwrap();
    let after = wait_available(&c, &gw.vpn_gateway_id).await;
    assert_eq!(after.vpn_gateway_name, "gw-renamed");
    assert_eq!(after.internet_max_bandwidth_out, 20);

    // The bandwidth only grows.
    let shrink = c
        .call::<ResetVpnGatewayInternetMaxBandwidth>(
            REGION,
            &ResetVpnGatewayInternetMaxBandwidthRequest {
                vpn_gateway_id: gw.vpn_gateway_id.clone(),
                internet_max_bandwidth_out: 10,
            },
        )
        .await;
    assert_eq!(
        code(shrink),
        ErrorCode::parse("UnsupportedOperation.VpnUnsupportedModifyBandwidth")
    );

    // Filters.
    let by_name = c
        .describe_vpn_gateways_by_filters(REGION, &[filter("vpn-gateway-name", &["gw-renamed"])])
        .await
        .unwrap();
    assert_eq!(by_name.len(), 1);
    assert_eq!(by_name[0].vpn_gateway_id, gw.vpn_gateway_id);

    c.call::<DeleteVpnGateway>(
        REGION,
        &DeleteVpnGatewayRequest {
            vpn_gateway_id: gw.vpn_gateway_id.clone(),
        },
    )
    .await
    .unwrap();
    assert!(c
        .describe_vpn_gateways_by_ids(REGION, std::slice::from_ref(&gw.vpn_gateway_id))
        .await
        .unwrap()
        .is_empty());
    let again = c
        .call::<DeleteVpnGateway>(
            REGION,
            &DeleteVpnGatewayRequest {
                vpn_gateway_id: gw.vpn_gateway_id.clone(),
            },
        )
        .await;
    assert_eq!(code(again), ErrorCode::InvalidVpnGatewayIdNotFound);
}

#[tokio::test]
async fn customer_gateways_create_describe_modify_delete() {
    let h = start(sandbox_config()).await;
    let c = client(&h);

    let created = c
        .call::<CreateCustomerGateway>(
            REGION,
            &CreateCustomerGatewayRequest {
                customer_gateway_name: "branch-1".into(),
                ip_address: "58.211.1.12".into(),
                bgp_asn: Some(65001),
                tags: Some(vec![tag("site", "branch-1")]),
            },
        )
        .await
        .unwrap()
        .customer_gateway;
    assert!(is_id(&created.customer_gateway_id, "cgw"));

    let d = c
        .describe_customer_gateways_by_ids(
            REGION,
            std::slice::from_ref(&created.customer_gateway_id),
        )
        .await
        .unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].customer_gateway_name, "branch-1");
    assert_eq!(d[0].ip_address, "58.211.1.12");
    assert_eq!(d[0].bgp_asn, 65001);
    assert_eq!(d[0].vpn_conn_num, Some(0));
    assert_eq!(d[0].tag_set, Some(vec![tag("site", "branch-1")]));

    // Customer-gateway IP rules and uniqueness.
    for (ip, expect) in [
        ("127.0.0.1", "InvalidParameterValue"),
        ("169.254.1.1", "InvalidParameterValue"),
        ("224.0.0.1", "InvalidParameterValue"),
        ("1.2.3", "InvalidParameterValue.Malformed"),
        ("58.211.1.12", "InvalidParameterValue.Duplicate"),
    ] {
        let r = c
            .call::<CreateCustomerGateway>(
                REGION,
                &CreateCustomerGatewayRequest {
                    customer_gateway_name: "bad".into(),
                    ip_address: ip.into(),
                    ..Default::default()
                },
            )
            .await;
        assert_eq!(code(r).as_str(), expect, "{ip}");
    }

    c.call::<ModifyCustomerGatewayAttribute>(
        REGION,
        &ModifyCustomerGatewayAttributeRequest {
            customer_gateway_id: created.customer_gateway_id.clone(),
            customer_gateway_name: "branch-1b".into(),
            bgp_asn: Some(65002),
        },
    )
    .await
    .unwrap();
    let by_filter = c
        .describe_customer_gateways_by_filters(
            REGION,
            &[filter("customer-gateway-name", &["branch-1b"])],
        )
        .await
        .unwrap();
    assert_eq!(by_filter.len(), 1);
    assert_eq!(by_filter[0].bgp_asn, 65002);

    c.call::<DeleteCustomerGateway>(
        REGION,
        &DeleteCustomerGatewayRequest {
            customer_gateway_id: created.customer_gateway_id.clone(),
        },
    )
    .await
    .unwrap();
    assert!(c
        .describe_customer_gateways_by_ids(
            REGION,
            std::slice::from_ref(&created.customer_gateway_id)
        )
        .await
        .unwrap()
        .is_empty());
    let again = c
        .call::<DeleteCustomerGateway>(
            REGION,
            &DeleteCustomerGatewayRequest {
                customer_gateway_id: created.customer_gateway_id.clone(),
            },
        )
        .await;
    assert_eq!(code(again), ErrorCode::ResourceNotFound);
}

#[tokio::test]
async fn vpn_connection_full_lifecycle_with_every_create_parameter() {
    let h = start(sandbox_config()).await;
    let c = client(&h);
    let gw = ready_gateway(&c, "gw").await;
    let cgw = create_cgw(&c, "branch", "58.211.1.12", None).await;

    let req = CreateVpnConnectionRequest {
        vpn_gateway_id: gw.vpn_gateway_id.clone(),
        customer_gateway_id: cgw.customer_gateway_id.clone(),
        vpn_connection_name: "t1".into(),
        pre_share_key: Secret::new("s3cr3t-psk-1"),
        vpc_id: Some(VPC.into()),
        security_policy_databases: Some(vec![spd(
            "10.0.1.0/24",
            &["192.168.1.0/24", "192.168.2.0/24"],
        )]),
        // Only some settings: the rest must come back as the API's defaults.
        ike_options_specification: Some(IKEOptionsSpecification {
            propo_encry_algorithm: Some("AES-CBC-256".into()),
            ike_version: Some("IKEV2".into()),
            ..Default::default()
        }),
        ipsec_options_specification: Some(IPSECOptionsSpecification {
            encrypt_algorithm: Some("AES-CBC-128".into()),
            pfs_dh_group: Some("DH-GROUP14".into()),
            ..Default::default()
        }),
        tags: Some(vec![tag("env", "prod"), tag("team", "net")]),
        enable_health_check: Some(true),
        health_check_local_ip: Some("169.254.128.10".into()),
        health_check_remote_ip: Some("169.254.128.11".into()),
        route_type: Some("StaticRoute".into()),
        negotiation_type: Some("passive".into()),
        dpd_enable: Some(1),
        dpd_timeout: Some("40".into()),
        dpd_action: Some("restart".into()),
        route: Some(CreateVpnConnRoute {
            destination_cidr_block: "192.168.1.0/24".into(),
            priority: Some(100),
            description: None,
        }),
        bgp_config: None,
        health_check_config: Some(HealthCheckConfig {
            probe_type: Some("NQA".into()),
            probe_interval: Some(2000),
            probe_threshold: Some(4),
            probe_timeout: Some(300),
        }),
    };
    let created = c.call::<CreateVpnConnection>(REGION, &req).await.unwrap();
    let id = created.vpn_connection.vpn_connection_id.clone();
    assert!(is_id(&id, "vpnx"), "{id}");
    assert_eq!(created.vpn_connection.state, "PENDING");
    let task = created.request_id.clone();

    // While PENDING: neither modify nor delete.
    let modify_early = c
        .call::<ModifyVpnConnectionAttribute>(
            REGION,
            &ModifyVpnConnectionAttributeRequest {
                vpn_connection_id: id.clone(),
                vpn_connection_name: Some("early".into()),
                ..Default::default()
            },
        )
        .await;
    let e = modify_early.unwrap_err();
    assert_eq!(
        e.code(),
        Some(&ErrorCode::UnsupportedOperationVpnConnInvalidState)
    );
    assert!(e.is_invalid_state());
    assert_eq!(e.attempts, 1, "an invalid state is not retried");
    let delete_early = c
        .call::<DeleteVpnConnection>(
            REGION,
            &DeleteVpnConnectionRequest {
                vpn_gateway_id: gw.vpn_gateway_id.clone(),
                vpn_connection_id: id.clone(),
            },
        )
        .await;
    assert_eq!(
        code(delete_early),
        ErrorCode::UnsupportedOperationDeleteVpnConnInvalidState
    );

    // The task id is the create's RequestId.
    let outcome = c.wait_task(REGION, &task, fast_wait()).await.unwrap();
    assert_eq!(
        outcome,
        TaskOutcome::Success {
            output: "SUCCESS".into()
        }
    );

    let d = describe_one(&c, &id).await;
    assert_eq!(d.state, "AVAILABLE");
    assert_eq!(d.vpn_connection_name, "t1");
    assert_eq!(d.vpc_id, VPC);
    assert_eq!(d.vpn_gateway_id, gw.vpn_gateway_id);
    assert_eq!(d.customer_gateway_id, cgw.customer_gateway_id);
    assert_eq!(d.pre_share_key.expose(), "s3cr3t-psk-1");
    assert!(!format!("{d:?}").contains("s3cr3t-psk-1"), "Debug redacts");
    assert_eq!(d.tag_set, vec![tag("env", "prod"), tag("team", "net")]);
    assert_eq!(d.vpn_proto, "IPSEC");
    assert_eq!(d.route_type, "StaticRoute");
    assert_eq!(d.negotiation_type, "passive");
    assert_eq!(
        d.security_policy_database_set,
        vec![spd("10.0.1.0/24", &["192.168.1.0/24", "192.168.2.0/24"])]
    );
    let ike = &d.ike_options_specification;
    assert_eq!(ike.propo_encry_algorithm.as_deref(), Some("AES-CBC-256"));
    assert_eq!(ike.ike_version.as_deref(), Some("IKEV2"));
    // Defaults filled in.
    assert_eq!(ike.propo_authen_algorithm.as_deref(), Some("MD5"));
    assert_eq!(ike.exchange_mode.as_deref(), Some("MAIN"));
    assert_eq!(ike.local_identity.as_deref(), Some("ADDRESS"));
    assert_eq!(ike.remote_identity.as_deref(), Some("ADDRESS"));
    assert_eq!(ike.dh_group_name.as_deref(), Some("GROUP1"));
    assert_eq!(ike.ike_sa_lifetime_seconds, Some(86_400));
    assert_eq!(
        ike.local_address.as_deref(),
        Some(gw.public_ip_address.as_str())
    );
    assert_eq!(ike.remote_address.as_deref(), Some("58.211.1.12"));
    let ipsec = &d.ipsec_options_specification;
    assert_eq!(ipsec.encrypt_algorithm.as_deref(), Some("AES-CBC-128"));
    assert_eq!(ipsec.pfs_dh_group.as_deref(), Some("DH-GROUP14"));
    assert_eq!(ipsec.integrity_algorith.as_deref(), Some("MD5"));
    assert_eq!(ipsec.ipsec_sa_lifetime_seconds, Some(3600));
    assert_eq!(ipsec.ipsec_sa_lifetime_traffic, Some(1_843_200));
    assert_eq!(d.dpd_enable, 1);
    assert_eq!(d.dpd_timeout, "40");
    assert_eq!(d.dpd_action, "restart");
    assert!(d.enable_health_check);
    assert_eq!(d.health_check_local_ip, "169.254.128.10");
    assert_eq!(d.health_check_remote_ip, "169.254.128.11");
    let hc = d.health_check_config.as_ref().expect("HealthCheckConfig");
    assert_eq!(
        (
            hc.probe_type.as_deref(),
            hc.probe_interval,
            hc.probe_threshold,
            hc.probe_timeout
        ),
        (Some("NQA"), Some(2000), Some(4), Some(300))
    );

    // Modify: name, key, SPD, IKE lifetime.
    c.call::<ModifyVpnConnectionAttribute>(
        REGION,
        &ModifyVpnConnectionAttributeRequest {
            vpn_connection_id: id.clone(),
            vpn_connection_name: Some("t1-renamed".into()),
            pre_share_key: Some(Secret::new("rotated-psk-2")),
            security_policy_databases: Some(vec![spd("10.0.2.0/24", &["192.168.9.0/24"])]),
            ike_options_specification: Some(IKEOptionsSpecification {
                ike_sa_lifetime_seconds: Some(3600),
                ..Default::default()
            }),
            dpd_timeout: Some("50".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let m = describe_one(&c, &id).await;
    assert_eq!(m.vpn_connection_name, "t1-renamed");
    assert_eq!(m.pre_share_key.expose(), "rotated-psk-2");
    assert_eq!(
        m.security_policy_database_set,
        vec![spd("10.0.2.0/24", &["192.168.9.0/24"])]
    );
    assert_eq!(
        m.ike_options_specification.ike_sa_lifetime_seconds,
        Some(3600)
    );
    // Settings the modify did not name are kept.
    assert_eq!(
        m.ike_options_specification.propo_encry_algorithm.as_deref(),
        Some("AES-CBC-256")
    );
    assert_eq!(m.dpd_timeout, "50");
    assert_eq!(m.dpd_action, "restart");
    assert_eq!(m.tag_set, d.tag_set);

    // Delete: DELETING, then gone when its task succeeds.
    let del = c
        .call::<DeleteVpnConnection>(
            REGION,
            &DeleteVpnConnectionRequest {
                vpn_gateway_id: gw.vpn_gateway_id.clone(),
                vpn_connection_id: id.clone(),
            },
        )
        .await
        .unwrap();
    let deleting = c
        .describe_vpn_connections_by_ids(REGION, std::slice::from_ref(&id))
        .await
        .unwrap();
    if let Some(conn) = deleting.first() {
        assert_eq!(conn.state, "DELETING");
    }
    let outcome = c
        .wait_task(REGION, &del.request_id, fast_wait())
        .await
        .unwrap();
    assert!(outcome.is_success(), "{outcome:?}");
    assert!(c
        .describe_vpn_connections_by_ids(REGION, std::slice::from_ref(&id))
        .await
        .unwrap()
        .is_empty());
    // DescribeVpcTaskResult directly: the finished task names its resource.
    let t = c
        .call::<DescribeVpcTaskResult>(
            REGION,
            &DescribeVpcTaskResultRequest {
                task_id: del.request_id.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(t.status, "SUCCESS");
    assert_eq!(t.result.len(), 1);
    assert_eq!(t.result[0].resource_id, id);

    // Now the gateway and customer gateway can go.
    c.call::<DeleteVpnGateway>(
        REGION,
        &DeleteVpnGatewayRequest {
            vpn_gateway_id: gw.vpn_gateway_id.clone(),
        },
    )
    .await
    .unwrap();
    c.call::<DeleteCustomerGateway>(
        REGION,
        &DeleteCustomerGatewayRequest {
            customer_gateway_id: cgw.customer_gateway_id.clone(),
        },
    )
    .await
    .unwrap();

    let m = c.metrics();
    assert_eq!(m.request_limit_exceeded, 0);
    assert_eq!(m.total_retries(), 0);
    let s = h.stats();
    for (action, n) in &m.calls {
        assert_eq!(s.requests_for(action), *n, "{action}");
    }
}

#[tokio::test]
async fn bgp_tunnels_round_trip_and_validate() {
    let h = start(sandbox_config()).await;
    let c = client(&h);
    let gw = ready_gateway(&c, "gw-bgp").await;
    let cgw1 = create_cgw(&c, "peer-1", "58.211.1.12", Some(65010)).await;
    let cgw2 = create_cgw(&c, "peer-2", "58.211.1.13", Some(65020)).await;
    let bgp = |cidr: &str, local: &str, remote: &str| BgpConfig {
        tunnel_cidr: cidr.into(),
        local_bgp_ip: local.into(),
        remote_bgp_ip: remote.into(),
    };
    let bgp_req = |cgw: &str, name: &str, b: BgpConfig| CreateVpnConnectionRequest {
        route_type: Some("Bgp".into()),
        bgp_config: Some(b),
        ..tunnel_req(&gw.vpn_gateway_id, cgw, name)
    };

    // Not a /30.
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &bgp_req(
                &cgw1.customer_gateway_id,
                "b",
                bgp("169.254.10.0/29", "169.254.10.1", "169.254.10.2"),
            ),
        )
        .await;
    assert_eq!(
        code(r),
        ErrorCode::InvalidParameterValueVpnConnBgpTunnelCidrMask
    );
    // An address outside the tunnel CIDR.
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &bgp_req(
                &cgw1.customer_gateway_id,
                "b",
                bgp("169.254.10.0/30", "169.254.10.1", "169.254.11.2"),
            ),
        )
        .await;
    assert_eq!(
        code(r),
        ErrorCode::InvalidParameterValueVpnConnBgpTunnelCidrNotSupported
    );

    let t = ready_tunnel(
        &c,
        bgp_req(
            &cgw1.customer_gateway_id,
            "bgp-1",
            bgp("169.254.10.0/30", "169.254.10.1", "169.254.10.2"),
        ),
    )
    .await;
    assert_eq!(t.route_type, "Bgp");
    let b = t.bgp_config.as_ref().expect("BgpConfig returned");
    assert_eq!(b.tunnel_cidr.as_deref(), Some("169.254.10.0/30"));
    assert_eq!(b.local_bgp_ip.as_deref(), Some("169.254.10.1"));
    assert_eq!(b.remote_bgp_ip.as_deref(), Some("169.254.10.2"));
    assert_eq!(
        b.local_bgp_asn.as_deref(),
        Some("64551"),
        "gateway default ASN"
    );
    assert_eq!(b.remote_bgp_asn.as_deref(), Some("65010"));

    // Another tunnel of the gateway with an overlapping BGP tunnel CIDR.
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &bgp_req(
                &cgw2.customer_gateway_id,
                "bgp-2",
                bgp("169.254.10.0/30", "169.254.10.1", "169.254.10.2"),
            ),
        )
        .await;
    assert_eq!(
        code(r),
        ErrorCode::InvalidParameterValueVpnConnBgpTunnelCidrConflict
    );
    // A static tunnel cannot join a gateway with BGP tunnels.
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &tunnel_req(&gw.vpn_gateway_id, &cgw2.customer_gateway_id, "static"),
        )
        .await;
    assert_eq!(
        code(r).as_str(),
        "UnsupportedOperation.VpnConnRouteTypeMixed"
    );
    // BgpConfig without RouteType Bgp.
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &CreateVpnConnectionRequest {
                bgp_config: Some(bgp("169.254.20.0/30", "169.254.20.1", "169.254.20.2")),
                ..tunnel_req(&gw.vpn_gateway_id, &cgw2.customer_gateway_id, "x")
            },
        )
        .await;
    assert!(code(r).is_invalid_request());
    ready_tunnel(
        &c,
        bgp_req(
            &cgw2.customer_gateway_id,
            "bgp-2",
            bgp("169.254.10.4/30", "169.254.10.5", "169.254.10.6"),
        ),
    )
    .await;
}

#[tokio::test]
async fn a_tunnel_moves_to_another_customer_gateway() {
    let h = start(sandbox_config()).await;
    let c = client(&h);
    let gw = ready_gateway(&c, "gw").await;
    let c1 = create_cgw(&c, "c1", "58.211.1.1", None).await;
    let c2 = create_cgw(&c, "c2", "58.211.1.2", None).await;
    let t = ready_tunnel(
        &c,
        tunnel_req(&gw.vpn_gateway_id, &c1.customer_gateway_id, "t"),
    )
    .await;
    assert_eq!(
        t.ike_options_specification.remote_address.as_deref(),
        Some("58.211.1.1")
    );

    c.call::<ModifyVpnConnectionAttribute>(
        REGION,
        &ModifyVpnConnectionAttributeRequest {
            vpn_connection_id: t.vpn_connection_id.clone(),
            customer_gateway_id: Some(c2.customer_gateway_id.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let moved = describe_one(&c, &t.vpn_connection_id).await;
    assert_eq!(moved.customer_gateway_id, c2.customer_gateway_id);
    // The IKE remote address followed the customer gateway (it was the old one's address).
    assert_eq!(
        moved.ike_options_specification.remote_address.as_deref(),
        Some("58.211.1.2")
    );
    // Filters, counts and dependency checks all see the move.
    let on = |cgw: &str| {
        let c = c.clone();
        let cgw = cgw.to_string();
        async move {
            c.describe_vpn_connections_by_filters(REGION, &[filter("customer-gateway-id", &[&cgw])])
                .await
                .unwrap()
        }
    };
    assert!(on(&c1.customer_gateway_id).await.is_empty());
    assert_eq!(on(&c2.customer_gateway_id).await.len(), 1);
    let nums: BTreeMap<_, _> = c
        .describe_customer_gateways_by_ids(
            REGION,
            &[
                c1.customer_gateway_id.clone(),
                c2.customer_gateway_id.clone(),
            ],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.customer_gateway_id, g.vpn_conn_num))
        .collect();
    assert_eq!(nums[&c1.customer_gateway_id], Some(0));
    assert_eq!(nums[&c2.customer_gateway_id], Some(1));
    c.call::<DeleteCustomerGateway>(
        REGION,
        &DeleteCustomerGatewayRequest {
            customer_gateway_id: c1.customer_gateway_id.clone(),
        },
    )
    .await
    .unwrap();
    let r = c
        .call::<DeleteCustomerGateway>(
            REGION,
            &DeleteCustomerGatewayRequest {
                customer_gateway_id: c2.customer_gateway_id.clone(),
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::ResourceInUse);
    // Moving to an unknown customer gateway fails and changes nothing.
    let r = c
        .call::<ModifyVpnConnectionAttribute>(
            REGION,
            &ModifyVpnConnectionAttributeRequest {
                vpn_connection_id: t.vpn_connection_id.clone(),
                customer_gateway_id: Some(c1.customer_gateway_id.clone()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::ResourceNotFound);
    assert_eq!(
        describe_one(&c, &t.vpn_connection_id)
            .await
            .customer_gateway_id,
        c2.customer_gateway_id
    );
}

#[tokio::test]
async fn unicode_names_keys_and_both_integrity_spellings_round_trip() {
    let h = start(sandbox_config()).await;
    let c = client(&h);
    let gw = ready_gateway(&c, "网关").await;
    let c1 = create_cgw(&c, "分支机构", "58.211.1.1", None).await;
    let c2 = create_cgw(&c, "c2", "58.211.1.2", None).await;
    // 60 characters (180 bytes): a name limit counts characters.
    let name = "通".repeat(60);
    let psk = r#"p"s\k 'ü' {}[]"#;
    let t = ready_tunnel(
        &c,
        CreateVpnConnectionRequest {
            pre_share_key: Secret::new(psk),
            tags: Some(vec![tag("部门", "网络组")]),
            ipsec_options_specification: Some(IPSECOptionsSpecification {
                integrity_algorithm: Some("SHA-256".into()),
                ..Default::default()
            }),
            ..tunnel_req(&gw.vpn_gateway_id, &c1.customer_gateway_id, &name)
        },
    )
    .await;
    assert_eq!(t.vpn_connection_name, name);
    assert_eq!(t.pre_share_key.expose(), psk);
    assert_eq!(t.tag_set, vec![tag("部门", "网络组")]);
    // The newer `IntegrityAlgorithm` is accepted; the API answers with the legacy `IntegrityAlgorith`.
    assert_eq!(
        t.ipsec_options_specification.integrity_algorith.as_deref(),
        Some("SHA-256")
    );
    let t2 = ready_tunnel(
        &c,
        CreateVpnConnectionRequest {
            ipsec_options_specification: Some(IPSECOptionsSpecification {
                integrity_algorith: Some("SHA-512".into()),
                ..Default::default()
            }),
            ..tunnel_req(&gw.vpn_gateway_id, &c2.customer_gateway_id, "t2")
        },
    )
    .await;
    assert_eq!(
        t2.ipsec_options_specification.integrity_algorith.as_deref(),
        Some("SHA-512")
    );
    let by_name = c
        .describe_vpn_connections_by_filters(REGION, &[filter("vpn-connection-name", &[&name])])
        .await
        .unwrap();
    assert_eq!(by_name.len(), 1);
    assert_eq!(by_name[0].vpn_connection_id, t.vpn_connection_id);
    let r = c
        .call::<CreateCustomerGateway>(
            REGION,
            &CreateCustomerGatewayRequest {
                customer_gateway_name: "通".repeat(61),
                ip_address: "58.211.1.3".into(),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValueTooLong);
}

#[tokio::test]
async fn deleting_a_tunnel_frees_its_pair_and_its_quota() {
    let h = start(SandboxConfig {
        quotas: Quotas {
            tunnels_per_vpn_gateway: 1,
            ..Quotas::default()
        },
        ..sandbox_config()
    })
    .await;
    let c = client(&h);
    let gw = ready_gateway(&c, "gw").await;
    let cgw = create_cgw(&c, "c", "58.211.1.1", None).await;
    let req = tunnel_req(&gw.vpn_gateway_id, &cgw.customer_gateway_id, "t");
    let first = ready_tunnel(&c, req.clone()).await;
    assert_eq!(
        code(c.call::<CreateVpnConnection>(REGION, &req).await),
        ErrorCode::LimitExceeded
    );
    let del = c
        .call::<DeleteVpnConnection>(
            REGION,
            &DeleteVpnConnectionRequest {
                vpn_gateway_id: gw.vpn_gateway_id.clone(),
                vpn_connection_id: first.vpn_connection_id.clone(),
            },
        )
        .await
        .unwrap();
    assert!(c
        .wait_task(REGION, &del.request_id, fast_wait())
        .await
        .unwrap()
        .is_success());
    let second = ready_tunnel(&c, req).await;
    assert_ne!(second.vpn_connection_id, first.vpn_connection_id);
    let all = c
        .describe_vpn_connections_by_filters(
            REGION,
            &[filter("vpn-gateway-id", &[&gw.vpn_gateway_id])],
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].vpn_connection_id, second.vpn_connection_id);
}

// ---------------------------------------------------------------------------------------------------------
// Error paths

/// `AuthFailure.SecretIdNotFound` names "NotFound", but not about the objects: a read by ids
/// must fail with it, not take every id for a deleted object (a refresh would then lose them all,
/// and a plan create them again), nor read the ids one by one to find which is missing.
#[tokio::test]
async fn an_unknown_secret_id_fails_a_read_by_ids_instead_of_finding_nothing() {
    let h = start(sandbox_config()).await;
    let unknown_id = client_with(&h, |c| {
        c.credentials = Credentials::new("AKIDnobody", SECRET_KEY, None)
    });
    let ids: Vec<String> = (0..5).map(|i| format!("vpnx-0000000{i}")).collect();
    let e = unknown_id
        .describe_vpn_connections_by_ids(REGION, &ids)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::AuthFailureSecretIdNotFound));
    let gateways: Vec<String> = (0..3).map(|i| format!("vpngw-0000000{i}")).collect();
    let e = unknown_id
        .describe_vpn_gateways_by_ids(REGION, &gateways)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::AuthFailureSecretIdNotFound));
    // One call each: no id was read again on its own.
    assert_eq!(h.stats().errors_for("AuthFailure.SecretIdNotFound"), 2);
}

#[tokio::test]
async fn wrong_credentials_are_typed_auth_failures_and_not_retried() {
    let h = start(sandbox_config()).await;
    let wrong_key = client_with(&h, |c| {
        c.credentials = Credentials::new(SECRET_ID, "not-the-key", None)
    });
    let unknown_id = client_with(&h, |c| {
        c.credentials = Credentials::new("AKIDnobody", SECRET_KEY, None)
    });

    let e = wrong_key
        .call::<DescribeVpnConnections>(REGION, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::AuthFailureSignatureFailure));
    assert!(e.code().unwrap().is_auth_failure());
    assert_eq!(e.attempts, 1);
    assert_eq!(e.action, "DescribeVpnConnections");
    assert!(e.request_id.is_some());
    assert!(!e.to_string().contains("not-the-key"));
    let e = wrong_key
        .call::<GetResources>("", &Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::AuthFailureSignatureFailure));

    let e = unknown_id
        .call::<CreateVpnGateway>(
            REGION,
            &CreateVpnGatewayRequest {
                vpc_id: VPC.into(),
                vpn_gateway_name: "x".into(),
                internet_max_bandwidth_out: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::AuthFailureSecretIdNotFound));
    assert_eq!(e.attempts, 1);
    let e = unknown_id
        .call::<TagResources>(
            "",
            &TagResourcesRequest {
                resource_list: vec![format!("qcs::vpc:{REGION}:uin/{UIN}:vpc/{VPC}")],
                tags: vec![TagKv {
                    tag_key: "k".into(),
                    tag_value: "v".into(),
                    category: None,
                }],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::AuthFailureSecretIdNotFound));

    // Nothing was created, and nothing was retried.
    let ok = client(&h);
    assert!(ok
        .describe_vpn_gateways_by_filters(REGION, &[])
        .await
        .unwrap()
        .is_empty());
    let s = h.stats();
    assert_eq!(s.errors_for("AuthFailure.SignatureFailure"), 2);
    assert_eq!(s.errors_for("AuthFailure.SecretIdNotFound"), 2);
    assert_eq!(wrong_key.metrics().total_retries(), 0);
    assert_eq!(unknown_id.metrics().total_retries(), 0);
}

#[tokio::test]
async fn security_token_is_sent_and_checked() {
    let h = start(SandboxConfig {
        credentials: Credentials::new(SECRET_ID, SECRET_KEY, Some("session-token-1".into())),
        ..sandbox_config()
    })
    .await;
    let without = client(&h);
    let e = without
        .call::<DescribeVpcs>(REGION, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::AuthFailureTokenFailure));
    let with = client_with(&h, |c| {
        c.credentials = Credentials::new(SECRET_ID, SECRET_KEY, Some("session-token-1".into()))
    });
    let r = with
        .call::<DescribeVpcs>(REGION, &Default::default())
        .await
        .unwrap();
    assert_eq!(r.total_count, 1);
}

#[tokio::test]
async fn unsupported_region_is_a_typed_error() {
    let h = start(sandbox_config()).await;
    let c = client(&h);
    let e = c
        .call::<DescribeVpcs>("xx-nowhere-1", &Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.code().unwrap().as_str(), "UnsupportedRegion");
    assert_eq!(e.region, "xx-nowhere-1");
}

#[tokio::test]
async fn quotas_answer_limit_exceeded() {
    let h = start(SandboxConfig {
        quotas: Quotas {
            vpn_gateways_per_vpc: 1,
            customer_gateways_per_region: 3,
            tunnels_per_customer_gateway: 1,
            tunnels_per_vpn_gateway: 2,
            spd_per_tunnel: 1,
            cidrs_per_spd: 2,
            vpcs_per_region: 2,
            ..Quotas::default()
        },
        ..sandbox_config()
    })
    .await;
    let c = client(&h);
    let limit = |r: Result<_, ApiError>, what: &str| {
        let e: ApiError = match r {
            Ok(()) => panic!("{what}: expected LimitExceeded"),
            Err(e) => e,
        };
        assert_eq!(e.code(), Some(&ErrorCode::LimitExceeded), "{what}: {e}");
        assert!(e.code().unwrap().is_limit_exceeded());
        assert_eq!(e.attempts, 1, "{what}: a quota error is not retried");
        e
    };

    // vpcs-per-region: the default VPC plus one.
    let vpc2 = c
        .call::<CreateVpc>(
            REGION,
            &CreateVpcRequest {
                vpc_name: "second".into(),
                cidr_block: Some("172.16.0.0/16".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .vpc;
    let e = c
        .call::<CreateVpc>(
            REGION,
            &CreateVpcRequest {
                vpc_name: "third".into(),
                cidr_block: Some("172.17.0.0/16".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code().unwrap().as_str(), "VpcLimitExceeded");

    // vpn-gateways-per-vpc.
    let g1 = ready_gateway(&c, "g1").await;
    let e = limit(
        c.call::<CreateVpnGateway>(
            REGION,
            &CreateVpnGatewayRequest {
                vpc_id: VPC.into(),
                vpn_gateway_name: "g1b".into(),
                internet_max_bandwidth_out: 5,
                ..Default::default()
            },
        )
        .await
        .map(|_| ()),
        "vpn-gateways-per-vpc",
    );
    assert!(e.to_string().contains("VPN gateways"), "{e}");
    let g2 = create_gateway_in(&c, &vpc2.vpc_id, "g2").await;
    let g2 = wait_available(&c, &g2.vpn_gateway_id).await;

    // customer-gateways-per-region.
    let c1 = create_cgw(&c, "c1", "58.211.1.1", None).await;
    let c2 = create_cgw(&c, "c2", "58.211.1.2", None).await;
    let c3 = create_cgw(&c, "c3", "58.211.1.3", None).await;
    limit(
        c.call::<CreateCustomerGateway>(
            REGION,
            &CreateCustomerGatewayRequest {
                customer_gateway_name: "c4".into(),
                ip_address: "58.211.1.4".into(),
                ..Default::default()
            },
        )
        .await
        .map(|_| ()),
        "customer-gateways-per-region",
    );

    // tunnels-per-vpn-gateway (2).
    let g1id = g1.vpn_gateway_id.as_str();
    ready_tunnel(&c, tunnel_req(g1id, &c1.customer_gateway_id, "t1")).await;
    ready_tunnel(&c, tunnel_req(g1id, &c2.customer_gateway_id, "t2")).await;
    let e = limit(
        c.call::<CreateVpnConnection>(REGION, &tunnel_req(g1id, &c3.customer_gateway_id, "t3"))
            .await
            .map(|_| ()),
        "tunnels-per-vpn-gateway",
    );
    assert!(e.to_string().contains(g1id), "{e}");

    // tunnels-per-customer-gateway (1): c1 already has one, on g1.
    let g2id = g2.vpn_gateway_id.as_str();
    let e = limit(
        c.call::<CreateVpnConnection>(REGION, &tunnel_req(g2id, &c1.customer_gateway_id, "t4"))
            .await
            .map(|_| ()),
        "tunnels-per-customer-gateway",
    );
    assert!(e.to_string().contains(&c1.customer_gateway_id), "{e}");

    // spd-per-tunnel (1) and cidrs-per-spd (2).
    limit(
        c.call::<CreateVpnConnection>(
            REGION,
            &CreateVpnConnectionRequest {
                security_policy_databases: Some(vec![
                    spd("172.16.1.0/24", &["192.168.1.0/24"]),
                    spd("172.16.2.0/24", &["192.168.2.0/24"]),
                ]),
                ..tunnel_req(g2id, &c3.customer_gateway_id, "t5")
            },
        )
        .await
        .map(|_| ()),
        "spd-per-tunnel",
    );
    limit(
        c.call::<CreateVpnConnection>(
            REGION,
            &CreateVpnConnectionRequest {
                security_policy_databases: Some(vec![spd(
                    "172.16.1.0/24",
                    &["192.168.1.0/24", "192.168.2.0/24", "192.168.3.0/24"],
                )]),
                ..tunnel_req(g2id, &c3.customer_gateway_id, "t5")
            },
        )
        .await
        .map(|_| ()),
        "cidrs-per-spd",
    );
    ready_tunnel(
        &c,
        CreateVpnConnectionRequest {
            security_policy_databases: Some(vec![spd(
                "172.16.1.0/24",
                &["192.168.1.0/24", "192.168.2.0/24"],
            )]),
            ..tunnel_req(g2id, &c3.customer_gateway_id, "t5")
        },
    )
    .await;

    // The rejected creates left nothing behind.
    let all = c
        .describe_vpn_connections_by_filters(REGION, &[])
        .await
        .unwrap();
    let mut names: Vec<_> = all.iter().map(|t| t.vpn_connection_name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["t1", "t2", "t5"]);
}

#[tokio::test]
async fn one_tunnel_per_gateway_pair() {
    let h = start(sandbox_config()).await;
    let c = client(&h);
    let gw = ready_gateway(&c, "gw").await;
    let cgw = create_cgw(&c, "c", "58.211.1.1", None).await;
    ready_tunnel(
        &c,
        tunnel_req(&gw.vpn_gateway_id, &cgw.customer_gateway_id, "a"),
    )
    .await;
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &tunnel_req(&gw.vpn_gateway_id, &cgw.customer_gateway_id, "b"),
        )
        .await;
    assert_eq!(code(r), ErrorCode::LimitExceeded);
}

#[tokio::test]
async fn validation_rules_answer_their_documented_codes() {
    let h = start(sandbox_config()).await;
    let c = client(&h);
    let gw = ready_gateway(&c, "gw").await;
    let c1 = create_cgw(&c, "c1", "58.211.1.1", None).await;
    let c2 = create_cgw(&c, "c2", "58.211.1.2", None).await;
    let gwid = gw.vpn_gateway_id.as_str();
    let n60 = "n".repeat(60);
    let n61 = "n".repeat(61);

    // Names: at most 60 characters, on every kind of resource.
    let too_long = c
        .call::<CreateVpnConnection>(REGION, &tunnel_req(gwid, &c1.customer_gateway_id, &n61))
        .await
        .unwrap_err();
    assert_eq!(
        too_long.code(),
        Some(&ErrorCode::InvalidParameterValueTooLong)
    );
    assert!(too_long.code().unwrap().is_invalid_request());
    assert_eq!(too_long.attempts, 1);
    let r = c
        .call::<CreateVpnGateway>(
            REGION,
            &CreateVpnGatewayRequest {
                vpc_id: VPC.into(),
                vpn_gateway_name: n61.clone(),
                internet_max_bandwidth_out: 5,
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValueTooLong);
    let r = c
        .call::<CreateCustomerGateway>(
            REGION,
            &CreateCustomerGatewayRequest {
                customer_gateway_name: n61.clone(),
                ip_address: "58.211.1.9".into(),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValueTooLong);
    let r = c
        .call::<CreateVpc>(
            REGION,
            &CreateVpcRequest {
                vpc_name: n61.clone(),
                cidr_block: Some("172.16.0.0/16".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValueTooLong);
    let r = c
        .call::<ModifyVpnGatewayAttribute>(
            REGION,
            &ModifyVpnGatewayAttributeRequest {
                vpn_gateway_id: gwid.into(),
                vpn_gateway_name: Some(n61.clone()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValueTooLong);

    // Duplicate tag keys.
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &CreateVpnConnectionRequest {
                tags: Some(vec![tag("env", "a"), tag("env", "b")]),
                ..tunnel_req(gwid, &c1.customer_gateway_id, "dup")
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValueTagDuplicateKey);
    let r = c
        .call::<CreateCustomerGateway>(
            REGION,
            &CreateCustomerGatewayRequest {
                customer_gateway_name: "dup".into(),
                ip_address: "58.211.1.9".into(),
                tags: Some(vec![tag("k", "1"), tag("k", "2")]),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValueTagDuplicateKey);

    // Value ranges (CreateVpnConnection's page lists no InvalidParameterValue.Range: the common
    // InvalidParameterValue).
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &CreateVpnConnectionRequest {
                ike_options_specification: Some(IKEOptionsSpecification {
                    ike_sa_lifetime_seconds: Some(59),
                    ..Default::default()
                }),
                ..tunnel_req(gwid, &c1.customer_gateway_id, "range")
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValue);
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &CreateVpnConnectionRequest {
                dpd_enable: Some(1),
                dpd_timeout: Some("61".into()),
                ..tunnel_req(gwid, &c1.customer_gateway_id, "range")
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValue);
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &CreateVpnConnectionRequest {
                health_check_config: Some(HealthCheckConfig {
                    probe_threshold: Some(9),
                    ..Default::default()
                }),
                ..tunnel_req(gwid, &c1.customer_gateway_id, "range")
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValue);

    // SPD: remote inside the VPC, local overlapping remote.
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &CreateVpnConnectionRequest {
                security_policy_databases: Some(vec![spd("10.0.1.0/24", &["10.0.200.0/24"])]),
                ..tunnel_req(gwid, &c1.customer_gateway_id, "spd")
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValueVpcCidrConflict);
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &CreateVpnConnectionRequest {
                security_policy_databases: Some(vec![spd("192.168.0.0/16", &["192.168.1.0/24"])]),
                ..tunnel_req(gwid, &c1.customer_gateway_id, "spd")
            },
        )
        .await;
    assert_eq!(
        code(r),
        ErrorCode::InvalidParameterValueVpnConnSpdCidrConflict
    );

    // Health-check address inside the VPC.
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &CreateVpnConnectionRequest {
                health_check_local_ip: Some("10.0.0.5".into()),
                ..tunnel_req(gwid, &c1.customer_gateway_id, "hc")
            },
        )
        .await;
    assert_eq!(
        code(r),
        ErrorCode::InvalidParameterValueVpnConnHealthCheckIpConflict
    );

    // Malformed ids.
    let r = c
        .call::<CreateVpnConnection>(
            REGION,
            &tunnel_req("gateway-1", &c1.customer_gateway_id, "x"),
        )
        .await;
    // CreateVpnConnection's page lists InvalidParameterValue.Malformed, not the gateway actions'
    // InvalidVpnGatewayId.Malformed.
    assert_eq!(code(r), ErrorCode::InvalidParameterValueMalformed);

    // SPD conflict between two tunnels of one gateway: a 60-character name is fine.
    let a = ready_tunnel(
        &c,
        CreateVpnConnectionRequest {
            security_policy_databases: Some(vec![spd("10.0.1.0/24", &["192.168.1.0/24"])]),
            ..tunnel_req(gwid, &c1.customer_gateway_id, &n60)
        },
    )
    .await;
    assert_eq!(a.vpn_connection_name, n60);
    let conflict = CreateVpnConnectionRequest {
        security_policy_databases: Some(vec![spd("10.0.1.0/25", &["192.168.1.128/25"])]),
        ..tunnel_req(gwid, &c2.customer_gateway_id, "b")
    };
    let r = c.call::<CreateVpnConnection>(REGION, &conflict).await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValueVpnConnCidrConflict);
    // Disjoint remote ranges are fine...
    let b = ready_tunnel(
        &c,
        CreateVpnConnectionRequest {
            security_policy_databases: Some(vec![spd("10.0.1.0/25", &["192.168.2.0/24"])]),
            ..tunnel_req(gwid, &c2.customer_gateway_id, "b")
        },
    )
    .await;
    // ...and a modify that would create the conflict is refused too, leaving the tunnel as it was.
    let r = c
        .call::<ModifyVpnConnectionAttribute>(
            REGION,
            &ModifyVpnConnectionAttributeRequest {
                vpn_connection_id: b.vpn_connection_id.clone(),
                security_policy_databases: Some(vec![spd("10.0.1.0/25", &["192.168.1.0/24"])]),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValueVpnConnCidrConflict);
    assert_eq!(
        describe_one(&c, &b.vpn_connection_id)
            .await
            .security_policy_database_set,
        vec![spd("10.0.1.0/25", &["192.168.2.0/24"])]
    );
    let r = c
        .call::<ModifyVpnConnectionAttribute>(
            REGION,
            &ModifyVpnConnectionAttributeRequest {
                vpn_connection_id: b.vpn_connection_id.clone(),
                vpn_connection_name: Some(n61.clone()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValueTooLong);

    // No validation error was retried.
    let m = c.metrics();
    assert_eq!(m.total_retries(), 0);
}

#[tokio::test]
async fn deleting_what_still_has_tunnels_is_refused() {
    let h = start(sandbox_config()).await;
    // ResourceInUse is retried for writes (the server did not act): keep the backoff short here.
    let c = client_with(&h, |c| c.retry = fast_retry());
    let gw = ready_gateway(&c, "gw").await;
    let cgw = create_cgw(&c, "c", "58.211.1.1", None).await;
    let t = ready_tunnel(
        &c,
        tunnel_req(&gw.vpn_gateway_id, &cgw.customer_gateway_id, "t"),
    )
    .await;

    let before = h.stats();
    let e = c
        .call::<DeleteVpnGateway>(
            REGION,
            &DeleteVpnGatewayRequest {
                vpn_gateway_id: gw.vpn_gateway_id.clone(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::ResourceInUse));
    assert!(e.code().unwrap().is_in_use_or_busy());
    let attempts = u64::from(e.attempts);
    assert_eq!(
        h.stats().requests_for("DeleteVpnGateway") - before.requests_for("DeleteVpnGateway"),
        attempts,
        "every attempt reached the sandbox once"
    );
    let r = c
        .call::<DeleteCustomerGateway>(
            REGION,
            &DeleteCustomerGatewayRequest {
                customer_gateway_id: cgw.customer_gateway_id.clone(),
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::ResourceInUse);
    let r = c
        .call::<DeleteVpc>(REGION, &DeleteVpcRequest { vpc_id: VPC.into() })
        .await;
    assert_eq!(code(r), ErrorCode::ResourceInUse);

    // All three are still there.
    assert_eq!(
        c.describe_vpn_gateways_by_ids(REGION, std::slice::from_ref(&gw.vpn_gateway_id))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        c.describe_customer_gateways_by_ids(REGION, std::slice::from_ref(&cgw.customer_gateway_id))
            .await
            .unwrap()[0]
            .vpn_conn_num,
        Some(1)
    );
    describe_one(&c, &t.vpn_connection_id).await;
}

#[tokio::test]
async fn unknown_resources_are_not_found() {
    let h = start(sandbox_config()).await;
    let c = client(&h);
    let gw = ready_gateway(&c, "gw").await;
    let missing_conn = "vpnx-00000000".to_string();

    let e = c
        .call::<ModifyVpnConnectionAttribute>(
            REGION,
            &ModifyVpnConnectionAttributeRequest {
                vpn_connection_id: missing_conn.clone(),
                vpn_connection_name: Some("x".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::ResourceNotFound));
    assert!(e.is_not_found());
    let r = c
        .call::<DeleteVpnConnection>(
            REGION,
            &DeleteVpnConnectionRequest {
                vpn_gateway_id: gw.vpn_gateway_id.clone(),
                vpn_connection_id: missing_conn.clone(),
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::ResourceNotFound);
    let r = c
        .call::<DescribeVpcTaskResult>(
            REGION,
            &DescribeVpcTaskResultRequest {
                task_id: "00000000-0000-4000-8000-000000000000".into(),
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::ResourceNotFound);
    let r = c
        .wait_task(REGION, "00000000-0000-4000-8000-000000000000", fast_wait())
        .await;
    match r {
        Err(WaitError::Api(e)) => assert!(e.is_not_found(), "{e}"),
        other => panic!("{other:?}"),
    }
    let r = c
        .call::<ModifyCustomerGatewayAttribute>(
            REGION,
            &ModifyCustomerGatewayAttributeRequest {
                customer_gateway_id: "cgw-00000000".into(),
                customer_gateway_name: "x".into(),
                bgp_asn: None,
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::ResourceNotFound);
    for r in [
        c.call::<ModifyVpnGatewayAttribute>(
            REGION,
            &ModifyVpnGatewayAttributeRequest {
                vpn_gateway_id: "vpngw-00000000".into(),
                vpn_gateway_name: Some("x".into()),
                ..Default::default()
            },
        )
        .await
        .map(|_| ()),
        c.call::<ResetVpnGatewayInternetMaxBandwidth>(
            REGION,
            &ResetVpnGatewayInternetMaxBandwidthRequest {
                vpn_gateway_id: "vpngw-00000000".into(),
                internet_max_bandwidth_out: 10,
            },
        )
        .await
        .map(|_| ()),
    ] {
        // Neither page lists InvalidVpnGatewayId.NotFound (DescribeVpnGateways' and
        // DeleteVpnGateway's do): the code it refines.
        assert_eq!(code(r), ErrorCode::ResourceNotFound);
    }
    // CreateVpnConnection answers the code its own page lists for a missing gateway.
    let r = c
        .call::<CreateVpnConnection>(REGION, &tunnel_req("vpngw-00000000", "cgw-00000000", "x"))
        .await;
    assert_eq!(code(r), ErrorCode::ResourceNotFound);
    // A gateway of another region is unknown here.
    let r = c
        .call::<DeleteVpnGateway>(
            "ap-shanghai",
            &DeleteVpnGatewayRequest {
                vpn_gateway_id: gw.vpn_gateway_id.clone(),
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidVpnGatewayIdNotFound);

    // Readers: an unknown id is simply absent.
    assert!(c
        .describe_vpn_connections_by_ids(REGION, &[missing_conn])
        .await
        .unwrap()
        .is_empty());
    assert!(c
        .describe_customer_gateways_by_ids(REGION, &["cgw-00000000".to_string()])
        .await
        .unwrap()
        .is_empty());
    // Tag service: unknown resource.
    let r = c
        .call::<TagResources>(
            "",
            &TagResourcesRequest {
                resource_list: vec![format!("qcs::vpc:{REGION}:uin/{UIN}:vpnx/vpnx-00000000")],
                tags: vec![TagKv {
                    tag_key: "k".into(),
                    tag_value: "v".into(),
                    category: None,
                }],
            },
        )
        .await;
    assert_eq!(code(r).as_str(), "InvalidParameterValue.ResourceIdInvalid");
}

// ---------------------------------------------------------------------------------------------------------
// The tag service

#[tokio::test]
async fn tags_through_the_tag_service() {
    let h = start(sandbox_config()).await;
    let c = client(&h);
    assert!(c.config().uin.is_none());
    // Nothing is tagged yet: the uin cannot be learned (and the failure is not cached).
    assert!(matches!(c.uin(REGION).await, Err(UinError::Unknown)));
    let gw = ready_gateway(&c, "gw").await;
    let cgw = create_cgw(&c, "c", "58.211.1.1", None).await;
    let t = ready_tunnel(
        &c,
        CreateVpnConnectionRequest {
            tags: Some(vec![tag("owner", "alice")]),
            ..tunnel_req(&gw.vpn_gateway_id, &cgw.customer_gateway_id, "t")
        },
    )
    .await;

    // The uin is discovered from the tagged tunnel.
    let uin = c.uin(REGION).await.unwrap();
    assert_eq!(uin, UIN);
    let name = |prefix: &str, id: &str| resource_name(REGION, &uin, prefix, id);
    let conn_name = name("vpnx", &t.vpn_connection_id);
    let names = vec![
        conn_name.clone(),
        name("vpngw", &gw.vpn_gateway_id),
        name("cgw", &cgw.customer_gateway_id),
        name("vpc", VPC),
    ];
    let kv = |k: &str, v: &str| TagKv {
        tag_key: k.into(),
        tag_value: v.into(),
        category: None,
    };

    let r = c
        .call::<TagResources>(
            "",
            &TagResourcesRequest {
                resource_list: names.clone(),
                tags: vec![kv("env", "prod"), kv("team", "net")],
            },
        )
        .await
        .unwrap();
    assert!(r.failed_resources.is_empty());
    let d = describe_one(&c, &t.vpn_connection_id).await;
    assert_eq!(
        d.tag_set,
        vec![
            tag("owner", "alice"),
            tag("env", "prod"),
            tag("team", "net")
        ]
    );
    let g = wait_available(&c, &gw.vpn_gateway_id).await;
    assert_eq!(
        g.tag_set,
        Some(vec![tag("env", "prod"), tag("team", "net")])
    );

    // GetResources by tag filter: every tagged resource, named by six segments.
    let found = c
        .get_resources(
            "",
            GetResourcesRequest {
                tag_filters: Some(vec![TagFilter {
                    tag_key: "env".into(),
                    tag_value: Some(vec!["prod".into()]),
                }]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let got: BTreeSet<_> = found.iter().map(|m| m.resource.clone()).collect();
    assert_eq!(got, names.iter().cloned().collect::<BTreeSet<_>>());
    for m in &found {
        let parsed = parse_resource_name(&m.resource).unwrap();
        assert_eq!(parsed.uin, UIN);
        assert!(m.tags.contains(&kv("team", "net")));
    }
    // By resource list.
    let listed = c
        .call::<GetResources>(
            "",
            &GetResourcesRequest {
                resource_list: Some(vec![conn_name.clone()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.resource_tag_mapping_list.len(), 1);
    assert_eq!(listed.resource_tag_mapping_list[0].tags.len(), 3);

    // UnTagResources.
    c.call::<UnTagResources>(
        "",
        &UnTagResourcesRequest {
            resource_list: names.clone(),
            tag_keys: vec!["team".into()],
        },
    )
    .await
    .unwrap();
    let d = describe_one(&c, &t.vpn_connection_id).await;
    assert_eq!(d.tag_set, vec![tag("owner", "alice"), tag("env", "prod")]);

    // ModifyResourceTags: replace one, delete another.
    c.call::<ModifyResourceTags>(
        "",
        &ModifyResourceTagsRequest {
            resource: conn_name.clone(),
            replace_tags: Some(vec![kv("env", "stage"), kv("cost", "42")]),
            delete_tags: Some(vec![TagKeyObject {
                tag_key: "owner".into(),
            }]),
        },
    )
    .await
    .unwrap();
    let d = describe_one(&c, &t.vpn_connection_id).await;
    let tags: BTreeMap<_, _> = d
        .tag_set
        .iter()
        .map(|t| (t.key.as_str(), t.value.as_str()))
        .collect();
    assert_eq!(tags, BTreeMap::from([("cost", "42"), ("env", "stage")]));

    // Errors: duplicate keys, a key both replaced and deleted, a wrong uin.
    let r = c
        .call::<TagResources>(
            "",
            &TagResourcesRequest {
                resource_list: vec![conn_name.clone()],
                tags: vec![kv("a", "1"), kv("a", "2")],
            },
        )
        .await;
    assert_eq!(code(r).as_str(), "InvalidParameter.Tag");
    let r = c
        .call::<ModifyResourceTags>(
            "",
            &ModifyResourceTagsRequest {
                resource: conn_name.clone(),
                replace_tags: Some(vec![kv("env", "x")]),
                delete_tags: Some(vec![TagKeyObject {
                    tag_key: "env".into(),
                }]),
            },
        )
        .await;
    assert_eq!(
        code(r).as_str(),
        "InvalidParameterValue.DeleteTagsParamError"
    );
    let r = c
        .call::<UnTagResources>(
            "",
            &UnTagResourcesRequest {
                resource_list: vec![resource_name(REGION, "999", "vpnx", &t.vpn_connection_id)],
                tag_keys: vec!["env".into()],
            },
        )
        .await;
    assert_eq!(code(r).as_str(), "InvalidParameterValue.UinInvalid");
    // The failed calls changed nothing.
    assert_eq!(
        describe_one(&c, &t.vpn_connection_id).await.tag_set,
        d.tag_set
    );
}

// ---------------------------------------------------------------------------------------------------------
// The task waiter

#[tokio::test]
async fn task_waiter_reports_failed_tasks_with_their_output() {
    let h = start(SandboxConfig {
        task_failure_rate: 1.0,
        ..sandbox_config()
    })
    .await;
    let c = client(&h);
    let gw = ready_gateway(&c, "gw").await;
    let cgw = create_cgw(&c, "c", "58.211.1.1", None).await;
    let created = c
        .call::<CreateVpnConnection>(
            REGION,
            &tunnel_req(&gw.vpn_gateway_id, &cgw.customer_gateway_id, "doomed"),
        )
        .await
        .unwrap();
    let id = created.vpn_connection.vpn_connection_id;
    let outcome = c
        .wait_task(REGION, &created.request_id, fast_wait())
        .await
        .unwrap();
    let TaskOutcome::Failed { output } = &outcome else {
        panic!("expected FAILED, got {outcome:?}");
    };
    assert!(!outcome.is_success());
    assert!(output.contains(&id), "{output}");
    assert!(output.contains("failed"), "{output}");
    // A failed create leaves no tunnel.
    assert!(c
        .describe_vpn_connections_by_ids(REGION, &[id])
        .await
        .unwrap()
        .is_empty());
    let polls = c.metrics().calls_of("DescribeVpcTaskResult");
    assert!(polls >= 1);
    assert_eq!(h.stats().requests_for("DescribeVpcTaskResult"), polls);
}

#[tokio::test]
async fn task_waiter_times_out_on_a_task_that_is_still_running() {
    // Long enough that the single poll below surely sees RUNNING.
    let h = start(SandboxConfig {
        task_latency: Duration::from_millis(500),
        ..sandbox_config()
    })
    .await;
    let c = client(&h);
    let gw = ready_gateway(&c, "gw").await;
    let cgw = create_cgw(&c, "c", "58.211.1.1", None).await;
    let created = c
        .call::<CreateVpnConnection>(
            REGION,
            &tunnel_req(&gw.vpn_gateway_id, &cgw.customer_gateway_id, "t"),
        )
        .await
        .unwrap();
    // A timeout shorter than the first poll's delay: one poll, still RUNNING.
    let r = c
        .wait_task(
            REGION,
            &created.request_id,
            WaitOptions {
                timeout: Duration::from_millis(1),
                initial_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(1),
            },
        )
        .await;
    match r {
        Err(WaitError::Timeout {
            task_id,
            last_status,
            ..
        }) => {
            assert_eq!(task_id, created.request_id);
            assert_eq!(last_status, "RUNNING");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    // Waiting properly afterwards still succeeds.
    let outcome = c
        .wait_task(REGION, &created.request_id, fast_wait())
        .await
        .unwrap();
    assert!(outcome.is_success());
}

// ---------------------------------------------------------------------------------------------------------
// Batched readers, filters and paging

/// 250 tunnels (16 gateways x 16 customer gateways, 6 pairs left out) with raised quotas.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_readers_use_ceil_n_over_100_calls() {
    let mut config = sandbox_config();
    config.quotas.vpn_gateways_per_vpc = 20;
    config.quotas.tunnels_per_vpn_gateway = 1000;
    config.quotas.tunnels_per_customer_gateway = 1000;
    // Creating 250 tunnels at the documented 100/s would take 2.5 s; lift that one limit on both sides.
    config
        .rate_limits
        .per_action
        .insert("CreateVpnConnection".into(), 0);
    let h = start(config).await;
    let c = client_with(&h, |c| {
        c.rate_limits = RateLimits::default().with("CreateVpnConnection", 10_000.0)
    });

    let gws: Vec<VpnGateway> = stream::iter(0..16)
        .map(|i| {
            let c = c.clone();
            async move { create_gateway(&c, &format!("gw-{i}")).await }
        })
        .buffered(16)
        .collect()
        .await;
    let cgws: Vec<CustomerGateway> = stream::iter(0..16)
        .map(|i| {
            let c = c.clone();
            async move {
                create_cgw(
                    &c,
                    &format!("cgw-{i}"),
                    &format!("58.211.2.{}", i + 1),
                    None,
                )
                .await
            }
        })
        .buffered(16)
        .collect()
        .await;
    for g in &gws {
        wait_available(&c, &g.vpn_gateway_id).await;
    }
    let pairs: Vec<(usize, usize)> = (0..16)
        .flat_map(|g| (0..16).map(move |k| (g, k)))
        .take(250)
        .collect();
    let created: Vec<CreateVpnConnectionResponse> = stream::iter(pairs.clone())
        .map(|(g, k)| {
            let c = c.clone();
            let req = CreateVpnConnectionRequest {
                tags: Some(vec![tag("batch", "b1")]),
                ..tunnel_req(
                    &gws[g].vpn_gateway_id,
                    &cgws[k].customer_gateway_id,
                    &format!("t-{g}-{k}"),
                )
            };
            async move { c.call::<CreateVpnConnection>(REGION, &req).await }
        })
        .buffer_unordered(16)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(created.len(), 250);
    let ids: Vec<String> = created
        .iter()
        .map(|r| r.vpn_connection.vpn_connection_id.clone())
        .collect();
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 250);

    // By ids: ceil(250 / 100) = 3 calls, duplicates and an unknown id included.
    let before = c.metrics().calls_of("DescribeVpnConnections");
    let sandbox_before = h.stats().requests_for("DescribeVpnConnections");
    let mut asked = ids.clone();
    asked.extend(ids.iter().take(30).cloned());
    asked.push("vpnx-zzzzzzzz".into());
    let got = c
        .describe_vpn_connections_by_ids(REGION, &asked)
        .await
        .unwrap();
    assert_eq!(
        c.metrics().calls_of("DescribeVpnConnections") - before,
        3,
        "251 distinct ids take 3 calls"
    );
    assert_eq!(
        h.stats().requests_for("DescribeVpnConnections") - sandbox_before,
        3
    );
    let got_ids: BTreeSet<_> = got.iter().map(|t| t.vpn_connection_id.clone()).collect();
    assert_eq!(got_ids, ids.iter().cloned().collect::<BTreeSet<_>>());
    assert!(got.iter().all(|t| t.tag_set == vec![tag("batch", "b1")]));
    assert!(got
        .iter()
        .all(|t| t.pre_share_key.expose() == format!("psk-{}", t.vpn_connection_name)));

    // Exactly 100 ids: one call.
    let before = c.metrics().calls_of("DescribeVpnConnections");
    let hundred = c
        .describe_vpn_connections_by_ids(REGION, &ids[..100])
        .await
        .unwrap();
    assert_eq!(hundred.len(), 100);
    assert_eq!(c.metrics().calls_of("DescribeVpnConnections") - before, 1);

    // By filter with paging: 250 matches, Limit 100 -> 3 pages.
    let before = c.metrics().calls_of("DescribeVpnConnections");
    let all = c
        .describe_vpn_connections_by_filters(REGION, &[filter("vpc-id", &[VPC])])
        .await
        .unwrap();
    assert_eq!(all.len(), 250);
    assert_eq!(
        all.iter()
            .map(|t| t.vpn_connection_id.clone())
            .collect::<BTreeSet<_>>()
            .len(),
        250,
        "pages do not overlap"
    );
    assert_eq!(c.metrics().calls_of("DescribeVpnConnections") - before, 3);

    // A filter with 7 values is split into 5 + 2 (each one page); AND with another filter.
    let seven: Vec<&str> = gws[..7].iter().map(|g| g.vpn_gateway_id.as_str()).collect();
    let before = c.metrics().calls_of("DescribeVpnConnections");
    let on_seven = c
        .describe_vpn_connections_by_filters(REGION, &[filter("vpn-gateway-id", &seven)])
        .await
        .unwrap();
    assert_eq!(on_seven.len(), 7 * 16);
    assert_eq!(c.metrics().calls_of("DescribeVpnConnections") - before, 2);
    let narrowed = c
        .describe_vpn_connections_by_filters(
            REGION,
            &[
                filter("vpn-gateway-id", &seven),
                filter("customer-gateway-id", &[&cgws[3].customer_gateway_id]),
            ],
        )
        .await
        .unwrap();
    assert_eq!(narrowed.len(), 7);
    assert!(narrowed
        .iter()
        .all(|t| t.customer_gateway_id == cgws[3].customer_gateway_id));

    // Raw paging as documented: Limit defaults to 20, at most 100; ids xor filters; at most 100 ids.
    let page = c
        .call::<DescribeVpnConnections>(REGION, &Default::default())
        .await
        .unwrap();
    assert_eq!(page.total_count, 250);
    assert_eq!(page.vpn_connection_set.len(), 20);
    let last = c
        .call::<DescribeVpnConnections>(
            REGION,
            &DescribeVpnConnectionsRequest {
                offset: Some(240),
                limit: Some(100),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(last.vpn_connection_set.len(), 10);
    let r = c
        .call::<DescribeVpnConnections>(
            REGION,
            &DescribeVpnConnectionsRequest {
                limit: Some(101),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(r), ErrorCode::InvalidParameterValueRange);
    let r = c
        .call::<DescribeVpnConnections>(
            REGION,
            &DescribeVpnConnectionsRequest {
                vpn_connection_ids: Some(ids[..1].to_vec()),
                filters: Some(vec![filter("vpc-id", &[VPC])]),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(r).as_str(), "InvalidParameter.Coexist");
    let r = c
        .call::<DescribeVpnConnections>(
            REGION,
            &DescribeVpnConnectionsRequest {
                vpn_connection_ids: Some(ids[..101].to_vec()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(r).as_str(), "InvalidParameterValue.LimitExceeded");
    let r = c
        .call::<DescribeVpnConnections>(
            REGION,
            &DescribeVpnConnectionsRequest {
                filters: Some(vec![filter("no-such-filter", &["x"])]),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code(r).as_str(), "InvalidParameter.FilterInvalidKey");

    // Gateways and customer gateways: ids and filters.
    let gw_ids: Vec<String> = gws.iter().map(|g| g.vpn_gateway_id.clone()).collect();
    let before = c.metrics().calls_of("DescribeVpnGateways");
    assert_eq!(
        c.describe_vpn_gateways_by_ids(REGION, &gw_ids)
            .await
            .unwrap()
            .len(),
        16
    );
    assert_eq!(c.metrics().calls_of("DescribeVpnGateways") - before, 1);
    assert_eq!(
        c.describe_vpn_gateways_by_filters(REGION, &[filter("vpc-id", &[VPC])])
            .await
            .unwrap()
            .len(),
        16
    );
    let cgw_ids: Vec<String> = cgws.iter().map(|g| g.customer_gateway_id.clone()).collect();
    let described = c
        .describe_customer_gateways_by_ids(REGION, &cgw_ids)
        .await
        .unwrap();
    assert_eq!(described.len(), 16);
    let conn_nums: u64 = described.iter().map(|g| g.vpn_conn_num.unwrap()).sum();
    assert_eq!(conn_nums, 250);

    // GetResources follows PaginationToken: 250 tagged tunnels in pages of 200.
    let before = c.metrics().calls_of("GetResources");
    let tagged = c
        .get_resources(
            "",
            GetResourcesRequest {
                tag_filters: Some(vec![TagFilter {
                    tag_key: "batch".into(),
                    tag_value: None,
                }]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(tagged.len(), 250);
    assert_eq!(c.metrics().calls_of("GetResources") - before, 2);

    // The client never hit a server rate limit and agrees with the sandbox on every count.
    let m = c.metrics();
    assert_eq!(m.request_limit_exceeded, 0);
    assert_eq!(m.total_retries(), 0);
    let s = h.stats();
    assert_eq!(s.errors_for("RequestLimitExceeded"), 0);
    for (action, n) in &m.calls {
        assert_eq!(s.requests_for(action), *n, "{action}");
    }
}
