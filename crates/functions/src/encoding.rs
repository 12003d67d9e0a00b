//! JSON, base64 and hashing.

use base64::Engine as _;
use sha2::Digest as _;
use tunnelform_model::Value;

use super::call::Call;
use crate::error::EResult;

pub(super) fn jsonencode(c: &Call<'_>) -> EResult<Value> {
    let text = serde_json::to_string(&c.arg(0).0.to_json())
        .map_err(|e| c.err(c.arg(0).1, format!("cannot encode: {e}")))?;
    Ok(Value::string(go_json_escape(&text)))
}

pub(super) fn jsondecode(c: &Call<'_>) -> EResult<Value> {
    let s = c.str(c.arg(0))?;
    let j: serde_json::Value = serde_json::from_str(&s)
        .map_err(|e| c.err(c.arg(0).1, format!("the string is not valid JSON: {e}")))?;
    Ok(Value::from_json(&j))
}

pub(super) fn base64encode(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|s| base64::engine::general_purpose::STANDARD.encode(s))
}

pub(super) fn base64decode(c: &Call<'_>) -> EResult<Value> {
    let s = c.str(c.arg(0))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.as_bytes())
        .map_err(|e| c.err(c.arg(0).1, format!("invalid base64: {e}")))?;
    Ok(Value::string(String::from_utf8(bytes).map_err(|_| {
        c.err(c.arg(0).1, "the decoded bytes are not UTF-8")
    })?))
}

pub(super) fn sha256(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|s| hex::encode(sha2::Sha256::digest(s.as_bytes())))
}

/// Go's json.Marshal escapes <, > and & (Terraform's jsonencode output matches it).
fn go_json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn digest_md5(b: &[u8]) -> Vec<u8> {
    md5::Md5::digest(b).to_vec()
}

pub(super) fn digest_sha1(b: &[u8]) -> Vec<u8> {
    sha1::Sha1::digest(b).to_vec()
}

pub(super) fn digest_sha256(b: &[u8]) -> Vec<u8> {
    sha2::Sha256::digest(b).to_vec()
}

pub(super) fn digest_sha512(b: &[u8]) -> Vec<u8> {
    sha2::Sha512::digest(b).to_vec()
}

pub(super) fn md5(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|s| hex::encode(digest_md5(s.as_bytes())))
}

pub(super) fn sha1(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|s| hex::encode(digest_sha1(s.as_bytes())))
}

pub(super) fn sha512(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|s| hex::encode(digest_sha512(s.as_bytes())))
}

pub(super) fn base64sha256(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|s| base64::engine::general_purpose::STANDARD.encode(digest_sha256(s.as_bytes())))
}

pub(super) fn base64sha512(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|s| base64::engine::general_purpose::STANDARD.encode(digest_sha512(s.as_bytes())))
}

/// `base64gzip`: the string gzip-compressed, then base64-encoded.
pub(super) fn base64gzip(c: &Call<'_>) -> EResult<Value> {
    use std::io::Write as _;
    let s = c.str(c.arg(0))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(s.as_bytes())
        .and_then(|()| gz.finish())
        .map(|bytes| Value::string(base64::engine::general_purpose::STANDARD.encode(bytes)))
        .map_err(|e| c.err(c.arg(0).1, format!("cannot compress: {e}")))
}

/// `urlencode`: Go's `url.QueryEscape` (spaces become `+`, all but `A-Za-z0-9-_.~` escaped).
pub(super) fn urlencode(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|s| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    out.push(b as char)
                }
                b' ' => out.push('+'),
                b => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    })
}

/// `uuidv5(namespace, name)`: a name-based UUID; the namespace is `dns`, `url`, `oid`, `x500`
/// or a UUID.
pub(super) fn uuidv5(c: &Call<'_>) -> EResult<Value> {
    let (nv, nspan) = c.arg(0);
    let ns = c.str((nv, nspan))?;
    let name = c.str(c.arg(1))?;
    let namespace = match ns.as_str() {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => uuid::Uuid::parse_str(other).map_err(|_| {
            c.err(
                nspan,
                format!("the namespace must be \"dns\", \"url\", \"oid\", \"x500\" or a UUID, got {other:?}"),
            )
        })?,
    };
    Ok(Value::string(
        uuid::Uuid::new_v5(&namespace, name.as_bytes()).to_string(),
    ))
}

/// `csvdecode`: RFC 4180 CSV whose first line names the columns, as a list of maps of strings
/// (one per remaining line). Every line must have as many fields as the header.
pub(super) fn csvdecode(c: &Call<'_>) -> EResult<Value> {
    let (v, span) = c.arg(0);
    let s = c.str((v, span))?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(s.as_bytes());
    let mut records = r.records();
    let header = match records.next() {
        None => {
            return Err(c.err(
                span,
                "missing header line: the first line of the CSV must name the columns",
            ))
        }
        Some(h) => h.map_err(|e| csv_err(c, span, &e))?,
    };
    let names: Vec<String> = header.iter().map(str::to_string).collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(c.err(
                span,
                format!("duplicate column name {n:?} in the header line"),
            ));
        }
    }
    let mut out = Vec::new();
    for rec in records {
        c.ctx.step(c.span)?;
        let rec = rec.map_err(|e| csv_err(c, span, &e))?;
        out.push(Value::Map(
            names
                .iter()
                .cloned()
                .zip(rec.iter().map(Value::from))
                .collect(),
        ));
    }
    Ok(Value::List(out))
}

fn csv_err(
    c: &Call<'_>,
    span: tunnelform_syntax::BSpan,
    e: &csv::Error,
) -> Box<crate::error::EvalError> {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    let why = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("line {line} has {len} field(s), but the header line has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => format!("line {line} is not valid UTF-8"),
        _ => format!("invalid CSV: {e}"),
    };
    c.err(span, why)
}

/// `yamlencode`: YAML block syntax as Terraform writes it (keys and strings double-quoted,
/// multi-line strings as literal blocks, sorted keys).
pub(super) fn yamlencode(c: &Call<'_>) -> EResult<Value> {
    let mut out = String::new();
    yaml::encode(c.arg(0).0, 0, &mut out);
    Ok(Value::string(out))
}

/// `yamldecode`: one YAML 1.2 document (core schema) as a value.
pub(super) fn yamldecode(c: &Call<'_>) -> EResult<Value> {
    let (v, span) = c.arg(0);
    let s = c.str((v, span))?;
    yaml::decode(&s).map_err(|e| c.err(span, e))
}

mod yaml {
    //! YAML to and from values. Decoding builds values from the parser's events so that
    //! aliases are expanded under the value size limit (a "billion laughs" document is refused)
    //! and nesting is bounded.

    use std::collections::{HashMap, HashSet};

    use tunnelform_model::{Map, Value};
    use yaml_rust2::parser::{Event, Parser, Tag};
    use yaml_rust2::scanner::{Marker, TScalarStyle};

    use crate::values::{format_number, parse_number, weight, MAX_VALUE_DEPTH, MAX_VALUE_WEIGHT};

    enum Frame {
        Seq(Vec<Value>, usize),
        /// entries, the pending key, the anchor, keys set by a `<<` merge (explicit keys override them)
        Map(Map, Option<String>, usize, HashSet<String>),
    }

    fn at(m: &Marker) -> String {
        format!("line {}, column {}", m.line(), m.col() + 1)
    }

    fn core_tag(t: &Tag) -> Option<&str> {
        (t.handle == "tag:yaml.org,2002:" || t.handle == "!!").then_some(t.suffix.as_str())
    }

    fn int_value(s: &str) -> Option<Value> {
        let (neg, digits) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let parsed = if let Some(o) = digits.strip_prefix("0o") {
            i64::from_str_radix(o, 8).ok()
        } else if let Some(h) = digits.strip_prefix("0x") {
            i64::from_str_radix(h, 16).ok()
        } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return parse_number(s);
        } else {
            None
        }?;
        Some(Value::int(if neg { -parsed } else { parsed }))
    }

    fn float_value(s: &str, m: &Marker) -> Result<Option<Value>, String> {
        let lower = s.trim_start_matches(['+', '-']).to_ascii_lowercase();
        if lower == ".inf" || lower == ".nan" {
            return Err(format!(
                "{s} at {} cannot be represented: numbers must be finite",
                at(m)
            ));
        }
        Ok(parse_number(s))
    }

    /// A scalar as the core schema resolves it (plain), or as its tag says.
    fn scalar(
        s: String,
        style: TScalarStyle,
        tag: Option<&Tag>,
        m: &Marker,
    ) -> Result<Value, String> {
        if let Some(t) = tag {
            let Some(kind) = core_tag(t) else {
                return Err(format!(
                    "unsupported tag {}{} at {}",
                    t.handle,
                    t.suffix,
                    at(m)
                ));
            };
            let bad = || format!("cannot parse {s:?} as !!{kind} at {}", at(m));
            return match kind {
                "str" | "binary" | "timestamp" => Ok(Value::string(s)),
                "int" => int_value(&s).ok_or_else(bad),
                "float" => float_value(&s, m)?.ok_or_else(bad),
                "bool" => match s.as_str() {
                    "true" | "True" | "TRUE" => Ok(Value::Bool(true)),
                    "false" | "False" | "FALSE" => Ok(Value::Bool(false)),
                    _ => Err(bad()),
                },
                "null" => Ok(Value::Null),
                other => Err(format!("unsupported tag !!{other} at {}", at(m))),
            };
        }
        if style != TScalarStyle::Plain {
            return Ok(Value::string(s));
        }
        Ok(match s.as_str() {
            "" | "~" | "null" | "Null" | "NULL" => Value::Null,
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            _ => {
                if let Some(v) = int_value(&s) {
                    v
                } else if s.bytes().any(|b| b.is_ascii_digit()) || s.starts_with(['.', '+', '-']) {
                    match float_value(&s, m)? {
                        Some(v) if looks_numeric(&s) => v,
                        _ => Value::string(s),
                    }
                } else {
                    Value::string(s)
                }
            }
        })
    }

    /// The core schema's float syntax: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
    fn looks_numeric(s: &str) -> bool {
        let b = s.trim_start_matches(['+', '-']).as_bytes();
        let mut i = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int_digits = i;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let f = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if int_digits == 0 && i == f {
                return false;
            }
        } else if int_digits == 0 {
            return false;
        }
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                i += 1;
            }
            let e = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == e {
                return false;
            }
        }
        i == b.len()
    }

    pub(super) fn decode(src: &str) -> Result<Value, String> {
        let mut parser = Parser::new_from_str(src);
        let mut stack: Vec<Frame> = Vec::new();
        let mut anchors: HashMap<usize, Value> = HashMap::new();
        let mut docs = 0usize;
        let mut root: Option<Value> = None;
        let mut total = 0usize;
        loop {
            let (ev, mark) = parser.next_token().map_err(|e| {
                format!(
                    "invalid YAML at line {}, column {}: {}",
                    e.marker().line(),
                    e.marker().col() + 1,
                    e.info()
                )
            })?;
            let value = match ev {
                Event::StreamEnd => break,
                Event::DocumentStart => {
                    docs += 1;
                    if docs > 1 {
                        return Err(format!(
                            "a second YAML document starts at {}: yamldecode reads one document",
                            at(&mark)
                        ));
                    }
                    continue;
                }
                Event::Scalar(s, style, anchor, tag) => {
                    let v = scalar(s, style, tag.as_ref(), &mark)?;
                    if anchor > 0 {
                        anchors.insert(anchor, v.clone());
                    }
                    v
                }
                Event::Alias(id) => {
                    let v = anchors
                        .get(&id)
                        .cloned()
                        .ok_or_else(|| format!("unknown alias at {}", at(&mark)))?;
                    total += weight(&v, MAX_VALUE_WEIGHT).0;
                    if total > MAX_VALUE_WEIGHT {
                        return Err(format!(
                            "the document expands (through aliases) to more than {MAX_VALUE_WEIGHT} elements"
                        ));
                    }
                    v
                }
                Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                    if let Some(t) = tag
                        .as_ref()
                        .filter(|t| !matches!(core_tag(t), Some("seq" | "map")))
                    {
                        return Err(format!(
                            "unsupported tag {}{} at {}",
                            t.handle,
                            t.suffix,
                            at(&mark)
                        ));
                    }
                    if stack.len() >= MAX_VALUE_DEPTH {
                        return Err(format!(
                            "the document is nested more than {MAX_VALUE_DEPTH} levels deep"
                        ));
                    }
                    stack.push(if matches!(ev, Event::SequenceStart(..)) {
                        Frame::Seq(Vec::new(), anchor)
                    } else {
                        Frame::Map(Map::new(), None, anchor, HashSet::new())
                    });
                    continue;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (v, anchor) = match stack.pop() {
                        Some(Frame::Seq(items, a)) => (Value::List(items), a),
                        Some(Frame::Map(m, _, a, _)) => (Value::Map(m), a),
                        None => return Err("invalid YAML: unbalanced collection".into()),
                    };
                    if anchor > 0 {
                        anchors.insert(anchor, v.clone());
                    }
                    v
                }
                _ => continue,
            };
            total += 1;
            if total > MAX_VALUE_WEIGHT {
                return Err(format!(
                    "the document has more than {MAX_VALUE_WEIGHT} elements"
                ));
            }
            match stack.last_mut() {
                None => root = Some(value),
                Some(Frame::Seq(items, _)) => items.push(value),
                Some(Frame::Map(m, key, _, merged)) => {
                    match key.take() {
                        None => {
                            let k = match &value {
                                Value::String(s) => s.to_string(),
                                Value::Number(n) => format_number(n),
                                Value::Bool(b) => b.to_string(),
                                Value::Null => "null".into(),
                                _ => {
                                    return Err(format!(
                                        "a mapping key at {} is a collection; keys must be strings",
                                        at(&mark)
                                    ))
                                }
                            };
                            if k != "<<" && m.contains_key(&k) && !merged.contains(&k) {
                                return Err(format!("duplicate key {k:?} at {}", at(&mark)));
                            }
                            *key = Some(k);
                        }
                        Some(k) if k == "<<" => {
                            // A merge key: the entries of the map(s) not already set.
                            let sources = match value {
                                Value::List(l) => l,
                                other => vec![other],
                            };
                            for s in sources {
                                let Value::Map(src) = s else {
                                    return Err(format!("the merge key << at {} needs a mapping or a list of mappings", at(&mark)));
                                };
                                for (k, v) in src {
                                    if let tunnelform_model::map::Entry::Vacant(slot) = m.entry(k) {
                                        merged.insert(slot.key().clone().into());
                                        slot.insert(v);
                                    }
                                }
                            }
                        }
                        Some(k) => {
                            merged.remove(&k);
                            m.insert(k.into(), value);
                        }
                    }
                }
            }
        }
        Ok(root.unwrap_or(Value::Null))
    }

    fn quoted(s: &str, out: &mut String) {
        out.push('"');
        for ch in s.chars() {
            match ch {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    out.push_str(&format!("\\x{:02X}", c as u32))
                }
                '\u{85}' => out.push_str("\\N"),
                '\u{2028}' => out.push_str("\\L"),
                '\u{2029}' => out.push_str("\\P"),
                c => out.push(c),
            }
        }
        out.push('"');
    }

    /// Whether a multi-line string can be written as a literal block and read back the same.
    fn literal_ok(s: &str) -> bool {
        s.contains('\n')
            && !s.starts_with([' ', '\n'])
            && !s
                .chars()
                .any(|c| (c.is_control() && c != '\n') || c == '\u{feff}')
            && s.lines().all(|l| !l.ends_with([' ', '\t']))
    }

    fn scalar_text(v: &Value, indent: usize, out: &mut String) {
        match v {
            Value::Null | Value::Unknown => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(&format_number(n)),
            Value::String(s) if literal_ok(s) => {
                let trailing = s.len() - s.trim_end_matches('\n').len();
                out.push_str(match trailing {
                    0 => "|-",
                    1 => "|",
                    _ => "|+",
                });
                let body = s.trim_end_matches('\n');
                for line in body.split('\n') {
                    out.push('\n');
                    if !line.is_empty() {
                        out.push_str(&" ".repeat(indent + 2));
                        out.push_str(line);
                    }
                }
                for _ in 1..trailing {
                    out.push('\n');
                }
            }
            Value::String(s) => quoted(s, out),
            Value::List(_) => out.push_str("[]"),
            Value::Map(_) => out.push_str("{}"),
            Value::Sensitive(inner) => scalar_text(inner, indent, out),
        }
    }

    fn is_block(v: &Value) -> bool {
        match v.unmarked() {
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            _ => false,
        }
    }

    /// Writes `v` at `indent` spaces; the caller has written what comes before it on its line.
    pub(super) fn encode(v: &Value, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match v.unmarked() {
            Value::List(items) if !items.is_empty() => {
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&pad);
                    }
                    out.push_str("- ");
                    if is_block(it) {
                        encode(it, indent + 2, out);
                    } else {
                        scalar_text(it.unmarked(), indent, out);
                        out.push('\n');
                    }
                }
            }
            Value::Map(m) if !m.is_empty() => {
                for (i, (k, it)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&pad);
                    }
                    quoted(k, out);
                    out.push(':');
                    match it.unmarked() {
                        Value::Map(_) if is_block(it) => {
                            out.push('\n');
                            out.push_str(&" ".repeat(indent + 2));
                            encode(it, indent + 2, out);
                        }
                        Value::List(_) if is_block(it) => {
                            out.push('\n');
                            out.push_str(&pad);
                            encode(it, indent, out);
                        }
                        other => {
                            out.push(' ');
                            scalar_text(other, indent, out);
                            out.push('\n');
                        }
                    }
                }
            }
            other => {
                scalar_text(other, indent, out);
                out.push('\n');
            }
        }
    }
}
