//! Resetting a tunnel (ResetVpnConnection): what `tunnelform reset` and the watcher's
//! `--reset-down-after` share. A reset touches one tunnel and nothing else: one
//! `ResetVpnConnection`, and `DescribeVpnConnections` of that tunnel to see it before and after.
//!
//! The API documents no task for a reset (it answers with only a request id): the tunnel
//! renegotiates on its own, and it is back when its `NetStatus` is `AVAILABLE` again.

use std::time::Duration;

use tunnelform_tencent_api::actions::ResetVpnConnection;
use tunnelform_tencent_api::vpc::ResetVpnConnectionRequest;
use tunnelform_tencent_api::{ApiError, Client};
use tunnelform_wait::{Schedule, Wait, WaitError};

/// A tunnel's health as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelStatus {
    /// `State`: `PENDING`, `AVAILABLE`, `DELETING`...
    pub state: String,
    /// `NetStatus`: `AVAILABLE` when the tunnel is up.
    pub net_status: String,
    pub health_check_status: String,
    /// The VPN gateway the tunnel belongs to (what ResetVpnConnection names it by).
    pub vpn_gateway_id: String,
}

impl TunnelStatus {
    /// Whether the tunnel is up.
    pub fn up(&self) -> bool {
        self.net_status == "AVAILABLE"
    }
}

/// Why a reset could not be made or followed.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("the tunnel {id} does not exist in region {region} (deleted outside tunnelform?)")]
    Gone { id: String, region: String },
    #[error("reading the tunnel {id} failed: {source}")]
    Read {
        id: String,
        #[source]
        source: ApiError,
    },
    #[error("ResetVpnConnection of {id} failed: {source}")]
    Reset {
        id: String,
        #[source]
        source: ApiError,
    },
}

/// Reads one tunnel's status (one `DescribeVpnConnections`); `Gone` when it does not exist.
pub async fn tunnel_status(
    client: &Client,
    region: &str,
    id: &str,
) -> Result<TunnelStatus, ResetError> {
    let found = client
        .describe_vpn_connections_by_ids(region, &[id.to_string()])
        .await
        .map_err(|source| ResetError::Read {
            id: id.to_string(),
            source,
        })?;
    let c = found
        .into_iter()
        .find(|c| c.vpn_connection_id == id)
        .ok_or_else(|| ResetError::Gone {
            id: id.to_string(),
            region: region.to_string(),
        })?;
    Ok(TunnelStatus {
        state: c.state,
        net_status: c.net_status,
        health_check_status: c.health_check_status,
        vpn_gateway_id: c.vpn_gateway_id,
    })
}

/// Sends ResetVpnConnection for tunnel `id` of gateway `vpn_gateway_id` (one call; the client
/// retries only what proves the server did not act).
pub async fn reset_tunnel(
    client: &Client,
    region: &str,
    vpn_gateway_id: &str,
    id: &str,
) -> Result<(), ResetError> {
    let req = ResetVpnConnectionRequest {
        vpn_gateway_id: vpn_gateway_id.to_string(),
        vpn_connection_id: id.to_string(),
    };
    client
        .call::<ResetVpnConnection>(region, &req)
        .await
        .map(|_| ())
        .map_err(|source| {
            if source.is_not_found() {
                ResetError::Gone {
                    id: id.to_string(),
                    region: region.to_string(),
                }
            } else {
                ResetError::Reset {
                    id: id.to_string(),
                    source,
                }
            }
        })
}

/// How a reset settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The last status read.
    pub status: TunnelStatus,
    /// Whether the tunnel came back up before the timeout.
    pub up: bool,
    pub waited: Duration,
}

/// The poll schedule while a reset settles: the first look after `first` (the tunnel takes a moment
/// to drop its negotiation), then growing up to 5 s.
pub fn settle_schedule(first: Duration) -> Schedule {
    Schedule {
        first,
        then: first,
        factor: 1.5,
        max: Duration::from_secs(5),
    }
}

/// Waits until the tunnel is up again (`NetStatus` `AVAILABLE`) or `timeout` passes, reading only
/// that tunnel.
pub async fn settle(
    client: &Client,
    region: &str,
    id: &str,
    schedule: Schedule,
    timeout: Duration,
) -> Result<Settled, ResetError> {
    let started = tokio::time::Instant::now();
    match Wait::new(schedule)
        .timeout(timeout)
        .until(
            |_| async { tunnel_status(client, region, id).await },
            TunnelStatus::up,
        )
        .await
    {
        Ok(status) => Ok(Settled {
            status,
            up: true,
            waited: started.elapsed(),
        }),
        Err(WaitError::TimedOut { last, waited, .. }) => Ok(Settled {
            status: last,
            up: false,
            waited,
        }),
        Err(WaitError::Failed(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settle_schedule_starts_after_the_first_delay_and_is_capped() {
        let d: Vec<Duration> = settle_schedule(Duration::from_millis(250))
            .delays()
            .take(12)
            .collect();
        assert_eq!(d[0], Duration::from_millis(250));
        assert_eq!(d[1], Duration::from_millis(250));
        assert_eq!(d[2], Duration::from_millis(375));
        assert_eq!(*d.last().unwrap(), Duration::from_secs(5));
    }
}
