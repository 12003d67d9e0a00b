//! No secret ever leaks: every command runs with known pre-shared keys, a sensitive variable, a
//! secret key and a security token, at `TUNNELFORM_LOG=trace`, against a sandbox also logging at
//! trace; then all output and every file written is searched for each secret.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_tunnelform");
const SECRET_ID: &str = "AKIDleaktest0001";
const SECRET_KEY: &str = "SK-leaktest-5e8c1f0d2b7a";
const TOKEN: &str = "TOKEN-leaktest-c4a19e77";
const PSK_LITERAL: &str = "psk-LEAK-literal-7f3a";
const PSK_VAR: &str = "psk-LEAK-var-91b2";
const SENSITIVE_TAG: &str = "owner-LEAK-tag-2d6e";
const SECRETS: &[&str] = &[SECRET_KEY, TOKEN, PSK_LITERAL, PSK_VAR, SENSITIVE_TAG];

struct Sandbox {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sandbox(dir: &Path) -> Sandbox {
    let log = dir.join("sandbox.log");
    let mut child = Command::new(BIN)
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--task-latency-ms",
            "50",
        ])
        .args(["--secret-id", SECRET_ID, "--secret-key", SECRET_KEY])
        // The account the runs name with TENCENTCLOUD_UIN.
        .args(["--uin", "100000000001"])
        .env("TUNNELFORM_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start the sandbox");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("first line names the address")
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    Sandbox { child, url, log }
}

const CONFIG: &str = r#"
provider "tencentcloud" {
  region = "ap-guangzhou"
}

variable "psk" {
  type      = string
  sensitive = true
}

variable "owner" {
  type      = string
  sensitive = true
}

resource "tencentcloud_vpn_gateway" "gw" {
  name   = "leak-gw"
  vpc_id = "vpc-sandbox1"
}

resource "tencentcloud_vpn_customer_gateway" "a" {
  name              = "leak-a"
  public_ip_address = "203.0.113.50"
}

resource "tencentcloud_vpn_customer_gateway" "b" {
  name              = "leak-b"
  public_ip_address = "203.0.113.51"
}

resource "tencentcloud_vpn_connection" "literal" {
  name                = "leak-literal"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.a.id
  pre_share_key       = "psk-LEAK-literal-7f3a"
  security_group_policy {
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = ["192.168.50.0/24"]
  }
}

resource "tencentcloud_vpn_connection" "var" {
  name                = "leak-var"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.b.id
  pre_share_key       = var.psk
  tags = {
    owner = var.owner
  }
  security_group_policy {
    local_cidr_block  = "10.0.2.0/24"
    remote_cidr_block = ["192.168.51.0/24"]
  }
}

output "owner" {
  value     = var.owner
  sensitive = true
}
"#;

fn run(cwd: &Path, url: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .current_dir(cwd)
        .args(args)
        .args(["--endpoint", url])
        .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
        .env("TENCENTCLOUD_SECURITY_TOKEN", TOKEN)
        .env("TENCENTCLOUD_UIN", "100000000001")
        .env("TF_VAR_psk", PSK_VAR)
        .env("TF_VAR_owner", SENSITIVE_TAG)
        .env("TUNNELFORM_LOG", "trace")
        .env_remove("TUNNELFORM_ENDPOINT")
        .stdin(Stdio::null())
        .output()
        .expect("run tunnelform");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn assert_clean(what: &str, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    for s in SECRETS {
        assert!(
            !text.contains(s),
            "{what} contains the secret {s:?}:\n{text}"
        );
    }
}

#[test]
fn no_secret_in_any_output_log_plan_state_or_journal() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let cfg = work.join("net");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(cfg.join("main.tf"), CONFIG).unwrap();
    let sb = start_sandbox(tmp.path());

    let mut transcript = Vec::new();
    let mut step = |args: &[&str], want: i32| {
        let (code, text) = run(&work, &sb.url, args);
        assert_eq!(code, want, "tunnelform {args:?} exited {code}:\n{text}");
        transcript.push((args.join(" "), text));
    };
    step(&["validate", "net"], 0);
    step(&["plan", "net"], 0);
    step(&["plan", "net", "--json"], 0);
    step(&["plan", "net", "--format", "markdown"], 0);
    step(&["plan", "net", "--out", "net.plan"], 0);
    step(&["show", "net.plan"], 0);
    step(&["show", "net.plan", "--json"], 0);
    step(&["apply", "net.plan"], 0);
    step(&["plan", "net", "--detailed-exitcode"], 0);
    step(&["state", "list", "--dir", "net"], 0);
    step(
        &[
            "state",
            "show",
            "tencentcloud_vpn_connection.var",
            "--dir",
            "net",
        ],
        0,
    );
    step(&["output", "--dir", "net"], 0);
    step(&["output", "owner", "--json", "--dir", "net"], 0);
    step(&["graph", "net"], 0);
    step(&["plan", "net", "--refresh-only"], 0);
    step(&["apply", "net", "--refresh-only", "--auto-approve"], 0);
    // Forget a tunnel, then import it back: the key comes from the cloud and the configuration.
    let state_text = std::fs::read_to_string(work.join("state/net.tfstate.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&state_text).unwrap();
    let id = state["resources"]["tencentcloud_vpn_connection.var"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    step(
        &[
            "state",
            "rm",
            "tencentcloud_vpn_connection.var",
            "--dir",
            "net",
        ],
        0,
    );
    step(
        &[
            "import",
            "tencentcloud_vpn_connection.var",
            &id,
            "--dir",
            "net",
        ],
        0,
    );
    step(&["plan", "net", "--detailed-exitcode"], 0);
    // A changed key is an update; the plan shows it only as sensitive.
    let mut changed = CONFIG.replace("psk-LEAK-literal-7f3a", "psk-LEAK-literal-7f3a-v2");
    std::fs::write(cfg.join("main.tf"), &changed).unwrap();
    let (code, text) = run(&work, &sb.url, &["plan", "net", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("(sensitive value)"), "{text}");
    assert!(!text.contains("psk-LEAK-literal-7f3a-v2"), "{text}");
    changed = CONFIG.to_string();
    std::fs::write(cfg.join("main.tf"), &changed).unwrap();
    step(&["destroy", "net", "--auto-approve"], 0);

    let traced = transcript.iter().map(|(_, t)| t.len()).sum::<usize>();
    assert!(
        traced > 10_000,
        "trace logging should have produced plenty of output ({traced} bytes)"
    );
    for (cmd, text) in &transcript {
        assert_clean(&format!("output of `tunnelform {cmd}`"), text.as_bytes());
    }
    drop(sb);
    let mut files = Vec::new();
    all_files(tmp.path(), &mut files);
    let state_files: Vec<&PathBuf> = files
        .iter()
        .filter(|p| p.to_string_lossy().contains("tfstate"))
        .collect();
    assert!(!state_files.is_empty(), "the state was written: {files:?}");
    assert!(
        files.iter().any(|p| p.ends_with("net.plan")),
        "the plan file was written"
    );
    for f in &files {
        if f.ends_with("main.tf") {
            continue; // the configuration holds the literal key by the user's choice
        }
        assert_clean(&format!("file {}", f.display()), &std::fs::read(f).unwrap());
    }
}

#[test]
fn the_sandbox_log_never_shows_keys() {
    // Covered above for a whole session; here: a failing request (wrong key) logged at trace.
    let tmp = tempfile::tempdir().unwrap();
    let sb = start_sandbox(tmp.path());
    let cfg = tmp.path().join("net");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(cfg.join("main.tf"), CONFIG).unwrap();
    let out = Command::new(BIN)
        .current_dir(tmp.path())
        .args(["plan", "net", "--endpoint", &sb.url])
        .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", "wrong-key-but-also-secret-99")
        .env("TF_VAR_psk", PSK_VAR)
        .env("TF_VAR_owner", SENSITIVE_TAG)
        .env("TUNNELFORM_LOG", "trace")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("AuthFailure.SignatureFailure"),
        "the error names the code: {text}"
    );
    assert!(!text.contains("wrong-key-but-also-secret-99"), "{text}");
    std::thread::sleep(Duration::from_millis(100));
    let log = std::fs::read(&sb.log).unwrap();
    assert_clean("sandbox log", &log);
    assert!(!String::from_utf8_lossy(&log).contains("wrong-key-but-also-secret-99"));
}
