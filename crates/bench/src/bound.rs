//! Lower bounds set by the documented rate limits and the task latency (FACTS.md), for a client with
//! unlimited parallelism and a zero round-trip time.
//!
//! Rate model: an action limited to R requests/s sends its k-th request (k = 0, 1, ...) no earlier than k/R
//! seconds after its first, i.e. "R requests per second" read as a sustained rate. (The sandbox counts in fixed
//! one-second windows, which would admit a burst of R at the start of each window; a client cannot rely on
//! that against Tencent Cloud, so the bounds do not either.)

use crate::gen::Layout;

/// Documented limits (FACTS.md "Rate limits"; actions not listed there: 20/s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub create_vpn_gateway: f64,
    pub create_customer_gateway: f64,
    pub create_vpn_connection: f64,
    pub modify_vpn_connection: f64,
    pub describe_vpn_connections: f64,
    pub describe_vpn_gateways: f64,
    pub describe_customer_gateways: f64,
    pub describe_vpc_task_result: f64,
    /// `--task-latency-ms`: a connection task runs this long, a new VPN gateway stays PENDING this long.
    pub task_latency: f64,
    /// Ids per describe call.
    pub ids_per_call: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            create_vpn_gateway: 20.0,         // not listed: 20/s
            create_customer_gateway: 20.0,    // not listed: 20/s
            create_vpn_connection: 100.0,     // documented
            modify_vpn_connection: 20.0,      // ModifyVpnConnectionAttribute: not listed, 20/s
            describe_vpn_connections: 100.0,  // documented
            describe_vpn_gateways: 300.0,     // documented
            describe_customer_gateways: 20.0, // not listed: 20/s
            describe_vpc_task_result: 20.0,   // documented
            task_latency: 1.0,
            ids_per_call: 100,
        }
    }
}

/// Time of the last of `n` requests of an action limited to `rate`/s (0 for n <= 1).
pub fn last_send(n: usize, rate: f64) -> f64 {
    if n <= 1 {
        0.0
    } else {
        (n - 1) as f64 / rate
    }
}

/// The describe calls a refresh needs: ceil(N/100) + ceil(G/100) + ceil(C/100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshCalls {
    pub connections: usize,
    pub gateways: usize,
    pub customer_gateways: usize,
}

impl RefreshCalls {
    pub fn total(&self) -> usize {
        self.connections + self.gateways + self.customer_gateways
    }
}

pub fn refresh_calls(layout: &Layout, limits: &Limits) -> RefreshCalls {
    RefreshCalls {
        connections: layout.tunnels.div_ceil(limits.ids_per_call),
        gateways: layout.gateways().div_ceil(limits.ids_per_call),
        customer_gateways: layout.customer_gateways.div_ceil(limits.ids_per_call),
    }
}

/// Seconds a refresh needs at the limits (the three kinds read concurrently).
pub fn refresh_bound(layout: &Layout, limits: &Limits) -> f64 {
    let c = refresh_calls(layout, limits);
    last_send(c.connections, limits.describe_vpn_connections)
        .max(last_send(c.gateways, limits.describe_vpn_gateways))
        .max(last_send(
            c.customer_gateways,
            limits.describe_customer_gateways,
        ))
}

/// Benchmark 2: everything created from scratch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CreateBound {
    /// The bound: the last connection task finishes.
    pub total: f64,
    /// When the first VPN gateway leaves PENDING (no tunnel can be created earlier).
    pub first_gateway_available: f64,
    /// When the last VPN gateway leaves PENDING.
    pub last_gateway_available: f64,
    /// When the last CreateVpnConnection can be sent.
    pub last_connection_sent: f64,
    /// The same work when every task is confirmed with its own DescribeVpcTaskResult (20/s).
    pub one_task_result_per_task: f64,
}

/// Greedy schedule (optimal here: every stage is a rate-limited queue of identical jobs):
/// - gateway k is created at k / R_gw and is AVAILABLE L later;
/// - customer gateway j is created at j / R_cgw (synchronous: usable at once);
/// - tunnel i is ready when its gateway and customer gateway are; ready tunnels are created at R_conn/s
///   in order of readiness, s_i = max(ready_i, s_(i-1) + 1/R_conn); its task ends at s_i + L;
/// - tasks are confirmed by batched DescribeVpnConnections (100 tunnels per call, 100 calls/s), which adds
///   nothing measurable; bound = max_i (s_i + L).
pub fn create_bound(layout: &Layout, limits: &Limits) -> CreateBound {
    let l = limits.task_latency;
    let gw_ready = |g: usize| g as f64 / limits.create_vpn_gateway + l;
    let cgw_ready = |c: usize| c as f64 / limits.create_customer_gateway;
    let mut ready: Vec<f64> = (0..layout.tunnels)
        .map(|i| {
            let (g, c) = layout.tunnel(i);
            gw_ready(g).max(cgw_ready(c))
        })
        .collect();
    ready.sort_by(f64::total_cmp);
    let gap = 1.0 / limits.create_vpn_connection;
    let mut done = Vec::with_capacity(ready.len());
    let mut last_sent = f64::NEG_INFINITY;
    for r in &ready {
        let s = r.max(last_sent + gap);
        last_sent = s;
        done.push(s + l);
    }
    // One DescribeVpcTaskResult per task: poll q_i >= max(done_i, q_(i-1) + 1/R_task).
    let qgap = 1.0 / limits.describe_vpc_task_result;
    let mut q = f64::NEG_INFINITY;
    for d in &done {
        q = d.max(q + qgap);
    }
    let total = done.iter().copied().fold(0.0, f64::max);
    CreateBound {
        total,
        first_gateway_available: gw_ready(0),
        last_gateway_available: gw_ready(layout.gateways().saturating_sub(1)),
        last_connection_sent: last_sent.max(0.0),
        one_task_result_per_task: q.max(total),
    }
}

/// Benchmark 3: one argument of every tunnel changed (ModifyVpnConnectionAttribute is synchronous).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModifyBound {
    pub total: f64,
    pub refresh: f64,
    pub modifies: f64,
}

/// bound = refresh (plan) + (N - 1) / R_modify: the CLI plans (refreshes) before it applies.
pub fn modify_bound(layout: &Layout, limits: &Limits) -> ModifyBound {
    let refresh = refresh_bound(layout, limits);
    let modifies = last_send(layout.tunnels, limits.modify_vpn_connection);
    ModifyBound {
        total: refresh + modifies,
        refresh,
        modifies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn create_bound_for_1000_tunnels_on_50_gateways() {
        let l = Layout::new(1000, 20, Some(20)).unwrap();
        let b = create_bound(&l, &Limits::default());
        // First gateway at 0 s, AVAILABLE at 1 s; the 1,000 creates then go at 100/s: the last at
        // 1 + 999/100 = 10.99 s; its task ends 1 s later.
        assert!(close(b.first_gateway_available, 1.0));
        assert!(close(b.last_gateway_available, 1.0 + 49.0 / 20.0));
        assert!(close(b.last_connection_sent, 10.99), "{b:?}");
        assert!(close(b.total, 11.99), "{b:?}");
        // Confirming each task with DescribeVpcTaskResult at 20/s: the first task ends at 2 s, then 999 more
        // polls at 20/s.
        assert!(
            close(b.one_task_result_per_task, 2.0 + 999.0 / 20.0),
            "{b:?}"
        );
    }

    #[test]
    fn create_bound_is_limited_by_customer_gateways_when_each_tunnel_has_its_own() {
        let l = Layout::new(1000, 20, None).unwrap();
        let b = create_bound(&l, &Limits::default());
        // 1,000 customer gateways at 20/s: the last exists at 49.95 s; its tunnel is created then and
        // its task ends 1 s later.
        assert!(close(b.total, 999.0 / 20.0 + 1.0), "{b:?}");
    }

    #[test]
    fn modify_and_refresh_bounds() {
        let l = Layout::new(1000, 20, Some(20)).unwrap();
        let lim = Limits::default();
        let c = refresh_calls(&l, &lim);
        assert_eq!((c.connections, c.gateways, c.customer_gateways), (10, 1, 1));
        assert!(close(refresh_bound(&l, &lim), 0.09));
        let m = modify_bound(&l, &lim);
        assert!(close(m.modifies, 49.95));
        assert!(close(m.total, 50.04));
        let big = Layout::new(10_000, 20, Some(20)).unwrap();
        assert_eq!(refresh_calls(&big, &lim).total(), 100 + 5 + 1);
        assert!(close(refresh_bound(&big, &lim), 0.99));
    }
}
