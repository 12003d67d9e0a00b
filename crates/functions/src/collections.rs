//! Functions over lists, maps and sets.

use std::collections::{BTreeMap, HashSet};
use tunnelform_model::Map;

use tunnelform_model::Value;

use super::call::Call;
use crate::error::EResult;
use crate::error::{error, WithHelp};
use crate::suggest;
use crate::values::{self, equal, mark_if, primitive_string, to_bool};

/// Results larger than this are refused (`range`, `setproduct`).
pub(super) const MAX_RANGE: usize = 100_000;

fn top_sens(v: &Value) -> bool {
    v.is_sensitive()
}

pub(super) fn length(c: &Call<'_>) -> EResult<Value> {
    let (v, s) = c.arg(0);
    let n = match v.unmarked() {
        Value::Unknown => return Ok(mark_if(Value::Unknown, top_sens(v))),
        Value::List(items) => items.len(),
        Value::Map(m) => m.len(),
        Value::String(st) => st.chars().count(),
        other => {
            return Err(c.err(
                s,
                format!(
                    "length() needs a list, map or string, got {}",
                    values::describe_type(other)
                ),
            ))
        }
    };
    Ok(mark_if(Value::int(n as i64), top_sens(v)))
}

pub(super) fn lookup(c: &Call<'_>) -> EResult<Value> {
    let (m, _) = c.arg(0);
    let (k, _) = c.arg(1);
    let sens = top_sens(m) || k.is_sensitive();
    if m.is_unknown() || k.is_unknown() {
        return Ok(mark_if(Value::Unknown, sens));
    }
    let map = c.map(c.arg(0))?;
    let key = c.str(c.arg(1))?;
    match map.get(&key) {
        Some(v) => Ok(mark_if(v.clone(), sens)),
        None => match c.args.get(2) {
            Some((d, _)) => Ok(mark_if((*d).clone(), sens)),
            None => Err(c
                .err(
                    c.arg(1).1,
                    format!("the map has no key \"{key}\" and no default was given"),
                )
                .help_opt(suggest::did_you_mean(&key, map.keys().map(|k| k.as_str())))),
        },
    }
}

pub(super) fn element(c: &Call<'_>) -> EResult<Value> {
    let (l, _) = c.arg(0);
    let (i, _) = c.arg(1);
    let sens = top_sens(l) || i.is_sensitive();
    if l.is_unknown() || i.is_unknown() {
        return Ok(mark_if(Value::Unknown, sens));
    }
    let items = c.list(c.arg(0))?;
    let idx = c.int(c.arg(1))?;
    if items.is_empty() {
        return Err(c.err(c.arg(0).1, "cannot use element() with an empty list"));
    }
    if idx < 0 {
        return Err(c.err(c.arg(1).1, "the index must not be negative"));
    }
    Ok(mark_if(items[(idx as usize) % items.len()].clone(), sens))
}

pub(super) fn keys(c: &Call<'_>) -> EResult<Value> {
    let (m, _) = c.arg(0);
    if m.is_unknown() {
        return Ok(mark_if(Value::Unknown, top_sens(m)));
    }
    let map = c.map(c.arg(0))?;
    Ok(mark_if(
        Value::List(map.keys().map(|k| Value::string(k.to_string())).collect()),
        top_sens(m),
    ))
}

pub(super) fn values(c: &Call<'_>) -> EResult<Value> {
    let (m, _) = c.arg(0);
    if m.is_unknown() {
        return Ok(mark_if(Value::Unknown, top_sens(m)));
    }
    let map = c.map(c.arg(0))?;
    Ok(mark_if(
        Value::List(map.values().cloned().collect()),
        top_sens(m),
    ))
}

/// The position of `x` in the list: Some(Some(i)) found, Some(None) absent, None undecidable.
fn position(c: &Call<'_>) -> EResult<(Option<usize>, bool)> {
    let items = c.list(c.arg(0))?;
    let x = c.arg(1).0;
    let mut unknown = false;
    for (i, it) in items.iter().enumerate() {
        match equal(it, x) {
            Some(true) => return Ok((Some(i), unknown)),
            None => unknown = true,
            Some(false) => {}
        }
    }
    Ok((None, unknown))
}

fn sens_of_pair(c: &Call<'_>) -> bool {
    c.arg(0).0.contains_sensitive() || c.arg(1).0.contains_sensitive()
}

pub(super) fn contains(c: &Call<'_>) -> EResult<Value> {
    let sens = sens_of_pair(c);
    if c.arg(0).0.is_unknown() {
        return Ok(mark_if(Value::Unknown, sens));
    }
    let out = match position(c)? {
        (Some(_), _) => Value::Bool(true),
        (None, true) => Value::Unknown,
        (None, false) => Value::Bool(false),
    };
    Ok(mark_if(out, sens))
}

pub(super) fn index(c: &Call<'_>) -> EResult<Value> {
    let sens = sens_of_pair(c);
    if c.arg(0).0.is_unknown() {
        return Ok(mark_if(Value::Unknown, sens));
    }
    let out = match position(c)? {
        (None, true) | (Some(_), true) => Value::Unknown,
        (Some(i), false) => Value::int(i as i64),
        (None, false) => return Err(c.err(c.arg(1).1, "the value is not in the list")),
    };
    Ok(mark_if(out, sens))
}

pub(super) fn concat(c: &Call<'_>) -> EResult<Value> {
    let mut out = Vec::new();
    let mut sens = false;
    for a in c.args {
        sens |= top_sens(a.0);
        if a.0.is_unknown() {
            return Ok(mark_if(Value::Unknown, sens));
        }
        out.extend(c.list(*a)?.iter().cloned());
    }
    Ok(mark_if(Value::List(out), sens))
}

pub(super) fn merge(c: &Call<'_>) -> EResult<Value> {
    let mut out = Map::new();
    let mut sens = false;
    let mut unknown = false;
    for a in c.args {
        sens |= top_sens(a.0);
        match a.0.unmarked() {
            Value::Null => continue,
            Value::Unknown => unknown = true,
            _ => {
                for (k, v) in c.map(*a)? {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    let out = if unknown {
        Value::Unknown
    } else {
        Value::Map(out)
    };
    Ok(mark_if(out, sens))
}

pub(super) fn coalesce(c: &Call<'_>) -> EResult<Value> {
    for (v, s) in c.args {
        match v.unmarked() {
            Value::Unknown => return Ok(mark_if(Value::Unknown, v.is_sensitive())),
            Value::Null => continue,
            Value::String(st) if st.is_empty() => continue,
            Value::List(_) | Value::Map(_) => {
                return Err(c.err(
                    *s,
                    "coalesce() takes strings, numbers or bools; use coalescelist() for lists",
                ))
            }
            _ => return Ok((*v).clone()),
        }
    }
    Err(
        error("No non-null, non-empty argument to coalesce()", c.span)
            .help("give a fallback value as the last argument"),
    )
}

pub(super) fn zipmap(c: &Call<'_>) -> EResult<Value> {
    let (k0, v0) = (c.arg(0).0, c.arg(1).0);
    let sens = top_sens(k0) || top_sens(v0);
    if k0.is_unknown() || v0.is_unknown() || !k0.is_wholly_known() {
        return Ok(mark_if(Value::Unknown, sens));
    }
    let keys = c.list(c.arg(0))?;
    let vals = c.list(c.arg(1))?;
    if keys.len() != vals.len() {
        return Err(c.err(
            c.arg(1).1,
            format!(
                "the lists have different lengths ({} keys, {} values)",
                keys.len(),
                vals.len()
            ),
        ));
    }
    let mut out = Map::new();
    for (k, v) in keys.iter().zip(vals) {
        let k = primitive_string(k)
            .ok_or_else(|| c.err(c.arg(0).1, "keys must be strings"))?
            .into_owned();
        out.insert(k.into(), v.clone());
    }
    Ok(mark_if(Value::Map(out), sens || k0.contains_sensitive()))
}

pub(super) fn one(c: &Call<'_>) -> EResult<Value> {
    let (l, _) = c.arg(0);
    if l.is_unknown() {
        return Ok(mark_if(Value::Unknown, top_sens(l)));
    }
    if l.is_null() {
        return Ok(Value::Null);
    }
    let items = c.list(c.arg(0))?;
    match items {
        [] => Ok(mark_if(Value::Null, top_sens(l))),
        [x] => Ok(mark_if(x.clone(), top_sens(l))),
        _ => Err(c.err(
            c.arg(0).1,
            format!("one() needs at most one element, got {}", items.len()),
        )),
    }
}

/// Deduplicated and ordered like Terraform's sets (strings lexically, numbers numerically).
pub(super) fn set_of(items: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    for it in items {
        if seen.insert(it.canonical_key()) {
            out.push(it.clone());
        }
    }
    sort_values(&mut out);
    out
}

fn sort_values(items: &mut [Value]) {
    if items
        .iter()
        .all(|v| matches!(v.unmarked(), Value::Number(_)))
    {
        items.sort_by(|a, b| {
            let x = a.as_f64().unwrap_or(0.0);
            let y = b.as_f64().unwrap_or(0.0);
            x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)
        });
    } else if items
        .iter()
        .all(|v| matches!(v.unmarked(), Value::String(_)))
    {
        items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    } else {
        items.sort_by_cached_key(Value::canonical_key);
    }
}

pub(super) fn sort(c: &Call<'_>) -> EResult<Value> {
    let items = c.list(c.arg(0))?;
    let mut strs: Vec<String> = items
        .iter()
        .map(|it| c.str((it, c.arg(0).1)))
        .collect::<EResult<_>>()?;
    strs.sort();
    Ok(Value::List(strs.into_iter().map(Value::string).collect()))
}

pub(super) fn reverse(c: &Call<'_>) -> EResult<Value> {
    let mut items = c.list(c.arg(0))?.to_vec();
    items.reverse();
    Ok(Value::List(items))
}

pub(super) fn distinct(c: &Call<'_>) -> EResult<Value> {
    let items = c.list(c.arg(0))?;
    let mut seen = HashSet::new();
    Ok(Value::List(
        items
            .iter()
            .filter(|it| seen.insert(it.canonical_key()))
            .cloned()
            .collect(),
    ))
}

pub(super) fn compact(c: &Call<'_>) -> EResult<Value> {
    let items = c.list(c.arg(0))?;
    Ok(Value::List(
        items
            .iter()
            .filter(|it| !it.is_null() && it.as_str() != Some(""))
            .cloned()
            .collect(),
    ))
}

pub(super) fn flatten(c: &Call<'_>) -> EResult<Value> {
    let mut out = Vec::new();
    flatten_into(c, c.list(c.arg(0))?, &mut out, 0)?;
    Ok(Value::List(out))
}

fn flatten_into(c: &Call<'_>, items: &[Value], out: &mut Vec<Value>, depth: usize) -> EResult<()> {
    if depth > 128 {
        return Err(c.err(c.arg(0).1, "the list is nested too deeply"));
    }
    for it in items {
        match it {
            Value::List(inner) => flatten_into(c, inner, out, depth + 1)?,
            other => out.push(other.clone()),
        }
    }
    Ok(())
}

pub(super) fn coalescelist(c: &Call<'_>) -> EResult<Value> {
    for arg in c.args {
        let items = c.list(*arg)?;
        if !items.is_empty() {
            return Ok(Value::List(items.to_vec()));
        }
    }
    Ok(Value::List(vec![]))
}

pub(super) fn slice(c: &Call<'_>) -> EResult<Value> {
    let items = c.list(c.arg(0))?;
    let start = c.int(c.arg(1))?;
    let end = c.int(c.arg(2))?;
    if start < 0 || end < start || end as usize > items.len() {
        return Err(c.err(
            c.arg(2).1,
            format!(
                "slice({start}, {end}) is out of range for a list of {} elements",
                items.len()
            ),
        ));
    }
    Ok(Value::List(items[start as usize..end as usize].to_vec()))
}

pub(super) fn range(c: &Call<'_>) -> EResult<Value> {
    let nums: Vec<f64> = c.args.iter().map(|x| c.num(*x)).collect::<EResult<_>>()?;
    let (start, end, step) = match nums.as_slice() {
        [end] => (0.0, *end, 1.0),
        [start, end] => (*start, *end, if end >= start { 1.0 } else { -1.0 }),
        [start, end, step] => (*start, *end, *step),
        _ => (0.0, 0.0, 1.0),
    };
    if step == 0.0 || (step > 0.0 && end < start) || (step < 0.0 && end > start) {
        return Err(c.err(c.span, "the step must move from start towards the limit"));
    }
    let count = ((end - start) / step).ceil();
    if count > MAX_RANGE as f64 {
        return Err(c.err(
            c.span,
            format!("range() would produce more than {MAX_RANGE} values"),
        ));
    }
    Ok(Value::List(
        (0..count as usize)
            .map(|i| Value::number(start + step * i as f64))
            .collect(),
    ))
}

fn bools(c: &Call<'_>) -> EResult<Vec<bool>> {
    c.list(c.arg(0))?
        .iter()
        .map(|it| to_bool(it).ok_or_else(|| c.err(c.arg(0).1, "all elements must be bools")))
        .collect()
}

pub(super) fn alltrue(c: &Call<'_>) -> EResult<Value> {
    Ok(Value::Bool(bools(c)?.iter().all(|b| *b)))
}

pub(super) fn anytrue(c: &Call<'_>) -> EResult<Value> {
    Ok(Value::Bool(bools(c)?.iter().any(|b| *b)))
}

fn lists<'v>(c: &Call<'v>) -> EResult<Vec<&'v [Value]>> {
    c.args.iter().map(|x| c.list(*x)).collect()
}

fn in_list(l: &[Value], v: &Value) -> bool {
    l.iter().any(|x| equal(x, v) == Some(true))
}

pub(super) fn setunion(c: &Call<'_>) -> EResult<Value> {
    let out: Vec<Value> = lists(c)?.iter().flat_map(|l| l.iter().cloned()).collect();
    Ok(Value::List(set_of(&out)))
}

pub(super) fn setintersection(c: &Call<'_>) -> EResult<Value> {
    let lists = lists(c)?;
    let out: Vec<Value> = lists[0]
        .iter()
        .filter(|v| lists[1..].iter().all(|l| in_list(l, v)))
        .cloned()
        .collect();
    Ok(Value::List(set_of(&out)))
}

pub(super) fn setsubtract(c: &Call<'_>) -> EResult<Value> {
    let lists = lists(c)?;
    let out: Vec<Value> = lists[0]
        .iter()
        .filter(|v| !lists[1..].iter().any(|l| in_list(l, v)))
        .cloned()
        .collect();
    Ok(Value::List(set_of(&out)))
}

pub(super) fn setproduct(c: &Call<'_>) -> EResult<Value> {
    let lists = lists(c)?;
    let total: usize = lists
        .iter()
        .map(|l| l.len())
        .try_fold(1usize, |acc, n| acc.checked_mul(n))
        .unwrap_or(usize::MAX);
    if total > MAX_RANGE {
        return Err(c.err(
            c.span,
            format!("setproduct() would produce more than {MAX_RANGE} elements"),
        ));
    }
    let mut out: Vec<Vec<Value>> = vec![vec![]];
    for l in lists {
        let mut next = Vec::with_capacity(out.len() * l.len());
        for prefix in &out {
            for v in l {
                let mut p = prefix.clone();
                p.push(v.clone());
                next.push(p);
            }
        }
        out = next;
    }
    Ok(Value::List(out.into_iter().map(Value::List).collect()))
}

pub(super) fn transpose(c: &Call<'_>) -> EResult<Value> {
    let m = c.map(c.arg(0))?;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (k, l) in m {
        for v in c.list((l, c.arg(0).1))? {
            out.entry(c.str((v, c.arg(0).1))?)
                .or_default()
                .push(Value::string(k.to_string()));
        }
    }
    Ok(Value::Map(
        out.into_iter().map(|(k, v)| (k, Value::List(v))).collect(),
    ))
}

/// `chunklist(list, size)`: consecutive chunks of at most `size` elements (0: one chunk).
pub(super) fn chunklist(c: &Call<'_>) -> EResult<Value> {
    let items = c.list(c.arg(0))?;
    let size = c.int(c.arg(1))?;
    if size < 0 {
        return Err(c.err(c.arg(1).1, "the chunk size must not be negative"));
    }
    if items.is_empty() {
        return Ok(Value::List(Vec::new()));
    }
    if size == 0 {
        return Ok(Value::List(vec![Value::List(items.to_vec())]));
    }
    Ok(Value::List(
        items
            .chunks(size as usize)
            .map(|ch| Value::List(ch.to_vec()))
            .collect(),
    ))
}

/// `matchkeys(values, keys, searchset)`: the elements of `values` whose corresponding element
/// of `keys` is in `searchset`.
pub(super) fn matchkeys(c: &Call<'_>) -> EResult<Value> {
    let vals = c.list(c.arg(0))?;
    let keys = c.list(c.arg(1))?;
    let search = c.list(c.arg(2))?;
    if vals.len() != keys.len() {
        return Err(c.err(
            c.arg(1).1,
            format!(
                "the values and keys lists must have the same length ({} and {})",
                vals.len(),
                keys.len()
            ),
        ));
    }
    let mut out = Vec::new();
    for (v, k) in vals.iter().zip(keys) {
        c.ctx.step(c.span)?;
        if search.iter().any(|s| equal(s, k) == Some(true)) {
            out.push(v.clone());
        }
    }
    Ok(Value::List(out))
}
