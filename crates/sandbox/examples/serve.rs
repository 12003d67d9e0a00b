//! A stand-alone sandbox with the `tunnelform sandbox` flags, for trying the sandbox and for the SDK interop
//! script before (or without) the CLI: `cargo run -p tunnelform-sandbox --example serve -- --listen 127.0.0.1:0`.
//! Prints `listening on http://HOST:PORT` first, then serves until Ctrl-C.

use clap::Parser;
use tunnelform_sandbox::{Sandbox, SandboxArgs};

#[derive(Parser)]
#[command(about = "Run the tunnelform sandbox (Tencent Cloud VPC/tag API emulator)")]
struct Cli {
    #[command(flatten)]
    args: SandboxArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match cli.args.into_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let handle = match Sandbox::start(config).await {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        println!("listening on {}", handle.url());
        let _ = tokio::signal::ctrl_c().await;
        match handle.shutdown().await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}
