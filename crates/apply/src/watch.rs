//! Waiting on many objects at once.
//!
//! `DescribeVpcTaskResult` allows 20 requests/s, so confirming N creates one task at a time takes at
//! least N/20 seconds. Instead, one watcher per region and kind reads every pending object with
//! batched describes (100 ids per call) and wakes each waiter when its object settles: a VPN
//! connection whose task ran, a new VPN gateway leaving PENDING, a new customer gateway becoming
//! visible. Only when a connection vanishes or does not settle in time is its task asked for, so
//! every failure is still reported with the task's `Output`.
//!
//! Each region's loop, and each task asked, waits on the one waiting helper ([`tunnelform_wait`]);
//! dropping a wait (a cancelled step) drops its waiter at the next describe.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tunnelform_kinds::ResourceKind;
use tunnelform_model::Value;
use tunnelform_tencent_api::{ApiError, Client, TaskOutcome, WaitOptions};
use tunnelform_wait::{Instant, Schedule, Wait, WaitError};

use tunnelform_plan::make::RemoteObject;
use tunnelform_planner::read_objects;

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

/// What one describe says about one waiter.
#[derive(Debug)]
enum Verdict {
    Wait,
    /// Ask the object's task what happened (connections only).
    AskTask,
    Settled(Settled),
}

/// Judges a waiter on one batched describe: `asked` whether its id was in that describe (a waiter
/// registered while the describe was in flight is judged by the next one), `obj` what the describe
/// returned for it, `late` whether its deadline has passed.
fn verdict(
    expect: Expect,
    has_task: bool,
    id: &str,
    asked: bool,
    obj: Option<&RemoteObject>,
    late: bool,
) -> Verdict {
    if !asked {
        return Verdict::Wait;
    }
    // Customer gateways have no state: described means there.
    let state = obj
        .map(|o| {
            o.attrs
                .get("state")
                .and_then(Value::as_str)
                .unwrap_or("AVAILABLE")
        })
        .unwrap_or("");
    let settled = |s| Verdict::Settled(s);
    match (expect, obj) {
        (Expect::Present, Some(o)) => settled(Settled::Available(Box::new(o.clone()))),
        (Expect::Present, None) => settled(Settled::Gone),
        (Expect::Available, Some(o)) if state == "AVAILABLE" => {
            settled(Settled::Available(Box::new(o.clone())))
        }
        // No task to ask: say what was seen.
        (Expect::Available, None) if !has_task => {
            settled(Settled::Failed(format!("{id} no longer exists")))
        }
        (Expect::Available, Some(_))
            if !has_task && (state.ends_with("ERROR") || state == "DELETED") =>
        {
            settled(Settled::Failed(format!("{id} ended in state {state}")))
        }
        _ if !has_task && late => settled(Settled::TimedOut(state.to_string())),
        (Expect::Gone, None) => settled(Settled::Gone),
        // A create that vanished, a delete back to AVAILABLE, or the deadline: the task says what
        // happened.
        (Expect::Available, None) | (Expect::Gone, Some(_))
            if state != "PENDING" && state != "DELETING" =>
        {
            Verdict::AskTask
        }
        _ if late => Verdict::AskTask,
        _ => Verdict::Wait,
    }
}

/// Shared by every step of an apply.
#[derive(Clone)]
pub struct Watcher {
    client: Client,
    regions: Arc<Mutex<HashMap<(String, ResourceKind), Region>>>,
    timeout: Duration,
}

impl Watcher {
    pub fn new(client: Client, timeout: Duration) -> Self {
        Watcher {
            client,
            regions: Arc::default(),
            timeout,
        }
    }

    /// Waits until object `id` (whose task is `task_id`) is AVAILABLE or gone.
    pub async fn wait(
        &self,
        region: &str,
        kind: ResourceKind,
        id: &str,
        task_id: &str,
        expect: Expect,
    ) -> Settled {
        self.wait_for(region, kind, id, Some(task_id), expect).await
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

    /// Polls for the waiters of `key` on a fixed interval, on the waiting helper, until none is
    /// left.
    async fn run(&self, key: (String, ResourceKind)) {
        // Each kind says how often it is worth asking (a kind with thousands of objects per
        // region less often than one with a few).
        let interval = key.1.def().poll_interval();
        let key = &key;
        // No deadline: each waiter has its own, judged on every describe.
        let stopped: Result<bool, WaitError<bool, Infallible>> =
            Wait::new(Schedule::every(interval))
                .until(|_| self.describe_once(key), |more| !*more)
                .await;
        debug_assert!(matches!(stopped, Ok(false)));
    }

    /// One batched describe of every object waited for under `key`, settling the waiters it can.
    /// Returns whether waiters remain (when none does, the region's loop is marked stopped under the
    /// same lock that registers waiters, so a new waiter starts a new loop).
    async fn describe_once(&self, key: &(String, ResourceKind)) -> Result<bool, Infallible> {
        let (region, kind) = (&key.0, key.1);
        let ids: Vec<String> = {
            let mut regions = self.regions.lock().expect("watcher lock");
            let r = regions.get_mut(key).expect("region");
            // A waiter whose wait was dropped (its step cancelled) is not read for any more.
            r.waiters.retain(|w| !w.tx.is_closed());
            if r.waiters.is_empty() {
                r.running = false;
                return Ok(false);
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
                        .get_mut(key)
                        .expect("region")
                        .waiters,
                );
                for w in waiters {
                    let _ = w.tx.send(Settled::Api(e.clone()));
                }
                return Ok(true);
            }
        };
        let by_id: HashMap<&str, &RemoteObject> = seen.iter().map(|o| (o.id.as_str(), o)).collect();
        let asked: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let now = Instant::now();
        let mut to_ask: Vec<Waiter> = Vec::new();
        {
            let mut regions = self.regions.lock().expect("watcher lock");
            let r = regions.get_mut(key).expect("region");
            let mut keep = Vec::with_capacity(r.waiters.len());
            for w in r.waiters.drain(..) {
                let asked_for = asked.contains(w.id.as_str());
                let obj = by_id.get(w.id.as_str()).copied();
                match verdict(
                    w.expect,
                    w.task_id.is_some(),
                    &w.id,
                    asked_for,
                    obj,
                    now >= w.deadline,
                ) {
                    Verdict::Wait => keep.push(w),
                    Verdict::AskTask => to_ask.push(w),
                    Verdict::Settled(s) => {
                        let _ = w.tx.send(s);
                    }
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
                        Expect::Available | Expect::Present => {
                            match read_objects(&client, &region, kind, std::slice::from_ref(&w.id))
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
                            }
                        }
                    },
                    Err(tunnelform_tencent_api::WaitError::Api(e)) => Settled::Api(e),
                    Err(tunnelform_tencent_api::WaitError::Timeout { last_status, .. }) => {
                        Settled::TimedOut(last_status)
                    }
                };
                let _ = w.tx.send(settled);
            });
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(id: &str, state: Option<&str>) -> RemoteObject {
        let mut attrs = tunnelform_plan::Attrs::new();
        if let Some(st) = state {
            attrs.insert("state".into(), Value::from(st));
        }
        RemoteObject {
            id: id.into(),
            kind: ResourceKind::VpnGateway,
            region: "ap-guangzhou".into(),
            attrs,
            ownership: Default::default(),
        }
    }

    fn is_wait(v: &Verdict) -> bool {
        matches!(v, Verdict::Wait)
    }

    #[test]
    fn a_waiter_the_describe_did_not_ask_for_waits_for_the_next_one() {
        // Registered while the describe was in flight: absent from its answer, but not gone.
        for (expect, task) in [
            (Expect::Available, false),
            (Expect::Available, true),
            (Expect::Present, false),
            (Expect::Gone, true),
        ] {
            assert!(is_wait(&verdict(expect, task, "x", false, None, false)));
            assert!(is_wait(&verdict(expect, task, "x", false, None, true)));
        }
        // Asked for and absent: a new gateway is reported gone, a connection's task is asked.
        assert!(matches!(
            verdict(Expect::Available, false, "vpngw-1", true, None, false),
            Verdict::Settled(Settled::Failed(m)) if m.contains("vpngw-1 no longer exists")
        ));
        assert!(matches!(
            verdict(Expect::Available, true, "vpnx-1", true, None, false),
            Verdict::AskTask
        ));
    }

    #[test]
    fn states_settle_as_expected() {
        let pending = obj("vpngw-1", Some("PENDING"));
        let available = obj("vpngw-1", Some("AVAILABLE"));
        let cgw = obj("cgw-1", None);
        assert!(is_wait(&verdict(
            Expect::Available,
            false,
            "vpngw-1",
            true,
            Some(&pending),
            false
        )));
        assert!(matches!(
            verdict(Expect::Available, false, "vpngw-1", true, Some(&pending), true),
            Verdict::Settled(Settled::TimedOut(s)) if s == "PENDING"
        ));
        assert!(matches!(
            verdict(
                Expect::Available,
                false,
                "vpngw-1",
                true,
                Some(&available),
                false
            ),
            Verdict::Settled(Settled::Available(_))
        ));
        assert!(matches!(
            verdict(Expect::Available, false, "cgw-1", true, Some(&cgw), false),
            Verdict::Settled(Settled::Available(_))
        ));
        assert!(matches!(
            verdict(
                Expect::Present,
                false,
                "vpngw-1",
                true,
                Some(&pending),
                false
            ),
            Verdict::Settled(Settled::Available(_))
        ));
        assert!(matches!(
            verdict(Expect::Gone, true, "vpnx-1", true, None, false),
            Verdict::Settled(Settled::Gone)
        ));
        let deleting = obj("vpnx-1", Some("DELETING"));
        assert!(is_wait(&verdict(
            Expect::Gone,
            true,
            "vpnx-1",
            true,
            Some(&deleting),
            false
        )));
        assert!(matches!(
            verdict(Expect::Gone, true, "vpnx-1", true, Some(&deleting), true),
            Verdict::AskTask
        ));
    }
}
