//! JSON, base64 and hashing.

use base64::Engine as _;
use sha2::Digest as _;
use tunnelform_model::Value;

use super::call::Call;
use crate::error::EResult;

pub(super) fn jsonencode(c: &Call<'_>) -> EResult<Value> {
    let text = serde_json::to_string(&c.arg(0).0.to_json())
        .map_err(|e| c.err(c.arg(0).1, format!("cannot encode: {e}")))?;
    Ok(Value::String(go_json_escape(&text)))
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
    Ok(Value::String(String::from_utf8(bytes).map_err(|_| {
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
