//! Apply progress: one line per event (Terraform's wording).

use std::io::Write;
use std::time::Duration;

use tunnelform_apply::Event;
use tunnelform_plan::StepKind;

fn verbs(step: StepKind) -> (&'static str, &'static str) {
    match step {
        StepKind::Create | StepKind::CreateReplacement => ("Creating...", "Creation complete"),
        StepKind::Update => ("Modifying...", "Modifications complete"),
        StepKind::Delete | StepKind::DeleteReplaced => ("Destroying...", "Destruction complete"),
        StepKind::Read => ("Reading...", "Read complete"),
        StepKind::Import => ("Importing...", "Import complete"),
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

pub fn line(e: &Event) -> String {
    match e {
        Event::Started { address, step } => format!("{address}: {}", verbs(*step).0),
        Event::Completed {
            address,
            step,
            elapsed,
            id,
        } => {
            let id = id
                .as_ref()
                .map(|i| format!(" [id={i}]"))
                .unwrap_or_default();
            format!("{address}: {} after {}{id}", verbs(*step).1, secs(*elapsed))
        }
        Event::Failed {
            address,
            step,
            elapsed,
            failure,
        } => {
            let code = failure
                .code
                .as_ref()
                .map(|c| format!("[{c}] "))
                .unwrap_or_default();
            let req = failure
                .request_id
                .as_ref()
                .map(|r| format!(" (request id {r})"))
                .unwrap_or_default();
            format!(
                "{address}: {} failed after {}: {code}{}{req}",
                verbs(*step).0.trim_end_matches("..."),
                secs(*elapsed),
                failure.message
            )
        }
        Event::Skipped {
            address, because, ..
        } => format!("{address}: skipped because {because} failed"),
    }
}

pub fn print(e: &Event) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line(e));
}
