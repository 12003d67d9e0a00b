//! Drift: changes made outside tunnelform (through the API, as the console would) are shown
//! attribute by attribute, with `--detailed-exitcode` 2; a deletion is planned as a create; an
//! object created outside is left alone; `--refresh-only` shows and accepts drift only.

use serde_json::Value as J;
use tunnelform_tencent_api::actions::{
    CreateCustomerGateway, CreateVpnConnection, ModifyCustomerGatewayAttribute, ModifyResourceTags,
    ModifyVpnConnectionAttribute, ModifyVpnGatewayAttribute, ResetVpnGatewayInternetMaxBandwidth,
};
use tunnelform_tencent_api::tag::{ModifyResourceTagsRequest, Tag as TagKv};
use tunnelform_tencent_api::vpc::{
    CreateCustomerGatewayRequest, CreateVpnConnectionRequest, HealthCheckConfig,
    IKEOptionsSpecification, IPSECOptionsSpecification, ModifyCustomerGatewayAttributeRequest,
    ModifyVpnConnectionAttributeRequest, ModifyVpnGatewayAttributeRequest,
    ResetVpnGatewayInternetMaxBandwidthRequest, SecurityPolicyDatabase,
};

use crate::common::{Cloud, Run, SandboxProc, Work};

const REGION: &str = "ap-guangzhou";
const PSK: &str = "drift-key-Qm3vX8pL2sR7wK";
const CONSOLE_PSK: &str = "typed-in-the-console-9fJ2kL";

const GW: &str = "tencentcloud_vpn_gateway.gw";
const CGW: &str = "tencentcloud_vpn_customer_gateway.a";
const TUNNEL: &str = "tencentcloud_vpn_connection.t";

/// A gateway, a customer gateway and a tunnel that sets an attribute of every kind.
fn config(bandwidth: u32) -> String {
    format!(
        r#"
provider "tencentcloud" {{
  region = "ap-guangzhou"
}}

resource "tencentcloud_vpn_gateway" "gw" {{
  name      = "drift-gw"
  vpc_id    = "vpc-sandbox1"
  bandwidth = {bandwidth}
  tags = {{
    team = "net"
  }}
}}

resource "tencentcloud_vpn_customer_gateway" "a" {{
  name              = "cgw-a"
  public_ip_address = "203.0.113.1"
  tags = {{
    site = "a"
  }}
}}

resource "tencentcloud_vpn_connection" "t" {{
  name                = "tunnel-one"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = "{PSK}"
  security_group_policy {{
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.1.0/24", "192.168.2.0/24"]
  }}
  ike_proto_encry_algorithm  = "AES-CBC-256"
  ike_proto_authen_algorithm = "SHA-256"
  ike_dh_group_name          = "GROUP14"
  ike_sa_lifetime_seconds    = 86400
  ipsec_encrypt_algorithm    = "AES-CBC-256"
  ipsec_integrity_algorithm  = "SHA-256"
  ipsec_sa_lifetime_seconds  = 3600
  dpd_enable                 = 1
  dpd_timeout                = 30
  dpd_action                 = "clear"
  negotiation_type           = "active"
  enable_health_check        = true
  health_check_config {{
    probe_interval  = 5000
    probe_threshold = 3
    probe_timeout   = 150
  }}
  tags = {{
    team = "net"
  }}
}}
"#
    )
}

/// The ids of the three objects.
struct Ids {
    gw: String,
    cgw: String,
    tunnel: String,
}

fn conn_req(ids: &Ids) -> ModifyVpnConnectionAttributeRequest {
    ModifyVpnConnectionAttributeRequest {
        vpn_connection_id: ids.tunnel.clone(),
        ..Default::default()
    }
}

fn modify_conn(cloud: &Cloud, req: ModifyVpnConnectionAttributeRequest) {
    cloud.call::<ModifyVpnConnectionAttribute>(REGION, &req);
}

fn set_tag(cloud: &Cloud, id: &str, key: &str, value: &str) {
    cloud.call::<ModifyResourceTags>(
        REGION,
        &ModifyResourceTagsRequest {
            resource: cloud.resource_name(REGION, id),
            replace_tags: Some(vec![TagKv {
                tag_key: key.into(),
                tag_value: value.into(),
                category: None,
            }]),
            delete_tags: None,
        },
    );
}

/// One out-of-band change: what the console does, and what the plan must name.
struct Case {
    what: &'static str,
    address: &'static str,
    attribute: &'static str,
    mutate: fn(&Cloud, &Ids),
    /// Text the drift section must show for it (besides the attribute's name).
    shows: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "a string (the tunnel's name)",
            address: TUNNEL,
            attribute: "name",
            mutate: |c, ids| {
                modify_conn(
                    c,
                    ModifyVpnConnectionAttributeRequest {
                        vpn_connection_name: Some("renamed-in-console".into()),
                        ..conn_req(ids)
                    },
                )
            },
            shows: &[r#""tunnel-one" -> "renamed-in-console""#],
        },
        Case {
            what: "a number (dpd_timeout)",
            address: TUNNEL,
            attribute: "dpd_timeout",
            mutate: |c, ids| {
                modify_conn(
                    c,
                    ModifyVpnConnectionAttributeRequest {
                        dpd_enable: Some(1),
                        dpd_timeout: Some("45".into()),
                        ..conn_req(ids)
                    },
                )
            },
            shows: &["30 -> 45"],
        },
        Case {
            what: "a number in the IKE options (ike_sa_lifetime_seconds)",
            address: TUNNEL,
            attribute: "ike_sa_lifetime_seconds",
            mutate: |c, ids| {
                modify_conn(
                    c,
                    ModifyVpnConnectionAttributeRequest {
                        ike_options_specification: Some(IKEOptionsSpecification {
                            ike_sa_lifetime_seconds: Some(28800),
                            ..Default::default()
                        }),
                        ..conn_req(ids)
                    },
                )
            },
            shows: &["86400 -> 28800"],
        },
        Case {
            what: "a number in the IPsec options (ipsec_sa_lifetime_seconds)",
            address: TUNNEL,
            attribute: "ipsec_sa_lifetime_seconds",
            mutate: |c, ids| {
                modify_conn(
                    c,
                    ModifyVpnConnectionAttributeRequest {
                        ipsec_options_specification: Some(IPSECOptionsSpecification {
                            ipsec_sa_lifetime_seconds: Some(7200),
                            ..Default::default()
                        }),
                        ..conn_req(ids)
                    },
                )
            },
            shows: &["3600 -> 7200"],
        },
        Case {
            what: "an enum in the IKE options (the encryption algorithm)",
            address: TUNNEL,
            attribute: "ike_proto_encry_algorithm",
            mutate: |c, ids| {
                modify_conn(
                    c,
                    ModifyVpnConnectionAttributeRequest {
                        ike_options_specification: Some(IKEOptionsSpecification {
                            propo_encry_algorithm: Some("AES-CBC-128".into()),
                            ..Default::default()
                        }),
                        ..conn_req(ids)
                    },
                )
            },
            shows: &[r#""AES-CBC-256" -> "AES-CBC-128""#],
        },
        Case {
            what: "an enum in the IPsec options (the integrity algorithm)",
            address: TUNNEL,
            attribute: "ipsec_integrity_algorithm",
            mutate: |c, ids| {
                modify_conn(
                    c,
                    ModifyVpnConnectionAttributeRequest {
                        ipsec_options_specification: Some(IPSECOptionsSpecification {
                            integrity_algorith: Some("SHA-512".into()),
                            ..Default::default()
                        }),
                        ..conn_req(ids)
                    },
                )
            },
            shows: &[r#""SHA-256" -> "SHA-512""#],
        },
        Case {
            what: "an enum (the negotiation type)",
            address: TUNNEL,
            attribute: "negotiation_type",
            mutate: |c, ids| {
                modify_conn(
                    c,
                    ModifyVpnConnectionAttributeRequest {
                        negotiation_type: Some("passive".into()),
                        ..conn_req(ids)
                    },
                )
            },
            shows: &[r#""active" -> "passive""#],
        },
        Case {
            what: "a nested block (the health check)",
            address: TUNNEL,
            attribute: "health_check_config",
            mutate: |c, ids| {
                modify_conn(
                    c,
                    ModifyVpnConnectionAttributeRequest {
                        health_check_config: Some(HealthCheckConfig {
                            probe_interval: Some(2000),
                            ..Default::default()
                        }),
                        ..conn_req(ids)
                    },
                )
            },
            shows: &["5000 -> 2000"],
        },
        Case {
            what: "a set of blocks with a list inside (the SPD CIDRs)",
            address: TUNNEL,
            attribute: "security_group_policy",
            mutate: |c, ids| {
                modify_conn(
                    c,
                    ModifyVpnConnectionAttributeRequest {
                        security_policy_databases: Some(vec![SecurityPolicyDatabase {
                            local_cidr_block: "10.0.1.0/24".into(),
                            remote_cidr_block: vec![
                                "192.168.1.0/24".into(),
                                "192.168.2.0/24".into(),
                                "192.168.9.0/24".into(),
                            ],
                        }]),
                        ..conn_req(ids)
                    },
                )
            },
            shows: &[r#"+ "192.168.9.0/24""#],
        },
        Case {
            what: "a map (the tunnel's tags)",
            address: TUNNEL,
            attribute: "tags",
            mutate: |c, ids| set_tag(c, &ids.tunnel, "team", "console"),
            shows: &[r#""net" -> "console""#],
        },
        Case {
            what: "the pre-shared key",
            address: TUNNEL,
            attribute: "pre_share_key",
            mutate: |c, ids| {
                modify_conn(
                    c,
                    ModifyVpnConnectionAttributeRequest {
                        pre_share_key: Some(CONSOLE_PSK.into()),
                        ..conn_req(ids)
                    },
                )
            },
            shows: &["(sensitive value)"],
        },
        Case {
            what: "the gateway's name",
            address: GW,
            attribute: "name",
            mutate: |c, ids| {
                c.call::<ModifyVpnGatewayAttribute>(
                    REGION,
                    &ModifyVpnGatewayAttributeRequest {
                        vpn_gateway_id: ids.gw.clone(),
                        vpn_gateway_name: Some("gw-renamed".into()),
                        ..Default::default()
                    },
                );
            },
            shows: &[r#""drift-gw" -> "gw-renamed""#],
        },
        Case {
            what: "the gateway's tags",
            address: GW,
            attribute: "tags",
            mutate: |c, ids| set_tag(c, &ids.gw, "owner", "someone"),
            shows: &[r#"+ "owner" = "someone""#],
        },
        Case {
            what: "the customer gateway's name",
            address: CGW,
            attribute: "name",
            mutate: |c, ids| {
                c.call::<ModifyCustomerGatewayAttribute>(
                    REGION,
                    &ModifyCustomerGatewayAttributeRequest {
                        customer_gateway_id: ids.cgw.clone(),
                        customer_gateway_name: "cgw-renamed".into(),
                        bgp_asn: None,
                    },
                );
            },
            shows: &[r#""cgw-a" -> "cgw-renamed""#],
        },
        Case {
            what: "the customer gateway's tags",
            address: CGW,
            attribute: "tags",
            mutate: |c, ids| set_tag(c, &ids.cgw, "site", "b"),
            shows: &[r#""a" -> "b""#],
        },
    ]
}

/// The "Objects have changed outside tunnelform" section of a human plan (up to the rule that
/// separates it from the actions).
fn drift_section(out: &str) -> &str {
    let start = out
        .find("Objects have changed outside tunnelform")
        .unwrap_or_else(|| panic!("no drift section in:\n{out}"));
    let rest = &out[start..];
    let end = rest.find("─────").unwrap_or(rest.len());
    &rest[..end]
}

/// The `resource_drift` entry for `address` in a JSON plan.
fn json_drift<'a>(plan: &'a J, address: &str) -> &'a J {
    plan["resource_drift"]
        .as_array()
        .expect("resource_drift is a list")
        .iter()
        .find(|d| d["address"] == address)
        .unwrap_or_else(|| panic!("no drift entry for {address} in {plan:#}"))
}

fn json_of(run: &Run) -> J {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("plan --json is not JSON ({e}):\n{}", run.stdout))
}

fn setup(sb: &SandboxProc) -> (Work, Ids) {
    let w = Work::with_sandbox(sb);
    w.config(&config(5));
    w.apply(&[]).success();
    w.assert_no_changes(&[]);
    let ids = Ids {
        gw: w.state_id(GW),
        cgw: w.state_id(CGW),
        tunnel: w.state_id(TUNNEL),
    };
    (w, ids)
}

#[test]
fn every_kind_of_attribute_changed_outside_is_detected_and_named() {
    let sb = SandboxProc::start(20, &[]);
    let (w, ids) = setup(&sb);
    let cloud = sb.cloud();

    for case in cases() {
        (case.mutate)(&cloud, &ids);
        let ctx = format!("{} ({}.{})", case.what, case.address, case.attribute);

        let plan = w.plan(&["--detailed-exitcode"]);
        assert_eq!(
            plan.code(),
            Some(2),
            "{ctx}: expected exit 2\n{}\n{}",
            plan.stdout,
            plan.stderr
        );
        let section = drift_section(&plan.stdout);
        assert!(
            section.contains(&format!("# {} has changed", case.address)),
            "{ctx}:\n{section}"
        );
        assert!(
            section
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("~ {}", case.attribute))),
            "{ctx}: the attribute is not named in the drift section:\n{section}"
        );
        for s in case.shows {
            assert!(section.contains(s), "{ctx}: {s:?} not in\n{section}");
        }
        // Only the object changed drifted.
        assert_eq!(
            section.matches(" has changed").count(),
            1,
            "{ctx}:\n{section}"
        );
        // And the plan puts the configuration back.
        assert!(
            plan.stdout
                .contains(&format!("# {} will be updated in-place", case.address)),
            "{ctx}:\n{}",
            plan.stdout
        );
        assert!(
            plan.stdout
                .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
            "{ctx}:\n{}",
            plan.stdout
        );

        let json = w.plan(&["--json", "--detailed-exitcode"]);
        json.expect_code(2);
        let doc = json_of(&json);
        assert_eq!(
            doc["resource_drift"].as_array().map(Vec::len),
            Some(1),
            "{ctx}: {doc:#}"
        );
        let d = json_drift(&doc, case.address);
        assert_eq!(
            d["changed_attributes"],
            serde_json::json!([case.attribute]),
            "{ctx}: {d:#}"
        );
        assert_eq!(
            d["change"]["actions"],
            serde_json::json!(["update"]),
            "{ctx}"
        );
        assert_eq!(doc["has_changes"], true, "{ctx}");
        if case.attribute == "pre_share_key" {
            for (out, err) in [(&plan.stdout, &plan.stderr), (&json.stdout, &json.stderr)] {
                for key in [PSK, CONSOLE_PSK] {
                    assert!(
                        !out.contains(key) && !err.contains(key),
                        "{ctx}: a key in clear:\n{out}\n{err}"
                    );
                }
            }
            assert_eq!(d["change"]["after"]["pre_share_key"], J::Null, "{ctx}");
            assert_eq!(
                d["change"]["after_sensitive"]["pre_share_key"], true,
                "{ctx}: {d:#}"
            );
        } else {
            assert_ne!(
                d["change"]["before"][case.attribute], d["change"]["after"][case.attribute],
                "{ctx}: {d:#}"
            );
        }

        // Undo it; the cloud matches the configuration again.
        w.apply(&[]).success();
        w.assert_no_changes(&[]);
    }
    let key = cloud
        .connection(REGION, &ids.tunnel)
        .expect("tunnel")
        .pre_share_key;
    assert_eq!(key.expose(), PSK, "the key was put back");
    // The state never held a key in clear.
    let state = std::fs::read_to_string(w.state_path()).unwrap();
    assert!(!state.contains(PSK) && !state.contains(CONSOLE_PSK));

    // The gateway's bandwidth (a number that can only grow): seen as drift, then the configuration
    // is changed to match it, and the drift is accepted into state.
    cloud.call::<ResetVpnGatewayInternetMaxBandwidth>(
        REGION,
        &ResetVpnGatewayInternetMaxBandwidthRequest {
            vpn_gateway_id: ids.gw.clone(),
            internet_max_bandwidth_out: 10,
        },
    );
    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(2);
    let section = drift_section(&plan.stdout);
    assert!(
        section.contains(&format!("# {GW} has changed")),
        "{section}"
    );
    assert!(
        section.contains("~ bandwidth") && section.contains("5 -> 10"),
        "{section}"
    );
    w.config(&config(10));
    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        plan.stdout
            .contains("No changes. Your infrastructure matches the configuration."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("tunnelform apply --refresh-only"),
        "{}",
        plan.stdout
    );
    w.apply(&["--refresh-only"]).success();
    w.assert_no_changes(&[]);
}

#[test]
fn deleted_outside_is_planned_as_a_create_and_created_outside_is_left_alone() {
    let sb = SandboxProc::start(20, &[]);
    let (w, ids) = setup(&sb);
    let cloud = sb.cloud();

    // A tunnel made in the console, on the same gateway, to another customer gateway.
    let other_cgw = cloud
        .call::<CreateCustomerGateway>(
            REGION,
            &CreateCustomerGatewayRequest {
                customer_gateway_name: "made-by-hand".into(),
                ip_address: "203.0.113.77".into(),
                tags: None,
                ..Default::default()
            },
        )
        .customer_gateway
        .customer_gateway_id;
    let r = cloud.call::<CreateVpnConnection>(
        REGION,
        &CreateVpnConnectionRequest {
            vpn_gateway_id: ids.gw.clone(),
            customer_gateway_id: other_cgw.clone(),
            vpn_connection_name: "made-by-hand".into(),
            pre_share_key: "hand-made-key-1234567".into(),
            vpc_id: Some("vpc-sandbox1".into()),
            security_policy_databases: Some(vec![SecurityPolicyDatabase {
                local_cidr_block: "10.0.7.0/24".into(),
                remote_cidr_block: vec!["192.168.7.0/24".into()],
            }]),
            ..Default::default()
        },
    );
    cloud.wait_task(REGION, &r.request_id);
    let hand_made = cloud
        .connections(REGION)
        .into_iter()
        .find(|c| c.vpn_connection_name == "made-by-hand")
        .expect("the hand-made tunnel exists")
        .vpn_connection_id;

    // Not tunnelform's: not in the plan at all.
    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(0);
    assert!(
        !plan.stdout.contains(&hand_made) && !plan.stdout.contains(&other_cgw),
        "{}",
        plan.stdout
    );
    let json = w.plan(&["--json"]);
    json.success();
    assert!(!json.stdout.contains(&hand_made), "{}", json.stdout);

    // Deleted in the console: drift, and a create.
    cloud.delete_connection(REGION, &ids.gw, &ids.tunnel);
    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(2);
    let section = drift_section(&plan.stdout);
    assert!(
        section.contains(&format!("# {TUNNEL} has been deleted")),
        "{section}"
    );
    assert!(
        plan.stdout.contains(&format!("# {TUNNEL} will be created")),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("# (because it was deleted outside tunnelform)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains(&hand_made), "{}", plan.stdout);
    let doc = json_of(&w.plan(&["--json"]));
    let d = json_drift(&doc, TUNNEL);
    assert_eq!(d["change"]["actions"], serde_json::json!(["delete"]));
    assert_eq!(d["change"]["after"], J::Null);
    let c = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == TUNNEL)
        .expect("a change for the tunnel");
    assert_eq!(c["change"]["actions"], serde_json::json!(["create"]));

    w.apply(&[]).success();
    let new = w.state_id(TUNNEL);
    assert_ne!(new, ids.tunnel);
    let mut want = vec![new, hand_made.clone()];
    want.sort();
    assert_eq!(
        cloud.connection_ids(REGION),
        want,
        "the hand-made tunnel is still there, untouched"
    );
    assert_eq!(
        cloud
            .connection(REGION, &hand_made)
            .expect("hand-made tunnel")
            .vpn_connection_name,
        "made-by-hand"
    );
    w.assert_no_changes(&[]);
}

#[test]
fn refresh_only_shows_drift_only_and_accepts_it_without_touching_the_cloud() {
    let sb = SandboxProc::start(20, &[]);
    let (w, ids) = setup(&sb);
    let cloud = sb.cloud();

    modify_conn(
        &cloud,
        ModifyVpnConnectionAttributeRequest {
            vpn_connection_name: Some("renamed-in-console".into()),
            pre_share_key: Some(CONSOLE_PSK.into()),
            dpd_enable: Some(1),
            dpd_timeout: Some("50".into()),
            ..conn_req(&ids)
        },
    );
    set_tag(&cloud, &ids.tunnel, "team", "console");
    set_tag(&cloud, &ids.cgw, "site", "moved");

    // A refresh-only plan: the drift, no action.
    let plan = w.plan(&["--refresh-only", "--detailed-exitcode"]);
    plan.expect_code(2);
    let out = &plan.stdout;
    let section = drift_section(out);
    for needle in [
        &format!("# {TUNNEL} has changed"),
        &format!("# {CGW} has changed"),
        r#""tunnel-one" -> "renamed-in-console""#,
        "30 -> 50",
        "~ pre_share_key",
        "(sensitive value)",
    ] {
        assert!(section.contains(needle), "{needle:?} not in\n{section}");
    }
    assert!(out.contains("This is a refresh-only plan"), "{out}");
    assert!(!out.contains("will perform the following actions"), "{out}");
    assert!(!out.contains("will be updated in-place"), "{out}");
    assert!(!out.contains("Plan:"), "{out}");
    assert!(!out.contains(CONSOLE_PSK) && !out.contains(PSK), "{out}");
    let doc = json_of(&w.plan(&["--refresh-only", "--json"]));
    assert_eq!(doc["refresh_only"], true);
    assert_eq!(doc["resource_changes"], serde_json::json!([]));
    assert_eq!(doc["resource_drift"].as_array().map(Vec::len), Some(2));
    let mut changed: Vec<String> = json_drift(&doc, TUNNEL)["changed_attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    changed.sort();
    assert_eq!(
        changed,
        vec!["dpd_timeout", "name", "pre_share_key", "tags"],
        "{doc:#}"
    );
    assert_eq!(
        doc["summary"],
        serde_json::json!({"add": 0, "change": 0, "destroy": 0, "import": 0})
    );

    // Accepting it changes the state, never the cloud.
    let writes = sb.write_request_count();
    let serial = w.state()["serial"].as_u64().expect("serial");
    let apply = w.apply(&["--refresh-only"]);
    apply.success();
    assert_eq!(
        sb.write_request_count(),
        writes,
        "apply --refresh-only wrote to the cloud:\n{}",
        apply.stdout
    );
    assert!(
        w.state()["serial"].as_u64().expect("serial") > serial,
        "the state was not saved"
    );
    let t = cloud.connection(REGION, &ids.tunnel).expect("tunnel");
    assert_eq!(t.vpn_connection_name, "renamed-in-console");
    assert_eq!(t.pre_share_key.expose(), CONSOLE_PSK);
    let state_text = std::fs::read_to_string(w.state_path()).unwrap();
    assert!(!state_text.contains(CONSOLE_PSK) && !state_text.contains(PSK));
    let st = w.state();
    let rs = &st["resources"][TUNNEL];
    assert_eq!(rs["attributes"]["name"], "renamed-in-console", "{rs:#}");
    assert_eq!(rs["id"], ids.tunnel.as_str());

    // The state now matches the cloud: no drift left (the new key's digest included).
    let again = w.plan(&["--refresh-only", "--detailed-exitcode"]);
    again.expect_code(0);
    assert!(
        again
            .stdout
            .contains("No changes. Your infrastructure still matches the configuration."),
        "{}",
        again.stdout
    );

    // A normal plan now shows, without drift, what puts the configuration back.
    let plan = w.plan(&["--detailed-exitcode"]);
    plan.expect_code(2);
    let out = &plan.stdout;
    assert!(
        !out.contains("Objects have changed outside tunnelform"),
        "{out}"
    );
    assert!(
        out.contains(&format!("# {TUNNEL} will be updated in-place")),
        "{out}"
    );
    assert!(
        out.contains(&format!("# {CGW} will be updated in-place")),
        "{out}"
    );
    for needle in [
        r#""renamed-in-console" -> "tunnel-one""#,
        "50 -> 30",
        r#""console" -> "net""#,
        r#""moved" -> "a""#,
        "~ pre_share_key",
    ] {
        assert!(out.contains(needle), "{needle:?} not in\n{out}");
    }
    assert!(
        out.contains("Plan: 0 to add, 2 to change, 0 to destroy."),
        "{out}"
    );
    w.apply(&[]).success();
    assert_eq!(
        cloud
            .connection(REGION, &ids.tunnel)
            .expect("tunnel")
            .pre_share_key
            .expose(),
        PSK
    );
    w.assert_no_changes(&[]);
}
