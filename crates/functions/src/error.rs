//! Evaluation errors: what went wrong, why, how to fix it, and where (a byte span located later
//! against the sources).

use tunnelform_syntax::{BSpan, SpanError};

use crate::values::MAX_VALUE_WEIGHT;

/// An evaluation error: the same located problem as a syntax error.
pub type EvalError = SpanError;

/// An error of the evaluation budget (steps, depth, size): `try` and `can` do not swallow it.
pub fn is_budget_error(e: &EvalError) -> bool {
    e.summary == "Evaluation too expensive"
        || e.summary == "Expression nested too deeply"
        || e.summary == "Value too large"
}

pub type EResult<T> = Result<T, Box<EvalError>>;

pub fn error(summary: impl Into<String>, span: BSpan) -> Box<EvalError> {
    Box::new(EvalError {
        summary: summary.into(),
        detail: None,
        help: None,
        span,
    })
}

pub trait WithHelp {
    fn help(self, help: impl Into<String>) -> Self;
    fn help_opt(self, help: Option<String>) -> Self;
    fn detail(self, detail: impl Into<String>) -> Self;
}

impl WithHelp for Box<EvalError> {
    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    fn help_opt(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }
    fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

pub fn too_large(span: BSpan) -> Box<EvalError> {
    error("Value too large", span).detail(format!(
        "the expression builds a value of more than {MAX_VALUE_WEIGHT} elements"
    ))
}
