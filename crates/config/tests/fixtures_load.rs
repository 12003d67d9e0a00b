//! The fixtures load unchanged and expand to the expected instances.

use crate::common;

use common::*;
use tunnelform_config::{Config, InstanceKind, NoLookup, VarArg, VarInputs};
use tunnelform_kinds::ResourceKind;
use tunnelform_model::{InstanceKey, Value};

#[test]
fn provider_documented_examples_load_unchanged() {
    let (cfg, warnings) = Config::load(&fixture("provider_examples"), &VarInputs::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(warnings.is_empty(), "{warnings}");
    let order: Vec<String> = cfg
        .block_order()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    for a in [
        "tencentcloud_vpn_gateway.ssl",
        "tencentcloud_vpn_gateway.ccn",
        "tencentcloud_vpn_gateway.postpaid",
        "tencentcloud_vpn_gateway.prepaid",
        "tencentcloud_vpn_customer_gateway.example",
        "tencentcloud_vpn_connection.foo",
        "tencentcloud_vpn_connection.example",
        "data.tencentcloud_vpn_gateways.foo",
        "data.tencentcloud_vpn_customer_gateways.all",
        "data.tencentcloud_vpc_instances.example",
    ] {
        assert!(order.contains(&a.to_string()), "{a} missing from {order:?}");
    }
    let pos = |a: &str| order.iter().position(|x| x == a).unwrap();
    assert!(
        pos("data.tencentcloud_vpc_instances.example") < pos("tencentcloud_vpn_connection.example")
    );
    assert!(pos("tencentcloud_vpn_gateway.postpaid") < pos("tencentcloud_vpn_connection.example"));
    assert!(
        pos("tencentcloud_vpn_customer_gateway.example")
            < pos("tencentcloud_vpn_connection.example")
    );

    let deps = cfg.block_dependencies(&addr("tencentcloud_vpn_connection.example"));
    let deps: Vec<String> = deps.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        deps,
        [
            "tencentcloud_vpn_customer_gateway.example",
            "tencentcloud_vpn_gateway.postpaid",
            "data.tencentcloud_vpc_instances.example",
        ]
    );

    for a in cfg.block_order().unwrap() {
        let inst = cfg
            .expand_block(&a, &NoLookup)
            .unwrap_or_else(|e| panic!("{a}: {e}"));
        assert_eq!(inst.len(), 1, "{a}");
    }
    let foo = cfg
        .expand_block(&addr("tencentcloud_vpn_connection.foo"), &NoLookup)
        .unwrap()
        .remove(0);
    assert_eq!(foo.kind, InstanceKind::Managed(ResourceKind::VpnConnection));
    assert!(
        foo.attrs["pre_share_key"].is_sensitive(),
        "the key is always sensitive"
    );
    assert_eq!(foo.attrs["ike_sa_lifetime_seconds"], Value::int(86401));
    assert_eq!(
        foo.attrs["security_group_policy"],
        list(vec![map(vec![
            ("local_cidr_block", s("172.16.0.0/16")),
            ("remote_cidr_block", list(vec![s("2.2.2.0/26")])),
        ])])
    );
    assert_eq!(foo.attrs["tags"], map(vec![("test", s("testt"))]));
    assert!(
        !foo.attrs.contains_key("route_type"),
        "defaults are not filled in"
    );
    assert_eq!(foo.provider.region, "ap-guangzhou");
    let span = foo
        .attr_spans
        .get("security_group_policy.0.remote_cidr_block")
        .expect("the nested argument's span");
    assert_eq!((span.line, span.column), (24, 25));

    let ex = cfg
        .expand_block(&addr("tencentcloud_vpn_connection.example"), &NoLookup)
        .unwrap()
        .remove(0);
    assert_eq!(ex.attrs["vpc_id"], Value::Unknown);
    assert_eq!(
        ex.attrs["dpd_timeout"],
        Value::int(30),
        "string converted to number"
    );
    assert_eq!(
        ex.attrs["ipsec_sa_lifetime_traffic"],
        Value::int(4096000000)
    );
    assert_eq!(
        ex.attrs["health_check_config"].get("probe_interval"),
        Some(&Value::int(5000))
    );
    assert_eq!(ex.attrs["enable_health_check"], Value::Bool(true));
}

#[test]
fn quickstart_loads_and_expands() {
    let (cfg, warnings) = Config::load(&fixture("quickstart"), &VarInputs::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(warnings.is_empty(), "{warnings}");
    assert_eq!(
        cfg.backend_path(),
        Some(fixture("quickstart").join("state/quickstart.tfstate.json"))
    );
    assert_eq!(cfg.providers().len(), 1);
    assert_eq!(cfg.providers()[0].region, "ap-guangzhou");
    assert_eq!(
        cfg.sensitive_values(),
        vec!["quickstart-shared-secret".to_string()]
    );

    let gw = cfg
        .expand_block(&addr("tencentcloud_vpn_gateway.main"), &NoLookup)
        .unwrap()
        .remove(0);
    assert_eq!(gw.attrs["zone"], s("ap-guangzhou-3"));
    assert_eq!(
        gw.attrs["tags"],
        map(vec![
            ("owner", s("network-team")),
            ("project", s("quickstart")),
            ("role", s("gateway"))
        ])
    );
    let sh = cfg
        .expand_block(&addr("tencentcloud_vpn_connection.shanghai"), &NoLookup)
        .unwrap()
        .remove(0);
    assert!(sh.lifecycle.create_before_destroy);
    assert!(sh.lifecycle.ignores("tags"));
    assert!(!sh.lifecycle.ignores("name"));
    assert_eq!(sh.attrs["vpn_gateway_id"], Value::Unknown);
    assert_eq!(
        sh.attrs["pre_share_key"],
        Value::sensitive(s("quickstart-shared-secret"))
    );
    let deps: Vec<String> = sh.depends_on.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        deps,
        [
            "tencentcloud_vpn_customer_gateway.shanghai",
            "tencentcloud_vpn_gateway.main"
        ]
    );

    // With the gateway known, its id flows into the tunnels.
    let lookup = |a: &tunnelform_model::Address| match a.to_string().as_str() {
        "tencentcloud_vpn_gateway.main" => Some(map(vec![
            ("id", s("vpngw-1")),
            ("public_ip_address", s("1.2.3.4")),
        ])),
        _ => None,
    };
    let sh = cfg
        .eval_instance(&addr("tencentcloud_vpn_connection.shanghai"), &lookup)
        .unwrap();
    assert_eq!(sh.attrs["vpn_gateway_id"], s("vpngw-1"));
    let outs = cfg.outputs(&lookup).unwrap();
    assert_eq!(outs[0].name, "gateway_public_ip");
    assert_eq!(outs[0].value, s("1.2.3.4"));
    assert_eq!(
        outs[0].description.as_deref(),
        Some("Give this address to the offices.")
    );
    assert_eq!(
        outs[1].value,
        map(vec![
            ("beijing", Value::Unknown),
            ("shanghai", Value::Unknown)
        ])
    );

    let all: Vec<_> = cfg
        .block_order()
        .unwrap()
        .iter()
        .flat_map(|a| cfg.expand_block(a, &lookup).unwrap())
        .collect();
    assert!(cfg.validate_instances(&all).is_empty());
}

#[test]
fn multi_site_uses_tfvars_and_two_regions() {
    let (cfg, _) = Config::load(&fixture("multi_site"), &VarInputs::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.providers().len(), 2);
    assert_eq!(cfg.providers()[1].alias.as_deref(), Some("hongkong"));
    assert_eq!(cfg.providers()[1].region, "ap-hongkong");
    // *.auto.tfvars wins over terraform.tfvars
    assert_eq!(cfg.sensitive_values(), vec!["from-auto-tfvars".to_string()]);

    let gz = cfg
        .expand_block(&addr("tencentcloud_vpn_connection.gz"), &NoLookup)
        .unwrap();
    assert_eq!(gz.len(), 1);
    let sz = &gz[0];
    assert_eq!(sz.address.key, Some(InstanceKey::Key("shenzhen".into())));
    assert_eq!(sz.attrs["name"], s("guangzhou-shenzhen"));
    assert_eq!(sz.attrs["dpd_timeout"], Value::int(30));
    let spds = sz.attrs["security_group_policy"].as_list().unwrap();
    assert_eq!(spds.len(), 2);
    assert_eq!(
        spds[1].get("remote_cidr_block"),
        Some(&list(vec![s("192.168.31.0/24")]))
    );
    assert_eq!(spds[1].get("local_cidr_block"), Some(&s("10.10.0.0/16")));

    let hk = cfg
        .expand_block(&addr("tencentcloud_vpn_connection.hk"), &NoLookup)
        .unwrap();
    assert_eq!(hk.len(), 1);
    assert_eq!(hk[0].provider.alias.as_deref(), Some("hongkong"));
    assert_eq!(hk[0].provider.region, "ap-hongkong");
    assert_eq!(
        hk[0].attrs["security_group_policy"]
            .as_list()
            .unwrap()
            .len(),
        1
    );

    let by_region = cfg.outputs(&NoLookup).unwrap();
    let by_region = by_region
        .iter()
        .find(|o| o.name == "sites_by_region")
        .unwrap();
    assert_eq!(
        by_region.value,
        map(vec![
            ("guangzhou", list(vec![s("shenzhen")])),
            ("hongkong", list(vec![s("kowloon")]))
        ])
    );

    // --var beats the files.
    let (cfg, _) = Config::load(
        &fixture("multi_site"),
        &VarInputs {
            cli: vec![VarArg::Pair("psk".into(), "from-cli".into())],
            env: vec![],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(cfg.sensitive_values(), vec!["from-cli".to_string()]);
}
