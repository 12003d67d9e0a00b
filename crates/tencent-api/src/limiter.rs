//! Client-side rate limiting: one bucket per (region, action) (per action for the global tag service),
//! shared by every task using the client.
//!
//! Each bucket is a GCRA (a token bucket expressed as a "theoretical arrival time"): requests are spaced
//! `1 / rate` apart with a small burst allowance, where `rate` is `headroom` (default 95%) of the action's
//! limit and the burst is at most `limit - ceil(rate)`, so that no 1-second window ever holds more than
//! `limit` requests. Waiters are served in arrival order (tokio's mutex is fair). When the server still
//! answers `RequestLimitExceeded`, the bucket halves its rate (at most once per second) and recovers
//! linearly, by 10% of the configured rate per second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Requests per second allowed per action (documented limits in FACTS.md), with per-action overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimits {
    /// `false` disables client-side limiting entirely.
    pub enabled: bool,
    /// Limit of an action without an entry in `per_action` (documented default: 20/s).
    pub default_per_sec: f64,
    /// Per-action limits (requests per second), by action name.
    pub per_action: HashMap<String, f64>,
    /// Fraction of the limit to aim for (0 < headroom <= 1).
    pub headroom: f64,
}

impl Default for RateLimits {
    /// The documented limits.
    fn default() -> Self {
        let per_action = [
            ("CreateVpnConnection", 100.0),
            ("DescribeVpnConnections", 100.0),
            ("DescribeVpnGateways", 300.0),
            ("ModifyVpnGatewayAttribute", 100.0),
            ("DescribeVpcTaskResult", 20.0),
            ("CreateRoutes", 100.0),
            ("DeleteRoutes", 100.0),
            ("DescribeRouteTables", 100.0),
            ("DownloadCustomerGatewayConfiguration", 100.0),
            ("ResetVpnConnection", 100.0),
        ]
        .into_iter()
        .map(|(a, l)| (a.to_string(), l))
        .collect();
        RateLimits {
            enabled: true,
            default_per_sec: 20.0,
            per_action,
            headroom: 0.95,
        }
    }
}

impl RateLimits {
    /// No client-side limiting.
    pub fn unlimited() -> Self {
        RateLimits {
            enabled: false,
            ..Default::default()
        }
    }

    /// Overrides one action's limit.
    pub fn with(mut self, action: &str, per_sec: f64) -> Self {
        self.per_action.insert(action.to_string(), per_sec);
        self
    }

    /// The configured limit of an action (requests per second).
    pub fn limit_for(&self, action: &str) -> f64 {
        self.per_action
            .get(action)
            .copied()
            .unwrap_or(self.default_per_sec)
    }
}

/// Key of a bucket: region (None for global services) and action.
pub(crate) type BucketKey = (Option<String>, &'static str);

pub(crate) struct Limiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<BucketKey, Arc<Bucket>>>,
}

struct Bucket {
    /// Target rate (requests per second) and burst.
    target: f64,
    burst: u32,
    /// Theoretical arrival time; held across the wait so that waiters are served in order.
    tat: tokio::sync::Mutex<Option<Instant>>,
    adapt: Mutex<Adapt>,
}

#[derive(Clone, Copy)]
struct Adapt {
    /// Rate right after the last decrease, and when it happened.
    reduced: f64,
    since: Option<Instant>,
}

const RECOVERY_SECS: f64 = 10.0;
const MIN_FRACTION: f64 = 0.05;

impl Bucket {
    fn new(limit: f64, headroom: f64) -> Self {
        let limit = limit.max(0.001);
        let target = (limit * headroom.clamp(0.01, 1.0)).max(0.001);
        let slack = (limit.floor() - target.ceil()).max(0.0);
        let burst = (slack as u32).clamp(1, 1000);
        Bucket {
            target,
            burst,
            tat: tokio::sync::Mutex::new(None),
            adapt: Mutex::new(Adapt {
                reduced: target,
                since: None,
            }),
        }
    }

    fn lock_adapt(&self) -> std::sync::MutexGuard<'_, Adapt> {
        self.adapt.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The rate in force at `now`, and whether the bucket is still recovering.
    fn rate_at(&self, now: Instant) -> (f64, bool) {
        let a = *self.lock_adapt();
        match a.since {
            None => (self.target, false),
            Some(t) => {
                let secs = now.saturating_duration_since(t).as_secs_f64();
                let r = a.reduced + self.target / RECOVERY_SECS * secs;
                if r >= self.target {
                    (self.target, false)
                } else {
                    (r, true)
                }
            }
        }
    }

    fn throttled(&self, now: Instant) {
        let (current, _) = self.rate_at(now);
        let mut a = self.lock_adapt();
        if a.since
            .is_some_and(|t| now.saturating_duration_since(t) < Duration::from_secs(1))
        {
            return; // one decrease per window: a burst of rejections is one signal
        }
        a.reduced = (current * 0.5).max(self.target * MIN_FRACTION);
        a.since = Some(now);
    }

    async fn acquire(&self) -> Duration {
        let mut tat = self.tat.lock().await;
        let now = Instant::now();
        let (rate, recovering) = self.rate_at(now);
        let interval = Duration::from_secs_f64(1.0 / rate);
        let burst = if recovering { 1 } else { self.burst };
        let tolerance = interval * (burst - 1);
        let t = match *tat {
            Some(t) if t > now => t,
            _ => now,
        };
        let allowed = t.checked_sub(tolerance).unwrap_or(now);
        let waited = if allowed > now {
            tokio::time::sleep_until(allowed).await;
            allowed - now
        } else {
            Duration::ZERO
        };
        *tat = Some(t + interval);
        waited
    }
}

impl Limiter {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Limiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn bucket(&self, key: &BucketKey) -> Arc<Bucket> {
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = map.get(key) {
            return b.clone();
        }
        let b = Arc::new(Bucket::new(
            self.limits.limit_for(key.1),
            self.limits.headroom,
        ));
        map.insert(key.clone(), b.clone());
        b
    }

    /// Waits for a slot; returns how long it waited.
    pub(crate) async fn acquire(&self, key: &BucketKey) -> Duration {
        if !self.limits.enabled {
            return Duration::ZERO;
        }
        self.bucket(key).acquire().await
    }

    /// The server answered `RequestLimitExceeded`: slow down.
    pub(crate) fn throttled(&self, key: &BucketKey) {
        if self.limits.enabled {
            self.bucket(key).throttled(Instant::now());
        }
    }

    /// The rate (requests per second) currently in force for a key.
    pub(crate) fn current_rate(&self, key: &BucketKey) -> f64 {
        self.bucket(key).rate_at(Instant::now()).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(action: &'static str) -> BucketKey {
        (Some("ap-guangzhou".to_string()), action)
    }

    /// Max number of instants in any window [t, t + 1s).
    fn max_per_second(times: &[Instant]) -> usize {
        let mut best = 0;
        for (i, t) in times.iter().enumerate() {
            let n = times[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(1))
                .count();
            best = best.max(n);
        }
        best
    }

    #[test]
    fn reset_vpn_connection_has_its_documented_limit() {
        assert_eq!(RateLimits::default().limit_for("ResetVpnConnection"), 100.0);
    }

    #[tokio::test(start_paused = true)]
    async fn keeps_under_the_limit_in_every_window() {
        for (action, limit) in [
            ("DescribeVpcTaskResult", 20usize),
            ("CreateVpnConnection", 100),
            ("DescribeVpnGateways", 300),
        ] {
            let l = Limiter::new(RateLimits::default());
            let start = Instant::now();
            let mut times = Vec::new();
            for _ in 0..(limit * 3) {
                l.acquire(&key(action)).await;
                times.push(Instant::now());
            }
            assert!(
                max_per_second(&times) <= limit,
                "{action}: {} > {limit}",
                max_per_second(&times)
            );
            // ...and close to it: 95% of the limit on average.
            let secs = (Instant::now() - start).as_secs_f64();
            let rate = (limit * 3 - 1) as f64 / secs;
            assert!(
                rate > limit as f64 * 0.9 && rate <= limit as f64,
                "{action}: rate {rate}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn shared_by_concurrent_tasks_and_fair() {
        let l = Arc::new(Limiter::new(RateLimits::default()));
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        for i in 0..60 {
            let l = l.clone();
            let order = order.clone();
            handles.push(tokio::spawn(async move {
                l.acquire(&key("DescribeVpcTaskResult")).await;
                order.lock().unwrap().push((i, Instant::now()));
            }));
            // Let task i queue up before task i + 1 is spawned.
            tokio::task::yield_now().await;
        }
        for h in handles {
            h.await.unwrap();
        }
        let order = order.lock().unwrap();
        let ids: Vec<i32> = order.iter().map(|(i, _)| *i).collect();
        assert_eq!(
            ids,
            (0..60).collect::<Vec<_>>(),
            "waiters served in arrival order"
        );
        let times: Vec<Instant> = order.iter().map(|(_, t)| *t).collect();
        assert!(max_per_second(&times) <= 20);
    }

    #[tokio::test(start_paused = true)]
    async fn buckets_are_per_region_and_action() {
        let l = Limiter::new(RateLimits::default());
        let start = Instant::now();
        // 19 each in three independent buckets: no waiting beyond one bucket's 19/s pace.
        for _ in 0..19 {
            l.acquire(&(Some("ap-guangzhou".into()), "DeleteVpc")).await;
            l.acquire(&(Some("ap-shanghai".into()), "DeleteVpc")).await;
            l.acquire(&(Some("ap-guangzhou".into()), "CreateVpc")).await;
        }
        assert!(Instant::now() - start < Duration::from_secs(1));
        // Tag service: no region.
        l.acquire(&(None, "TagResources")).await;
    }

    #[tokio::test(start_paused = true)]
    async fn overrides_and_unlimited() {
        let l = Limiter::new(RateLimits::default().with("DeleteVpc", 2.0));
        let start = Instant::now();
        for _ in 0..5 {
            l.acquire(&key("DeleteVpc")).await;
        }
        // 2/s * 0.95 = 1.9/s: 4 intervals of ~0.526 s.
        let e = (Instant::now() - start).as_secs_f64();
        assert!((2.0..2.2).contains(&e), "{e}");

        let u = Limiter::new(RateLimits::unlimited());
        let start = Instant::now();
        for _ in 0..1000 {
            u.acquire(&key("DeleteVpc")).await;
        }
        assert_eq!(Instant::now(), start);
    }

    #[tokio::test(start_paused = true)]
    async fn adapts_on_throttling_and_recovers() {
        let l = Limiter::new(RateLimits::default());
        let k = key("DescribeVpnConnections");
        assert!((l.current_rate(&k) - 95.0).abs() < 1e-9);
        l.throttled(&k);
        assert!((l.current_rate(&k) - 47.5).abs() < 1e-9);
        // A burst of rejections in the same second counts once.
        l.throttled(&k);
        assert!((l.current_rate(&k) - 47.5).abs() < 1e-9);
        // While reduced, the pace is the reduced rate.
        let start = Instant::now();
        for _ in 0..11 {
            l.acquire(&k).await;
        }
        let e = (Instant::now() - start).as_secs_f64();
        assert!(e > 10.0 / 60.0 && e < 10.0 / 45.0, "{e}");
        // Recovers linearly: half-way after ~2.5 s more, fully after ~5 s.
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!((l.current_rate(&k) - 95.0).abs() < 1e-9);
        // Repeated throttling a second apart keeps halving, down to a floor.
        for _ in 0..20 {
            l.throttled(&k);
            tokio::time::advance(Duration::from_millis(1001)).await;
        }
        let r = l.current_rate(&k);
        assert!((95.0 * MIN_FRACTION..20.0).contains(&r), "{r}");
    }
}
