//! Rendering of plans (human text, JSON, Markdown). Pure functions: a [`Plan`] in, a `String` or
//! a `serde_json::Value` out; no printing, no I/O.
//!
//! Whatever the format, a sensitive value (a `Value::Sensitive`, or any attribute the schema marks
//! sensitive, such as `pre_share_key`) is never written: text shows `(sensitive value)`, JSON
//! holds `null` with a `true` in the matching `*_sensitive` structure.

mod human;
mod json;
mod markdown;
mod text;

use tunnelform_model::Value;
use tunnelform_plan::{Attrs, Drift, Plan, ResourceChange};

pub use json::JSON_FORMAT_VERSION;

/// How to render the human plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colours (green `+`, yellow `~`, red `-`, cyan `<=`, bold headers). The caller decides
    /// (a TTY and no `NO_COLOR`); when false the output holds no escape sequence at all.
    pub color: bool,
}

/// The plan in Terraform's idiom, for a person at a terminal.
///
/// 1. When objects drifted: "Note: Objects have changed outside tunnelform", each drifted object
///    (`# <address> has changed` / `has been deleted`) with its changed arguments.
/// 2. The legend of the symbols used, "tunnelform will perform the following actions:", then per
///    change (by address): `# <address> will be created` (`will be updated in-place`, `must be
///    replaced`, `will be destroyed`, `will be read during apply`, `will be imported`), the
///    reasons as `# (because ...)` comments, and the resource block with `+`, `~`, `-/+`, `+/-`,
///    `-`, `<=`; unchanged attributes of an update are counted, not shown.
/// 3. `Plan: N to add, N to change, N to destroy.` (`N to import, ` first when importing), or
///    exactly `No changes. Your infrastructure matches the configuration.` when there is nothing
///    to do; refresh-only plans use Terraform's refresh-only wording.
/// 4. "Changes to Outputs:" when outputs change.
pub fn render_human(plan: &Plan, opts: &RenderOptions) -> String {
    human::render(plan, opts)
}

/// The plan as one JSON document, modelled on Terraform's JSON plan format (`terraform show
/// -json`), except that no sensitive value is ever present.
///
/// ```json
/// {
///   "format_version": "1.0",
///   "tunnelform_version": "0.1.0",
///   "refresh_only": false,
///   "destroy": false,
///   "resource_drift": [ <resource change>, ... ],
///   "resource_changes": [ <resource change>, ... ],
///   "output_changes": { "<name>": <output change>, ... },
///   "summary": { "add": 1, "change": 1, "destroy": 0, "import": 0 },
///   "has_changes": true
/// }
/// ```
///
/// - `format_version`: the version of this document's shape; a change that removes or renames
///   a field bumps the major number.
/// - `resource_drift`: objects changed outside tunnelform since the last apply (prior state as
///   `before`, the refreshed remote object as `after`; `actions` is `["update"]`, or
///   `["delete"]` with `after: null` when the object was deleted outside tunnelform).
/// - `resource_changes`: every object of the plan, no-ops included (`"actions": ["no-op"]`), by
///   address. Empty in a refresh-only plan, which never changes the cloud.
/// - `summary`: what applying does (`import` counts imported objects; a replacement counts in
///   both `add` and `destroy`); all zero for a refresh-only plan.
/// - `has_changes`: whether applying would change the cloud or the state (drift included): the
///   `--detailed-exitcode` answer.
/// - `unowned_objects` (only when there are some): objects inside managed ones that tunnelform
///   does not own, e.g. a route added in the console to a managed route table: `holder` (the
///   managed object's address), `holder_id`, `type` and `id` (as `tunnelform import` takes it).
///   They are never changed or deleted and do not count in `has_changes`.
///
/// A resource change (and a drift entry, which has the same shape without `action_reason`,
/// `reasons`, `replace_paths` and `importing`):
///
/// ```json
/// {
///   "address": "tencentcloud_vpn_connection.office[\"sh\"]",
///   "mode": "managed",
///   "type": "tencentcloud_vpn_connection",
///   "name": "office",
///   "index": "sh",
///   "region": "ap-guangzhou",
///   "change": {
///     "actions": ["update"],
///     "before": { "id": "vpnx-...", "name": "office", "pre_share_key": null, ... },
///     "after": { "id": "vpnx-...", "name": "office-2", "pre_share_key": null, ... },
///     "after_unknown": {},
///     "before_sensitive": { "pre_share_key": true },
///     "after_sensitive": { "pre_share_key": true },
///     "replace_paths": [["customer_gateway_id"]],
///     "importing": { "id": "vpnx-..." }
///   },
///   "action_reason": "replace_because_cannot_update",
///   "reasons": [ { "reason": "arguments_changed", "attributes": ["name"] } ],
///   "changed_attributes": ["name"]
/// }
/// ```
///
/// - `mode`: `managed` or `data`. `index`: the `count` index (a number) or the `for_each` key (a
///   string), absent for a single instance. `region`: the provider region the object lives in
///   (on a drift entry, present when the plan also has a change for that address);
///   `provider_alias` is added when the object uses an aliased provider.
/// - `actions`: `["no-op"]`, `["create"]`, `["read"]`, `["update"]`, `["delete"]`,
///   `["delete", "create"]` (replace, destroy first) or `["create", "delete"]` (replace with
///   `create_before_destroy`).
/// - `before` / `after`: every attribute by name, `null` when the object does not exist on that
///   side. A sensitive value is `null` and marked `true` at the same place in `before_sensitive`
///   / `after_sensitive`; a value known only after apply is `null` in `after` and `true` in
///   `after_unknown`. The mark structures follow Terraform's: an object lists only its marked
///   members, a list has one entry per element (`false` for an unmarked element), and a side
///   with no object is `false` (`*_sensitive`) or `{}` (`after_unknown`).
/// - `replace_paths` (only when replacing): the arguments that force replacement, each as a path
///   (a list of steps). `importing` (only when importing): the remote id imported.
/// - `action_reason` (only where Terraform defines one): `delete_because_no_resource_config`,
///   `replace_because_cannot_update`, `read_because_config_unknown`.
/// - `reasons`: every reason, each `{"reason": <name>, ...}`: `new_in_configuration`,
///   `removed_from_configuration`, `deleted_outside_tunnelform`, `arguments_changed`
///   (`attributes`), `forces_replacement` (`attributes`), `import` (`id`),
///   `read_data_source`, `read_deferred_until_apply`.
/// - `changed_attributes`: the arguments whose value changes.
///
/// `checks` (only when the configuration has `check` blocks): one entry per check block, in the
/// shape of Terraform's `show -json` `checks`:
///
/// ```json
/// {"address": {"kind": "check", "name": "NAME", "to_display": "module.site[\"sh\"].check.NAME",
///              "module": "module.site[\"sh\"]"},
///  "status": "pass" | "fail" | "unknown" | "error",
///  "range": {"filename": "...", "start": {"line": 1, "column": 1}, "end": {...}},
///  "instances": [{"address": {"to_display": "..."}, "status": "...",
///                 "problems": [{"message": "the assertion's error_message (in ADDRESS)",
///                               "range": {...the assertion's condition...}}]}]}
/// ```
///
/// `unknown`: the assertions read values known only after apply (the apply decides and warns).
/// A failed check is a warning: it never makes the plan fail.
///
/// An output change: `{"actions": [...], "before": <value>, "after": <value>, "after_unknown":
/// <marks>, "before_sensitive": <marks>, "after_sensitive": <marks>}`; a sensitive output's values
/// are `null` with `true` marks.
pub fn render_json(plan: &Plan) -> serde_json::Value {
    json::render(plan)
}

/// A compact plan for a pull-request comment (GitHub-flavoured Markdown): a title, the summary
/// line and a table of counts, then (when objects drifted) "Objects changed outside tunnelform",
/// then "Planned changes": one `<details>` per object whose `<summary>` holds the action symbol
/// and address, containing a ```` ```diff ```` block of its attribute changes (the human
/// rendering, symbols moved to the first column so that `+` and `-` lines are coloured), and
/// "Changes to outputs". Sensitive values are never shown.
pub fn render_markdown(plan: &Plan) -> String {
    markdown::render(plan)
}

/// Changes in a stable order: by address (then by action, for the rare duplicate).
fn sorted_changes(plan: &Plan) -> Vec<&ResourceChange> {
    let mut v: Vec<&ResourceChange> = plan.changes.iter().collect();
    v.sort_by(|a, b| a.address.cmp(&b.address));
    v
}

fn sorted_drift(plan: &Plan) -> Vec<&Drift> {
    let mut v: Vec<&Drift> = plan.drift.iter().collect();
    v.sort_by(|a, b| a.address.cmp(&b.address));
    v
}

/// The attributes with `id` set (objects keep their id beside their attributes).
fn with_id(attrs: &Attrs, id: Option<&str>) -> Attrs {
    let mut out = attrs.clone();
    if let Some(id) = id {
        out.entry("id".into()).or_insert_with(|| Value::from(id));
    }
    out
}
