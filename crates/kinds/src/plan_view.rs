//! The planned objects of a plan, as the kinds' rules over a whole plan see them (the engine
//! implements [`PlanView`]; a kind's [`crate::Kind::check_plan`] reads it).

use tunnelform_model::{Address, Span, Value};

use crate::registry::ResourceKind;

/// What the plan does with a planned object (objects being deleted are not in the view).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Create,
    Update,
    Replace,
    /// Left as it is (or imported as it is).
    Keep,
}

/// What a reference points at: a planned object (by index), or an object the configuration does
/// not manage (by id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Planned(usize),
    Id(String),
}

/// The plan's objects that will exist after it (created, changed or kept), by index.
pub trait PlanView {
    fn len(&self) -> usize;
    fn address(&self, i: usize) -> &Address;
    fn kind(&self, i: usize) -> Option<ResourceKind>;
    fn region(&self, i: usize) -> &str;
    /// The id of an object that exists already.
    fn id(&self, i: usize) -> Option<&str>;
    fn step(&self, i: usize) -> Step;
    /// The value of `attr` before the plan (an existing object's).
    fn before(&self, i: usize, attr: &str) -> Option<&Value>;
    /// The value of `attr` after the plan, as planned.
    fn after(&self, i: usize, attr: &str) -> Option<&Value>;
    /// The planned value of `attr`, the configuration's when it sets a known one, marks removed.
    fn value(&self, i: usize, attr: &str) -> Option<Value>;
    /// Whether the configuration sets `attr`.
    fn configured(&self, i: usize, attr: &str) -> bool;
    /// What reference `attr` of object `i` points at, an object of `kind`: by its planned id, or
    /// (when the id is known only after apply) the one planned object of `kind` that `i`'s
    /// configuration depends on.
    fn target(&self, i: usize, attr: &str, kind: ResourceKind) -> Option<Target>;
    /// Where to point at an argument of a planned object (its value, else its block).
    fn span(&self, i: usize, attr: &str) -> Option<Span>;

    /// How a target is named in messages: its address, or its id.
    fn show(&self, t: &Target) -> String {
        match t {
            Target::Planned(i) => self.address(*i).to_string(),
            Target::Id(id) => id.clone(),
        }
    }
}
