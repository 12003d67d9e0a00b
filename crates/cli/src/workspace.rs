//! Workspaces: one state per workspace in the configuration's backend, and
//! `tunnelform workspace list|new|select|delete|show`.
//!
//! - The selected workspace is recorded as Terraform records it: `.terraform/environment` in the
//!   configuration's directory (no file: `default`). `TF_WORKSPACE` overrides it, and then
//!   `new`/`select` are refused, as in Terraform.
//! - Local files: the `default` workspace keeps the state file it always had (`--state FILE`, the
//!   `backend "local"` path, or `state/<dir>.tfstate.json`); workspace `W` keeps its state in
//!   `<that path>.d/W/<its file name>` (with `path = "terraform.tfstate"` that is Terraform's
//!   `terraform.tfstate.d/W/terraform.tfstate`); with `backend "local" { workspace_dir = "D" }`,
//!   Terraform's `D/W/terraform.tfstate`. A workspace exists when its directory does.
//! - PostgreSQL: the rows of workspace `W` in the schema (as before through `TF_WORKSPACE`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use crate::args::{Common, WorkspaceCommand};
use crate::backend::Opened;

pub const DEFAULT: &str = "default";

/// Where the selected workspace is recorded, relative to the configuration's directory.
const SELECTION: [&str; 2] = [".terraform", "environment"];

fn selection_file(dir: &Path) -> PathBuf {
    dir.join(SELECTION[0]).join(SELECTION[1])
}

/// Checks a workspace name: it names a directory and a row, so it is one path segment of letters,
/// digits, `-`, `_` and `.` (Terraform also allows a few URL-safe punctuation marks; the pg
/// backend does not).
pub fn check_name(name: &str, what: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 90
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        bail!("the workspace name {name:?} ({what}) is not allowed: use 1 to 90 letters, digits, '-', '_' and '.' (it names a directory and a database row), e.g. staging or prod-eu");
    }
    Ok(())
}

fn env_override() -> Option<String> {
    std::env::var("TF_WORKSPACE").ok().filter(|s| !s.is_empty())
}

/// The selected workspace of the configuration in `dir`: `TF_WORKSPACE`, else the recorded
/// selection, else `default`.
pub fn current(dir: &Path) -> Result<String> {
    if let Some(w) = env_override() {
        check_name(&w, "from the environment variable TF_WORKSPACE")?;
        return Ok(w);
    }
    let file = selection_file(dir);
    match std::fs::read_to_string(&file) {
        Ok(s) => {
            let w = s.trim();
            if w.is_empty() {
                return Ok(DEFAULT.to_string());
            }
            check_name(w, &format!("recorded in {}", file.display()))
                .context("select a workspace again with `tunnelform workspace select NAME`")?;
            Ok(w.to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DEFAULT.to_string()),
        Err(e) => Err(e)
            .with_context(|| format!("reading the selected workspace from {}", file.display())),
    }
}

/// Where a local backend keeps the states of its workspaces.
#[derive(Clone, Debug)]
pub struct LocalLayout {
    /// The `default` workspace's state file.
    pub default: PathBuf,
    /// `backend "local" { workspace_dir = "..." }`: the directory of the other workspaces'
    /// states (Terraform's setting); None: tunnelform's `<default file>.d`.
    pub workspace_dir: Option<PathBuf>,
}

impl LocalLayout {
    pub fn new(default: &Path, workspace_dir: Option<PathBuf>) -> LocalLayout {
        LocalLayout {
            default: default.to_path_buf(),
            workspace_dir,
        }
    }

    /// The directory holding one directory per workspace other than `default`.
    pub fn workspaces_dir(&self) -> PathBuf {
        match &self.workspace_dir {
            Some(d) => d.clone(),
            None => {
                let mut dir = self.default.as_os_str().to_os_string();
                dir.push(".d");
                PathBuf::from(dir)
            }
        }
    }

    /// The state file of workspace `ws`: the default file, `<workspace_dir>/W/terraform.tfstate`
    /// (Terraform's layout) when `workspace_dir` is set, else `<default file>.d/W/<its name>`.
    pub fn path(&self, ws: &str) -> PathBuf {
        if ws == DEFAULT {
            return self.default.clone();
        }
        let file = match (&self.workspace_dir, self.default.file_name()) {
            (None, Some(name)) => name.to_os_string(),
            _ => "terraform.tfstate".into(),
        };
        self.workspaces_dir().join(ws).join(file)
    }
}

fn select(dir: &Path, ws: &str) -> Result<()> {
    let file = selection_file(dir);
    let parent = file.parent().expect("a parent");
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    std::fs::write(&file, format!("{ws}\n"))
        .with_context(|| format!("recording the selected workspace in {}", file.display()))
}

fn refuse_override(what: &str) -> Result<()> {
    if let Some(w) = env_override() {
        bail!("the selected workspace is overridden by the environment variable TF_WORKSPACE ({w:?}): you cannot {what} while it is set. Unset it (or change it) and run the command again");
    }
    Ok(())
}

/// The workspaces that exist in the backend of the configuration in `dir` (`default` always),
/// sorted, and the backend of `ws`.
fn workspaces(dir: &Path, common: &Common, ws: &str) -> Result<(Vec<String>, Opened)> {
    let opened = crate::commands::backend_in(dir, common, ws)?;
    let mut names = vec![DEFAULT.to_string()];
    match (&opened.pg, &opened.identity) {
        (Some(pg), _) => names.extend(pg.workspaces().context("listing the workspaces")?),
        (None, crate::backend::Identity::File(path)) => {
            let d = match &opened.local {
                Some(layout) => layout.workspaces_dir(),
                None => LocalLayout::new(path, None).workspaces_dir(),
            };
            match std::fs::read_dir(&d) {
                Ok(entries) => {
                    for e in entries {
                        let e = e.with_context(|| format!("listing {}", d.display()))?;
                        let name = e.file_name().to_string_lossy().into_owned();
                        if e.path().is_dir() && check_name(&name, "").is_ok() {
                            names.push(name);
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("listing {}", d.display())),
            }
        }
        (None, crate::backend::Identity::Remote(_)) => {}
    }
    names.sort();
    names.dedup();
    Ok((names, opened))
}

pub async fn run(command: WorkspaceCommand) -> Result<u8> {
    match command {
        WorkspaceCommand::Show { dir, common: _ } => {
            outln!("{}", current(&dir)?);
        }
        WorkspaceCommand::List { dir, common } => {
            let cur = current(&dir)?;
            let (names, _) = workspaces(&dir, &common, &cur)?;
            for n in names {
                let mark = if n == cur { "*" } else { " " };
                outln!("{mark} {n}");
            }
        }
        WorkspaceCommand::Select {
            name,
            or_create,
            dir,
            common,
        } => {
            refuse_override("select a workspace")?;
            check_name(&name, "given to workspace select")?;
            let (names, _) = workspaces(&dir, &common, &name)?;
            if !names.contains(&name) {
                if !or_create {
                    bail!("workspace {name:?} does not exist (the workspaces are: {}): create it with `tunnelform workspace new {name}`, or select it with --or-create", names.join(", "));
                }
                create(&dir, &common, &name).await?;
            }
            if current(&dir)? == name {
                outln!("Already in workspace {name:?}.");
            } else {
                select(&dir, &name)?;
                outln!("Switched to workspace {name:?}.");
            }
        }
        WorkspaceCommand::New { name, dir, common } => {
            refuse_override("create a workspace")?;
            check_name(&name, "given to workspace new")?;
            let (names, _) = workspaces(&dir, &common, &name)?;
            if names.contains(&name) {
                bail!("workspace {name:?} already exists: select it with `tunnelform workspace select {name}`");
            }
            create(&dir, &common, &name).await?;
            select(&dir, &name)?;
            outln!("Created and switched to workspace {name:?}. Plans and applies now use its own (empty) state.");
        }
        WorkspaceCommand::Delete {
            name,
            force,
            dir,
            common,
        } => delete(&dir, &name, force, &common).await?,
    }
    Ok(0)
}

/// Creates the workspace's state (empty), so that it is listed.
async fn create(dir: &Path, common: &Common, name: &str) -> Result<()> {
    let opened = crate::commands::backend_in(dir, common, name)?;
    let _lock = crate::backend::lock(&opened, "workspace new", common).await?;
    if opened.backend.exists()? {
        return Ok(());
    }
    let mut state = crate::backend::load(&opened)?;
    opened
        .backend
        .save(&mut state)
        .with_context(|| format!("creating the state {}", opened.name.display()))
}

async fn delete(dir: &Path, name: &str, force: bool, common: &Common) -> Result<()> {
    check_name(name, "given to workspace delete")?;
    if name == DEFAULT {
        bail!("the workspace \"default\" cannot be deleted (it always exists); empty it with `tunnelform destroy` instead");
    }
    let cur = current(dir)?;
    if cur == name {
        bail!("workspace {name:?} is the selected one and cannot be deleted: select another first (`tunnelform workspace select default`)");
    }
    let (names, opened) = workspaces(dir, common, name)?;
    if !names.contains(&name.to_string()) {
        bail!(
            "workspace {name:?} does not exist (the workspaces are: {})",
            names.join(", ")
        );
    }
    let lock = crate::backend::lock(&opened, "workspace delete", common).await?;
    let state = crate::backend::load(&opened)?;
    let journal = opened.backend.journal()?;
    if !force {
        if !state.resources.is_empty() {
            bail!("workspace {name:?} is not empty: its state holds {} object(s), which would no longer be managed. Destroy them first (`tunnelform workspace select {name}` then `tunnelform destroy`), or delete it anyway with --force (the objects stay in the cloud)", state.resources.len());
        }
        if !journal.is_empty() {
            bail!("workspace {name:?} has operations of an interrupted run in its journal: run `tunnelform apply` in it first so they are settled, or delete it anyway with --force");
        }
    }
    match (&opened.pg, &opened.identity) {
        (Some(pg), _) => pg
            .delete_workspace()
            .with_context(|| format!("deleting {}", opened.name.display()))?,
        (None, crate::backend::Identity::File(path)) => {
            let wdir = path.parent().expect("a workspace directory");
            std::fs::remove_dir_all(wdir)
                .with_context(|| format!("deleting {}", wdir.display()))?;
        }
        (None, crate::backend::Identity::Remote(_)) => unreachable!("a remote state is pg"),
    }
    // The local lock's file went with the directory; its release only clears the open file.
    let _ = lock.unlock().await;
    let objects = state.resources.len();
    if objects > 0 {
        outln!("Deleted workspace {name:?}; the {objects} object(s) of its state are no longer managed (they remain in the cloud).");
    } else {
        outln!("Deleted workspace {name:?}.");
    }
    Ok(())
}
