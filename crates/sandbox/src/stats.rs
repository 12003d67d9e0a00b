//! Request and error counters served by `GET /_sandbox/stats`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::actions::Action;

/// The key under which requests naming no action the sandbox serves are counted.
pub const UNKNOWN_ACTION: &str = "(unknown)";

/// Counts since the sandbox started: requests by action (the `X-TC-Action` of every request naming an action
/// the sandbox serves; every other name, or none, under [`UNKNOWN_ACTION`], so what a client sends cannot
/// grow the map), errors by code, injected faults by kind.
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
    requests: HashMap<&'static str, u64>,
    errors: HashMap<&'static str, u64>,
    faults: HashMap<&'static str, u64>,
}

impl Counters {
    /// Counts a request naming `action` (as sent).
    pub fn request(&mut self, action: &str) {
        let key = Action::from_any_name(action).map_or(UNKNOWN_ACTION, Action::name);
        *self.requests.entry(key).or_insert(0) += 1;
    }

    pub fn error(&mut self, code: &'static str) {
        *self.errors.entry(code).or_insert(0) += 1;
    }

    pub fn fault(&mut self, kind: &'static str) {
        *self.faults.entry(kind).or_insert(0) += 1;
    }

    pub fn snapshot(&self) -> SandboxStats {
        SandboxStats {
            requests: self
                .requests
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
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
