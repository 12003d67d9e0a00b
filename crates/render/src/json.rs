//! The machine-readable plan (see [`super::render_json`] for the format).

use serde_json::{json, Map, Value as J};
use tunnelform_model::schema::{AttrType, BlockSchema, Nesting};
use tunnelform_model::{Address, InstanceKey, Mode, Value};

use super::{sorted_changes, sorted_drift, with_id};
use tunnelform_plan::{Action, Attrs, Drift, OutputChange, Plan, Reason, ResourceChange};

/// The version of the JSON document's shape (not of the saved-plan file).
pub const JSON_FORMAT_VERSION: &str = "1.0";

pub(crate) fn render(plan: &Plan) -> J {
    let changes: Vec<J> = if plan.refresh_only {
        Vec::new()
    } else {
        sorted_changes(plan)
            .into_iter()
            .map(resource_change)
            .collect()
    };
    let drift: Vec<J> = sorted_drift(plan)
        .into_iter()
        .map(|d| drift(plan, d))
        .collect();
    let mut outputs: Vec<&OutputChange> = plan.outputs.iter().collect();
    outputs.sort_by(|a, b| a.name.cmp(&b.name));
    let outputs: Map<String, J> = outputs
        .into_iter()
        .map(|o| (o.name.clone(), output_change(o)))
        .collect();
    let (summary, has_changes) = if plan.refresh_only {
        (
            json!({"add": 0, "change": 0, "destroy": 0, "import": 0}),
            !plan.drift.is_empty() || plan.outputs.iter().any(|o| o.action != Action::NoOp),
        )
    } else {
        let s = plan.summary();
        (
            json!({"add": s.add, "change": s.change, "destroy": s.destroy, "import": s.import}),
            plan.has_changes(),
        )
    };
    let mut doc = json!({
        "format_version": JSON_FORMAT_VERSION,
        "tunnelform_version": plan.tunnelform_version,
        "refresh_only": plan.refresh_only,
        "destroy": plan.destroy,
        "resource_drift": drift,
        "resource_changes": changes,
        "output_changes": outputs,
        "summary": summary,
        "has_changes": has_changes,
    });
    if !plan.unowned.is_empty() {
        let mut items: Vec<_> = plan.unowned.iter().collect();
        items.sort_by(|a, b| (&a.holder, &a.id).cmp(&(&b.holder, &b.id)));
        let unowned: Vec<J> = items
            .into_iter()
            .map(|u| {
                json!({
                    "holder": u.holder.to_string(),
                    "holder_id": u.holder_id,
                    "type": u.type_name,
                    "id": u.id,
                })
            })
            .collect();
        doc["unowned_objects"] = J::Array(unowned);
    }
    if !plan.checks.is_empty() {
        doc["checks"] = J::Array(plan.checks.iter().map(check).collect());
    }
    doc
}

/// A source range as Terraform's diagnostics give it.
fn range(s: &tunnelform_model::Span) -> J {
    json!({
        "filename": &*s.file,
        "start": {"line": s.line, "column": s.column},
        "end": {"line": s.end_line, "column": s.end_column},
    })
}

/// A `check` block's result, shaped as the `checks` of Terraform's `show -json`: the block's
/// address, its status, and its one instance (a check in a module instance has its own address)
/// with the failed assertions' messages.
pub(crate) fn check(c: &tunnelform_plan::CheckResult) -> J {
    let mut address = json!({
        "kind": "check",
        "name": c.name,
        "to_display": c.address,
    });
    if !c.module.is_empty() {
        address["module"] = J::String(c.module.clone());
    }
    let problems: Vec<J> = c
        .problems
        .iter()
        .map(|p| {
            let mut o = json!({"message": p.detail.clone().unwrap_or_else(|| p.summary.clone())});
            if let Some(s) = &p.span {
                o["range"] = range(s);
            }
            o
        })
        .collect();
    json!({
        "address": address,
        "status": c.status,
        "range": range(&c.span),
        "instances": [{
            "address": {"to_display": c.address},
            "status": c.status,
            "problems": problems,
        }],
    })
}

/// `address`, `mode`, `type`, `name` and (for count/for_each instances) `index`.
fn identity(obj: &mut Map<String, J>, address: &Address) {
    obj.insert("address".into(), J::String(address.to_string()));
    obj.insert(
        "mode".into(),
        J::String(
            match address.mode {
                Mode::Managed => "managed",
                Mode::Data => "data",
            }
            .into(),
        ),
    );
    obj.insert("type".into(), J::String(address.type_name.to_string()));
    obj.insert("name".into(), J::String(address.name.to_string()));
    match &address.key {
        Some(InstanceKey::Index(i)) => {
            obj.insert("index".into(), J::from(*i));
        }
        Some(InstanceKey::Key(k)) => {
            obj.insert("index".into(), J::String(k.clone()));
        }
        None => {}
    }
}

/// Terraform's `action_reason`, where one of its values applies.
fn action_reason(c: &ResourceChange) -> Option<&'static str> {
    c.reasons.iter().find_map(|r| match (r, c.action) {
        (Reason::RemovedFromConfiguration, Action::Delete) => {
            Some("delete_because_no_resource_config")
        }
        (Reason::ForcesReplacement { .. }, Action::Replace { .. }) => {
            Some("replace_because_cannot_update")
        }
        (Reason::ReadDeferredUntilApply, Action::Read) => Some("read_because_config_unknown"),
        (Reason::ReplaceByRequest, Action::Replace { .. }) => Some("replace_by_request"),
        (Reason::ReplaceByTriggers { .. }, Action::Replace { .. }) => Some("replace_by_triggers"),
        _ => None,
    })
}

fn resource_change(c: &ResourceChange) -> J {
    let schema = c.kind.schema();
    let before = c.before.as_ref().map(|b| with_id(b, c.id.as_deref()));
    let actions: &[&str] = if c.forget {
        &["forget"]
    } else {
        c.action.json_actions()
    };
    let mut change = change_object(actions, before.as_ref(), c.after.as_deref(), schema);
    if !c.replace_paths.is_empty() {
        change.insert(
            "replace_paths".into(),
            J::Array(c.replace_paths.iter().map(|p| json!([p])).collect()),
        );
    }
    if let Some(id) = &c.importing {
        change.insert("importing".into(), json!({ "id": id }));
    }
    let mut obj = Map::new();
    identity(&mut obj, &c.address);
    if let Some(from) = &c.moved_from {
        obj.insert("previous_address".into(), J::String(from.to_string()));
    }
    if c.deposed {
        // Terraform names a deposed object by a key; ours is the object's id.
        obj.insert("deposed".into(), json!(c.id));
    }
    obj.insert("region".into(), J::String(c.region.clone()));
    if let Some(alias) = &c.provider_alias {
        obj.insert("provider_alias".into(), J::String(alias.clone()));
    }
    obj.insert("change".into(), J::Object(change));
    if let Some(reason) = action_reason(c) {
        obj.insert("action_reason".into(), J::String(reason.into()));
    }
    obj.insert(
        "reasons".into(),
        J::Array(
            c.reasons
                .iter()
                .map(|r| serde_json::to_value(r).unwrap_or(J::Null))
                .collect(),
        ),
    );
    obj.insert("changed_attributes".into(), json!(c.changed));
    J::Object(obj)
}

fn drift(plan: &Plan, d: &Drift) -> J {
    let schema = d.kind.schema();
    let before = with_id(&d.before, Some(&d.id));
    let after = d.after.as_ref().map(|a| with_id(a, Some(&d.id)));
    let actions: &[&str] = if d.deleted { &["delete"] } else { &["update"] };
    let change = change_object(actions, Some(&before), after.as_ref(), schema);
    let mut obj = Map::new();
    identity(&mut obj, &d.address);
    if let Some(c) = plan.change(&d.address) {
        obj.insert("region".into(), J::String(c.region.clone()));
    }
    obj.insert("change".into(), J::Object(change));
    obj.insert("changed_attributes".into(), json!(d.changed));
    J::Object(obj)
}

fn change_object(
    actions: &[&str],
    before: Option<&Attrs>,
    after: Option<&Attrs>,
    schema: &BlockSchema,
) -> Map<String, J> {
    let before = before.map(|b| canonical_order(b, schema));
    let after = after.map(|a| canonical_order(a, schema));
    let (before, after) = (before.as_ref(), after.as_ref());
    let mut m = Map::new();
    m.insert("actions".into(), json!(actions));
    m.insert("before".into(), object_values(before, schema));
    m.insert("after".into(), object_values(after, schema));
    m.insert(
        "after_unknown".into(),
        after.map_or(J::Object(Map::new()), |a| {
            unknown_marks(&Value::Map(a.clone()))
        }),
    );
    m.insert("before_sensitive".into(), object_sensitive(before, schema));
    m.insert("after_sensitive".into(), object_sensitive(after, schema));
    m
}

/// The attributes with set-typed values (sets of strings, sets of blocks, at any depth) in a
/// canonical order, so that the document does not depend on the order the API returned them in.
fn canonical_order(attrs: &Attrs, schema: &BlockSchema) -> Attrs {
    attrs
        .iter()
        .map(|(k, v)| {
            let v = match schema.attr(k) {
                Some(a) => sort_sets(&a.ty, v),
                None => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

fn sort_sets(ty: &AttrType, v: &Value) -> Value {
    match (ty, v) {
        (_, Value::Sensitive(inner)) => Value::Sensitive(Box::new(sort_sets(ty, inner))),
        (AttrType::Set(inner) | AttrType::List(inner), Value::List(items)) => {
            let mut out: Vec<Value> = items.iter().map(|i| sort_sets(inner, i)).collect();
            if matches!(ty, AttrType::Set(_)) {
                out.sort_by_key(Value::canonical_key);
            }
            Value::List(out)
        }
        (AttrType::Map(inner), Value::Map(m)) => Value::Map(
            m.iter()
                .map(|(k, x)| (k.clone(), sort_sets(inner, x)))
                .collect(),
        ),
        (AttrType::Block(nesting, block), Value::List(items)) => {
            let mut out: Vec<Value> = items
                .iter()
                .map(|i| match i {
                    Value::Map(m) => Value::Map(canonical_order(m, block)),
                    other => other.clone(),
                })
                .collect();
            if *nesting == Nesting::Set {
                out.sort_by_key(Value::canonical_key);
            }
            Value::List(out)
        }
        (AttrType::Block(_, block), Value::Map(m)) => Value::Map(canonical_order(m, block)),
        _ => v.clone(),
    }
}

fn schema_sensitive(schema: &BlockSchema, name: &str) -> bool {
    schema.attr(name).is_some_and(|a| a.sensitive)
}

/// The values with every sensitive or unknown part replaced by null.
fn object_values(attrs: Option<&Attrs>, schema: &BlockSchema) -> J {
    let Some(attrs) = attrs else {
        return J::Null;
    };
    J::Object(
        attrs
            .iter()
            .map(|(k, v)| {
                let j = if schema_sensitive(schema, k) {
                    J::Null
                } else {
                    masked(v)
                };
                (k.to_string(), j)
            })
            .collect(),
    )
}

fn object_sensitive(attrs: Option<&Attrs>, schema: &BlockSchema) -> J {
    let Some(attrs) = attrs else {
        return J::Bool(false);
    };
    J::Object(
        attrs
            .iter()
            .filter_map(|(k, v)| {
                let mark = if schema_sensitive(schema, k) && !v.is_null() {
                    J::Bool(true)
                } else {
                    sensitive_marks(v)
                };
                (mark != J::Bool(false)).then(|| (k.to_string(), mark))
            })
            .collect(),
    )
}

/// JSON of a value that never holds a secret: sensitive and unknown parts become null.
pub(crate) fn masked(v: &Value) -> J {
    match v {
        Value::Null | Value::Unknown | Value::Sensitive(_) => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => J::Number(n.clone()),
        Value::String(s) => J::String(s.to_string()),
        Value::List(items) => J::Array(items.iter().map(masked).collect()),
        Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.to_string(), masked(v))).collect()),
    }
}

/// Terraform's `after_unknown` shape: `true` for an unknown value; lists element by element;
/// objects with only their non-false members; `false` for anything else.
fn unknown_marks(v: &Value) -> J {
    match v {
        Value::Unknown => J::Bool(true),
        Value::Sensitive(inner) => unknown_marks(inner),
        Value::List(items) => J::Array(items.iter().map(unknown_marks).collect()),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.to_string(), unknown_marks(v)))
                .filter(|(_, j)| *j != J::Bool(false))
                .collect(),
        ),
        _ => J::Bool(false),
    }
}

/// The same shape for sensitive marks.
fn sensitive_marks(v: &Value) -> J {
    match v {
        Value::Sensitive(_) => J::Bool(true),
        Value::List(items) => J::Array(items.iter().map(sensitive_marks).collect()),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.to_string(), sensitive_marks(v)))
                .filter(|(_, j)| *j != J::Bool(false))
                .collect(),
        ),
        _ => J::Bool(false),
    }
}

fn output_change(o: &OutputChange) -> J {
    let side = |v: Option<&Value>| -> (J, J, J) {
        match v {
            None => (J::Null, J::Bool(false), J::Bool(false)),
            Some(v) => {
                let sensitive = if o.sensitive && !v.is_null() {
                    J::Bool(true)
                } else {
                    sensitive_marks(v)
                };
                let value = if o.sensitive { J::Null } else { masked(v) };
                (value, unknown_marks(v), sensitive)
            }
        }
    };
    let (before, _, before_sensitive) = side(o.before.as_ref());
    let (after, after_unknown, after_sensitive) = side(o.after.as_ref());
    json!({
        "actions": o.action.json_actions(),
        "before": before,
        "after": after,
        "after_unknown": after_unknown,
        "before_sensitive": before_sensitive,
        "after_sensitive": after_sensitive,
    })
}
