//! TC3-HMAC-SHA256 signing and verification for Tencent Cloud API 3.0.
//!
//! Everything here is a pure function: request parts, credentials and the time go in, strings come out.
//! There is no clock and no I/O. Each stage of the algorithm is exposed on its own so that it can be
//! printed and tested against the stored vectors (`tests/data/tc3-vectors.json`):
//!
//! ```text
//! CanonicalRequest = METHOD \n URI \n QUERY \n CanonicalHeaders \n SignedHeaders \n hex(sha256(payload))
//! CanonicalHeaders = "name:value\n" for each signed header (name lower-cased)
//! StringToSign     = "TC3-HMAC-SHA256\n" timestamp "\n" date/service/tc3_request "\n" hex(sha256(CanonicalRequest))
//! key              = HMAC(HMAC(HMAC("TC3" + SecretKey, date), service), "tc3_request")
//! Signature        = hex(HMAC(key, StringToSign))
//! ```
//!
//! Header values in the canonical headers follow Tencent's documentation: trimmed and lower-cased (the
//! documentation's worked example signs `x-tc-action:describeinstances`). The official Python SDK does not
//! lower-case (it signs `content-type` and `host` exactly as sent); the two forms only differ when a signed
//! value contains upper-case letters, and [`verify`] accepts either.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;

/// The algorithm name that starts the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// Maximum allowed distance between the request's `X-TC-Timestamp` and the verifier's clock, in seconds.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;
/// The headers the official SDKs sign.
pub const DEFAULT_SIGNED_HEADERS: &[&str] = &["content-type", "host"];

type HmacSha256 = Hmac<Sha256>;

/// API credentials. `Debug` prints the secret id and `** redacted **` for the key and the token.
#[derive(Clone)]
pub struct Credentials {
    pub secret_id: String,
    secret_key: String,
    token: Option<String>,
}

impl Credentials {
    pub fn new(
        secret_id: impl Into<String>,
        secret_key: impl Into<String>,
        token: Option<String>,
    ) -> Self {
        Self {
            secret_id: secret_id.into(),
            secret_key: secret_key.into(),
            token,
        }
    }

    /// The secret key. Only signing code should call this.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The temporary-credentials token (sent as `X-TC-Token`), if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &Redacted)
            .field("token", &self.token.as_ref().map(|_| Redacted))
            .finish()
    }
}

struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

/// The parts of an HTTP request that are signed, borrowed, exactly as sent / received.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// `"POST"`.
    pub method: &'a str,
    /// Canonical URI, `"/"`.
    pub path: &'a str,
    /// Query string exactly as sent, `""` for POST.
    pub query: &'a str,
    /// (name, value) as sent; names are compared case-insensitively.
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
}

impl<'a> RequestParts<'a> {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Every stage of a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub canonical_request: String,
    pub string_to_sign: String,
    /// Lower-case hex.
    pub signature: String,
    /// The value of the `Authorization` header.
    pub authorization: String,
}

/// Errors from signing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// A header listed in the signed headers is not present in the request.
    #[error("signed header `{0}` is not present in the request")]
    MissingSignedHeader(String),
    /// The signed headers list is empty.
    #[error("no headers to sign")]
    NoSignedHeaders,
    /// A signed header name is not a valid token (empty or contains `;`, `:`, whitespace).
    #[error("invalid signed header name `{0}`")]
    InvalidHeaderName(String),
}

/// How header values are written into the canonical headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueCase {
    /// Trimmed and lower-cased, as Tencent's documentation specifies (the default).
    Lower,
    /// Trimmed, case preserved, as the official Python SDK computes it.
    Verbatim,
}

/// Builds the canonical request. `signed_headers` are used in the given order (lower-cased); [`sign`] sorts
/// them before calling this, [`verify`] passes the list the client sent.
pub fn canonical_request(
    parts: &RequestParts,
    signed_headers: &[&str],
) -> Result<String, SignError> {
    canonical_request_with(parts, signed_headers, ValueCase::Lower)
}

/// [`canonical_request`] with an explicit treatment of header values.
pub fn canonical_request_with(
    parts: &RequestParts,
    signed_headers: &[&str],
    case: ValueCase,
) -> Result<String, SignError> {
    if signed_headers.is_empty() {
        return Err(SignError::NoSignedHeaders);
    }
    let mut canonical_headers = String::with_capacity(128);
    let mut names = String::with_capacity(32);
    for (i, name) in signed_headers.iter().enumerate() {
        if name.is_empty()
            || name.bytes().any(|b| {
                b == b';'
                    || b == b':'
                    || b == b','
                    || b.is_ascii_whitespace()
                    || b.is_ascii_control()
            })
        {
            return Err(SignError::InvalidHeaderName((*name).to_string()));
        }
        let value = parts
            .header(name)
            .ok_or_else(|| SignError::MissingSignedHeader(name.to_ascii_lowercase()))?;
        let lname = name.to_ascii_lowercase();
        canonical_headers.push_str(&lname);
        canonical_headers.push(':');
        match case {
            ValueCase::Lower => canonical_headers.push_str(&value.trim().to_lowercase()),
            ValueCase::Verbatim => canonical_headers.push_str(value.trim()),
        }
        canonical_headers.push('\n');
        if i > 0 {
            names.push(';');
        }
        names.push_str(&lname);
    }
    let payload_hash = hex::encode(Sha256::digest(parts.payload));
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        parts.method, parts.path, parts.query, canonical_headers, names, payload_hash
    ))
}

/// The UTC date (`YYYY-MM-DD`) of a unix timestamp.
pub fn utc_date(timestamp: i64) -> String {
    // Days since 1970-01-01 to a civil date (proleptic Gregorian), valid for the whole i64 range / 86400.
    let days = timestamp.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `date/service/tc3_request`.
pub fn credential_scope(timestamp: i64, service: &str) -> String {
    format!("{}/{}/tc3_request", utc_date(timestamp), service)
}

/// Builds the string to sign; the date is the UTC date of `timestamp`.
pub fn string_to_sign(canonical_request: &str, timestamp: i64, service: &str) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{}\n{}",
        credential_scope(timestamp, service),
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for Hmac<Sha256>.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The derived signing key for a date and service.
fn signing_key(secret_key: &str, date: &str, service: &str) -> [u8; 32] {
    let mut k = Vec::with_capacity(3 + secret_key.len());
    k.extend_from_slice(b"TC3");
    k.extend_from_slice(secret_key.as_bytes());
    let k_date = hmac(&k, date.as_bytes());
    let k_service = hmac(&k_date, service.as_bytes());
    hmac(&k_service, b"tc3_request")
}

/// The signature (lower-case hex) of a string to sign.
pub fn signature(secret_key: &str, string_to_sign: &str, timestamp: i64, service: &str) -> String {
    let key = signing_key(secret_key, &utc_date(timestamp), service);
    hex::encode(hmac(&key, string_to_sign.as_bytes()))
}

/// The `Authorization` header value.
pub fn authorization(
    secret_id: &str,
    timestamp: i64,
    service: &str,
    signed_headers: &[&str],
    signature: &str,
) -> String {
    let names: Vec<String> = signed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    format!(
        "{ALGORITHM} Credential={secret_id}/{}, SignedHeaders={}, Signature={signature}",
        credential_scope(timestamp, service),
        names.join(";")
    )
}

/// Signs a request. `signed_headers` are lower-cased, sorted and de-duplicated first (the order the
/// protocol requires); every one of them must be present in `parts.headers`.
pub fn sign(
    parts: &RequestParts,
    signed_headers: &[&str],
    service: &str,
    timestamp: i64,
    creds: &Credentials,
) -> Result<Signed, SignError> {
    let mut names: Vec<String> = signed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let canonical_request = canonical_request(parts, &names)?;
    let string_to_sign = string_to_sign(&canonical_request, timestamp, service);
    let signature = signature(creds.secret_key(), &string_to_sign, timestamp, service);
    let authorization = authorization(&creds.secret_id, timestamp, service, &names, &signature);
    Ok(Signed {
        canonical_request,
        string_to_sign,
        signature,
        authorization,
    })
}

/// A parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    /// Lower-case names, in the order the client sent them.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=<a;b>, Signature=<hex>`.
pub fn parse_authorization(header: &str) -> Result<ParsedAuthorization, VerifyError> {
    let bad = |why: &str| VerifyError::InvalidAuthorization(why.to_string());
    let header = header.trim();
    let rest = header
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| bad("algorithm must be TC3-HMAC-SHA256"))?;
    if !rest.starts_with(' ') {
        return Err(bad("algorithm must be TC3-HMAC-SHA256"));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for field in rest.split(',') {
        let field = field.trim();
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| bad("malformed field"))?;
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(bad("unknown field")),
        };
        if slot.replace(value.trim()).is_some() {
            return Err(bad("duplicate field"));
        }
    }
    let credential = credential.ok_or_else(|| bad("missing Credential"))?;
    let signed_headers = signed_headers.ok_or_else(|| bad("missing SignedHeaders"))?;
    let signature = signature.ok_or_else(|| bad("missing Signature"))?;

    let mut scope = credential.rsplitn(4, '/');
    let (terminator, service, date, secret_id) =
        match (scope.next(), scope.next(), scope.next(), scope.next()) {
            (Some(t), Some(s), Some(d), Some(i)) => (t, s, d, i),
            _ => {
                return Err(bad(
                    "Credential must be <SecretId>/<date>/<service>/tc3_request",
                ))
            }
        };
    if terminator != "tc3_request" {
        return Err(bad("credential scope must end with tc3_request"));
    }
    if secret_id.is_empty() || service.is_empty() {
        return Err(bad("empty SecretId or service"));
    }
    let date_ok = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !date_ok {
        return Err(bad("credential date must be YYYY-MM-DD"));
    }
    let signed: Vec<String> = signed_headers
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if signed.iter().any(|h| h.is_empty()) {
        return Err(bad("empty name in SignedHeaders"));
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("Signature must be 64 hex digits"));
    }
    Ok(ParsedAuthorization {
        secret_id: secret_id.to_string(),
        date: date.to_string(),
        service: service.to_string(),
        signed_headers: signed,
        signature: signature.to_ascii_lowercase(),
    })
}

/// A successfully verified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub secret_id: String,
    pub service: String,
    pub timestamp: i64,
}

/// Why a request failed verification. [`VerifyError::code`] gives the Tencent error code to answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the Authorization header is missing")]
    MissingAuthorization,
    #[error("the Authorization header is malformed: {0}")]
    InvalidAuthorization(String),
    #[error("the X-TC-Timestamp header is missing")]
    MissingTimestamp,
    #[error("the X-TC-Timestamp header is not a unix timestamp")]
    InvalidTimestamp,
    #[error(
        "the signature has expired: the timestamp is more than 5 minutes from the server's time"
    )]
    SignatureExpire,
    #[error("the SecretId was not found")]
    SecretIdNotFound,
    #[error("the signature does not match")]
    SignatureFailure,
}

impl VerifyError {
    /// The Tencent Cloud error code for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingAuthorization
            | VerifyError::InvalidAuthorization(_)
            | VerifyError::MissingTimestamp
            | VerifyError::InvalidTimestamp => "AuthFailure.InvalidAuthorization",
            VerifyError::SignatureExpire => "AuthFailure.SignatureExpire",
            VerifyError::SecretIdNotFound => "AuthFailure.SecretIdNotFound",
            VerifyError::SignatureFailure => "AuthFailure.SignatureFailure",
        }
    }
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    // Keep the optimiser from short-circuiting the fold.
    std::hint::black_box(diff) == 0
}

/// What the headers alone establish (see [`verify_headers`]).
struct HeaderCheck {
    auth: ParsedAuthorization,
    timestamp: i64,
    secret_key: String,
}

/// Everything [`verify`] checks that does not need the payload: the `Authorization` header's shape (with
/// `content-type` and `host` among the signed headers, each signed header present), `X-TC-Timestamp`
/// within 5 minutes of `now_unix`, a known secret id, and a credential scope dated on the timestamp's UTC
/// date. A server calls it before reading a request body, so that a request that cannot be authentic is
/// answered without its body being read; the signature itself (which covers the body) is left to
/// [`verify`]. `parts.payload` is not used.
pub fn verify_headers(
    parts: &RequestParts,
    now_unix: i64,
    lookup_secret_key: impl Fn(&str) -> Option<String>,
) -> Result<(), VerifyError> {
    check_headers(parts, now_unix, lookup_secret_key).map(|_| ())
}

fn check_headers(
    parts: &RequestParts,
    now_unix: i64,
    lookup_secret_key: impl Fn(&str) -> Option<String>,
) -> Result<HeaderCheck, VerifyError> {
    let header = parts
        .header("authorization")
        .ok_or(VerifyError::MissingAuthorization)?;
    if header.trim().is_empty() {
        return Err(VerifyError::MissingAuthorization);
    }
    let auth = parse_authorization(header)?;
    for required in DEFAULT_SIGNED_HEADERS {
        if !auth.signed_headers.iter().any(|h| h == required) {
            return Err(VerifyError::InvalidAuthorization(format!(
                "SignedHeaders must include {required}"
            )));
        }
    }
    let ts = parts
        .header("x-tc-timestamp")
        .ok_or(VerifyError::MissingTimestamp)?;
    let timestamp: i64 = ts
        .trim()
        .parse()
        .map_err(|_| VerifyError::InvalidTimestamp)?;
    if timestamp.abs_diff(now_unix) > MAX_CLOCK_SKEW_SECS as u64 {
        return Err(VerifyError::SignatureExpire);
    }
    let secret_key = lookup_secret_key(&auth.secret_id).ok_or(VerifyError::SecretIdNotFound)?;
    // The signing key is derived from the UTC date of the timestamp; a credential scope naming another
    // date was not signed over this scope.
    if auth.date != utc_date(timestamp) {
        return Err(VerifyError::SignatureFailure);
    }
    if let Some(h) = auth
        .signed_headers
        .iter()
        .find(|h| parts.header(h).is_none())
    {
        return Err(VerifyError::InvalidAuthorization(format!(
            "signed header {h} is not in the request"
        )));
    }
    Ok(HeaderCheck {
        auth,
        timestamp,
        secret_key,
    })
}

/// Verifies a received request: parses `Authorization`, checks `X-TC-Timestamp` against `now_unix`
/// (|now - ts| <= 300 s), looks up the key by secret id, recomputes the signature with the client's
/// `SignedHeaders` list (the `Host` value exactly as received) and compares in constant time.
///
/// `content-type` and `host` must be among the signed headers (as the documentation requires). Both the
/// documented lower-cased form of header values and the SDK's verbatim form are accepted.
pub fn verify(
    parts: &RequestParts,
    now_unix: i64,
    lookup_secret_key: impl Fn(&str) -> Option<String>,
) -> Result<Verified, VerifyError> {
    let HeaderCheck {
        auth,
        timestamp,
        secret_key,
    } = check_headers(parts, now_unix, lookup_secret_key)?;
    let names: Vec<&str> = auth.signed_headers.iter().map(String::as_str).collect();
    let expected = auth.signature.as_bytes();
    let check = |case| -> Result<bool, VerifyError> {
        let cr = canonical_request_with(parts, &names, case).map_err(|e| match e {
            SignError::MissingSignedHeader(h) => VerifyError::InvalidAuthorization(format!(
                "signed header {h} is not in the request"
            )),
            other => VerifyError::InvalidAuthorization(other.to_string()),
        })?;
        let sts = string_to_sign(&cr, timestamp, &auth.service);
        let sig = signature(&secret_key, &sts, timestamp, &auth.service);
        Ok(constant_time_eq(sig.as_bytes(), expected))
    };
    let mut ok = check(ValueCase::Lower)?;
    let any_upper = names
        .iter()
        .filter_map(|n| parts.header(n))
        .any(|v| v.trim().to_lowercase() != v.trim());
    if !ok && any_upper {
        ok = check(ValueCase::Verbatim)?;
    }
    if !ok {
        return Err(VerifyError::SignatureFailure);
    }
    Ok(Verified {
        secret_id: auth.secret_id,
        service: auth.service,
        timestamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_551_113_065), "2019-02-25");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(-1), "1969-12-31");
    }

    #[test]
    fn constant_time() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
