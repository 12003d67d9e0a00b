//! Coalescing single-object requests into the API's batch calls: the engine creates and deletes
//! one object at a time, but CreateRoutes, DeleteRoutes, CreateVpnGatewayRoutes and
//! DeleteVpnGatewayRoutes take many routes of one table (or gateway) per call. Requests for the same
//! key (client, region, table or gateway) that arrive within a short window go out together, at most
//! `max` per call.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;
use tunnelform_tencent_api::{ApiError, Client, ErrorKind};

/// How long a batch waits for another request to join it: the first request waits this long,
/// and the wait goes on while requests keep joining (the requests of steps started together
/// arrive a little apart on a busy machine), up to [`MAX_WAIT`] in all.
pub const WINDOW: Duration = Duration::from_millis(5);

/// The longest a batch waits for requests to join it.
pub const MAX_WAIT: Duration = Duration::from_millis(50);

type Waiter<I, O> = (I, oneshot::Sender<Result<O, ApiError>>);

struct Batch<I, O> {
    generation: u64,
    items: Vec<Waiter<I, O>>,
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
        let leader = {
            let mut guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let p = &mut *guard;
            let leader = match p.open.get_mut(&key) {
                Some(b) => {
                    b.items.push((item, tx));
                    None
                }
                None => {
                    p.next += 1;
                    p.open.insert(
                        key.clone(),
                        Batch {
                            generation: p.next,
                            items: vec![(item, tx)],
                        },
                    );
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
        if let Some(generation) = leader {
            let start = tokio::time::Instant::now();
            let mut seen = 1;
            loop {
                tokio::time::sleep(WINDOW).await;
                let now = {
                    let guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                    match guard.open.get(&key) {
                        Some(b) if b.generation == generation => b.items.len(),
                        // Full: it goes now.
                        _ => break,
                    }
                };
                if now == seen || start.elapsed() + WINDOW > MAX_WAIT {
                    break;
                }
                seen = now;
            }
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
