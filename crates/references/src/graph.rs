//! The dependency graph of locals and blocks: its nodes are the locals (indexes `0..n_locals`)
//! then the blocks (`n_locals + block`); an edge goes from a node to each node it reads.

use std::collections::BTreeSet;
use std::sync::Arc;

use tunnelform_instances::loaded::BlockDeps;
use tunnelform_lang::graph::{self as refs, find_cycles, topo_order};
use tunnelform_model::{Address, Diagnostic};
use tunnelform_syntax::ast::Expr;

use crate::{block_exprs, Ctx, Declarations};

/// Entries in dependency sets across all locals and blocks (guards against quadratic blow-up).
const MAX_DEP_ENTRIES: usize = 20_000_000;

/// The references of the locals and blocks, checked, as a graph.
pub struct Graph {
    n_locals: usize,
    /// The nodes each node reads (locals directly, blocks directly or through `depends_on`).
    adj: Vec<Vec<usize>>,
    /// The blocks each node names itself.
    direct_blocks: Vec<Vec<usize>>,
    /// The blocks each block names in `depends_on`.
    explicit_blocks: Vec<Vec<usize>>,
}

/// The graph's answers once its cycles are reported.
#[derive(Debug)]
pub struct Dependencies {
    /// Per local: it depends on a resource (directly or through other locals), or on a cycle.
    pub impure: Vec<bool>,
    /// Per block.
    pub blocks: Vec<BlockDeps>,
    /// The locals outside cycles, each after those it reads.
    pub local_order: Vec<usize>,
    /// The blocks outside cycles, each after those it depends on.
    pub order: Vec<usize>,
}

impl Graph {
    /// Checks every reference of the locals and blocks (diagnostics into `diags`) and builds the
    /// graph. `depends_raw[b]` are block `b`'s `depends_on` expressions.
    pub fn build(
        decl: &Declarations<'_>,
        depends_raw: &[Vec<Expr>],
        diags: &mut Vec<Diagnostic>,
    ) -> Graph {
        let n_locals = decl.locals.len();
        let n_blocks = decl.blocks.len();
        let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n_locals + n_blocks];
        let mut direct_blocks: Vec<Vec<usize>> = vec![Vec::new(); n_locals + n_blocks];
        for (i, local) in decl.locals.iter().enumerate() {
            let mut found = Vec::new();
            refs::collect_refs(&local.expr, &[], &mut found);
            let (ls, bs) = decl.check(&found, None, Ctx::Body, diags);
            adj[i].extend(ls.iter().copied());
            adj[i].extend(bs.iter().map(|b| n_locals + b));
            direct_blocks[i] = bs;
        }
        let mut explicit_blocks: Vec<Vec<usize>> = vec![Vec::new(); n_blocks];
        for bi in 0..n_blocks {
            let mut locals_used = Vec::new();
            let mut blocks_used = Vec::new();
            for (e, bound, ctx) in block_exprs(&decl.blocks[bi]) {
                let mut found = Vec::new();
                refs::collect_refs(e, &bound, &mut found);
                let (ls, bs) = decl.check(&found, Some(bi), ctx, diags);
                locals_used.extend(ls);
                blocks_used.extend(bs);
            }
            for e in depends_raw.get(bi).into_iter().flatten() {
                let named = decl.depends_on(e, diags);
                explicit_blocks[bi].extend(named.iter().copied());
                blocks_used.extend(named);
            }
            let node = n_locals + bi;
            adj[node].extend(locals_used.iter().copied());
            adj[node].extend(blocks_used.iter().map(|b| n_locals + b));
            direct_blocks[node] = blocks_used;
        }
        Graph {
            n_locals,
            adj,
            direct_blocks,
            explicit_blocks,
        }
    }

    /// Per block: another block or a local reads its values.
    pub fn referenced(&self) -> Vec<bool> {
        let mut referenced = vec![false; self.explicit_blocks.len()];
        for (v, bs) in self.direct_blocks.iter().enumerate() {
            for &b in bs {
                if v != self.n_locals + b {
                    referenced[b] = true;
                }
            }
        }
        referenced
    }

    fn node_name(&self, decl: &Declarations<'_>, v: usize) -> String {
        if v < self.n_locals {
            format!("local.{}", decl.locals[v].name)
        } else {
            decl.blocks[v - self.n_locals].addr.to_string()
        }
    }

    fn node_span(&self, decl: &Declarations<'_>, v: usize) -> tunnelform_syntax::BSpan {
        if v < self.n_locals {
            decl.locals[v].name_span
        } else {
            decl.blocks[v - self.n_locals].header
        }
    }

    /// Reports each cycle (one diagnostic naming its members and where they are); returns which
    /// nodes are in one.
    fn cycles(&self, decl: &Declarations<'_>, diags: &mut Vec<Diagnostic>) -> Vec<bool> {
        let mut in_cycle = vec![false; self.adj.len()];
        for c in find_cycles(&self.adj) {
            let names: Vec<String> = c.iter().map(|&v| self.node_name(decl, v)).collect();
            let others: Vec<String> = c[1..]
                .iter()
                .map(|&v| {
                    let at = decl.sources.span(self.node_span(decl, v));
                    format!("{} at {at}", self.node_name(decl, v))
                })
                .collect();
            let d = Diagnostic::error(format!("Cycle: {}", names.join(", ")))
                .with_detail(if others.is_empty() {
                    format!("{} refers to itself", names[0])
                } else {
                    format!("{} depend on each other ({})", names.join(" and "), others.join("; "))
                })
                .with_help("a value cannot depend on itself: break the cycle by removing one of the references");
            diags.push(decl.sources.locate(d, self.node_span(decl, c[0])));
            for &v in &c {
                in_cycle[v] = true;
            }
        }
        in_cycle
    }

    /// Reports the cycles, then follows the edges through locals: each block's dependencies and
    /// the evaluation orders.
    pub fn dependencies(
        &self,
        decl: &Declarations<'_>,
        diags: &mut Vec<Diagnostic>,
    ) -> Dependencies {
        let n_locals = self.n_locals;
        let n_blocks = decl.blocks.len();
        let adj = &self.adj;
        let in_cycle = self.cycles(decl, diags);

        // Transitive block dependencies through locals, in dependency order.
        let all_nodes: Vec<usize> = (0..adj.len()).filter(|v| !in_cycle[*v]).collect();
        let order_all = topo_order(adj, &all_nodes);
        let mut dep_sets: Vec<Option<Arc<BTreeSet<usize>>>> = vec![None; adj.len()];
        let mut budget = MAX_DEP_ENTRIES;
        let mut too_complex = false;
        for &v in &order_all {
            let mut set: Option<Arc<BTreeSet<usize>>> = None;
            let mut own: BTreeSet<usize> = self.direct_blocks[v].iter().copied().collect();
            for &w in &adj[v] {
                if w < n_locals {
                    if let Some(s) = &dep_sets[w] {
                        if set.is_none() && own.is_empty() {
                            set = Some(s.clone());
                        } else {
                            budget = budget.saturating_sub(s.len());
                            own.extend(s.iter().copied());
                        }
                    }
                }
            }
            if budget == 0 {
                too_complex = true;
                break;
            }
            let merged = match set {
                Some(s) if own.is_subset(&s) => s,
                Some(s) => {
                    budget = budget.saturating_sub(s.len());
                    own.extend(s.iter().copied());
                    Arc::new(own)
                }
                None => Arc::new(own),
            };
            dep_sets[v] = Some(merged);
        }
        if too_complex {
            diags.push(
                Diagnostic::error("Configuration too complex")
                    .with_detail(
                        "the dependencies between locals and resources are too many to analyse",
                    )
                    .with_help("simplify the chains of locals"),
            );
        }
        let impure: Vec<bool> = (0..n_locals)
            .map(|i| dep_sets[i].as_ref().is_none_or(|s| !s.is_empty()))
            .collect();
        let addrs_of = |blocks: &mut dyn Iterator<Item = usize>| -> Vec<Address> {
            let mut addrs: Vec<Address> = blocks.map(|b| decl.blocks[b].addr.clone()).collect();
            addrs.sort();
            addrs
        };
        let mut blocks = Vec::with_capacity(n_blocks);
        for bi in 0..n_blocks {
            let set: Vec<usize> = dep_sets[n_locals + bi]
                .as_ref()
                .map(|s| s.iter().copied().filter(|&b| b != bi).collect())
                .unwrap_or_default();
            // Blocks also reached through locals or depends_on stay whole-block dependencies.
            let mut whole: BTreeSet<usize> = self.explicit_blocks[bi].iter().copied().collect();
            for &w in &adj[n_locals + bi] {
                if w < n_locals {
                    if let Some(s) = &dep_sets[w] {
                        whole.extend(s.iter().copied());
                    }
                }
            }
            let key_refs = decl.key_refs(bi, &whole, &impure);
            let keyed: BTreeSet<usize> = key_refs.iter().map(|(b, _)| *b).collect();
            let mut explicit_deps = addrs_of(
                &mut self.explicit_blocks[bi]
                    .iter()
                    .copied()
                    .filter(|&b| b != bi),
            );
            explicit_deps.dedup();
            blocks.push(BlockDeps {
                depends_on: addrs_of(&mut set.iter().copied()),
                coarse_deps: addrs_of(&mut set.iter().copied().filter(|b| !keyed.contains(b))),
                key_refs,
                traced: adj[n_locals + bi]
                    .iter()
                    .any(|&w| w < n_locals && impure[w]),
                explicit_deps,
                dep_blocks: set,
            });
        }
        let local_nodes: Vec<usize> = (0..n_locals).filter(|v| !in_cycle[*v]).collect();
        let local_order = topo_order(adj, &local_nodes);
        let block_nodes: Vec<usize> = (0..n_blocks).filter(|b| !in_cycle[n_locals + b]).collect();
        let block_deps: Vec<Vec<usize>> = blocks.iter().map(|b| b.dep_blocks.clone()).collect();
        let order = topo_order(&block_deps, &block_nodes);
        Dependencies {
            impure,
            blocks,
            local_order,
            order,
        }
    }
}
