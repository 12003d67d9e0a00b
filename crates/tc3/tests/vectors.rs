//! Reproduces every stored vector (tests/data/tc3-vectors.json, copied from the project's reference material
//! with its provenance) stage by stage, and exercises `verify`.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use tunnelform_tc3::*;

#[derive(Deserialize)]
struct File {
    description: String,
    generator: String,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    source: String,
    secret_id: String,
    secret_key: String,
    service: String,
    action: String,
    version: String,
    region: String,
    host: String,
    method: String,
    uri: String,
    query: String,
    content_type: String,
    timestamp: i64,
    date: String,
    payload: String,
    payload_sha256: String,
    signed_headers: String,
    canonical_request: String,
    hashed_canonical_request: String,
    credential_scope: String,
    string_to_sign: String,
    signature: String,
    authorization: String,
    payload_utf8_hex: Option<String>,
    request_headers: Option<BTreeMap<String, String>>,
    request_headers_as_sent_by_sdk: Option<BTreeMap<String, String>>,
}

fn load() -> File {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/tc3-vectors.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

impl Vector {
    /// The request headers (without Authorization) as the client sends them.
    fn headers(&self) -> Vec<(String, String)> {
        let ts = self.timestamp.to_string();
        vec![
            ("Content-Type".into(), self.content_type.clone()),
            ("Host".into(), self.host.clone()),
            ("X-TC-Action".into(), self.action.clone()),
            ("X-TC-Timestamp".into(), ts),
            ("X-TC-Version".into(), self.version.clone()),
            ("X-TC-Region".into(), self.region.clone()),
        ]
    }
    fn signed(&self) -> Vec<&str> {
        self.signed_headers.split(';').collect()
    }
    fn creds(&self) -> Credentials {
        Credentials::new(&self.secret_id, &self.secret_key, None)
    }
}

fn borrow(h: &[(String, String)]) -> Vec<(&str, &str)> {
    h.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

#[test]
fn file_keeps_provenance() {
    let f = load();
    assert!(f.description.contains("TC3-HMAC-SHA256"));
    assert!(f.generator.contains("tencentcloud-sdk-python"));
    assert!(f.vectors.len() >= 9);
    for v in &f.vectors {
        assert!(!v.source.is_empty(), "{} has no source", v.name);
    }
}

#[test]
fn every_vector_stage_by_stage() {
    let f = load();
    for v in &f.vectors {
        let headers = v.headers();
        let hb = borrow(&headers);
        let parts = RequestParts {
            method: &v.method,
            path: &v.uri,
            query: &v.query,
            headers: &hb,
            payload: v.payload.as_bytes(),
        };
        assert_eq!(
            hex::encode(Sha256::digest(parts.payload)),
            v.payload_sha256,
            "{}: payload hash",
            v.name
        );
        if let Some(h) = &v.payload_utf8_hex {
            assert_eq!(&hex::encode(parts.payload), h, "{}: payload bytes", v.name);
        }

        // Stage 1: canonical request.
        let cr = canonical_request(&parts, &v.signed()).unwrap();
        assert_eq!(cr, v.canonical_request, "{}: canonical request", v.name);
        assert_eq!(
            hex::encode(Sha256::digest(cr.as_bytes())),
            v.hashed_canonical_request,
            "{}",
            v.name
        );

        // Stage 2: string to sign.
        assert_eq!(utc_date(v.timestamp), v.date, "{}: date", v.name);
        assert_eq!(
            credential_scope(v.timestamp, &v.service),
            v.credential_scope,
            "{}",
            v.name
        );
        let sts = string_to_sign(&cr, v.timestamp, &v.service);
        assert_eq!(sts, v.string_to_sign, "{}: string to sign", v.name);

        // Stage 3: signature.
        let sig = signature(&v.secret_key, &sts, v.timestamp, &v.service);
        assert_eq!(sig, v.signature, "{}: signature", v.name);

        // Stage 4: the whole thing, and the Authorization header.
        let signed = sign(&parts, &v.signed(), &v.service, v.timestamp, &v.creds()).unwrap();
        assert_eq!(signed.canonical_request, v.canonical_request, "{}", v.name);
        assert_eq!(signed.string_to_sign, v.string_to_sign, "{}", v.name);
        assert_eq!(signed.signature, v.signature, "{}", v.name);
        assert_eq!(
            signed.authorization, v.authorization,
            "{}: authorization",
            v.name
        );

        // The recorded request headers carry the same Authorization.
        let recorded = v
            .request_headers
            .as_ref()
            .or(v.request_headers_as_sent_by_sdk.as_ref())
            .unwrap();
        assert_eq!(recorded["Authorization"], v.authorization, "{}", v.name);
        assert_eq!(recorded["Host"], v.host, "{}", v.name);
    }
}

#[test]
fn sign_sorts_and_lowercases_signed_header_names() {
    let f = load();
    let v = f
        .vectors
        .iter()
        .find(|v| v.name == "doc_cvm_describeinstances_current")
        .unwrap();
    let headers = v.headers();
    let hb = borrow(&headers);
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &hb,
        payload: v.payload.as_bytes(),
    };
    let signed = sign(
        &parts,
        &["X-TC-Action", "Host", "content-type", "host"],
        &v.service,
        v.timestamp,
        &v.creds(),
    )
    .unwrap();
    assert_eq!(signed.authorization, v.authorization);
}

#[test]
fn every_recorded_request_verifies() {
    let f = load();
    for v in &f.vectors {
        let recorded = v
            .request_headers
            .as_ref()
            .or(v.request_headers_as_sent_by_sdk.as_ref())
            .unwrap();
        // Lower-case the names to check that header lookup is case-insensitive.
        let headers: Vec<(String, String)> = recorded
            .iter()
            .map(|(k, val)| (k.to_ascii_lowercase(), val.clone()))
            .collect();
        let hb = borrow(&headers);
        let parts = RequestParts {
            method: &v.method,
            path: &v.uri,
            query: &v.query,
            headers: &hb,
            payload: v.payload.as_bytes(),
        };
        let ok = verify(&parts, v.timestamp + 10, |id| {
            (id == v.secret_id).then(|| v.secret_key.clone())
        })
        .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(ok.secret_id, v.secret_id);
        assert_eq!(ok.service, v.service);
        assert_eq!(ok.timestamp, v.timestamp);
    }
}

// ---- verify() ----

const ID: &str = "AKIDsandbox";
const KEY: &str = "sandboxsecret";
const NOW: i64 = 1_700_000_000;
const BODY: &[u8] = br#"{"VpnConnectionIds":["vpnx-abcdefgh"]}"#;

fn lookup(id: &str) -> Option<String> {
    (id == ID).then(|| KEY.to_string())
}

/// A signed request; returns its headers (with Authorization).
fn signed_request(
    host: &str,
    ts: i64,
    signed_headers: &[&str],
    key: &str,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = vec![
        ("Content-Type".into(), "application/json".into()),
        ("Host".into(), host.into()),
        ("X-TC-Action".into(), "DescribeVpnConnections".into()),
        ("X-TC-Timestamp".into(), ts.to_string()),
        ("X-TC-Version".into(), "2017-03-12".into()),
        ("X-TC-Region".into(), "ap-guangzhou".into()),
    ];
    let hb = borrow(&headers);
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &hb,
        payload: BODY,
    };
    let s = sign(
        &parts,
        signed_headers,
        "vpc",
        ts,
        &Credentials::new(ID, key, None),
    )
    .unwrap();
    headers.push(("Authorization".into(), s.authorization));
    headers
}

fn check(headers: &[(String, String)], body: &[u8], now: i64) -> Result<Verified, VerifyError> {
    let hb = borrow(headers);
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &hb,
        payload: body,
    };
    verify(&parts, now, lookup)
}

fn set(headers: &mut [(String, String)], name: &str, value: &str) {
    let h = headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .unwrap();
    h.1 = value.to_string();
}

#[test]
fn verify_good_signature() {
    let h = signed_request("127.0.0.1:9000", NOW, DEFAULT_SIGNED_HEADERS, KEY);
    let v = check(&h, BODY, NOW).unwrap();
    assert_eq!(
        v,
        Verified {
            secret_id: ID.into(),
            service: "vpc".into(),
            timestamp: NOW
        }
    );
}

#[test]
fn verify_host_exactly_as_sent_by_tccli() {
    // tccli --endpoint http://127.0.0.1:9000 sends and signs this Host verbatim.
    let h = signed_request("http://127.0.0.1:9000", NOW, DEFAULT_SIGNED_HEADERS, KEY);
    assert!(check(&h, BODY, NOW).is_ok());
    let mut h2 = h.clone();
    set(&mut h2, "Host", "127.0.0.1:9000");
    assert_eq!(
        check(&h2, BODY, NOW).unwrap_err(),
        VerifyError::SignatureFailure
    );
}

#[test]
fn verify_accepts_sdk_verbatim_upper_case_values() {
    // The Python SDK signs host exactly (no lower-casing); the documented form lower-cases.
    let headers: Vec<(String, String)> = vec![
        ("Content-Type".into(), "application/json".into()),
        ("Host".into(), "VPC.Example:9000".into()),
        ("X-TC-Timestamp".into(), NOW.to_string()),
    ];
    let hb = borrow(&headers);
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &hb,
        payload: BODY,
    };
    let cr = canonical_request_with(&parts, DEFAULT_SIGNED_HEADERS, ValueCase::Verbatim).unwrap();
    assert!(cr.contains("host:VPC.Example:9000\n"));
    let sts = string_to_sign(&cr, NOW, "vpc");
    let sig = signature(KEY, &sts, NOW, "vpc");
    let mut h = headers.clone();
    h.push((
        "Authorization".into(),
        authorization(ID, NOW, "vpc", DEFAULT_SIGNED_HEADERS, &sig),
    ));
    assert!(check(&h, BODY, NOW).is_ok());
    // And the documented lower-cased form of the same request.
    let mut h2 = headers.clone();
    let s = sign(
        &parts,
        DEFAULT_SIGNED_HEADERS,
        "vpc",
        NOW,
        &Credentials::new(ID, KEY, None),
    )
    .unwrap();
    assert!(s.canonical_request.contains("host:vpc.example:9000\n"));
    h2.push(("Authorization".into(), s.authorization));
    assert!(check(&h2, BODY, NOW).is_ok());
}

#[test]
fn verify_wrong_key() {
    let h = signed_request("127.0.0.1:9000", NOW, DEFAULT_SIGNED_HEADERS, "not-the-key");
    assert_eq!(
        check(&h, BODY, NOW).unwrap_err(),
        VerifyError::SignatureFailure
    );
    assert_eq!(
        VerifyError::SignatureFailure.code(),
        "AuthFailure.SignatureFailure"
    );
}

#[test]
fn verify_tampered_body() {
    let h = signed_request("127.0.0.1:9000", NOW, DEFAULT_SIGNED_HEADERS, KEY);
    assert_eq!(
        check(&h, br#"{"VpnConnectionIds":["vpnx-zzzzzzzz"]}"#, NOW).unwrap_err(),
        VerifyError::SignatureFailure
    );
}

#[test]
fn verify_expired_both_directions() {
    let h = signed_request("127.0.0.1:9000", NOW, DEFAULT_SIGNED_HEADERS, KEY);
    // Exactly at the edge of the window is accepted.
    assert!(check(&h, BODY, NOW + 300).is_ok());
    assert!(check(&h, BODY, NOW - 300).is_ok());
    // Request too old (server clock ahead).
    let e = check(&h, BODY, NOW + 301).unwrap_err();
    assert_eq!(e, VerifyError::SignatureExpire);
    assert_eq!(e.code(), "AuthFailure.SignatureExpire");
    // Request from the future (server clock behind).
    assert_eq!(
        check(&h, BODY, NOW - 301).unwrap_err(),
        VerifyError::SignatureExpire
    );
}

#[test]
fn verify_unknown_id() {
    let mut h = signed_request("127.0.0.1:9000", NOW, DEFAULT_SIGNED_HEADERS, KEY);
    let auth = h.last().unwrap().1.replace("AKIDsandbox", "AKIDother");
    h.last_mut().unwrap().1 = auth;
    let e = check(&h, BODY, NOW).unwrap_err();
    assert_eq!(e, VerifyError::SecretIdNotFound);
    assert_eq!(e.code(), "AuthFailure.SecretIdNotFound");
}

#[test]
fn verify_missing_and_malformed_headers() {
    let h = signed_request("127.0.0.1:9000", NOW, DEFAULT_SIGNED_HEADERS, KEY);
    let no_auth: Vec<_> = h
        .iter()
        .filter(|(n, _)| n != "Authorization")
        .cloned()
        .collect();
    let e = check(&no_auth, BODY, NOW).unwrap_err();
    assert_eq!(e, VerifyError::MissingAuthorization);
    assert_eq!(e.code(), "AuthFailure.InvalidAuthorization");

    let good = h.last().unwrap().1.clone();
    let sig = good.rsplit("Signature=").next().unwrap().to_string();
    let malformed = [
        "Bearer abc".to_string(),
        "TC3-HMAC-SHA256".to_string(),
        good.replace("TC3-HMAC-SHA256", "TC3-HMAC-SHA1"),
        good.replace("/tc3_request", "/aws4_request"),
        good.replace(
            "Credential=AKIDsandbox/2023-11-14/vpc/tc3_request",
            "Credential=AKIDsandbox/vpc/tc3_request",
        ),
        good.replace("2023-11-14", "20231114"),
        good.replace(&sig, "xyz"),
        good.replace(", Signature=", ", Sig="),
        good.replace("SignedHeaders=content-type;host, ", ""),
        format!("{good}, Signature={sig}"),
    ];
    for m in malformed {
        let mut hm = h.clone();
        hm.last_mut().unwrap().1 = m.clone();
        let e = check(&hm, BODY, NOW).unwrap_err();
        assert!(
            matches!(e, VerifyError::InvalidAuthorization(_)),
            "{m}: {e:?}"
        );
        assert_eq!(e.code(), "AuthFailure.InvalidAuthorization");
        assert!(parse_authorization(&m).is_err());
    }

    let no_ts: Vec<_> = h
        .iter()
        .filter(|(n, _)| n != "X-TC-Timestamp")
        .cloned()
        .collect();
    assert_eq!(
        check(&no_ts, BODY, NOW).unwrap_err(),
        VerifyError::MissingTimestamp
    );
    let mut bad_ts = h.clone();
    set(&mut bad_ts, "X-TC-Timestamp", "soon");
    assert_eq!(
        check(&bad_ts, BODY, NOW).unwrap_err(),
        VerifyError::InvalidTimestamp
    );
}

#[test]
fn verify_requires_content_type_and_host_signed() {
    let mut h = signed_request("127.0.0.1:9000", NOW, &["content-type", "x-tc-action"], KEY);
    assert!(matches!(
        check(&h, BODY, NOW).unwrap_err(),
        VerifyError::InvalidAuthorization(_)
    ));
    // A signed header that is absent from the request.
    h = signed_request(
        "127.0.0.1:9000",
        NOW,
        &["content-type", "host", "x-tc-region"],
        KEY,
    );
    let hm: Vec<_> = h
        .iter()
        .filter(|(n, _)| n != "X-TC-Region")
        .cloned()
        .collect();
    assert!(matches!(
        check(&hm, BODY, NOW).unwrap_err(),
        VerifyError::InvalidAuthorization(_)
    ));
}

#[test]
fn verify_honours_signed_headers_list() {
    // Signed with content-type;host only: X-TC-Action and X-TC-Region may change freely.
    let h = signed_request("127.0.0.1:9000", NOW, DEFAULT_SIGNED_HEADERS, KEY);
    let mut free = h.clone();
    set(&mut free, "X-TC-Action", "DeleteVpnConnection");
    set(&mut free, "X-TC-Region", "ap-beijing");
    free.push(("X-TC-TraceId".into(), "c5a7d1a0".into()));
    assert!(check(&free, BODY, NOW).is_ok());
    // But host may not.
    let mut host = h.clone();
    set(&mut host, "Host", "127.0.0.1:9001");
    assert_eq!(
        check(&host, BODY, NOW).unwrap_err(),
        VerifyError::SignatureFailure
    );
    // Nor content-type.
    let mut ct = h.clone();
    set(&mut ct, "Content-Type", "application/json; charset=utf-8");
    assert_eq!(
        check(&ct, BODY, NOW).unwrap_err(),
        VerifyError::SignatureFailure
    );

    // Signed with x-tc-action as well: now the action may not change.
    let h = signed_request(
        "127.0.0.1:9000",
        NOW,
        &["content-type", "host", "x-tc-action"],
        KEY,
    );
    assert!(h
        .last()
        .unwrap()
        .1
        .contains("SignedHeaders=content-type;host;x-tc-action,"));
    assert!(check(&h, BODY, NOW).is_ok());
    let mut action = h.clone();
    set(&mut action, "X-TC-Action", "DeleteVpnConnection");
    assert_eq!(
        check(&action, BODY, NOW).unwrap_err(),
        VerifyError::SignatureFailure
    );
    let mut region = h.clone();
    set(&mut region, "X-TC-Region", "ap-beijing");
    assert!(check(&region, BODY, NOW).is_ok());
}

#[test]
fn verify_uses_timestamp_date_not_a_different_credential_date() {
    let mut h = signed_request("127.0.0.1:9000", NOW, DEFAULT_SIGNED_HEADERS, KEY);
    let auth = h.last().unwrap().1.replace("2023-11-14", "2023-11-15");
    h.last_mut().unwrap().1 = auth;
    assert_eq!(
        check(&h, BODY, NOW).unwrap_err(),
        VerifyError::SignatureFailure
    );
}

#[test]
fn parse_authorization_fields() {
    let p = parse_authorization(
        "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;Host;x-tc-action, Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f",
    )
    .unwrap();
    assert_eq!(p.secret_id, "AKID");
    assert_eq!(p.date, "2019-02-25");
    assert_eq!(p.service, "cvm");
    assert_eq!(
        p.signed_headers,
        vec!["content-type", "host", "x-tc-action"]
    );
    assert_eq!(
        p.signature,
        "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
    );
}

#[test]
fn sign_errors() {
    let headers = [("Content-Type", "application/json")];
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        payload: b"{}",
    };
    let c = Credentials::new(ID, KEY, None);
    assert_eq!(
        sign(&parts, DEFAULT_SIGNED_HEADERS, "vpc", NOW, &c).unwrap_err(),
        SignError::MissingSignedHeader("host".into())
    );
    assert_eq!(
        sign(&parts, &[], "vpc", NOW, &c).unwrap_err(),
        SignError::NoSignedHeaders
    );
    assert!(matches!(
        sign(&parts, &["content type"], "vpc", NOW, &c).unwrap_err(),
        SignError::InvalidHeaderName(_)
    ));
}

#[test]
fn credentials_debug_redacts() {
    let c = Credentials::new(
        "AKIDvisible",
        "supersecretkey",
        Some("temporarytoken".into()),
    );
    let d = format!("{c:?}");
    assert!(d.contains("AKIDvisible"), "{d}");
    assert!(d.contains("** redacted **"), "{d}");
    assert!(!d.contains("supersecretkey"), "{d}");
    assert!(!d.contains("temporarytoken"), "{d}");
    assert_eq!(c.secret_key(), "supersecretkey");
    assert_eq!(c.token(), Some("temporarytoken"));
    let d2 = format!(
        "{:#?}",
        Credentials::new("AKIDvisible", "supersecretkey", None)
    );
    assert!(!d2.contains("supersecretkey"));
}

#[test]
fn utc_date_agrees_with_time_crate() {
    let mut ts: i64 = -5_000_000_000;
    while ts < 10_000_000_000 {
        let d = time::OffsetDateTime::from_unix_timestamp(ts)
            .unwrap()
            .date();
        let expect = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
        assert_eq!(utc_date(ts), expect, "{ts}");
        ts += 86_400 * 7 + 3_607;
    }
}
