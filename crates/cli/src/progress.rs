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
    /// `total`: the steps the apply will run (for the overall progress line).
    pub fn for_stdout(total: usize) -> View {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() {
            View::Live(Live::new(total))
        } else {
            View::Lines
        }
    }

    /// After the first Ctrl-C: the overall line says so.
    pub fn interrupted(&self) {
        if let View::Live(l) = self {
            l.overall
                .set_prefix("interrupted: waiting for the operations in flight; ");
        }
    }

    pub fn event(&self, e: &Event) {
        match self {
            View::Lines => print(e),
            View::Live(l) => l.event(e),
        }
    }

    /// Clears the live area before the final report (and before exiting on a second Ctrl-C):
    /// no spinner line is left behind.
    pub fn finish(&self) {
        if let View::Live(l) = self {
            if let Ok(mut bars) = l.bars.lock() {
                for (_, bar) in bars.drain() {
                    bar.finish_and_clear();
                    l.multi.remove(&bar);
                }
            }
            l.overall.finish_and_clear();
            l.multi.clear().ok();
        }
    }
}

/// indicatif: one spinner per operation in flight with its elapsed time, under an overall line
/// (done/total, failures, elapsed); finished operations print their line above the spinners.
pub struct Live {
    multi: indicatif::MultiProgress,
    bars: std::sync::Mutex<std::collections::HashMap<String, indicatif::ProgressBar>>,
    overall: indicatif::ProgressBar,
    failures: std::sync::atomic::AtomicUsize,
}

impl Live {
    fn new(total: usize) -> Live {
        let multi = indicatif::MultiProgress::new();
        let style = indicatif::ProgressStyle::with_template(
            "{prefix}[{pos}/{len}] done, {msg} [{elapsed}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        let overall = multi.add(
            indicatif::ProgressBar::new(total as u64)
                .with_style(style)
                .with_message("0 failed or skipped"),
        );
        overall.enable_steady_tick(Duration::from_millis(500));
        Live {
            multi,
            bars: Default::default(),
            overall,
            failures: Default::default(),
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
                // Spinners above the overall line, which stays last.
                let bar = self.multi.insert_before(
                    &self.overall,
                    indicatif::ProgressBar::new_spinner().with_style(style),
                );
                bar.set_message(format!("{key}: {}", verbs(*step).0));
                bar.enable_steady_tick(Duration::from_millis(120));
                bars.insert(key, bar);
            }
            _ => {
                if let Some(bar) = bars.remove(&key) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                if matches!(e, Event::Failed { .. } | Event::Skipped { .. }) {
                    let n = self
                        .failures
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                        + 1;
                    self.overall.set_message(format!("{n} failed or skipped"));
                }
                self.overall.inc(1);
                if self.overall.position() > self.overall.length().unwrap_or(0) {
                    self.overall.set_length(self.overall.position());
                }
                self.multi.println(line(e)).ok();
            }
        }
    }
}
