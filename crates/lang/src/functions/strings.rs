//! Built-in functions (Terraform's names and behaviour).
//!
//! Unknown arguments give an unknown result, except where the result is decided anyway
//! (`length` of a known list with unknown elements, `lookup` of a known key, `coalesce` whose
//! first usable argument comes before any unknown one...). Sensitive arguments give a sensitive
//! result; functions that pick an element out of a collection keep the element's own marks.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use ipnet::IpNet;
use sha2::Digest as _;
use tunnelform_model::Value;

use tunnelform_syntax::BSpan;

use crate::error::{error, too_large, EResult, EvalError, WithHelp};
use crate::eval::Evaluator;
use crate::values::{
    self, as_f64, equal, format_number, mark_if, parse_number, primitive_string, to_bool,
    to_number, MAX_VALUE_WEIGHT,
};

/// Every function name (for "did you mean").
pub const NAMES: &[&str] = &[
    "abs",
    "alltrue",
    "anytrue",
    "base64decode",
    "base64encode",
    "can",
    "ceil",
    "chomp",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "endswith",
    "flatten",
    "floor",
    "format",
    "formatlist",
    "index",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "length",
    "log",
    "lookup",
    "lower",
    "max",
    "merge",
    "min",
    "nonsensitive",
    "one",
    "parseint",
    "pow",
    "range",
    "regex",
    "regexall",
    "replace",
    "reverse",
    "sensitive",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "sha256",
    "signum",
    "slice",
    "sort",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "sum",
    "title",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "transpose",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "try",
    "upper",
    "values",
    "zipmap",
];

/// Functions whose first argument is read in place rather than cloned (big maps in locals).
pub const BORROWING: &[&str] = &["lookup", "element", "contains", "length", "keys", "index"];

const MAX_RANGE: usize = 100_000;

pub fn exists(name: &str) -> bool {
    NAMES.contains(&name)
}

type Args<'x> = [(&'x Value, BSpan)];

fn arg_err(span: BSpan, fname: &str, detail: impl Into<String>) -> Box<EvalError> {
    error(format!("Invalid function argument to {fname}()"), span).detail(detail)
}

fn arity(fname: &str, args: &Args<'_>, min: usize, max: usize, span: BSpan) -> EResult<()> {
    if args.len() < min || args.len() > max {
        let expected = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(
            error(format!("Wrong number of arguments to {fname}()"), span).detail(format!(
                "{fname}() takes {expected} argument(s), got {}",
                args.len()
            )),
        );
    }
    Ok(())
}

fn str_arg(fname: &str, (v, span): (&Value, BSpan)) -> EResult<String> {
    match primitive_string(v) {
        Some(s) => Ok(s.into_owned()),
        None => Err(arg_err(
            span,
            fname,
            format!("a string is required, got {}", values::describe_type(v)),
        )),
    }
}

fn num_arg(fname: &str, (v, span): (&Value, BSpan)) -> EResult<f64> {
    match to_number(v) {
        Some(Value::Number(n)) => Ok(as_f64(&n)),
        _ => Err(arg_err(
            span,
            fname,
            format!("a number is required, got {}", values::describe_type(v)),
        )),
    }
}

fn int_arg(fname: &str, a: (&Value, BSpan)) -> EResult<i64> {
    let f = num_arg(fname, a)?;
    if f.fract() != 0.0 || f.abs() > 9.0e15 {
        return Err(arg_err(
            a.1,
            fname,
            format!("a whole number is required, got {f}"),
        ));
    }
    Ok(f as i64)
}

fn list_arg<'v>(fname: &str, (v, span): (&'v Value, BSpan)) -> EResult<&'v [Value]> {
    match v.unmarked() {
        Value::List(items) => Ok(items),
        other => Err(arg_err(
            span,
            fname,
            format!("a list is required, got {}", values::describe_type(other)),
        )),
    }
}

fn map_arg<'v>(fname: &str, (v, span): (&'v Value, BSpan)) -> EResult<&'v BTreeMap<String, Value>> {
    match v.unmarked() {
        Value::Map(m) => Ok(m),
        other => Err(arg_err(
            span,
            fname,
            format!("a map is required, got {}", values::describe_type(other)),
        )),
    }
}

pub fn call(ev: &Evaluator<'_>, name: &str, args: &Args<'_>, span: BSpan) -> EResult<Value> {
    call_inner(ev, name, args, span).map_err(|mut e| {
        // Error details may quote argument values: never a sensitive one.
        if args.iter().any(|(v, _)| v.contains_sensitive()) {
            e.detail = Some("details hidden because an argument is sensitive".into());
            e.help = None;
        }
        e
    })
}

fn call_inner(ev: &Evaluator<'_>, name: &str, args: &Args<'_>, span: BSpan) -> EResult<Value> {
    let v = call_unchecked(ev, name, args, span)?;
    // Functions that build collections may not build huge ones (concat of concat of ...).
    if matches!(
        v.unmarked(),
        Value::List(_) | Value::Map(_) | Value::String(_)
    ) && !BORROWING.contains(&name)
        && values::weight(&v, MAX_VALUE_WEIGHT).0 > MAX_VALUE_WEIGHT
    {
        return Err(too_large(span));
    }
    Ok(v)
}

fn call_unchecked(ev: &Evaluator<'_>, name: &str, args: &Args<'_>, span: BSpan) -> EResult<Value> {
    if let Some(v) = special(ev, name, args, span)? {
        return Ok(v);
    }
    let sens = args.iter().any(|(v, _)| v.contains_sensitive());
    if args.iter().any(|(v, _)| !v.is_wholly_known()) {
        // Check the arity anyway: a wrong call is wrong whatever the values.
        return Ok(mark_if(Value::Unknown, sens));
    }
    let result = if sens {
        let owned: Vec<Value> = args.iter().map(|(v, _)| v.deep_unmarked()).collect();
        let plain: Vec<(&Value, BSpan)> =
            owned.iter().zip(args).map(|(v, (_, s))| (v, *s)).collect();
        pure(ev, name, &plain, span)?
    } else {
        pure(ev, name, args, span)?
    };
    Ok(mark_if(result, sens))
}

/// Functions that handle unknown and sensitive values themselves. None: not one of them.
fn special(ev: &Evaluator<'_>, name: &str, args: &Args<'_>, span: BSpan) -> EResult<Option<Value>> {
    let top_sens = |v: &Value| v.is_sensitive();
    let v = match name {
        "length" => {
            arity(name, args, 1, 1, span)?;
            let (v, s) = args[0];
            let n = match v.unmarked() {
                Value::Unknown => return Ok(Some(mark_if(Value::Unknown, top_sens(v)))),
                Value::List(items) => items.len(),
                Value::Map(m) => m.len(),
                Value::String(st) => st.chars().count(),
                other => {
                    return Err(arg_err(
                        s,
                        name,
                        format!(
                            "length() needs a list, map or string, got {}",
                            values::describe_type(other)
                        ),
                    ))
                }
            };
            mark_if(Value::int(n as i64), top_sens(v))
        }
        "lookup" => {
            arity(name, args, 2, 3, span)?;
            let (m, _) = args[0];
            let (k, _) = args[1];
            let sens = top_sens(m) || k.is_sensitive();
            if m.is_unknown() || k.is_unknown() {
                return Ok(Some(mark_if(Value::Unknown, sens)));
            }
            let map = map_arg(name, args[0])?;
            let key = str_arg(name, args[1])?;
            match map.get(&key) {
                Some(v) => mark_if(v.clone(), sens),
                None => match args.get(2) {
                    Some((d, _)) => mark_if((*d).clone(), sens),
                    None => {
                        return Err(arg_err(
                            args[1].1,
                            name,
                            format!("the map has no key \"{key}\" and no default was given"),
                        )
                        .help_opt(crate::suggest::did_you_mean(
                            &key,
                            map.keys().map(String::as_str),
                        )))
                    }
                },
            }
        }
        "element" => {
            arity(name, args, 2, 2, span)?;
            let (l, _) = args[0];
            let (i, _) = args[1];
            let sens = top_sens(l) || i.is_sensitive();
            if l.is_unknown() || i.is_unknown() {
                return Ok(Some(mark_if(Value::Unknown, sens)));
            }
            let items = list_arg(name, args[0])?;
            let idx = int_arg(name, args[1])?;
            if items.is_empty() {
                return Err(arg_err(
                    args[0].1,
                    name,
                    "cannot use element() with an empty list",
                ));
            }
            if idx < 0 {
                return Err(arg_err(args[1].1, name, "the index must not be negative"));
            }
            mark_if(items[(idx as usize) % items.len()].clone(), sens)
        }
        "keys" => {
            arity(name, args, 1, 1, span)?;
            let (m, _) = args[0];
            if m.is_unknown() {
                return Ok(Some(mark_if(Value::Unknown, top_sens(m))));
            }
            let map = map_arg(name, args[0])?;
            mark_if(
                Value::List(map.keys().map(|k| Value::String(k.clone())).collect()),
                top_sens(m),
            )
        }
        "values" => {
            arity(name, args, 1, 1, span)?;
            let (m, _) = args[0];
            if m.is_unknown() {
                return Ok(Some(mark_if(Value::Unknown, top_sens(m))));
            }
            let map = map_arg(name, args[0])?;
            mark_if(Value::List(map.values().cloned().collect()), top_sens(m))
        }
        "contains" | "index" => {
            arity(name, args, 2, 2, span)?;
            let (l, _) = args[0];
            let (x, _) = args[1];
            let sens = l.contains_sensitive() || x.contains_sensitive();
            if l.is_unknown() {
                return Ok(Some(mark_if(Value::Unknown, sens)));
            }
            let items = list_arg(name, args[0])?;
            let mut unknown = false;
            let mut found = None;
            for (i, it) in items.iter().enumerate() {
                match equal(it, x) {
                    Some(true) => {
                        found = Some(i);
                        break;
                    }
                    None => unknown = true,
                    Some(false) => {}
                }
            }
            let out = match (name, found) {
                ("contains", Some(_)) => Value::Bool(true),
                (_, None) if unknown => Value::Unknown,
                ("contains", None) => Value::Bool(false),
                (_, Some(i)) if !unknown => Value::int(i as i64),
                (_, Some(_)) => Value::Unknown,
                (_, None) => return Err(arg_err(args[1].1, name, "the value is not in the list")),
            };
            mark_if(out, sens)
        }
        "concat" => {
            let mut out = Vec::new();
            let mut sens = false;
            for a in args {
                sens |= top_sens(a.0);
                if a.0.is_unknown() {
                    return Ok(Some(mark_if(Value::Unknown, sens)));
                }
                out.extend(list_arg(name, *a)?.iter().cloned());
            }
            mark_if(Value::List(out), sens)
        }
        "merge" => {
            let mut out = BTreeMap::new();
            let mut sens = false;
            let mut unknown = false;
            for a in args {
                sens |= top_sens(a.0);
                match a.0.unmarked() {
                    Value::Null => continue,
                    Value::Unknown => unknown = true,
                    _ => {
                        for (k, v) in map_arg(name, *a)? {
                            out.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            mark_if(
                if unknown {
                    Value::Unknown
                } else {
                    Value::Map(out)
                },
                sens,
            )
        }
        "coalesce" => {
            arity(name, args, 1, usize::MAX, span)?;
            for (v, s) in args {
                match v.unmarked() {
                    Value::Unknown => return Ok(Some(mark_if(Value::Unknown, v.is_sensitive()))),
                    Value::Null => continue,
                    Value::String(st) if st.is_empty() => continue,
                    Value::List(_) | Value::Map(_) => return Err(arg_err(
                        *s,
                        name,
                        "coalesce() takes strings, numbers or bools; use coalescelist() for lists",
                    )),
                    _ => return Ok(Some((*v).clone())),
                }
            }
            return Err(error("No non-null, non-empty argument to coalesce()", span)
                .help("give a fallback value as the last argument"));
        }
        "tolist" | "toset" | "tomap" | "tostring" | "tonumber" | "tobool" => {
            arity(name, args, 1, 1, span)?;
            let (v, s) = args[0];
            let sens = top_sens(v);
            let inner = v.unmarked();
            let out = match (name, inner) {
                (_, Value::Unknown) => Value::Unknown,
                (_, Value::Null) => Value::Null,
                ("tolist", Value::List(items)) => Value::List(items.clone()),
                ("toset", Value::List(items)) => Value::List(set_of(items)),
                ("tomap", Value::Map(m)) => Value::Map(m.clone()),
                ("tostring", x) => match primitive_string(x) {
                    Some(st) => Value::String(st.into_owned()),
                    None => {
                        return Err(arg_err(
                            s,
                            name,
                            format!("cannot convert a {} to a string", values::describe_type(x)),
                        ))
                    }
                },
                ("tonumber", x) => match to_number(x) {
                    Some(n) => n,
                    None => {
                        return Err(arg_err(
                            s,
                            name,
                            format!("cannot convert {} to a number", values::show(x)),
                        ))
                    }
                },
                ("tobool", x) => match to_bool(x) {
                    Some(b) => Value::Bool(b),
                    None => {
                        return Err(arg_err(
                            s,
                            name,
                            format!("cannot convert {} to a bool", values::show(x)),
                        ))
                    }
                },
                (_, x) => {
                    return Err(arg_err(
                        s,
                        name,
                        format!(
                            "cannot convert a {} with {name}()",
                            values::describe_type(x)
                        ),
                    ))
                }
            };
            mark_if(out, sens)
        }
        "sensitive" => {
            arity(name, args, 1, 1, span)?;
            Value::sensitive(args[0].0.clone())
        }
        "nonsensitive" => {
            arity(name, args, 1, 1, span)?;
            args[0].0.deep_unmarked()
        }
        "zipmap" => {
            arity(name, args, 2, 2, span)?;
            let sens = top_sens(args[0].0) || top_sens(args[1].0);
            if args[0].0.is_unknown() || args[1].0.is_unknown() || !args[0].0.is_wholly_known() {
                return Ok(Some(mark_if(Value::Unknown, sens)));
            }
            let keys = list_arg(name, args[0])?;
            let vals = list_arg(name, args[1])?;
            if keys.len() != vals.len() {
                return Err(arg_err(
                    args[1].1,
                    name,
                    format!(
                        "the lists have different lengths ({} keys, {} values)",
                        keys.len(),
                        vals.len()
                    ),
                ));
            }
            let mut out = BTreeMap::new();
            for (k, v) in keys.iter().zip(vals) {
                let k = primitive_string(k)
                    .ok_or_else(|| arg_err(args[0].1, name, "keys must be strings"))?
                    .into_owned();
                out.insert(k, v.clone());
            }
            mark_if(Value::Map(out), sens || args[0].0.contains_sensitive())
        }
        "one" => {
            arity(name, args, 1, 1, span)?;
            let (l, _) = args[0];
            if l.is_unknown() {
                return Ok(Some(mark_if(Value::Unknown, top_sens(l))));
            }
            if l.is_null() {
                return Ok(Some(Value::Null));
            }
            let items = list_arg(name, args[0])?;
            match items {
                [] => mark_if(Value::Null, top_sens(l)),
                [x] => mark_if(x.clone(), top_sens(l)),
                _ => {
                    return Err(arg_err(
                        args[0].1,
                        name,
                        format!("one() needs at most one element, got {}", items.len()),
                    ))
                }
            }
        }
        _ => return Ok(None),
    };
    let _ = ev;
    Ok(Some(v))
}

/// Deduplicated and ordered like Terraform's sets (strings lexically, numbers numerically).
fn set_of(items: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::new();
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

/// Functions over wholly known, unmarked values.
fn pure(ev: &Evaluator<'_>, name: &str, args: &Args<'_>, span: BSpan) -> EResult<Value> {
    let a = |i: usize| args[i];
    Ok(match name {
        "format" => {
            arity(name, args, 1, usize::MAX, span)?;
            let f = str_arg(name, a(0))?;
            Value::String(format_verbs(&f, &args[1..], a(0).1)?)
        }
        "formatlist" => {
            arity(name, args, 1, usize::MAX, span)?;
            let f = str_arg(name, a(0))?;
            let mut n: Option<usize> = None;
            for (v, s) in &args[1..] {
                if let Value::List(items) = v {
                    if n.is_some_and(|n| n != items.len()) {
                        return Err(arg_err(
                            *s,
                            name,
                            "all list arguments must have the same length",
                        ));
                    }
                    n = Some(items.len());
                }
            }
            let n = n.unwrap_or(1);
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                ev.step(span)?;
                let row: Vec<(&Value, BSpan)> = args[1..]
                    .iter()
                    .map(|(v, s)| match v {
                        Value::List(items) => (&items[i], *s),
                        other => (*other, *s),
                    })
                    .collect();
                out.push(Value::String(format_verbs(&f, &row, a(0).1)?));
            }
            Value::List(out)
        }
        "join" => {
            arity(name, args, 2, usize::MAX, span)?;
            let sep = str_arg(name, a(0))?;
            let mut parts = Vec::new();
            for l in &args[1..] {
                for it in list_arg(name, *l)? {
                    if it.is_null() {
                        return Err(arg_err(l.1, name, "the list contains a null element"));
                    }
                    parts.push(str_arg(name, (it, l.1))?);
                }
            }
            Value::String(parts.join(&sep))
        }
        "split" => {
            arity(name, args, 2, 2, span)?;
            let sep = str_arg(name, a(0))?;
            let s = str_arg(name, a(1))?;
            if s.is_empty() {
                Value::List(vec![])
            } else if sep.is_empty() {
                Value::List(s.chars().map(|c| Value::String(c.to_string())).collect())
            } else {
                Value::List(s.split(sep.as_str()).map(Value::from).collect())
            }
        }
        "lower" => one_str(name, args, span, |s| s.to_lowercase())?,
        "upper" => one_str(name, args, span, |s| s.to_uppercase())?,
        "title" => one_str(name, args, span, |s| {
            let mut out = String::with_capacity(s.len());
            let mut start = true;
            for c in s.chars() {
                if start && c.is_alphabetic() {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                start = !c.is_alphanumeric();
            }
            out
        })?,
        "trimspace" => one_str(name, args, span, |s| s.trim().to_string())?,
        "chomp" => one_str(name, args, span, |s| {
            s.trim_end_matches(['\n', '\r']).to_string()
        })?,
        "strrev" => one_str(name, args, span, |s| s.chars().rev().collect())?,
        "trim" => {
            arity(name, args, 2, 2, span)?;
            let s = str_arg(name, a(0))?;
            let cut = str_arg(name, a(1))?;
            Value::String(s.trim_matches(|c| cut.contains(c)).to_string())
        }
        "trimprefix" | "trimsuffix" => {
            arity(name, args, 2, 2, span)?;
            let s = str_arg(name, a(0))?;
            let p = str_arg(name, a(1))?;
            let out = if name == "trimprefix" {
                s.strip_prefix(p.as_str())
            } else {
                s.strip_suffix(p.as_str())
            };
            Value::String(out.unwrap_or(&s).to_string())
        }
        "startswith" | "endswith" | "strcontains" => {
            arity(name, args, 2, 2, span)?;
            let s = str_arg(name, a(0))?;
            let p = str_arg(name, a(1))?;
            Value::Bool(match name {
                "startswith" => s.starts_with(&p),
                "endswith" => s.ends_with(&p),
                _ => s.contains(&p),
            })
        }
        "replace" => {
            arity(name, args, 3, 3, span)?;
            let s = str_arg(name, a(0))?;
            let from = str_arg(name, a(1))?;
            let to = str_arg(name, a(2))?;
            if from.len() >= 2 && from.starts_with('/') && from.ends_with('/') {
                let re = compile_regex(&from[1..from.len() - 1], a(1).1, name)?;
                Value::String(
                    re.replace_all(&s, to.replace("$", "$$").replace("$${", "${").as_str())
                        .into_owned(),
                )
            } else if from.is_empty() {
                Value::String(s)
            } else {
                Value::String(s.replace(&from, &to))
            }
        }
        "substr" => {
            arity(name, args, 3, 3, span)?;
            let s = str_arg(name, a(0))?;
            let offset = int_arg(name, a(1))?;
            let length = int_arg(name, a(2))?;
            let chars: Vec<char> = s.chars().collect();
            let n = chars.len() as i64;
            let start = if offset < 0 {
                (n + offset).max(0)
            } else {
                offset.min(n)
            };
            let end = if length < 0 {
                n
            } else {
                (start + length).min(n)
            };
            Value::String(
                chars[start as usize..end.max(start) as usize]
                    .iter()
                    .collect(),
            )
        }
        "regex" | "regexall" => {
            arity(name, args, 2, 2, span)?;
            let pat = str_arg(name, a(0))?;
            let s = str_arg(name, a(1))?;
            let re = compile_regex(&pat, a(0).1, name)?;
            let convert = |caps: regex::Captures<'_>| -> Value {
                let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
                if names.is_empty() {
                    Value::from(caps.get(0).map(|m| m.as_str()).unwrap_or(""))
                } else if names.iter().all(Option::is_some) {
                    Value::Map(
                        names
                            .iter()
                            .flatten()
                            .map(|n| {
                                (
                                    n.to_string(),
                                    caps.name(n)
                                        .map(|m| Value::from(m.as_str()))
                                        .unwrap_or(Value::Null),
                                )
                            })
                            .collect(),
                    )
                } else {
                    Value::List(
                        (1..caps.len())
                            .map(|i| {
                                caps.get(i)
                                    .map(|m| Value::from(m.as_str()))
                                    .unwrap_or(Value::Null)
                            })
                            .collect(),
                    )
                }
            };
            if name == "regex" {
                match re.captures(&s) {
                    Some(c) => convert(c),
                    None => {
                        return Err(arg_err(
                            a(1).1,
                            name,
                            "the pattern did not match the string",
                        ))
                    }
                }
            } else {
                Value::List(re.captures_iter(&s).map(convert).collect())
            }
        }
        "sort" => {
            arity(name, args, 1, 1, span)?;
            let items = list_arg(name, a(0))?;
            let mut strs: Vec<String> = items
                .iter()
                .map(|it| str_arg(name, (it, a(0).1)))
                .collect::<EResult<_>>()?;
            strs.sort();
            Value::List(strs.into_iter().map(Value::String).collect())
        }
        "reverse" => {
            arity(name, args, 1, 1, span)?;
            let mut items = list_arg(name, a(0))?.to_vec();
            items.reverse();
            Value::List(items)
        }
        "distinct" => {
            arity(name, args, 1, 1, span)?;
            let items = list_arg(name, a(0))?;
            let mut seen = std::collections::HashSet::new();
            Value::List(
                items
                    .iter()
                    .filter(|it| seen.insert(it.canonical_key()))
                    .cloned()
                    .collect(),
            )
        }
        "compact" => {
            arity(name, args, 1, 1, span)?;
            let items = list_arg(name, a(0))?;
            Value::List(
                items
                    .iter()
                    .filter(|it| !it.is_null() && it.as_str() != Some(""))
                    .cloned()
                    .collect(),
            )
        }
        "flatten" => {
            arity(name, args, 1, 1, span)?;
            let mut out = Vec::new();
            flatten_into(list_arg(name, a(0))?, &mut out, 0, a(0).1)?;
            Value::List(out)
        }
        "coalescelist" => {
            arity(name, args, 1, usize::MAX, span)?;
            for arg in args {
                let items = list_arg(name, *arg)?;
                if !items.is_empty() {
                    return Ok(Value::List(items.to_vec()));
                }
            }
            Value::List(vec![])
        }
        "slice" => {
            arity(name, args, 3, 3, span)?;
            let items = list_arg(name, a(0))?;
            let start = int_arg(name, a(1))?;
            let end = int_arg(name, a(2))?;
            if start < 0 || end < start || end as usize > items.len() {
                return Err(arg_err(
                    a(2).1,
                    name,
                    format!(
                        "slice({start}, {end}) is out of range for a list of {} elements",
                        items.len()
                    ),
                ));
            }
            Value::List(items[start as usize..end as usize].to_vec())
        }
        "range" => {
            arity(name, args, 1, 3, span)?;
            let nums: Vec<f64> = args
                .iter()
                .map(|x| num_arg(name, *x))
                .collect::<EResult<_>>()?;
            let (start, end, step) = match nums.as_slice() {
                [end] => (0.0, *end, 1.0),
                [start, end] => (*start, *end, if end >= start { 1.0 } else { -1.0 }),
                [start, end, step] => (*start, *end, *step),
                _ => (0.0, 0.0, 1.0),
            };
            if step == 0.0 || (step > 0.0 && end < start) || (step < 0.0 && end > start) {
                return Err(arg_err(
                    span,
                    name,
                    "the step must move from start towards the limit",
                ));
            }
            let count = ((end - start) / step).ceil();
            if count > MAX_RANGE as f64 {
                return Err(arg_err(
                    span,
                    name,
                    format!("range() would produce more than {MAX_RANGE} values"),
                ));
            }
            Value::List(
                (0..count as usize)
                    .map(|i| Value::number(start + step * i as f64))
                    .collect(),
            )
        }
        "min" | "max" => {
            arity(name, args, 1, usize::MAX, span)?;
            let nums: Vec<f64> = args
                .iter()
                .map(|x| num_arg(name, *x))
                .collect::<EResult<_>>()?;
            let r = if name == "min" {
                nums.iter().cloned().fold(f64::INFINITY, f64::min)
            } else {
                nums.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
            };
            Value::number(r)
        }
        "sum" => {
            arity(name, args, 1, 1, span)?;
            let items = list_arg(name, a(0))?;
            if items.is_empty() {
                return Err(arg_err(a(0).1, name, "cannot sum an empty list"));
            }
            let mut total = 0.0;
            for it in items {
                total += num_arg(name, (it, a(0).1))?;
            }
            Value::number(total)
        }
        "abs" => Value::number(one_num(name, args, span)?.abs()),
        "ceil" => Value::number(one_num(name, args, span)?.ceil()),
        "floor" => Value::number(one_num(name, args, span)?.floor()),
        "signum" => Value::number(one_num(name, args, span)?.signum()),
        "pow" => {
            arity(name, args, 2, 2, span)?;
            let r = num_arg(name, a(0))?.powf(num_arg(name, a(1))?);
            if !r.is_finite() {
                return Err(arg_err(span, name, "the result is not a finite number"));
            }
            Value::number(r)
        }
        "log" => {
            arity(name, args, 2, 2, span)?;
            let r = num_arg(name, a(0))?.log(num_arg(name, a(1))?);
            if !r.is_finite() {
                return Err(arg_err(span, name, "the result is not a finite number"));
            }
            Value::number(r)
        }
        "parseint" => {
            arity(name, args, 2, 2, span)?;
            let s = str_arg(name, a(0))?;
            let base = int_arg(name, a(1))?;
            if !(2..=62).contains(&base) {
                return Err(arg_err(a(1).1, name, "the base must be between 2 and 62"));
            }
            let v = if base <= 36 {
                i64::from_str_radix(&s, base as u32).ok()
            } else {
                None
            };
            match v {
                Some(v) => Value::int(v),
                None => {
                    return Err(arg_err(
                        a(0).1,
                        name,
                        format!("cannot parse {s:?} as a base-{base} integer"),
                    ))
                }
            }
        }
        "alltrue" | "anytrue" => {
            arity(name, args, 1, 1, span)?;
            let items = list_arg(name, a(0))?;
            let bools: Vec<bool> = items
                .iter()
                .map(|it| {
                    to_bool(it).ok_or_else(|| arg_err(a(0).1, name, "all elements must be bools"))
                })
                .collect::<EResult<_>>()?;
            Value::Bool(if name == "alltrue" {
                bools.iter().all(|b| *b)
            } else {
                bools.iter().any(|b| *b)
            })
        }
        "setunion" | "setintersection" | "setsubtract" => {
            arity(name, args, 2, usize::MAX, span)?;
            let lists: Vec<&[Value]> = args
                .iter()
                .map(|x| list_arg(name, *x))
                .collect::<EResult<_>>()?;
            let contains = |l: &[Value], v: &Value| l.iter().any(|x| equal(x, v) == Some(true));
            let out: Vec<Value> = match name {
                "setunion" => lists.iter().flat_map(|l| l.iter().cloned()).collect(),
                "setintersection" => lists[0]
                    .iter()
                    .filter(|v| lists[1..].iter().all(|l| contains(l, v)))
                    .cloned()
                    .collect(),
                _ => lists[0]
                    .iter()
                    .filter(|v| !lists[1..].iter().any(|l| contains(l, v)))
                    .cloned()
                    .collect(),
            };
            Value::List(set_of(&out))
        }
        "setproduct" => {
            arity(name, args, 2, usize::MAX, span)?;
            let lists: Vec<&[Value]> = args
                .iter()
                .map(|x| list_arg(name, *x))
                .collect::<EResult<_>>()?;
            let total: usize = lists
                .iter()
                .map(|l| l.len())
                .try_fold(1usize, |acc, n| acc.checked_mul(n))
                .unwrap_or(usize::MAX);
            if total > MAX_RANGE {
                return Err(arg_err(
                    span,
                    name,
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
            Value::List(out.into_iter().map(Value::List).collect())
        }
        "transpose" => {
            arity(name, args, 1, 1, span)?;
            let m = map_arg(name, a(0))?;
            let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for (k, l) in m {
                for v in list_arg(name, (l, a(0).1))? {
                    out.entry(str_arg(name, (v, a(0).1))?)
                        .or_default()
                        .push(Value::String(k.clone()));
                }
            }
            Value::Map(out.into_iter().map(|(k, v)| (k, Value::List(v))).collect())
        }
        "jsonencode" => {
            arity(name, args, 1, 1, span)?;
            let text = serde_json::to_string(&a(0).0.to_json())
                .map_err(|e| arg_err(a(0).1, name, format!("cannot encode: {e}")))?;
            Value::String(go_json_escape(&text))
        }
        "jsondecode" => {
            arity(name, args, 1, 1, span)?;
            let s = str_arg(name, a(0))?;
            let j: serde_json::Value = serde_json::from_str(&s)
                .map_err(|e| arg_err(a(0).1, name, format!("the string is not valid JSON: {e}")))?;
            Value::from_json(&j)
        }
        "base64encode" => one_str(name, args, span, |s| {
            base64::engine::general_purpose::STANDARD.encode(s)
        })?,
        "base64decode" => {
            arity(name, args, 1, 1, span)?;
            let s = str_arg(name, a(0))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .map_err(|e| arg_err(a(0).1, name, format!("invalid base64: {e}")))?;
            Value::String(
                String::from_utf8(bytes)
                    .map_err(|_| arg_err(a(0).1, name, "the decoded bytes are not UTF-8"))?,
            )
        }
        "sha256" => one_str(name, args, span, |s| {
            hex::encode(sha2::Sha256::digest(s.as_bytes()))
        })?,
        "cidrsubnet" => {
            arity(name, args, 3, 3, span)?;
            let net = cidr_arg(name, a(0))?;
            let newbits = int_arg(name, a(1))?;
            let netnum = int_arg(name, a(2))?;
            Value::String(
                cidr_subnet(&net, newbits, netnum)
                    .map_err(|m| arg_err(span, name, m))?
                    .to_string(),
            )
        }
        "cidrsubnets" => {
            arity(name, args, 1, usize::MAX, span)?;
            let net = cidr_arg(name, a(0))?;
            let mut out = Vec::new();
            let max = max_len(&net);
            let base = addr_num(&net.network());
            let mut cursor = base;
            let end = base + (1u128 << (max - net.prefix_len()));
            for x in &args[1..] {
                let newbits = int_arg(name, *x)?;
                let new_len = i64::from(net.prefix_len()) + newbits;
                if newbits < 1 || new_len > i64::from(max) {
                    return Err(arg_err(
                        x.1,
                        name,
                        format!(
                            "cannot add {newbits} bits to a /{} prefix",
                            net.prefix_len()
                        ),
                    ));
                }
                let size = 1u128 << (max - new_len as u8);
                cursor = cursor.div_ceil(size) * size;
                if cursor + size > end {
                    return Err(arg_err(x.1, name, "not enough room left in the prefix"));
                }
                out.push(Value::String(format!(
                    "{}/{}",
                    num_addr(&net, cursor),
                    new_len
                )));
                cursor += size;
            }
            Value::List(out)
        }
        "cidrhost" => {
            arity(name, args, 2, 2, span)?;
            let net = cidr_arg(name, a(0))?;
            let hostnum = int_arg(name, a(1))?;
            let host_bits = max_len(&net) - net.prefix_len();
            let size: u128 = if host_bits >= 128 {
                u128::MAX
            } else {
                1u128 << host_bits
            };
            let base = addr_num(&net.network());
            let offset: u128 = if hostnum >= 0 {
                hostnum as u128
            } else {
                size.checked_sub(hostnum.unsigned_abs() as u128)
                    .ok_or_else(|| {
                        arg_err(
                            a(1).1,
                            name,
                            format!("host number {hostnum} does not fit in {net}"),
                        )
                    })?
            };
            if offset >= size {
                return Err(arg_err(
                    a(1).1,
                    name,
                    format!("host number {hostnum} does not fit in {net}"),
                ));
            }
            Value::String(num_addr(&net, base + offset).to_string())
        }
        "cidrnetmask" => {
            arity(name, args, 1, 1, span)?;
            let net = cidr_arg(name, a(0))?;
            match net {
                IpNet::V4(n) => Value::String(n.netmask().to_string()),
                IpNet::V6(_) => {
                    return Err(arg_err(
                        a(0).1,
                        name,
                        "cidrnetmask() only supports IPv4 prefixes",
                    ))
                }
            }
        }
        other => return Err(error(format!("Call to unknown function \"{other}\""), span)),
    })
}

fn one_str(
    name: &str,
    args: &Args<'_>,
    span: BSpan,
    f: impl FnOnce(&str) -> String,
) -> EResult<Value> {
    arity(name, args, 1, 1, span)?;
    Ok(Value::String(f(&str_arg(name, args[0])?)))
}

fn one_num(name: &str, args: &Args<'_>, span: BSpan) -> EResult<f64> {
    arity(name, args, 1, 1, span)?;
    num_arg(name, args[0])
}

fn flatten_into(items: &[Value], out: &mut Vec<Value>, depth: usize, span: BSpan) -> EResult<()> {
    if depth > 128 {
        return Err(arg_err(span, "flatten", "the list is nested too deeply"));
    }
    for it in items {
        match it {
            Value::List(inner) => flatten_into(inner, out, depth + 1, span)?,
            other => out.push(other.clone()),
        }
    }
    Ok(())
}

fn compile_regex(pat: &str, span: BSpan, fname: &str) -> EResult<regex::Regex> {
    regex::RegexBuilder::new(pat)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| arg_err(span, fname, format!("invalid regular expression: {e}")))
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

fn cidr_arg(fname: &str, a: (&Value, BSpan)) -> EResult<IpNet> {
    let s = str_arg(fname, a)?;
    s.parse::<IpNet>().map_err(|_| {
        arg_err(
            a.1,
            fname,
            format!("{s:?} is not a CIDR prefix such as \"10.0.0.0/16\""),
        )
    })
}

fn max_len(net: &IpNet) -> u8 {
    match net {
        IpNet::V4(_) => 32,
        IpNet::V6(_) => 128,
    }
}

fn addr_num(a: &IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(*v)),
        IpAddr::V6(v) => u128::from(*v),
    }
}

fn num_addr(net: &IpNet, n: u128) -> IpAddr {
    match net {
        IpNet::V4(_) => IpAddr::V4(Ipv4Addr::from(n as u32)),
        IpNet::V6(_) => IpAddr::V6(Ipv6Addr::from(n)),
    }
}

pub fn cidr_subnet(net: &IpNet, newbits: i64, netnum: i64) -> Result<String, String> {
    let max = i64::from(max_len(net));
    let new_len = i64::from(net.prefix_len()) + newbits;
    if newbits < 0 || new_len > max {
        return Err(format!(
            "cannot extend the /{} prefix {net} by {newbits} bits",
            net.prefix_len()
        ));
    }
    if netnum < 0 || (newbits < 64 && netnum >= (1i64 << newbits)) {
        return Err(format!(
            "network number {netnum} does not fit in {newbits} new bits"
        ));
    }
    let shift = (max - new_len) as u32;
    let base = addr_num(&net.network());
    let add = (netnum as u128).checked_shl(shift).unwrap_or(0);
    Ok(format!("{}/{}", num_addr(net, base + add), new_len))
}

/// Go-style `%` verbs as Terraform's format() accepts them.
fn format_verbs(f: &str, args: &Args<'_>, fspan: BSpan) -> EResult<String> {
    let mut out = String::with_capacity(f.len() + 16);
    let mut chars = f.chars().peekable();
    let mut next_arg = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let mut left = false;
        let mut zero = false;
        let mut plus = false;
        while let Some(&fl) = chars.peek() {
            match fl {
                '-' => left = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' | '#' => {}
                _ => break,
            }
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut prec: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            prec = Some(p.parse().unwrap_or(0));
        }
        let verb = chars.next().ok_or_else(|| {
            error("Invalid format string", fspan)
                .detail("the format string ends in the middle of a % verb")
        })?;
        let Some(&(v, vspan)) = args.get(next_arg) else {
            return Err(
                error("Not enough arguments for format()", fspan).detail(format!(
                    "the verb %{verb} number {} has no argument",
                    next_arg + 1
                )),
            );
        };
        next_arg += 1;
        if v.is_null() {
            return Err(arg_err(vspan, "format", "a null value cannot be formatted"));
        }
        let text = match verb {
            's' => primitive_string(v).map(|s| s.into_owned()).ok_or_else(|| {
                arg_err(
                    vspan,
                    "format",
                    format!(
                        "%s needs a string, number or bool, got {}",
                        values::describe_type(v)
                    ),
                )
            })?,
            'v' => match primitive_string(v) {
                Some(s) => s.into_owned(),
                None => serde_json::to_string(&v.to_json()).unwrap_or_default(),
            },
            'q' => {
                let s = primitive_string(v)
                    .ok_or_else(|| arg_err(vspan, "format", "%q needs a string"))?;
                serde_json::to_string(s.as_ref()).unwrap_or_default()
            }
            't' => to_bool(v)
                .map(|b| b.to_string())
                .ok_or_else(|| arg_err(vspan, "format", "%t needs a bool"))?,
            'd' | 'x' | 'X' | 'o' | 'b' => {
                let n = to_number(v)
                    .ok_or_else(|| arg_err(vspan, "format", format!("%{verb} needs a number")))?;
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() != 0.0 {
                    return Err(arg_err(
                        vspan,
                        "format",
                        format!("%{verb} needs a whole number, got {f}"),
                    ));
                }
                let i = f as i64;
                let body = match verb {
                    'd' => i.unsigned_abs().to_string(),
                    'x' => format!("{:x}", i.unsigned_abs()),
                    'X' => format!("{:X}", i.unsigned_abs()),
                    'o' => format!("{:o}", i.unsigned_abs()),
                    _ => format!("{:b}", i.unsigned_abs()),
                };
                let sign = if i < 0 {
                    "-"
                } else if plus {
                    "+"
                } else {
                    ""
                };
                format!("{sign}{body}")
            }
            'f' | 'e' | 'g' => {
                let n = to_number(v)
                    .ok_or_else(|| arg_err(vspan, "format", format!("%{verb} needs a number")))?;
                let f = match &n {
                    Value::Number(n) => as_f64(n),
                    _ => 0.0,
                };
                let s = match verb {
                    'f' => format!("{:.*}", prec.unwrap_or(6), f),
                    'e' => format!("{:.*e}", prec.unwrap_or(6), f),
                    _ => match &n {
                        Value::Number(num) => format_number(num),
                        _ => f.to_string(),
                    },
                };
                if plus && f >= 0.0 {
                    format!("+{s}")
                } else {
                    s
                }
            }
            other => {
                return Err(error("Invalid format string", fspan).detail(format!(
                    "unsupported verb %{other}; use %s, %d, %f, %q, %v or %t"
                )))
            }
        };
        let text = match (verb, prec) {
            ('s' | 'v' | 'q', Some(p)) => text.chars().take(p).collect(),
            _ => text,
        };
        let w: usize = width.parse().unwrap_or(0);
        let len = text.chars().count();
        if len < w {
            let pad = w - len;
            if left {
                out.push_str(&text);
                out.extend(std::iter::repeat_n(' ', pad));
            } else if zero && matches!(verb, 'd' | 'f' | 'x' | 'X' | 'o' | 'b' | 'e') {
                let (sign, digits) = if text.starts_with(['-', '+']) {
                    text.split_at(1)
                } else {
                    ("", text.as_str())
                };
                out.push_str(sign);
                out.extend(std::iter::repeat_n('0', pad));
                out.push_str(digits);
            } else {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(&text);
            }
        } else {
            out.push_str(&text);
        }
    }
    if next_arg < args.len() {
        return Err(
            error("Too many arguments for format()", args[next_arg].1).detail(format!(
                "the format string uses {next_arg} argument(s) but {} were given",
                args.len()
            )),
        );
    }
    let _ = parse_number;
    Ok(out)
}
