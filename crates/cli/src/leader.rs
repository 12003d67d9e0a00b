//! Which of several `tunnelform watch` replicas on one state may act (apply, reset) in a cycle.
//!
//! With the pg backend the replicas elect a leader through the database (a session advisory lock
//! on a connection of its own, see `tunnelform_state_pg::LeaderElection`); the leader then takes
//! the state lock for its cycle, as any writer does. With a local state file the state lock alone
//! decides: the watcher that holds it acts, another one plans without it. Every replica plans and
//! serves metrics either way. A watcher that is not asked to act never joins the election.

use anyhow::Result;
use tunnelform_state::HeldLock;
use tunnelform_state_pg::{LeaderElection, Leadership};

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

/// The watcher's side of the election, kept across cycles (the pg leader's connection lives here).
#[derive(Default)]
pub struct Actor {
    /// The election joined, with the schema and workspace it elects a leader for.
    election: Option<(LeaderElection, (String, String))>,
    /// The role last reported (events are emitted on changes only).
    reported: Option<Role>,
}

impl Actor {
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
                    self.election = Some((LeaderElection::new(settings)?, key));
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
        let was = self.reported.replace(permit.role);
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
    pub fn resign(&mut self) {
        if let Some((e, _)) = self.election.as_mut() {
            e.resign();
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
        let mut a = Actor::default();
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
    }
}
