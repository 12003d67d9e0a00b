//! The watch soak (issue 14): `tunnelform watch` left running over N tunnels (default 1,000) in
//! the sandbox with the documented rate limits and injected faults, for a bounded time (default 30
//! minutes).
//!
//! - The tunnels, their VPN gateways and customer gateways are created first through the engine
//!   against an unthrottled setup sandbox (untimed, as for benchmark 1); the measured sandbox then
//!   serves that world with the documented rate limits and `--fault-rate` (InternalError, HTTP
//!   503, connections dropped before or after the commit).
//! - `tunnelform watch DIR --interval I --listen 127.0.0.1:0 --endpoint URL --state FILE` runs as
//!   a user runs it. The harness scrapes its `/metrics` every `--soak-scrape-every` and reads its
//!   resident set size (`VmRSS` of `/proc/PID/status`) at each scrape.
//! - Per cycle: the cycle's duration (`tunnelform_cycle_duration_seconds` after it ended) and its
//!   API calls: the change of `tunnelform_api_requests_total` between two scrapes taken while no
//!   cycle ran (a scrape is taken between cycles when it comes before the next cycle's start, known
//!   from the last cycle's end and duration), one cycle apart.
//! - At the end the watch is stopped with SIGTERM (it must exit 0), and the sandbox's own counters
//!   give the server's side: requests, `RequestLimitExceeded` answers, faults injected.
//! - With healing on (`--soak-heal`), the watch runs with `--auto-apply --reset-down-after R`, and
//!   every `--soak-fault-every` the harness renames a few tunnels through the API (drift, as a
//!   hand edit in the console would) and sets a few others down through the sandbox's loopback
//!   control endpoint (as the peer going down would). Each tunnel is hit once at most. The watch's
//!   events then say what it healed (`drift_cleared` after an `apply_finished`) and reset
//!   (`tunnel_reset`, then `tunnel_up`); the harness counts them against what it injected.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context as _, Result};

use crate::gen::{Layout, Shape};
use crate::proc::{command, parse_http_response, tail, Sandbox, Stats};
use crate::{quotas, Ctx};

/// What the soak was asked to do.
#[derive(Debug, Clone)]
pub struct SoakOpts {
    pub tunnels: usize,
    pub interval: Duration,
    pub duration: Duration,
    pub fault_rate: f64,
    pub scrape_every: Duration,
    /// `--auto-apply --reset-down-after` on, and drift and downs injected.
    pub heal: Option<HealOpts>,
}

/// The injected faults of a healing soak.
#[derive(Debug, Clone)]
pub struct HealOpts {
    /// A round of injections this often.
    pub every: Duration,
    /// Tunnels renamed per round.
    pub drifts: usize,
    /// Tunnels set down per round.
    pub downs: usize,
    /// The watch's `--reset-down-after`.
    pub reset_after: Duration,
}

/// What the harness injected, and what the watch said it did about it.
#[derive(Debug, Clone, Default)]
pub struct HealResults {
    pub rounds: usize,
    /// Tunnel ids renamed / set down by the harness.
    pub drifted: Vec<String>,
    pub downed: Vec<String>,
    /// Injections that failed (after retries), with why.
    pub inject_failures: Vec<String>,
    /// Addresses with a `drift_cleared` event; `drift_appeared` events.
    pub drift_cleared: u64,
    pub drift_appeared: u64,
    /// `apply_finished` by outcome, and the objects they changed.
    pub applies: BTreeMap<String, u64>,
    pub changed: u64,
    /// `tunnel_reset` events by outcome; distinct downed tunnels reset (successfully); downed
    /// tunnels reset more than once; resets of tunnels the harness did not set down.
    pub resets: BTreeMap<String, u64>,
    pub downed_reset: usize,
    pub reset_twice: usize,
    pub reset_unasked: usize,
    /// Downed tunnels seen `tunnel_up` again after their reset.
    pub back_up: usize,
    /// Drifted tunnels whose name, read back through the API at the end, is the configured one.
    pub drift_healed_in_cloud: Option<usize>,
}

/// One completed cycle.
#[derive(Debug, Clone)]
pub struct CycleSample {
    /// Seconds since the watch started when the cycle was seen completed.
    pub at: f64,
    pub duration: f64,
    /// API requests of this one cycle (when two quiet scrapes framed it).
    pub calls: Option<u64>,
}

pub struct SoakResults {
    pub opts: SoakOpts,
    pub layout: Layout,
    pub expected_calls: usize,
    pub elapsed: f64,
    pub cycles_ok: u64,
    pub cycles_failed: u64,
    pub cycles: Vec<CycleSample>,
    /// API requests by action over every cycle after the first (the watch's own counters).
    pub calls_by_action: BTreeMap<String, u64>,
    /// Cycles those requests were spent on.
    pub calls_cycles: u64,
    /// `tunnelform_api_request_limit_exceeded_total` at the end.
    pub rle_client: u64,
    /// API errors by code (the watch's counters) at the end.
    pub client_errors: BTreeMap<String, u64>,
    /// The sandbox's counters over the whole run.
    pub server: Stats,
    /// (seconds since start, VmRSS KiB).
    pub rss: Vec<(f64, u64)>,
    pub scrapes: usize,
    pub scrape_failures: usize,
    pub exit_code: Option<i32>,
    /// Events of the watch by name (from its stdout).
    pub events: BTreeMap<String, u64>,
    /// The first few cycle errors, as the watch said them.
    pub errors_seen: Vec<String>,
    pub heal: Option<HealResults>,
}

/// `30m`, `180s`, `2h`, `1500ms`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| anyhow!("{s:?} is not a duration (e.g. 30m, 180s, 2h)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => bail!("{s:?}: unknown unit {unit:?} (use ms, s, m or h)"),
    };
    if !secs.is_finite() || secs <= 0.0 {
        bail!("{s:?}: a duration must be positive");
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `GET path` on `host_port`, the body.
pub fn http_get(host_port: &str, path: &str) -> Result<Vec<u8>> {
    let mut s =
        TcpStream::connect(host_port).with_context(|| format!("connecting to {host_port}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.set_write_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let (status, body) = parse_http_response(&raw)?;
    if status != 200 {
        bail!("GET {path} answered HTTP {status}");
    }
    Ok(body)
}

/// The samples of one metric in a Prometheus/OpenMetrics text: (labels text, value).
fn samples<'a>(text: &'a str, name: &str) -> Vec<(&'a str, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let rest = l.strip_prefix(name)?;
            let (labels, value) = if let Some(r) = rest.strip_prefix('{') {
                let end = r.find('}')?;
                (&r[..end], r[end + 1..].trim())
            } else if rest.starts_with(' ') {
                ("", rest.trim())
            } else {
                return None;
            };
            let v: f64 = value.split_whitespace().next()?.parse().ok()?;
            Some((labels, v))
        })
        .collect()
}

fn metric_sum(text: &str, name: &str) -> f64 {
    samples(text, name).iter().map(|(_, v)| v).sum()
}

/// The value of `label` in a labels text such as `action="X",code="Y"`.
fn label<'a>(labels: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("{key}=\"");
    let start = labels.find(&pat)? + pat.len();
    let end = labels[start..].find('"')?;
    Some(&labels[start..start + end])
}

fn metric_by(text: &str, name: &str, key: &str) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for (labels, v) in samples(text, name) {
        if let Some(k) = label(labels, key) {
            *m.entry(k.to_string()).or_default() += v as u64;
        }
    }
    m
}

/// What one scrape of `/metrics` says.
#[derive(Debug, Clone, Default, PartialEq)]
struct Scrape {
    ok: u64,
    failed: u64,
    duration: f64,
    last_success: f64,
    api: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    rle: u64,
}

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let cycles = metric_by(text, "tunnelform_cycles_total", "outcome");
        Scrape {
            ok: cycles.get("ok").copied().unwrap_or(0),
            failed: cycles.get("error").copied().unwrap_or(0),
            duration: metric_sum(text, "tunnelform_cycle_duration_seconds"),
            last_success: metric_sum(text, "tunnelform_last_successful_cycle_timestamp_seconds"),
            api: metric_by(text, "tunnelform_api_requests_total", "action"),
            errors: metric_by(text, "tunnelform_api_errors_total", "code"),
            rle: metric_sum(text, "tunnelform_api_request_limit_exceeded_total") as u64,
        }
    }

    fn cycles(&self) -> u64 {
        self.ok + self.failed
    }

    fn api_total(&self) -> u64 {
        self.api.values().sum()
    }

    /// Whether no cycle ran at unix time `now`: the last cycle succeeded, and `now` is before the
    /// next one starts (cycles start `interval` apart; a slow one delays the next).
    fn quiet_at(&self, now: f64, interval: f64) -> bool {
        self.last_success > 0.0
            && now > self.last_success
            && now < self.last_success - self.duration + interval.max(self.duration) - 0.5
    }
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// The watch child: killed if the harness leaves early.
struct Watch {
    child: Option<Child>,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Watch {
    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Waits for the `started` event and returns the listen address.
    fn listen_addr(&mut self, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let text = std::fs::read_to_string(&self.stdout).unwrap_or_default();
            for line in text.lines() {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                if v["event"] == "started" {
                    if let Some(a) = v["listen"].as_str() {
                        return Ok(a.to_string());
                    }
                }
            }
            if let Some(c) = self.child.as_mut() {
                if let Some(st) = c.try_wait()? {
                    bail!(
                        "`tunnelform watch` exited ({st}) before it started:\n{}",
                        tail(&self.stderr, 30)
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "`tunnelform watch` did not say `started` within {timeout:?}:\n{}",
            tail(&self.stderr, 30)
        )
    }

    /// SIGTERM, then the exit code (SIGKILL after `grace`).
    fn stop(&mut self, grace: Duration) -> Result<Option<i32>> {
        let Some(mut child) = self.child.take() else {
            return Ok(None);
        };
        // SAFETY: signalling our own child, not yet reaped.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(st) = child.try_wait()? {
                return Ok(st.code());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.kill().ok();
        child.wait().ok();
        bail!("`tunnelform watch` did not stop within {grace:?} of SIGTERM")
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().ok();
            c.wait().ok();
        }
    }
}

fn diff(a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    a.iter()
        .filter_map(|(k, v)| {
            let d = v.saturating_sub(b.get(k).copied().unwrap_or(0));
            (d > 0).then(|| (k.clone(), d))
        })
        .collect()
}

/// A POST to the sandbox's loopback control endpoint, setting tunnel `id` down or up.
fn set_status(host_port: &str, id: &str, status: &str) -> Result<()> {
    let mut s =
        TcpStream::connect(host_port).with_context(|| format!("connecting to {host_port}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.set_write_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "POST /_sandbox/connection-status?id={id}&net_status={status}&health_check_status={status} HTTP/1.1\r\nHost: {host_port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let (code, body) = parse_http_response(&raw)?;
    if code != 200 {
        bail!(
            "the control endpoint answered HTTP {code}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(())
}

/// The harness's side of a healing soak: renames tunnels through the API and sets others down
/// through the control endpoint, each tunnel at most once.
struct Injector {
    rt: tokio::runtime::Runtime,
    client: tunnelform_tencent_api::Client,
    host_port: String,
    /// (address, id) of every tunnel, in a fixed order; taken from `next` on.
    tunnels: Vec<(String, String)>,
    next: usize,
    opts: HealOpts,
    results: HealResults,
}

/// The tunnels of a state file: (address, id).
fn tunnels_of(state: &std::path::Path) -> Result<Vec<(String, String)>> {
    let bytes = std::fs::read(state).with_context(|| format!("reading {}", state.display()))?;
    let state = tunnelform_state::State::from_json_bytes(&bytes)
        .map_err(|e| anyhow!("{}: {e}", state.display()))?;
    Ok(state
        .resources
        .iter()
        .filter(|(_, rs)| rs.id.starts_with("vpnx-"))
        .map(|(a, rs)| (a.to_string(), rs.id.clone()))
        .collect())
}

impl Injector {
    fn new(url: &str, host_port: &str, state: &std::path::Path, opts: HealOpts) -> Result<Self> {
        use tunnelform_tencent_api::{ClientConfig, Credentials};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting a tokio runtime")?;
        let cc = ClientConfig::new(Credentials::new(
            crate::engine::SANDBOX_SECRET_ID,
            crate::engine::SANDBOX_SECRET_KEY,
            None,
        ))
        .with_endpoint(url)
        .map_err(|e| anyhow!("{e}"))?;
        let client = tunnelform_tencent_api::Client::new(cc).map_err(|e| anyhow!("{e}"))?;
        let mut tunnels = tunnels_of(state)?;
        if tunnels.is_empty() {
            bail!("no tunnel in {}", state.display());
        }
        // Spread the picks over the gateways: a fixed shuffle (stride coprime with the count).
        let n = tunnels.len();
        let stride = (1..n)
            .rev()
            .find(|k| gcd(*k, n) == 1 && *k <= n / 3 + 1)
            .unwrap_or(1);
        tunnels = (0..n).map(|i| tunnels[(i * stride) % n].clone()).collect();
        Ok(Injector {
            rt,
            client,
            host_port: host_port.to_string(),
            tunnels,
            next: 0,
            opts,
            results: HealResults::default(),
        })
    }

    fn take(&mut self) -> Option<(String, String)> {
        let t = self.tunnels.get(self.next).cloned();
        self.next += 1;
        t
    }

    /// Tries `f` up to 6 times (the sandbox injects faults into the harness's calls too).
    fn retrying(&mut self, what: &str, mut f: impl FnMut(&mut Self) -> Result<()>) -> bool {
        let mut last = String::new();
        for attempt in 0..6 {
            match f(self) {
                Ok(()) => return true,
                Err(e) => last = format!("{e:#}"),
            }
            std::thread::sleep(Duration::from_millis(300 * (attempt + 1)));
        }
        self.results.inject_failures.push(format!("{what}: {last}"));
        false
    }

    fn round(&mut self) {
        use tunnelform_tencent_api::actions::ModifyVpnConnectionAttribute;
        use tunnelform_tencent_api::vpc::ModifyVpnConnectionAttributeRequest;
        let round = self.results.rounds;
        self.results.rounds += 1;
        for j in 0..self.opts.drifts {
            let Some((_, id)) = self.take() else { return };
            let req = ModifyVpnConnectionAttributeRequest {
                vpn_connection_id: id.clone(),
                vpn_connection_name: Some(format!("soak-drift-{round}-{j}")),
                ..Default::default()
            };
            if self.retrying(&format!("renaming {id}"), |me| {
                me.rt
                    .block_on(
                        me.client
                            .call::<ModifyVpnConnectionAttribute>(crate::gen::REGION, &req),
                    )
                    .map(|_| ())
                    .map_err(|e| anyhow!("{e}"))
            }) {
                self.results.drifted.push(id);
            }
        }
        for _ in 0..self.opts.downs {
            let Some((_, id)) = self.take() else { return };
            let hp = self.host_port.clone();
            if self.retrying(&format!("setting {id} down"), |_| {
                set_status(&hp, &id, "UNAVAILABLE")
            }) {
                self.results.downed.push(id);
            }
        }
    }

    /// What the watch's events say about the injected faults; the drifted tunnels' names read
    /// back through the API.
    fn finish(mut self, events: &[serde_json::Value]) -> HealResults {
        let r = &mut self.results;
        let downed: std::collections::BTreeSet<&str> =
            r.downed.iter().map(String::as_str).collect();
        let mut resets_by_id: BTreeMap<String, u64> = BTreeMap::new();
        let mut reset_at: BTreeMap<String, usize> = BTreeMap::new();
        let mut up_after_reset: std::collections::BTreeSet<String> = Default::default();
        for (i, e) in events.iter().enumerate() {
            let id = e["id"].as_str().unwrap_or_default().to_string();
            match e["event"].as_str().unwrap_or_default() {
                "drift_cleared" => r.drift_cleared += 1,
                "drift_appeared" => r.drift_appeared += 1,
                "apply_finished" => {
                    let o = e["outcome"].as_str().unwrap_or("?").to_string();
                    *r.applies.entry(o).or_default() += 1;
                    r.changed += e["changed"].as_u64().unwrap_or(0);
                }
                "tunnel_reset" => {
                    let o = e["outcome"].as_str().unwrap_or("?").to_string();
                    *r.resets.entry(o.clone()).or_default() += 1;
                    if o == "success" {
                        *resets_by_id.entry(id.clone()).or_default() += 1;
                        reset_at.entry(id).or_insert(i);
                    }
                }
                "tunnel_up" if reset_at.get(&id).is_some_and(|at| *at < i) => {
                    up_after_reset.insert(id);
                }
                _ => {}
            }
        }
        r.downed_reset = resets_by_id
            .keys()
            .filter(|k| downed.contains(k.as_str()))
            .count();
        r.reset_twice = resets_by_id.values().filter(|n| **n > 1).count();
        r.reset_unasked = resets_by_id
            .keys()
            .filter(|k| !downed.contains(k.as_str()))
            .count();
        r.back_up = up_after_reset
            .iter()
            .filter(|k| downed.contains(k.as_str()))
            .count();
        let drifted: std::collections::BTreeSet<&str> =
            r.drifted.iter().map(String::as_str).collect();
        let names = self.rt.block_on(
            self.client
                .describe_vpn_connections_by_filters(crate::gen::REGION, &[]),
        );
        r.drift_healed_in_cloud = names.ok().map(|cs| {
            cs.iter()
                .filter(|c| drifted.contains(c.vpn_connection_id.as_str()))
                .filter(|c| !c.vpn_connection_name.starts_with("soak-drift-"))
                .count()
        });
        self.results
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The watch's healing flags of a healing soak.
fn heal_args(heal: Option<&HealOpts>) -> Vec<String> {
    match heal {
        Some(h) => vec![
            "--auto-apply".into(),
            "--reset-down-after".into(),
            format!("{}ms", h.reset_after.as_millis()),
        ],
        None => Vec::new(),
    }
}

pub fn bench_soak(ctx: &Ctx, opts: SoakOpts) -> Result<SoakResults> {
    let layout = ctx.layout(opts.tunnels)?;
    eprintln!(
        "\n[6] watch soak: {}, interval {:?}, for {:?}, fault rate {}",
        layout.describe(),
        opts.interval,
        opts.duration,
        opts.fault_rate
    );
    let (w, _) = ctx.build_world(
        layout,
        Shape::ForEach,
        &format!("soak-world-{}", opts.tunnels),
    )?;
    let mut sb_args = crate::measure_args(Some(&w.data));
    sb_args.extend([
        "--fault-rate".to_string(),
        opts.fault_rate.to_string(),
        "--seed".to_string(),
        "14".to_string(),
    ]);
    let sb: Sandbox = ctx.start_sandbox(&sb_args, "soak")?;
    let server_before = sb.stats()?;
    let mut injector = match &opts.heal {
        Some(h) => Some(Injector::new(&sb.url, &sb.host_port, &w.state, h.clone())?),
        None => None,
    };
    let (out, err) = ctx.out("soak-watch");
    let mut cmd = command(&ctx.tf);
    cmd.arg("watch")
        .arg(&w.dir)
        .args(["--interval", &format!("{}ms", opts.interval.as_millis())])
        .args(["--listen", "127.0.0.1:0", "--endpoint", &sb.url, "--state"])
        .arg(&w.state)
        .args(quotas())
        .args(heal_args(opts.heal.as_ref()))
        .current_dir(&ctx.tmp)
        .stdin(Stdio::null())
        .stdout(File::create(&out).with_context(|| format!("creating {}", out.display()))?)
        .stderr(File::create(&err).with_context(|| format!("creating {}", err.display()))?);
    let t0 = Instant::now();
    let child = cmd.spawn().context("starting `tunnelform watch`")?;
    let mut watch = Watch {
        child: Some(child),
        stdout: out.clone(),
        stderr: err.clone(),
    };
    let addr = watch.listen_addr(Duration::from_secs(120))?;
    let pid = watch.pid();
    eprintln!("  watch pid {pid} serving http://{addr}/metrics");

    let interval = opts.interval.as_secs_f64();
    let mut cycles: Vec<CycleSample> = Vec::new();
    let mut rss: Vec<(f64, u64)> = Vec::new();
    let mut last = Scrape::default();
    // The last scrape taken between cycles (and the cycle count then).
    let mut quiet: Option<Scrape> = None;
    // The first quiet scrape after the first cycle: calls by action are counted from it.
    let mut base: Option<Scrape> = None;
    let mut scrapes = 0;
    let mut scrape_failures = 0;
    let end = t0 + opts.duration;
    let mut next_report = t0 + Duration::from_secs(60);
    // Injections start after the first minute and stop two minutes before the end (so that the
    // last ones are healed and reset while the harness still watches).
    let mut next_fault = t0 + Duration::from_secs(60);
    let last_fault = end.checked_sub(Duration::from_secs(120)).unwrap_or(t0);
    while Instant::now() < end {
        if let (Some(inj), Some(h)) = (injector.as_mut(), opts.heal.as_ref()) {
            if Instant::now() >= next_fault && Instant::now() < last_fault {
                next_fault += h.every;
                inj.round();
            }
        }
        std::thread::sleep(
            opts.scrape_every
                .min(end.saturating_duration_since(Instant::now())),
        );
        if let Some(c) = watch.child.as_mut() {
            if let Some(st) = c.try_wait()? {
                bail!(
                    "`tunnelform watch` exited ({st}) during the soak:\n{}",
                    tail(&err, 30)
                );
            }
        }
        let at = t0.elapsed().as_secs_f64();
        let body = match http_get(&addr, "/metrics") {
            Ok(b) => b,
            Err(e) => {
                scrape_failures += 1;
                eprintln!("  scrape at {at:.0} s failed: {e:#}");
                continue;
            }
        };
        let now = now_unix();
        scrapes += 1;
        if let Some(k) = rss_kib(pid) {
            rss.push((at, k));
        }
        let s = Scrape::parse(&String::from_utf8_lossy(&body));
        if s.cycles() > last.cycles() {
            cycles.push(CycleSample {
                at,
                duration: s.duration,
                calls: None,
            });
        }
        if s.quiet_at(now, interval) {
            if let Some(q) = &quiet {
                if s.cycles() == q.cycles() + 1 && s.failed == q.failed {
                    if let Some(c) = cycles.last_mut() {
                        c.calls = Some(s.api_total() - q.api_total());
                    }
                }
            }
            if base.is_none() && s.cycles() >= 1 {
                base = Some(s.clone());
            }
            quiet = Some(s.clone());
        }
        last = s;
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(60);
            eprintln!(
                "  {:.0} s: {} cycles ({} failed), last {:.2} s, {} API calls so far, RSS {:.1} MB",
                at,
                last.cycles(),
                last.failed,
                last.duration,
                last.api_total(),
                rss.last().map_or(0.0, |(_, k)| *k as f64 / 1024.0)
            );
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let exit_code = watch.stop(Duration::from_secs(120))?;
    let server = sb.stats()?.since(&server_before);
    let all_events: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let heal = injector.map(|i| i.finish(&all_events));
    sb.stop()?;

    let (calls_by_action, calls_cycles) = match (&base, &quiet) {
        (Some(b), Some(q)) if q.cycles() > b.cycles() => {
            (diff(&q.api, &b.api), q.cycles() - b.cycles())
        }
        _ => (BTreeMap::new(), 0),
    };
    let mut events: BTreeMap<String, u64> = BTreeMap::new();
    let mut errors_seen = Vec::new();
    for line in std::fs::read_to_string(&out).unwrap_or_default().lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let ev = v["event"].as_str().unwrap_or("?").to_string();
        if ev == "cycle_error" && errors_seen.len() < 3 {
            errors_seen.push(v["error"].as_str().unwrap_or_default().to_string());
        }
        *events.entry(ev).or_default() += 1;
    }
    let r = SoakResults {
        expected_calls: crate::bound::refresh_calls(&layout, &ctx.limits).total(),
        opts,
        layout,
        elapsed,
        cycles_ok: last.ok,
        cycles_failed: last.failed,
        cycles,
        calls_by_action,
        calls_cycles,
        rle_client: last.rle,
        client_errors: last.errors.clone(),
        server,
        rss,
        scrapes,
        scrape_failures,
        exit_code,
        events,
        errors_seen,
        heal,
    };
    if r.exit_code != Some(0) {
        bail!(
            "`tunnelform watch` exited with {:?} after SIGTERM (expected 0):\n{}",
            r.exit_code,
            tail(&err, 30)
        );
    }
    Ok(r)
}

fn counts(m: &BTreeMap<String, u64>) -> String {
    if m.is_empty() {
        return "none".to_string();
    }
    m.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn heal_markdown(h: &HealResults, o: &HealOpts, interval: Duration) -> String {
    let mut md = format!(
        "\nHealing on: the watch ran with `--auto-apply --reset-down-after {:.0}s`; every {:.0} s \
         (from minute 1 to two minutes before the end) the harness renamed {} tunnel(s) through \
         `ModifyVpnConnectionAttribute` and set {} other(s) down (`NetStatus` and health check \
         `UNAVAILABLE`) through the sandbox's control endpoint, each tunnel hit once at most \
         (interval {:.0} s).\n\n| healing | value |\n| --- | --- |\n",
        o.reset_after.as_secs_f64(),
        o.every.as_secs_f64(),
        o.drifts,
        o.downs,
        interval.as_secs_f64(),
    );
    md.push_str(&format!(
        "| injection rounds | {} ({} injections failed after retries) |\n",
        h.rounds,
        h.inject_failures.len()
    ));
    md.push_str(&format!(
        "| drift injected / healed | {} tunnels renamed; {} `drift_appeared`, {} `drift_cleared`; \
         applies {} ({} objects changed); {} renamed tunnels carry their configured name again at the end |\n",
        h.drifted.len(),
        h.drift_appeared,
        h.drift_cleared,
        counts(&h.applies),
        h.changed,
        h.drift_healed_in_cloud
            .map_or("(not read)".to_string(), |n| format!("{n} of {}", h.drifted.len())),
    ));
    md.push_str(&format!(
        "| downs injected / reset | {} tunnels set down; `tunnel_reset` {}; {} of them reset, {} reset more than once, {} resets of tunnels not set down; {} seen `tunnel_up` after their reset |\n",
        h.downed.len(),
        counts(&h.resets),
        h.downed_reset,
        h.reset_twice,
        h.reset_unasked,
        h.back_up,
    ));
    for f in h.inject_failures.iter().take(3) {
        md.push_str(&format!("\nInjection failed: `{}`\n", f.replace('`', "'")));
    }
    md
}

fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[rank - 1]
}

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

impl SoakResults {
    pub fn markdown(&self) -> String {
        let o = &self.opts;
        let mut md = format!(
            "`tunnelform watch --interval {}s` over {} for {:.1} minutes, against the sandbox with the \
             documented rate limits and `--fault-rate {}` (InternalError, HTTP 503, connections dropped \
             before or after the commit); `/metrics` scraped every {:.0} s ({} scrapes, {} failed), RSS \
             read from `/proc/PID/status` at each scrape. Stopped with SIGTERM: exit code {}.\n\n",
            o.interval.as_secs_f64(),
            self.layout.describe(),
            self.elapsed / 60.0,
            o.fault_rate,
            o.scrape_every.as_secs_f64(),
            self.scrapes,
            self.scrape_failures,
            self.exit_code.map_or("none".to_string(), |c| c.to_string()),
        );
        let durations: Vec<f64> = self.cycles.iter().map(|c| c.duration).collect();
        let per_cycle: Vec<f64> = self
            .cycles
            .iter()
            .skip(1)
            .filter_map(|c| c.calls.map(|n| n as f64))
            .collect();
        let first_calls = self
            .cycles
            .first()
            .and_then(|c| c.calls)
            .map_or("not framed".to_string(), |n| n.to_string());
        let total_calls: u64 = self.calls_by_action.values().sum();
        let mean_calls = if self.calls_cycles > 0 {
            total_calls as f64 / self.calls_cycles as f64
        } else {
            f64::NAN
        };
        md.push_str("| measure | value |\n| --- | --- |\n");
        md.push_str(&format!(
            "| cycles | {} ok, {} failed |\n",
            self.cycles_ok, self.cycles_failed
        ));
        md.push_str(&format!(
            "| cycle time | median {:.2} s, p95 {:.2} s, max {:.2} s ({} cycles) |\n",
            quantile(&durations, 0.5),
            quantile(&durations, 0.95),
            quantile(&durations, 1.0),
            durations.len()
        ));
        md.push_str(&format!(
            "| API calls per cycle (after the first) | mean {:.2} over {} cycles; per framed cycle median {:.0}, min {:.0}, max {:.0} ({} cycles framed) |\n",
            mean_calls,
            self.calls_cycles,
            quantile(&per_cycle, 0.5),
            quantile(&per_cycle, 0.0),
            quantile(&per_cycle, 1.0),
            per_cycle.len()
        ));
        md.push_str(&format!(
            "| expected per cycle (ceil(N/100) + ceil(G/100) + ceil(C/100) describes) | {} |\n",
            self.expected_calls
        ));
        md.push_str(&format!(
            "| API calls of the first cycle | {first_calls} |\n"
        ));
        let per_action: Vec<String> = self
            .calls_by_action
            .iter()
            .map(|(a, n)| format!("{a} {:.2}", *n as f64 / self.calls_cycles.max(1) as f64))
            .collect();
        md.push_str(&format!(
            "| calls per cycle by action | {} |\n",
            if per_action.is_empty() {
                "none".to_string()
            } else {
                per_action.join(", ")
            }
        ));
        md.push_str(&format!(
            "| RequestLimitExceeded | {} seen by the watch, {} answered by the sandbox |\n",
            self.rle_client,
            self.server.rate_limited()
        ));
        md.push_str(&format!(
            "| faults injected by the sandbox | {} |\n",
            if self.server.faults.is_empty() {
                "none".to_string()
            } else {
                self.server
                    .faults
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
        md.push_str(&format!(
            "| API errors seen by the watch | {} |\n",
            if self.client_errors.is_empty() {
                "none".to_string()
            } else {
                self.client_errors
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
        md.push_str(&format!(
            "| requests the sandbox served | {} ({}) |\n",
            self.server.total_requests(),
            self.server.requests_line()
        ));
        let events: Vec<String> = self
            .events
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        md.push_str(&format!("| watch events | {} |\n", events.join(", ")));
        // Memory: from the end of the first cycle (the steady state) to the last scrape.
        let first_cycle_at = self.cycles.first().map_or(0.0, |c| c.at);
        let steady: Vec<&(f64, u64)> = self
            .rss
            .iter()
            .filter(|(t, _)| *t >= first_cycle_at)
            .collect();
        if let (Some(first), Some(last)) = (steady.first(), steady.last()) {
            let max = steady.iter().map(|(_, k)| *k).max().unwrap_or(0);
            let half = steady
                .iter()
                .find(|(t, _)| *t >= (first.0 + last.0) / 2.0)
                .map_or(first.1, |(_, k)| *k);
            md.push_str(&format!(
                "| RSS after the first cycle / at half time / at the end | {:.1} MB / {:.1} MB / {:.1} MB |\n",
                mb(first.1),
                mb(half),
                mb(last.1)
            ));
            md.push_str(&format!(
                "| RSS growth (end minus after the first cycle; second half) | {:+.1} MB; {:+.1} MB (max {:.1} MB) |\n",
                mb(last.1) - mb(first.1),
                mb(last.1) - mb(half),
                mb(max)
            ));
            md.push_str("\nRSS over time (MB), one sample per tenth of the run:\n\n| minute |");
            let picks: Vec<&(f64, u64)> = (0..=10)
                .filter_map(|i| {
                    let t = first.0 + (last.0 - first.0) * i as f64 / 10.0;
                    steady.iter().find(|(s, _)| *s >= t - 1e-9).copied()
                })
                .collect();
            for (t, _) in &picks {
                md.push_str(&format!(" {:.1} |", t / 60.0));
            }
            md.push_str("\n| --- |");
            for _ in &picks {
                md.push_str(" --- |");
            }
            md.push_str("\n| RSS |");
            for (_, k) in &picks {
                md.push_str(&format!(" {:.1} |", mb(*k)));
            }
            md.push('\n');
        }
        if let (Some(h), Some(ho)) = (&self.heal, &o.heal) {
            md.push_str(&heal_markdown(h, ho, o.interval));
        }
        if !self.errors_seen.is_empty() {
            md.push_str("\nFirst cycle errors:\n\n");
            for e in &self.errors_seen {
                md.push_str(&format!("- `{}`\n", e.replace('`', "'").replace('\n', " ")));
            }
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# HELP tunnelform_cycles Watch cycles run, by outcome\n\
        # TYPE tunnelform_cycles counter\n\
        tunnelform_cycles_total{outcome=\"ok\"} 7\n\
        tunnelform_cycles_total{outcome=\"error\"} 1\n\
        tunnelform_cycle_duration_seconds 1.5\n\
        tunnelform_last_successful_cycle_timestamp_seconds 1000.0\n\
        tunnelform_api_requests_total{action=\"DescribeVpnConnections\"} 70\n\
        tunnelform_api_requests_total{action=\"DescribeVpnGateways\"} 8\n\
        tunnelform_api_errors_total{code=\"InternalError\"} 2\n\
        tunnelform_api_request_limit_exceeded_total 0\n\
        # EOF\n";

    #[test]
    fn a_scrape_reads_cycles_calls_and_errors() {
        let s = Scrape::parse(TEXT);
        assert_eq!((s.ok, s.failed, s.cycles()), (7, 1, 8));
        assert_eq!(s.duration, 1.5);
        assert_eq!(s.api_total(), 78);
        assert_eq!(s.api.get("DescribeVpnGateways"), Some(&8));
        assert_eq!(s.errors.get("InternalError"), Some(&2));
        assert_eq!(s.rle, 0);
    }

    #[test]
    fn quiet_means_between_the_last_cycle_end_and_the_next_start() {
        let s = Scrape::parse(TEXT);
        // The last cycle ran 998.5..1000; the next starts at 1008.5 (interval 10 s).
        assert!(!s.quiet_at(999.0, 10.0));
        assert!(s.quiet_at(1001.0, 10.0));
        assert!(s.quiet_at(1007.9, 10.0));
        assert!(!s.quiet_at(1008.2, 10.0));
    }

    #[test]
    fn durations_and_quantiles() {
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("180").unwrap(), Duration::from_secs(180));
        assert_eq!(
            parse_duration("1500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert!(parse_duration("3 weeks").is_err());
        assert!(parse_duration("0s").is_err());
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 10.0);
        assert_eq!(quantile(&v, 0.95), 19.0);
        assert_eq!(quantile(&v, 1.0), 20.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
    }
}
