//! The sandbox as the user runs it: the embedded `--sandbox` (its data file shared by every run in one
//! directory) and `tunnelform sandbox` as a server.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::common::{run_in, Running, SandboxProc, Work};

/// A configuration directory `name` with a VPN gateway and two customer gateways, their addresses and
/// names made distinct by `n`.
fn project(w: &Work, name: &str, n: u8) {
    w.write(
        &format!("{name}/main.tf"),
        &format!(
            r#"
resource "tencentcloud_vpn_gateway" "gw" {{
  name      = "gw-{name}"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 5
}}

resource "tencentcloud_vpn_customer_gateway" "one" {{
  name              = "cgw-{name}-1"
  public_ip_address = "203.0.113.{a}"
}}

resource "tencentcloud_vpn_customer_gateway" "two" {{
  name              = "cgw-{name}-2"
  public_ip_address = "203.0.113.{b}"
}}
"#,
            a = n * 10 + 1,
            b = n * 10 + 2,
        ),
    );
}

/// The ids of the state `state/<name>.tfstate.json`.
fn state_ids(w: &Work, name: &str) -> BTreeSet<String> {
    let s = w.state_of(name);
    s["resources"]
        .as_object()
        .map(|m| {
            m.values()
                .map(|r| r["id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The ids of every VPN gateway, customer gateway and tunnel in the embedded sandbox's data file.
fn data_file_ids(w: &Work) -> BTreeSet<String> {
    let path = w.path().join("state").join("sandbox.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let data: serde_json::Value = serde_json::from_str(&text).expect("the data file is JSON");
    let mut ids = BTreeSet::new();
    for region in data["Regions"].as_object().expect("Regions").values() {
        for kind in ["VpnGateways", "CustomerGateways", "VpnConnections"] {
            if let Some(m) = region[kind].as_object() {
                ids.extend(m.keys().cloned());
            }
        }
    }
    ids
}

/// Runs `tunnelform ARGS --sandbox` in the background (the embedded sandbox with 500 ms tasks, so
/// that each run lasts long enough to overlap the others).
fn spawn_embedded(w: &Work, args: &[&str]) -> Running {
    let mut all = args.to_vec();
    all.push("--sandbox");
    Running::spawn(w, &all, &[("TUNNELFORM_SANDBOX_TASK_LATENCY_MS", "500")])
}

#[test]
fn concurrent_embedded_sandbox_runs_lose_nothing() {
    let w = Work::new();
    project(&w, "a", 1);
    project(&w, "b", 2);
    project(&w, "c", 3);
    w.embedded(&["apply", "a", "--auto-approve"]).success();
    let a = state_ids(&w, "a");
    assert_eq!(a.len(), 3, "{a:?}");
    assert_eq!(data_file_ids(&w), a);

    // At once: destroy a, apply b, apply c, all on the one data file. Each waits for the data file
    // while another run holds it; none overwrites what another did.
    let runs = [
        spawn_embedded(
            &w,
            &["destroy", "a", "--auto-approve", "--lock-timeout", "50s"],
        ),
        spawn_embedded(
            &w,
            &["apply", "b", "--auto-approve", "--lock-timeout", "50s"],
        ),
        spawn_embedded(
            &w,
            &["apply", "c", "--auto-approve", "--lock-timeout", "50s"],
        ),
    ];
    let mut waited = 0;
    for run in runs {
        let (status, out, err) = run.finish();
        assert!(status.success(), "{status:?}\n{out}\n{err}");
        if err.contains("Waiting for the embedded sandbox's data file") {
            assert!(err.contains("state/sandbox.json"), "{err}");
            assert!(err.contains("--sandbox), since"), "{err}");
            waited += 1;
        }
    }
    let b = state_ids(&w, "b");
    let c = state_ids(&w, "c");
    assert_eq!(b.len(), 3, "{b:?}");
    assert_eq!(c.len(), 3, "{c:?}");
    assert!(state_ids(&w, "a").is_empty());
    // Exactly what the three runs did: a's objects gone, b's and c's there, nothing else.
    let expected: BTreeSet<String> = b.union(&c).cloned().collect();
    assert_eq!(data_file_ids(&w), expected);
    // The runs did overlap (three started together, each lasting about half a second): at least one
    // of them found the file in use and waited.
    assert!(waited >= 1, "no run waited: the runs did not overlap");
    // And the sandbox agrees with both states.
    for name in ["b", "c"] {
        let r = w.embedded(&["plan", name, "--detailed-exitcode"]);
        r.expect_code(0);
    }
}

#[test]
fn a_busy_embedded_sandbox_data_file_is_refused_naming_its_holder() {
    let w = Work::new();
    project(&w, "a", 1);
    let data = w.path().join("state").join("sandbox.json");
    std::fs::create_dir_all(data.parent().unwrap()).unwrap();
    // A sandbox server on the same data file (as if another run were in the middle of its work).
    let server = SandboxProc::start(50, &["--data", data.to_str().unwrap()]);

    let r = w.embedded(&["plan", "a"]);
    r.expect_code(1);
    for needle in [
        "state/sandbox.json is in use by pid",
        "(tunnelform sandbox)",
        "retry with --lock-timeout",
    ] {
        assert!(
            r.stderr.contains(needle),
            "{needle:?} not in:\n{}",
            r.stderr
        );
    }

    let started = Instant::now();
    let r = w.embedded(&["apply", "a", "--auto-approve", "--lock-timeout", "1s"]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("Waiting for the embedded sandbox's data file"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("timed out after 1.0s waiting for the embedded sandbox's data file"),
        "{}",
        r.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    // Nothing was created behind the server's back.
    assert!(server.cloud().all_ids("ap-guangzhou").is_empty());
    drop(server);
    // Once the server is gone the file is free.
    w.embedded(&["apply", "a", "--auto-approve"]).success();
    assert_eq!(data_file_ids(&w), state_ids(&w, "a"));
}

#[test]
fn the_default_credentials_are_refused_on_a_non_loopback_address() {
    let dir = tempfile::tempdir().unwrap();
    // Port 0 and a bind that must not happen: nothing is sent anywhere.
    let r = run_in(dir.path(), &["sandbox", "--listen", "0.0.0.0:0"], &[]);
    r.expect_code(1);
    for needle in [
        "refusing to listen on 0.0.0.0:0 with the well-known default credentials",
        "--secret-id ID --secret-key KEY",
        "loopback address such as 127.0.0.1:9000",
    ] {
        assert!(
            r.stderr.contains(needle),
            "{needle:?} not in:\n{}",
            r.stderr
        );
    }
    assert!(!r.stdout.contains("listening"), "{}", r.stdout);
    // Default credentials given explicitly are still the public ones.
    let r = run_in(
        dir.path(),
        &[
            "sandbox",
            "--listen",
            "[::]:0",
            "--secret-id",
            "AKIDsandbox",
            "--secret-key",
            "sandboxsecret",
        ],
        &[],
    );
    r.expect_code(1);
    assert!(
        r.stderr.contains("refusing to listen on [::]:0"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("sandboxsecret"), "{}", r.stderr);
}

/// A figure (in KiB) of `/proc/PID/status`, e.g. `VmHWM` (the peak resident memory).
fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

#[test]
#[cfg(target_os = "linux")]
fn request_bodies_cannot_take_the_sandbox_s_memory() {
    use std::io::Write;

    let sandbox = SandboxProc::start(50, &[]);
    let addr = sandbox.url.trim_start_matches("http://").to_string();
    // Let it settle (its first requests allocate), then take its peak so far as the baseline.
    sandbox.stats();
    let baseline = proc_status_kib(sandbox.pid(), "VmHWM");

    // 120 clients announce the largest body (1 MiB) and send all of it but the last byte, then hold
    // their connections: half without any signature, half with headers that pass every check made
    // before the body (the sandbox's public secret id, a fresh timestamp, a bogus signature).
    const BODY: usize = 1024 * 1024;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let authorization = tunnelform_tc3::authorization(
        "AKIDsandbox",
        now,
        "vpc",
        &["content-type", "host"],
        &"0".repeat(64),
    );
    let mut clients = Vec::new();
    for i in 0..120 {
        let auth = if i % 2 == 0 {
            String::new()
        } else {
            format!("Authorization: {authorization}\r\nX-TC-Timestamp: {now}\r\n")
        };
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}X-TC-Action: DescribeVpcs\r\nX-TC-Version: 2017-03-12\r\nX-TC-Region: ap-guangzhou\r\nContent-Length: {BODY}\r\n\r\n"
        );
        let addr = addr.clone();
        clients.push(std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(&addr).expect("connecting to the sandbox");
            s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
            // A server that does not read gets its connection closed or its buffers full: both fine.
            let _ = s
                .write_all(head.as_bytes())
                .and_then(|()| s.write_all(&vec![b' '; BODY - 1]));
            s
        }));
    }
    let held: Vec<_> = clients.into_iter().map(|t| t.join().unwrap()).collect();
    // Give the server time to read whatever it was going to read.
    std::thread::sleep(Duration::from_millis(500));
    let peak = proc_status_kib(sandbox.pid(), "VmHWM");
    drop(held);
    let grown_mib = peak.saturating_sub(baseline) / 1024;
    // 120 MiB were sent; the sandbox may hold its body budget (32 MiB) and buffers, not all of it.
    assert!(
        grown_mib < 64,
        "the sandbox grew by {grown_mib} MiB (peak {peak} KiB, baseline {baseline} KiB)"
    );
    // And it still serves.
    sandbox.cloud().all_ids("ap-guangzhou");
}
