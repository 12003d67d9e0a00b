//! `moved` and `removed` blocks in the planning walk: the state's objects take their new addresses
//! before anything is compared (so a moved object is diffed at its new address and, unchanged,
//! planned as a no-op that "has moved"), and the plan records each rename for apply to make in the
//! state. No API call: the cloud never learns of a move.

use std::collections::BTreeMap;

use tunnelform_config::{Config, Instance};
use tunnelform_model::{Address, Diagnostic, Diagnostics};
use tunnelform_state::State;

use super::RemoteSnapshot;
use crate::Plan;

/// The prior state with the configuration's moves made (None when nothing moves), the renames
/// (new address -> old address), and warnings for moves that could not be made.
pub(crate) fn apply_moved(
    config: &Config,
    state: &State,
    remote: &mut RemoteSnapshot,
) -> (Option<State>, BTreeMap<Address, Address>, Diagnostics) {
    let mut warnings = Diagnostics::new();
    let mut renamed: BTreeMap<Address, Address> = BTreeMap::new();
    if config.moved().is_empty() {
        return (None, renamed, warnings);
    }
    let mut moved = state.clone();
    for m in config.moved() {
        match tunnelform_state::plan_move(&moved, &m.from, &m.to) {
            Ok(renames) => {
                tunnelform_state::apply_renames(&mut moved, &renames);
                for (old, new) in renames {
                    // A chain keeps the first address the object had in the prior state.
                    let first = renamed.remove(&old).unwrap_or(old);
                    if let Some(obj) = remote.objects.remove(&first) {
                        remote.objects.insert(new.clone(), obj);
                    }
                    renamed.insert(new, first);
                }
            }
            Err(tunnelform_state::MoveError::Occupied { from, to }) => warnings.push(
                Diagnostic::warning(format!("Unresolved move: {from} was not moved to {to}"))
                    .with_span(m.span.clone(), None)
                    .with_detail(format!(
                        "the state already holds an object at {to}, so {from} stays where it is"
                    ))
                    .with_help(format!(
                        "if {from} is no longer wanted, remove it (tunnelform state rm, or a removed block); then the move is made"
                    )),
            ),
            Err(e) => warnings.push(
                Diagnostic::warning(format!("Unresolved move from {} to {}", m.from, m.to))
                    .with_span(m.span.clone(), None)
                    .with_detail(e.to_string()),
            ),
        }
    }
    config_sources(config, &mut warnings);
    (Some(moved), renamed, warnings)
}

fn config_sources(config: &Config, d: &mut Diagnostics) {
    config.attach_source_lines(d);
}

/// Marks each change of a moved object with the address it moved from. A move whose old address
/// the configuration still declares is an error, as in Terraform: the object cannot be both.
pub(crate) fn annotate(
    plan: &mut Plan,
    renamed: &BTreeMap<Address, Address>,
    instances: &BTreeMap<Address, Instance>,
    config: &Config,
) -> Result<(), Diagnostics> {
    let mut errors = Diagnostics::new();
    for (new, old) in renamed {
        if instances.contains_key(old) {
            let span = config
                .moved()
                .iter()
                .find(|m| m.from.contains(old))
                .map(|m| m.span.clone());
            let mut d = Diagnostic::error("Moved object still exists")
                .with_detail(format!(
                    "a moved block takes {old} to {new}, but the configuration still declares {old}"
                ))
                .with_help(format!(
                    "remove {old} from the configuration (its count or for_each), or remove the moved block"
                ));
            if let Some(span) = span {
                d = d.with_span(span, None);
            }
            errors.push(d);
        }
    }
    if errors.has_errors() {
        config.attach_source_lines(&mut errors);
        return Err(errors);
    }
    for c in &mut plan.changes {
        if !c.deposed {
            c.moved_from = renamed.get(&c.address).cloned();
        }
    }
    Ok(())
}

/// `removed { from = ... lifecycle { destroy = false } }`: the deletes the plan makes of those
/// objects become "forget" (the object leaves the state and stays in the cloud).
pub(crate) fn forget_removed(plan: &mut Plan, config: &Config) {
    let keep: Vec<&Address> = config
        .removed()
        .iter()
        .filter(|r| !r.destroy)
        .map(|r| &r.from)
        .collect();
    if keep.is_empty() {
        return;
    }
    for c in &mut plan.changes {
        if c.action == crate::Action::Delete
            && !c.deposed
            && keep.iter().any(|r| r.contains(&c.address))
        {
            c.action = crate::Action::NoOp;
            c.forget = true;
            c.reasons.clear();
        }
    }
}

/// Whether a `removed { lifecycle { destroy = false } }` block covers `address`: this project's
/// object there, once forgotten, is never deleted as an untracked object while the block stays.
pub(crate) fn kept_by_removed(config: &Config, address: &Address) -> bool {
    config
        .removed()
        .iter()
        .any(|r| !r.destroy && r.from.contains(address))
}
