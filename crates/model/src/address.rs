//! Resource addresses: `tencentcloud_vpn_connection.office["sh"]`, `data.tencentcloud_vpn_gateways.all`,
//! and inside modules Terraform's `module.site["sh"].tencentcloud_vpn_connection.primary`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::map::Name;

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

/// One step of a module path: `module.NAME` or, for a call with `count`/`for_each`,
/// `module.NAME[KEY]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleStep {
    pub name: Name,
    pub key: Option<InstanceKey>,
}

impl fmt::Display for ModuleStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "module.{}", self.name)?;
        if let Some(k) = &self.key {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

/// The address of a resource instance (or, with `key: None`, of a resource without count/for_each).
/// `module` is the path of module instances the resource is declared in, empty at the root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    pub module: Vec<ModuleStep>,
    pub mode: Mode,
    /// Shared (`Name`): every copy of an address (state, plan, graph, dependencies) points at one
    /// string for its type and block name.
    pub type_name: Name,
    pub name: Name,
    pub key: Option<InstanceKey>,
}

impl Address {
    pub fn managed(type_name: impl Into<Name>, name: impl Into<Name>) -> Self {
        Address {
            module: Vec::new(),
            mode: Mode::Managed,
            type_name: type_name.into(),
            name: name.into(),
            key: None,
        }
    }

    pub fn data(type_name: impl Into<Name>, name: impl Into<Name>) -> Self {
        Address {
            module: Vec::new(),
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

    /// The same address inside the module instance `step` (prepended to the module path).
    pub fn in_module(mut self, step: ModuleStep) -> Self {
        self.module.insert(0, step);
        self
    }

    /// Whether the resource is declared in the root module.
    pub fn is_root(&self) -> bool {
        self.module.is_empty()
    }

    /// The module path as written in front of the resource (`module.a["x"].module.b`), empty at
    /// the root.
    pub fn module_path(&self) -> String {
        self.module
            .iter()
            .map(ModuleStep::to_string)
            .collect::<Vec<_>>()
            .join(".")
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
        self.module == other.module
            && self.mode == other.mode
            && self.type_name == other.type_name
            && self.name == other.name
            && (self.key.is_none() || self.key == other.key)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.module {
            write!(f, "{step}.")?;
        }
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
#[error("invalid resource address {input:?}: {reason} (expected TYPE.NAME, TYPE.NAME[0] or TYPE.NAME[\"key\"], with data. in front for a data source and module.NAME. or module.NAME[\"key\"]. in front for a resource in a module)")]
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
        let (module, rest) = parse_module_path(input).map_err(err)?;
        let rest = rest.ok_or_else(|| err("a module path must be followed by a resource"))?;
        let (mode, rest) = match rest.strip_prefix("data.") {
            Some(rest) => (Mode::Data, rest),
            None => (Mode::Managed, rest),
        };
        let (head, key) = match rest.find('[') {
            Some(i) => {
                let inner = rest[i..]
                    .strip_prefix('[')
                    .and_then(|s| s.strip_suffix(']'))
                    .ok_or_else(|| err("unbalanced brackets"))?;
                let key = parse_key(inner).map_err(err)?;
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
            module,
            mode,
            type_name: type_name.into(),
            name: name.into(),
            key,
        })
    }
}

/// The leading module path of `input` (`module.a["k"].module.b.`) and what follows it, `None`
/// when the input is nothing but a module path.
fn parse_module_path(input: &str) -> Result<(Vec<ModuleStep>, Option<&str>), &'static str> {
    let mut module = Vec::new();
    let mut rest = input;
    while let Some(after) = rest.strip_prefix("module.") {
        let name_end = after.find(['.', '[']).unwrap_or(after.len());
        let name = &after[..name_end];
        if !is_ident(name) {
            return Err("a module name must be an identifier");
        }
        let mut tail = &after[name_end..];
        let key = if tail.starts_with('[') {
            let close = key_end(tail).ok_or("unbalanced brackets")?;
            let key = parse_key(&tail[1..close])?;
            tail = &tail[close + 1..];
            Some(key)
        } else {
            None
        };
        module.push(ModuleStep {
            name: name.into(),
            key,
        });
        if tail.is_empty() {
            return Ok((module, None));
        }
        rest = tail
            .strip_prefix('.')
            .ok_or("a module path must be followed by a resource")?;
    }
    Ok((module, Some(rest)))
}

/// What `--target` selects: a resource (every instance, or one), or a whole module instance with
/// everything in it, nested modules included (`module.site`: every instance of the call;
/// `module.site["sh"]`: that one).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Resource(Address),
    Module(Vec<ModuleStep>),
}

impl Target {
    /// Whether this target selects the resource instance `a`.
    pub fn selects(&self, a: &Address) -> bool {
        match self {
            Target::Resource(r) => r.contains(a),
            Target::Module(path) => {
                a.module.len() >= path.len()
                    && path
                        .iter()
                        .zip(&a.module)
                        .all(|(t, m)| t.name == m.name && (t.key.is_none() || t.key == m.key))
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Resource(a) => a.fmt(f),
            Target::Module(path) => {
                let steps: Vec<String> = path.iter().map(ModuleStep::to_string).collect();
                f.write_str(&steps.join("."))
            }
        }
    }
}

impl FromStr for Target {
    type Err = AddressParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if let Ok((module, None)) = parse_module_path(input) {
            return Ok(Target::Module(module));
        }
        input.parse().map(Target::Resource)
    }
}

/// The index of the `]` that closes the `[` at the start of `s` (a quoted key may contain brackets).
fn key_end(s: &str) -> Option<usize> {
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else if c == ']' {
            return Some(i);
        }
    }
    None
}

/// The key between brackets: `"quoted"` (with `\"`, `\\`, `\n` escapes) or a whole number.
fn parse_key(inner: &str) -> Result<InstanceKey, &'static str> {
    if let Some(q) = inner.strip_prefix('"') {
        let body = q.strip_suffix('"').ok_or("unterminated string key")?;
        let mut out = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(c) => out.push(c),
                    None => return Err("dangling escape in key"),
                }
            } else if c == '"' {
                return Err("unescaped quote in key");
            } else {
                out.push(c);
            }
        }
        Ok(InstanceKey::Key(out))
    } else {
        inner
            .parse()
            .map(InstanceKey::Index)
            .map_err(|_| "an index must be a whole number")
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
    fn a_module_target_selects_everything_in_that_module_instance() {
        let a = |s: &str| s.parse::<Address>().unwrap();
        let t = |s: &str| s.parse::<Target>().unwrap();
        let inside = a(r#"module.site["sh"].tencentcloud_vpn_connection.primary"#);
        let nested = a(r#"module.site["sh"].module.routes.tencentcloud_route_table_entry.r[0]"#);
        let other = a(r#"module.site["bj"].tencentcloud_vpn_connection.primary"#);
        let root = a("tencentcloud_vpn_gateway.hub");
        let named = a("module.sitex.tencentcloud_vpn_gateway.hub");
        let all = t("module.site");
        assert_eq!(
            all,
            Target::Module(vec![ModuleStep {
                name: "site".into(),
                key: None
            }])
        );
        assert!(all.selects(&inside) && all.selects(&nested) && all.selects(&other));
        assert!(!all.selects(&root) && !all.selects(&named));
        let sh = t(r#"module.site["sh"]"#);
        assert_eq!(sh.to_string(), r#"module.site["sh"]"#);
        assert!(sh.selects(&inside) && sh.selects(&nested) && !sh.selects(&other));
        let deep = t(r#"module.site["sh"].module.routes"#);
        assert!(deep.selects(&nested) && !deep.selects(&inside));
        // A resource address is still a resource target.
        assert_eq!(
            t("module.site[\"sh\"].tencentcloud_vpn_connection.primary"),
            Target::Resource(inside.clone())
        );
        assert!(t("tencentcloud_vpn_gateway.hub").selects(&root));
        for bad in [
            "module.",
            "module.1x",
            r#"module.site["sh""#,
            "module.site.x",
        ] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trips() {
        for s in [
            "tencentcloud_vpn_connection.office",
            "tencentcloud_vpn_connection.office[\"sh\"]",
            "tencentcloud_vpn_connection.office[3]",
            "data.tencentcloud_vpn_gateways.all",
            "tencentcloud_vpn_connection.x[\"a \\\"quoted\\\" key\"]",
            "module.site.tencentcloud_vpn_connection.primary",
            "module.site[\"sh\"].tencentcloud_vpn_connection.primary",
            "module.site[2].module.inner.data.tencentcloud_vpn_gateways.all",
            "module.site[\"a.b]\"].tencentcloud_vpn_gateway.gw[0]",
        ] {
            let a: Address = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
        let a: Address = "data.tencentcloud_vpn_gateways.all".parse().unwrap();
        assert_eq!(a.mode, Mode::Data);
        assert!(a.is_root());
        let m: Address = "module.site[\"sh\"].module.inner.tencentcloud_vpn_gateway.gw"
            .parse()
            .unwrap();
        assert_eq!(
            m.module,
            vec![
                ModuleStep {
                    name: "site".into(),
                    key: Some(InstanceKey::Key("sh".into()))
                },
                ModuleStep {
                    name: "inner".into(),
                    key: None
                }
            ]
        );
        assert_eq!(m.module_path(), "module.site[\"sh\"].module.inner");
        assert_eq!(m.type_name, "tencentcloud_vpn_gateway");
        assert_eq!(m.name, "gw");
    }

    #[test]
    fn module_addresses_are_distinct_from_root_ones() {
        let root: Address = "tencentcloud_vpn_gateway.gw".parse().unwrap();
        let inner: Address = "module.site.tencentcloud_vpn_gateway.gw".parse().unwrap();
        assert_ne!(root, inner);
        assert!(!root.contains(&inner));
        assert!(!inner.contains(&root));
        let one: Address = "module.site.tencentcloud_vpn_gateway.gw[1]"
            .parse()
            .unwrap();
        assert!(inner.contains(&one));
        assert_eq!(
            root.clone().in_module(ModuleStep {
                name: "site".into(),
                key: None
            }),
            inner
        );
        let json = serde_json::to_string(&one).unwrap();
        assert_eq!(json, "\"module.site.tencentcloud_vpn_gateway.gw[1]\"");
        assert_eq!(serde_json::from_str::<Address>(&json).unwrap(), one);
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "nodot",
            "a.b[",
            "a.b[x]",
            "a.b[\"x]",
            "1a.b",
            "a.b.c[0",
            "module.site",
            "module.site.",
            "module.site[\"sh\"]",
            "module.site[\"sh\"]a.b",
            "module.1x.a.b",
            "module.site[x].a.b",
        ] {
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
