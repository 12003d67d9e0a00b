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
