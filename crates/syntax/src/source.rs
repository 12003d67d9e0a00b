//! Source files, byte spans and their conversion to `model::Span` with source lines.

use std::sync::Arc;

use tunnelform_model::{Diagnostic, Span};

/// A compact span inside one of the loaded sources (byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BSpan {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

impl BSpan {
    pub fn new(file: u32, range: std::ops::Range<usize>) -> BSpan {
        BSpan {
            file,
            start: clamp_u32(range.start),
            end: clamp_u32(range.end.max(range.start)),
        }
    }

    /// From `self`'s start to `other`'s end (same file).
    pub fn to(self, other: BSpan) -> BSpan {
        if self.file != other.file {
            return self;
        }
        BSpan {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

fn clamp_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

pub struct SourceFile {
    pub name: Arc<str>,
    pub text: Arc<str>,
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> SourceFile {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(clamp_u32(i + 1));
            }
        }
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let mut offset = (offset as usize).min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_idx = match self.line_starts.binary_search(&clamp_u32(offset)) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts[line_idx] as usize;
        let column = self.text[start..offset].chars().count() + 1;
        (line_idx + 1, column)
    }

    /// The text of a 1-based line (without its line ending).
    pub fn line_text(&self, line: usize) -> Option<&str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)? as usize;
        let end = self
            .line_starts
            .get(line)
            .map(|e| *e as usize)
            .unwrap_or(self.text.len());
        let s = self.text.get(start..end)?;
        Some(s.trim_end_matches(['\n', '\r']))
    }
}

#[derive(Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, file: SourceFile) -> u32 {
        self.files.push(file);
        clamp_u32(self.files.len() - 1)
    }

    pub fn get(&self, id: u32) -> Option<&SourceFile> {
        self.files.get(id as usize)
    }

    pub fn span(&self, b: BSpan) -> Span {
        match self.get(b.file) {
            Some(f) => {
                let (line, column) = f.line_col(b.start);
                let (end_line, end_column) = f.line_col(b.end);
                Span {
                    file: f.name.clone(),
                    line,
                    column,
                    end_line,
                    end_column,
                }
            }
            None => Span::point("<unknown>".into(), 1, 1),
        }
    }

    /// Attaches the span and its first source line.
    pub fn locate(&self, mut d: Diagnostic, b: BSpan) -> Diagnostic {
        let span = self.span(b);
        d.source_line = self
            .get(b.file)
            .and_then(|f| f.line_text(span.line))
            .map(clip_line);
        d.span = Some(span);
        d
    }

    /// Fills in the source line of a diagnostic whose span names one of these files.
    pub fn attach_line(&self, d: &mut Diagnostic) {
        if d.source_line.is_some() {
            return;
        }
        if let Some(span) = &d.span {
            if let Some(f) = self.files.iter().find(|f| f.name == span.file) {
                d.source_line = f.line_text(span.line).map(clip_line);
            }
        }
    }
}

/// Source lines shown in diagnostics are clipped (a minified 16 MiB line helps nobody).
/// A source line as diagnostics show it: at most 400 bytes, and with control characters (but tab)
/// and bidirectional-text controls replaced by U+FFFD, one character for one so the caret under
/// the line stays in place: a hostile file must not send terminal escape sequences or reorder the
/// text on the user's terminal.
pub fn clip_line(s: &str) -> String {
    const MAX: usize = 400;
    let mut end = s.len().min(MAX);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out: String = s[..end]
        .chars()
        .map(|c| if is_unsafe_to_show(c) { '\u{FFFD}' } else { c })
        .collect();
    if end < s.len() {
        out.push_str("...");
    }
    out
}

fn is_unsafe_to_show(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_lines_carry_no_terminal_controls() {
        assert_eq!(clip_line("a\u{1b}[2Jb\tc\u{7}"), "a\u{FFFD}[2Jb\tc\u{FFFD}");
        assert_eq!(clip_line("x = 1 # \u{202E}evil"), "x = 1 # \u{FFFD}evil");
        assert_eq!(clip_line("\0\0locals {}"), "\u{FFFD}\u{FFFD}locals {}");
        let long = "é".repeat(300);
        let clipped = clip_line(&long);
        assert!(
            clipped.ends_with("...") && clipped.len() <= 403,
            "{}",
            clipped.len()
        );
    }

    #[test]
    fn line_col_and_text() {
        let f = SourceFile::new("a.tf", "ab\ncdé f\n\nlast");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(7), (2, 4)); // after 'é' (2 bytes)
        assert_eq!(f.line_col(10), (3, 1));
        assert_eq!(f.line_col(11), (4, 1));
        assert_eq!(f.line_text(2), Some("cdé f"));
        assert_eq!(f.line_text(4), Some("last"));
        assert_eq!(f.line_text(5), None);
        assert_eq!(f.line_col(1000), (4, 5));
    }
}
