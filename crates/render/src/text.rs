//! The attribute-level diff engine behind the human (and Markdown) output, in Terraform's idiom.
//!
//! Safety rule: nothing here ever prints the inside of a `Value::Sensitive`, nor the value of an
//! attribute the schema marks sensitive. Comparisons may look inside (to know *whether* something
//! changed); the formatters never do.

use std::collections::BTreeSet;
use tunnelform_model::Map;

use similar::{capture_diff_slices, Algorithm, ChangeTag, DiffTag, TextDiff};
use tunnelform_model::schema::{AttrSchema, AttrType, BlockSchema, Nesting};
use tunnelform_model::Value;

use tunnelform_plan::normalize::{canonical, same};
use tunnelform_plan::Attrs;

pub(crate) const SENSITIVE: &str = "(sensitive value)";
pub(crate) const UNKNOWN: &str = "(known after apply)";

static NULL: Value = Value::Null;
static EMPTY: Attrs = Map::new();

/// `id` is not in the schemas (every object has one); it behaves as a computed string.
static ID_ATTR: AttrSchema = AttrSchema::new("id", AttrType::String).read_only();

/// The action symbol printed in front of a line, right-aligned on three columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sym {
    Create,
    Update,
    Delete,
    NoOp,
    Read,
    Replace { create_before_destroy: bool },
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Style {
    Green,
    Yellow,
    Red,
    Cyan,
    Bold,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Red => "31",
            Style::Cyan => "36",
            Style::Bold => "1",
        }
    }
}

/// A text buffer that knows whether to colour.
pub(crate) struct Writer {
    out: String,
    color: bool,
}

impl Writer {
    pub(crate) fn new(color: bool) -> Writer {
        Writer {
            out: String::new(),
            color,
        }
    }

    pub(crate) fn color(&self) -> bool {
        self.color
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }

    pub(crate) fn paint(&self, style: Style, s: &str) -> String {
        if self.color {
            format!("\x1b[{}m{s}\x1b[0m", style.code())
        } else {
            s.to_string()
        }
    }

    pub(crate) fn sym(&self, sym: Sym) -> String {
        match sym {
            Sym::Create => format!("  {}", self.paint(Style::Green, "+")),
            Sym::Update => format!("  {}", self.paint(Style::Yellow, "~")),
            Sym::Delete => format!("  {}", self.paint(Style::Red, "-")),
            Sym::NoOp => "   ".to_string(),
            Sym::Read => format!(" {}", self.paint(Style::Cyan, "<=")),
            Sym::Replace {
                create_before_destroy: false,
            } => format!(
                "{}/{}",
                self.paint(Style::Red, "-"),
                self.paint(Style::Green, "+")
            ),
            Sym::Replace {
                create_before_destroy: true,
            } => format!(
                "{}/{}",
                self.paint(Style::Green, "+"),
                self.paint(Style::Red, "-")
            ),
        }
    }

    /// `indent` spaces, the symbol on three columns, a space, the text.
    pub(crate) fn line(&mut self, indent: usize, sym: Sym, text: &str) {
        let sym = self.sym(sym);
        push_indent(&mut self.out, indent);
        self.out.push_str(&sym);
        self.out.push(' ');
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// `indent` spaces and the text (closing brackets, comments).
    pub(crate) fn text_line(&mut self, indent: usize, text: &str) {
        push_indent(&mut self.out, indent);
        self.out.push_str(text);
        self.out.push('\n');
    }

    pub(crate) fn blank(&mut self) {
        self.out.push('\n');
    }

    pub(crate) fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn forces(&self, forced: bool) -> String {
        if forced {
            format!(" {}", self.paint(Style::Red, "# forces replacement"))
        } else {
            String::new()
        }
    }
}

fn push_indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

// ---------------------------------------------------------------------------------------------
// Scalars

/// A string as an HCL literal.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Any value on one line. Sensitive parts print as `(sensitive value)`.
pub(crate) fn inline(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::Unknown => UNKNOWN.to_string(),
        Value::Sensitive(_) => SENSITIVE.to_string(),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(inline).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(m) if m.is_empty() => "{}".to_string(),
        Value::Map(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, v)| format!("{} = {}", quote(k), inline(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn is_multiline(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\n'),
        Value::List(items) => !items.is_empty(),
        Value::Map(m) => !m.is_empty(),
        _ => false,
    }
}

fn heredoc_tag(lines: &[&str]) -> String {
    let mut tag = "EOT".to_string();
    while lines.iter().any(|l| l.trim() == tag) {
        tag.push('_');
    }
    tag
}

// ---------------------------------------------------------------------------------------------
// Values and their changes

/// How one attribute (or map entry, or list element) changes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change<'a> {
    Create(&'a Value),
    Delete(&'a Value),
    Update(&'a Value, &'a Value),
    Same(&'a Value),
}

impl<'a> Change<'a> {
    pub(crate) fn between(before: &'a Value, after: &'a Value) -> Change<'a> {
        if before.is_null() {
            Change::Create(after)
        } else if after.is_null() {
            Change::Delete(before)
        } else {
            Change::Update(before, after)
        }
    }

    fn is_sensitive(self) -> bool {
        match self {
            Change::Create(v) | Change::Delete(v) | Change::Same(v) => v.is_sensitive(),
            Change::Update(b, a) => b.is_sensitive() || a.is_sensitive(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AttrOpts<'a> {
    /// The schema says so: never show, whatever the marks.
    pub sensitive: bool,
    /// Order does not matter: compare sorted.
    pub set: bool,
    pub forced: bool,
    /// Write ` -> null` after a deleted value (attributes and map entries, not list elements).
    pub null_suffix: bool,
    /// Appended to the last line (`,` for list elements).
    pub tail: &'a str,
}

/// Renders `head` (`name = `, already padded) followed by the change of its value.
pub(crate) fn attr(w: &mut Writer, indent: usize, head: &str, change: Change<'_>, o: AttrOpts<'_>) {
    let fr = w.forces(o.forced);
    let null = if o.null_suffix { " -> null" } else { "" };
    let tail = o.tail;
    if o.sensitive || change.is_sensitive() {
        let (sym, extra) = match change {
            Change::Create(_) => (Sym::Create, ""),
            Change::Delete(_) => (Sym::Delete, null),
            Change::Update(..) => (Sym::Update, ""),
            Change::Same(_) => (Sym::NoOp, ""),
        };
        w.line(indent, sym, &format!("{head}{SENSITIVE}{extra}{tail}{fr}"));
        return;
    }
    match change {
        Change::Create(a) => value(w, indent, Sym::Create, head, a, tail, &fr),
        Change::Same(v) => value(w, indent, Sym::NoOp, head, v, tail, ""),
        Change::Delete(b) => value(
            w,
            indent,
            Sym::Delete,
            head,
            b,
            &format!("{null}{tail}"),
            &fr,
        ),
        Change::Update(b, a) => {
            if b.is_null() {
                return attr(w, indent, head, Change::Create(a), o);
            }
            if a.is_null() {
                return attr(w, indent, head, Change::Delete(b), o);
            }
            if a.is_unknown() {
                if is_multiline(b) {
                    collection(
                        w,
                        indent,
                        Sym::Update,
                        Sym::Delete,
                        head,
                        b,
                        &format!(" -> {UNKNOWN}{tail}"),
                        &fr,
                    );
                } else {
                    w.line(
                        indent,
                        Sym::Update,
                        &format!("{head}{} -> {UNKNOWN}{tail}{fr}", inline(b)),
                    );
                }
                return;
            }
            match (b, a) {
                (Value::String(x), Value::String(y)) if x.contains('\n') || y.contains('\n') => {
                    heredoc_diff(w, indent, head, x, y, tail, &fr)
                }
                (Value::List(x), Value::List(y)) if !x.is_empty() && !y.is_empty() => {
                    list_diff(w, indent, head, x, y, o.set, tail, &fr)
                }
                (Value::Map(x), Value::Map(y)) if !x.is_empty() && !y.is_empty() => {
                    map_diff(w, indent, head, x, y, tail, &fr)
                }
                _ => w.line(
                    indent,
                    Sym::Update,
                    &format!("{head}{} -> {}{tail}{fr}", inline(b), inline(a)),
                ),
            }
        }
    }
}

/// One value, every line with the same symbol.
fn value(w: &mut Writer, indent: usize, sym: Sym, head: &str, v: &Value, tail: &str, fr: &str) {
    if is_multiline(v) {
        collection(w, indent, sym, sym, head, v, tail, fr);
    } else {
        w.line(indent, sym, &format!("{head}{}{tail}{fr}", inline(v)));
    }
}

/// A multi-line value: opening line with `open`, elements with `elem`, closing bracket + `tail`.
#[allow(clippy::too_many_arguments)]
fn collection(
    w: &mut Writer,
    indent: usize,
    open: Sym,
    elem: Sym,
    head: &str,
    v: &Value,
    tail: &str,
    fr: &str,
) {
    match v {
        Value::String(s) => {
            let lines: Vec<&str> = s.lines().collect();
            let tag = heredoc_tag(&lines);
            w.line(indent, open, &format!("{head}<<-{tag}{fr}"));
            for l in lines {
                w.line(indent + 4, Sym::NoOp, l);
            }
            w.text_line(indent + 4, &format!("{tag}{tail}"));
        }
        Value::List(items) => {
            w.line(indent, open, &format!("{head}[{fr}"));
            for i in items {
                value(w, indent + 4, elem, "", i, ",", "");
            }
            w.text_line(indent + 4, &format!("]{tail}"));
        }
        Value::Map(m) => {
            w.line(indent, open, &format!("{head}{{{fr}"));
            let width = m
                .keys()
                .map(|k| quote(k).chars().count())
                .max()
                .unwrap_or(0);
            for (k, x) in m {
                let h = format!("{:<width$} = ", quote(k));
                value(w, indent + 4, elem, &h, x, "", "");
            }
            w.text_line(indent + 4, &format!("}}{tail}"));
        }
        other => w.line(indent, open, &format!("{head}{}{tail}{fr}", inline(other))),
    }
}

fn heredoc_diff(w: &mut Writer, indent: usize, head: &str, x: &str, y: &str, tail: &str, fr: &str) {
    let all: Vec<&str> = x.lines().chain(y.lines()).collect();
    let tag = heredoc_tag(&all);
    w.line(indent, Sym::Update, &format!("{head}<<-{tag}{fr}"));
    let diff = TextDiff::from_lines(x, y);
    for change in diff.iter_all_changes() {
        let sym = match change.tag() {
            ChangeTag::Equal => Sym::NoOp,
            ChangeTag::Delete => Sym::Delete,
            ChangeTag::Insert => Sym::Create,
        };
        let text = change.value();
        w.line(indent + 4, sym, text.strip_suffix('\n').unwrap_or(text));
    }
    w.text_line(indent + 4, &format!("{tag}{tail}"));
}

/// `# (N unchanged elements hidden)` at the column of the elements of a value at `indent`.
fn hidden_elements(w: &mut Writer, indent: usize, n: &mut usize) {
    if *n > 0 {
        w.text_line(
            indent + 8,
            &format!(
                "# ({} hidden)",
                plural(*n, "unchanged element", "unchanged elements")
            ),
        );
        *n = 0;
    }
}

/// Element by element (similar's Myers diff; sets sorted first), unchanged elements counted.
#[allow(clippy::too_many_arguments)]
fn list_diff(
    w: &mut Writer,
    indent: usize,
    head: &str,
    x: &[Value],
    y: &[Value],
    set: bool,
    tail: &str,
    fr: &str,
) {
    let sorted = |items: &[Value]| -> Vec<Value> {
        let mut v = items.to_vec();
        if set {
            v.sort_by_key(Value::canonical_key);
        }
        v
    };
    let (x, y) = (sorted(x), sorted(y));
    // Comparison keys look inside sensitive marks; the marks are kept apart so that a value that
    // only became (or stopped being) sensitive still counts as changed.
    let key = |v: &Value| {
        (
            v.canonical_key(),
            v.is_wholly_known(),
            v.contains_sensitive(),
        )
    };
    let xk: Vec<_> = x.iter().map(key).collect();
    let yk: Vec<_> = y.iter().map(key).collect();
    w.line(indent, Sym::Update, &format!("{head}[{fr}"));
    let mut hidden = 0;
    for op in capture_diff_slices(Algorithm::Myers, &xk, &yk) {
        let (tag, old, new) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => hidden += old.len(),
            DiffTag::Delete | DiffTag::Insert | DiffTag::Replace => {
                // In a list the count stands where the elements are; a set has no order, so
                // its count goes last.
                if !set {
                    hidden_elements(w, indent, &mut hidden);
                }
                for v in &x[old] {
                    value(w, indent + 4, Sym::Delete, "", v, ",", "");
                }
                for v in &y[new] {
                    value(w, indent + 4, Sym::Create, "", v, ",", "");
                }
            }
        }
    }
    hidden_elements(w, indent, &mut hidden);
    w.text_line(indent + 4, &format!("]{tail}"));
}

fn map_diff(w: &mut Writer, indent: usize, head: &str, x: &Map, y: &Map, tail: &str, fr: &str) {
    let keys: BTreeSet<&tunnelform_model::Name> = x.keys().chain(y.keys()).collect();
    let mut shown = Vec::new();
    let mut hidden = 0;
    for k in keys {
        let b = x.get(k).unwrap_or(&NULL);
        let a = y.get(k).unwrap_or(&NULL);
        let unchanged = b.canonical_key() == a.canonical_key()
            && b.is_wholly_known()
            && a.is_wholly_known()
            && b.contains_sensitive() == a.contains_sensitive();
        if unchanged {
            hidden += 1;
        } else {
            shown.push((quote(k), Change::between(b, a)));
        }
    }
    w.line(indent, Sym::Update, &format!("{head}{{{fr}"));
    let width = shown
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    for (k, change) in shown {
        let h = format!("{k:<width$} = ");
        attr(
            w,
            indent + 4,
            &h,
            change,
            AttrOpts {
                null_suffix: true,
                ..Default::default()
            },
        );
    }
    hidden_elements(w, indent, &mut hidden);
    w.text_line(indent + 4, &format!("}}{tail}"));
}

// ---------------------------------------------------------------------------------------------
// Blocks of attributes (a resource body, a nested block body)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Everything `after` holds, with `+`.
    Create,
    /// Everything `before` holds, with `-` and `-> null`.
    Delete,
    /// Only the identifying attributes of `before`, with `-`; the rest counted.
    DeleteConcise,
    /// What changes between `before` and `after`; identifying attributes shown, the rest counted.
    Diff,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct BodySpec<'a> {
    pub mode: Mode,
    /// Attributes known to change (the planner's list).
    pub listed: &'a [String],
    /// `listed` is the whole truth (drift): nothing else is compared.
    pub authoritative: bool,
    /// Attributes whose change forces replacement.
    pub forced: &'a [String],
    /// Shown even when unchanged.
    pub identifying: &'a [&'a str],
}

impl<'a> BodySpec<'a> {
    pub(crate) fn simple(mode: Mode) -> BodySpec<'static> {
        BodySpec {
            mode,
            listed: &[],
            authoritative: false,
            forced: &[],
            identifying: &[],
        }
    }
}

fn lookup(
    schema: Option<&'static BlockSchema>,
    top: bool,
    name: &str,
) -> Option<&'static AttrSchema> {
    match schema.and_then(|s| s.attr(name)) {
        Some(a) => Some(a),
        None if top && name == "id" => Some(&ID_ATTR),
        None => None,
    }
}

fn is_changed(
    name: &str,
    sch: Option<&AttrSchema>,
    b: &Value,
    a: &Value,
    spec: &BodySpec<'_>,
) -> bool {
    if spec.listed.iter().any(|n| n == name) {
        return true;
    }
    if spec.authoritative || (b.is_null() && a.is_null()) {
        return false;
    }
    if a.is_unknown() {
        return !b.is_unknown();
    }
    let sensitive = sch.is_some_and(|s| s.sensitive) || b.is_sensitive() || a.is_sensitive();
    if sensitive {
        // Only the planner can tell (the prior value may be a digest): trust its list.
        return false;
    }
    match sch {
        // A computed argument left out follows the remote value.
        Some(s) if a.is_null() && s.computed => false,
        Some(s) => !same(s, b, a),
        None => {
            b.canonical_key() != a.canonical_key() || b.is_wholly_known() != a.is_wholly_known()
        }
    }
}

/// The instances of a nested block value.
enum Items<'a> {
    Sensitive,
    Unknown,
    List(Vec<&'a Value>),
}

fn items(v: &Value) -> Items<'_> {
    match v {
        Value::Sensitive(_) => Items::Sensitive,
        Value::Unknown => Items::Unknown,
        Value::Null => Items::List(Vec::new()),
        Value::List(l) => Items::List(l.iter().collect()),
        other => Items::List(vec![other]),
    }
}

fn count(v: &Value) -> usize {
    match items(v) {
        Items::Sensitive | Items::Unknown => 1,
        Items::List(l) => l.len(),
    }
}

/// Renders the attributes and nested blocks of one object at `indent` (the column of the symbol
/// field). `schema` is `None` for free-form maps.
pub(crate) fn body(
    w: &mut Writer,
    indent: usize,
    schema: Option<&'static BlockSchema>,
    top: bool,
    before: &Attrs,
    after: &Attrs,
    spec: &BodySpec<'_>,
) {
    let names: BTreeSet<&str> = before
        .keys()
        .chain(after.keys())
        .map(|k| k.as_str())
        .collect();
    let mut entries: Vec<(&str, Change<'_>, AttrOpts<'_>)> = Vec::new();
    let mut chunks: Vec<String> = Vec::new();
    let (mut hidden_attrs, mut hidden_blocks) = (0usize, 0usize);
    for name in names {
        let sch = lookup(schema, top, name);
        let b = before.get(name).unwrap_or(&NULL);
        let a = after.get(name).unwrap_or(&NULL);
        let forced = spec.forced.iter().any(|f| f == name);
        if let Some((nesting, block)) = sch.and_then(AttrSchema::block) {
            let nb = NestedBlock {
                name,
                attr: sch.unwrap_or(&ID_ATTR),
                nesting,
                block,
                forced,
            };
            match spec.mode {
                Mode::Create => nb.whole(w.color(), indent, Sym::Create, a, &mut chunks),
                Mode::Delete => nb.whole(w.color(), indent, Sym::Delete, b, &mut chunks),
                Mode::DeleteConcise => hidden_blocks += count(b),
                Mode::Diff => {
                    if is_changed(name, sch, b, a, spec) {
                        nb.diff(w.color(), indent, b, a, &mut chunks, &mut hidden_blocks);
                    } else {
                        hidden_blocks += count(if a.is_null() { b } else { a });
                    }
                }
            }
            continue;
        }
        let opts = AttrOpts {
            sensitive: sch.is_some_and(|s| s.sensitive),
            set: sch.is_some_and(AttrSchema::is_set),
            forced,
            null_suffix: true,
            tail: "",
        };
        let identifying = spec.identifying.contains(&name);
        match spec.mode {
            Mode::Create if !a.is_null() => entries.push((name, Change::Create(a), opts)),
            Mode::Delete if !b.is_null() => entries.push((name, Change::Delete(b), opts)),
            Mode::DeleteConcise if !b.is_null() => {
                if identifying {
                    entries.push((name, Change::Delete(b), opts));
                } else {
                    hidden_attrs += 1;
                }
            }
            Mode::Diff if !(b.is_null() && a.is_null()) => {
                if is_changed(name, sch, b, a, spec) {
                    entries.push((name, Change::between(b, a), opts));
                } else if identifying {
                    let v = if a.is_null() { b } else { a };
                    entries.push((name, Change::Same(v), opts));
                } else {
                    hidden_attrs += 1;
                }
            }
            _ => {}
        }
    }
    let width = entries
        .iter()
        .map(|(n, ..)| n.chars().count())
        .max()
        .unwrap_or(0);
    let mut any = false;
    for (name, change, opts) in entries {
        attr(w, indent, &format!("{name:<width$} = "), change, opts);
        any = true;
    }
    // Of an object that is gone, nothing is "unchanged": the others are just not shown.
    let adjective = if spec.mode == Mode::DeleteConcise {
        ""
    } else {
        "unchanged "
    };
    if hidden_attrs > 0 {
        w.text_line(
            indent + 4,
            &format!(
                "# ({} hidden)",
                plural(
                    hidden_attrs,
                    &format!("{adjective}attribute"),
                    &format!("{adjective}attributes")
                )
            ),
        );
        any = true;
    }
    for chunk in chunks {
        if any {
            w.blank();
        }
        w.raw(&chunk);
        any = true;
    }
    if hidden_blocks > 0 {
        if any {
            w.blank();
        }
        w.text_line(
            indent + 4,
            &format!(
                "# ({} hidden)",
                plural(
                    hidden_blocks,
                    &format!("{adjective}block"),
                    &format!("{adjective}blocks")
                )
            ),
        );
    }
}

struct NestedBlock<'s> {
    name: &'s str,
    attr: &'static AttrSchema,
    nesting: Nesting,
    block: &'static BlockSchema,
    forced: bool,
}

impl NestedBlock<'_> {
    fn line_chunk(&self, color: bool, indent: usize, sym: Sym, what: &str) -> String {
        let mut w = Writer::new(color);
        let fr = w.forces(self.forced);
        w.line(indent, sym, &format!("{} {what}{fr}", self.name));
        w.finish()
    }

    /// One instance: `name {`, its body, `}`.
    fn instance(
        &self,
        color: bool,
        indent: usize,
        sym: Sym,
        before: &Value,
        after: &Value,
    ) -> String {
        let (bm, am) = (map_of(before), map_of(after));
        if bm.is_none() && am.is_none() {
            let v = if after.is_null() { before } else { after };
            let what = if v.contains_sensitive() {
                SENSITIVE.to_string()
            } else {
                inline(v)
            };
            return self.line_chunk(color, indent, sym, &what);
        }
        let mut w = Writer::new(color);
        let fr = w.forces(self.forced);
        w.line(indent, sym, &format!("{} {{{fr}", self.name));
        let identifying: Vec<&str> = match self.nesting {
            Nesting::Single => Vec::new(),
            _ => self.pairing_attr().into_iter().collect(),
        };
        let mode = match sym {
            Sym::Create => Mode::Create,
            Sym::Delete => Mode::Delete,
            _ => Mode::Diff,
        };
        let spec = BodySpec {
            identifying: &identifying,
            ..BodySpec::simple(mode)
        };
        body(
            &mut w,
            indent + 4,
            Some(self.block),
            false,
            bm.unwrap_or(&EMPTY),
            am.unwrap_or(&EMPTY),
            &spec,
        );
        w.text_line(indent + 4, "}");
        w.finish()
    }

    /// Every instance of `v` with the same symbol (create or destroy).
    fn whole(&self, color: bool, indent: usize, sym: Sym, v: &Value, chunks: &mut Vec<String>) {
        match items(v) {
            Items::Sensitive => chunks.push(self.line_chunk(color, indent, sym, SENSITIVE)),
            Items::Unknown => chunks.push(self.line_chunk(color, indent, sym, UNKNOWN)),
            Items::List(list) => {
                let mut list = list;
                list.sort_by_key(|v| self.key(v));
                for item in list {
                    let (b, a) = if sym == Sym::Delete {
                        (item, &NULL)
                    } else {
                        (&NULL, item)
                    };
                    chunks.push(self.instance(color, indent, sym, b, a));
                }
            }
        }
    }

    /// The first argument of the block: the natural key of a set element (`local_cidr_block`).
    fn pairing_attr(&self) -> Option<&'static str> {
        self.block.attrs.first().map(|a| a.name)
    }

    /// A canonical comparison key of one instance.
    fn key(&self, v: &Value) -> String {
        canonical(self.attr, &Value::List(vec![v.clone()])).canonical_key()
    }

    fn pair_key(&self, v: &Value) -> Option<String> {
        let name = self.pairing_attr()?;
        let x = v.get(name)?;
        (!x.is_null()).then(|| x.canonical_key())
    }

    fn diff(
        &self,
        color: bool,
        indent: usize,
        b: &Value,
        a: &Value,
        chunks: &mut Vec<String>,
        hidden: &mut usize,
    ) {
        let (bl, al) = match (items(b), items(a)) {
            (Items::Sensitive, _) | (_, Items::Sensitive) => {
                chunks.push(self.line_chunk(color, indent, Sym::Update, SENSITIVE));
                return;
            }
            (bi, Items::Unknown) => {
                let sym = match bi {
                    Items::List(l) if l.is_empty() => Sym::Create,
                    _ => Sym::Update,
                };
                chunks.push(self.line_chunk(color, indent, sym, UNKNOWN));
                return;
            }
            (Items::Unknown, Items::List(al)) => (Vec::new(), al),
            (Items::List(bl), Items::List(al)) => (bl, al),
        };
        if self.nesting == Nesting::Single {
            match (bl.first(), al.first()) {
                (None, None) => {}
                (None, Some(x)) => chunks.push(self.instance(color, indent, Sym::Create, &NULL, x)),
                (Some(x), None) => chunks.push(self.instance(color, indent, Sym::Delete, x, &NULL)),
                (Some(x), Some(y)) => {
                    if same(self.attr, x, y) {
                        *hidden += 1;
                    } else {
                        chunks.push(self.instance(color, indent, Sym::Update, x, y));
                    }
                }
            }
            return;
        }
        // Sets (and lists) of blocks: equal instances are unchanged; the others pair up on their
        // first argument (an SPD entry's local_cidr_block) when they can, else go and come.
        let mut removed: Vec<&Value> = Vec::new();
        let mut added: Vec<Option<&Value>> = al.iter().map(|v| Some(*v)).collect();
        for x in bl {
            let k = self.key(x);
            match added
                .iter_mut()
                .find(|y| y.is_some_and(|y| self.key(y) == k))
            {
                Some(slot) => {
                    *slot = None;
                    *hidden += 1;
                }
                None => removed.push(x),
            }
        }
        let mut out: Vec<(String, String)> = Vec::new();
        for x in removed {
            let paired = self.pair_key(x).and_then(|pk| {
                added
                    .iter_mut()
                    .find(|y| y.is_some_and(|y| self.pair_key(y).as_deref() == Some(&pk)))
                    .and_then(Option::take)
            });
            match paired {
                Some(y) => out.push((self.key(y), self.instance(color, indent, Sym::Update, x, y))),
                None => out.push((
                    self.key(x),
                    self.instance(color, indent, Sym::Delete, x, &NULL),
                )),
            }
        }
        for y in added.into_iter().flatten() {
            out.push((
                self.key(y),
                self.instance(color, indent, Sym::Create, &NULL, y),
            ));
        }
        out.sort();
        chunks.extend(out.into_iter().map(|(_, c)| c));
    }
}

fn map_of(v: &Value) -> Option<&Attrs> {
    match v {
        Value::Map(m) => Some(m),
        _ => None,
    }
}
