//! Sandbox throughput for `DescribeVpnConnections` on loopback.
//!
//! The sandbox runs in its own 2-thread runtime; N keep-alive clients (reqwest, HTTP/1.1) in another runtime
//! send signed requests (re-signed whenever the second changes, as a real client's timestamp would) for a fixed
//! time. Each workload is measured over several runs and the median requests/second is printed.
//!
//! Run: `cargo bench -p tunnelform-sandbox --bench throughput` (options via environment: `CLIENTS`, `RUNS`,
//! `SECONDS`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tunnelform_sandbox::{Credentials, RateLimits, Sandbox, SandboxConfig};
use tunnelform_tc3::{self as tc3, RequestParts};

const SECRET_ID: &str = "AKIDbench";
const SECRET_KEY: &str = "benchsecret";
const REGION: &str = "ap-guangzhou";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[derive(Clone)]
struct Signer {
    host: String,
    creds: Credentials,
}

impl Signer {
    /// The headers of a signed vpc request.
    fn headers(&self, action: &str, body: &[u8], timestamp: i64) -> reqwest::header::HeaderMap {
        let ts = timestamp.to_string();
        let pairs = [
            ("content-type", "application/json"),
            ("host", self.host.as_str()),
            ("x-tc-action", action),
            ("x-tc-version", "2017-03-12"),
            ("x-tc-region", REGION),
            ("x-tc-timestamp", ts.as_str()),
        ];
        let parts = RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers: &pairs,
            payload: body,
        };
        let signed = tc3::sign(
            &parts,
            &["content-type", "host"],
            "vpc",
            timestamp,
            &self.creds,
        )
        .expect("sign");
        let mut map = reqwest::header::HeaderMap::new();
        for (n, v) in pairs.iter().filter(|(n, _)| *n != "host") {
            map.insert(*n, v.parse().expect("header"));
        }
        map.insert(
            "authorization",
            signed.authorization.parse().expect("header"),
        );
        map
    }
}

async fn call(
    http: &reqwest::Client,
    url: &str,
    signer: &Signer,
    action: &str,
    body: Value,
) -> Value {
    let body = serde_json::to_vec(&body).expect("json");
    let resp = http
        .post(url)
        .headers(signer.headers(action, &body, now()))
        .body(body)
        .send()
        .await
        .expect("send");
    let v: Value = resp.json().await.expect("json");
    assert!(v["Response"]["Error"].is_null(), "{action}: {v}");
    v["Response"].clone()
}

/// Builds the world: one VPN gateway with `tunnels` tunnels. Returns the gateway id and one tunnel id.
async fn setup(
    http: &reqwest::Client,
    url: &str,
    signer: &Signer,
    tunnels: usize,
) -> (String, String) {
    let r = call(
        http,
        url,
        signer,
        "CreateVpnGateway",
        json!({"VpcId": "vpc-sandbox1", "VpnGatewayName": "bench", "InternetMaxBandwidthOut": 100}),
    )
    .await;
    let gw = r["VpnGateway"]["VpnGatewayId"]
        .as_str()
        .expect("id")
        .to_string();
    loop {
        let r = call(
            http,
            url,
            signer,
            "DescribeVpnGateways",
            json!({"VpnGatewayIds": [gw]}),
        )
        .await;
        if r["VpnGatewaySet"][0]["State"] == "AVAILABLE" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut first = String::new();
    for i in 0..tunnels {
        let r = call(
            http,
            url,
            signer,
            "CreateCustomerGateway",
            json!({"CustomerGatewayName": format!("peer-{i}"), "IpAddress": format!("58.211.{}.{}", i / 200 + 1, i % 200 + 1)}),
        )
        .await;
        let cgw = r["CustomerGateway"]["CustomerGatewayId"]
            .as_str()
            .expect("id")
            .to_string();
        let r = call(
            http,
            url,
            signer,
            "CreateVpnConnection",
            json!({"VpnGatewayId": gw, "CustomerGatewayId": cgw, "VpnConnectionName": format!("tunnel-{i}"),
                   "PreShareKey": "bench-psk",
                   "SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.0.0/16", "RemoteCidrBlock": [format!("192.168.{i}.0/24")]}]}),
        )
        .await;
        if first.is_empty() {
            first = r["VpnConnection"]["VpnConnectionId"]
                .as_str()
                .expect("id")
                .to_string();
        }
    }
    (gw, first)
}

/// CPU time (user + system, in clock ticks of 10 ms) used so far by the sandbox's runtime threads.
fn server_cpu_ticks() -> Option<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = entry.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !comm.starts_with(SERVER_THREAD) {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        total += fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    }
    Some(total)
}

const SERVER_THREAD: &str = "sandbox-srv";

struct Measured {
    requests_per_second: f64,
    /// Server CPU per request (microseconds), when /proc is available.
    server_cpu_us: Option<f64>,
}

/// Runs `clients` loops sending `body` for `seconds`.
async fn measure(
    url: &str,
    signer: &Signer,
    clients: usize,
    seconds: u64,
    body: Value,
) -> Measured {
    let body = Arc::new(serde_json::to_vec(&body).expect("json"));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (url, signer, body, stop, done) = (
            url.to_string(),
            signer.clone(),
            body.clone(),
            stop.clone(),
            done.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .http1_only()
                .pool_max_idle_per_host(1)
                .build()
                .expect("client");
            let mut ts = now();
            let mut headers = signer.headers("DescribeVpnConnections", &body, ts);
            while !stop.load(Ordering::Relaxed) {
                if now() != ts {
                    ts = now();
                    headers = signer.headers("DescribeVpnConnections", &body, ts);
                }
                let resp = http
                    .post(&url)
                    .headers(headers.clone())
                    .body(body.as_ref().clone())
                    .send()
                    .await
                    .expect("send");
                let bytes = resp.bytes().await.expect("body");
                // The first bytes tell a success (`{"Response":{"TotalCount"...`) from an error.
                assert!(
                    !bytes.windows(8).take(64).any(|w| w == b"\"Error\":"),
                    "error response"
                );
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Warm up the connections, then count over the measured window.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start_count = done.load(Ordering::Relaxed);
    let start_cpu = server_cpu_ticks();
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let count = done.load(Ordering::Relaxed) - start_count;
    let end_cpu = server_cpu_ticks();
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("client task");
    }
    let server_cpu_us = match (start_cpu, end_cpu) {
        (Some(a), Some(b)) if count > 0 => Some((b - a) as f64 * 10_000.0 / count as f64),
        _ => None,
    };
    Measured {
        requests_per_second: count as f64 / elapsed,
        server_cpu_us,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let clients = env_or("CLIENTS", 16) as usize;
    let runs = env_or("RUNS", 5) as usize;
    let seconds = env_or("SECONDS", 2);
    let tunnels = 100;

    // The sandbox in its own runtime and threads, as a separate process would be.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(SERVER_THREAD)
        .enable_all()
        .build()
        .expect("runtime");
    let config = SandboxConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        credentials: Credentials::new(SECRET_ID, SECRET_KEY, None),
        task_latency: Duration::from_millis(0),
        rate_limits: RateLimits::unlimited(),
        seed: Some(1),
        ..SandboxConfig::default()
    };
    let mut config = config;
    config.quotas.customer_gateways_per_region = tunnels as u32;
    config.quotas.tunnels_per_vpn_gateway = tunnels as u32;
    let handle = server_rt
        .block_on(Sandbox::start(config))
        .expect("sandbox starts");
    let url = format!("{}/", handle.url());
    let signer = Signer {
        host: handle.addr().to_string(),
        creds: Credentials::new(SECRET_ID, SECRET_KEY, None),
    };

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    client_rt.block_on(async {
        let http = reqwest::Client::new();
        let (gw, one) = setup(&http, &url, &signer, tunnels).await;
        println!(
            "sandbox throughput, DescribeVpnConnections on loopback: {clients} keep-alive clients, {runs} runs of {seconds} s, median; {tunnels} tunnels on one gateway"
        );
        let workloads = [
            ("one tunnel by id", json!({"VpnConnectionIds": [one]})),
            ("default page (20 tunnels)", json!({})),
            (
                "page of 100 by vpn-gateway-id filter",
                json!({"Filters": [{"Name": "vpn-gateway-id", "Values": [gw]}], "Limit": 100}),
            ),
        ];
        for (name, body) in workloads {
            let mut rates = Vec::new();
            let mut cpus = Vec::new();
            for _ in 0..runs {
                let m = measure(&url, &signer, clients, seconds, body.clone()).await;
                rates.push(m.requests_per_second);
                cpus.extend(m.server_cpu_us);
            }
            let rendered: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
            let cpu = if cpus.is_empty() {
                String::new()
            } else {
                let us = median(cpus);
                format!(
                    "; server CPU {us:.0} us/request = {:.0} requests/s per core",
                    1e6 / us
                )
            };
            println!(
                "  {name:<38} {:>7.0} requests/s (runs: {}){cpu}",
                median(rates),
                rendered.join(", ")
            );
        }
    });
    server_rt.block_on(async {
        handle.shutdown().await.expect("shutdown");
    });
}
