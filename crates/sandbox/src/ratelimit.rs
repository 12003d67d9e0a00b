//! Per-(region, action) request rate limits in fixed one-second windows.
//!
//! The window is the whole second elapsed since the sandbox started; the count resets when a request falls
//! into a new second. (A fixed window admits up to twice the limit across a window boundary; clients that
//! pace themselves to the documented limit never see `RequestLimitExceeded`.)

use std::collections::HashMap;
use std::time::Instant;

use crate::actions::Action;
use crate::config::RateLimits;

#[derive(Debug)]
pub(crate) struct RateLimiter {
    start: Instant,
    limits: HashMap<Action, u32>,
    windows: HashMap<Action, HashMap<String, (u64, u32)>>,
}

impl RateLimiter {
    pub fn new(config: &RateLimits) -> Self {
        let limits = Action::ALL
            .iter()
            .map(|a| (*a, config.limit_for(a.name())))
            .collect();
        RateLimiter {
            start: Instant::now(),
            limits,
            windows: HashMap::new(),
        }
    }

    /// Counts a request; false when it exceeds the limit of its window.
    pub fn admit(&mut self, region: &str, action: Action, now: Instant) -> bool {
        let limit = self.limits.get(&action).copied().unwrap_or(0);
        if limit == 0 {
            return true;
        }
        let second = now.saturating_duration_since(self.start).as_secs();
        let per_region = self.windows.entry(action).or_default();
        if !per_region.contains_key(region) {
            per_region.insert(region.to_string(), (second, 0));
        }
        let Some(window) = per_region.get_mut(region) else {
            return true;
        };
        if window.0 != second {
            *window = (second, 0);
        }
        if window.1 >= limit {
            return false;
        }
        window.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn fixed_window() {
        let mut limits = RateLimits::default();
        limits.per_action.insert("DescribeVpcTaskResult".into(), 3);
        let mut rl = RateLimiter::new(&limits);
        let t0 = rl.start;
        let a = Action::DescribeVpcTaskResult;
        assert!((0..3).all(|_| rl.admit("ap-guangzhou", a, t0)));
        assert!(!rl.admit("ap-guangzhou", a, t0));
        assert!(rl.admit("ap-shanghai", a, t0), "regions are counted apart");
        assert!(
            rl.admit("ap-guangzhou", Action::DescribeVpcs, t0),
            "actions are counted apart"
        );
        assert!(rl.admit("ap-guangzhou", a, t0 + Duration::from_millis(1000)));
    }
}
