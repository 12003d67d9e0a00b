//! Migration of a hand-written Terraform v4 state (tests/fixtures) made by the Tencent Cloud provider.

use tunnelform_model::Map;

use tunnelform_kinds::ResourceKind;
use tunnelform_model::{Address, Value};
use tunnelform_state::{
    migrate_terraform, migrate_terraform_with, MigrateError, MigrateOptions, Origin, State,
    StateFile,
};

const FIXTURE: &str = include_str!("fixtures/terraform-v4-tencentcloud-vpn.tfstate");
const KEYS: [&str; 4] = [
    "Bj-7hZ!q2LmX9pR4sV8tW1yA3nK6",
    "shanghai-Qw3rTy-8uI9oP0aS1dF2g",
    "bgp-backup-0-Zx8cV7bN6mL5kJ4h",
    "bgp-backup-1-Qa1Ws2Ed3Rf4Tg5Y",
];

fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

#[test]
fn fixture_migrates_the_vpn_resources_with_their_keys() {
    let (state, warnings) = migrate_terraform(FIXTURE).unwrap();
    let addresses: Vec<String> = state.resources.keys().map(|a| a.to_string()).collect();
    let mut expected = vec![
        "tencentcloud_vpn_gateway.main",
        "tencentcloud_vpn_gateway.hk",
        "tencentcloud_vpn_customer_gateway.site[\"beijing\"]",
        "tencentcloud_vpn_customer_gateway.site[\"shanghai\"]",
        "tencentcloud_vpn_customer_gateway.backup[0]",
        "tencentcloud_vpn_customer_gateway.backup[1]",
        "tencentcloud_vpn_connection.site[\"beijing\"]",
        "tencentcloud_vpn_connection.site[\"shanghai\"]",
        "tencentcloud_vpn_connection.backup[0]",
        "tencentcloud_vpn_connection.backup[1]",
        "module.legacy.tencentcloud_vpn_gateway.old",
    ];
    expected.sort_by_key(|s| addr(s));
    assert_eq!(addresses, expected);
    for r in state.resources.values() {
        assert_eq!(r.origin, Origin::Migrated);
        assert!(r.kind().is_some());
    }

    // Skipped, each with a warning naming it.
    let text: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
    for skipped in [
        "tencentcloud_vpc.main",
        "data.tencentcloud_vpc_instances.main",
    ] {
        assert!(
            text.iter().any(|w| w.starts_with(skipped)),
            "no warning for {skipped}: {text:#?}"
        );
    }
    assert!(text.iter().any(|w| w.contains("output")), "{text:#?}");
    assert!(text
        .iter()
        .any(|w| w.starts_with("tencentcloud_vpn_connection.backup[1]") && w.contains("tainted")));

    // Keys: digests only, matching the originals.
    for (a, key) in [
        ("tencentcloud_vpn_connection.site[\"beijing\"]", KEYS[0]),
        ("tencentcloud_vpn_connection.site[\"shanghai\"]", KEYS[1]),
        ("tencentcloud_vpn_connection.backup[0]", KEYS[2]),
        ("tencentcloud_vpn_connection.backup[1]", KEYS[3]),
    ] {
        let r = &state.resources[&addr(a)];
        assert!(!r.attributes.contains_key("pre_share_key"), "{a}");
        assert!(r.secret_digests["pre_share_key"].matches(key), "{a}");
        for other in KEYS.iter().filter(|k| **k != key) {
            assert!(!r.secret_digests["pre_share_key"].matches(other));
        }
    }
    let bytes = state.to_json_bytes().unwrap();
    let written = String::from_utf8(bytes).unwrap();
    for key in KEYS {
        assert!(
            !written.contains(key),
            "a key is in clear in the migrated state"
        );
    }
    assert!(!format!("{state:?}").contains(KEYS[0]));
}

#[test]
fn resources_in_modules_keep_their_module_path() {
    let (state, warnings) = migrate_terraform(FIXTURE).unwrap();
    let old = &state.resources[&addr("module.legacy.tencentcloud_vpn_gateway.old")];
    assert_eq!(old.id, "vpngw-old1old2");
    assert_eq!(old.region, "ap-guangzhou", "from its zone");
    assert!(!state
        .resources
        .contains_key(&addr("tencentcloud_vpn_gateway.old")));
    assert!(!warnings
        .iter()
        .any(|w| w.to_string().starts_with("module.legacy")));

    // Keys of module instances, nested modules and dependencies inside a module.
    let nested = r#"{"version": 4, "terraform_version": "1.6.0", "serial": 1, "lineage": "x", "outputs": {}, "resources": [
      {"module": "module.site[\"sh\"]", "mode": "managed", "type": "tencentcloud_vpn_gateway", "name": "gw",
       "provider": "provider[\"registry.terraform.io/tencentcloudstack/tencentcloud\"]",
       "instances": [{"schema_version": 0, "attributes": {"id": "vpngw-aaaaaaaa", "name": "sh", "bandwidth": 5, "vpc_id": "vpc-1", "zone": "ap-shanghai-2"}}]},
      {"module": "module.site[\"sh\"].module.edge[0]", "mode": "managed", "type": "tencentcloud_vpn_gateway", "name": "gw",
       "provider": "provider[\"registry.terraform.io/tencentcloudstack/tencentcloud\"]",
       "instances": [{"schema_version": 0, "attributes": {"id": "vpngw-bbbbbbbb", "name": "edge", "bandwidth": 5, "vpc_id": "vpc-1", "zone": "ap-shanghai-2"},
                      "dependencies": ["module.site[\"sh\"].tencentcloud_vpn_gateway.gw"]}]}
    ]}"#;
    let (state, _) = migrate_terraform(nested).unwrap();
    let keys: Vec<String> = state.resources.keys().map(|a| a.to_string()).collect();
    assert_eq!(
        keys,
        [
            "module.site[\"sh\"].tencentcloud_vpn_gateway.gw",
            "module.site[\"sh\"].module.edge[0].tencentcloud_vpn_gateway.gw",
        ]
    );
    let edge =
        &state.resources[&addr("module.site[\"sh\"].module.edge[0].tencentcloud_vpn_gateway.gw")];
    let deps: Vec<String> = edge.dependencies.iter().map(|d| d.to_string()).collect();
    assert_eq!(deps, ["module.site[\"sh\"].tencentcloud_vpn_gateway.gw"]);

    let bad = nested.replace("module.site[\\\"sh\\\"].module.edge[0]", "modul.edge");
    assert!(bad.contains("modul.edge"));
    match migrate_terraform(&bad) {
        Err(MigrateError::BadInstance { detail, .. }) => {
            assert!(detail.contains("module path"), "{detail}")
        }
        other => panic!("expected a bad module path error, got {other:?}"),
    }
}

#[test]
fn attributes_are_in_tunnelform_form() {
    let (state, _) = migrate_terraform(FIXTURE).unwrap();
    let bj = &state.resources[&addr("tencentcloud_vpn_connection.site[\"beijing\"]")];
    assert_eq!(bj.id, "vpnx-bj4t6y8u");
    assert_eq!(bj.region, "ap-guangzhou", "from its gateway's zone");
    assert_eq!(bj.provider_alias, None);
    // A single block from a one-element list; an empty list is absent.
    let hc = bj.attributes["health_check_config"].as_map().unwrap();
    assert_eq!(hc["probe_interval"], Value::int(5000));
    assert_eq!(hc["probe_type"], Value::from("NQA"));
    assert!(!bj.attributes.contains_key("bgp_config"));
    // Numbers the provider keeps as strings become numbers.
    assert_eq!(bj.attributes["dpd_timeout"], Value::int(30));
    assert_eq!(bj.attributes["ike_sa_lifetime_seconds"], Value::int(86400));
    assert_eq!(bj.attributes["enable_health_check"], Value::Bool(true));
    // SPD: a list of objects with a list of remote blocks.
    let spd = bj.attributes["security_group_policy"].as_list().unwrap();
    assert_eq!(spd.len(), 1);
    assert_eq!(
        spd[0].get("local_cidr_block"),
        Some(&Value::from("10.0.0.0/16"))
    );
    assert_eq!(
        spd[0].get("remote_cidr_block"),
        Some(&Value::List(vec![
            "192.168.10.0/24".into(),
            "192.168.11.0/24".into()
        ]))
    );
    let tags: Map = [
        ("site".to_string(), Value::from("beijing")),
        ("team".to_string(), Value::from("netops")),
    ]
    .into();
    assert_eq!(bj.attributes["tags"], Value::Map(tags));
    // Read-only attributes are kept as the last known remote values.
    assert_eq!(bj.attributes["state"], Value::from("AVAILABLE"));
    assert_eq!(bj.attributes["ike_local_fqdn_name"], Value::from(""));
    // Dependencies expanded to instances; the VPC (not migrated) dropped.
    let deps: Vec<String> = bj.dependencies.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        deps,
        [
            "tencentcloud_vpn_customer_gateway.site[\"beijing\"]",
            "tencentcloud_vpn_customer_gateway.site[\"shanghai\"]",
            "tencentcloud_vpn_gateway.main",
        ]
    );

    let sh = &state.resources[&addr("tencentcloud_vpn_connection.site[\"shanghai\"]")];
    assert_eq!(
        sh.attributes["security_group_policy"]
            .as_list()
            .unwrap()
            .len(),
        2
    );
    assert!(!sh.attributes.contains_key("health_check_config"));
    assert_eq!(sh.attributes["dpd_timeout"], Value::int(45));

    let b0 = &state.resources[&addr("tencentcloud_vpn_connection.backup[0]")];
    let bgp = b0.attributes["bgp_config"].as_map().unwrap();
    assert_eq!(bgp["tunnel_cidr"], Value::from("169.254.128.0/30"));
    assert_eq!(b0.provider_alias.as_deref(), Some("hk"));
    assert_eq!(b0.region, "ap-hongkong");
    assert!(!b0.attributes.contains_key("tags"), "empty tags are absent");
    assert!(
        !b0.attributes.contains_key("security_group_policy"),
        "empty SPD is absent"
    );
    assert!(!b0.tainted);
    assert!(state.resources[&addr("tencentcloud_vpn_connection.backup[1]")].tainted);

    let hk = &state.resources[&addr("tencentcloud_vpn_gateway.hk")];
    assert!(hk.create_before_destroy);
    assert_eq!(hk.region, "ap-hongkong");
    assert_eq!(hk.attributes["bgp_asn"], Value::int(64551));
    let main = &state.resources[&addr("tencentcloud_vpn_gateway.main")];
    assert!(
        main.dependencies.is_empty(),
        "only a dependency on the VPC, which is not migrated"
    );
    assert_eq!(main.attributes["zone"], Value::from("ap-guangzhou-3"));

    // Customer gateways get their region from the tunnels that use them.
    assert_eq!(
        state.resources[&addr("tencentcloud_vpn_customer_gateway.backup[1]")].region,
        "ap-hongkong"
    );
    assert_eq!(
        state.resources[&addr("tencentcloud_vpn_customer_gateway.site[\"beijing\"]")].region,
        "ap-guangzhou"
    );
    assert!(
        !state.resources[&addr("tencentcloud_vpn_customer_gateway.backup[0]")]
            .attributes
            .contains_key("tags")
    );
    assert_eq!(
        state.resources[&addr("tencentcloud_vpn_customer_gateway.backup[0]")].kind(),
        Some(ResourceKind::CustomerGateway)
    );
}

#[test]
fn migrated_state_saves_and_loads() {
    let (mut state, _) = migrate_terraform(FIXTURE).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = StateFile::open(dir.path().join("migrated.tfstate.json")).unwrap();
    file.save(&mut state).unwrap();
    let loaded = file.load().unwrap();
    assert_eq!(loaded, state);
    let bytes = std::fs::read(file.path()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    for key in KEYS {
        assert!(!text.contains(key));
    }
}

#[test]
fn options_supply_regions_the_state_does_not_have() {
    // Without zones, nothing can be inferred: the region is left empty, with a warning.
    let mut doc: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    for res in doc["resources"].as_array_mut().unwrap() {
        for inst in res["instances"].as_array_mut().unwrap() {
            inst["attributes"].as_object_mut().unwrap().remove("zone");
        }
    }
    let json = doc.to_string();
    let (state, warnings) = migrate_terraform(&json).unwrap();
    assert!(state.resources.values().all(|r| r.region.is_empty()));
    assert!(warnings.iter().any(|w| w.message.contains("region")));

    let options = MigrateOptions {
        region_by_alias: [("hk".to_string(), "ap-hongkong".to_string())].into(),
        default_region: Some("ap-guangzhou".into()),
    };
    let (state, warnings) = migrate_terraform_with(&json, &options).unwrap();
    assert_eq!(
        state.resources[&addr("tencentcloud_vpn_connection.backup[0]")].region,
        "ap-hongkong"
    );
    assert_eq!(
        state.resources[&addr("tencentcloud_vpn_gateway.main")].region,
        "ap-guangzhou"
    );
    assert!(!warnings.iter().any(|w| w.message.contains("region")));
}

#[test]
fn unknown_attributes_are_dropped_with_a_warning() {
    let mut doc: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    let res = doc["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["name"] == "main" && r["type"] == "tencentcloud_vpn_gateway")
        .unwrap();
    res["instances"][0]["attributes"]["brand_new_field"] = serde_json::json!("x");
    res["instances"][0]["attributes"]["timeouts"] = serde_json::Value::Null;
    let (state, warnings) = migrate_terraform(&doc.to_string()).unwrap();
    assert!(!state.resources[&addr("tencentcloud_vpn_gateway.main")]
        .attributes
        .contains_key("brand_new_field"));
    let w: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
    assert!(w.iter().any(|w| w.contains("brand_new_field")), "{w:#?}");
    assert!(
        !w.iter().any(|w| w.contains("timeouts")),
        "null attributes are silently absent"
    );
}

#[test]
fn refuses_what_it_cannot_migrate() {
    assert!(matches!(
        migrate_terraform("{ nope").unwrap_err(),
        MigrateError::Syntax { .. }
    ));
    assert!(matches!(
        migrate_terraform("[]").unwrap_err(),
        MigrateError::NotTerraform { .. }
    ));
    let v3 = r#"{"version": 3, "terraform_version": "0.11.14", "serial": 1, "modules": []}"#;
    let err = migrate_terraform(v3).unwrap_err();
    assert!(
        matches!(err, MigrateError::UnsupportedVersion { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("only version 4"));
    let ours = String::from_utf8(State::new().to_json_bytes().unwrap()).unwrap();
    assert!(matches!(
        migrate_terraform(&ours).unwrap_err(),
        MigrateError::AlreadyTunnelform
    ));

    let mut doc: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    let res = doc["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["name"] == "site" && r["type"] == "tencentcloud_vpn_connection")
        .unwrap();
    res["instances"][0]["attributes"]["ike_sa_lifetime_seconds"] = serde_json::json!("a day");
    let err = migrate_terraform(&doc.to_string()).unwrap_err();
    assert!(
        err.to_string().contains(
            "tencentcloud_vpn_connection.site[\"beijing\"]: attribute ike_sa_lifetime_seconds"
        ),
        "{err}"
    );
    // The key never appears in an error.
    assert!(!err.to_string().contains(KEYS[0]));

    let mut doc: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    let res = doc["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["name"] == "site" && r["type"] == "tencentcloud_vpn_connection")
        .unwrap();
    res["instances"][1]["index_key"] = serde_json::json!("beijing");
    assert!(matches!(
        migrate_terraform(&doc.to_string()).unwrap_err(),
        MigrateError::DuplicateAddress { .. }
    ));
}

#[test]
fn empty_terraform_state_gives_an_empty_state() {
    let (state, warnings) =
        migrate_terraform(r#"{"version":4,"terraform_version":"1.6.0","serial":1,"lineage":"x","outputs":{},"resources":[]}"#).unwrap();
    assert!(state.is_empty());
    assert!(warnings.is_empty());
}
