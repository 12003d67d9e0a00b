//! tunnelform's command-line layer: arguments, rendering, exit codes. The only place that prints.

#[macro_use]
mod output;
mod ahead;
mod args;
mod backend;
mod commands;
mod context;
mod gitops;
mod leader;
mod progress;
mod reset;
mod watch;
mod webhook;
mod workspace;

use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;

/// Exit codes: 0 success, 1 error, 2 changes present (`plan --detailed-exitcode`), 130 interrupted.
pub fn main() -> ExitCode {
    let cli = Cli::parse_from(args::terraform_style(std::env::args_os()));
    init_logging();
    if let Some(dir) = &cli.chdir {
        if let Err(e) = std::env::set_current_dir(dir) {
            errln!(
                "error: cannot change to the directory {} given with -chdir: {e}",
                dir.display()
            );
            return ExitCode::from(1);
        }
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            errln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = match rt.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            errln!("{}", output::escape_controls(&context::render_error(&e)));
            ExitCode::from(1)
        }
    };
    // The runtime's threads wind down while a closing pg session ends; then it is waited for.
    drop(rt);
    backend::finish_closing();
    code
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("TUNNELFORM_LOG")
        .ok()
        .filter(|s| !s.is_empty());
    if let Some(f) = filter {
        use std::io::IsTerminal;
        let ansi = std::io::stderr().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let _ = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(f))
            .with_ansi(ansi)
            .with_writer(std::io::stderr)
            .try_init();
    }
}
