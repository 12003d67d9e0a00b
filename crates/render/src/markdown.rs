//! The plan as a pull-request comment: a summary, then one collapsible section per object.

use super::human::{self, change_body, change_header, drift_body, drift_header, reason_lines};
use super::text::Writer;
use super::{sorted_changes, sorted_drift};
use tunnelform_plan::{Action, OutputChange, Plan, ResourceChange};

pub(crate) fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let title = if plan.refresh_only {
        "### tunnelform plan (refresh-only)"
    } else if plan.destroy {
        "### tunnelform destroy plan"
    } else {
        "### tunnelform plan"
    };
    out.push_str(title);
    out.push_str("\n\n");

    let changes: Vec<&ResourceChange> = if plan.refresh_only {
        Vec::new()
    } else {
        sorted_changes(plan)
            .into_iter()
            .filter(|c| !c.is_noop())
            .collect()
    };
    let mut outputs: Vec<&OutputChange> = plan
        .outputs
        .iter()
        .filter(|o| o.action != Action::NoOp)
        .collect();
    outputs.sort_by(|a, b| a.name.cmp(&b.name));
    let drift = sorted_drift(plan);

    // Summary line and counts.
    if plan.refresh_only {
        if drift.is_empty() {
            out.push_str(&format!("**{}**\n", human::NO_CHANGES_REFRESH));
        } else {
            out.push_str(&format!(
                "**{} changed outside tunnelform.** Applying this refresh-only plan records \
                 them in the state without changing any remote object.\n",
                objects(drift.len())
            ));
        }
    } else if changes.is_empty() && outputs.is_empty() && plan.destroy {
        out.push_str("**No changes.** No objects need to be destroyed.\n");
    } else if changes.is_empty() && outputs.is_empty() {
        out.push_str(&format!("**{}**\n", human::NO_CHANGES));
        if !drift.is_empty() {
            out.push_str(&format!(
                "\n{} changed outside tunnelform; the configuration already matches them.\n",
                objects(drift.len())
            ));
        }
    } else if changes.is_empty() {
        out.push_str(
            "**No changes to infrastructure.** Applying this plan saves the new output values in \
             the state.\n",
        );
    } else {
        let s = plan.summary();
        out.push_str(&format!("**{}**\n\n", human::summary_line(plan)));
        out.push_str(
            "| to import | to add | to change | to destroy | changed outside tunnelform |\n",
        );
        out.push_str("| ---: | ---: | ---: | ---: | ---: |\n");
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            s.import,
            s.add,
            s.change,
            s.destroy,
            drift.len()
        ));
    }

    if !drift.is_empty() {
        section(&mut out, "Objects changed outside tunnelform");
        for d in drift {
            let mut w = Writer::new(false);
            drift_body(&mut w, d);
            let sym = if d.deleted { "-" } else { "~" };
            details(
                &mut out,
                sym,
                &d.address.to_string(),
                &drift_header(d),
                &[],
                &w.finish(),
            );
        }
    }

    if !changes.is_empty() {
        section(&mut out, "Planned changes");
        for c in changes {
            let mut w = Writer::new(false);
            change_body(&mut w, c);
            let sym = c.action.symbol().trim();
            details(
                &mut out,
                sym,
                &c.address.to_string(),
                &change_header(c),
                &reason_lines(plan, c),
                &w.finish(),
            );
        }
    }

    if !outputs.is_empty() {
        section(&mut out, "Changes to outputs");
        let mut w = Writer::new(false);
        human::output_lines(&mut w, &outputs);
        fenced(&mut out, &w.finish());
    }
    out
}

/// A `####` heading after exactly one blank line.
fn section(out: &mut String, title: &str) {
    while out.ends_with('\n') {
        out.pop();
    }
    out.push_str("\n\n#### ");
    out.push_str(title);
    out.push_str("\n\n");
}

fn objects(n: usize) -> String {
    if n == 1 {
        "1 object".to_string()
    } else {
        format!("{n} objects")
    }
}

/// `<details>` with the symbol and address in the summary and the block in a diff fence.
fn details(
    out: &mut String,
    sym: &str,
    address: &str,
    header: &str,
    reasons: &[String],
    block: &str,
) {
    let rest = header.strip_prefix(address).unwrap_or(header).trim_start();
    let sym = if sym.is_empty() { "" } else { sym };
    let code = if sym.is_empty() {
        html_escape(address)
    } else {
        format!("{} {}", html_escape(sym), html_escape(address))
    };
    out.push_str(&format!(
        "<details><summary><code>{code}</code> {}</summary>\n\n",
        html_escape(rest)
    ));
    let mut body = String::new();
    for r in reasons {
        body.push_str("  ");
        body.push_str(r);
        body.push('\n');
    }
    body.push_str(block);
    fenced(out, &body);
    out.push_str("\n</details>\n\n");
}

/// A ```diff fence around Terraform-style lines, with each line's action symbol moved to the
/// first column so that the diff highlighter colours it (`~` and replacements become `!`; a
/// read's `<=` stays where it is, since a leading `<` would be coloured as a deletion).
fn fenced(out: &mut String, text: &str) {
    let longest = longest_backtick_run(text);
    let fence = "`".repeat(longest.max(2) + 1);
    out.push_str(&fence);
    out.push_str("diff\n");
    for line in text.lines() {
        out.push_str(&diff_line(line));
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
}

fn longest_backtick_run(s: &str) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        if c == '`' {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

fn diff_line(line: &str) -> String {
    if line.is_empty() {
        return String::new();
    }
    let trimmed = line.trim_start();
    let lead = line.len() - trimmed.len();
    for (sym, marker) in [
        ("-/+ ", '!'),
        ("+/- ", '!'),
        ("+ ", '+'),
        ("- ", '-'),
        ("~ ", '!'),
    ] {
        if let Some(after) = trimmed.strip_prefix(sym) {
            // Keep the columns: replace the symbol by spaces and put the marker in front.
            let blanked = format!("{}{}{after}", " ".repeat(lead), " ".repeat(sym.len()));
            let rest = blanked.strip_prefix(' ').unwrap_or(&blanked);
            return format!("{marker}{rest}");
        }
    }
    if let Some(rest) = line.strip_prefix(' ') {
        format!(" {rest}")
    } else {
        format!(" {line}")
    }
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}
