//! Canonical forms for comparison: API defaults filled in, sets sorted, empty equals absent.

use tunnelform_model::Map;

use tunnelform_model::schema::{AttrSchema, AttrType, BlockSchema, Nesting};
use tunnelform_model::Value;

/// The comparable form of a value of attribute `attr`: sets sorted (recursively through blocks),
/// sensitive marks removed, empty collections and null treated alike.
pub fn canonical(attr: &AttrSchema, v: &Value) -> Value {
    canonical_typed(&attr.ty, v)
}

fn canonical_typed(ty: &AttrType, v: &Value) -> Value {
    let v = v.unmarked();
    match (ty, v) {
        (_, Value::Unknown) => Value::Unknown,
        (_, Value::Null) => Value::Null,
        (AttrType::Set(inner), Value::List(items))
        | (AttrType::List(inner), Value::List(items)) => {
            if items.is_empty() {
                return Value::Null;
            }
            let mut out: Vec<Value> = items.iter().map(|i| canonical_typed(inner, i)).collect();
            if matches!(ty, AttrType::Set(_)) {
                sort_dedup(&mut out);
            }
            Value::List(out)
        }
        (AttrType::Map(inner), Value::Map(m)) => {
            if m.is_empty() {
                return Value::Null;
            }
            Value::Map(
                m.iter()
                    .map(|(k, x)| (k.clone(), canonical_typed(inner, x)))
                    .collect(),
            )
        }
        (AttrType::Block(Nesting::Single, block), Value::Map(m)) => canonical_block(block, m),
        (AttrType::Block(Nesting::Single, block), Value::List(items)) if items.len() == 1 => {
            match items[0].unmarked() {
                Value::Map(m) => canonical_block(block, m),
                other => other.clone(),
            }
        }
        (AttrType::Block(nesting, block), Value::List(items)) => {
            if items.is_empty() {
                return Value::Null;
            }
            let mut out: Vec<Value> = items
                .iter()
                .map(|i| match i.unmarked() {
                    Value::Map(m) => canonical_block(block, m),
                    other => other.clone(),
                })
                .collect();
            if *nesting == Nesting::Set {
                sort_dedup(&mut out);
            }
            Value::List(out)
        }
        (AttrType::Int, Value::String(s)) => s
            .parse::<i64>()
            .map(Value::int)
            .unwrap_or_else(|_| v.clone()),
        (AttrType::String, Value::Number(n)) => Value::string(n.to_string()),
        // The API (and a Terraform state) report a string that is not set as "": the same as absent.
        (AttrType::String, Value::String(s)) if s.is_empty() => Value::Null,
        (AttrType::Bool, Value::String(s)) if s == "true" || s == "false" => {
            Value::Bool(s == "true")
        }
        _ => v.deep_unmarked(),
    }
}

fn canonical_block(block: &BlockSchema, m: &Map) -> Value {
    let mut out = Map::new();
    for a in block.attrs {
        let v = m.get(a.name).cloned().unwrap_or(Value::Null);
        let v = if v.is_null() {
            a.default.map(|d| d.to_value()).unwrap_or(Value::Null)
        } else {
            v
        };
        let c = canonical(a, &v);
        if !c.is_null() {
            out.insert(a.name.into(), c);
        }
    }
    Value::Map(out)
}

fn sort_dedup(items: &mut Vec<Value>) {
    if items.len() < 2 {
        return;
    }
    // Each item's key is computed once (not once per comparison: a key is the item as JSON text).
    let mut keyed: Vec<(String, Value)> = std::mem::take(items)
        .into_iter()
        .map(|v| (v.canonical_key(), v))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.dedup_by(|a, b| a.0 == b.0);
    items.extend(keyed.into_iter().map(|(_, v)| v));
}

/// Whether `a` and `b` are the same value of attribute `attr` (unknown is never equal).
pub fn same(attr: &AttrSchema, a: &Value, b: &Value) -> bool {
    // Identical wholly known values have identical canonical forms (canonicalising never makes
    // a value unknown): no need to build them. The common case of a plan with no changes.
    if a == b && a.is_wholly_known() {
        return true;
    }
    if let Some(equal) = same_scalar(&attr.ty, a.unmarked(), b.unmarked()) {
        return equal;
    }
    let (a, b) = (canonical(attr, a), canonical(attr, b));
    if !a.is_wholly_known() || !b.is_wholly_known() {
        return false;
    }
    // Single blocks the API fills in partially: compare only what the configuration sets.
    if let (AttrType::Block(Nesting::Single, _), Value::Map(am), Value::Map(bm)) =
        (&attr.ty, &a, &b)
    {
        let subset = |x: &Map, y: &Map| x.iter().all(|(k, v)| y.get(k) == Some(v));
        return subset(am, bm) || subset(bm, am);
    }
    a == b
}

/// [`same`] for two scalars compared as their canonical forms would be, without building them;
/// `None` when either side is not a plain scalar (the general comparison then decides).
fn same_scalar(ty: &AttrType, a: &Value, b: &Value) -> Option<bool> {
    match (ty, a, b) {
        // Unknown is never equal to anything.
        (_, Value::Unknown, _) | (_, _, Value::Unknown) => Some(false),
        // A string that is not set ("") is the same as absent.
        (AttrType::String, Value::String(x), Value::String(y)) => Some(x == y),
        (AttrType::String, Value::String(x), Value::Null)
        | (AttrType::String, Value::Null, Value::String(x)) => Some(x.is_empty()),
        (AttrType::String | AttrType::Int | AttrType::Bool, Value::Null, Value::Null) => Some(true),
        (AttrType::Int, Value::Number(x), Value::Number(y)) => Some(x == y),
        (AttrType::Bool, Value::Bool(x), Value::Bool(y)) => Some(x == y),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelform_kinds::ResourceKind;

    fn spd(local: &str, remotes: &[&str]) -> Value {
        Value::Map(Map::from([
            ("local_cidr_block".to_string(), Value::from(local)),
            (
                "remote_cidr_block".to_string(),
                Value::List(remotes.iter().map(|r| Value::from(*r)).collect()),
            ),
        ]))
    }

    /// `same` without its shortcuts: both canonical forms built and compared.
    fn same_by_canonical_forms(attr: &AttrSchema, a: &Value, b: &Value) -> bool {
        let (ca, cb) = (canonical(attr, a), canonical(attr, b));
        if !ca.is_wholly_known() || !cb.is_wholly_known() {
            return false;
        }
        if let (AttrType::Block(Nesting::Single, _), Value::Map(am), Value::Map(bm)) =
            (&attr.ty, &ca, &cb)
        {
            let subset = |x: &Map, y: &Map| x.iter().all(|(k, v)| y.get(k) == Some(v));
            return subset(am, bm) || subset(bm, am);
        }
        ca == cb
    }

    #[test]
    fn shortcuts_answer_as_the_canonical_forms_do() {
        let values = [
            Value::Null,
            Value::Unknown,
            Value::from(""),
            Value::from("a"),
            Value::from("b"),
            Value::from("30"),
            Value::from("x30"),
            Value::from("true"),
            Value::int(30),
            Value::int(45),
            Value::number(30.5),
            Value::Bool(true),
            Value::Bool(false),
            Value::sensitive(Value::from("a")),
            Value::sensitive(Value::Unknown),
            Value::sensitive(Value::Null),
            Value::List(vec![]),
            Value::List(vec![Value::from("b"), Value::from("a"), Value::from("a")]),
            Value::List(vec![Value::from("a"), Value::from("b")]),
            Value::List(vec![Value::Unknown]),
            Value::Map(Map::new()),
            Value::Map(Map::from([("k".to_string(), Value::from("v"))])),
            Value::Map(Map::from([("k".to_string(), Value::Unknown)])),
            spd("10.0.1.0/24", &["192.168.1.0/24"]),
        ];
        let mut compared = 0;
        for kind in [
            ResourceKind::VpnConnection,
            ResourceKind::VpnGateway,
            ResourceKind::CustomerGateway,
        ] {
            for attr in kind.schema().attrs {
                for a in &values {
                    for b in &values {
                        assert_eq!(
                            same(attr, a, b),
                            same_by_canonical_forms(attr, a, b),
                            "{} {:?}: {a:?} against {b:?}",
                            attr.name,
                            attr.ty
                        );
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 10_000, "{compared}");
    }

    #[test]
    fn sets_sort_and_drop_repeats_by_their_canonical_text() {
        let mut items = vec![
            Value::from("b"),
            Value::int(1),
            Value::from("a"),
            Value::from("b"),
            Value::from("1"),
        ];
        sort_dedup(&mut items);
        let keys: Vec<String> = items.iter().map(Value::canonical_key).collect();
        assert_eq!(keys, ["\"1\"", "\"a\"", "\"b\"", "1"]);
    }

    #[test]
    fn spd_sets_compare_without_order() {
        let attr = ResourceKind::VpnConnection
            .schema()
            .attr("security_group_policy")
            .unwrap();
        let a = Value::List(vec![
            spd("10.0.1.0/24", &["192.168.1.0/24", "192.168.2.0/24"]),
            spd("10.0.2.0/24", &["172.16.0.0/16"]),
        ]);
        let b = Value::List(vec![
            spd("10.0.2.0/24", &["172.16.0.0/16"]),
            spd("10.0.1.0/24", &["192.168.2.0/24", "192.168.1.0/24"]),
        ]);
        assert!(same(attr, &a, &b));
        let c = Value::List(vec![
            spd("10.0.2.0/24", &["172.16.0.0/16"]),
            spd("10.0.1.0/24", &["192.168.3.0/24", "192.168.1.0/24"]),
        ]);
        assert!(!same(attr, &a, &c));
    }

    #[test]
    fn empty_and_null_are_alike_and_unknown_never_equal() {
        let tags = ResourceKind::VpnConnection.schema().attr("tags").unwrap();
        assert!(same(tags, &Value::Null, &Value::Map(Map::new())));
        assert!(!same(tags, &Value::Unknown, &Value::Unknown));
    }

    #[test]
    fn an_empty_string_is_an_unset_string() {
        let schema = ResourceKind::VpnConnection.schema();
        let fqdn = schema.attr("ike_local_fqdn_name").unwrap();
        assert!(same(fqdn, &Value::from(""), &Value::Null));
        assert!(!same(
            fqdn,
            &Value::from(""),
            &Value::from("vpn.example.com")
        ));
    }

    #[test]
    fn api_strings_and_config_numbers_agree() {
        let dpd = ResourceKind::VpnConnection
            .schema()
            .attr("dpd_timeout")
            .unwrap();
        assert!(same(dpd, &Value::from("30"), &Value::int(30)));
        assert!(!same(dpd, &Value::from("31"), &Value::int(30)));
    }

    #[test]
    fn single_block_compares_configured_fields_against_api_filled_ones() {
        let hc = ResourceKind::VpnConnection
            .schema()
            .attr("health_check_config")
            .unwrap();
        let configured = Value::Map(Map::from([(
            "probe_interval".to_string(),
            Value::int(2000),
        )]));
        let remote = Value::Map(Map::from([
            ("probe_type".to_string(), Value::from("NQA")),
            ("probe_interval".to_string(), Value::int(2000)),
            ("probe_threshold".to_string(), Value::int(3)),
            ("probe_timeout".to_string(), Value::int(150)),
        ]));
        assert!(same(hc, &configured, &remote));
        let other = Value::Map(Map::from([(
            "probe_interval".to_string(),
            Value::int(3000),
        )]));
        assert!(!same(hc, &other, &remote));
    }
}
