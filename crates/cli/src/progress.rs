//! Apply progress: one line per event (Terraform's wording).

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
    noteln!("{}", line(e));
}

/// How apply progress is shown: a live view on a terminal, one line per event otherwise.
pub enum View {
    Lines,
    Live(Live),
}

impl View {
    pub fn for_stdout() -> View {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() {
            View::Live(Live::new())
        } else {
            View::Lines
        }
    }

    pub fn event(&self, e: &Event) {
        match self {
            View::Lines => print(e),
            View::Live(l) => l.event(e),
        }
    }

    /// Clears the live area before the final report.
    pub fn finish(&self) {
        if let View::Live(l) = self {
            l.multi.clear().ok();
        }
    }
}

/// indicatif: one spinner per operation in flight with its elapsed time; finished operations print
/// their line above the spinners.
pub struct Live {
    multi: indicatif::MultiProgress,
    bars: std::sync::Mutex<std::collections::HashMap<String, indicatif::ProgressBar>>,
}

impl Live {
    fn new() -> Live {
        Live {
            multi: indicatif::MultiProgress::new(),
            bars: Default::default(),
        }
    }

    fn event(&self, e: &Event) {
        let key = match e {
            Event::Started { address, .. }
            | Event::Completed { address, .. }
            | Event::Failed { address, .. }
            | Event::Skipped { address, .. } => address.to_string(),
        };
        let mut bars = self.bars.lock().expect("progress bars");
        match e {
            Event::Started { step, .. } => {
                let style = indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
                let bar = self
                    .multi
                    .add(indicatif::ProgressBar::new_spinner().with_style(style));
                bar.set_message(format!("{key}: {}", verbs(*step).0));
                bar.enable_steady_tick(Duration::from_millis(120));
                bars.insert(key, bar);
            }
            _ => {
                if let Some(bar) = bars.remove(&key) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                self.multi.println(line(e)).ok();
            }
        }
    }
}
