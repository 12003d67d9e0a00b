//! Small helpers over `model::Value`: numbers, primitive conversions, equality, marks, size.

use std::borrow::Cow;

use tunnelform_model::{Number, Value};

/// Largest value (in nodes) a single list/map construction may produce.
pub const MAX_VALUE_WEIGHT: usize = 1_000_000;
/// Deepest value a local may hold.
pub const MAX_VALUE_DEPTH: usize = 100;

/// A number as f64 (integers beyond 2^53 lose precision, as everywhere in JSON).
pub fn as_f64(n: &Number) -> f64 {
    n.as_i64()
        .map(|i| i as f64)
        .or_else(|| n.as_f64())
        .unwrap_or(0.0)
}

pub fn format_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

/// Parses a number the way Terraform converts a string to a number.
pub fn parse_number(s: &str) -> Option<Value> {
    let b = s.as_bytes();
    let mut i = 0;
    if b.get(i) == Some(&b'-') || b.get(i) == Some(&b'+') {
        i += 1;
    }
    let digits_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut any = i > digits_start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let f = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        any |= i > f;
    }
    if !any {
        return None;
    }
    if matches!(b.get(i), Some(b'e') | Some(b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-') | Some(b'+')) {
            i += 1;
        }
        let e = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == e {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    if let Ok(n) = s.trim_start_matches('+').parse::<i64>() {
        return Some(Value::int(n));
    }
    let f: f64 = s.parse().ok()?;
    f.is_finite().then(|| Value::number(f))
}

/// The string form of a primitive (string, number, bool); None for others.
pub fn primitive_string(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(format_number(n))),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Sensitive(inner) => primitive_string(inner),
        _ => None,
    }
}

/// A value as a number (numbers, and strings holding one).
pub fn to_number(v: &Value) -> Option<Value> {
    match v.unmarked() {
        Value::Number(_) => Some(v.unmarked().clone()),
        Value::String(s) => parse_number(s),
        _ => None,
    }
}

pub fn to_bool(v: &Value) -> Option<bool> {
    match v.unmarked() {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// Removes the top-level sensitive mark, telling whether there was one.
pub fn unmark(v: Value) -> (Value, bool) {
    match v {
        Value::Sensitive(inner) => (inner.into_unmarked(), true),
        v => (v, false),
    }
}

pub fn mark_if(v: Value, sensitive: bool) -> Value {
    if sensitive {
        Value::sensitive(v)
    } else {
        v
    }
}

/// Deep equality ignoring marks; None when an unknown value makes it undecidable.
pub fn equal(a: &Value, b: &Value) -> Option<bool> {
    match (a.unmarked(), b.unmarked()) {
        (Value::Unknown, _) | (_, Value::Unknown) => None,
        (Value::Number(x), Value::Number(y)) => Some(x == y || as_f64(x) == as_f64(y)),
        (Value::List(x), Value::List(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            all_equal(x.iter().zip(y))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.len() != y.len() || x.keys().zip(y.keys()).any(|(p, q)| p != q) {
                return Some(false);
            }
            all_equal(x.values().zip(y.values()))
        }
        (x, y) => Some(x == y),
    }
}

/// Whether every pair is [`equal`]: false as soon as one pair differs, else None when an unknown
/// value left one undecided.
fn all_equal<'v>(pairs: impl Iterator<Item = (&'v Value, &'v Value)>) -> Option<bool> {
    let mut unknown = false;
    for (p, q) in pairs {
        match equal(p, q) {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    if unknown {
        None
    } else {
        Some(true)
    }
}

/// A short type description for messages.
pub fn describe_type(v: &Value) -> &'static str {
    match v.unmarked() {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Map(_) => "map/object",
        Value::Unknown => "unknown",
        Value::Sensitive(_) => "sensitive",
    }
}

/// A value for messages: quoted strings, short; `(sensitive value)` when marked.
pub fn show(v: &Value) -> String {
    if v.is_sensitive() {
        return "(sensitive value)".into();
    }
    let s = match v {
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => format_number(n),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Unknown => "(known after apply)".into(),
        other if other.contains_sensitive() => "(value with sensitive parts)".into(),
        other => other.canonical_key(),
    };
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// Size of a value (nodes plus string bytes / 16) and its depth, counted iteratively up to `limit`.
pub fn weight(v: &Value, limit: usize) -> (usize, usize) {
    let mut stack: Vec<(&Value, usize)> = vec![(v, 1)];
    let mut total = 0usize;
    let mut max_depth = 0usize;
    while let Some((v, d)) = stack.pop() {
        total += 1;
        max_depth = max_depth.max(d);
        if total > limit {
            break;
        }
        match v {
            Value::String(s) => total += s.len() / 16,
            Value::List(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Map(m) => {
                for (k, i) in m {
                    total += k.len() / 16;
                    stack.push((i, d + 1));
                }
            }
            Value::Sensitive(inner) => stack.push((inner, d)),
            _ => {}
        }
    }
    (total, max_depth)
}

/// Whether a value a local or an output holds is within the limits ([`MAX_VALUE_WEIGHT`] nodes,
/// [`MAX_VALUE_DEPTH`] levels); the error says which is exceeded.
pub fn check_size(v: &Value) -> Result<(), String> {
    let (w, depth) = weight(v, MAX_VALUE_WEIGHT);
    if w > MAX_VALUE_WEIGHT {
        return Err(format!(
            "the value has more than {MAX_VALUE_WEIGHT} elements"
        ));
    }
    if depth > MAX_VALUE_DEPTH {
        return Err(format!(
            "the value is nested {depth} levels deep (at most {MAX_VALUE_DEPTH})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(Value::number(3.0), Value::int(3));
        assert_eq!(format_number(&Number::from_f64(2.5).unwrap()), "2.5");
        assert_eq!(parse_number("42"), Some(Value::int(42)));
        assert_eq!(parse_number("-1.5"), Some(Value::number(-1.5)));
        assert_eq!(parse_number("1e3"), Some(Value::int(1000)));
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("1x"), None);
        assert_eq!(parse_number("."), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("inf"), None);
    }

    #[test]
    fn equality_ignores_marks_and_int_float() {
        assert_eq!(equal(&Value::int(1), &Value::number(1.0)), Some(true));
        assert_eq!(
            equal(&Value::sensitive("a".into()), &"a".into()),
            Some(true)
        );
        assert_eq!(
            equal(
                &Value::List(vec![Value::Unknown]),
                &Value::List(vec![Value::int(1)])
            ),
            None
        );
        assert_eq!(
            equal(&Value::List(vec![Value::Unknown]), &Value::List(vec![])),
            Some(false)
        );
    }

    #[test]
    fn weight_counts_and_stops() {
        let v = Value::List(vec![Value::List(vec![Value::int(1); 10]); 10]);
        assert_eq!(weight(&v, 1000), (111, 3));
        assert!(weight(&v, 50).0 > 50);
    }
}
