//! Tells the tests whether PostgreSQL server binaries are here (`cfg(pg_binaries)`): without them
//! the tests that need a real server are reported as ignored, with the reason. With
//! `TUNNELFORM_REQUIRE_PG` set (CI), their absence is an error instead. `cfg(loopback_cut)`: the
//! network-cut test can run here (root, and network namespaces allowed); else it is ignored with
//! the reason.

use std::path::{Path, PathBuf};

fn bindir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("TUNNELFORM_PG_BINDIR") {
        let d = PathBuf::from(d);
        if d.join("initdb").is_file() {
            return Some(d);
        }
    }
    let versions = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten();
    for e in versions.flatten() {
        let bin = e.path().join("bin");
        if bin.join("initdb").is_file() {
            return Some(bin);
        }
    }
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p).find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
    })
}

/// Whether a test may cut the network under a lock holder: a network namespace of the test's own
/// (`unshare -n`, util-linux: tried, as a container without CAP_SYS_ADMIN refuses it even to root)
/// and `ip` (iproute2) to take its loopback interface down.
fn can_cut_loopback() -> bool {
    let ip = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join("ip").is_file());
    ip && std::process::Command::new("unshare")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pg_binaries)");
    println!("cargo::rustc-check-cfg=cfg(loopback_cut)");
    if can_cut_loopback() {
        println!("cargo::rustc-cfg=loopback_cut");
    }
    println!("cargo::rerun-if-env-changed=TUNNELFORM_PG_BINDIR");
    println!("cargo::rerun-if-env-changed=TUNNELFORM_REQUIRE_PG");
    println!("cargo::rerun-if-env-changed=PATH");
    if Path::new("/usr/lib/postgresql").exists() {
        println!("cargo::rerun-if-changed=/usr/lib/postgresql");
    }
    println!("cargo::rerun-if-changed=build.rs");
    match bindir() {
        Some(_) => println!("cargo::rustc-cfg=pg_binaries"),
        None if std::env::var_os("TUNNELFORM_REQUIRE_PG").is_some_and(|v| !v.is_empty()) => {
            panic!("TUNNELFORM_REQUIRE_PG is set but no PostgreSQL server binaries were found (initdb, pg_ctl in /usr/lib/postgresql/*/bin, TUNNELFORM_PG_BINDIR or PATH): install postgresql (apt-get install -y postgresql)")
        }
        None => {}
    }
}
