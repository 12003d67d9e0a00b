//! Salted digests of secrets, and masking of sensitive values before anything is persisted.
//!
//! # Threat note
//!
//! tunnelform never writes a pre-shared key (or any value marked sensitive) in clear: the state,
//! saved plans and the journal keep a [`SecretDigest`] instead, so that a state file can be
//! committed to Git. The digest is `HMAC-SHA256(key = salt, message = secret)` with a fresh random
//! 16-byte salt per digest, stored as `hmac-sha256:<salt hex>:<digest hex>`.
//!
//! What it gives: tunnelform can tell whether a configured or remote key *differs* from the one it
//! recorded (drift on a key, a stale saved plan) without being able to recover the key. The per-digest
//! salt defeats precomputed tables and hides whether two tunnels share a key.
//!
//! What it does not give: a digest is a verifier. Whoever can read the state can test guesses
//! offline at the speed of HMAC-SHA256, so a weak, short or dictionary key can still be found.
//! Pre-shared keys must be long and random (for example 32+ characters from a password generator);
//! the digest protects strong keys, not weak ones.

use std::fmt;
use std::str::FromStr;

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use tunnelform_model::Value;

type HmacSha256 = Hmac<Sha256>;

/// The map key of a digest marker: a sensitive value inside a persisted [`Value`] is replaced by
/// `{"$sensitive_digest": "hmac-sha256:..."}`.
pub const SENSITIVE_DIGEST_KEY: &str = "$sensitive_digest";

const SCHEME: &str = "hmac-sha256";
const SALT_LEN: usize = 16;
const DIGEST_LEN: usize = 32;

/// A salted digest of a secret (see the module's threat note). Comparing a candidate secret with
/// [`SecretDigest::matches`] takes constant time with respect to the digest.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretDigest {
    salt: [u8; SALT_LEN],
    digest: [u8; DIGEST_LEN],
}

/// An object's secret digests by attribute name, in one sorted vector (an object has one or two:
/// a B-tree node of eleven slots each was most of their memory). Written as a JSON object.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Digests(Vec<(String, SecretDigest)>);

impl Digests {
    pub const fn new() -> Digests {
        Digests(Vec::new())
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name))
    }

    pub fn get(&self, name: &str) -> Option<&SecretDigest> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// Sets the digest of `name`, returning the one it replaced.
    pub fn insert(&mut self, name: String, d: SecretDigest) -> Option<SecretDigest> {
        match self.find(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, d)),
            Err(i) => {
                self.0.insert(i, (name, d));
                None
            }
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<SecretDigest> {
        self.find(name).ok().map(|i| self.0.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = (&String, &SecretDigest)> + ExactSizeIterator {
        self.0.iter().map(|(k, d)| (k, d))
    }
}

impl FromIterator<(String, SecretDigest)> for Digests {
    fn from_iter<I: IntoIterator<Item = (String, SecretDigest)>>(it: I) -> Digests {
        let mut d = Digests::new();
        for (k, v) in it {
            d.insert(k, v);
        }
        d.0.shrink_to_fit();
        d
    }
}

impl std::ops::Index<&str> for Digests {
    type Output = SecretDigest;
    fn index(&self, name: &str) -> &SecretDigest {
        self.get(name)
            .unwrap_or_else(|| panic!("no digest recorded for {name:?}"))
    }
}

impl fmt::Debug for Digests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Digests {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Digests {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Digests, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Digests;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of attribute names to digests")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Digests, A::Error> {
                let mut out = Digests::new();
                while let Some((k, v)) = a.next_entry::<String, SecretDigest>()? {
                    out.insert(k, v);
                }
                out.0.shrink_to_fit();
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

fn mac_for(salt: &[u8; SALT_LEN]) -> HmacSha256 {
    // HMAC pads a key shorter than the hash's block size with zeros, so keying with the salt
    // zero-padded to the block size is the same function as keying with the salt itself, and this
    // constructor cannot fail (unlike `new_from_slice`, whose error is unreachable for HMAC).
    let mut key = hmac::digest::Key::<HmacSha256>::default();
    key[..SALT_LEN].copy_from_slice(salt);
    <HmacSha256 as KeyInit>::new(&key)
}

impl SecretDigest {
    /// Digests `secret` with a fresh random salt.
    pub fn new(secret: &str) -> SecretDigest {
        SecretDigest::new_bytes(secret.as_bytes())
    }

    /// Digests raw bytes with a fresh random salt.
    pub fn new_bytes(secret: &[u8]) -> SecretDigest {
        let mut salt = [0u8; SALT_LEN];
        rand::thread_rng().fill_bytes(&mut salt);
        SecretDigest::with_salt(secret, salt)
    }

    /// Digests with a given salt (deterministic; for tests and vectors, never reuse salts otherwise).
    pub fn with_salt(secret: &[u8], salt: [u8; SALT_LEN]) -> SecretDigest {
        let mut mac = mac_for(&salt);
        mac.update(secret);
        let digest: [u8; DIGEST_LEN] = mac.finalize().into_bytes().into();
        SecretDigest { salt, digest }
    }

    /// The digest of a [`Value`]'s secret: a string's UTF-8 bytes, or the canonical JSON of any other
    /// value. Sensitive marks inside are ignored (the value is digested as if unmarked).
    pub fn of_value(value: &Value) -> SecretDigest {
        SecretDigest::new_bytes(&secret_bytes(value))
    }

    /// Whether `secret` is the secret this digest was made from (constant-time comparison).
    pub fn matches(&self, secret: &str) -> bool {
        self.matches_bytes(secret.as_bytes())
    }

    pub fn matches_bytes(&self, secret: &[u8]) -> bool {
        let mut mac = mac_for(&self.salt);
        mac.update(secret);
        mac.verify_slice(&self.digest).is_ok()
    }

    /// Whether `value` (as digested by [`SecretDigest::of_value`]) matches.
    pub fn matches_value(&self, value: &Value) -> bool {
        self.matches_bytes(&secret_bytes(value))
    }

    /// `previous` if it already matches `secret` (so an unchanged key keeps an unchanged digest and the
    /// state file stays byte-identical), else a fresh digest.
    pub fn reuse_or_new(previous: Option<&SecretDigest>, secret: &[u8]) -> SecretDigest {
        match previous {
            Some(p) if p.matches_bytes(secret) => p.clone(),
            _ => SecretDigest::new_bytes(secret),
        }
    }

    /// The `Value` form of [`SecretDigest::reuse_or_new`].
    pub fn reuse_or_new_value(previous: Option<&SecretDigest>, value: &Value) -> SecretDigest {
        SecretDigest::reuse_or_new(previous, &secret_bytes(value))
    }
}

/// The bytes a sensitive value is digested as.
fn secret_bytes(value: &Value) -> Vec<u8> {
    match value.deep_unmarked() {
        Value::String(s) => s.into_string().into_bytes(),
        other => other.canonical_key().into_bytes(),
    }
}

impl fmt::Display for SecretDigest {
    /// The storage form `hmac-sha256:<salt hex>:<digest hex>` (not a secret, but a verifier: see the
    /// module's threat note).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SCHEME}:{}:{}",
            hex::encode(self.salt),
            hex::encode(self.digest)
        )
    }
}

impl fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretDigest(** redacted **)")
    }
}

/// Why a string is not a valid digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid secret digest: {0} (expected \"hmac-sha256:<32 hex digits of salt>:<64 hex digits of digest>\")")]
pub struct DigestParseError(&'static str);

impl FromStr for SecretDigest {
    type Err = DigestParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(':');
        let (Some(scheme), Some(salt), Some(digest), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(DigestParseError("wrong number of ':'-separated parts"));
        };
        if scheme != SCHEME {
            return Err(DigestParseError("unknown scheme"));
        }
        let mut out = SecretDigest {
            salt: [0; SALT_LEN],
            digest: [0; DIGEST_LEN],
        };
        hex::decode_to_slice(salt, &mut out.salt)
            .map_err(|_| DigestParseError("the salt is not 16 bytes of hex"))?;
        hex::decode_to_slice(digest, &mut out.digest)
            .map_err(|_| DigestParseError("the digest is not 32 bytes of hex"))?;
        Ok(out)
    }
}

impl Serialize for SecretDigest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SecretDigest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The marker that stands for a sensitive value in a persisted [`Value`].
pub fn digest_marker(digest: &SecretDigest) -> Value {
    Value::Map(
        [(
            SENSITIVE_DIGEST_KEY.to_string(),
            Value::string(digest.to_string()),
        )]
        .into_iter()
        .collect(),
    )
}

/// The digest if `value` is a digest marker.
pub fn as_digest_marker(value: &Value) -> Option<SecretDigest> {
    let m = match value {
        Value::Map(m) if m.len() == 1 => m,
        _ => return None,
    };
    m.get(SENSITIVE_DIGEST_KEY)?.as_str()?.parse().ok()
}

/// Replaces every sensitive-marked part of `value` by a digest marker, so that nothing sensitive is
/// written in clear. Non-sensitive parts are kept as they are.
pub fn mask_sensitive(value: &Value) -> Value {
    mask_sensitive_reusing(value, None)
}

/// Like [`mask_sensitive`], but where `previous` (an earlier masked version of the same value) holds a
/// marker at the same place whose digest still matches, that marker is kept, so re-saving an unchanged
/// value produces identical bytes.
pub fn mask_sensitive_reusing(value: &Value, previous: Option<&Value>) -> Value {
    match value {
        Value::Sensitive(_) => {
            let prev = previous.and_then(as_digest_marker);
            digest_marker(&SecretDigest::reuse_or_new_value(prev.as_ref(), value))
        }
        Value::List(items) => {
            let prev = previous.and_then(|p| match p {
                Value::List(p) => Some(p),
                _ => None,
            });
            Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| mask_sensitive_reusing(v, prev.and_then(|p| p.get(i))))
                    .collect(),
            )
        }
        Value::Map(m) => {
            let prev = previous.and_then(|p| match p {
                Value::Map(p) => Some(p),
                _ => None,
            });
            Value::Map(
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            mask_sensitive_reusing(v, prev.and_then(|p| p.get(k))),
                        )
                    })
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_kept_by_name_in_order_and_written_as_an_object() {
        let mut d = Digests::new();
        assert_eq!(d.insert("z_key".into(), SecretDigest::new("z")), None);
        assert_eq!(d.insert("a_key".into(), SecretDigest::new("a")), None);
        assert!(d.insert("z_key".into(), SecretDigest::new("z2")).is_some());
        assert_eq!(
            d.keys().map(String::as_str).collect::<Vec<_>>(),
            ["a_key", "z_key"]
        );
        assert!(d["z_key"].matches("z2") && !d["z_key"].matches("z"));
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.starts_with(r#"{"a_key":"hmac-sha256:"#), "{json}");
        let back: Digests = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert_eq!(d.remove("a_key").map(|x| x.matches("a")), Some(true));
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn matches_only_its_secret() {
        let d = SecretDigest::new("correct horse battery staple");
        assert!(d.matches("correct horse battery staple"));
        assert!(!d.matches("correct horse battery stapl"));
        assert!(!d.matches(""));
    }

    #[test]
    fn salts_differ_and_hide_equality() {
        let a = SecretDigest::new("same");
        let b = SecretDigest::new("same");
        assert_ne!(a.to_string(), b.to_string());
        assert!(a.matches("same") && b.matches("same"));
    }

    #[test]
    fn padded_key_is_plain_hmac_keyed_by_the_salt() {
        let salt = [7u8; SALT_LEN];
        let mut reference = <HmacSha256 as Mac>::new_from_slice(&salt).unwrap();
        reference.update(b"secret");
        let expected = hex::encode(reference.finalize().into_bytes());
        let d = SecretDigest::with_salt(b"secret", salt);
        assert_eq!(
            d.to_string(),
            format!("hmac-sha256:{}:{expected}", hex::encode(salt))
        );
    }

    #[test]
    fn known_vector() {
        // HMAC-SHA256(key = 16 zero bytes, "abc"), computed independently with openssl:
        // printf abc | openssl dgst -sha256 -mac HMAC -macopt hexkey:00000000000000000000000000000000
        let d = SecretDigest::with_salt(b"abc", [0; SALT_LEN]);
        assert_eq!(
            d.to_string(),
            "hmac-sha256:00000000000000000000000000000000:fd7adb152c05ef80dccf50a1fa4c05d5a3ec6da95575fc312ae7c5d091836351"
        );
    }

    #[test]
    fn string_form_round_trips_and_rejects_garbage() {
        let d = SecretDigest::new("k");
        let back: SecretDigest = d.to_string().parse().unwrap();
        assert_eq!(d, back);
        for bad in [
            "",
            "hmac-sha256",
            "md5:00:00",
            "hmac-sha256:zz:00",
            "hmac-sha256:0000:0000",
            &format!("{d}:extra"),
        ] {
            assert!(bad.parse::<SecretDigest>().is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let d = SecretDigest::new("k");
        let s = format!("{d:?}");
        assert!(s.contains("redacted"));
        assert!(!s.contains(&hex::encode(d.digest)));
    }

    #[test]
    fn mask_replaces_every_sensitive_leaf() {
        let v = Value::Map(
            [
                ("plain".to_string(), Value::from("visible")),
                (
                    "psk".to_string(),
                    Value::sensitive(Value::from("hunter2-long-key")),
                ),
                (
                    "list".to_string(),
                    Value::List(vec![Value::sensitive(Value::int(42)), Value::from("x")]),
                ),
            ]
            .into_iter()
            .collect(),
        );
        let masked = mask_sensitive(&v);
        assert!(!masked.contains_sensitive());
        let json = serde_json::to_string(&masked).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        assert!(json.contains("visible"));
        let psk = as_digest_marker(masked.get("psk").unwrap()).unwrap();
        assert!(psk.matches("hunter2-long-key"));
        let n = as_digest_marker(&masked.get("list").unwrap().as_list().unwrap()[0]).unwrap();
        assert!(n.matches_value(&Value::int(42)));
        assert!(!n.matches_value(&Value::int(43)));
    }

    #[test]
    fn mask_reuses_matching_markers_only() {
        let v = Value::List(vec![
            Value::sensitive("a".into()),
            Value::sensitive("b".into()),
        ]);
        let first = mask_sensitive(&v);
        let again = mask_sensitive_reusing(&v, Some(&first));
        assert_eq!(first, again);
        let changed = Value::List(vec![
            Value::sensitive("a".into()),
            Value::sensitive("c".into()),
        ]);
        let third = mask_sensitive_reusing(&changed, Some(&first));
        assert_eq!(third.as_list().unwrap()[0], first.as_list().unwrap()[0]);
        assert_ne!(third.as_list().unwrap()[1], first.as_list().unwrap()[1]);
        assert!(as_digest_marker(&third.as_list().unwrap()[1])
            .unwrap()
            .matches("c"));
    }
}
