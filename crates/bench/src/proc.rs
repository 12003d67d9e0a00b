//! Child processes: measured runs (wall time and peak RSS from `wait4`), the sandbox server, timeouts, and
//! cleanup (every child dies with the harness: `PR_SET_PDEATHSIG`, plus kill-on-drop).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use serde::{Deserialize, Serialize};

/// Environment variables that would change what tunnelform or the sandbox does; removed from every child.
const SCRUBBED_ENV: &[&str] = &[
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRET_KEY",
    "TENCENTCLOUD_SECURITY_TOKEN",
    "TENCENTCLOUD_REGION",
    "TENCENTCLOUD_UIN",
    "TUNNELFORM_ENDPOINT",
    "TUNNELFORM_LOG",
    "TUNNELFORM_SANDBOX_TASK_LATENCY_MS",
];

/// A command with a clean environment that dies with the harness.
pub fn command(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    for k in SCRUBBED_ENV {
        cmd.env_remove(k);
    }
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("TF_VAR_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("NO_COLOR", "1");
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// How a measured child ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub wall: Duration,
    /// Exit code (None when killed by a signal).
    pub code: Option<i32>,
    pub signal: Option<i32>,
    /// Peak resident set size of the child (`ru_maxrss`, KiB).
    pub max_rss_kib: u64,
    pub user: Duration,
    pub sys: Duration,
    pub timed_out: bool,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// A short description of a failure with the tail of stderr and stdout.
    pub fn failure(&self, what: &str) -> anyhow::Error {
        let how = if self.timed_out {
            format!("timed out after {:.1} s", self.wall.as_secs_f64())
        } else if let Some(c) = self.code {
            format!("exited with {c}")
        } else {
            format!("was killed by signal {}", self.signal.unwrap_or(0))
        };
        anyhow!(
            "{what} {how}\n--- stderr (tail) ---\n{}\n--- stdout (tail) ---\n{}",
            tail(&self.stderr, 30),
            tail(&self.stdout, 30)
        )
    }
}

/// The last `lines` lines of a file (for error messages).
pub fn tail(path: &Path, lines: usize) -> String {
    let Ok(s) = std::fs::read_to_string(path) else {
        return String::new();
    };
    let v: Vec<&str> = s.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

/// Kills a child that has not been reaped yet (a panic or an early return in the harness).
struct KillOnDrop {
    pid: libc::pid_t,
    reaped: Arc<AtomicBool>,
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if !self.reaped.load(Ordering::SeqCst) {
            // SAFETY: plain syscall on our own, not yet reaped child.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
            }
        }
    }
}

/// Runs `cmd` with stdout/stderr to files, waits at most `timeout` (then SIGKILL), and measures wall time
/// (spawn to exit) and the child's peak RSS with `wait4`.
pub fn run_measured(
    mut cmd: Command,
    timeout: Duration,
    stdout: &Path,
    stderr: &Path,
) -> Result<Outcome> {
    cmd.stdin(Stdio::null())
        .stdout(File::create(stdout).with_context(|| format!("creating {}", stdout.display()))?)
        .stderr(File::create(stderr).with_context(|| format!("creating {}", stderr.display()))?);
    let start = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    let pid = child.id() as libc::pid_t;
    let reaped = Arc::new(AtomicBool::new(false));
    let guard = KillOnDrop {
        pid,
        reaped: reaped.clone(),
    };
    let (tx, rx) = mpsc::channel();
    let reaped2 = reaped.clone();
    thread::spawn(move || {
        let mut status: libc::c_int = 0;
        // SAFETY: rusage is plain old data; zeroed is a valid value.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let r = loop {
            // SAFETY: waiting for our own child with valid out-pointers.
            let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
            if r == pid {
                reaped2.store(true, Ordering::SeqCst);
                break Ok((status, ru, Instant::now()));
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                break Err(e);
            }
        };
        let _ = tx.send(r);
    });
    let mut timed_out = false;
    let r = match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            timed_out = true;
            // SAFETY: our own child, not reaped (the waiter has not returned).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            rx.recv()
                .map_err(|_| anyhow!("the waiter thread vanished"))?
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => bail!("the waiter thread vanished"),
    };
    drop(guard);
    drop(child); // already reaped; std does not wait on drop
    let (status, ru, end) = r.context("waiting for the child")?;
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else if libc::WIFSIGNALED(status) {
        (None, Some(libc::WTERMSIG(status)))
    } else {
        (None, None)
    };
    Ok(Outcome {
        wall: end.duration_since(start),
        code,
        signal,
        max_rss_kib: ru.ru_maxrss.max(0) as u64,
        user: timeval(ru.ru_utime),
        sys: timeval(ru.ru_stime),
        timed_out,
        stdout: stdout.to_path_buf(),
        stderr: stderr.to_path_buf(),
    })
}

/// `GET /_sandbox/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    #[serde(default)]
    pub requests: BTreeMap<String, u64>,
    #[serde(default)]
    pub errors: BTreeMap<String, u64>,
    #[serde(default)]
    pub faults: BTreeMap<String, u64>,
}

impl Stats {
    /// `self - before`, dropping zero entries.
    pub fn since(&self, before: &Stats) -> Stats {
        fn diff(a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
            a.iter()
                .filter_map(|(k, v)| {
                    let d = v.saturating_sub(b.get(k).copied().unwrap_or(0));
                    (d > 0).then(|| (k.clone(), d))
                })
                .collect()
        }
        Stats {
            requests: diff(&self.requests, &before.requests),
            errors: diff(&self.errors, &before.errors),
            faults: diff(&self.faults, &before.faults),
        }
    }

    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }

    pub fn requests_for(&self, action: &str) -> u64 {
        self.requests.get(action).copied().unwrap_or(0)
    }

    /// `RequestLimitExceeded` and its sub-codes.
    pub fn rate_limited(&self) -> u64 {
        self.errors
            .iter()
            .filter(|(k, _)| k.starts_with("RequestLimitExceeded"))
            .map(|(_, v)| v)
            .sum()
    }

    /// "DescribeVpnConnections 10, DescribeVpnGateways 1, ..." (largest first).
    pub fn requests_line(&self) -> String {
        let mut v: Vec<(&String, &u64)> = self.requests.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        if v.is_empty() {
            return "none".into();
        }
        v.iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn errors_line(&self) -> String {
        if self.errors.is_empty() {
            return "none".into();
        }
        self.errors
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Splits an HTTP/1.1 response into (status, body), decoding a chunked body.
pub fn parse_http_response(raw: &[u8]) -> Result<(u16, Vec<u8>)> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("malformed HTTP response (no header end)"))?;
    let head = std::str::from_utf8(&raw[..split]).context("non-UTF-8 HTTP header")?;
    let body = &raw[split + 4..];
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("malformed HTTP status line"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if !chunked {
        return Ok((status, body.to_vec()));
    }
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        let eol = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("malformed chunk"))?;
        let size_str = std::str::from_utf8(&rest[..eol])?;
        let size = usize::from_str_radix(size_str.split(';').next().unwrap_or("").trim(), 16)
            .context("malformed chunk size")?;
        rest = &rest[eol + 2..];
        if size == 0 {
            break;
        }
        if rest.len() < size {
            bail!("truncated chunk");
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or(&[]);
    }
    Ok((status, out))
}

/// Reads the sandbox's counters (`host_port` like `127.0.0.1:41234`).
pub fn fetch_stats(host_port: &str) -> Result<Stats> {
    let mut s = TcpStream::connect(host_port)
        .with_context(|| format!("connecting to the sandbox at {host_port}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.set_write_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "GET /_sandbox/stats HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let (status, body) = parse_http_response(&raw)?;
    if status != 200 {
        bail!("GET /_sandbox/stats answered HTTP {status}");
    }
    serde_json::from_slice(&body).context("parsing /_sandbox/stats")
}

/// Samples `/_sandbox/stats` every `interval` in a thread, for a timeline of a measured run.
pub struct StatsPoller {
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<Vec<(f64, Stats)>>>,
}

impl StatsPoller {
    pub fn start(host_port: &str, interval: Duration) -> StatsPoller {
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let hp = host_port.to_string();
        let t0 = Instant::now();
        let handle = thread::spawn(move || {
            let mut samples = Vec::new();
            while !stop2.load(Ordering::SeqCst) {
                if let Ok(s) = fetch_stats(&hp) {
                    samples.push((t0.elapsed().as_secs_f64(), s));
                }
                thread::sleep(interval);
            }
            samples
        });
        StatsPoller {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops sampling; the samples as (seconds since start, counters).
    pub fn finish(mut self) -> Vec<(f64, Stats)> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for StatsPoller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// When each action was busy during a run, from periodic samples: (action, first sample showing a new
/// request, first sample showing the final count, requests).
pub fn timeline(samples: &[(f64, Stats)], end: &Stats) -> Vec<(String, f64, f64, u64)> {
    let Some((_, base)) = samples.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (action, &last) in &end.requests {
        let b = base.requests_for(action);
        if last <= b {
            continue;
        }
        let first_t = samples
            .iter()
            .find(|(_, s)| s.requests_for(action) > b)
            .map(|(t, _)| *t);
        let done_t = samples
            .iter()
            .find(|(_, s)| s.requests_for(action) >= last)
            .map(|(t, _)| *t);
        if let (Some(f), Some(d)) = (first_t, done_t) {
            out.push((action.clone(), f, d, last - b));
        }
    }
    out.sort_by(|a, b| a.1.total_cmp(&b.1));
    out
}

/// A `tunnelform sandbox` child.
pub struct Sandbox {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// `127.0.0.1:PORT`
    pub host_port: String,
}

impl Sandbox {
    /// Starts `tunnelform sandbox ARGS...` and waits (at most `timeout`) for `listening on http://HOST:PORT`.
    pub fn start(
        tunnelform: &Path,
        args: &[String],
        log: &Path,
        timeout: Duration,
    ) -> Result<Self> {
        let mut cmd = command(tunnelform);
        cmd.arg("sandbox")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(log).with_context(|| format!("creating {}", log.display()))?);
        let mut child = cmd.spawn().context("starting `tunnelform sandbox`")?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("no stdout pipe"))?;
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = tx.send(first);
            // Keep draining so the sandbox never blocks on a full pipe.
            for _ in lines {}
        });
        let mut sb = Sandbox {
            child: Some(child),
            url: String::new(),
            host_port: String::new(),
        };
        let line = match rx.recv_timeout(timeout) {
            Ok(Some(Ok(line))) => line,
            Ok(_) => bail!("the sandbox exited before it listened:\n{}", tail(log, 30)),
            Err(_) => bail!(
                "the sandbox did not print `listening on ...` within {timeout:?}:\n{}",
                tail(log, 30)
            ),
        };
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| anyhow!("unexpected first line from the sandbox: {line:?}"))?
            .to_string();
        sb.host_port = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("unexpected sandbox URL {url:?}"))?
            .trim_end_matches('/')
            .to_string();
        sb.url = url;
        Ok(sb)
    }

    pub fn stats(&self) -> Result<Stats> {
        fetch_stats(&self.host_port)
    }

    /// Stops the sandbox with SIGINT (it shuts down cleanly), SIGKILL after 20 s.
    pub fn stop(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        // SAFETY: signalling our own child, which has not been reaped (try_wait said it runs).
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGINT);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(20));
        }
        child.kill().ok();
        child.wait().ok();
        Ok(())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// `taskset`, when installed (to pin a process to one core).
pub fn taskset() -> Option<PathBuf> {
    ["/usr/bin/taskset", "/bin/taskset", "/usr/local/bin/taskset"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_responses_plain_and_chunked() {
        let (s, b) =
            parse_http_response(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").unwrap();
        assert_eq!((s, b.as_slice()), (200, &b"{}"[..]));
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n";
        let (s, b) = parse_http_response(raw).unwrap();
        assert_eq!((s, b.as_slice()), (200, &b"{\"a\":1}"[..]));
        assert!(parse_http_response(b"garbage").is_err());
    }

    #[test]
    fn stats_difference_and_rate_limit_count() {
        let before: Stats = serde_json::from_str(
            r#"{"requests":{"DescribeVpnConnections":3,"CreateVpnConnection":5},"errors":{"RequestLimitExceeded":1}}"#,
        )
        .unwrap();
        let after: Stats = serde_json::from_str(
            r#"{"requests":{"DescribeVpnConnections":13,"CreateVpnConnection":5,"DescribeVpnGateways":1},"errors":{"RequestLimitExceeded":4,"RequestLimitExceeded.UinLimitExceeded":2},"faults":{}}"#,
        )
        .unwrap();
        let d = after.since(&before);
        assert_eq!(d.requests_for("DescribeVpnConnections"), 10);
        assert_eq!(d.requests_for("CreateVpnConnection"), 0);
        assert!(!d.requests.contains_key("CreateVpnConnection"));
        assert_eq!(d.total_requests(), 11);
        assert_eq!(d.rate_limited(), 5);
        assert_eq!(
            d.requests_line(),
            "DescribeVpnConnections 10, DescribeVpnGateways 1"
        );
    }

    #[test]
    fn timeline_from_samples() {
        let st = |c: u64, d: u64| Stats {
            requests: [("Create".to_string(), c), ("Describe".to_string(), d)]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let samples = vec![
            (0.0, st(0, 5)),
            (0.25, st(0, 5)),
            (0.5, st(10, 6)),
            (0.75, st(20, 6)),
            (1.0, st(20, 9)),
        ];
        let t = timeline(&samples, &st(20, 9));
        assert_eq!(
            t,
            vec![
                ("Create".to_string(), 0.5, 0.75, 20),
                ("Describe".to_string(), 0.5, 1.0, 4)
            ]
        );
    }

    #[test]
    fn measured_run_reports_exit_code_and_memory() {
        let dir = tempfile::tempdir().unwrap();
        let (o, e) = (dir.path().join("o"), dir.path().join("e"));
        let mut cmd = command(Path::new("/bin/sh"));
        cmd.args(["-c", "echo hi; exit 3"]);
        let out = run_measured(cmd, Duration::from_secs(30), &o, &e).unwrap();
        assert_eq!(out.code, Some(3));
        assert!(!out.timed_out);
        assert!(out.max_rss_kib > 0);
        assert_eq!(std::fs::read_to_string(&o).unwrap(), "hi\n");
    }

    #[test]
    fn measured_run_kills_on_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let (o, e) = (dir.path().join("o"), dir.path().join("e"));
        let mut cmd = command(Path::new("/bin/sh"));
        cmd.args(["-c", "exec sleep 30"]);
        let out = run_measured(cmd, Duration::from_millis(200), &o, &e).unwrap();
        assert!(out.timed_out);
        assert_eq!(out.signal, Some(libc::SIGKILL));
        assert!(!out.ok());
    }
}
