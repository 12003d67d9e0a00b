//! Shared plumbing: configuration, state location, the API client (or an embedded sandbox).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use tunnelform_config::{Config, VarArg, VarInputs};
use tunnelform_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use tunnelform_tencent_api::{Client, ClientConfig, Credentials};

use crate::args::Common;

/// A diagnostic-bearing error: printed as is.
#[derive(Debug)]
pub struct Rendered(pub String);

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Rendered {}

pub fn render_error(e: &anyhow::Error) -> String {
    if let Some(r) = e.downcast_ref::<Rendered>() {
        return r.0.trim_end().to_string();
    }
    let mut s = format!("error: {e}");
    for cause in e.chain().skip(1) {
        s.push_str(&format!("\n  caused by: {cause}"));
    }
    s
}

pub fn var_inputs(common: &Common) -> Result<VarInputs> {
    let mut cli = Vec::new();
    // Command-line order matters; clap keeps each list in order, --var-file before --var.
    for f in &common.var_files {
        cli.push(VarArg::File(f.clone()));
    }
    for v in &common.vars {
        let (name, value) = v
            .split_once('=')
            .ok_or_else(|| anyhow!("--var {v:?} must be NAME=VALUE"))?;
        cli.push(VarArg::Pair(name.to_string(), value.to_string()));
    }
    let env = std::env::vars()
        .filter_map(|(k, v)| k.strip_prefix("TF_VAR_").map(|n| (n.to_string(), v)))
        .collect();
    Ok(VarInputs { cli, env })
}

pub fn load_config(dir: &Path, common: &Common) -> Result<Config> {
    if !dir.is_dir() {
        bail!(
            "{} is not a directory (give the directory holding your *.tf files)",
            dir.display()
        );
    }
    let vars = var_inputs(common)?;
    match Config::load(dir, &vars) {
        Ok((config, warnings)) => {
            // Without a provider block, the region comes from TENCENTCLOUD_REGION (as with the provider).
            let config = match std::env::var("TENCENTCLOUD_REGION")
                .ok()
                .filter(|r| !r.trim().is_empty())
            {
                Some(r) => config.with_default_region(r.trim()),
                None => config,
            };
            if !warnings.is_empty() {
                eprintln!("{warnings}");
            }
            Ok(config)
        }
        Err(diags) => Err(Rendered(diags.to_string()).into()),
    }
}

/// `--state`, else the backend "local" path, else `state/<config dir name>.tfstate.json`.
pub fn state_path(dir: &Path, config: Option<&Config>, common: &Common) -> PathBuf {
    if let Some(p) = &common.state {
        return p.clone();
    }
    if let Some(p) = config.and_then(Config::backend_path) {
        return p;
    }
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "default".to_string());
    PathBuf::from("state").join(format!("{name}.tfstate.json"))
}

pub fn parse_duration(s: &str) -> Result<Duration> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: u64 = num
        .parse()
        .with_context(|| format!("invalid duration {s:?} (examples: 30s, 2m, 500ms)"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => bail!("invalid duration {s:?} (examples: 30s, 2m, 500ms)"),
    })
}

/// The client, and the embedded sandbox when `--sandbox` is given (kept alive by the caller).
pub async fn client(common: &Common) -> Result<(Client, Option<SandboxHandle>)> {
    if common.sandbox {
        let mut cfg = SandboxConfig {
            listen: "127.0.0.1:0".parse().expect("address"),
            ..Default::default()
        };
        let data = PathBuf::from("state").join("sandbox.json");
        if let Some(parent) = data.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        cfg.data_file = Some(data);
        if let Ok(ms) = std::env::var("TUNNELFORM_SANDBOX_TASK_LATENCY_MS") {
            cfg.task_latency = Duration::from_millis(
                ms.parse()
                    .context("TUNNELFORM_SANDBOX_TASK_LATENCY_MS must be a number")?,
            );
        }
        let creds = cfg.credentials.clone();
        let uin = cfg.uin.clone();
        let handle = Sandbox::start(cfg)
            .await
            .context("starting the embedded sandbox")?;
        let mut cc = ClientConfig::new(creds);
        cc = cc
            .with_endpoint(&handle.url())
            .context("sandbox endpoint")?;
        cc.uin = Some(uin);
        let client = Client::new(cc).context("building the API client")?;
        return Ok((client, Some(handle)));
    }
    let mut cc = match ClientConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            if common.endpoint.is_some() {
                // A sandbox accepts its default credentials.
                let mut c =
                    ClientConfig::new(Credentials::new("AKIDsandbox", "sandboxsecret", None));
                c.region = std::env::var("TENCENTCLOUD_REGION").ok();
                c.uin = std::env::var("TENCENTCLOUD_UIN").ok();
                if std::env::var("TENCENTCLOUD_SECRET_ID").is_ok() {
                    return Err(anyhow!(e));
                }
                c
            } else {
                return Err(anyhow!(e).context(
                    "no credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or try tunnelform with --sandbox",
                ));
            }
        }
    };
    if let Some(ep) = &common.endpoint {
        cc = cc
            .with_endpoint(ep)
            .with_context(|| format!("invalid endpoint {ep:?}"))?;
    }
    Ok((Client::new(cc).context("building the API client")?, None))
}
