//! The `lifecycle { ... }` block of a resource: what the configuration says about replacing,
//! destroying and updating it. The configuration fills it in; the diff and the engine read it.

use std::fmt;

use crate::{Address, InstanceKey};

/// `lifecycle { ... }` of a resource block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lifecycle {
    pub prevent_destroy: bool,
    pub create_before_destroy: bool,
    pub ignore_changes: IgnoreChanges,
    /// `replace_triggered_by = [...]`, resolved for one instance (`each.key` and `count.index`
    /// replaced by its key); empty on the block itself.
    pub replace_triggered_by: Vec<ReplaceTrigger>,
}

/// One entry of `replace_triggered_by`: a managed resource of the same module, one of its
/// instances, or an attribute of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplaceTrigger {
    /// The resource (key `None`: any of its instances) or the instance named.
    pub address: Address,
    /// The attribute path after the instance; empty when the whole resource or instance is
    /// named.
    pub path: Vec<TriggerStep>,
}

/// One step of a [`ReplaceTrigger`]'s attribute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerStep {
    /// `.NAME`
    Attr(String),
    /// `[0]` or `["key"]`
    Index(InstanceKey),
}

impl fmt::Display for ReplaceTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.address)?;
        for step in &self.path {
            match step {
                TriggerStep::Attr(a) => write!(f, ".{a}")?,
                TriggerStep::Index(k) => write!(f, "{k}")?,
            }
        }
        Ok(())
    }
}

/// `ignore_changes`: which top-level arguments keep their remote value on update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreChanges {
    /// `ignore_changes = all`.
    All,
    /// `ignore_changes = [ARGUMENT, ...]`: top-level argument names (none by default).
    Attributes(Vec<String>),
}

impl Default for IgnoreChanges {
    fn default() -> Self {
        IgnoreChanges::Attributes(Vec::new())
    }
}

impl IgnoreChanges {
    /// Whether changes to the top-level argument `attr` are ignored.
    pub fn covers(&self, attr: &str) -> bool {
        match self {
            IgnoreChanges::All => true,
            IgnoreChanges::Attributes(names) => names.iter().any(|a| a == attr),
        }
    }
}

impl Lifecycle {
    /// Whether changes to the top-level argument `attr` are ignored.
    pub fn ignores(&self, attr: &str) -> bool {
        self.ignore_changes.covers(attr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_covers_every_argument_and_a_list_only_its_names() {
        let all = Lifecycle {
            ignore_changes: IgnoreChanges::All,
            ..Lifecycle::default()
        };
        assert!(all.ignores("name") && all.ignores("tags"));
        let some = Lifecycle {
            ignore_changes: IgnoreChanges::Attributes(vec!["tags".into()]),
            ..Lifecycle::default()
        };
        assert!(some.ignores("tags") && !some.ignores("name"));
        // An argument that happens to be called "all" is only itself.
        assert!(!some.ignores("all"));
        assert!(!Lifecycle::default().ignores("name"));
    }
}
