//! Helpers for the end-to-end tests: the real `tunnelform` binary as a subprocess, a sandbox child
//! process on 127.0.0.1 with an ephemeral port, a temporary working directory per test, the state
//! file, and an independent look at what the sandbox holds (through the typed API client).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tunnelform_tencent_api::vpc::{CustomerGateway, VpnConnection, VpnGateway};
use tunnelform_tencent_api::{Client, ClientConfig, Credentials};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_tunnelform");

/// The sandbox's default credentials (what `--endpoint` without credentials in the environment uses).
const SECRET_ID: &str = "AKIDsandbox";
const SECRET_KEY: &str = "sandboxsecret";

/// The longest any one command may run before the test fails (never reached when things work).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Environment variables that would change what the binary does; removed from every child.
const SCRUBBED_ENV: &[&str] = &[
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRET_KEY",
    "TENCENTCLOUD_SECURITY_TOKEN",
    "TENCENTCLOUD_REGION",
    "TENCENTCLOUD_UIN",
    "TUNNELFORM_ENDPOINT",
    "TUNNELFORM_LOG",
    "TUNNELFORM_SANDBOX_TASK_LATENCY_MS",
    "TUNNELFORM_PROJECT",
    "TUNNELFORM_QUOTA",
    "NO_COLOR",
    "RUST_LOG",
];

/// A command line for the binary with a clean environment.
pub fn command(cwd: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(cwd);
    for k in SCRUBBED_ENV {
        c.env_remove(k);
    }
    for (k, _) in std::env::vars() {
        if k.starts_with("TF_VAR_") {
            c.env_remove(k);
        }
    }
    c
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Panics with the whole output unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            Some(code),
            "`tunnelform {}` exited with {:?}, expected {code}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn success(&self) -> &Self {
        self.expect_code(0)
    }

    /// Panics with the whole stdout unless it contains `needle`.
    #[track_caller]
    pub fn expect_stdout(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "{needle:?} not in the stdout of `tunnelform {}`:\n{}",
            self.args.join(" "),
            self.stdout
        );
        self
    }

    /// Panics with the whole stderr unless it contains `needle`.
    #[track_caller]
    pub fn expect_stderr(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "{needle:?} not in the stderr of `tunnelform {}`:\n{}",
            self.args.join(" "),
            self.stderr
        );
        self
    }
}

fn from_output(args: Vec<String>, out: Output) -> Run {
    Run {
        args,
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Waits for a child with a deadline (killing it and failing the test when it is exceeded).
fn wait_output(mut child: Child, args: &[String]) -> Output {
    // Drain the pipes on threads so a chatty child cannot block on a full pipe.
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send(());
        status
    });
    if rx.recv_timeout(COMMAND_TIMEOUT).is_err() {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        panic!(
            "`tunnelform {}` did not finish within {COMMAND_TIMEOUT:?}",
            args.join(" ")
        );
    }
    let status = waiter
        .join()
        .expect("waiter thread")
        .expect("waiting for tunnelform");
    Output {
        status,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
    }
}

/// Runs the binary in `cwd` with `args` (stdin empty, not a terminal).
pub fn run_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = command(cwd);
    c.args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().expect("spawning tunnelform");
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = wait_output(child, &args);
    from_output(args, out)
}

/// Runs the binary with its stdout already closed by the reader (as `tunnelform plan | head` once
/// `head` has had enough).
pub fn run_with_closed_stdout(cwd: &Path, args: &[&str]) -> Run {
    let mut c = command(cwd);
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawning tunnelform");
    drop(child.stdout.take());
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = wait_output(child, &args);
    from_output(args, out)
}

// -------------------------------------------------------------------------------------------------
// The sandbox as a child process

/// `tunnelform sandbox --listen 127.0.0.1:0 ...` as a child process, killed on drop.
pub struct SandboxProc {
    child: Child,
    /// Kept open so the sandbox never writes into a closed pipe.
    _stdout: BufReader<ChildStdout>,
    pub url: String,
}

impl SandboxProc {
    /// Starts a sandbox with a task latency (ms) and extra arguments (`--quota ...`, `--data FILE`).
    pub fn start(latency_ms: u64, extra: &[&str]) -> SandboxProc {
        let cwd = std::env::temp_dir();
        let mut c = command(&cwd);
        c.args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--task-latency-ms",
            &latency_ms.to_string(),
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        let mut child = c.spawn().expect("spawning the sandbox");
        let stdout = child.stdout.take().expect("sandbox stdout");
        let mut reader = BufReader::new(stdout);
        let (tx, rx) = mpsc::channel();
        // Read the first line on a thread so a sandbox that never starts cannot hang the test.
        let handle = std::thread::spawn(move || {
            let mut line = String::new();
            let r = reader.read_line(&mut line);
            let _ = tx.send(());
            (r, line, reader)
        });
        if rx.recv_timeout(COMMAND_TIMEOUT).is_err() {
            let _ = child.kill();
            panic!("the sandbox did not print its address");
        }
        let (r, line, reader) = handle.join().expect("reader thread");
        r.expect("reading the sandbox's first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the sandbox: {line:?}"))
            .to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        SandboxProc {
            child,
            _stdout: reader,
            url,
        }
    }

    /// `GET /_sandbox/stats` (unsigned, loopback only): request counts by action since start.
    pub fn stats(&self) -> serde_json::Value {
        use std::io::Write;
        let addr = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).expect("connecting to the sandbox");
        s.set_read_timeout(Some(COMMAND_TIMEOUT)).expect("timeout");
        write!(
            s,
            "GET /_sandbox/stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("sending");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("reading");
        let body = resp.split("\r\n\r\n").nth(1).expect("an HTTP body");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("stats body {body:?}: {e}"))
    }

    /// Every request received since start (all actions).
    pub fn request_count(&self) -> u64 {
        self.stats()["requests"]
            .as_object()
            .map(|m| m.values().filter_map(|v| v.as_u64()).sum())
            .unwrap_or(0)
    }

    /// Requests received since start by actions that change something (not Describe*/Get*).
    pub fn write_request_count(&self) -> u64 {
        self.stats()["requests"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(a, _)| !a.starts_with("Describe") && !a.starts_with("Get"))
                    .filter_map(|(_, v)| v.as_u64())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// The sandbox's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// An API client for looking at what the sandbox holds.
    pub fn cloud(&self) -> Cloud {
        Cloud::new(&self.url)
    }
}

impl Drop for SandboxProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the sandbox through the typed API client: an independent view of what exists.
pub struct Cloud {
    rt: tokio::runtime::Runtime,
    client: Client,
}

impl Cloud {
    pub fn new(url: &str) -> Cloud {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let cc = ClientConfig::new(Credentials::new(SECRET_ID, SECRET_KEY, None))
            .with_endpoint(url)
            .expect("endpoint");
        let client = Client::new(cc).expect("client");
        // Each sandbox world is its own account: learn it (the uin of resource names) once.
        rt.block_on(client.caller_identity(""))
            .expect("GetCallerIdentity");
        Cloud { rt, client }
    }

    /// The sandbox's account (its world's uin).
    pub fn account(&self) -> String {
        self.client
            .known_identity()
            .expect("asked at start")
            .account_id
            .clone()
    }

    pub fn connections(&self, region: &str) -> Vec<VpnConnection> {
        self.rt
            .block_on(self.client.describe_vpn_connections_by_filters(region, &[]))
            .expect("DescribeVpnConnections")
    }

    pub fn gateways(&self, region: &str) -> Vec<VpnGateway> {
        self.rt
            .block_on(self.client.describe_vpn_gateways_by_filters(region, &[]))
            .expect("DescribeVpnGateways")
    }

    pub fn customer_gateways(&self, region: &str) -> Vec<CustomerGateway> {
        self.rt
            .block_on(
                self.client
                    .describe_customer_gateways_by_filters(region, &[]),
            )
            .expect("DescribeCustomerGateways")
    }

    /// Renames a tunnel and changes its DPD timeout behind tunnelform's back.
    pub fn modify_connection(&self, region: &str, id: &str, name: &str, dpd_timeout: u32) {
        use tunnelform_tencent_api::actions::ModifyVpnConnectionAttribute;
        use tunnelform_tencent_api::vpc::ModifyVpnConnectionAttributeRequest;
        let req = ModifyVpnConnectionAttributeRequest {
            vpn_connection_id: id.to_string(),
            vpn_connection_name: Some(name.to_string()),
            dpd_enable: Some(1),
            dpd_timeout: Some(dpd_timeout.to_string()),
            ..Default::default()
        };
        self.rt
            .block_on(
                self.client
                    .call::<ModifyVpnConnectionAttribute>(region, &req),
            )
            .expect("ModifyVpnConnectionAttribute");
    }

    /// Deletes a tunnel behind tunnelform's back and waits until it is gone.
    pub fn delete_connection(&self, region: &str, gateway_id: &str, id: &str) {
        use tunnelform_tencent_api::actions::DeleteVpnConnection;
        use tunnelform_tencent_api::vpc::DeleteVpnConnectionRequest;
        let req = DeleteVpnConnectionRequest {
            vpn_gateway_id: gateway_id.to_string(),
            vpn_connection_id: id.to_string(),
        };
        let r = self
            .rt
            .block_on(self.client.call::<DeleteVpnConnection>(region, &req))
            .expect("DeleteVpnConnection");
        let outcome = self
            .rt
            .block_on(self.client.wait_task(
                region,
                &r.request_id,
                tunnelform_tencent_api::WaitOptions {
                    timeout: COMMAND_TIMEOUT,
                    initial_delay: Duration::from_millis(20),
                    max_delay: Duration::from_millis(200),
                },
            ))
            .expect("waiting for the delete");
        assert!(
            matches!(outcome, tunnelform_tencent_api::TaskOutcome::Success { .. }),
            "{outcome:?}"
        );
    }

    /// Connection ids in a region, sorted.
    pub fn connection_ids(&self, region: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .connections(region)
            .into_iter()
            .map(|c| c.vpn_connection_id)
            .collect();
        v.sort();
        v
    }

    pub fn connection(&self, region: &str, id: &str) -> Option<VpnConnection> {
        self.connections(region)
            .into_iter()
            .find(|c| c.vpn_connection_id == id)
    }

    /// [`Cloud::all_ids`], or the API's error as text (for a sandbox that injects faults).
    pub fn try_all_ids(&self, region: &str) -> Result<Vec<String>, String> {
        let c = &self.client;
        let text = |e: tunnelform_tencent_api::ApiError| e.to_string();
        self.rt.block_on(async {
            let mut v: Vec<String> = Vec::new();
            let conns = c.describe_vpn_connections_by_filters(region, &[]).await;
            v.extend(
                conns
                    .map_err(text)?
                    .into_iter()
                    .map(|x| x.vpn_connection_id),
            );
            let gws = c.describe_vpn_gateways_by_filters(region, &[]).await;
            v.extend(gws.map_err(text)?.into_iter().map(|x| x.vpn_gateway_id));
            let cgws = c.describe_customer_gateways_by_filters(region, &[]).await;
            v.extend(
                cgws.map_err(text)?
                    .into_iter()
                    .map(|x| x.customer_gateway_id),
            );
            v.sort();
            Ok(v)
        })
    }

    /// Every object id of every kind in a region, sorted.
    pub fn all_ids(&self, region: &str) -> Vec<String> {
        let mut v: Vec<String> = self.connection_ids(region);
        v.extend(self.gateways(region).into_iter().map(|g| g.vpn_gateway_id));
        v.extend(
            self.customer_gateways(region)
                .into_iter()
                .map(|c| c.customer_gateway_id),
        );
        v.sort();
        v
    }
}

// -------------------------------------------------------------------------------------------------
// A working directory per test

/// A temporary working directory with a configuration directory `cfg/` in it. The state is then
/// `state/cfg.tfstate.json` under the working directory.
pub struct Work {
    pub dir: tempfile::TempDir,
    /// `--endpoint URL` of the sandbox, when the test uses one.
    pub endpoint: Option<String>,
}

/// Copies a directory tree (an example with its modules).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("examples dir");
    for entry in std::fs::read_dir(from).expect("reading the example") {
        let entry = entry.expect("entry");
        let kind = entry.file_type().expect("file type");
        if kind.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copying");
        } else if kind.is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        }
    }
}

impl Work {
    pub fn new() -> Work {
        Work {
            dir: tempfile::Builder::new()
                .prefix("tunnelform-e2e-")
                .tempdir()
                .expect("tempdir"),
            endpoint: None,
        }
    }

    pub fn with_sandbox(sandbox: &SandboxProc) -> Work {
        let mut w = Work::new();
        w.endpoint = Some(sandbox.url.clone());
        w
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cfg(&self) -> PathBuf {
        self.path().join("cfg")
    }

    /// Replaces the whole configuration directory with one `main.tf`.
    pub fn config(&self, main_tf: &str) {
        self.files(&[("main.tf", main_tf)]);
    }

    /// Replaces the whole configuration directory with these files.
    pub fn files(&self, files: &[(&str, &str)]) {
        let cfg = self.cfg();
        let _ = std::fs::remove_dir_all(&cfg);
        std::fs::create_dir_all(&cfg).expect("cfg dir");
        for (name, text) in files {
            std::fs::write(cfg.join(name), text).expect("writing a config file");
        }
    }

    /// Writes a file relative to the working directory.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("dir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }

    /// Runs `tunnelform ARGS` in the working directory, adding `--endpoint` when there is a sandbox.
    pub fn tf(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        if let Some(e) = &self.endpoint {
            all.push("--endpoint");
            all.push(e);
        }
        run_in(self.path(), &all, &[])
    }

    /// Runs `tunnelform ARGS --sandbox` (the embedded sandbox, data in `state/sandbox.json` under
    /// the working directory) with short task latencies.
    pub fn embedded(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--sandbox");
        run_in(
            self.path(),
            &all,
            &[("TUNNELFORM_SANDBOX_TASK_LATENCY_MS", "50")],
        )
    }

    /// Copies the repository's `examples/NAME` to `examples/NAME` under the working directory.
    pub fn copy_example(&self, name: &str) {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name);
        let to = self.path().join("examples").join(name);
        copy_dir(&from, &to);
    }

    /// The state file of a configuration directory named `name` (the default location).
    pub fn state_of(&self, name: &str) -> serde_json::Value {
        let p = self
            .path()
            .join("state")
            .join(format!("{name}.tfstate.json"));
        let text =
            std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
        serde_json::from_str(&text).expect("the state file is JSON")
    }

    pub fn plan(&self, extra: &[&str]) -> Run {
        let mut a = vec!["plan", "cfg"];
        a.extend_from_slice(extra);
        self.tf(&a)
    }

    pub fn apply(&self, extra: &[&str]) -> Run {
        let mut a = vec!["apply", "cfg", "--auto-approve"];
        a.extend_from_slice(extra);
        self.tf(&a)
    }

    pub fn destroy(&self, extra: &[&str]) -> Run {
        let mut a = vec!["destroy", "cfg", "--auto-approve"];
        a.extend_from_slice(extra);
        self.tf(&a)
    }

    /// `plan --detailed-exitcode` must say there is nothing to do.
    #[track_caller]
    pub fn assert_no_changes(&self, extra: &[&str]) {
        let mut a = vec!["--detailed-exitcode"];
        a.extend_from_slice(extra);
        let r = self.plan(&a);
        r.expect_code(0);
        assert!(
            r.stdout
                .contains("No changes. Your infrastructure matches the configuration."),
            "{}",
            r.stdout
        );
    }

    pub fn state_path(&self) -> PathBuf {
        self.path().join("state").join("cfg.tfstate.json")
    }

    /// The state file as JSON.
    pub fn state(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.state_path()).expect("reading the state file");
        serde_json::from_str(&text).expect("the state file is JSON")
    }

    /// Address -> id of every resource in the state.
    pub fn state_ids(&self) -> BTreeMap<String, String> {
        let s = self.state();
        s["resources"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(a, r)| (a.clone(), r["id"].as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn state_id(&self, address: &str) -> String {
        self.state_ids()
            .get(address)
            .cloned()
            .unwrap_or_else(|| panic!("{address} is not in the state: {:?}", self.state_ids()))
    }
}

/// Spawns `tunnelform ARGS` with piped stdout and stderr, for tests that watch progress as it
/// happens. Lines of both streams arrive in one channel, tagged by stream.
pub struct Running {
    child: Option<Child>,
    pid: u32,
    lines: mpsc::Receiver<(bool, String)>,
    /// Lines read so far: stdout.
    pub out: Vec<String>,
    /// Lines read so far: stderr.
    pub err: Vec<String>,
}

impl Running {
    pub fn spawn(work: &Work, args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut all: Vec<&str> = args.to_vec();
        if let Some(e) = &work.endpoint {
            all.push("--endpoint");
            all.push(e);
        }
        let mut child = command(work.path())
            .args(&all)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning tunnelform");
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send((false, line)).is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx2.send((true, line)).is_err() {
                    break;
                }
            }
        });
        Running {
            pid: child.id(),
            child: Some(child),
            lines,
            out: Vec::new(),
            err: Vec::new(),
        }
    }

    fn push(&mut self, (is_err, line): (bool, String)) {
        if is_err {
            self.err.push(line);
        } else {
            self.out.push(line);
        }
    }

    /// Reads output until a line (of either stream) contains `needle`; fails after the command
    /// timeout or when the program ends first.
    #[track_caller]
    pub fn wait_for_line(&mut self, needle: &str) {
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(item) => {
                    let hit = item.1.contains(needle);
                    self.push(item);
                    if hit {
                        return;
                    }
                }
                Err(_) => panic!(
                    "no line with {needle:?}; stdout so far:\n{}\nstderr so far:\n{}",
                    self.out.join("\n"),
                    self.err.join("\n")
                ),
            }
        }
    }

    /// Reads output until every needle has appeared in some line (read before or now, in any
    /// order); fails after the command timeout.
    #[track_caller]
    pub fn wait_for_all(&mut self, needles: &[&str]) {
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            let missing: Vec<&str> = needles
                .iter()
                .copied()
                .filter(|n| !self.out.iter().chain(&self.err).any(|l| l.contains(n)))
                .collect();
            if missing.is_empty() {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(item) => self.push(item),
                Err(_) => panic!(
                    "no line with {missing:?}; stdout so far:\n{}\nstderr so far:\n{}",
                    self.out.join("\n"),
                    self.err.join("\n")
                ),
            }
        }
    }

    /// Sends a signal by name (`TERM`, as a service manager stopping it; `HUP`, a reload).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.pid.to_string()])
            .status()
            .expect("running kill")
            .success();
        assert!(ok, "kill -{name} failed");
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends SIGINT (as Ctrl-C in a terminal would).
    pub fn interrupt(&self) {
        let ok = Command::new("kill")
            .args(["-INT", &self.pid.to_string()])
            .status()
            .expect("running kill")
            .success();
        assert!(ok, "kill -INT failed");
    }

    /// Waits for the exit; returns the status, all of stdout and all of stderr.
    pub fn finish(mut self) -> (ExitStatus, String, String) {
        let mut child = self.child.take().expect("child");
        let (tx, rx) = mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let s = child.wait();
            let _ = tx.send(());
            s
        });
        if rx.recv_timeout(COMMAND_TIMEOUT).is_err() {
            let _ = Command::new("kill")
                .args(["-KILL", &self.pid.to_string()])
                .status();
            panic!("tunnelform did not exit within {COMMAND_TIMEOUT:?}");
        }
        let status = waiter.join().expect("waiter").expect("wait");
        // The reader threads end at EOF, which closes the channel.
        while let Ok(item) = self.lines.recv_timeout(COMMAND_TIMEOUT) {
            self.push(item);
        }
        (status, self.out.join("\n"), self.err.join("\n"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

// -------------------------------------------------------------------------------------------------
// Configuration snippets

/// A gateway in the sandbox's default VPC of ap-guangzhou, and customer gateways by name.
pub fn gateway_block(name: &str) -> String {
    format!(
        r#"
resource "tencentcloud_vpn_gateway" "gw" {{
  name      = "{name}"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
}}
"#
    )
}

pub fn customer_gateway_block(label: &str, ip: &str) -> String {
    format!(
        r#"
resource "tencentcloud_vpn_customer_gateway" "{label}" {{
  name              = "cgw-{label}"
  public_ip_address = "{ip}"
}}
"#
    )
}

// -------------------------------------------------------------------------------------------------
// Crash tests (chaos, faults)

impl Running {
    /// Reads output until `n` lines (of either stream, counting those read before) satisfy `pred`.
    /// False when the program ends first; fails after the command timeout.
    pub fn wait_for_count(&mut self, n: usize, pred: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            let seen = self
                .out
                .iter()
                .chain(&self.err)
                .filter(|l| pred(l.as_str()))
                .count();
            if seen >= n {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(item) => self.push(item),
                Err(mpsc::RecvTimeoutError::Disconnected) => return false,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                    "fewer than {n} matching lines within {COMMAND_TIMEOUT:?}; stdout so far:\n{}\nstderr so far:\n{}",
                    self.out.join("\n"),
                    self.err.join("\n")
                ),
            }
        }
    }

    /// Sends SIGKILL (no chance to clean up, as with a crash or an OOM kill), then collects the exit
    /// status and all output.
    pub fn kill(self) -> (ExitStatus, String, String) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.pid.to_string()])
            .status();
        self.finish()
    }
}

// -------------------------------------------------------------------------------------------------
// Changes made "in the console": any call through the typed API client

impl Cloud {
    /// Calls action `A` in `region` through the typed client (as the console would); panics on
    /// an API error.
    pub fn call<A: tunnelform_tencent_api::Action>(
        &self,
        region: &str,
        req: &A::Request,
    ) -> A::Response {
        self.rt
            .block_on(self.client.call::<A>(region, req))
            .unwrap_or_else(|e| panic!("{}: {e}", A::NAME))
    }

    /// Waits until the asynchronous task started by the request `request_id` succeeds.
    pub fn wait_task(&self, region: &str, request_id: &str) {
        let outcome = self
            .rt
            .block_on(self.client.wait_task(
                region,
                request_id,
                tunnelform_tencent_api::WaitOptions {
                    timeout: COMMAND_TIMEOUT,
                    initial_delay: Duration::from_millis(10),
                    max_delay: Duration::from_millis(100),
                },
            ))
            .expect("waiting for the task");
        assert!(
            matches!(outcome, tunnelform_tencent_api::TaskOutcome::Success { .. }),
            "{outcome:?}"
        );
    }

    /// The six-segment resource name of an object (what the tag API takes).
    pub fn resource_name(&self, region: &str, id: &str) -> String {
        let prefix = match id.split('-').next() {
            Some(p @ ("vpnx" | "vpngw" | "cgw")) => p,
            _ => panic!("no resource kind for {id}"),
        };
        tunnelform_tencent_api::resource_name(region, &self.account(), prefix, id)
    }
}
