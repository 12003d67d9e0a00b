//! The loaded configuration: [`Loaded`] and what it keeps of the parsed blocks, checked against
//! their schemas, for evaluation. `tunnelform-config` builds it (and wraps it in its `Config`),
//! `session.rs` evaluates it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tunnelform_model::schema::{AttrSchema, Nesting};
use tunnelform_model::{
    Address, InstanceKey, Lifecycle, Mode, ReplaceTrigger, Span, TriggerStep, Value,
};
use tunnelform_syntax::ast::Expr;
use tunnelform_syntax::{BSpan, Sources};

use tunnelform_lang::error::{error, EResult, WithHelp};
use tunnelform_lang::eval::{Evaluator, Scope};
use tunnelform_lang::types::convert;
use tunnelform_lang::values::{primitive_string, unmark};

use crate::api::{InstanceKind, ProviderConfig, ProviderRef};
use crate::vars::VariableDecl;

/// The parsed and checked configuration of one directory, as `tunnelform-config` loads it.
/// Cheap to clone and to share between threads.
#[derive(Clone)]
pub struct Loaded {
    pub inner: Arc<Inner>,
    pub providers: Vec<ProviderConfig>,
    pub default_region: String,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("dir", &self.inner.dir)
            .field(
                "blocks",
                &self
                    .inner
                    .blocks
                    .iter()
                    .map(|b| b.addr.to_string())
                    .collect::<Vec<_>>(),
            )
            .field("providers", &self.providers)
            .finish_non_exhaustive()
    }
}

pub struct Inner {
    pub dir: PathBuf,
    /// The selected workspace (`terraform.workspace`).
    pub workspace: String,
    pub sources: Sources,
    /// Source ids of the `*.tf` files, in name order.
    pub tf_files: Vec<u32>,
    pub var_decls: Vec<VariableDecl>,
    pub var_values: HashMap<String, Arc<Value>>,
    pub locals: Vec<LocalDecl>,
    pub local_index: HashMap<String, usize>,
    /// Values of locals that do not depend on resources, computed once at load.
    pub pure_values: Vec<Option<Arc<Value>>>,
    /// Locals that depend (transitively) on resources or data sources.
    pub impure: Vec<bool>,
    /// Per block: whether another block, a local or an output reads its values.
    pub referenced: Vec<bool>,
    pub blocks: Vec<ResourceBlock>,
    pub block_index: HashMap<(Mode, String, String), usize>,
    /// Blocks in dependency order.
    pub order: Vec<usize>,
    pub outputs: Vec<OutputDecl>,
    pub provider_decls: Vec<ProviderDecl>,
    pub backend_path: Option<PathBuf>,
    /// `backend "local" { workspace_dir = "..." }`, resolved relative to the directory.
    pub backend_workspace_dir: Option<PathBuf>,
    /// `backend "pg"`'s settings, when configured.
    pub backend_pg: Option<std::collections::BTreeMap<String, String>>,
    pub imports: Vec<ImportDecl>,
    /// `moved` blocks, in the order they apply (chains resolved).
    pub moved: Vec<crate::api::Moved>,
    /// `removed` blocks.
    pub removed: Vec<crate::api::Removed>,
    /// Loaded for `validate`: variables without a value are unknown, and so may be the instances
    /// of a block.
    pub unset_unknown: bool,
    /// The files of modules and the chains of module calls they were loaded for.
    pub module_files: HashMap<String, Vec<String>>,
    /// `check` blocks (those of modules too).
    pub checks: Vec<crate::conditions::CheckDecl>,
    /// The `precondition` blocks of outputs (root and module outputs).
    pub output_conditions: Vec<crate::conditions::OutputConditions>,
}

/// Adds the chain of module calls to a diagnostic located in a module's file.
pub fn add_call_chain(d: &mut tunnelform_model::Diagnostic, files: &HashMap<String, Vec<String>>) {
    let Some(span) = &d.span else { return };
    let Some(calls) = files.get(span.file.as_ref()) else {
        return;
    };
    let note = format!("in module call {}", calls.join("; and in module call "));
    if d.detail.as_deref().is_some_and(|x| x.contains(&note)) {
        return;
    }
    d.detail = Some(match d.detail.take() {
        Some(x) => format!("{x} ({note})"),
        None => note,
    });
}

pub struct LocalDecl {
    pub name: String,
    pub expr: Expr,
    pub name_span: BSpan,
    /// For the local holding a module's input variable: its type and validation rules.
    pub var: Option<Box<ModuleVar>>,
}

/// A module's input variable: the value given in the call (or the default) is converted to
/// `ty` and checked against `validations` (which see the variable as `var.NAME`).
pub struct ModuleVar {
    pub name: String,
    pub ty: Option<tunnelform_lang::types::Ty>,
    pub validations: Vec<crate::vars::ValidationRule>,
}

impl LocalDecl {
    /// The local's value from its expression's value: a module variable's is converted to its
    /// type and checked against its validation rules (errors at the value given in the call).
    pub fn finish(&self, v: Value, dir: &std::path::Path) -> EResult<Value> {
        let Some(var) = &self.var else {
            return Ok(v);
        };
        let invalid = || format!("Invalid value for module variable \"{}\"", var.name);
        let v = match &var.ty {
            Some(ty) => convert(&v, ty).map_err(|m| {
                let m = if v.contains_sensitive() {
                    "the value does not have the variable's type (the value is sensitive and not shown)".to_string()
                } else {
                    m
                };
                error(invalid(), self.expr.span)
                    .detail(m)
                    .help(format!("the variable's type is {ty}"))
            })?,
            None => v,
        };
        if var.validations.is_empty() || v.is_unknown() {
            return Ok(v);
        }
        let vars = HashMap::from([(var.name.clone(), Arc::new(v.clone()))]);
        let ev = Evaluator::new(Some(&vars), None, dir, "a validation rule");
        for rule in &var.validations {
            let ok = ev.eval(&rule.condition, &Scope::root())?;
            match unmark(ok).0 {
                Value::Bool(true) | Value::Unknown => {}
                Value::Bool(false) => {
                    let msg = ev
                        .eval(&rule.message, &Scope::root())
                        .ok()
                        .map(|m| unmark(m).0)
                        .and_then(|m| primitive_string(&m).map(|s| s.into_owned()))
                        .unwrap_or_else(|| "the validation rule failed".into());
                    return Err(error(invalid(), self.expr.span)
                        .detail(msg)
                        .help("give a value the module's validation rule accepts"));
                }
                _ => {
                    return Err(error("Invalid validation condition", rule.condition.span)
                        .detail("the condition must be true or false"))
                }
            }
        }
        Ok(v)
    }
}

pub struct ProviderDecl {
    pub alias: Option<String>,
    /// None when the block does not set `region` (the default region applies).
    pub region: Option<String>,
    pub span: Span,
}

pub struct OutputDecl {
    pub name: String,
    pub value: Expr,
    pub description: Option<String>,
    pub sensitive: bool,
}

pub struct ImportDecl {
    pub to: Address,
    pub id: Expr,
    pub span: BSpan,
}

/// What one block depends on, as the evaluation and the plan's graph use it (found by
/// `tunnelform-references` once every block is decoded).
#[derive(Clone, Debug, Default)]
pub struct BlockDeps {
    /// Block-level dependencies (references, also through locals, and depends_on), sorted.
    pub depends_on: Vec<Address>,
    /// The same as block indexes.
    pub dep_blocks: Vec<usize>,
    /// `depends_on` without the blocks that every reference names by a key known from the
    /// instance's own scope (`gw[each.value.gw]`): those become instance dependencies, see
    /// [`BlockDeps::key_refs`].
    pub coarse_deps: Vec<Address>,
    /// For each such reference: the block and its key expression, evaluated per instance.
    pub key_refs: Vec<(usize, KeyRef)>,
    /// The block reads locals that depend on resources (module inputs among them): its
    /// instances' dependencies are traced through them (`deps.rs`) instead of taken whole.
    pub traced: bool,
    /// `depends_on` (the block's and its module calls'): whole-block dependencies.
    pub explicit_deps: Vec<Address>,
}

pub struct ResourceBlock {
    pub kind: InstanceKind,
    pub addr: Address,
    pub header: BSpan,
    pub header_span: Span,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub provider_alias: Option<String>,
    /// What the block depends on (filled once every block is known).
    pub deps: BlockDeps,
    /// The instances, when count / for_each depend only on variables and locals (computed
    /// once at load instead of once per evaluation).
    pub static_expansion: Option<Arc<Expansion>>,
    pub lifecycle: Lifecycle,
    /// `lifecycle { replace_triggered_by = [...] }`, checked at load.
    pub triggers: Vec<TriggerRef>,
    /// `lifecycle { precondition / postcondition }` blocks.
    pub conditions: Vec<crate::conditions::Condition>,
    /// The `check` block a scoped data source belongs to (its index in `Inner::checks`).
    pub check: Option<usize>,
    pub body: BodyPlan,
}

/// One entry of `replace_triggered_by` as written: a managed resource of the same module
/// (`TYPE.NAME`), one of its instances (`TYPE.NAME[0]`, `TYPE.NAME[each.key]`) or an
/// attribute of one (`TYPE.NAME.ATTR`).
#[derive(Debug, Clone)]
pub struct TriggerRef {
    /// The reference itself: the block's dependencies include what it names.
    pub expr: Expr,
    /// The resource block named.
    pub block: Address,
    pub key: Option<TriggerKey>,
    pub path: Vec<TriggerStep>,
}

/// The instance key of a [`TriggerRef`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerKey {
    Literal(InstanceKey),
    /// `[count.index]`: the referring instance's own index.
    CountIndex,
    /// `[each.key]`: the referring instance's own key.
    EachKey,
}

impl TriggerRef {
    /// The trigger for the instance of the referring block with key `own`.
    pub fn resolve(&self, own: Option<&InstanceKey>) -> ReplaceTrigger {
        let key = match &self.key {
            None => None,
            Some(TriggerKey::Literal(k)) => Some(k.clone()),
            Some(TriggerKey::CountIndex | TriggerKey::EachKey) => own.cloned(),
        };
        ReplaceTrigger {
            address: self.block.clone().with_key(key),
            path: self.path.clone(),
        }
    }
}

/// The key of a resource reference `block[KEY]`, known without any resource value.
#[derive(Debug, Clone)]
pub enum KeyRef {
    Expr(Expr),
    Index(u64),
}

impl ResourceBlock {
    pub fn is_multi(&self) -> bool {
        self.count.is_some() || self.for_each.is_some()
    }

    /// The instance key a value names in this block: a whole number (count) or a string
    /// (for_each).
    pub fn instance_key(&self, key: &Value) -> Option<InstanceKey> {
        if self.count.is_some() {
            tunnelform_lang::values::to_number(key)
                .and_then(|n| n.as_i64())
                .and_then(|i| u64::try_from(i).ok())
                .map(InstanceKey::Index)
        } else {
            primitive_string(key).map(|s| InstanceKey::Key(s.into_owned()))
        }
    }
}

/// A block body checked against its schema.
#[derive(Default)]
pub struct BodyPlan {
    pub attrs: Vec<AttrPlan>,
    pub blocks: Vec<BlockPlan>,
}

impl BodyPlan {
    /// No `dynamic` block at any depth: every instance has the same arguments and blocks, at
    /// the same places.
    pub fn is_static(&self) -> bool {
        self.blocks.iter().all(|b| match &b.kind {
            BlockPlanKind::Static(inner) => inner.is_static(),
            BlockPlanKind::Dynamic { .. } => false,
        })
    }
}

pub struct AttrPlan {
    /// The argument's name (an attribute name of the schema: the key every instance's map
    /// gets, shared rather than copied).
    pub name: tunnelform_model::map::Name,
    pub schema: &'static AttrSchema,
    pub expr: Expr,
    /// The value expression.
    pub span: Span,
}

pub struct BlockPlan {
    pub name: String,
    pub nesting: Nesting,
    pub kind: BlockPlanKind,
    pub span: Span,
}

pub enum BlockPlanKind {
    Static(BodyPlan),
    Dynamic {
        for_each: Expr,
        iterator: String,
        content: BodyPlan,
    },
}

/// How many instances a block has.
pub enum Expansion {
    Single,
    Count(u64),
    /// A map (keys and values) or a set of strings (each element is key and value), shared with
    /// the local or variable it comes from.
    ForEach(Arc<Value>),
    /// Not known: `validate` without a variable's value. One instance without a key stands for
    /// the block, with `count.index` and `each` unknown.
    Unknown,
}

/// The key of a resource block in `Inner::block_index`: a block inside a module is indexed by
/// its name prefixed with the module path (`module.site.gw`), the name references to it are
/// rewritten to when the module is loaded.
pub fn index_key(a: &Address) -> (Mode, String, String) {
    let name = if a.module.is_empty() {
        a.name.to_string()
    } else {
        format!("{}.{}", a.module_path(), a.name)
    };
    (a.mode, a.type_name.to_string(), name)
}

impl Loaded {
    pub fn provider_ref(&self, alias: Option<&str>) -> ProviderRef {
        let region = self
            .providers
            .iter()
            .find(|p| p.alias.as_deref() == alias)
            .map(|p| p.region.clone())
            .unwrap_or_else(|| self.default_region.clone());
        ProviderRef {
            alias: alias.map(str::to_string),
            region,
        }
    }
}
