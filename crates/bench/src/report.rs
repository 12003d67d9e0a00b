//! Results: medians, verdicts against the issue's targets, Markdown tables (printed and written into
//! BENCHMARKS.md between per-benchmark markers, so a partial run only replaces what it measured).

use std::fmt::Write as _;

use crate::bound::{CreateBound, ModifyBound};
use crate::engine::OfflineResult;
use crate::gen::{Layout, Shape};
use crate::proc::{Outcome, Stats};

/// The limit a request of `action` is subject to (FACTS.md; unlisted: 20/s).
pub fn documented_limit(action: &str) -> f64 {
    match action {
        "CreateVpnConnection" | "DescribeVpnConnections" | "ModifyVpnGatewayAttribute" => 100.0,
        "CreateRoutes" | "DeleteRoutes" | "DescribeRouteTables" => 100.0,
        "DescribeVpnGateways" => 300.0,
        _ => 20.0,
    }
}

/// One timed run of a child.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    pub wall: f64,
    pub rss_kib: u64,
    pub cpu: f64,
}

impl From<&Outcome> for Sample {
    fn from(o: &Outcome) -> Self {
        Sample {
            wall: o.wall.as_secs_f64(),
            rss_kib: o.max_rss_kib,
            cpu: (o.user + o.sys).as_secs_f64(),
        }
    }
}

pub fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

pub fn median_u64(v: &[u64]) -> u64 {
    median(&v.iter().map(|&x| x as f64).collect::<Vec<_>>()).round() as u64
}

/// Megabytes (10^6 bytes) from KiB.
pub fn mb(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1e6
}

pub fn secs(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.3} s")
    } else {
        format!("{s:.1} s")
    }
}

/// "met (0.82x the target)" / "MISSED by 2.31x (6.9 s against 3 s)". A near miss keeps enough
/// digits to show that it is one ("MISSED by 1.002x (2.824 s against 2.817 s)", never "by 1.00x").
pub fn verdict(measured: f64, target: f64, unit: &str) -> String {
    let r = measured / target;
    if measured <= target {
        format!("met ({r:.2}x the target)")
    } else if r < 1.01 {
        format!("MISSED by {r:.3}x ({measured:.3} {unit} against {target:.3} {unit})")
    } else {
        format!("MISSED by {r:.2}x ({measured:.2} {unit} against {target:.2} {unit})")
    }
}

#[derive(Debug, Clone)]
pub struct PlanNoop {
    pub shape: Shape,
    pub layout: Layout,
    pub samples: Vec<Sample>,
    /// Calls of every timed run (they should be identical).
    pub calls: Vec<Stats>,
    pub expected_calls: usize,
    pub refresh_floor: f64,
    pub setup_secs: f64,
    /// The same plan with tunnelform pinned to one core (`taskset -c 0`).
    pub pinned: Vec<Sample>,
}

#[derive(Debug, Clone)]
pub struct ApplyRuns {
    pub shape: Shape,
    pub layout: Layout,
    pub samples: Vec<Sample>,
    pub calls: Vec<Stats>,
    pub parallelism: Option<usize>,
    pub note: String,
    /// Of the last run: (action, busy from, busy until, requests), seconds since the start of the command.
    pub timeline: Vec<(String, f64, f64, u64)>,
}

/// The wall times of the runs.
pub fn walls(samples: &[Sample]) -> Vec<f64> {
    samples.iter().map(|x| x.wall).collect()
}

/// The shortest and the longest of `walls`.
pub fn min_max(walls: &[f64]) -> (f64, f64) {
    (
        walls.iter().copied().fold(f64::INFINITY, f64::min),
        walls.iter().copied().fold(0.0, f64::max),
    )
}

/// ` --parallelism P`, or that tunnelform's default was used.
fn parallelism_note(parallelism: Option<usize>) -> String {
    match parallelism {
        Some(p) => format!(" --parallelism {p}"),
        None => " (default --parallelism)".into(),
    }
}

/// The table of an apply benchmark against its lower bound (`bound` seconds): median wall,
/// range, bound, ratio, peak RSS and the rate-limit errors of each run.
pub fn bound_table(samples: &[Sample], calls: &[Stats], bound: f64) -> String {
    let walls = walls(samples);
    let rss: Vec<u64> = samples.iter().map(|x| x.rss_kib).collect();
    let rle: Vec<u64> = calls.iter().map(Stats::rate_limited).collect();
    let m = median(&walls);
    let (min, max) = min_max(&walls);
    let mut s = String::from("| wall (median) | min..max | lower bound | ratio | peak RSS | RequestLimitExceeded (per run) |\n|---:|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        s,
        "| {} | {:.1}..{:.1} s | {} | {:.2}x | {:.1} MB | {} |\n",
        secs(m),
        min,
        max,
        secs(bound),
        m / bound,
        mb(median_u64(&rss)),
        rle.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    s
}

/// "Where the time goes" of the last run: its calls against the documented limits, and the
/// errors returned.
fn where_the_time_goes(r: &ApplyRuns) -> String {
    let mut s = String::new();
    if let Some(c) = r.calls.last() {
        let (floor, action) = calls_floor(c);
        let _ = writeln!(
            s,
            "Where the time goes (last run): the calls made need at least {} at the documented limits, set by {action}.\n\n{}",
            secs(floor),
            calls_table(c)
        );
        let _ = writeln!(s, "Errors returned: {}.\n", c.errors_line());
    }
    s
}

/// "Timeline of the last run" paragraph.
fn timeline_md(r: &ApplyRuns) -> String {
    if r.timeline.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "Timeline of the last run (from `/_sandbox/stats` sampled every 0.25 s; times are when a sample first showed a request of the action and when it first showed the final count, in seconds after `tunnelform apply` started):\n\n| action | requests | first seen | last seen | rate while busy |\n|---|---:|---:|---:|---:|\n",
    );
    for (a, f, l, n) in &r.timeline {
        let span = l - f;
        let rate = if span > 0.0 && *n > 1 {
            format!("{:.0}/s", *n as f64 / span)
        } else {
            "-".into()
        };
        let _ = writeln!(s, "| {a} | {n} | {f:.2} | {l:.2} | {rate} |");
    }
    if let Some(w) = r.samples.last() {
        let _ = writeln!(s, "\nThe command exited at {:.2} s.", w.wall);
    }
    s.push('\n');
    s
}

#[derive(Debug, Clone)]
pub struct Offline {
    pub layout: Layout,
    pub pinned: bool,
    pub no_change: Vec<(OfflineResult, Sample)>,
    pub create: Vec<(OfflineResult, Sample)>,
    /// The from-scratch plan was killed after this long.
    pub create_timed_out: Option<std::time::Duration>,
    /// From benchmark 1 at the same N: `taskset -c 0 tunnelform plan` (includes the refresh over loopback).
    pub cli_pinned: Vec<Sample>,
}

pub struct Header {
    pub date: String,
    pub machine: String,
    pub runs: usize,
    pub load: String,
    pub quick: bool,
}

impl Header {
    pub fn line(&self, runs: usize) -> String {
        // ru_maxrss of a child counts from fork, so it can never be below the harness's own RSS.
        let harness = crate::engine::proc_status_kib("VmHWM:").unwrap_or(0);
        format!(
            "_Measured {} on {}; median of {} run{}; load average (1/5/15 min) {}; harness peak RSS {:.1} MB (the floor of any child's peak RSS). {}_\n\n",
            self.date,
            self.machine,
            runs,
            if runs == 1 { "" } else { "s" },
            self.load,
            mb(harness),
            if self.quick {
                "QUICK run (`--quick`: small sizes, one run): not the issue's benchmark."
            } else {
                "Preliminary: the 2-vCPU machine was shared with other builds while this ran."
            }
        )
    }
}

/// Table of requests by action with the time each needs at its documented limit.
pub fn calls_table(s: &Stats) -> String {
    let mut out = String::from(
        "| action | requests | documented limit | seconds at the limit |\n|---|---:|---:|---:|\n",
    );
    let mut v: Vec<(&String, &u64)> = s.requests.iter().collect();
    v.sort_by(|a, b| {
        (*b.1 as f64 / documented_limit(b.0)).total_cmp(&(*a.1 as f64 / documented_limit(a.0)))
    });
    for (a, n) in v {
        let lim = documented_limit(a);
        let _ = writeln!(out, "| {a} | {n} | {lim}/s | {:.2} |", *n as f64 / lim);
    }
    out
}

/// The largest `requests / limit` over the actions: no client making these calls can finish sooner.
pub fn calls_floor(s: &Stats) -> (f64, String) {
    s.requests
        .iter()
        .map(|(a, n)| (*n as f64 / documented_limit(a), a.clone()))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap_or((0.0, String::new()))
}

pub fn plan_noop_md(h: &Header, results: &[PlanNoop]) -> String {
    let runs = results.first().map(|r| r.samples.len()).unwrap_or(0);
    let mut s = h.line(runs);
    s.push_str("| shape | N tunnels | G gateways | C cust. gw | wall (median) | min..max | peak RSS | CPU (user+sys) | API calls | target calls | rate-limit floor |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in results {
        let walls = walls(&r.samples);
        let (min, max) = min_max(&walls);
        let rss: Vec<u64> = r.samples.iter().map(|x| x.rss_kib).collect();
        let cpu: Vec<f64> = r.samples.iter().map(|x| x.cpu).collect();
        let calls = r.calls.first().map(|c| c.total_requests()).unwrap_or(0);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.3}..{:.3} s | {:.1} MB | {} | {} | <= {} | {} |",
            r.shape.name(),
            r.layout.tunnels,
            r.layout.gateways(),
            r.layout.customer_gateways,
            secs(median(&walls)),
            min,
            max,
            mb(median_u64(&rss)),
            secs(median(&cpu)),
            calls,
            r.expected_calls,
            secs(r.refresh_floor),
        );
    }
    s.push_str(&calls_by_action_md(
        results
            .iter()
            .map(|r| (r.shape, r.layout.tunnels, r.calls.as_slice())),
    ));
    s.push_str("\nSetup (untimed: tunnelform's engine in a setup-worker process against an unthrottled setup sandbox, see above): ");
    let setups: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{} N={} {}",
                r.shape.name(),
                r.layout.tunnels,
                secs(r.setup_secs)
            )
        })
        .collect();
    s.push_str(&setups.join(", "));
    s.push_str(".\n\n");
    s.push_str(&same_calls_md(
        results
            .iter()
            .map(|r| (r.shape, r.layout.tunnels, r.calls.first())),
    ));
    let mut any = false;
    for r in results.iter().filter(|r| r.layout.tunnels == 10_000) {
        any = true;
        let walls: Vec<f64> = r.samples.iter().map(|x| x.wall).collect();
        let calls = r.calls.first().map(|c| c.total_requests()).unwrap_or(0) as f64;
        let _ = writeln!(
            s,
            "Target, {} blocks (N=10,000 under 1.5 s with no more than {} calls): wall {}; calls {}.",
            r.shape.name(),
            r.expected_calls,
            verdict(median(&walls), 1.5, "s"),
            verdict(calls, r.expected_calls as f64, "calls")
        );
    }
    if !any {
        s.push_str("Target (N=10,000 under 1.5 s): not measured in this run.\n");
    }
    s
}

/// "API calls by action" of the plan benchmarks: each measurement's calls in its first run,
/// and whether the other runs made different ones.
fn calls_by_action_md<'a>(rows: impl Iterator<Item = (Shape, usize, &'a [Stats])>) -> String {
    let mut s = String::from(
        "\nAPI calls by action (one plan run; identical in every run unless said):\n\n",
    );
    for (shape, tunnels, calls) in rows {
        let first = calls.first().cloned().unwrap_or_default();
        let same = calls.iter().all(|c| c.requests == first.requests);
        let _ = writeln!(
            s,
            "- {} N={}: {}; errors: {}{}",
            shape.name(),
            tunnels,
            first.requests_line(),
            first.errors_line(),
            if same { "" } else { " (varied between runs)" }
        );
    }
    s
}

/// "Calls by action are the same for every shape" (per N), or which differ.
fn same_calls_md<'a>(rows: impl Iterator<Item = (Shape, usize, Option<&'a Stats>)>) -> String {
    let mut by_n: std::collections::BTreeMap<usize, Vec<(Shape, Option<&Stats>)>> =
        Default::default();
    for (shape, n, c) in rows {
        by_n.entry(n).or_default().push((shape, c));
    }
    let mut out = String::new();
    for (n, v) in by_n {
        if v.len() < 2 {
            continue;
        }
        let first = v[0].1.map(|c| &c.requests);
        let differ: Vec<&str> = v
            .iter()
            .filter(|(_, c)| c.map(|c| &c.requests) != first)
            .map(|(shape, _)| shape.name())
            .collect();
        if differ.is_empty() {
            let _ = writeln!(out, "N={n}: the same calls by action for every shape.");
        } else {
            let _ = writeln!(
                out,
                "N={n}: calls DIFFER between shapes ({} against {}).",
                differ.join(", "),
                v[0].0.name()
            );
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Benchmark 1b: the first plan of a configuration on an empty state (everything to create).
#[derive(Debug, Clone)]
pub struct PlanFirst {
    pub shape: Shape,
    pub layout: Layout,
    pub samples: Vec<Sample>,
    pub calls: Vec<Stats>,
}

pub fn plan_first_md(h: &Header, results: &[PlanFirst]) -> String {
    let runs = results.first().map(|r| r.samples.len()).unwrap_or(0);
    let mut s = h.line(runs);
    s.push_str("| shape | N tunnels | objects to create | wall (median) | min..max | peak RSS | CPU (user+sys) | API calls | rate-limit floor of those calls |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in results {
        let walls = walls(&r.samples);
        let (min, max) = min_max(&walls);
        let rss: Vec<u64> = r.samples.iter().map(|x| x.rss_kib).collect();
        let cpu: Vec<f64> = r.samples.iter().map(|x| x.cpu).collect();
        let first = r.calls.first().cloned().unwrap_or_default();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.3}..{:.3} s | {:.1} MB | {} | {} | {} |",
            r.shape.name(),
            r.layout.tunnels,
            r.layout.objects(),
            secs(median(&walls)),
            min,
            max,
            mb(median_u64(&rss)),
            secs(median(&cpu)),
            first.total_requests(),
            secs(calls_floor(&first).0),
        );
    }
    s.push_str(&calls_by_action_md(
        results
            .iter()
            .map(|r| (r.shape, r.layout.tunnels, r.calls.as_slice())),
    ));
    s.push('\n');
    s.push_str(&same_calls_md(
        results
            .iter()
            .map(|r| (r.shape, r.layout.tunnels, r.calls.first())),
    ));
    s
}

/// Benchmark 2 for every shape: a summary (ratio to the bound, calls) then each shape's details.
pub fn apply_create_shapes_md(h: &Header, runs: &[ApplyRuns], b: &CreateBound) -> String {
    let mut s = String::new();
    if runs.len() > 1 {
        s.push_str("| shape | wall (median) | lower bound | ratio | writes | reads |\n|---|---:|---:|---:|---:|---:|\n");
        for r in runs {
            let walls: Vec<f64> = r.samples.iter().map(|x| x.wall).collect();
            let m = median(&walls);
            let (w, rd) = r
                .calls
                .last()
                .map(|c| {
                    let w: u64 = c
                        .requests
                        .iter()
                        .filter(|(a, _)| !a.starts_with("Describe") && !a.starts_with("Get"))
                        .map(|(_, n)| n)
                        .sum();
                    (w, c.total_requests() - w)
                })
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.2}x | {w} | {rd} |",
                r.shape.name(),
                secs(m),
                secs(b.total),
                m / b.total
            );
        }
        s.push_str("\n(Writes must be equal for every shape; reads include the watcher's polls, which depend on timing.)\n\n");
    }
    for r in runs {
        if runs.len() > 1 {
            let _ = writeln!(s, "#### {} blocks\n", r.shape.name());
        }
        s.push_str(&apply_create_md(h, r, b));
    }
    s
}

pub fn apply_create_md(h: &Header, r: &ApplyRuns, b: &CreateBound) -> String {
    let mut s = h.line(r.samples.len());
    let rle: Vec<u64> = r.calls.iter().map(Stats::rate_limited).collect();
    let m = median(&walls(&r.samples));
    let _ = writeln!(
        s,
        "{}; `tunnelform apply --auto-approve`{}.\n",
        r.layout.describe(),
        parallelism_note(r.parallelism)
    );
    s.push_str(&bound_table(&r.samples, &r.calls, b.total));
    let _ = writeln!(
        s,
        "Bound: first gateway AVAILABLE at {}, last at {}; last CreateVpnConnection at {}; + 1 task = {}. Confirming every task with its own DescribeVpcTaskResult (20/s) would need {}.\n",
        secs(b.first_gateway_available),
        secs(b.last_gateway_available),
        secs(b.last_connection_sent),
        secs(b.total),
        secs(b.one_task_result_per_task)
    );
    let _ = writeln!(
        s,
        "Targets: wall within 1.15x of the bound: {}; RequestLimitExceeded = 0: {}.\n",
        verdict(m, 1.15 * b.total, "s"),
        if rle.iter().all(|&x| x == 0) {
            "met".to_string()
        } else {
            format!("MISSED ({} in total)", rle.iter().sum::<u64>())
        }
    );
    s.push_str(&where_the_time_goes(r));
    s.push_str(&timeline_md(r));
    if !r.note.is_empty() {
        let _ = writeln!(s, "{}", r.note);
    }
    s
}

pub fn apply_modify_md(h: &Header, r: &ApplyRuns, b: &ModifyBound) -> String {
    let mut s = h.line(r.samples.len());
    let m = median(&walls(&r.samples));
    let _ = writeln!(
        s,
        "{}; `dpd_timeout` changed (30 <-> 45 in `bench.auto.tfvars`) on every tunnel; `tunnelform apply --auto-approve`{}.\n",
        r.layout.describe(),
        parallelism_note(r.parallelism)
    );
    s.push_str(&bound_table(&r.samples, &r.calls, b.total));
    let _ = writeln!(
        s,
        "Bound: refresh {} + {} ModifyVpnConnectionAttribute at 20/s ({}) = {}.\n",
        secs(b.refresh),
        r.layout.tunnels,
        secs(b.modifies),
        secs(b.total)
    );
    let _ = writeln!(
        s,
        "Target: wall within 1.15x of the bound: {}.\n",
        verdict(m, 1.15 * b.total, "s")
    );
    s.push_str(&where_the_time_goes(r));
    s.push_str(&timeline_md(r));
    if !r.note.is_empty() {
        let _ = writeln!(s, "{}", r.note);
    }
    s
}

fn offline_rows(s: &mut String, label: &str, v: &[(OfflineResult, Sample)]) {
    if v.is_empty() {
        return;
    }
    let f = |g: &dyn Fn(&OfflineResult) -> f64| {
        median(&v.iter().map(|(r, _)| g(r)).collect::<Vec<_>>())
    };
    let peak = median_u64(
        &v.iter()
            .map(|(r, _)| r.planning_peak_kib)
            .collect::<Vec<_>>(),
    );
    let proc_peak = median_u64(&v.iter().map(|(_, x)| x.rss_kib).collect::<Vec<_>>());
    let first = &v[0].0;
    let _ = writeln!(
        s,
        "| {label} | {:.0} ms | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} MB | {:.1} MB | {} changes, {} KB of text; RSS {:.1} MB when planning started ({:.1} MB after the refresh, before the memory it freed was given back), then {:.1} / {:.1} / {:.1} / {:.1} MB after config / state / plan / render |",
        f(&|r| r.phases.total_ms),
        f(&|r| r.phases.parse_ms),
        f(&|r| r.phases.state_ms),
        f(&|r| r.phases.drift_ms),
        f(&|r| r.phases.evaluate_diff_ms),
        f(&|r| r.phases.validate_ms),
        f(&|r| r.phases.outputs_digests_ms),
        f(&|r| r.phases.graph_ms),
        f(&|r| r.phases.render_ms),
        mb(peak),
        mb(proc_peak),
        first.changes,
        first.rendered_bytes / 1000,
        mb(first.rss_before_kib),
        mb(first.rss_refreshed_kib),
        mb(first.rss_after_kib.config),
        mb(first.rss_after_kib.state),
        mb(first.rss_after_kib.plan),
        mb(first.rss_after_kib.render),
    );
}

pub fn offline_md(h: &Header, r: &Offline) -> String {
    let runs = r.no_change.len().max(r.create.len());
    let mut s = h.line(runs);
    let _ = writeln!(
        s,
        "{}; in-process driver (`tunnelform-bench offline-worker`){}.\n",
        r.layout.describe(),
        if r.pinned {
            ", pinned with `taskset -c 0`"
        } else {
            ", NOT pinned (taskset not found)"
        }
    );
    s.push_str("| plan | total | parse | state | drift | evaluate+diff | validate | outputs+digests | graph | render (ms) | peak RSS (planning) | peak RSS (process) | result |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    offline_rows(
        &mut s,
        "no changes (state + refreshed objects in memory)",
        &r.no_change,
    );
    offline_rows(
        &mut s,
        "from scratch (empty state: everything created; one run)",
        &r.create,
    );
    if let Some(t) = r.create_timed_out {
        let _ = writeln!(
            s,
            "| from scratch (empty state: everything created; one run) | > {} s (killed) | | | | | | | | | | | did not finish |",
            t.as_secs()
        );
    }
    s.push('\n');
    if !r.cli_pinned.is_empty() {
        let walls: Vec<f64> = r.cli_pinned.iter().map(|x| x.wall).collect();
        let rss: Vec<u64> = r.cli_pinned.iter().map(|x| x.rss_kib).collect();
        let cpu: Vec<f64> = r.cli_pinned.iter().map(|x| x.cpu).collect();
        let _ = writeln!(
            s,
            "CLI, same N, `taskset -c 0 tunnelform plan` against the sandbox (refresh over loopback included, nothing subtracted): wall {}, CPU {}, peak RSS {:.1} MB.\n",
            secs(median(&walls)),
            secs(median(&cpu)),
            mb(median_u64(&rss))
        );
    }
    if let Some((first, _)) = r.no_change.first() {
        if !first.peak_reset {
            s.push_str("(The planning peak could not be isolated: /proc/self/clear_refs was not writable; the process peak applies.)\n\n");
        }
        let t = median(
            &r.no_change
                .iter()
                .map(|(x, _)| x.phases.total_ms)
                .collect::<Vec<_>>(),
        );
        let peak = median_u64(
            &r.no_change
                .iter()
                .map(|(x, _)| if x.peak_reset { x.planning_peak_kib } else { 0 })
                .collect::<Vec<_>>(),
        );
        let proc_peak = median_u64(
            &r.no_change
                .iter()
                .map(|(_, x)| x.rss_kib)
                .collect::<Vec<_>>(),
        );
        let peak = if peak == 0 { proc_peak } else { peak };
        let _ = writeln!(
            s,
            "Targets (no-change plan, N={}; issue 15): time under 0.8 s: {}; peak RSS under 200 MB: {} (whole worker process incl. its refresh: {:.1} MB).",
            r.layout.tunnels,
            verdict(t / 1000.0, 0.8, "s"),
            verdict(mb(peak), 200.0, "MB"),
            mb(proc_peak)
        );
    }
    if let Some(t) = r.create_timed_out {
        let _ = writeln!(
            s,
            "From-scratch plan: MISSED, did not finish within {} s.",
            t.as_secs()
        );
    }
    if let Some((c, _)) = r.create.first() {
        let t = median(
            &r.create
                .iter()
                .map(|(x, _)| x.phases.total_ms)
                .collect::<Vec<_>>(),
        );
        let peak = median_u64(
            &r.create
                .iter()
                .map(|(x, _)| x.planning_peak_kib)
                .collect::<Vec<_>>(),
        );
        let _ = writeln!(
            s,
            "From-scratch plan ({} objects to create): time {}; peak RSS {}.",
            c.creates,
            verdict(t / 1000.0, 1.0, "s"),
            verdict(mb(peak), 200.0, "MB")
        );
    }
    s
}

/// Replaces the text between `<!-- tunnelform-bench:NAME:begin -->` and `...:end -->` (appends the block
/// under `heading` when the markers are missing).
pub fn replace_block(doc: &str, name: &str, heading: &str, content: &str) -> String {
    let begin = format!("<!-- tunnelform-bench:{name}:begin -->");
    let end = format!("<!-- tunnelform-bench:{name}:end -->");
    let body = format!("{begin}\n{}\n{end}", content.trim_end());
    if let (Some(b), Some(e)) = (doc.find(&begin), doc.find(&end)) {
        if b < e {
            let mut out = String::with_capacity(doc.len() + content.len());
            out.push_str(&doc[..b]);
            out.push_str(&body);
            out.push_str(&doc[e + end.len()..]);
            return out;
        }
    }
    let mut out = doc.trim_end().to_string();
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(&format!("{heading}\n\n{body}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(median_u64(&[10, 30, 20]), 20);
    }

    #[test]
    fn verdicts() {
        assert!(verdict(2.0, 3.0, "s").starts_with("met (0.67x"));
        let v = verdict(6.0, 3.0, "s");
        assert!(v.starts_with("MISSED by 2.00x"), "{v}");
        let near = verdict(2.824, 2.45 * 1.15, "s");
        assert_eq!(near, "MISSED by 1.002x (2.824 s against 2.817 s)");
    }

    #[test]
    fn blocks_are_replaced_in_place_or_appended() {
        let doc = "# B\n\ntext\n<!-- tunnelform-bench:x:begin -->\nold\n<!-- tunnelform-bench:x:end -->\nafter\n";
        let out = replace_block(doc, "x", "## X", "new\n");
        assert_eq!(
            out,
            "# B\n\ntext\n<!-- tunnelform-bench:x:begin -->\nnew\n<!-- tunnelform-bench:x:end -->\nafter\n"
        );
        let out2 = replace_block(&out, "y", "## Y", "why");
        assert!(out2.starts_with(&out.trim_end().to_string()));
        assert!(out2.ends_with(
            "## Y\n\n<!-- tunnelform-bench:y:begin -->\nwhy\n<!-- tunnelform-bench:y:end -->\n"
        ));
        // Replacing again is stable.
        assert_eq!(replace_block(&out2, "y", "## Y", "why"), out2);
    }

    #[test]
    fn floor_of_calls() {
        let s: Stats = serde_json::from_str(
            r#"{"requests":{"CreateVpnConnection":1000,"DescribeVpcTaskResult":1000}}"#,
        )
        .unwrap();
        let (f, a) = calls_floor(&s);
        assert_eq!(a, "DescribeVpcTaskResult");
        assert!((f - 50.0).abs() < 1e-9);
    }
}
