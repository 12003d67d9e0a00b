//! Diagnostics with source locations, rendered rustc-style:
//!
//! ```text
//! error: Unsupported argument "pre_shared_key"
//!   --> net/main.tf:12:3
//!    |
//! 12 |   pre_shared_key = "x"
//!    |   ^^^^^^^^^^^^^^
//!    = help: did you mean "pre_share_key"?
//! ```

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A range in a source file. Lines and columns are 1-based; columns count characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub file: Arc<str>,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Span {
    /// Builds a span from byte offsets into `source`.
    pub fn from_offsets(file: Arc<str>, source: &str, start: usize, end: usize) -> Span {
        let (line, column) = line_col(source, start);
        let (end_line, end_column) = line_col(source, end.max(start));
        Span {
            file,
            line,
            column,
            end_line,
            end_column,
        }
    }

    pub fn point(file: Arc<str>, line: usize, column: usize) -> Span {
        Span {
            file,
            line,
            column,
            end_line: line,
            end_column: column + 1,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// 1-based line and character column of a byte offset (clamped to the source).
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

/// One problem found in the user's input (or state), with where and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// The text of the first line of the span, for rendering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: None,
            span: None,
            source_line: None,
            help: None,
        }
    }

    pub fn warning(summary: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary)
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Attaches a span and the source line it starts on (taken from `source`).
    pub fn with_span(mut self, span: Span, source: Option<&str>) -> Self {
        if let Some(src) = source {
            self.source_line = src
                .lines()
                .nth(span.line.saturating_sub(1))
                .map(str::to_string);
        }
        self.span = Some(span);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Characters a terminal would act on instead of showing: control characters and the
/// bidirectional-text controls (which reorder what is displayed).
fn is_terminal_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` with terminal controls written as escapes (`\u{1b}`), line feeds and tabs kept: text from a
/// hostile file must not drive the user's terminal.
fn shown(s: &str) -> std::borrow::Cow<'_, str> {
    if !s
        .chars()
        .any(|c| is_terminal_control(c) && c != '\n' && c != '\t')
    {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_terminal_control(c) && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{label}: {}", shown(&self.summary))?;
        if let Some(span) = &self.span {
            let gutter = span.line.to_string().len();
            writeln!(f, "{:gutter$}--> {}", "", shown(&span.to_string()))?;
            if let Some(line) = &self.source_line {
                // One character for one, so the caret below stays in place.
                let line: String = line
                    .chars()
                    .map(|c| {
                        if is_terminal_control(c) && c != '\t' {
                            '\u{FFFD}'
                        } else {
                            c
                        }
                    })
                    .collect();
                let line = &line;
                writeln!(f, "{:gutter$} |", "")?;
                writeln!(f, "{} | {}", span.line, line)?;
                // Never wider than the line as shown (long lines are clipped).
                let rest = line.chars().count().saturating_sub(span.column - 1).max(1);
                let width = if span.end_line == span.line && span.end_column > span.column {
                    (span.end_column - span.column).min(rest)
                } else {
                    rest
                };
                let pad: String = line
                    .chars()
                    .take(span.column.saturating_sub(1))
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                writeln!(f, "{:gutter$} | {pad}{}", "", "^".repeat(width.max(1)))?;
            }
            if let Some(detail) = &self.detail {
                writeln!(f, "{:gutter$} = {}", "", shown(detail))?;
            }
            if let Some(help) = &self.help {
                writeln!(f, "{:gutter$} = help: {}", "", shown(help))?;
            }
        } else {
            if let Some(detail) = &self.detail {
                writeln!(f, "  {}", shown(detail))?;
            }
            if let Some(help) = &self.help {
                writeln!(f, "  help: {}", shown(help))?;
            }
        }
        Ok(())
    }
}

/// A collection of diagnostics; errors make an operation fail, warnings do not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }
    /// Sorted by file, line, column, for stable output.
    pub fn sorted(mut self) -> Self {
        self.0
            .sort_by(|a, b| a.span.cmp(&b.span).then_with(|| a.summary.cmp(&b.summary)));
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let src = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        // offset of '=' on line 2: "bé " is 4 bytes, 3 chars
        assert_eq!(line_col(src, 10), (2, 4));
    }

    #[test]
    fn renders_location_snippet_and_help() {
        let src = "resource \"x\" \"y\" {\n  pre_shared_key = \"k\"\n}\n";
        let start = src.find("pre_shared_key").unwrap();
        let span = Span::from_offsets("main.tf".into(), src, start, start + "pre_shared_key".len());
        let d = Diagnostic::error("Unsupported argument \"pre_shared_key\"")
            .with_span(span, Some(src))
            .with_help("did you mean \"pre_share_key\"?");
        let out = d.to_string();
        assert!(out.contains("--> main.tf:2:3"), "{out}");
        assert!(out.contains("2 |   pre_shared_key = \"k\""), "{out}");
        assert!(out.contains("  ^^^^^^^^^^^^^^\n"), "{out}");
        assert!(
            out.contains("help: did you mean \"pre_share_key\"?"),
            "{out}"
        );
    }

    #[test]
    fn the_caret_is_never_wider_than_the_shown_line() {
        // A span over a 1 MB string whose line is shown clipped.
        let span = Span {
            file: "main.tf".into(),
            line: 2,
            column: 12,
            end_line: 2,
            end_column: 12 + (1 << 20),
        };
        let mut d = Diagnostic::error("Invalid value for \"name\"");
        d.span = Some(span);
        d.source_line = Some(format!("  name   = \"{}...", "a".repeat(380)));
        let out = d.to_string();
        assert!(out.len() < 2048, "{} bytes", out.len());
        assert!(out.contains(&format!(" {}\n", "^".repeat(384))), "{out}");
    }

    #[test]
    fn terminal_controls_from_the_input_are_not_sent_to_the_terminal() {
        let mut d = Diagnostic::error("Unsupported resource type \"gw\u{1b}[2J\"")
            .with_detail("got \u{1b}]0;title\u{7}\nsecond line\twith a tab")
            .with_help("remove the \u{202e} character");
        d.span = Some(Span {
            file: "m\u{1b}.tf".into(),
            line: 1,
            column: 5,
            end_line: 1,
            end_column: 8,
        });
        d.source_line = Some("a\u{1b}[2Jbcdef".to_string());
        let out = d.to_string();
        assert!(
            !out.chars()
                .any(|c| is_terminal_control(c) && c != '\n' && c != '\t'),
            "{out:?}"
        );
        assert!(
            out.contains("Unsupported resource type \"gw\\u{1b}[2J\""),
            "{out}"
        );
        assert!(out.contains("--> m\\u{1b}.tf:1:5"), "{out}");
        assert!(out.contains("1 | a\u{FFFD}[2Jbcdef\n"), "{out}");
        assert!(out.contains("  |     ^^^\n"), "{out}");
        assert!(
            out.contains("got \\u{1b}]0;title\\u{7}\nsecond line\twith a tab"),
            "{out}"
        );
        assert!(out.contains("remove the \\u{202e} character"), "{out}");
    }
}
