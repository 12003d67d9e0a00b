//! Canonical forms for comparison: API defaults filled in, sets sorted, empty equals absent.

use std::collections::BTreeMap;

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
        (AttrType::String, Value::Number(n)) => Value::String(n.to_string()),
        // The API (and a Terraform state) report a string that is not set as "": the same as absent.
        (AttrType::String, Value::String(s)) if s.is_empty() => Value::Null,
        (AttrType::Bool, Value::String(s)) if s == "true" || s == "false" => {
            Value::Bool(s == "true")
        }
        _ => v.deep_unmarked(),
    }
}

fn canonical_block(block: &BlockSchema, m: &BTreeMap<String, Value>) -> Value {
    let mut out = BTreeMap::new();
    for a in block.attrs {
        let v = m.get(a.name).cloned().unwrap_or(Value::Null);
        let v = if v.is_null() {
            a.default.map(|d| d.to_value()).unwrap_or(Value::Null)
        } else {
            v
        };
        let c = canonical(a, &v);
        if !c.is_null() {
            out.insert(a.name.to_string(), c);
        }
    }
    Value::Map(out)
}

fn sort_dedup(items: &mut Vec<Value>) {
    items.sort_by_key(Value::canonical_key);
    items.dedup_by(|a, b| a.canonical_key() == b.canonical_key());
}

/// Whether `a` and `b` are the same value of attribute `attr` (unknown is never equal).
pub fn same(attr: &AttrSchema, a: &Value, b: &Value) -> bool {
    let (a, b) = (canonical(attr, a), canonical(attr, b));
    if !a.is_wholly_known() || !b.is_wholly_known() {
        return false;
    }
    // Single blocks the API fills in partially: compare only what the configuration sets.
    if let (AttrType::Block(Nesting::Single, _), Value::Map(am), Value::Map(bm)) =
        (&attr.ty, &a, &b)
    {
        let subset = |x: &BTreeMap<String, Value>, y: &BTreeMap<String, Value>| {
            x.iter().all(|(k, v)| y.get(k) == Some(v))
        };
        return subset(am, bm) || subset(bm, am);
    }
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelform_kinds::ResourceKind;

    fn spd(local: &str, remotes: &[&str]) -> Value {
        Value::Map(BTreeMap::from([
            ("local_cidr_block".to_string(), Value::from(local)),
            (
                "remote_cidr_block".to_string(),
                Value::List(remotes.iter().map(|r| Value::from(*r)).collect()),
            ),
        ]))
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
        assert!(same(tags, &Value::Null, &Value::Map(BTreeMap::new())));
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
        let configured = Value::Map(BTreeMap::from([(
            "probe_interval".to_string(),
            Value::int(2000),
        )]));
        let remote = Value::Map(BTreeMap::from([
            ("probe_type".to_string(), Value::from("NQA")),
            ("probe_interval".to_string(), Value::int(2000)),
            ("probe_threshold".to_string(), Value::int(3)),
            ("probe_timeout".to_string(), Value::int(150)),
        ]));
        assert!(same(hc, &configured, &remote));
        let other = Value::Map(BTreeMap::from([(
            "probe_interval".to_string(),
            Value::int(3000),
        )]));
        assert!(!same(hc, &other, &remote));
    }
}
