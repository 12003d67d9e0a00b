//! The sandbox's emulated cloud: regions with their resources, secondary indexes, async tasks and timers,
//! the quotas of the account, the snapshot format of the data file and its durable persistence
//! ([`persist`]). It knows nothing of the wire protocol or of the actions that change it.

pub mod clock;
pub mod model;
pub mod persist;
pub mod quotas;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use indexmap::IndexMap;
use rand::rngs::StdRng;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use model::{
    ConnectionRoute, ConnectionState, CustomerGateway, GatewayState, RouteTable,
    StoredGatewayRoute, Task, TaskKind, TaskStatus, Vpc, VpnConnection, VpnGateway,
};

/// The account id (uin) of worlds whose data file records none (written before worlds had their own).
pub const DEFAULT_UIN: &str = "100000000001";

/// Regions the sandbox accepts (a request for another region answers `UnsupportedRegion`).
pub const REGIONS: &[&str] = &[
    "ap-guangzhou",
    "ap-shanghai",
    "ap-beijing",
    "ap-chengdu",
    "ap-chongqing",
    "ap-nanjing",
    "ap-hongkong",
    "ap-shanghai-fsi",
    "ap-shenzhen-fsi",
    "ap-beijing-fsi",
    "ap-singapore",
    "ap-jakarta",
    "ap-bangkok",
    "ap-seoul",
    "ap-tokyo",
    "ap-mumbai",
    "ap-taipei",
    "na-siliconvalley",
    "na-ashburn",
    "na-toronto",
    "eu-frankfurt",
    "sa-saopaulo",
];

pub fn is_region(name: &str) -> bool {
    REGIONS.contains(&name)
}

/// Whether `s` can be an account id: 1 to 20 digits.
pub fn is_uin(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A new world's account: 10 digits, the first not 0.
pub fn random_uin(rng: &mut impl Rng) -> String {
    rng.gen_range(1_000_000_000u64..=9_999_999_999).to_string()
}

/// The data file's format name and version.
const FORMAT: &str = "tunnelform-sandbox";
const FORMAT_VERSION: u32 = 1;
/// Finished tasks are kept this long (and at most `MAX_FINISHED_TASKS`) for `DescribeVpcTaskResult`.
const FINISHED_TASK_RETENTION_MS: i64 = 24 * 3600 * 1000;
const MAX_FINISHED_TASKS: usize = 100_000;

/// Connection ids per gateway / customer gateway / VPC.
#[derive(Debug, Default)]
pub struct ConnIndex {
    pub by_gateway: HashMap<String, HashSet<String>>,
    pub by_customer_gateway: HashMap<String, HashSet<String>>,
    pub by_vpc: HashMap<String, HashSet<String>>,
}

fn index_add(map: &mut HashMap<String, HashSet<String>>, key: &str, id: &str) {
    map.entry(key.to_string())
        .or_default()
        .insert(id.to_string());
}

fn index_remove(map: &mut HashMap<String, HashSet<String>>, key: &str, id: &str) {
    if let Some(set) = map.get_mut(key) {
        set.remove(id);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

/// One region's resources, in creation order.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Region {
    #[serde(rename = "Vpcs")]
    pub vpcs: IndexMap<String, Vpc>,
    #[serde(rename = "VpnGateways")]
    pub gateways: IndexMap<String, VpnGateway>,
    #[serde(rename = "CustomerGateways")]
    pub customer_gateways: IndexMap<String, CustomerGateway>,
    /// Route tables (each VPC's default one among them), with their entries. Absent from data files
    /// written before routes: each VPC then gets its default table at load.
    #[serde(rename = "RouteTables", default)]
    pub route_tables: IndexMap<String, RouteTable>,
    /// VPN gateway routes by route id (`vpnr-...`).
    #[serde(rename = "VpnGatewayRoutes", default)]
    pub gateway_routes: IndexMap<String, StoredGatewayRoute>,
    /// The routes tunnels were created with (`CreateVpnConnection.Route`), by tunnel id: kept,
    /// never described (the API does not return them), removed with the tunnel.
    #[serde(rename = "VpnConnectionRoutes", default)]
    pub connection_routes: IndexMap<String, ConnectionRoute>,
    /// Private so that every change goes through [`Region::connection_mut`] and friends, which keep the
    /// index and the rendered-JSON cache right.
    #[serde(rename = "VpnConnections")]
    connections: IndexMap<String, VpnConnection>,
    #[serde(skip)]
    pub index: ConnIndex,
    /// Each connection's API JSON, rendered once and reused by describe until the connection changes.
    #[serde(skip)]
    rendered: HashMap<String, Box<RawValue>>,
}

impl Region {
    fn rebuild_index(&mut self) {
        self.index = ConnIndex::default();
        for c in self.connections.values() {
            index_add(&mut self.index.by_gateway, &c.gateway_id, &c.id);
            index_add(
                &mut self.index.by_customer_gateway,
                &c.customer_gateway_id,
                &c.id,
            );
            index_add(&mut self.index.by_vpc, &c.vpc_id, &c.id);
        }
    }

    pub fn connections(&self) -> &IndexMap<String, VpnConnection> {
        &self.connections
    }

    /// Mutable access to a connection (drops its rendered JSON).
    pub fn connection_mut(&mut self, id: &str) -> Option<&mut VpnConnection> {
        self.rendered.remove(id);
        self.connections.get_mut(id)
    }

    /// Renders (and caches) the JSON of the connection at `position` (creation order) if needed.
    pub fn rendered_connection(&mut self, position: usize) {
        let Some((id, conn)) = self.connections.get_index(position) else {
            return;
        };
        if !self.rendered.contains_key(id) {
            if let Ok(raw) = serde_json::value::to_raw_value(conn) {
                self.rendered.insert(id.clone(), raw);
            }
        }
    }

    /// The rendered JSON of the connection at `position`, if it has been rendered.
    pub fn rendered_connection_cached(&self, position: usize) -> Option<&RawValue> {
        let (id, _) = self.connections.get_index(position)?;
        self.rendered.get(id).map(|r| &**r)
    }

    pub fn insert_connection(&mut self, conn: VpnConnection) {
        self.rendered.remove(&conn.id);
        index_add(&mut self.index.by_gateway, &conn.gateway_id, &conn.id);
        index_add(
            &mut self.index.by_customer_gateway,
            &conn.customer_gateway_id,
            &conn.id,
        );
        index_add(&mut self.index.by_vpc, &conn.vpc_id, &conn.id);
        self.connections.insert(conn.id.clone(), conn);
    }

    pub fn remove_connection(&mut self, id: &str) -> Option<VpnConnection> {
        self.rendered.remove(id);
        let conn = self.connections.shift_remove(id)?;
        self.connection_routes.shift_remove(id);
        index_remove(&mut self.index.by_gateway, &conn.gateway_id, id);
        index_remove(
            &mut self.index.by_customer_gateway,
            &conn.customer_gateway_id,
            id,
        );
        index_remove(&mut self.index.by_vpc, &conn.vpc_id, id);
        Some(conn)
    }

    /// Moves a connection to another customer gateway, keeping the index right.
    pub fn set_connection_customer_gateway(&mut self, id: &str, cgw: &str) {
        self.rendered.remove(id);
        if let Some(conn) = self.connections.get_mut(id) {
            index_remove(
                &mut self.index.by_customer_gateway,
                &conn.customer_gateway_id,
                id,
            );
            conn.customer_gateway_id = cgw.to_string();
            index_add(&mut self.index.by_customer_gateway, cgw, id);
        }
    }

    pub fn connections_on_gateway<'a>(
        &'a self,
        gateway_id: &str,
    ) -> impl Iterator<Item = &'a VpnConnection> + 'a {
        self.index
            .by_gateway
            .get(gateway_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.connections.get(id))
    }

    pub fn count_on_gateway(&self, gateway_id: &str) -> usize {
        self.index
            .by_gateway
            .get(gateway_id)
            .map_or(0, HashSet::len)
    }

    pub fn count_on_customer_gateway(&self, cgw_id: &str) -> usize {
        self.index
            .by_customer_gateway
            .get(cgw_id)
            .map_or(0, HashSet::len)
    }

    /// Whether a (customer gateway, VPN gateway) pair already has a tunnel (other than `except`).
    pub fn pair_exists(&self, gateway_id: &str, cgw_id: &str, except: Option<&str>) -> bool {
        self.connections_on_gateway(gateway_id)
            .any(|c| c.customer_gateway_id == cgw_id && Some(c.id.as_str()) != except)
    }

    pub fn gateways_in_vpc(&self, vpc_id: &str) -> usize {
        self.gateways
            .values()
            .filter(|g| g.info.vpc_id == vpc_id)
            .count()
    }

    /// The default route table of a VPC.
    pub fn main_route_table(&self, vpc_id: &str) -> Option<&RouteTable> {
        self.route_tables
            .values()
            .find(|t| t.main && t.vpc_id == vpc_id)
    }

    /// Route table entries anywhere in the region whose next hop is `gateway_type` `gateway_id`.
    pub fn routes_to<'a>(
        &'a self,
        gateway_type: &'a str,
        gateway_id: &'a str,
    ) -> impl Iterator<Item = &'a model::RouteEntry> + 'a {
        self.route_tables
            .values()
            .flat_map(|t| t.routes.iter())
            .filter(move |r| r.gateway_type == gateway_type && r.gateway_id == gateway_id)
    }

    /// VPN gateway routes whose next hop is instance `id`.
    pub fn gateway_routes_to<'a>(
        &'a self,
        id: &'a str,
    ) -> impl Iterator<Item = &'a StoredGatewayRoute> + 'a {
        self.gateway_routes
            .values()
            .filter(move |r| r.route.instance_id == id)
    }

    /// Positions (in creation order) of the connections whose ids are in any of `sets`.
    pub fn connection_positions<'a>(&self, ids: impl Iterator<Item = &'a String>) -> Vec<usize> {
        let mut positions: Vec<usize> = ids
            .filter_map(|id| self.connections.get_index_of(id.as_str()))
            .collect();
        positions.sort_unstable();
        positions.dedup();
        positions
    }
}

/// What a timer does when it fires.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Task(String),
    Gateway { region: String, id: String },
}

/// The whole emulated account.
#[derive(Debug, Default)]
pub struct World {
    pub regions: BTreeMap<String, Region>,
    pub tasks: HashMap<String, Task>,
    timers: BTreeSet<(i64, Timer)>,
    finished: VecDeque<(i64, String)>,
    /// Every id in use (resource ids and task ids), to keep new ids unique.
    ids: HashSet<String>,
    /// Incremented at every start from a data file (varies the seeded random sequence between runs).
    pub epoch: u64,
    /// The account (uin) the world belongs to: answered by `GetCallerIdentity`, carried by six-segment
    /// resource names. Fixed when the world is made and kept in its data file.
    pub uin: String,
    /// The next numeric route table entry id (`RouteId`); never reused.
    pub next_route_id: u64,
}

/// The first numeric route id of a new world.
const FIRST_ROUTE_ID: u64 = 10_000;

/// The data file.
#[derive(Serialize)]
struct SnapshotOut<'a> {
    #[serde(rename = "Format")]
    format: &'static str,
    #[serde(rename = "Version")]
    version: u32,
    #[serde(rename = "Epoch")]
    epoch: u64,
    #[serde(rename = "Uin")]
    uin: &'a str,
    #[serde(rename = "Regions")]
    regions: &'a BTreeMap<String, Region>,
    #[serde(rename = "Tasks")]
    tasks: Vec<&'a Task>,
    #[serde(rename = "NextRouteId")]
    next_route_id: u64,
}

#[derive(Deserialize)]
struct SnapshotIn {
    #[serde(rename = "Format")]
    format: String,
    #[serde(rename = "Version")]
    version: u32,
    #[serde(rename = "Epoch")]
    epoch: u64,
    /// Absent from data files written before worlds had their own account: those are the default one's.
    #[serde(rename = "Uin", default)]
    uin: Option<String>,
    #[serde(rename = "Regions")]
    regions: BTreeMap<String, Region>,
    #[serde(rename = "Tasks")]
    tasks: Vec<Task>,
    /// Absent from data files written before routes.
    #[serde(rename = "NextRouteId", default)]
    next_route_id: u64,
}

const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

impl World {
    /// The initial world of account `uin`: one default VPC in each of three regions.
    pub fn new_default(now_ms: i64, uin: String) -> World {
        let mut world = World {
            uin,
            next_route_id: FIRST_ROUTE_ID,
            ..World::default()
        };
        let created = clock::format_time(now_ms);
        for (id, cidr, region) in [
            ("vpc-sandbox1", "10.0.0.0/16", "ap-guangzhou"),
            ("vpc-sandbox2", "10.1.0.0/16", "ap-shanghai"),
            ("vpc-sandbox3", "10.2.0.0/16", "ap-beijing"),
        ] {
            let vpc = Vpc {
                name: "Default-VPC".to_string(),
                id: id.to_string(),
                cidr: cidr.parse().unwrap_or_default(),
                is_default: true,
                enable_multicast: false,
                created_time: created.clone(),
                dns_servers: vec!["183.60.83.19".to_string(), "183.60.82.98".to_string()],
                domain_name: String::new(),
                dhcp_options_id: String::new(),
                enable_dhcp: true,
                ipv6_cidr_block: String::new(),
                tags: Vec::new(),
                assistant_cidrs: Vec::new(),
                enable_route_vpc_publish: false,
                ipv6_cidr_blocks: Vec::new(),
                enable_route_vpc_publish_ipv6: false,
            };
            world.ids.insert(id.to_string());
            world
                .regions
                .entry(region.to_string())
                .or_default()
                .vpcs
                .insert(id.to_string(), vpc);
        }
        world.add_missing_main_route_tables(now_ms);
        world
    }

    /// Gives every VPC without a default route table its own (a new world's VPCs, and those of a
    /// data file written before route tables). Ids are derived from the VPC's, so that loading the
    /// same file twice gives the same ids.
    fn add_missing_main_route_tables(&mut self, now_ms: i64) {
        let created = clock::format_time(now_ms);
        for region in self.regions.values_mut() {
            let missing: Vec<String> = region
                .vpcs
                .keys()
                .filter(|v| region.main_route_table(v).is_none())
                .cloned()
                .collect();
            for vpc_id in missing {
                let suffix = vpc_id.strip_prefix("vpc-").unwrap_or(&vpc_id);
                let mut id = format!("rtb-{suffix}");
                while self.ids.contains(&id) {
                    id.push('0');
                }
                self.ids.insert(id.clone());
                region
                    .route_tables
                    .insert(id.clone(), main_route_table(&id, &vpc_id, &created));
            }
        }
    }

    /// Reads a data file's contents. Every inconsistency is an error: the sandbox never starts silently empty.
    pub fn from_snapshot(bytes: &[u8], now_ms: i64) -> Result<World, String> {
        let snap: SnapshotIn = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if snap.format != FORMAT {
            return Err(format!("format is `{}`, expected `{FORMAT}`", snap.format));
        }
        if snap.version != FORMAT_VERSION {
            return Err(format!(
                "format version {} is not supported (expected {FORMAT_VERSION})",
                snap.version
            ));
        }
        let uin = snap.uin.unwrap_or_else(|| DEFAULT_UIN.to_string());
        if !is_uin(&uin) {
            return Err(format!("the account `{uin}` is not a uin (digits)"));
        }
        let mut world = World {
            regions: snap.regions,
            epoch: snap.epoch.wrapping_add(1),
            uin,
            next_route_id: snap.next_route_id.max(FIRST_ROUTE_ID),
            ..World::default()
        };
        for (name, region) in world.regions.iter_mut() {
            if !is_region(name) {
                return Err(format!("unknown region `{name}`"));
            }
            region.rebuild_index();
            for (key, v) in &region.vpcs {
                check_key(key, &v.id)?;
                world.ids.insert(v.id.clone());
            }
            for (key, g) in &region.gateways {
                check_key(key, &g.info.id)?;
                world.ids.insert(g.info.id.clone());
                if let Some(at) = g.ready_at_ms {
                    world.timers.insert((
                        at,
                        Timer::Gateway {
                            region: name.clone(),
                            id: g.info.id.clone(),
                        },
                    ));
                }
            }
            for (key, c) in &region.customer_gateways {
                check_key(key, &c.id)?;
                world.ids.insert(c.id.clone());
            }
            for (key, c) in &region.connections {
                check_key(key, &c.id)?;
                if !region.gateways.contains_key(&c.gateway_id) {
                    return Err(format!(
                        "connection {} refers to a missing VPN gateway {}",
                        c.id, c.gateway_id
                    ));
                }
                if !region
                    .customer_gateways
                    .contains_key(&c.customer_gateway_id)
                {
                    return Err(format!(
                        "connection {} refers to a missing customer gateway {}",
                        c.id, c.customer_gateway_id
                    ));
                }
                world.ids.insert(c.id.clone());
            }
            for (key, t) in &region.route_tables {
                check_key(key, &t.id)?;
                if !region.vpcs.contains_key(&t.vpc_id) {
                    return Err(format!(
                        "route table {} refers to a missing VPC {}",
                        t.id, t.vpc_id
                    ));
                }
                world.ids.insert(t.id.clone());
                for r in &t.routes {
                    world.ids.insert(r.item_id.clone());
                    world.next_route_id = world.next_route_id.max(r.route_id + 1);
                }
            }
            for (key, r) in &region.gateway_routes {
                check_key(key, &r.route.id)?;
                if !region.gateways.contains_key(&r.gateway_id) {
                    return Err(format!(
                        "VPN gateway route {} refers to a missing VPN gateway {}",
                        r.route.id, r.gateway_id
                    ));
                }
                world.ids.insert(r.route.id.clone());
            }
        }
        world.add_missing_main_route_tables(now_ms);
        let mut finished: Vec<(i64, String)> = Vec::new();
        for task in snap.tasks {
            if world.tasks.contains_key(&task.id) {
                return Err(format!("task {} appears twice", task.id));
            }
            match (task.status, task.finished_ms) {
                (TaskStatus::Running, _) => {
                    world
                        .timers
                        .insert((task.deadline_ms, Timer::Task(task.id.clone())));
                }
                (_, Some(at)) => finished.push((at, task.id.clone())),
                (_, None) => finished.push((task.deadline_ms, task.id.clone())),
            }
            world.ids.insert(task.id.clone());
            world.tasks.insert(task.id.clone(), task);
        }
        finished.sort();
        world.finished = finished.into();
        world.advance(now_ms);
        Ok(world)
    }

    /// The data file's contents.
    pub fn to_snapshot(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut tasks: Vec<&Task> = self.tasks.values().collect();
        tasks.sort_by(|a, b| (a.deadline_ms, &a.id).cmp(&(b.deadline_ms, &b.id)));
        serde_json::to_vec(&SnapshotOut {
            format: FORMAT,
            version: FORMAT_VERSION,
            epoch: self.epoch,
            uin: &self.uin,
            regions: &self.regions,
            tasks,
            next_route_id: self.next_route_id,
        })
    }

    pub fn region(&self, name: &str) -> Option<&Region> {
        self.regions.get(name)
    }

    pub fn region_mut(&mut self, name: &str) -> &mut Region {
        self.regions.entry(name.to_string()).or_default()
    }

    /// A new unique id `<prefix>-` + 8 of `[a-z0-9]`.
    pub fn new_id(&mut self, rng: &mut StdRng, prefix: &str) -> String {
        loop {
            let mut id = String::with_capacity(prefix.len() + 9);
            id.push_str(prefix);
            id.push('-');
            for _ in 0..8 {
                id.push(char::from(ID_ALPHABET[rng.gen_range(0..ID_ALPHABET.len())]));
            }
            if self.ids.insert(id.clone()) {
                return id;
            }
        }
    }

    /// A new numeric route table entry id.
    pub fn new_route_id(&mut self) -> u64 {
        let id = self.next_route_id.max(FIRST_ROUTE_ID);
        self.next_route_id = id + 1;
        id
    }

    /// Registers an id chosen elsewhere (task ids are request ids). Returns false if it is taken.
    pub fn claim_id(&mut self, id: &str) -> bool {
        self.ids.insert(id.to_string())
    }

    pub fn release_id(&mut self, id: &str) {
        self.ids.remove(id);
    }

    /// Makes a new VPN gateway AVAILABLE at `at_ms`.
    pub fn schedule_gateway(&mut self, region: &str, id: &str, at_ms: i64) {
        self.timers.insert((
            at_ms,
            Timer::Gateway {
                region: region.to_string(),
                id: id.to_string(),
            },
        ));
    }

    /// Starts an async task.
    pub fn start_task(&mut self, task: Task) {
        self.timers
            .insert((task.deadline_ms, Timer::Task(task.id.clone())));
        self.tasks.insert(task.id.clone(), task);
    }

    /// Fires every timer due at `now_ms`. Returns whether anything changed.
    pub fn advance(&mut self, now_ms: i64) -> bool {
        let mut changed = false;
        while let Some((at, _)) = self.timers.first() {
            if *at > now_ms {
                break;
            }
            let Some((_, timer)) = self.timers.pop_first() else {
                break;
            };
            changed = true;
            match timer {
                Timer::Gateway { region, id } => {
                    if let Some(g) = self
                        .regions
                        .get_mut(&region)
                        .and_then(|r| r.gateways.get_mut(&id))
                    {
                        g.info.state = GatewayState::Available;
                        g.ready_at_ms = None;
                    }
                }
                Timer::Task(id) => self.finish_task(&id, now_ms),
            }
        }
        if changed {
            self.prune_tasks(now_ms);
        }
        changed
    }

    /// Completes a task whose deadline has passed; `now_ms` is when it is processed (a task whose deadline
    /// passed while the sandbox was down finishes at load time, and is kept from then on).
    fn finish_task(&mut self, task_id: &str, now_ms: i64) {
        let Some(task) = self.tasks.get(task_id) else {
            return;
        };
        if task.status != TaskStatus::Running {
            return;
        }
        // A later reset of the same tunnel, still running, decides when it comes back.
        let superseded = task.kind == TaskKind::ResetVpnConnection
            && self.tasks.values().any(|t| {
                t.kind == TaskKind::ResetVpnConnection
                    && t.status == TaskStatus::Running
                    && t.resource_id == task.resource_id
                    && t.id != task.id
                    && t.deadline_ms > task.deadline_ms
            });
        let Some(task) = self.tasks.get_mut(task_id) else {
            return;
        };
        let region = self.regions.get_mut(&task.region);
        let (status, output) = match task.kind {
            TaskKind::CreateVpnConnection => {
                let exists = region
                    .as_ref()
                    .is_some_and(|r| r.connections.contains_key(&task.resource_id));
                match region {
                    Some(r) if exists && task.will_fail => {
                        r.remove_connection(&task.resource_id);
                        self.ids.remove(&task.resource_id);
                        (
                            TaskStatus::Failed,
                            format!(
                                "create vpn connection {} failed: the tunnel could not be provisioned (injected task failure)",
                                task.resource_id
                            ),
                        )
                    }
                    Some(r) if exists => {
                        if let Some(c) = r.connection_mut(&task.resource_id) {
                            c.state = ConnectionState::Available;
                            c.net_status = "AVAILABLE".to_string();
                        }
                        (TaskStatus::Success, "SUCCESS".to_string())
                    }
                    _ => (
                        TaskStatus::Failed,
                        format!("vpn connection {} no longer exists", task.resource_id),
                    ),
                }
            }
            TaskKind::DeleteVpnConnection => match region {
                Some(r) if task.will_fail => {
                    if let Some(c) = r.connection_mut(&task.resource_id) {
                        c.state = ConnectionState::Available;
                    }
                    (
                        TaskStatus::Failed,
                        format!(
                            "delete vpn connection {} failed: the tunnel could not be released (injected task failure)",
                            task.resource_id
                        ),
                    )
                }
                Some(r) => {
                    if r.remove_connection(&task.resource_id).is_some() {
                        self.ids.remove(&task.resource_id);
                    }
                    (TaskStatus::Success, "SUCCESS".to_string())
                }
                None => (TaskStatus::Success, "SUCCESS".to_string()),
            },
            TaskKind::ResetVpnConnection => {
                let conn = region.and_then(|r| r.connection_mut(&task.resource_id));
                match conn {
                    Some(_) if superseded => (TaskStatus::Success, "SUCCESS".to_string()),
                    Some(_) if task.will_fail => (
                        TaskStatus::Failed,
                        format!(
                            "reset vpn connection {}: the peer did not answer the new negotiation (injected task failure)",
                            task.resource_id
                        ),
                    ),
                    Some(c) => {
                        // The peer negotiated again: the tunnel is up.
                        c.net_status = "AVAILABLE".to_string();
                        (TaskStatus::Success, "SUCCESS".to_string())
                    }
                    None => (
                        TaskStatus::Failed,
                        format!("vpn connection {} no longer exists", task.resource_id),
                    ),
                }
            }
        };
        task.status = status;
        task.output = output;
        task.finished_ms = Some(now_ms);
        self.finished.push_back((now_ms, task.id.clone()));
    }

    fn prune_tasks(&mut self, now_ms: i64) {
        while let Some((at, _)) = self.finished.front() {
            if *at + FINISHED_TASK_RETENTION_MS > now_ms
                && self.finished.len() <= MAX_FINISHED_TASKS
            {
                break;
            }
            if let Some((_, id)) = self.finished.pop_front() {
                self.tasks.remove(&id);
                self.ids.remove(&id);
            }
        }
    }
}

/// A VPC's default route table, with no entries.
pub fn main_route_table(id: &str, vpc_id: &str, created: &str) -> RouteTable {
    RouteTable {
        vpc_id: vpc_id.to_string(),
        id: id.to_string(),
        name: "default".to_string(),
        associations: Vec::new(),
        routes: Vec::new(),
        main: true,
        created_time: created.to_string(),
        tags: Vec::new(),
        local_cidr_for_ccn: Vec::new(),
    }
}

fn check_key(key: &str, id: &str) -> Result<(), String> {
    if key == id {
        Ok(())
    } else {
        Err(format!("resource stored under `{key}` has id `{id}`"))
    }
}
