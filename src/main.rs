//! The `tunnelform` binary: a thin shell around `tunnelform_cli`.
fn main() -> std::process::ExitCode {
    tunnelform_cli::main()
}
