//! Custom conditions: `lifecycle { precondition { ... } postcondition { ... } }` of resource and
//! data blocks, `precondition` of root outputs, and `check "NAME" { assert { ... } }` blocks.
//!
//! What is kept at load ([`Condition`], [`CheckDecl`]) and how it is evaluated against a
//! [`crate::api::Lookup`] of object values. A condition is true, false (its `error_message`
//! evaluated), or not known yet (it reads a value known only after apply): the plan and apply
//! layers decide what each means where they are (an error, a warning, a check deferred to
//! apply).

use tunnelform_model::{Diagnostic, InstanceKey, ModuleStep, Span, Value};
use tunnelform_syntax::ast::Expr;
use tunnelform_syntax::BSpan;

use tunnelform_lang::eval::{Evaluator, Scope};
use tunnelform_lang::values::{describe_type, unmark};

use crate::loaded::Expansion;
use crate::session::Session;

/// Which of a block's conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CondKind {
    /// Checked before the object's change is planned (and again before it is applied).
    Pre,
    /// Checked on the object's planned, then applied, attributes (`self`).
    Post,
}

/// One `precondition`, `postcondition` or `assert` block.
pub struct Condition {
    pub kind: CondKind,
    pub condition: Expr,
    pub error_message: Expr,
}

/// A `check "NAME"` block (inside a module, the module's instance is in `module`).
pub struct CheckDecl {
    pub name: String,
    pub module: Vec<ModuleStep>,
    pub header: BSpan,
    pub asserts: Vec<Condition>,
    /// Its scoped `data` blocks' indexes in `Inner::blocks`.
    pub data: Vec<usize>,
}

impl CheckDecl {
    /// `check.NAME`, with the module path in front inside a module.
    pub fn address(&self) -> String {
        let mut s = String::new();
        for m in &self.module {
            s.push_str(&m.to_string());
            s.push('.');
        }
        s.push_str("check.");
        s.push_str(&self.name);
        s
    }
}

/// The `precondition` blocks of one output.
pub struct OutputConditions {
    /// `output.NAME`, with the module path in front inside a module.
    pub address: String,
    pub conditions: Vec<Condition>,
}

/// What one condition evaluated to.
#[derive(Debug, Clone)]
pub enum Outcome {
    Pass,
    /// False: the diagnostic (an error; its summary says which kind of condition) holds the
    /// error message and the condition's location.
    Fail(Diagnostic),
    /// Not known until apply: the condition's location.
    Unknown(Span),
}

/// What the conditions of one object (or output) came to: the ones that failed, those not known
/// yet, and the conditions that could not be evaluated at all (errors).
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub failed: Vec<Diagnostic>,
    pub unknown: Vec<Span>,
    pub errors: Vec<Diagnostic>,
}

impl Checked {
    pub fn is_ok(&self) -> bool {
        self.failed.is_empty() && self.errors.is_empty()
    }
}

/// The status of a check block, as Terraform names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    Pass,
    Fail,
    Unknown,
    Error,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Unknown => "unknown",
            CheckStatus::Error => "error",
        }
    }
}

/// The result of one `check` block: its address, where it is, its status and the warnings it
/// gives (a failed assertion, an assertion that could not be evaluated).
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    pub address: String,
    pub name: String,
    /// The module instance (`module.site["sh"]`), empty at the root.
    pub module: String,
    pub span: Span,
    pub status: CheckStatus,
    pub problems: Vec<Diagnostic>,
}

fn title(kind: CondKind, what: &str) -> String {
    match kind {
        CondKind::Pre => format!("{what} precondition failed"),
        CondKind::Post => format!("{what} postcondition failed"),
    }
}

impl Session<'_> {
    /// Evaluates one condition in `sc`. `Err`: it cannot be evaluated (an error in the
    /// expression, a result that is not a bool, an error message that is not a string).
    fn condition(
        &self,
        ev: &Evaluator<'_>,
        sc: &Scope<'_>,
        c: &Condition,
        summary: &str,
        context: &str,
    ) -> Result<Outcome, Diagnostic> {
        let sources = &self.cfg.inner.sources;
        let located = |d: Diagnostic, span: BSpan| {
            let mut d = sources.locate(d, span);
            crate::loaded::add_call_chain(&mut d, &self.cfg.inner.module_files);
            d
        };
        ev.reset_steps();
        let v = ev.eval(&c.condition, sc).map_err(|e| self.diag(*e))?;
        let (v, _) = unmark(v);
        let ok = match v {
            Value::Unknown => return Ok(Outcome::Unknown(sources.span(c.condition.span))),
            Value::Bool(b) => b,
            other => {
                let d = Diagnostic::error("Invalid condition result")
                    .with_detail(format!(
                        "the condition must be true or false, got {} ({context})",
                        describe_type(&other)
                    ))
                    .with_help(
                        "write a condition that is a bool, for example length(x) > 0 or x != null",
                    );
                return Err(located(d, c.condition.span));
            }
        };
        if ok {
            return Ok(Outcome::Pass);
        }
        let message = match ev.eval(&c.error_message, sc) {
            Ok(m) => match unmark(m) {
                (_, true) => {
                    "(the error message holds a sensitive value and is not shown)".to_string()
                }
                (Value::String(s), false) => s.into_string(),
                (Value::Unknown, false) => "(the error message is not known yet)".to_string(),
                (other, false) => {
                    let d = Diagnostic::error("Invalid error_message")
                        .with_detail(format!(
                            "error_message must be a string, got {}",
                            describe_type(&other)
                        ))
                        .with_help("write error_message = \"...\" (interpolations are allowed)");
                    return Err(located(d, c.error_message.span));
                }
            },
            Err(e) => return Err(self.diag(*e)),
        };
        let d = Diagnostic::error(summary)
            .with_detail(format!("{message} ({context})"))
            .with_help("the condition is false: change the configuration or the values it checks");
        Ok(Outcome::Fail(located(d, c.condition.span)))
    }

    /// Runs `f` in the scope of one instance of block `idx` (`each`, `count.index`); None when
    /// the block has no such instance.
    fn in_instance<R>(
        &self,
        ev: &Evaluator<'_>,
        idx: usize,
        key: &Option<InstanceKey>,
        f: impl FnOnce(&Scope<'_>) -> R,
    ) -> Option<R> {
        let exp = self.expansion(ev, idx).ok()?;
        match (&*exp, key) {
            (Expansion::Single, None) => Some(f(&Scope::root())),
            (Expansion::Count(n), Some(InstanceKey::Index(i))) if i < n => {
                Some(f(&Scope::with_count(*i as i64)))
            }
            (Expansion::ForEach(coll), Some(InstanceKey::Key(k))) => match &**coll {
                Value::Map(m) => m.get(k).map(|v| {
                    let key = Value::string(k.clone());
                    f(&Scope::with_each(&key, v))
                }),
                Value::List(items) => items
                    .iter()
                    .find(|v| v.as_str() == Some(k.as_str()))
                    .map(|v| f(&Scope::with_each(v, v))),
                _ => None,
            },
            (Expansion::Unknown, _) => {
                let u = Value::Unknown;
                Some(f(&Scope::unknown_instance(&u)))
            }
            _ => None,
        }
    }

    /// The preconditions or postconditions of the instance `key` of block `idx`; `this` is the
    /// object's value (`self`, postconditions only).
    pub fn instance_conditions(
        &self,
        idx: usize,
        key: &Option<InstanceKey>,
        kind: CondKind,
        this: Option<&Value>,
    ) -> Checked {
        let b = &self.cfg.inner.blocks[idx];
        let mut out = Checked::default();
        if !b.conditions.iter().any(|c| c.kind == kind) {
            return out;
        }
        let what = match b.addr.mode {
            tunnelform_model::Mode::Managed => "Resource",
            tunnelform_model::Mode::Data => "Data source",
        };
        let summary = title(kind, what);
        let context = format!("in {}", b.addr.clone().with_key(key.clone()));
        let ev = self.evaluator();
        let done = self.in_instance(&ev, idx, key, |sc| {
            let this = this.cloned().unwrap_or(Value::Unknown);
            let sc = sc.bind("self", this);
            for c in b.conditions.iter().filter(|c| c.kind == kind) {
                match self.condition(&ev, &sc, c, &summary, &context) {
                    Ok(Outcome::Pass) => {}
                    Ok(Outcome::Fail(d)) => out.failed.push(d),
                    Ok(Outcome::Unknown(s)) => out.unknown.push(s),
                    Err(d) => out.errors.push(d),
                }
            }
        });
        if done.is_none() {
            let d = Diagnostic::error(format!("No instance {context} to check the conditions of"))
                .with_help("plan again: the instance is no longer in the configuration");
            out.errors.push(d);
        }
        out
    }

    /// The preconditions of the outputs (the root module's and the modules').
    pub fn output_conditions(&self) -> Checked {
        let mut out = Checked::default();
        let ev = self.evaluator();
        for o in &self.cfg.inner.output_conditions {
            let context = format!("in {}", o.address);
            for c in &o.conditions {
                match self.condition(
                    &ev,
                    &Scope::root(),
                    c,
                    "Module output value precondition failed",
                    &context,
                ) {
                    Ok(Outcome::Pass) => {}
                    Ok(Outcome::Fail(d)) => out.failed.push(d),
                    Ok(Outcome::Unknown(s)) => out.unknown.push(s),
                    Err(d) => out.errors.push(d),
                }
            }
        }
        out
    }

    /// Every `check` block's assertions. A failed assertion (or one that cannot be evaluated)
    /// is a warning; one not known yet leaves the check `unknown` (at plan: decided after apply).
    pub fn checks(&self) -> Vec<CheckOutcome> {
        let ev = self.evaluator();
        let mut out = Vec::new();
        for c in &self.cfg.inner.checks {
            let address = c.address();
            let context = format!("in {address}");
            let mut status = CheckStatus::Pass;
            let mut problems = Vec::new();
            for a in &c.asserts {
                match self.condition(
                    &ev,
                    &Scope::root(),
                    a,
                    "Check block assertion failed",
                    &context,
                ) {
                    Ok(Outcome::Pass) => {}
                    Ok(Outcome::Fail(mut d)) => {
                        d.severity = tunnelform_model::Severity::Warning;
                        d.help = Some(
                            "a check never stops a plan or an apply; fix what it checks or the assertion"
                                .into(),
                        );
                        if status != CheckStatus::Error {
                            status = CheckStatus::Fail;
                        }
                        problems.push(d);
                    }
                    Ok(Outcome::Unknown(_)) => {
                        if status == CheckStatus::Pass {
                            status = CheckStatus::Unknown;
                        }
                    }
                    Err(mut d) => {
                        d.severity = tunnelform_model::Severity::Warning;
                        status = CheckStatus::Error;
                        problems.push(d);
                    }
                }
            }
            let module = c
                .module
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(".");
            out.push(CheckOutcome {
                address,
                name: c.name.clone(),
                module,
                span: self.cfg.inner.sources.span(c.header),
                status,
                problems,
            });
        }
        out
    }
}
