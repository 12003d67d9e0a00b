//! The plan as plain, serialisable data.

use serde::{Deserialize, Serialize};
use tunnelform_model::{Address, Value};

pub use tunnelform_model::{Attrs, SharedAttrs};

pub const PLAN_FORMAT_VERSION: u32 = 1;

pub use tunnelform_kinds::ObjectKind;

/// The small closed set of actions (as Terraform's `plans.Action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    /// Delete and create again; `create_before_destroy` chooses the order.
    Replace {
        create_before_destroy: bool,
    },
    Delete,
}

impl Action {
    /// Terraform's JSON `actions` list.
    pub fn json_actions(self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Create => &["create"],
            Action::Read => &["read"],
            Action::Update => &["update"],
            Action::Replace {
                create_before_destroy: false,
            } => &["delete", "create"],
            Action::Replace {
                create_before_destroy: true,
            } => &["create", "delete"],
            Action::Delete => &["delete"],
        }
    }

    /// The symbol used in human output.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Read => "<=",
            Action::Update => "~",
            Action::Replace {
                create_before_destroy: false,
            } => "-/+",
            Action::Replace {
                create_before_destroy: true,
            } => "+/-",
            Action::Delete => "-",
        }
    }
}

/// Why an action was chosen; rendered next to the resource and in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Reason {
    /// In the configuration, not in state.
    NewInConfiguration,
    /// In state, no longer in the configuration.
    RemovedFromConfiguration,
    /// In state, but the object no longer exists remotely.
    DeletedOutsideTunnelform,
    /// Arguments differ from the configuration.
    ArgumentsChanged { attributes: Vec<String> },
    /// These arguments cannot be changed in place.
    ForcesReplacement { attributes: Vec<String> },
    /// Imported with this id.
    Import { id: String },
    /// A new state found the object by its project's ownership tags (the state that created it
    /// was lost): it is imported, not created again.
    AdoptedLostState,
    /// Deleted though the state does not hold it: it carries this project's ownership tags (the
    /// state that recorded it is stale or was lost), and the configuration no longer has its
    /// address, or the plan destroys everything.
    UntrackedOfProject,
    /// An older object of the address that a `create_before_destroy` replacement did not delete.
    Deposed,
    /// Data sources are read on every plan.
    ReadDataSource,
    /// `plan/apply -replace=ADDR` asked for it.
    ReplaceByRequest,
    /// `lifecycle { replace_triggered_by }`: these references (as written, resolved for the
    /// instance) are planned to change.
    ReplaceByTriggers { by: Vec<String> },
    /// The data source's arguments depend on values known only after apply.
    ReadDeferredUntilApply,
}

/// One planned operation on one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: Address,
    #[serde(rename = "type")]
    pub kind: ObjectKind,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_alias: Option<String>,
    pub action: Action,
    /// The remote id of the existing object, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The object as it is (refreshed), when it exists. Sensitive leaves stay marked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<SharedAttrs>,
    /// The object as it will be. `Value::Unknown` where only apply will tell. When it equals
    /// `before` (an unchanged object), it is the same shared map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<SharedAttrs>,
    /// Attributes whose value changes (arguments only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    /// The changed arguments that force replacement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_paths: Vec<String>,
    pub reasons: Vec<Reason>,
    /// `Some(id)` when this change imports an existing object into state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importing: Option<String>,
    /// Block-level addresses this object depends on (configuration or prior state).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Address>,
    /// The change deletes a deposed object of the address (`id`): an older object left by a
    /// `create_before_destroy` replacement whose delete did not happen. The address's current
    /// object is another change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deposed: bool,
    /// The object was at this address before: a `moved` block took it to `address` (the state is
    /// updated on apply; the cloud is not asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<Address>,
    /// A `removed` block with `destroy = false`: the object leaves the state and stays in the
    /// cloud (no longer managed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forget: bool,
}

impl ResourceChange {
    pub fn is_noop(&self) -> bool {
        self.action == Action::NoOp
            && self.importing.is_none()
            && self.moved_from.is_none()
            && !self.forget
    }
}

/// A change made outside tunnelform since the last apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub address: Address,
    #[serde(rename = "type")]
    pub kind: ObjectKind,
    pub id: String,
    pub deleted: bool,
    /// As recorded in state (sensitive attributes only as `(sensitive value)` markers).
    pub before: Attrs,
    /// As found remotely (absent when deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Attrs>,
    pub changed: Vec<String>,
}

/// An object inside a managed one that tunnelform does not own (a route added in the console to a
/// route table tunnelform manages): reported with the drift, never changed or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unowned {
    /// The managed object holding it, and its id.
    pub holder: Address,
    pub holder_id: String,
    /// The object's type name and id (as `tunnelform import` takes it).
    #[serde(rename = "type")]
    pub type_name: String,
    pub id: String,
}

/// An output value change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputChange {
    pub name: String,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    pub sensitive: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub import: usize,
    pub read: usize,
}

/// A whole plan. Plain data: it can be saved (`plan --out`) and applied later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub tunnelform_version: String,
    /// A destroy plan (every managed object in state deleted).
    #[serde(default)]
    pub destroy: bool,
    /// Only drift is shown/accepted; no change to the cloud.
    #[serde(default)]
    pub refresh_only: bool,
    pub changes: Vec<ResourceChange>,
    pub drift: Vec<Drift>,
    /// Objects inside managed ones that tunnelform does not own: shown, never acted on (they do
    /// not count as changes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unowned: Vec<Unowned>,
    #[serde(default)]
    pub outputs: Vec<OutputChange>,
    /// Identity of the state the plan was made against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<u64>,
    /// Digest of the configuration (files and variables) the plan was made from.
    #[serde(default)]
    pub config_digest: String,
    /// The execution graph, made once with the plan and executed as it is (plans saved before it
    /// travelled with them have none: it is built when they are applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<crate::graph::GraphData>,
    /// The results of the configuration's `check` blocks, as far as the plan could tell.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
}

/// The result of one `check` block (a failed one is a warning, never an error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// `check.NAME`, with the module instance in front inside a module.
    pub address: String,
    pub name: String,
    /// The module instance (`module.site["sh"]`), empty at the root.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub module: String,
    /// `pass`, `fail`, `unknown` (known only after apply) or `error` (an assertion could not be
    /// evaluated).
    pub status: String,
    /// Where the check block is.
    pub span: tunnelform_model::Span,
    /// The failed assertions: each message with the assertion's location.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<tunnelform_model::Diagnostic>,
}

impl CheckResult {
    pub fn of(c: &tunnelform_config::CheckOutcome) -> CheckResult {
        CheckResult {
            address: c.address.clone(),
            name: c.name.clone(),
            module: c.module.clone(),
            status: c.status.as_str().to_string(),
            span: c.span.clone(),
            problems: c.problems.clone(),
        }
    }
}

impl Plan {
    pub fn new(tunnelform_version: &str) -> Plan {
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            tunnelform_version: tunnelform_version.to_string(),
            destroy: false,
            refresh_only: false,
            changes: Vec::new(),
            drift: Vec::new(),
            unowned: Vec::new(),
            outputs: Vec::new(),
            lineage: None,
            serial: None,
            config_digest: String::new(),
            graph: None,
            checks: Vec::new(),
        }
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            if c.importing.is_some() {
                s.import += 1;
            }
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Replace { .. } => {
                    s.add += 1;
                    s.destroy += 1;
                }
                Action::Delete => s.destroy += 1,
                Action::Read => s.read += 1,
                Action::NoOp => {}
            }
        }
        s
    }

    /// Whether applying would change the cloud or the state (drift counts: `--detailed-exitcode`).
    pub fn has_changes(&self) -> bool {
        !self.drift.is_empty()
            || self.changes.iter().any(|c| {
                !matches!(c.action, Action::NoOp | Action::Read)
                    || c.importing.is_some()
                    || c.moved_from.is_some()
                    || c.forget
            })
            || self.outputs.iter().any(|o| o.action != Action::NoOp)
    }

    /// Whether applying would change the cloud.
    pub fn has_resource_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| !matches!(c.action, Action::NoOp | Action::Read) || c.importing.is_some())
    }

    /// Objects the state holds that no longer exist and that nothing will create again (the
    /// configuration dropped them, or the plan destroys): applying forgets them.
    pub fn gone_from_state(&self) -> impl Iterator<Item = &Address> {
        self.changes
            .iter()
            .filter(|c| {
                c.action == Action::NoOp
                    && c.before.is_none()
                    && !c.deposed
                    && c.importing.is_none()
                    && c.reasons.contains(&Reason::DeletedOutsideTunnelform)
            })
            .map(|c| &c.address)
    }

    /// The state renames the plan's `moved` blocks make (old address, new address).
    pub fn renames(&self) -> Vec<(Address, Address)> {
        self.changes
            .iter()
            .filter_map(|c| c.moved_from.clone().map(|from| (from, c.address.clone())))
            .collect()
    }

    /// Objects a `removed { lifecycle { destroy = false } }` block takes out of the state.
    pub fn forgotten(&self) -> impl Iterator<Item = &Address> {
        self.changes.iter().filter(|c| c.forget).map(|c| &c.address)
    }

    pub fn change(&self, address: &Address) -> Option<&ResourceChange> {
        self.changes.iter().find(|c| &c.address == address)
    }
}
