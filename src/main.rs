//! The `tunnelform` binary: a thin shell around `tunnelform_cli`.

/// mimalloc rather than the system allocator: a plan builds and drops millions of small maps and
/// strings on several threads, where glibc's malloc spent a sixth of the time (BENCHMARKS.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tunnelform_cli::main()
}
