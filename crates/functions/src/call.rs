//! What a built-in function is (its table entry) and what it sees when called.

use std::path::Path;
use tunnelform_model::Map;

use tunnelform_model::Value;
use tunnelform_syntax::ast::{Expr, TemplatePart};
use tunnelform_syntax::BSpan;

use crate::error::{error, EResult, EvalError, WithHelp};
use crate::values::{self, as_f64, primitive_string, to_number};

/// Evaluated arguments, each with the span of its expression.
pub type Args<'x> = [(&'x Value, BSpan)];

/// What a function sees of the evaluation that calls it.
pub trait Context {
    /// Counts one evaluation step against the budget (functions that loop call it per round).
    fn step(&self, span: BSpan) -> EResult<()>;
    /// The directory of the module whose expression makes the call (`path.module`): where
    /// functions that read files resolve relative paths.
    fn module_dir(&self) -> &Path;
    /// Whether the call is made from inside a template (`templatefile` may not recurse).
    fn in_template(&self) -> bool {
        false
    }
    /// Renders a parsed template with `vars` as its only variables, in a new evaluation of
    /// this module (`templatefile`): the evaluator lives above this crate.
    fn render_template(&self, parts: Vec<TemplatePart>, vars: &Map, span: BSpan) -> EResult<Value>;
}

/// Evaluates the arguments of a [`Body::Lazy`] function, in the caller's scope.
pub trait Evaluate {
    fn evaluate(&self, e: &Expr) -> EResult<Value>;
    /// The calling evaluation, as other functions see it.
    fn context(&self) -> &dyn Context;
}

/// How many arguments a function takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arity {
    pub min: usize,
    /// None: no upper bound.
    pub max: Option<usize>,
}

impl Arity {
    pub const fn exactly(n: usize) -> Arity {
        Arity {
            min: n,
            max: Some(n),
        }
    }

    pub const fn between(min: usize, max: usize) -> Arity {
        Arity {
            min,
            max: Some(max),
        }
    }

    pub const fn at_least(min: usize) -> Arity {
        Arity { min, max: None }
    }

    /// An error naming the function and what it takes when `got` does not fit.
    pub fn check(self, fname: &str, got: usize, span: BSpan) -> EResult<()> {
        if got >= self.min && self.max.is_none_or(|m| got <= m) {
            return Ok(());
        }
        let expected = match self.max {
            Some(max) if max == self.min => format!("{max}"),
            Some(max) => format!("{} to {max}", self.min),
            None => format!("at least {}", self.min),
        };
        Err(
            error(format!("Wrong number of arguments to {fname}()"), span)
                .detail(format!("{fname}() takes {expected} argument(s), got {got}")),
        )
    }
}

/// How a function is called.
#[derive(Clone, Copy)]
pub enum Body {
    /// Called with wholly known arguments, sensitive marks removed: an unknown argument makes
    /// the result unknown without a call, and a sensitive one makes it sensitive.
    Known(fn(&Call<'_>) -> EResult<Value>),
    /// Sees unknown and sensitive arguments as they are and decides itself (a result decided
    /// anyway, an element that keeps its own marks).
    Marked(fn(&Call<'_>) -> EResult<Value>),
    /// Receives its arguments unevaluated (`try`, `can`).
    Lazy(fn(&dyn Evaluate, &[Expr], BSpan) -> EResult<Value>),
}

/// One entry of the function table.
#[derive(Clone, Copy)]
pub struct Function {
    pub name: &'static str,
    pub arity: Arity,
    pub body: Body,
    /// The first argument is read in place rather than cloned (a big map in a local), and the
    /// result, an element of it or a count, is not weighed again.
    pub borrows_first: bool,
}

impl Function {
    const fn new(name: &'static str, arity: Arity, body: Body) -> Self {
        Function {
            name,
            arity,
            body,
            borrows_first: false,
        }
    }

    pub const fn known(
        name: &'static str,
        arity: Arity,
        f: fn(&Call<'_>) -> EResult<Value>,
    ) -> Self {
        Function::new(name, arity, Body::Known(f))
    }

    pub const fn marked(
        name: &'static str,
        arity: Arity,
        f: fn(&Call<'_>) -> EResult<Value>,
    ) -> Self {
        Function::new(name, arity, Body::Marked(f))
    }

    pub const fn lazy(
        name: &'static str,
        arity: Arity,
        f: fn(&dyn Evaluate, &[Expr], BSpan) -> EResult<Value>,
    ) -> Self {
        Function::new(name, arity, Body::Lazy(f))
    }

    /// The same function, reading its first argument in place.
    pub const fn borrowing(mut self) -> Self {
        self.borrows_first = true;
        self
    }
}

/// One call: the context, the function's name, the arguments and the span of the call.
pub struct Call<'a> {
    pub ctx: &'a dyn Context,
    pub name: &'static str,
    pub args: &'a Args<'a>,
    pub span: BSpan,
}

impl<'a> Call<'a> {
    /// The `i`th argument (the arity is checked before the call).
    pub fn arg(&self, i: usize) -> (&'a Value, BSpan) {
        self.args[i]
    }

    /// An "Invalid function argument" error at `span`.
    pub fn err(&self, span: BSpan, detail: impl Into<String>) -> Box<EvalError> {
        arg_err(span, self.name, detail)
    }

    pub fn str(&self, a: (&Value, BSpan)) -> EResult<String> {
        str_arg(self.name, a)
    }

    pub fn num(&self, a: (&Value, BSpan)) -> EResult<f64> {
        match to_number(a.0) {
            Some(Value::Number(n)) => Ok(as_f64(&n)),
            _ => Err(self.err(
                a.1,
                format!("a number is required, got {}", values::describe_type(a.0)),
            )),
        }
    }

    pub fn int(&self, a: (&Value, BSpan)) -> EResult<i64> {
        let f = self.num(a)?;
        if f.fract() != 0.0 || f.abs() > 9.0e15 {
            return Err(self.err(a.1, format!("a whole number is required, got {f}")));
        }
        Ok(f as i64)
    }

    pub fn list<'v>(&self, (v, span): (&'v Value, BSpan)) -> EResult<&'v [Value]> {
        match v.unmarked() {
            Value::List(items) => Ok(items),
            other => Err(self.err(
                span,
                format!("a list is required, got {}", values::describe_type(other)),
            )),
        }
    }

    pub fn map<'v>(&self, (v, span): (&'v Value, BSpan)) -> EResult<&'v Map> {
        match v.unmarked() {
            Value::Map(m) => Ok(m),
            other => Err(self.err(
                span,
                format!("a map is required, got {}", values::describe_type(other)),
            )),
        }
    }

    /// The only argument as a string, through `f`.
    pub fn map_str(&self, f: impl FnOnce(&str) -> String) -> EResult<Value> {
        Ok(Value::string(f(&self.str(self.arg(0))?)))
    }
}

pub fn arg_err(span: BSpan, fname: &str, detail: impl Into<String>) -> Box<EvalError> {
    error(format!("Invalid function argument to {fname}()"), span).detail(detail)
}

pub fn str_arg(fname: &str, (v, span): (&Value, BSpan)) -> EResult<String> {
    match primitive_string(v) {
        Some(s) => Ok(s.into_owned()),
        None => Err(arg_err(
            span,
            fname,
            format!("a string is required, got {}", values::describe_type(v)),
        )),
    }
}
