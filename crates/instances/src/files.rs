//! Reading configuration and variable files within the size budget.

use tunnelform_model::{Diagnostic, Span};

use crate::api::MAX_CONFIG_BYTES;

/// Reads a configuration or variable file: at most `budget` bytes (the remaining share of
/// [`MAX_CONFIG_BYTES`], decremented), valid UTF-8. Errors name the file.
pub fn read_source_file(
    path: &std::path::Path,
    budget: &mut usize,
) -> Result<String, Box<Diagnostic>> {
    use std::io::Read;
    let shown = path.display().to_string();
    let at_file = |d: Diagnostic| {
        let mut d = d;
        d.span = Some(Span::point(shown.as_str().into(), 1, 1));
        Box::new(d)
    };
    let too_big = || {
        at_file(
            Diagnostic::error(format!("Configuration too large: {shown}"))
                .with_detail(format!(
                    "all configuration and variable files together may be at most {} MiB",
                    MAX_CONFIG_BYTES / (1024 * 1024)
                ))
                .with_help(
                    "split the configuration into several directories, or remove generated content",
                ),
        )
    };
    let file = std::fs::File::open(path).map_err(|e| {
        Box::new(
            Diagnostic::error(format!("Cannot read {shown}: {e}"))
                .with_help("check that the file exists and is readable"),
        )
    })?;
    if let Ok(meta) = file.metadata() {
        if meta.len() > *budget as u64 {
            return Err(too_big());
        }
    }
    let mut bytes = Vec::new();
    file.take(*budget as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            Box::new(
                Diagnostic::error(format!("Cannot read {shown}: {e}"))
                    .with_help("check that the file is readable"),
            )
        })?;
    if bytes.len() > *budget {
        return Err(too_big());
    }
    *budget -= bytes.len();
    // A UTF-8 byte order mark (some Windows editors write one) is not part of the text.
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let prefix = String::from_utf8_lossy(&bytes[..valid]);
        let line = prefix.matches('\n').count() + 1;
        let column = prefix
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count() + 1)
            .unwrap_or(1);
        let mut d = Diagnostic::error(format!("{shown} is not valid UTF-8"))
            .with_detail(format!(
                "invalid byte 0x{:02x} at line {line}, column {column}",
                bytes.get(valid).copied().unwrap_or(0)
            ))
            .with_help("configuration files must be UTF-8 text; re-save the file as UTF-8");
        d.span = Some(Span::point(shown.as_str().into(), line, column));
        Box::new(d)
    })
}
