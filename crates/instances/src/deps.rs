//! Per-instance dependencies that follow values through locals and module inputs.
//!
//! A module's input variable is a local holding the call's argument, often a map with one entry
//! per tunnel (`tunnels = { for k, t in ... : k => { gateway_id = gw[t.gateway].id } }`). Read
//! as one value, it depends on every gateway it names, and so would every tunnel iterating it.
//! The tracer here follows a reference into such a value by its static path
//! (`each.value.gateway_id` with `for_each = var.tunnels`, `var.tunnels["a"].gateway_id`,
//! `local.hub.primary`) down to the expression that computes the entry reached: an object
//! constructor's attribute, the element of a `for` expression over a collection known without
//! resources, a conditional's branches. The dependencies are those of that expression. Where
//! the path is dynamic (a function of the whole value, an index computed from resources), the
//! whole value's dependencies are taken, as before.
//!
//! `for_each` itself counts for its keys only: an instance exists because its key is there,
//! and what it reads of `each.value` is traced like any other reference.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tunnelform_lang::eval::{collection_pairs, Evaluator, Scope};
use tunnelform_lang::graph::{self, RefKind};
use tunnelform_lang::values::{self, primitive_string};
use tunnelform_model::{Address, InstanceKey, Mode, Value};
use tunnelform_syntax::ast::{Expr, ExprKind, ForExpr, ObjKey, OpKind, TemplatePart, TraverseOp};

use crate::loaded::{BlockPlanKind, BodyPlan, Loaded, ResourceBlock};

/// Expressions visited per instance before giving up and taking the block's dependencies.
const MAX_VISITS: usize = 50_000;

/// Names in scope while tracing.
#[derive(Clone, Copy)]
struct Env<'e> {
    /// The evaluation scope (the instance's `each`/`count`, and `for` variables with values).
    sc: &'e Scope<'e>,
    /// Names bound in `sc` to values computed without resources.
    valued: &'e [&'e str],
    /// Names bound to parts of a value traced as a whole (iterators of `for` expressions that
    /// could not be resolved, dynamic blocks): reading them adds nothing more.
    opaque: &'e [&'e str],
    /// `each` and `count` are the instance's (false inside locals).
    instance: bool,
}

/// What of a value is needed: the part at `path`, and of it only the keys (`for_each`).
#[derive(Clone, Copy)]
struct Want<'p> {
    path: &'p [Value],
    keys: bool,
}

const WHOLE: Want<'static> = Want {
    path: &[],
    keys: false,
};

impl<'e> Env<'e> {
    /// The module's own scope: no `each`, `count` or `for` variable.
    fn root(sc: &'e Scope<'e>) -> Env<'e> {
        Env {
            sc,
            valued: &[],
            opaque: &[],
            instance: false,
        }
    }
}

impl Want<'_> {
    /// Appends what is wanted to the static `path` reached so far: when that path is `full`
    /// (every step known), the wanted part lies below it, and its keys are wanted as they were;
    /// otherwise the whole of what `path` reaches is wanted. Returns whether keys are wanted.
    fn below(&self, path: &mut Vec<Value>, full: bool) -> bool {
        if full {
            path.extend(self.path.iter().cloned());
            self.keys
        } else {
            false
        }
    }
}

/// What the tracer reads of the evaluation session it runs in.
pub(crate) struct Session<'s> {
    pub cfg: &'s Loaded,
    pub memo: &'s RefCell<TraceMemo>,
    /// Whether a block (by index) has an instance with this key (false when not known).
    pub has_key: &'s dyn Fn(usize, &InstanceKey) -> bool,
}

impl Session<'_> {
    /// The whole-value dependencies of impure local `li`, computed by `f` at first need.
    fn local_deps(
        &self,
        li: usize,
        f: impl FnOnce() -> BTreeSet<Address>,
    ) -> Arc<BTreeSet<Address>> {
        if let Some(d) = self.memo.borrow().locals.get(&li) {
            return d.clone();
        }
        let d = Arc::new(f());
        self.memo.borrow_mut().locals.insert(li, d.clone());
        d
    }
}

pub(crate) struct Tracer<'s> {
    session: &'s Session<'s>,
    ev: &'s Evaluator<'s>,
    block: &'s ResourceBlock,
    /// `each.key` of the instance, when it has one.
    each_key: Option<Value>,
    out: BTreeSet<Address>,
    visits: usize,
}

impl<'s> Tracer<'s> {
    /// The dependencies of one instance of `block` (evaluated in `sc`), or None when the
    /// configuration is too intricate to trace within the budget (the caller then takes the
    /// block's dependencies).
    pub(crate) fn instance_deps(
        session: &'s Session<'s>,
        ev: &'s Evaluator<'s>,
        sc: &Scope<'_>,
        block: &'s ResourceBlock,
        key: Option<&InstanceKey>,
    ) -> Option<BTreeSet<Address>> {
        let each_key = match key {
            Some(InstanceKey::Key(k)) if block.for_each.is_some() => Some(Value::from(k.as_str())),
            _ => None,
        };
        let mut t = Tracer {
            session,
            ev,
            block,
            each_key,
            out: BTreeSet::new(),
            visits: 0,
        };
        let env = Env {
            sc,
            valued: &[],
            opaque: &[],
            instance: true,
        };
        let root = Scope::root();
        let root_env = Env::root(&root);
        if let Some(c) = &block.count {
            t.trace(c, root_env, WHOLE);
        }
        if let Some(f) = &block.for_each {
            t.trace(
                f,
                root_env,
                Want {
                    path: &[],
                    keys: true,
                },
            );
        }
        t.body(&block.body, env, &[]);
        for trigger in &block.triggers {
            t.trace(&trigger.expr, env, WHOLE);
        }
        if t.visits > MAX_VISITS {
            return None;
        }
        t.out.extend(block.deps.explicit_deps.iter().cloned());
        Some(t.out)
    }

    fn body(&mut self, p: &BodyPlan, env: Env<'_>, bound: &[&str]) {
        let env = Env {
            opaque: bound,
            ..env
        };
        for a in &p.attrs {
            self.trace(&a.expr, env, WHOLE);
        }
        for b in &p.blocks {
            match &b.kind {
                BlockPlanKind::Static(inner) => self.body(inner, env, bound),
                BlockPlanKind::Dynamic {
                    for_each,
                    iterator,
                    content,
                } => {
                    self.trace(for_each, env, WHOLE);
                    let mut nb = bound.to_vec();
                    nb.push(iterator.as_str());
                    self.body(content, env, &nb);
                }
            }
        }
    }

    fn over_budget(&mut self) -> bool {
        self.visits += 1;
        self.visits > MAX_VISITS
    }

    fn trace(&mut self, e: &Expr, env: Env<'_>, want: Want<'_>) {
        if self.over_budget() {
            return;
        }
        match &e.kind {
            ExprKind::Literal(_) => {}
            ExprKind::Var(name) => self.reference(name, &[], env, want),
            ExprKind::Traversal(base, ops) => {
                for op in ops {
                    if let OpKind::Index(ie) = &op.kind {
                        self.trace(ie, env, WHOLE);
                    }
                }
                match &base.kind {
                    ExprKind::Var(name) => self.reference(name, ops, env, want),
                    _ => self.at_path(base, ops, env, want, env),
                }
            }
            ExprKind::Tuple(items) => {
                let index = want
                    .path
                    .first()
                    .and_then(|k| u64::try_from(values::to_number(k)?.as_i64()?).ok());
                match index {
                    Some(i) => {
                        if let Some(item) = items.get(i as usize) {
                            self.trace(item, env, rest(want));
                        }
                    }
                    None => items.iter().for_each(|i| self.trace(i, env, WHOLE)),
                }
            }
            ExprKind::Object(items) => self.object(items, env, want),
            ExprKind::Template(parts) => self.template(parts, env),
            ExprKind::Call { name, args, .. } => {
                // Functions that hand their argument through unchanged in structure.
                let through = matches!(
                    name.as_str(),
                    "sensitive" | "nonsensitive" | "tomap" | "tolist" | "toobject"
                );
                match args.as_slice() {
                    [a] if through => self.trace(a, env, want),
                    _ => args.iter().for_each(|a| self.trace(a, env, WHOLE)),
                }
            }
            ExprKind::Unary(_, a) => self.trace(a, env, WHOLE),
            ExprKind::Binary(_, a, b) => {
                self.trace(a, env, WHOLE);
                self.trace(b, env, WHOLE);
            }
            ExprKind::Cond(c, a, b) => {
                self.trace(c, env, WHOLE);
                self.trace(a, env, want);
                self.trace(b, env, want);
            }
            ExprKind::For(fe) => self.for_expr(fe, env, want),
        }
    }

    /// `base` followed by `ops`, wanted at `want`: traces `base` at the ops' static path.
    fn at_path(
        &mut self,
        base: &Expr,
        ops: &[TraverseOp],
        env: Env<'_>,
        want: Want<'_>,
        base_env: Env<'_>,
    ) {
        let (mut path, full) = self.static_path(ops, env);
        let keys = want.below(&mut path, full);
        self.trace(base, base_env, Want { path: &path, keys });
    }

    fn object(&mut self, items: &[(ObjKey, Expr)], env: Env<'_>, want: Want<'_>) {
        let mut keys: Vec<Option<String>> = Vec::with_capacity(items.len());
        for (k, _) in items {
            match k {
                ObjKey::Ident(n, _) => keys.push(Some(n.clone())),
                ObjKey::Expr(ke) => {
                    self.trace(ke, env, WHOLE);
                    keys.push(
                        self.static_value(ke, env)
                            .and_then(|v| primitive_string(&v).map(|s| s.into_owned())),
                    );
                }
            }
        }
        if want.path.is_empty() && want.keys {
            return;
        }
        let wanted = want
            .path
            .first()
            .and_then(|k| primitive_string(k).map(|s| s.into_owned()));
        match wanted {
            Some(w) if keys.iter().all(Option::is_some) => {
                for ((_, v), k) in items.iter().zip(&keys) {
                    if k.as_deref() == Some(w.as_str()) {
                        self.trace(v, env, rest(want));
                    }
                }
            }
            _ => items.iter().for_each(|(_, v)| self.trace(v, env, WHOLE)),
        }
    }

    fn template(&mut self, parts: &[TemplatePart], env: Env<'_>) {
        for p in parts {
            match p {
                TemplatePart::Lit(_) => {}
                TemplatePart::Interp(e) => self.trace(e, env, WHOLE),
                TemplatePart::If { cond, then, els } => {
                    self.trace(cond, env, WHOLE);
                    self.template(then, env);
                    self.template(els, env);
                }
                TemplatePart::For {
                    key,
                    value,
                    coll,
                    body,
                } => {
                    self.trace(coll, env, WHOLE);
                    let mut opaque = env.opaque.to_vec();
                    opaque.extend(key.iter().map(String::as_str));
                    opaque.push(value.as_str());
                    self.template(
                        body,
                        Env {
                            opaque: &opaque,
                            ..env
                        },
                    );
                }
            }
        }
    }

    /// `{ for k, v in COLL : KEY => VALUE }` wanted at `[key, rest...]` (or for its keys): when
    /// COLL and KEY are known without resources, only the matching element's VALUE (at `rest`)
    /// and condition count. Otherwise everything in it.
    fn for_expr(&mut self, fe: &ForExpr, env: Env<'_>, want: Want<'_>) {
        if self.resolved_for(fe, env, want) {
            return;
        }
        self.trace(&fe.coll, env, WHOLE);
        let mut opaque = env.opaque.to_vec();
        opaque.extend(fe.key_var.iter().map(String::as_str));
        opaque.push(fe.value_var.as_str());
        let inner = Env {
            opaque: &opaque,
            ..env
        };
        if let Some(k) = &fe.key_expr {
            self.trace(k, inner, WHOLE);
        }
        self.trace(&fe.value_expr, inner, WHOLE);
        if let Some(c) = &fe.cond {
            self.trace(c, inner, WHOLE);
        }
    }

    fn resolved_for(&mut self, fe: &ForExpr, env: Env<'_>, want: Want<'_>) -> bool {
        // An element is found by its key in the object form only; the whole value (or its
        // keys) in either form.
        let by_key = !want.path.is_empty();
        if by_key && (fe.key_expr.is_none() || fe.grouping) {
            return false;
        }
        let Some(coll) = self.static_coll(&fe.coll, env) else {
            return false;
        };
        let mut valued = env.valued.to_vec();
        valued.extend(fe.key_var.iter().map(String::as_str));
        valued.push(fe.value_var.as_str());
        let names = Env {
            valued: &valued,
            ..env
        };
        if fe
            .key_expr
            .as_ref()
            .is_some_and(|k| !self.evaluable(k, names))
            || fe.cond.as_ref().is_some_and(|c| !self.evaluable(c, names))
        {
            return false;
        }
        let wanted = match want.path.first() {
            Some(w) => match primitive_string(w) {
                Some(w) => Some(w.into_owned()),
                None => return false,
            },
            None => None,
        };
        // `k => ...` over a map: the element is the one under that key, looked up (a block of N
        // instances, each wanting its own element of an N-element input, is N lookups, not N²
        // steps).
        let direct = wanted.is_some()
            && matches!(fe.key_expr.as_ref().map(|k| &k.kind), Some(ExprKind::Var(n)) if fe.key_var.as_deref() == Some(n.as_str()))
            && matches!(coll.unmarked(), Value::Map(_));
        if !matches!(coll.unmarked(), Value::List(_) | Value::Map(_)) {
            return false;
        }
        // The collection's own dependencies (through `each.value`, say).
        self.trace(&fe.coll, env, WHOLE);
        if !by_key && want.keys && fe.key_expr.is_some() {
            // Only the keys are wanted, and they come from the collection: its elements are not
            // listed (each instance of a block whose `for_each` is this expression asks this,
            // so listing them made a block of N instances N² steps).
            return true;
        }
        let pairs: Vec<(Value, &Value)> = match (direct, coll.unmarked(), &wanted) {
            (true, Value::Map(m), Some(w)) => m
                .get(w.as_str())
                .map(|v| (Value::string(w.clone()), v))
                .into_iter()
                .collect(),
            _ => match collection_pairs(&coll) {
                Some(pairs) => pairs,
                None => return false,
            },
        };
        let inner_want = if by_key { rest(want) } else { WHOLE };
        for (k, v) in pairs {
            let vscope = env.sc.bind(fe.value_var.as_str(), v.clone());
            let kscope;
            let sc: &Scope<'_> = match &fe.key_var {
                Some(kn) => {
                    kscope = vscope.bind(kn.as_str(), k.clone());
                    &kscope
                }
                None => &vscope,
            };
            let child = Env { sc, ..names };
            if let (Some(w), Some(ke), false) = (&wanted, &fe.key_expr, direct) {
                let Some(key) = self.static_value(ke, child) else {
                    return false;
                };
                if primitive_string(&key).as_deref() != Some(w.as_str()) {
                    continue;
                }
            }
            if let Some(c) = &fe.cond {
                self.trace(c, child, WHOLE);
            }
            self.trace(&fe.value_expr, child, inner_want);
            if self.visits > MAX_VISITS {
                return true;
            }
        }
        true
    }

    /// A reference `name.ops...` wanted at `want`.
    fn reference(&mut self, name: &str, ops: &[TraverseOp], env: Env<'_>, want: Want<'_>) {
        if env.valued.contains(&name) || env.opaque.contains(&name) {
            return;
        }
        let attr = |i: usize| match ops.get(i).map(|o| &o.kind) {
            Some(OpKind::Attr(a)) => Some(a.as_str()),
            _ => None,
        };
        match name {
            "var" | "path" | "terraform" | "count" => {}
            "each" => {
                if !env.instance || attr(0) != Some("value") {
                    return;
                }
                let Some(fe) = &self.block.for_each else {
                    return;
                };
                let root = Scope::root();
                let root_env = Env::root(&root);
                match self.each_key.clone() {
                    Some(k) => {
                        let (rest_path, full) = self.static_path(&ops[1..], env);
                        let mut path = vec![k];
                        path.extend(rest_path);
                        let keys = want.below(&mut path, full);
                        self.trace(fe, root_env, Want { path: &path, keys });
                    }
                    None => self.trace(fe, root_env, WHOLE),
                }
            }
            "local" => {
                let Some(lname) = attr(0) else { return };
                let inner = &self.session.cfg.inner;
                let Some(&li) = inner.local_index.get(lname) else {
                    return;
                };
                if !inner.impure[li] {
                    return;
                }
                let root = Scope::root();
                let root_env = Env::root(&root);
                let (mut path, full) = self.static_path(&ops[1..], env);
                let keys = want.below(&mut path, full);
                if path.is_empty() && !keys {
                    let session = self.session;
                    let deps = session.local_deps(li, || {
                        let mut t = Tracer {
                            session: self.session,
                            ev: self.ev,
                            block: self.block,
                            each_key: None,
                            out: BTreeSet::new(),
                            visits: self.visits,
                        };
                        t.trace(&inner.locals[li].expr, root_env, WHOLE);
                        self.visits = t.visits;
                        t.out
                    });
                    self.out.extend(deps.iter().cloned());
                    return;
                }
                self.trace(&inner.locals[li].expr, root_env, Want { path: &path, keys });
            }
            "data" | "resource" => {
                if let (Some(t), Some(n)) = (attr(0), attr(1)) {
                    let mode = if name == "data" {
                        Mode::Data
                    } else {
                        Mode::Managed
                    };
                    self.resource(mode, t, n, &ops[2..], env);
                }
            }
            t if t.contains('_') => {
                if let Some(n) = attr(0) {
                    self.resource(Mode::Managed, t, n, &ops[1..], env);
                }
            }
            _ => {}
        }
    }

    /// A resource reference: one instance when its key is known without resources, else the
    /// whole block.
    fn resource(
        &mut self,
        mode: Mode,
        type_name: &str,
        name: &str,
        rest: &[TraverseOp],
        env: Env<'_>,
    ) {
        let inner = &self.session.cfg.inner;
        let Some(&idx) = inner
            .block_index
            .get(&(mode, type_name.to_string(), name.to_string()))
        else {
            return;
        };
        let b = &inner.blocks[idx];
        if !b.is_multi() {
            self.out.insert(b.addr.clone());
            return;
        }
        let key = match rest.first().map(|o| &o.kind) {
            Some(OpKind::Index(ie)) => self.static_value(ie, env).and_then(|v| b.instance_key(&v)),
            Some(OpKind::LegacyIndex(i)) => Some(InstanceKey::Index(*i)),
            _ => None,
        };
        let known = key.filter(|k| (self.session.has_key)(idx, k));
        self.out.insert(b.addr.clone().with_key(known));
    }

    /// The static path of `ops` (attributes, literal indexes, indexes known without resources),
    /// and whether all of `ops` is static.
    fn static_path(&mut self, ops: &[TraverseOp], env: Env<'_>) -> (Vec<Value>, bool) {
        let mut path = Vec::with_capacity(ops.len());
        for op in ops {
            let step = match &op.kind {
                OpKind::Attr(a) => Some(Value::from(a.as_str())),
                OpKind::LegacyIndex(i) => Some(Value::int(*i as i64)),
                OpKind::Index(ie) => self.static_value(ie, env),
                OpKind::AttrSplat | OpKind::FullSplat => None,
            };
            match step {
                Some(s) => path.push(s),
                None => return (path, false),
            }
        }
        (path, true)
    }

    /// Whether `e` reads nothing that depends on resources (its value is the same whenever the
    /// instance is evaluated).
    fn evaluable(&self, e: &Expr, env: Env<'_>) -> bool {
        let inner = &self.session.cfg.inner;
        let mut refs = Vec::new();
        graph::collect_refs(e, env.valued, &mut refs);
        refs.iter().all(|r| match &r.kind {
            RefKind::Var(_) | RefKind::Builtin => true,
            RefKind::Each | RefKind::Count => env.instance,
            RefKind::Local(l) => inner.local_index.get(*l).is_some_and(|&i| !inner.impure[i]),
            RefKind::Resource { .. } | RefKind::Invalid { .. } => false,
        })
    }

    /// The value of `e` when it is known without resources, and wholly known.
    fn static_value(&mut self, e: &Expr, env: Env<'_>) -> Option<Value> {
        if !self.evaluable(e, env) {
            return None;
        }
        let v = self.ev.eval(e, env.sc).ok()?;
        v.is_wholly_known().then(|| v.into_unmarked())
    }

    /// A `for` expression's collection when known without resources (memoized when it does not
    /// depend on the instance).
    fn static_coll(&mut self, e: &Expr, env: Env<'_>) -> Option<Arc<Value>> {
        let root_only = env.valued.is_empty() && {
            let mut refs = Vec::new();
            graph::collect_refs(e, &[], &mut refs);
            !refs
                .iter()
                .any(|r| matches!(r.kind, RefKind::Each | RefKind::Count))
        };
        if root_only {
            let key = e as *const Expr as usize;
            if let Some(v) = self.session.memo.borrow().colls.get(&key) {
                return v.clone();
            }
            let v = self.static_value(e, env).map(Arc::new);
            self.session.memo.borrow_mut().colls.insert(key, v.clone());
            return v;
        }
        self.static_value(e, env).map(Arc::new)
    }
}

fn rest(want: Want<'_>) -> Want<'_> {
    Want {
        path: &want.path[1..],
        keys: want.keys,
    }
}

/// Memo tables a session keeps for the tracer.
#[derive(Default)]
pub(crate) struct TraceMemo {
    /// Whole-value dependencies of impure locals.
    pub locals: HashMap<usize, Arc<BTreeSet<Address>>>,
    /// Values of `for` collections known without resources, by expression.
    pub colls: HashMap<usize, Option<Arc<Value>>>,
}
