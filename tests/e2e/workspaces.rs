//! Workspaces through the binary against the sandbox: one configuration applied into `staging`
//! and `production` (`terraform.workspace` in the names), each with its own state file in
//! Terraform's layout, destroy in one leaving the other, and the refusals of `workspace delete`,
//! `select` and `new`.

use crate::common::{run_in, Run, SandboxProc, Work};

const REGION: &str = "ap-guangzhou";

/// A gateway, a customer gateway and a tunnel named after the workspace.
pub const CONFIG: &str = r#"
provider "tencentcloud" {
  region = "ap-guangzhou"
}

locals {
  env = terraform.workspace
  ips = { staging = "203.0.113.81", production = "203.0.113.82" }
}

resource "tencentcloud_vpn_gateway" "hub" {
  name      = "ws-${local.env}-hub"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
}

resource "tencentcloud_vpn_customer_gateway" "office" {
  name              = "ws-${terraform.workspace}-office"
  public_ip_address = local.ips[terraform.workspace]
}

resource "tencentcloud_vpn_connection" "office" {
  name                = "ws-${terraform.workspace}-tunnel"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.hub.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.office.id
  pre_share_key       = "workspaces-key-Qe4rT7yU"
  security_group_policy {
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.81.0/24"]
  }
}
"#;

fn tf_env(work: &Work, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all: Vec<&str> = args.to_vec();
    if let Some(e) = &work.endpoint {
        all.push("--endpoint");
        all.push(e);
    }
    run_in(work.path(), &all, env)
}

/// Names of the sandbox's gateways, customer gateways and tunnels that start with `ws-`.
fn names(sb: &SandboxProc) -> Vec<String> {
    let cloud = sb.cloud();
    let mut v: Vec<String> = cloud
        .gateways(REGION)
        .into_iter()
        .map(|g| g.vpn_gateway_name)
        .chain(
            cloud
                .customer_gateways(REGION)
                .into_iter()
                .map(|c| c.customer_gateway_name),
        )
        .chain(
            cloud
                .connections(REGION)
                .into_iter()
                .map(|c| c.vpn_connection_name),
        )
        .filter(|n| n.starts_with("ws-"))
        .collect();
    v.sort();
    v
}

fn of(env: &str) -> Vec<String> {
    let mut v = vec![
        format!("ws-{env}-hub"),
        format!("ws-{env}-office"),
        format!("ws-{env}-tunnel"),
    ];
    v.sort();
    v
}

#[test]
fn one_configuration_serves_staging_and_production_with_separate_states() {
    let sb = SandboxProc::start(0, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(CONFIG);

    let r = w.tf(&["workspace", "show", "--dir", "cfg"]);
    r.success();
    assert_eq!(r.stdout.trim(), "default");

    w.tf(&["workspace", "new", "staging", "--dir", "cfg"])
        .success();
    assert_eq!(
        w.tf(&["workspace", "show", "--dir", "cfg"]).stdout.trim(),
        "staging"
    );
    // Recorded where Terraform records it.
    let env_file = w.cfg().join(".terraform").join("environment");
    assert_eq!(
        std::fs::read_to_string(&env_file).unwrap().trim(),
        "staging"
    );
    w.apply(&[]).success();
    assert_eq!(names(&sb), of("staging"));

    w.tf(&["workspace", "new", "production", "--dir", "cfg"])
        .success();
    // production starts empty: its plan creates its own three objects, nothing of staging's.
    let r = w.plan(&["--detailed-exitcode"]);
    r.expect_code(2);
    assert!(r.stdout.contains("ws-production-hub"), "{}", r.stdout);
    assert!(!r.stdout.contains("ws-staging"), "{}", r.stdout);
    w.apply(&[]).success();
    let mut both = of("staging");
    both.extend(of("production"));
    both.sort();
    assert_eq!(names(&sb), both);
    w.assert_no_changes(&[]);

    // Terraform's layout next to the default workspace's state file, which was never written.
    let ws_dir = w.path().join("state").join("cfg.tfstate.json.d");
    for env in ["staging", "production"] {
        let file = ws_dir.join(env).join("cfg.tfstate.json");
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(
            state["resources"].as_object().map(|m| m.len()),
            Some(3),
            "{}",
            file.display()
        );
    }
    assert!(!w.state_path().exists());

    let r = w.tf(&["workspace", "list", "--dir", "cfg"]);
    r.success();
    assert_eq!(r.stdout, "  default\n* production\n  staging\n");

    // The refusals of delete: a non-empty state, the selected workspace, default.
    let r = w.tf(&["workspace", "delete", "staging", "--dir", "cfg"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("is not empty")
            && r.stderr.contains("3 object(s)")
            && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    let r = w.tf(&["workspace", "delete", "production", "--dir", "cfg"]);
    r.expect_code(1);
    assert!(r.stderr.contains("is the selected one"), "{}", r.stderr);
    let r = w.tf(&["workspace", "delete", "default", "--dir", "cfg"]);
    r.expect_code(1);
    assert!(r.stderr.contains("cannot be deleted"), "{}", r.stderr);

    // TF_WORKSPACE overrides the selection, and then select/new are refused.
    let r = tf_env(
        &w,
        &["plan", "cfg", "--detailed-exitcode"],
        &[("TF_WORKSPACE", "staging")],
    );
    r.expect_code(0);
    let r = tf_env(
        &w,
        &["workspace", "show", "--dir", "cfg"],
        &[("TF_WORKSPACE", "staging")],
    );
    assert_eq!(r.stdout.trim(), "staging");
    let r = tf_env(
        &w,
        &["workspace", "select", "default", "--dir", "cfg"],
        &[("TF_WORKSPACE", "staging")],
    );
    r.expect_code(1);
    assert!(r.stderr.contains("TF_WORKSPACE"), "{}", r.stderr);

    // Destroy in staging leaves production alone.
    w.tf(&["workspace", "select", "staging", "--dir", "cfg"])
        .success();
    w.destroy(&[]).success();
    assert_eq!(names(&sb), of("production"));
    w.tf(&["workspace", "select", "production", "--dir", "cfg"])
        .success();
    w.assert_no_changes(&[]);

    // staging is empty now: it can go.
    w.tf(&["workspace", "delete", "staging", "--dir", "cfg"])
        .success();
    assert!(!ws_dir.join("staging").exists());
    let r = w.tf(&["workspace", "list", "--dir", "cfg"]);
    assert_eq!(r.stdout, "  default\n* production\n");
    let r = w.tf(&["workspace", "select", "staging", "--dir", "cfg"]);
    r.expect_code(1);
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);

    w.destroy(&[]).success();
    assert!(names(&sb).is_empty());
}

#[test]
fn workspace_names_are_checked_and_a_non_empty_one_is_deleted_only_with_force() {
    let sb = SandboxProc::start(0, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(CONFIG);
    for bad in ["a/b", "..", "", "sp ace"] {
        let r = w.tf(&["workspace", "new", bad, "--dir", "cfg"]);
        r.expect_code(1);
        assert!(
            r.stderr.contains("is not allowed") && r.stderr.contains("letters, digits"),
            "{bad:?}: {}",
            r.stderr
        );
    }
    let r = tf_env(&w, &["plan", "cfg"], &[("TF_WORKSPACE", "x/y")]);
    r.expect_code(1);
    assert!(r.stderr.contains("TF_WORKSPACE"), "{}", r.stderr);

    w.tf(&["workspace", "new", "staging", "--dir", "cfg"])
        .success();
    let r = w.tf(&["workspace", "new", "staging", "--dir", "cfg"]);
    r.expect_code(1);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    w.apply(&[]).success();
    w.tf(&["workspace", "select", "default", "--dir", "cfg"])
        .success();
    let r = w.tf(&["workspace", "delete", "staging", "--force", "--dir", "cfg"]);
    r.success();
    assert!(r.stdout.contains("no longer managed"), "{}", r.stdout);
    // Forgotten, not destroyed.
    assert_eq!(names(&sb), of("staging"));
}

/// `backend "local" { path = ..., workspace_dir = ... }`: the default workspace's state at
/// `path`, every other one at `<workspace_dir>/NAME/terraform.tfstate` (Terraform's layout),
/// listed and deleted there; `--state FILE` replaces the backend's settings (`FILE.d/NAME/`).
#[test]
fn the_local_backend_keeps_other_workspaces_in_its_workspace_dir() {
    let sb = SandboxProc::start(0, &[]);
    let w = Work::with_sandbox(&sb);
    let backend = r#"
terraform {
  backend "local" {
    path          = "../states/main.tfstate"
    workspace_dir = "../envs"
  }
}
"#;
    w.config(&format!("{backend}{CONFIG}"));
    w.tf(&["workspace", "new", "staging", "--dir", "cfg"])
        .success();
    w.apply(&[]).success();
    assert_eq!(names(&sb), of("staging"));

    let file = w
        .path()
        .join("envs")
        .join("staging")
        .join("terraform.tfstate");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        state["resources"].as_object().map(|m| m.len()),
        Some(3),
        "{}",
        file.display()
    );
    // Nothing in the default layout next to the default file, nor the default file itself.
    assert!(!w.path().join("states").join("main.tfstate.d").exists());
    assert!(!w.path().join("states").join("main.tfstate").exists());
    w.assert_no_changes(&[]);

    let r = w.tf(&["workspace", "list", "--dir", "cfg"]);
    r.success();
    assert_eq!(r.stdout, "  default\n* staging\n");

    // `--state FILE` stands for the whole local backend: staging is looked for in FILE.d.
    let other = w.path().join("other.tfstate");
    let r = w.tf(&[
        "workspace",
        "list",
        "--dir",
        "cfg",
        "--state",
        other.to_str().unwrap(),
    ]);
    r.success();
    assert_eq!(r.stdout, "  default\n");
    let r = w.plan(&["--detailed-exitcode", "--state", other.to_str().unwrap()]);
    r.expect_code(2);

    w.destroy(&[]).success();
    assert!(names(&sb).is_empty());
    w.tf(&["workspace", "select", "default", "--dir", "cfg"])
        .success();
    w.tf(&["workspace", "delete", "staging", "--dir", "cfg"])
        .success();
    assert!(!w.path().join("envs").join("staging").exists());
    let r = w.tf(&["workspace", "list", "--dir", "cfg"]);
    assert_eq!(r.stdout, "* default\n");
}
