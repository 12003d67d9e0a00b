//! Applying a saved plan as it was made: its changes and its graph are what runs. Nothing is
//! planned again; instead the plan is checked against everything it was made from, and refused as
//! stale when any of it moved on:
//! - the state (lineage and serial): another run wrote it;
//! - the configuration and its variables (their digest);
//! - the sensitive values (keys, values from sensitive variables): the file keeps only salted
//!   digests, so the values are read again from the configuration and each must match its digest;
//!   they then take the digests' places in the changes that write them;
//! - the objects the plan changes, read again (batched): an argument that changed in the cloud
//!   since the plan was made makes its change wrong.
//!
//! What changes on its own (a tunnel's `net_status`, a health-check status) does not make a plan
//! stale.

use std::collections::{BTreeMap, HashMap};
use tunnelform_model::Map;

use futures::future::try_join_all;
use tunnelform_config::{Config, Instance, InstanceKind};
use tunnelform_kinds::ResourceKind;
use tunnelform_model::{Address, Diagnostics, Value};
use tunnelform_plan::{Action, Attrs, ObjectKind, Plan};
use tunnelform_state::secret::as_digest_marker;
use tunnelform_state::State;
use tunnelform_tencent_api::{ApiError, Client};

use tunnelform_plan::make::PlannedValues;
use tunnelform_planner::read_objects;

const AGAIN: &str = "Run `tunnelform plan --out FILE` again and review it";

/// Why a saved plan is not applied.
#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    #[error("the saved plan is stale: {0}. {AGAIN}")]
    Stale(String),
    #[error("{0}")]
    Config(Diagnostics),
    #[error("reading the cloud failed: {0}")]
    Api(#[from] ApiError),
}

impl From<Diagnostics> for SavedError {
    fn from(d: Diagnostics) -> Self {
        SavedError::Config(d)
    }
}

/// A saved plan ready to execute: its changes with the sensitive values restored, the
/// configuration's instances (for values known only once their dependencies exist) and the data
/// sources read again.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub plan: Plan,
    pub instances: BTreeMap<Address, Instance>,
    pub data: BTreeMap<Address, Value>,
}

fn stale(why: impl Into<String>) -> SavedError {
    SavedError::Stale(why.into())
}

/// Checks `plan` against the state, configuration and cloud it was made from, and makes it ready
/// to execute (see the module's documentation).
pub async fn prepare(
    client: &Client,
    config: &Config,
    state: &State,
    mut plan: Plan,
) -> Result<Prepared, SavedError> {
    // A state that did not exist yet had no identity to record (see the planner).
    let new_state = state.serial == 0 && state.resources.is_empty();
    let lineage = (!new_state).then(|| state.lineage.clone());
    if plan.lineage.is_some() && plan.lineage != lineage {
        return Err(stale(format!(
            "it was made against another state (lineage {} then, {} now)",
            plan.lineage.as_deref().unwrap_or("none"),
            lineage.as_deref().unwrap_or("none")
        )));
    }
    if plan.lineage != lineage || plan.serial != Some(state.serial) {
        let serial = |s: Option<u64>| s.map_or_else(|| "none".to_string(), |s| s.to_string());
        return Err(stale(format!(
            "the state has changed since it was made (serial {} then, {} now: another run wrote it)",
            serial(plan.serial),
            state.serial
        )));
    }
    // The sensitive values first: their digests say which one changed, where the configuration's
    // digest (which covers them too) could only say that something did.
    let (instances, data) = evaluate(client, config, &plan).await?;
    restore_sensitive(&mut plan, &instances)?;
    if plan.config_digest != config.digest() {
        return Err(stale(
            "the configuration or its variables changed since it was made",
        ));
    }
    check_remote(client, &plan).await?;
    Ok(Prepared {
        plan,
        instances,
        data,
    })
}

/// The configuration's instances, evaluated block by block with the planned values the saved plan
/// holds (so a reference resolves as it did when planning), and the data sources read again.
async fn evaluate(
    client: &Client,
    config: &Config,
    plan: &Plan,
) -> Result<(BTreeMap<Address, Instance>, BTreeMap<Address, Value>), SavedError> {
    let values = PlannedValues::default();
    for c in plan.changes.iter().filter(|c| !c.deposed) {
        if let (ObjectKind::Managed(_), Some(after)) = (c.kind, &c.after) {
            values.insert(c.address.clone(), Value::Map(Attrs::clone(after)));
        }
    }
    let mut instances = BTreeMap::new();
    let mut data = BTreeMap::new();
    // As when planning: many reads of one data source in a region cost one listing.
    let mut reads = tunnelform_kinds::data::DataReads::default();
    for block in config.block_order()? {
        for inst in config.expand_block(&block, &values)? {
            match inst.kind {
                InstanceKind::Data(kind) => {
                    let v = if Value::Map(inst.attrs.clone()).is_wholly_known() {
                        reads
                            .read(kind.def(), client, &inst.provider.region, &inst.attrs)
                            .await?
                    } else {
                        // Read during the apply, as the plan says.
                        Value::Unknown
                    };
                    data.insert(inst.address.clone(), v.clone());
                    values.insert(inst.address.clone(), v);
                }
                InstanceKind::Managed(_) => {
                    instances.insert(inst.address.clone(), inst);
                }
            }
        }
    }
    Ok((instances, data))
}

/// Puts the configuration's sensitive values in the places the plan file keeps their digests, in
/// the changes that write them, after checking each against its digest.
fn restore_sensitive(
    plan: &mut Plan,
    instances: &BTreeMap<Address, Instance>,
) -> Result<(), SavedError> {
    for c in &mut plan.changes {
        let writes = matches!(
            c.action,
            Action::Create | Action::Update | Action::Replace { .. }
        ) && !c.deposed;
        let Some(after) = c.after.as_mut() else {
            continue;
        };
        let configured = instances.get(&c.address).map(|i| &i.attrs);
        for (k, v) in after.iter_mut() {
            if !holds_digest(v) {
                continue;
            }
            let now = configured.and_then(|a| a.get(k));
            match now {
                Some(now) => {
                    if let Some(restored) = restore(v, now) {
                        if writes {
                            *v = restored;
                        }
                    } else {
                        return Err(stale(format!(
                            "the sensitive value of {}.{k} is not the one the plan was made with (a variable or secret changed since). Give the same values as when planning (--var, --var-file, TF_VAR_*)",
                            c.address
                        )));
                    }
                }
                None if writes => {
                    return Err(stale(format!(
                        "the sensitive value of {}.{k} is no longer in the configuration",
                        c.address
                    )))
                }
                None => {}
            }
        }
    }
    Ok(())
}

fn holds_digest(v: &Value) -> bool {
    if as_digest_marker(v).is_some() {
        return true;
    }
    match v {
        Value::Map(m) => m.values().any(holds_digest),
        Value::List(l) => l.iter().any(holds_digest),
        _ => false,
    }
}

/// `saved` with each digest replaced by the value at the same place in `now`, when that value
/// matches it (`None` when one does not). A value still unknown (it depends on objects the apply
/// creates) stays unknown: the executor evaluates it when its dependencies exist.
fn restore(saved: &Value, now: &Value) -> Option<Value> {
    if let Some(d) = as_digest_marker(saved) {
        if matches!(now.unmarked(), Value::Unknown) {
            return Some(Value::Unknown);
        }
        return d
            .matches_value(now)
            .then(|| Value::sensitive(now.deep_unmarked()));
    }
    match (saved, now.unmarked()) {
        (Value::Map(a), Value::Map(b)) => {
            let mut out = Map::new();
            for (k, v) in a {
                let restored = match b.get(k) {
                    Some(w) => restore(v, w)?,
                    None if holds_digest(v) => return None,
                    None => v.clone(),
                };
                out.insert(k.clone(), restored);
            }
            Some(Value::Map(out))
        }
        (Value::List(a), Value::List(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .map(|(v, w)| restore(v, w))
            .collect::<Option<Vec<_>>>()
            .map(Value::List),
        _ if holds_digest(saved) => None,
        _ => Some(saved.clone()),
    }
}

/// The objects the plan changes, read again in batches (per region and kind): each must still
/// exist and have the arguments the plan was made against.
async fn check_remote(client: &Client, plan: &Plan) -> Result<(), SavedError> {
    let mut groups: HashMap<(&str, ResourceKind), Vec<String>> = HashMap::new();
    for c in &plan.changes {
        if let (ObjectKind::Managed(kind), Some(_), Some(id)) = (c.kind, &c.before, &c.id) {
            groups
                .entry((c.region.as_str(), kind))
                .or_default()
                .push(id.clone());
        }
    }
    let reads = groups
        .into_iter()
        .map(|((region, kind), ids)| async move { read_objects(client, region, kind, &ids).await });
    let now: HashMap<String, Attrs> = try_join_all(reads)
        .await?
        .into_iter()
        .flatten()
        .map(|o| (o.id, o.attrs))
        .collect();
    for c in &plan.changes {
        let (Some(before), Some(id)) = (&c.before, &c.id) else {
            continue;
        };
        if c.kind.managed().is_none() {
            continue;
        }
        let Some(current) = now.get(id) else {
            return Err(stale(format!(
                "{} was deleted outside tunnelform since the plan was made",
                c.address
            )));
        };
        let changed: Vec<&str> = c
            .kind
            .schema()
            .attrs
            .iter()
            .filter(|a| a.is_argument() && a.is_read_back())
            .filter(|a| {
                let null = Value::Null;
                !same_as_saved(
                    before.get(a.name).unwrap_or(&null),
                    current.get(a.name).unwrap_or(&null),
                )
            })
            .map(|a| a.name)
            .collect();
        if !changed.is_empty() {
            return Err(stale(format!(
                "{} changed in the cloud since the plan was made ({})",
                c.address,
                changed.join(", ")
            )));
        }
    }
    Ok(())
}

/// Whether a value as saved in a plan (sensitive parts as digests) is `now`'s value.
pub fn same_as_saved(saved: &Value, now: &Value) -> bool {
    if let Some(d) = as_digest_marker(saved) {
        return !now.is_null() && d.matches_value(now);
    }
    match (saved, now.unmarked()) {
        (Value::Map(a), Value::Map(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_as_saved(v, w)))
        }
        (Value::List(a), Value::List(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| same_as_saved(v, w))
        }
        (a, b) => *a == b.deep_unmarked(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelform_state::secret::digest_marker;
    use tunnelform_state::SecretDigest;

    fn digest(v: &str) -> Value {
        digest_marker(&SecretDigest::reuse_or_new_value(None, &Value::from(v)))
    }

    #[test]
    fn digests_are_restored_only_by_the_values_they_were_made_from() {
        let saved = Value::Map(Map::from([
            ("psk".to_string(), digest("k1")),
            ("name".to_string(), Value::from("t")),
        ]));
        let now = Value::Map(Map::from([
            ("psk".to_string(), Value::sensitive(Value::from("k1"))),
            ("name".to_string(), Value::from("t")),
        ]));
        let restored = restore(&saved, &now).unwrap();
        assert_eq!(
            restored.get("psk").map(Value::deep_unmarked),
            Some(Value::from("k1"))
        );
        assert!(restored.get("psk").unwrap().is_sensitive());
        let other = Value::Map(Map::from([("psk".to_string(), Value::from("k2"))]));
        assert_eq!(restore(&saved, &other), None);
        // Unknown now: left for the executor to evaluate.
        assert_eq!(
            restore(&digest("k1"), &Value::Unknown),
            Some(Value::Unknown)
        );
        assert!(same_as_saved(&digest("k1"), &Value::from("k1")));
        assert!(!same_as_saved(&digest("k1"), &Value::Null));
    }
}
