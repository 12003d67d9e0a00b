//! The executor walks the graph the plan carries (`Plan::graph`), not one built again from the
//! changes: a plan whose saved graph orders two independent creates runs them in that order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::apply_planned;
use tunnelform_apply::{Event, EventSink, StateStore};
use tunnelform_config::{Config, VarInputs};
use tunnelform_model::Address;
use tunnelform_plan::{build_graph, StepKind};
use tunnelform_planner::{make_plan, PlanOptions};
use tunnelform_sandbox::{Sandbox, SandboxConfig};
use tunnelform_state::{Journal, StateFile};
use tunnelform_tencent_api::{Client, ClientConfig, Credentials};

const CONFIG: &str = r#"
provider "tencentcloud" {
  region = "ap-guangzhou"
}

resource "tencentcloud_vpn_customer_gateway" "a" {
  name              = "a"
  public_ip_address = "198.51.100.1"
}

resource "tencentcloud_vpn_customer_gateway" "b" {
  name              = "b"
  public_ip_address = "198.51.100.2"
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_executor_runs_the_plans_own_graph() {
    let sandbox = Sandbox::start(SandboxConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        credentials: Credentials::new("AKIDgraph", "graph-secret", None),
        seed: Some(7),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = Client::new(
        ClientConfig::new(Credentials::new("AKIDgraph", "graph-secret", None))
            .with_endpoint(&sandbox.url())
            .unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), CONFIG).unwrap();
    let (config, _) = Config::load(dir.path(), &VarInputs::default()).unwrap();
    let state_path = dir.path().join("terraform.tfstate");
    let file = StateFile::open(&state_path).unwrap();
    let state = file.load().unwrap();

    let mut planned = make_plan(&client, &config, &state, &PlanOptions::default())
        .await
        .unwrap();
    let a: Address = "tencentcloud_vpn_customer_gateway.a".parse().unwrap();
    let b: Address = "tencentcloud_vpn_customer_gateway.b".parse().unwrap();
    // The two creates are independent: a graph built from the changes has no edge between them.
    let rebuilt = build_graph(&planned.plan).unwrap().to_data();
    assert!(rebuilt.edges.is_empty(), "{rebuilt:?}");
    // The plan's own graph makes `a` wait for `b`.
    let mut graph = planned
        .plan
        .graph
        .clone()
        .expect("the plan carries its graph");
    let node = |addr: &Address| {
        let change = planned
            .plan
            .changes
            .iter()
            .position(|c| &c.address == addr)
            .unwrap();
        graph
            .steps
            .iter()
            .position(|(c, k)| *c == change && *k == StepKind::Create)
            .unwrap() as u32
    };
    let (na, nb) = (node(&a), node(&b));
    graph.edges.push((nb, na));
    planned.plan.graph = Some(graph);

    let events: Arc<Mutex<Vec<(String, Address)>>> = Arc::default();
    let seen = events.clone();
    let sink: Arc<dyn EventSink> = Arc::new(move |e: Event| {
        let entry = match e {
            Event::Started { address, .. } => ("started", address),
            Event::Completed { address, .. } => ("completed", address),
            Event::Failed { address, .. } => ("failed", address),
            Event::Skipped { address, .. } => ("skipped", address),
        };
        seen.lock().unwrap().push((entry.0.to_string(), entry.1));
    });
    let store = StateStore::new(file, state, Journal::open(&state_path).unwrap());
    let report = apply_planned(
        &client,
        config,
        planned,
        &store,
        8,
        Duration::from_secs(60),
        sink,
    )
    .await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);

    let events = events.lock().unwrap().clone();
    let at = |what: &str, addr: &Address| {
        events
            .iter()
            .position(|(w, x)| w == what && x == addr)
            .unwrap_or_else(|| panic!("no {what} event for {addr}: {events:?}"))
    };
    assert!(
        at("completed", &b) < at("started", &a),
        "a started before b was created, so the plan's graph was not the one run: {events:?}"
    );
}
