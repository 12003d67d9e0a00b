//! Evaluation against a [`Lookup`]: expanding blocks into instances, outputs, imports.
//!
//! A session memoizes what several instances share: locals that depend on resources, the
//! expansion (count / for_each) of referenced blocks, whole-resource values.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use tunnelform_model::Map;

use tunnelform_model::schema::Nesting;
use tunnelform_model::{
    Address, Diagnostic, Diagnostics, InstanceKey, Lifecycle, Mode, Span, Value,
};

use tunnelform_lang::error::{error, EResult, EvalError, WithHelp};
use tunnelform_lang::eval::{collection_pairs, Evaluator, Refs, Scope};
use tunnelform_lang::suggest;
use tunnelform_lang::values::{self, check_size, mark_if, unmark};
use tunnelform_syntax::ast::{Expr, OpKind, TraverseOp};
use tunnelform_syntax::BSpan;

use crate::api::{block_key, AttrSpans, ImportBlock, Instance, Lookup, OutputValue};
use crate::deps::{self, TraceMemo, Tracer};
use crate::loaded::{BlockPlanKind, BodyPlan, Expansion, KeyRef, Loaded, ResourceBlock};
use crate::validate::{check_attr, convert_attr, cross_checks, Problem};

/// Largest `count` accepted.
const MAX_COUNT: i64 = 1_000_000;
/// Diagnostics reported per expansion (identical ones from many instances are folded).
const MAX_DIAGS: usize = 100;

type Memo<T> = Result<Arc<T>, Box<EvalError>>;

pub struct Session<'c> {
    pub(crate) cfg: &'c Loaded,
    lookup: &'c dyn Lookup,
    /// Locals that depend on resources, evaluated once per session (all at first need).
    impure: RefCell<Option<Vec<Option<Memo<Value>>>>>,
    expansions: RefCell<HashMap<usize, Memo<Expansion>>>,
    wholes: RefCell<HashMap<usize, Arc<Value>>>,
    /// What the dependency tracer (`deps.rs`) computed once for the session.
    trace: RefCell<TraceMemo>,
    /// The last instance's spans and its block's index, shared with the next instance of the
    /// block: always for a block without `dynamic` blocks (whose spans are built only if asked
    /// for), when equal for one with.
    spans: RefCell<Option<(usize, AttrSpans)>>,
}

impl<'c> Session<'c> {
    pub fn new(cfg: &'c Loaded, lookup: &'c dyn Lookup) -> Session<'c> {
        Session {
            cfg,
            lookup,
            impure: RefCell::new(None),
            expansions: RefCell::new(HashMap::new()),
            wholes: RefCell::new(HashMap::new()),
            trace: RefCell::new(TraceMemo::default()),
            spans: RefCell::new(None),
        }
    }

    pub(crate) fn evaluator(&self) -> Evaluator<'_> {
        let inner = &self.cfg.inner;
        let mut ev = Evaluator::new(
            Some(&inner.var_values),
            Some(self as &dyn Refs),
            &inner.dir,
            "this context",
        );
        ev.workspace = &inner.workspace;
        ev
    }

    pub(crate) fn diag(&self, e: EvalError) -> Diagnostic {
        let mut d = e.into_diag(&self.cfg.inner.sources);
        crate::loaded::add_call_chain(&mut d, &self.cfg.inner.module_files);
        d
    }

    /// The value of the impure local `li`, evaluated at its first use in this session (with the
    /// locals it reads, recursively: locals have no cycles). Only the locals an instance reads are
    /// evaluated: evaluating every impure local for every instance made a module-shaped
    /// configuration (one impure local per module input that names a resource) quadratic.
    fn impure_local(&self, ev: &Evaluator<'_>, li: usize) -> Memo<Value> {
        let inner = &self.cfg.inner;
        {
            let mut slots = self.impure.borrow_mut();
            let slots = slots.get_or_insert_with(|| vec![None; inner.locals.len()]);
            if let Some(r) = &slots[li] {
                return r.clone();
            }
        }
        {
            let r = ev
                .eval(&inner.locals[li].expr, &Scope::root())
                .and_then(|v| inner.locals[li].finish(v, ev.module_dir))
                .and_then(|v| {
                    check_size(&v).map_err(|m| {
                        error(
                            format!("Value of local.{} too large", inner.locals[li].name),
                            inner.locals[li].expr.span,
                        )
                        .detail(m)
                    })?;
                    Ok(Arc::new(v))
                });
            if let Some(slots) = self.impure.borrow_mut().as_mut() {
                slots[li] = Some(r.clone());
            }
            r
        }
    }

    /// The expansion of a block (memoized).
    pub(crate) fn expansion(&self, ev: &Evaluator<'_>, idx: usize) -> EResult<Arc<Expansion>> {
        if let Some(e) = &self.cfg.inner.blocks[idx].static_expansion {
            return Ok(e.clone());
        }
        if let Some(r) = self.expansions.borrow().get(&idx) {
            return r.clone();
        }
        let r = compute_expansion(
            ev,
            &self.cfg.inner.blocks[idx],
            self.cfg.inner.unset_unknown,
        )
        .map(Arc::new);
        self.expansions.borrow_mut().insert(idx, r.clone());
        r
    }

    /// Keys of an expansion, in order.
    fn keys(exp: &Expansion) -> Vec<Option<InstanceKey>> {
        match exp {
            Expansion::Single => vec![None],
            Expansion::Unknown => Vec::new(),
            Expansion::Count(n) => (0..*n).map(|i| Some(InstanceKey::Index(i))).collect(),
            Expansion::ForEach(v) => match &**v {
                Value::Map(m) => m
                    .keys()
                    .map(|k| Some(InstanceKey::Key(k.to_string())))
                    .collect(),
                Value::List(items) => items
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(|k| Some(InstanceKey::Key(k.to_string())))
                    .collect(),
                _ => Vec::new(),
            },
        }
    }

    fn has_key(exp: &Expansion, key: &InstanceKey) -> bool {
        match (exp, key) {
            (Expansion::Single, _) => false,
            (Expansion::Count(n), InstanceKey::Index(i)) => i < n,
            (Expansion::ForEach(v), InstanceKey::Key(k)) => match v.unmarked() {
                Value::Map(m) => m.contains_key(k),
                Value::List(items) => items.iter().any(|x| x.as_str() == Some(k.as_str())),
                _ => false,
            },
            _ => false,
        }
    }

    /// The whole value of a multi-instance block: a map (for_each) or list (count) of objects.
    fn whole(&self, ev: &Evaluator<'_>, idx: usize) -> EResult<Arc<Value>> {
        if let Some(v) = self.wholes.borrow().get(&idx) {
            return Ok(v.clone());
        }
        let b = &self.cfg.inner.blocks[idx];
        let exp = self.expansion(ev, idx).map_err(|e| {
            error(format!("Cannot read {}", b.addr), e.span)
                .detail(format!("its instances are not known: {}", e.summary))
        })?;
        let get = |k: Option<InstanceKey>| {
            self.lookup
                .instance(&b.addr.clone().with_key(k))
                .unwrap_or(Value::Unknown)
        };
        let v = match &*exp {
            Expansion::Single => get(None),
            Expansion::Unknown => Value::Unknown,
            Expansion::Count(n) => {
                Value::List((0..*n).map(|i| get(Some(InstanceKey::Index(i)))).collect())
            }
            Expansion::ForEach(_) => {
                let mut m = Map::new();
                for k in Self::keys(&exp).into_iter().flatten() {
                    if let InstanceKey::Key(s) = &k {
                        m.insert(s.clone().into(), get(Some(k.clone())));
                    }
                }
                Value::Map(m)
            }
        };
        let v = Arc::new(v);
        self.wholes.borrow_mut().insert(idx, v.clone());
        Ok(v)
    }

    // -------------------------------------------------------------------------------------
    // Instances

    /// All instances of a block, or only the one with `only`'s key.
    pub fn expand(
        &self,
        idx: usize,
        only: Option<Option<InstanceKey>>,
    ) -> Result<Vec<Instance>, Diagnostics> {
        let ev = self.evaluator();
        let exp = self
            .expansion(&ev, idx)
            .map_err(|e| Diagnostics::from(self.diag(*e)))?;
        let b = &self.cfg.inner.blocks[idx];
        let mut out = Vec::new();
        let mut errors: Vec<Diagnostic> = Vec::new();
        let mut build = |key: Option<InstanceKey>, sc: &Scope<'_>, errors: &mut Vec<Diagnostic>| {
            if let Some(want) = &only {
                if *want != key {
                    return;
                }
            }
            ev.reset_steps();
            match self.instance(&ev, sc, b, idx, key) {
                Ok(i) => out.push(i),
                Err(mut e) => errors.append(&mut e),
            }
        };
        // One instance: straight to its key.
        if let Some(want) = &only {
            match (&*exp, want) {
                (Expansion::Single, None) => build(None, &Scope::root(), &mut errors),
                (Expansion::Count(n), Some(InstanceKey::Index(i))) if i < n => {
                    build(want.clone(), &Scope::with_count(*i as i64), &mut errors)
                }
                (Expansion::ForEach(coll), Some(InstanceKey::Key(k))) => match &**coll {
                    Value::Map(m) => {
                        if let Some(v) = m.get(k) {
                            let key = Value::string(k.clone());
                            build(want.clone(), &Scope::with_each(&key, v), &mut errors);
                        }
                    }
                    Value::List(items) => {
                        if let Some(v) = items.iter().find(|v| v.as_str() == Some(k.as_str())) {
                            build(want.clone(), &Scope::with_each(v, v), &mut errors);
                        }
                    }
                    _ => {}
                },
                _ => {}
            }
            return if errors.is_empty() {
                Ok(out)
            } else {
                Err(fold(errors))
            };
        }
        match &*exp {
            Expansion::Single => build(None, &Scope::root(), &mut errors),
            Expansion::Unknown => {
                build(None, &Scope::unknown_instance(&Value::Unknown), &mut errors)
            }
            Expansion::Count(n) => {
                for i in 0..*n {
                    build(
                        Some(InstanceKey::Index(i)),
                        &Scope::with_count(i as i64),
                        &mut errors,
                    );
                }
            }
            Expansion::ForEach(coll) => {
                let (mut o, mut e) = self.each_instances(&ev, b, idx, &each_items(coll));
                out.append(&mut o);
                errors.append(&mut e);
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(fold(errors))
        }
    }

    /// The instances of a for_each, in order. A block of many instances is evaluated on several
    /// cores when the lookup may be shared between threads: one contiguous run per core, each run
    /// by a session of its own (its own memos: locals are evaluated once per run), the instances
    /// and errors put back in their order. Otherwise by this session, with `ev`.
    fn each_instances(
        &self,
        ev: &Evaluator<'_>,
        b: &ResourceBlock,
        idx: usize,
        items: &[EachItem<'_>],
    ) -> (Vec<Instance>, Vec<Diagnostic>) {
        /// Below this, threads cost more than they save.
        const MIN_INSTANCES: usize = 256;
        let cores = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4);
        let lookup = match self.lookup.as_sync() {
            Some(l) if items.len() >= MIN_INSTANCES && cores >= 2 => l,
            _ => return self.each_run(ev, b, idx, items),
        };
        let cfg = self.cfg;
        std::thread::scope(|s| {
            let handles: Vec<_> = items
                .chunks(items.len().div_ceil(cores))
                .map(|run| {
                    s.spawn(move || {
                        let session = Session::new(cfg, lookup);
                        session.each_run(&session.evaluator(), b, idx, run)
                    })
                })
                .collect();
            let mut out = Vec::with_capacity(items.len());
            let mut errors = Vec::new();
            for h in handles {
                match h.join() {
                    Ok((mut o, mut e)) => {
                        out.append(&mut o);
                        errors.append(&mut e);
                    }
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            (out, errors)
        })
    }

    /// Evaluates `run`'s instances in order, each with a fresh step budget.
    fn each_run(
        &self,
        ev: &Evaluator<'_>,
        b: &ResourceBlock,
        idx: usize,
        run: &[EachItem<'_>],
    ) -> (Vec<Instance>, Vec<Diagnostic>) {
        let mut out = Vec::with_capacity(run.len());
        let mut errors = Vec::new();
        for (key, each_key, each_value) in run {
            ev.reset_steps();
            let sc = Scope::with_each(each_key, each_value);
            match self.instance(ev, &sc, b, idx, Some(key.clone())) {
                Ok(i) => out.push(i),
                Err(mut e) => errors.append(&mut e),
            }
        }
        (out, errors)
    }

    fn instance(
        &self,
        ev: &Evaluator<'_>,
        sc: &Scope<'_>,
        b: &ResourceBlock,
        idx: usize,
        key: Option<InstanceKey>,
    ) -> Result<Instance, Vec<Diagnostic>> {
        let address = b.addr.clone().with_key(key);
        let mut attrs = Map::with_capacity(b.body.attrs.len() + b.body.blocks.len());
        // A block without dynamic blocks has the same spans for every instance, built from its
        // plan when first asked for; the others' are recorded while evaluating.
        let of_block = b.body.is_static().then(|| self.block_spans(idx));
        let mut spans = BTreeMap::new();
        let mut errs = Vec::new();
        let building = of_block.is_none().then_some(&mut spans);
        self.body(ev, sc, &b.body, "", &mut attrs, building, &mut errs);
        let spans = match of_block {
            Some(s) => s,
            None => self.shared_spans(idx, spans),
        };
        for (path, p) in cross_checks(b.kind, &attrs) {
            let span = find_span(spans.map(), &path).unwrap_or_else(|| b.header_span.clone());
            errs.push(self.problem(p, span));
        }
        if !errs.is_empty() {
            if b.is_multi() {
                for e in &mut errs {
                    let ctx = format!("in {address}");
                    e.detail = Some(match e.detail.take() {
                        Some(d) => format!("{d} ({ctx})"),
                        None => ctx,
                    });
                }
            }
            return Err(errs);
        }
        let deps = self.instance_deps(ev, sc, b, address.key.as_ref());
        let lifecycle = self.lifecycle(b, address.key.as_ref());
        attrs.shrink_to_fit();
        Ok(Instance {
            address,
            kind: b.kind,
            provider: self.cfg.provider_ref(b.provider_alias.as_deref()),
            attrs,
            depends_on: deps,
            lifecycle,
            span: b.header_span.clone(),
            attr_spans: spans,
        })
    }

    /// The block's lifecycle, with its `replace_triggered_by` resolved for the instance `key`.
    fn lifecycle(&self, b: &ResourceBlock, key: Option<&InstanceKey>) -> Lifecycle {
        let mut lc = b.lifecycle.clone();
        lc.replace_triggered_by = b.triggers.iter().map(|t| t.resolve(key)).collect();
        lc
    }

    /// The spans of block `idx` (without `dynamic` blocks): its previous instance's, or new
    /// ones built on first use.
    fn block_spans(&self, idx: usize) -> AttrSpans {
        let mut last = self.spans.borrow_mut();
        if let Some((prev_idx, prev)) = last.as_ref() {
            if *prev_idx == idx {
                return prev.clone();
            }
        }
        let spans = AttrSpans::of_block(Arc::clone(&self.cfg.inner), idx);
        *last = Some((idx, spans.clone()));
        spans
    }

    /// `spans` (of block `idx`, recorded while evaluating), or the previous instance's equal
    /// ones (shared).
    fn shared_spans(&self, idx: usize, spans: BTreeMap<String, Span>) -> AttrSpans {
        let mut last = self.spans.borrow_mut();
        if let Some((prev_idx, prev)) = last.as_ref() {
            if *prev_idx == idx && *prev.map() == spans {
                return prev.clone();
            }
        }
        // Filled key by key, a B-tree leaves its nodes about half empty; rebuilt from its
        // sorted entries it fills them.
        let spans = AttrSpans::built(spans.into_iter().collect());
        *last = Some((idx, spans.clone()));
        spans
    }

    /// What one instance depends on: whole blocks, and single instances where the reference's key
    /// is known from the instance's own scope (`gw[each.value.gw]` depends on that gateway only).
    /// A key that cannot be evaluated falls back to the whole block.
    fn instance_deps(
        &self,
        ev: &Evaluator<'_>,
        sc: &Scope<'_>,
        b: &ResourceBlock,
        key: Option<&InstanceKey>,
    ) -> Vec<Address> {
        if b.deps.traced {
            let has_key = |idx: usize, k: &InstanceKey| {
                self.expansion(ev, idx)
                    .map(|exp| Self::has_key(&exp, k))
                    .unwrap_or(false)
            };
            let session = deps::Session {
                cfg: self.cfg,
                memo: &self.trace,
                has_key: &has_key,
            };
            return match Tracer::instance_deps(&session, ev, sc, b, key) {
                Some(deps) => covered(deps, &b.addr),
                None => b.deps.depends_on.clone(),
            };
        }
        if b.deps.key_refs.is_empty() {
            return b.deps.depends_on.clone();
        }
        let blocks = &self.cfg.inner.blocks;
        let mut deps: BTreeSet<Address> = b.deps.coarse_deps.iter().cloned().collect();
        for (target, key) in &b.deps.key_refs {
            let t = &blocks[*target];
            let key = match key {
                KeyRef::Index(i) => Some(InstanceKey::Index(*i)),
                KeyRef::Expr(e) => ev
                    .eval(e, sc)
                    .ok()
                    .and_then(|v| t.instance_key(v.unmarked())),
            };
            let known = key.filter(|k| {
                self.expansion(ev, *target)
                    .map(|exp| Self::has_key(&exp, k))
                    .unwrap_or(false)
            });
            match known {
                Some(k) => deps.insert(t.addr.clone().with_key(Some(k))),
                None => deps.insert(t.addr.clone()),
            };
        }
        covered(deps, &b.addr)
    }

    fn problem(&self, p: Problem, span: Span) -> Diagnostic {
        let mut d = Diagnostic::error(p.summary);
        d.detail = p.detail;
        d.help = p.help;
        d.span = Some(span);
        self.cfg.inner.sources.attach_line(&mut d);
        d
    }

    #[allow(clippy::too_many_arguments)]
    fn body(
        &self,
        ev: &Evaluator<'_>,
        sc: &Scope<'_>,
        plan: &BodyPlan,
        prefix: &str,
        attrs: &mut Map,
        mut spans: Option<&mut BTreeMap<String, Span>>,
        errs: &mut Vec<Diagnostic>,
    ) {
        for a in &plan.attrs {
            if let Some(spans) = spans.as_deref_mut() {
                let key = if prefix.is_empty() {
                    a.name.to_string()
                } else {
                    format!("{prefix}{}", a.name)
                };
                spans.insert(key, a.span.clone());
            }
            let v = match ev.eval(&a.expr, sc) {
                Ok(v) => v,
                Err(e) => {
                    errs.push(self.diag(*e));
                    continue;
                }
            };
            if v.is_null() {
                if a.schema.required {
                    let d = Diagnostic::error(format!("Missing required argument \"{}\"", a.name))
                        .with_detail(format!("\"{}\" is required, but its value is null", a.name));
                    errs.push(self.cfg.inner.sources.locate(d, a.expr.span));
                }
                continue;
            }
            let v = match convert_attr(&a.schema.ty, v, &a.name) {
                Ok(v) => v,
                Err(p) => {
                    errs.push(self.problem(p, a.span.clone()));
                    continue;
                }
            };
            for p in check_attr(a.schema, &v) {
                errs.push(self.problem(p, a.span.clone()));
            }
            let v = if a.schema.sensitive {
                Value::sensitive(v)
            } else {
                v
            };
            attrs.insert(a.name.clone(), v);
        }
        // Nested blocks, grouped by type in order of first appearance.
        let mut names: Vec<&str> = Vec::new();
        for bp in &plan.blocks {
            if !names.contains(&bp.name.as_str()) {
                names.push(&bp.name);
            }
        }
        for name in names {
            let mut items: Vec<Value> = Vec::new();
            let mut unknown = false;
            let mut nesting = Nesting::List;
            let mut first_extra: Option<Span> = None;
            for bp in plan.blocks.iter().filter(|b| b.name == name) {
                nesting = bp.nesting;
                let key_of = |i: usize| block_key(prefix, name, bp.nesting, i);
                match &bp.kind {
                    BlockPlanKind::Static(inner) => {
                        if items.len() == 1 && bp.nesting == Nesting::Single {
                            first_extra.get_or_insert(bp.span.clone());
                        }
                        let mut m = Map::new();
                        match spans.as_deref_mut() {
                            Some(sp) => {
                                let k = key_of(items.len());
                                let prefix = format!("{k}.");
                                sp.insert(k, bp.span.clone());
                                self.body(ev, sc, inner, &prefix, &mut m, Some(sp), errs);
                            }
                            None => self.body(ev, sc, inner, "", &mut m, None, errs),
                        }
                        items.push(Value::Map(m));
                    }
                    BlockPlanKind::Dynamic {
                        for_each,
                        iterator,
                        content,
                    } => {
                        let coll = match ev.eval(for_each, sc) {
                            Ok(v) => v,
                            Err(e) => {
                                errs.push(self.diag(*e));
                                continue;
                            }
                        };
                        let (coll, _) = unmark(coll);
                        if coll.is_unknown() {
                            unknown = true;
                            continue;
                        }
                        if coll.is_null() {
                            continue;
                        }
                        let Some(pairs) = collection_pairs(&coll) else {
                            let d =
                                Diagnostic::error("Invalid dynamic for_each").with_detail(format!(
                                    "a list or map is required, got {}",
                                    values::describe_type(&coll)
                                ));
                            errs.push(self.cfg.inner.sources.locate(d, for_each.span));
                            continue;
                        };
                        for (k, v) in pairs {
                            let it = Value::Map(Map::from([
                                ("key".to_string(), k),
                                ("value".to_string(), v.clone()),
                            ]));
                            let child = sc.bind(iterator, it);
                            let key = key_of(items.len());
                            if items.len() == 1 && bp.nesting == Nesting::Single {
                                first_extra.get_or_insert(bp.span.clone());
                            }
                            let mut m = Map::new();
                            match spans.as_deref_mut() {
                                Some(sp) => {
                                    sp.insert(key.clone(), bp.span.clone());
                                    let prefix = format!("{key}.");
                                    self.body(ev, &child, content, &prefix, &mut m, Some(sp), errs);
                                }
                                None => self.body(ev, &child, content, "", &mut m, None, errs),
                            }
                            items.push(Value::Map(m));
                        }
                    }
                }
            }
            if nesting == Nesting::Single && items.len() > 1 {
                let d = Diagnostic::error(format!("Too many {name} blocks")).with_detail(format!(
                    "at most one {name} block is allowed, got {}",
                    items.len()
                ));
                let mut d = d;
                d.span = first_extra;
                self.cfg.inner.sources.attach_line(&mut d);
                errs.push(d);
                continue;
            }
            let value = if unknown {
                Value::Unknown
            } else if nesting == Nesting::Single {
                match items.pop() {
                    Some(v) => v,
                    None => continue,
                }
            } else {
                if items.is_empty() {
                    continue;
                }
                Value::List(items)
            };
            attrs.insert(name.into(), value);
        }
    }

    // -------------------------------------------------------------------------------------
    // Outputs and imports

    pub fn outputs(&self) -> Result<Vec<OutputValue>, Diagnostics> {
        let ev = self.evaluator();
        let mut out = Vec::new();
        let mut errs = Diagnostics::new();
        for o in &self.cfg.inner.outputs {
            ev.reset_steps();
            match ev.eval(&o.value, &Scope::root()) {
                Ok(v) => {
                    if v.contains_sensitive() && !o.sensitive {
                        let d = Diagnostic::error(format!(
                            "Output \"{}\" refers to sensitive values",
                            o.name
                        ))
                        .with_detail("the value would be shown in clear in plans and outputs")
                        .with_help("add sensitive = true to the output block");
                        errs.push(self.cfg.inner.sources.locate(d, o.value.span));
                        continue;
                    }
                    let value = if o.sensitive { Value::sensitive(v) } else { v };
                    out.push(OutputValue {
                        name: o.name.clone(),
                        value,
                        sensitive: o.sensitive,
                        description: o.description.clone(),
                    });
                }
                Err(e) => errs.push(self.diag(*e)),
            }
        }
        if errs.has_errors() {
            return Err(errs.sorted());
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub fn imports(&self) -> Result<Vec<ImportBlock>, Diagnostics> {
        let ev = self.evaluator();
        let mut out = Vec::new();
        let mut errs = Diagnostics::new();
        let sources = &self.cfg.inner.sources;
        for i in &self.cfg.inner.imports {
            match ev.eval(&i.id, &Scope::root()) {
                Ok(v) => match v.unmarked() {
                    Value::String(s) if !s.is_empty() => out.push(ImportBlock {
                        to: i.to.clone(),
                        id: s.to_string(),
                        span: sources.span(i.span),
                    }),
                    Value::Unknown => {
                        let d = Diagnostic::error("Import id not known while planning")
                            .with_help("the id must be a literal or come from variables");
                        errs.push(sources.locate(d, i.id.span));
                    }
                    other => {
                        let d = Diagnostic::error("Invalid import id").with_detail(format!(
                            "a non-empty string is required, got {}",
                            values::show(other)
                        ));
                        errs.push(sources.locate(d, i.id.span));
                    }
                },
                Err(e) => errs.push(self.diag(*e)),
            }
        }
        if errs.has_errors() {
            return Err(errs);
        }
        Ok(out)
    }
}

impl Refs for Session<'_> {
    fn local(&self, ev: &Evaluator<'_>, name: &str, span: BSpan) -> EResult<Arc<Value>> {
        let inner = &self.cfg.inner;
        let Some(&li) = inner.local_index.get(name) else {
            return Err(error(
                format!("Reference to undeclared local value \"{name}\""),
                span,
            )
            .help_opt(suggest::did_you_mean(
                name,
                inner.locals.iter().map(|l| l.name.as_str()),
            )));
        };
        if let Some(v) = &inner.pure_values[li] {
            return Ok(v.clone());
        }
        if !inner.impure[li] {
            return Err(error(format!("local.{name} is not available yet"), span)
                .help("this is a bug in tunnelform's evaluation order; please report it"));
        }
        self.impure_local(ev, li)
    }

    fn resource(
        &self,
        ev: &Evaluator<'_>,
        sc: &Scope<'_>,
        mode: Mode,
        type_name: &str,
        name: &str,
        span: BSpan,
        ops: &[TraverseOp],
    ) -> EResult<Value> {
        let inner = &self.cfg.inner;
        let Some(&idx) = inner
            .block_index
            .get(&(mode, type_name.to_string(), name.to_string()))
        else {
            let addr = Address {
                module: Vec::new(),
                mode,
                type_name: type_name.into(),
                name: name.into(),
                key: None,
            };
            let declared: Vec<String> = inner.blocks.iter().map(|b| b.addr.to_string()).collect();
            return Err(
                error(format!("Reference to undeclared resource \"{addr}\""), span).help_opt(
                    suggest::did_you_mean(&addr.to_string(), declared.iter().map(String::as_str)),
                ),
            );
        };
        let b = &inner.blocks[idx];
        if !b.is_multi() {
            if let Some(TraverseOp {
                kind: OpKind::Index(_) | OpKind::LegacyIndex(_),
                span,
            }) = ops.first()
            {
                return Err(error(
                    format!("Unexpected resource instance key for {}", b.addr),
                    *span,
                )
                .help("the resource has a single instance; remove the index"));
            }
            check_attr_name(b, ops.first())?;
            let v = self.lookup.instance_shared(&b.addr);
            return ev.walk(v.as_deref().unwrap_or(&Value::Unknown), ops, sc);
        }
        // count / for_each: an index selects one instance, otherwise the whole collection.
        let key_op = match ops.first() {
            Some(
                op @ TraverseOp {
                    kind: OpKind::Index(_) | OpKind::LegacyIndex(_),
                    ..
                },
            ) => op,
            Some(TraverseOp {
                kind: OpKind::Attr(a),
                span,
            }) => {
                return Err(error(
                    format!("Missing resource instance key for {}", b.addr),
                    *span,
                )
                .detail(format!(
                    "{} has count or for_each set, so \"{a}\" must be read from one instance",
                    b.addr
                ))
                .help(format!(
                    "write {}[KEY].{a}, or {}[*].{a} for all instances",
                    b.addr, b.addr
                )))
            }
            _ => {
                let whole = self.whole(ev, idx)?;
                return ev.walk(&whole, ops, sc);
            }
        };
        let (key, sens) = match &key_op.kind {
            OpKind::Index(e) => unmark(ev.eval(e, sc)?),
            OpKind::LegacyIndex(i) => (Value::int(*i as i64), false),
            _ => (Value::Null, false),
        };
        check_attr_name(b, ops.get(1))?;
        if key.is_unknown() {
            return Ok(mark_if(Value::Unknown, sens));
        }
        let exp = self.expansion(ev, idx).ok();
        // Instances not known (validate without values): any instance reads as unknown.
        if exp
            .as_deref()
            .is_some_and(|e| matches!(e, Expansion::Unknown))
        {
            return Ok(mark_if(Value::Unknown, sens));
        }
        let ikey = b.instance_key(&key).ok_or_else(|| {
            let detail = if b.count.is_some() {
                format!(
                    "{} uses count: the key must be a whole number, got {}",
                    b.addr,
                    values::show(&key)
                )
            } else {
                format!(
                    "{} uses for_each: the key must be a string, got {}",
                    b.addr,
                    values::describe_type(&key)
                )
            };
            error("Invalid resource instance key", key_op.span).detail(detail)
        })?;
        if let Some(exp) = &exp {
            if !Self::has_key(exp, &ikey) {
                let keys = Self::keys(exp);
                let names: Vec<String> = keys
                    .iter()
                    .flatten()
                    .map(|k| match k {
                        InstanceKey::Key(s) => s.clone(),
                        InstanceKey::Index(i) => i.to_string(),
                    })
                    .collect();
                let wanted = match &ikey {
                    InstanceKey::Key(s) => s.clone(),
                    InstanceKey::Index(i) => i.to_string(),
                };
                let shown = if sens {
                    "(sensitive value)".to_string()
                } else {
                    format!("{}{ikey}", b.addr)
                };
                return Err(error("Invalid resource instance key", key_op.span)
                    .detail(format!(
                        "{shown} is not an instance of {}; it has {} instance(s)",
                        b.addr,
                        keys.len()
                    ))
                    .help_opt(if sens {
                        None
                    } else {
                        suggest::did_you_mean(&wanted, names.iter().map(String::as_str))
                    }));
            }
        }
        let v = self
            .lookup
            .instance_shared(&b.addr.clone().with_key(Some(ikey)));
        let v = v.as_deref().unwrap_or(&Value::Unknown);
        Ok(mark_if(ev.walk(v, &ops[1..], sc)?, sens))
    }
}

/// Dependencies without the block itself, and without the instances of a block the set also
/// holds whole (a whole-block dependency covers its instances).
fn covered(deps: BTreeSet<Address>, own: &Address) -> Vec<Address> {
    let wholes: BTreeSet<Address> = deps.iter().filter(|a| a.key.is_none()).cloned().collect();
    deps.into_iter()
        .filter(|a| a.resource() != *own)
        .filter(|a| a.key.is_none() || !wholes.contains(&a.resource()))
        .collect()
}

/// The first attribute read from a resource object must exist in its schema (or be "id").
fn check_attr_name(b: &ResourceBlock, op: Option<&TraverseOp>) -> EResult<()> {
    let Some(TraverseOp {
        kind: OpKind::Attr(a),
        span,
    }) = op
    else {
        return Ok(());
    };
    let schema = b.kind.schema();
    if a == "id" || schema.attr(a).is_some() {
        return Ok(());
    }
    let names: Vec<&str> = std::iter::once("id")
        .chain(schema.attrs.iter().map(|x| x.name))
        .collect();
    Err(error(format!("Unsupported attribute \"{a}\""), *span)
        .detail(format!(
            "{} has no attribute named \"{a}\"",
            b.kind.type_name()
        ))
        .help_opt(suggest::did_you_mean(a, names.iter().copied())))
}

fn find_span(spans: &BTreeMap<String, Span>, key: &str) -> Option<Span> {
    let mut k = key.to_string();
    loop {
        if let Some(s) = spans.get(&k) {
            return Some(s.clone());
        }
        let i = k.rfind('.')?;
        k.truncate(i);
    }
}

/// Folds identical diagnostics coming from many instances and caps their number.
/// One instance of a for_each: its key, `each.key` and `each.value`.
type EachItem<'v> = (InstanceKey, Value, &'v Value);

/// The instances of a for_each over `coll`: a map's entries, or a set of strings.
fn each_items(coll: &Value) -> Vec<EachItem<'_>> {
    match coll {
        Value::Map(m) => m
            .iter()
            .map(|(k, v)| {
                (
                    InstanceKey::Key(k.to_string()),
                    Value::string(k.to_string()),
                    v,
                )
            })
            .collect(),
        Value::List(items) => items
            .iter()
            .filter_map(|v| Some((InstanceKey::Key(v.as_str()?.to_string()), v.clone(), v)))
            .collect(),
        _ => Vec::new(),
    }
}

fn fold(errors: Vec<Diagnostic>) -> Diagnostics {
    let mut out: Vec<(Diagnostic, usize)> = Vec::new();
    let mut index: HashMap<(String, Option<Span>), usize> = HashMap::new();
    let total = errors.len();
    for d in errors {
        let key = (d.summary.clone(), d.span.clone());
        match index.get(&key) {
            Some(&i) => out[i].1 += 1,
            None => {
                if out.len() < MAX_DIAGS {
                    index.insert(key, out.len());
                    out.push((d, 1));
                }
            }
        }
    }
    let shown: usize = out.iter().map(|(_, n)| n).sum();
    let mut diags = Diagnostics::new();
    for (mut d, n) in out {
        if n > 1 {
            d.detail = Some(match d.detail.take() {
                Some(x) => format!("{x}; and {} more instance(s) with the same problem", n - 1),
                None => format!("{n} instances have this problem"),
            });
        }
        diags.push(d);
    }
    if total > shown {
        diags.push(Diagnostic::error(format!(
            "{} more errors not shown",
            total - shown
        )));
    }
    diags
}

/// The instances a block has: evaluates `count` / `for_each` (known values only).
/// `unknown_ok`: a value not known yet is [`Expansion::Unknown`] (`validate`), not an error.
pub fn compute_expansion(
    ev: &Evaluator<'_>,
    b: &ResourceBlock,
    unknown_ok: bool,
) -> EResult<Expansion> {
    expansion_of(ev, b.count.as_ref(), b.for_each.as_ref(), unknown_ok)
}

/// [`compute_expansion`] for any block with these `count` and `for_each` expressions.
pub fn expansion_of(
    ev: &Evaluator<'_>,
    count: Option<&Expr>,
    for_each: Option<&Expr>,
    unknown_ok: bool,
) -> EResult<Expansion> {
    if let Some(c) = count {
        let (v, sens) = unmark(ev.eval(c, &Scope::root())?);
        if sens {
            return Err(error("Invalid count argument", c.span).detail(
                "count may not be sensitive: the number of instances is shown in every plan",
            ));
        }
        if v.is_unknown() && unknown_ok {
            return Ok(Expansion::Unknown);
        }
        if v.is_unknown() {
            return Err(error("Invalid count argument", c.span)
                .detail("the count depends on values that are known only after apply")
                .help(
                    "count must be known while planning: use variables, locals or data sources",
                ));
        }
        let n = values::to_number(&v)
            .and_then(|n| n.as_i64())
            .ok_or_else(|| {
                error("Invalid count argument", c.span).detail(format!(
                    "count must be a whole number, got {}",
                    values::show(&v)
                ))
            })?;
        if !(0..=MAX_COUNT).contains(&n) {
            return Err(error("Invalid count argument", c.span)
                .detail(format!("count must be between 0 and {MAX_COUNT}, got {n}")));
        }
        return Ok(Expansion::Count(n as u64));
    }
    let Some(fe) = for_each else {
        return Ok(Expansion::Single);
    };
    let shared = ev.eval_shared(fe, &Scope::root())?;
    if shared.is_sensitive() {
        return Err(error("Invalid for_each argument", fe.span)
            .detail("for_each may not be sensitive: its keys become part of the instance addresses shown in plans")
            .help("use nonsensitive() on the keys, or keep the secret in an attribute of each element"));
    }
    match &*shared {
        Value::Unknown if unknown_ok => Ok(Expansion::Unknown),
        Value::List(items) if unknown_ok && items.iter().any(|i| i.unmarked().is_unknown()) => {
            Ok(Expansion::Unknown)
        }
        Value::Unknown => Err(error("Invalid for_each argument", fe.span)
            .detail("the for_each value depends on values that are known only after apply")
            .help("for_each keys must be known while planning: build them from variables, locals or data sources, not from resource attributes")),
        Value::Null => Err(error("Invalid for_each argument", fe.span)
            .detail("for_each is null")
            .help("give a map, or a set of strings built with toset([...])")),
        Value::Map(_) => Ok(Expansion::ForEach(shared.clone())),
        Value::List(items) => {
            let mut seen = std::collections::HashSet::new();
            for it in items {
                match it.unmarked() {
                    Value::String(s) => {
                        if !seen.insert(s.clone()) {
                            return Err(error("Invalid for_each argument", fe.span)
                                .detail(format!("the key \"{s}\" appears more than once"))
                                .help("wrap the list in toset() to remove duplicates"));
                        }
                    }
                    Value::Unknown => {
                        return Err(error("Invalid for_each argument", fe.span)
                            .detail("some elements of the set are known only after apply")
                            .help("for_each keys must be known while planning"))
                    }
                    other => {
                        return Err(error("Invalid for_each argument", fe.span)
                            .detail(format!("a set of strings is required, but an element is a {}", values::describe_type(other)))
                            .help("give a map, or a set of strings built with toset([...])"))
                    }
                }
            }
            Ok(Expansion::ForEach(shared.clone()))
        }
        other => Err(error("Invalid for_each argument", fe.span)
            .detail(format!("for_each needs a map or a set of strings, got {}", values::describe_type(other)))
            .help("give a map, or a set of strings built with toset([...])")),
    }
}
