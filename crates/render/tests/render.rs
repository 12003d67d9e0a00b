//! Rendering of plans: snapshots of every format for realistic hand-built plans, and the
//! properties that must hold whatever the layout (no secret, no colour when off, the counts).

use std::collections::BTreeMap;

use tunnelform_kinds::{DataKind, ResourceKind};
use tunnelform_model::{Address, Value};
use tunnelform_plan::{
    Action, Attrs, Drift, ObjectKind, OutputChange, Plan, Reason, ResourceChange, SharedAttrs,
};
use tunnelform_render::{render_human, render_json, render_markdown, RenderOptions};

/// A change's `before` or `after`.
fn shared(a: Attrs) -> Option<SharedAttrs> {
    Some(a.into())
}

/// Pre-shared keys used in the fixtures: none may ever appear in any rendering.
const SECRETS: &[&str] = &[
    "Kx9!office-psk-2024",
    "old-branch-psk-0001",
    "new-branch-psk-0002",
    "console-typed-psk-99",
    "output-secret-value",
];

const PLAIN: RenderOptions = RenderOptions { color: false };
const COLOR: RenderOptions = RenderOptions { color: true };

// ------------------------------------------------------------------------------------------------
// Fixture helpers

fn s(x: &str) -> Value {
    Value::from(x)
}

fn n(i: i64) -> Value {
    Value::int(i)
}

fn secret(x: &str) -> Value {
    Value::sensitive(Value::from(x))
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|i| s(i)).collect())
}

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn attrs(pairs: &[(&str, Value)]) -> Attrs {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

fn spd(local: &str, remotes: &[&str]) -> Value {
    map(&[
        ("local_cidr_block", s(local)),
        ("remote_cidr_block", list(remotes)),
    ])
}

const CONN: ObjectKind = ObjectKind::Managed(ResourceKind::VpnConnection);
const GW: ObjectKind = ObjectKind::Managed(ResourceKind::VpnGateway);
const CGW: ObjectKind = ObjectKind::Managed(ResourceKind::CustomerGateway);

fn change(address: &str, kind: ObjectKind, action: Action) -> ResourceChange {
    ResourceChange {
        address: addr(address),
        kind,
        region: "ap-guangzhou".to_string(),
        provider_alias: None,
        action,
        id: None,
        before: None,
        after: None,
        changed: Vec::new(),
        replace_paths: Vec::new(),
        reasons: Vec::new(),
        importing: None,
        depends_on: Vec::new(),
        deposed: false,
        moved_from: None,
        forget: false,
    }
}

/// A tunnel as DescribeVpnConnections reports it (every default filled in), normalised.
fn conn_remote(name: &str, key: &str, cgw: &str, spds: Vec<Value>) -> Attrs {
    attrs(&[
        ("name", s(name)),
        ("vpc_id", s("vpc-sandbox1")),
        ("is_ccn_type", Value::Bool(false)),
        ("vpn_gateway_id", s("vpngw-8ccsnclt")),
        ("customer_gateway_id", s(cgw)),
        ("pre_share_key", secret(key)),
        ("security_group_policy", Value::List(spds)),
        ("ike_proto_encry_algorithm", s("AES-CBC-256")),
        ("ike_proto_authen_algorithm", s("SHA-256")),
        ("ike_exchange_mode", s("MAIN")),
        ("ike_local_identity", s("ADDRESS")),
        ("ike_remote_identity", s("ADDRESS")),
        ("ike_local_address", s("203.0.113.10")),
        ("ike_remote_address", s("198.51.100.7")),
        ("ike_dh_group_name", s("GROUP14")),
        ("ike_sa_lifetime_seconds", n(86400)),
        ("ike_version", s("IKEV2")),
        ("ipsec_encrypt_algorithm", s("AES-CBC-256")),
        ("ipsec_integrity_algorithm", s("SHA-256")),
        ("ipsec_sa_lifetime_seconds", n(3600)),
        ("ipsec_pfs_dh_group", s("DH-GROUP14")),
        ("ipsec_sa_lifetime_traffic", n(1843200)),
        ("tags", map(&[("env", s("prod"))])),
        ("dpd_enable", n(1)),
        ("dpd_timeout", n(30)),
        ("dpd_action", s("clear")),
        ("route_type", s("StaticRoute")),
        ("negotiation_type", s("active")),
        (
            "health_check_config",
            map(&[
                ("probe_type", s("NQA")),
                ("probe_interval", n(5000)),
                ("probe_threshold", n(3)),
                ("probe_timeout", n(150)),
            ]),
        ),
        ("enable_health_check", Value::Bool(true)),
        ("health_check_local_ip", s("169.254.128.1")),
        ("health_check_remote_ip", s("169.254.128.2")),
        ("create_time", s("2024-05-01 10:00:00")),
        ("state", s("AVAILABLE")),
        ("net_status", s("AVAILABLE")),
        ("vpn_proto", s("IKE")),
        ("encrypt_proto", s("IPSEC")),
    ])
}

fn office_spds() -> Vec<Value> {
    vec![
        spd("10.0.1.0/24", &["192.168.1.0/24", "192.168.2.0/24"]),
        spd("10.0.2.0/24", &["172.16.0.0/16"]),
    ]
}

/// What the planner plans for a new object: configured arguments, defaults, computed unknown.
fn conn_new(name: &str, key: &str, gateway_id: Value, cgw: Value, spds: Vec<Value>) -> Attrs {
    let mut a = conn_remote(name, key, "", spds);
    a.insert("vpn_gateway_id".into(), gateway_id);
    a.insert("customer_gateway_id".into(), cgw);
    for computed in [
        "id",
        "is_ccn_type",
        "ike_local_address",
        "ike_remote_address",
        "ike_local_fqdn_name",
        "ike_remote_fqdn_name",
        "bgp_config",
        "health_check_local_ip",
        "health_check_remote_ip",
        "create_time",
        "state",
        "net_status",
        "vpn_proto",
        "encrypt_proto",
        "health_check_status",
    ] {
        a.insert(computed.into(), Value::Unknown);
    }
    a.insert(
        "health_check_config".into(),
        map(&[("probe_type", s("NQA")), ("probe_interval", n(2000))]),
    );
    a
}

fn gateway_remote(name: &str, bandwidth: i64) -> Attrs {
    attrs(&[
        ("name", s(name)),
        ("vpc_id", s("vpc-sandbox1")),
        ("bandwidth", n(bandwidth)),
        ("type", s("IPSEC")),
        ("zone", s("ap-guangzhou-3")),
        ("charge_type", s("POSTPAID_BY_HOUR")),
        ("prepaid_period", n(1)),
        ("prepaid_renew_flag", s("NOTIFY_AND_AUTO_RENEW")),
        ("tags", map(&[("env", s("prod")), ("team", s("net"))])),
        ("bgp_asn", n(64551)),
        ("max_connection", n(20)),
        ("public_ip_address", s("203.0.113.10")),
        ("state", s("AVAILABLE")),
        ("create_time", s("2024-05-01 09:58:12")),
        ("expired_time", s("")),
        ("is_address_blocked", Value::Bool(false)),
        ("new_purchase_plan", s("")),
        ("restrict_state", s("NORMAL")),
    ])
}

// ------------------------------------------------------------------------------------------------
// The plans

/// A first apply: a gateway, a customer gateway and a tunnel that refers to both, a data source
/// read during apply, and outputs.
fn plan_create() -> Plan {
    let mut p = Plan::new("0.1.0");
    let mut gw = change("tencentcloud_vpn_gateway.main", GW, Action::Create);
    gw.reasons = vec![Reason::NewInConfiguration];
    gw.after = shared(attrs(&[
        ("id", Value::Unknown),
        ("name", s("main-gw")),
        ("vpc_id", s("vpc-sandbox1")),
        ("bandwidth", n(10)),
        ("type", s("IPSEC")),
        ("zone", Value::Unknown),
        ("charge_type", s("POSTPAID_BY_HOUR")),
        ("prepaid_period", n(1)),
        ("prepaid_renew_flag", s("NOTIFY_AND_AUTO_RENEW")),
        ("tags", map(&[("env", s("prod")), ("team", s("net"))])),
        ("bgp_asn", Value::Unknown),
        ("cdc_id", Value::Unknown),
        ("max_connection", Value::Unknown),
        ("public_ip_address", Value::Unknown),
        ("state", Value::Unknown),
        ("create_time", Value::Unknown),
        ("expired_time", Value::Unknown),
        ("is_address_blocked", Value::Unknown),
        ("new_purchase_plan", Value::Unknown),
        ("restrict_state", Value::Unknown),
    ]));
    let mut cgw = change(
        "tencentcloud_vpn_customer_gateway.office",
        CGW,
        Action::Create,
    );
    cgw.reasons = vec![Reason::NewInConfiguration];
    cgw.after = shared(attrs(&[
        ("id", Value::Unknown),
        ("name", s("office-cgw")),
        ("public_ip_address", s("198.51.100.7")),
        ("tags", Value::Null),
        ("bgp_asn", Value::Unknown),
        ("create_time", Value::Unknown),
    ]));
    let mut conn = change("tencentcloud_vpn_connection.office", CONN, Action::Create);
    conn.reasons = vec![Reason::NewInConfiguration];
    conn.after = shared(conn_new(
        "office",
        SECRETS[0],
        Value::Unknown,
        Value::Unknown,
        office_spds(),
    ));
    let mut data = change(
        "data.tencentcloud_vpn_gateways.main",
        ObjectKind::Data(DataKind::VpnGateways),
        Action::Read,
    );
    data.reasons = vec![Reason::ReadDeferredUntilApply];
    data.after = shared(attrs(&[
        ("id", Value::Unknown),
        ("gateway_list", Value::Unknown),
    ]));
    p.changes = vec![conn, data, cgw, gw];
    p.outputs = vec![
        OutputChange {
            name: "gateway_public_ip".into(),
            action: Action::Create,
            before: None,
            after: Some(Value::Unknown),
            sensitive: false,
        },
        OutputChange {
            name: "office_psk".into(),
            action: Action::Create,
            before: None,
            after: Some(secret(SECRETS[4])),
            sensitive: true,
        },
    ];
    p
}

/// In-place updates: a renamed tunnel with a new key, a changed SPD set, a new tag and a longer
/// DPD timeout; a gateway with more bandwidth; outputs whose list and text change.
fn plan_update() -> Plan {
    let mut p = Plan::new("0.1.0");
    let before = conn_remote("branch", SECRETS[1], "cgw-2b7c4k0e", office_spds());
    let mut after = before.clone();
    after.insert("name".into(), s("branch-sh"));
    after.insert("pre_share_key".into(), secret(SECRETS[2]));
    after.insert("dpd_timeout".into(), n(45));
    after.insert(
        "tags".into(),
        map(&[("env", s("prod")), ("owner", s("netops"))]),
    );
    after.insert(
        "security_group_policy".into(),
        Value::List(vec![
            spd("10.0.2.0/24", &["172.16.0.0/16"]),
            spd("10.0.1.0/24", &["192.168.3.0/24", "192.168.1.0/24"]),
            spd("10.0.3.0/24", &["192.168.10.0/24"]),
        ]),
    );
    let changed: Vec<String> = [
        "dpd_timeout",
        "name",
        "pre_share_key",
        "security_group_policy",
        "tags",
    ]
    .map(String::from)
    .to_vec();
    let mut conn = change("tencentcloud_vpn_connection.branch", CONN, Action::Update);
    conn.id = Some("vpnx-5f3k9d2a".into());
    conn.before = shared(before);
    conn.after = shared({
        let mut a = after;
        a.insert("id".into(), s("vpnx-5f3k9d2a"));
        a
    });
    conn.reasons = vec![Reason::ArgumentsChanged {
        attributes: changed.clone(),
    }];
    conn.changed = changed;

    let mut gw = change("tencentcloud_vpn_gateway.main", GW, Action::Update);
    gw.id = Some("vpngw-8ccsnclt".into());
    gw.before = shared(gateway_remote("main-gw", 5));
    gw.after = shared({
        let mut a = gateway_remote("main-gw", 10);
        a.insert("id".into(), s("vpngw-8ccsnclt"));
        a
    });
    gw.changed = vec!["bandwidth".into()];
    gw.reasons = vec![Reason::ArgumentsChanged {
        attributes: vec!["bandwidth".into()],
    }];

    let mut unchanged = change(
        "tencentcloud_vpn_customer_gateway.branch",
        CGW,
        Action::NoOp,
    );
    unchanged.id = Some("cgw-2b7c4k0e".into());
    unchanged.before = shared(attrs(&[
        ("name", s("branch-cgw")),
        ("public_ip_address", s("198.51.100.20")),
    ]));
    unchanged.after = unchanged.before.clone();

    p.changes = vec![gw, unchanged, conn];
    p.outputs = vec![
        OutputChange {
            name: "tunnel_ids".into(),
            action: Action::Update,
            before: Some(list(&["vpnx-5f3k9d2a", "vpnx-1a2b3c4d"])),
            after: Some(Value::List(vec![
                s("vpnx-5f3k9d2a"),
                s("vpnx-1a2b3c4d"),
                Value::Unknown,
            ])),
            sensitive: false,
        },
        OutputChange {
            name: "strongswan_conf".into(),
            action: Action::Update,
            before: Some(s(
                "conn branch\n  left=198.51.100.20\n  right=203.0.113.10\n  ike=aes256-sha256-modp2048\n",
            )),
            after: Some(s(
                "conn branch-sh\n  left=198.51.100.20\n  right=203.0.113.10\n  ike=aes256-sha256-modp2048\n",
            )),
            sensitive: false,
        },
        OutputChange {
            name: "vpc".into(),
            action: Action::NoOp,
            before: Some(s("vpc-sandbox1")),
            after: Some(s("vpc-sandbox1")),
            sensitive: false,
        },
    ];
    p
}

/// Replacements: a tunnel moved to another customer gateway (destroy first) and a customer
/// gateway with a new public address under create_before_destroy.
fn plan_replace() -> Plan {
    let mut p = Plan::new("0.1.0");
    let before = conn_remote("office", SECRETS[0], "cgw-0a1b2c3d", office_spds());
    let mut conn = change(
        "tencentcloud_vpn_connection.office",
        CONN,
        Action::Replace {
            create_before_destroy: false,
        },
    );
    conn.id = Some("vpnx-7hq2m1zz".into());
    conn.before = shared(before);
    let mut after = conn_new(
        "office",
        SECRETS[0],
        s("vpngw-8ccsnclt"),
        s("cgw-9z8y7x6w"),
        office_spds(),
    );
    // Configured health check: the new object gets what the configuration says.
    after.insert(
        "health_check_config".into(),
        map(&[
            ("probe_type", s("NQA")),
            ("probe_interval", n(5000)),
            ("probe_threshold", n(3)),
            ("probe_timeout", n(150)),
        ]),
    );
    conn.after = shared(after);
    conn.changed = vec!["customer_gateway_id".into()];
    conn.replace_paths = vec!["customer_gateway_id".into()];
    conn.reasons = vec![Reason::ForcesReplacement {
        attributes: vec!["customer_gateway_id".into()],
    }];

    let mut cgw = change(
        "tencentcloud_vpn_customer_gateway.office[\"sh\"]",
        CGW,
        Action::Replace {
            create_before_destroy: true,
        },
    );
    cgw.id = Some("cgw-0a1b2c3d".into());
    cgw.before = shared(attrs(&[
        ("name", s("office-sh")),
        ("public_ip_address", s("198.51.100.7")),
        ("tags", map(&[("site", s("sh"))])),
        ("bgp_asn", n(65000)),
        ("create_time", s("2024-05-01 09:59:40")),
    ]));
    cgw.after = shared(attrs(&[
        ("id", Value::Unknown),
        ("name", s("office-sh")),
        ("public_ip_address", s("198.51.100.77")),
        ("tags", map(&[("site", s("sh"))])),
        ("bgp_asn", Value::Unknown),
        ("create_time", Value::Unknown),
    ]));
    cgw.changed = vec!["public_ip_address".into()];
    cgw.replace_paths = vec!["public_ip_address".into()];
    cgw.reasons = vec![Reason::ForcesReplacement {
        attributes: vec!["public_ip_address".into()],
    }];
    p.changes = vec![cgw, conn];
    p
}

/// A tunnel removed from the configuration.
fn plan_delete() -> Plan {
    let mut p = Plan::new("0.1.0");
    let mut conn = change(
        "tencentcloud_vpn_connection.legacy[0]",
        CONN,
        Action::Delete,
    );
    conn.id = Some("vpnx-0ld0ld00".into());
    conn.before = shared(conn_remote(
        "legacy",
        SECRETS[0],
        "cgw-0a1b2c3d",
        vec![spd("10.0.9.0/24", &["192.168.90.0/24"])],
    ));
    conn.reasons = vec![Reason::RemovedFromConfiguration];
    p.changes = vec![conn];
    p
}

/// Imports: one that matches the configuration, one whose name the configuration changes.
fn plan_import() -> Plan {
    let mut p = Plan::new("0.1.0");
    let mut gw = change("tencentcloud_vpn_gateway.main", GW, Action::NoOp);
    gw.id = Some("vpngw-8ccsnclt".into());
    gw.importing = Some("vpngw-8ccsnclt".into());
    gw.reasons = vec![Reason::Import {
        id: "vpngw-8ccsnclt".into(),
    }];
    gw.before = shared(gateway_remote("main-gw", 10));
    gw.after = shared({
        let mut a = gateway_remote("main-gw", 10);
        a.insert("id".into(), s("vpngw-8ccsnclt"));
        a
    });
    let mut cgw = change(
        "tencentcloud_vpn_customer_gateway.office",
        CGW,
        Action::Update,
    );
    cgw.id = Some("cgw-0a1b2c3d".into());
    cgw.importing = Some("cgw-0a1b2c3d".into());
    cgw.before = shared(attrs(&[
        ("name", s("office gateway (console)")),
        ("public_ip_address", s("198.51.100.7")),
        ("bgp_asn", n(65000)),
        ("create_time", s("2023-11-20 08:00:00")),
    ]));
    cgw.after = shared(attrs(&[
        ("id", s("cgw-0a1b2c3d")),
        ("name", s("office-cgw")),
        ("public_ip_address", s("198.51.100.7")),
        ("bgp_asn", n(65000)),
        ("create_time", s("2023-11-20 08:00:00")),
    ]));
    cgw.changed = vec!["name".into()];
    cgw.reasons = vec![
        Reason::Import {
            id: "cgw-0a1b2c3d".into(),
        },
        Reason::ArgumentsChanged {
            attributes: vec!["name".into()],
        },
    ];
    p.changes = vec![gw, cgw];
    p
}

/// Drift: one tunnel renamed and re-keyed in the console, another deleted there; the plan puts
/// the name back (the key matches the configuration again) and creates the deleted one.
fn drift_entries() -> Vec<Drift> {
    let prior = {
        let mut a = conn_remote("office", SECRETS[0], "cgw-0a1b2c3d", office_spds());
        // The state keeps only a marker for the key.
        a.insert(
            "pre_share_key".into(),
            Value::sensitive(s("sha256:4f1c…salted")),
        );
        a
    };
    let mut remote = conn_remote("office-edited", SECRETS[3], "cgw-0a1b2c3d", office_spds());
    remote.insert("net_status".into(), s("UNAVAILABLE"));
    remote.insert(
        "security_group_policy".into(),
        Value::List(vec![
            spd(
                "10.0.1.0/24",
                &["192.168.1.0/24", "192.168.2.0/24", "192.168.99.0/24"],
            ),
            spd("10.0.2.0/24", &["172.16.0.0/16"]),
        ]),
    );
    let deleted_prior = conn_remote(
        "branch",
        SECRETS[1],
        "cgw-2b7c4k0e",
        vec![spd("10.0.5.0/24", &["10.20.0.0/16"])],
    );
    vec![
        Drift {
            address: addr("tencentcloud_vpn_connection.office"),
            kind: CONN,
            id: "vpnx-7hq2m1zz".into(),
            deleted: false,
            before: prior,
            after: Some(remote),
            changed: vec![
                "name".into(),
                "pre_share_key".into(),
                "security_group_policy".into(),
            ],
        },
        Drift {
            address: addr("tencentcloud_vpn_connection.branch"),
            kind: CONN,
            id: "vpnx-5f3k9d2a".into(),
            deleted: true,
            before: deleted_prior,
            after: None,
            changed: Vec::new(),
        },
    ]
}

fn plan_drift() -> Plan {
    let mut p = Plan::new("0.1.0");
    p.drift = drift_entries();
    let remote = p.drift[0].after.clone().unwrap();
    let mut after = remote.clone();
    after.insert("name".into(), s("office"));
    after.insert("pre_share_key".into(), secret(SECRETS[0]));
    after.insert("security_group_policy".into(), Value::List(office_spds()));
    after.insert("id".into(), s("vpnx-7hq2m1zz"));
    let changed: Vec<String> = ["name", "pre_share_key", "security_group_policy"]
        .map(String::from)
        .to_vec();
    let mut office = change("tencentcloud_vpn_connection.office", CONN, Action::Update);
    office.id = Some("vpnx-7hq2m1zz".into());
    office.before = shared(remote);
    office.after = shared(after);
    office.changed = changed.clone();
    office.reasons = vec![Reason::ArgumentsChanged {
        attributes: changed,
    }];
    let mut branch = change("tencentcloud_vpn_connection.branch", CONN, Action::Create);
    branch.reasons = vec![Reason::DeletedOutsideTunnelform];
    branch.after = shared(conn_new(
        "branch",
        SECRETS[1],
        s("vpngw-8ccsnclt"),
        s("cgw-2b7c4k0e"),
        vec![spd("10.0.5.0/24", &["10.20.0.0/16"])],
    ));
    p.changes = vec![office, branch];
    p
}

fn plan_no_changes() -> Plan {
    let mut p = Plan::new("0.1.0");
    let mut conn = change("tencentcloud_vpn_connection.office", CONN, Action::NoOp);
    conn.id = Some("vpnx-7hq2m1zz".into());
    conn.before = shared(conn_remote(
        "office",
        SECRETS[0],
        "cgw-0a1b2c3d",
        office_spds(),
    ));
    conn.after = conn.before.clone();
    p.changes = vec![conn];
    p.outputs = vec![OutputChange {
        name: "vpc".into(),
        action: Action::NoOp,
        before: Some(s("vpc-sandbox1")),
        after: Some(s("vpc-sandbox1")),
        sensitive: false,
    }];
    p
}

fn plan_refresh_only() -> Plan {
    let mut p = Plan::new("0.1.0");
    p.refresh_only = true;
    p.drift = drift_entries();
    p
}

fn plan_refresh_only_clean() -> Plan {
    let mut p = Plan::new("0.1.0");
    p.refresh_only = true;
    p
}

fn plan_destroy() -> Plan {
    let mut p = Plan::new("0.1.0");
    p.destroy = true;
    let mut cgw = change(
        "tencentcloud_vpn_customer_gateway.office",
        CGW,
        Action::Delete,
    );
    cgw.id = Some("cgw-0a1b2c3d".into());
    cgw.before = shared(attrs(&[
        ("name", s("office-cgw")),
        ("public_ip_address", s("198.51.100.7")),
        ("tags", map(&[])),
        ("bgp_asn", n(65000)),
        ("create_time", s("2024-05-01 09:59:40")),
    ]));
    cgw.reasons = vec![Reason::RemovedFromConfiguration];
    p.changes = vec![cgw];
    p
}

fn plan_outputs_only() -> Plan {
    let mut p = plan_no_changes();
    p.outputs = vec![OutputChange {
        name: "vpc".into(),
        action: Action::Update,
        before: Some(s("vpc-sandbox1")),
        after: Some(s("vpc-sandbox2")),
        sensitive: false,
    }];
    p
}

fn all_plans() -> Vec<(&'static str, Plan)> {
    vec![
        ("create", plan_create()),
        ("update", plan_update()),
        ("replace", plan_replace()),
        ("delete", plan_delete()),
        ("import", plan_import()),
        ("drift", plan_drift()),
        ("no_changes", plan_no_changes()),
        ("refresh_only", plan_refresh_only()),
        ("refresh_only_clean", plan_refresh_only_clean()),
        ("destroy", plan_destroy()),
        ("outputs_only", plan_outputs_only()),
    ]
}

fn json_text(p: &Plan) -> String {
    serde_json::to_string_pretty(&render_json(p)).unwrap()
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// Snapshots

#[test]
fn snapshots_human() {
    for (name, plan) in all_plans() {
        insta::assert_snapshot!(format!("human_{name}"), render_human(&plan, &PLAIN));
    }
}

#[test]
fn snapshots_json() {
    for (name, plan) in all_plans() {
        insta::assert_snapshot!(format!("json_{name}"), json_text(&plan));
    }
}

#[test]
fn snapshots_markdown() {
    for (name, plan) in all_plans() {
        insta::assert_snapshot!(format!("markdown_{name}"), render_markdown(&plan));
    }
}

// ------------------------------------------------------------------------------------------------
// Properties

#[test]
fn no_secret_in_any_rendering() {
    for (name, plan) in all_plans() {
        let renderings = [
            render_human(&plan, &PLAIN),
            render_human(&plan, &COLOR),
            json_text(&plan),
            render_markdown(&plan),
        ];
        for r in &renderings {
            for secret in SECRETS {
                assert!(
                    !r.contains(secret),
                    "{name}: secret {secret:?} leaked:\n{r}"
                );
            }
        }
    }
}

#[test]
fn schema_sensitive_attribute_is_hidden_even_without_a_mark() {
    // A key that lost its mark on the way (a bug elsewhere) must still not be printed.
    let mut p = plan_delete();
    p.changes[0]
        .before
        .as_mut()
        .unwrap()
        .insert("pre_share_key".into(), s("unmarked-secret-123"));
    for r in [render_human(&p, &PLAIN), json_text(&p), render_markdown(&p)] {
        assert!(!r.contains("unmarked-secret-123"), "{r}");
    }
    let j = render_json(&p);
    let change = &j["resource_changes"][0]["change"];
    assert_eq!(change["before"]["pre_share_key"], serde_json::Value::Null);
    assert_eq!(change["before_sensitive"]["pre_share_key"], true);
}

#[test]
fn sensitive_values_show_as_sensitive() {
    let out = render_human(&plan_update(), &PLAIN);
    assert!(out.contains("~ pre_share_key = (sensitive value)"), "{out}");
    let out = render_human(&plan_create(), &PLAIN);
    assert!(
        out.contains("+ pre_share_key              = (sensitive value)"),
        "{out}"
    );
    assert!(
        out.contains("+ office_psk        = (sensitive value)"),
        "{out}"
    );
    let out = render_human(&plan_drift(), &PLAIN);
    assert!(out.contains("~ pre_share_key = (sensitive value)"), "{out}");
}

#[test]
fn no_ansi_without_colour_and_colour_is_only_decoration() {
    for (name, plan) in all_plans() {
        let plain = render_human(&plan, &PLAIN);
        assert!(!plain.contains('\x1b'), "{name}: escape in plain output");
        assert!(
            !render_markdown(&plan).contains('\x1b'),
            "{name}: escape in markdown"
        );
        let colored = render_human(&plan, &COLOR);
        assert_eq!(strip_ansi(&colored), plain, "{name}");
    }
    let colored = render_human(&plan_update(), &COLOR);
    assert!(colored.contains("\x1b[33m~\x1b[0m"), "yellow ~");
    assert!(colored.contains("\x1b[32m+\x1b[0m"), "green +");
    assert!(colored.contains("\x1b[31m-\x1b[0m"), "red -");
    assert!(colored.contains("\x1b[1mPlan: 0 to add, 2 to change, 0 to destroy.\x1b[0m"));
}

#[test]
fn summary_numbers() {
    let cases = [
        (
            "create",
            "Plan: 3 to add, 0 to change, 0 to destroy.",
            (3, 0, 0, 0),
        ),
        (
            "update",
            "Plan: 0 to add, 2 to change, 0 to destroy.",
            (0, 2, 0, 0),
        ),
        (
            "replace",
            "Plan: 2 to add, 0 to change, 2 to destroy.",
            (2, 0, 2, 0),
        ),
        (
            "delete",
            "Plan: 0 to add, 0 to change, 1 to destroy.",
            (0, 0, 1, 0),
        ),
        (
            "import",
            "Plan: 2 to import, 0 to add, 1 to change, 0 to destroy.",
            (0, 1, 0, 2),
        ),
        (
            "drift",
            "Plan: 1 to add, 1 to change, 0 to destroy.",
            (1, 1, 0, 0),
        ),
        (
            "destroy",
            "Plan: 0 to add, 0 to change, 1 to destroy.",
            (0, 0, 1, 0),
        ),
    ];
    let plans: BTreeMap<_, _> = all_plans().into_iter().collect();
    for (name, line, (add, change, destroy, import)) in cases {
        let plan = &plans[name];
        let out = render_human(plan, &PLAIN);
        assert!(out.contains(&format!("\n{line}\n")), "{name}:\n{out}");
        assert!(render_markdown(plan).contains(line), "{name} markdown");
        let j = render_json(plan);
        assert_eq!(
            j["summary"],
            serde_json::json!({"add": add, "change": change, "destroy": destroy, "import": import}),
            "{name}"
        );
        assert_eq!(j["has_changes"], true, "{name}");
    }
}

#[test]
fn no_changes_is_exactly_terraforms_sentence() {
    assert_eq!(
        render_human(&plan_no_changes(), &PLAIN),
        "No changes. Your infrastructure matches the configuration.\n"
    );
    assert_eq!(
        render_human(&Plan::new("0.1.0"), &COLOR),
        "\x1b[1mNo changes. Your infrastructure matches the configuration.\x1b[0m\n"
    );
    let j = render_json(&plan_no_changes());
    assert_eq!(j["has_changes"], false);
    assert_eq!(
        j["resource_changes"][0]["change"]["actions"],
        serde_json::json!(["no-op"])
    );
}

#[test]
fn refresh_only_shows_drift_and_no_actions() {
    let out = render_human(&plan_refresh_only(), &PLAIN);
    assert!(out.contains("Objects have changed outside tunnelform"));
    assert!(out.contains("This is a refresh-only plan"));
    assert!(!out.contains("will perform the following actions"));
    assert!(!out.contains("Plan:"));
    let j = render_json(&plan_refresh_only());
    assert_eq!(j["has_changes"], true);
    assert_eq!(j["resource_drift"].as_array().unwrap().len(), 2);
    let clean = render_human(&plan_refresh_only_clean(), &PLAIN);
    assert!(clean.starts_with("No changes. Your infrastructure still matches the configuration.\n"));
    assert_eq!(
        render_json(&plan_refresh_only_clean())["has_changes"],
        false
    );
}

#[test]
fn headers_reasons_and_symbols() {
    let out = render_human(&plan_drift(), &PLAIN);
    assert!(out.contains("  # tencentcloud_vpn_connection.office has changed\n"));
    assert!(out.contains("  # tencentcloud_vpn_connection.branch has been deleted\n"));
    assert!(out.contains(
        "  # tencentcloud_vpn_connection.branch will be created\n  # (because it was deleted outside tunnelform)\n  + resource \"tencentcloud_vpn_connection\" \"branch\" {\n"
    ));
    // Read-only attributes that moved on their own are not drift.
    let drift_part = out.split("─").next().unwrap();
    assert!(!drift_part.contains("net_status"), "{drift_part}");

    let out = render_human(&plan_delete(), &PLAIN);
    assert!(out.contains(
        "  # tencentcloud_vpn_connection.legacy[0] will be destroyed\n  # (because tencentcloud_vpn_connection.legacy[0] is not in the configuration)\n  - resource \"tencentcloud_vpn_connection\" \"legacy\" {\n"
    ));
    let out = render_human(&plan_destroy(), &PLAIN);
    assert!(
        !out.contains("is not in the configuration"),
        "destroy plans give no reason"
    );

    let out = render_human(&plan_replace(), &PLAIN);
    assert!(out.contains("-/+ resource \"tencentcloud_vpn_connection\" \"office\" {"));
    assert!(out.contains("+/- resource \"tencentcloud_vpn_customer_gateway\" \"office\" {"));
    assert!(
        out.contains(
            "~ customer_gateway_id    = \"cgw-0a1b2c3d\" -> \"cgw-9z8y7x6w\" # forces replacement"
        ),
        "{out}"
    );
    assert!(out.contains("~ id                     = \"vpnx-7hq2m1zz\" -> (known after apply)"));

    let out = render_human(&plan_create(), &PLAIN);
    assert!(out.contains("  # data.tencentcloud_vpn_gateways.main will be read during apply\n  # (config refers to values not yet known)\n <= data \"tencentcloud_vpn_gateways\" \"main\" {"));
    assert!(
        out.contains("+ vpn_gateway_id             = (known after apply)"),
        "{out}"
    );

    let out = render_human(&plan_import(), &PLAIN);
    assert!(out.contains("  # tencentcloud_vpn_gateway.main will be imported\n    resource \"tencentcloud_vpn_gateway\" \"main\" {"));
    assert!(out.contains("  # tencentcloud_vpn_customer_gateway.office will be updated in-place\n  # (imported from \"cgw-0a1b2c3d\")\n"));
}

#[test]
fn lists_and_sets_are_diffed_element_by_element() {
    let out = render_human(&plan_update(), &PLAIN);
    // The changed SPD entry pairs up on its local block and shows the CIDR that went and came.
    let expected = "\
      ~ security_group_policy {
            local_cidr_block  = \"10.0.1.0/24\"
          ~ remote_cidr_block = [
              - \"192.168.2.0/24\",
              + \"192.168.3.0/24\",
                # (1 unchanged element hidden)
            ]
        }
";
    assert!(out.contains(expected), "{out}");
    assert!(out.contains(
        "      + security_group_policy {\n          + local_cidr_block  = \"10.0.3.0/24\"\n"
    ));
    // The unchanged SPD entry and the unchanged health check.
    assert!(
        out.contains("        # (2 unchanged blocks hidden)"),
        "{out}"
    );
    // Updates hide unchanged attributes like Terraform.
    assert!(out.contains("# (31 unchanged attributes hidden)"), "{out}");
    // Multi-line text diffed line by line.
    assert!(out.contains("  ~ strongswan_conf = <<-EOT\n      - conn branch\n      + conn branch-sh\n          left=198.51.100.20\n"), "{out}");
}

#[test]
fn ordering_is_by_address_whatever_the_input_order() {
    let a = plan_create();
    let mut b = plan_create();
    b.changes.reverse();
    b.outputs.reverse();
    assert_eq!(render_human(&a, &PLAIN), render_human(&b, &PLAIN));
    assert_eq!(render_json(&a), render_json(&b));
    assert_eq!(render_markdown(&a), render_markdown(&b));
    let out = render_human(&a, &PLAIN);
    let pos = |s: &str| out.find(s).unwrap();
    assert!(
        pos("# tencentcloud_vpn_connection.office")
            < pos("# tencentcloud_vpn_customer_gateway.office")
    );
    assert!(
        pos("# tencentcloud_vpn_customer_gateway.office") < pos("# tencentcloud_vpn_gateway.main")
    );
}

#[test]
fn json_marks_unknown_and_sensitive_like_terraform() {
    let j = render_json(&plan_create());
    let conn = j["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "tencentcloud_vpn_connection.office")
        .unwrap();
    let ch = &conn["change"];
    assert_eq!(ch["actions"], serde_json::json!(["create"]));
    assert_eq!(ch["before"], serde_json::Value::Null);
    assert_eq!(ch["before_sensitive"], false);
    assert_eq!(ch["after"]["pre_share_key"], serde_json::Value::Null);
    assert_eq!(ch["after_sensitive"]["pre_share_key"], true);
    assert!(ch["after_sensitive"].get("name").is_none());
    assert_eq!(ch["after"]["id"], serde_json::Value::Null);
    assert_eq!(ch["after_unknown"]["id"], true);
    assert_eq!(ch["after_unknown"]["vpn_gateway_id"], true);
    assert!(
        ch["after_unknown"].get("name").is_none(),
        "known values are left out"
    );
    assert_eq!(ch["after"]["name"], "office");
    assert_eq!(
        ch["after"]["security_group_policy"][0]["remote_cidr_block"],
        serde_json::json!(["192.168.1.0/24", "192.168.2.0/24"])
    );
    assert_eq!(
        ch["after_unknown"]["security_group_policy"],
        serde_json::json!([{"remote_cidr_block": [false, false]}, {"remote_cidr_block": [false]}])
    );
    assert_eq!(conn["mode"], "managed");
    assert!(conn.get("index").is_none());

    let out = &j["output_changes"];
    assert_eq!(out["office_psk"]["after"], serde_json::Value::Null);
    assert_eq!(out["office_psk"]["after_sensitive"], true);
    assert_eq!(out["gateway_public_ip"]["after_unknown"], true);

    let j = render_json(&plan_replace());
    let cgw = &j["resource_changes"][1];
    assert_eq!(cgw["index"], "sh");
    assert_eq!(
        cgw["change"]["actions"],
        serde_json::json!(["create", "delete"])
    );
    assert_eq!(
        cgw["change"]["replace_paths"],
        serde_json::json!([["public_ip_address"]])
    );
    assert_eq!(cgw["action_reason"], "replace_because_cannot_update");
    let conn = &j["resource_changes"][0];
    assert_eq!(
        conn["change"]["actions"],
        serde_json::json!(["delete", "create"])
    );
    assert_eq!(conn["change"]["before"]["id"], "vpnx-7hq2m1zz");

    let j = render_json(&plan_import());
    assert_eq!(
        j["resource_changes"][0]["change"]["importing"],
        serde_json::json!({"id": "cgw-0a1b2c3d"})
    );

    let j = render_json(&plan_drift());
    let deleted = &j["resource_drift"][0];
    assert_eq!(deleted["address"], "tencentcloud_vpn_connection.branch");
    assert_eq!(deleted["change"]["actions"], serde_json::json!(["delete"]));
    assert_eq!(deleted["change"]["after"], serde_json::Value::Null);
    let edited = &j["resource_drift"][1];
    assert_eq!(
        edited["changed_attributes"],
        serde_json::json!(["name", "pre_share_key", "security_group_policy"])
    );
    assert_eq!(edited["change"]["before"]["name"], "office");
    assert_eq!(edited["change"]["after"]["name"], "office-edited");
    assert_eq!(edited["change"]["after_sensitive"]["pre_share_key"], true);
    assert_eq!(edited["region"], "ap-guangzhou");
}

#[test]
fn markdown_has_one_details_per_object() {
    let md = render_markdown(&plan_drift());
    assert_eq!(md.matches("<details>").count(), 4, "2 drifted + 2 changes");
    assert_eq!(md.matches("</details>").count(), 4);
    assert!(
        md.find("Objects changed outside tunnelform").unwrap()
            < md.find("Planned changes").unwrap()
    );
    assert!(md.contains(
        "<summary><code>~ tencentcloud_vpn_connection.office</code> has changed</summary>"
    ));
    let md = render_markdown(&plan_create());
    assert!(md.contains("<summary><code>&lt;= data.tencentcloud_vpn_gateways.main</code> will be read during apply</summary>"));
    assert!(
        md.contains("```diff\n+   resource \"tencentcloud_vpn_connection\" \"office\" {\n"),
        "{md}"
    );
    let md = render_markdown(&plan_replace());
    assert!(
        md.contains("<code>+/- tencentcloud_vpn_customer_gateway.office[&quot;sh&quot;]</code>"),
        "{md}"
    );
    let mut empty_destroy = Plan::new("0.1.0");
    empty_destroy.destroy = true;
    assert!(render_human(&empty_destroy, &PLAIN)
        .starts_with("No changes. No objects need to be destroyed.\n"));
    assert!(render_markdown(&empty_destroy).contains("No objects need to be destroyed."));
    let md = render_markdown(&plan_no_changes());
    assert!(md.contains("**No changes. Your infrastructure matches the configuration.**"));
    assert!(!md.contains("<details>"));
}

#[test]
fn odd_values_are_escaped_and_nested_secrets_hidden() {
    let mut p = Plan::new("0.1.0");
    let mut gw = change("tencentcloud_vpn_gateway.odd", GW, Action::Update);
    gw.id = Some("vpngw-0dd0dd00".into());
    let before = gateway_remote("odd", 5);
    let mut after = before.clone();
    after.insert(
        "tags".into(),
        map(&[
            ("note", s("say \"hi\" ${var.x}\t```fence```")),
            ("token", secret("nested-secret-in-a-tag")),
        ]),
    );
    gw.before = shared(before);
    gw.after = shared(after);
    gw.changed = vec!["tags".into()];
    p.changes = vec![gw];
    let human = render_human(&p, &PLAIN);
    assert!(
        human.contains(r#"+ "note"  = "say \"hi\" $${var.x}\t```fence```""#),
        "{human}"
    );
    assert!(
        human.contains(r#"+ "token" = (sensitive value)"#),
        "{human}"
    );
    let md = render_markdown(&p);
    // The fence is longer than any run of backticks inside.
    assert!(md.contains("\n````diff\n"), "{md}");
    for r in [human, md, json_text(&p)] {
        assert!(!r.contains("nested-secret-in-a-tag"), "{r}");
    }
    let j = render_json(&p);
    let ch = &j["resource_changes"][0]["change"];
    assert_eq!(ch["after"]["tags"]["token"], serde_json::Value::Null);
    assert_eq!(
        ch["after_sensitive"]["tags"],
        serde_json::json!({"token": true})
    );
}

#[test]
fn what_the_planner_produces_renders() {
    use tunnelform_plan::{diff_managed, DiffInput, Lifecycle};
    let address = addr("tencentcloud_vpn_connection.office");
    let remote = conn_remote("office", SECRETS[0], "cgw-0a1b2c3d", office_spds());
    let mut desired: Attrs = remote
        .iter()
        .filter(|(k, _)| {
            ResourceKind::VpnConnection
                .schema()
                .attr(k)
                .is_some_and(|a| a.is_argument())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    desired.insert("pre_share_key".into(), secret(SECRETS[2]));
    desired.insert("customer_gateway_id".into(), s("cgw-9z8y7x6w"));
    let lifecycle = Lifecycle::default();
    let c = diff_managed(DiffInput {
        address: &address,
        kind: ResourceKind::VpnConnection,
        region: "ap-guangzhou",
        provider_alias: None,
        desired: Some(&desired),
        remote: Some(("vpnx-7hq2m1zz", &remote)),
        in_state: true,
        lifecycle: &lifecycle,
        depends_on: vec![],
        importing: None,
    });
    assert!(matches!(c.action, Action::Replace { .. }), "{:?}", c.action);
    let mut p = Plan::new("0.1.0");
    p.changes = vec![c];
    let human = render_human(&p, &PLAIN);
    assert!(human.contains("must be replaced"), "{human}");
    assert!(
        human.contains("\"cgw-0a1b2c3d\" -> \"cgw-9z8y7x6w\" # forces replacement"),
        "{human}"
    );
    assert!(human.contains("~ pre_share_key"), "{human}");
    assert!(
        human.contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{human}"
    );
    for r in [human, render_markdown(&p), json_text(&p)] {
        for secret in SECRETS {
            assert!(!r.contains(secret), "{r}");
        }
    }
}
