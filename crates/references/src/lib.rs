//! The references of a loaded configuration (layer 5, below `config`): each reference checked
//! against what the configuration declares, with a diagnostic that names file:line:column and
//! suggests the name meant, and the dependency graph the references make ([`graph`]): cycles,
//! each block's dependencies (direct, through locals, or narrowed to one instance by a key), and
//! the order in which locals and blocks can be evaluated. Also the references that are not
//! expressions to evaluate: addresses written as they are (`moved`, `removed`, `import`:
//! [`address`]), `replace_triggered_by` entries ([`triggers`]), `depends_on` lists, and data
//! sources scoped to a `check` block, which only that check may read.
//!
//! The decoder of `tunnelform-config` gathers the declarations ([`Declarations`]) and the
//! expressions; this crate only reads them. Nothing here evaluates an expression: references are
//! found by their static path (`tunnelform_lang::graph::collect_refs`).

use std::collections::{BTreeSet, HashMap};

use tunnelform_kinds::{DataKind, ResourceKind};
use tunnelform_lang::graph::{collect_refs, RefKind, RefUse};
use tunnelform_lang::suggest::{self, did_you_mean};
use tunnelform_model::{Address, Diagnostic, InstanceKey, Mode};
use tunnelform_syntax::ast::{Expr, ExprKind, OpKind, TraverseOp};
use tunnelform_syntax::{BSpan, Sources};

use tunnelform_instances::conditions::{CheckDecl, OutputConditions};
use tunnelform_instances::loaded::{
    index_key, BlockPlanKind, BodyPlan, KeyRef, LocalDecl, ResourceBlock,
};
use tunnelform_instances::vars::VariableDecl;

pub mod address;
pub mod graph;
pub mod triggers;

use address::static_address;

/// Where an expression is used, for `each` / `count` checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctx {
    Count,
    ForEach,
    Body,
}

/// What a configuration declares, as the decoder gathered it: the names references may use.
/// Indexes into `locals` and `blocks` identify a local or a block everywhere in this crate.
pub struct Declarations<'a> {
    /// The configuration's files, to locate diagnostics.
    pub sources: &'a Sources,
    pub var_decls: &'a [VariableDecl],
    pub locals: &'a [LocalDecl],
    pub local_index: &'a HashMap<String, usize>,
    pub blocks: &'a [ResourceBlock],
    /// (mode, type, name) to the block's index; a module's blocks are named by their full path.
    pub block_index: &'a HashMap<(Mode, String, String), usize>,
    /// Module calls by their full path (`depends_on = [module.NAME]`).
    pub module_calls: &'a HashMap<String, BSpan>,
}

impl Declarations<'_> {
    /// The references of block `bi` to multi-instance blocks that can be narrowed to one instance:
    /// every reference to the block (in the body, outside `for` expressions and dynamic blocks) is
    /// `block[KEY]` with a KEY that depends on nothing but variables, pure locals, `each` and
    /// `count`, and the block is not also reached through `count`/`for_each`, locals or
    /// `depends_on` (`whole`). Each such reference's key is evaluated per instance.
    pub fn key_refs(
        &self,
        bi: usize,
        whole: &BTreeSet<usize>,
        impure: &[bool],
    ) -> Vec<(usize, KeyRef)> {
        let mut keyed: Vec<(usize, KeyRef)> = Vec::new();
        let mut blocked: BTreeSet<usize> = whole.clone();
        let pure_key = |e: &Expr| {
            let mut refs = Vec::new();
            collect_refs(e, &[], &mut refs);
            refs.iter().all(|r| match &r.kind {
                RefKind::Var(_) | RefKind::Each | RefKind::Count | RefKind::Builtin => true,
                RefKind::Local(l) => self.local_index.get(*l).is_some_and(|&i| !impure[i]),
                _ => false,
            })
        };
        for (e, bound, ctx) in block_exprs(&self.blocks[bi]) {
            let mut refs = Vec::new();
            collect_refs(e, &bound, &mut refs);
            for r in &refs {
                let RefKind::Resource {
                    mode,
                    type_name,
                    name,
                    rest,
                } = &r.kind
                else {
                    continue;
                };
                let Some(&target) =
                    self.block_index
                        .get(&(*mode, type_name.to_string(), name.to_string()))
                else {
                    continue;
                };
                if !self.blocks[target].is_multi() || target == bi {
                    continue;
                }
                let key = match rest.first().map(|op| &op.kind) {
                    Some(OpKind::Index(ie)) if pure_key(ie) => Some(KeyRef::Expr(ie.clone())),
                    Some(OpKind::LegacyIndex(i)) => Some(KeyRef::Index(*i)),
                    _ => None,
                };
                match key {
                    Some(k) if !r.in_for && matches!(ctx, Ctx::Body) => keyed.push((target, k)),
                    _ => {
                        blocked.insert(target);
                    }
                }
            }
        }
        keyed.retain(|(b, _)| !blocked.contains(b));
        keyed
    }

    /// Checks the references of one expression, used in block `block` (None: outside the blocks)
    /// in context `ctx`: each must name something declared, fit it (an instance key where the
    /// block has several instances, an attribute its kind has), and `each`/`count` only where the
    /// block sets them. Diagnostics go into `diags`; returns the locals and blocks it uses.
    pub fn check(
        &self,
        refs: &[RefUse<'_>],
        block: Option<usize>,
        ctx: Ctx,
        diags: &mut Vec<Diagnostic>,
    ) -> (Vec<usize>, Vec<usize>) {
        let mut locals = Vec::new();
        let mut blocks = Vec::new();
        for r in refs {
            match &r.kind {
                RefKind::Var(name) => {
                    if !self.var_decls.iter().any(|v| v.name == *name) {
                        let d = Diagnostic::error(format!(
                            "Reference to undeclared input variable \"{name}\""
                        ))
                        .with_help(
                            did_you_mean(name, self.var_decls.iter().map(|v| v.name.as_str()))
                                .unwrap_or_else(|| {
                                    format!("declare it with a variable \"{name}\" {{ }} block")
                                }),
                        );
                        diags.push(self.sources.locate(d, r.span));
                    }
                }
                RefKind::Local(name) => match self.local_index.get(*name) {
                    Some(&i) => locals.push(i),
                    None if name.contains('.') => {
                        let (summary, help) = undeclared(name).unwrap_or_else(|| {
                            (
                                format!("Reference to undeclared local value \"{name}\""),
                                "check the name".to_string(),
                            )
                        });
                        let d = Diagnostic::error(summary).with_help(help);
                        diags.push(self.sources.locate(d, r.span));
                    }
                    None => {
                        let d = Diagnostic::error(format!(
                            "Reference to undeclared local value \"{name}\""
                        ))
                        .with_help(
                            did_you_mean(name, self.locals.iter().map(|l| l.name.as_str()))
                                .unwrap_or_else(|| {
                                    format!("define it in a locals {{ {name} = ... }} block")
                                }),
                        );
                        diags.push(self.sources.locate(d, r.span));
                    }
                },
                RefKind::Resource {
                    mode,
                    type_name,
                    name,
                    rest,
                } => {
                    let key = (*mode, type_name.to_string(), name.to_string());
                    match self.block_index.get(&key) {
                        Some(&bi) => {
                            blocks.push(bi);
                            self.check_resource_attr(bi, rest, r.span, diags);
                        }
                        None => {
                            let addr = Address {
                                module: Vec::new(),
                                mode: *mode,
                                type_name: (*type_name).into(),
                                name: (*name).into(),
                                key: None,
                            };
                            let declared: Vec<String> =
                                self.blocks.iter().map(|b| b.addr.to_string()).collect();
                            let mut d = Diagnostic::error(format!(
                                "Reference to undeclared resource \"{addr}\""
                            ));
                            let known = match mode {
                                Mode::Managed => ResourceKind::from_type_name(type_name).is_some(),
                                Mode::Data => DataKind::from_type_name(type_name).is_some(),
                            };
                            d = d.with_help(match did_you_mean(&addr.to_string(), declared.iter().map(String::as_str)) {
                                Some(s) => s,
                                None if known => format!("declare it with a {} block, or check the name", if *mode == Mode::Data { "data" } else { "resource" }),
                                None => format!(
                                    "\"{type_name}\" is not a declared resource type; references start with var., local., each., count., data. or a resource type"
                                ),
                            });
                            diags.push(self.sources.locate(d, r.span));
                        }
                    }
                }
                RefKind::Each => {
                    let ok = block.is_some_and(|b| self.blocks[b].for_each.is_some())
                        && ctx == Ctx::Body;
                    if !ok {
                        let d = Diagnostic::error("Reference to \"each\" in a context without for_each")
                            .with_help("each.key and each.value are only available inside a resource or data block that sets for_each");
                        diags.push(self.sources.locate(d, r.span));
                    }
                }
                RefKind::Count => {
                    let ok =
                        block.is_some_and(|b| self.blocks[b].count.is_some()) && ctx == Ctx::Body;
                    if !ok {
                        let d = Diagnostic::error("Reference to \"count\" in a context without count")
                            .with_help("count.index is only available inside a resource or data block that sets count");
                        diags.push(self.sources.locate(d, r.span));
                    }
                }
                RefKind::Builtin => {}
                RefKind::Invalid { summary, help } => {
                    let d = Diagnostic::error(summary.clone()).with_help(help.clone());
                    diags.push(self.sources.locate(d, r.span));
                }
            }
        }
        if ctx != Ctx::Body {
            if let Some(b) = block {
                if blocks.contains(&b) {
                    let what = if ctx == Ctx::Count {
                        "count"
                    } else {
                        "for_each"
                    };
                    let d = Diagnostic::error(format!("Self-referential {what}")).with_help(
                        format!("the {what} of a block cannot refer to the block itself"),
                    );
                    let span = self.blocks[b].header;
                    diags.push(self.sources.locate(d, span));
                }
            }
        }
        (locals, blocks)
    }

    /// `TYPE.NAME.ATTR` / `TYPE.NAME[KEY].ATTR`: the instance key and the attribute must fit.
    fn check_resource_attr(
        &self,
        bi: usize,
        rest: &[TraverseOp],
        span: BSpan,
        diags: &mut Vec<Diagnostic>,
    ) {
        let b = &self.blocks[bi];
        let addr = b.addr.to_string();
        let multi = b.is_multi();
        let schema = b.kind.schema();
        let (attr, at) = match (multi, rest.first()) {
            (_, None) => return,
            (
                true,
                Some(TraverseOp {
                    kind: OpKind::Index(_) | OpKind::LegacyIndex(_),
                    ..
                }),
            ) => match rest.get(1) {
                Some(TraverseOp {
                    kind: OpKind::Attr(a),
                    span,
                }) => (a.clone(), *span),
                _ => return,
            },
            (
                true,
                Some(TraverseOp {
                    kind: OpKind::FullSplat | OpKind::AttrSplat,
                    ..
                }),
            ) => return,
            (true, Some(op)) => {
                let key_hint = if b.for_each.is_some() {
                    "[each.key] or [\"KEY\"]"
                } else {
                    "[count.index] or [0]"
                };
                let d = Diagnostic::error(format!("Missing resource instance key for {addr}"))
                    .with_detail(format!(
                        "{addr} has {} set, so its attributes must be read from one of its instances",
                        if b.for_each.is_some() { "for_each" } else { "count" }
                    ))
                    .with_help(format!("write {addr}{key_hint}.ATTRIBUTE, or {addr}[*].ATTRIBUTE for all of them"));
                diags.push(self.sources.locate(d, op.span));
                return;
            }
            (
                false,
                Some(TraverseOp {
                    kind: OpKind::Attr(a),
                    span,
                }),
            ) => (a.clone(), *span),
            (
                false,
                Some(TraverseOp {
                    kind: OpKind::Index(_) | OpKind::LegacyIndex(_),
                    span: s,
                }),
            ) => {
                let d = Diagnostic::error(format!("Unexpected resource instance key for {addr}"))
                    .with_detail(format!(
                        "{addr} does not set count or for_each, so it has a single instance"
                    ))
                    .with_help(format!("write {addr}.ATTRIBUTE without an index"));
                diags.push(self.sources.locate(d, *s));
                return;
            }
            (false, Some(_)) => return,
        };
        if attr == "id" || schema.attr(&attr).is_some() {
            return;
        }
        let names: Vec<&str> = std::iter::once("id")
            .chain(schema.attrs.iter().map(|a| a.name))
            .collect();
        let mut d = Diagnostic::error(format!("Unsupported attribute \"{attr}\"")).with_detail(
            format!("{} has no attribute named \"{attr}\"", b.kind.type_name()),
        );
        d = d.with_help(
            did_you_mean(&attr, names.iter().copied())
                .unwrap_or_else(|| format!("the attributes are {}", suggest::one_of(&names))),
        );
        let _ = span;
        diags.push(self.sources.locate(d, at));
    }

    /// The address an `import` block's `to` names: a declared managed resource, with a key that
    /// fits its `count` or `for_each`.
    pub fn import_target(&self, to: &Expr, diags: &mut Vec<Diagnostic>) -> Option<Address> {
        let Some(target) = static_address(to) else {
            let d = Diagnostic::error("Invalid import target")
                .with_help("write to = TYPE.NAME, TYPE.NAME[\"KEY\"] or TYPE.NAME[0]");
            diags.push(self.sources.locate(d, to.span));
            return None;
        };
        if target.mode == Mode::Data {
            let d = Diagnostic::error("Data sources cannot be imported")
                .with_help("import managed resources only");
            diags.push(self.sources.locate(d, to.span));
            return None;
        }
        let key = target.key.clone();
        let Some(&bi) = self.block_index.get(&index_key(&target)) else {
            let addr = target.resource();
            let declared: Vec<String> = self.blocks.iter().map(|b| b.addr.to_string()).collect();
            let d = Diagnostic::error(format!("Import target {addr} is not declared")).with_help(
                did_you_mean(&addr.to_string(), declared.iter().map(String::as_str))
                    .unwrap_or_else(|| format!("add a resource block for {addr} so the imported object has a configuration")),
            );
            diags.push(self.sources.locate(d, to.span));
            return None;
        };
        let b = &self.blocks[bi];
        let fits = matches!(
            (&key, b.count.is_some(), b.for_each.is_some()),
            (None, false, false)
                | (Some(InstanceKey::Index(_)), true, _)
                | (Some(InstanceKey::Key(_)), _, true)
        );
        if !fits {
            let d = Diagnostic::error(format!("Import target key does not match {}", b.addr))
                .with_help(if b.for_each.is_some() {
                    "the resource uses for_each: give a string key, e.g. TYPE.NAME[\"KEY\"]"
                } else if b.count.is_some() {
                    "the resource uses count: give an index, e.g. TYPE.NAME[0]"
                } else {
                    "the resource has a single instance: remove the key"
                });
            diags.push(self.sources.locate(d, to.span));
            return None;
        }
        Some(b.addr.clone().with_key(key))
    }

    /// A check's scoped data source may be referred to only from inside its check block.
    /// `checks`: the check blocks; `outputs`: the outputs' values; `output_conds`: their conditions.
    pub fn check_scoped_refs(
        &self,
        checks: &[CheckDecl],
        outputs: &[&Expr],
        output_conds: &[OutputConditions],
        diags: &mut Vec<Diagnostic>,
    ) {
        if !self.blocks.iter().any(|b| b.check.is_some()) {
            return;
        }
        let mut found = Vec::new();
        let visit = |e: &Expr, bound: &[&str], from: Option<usize>, found: &mut Vec<_>| {
            let mut refs = Vec::new();
            collect_refs(e, bound, &mut refs);
            for r in &refs {
                let RefKind::Resource {
                    mode,
                    type_name,
                    name,
                    ..
                } = &r.kind
                else {
                    continue;
                };
                let Some(&t) =
                    self.block_index
                        .get(&(*mode, type_name.to_string(), name.to_string()))
                else {
                    continue;
                };
                if let Some(ci) = self.blocks[t].check {
                    if from != Some(ci) {
                        let d = Diagnostic::error(format!(
                            "Reference to {}, a data source scoped to a check block",
                            self.blocks[t].addr
                        ))
                        .with_detail(format!(
                            "it is declared inside {} and can only be used by that check's assertions",
                            checks[ci].address()
                        ))
                        .with_help("declare the data block outside the check block to use it elsewhere");
                        found.push((d, r.span));
                    }
                }
            }
        };
        for bi in 0..self.blocks.len() {
            let from = self.blocks[bi].check;
            for (e, bound, _) in block_exprs(&self.blocks[bi]) {
                visit(e, &bound, from, &mut found);
            }
        }
        for l in self.locals {
            visit(&l.expr, &[], None, &mut found);
        }
        for o in outputs {
            visit(o, &[], None, &mut found);
        }
        for o in output_conds {
            for c in &o.conditions {
                visit(&c.condition, &[], None, &mut found);
                visit(&c.error_message, &[], None, &mut found);
            }
        }
        for (ci, c) in checks.iter().enumerate() {
            for a in &c.asserts {
                visit(&a.condition, &[], Some(ci), &mut found);
                visit(&a.error_message, &[], Some(ci), &mut found);
            }
        }
        for (d, span) in found {
            diags.push(self.sources.locate(d, span));
        }
    }

    /// The blocks named by a `depends_on = [...]` list.
    pub fn depends_on(&self, e: &Expr, diags: &mut Vec<Diagnostic>) -> Vec<usize> {
        let ExprKind::Tuple(items) = &e.kind else {
            let d = Diagnostic::error("Invalid depends_on")
                .with_help("write depends_on = [TYPE.NAME, data.TYPE.NAME, ...]");
            diags.push(self.sources.locate(d, e.span));
            return Vec::new();
        };
        let mut out = Vec::new();
        for it in items {
            let mut refs = Vec::new();
            collect_refs(it, &[], &mut refs);
            let ok = it.as_static_traversal().is_some() && refs.len() == 1;
            match refs.first().map(|r| &r.kind) {
                Some(RefKind::Resource { .. }) if ok => {
                    let (_, bs) = self.check(&refs, None, Ctx::Body, diags);
                    out.extend(bs);
                }
                // `module.NAME`: every resource of the module's instances.
                Some(RefKind::Local(call)) if ok && self.module_calls.contains_key(*call) => {
                    let inside = |name: &str| {
                        name.strip_prefix(*call)
                            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
                    };
                    let mut found: Vec<usize> = self
                        .block_index
                        .iter()
                        .filter(|((_, _, name), _)| inside(name))
                        .map(|(_, &i)| i)
                        .collect();
                    found.sort_unstable();
                    out.extend(found);
                }
                _ => {
                    let d = Diagnostic::error("Invalid depends_on entry").with_help(
                        "each entry names a resource or data block (TYPE.NAME or data.TYPE.NAME) or a module call (module.NAME)",
                    );
                    diags.push(self.sources.locate(d, it.span));
                }
            }
        }
        out
    }
}

/// Every evaluated expression of a block with its bound names and context.
pub fn block_exprs(b: &ResourceBlock) -> Vec<(&Expr, Vec<&str>, Ctx)> {
    let mut out = Vec::new();
    if let Some(c) = &b.count {
        out.push((c, Vec::new(), Ctx::Count));
    }
    if let Some(f) = &b.for_each {
        out.push((f, Vec::new(), Ctx::ForEach));
    }
    fn body<'a>(p: &'a BodyPlan, bound: &[&'a str], out: &mut Vec<(&'a Expr, Vec<&'a str>, Ctx)>) {
        for a in &p.attrs {
            out.push((&a.expr, bound.to_vec(), Ctx::Body));
        }
        for b in &p.blocks {
            match &b.kind {
                BlockPlanKind::Static(inner) => body(inner, bound, out),
                BlockPlanKind::Dynamic {
                    for_each,
                    iterator,
                    content,
                } => {
                    out.push((for_each, bound.to_vec(), Ctx::Body));
                    let mut nb = bound.to_vec();
                    nb.push(iterator.as_str());
                    body(content, &nb, out);
                }
            }
        }
    }
    body(&b.body, &[], &mut out);
    for t in &b.triggers {
        out.push((&t.expr, Vec::new(), Ctx::Body));
    }
    for c in &b.conditions {
        out.push((&c.condition, vec!["self"], Ctx::Body));
        out.push((&c.error_message, vec!["self"], Ctx::Body));
    }
    out
}

/// The diagnostic for a reference to an undeclared name inside a module (`MODULE.var.NAME`,
/// `MODULE.local.NAME`, `MODULE.output.NAME`, as module flattening names them).
fn undeclared(name: &str) -> Option<(String, String)> {
    let mut parts = name.rsplitn(3, '.');
    let (item, kind, rest) = (parts.next()?, parts.next()?, parts.next()?);
    match kind {
        "output" => {
            let call = rest.rsplit('.').next().unwrap_or(rest);
            Some((
                format!("Reference to undeclared output \"{item}\" of module \"{call}\""),
                format!("declare output \"{item}\" in the module, or check that a module \"{call}\" block calls it"),
            ))
        }
        "var" => Some((
            format!("Reference to undeclared input variable \"{item}\""),
            format!("declare it in the module with a variable \"{item}\" {{ }} block"),
        )),
        "local" => Some((
            format!("Reference to undeclared local value \"{item}\""),
            format!("define it in a locals {{ {item} = ... }} block of the module"),
        )),
        _ => None,
    }
}
