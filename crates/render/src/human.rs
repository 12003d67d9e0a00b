//! The human plan: Terraform's layout and wording, with tunnelform's name.

use tunnelform_model::{Mode as AddrMode, Value};

use super::text::{self, attr, body, AttrOpts, BodySpec, Change, Mode, Style, Sym, Writer};
use super::{sorted_changes, sorted_drift, with_id, RenderOptions};
use tunnelform_plan::{
    Action, Attrs, Drift, ObjectKind, OutputChange, Plan, Reason, ResourceChange,
};

/// Attributes shown in an update even when unchanged, so a reader knows which object it is.
pub(crate) const IDENTIFYING: &[&str] = &["id", "name", "tags"];

const RULE_WIDTH: usize = 77;
const WRAP: usize = 78;

pub(crate) const NO_CHANGES: &str = "No changes. Your infrastructure matches the configuration.";
pub(crate) const NO_CHANGES_REFRESH: &str =
    "No changes. Your infrastructure still matches the configuration.";

pub(crate) fn render(plan: &Plan, opts: &RenderOptions) -> String {
    let mut w = Writer::new(opts.color);
    if !plan.unowned.is_empty() {
        unowned_section(&mut w, plan);
    }
    if !plan.drift.is_empty() {
        drift_section(&mut w, plan);
    }
    let outputs: Vec<&OutputChange> = {
        let mut o: Vec<_> = plan
            .outputs
            .iter()
            .filter(|o| o.action != Action::NoOp)
            .collect();
        o.sort_by(|a, b| a.name.cmp(&b.name));
        o
    };
    if plan.refresh_only {
        if plan.drift.is_empty() {
            let head = w.paint(Style::Bold, NO_CHANGES_REFRESH);
            w.text_line(0, &head);
            w.blank();
            paragraph(
                &mut w,
                "tunnelform has checked that the real remote objects still match the result of \
                 your most recent changes, and found no differences.",
            );
        }
        if !outputs.is_empty() {
            w.blank();
            outputs_section(&mut w, &outputs);
        }
        return w.finish();
    }
    let changes: Vec<&ResourceChange> = sorted_changes(plan)
        .into_iter()
        .filter(|c| !c.is_noop())
        .collect();
    if changes.is_empty() {
        if !outputs.is_empty() {
            outputs_section(&mut w, &outputs);
            w.blank();
            paragraph(
                &mut w,
                "You can apply this plan to save these new output values to the tunnelform \
                 state, without changing any real infrastructure.",
            );
        } else if plan.destroy {
            let head = w.paint(Style::Bold, "No changes. No objects need to be destroyed.");
            w.text_line(0, &head);
            w.blank();
            paragraph(
                &mut w,
                "Either you have not created any objects yet or the existing objects were \
                 already deleted outside tunnelform.",
            );
        } else {
            let head = w.paint(Style::Bold, NO_CHANGES);
            w.text_line(0, &head);
            if !plan.drift.is_empty() {
                w.blank();
                paragraph(
                    &mut w,
                    "Your configuration already matches the changes detected above. If you'd \
                     like to update the tunnelform state to match, create and apply a \
                     refresh-only plan:",
                );
                w.text_line(2, "tunnelform apply --refresh-only");
            }
        }
        return w.finish();
    }
    legend(&mut w, &changes);
    w.text_line(0, "tunnelform will perform the following actions:");
    w.blank();
    for c in &changes {
        change_block(&mut w, plan, c);
        w.blank();
    }
    let line = w.paint(Style::Bold, &summary_line(plan));
    w.text_line(0, &line);
    if !outputs.is_empty() {
        w.blank();
        outputs_section(&mut w, &outputs);
    }
    w.finish()
}

/// `Plan: N to add, N to change, N to destroy.` (with `N to import, ` first when importing).
pub(crate) fn summary_line(plan: &Plan) -> String {
    let s = plan.summary();
    let import = if s.import > 0 {
        format!("{} to import, ", s.import)
    } else {
        String::new()
    };
    let forget = plan.forgotten().count();
    let forget = if forget > 0 {
        format!(", {forget} to forget")
    } else {
        String::new()
    };
    format!(
        "Plan: {import}{} to add, {} to change, {} to destroy{forget}.",
        s.add, s.change, s.destroy
    )
}

fn paragraph(w: &mut Writer, text: &str) {
    for line in wrap(text, WRAP) {
        w.text_line(0, &line);
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

fn drift_section(w: &mut Writer, plan: &Plan) {
    let head = w.paint(Style::Bold, "Note: Objects have changed outside tunnelform");
    w.text_line(0, &head);
    w.blank();
    paragraph(
        w,
        "tunnelform detected the following changes made outside tunnelform since the last \
         \"tunnelform apply\" which may have affected this plan:",
    );
    w.blank();
    for d in sorted_drift(plan) {
        drift_block(w, d);
        w.blank();
    }
    if plan.refresh_only {
        paragraph(
            w,
            "This is a refresh-only plan, so tunnelform will not take any actions to undo \
             these. If you were expecting these changes then you can apply this plan to record \
             the updated values in the tunnelform state without changing any remote objects.",
        );
    } else {
        paragraph(
            w,
            "Unless you have made equivalent changes to your configuration, or ignored the \
             relevant attributes using ignore_changes, the following plan may include actions \
             to undo or respond to these changes.",
        );
    }
    if !plan.refresh_only {
        // A rule between what happened and what the plan does (a refresh-only plan stops here).
        w.blank();
        w.text_line(0, &"─".repeat(RULE_WIDTH));
        w.blank();
    }
}

/// Objects made outside tunnelform inside objects it manages: reported, left alone.
fn unowned_section(w: &mut Writer, plan: &Plan) {
    let head = w.paint(
        Style::Bold,
        "Note: Objects tunnelform manages hold objects it does not own",
    );
    w.text_line(0, &head);
    w.blank();
    paragraph(
        w,
        "These were made outside tunnelform (in the console, or by another tool). tunnelform \
         leaves them as they are and never deletes them; to manage one, declare it and run \
         \"tunnelform import ADDRESS ID\" with the id shown.",
    );
    w.blank();
    let mut items: Vec<&tunnelform_plan::Unowned> = plan.unowned.iter().collect();
    items.sort_by(|a, b| (&a.holder, &a.id).cmp(&(&b.holder, &b.id)));
    for u in items {
        let line = format!(
            "# {} ({}) holds {} {}, not owned by tunnelform",
            u.holder, u.holder_id, u.type_name, u.id
        );
        let line = w.paint(Style::Bold, &line);
        w.text_line(2, &line);
    }
    w.blank();
}

/// The header comment of a drifted object.
pub(crate) fn drift_header(d: &Drift) -> String {
    if d.deleted {
        format!("{} has been deleted", d.address)
    } else {
        format!("{} has changed", d.address)
    }
}

fn resource_line(kind: ObjectKind, address: &tunnelform_model::Address) -> String {
    let keyword = if address.mode == AddrMode::Data {
        "data"
    } else {
        "resource"
    };
    format!(
        "{keyword} {} {} {{",
        text::quote(kind.type_name()),
        text::quote(&address.name)
    )
}

/// A drifted object's block (no header comment).
pub(crate) fn drift_body(w: &mut Writer, d: &Drift) {
    let before = with_id(&d.before, Some(&d.id));
    if d.deleted {
        w.line(0, Sym::Delete, &resource_line(d.kind, &d.address));
        let spec = BodySpec {
            identifying: IDENTIFYING,
            ..BodySpec::simple(Mode::DeleteConcise)
        };
        body(
            w,
            4,
            Some(d.kind.schema()),
            true,
            &before,
            &Attrs::new(),
            &spec,
        );
    } else {
        let after = with_id(d.after.as_ref().unwrap_or(&Attrs::new()), Some(&d.id));
        w.line(0, Sym::Update, &resource_line(d.kind, &d.address));
        let spec = BodySpec {
            mode: Mode::Diff,
            listed: &d.changed,
            authoritative: true,
            forced: &[],
            identifying: IDENTIFYING,
        };
        body(w, 4, Some(d.kind.schema()), true, &before, &after, &spec);
    }
    w.text_line(4, "}");
}

fn drift_block(w: &mut Writer, d: &Drift) {
    let head = w.paint(Style::Bold, &format!("# {}", drift_header(d)));
    w.text_line(2, &head);
    drift_body(w, d);
}

fn legend(w: &mut Writer, changes: &[&ResourceChange]) {
    paragraph(
        w,
        "tunnelform used the configuration, the state and the refreshed remote objects to \
         generate the following execution plan. Resource actions are indicated with the \
         following symbols:",
    );
    let has = |f: &dyn Fn(Action) -> bool| changes.iter().any(|c| f(c.action));
    let rows: [(bool, Sym, &str); 6] = [
        (has(&|a| a == Action::Create), Sym::Create, "create"),
        (
            has(&|a| a == Action::Update),
            Sym::Update,
            "update in-place",
        ),
        (has(&|a| a == Action::Delete), Sym::Delete, "destroy"),
        (
            has(&|a| {
                a == Action::Replace {
                    create_before_destroy: false,
                }
            }),
            Sym::Replace {
                create_before_destroy: false,
            },
            "destroy and then create replacement",
        ),
        (
            has(&|a| {
                a == Action::Replace {
                    create_before_destroy: true,
                }
            }),
            Sym::Replace {
                create_before_destroy: true,
            },
            "create replacement and then destroy",
        ),
        (
            has(&|a| a == Action::Read),
            Sym::Read,
            "read (data resources)",
        ),
    ];
    for (present, sym, what) in rows {
        if present {
            w.line(0, sym, what);
        }
    }
    w.blank();
}

pub(crate) fn action_sym(action: Action) -> Sym {
    match action {
        Action::NoOp => Sym::NoOp,
        Action::Create => Sym::Create,
        Action::Read => Sym::Read,
        Action::Update => Sym::Update,
        Action::Replace {
            create_before_destroy,
        } => Sym::Replace {
            create_before_destroy,
        },
        Action::Delete => Sym::Delete,
    }
}

/// `<address> will be created`, and so on.
pub(crate) fn change_header(c: &ResourceChange) -> String {
    if c.forget {
        return format!("{} will no longer be managed by tunnelform", c.address);
    }
    if let (Some(from), Action::NoOp, None) = (&c.moved_from, c.action, &c.importing) {
        return format!("{from} has moved to {}", c.address);
    }
    let what = match c.action {
        Action::Create => "will be created",
        Action::Update => "will be updated in-place",
        Action::Replace { .. } => "must be replaced",
        Action::Delete => "will be destroyed",
        Action::Read => "will be read during apply",
        Action::NoOp if c.importing.is_some() => "will be imported",
        Action::NoOp => "is unchanged",
    };
    match (&c.id, c.deposed) {
        (Some(id), true) => format!("{} (deposed object {id}) {what}", c.address),
        _ => format!("{} {what}", c.address),
    }
}

/// The reasons in plain words, as `# (...)` comment lines.
pub(crate) fn reason_lines(plan: &Plan, c: &ResourceChange) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(from) = c.moved_from.as_ref().filter(|_| c.action != Action::NoOp) {
        out.push(format!("# (moved from {from})"));
    }
    if c.forget {
        out.push(
            "# (a removed block with destroy = false: the object leaves the state and stays in the cloud)"
                .to_string(),
        );
    }
    if let Some(id) = &c.importing {
        if c.action != Action::NoOp {
            out.push(format!("# (imported from {})", text::quote(id)));
        }
        if matches!(c.action, Action::Replace { .. } | Action::Delete) {
            out.push("# Warning: this will destroy the imported resource".to_string());
        }
    }
    for r in &c.reasons {
        match r {
            Reason::RemovedFromConfiguration if !plan.destroy => out.push(format!(
                "# (because {} is not in the configuration)",
                c.address
            )),
            Reason::DeletedOutsideTunnelform if c.action != Action::NoOp => {
                out.push("# (because it was deleted outside tunnelform)".to_string())
            }
            Reason::ReadDeferredUntilApply => {
                out.push("# (config refers to values not yet known)".to_string())
            }
            Reason::Deposed => out.push(
                "# (an older object of this address: its create_before_destroy replacement did not delete it)"
                    .to_string(),
            ),
            Reason::UntrackedOfProject => out.push(
                "# (not in the state, which is stale or was lost: found by this project's ownership tags)"
                    .to_string(),
            ),
            Reason::ReplaceByRequest => out.push("# (replaced as requested with -replace)".to_string()),
            Reason::ReplaceByTriggers { by } => out.push(format!(
                "# (replaced because {} changed: lifecycle.replace_triggered_by)",
                by.join(", ")
            )),
            Reason::AdoptedLostState => out.push(
                "# (adopted: carries this project's ownership tags; its state was lost or is stale)"
                    .to_string(),
            ),
            _ => {}
        }
    }
    out
}

/// A planned change's block (no header comment).
pub(crate) fn change_body(w: &mut Writer, c: &ResourceChange) {
    let empty = Attrs::new();
    let before = c
        .before
        .as_ref()
        .map(|b| with_id(b, c.id.as_deref()))
        .unwrap_or_default();
    let after = c.after.as_deref().unwrap_or(&empty);
    w.line(0, action_sym(c.action), &resource_line(c.kind, &c.address));
    let schema = Some(c.kind.schema());
    match c.action {
        Action::Create | Action::Read => body(
            w,
            4,
            schema,
            true,
            &empty,
            after,
            &BodySpec::simple(Mode::Create),
        ),
        Action::Delete => body(
            w,
            4,
            schema,
            true,
            &before,
            &empty,
            &BodySpec::simple(Mode::Delete),
        ),
        Action::Update | Action::Replace { .. } | Action::NoOp => {
            let spec = BodySpec {
                mode: Mode::Diff,
                listed: &c.changed,
                authoritative: false,
                forced: &c.replace_paths,
                identifying: IDENTIFYING,
            };
            let after = if c.after.is_none() { &before } else { after };
            body(w, 4, schema, true, &before, after, &spec)
        }
    }
    w.text_line(4, "}");
}

fn change_block(w: &mut Writer, plan: &Plan, c: &ResourceChange) {
    let head = w.paint(Style::Bold, &format!("# {}", change_header(c)));
    w.text_line(2, &head);
    for r in reason_lines(plan, c) {
        w.text_line(2, &r);
    }
    change_body(w, c);
}

/// `Changes to Outputs:` and one line (or block) per changed output.
pub(crate) fn outputs_section(w: &mut Writer, outputs: &[&OutputChange]) {
    w.text_line(0, "Changes to Outputs:");
    output_lines(w, outputs);
}

pub(crate) fn output_lines(w: &mut Writer, outputs: &[&OutputChange]) {
    let width = outputs
        .iter()
        .map(|o| o.name.chars().count())
        .max()
        .unwrap_or(0);
    for o in outputs {
        let b = o.before.as_ref().unwrap_or(&Value::Null);
        let a = o.after.as_ref().unwrap_or(&Value::Null);
        let change = match o.action {
            Action::Create => Change::Create(a),
            Action::Delete => Change::Delete(b),
            _ => Change::between(b, a),
        };
        let opts = AttrOpts {
            sensitive: o.sensitive,
            null_suffix: true,
            ..Default::default()
        };
        attr(w, 0, &format!("{:<width$} = ", o.name), change, opts);
    }
}
