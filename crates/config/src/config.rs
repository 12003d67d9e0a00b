//! The loaded configuration and its public API.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::Digest as _;
use tunnelform_model::schema::{AttrSchema, Nesting};
use tunnelform_model::{Address, Diagnostic, Diagnostics, Mode, Span, Value};

use crate::ast::Expr;
use crate::decode;
use crate::session::Session;
use crate::source::{BSpan, Sources};
use crate::vars::VariableDecl;
use crate::{
    ImportBlock, Instance, InstanceKind, Lifecycle, Lookup, OutputValue, ProviderConfig,
    ProviderRef, VarInputs,
};

/// The parsed and checked configuration of one directory. Cheap to clone and to share between
/// threads.
#[derive(Clone)]
pub struct Config {
    pub(crate) inner: Arc<Inner>,
    providers: Vec<ProviderConfig>,
    default_region: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
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

pub(crate) struct Inner {
    pub dir: PathBuf,
    pub path_module: String,
    pub sources: Sources,
    /// Source ids of the `*.tf` files, in name order.
    pub tf_files: Vec<u32>,
    pub var_decls: Vec<VariableDecl>,
    pub var_values: HashMap<String, Arc<Value>>,
    pub locals: Vec<LocalDecl>,
    pub local_index: HashMap<String, usize>,
    /// Locals in dependency order.
    pub local_order: Vec<usize>,
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
    /// `backend "pg"`'s settings, when configured.
    pub backend_pg: Option<std::collections::BTreeMap<String, String>>,
    pub imports: Vec<ImportDecl>,
    /// Loaded for `validate`: variables without a value are unknown, and so may be the instances
    /// of a block.
    pub unset_unknown: bool,
}

pub(crate) struct LocalDecl {
    pub name: String,
    pub expr: Expr,
    pub name_span: BSpan,
}

pub(crate) struct ProviderDecl {
    pub alias: Option<String>,
    /// None when the block does not set `region` (the default region applies).
    pub region: Option<String>,
    pub span: Span,
}

pub(crate) struct OutputDecl {
    pub name: String,
    pub value: Expr,
    pub description: Option<String>,
    pub sensitive: bool,
}

pub(crate) struct ImportDecl {
    pub to: Address,
    pub id: Expr,
    pub span: BSpan,
}

pub(crate) struct ResourceBlock {
    pub kind: InstanceKind,
    pub addr: Address,
    pub header: BSpan,
    pub header_span: Span,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub provider_alias: Option<String>,
    /// Block-level dependencies (references, also through locals, and depends_on), sorted.
    pub depends_on: Vec<Address>,
    pub dep_blocks: Vec<usize>,
    /// `depends_on` without the blocks that every reference names by a key known from the
    /// instance's own scope (`gw[each.value.gw]`): those become instance dependencies, see
    /// [`ResourceBlock::key_refs`].
    pub coarse_deps: Vec<Address>,
    /// For each such reference: the block and its key expression, evaluated per instance.
    pub key_refs: Vec<(usize, KeyRef)>,
    /// The instances, when count / for_each depend only on variables and locals (computed
    /// once at load instead of once per evaluation).
    pub static_expansion: Option<Arc<crate::session::Expansion>>,
    pub lifecycle: Lifecycle,
    pub body: BodyPlan,
}

/// The key of a resource reference `block[KEY]`, known without any resource value.
#[derive(Debug, Clone)]
pub(crate) enum KeyRef {
    Expr(Expr),
    Index(u64),
}

impl ResourceBlock {
    pub fn is_multi(&self) -> bool {
        self.count.is_some() || self.for_each.is_some()
    }
}

/// A block body checked against its schema.
#[derive(Default)]
pub(crate) struct BodyPlan {
    pub attrs: Vec<AttrPlan>,
    pub blocks: Vec<BlockPlan>,
}

pub(crate) struct AttrPlan {
    pub name: String,
    pub schema: &'static AttrSchema,
    pub expr: Expr,
    /// The value expression.
    pub span: Span,
}

pub(crate) struct BlockPlan {
    pub name: String,
    pub nesting: Nesting,
    pub kind: BlockPlanKind,
    pub span: Span,
}

pub(crate) enum BlockPlanKind {
    Static(BodyPlan),
    Dynamic {
        for_each: Expr,
        iterator: String,
        content: BodyPlan,
    },
}

impl Config {
    /// Loads every `*.tf` in `dir` (not recursive; sorted by name), parses, resolves variables
    /// (type conversion, defaults, validation blocks, sensitive marks), and validates everything
    /// that can be validated without resource values. Errors: all diagnostics at once (warnings
    /// included), each with its span.
    pub fn load(dir: &Path, vars: &VarInputs) -> Result<(Config, Diagnostics), Diagnostics> {
        Config::load_with(dir, vars, false)
    }

    /// [`Config::load`] for `validate`: a variable that has neither a value nor a default is
    /// unknown (of its declared type) instead of an error, as in Terraform, so that a
    /// configuration can be checked without its secrets. Values that are given are checked as
    /// usual.
    pub fn load_unset_unknown(
        dir: &Path,
        vars: &VarInputs,
    ) -> Result<(Config, Diagnostics), Diagnostics> {
        Config::load_with(dir, vars, true)
    }

    fn load_with(
        dir: &Path,
        vars: &VarInputs,
        unset_unknown: bool,
    ) -> Result<(Config, Diagnostics), Diagnostics> {
        let (inner, warnings) =
            crate::lower::with_big_stack(|| decode::load(dir, vars, unset_unknown))?;
        let mut cfg = Config {
            inner: Arc::new(inner),
            providers: Vec::new(),
            default_region: String::new(),
        };
        cfg.set_default_region(crate::DEFAULT_REGION);
        Ok((cfg, warnings))
    }

    /// The same configuration with another region for provider blocks that do not set one
    /// (for example from `TENCENTCLOUD_REGION`). The default is [`crate::DEFAULT_REGION`].
    pub fn with_default_region(mut self, region: &str) -> Config {
        self.set_default_region(region);
        self
    }

    fn set_default_region(&mut self, region: &str) {
        self.default_region = region.to_string();
        let mut providers: Vec<ProviderConfig> = self
            .inner
            .provider_decls
            .iter()
            .map(|p| ProviderConfig {
                alias: p.alias.clone(),
                region: p.region.clone().unwrap_or_else(|| region.to_string()),
                span: p.span.clone(),
            })
            .collect();
        if !providers.iter().any(|p| p.alias.is_none()) {
            let span = self
                .inner
                .tf_files
                .first()
                .and_then(|f| self.inner.sources.get(*f))
                .map(|f| Span::point(f.name.clone(), 1, 1))
                .unwrap_or_else(|| Span::point("<none>".into(), 1, 1));
            providers.insert(
                0,
                ProviderConfig {
                    alias: None,
                    region: region.to_string(),
                    span,
                },
            );
        }
        self.providers = providers;
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// `terraform { backend "local" { path = "..." } }`, resolved relative to the config dir.
    pub fn backend_path(&self) -> Option<PathBuf> {
        self.inner.backend_path.clone()
    }

    /// `terraform { backend "pg" { conn_str = "...", schema_name = "..." } }`: its settings (the
    /// state is then kept in PostgreSQL; see the `tunnelform-state-pg` crate).
    pub fn backend_pg(&self) -> Option<&std::collections::BTreeMap<String, String>> {
        self.inner.backend_pg.as_ref()
    }

    /// Provider configurations: one per `provider "tencentcloud"` block, plus an implicit
    /// default one when no block without `alias` exists.
    pub fn providers(&self) -> &[ProviderConfig] {
        &self.providers
    }

    pub(crate) fn provider_ref(&self, alias: Option<&str>) -> ProviderRef {
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

    /// Resource and data blocks, ordered so that each comes after every block it references
    /// (through expressions, locals, or depends_on). Cycles are rejected by [`Config::load`].
    pub fn block_order(&self) -> Result<Vec<Address>, Diagnostics> {
        Ok(self
            .inner
            .order
            .iter()
            .map(|&i| self.inner.blocks[i].addr.clone())
            .collect())
    }

    /// Whether anything in the configuration (another block, a local, an output) reads the values
    /// of `block`'s instances. A planner need not keep the planned values of a block nobody reads.
    pub fn is_referenced(&self, block: &Address) -> bool {
        match self.block_idx(block) {
            Some(i) => self.inner.referenced[i],
            None => false,
        }
    }

    /// Block-level dependencies of a block (references + depends_on), addresses with key None.
    pub fn block_dependencies(&self, block: &Address) -> Vec<Address> {
        match self.block_idx(block) {
            Some(i) => self.inner.blocks[i].depends_on.clone(),
            None => Vec::new(),
        }
    }

    /// Whether a block uses `count` or `for_each` (its instances have keys).
    pub fn is_multi_instance(&self, block: &Address) -> bool {
        self.block_idx(block)
            .is_some_and(|i| self.inner.blocks[i].is_multi())
    }

    /// The kind of a declared block.
    pub fn block_kind(&self, block: &Address) -> Option<InstanceKind> {
        self.block_idx(block).map(|i| self.inner.blocks[i].kind)
    }

    /// The lifecycle settings of a declared block.
    pub fn lifecycle(&self, block: &Address) -> Option<&Lifecycle> {
        self.block_idx(block)
            .map(|i| &self.inner.blocks[i].lifecycle)
    }

    pub(crate) fn block_idx(&self, addr: &Address) -> Option<usize> {
        self.inner
            .block_index
            .get(&(addr.mode, addr.type_name.clone(), addr.name.clone()))
            .copied()
    }

    /// Expands one block (count / for_each; for_each over an unknown value is an error) into
    /// its instances with attributes evaluated against `lookup` and validated against the schema.
    pub fn expand_block(
        &self,
        block: &Address,
        lookup: &dyn Lookup,
    ) -> Result<Vec<Instance>, Diagnostics> {
        let idx = self.require_block(block)?;
        Session::new(self, lookup).expand(idx, None)
    }

    /// Re-evaluates one instance's attributes (used at apply time once its dependencies exist).
    pub fn eval_instance(
        &self,
        instance: &Address,
        lookup: &dyn Lookup,
    ) -> Result<Instance, Diagnostics> {
        let idx = self.require_block(instance)?;
        let mut found = Session::new(self, lookup).expand(idx, Some(instance.key.clone()))?;
        match found.pop() {
            Some(i) => Ok(i),
            None => {
                let b = &self.inner.blocks[idx];
                let d = Diagnostic::error(format!("No instance {instance} in the configuration"))
                    .with_detail("the block no longer has an instance with this key")
                    .with_help("the key may have been removed from count or for_each; plan again");
                Err(self.inner.sources.locate(d, b.header).into())
            }
        }
    }

    fn require_block(&self, addr: &Address) -> Result<usize, Diagnostics> {
        self.block_idx(addr).ok_or_else(|| {
            let all: Vec<String> = self
                .inner
                .blocks
                .iter()
                .map(|b| b.addr.to_string())
                .collect();
            let resource = addr.resource().to_string();
            let mut d = Diagnostic::error(format!("No block {resource} in the configuration"));
            if let Some(s) = crate::suggest::did_you_mean(&resource, all.iter().map(String::as_str))
            {
                d = d.with_help(s);
            }
            d.into()
        })
    }

    /// Outputs evaluated against `lookup`, sorted by name.
    pub fn outputs(&self, lookup: &dyn Lookup) -> Result<Vec<OutputValue>, Diagnostics> {
        Session::new(self, lookup).outputs()
    }

    /// `import { to = ADDR, id = "..." }` blocks.
    pub fn imports(&self) -> Result<Vec<ImportBlock>, Diagnostics> {
        Session::new(self, &crate::NoLookup).imports()
    }

    /// Stable digest of the configuration: file names and contents, and variable values
    /// (sensitive ones folded in only as a salted digest, never in clear).
    pub fn digest(&self) -> String {
        let mut h = sha2::Sha256::new();
        h.update(b"tunnelform-config-digest-v1\0");
        for &f in &self.inner.tf_files {
            if let Some(file) = self.inner.sources.get(f) {
                let name = Path::new(&*file.name)
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                h.update(name.as_bytes());
                h.update(b"\0");
                h.update((file.text.len() as u64).to_le_bytes());
                h.update(file.text.as_bytes());
            }
        }
        let mut names: Vec<&String> = self.inner.var_values.keys().collect();
        names.sort();
        for name in names {
            let v = &self.inner.var_values[name];
            h.update(name.as_bytes());
            h.update(b"\0");
            let json = v.deep_unmarked().canonical_key();
            if v.contains_sensitive() {
                let mut inner = sha2::Sha256::new();
                inner.update(b"tunnelform-sensitive-variable-salt-v1\0");
                inner.update(name.as_bytes());
                inner.update(b"\0");
                inner.update(json.as_bytes());
                h.update(b"S");
                h.update(inner.finalize());
            } else {
                h.update(b"V");
                h.update(json.as_bytes());
            }
            h.update(b"\0");
        }
        hex::encode(h.finalize())
    }

    /// Variables declared sensitive and their current values (so state/plan can hash or redact,
    /// never store). Strings as they are, other values as JSON.
    pub fn sensitive_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        for d in &self.inner.var_decls {
            if !d.sensitive {
                continue;
            }
            if let Some(v) = self.inner.var_values.get(&d.name) {
                let v = v.deep_unmarked();
                match v {
                    Value::Null => {}
                    Value::String(s) => out.push(s),
                    other => out.push(other.canonical_key()),
                }
            }
        }
        out
    }

    /// Cross-instance validation ([`crate::validate_instances`]) with source lines taken from
    /// the loaded files.
    pub fn validate_instances(&self, instances: &[Instance]) -> Diagnostics {
        let mut d = crate::validate::cross_instance(instances);
        self.attach_source_lines(&mut d);
        d
    }

    /// Fills in the source line of diagnostics whose spans point into this configuration's files.
    pub fn attach_source_lines(&self, diags: &mut Diagnostics) {
        for d in &mut diags.0 {
            self.inner.sources.attach_line(d);
        }
    }

    /// The value of an input variable (sensitive ones marked).
    pub fn variable(&self, name: &str) -> Option<&Value> {
        self.inner.var_values.get(name).map(|v| &**v)
    }
}
