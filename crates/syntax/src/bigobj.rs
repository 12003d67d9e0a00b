//! Large object constructors (a 10,000-entry map of sites in a local or in terraform.tfvars)
//! parsed entry by entry.
//!
//! hcl-edit checks the uniqueness of object keys with a linear scan per key, so an object with
//! n entries costs O(n^2) to parse (seconds for 10,000 entries). Before parsing, the source is
//! scanned for object constructors with many entries; each entry's value is parsed on its own,
//! and the object is replaced by `{}` (padded with spaces, line breaks kept, so every other
//! offset stays valid) in the text handed to hcl-edit. The lowered object is put back in its
//! place afterwards. Anything unusual (a for expression, a complex key, an entry that does not
//! parse on its own) leaves the object to hcl-edit.

use std::collections::{HashMap, HashSet};

use crate::ast::{Expr, ExprKind, ObjKey};
use crate::error::SpanError;
use crate::lexer::{tokenize, TokenKind};
use crate::source::BSpan;

/// Parses one entry value: its text and its offset in the source.
pub(crate) type ParseValue<'a> = dyn FnMut(&str, usize) -> Option<(Expr, Vec<SpanError>)> + 'a;

/// Objects with at least this many entries are parsed entry by entry.
pub(crate) const BIG_OBJECT: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    Open(u8),
    Close(u8),
    Newline,
    Comma,
    /// A single `=` (not `==`, `=>`, `<=`...).
    Eq,
    Colon,
    Ident,
    Str,
    /// Numbers, operators, heredocs and anything else.
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    t: T,
    start: usize,
    end: usize,
}

/// The tokens that matter for finding object constructors and their entries (comments are left
/// out; numbers, heredocs and operators are all `Other`).
fn lex(src: &str) -> Vec<Tok> {
    tokenize(src)
        .into_iter()
        .filter_map(|t| {
            let kind = match t.kind {
                TokenKind::Newline => T::Newline,
                TokenKind::Comment => return None,
                TokenKind::Str { .. } => T::Str,
                TokenKind::Ident => T::Ident,
                TokenKind::Number | TokenKind::Heredoc { .. } => T::Other,
                TokenKind::Punct => match t.text(src) {
                    p @ ("{" | "[" | "(") => T::Open(p.as_bytes()[0]),
                    p @ ("}" | "]" | ")") => T::Close(p.as_bytes()[0]),
                    "," => T::Comma,
                    ":" => T::Colon,
                    "=" => T::Eq,
                    _ => T::Other,
                },
            };
            Some(Tok {
                t: kind,
                start: t.start,
                end: t.end,
            })
        })
        .collect()
}

/// The source with big objects blanked out, and their lowered replacements by start offset.
pub(crate) struct Prepared {
    pub masked: Option<String>,
    pub objects: HashMap<usize, Expr>,
    pub errors: Vec<SpanError>,
}

/// Finds big object constructors in `src` and parses them entry by entry. `expr_mode`: `src` is
/// a single expression (a `{` at its start is an object). `parse_value` parses one entry's
/// value (its text and offset in `src`).
pub(crate) fn prepare(
    file: u32,
    src: &str,
    expr_mode: bool,
    parse_value: &mut ParseValue<'_>,
) -> Prepared {
    prepare_at(file, src, 0, expr_mode, parse_value)
}

/// [`prepare`] for `src` found at offset `base` of its file (a piece of a big file): spans,
/// the offsets handed to `parse_value` and the keys of the lowered objects are the file's.
pub(crate) fn prepare_at(
    file: u32,
    src: &str,
    base: usize,
    expr_mode: bool,
    parse_value: &mut ParseValue<'_>,
) -> Prepared {
    let mut out = Prepared {
        masked: None,
        objects: HashMap::new(),
        errors: Vec::new(),
    };
    if src.len() < 4096 {
        return out;
    }
    let toks = lex(src);
    // Matching close for each open, and the number of separators directly inside each one
    // (an upper bound of its entries), in one pass.
    let mut close_of = vec![usize::MAX; toks.len()];
    let mut separators = vec![0usize; toks.len()];
    let mut stack = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t.t {
            T::Open(_) => stack.push(i),
            T::Close(_) => {
                if let Some(o) = stack.pop() {
                    close_of[o] = i;
                }
            }
            T::Newline | T::Comma => {
                if let Some(&o) = stack.last() {
                    separators[o] += 1;
                }
            }
            _ => {}
        }
    }
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        if t.t != T::Open(b'{') || close_of[i] == usize::MAX || separators[i] + 1 < BIG_OBJECT {
            i += 1;
            continue;
        }
        let prev = toks[..i].iter().rev().find(|p| p.t != T::Newline);
        let is_object = match prev {
            None => expr_mode,
            Some(p) => matches!(p.t, T::Eq | T::Colon | T::Comma | T::Open(_) | T::Other),
        };
        let close = close_of[i];
        if is_object {
            let at = Located { file, src, base };
            if let Some(e) = object(at, &toks[i..=close], parse_value, &mut out.errors) {
                out.objects.insert(t.start + base, e);
                ranges.push((t.start, toks[close].end));
                i = close + 1;
                continue;
            }
        }
        i += 1;
    }
    if !ranges.is_empty() {
        let mut bytes = src.as_bytes().to_vec();
        for (s, e) in ranges {
            for b in &mut bytes[s..e] {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
            // The braces stay where they were: `{`, blank lines, `}` is an empty object.
            bytes[s] = b'{';
            bytes[e - 1] = b'}';
        }
        out.masked = String::from_utf8(bytes).ok();
        if out.masked.is_none() {
            out.objects.clear();
        }
    }
    out
}

/// Parses one object constructor (tokens from `{` to `}`) entry by entry, if it is big and
/// simple enough.
/// A text and where it is: its file and its offset there.
#[derive(Clone, Copy)]
struct Located<'s> {
    file: u32,
    src: &'s str,
    base: usize,
}

impl Located<'_> {
    fn span(&self, from: &Tok, to: &Tok) -> BSpan {
        BSpan::new(self.file, from.start + self.base..to.end + self.base)
    }
}

fn object(
    at: Located<'_>,
    toks: &[Tok],
    parse_value: &mut ParseValue<'_>,
    errors: &mut Vec<SpanError>,
) -> Option<Expr> {
    let (src, base) = (at.src, at.base);
    let inner = &toks[1..toks.len() - 1];
    if inner
        .first()
        .is_some_and(|t| t.t == T::Ident && &src[t.start..t.end] == "for")
    {
        return None;
    }
    // Split into entries at depth 0 (relative to the object).
    let mut entries: Vec<&[Tok]> = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (k, t) in inner.iter().enumerate() {
        match t.t {
            T::Open(_) => depth += 1,
            T::Close(_) => depth = depth.saturating_sub(1),
            T::Newline | T::Comma if depth == 0 => {
                if k > start {
                    entries.push(&inner[start..k]);
                }
                start = k + 1;
            }
            _ => {}
        }
    }
    if start < inner.len() {
        entries.push(&inner[start..]);
    }
    if entries.len() < BIG_OBJECT {
        return None;
    }
    let mut items = Vec::with_capacity(entries.len());
    let mut seen: HashSet<String> = HashSet::with_capacity(entries.len());
    let mut local_errors = Vec::new();
    for entry in entries {
        let sep = entry.iter().position(|t| matches!(t.t, T::Eq | T::Colon))?;
        let key_toks = &entry[..sep];
        let value_toks = &entry[sep + 1..];
        let (first, last) = (value_toks.first()?, value_toks.last()?);
        let key = match key_toks {
            [k] if k.t == T::Ident => {
                let name = &src[k.start..k.end];
                if !seen.insert(name.to_string()) {
                    local_errors.push(duplicate(at.span(k, k)));
                }
                ObjKey::Ident(name.to_string(), at.span(k, k))
            }
            [k] if k.t == T::Str => {
                let text = &src[k.start..k.end];
                let (e, errs) = parse_value(text, k.start + base)?;
                if !errs.is_empty() {
                    return None;
                }
                if let Some(lit) = e.as_literal_str() {
                    if !seen.insert(lit.to_string()) {
                        local_errors.push(duplicate(at.span(k, k)));
                    }
                }
                ObjKey::Expr(e)
            }
            [open, .., close] if open.t == T::Open(b'(') && close.t == T::Close(b')') => {
                let text = &src[open.start..close.end];
                let (e, errs) = parse_value(text, open.start + base)?;
                if !errs.is_empty() {
                    return None;
                }
                ObjKey::Expr(e)
            }
            _ => return None,
        };
        let (value, errs) = parse_value(&src[first.start..last.end], first.start + base)?;
        local_errors.extend(errs);
        items.push((key, value));
    }
    errors.extend(local_errors);
    let span = at.span(&toks[0], &toks[toks.len() - 1]);
    Some(Expr {
        kind: ExprKind::Object(items),
        span,
    })
}

fn duplicate(span: BSpan) -> SpanError {
    SpanError {
        summary: "Duplicate object key".into(),
        detail: None,
        help: Some(
            "each key may appear only once in an object or map (tags included); remove one of them"
                .into(),
        ),
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_linear() {
        let src = format!("a = {}1{}", "{ a = ".repeat(50_000), "}".repeat(50_000));
        let p = prepare(0, &src, false, &mut |_, _| None);
        assert!(p.masked.is_none());
    }
}
