//! Counters of what the client did, for tests, benchmarks and the CLI's summary.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// A snapshot of the client's counters since it was created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Attempts sent (or tried) per action, retries included.
    pub calls: BTreeMap<String, u64>,
    /// Retries per action.
    pub retries: BTreeMap<String, u64>,
    /// Failed attempts per error: the API error code, or `NotSent`, `OutcomeUnknown`, `UnexpectedStatus`,
    /// `Decode`, `InvalidRequest`.
    pub errors: BTreeMap<String, u64>,
    /// `RequestLimitExceeded*` answers seen.
    pub request_limit_exceeded: u64,
    /// Total time spent waiting for the client-side rate limiter.
    pub limiter_wait: Duration,
}

impl MetricsSnapshot {
    pub fn calls_of(&self, action: &str) -> u64 {
        self.calls.get(action).copied().unwrap_or(0)
    }
    pub fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }
    pub fn total_retries(&self) -> u64 {
        self.retries.values().sum()
    }
    pub fn errors_of(&self, code: &str) -> u64 {
        self.errors.get(code).copied().unwrap_or(0)
    }
}

#[derive(Default)]
pub(crate) struct Metrics {
    inner: Mutex<MetricsSnapshot>,
}

impl Metrics {
    fn with(&self, f: impl FnOnce(&mut MetricsSnapshot)) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g);
    }
    pub(crate) fn call(&self, action: &str, limiter_wait: Duration) {
        self.with(|m| {
            *m.calls.entry(action.to_string()).or_default() += 1;
            m.limiter_wait += limiter_wait;
        });
    }
    pub(crate) fn retry(&self, action: &str) {
        self.with(|m| *m.retries.entry(action.to_string()).or_default() += 1);
    }
    pub(crate) fn error(&self, key: &str, rate_limited: bool) {
        self.with(|m| {
            *m.errors.entry(key.to_string()).or_default() += 1;
            if rate_limited {
                m.request_limit_exceeded += 1;
            }
        });
    }
    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
