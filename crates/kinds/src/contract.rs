//! The kind contract: what the engine may ask of a resource kind. The planner, the executor, the
//! watcher, refresh, import and recovery call only this; everything a kind knows sits behind it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use futures::future::BoxFuture;
use ipnet::Ipv4Net;
use tunnelform_model::{Address, Attrs, BlockSchema, Diagnostic};
use tunnelform_tencent_api::{ApiError, Client};

use crate::plan_view::PlanView;
use crate::registry::ResourceKind;
use crate::tags::{Ownership, Tag};

/// One object as the cloud reports it, in the schema's vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub id: String,
    pub attrs: Attrs,
    pub ownership: Ownership,
}

/// What a create request returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub id: String,
    pub request_id: String,
    /// The asynchronous task to wait on (`DescribeVpcTaskResult`), when the API runs one; without
    /// a task the object settles when it is described `AVAILABLE` (or at once when it has no
    /// state).
    pub task_id: Option<String>,
    /// The object as the create answer itself reports it, when that answer is complete and final
    /// (no task, no state to wait for): the engine records it as created without reading it back.
    /// `None`: the engine reads the object back (batched with the region's other new objects).
    pub observed: Option<Observed>,
}

/// What a delete request returned (`None` from [`Kind::delete`]: the object was already gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub request_id: String,
    /// The asynchronous task after which the object is gone, when the API runs one.
    pub task_id: Option<String>,
}

/// Where a kind's API calls go, and what to do after each request that changed something (the
/// engine records it in its journal before the next request).
pub struct Call<'a> {
    pub client: &'a Client,
    pub region: &'a str,
    pub sent: &'a (dyn Fn(&str) -> Result<(), String> + Send + Sync),
}

impl Call<'_> {
    /// Reports a request that was carried out (`request_id`).
    pub fn sent(&self, request_id: &str) -> Result<(), CallError> {
        (self.sent)(request_id).map_err(CallError::Record)
    }
}

/// A step's call failed: at the API, or while recording what was sent.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("{0}")]
    Record(String),
}

/// A problem with one instance's arguments, keyed by the attribute path it is about
/// (`bgp_config.local_bgp_ip`, `security_group_policy.3`), for the caller to point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub summary: String,
    pub detail: String,
    pub help: Option<String>,
}

impl Problem {
    pub fn new(
        path: impl Into<String>,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            path: path.into(),
            summary: summary.into(),
            detail: detail.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: String) -> Self {
        self.help = Some(help);
        self
    }
}

/// An instance as the rules across instances see it.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    pub address: &'a Address,
    pub attrs: &'a Attrs,
}

/// A rule broken between instances of a kind: at an attribute of one of them (`at`: index into
/// the members and attribute path), because of another (`other`), or about the set as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub at: Option<(usize, String)>,
    pub other: Option<(usize, String)>,
    pub summary: String,
    pub detail: String,
    pub help: Option<String>,
}

/// Something an object holds exclusively within a scope (an address range on a VPN gateway, the
/// one tunnel between two gateways). Two objects cannot hold conflicting claims at once, so the
/// engine orders a release before a claim it conflicts with, and refuses a replacement that would
/// hold both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Where the claim is exclusive, as a message names it (`VPN gateway vpngw-1`).
    pub scope: String,
    pub held: Held,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// An address range: overlapping ranges of the same `what` (`SPD range`) conflict.
    Range { what: &'static str, net: Ipv4Net },
    /// A single thing identified by `key`: holding it twice conflicts, for the reason `why`.
    One { key: String, why: String },
}

impl Claim {
    /// Why holding `self` and `other` at once is refused, if it is (`noun`: what holds them).
    pub fn conflict(&self, other: &Claim, noun: &str) -> Option<String> {
        if self.scope != other.scope {
            return None;
        }
        match (&self.held, &other.held) {
            (Held::Range { what: a, net: x }, Held::Range { what: b, net: y })
                if a == b && (x.contains(y) || y.contains(x)) =>
            {
                Some(format!(
                    "the new {noun}'s {b} {x} would overlap the old {noun}'s on {}",
                    self.scope
                ))
            }
            (Held::One { key: a, why }, Held::One { key: b, .. }) if a == b => Some(why.clone()),
            _ => None,
        }
    }
}

/// A documented quota on the objects of a kind (the API has no action that tells an account's
/// quotas; a raised one is given with `--quota NAME=N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quota {
    /// The name `--quota NAME=N` takes (`tunnels-per-vpn-gateway`).
    pub name: &'static str,
    /// What it counts, in messages (`tunnels`).
    pub objects: &'static str,
    /// Tencent Cloud's documented default.
    pub default: u64,
    pub per: Per,
}

/// What a quota counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Per {
    /// The objects of a region.
    Region,
    /// The objects with the same value of `attr` (VPN gateways per `vpc_id`); `place` names it;
    /// `filter` is the Describe filter that selects the objects by that value (`vpc-id`).
    Value {
        attr: &'static str,
        place: &'static str,
        filter: &'static str,
    },
    /// The objects whose `attr` names the same object of `kind` (tunnels per `vpn_gateway_id`);
    /// `filter` is the Describe filter that selects them by it (`vpn-gateway-id`).
    Target {
        attr: &'static str,
        kind: ResourceKind,
        place: &'static str,
        filter: &'static str,
    },
}

/// How an object migrated from a Terraform state that does not record its region finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionHint {
    /// Nothing to infer it from: the provider configuration decides at the next plan.
    None,
    /// From a zone attribute (`ap-guangzhou-3` is in `ap-guangzhou`).
    Zone(&'static str),
    /// The region of the object whose id this attribute holds (a tunnel follows its gateway).
    Follows(&'static str),
    /// The region of the objects holding this object's id in this attribute, when they all agree
    /// (a customer gateway follows its tunnels).
    FollowedBy(&'static str),
}

/// A managed resource kind. Implemented once per kind, in the kind's module; listed by
/// [`crate::ResourceKind`].
pub trait Kind: Send + Sync + 'static {
    /// The Terraform provider's type name (`tencentcloud_vpn_connection`).
    fn type_name(&self) -> &'static str;
    /// The id prefix (`vpnx`), which is also the tag service's resource prefix.
    fn id_prefix(&self) -> &'static str;
    /// Whether `id` is the id of an object of this kind. Default: `<prefix>-` and one or more
    /// letters and digits. Kinds whose ids name their parent too (`<route id>.<rtb-id>`) say so
    /// here.
    fn owns_id(&self, id: &str) -> bool {
        id.strip_prefix(self.id_prefix())
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
    }

    /// How this kind's ids look, completing "the ids of a <type> ..." in messages.
    fn id_form(&self) -> String {
        format!("start with \"{}-\"", self.id_prefix())
    }

    /// Arguments and attributes: types, defaults the API fills in, which force replacement,
    /// which are sensitive, value checks.
    fn schema(&self) -> &'static BlockSchema;

    /// Rules across several arguments of one instance, beyond the schema's per-value checks
    /// (values still unknown are skipped).
    fn check(&self, _attrs: &Attrs) -> Vec<Problem> {
        Vec::new()
    }

    /// Rules across all the configuration's instances of this kind (values still unknown are
    /// skipped).
    fn check_together(&self, _members: &[Member<'_>]) -> Vec<Conflict> {
        Vec::new()
    }

    /// Rules across the plan's objects that the API enforces only when the apply reaches the call
    /// (a tunnel's BGP peer ASNs against its gateways'): checked on the plan, before any write.
    fn check_plan(&self, _plan: &dyn PlanView) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// The VPCs (by region) whose CIDR blocks [`Kind::check_plan_vpcs`] needs: VPC ids, or route
    /// table ids standing for their table's VPC (see [`crate::vpcs::read_cidrs`]).
    fn plan_vpcs(&self, _plan: &dyn PlanView) -> BTreeMap<String, BTreeSet<String>> {
        BTreeMap::new()
    }

    /// Rules that need the VPCs' CIDR blocks (`cidrs`, by the ids [`Kind::plan_vpcs`] gave, as
    /// read by the engine).
    fn check_plan_vpcs(
        &self,
        _plan: &dyn PlanView,
        _cidrs: &HashMap<String, Ipv4Net>,
    ) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// The quotas on objects of this kind.
    fn quotas(&self) -> &'static [Quota] {
        &[]
    }

    /// How many objects of this kind exist in `region`, for each quota in `asked` (one of
    /// [`Kind::quotas`]) and each of its scope keys (the attribute values or target ids; a
    /// [`Per::Region`] quota is counted under ""), in as few reads as the API allows.
    fn count_existing<'a>(
        &'a self,
        _client: &'a Client,
        _region: &'a str,
        asked: &'a [(Quota, Vec<String>)],
    ) -> BoxFuture<'a, Result<Vec<HashMap<String, u64>>, ApiError>> {
        Box::pin(async move { Ok(vec![HashMap::new(); asked.len()]) })
    }

    /// What an object with these attributes holds exclusively ([`Claim`]).
    fn claims(&self, _attrs: &Attrs) -> Vec<Claim> {
        Vec::new()
    }

    /// A read-only attribute listing the ids of objects of another kind that this object holds
    /// (a route table's `route_entry_ids`, its entries). Those the state does not hold were made
    /// outside tunnelform: a plan reports them as not owned and never deletes them.
    fn holds(&self) -> Option<(&'static str, ResourceKind)> {
        None
    }

    /// What one object of this kind is called in messages (`tunnel`).
    fn noun(&self) -> &'static str {
        "object"
    }

    /// Attributes that deleting an object needs besides its id (a tunnel's delete names its VPN
    /// gateway): a state entry without them could only fail half-way through an apply.
    fn delete_needs(&self) -> &'static [&'static str] {
        &[]
    }

    /// Where a migrated object's region comes from when the Terraform state lacks it.
    fn region_hint(&self) -> RegionHint {
        RegionHint::None
    }

    /// The attribute naming the scope of the API's batch calls an object belongs to: its route
    /// table (`route_table_id`), its VPN gateway (`vpn_gateway_id`). The engine starts the ready
    /// steps of one kind and scope together, under one worker, as the members of one
    /// [`crate::coalesce::Group`]: the kind's batch calls wait for every member's request (up to
    /// the kind's maximum per call). `None` (the default): no batching, and the engine spends
    /// nothing on it.
    fn batch_scope(&self) -> Option<&'static str> {
        None
    }

    /// How often the engine polls objects of this kind while waiting for them.
    fn poll_interval(&self) -> Duration {
        Duration::from_millis(125)
    }

    /// Whether [`Kind::read`] is one `Describe*` by ids answering one object per id, so that the
    /// refresh may split many ids into calls of 100 and send them at once, decoding each answer
    /// as it arrives (the same calls one read of them all makes). `false` (the default) for kinds
    /// read through a parent (a route entry through its table, a gateway route through its
    /// gateway) or whose read already pages itself.
    fn reads_by_id(&self) -> bool {
        false
    }

    /// Reads objects by id, in as few calls as the API allows; ids not found are left out.
    fn read<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Observed>, ApiError>>;

    /// Sends the create request for planned attributes (all known, sensitive marks removed) with
    /// `tags` (the user's and the ownership tags).
    fn create<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        attrs: &'a Attrs,
        tags: Vec<Tag>,
    ) -> BoxFuture<'a, Result<Created, ApiError>>;

    /// Changes object `id` in place so that its `changed` arguments take their values in `attrs`
    /// (tags excepted: the engine changes them through the tag service). Reports each request
    /// through `call.sent` as it completes.
    fn update<'a>(
        &'a self,
        call: &'a Call<'a>,
        id: &'a str,
        attrs: &'a Attrs,
        changed: &'a [String],
    ) -> BoxFuture<'a, Result<(), CallError>>;

    /// Deletes object `id`, whose last known attributes are `before`. `Ok(None)`: it was already
    /// gone.
    fn delete<'a>(
        &'a self,
        client: &'a Client,
        region: &'a str,
        id: &'a str,
        before: Option<&'a Attrs>,
    ) -> BoxFuture<'a, Result<Option<Deleted>, ApiError>>;
}
