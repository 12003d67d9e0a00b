//! Reading planned attributes into request fields, and described fields into attribute values:
//! the small conversions every kind's API mapping uses.

use tunnelform_model::{Attrs, Value};
use tunnelform_tencent_api::Secret;

pub fn s(v: &str) -> Value {
    Value::from(v)
}

/// A string the API reports as "" when unset: null.
pub fn opt_s(v: &Option<String>) -> Value {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(Value::from)
        .unwrap_or(Value::Null)
}

/// A string that is null when empty.
pub fn non_empty(v: &str) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        s(v)
    }
}

pub fn opt_int(v: Option<impl Into<i64>>) -> Value {
    v.map(|v| Value::int(v.into())).unwrap_or(Value::Null)
}

pub fn get_str(a: &Attrs, k: &str) -> Option<String> {
    a.get(k).and_then(Value::as_str).map(str::to_string)
}

/// An integer, also when given as a decimal string.
pub fn get_int(a: &Attrs, k: &str) -> Option<i64> {
    let v = a.get(k)?;
    v.as_i64().or_else(|| v.as_str()?.parse().ok())
}

pub fn get_u64(a: &Attrs, k: &str) -> Option<u64> {
    get_int(a, k).map(|v| v as u64)
}

pub fn get_bool(a: &Attrs, k: &str) -> Option<bool> {
    a.get(k).and_then(Value::as_bool)
}

pub fn secret_of(a: &Attrs, k: &str) -> Option<Secret> {
    a.get(k).and_then(Value::as_str).map(Secret::new)
}

/// Whether argument `k` is among those that changed.
pub fn changed(changed: &[String], k: &str) -> bool {
    changed.iter().any(|c| c == k)
}

/// Whether any changed argument starts with `prefix`.
pub fn changed_prefix(changed: &[String], prefix: &str) -> bool {
    changed.iter().any(|c| c.starts_with(prefix))
}

/// Collects an object's attributes, then builds the map in one go ([`AttrsBuilder::build`]): a map
/// built from a list fills its nodes, where inserting key by key leaves them about half full (a
/// refresh of 10,000 objects keeps 10,000 of these maps).
#[derive(Debug, Default)]
pub struct AttrsBuilder(Vec<(String, Value)>);

impl AttrsBuilder {
    pub fn with_capacity(n: usize) -> AttrsBuilder {
        AttrsBuilder(Vec::with_capacity(n))
    }

    /// Adds an attribute (a name given twice keeps its last value, as a map's insert would).
    pub fn insert(&mut self, name: String, value: Value) {
        self.0.push((name, value));
    }

    pub fn build(self) -> Attrs {
        self.0.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_map_is_the_map_of_its_inserts() {
        let mut b = AttrsBuilder::with_capacity(2);
        let mut m = Attrs::new();
        for (k, v) in [
            ("zone", s("z")),
            ("id", s("1")),
            ("name", s("a")),
            ("id", s("2")),
        ] {
            b.insert(k.to_string(), v.clone());
            m.insert(k.into(), v);
        }
        let built = b.build();
        assert_eq!(built, m);
        assert_eq!(built.get("id"), Some(&s("2")));
        assert_eq!(built.keys().collect::<Vec<_>>(), ["id", "name", "zone"]);
    }
}
