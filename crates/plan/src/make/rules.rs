//! The plan as the kinds' rules across objects see it ([`Topology`], a [`PlanView`]), and the
//! checks that run them: each kind's [`tunnelform_kinds::Kind::check_plan`] (rules the API enforces only when the
//! apply reaches the call, e.g. a tunnel's BGP peers), then, with the VPCs' CIDR blocks read once
//! per region by the apply layer ([`tunnelform_kinds::vpcs::read_cidrs`]), [`tunnelform_kinds::Kind::check_plan_vpcs`]. A plan that would fail half-way is
//! refused before the first write.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ipnet::Ipv4Net;
use tunnelform_config::{Config, Instance};
use tunnelform_kinds::{PlanView, ResourceKind, Step, Target};
use tunnelform_model::{Address, Diagnostics, Span, Value};

use crate::{Action, ResourceChange};

/// An object a reference points at: a planned object of the configuration (by address), or an
/// object the configuration does not manage (by id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Node {
    Addr(Address),
    Id(String),
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::Addr(a) => write!(f, "{a}"),
            Node::Id(id) => write!(f, "{id}"),
        }
    }
}

/// The planned objects of a plan (deletes left out), with their configuration instances, and how
/// tunnels refer to gateways.
pub(crate) struct Topology<'a> {
    pub changes: Vec<&'a ResourceChange>,
    pub instances: HashMap<&'a Address, &'a Instance>,
    by_id: HashMap<&'a str, &'a Address>,
    index: HashMap<&'a Address, usize>,
    /// The configuration's instance of each change, by the change's position (the rules ask
    /// for values by position, many times per change).
    at: Vec<Option<&'a Instance>>,
    /// The planned instances of each resource (its address without an instance key), in plan
    /// order: what a reference to the whole resource stands for.
    by_resource: HashMap<Address, Vec<usize>>,
}

impl<'a> Topology<'a> {
    pub fn new(
        instances: impl IntoIterator<Item = &'a Instance>,
        changes: &'a [ResourceChange],
    ) -> Self {
        let changes: Vec<&ResourceChange> = changes
            .iter()
            .filter(|c| c.after.is_some() && c.action != Action::Delete && !c.deposed)
            .collect();
        let mut by_id = HashMap::new();
        for c in &changes {
            if let Some(id) = c.id.as_deref() {
                by_id.insert(id, &c.address);
            }
        }
        let index = changes
            .iter()
            .enumerate()
            .map(|(i, c)| (&c.address, i))
            .collect();
        let mut by_resource: HashMap<Address, Vec<usize>> = HashMap::new();
        for (i, c) in changes.iter().enumerate() {
            by_resource
                .entry(c.address.clone().with_key(None))
                .or_default()
                .push(i);
        }
        let instances: HashMap<&Address, &Instance> =
            instances.into_iter().map(|i| (&i.address, i)).collect();
        let at = changes
            .iter()
            .map(|c| instances.get(&c.address).copied())
            .collect();
        Topology {
            changes,
            instances,
            by_id,
            index,
            at,
            by_resource,
        }
    }

    pub fn change(&self, addr: &Address) -> Option<&'a ResourceChange> {
        self.index.get(addr).map(|&i| self.changes[i])
    }

    /// The planned object whose id is `id`.
    pub fn address_of_id(&self, id: &str) -> Option<&'a Address> {
        self.by_id.get(id).copied()
    }

    /// The planned objects `dep` names: one instance, or every instance of a resource (in plan
    /// order). Looked up, not searched: a plan of N tunnels asks this N times.
    fn named_by(&self, dep: &Address) -> Vec<usize> {
        if dep.key.is_some() {
            return self.index.get(dep).map(|&i| vec![i]).unwrap_or_default();
        }
        self.by_resource.get(dep).cloned().unwrap_or_default()
    }

    /// The planned value of `attr` (the configuration's when set there).
    pub fn value(&self, c: &ResourceChange, attr: &str) -> Option<Value> {
        Self::value_of(self.instances.get(&c.address).copied(), c, attr)
    }

    /// [`Topology::value`] of the change at position `i`.
    fn value_at(&self, i: usize, attr: &str) -> Option<Value> {
        Self::value_of(self.at[i], self.changes[i], attr)
    }

    fn value_of(inst: Option<&Instance>, c: &ResourceChange, attr: &str) -> Option<Value> {
        let v = inst
            .and_then(|i| i.attrs.get(attr))
            .filter(|v| !v.is_unknown())
            .or_else(|| c.after.as_ref().and_then(|a| a.get(attr)))?;
        Some(v.unmarked().clone())
    }

    /// What the reference `attr` of `c` points at, an object of `kind`: by its planned id, or
    /// (when the id is known only after apply) the one planned object of `kind` that `c`'s
    /// configuration depends on.
    pub fn target(&self, c: &ResourceChange, attr: &str, kind: ResourceKind) -> Option<Node> {
        self.target_of(self.instances.get(&c.address).copied(), c, attr, kind)
    }

    fn target_of(
        &self,
        inst: Option<&Instance>,
        c: &ResourceChange,
        attr: &str,
        kind: ResourceKind,
    ) -> Option<Node> {
        if let Some(Value::String(id)) = Self::value_of(inst, c, attr) {
            return Some(match self.by_id.get(id.as_str()) {
                Some(a) => Node::Addr((*a).clone()),
                None => Node::Id(id.into_string()),
            });
        }
        let inst = inst?;
        let mut found: Vec<&Address> = Vec::new();
        for dep in inst
            .depends_on
            .iter()
            .filter(|d| d.type_name == kind.type_name())
        {
            for i in self.named_by(dep) {
                let o = &self.changes[i].address;
                if !found.contains(&o) {
                    found.push(o);
                }
            }
        }
        match found.as_slice() {
            [one] => Some(Node::Addr((*one).clone())),
            _ => None,
        }
    }

    /// Where to point at an argument of a planned object (its value, else its block).
    pub fn span(&self, addr: &Address, attr: &str) -> Option<Span> {
        let i = self.instances.get(addr)?;
        Some(i.attr_spans.get(attr).unwrap_or(&i.span).clone())
    }
}

impl PlanView for Topology<'_> {
    fn len(&self) -> usize {
        self.changes.len()
    }

    fn address(&self, i: usize) -> &Address {
        &self.changes[i].address
    }

    fn kind(&self, i: usize) -> Option<ResourceKind> {
        self.changes[i].kind.managed()
    }

    fn region(&self, i: usize) -> &str {
        &self.changes[i].region
    }

    fn id(&self, i: usize) -> Option<&str> {
        self.changes[i].id.as_deref()
    }

    fn step(&self, i: usize) -> Step {
        match self.changes[i].action {
            Action::Create => Step::Create,
            Action::Update => Step::Update,
            Action::Replace { .. } => Step::Replace,
            Action::NoOp | Action::Read | Action::Delete => Step::Keep,
        }
    }

    fn before(&self, i: usize, attr: &str) -> Option<&Value> {
        self.changes[i].before.as_ref()?.get(attr)
    }

    fn after(&self, i: usize, attr: &str) -> Option<&Value> {
        self.changes[i].after.as_ref()?.get(attr)
    }

    fn value(&self, i: usize, attr: &str) -> Option<Value> {
        self.value_at(i, attr)
    }

    fn configured(&self, i: usize, attr: &str) -> bool {
        self.at[i].is_some_and(|inst| inst.attrs.contains_key(attr))
    }

    fn target(&self, i: usize, attr: &str, kind: ResourceKind) -> Option<Target> {
        Some(
            match self.target_of(self.at[i], self.changes[i], attr, kind)? {
                Node::Addr(a) => Target::Planned(*self.index.get(&a)?),
                Node::Id(id) => Target::Id(id),
            },
        )
    }

    fn span(&self, i: usize, attr: &str) -> Option<Span> {
        Topology::span(self, &self.changes[i].address, attr)
    }
}

/// Each kind's rules across the plan's objects (deletes excluded), with the configuration's
/// instances for spans and references. Source lines come from `config`.
pub(crate) fn check(
    config: &Config,
    instances: &[Instance],
    changes: &[ResourceChange],
) -> Diagnostics {
    let t = Topology::new(instances, changes);
    let mut diags = Diagnostics::new();
    for kind in ResourceKind::ALL {
        for d in kind.def().check_plan(&t) {
            diags.push(d);
        }
    }
    config.attach_source_lines(&mut diags);
    diags
}

/// The VPCs (by region) whose CIDR blocks the kinds' rules need.
pub(crate) fn plan_vpcs(
    instances: &[Instance],
    changes: &[ResourceChange],
) -> BTreeMap<String, BTreeSet<String>> {
    let t = Topology::new(instances, changes);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for kind in ResourceKind::ALL {
        for (region, vpcs) in kind.def().plan_vpcs(&t) {
            out.entry(region).or_default().extend(vpcs);
        }
    }
    out
}

/// Each kind's rules that need the VPCs' CIDR blocks (`cidrs`, by VPC id).
pub(crate) fn check_vpc(
    config: &Config,
    instances: &[Instance],
    changes: &[ResourceChange],
    cidrs: &HashMap<String, Ipv4Net>,
) -> Diagnostics {
    let t = Topology::new(instances, changes);
    let mut diags = Diagnostics::new();
    for kind in ResourceKind::ALL {
        for d in kind.def().check_plan_vpcs(&t, cidrs) {
            diags.push(d);
        }
    }
    config.attach_source_lines(&mut diags);
    diags
}
