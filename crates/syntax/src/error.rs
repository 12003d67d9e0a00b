//! A problem at a byte span (a syntax error, an evaluation error), located later against the
//! sources.

use tunnelform_model::Diagnostic;

use crate::source::{BSpan, Sources};

/// A problem found while parsing, lowering or evaluating: what, why, how to fix it, and where.
#[derive(Debug, Clone)]
pub struct SpanError {
    pub summary: String,
    pub detail: Option<String>,
    pub help: Option<String>,
    pub span: BSpan,
}

impl SpanError {
    pub fn into_diag(self, sources: &Sources) -> Diagnostic {
        let mut d = Diagnostic::error(self.summary);
        d.detail = self.detail;
        d.help = self.help;
        sources.locate(d, self.span)
    }
}
