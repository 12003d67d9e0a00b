//! The backend's settings: `backend "pg" { conn_str, schema_name }`, `--backend-config KEY=VALUE`,
//! `PG_CONN_STR` / `PG_SCHEMA_NAME` and the libpq variables (`PGHOST`, `PGPORT`, `PGUSER`,
//! `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT`, `PGCONNECT_TIMEOUT`, `PGAPPNAME`).
//!
//! Precedence, highest first: `--backend-config`, the backend block, `PG_CONN_STR` /
//! `PG_SCHEMA_NAME`; within the connection string, what it says wins over the libpq variables,
//! which fill in what it leaves out (as libpq does).
//!
//! The password never leaves this module in text: [`PgSettings`]'s `Debug` shows none, and errors
//! name the setting at fault, never the connection string.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use tokio_postgres::config::Host;

/// Terraform's `pg` backend uses `terraform_remote_state`; tunnelform's tables are its own, so its
/// default schema is its own too (the two never share tables).
pub const DEFAULT_SCHEMA: &str = "tunnelform_remote_state";

/// The workspace when none is selected (`TF_WORKSPACE`).
pub const DEFAULT_WORKSPACE: &str = "default";

/// The keys `--backend-config` (and the backend block) accept.
pub const KEYS: [&str; 2] = ["conn_str", "schema_name"];

/// How the connection is protected (libpq's `sslmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, without checking its certificate (libpq's default).
    Prefer,
    /// TLS or nothing, without checking the certificate.
    Require,
    /// TLS, with the certificate checked against the root certificates and the host name.
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str, from: &str) -> Result<SslMode, SettingsError> {
        match s {
            "disable" => Ok(SslMode::Disable),
            "prefer" | "allow" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-full" => Ok(SslMode::VerifyFull),
            "verify-ca" => Err(SettingsError::Invalid {
                what: format!("sslmode=verify-ca ({from})"),
                help: "tunnelform checks the host name as well: use sslmode=verify-full (with sslrootcert naming the CA)".into(),
            }),
            other => Err(SettingsError::Invalid {
                what: format!("sslmode={other:?} ({from})"),
                help: "use disable, prefer, require or verify-full".into(),
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the pg backend setting {what} is invalid: {help}")]
    Invalid { what: String, help: String },
    #[error("--backend-config {given:?} must be KEY=VALUE with KEY one of conn_str, schema_name")]
    BadPair { given: String },
    #[error("the pg backend's connection string is not valid ({reason}); check conn_str (or PG_CONN_STR): `postgres://USER@HOST:PORT/DB?sslmode=verify-full` or `host=HOST port=PORT user=USER dbname=DB`, with the password in PGPASSWORD")]
    ConnStr { reason: String },
}

/// Everything needed to reach the state: where, as whom, how protected, which schema and workspace.
/// Equal settings reach the same state the same way (a watch keeps its connection while they stay
/// equal).
#[derive(Clone, PartialEq)]
pub struct PgSettings {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) ssl_mode: SslMode,
    pub(crate) root_cert: Option<PathBuf>,
    pub schema: String,
    pub workspace: String,
}

impl fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgSettings")
            .field("server", &self.server())
            .field("user", &self.config.get_user())
            .field("password", &self.config.get_password().map(|_| "(hidden)"))
            .field("ssl_mode", &self.ssl_mode)
            .field("schema", &self.schema)
            .field("workspace", &self.workspace)
            .finish()
    }
}

/// Where the settings come from: the backend block's and `--backend-config`'s pairs, and the
/// environment (a function, so tests can give their own).
pub struct Sources<'a> {
    pub block: &'a BTreeMap<String, String>,
    pub cli: &'a [String],
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl PgSettings {
    /// Resolves the settings (see the module's precedence). Reads no file and opens no connection.
    pub fn resolve(src: &Sources<'_>) -> Result<PgSettings, SettingsError> {
        let mut cli = BTreeMap::new();
        for pair in src.cli {
            let (k, v) = pair
                .split_once('=')
                .filter(|(k, _)| KEYS.contains(&k.trim()))
                .ok_or_else(|| SettingsError::BadPair {
                    // A pair with a password in it is not repeated.
                    given: pair.split('=').next().unwrap_or_default().to_string(),
                })?;
            cli.insert(k.trim().to_string(), v.to_string());
        }
        let env = |k: &str| (src.env)(k).filter(|v| !v.is_empty());
        let pick = |key: &str, var: &str| {
            cli.get(key)
                .cloned()
                .or_else(|| src.block.get(key).cloned())
                .or_else(|| env(var))
        };
        let conn_str = pick("conn_str", "PG_CONN_STR").unwrap_or_default();
        let schema = pick("schema_name", "PG_SCHEMA_NAME").unwrap_or_else(|| DEFAULT_SCHEMA.into());
        check_identifier(&schema)?;
        let workspace = env("TF_WORKSPACE").unwrap_or_else(|| DEFAULT_WORKSPACE.into());
        check_workspace(&workspace)?;

        let (rest, extracted) = extract_ssl_params(&conn_str)?;
        let mut config: tokio_postgres::Config = if rest.trim().is_empty() {
            tokio_postgres::Config::new()
        } else {
            rest.parse()
                .map_err(|e: tokio_postgres::Error| SettingsError::ConnStr {
                    reason: e.to_string(),
                })?
        };
        // libpq's variables fill in what the string leaves out.
        if config.get_hosts().is_empty() {
            let hosts = env("PGHOST").unwrap_or_else(|| "localhost".into());
            for h in hosts.split(',') {
                config.host(h.trim());
            }
        }
        if config.get_ports().is_empty() {
            if let Some(p) = env("PGPORT") {
                let port: u16 = p.trim().parse().map_err(|_| SettingsError::Invalid {
                    what: "PGPORT".into(),
                    help: "a port number".into(),
                })?;
                config.port(port);
            }
        }
        if config.get_user().is_none() {
            let user = env("PGUSER")
                .or_else(|| env("USER"))
                .unwrap_or_else(|| "postgres".into());
            config.user(&user);
        }
        if config.get_password().is_none() {
            if let Some(p) = env("PGPASSWORD") {
                config.password(p);
            }
        }
        if config.get_dbname().is_none() {
            if let Some(d) = env("PGDATABASE") {
                config.dbname(&d);
            }
        }
        if config.get_application_name().is_none() {
            config.application_name(env("PGAPPNAME").unwrap_or_else(|| "tunnelform".into()));
        }
        if config.get_connect_timeout().is_none() {
            let secs = match env("PGCONNECT_TIMEOUT") {
                Some(s) => s
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| SettingsError::Invalid {
                        what: "PGCONNECT_TIMEOUT".into(),
                        help: "a number of seconds".into(),
                    })?,
                None => 10,
            };
            config.connect_timeout(Duration::from_secs(secs.max(1)));
        }
        // A runner cut off from the network is noticed by both ends (see the session settings too).
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(10));
        config.keepalives_interval(Duration::from_secs(5));
        config.keepalives_retries(3);
        config.tcp_user_timeout(Duration::from_secs(30));

        let ssl_mode = match (&extracted.sslmode, env("PGSSLMODE")) {
            (Some(m), _) => SslMode::parse(m, "in conn_str")?,
            (None, Some(m)) => SslMode::parse(&m, "PGSSLMODE")?,
            (None, None) => SslMode::Prefer,
        };
        let root_cert = extracted
            .sslrootcert
            .or_else(|| env("PGSSLROOTCERT"))
            .map(PathBuf::from);
        config.ssl_mode(match ssl_mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyFull => tokio_postgres::config::SslMode::Require,
        });
        Ok(PgSettings {
            config,
            ssl_mode,
            root_cert,
            schema,
            workspace,
        })
    }

    /// `host:port/db`, for messages (no user, no password).
    pub fn server(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let db = self
            .config
            .get_dbname()
            .or(self.config.get_user())
            .unwrap_or("postgres");
        format!("{host}:{port}/{db}")
    }

    /// How messages name the state: `pg:SCHEMA/WORKSPACE`.
    pub fn name(&self) -> String {
        format!("pg:{}/{}", self.schema, self.workspace)
    }

    /// An identity of this state that does not depend on who connects:
    /// `pg://HOST:PORT/DB/SCHEMA/WORKSPACE` (the project id of the objects it manages).
    pub fn identity(&self) -> String {
        format!("pg://{}/{}/{}", self.server(), self.schema, self.workspace)
    }

    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// This state in another workspace of the same schema.
    pub fn with_workspace(&self, workspace: &str) -> Result<PgSettings, SettingsError> {
        check_workspace(workspace)?;
        let mut s = self.clone();
        s.workspace = workspace.to_string();
        Ok(s)
    }
}

fn check_identifier(schema: &str) -> Result<(), SettingsError> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(SettingsError::Invalid {
            what: format!("schema_name = {schema:?}"),
            help: "use 1 to 63 lower-case letters, digits and underscores, starting with a letter or underscore".into(),
        })
    }
}

fn check_workspace(w: &str) -> Result<(), SettingsError> {
    let ok = !w.is_empty()
        && w.len() <= 90
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(SettingsError::Invalid {
            what: format!("workspace {w:?} (TF_WORKSPACE)"),
            help: "use 1 to 90 letters, digits, '-', '_' and '.'".into(),
        })
    }
}

#[derive(Default)]
struct Extracted {
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of a connection string (URL or `key=value` form): the
/// driver knows neither `verify-full` nor root certificates, which the TLS connector handles.
fn extract_ssl_params(s: &str) -> Result<(String, Extracted), SettingsError> {
    let mut out = Extracted::default();
    let t = s.trim();
    if t.starts_with("postgres://") || t.starts_with("postgresql://") {
        let Some((base, query)) = t.split_once('?') else {
            return Ok((t.to_string(), out));
        };
        let mut kept = Vec::new();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            match k {
                "sslmode" => out.sslmode = Some(percent_decode(v)?),
                "sslrootcert" => out.sslrootcert = Some(percent_decode(v)?),
                _ => kept.push(part),
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return Ok((rest, out));
    }
    // key=value pairs, values possibly single-quoted with backslash escapes.
    let mut rest = String::new();
    let mut chars = t.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(SettingsError::ConnStr {
                reason: format!("`{key}` has no `=` after it"),
            });
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut raw = String::new();
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            raw.push(chars.next().unwrap_or('\''));
            let mut closed = false;
            while let Some(c) = chars.next() {
                raw.push(c);
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            raw.push(n);
                            value.push(n);
                        }
                    }
                    '\'' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                return Err(SettingsError::ConnStr {
                    reason: format!("the quoted value of `{key}` is not closed"),
                });
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                raw.push(c);
                value.push(c);
                chars.next();
            }
        }
        match key.as_str() {
            "sslmode" => out.sslmode = Some(value),
            "sslrootcert" => out.sslrootcert = Some(value),
            _ => {
                if !rest.is_empty() {
                    rest.push(' ');
                }
                rest.push_str(&key);
                rest.push('=');
                rest.push_str(&raw);
            }
        }
    }
    Ok((rest, out))
}

fn percent_decode(s: &str) -> Result<String, SettingsError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| SettingsError::ConnStr {
                    reason: "a %-escape in the query is not two hex digits".into(),
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| SettingsError::ConnStr {
        reason: "a query value is not UTF-8".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(
        block: &[(&str, &str)],
        cli: &[&str],
        env: &[(&str, &str)],
    ) -> Result<PgSettings, SettingsError> {
        let block: BTreeMap<String, String> = block
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let cli: Vec<String> = cli.iter().map(|s| s.to_string()).collect();
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let get = move |k: &str| env.get(k).cloned();
        PgSettings::resolve(&Sources {
            block: &block,
            cli: &cli,
            env: &get,
        })
    }

    #[test]
    fn precedence_is_backend_config_then_block_then_environment() {
        let s = resolve(
            &[("conn_str", "host=10.9.9.9 port=1"), ("schema_name", "blk")],
            &["schema_name=cli"],
            &[
                ("PG_CONN_STR", "host=127.0.0.2"),
                ("PG_SCHEMA_NAME", "envs"),
            ],
        )
        .unwrap();
        assert_eq!(s.schema, "cli");
        assert_eq!(s.server(), "10.9.9.9:1/postgres");
        let s = resolve(
            &[],
            &[],
            &[
                ("PG_CONN_STR", "host=127.0.0.2 dbname=x user=u"),
                ("PG_SCHEMA_NAME", "envs"),
            ],
        )
        .unwrap();
        assert_eq!(
            (s.schema.as_str(), s.server()),
            ("envs", "127.0.0.2:5432/x".to_string())
        );
        let s = resolve(&[], &[], &[]).unwrap();
        assert_eq!(s.schema, DEFAULT_SCHEMA);
        assert_eq!(s.workspace, "default");
        assert_eq!(s.ssl_mode, SslMode::Prefer);
    }

    #[test]
    fn libpq_variables_fill_in_and_the_password_is_never_shown() {
        let s = resolve(
            &[("conn_str", "postgres://alice@127.0.0.1:6543/tf?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&connect_timeout=3")],
            &[],
            &[("PGPASSWORD", "hunter2-secret"), ("PGHOST", "elsewhere"), ("TF_WORKSPACE", "prod")],
        )
        .unwrap();
        assert_eq!(s.ssl_mode, SslMode::VerifyFull);
        assert_eq!(
            s.root_cert.as_deref(),
            Some(std::path::Path::new("/tmp/ca.pem"))
        );
        assert_eq!(s.server(), "127.0.0.1:6543/tf");
        assert_eq!(s.config.get_password(), Some(&b"hunter2-secret"[..]));
        assert_eq!(s.name(), "pg:tunnelform_remote_state/prod");
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        // key=value form, quoted values, a password in the string itself.
        let s = resolve(
            &[(
                "conn_str",
                "host=127.0.0.1 port=7 user=bob password='p w\\'d-secret' sslmode=require",
            )],
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(s.ssl_mode, SslMode::Require);
        assert_eq!(s.config.get_password(), Some(&b"p w'd-secret"[..]));
        assert!(!format!("{s:?}").contains("secret"));
    }

    #[test]
    fn bad_settings_say_what_is_wrong_without_repeating_secrets() {
        let e = resolve(&[("conn_str", "host=x sslmode=verify-ca")], &[], &[]).unwrap_err();
        assert!(e.to_string().contains("verify-full"), "{e}");
        let e = resolve(&[], &["password=hunter2"], &[]).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(e.to_string().contains("conn_str, schema_name"), "{e}");
        let e = resolve(&[("conn_str", "host=x password=hunter2 bogus=1")], &[], &[]).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = resolve(&[("schema_name", "Bad-Name")], &[], &[]).unwrap_err();
        assert!(e.to_string().contains("schema_name"), "{e}");
        let e = resolve(&[], &[], &[("TF_WORKSPACE", "a b")]).unwrap_err();
        assert!(e.to_string().contains("TF_WORKSPACE"), "{e}");
    }
}
