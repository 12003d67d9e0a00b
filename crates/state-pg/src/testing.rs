//! A throwaway PostgreSQL cluster for tests: `initdb` in a temporary directory, a server on a free
//! 127.0.0.1 port with password (SCRAM) authentication and TLS (a self-signed certificate made
//! with rcgen for `localhost` and 127.0.0.1), stopped and deleted when dropped, or by a watchdog
//! when the test process dies first.
//!
//! The binaries are looked up in `TUNNELFORM_PG_BINDIR`, then `/usr/lib/postgresql/*/bin`
//! (newest first), then `PATH`. Run as root, the server runs as the `postgres` user (initdb
//! refuses root).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The password of the cluster's superuser `tunnelform` (tests check it never shows).
pub const PASSWORD: &str = "pg-Secret-7f3a9c-never-shown";
pub const USER: &str = "tunnelform";

/// Where the PostgreSQL server binaries are, if anywhere.
pub fn bindir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("TUNNELFORM_PG_BINDIR") {
        let d = PathBuf::from(d);
        if d.join("initdb").is_file() {
            return Some(d);
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    found.sort();
    if let Some((_, d)) = found.pop() {
        return Some(d);
    }
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p).find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
    })
}

/// A running cluster.
pub struct Cluster {
    pub port: u16,
    dir: PathBuf,
    data: PathBuf,
    bindir: PathBuf,
    as_postgres: bool,
    /// The CA certificate (PEM) the server's certificate is signed with.
    pub ca_pem: PathBuf,
    watchdog: Option<std::process::Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

impl Cluster {
    /// Starts a cluster, or panics saying why.
    pub fn start() -> Cluster {
        let bindir = bindir().expect("PostgreSQL server binaries (initdb, pg_ctl): install postgresql, or set TUNNELFORM_PG_BINDIR");
        let as_postgres = is_root();
        let base = std::env::temp_dir().join(format!(
            "tunnelform-pg-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&base).expect("creating the cluster directory");
        let data = base.join("data");
        let certs = base.join("certs");
        std::fs::create_dir_all(&certs).unwrap();
        // The CA and the server's certificate.
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "tunnelform test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        let ca_pem = certs.join("ca.pem");
        std::fs::write(&ca_pem, ca.pem()).unwrap();
        std::fs::write(certs.join("server.crt"), cert.pem()).unwrap();
        std::fs::write(certs.join("server.key"), key.serialize_pem()).unwrap();
        let pwfile = base.join("pw");
        std::fs::write(&pwfile, PASSWORD).unwrap();
        set_mode(&base, 0o755);
        set_mode(&certs, 0o755);
        set_mode(&ca_pem, 0o644);
        set_mode(&certs.join("server.crt"), 0o644);
        set_mode(&certs.join("server.key"), 0o600);
        set_mode(&pwfile, 0o644);
        if as_postgres {
            for p in [
                &base,
                &certs,
                &certs.join("server.key"),
                &certs.join("server.crt"),
                &pwfile,
            ] {
                chown_postgres(p);
            }
        }
        let mut c = Cluster {
            port: free_port(),
            dir: base.clone(),
            data: data.clone(),
            bindir,
            as_postgres,
            ca_pem,
            watchdog: None,
        };
        let out = c
            .command("initdb")
            .args(["-D"])
            .arg(&data)
            .args(["-U", USER, "--pwfile"])
            .arg(&pwfile)
            .args([
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ])
            .output()
            .expect("running initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\nssl = on\n\
             ssl_cert_file = '{}'\nssl_key_file = '{}'\nfsync = off\nsynchronous_commit = off\n\
             full_page_writes = off\nmax_connections = 60\nshared_buffers = 16MB\nlog_min_messages = warning\n",
            c.port,
            base.display(),
            certs.join("server.crt").display(),
            certs.join("server.key").display(),
        );
        let mut text = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        text.push_str(&conf);
        std::fs::write(data.join("postgresql.conf"), text).unwrap();
        // The watchdog stops the server and deletes the directory if this process dies first.
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop}; rm -rf '{dir}'",
            pid = std::process::id(),
            stop = c.shell_stop(),
            dir = base.display()
        );
        c.watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        c.pg_ctl_start();
        c
    }

    fn shell_stop(&self) -> String {
        let pg_ctl = self.bindir.join("pg_ctl");
        let cmd = format!(
            "{} -D '{}' -m immediate -w stop >/dev/null 2>&1",
            pg_ctl.display(),
            self.data.display()
        );
        if self.as_postgres {
            format!("runuser -u postgres -- {cmd}")
        } else {
            cmd
        }
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bindir.join(program);
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        c.stdin(Stdio::null());
        c.current_dir(&self.dir);
        c
    }

    fn pg_ctl_start(&self) {
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "start"])
            .output()
            .expect("running pg_ctl start");
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
        );
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "the test cluster did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (`fast`: active sessions are ended) and starts it again on the same port.
    pub fn restart(&self) {
        self.stop("fast");
        self.pg_ctl_start();
    }

    /// Stops the server.
    pub fn stop(&self, mode: &str) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", mode, "-w", "stop"])
            .output();
    }

    /// Starts a stopped server again.
    pub fn start_again(&self) {
        self.pg_ctl_start();
    }

    /// A connection string for the superuser, without the password (give it as PGPASSWORD).
    pub fn conn_str(&self, sslmode: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={USER} dbname=postgres sslmode={sslmode}",
            self.port
        )
    }

    /// The same through the server's Unix socket (no TCP: what a test that cuts the loopback
    /// network still reaches the server with).
    pub fn conn_str_unix(&self) -> String {
        format!(
            "host={} port={} user={USER} dbname=postgres sslmode=disable",
            self.dir.display(),
            self.port
        )
    }

    /// The same as a URL with `sslrootcert`, for `verify-full` (the host name is `localhost`).
    pub fn url_verify_full(&self) -> String {
        format!(
            "postgres://{USER}@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
            self.port,
            self.ca_pem.display()
        )
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// Runs SQL as the superuser through psql (when present) and returns its output.
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new(self.bindir.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                USER,
                "-d",
                "postgres",
                "-At",
                "-c",
                sql,
            ])
            .env("PGPASSWORD", PASSWORD)
            .env("PGSSLMODE", "disable")
            .output()
            .expect("running psql");
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop("immediate");
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
}

fn chown_postgres(p: &Path) {
    let out = Command::new("chown")
        .args(["postgres:postgres"])
        .arg(p)
        .output()
        .expect("running chown");
    assert!(
        out.status.success(),
        "chown postgres {}: {}",
        p.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}
