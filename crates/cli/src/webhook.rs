//! `tunnelform watch --webhook URL`: every event is also POSTed to URL as JSON (the same object
//! as the event's line on stdout), one request per event, in order.
//!
//! The watch loop never waits for the receiver: events go into a bounded queue
//! (`--webhook-queue`; when it is full the oldest is dropped and counted) that one task drains,
//! retrying a failed delivery (no 2xx within `--webhook-timeout`) with exponential backoff and
//! jitter up to [`ATTEMPTS`] times. On stop, what is queued is delivered for at most
//! [`FLUSH_FOR`]; what is left then counts as dropped. The URL may carry a token: it is never
//! printed (messages name its scheme, host and port only).
//!
//! With a secret (`--webhook-secret-file`, or `TUNNELFORM_WEBHOOK_SECRET`), each try is signed:
//! `X-Tunnelform-Timestamp: <Unix seconds>` and
//! `X-Tunnelform-Signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>` ([`sign`]),
//! so a receiver can check the sender and refuse replays of old requests. The secret is never
//! printed, logged or shown by `Debug`.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

/// Events waiting for delivery at most, by default (`--webhook-queue`); the oldest goes first
/// when more arrive.
pub const QUEUE: usize = 1000;
/// Tries of one event (the first and the retries).
pub const ATTEMPTS: u32 = 5;
/// How long one try may take by default (`--webhook-timeout`: connecting, sending, the answer).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// The environment variable that may hold the signing secret (instead of a file).
pub const SECRET_ENV: &str = "TUNNELFORM_WEBHOOK_SECRET";
/// The headers of a signed delivery.
pub const TIMESTAMP_HEADER: &str = "X-Tunnelform-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Tunnelform-Signature";

/// The secret that signs deliveries: never shown.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<hidden>)")
    }
}

impl Secret {
    /// The secret from `file` when given, else from [`SECRET_ENV`] when set; trailing line ends
    /// and spaces are not part of it.
    pub fn load(file: Option<&Path>, env: Option<String>) -> Result<Option<Secret>> {
        let (text, from) = match (file, env) {
            (Some(path), _) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    anyhow::anyhow!(
                        "--webhook-secret-file {}: cannot read it ({e}); give a file holding the secret shared with the receiver",
                        path.display()
                    )
                })?;
                (bytes, format!("--webhook-secret-file {}", path.display()))
            }
            (None, Some(v)) => (v.into_bytes(), SECRET_ENV.to_string()),
            (None, None) => return Ok(None),
        };
        let end = text
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        if end == 0 {
            bail!("{from}: the webhook secret is empty; put the secret shared with the receiver there");
        }
        Ok(Some(Secret(text[..end].to_vec())))
    }
}

/// The signature of a delivery of `body` at `timestamp` (Unix seconds): `sha256=` and the hex of
/// HMAC-SHA256 over `<timestamp>.<body>` with the secret as key.
pub fn sign(secret: &Secret, timestamp: u64, body: &[u8]) -> String {
    use hmac::{Mac as _, SimpleHmac};
    // HMAC takes keys of any length.
    let mut mac = SimpleHmac::<sha2::Sha256>::new_from_slice(&secret.0)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// How `--webhook` delivers.
#[derive(Debug)]
pub struct Options {
    pub secret: Option<Secret>,
    /// Events waiting at most ([`QUEUE`] by default).
    pub queue: usize,
    /// How long one try may take ([`ATTEMPT_TIMEOUT`] by default).
    pub timeout: Duration,
}
/// The first retry's pause; doubled each retry up to [`MAX_BACKOFF`], with jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long a stopping watcher keeps delivering what is queued.
pub const FLUSH_FOR: Duration = Duration::from_secs(5);

/// Delivery counts, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub sent: u64,
    pub failed: u64,
    pub dropped: u64,
    pub retries: u64,
    pub queued: u64,
}

/// A bounded first-in first-out queue that drops its oldest item when full.
struct Queue<T> {
    items: VecDeque<T>,
    cap: usize,
}

impl<T> Queue<T> {
    fn new(cap: usize) -> Queue<T> {
        Queue {
            items: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Adds `item`; true when the oldest item was dropped to make room.
    fn push(&mut self, item: T) -> bool {
        let dropped = self.items.len() >= self.cap;
        if dropped {
            self.items.pop_front();
        }
        self.items.push_back(item);
        dropped
    }
}

struct Hook {
    queue: Mutex<Queue<serde_json::Value>>,
    wake: tokio::sync::Notify,
    /// Events queued or being delivered.
    pending: AtomicU64,
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    retries: AtomicU64,
}

static HOOK: OnceLock<Arc<Hook>> = OnceLock::new();

/// The URL as messages may show it: scheme, host and port (no user, password, path or query).
fn shown(url: &reqwest::Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    )
}

/// Checks `url` (http or https, with a host) and starts delivering events to it. Returns the URL
/// as it may be shown.
pub fn start(url: &str, options: Options) -> Result<String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        anyhow::anyhow!(
            "--webhook: not a URL ({e}); give an http:// or https:// URL, e.g. --webhook https://alerts.example.com/tunnelform"
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        bail!(
            "--webhook: only http:// and https:// URLs with a host are accepted (got a {}: URL); e.g. --webhook https://alerts.example.com/tunnelform",
            parsed.scheme()
        );
    }
    let client = reqwest::Client::builder()
        .timeout(options.timeout)
        .connect_timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("--webhook: setting up the HTTP client")?;
    let hook = Arc::new(Hook {
        queue: Mutex::new(Queue::new(options.queue)),
        wake: tokio::sync::Notify::new(),
        pending: AtomicU64::new(0),
        sent: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        retries: AtomicU64::new(0),
    });
    if HOOK.set(hook.clone()).is_err() {
        bail!("--webhook: given twice");
    }
    tokio::spawn(deliver(hook, client, parsed.clone(), options.secret));
    Ok(shown(&parsed))
}

/// Queues an event for delivery (never waits). Nothing happens without `--webhook`.
pub fn push(event: &serde_json::Value) {
    let Some(h) = HOOK.get() else { return };
    let dropped = h
        .queue
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(event.clone());
    if dropped {
        h.dropped.fetch_add(1, Ordering::Relaxed);
    } else {
        h.pending.fetch_add(1, Ordering::Relaxed);
    }
    h.wake.notify_one();
}

/// The delivery counts, when `--webhook` was given.
pub fn stats() -> Option<Stats> {
    let h = HOOK.get()?;
    Some(Stats {
        sent: h.sent.load(Ordering::Relaxed),
        failed: h.failed.load(Ordering::Relaxed),
        dropped: h.dropped.load(Ordering::Relaxed),
        retries: h.retries.load(Ordering::Relaxed),
        queued: h.pending.load(Ordering::Relaxed),
    })
}

/// Waits (at most [`FLUSH_FOR`]) for the queued events to be delivered or given up; what is left
/// counts as dropped.
pub async fn flush() {
    let Some(h) = HOOK.get() else { return };
    let deadline = Instant::now() + FLUSH_FOR;
    while h.pending.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let left = h.pending.swap(0, Ordering::Relaxed);
    h.dropped.fetch_add(left, Ordering::Relaxed);
}

/// The pause before retry `n` (1 for the first retry): exponential, capped, with jitter (half
/// fixed, half random) so that replicas do not retry in step.
fn backoff(n: u32, random: u64) -> Duration {
    let full = FIRST_BACKOFF
        .saturating_mul(1u32 << n.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let half = full / 2;
    let ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX).max(1);
    half + Duration::from_millis(random % ms)
}

/// A cheap random number for the jitter (xorshift seeded by the clock).
fn random() -> u64 {
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x9e37_79b9)
        ^ u64::from(std::process::id()).rotate_left(32);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

async fn deliver(h: Arc<Hook>, client: reqwest::Client, url: reqwest::Url, secret: Option<Secret>) {
    loop {
        let next = h
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .items
            .pop_front();
        let Some(event) = next else {
            h.wake.notified().await;
            continue;
        };
        // Serializing a JSON value cannot fail.
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let mut attempt = 1;
        let delivered = loop {
            let mut req = client
                .post(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json");
            if let Some(secret) = &secret {
                // Each try is signed when it is sent: a retry is not refused as a replay.
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                req = req
                    .header(TIMESTAMP_HEADER, now.to_string())
                    .header(SIGNATURE_HEADER, sign(secret, now, &body));
            }
            let r = req.body(body.clone()).send().await;
            match r {
                Ok(resp) if resp.status().is_success() => break true,
                Ok(resp) => {
                    tracing::debug!(status = %resp.status(), to = %shown(&url), "webhook: delivery refused")
                }
                Err(e) => {
                    tracing::debug!(error = %e.without_url(), to = %shown(&url), "webhook: delivery failed")
                }
            }
            if attempt >= ATTEMPTS {
                break false;
            }
            tokio::time::sleep(backoff(attempt, random())).await;
            attempt += 1;
            h.retries.fetch_add(1, Ordering::Relaxed);
        };
        if delivered {
            h.sent.fetch_add(1, Ordering::Relaxed);
        } else {
            h.failed.fetch_add(1, Ordering::Relaxed);
        }
        // Saturating: a flush that gave up may have zeroed it meanwhile.
        let _ = h
            .pending
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| p.checked_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Mac as _, SimpleHmac};

    #[test]
    fn a_full_queue_drops_its_oldest_event() {
        let mut q = Queue::new(3);
        assert!(!q.push(1));
        assert!(!q.push(2));
        assert!(!q.push(3));
        assert!(q.push(4));
        assert!(q.push(5));
        assert_eq!(q.items.iter().copied().collect::<Vec<_>>(), vec![3, 4, 5]);
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter_within_bounds() {
        for (n, full) in [(1, 200), (2, 400), (3, 800), (10, 10_000), (40, 10_000)] {
            let full = Duration::from_millis(full);
            for r in [0, 1, 12_345, u64::MAX] {
                let d = backoff(n, r);
                assert!(d >= full / 2 && d < full, "retry {n}: {d:?} for {full:?}");
            }
        }
        assert_ne!(backoff(3, 0), backoff(3, 301));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_timestamp_a_dot_and_the_body() {
        // The primitive against RFC 4231's test case 2 (key "Jefe").
        let secret = Secret(b"Jefe".to_vec());
        let mut mac = SimpleHmac::<sha2::Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // The signed text is "<timestamp>.<body>".
        let sig = sign(&secret, 1_700_000_000, b"{}");
        let mut mac = SimpleHmac::<sha2::Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"1700000000.{}");
        assert_eq!(
            sig,
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        );
        assert_ne!(sig, sign(&secret, 1_700_000_001, b"{}"));
        assert_ne!(sig, sign(&secret, 1_700_000_000, b"{ }"));
        assert_ne!(sig, sign(&Secret(b"Jeff".to_vec()), 1_700_000_000, b"{}"));
    }

    #[test]
    fn the_secret_is_read_trimmed_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("secret");
        std::fs::write(&f, "s3cret-VALUE\n").unwrap();
        let s = Secret::load(Some(&f), Some("from-env".into()))
            .unwrap()
            .unwrap();
        assert_eq!(s.0, b"s3cret-VALUE");
        assert!(!format!("{s:?}").contains("s3cret"));
        let o = Options {
            secret: Some(s),
            queue: 1,
            timeout: ATTEMPT_TIMEOUT,
        };
        assert!(!format!("{o:?}").contains("s3cret"));
        let s = Secret::load(None, Some("from-env".into()))
            .unwrap()
            .unwrap();
        assert_eq!(s.0, b"from-env");
        assert!(Secret::load(None, None).unwrap().is_none());
        std::fs::write(&f, " \n").unwrap();
        let e = Secret::load(Some(&f), None).unwrap_err().to_string();
        assert!(
            e.contains("empty") && e.contains("--webhook-secret-file"),
            "{e}"
        );
        let e = Secret::load(Some(&dir.path().join("none")), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read"), "{e}");
    }

    #[test]
    fn the_shown_url_has_no_credentials_path_or_query() {
        let u = reqwest::Url::parse("https://user:s3cret@hooks.example.com:8443/p/TOKEN?key=abc")
            .unwrap();
        assert_eq!(shown(&u), "https://hooks.example.com:8443");
    }
}
