//! Coalescing single-object requests into the API's batch calls: the engine creates and deletes
//! one object at a time, but CreateRoutes, DeleteRoutes, CreateVpnGatewayRoutes and
//! DeleteVpnGatewayRoutes take many routes of one table (or gateway) per call. Requests for the same
//! key (client, region, table or gateway) go out together, at most `max` per call.
//!
//! When the caller knows which requests belong together (the executor starts the ready steps of
//! one batch scope together: a [`Group`]), a batch waits until every member of the groups it holds
//! has sent its request (or ended without one), so it is never split by the timing of a busy
//! machine. A request outside any group waits a short window for others to join it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};
use tunnelform_tencent_api::{ApiError, Client, ErrorKind};

/// How long a batch waits for another request to join it: the first request waits this long,
/// and the wait goes on while requests keep joining (the requests of steps started together
/// arrive a little apart on a busy machine), up to [`MAX_WAIT`] in all.
pub const WINDOW: Duration = Duration::from_millis(5);

/// The longest a batch waits for requests to join it.
pub const MAX_WAIT: Duration = Duration::from_millis(50);

/// The longest a batch waits for the members of its groups: they send their requests as soon as
/// they are scheduled, so this only bounds a member that never gets there (a panic).
pub const GROUP_MAX_WAIT: Duration = Duration::from_secs(2);

/// Requests started together that go out in as few batch calls as possible: each member of the
/// group either sends its request through a [`Coalescer`] or ends without one, and a batch holding
/// members of the group is sent once none is still on its way (or when it is full).
#[derive(Debug, Default)]
pub struct Group {
    /// Members that have neither sent their request nor ended.
    outstanding: AtomicUsize,
    changed: Notify,
}

impl Group {
    pub fn new() -> Arc<Group> {
        Arc::new(Group::default())
    }

    /// A new member. Every member must join before any member sends its request (the executor's
    /// gate), so that a batch never leaves while a member is yet to join.
    pub fn join(self: &Arc<Self>) -> Member {
        self.outstanding.fetch_add(1, Ordering::SeqCst);
        Member(Arc::new(MemberState {
            group: self.clone(),
            left: AtomicBool::new(false),
        }))
    }

    fn waiting_for_members(&self) -> bool {
        self.outstanding.load(Ordering::SeqCst) > 0
    }
}

#[derive(Debug)]
struct MemberState {
    group: Arc<Group>,
    left: AtomicBool,
}

impl MemberState {
    /// The member's request is in a batch, or it will send none: the batch need not wait for it.
    fn leave(&self) {
        if !self.left.swap(true, Ordering::SeqCst) {
            self.group.outstanding.fetch_sub(1, Ordering::SeqCst);
            self.group.changed.notify_waiters();
        }
    }
}

/// One member of a [`Group`]: the requests `run` sends through a [`Coalescer`] count as the
/// member's; when `run` ends (or the member is dropped) without sending one, the member leaves.
#[derive(Debug)]
pub struct Member(Arc<MemberState>);

tokio::task_local! {
    static MEMBER: Arc<MemberState>;
}

impl Member {
    /// Runs `f` as this member.
    pub async fn run<F: Future>(self, f: F) -> F::Output {
        let out = MEMBER.scope(self.0.clone(), f).await;
        self.0.leave();
        out
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.0.leave();
    }
}

type Waiter<I, O> = (I, oneshot::Sender<Result<O, ApiError>>);

struct Batch<I, O> {
    generation: u64,
    items: Vec<Waiter<I, O>>,
    /// The groups of the members whose requests are in the batch.
    groups: Vec<Arc<Group>>,
    /// Whether a request from outside any group is in the batch.
    ungrouped: bool,
}

impl<I, O> Batch<I, O> {
    fn add(&mut self, item: Waiter<I, O>, member: Option<&Arc<MemberState>>) {
        self.items.push(item);
        match member {
            Some(m) => {
                if !self.groups.iter().any(|g| Arc::ptr_eq(g, &m.group)) {
                    self.groups.push(m.group.clone());
                }
            }
            None => self.ungrouped = true,
        }
    }

    /// A group member whose request may still join.
    fn awaited_group(&self) -> Option<Arc<Group>> {
        self.groups
            .iter()
            .find(|g| g.waiting_for_members())
            .cloned()
    }
}

struct Pending<I, O> {
    next: u64,
    /// The batch still taking items, by key.
    open: HashMap<String, Batch<I, O>>,
    /// Full batches waiting for their leader, by generation.
    full: HashMap<u64, Vec<Waiter<I, O>>>,
}

/// Batches of pending items by key.
pub struct Coalescer<I, O> {
    pending: Mutex<Pending<I, O>>,
}

impl<I, O> Default for Coalescer<I, O> {
    fn default() -> Self {
        Coalescer {
            pending: Mutex::new(Pending {
                next: 0,
                open: HashMap::new(),
                full: HashMap::new(),
            }),
        }
    }
}

/// The part of a batch key that keeps apart the clients (credentials, endpoints) of one process.
pub fn client_key(client: &Client, region: &str, scope: &str) -> String {
    format!("{:p}/{region}/{scope}", client as *const Client)
}

impl<I: Send, O: Send> Coalescer<I, O> {
    /// Submits `item` under `key`; the batch it joins is sent by `run`, which answers each item in
    /// order.
    pub async fn submit<F, Fut>(
        &self,
        key: String,
        item: I,
        max: usize,
        run: F,
    ) -> Result<O, ApiError>
    where
        F: FnOnce(Vec<I>) -> Fut,
        Fut: Future<Output = Vec<Result<O, ApiError>>>,
    {
        let (tx, rx) = oneshot::channel();
        let max = max.max(1);
        let member = MEMBER.try_with(Arc::clone).ok();
        let leader = {
            let mut guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let p = &mut *guard;
            let leader = match p.open.get_mut(&key) {
                Some(b) => {
                    b.add((item, tx), member.as_ref());
                    None
                }
                None => {
                    p.next += 1;
                    let mut b = Batch {
                        generation: p.next,
                        items: Vec::with_capacity(max.min(64)),
                        groups: Vec::new(),
                        ungrouped: false,
                    };
                    b.add((item, tx), member.as_ref());
                    p.open.insert(key.clone(), b);
                    Some(p.next)
                }
            };
            // A full batch stops taking items: the next one starts a new batch.
            if p.open.get(&key).is_some_and(|b| b.items.len() >= max) {
                if let Some(b) = p.open.remove(&key) {
                    p.full.insert(b.generation, b.items);
                }
            }
            leader
        };
        // The request is in a batch: its group need not wait for it any more.
        if let Some(m) = &member {
            m.leave();
        }
        if let Some(generation) = leader {
            self.gather(&key, generation).await;
            let items = {
                let mut guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                let p = &mut *guard;
                match p.full.remove(&generation) {
                    Some(items) => items,
                    None => match p.open.get(&key) {
                        Some(b) if b.generation == generation => {
                            p.open.remove(&key).map(|b| b.items).unwrap_or_default()
                        }
                        _ => Vec::new(),
                    },
                }
            };
            if !items.is_empty() {
                let (inputs, senders): (Vec<I>, Vec<_>) = items.into_iter().unzip();
                let results = run(inputs).await;
                for (tx, r) in senders.into_iter().zip(results) {
                    let _ = tx.send(r);
                }
            }
        }
        match rx.await {
            Ok(r) => r,
            // The leader's batch was taken by nobody (cannot happen) or its future was dropped.
            Err(_) => Err(ApiError {
                action: "batch",
                region: String::new(),
                request_id: None,
                kind: ErrorKind::InvalidRequest {
                    reason: "the batched request was cancelled before it was sent".into(),
                },
                attempts: 0,
            }),
        }
    }

    /// The leader's wait for the batch `generation` of `key` to take every request it should:
    /// until it is full, or none of its groups' members is still on its way (then at once, unless
    /// a request from outside any group is in it), or, for requests outside any group, until the
    /// window passes without another one joining.
    async fn gather(&self, key: &str, generation: u64) {
        let start = tokio::time::Instant::now();
        let mut seen = 0;
        loop {
            let (awaited, len, ungrouped) = {
                let guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                match guard.open.get(key) {
                    Some(b) if b.generation == generation => {
                        (b.awaited_group(), b.items.len(), b.ungrouped)
                    }
                    // Full: it goes now.
                    _ => return,
                }
            };
            if let Some(group) = awaited {
                let changed = group.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if group.waiting_for_members() {
                    let deadline = start + GROUP_MAX_WAIT;
                    if tokio::time::timeout_at(deadline, changed).await.is_err() {
                        return;
                    }
                }
                continue;
            }
            if !ungrouped || len == seen || start.elapsed() + WINDOW > MAX_WAIT {
                return;
            }
            seen = len;
            tokio::time::sleep(WINDOW).await;
        }
    }
}

/// Deletes `ids` with one request (`send` of all of them); when the API refuses the whole request
/// (not an answer lost on the way), each id is sent on its own, so each object gets its own
/// outcome. Per id: the request id, `None` when the object was already gone, or the error.
pub async fn delete_batch<I, F, Fut>(ids: &[I], send: F) -> Vec<Result<Option<String>, ApiError>>
where
    I: Clone,
    F: Fn(Vec<I>) -> Fut,
    Fut: Future<Output = Result<String, ApiError>>,
{
    let one =
        |r: Result<String, ApiError>| crate::deleted(r, false).map(|d| d.map(|d| d.request_id));
    match send(ids.to_vec()).await {
        Err(e) if ids.len() > 1 && !e.is_outcome_unknown() => {
            futures::future::join_all(ids.iter().map(|id| send(vec![id.clone()])))
                .await
                .into_iter()
                .map(one)
                .collect()
        }
        r => {
            let r = one(r);
            ids.iter().map(|_| r.clone()).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Submits one item per member of a group, the members arriving `gap` apart (longer than the
    /// window of requests outside a group); returns the sizes of the calls made.
    async fn members_apart(n: usize, max: usize, gap: Duration, leaving: usize) -> Vec<usize> {
        let coalescer: Arc<Coalescer<usize, usize>> = Arc::new(Coalescer::default());
        let calls: Arc<Mutex<Vec<usize>>> = Arc::default();
        let group = Group::new();
        let members: Vec<Member> = (0..n + leaving).map(|_| group.join()).collect();
        let mut tasks = Vec::new();
        for (i, member) in members.into_iter().enumerate() {
            let (coalescer, calls) = (coalescer.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(gap * i as u32).await;
                if i >= n {
                    // Ends without a request.
                    drop(member);
                    return None;
                }
                member
                    .run(coalescer.submit("k".into(), i, max, |items: Vec<usize>| {
                        calls.lock().unwrap().push(items.len());
                        async move { items.into_iter().map(Ok).collect() }
                    }))
                    .await
                    .ok()
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            let answer = t.await.unwrap();
            assert_eq!(
                answer,
                (i < n).then_some(i),
                "each item gets its own answer"
            );
        }
        let calls = calls.lock().unwrap().clone();
        calls
    }

    #[tokio::test]
    async fn a_groups_requests_go_together_however_far_apart_they_arrive() {
        assert_eq!(members_apart(12, 100, WINDOW * 4, 0).await, vec![12]);
        let gap = Duration::from_millis(2);
        assert_eq!(members_apart(250, 100, gap, 0).await, vec![100, 100, 50]);
    }

    #[tokio::test]
    async fn a_member_that_sends_nothing_does_not_hold_the_batch() {
        let started = tokio::time::Instant::now();
        assert_eq!(members_apart(3, 100, WINDOW * 4, 2).await, vec![3]);
        assert!(
            started.elapsed() < GROUP_MAX_WAIT,
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn requests_outside_a_group_wait_only_the_window() {
        let coalescer: Coalescer<usize, usize> = Coalescer::default();
        let calls = AtomicUsize::new(0);
        let send = |items: Vec<usize>| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move { items.into_iter().map(Ok).collect() }
        };
        let first = coalescer.submit("k".into(), 1, 100, send);
        let late = async {
            tokio::time::sleep(MAX_WAIT * 2).await;
            coalescer.submit("k".into(), 2, 100, send).await
        };
        let (a, b) = tokio::join!(first, late);
        assert_eq!((a.unwrap(), b.unwrap()), (1, 2));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
