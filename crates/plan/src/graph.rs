//! The execution graph: one node per step, an edge `a -> b` when `a` must finish before `b` starts.
//!
//! Edges come from
//! 1. references and `depends_on`: a dependency's create/update before the dependent's;
//! 2. deletes in reverse: a dependent's delete before its dependency's delete (also by remote id:
//!    a tunnel that names a gateway is deleted before that gateway);
//! 3. replacement order: delete then create (default) or create then delete (create_before_destroy,
//!    with dependents moved to the new object before the old one goes);
//! 4. conflicts the API rejects mid-apply: on one VPN gateway, an SPD range or a BGP tunnel range
//!    (or the one-tunnel-per-customer-gateway rule) released by one tunnel before another claims it.

use std::collections::{BTreeSet, HashMap};

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use tunnelform_kinds::{Claim, Held, Kind};
use tunnelform_model::{Address, Value};

use serde::{Deserialize, Serialize};

use crate::types::{Action, Attrs, Plan, ResourceChange};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Create,
    Update,
    Delete,
    /// Read a data source whose arguments were unknown at plan time.
    Read,
    /// Record an imported object in state (no write to the cloud).
    Import,
    /// The new object of a replacement.
    CreateReplacement,
    /// The old object of a replacement.
    DeleteReplaced,
}

impl StepKind {
    pub fn is_delete(self) -> bool {
        matches!(self, StepKind::Delete | StepKind::DeleteReplaced)
    }
}

/// One unit of work: a step of the change at `change` (an index into `Plan::changes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Step {
    pub change: usize,
    pub kind: StepKind,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GraphError {
    #[error("{address} cannot be replaced with create_before_destroy: {reason}. Remove create_before_destroy from its lifecycle block (the old tunnel is then deleted first), or change what it conflicts with")]
    CreateBeforeDestroyConflict { address: String, reason: String },
    #[error("dependency cycle between {}: each must be changed before the other. Break the cycle (remove a reference or depends_on, or split the change into two applies)", .0.join(", "))]
    Cycle(Vec<String>),
    #[error("the plan's execution graph does not fit its changes ({0}): the plan file was edited or damaged. Run `tunnelform plan --out FILE` again")]
    Damaged(String),
}

/// The execution graph as plain data, made once by the plan and saved with it: the steps (a
/// change's index and the step) and the edges between them (indices into `steps`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphData {
    pub steps: Vec<(usize, StepKind)>,
    pub edges: Vec<(u32, u32)>,
}

/// The steps of a plan and their order.
#[derive(Debug, Clone)]
pub struct ExecGraph {
    pub graph: DiGraph<Step, ()>,
}

impl ExecGraph {
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// Steps in an order that respects every edge.
    pub fn ordered(&self) -> Vec<NodeIndex> {
        toposort(&self.graph, None).unwrap_or_default()
    }

    pub fn step(&self, n: NodeIndex) -> Step {
        self.graph[n]
    }

    pub fn dependencies(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph.neighbors_directed(n, Direction::Incoming)
    }

    pub fn dependents(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph.neighbors_directed(n, Direction::Outgoing)
    }

    /// Whether `a` must finish before `b` starts (directly or through other steps).
    pub fn precedes(&self, a: NodeIndex, b: NodeIndex) -> bool {
        petgraph::algo::has_path_connecting(&self.graph, a, b, None)
    }

    /// The graph as plain data ([`GraphData`]).
    pub fn to_data(&self) -> GraphData {
        GraphData {
            steps: self
                .graph
                .node_weights()
                .map(|s| (s.change, s.kind))
                .collect(),
            edges: self
                .graph
                .edge_indices()
                .filter_map(|e| self.graph.edge_endpoints(e))
                .map(|(a, b)| (a.index() as u32, b.index() as u32))
                .collect(),
        }
    }

    /// The graph saved with `plan`, checked against it: every step names one of its changes,
    /// every edge two of its steps, and no cycle.
    pub fn from_data(data: &GraphData, plan: &Plan) -> Result<ExecGraph, GraphError> {
        let mut g: DiGraph<Step, ()> = DiGraph::with_capacity(data.steps.len(), data.edges.len());
        for &(change, kind) in &data.steps {
            if change >= plan.changes.len() {
                return Err(GraphError::Damaged(format!(
                    "a step names change {change} of {}",
                    plan.changes.len()
                )));
            }
            g.add_node(Step { change, kind });
        }
        for &(a, b) in &data.edges {
            if a as usize >= data.steps.len() || b as usize >= data.steps.len() {
                return Err(GraphError::Damaged(format!(
                    "an edge names step {} of {}",
                    a.max(b),
                    data.steps.len()
                )));
            }
            g.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), ());
        }
        if toposort(&g, None).is_err() {
            return Err(GraphError::Damaged("its edges make a cycle".into()));
        }
        Ok(ExecGraph { graph: g })
    }

    pub fn find(&self, change: usize, kind: StepKind) -> Option<NodeIndex> {
        self.graph
            .node_indices()
            .find(|&n| self.graph[n] == Step { change, kind })
    }
}

#[derive(Default)]
struct Nodes {
    forward: HashMap<usize, NodeIndex>,
    delete: HashMap<usize, NodeIndex>,
}

/// Builds the execution graph of a plan.
pub fn build_graph(plan: &Plan) -> Result<ExecGraph, GraphError> {
    let mut g: DiGraph<Step, ()> = DiGraph::new();
    let mut nodes = Nodes::default();
    let changes = &plan.changes;

    for (i, c) in changes.iter().enumerate() {
        let mut add = |kind| g.add_node(Step { change: i, kind });
        match c.action {
            Action::Create => {
                nodes.forward.insert(i, add(StepKind::Create));
            }
            Action::Update => {
                nodes.forward.insert(i, add(StepKind::Update));
            }
            Action::Read => {
                nodes.forward.insert(i, add(StepKind::Read));
            }
            Action::Delete => {
                nodes.delete.insert(i, add(StepKind::Delete));
            }
            Action::Replace {
                create_before_destroy,
            } => {
                let create = add(StepKind::CreateReplacement);
                let delete = add(StepKind::DeleteReplaced);
                nodes.forward.insert(i, create);
                nodes.delete.insert(i, delete);
                if create_before_destroy {
                    g.add_edge(create, delete, ());
                } else {
                    g.add_edge(delete, create, ());
                }
            }
            Action::NoOp => {
                if c.importing.is_some() {
                    nodes.forward.insert(i, add(StepKind::Import));
                }
            }
        }
    }

    // Index changes by block address and by remote id.
    let mut by_block: HashMap<Address, Vec<usize>> = HashMap::new();
    let mut by_addr: HashMap<&Address, usize> = HashMap::new();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        by_block.entry(c.address.resource()).or_default().push(i);
        if !c.deposed {
            by_addr.insert(&c.address, i);
        }
        if let Some(id) = c.id.as_deref() {
            by_id.insert(id, i);
        }
    }

    // Edges already present: a set, because `find_edge` scans a node's edges and a gateway of a large
    // for_each has thousands (quadratic planning otherwise).
    let mut present: std::collections::HashSet<(NodeIndex, NodeIndex)> = g
        .edge_indices()
        .filter_map(|e| g.edge_endpoints(e))
        .collect();
    let mut edge = |g: &mut DiGraph<Step, ()>, a: NodeIndex, b: NodeIndex| {
        if a != b && present.insert((a, b)) {
            g.add_edge(a, b, ());
        }
    };

    for (i, c) in changes.iter().enumerate() {
        // A change with no step (a no-op) orders nothing: every edge below starts or ends at one
        // of its own steps.
        if !nodes.forward.contains_key(&i) && !nodes.delete.contains_key(&i) {
            continue;
        }
        // Dependencies named in configuration or prior state, plus ids the object points at.
        let mut deps: BTreeSet<usize> = BTreeSet::new();
        for d in &c.depends_on {
            if d.key.is_some() {
                // One instance of a count / for_each block.
                deps.extend(by_addr.get(d).copied().filter(|&j| j != i));
            } else if let Some(list) = by_block.get(d) {
                deps.extend(list.iter().copied().filter(|&j| j != i));
            }
        }
        for attrs in [c.before.as_ref(), c.after.as_ref()].into_iter().flatten() {
            for key in ["vpn_gateway_id", "customer_gateway_id"] {
                if let Some(j) = attrs
                    .get(key)
                    .and_then(Value::as_str)
                    .and_then(|id| by_id.get(id))
                {
                    if *j != i {
                        deps.insert(*j);
                    }
                }
            }
        }
        for j in deps {
            // 1. forward after the dependency's forward step.
            if let (Some(&dep), Some(&me)) = (nodes.forward.get(&j), nodes.forward.get(&i)) {
                edge(&mut g, dep, me);
            }
            // 2. deletes in reverse order.
            if let (Some(&me), Some(&dep)) = (nodes.delete.get(&i), nodes.delete.get(&j)) {
                edge(&mut g, me, dep);
            }
            // 3. create_before_destroy: move dependents to the new object before the old goes.
            if matches!(
                changes[j].action,
                Action::Replace {
                    create_before_destroy: true
                }
            ) {
                if let (Some(&me), Some(&old)) = (nodes.forward.get(&i), nodes.delete.get(&j)) {
                    edge(&mut g, me, old);
                }
            }
        }
    }

    // 4. Exclusive claims (ranges on a gateway, one tunnel per pair): release before claim.
    let holders: Vec<(usize, &ResourceChange, &'static dyn Kind)> = changes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((i, c, c.kind.managed()?.def())))
        .collect();
    let claims: Vec<(usize, Vec<Claim>)> = holders
        .iter()
        .filter(|(i, _, _)| nodes.forward.contains_key(i))
        .map(|&(i, c, k)| (i, claimed(k, c.after.as_deref(), released_base(c))))
        .filter(|(_, cl)| !cl.is_empty())
        .collect();
    for &(i, c, k) in &holders {
        let release_node = match (nodes.delete.get(&i), nodes.forward.get(&i), c.action) {
            (Some(&d), _, _) => d,
            (None, Some(&f), Action::Update) => f,
            _ => continue,
        };
        let released = released(k, c);
        if released.is_empty() {
            continue;
        }
        for (j, claim) in &claims {
            if *j == i {
                continue;
            }
            if conflict(&released, claim, k.noun()).is_some() {
                if let Some(&claim_node) = nodes.forward.get(j) {
                    edge(&mut g, release_node, claim_node);
                }
            }
        }
    }

    // An object replaced new-first would hold what its old self still holds: the API refuses that.
    for &(_, c, k) in &holders {
        if c.action
            != (Action::Replace {
                create_before_destroy: true,
            })
        {
            continue;
        }
        let old = released(k, c);
        let new = claimed(k, c.after.as_deref(), None);
        if let Some(reason) = conflict(&old, &new, k.noun()) {
            return Err(GraphError::CreateBeforeDestroyConflict {
                address: c.address.to_string(),
                reason,
            });
        }
    }

    if let Err(cycle) = toposort(&g, None) {
        let start = cycle.node_id();
        let scc = tarjan_scc(&g)
            .into_iter()
            .find(|scc| scc.contains(&start))
            .unwrap_or_else(|| vec![start]);
        let mut names: Vec<String> = scc
            .iter()
            .map(|&n| changes[g[n].change].address.to_string())
            .collect();
        names.sort();
        names.dedup();
        return Err(GraphError::Cycle(names));
    }
    Ok(ExecGraph { graph: g })
}

/// For an update, what it keeps does not count as newly claimed.
fn released_base(c: &ResourceChange) -> Option<&Attrs> {
    match c.action {
        Action::Update => c.before.as_deref(),
        _ => None,
    }
}

/// What an object newly claims: its claims in `after`, minus those it already held (`base`).
fn claimed(kind: &dyn Kind, after: Option<&Attrs>, base: Option<&Attrs>) -> Vec<Claim> {
    let Some(after) = after else {
        return Vec::new();
    };
    let mut claims = kind.claims(after);
    if let Some(base) = base {
        let old = kind.claims(base);
        claims.retain(|c| !old.contains(c));
    }
    claims
}

/// What a change gives up: everything for a delete, what disappears for an update.
fn released(kind: &dyn Kind, c: &ResourceChange) -> Vec<Claim> {
    let Some(before) = c.before.as_ref() else {
        return Vec::new();
    };
    let mut claims = kind.claims(before);
    if c.action == Action::Update {
        if let Some(after) = c.after.as_ref() {
            let kept = kind.claims(after);
            claims.retain(|c| !kept.contains(c));
        }
    }
    claims
}

/// Why holding `held` and `wanted` at once is refused, if it is: a single thing held twice
/// first, then overlapping ranges.
fn conflict(held: &[Claim], wanted: &[Claim], noun: &str) -> Option<String> {
    let single = |c: &&Claim| matches!(c.held, Held::One { .. });
    let held_first = held
        .iter()
        .filter(single)
        .chain(held.iter().filter(|c| !single(c)));
    held_first
        .flat_map(|h| wanted.iter().map(move |w| (h, w)))
        .find_map(|(h, w)| h.conflict(w, noun))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ObjectKind;
    use crate::types::{Reason, SharedAttrs};
    use tunnelform_kinds::ResourceKind;
    use tunnelform_model::Map;

    fn change(
        addr: &str,
        kind: ResourceKind,
        action: Action,
        id: Option<&str>,
        before: Option<Attrs>,
        after: Option<Attrs>,
        deps: &[&str],
    ) -> ResourceChange {
        ResourceChange {
            address: addr.parse().unwrap(),
            kind: ObjectKind::Managed(kind),
            region: "ap-guangzhou".into(),
            provider_alias: None,
            action,
            id: id.map(str::to_string),
            before: before.map(SharedAttrs::new),
            after: after.map(SharedAttrs::new),
            changed: vec![],
            replace_paths: vec![],
            reasons: vec![Reason::NewInConfiguration],
            importing: None,
            depends_on: deps.iter().map(|d| d.parse().unwrap()).collect(),
            deposed: false,
            moved_from: None,
            forget: false,
        }
    }

    fn tunnel_attrs(gw: &str, cgw: &str, remotes: &[&str]) -> Attrs {
        Map::from([
            ("vpn_gateway_id".to_string(), Value::from(gw)),
            ("customer_gateway_id".to_string(), Value::from(cgw)),
            (
                "security_group_policy".to_string(),
                Value::List(vec![Value::Map(Map::from([
                    ("local_cidr_block".to_string(), Value::from("10.0.0.0/24")),
                    (
                        "remote_cidr_block".to_string(),
                        Value::List(remotes.iter().map(|r| Value::from(*r)).collect()),
                    ),
                ]))]),
            ),
        ])
    }

    fn plan(changes: Vec<ResourceChange>) -> Plan {
        let mut p = Plan::new("test");
        p.changes = changes;
        p
    }

    fn node(g: &ExecGraph, p: &Plan, addr: &str, kind: StepKind) -> NodeIndex {
        let i = p
            .changes
            .iter()
            .position(|c| c.address.to_string() == addr)
            .unwrap();
        g.find(i, kind).unwrap()
    }

    #[test]
    fn creates_follow_references_and_deletes_go_in_reverse() {
        let p = plan(vec![
            change(
                "tencentcloud_vpn_gateway.gw",
                ResourceKind::VpnGateway,
                Action::Create,
                None,
                None,
                None,
                &[],
            ),
            change(
                "tencentcloud_vpn_connection.t",
                ResourceKind::VpnConnection,
                Action::Create,
                None,
                None,
                None,
                &["tencentcloud_vpn_gateway.gw"],
            ),
            change(
                "tencentcloud_vpn_customer_gateway.old",
                ResourceKind::CustomerGateway,
                Action::Delete,
                Some("cgw-old"),
                Some(Map::new()),
                None,
                &[],
            ),
            change(
                "tencentcloud_vpn_connection.old",
                ResourceKind::VpnConnection,
                Action::Delete,
                Some("vpnx-old"),
                Some(tunnel_attrs("vpngw-x", "cgw-old", &[])),
                None,
                &[],
            ),
        ]);
        let g = build_graph(&p).unwrap();
        assert!(g.precedes(
            node(&g, &p, "tencentcloud_vpn_gateway.gw", StepKind::Create),
            node(&g, &p, "tencentcloud_vpn_connection.t", StepKind::Create)
        ));
        // Found by remote id, no depends_on needed.
        assert!(g.precedes(
            node(&g, &p, "tencentcloud_vpn_connection.old", StepKind::Delete),
            node(
                &g,
                &p,
                "tencentcloud_vpn_customer_gateway.old",
                StepKind::Delete
            )
        ));
        // Independent work is not ordered.
        assert!(!g.precedes(
            node(&g, &p, "tencentcloud_vpn_gateway.gw", StepKind::Create),
            node(&g, &p, "tencentcloud_vpn_connection.old", StepKind::Delete)
        ));
    }

    #[test]
    fn the_graph_travels_with_the_plan_and_a_damaged_one_is_refused() {
        let mut p = plan(vec![
            change(
                "tencentcloud_vpn_gateway.gw",
                ResourceKind::VpnGateway,
                Action::Create,
                None,
                None,
                None,
                &[],
            ),
            change(
                "tencentcloud_vpn_connection.t",
                ResourceKind::VpnConnection,
                Action::Create,
                None,
                None,
                None,
                &["tencentcloud_vpn_gateway.gw"],
            ),
        ]);
        let built = build_graph(&p).unwrap();
        p.graph = Some(built.to_data());
        // Saved and read back (as a plan file is), the same steps in the same order.
        let json = serde_json::to_string(&p).unwrap();
        let back: Plan = serde_json::from_str(&json).unwrap();
        let g = ExecGraph::from_data(back.graph.as_ref().unwrap(), &back).unwrap();
        assert_eq!(g.to_data(), built.to_data());
        assert!(g.precedes(
            node(&g, &back, "tencentcloud_vpn_gateway.gw", StepKind::Create),
            node(&g, &back, "tencentcloud_vpn_connection.t", StepKind::Create)
        ));
        // A plan file whose graph was edited: a step of a change it does not have, an edge to
        // nowhere, a cycle.
        let mut bad = built.to_data();
        bad.steps[0].0 = 7;
        assert!(matches!(
            ExecGraph::from_data(&bad, &p),
            Err(GraphError::Damaged(_))
        ));
        let mut bad = built.to_data();
        bad.edges.push((0, 9));
        assert!(matches!(
            ExecGraph::from_data(&bad, &p),
            Err(GraphError::Damaged(_))
        ));
        let mut bad = built.to_data();
        let (a, b) = bad.edges[0];
        bad.edges.push((b, a));
        let err = ExecGraph::from_data(&bad, &p).unwrap_err();
        assert!(err.to_string().contains("edited or damaged"), "{err}");
    }

    #[test]
    fn an_instance_dependency_waits_for_that_instance_only_and_a_block_dependency_for_all() {
        let gw = |k: &str| {
            change(
                &format!("tencentcloud_vpn_gateway.gw[\"{k}\"]"),
                ResourceKind::VpnGateway,
                Action::Create,
                None,
                None,
                None,
                &[],
            )
        };
        let tunnel = |name: &str, dep: &str| {
            change(
                &format!("tencentcloud_vpn_connection.{name}"),
                ResourceKind::VpnConnection,
                Action::Create,
                None,
                None,
                None,
                &[dep],
            )
        };
        let p = plan(vec![
            gw("a"),
            gw("b"),
            tunnel("on_a", "tencentcloud_vpn_gateway.gw[\"a\"]"),
            tunnel("on_all", "tencentcloud_vpn_gateway.gw"),
        ]);
        let g = build_graph(&p).unwrap();
        let create = |a: &str| node(&g, &p, a, StepKind::Create);
        let (a, b) = (
            create("tencentcloud_vpn_gateway.gw[\"a\"]"),
            create("tencentcloud_vpn_gateway.gw[\"b\"]"),
        );
        let on_a = create("tencentcloud_vpn_connection.on_a");
        let on_all = create("tencentcloud_vpn_connection.on_all");
        assert!(g.precedes(a, on_a));
        assert!(
            !g.precedes(b, on_a),
            "a tunnel on gw[\"a\"] must not wait for gw[\"b\"]"
        );
        assert!(g.precedes(a, on_all) && g.precedes(b, on_all));
    }

    #[test]
    fn a_cidr_moving_between_tunnels_is_released_first() {
        let before_a = tunnel_attrs("vpngw-1", "cgw-a", &["192.168.1.0/24", "192.168.2.0/24"]);
        let after_a = tunnel_attrs("vpngw-1", "cgw-a", &["192.168.1.0/24"]);
        let before_b = tunnel_attrs("vpngw-1", "cgw-b", &["192.168.3.0/24"]);
        let after_b = tunnel_attrs("vpngw-1", "cgw-b", &["192.168.3.0/24", "192.168.2.0/24"]);
        let p = plan(vec![
            change(
                "tencentcloud_vpn_connection.b",
                ResourceKind::VpnConnection,
                Action::Update,
                Some("vpnx-b"),
                Some(before_b),
                Some(after_b),
                &[],
            ),
            change(
                "tencentcloud_vpn_connection.a",
                ResourceKind::VpnConnection,
                Action::Update,
                Some("vpnx-a"),
                Some(before_a),
                Some(after_a),
                &[],
            ),
        ]);
        let g = build_graph(&p).unwrap();
        assert!(g.precedes(
            node(&g, &p, "tencentcloud_vpn_connection.a", StepKind::Update),
            node(&g, &p, "tencentcloud_vpn_connection.b", StepKind::Update)
        ));
        assert!(!g.precedes(
            node(&g, &p, "tencentcloud_vpn_connection.b", StepKind::Update),
            node(&g, &p, "tencentcloud_vpn_connection.a", StepKind::Update)
        ));
    }

    #[test]
    fn a_deleted_tunnel_frees_its_customer_gateway_pair_for_a_new_one() {
        let p = plan(vec![
            change(
                "tencentcloud_vpn_connection.new",
                ResourceKind::VpnConnection,
                Action::Create,
                None,
                None,
                Some(tunnel_attrs("vpngw-1", "cgw-a", &["10.9.0.0/16"])),
                &[],
            ),
            change(
                "tencentcloud_vpn_connection.old",
                ResourceKind::VpnConnection,
                Action::Delete,
                Some("vpnx-o"),
                Some(tunnel_attrs("vpngw-1", "cgw-a", &["10.8.0.0/16"])),
                None,
                &[],
            ),
        ]);
        let g = build_graph(&p).unwrap();
        assert!(g.precedes(
            node(&g, &p, "tencentcloud_vpn_connection.old", StepKind::Delete),
            node(&g, &p, "tencentcloud_vpn_connection.new", StepKind::Create)
        ));
    }

    #[test]
    fn replacement_orders() {
        let p = plan(vec![
            change(
                "tencentcloud_vpn_customer_gateway.c",
                ResourceKind::CustomerGateway,
                Action::Replace {
                    create_before_destroy: false,
                },
                Some("cgw-1"),
                Some(Map::new()),
                None,
                &[],
            ),
            change(
                "tencentcloud_vpn_connection.t",
                ResourceKind::VpnConnection,
                Action::Replace {
                    create_before_destroy: false,
                },
                Some("vpnx-1"),
                Some(tunnel_attrs("vpngw-1", "cgw-1", &[])),
                None,
                &["tencentcloud_vpn_customer_gateway.c"],
            ),
        ]);
        let g = build_graph(&p).unwrap();
        let order = [
            node(
                &g,
                &p,
                "tencentcloud_vpn_connection.t",
                StepKind::DeleteReplaced,
            ),
            node(
                &g,
                &p,
                "tencentcloud_vpn_customer_gateway.c",
                StepKind::DeleteReplaced,
            ),
            node(
                &g,
                &p,
                "tencentcloud_vpn_customer_gateway.c",
                StepKind::CreateReplacement,
            ),
            node(
                &g,
                &p,
                "tencentcloud_vpn_connection.t",
                StepKind::CreateReplacement,
            ),
        ];
        for w in order.windows(2) {
            assert!(g.precedes(w[0], w[1]));
        }
    }

    #[test]
    fn create_before_destroy_on_the_same_pair_is_refused_with_the_reason() {
        let before = tunnel_attrs("vpngw-1", "cgw-a", &["192.168.1.0/24"]);
        let mut after = tunnel_attrs("vpngw-1", "cgw-a", &["192.168.9.0/24"]);
        after.insert("route_type".into(), Value::from("Policy"));
        let p = plan(vec![change(
            "tencentcloud_vpn_connection.a",
            ResourceKind::VpnConnection,
            Action::Replace {
                create_before_destroy: true,
            },
            Some("vpnx-a"),
            Some(before),
            Some(after),
            &[],
        )]);
        let err = build_graph(&p).unwrap_err();
        assert!(
            matches!(&err, GraphError::CreateBeforeDestroyConflict { address, .. } if address == "tencentcloud_vpn_connection.a"),
            "{err}"
        );
        assert!(err.to_string().contains("one tunnel per pair"), "{err}");
        // To another customer gateway it is fine.
        let before = tunnel_attrs("vpngw-1", "cgw-a", &["192.168.1.0/24"]);
        let after = tunnel_attrs("vpngw-1", "cgw-b", &["192.168.9.0/24"]);
        let p = plan(vec![change(
            "tencentcloud_vpn_connection.a",
            ResourceKind::VpnConnection,
            Action::Replace {
                create_before_destroy: true,
            },
            Some("vpnx-a"),
            Some(before),
            Some(after),
            &[],
        )]);
        assert!(build_graph(&p).is_ok());
    }

    #[test]
    fn swapping_ranges_is_a_cycle_that_names_both() {
        let a0 = tunnel_attrs("vpngw-1", "cgw-a", &["192.168.1.0/24"]);
        let a1 = tunnel_attrs("vpngw-1", "cgw-a", &["192.168.2.0/24"]);
        let b0 = tunnel_attrs("vpngw-1", "cgw-b", &["192.168.2.0/24"]);
        let b1 = tunnel_attrs("vpngw-1", "cgw-b", &["192.168.1.0/24"]);
        let p = plan(vec![
            change(
                "tencentcloud_vpn_connection.a",
                ResourceKind::VpnConnection,
                Action::Update,
                Some("vpnx-a"),
                Some(a0),
                Some(a1),
                &[],
            ),
            change(
                "tencentcloud_vpn_connection.b",
                ResourceKind::VpnConnection,
                Action::Update,
                Some("vpnx-b"),
                Some(b0),
                Some(b1),
                &[],
            ),
        ]);
        let err = build_graph(&p).unwrap_err();
        assert_eq!(
            err,
            GraphError::Cycle(vec![
                "tencentcloud_vpn_connection.a".into(),
                "tencentcloud_vpn_connection.b".into()
            ])
        );
        assert!(err
            .to_string()
            .contains("tencentcloud_vpn_connection.a, tencentcloud_vpn_connection.b"));
    }
}
