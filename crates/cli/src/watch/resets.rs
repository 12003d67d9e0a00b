//! `watch --reset-down-after DURATION`: a tunnel whose `NetStatus` has been down for longer than
//! DURATION gets one ResetVpnConnection, and at most one per DURATION after that while it stays
//! down (a reset that did not bring it back is not repeated every cycle).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use tunnelform_apply::reset::{reset_tunnel, ResetError};

use super::Tunnel;

/// A tunnel due for a reset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Due {
    pub address: String,
    pub id: String,
    pub region: String,
    pub vpn_gateway_id: String,
    /// How long it has been seen down.
    pub down_for: Duration,
}

/// What the watcher remembers between cycles, by tunnel id (an address may move; the id stays).
#[derive(Debug)]
pub(super) struct Resets {
    after: Duration,
    /// When each tunnel was first seen down (in this run of the watcher).
    down_since: HashMap<String, Instant>,
    /// When each tunnel was last reset (or a reset of it was attempted).
    last_reset: HashMap<String, Instant>,
}

impl Resets {
    pub fn new(after: Duration) -> Resets {
        Resets {
            after,
            down_since: HashMap::new(),
            last_reset: HashMap::new(),
        }
    }

    /// Notes which tunnels are down since when (from one cycle's observation, made at `now`) and
    /// returns those due for a reset: down for longer than the threshold, not being created or
    /// deleted (`state` AVAILABLE), and not reset within the last window. `place` gives a
    /// tunnel's region and VPN gateway from the state (a tunnel without them is left alone).
    pub fn due(
        &mut self,
        tunnels: &BTreeMap<String, Tunnel>,
        place: impl Fn(&str) -> Option<(String, String)>,
        now: Instant,
    ) -> Vec<Due> {
        let mut out = Vec::new();
        self.down_since
            .retain(|id, _| tunnels.values().any(|t| &t.id == id && !t.up()));
        self.last_reset
            .retain(|_, at| now.saturating_duration_since(*at) < self.after);
        for (address, t) in tunnels {
            if t.up() || t.id.is_empty() {
                continue;
            }
            let since = *self.down_since.entry(t.id.clone()).or_insert(now);
            let down_for = now.saturating_duration_since(since);
            if down_for < self.after
                || t.state != "AVAILABLE"
                || self.last_reset.contains_key(&t.id)
            {
                continue;
            }
            let Some((region, vpn_gateway_id)) = place(address) else {
                continue;
            };
            out.push(Due {
                address: address.clone(),
                id: t.id.clone(),
                region,
                vpn_gateway_id,
                down_for,
            });
        }
        out
    }

    /// Records a reset of `id` (made or attempted) at `now`: the next one waits a whole window.
    pub fn record(&mut self, id: &str, now: Instant) {
        self.last_reset.insert(id.to_string(), now);
    }
}

/// Resets the tunnels due, one ResetVpnConnection each (nothing else is touched), and returns
/// each with its outcome.
pub(super) async fn run(
    client: &tunnelform_tencent_api::Client,
    due: Vec<Due>,
) -> Vec<(Due, Result<(), ResetError>)> {
    let mut out = Vec::with_capacity(due.len());
    for d in due {
        let r = reset_tunnel(client, &d.region, &d.vpn_gateway_id, &d.id).await;
        out.push((d, r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tunnels(net: &str, state: &str) -> BTreeMap<String, Tunnel> {
        [(
            "tencentcloud_vpn_connection.t".to_string(),
            Tunnel {
                id: "vpnx-1".into(),
                state: state.into(),
                net_status: net.into(),
                health_check_status: String::new(),
            },
        )]
        .into()
    }

    fn place(_: &str) -> Option<(String, String)> {
        Some(("ap-guangzhou".into(), "vpngw-1".into()))
    }

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_tunnel_down_longer_than_the_threshold_is_reset_once_per_window() {
        let mut r = Resets::new(10 * S);
        let t0 = Instant::now();
        let down = tunnels("UNAVAILABLE", "AVAILABLE");
        assert!(r.due(&down, place, t0).is_empty(), "just seen down");
        assert!(r.due(&down, place, t0 + 9 * S).is_empty(), "down 9 s");
        let due = r.due(&down, place, t0 + 10 * S);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].id, "vpnx-1");
        assert_eq!(due[0].vpn_gateway_id, "vpngw-1");
        assert_eq!(due[0].down_for, 10 * S);
        r.record("vpnx-1", t0 + 10 * S);
        // Still down: not again within the window...
        assert!(r.due(&down, place, t0 + 15 * S).is_empty());
        assert!(r.due(&down, place, t0 + 19 * S).is_empty());
        // ...once more after it.
        assert_eq!(r.due(&down, place, t0 + 20 * S).len(), 1);
    }

    #[test]
    fn coming_back_up_starts_the_count_again() {
        let mut r = Resets::new(10 * S);
        let t0 = Instant::now();
        let down = tunnels("UNAVAILABLE", "AVAILABLE");
        r.due(&down, place, t0);
        assert!(r
            .due(&tunnels("AVAILABLE", "AVAILABLE"), place, t0 + 5 * S)
            .is_empty());
        assert!(
            r.due(&down, place, t0 + 12 * S).is_empty(),
            "down again 0 s"
        );
        assert_eq!(r.due(&down, place, t0 + 22 * S).len(), 1);
    }

    #[test]
    fn a_tunnel_being_created_or_deleted_or_without_a_place_is_left_alone() {
        let mut r = Resets::new(S);
        let t0 = Instant::now();
        let pending = tunnels("UNAVAILABLE", "PENDING");
        r.due(&pending, place, t0);
        assert!(r.due(&pending, place, t0 + 5 * S).is_empty());
        let down = tunnels("UNAVAILABLE", "AVAILABLE");
        assert!(r.due(&down, |_| None, t0 + 5 * S).is_empty());
    }
}
