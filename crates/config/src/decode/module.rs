//! Local module calls, flattened into the calling configuration at load.
//!
//! A module instance's blocks are decoded like the root's, with the names that could collide
//! made unique by the module path: a module's resources keep their type and name, and their
//! [`Address`] gets the module path (`module.site.tencentcloud_vpn_gateway.gw`), while inside
//! the loader they are indexed as `TYPE."module.site.NAME"`. The module's variables, locals and
//! outputs become locals named `module.site.var.X`, `module.site.local.Y` and
//! `module.site.output.Z`, and every reference in the module's expressions (and `module.M.Z` in
//! the caller's) is rewritten to them before decoding. A variable's value is the expression
//! given in the call (evaluated in the caller's scope) or its default, so instance-level
//! dependencies flow through module boundaries as if the configuration were written flat.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use std::sync::Arc;

use tunnelform_lang::error::{error, EResult, WithHelp};
use tunnelform_lang::eval::{Evaluator, Refs, Scope};
use tunnelform_model::{Diagnostic, Mode, ModuleStep, Value};
use tunnelform_references::address;
use tunnelform_syntax::ast::{
    Attribute, Block, Body, Expr, ExprKind, ObjKey, OpKind, TemplatePart, TraverseOp,
};
use tunnelform_syntax::BSpan;

use super::{supported_types, Decoder};

/// Modules nested deeper than this are refused (a module calling itself would recurse forever).
pub(super) const MAX_MODULE_DEPTH: usize = 16;

/// The module instance being decoded.
#[derive(Clone, Default)]
pub(super) struct ModuleScope {
    /// Empty at the root.
    pub path: Vec<ModuleStep>,
    /// `module.a.module.b`, empty at the root.
    pub prefix: String,
    /// The module's directory (the configuration directory at the root).
    pub dir: PathBuf,
    /// The call's arguments (the module's input variables), by name, already rewritten into the
    /// caller's scope.
    pub args: HashMap<String, Attribute>,
    /// Where the call is, for diagnostics: `module.site (main.tf:3:1)`, outermost first.
    pub chain: Vec<String>,
    pub call_header: Option<BSpan>,
    /// `depends_on` of the calls this module instance is in (caller's scope), added to each of
    /// its resources.
    pub depends: Vec<Expr>,
    /// `providers = { tencentcloud = tencentcloud.sh }`: the root provider alias (None: the
    /// default provider) each provider alias of the module stands for.
    pub providers: HashMap<Option<String>, Option<String>>,
}

impl ModuleScope {
    pub fn is_root(&self) -> bool {
        self.path.is_empty()
    }

    pub fn join(&self, what: &str) -> String {
        if self.prefix.is_empty() {
            what.to_string()
        } else {
            format!("{}.{what}", self.prefix)
        }
    }

    /// The name a local of this module is known by.
    pub fn local_name(&self, name: &str) -> String {
        if self.is_root() {
            name.to_string()
        } else {
            self.join(&format!("local.{name}"))
        }
    }

    pub fn var_name(&self, name: &str) -> String {
        self.join(&format!("var.{name}"))
    }

    /// The local holding output `output` of the call `module.CALL` made from this module.
    pub fn output_name(&self, call: &str, output: &str) -> String {
        self.instance_output(
            &ModuleStep {
                name: call.into(),
                key: None,
            },
            output,
        )
    }

    /// The local holding output `output` of one instance of a call made from this module.
    pub fn instance_output(&self, step: &ModuleStep, output: &str) -> String {
        self.join(&format!("{step}.output.{output}"))
    }

    /// The local holding the object of all outputs of the call `module.CALL` (a map or list of
    /// them for a call with for_each or count).
    pub fn call_object(&self, call: &str) -> String {
        self.join(&format!("module.{call}"))
    }

    /// The name a resource of this module is indexed by.
    pub fn resource_name(&self, name: &str) -> String {
        if self.is_root() {
            name.to_string()
        } else {
            self.join(name)
        }
    }
}

/// `dir` joined with a relative `source`, without `.` components.
pub(super) fn module_dir(dir: &Path, source: &str) -> PathBuf {
    let source = source.replace('\\', "/");
    let mut out = dir.to_path_buf();
    for c in Path::new(&source).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if out.file_name().is_some()
                    && out.components().next_back() != Some(Component::ParentDir)
                {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Rewrites the references of expressions written in `scope` to the flattened names.
pub(super) struct Rewriter<'a> {
    scope: &'a ModuleScope,
    types: HashSet<&'static str>,
    module_dir: String,
}

impl<'a> Rewriter<'a> {
    pub fn new(scope: &'a ModuleScope) -> Self {
        let mut types: HashSet<&'static str> = supported_types(Mode::Managed).into_iter().collect();
        types.extend(supported_types(Mode::Data));
        Rewriter {
            scope,
            types,
            module_dir: scope.dir.display().to_string(),
        }
    }

    pub fn body(&self, b: &mut Body) {
        for a in &mut b.attrs {
            self.expr(&mut a.expr);
        }
        for blk in &mut b.blocks {
            self.block(blk);
        }
    }

    pub fn block(&self, b: &mut Block) {
        // Addresses in import, moved and removed blocks are written as they are, with the
        // module path (`module.site.TYPE.NAME`), not references. A variable's default and
        // validation rules see only the variable itself (`var.NAME`).
        if matches!(b.kind.as_str(), "import" | "moved" | "removed" | "variable") {
            return;
        }
        self.body(&mut b.body);
    }

    fn attr_op(name: String, span: BSpan) -> TraverseOp {
        TraverseOp {
            kind: OpKind::Attr(name),
            span,
        }
    }

    /// The rewritten form of `root.ops...`, if it names something that moves.
    fn reference(&self, root: &str, ops: &[TraverseOp], span: BSpan) -> Option<ExprKind> {
        let attr = |i: usize| match ops.get(i) {
            Some(TraverseOp {
                kind: OpKind::Attr(a),
                span,
            }) => Some((a.as_str(), *span)),
            _ => None,
        };
        let local = |name: String, nspan: BSpan, rest: &[TraverseOp]| {
            let mut new_ops = vec![Self::attr_op(name, nspan)];
            new_ops.extend(rest.iter().cloned());
            ExprKind::Traversal(
                Box::new(Expr {
                    kind: ExprKind::Var("local".into()),
                    span,
                }),
                new_ops,
            )
        };
        if root == "module" {
            let (call, cspan) = attr(0)?;
            if let Some((output, ospan)) = attr(1) {
                return Some(local(
                    self.scope.output_name(call, output),
                    ospan,
                    &ops[2..],
                ));
            }
            if let (Some(key), Some((output, ospan))) =
                (ops.get(1).and_then(address::literal_key), attr(2))
            {
                let step = ModuleStep {
                    name: call.into(),
                    key: Some(key),
                };
                return Some(local(
                    self.scope.instance_output(&step, output),
                    ospan,
                    &ops[3..],
                ));
            }
            return Some(local(self.scope.call_object(call), cspan, &ops[1..]));
        }
        if self.scope.is_root() {
            return None;
        }
        match root {
            "var" => {
                let (name, nspan) = attr(0)?;
                Some(local(self.scope.var_name(name), nspan, &ops[1..]))
            }
            "local" => {
                let (name, nspan) = attr(0)?;
                Some(local(self.scope.local_name(name), nspan, &ops[1..]))
            }
            "path" => {
                let (what, _) = attr(0)?;
                if what != "module" {
                    return None;
                }
                let lit = ExprKind::Literal(self.module_dir.clone().into());
                if ops.len() == 1 {
                    Some(lit)
                } else {
                    Some(ExprKind::Traversal(
                        Box::new(Expr { kind: lit, span }),
                        ops[1..].to_vec(),
                    ))
                }
            }
            "data" | "resource" => {
                let (_, _) = attr(0)?;
                let (name, nspan) = attr(1)?;
                let mut new_ops = vec![
                    ops[0].clone(),
                    Self::attr_op(self.scope.resource_name(name), nspan),
                ];
                new_ops.extend(ops[2..].iter().cloned());
                Some(ExprKind::Traversal(
                    Box::new(Expr {
                        kind: ExprKind::Var(root.to_string()),
                        span,
                    }),
                    new_ops,
                ))
            }
            t if self.types.contains(t) => {
                let (name, nspan) = attr(0)?;
                let mut new_ops = vec![Self::attr_op(self.scope.resource_name(name), nspan)];
                new_ops.extend(ops[1..].iter().cloned());
                Some(ExprKind::Traversal(
                    Box::new(Expr {
                        kind: ExprKind::Var(root.to_string()),
                        span,
                    }),
                    new_ops,
                ))
            }
            _ => None,
        }
    }

    pub fn expr(&self, e: &mut Expr) {
        visit_exprs(e, &mut |x: &mut Expr| {
            if let Some((root, ops)) = x.as_static_traversal() {
                if let Some(kind) = self.reference(root, ops, x.span) {
                    x.kind = kind;
                }
            }
        });
    }
}

/// Calls `f` on `e` and then on every expression inside it (after `f` may have replaced it).
pub(super) fn visit_exprs(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    f(e);
    match &mut e.kind {
        ExprKind::Literal(_) | ExprKind::Var(_) => {}
        ExprKind::Tuple(items) => items.iter_mut().for_each(|x| visit_exprs(x, f)),
        ExprKind::Object(items) => {
            for (k, v) in items {
                if let ObjKey::Expr(k) = k {
                    visit_exprs(k, f);
                }
                visit_exprs(v, f);
            }
        }
        ExprKind::Template(parts) => visit_template(parts, f),
        ExprKind::Traversal(base, ops) => {
            visit_exprs(base, f);
            for op in ops {
                if let OpKind::Index(i) = &mut op.kind {
                    visit_exprs(i, f);
                }
            }
        }
        ExprKind::Call { args, .. } => args.iter_mut().for_each(|x| visit_exprs(x, f)),
        ExprKind::Unary(_, x) => visit_exprs(x, f),
        ExprKind::Binary(_, a, b) => {
            visit_exprs(a, f);
            visit_exprs(b, f);
        }
        ExprKind::Cond(a, b, c) => {
            visit_exprs(a, f);
            visit_exprs(b, f);
            visit_exprs(c, f);
        }
        ExprKind::For(fe) => {
            visit_exprs(&mut fe.coll, f);
            if let Some(k) = &mut fe.key_expr {
                visit_exprs(k, f);
            }
            visit_exprs(&mut fe.value_expr, f);
            if let Some(c) = &mut fe.cond {
                visit_exprs(c, f);
            }
        }
    }
}

fn visit_template(parts: &mut [TemplatePart], f: &mut dyn FnMut(&mut Expr)) {
    for p in parts {
        match p {
            TemplatePart::Lit(_) => {}
            TemplatePart::Interp(e) => visit_exprs(e, f),
            TemplatePart::If { cond, then, els } => {
                visit_exprs(cond, f);
                visit_template(then, f);
                visit_template(els, f);
            }
            TemplatePart::For { coll, body, .. } => {
                visit_exprs(coll, f);
                visit_template(body, f);
            }
        }
    }
}

/// Replaces `each.key`, `each.value` and `count.index` in an argument of a module call with
/// the values of one instance.
pub(super) fn substitute_instance(
    e: &mut Expr,
    each: Option<(&Value, &Value)>,
    index: Option<&Value>,
) {
    visit_exprs(e, &mut |x: &mut Expr| {
        let Some((root, ops)) = x.as_static_traversal() else {
            return;
        };
        let what = match ops.first() {
            Some(TraverseOp {
                kind: OpKind::Attr(a),
                ..
            }) => a.as_str(),
            _ => return,
        };
        let value = match (root, what) {
            ("each", "key") => each.map(|(k, _)| k),
            ("each", "value") => each.map(|(_, v)| v),
            ("count", "index") => index,
            _ => None,
        };
        let Some(value) = value else { return };
        let lit = Expr {
            kind: ExprKind::Literal(value.clone()),
            span: x.span,
        };
        x.kind = if ops.len() == 1 {
            lit.kind
        } else {
            ExprKind::Traversal(Box::new(lit), ops[1..].to_vec())
        };
    });
}

/// Evaluates a module call's `count` or `for_each` at load: variables and locals (evaluated on
/// demand), never resources.
pub(super) struct EarlyRefs<'a> {
    pub locals: &'a [tunnelform_instances::loaded::LocalDecl],
    pub index: &'a HashMap<String, usize>,
    pub active: std::cell::RefCell<Vec<usize>>,
}

impl Refs for EarlyRefs<'_> {
    fn local(&self, ev: &Evaluator<'_>, name: &str, span: BSpan) -> EResult<Arc<Value>> {
        let Some(&i) = self.index.get(name) else {
            return Err(error(
                format!("Reference to undeclared local value \"{name}\""),
                span,
            ));
        };
        if self.active.borrow().contains(&i) || self.active.borrow().len() > 256 {
            return Err(error(format!("local.{name} refers to itself"), span)
                .help("break the cycle between the locals"));
        }
        self.active.borrow_mut().push(i);
        let v = ev
            .eval(&self.locals[i].expr, &Scope::root())
            .and_then(|v| self.locals[i].finish(v, ev.module_dir));
        self.active.borrow_mut().pop();
        v.map(Arc::new)
    }

    fn resource(
        &self,
        _ev: &Evaluator<'_>,
        _sc: &Scope<'_>,
        _mode: Mode,
        _type_name: &str,
        _name: &str,
        span: BSpan,
        _ops: &[TraverseOp],
    ) -> EResult<Value> {
        Err(error(
            "Resource references are not allowed in a module call's count or for_each",
            span,
        )
        .detail("the instances of a module are known when the configuration is loaded")
        .help("build count and for_each from variables, locals and files (csvdecode(file(...)))"))
    }
}

/// The object of a module instance's outputs, each read from its local.
pub(super) fn outputs_object(
    scope: &ModuleScope,
    step: &ModuleStep,
    outputs: &[String],
    span: BSpan,
) -> Expr {
    let items = outputs
        .iter()
        .map(|o| {
            let value = Expr {
                kind: ExprKind::Traversal(
                    Box::new(Expr {
                        kind: ExprKind::Var("local".into()),
                        span,
                    }),
                    vec![TraverseOp {
                        kind: OpKind::Attr(scope.instance_output(step, o)),
                        span,
                    }],
                ),
                span,
            };
            (ObjKey::Ident(o.clone(), span), value)
        })
        .collect();
    Expr {
        kind: ExprKind::Object(items),
        span,
    }
}

impl Decoder {
    /// Records that the files `files` were loaded for the module call being decoded.
    pub(super) fn note_module_files(&mut self, files: &[u32]) {
        let chain = self.scope.chain.join(", called from ");
        for &f in files {
            if let Some(file) = self.sources.get(f) {
                let calls = self.module_files.entry(file.name.to_string()).or_default();
                if !calls.contains(&chain) {
                    calls.push(chain.clone());
                }
            }
        }
    }
    /// A `variable` block of a module: a local holding the call's argument or the default.
    pub(super) fn decode_module_variable(&mut self, b: &Block) {
        let Some(labels) = self.labels(b, 1, "variable \"NAME\" { ... }") else {
            return;
        };
        let name = labels[0].clone();
        let lname = self.scope.var_name(&name);
        if self.local_index.contains_key(&lname) {
            let d = Diagnostic::error(format!("Duplicate variable \"{name}\""))
                .with_help("remove or rename one of the two declarations");
            self.error(d, b.header);
            return;
        }
        let mut sensitive = false;
        let mut default = None;
        let mut ty = None;
        let mut validations = Vec::new();
        for inner in &b.body.blocks {
            if inner.kind != "validation" {
                self.unsupported_block(inner, "a variable block", &["validation"]);
                continue;
            }
            match (
                inner.body.attr("condition"),
                inner.body.attr("error_message"),
            ) {
                (Some(c), Some(m)) => {
                    validations.push(tunnelform_instances::vars::ValidationRule {
                        condition: c.expr.clone(),
                        message: m.expr.clone(),
                    })
                }
                _ => {
                    let d = Diagnostic::error("Incomplete validation block")
                        .with_help("write condition = ... and error_message = \"...\"");
                    self.error(d, inner.header);
                }
            }
        }
        for a in &b.body.attrs {
            match a.name.as_str() {
                "type" => {
                    let type_ev = Evaluator::new(None, None, Path::new("."), "a type constraint");
                    match tunnelform_lang::types::parse_type(&a.expr, &type_ev) {
                        Ok(t) => ty = Some(t),
                        Err(e) => self.eval_err(e),
                    }
                }
                "default" => default = Some(a.expr.clone()),
                "sensitive" => {
                    sensitive = self
                        .const_bool(a, "a variable declaration")
                        .unwrap_or(false)
                }
                "description" | "nullable" | "ephemeral" => {}
                _ => self.unsupported_arg(
                    a,
                    "a variable block",
                    &[
                        "type",
                        "default",
                        "description",
                        "sensitive",
                        "nullable",
                        "validation",
                    ],
                ),
            }
        }
        let given = self.scope.args.remove(&name);
        let (expr, name_span) = match (given, default) {
            (Some(a), _) => (a.expr, a.name_span),
            (None, Some(d)) => (d, b.labels[0].1),
            (None, None) => {
                let call = self.scope.call_header.unwrap_or(b.header);
                let d = Diagnostic::error(format!("Missing required argument \"{name}\""))
                    .with_detail(format!(
                        "the module's variable \"{name}\" has no default (declared at {})",
                        self.span_of(b.header)
                    ))
                    .with_help(format!("set {name} = ... in the module block"));
                self.error(d, call);
                return;
            }
        };
        let expr = if sensitive {
            sensitive_call(expr)
        } else {
            expr
        };
        self.local_index.insert(lname.clone(), self.locals.len());
        self.locals.push(tunnelform_instances::loaded::LocalDecl {
            name: lname,
            expr,
            name_span,
            var: Some(Box::new(tunnelform_instances::loaded::ModuleVar {
                name: name.clone(),
                ty,
                validations,
            })),
        });
    }

    /// An `output` block of a module: a local the caller reads as `module.NAME.OUTPUT`.
    pub(super) fn decode_module_output(
        &mut self,
        b: &Block,
        step: &ModuleStep,
        caller: &ModuleScope,
    ) {
        let Some(labels) = self.labels(b, 1, "output \"NAME\" { value = ... }") else {
            return;
        };
        let name = labels[0].clone();
        let lname = caller.instance_output(step, &name);
        let mut sensitive = false;
        let mut value = None;
        for a in &b.body.attrs {
            match a.name.as_str() {
                "value" => value = Some(a.expr.clone()),
                "sensitive" => {
                    sensitive = self.const_bool(a, "an output declaration").unwrap_or(false)
                }
                "description" | "depends_on" => {}
                _ => self.unsupported_arg(
                    a,
                    "an output block",
                    &["value", "description", "sensitive", "depends_on"],
                ),
            }
        }
        let address = self
            .scope
            .path
            .iter()
            .map(|m| format!("{m}."))
            .collect::<String>();
        self.output_conditions(b, format!("{address}output.{name}"));
        let Some(value) = value else {
            let d = Diagnostic::error(format!("Missing \"value\" in output \"{name}\""))
                .with_help("write value = ... in the output block");
            self.error(d, b.header);
            return;
        };
        if self.local_index.contains_key(&lname) {
            let d = Diagnostic::error(format!("Duplicate output \"{name}\""))
                .with_help("remove or rename one of the two outputs");
            self.error(d, b.header);
            return;
        }
        let value = if sensitive {
            sensitive_call(value)
        } else {
            value
        };
        self.local_index.insert(lname.clone(), self.locals.len());
        self.locals.push(tunnelform_instances::loaded::LocalDecl {
            name: lname,
            expr: value,
            name_span: b.labels[0].1,
            var: None,
        });
    }
}

/// Adds the module call chain to each diagnostic located in a module's file.
pub(super) fn add_call_chains(
    diags: &mut tunnelform_model::Diagnostics,
    files: &HashMap<String, Vec<String>>,
) {
    for d in &mut diags.0 {
        tunnelform_instances::loaded::add_call_chain(d, files);
    }
}

fn sensitive_call(e: Expr) -> Expr {
    let span = e.span;
    Expr {
        kind: ExprKind::Call {
            name: "sensitive".into(),
            name_span: span,
            args: vec![e],
            expand_final: false,
        },
        span,
    }
}
