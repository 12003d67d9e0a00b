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
            l.interrupted
                .store(true, std::sync::atomic::Ordering::Relaxed);
            if let Ok(in_flight) = l.in_flight.lock() {
                l.show(&in_flight);
            }
        }
    }

    /// A message to the person at the terminal (on standard error). On a live view it is printed
    /// above the spinners, through the view, so that the view's redraws neither overwrite it nor
    /// leave lines of their own behind.
    pub fn say(&self, text: &str) {
        match self {
            View::Lines => errln!("{text}"),
            // One println per line: the live line is redrawn below what was printed, and a
            // message with an embedded newline would throw its line count off.
            View::Live(l) => {
                for line in text.lines() {
                    l.bar.println(line);
                }
            }
        }
    }

    pub fn event(&self, e: &Event) {
        match self {
            View::Lines => print(e),
            View::Live(l) => l.event(e),
        }
    }

    /// Clears the live line before the final report (and before exiting on a second Ctrl-C):
    /// nothing of it is left behind.
    pub fn finish(&self) {
        if let View::Live(l) = self {
            l.bar.finish_and_clear();
            if let Ok(mut q) = l.quiet_ctrl_c.lock() {
                q.take();
            }
        }
    }
}

/// indicatif: one line at the bottom of the terminal with the overall progress (done/total,
/// failures or skips, elapsed) and the operations in flight; each finished operation prints its
/// line above it. One line only, redrawn in place: nothing is left behind when it is cleared.
pub struct Live {
    bar: indicatif::ProgressBar,
    /// Operations in flight, in the order they started: (address, what it does).
    in_flight: std::sync::Mutex<Vec<(String, &'static str)>>,
    failures: std::sync::atomic::AtomicUsize,
    interrupted: std::sync::atomic::AtomicBool,
    /// The terminal does not echo Ctrl-C as `^C` while the line is live (restored by `finish`).
    quiet_ctrl_c: std::sync::Mutex<Option<QuietControlChars>>,
}

impl Live {
    fn new(total: usize) -> Live {
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} [{pos}/{len}] done, {msg} [{elapsed}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        let bar = indicatif::ProgressBar::new(total as u64).with_style(style);
        let live = Live {
            bar,
            in_flight: Default::default(),
            failures: Default::default(),
            interrupted: Default::default(),
            quiet_ctrl_c: std::sync::Mutex::new(QuietControlChars::new()),
        };
        live.show(&[]);
        live.bar.enable_steady_tick(Duration::from_millis(200));
        live
    }

    /// The message: failures, then the oldest operation in flight and how many more. The line
    /// stays shorter than the terminal: a Ctrl-C is echoed as `^C` after it, and on a full-width
    /// line that echo would wrap, leaving the line behind when it is cleared.
    fn show(&self, in_flight: &[(String, &'static str)]) {
        use std::sync::atomic::Ordering::Relaxed;
        let failed = self.failures.load(Relaxed);
        let mut msg = String::new();
        if self.interrupted.load(Relaxed) {
            msg.push_str("interrupted, waiting for the operations in flight; ");
        }
        msg.push_str(&format!("{failed} failed or skipped"));
        if let Some((address, doing)) = in_flight.first() {
            msg.push_str(&format!("; {address}: {doing}"));
            if in_flight.len() > 1 {
                msg.push_str(&format!(" and {} more", in_flight.len() - 1));
            }
        }
        let width = usize::from(console::Term::stderr().size().1);
        let total = self.bar.length().unwrap_or(0).to_string().len();
        // Spinner, "[pos/len] done, ", " [elapsed]" (up to "59m59s"), and room for "^C".
        let fixed = 2 + (2 * total + 9) + 9 + 4;
        let room = width.saturating_sub(fixed).max(10);
        if msg.chars().count() > room {
            msg = msg.chars().take(room.saturating_sub(1)).collect::<String>() + "…";
        }
        self.bar.set_message(msg);
    }

    fn event(&self, e: &Event) {
        let key = match e {
            Event::Started { address, .. }
            | Event::Completed { address, .. }
            | Event::Failed { address, .. }
            | Event::Skipped { address, .. } => address.to_string(),
        };
        let mut in_flight = self.in_flight.lock().expect("operations in flight");
        match e {
            Event::Started { step, .. } => in_flight.push((key, verbs(*step).0)),
            _ => {
                in_flight.retain(|(a, _)| *a != key);
                if matches!(e, Event::Failed { .. } | Event::Skipped { .. }) {
                    self.failures
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                self.bar.inc(1);
                if self.bar.position() > self.bar.length().unwrap_or(0) {
                    self.bar.set_length(self.bar.position());
                }
                self.bar.println(line(e));
            }
        }
        self.show(&in_flight);
    }
}

/// Turns the terminal's echo of control characters (`ECHOCTL`) off while it lives, and back on
/// when dropped. A Ctrl-C is otherwise echoed as `^C` into the live line while it is drawn, and
/// the terminal's cursor no longer matches what the view believes: the line is then left behind
/// when the view clears it (seen in a real terminal).
pub struct QuietControlChars {
    #[cfg(unix)]
    saved: libc::termios,
}

impl QuietControlChars {
    #[cfg(unix)]
    fn new() -> Option<QuietControlChars> {
        const STDERR: i32 = 2;
        // SAFETY: tcgetattr/tcsetattr on a file descriptor this process holds, with a termios
        // value the first call fills in; nothing else is touched.
        unsafe {
            if libc::isatty(STDERR) != 1 {
                return None;
            }
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(STDERR, &mut t) != 0 {
                return None;
            }
            let saved = t;
            t.c_lflag &= !libc::ECHOCTL;
            if libc::tcsetattr(STDERR, libc::TCSANOW, &t) != 0 {
                return None;
            }
            Some(QuietControlChars { saved })
        }
    }

    #[cfg(not(unix))]
    fn new() -> Option<QuietControlChars> {
        None
    }
}

impl Drop for QuietControlChars {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: restores the settings read in `new` on the same descriptor.
        unsafe {
            libc::tcsetattr(2, libc::TCSANOW, &self.saved);
        }
    }
}
