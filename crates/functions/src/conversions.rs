//! Type conversions, sensitivity marks, and `try` / `can`.

use tunnelform_model::Value;
use tunnelform_syntax::ast::Expr;
use tunnelform_syntax::BSpan;

use super::call::{Call, Evaluate};
use super::collections::set_of;
use crate::error::{error, is_budget_error, EResult, WithHelp};
use crate::values::{self, mark_if, primitive_string, to_bool, to_number};

/// A conversion of the only argument: unknown and null stay as they are, the top-level
/// sensitive mark is kept; `convert` gives None for a value it cannot convert.
fn convert(c: &Call<'_>, convert: impl FnOnce(&Value) -> Option<EResult<Value>>) -> EResult<Value> {
    let (v, s) = c.arg(0);
    let inner = v.unmarked();
    let out = match inner {
        Value::Unknown => Value::Unknown,
        Value::Null => Value::Null,
        x => match convert(x) {
            Some(r) => r?,
            None => {
                return Err(c.err(
                    s,
                    format!(
                        "cannot convert a {} with {}()",
                        values::describe_type(x),
                        c.name
                    ),
                ))
            }
        },
    };
    Ok(mark_if(out, v.is_sensitive()))
}

pub(super) fn tolist(c: &Call<'_>) -> EResult<Value> {
    convert(c, |x| match x {
        Value::List(items) => Some(Ok(Value::List(items.clone()))),
        _ => None,
    })
}

pub(super) fn toset(c: &Call<'_>) -> EResult<Value> {
    convert(c, |x| match x {
        Value::List(items) => Some(Ok(Value::List(set_of(items)))),
        _ => None,
    })
}

pub(super) fn tomap(c: &Call<'_>) -> EResult<Value> {
    convert(c, |x| match x {
        Value::Map(m) => Some(Ok(Value::Map(m.clone()))),
        _ => None,
    })
}

pub(super) fn tostring(c: &Call<'_>) -> EResult<Value> {
    convert(c, |x| {
        Some(match primitive_string(x) {
            Some(st) => Ok(Value::string(st.into_owned())),
            None => Err(c.err(
                c.arg(0).1,
                format!("cannot convert a {} to a string", values::describe_type(x)),
            )),
        })
    })
}

pub(super) fn tonumber(c: &Call<'_>) -> EResult<Value> {
    convert(c, |x| {
        Some(to_number(x).ok_or_else(|| {
            c.err(
                c.arg(0).1,
                format!("cannot convert {} to a number", values::show(x)),
            )
        }))
    })
}

pub(super) fn tobool(c: &Call<'_>) -> EResult<Value> {
    convert(c, |x| {
        Some(to_bool(x).map(Value::Bool).ok_or_else(|| {
            c.err(
                c.arg(0).1,
                format!("cannot convert {} to a bool", values::show(x)),
            )
        }))
    })
}

pub(super) fn sensitive(c: &Call<'_>) -> EResult<Value> {
    Ok(Value::sensitive(c.arg(0).0.clone()))
}

pub(super) fn nonsensitive(c: &Call<'_>) -> EResult<Value> {
    Ok(c.arg(0).0.deep_unmarked())
}

/// The first argument that evaluates without an error.
pub(super) fn try_(ev: &dyn Evaluate, args: &[Expr], span: BSpan) -> EResult<Value> {
    let mut last = None;
    for a in args {
        match ev.evaluate(a) {
            Ok(v) => return Ok(v),
            Err(e) if is_budget_error(&e) => return Err(e),
            Err(e) => last = Some(e),
        }
    }
    let last = last.map(|e| e.summary).unwrap_or_default();
    Err(error("No expression in try() succeeded", span)
        .detail(format!("the last one failed with: {last}")))
}

/// Whether the argument evaluates without an error.
pub(super) fn can(ev: &dyn Evaluate, args: &[Expr], _span: BSpan) -> EResult<Value> {
    match ev.evaluate(&args[0]) {
        Ok(v) if !v.is_wholly_known() => Ok(Value::Unknown),
        Ok(_) => Ok(Value::Bool(true)),
        Err(e) if is_budget_error(&e) => Err(e),
        Err(_) => Ok(Value::Bool(false)),
    }
}

/// `issensitive(v)`: whether the value is marked sensitive.
pub(super) fn issensitive(c: &Call<'_>) -> EResult<Value> {
    Ok(Value::Bool(c.arg(0).0.is_sensitive()))
}

/// `ephemeralasnull(v)`: tunnelform has no ephemeral values, so the value itself.
pub(super) fn ephemeralasnull(c: &Call<'_>) -> EResult<Value> {
    Ok(c.arg(0).0.clone())
}
