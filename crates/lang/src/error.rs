//! Evaluation errors: what went wrong, why, how to fix it, and where (a byte span located later
//! against the sources).

use tunnelform_model::Diagnostic;
use tunnelform_syntax::{BSpan, Sources};

use crate::values::MAX_VALUE_WEIGHT;

#[derive(Debug, Clone)]
pub struct EvalError {
    pub summary: String,
    pub detail: Option<String>,
    pub help: Option<String>,
    pub span: BSpan,
}

impl EvalError {
    /// The error as a diagnostic, located against the sources.
    pub fn into_diag(self, sources: &Sources) -> Diagnostic {
        let mut d = Diagnostic::error(self.summary);
        d.detail = self.detail;
        d.help = self.help;
        sources.locate(d, self.span)
    }

    /// An error of the evaluation budget (steps, depth, size): `try` and `can` do not swallow it.
    pub fn is_budget_error(&self) -> bool {
        self.summary == "Evaluation too expensive"
            || self.summary == "Expression nested too deeply"
            || self.summary == "Value too large"
    }
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
