//! Commands for the GitOps workflow: import, migration from Terraform, force-unlock.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use tunnelform_apply::store::resource_state;
use tunnelform_config::InstanceKind;
use tunnelform_model::Address;
use tunnelform_planner::read_objects;
use tunnelform_state::Origin;

use crate::args::Common;
use crate::context::{
    check_cloud, client, load_config, record_cloud, ContextInline as _, Rendered,
};

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
    let addr: Address = address.parse()?;
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
    let opened = crate::backend::open(dir, Some(&config), common)?;
    let spath = opened.name.clone();
    let _lock = crate::backend::lock(&opened, "import", common).await?;
    let mut state = crate::backend::load(&opened)?;
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
        .context_inline(format!(
            "cannot import {addr}: reading {id} in region {} failed",
            inst.provider.region
        ))?;
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
    opened.backend.save(&mut state)?;
    if let Some(s) = sandbox {
        s.shutdown().await.ok();
    }
    outln!("{addr}: Import complete [id={}]\n\nThe object is now in the state. Run `tunnelform plan` to compare it with the configuration.", obj.id);
    Ok(0)
}

/// `tunnelform state migrate-terraform FILE`: write tunnelform state from a Terraform state (v4).
pub async fn migrate_terraform(dir: &Path, tf_state: &Path, common: &Common) -> Result<u8> {
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
    let (mut migrated, warnings) = tunnelform_state::migrate_terraform_with(&text, &opts)
        .with_context(|| format!("cannot migrate the Terraform state {}", tf_state.display()))?;
    for w in &warnings {
        errln!("warning: {w}");
    }
    let opened = crate::backend::open(dir, config.as_ref(), common)?;
    let spath = opened.name.clone();
    let _lock = crate::backend::lock(&opened, "state migrate-terraform", common).await?;
    let current = crate::backend::load(&opened)?;
    if !current.resources.is_empty() {
        bail!(
            "{} already holds {} object(s); migrate into an empty state (use --state NEW_FILE)",
            spath.display(),
            current.resources.len()
        );
    }
    migrated.lineage = current.lineage.clone();
    migrated.serial = current.serial;
    opened.backend.save(&mut migrated)?;
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
    let opened = crate::backend::open(dir, config.as_ref(), common)?;
    let spath = opened.name.clone();
    let handle = tokio::runtime::Handle::current();
    let record =
        tokio::task::block_in_place(|| handle.block_on(opened.backend.force_unlock(lock_id)))?;
    outln!(
        "Released the lock {lock_id} on {} (it was held by {record}).",
        spath.display()
    );
    Ok(0)
}
