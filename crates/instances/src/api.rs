//! The types of the crate's interface: what callers pass in (variable inputs, a lookup of
//! resource values) and what they get back (instances, outputs, imports, providers).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use tunnelform_model::Map;

use tunnelform_model::{Address, Lifecycle, Span, Value};

/// Total size of all configuration and variable files read by one `Config::load`.
pub const MAX_CONFIG_BYTES: usize = 16 * 1024 * 1024;
/// The region of a `provider "tencentcloud"` block without `region` (the provider's documented default).
pub const DEFAULT_REGION: &str = "ap-guangzhou";

/// One `--var NAME=VALUE` or `--var-file FILE` argument, in command-line order.
#[derive(Clone, PartialEq, Eq)]
pub enum VarArg {
    /// `--var NAME=VALUE`: the name and the raw value text.
    Pair(String, String),
    /// `--var-file FILE`.
    File(PathBuf),
}

/// Values may be secrets: never printed.
impl std::fmt::Debug for VarArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VarArg::Pair(name, _) => write!(f, "Pair({name:?}, ** redacted **)"),
            VarArg::File(p) => write!(f, "File({p:?})"),
        }
    }
}

/// Where variable values come from. Precedence, lowest first (as Terraform): a variable's
/// `default`, `TF_VAR_NAME` from `env`, `terraform.tfvars` (and `terraform.tfvars.json`),
/// `*.auto.tfvars` / `*.auto.tfvars.json` in lexical order, then `cli` in the order given.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct VarInputs {
    pub cli: Vec<VarArg>,
    /// `TF_VAR_*` environment variables already read by the caller: (full variable name incl.
    /// the `TF_VAR_` prefix, or the bare name; both are accepted), raw value.
    pub env: Vec<(String, String)>,
    /// The selected workspace, the value of `terraform.workspace` (`None`: "default").
    pub workspace: Option<String>,
}

impl std::fmt::Debug for VarInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VarInputs")
            .field("cli", &self.cli)
            .field(
                "env",
                &self.env.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            )
            .field("workspace", &self.workspace)
            .finish()
    }
}

/// Resolves references to resources and data sources.
pub trait Lookup {
    /// The current object value (a `Value::Map` of attributes incl. "id") of a managed or data
    /// resource instance, or None when it does not exist / is not known yet (the evaluator then
    /// treats the whole object as `Value::Unknown`).
    fn instance(&self, addr: &Address) -> Option<Value>;

    /// The same value, shared: a lookup that keeps its values in `Arc`s answers without copying
    /// the object (the evaluator reads one attribute of it, usually its id).
    fn instance_shared(&self, addr: &Address) -> Option<std::sync::Arc<Value>> {
        self.instance(addr).map(std::sync::Arc::new)
    }

    /// The same lookup, when it may be read from several threads at once: a block of many
    /// instances is then evaluated on several cores. `None` (the default) keeps it on one.
    fn as_sync(&self) -> Option<&(dyn Lookup + Sync)> {
        None
    }
}

/// A [`Lookup`] that knows nothing (every resource reference is Unknown): for `validate`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLookup;

impl Lookup for NoLookup {
    fn instance(&self, _addr: &Address) -> Option<Value> {
        None
    }

    fn as_sync(&self) -> Option<&(dyn Lookup + Sync)> {
        Some(self)
    }
}

impl<F: Fn(&Address) -> Option<Value>> Lookup for F {
    fn instance(&self, addr: &Address) -> Option<Value> {
        self(addr)
    }
}

/// What an instance is (a managed resource or a data source, by kind).
pub use tunnelform_kinds::ObjectKind as InstanceKind;

/// One `provider "tencentcloud"` block. When the configuration has no default (alias-less)
/// provider block, `Config::providers` (tunnelform-config) includes an implicit one with [`DEFAULT_REGION`], whose
/// span points at the first line of the first file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    pub alias: Option<String>,
    pub region: String,
    pub span: Span,
}

/// The provider configuration an instance uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderRef {
    pub alias: Option<String>,
    pub region: String,
}

/// One instance of a resource or data block, evaluated and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// With key for count/for_each instances.
    pub address: Address,
    pub kind: InstanceKind,
    pub provider: ProviderRef,
    /// Only arguments set in configuration (null means unset and is left out), converted to the
    /// schema's types. Nested blocks: `Nesting::Single` -> `Value::Map`, List/Set -> `Value::List`
    /// of `Value::Map` in source order. Schema defaults are NOT filled in. Sensitive schema
    /// attributes (`pre_share_key`) are always marked `Value::Sensitive`.
    pub attrs: Map,
    /// What the instance depends on, sorted: a block address (key None) stands for every instance
    /// of the block (references through locals, `depends_on`, splats, keys that need resource
    /// values); an instance address for a reference whose key is known from the instance's own
    /// scope (`tencentcloud_vpn_gateway.gw[each.value.gateway].id`).
    pub depends_on: Vec<Address>,
    pub lifecycle: Lifecycle,
    /// The block header (`resource "TYPE" "NAME"`).
    pub span: Span,
    /// Span of each argument's value expression. Top-level arguments by name; nested block
    /// arguments as `block.attr` (Single nesting) or `block.N.attr` (List/Set, N = source index);
    /// the nested blocks themselves as `block` / `block.N`. See [`AttrSpans`].
    pub attr_spans: AttrSpans,
}

/// The spans of an instance's arguments ([`Instance::attr_spans`]), needed only to place a
/// diagnostic. A block without `dynamic` blocks has the same spans for every instance: they are
/// then built from the block's plan on first use, once for all its instances, so a plan that
/// reports nothing builds none. An instance with `dynamic` blocks gets its map built while it is
/// evaluated (shared with the block's next instance when equal).
#[derive(Clone)]
pub struct AttrSpans(Arc<LazySpans>);

struct LazySpans {
    /// The configuration and the block's index, for a block without `dynamic` blocks.
    block: Option<(Arc<crate::loaded::Inner>, usize)>,
    map: std::sync::OnceLock<BTreeMap<String, Span>>,
}

impl AttrSpans {
    /// A map built while the instance was evaluated.
    pub fn built(map: BTreeMap<String, Span>) -> AttrSpans {
        AttrSpans(Arc::new(LazySpans {
            block: None,
            map: std::sync::OnceLock::from(map),
        }))
    }

    /// The spans of block `idx` of `inner` (which has no `dynamic` blocks), built on first use.
    pub(crate) fn of_block(inner: Arc<crate::loaded::Inner>, idx: usize) -> AttrSpans {
        AttrSpans(Arc::new(LazySpans {
            block: Some((inner, idx)),
            map: std::sync::OnceLock::new(),
        }))
    }

    pub fn map(&self) -> &BTreeMap<String, Span> {
        self.0.map.get_or_init(|| {
            let mut map = BTreeMap::new();
            if let Some((inner, idx)) = &self.0.block {
                if let Some(b) = inner.blocks.get(*idx) {
                    static_spans(&b.body, "", &mut map);
                }
            }
            map
        })
    }

    pub fn get(&self, key: &str) -> Option<&Span> {
        self.map().get(key)
    }

    /// The same spans object (not only equal spans).
    pub fn same(&self, other: &AttrSpans) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The keys of [`Instance::attr_spans`] for a body without `dynamic` blocks: what the session
/// records while it evaluates one.
fn static_spans(plan: &crate::loaded::BodyPlan, prefix: &str, out: &mut BTreeMap<String, Span>) {
    use crate::loaded::BlockPlanKind;
    for a in &plan.attrs {
        out.insert(format!("{prefix}{}", a.name), a.span.clone());
    }
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for bp in &plan.blocks {
        let BlockPlanKind::Static(inner) = &bp.kind else {
            continue;
        };
        let n = match seen.iter_mut().find(|(name, _)| *name == bp.name) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                seen.push((&bp.name, 1));
                0
            }
        };
        let key = block_key(prefix, &bp.name, bp.nesting, n);
        out.insert(key.clone(), bp.span.clone());
        static_spans(inner, &format!("{key}."), out);
    }
}

/// The key of the `n`th nested block `name` in [`Instance::attr_spans`] (`prefix` ends with a
/// dot, or is empty at the top): `name` for a single block, `name.n` for a list or set item.
pub(crate) fn block_key(
    prefix: &str,
    name: &str,
    nesting: tunnelform_model::Nesting,
    n: usize,
) -> String {
    if nesting == tunnelform_model::Nesting::Single {
        format!("{prefix}{name}")
    } else {
        format!("{prefix}{name}.{n}")
    }
}

impl std::fmt::Debug for AttrSpans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.map().fmt(f)
    }
}

impl PartialEq for AttrSpans {
    fn eq(&self, other: &AttrSpans) -> bool {
        self.same(other) || self.map() == other.map()
    }
}

/// An evaluated `output` block.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputValue {
    pub name: String,
    /// Marked `Value::Sensitive` when the output is sensitive.
    pub value: Value,
    pub sensitive: bool,
    pub description: Option<String>,
}

/// An `import { to = ADDR, id = "..." }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportBlock {
    pub to: Address,
    pub id: String,
    pub span: Span,
}

/// A `moved { from = ..., to = ... }` block: the objects at `from` are now at `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub from: Address,
    pub to: Address,
    pub span: Span,
}

/// A `removed { from = ... lifecycle { destroy = ... } }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub from: Address,
    /// false: the objects leave the state and stay in the cloud.
    pub destroy: bool,
    pub span: Span,
}
