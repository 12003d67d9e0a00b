//! `tunnelform reset ADDR`: reset one tunnel of the state (ResetVpnConnection) and report its
//! `state` and `net_status` before and after.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use tunnelform_apply::reset::{reset_tunnel, settle, settle_schedule, tunnel_status, ResetError};
use tunnelform_kinds::ResourceKind;
use tunnelform_model::{Address, Mode};

use crate::args::Common;
use crate::context::{check_cloud, client, Rendered};

/// What `tunnelform reset` was asked to do.
pub struct ResetArgs<'a> {
    pub address: &'a str,
    pub dir: &'a Path,
    pub auto_approve: bool,
    /// How long to wait for the tunnel to come back up.
    pub timeout: Duration,
    pub common: &'a Common,
}

/// Exit codes: 0 when the tunnel is up after the reset, 1 on an error or when it is still down
/// at the end of `--timeout`.
pub async fn reset(args: ResetArgs<'_>) -> Result<u8> {
    let addr: Address = args.address.parse()?;
    let opened = crate::commands::backend_for(args.dir, args.common)?;
    // Only read: the reset changes nothing the state records, so the state is not locked (a
    // watcher holding it for its cycle does not block a reset).
    let mut state = crate::commands::existing_state(&opened)?;
    let rs = match state.resources.get(&addr) {
        Some(rs) => rs,
        None => {
            let instances: Vec<String> = state
                .resources
                .keys()
                .filter(|a| addr.contains(a))
                .map(ToString::to_string)
                .collect();
            if instances.is_empty() {
                bail!("{addr} is not in the state (tunnelform state list shows what is)");
            }
            bail!(
                "{addr} is a resource with instances; name the one to reset: {}",
                instances.join(", ")
            );
        }
    };
    if rs.mode == Mode::Data || rs.kind() != Some(ResourceKind::VpnConnection) {
        let what = if rs.mode == Mode::Data {
            format!("a data source ({})", rs.type_name)
        } else {
            format!("a {}", rs.type_name)
        };
        bail!(
            "{addr} is {what}; only tunnels ({}) can be reset",
            ResourceKind::VpnConnection.type_name()
        );
    }
    let (id, region) = (rs.id.clone(), rs.region.clone());
    if region.is_empty() {
        bail!("the state does not record the region of {addr} ({id}); run `tunnelform plan` or `apply` once to record it, then reset");
    }
    let (client, sandbox) = client(args.common, "reset").await?;
    check_cloud(&client, args.common, &opened.name, &mut state, false).await?;
    let result = run(&args, &client, &addr, &id, &region).await;
    if let Some(s) = sandbox {
        s.shutdown().await.ok();
    }
    result
}

fn line(what: &str, s: &tunnelform_apply::reset::TunnelStatus) -> String {
    let health = if s.health_check_status.is_empty() {
        String::new()
    } else {
        format!(" health_check_status={}", s.health_check_status)
    };
    format!(
        "  {what} state={} net_status={}{health}",
        s.state, s.net_status
    )
}

fn gone(e: ResetError, addr: &Address) -> anyhow::Error {
    match e {
        ResetError::Gone { id, region } => anyhow!(
            "{addr} ({id}) no longer exists in region {region}: it was deleted outside tunnelform. \
             Nothing was reset; `tunnelform plan` shows it being created again"
        ),
        other => anyhow::Error::new(other),
    }
}

async fn run(
    args: &ResetArgs<'_>,
    client: &tunnelform_tencent_api::Client,
    addr: &Address,
    id: &str,
    region: &str,
) -> Result<u8> {
    let before = tunnel_status(client, region, id)
        .await
        .map_err(|e| gone(e, addr))?;
    outln!(
        "{addr} ({id}, VPN gateway {}, {region})",
        before.vpn_gateway_id
    );
    outln!("{}", line("before:", &before));
    if before.up() && !args.auto_approve {
        // A tunnel that is up carries traffic the reset interrupts: that is worth a question.
        if !std::io::stdin().is_terminal() {
            return Err(Rendered(format!(
                "error: {addr} is up (net_status AVAILABLE): resetting it interrupts its traffic while it renegotiates.\n\
                 There is no terminal to ask on; run again with --auto-approve to reset it anyway."
            ))
            .into());
        }
        out!("\n{addr} is up: resetting it interrupts its traffic while it renegotiates.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            outln!("\nReset cancelled.");
            return Ok(1);
        }
    }
    reset_tunnel(client, region, &before.vpn_gateway_id, id)
        .await
        .map_err(|e| gone(e, addr))?;
    outln!(
        "  reset requested; waiting for the tunnel to come back up (at most {}s)",
        args.timeout.as_secs()
    );
    let first = tunnelform_kinds::ResourceKind::VpnConnection
        .def()
        .poll_interval();
    let settled = settle(client, region, id, settle_schedule(first), args.timeout)
        .await
        .map_err(|e| gone(e, addr))?;
    outln!(
        "{} (after {:.1}s)",
        line("after: ", &settled.status),
        settled.waited.as_secs_f64()
    );
    if settled.up {
        outln!("\n{addr} is up.");
        Ok(0)
    } else {
        errln!(
            "error: {addr} is still down {:.0}s after the reset (net_status {}). Check the peer device (its address, pre-shared key and proposals), or wait longer with --timeout.",
            settled.waited.as_secs_f64(),
            settled.status.net_status
        );
        Ok(1)
    }
}
