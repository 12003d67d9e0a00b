//! The pure planner on hand-built inputs: a configuration from a temporary directory, a state
//! built in memory, and answers written here (no cloud, no sandbox, no runtime).

use std::path::Path;
use tunnelform_model::Map;

use tunnelform_config::{Config, VarInputs};
use tunnelform_kinds::tags::owner_address_values;
use tunnelform_kinds::{DataKind, Ownership, ResourceKind};
use tunnelform_model::{Address, Value};
use tunnelform_plan::make::{
    make_plan, Answer, Inputs, MakeError, PlanOptions, Planning, Progress, Read, RemoteObject,
    RemoteSnapshot, Tagged,
};
use tunnelform_plan::{Action, Attrs, Reason};
use tunnelform_state::State;

const REGION: &str = "ap-guangzhou";

fn config(dir: &Path, text: &str) -> Config {
    std::fs::write(
        dir.join("main.tf"),
        format!("provider \"tencentcloud\" {{\n  region = \"{REGION}\"\n}}\n{text}"),
    )
    .unwrap();
    let (config, _) = Config::load(dir, &VarInputs::default()).expect("configuration loads");
    config
}

fn addr(s: &str) -> Address {
    s.parse().expect("address")
}

fn string(v: &Value) -> &str {
    v.unmarked().as_str().expect("a string")
}

/// Runs a plan started before its refresh ended ([`Planning::refreshing`]), answering every read
/// of the state's objects from `remote`. Returns the plan, the addresses of each read in the
/// order asked, and how many times the planning stopped to ask.
fn plan_while_refreshing(
    inputs: Inputs<'_>,
    remote: &RemoteSnapshot,
) -> (tunnelform_plan::make::Planned, Vec<Vec<Address>>, usize) {
    let mut planning = Planning::refreshing(inputs).expect("starts");
    let (mut asked, mut stops) = (Vec::new(), 0);
    let mut answers = Vec::new();
    loop {
        match planning.step(answers, &mut |_| {}).expect("steps") {
            Progress::Done(p) => return (*p, asked, stops),
            Progress::Need(reads) => {
                stops += 1;
                answers = reads
                    .iter()
                    .map(|r| {
                        let Read::Refresh(addrs) = r else {
                            panic!("only the state's objects to read, asked {r:?}")
                        };
                        asked.push(addrs.clone());
                        let mut found = RemoteSnapshot::default();
                        for a in addrs {
                            if let Some(o) = remote.objects.get(a) {
                                found.objects.insert(a.clone(), o.clone());
                            }
                        }
                        Answer::Refreshed(found)
                    })
                    .collect();
            }
        }
    }
}

/// A data source whose argument is another block's planned value is asked for with that value
/// evaluated, and its answer feeds the blocks after it.
#[test]
fn a_data_source_is_read_with_arguments_from_planned_values_and_its_answer_feeds_later_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        r#"
resource "tencentcloud_vpn_gateway" "gw" {
  name   = "gw"
  vpc_id = "vpc-abc"
}

data "tencentcloud_vpn_gateways" "same_vpc" {
  vpc_id = tencentcloud_vpn_gateway.gw.vpc_id
}

resource "tencentcloud_vpn_customer_gateway" "cgw" {
  name              = "peers-${length(data.tencentcloud_vpn_gateways.same_vpc.gateway_list)}"
  public_ip_address = "198.51.100.7"
}
"#,
    );
    let state = State::new();
    let opts = PlanOptions::default();
    let inputs = Inputs {
        config: &config,
        state: &state,
        opts: &opts,
        online: false,
    };
    let mut asked: Vec<Read> = Vec::new();
    let planned = make_plan(inputs, RemoteSnapshot::default(), |read| {
        asked.push(read.clone());
        match read {
            Read::Data { args, .. } => {
                let mut v: Attrs = args.clone();
                v.insert(
                    "gateway_list".into(),
                    Value::List(vec![Value::Map(Attrs::new()), Value::Map(Attrs::new())]),
                );
                Some(Answer::Data(Value::Map(v)))
            }
            _ => None,
        }
    })
    .expect("no error")
    .expect("every read answered");

    assert_eq!(asked.len(), 1, "one read: {asked:?}");
    let Read::Data { kind, region, args } = &asked[0] else {
        panic!("a data source read, got {:?}", asked[0]);
    };
    assert_eq!(*kind, DataKind::VpnGateways);
    assert_eq!(region, REGION);
    assert_eq!(args.get("vpc_id").map(string), Some("vpc-abc"));

    let cgw = planned
        .plan
        .changes
        .iter()
        .find(|c| c.address == addr("tencentcloud_vpn_customer_gateway.cgw"))
        .expect("the customer gateway is planned");
    assert_eq!(cgw.action, Action::Create);
    let name = cgw.after.as_ref().and_then(|a| a.get("name")).map(string);
    assert_eq!(name, Some("peers-2"), "the answer's two gateways");
    assert!(planned
        .data
        .contains_key(&addr("data.tencentcloud_vpn_gateways.same_vpc")));
    assert!(planned.plan.graph.is_some(), "the plan carries its graph");
}

/// One customer gateway: the configuration of the ownership and offline tests.
const ONE_CGW: &str = r#"
resource "tencentcloud_vpn_customer_gateway" "cgw" {
  name              = "branch"
  public_ip_address = "198.51.100.7"
}
"#;

/// A new state, online: the planner asks for the region's ownership tags, then for this
/// project's object they name, and adopts it instead of creating another.
#[test]
fn a_new_state_asks_for_ownership_tags_then_the_object_and_adopts_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), ONE_CGW);
    let address = addr("tencentcloud_vpn_customer_gateway.cgw");
    let state = State::new();
    let opts = PlanOptions {
        project: Some("proj-1".into()),
        ..Default::default()
    };
    let inputs = Inputs {
        config: &config,
        state: &state,
        opts: &opts,
        online: true,
    };
    let mut planning = Planning::new(inputs, RemoteSnapshot::default()).expect("starts");

    let first = match planning.step(Vec::new(), &mut |_| {}).expect("steps") {
        Progress::Need(reads) => reads,
        Progress::Done(_) => panic!("a new state must look for its objects first"),
    };
    assert_eq!(
        first,
        vec![Read::Tagged {
            region: REGION.into()
        }]
    );
    let tag = owner_address_values(&address).next().unwrap();
    let tagged = vec![
        Tagged {
            kind: ResourceKind::CustomerGateway,
            id: "cgw-mine".into(),
            address_tag: tag.clone(),
            project: Some("proj-1".into()),
        },
        Tagged {
            kind: ResourceKind::CustomerGateway,
            id: "cgw-theirs".into(),
            address_tag: tag,
            project: Some("proj-2".into()),
        },
    ];
    let second = match planning
        .step(vec![Answer::Tagged(tagged)], &mut |_| {})
        .expect("steps")
    {
        Progress::Need(reads) => reads,
        Progress::Done(_) => panic!("this project's object must be read before it is adopted"),
    };
    assert_eq!(
        second,
        vec![Read::Owned {
            region: REGION.into(),
            kind: ResourceKind::CustomerGateway,
            ids: vec!["cgw-mine".into()],
        }],
        "only this project's object is read"
    );
    let attrs: Attrs = Map::from([
        ("name".to_string(), Value::from("branch")),
        ("public_ip_address".to_string(), Value::from("198.51.100.7")),
    ]);
    let object = RemoteObject {
        id: "cgw-mine".into(),
        kind: ResourceKind::CustomerGateway,
        region: REGION.into(),
        attrs,
        ownership: Ownership::default(),
    };
    let mut phases = Vec::new();
    let planned = match planning
        .step(vec![Answer::Objects(vec![object])], &mut |p| phases.push(p))
        .expect("steps")
    {
        Progress::Done(p) => p,
        Progress::Need(reads) => panic!("nothing more to read, asked {reads:?}"),
    };
    let change = planned
        .plan
        .changes
        .iter()
        .find(|c| c.address == address)
        .expect("planned");
    assert_ne!(change.action, Action::Create, "adopted, not created again");
    assert_eq!(change.importing.as_deref(), Some("cgw-mine"));
    assert!(change.reasons.contains(&Reason::AdoptedLostState));
    assert!(!phases.is_empty(), "the caller is told the phases to time");
}

/// Offline, the same configuration asks for nothing and plans a create; answers that are not
/// those of the reads asked are refused.
#[test]
fn offline_asks_nothing_and_wrong_answers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), ONE_CGW);
    let state = State::new();
    let opts = PlanOptions {
        project: Some("proj-1".into()),
        ..Default::default()
    };
    let offline = Inputs {
        config: &config,
        state: &state,
        opts: &opts,
        online: false,
    };
    let planned = make_plan(offline, RemoteSnapshot::default(), |r| {
        panic!("nothing to read offline, asked {r:?}")
    })
    .unwrap()
    .unwrap();
    assert_eq!(planned.plan.changes[0].action, Action::Create);

    let online = Inputs {
        online: true,
        ..offline
    };
    let mut planning = Planning::new(online, RemoteSnapshot::default()).unwrap();
    assert!(matches!(
        planning.step(Vec::new(), &mut |_| {}),
        Ok(Progress::Need(_))
    ));
    let wrong = planning.step(vec![Answer::Data(Value::Null)], &mut |_| {});
    assert!(matches!(wrong, Err(MakeError::Answers { .. })), "{wrong:?}");
}

/// A plan started before its refresh ended asks for each block's objects when it reaches the
/// block (by their addresses in the state, before the moves; a small block with the state's next
/// objects), then for the objects no block claimed; the plan it makes is the plan made from the
/// whole snapshot: the same changes, the same drift (a change outside and objects gone), the
/// move made.
#[test]
fn a_plan_started_before_its_refresh_ended_asks_block_by_block_and_plans_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        r#"
resource "tencentcloud_vpn_gateway" "gw" {
  name   = "gw"
  vpc_id = "vpc-abc"
}

resource "tencentcloud_vpn_customer_gateway" "cgw" {
  name              = "for-${tencentcloud_vpn_gateway.gw.vpc_id}"
  public_ip_address = "198.51.100.7"
}

moved {
  from = tencentcloud_vpn_customer_gateway.was
  to   = tencentcloud_vpn_customer_gateway.cgw
}
"#,
    );
    let attrs = |pairs: &[(&str, &str)]| -> Attrs {
        Map::from_iter(pairs.iter().map(|(k, v)| (k.to_string(), Value::from(*v))))
    };
    let gw = attrs(&[("name", "gw"), ("vpc_id", "vpc-abc")]);
    let cgw = attrs(&[
        ("name", "for-vpc-abc"),
        ("public_ip_address", "198.51.100.7"),
    ]);
    let old = attrs(&[("name", "old"), ("public_ip_address", "198.51.100.8")]);
    let mut state = State::new();
    for (a, kind, id, at) in [
        (
            "tencentcloud_vpn_gateway.gw",
            ResourceKind::VpnGateway,
            "vpngw-1",
            &gw,
        ),
        (
            "tencentcloud_vpn_gateway.gone",
            ResourceKind::VpnGateway,
            "vpngw-9",
            &gw,
        ),
        (
            "tencentcloud_vpn_customer_gateway.was",
            ResourceKind::CustomerGateway,
            "cgw-1",
            &cgw,
        ),
        (
            "tencentcloud_vpn_customer_gateway.old",
            ResourceKind::CustomerGateway,
            "cgw-2",
            &old,
        ),
        // Sorts before every block's objects: only the read of the rest asks for it.
        (
            "tencentcloud_vpn_connection.stale",
            ResourceKind::VpnConnection,
            "vpnx-9",
            &old,
        ),
    ] {
        let mut rs = tunnelform_state::ResourceState::new(kind, REGION, id);
        rs.attributes = at.clone();
        state.resources.insert(addr(a), rs);
    }
    // As the cloud holds them: the gateway renamed outside, `gone` and `stale` deleted.
    let mut remote = RemoteSnapshot::default();
    for (a, kind, id, at) in [
        (
            "tencentcloud_vpn_gateway.gw",
            ResourceKind::VpnGateway,
            "vpngw-1",
            attrs(&[("name", "renamed"), ("vpc_id", "vpc-abc")]),
        ),
        (
            "tencentcloud_vpn_customer_gateway.was",
            ResourceKind::CustomerGateway,
            "cgw-1",
            cgw.clone(),
        ),
        (
            "tencentcloud_vpn_customer_gateway.old",
            ResourceKind::CustomerGateway,
            "cgw-2",
            old.clone(),
        ),
    ] {
        let object = RemoteObject {
            id: id.into(),
            kind,
            region: REGION.into(),
            attrs: at,
            ownership: Ownership::default(),
        };
        remote.objects.insert(addr(a), object);
    }
    let opts = PlanOptions::default();
    let inputs = Inputs {
        config: &config,
        state: &state,
        opts: &opts,
        online: false,
    };
    let whole = make_plan(inputs, remote.clone(), |r| {
        panic!("nothing to read, asked {r:?}")
    })
    .unwrap()
    .unwrap();

    let (planned, reads, _) = plan_while_refreshing(inputs, &remote);
    let asked: Vec<Vec<String>> = reads
        .iter()
        .map(|addrs| {
            let mut names: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
            names.sort();
            names
        })
        .collect();
    assert_eq!(
        asked,
        vec![
            vec!["tencentcloud_vpn_gateway.gw".to_string()],
            // The moved block's object by its old address, with the state's next ones.
            vec![
                "tencentcloud_vpn_customer_gateway.old".to_string(),
                "tencentcloud_vpn_customer_gateway.was".to_string(),
                "tencentcloud_vpn_gateway.gone".to_string(),
            ],
            vec!["tencentcloud_vpn_connection.stale".to_string()],
        ],
        "each block's objects when the walk reaches it, then the rest"
    );
    let json = |p: &tunnelform_plan::Plan| serde_json::to_value(p).expect("plan serialises");
    assert_eq!(json(&planned.plan), json(&whole.plan));
    let drifted: Vec<(String, bool)> = planned
        .plan
        .drift
        .iter()
        .map(|d| (d.address.to_string(), d.deleted))
        .collect();
    assert_eq!(
        drifted,
        [
            ("tencentcloud_vpn_connection.stale".to_string(), true),
            ("tencentcloud_vpn_gateway.gone".to_string(), true),
            ("tencentcloud_vpn_gateway.gw".to_string(), false),
        ]
    );
    let cgw = planned
        .plan
        .changes
        .iter()
        .find(|c| c.address == addr("tencentcloud_vpn_customer_gateway.cgw"))
        .expect("the moved customer gateway is planned");
    assert_eq!(cgw.action, Action::NoOp, "moved and unchanged: {cgw:?}");
    assert_eq!(
        cgw.moved_from,
        Some(addr("tencentcloud_vpn_customer_gateway.was"))
    );
    assert_eq!(planned.remote.objects.len(), whole.remote.objects.len());
}

/// A big block's objects are asked for a piece at a time (500), so each piece is compared with the
/// state while the next pages are still being read; nothing changed, nothing is planned.
#[test]
fn a_big_block_asks_for_its_objects_a_piece_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        r#"
resource "tencentcloud_vpn_customer_gateway" "office" {
  for_each          = { for i in range(1200) : format("o%04d", i) => i }
  name              = each.key
  public_ip_address = "198.51.100.7"
}
"#,
    );
    let mut state = State::new();
    let mut remote = RemoteSnapshot::default();
    for i in 0..1200 {
        let name = format!("o{i:04}");
        let address = addr(&format!(
            "tencentcloud_vpn_customer_gateway.office[\"{name}\"]"
        ));
        let attrs: Attrs = Map::from([
            ("name".to_string(), Value::from(name.as_str())),
            ("public_ip_address".to_string(), Value::from("198.51.100.7")),
        ]);
        let id = format!("cgw-{i}");
        let mut rs =
            tunnelform_state::ResourceState::new(ResourceKind::CustomerGateway, REGION, &id);
        rs.attributes = attrs.clone();
        state.resources.insert(address.clone(), rs);
        let object = RemoteObject {
            id,
            kind: ResourceKind::CustomerGateway,
            region: REGION.into(),
            attrs,
            ownership: Ownership::default(),
        };
        remote.objects.insert(address, object);
    }
    let opts = PlanOptions::default();
    let inputs = Inputs {
        config: &config,
        state: &state,
        opts: &opts,
        online: false,
    };
    let (planned, reads, stops) = plan_while_refreshing(inputs, &remote);
    let pieces: Vec<usize> = reads.iter().map(Vec::len).collect();
    assert_eq!(stops, 3, "one read of the state's objects at each stop");
    assert_eq!(pieces, [500, 500, 200]);
    assert_eq!(planned.plan.changes.len(), 1200);
    assert!(
        planned
            .plan
            .changes
            .iter()
            .all(|c| c.action == Action::NoOp),
        "nothing changed"
    );
    assert!(planned.plan.drift.is_empty());
}
