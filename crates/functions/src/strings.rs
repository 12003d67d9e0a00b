//! String functions, `format` and regular expressions.

use tunnelform_model::Value;
use tunnelform_syntax::BSpan;

use super::call::{arg_err, Args, Call};
use crate::error::{error, EResult, WithHelp};
use crate::values::{self, as_f64, format_number, primitive_string, to_bool, to_number};

pub(super) fn format(c: &Call<'_>) -> EResult<Value> {
    let f = c.str(c.arg(0))?;
    Ok(Value::string(format_verbs(&f, &c.args[1..], c.arg(0).1)?))
}

pub(super) fn formatlist(c: &Call<'_>) -> EResult<Value> {
    let f = c.str(c.arg(0))?;
    let mut n: Option<usize> = None;
    for (v, s) in &c.args[1..] {
        if let Value::List(items) = v {
            if n.is_some_and(|n| n != items.len()) {
                return Err(c.err(*s, "all list arguments must have the same length"));
            }
            n = Some(items.len());
        }
    }
    let n = n.unwrap_or(1);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        c.ctx.step(c.span)?;
        let row: Vec<(&Value, BSpan)> = c.args[1..]
            .iter()
            .map(|(v, s)| match v {
                Value::List(items) => (&items[i], *s),
                other => (*other, *s),
            })
            .collect();
        out.push(Value::string(format_verbs(&f, &row, c.arg(0).1)?));
    }
    Ok(Value::List(out))
}

pub(super) fn join(c: &Call<'_>) -> EResult<Value> {
    let sep = c.str(c.arg(0))?;
    let mut parts = Vec::new();
    for l in &c.args[1..] {
        for it in c.list(*l)? {
            if it.is_null() {
                return Err(c.err(l.1, "the list contains a null element"));
            }
            parts.push(c.str((it, l.1))?);
        }
    }
    Ok(Value::string(parts.join(&sep)))
}

pub(super) fn split(c: &Call<'_>) -> EResult<Value> {
    let sep = c.str(c.arg(0))?;
    let s = c.str(c.arg(1))?;
    Ok(if s.is_empty() {
        Value::List(vec![])
    } else if sep.is_empty() {
        Value::List(s.chars().map(|c| Value::string(c.to_string())).collect())
    } else {
        Value::List(s.split(sep.as_str()).map(Value::from).collect())
    })
}

pub(super) fn lower(c: &Call<'_>) -> EResult<Value> {
    c.map_str(str::to_lowercase)
}

pub(super) fn upper(c: &Call<'_>) -> EResult<Value> {
    c.map_str(str::to_uppercase)
}

pub(super) fn title(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|s| {
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
    })
}

pub(super) fn trimspace(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|s| s.trim().to_string())
}

pub(super) fn chomp(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|s| s.trim_end_matches(['\n', '\r']).to_string())
}

pub(super) fn strrev(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|s| s.chars().rev().collect())
}

pub(super) fn trim(c: &Call<'_>) -> EResult<Value> {
    let s = c.str(c.arg(0))?;
    let cut = c.str(c.arg(1))?;
    Ok(Value::string(
        s.trim_matches(|c| cut.contains(c)).to_string(),
    ))
}

/// A function of a string and a second string argument.
fn with_str<T>(c: &Call<'_>, f: impl FnOnce(&str, &str) -> T) -> EResult<T> {
    let s = c.str(c.arg(0))?;
    let p = c.str(c.arg(1))?;
    Ok(f(&s, &p))
}

pub(super) fn trimprefix(c: &Call<'_>) -> EResult<Value> {
    with_str(c, |s, p| Value::from(s.strip_prefix(p).unwrap_or(s)))
}

pub(super) fn trimsuffix(c: &Call<'_>) -> EResult<Value> {
    with_str(c, |s, p| Value::from(s.strip_suffix(p).unwrap_or(s)))
}

pub(super) fn startswith(c: &Call<'_>) -> EResult<Value> {
    with_str(c, |s, p| Value::Bool(s.starts_with(p)))
}

pub(super) fn endswith(c: &Call<'_>) -> EResult<Value> {
    with_str(c, |s, p| Value::Bool(s.ends_with(p)))
}

pub(super) fn strcontains(c: &Call<'_>) -> EResult<Value> {
    with_str(c, |s, p| Value::Bool(s.contains(p)))
}

pub(super) fn replace(c: &Call<'_>) -> EResult<Value> {
    let s = c.str(c.arg(0))?;
    let from = c.str(c.arg(1))?;
    let to = c.str(c.arg(2))?;
    Ok(
        if from.len() >= 2 && from.starts_with('/') && from.ends_with('/') {
            let re = compile_regex(c, &from[1..from.len() - 1], c.arg(1).1)?;
            Value::string(
                re.replace_all(&s, to.replace("$", "$$").replace("$${", "${").as_str())
                    .into_owned(),
            )
        } else if from.is_empty() {
            Value::string(s)
        } else {
            Value::string(s.replace(&from, &to))
        },
    )
}

pub(super) fn substr(c: &Call<'_>) -> EResult<Value> {
    let s = c.str(c.arg(0))?;
    let offset = c.int(c.arg(1))?;
    let length = c.int(c.arg(2))?;
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
    Ok(Value::String(
        chars[start as usize..end.max(start) as usize]
            .iter()
            .collect(),
    ))
}

/// The pattern (first argument) compiled, and the string (second argument).
fn regex_args(c: &Call<'_>) -> EResult<(regex::Regex, String)> {
    let pat = c.str(c.arg(0))?;
    let s = c.str(c.arg(1))?;
    Ok((compile_regex(c, &pat, c.arg(0).1)?, s))
}

/// One match as Terraform gives it: the whole match without groups, a map of named groups, or
/// a list of the groups.
fn captures_value(re: &regex::Regex, caps: regex::Captures<'_>) -> Value {
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
}

pub(super) fn regex(c: &Call<'_>) -> EResult<Value> {
    let (re, s) = regex_args(c)?;
    match re.captures(&s) {
        Some(caps) => Ok(captures_value(&re, caps)),
        None => Err(c.err(c.arg(1).1, "the pattern did not match the string")),
    }
}

pub(super) fn regexall(c: &Call<'_>) -> EResult<Value> {
    let (re, s) = regex_args(c)?;
    Ok(Value::List(
        re.captures_iter(&s)
            .map(|caps| captures_value(&re, caps))
            .collect(),
    ))
}

fn compile_regex(c: &Call<'_>, pat: &str, span: BSpan) -> EResult<regex::Regex> {
    regex::RegexBuilder::new(pat)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| c.err(span, format!("invalid regular expression: {e}")))
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
    Ok(out)
}

/// `indent(n, s)`: every line but the first prefixed with `n` spaces.
pub(super) fn indent(c: &Call<'_>) -> EResult<Value> {
    let n = c.int(c.arg(0))?;
    if !(0..=1024).contains(&n) {
        return Err(c.err(
            c.arg(0).1,
            format!("the number of spaces must be between 0 and 1024, got {n}"),
        ));
    }
    let s = c.str(c.arg(1))?;
    let pad = format!("\n{}", " ".repeat(n as usize));
    Ok(Value::string(s.replace('\n', &pad)))
}
