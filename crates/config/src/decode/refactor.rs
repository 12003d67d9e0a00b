//! `moved` and `removed` blocks: decoding and the checks that need only the configuration
//! (Terraform's: both ends managed resources of one type, a moved resource no longer declared,
//! no two moves from or to one address, no cycle of moves).

use std::collections::HashMap;

use tunnelform_model::{Address, Diagnostic, Mode, Value};
use tunnelform_syntax::ast::{Block, ExprKind};
use tunnelform_syntax::BSpan;

use super::Decoder;
use tunnelform_instances::api::{Moved, Removed};
use tunnelform_references::address::static_address;

/// The blocks as written, checked once every resource block is known.
#[derive(Default)]
pub(super) struct Raw {
    moved: Vec<(Address, BSpan, Address, BSpan, BSpan)>,
    removed: Vec<(Address, BSpan, bool, BSpan)>,
}

impl Decoder {
    fn refactor_address(
        &mut self,
        b: &Block,
        attr: &str,
        example: &str,
    ) -> Option<(Address, BSpan)> {
        let Some(a) = b.body.attr(attr) else {
            let d = Diagnostic::error(format!("Missing \"{attr}\" in a {} block", b.kind))
                .with_help(format!("write {example}"));
            self.error(d, b.header);
            return None;
        };
        match static_address(&a.expr) {
            Some(addr) => Some((addr, a.expr.span)),
            None => {
                let d = Diagnostic::error(format!("Invalid address in \"{attr}\""))
                    .with_detail("the address must be written as it is, without expressions")
                    .with_help("write TYPE.NAME, TYPE.NAME[\"KEY\"] or TYPE.NAME[0]");
                self.error(d, a.expr.span);
                None
            }
        }
    }

    pub(super) fn decode_moved(&mut self, b: &Block) {
        if self
            .labels(b, 0, "moved { from = TYPE.OLD, to = TYPE.NEW }")
            .is_none()
        {
            return;
        }
        for a in &b.body.attrs {
            if a.name != "from" && a.name != "to" {
                self.unsupported_arg(a, "a moved block", &["from", "to"]);
            }
        }
        for inner in &b.body.blocks {
            self.unsupported_block(inner, "a moved block", &[]);
        }
        let example = "moved { from = TYPE.OLD, to = TYPE.NEW }";
        let from = self.refactor_address(b, "from", example);
        let to = self.refactor_address(b, "to", example);
        if let (Some((from, fs)), Some((to, ts))) = (from, to) {
            self.refactors.moved.push((from, fs, to, ts, b.header));
        }
    }

    pub(super) fn decode_removed(&mut self, b: &Block) {
        if self
            .labels(
                b,
                0,
                "removed { from = TYPE.NAME  lifecycle { destroy = false } }",
            )
            .is_none()
        {
            return;
        }
        for a in &b.body.attrs {
            if a.name != "from" {
                self.unsupported_arg(a, "a removed block", &["from"]);
            }
        }
        let mut destroy = true;
        for inner in &b.body.blocks {
            if inner.kind != "lifecycle" {
                self.unsupported_block(inner, "a removed block", &["lifecycle"]);
                continue;
            }
            for a in &inner.body.attrs {
                if a.name != "destroy" {
                    self.unsupported_arg(a, "the lifecycle block of a removed block", &["destroy"]);
                    continue;
                }
                match &a.expr.kind {
                    ExprKind::Literal(Value::Bool(v)) => destroy = *v,
                    _ => {
                        let d = Diagnostic::error("Invalid value for destroy")
                            .with_help("write destroy = false (forget the object, leave it in the cloud) or destroy = true");
                        self.error(d, a.expr.span);
                    }
                }
            }
            for nested in &inner.body.blocks {
                self.unsupported_block(nested, "the lifecycle block of a removed block", &[]);
            }
        }
        if let Some((from, span)) = self.refactor_address(
            b,
            "from",
            "removed { from = TYPE.NAME  lifecycle { destroy = false } }",
        ) {
            self.refactors.removed.push((from, span, destroy, b.header));
        }
    }

    fn declared(&self, a: &Address) -> bool {
        self.block_index
            .contains_key(&tunnelform_instances::loaded::index_key(a))
    }

    /// Checks the blocks against each other and the resource blocks; the moves come back in the
    /// order they apply (a chain `a -> b`, `b -> c` takes `a` to `c`).
    pub(super) fn check_refactors(&mut self) -> (Vec<Moved>, Vec<Removed>) {
        let raw = std::mem::take(&mut self.refactors);
        let mut moves: Vec<(Address, Address, BSpan)> = Vec::new();
        for (from, fs, to, ts, header) in raw.moved {
            let mut ok = true;
            for (a, s) in [(&from, fs), (&to, ts)] {
                if a.mode == Mode::Data {
                    let d = Diagnostic::error("Data source address is not allowed")
                        .with_detail(format!("{a} is a data source: data sources are read again on every plan, so they never move"))
                        .with_help("moved blocks name managed resources");
                    self.error(d, s);
                    ok = false;
                }
            }
            if !ok {
                continue;
            }
            if from.type_name != to.type_name {
                let d = Diagnostic::error("Resource type mismatch")
                    .with_detail(format!(
                        "this statement declares a move from {from} to {to}, which is a resource of a different type"
                    ))
                    .with_help("an object keeps its type when it moves; to change the type, remove the old resource and import the object into the new one");
                self.error(d, header);
                continue;
            }
            if from == to {
                self.warn(
                    "Redundant move statement",
                    format!("this statement declares a move from {from} to the same address, which is the same as not declaring the move at all; remove it"),
                    header,
                );
                continue;
            }
            if from.key.is_none() && to.key.is_none() && self.declared(&from) {
                let d = Diagnostic::error("Moved object still exists")
                    .with_detail(format!(
                        "this statement declares a move from {from}, but that resource is still declared in the configuration"
                    ))
                    .with_help(format!(
                        "rename the resource block {from} to {to} (or remove it), or remove this moved block"
                    ));
                self.error(d, fs);
                continue;
            }
            moves.push((from, to, header));
        }
        // No two moves from one address, nor to one address.
        let mut by_from: HashMap<&Address, usize> = HashMap::new();
        let mut by_to: HashMap<&Address, usize> = HashMap::new();
        let mut errors = Vec::new();
        for (i, (from, to, header)) in moves.iter().enumerate() {
            if let Some(&j) = by_from.get(from) {
                errors.push((
                    Diagnostic::error("Ambiguous move statements").with_detail(format!(
                        "a statement at {} declared that {from} moved to {}, but this statement instead declares that it moved to {to}; each object can move to only one address",
                        self.sources.span(moves[j].2),
                        moves[j].1
                    )),
                    *header,
                ));
            } else {
                by_from.insert(from, i);
            }
            if let Some(&j) = by_to.get(to) {
                errors.push((
                    Diagnostic::error("Ambiguous move statements").with_detail(format!(
                        "a statement at {} declared that {} moved to {to}, but this statement instead declares that {from} moved there; each address can be the destination of only one object",
                        self.sources.span(moves[j].2),
                        moves[j].0
                    )),
                    *header,
                ));
            } else {
                by_to.insert(to, i);
            }
        }
        // Chains: a move whose destination is another's source comes before it; a cycle is an error.
        let mut order: Vec<usize> = Vec::new();
        if errors.is_empty() {
            let next = |i: usize| by_from.get(&moves[i].1).copied();
            let has_prev: Vec<bool> = (0..moves.len())
                .map(|i| moves.iter().any(|(_, to, _)| *to == moves[i].0))
                .collect();
            for start in (0..moves.len()).filter(|&i| !has_prev[i]) {
                let mut i = Some(start);
                while let Some(k) = i {
                    order.push(k);
                    i = next(k);
                }
            }
            if order.len() < moves.len() {
                let in_cycle: Vec<usize> =
                    (0..moves.len()).filter(|i| !order.contains(i)).collect();
                let chain: Vec<String> = in_cycle
                    .iter()
                    .map(|&i| format!("{} -> {}", moves[i].0, moves[i].1))
                    .collect();
                errors.push((
                    Diagnostic::error("Cyclic dependency in move statements")
                        .with_detail(format!("these moves form a cycle: {}", chain.join(", ")))
                        .with_help("a chain of moves must end with an address that is not the source of another move"),
                    moves[in_cycle[0]].2,
                ));
            }
        }
        for (d, span) in errors {
            self.error(d, span);
        }
        let moved = order
            .into_iter()
            .map(|i| Moved {
                from: moves[i].0.clone(),
                to: moves[i].1.clone(),
                span: self.sources.span(moves[i].2),
            })
            .collect();
        let mut removed = Vec::new();
        for (from, span, destroy, header) in raw.removed {
            if from.mode == Mode::Data {
                let d = Diagnostic::error("Data source address is not allowed")
                    .with_help("removed blocks name managed resources; a data source no longer declared is simply not read");
                self.error(d, span);
                continue;
            }
            if self.declared(&from) {
                let d = Diagnostic::error("Removed resource still exists")
                    .with_detail(format!(
                        "this statement declares that {from} was removed, but it is still declared in the configuration"
                    ))
                    .with_help(format!("remove the resource block {from}, or remove this removed block"));
                self.error(d, span);
                continue;
            }
            removed.push(Removed {
                from,
                destroy,
                span: self.sources.span(header),
            });
        }
        (moved, removed)
    }
}
