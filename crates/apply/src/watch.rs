//! Waiting on many objects at once.
//!
//! `DescribeVpcTaskResult` allows 20 requests/s, so confirming N creates one task at a time takes at
//! least N/20 seconds. Instead, one watcher per region and kind reads every pending object with
//! batched describes (100 ids per call) and wakes each waiter when its object settles: a VPN
//! connection whose task ran, a new VPN gateway leaving PENDING, a new customer gateway becoming
//! visible. Only when a connection vanishes or does not settle in time is its task asked for, so
//! every failure is still reported with the task's `Output`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tunnelform_model::{ResourceKind, Value};
use tunnelform_tencent_api::{ApiError, Client, TaskOutcome, WaitOptions};

use crate::refresh::{read_objects, RemoteObject};

/// What a waiter expects of its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Created: wait until AVAILABLE.
    Available,
    /// Deleted: wait until it is gone.
    Gone,
    /// Read it once, whatever its state (after a synchronous change).
    Present,
}

/// How a wait ended.
#[derive(Debug)]
pub enum Settled {
    Available(Box<RemoteObject>),
    Gone,
    /// The task failed: its output.
    Failed(String),
    /// Still not settled at the deadline (last state seen).
    TimedOut(String),
    Api(ApiError),
}

struct Waiter {
    id: String,
    /// The async task (VPN connections); gateways have none.
    task_id: Option<String>,
    expect: Expect,
    deadline: Instant,
    tx: oneshot::Sender<Settled>,
}

#[derive(Default)]
struct Region {
    waiters: Vec<Waiter>,
    running: bool,
}

/// Shared by every step of an apply.
#[derive(Clone)]
pub struct Watcher {
    client: Client,
    regions: Arc<Mutex<HashMap<(String, ResourceKind), Region>>>,
    interval: Duration,
    timeout: Duration,
}

impl Watcher {
    pub fn new(client: Client, timeout: Duration) -> Self {
        Watcher {
            client,
            regions: Arc::default(),
            interval: Duration::from_millis(250),
            timeout,
        }
    }

    /// Waits until connection `id` (whose task is `task_id`) is AVAILABLE or gone.
    pub async fn wait(&self, region: &str, id: &str, task_id: &str, expect: Expect) -> Settled {
        self.wait_for(
            region,
            ResourceKind::VpnConnection,
            id,
            Some(task_id),
            expect,
        )
        .await
    }

    /// Reads an object back (after a synchronous change), batched with the others.
    pub async fn read_back(&self, region: &str, kind: ResourceKind, id: &str) -> Settled {
        self.wait_for(region, kind, id, None, Expect::Present).await
    }

    /// Waits until an object with no task (a new VPN gateway, PENDING at first; a new customer
    /// gateway) can be described as AVAILABLE, and returns what was read.
    pub async fn wait_available(&self, region: &str, kind: ResourceKind, id: &str) -> Settled {
        self.wait_for(region, kind, id, None, Expect::Available)
            .await
    }

    async fn wait_for(
        &self,
        region: &str,
        kind: ResourceKind,
        id: &str,
        task_id: Option<&str>,
        expect: Expect,
    ) -> Settled {
        let (tx, rx) = oneshot::channel();
        let key = (region.to_string(), kind);
        let start_loop = {
            let mut regions = self.regions.lock().expect("watcher lock");
            let r = regions.entry(key.clone()).or_default();
            r.waiters.push(Waiter {
                id: id.to_string(),
                task_id: task_id.map(str::to_string),
                expect,
                deadline: Instant::now() + self.timeout,
                tx,
            });
            !std::mem::replace(&mut r.running, true)
        };
        if start_loop {
            let me = self.clone();
            tokio::spawn(async move { me.run(key).await });
        }
        rx.await
            .unwrap_or_else(|_| Settled::TimedOut("the watcher stopped".into()))
    }

    async fn run(&self, key: (String, ResourceKind)) {
        let (region, kind) = (&key.0, key.1);
        loop {
            tokio::time::sleep(self.interval).await;
            let ids: Vec<String> = {
                let mut regions = self.regions.lock().expect("watcher lock");
                let r = regions.get_mut(&key).expect("region");
                if r.waiters.is_empty() {
                    r.running = false;
                    return;
                }
                let mut ids: Vec<String> = r.waiters.iter().map(|w| w.id.clone()).collect();
                ids.sort();
                ids.dedup();
                ids
            };
            let seen = match read_objects(&self.client, region, kind, &ids).await {
                Ok(objs) => objs,
                Err(e) => {
                    // Reads are retried inside the client; a persistent error ends these waits.
                    let waiters = std::mem::take(
                        &mut self
                            .regions
                            .lock()
                            .expect("watcher lock")
                            .get_mut(&key)
                            .expect("region")
                            .waiters,
                    );
                    for w in waiters {
                        let _ = w.tx.send(Settled::Api(e.clone()));
                    }
                    continue;
                }
            };
            let by_id: HashMap<&str, &RemoteObject> =
                seen.iter().map(|o| (o.id.as_str(), o)).collect();
            let now = Instant::now();
            let mut to_ask: Vec<Waiter> = Vec::new();
            {
                let mut regions = self.regions.lock().expect("watcher lock");
                let r = regions.get_mut(&key).expect("region");
                let mut keep = Vec::with_capacity(r.waiters.len());
                for w in r.waiters.drain(..) {
                    let obj = by_id.get(w.id.as_str());
                    // Customer gateways have no state: described means there.
                    let state = obj
                        .map(|o| {
                            o.attrs
                                .get("state")
                                .and_then(Value::as_str)
                                .unwrap_or("AVAILABLE")
                        })
                        .unwrap_or("");
                    match (w.expect, obj) {
                        (Expect::Present, Some(o)) => {
                            let _ = w.tx.send(Settled::Available(Box::new((*o).clone())));
                        }
                        (Expect::Present, None) => {
                            let _ = w.tx.send(Settled::Gone);
                        }
                        (Expect::Available, Some(o)) if state == "AVAILABLE" => {
                            let _ = w.tx.send(Settled::Available(Box::new((*o).clone())));
                        }
                        // No task to ask: say what was seen.
                        (Expect::Available, None) if w.task_id.is_none() => {
                            let _ =
                                w.tx.send(Settled::Failed(format!("{} no longer exists", w.id)));
                        }
                        (Expect::Available, Some(_))
                            if w.task_id.is_none()
                                && (state.ends_with("ERROR") || state == "DELETED") =>
                        {
                            let _ = w
                                .tx
                                .send(Settled::Failed(format!("{} ended in state {state}", w.id)));
                        }
                        _ if w.task_id.is_none() && now >= w.deadline => {
                            let _ = w.tx.send(Settled::TimedOut(state.to_string()));
                        }
                        (Expect::Gone, None) => {
                            let _ = w.tx.send(Settled::Gone);
                        }
                        // A create that vanished, a delete back to AVAILABLE, or the deadline:
                        // the task says what happened.
                        (Expect::Available, None) | (Expect::Gone, Some(_))
                            if state != "PENDING" && state != "DELETING" =>
                        {
                            to_ask.push(w)
                        }
                        _ if now >= w.deadline => to_ask.push(w),
                        _ => keep.push(w),
                    }
                }
                r.waiters = keep;
            }
            for w in to_ask {
                let Some(task_id) = w.task_id.clone() else {
                    continue;
                };
                let client = self.client.clone();
                let region = region.clone();
                tokio::spawn(async move {
                    let opts = WaitOptions {
                        timeout: Duration::from_secs(30),
                        initial_delay: Duration::ZERO,
                        max_delay: Duration::from_secs(2),
                    };
                    let settled = match client.wait_task(&region, &task_id, opts).await {
                        Ok(TaskOutcome::Failed { output }) => Settled::Failed(output),
                        Ok(TaskOutcome::Success { .. }) => match w.expect {
                            Expect::Gone => Settled::Gone,
                            Expect::Available | Expect::Present => match read_objects(
                                &client,
                                &region,
                                ResourceKind::VpnConnection,
                                std::slice::from_ref(&w.id),
                            )
                            .await
                            {
                                Ok(mut v) if !v.is_empty() => {
                                    Settled::Available(Box::new(v.remove(0)))
                                }
                                Ok(_) => Settled::Failed(format!(
                                    "task {task_id} succeeded but {} does not exist",
                                    w.id
                                )),
                                Err(e) => Settled::Api(e),
                            },
                        },
                        Err(tunnelform_tencent_api::WaitError::Api(e)) => Settled::Api(e),
                        Err(tunnelform_tencent_api::WaitError::Timeout { last_status, .. }) => {
                            Settled::TimedOut(last_status)
                        }
                    };
                    let _ = w.tx.send(settled);
                });
            }
        }
    }
}
