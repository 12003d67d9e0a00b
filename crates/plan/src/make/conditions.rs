//! Custom conditions while planning: each instance's preconditions before its change is planned,
//! its postconditions on the planned object, and the `check` blocks once every block is planned.
//! A condition known to be false stops the plan (an error with its message and location); one
//! that reads values known only after apply is left to the apply, which checks every condition
//! of an object again before (preconditions) and after (postconditions) its operation. A failed
//! check is a warning.

use tunnelform_config::{Checked, CondKind, Config, Instance};
use tunnelform_model::{Address, Diagnostics, Value};

use crate::{Action, CheckResult, ResourceChange, SharedAttrs};

/// Adds what failed to `diags` (errors); conditions not known yet are the apply's.
fn report(checked: Checked, diags: &mut Diagnostics) {
    for d in checked.failed.into_iter().chain(checked.errors) {
        diags.push(d);
    }
}

/// The preconditions of a block's instances, against the planned values so far.
pub(super) fn preconditions(
    config: &Config,
    instances: &[Instance],
    values: &dyn tunnelform_config::Lookup,
    diags: &mut Diagnostics,
) {
    let Some(first) = instances.first() else {
        return;
    };
    if !config.has_conditions(&first.address, CondKind::Pre) {
        return;
    }
    for inst in instances {
        report(
            config.conditions(&inst.address, CondKind::Pre, None, values),
            diags,
        );
    }
}

/// The object a managed change plans, as `self` sees it: its planned attributes and its id
/// (unknown for an object to be created).
pub(crate) fn planned_self(change: &ResourceChange) -> Value {
    let mut m = change
        .after
        .clone()
        .map(SharedAttrs::into_attrs)
        .unwrap_or_default();
    let id = match (&change.action, &change.id) {
        (Action::Create | Action::Replace { .. }, _) | (_, None) => Value::Unknown,
        (_, Some(id)) => Value::from(id.as_str()),
    };
    m.insert("id".into(), id);
    Value::Map(m)
}

/// The postconditions of one planned object (`this`: its planned value).
pub(super) fn postconditions(
    config: &Config,
    address: &Address,
    this: &Value,
    values: &dyn tunnelform_config::Lookup,
    diags: &mut Diagnostics,
) {
    report(
        config.conditions(address, CondKind::Post, Some(this), values),
        diags,
    );
}

/// The preconditions of the outputs and the `check` blocks, against the planned values. A
/// failed check's problems are warnings.
pub(super) fn outputs_and_checks(
    config: &Config,
    values: &dyn tunnelform_config::Lookup,
    diags: &mut Diagnostics,
) -> Vec<CheckResult> {
    report(config.output_conditions(values), diags);
    let checks = config.checks(values);
    for c in &checks {
        for p in &c.problems {
            diags.push(p.clone());
        }
    }
    checks.iter().map(CheckResult::of).collect()
}
