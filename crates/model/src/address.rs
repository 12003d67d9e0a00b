//! Resource addresses: `tencentcloud_vpn_connection.office["sh"]`, `data.tencentcloud_vpn_gateways.all`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Managed resources are created and owned by tunnelform; data resources are only read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Managed,
    Data,
}

/// The key of one instance of a resource with `count` (an index) or `for_each` (a string key).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InstanceKey {
    Index(u64),
    Key(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Index(i) => write!(f, "[{i}]"),
            InstanceKey::Key(k) => {
                f.write_str("[\"")?;
                for c in k.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"]")
            }
        }
    }
}

/// The address of a resource instance (or, with `key: None`, of a resource without count/for_each).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    pub mode: Mode,
    pub type_name: String,
    pub name: String,
    pub key: Option<InstanceKey>,
}

impl Address {
    pub fn managed(type_name: impl Into<String>, name: impl Into<String>) -> Self {
        Address {
            mode: Mode::Managed,
            type_name: type_name.into(),
            name: name.into(),
            key: None,
        }
    }

    pub fn data(type_name: impl Into<String>, name: impl Into<String>) -> Self {
        Address {
            mode: Mode::Data,
            type_name: type_name.into(),
            name: name.into(),
            key: None,
        }
    }

    pub fn with_key(mut self, key: Option<InstanceKey>) -> Self {
        self.key = key;
        self
    }

    /// The address of the resource block this instance comes from (key dropped).
    pub fn resource(&self) -> Address {
        Address {
            key: None,
            ..self.clone()
        }
    }

    /// Whether `self` (possibly a whole-resource address) selects `other`.
    pub fn contains(&self, other: &Address) -> bool {
        self.mode == other.mode
            && self.type_name == other.type_name
            && self.name == other.name
            && (self.key.is_none() || self.key == other.key)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mode == Mode::Data {
            f.write_str("data.")?;
        }
        write!(f, "{}.{}", self.type_name, self.name)?;
        if let Some(k) = &self.key {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource address {input:?}: {reason} (expected TYPE.NAME, TYPE.NAME[0] or TYPE.NAME[\"key\"], with data. in front for a data source)")]
pub struct AddressParseError {
    pub input: String,
    pub reason: &'static str,
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl FromStr for Address {
    type Err = AddressParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| AddressParseError {
            input: input.to_string(),
            reason,
        };
        let (mode, rest) = match input.strip_prefix("data.") {
            Some(rest) => (Mode::Data, rest),
            None => (Mode::Managed, input),
        };
        let (head, key) = match rest.find('[') {
            Some(i) => {
                let inner = rest[i..]
                    .strip_prefix('[')
                    .and_then(|s| s.strip_suffix(']'))
                    .ok_or_else(|| err("unbalanced brackets"))?;
                let key = if let Some(q) = inner.strip_prefix('"') {
                    let body = q
                        .strip_suffix('"')
                        .ok_or_else(|| err("unterminated string key"))?;
                    let mut out = String::new();
                    let mut chars = body.chars();
                    while let Some(c) = chars.next() {
                        if c == '\\' {
                            match chars.next() {
                                Some('n') => out.push('\n'),
                                Some(c) => out.push(c),
                                None => return Err(err("dangling escape in key")),
                            }
                        } else if c == '"' {
                            return Err(err("unescaped quote in key"));
                        } else {
                            out.push(c);
                        }
                    }
                    InstanceKey::Key(out)
                } else {
                    InstanceKey::Index(
                        inner
                            .parse()
                            .map_err(|_| err("an index must be a whole number"))?,
                    )
                };
                (&rest[..i], Some(key))
            }
            None => (rest, None),
        };
        let (type_name, name) = head
            .split_once('.')
            .ok_or_else(|| err("missing the resource name"))?;
        if !is_ident(type_name) || !is_ident(name) {
            return Err(err("type and name must be identifiers"));
        }
        Ok(Address {
            mode,
            type_name: type_name.to_string(),
            name: name.to_string(),
            key,
        })
    }
}

impl Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "tencentcloud_vpn_connection.office",
            "tencentcloud_vpn_connection.office[\"sh\"]",
            "tencentcloud_vpn_connection.office[3]",
            "data.tencentcloud_vpn_gateways.all",
            "tencentcloud_vpn_connection.x[\"a \\\"quoted\\\" key\"]",
        ] {
            let a: Address = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
        let a: Address = "data.tencentcloud_vpn_gateways.all".parse().unwrap();
        assert_eq!(a.mode, Mode::Data);
    }

    #[test]
    fn rejects_garbage() {
        for s in ["", "nodot", "a.b[", "a.b[x]", "a.b[\"x]", "1a.b", "a.b.c[0"] {
            assert!(s.parse::<Address>().is_err(), "{s} should not parse");
        }
    }

    #[test]
    fn contains_selects_instances() {
        let whole: Address = "tencentcloud_vpn_connection.office".parse().unwrap();
        let one: Address = "tencentcloud_vpn_connection.office[\"sh\"]"
            .parse()
            .unwrap();
        assert!(whole.contains(&one));
        assert!(!one.contains(&whole));
        assert!(one.contains(&one));
    }
}
