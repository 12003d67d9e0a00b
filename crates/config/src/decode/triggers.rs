//! `lifecycle { replace_triggered_by = [...] }`: which changes of other managed resources of the
//! same module replace a resource. Terraform's rules: each entry is a reference to a managed
//! resource (`TYPE.NAME`), one of its instances (`TYPE.NAME[0]`, `TYPE.NAME["k"]`,
//! `TYPE.NAME[count.index]`, `TYPE.NAME[each.key]`) or an attribute of one instance
//! (`TYPE.NAME.ATTR`, deeper paths with literal keys). Variables, locals, data sources, module
//! outputs and computed expressions are refused where they are written.
//!
//! The references are kept as expressions too: they count as the block's references, so the
//! block is planned after (and its instances wait for) what they name, and the usual checks
//! (declared resource, attribute names, `each`/`count` only where the block sets them) apply.

use tunnelform_instances::loaded::TriggerRef;
use tunnelform_model::Diagnostic;
use tunnelform_references::triggers::{trigger_ref, FORMS};
use tunnelform_syntax::ast::{Block, ExprKind};

use super::Decoder;

impl Decoder {
    /// The `replace_triggered_by` of a resource's `lifecycle` block (`own`: the resource's type
    /// and its name as the loader indexes it).
    pub(super) fn replace_triggered_by(
        &mut self,
        lifecycle: &Block,
        own: (&str, &str),
    ) -> Vec<TriggerRef> {
        let Some(a) = lifecycle
            .body
            .attrs
            .iter()
            .find(|a| a.name == "replace_triggered_by")
        else {
            return Vec::new();
        };
        let ExprKind::Tuple(items) = &a.expr.kind else {
            let d = Diagnostic::error("Invalid replace_triggered_by")
                .with_detail("replace_triggered_by is a list of references to managed resources")
                .with_help(format!(
                    "write replace_triggered_by = [ ... ]; in it, {FORMS}"
                ));
            self.error(d, a.expr.span);
            return Vec::new();
        };
        let mut out = Vec::new();
        for it in items {
            match trigger_ref(it, own, &self.scope.prefix, &self.scope.path) {
                Ok(t) => out.push(t),
                Err((d, span)) => self.error(d, span),
            }
        }
        out
    }
}
