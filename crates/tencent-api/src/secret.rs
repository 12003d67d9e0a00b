//! A string that must never be printed: pre-shared keys.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A secret string (a pre-shared key). Serialises as the plain string (it has to reach the API), but
/// `Debug` prints `** redacted **`, and it has no `Display`. Read it with [`Secret::expose`].
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value. Call sites are easy to audit with a search for `expose(`.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_and_serde_is_transparent() {
        let s = Secret::new("hunter2-psk");
        assert_eq!(format!("{s:?}"), "** redacted **");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"hunter2-psk\"");
        let back: Secret = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(back.expose(), "abc");
    }
}
