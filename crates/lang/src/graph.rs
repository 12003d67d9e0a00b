//! Static references of expressions, cycle detection and topological order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use tunnelform_model::Mode;

use tunnelform_syntax::ast::{Expr, ExprKind, ObjKey, OpKind, TemplatePart, TraverseOp};
use tunnelform_syntax::BSpan;

#[derive(Debug, Clone)]
pub enum RefKind<'a> {
    Var(&'a str),
    Local(&'a str),
    Resource {
        mode: Mode,
        type_name: &'a str,
        name: &'a str,
        rest: &'a [TraverseOp],
    },
    Each,
    Count,
    /// `path.*`, `terraform.workspace`.
    Builtin,
    /// Not a valid reference; the message says why.
    Invalid {
        summary: String,
        help: String,
    },
}

#[derive(Debug, Clone)]
pub struct RefUse<'a> {
    pub kind: RefKind<'a>,
    /// The whole reference (root and its static attributes).
    pub span: BSpan,
    /// Inside a `for` expression or a dynamic block (iterator variables are in scope).
    pub in_for: bool,
}

/// Every reference in `e` (names bound by for expressions and in `bound` excluded).
pub fn collect_refs<'a>(e: &'a Expr, bound: &[&'a str], out: &mut Vec<RefUse<'a>>) {
    let mut bound = bound.to_vec();
    visit(e, &mut bound, out);
}

fn visit<'a>(e: &'a Expr, bound: &mut Vec<&'a str>, out: &mut Vec<RefUse<'a>>) {
    match &e.kind {
        ExprKind::Literal(_) => {}
        ExprKind::Var(name) => classify(name, &[], e.span, bound, out),
        ExprKind::Traversal(base, ops) => {
            match &base.kind {
                ExprKind::Var(name) => classify(name, ops, base.span, bound, out),
                _ => visit(base, bound, out),
            }
            for op in ops {
                if let OpKind::Index(ie) = &op.kind {
                    visit(ie, bound, out);
                }
            }
        }
        ExprKind::Tuple(items) => items.iter().for_each(|i| visit(i, bound, out)),
        ExprKind::Object(items) => {
            for (k, v) in items {
                if let ObjKey::Expr(k) = k {
                    visit(k, bound, out);
                }
                visit(v, bound, out);
            }
        }
        ExprKind::Template(parts) => visit_parts(parts, bound, out),
        ExprKind::Call { args, .. } => args.iter().for_each(|a| visit(a, bound, out)),
        ExprKind::Unary(_, a) => visit(a, bound, out),
        ExprKind::Binary(_, a, b) => {
            visit(a, bound, out);
            visit(b, bound, out);
        }
        ExprKind::Cond(a, b, c) => {
            visit(a, bound, out);
            visit(b, bound, out);
            visit(c, bound, out);
        }
        ExprKind::For(fe) => {
            visit(&fe.coll, bound, out);
            let n = bound.len();
            if let Some(k) = &fe.key_var {
                bound.push(k);
            }
            bound.push(&fe.value_var);
            if let Some(k) = &fe.key_expr {
                visit(k, bound, out);
            }
            visit(&fe.value_expr, bound, out);
            if let Some(c) = &fe.cond {
                visit(c, bound, out);
            }
            bound.truncate(n);
        }
    }
}

fn visit_parts<'a>(parts: &'a [TemplatePart], bound: &mut Vec<&'a str>, out: &mut Vec<RefUse<'a>>) {
    for p in parts {
        match p {
            TemplatePart::Lit(_) => {}
            TemplatePart::Interp(e) => visit(e, bound, out),
            TemplatePart::If { cond, then, els } => {
                visit(cond, bound, out);
                visit_parts(then, bound, out);
                visit_parts(els, bound, out);
            }
            TemplatePart::For {
                key,
                value,
                coll,
                body,
            } => {
                visit(coll, bound, out);
                let n = bound.len();
                if let Some(k) = key {
                    bound.push(k);
                }
                bound.push(value);
                visit_parts(body, bound, out);
                bound.truncate(n);
            }
        }
    }
}

fn attr_at(ops: &[TraverseOp], i: usize) -> Option<(&str, BSpan)> {
    match ops.get(i) {
        Some(TraverseOp {
            kind: OpKind::Attr(a),
            span,
        }) => Some((a.as_str(), *span)),
        _ => None,
    }
}

fn classify<'a>(
    name: &'a str,
    ops: &'a [TraverseOp],
    span: BSpan,
    bound: &[&'a str],
    out: &mut Vec<RefUse<'a>>,
) {
    if bound.contains(&name) {
        return;
    }
    let upto = |n: usize| ops.iter().take(n).fold(span, |s, o| s.to(o.span));
    let invalid = |summary: String, help: String| RefKind::Invalid { summary, help };
    let (kind, span) = match name {
        "var" => match attr_at(ops, 0) {
            Some((v, _)) => (RefKind::Var(v), upto(1)),
            None => (
                invalid("Invalid reference \"var\"".into(), "write var.NAME".into()),
                span,
            ),
        },
        "local" => match attr_at(ops, 0) {
            Some((v, _)) => (RefKind::Local(v), upto(1)),
            None => (
                invalid(
                    "Invalid reference \"local\"".into(),
                    "write local.NAME".into(),
                ),
                span,
            ),
        },
        "each" => (RefKind::Each, upto(1)),
        "count" => (RefKind::Count, upto(1)),
        "path" | "terraform" => (RefKind::Builtin, upto(1)),
        "self" => (
            invalid(
                "\"self\" is not supported".into(),
                "self is only meaningful in provisioners".into(),
            ),
            span,
        ),
        "module" => (
            invalid(
                "Modules are not supported".into(),
                "tunnelform loads one directory of *.tf files".into(),
            ),
            upto(1),
        ),
        "data" | "resource" => match (attr_at(ops, 0), attr_at(ops, 1)) {
            (Some((t, _)), Some((n, _))) => (
                RefKind::Resource {
                    mode: if name == "data" {
                        Mode::Data
                    } else {
                        Mode::Managed
                    },
                    type_name: t,
                    name: n,
                    rest: &ops[2..],
                },
                upto(2),
            ),
            _ => (
                invalid(
                    format!("Invalid reference \"{name}\""),
                    format!("write {name}.TYPE.NAME"),
                ),
                upto(ops.len()),
            ),
        },
        _ => match attr_at(ops, 0) {
            Some((n, _)) if name.contains('_') => (
                RefKind::Resource {
                    mode: Mode::Managed,
                    type_name: name,
                    name: n,
                    rest: &ops[1..],
                },
                upto(1),
            ),
            _ => {
                let hint = crate::suggest::did_you_mean(
                    name,
                    bound
                        .iter()
                        .copied()
                        .chain(["var", "local", "each", "count", "path", "data"]),
                );
                (
                    invalid(
                        format!("Unknown variable \"{name}\""),
                        hint.unwrap_or_else(|| {
                            "references start with var., local., each., count., data. or a resource type".into()
                        }),
                    ),
                    span,
                )
            }
        },
    };
    out.push(RefUse {
        kind,
        span,
        in_for: !bound.is_empty(),
    });
}

/// Strongly connected components that form cycles (more than one node, or a self-loop), each
/// in a stable order. Iterative Tarjan: no recursion on hostile graphs.
pub fn find_cycles(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = adj.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut next = 0usize;
    let mut out = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge position)
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(top) = call.last_mut() {
            let v = top.0;
            if top.1 < adj[v].len() {
                let w = adj[v][top.1];
                top.1 += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if comp.len() > 1 || adj[v].contains(&v) {
                        comp.sort_unstable();
                        out.push(comp);
                    }
                }
            }
        }
    }
    out.sort();
    out
}

/// Orders `nodes` so that each comes after its dependencies (`deps[v]`, restricted to `nodes`),
/// preferring lower indices (source order) among the ready ones. Nodes on cycles are left out.
pub fn topo_order(deps: &[Vec<usize>], nodes: &[usize]) -> Vec<usize> {
    let n = deps.len();
    let mut member = vec![false; n];
    for &v in nodes {
        member[v] = true;
    }
    let mut pending = vec![0usize; n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &v in nodes {
        let mut ds: Vec<usize> = deps[v].iter().copied().filter(|&d| member[d]).collect();
        ds.sort_unstable();
        ds.dedup();
        pending[v] = ds.len();
        for d in ds {
            dependents[d].push(v);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = nodes
        .iter()
        .copied()
        .filter(|&v| pending[v] == 0)
        .map(Reverse)
        .collect();
    let mut out = Vec::with_capacity(nodes.len());
    while let Some(Reverse(v)) = ready.pop() {
        out.push(v);
        for &w in &dependents[v] {
            pending[w] -= 1;
            if pending[w] == 0 {
                ready.push(Reverse(w));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_and_order() {
        // 0 -> 1 -> 2 -> 0, 3 -> 3, 4 -> 0
        let adj = vec![vec![1], vec![2], vec![0], vec![3], vec![0]];
        assert_eq!(find_cycles(&adj), vec![vec![0, 1, 2], vec![3]]);
        let deps = vec![vec![], vec![0], vec![0, 1], vec![]];
        assert_eq!(topo_order(&deps, &[0, 1, 2, 3]), vec![0, 1, 2, 3]);
        let deps = vec![vec![2], vec![], vec![1]];
        assert_eq!(topo_order(&deps, &[0, 1, 2]), vec![1, 2, 0]);
    }

    #[test]
    fn long_chain_does_not_recurse() {
        let n = 200_000;
        let adj: Vec<Vec<usize>> = (0..n)
            .map(|i| if i + 1 < n { vec![i + 1] } else { vec![0] })
            .collect();
        let cycles = find_cycles(&adj);
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), n);
    }
}
