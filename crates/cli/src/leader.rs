//! Which of several `tunnelform watch` replicas on one state may act (apply, reset) in a cycle.
//!
//! With the pg backend the replicas elect a leader through the database (a session advisory lock
//! on a connection of its own, see `tunnelform_state_pg::LeaderElection`); the leader then takes
//! the state lock for its cycle, as any writer does. With a local state file the state lock alone
//! decides: the watcher that holds it acts, another one plans without it. Every replica plans and
//! serves metrics either way. A watcher that is not asked to act never joins the election.
//!
//! A pg leader keeps the lead by heartbeats on a lease derived from the interval ([`lease_for`]);
//! when they fail, the election tells the watch loop at once (`Actor::new`'s channel), which
//! reports `leader_lost` and stops an apply in flight, without waiting for the next cycle.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use tunnelform_state::HeldLock;
use tunnelform_state_pg::{LeaderElection, Leadership, OnLost};

use crate::backend::Opened;

/// This watcher's role, as `/readyz` and the `tunnelform_leader` metric report it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Role {
    /// Not asked to act (no `--auto-apply`): plans and reports only.
    #[default]
    Observer,
    Leader,
    Follower,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Observer => "observer",
            Role::Leader => "leader",
            Role::Follower => "follower",
        }
    }
}

/// The answer for one cycle: with `lock`, this watcher may write the state and act on the cloud.
pub struct Permit {
    pub role: Role,
    /// The state lock, held for the cycle by the watcher that may act.
    pub lock: Option<Box<dyn HeldLock>>,
    /// Why this watcher does not act this cycle (who leads, who holds the lock).
    pub reason: Option<String>,
}

impl Permit {
    /// May this watcher apply, reset or settle the journal this cycle?
    pub fn may_act(&self) -> bool {
        self.lock.is_some()
    }

    pub async fn release(self) {
        if let Some(lock) = self.lock {
            let _ = lock.unlock().await;
        }
    }
}

/// The pg leader's lease for a watch interval: one interval, at least
/// [`tunnelform_state_pg::MIN_LEASE`] and at most a minute. A leader that stops heartbeating
/// (dead, stopped, cut off) loses the lead within one lease.
pub fn lease_for(interval: Duration) -> Duration {
    interval.clamp(tunnelform_state_pg::MIN_LEASE, Duration::from_secs(60))
}

/// The role last reported, shared with the watch loop (which reports a lost lead as it happens).
pub type Reported = Arc<Mutex<Option<Role>>>;

/// The watcher's side of the election, kept across cycles (the pg leader's connection lives here).
pub struct Actor {
    /// The election joined, with the schema and workspace it elects a leader for.
    election: Option<(LeaderElection, (String, String))>,
    /// The role last reported (events are emitted on changes only).
    reported: Reported,
    lease: Duration,
    /// Told why, when a pg lead is lost between polls.
    lost: tokio::sync::mpsc::UnboundedSender<String>,
}

impl Actor {
    /// An actor whose pg leases last `lease`; a lead lost between polls is sent to `lost`.
    pub fn new(lease: Duration, lost: tokio::sync::mpsc::UnboundedSender<String>) -> Actor {
        Actor {
            election: None,
            reported: Reported::default(),
            lease,
            lost,
        }
    }

    /// The role last reported, for the loop that reports a lost lead.
    pub fn reported(&self) -> Reported {
        self.reported.clone()
    }

    /// Whether this watcher still leads at this instant (no I/O): a pg leader whose lease ran
    /// out since the cycle's decision does not act. True without an election (local state).
    pub fn still_leads(&self) -> bool {
        self.election.as_ref().is_none_or(|(e, _)| e.leads_now())
    }

    /// The one decision of "may this watcher act this cycle?". `wants_to_act` is false for a
    /// watcher that only reports (it takes no lock and joins no election).
    pub async fn decide(&mut self, opened: &Opened, wants_to_act: bool) -> Result<Permit> {
        if !wants_to_act {
            return Ok(Permit {
                role: Role::Observer,
                lock: None,
                reason: None,
            });
        }
        if !opened.is_local() {
            // The opened backend's own settings: the workspace this cycle works on (selected in
            // `.terraform/environment` or by TF_WORKSPACE) is the one whose leader is elected. When
            // the selection changes under a running watcher, it leaves the old election (its
            // connection closes, freeing that lead) and joins the new one.
            if let Some(pg) = opened.pg.as_ref() {
                let settings = pg.settings();
                let key = (settings.schema.clone(), settings.workspace.clone());
                if self.election.as_ref().is_none_or(|(_, k)| *k != key) {
                    self.election = None;
                    let lost = self.lost.clone();
                    let on_lost: OnLost = Arc::new(move |why: String| {
                        let _ = lost.send(why);
                    });
                    self.election = Some((
                        LeaderElection::new(settings, self.lease, Some(on_lost))?,
                        key,
                    ));
                }
            }
            if let Some((e, _)) = self.election.as_mut() {
                match e.poll().await {
                    Ok(Leadership::Leader) => {}
                    Ok(Leadership::Follower { leader }) => {
                        return Ok(follower(format!(
                            "{} leads",
                            leader.as_deref().unwrap_or("another watcher")
                        )))
                    }
                    Err(err) => {
                        return Ok(follower(format!(
                            "the leader election could not ask the database: {err}"
                        )))
                    }
                }
            }
        }
        match opened
            .backend
            .lock(
                tunnelform_state::LockInfo::new("watch"),
                None,
                Box::new(|_| {}),
            )
            .await
        {
            Ok(lock) => Ok(Permit {
                role: Role::Leader,
                lock: Some(lock),
                reason: None,
            }),
            Err(tunnelform_state::BackendError::Lock(l)) => {
                let holder = match &*l {
                    tunnelform_state::LockError::Held { holder, .. } => holder
                        .as_ref()
                        .map_or_else(|| "another process".to_string(), |h| h.to_string()),
                    other => other.to_string(),
                };
                let mut p = follower(format!("the state lock is held by {holder}"));
                // A pg leader whose state is locked by another run (an `apply` by hand) still
                // leads; it acts again once the lock is free.
                if !opened.is_local() {
                    p.role = Role::Leader;
                }
                Ok(p)
            }
            Err(e) => Err(anyhow::Error::new(e).context("taking the state lock")),
        }
    }

    /// The role change since the last report, if any: (`leader_acquired` / `leader_lost` /
    /// `follower`, the reason to give).
    pub fn change(&mut self, permit: &Permit) -> Option<(&'static str, Option<String>)> {
        let was = self
            .reported
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(permit.role);
        if was == Some(permit.role) || permit.role == Role::Observer {
            return None;
        }
        Some(match (was, permit.role) {
            (_, Role::Leader) => ("leader_acquired", None),
            (Some(Role::Leader), _) => ("leader_lost", permit.reason.clone()),
            _ => ("follower", permit.reason.clone()),
        })
    }

    /// Gives up the lead on stop, so another replica takes over at once.
    pub async fn resign(&mut self) {
        if let Some((e, _)) = self.election.as_mut() {
            e.resign().await;
        }
    }
}

fn follower(reason: String) -> Permit {
    Permit {
        role: Role::Follower,
        lock: None,
        reason: Some(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permit(role: Role, reason: Option<&str>) -> Permit {
        Permit {
            role,
            lock: None,
            reason: reason.map(str::to_string),
        }
    }

    #[test]
    fn role_changes_are_reported_once() {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let mut a = Actor::new(Duration::from_secs(2), tx);
        assert_eq!(
            a.change(&permit(Role::Follower, Some("x leads"))),
            Some(("follower", Some("x leads".into())))
        );
        assert_eq!(a.change(&permit(Role::Follower, Some("y leads"))), None);
        assert_eq!(
            a.change(&permit(Role::Leader, None)),
            Some(("leader_acquired", None))
        );
        assert_eq!(a.change(&permit(Role::Leader, None)), None);
        assert_eq!(
            a.change(&permit(Role::Follower, Some("z leads"))),
            Some(("leader_lost", Some("z leads".into())))
        );
        // A loss the watch loop reported already (between cycles) is not reported again.
        assert_eq!(
            a.change(&permit(Role::Leader, None)),
            Some(("leader_acquired", None))
        );
        *a.reported().lock().unwrap() = Some(Role::Follower);
        assert_eq!(a.change(&permit(Role::Follower, Some("z leads"))), None);
    }

    #[test]
    fn the_lease_is_one_interval_within_bounds() {
        assert_eq!(
            lease_for(Duration::from_millis(300)),
            Duration::from_secs(2)
        );
        assert_eq!(lease_for(Duration::from_secs(10)), Duration::from_secs(10));
        assert_eq!(
            lease_for(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
    }
}
