//! Custom conditions while applying: an object's preconditions are checked again just before its
//! operation runs (those the plan could not decide depend on values known only now), its
//! postconditions on the object as applied, and, once every step is done, the outputs'
//! preconditions and the `check` blocks (whose failures are warnings).

use tunnelform_config::{Checked, CondKind, Config, Lookup};
use tunnelform_model::{Address, Diagnostic, Diagnostics, Value};
use tunnelform_plan::CheckResult;

/// One line for a step failure: what failed, its message and where the condition is.
fn one_line(d: &Diagnostic) -> String {
    let mut s = d.summary.clone();
    if let Some(detail) = &d.detail {
        s.push_str(": ");
        s.push_str(detail);
    }
    if let Some(span) = &d.span {
        s.push_str(&format!(" at {span}"));
    }
    s
}

/// Why a step must not go on, if a condition failed, could not be evaluated, or is still
/// unknown when it must be decided.
fn verdict(checked: Checked, kind: CondKind) -> Result<(), String> {
    let mut problems: Vec<String> = checked
        .failed
        .iter()
        .chain(&checked.errors)
        .map(one_line)
        .collect();
    let which = match kind {
        CondKind::Pre => "precondition",
        CondKind::Post => "postcondition",
    };
    for span in &checked.unknown {
        problems.push(format!(
            "the {which} at {span} is still unknown: it depends on values that are not known after the object's dependencies were applied"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The preconditions of `address`, just before its operation.
pub(crate) fn before(
    config: &Config,
    address: &Address,
    lookup: &dyn Lookup,
) -> Result<(), String> {
    if !config.has_conditions(address, CondKind::Pre) {
        return Ok(());
    }
    verdict(
        config.conditions(address, CondKind::Pre, None, lookup),
        CondKind::Pre,
    )
}

/// The postconditions of `address`, on `this` (the object as applied or read).
pub(crate) fn after(
    config: &Config,
    address: &Address,
    this: Option<&Value>,
    lookup: &dyn Lookup,
) -> Result<(), String> {
    if !config.has_conditions(address, CondKind::Post) {
        return Ok(());
    }
    verdict(
        config.conditions(address, CondKind::Post, this, lookup),
        CondKind::Post,
    )
}

/// The outputs' preconditions (errors) and the `check` blocks (results; their problems are
/// warnings), once the apply's steps are done.
pub(crate) fn finally(config: &Config, lookup: &dyn Lookup) -> (Diagnostics, Vec<CheckResult>) {
    let out = config.output_conditions(lookup);
    let mut errors = Diagnostics::new();
    for d in out.failed.into_iter().chain(out.errors) {
        errors.push(d);
    }
    for span in out.unknown {
        errors.push(
            Diagnostic::error("Output precondition still unknown after apply")
                .with_span(span, None)
                .with_help(
                    "the condition depends on a value that no step of this apply made known",
                ),
        );
    }
    let checks = config.checks(lookup).iter().map(CheckResult::of).collect();
    (errors, checks)
}
