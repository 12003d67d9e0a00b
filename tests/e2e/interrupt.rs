//! Ctrl-C during apply: nothing new starts, the operations in flight finish, the state is written,
//! exit 130; a later apply completes the work. A second Ctrl-C stops at once.

use crate::common::{customer_gateway_block, gateway_block, Running, SandboxProc, Work};

fn config() -> String {
    let tunnel = |name: &str, cgw: &str, n: u8| {
        format!(
            r#"
resource "tencentcloud_vpn_connection" "{name}" {{
  name                = "{name}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.{cgw}.id
  pre_share_key       = "interrupt-key"
  security_group_policy {{
    local_cidr_block  = "10.0.{n}.0/24"
    remote_cidr_block = ["192.168.{n}.0/24"]
  }}
}}
"#
        )
    };
    format!(
        "{}{}{}{}{}",
        gateway_block("slow-gw"),
        customer_gateway_block("a", "203.0.113.1"),
        customer_gateway_block("b", "203.0.113.2"),
        tunnel("t1", "a", 1),
        tunnel("t2", "b", 2),
    )
}

#[test]
fn ctrl_c_finishes_in_flight_work_writes_state_and_exits_130() {
    let data = tempfile::tempdir().unwrap();
    let data_file = data.path().join("sandbox.json");
    let data_arg = data_file.to_str().unwrap();
    // Slow: a new VPN gateway stays PENDING for 3 s.
    let slow = SandboxProc::start(3000, &["--data", data_arg]);
    let mut w = Work::with_sandbox(&slow);
    w.config(&config());

    let mut run = Running::spawn(&w, &["apply", "cfg", "--auto-approve"], &[]);
    run.wait_for_line("tencentcloud_vpn_gateway.gw: Creating...");
    run.interrupt();
    let (status, out, err) = run.finish();
    assert_eq!(status.code(), Some(130), "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("Interrupt received"), "{err}");
    // The gateway in flight was awaited to the end; the tunnels that need it never started.
    assert!(
        out.contains("tencentcloud_vpn_gateway.gw: Creation complete after"),
        "{out}"
    );
    assert!(
        !out.contains("tencentcloud_vpn_connection.t1: Creating"),
        "{out}"
    );
    assert!(
        !out.contains("tencentcloud_vpn_connection.t2: Creating"),
        "{out}"
    );
    assert!(!out.contains("Apply complete!"), "{out}");

    // The state holds exactly what was created.
    let ids = w.state_ids();
    assert_eq!(
        ids.keys().map(String::as_str).collect::<Vec<_>>(),
        vec![
            "tencentcloud_vpn_customer_gateway.a",
            "tencentcloud_vpn_customer_gateway.b",
            "tencentcloud_vpn_gateway.gw",
        ]
    );
    let mut from_state: Vec<String> = ids.values().cloned().collect();
    from_state.sort();
    assert_eq!(slow.cloud().all_ids("ap-guangzhou"), from_state);

    // A later apply (same cloud, now fast) does the rest and only the rest.
    drop(slow);
    let fast = SandboxProc::start(50, &["--data", data_arg]);
    w.endpoint = Some(fast.url.clone());
    let again = w.apply(&[]);
    again.success();
    assert!(
        again
            .stdout
            .contains("Apply complete! Resources: 2 added, 0 changed, 0 destroyed."),
        "{}",
        again.stdout
    );
    assert_eq!(fast.cloud().gateways("ap-guangzhou").len(), 1);
    assert_eq!(fast.cloud().connection_ids("ap-guangzhou").len(), 2);
    w.assert_no_changes(&[]);
}

#[test]
fn a_second_ctrl_c_stops_at_once_and_the_next_apply_adopts_what_was_in_flight() {
    let data = tempfile::tempdir().unwrap();
    let data_file = data.path().join("sandbox.json");
    let data_arg = data_file.to_str().unwrap();
    // PENDING for 1.5 s: far longer than the two presses take.
    let slow = SandboxProc::start(1500, &["--data", data_arg]);
    let mut w = Work::with_sandbox(&slow);
    w.config(&config());

    let mut run = Running::spawn(&w, &["apply", "cfg", "--auto-approve"], &[]);
    run.wait_for_all(&[
        "tencentcloud_vpn_gateway.gw: Creating...",
        "tencentcloud_vpn_customer_gateway.a: Creation complete",
        "tencentcloud_vpn_customer_gateway.b: Creation complete",
    ]);
    run.interrupt();
    run.wait_for_line("Interrupt received");
    run.interrupt();
    let (status, out, err) = run.finish();
    assert_eq!(status.code(), Some(130), "stdout:\n{out}\nstderr:\n{err}");
    // It did not wait for the gateway.
    assert!(
        !out.contains("tencentcloud_vpn_gateway.gw: Creation complete"),
        "{out}"
    );
    let ids = w.state_ids();
    assert!(
        ids.contains_key("tencentcloud_vpn_customer_gateway.a"),
        "{ids:?}"
    );
    assert!(
        ids.contains_key("tencentcloud_vpn_customer_gateway.b"),
        "{ids:?}"
    );
    assert!(
        !ids.keys()
            .any(|a| a.starts_with("tencentcloud_vpn_connection")),
        "{ids:?}"
    );
    // The gateway's create was sent: it exists in the cloud.
    let gateways = slow.cloud().gateways("ap-guangzhou");
    assert_eq!(gateways.len(), 1);
    let in_flight = gateways[0].vpn_gateway_id.clone();

    // The next apply settles what was in flight (the journal): the gateway is adopted, not
    // created a second time.
    drop(slow);
    let fast = SandboxProc::start(50, &["--data", data_arg]);
    w.endpoint = Some(fast.url.clone());
    w.apply(&[]).success();
    let cloud = fast.cloud();
    assert_eq!(
        cloud
            .gateways("ap-guangzhou")
            .into_iter()
            .map(|g| g.vpn_gateway_id)
            .collect::<Vec<_>>(),
        vec![in_flight.clone()]
    );
    assert_eq!(w.state_id("tencentcloud_vpn_gateway.gw"), in_flight);
    assert_eq!(cloud.connection_ids("ap-guangzhou").len(), 2);
    assert_eq!(cloud.customer_gateways("ap-guangzhou").len(), 2);
    w.assert_no_changes(&[]);
}

#[test]
fn ctrl_c_while_steps_wait_for_a_free_slot_starts_none_of_them() {
    // Three independent gateways, one at a time (--parallelism 1), each PENDING for 1 s.
    let sb = SandboxProc::start(1000, &[]);
    let w = Work::with_sandbox(&sb);
    let gateway = |label: &str| {
        format!(
            "resource \"tencentcloud_vpn_gateway\" \"{label}\" {{\n  name   = \"{label}\"\n  vpc_id = \"vpc-sandbox1\"\n}}\n"
        )
    };
    w.config(&format!("{}{}{}", gateway("a"), gateway("b"), gateway("c")));

    let mut run = Running::spawn(
        &w,
        &["apply", "cfg", "--auto-approve", "--parallelism", "1"],
        &[],
    );
    run.wait_for_line(": Creating...");
    run.interrupt();
    let (status, out, err) = run.finish();
    assert_eq!(status.code(), Some(130), "stdout:\n{out}\nstderr:\n{err}");
    // Only the step in flight ran; the two waiting for a slot never started.
    assert_eq!(out.matches(": Creating...").count(), 1, "{out}");
    assert!(
        err.contains("2 operation(s) were not started"),
        "stdout:\n{out}\nstderr:\n{err}"
    );
    assert_eq!(sb.cloud().gateways("ap-guangzhou").len(), 1);
    assert_eq!(w.state_ids().len(), 1, "{:?}", w.state_ids());
}

/// `tunnelform destroy ... 2>&1 | tail`, and the reader goes away mid-destroy: Ctrl-C must still
/// stop it (a write to the closed pipe once panicked in the interrupt handler before it signalled
/// the stop, and the destroy deleted everything).
#[test]
fn ctrl_c_stops_a_destroy_whose_output_reader_is_gone() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    // Each tunnel delete is a task of 800 ms; one at a time (--parallelism 1).
    let sb = SandboxProc::start(800, &[]);
    let w = Work::with_sandbox(&sb);
    let tunnel = |n: u8| {
        format!(
            r#"
resource "tencentcloud_vpn_connection" "t{n}" {{
  name                = "t{n}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.c{n}.id
  pre_share_key       = "pipe-key"
  security_group_policy {{
    local_cidr_block  = "10.0.{n}.0/24"
    remote_cidr_block = ["192.168.{n}.0/24"]
  }}
}}
"#
        )
    };
    let mut text = gateway_block("pipe-gw");
    for n in 1..=4u8 {
        text.push_str(&customer_gateway_block(
            &format!("c{n}"),
            &format!("203.0.113.{n}"),
        ));
        text.push_str(&tunnel(n));
    }
    w.config(&text);
    w.apply(&[]).success();
    assert_eq!(sb.cloud().all_ids("ap-guangzhou").len(), 9);

    // stdout and stderr into one pipe, as with `2>&1 | tail`.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    let mut child = crate::common::command(w.path())
        .args([
            "destroy",
            "cfg",
            "--auto-approve",
            "--parallelism",
            "1",
            "--endpoint",
            &sb.url,
        ])
        .stdin(Stdio::null())
        .stdout(writer.try_clone().expect("pipe"))
        .stderr(writer)
        .spawn()
        .expect("spawning tunnelform");
    let mut lines = BufReader::new(reader).lines();
    loop {
        let line = lines
            .next()
            .expect("the destroy ended before deleting anything")
            .expect("reading");
        if line.contains("tencentcloud_vpn_connection.") && line.contains("Destroying...") {
            break;
        }
    }
    // The reader goes away; then Ctrl-C, twice.
    drop(lines);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let kill = |pid: u32| {
        assert!(std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .expect("kill")
            .success());
    };
    kill(child.id());
    std::thread::sleep(std::time::Duration::from_millis(200));
    kill(child.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("waiting") {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "tunnelform did not exit"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // Stopped by the interrupt (130), not a panic (101), not a completed destroy (0).
    assert_eq!(status.code(), Some(130), "{status:?}");
    let cloud = sb.cloud();
    assert_eq!(cloud.gateways("ap-guangzhou").len(), 1);
    assert_eq!(cloud.customer_gateways("ap-guangzhou").len(), 4);
    assert!(
        cloud.connection_ids("ap-guangzhou").len() >= 2,
        "{:?}",
        cloud.connection_ids("ap-guangzhou")
    );
    // The state still tracks what remains.
    assert_eq!(
        w.state_ids().len(),
        cloud.all_ids("ap-guangzhou").len(),
        "{:?}",
        w.state_ids()
    );
}

/// A terminal in tmux: what a person sees (the rendered screen, not the raw stream).
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(cwd: &std::path::Path, command: &str) -> Tmux {
        let socket = format!(
            "tunnelform-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let t = Tmux { socket };
        let status = t
            .cmd()
            .current_dir(cwd)
            .args([
                "new-session",
                "-d",
                "-x",
                "160",
                "-y",
                "40",
                "-s",
                "t",
                command,
            ])
            .status()
            .expect("running tmux");
        assert!(status.success(), "tmux new-session failed");
        t
    }

    fn cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &str) {
        self.cmd()
            .args(["send-keys", "-t", "t", keys])
            .status()
            .expect("tmux send-keys");
    }

    /// Waits (at most 30 s) until the screen shows `needle`; returns the screen.
    #[track_caller]
    fn wait_for(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let s = self.screen();
            if s.contains(needle) {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{needle:?} never appeared on the screen:\n{s}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

/// Ctrl-C twice on a terminal during an apply: the process stops at once (exit 130) and the screen
/// keeps no spinner and no progress line, only the lines of what completed and what it said.
#[test]
fn ctrl_c_on_a_terminal_leaves_no_spinner_lines_behind() {
    let w = Work::new();
    w.config(&config());
    let command = format!(
        "env TUNNELFORM_SANDBOX_TASK_LATENCY_MS=20000 {} apply cfg --sandbox --auto-approve; echo EXIT=$?; sleep 60",
        crate::common::BIN
    );
    let tmux = Tmux::start(w.path(), &command);
    // The gateway stays PENDING: its spinner and the overall line are on the screen.
    let during = tmux.wait_for("tencentcloud_vpn_gateway.gw: Creating...");
    assert!(during.contains("] done, "), "{during}");
    tmux.keys("C-c");
    tmux.wait_for("Interrupt received");
    tmux.keys("C-c");
    let after = tmux.wait_for("EXIT=");
    assert!(after.contains("EXIT=130"), "{after}");
    for line in after.lines() {
        assert!(
            !line.contains("Creating...") && !line.contains("] done, "),
            "a spinner or progress line was left behind: {line:?}\n{after}"
        );
    }
}
