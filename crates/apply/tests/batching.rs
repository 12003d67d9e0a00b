//! Batching of routes by the executor, against the real sandbox, on a slow disk: every journal
//! write costs what an fsync costs on a busy shared machine (a few milliseconds). The routes of one
//! VPN gateway that are ready together go out in the fewest CreateVpnGatewayRoutes calls the API's
//! per-call maximum allows, however long the journal takes and however the runtime schedules the
//! steps; a batch the API refuses reports which routes failed and records the others.

use std::sync::Arc;
use std::time::Duration;

use crate::support::apply_planned;
use tunnelform_apply::{ApplyReport, Event, EventSink, StateStore};
use tunnelform_config::{Config, VarInputs};
use tunnelform_kinds::vpn_gateway_route::MAX_ROUTES_PER_CALL;
use tunnelform_planner::{make_plan, PlanOptions};
use tunnelform_sandbox::{Quotas, Sandbox, SandboxConfig, SandboxHandle};
use tunnelform_state::{
    BackendError, BoxFuture, HeldLock, LocalBackend, LockInfo, LockRecord, OnWait, Record, State,
    StateBackend, StateFile,
};
use tunnelform_tencent_api::{Client, ClientConfig, Credentials};

/// What one journal write (an append and its fsync) costs on the slow disk.
const FSYNC: Duration = Duration::from_millis(3);

/// The local backend on a disk where every durable journal write takes [`FSYNC`] (blocking the
/// calling thread, as an fsync does), whether it holds one record or many.
struct SlowDisk(LocalBackend);

impl StateBackend for SlowDisk {
    fn name(&self) -> String {
        self.0.name()
    }
    fn exists(&self) -> Result<bool, BackendError> {
        self.0.exists()
    }
    fn load(&self) -> Result<State, BackendError> {
        self.0.load()
    }
    fn save(&self, state: &mut State) -> Result<(), BackendError> {
        self.0.save(state)
    }
    fn replace(&self, state: &State) -> Result<(), BackendError> {
        self.0.replace(state)
    }
    fn journal(&self) -> Result<tunnelform_state::Journal, BackendError> {
        self.0.journal()
    }
    fn append(&self, record: &Record) -> Result<(), BackendError> {
        std::thread::sleep(FSYNC);
        self.0.append(record)
    }
    fn append_all(&self, records: &[Record]) -> Result<(), BackendError> {
        std::thread::sleep(FSYNC);
        self.0.append_all(records)
    }
    fn settle(&self, state: Option<&mut State>, keep_unfinished: bool) -> Result<(), BackendError> {
        self.0.settle(state, keep_unfinished)
    }
    fn lock<'a>(
        &'a self,
        info: LockInfo,
        timeout: Option<Duration>,
        on_wait: OnWait<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn HeldLock>, BackendError>> {
        self.0.lock(info, timeout, on_wait)
    }
    fn lock_holder(&self) -> BoxFuture<'_, Result<Option<LockRecord>, BackendError>> {
        self.0.lock_holder()
    }
    fn force_unlock<'a>(
        &'a self,
        lock_id: &'a str,
    ) -> BoxFuture<'a, Result<LockRecord, BackendError>> {
        self.0.force_unlock(lock_id)
    }
}

struct Env {
    sandbox: SandboxHandle,
    client: Client,
    dir: tempfile::TempDir,
}

async fn start(task_latency: Duration, quotas: Quotas) -> Env {
    let credentials = || Credentials::new("AKIDbatching", "batching-secret", None);
    let sandbox = Sandbox::start(SandboxConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        credentials: credentials(),
        seed: Some(11),
        task_latency,
        quotas,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = Client::new(
        ClientConfig::new(credentials())
            .with_endpoint(&sandbox.url())
            .unwrap(),
    )
    .unwrap();
    Env {
        sandbox,
        client,
        dir: tempfile::tempdir().unwrap(),
    }
}

impl Env {
    /// Plans `tf` against the state and applies it with the journal on the slow disk.
    async fn apply(&self, tf: &str) -> (ApplyReport, State) {
        std::fs::write(self.dir.path().join("main.tf"), tf).unwrap();
        let (config, _) = Config::load(self.dir.path(), &VarInputs::default()).unwrap();
        let state_path = self.dir.path().join("terraform.tfstate");
        let file = StateFile::open(&state_path).unwrap();
        let state = file.load().unwrap();
        let planned = make_plan(&self.client, &config, &state, &PlanOptions::default())
            .await
            .unwrap();
        let store = StateStore::with_backend(Arc::new(SlowDisk(LocalBackend::new(file))), state);
        let sink: Arc<dyn EventSink> = Arc::new(|_: Event| {});
        let report = apply_planned(
            &self.client,
            config,
            planned,
            &store,
            200,
            Duration::from_secs(120),
            sink,
        )
        .await;
        (report, store.snapshot())
    }

    fn calls(&self, action: &str) -> u64 {
        self.sandbox.stats().requests_for(action)
    }
}

/// `gateways` VPN gateways, each with one route-based tunnel, and `routes(g)` routes on gateway g
/// (none: no route block).
fn site(gateways: usize, routes: impl Fn(usize) -> usize) -> String {
    let mut tf = String::from(
        r#"
provider "tencentcloud" {
  region = "ap-guangzhou"
}

resource "tencentcloud_vpn_customer_gateway" "dc" {
  name              = "dc"
  public_ip_address = "203.0.113.10"
}
"#,
    );
    for g in 0..gateways {
        tf.push_str(&format!(
            r#"
resource "tencentcloud_vpn_gateway" "g{g}" {{
  name      = "gw-{g}"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
}}

resource "tencentcloud_vpn_connection" "g{g}" {{
  name                = "tunnel-{g}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.g{g}.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.dc.id
  pre_share_key       = "batching-psk-7Qw"
  route_type          = "StaticRoute"
}}
"#
        ));
        let n = routes(g);
        if n == 0 {
            continue;
        }
        let dests = (0..n)
            .map(|i| format!("\"192.{}.{}.0/24\"", 168 - i / 256, i % 256))
            .collect::<Vec<_>>()
            .join(", ");
        tf.push_str(&format!(
            r#"
resource "tencentcloud_vpn_gateway_route" "g{g}" {{
  for_each               = toset([{dests}])
  vpn_gateway_id         = tencentcloud_vpn_gateway.g{g}.id
  destination_cidr_block = each.value
  instance_type          = "VPNCONN"
  instance_id            = tencentcloud_vpn_connection.g{g}.id
  priority               = 0
  status                 = "ENABLE"
}}
"#
        ));
    }
    tf
}

fn quotas(routes_per_gateway: u32) -> Quotas {
    let mut q = Quotas::default();
    q.set("routes-per-vpn-gateway", routes_per_gateway).unwrap();
    q
}

fn gateway_routes(state: &State) -> usize {
    state
        .resources
        .keys()
        .filter(|a| a.to_string().starts_with("tencentcloud_vpn_gateway_route."))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_of_one_gateway_ready_together_go_in_the_fewest_calls() {
    let env = start(Duration::from_millis(50), quotas(1000)).await;
    let (report, _) = env.apply(&site(8, |_| 0)).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let reads = env.calls("DescribeVpnGatewayRoutes");

    // Every route is ready at once (its gateway and tunnel exist): 250 on the first gateway, more
    // than one call takes, and 20 on each of the 7 others.
    let big = 250;
    let (report, state) = env.apply(&site(8, |g| if g == 0 { big } else { 20 })).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.added, big + 7 * 20);
    let fewest = big.div_ceil(MAX_ROUTES_PER_CALL) + 7;
    assert_eq!(
        env.calls("CreateVpnGatewayRoutes"),
        fewest as u64,
        "{:?}",
        env.sandbox.stats()
    );
    assert_eq!(gateway_routes(&state), big + 7 * 20);
    // The answers list the new routes: nothing is read back.
    assert_eq!(env.calls("DescribeVpnGatewayRoutes"), reads);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_whose_gateway_becomes_ready_later_still_go_in_one_call_per_gateway() {
    // The gateways are created in this apply (20/s), each PENDING for 300 ms, then their tunnels:
    // each gateway's routes become ready when its own tunnel is AVAILABLE, at a moment of its own.
    let env = start(Duration::from_millis(300), quotas(1000)).await;
    let gateways = 6;
    let (report, state) = env.apply(&site(gateways, |_| 40)).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(gateway_routes(&state), gateways * 40);
    assert_eq!(
        env.calls("CreateVpnGatewayRoutes"),
        gateways as u64,
        "{:?}",
        env.sandbox.stats()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_batch_reports_the_routes_that_failed_and_records_the_others() {
    // The gateway takes 5 routes: the call with all 8 is refused, each is then sent on its own.
    let env = start(Duration::from_millis(50), quotas(5)).await;
    let (report, _) = env.apply(&site(1, |_| 0)).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let (report, state) = env.apply(&site(1, |_| 8)).await;

    assert_eq!(report.added, 5, "{report:?}");
    assert_eq!(report.failures.len(), 3, "{:?}", report.failures);
    for f in &report.failures {
        assert!(
            f.address
                .to_string()
                .starts_with("tencentcloud_vpn_gateway_route.g0["),
            "{f}"
        );
        assert_eq!(
            f.code.as_deref(),
            Some("LimitExceeded.VpnGatewayRoutesLimitExceeded"),
            "{f}"
        );
        assert!(!state.resources.contains_key(&f.address), "{f}");
    }
    // The state holds the 5 routes the cloud has, with their ids, and nothing else.
    let gw = state
        .resources
        .iter()
        .find(|(a, _)| a.to_string() == "tencentcloud_vpn_gateway.g0")
        .map(|(_, r)| r.id.clone())
        .unwrap();
    let cloud = env
        .client
        .describe_vpn_gateway_routes("ap-guangzhou", &gw)
        .await
        .unwrap();
    let mut in_cloud: Vec<String> = cloud
        .iter()
        .map(|r| format!("{gw}#{}", r.route_id.clone().unwrap_or_default()))
        .collect();
    let mut in_state: Vec<String> = state
        .resources
        .iter()
        .filter(|(a, _)| a.to_string().starts_with("tencentcloud_vpn_gateway_route."))
        .map(|(_, r)| r.id.clone())
        .collect();
    in_cloud.sort();
    in_state.sort();
    assert_eq!(in_cloud.len(), 5);
    assert_eq!(in_state, in_cloud);
}
