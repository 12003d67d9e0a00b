//! What the cloud holds of the objects a plan is about, as plain values (read by the apply
//! layer).

use std::collections::BTreeMap;

use tunnelform_kinds::{Ownership, ResourceKind};
use tunnelform_model::Address;

use crate::Attrs;

/// One object as the cloud reports it.
#[derive(Debug, Clone)]
pub struct RemoteObject {
    pub id: String,
    pub kind: ResourceKind,
    pub region: String,
    pub attrs: Attrs,
    pub ownership: Ownership,
}

/// What the cloud holds of the objects in state, by address; an address missing here was not found.
#[derive(Debug, Clone, Default)]
pub struct RemoteSnapshot {
    pub objects: BTreeMap<Address, RemoteObject>,
}

/// Completes an object read from the cloud with its write-only arguments as `recorded` (the
/// state's): the API never returns them, so the state's value is the object's. An argument the
/// state never recorded stays absent (the plan then takes the configuration's value).
pub fn with_write_only(obj: &mut RemoteObject, recorded: &Attrs) {
    for attr in obj.kind.schema().attrs.iter().filter(|a| a.write_only) {
        if let Some(v) = recorded.get(attr.name) {
            obj.attrs.insert(attr.name.into(), v.clone());
        }
    }
}
