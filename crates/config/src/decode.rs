//! The load pipeline: read files, decode blocks, resolve variables, check references, detect
//! cycles, evaluate locals that do not depend on resources, evaluate provider settings.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tunnelform_kinds::{DataKind, ResourceKind};
use tunnelform_model::schema::{BlockSchema, Nesting};
use tunnelform_model::{
    Address, Diagnostic, Diagnostics, IgnoreChanges, InstanceKey, Lifecycle, Mode, ModuleStep,
    Span, Value,
};

use tunnelform_lang::error::{error, EResult, EvalError, WithHelp};
use tunnelform_lang::eval::{Evaluator, Refs, Scope};
use tunnelform_lang::graph::{self, RefKind, RefUse};
use tunnelform_lang::suggest::{self, did_you_mean};
use tunnelform_lang::types::{convert, parse_type};
use tunnelform_lang::values::{self, check_size, primitive_string, to_bool};
use tunnelform_syntax::ast::{Attribute, Block, Body, Expr, ExprKind, OpKind, TraverseOp};
use tunnelform_syntax::{BSpan, SourceFile, Sources};

use tunnelform_instances::api::{InstanceKind, VarInputs, MAX_CONFIG_BYTES};
use tunnelform_instances::files::read_source_file;
use tunnelform_instances::loaded::{
    AttrPlan, BlockDeps, BlockPlan, BlockPlanKind, BodyPlan, Expansion, ImportDecl, Inner,
    LocalDecl, OutputDecl, ProviderDecl, ResourceBlock,
};
use tunnelform_instances::regions::region_problem;
use tunnelform_instances::session::{compute_expansion, expansion_of};
use tunnelform_instances::vars::{Resolver, ValidationRule, VariableDecl};
use tunnelform_references::graph::{Dependencies, Graph};
use tunnelform_references::{Ctx, Declarations};

mod conditions;
mod module;
mod refactor;
mod triggers;

const TOP_LEVEL_BLOCKS: &[&str] = &[
    "terraform",
    "provider",
    "variable",
    "locals",
    "resource",
    "data",
    "output",
    "import",
    "moved",
    "removed",
    "check",
];
const PROVIDER_CREDENTIALS: &[&str] = &["secret_id", "secret_key", "security_token"];
const PROVIDER_IGNORED_ARGS: &[&str] = &[
    "profile",
    "shared_credentials_dir",
    "protocol",
    "domain",
    "cam_role_name",
    "enable_pod_oidc",
    "cos_domain",
    "allowed_account_ids",
    "forbidden_account_ids",
    "version",
];
const PROVIDER_IGNORED_BLOCKS: &[&str] = &[
    "assume_role",
    "assume_role_with_saml",
    "assume_role_with_web_identity",
    "mfa_certification",
];
const RESERVED_VAR_NAMES: &[&str] = &[
    "source",
    "version",
    "providers",
    "count",
    "for_each",
    "lifecycle",
    "depends_on",
    "locals",
];

/// What kind of non-local module source `source` is, or None for a local path (`./x`, `../x`).
fn non_local_source(source: &str) -> Option<&'static str> {
    let local = ["./", "../", ".\\", "..\\"];
    if local.iter().any(|p| source.starts_with(p)) {
        return None;
    }
    let lower = source.to_ascii_lowercase();
    let kind = if lower.starts_with("git::")
        || lower.starts_with("git@")
        || lower.starts_with("github.com/")
        || lower.starts_with("bitbucket.org/")
        || lower.contains(".git")
    {
        "git repository"
    } else if lower.starts_with("http://") || lower.starts_with("https://") {
        "HTTP URL"
    } else if lower.starts_with("s3::") || lower.starts_with("gcs::") || lower.starts_with("hg::") {
        "remote archive"
    } else if source.starts_with('/')
        || source.get(1..3) == Some(":\\")
        || source == "."
        || source == ".."
    {
        "path that does not start with ./ or ../"
    } else if source.split('/').count() >= 3 {
        "module registry address"
    } else {
        "source that is not a local path"
    };
    Some(kind)
}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
}

fn supported_types(mode: Mode) -> Vec<&'static str> {
    match mode {
        Mode::Managed => ResourceKind::ALL.iter().map(|k| k.type_name()).collect(),
        Mode::Data => DataKind::ALL.iter().map(|k| k.type_name()).collect(),
    }
}

struct RawProvider {
    alias: Option<String>,
    region: Option<Expr>,
    span: BSpan,
}

struct RawOutput {
    decl: OutputDecl,
    depends_on: Vec<Expr>,
}

struct Decoder {
    dir: PathBuf,
    sources: Sources,
    tf_files: Vec<u32>,
    diags: Diagnostics,
    budget: usize,
    var_decls: Vec<VariableDecl>,
    locals: Vec<LocalDecl>,
    local_index: HashMap<String, usize>,
    blocks: Vec<ResourceBlock>,
    block_index: HashMap<(Mode, String, String), usize>,
    /// Explicit depends_on expressions per block.
    depends_raw: Vec<Vec<Expr>>,
    outputs: Vec<RawOutput>,
    output_index: HashMap<String, BSpan>,
    providers: Vec<RawProvider>,
    backend_path: Option<(PathBuf, BSpan)>,
    /// `backend "local" { workspace_dir = "..." }`, resolved relative to the directory.
    backend_workspace_dir: Option<PathBuf>,
    /// `backend "pg"`: its settings (conn_str, schema_name) and where it was configured.
    backend_pg: Option<(BTreeMap<String, String>, BSpan)>,
    imports: Vec<(Expr, Expr, BSpan)>,
    refactors: refactor::Raw,
    /// The module instance being decoded (the root outside module calls).
    scope: module::ModuleScope,
    /// Module calls by their full path, for duplicates.
    module_calls: HashMap<String, BSpan>,
    /// Files of modules and the call chains they were loaded for (diagnostics name them).
    module_files: HashMap<String, Vec<String>>,
    /// Module calls with count or for_each, decoded once variables are known.
    pending_modules: Vec<PendingCall>,
    /// Variable values, resolved before the pending module calls are decoded.
    early_vars: Option<HashMap<String, Arc<Value>>>,
    unset_unknown: bool,
    /// The selected workspace (`terraform.workspace`).
    workspace: String,
    /// The conditions of the lifecycle block of the resource or data block being decoded.
    conditions: Vec<tunnelform_instances::conditions::Condition>,
    checks: Vec<tunnelform_instances::conditions::CheckDecl>,
    output_conds: Vec<tunnelform_instances::conditions::OutputConditions>,
}

struct PendingCall {
    block: Block,
    source: String,
    source_span: BSpan,
    scope: module::ModuleScope,
}

/// `unset_unknown`: a variable without a value and without a default is unknown (for `validate`)
/// instead of an error.
pub(crate) fn load(
    dir: &Path,
    inputs: &VarInputs,
    unset_unknown: bool,
) -> Result<(Inner, Diagnostics), Diagnostics> {
    let mut d = Decoder {
        dir: dir.to_path_buf(),
        sources: Sources::default(),
        tf_files: Vec::new(),
        diags: Diagnostics::new(),
        budget: MAX_CONFIG_BYTES,
        var_decls: Vec::new(),
        locals: Vec::new(),
        local_index: HashMap::new(),
        blocks: Vec::new(),
        block_index: HashMap::new(),
        depends_raw: Vec::new(),
        outputs: Vec::new(),
        output_index: HashMap::new(),
        providers: Vec::new(),
        backend_path: None,
        backend_workspace_dir: None,
        backend_pg: None,
        imports: Vec::new(),
        refactors: refactor::Raw::default(),
        scope: module::ModuleScope {
            dir: dir.to_path_buf(),
            ..Default::default()
        },
        module_calls: HashMap::new(),
        module_files: HashMap::new(),
        pending_modules: Vec::new(),
        early_vars: None,
        unset_unknown,
        workspace: inputs
            .workspace
            .clone()
            .unwrap_or_else(|| "default".to_string()),
        conditions: Vec::new(),
        checks: Vec::new(),
        output_conds: Vec::new(),
    };
    let mut bodies = d.read_files()?;
    {
        let rw = module::Rewriter::new(&d.scope);
        for (_, body) in &mut bodies {
            rw.body(body);
        }
    }
    for (file, body) in &bodies {
        d.decode_top(*file, body);
    }
    drop(bodies);
    if !d.pending_modules.is_empty() {
        let vars = d.resolve_vars(inputs, unset_unknown);
        d.early_vars = Some(vars);
        let pending = std::mem::take(&mut d.pending_modules);
        for p in pending {
            let root = std::mem::replace(&mut d.scope, p.scope);
            d.decode_local_module(&p.block, &p.source, p.source_span);
            d.scope = root;
        }
    }
    let module_files = std::mem::take(&mut d.module_files);
    let finish = |diags: &mut Diagnostics| {
        // A module call's depends_on is checked once per resource of the module: one report.
        let mut seen = BTreeSet::new();
        diags.0.retain(|d| {
            seen.insert((
                d.summary.clone(),
                d.detail.clone(),
                d.help.clone(),
                d.span.as_ref().map(|s| s.to_string()),
            ))
        });
        module::add_call_chains(diags, &module_files);
    };
    match d.finish(inputs, unset_unknown) {
        Ok((mut inner, mut warnings)) => {
            finish(&mut warnings);
            inner.module_files = module_files;
            Ok((inner, warnings))
        }
        Err(mut e) => {
            finish(&mut e);
            Err(e)
        }
    }
}

impl Decoder {
    fn locate(&self, d: Diagnostic, span: BSpan) -> Diagnostic {
        self.sources.locate(d, span)
    }

    /// What the configuration declares, for the reference checks.
    fn declarations(&self) -> Declarations<'_> {
        Declarations {
            sources: &self.sources,
            var_decls: &self.var_decls,
            locals: &self.locals,
            local_index: &self.local_index,
            blocks: &self.blocks,
            block_index: &self.block_index,
            module_calls: &self.module_calls,
        }
    }

    /// Checks the references of one expression used outside the blocks; returns the blocks it
    /// reads.
    fn check_refs(&mut self, refs: &[RefUse<'_>]) -> Vec<usize> {
        let mut found = Vec::new();
        let (_, blocks) = self.declarations().check(refs, None, Ctx::Body, &mut found);
        self.diags.0.extend(found);
        blocks
    }

    /// The blocks named by a `depends_on = [...]` list.
    fn depends_on(&mut self, e: &Expr) -> Vec<usize> {
        let mut found = Vec::new();
        let blocks = self.declarations().depends_on(e, &mut found);
        self.diags.0.extend(found);
        blocks
    }

    fn error(&mut self, d: Diagnostic, span: BSpan) {
        let d = self.locate(d, span);
        self.diags.push(d);
    }

    fn warn(&mut self, summary: impl Into<String>, help: impl Into<String>, span: BSpan) {
        let d = self.locate(Diagnostic::warning(summary).with_help(help), span);
        self.diags.push(d);
    }

    #[allow(clippy::boxed_local)]
    fn eval_err(&mut self, e: Box<EvalError>) {
        let d = e.into_diag(&self.sources);
        self.diags.push(d);
    }

    fn span_of(&self, b: BSpan) -> Span {
        self.sources.span(b)
    }

    fn read_files(&mut self) -> Result<Vec<(u32, Body)>, Diagnostics> {
        let dir = self.dir.clone();
        self.read_dir_files(&dir)
    }

    fn read_dir_files(&mut self, dir: &Path) -> Result<Vec<(u32, Body)>, Diagnostics> {
        let rd = std::fs::read_dir(dir).map_err(|e| {
            Diagnostics::from(
                Diagnostic::error(format!(
                    "Cannot read the configuration directory {}: {e}",
                    dir.display()
                ))
                .with_help("give the directory that holds your *.tf files"),
            )
        })?;
        let mut names: Vec<String> = rd
            .flatten()
            .filter(|e| {
                e.file_type()
                    .map(|t| t.is_file() || t.is_symlink())
                    .unwrap_or(false)
            })
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".tf") && !n.starts_with('.'))
            .collect();
        names.sort();
        if names.is_empty() {
            return Err(Diagnostic::error(format!("No configuration files in {}", dir.display()))
                .with_help("tunnelform reads the *.tf files of the directory; create main.tf or give another directory")
                .into());
        }
        let mut fatal = false;
        let mut bodies = Vec::new();
        for name in names {
            let path = dir.join(&name);
            let shown = path.display().to_string();
            match read_source_file(&path, &mut self.budget) {
                Ok(text) => {
                    let id = self
                        .sources
                        .add(SourceFile::new(shown.as_str(), text.as_str()));
                    self.tf_files.push(id);
                    drop(text);
                    let text = match self.sources.get(id) {
                        Some(f) => f.text.clone(),
                        None => continue,
                    };
                    match tunnelform_syntax::parse_body(id, &text) {
                        Ok((body, errs)) => {
                            for e in errs {
                                let d = e.into_diag(&self.sources);
                                self.diags.push(d);
                            }
                            bodies.push((id, body));
                        }
                        Err(e) => {
                            let d = e.into_diag(&self.sources);
                            self.diags.push(d);
                        }
                    }
                }
                Err(d) => {
                    let too_big = d.summary.starts_with("Configuration too large");
                    self.diags.push(*d);
                    if too_big {
                        fatal = true;
                        break;
                    }
                }
            }
        }
        if fatal {
            return Err(std::mem::take(&mut self.diags));
        }
        Ok(bodies)
    }

    fn labels(&mut self, b: &Block, n: usize, what: &str) -> Option<Vec<String>> {
        if b.labels.len() != n {
            let d = Diagnostic::error(format!("Wrong number of labels for a {} block", b.kind))
                .with_detail(format!(
                    "a {} block takes {n} label(s), got {}",
                    b.kind,
                    b.labels.len()
                ))
                .with_help(format!("write {what}"));
            self.error(d, b.header);
            return None;
        }
        Some(b.labels.iter().map(|(l, _)| l.clone()).collect())
    }

    fn const_eval(&mut self, e: &Expr, what: &'static str) -> Option<Value> {
        let ev = Evaluator::new(None, None, Path::new("."), what);
        match ev.eval(e, &Scope::root()) {
            Ok(v) => Some(v),
            Err(err) => {
                self.eval_err(err);
                None
            }
        }
    }

    fn const_bool(&mut self, a: &Attribute, what: &'static str) -> Option<bool> {
        let v = self.const_eval(&a.expr, what)?;
        match to_bool(&v) {
            Some(b) => Some(b),
            None => {
                let d = Diagnostic::error(format!("Invalid value for \"{}\"", a.name)).with_detail(
                    format!("true or false is required, got {}", values::show(&v)),
                );
                self.error(d, a.expr.span);
                None
            }
        }
    }

    fn const_string(&mut self, a: &Attribute, what: &'static str) -> Option<String> {
        let v = self.const_eval(&a.expr, what)?;
        match primitive_string(&v) {
            Some(s) => Some(s.into_owned()),
            None => {
                let d = Diagnostic::error(format!("Invalid value for \"{}\"", a.name)).with_detail(
                    format!("a string is required, got {}", values::describe_type(&v)),
                );
                self.error(d, a.expr.span);
                None
            }
        }
    }

    fn unsupported_arg(&mut self, a: &Attribute, ctx: &str, allowed: &[&str]) {
        let mut d = Diagnostic::error(format!("Unsupported argument \"{}\"", a.name)).with_detail(
            format!("{ctx} does not take an argument named \"{}\"", a.name),
        );
        d = match did_you_mean(&a.name, allowed.iter().copied()) {
            Some(s) => d.with_help(s),
            None => d.with_help(format!("the arguments are {}", suggest::one_of(allowed))),
        };
        self.error(d, a.name_span);
    }

    fn unsupported_block(&mut self, b: &Block, ctx: &str, allowed: &[&str]) {
        let mut d = Diagnostic::error(format!("Unsupported block type \"{}\"", b.kind))
            .with_detail(format!("{ctx} does not take a block named \"{}\"", b.kind));
        d = match did_you_mean(&b.kind, allowed.iter().copied()) {
            Some(s) => d.with_help(s),
            None if allowed.is_empty() => d.with_help("no blocks are allowed here"),
            None => d.with_help(format!(
                "the blocks allowed here are {}",
                suggest::one_of(allowed)
            )),
        };
        self.error(d, b.kind_span);
    }

    fn decode_top(&mut self, _file: u32, body: &Body) {
        for a in &body.attrs {
            let d = Diagnostic::error(format!("Unexpected argument \"{}\" at the top level", a.name))
                .with_help("arguments belong inside a block: resource, data, variable, locals, output, provider or terraform");
            self.error(d, a.name_span);
        }
        for b in &body.blocks {
            match b.kind.as_str() {
                "terraform" => self.decode_terraform(b),
                "provider" => self.decode_provider(b),
                "variable" => self.decode_variable(b),
                "locals" => self.decode_locals(b),
                "resource" => self.decode_resource(b, Mode::Managed),
                "data" => self.decode_resource(b, Mode::Data),
                "output" => self.decode_output(b),
                "import" => self.decode_import(b),
                "moved" => self.decode_moved(b),
                "removed" => self.decode_removed(b),
                "module" => self.decode_module(b),
                "check" => self.decode_check(b),
                _ => {
                    self.unsupported_block(b, "the top level of a configuration", TOP_LEVEL_BLOCKS)
                }
            }
        }
    }

    /// `module "NAME" { source = ... }`. Only local sources (a path starting with `./` or `../`)
    /// can ever be loaded: a registry, git or http source is refused with what to do instead.
    fn decode_module(&mut self, b: &Block) {
        let Some(source) = b.body.attr("source") else {
            let d = Diagnostic::error("Missing \"source\" in a module block").with_help(
                "write source = \"./modules/NAME\" (a directory relative to this module's directory)",
            );
            self.error(d, b.header);
            return;
        };
        let Some(path) = self.const_string(source, "a module source") else {
            return;
        };
        if let Some(kind) = non_local_source(&path) {
            let d = Diagnostic::error(format!("Unsupported module source {path:?}"))
                .with_detail(format!(
                    "this is a {kind}; only local module sources are supported (tunnelform never downloads modules)"
                ))
                .with_help(
                    "copy the module into this repository and write source = \"./modules/NAME\", a path starting with ./ or ../ relative to this module's directory",
                );
            self.error(d, source.expr.span);
            return;
        }
        self.decode_local_module(b, &path, source.expr.span);
    }

    fn decode_local_module(&mut self, b: &Block, source: &str, source_span: BSpan) {
        let multi = b.body.attr("count").is_some() || b.body.attr("for_each").is_some();
        if multi && self.early_vars.is_none() {
            // Its instances come from variables and locals: decoded once they are all known.
            self.pending_modules.push(PendingCall {
                block: b.clone(),
                source: source.to_string(),
                source_span,
                scope: self.scope.clone(),
            });
            return;
        }
        let Some(labels) = self.labels(b, 1, "module \"NAME\" { source = \"./modules/NAME\" }")
        else {
            return;
        };
        let name = labels[0].clone();
        if !is_ident(&name) {
            let d = Diagnostic::error(format!("Invalid module name {name:?}")).with_help(
                "a name starts with a letter or underscore and holds letters, digits, _ and -",
            );
            self.error(d, b.labels[0].1);
            return;
        }
        let full = self.scope.call_object(&name);
        if let Some(first) = self.module_calls.get(&full) {
            let first = self.span_of(*first);
            let d = Diagnostic::error(format!("Duplicate module call \"{name}\""))
                .with_detail(format!("module \"{name}\" is already called at {first}"))
                .with_help("each module call needs a unique name; rename one of them");
            self.error(d, b.header);
            return;
        }
        self.module_calls.insert(full.clone(), b.header);
        if self.scope.path.len() >= module::MAX_MODULE_DEPTH {
            let d = Diagnostic::error(format!("Modules nested too deeply at module \"{name}\""))
                .with_detail(format!(
                    "at most {} levels of module calls are supported (does a module call itself?)",
                    module::MAX_MODULE_DEPTH
                ))
                .with_help("check the source paths of the module calls");
            self.error(d, b.header);
            return;
        }
        let mut args = HashMap::new();
        let (mut count, mut for_each) = (None, None);
        let mut depends = self.scope.depends.clone();
        let mut providers = self.scope.providers.clone();
        for a in &b.body.attrs {
            match a.name.as_str() {
                "source" => {}
                "version" => {
                    let d = Diagnostic::error("\"version\" is not allowed for a local module")
                        .with_help("version only applies to registry modules; remove it");
                    self.error(d, a.name_span);
                }
                "count" => count = Some(a.expr.clone()),
                "for_each" => for_each = Some(a.expr.clone()),
                "depends_on" => depends.push(a.expr.clone()),
                "providers" => providers = self.module_providers(a),
                _ => {
                    args.insert(a.name.clone(), a.clone());
                }
            }
        }
        if let (Some(_), Some(fe)) = (&count, &for_each) {
            let d = Diagnostic::error("Invalid combination of \"count\" and \"for_each\"")
                .with_help("a module call may use count or for_each, not both");
            self.error(d, fe.span);
            return;
        }
        for inner in &b.body.blocks {
            self.unsupported_block(inner, "a module block", &[]);
        }
        // The instances: (key, each.key / each.value, count.index).
        type Inst = (Option<InstanceKey>, Option<(Value, Value)>, Option<Value>);
        let instances: Vec<Inst> = if count.is_none() && for_each.is_none() {
            vec![(None, None, None)]
        } else {
            let vars = self.early_vars.clone().unwrap_or_default();
            let refs = module::EarlyRefs {
                locals: &self.locals,
                index: &self.local_index,
                active: Default::default(),
            };
            let mut ev = Evaluator::new(
                Some(&vars),
                Some(&refs),
                &self.dir,
                "the count or for_each of a module call",
            );
            ev.workspace = &self.workspace;
            let exp = expansion_of(&ev, count.as_ref(), for_each.as_ref(), self.unset_unknown);
            drop(ev);
            match exp {
                Err(e) => {
                    self.eval_err(e);
                    return;
                }
                Ok(Expansion::Single) => vec![(None, None, None)],
                Ok(Expansion::Unknown) => vec![(
                    None,
                    Some((Value::Unknown, Value::Unknown)),
                    Some(Value::Unknown),
                )],
                Ok(Expansion::Count(n)) => (0..n)
                    .map(|i| {
                        (
                            Some(InstanceKey::Index(i)),
                            None,
                            Some(Value::int(i as i64)),
                        )
                    })
                    .collect(),
                Ok(Expansion::ForEach(v)) => {
                    let pairs: Vec<(String, Value)> = match &*v {
                        Value::Map(m) => {
                            m.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
                        }
                        Value::List(items) => items
                            .iter()
                            .filter_map(|i| match i.unmarked() {
                                Value::String(s) => Some((s.to_string(), i.clone())),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    pairs
                        .into_iter()
                        .map(|(k, v)| {
                            (
                                Some(InstanceKey::Key(k.clone())),
                                Some((Value::from(k), v)),
                                None,
                            )
                        })
                        .collect()
                }
            }
        };
        let dir = module::module_dir(&self.scope.dir, source);
        let bodies = match self.read_dir_files(&dir) {
            Ok(bodies) => bodies,
            Err(diags) => {
                for d in diags.0 {
                    let d = if d.span.is_none() {
                        self.locate(d, source_span)
                    } else {
                        d
                    };
                    self.diags.push(d);
                }
                return;
            }
        };
        let mut outputs: Vec<String> = bodies
            .iter()
            .flat_map(|(_, body)| body.blocks.iter())
            .filter(|x| x.kind == "output")
            .filter_map(|x| x.labels.first().map(|l| l.0.clone()))
            .collect();
        outputs.sort();
        outputs.dedup();
        let caller = self.scope.clone();
        let mut objects = Vec::new();
        for (key, each, index) in instances {
            let step = ModuleStep {
                name: name.as_str().into(),
                key: key.clone(),
            };
            let mut args = args.clone();
            if each.is_some() || index.is_some() {
                for a in args.values_mut() {
                    module::substitute_instance(
                        &mut a.expr,
                        each.as_ref().map(|(k, v)| (k, v)),
                        index.as_ref(),
                    );
                }
            }
            let mut path = caller.path.clone();
            path.push(step.clone());
            let prefix = caller.join(&step.to_string());
            let mut chain = caller.chain.clone();
            chain.insert(0, format!("{prefix} at {}", self.span_of(b.header)));
            let scope = module::ModuleScope {
                path,
                prefix,
                dir: dir.clone(),
                args,
                chain,
                call_header: Some(b.header),
                depends: depends.clone(),
                providers: providers.clone(),
            };
            self.decode_module_instance(&name, &step, scope, bodies.clone());
            let object = module::outputs_object(&caller, &step, &outputs, b.header);
            objects.push((key, object));
        }
        // module.NAME as a whole: the object of its outputs, or a map / list of them.
        let whole = if count.is_none() && for_each.is_none() {
            objects.pop().map(|(_, o)| o)
        } else if count.is_some() {
            Some(Expr {
                kind: ExprKind::Tuple(objects.into_iter().map(|(_, o)| o).collect()),
                span: b.header,
            })
        } else {
            Some(Expr {
                kind: ExprKind::Object(
                    objects
                        .into_iter()
                        .map(|(k, o)| {
                            let k = match k {
                                Some(InstanceKey::Key(k)) => k,
                                Some(InstanceKey::Index(i)) => i.to_string(),
                                None => String::new(),
                            };
                            (
                                tunnelform_syntax::ast::ObjKey::Expr(Expr {
                                    kind: ExprKind::Literal(Value::from(k)),
                                    span: b.header,
                                }),
                                o,
                            )
                        })
                        .collect(),
                ),
                span: b.header,
            })
        };
        if let Some(whole) = whole {
            if !self.local_index.contains_key(&full) {
                self.local_index.insert(full.clone(), self.locals.len());
                self.locals.push(LocalDecl {
                    name: full,
                    expr: whole,
                    name_span: b.labels[0].1,
                    var: None,
                });
            }
        }
    }

    /// Decodes one instance of a module call in `scope`.
    fn decode_module_instance(
        &mut self,
        name: &str,
        step: &ModuleStep,
        scope: module::ModuleScope,
        mut bodies: Vec<(u32, Body)>,
    ) {
        let caller = std::mem::replace(&mut self.scope, scope);
        let files: Vec<u32> = bodies.iter().map(|(f, _)| *f).collect();
        self.note_module_files(&files);
        {
            let rw = module::Rewriter::new(&self.scope);
            for (_, body) in &mut bodies {
                rw.body(body);
            }
        }
        for (_, body) in &bodies {
            for blk in body.blocks.iter().filter(|x| x.kind == "variable") {
                self.decode_module_variable(blk);
            }
        }
        for (_, body) in &bodies {
            for a in &body.attrs {
                let d = Diagnostic::error(format!(
                    "Unexpected argument \"{}\" at the top level",
                    a.name
                ))
                .with_help("arguments belong inside a block");
                self.error(d, a.name_span);
            }
            for blk in &body.blocks {
                match blk.kind.as_str() {
                    "variable" | "terraform" => {}
                    "output" => self.decode_module_output(blk, step, &caller),
                    "check" => self.decode_check(blk),
                    "locals" => self.decode_locals(blk),
                    "resource" => self.decode_resource(blk, Mode::Managed),
                    "data" => self.decode_resource(blk, Mode::Data),
                    "module" => self.decode_module(blk),
                    "provider" => {
                        let d = Diagnostic::error(
                            "Provider configurations inside a module are not supported",
                        )
                        .with_help("configure providers in the root module and pass them with providers = { tencentcloud = tencentcloud.ALIAS } in the module block");
                        self.error(d, blk.header);
                    }
                    "import" | "moved" | "removed" => {
                        let d = Diagnostic::error(format!(
                            "{} blocks inside a module are not supported",
                            blk.kind
                        ))
                        .with_help(
                            "write it in the root module, with the module path in the address",
                        );
                        self.error(d, blk.kind_span);
                    }
                    _ => self.unsupported_block(
                        blk,
                        "a module",
                        &[
                            "variable",
                            "locals",
                            "resource",
                            "data",
                            "output",
                            "module",
                            "check",
                            "terraform",
                        ],
                    ),
                }
            }
        }
        let mut unused: Vec<Attribute> = self.scope.args.drain().map(|(_, a)| a).collect();
        self.scope = caller;
        unused.sort_by_key(|a| a.name_span.start);
        for a in unused {
            let d = Diagnostic::error(format!("Unsupported argument \"{}\"", a.name))
                .with_detail(format!("module \"{name}\" has no variable \"{}\"", a.name))
                .with_help(
                    "declare it with a variable block in the module, or remove the argument",
                );
            self.error(d, a.name_span);
        }
    }

    /// `providers = { tencentcloud = tencentcloud.sh, tencentcloud.hk = tencentcloud.hk }`:
    /// the provider each of the module's provider aliases stands for (resolved to the root's).
    fn module_providers(&mut self, a: &Attribute) -> HashMap<Option<String>, Option<String>> {
        let mut out = HashMap::new();
        let bad = |this: &mut Self, span: BSpan| {
            let d = Diagnostic::error("Invalid providers map")
                .with_help("write providers = { tencentcloud = tencentcloud.ALIAS } (no quotes)");
            this.error(d, span);
        };
        let ExprKind::Object(items) = &a.expr.kind else {
            bad(self, a.expr.span);
            return out;
        };
        let parse = |e: &Expr| -> Option<Option<String>> {
            let (root, ops) = e.as_static_traversal()?;
            if root != "tencentcloud" {
                return None;
            }
            match ops {
                [] => Some(None),
                [TraverseOp {
                    kind: OpKind::Attr(alias),
                    ..
                }] => Some(Some(alias.clone())),
                _ => None,
            }
        };
        for (k, v) in items {
            let child = match k {
                tunnelform_syntax::ast::ObjKey::Ident(n, _) if n == "tencentcloud" => Some(None),
                tunnelform_syntax::ast::ObjKey::Ident(..) => None,
                tunnelform_syntax::ast::ObjKey::Expr(e) => parse(e),
            };
            let (Some(child), Some(parent)) = (child, parse(v)) else {
                bad(self, v.span);
                continue;
            };
            let parent = self.scope.providers.get(&parent).cloned().unwrap_or(parent);
            out.insert(child, parent);
        }
        out
    }

    fn decode_terraform(&mut self, b: &Block) {
        if self.labels(b, 0, "terraform { ... }").is_none() {
            return;
        }
        for a in &b.body.attrs {
            match a.name.as_str() {
                "required_version" | "experiments" => {}
                _ => self.unsupported_arg(a, "a terraform block", &["required_version"]),
            }
        }
        for inner in &b.body.blocks {
            match inner.kind.as_str() {
                "required_providers" | "provider_meta" => {}
                "backend" => {
                    let Some(labels) =
                        self.labels(inner, 1, "backend \"local\" { path = \"...\" }")
                    else {
                        continue;
                    };
                    if labels[0] == "pg" {
                        self.decode_pg_backend(inner);
                        continue;
                    }
                    if labels[0] != "local" {
                        let d = Diagnostic::error(format!("Unsupported backend \"{}\"", labels[0]))
                            .with_help("the backends are \"local\" (backend \"local\" { path = \"state/x.tfstate.json\" }) and \"pg\" (backend \"pg\" { conn_str = \"postgres://...\" })");
                        self.error(d, inner.header);
                        continue;
                    }
                    if let Some(first) = self.backend_span() {
                        let first = self.span_of(first);
                        let d = Diagnostic::error("Duplicate backend configuration")
                            .with_detail(format!("a backend is already configured at {first}"))
                            .with_help("keep one backend block");
                        self.error(d, inner.header);
                        continue;
                    }
                    for ba in &inner.body.attrs {
                        match ba.name.as_str() {
                            "path" => {
                                if let Some(p) = self.const_string(ba, "a backend block") {
                                    let p = PathBuf::from(p);
                                    let p = if p.is_absolute() { p } else { self.dir.join(p) };
                                    self.backend_path = Some((p, inner.header));
                                }
                            }
                            "workspace_dir" => {
                                if let Some(p) = self.const_string(ba, "a backend block") {
                                    if p.is_empty() {
                                        let d = Diagnostic::error("Empty workspace_dir")
                                            .with_help("name a directory, e.g. workspace_dir = \"terraform.tfstate.d\", or remove the setting");
                                        self.error(d, ba.expr.span);
                                        continue;
                                    }
                                    let p = PathBuf::from(p);
                                    let p = if p.is_absolute() { p } else { self.dir.join(p) };
                                    self.backend_workspace_dir = Some(p);
                                }
                            }
                            _ => self.unsupported_arg(
                                ba,
                                "the local backend",
                                &["path", "workspace_dir"],
                            ),
                        }
                    }
                    for bb in &inner.body.blocks {
                        self.unsupported_block(bb, "the local backend", &[]);
                    }
                }
                "cloud" => {
                    let d = Diagnostic::error("Terraform Cloud is not supported").with_help(
                        "use backend \"local\" { path = \"...\" }, or no backend at all",
                    );
                    self.error(d, inner.kind_span);
                }
                _ => self.unsupported_block(
                    inner,
                    "a terraform block",
                    &["backend", "required_providers"],
                ),
            }
        }
    }

    fn backend_span(&self) -> Option<BSpan> {
        self.backend_path
            .as_ref()
            .map(|(_, s)| *s)
            .or(self.backend_pg.as_ref().map(|(_, s)| *s))
    }

    /// `backend "pg" { conn_str = "...", schema_name = "..." }` (Terraform's names); the values must
    /// be constant strings (as every backend setting: they are read before anything else).
    fn decode_pg_backend(&mut self, inner: &Block) {
        if let Some(first) = self.backend_span() {
            let first = self.span_of(first);
            let d = Diagnostic::error("Duplicate backend configuration")
                .with_detail(format!("a backend is already configured at {first}"))
                .with_help("keep one backend block");
            self.error(d, inner.header);
            return;
        }
        let mut settings = BTreeMap::new();
        for ba in &inner.body.attrs {
            match ba.name.as_str() {
                "conn_str" | "schema_name" => {
                    if let Some(v) = self.const_string(ba, "a backend block") {
                        settings.insert(ba.name.to_string(), v);
                    }
                }
                _ => self.unsupported_arg(ba, "the pg backend", &["conn_str", "schema_name"]),
            }
        }
        for bb in &inner.body.blocks {
            self.unsupported_block(bb, "the pg backend", &[]);
        }
        self.backend_pg = Some((settings, inner.header));
    }

    fn decode_provider(&mut self, b: &Block) {
        let Some(labels) = self.labels(b, 1, "provider \"tencentcloud\" { region = \"...\" }")
        else {
            return;
        };
        if labels[0] != "tencentcloud" {
            let mut d = Diagnostic::error(format!("Unsupported provider \"{}\"", labels[0]))
                .with_detail("tunnelform manages Tencent Cloud VPN resources only");
            d = d.with_help(
                did_you_mean(&labels[0], ["tencentcloud"])
                    .unwrap_or_else(|| "use provider \"tencentcloud\"".into()),
            );
            self.error(d, b.labels[0].1);
            return;
        }
        let mut alias = None;
        let mut region = None;
        let mut allowed: Vec<&str> = vec!["region", "alias"];
        allowed.extend(PROVIDER_CREDENTIALS);
        allowed.extend(PROVIDER_IGNORED_ARGS);
        for a in &b.body.attrs {
            match a.name.as_str() {
                "alias" => {
                    if let Some(s) = self.const_string(a, "a provider alias") {
                        if !is_ident(&s) {
                            let d = Diagnostic::error(format!("Invalid provider alias {s:?}"))
                                .with_help("an alias is an identifier such as \"hongkong\"");
                            self.error(d, a.expr.span);
                        } else {
                            alias = Some(s);
                        }
                    }
                }
                "region" => region = Some(a.expr.clone()),
                n if PROVIDER_CREDENTIALS.contains(&n) => {
                    let mut d = self.locate(
                        Diagnostic::warning(format!("Credentials in the configuration are ignored: \"{n}\"")).with_help(
                            "credentials belong in the environment: TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY and TENCENTCLOUD_SECURITY_TOKEN; remove this argument so secrets stay out of your files",
                        ),
                        a.name_span,
                    );
                    // The line holds the secret: never show it.
                    d.source_line = None;
                    self.diags.push(d);
                }
                n if PROVIDER_IGNORED_ARGS.contains(&n) => self.warn(
                    format!("Provider argument \"{n}\" is ignored"),
                    "tunnelform reads credentials from the environment and only uses region and alias",
                    a.name_span,
                ),
                _ => self.unsupported_arg(a, "the tencentcloud provider", &allowed),
            }
        }
        for inner in &b.body.blocks {
            if PROVIDER_IGNORED_BLOCKS.contains(&inner.kind.as_str()) {
                self.warn(
                    format!("Provider block \"{}\" is ignored", inner.kind),
                    "tunnelform reads credentials from the environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_SECURITY_TOKEN)",
                    inner.kind_span,
                );
            } else {
                self.unsupported_block(inner, "the tencentcloud provider", PROVIDER_IGNORED_BLOCKS);
            }
        }
        if let Some(first) = self.providers.iter().find(|p| p.alias == alias) {
            let first = self.span_of(first.span);
            let d = Diagnostic::error(match &alias {
                Some(a) => format!("Duplicate provider configuration with alias \"{a}\""),
                None => "Duplicate default provider configuration".to_string(),
            })
            .with_detail(format!("the first one is at {first}"))
            .with_help("give each additional provider block its own alias = \"...\"");
            self.error(d, b.header);
            return;
        }
        self.providers.push(RawProvider {
            alias,
            region,
            span: b.header,
        });
    }

    fn decode_variable(&mut self, b: &Block) {
        let Some(labels) = self.labels(b, 1, "variable \"NAME\" { ... }") else {
            return;
        };
        let name = labels[0].clone();
        let label_span = b.labels[0].1;
        if !is_ident(&name) {
            let d = Diagnostic::error(format!("Invalid variable name {name:?}")).with_help(
                "a name starts with a letter or underscore and holds letters, digits, _ and -",
            );
            self.error(d, label_span);
            return;
        }
        if RESERVED_VAR_NAMES.contains(&name.as_str()) {
            let d = Diagnostic::error(format!("Invalid variable name \"{name}\""))
                .with_detail("this name is reserved by the language")
                .with_help("choose another name");
            self.error(d, label_span);
            return;
        }
        if let Some(first) = self.var_decls.iter().find(|v| v.name == name) {
            let first = self.span_of(first.header);
            let d = Diagnostic::error(format!("Duplicate variable \"{name}\""))
                .with_detail(format!("the variable is already declared at {first}"))
                .with_help("remove or rename one of the two declarations");
            self.error(d, b.header);
            return;
        }
        let mut decl = VariableDecl {
            name: name.clone(),
            header: b.header,
            ty: None,
            default: None,
            description: None,
            sensitive: false,
            nullable: true,
            validations: Vec::new(),
        };
        let type_ev = Evaluator::new(None, None, Path::new("."), "a type constraint");
        let mut default_attr = None;
        for a in &b.body.attrs {
            match a.name.as_str() {
                "type" => match parse_type(&a.expr, &type_ev) {
                    Ok(t) => decl.ty = Some(t),
                    Err(e) => self.eval_err(e),
                },
                "default" => {
                    default_attr = Some(a);
                    decl.default = self.const_eval(&a.expr, "a variable default");
                }
                "description" => decl.description = self.const_string(a, "a description"),
                "sensitive" => {
                    decl.sensitive = self
                        .const_bool(a, "a variable declaration")
                        .unwrap_or(false)
                }
                "nullable" => {
                    decl.nullable = self.const_bool(a, "a variable declaration").unwrap_or(true)
                }
                "ephemeral" => {}
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
        if let (Some(ty), Some(def), Some(a)) = (&decl.ty, &decl.default, default_attr) {
            match convert(def, ty) {
                Ok(v) => decl.default = Some(v),
                Err(msg) => {
                    let d =
                        Diagnostic::error(format!("Invalid default value for variable \"{name}\""))
                            .with_detail(msg)
                            .with_help(format!("the variable's type is {ty}"));
                    self.error(d, a.expr.span);
                    decl.default = None;
                }
            }
        }
        for inner in &b.body.blocks {
            if inner.kind != "validation" {
                self.unsupported_block(inner, "a variable block", &["validation"]);
                continue;
            }
            let cond = inner.body.attr("condition");
            let msg = inner.body.attr("error_message");
            for a in &inner.body.attrs {
                if a.name != "condition" && a.name != "error_message" {
                    self.unsupported_arg(a, "a validation block", &["condition", "error_message"]);
                }
            }
            for bb in &inner.body.blocks {
                self.unsupported_block(bb, "a validation block", &[]);
            }
            match (cond, msg) {
                (Some(c), Some(m)) => {
                    // Only variables (and functions) may appear in a validation rule.
                    let mut refs = Vec::new();
                    graph::collect_refs(&c.expr, &[], &mut refs);
                    graph::collect_refs(&m.expr, &[], &mut refs);
                    let mut ok = true;
                    for r in refs {
                        match r.kind {
                            RefKind::Var(_) | RefKind::Builtin => {}
                            _ => {
                                ok = false;
                                let d = Diagnostic::error("Invalid reference in a validation rule")
                                    .with_help(
                                        "a validation condition may only refer to variables",
                                    );
                                self.error(d, r.span);
                            }
                        }
                    }
                    if ok {
                        decl.validations.push(ValidationRule {
                            condition: c.expr.clone(),
                            message: m.expr.clone(),
                        });
                    }
                }
                _ => {
                    let d = Diagnostic::error("Incomplete validation block").with_help(
                        "a validation block needs condition = ... and error_message = \"...\"",
                    );
                    self.error(d, inner.header);
                }
            }
        }
        self.var_decls.push(decl);
    }

    fn decode_locals(&mut self, b: &Block) {
        if self.labels(b, 0, "locals { NAME = VALUE }").is_none() {
            return;
        }
        for inner in &b.body.blocks {
            let d = Diagnostic::error("Unexpected block in locals")
                .with_help("locals hold NAME = VALUE lines; use a map value such as name = { ... } instead of a block");
            self.error(d, inner.header);
        }
        for a in &b.body.attrs {
            let lname = self.scope.local_name(&a.name);
            if let Some(&first) = self.local_index.get(&lname) {
                let first = self.span_of(self.locals[first].name_span);
                let d = Diagnostic::error(format!("Duplicate local value \"{}\"", a.name))
                    .with_detail(format!("local.{} is already defined at {first}", a.name))
                    .with_help("remove or rename one of the two definitions");
                self.error(d, a.name_span);
                continue;
            }
            self.local_index.insert(lname.clone(), self.locals.len());
            self.locals.push(LocalDecl {
                name: lname,
                expr: a.expr.clone(),
                name_span: a.name_span,
                var: None,
            });
        }
    }

    fn decode_output(&mut self, b: &Block) {
        let Some(labels) = self.labels(b, 1, "output \"NAME\" { value = ... }") else {
            return;
        };
        let name = labels[0].clone();
        if let Some(first) = self.output_index.get(&name) {
            let first = self.span_of(*first);
            let d = Diagnostic::error(format!("Duplicate output \"{name}\""))
                .with_detail(format!("the output is already declared at {first}"))
                .with_help("remove or rename one of the two declarations");
            self.error(d, b.header);
            return;
        }
        self.output_index.insert(name.clone(), b.header);
        let mut value = None;
        let mut description = None;
        let mut sensitive = false;
        let mut depends_on = Vec::new();
        for a in &b.body.attrs {
            match a.name.as_str() {
                "value" => value = Some(a.expr.clone()),
                "description" => description = self.const_string(a, "a description"),
                "sensitive" => {
                    sensitive = self.const_bool(a, "an output declaration").unwrap_or(false)
                }
                "depends_on" => depends_on.push(a.expr.clone()),
                "ephemeral" => {}
                _ => self.unsupported_arg(
                    a,
                    "an output block",
                    &["value", "description", "sensitive", "depends_on"],
                ),
            }
        }
        self.output_conditions(b, format!("output.{name}"));
        let Some(value) = value else {
            let d = Diagnostic::error(format!(
                "Missing required argument \"value\" in output \"{name}\""
            ))
            .with_help("add value = EXPRESSION");
            self.error(d, b.header);
            return;
        };
        self.outputs.push(RawOutput {
            decl: OutputDecl {
                name,
                value,
                description,
                sensitive,
            },
            depends_on,
        });
    }

    fn decode_import(&mut self, b: &Block) {
        if self
            .labels(b, 0, "import { to = TYPE.NAME, id = \"...\" }")
            .is_none()
        {
            return;
        }
        let mut to = None;
        let mut id = None;
        for a in &b.body.attrs {
            match a.name.as_str() {
                "to" => to = Some(a.expr.clone()),
                "id" => id = Some(a.expr.clone()),
                "provider" => {}
                "for_each" => {
                    let d = Diagnostic::error("for_each in import blocks is not supported")
                        .with_help("write one import block per resource instance");
                    self.error(d, a.name_span);
                }
                _ => self.unsupported_arg(a, "an import block", &["to", "id", "provider"]),
            }
        }
        for inner in &b.body.blocks {
            self.unsupported_block(inner, "an import block", &[]);
        }
        match (to, id) {
            (Some(to), Some(id)) => self.imports.push((to, id, b.header)),
            _ => {
                let d = Diagnostic::error("Incomplete import block")
                    .with_help("an import block needs to = TYPE.NAME and id = \"...\"");
                self.error(d, b.header);
            }
        }
    }

    fn decode_resource(&mut self, b: &Block, mode: Mode) {
        let what = if mode == Mode::Data {
            "data \"TYPE\" \"NAME\" { ... }"
        } else {
            "resource \"TYPE\" \"NAME\" { ... }"
        };
        let Some(labels) = self.labels(b, 2, what) else {
            return;
        };
        let (type_name, name) = (labels[0].clone(), labels[1].clone());
        let kind = match mode {
            Mode::Managed => ResourceKind::from_type_name(&type_name).map(InstanceKind::Managed),
            Mode::Data => DataKind::from_type_name(&type_name).map(InstanceKind::Data),
        };
        let Some(kind) = kind else {
            let supported = supported_types(mode);
            let noun = if mode == Mode::Data {
                "data source"
            } else {
                "resource type"
            };
            let mut d = Diagnostic::error(format!("Unsupported {noun} \"{type_name}\""))
                .with_detail(format!(
                    "tunnelform supports the {noun}s {}",
                    suggest::one_of(&supported)
                ));
            if let Some(s) = did_you_mean(&type_name, supported.iter().copied()) {
                d = d.with_help(s);
            } else if mode == Mode::Managed && DataKind::from_type_name(&type_name).is_some() {
                d = d.with_help(format!(
                    "{type_name} is a data source: write data \"{type_name}\" \"{name}\""
                ));
            } else if mode == Mode::Data && ResourceKind::from_type_name(&type_name).is_some() {
                d = d.with_help(format!(
                    "{type_name} is a resource: write resource \"{type_name}\" \"{name}\""
                ));
            }
            self.error(d, b.labels[0].1);
            return;
        };
        if !is_ident(&name) {
            let d = Diagnostic::error(format!("Invalid resource name {name:?}")).with_help(
                "a name starts with a letter or underscore and holds letters, digits, _ and -",
            );
            self.error(d, b.labels[1].1);
            return;
        }
        let key = (mode, type_name.clone(), self.scope.resource_name(&name));
        if let Some(&first) = self.block_index.get(&key) {
            let first = self.blocks[first].header_span.clone();
            let addr = Address {
                module: self.scope.path.clone(),
                mode,
                type_name: type_name.into(),
                name: name.into(),
                key: None,
            };
            let d = Diagnostic::error(format!(
                "Duplicate {} \"{addr}\"",
                if mode == Mode::Data {
                    "data block"
                } else {
                    "resource"
                }
            ))
            .with_detail(format!("{addr} is already declared at {first}"))
            .with_help("each resource needs a unique name within its type; rename one of them");
            self.error(d, b.header);
            return;
        }
        let meta: &[&'static str] = match mode {
            Mode::Managed => &["count", "for_each", "provider", "depends_on", "lifecycle"],
            Mode::Data => &["count", "for_each", "provider", "depends_on", "lifecycle"],
        };
        let mut count = None;
        let mut for_each = None;
        let mut provider_alias = None;
        let mut depends = Vec::new();
        for a in &b.body.attrs {
            match a.name.as_str() {
                "count" => count = Some(a),
                "for_each" => for_each = Some(a),
                "provider" => provider_alias = self.provider_meta(a),
                "depends_on" => depends.push(a.expr.clone()),
                _ => {}
            }
        }
        depends.extend(self.scope.depends.iter().cloned());
        if let Some(mapped) = self.scope.providers.get(&provider_alias) {
            provider_alias = mapped.clone();
        }
        if let (Some(_), Some(fe)) = (count, for_each) {
            let d = Diagnostic::error("Invalid combination of \"count\" and \"for_each\"")
                .with_help("a block may use count or for_each, not both");
            self.error(d, fe.name_span);
        }
        let mut lifecycle = Lifecycle::default();
        let mut triggers = Vec::new();
        for inner in &b.body.blocks {
            if inner.kind == "lifecycle" {
                if mode == Mode::Data {
                    self.decode_data_lifecycle(inner);
                } else {
                    lifecycle = self.decode_lifecycle(inner, kind.schema());
                    let own = self.scope.resource_name(&name);
                    triggers = self.replace_triggered_by(inner, (&type_name, &own));
                }
            }
        }
        let body = self.plan_body(&b.body, kind.schema(), &type_name, meta, b.header);
        let addr = Address {
            module: self.scope.path.clone(),
            mode,
            type_name: type_name.clone().into(),
            name: name.clone().into(),
            key: None,
        };
        self.block_index.insert(key, self.blocks.len());
        self.blocks.push(ResourceBlock {
            kind,
            addr,
            header: b.header,
            header_span: self.span_of(b.header),
            count: count.map(|a| a.expr.clone()),
            for_each: for_each.map(|a| a.expr.clone()),
            provider_alias,
            deps: BlockDeps::default(),
            static_expansion: None,
            lifecycle,
            triggers,
            conditions: std::mem::take(&mut self.conditions),
            check: None,
            body,
        });
        self.depends_raw.push(depends);
    }

    /// `provider = tencentcloud.ALIAS`: the alias (None for the default provider).
    fn provider_meta(&mut self, a: &Attribute) -> Option<String> {
        let parsed = match a.expr.as_static_traversal() {
            Some((root, ops)) => match ops {
                [] => Some((root.to_string(), None)),
                [TraverseOp {
                    kind: OpKind::Attr(alias),
                    ..
                }] => Some((root.to_string(), Some(alias.clone()))),
                _ => None,
            },
            None => a.expr.as_literal_str().map(|s| match s.split_once('.') {
                Some((p, al)) => (p.to_string(), Some(al.to_string())),
                None => (s.to_string(), None),
            }),
        };
        match parsed {
            Some((p, alias)) if p == "tencentcloud" => alias,
            Some((p, _)) => {
                let d = Diagnostic::error(format!("Unsupported provider \"{p}\""))
                    .with_help("write provider = tencentcloud.ALIAS, naming a provider \"tencentcloud\" block's alias");
                self.error(d, a.expr.span);
                None
            }
            None => {
                let d = Diagnostic::error("Invalid provider reference")
                    .with_help("write provider = tencentcloud.ALIAS (no quotes)");
                self.error(d, a.expr.span);
                None
            }
        }
    }

    fn decode_lifecycle(&mut self, b: &Block, schema: &'static BlockSchema) -> Lifecycle {
        let mut l = Lifecycle::default();
        for a in &b.body.attrs {
            match a.name.as_str() {
                "prevent_destroy" => {
                    l.prevent_destroy = self.const_bool(a, "a lifecycle block").unwrap_or(false)
                }
                "create_before_destroy" => {
                    l.create_before_destroy =
                        self.const_bool(a, "a lifecycle block").unwrap_or(false)
                }
                "ignore_changes" => l.ignore_changes = self.ignore_changes(a, schema),
                // Decoded by `replace_triggered_by` (decode/triggers.rs).
                "replace_triggered_by" => {}
                _ => self.unsupported_arg(
                    a,
                    "a lifecycle block",
                    &[
                        "prevent_destroy",
                        "create_before_destroy",
                        "ignore_changes",
                        "replace_triggered_by",
                    ],
                ),
            }
        }
        for inner in &b.body.blocks {
            if !self.lifecycle_condition(inner) {
                self.unsupported_block(
                    inner,
                    "a lifecycle block",
                    &["precondition", "postcondition"],
                );
            }
        }
        l
    }

    fn ignore_changes(&mut self, a: &Attribute, schema: &'static BlockSchema) -> IgnoreChanges {
        if a.expr.as_keyword() == Some("all") || a.expr.as_literal_str() == Some("all") {
            return IgnoreChanges::All;
        }
        let ExprKind::Tuple(items) = &a.expr.kind else {
            let d = Diagnostic::error("Invalid ignore_changes")
                .with_help("write ignore_changes = [ARGUMENT, ...] or ignore_changes = all");
            self.error(d, a.expr.span);
            return IgnoreChanges::default();
        };
        let args: Vec<&str> = schema.argument_names().collect();
        let mut out = Vec::new();
        for it in items {
            let name = it
                .as_static_traversal()
                .map(|(r, _)| r.to_string())
                .or_else(|| it.as_literal_str().map(str::to_string));
            match name {
                Some(n) if args.contains(&n.as_str()) => out.push(n),
                Some(n) => {
                    let mut d = Diagnostic::error(format!(
                        "Unsupported attribute \"{n}\" in ignore_changes"
                    ));
                    d = d.with_help(did_you_mean(&n, args.iter().copied()).unwrap_or_else(|| {
                        format!(
                            "the arguments of this resource are {}",
                            suggest::one_of(&args)
                        )
                    }));
                    self.error(d, it.span);
                }
                None => {
                    let d = Diagnostic::error("Invalid ignore_changes entry")
                        .with_help("each entry is an argument name such as tags");
                    self.error(d, it.span);
                }
            }
        }
        IgnoreChanges::Attributes(out)
    }

    /// Checks a body against its schema (unknown or read-only arguments, blocks, nesting,
    /// required arguments) and keeps what evaluation needs.
    fn plan_body(
        &mut self,
        body: &Body,
        schema: &'static BlockSchema,
        ctx: &str,
        meta: &[&'static str],
        header: BSpan,
    ) -> BodyPlan {
        let mut plan = BodyPlan {
            attrs: Vec::with_capacity(body.attrs.len()),
            blocks: Vec::with_capacity(body.blocks.len()),
        };
        for a in &body.attrs {
            if meta.contains(&a.name.as_str()) {
                continue;
            }
            match schema.attr(&a.name) {
                Some(s) if s.block().is_some() && s.is_argument() => {
                    let d =
                        Diagnostic::error(format!("\"{}\" is a block, not an argument", a.name))
                            .with_help(format!(
                                "write it as a block: {} {{ ... }} (one block per element)",
                                a.name
                            ));
                    self.error(d, a.name_span);
                }
                Some(s) if s.is_argument() => plan.attrs.push(AttrPlan {
                    name: a.name.as_str().into(),
                    schema: s,
                    expr: a.expr.clone(),
                    span: self.span_of(a.expr.span),
                }),
                Some(_) => {
                    let d = Diagnostic::error(format!("Read-only attribute \"{}\"", a.name))
                        .with_detail(format!("\"{}\" is computed by the cloud and cannot be set in configuration", a.name))
                        .with_help("remove this line; the value can still be referenced from other resources");
                    self.error(d, a.name_span);
                }
                None => {
                    let settable: Vec<&str> = schema
                        .argument_names()
                        .chain(meta.iter().copied())
                        .collect();
                    let mut d = Diagnostic::error(format!("Unsupported argument \"{}\"", a.name))
                        .with_detail(format!(
                            "{ctx} does not take an argument named \"{}\"",
                            a.name
                        ));
                    d = match did_you_mean(&a.name, settable.iter().copied()) {
                        Some(s) => d.with_help(s),
                        None => {
                            d.with_help(format!("the arguments are {}", suggest::one_of(&settable)))
                        }
                    };
                    self.error(d, a.name_span);
                }
            }
        }
        let block_names: Vec<&str> = schema
            .attrs
            .iter()
            .filter(|a| a.is_argument() && a.block().is_some())
            .map(|a| a.name)
            .collect();
        let mut single_seen: HashMap<&str, BSpan> = HashMap::new();
        for b in &body.blocks {
            let kind = b.kind.as_str();
            if kind == "lifecycle" && meta.contains(&"lifecycle") {
                continue;
            }
            if kind == "provisioner" || kind == "connection" {
                let d = Diagnostic::error(format!("{kind} blocks are not supported"))
                    .with_help("tunnelform does not run provisioners; remove the block");
                self.error(d, b.kind_span);
                continue;
            }
            if kind == "dynamic" && !block_names.is_empty() {
                if let Some(p) = self.plan_dynamic(b, schema, &block_names) {
                    plan.blocks.push(p);
                }
                continue;
            }
            match schema.attr(kind) {
                Some(s) if s.is_argument() => match s.block() {
                    Some((nesting, nested)) => {
                        if !b.labels.is_empty() {
                            let d =
                                Diagnostic::error(format!("Unexpected label on a {kind} block"))
                                    .with_help(format!("write {kind} {{ ... }} without a label"));
                            self.error(d, b.header);
                        }
                        if nesting == Nesting::Single {
                            if let Some(first) = single_seen.get(kind) {
                                let first = self.span_of(*first);
                                let d = Diagnostic::error(format!("Too many {kind} blocks"))
                                    .with_detail(format!("at most one {kind} block is allowed; the first is at {first}"))
                                    .with_help("merge the two blocks");
                                self.error(d, b.kind_span);
                                continue;
                            }
                            single_seen.insert(s.name, b.header);
                        }
                        let inner = self.plan_body(
                            &b.body,
                            nested,
                            &format!("a {kind} block"),
                            &[],
                            b.header,
                        );
                        plan.blocks.push(BlockPlan {
                            name: kind.to_string(),
                            nesting,
                            kind: BlockPlanKind::Static(inner),
                            span: self.span_of(b.header),
                        });
                    }
                    None => {
                        let d =
                            Diagnostic::error(format!("\"{kind}\" is an argument, not a block"))
                                .with_help(format!("write {kind} = VALUE"));
                        self.error(d, b.kind_span);
                    }
                },
                Some(_) => {
                    let d = Diagnostic::error(format!("Read-only attribute \"{kind}\""))
                        .with_help("remove this block; the value is computed by the cloud");
                    self.error(d, b.kind_span);
                }
                None => {
                    let mut allowed_blocks = block_names.clone();
                    if meta.contains(&"lifecycle") {
                        allowed_blocks.push("lifecycle");
                    }
                    if !block_names.is_empty() {
                        allowed_blocks.push("dynamic");
                    }
                    self.unsupported_block(b, ctx, &allowed_blocks)
                }
            }
        }
        for s in schema.attrs.iter().filter(|a| a.required) {
            let present = match s.block() {
                Some(_) => plan.blocks.iter().any(|b| b.name == s.name),
                None => body.attr(s.name).is_some(),
            };
            if !present {
                let d = Diagnostic::error(format!("Missing required argument \"{}\"", s.name))
                    .with_detail(format!("{ctx} requires \"{}\"", s.name))
                    .with_help(match s.block() {
                        Some(_) => format!("add a {} {{ ... }} block", s.name),
                        None if s.description.is_empty() => format!("add {} = ...", s.name),
                        None => format!("add {} = ... ({})", s.name, s.description),
                    });
                self.error(d, header);
            }
        }
        plan
    }

    fn plan_dynamic(
        &mut self,
        b: &Block,
        schema: &'static BlockSchema,
        block_names: &[&str],
    ) -> Option<BlockPlan> {
        let [(label, lspan)] = b.labels.as_slice() else {
            let d =
                Diagnostic::error("A dynamic block needs one label: the block type it generates")
                    .with_help(
                    "write dynamic \"security_group_policy\" { for_each = ...; content { ... } }",
                );
            self.error(d, b.header);
            return None;
        };
        let Some((nesting, nested)) = schema.attr(label).and_then(|s| s.block()) else {
            let mut d = Diagnostic::error(format!(
                "Unsupported block type \"{label}\" in dynamic block"
            ));
            d = d.with_help(
                did_you_mean(label, block_names.iter().copied()).unwrap_or_else(|| {
                    format!("the block types are {}", suggest::one_of(block_names))
                }),
            );
            self.error(d, *lspan);
            return None;
        };
        let mut for_each = None;
        let mut iterator = label.clone();
        for a in &b.body.attrs {
            match a.name.as_str() {
                "for_each" => for_each = Some(a.expr.clone()),
                "iterator" => match a.expr.as_keyword() {
                    Some(n) => iterator = n.to_string(),
                    None => {
                        let d = Diagnostic::error("Invalid iterator")
                            .with_help("write iterator = NAME (no quotes)");
                        self.error(d, a.expr.span);
                    }
                },
                "labels" => {}
                _ => self.unsupported_arg(a, "a dynamic block", &["for_each", "iterator"]),
            }
        }
        let contents: Vec<&Block> = b
            .body
            .blocks
            .iter()
            .filter(|x| x.kind == "content")
            .collect();
        for x in b.body.blocks.iter().filter(|x| x.kind != "content") {
            self.unsupported_block(x, "a dynamic block", &["content"]);
        }
        let (Some(for_each), [content]) = (for_each, contents.as_slice()) else {
            let d = Diagnostic::error("Incomplete dynamic block").with_help(
                "a dynamic block needs for_each = ... and exactly one content { ... } block",
            );
            self.error(d, b.header);
            return None;
        };
        let inner = self.plan_body(
            &content.body,
            nested,
            &format!("a {label} block"),
            &[],
            content.header,
        );
        Some(BlockPlan {
            name: label.clone(),
            nesting,
            kind: BlockPlanKind::Dynamic {
                for_each,
                iterator,
                content: inner,
            },
            span: self.span_of(b.header),
        })
    }

    // ---------------------------------------------------------------------------------------
    // After decoding: variables, references, cycles, locals, providers.

    fn resolve_vars(
        &mut self,
        inputs: &VarInputs,
        unset_unknown: bool,
    ) -> HashMap<String, Arc<Value>> {
        let mut r = Resolver {
            decls: &self.var_decls,
            sources: &mut self.sources,
            budget: &mut self.budget,
            diags: &mut self.diags,
            unset_unknown,
        };
        r.resolve(&self.dir, inputs)
    }

    fn finish(
        mut self,
        inputs: &VarInputs,
        unset_unknown: bool,
    ) -> Result<(Inner, Diagnostics), Diagnostics> {
        let var_values = match self.early_vars.take() {
            Some(v) => v,
            None => self.resolve_vars(inputs, unset_unknown),
        };

        let n_locals = self.locals.len();
        let n_blocks = self.blocks.len();
        let depends_raw = std::mem::take(&mut self.depends_raw);
        let mut found = Vec::new();
        let graph = Graph::build(&self.declarations(), &depends_raw, &mut found);
        drop(depends_raw);
        self.diags.0.extend(found);
        // Outputs, providers and imports may refer to things but are not graph nodes.
        // Blocks whose values something reads (another block, a local or an output).
        let mut referenced = graph.referenced();
        let mut found = Vec::new();
        let output_values: Vec<&Expr> = self.outputs.iter().map(|o| &o.decl.value).collect();
        self.declarations().check_scoped_refs(
            &self.checks,
            &output_values,
            &self.output_conds,
            &mut found,
        );
        drop(output_values);
        self.diags.0.extend(found);
        // What the conditions of outputs and the assertions of checks read.
        let mut condition_exprs: Vec<Expr> = Vec::new();
        for o in &self.output_conds {
            for c in &o.conditions {
                condition_exprs.push(c.condition.clone());
                condition_exprs.push(c.error_message.clone());
            }
        }
        for c in &self.checks {
            for a in &c.asserts {
                condition_exprs.push(a.condition.clone());
                condition_exprs.push(a.error_message.clone());
            }
        }
        for e in &condition_exprs {
            let mut refs = Vec::new();
            graph::collect_refs(e, &[], &mut refs);
            let bs = self.check_refs(&refs);
            for b in bs {
                referenced[b] = true;
            }
        }
        drop(condition_exprs);
        let outputs = std::mem::take(&mut self.outputs);
        for o in &outputs {
            let mut refs = Vec::new();
            graph::collect_refs(&o.decl.value, &[], &mut refs);
            let bs = self.check_refs(&refs);
            for b in bs {
                referenced[b] = true;
            }
            for e in &o.depends_on {
                self.depends_on(e);
            }
        }
        let providers = std::mem::take(&mut self.providers);
        for p in &providers {
            if let Some(r) = &p.region {
                let mut refs = Vec::new();
                graph::collect_refs(r, &[], &mut refs);
                let bs = self.check_refs(&refs);
                if !bs.is_empty() {
                    let d = Diagnostic::error("Provider region depends on a resource")
                        .with_help("the region must be known before anything is planned: use a literal, a variable or a local");
                    self.error(d, r.span);
                }
            }
        }
        let (moved, removed) = self.check_refactors();
        let imports = std::mem::take(&mut self.imports);
        let mut import_decls = Vec::new();
        for (to, id, span) in &imports {
            let mut refs = Vec::new();
            graph::collect_refs(id, &[], &mut refs);
            let bs = self.check_refs(&refs);
            if !bs.is_empty() {
                let d = Diagnostic::error("Import id depends on a resource")
                    .with_help("the id must be known before planning: use a literal or a variable");
                self.error(d, id.span);
            }
            let mut found = Vec::new();
            let target = self.declarations().import_target(to, &mut found);
            self.diags.0.extend(found);
            if let Some(addr) = target {
                import_decls.push(ImportDecl {
                    to: addr,
                    id: id.clone(),
                    span: *span,
                });
            }
        }
        // Provider aliases used by blocks must exist.
        for bi in 0..n_blocks {
            if let Some(alias) = self.blocks[bi].provider_alias.clone() {
                if !providers
                    .iter()
                    .any(|p| p.alias.as_deref() == Some(alias.as_str()))
                {
                    let aliases: Vec<&str> = providers
                        .iter()
                        .filter_map(|p| p.alias.as_deref())
                        .collect();
                    let mut d = Diagnostic::error(format!(
                        "Reference to undeclared provider tencentcloud.{alias}"
                    ));
                    d = d.with_help(did_you_mean(&alias, aliases.iter().copied()).unwrap_or_else(|| {
                        format!("declare it with provider \"tencentcloud\" {{ alias = \"{alias}\" region = \"...\" }}")
                    }));
                    let header = self.blocks[bi].header;
                    self.error(d, header);
                }
            }
        }

        let mut found = Vec::new();
        let deps = graph.dependencies(&self.declarations(), &mut found);
        self.diags.0.extend(found);
        let Dependencies {
            impure,
            blocks: block_deps,
            local_order,
            order,
        } = deps;
        for (b, d) in self.blocks.iter_mut().zip(block_deps) {
            b.deps = d;
        }

        let module_dir = self.dir.clone();
        let workspace = self.workspace.clone();
        let mut pure_values: Vec<Option<Arc<Value>>> = vec![None; n_locals];
        if !self.diags.has_errors() {
            // Locals that do not depend on resources: evaluated once, here.
            for &li in &local_order {
                if impure[li] {
                    continue;
                }
                let refs = LoadRefs {
                    pure: &pure_values,
                    index: &self.local_index,
                };
                let mut ev =
                    Evaluator::new(Some(&var_values), Some(&refs), &module_dir, "a local value");
                ev.workspace = &workspace;
                match ev
                    .eval(&self.locals[li].expr, &Scope::root())
                    .and_then(|v| self.locals[li].finish(v, &module_dir))
                {
                    Ok(v) => match check_size(&v) {
                        Ok(()) => pure_values[li] = Some(Arc::new(v)),
                        Err(msg) => {
                            let d = Diagnostic::error(format!(
                                "Value of local.{} too large",
                                self.locals[li].name
                            ))
                            .with_detail(msg)
                            .with_help("reduce the size or nesting of the value");
                            let span = self.locals[li].expr.span;
                            self.error(d, span);
                        }
                    },
                    Err(e) => self.eval_err(e),
                }
            }
        }

        // count / for_each that do not depend on resources: expanded once, here.
        if !self.diags.has_errors() {
            for bi in 0..n_blocks {
                let b = &self.blocks[bi];
                let exprs: Vec<&Expr> = b.count.iter().chain(b.for_each.iter()).collect();
                if exprs.is_empty() {
                    continue;
                }
                let mut refs = Vec::new();
                for e in &exprs {
                    graph::collect_refs(e, &[], &mut refs);
                }
                let dynamic = refs.iter().any(|r| match r.kind {
                    RefKind::Resource { .. } => true,
                    RefKind::Local(l) => self.local_index.get(l).is_none_or(|&i| impure[i]),
                    _ => false,
                });
                if dynamic {
                    continue;
                }
                let lrefs = LoadRefs {
                    pure: &pure_values,
                    index: &self.local_index,
                };
                let mut ev = Evaluator::new(
                    Some(&var_values),
                    Some(&lrefs),
                    &module_dir,
                    "count and for_each",
                );
                ev.workspace = &workspace;
                match compute_expansion(&ev, b, unset_unknown) {
                    Ok(e) => self.blocks[bi].static_expansion = Some(Arc::new(e)),
                    Err(e) => self.eval_err(e),
                }
            }
        }

        // Providers: alias and region.
        let mut provider_decls = Vec::new();
        for p in &providers {
            let region = match &p.region {
                None => None,
                Some(r) => {
                    let refs = LoadRefs {
                        pure: &pure_values,
                        index: &self.local_index,
                    };
                    let mut ev = Evaluator::new(
                        Some(&var_values),
                        Some(&refs),
                        &module_dir,
                        "a provider block",
                    );
                    ev.workspace = &workspace;
                    match ev.eval(r, &Scope::root()) {
                        Ok(v) => {
                            match v.unmarked() {
                                Value::String(s) if !s.is_empty() => {
                                    if let Some((detail, help)) = region_problem(s) {
                                        let d = Diagnostic::error("Unknown provider region")
                                            .with_detail(detail)
                                            .with_help(help);
                                        self.error(d, r.span);
                                    }
                                    Some(s.to_string())
                                }
                                Value::Null => None,
                                other => {
                                    let d = Diagnostic::error("Invalid provider region")
                                    .with_detail(format!("a region name such as \"ap-guangzhou\" is required, got {}", values::show(other)));
                                    self.error(d, r.span);
                                    None
                                }
                            }
                        }
                        Err(e) => {
                            if !self.diags.has_errors() {
                                self.eval_err(e);
                            }
                            None
                        }
                    }
                }
            };
            provider_decls.push(ProviderDecl {
                alias: p.alias.clone(),
                region,
                span: self.span_of(p.span),
            });
        }

        if self.diags.has_errors() {
            return Err(self.diags.sorted());
        }
        let inner = Inner {
            unset_unknown,
            module_files: HashMap::new(),
            dir: self.dir,
            sources: self.sources,
            tf_files: self.tf_files,
            workspace: self.workspace.clone(),
            var_decls: self.var_decls,
            var_values,
            locals: self.locals,
            local_index: self.local_index,
            pure_values,
            impure,
            referenced,
            blocks: self.blocks,
            block_index: self.block_index,
            order,
            outputs: outputs.into_iter().map(|o| o.decl).collect(),
            provider_decls,
            backend_path: self.backend_path.map(|(p, _)| p),
            backend_workspace_dir: self.backend_workspace_dir,
            backend_pg: self.backend_pg.map(|(s, _)| s),
            imports: import_decls,
            moved,
            removed,
            checks: self.checks,
            output_conditions: self.output_conds,
        };
        Ok((inner, self.diags.sorted()))
    }
}

/// Locals available while loading: only those that do not depend on resources.
struct LoadRefs<'a> {
    pure: &'a [Option<Arc<Value>>],
    index: &'a HashMap<String, usize>,
}

impl Refs for LoadRefs<'_> {
    fn local(&self, _ev: &Evaluator<'_>, name: &str, span: BSpan) -> EResult<Arc<Value>> {
        match self
            .index
            .get(name)
            .and_then(|&i| self.pure.get(i))
            .and_then(|v| v.clone())
        {
            Some(v) => Ok(v),
            None => Err(error(format!("local.{name} is not available here"), span)
                .help("it depends on resource attributes, which are only known while planning")),
        }
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
        Err(error("Resource references are not allowed here", span)
            .help("this value must be known before planning: use literals, variables or locals"))
    }
}
