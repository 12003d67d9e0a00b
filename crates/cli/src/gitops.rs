//! Commands for the GitOps workflow: import, migration from Terraform, force-unlock.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use tunnelform_apply::refresh::read_objects;
use tunnelform_apply::store::resource_state;
use tunnelform_config::InstanceKind;
use tunnelform_model::Address;
use tunnelform_state::{LockInfo, Origin, StateFile, StateLock};

use crate::args::Common;
use crate::context::{
    check_cloud, client, load_config, parse_duration, record_cloud, state_path, Rendered,
};

/// Takes the lock of the state at `spath` for `operation`. With `--lock-timeout`, waits for the
/// holder (saying so on stderr, with who holds it) up to that long; without, fails at once naming
/// the holder.
pub(crate) fn lock_state(spath: &Path, operation: &str, common: &Common) -> Result<StateLock> {
    let timeout = common
        .lock_timeout
        .as_deref()
        .map(parse_duration)
        .transpose()?;
    let mut on_wait = |holder: Option<&tunnelform_state::LockRecord>| {
        let who = holder.map_or_else(|| "another process".to_string(), |h| h.to_string());
        errln!(
            "Waiting for the state lock on {} (up to {}), held by {who}...",
            spath.display(),
            timeout.map_or_else(String::new, human_duration),
        );
    };
    // Waiting for the lock sleeps: the runtime is told this thread blocks, so the tasks already
    // running (the embedded sandbox, signal listeners) move to other threads meanwhile.
    let acquired = tokio::task::block_in_place(|| {
        StateLock::acquire_with(spath, LockInfo::new(operation), timeout, &mut on_wait)
    });
    acquired.map_err(|e| {
        let held = matches!(e, tunnelform_state::LockError::Held { .. });
        let e = anyhow::Error::new(e);
        if !held {
            return e;
        }
        let no_lock = if operation == "plan" {
            ", or plan without the lock with --lock=false"
        } else {
            ""
        };
        e.context(format!(
            "cannot {operation}: another run holds the state lock. Wait for it with --lock-timeout DURATION (e.g. --lock-timeout 5m){no_lock}"
        ))
    })
}

pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        format!("{ms}ms")
    } else {
        format!("{}s", d.as_secs())
    }
}

/// `tunnelform import ADDR ID`: record an existing object in state (no write to the cloud).
pub async fn import(dir: &Path, address: &str, id: &str, common: &Common) -> Result<u8> {
    let addr: Address = address.parse().map_err(|e| anyhow!("{e}"))?;
    let config = load_config(dir, common)?;
    // The address must be in the configuration: that is where its region and kind come from.
    let mut found = None;
    for block in config.block_order().map_err(|d| Rendered(d.to_string()))? {
        if block != addr.resource() {
            continue;
        }
        let instances = config
            .expand_block(&block, &tunnelform_config::NoLookup)
            .map_err(|d| Rendered(d.to_string()))?;
        found = instances.into_iter().find(|i| i.address == addr);
    }
    let inst = found.ok_or_else(|| {
        anyhow!("{addr} is not in the configuration in {}: add its resource block first, then import into it", dir.display())
    })?;
    let InstanceKind::Managed(kind) = inst.kind else {
        bail!("{addr} is a data source; only managed resources can be imported")
    };
    if !kind.owns_id(&id) {
        bail!(
            "{id:?} is not the id of a {} (those {})",
            kind.type_name(),
            kind.def().id_form()
        );
    }
    let spath = state_path(dir, Some(&config), common);
    let _lock = lock_state(&spath, "import", common)?;
    let file = StateFile::open(&spath).map_err(|e| anyhow!("{e}"))?;
    let mut state = file.load().map_err(|e| anyhow!("{e}"))?;
    if let Some(existing) = state.resources.get(&addr) {
        bail!("{addr} is already in the state (id {}); `tunnelform state rm {addr}` first to import another object there", existing.id);
    }
    if let Some((other, _)) = state.resources.iter().find(|(_, r)| r.id == id) {
        bail!("{id} is already managed as {other}: one object cannot be managed at two addresses");
    }
    let (client, sandbox) = client(common, "import").await?;
    check_cloud(&client, common, &spath, &mut state, false).await?;
    let objects = read_objects(&client, &inst.provider.region, kind, &[id.to_string()])
        .await
        .map_err(|e| anyhow!("{e}"))?;
    // One id asked, so at most one object; its id may be the kind's full form of the one given
    // (a gateway route imported by its bare vpnr- id is recorded as <vpngw-id>#<vpnr-id>).
    let obj = objects.into_iter().next().ok_or_else(|| {
        anyhow!(
            "cannot import {addr}: no {} with id {id} in region {}",
            kind.type_name(),
            inst.provider.region
        )
    })?;
    if let Some((other, _)) = state.resources.iter().find(|(_, r)| r.id == obj.id) {
        bail!(
            "{} is already managed as {other}: one object cannot be managed at two addresses",
            obj.id
        );
    }
    let rs = resource_state(
        kind,
        &obj.id,
        &inst.provider.region,
        inst.provider.alias.as_deref(),
        &obj.attrs,
        Some(&inst.attrs),
        inst.depends_on.clone(),
        inst.lifecycle.create_before_destroy,
        Origin::Imported,
        obj.ownership.lineage.is_some(),
        None,
    );
    state.resources.insert(addr.clone(), rs);
    record_cloud(&client, common, &mut state).await?;
    file.save(&mut state).map_err(|e| anyhow!("{e}"))?;
    if let Some(s) = sandbox {
        s.shutdown().await.ok();
    }
    outln!("{addr}: Import complete [id={}]\n\nThe object is now in the state. Run `tunnelform plan` to compare it with the configuration.", obj.id);
    Ok(0)
}

/// `tunnelform state migrate-terraform FILE`: write tunnelform state from a Terraform state (v4).
pub fn migrate_terraform(dir: &Path, tf_state: &Path, common: &Common) -> Result<u8> {
    let text = std::fs::read_to_string(tf_state)
        .with_context(|| format!("reading {}", tf_state.display()))?;
    let config = match load_config(dir, common) {
        Ok(c) => Some(c),
        Err(e) => {
            errln!(
                "warning: the configuration in {} does not load, so its provider regions are unknown; regions are inferred from the Terraform state instead:\n{}",
                dir.display(),
                crate::context::render_error(&e)
            );
            None
        }
    };
    let mut opts = tunnelform_state::MigrateOptions::default();
    if let Some(cfg) = &config {
        for p in cfg.providers() {
            opts.region_by_alias
                .insert(p.alias.clone().unwrap_or_default(), p.region.clone());
        }
        opts.default_region = cfg
            .providers()
            .iter()
            .find(|p| p.alias.is_none())
            .map(|p| p.region.clone());
    }
    let (mut migrated, warnings) =
        tunnelform_state::migrate_terraform_with(&text, &opts).map_err(|e| anyhow!("{e}"))?;
    for w in &warnings {
        errln!("warning: {w}");
    }
    let spath = state_path(dir, config.as_ref(), common);
    let _lock = lock_state(&spath, "state migrate-terraform", common)?;
    let file = StateFile::open(&spath).map_err(|e| anyhow!("{e}"))?;
    let current = file.load().map_err(|e| anyhow!("{e}"))?;
    if !current.resources.is_empty() {
        bail!(
            "{} already holds {} object(s); migrate into an empty state (use --state NEW_FILE)",
            spath.display(),
            current.resources.len()
        );
    }
    migrated.lineage = current.lineage.clone();
    migrated.serial = current.serial;
    file.save(&mut migrated).map_err(|e| anyhow!("{e}"))?;
    outln!(
        "Migrated {} object(s) from {} into {}. Pre-shared keys were not copied: only their salted digests.\nRun `tunnelform plan` to check that the configuration matches.",
        migrated.resources.len(),
        tf_state.display(),
        spath.display()
    );
    Ok(0)
}

/// `tunnelform force-unlock LOCK_ID`: clear the record of a lock whose holder died.
pub fn force_unlock(dir: &Path, lock_id: &str, common: &Common) -> Result<u8> {
    let config = load_config(dir, common).ok();
    let spath = state_path(dir, config.as_ref(), common);
    let record = tunnelform_state::force_unlock(&spath, lock_id).map_err(|e| anyhow!("{e}"))?;
    outln!(
        "Released the lock {lock_id} on {} (it was held by {record}).",
        spath.display()
    );
    Ok(0)
}
