//! `tunnelform fmt`: canonical layout that keeps every comment and every line break the author
//! chose inside expressions.
//!
//! The formatter works on the tokens of [`crate::lexer`], not on the syntax tree: it re-indents each line (two spaces
//! per open bracket level), normalises the spacing between tokens, aligns the `=` of
//! consecutive arguments, collapses blank lines and puts one blank line after each top-level
//! block. Strings, heredocs and comments are copied verbatim. The result is parsed again and
//! compared with the input's syntax tree; if they differ (a formatter bug), the input is
//! returned unchanged rather than risk changing the meaning of a file.

use tunnelform_model::Diagnostics;

use crate::lexer::{tokenize, TokenKind};
use crate::lower;
use crate::source::{SourceFile, Sources};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Number(String),
    /// A quoted string with its quotes, verbatim (templates included).
    Str(String),
    /// `<<EOT` / `<<-EOT` and, separately, the body lines up to and including the delimiter line.
    Heredoc {
        header: String,
        body: String,
    },
    Punct(String),
    /// `# ...`, `// ...` or `/* ... */`, verbatim.
    Comment(String),
    Newline,
}

impl Tok {
    fn text(&self) -> &str {
        match self {
            Tok::Ident(s) | Tok::Number(s) | Tok::Str(s) | Tok::Punct(s) | Tok::Comment(s) => s,
            Tok::Heredoc { header, .. } => header,
            Tok::Newline => "\n",
        }
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self, Tok::Punct(x) if x == p)
    }
    fn is_opener(&self) -> bool {
        matches!(self, Tok::Punct(x) if x == "{" || x == "[" || x == "(")
    }
    fn is_closer(&self) -> bool {
        matches!(self, Tok::Punct(x) if x == "}" || x == "]" || x == ")")
    }
}

/// The formatter's view of the tokens: their text, owned.
fn lex(src: &str) -> Vec<Tok> {
    tokenize(src)
        .into_iter()
        .map(|t| {
            let text = t.text(src);
            match t.kind {
                TokenKind::Newline => Tok::Newline,
                // Line comments lose trailing blanks; block comments are verbatim.
                TokenKind::Comment if text.starts_with("/*") => Tok::Comment(text.to_string()),
                TokenKind::Comment => Tok::Comment(text.trim_end().to_string()),
                TokenKind::Str { .. } => Tok::Str(text.to_string()),
                TokenKind::Heredoc {
                    header_end,
                    body_start,
                    ..
                } => Tok::Heredoc {
                    header: src[t.start..header_end].to_string(),
                    body: src[body_start.min(t.end)..t.end]
                        .trim_end_matches('\r')
                        .to_string(),
                },
                TokenKind::Ident => Tok::Ident(text.to_string()),
                TokenKind::Number => Tok::Number(text.to_string()),
                TokenKind::Punct => Tok::Punct(text.to_string()),
            }
        })
        .collect()
}

const BINARY: &[&str] = &[
    "=", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "+", "*", "/", "%", "=>", "?", ":",
];
const KEYWORDS_BEFORE_BRACKET: &[&str] = &["in", "if", "for", "else", "endif", "endfor"];

/// Whether a `-` at `idx` is a unary minus.
fn unary_minus(line: &[Tok], idx: usize) -> bool {
    match idx.checked_sub(1).map(|p| &line[p]) {
        None => true,
        Some(Tok::Punct(p)) => p != ")" && p != "]" && p != "}",
        Some(Tok::Ident(w)) => KEYWORDS_BEFORE_BRACKET.contains(&w.as_str()),
        _ => false,
    }
}

/// Renders one logical line's tokens with canonical spacing.
fn render_line(line: &[Tok]) -> String {
    let mut out = String::new();
    for (i, t) in line.iter().enumerate() {
        if i > 0 && space_between(line, i) {
            out.push(' ');
        }
        match t {
            Tok::Heredoc { header, body } => {
                out.push_str(header);
                out.push('\n');
                out.push_str(body);
            }
            other => out.push_str(other.text()),
        }
    }
    out
}

fn space_between(line: &[Tok], i: usize) -> bool {
    let a = &line[i - 1];
    let b = &line[i];
    if matches!(b, Tok::Comment(_)) {
        return true;
    }
    // After a unary operator: nothing.
    if a.is_punct("!") || (a.is_punct("-") && unary_minus(line, i - 1)) {
        return false;
    }
    // Splats: [*] and .*
    if b.is_punct("*") && (a.is_punct("[") || a.is_punct(".")) {
        return false;
    }
    if a.is_punct("*") && b.is_punct("]") && i >= 2 && line[i - 2].is_punct("[") {
        return false;
    }
    if let Tok::Punct(p) = b {
        match p.as_str() {
            "," | ")" | "]" | "." | "..." | "::" => return false,
            "}" => return !a.is_punct("{"),
            "(" => {
                return match a {
                    Tok::Ident(w) => KEYWORDS_BEFORE_BRACKET.contains(&w.as_str()),
                    Tok::Punct(x) => !matches!(x.as_str(), "(" | "[" | "::" | "!" | "."),
                    _ => true,
                }
            }
            "[" => {
                return match a {
                    Tok::Ident(w) => KEYWORDS_BEFORE_BRACKET.contains(&w.as_str()),
                    Tok::Punct(x) => !matches!(x.as_str(), ")" | "]" | "(" | "[" | "." | "!" | "}"),
                    Tok::Str(_) | Tok::Number(_) => false,
                    _ => true,
                }
            }
            _ => {}
        }
    }
    if let Tok::Punct(p) = a {
        match p.as_str() {
            "(" | "[" | "." | "::" => return false,
            "{" => return true,
            _ => {}
        }
    }
    if b.is_punct("-") {
        // Binary minus gets spaces; a unary one is spaced like an operand.
        return true;
    }
    if let Tok::Punct(p) = b {
        if BINARY.contains(&p.as_str()) || p == "{" {
            return true;
        }
    }
    if let Tok::Punct(p) = a {
        if BINARY.contains(&p.as_str())
            || p == ","
            || p == "-"
            || p == "..."
            || p == "}"
            || p == ")"
            || p == "]"
        {
            return true;
        }
        return false;
    }
    true
}

struct Line {
    toks: Vec<Tok>,
    indent: usize,
    blank: bool,
}

/// Formats HCL source canonically (see the module documentation). Idempotent.
pub fn format_source(src: &str, file_name: &str) -> Result<String, Diagnostics> {
    // A UTF-8 byte order mark is not part of the text (the canonical form has none).
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let original = lower::with_big_stack(|| hcl_edit::parser::parse_body(src).map(|_| ()));
    if original.is_err() {
        // Report the syntax error the way the loader does.
        let mut sources = Sources::default();
        let id = sources.add(SourceFile::new(file_name, src));
        let err = lower::with_big_stack(|| lower::parse_body(id, src).err());
        let d = match err {
            Some(e) => e.into_diag(&sources),
            None => tunnelform_model::Diagnostic::error(format!("{file_name} could not be parsed")),
        };
        return Err(d.into());
    }
    let formatted = lower::with_big_stack(|| layout(src));
    // Safety net: the meaning and the comments must be unchanged.
    let same = lower::with_big_stack(|| {
        match (
            hcl_edit::parser::parse_body(src),
            hcl_edit::parser::parse_body(&formatted),
        ) {
            (Ok(a), Ok(b)) => a == b && comments(src) == comments(&formatted),
            _ => false,
        }
    });
    if !same {
        tracing::warn!(
            file = file_name,
            "formatting would change the meaning of the file; left unchanged"
        );
        return Ok(src.to_string());
    }
    Ok(formatted)
}

fn comments(src: &str) -> Vec<String> {
    lex(src)
        .into_iter()
        .filter_map(|t| match t {
            Tok::Comment(c) => Some(c.trim().to_string()),
            _ => None,
        })
        .collect()
}

fn layout(src: &str) -> String {
    let toks = lex(src);
    // Logical lines.
    let mut raw_lines: Vec<Vec<Tok>> = vec![Vec::new()];
    for t in toks {
        if t == Tok::Newline {
            raw_lines.push(Vec::new());
        } else if let Some(l) = raw_lines.last_mut() {
            l.push(t);
        }
    }
    // Indentation: each open bracket remembers the indent of the line that opened it.
    let mut stack: Vec<usize> = Vec::new();
    let mut lines: Vec<Line> = Vec::with_capacity(raw_lines.len());
    for toks in raw_lines {
        if toks.is_empty() {
            lines.push(Line {
                toks,
                indent: 0,
                blank: true,
            });
            continue;
        }
        let indent = if toks[0].is_closer() {
            stack.last().copied().unwrap_or(0)
        } else {
            stack.last().map(|i| i + 1).unwrap_or(0)
        };
        for t in &toks {
            if t.is_opener() {
                stack.push(indent);
            } else if t.is_closer() {
                stack.pop();
            }
        }
        lines.push(Line {
            toks,
            indent,
            blank: false,
        });
    }

    // Blank lines: none at the start or the end, none right inside brackets, at most one in a
    // row, and one after every top-level block.
    let mut kept: Vec<Line> = Vec::with_capacity(lines.len());
    let mut pending_blank = false;
    let mut need_blank = false;
    for line in lines {
        if line.blank {
            pending_blank = true;
            continue;
        }
        let prev_opens = kept
            .last()
            .is_some_and(|p: &Line| p.toks.last().is_some_and(Tok::is_opener));
        let closes = line.toks[0].is_closer();
        if !kept.is_empty()
            && ((pending_blank && !prev_opens && !closes) || (need_blank && !closes))
        {
            kept.push(Line {
                toks: Vec::new(),
                indent: 0,
                blank: true,
            });
        }
        pending_blank = false;
        need_blank = ends_top_level_block(&line);
        kept.push(line);
    }

    // Alignment of `=` in runs of consecutive argument lines with the same indent.
    let rendered: Vec<String> = kept.iter().map(|l| render_line(&l.toks)).collect();
    let mut out = String::with_capacity(src.len() + 64);
    let mut i = 0;
    while i < kept.len() {
        // Single-line arguments only: one whose value opens a multi-line bracket ends the run
        // (as terraform fmt does).
        let key_width = |l: &Line| -> Option<usize> {
            if l.blank || l.toks.len() < 2 || !l.toks[1].is_punct("=") {
                return None;
            }
            let net: isize = l
                .toks
                .iter()
                .map(|t| {
                    if t.is_opener() {
                        1
                    } else if t.is_closer() {
                        -1
                    } else {
                        0
                    }
                })
                .sum();
            if net != 0 {
                return None;
            }
            match &l.toks[0] {
                Tok::Ident(k) | Tok::Str(k) => Some(k.chars().count()),
                _ => None,
            }
        };
        let Some(_) = key_width(&kept[i]) else {
            push_line(&mut out, &kept[i], &rendered[i]);
            i += 1;
            continue;
        };
        let mut j = i;
        let mut width = 0;
        while j < kept.len() && kept[j].indent == kept[i].indent {
            match key_width(&kept[j]) {
                Some(w) => width = width.max(w),
                None => break,
            }
            j += 1;
        }
        for l in &kept[i..j] {
            let key = l.toks[0].text();
            let rest = render_line(&l.toks[1..]);
            let pad = width - key.chars().count();
            let text = format!("{key}{} {rest}", " ".repeat(pad));
            push_line(&mut out, l, &text);
        }
        i = j;
    }
    let trimmed = out.trim_end_matches('\n');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}\n")
    }
}

fn push_line(out: &mut String, l: &Line, text: &str) {
    if !l.blank {
        for _ in 0..l.indent {
            out.push_str("  ");
        }
        out.push_str(text.trim_end());
    }
    out.push('\n');
}

/// A line that closes a top-level block (`}` back at indent 0), or a one-line top-level block.
fn ends_top_level_block(l: &Line) -> bool {
    let last_is_close = l
        .toks
        .iter()
        .rev()
        .find(|t| !matches!(t, Tok::Comment(_)))
        .is_some_and(|t| t.is_punct("}"));
    l.indent == 0
        && last_is_close
        && (l.toks[0].is_punct("}") || matches!(l.toks[0], Tok::Ident(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_rules() {
        let f = |s: &str| format_source(s, "t.tf").unwrap();
        assert_eq!(f("a=1\n"), "a = 1\n");
        assert_eq!(f("a = [ 1,2 , 3 ]\n"), "a = [1, 2, 3]\n");
        assert_eq!(f("a = f( x , y )\n"), "a = f(x, y)\n");
        assert_eq!(f("a = x [0] . y\n"), "a = x[0].y\n");
        assert_eq!(f("a = x[*].id\n"), "a = x[*].id\n");
        assert_eq!(
            f("a = -1\nb = 2-1\nc = ! x\n"),
            "a = -1\nb = 2 - 1\nc = !x\n"
        );
        assert_eq!(f("a = {x=1}\n"), "a = { x = 1 }\n");
        assert_eq!(f("a = {}\n"), "a = {}\n");
        assert_eq!(
            f("a = [for k,v in m:k if v]\n"),
            "a = [for k, v in m : k if v]\n"
        );
        assert_eq!(
            f("a = {for k, v in m: k=>v...}\n"),
            "a = { for k, v in m : k => v... }\n"
        );
        assert_eq!(f("a = b ? c : d\n"), "a = b ? c : d\n");
        assert_eq!(f("a = x.0.y\n"), "a = x.0.y\n");
        assert_eq!(f("a = f(x...)\n"), "a = f(x...)\n");
        assert_eq!(f("a = \"${ x }\"   # c\n"), "a = \"${ x }\" # c\n");
        assert_eq!(f("a = 1.5e3\n"), "a = 1.5e3\n");
        assert_eq!(f("a = x-y\n"), "a = x-y\n");
        assert_eq!(f("a = (1 + 2) * 3\n"), "a = (1 + 2) * 3\n");
        assert_eq!(f("a = [-1, -x]\n"), "a = [-1, -x]\n");
    }

    #[test]
    fn indentation_alignment_and_blank_lines() {
        let src = "\n\n# top\nresource \"a\" \"b\" {\nname = \"x\"\n    longer_name = 1 # trailing\n\n\n\n  nested {\nx = 1\n  }\n\n}\nvariable \"v\" {}\n\n\n";
        let want = "# top\nresource \"a\" \"b\" {\n  name        = \"x\"\n  longer_name = 1 # trailing\n\n  nested {\n    x = 1\n  }\n}\n\nvariable \"v\" {}\n";
        assert_eq!(format_source(src, "t.tf").unwrap(), want);
        assert_eq!(format_source(want, "t.tf").unwrap(), want);
    }

    #[test]
    fn heredocs_and_block_comments_are_verbatim() {
        let src = "a = <<EOT\n  keep   this\n    as is\nEOT\n/* multi\n   line */\nb=1\n";
        let out = format_source(src, "t.tf").unwrap();
        assert_eq!(
            out,
            "a = <<EOT\n  keep   this\n    as is\nEOT\n/* multi\n   line */\nb = 1\n"
        );
    }

    #[test]
    fn multi_bracket_lines_indent_once() {
        let src = "x = concat([\n1,\n], y)\n";
        assert_eq!(
            format_source(src, "t.tf").unwrap(),
            "x = concat([\n  1,\n], y)\n"
        );
    }

    #[test]
    fn syntax_errors_are_reported() {
        let e = format_source("a = [1,\n", "bad.tf").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("bad.tf:"), "{s}");
    }
}
