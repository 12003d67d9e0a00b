//! Every write to standard output and standard error goes through here. `println!` and
//! `eprintln!` panic when the reader has gone away (`tunnelform destroy 2>&1 | tail`, then `tail`
//! killed): a panic in the Ctrl-C handler once lost the interrupt, and a destroy ran to the end.
//! Here a write that fails ends that stream's output quietly: nothing panics, later writes to the
//! stream are dropped, and the command goes on (or stops, where its output is its product).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

fn write_to(
    mut w: impl Write,
    gone: &AtomicBool,
    args: std::fmt::Arguments<'_>,
) -> std::io::Result<()> {
    if gone.load(Ordering::Relaxed) {
        return Err(std::io::ErrorKind::BrokenPipe.into());
    }
    let r = w.write_fmt(args).and_then(|()| w.flush());
    if r.is_err() {
        gone.store(true, Ordering::Relaxed);
    }
    r
}

/// Writes to standard output; the error tells a command whose output is its product (a plan, a
/// document) that nobody reads it any more.
pub fn stdout(args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    write_to(std::io::stdout().lock(), &STDOUT_GONE, args)
}

/// Writes to standard output where losing the text must not stop anything (progress lines, a
/// summary after the work is done).
pub fn stdout_lossy(args: std::fmt::Arguments<'_>) {
    let _ = stdout(args);
}

/// Writes to standard error; a failure is ignored (there is nowhere left to report it).
pub fn stderr(args: std::fmt::Arguments<'_>) {
    let _ = write_to(std::io::stderr().lock(), &STDERR_GONE, args);
}

/// Bytes to standard output (generated completions).
pub fn stdout_bytes(bytes: &[u8]) -> std::io::Result<()> {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return Err(std::io::ErrorKind::BrokenPipe.into());
    }
    let mut o = std::io::stdout().lock();
    let r = o.write_all(bytes).and_then(|()| o.flush());
    if r.is_err() {
        STDOUT_GONE.store(true, Ordering::Relaxed);
    }
    r
}

/// `text` with its control characters (but newline and tab) escaped as `\u{1b}`: an error may
/// quote a file's contents or a path, and those must not send escape sequences to the terminal.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `print!` for command output: `?` stops the command with an error when standard output is gone.
macro_rules! out {
    ($($arg:tt)*) => {
        anyhow::Context::context(
            $crate::output::stdout(format_args!($($arg)*)),
            "writing to standard output",
        )?
    };
}

/// `println!` for command output (see [`out!`]).
macro_rules! outln {
    () => {
        out!("\n")
    };
    ($($arg:tt)*) => {
        out!("{}\n", format_args!($($arg)*))
    };
}

/// `println!` whose loss does not matter to the command (never fails, never panics).
macro_rules! noteln {
    ($($arg:tt)*) => {
        $crate::output::stdout_lossy(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    () => {
        $crate::output::stderr(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}
