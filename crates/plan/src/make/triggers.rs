//! `lifecycle { replace_triggered_by = [...] }`: whether the planned changes of the resources
//! an instance names replace it. Terraform's rule: a reference to a resource fires when any of
//! its instances is planned for update or replacement; one to an instance, when that instance
//! is; one to an attribute, when that instance is updated or replaced and the attribute's value
//! changes (a value known only after apply counts as a change). A create or a delete never
//! fires: there is no earlier object to compare with, or nothing will be left.
//!
//! The configuration orders every block after the blocks its triggers name, so their changes
//! are planned by the time an instance naming them is.

use std::collections::HashMap;

use tunnelform_model::{Address, Diagnostic, InstanceKey, ReplaceTrigger, TriggerStep, Value};

use crate::{Action, ObjectKind, ResourceChange};

/// The managed changes of a plan by resource (key dropped): their positions in the plan.
#[derive(Debug, Default)]
pub struct TriggerIndex {
    by_resource: HashMap<Address, Vec<usize>>,
}

impl TriggerIndex {
    /// The index of the changes planned so far.
    pub fn new(changes: &[ResourceChange]) -> Self {
        let mut ix = TriggerIndex::default();
        for (i, c) in changes.iter().enumerate() {
            ix.add(i, c);
        }
        ix
    }

    /// Records `changes[i]`.
    pub fn add(&mut self, i: usize, c: &ResourceChange) {
        if matches!(c.kind, ObjectKind::Managed(_)) && !c.deposed {
            self.by_resource
                .entry(c.address.resource())
                .or_default()
                .push(i);
        }
    }
}

/// The triggers of one instance that fire, as they are written (resolved), or the error of a
/// trigger naming an instance the plan does not have.
pub fn fired(
    triggers: &[ReplaceTrigger],
    changes: &[ResourceChange],
    index: &TriggerIndex,
) -> Result<Vec<String>, Diagnostic> {
    let mut out = Vec::new();
    for t in triggers {
        let named: Vec<&ResourceChange> = index
            .by_resource
            .get(&t.address.resource())
            .into_iter()
            .flatten()
            .map(|&i| &changes[i])
            .filter(|c| t.address.key.is_none() || c.address == t.address)
            .collect();
        if t.address.key.is_some() && named.is_empty() {
            return Err(Diagnostic::error(format!(
                "replace_triggered_by names {}, which the configuration does not have",
                t.address
            ))
            .with_help("name an instance the resource has (check its count or for_each keys), or the whole resource"));
        }
        let fires = named.iter().any(|c| {
            let replaced_or_updated = matches!(c.action, Action::Update | Action::Replace { .. });
            replaced_or_updated && (t.path.is_empty() || attribute_changed(c, &t.path))
        });
        if fires {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

/// Whether the attribute at `path` differs between the change's `before` and `after`.
fn attribute_changed(c: &ResourceChange, path: &[TriggerStep]) -> bool {
    let Some(TriggerStep::Attr(top)) = path.first() else {
        return false;
    };
    let before = c
        .before
        .as_ref()
        .and_then(|b| b.get(top))
        .and_then(|v| at(v, &path[1..]));
    let after = c
        .after
        .as_ref()
        .and_then(|a| a.get(top))
        .and_then(|v| at(v, &path[1..]));
    if matches!(after, Some(Value::Unknown)) {
        // Known only after apply (a replacement's computed attributes): it may change.
        return true;
    }
    let is_argument = c.kind.schema().attr(top).is_some_and(|a| a.is_argument());
    // The diff compares arguments after normalisation (API defaults, sets, "" as null): its
    // verdict is the one to follow.
    if is_argument && !c.changed.iter().any(|a| a == top) {
        return false;
    }
    if is_argument && path.len() == 1 {
        return true;
    }
    before.unwrap_or(&Value::Null) != after.unwrap_or(&Value::Null)
}

/// The value at `path` inside `v` (`None` when the path leads nowhere); an unknown value
/// stays unknown whatever is below it.
fn at<'v>(v: &'v Value, path: &[TriggerStep]) -> Option<&'v Value> {
    let mut v = v.unmarked();
    for step in path {
        if matches!(v, Value::Unknown) {
            return Some(v);
        }
        v = match (step, v) {
            (TriggerStep::Attr(a), Value::Map(m)) => m.get(a)?,
            (TriggerStep::Index(InstanceKey::Key(k)), Value::Map(m)) => m.get(k)?,
            (TriggerStep::Index(InstanceKey::Index(i)), Value::List(l)) => {
                l.get(usize::try_from(*i).ok()?)?
            }
            _ => return None,
        }
        .unmarked();
    }
    Some(v)
}
