//! Parsing with hcl-edit and lowering its tree into [`crate::ast`].
//!
//! hcl-edit bounds nesting (64 levels) and operator chains (128) while parsing, but its parser
//! and its trees are recursive, so parsing, lowering and dropping its tree run on a thread with a
//! large stack. The lowered tree is checked against [`MAX_EXPRESSION_DEPTH`].

use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::structure::{BlockLabel, Structure};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::Span as _;
use tunnelform_model::Value;

use std::collections::HashMap;

use crate::ast::{
    Attribute, BinOp, Block, Body, Expr, ExprKind, ForExpr, ObjKey, OpKind, TemplatePart,
    TraverseOp, UnaryOp, MAX_EXPRESSION_DEPTH,
};
use crate::bigobj;
use crate::error::SpanError;
use crate::lexer::{tokenize, TokenKind};
use crate::source::BSpan;

/// Stack for the parsing thread (and for any thread of the caller's that parses on its own
/// stack). Only touched pages are committed.
pub const PARSE_STACK: usize = 64 * 1024 * 1024;

/// Runs `f` on a thread with a large stack (falls back to the current thread if none can be made).
pub fn with_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let slot = std::sync::Mutex::new(Some(f));
    let take = || slot.lock().ok().and_then(|mut g| g.take());
    let from_thread = std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("tunnelform-parse".into())
            .stack_size(PARSE_STACK)
            .spawn_scoped(scope, || take().map(|f| f()));
        match spawned {
            Ok(handle) => match handle.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            },
            Err(e) => {
                tracing::warn!(
                    "could not start the parser thread ({e}); parsing on the current thread"
                );
                None
            }
        }
    });
    match from_thread {
        Some(v) => v,
        None => match take() {
            Some(f) => f(),
            None => unreachable_none(),
        },
    }
}

#[cold]
fn unreachable_none<T>() -> T {
    // The closure is taken exactly once: either by the thread or by the fallback.
    panic!("parser closure ran twice")
}

/// Parses a whole file into a body. A syntax error comes back as one located error.
pub fn parse_body(file: u32, src: &str) -> Result<(Body, Vec<SpanError>), SpanError> {
    if let Some(parsed) = parse_pieces(file, src) {
        return Ok(parsed);
    }
    parse_prepared(file, src)
}

/// The whole file at once, its big objects prepared first (see [`bigobj`]).
fn parse_prepared(file: u32, src: &str) -> Result<(Body, Vec<SpanError>), SpanError> {
    match parse_at(file, src, 0) {
        Some(parsed) => Ok(parsed),
        // Report the error exactly as hcl-edit sees the original text.
        None => parse_whole(file, src),
    }
}

/// Parses `text`, found at offset `base` of its file, its big objects prepared first (see
/// [`bigobj`]), and lowers it. `None` when hcl-edit does not parse it.
fn parse_at(file: u32, text: &str, base: usize) -> Option<(Body, Vec<SpanError>)> {
    let prepared = bigobj::prepare_at(file, text, base, false, &mut |t, off| {
        parse_entry(file, t, off)
    });
    let parsed = hcl_edit::parser::parse_body(prepared.masked.as_deref().unwrap_or(text)).ok()?;
    let mut l = Lowerer {
        file,
        base,
        errors: prepared.errors,
        prepared: prepared.objects,
    };
    let body = l.body(&parsed, 0);
    drop(parsed);
    Some((body, l.errors))
}

fn parse_whole(file: u32, src: &str) -> Result<(Body, Vec<SpanError>), SpanError> {
    let parsed = hcl_edit::parser::parse_body(src).map_err(|e| syntax_error(file, src, &e))?;
    let mut l = Lowerer {
        file,
        base: 0,
        errors: Vec::new(),
        prepared: HashMap::new(),
    };
    let body = l.body(&parsed, 0);
    drop(parsed);
    Ok((body, l.errors))
}

/// From this size, a file is parsed in pieces (see [`parse_pieces`]).
const SPLIT_FROM: usize = 512 * 1024;

/// About this much text per piece: hcl-edit's tree of a piece is dropped once lowered, so only a
/// few pieces' trees (many times the text's size) are alive at any time.
const PIECE: usize = 128 * 1024;

/// At most this many threads parse one file's pieces (each has a [`PARSE_STACK`] of its own).
const MAX_PARSE_THREADS: usize = 8;

/// Where a big file is cut: after a line holding only `}` (the end of a top-level block, as
/// formatted), about every [`PIECE`] bytes. The first bound is 0, the last the file's length.
fn piece_bounds(src: &str) -> Vec<usize> {
    let bytes = src.as_bytes();
    let mut bounds = vec![0];
    let mut from = PIECE;
    while from < bytes.len() {
        let Some(i) = bytes[from..].windows(3).position(|w| w == b"\n}\n") else {
            break;
        };
        let at = from + i + 3;
        if at < bytes.len() {
            bounds.push(at);
        }
        from = at + PIECE;
    }
    bounds.push(bytes.len());
    bounds
}

/// Parses a big file (a configuration written one block per object) in pieces of about
/// [`PIECE`] bytes, cut by [`piece_bounds`], on as many threads as there are cores; each
/// piece's big objects are prepared (see [`bigobj`]) and its hcl-edit tree lowered and dropped
/// before the thread takes the next piece.
///
/// The pieces are the whole file's structures, with the same spans, when every piece parses:
/// the first starts where the file does, and a piece that starts between two top-level
/// structures and parses on its own ends with every bracket, string, heredoc and comment
/// closed, after a line break outside brackets, which is where HCL ends a top-level structure;
/// so the next piece starts between two structures too. `None` (the whole file is then parsed at
/// once, which also reports any syntax error exactly as before): a small file, no such line, or
/// a piece that does not parse (a cut inside a heredoc or an unformatted block, a syntax error).
fn parse_pieces(file: u32, src: &str) -> Option<(Body, Vec<SpanError>)> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

    if src.len() < SPLIT_FROM {
        return None;
    }
    let bounds = piece_bounds(src);
    let pieces = bounds.len() - 1;
    if pieces < 2 {
        return None;
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let work = || -> Vec<(usize, Body, Vec<SpanError>)> {
        let mut done = Vec::new();
        while !failed.load(Relaxed) {
            let i = next.fetch_add(1, Relaxed);
            if i >= pieces {
                break;
            }
            let (base, end) = (bounds[i], bounds[i + 1]);
            let Some((body, errors)) = parse_at(file, &src[base..end], base) else {
                failed.store(true, Relaxed);
                break;
            };
            done.push((i, body, errors));
        }
        done
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_PARSE_THREADS)
        .min(pieces);
    let mut done = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("tunnelform-parse".into())
                    .stack_size(PARSE_STACK)
                    .spawn_scoped(s, work)
                    .ok()
            })
            .collect();
        let mut done = work();
        for helper in helpers {
            match helper.join() {
                Ok(more) => done.extend(more),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    });
    if failed.into_inner() {
        return None;
    }
    done.sort_unstable_by_key(|(i, _, _)| *i);
    let mut body = Body::default();
    let mut errors = Vec::new();
    for (_, piece, more) in done {
        body.attrs.extend(piece.attrs);
        body.blocks.extend(piece.blocks);
        errors.extend(more);
    }
    Some((body, errors))
}

/// Parses a standalone expression (a `--var` value).
pub fn parse_expr(file: u32, src: &str) -> Result<(Expr, Vec<SpanError>), SpanError> {
    let prepared = bigobj::prepare(file, src, true, &mut |text, off| {
        parse_entry(file, text, off)
    });
    if let Some(masked) = prepared.masked.as_deref() {
        if let Ok(parsed) = hcl_edit::parser::parse_expr(masked) {
            let mut l = Lowerer {
                file,
                base: 0,
                errors: prepared.errors,
                prepared: prepared.objects,
            };
            let e = l.expr(&parsed, BSpan::new(file, 0..src.len()), 0);
            drop(parsed);
            return Ok((e, l.errors));
        }
    }
    let parsed = hcl_edit::parser::parse_expr(src).map_err(|e| syntax_error(file, src, &e))?;
    let mut l = Lowerer {
        file,
        base: 0,
        errors: Vec::new(),
        prepared: HashMap::new(),
    };
    let e = l.expr(&parsed, BSpan::new(file, 0..src.len()), 0);
    drop(parsed);
    Ok((e, l.errors))
}

/// Parses a template file (`templatefile`): literal text with `${...}` interpolations and
/// `%{...}` directives, `~` strip markers applied. Nesting is bounded as for expressions.
pub fn parse_template(
    file: u32,
    src: &str,
) -> Result<(Vec<TemplatePart>, Vec<SpanError>), SpanError> {
    let parsed = hcl_edit::parser::parse_template(src).map_err(|e| syntax_error(file, src, &e))?;
    let mut l = Lowerer {
        file,
        base: 0,
        errors: Vec::new(),
        prepared: HashMap::new(),
    };
    let parts = l.template(&parsed, BSpan::new(file, 0..src.len()), 0);
    drop(parsed);
    Ok((parts, l.errors))
}

/// One entry value of a big object, at offset `off` of the file.
fn parse_entry(file: u32, text: &str, off: usize) -> Option<(Expr, Vec<SpanError>)> {
    let parsed = hcl_edit::parser::parse_expr(text).ok()?;
    let mut l = Lowerer {
        file,
        base: off,
        errors: Vec::new(),
        prepared: HashMap::new(),
    };
    let e = l.expr(&parsed, BSpan::new(file, off..off + text.len()), 1);
    drop(parsed);
    Some((e, l.errors))
}

fn syntax_error(file: u32, src: &str, e: &hcl_edit::parser::Error) -> SpanError {
    let offset = e.location().offset().min(src.len());
    let end = src[offset..]
        .chars()
        .next()
        .map(|c| offset + c.len_utf8())
        .unwrap_or(offset);
    let msg = e.message();
    if let Some((start, len)) = out_of_range_number(src, offset) {
        return SpanError {
            summary: "Number out of range".into(),
            detail: Some(format!(
                "{} is too large to be a number (numbers must be finite: at most about 1.8e308)",
                &src[start..start + len]
            )),
            help: Some("use a smaller number".into()),
            span: BSpan::new(file, start..start + len),
        };
    }
    let (summary, help) = explain_syntax_error(msg);
    // An unterminated string or heredoc is reported by hcl-edit at an unhelpful place: point at
    // the opening quote when there is one before the error's line ends.
    let line_end = src[offset..]
        .find('\n')
        .map(|n| offset + n)
        .unwrap_or(src.len());
    if let Some((pos, heredoc)) = find_unterminated(src).filter(|(p, _)| *p <= line_end) {
        let (summary, help) = if heredoc {
            (
                "Unterminated heredoc",
                "a heredoc `<<EOT` ends with a line holding only its delimiter (`EOT`)",
            )
        } else {
            (
                "Unterminated string",
                "close the string with a double quote on the same line",
            )
        };
        return SpanError {
            summary: summary.into(),
            detail: Some(format!("the parser said: {msg}")),
            help: Some(help.into()),
            span: BSpan::new(file, pos..pos + 1),
        };
    }
    SpanError {
        summary,
        detail: Some(format!("the parser said: {msg}")),
        help,
        span: BSpan::new(file, offset..end),
    }
}

/// A number literal with an exponent too large for a 64-bit float (`1e400`) at or around
/// `offset`, which the parser reports as an unexpected character after a number: its start and
/// length.
fn out_of_range_number(src: &str, offset: usize) -> Option<(usize, usize)> {
    let t = tokenize(src)
        .into_iter()
        .find(|t| t.kind == TokenKind::Number && t.start <= offset && offset <= t.end)?;
    let text = t.text(src);
    if !text.contains(['e', 'E']) {
        return None;
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_infinite() => Some((t.start, t.end - t.start)),
        _ => None,
    }
}

fn explain_syntax_error(msg: &str) -> (String, Option<String>) {
    if msg.contains("redefined attribute") {
        return (
            "Duplicate argument".into(),
            Some(
                "each argument may be set only once in a block; remove or rename one of them"
                    .into(),
            ),
        );
    }
    if msg.contains("redefined object key") {
        return (
            "Duplicate object key".into(),
            Some("each key may appear only once in an object or map (tags included); remove one of them".into()),
        );
    }
    if msg.contains("nesting depth") {
        return (
            "Configuration nested too deeply".into(),
            Some("expressions and blocks may nest at most 64 levels deep; flatten the expression with locals".into()),
        );
    }
    if msg.contains("binary operation") {
        return (
            "Expression too long".into(),
            Some("at most 128 chained binary operators are allowed; split it with locals".into()),
        );
    }
    if msg.contains("heredoc") {
        return (
            "Unterminated heredoc".into(),
            Some("a heredoc `<<EOT` ends with a line holding only its delimiter (`EOT`)".into()),
        );
    }
    if msg.contains("newline or eof") {
        return (
            "Missing newline after argument".into(),
            Some("put each argument or block on its own line".into()),
        );
    }
    if msg.contains("invalid expression") {
        return (
            "Invalid expression".into(),
            Some(
                "a value is expected here: a string, number, list, map, reference or function call"
                    .into(),
            ),
        );
    }
    (
        "Invalid syntax".into(),
        Some("check for a missing quote, bracket or brace near this place".into()),
    )
}

/// The offset of the opening quote of a string that is not closed on its line (or of a heredoc
/// that is never closed), if any; used only to improve a syntax error's location.
fn find_unterminated(src: &str) -> Option<(usize, bool)> {
    tokenize(src).into_iter().find_map(|t| match t.kind {
        TokenKind::Str { terminated: false } => Some((t.start, false)),
        TokenKind::Heredoc {
            terminated: false, ..
        } => Some((t.start, true)),
        _ => None,
    })
}

struct Lowerer {
    file: u32,
    /// Offset of the parsed text in the file (entries of big objects are parsed alone).
    base: usize,
    errors: Vec<SpanError>,
    /// Big objects parsed beforehand, by start offset (see [`bigobj`]).
    prepared: HashMap<usize, Expr>,
}

impl Lowerer {
    fn sp(&self, r: Option<std::ops::Range<usize>>, fallback: BSpan) -> BSpan {
        r.map(|r| BSpan::new(self.file, r.start + self.base..r.end + self.base))
            .unwrap_or(fallback)
    }

    fn err(&mut self, summary: impl Into<String>, help: Option<&str>, span: BSpan) {
        self.errors.push(SpanError {
            summary: summary.into(),
            detail: None,
            help: help.map(str::to_string),
            span,
        });
    }

    fn body(&mut self, body: &hcl_edit::structure::Body, depth: usize) -> Body {
        let whole = self.sp(body.span(), BSpan::new(self.file, 0..0));
        let mut out = Body::default();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let span = self.sp(a.span(), whole);
                    let name_span = self.sp(a.key.span(), span);
                    let expr = self.expr(&a.value, span, depth + 1);
                    out.attrs.push(Attribute {
                        name: a.key.as_str().to_string(),
                        name_span,
                        expr,
                    });
                }
                Structure::Block(b) => {
                    let span = self.sp(b.span(), whole);
                    let kind_span = self.sp(b.ident.span(), span);
                    let labels: Vec<(String, BSpan)> = b
                        .labels
                        .iter()
                        .map(|l| {
                            let ls = self.sp(l.span(), kind_span);
                            let text = match l {
                                BlockLabel::Ident(i) => i.as_str().to_string(),
                                BlockLabel::String(s) => s.value().to_string(),
                            };
                            (text, ls)
                        })
                        .collect();
                    let header = labels
                        .last()
                        .map(|(_, s)| kind_span.to(*s))
                        .unwrap_or(kind_span);
                    if depth >= MAX_EXPRESSION_DEPTH {
                        self.err("Blocks nested too deeply", None, kind_span);
                        continue;
                    }
                    let inner = self.body(&b.body, depth + 1);
                    out.blocks.push(Block {
                        kind: b.ident.as_str().to_string(),
                        kind_span,
                        labels,
                        body: inner,
                        header,
                    });
                }
            }
        }
        out
    }

    fn expr(&mut self, e: &Expression, parent: BSpan, depth: usize) -> Expr {
        let span = self.sp(e.span(), parent);
        if depth >= MAX_EXPRESSION_DEPTH {
            self.err(
                "Expression nested too deeply",
                Some("expressions may nest at most 256 levels; split the expression with locals"),
                span,
            );
            return Expr {
                kind: ExprKind::Literal(Value::Null),
                span,
            };
        }
        let d = depth + 1;
        let kind = match e {
            Expression::Null(_) => ExprKind::Literal(Value::Null),
            Expression::Bool(b) => ExprKind::Literal(Value::Bool(*b.value())),
            Expression::Number(n) => {
                let n = n.value();
                let v = match n.as_i64() {
                    Some(i) => Value::int(i),
                    None => n.as_f64().map(Value::number).unwrap_or(Value::Null),
                };
                ExprKind::Literal(v)
            }
            Expression::String(s) => ExprKind::Literal(Value::String(s.value().as_str().into())),
            Expression::Array(items) => {
                ExprKind::Tuple(items.iter().map(|x| self.expr(x, span, d)).collect())
            }
            Expression::Object(obj)
                if obj.is_empty() && self.prepared.contains_key(&(span.start as usize)) =>
            {
                match self.prepared.remove(&(span.start as usize)) {
                    Some(e) => return e,
                    None => ExprKind::Object(Vec::new()),
                }
            }
            Expression::Object(obj) => {
                let mut items = Vec::with_capacity(obj.len());
                for (k, v) in obj.iter() {
                    let key = match k {
                        ObjectKey::Ident(i) => {
                            ObjKey::Ident(i.as_str().to_string(), self.sp(i.span(), span))
                        }
                        ObjectKey::Expression(ke) => ObjKey::Expr(self.expr(ke, span, d)),
                    };
                    items.push((key, self.expr(v.expr(), span, d)));
                }
                ExprKind::Object(items)
            }
            Expression::StringTemplate(t) => ExprKind::Template(self.template(t, span, d)),
            Expression::HeredocTemplate(h) => {
                ExprKind::Template(self.template(&h.template, span, d))
            }
            Expression::Parenthesis(p) => return self.expr(p.inner(), span, d),
            Expression::Variable(v) => ExprKind::Var(v.as_str().to_string()),
            Expression::Conditional(c) => ExprKind::Cond(
                Box::new(self.expr(&c.cond_expr, span, d)),
                Box::new(self.expr(&c.true_expr, span, d)),
                Box::new(self.expr(&c.false_expr, span, d)),
            ),
            Expression::FuncCall(call) => {
                let name_span = self.sp(call.name.name.span(), span);
                if call.name.is_namespaced() {
                    self.err(
                        "Provider-defined functions are not supported",
                        Some("tunnelform offers the built-in functions only (format, join, lookup, cidrsubnet, ...)"),
                        span,
                    );
                }
                ExprKind::Call {
                    name: call.name.name.as_str().to_string(),
                    name_span,
                    args: call.args.iter().map(|a| self.expr(a, span, d)).collect(),
                    expand_final: call.args.expand_final(),
                }
            }
            Expression::Traversal(t) => {
                let base = self.expr(&t.expr, span, d);
                let mut ops = Vec::with_capacity(t.operators.len());
                for op in &t.operators {
                    let ospan = self.sp(op.span(), span);
                    let kind = match op.value() {
                        TraversalOperator::AttrSplat(_) => OpKind::AttrSplat,
                        TraversalOperator::FullSplat(_) => OpKind::FullSplat,
                        TraversalOperator::GetAttr(i) => OpKind::Attr(i.as_str().to_string()),
                        TraversalOperator::Index(ie) => OpKind::Index(self.expr(ie, ospan, d)),
                        TraversalOperator::LegacyIndex(n) => OpKind::LegacyIndex(*n.value()),
                    };
                    ops.push(TraverseOp { kind, span: ospan });
                }
                ExprKind::Traversal(Box::new(base), ops)
            }
            Expression::UnaryOp(u) => {
                let op = match u.operator.value() {
                    UnaryOperator::Neg => UnaryOp::Neg,
                    UnaryOperator::Not => UnaryOp::Not,
                };
                ExprKind::Unary(op, Box::new(self.expr(&u.expr, span, d)))
            }
            Expression::BinaryOp(b) => {
                let op = match b.operator.value() {
                    BinaryOperator::Eq => BinOp::Eq,
                    BinaryOperator::NotEq => BinOp::Ne,
                    BinaryOperator::LessEq => BinOp::Le,
                    BinaryOperator::GreaterEq => BinOp::Ge,
                    BinaryOperator::Less => BinOp::Lt,
                    BinaryOperator::Greater => BinOp::Gt,
                    BinaryOperator::Plus => BinOp::Add,
                    BinaryOperator::Minus => BinOp::Sub,
                    BinaryOperator::Mul => BinOp::Mul,
                    BinaryOperator::Div => BinOp::Div,
                    BinaryOperator::Mod => BinOp::Mod,
                    BinaryOperator::And => BinOp::And,
                    BinaryOperator::Or => BinOp::Or,
                };
                ExprKind::Binary(
                    op,
                    Box::new(self.expr(&b.lhs_expr, span, d)),
                    Box::new(self.expr(&b.rhs_expr, span, d)),
                )
            }
            Expression::ForExpr(f) => ExprKind::For(Box::new(ForExpr {
                key_var: f.intro.key_var.as_ref().map(|k| k.as_str().to_string()),
                value_var: f.intro.value_var.as_str().to_string(),
                coll: self.expr(&f.intro.collection_expr, span, d),
                key_expr: f.key_expr.as_ref().map(|k| self.expr(k, span, d)),
                value_expr: self.expr(&f.value_expr, span, d),
                cond: f.cond.as_ref().map(|c| self.expr(&c.expr, span, d)),
                grouping: f.grouping,
            })),
        };
        Expr { kind, span }
    }

    fn template(&mut self, t: &Template, span: BSpan, depth: usize) -> Vec<TemplatePart> {
        let mut out = Vec::new();
        let mut trim_next = false;
        self.template_into(t, span, depth, &mut out, &mut trim_next);
        out
    }

    /// Lowers `t` into `out`, applying the `~` strip markers to adjacent literals.
    /// `trim_next`: the next literal must lose its leading whitespace.
    fn template_into(
        &mut self,
        t: &Template,
        span: BSpan,
        depth: usize,
        out: &mut Vec<TemplatePart>,
        trim_next: &mut bool,
    ) {
        if depth >= MAX_EXPRESSION_DEPTH {
            self.err("Template nested too deeply", None, span);
            return;
        }
        let d = depth + 1;
        for el in t.iter() {
            match el {
                Element::Literal(s) => {
                    let mut text = s.value().as_str();
                    if *trim_next {
                        text = text.trim_start();
                        *trim_next = false;
                    }
                    out.push(TemplatePart::Lit(text.to_string()));
                }
                Element::Interpolation(i) => {
                    if i.strip.strip_start() {
                        trim_last(out);
                    }
                    *trim_next = false;
                    out.push(TemplatePart::Interp(self.expr(&i.expr, span, d)));
                    *trim_next = i.strip.strip_end();
                }
                Element::Directive(dir) => match dir.as_ref() {
                    Directive::If(ifd) => {
                        if ifd.if_expr.strip.strip_start() {
                            trim_last(out);
                        }
                        let cond = self.expr(&ifd.if_expr.cond_expr, span, d);
                        let mut then = Vec::new();
                        let mut tn = ifd.if_expr.strip.strip_end();
                        self.template_into(&ifd.if_expr.template, span, d, &mut then, &mut tn);
                        let mut els = Vec::new();
                        if let Some(e) = &ifd.else_expr {
                            if e.strip.strip_start() {
                                trim_last(&mut then);
                            }
                            let mut tn = e.strip.strip_end();
                            self.template_into(&e.template, span, d, &mut els, &mut tn);
                            if ifd.endif_expr.strip.strip_start() {
                                trim_last(&mut els);
                            }
                        } else if ifd.endif_expr.strip.strip_start() {
                            trim_last(&mut then);
                        }
                        out.push(TemplatePart::If { cond, then, els });
                        *trim_next = ifd.endif_expr.strip.strip_end();
                    }
                    Directive::For(fd) => {
                        if fd.for_expr.strip.strip_start() {
                            trim_last(out);
                        }
                        let coll = self.expr(&fd.for_expr.collection_expr, span, d);
                        let mut body = Vec::new();
                        let mut tn = fd.for_expr.strip.strip_end();
                        self.template_into(&fd.for_expr.template, span, d, &mut body, &mut tn);
                        if fd.endfor_expr.strip.strip_start() {
                            trim_last(&mut body);
                        }
                        out.push(TemplatePart::For {
                            key: fd.for_expr.key_var.as_ref().map(|k| k.as_str().to_string()),
                            value: fd.for_expr.value_var.as_str().to_string(),
                            coll,
                            body,
                        });
                        *trim_next = fd.endfor_expr.strip.strip_end();
                    }
                },
            }
        }
    }
}

fn trim_last(parts: &mut [TemplatePart]) {
    if let Some(TemplatePart::Lit(s)) = parts.last_mut() {
        let t = s.trim_end().len();
        s.truncate(t);
    }
}

#[cfg(test)]
mod tests {
    /// A configuration of `blocks` blocks, one per object, with `middle` written in the middle.
    fn one_block_per_object(blocks: usize, middle: &str) -> String {
        let mut s = String::new();
        for i in 0..blocks {
            if i == blocks / 2 {
                s.push_str(middle);
            }
            s.push_str(&format!(
                "resource \"tencentcloud_vpn_connection\" \"t{i:05}\" {{\n  name = \"tünnel-${{var.x}}-{i}\"\n  cidrs = [\n    \"10.0.{}.0/24\",\n  ]\n  security_group_policy {{\n    local_cidr_block = \"10.1.0.0/16\"\n  }}\n}}\n",
                i % 250
            ));
        }
        s
    }

    #[test]
    fn a_big_file_parsed_in_pieces_is_the_file_parsed_whole() {
        let src = one_block_per_object(4000, "");
        assert!(src.len() >= super::SPLIT_FROM, "big enough to be split");
        let bounds = super::piece_bounds(&src);
        assert!(bounds.len() > 3, "several pieces: {bounds:?}");
        for &b in &bounds[1..bounds.len() - 1] {
            assert!(
                src[..b].ends_with("\n}\n"),
                "cut after a closing line at {b}"
            );
        }
        assert!(super::parse_pieces(7, &src).is_some(), "split in pieces");
        let pieces = super::parse_body(7, &src).unwrap();
        let whole = super::parse_whole(7, &src).unwrap();
        assert_eq!(format!("{pieces:?}"), format!("{whole:?}"));
        assert_eq!(pieces.0.blocks.len(), 4000);
    }

    #[test]
    fn big_objects_in_a_piece_are_prepared_with_the_files_offsets() {
        // A big object (parsed entry by entry) with a duplicate key, in a piece of its own.
        let entries: String = (0..100)
            .map(|i| format!("    site{} = \"10.{}.0.0/16\"\n", i % 99, i))
            .collect();
        let local = format!("locals {{\n  sites = {{\n{entries}  }}\n}}\n");
        let src = one_block_per_object(4000, &local);
        assert!(super::parse_pieces(7, &src).is_some(), "split in pieces");
        let pieces = super::parse_body(7, &src).unwrap();
        let whole = super::parse_prepared(7, &src).unwrap();
        assert_eq!(format!("{pieces:?}"), format!("{whole:?}"));
        assert_eq!(pieces.1.len(), 1, "the duplicate key: {:?}", pieces.1);
        let dup = &pieces.1[0];
        assert_eq!(
            &src[dup.span.start as usize..dup.span.end as usize],
            "site0"
        );
        assert!(
            dup.span.start as usize > src.len() / 4,
            "found in a later piece"
        );
    }

    #[test]
    fn a_big_file_without_a_closing_line_is_one_piece() {
        let src = format!("a = [{}]\n", "1,".repeat(400_000));
        assert_eq!(super::piece_bounds(&src), [0, src.len()]);
        assert!(super::parse_pieces(7, &src).is_none());
        assert!(super::parse_body(7, &src).is_ok());
    }

    #[test]
    fn a_split_that_falls_inside_a_heredoc_parses_the_file_whole() {
        // Lines holding only `}` inside a heredoc: a piece would end inside it and not parse.
        let heredoc = format!(
            "locals {{\n  text = <<EOT\n{}EOT\n}}\n",
            "}\n".repeat(200_000)
        );
        let src = one_block_per_object(2000, &heredoc);
        assert!(super::parse_pieces(7, &src).is_none());
        let parsed = super::parse_body(7, &src).unwrap();
        let whole = super::parse_whole(7, &src).unwrap();
        assert_eq!(format!("{parsed:?}"), format!("{whole:?}"));
    }

    #[test]
    fn a_syntax_error_in_a_big_file_is_reported_as_in_a_small_one() {
        let src = one_block_per_object(4000, "resource \"x\" \"y\" {\n  a = [1,\n}\n");
        let err = super::parse_body(7, &src).unwrap_err();
        let whole = super::parse_whole(7, &src).unwrap_err();
        assert_eq!(format!("{err:?}"), format!("{whole:?}"));
    }

    use super::*;

    fn lit_parts(src: &str) -> Vec<String> {
        let (body, errs) = parse_body(0, src).unwrap();
        assert!(errs.is_empty());
        match &body.attrs[0].expr.kind {
            ExprKind::Template(parts) => parts
                .iter()
                .map(|p| match p {
                    TemplatePart::Lit(s) => s.clone(),
                    TemplatePart::Interp(_) => "${}".into(),
                    TemplatePart::If { .. } => "%{if}".into(),
                    TemplatePart::For { .. } => "%{for}".into(),
                })
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn strip_markers_trim_adjacent_literals() {
        assert_eq!(lit_parts("a = \"x  ${~ y ~}  z\"\n"), ["x", "${}", "z"]);
        assert_eq!(lit_parts("a = \"x  ${ y }  z\"\n"), ["x  ", "${}", "  z"]);
    }

    #[test]
    fn syntax_error_is_located() {
        let e = parse_body(0, "a = 1\nb = [1, 2\n").unwrap_err();
        assert!(
            e.summary.contains("Invalid syntax") || e.summary.contains("Invalid"),
            "{e:?}"
        );
        let e = parse_body(0, "a = 1\nb = \"abc\nc = 2\n").unwrap_err();
        assert_eq!(e.span.start, 10, "{e:?}");
        let e = parse_body(0, "a = 1\na = 2\n").unwrap_err();
        assert_eq!(e.summary, "Duplicate argument");
        assert_eq!(e.span.start, 6);
    }

    #[test]
    fn big_objects_are_masked_and_small_ones_left_alone() {
        let mut src = String::from("locals {\n  big = {\n");
        for i in 0..200 {
            src.push_str(&format!("    k{i} = \"v{i}\" # c\n"));
        }
        src.push_str("  }\n  small = { a = 1 }\n}\n");
        let mut calls = 0;
        let p = bigobj::prepare(0, &src, false, &mut |text, off| {
            calls += 1;
            assert!(src[off..].starts_with(text));
            let (e, errs) = parse_expr(0, text).ok()?;
            Some((e, errs))
        });
        assert_eq!(calls, 200);
        let masked = p.masked.unwrap();
        assert_eq!(masked.len(), src.len());
        assert_eq!(masked.lines().count(), src.lines().count());
        assert!(masked.contains("big = {\n"));
        assert!(!masked.contains("k0"));
        assert!(masked.contains("small = { a = 1 }"));
        let start = src.find("{\n    k0").unwrap();
        assert!(matches!(&p.objects[&start].kind, ExprKind::Object(items) if items.len() == 200));
    }

    #[test]
    fn an_escaped_interpolation_does_not_hide_an_unterminated_string() {
        // `$${` is a literal `${`: the first string is closed, the second one is not.
        let e = parse_body(0, "a = \"$${x\"\nb = \"open\nc = 1\n").unwrap_err();
        assert_eq!(e.summary, "Unterminated string", "{e:?}");
        assert_eq!(e.span.start, 15, "{e:?}");
    }

    #[test]
    fn templates_parse_directives_and_strip_markers() {
        let (parts, errs) =
            parse_template(0, "a ${x} %{ for i in l ~}\n  [${i}]\n%{~ endfor }!").unwrap();
        assert!(errs.is_empty());
        assert!(matches!(&parts[0], TemplatePart::Lit(s) if s == "a "));
        assert!(matches!(&parts[1], TemplatePart::Interp(_)));
        match &parts[3] {
            TemplatePart::For { value, body, .. } => {
                assert_eq!(value, "i");
                assert!(
                    matches!(&body[0], TemplatePart::Lit(s) if s == "["),
                    "{body:?}"
                );
                assert!(
                    matches!(&body[2], TemplatePart::Lit(s) if s == "]"),
                    "{body:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&parts[4], TemplatePart::Lit(s) if s == "!"));
        let e = parse_template(0, "ok\n%{ if x }open").unwrap_err();
        assert!(e.span.start >= 3, "{e:?}");
    }

    #[test]
    fn big_stack_runs_and_returns() {
        assert_eq!(with_big_stack(|| 40 + 2), 42);
    }
}
