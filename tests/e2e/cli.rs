//! Command-line behaviour around the edges: JSON plans, closed pipes.

use crate::common::{customer_gateway_block, run_in, run_with_closed_stdout, SandboxProc, Work};

#[test]
fn plan_json_is_one_document_with_the_changes() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&customer_gateway_block("a", "203.0.113.1"));
    let r = w.plan(&["--json"]);
    r.success();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    let changes = v["resource_changes"].as_array().expect("resource_changes");
    assert_eq!(changes.len(), 1, "{v}");
    assert_eq!(changes[0]["address"], "tencentcloud_vpn_customer_gateway.a");
    assert_eq!(
        changes[0]["change"]["actions"],
        serde_json::json!(["create"])
    );
    assert_eq!(
        changes[0]["change"]["after"]["public_ip_address"],
        "203.0.113.1"
    );
}

#[test]
fn a_reader_that_goes_away_is_an_error_not_a_crash() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(&customer_gateway_block("a", "203.0.113.1"));
    for args in [
        &["plan", "cfg", "--endpoint", &sb.url][..],
        &["plan", "cfg", "--json", "--endpoint", &sb.url][..],
        &["validate", "cfg"][..],
    ] {
        let r = run_with_closed_stdout(w.path(), args);
        assert!(!r.stderr.contains("panicked"), "{args:?}:\n{}", r.stderr);
        assert_ne!(r.code(), Some(101), "{args:?}: {}", r.stderr);
    }
    // Apply stops before changing anything when it cannot show the plan.
    let r = run_with_closed_stdout(
        w.path(),
        &["apply", "cfg", "--auto-approve", "--endpoint", &sb.url],
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r.expect_code(1);
    assert!(sb.cloud().customer_gateways("ap-guangzhou").is_empty());
}

#[test]
fn state_and_output_find_a_backend_path_or_say_why_not() {
    let w = Work::new();
    w.config(
        r#"
terraform {
  backend "local" {
    path = "custom/where.tfstate.json"
  }
}

variable "ip" {
  type = string
}

resource "tencentcloud_vpn_customer_gateway" "a" {
  name              = "a"
  public_ip_address = var.ip
}

output "ip" {
  value = tencentcloud_vpn_customer_gateway.a.public_ip_address
}
"#,
    );
    w.embedded(&["apply", "cfg", "--auto-approve", "--var", "ip=203.0.113.5"])
        .success();
    // The backend path is relative to the configuration directory.
    assert!(w.cfg().join("custom/where.tfstate.json").is_file());

    let listed = w.tf(&["state", "list", "--dir", "cfg", "--var", "ip=203.0.113.5"]);
    listed.success();
    assert_eq!(listed.stdout.trim(), "tencentcloud_vpn_customer_gateway.a");
    let out = w.tf(&["output", "ip", "--dir", "cfg", "--var", "ip=203.0.113.5"]);
    out.success();
    assert_eq!(out.stdout.trim(), "203.0.113.5");

    // Without the variable the configuration (and so the backend) cannot be read: that is an
    // error naming the variable, never an empty listing of some other state file.
    for args in [
        &["state", "list", "--dir", "cfg"][..],
        &["output", "--dir", "cfg"][..],
        &[
            "state",
            "show",
            "tencentcloud_vpn_customer_gateway.a",
            "--dir",
            "cfg",
        ][..],
    ] {
        let r = w.tf(args);
        r.expect_code(1);
        assert!(
            r.stderr.contains(r#"No value for required variable "ip""#),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("--state FILE"), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
    // --state needs no configuration.
    let direct = w.tf(&["state", "list", "--state", "cfg/custom/where.tfstate.json"]);
    direct.success();
    assert_eq!(direct.stdout.trim(), "tencentcloud_vpn_customer_gateway.a");
}

#[test]
fn without_a_backend_state_and_output_need_no_variables() {
    let w = Work::new();
    w.config(
        r#"
variable "ip" {
  type = string
}

resource "tencentcloud_vpn_customer_gateway" "a" {
  name              = "a"
  public_ip_address = var.ip
}

output "ip" {
  value = tencentcloud_vpn_customer_gateway.a.public_ip_address
}
"#,
    );
    w.embedded(&["apply", "cfg", "--auto-approve", "--var", "ip=203.0.113.7"])
        .success();
    let listed = w.tf(&["state", "list", "--dir", "cfg"]);
    listed.success();
    assert_eq!(listed.stdout.trim(), "tencentcloud_vpn_customer_gateway.a");
    let out = w.tf(&["output", "ip", "--dir", "cfg"]);
    out.success();
    assert_eq!(out.stdout.trim(), "203.0.113.7");
}

#[test]
fn validate_needs_no_value_for_a_required_variable() {
    // A CI validate job has no pre-shared key: validate treats an unset variable as unknown.
    let w = Work::new();
    w.config(&format!(
        r#"
variable "psk" {{
  type      = string
  sensitive = true
}}

variable "sites" {{
  type = map(string)
}}
{}{}
resource "tencentcloud_vpn_connection" "t" {{
  name                = "t"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = var.psk
  tags                = var.sites
  security_group_policy {{
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.1.0/24"]
  }}
}}
"#,
        crate::common::gateway_block("gw"),
        customer_gateway_block("a", "203.0.113.1"),
    ));
    let r = w.tf(&["validate", "cfg"]);
    r.success();
    assert!(r.stdout.contains("Success!"), "{}", r.stdout);
    // A value that is given is still checked against its type.
    let r = w.tf(&["validate", "cfg", "--var", r#"sites=["a"]"#]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("Invalid value for variable \"sites\""),
        "{}",
        r.stderr
    );
    // plan still needs the values.
    let r = w.tf(&["plan", "cfg", "--sandbox"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("No value for required variable \"psk\""),
        "{}",
        r.stderr
    );
    // Errors that do not depend on the values are still found.
    let broken = std::fs::read_to_string(w.cfg().join("main.tf"))
        .unwrap()
        .replace(
            "name                = \"t\"",
            "name = \"t\"\n  dpd_timeoutt = 30",
        );
    w.config(&broken);
    let r = w.tf(&["validate", "cfg"]);
    r.expect_code(1);
    assert!(r.stderr.contains("dpd_timeoutt"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("No value for required variable"),
        "{}",
        r.stderr
    );
}

#[test]
fn chdir_is_global_and_a_missing_state_is_said_not_silent() {
    let w = Work::new();
    w.config(
        r#"
resource "tencentcloud_vpn_customer_gateway" "a" {
  name              = "a"
  public_ip_address = "203.0.113.7"
}

output "ip" {
  value = tencentcloud_vpn_customer_gateway.a.public_ip_address
}
"#,
    );
    w.embedded(&["apply", "cfg", "--auto-approve"]).success();
    // Run from the wrong directory (no configuration, no state here): never an empty success.
    for args in [
        &["state", "list"][..],
        &["output"][..],
        &["output", "ip"][..],
        &["show"][..],
        &["state", "show", "tencentcloud_vpn_customer_gateway.a"][..],
    ] {
        let r = run_in(&w.cfg(), args, &[]);
        r.expect_code(1);
        for needle in [
            "No state file at state/cfg.tfstate.json",
            "-chdir=DIR",
            "--state FILE",
        ] {
            assert!(
                r.stderr.contains(needle),
                "{args:?}: {needle:?} not in:\n{}",
                r.stderr
            );
        }
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
    // -chdir=DIR and --chdir DIR run as if started there, for every command alike.
    for args in [
        &["-chdir=..", "state", "list", "--dir", "cfg"][..],
        &["--chdir", "..", "state", "list", "--dir", "cfg"][..],
        &["-chdir", "..", "show", "--dir", "cfg"][..],
    ] {
        let r = run_in(&w.cfg(), args, &[]);
        r.success();
        assert!(
            r.stdout.contains("tencentcloud_vpn_customer_gateway.a"),
            "{args:?}: {}",
            r.stdout
        );
    }
    let r = run_in(
        &w.cfg(),
        &["-chdir=..", "output", "ip", "--dir", "cfg"],
        &[],
    );
    r.success();
    assert_eq!(r.stdout.trim(), "203.0.113.7");
    let r = run_in(&w.cfg(), &["-chdir=..", "validate", "cfg"], &[]);
    r.success();
    // A directory given where an output name goes: the error says how to name the directory.
    let r = w.tf(&["output", "cfg"]);
    r.expect_code(1);
    assert!(r.stderr.contains("--dir cfg"), "{}", r.stderr);
    // A -chdir that does not exist is named.
    let r = w.tf(&["-chdir=nowhere", "state", "list"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("-chdir") && r.stderr.contains("nowhere"),
        "{}",
        r.stderr
    );
}

#[test]
fn apply_prints_the_outputs_at_the_end_sensitive_ones_masked() {
    let w = Work::new();
    w.config(
        r#"
resource "tencentcloud_vpn_customer_gateway" "a" {
  name              = "a"
  public_ip_address = "203.0.113.7"
}

output "ip" {
  value = tencentcloud_vpn_customer_gateway.a.public_ip_address
}

output "secret" {
  value     = "s3cret-output-value"
  sensitive = true
}
"#,
    );
    let r = w.embedded(&["apply", "cfg", "--auto-approve"]);
    r.success();
    let tail = r
        .stdout
        .split("Apply complete!")
        .nth(1)
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(tail.contains("\nOutputs:\n"), "{}", r.stdout);
    assert!(tail.contains("ip = \"203.0.113.7\""), "{}", r.stdout);
    assert!(
        tail.contains("secret = \"(sensitive value)\""),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("s3cret-output-value"), "{}", r.stdout);
}

/// `AuthFailure.SecretIdNotFound` is about the credentials, not the objects: with an unknown
/// SecretId, `plan` and `destroy` of a state holding objects fail at once, and nothing is taken for
/// deleted (no create planned, no object dropped from the state, nothing deleted).
#[test]
fn an_unknown_secret_id_is_an_error_not_objects_gone() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::new();
    w.config(&format!(
        "{}{}",
        customer_gateway_block("a", "203.0.113.1"),
        customer_gateway_block("b", "203.0.113.2")
    ));
    run_in(
        w.path(),
        &["apply", "cfg", "--auto-approve", "--endpoint", &sb.url],
        &[],
    )
    .expect_code(0);
    let ids = w.state_ids();
    assert_eq!(ids.len(), 2, "{ids:?}");
    let wrong = [
        ("TENCENTCLOUD_SECRET_ID", "AKIDnot-a-real-id"),
        ("TENCENTCLOUD_SECRET_KEY", "not-a-real-key"),
    ];
    for command in [
        &["plan", "cfg", "--detailed-exitcode", "--endpoint", &sb.url][..],
        &["destroy", "cfg", "--auto-approve", "--endpoint", &sb.url][..],
    ] {
        let r = run_in(w.path(), command, &wrong);
        r.expect_code(1);
        assert!(
            r.stderr.contains("AuthFailure.SecretIdNotFound"),
            "{command:?}: {}",
            r.stderr
        );
        assert!(!r.stdout.contains("will be created"), "{}", r.stdout);
        assert_eq!(w.state_ids(), ids, "{command:?}: the state lost objects");
    }
    assert_eq!(sb.cloud().customer_gateways("ap-guangzhou").len(), 2);
}

#[test]
fn an_auth_error_is_printed_once() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::new();
    w.config(&customer_gateway_block("a", "203.0.113.1"));
    let r = run_in(
        w.path(),
        &["plan", "cfg", "--endpoint", &sb.url],
        &[
            ("TENCENTCLOUD_SECRET_ID", "AKIDnot-a-real-id"),
            ("TENCENTCLOUD_SECRET_KEY", "not-a-real-key"),
        ],
    );
    r.expect_code(1);
    assert_eq!(r.stderr.matches("AuthFailure").count(), 1, "{}", r.stderr);
    assert!(!r.stderr.contains("not-a-real-key"), "{}", r.stderr);
}

/// Declining the confirmation of a destroy says "Destroy cancelled." (on a terminal: `script`
/// gives the command one).
#[cfg(target_os = "linux")]
#[test]
fn a_declined_destroy_says_destroy_cancelled() {
    use std::io::Write;
    use std::process::Stdio;
    let w = Work::new();
    w.config(&customer_gateway_block("a", "203.0.113.1"));
    w.embedded(&["apply", "cfg", "--auto-approve"]).success();
    let cmd = format!("{} destroy cfg --sandbox", crate::common::BIN);
    let mut script = std::process::Command::new("script");
    script
        .current_dir(w.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SHELL", "/bin/sh")
        .env("TUNNELFORM_SANDBOX_TASK_LATENCY_MS", "50")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = script.spawn().expect("running script (util-linux)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"no\n")
        .expect("answering");
    let out = child.wait_with_output().expect("script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Destroy cancelled."), "{stdout}");
    assert!(!stdout.contains("Apply cancelled."), "{stdout}");
    assert_eq!(w.state_ids().len(), 1, "{stdout}");
}

/// On a terminal, a large apply shows overall progress under the spinners: done/total, failures
/// or skips, elapsed time.
#[test]
fn apply_on_a_terminal_shows_overall_progress() {
    use std::process::Stdio;
    let w = Work::new();
    w.config(&format!(
        "{}{}{}",
        crate::common::gateway_block("tty-gw"),
        customer_gateway_block("a", "203.0.113.91"),
        customer_gateway_block("b", "203.0.113.92"),
    ));
    let cmd = format!("{} apply cfg --sandbox --auto-approve", crate::common::BIN);
    let out = std::process::Command::new("script")
        .current_dir(w.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SHELL", "/bin/sh")
        .env("TERM", "xterm")
        // A gateway stays PENDING this long: the overall line is drawn while it waits.
        .env("TUNNELFORM_SANDBOX_TASK_LATENCY_MS", "1500")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("running script (util-linux)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("/3] done, 0 failed or skipped"),
        "no overall progress line in:\n{stdout}"
    );
    assert!(
        stdout.contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."),
        "{stdout}"
    );
}

/// `validate` needs no value for a variable that drives `for_each` or `count` (a map of sites kept
/// in a CI secret or a tfvars file the job does not have): each block is checked once, with
/// `each` and `count.index` unknown, and its mistakes are still found.
#[test]
fn validate_needs_no_value_for_a_variable_that_drives_for_each_or_count() {
    let w = Work::new();
    let tf = |dpd: u32| {
        format!(
            r#"variable "sites" {{
  type = map(string)
}}

variable "gateways" {{
  type = number
}}

resource "tencentcloud_vpn_gateway" "g" {{
  count  = var.gateways
  name   = "g${{count.index}}"
  vpc_id = "vpc-sandbox1"
}}

resource "tencentcloud_vpn_customer_gateway" "c" {{
  for_each          = var.sites
  name              = "c-${{each.key}}"
  public_ip_address = each.value
}}

resource "tencentcloud_vpn_connection" "t" {{
  for_each            = var.sites
  name                = "t-${{each.key}}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.g[0].id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.c[each.key].id
  pre_share_key       = "k"
  dpd_timeout         = {dpd}
  security_group_policy {{
    local_cidr_block  = "10.0.0.0/24"
    remote_cidr_block = ["192.168.1.0/24"]
  }}
}}
"#
        )
    };
    w.config(&tf(45));
    let ok = w.tf(&["validate", "cfg"]);
    ok.success();
    assert!(
        ok.stdout.contains("Success! The configuration is valid."),
        "{}",
        ok.stdout
    );
    // A mistake inside a block whose instances are not known is still reported, at its place.
    w.config(&tf(500));
    let bad = w.tf(&["validate", "cfg"]);
    bad.expect_code(1);
    assert!(
        bad.stderr.contains("Invalid value for \"dpd_timeout\"")
            && bad.stderr.contains("cfg/main.tf:28:25"),
        "{}",
        bad.stderr
    );
    // plan still needs the values.
    w.config(&tf(45));
    let plan = w.embedded(&["plan", "cfg"]);
    plan.expect_code(1);
    assert!(plan.stderr.contains("sites"), "{}", plan.stderr);
}
