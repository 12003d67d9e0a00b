//! The public API of the loaded [`Config`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::Digest as _;
use tunnelform_lang::suggest;
use tunnelform_model::{Address, Diagnostic, Diagnostics, Lifecycle, Span, Value};

use crate::decode;
use tunnelform_instances::api::{
    ImportBlock, Instance, InstanceKind, Lookup, NoLookup, OutputValue, ProviderConfig, VarInputs,
    DEFAULT_REGION,
};
use tunnelform_instances::conditions::{CheckOutcome, Checked, CondKind};
use tunnelform_instances::loaded::Loaded;
use tunnelform_instances::session::Session;
use tunnelform_instances::validate;

/// The parsed and checked configuration of one directory. Cheap to clone and to share between
/// threads.
#[derive(Clone, Debug)]
pub struct Config {
    loaded: Loaded,
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
            tunnelform_syntax::with_big_stack(|| decode::load(dir, vars, unset_unknown))?;
        let mut cfg = Config {
            loaded: Loaded {
                inner: Arc::new(inner),
                providers: Vec::new(),
                default_region: String::new(),
            },
        };
        cfg.set_default_region(DEFAULT_REGION);
        Ok((cfg, warnings))
    }

    /// The same configuration with another region for provider blocks that do not set one
    /// (for example from `TENCENTCLOUD_REGION`). The default is [`crate::DEFAULT_REGION`].
    pub fn with_default_region(mut self, region: &str) -> Config {
        self.set_default_region(region);
        self
    }

    fn set_default_region(&mut self, region: &str) {
        self.loaded.default_region = region.to_string();
        let mut providers: Vec<ProviderConfig> = self
            .loaded
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
                .loaded
                .inner
                .tf_files
                .first()
                .and_then(|f| self.loaded.inner.sources.get(*f))
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
        self.loaded.providers = providers;
    }

    pub fn dir(&self) -> &Path {
        &self.loaded.inner.dir
    }

    /// `terraform { backend "local" { path = "..." } }`, resolved relative to the config dir.
    pub fn backend_path(&self) -> Option<PathBuf> {
        self.loaded.inner.backend_path.clone()
    }

    /// `terraform { backend "local" { workspace_dir = "..." } }`, resolved relative to the config
    /// dir: where the states of the workspaces other than `default` live (Terraform's setting).
    pub fn backend_workspace_dir(&self) -> Option<PathBuf> {
        self.loaded.inner.backend_workspace_dir.clone()
    }

    /// `terraform { backend "pg" { conn_str = "...", schema_name = "..." } }`: its settings (the
    /// state is then kept in PostgreSQL; see the `tunnelform-state-pg` crate).
    pub fn backend_pg(&self) -> Option<&std::collections::BTreeMap<String, String>> {
        self.loaded.inner.backend_pg.as_ref()
    }

    /// Provider configurations: one per `provider "tencentcloud"` block, plus an implicit
    /// default one when no block without `alias` exists.
    pub fn providers(&self) -> &[ProviderConfig] {
        &self.loaded.providers
    }

    /// Resource and data blocks, ordered so that each comes after every block it references
    /// (through expressions, locals, or depends_on). Cycles are rejected by [`Config::load`].
    pub fn block_order(&self) -> Result<Vec<Address>, Diagnostics> {
        Ok(self
            .loaded
            .inner
            .order
            .iter()
            .map(|&i| self.loaded.inner.blocks[i].addr.clone())
            .collect())
    }

    /// Whether anything in the configuration (another block, a local, an output) reads the values
    /// of `block`'s instances. A planner need not keep the planned values of a block nobody reads.
    pub fn is_referenced(&self, block: &Address) -> bool {
        match self.block_idx(block) {
            Some(i) => self.loaded.inner.referenced[i],
            None => false,
        }
    }

    /// Block-level dependencies of a block (references + depends_on), addresses with key None.
    pub fn block_dependencies(&self, block: &Address) -> Vec<Address> {
        match self.block_idx(block) {
            Some(i) => self.loaded.inner.blocks[i].deps.depends_on.clone(),
            None => Vec::new(),
        }
    }

    /// Whether a block uses `count` or `for_each` (its instances have keys).
    pub fn is_multi_instance(&self, block: &Address) -> bool {
        self.block_idx(block)
            .is_some_and(|i| self.loaded.inner.blocks[i].is_multi())
    }

    /// The kind of a declared block.
    pub fn block_kind(&self, block: &Address) -> Option<InstanceKind> {
        self.block_idx(block)
            .map(|i| self.loaded.inner.blocks[i].kind)
    }

    /// The lifecycle settings of a declared block.
    pub fn lifecycle(&self, block: &Address) -> Option<&Lifecycle> {
        self.block_idx(block)
            .map(|i| &self.loaded.inner.blocks[i].lifecycle)
    }

    pub(crate) fn block_idx(&self, addr: &Address) -> Option<usize> {
        self.loaded
            .inner
            .block_index
            .get(&tunnelform_instances::loaded::index_key(addr))
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
        Session::new(&self.loaded, lookup).expand(idx, None)
    }

    /// Re-evaluates one instance's attributes (used at apply time once its dependencies exist).
    pub fn eval_instance(
        &self,
        instance: &Address,
        lookup: &dyn Lookup,
    ) -> Result<Instance, Diagnostics> {
        let idx = self.require_block(instance)?;
        let mut found =
            Session::new(&self.loaded, lookup).expand(idx, Some(instance.key.clone()))?;
        match found.pop() {
            Some(i) => Ok(i),
            None => {
                let b = &self.loaded.inner.blocks[idx];
                let d = Diagnostic::error(format!("No instance {instance} in the configuration"))
                    .with_detail("the block no longer has an instance with this key")
                    .with_help("the key may have been removed from count or for_each; plan again");
                Err(self.loaded.inner.sources.locate(d, b.header).into())
            }
        }
    }

    fn require_block(&self, addr: &Address) -> Result<usize, Diagnostics> {
        self.block_idx(addr).ok_or_else(|| {
            let all: Vec<String> = self
                .loaded
                .inner
                .blocks
                .iter()
                .map(|b| b.addr.to_string())
                .collect();
            let resource = addr.resource().to_string();
            let mut d = Diagnostic::error(format!("No block {resource} in the configuration"));
            if let Some(s) = suggest::did_you_mean(&resource, all.iter().map(String::as_str)) {
                d = d.with_help(s);
            }
            d.into()
        })
    }

    /// Outputs evaluated against `lookup`, sorted by name.
    pub fn outputs(&self, lookup: &dyn Lookup) -> Result<Vec<OutputValue>, Diagnostics> {
        Session::new(&self.loaded, lookup).outputs()
    }

    /// Whether a block has `precondition` / `postcondition` blocks of this kind.
    pub fn has_conditions(&self, block: &Address, kind: CondKind) -> bool {
        self.block_idx(block).is_some_and(|i| {
            self.loaded.inner.blocks[i]
                .conditions
                .iter()
                .any(|c| c.kind == kind)
        })
    }

    /// The preconditions (`this`: None) or postconditions (`this`: the object's planned or
    /// applied value, `self`) of one instance, evaluated against `lookup`.
    pub fn conditions(
        &self,
        instance: &Address,
        kind: CondKind,
        this: Option<&Value>,
        lookup: &dyn Lookup,
    ) -> Checked {
        let Some(idx) = self.block_idx(instance) else {
            return Checked::default();
        };
        Session::new(&self.loaded, lookup).instance_conditions(idx, &instance.key, kind, this)
    }

    /// The preconditions of the outputs (the root module's and the modules').
    pub fn output_conditions(&self, lookup: &dyn Lookup) -> Checked {
        if self.loaded.inner.output_conditions.is_empty() {
            return Checked::default();
        }
        Session::new(&self.loaded, lookup).output_conditions()
    }

    /// Whether the configuration has `check` blocks.
    pub fn has_checks(&self) -> bool {
        !self.loaded.inner.checks.is_empty()
    }

    /// Every `check` block's result against `lookup`, in declaration order.
    pub fn checks(&self, lookup: &dyn Lookup) -> Vec<CheckOutcome> {
        if self.loaded.inner.checks.is_empty() {
            return Vec::new();
        }
        Session::new(&self.loaded, lookup).checks()
    }

    /// The address of the `check` block a scoped data source belongs to.
    pub fn scoping_check(&self, block: &Address) -> Option<String> {
        let i = self.block_idx(block)?;
        let c = self.loaded.inner.blocks[i].check?;
        Some(self.loaded.inner.checks[c].address())
    }

    /// `import { to = ADDR, id = "..." }` blocks.
    pub fn imports(&self) -> Result<Vec<ImportBlock>, Diagnostics> {
        Session::new(&self.loaded, &NoLookup).imports()
    }

    /// `moved` blocks, in the order they apply (a chain `a -> b`, `b -> c` takes `a` to `c`).
    pub fn moved(&self) -> &[tunnelform_instances::api::Moved] {
        &self.loaded.inner.moved
    }

    /// `removed` blocks.
    pub fn removed(&self) -> &[tunnelform_instances::api::Removed] {
        &self.loaded.inner.removed
    }

    /// Stable digest of the configuration: file names and contents, and variable values
    /// (sensitive ones folded in only as a salted digest, never in clear).
    pub fn digest(&self) -> String {
        let mut h = sha2::Sha256::new();
        h.update(b"tunnelform-config-digest-v1\0");
        for &f in &self.loaded.inner.tf_files {
            if let Some(file) = self.loaded.inner.sources.get(f) {
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
        let mut names: Vec<&String> = self.loaded.inner.var_values.keys().collect();
        names.sort();
        for name in names {
            let v = &self.loaded.inner.var_values[name];
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
        for d in &self.loaded.inner.var_decls {
            if !d.sensitive {
                continue;
            }
            if let Some(v) = self.loaded.inner.var_values.get(&d.name) {
                let v = v.deep_unmarked();
                match v {
                    Value::Null => {}
                    Value::String(s) => out.push(s.into_string()),
                    other => out.push(other.canonical_key()),
                }
            }
        }
        out
    }

    /// Cross-instance validation ([`tunnelform_instances::validate_instances`]) with source lines taken from
    /// the loaded files.
    pub fn validate_instances(&self, instances: &[Instance]) -> Diagnostics {
        let mut d = validate::cross_instance(instances);
        self.attach_source_lines(&mut d);
        d
    }

    /// Fills in the source line of diagnostics whose spans point into this configuration's files.
    pub fn attach_source_lines(&self, diags: &mut Diagnostics) {
        for d in &mut diags.0 {
            self.loaded.inner.sources.attach_line(d);
        }
    }

    /// The value of an input variable (sensitive ones marked).
    pub fn variable(&self, name: &str) -> Option<&Value> {
        self.loaded.inner.var_values.get(name).map(|v| &**v)
    }
}
