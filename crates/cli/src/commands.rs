//! One function per subcommand.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tunnelform_model::Map;

use anyhow::{anyhow, bail, Context as _, Result};
use clap::CommandFactory;
use tunnelform_apply::{apply_plan, ApplyOptions, ApplyReport, StateStore};
use tunnelform_model::{Address, Value};
use tunnelform_plan::{ObjectKind, Plan};
use tunnelform_planner::{make_plan_with, PlanMode, PlanOptions, Planned};
use tunnelform_render::{render_human, render_json, RenderOptions};
use tunnelform_state::{Cloud, State, StateFile};

use crate::args::{Cli, Command, Common, PlanFormat, StateCommand};
use crate::backend::{open_local, Opened};
use crate::context::{
    check_cloud, client, load_config, project_of, record_cloud, state_path, ContextInline as _,
    Project, Rendered,
};
use crate::progress;

pub async fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Validate { dir, common } => validate(&dir, &common),
        Command::Fmt { dir, check } => fmt(&dir, check),
        Command::Plan {
            dir,
            out,
            json,
            format,
            targets,
            replace,
            detailed_exitcode,
            refresh_only,
            destroy,
            lock,
            common,
        } => {
            let format = if json { PlanFormat::Json } else { format };
            let mode = if destroy {
                PlanMode::Destroy
            } else if refresh_only {
                PlanMode::RefreshOnly
            } else {
                PlanMode::Normal
            };
            plan_cmd(
                &dir,
                out.as_deref(),
                format,
                &targets,
                PlanRun {
                    detailed: detailed_exitcode,
                    mode,
                    lock,
                    replace,
                },
                &common,
            )
            .await
        }
        Command::Apply {
            target,
            auto_approve,
            parallelism,
            targets,
            replace,
            refresh_only,
            common,
        } => {
            let mode = if refresh_only {
                PlanMode::RefreshOnly
            } else {
                PlanMode::Normal
            };
            let sel = Selection {
                mode,
                targets: &targets,
                replace: &replace,
            };
            apply_cmd(&target, auto_approve, parallelism, sel, &common).await
        }
        Command::Destroy {
            dir,
            auto_approve,
            parallelism,
            common,
        } => {
            apply_cmd(
                &dir,
                auto_approve,
                parallelism,
                Selection {
                    mode: PlanMode::Destroy,
                    targets: &[],
                    replace: &[],
                },
                &common,
            )
            .await
        }
        Command::Show {
            plan,
            json,
            dir,
            common,
        } => show(plan.as_deref(), json, &dir, &common),
        Command::State { command } => state_cmd(command).await,
        Command::Workspace { command } => crate::workspace::run(command).await,
        Command::Output {
            name,
            json,
            dir,
            common,
        } => output(&dir, name.as_deref(), json, &common),
        Command::Graph { dir, common } => graph(&dir, &common),
        Command::Import {
            address,
            id,
            dir,
            common,
        } => crate::gitops::import(&dir, &address, &id, &common).await,
        Command::Reset {
            address,
            dir,
            auto_approve,
            timeout,
            common,
        } => {
            let timeout = crate::context::parse_duration(&timeout).context("--timeout")?;
            crate::reset::reset(crate::reset::ResetArgs {
                address: &address,
                dir: &dir,
                auto_approve,
                timeout,
                common: &common,
            })
            .await
        }
        Command::ForceUnlock {
            lock_id,
            dir,
            common,
        } => crate::gitops::force_unlock(&dir, &lock_id, &common),
        Command::Watch {
            dir,
            interval,
            listen,
            auto_apply,
            allow_destroy,
            parallelism,
            webhook,
            webhook_secret_file,
            webhook_queue,
            webhook_timeout,
            reset_down_after,
            common,
        } => {
            let webhook_timeout = crate::context::parse_duration(&webhook_timeout)
                .context("--webhook-timeout")?
                .max(Duration::from_millis(10));
            let webhook_options = crate::webhook::Options {
                secret: crate::webhook::Secret::load(
                    webhook_secret_file.as_deref(),
                    std::env::var(crate::webhook::SECRET_ENV)
                        .ok()
                        .filter(|_| webhook.is_some()),
                )?,
                queue: webhook_queue as usize,
                timeout: webhook_timeout,
            };
            let interval = crate::context::parse_duration(&interval)
                .context("--interval")?
                .max(Duration::from_millis(100));
            let reset_down_after = reset_down_after
                .as_deref()
                .map(crate::context::parse_duration)
                .transpose()
                .context("--reset-down-after")?;
            crate::watch::watch(crate::watch::WatchArgs {
                dir,
                interval,
                listen,
                auto_apply,
                allow_destroy,
                parallelism,
                webhook,
                webhook_options,
                reset_down_after,
                common,
            })
            .await
        }
        Command::Sandbox(args) => sandbox(args).await,
        Command::Completions { shell } => {
            // Generated into memory: clap_complete panics when a write fails.
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "tunnelform", &mut buf);
            crate::output::stdout_bytes(&buf).context("writing to standard output")?;
            Ok(0)
        }
    }
}

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn validate(dir: &Path, common: &Common) -> Result<u8> {
    // As Terraform's validate: no value needed for a variable (a CI job has no secrets).
    let config = crate::context::load_config_unset_unknown(dir, common)?;
    let mut diags = tunnelform_model::Diagnostics::new();
    let mut all = Vec::new();
    for block in config.block_order().map_err(|d| Rendered(d.to_string()))? {
        match config.expand_block(&block, &tunnelform_config::NoLookup) {
            Ok(i) => all.extend(i),
            Err(d) => diags.extend(d),
        }
    }
    diags.extend(tunnelform_config::validate_instances(&all));
    if diags.has_errors() {
        return Err(Rendered(diags.sorted().to_string()).into());
    }
    outln!("Success! The configuration is valid.");
    Ok(0)
}

fn fmt(dir: &Path, check: bool) -> Result<u8> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tf" || e == "tfvars"))
        .collect();
    files.sort();
    let mut unformatted = Vec::new();
    for f in files {
        let src =
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        let out = tunnelform_syntax::format_source(&src, &f.display().to_string())
            .map_err(|d| Rendered(d.to_string()))?;
        if out != src {
            unformatted.push(f.clone());
            if !check {
                std::fs::write(&f, out).with_context(|| format!("writing {}", f.display()))?;
            }
            outln!("{}", f.display());
        }
    }
    Ok(if check && !unformatted.is_empty() {
        3
    } else {
        0
    })
}

fn parse_targets(targets: &[String]) -> Result<Vec<Address>> {
    Ok(targets
        .iter()
        .map(|t| t.parse::<Address>())
        .collect::<Result<_, _>>()?)
}

/// The state, which must exist: for the commands that only read a state (`show`, `output`,
/// `state ...`), a missing state is said, never shown as an empty state.
pub(crate) fn existing_state(opened: &Opened) -> Result<State> {
    if !state_exists(opened)? {
        return Err(Rendered(missing_state(opened)).into());
    }
    crate::backend::load(opened)
}

fn state_exists(opened: &Opened) -> Result<bool> {
    opened
        .backend
        .exists()
        .with_context(|| format!("reading the state {}", opened.name.display()))
}

fn missing_state(opened: &Opened) -> String {
    if !opened.is_local() {
        return format!(
            "error: No state in {p}\n\n\
             Nothing has been applied to this workspace of the pg backend (the workspace is \
             TF_WORKSPACE, else \"default\"; the schema is schema_name). Check the backend \"pg\" \
             settings, --backend-config and TF_WORKSPACE.",
            p = opened.name.display()
        );
    }
    let path = &opened.name;
    format!(
        "error: No state file at {p}\n\n\
         Nothing has been applied with this state, or tunnelform runs in another directory than the \
         apply did. The state of the configuration in DIR is state/<name of DIR>.tfstate.json under \
         the directory apply ran in (or the path of its backend \"local\"). Run from that directory \
         naming the configuration with --dir DIR, run as if started elsewhere with -chdir=DIR, or \
         name the file with --state FILE.",
        p = path.display()
    )
}

/// What a plan is asked for: its mode, and its `--target` and `--replace` addresses.
#[derive(Clone, Copy)]
struct Selection<'a> {
    mode: PlanMode,
    targets: &'a [String],
    replace: &'a [String],
}

async fn make(
    client: &tunnelform_tencent_api::Client,
    config: &tunnelform_config::Config,
    state: &State,
    sel: Selection<'_>,
    project: Option<&Project>,
    common: &Common,
    ahead: Option<crate::ahead::Refreshing>,
) -> Result<Planned> {
    let opts = PlanOptions {
        mode: sel.mode,
        targets: sel
            .targets
            .iter()
            .map(|t| t.parse::<tunnelform_model::Target>())
            .collect::<Result<_, _>>()?,
        replace: parse_targets(sel.replace)?,
        imports: vec![],
        project: project.map(|p| p.id.clone()),
        quotas: crate::context::quota_overrides(common)?,
    };
    let ahead = ahead.map(crate::ahead::Refreshing::into_reads);
    let planned = make_plan_with(client, config, state, &opts, ahead)
        .await
        .map_err(|e| match e {
            tunnelform_planner::PlanError::Config(d) => {
                anyhow::Error::from(Rendered(d.to_string()))
            }
            other => anyhow::Error::new(other),
        })?;
    tracing::debug!(timings = ?planned.timings, "planned");
    if !planned.warnings.is_empty() {
        errln!("{}", planned.warnings);
    }
    Ok(planned)
}

/// A plan as saved on disk: no secret in clear (sensitive values become salted digests). An
/// attribute the schema marks sensitive (a pre-shared key written as a literal in a `.tf` file)
/// is masked even when nothing marked it.
fn masked_plan(plan: &Plan) -> Plan {
    let mut p = plan.clone();
    let mask = |kind: ObjectKind, a: &mut Map| {
        let schema = kind.schema();
        for (k, v) in a.iter_mut() {
            let schema_sensitive = schema.attr(k).is_some_and(|s| s.sensitive);
            if schema_sensitive && !v.is_sensitive() && !v.is_null() && !matches!(v, Value::Unknown)
            {
                *v = Value::sensitive(v.clone());
            }
            *v = tunnelform_state::mask_sensitive(v);
        }
    };
    for c in &mut p.changes {
        let kind = c.kind;
        if let Some(a) = c.before.as_mut() {
            mask(kind, a);
        }
        if let Some(a) = c.after.as_mut() {
            mask(kind, a);
        }
    }
    for d in &mut p.drift {
        let kind = d.kind;
        mask(kind, &mut d.before);
        if let Some(a) = d.after.as_mut() {
            mask(kind, a);
        }
    }
    for o in &mut p.outputs {
        o.before = o.before.as_ref().map(tunnelform_state::mask_sensitive);
        o.after = o.after.as_ref().map(tunnelform_state::mask_sensitive);
    }
    p
}

/// How `plan` runs: its mode, its exit code, and whether it takes the state lock.
struct PlanRun {
    detailed: bool,
    mode: PlanMode,
    lock: bool,
    /// `--replace` addresses.
    replace: Vec<String>,
}

async fn plan_cmd(
    dir: &Path,
    out: Option<&Path>,
    format: PlanFormat,
    targets: &[String],
    run: PlanRun,
    common: &Common,
) -> Result<u8> {
    let PlanRun {
        detailed,
        mode,
        lock,
        replace,
    } = run;
    let (
        config,
        Loaded {
            opened,
            lock,
            mut state,
            project,
            client,
            sandbox,
            ahead,
        },
    ) = plan_inputs(dir, lock, common).await?;
    let spath = opened.name.clone();
    let planned = make(
        &client,
        &config,
        &state,
        Selection {
            mode,
            targets,
            replace: &replace,
        },
        project.as_ref(),
        common,
        ahead,
    )
    .await?;
    // The plan is made: the state is neither read nor written again. Its lock is released and
    // its backend closed while the plan is rendered (a saved plan records the serial it was
    // made from, so a write after this point makes it stale, as a write after the command
    // would).
    drop(lock);
    opened.close_at_exit();
    match format {
        PlanFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&render_json(&planned.plan))?
        ),
        PlanFormat::Markdown => out!("{}", tunnelform_render::render_markdown(&planned.plan)),
        PlanFormat::Human => out!(
            "{}",
            render_human(&planned.plan, &RenderOptions { color: color() })
        ),
    }
    if let Some(out) = out {
        let cloud = record_cloud(&client, common, &mut state).await?;
        let saved = SavedPlan {
            plan: masked_plan(&planned.plan),
            dir: dir.to_path_buf(),
            state: spath.clone(),
            targets: targets.to_vec(),
            replace: replace.clone(),
            cloud: Some(cloud),
            digest: String::new(),
        }
        .seal()?;
        std::fs::write(out, serde_json::to_vec_pretty(&saved)?)
            .with_context(|| format!("writing {}", out.display()))?;
        let note = format!(
            "Saved the plan to: {}\nTo perform exactly these actions, run: tunnelform apply {}",
            out.display(),
            out.display()
        );
        match format {
            PlanFormat::Human => outln!("\n{note}"),
            // The document on stdout stays what it is (a JSON plan, a pull-request comment).
            PlanFormat::Markdown => errln!("{note}"),
            PlanFormat::Json => {}
        }
    }
    if let Some(s) = sandbox {
        s.shutdown().await.ok();
    }
    let code = if detailed && planned.plan.has_changes() {
        2
    } else {
        0
    };
    // The process ends right after: freeing every attribute map one by one (8 % of a 10,000-tunnel
    // plan's time) is left to the operating system, for the plan, the state and the configuration
    // alike. Nothing in them holds a resource to release (the lock and the backend are dropped).
    std::mem::forget(planned);
    std::mem::forget(state);
    std::mem::forget(config);
    Ok(code)
}

/// What `plan` plans from, besides the configuration.
struct Loaded {
    opened: Opened,
    /// Held to the end: a plan made while another run writes the state would show a state that
    /// is half-way through ("No changes" in the middle of a destroy).
    lock: Option<Box<dyn tunnelform_state::HeldLock>>,
    state: State,
    project: Option<Project>,
    client: tunnelform_tencent_api::Client,
    sandbox: Option<tunnelform_sandbox::SandboxHandle>,
    /// The state's objects, being read since before the state loaded.
    ahead: Option<crate::ahead::Refreshing>,
}

/// Loads the configuration and the state, takes the lock (when `lock`), and settles the journal in
/// memory. When where the state lives is known without the configuration (`--state FILE`, no
/// backend mentioned, or the `backend "pg"` block read early), the configuration loads on another
/// thread meanwhile and the refresh starts as soon as the state's objects are known
/// ([`crate::ahead`]); else the configuration loads first, as it says where the state is.
async fn plan_inputs(
    dir: &Path,
    lock: bool,
    common: &Common,
) -> Result<(tunnelform_config::Config, Loaded)> {
    let early = crate::backend::prestart(dir, common);
    // Where the state is, when known before the configuration loads: (the pg settings read
    // early, the pg backend opened with them), or (None, None) for the local file.
    let ahead = if crate::ahead::state_known_without_config(dir, common) {
        drop(early);
        Some((None, None))
    } else {
        early.take().map(|(s, o)| (Some(s), Some(o)))
    };
    let config = match ahead {
        Some((settings, opened)) => {
            let loading = crate::ahead::ConfigLoad::start(dir, common)?;
            let started = async {
                let opened = match opened {
                    Some(o) => o,
                    None => crate::backend::open(dir, None, common)?,
                };
                plan_inputs_ahead(opened, lock, common).await
            }
            .await;
            // The configuration's errors come first, as when it loads first.
            let config = loading.join()?;
            let inputs = started?;
            let agrees = match &settings {
                None => crate::ahead::config_agrees(&config, common),
                Some(s) => crate::backend::pg_agrees(dir, &config, common, s)?,
            };
            if agrees {
                return Ok((config, inputs));
            }
            // The configuration names another state after all: what was started is dropped (its
            // lock released, its reads cancelled) before the state it names is opened.
            drop(inputs);
            config
        }
        None => load_config(dir, common)?,
    };
    let opened = crate::backend::open(dir, Some(&config), common)?;
    let loaded = plan_inputs_ahead(opened, lock, common).await?;
    Ok((config, loaded))
}

/// [`plan_inputs`] once the state is opened (possibly while the configuration loads): the lock,
/// the state, its account checked, its journal settled in memory, and the refresh started: from
/// a quick look at the state before it is loaded (the file, or the rows the pg lock read), else
/// from the loaded state.
async fn plan_inputs_ahead(opened: Opened, lock: bool, common: &Common) -> Result<Loaded> {
    let spath = opened.name.clone();
    let lock = if lock {
        Some(crate::backend::lock(&opened, "plan", common).await?)
    } else {
        None
    };
    let (client, sandbox) = client(common, "plan").await?;
    let mut ahead = crate::ahead::Refreshing::start(&client, common, &*opened.backend).await?;
    let mut state = crate::backend::load(&opened)?;
    tracing::debug!(resources = state.resources.len(), "state loaded");
    let project = project_of(&opened, common)?;
    check_cloud(&client, common, &spath, &mut state, false).await?;
    settle_in_memory(
        &client,
        &opened,
        &mut state,
        project.as_ref(),
        lock.is_some(),
    )
    .await?;
    if ahead.is_none() {
        ahead = crate::ahead::Refreshing::of_state(&client, &state);
    }
    Ok(Loaded {
        opened,
        lock,
        state,
        project,
        client,
        sandbox,
        ahead,
    })
}

/// `plan` after an interrupted run: settles the journal against the cloud in memory, so the plan
/// shows what apply will do (apply settles it again and records it; plan writes nothing). With
/// `--lock=false`, skipped when another run holds the state lock (its journal is in use).
async fn settle_in_memory(
    client: &tunnelform_tencent_api::Client,
    opened: &Opened,
    state: &mut State,
    project: Option<&Project>,
    locked: bool,
) -> Result<()> {
    if opened.is_local() && !tunnelform_state::journal_path(&opened.name).exists() {
        return Ok(());
    }
    let _lock = if locked {
        None
    } else {
        match crate::backend::try_lock(opened, "plan").await {
            Some(l) => Some(l),
            None => return Ok(()),
        }
    };
    let journal = opened.backend.journal()?;
    if journal.is_empty() {
        return Ok(());
    }
    let rec = tunnelform_recover::recover(client, state, &journal, project.map(|p| p.id.as_str()))
        .await
        .context_inline("resolving the operations an earlier run left unfinished")?;
    if !rec.adopted.is_empty() || !rec.removed.is_empty() {
        errln!(
            "note: an earlier run was interrupted; this plan counts what it did ({} object(s) it created, {} it deleted), which the next apply records in the state.",
            rec.adopted.len(),
            rec.removed.len()
        );
    }
    for u in &rec.unresolved {
        errln!("warning: {u}");
    }
    Ok(())
}

/// Reads a plan file saved with `plan --out`. The file is input like any other: the text shown
/// from it (addresses, ids, regions, names, paths) must not carry control characters to the
/// terminal (an escape sequence can rewrite what the screen shows), so such a file is refused.
fn read_saved_plan(path: &Path) -> Result<SavedPlan> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let saved: SavedPlan = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a tunnelform plan file", path.display()))?;
    let p = &saved.plan;
    let texts = p
        .changes
        .iter()
        .flat_map(|c| {
            [
                c.address.to_string(),
                c.region.clone(),
                c.id.clone().unwrap_or_default(),
                c.provider_alias.clone().unwrap_or_default(),
                c.importing.clone().unwrap_or_default(),
            ]
            .into_iter()
            .chain(c.changed.iter().cloned())
            .chain(c.replace_paths.iter().cloned())
            .chain(c.depends_on.iter().map(|a| a.to_string()))
        })
        .chain(
            p.drift
                .iter()
                .flat_map(|d| [d.address.to_string(), d.id.clone()]),
        )
        .chain(p.outputs.iter().map(|o| o.name.clone()))
        .chain(saved.targets.iter().cloned())
        .chain(saved.replace.iter().cloned())
        .chain([
            saved.dir.to_string_lossy().into_owned(),
            saved.state.to_string_lossy().into_owned(),
            p.lineage.clone().unwrap_or_default(),
            p.tunnelform_version.clone(),
            p.config_digest.clone(),
        ]);
    for t in texts {
        if t.chars().any(char::is_control) {
            bail!(
                "{} is not a tunnelform plan file as tunnelform writes it: it holds a control character in {t:?} (the file was edited or damaged). Run `tunnelform plan --out FILE` again",
                path.display()
            );
        }
    }
    if saved.digest.is_empty() {
        bail!(
            "{} has no content digest: it was written by an earlier version of tunnelform, or edited. Run `tunnelform plan --out FILE` again",
            path.display()
        );
    }
    if saved.digest != saved.content_digest()? {
        bail!(
            "{} was edited or damaged since tunnelform wrote it (its content does not match its digest), and a saved plan is applied exactly as it was written. Run `tunnelform plan --out FILE` again",
            path.display()
        );
    }
    Ok(saved)
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct SavedPlan {
    plan: Plan,
    dir: PathBuf,
    state: PathBuf,
    /// The `--target`s the plan was made with (applied again with the same ones).
    #[serde(default)]
    targets: Vec<String>,
    /// The `--replace` addresses it was made with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    replace: Vec<String>,
    /// The cloud the plan was made against (absent from plans saved before plans recorded it).
    #[serde(default)]
    cloud: Option<Cloud>,
    /// SHA-256 of the file's content with this field empty: a plan is applied as it was written,
    /// so a file edited or damaged since is refused rather than executed.
    #[serde(default)]
    digest: String,
}

impl SavedPlan {
    fn content_digest(&self) -> Result<String> {
        use sha2::{Digest, Sha256};
        let unsealed = SavedPlan {
            digest: String::new(),
            ..self.clone()
        };
        Ok(hex::encode(Sha256::digest(serde_json::to_vec(&unsealed)?)))
    }

    fn seal(mut self) -> Result<SavedPlan> {
        self.digest = self.content_digest()?;
        Ok(self)
    }
}

fn confirm(what: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("{what} needs confirmation, and there is no terminal to ask on: review the plan, then run again with --auto-approve");
    }
    out!("\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

async fn apply_cmd(
    target: &Path,
    auto_approve: bool,
    parallelism: usize,
    sel: Selection<'_>,
    common: &Common,
) -> Result<u8> {
    let mode = sel.mode;
    let targets = sel.targets;
    // `apply PLANFILE`: the configuration and state the plan was made from.
    let saved: Option<SavedPlan> = if target.is_file() {
        Some(read_saved_plan(target)?)
    } else {
        None
    };
    if saved.is_some()
        && (!targets.is_empty() || !sel.replace.is_empty() || mode == PlanMode::RefreshOnly)
    {
        bail!("{} is a saved plan: it is applied as it was made, so --target, --replace and --refresh-only belong to the `tunnelform plan` that makes it", target.display());
    }
    let dir = saved
        .as_ref()
        .map(|s| s.dir.clone())
        .unwrap_or_else(|| target.to_path_buf());
    // A pg backend starts connecting while the configuration loads.
    let early = crate::backend::prestart(&dir, common);
    let config = load_config(&dir, common)?;
    // A saved plan names its state file; a configuration with backend "pg" keeps its state there.
    let opened = match &saved {
        Some(s) if common.state.is_some() || config.backend_pg().is_none() => open_local(&s.state)?,
        _ => crate::backend::open_early(&dir, &config, common, early)?,
    };
    let spath = opened.name.clone();
    let op = match mode {
        PlanMode::Destroy => "destroy",
        _ => "apply",
    };
    let lock = crate::backend::lock(&opened, op, common).await?;
    let (client, sandbox) = client(common, op).await?;
    // The journal is read first: with nothing left unfinished in it, the state's objects start
    // being read from the cloud now, while the state loads, as `plan` does. After an interrupted
    // run they are read once its operations are settled, not before.
    let journal = opened.backend.journal()?;
    let ahead = if saved.is_none() && journal.is_empty() {
        crate::ahead::Refreshing::start(&client, common, &*opened.backend).await?
    } else {
        None
    };
    let mut state = crate::backend::load(&opened)?;
    let project = project_of(&opened, common)?;
    let made = saved.as_ref().and_then(|s| s.cloud.as_ref());
    let cloud = check_cloud(&client, common, &spath, &mut state, made.is_some()).await?;
    if let (Some(made), Some(cloud)) = (made, &cloud) {
        if made.account != cloud.account {
            bail!(
                "the plan {} was made against account {}, but this run talks to account {}: its changes were computed against that account's objects. Apply it with the same --sandbox / --endpoint / credentials as the plan, or make a new plan against this account with `tunnelform plan --out FILE`",
                target.display(),
                made.account,
                cloud.account
            );
        }
    }
    // Settle what an interrupted run left in the journal before planning anything.
    if !journal.is_empty() {
        let rec = tunnelform_recover::recover(
            &client,
            &mut state,
            &journal,
            project.as_ref().map(|p| p.id.as_str()),
        )
        .await
        .context_inline("resolving the operations an earlier run left unfinished")?;
        for (a, id) in &rec.adopted {
            errln!("Recovered {a} [id={id}], created by an earlier run that was interrupted.");
        }
        for (a, id) in &rec.removed {
            errln!(
                "Recorded that {a} [id={id}] was deleted by an earlier run that was interrupted."
            );
        }
        for u in &rec.unresolved {
            errln!("warning: {u}");
        }
        record_cloud(&client, common, &mut state).await?;
        // The settled state and the emptied journal: one transaction with the pg backend.
        opened.backend.settle(Some(&mut state), false)?;
    }
    // A saved plan is applied as it was made (checked against what it was made from); otherwise
    // the plan is made now, shown and confirmed.
    let planned = match &saved {
        Some(saved) => {
            let prepared =
                tunnelform_apply::saved::prepare(&client, &config, &state, saved.plan.clone())
                    .await
                    .map_err(|e| match e {
                        tunnelform_apply::saved::SavedError::Config(d) => {
                            anyhow::Error::from(Rendered(d.to_string()))
                        }
                        other => anyhow::Error::new(other),
                    })?;
            // A refresh-only plan takes the objects as they are now into the state.
            let remote = if prepared.plan.refresh_only {
                tunnelform_planner::refresh(&client, &state).await?
            } else {
                Default::default()
            };
            tunnelform_planner::Planned {
                plan: prepared.plan,
                remote,
                instances: prepared.instances,
                data: prepared.data,
                warnings: Default::default(),
                timings: Default::default(),
            }
        }
        None => {
            make(
                &client,
                &config,
                &state,
                sel,
                project.as_ref(),
                common,
                ahead,
            )
            .await?
        }
    };

    if saved.is_none() {
        out!(
            "{}",
            render_human(&planned.plan, &RenderOptions { color: color() })
        );
        if !planned.plan.has_changes() {
            // Nothing to do, so nothing is written: the lock is released and the backend closed
            // while the process winds down, and it ends with the data as it is (see `plan_cmd`).
            drop(lock);
            opened.close_at_exit();
            if let Some(s) = sandbox {
                s.shutdown().await.ok();
            }
            std::mem::forget(planned);
            std::mem::forget(state);
            std::mem::forget(config);
            return Ok(0);
        }
        if !auto_approve && !confirm(op)? {
            if op == "destroy" {
                outln!("\nDestroy cancelled.");
            } else {
                outln!("\nApply cancelled.");
            }
            return Ok(1);
        }
        outln!();
    }

    record_cloud(&client, common, &mut state).await?;
    let store = StateStore::with_backend(opened.backend.clone(), state);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let store_sig = store.clone();
    let total = planned
        .plan
        .changes
        .iter()
        .map(|c| match c.action {
            tunnelform_plan::Action::Replace { .. } => 2,
            tunnelform_plan::Action::NoOp => usize::from(c.importing.is_some()),
            _ => 1,
        })
        .sum();
    let view = Arc::new(progress::View::for_stdout(total));
    let view_sig = view.clone();
    // Listening starts here, before any step runs, on one listener for both presses.
    let mut interrupts = Interrupts::listen()?;
    tokio::spawn(async move {
        if interrupts.next().await {
            // The stop first: nothing written below can keep it from happening.
            let _ = tx.send(true);
            view_sig.interrupted();
            view_sig.say("\nInterrupt received. Waiting for operations in flight to finish (Ctrl-C again to stop at once)...");
            if interrupts.next().await {
                let _ = store_sig.flush();
                // No spinner is left behind on the terminal.
                view_sig.finish();
                errln!("Stopped; the state holds what had completed.");
                std::process::exit(130);
            }
        }
    });
    let opts = ApplyOptions {
        parallelism,
        ownership_tags: !common.no_ownership_tags,
        project: project.map(|p| p.id),
        interrupt: rx,
        task_timeout: Duration::from_secs(600),
    };
    let view_sink = view.clone();
    let sink: Arc<dyn tunnelform_apply::EventSink> =
        Arc::new(move |e: tunnelform_apply::Event| view_sink.event(&e));
    let refresh_only = planned.plan.refresh_only;
    let report = apply_plan(
        &client,
        Some(Arc::new(config)),
        Arc::new(planned.plan),
        Arc::new(planned.instances),
        planned.data,
        &store,
        opts,
        sink,
    )
    .await?;
    view.finish();
    if refresh_only {
        // Accept the refreshed objects into state.
        store.update(|s| accept_refreshed(s, &planned.remote))?;
        store.flush()?;
    }
    if let Some(s) = sandbox {
        s.shutdown().await.ok();
    }
    let code = finish_report(&report, op);
    if code == 0 && op == "apply" && !refresh_only {
        store.read(print_outputs);
    }
    Ok(code)
}

/// The outputs after a successful apply (as Terraform prints them), sensitive ones masked.
fn print_outputs(state: &State) {
    if state.outputs.is_empty() {
        return;
    }
    noteln!("\nOutputs:\n");
    for (k, o) in &state.outputs {
        let v = if o.sensitive {
            serde_json::Value::String("(sensitive value)".into())
        } else {
            o.value.to_json()
        };
        noteln!(
            "{k} = {}",
            serde_json::to_string(&v).unwrap_or_else(|_| "(not shown)".into())
        );
    }
}

/// `apply --refresh-only`: the state takes the refreshed objects as they are (what the state
/// keeps only as digests, such as a pre-shared key changed in the console, gets the digest of the
/// remote value), and forgets the objects deleted outside tunnelform.
fn accept_refreshed(state: &mut State, remote: &tunnelform_planner::RemoteSnapshot) {
    for (addr, obj) in &remote.objects {
        let Some(rs) = state.resources.get_mut(addr) else {
            continue;
        };
        *rs = tunnelform_apply::store::refreshed(rs, obj.kind, &obj.attrs);
    }
    state
        .resources
        .retain(|a, r| r.mode != tunnelform_model::Mode::Managed || remote.objects.contains_key(a));
}

/// Ctrl-C presses, counted from the moment [`Interrupts::listen`] returns. (`tokio::signal::ctrl_c`
/// only starts listening when first polled, from a spawned task: a press before that killed the
/// process, and a second press arriving before the second `ctrl_c()` was polled was lost.)
struct Interrupts {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Interrupts {
    fn listen() -> Result<Self> {
        #[cfg(unix)]
        {
            let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .context("listening for Ctrl-C")?;
            Ok(Interrupts { signal })
        }
        #[cfg(not(unix))]
        {
            Ok(Interrupts {})
        }
    }

    /// The next press (false when no more can be received).
    async fn next(&mut self) -> bool {
        #[cfg(unix)]
        {
            self.signal.recv().await.is_some()
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.is_ok()
        }
    }
}

fn finish_report(report: &ApplyReport, op: &str) -> u8 {
    // Checks are warnings: shown, never a failure.
    for c in &report.checks {
        for p in &c.problems {
            errln!("{p}");
        }
    }
    // The work is done and saved: a closed stdout only loses the summary.
    if report.interrupted {
        errln!("\nInterrupted: {} operation(s) were not started. The state holds everything that completed; run {op} again to continue.", report.not_started);
        return 130;
    }
    if !report.failures.is_empty() {
        errln!("\nError: {} operation(s) failed:", report.failures.len());
        for f in &report.failures {
            errln!("  - {f}");
        }
        if !report.skipped.is_empty() {
            errln!(
                "  {} dependent operation(s) were skipped.",
                report.skipped.len()
            );
        }
        return 1;
    }
    if report.condition_errors.has_errors() {
        errln!("{}", report.condition_errors);
        errln!("\nError: an output's precondition failed after the apply (the objects applied are in the state).");
        return 1;
    }
    let import = if report.imported > 0 {
        format!("{} imported, ", report.imported)
    } else {
        String::new()
    };
    let word = if op == "destroy" { "Destroy" } else { "Apply" };
    if op == "destroy" {
        noteln!(
            "\n{word} complete! Resources: {} destroyed.",
            report.destroyed
        );
    } else {
        noteln!(
            "\n{word} complete! Resources: {import}{} added, {} changed, {} destroyed.",
            report.added,
            report.changed,
            report.destroyed
        );
    }
    0
}

/// A saved plan as `show` renders it: the digests of sensitive values stand for values that are
/// not shown.
fn for_display(plan: &Plan) -> Plan {
    fn unmask(v: &Value) -> Value {
        if tunnelform_state::secret::as_digest_marker(v).is_some() {
            return Value::sensitive(Value::from("(sensitive value)"));
        }
        match v {
            Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), unmask(v))).collect()),
            Value::List(l) => Value::List(l.iter().map(unmask).collect()),
            other => other.clone(),
        }
    }
    let all = |a: &mut Map| {
        for v in a.values_mut() {
            *v = unmask(v);
        }
    };
    let mut p = plan.clone();
    for c in &mut p.changes {
        if let Some(a) = c.before.as_mut() {
            all(a);
        }
        if let Some(a) = c.after.as_mut() {
            all(a);
        }
    }
    for d in &mut p.drift {
        all(&mut d.before);
        if let Some(a) = d.after.as_mut() {
            all(a);
        }
    }
    for o in &mut p.outputs {
        o.before = o.before.as_ref().map(unmask);
        o.after = o.after.as_ref().map(unmask);
    }
    p
}

fn show(plan: Option<&Path>, json: bool, dir: &Path, common: &Common) -> Result<u8> {
    match plan {
        Some(p) => {
            let saved = read_saved_plan(p)?;
            let saved = SavedPlan {
                plan: for_display(&saved.plan),
                ..saved
            };
            if json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&render_json(&saved.plan))?
                );
            } else {
                out!(
                    "{}",
                    render_human(&saved.plan, &RenderOptions { color: color() })
                );
            }
        }
        None => {
            let state = existing_state(&backend_for(dir, common)?)?;
            for (addr, rs) in &state.resources {
                outln!("# {addr}: {}", rs.id);
            }
        }
    }
    Ok(0)
}

/// The state of the configuration in `dir`. A `backend "local"` path (or a `backend "pg"`) is only
/// known once the configuration loads (variables included): when the configuration does not load
/// and one of its `*.tf` files mentions a backend, that is an error, not a silent fall-back to the
/// default path (which would show another, often empty, state). Without a backend the default
/// path is right whether or not the variables were given.
pub(crate) fn backend_for(dir: &Path, common: &Common) -> Result<Opened> {
    backend_in(dir, common, &crate::workspace::current(dir)?)
}

/// [`backend_for`] in workspace `ws`.
pub(crate) fn backend_in(dir: &Path, common: &Common, ws: &str) -> Result<Opened> {
    if let Some(p) = &common.state {
        return crate::backend::open_local_in(crate::workspace::LocalLayout::new(p, None), ws);
    }
    match load_config(dir, common) {
        Ok(config) => crate::backend::open_in(dir, Some(&config), common, ws),
        Err(e) if mentions_backend(dir) => {
            let why = format!(
                "the configuration in {} must load to locate its state: pass its variables with --var/--var-file, or give --state FILE",
                dir.display()
            );
            match e.downcast::<Rendered>() {
                Ok(r) => Err(Rendered(format!("{}\n\nnote: {why}", r.0.trim_end())).into()),
                Err(e) => Err(e.context(why)),
            }
        }
        Err(_) => crate::backend::open_local_in(
            crate::workspace::LocalLayout::new(&state_path(dir, None, common), None),
            ws,
        ),
    }
}

/// Whether a `*.tf` file in `dir` contains the word `backend` (a comment counts: then the error
/// above is shown, which is safe).
pub(crate) fn mentions_backend(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(|e| e.ok()).any(|e| {
            let p = e.path();
            p.extension().is_some_and(|x| x == "tf")
                && std::fs::read_to_string(&p).is_ok_and(|t| t.contains("backend"))
        })
    })
}

async fn state_cmd(cmd: StateCommand) -> Result<u8> {
    match cmd {
        StateCommand::List { dir, common } => {
            let state = existing_state(&backend_for(&dir, &common)?)?;
            for addr in state.resources.keys() {
                outln!("{addr}");
            }
        }
        StateCommand::Show {
            address,
            dir,
            common,
        } => {
            let addr: Address = address.parse()?;
            let state = existing_state(&backend_for(&dir, &common)?)?;
            let rs = state.resources.get(&addr).ok_or_else(|| {
                anyhow!("{addr} is not in the state (tunnelform state list shows what is)")
            })?;
            outln!("# {addr}:\nid = {:?}\nregion = {:?}", rs.id, rs.region);
            for (k, v) in &rs.attributes {
                outln!("{k} = {}", serde_json::to_string(&v.to_json())?);
            }
            for k in rs.secret_digests.keys() {
                outln!("{k} = (sensitive value)");
            }
        }
        StateCommand::MigrateTerraform { file, dir, common } => {
            return crate::gitops::migrate_terraform(&dir, &file, &common).await
        }
        StateCommand::Mv {
            source,
            destination,
            dir,
            common,
        } => return state_mv(&source, &destination, &backend_for(&dir, &common)?, &common).await,
        StateCommand::Rm {
            address,
            dir,
            common,
        } => {
            let addr: Address = address.parse()?;
            let opened = backend_for(&dir, &common)?;
            if !state_exists(&opened)? {
                return Err(Rendered(missing_state(&opened)).into());
            }
            let _lock = crate::backend::lock(&opened, "state rm", &common).await?;
            let mut state = crate::backend::load(&opened)?;
            let removed: Vec<Address> = state
                .resources
                .keys()
                .filter(|a| addr.contains(a))
                .cloned()
                .collect();
            if removed.is_empty() {
                bail!("{addr} is not in the state (tunnelform state list shows what is)");
            }
            for a in &removed {
                state.resources.remove(a);
                outln!("Removed {a}");
            }
            opened.backend.save(&mut state)?;
        }
        StateCommand::Pull { dir, common } => {
            let state = existing_state(&backend_for(&dir, &common)?)?;
            let bytes = state.to_json_bytes()?;
            crate::output::stdout_bytes(&bytes).context("writing to standard output")?;
        }
        StateCommand::Push { file, dir, common } => {
            if !file.is_file() {
                bail!("{} is not a state file (it does not exist)", file.display());
            }
            let pushed = StateFile::open(&file)
                .and_then(|f| f.load())
                .with_context(|| format!("reading {}", file.display()))?;
            let opened = backend_for(&dir, &common)?;
            let _lock = crate::backend::lock(&opened, "state push", &common).await?;
            opened.backend.replace(&pushed)?;
            outln!(
                "Pushed {} (lineage {}, serial {}, {} object(s)) to {}.",
                file.display(),
                pushed.lineage,
                pushed.serial,
                pushed.resources.len(),
                opened.name.display()
            );
        }
        StateCommand::Migrate { to, dir, common } => {
            let config = load_config(&dir, &common)?;
            return crate::backend::migrate(&dir, &to, &config, &common).await;
        }
    }
    Ok(0)
}

/// `state mv SRC DST`: renames in the state, under its lock; the state is validated when saved.
async fn state_mv(
    source: &str,
    destination: &str,
    opened: &crate::backend::Opened,
    common: &Common,
) -> Result<u8> {
    let parse = |s: &str| -> Result<Address> { Ok(s.parse()?) };
    let (from, to) = (parse(source)?, parse(destination)?);
    if !state_exists(opened)? {
        return Err(Rendered(missing_state(opened)).into());
    }
    let _lock = crate::backend::lock(opened, "state mv", common).await?;
    if !opened.backend.journal()?.is_empty() {
        bail!("the state {} has operations an interrupted run left unfinished: run `tunnelform plan` (or apply) first to settle them, then move", opened.name.display());
    }
    let mut state = crate::backend::load(opened)?;
    let renames = tunnelform_state::plan_move(&state, &from, &to)?;
    if renames.is_empty() {
        bail!("{from} is not in the state (tunnelform state list shows what is)");
    }
    tunnelform_state::apply_renames(&mut state, &renames);
    opened.backend.save(&mut state)?;
    for (old, new) in &renames {
        outln!("Move \"{old}\" to \"{new}\"");
    }
    outln!("Successfully moved {} object(s).", renames.len());
    Ok(0)
}

fn output(dir: &Path, name: Option<&str>, json: bool, common: &Common) -> Result<u8> {
    // `output DIR`: a directory where the output name goes.
    let dir_hint = name
        .filter(|n| dir == Path::new(".") && common.state.is_none() && Path::new(n).is_dir())
        .map(|n| {
            format!(
                "{n:?} is a directory, not an output name: to print the outputs of the configuration in {n}, run `tunnelform output --dir {n}`"
            )
        });
    let opened = backend_for(dir, common)?;
    let spath = opened.name.clone();
    if let (Some(hint), false) = (&dir_hint, state_exists(&opened)?) {
        bail!("{hint}");
    }
    let state = existing_state(&opened)?;
    let show = |v: &tunnelform_state::OutputState| {
        if v.sensitive {
            serde_json::Value::String("(sensitive value)".into())
        } else {
            v.value.to_json()
        }
    };
    match name {
        Some(n) => {
            let o = state.outputs.get(n).ok_or_else(|| match &dir_hint {
                Some(hint) => anyhow!("{hint}"),
                None => anyhow!("no output named {n:?} in the state {}", spath.display()),
            })?;
            let v = show(o);
            match (&v, json) {
                (serde_json::Value::String(s), false) => outln!("{s}"),
                _ => outln!("{}", serde_json::to_string_pretty(&v)?),
            }
        }
        None if json => {
            let m: serde_json::Map<String, serde_json::Value> = state
                .outputs
                .iter()
                .map(|(k, o)| {
                    (
                        k.clone(),
                        serde_json::json!({"sensitive": o.sensitive, "value": show(o)}),
                    )
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&m)?);
        }
        None => {
            for (k, o) in &state.outputs {
                outln!("{k} = {}", serde_json::to_string(&show(o))?);
            }
        }
    }
    Ok(0)
}

fn graph(dir: &Path, common: &Common) -> Result<u8> {
    let config = load_config(dir, common)?;
    let order = config.block_order().map_err(|d| Rendered(d.to_string()))?;
    outln!("digraph tunnelform {{\n  rankdir = \"RL\";");
    for b in &order {
        outln!("  \"{b}\";");
        for d in config.block_dependencies(b) {
            outln!("  \"{b}\" -> \"{d}\";");
        }
    }
    outln!("}}");
    Ok(0)
}

async fn sandbox(args: tunnelform_sandbox::SandboxArgs) -> Result<u8> {
    let mut config = args.into_config()?;
    config.data_holder = Some("tunnelform sandbox".to_string());
    let handle = tunnelform_sandbox::Sandbox::start(config)
        .await
        .context("starting the sandbox")?;
    outln!("listening on {}", handle.url());
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await.context("stopping the sandbox")?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::render_error;

    #[test]
    fn a_state_error_keeps_its_type_under_its_context() {
        // A directory where the state file should be.
        let dir = std::env::temp_dir();
        let e = open_local(&dir)
            .and_then(|o| crate::backend::load(&o))
            .unwrap_err();
        assert!(
            e.chain()
                .any(|c| c.downcast_ref::<tunnelform_state::StateError>().is_some()),
            "{e:?}"
        );
        let text = render_error(&e);
        assert!(
            text.starts_with(&format!("error: reading the state {}", dir.display())),
            "{text}"
        );
        assert!(text.contains("--state must name a file"), "{text}");
    }

    #[test]
    fn a_bad_target_keeps_the_address_error() {
        let e = parse_targets(&["nope".to_string()]).unwrap_err();
        assert!(e
            .downcast_ref::<tunnelform_model::AddressParseError>()
            .is_some());
        assert!(
            render_error(&e).starts_with("error: invalid resource address \"nope\""),
            "{}",
            render_error(&e)
        );
    }
}
