//! Hostile input through the binary.
//!
//! Configuration: huge files, huge strings, many blocks, deep nesting, binary garbage, invalid
//! UTF-8 and terminal escape sequences each give a located diagnostic (`cfg/main.tf:LINE:COL`) in
//! bounded time, exit code 1 (never a crash or a signal), and not one request to the cloud.
//!
//! State: a truncated, corrupt, future-version, foreign or Terraform state file gets an error that
//! names the file and says how to recover from the backup, exit code 1, and the file (and its
//! backup) are byte for byte what they were, whatever the command.
//!
//! The library-level cases (exact limits, evaluation budgets) are in crates/config/tests/hostile.rs;
//! these tests check what the user sees.

use std::path::{Path, PathBuf};

use crate::common::{Run, SandboxProc, Work};

/// Replaces the configuration directory with one `main.tf` holding `bytes`.
fn config_bytes(w: &Work, bytes: &[u8]) -> PathBuf {
    let cfg = w.cfg();
    let _ = std::fs::remove_dir_all(&cfg);
    std::fs::create_dir_all(&cfg).expect("cfg dir");
    let p = cfg.join("main.tf");
    std::fs::write(&p, bytes).expect("writing main.tf");
    p
}

/// `validate` and `plan` (against `sb`) both refuse the configuration in `w`: exit code 1 (not a
/// signal), the diagnostic at `cfg/main.tf:LINE:COL`, each of `expect` in stderr, no panic, a short
/// report, and the sandbox received nothing. Returns `validate`'s stderr.
#[track_caller]
fn refused(sb: &SandboxProc, w: &Work, line: usize, col: usize, expect: &[&str]) -> String {
    let location = format!("--> cfg/main.tf:{line}:{col}");
    let before = sb.request_count();
    let v = w.tf(&["validate", "cfg"]);
    let p = w.plan(&[]);
    for r in [&v, &p] {
        r.expect_code(1);
        for needle in std::iter::once(location.as_str()).chain(expect.iter().copied()) {
            assert!(
                r.stderr.contains(needle),
                "`tunnelform {}`: {needle:?} not in:\n{}",
                r.args.join(" "),
                r.stderr
            );
        }
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(
            r.stderr.len() < 16 * 1024,
            "a {} byte report for one problem",
            r.stderr.len()
        );
        assert!(!r.stdout.contains("Success"), "{}", r.stdout);
    }
    assert_eq!(sb.request_count(), before, "{}", sb.stats());
    v.stderr
}

#[test]
fn a_20_mb_file_is_refused_before_it_is_parsed() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    let block = "resource \"tencentcloud_vpn_customer_gateway\" \"c\" {\n  name              = \"c\"\n  public_ip_address = \"203.0.113.1\"\n}\n";
    let text = block.repeat((20 << 20) / block.len() + 1);
    config_bytes(&w, text.as_bytes());
    refused(
        &sb,
        &w,
        1,
        1,
        &[
            "error: Configuration too large: cfg/main.tf",
            "at most 16 MiB",
            "help: split the configuration into several directories",
        ],
    );
}

#[test]
fn a_1_mb_string_is_reported_without_echoing_it() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    let text = format!(
        "resource \"tencentcloud_vpn_gateway\" \"gw\" {{\n  name   = \"{}\"\n  vpc_id = \"vpc-sandbox1\"\n}}\n",
        "a".repeat(1 << 20)
    );
    config_bytes(&w, text.as_bytes());
    let stderr = refused(
        &sb,
        &w,
        2,
        12,
        &[
            r#"error: Invalid value for "name""#,
            "must be 1 to 60 characters long, got 1048576",
        ],
    );
    // The source line and the value are clipped.
    assert!(stderr.contains("..."), "{stderr}");
}

#[test]
fn a_hundred_thousand_blocks_load_in_bounded_time() {
    // 100,000 blocks, the last one broken: every block is read, and the error names the last line.
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    let n = 100_000;
    let mut text = String::with_capacity(n * 24);
    for i in 0..n - 1 {
        text.push_str(&format!("locals {{\n  l{i} = {i}\n}}\n"));
    }
    text.push_str("locals {\n  last = local.missing\n}\n");
    config_bytes(&w, text.as_bytes());
    let line = 3 * (n - 1) + 2;
    refused(
        &sb,
        &w,
        line,
        10,
        &[r#"error: Reference to undeclared local value"#],
    );
}

#[test]
fn deep_nesting_is_a_diagnostic_not_a_stack_overflow() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    let n = 100_000;
    // (text, line, column of the 65th level, which is one too many)
    let cases: Vec<(String, usize, usize)> = vec![
        (
            format!("locals {{\n  a = {}1{}\n}}\n", "[".repeat(n), "]".repeat(n)),
            2,
            7 + 64,
        ),
        (
            format!("locals {{\n  a = {}1{}\n}}\n", "(".repeat(n), ")".repeat(n)),
            2,
            7 + 64,
        ),
        (
            format!(
                "locals {{\n  a = {}1{}\n}}\n",
                "{ a = ".repeat(n),
                "}".repeat(n)
            ),
            2,
            387,
        ),
        (
            format!(
                "resource \"tencentcloud_vpn_gateway\" \"gw\" {{\n{}{}}}\n",
                "b {\n".repeat(n),
                "}\n".repeat(n)
            ),
            65,
            3,
        ),
    ];
    for (text, line, col) in cases {
        config_bytes(&w, text.as_bytes());
        refused(
            &sb,
            &w,
            line,
            col,
            &[
                "error: Configuration nested too deeply",
                "expected at most 64 nested levels",
                "help: expressions and blocks may nest at most 64 levels deep",
            ],
        );
    }
}

/// A deterministic stream of bytes (xorshift).
fn garbage(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

#[test]
fn binary_garbage_and_invalid_utf8_are_named() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);

    // Random bytes: the first byte that is not UTF-8 is located.
    let bytes = garbage(64 * 1024, 0x9E37_79B9_7F4A_7C15);
    let bad = match std::str::from_utf8(&bytes) {
        Ok(_) => unreachable!("random bytes are not UTF-8"),
        Err(e) => e.valid_up_to(),
    };
    let before = &bytes[..bad];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let col = std::str::from_utf8(&before[line_start..])
        .expect("valid up to here")
        .chars()
        .count()
        + 1;
    config_bytes(&w, &bytes);
    refused(
        &sb,
        &w,
        line,
        col,
        &[
            "error: cfg/main.tf is not valid UTF-8",
            &format!(
                "invalid byte 0x{:02x} at line {line}, column {col}",
                bytes[bad]
            ),
            "help: configuration files must be UTF-8 text",
        ],
    );

    // Latin-1 text.
    config_bytes(
        &w,
        b"resource \"tencentcloud_vpn_gateway\" \"gw\" {\n  name   = \"caf\xe9\"\n  vpc_id = \"vpc-sandbox1\"\n}\n",
    );
    refused(
        &sb,
        &w,
        2,
        16,
        &["cfg/main.tf is not valid UTF-8", "invalid byte 0xe9"],
    );

    // Valid UTF-8 but not text: NUL and other control bytes are a syntax error at the first one.
    config_bytes(&w, b"\0\0\x01locals {}\n");
    refused(&sb, &w, 1, 1, &["error: Invalid syntax"]);
}

#[test]
fn terminal_escape_sequences_in_a_file_are_not_echoed() {
    let sb = SandboxProc::start(50, &[]);
    let w = Work::with_sandbox(&sb);
    // ESC ] 0 ; ... BEL sets the terminal title, ESC [ 2 J clears the screen, U+202E reverses the
    // text that follows.
    config_bytes(
        &w,
        "resource \"tencentcloud_vpn_gateway\" \"gw\" {\n  name   = \"gw\"\n  vpc_id = \"vpc-sandbox1\"\n  bandwidth = \"x\" # \u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}evil\n}\n"
            .as_bytes(),
    );
    let stderr = refused(
        &sb,
        &w,
        4,
        15,
        &[
            r#"error: Incorrect attribute value type for "bandwidth""#,
            "# \u{fffd}]0;pwned\u{fffd}\u{fffd}[2J\u{fffd}evil",
        ],
    );
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}') && !stderr.contains('\u{202e}'),
        "{stderr:?}"
    );
    // The caret still points at the value.
    assert!(stderr.contains("\n  |               ^^^\n"), "{stderr}");

    // In a label, the same characters show up escaped in the message.
    config_bytes(
        &w,
        "resource \"tencentcloud_vpn_gateway\u{1b}[2J\" \"gw\" {\n}\n".as_bytes(),
    );
    let stderr = refused(
        &sb,
        &w,
        1,
        10,
        &[r#"error: Unsupported resource type "tencentcloud_vpn_gateway\u{1b}[2J""#],
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

// -------------------------------------------------------------------------------------------------
// Broken state files

/// The broken files, by name: (what, bytes, text the error must contain).
fn broken_states(good: &[u8]) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut future: serde_json::Value = serde_json::from_slice(good).expect("a JSON state");
    future["version"] = serde_json::json!(99);
    future["tunnelform_version"] = serde_json::json!("42.0.0");
    vec![
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            "the file is truncated",
        ),
        ("garbage", garbage(4096, 7), "the file is not valid JSON"),
        (
            "future version",
            serde_json::to_vec_pretty(&future).expect("json"),
            "uses state format version 99 written by tunnelform 42.0.0",
        ),
        (
            "foreign JSON",
            br#"{"name": "my-app", "version": "1.0.0", "dependencies": {}}"#.to_vec(),
            "this is not a tunnelform state file",
        ),
        (
            "Terraform state",
            include_bytes!(
                "../../crates/state/tests/fixtures/terraform-v4-tencentcloud-vpn.tfstate"
            )
            .to_vec(),
            "this is a Terraform state file (terraform_version 1.5.7)",
        ),
    ]
}

/// What the user is told to do, per kind of file (the paths as the binary shows them).
fn recovery(what: &str, state: &str, backup: &str) -> Vec<String> {
    let restore = format!(
        "check it with `tunnelform state list --state {backup}`, then restore it with `cp {backup} {state}`"
    );
    match what {
        "future version" => vec![
            "Upgrade tunnelform to 42.0.0 or later".into(),
            format!("{backup} holds the version before the last save"),
        ],
        "Terraform state" => vec![
            format!("tunnelform state migrate-terraform {state}"),
            format!("If this file replaced your tunnelform state by mistake, the previous state is kept in {backup}"),
            restore,
        ],
        "foreign JSON" => vec![
            "Check that --state (or the backend \"local\" path) names a tunnelform state file".into(),
            format!("the previous state is kept in {backup}"),
            restore,
        ],
        _ => vec![
            "tunnelform will not overwrite it".into(),
            format!("The previous version is kept in {backup}"),
            restore,
        ],
    }
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

#[test]
fn broken_state_files_are_refused_and_never_changed() {
    let sb = SandboxProc::start(20, &[]);
    let w = Work::with_sandbox(&sb);
    w.config(
        r#"resource "tencentcloud_vpn_customer_gateway" "c" {
  name              = "c"
  public_ip_address = "203.0.113.9"
}
"#,
    );
    // A real state with a backup beside it: two applies.
    w.apply(&[]).success();
    w.config(
        r#"resource "tencentcloud_vpn_customer_gateway" "c" {
  name              = "c2"
  public_ip_address = "203.0.113.9"
}
"#,
    );
    w.apply(&[]).success();
    let state = w.state_path();
    let backup = state.with_file_name("cfg.tfstate.json.backup");
    let good = read(&state);
    let good_backup = read(&backup);
    let cgw = w.state_id("tencentcloud_vpn_customer_gateway.c");
    let cloud_before = sb.cloud().all_ids("ap-guangzhou");
    let writes_before = sb.write_request_count();

    let commands: [&[&str]; 5] = [
        &["plan", "cfg"],
        &["apply", "cfg", "--auto-approve"],
        &["destroy", "cfg", "--auto-approve"],
        &[
            "import",
            "--dir",
            "cfg",
            "tencentcloud_vpn_customer_gateway.c",
            &cgw,
        ],
        &["state", "list", "--dir", "cfg"],
    ];
    for (what, bytes, cause) in broken_states(&good) {
        std::fs::write(&state, &bytes).expect("writing the broken state");
        for args in commands {
            let r: Run = w.tf(args);
            let cmd = format!("{what}: `tunnelform {}`", args.join(" "));
            r.expect_code(1);
            for needle in [
                "cannot read the state file state/cfg.tfstate.json".to_string(),
                cause.to_string(),
            ]
            .into_iter()
            .chain(recovery(
                what,
                "state/cfg.tfstate.json",
                "state/cfg.tfstate.json.backup",
            )) {
                assert!(
                    r.stderr.contains(&needle),
                    "{cmd}: {needle:?} not in:\n{}",
                    r.stderr
                );
            }
            assert!(!r.stderr.contains("panicked"), "{cmd}: {}", r.stderr);
            assert_eq!(read(&state), bytes, "{cmd} changed the state file");
            assert_eq!(read(&backup), good_backup, "{cmd} changed the backup");
        }
        // Nothing else appeared beside it (a replacement or a copy of the broken file).
        let mut names: Vec<String> = std::fs::read_dir(state.parent().expect("dir"))
            .expect("state dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert!(
            names
                .iter()
                .all(|n| !n.contains(".tmp") && !n.contains("unreadable")),
            "{what}: {names:?}"
        );
    }
    assert_eq!(sb.write_request_count(), writes_before, "{}", sb.stats());
    assert_eq!(sb.cloud().all_ids("ap-guangzhou"), cloud_before);

    // The advice works: restoring the backup gives a state the commands read again.
    std::fs::copy(&backup, &state).expect("cp backup state");
    let r = w.tf(&["state", "list", "--dir", "cfg"]);
    r.success();
    assert!(
        r.stdout.contains("tencentcloud_vpn_customer_gateway.c"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_broken_state_without_a_backup_says_there_is_none() {
    let w = Work::new();
    w.config(&crate::common::customer_gateway_block("c", "203.0.113.9"));
    let state = w.write(
        "state/cfg.tfstate.json",
        "{\"format\": \"tunnelform-state\", \"vers",
    );
    let r = w.tf(&["state", "list", "--dir", "cfg"]);
    r.expect_code(1);
    for needle in [
        "cannot read the state file state/cfg.tfstate.json: the file is truncated",
        "There is no backup at state/cfg.tfstate.json.backup; restore state/cfg.tfstate.json from version control or your own backups",
    ] {
        assert!(r.stderr.contains(needle), "{needle:?} not in:\n{}", r.stderr);
    }
    assert_eq!(
        read(&state),
        b"{\"format\": \"tunnelform-state\", \"vers".to_vec()
    );
}
