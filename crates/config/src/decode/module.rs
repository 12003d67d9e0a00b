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

use tunnelform_model::{Diagnostic, Mode, ModuleStep};
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
}

impl ModuleScope {
    pub fn is_root(&self) -> bool {
        self.path.is_empty()
    }

    fn join(&self, what: &str) -> String {
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
        self.join(&format!("module.{call}.output.{output}"))
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
        // module path (`module.site.TYPE.NAME`), not references.
        if matches!(b.kind.as_str(), "import" | "moved" | "removed") {
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
            let (call, _) = attr(0)?;
            let (output, ospan) = attr(1)?;
            return Some(local(
                self.scope.output_name(call, output),
                ospan,
                &ops[2..],
            ));
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
        if let Some((root, ops)) = e.as_static_traversal() {
            if let Some(kind) = self.reference(root, ops, e.span) {
                e.kind = kind;
            }
        }
        match &mut e.kind {
            ExprKind::Literal(_) | ExprKind::Var(_) => {}
            ExprKind::Tuple(items) => items.iter_mut().for_each(|x| self.expr(x)),
            ExprKind::Object(items) => {
                for (k, v) in items {
                    if let ObjKey::Expr(k) = k {
                        self.expr(k);
                    }
                    self.expr(v);
                }
            }
            ExprKind::Template(parts) => self.template(parts),
            ExprKind::Traversal(base, ops) => {
                self.expr(base);
                for op in ops {
                    if let OpKind::Index(i) = &mut op.kind {
                        self.expr(i);
                    }
                }
            }
            ExprKind::Call { args, .. } => args.iter_mut().for_each(|x| self.expr(x)),
            ExprKind::Unary(_, x) => self.expr(x),
            ExprKind::Binary(_, a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Cond(a, b, c) => {
                self.expr(a);
                self.expr(b);
                self.expr(c);
            }
            ExprKind::For(f) => {
                self.expr(&mut f.coll);
                if let Some(k) = &mut f.key_expr {
                    self.expr(k);
                }
                self.expr(&mut f.value_expr);
                if let Some(c) = &mut f.cond {
                    self.expr(c);
                }
            }
        }
    }

    fn template(&self, parts: &mut [TemplatePart]) {
        for p in parts {
            match p {
                TemplatePart::Lit(_) => {}
                TemplatePart::Interp(e) => self.expr(e),
                TemplatePart::If { cond, then, els } => {
                    self.expr(cond);
                    self.template(then);
                    self.template(els);
                }
                TemplatePart::For { coll, body, .. } => {
                    self.expr(coll);
                    self.template(body);
                }
            }
        }
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
        for a in &b.body.attrs {
            match a.name.as_str() {
                "default" => default = Some(a.expr.clone()),
                "sensitive" => {
                    sensitive = self
                        .const_bool(a, "a variable declaration")
                        .unwrap_or(false)
                }
                "type" | "description" | "nullable" | "ephemeral" => {}
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
        self.locals.push(crate::loaded::LocalDecl {
            name: lname,
            expr,
            name_span,
        });
    }

    /// An `output` block of a module: a local the caller reads as `module.NAME.OUTPUT`.
    pub(super) fn decode_module_output(&mut self, b: &Block, call: &str, caller: &ModuleScope) {
        let Some(labels) = self.labels(b, 1, "output \"NAME\" { value = ... }") else {
            return;
        };
        let name = labels[0].clone();
        let lname = caller.output_name(call, &name);
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
        self.locals.push(crate::loaded::LocalDecl {
            name: lname,
            expr: value,
            name_span: b.labels[0].1,
        });
    }
}

/// Adds the module call chain to each diagnostic located in a module's file.
pub(super) fn add_call_chains(
    diags: &mut tunnelform_model::Diagnostics,
    files: &HashMap<String, Vec<String>>,
) {
    for d in &mut diags.0 {
        let Some(span) = &d.span else { continue };
        let Some(calls) = files.get(span.file.as_ref()) else {
            continue;
        };
        let note = format!("in module call {}", calls.join("; and in module call "));
        d.detail = Some(match d.detail.take() {
            Some(x) => format!("{x} ({note})"),
            None => note,
        });
    }
}

/// The diagnostic summary and help for a reference to a flattened name nothing declares:
/// an output of a module call, or a variable or local of a module.
pub(super) fn undeclared(name: &str) -> Option<(String, String)> {
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
