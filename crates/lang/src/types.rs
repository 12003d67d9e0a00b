//! Type constraints of `variable` blocks (`list(string)`, `map(object({...}))`, `optional(...)`)
//! and the conversions Terraform applies to values given for them.

use std::fmt;
use tunnelform_model::Map;

use tunnelform_model::Value;

use tunnelform_syntax::ast::{Expr, ExprKind, ObjKey};

use crate::error::{error, EResult, WithHelp};
use crate::eval::{Evaluator, Scope};
use crate::values::{primitive_string, to_bool, to_number};

#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Any,
    String,
    Number,
    Bool,
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>),
    Object(Vec<ObjAttr>),
    Tuple(Vec<Ty>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjAttr {
    pub name: String,
    pub ty: Ty,
    pub optional: bool,
    pub default: Option<Value>,
}

impl Ty {
    /// Whether values given on the command line or in `TF_VAR_` are taken literally (a
    /// primitive type or no type) rather than parsed as HCL expressions.
    pub fn takes_literal_input(&self) -> bool {
        matches!(self, Ty::String | Ty::Number | Ty::Bool | Ty::Any)
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Any => f.write_str("any"),
            Ty::String => f.write_str("string"),
            Ty::Number => f.write_str("number"),
            Ty::Bool => f.write_str("bool"),
            Ty::List(t) => write!(f, "list({t})"),
            Ty::Set(t) => write!(f, "set({t})"),
            Ty::Map(t) => write!(f, "map({t})"),
            Ty::Object(attrs) => {
                f.write_str("object({")?;
                for (i, a) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if a.optional {
                        write!(f, "{} = optional({})", a.name, a.ty)?;
                    } else {
                        write!(f, "{} = {}", a.name, a.ty)?;
                    }
                }
                f.write_str("})")
            }
            Ty::Tuple(items) => {
                f.write_str("tuple([")?;
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
        }
    }
}

const TYPE_HELP: &str =
    "a type is string, number, bool, any, list(TYPE), set(TYPE), map(TYPE), object({NAME = TYPE, ...}) or tuple([TYPE, ...])";

/// Reads a type expression. `ev` evaluates `optional(TYPE, DEFAULT)` defaults (constants only).
pub fn parse_type(e: &Expr, ev: &Evaluator<'_>) -> EResult<Ty> {
    parse(e, ev, false).map(|(t, _, _)| t)
}

fn parse(e: &Expr, ev: &Evaluator<'_>, in_object: bool) -> EResult<(Ty, bool, Option<Value>)> {
    let simple = |name: &str| -> Option<Ty> {
        Some(match name {
            "string" => Ty::String,
            "number" => Ty::Number,
            "bool" => Ty::Bool,
            "any" => Ty::Any,
            "list" => Ty::List(Box::new(Ty::Any)),
            "map" => Ty::Map(Box::new(Ty::Any)),
            "set" => Ty::Set(Box::new(Ty::Any)),
            _ => return None,
        })
    };
    match &e.kind {
        ExprKind::Var(name) => simple(name)
            .map(|t| (t, false, None))
            .ok_or_else(|| error(format!("Invalid type \"{name}\""), e.span).help(TYPE_HELP)),
        ExprKind::Literal(Value::String(s)) => simple(s)
            .map(|t| (t, false, None))
            .ok_or_else(|| error(format!("Invalid type \"{s}\""), e.span).help(TYPE_HELP)),
        ExprKind::Call { name, args, .. } => {
            let one =
                |args: &[Expr]| -> EResult<Ty> {
                    match args {
                        [a] => parse(a, ev, false).map(|(t, _, _)| t),
                        _ => Err(error(format!("{name}() takes exactly one type"), e.span)
                            .help(TYPE_HELP)),
                    }
                };
            match name.as_str() {
                "list" => Ok((Ty::List(Box::new(one(args)?)), false, None)),
                "set" => Ok((Ty::Set(Box::new(one(args)?)), false, None)),
                "map" => Ok((Ty::Map(Box::new(one(args)?)), false, None)),
                "object" => {
                    let [Expr {
                        kind: ExprKind::Object(items),
                        ..
                    }] = args.as_slice()
                    else {
                        return Err(error("object() takes one object of attribute types", e.span)
                            .help("for example object({ name = string, port = optional(number, 500) })"));
                    };
                    let mut attrs = Vec::with_capacity(items.len());
                    for (k, v) in items {
                        let name = match k {
                            ObjKey::Ident(n, _) => n.clone(),
                            ObjKey::Expr(ke) => {
                                match ke.as_literal_str().or_else(|| ke.as_keyword()) {
                                    Some(n) => n.to_string(),
                                    None => {
                                        return Err(error("Invalid object attribute name", ke.span))
                                    }
                                }
                            }
                        };
                        let (ty, optional, default) = parse(v, ev, true)?;
                        attrs.push(ObjAttr {
                            name,
                            ty,
                            optional,
                            default,
                        });
                    }
                    attrs.sort_by(|a, b| a.name.cmp(&b.name));
                    Ok((Ty::Object(attrs), false, None))
                }
                "tuple" => {
                    let [Expr {
                        kind: ExprKind::Tuple(items),
                        ..
                    }] = args.as_slice()
                    else {
                        return Err(error("tuple() takes one list of types", e.span)
                            .help("for example tuple([string, number])"));
                    };
                    let tys = items
                        .iter()
                        .map(|i| parse(i, ev, false).map(|(t, _, _)| t))
                        .collect::<EResult<_>>()?;
                    Ok((Ty::Tuple(tys), false, None))
                }
                "optional" if in_object => {
                    let (ty, default) = match args.as_slice() {
                        [t] => (parse(t, ev, false)?.0, None),
                        [t, d] => {
                            let ty = parse(t, ev, false)?.0;
                            let dv = ev.eval(d, &Scope::root())?;
                            let dv = convert(&dv, &ty).map_err(|m| {
                                error("Invalid default value for optional attribute", d.span)
                                    .detail(m)
                            })?;
                            (ty, Some(dv))
                        }
                        _ => {
                            return Err(error(
                                "optional() takes a type and an optional default",
                                e.span,
                            ))
                        }
                    };
                    Ok((ty, true, default))
                }
                "optional" => Err(error(
                    "optional() is only allowed for attributes of object types",
                    e.span,
                )),
                other => Err(
                    error(format!("Invalid type constructor \"{other}\""), e.span).help(TYPE_HELP),
                ),
            }
        }
        _ => Err(error("Invalid type expression", e.span).help(TYPE_HELP)),
    }
}

/// Converts `v` to `ty` as Terraform does (strings <-> numbers <-> bools, lists <-> sets,
/// objects with optional attributes). The error names the path of the offending element.
pub fn convert(v: &Value, ty: &Ty) -> Result<Value, String> {
    let mut path = String::new();
    conv(v, ty, &mut path, 0)
}

fn conv(v: &Value, ty: &Ty, path: &mut String, depth: usize) -> Result<Value, String> {
    if depth > 128 {
        return Err("the value is nested too deeply".into());
    }
    let at = |path: &str| {
        if path.is_empty() {
            String::new()
        } else {
            format!(" at {path}")
        }
    };
    match v {
        Value::Sensitive(inner) => return conv(inner, ty, path, depth).map(Value::sensitive),
        Value::Unknown => return Ok(Value::Unknown),
        Value::Null => return Ok(Value::Null),
        _ => {}
    }
    let got = crate::values::describe_type(v);
    match ty {
        Ty::Any => Ok(v.clone()),
        Ty::String => primitive_string(v)
            .map(|s| Value::string(s.into_owned()))
            .ok_or_else(|| format!("a string is required{}, got {got}", at(path))),
        Ty::Number => to_number(v).ok_or_else(|| {
            format!(
                "a number is required{}, got {}",
                at(path),
                crate::values::show(v)
            )
        }),
        Ty::Bool => to_bool(v).map(Value::Bool).ok_or_else(|| {
            format!(
                "a bool is required{}, got {}",
                at(path),
                crate::values::show(v)
            )
        }),
        Ty::List(t) | Ty::Set(t) => {
            let Value::List(items) = v else {
                return Err(format!("a list is required{}, got {got}", at(path)));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, it) in items.iter().enumerate() {
                let n = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(conv(it, t, path, depth + 1)?);
                path.truncate(n);
            }
            if matches!(ty, Ty::Set(_)) {
                let mut seen = std::collections::HashSet::new();
                out.retain(|x| seen.insert(x.canonical_key()));
                out.sort_by_cached_key(|x| match x.unmarked() {
                    Value::String(s) => s.to_string(),
                    other => other.canonical_key(),
                });
            }
            Ok(Value::List(out))
        }
        Ty::Map(t) => {
            let Value::Map(m) = v else {
                return Err(format!("a map is required{}, got {got}", at(path)));
            };
            let mut out = Map::new();
            for (k, it) in m {
                let n = path.len();
                path.push_str(&format!("[{k:?}]"));
                out.insert(k.clone(), conv(it, t, path, depth + 1)?);
                path.truncate(n);
            }
            Ok(Value::Map(out))
        }
        Ty::Object(attrs) => {
            let Value::Map(m) = v else {
                return Err(format!("an object is required{}, got {got}", at(path)));
            };
            let mut out = Map::new();
            for a in attrs {
                let n = path.len();
                path.push('.');
                path.push_str(&a.name);
                match m.get(&a.name) {
                    Some(x) if !x.is_null() => {
                        out.insert(a.name.clone().into(), conv(x, &a.ty, path, depth + 1)?);
                    }
                    present => {
                        if a.optional || present.is_some() {
                            out.insert(
                                a.name.clone().into(),
                                a.default.clone().unwrap_or(Value::Null),
                            );
                        } else {
                            let mut msg = format!("attribute \"{}\" is required", a.name);
                            if n > 0 {
                                msg.push_str(&format!(" at {}", &path[..n]));
                            }
                            if let Some(s) =
                                crate::suggest::closest(&a.name, m.keys().map(|k| k.as_str()))
                            {
                                msg.push_str(&format!(" (the value has \"{s}\": a typo?)"));
                            }
                            return Err(msg);
                        }
                    }
                }
                path.truncate(n);
            }
            Ok(Value::Map(out))
        }
        Ty::Tuple(tys) => {
            let Value::List(items) = v else {
                return Err(format!("a tuple is required{}, got {got}", at(path)));
            };
            if items.len() != tys.len() {
                return Err(format!(
                    "a tuple of {} elements is required{}, got {}",
                    tys.len(),
                    at(path),
                    items.len()
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (it, t)) in items.iter().zip(tys).enumerate() {
                let n = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(conv(it, t, path, depth + 1)?);
                path.truncate(n);
            }
            Ok(Value::List(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelform_syntax::parse_expr;

    fn ty(src: &str) -> Ty {
        let (e, errs) = parse_expr(0, src).unwrap();
        assert!(errs.is_empty());
        let ev = Evaluator::new(None, None, std::path::Path::new("."), "a type");
        parse_type(&e, &ev).unwrap()
    }

    #[test]
    fn parses_and_displays() {
        assert_eq!(ty("string"), Ty::String);
        assert_eq!(ty("list(number)").to_string(), "list(number)");
        assert_eq!(
            ty("map(object({ cidr = string, port = optional(number, 500) }))").to_string(),
            "map(object({cidr = string, port = optional(number)}))"
        );
        assert_eq!(ty("\"string\""), Ty::String);
        assert_eq!(
            ty("tuple([string, bool])").to_string(),
            "tuple([string, bool])"
        );
    }

    #[test]
    fn converts_like_terraform() {
        let t = ty(
            "object({ name = string, port = optional(number, 500), tags = optional(map(string)) })",
        );
        let v = Value::Map(Map::from([
            ("name".to_string(), Value::int(7)),
            ("extra".to_string(), Value::Bool(true)),
        ]));
        let out = convert(&v, &t).unwrap();
        assert_eq!(out.get("name"), Some(&Value::from("7")));
        assert_eq!(out.get("port"), Some(&Value::int(500)));
        assert_eq!(out.get("tags"), Some(&Value::Null));
        assert!(out.get("extra").is_none());

        let err = convert(&Value::Map(Map::new()), &t).unwrap_err();
        assert!(err.contains("attribute \"name\" is required"), "{err}");

        let err = convert(
            &Value::List(vec!["a".into(), Value::List(vec![])]),
            &ty("list(string)"),
        )
        .unwrap_err();
        assert_eq!(err, "a string is required at [1], got list");

        let set = convert(
            &Value::List(vec!["b".into(), "a".into(), "b".into()]),
            &ty("set(string)"),
        )
        .unwrap();
        assert_eq!(set, Value::List(vec!["a".into(), "b".into()]));

        assert_eq!(
            convert(&Value::from("12"), &Ty::Number).unwrap(),
            Value::int(12)
        );
        assert!(convert(&Value::from("x"), &Ty::Number).is_err());
        assert_eq!(
            convert(&Value::from("true"), &Ty::Bool).unwrap(),
            Value::Bool(true)
        );
        assert!(convert(&Value::sensitive("1".into()), &Ty::Number)
            .unwrap()
            .is_sensitive());
    }
}
