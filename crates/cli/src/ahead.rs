//! What `plan` starts before its configuration is loaded: the configuration loads on a thread of
//! its own while the state is opened, locked and loaded, and the state's objects start being read
//! from the cloud as soon as a quick look at the state (its file, or the rows the pg lock read)
//! names them (the rate limits make that refresh take about a second at 10,000 tunnels: the loads
//! now happen during it, not before it).
//!
//! Only when where the state lives is known without the configuration: `--state FILE`, no `*.tf`
//! file mentioning a backend (then the default file is the state whatever the configuration says),
//! or the `backend "pg"` block read early (a pg state's refresh starts once its lock has read its
//! rows, before they are parsed).
//! Once it has loaded, the configuration is checked to name that same state; if it does not, what
//! was started is dropped (the lock released, the reads cancelled) and the command goes the usual
//! way.

use std::path::Path;
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use tunnelform_config::Config;
use tunnelform_kinds::ResourceKind;
use tunnelform_planner::Prefetch;
use tunnelform_tencent_api::Client;

use crate::args::Common;

/// The configuration, loading on its own thread.
pub struct ConfigLoad(JoinHandle<Result<(Config, tunnelform_model::Diagnostics)>>);

impl ConfigLoad {
    pub fn start(dir: &Path, common: &Common) -> Result<Self> {
        let dir = dir.to_path_buf();
        let common = common.clone();
        let handle = std::thread::Builder::new()
            .name("tunnelform-config".into())
            .spawn(move || {
                let loaded = crate::context::load_config_quiet(&dir, &common, Config::load);
                tracing::debug!(ok = loaded.is_ok(), "configuration loaded");
                loaded
            })
            .context("cannot start a thread to load the configuration")?;
        Ok(ConfigLoad(handle))
    }

    /// The loaded configuration (its warnings printed now, as [`crate::context::load_config`]
    /// prints them).
    pub fn join(self) -> Result<Config> {
        let (config, warnings) = match self.0.join() {
            Ok(r) => r?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if !warnings.is_empty() {
            errln!("{warnings}");
        }
        Ok(config)
    }
}

/// Whether the state's backend is known without loading the configuration: `--state FILE`, or
/// no `*.tf` file of `dir` mentioning a backend (the default local file).
pub fn state_known_without_config(dir: &Path, common: &Common) -> bool {
    common.state.is_some() || !crate::commands::mentions_backend(dir)
}

/// Whether the loaded configuration agrees with [`state_known_without_config`]: it names no
/// backend that would put the state elsewhere.
pub fn config_agrees(config: &Config, common: &Common) -> bool {
    common.state.is_some()
        || (config.backend_pg().is_none()
            && config.backend_path().is_none()
            && config.backend_workspace_dir().is_none())
}

/// The state's objects being read from the cloud (a spawned task, cancelled when dropped).
pub struct Refreshing(Prefetch);

impl Refreshing {
    /// Starts reading the objects the state names, from a quick look at it before it is loaded
    /// ([`tunnelform_state::StateBackend::peek`]: the file, or the rows the pg lock read). Nothing
    /// is started when the state cannot be looked at that way or names nothing, nor when it
    /// records a cloud account that is not the one this run talks to (the state's check then says
    /// so before any read: the account is asked first, once, as the check would).
    pub async fn start(
        client: &Client,
        common: &Common,
        backend: &dyn tunnelform_state::StateBackend,
    ) -> Result<Option<Self>> {
        let Some(peeked) = backend.peek() else {
            return Ok(None);
        };
        if let Some(account) = &peeked.cloud_account {
            let current = crate::context::current_cloud(client, common).await?;
            if &current.account != account && !common.allow_other_account {
                return Ok(None);
            }
        }
        let objects: Vec<(String, ResourceKind, String)> = peeked
            .objects
            .into_iter()
            .filter_map(|o| {
                let kind = ResourceKind::from_type_name(&o.type_name)?;
                Some((o.region, kind, o.id))
            })
            .collect();
        if objects.is_empty() {
            return Ok(None);
        }
        tracing::debug!(
            objects = objects.len(),
            "refresh started ahead of the state's load"
        );
        Ok(Some(Refreshing(tunnelform_planner::prefetch(
            client.clone(),
            objects,
        ))))
    }

    /// Starts reading the objects of the loaded `state` (when its backend could not be looked
    /// into before loading it), while the configuration may still be loading.
    pub fn of_state(client: &Client, state: &tunnelform_state::State) -> Option<Self> {
        let objects = tunnelform_planner::refresh::state_objects(state);
        if objects.is_empty() {
            return None;
        }
        Some(Refreshing(tunnelform_planner::prefetch(
            client.clone(),
            objects,
        )))
    }

    /// The reads under way, for the plan to take their answers as they come.
    pub fn into_reads(self) -> Prefetch {
        self.0
    }
}
