//! Schema-driven validation of attribute values (types, `Check` rules, cross-field rules) and
//! cross-instance validation (SPD and BGP overlaps on a gateway, duplicate tunnels).

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use tunnelform_model::Map;

use tunnelform_kinds::{Member, ResourceKind};
use tunnelform_model::schema::{AttrSchema, AttrType, Check};
use tunnelform_model::{Diagnostic, Diagnostics, Span, Value};

use tunnelform_kinds::net::{parse_cidr, parse_ipv4};

use tunnelform_lang::suggest;
use tunnelform_lang::values::{self, primitive_string, show, to_bool, to_number};
use tunnelform_syntax::clip_line;

use crate::api::{Instance, InstanceKind};

/// A problem with one attribute value: (summary, detail, help).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub summary: String,
    pub detail: Option<String>,
    pub help: Option<String>,
}

impl Problem {
    fn new(summary: impl Into<String>, detail: impl Into<String>) -> Problem {
        Problem {
            summary: summary.into(),
            detail: Some(detail.into()),
            help: None,
        }
    }
    fn help(mut self, h: Option<String>) -> Problem {
        self.help = h;
        self
    }
}

/// Converts a configured value to the attribute's type (Terraform's string <-> number <-> bool
/// conversions). Unknown stays unknown, marks are kept.
pub fn convert_attr(ty: &AttrType, v: Value, name: &str) -> Result<Value, Problem> {
    match v {
        Value::Sensitive(inner) => {
            return convert_attr(ty, *inner, name)
                .map(Value::sensitive)
                .map_err(|mut p| {
                    p.detail = Some("the (sensitive) value does not have the expected type".into());
                    p
                })
        }
        Value::Unknown | Value::Null => return Ok(v),
        _ => {}
    }
    let wrong = |expected: &str, v: &Value| {
        Problem::new(
            format!("Incorrect attribute value type for \"{name}\""),
            format!("{expected} is required, got {}", values::describe_type(v)),
        )
    };
    match ty {
        AttrType::String => match primitive_string(&v) {
            Some(s) => Ok(Value::string(s.into_owned())),
            None => Err(wrong("a string", &v)),
        },
        AttrType::Int => match to_number(&v) {
            Some(n) if n.as_i64().is_some() => Ok(n),
            Some(_) => Err(Problem::new(
                format!("Incorrect attribute value type for \"{name}\""),
                format!("a whole number is required, got {}", show(&v)),
            )),
            None => Err(match &v {
                Value::String(_) => Problem::new(
                    format!("Incorrect attribute value type for \"{name}\""),
                    format!("a number is required, got {}", show(&v)),
                ),
                _ => wrong("a number", &v),
            }),
        },
        AttrType::Bool => match to_bool(&v) {
            Some(b) => Ok(Value::Bool(b)),
            None => Err(wrong("a bool", &v)),
        },
        AttrType::List(elem) | AttrType::Set(elem) => match v {
            Value::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.into_iter().enumerate() {
                    if it.is_null() {
                        return Err(Problem::new(
                            format!("Invalid element in \"{name}\""),
                            format!("element {i} is null; lists may not contain null"),
                        ));
                    }
                    out.push(convert_attr(elem, it, name)?);
                }
                if matches!(ty, AttrType::Set(_)) && out.iter().all(Value::is_wholly_known) {
                    // A set holds each element once (order as written otherwise).
                    let mut seen = std::collections::HashSet::new();
                    out.retain(|v| seen.insert(v.canonical_key()));
                }
                Ok(Value::List(out))
            }
            other => Err(wrong("a list", &other)),
        },
        AttrType::Map(elem) => match v {
            Value::Map(m) => {
                let mut out = Map::new();
                for (k, it) in m {
                    if it.is_null() {
                        return Err(Problem::new(
                            format!("Invalid element in \"{name}\""),
                            format!("the value of \"{k}\" is null"),
                        ));
                    }
                    let c = convert_attr(elem, it, name)?;
                    out.insert(k, c);
                }
                Ok(Value::Map(out))
            }
            other => Err(wrong("a map", &other)),
        },
        AttrType::Block(..) | AttrType::Any => Ok(v),
    }
}

/// Applies the schema's `Check` rules to a known value (elements of lists/sets one by one).
pub fn check_attr(schema: &AttrSchema, v: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    let sensitive = schema.sensitive || v.is_sensitive();
    let v = v.unmarked();
    match v {
        Value::Unknown | Value::Null => {}
        Value::List(items) => {
            for it in items {
                for c in schema.checks {
                    if let Some(p) = check_one(
                        schema.name,
                        c,
                        it.unmarked(),
                        sensitive || it.is_sensitive(),
                    ) {
                        out.push(p);
                    }
                }
            }
        }
        one => {
            for c in schema.checks {
                if let Some(p) = check_one(schema.name, c, one, sensitive) {
                    out.push(p);
                }
            }
        }
    }
    if schema.name == "tags" {
        if let Value::Map(m) = v {
            for k in m.keys() {
                if k.trim().is_empty() {
                    out.push(Problem::new("Invalid tag key", "tag keys may not be empty"));
                }
            }
        }
    }
    out
}

fn check_one(name: &str, c: &Check, v: &Value, sensitive: bool) -> Option<Problem> {
    // Messages are only built for values that fail.
    let invalid = || format!("Invalid value for \"{name}\"");
    let shown = || {
        if sensitive {
            "(sensitive value)".to_string()
        } else {
            show(v)
        }
    };
    match c {
        Check::OneOf(allowed) => {
            let s = v.as_str()?;
            if allowed.contains(&s) {
                return None;
            }
            Some(
                Problem::new(
                    invalid(),
                    format!(
                        "expected one of {}, got {}",
                        suggest::one_of(allowed),
                        shown()
                    ),
                )
                .help(if sensitive {
                    None
                } else {
                    suggest::did_you_mean(s, allowed.iter().copied())
                }),
            )
        }
        Check::IntRange(lo, hi) => {
            let i = v.as_i64()?;
            (i < *lo || i > *hi).then(|| {
                Problem::new(
                    invalid(),
                    format!("must be between {lo} and {hi}, got {}", shown()),
                )
            })
        }
        Check::IntOneOf(allowed) => {
            let i = v.as_i64()?;
            (!allowed.contains(&i)).then(|| {
                let list: Vec<String> = allowed.iter().map(i64::to_string).collect();
                Problem::new(
                    invalid(),
                    format!("expected one of {}, got {}", list.join(", "), shown()),
                )
            })
        }
        Check::IntMin(m) => {
            let i = v.as_i64()?;
            (i < *m)
                .then(|| Problem::new(invalid(), format!("must be at least {m}, got {}", shown())))
        }
        Check::StrLen(lo, hi) => {
            let s = v.as_str()?;
            let n = s.chars().count();
            (n < *lo || n > *hi).then(|| {
                let what = if sensitive {
                    String::new()
                } else {
                    format!(" ({})", shown())
                };
                Problem::new(
                    invalid(),
                    format!("must be {lo} to {hi} characters long, got {n}{what}"),
                )
            })
        }
        Check::Cidr => {
            let s = v.as_str()?;
            match parse_cidr(s) {
                Ok(_) => None,
                Err(e) => Some(Problem::new(invalid(), e.message(s)).help(e.suggestion())),
            }
        }
        Check::Cidr30 => {
            let s = v.as_str()?;
            match parse_cidr(s) {
                Ok((_, 30)) => None,
                Ok((_, len)) => Some(
                    Problem::new(
                        invalid(),
                        format!("the BGP tunnel block must be a /30, got /{len} ({s:?})"),
                    )
                    .help(Some("pick a /30 such as \"169.254.128.0/30\"".into())),
                ),
                Err(e) => Some(Problem::new(invalid(), e.message(s)).help(e.suggestion())),
            }
        }
        Check::Ipv4 => {
            let s = v.as_str()?;
            parse_ipv4(s).is_none().then(|| {
                Problem::new(
                    invalid(),
                    format!(
                        "{} is not an IPv4 address such as \"203.0.113.10\"",
                        shown()
                    ),
                )
            })
        }
        Check::CustomerGatewayIp => {
            let s = v.as_str()?;
            match parse_ipv4(s) {
                None => Some(Problem::new(
                    invalid(),
                    format!(
                        "{} is not an IPv4 address such as \"203.0.113.10\"",
                        shown()
                    ),
                )),
                Some(ip) => customer_gateway_ip_problem(ip).map(|why| {
                    Problem::new(
                        invalid(),
                        format!("{s} cannot be a customer gateway address: {why}"),
                    )
                    .help(Some(
                        "use the public IPv4 address of your on-premises VPN device".into(),
                    ))
                }),
            }
        }
    }
}

/// Why an address cannot be a customer gateway's public IP (FACTS: not all-zero, broadcast,
/// multicast 224/4, loopback 127/8, link-local 169.254/16, or a classful host part of all
/// zeros or all ones).
pub fn customer_gateway_ip_problem(ip: Ipv4Addr) -> Option<&'static str> {
    let n = u32::from(ip);
    let o = ip.octets();
    if n == 0 {
        return Some("it is the all-zero address");
    }
    if n == u32::MAX {
        return Some("it is the broadcast address");
    }
    if o[0] >= 224 && o[0] <= 239 {
        return Some("it is a multicast address (224.0.0.0/4)");
    }
    if o[0] == 127 {
        return Some("it is a loopback address (127.0.0.0/8)");
    }
    if o[0] == 169 && o[1] == 254 {
        return Some("it is a link-local address (169.254.0.0/16)");
    }
    let host_bits = match o[0] {
        0..=127 => 24,
        128..=191 => 16,
        192..=223 => 8,
        _ => return None,
    };
    let host = n & ((1u32 << host_bits) - 1);
    if host == 0 {
        return Some("its host part is all zeros (a network address)");
    }
    if host == (1u32 << host_bits) - 1 {
        return Some("its host part is all ones (a broadcast address)");
    }
    None
}

/// Rules across several arguments of one instance (the kind's own rules). Each problem is keyed
/// by the attribute path whose span it should point at.
pub fn cross_checks(kind: InstanceKind, attrs: &Map) -> Vec<(String, Problem)> {
    let InstanceKind::Managed(kind) = kind else {
        return Vec::new();
    };
    kind.def()
        .check(attrs)
        .into_iter()
        .map(|p| {
            (
                p.path,
                Problem {
                    summary: p.summary,
                    detail: Some(p.detail),
                    help: p.help,
                },
            )
        })
        .collect()
}

/// Cross-instance validation over all expanded instances (call after expanding every block):
/// SPD overlaps between tunnels of the same VPN gateway (same known `vpn_gateway_id`), BGP
/// `tunnel_cidr` overlaps on the same gateway, and duplicate (customer gateway, VPN gateway)
/// pairs. Source lines are read from the files the spans name (see also
/// `Config::validate_instances` (tunnelform-config), which uses the loaded sources instead).
pub fn validate_instances(instances: &[Instance]) -> Diagnostics {
    let mut diags = cross_instance(instances);
    let mut cache: HashMap<String, Option<String>> = HashMap::new();
    for d in &mut diags.0 {
        if d.source_line.is_some() {
            continue;
        }
        if let Some(span) = &d.span {
            let text = cache
                .entry(span.file.to_string())
                .or_insert_with(|| std::fs::read_to_string(&*span.file).ok())
                .as_deref();
            d.source_line = text
                .and_then(|t| t.lines().nth(span.line.saturating_sub(1)))
                .map(clip_line);
        }
    }
    diags
}

pub fn cross_instance(instances: &[Instance]) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let mut by_kind: BTreeMap<ResourceKind, Vec<&Instance>> = BTreeMap::new();
    for i in instances {
        if let InstanceKind::Managed(k) = i.kind {
            by_kind.entry(k).or_default().push(i);
        }
    }
    for (kind, insts) in by_kind {
        let members: Vec<Member<'_>> = insts
            .iter()
            .map(|i| Member {
                address: &i.address,
                attrs: &i.attrs,
            })
            .collect();
        for c in kind.def().check_together(&members) {
            let mut d = Diagnostic::error(c.summary);
            let mut detail = c.detail;
            if let Some((other, path)) = &c.other {
                detail.push_str(&where_is(insts[*other], path));
            }
            if !detail.is_empty() {
                d = d.with_detail(detail);
            }
            if let Some(help) = c.help {
                d = d.with_help(help);
            }
            diags.push(match &c.at {
                Some((i, path)) => at(insts[*i], path, d),
                None => d,
            });
        }
    }
    diags
}

fn where_is(inst: &Instance, key: &str) -> String {
    let span = inst
        .attr_spans
        .get(key)
        .or_else(|| inst.attr_spans.get(key.split('.').next().unwrap_or(key)));
    match span {
        Some(s) => format!(" (the other one is at {s})"),
        None => format!(" (the other one is at {})", inst.span),
    }
}

/// Places a diagnostic at an attribute of an instance (or its nearest enclosing span).
fn at(inst: &Instance, key: &str, d: Diagnostic) -> Diagnostic {
    let span = find_span(inst, key);
    let mut d = d;
    d.span = Some(span);
    d
}

fn find_span(inst: &Instance, key: &str) -> Span {
    let mut k = key.to_string();
    loop {
        if let Some(s) = inst.attr_spans.get(&k) {
            return s.clone();
        }
        match k.rfind('.') {
            Some(i) => k.truncate(i),
            None => return inst.span.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_drop_duplicates_and_keep_order() {
        let ty = AttrType::Set(&AttrType::String);
        let v = Value::List(vec!["b".into(), "a".into(), "b".into()]);
        assert_eq!(
            convert_attr(&ty, v, "x").unwrap(),
            Value::List(vec!["b".into(), "a".into()])
        );
        let l = AttrType::List(&AttrType::String);
        let v = Value::List(vec!["b".into(), "b".into()]);
        assert_eq!(
            convert_attr(&l, v, "x").unwrap(),
            Value::List(vec!["b".into(), "b".into()])
        );
    }

    #[test]
    fn int_min_and_sensitive_lengths() {
        let p = check_one("x", &Check::IntMin(10), &Value::int(3), false).unwrap();
        assert_eq!(p.summary, "Invalid value for \"x\"");
        assert_eq!(p.detail.as_deref(), Some("must be at least 10, got 3"));
        assert!(check_one("x", &Check::IntMin(10), &Value::int(10), false).is_none());
        let schema = tunnelform_kinds::ResourceKind::VpnConnection
            .schema()
            .attr("pre_share_key")
            .unwrap();
        let long = Value::sensitive(Value::from("k".repeat(129)));
        let problems = check_attr(schema, &long);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].detail.as_deref(),
            Some("must be 1 to 128 characters long, got 129")
        );
        let ok = Value::sensitive(Value::from("k".repeat(128)));
        assert!(check_attr(schema, &ok).is_empty());
        // A sensitive value with the wrong type says so without showing it.
        let p = convert_attr(
            &tunnelform_model::AttrType::Int,
            Value::sensitive("abc".into()),
            "dpd_timeout",
        )
        .unwrap_err();
        assert!(!format!("{p:?}").contains("abc"));
    }

    #[test]
    fn customer_gateway_ip_rules() {
        let p = |s: &str| customer_gateway_ip_problem(parse_ipv4(s).unwrap());
        assert_eq!(p("203.0.113.10"), None);
        assert_eq!(p("1.1.1.1"), None);
        assert!(p("0.0.0.0").unwrap().contains("all-zero"));
        assert!(p("255.255.255.255").unwrap().contains("broadcast"));
        assert!(p("224.0.0.5").unwrap().contains("multicast"));
        assert!(p("127.0.0.1").unwrap().contains("loopback"));
        assert!(p("169.254.1.1").unwrap().contains("link-local"));
        assert!(p("10.0.0.0").unwrap().contains("all zeros"));
        assert!(p("10.255.255.255").unwrap().contains("all ones"));
        assert!(p("172.16.0.0").unwrap().contains("all zeros"));
        assert!(p("192.168.1.255").unwrap().contains("all ones"));
        assert_eq!(p("192.168.1.254"), None);
    }
}
