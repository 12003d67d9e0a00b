//! tunnelform's command-line layer (placeholder until the reconciler lands).
use std::process::ExitCode;

pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
