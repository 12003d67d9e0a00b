//! The configuration loader, as `plan` drives it: the input is written as `main.tf` (and, after a
//! line `#--tfvars--`, the rest as `terraform.tfvars`) in a directory under /dev/shm, then
//! `Config::load`, `block_order`, `expand_block` of every block with no resource values known,
//! cross-instance validation, outputs, imports, the digest, and `tunnelform fmt` on the text.
//!
//! Oracles: no panic, no stack overflow, no hang (libFuzzer's -timeout), bounded memory
//! (-rss_limit_mb), `block_order` never fails on a loaded configuration, every error names a
//! place (file:line:column, both at least 1), and no rendered error carries a control character
//! from the input (terminal escape sequences, bidirectional overrides).

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tunnelform_config::{Config, Diagnostics, NoLookup, VarInputs};
use tunnelform_syntax::format_source;

const TFVARS_MARKER: &[u8] = b"\n#--tfvars--\n";

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("tunnelform-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("creating the fuzz directory");
        d
    })
}

/// Errors without a place, which the loader is allowed to give.
fn may_lack_a_span(summary: &str) -> bool {
    summary.starts_with("No value for required variable")
}

fn is_terminal_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn check_located(diags: &Diagnostics, stage: &str) {
    for d in diags.iter() {
        // What the user sees carries no terminal controls from the input (escape sequences,
        // bidirectional overrides): only line feeds and tabs.
        let shown = d.to_string();
        assert!(
            !shown.chars().any(is_terminal_control),
            "{stage}: a control character in {shown:?}"
        );
        if !d.is_error() || may_lack_a_span(&d.summary) {
            continue;
        }
        let span = d
            .span
            .as_ref()
            .unwrap_or_else(|| panic!("{stage}: an error without a place: {d}"));
        assert!(
            span.line >= 1 && span.column >= 1,
            "{stage}: bad place {}:{}:{} for {d}",
            span.file,
            span.line,
            span.column
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let dir = dir();
    let (main_tf, tfvars) = match data
        .windows(TFVARS_MARKER.len())
        .position(|w| w == TFVARS_MARKER)
    {
        Some(i) => (&data[..i + 1], Some(&data[i + TFVARS_MARKER.len()..])),
        None => (data, None),
    };
    std::fs::write(dir.join("main.tf"), main_tf).expect("writing main.tf");
    let tfvars_path = dir.join("terraform.tfvars");
    match tfvars {
        Some(t) => std::fs::write(&tfvars_path, t).expect("writing terraform.tfvars"),
        None => {
            let _ = std::fs::remove_file(&tfvars_path);
        }
    }

    match Config::load(dir, &VarInputs::default()) {
        Err(diags) => {
            assert!(diags.has_errors(), "load failed without an error: {diags}");
            check_located(&diags, "load");
        }
        Ok((cfg, warnings)) => {
            check_located(&warnings, "load warnings");
            let order = cfg
                .block_order()
                .expect("block_order never fails on a loaded configuration");
            let mut all = Vec::new();
            for block in &order {
                match cfg.expand_block(block, &NoLookup) {
                    Ok(instances) => all.extend(instances),
                    Err(d) => check_located(&d, "expand"),
                }
            }
            let d = cfg.validate_instances(&all);
            check_located(&d, "validate_instances");
            if let Err(d) = cfg.outputs(&NoLookup) {
                check_located(&d, "outputs");
            }
            if let Err(d) = cfg.imports() {
                check_located(&d, "imports");
            }
            let _ = cfg.digest();
        }
    }

    if let Ok(text) = std::str::from_utf8(main_tf) {
        if let Ok(formatted) = format_source(text, "main.tf") {
            // Formatting its own output succeeds.
            if let Err(d) = format_source(&formatted, "main.tf") {
                panic!("fmt output does not parse again: {d}\n--- formatted ---\n{formatted}");
            }
        }
    }
});
