//! Expression evaluation with unknown and sensitive propagation.
//!
//! Values of references are borrowed where possible (a 10,000-entry map in a local is not
//! cloned to read one entry), and every evaluation counts steps and depth so that hostile
//! expressions end with an error instead of exhausting time or stack.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tunnelform_model::{map, Map};

use tunnelform_model::{Mode, Value};

use tunnelform_syntax::ast::{
    BinOp, Expr, ExprKind, ForExpr, ObjKey, OpKind, TemplatePart, TraverseOp, UnaryOp,
};
use tunnelform_syntax::BSpan;

use crate::error::{error, too_large, EResult, WithHelp};
use crate::functions::{self, Body, Context, Evaluate};
use crate::suggest;
use crate::values::{
    self, equal, mark_if, primitive_string, show, to_bool, to_number, unmark, MAX_VALUE_WEIGHT,
};

/// Evaluation steps allowed per evaluator (each expression node and loop iteration is one).
const MAX_STEPS: u64 = 2_000_000;
/// Nested evaluation calls allowed (the lowered tree is at most 256 deep).
const MAX_DEPTH: usize = 320;

/// Names bound while evaluating: for-expression variables, `each`, `count`.
pub struct Scope<'s> {
    parent: Option<&'s Scope<'s>>,
    bindings: Vec<(&'s str, Cow<'s, Value>)>,
    each: Option<(&'s Value, &'s Value)>,
    /// `count.index`: a number, or `Value::Unknown` for an instance whose count is not known
    /// (`validate` without a variable's value).
    count_index: Option<Value>,
}

impl<'s> Scope<'s> {
    pub fn root() -> Scope<'s> {
        Scope {
            parent: None,
            bindings: Vec::new(),
            each: None,
            count_index: None,
        }
    }

    pub fn with_each(key: &'s Value, value: &'s Value) -> Scope<'s> {
        Scope {
            each: Some((key, value)),
            ..Scope::root()
        }
    }

    pub fn with_count(index: i64) -> Scope<'s> {
        Scope {
            count_index: Some(Value::int(index)),
            ..Scope::root()
        }
    }

    /// The scope of the one instance that stands for a block whose `count` or `for_each` is not
    /// known (`validate` without values): `count.index`, `each.key` and `each.value` are unknown.
    pub fn unknown_instance(unknown: &'s Value) -> Scope<'s> {
        Scope {
            each: Some((unknown, unknown)),
            count_index: Some(Value::Unknown),
            ..Scope::root()
        }
    }

    /// A scope with one more name bound (dynamic block iterators).
    pub fn bind<'c>(&'c self, name: &'c str, value: Value) -> Scope<'c> {
        self.child(vec![(name, Cow::Owned(value))])
    }

    fn child<'c>(&'c self, bindings: Vec<(&'c str, Cow<'c, Value>)>) -> Scope<'c> {
        Scope {
            parent: Some(self),
            bindings,
            each: None,
            count_index: None,
        }
    }

    fn binding(&self, name: &str) -> Option<&Value> {
        let mut s = Some(self);
        while let Some(sc) = s {
            if let Some((_, v)) = sc.bindings.iter().rev().find(|(n, _)| *n == name) {
                return Some(v);
            }
            s = sc.parent;
        }
        None
    }

    fn bound_names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let mut s = Some(self);
        while let Some(sc) = s {
            out.extend(sc.bindings.iter().map(|(n, _)| *n));
            s = sc.parent;
        }
        out
    }

    fn each(&self) -> Option<(&Value, &Value)> {
        let mut s = Some(self);
        while let Some(sc) = s {
            if let Some(e) = sc.each {
                return Some(e);
            }
            s = sc.parent;
        }
        None
    }

    fn count_index(&self) -> Option<&Value> {
        let mut s = Some(self);
        while let Some(sc) = s {
            if let Some(i) = &sc.count_index {
                return Some(i);
            }
            s = sc.parent;
        }
        None
    }
}

/// Locals and resources, provided by the configuration during a session.
pub trait Refs {
    fn local(&self, ev: &Evaluator<'_>, name: &str, span: BSpan) -> EResult<Arc<Value>>;
    /// Evaluates a reference to a managed (`TYPE.NAME...`) or data (`data.TYPE.NAME...`)
    /// resource, applying the remaining traversal `ops`.
    #[allow(clippy::too_many_arguments)]
    fn resource(
        &self,
        ev: &Evaluator<'_>,
        sc: &Scope<'_>,
        mode: Mode,
        type_name: &str,
        name: &str,
        span: BSpan,
        ops: &[TraverseOp],
    ) -> EResult<Value>;
}

pub struct Evaluator<'a> {
    pub vars: Option<&'a HashMap<String, Arc<Value>>>,
    pub refs: Option<&'a dyn Refs>,
    /// The directory of the module being evaluated (`path.module`).
    pub module_dir: &'a Path,
    /// For "... may not be used in {what}".
    pub what: &'static str,
    /// The selected workspace (`terraform.workspace`): "default" unless the caller sets it.
    pub workspace: &'a str,
    /// Evaluating a template file or string (`templatefile`, `templatestring`): names are the
    /// template's variables only, and templates may not be rendered recursively.
    in_template: bool,
    steps: Cell<u64>,
    depth: Cell<usize>,
}

struct DepthGuard<'a>(&'a Cell<usize>);

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

impl<'a> Evaluator<'a> {
    pub fn new(
        vars: Option<&'a HashMap<String, Arc<Value>>>,
        refs: Option<&'a dyn Refs>,
        module_dir: &'a Path,
        what: &'static str,
    ) -> Evaluator<'a> {
        Evaluator {
            vars,
            refs,
            module_dir,
            what,
            workspace: "default",
            in_template: false,
            steps: Cell::new(0),
            depth: Cell::new(0),
        }
    }

    /// Starts a fresh step budget (one per instance).
    pub fn reset_steps(&self) {
        self.steps.set(0);
    }

    pub fn step(&self, span: BSpan) -> EResult<()> {
        let s = self.steps.get() + 1;
        self.steps.set(s);
        if s > MAX_STEPS {
            return Err(error("Evaluation too expensive", span).help(
                "this expression needs more than 2 million evaluation steps; reduce nested for expressions or ranges",
            ));
        }
        Ok(())
    }

    fn enter(&self, span: BSpan) -> EResult<DepthGuard<'_>> {
        let d = self.depth.get() + 1;
        if d > MAX_DEPTH {
            return Err(error("Expression nested too deeply", span).help(
                "expressions may nest at most 256 levels; split the expression with locals",
            ));
        }
        self.depth.set(d);
        Ok(DepthGuard(&self.depth))
    }

    pub fn eval(&self, e: &Expr, sc: &Scope<'_>) -> EResult<Value> {
        self.step(e.span)?;
        let _guard = self.enter(e.span)?;
        match &e.kind {
            ExprKind::Literal(v) => Ok(v.clone()),
            ExprKind::Tuple(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(i, sc)?);
                }
                Ok(Value::List(out))
            }
            ExprKind::Object(items) => self.eval_object(items, sc, e.span),
            ExprKind::Template(parts) => self.eval_template(parts, sc, e.span),
            ExprKind::Var(name) => self.eval_ref(name, e.span, &[], sc),
            ExprKind::Traversal(base, ops) => match &base.kind {
                ExprKind::Var(name) => self.eval_ref(name, base.span, ops, sc),
                _ => {
                    let b = self.eval(base, sc)?;
                    self.walk(&b, ops, sc)
                }
            },
            ExprKind::Call {
                name,
                name_span,
                args,
                expand_final,
            } => self.eval_call(name, *name_span, args, *expand_final, sc, e.span),
            ExprKind::Unary(op, inner) => self.eval_unary(*op, inner, sc, e.span),
            ExprKind::Binary(op, a, b) => self.eval_binary(*op, a, b, sc, e.span),
            ExprKind::Cond(c, t, f) => {
                let (cv, sens) = unmark(self.eval(c, sc)?);
                if cv.is_unknown() {
                    return Ok(mark_if(Value::Unknown, sens));
                }
                let b = to_bool(&cv).ok_or_else(|| {
                    error("Invalid condition", c.span).detail(format!(
                        "the condition must be a bool, got {}",
                        values::describe_type(&cv)
                    ))
                })?;
                let v = if b {
                    self.eval(t, sc)?
                } else {
                    self.eval(f, sc)?
                };
                Ok(mark_if(v, sens))
            }
            ExprKind::For(fe) => self.eval_for(fe, sc, e.span),
        }
    }

    fn eval_object(&self, items: &[(ObjKey, Expr)], sc: &Scope<'_>, span: BSpan) -> EResult<Value> {
        let mut out = map::Builder::new();
        let mut unknown = false;
        let mut sens = false;
        for (k, v) in items {
            let (key, kspan) = match k {
                ObjKey::Ident(name, s) => (Value::string(name.clone()), *s),
                ObjKey::Expr(ke) => (self.eval(ke, sc)?, ke.span),
            };
            let (key, ks) = unmark(key);
            sens |= ks;
            let value = self.eval(v, sc)?;
            if key.is_unknown() {
                unknown = true;
                continue;
            }
            let key = match primitive_string(&key) {
                Some(k) => k.into_owned(),
                None => {
                    return Err(error("Invalid object key", kspan).detail(format!(
                        "an object key must be a string, got {}",
                        values::describe_type(&key)
                    )))
                }
            };
            if out.contains_key(&key) {
                return Err(error(format!("Duplicate object key \"{key}\""), kspan)
                    .help("each key may appear only once in an object or map (tags included); remove one of them"));
            }
            out.push_new(key.into(), value);
        }
        let _ = span;
        if unknown {
            return Ok(mark_if(Value::Unknown, sens));
        }
        Ok(mark_if(Value::Map(out.finish()), sens))
    }

    fn eval_template(&self, parts: &[TemplatePart], sc: &Scope<'_>, span: BSpan) -> EResult<Value> {
        if let [TemplatePart::Interp(e)] = parts {
            // "${x}" is x itself, whatever its type.
            return self.eval(e, sc);
        }
        let mut out = String::new();
        let mut unknown = false;
        let mut sens = false;
        self.render_parts(parts, sc, &mut out, &mut unknown, &mut sens)?;
        let _ = span;
        if unknown {
            return Ok(mark_if(Value::Unknown, sens));
        }
        Ok(mark_if(Value::string(out), sens))
    }

    fn render_parts(
        &self,
        parts: &[TemplatePart],
        sc: &Scope<'_>,
        out: &mut String,
        unknown: &mut bool,
        sens: &mut bool,
    ) -> EResult<()> {
        for p in parts {
            match p {
                TemplatePart::Lit(s) => out.push_str(s),
                TemplatePart::Interp(e) => {
                    let (v, s) = unmark(self.eval(e, sc)?);
                    *sens |= s;
                    if v.is_unknown() {
                        *unknown = true;
                        continue;
                    }
                    match primitive_string(&v) {
                        Some(text) => out.push_str(&text),
                        None if v.is_null() => {
                            return Err(error("Invalid template interpolation value", e.span)
                                .detail("the expression result is null; it cannot be included in a string")
                                .help("use a conditional or coalesce() to give a fallback value"))
                        }
                        None => {
                            return Err(error("Invalid template interpolation value", e.span)
                                .detail(format!(
                                    "cannot include a {} in a string template: a string, number or bool is required",
                                    values::describe_type(&v)
                                ))
                                .help("use jsonencode() or join() to turn it into a string"))
                        }
                    }
                    if out.len() > 64 * 1024 * 1024 {
                        return Err(error("String too long", e.span)
                            .help("a template may produce at most 64 MiB"));
                    }
                }
                TemplatePart::If { cond, then, els } => {
                    let (c, s) = unmark(self.eval(cond, sc)?);
                    *sens |= s;
                    if c.is_unknown() {
                        *unknown = true;
                        continue;
                    }
                    let b = to_bool(&c).ok_or_else(|| {
                        error("Invalid template condition", cond.span).detail(format!(
                            "the condition must be a bool, got {}",
                            values::describe_type(&c)
                        ))
                    })?;
                    self.render_parts(if b { then } else { els }, sc, out, unknown, sens)?;
                }
                TemplatePart::For {
                    key,
                    value,
                    coll,
                    body,
                } => {
                    let (c, s) = unmark(self.eval(coll, sc)?);
                    *sens |= s;
                    if c.is_unknown() {
                        *unknown = true;
                        continue;
                    }
                    let pairs = collection_pairs(&c).ok_or_else(|| {
                        error("Invalid template for directive", coll.span).detail(format!(
                            "a list or map is required, got {}",
                            values::describe_type(&c)
                        ))
                    })?;
                    for (k, v) in pairs {
                        self.step(coll.span)?;
                        let mut b: Vec<(&str, Cow<'_, Value>)> = Vec::with_capacity(2);
                        if let Some(kn) = key {
                            b.push((kn.as_str(), Cow::Owned(k)));
                        }
                        b.push((value.as_str(), Cow::Borrowed(v)));
                        let child = sc.child(b);
                        self.render_parts(body, &child, out, unknown, sens)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn eval_ref(
        &self,
        name: &str,
        span: BSpan,
        ops: &[TraverseOp],
        sc: &Scope<'_>,
    ) -> EResult<Value> {
        if let Some(v) = sc.binding(name) {
            return self.walk(v, ops, sc);
        }
        if self.in_template {
            let mut known = sc.bound_names();
            known.sort_unstable();
            known.dedup();
            return Err(error(
                format!("Unknown template variable \"{name}\""),
                span,
            )
            .detail(format!("the vars map does not contain the key \"{name}\""))
            .help(
                suggest::did_you_mean(name, known.iter().copied()).unwrap_or_else(|| {
                    format!(
                        "a template sees only the variables passed to it; add \"{name}\" to the vars map"
                    )
                }),
            ));
        }
        let full = ops.last().map(|o| span.to(o.span)).unwrap_or(span);
        let attr =
            |i: usize| -> EResult<(&str, BSpan)> {
                match ops.get(i) {
                    Some(TraverseOp {
                        kind: OpKind::Attr(a),
                        span,
                    }) => Ok((a.as_str(), *span)),
                    Some(op) => Err(error(format!("Invalid reference from \"{name}\""), op.span)
                        .help(format!(
                            "\"{name}\" must be followed by an attribute name: {name}.NAME"
                        ))),
                    None => Err(error(format!("Invalid reference \"{name}\""), span).help(
                        format!("\"{name}\" alone is not a value; write {name}.NAME"),
                    )),
                }
            };
        match name {
            "var" => {
                let (vname, vspan) = attr(0)?;
                let vars = self.vars.ok_or_else(|| {
                    error("Variables not allowed here", full)
                        .detail(format!("variables may not be used in {}", self.what))
                })?;
                match vars.get(vname) {
                    Some(v) => self.walk(v, &ops[1..], sc),
                    None => Err(error(
                        format!("Reference to undeclared input variable \"{vname}\""),
                        vspan,
                    )
                    .help(
                        suggest::did_you_mean(vname, vars.keys().map(String::as_str))
                            .unwrap_or_else(|| {
                                format!("declare it with a variable \"{vname}\" {{ }} block")
                            }),
                    )),
                }
            }
            "local" => {
                let (lname, lspan) = attr(0)?;
                let refs = self.refs.ok_or_else(|| {
                    error("Local values not allowed here", full)
                        .detail(format!("locals may not be used in {}", self.what))
                })?;
                let v = refs.local(self, lname, lspan)?;
                self.walk(&v, &ops[1..], sc)
            }
            "each" => {
                let (what, aspan) = attr(0)?;
                let Some((k, v)) = sc.each() else {
                    return Err(error("Reference to \"each\" in a context without for_each", full)
                        .help("each.key and each.value are only available in blocks that set for_each"));
                };
                match what {
                    "key" => self.walk(k, &ops[1..], sc),
                    "value" => self.walk(v, &ops[1..], sc),
                    other => Err(
                        error(format!("Invalid \"each\" attribute \"{other}\""), aspan)
                            .help("the \"each\" object has the attributes \"key\" and \"value\""),
                    ),
                }
            }
            "count" => {
                let (what, aspan) = attr(0)?;
                let Some(i) = sc.count_index() else {
                    return Err(
                        error("Reference to \"count\" in a context without count", full)
                            .help("count.index is only available in blocks that set count"),
                    );
                };
                if what != "index" {
                    return Err(
                        error(format!("Invalid \"count\" attribute \"{what}\""), aspan)
                            .help("the \"count\" object has only the attribute \"index\""),
                    );
                }
                self.walk(i, &ops[1..], sc)
            }
            "path" => {
                let (what, aspan) = attr(0)?;
                let v = match what {
                    "module" | "root" => Value::from(self.module_dir.display().to_string()),
                    "cwd" => Value::from(
                        std::env::current_dir()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|_| ".".into()),
                    ),
                    other => return Err(error(
                        format!("Invalid \"path\" attribute \"{other}\""),
                        aspan,
                    )
                    .help(
                        "the \"path\" object has the attributes \"module\", \"root\" and \"cwd\"",
                    )),
                };
                self.walk(&v, &ops[1..], sc)
            }
            "terraform" => {
                let (what, aspan) = attr(0)?;
                if what != "workspace" {
                    return Err(error(
                        format!("Invalid \"terraform\" attribute \"{what}\""),
                        aspan,
                    )
                    .help(
                        "only terraform.workspace is available (the selected workspace's name)",
                    ));
                }
                self.walk(&Value::from(self.workspace), &ops[1..], sc)
            }
            "self" => Err(error("\"self\" is not supported", span)
                .help("self is only meaningful in provisioners, which tunnelform does not run")),
            "module" => Err(error("Modules are not supported", full)
                .help("tunnelform loads one directory of *.tf files; modules cannot be called")),
            "data" | "resource" => {
                let (tname, _) = attr(0)?;
                let (rname, _) = attr(1)?;
                let refs = self.refs.ok_or_else(|| {
                    error("Resource references not allowed here", full)
                        .detail(format!("resources may not be referenced in {}", self.what))
                })?;
                let mode = if name == "data" {
                    Mode::Data
                } else {
                    Mode::Managed
                };
                refs.resource(self, sc, mode, tname, rname, full, &ops[2..])
            }
            _ => {
                if let (
                    Some(TraverseOp {
                        kind: OpKind::Attr(rname),
                        ..
                    }),
                    Some(refs),
                ) = (ops.first(), self.refs)
                {
                    if name.contains('_') {
                        return refs.resource(
                            self,
                            sc,
                            Mode::Managed,
                            name,
                            rname,
                            full,
                            &ops[1..],
                        );
                    }
                }
                let mut candidates = sc.bound_names();
                candidates.extend(["var", "local", "each", "count", "path", "data"]);
                Err(error(format!("Unknown variable \"{name}\""), span).help(
                    suggest::did_you_mean(name, candidates.iter().copied()).unwrap_or_else(|| {
                        "references start with var., local., each., count., data. or a resource type".into()
                    }),
                ))
            }
        }
    }

    /// Applies traversal operators to a value, cloning only the result.
    pub fn walk(&self, base: &Value, ops: &[TraverseOp], sc: &Scope<'_>) -> EResult<Value> {
        Ok(match self.walk_inner(base, ops, sc)? {
            Walked::Ref(v, sens) => mark_if(v.clone(), sens),
            Walked::Owned(v) => v,
        })
    }

    /// Applies traversal operators, borrowing the result from `base` when there is no splat.
    fn walk_inner<'v>(
        &self,
        base: &'v Value,
        ops: &[TraverseOp],
        sc: &Scope<'_>,
    ) -> EResult<Walked<'v>> {
        let mut cur = base;
        let mut sens = false;
        for (i, op) in ops.iter().enumerate() {
            while let Value::Sensitive(inner) = cur {
                sens = true;
                cur = inner;
            }
            if matches!(cur, Value::Unknown) {
                return Ok(Walked::Ref(&UNKNOWN, sens));
            }
            match &op.kind {
                OpKind::Attr(name) => match cur {
                    Value::Map(m) => match m.get(name) {
                        Some(v) => cur = v,
                        None => {
                            return Err(error(format!("Unsupported attribute \"{name}\""), op.span)
                                .detail("this object does not have an attribute of that name")
                                .help_opt(suggest::did_you_mean(name, m.keys().map(|k| k.as_str()))))
                        }
                    },
                    Value::Null => {
                        return Err(error("Attempt to get attribute from null value", op.span)
                            .detail(format!("this value is null, so it does not have an attribute \"{name}\"")))
                    }
                    Value::List(_) => {
                        return Err(error("Unsupported attribute", op.span)
                            .detail(format!("a list does not have attributes (asked for \"{name}\")"))
                            .help(format!("to get \"{name}\" of every element use [*].{name}; for one element use [INDEX].{name}")))
                    }
                    other => {
                        return Err(error("Unsupported attribute", op.span).detail(format!(
                            "a {} does not have attributes (asked for \"{name}\")",
                            values::describe_type(other)
                        )))
                    }
                },
                OpKind::Index(ie) => {
                    let (key, ks) = unmark(self.eval(ie, sc)?);
                    sens |= ks;
                    if key.is_unknown() {
                        return Ok(Walked::Ref(&UNKNOWN, sens));
                    }
                    cur = index_value(cur, &key, ks, op.span)?;
                }
                OpKind::LegacyIndex(n) => {
                    let key = Value::Number((*n).into());
                    cur = index_value(cur, &key, false, op.span)?;
                }
                OpKind::FullSplat | OpKind::AttrSplat => {
                    let rest = &ops[i + 1..];
                    let (each_ops, after) = if matches!(op.kind, OpKind::FullSplat) {
                        (rest, &rest[rest.len()..])
                    } else {
                        let n = rest
                            .iter()
                            .take_while(|o| matches!(o.kind, OpKind::Attr(_) | OpKind::LegacyIndex(_)))
                            .count();
                        (&rest[..n], &rest[n..])
                    };
                    let items: Vec<Value> = match cur {
                        Value::Null => Vec::new(),
                        Value::List(items) => {
                            let mut out = Vec::with_capacity(items.len());
                            for it in items {
                                self.step(op.span)?;
                                out.push(self.walk(it, each_ops, sc)?);
                            }
                            out
                        }
                        single => vec![self.walk(single, each_ops, sc)?],
                    };
                    let list = Value::List(items);
                    let v = self.walk(&list, after, sc)?;
                    return Ok(Walked::Owned(mark_if(v, sens)));
                }
            }
        }
        Ok(Walked::Ref(cur, sens))
    }

    /// Evaluates `e` into a shared value: `local.NAME` and `var.NAME` are not copied.
    pub fn eval_shared(&self, e: &Expr, sc: &Scope<'_>) -> EResult<Arc<Value>> {
        if let Some((
            root,
            [TraverseOp {
                kind: OpKind::Attr(name),
                span,
            }],
        )) = e.as_static_traversal()
        {
            if sc.binding(root).is_none() {
                match (root, self.vars, self.refs) {
                    ("var", Some(vars), _) => {
                        if let Some(v) = vars.get(name) {
                            return Ok(v.clone());
                        }
                    }
                    ("local", _, Some(refs)) => return refs.local(self, name, *span),
                    _ => {}
                }
            }
        }
        self.eval(e, sc).map(Arc::new)
    }

    /// Evaluates `e` and hands the value to `f` by reference. References to variables, locals,
    /// `each` and for-expression variables are not cloned.
    pub fn eval_with<R>(
        &self,
        e: &Expr,
        sc: &Scope<'_>,
        f: &mut dyn FnMut(&Value) -> EResult<R>,
    ) -> EResult<R> {
        let Some((name, ops)) = e.as_static_traversal() else {
            let v = self.eval(e, sc)?;
            return f(&v);
        };
        self.step(e.span)?;
        let attr0 = match ops.first() {
            Some(TraverseOp {
                kind: OpKind::Attr(a),
                ..
            }) => Some(a.as_str()),
            _ => None,
        };
        let give = |w: Walked<'_>, f: &mut dyn FnMut(&Value) -> EResult<R>| match w {
            Walked::Ref(v, false) => f(v),
            Walked::Ref(v, true) => f(&Value::sensitive(v.clone())),
            Walked::Owned(v) => f(&v),
        };
        if let Some(v) = sc.binding(name) {
            let w = self.walk_inner(v, ops, sc)?;
            return give(w, f);
        }
        match (name, attr0, self.vars, self.refs) {
            ("var", Some(vname), Some(vars), _) if vars.contains_key(vname) => {
                let v = &vars[vname];
                let w = self.walk_inner(v, &ops[1..], sc)?;
                give(w, f)
            }
            ("local", Some(lname), _, Some(refs)) => {
                let span = ops[0].span;
                let v = refs.local(self, lname, span)?;
                let w = self.walk_inner(&v, &ops[1..], sc)?;
                give(w, f)
            }
            ("each", Some(which @ ("key" | "value")), _, _) => match sc.each() {
                Some((k, v)) => {
                    let w = self.walk_inner(if which == "key" { k } else { v }, &ops[1..], sc)?;
                    give(w, f)
                }
                None => {
                    let v = self.eval(e, sc)?;
                    f(&v)
                }
            },
            _ => {
                let v = self.eval(e, sc)?;
                f(&v)
            }
        }
    }

    fn eval_call(
        &self,
        name: &str,
        name_span: BSpan,
        args: &[Expr],
        expand_final: bool,
        sc: &Scope<'_>,
        span: BSpan,
    ) -> EResult<Value> {
        let Some(f) = functions::lookup(name) else {
            return Err(
                error(format!("Call to unknown function \"{name}\""), name_span).help(
                    suggest::did_you_mean(name, functions::names()).unwrap_or_else(|| {
                        format!(
                            "available functions: {}",
                            functions::names().collect::<Vec<_>>().join(", ")
                        )
                    }),
                ),
            );
        };
        if let Body::Lazy(lazy) = f.body {
            f.arity.check(f.name, args.len(), span)?;
            return lazy(&InScope { ev: self, sc }, args, span);
        }
        if f.borrows_first && !expand_final && !args.is_empty() {
            let mut rest: Vec<(Value, BSpan)> = Vec::with_capacity(args.len() - 1);
            for a in &args[1..] {
                rest.push((self.eval(a, sc)?, a.span));
            }
            return self.eval_with(&args[0], sc, &mut |first| {
                let mut refs: Vec<(&Value, BSpan)> = Vec::with_capacity(args.len());
                refs.push((first, args[0].span));
                refs.extend(rest.iter().map(|(v, s)| (v, *s)));
                functions::call(self, f, &refs, span)
            });
        }
        let mut vals: Vec<(Value, BSpan)> = Vec::with_capacity(args.len());
        for a in args {
            vals.push((self.eval(a, sc)?, a.span));
        }
        if expand_final {
            if let Some((last, lspan)) = vals.pop() {
                let (last, s) = unmark(last);
                match last {
                    Value::List(items) => {
                        vals.extend(items.into_iter().map(|v| (mark_if(v, s), lspan)))
                    }
                    Value::Unknown => return Ok(mark_if(Value::Unknown, s)),
                    other => {
                        return Err(error("Invalid expanding argument", lspan).detail(format!(
                            "the argument after ... must be a list, got {}",
                            values::describe_type(&other)
                        )))
                    }
                }
            }
        }
        let refs: Vec<(&Value, BSpan)> = vals.iter().map(|(v, s)| (v, *s)).collect();
        functions::call(self, f, &refs, span)
    }

    fn eval_unary(&self, op: UnaryOp, inner: &Expr, sc: &Scope<'_>, span: BSpan) -> EResult<Value> {
        let (v, sens) = unmark(self.eval(inner, sc)?);
        if v.is_unknown() {
            return Ok(mark_if(Value::Unknown, sens));
        }
        let out = match op {
            UnaryOp::Neg => {
                let n = to_number(&v).ok_or_else(|| {
                    error("Invalid operand", inner.span).detail(format!(
                        "unary minus needs a number, got {}",
                        values::describe_type(&v)
                    ))
                })?;
                match n.as_i64().and_then(i64::checked_neg) {
                    Some(i) => Value::int(i),
                    None => Value::number(-n.as_f64().unwrap_or(0.0)),
                }
            }
            UnaryOp::Not => {
                let b = to_bool(&v).ok_or_else(|| {
                    error("Invalid operand", inner.span)
                        .detail(format!("! needs a bool, got {}", values::describe_type(&v)))
                })?;
                Value::Bool(!b)
            }
        };
        let _ = span;
        Ok(mark_if(out, sens))
    }

    fn eval_binary(
        &self,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        sc: &Scope<'_>,
        span: BSpan,
    ) -> EResult<Value> {
        if matches!(op, BinOp::And | BinOp::Or) {
            let (x, sx) = unmark(self.eval(a, sc)?);
            let xb = if x.is_unknown() {
                None
            } else {
                Some(bool_operand(&x, op, a.span)?)
            };
            // Short-circuit: the result is decided by the left operand.
            match (op, xb) {
                (BinOp::And, Some(false)) => return Ok(mark_if(Value::Bool(false), sx)),
                (BinOp::Or, Some(true)) => return Ok(mark_if(Value::Bool(true), sx)),
                _ => {}
            }
            let (y, sy) = unmark(self.eval(b, sc)?);
            let yb = if y.is_unknown() {
                None
            } else {
                Some(bool_operand(&y, op, b.span)?)
            };
            let sens = sx || sy;
            let out = match (op, xb, yb) {
                (BinOp::And, _, Some(false)) => Value::Bool(false),
                (BinOp::Or, _, Some(true)) => Value::Bool(true),
                (_, Some(_), Some(y)) => Value::Bool(y),
                _ => Value::Unknown,
            };
            return Ok(mark_if(out, sens));
        }
        let (x, sx) = unmark(self.eval(a, sc)?);
        let (y, sy) = unmark(self.eval(b, sc)?);
        let sens = sx || sy;
        if matches!(op, BinOp::Eq | BinOp::Ne) {
            let out = match equal(&x, &y) {
                None => Value::Unknown,
                Some(eq) => Value::Bool(if op == BinOp::Eq { eq } else { !eq }),
            };
            return Ok(mark_if(out, sens));
        }
        if x.is_unknown() || y.is_unknown() {
            return Ok(mark_if(Value::Unknown, sens));
        }
        let num = |v: &Value, e: &Expr| {
            to_number(v).ok_or_else(|| {
                error("Invalid operand", e.span).detail(format!(
                    "the operator {} needs numbers, got {}{}",
                    op.symbol(),
                    values::describe_type(v),
                    if sx || sy {
                        String::new()
                    } else {
                        format!(" ({})", show(v))
                    }
                ))
            })
        };
        let xn = num(&x, a)?;
        let yn = num(&y, b)?;
        let (xi, yi) = (xn.as_i64(), yn.as_i64());
        let (xf, yf) = (xn.as_f64().unwrap_or(0.0), yn.as_f64().unwrap_or(0.0));
        let out = match op {
            BinOp::Add => xi
                .zip(yi)
                .and_then(|(p, q)| p.checked_add(q))
                .map(Value::int)
                .unwrap_or_else(|| Value::number(xf + yf)),
            BinOp::Sub => xi
                .zip(yi)
                .and_then(|(p, q)| p.checked_sub(q))
                .map(Value::int)
                .unwrap_or_else(|| Value::number(xf - yf)),
            BinOp::Mul => xi
                .zip(yi)
                .and_then(|(p, q)| p.checked_mul(q))
                .map(Value::int)
                .unwrap_or_else(|| Value::number(xf * yf)),
            BinOp::Div => {
                if yf == 0.0 {
                    return Err(
                        error("Division by zero", span).help("the right operand of / is zero")
                    );
                }
                Value::number(xf / yf)
            }
            BinOp::Mod => {
                if yf == 0.0 {
                    return Err(
                        error("Division by zero", span).help("the right operand of % is zero")
                    );
                }
                match (xi, yi) {
                    (Some(p), Some(q)) => p
                        .checked_rem(q)
                        .map(Value::int)
                        .unwrap_or_else(|| Value::number(xf % yf)),
                    _ => Value::number(xf % yf),
                }
            }
            BinOp::Lt => Value::Bool(xf < yf),
            BinOp::Le => Value::Bool(xf <= yf),
            BinOp::Gt => Value::Bool(xf > yf),
            BinOp::Ge => Value::Bool(xf >= yf),
            BinOp::Eq | BinOp::Ne | BinOp::And | BinOp::Or => Value::Null,
        };
        if out.is_null() {
            return Err(
                error("Arithmetic overflow", span).detail("the result is not a finite number")
            );
        }
        Ok(mark_if(out, sens))
    }

    fn eval_for(&self, fe: &ForExpr, sc: &Scope<'_>, span: BSpan) -> EResult<Value> {
        let (coll, sens) = unmark(self.eval(&fe.coll, sc)?);
        if coll.is_unknown() {
            return Ok(mark_if(Value::Unknown, sens));
        }
        let pairs = collection_pairs(&coll).ok_or_else(|| {
            error("Invalid for expression", fe.coll.span).detail(format!(
                "a for expression iterates over a list or a map, got {}",
                values::describe_type(&coll)
            ))
        })?;
        let mut list = Vec::new();
        let mut map = map::Builder::new();
        let mut unknown = false;
        let mut produced = 0usize;
        for (k, v) in pairs {
            self.step(span)?;
            if produced > MAX_VALUE_WEIGHT {
                return Err(too_large(span));
            }
            let mut b: Vec<(&str, Cow<'_, Value>)> = Vec::with_capacity(2);
            if let Some(kn) = &fe.key_var {
                b.push((kn.as_str(), Cow::Owned(k)));
            }
            b.push((fe.value_var.as_str(), Cow::Borrowed(v)));
            let child = sc.child(b);
            if let Some(c) = &fe.cond {
                let (cv, cs) = unmark(self.eval(c, &child)?);
                if cs {
                    return Err(error("Sensitive value in for condition", c.span).detail(
                        "the condition of a for expression may not depend on a sensitive value",
                    ));
                }
                if cv.is_unknown() {
                    unknown = true;
                    continue;
                }
                let keep = to_bool(&cv).ok_or_else(|| {
                    error("Invalid for condition", c.span).detail(format!(
                        "the if clause must give a bool, got {}",
                        values::describe_type(&cv)
                    ))
                })?;
                if !keep {
                    continue;
                }
            }
            match &fe.key_expr {
                None => {
                    let v = self.eval(&fe.value_expr, &child)?;
                    produced += values::weight(&v, MAX_VALUE_WEIGHT).0;
                    list.push(v);
                }
                Some(ke) => {
                    let (key, ks) = unmark(self.eval(ke, &child)?);
                    if ks {
                        return Err(error("Sensitive value as object key", ke.span)
                            .detail("keys of a for expression may not be sensitive (they would be shown in plans)"));
                    }
                    let value = self.eval(&fe.value_expr, &child)?;
                    produced += values::weight(&value, MAX_VALUE_WEIGHT).0;
                    if key.is_unknown() {
                        unknown = true;
                        continue;
                    }
                    let key = primitive_string(&key)
                        .ok_or_else(|| {
                            error("Invalid object key", ke.span).detail(format!(
                                "a key must be a string, got {}",
                                values::describe_type(&key)
                            ))
                        })?
                        .into_owned();
                    match map.get_mut(&key) {
                        Some(Value::List(items)) if fe.grouping => items.push(value),
                        Some(_) => {
                            return Err(error(format!("Duplicate object key \"{key}\""), ke.span)
                                .help("two elements produced the same key; add ... after the value expression to group them into lists"));
                        }
                        None if fe.grouping => map.push_new(key.into(), Value::List(vec![value])),
                        None => map.push_new(key.into(), value),
                    }
                }
            }
        }
        if unknown {
            return Ok(mark_if(Value::Unknown, sens));
        }
        let out = if fe.key_expr.is_some() {
            Value::Map(map.finish())
        } else {
            Value::List(list)
        };
        Ok(mark_if(out, sens))
    }
}

/// What functions see of an evaluator.
impl Context for Evaluator<'_> {
    fn step(&self, span: BSpan) -> EResult<()> {
        Evaluator::step(self, span)
    }

    fn module_dir(&self) -> &Path {
        self.module_dir
    }

    fn in_template(&self) -> bool {
        self.in_template
    }

    fn render_template(&self, parts: Vec<TemplatePart>, vars: &Map, span: BSpan) -> EResult<Value> {
        render_template(self.module_dir, parts, vars, span)
    }
}

/// Renders a parsed template (`templatefile`, `templatestring`) with `vars` as its only names.
/// A template that is one interpolation (`${x}`) gives `x` itself, whatever its type, as in
/// Terraform. Functions called in the template resolve relative paths against `module_dir`.
pub fn render_template(
    module_dir: &Path,
    parts: Vec<TemplatePart>,
    vars: &Map,
    span: BSpan,
) -> EResult<Value> {
    let mut ev = Evaluator::new(None, None, module_dir, "a template");
    ev.in_template = true;
    let bindings: Vec<(&str, Cow<'_, Value>)> = vars
        .iter()
        .map(|(k, v)| (k.as_str(), Cow::Borrowed(v)))
        .collect();
    let root = Scope::root();
    let sc = root.child(bindings);
    let e = Expr {
        kind: ExprKind::Template(parts),
        span,
    };
    ev.eval(&e, &sc)
}

/// The arguments of a lazy function (`try`, `can`), evaluated in the caller's scope.
struct InScope<'e, 'a, 's> {
    ev: &'e Evaluator<'a>,
    sc: &'e Scope<'s>,
}

impl Evaluate for InScope<'_, '_, '_> {
    fn evaluate(&self, e: &Expr) -> EResult<Value> {
        self.ev.eval(e, self.sc)
    }

    fn context(&self) -> &dyn Context {
        self.ev
    }
}

static UNKNOWN: Value = Value::Unknown;

enum Walked<'v> {
    Ref(&'v Value, bool),
    Owned(Value),
}

fn bool_operand(v: &Value, op: BinOp, span: BSpan) -> EResult<bool> {
    to_bool(v).ok_or_else(|| {
        error("Invalid operand", span).detail(format!(
            "the operator {} needs bools, got {}",
            op.symbol(),
            values::describe_type(v)
        ))
    })
}

/// (key, element) pairs of a list (index keys) or map (string keys).
pub fn collection_pairs(v: &Value) -> Option<Vec<(Value, &Value)>> {
    match v.unmarked() {
        Value::List(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::int(i as i64), v))
                .collect(),
        ),
        Value::Map(m) => Some(
            m.iter()
                .map(|(k, v)| (Value::string(k.to_string()), v))
                .collect(),
        ),
        _ => None,
    }
}

fn index_value<'v>(
    cur: &'v Value,
    key: &Value,
    sensitive: bool,
    span: BSpan,
) -> EResult<&'v Value> {
    let shown_key = if sensitive {
        "(sensitive value)".to_string()
    } else {
        show(key)
    };
    match cur {
        Value::List(items) => {
            let idx = to_number(key).and_then(|n| n.as_i64()).ok_or_else(|| {
                error("Invalid index", span).detail(format!(
                    "a list index must be a whole number, got {shown_key}"
                ))
            })?;
            usize::try_from(idx)
                .ok()
                .and_then(|i| items.get(i))
                .ok_or_else(|| {
                    error("Invalid index", span).detail(format!(
                        "index {idx} is out of range: the list has {} element{}",
                        items.len(),
                        if items.len() == 1 { "" } else { "s" }
                    ))
                })
        }
        Value::Map(m) => {
            let k = primitive_string(key).ok_or_else(|| {
                error("Invalid index", span).detail(format!(
                    "a map key must be a string, got {}",
                    values::describe_type(key)
                ))
            })?;
            m.get(k.as_ref()).ok_or_else(|| {
                error("Invalid index", span)
                    .detail(format!("the map has no element with the key {shown_key}"))
                    .help_opt(if sensitive {
                        None
                    } else {
                        suggest::did_you_mean(&k, m.keys().map(|k| k.as_str()))
                    })
            })
        }
        Value::Null => Err(error("Attempt to index null value", span).detail("this value is null")),
        other => Err(error("Invalid index", span).detail(format!(
            "a {} cannot be indexed; only lists and maps can",
            values::describe_type(other)
        ))),
    }
}
