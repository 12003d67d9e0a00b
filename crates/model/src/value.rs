//! Attribute values as the configuration language sees them.
//!
//! A value may be *unknown* (it will only be known after apply, e.g. the id of a gateway not yet
//! created) and may be marked *sensitive* (a pre-shared key, or anything computed from a sensitive
//! variable). Marks propagate: an expression over a sensitive value is sensitive.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

pub use compact_str::CompactString as Str;
pub use serde_json::Number;

/// Key used to represent an unknown value in tunnelform's own serialised documents (plan files).
pub const UNKNOWN_SENTINEL: &str = "$tunnelform_unknown";
/// Key used to represent a sensitive mark in tunnelform's own serialised documents (plan files).
pub const SENSITIVE_SENTINEL: &str = "$tunnelform_sensitive";

pub use crate::map::{Map, Name};

/// Attributes of one object, by name.
pub type Attrs = Map;

#[derive(Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    /// Kept inline when it is 24 bytes or shorter (ids, names, addresses, CIDRs, states): most
    /// strings of an object's attributes then need no allocation of their own.
    String(Str),
    /// Lists, tuples and sets (a schema says when order does not matter).
    List(Vec<Value>),
    /// Maps and objects, ordered by key for determinism.
    Map(Map),
    /// Known only after apply.
    Unknown,
    /// A value that must never be shown or stored in clear.
    Sensitive(Box<Value>),
}

impl Value {
    pub fn string(s: impl Into<Str>) -> Value {
        Value::String(s.into())
    }

    pub fn int(i: i64) -> Value {
        Value::Number(Number::from(i))
    }

    /// A number: whole numbers within ±2^53 become integers, others stay floats. A non-finite
    /// one becomes `Null` (callers report those as errors before they get here).
    pub fn number(f: f64) -> Value {
        if !f.is_finite() {
            return Value::Null;
        }
        if f.fract() == 0.0 && (-9.007_199_254_740_992e15..=9.007_199_254_740_992e15).contains(&f) {
            return Value::int(f as i64);
        }
        Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }

    pub fn sensitive(v: Value) -> Value {
        match v {
            Value::Sensitive(_) => v,
            other => Value::Sensitive(Box::new(other)),
        }
    }

    /// The value with any sensitive mark at its top removed.
    pub fn unmarked(&self) -> &Value {
        match self {
            Value::Sensitive(inner) => inner.unmarked(),
            v => v,
        }
    }

    pub fn into_unmarked(self) -> Value {
        match self {
            Value::Sensitive(inner) => inner.into_unmarked(),
            v => v,
        }
    }

    /// Removes sensitive marks at every depth (for sending to the API).
    pub fn deep_unmarked(&self) -> Value {
        match self {
            Value::Sensitive(inner) => inner.deep_unmarked(),
            Value::List(items) => Value::List(items.iter().map(Value::deep_unmarked).collect()),
            Value::Map(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.deep_unmarked()))
                    .collect(),
            ),
            v => v.clone(),
        }
    }

    pub fn is_sensitive(&self) -> bool {
        matches!(self, Value::Sensitive(_))
    }

    /// Whether a sensitive mark appears anywhere inside.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(items) => items.iter().any(Value::contains_sensitive),
            Value::Map(m) => m.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.unmarked(), Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.unmarked(), Value::Unknown)
    }

    /// Known all the way down.
    pub fn is_wholly_known(&self) -> bool {
        match self.unmarked() {
            Value::Unknown => false,
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.unmarked() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.unmarked() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.unmarked() {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.unmarked() {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self.unmarked() {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self.unmarked() {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The attribute `name` of a map/object value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(name))
    }

    /// A short name of the value's type for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Unknown => "unknown",
            Value::Sensitive(inner) => inner.type_name(),
        }
    }

    /// Plain JSON (unknown becomes null, sensitive values are written in clear). For API payloads
    /// and internal use only: callers that render or persist must mask first.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Map(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
            Value::Sensitive(inner) => inner.to_json(),
        }
    }

    pub fn from_json(j: &serde_json::Value) -> Value {
        match j {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.clone()),
            serde_json::Value::String(s) => Value::String(s.as_str().into()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (Name::new(k), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Equality that ignores the order of list elements (for set-typed attributes), applied at
    /// the top level only; nested lists compare with `PartialEq` after canonical sorting.
    pub fn set_eq(a: &[Value], b: &[Value]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        let mut a: Vec<String> = a.iter().map(Value::canonical_key).collect();
        let mut b: Vec<String> = b.iter().map(Value::canonical_key).collect();
        a.sort();
        b.sort();
        a == b
    }

    /// A stable string for sorting and set comparison (sensitive marks ignored).
    pub fn canonical_key(&self) -> String {
        serde_json::to_string(&self.to_json()).unwrap_or_default()
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.into())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s.into())
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::int(i)
    }
}

/// Debug never shows a sensitive value.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::List(items) => f.debug_list().entries(items).finish(),
            Value::Map(m) => f.debug_map().entries(m).finish(),
            Value::Unknown => f.write_str("(known after apply)"),
            Value::Sensitive(_) => f.write_str("(sensitive value)"),
        }
    }
}

/// Serialisation for tunnelform's own documents: unknown and sensitive are tagged so they survive a
/// round trip. Sensitive contents are serialised: callers persisting values must mask first.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => n.serialize(s),
            Value::String(v) => s.serialize_str(v),
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Value::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Value::Unknown => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(UNKNOWN_SENTINEL, &true)?;
                map.end()
            }
            Value::Sensitive(inner) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(SENSITIVE_SENTINEL, inner)?;
                map.end()
            }
        }
    }
}

/// The entries of a JSON object as a map, built in one go once all are read: a map built from a
/// list fills its nodes (an object read key by key leaves them about half full, and searches the
/// tree for every key). Of keys given twice, the last one counts (as with inserting each).
///
/// The entries are gathered in a buffer this thread keeps from one map to the next (one per
/// depth of nesting), so the map's own vector is allocated once, at its size, rather than grown
/// entry by entry and then shrunk.
pub fn read_map<'de, A: MapAccess<'de>>(a: &mut A) -> Result<Map, A::Error> {
    /// A buffer for a map's entries, and the keys of the last map read with it (see
    /// [`crate::map::KeyLike`]).
    type Spare = (Vec<(Name, Value)>, Vec<Option<&'static str>>);
    thread_local! {
        static SPARE: std::cell::RefCell<Vec<Spare>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let (mut entries, mut keys) = SPARE.with(|s| s.borrow_mut().pop()).unwrap_or_else(|| {
        let n = a.size_hint().unwrap_or(0).clamp(8, 256);
        (Vec::with_capacity(n), Vec::with_capacity(n))
    });
    while let Some(k) = a.next_key_seed(crate::map::KeyLike(
        keys.get(entries.len()).copied().flatten(),
    ))? {
        let v = a.next_value::<Value>()?;
        entries.push((k, v));
    }
    keys.clear();
    keys.extend(entries.iter().map(|(k, _)| k.as_shared()));
    let map = entries.drain(..).collect();
    // A buffer grown by an unusually large map is not kept.
    if entries.capacity() <= 1024 {
        SPARE.with(|s| s.borrow_mut().push((entries, keys)));
    }
    Ok(map)
}

/// Deserialises an attribute map with [`read_map`] (for `#[serde(deserialize_with)]`).
pub fn deserialize_attrs<'de, D: Deserializer<'de>>(d: D) -> Result<Attrs, D::Error> {
    struct M;
    impl<'de> Visitor<'de> for M {
        type Value = Attrs;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Attrs, A::Error> {
            read_map(&mut a)
        }
    }
    d.deserialize_map(M)
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
                Ok(Value::Number(i.into()))
            }
            fn visit_u64<E>(self, i: u64) -> Result<Value, E> {
                Ok(Value::Number(i.into()))
            }
            fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
                Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| E::custom("non-finite number"))
            }
            fn visit_str<E>(self, s: &str) -> Result<Value, E> {
                Ok(Value::String(s.into()))
            }
            fn visit_string<E>(self, s: String) -> Result<Value, E> {
                Ok(Value::String(s.into()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = a.next_element()? {
                    items.push(v);
                }
                Ok(Value::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
                let mut m = read_map(&mut a)?;
                if m.len() == 1 {
                    if m.get(UNKNOWN_SENTINEL) == Some(&Value::Bool(true)) {
                        return Ok(Value::Unknown);
                    }
                    if let Some(inner) = m.remove(SENSITIVE_SENTINEL) {
                        return Ok(Value::sensitive(inner));
                    }
                }
                Ok(Value::Map(m))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Maps read one after another with the same keys, with other keys, in another order, with
    /// fewer or more, nested or not: each reads as what it holds.
    #[test]
    fn maps_read_in_a_row_each_hold_their_own_keys() {
        let docs = [
            r#"{"a":1,"b":{"x":1,"y":2},"c":3}"#,
            r#"{"a":1,"b":{"x":1,"y":2},"c":3}"#,
            r#"{"a":1,"b":{"y":2,"z":3},"d":4}"#,
            r#"{"c":3,"a":1}"#,
            r#"{"a":1,"b":{"x":{"deep":true}},"c":3,"e":5,"Odd Key":6}"#,
            r#"{}"#,
            r#"{"a":1,"a":2}"#,
        ];
        for doc in docs {
            let read: Value = serde_json::from_str(doc).unwrap();
            let j: serde_json::Value = serde_json::from_str(doc).unwrap();
            assert_eq!(read, Value::from_json(&j), "{doc}");
            assert_eq!(read.to_json(), j, "{doc}");
        }
    }

    #[test]
    fn debug_never_shows_sensitive() {
        let v = Value::Map(Map::from([(
            "k".to_string(),
            Value::sensitive("hunter2".into()),
        )]));
        let s = format!("{v:?}");
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("(sensitive value)"));
    }

    #[test]
    fn serde_round_trip_keeps_marks() {
        let v = Value::List(vec![
            Value::Unknown,
            Value::sensitive(Value::int(3)),
            "x".into(),
            Value::Null,
        ]);
        let j = serde_json::to_string(&v).unwrap();
        let back: Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v, back);
    }

    #[test]
    fn maps_read_as_a_whole_keep_the_last_of_repeated_keys_and_their_marks() {
        let v: Value = serde_json::from_str(
            r#"{"b": 1, "a": {"$tunnelform_sensitive": "k"}, "c": {"$tunnelform_unknown": true},
                "b": 2, "d": {"x": [1, {"y": null}]}}"#,
        )
        .unwrap();
        let mut expected = Map::new();
        expected.insert("b".into(), Value::int(1));
        expected.insert("a".into(), Value::sensitive("k".into()));
        expected.insert("c".into(), Value::Unknown);
        expected.insert("b".into(), Value::int(2));
        expected.insert(
            "d".into(),
            Value::Map(Map::from([(
                "x".to_string(),
                Value::List(vec![
                    Value::int(1),
                    Value::Map(Map::from([("y".to_string(), Value::Null)])),
                ]),
            )])),
        );
        assert_eq!(v, Value::Map(expected.clone()));
        #[derive(Deserialize)]
        struct S {
            #[serde(deserialize_with = "deserialize_attrs")]
            attrs: Attrs,
        }
        let s: S = serde_json::from_str(
            r#"{"attrs": {"b": 1, "a": {"$tunnelform_sensitive": "k"}, "c": {"$tunnelform_unknown": true},
                "b": 2, "d": {"x": [1, {"y": null}]}}}"#,
        )
        .unwrap();
        assert_eq!(s.attrs, expected);
        let e = serde_json::from_str::<S>(r#"{"attrs": [1]}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("expected a map"), "{e}");
    }

    #[test]
    fn set_eq_ignores_order() {
        let a = vec![Value::from("10.0.0.0/24"), Value::from("10.0.1.0/24")];
        let b = vec![Value::from("10.0.1.0/24"), Value::from("10.0.0.0/24")];
        assert!(Value::set_eq(&a, &b));
        assert!(!Value::set_eq(&a, &b[..1]));
    }

    #[test]
    fn knownness() {
        let v = Value::List(vec![Value::from("a"), Value::Unknown]);
        assert!(!v.is_wholly_known());
        assert!(Value::sensitive(Value::Unknown).is_unknown());
        assert_eq!(
            Value::from(1.0_f64.to_string().as_str()).as_str(),
            Some("1")
        );
    }
}
