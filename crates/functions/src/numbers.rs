//! Numeric functions.

use tunnelform_model::Value;

use super::call::Call;
use crate::error::EResult;

fn one_num(c: &Call<'_>, f: fn(f64) -> f64) -> EResult<Value> {
    Ok(Value::number(f(c.num(c.arg(0))?)))
}

pub(super) fn abs(c: &Call<'_>) -> EResult<Value> {
    one_num(c, f64::abs)
}

pub(super) fn ceil(c: &Call<'_>) -> EResult<Value> {
    one_num(c, f64::ceil)
}

pub(super) fn floor(c: &Call<'_>) -> EResult<Value> {
    one_num(c, f64::floor)
}

pub(super) fn signum(c: &Call<'_>) -> EResult<Value> {
    one_num(c, f64::signum)
}

fn finite(c: &Call<'_>, r: f64) -> EResult<Value> {
    if !r.is_finite() {
        return Err(c.err(c.span, "the result is not a finite number"));
    }
    Ok(Value::number(r))
}

pub(super) fn pow(c: &Call<'_>) -> EResult<Value> {
    finite(c, c.num(c.arg(0))?.powf(c.num(c.arg(1))?))
}

pub(super) fn log(c: &Call<'_>) -> EResult<Value> {
    finite(c, c.num(c.arg(0))?.log(c.num(c.arg(1))?))
}

pub(super) fn parseint(c: &Call<'_>) -> EResult<Value> {
    let s = c.str(c.arg(0))?;
    let base = c.int(c.arg(1))?;
    if !(2..=62).contains(&base) {
        return Err(c.err(c.arg(1).1, "the base must be between 2 and 62"));
    }
    let v = if base <= 36 {
        i64::from_str_radix(&s, base as u32).ok()
    } else {
        None
    };
    match v {
        Some(v) => Ok(Value::int(v)),
        None => Err(c.err(
            c.arg(0).1,
            format!("cannot parse {s:?} as a base-{base} integer"),
        )),
    }
}

fn fold(c: &Call<'_>, init: f64, f: fn(f64, f64) -> f64) -> EResult<Value> {
    let mut r = init;
    for x in c.args {
        r = f(r, c.num(*x)?);
    }
    Ok(Value::number(r))
}

pub(super) fn min(c: &Call<'_>) -> EResult<Value> {
    fold(c, f64::INFINITY, f64::min)
}

pub(super) fn max(c: &Call<'_>) -> EResult<Value> {
    fold(c, f64::NEG_INFINITY, f64::max)
}

pub(super) fn sum(c: &Call<'_>) -> EResult<Value> {
    let items = c.list(c.arg(0))?;
    if items.is_empty() {
        return Err(c.err(c.arg(0).1, "cannot sum an empty list"));
    }
    let mut total = 0.0;
    for it in items {
        total += c.num((it, c.arg(0).1))?;
    }
    Ok(Value::number(total))
}
