//! Request and error counters served by `GET /_sandbox/stats`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// Distinct action names counted before further unknown names go to `_other` (bounds memory).
const MAX_ACTION_KEYS: usize = 256;

/// Counts since the sandbox started: requests by action (`X-TC-Action` as sent), errors by code, injected
/// faults by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SandboxStats {
    pub requests: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
    pub faults: BTreeMap<String, u64>,
}

impl SandboxStats {
    /// Requests counted for `action`.
    pub fn requests_for(&self, action: &str) -> u64 {
        self.requests.get(action).copied().unwrap_or(0)
    }

    /// Errors counted with `code`.
    pub fn errors_for(&self, code: &str) -> u64 {
        self.errors.get(code).copied().unwrap_or(0)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: HashMap<String, u64>,
    errors: HashMap<&'static str, u64>,
    faults: HashMap<&'static str, u64>,
}

impl Counters {
    pub fn request(&mut self, action: &str) {
        if let Some(n) = self.requests.get_mut(action) {
            *n += 1;
        } else if self.requests.len() < MAX_ACTION_KEYS {
            self.requests.insert(action.to_string(), 1);
        } else {
            *self.requests.entry("_other".to_string()).or_insert(0) += 1;
        }
    }

    pub fn error(&mut self, code: &'static str) {
        *self.errors.entry(code).or_insert(0) += 1;
    }

    pub fn fault(&mut self, kind: &'static str) {
        *self.faults.entry(kind).or_insert(0) += 1;
    }

    pub fn snapshot(&self) -> SandboxStats {
        SandboxStats {
            requests: self.requests.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            errors: self
                .errors
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            faults: self
                .faults
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
        }
    }
}
