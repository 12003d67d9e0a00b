//! The state envelope: what tunnelform knows it manages, read by version first and written in a
//! canonical order.
//!
//! On disk (format version 1) every object's keys are sorted (the file equals `jq -S` of itself),
//! indented by two spaces, with a trailing newline, so the same state always gives the same bytes:
//!
//! ```json
//! {
//!   "cloud": { "account": "100012345678", "endpoint": "tencentcloud" },
//!   "format": "tunnelform-state",
//!   "lineage": "5b0e4a57-...",
//!   "outputs": {},
//!   "resources": {
//!     "tencentcloud_vpn_connection.office[\"sh\"]": {
//!       "attributes": { "name": "office-sh", ... },
//!       "create_before_destroy": false,
//!       "dependencies": ["tencentcloud_vpn_gateway.main"],
//!       "id": "vpnx-12345678",
//!       "mode": "managed",
//!       "origin": "created",
//!       "ownership_tags": true,
//!       "provider_alias": null,
//!       "region": "ap-guangzhou",
//!       "secret_digests": { "pre_share_key": "hmac-sha256:<salt>:<digest>" },
//!       "tainted": false,
//!       "type": "tencentcloud_vpn_connection"
//!     }
//!   },
//!   "serial": 7,
//!   "tunnelform_version": "0.1.0",
//!   "version": 1
//! }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use tunnelform_model::Map;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tunnelform_kinds::ResourceKind;
use tunnelform_model::value::{SENSITIVE_SENTINEL, UNKNOWN_SENTINEL};
use tunnelform_model::{Address, Mode, Value};

use crate::deps::AddressSet;
use crate::secret::{
    as_digest_marker, mask_sensitive_reusing, Digests, SecretDigest, SENSITIVE_DIGEST_KEY,
};

/// The `format` header of a tunnelform state file.
pub const STATE_FORMAT: &str = "tunnelform-state";
/// The state format version this crate writes (and the newest it reads).
pub const STATE_FORMAT_VERSION: u32 = 1;
/// The tunnelform version recorded in files this build writes.
pub const TUNNELFORM_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything tunnelform knows it manages, plus the outputs of the last apply.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Format version (always [`STATE_FORMAT_VERSION`] in memory).
    pub version: u32,
    /// Incremented by every save; with `lineage`, it identifies one version of one state.
    pub serial: u64,
    /// A UUID fixed when the state is first created; a different lineage is a different state.
    pub lineage: String,
    /// The tunnelform version that last wrote the file.
    pub tunnelform_version: String,
    pub resources: BTreeMap<Address, ResourceState>,
    pub outputs: BTreeMap<String, OutputState>,
    /// The cloud account the objects belong to, recorded by the first save that talked to a cloud (absent
    /// from older files and from states never used with one).
    pub cloud: Option<Cloud>,
}

/// Which cloud a state belongs to: `"cloud": {"account": ..., "endpoint": ...}` in the file.
///
/// Only the account identifies the cloud (a sandbox restarted on another port with the same data file
/// is the same account); the endpoint is what the recording run talked to, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cloud {
    /// The account id (root account UIN, `GetCallerIdentity`'s `AccountId`).
    pub account: String,
    /// `tencentcloud` (Tencent's endpoints), `sandbox` (the embedded sandbox), or the `--endpoint` URL.
    pub endpoint: String,
}

/// The longest account id and endpoint a state records.
const MAX_ACCOUNT_LEN: usize = 64;
const MAX_ENDPOINT_LEN: usize = 2048;

impl Cloud {
    fn validate(&self) -> Result<(), WriteError> {
        let bad = |detail: String| Err(WriteError::InvalidCloud { detail });
        if self.account.is_empty()
            || self.account.len() > MAX_ACCOUNT_LEN
            || !self.account.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return bad(format!(
                "the account {:?} is not an account id (letters and digits, at most {MAX_ACCOUNT_LEN})",
                excerpt(&self.account)
            ));
        }
        if self.endpoint.is_empty()
            || self.endpoint.len() > MAX_ENDPOINT_LEN
            || self.endpoint.chars().any(char::is_control)
        {
            return bad(format!(
                "the endpoint {:?} is empty, longer than {MAX_ENDPOINT_LEN} bytes or holds control characters",
                excerpt(&self.endpoint)
            ));
        }
        Ok(())
    }
}

/// How an object came to be in the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// tunnelform created it.
    Created,
    /// `tunnelform import` or an `import` block brought in an existing object.
    Imported,
    /// Converted from a Terraform state by `tunnelform state migrate-terraform`.
    Migrated,
    /// Found by its ownership tags after its create's response was lost (journal recovery).
    Adopted,
}

/// One managed object (or data-source result) in the state.
///
/// Fields are declared (and written) in alphabetical order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceState {
    /// The object's attributes as last read or written, by the provider schema's names. Never holds an
    /// unknown value or a sensitive value in clear: sensitive attributes live in `secret_digests`, and
    /// sensitive parts nested in other attributes are digest markers (see [`crate::secret`]).
    #[serde(deserialize_with = "tunnelform_model::value::deserialize_attrs")]
    pub attributes: Map,
    pub create_before_destroy: bool,
    /// Objects this one depends on (written sorted by their text form).
    pub dependencies: AddressSet,
    /// Older objects of this address that still exist: a `create_before_destroy` replacement whose
    /// delete half failed or was interrupted. The next plan deletes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposed: Vec<DeposedObject>,
    /// The cloud's id (`vpngw-...`, `cgw-...`, `vpnx-...`).
    pub id: String,
    pub mode: Mode,
    pub origin: Origin,
    /// Whether the object carries tunnelform's ownership tags.
    pub ownership_tags: bool,
    /// The `provider` alias the resource was configured with, if any.
    pub provider_alias: Option<String>,
    /// Tencent Cloud region (`ap-guangzhou`); empty when unknown (only after a migration).
    pub region: String,
    /// Salted digests of sensitive attributes (`pre_share_key`), by attribute name.
    pub secret_digests: Digests,
    /// A create that did not finish cleanly: the next plan replaces the object.
    pub tainted: bool,
    /// The resource type name (`tencentcloud_vpn_connection`); equal to the address's.
    #[serde(rename = "type")]
    pub type_name: String,
}

/// An object replaced by a newer one at the same address and not deleted yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeposedObject {
    pub id: String,
    /// What deleting it needs and what shows it: its name and the ids it points at
    /// (`vpn_gateway_id`, `customer_gateway_id`), never a secret.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

impl DeposedObject {
    /// The attributes kept of an object being replaced.
    pub fn of(id: &str, attrs: &Map) -> DeposedObject {
        let attributes = ["name", "vpn_gateway_id", "customer_gateway_id"]
            .into_iter()
            .filter_map(|k| {
                attrs
                    .get(k)
                    .filter(|v| !v.is_sensitive())
                    .and_then(Value::as_str)
                    .map(|v| (k.to_string(), v.to_string()))
            })
            .collect();
        DeposedObject {
            id: id.to_string(),
            attributes,
        }
    }
}

/// An output value of the last apply. A sensitive output is stored as a digest marker only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputState {
    pub sensitive: bool,
    pub value: Value,
}

/// What a saved plan records to check, at apply time, that the state did not move on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateIdentity {
    pub lineage: String,
    pub serial: u64,
    /// `sha256:<hex>` of the state's canonical bytes.
    pub digest: String,
}

/// Why a saved plan's state no longer matches the current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityMismatch {
    #[error("the plan was made for a different state (lineage {planned}, the current state has lineage {current}); run `tunnelform plan` again against this state")]
    Lineage { planned: String, current: String },
    #[error("the state has moved on since the plan was made (serial {planned} then, {current} now); run `tunnelform plan` again")]
    Serial { planned: u64, current: u64 },
    #[error("the state file was changed since the plan was made although its serial is still {serial}; run `tunnelform plan` again")]
    Content { serial: u64 },
}

impl StateIdentity {
    /// Ok when `current` is the very state this identity was taken from.
    pub fn check(&self, current: &StateIdentity) -> Result<(), IdentityMismatch> {
        if self.lineage != current.lineage {
            return Err(IdentityMismatch::Lineage {
                planned: self.lineage.clone(),
                current: current.lineage.clone(),
            });
        }
        if self.serial != current.serial {
            return Err(IdentityMismatch::Serial {
                planned: self.serial,
                current: current.serial,
            });
        }
        if self.digest != current.digest {
            return Err(IdentityMismatch::Content {
                serial: self.serial,
            });
        }
        Ok(())
    }
}

/// Why a state cannot be written (or, found in a file, why it is invalid).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("{location} holds a sensitive value in clear; it must be stored as a secret digest")]
    SensitiveInClear { location: String },
    #[error("{location} is unknown (known only after apply); the state records only known values")]
    Unknown { location: String },
    #[error("{location} is a map whose only key is the reserved {key:?}")]
    ReservedKey { location: String, key: String },
    #[error("{address}: {detail}")]
    Inconsistent { address: String, detail: String },
    #[error("output {name:?} is sensitive but its value is not a digest marker")]
    SensitiveOutputInClear { name: String },
    #[error("lineage {lineage:?} is not a UUID")]
    InvalidLineage { lineage: String },
    #[error("only state format version {STATE_FORMAT_VERSION} can be written, not {version}")]
    UnsupportedVersion { version: u32 },
    #[error("two resource addresses render the same: {address}")]
    DuplicateAddress { address: String },
    #[error("the serial cannot be incremented past {serial}")]
    SerialOverflow { serial: u64 },
    #[error("the recorded cloud is invalid: {detail}")]
    InvalidCloud { detail: String },
    #[error("the state holds the id {id:?} at {address}, but the ids of a {type_name} {form}{}: the state was edited or merged wrongly. Restore it from version control, or forget the address with `tunnelform state rm {address}` and record the right object with `tunnelform import {address} ID`", looks_like.as_ref().map(|k| format!(" ({id:?} is the id of a {k})")).unwrap_or_default())]
    WrongKindId {
        address: String,
        id: String,
        type_name: &'static str,
        /// How the kind's ids look (`start with "cgw-"`).
        form: String,
        /// The kind whose ids look like this one.
        looks_like: Option<&'static str>,
    },
    #[error("{first} and {second} both record the object {id}, but a state holds each object once (a bad merge?); applying it would change or delete that object through the wrong address. Keep the right one: `tunnelform state rm ADDRESS` for the other (or restore the state from Git or its backup)")]
    DuplicateId {
        id: String,
        first: String,
        second: String,
    },
}

/// Why bytes are not a readable tunnelform state. Each case says what is wrong; the file layer
/// ([`crate::StateError`]) adds the path and how to recover.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the file is empty")]
    Empty,
    #[error(
        "the file is truncated: the JSON document stops early, at line {line}, column {column}"
    )]
    Truncated { line: usize, column: usize },
    #[error("the file is not valid JSON: {message} (line {line}, column {column})")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("this is a Terraform state file{}, not a tunnelform state", terraform_version.as_ref().map(|v| format!(" (terraform_version {v})")).unwrap_or_default())]
    Terraform { terraform_version: Option<String> },
    #[error("this is not a tunnelform state file: {reason}")]
    Foreign { reason: String },
    #[error("the file uses state format version {found}{}, and this tunnelform ({TUNNELFORM_VERSION}) reads versions up to {supported}", written_by.as_ref().map(|v| format!(" written by tunnelform {v}")).unwrap_or_default())]
    FutureVersion {
        found: u64,
        supported: u32,
        written_by: Option<String>,
    },
    #[error("the state format version {found} is not valid (versions start at 1)")]
    BadVersion { found: String },
    #[error("the state is malformed: {message} (line {line}, column {column})")]
    Malformed {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the state is invalid: {0}")]
    Invalid(WriteError),
}

/// Attributes given to [`ResourceState::set_attributes`] that cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeError {
    #[error("attribute {location} is unknown; only known values are stored")]
    Unknown { location: String },
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

/// The fields of a state file read before the body (unknown fields are skipped unparsed).
#[derive(Deserialize)]
struct Header {
    format: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
    terraform_version: Option<serde_json::Value>,
    tunnelform_version: Option<serde_json::Value>,
}

impl State {
    /// An empty state with a fresh lineage and serial 0 (the first save writes serial 1).
    pub fn new() -> State {
        State {
            version: STATE_FORMAT_VERSION,
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            tunnelform_version: TUNNELFORM_VERSION.to_string(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            cloud: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.outputs.is_empty()
    }

    pub fn resource(&self, address: &Address) -> Option<&ResourceState> {
        self.resources.get(address)
    }

    /// The resource with this cloud id and type, if any.
    pub fn find_by_id(&self, type_name: &str, id: &str) -> Option<(&Address, &ResourceState)> {
        self.resources
            .iter()
            .find(|(_, r)| r.type_name == type_name && r.id == id)
    }

    /// Lineage, serial and a digest of the canonical bytes, for saved plans.
    pub fn identity(&self) -> Result<StateIdentity, WriteError> {
        let bytes = self.to_json_bytes()?;
        Ok(StateIdentity {
            lineage: self.lineage.clone(),
            serial: self.serial,
            digest: format!("sha256:{}", hex::encode(Sha256::digest(&bytes))),
        })
    }

    /// Checks everything a written state must satisfy: current version, a UUID lineage, addresses
    /// consistent with their entries, and no unknown value or sensitive value in clear anywhere.
    pub fn validate(&self) -> Result<(), WriteError> {
        if self.version != STATE_FORMAT_VERSION {
            return Err(WriteError::UnsupportedVersion {
                version: self.version,
            });
        }
        if uuid::Uuid::parse_str(&self.lineage).is_err() {
            return Err(WriteError::InvalidLineage {
                lineage: excerpt(&self.lineage),
            });
        }
        // Every later save increments the serial: one at its maximum could never be written back,
        // so it is refused on reading, before any write to the cloud.
        if self.serial == u64::MAX {
            return Err(WriteError::SerialOverflow {
                serial: self.serial,
            });
        }
        if let Some(cloud) = &self.cloud {
            cloud.validate()?;
        }
        let mut owners: HashMap<&str, &Address> = HashMap::new();
        for (address, r) in &self.resources {
            r.validate(address)?;
            if r.mode != Mode::Managed {
                continue;
            }
            for id in std::iter::once(&r.id).chain(r.deposed.iter().map(|d| &d.id)) {
                if let Some(first) = owners.insert(id, address) {
                    return Err(WriteError::DuplicateId {
                        id: excerpt(id),
                        first: first.to_string(),
                        second: address.to_string(),
                    });
                }
            }
        }
        for (name, o) in &self.outputs {
            check_value(&o.value, &mut format!("output {name:?}"))?;
            if o.sensitive && !(o.value.is_null() || as_digest_marker(&o.value).is_some()) {
                return Err(WriteError::SensitiveOutputInClear { name: name.clone() });
            }
        }
        Ok(())
    }

    /// The canonical file contents: sorted keys, two-space indentation, trailing newline. Refuses a
    /// state that [`State::validate`] rejects, so nothing sensitive is ever serialised.
    pub fn to_json_bytes(&self) -> Result<Vec<u8>, WriteError> {
        self.validate()?;
        let mut resources = BTreeMap::new();
        for (address, r) in &self.resources {
            let key = address.to_string();
            if resources.insert(key.clone(), r).is_some() {
                return Err(WriteError::DuplicateAddress { address: key });
            }
        }
        let envelope = EnvelopeOut {
            cloud: self.cloud.as_ref(),
            format: STATE_FORMAT,
            lineage: &self.lineage,
            outputs: &self.outputs,
            resources,
            serial: self.serial,
            tunnelform_version: &self.tunnelform_version,
            version: self.version,
        };
        // Serialising plain data into memory cannot fail: maps have string keys and numbers are finite.
        let mut out = serde_json::to_vec_pretty(&envelope).unwrap_or_default();
        out.push(b'\n');
        Ok(out)
    }

    /// Reads a state from bytes: the header (`format`, `version`) first, then the body of that
    /// version. Never panics, whatever the input.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<State, ParseError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ParseError::Empty);
        }
        // The usual case first: a state of a version this build reads, parsed once (the body
        // has no field but those of this version, so no Terraform state or other format passes),
        // its UTF-8 checked once rather than string by string. Anything else (not a state,
        // another version, a damaged file) is read again below, header first, so that the error
        // says what it is.
        let env = std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| serde_json::from_str::<EnvelopeIn>(text).ok());
        if let Some(env) = env {
            if env.format == STATE_FORMAT && (1..=STATE_FORMAT_VERSION).contains(&env.version) {
                return State::from_envelope(env);
            }
        }
        // The header first, skipping the body without building it; anything that is not a JSON
        // object is parsed in full for the error.
        let obj = match serde_json::from_slice::<Header>(bytes) {
            Ok(h) => h,
            Err(header_err) => {
                let doc: serde_json::Value =
                    serde_json::from_slice(bytes).map_err(|e| classify(&e, false))?;
                if doc.is_object() {
                    // Valid JSON, but not a valid header (a field given twice, say).
                    return Err(classify(&header_err, true));
                }
                return Err(ParseError::Foreign {
                    reason: format!("its top level is a JSON {}, not an object", json_type(&doc)),
                });
            }
        };
        if let Some(tv) = obj.terraform_version.as_ref() {
            return Err(ParseError::Terraform {
                terraform_version: tv.as_str().map(excerpt),
            });
        }
        match obj.format.as_ref() {
            Some(serde_json::Value::String(f)) if f == STATE_FORMAT => {}
            Some(serde_json::Value::String(f)) => {
                return Err(ParseError::Foreign {
                    reason: format!("its format is {:?}, not {STATE_FORMAT:?}", excerpt(f)),
                })
            }
            Some(_) => {
                return Err(ParseError::Foreign {
                    reason: "its \"format\" field is not a string".into(),
                })
            }
            None => {
                return Err(ParseError::Foreign {
                    reason: format!("it has no \"format\": \"{STATE_FORMAT}\" header"),
                })
            }
        }
        let version = match obj.version.as_ref() {
            Some(serde_json::Value::Number(n)) => match n.as_u64() {
                Some(v) => v,
                None => {
                    return Err(ParseError::BadVersion {
                        found: excerpt(&n.to_string()),
                    })
                }
            },
            Some(other) => {
                return Err(ParseError::BadVersion {
                    found: excerpt(&other.to_string()),
                })
            }
            None => {
                return Err(ParseError::Malformed {
                    line: 1,
                    column: 1,
                    message: "the header has no \"version\"".into(),
                })
            }
        };
        if version == 0 {
            return Err(ParseError::BadVersion { found: "0".into() });
        }
        if version > u64::from(STATE_FORMAT_VERSION) {
            return Err(ParseError::FutureVersion {
                found: version,
                supported: STATE_FORMAT_VERSION,
                written_by: obj
                    .tunnelform_version
                    .as_ref()
                    .and_then(|v| v.as_str())
                    .map(excerpt),
            });
        }
        // Version 1: parse the body again from the bytes, so errors carry a line and column.
        let env: EnvelopeIn = serde_json::from_slice(bytes).map_err(|e| classify(&e, true))?;
        State::from_envelope(env)
    }

    /// The state of a parsed envelope, its addresses and contents checked.
    fn from_envelope(env: EnvelopeIn) -> Result<State, ParseError> {
        let mut resources = BTreeMap::new();
        let mut canonical = String::new();
        for (key, r) in env.resources {
            resources.insert(entry_address(&key, &mut canonical)?, r);
        }
        let state = State {
            version: env.version,
            serial: env.serial,
            lineage: env.lineage,
            tunnelform_version: env.tunnelform_version,
            resources,
            outputs: env.outputs,
            cloud: env.cloud,
        };
        state.validate().map_err(ParseError::Invalid)?;
        Ok(state)
    }

    /// A state kept in parts, as a database keeps it: `envelope`, a state document whose
    /// `resources` object is empty, and each resource's entry (its address and its JSON body)
    /// apart. The same checks as [`State::from_json_bytes`] on the document they would make
    /// together, without building that document; an entry's error names its address.
    pub fn from_json_parts<'a>(
        envelope: &[u8],
        resources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<State, ParseError> {
        let mut state = State::from_json_bytes(envelope)?;
        if !state.resources.is_empty() {
            return Err(ParseError::Foreign {
                reason: "its envelope holds resources of its own".into(),
            });
        }
        let mut canonical = String::new();
        for (key, body) in resources {
            let r: ResourceState = serde_json::from_str(body).map_err(|e| {
                ParseError::Invalid(WriteError::Inconsistent {
                    address: excerpt(key),
                    detail: format!(
                        "its entry is not a valid resource: {}",
                        strip_position(&e.to_string())
                    ),
                })
            })?;
            let address = entry_address(key, &mut canonical)?;
            if state.resources.insert(address, r).is_some() {
                return Err(ParseError::Invalid(WriteError::DuplicateAddress {
                    address: excerpt(key),
                }));
            }
        }
        state.validate().map_err(ParseError::Invalid)?;
        Ok(state)
    }
}

/// The address a resource's key names, which must be written in its canonical form (`canonical`
/// is scratch space, reused from one key to the next).
fn entry_address(key: &str, canonical: &mut String) -> Result<Address, ParseError> {
    let address: Address = key
        .parse()
        .map_err(|e: tunnelform_model::AddressParseError| {
            ParseError::Invalid(WriteError::Inconsistent {
                address: excerpt(key),
                detail: e.reason.to_string(),
            })
        })?;
    canonical.clear();
    let _ = write!(canonical, "{address}");
    if *canonical != key {
        return Err(ParseError::Invalid(WriteError::Inconsistent {
            address: excerpt(key),
            detail: format!("the key is not in canonical form (expected {address})"),
        }));
    }
    Ok(address)
}

impl ResourceState {
    /// A managed object created by tunnelform, with no attributes yet.
    pub fn new(
        kind: ResourceKind,
        region: impl Into<String>,
        id: impl Into<String>,
    ) -> ResourceState {
        ResourceState {
            attributes: Map::new(),
            create_before_destroy: false,
            dependencies: AddressSet::new(),
            deposed: Vec::new(),
            id: id.into(),
            mode: Mode::Managed,
            origin: Origin::Created,
            ownership_tags: false,
            provider_alias: None,
            region: region.into(),
            secret_digests: Digests::new(),
            tainted: false,
            type_name: kind.type_name().to_string(),
        }
    }

    /// The managed resource kind, when the type is one tunnelform manages.
    pub fn kind(&self) -> Option<ResourceKind> {
        ResourceKind::from_type_name(&self.type_name)
    }

    fn is_sensitive_attribute(&self, name: &str) -> bool {
        self.kind()
            .and_then(|k| k.schema().attr(name))
            .is_some_and(|a| a.sensitive)
    }

    /// Replaces the attributes with `attrs`, keeping secrets out of clear text:
    /// - an attribute marked sensitive (or sensitive in the schema, like `pre_share_key`) is removed from
    ///   `attributes` and its digest stored in `secret_digests` (the previous digest is kept when it
    ///   still matches, so an unchanged key leaves the file unchanged); a null one removes the digest;
    /// - sensitive parts nested inside other attributes become digest markers;
    /// - null attributes are dropped.
    ///
    /// Fails, leaving `self` unchanged, if any value is unknown.
    pub fn set_attributes(&mut self, attrs: Map) -> Result<(), AttributeError> {
        for (name, v) in &attrs {
            if !v.is_wholly_known() {
                return Err(AttributeError::Unknown {
                    location: name.to_string(),
                });
            }
        }
        let mut attributes = Map::new();
        let mut digests = Digests::new();
        for (name, v) in attrs {
            if v.is_null() {
                continue;
            }
            if v.is_sensitive() || self.is_sensitive_attribute(&name) {
                let d =
                    SecretDigest::reuse_or_new_value(self.secret_digests.get(name.as_str()), &v);
                digests.insert(name.into(), d);
            } else if v.contains_sensitive() {
                let masked = mask_sensitive_reusing(&v, self.attributes.get(&name));
                attributes.insert(name, masked);
            } else {
                attributes.insert(name, v);
            }
        }
        self.attributes = attributes;
        self.secret_digests = digests;
        Ok(())
    }

    /// Whether the recorded digest of sensitive attribute `name` matches `value`; `None` when no digest
    /// is recorded.
    pub fn secret_matches(&self, name: &str, value: &Value) -> Option<bool> {
        self.secret_digests
            .get(name)
            .map(|d| d.matches_value(value))
    }

    fn validate(&self, address: &Address) -> Result<(), WriteError> {
        let inconsistent = |detail: String| WriteError::Inconsistent {
            address: address.to_string(),
            detail,
        };
        if self.type_name != address.type_name {
            return Err(inconsistent(format!(
                "its type {:?} differs from the address's",
                excerpt(&self.type_name)
            )));
        }
        if self.mode != address.mode {
            return Err(inconsistent("its mode differs from the address's".into()));
        }
        if self.mode == Mode::Managed && self.id.is_empty() {
            return Err(inconsistent("it has no id".into()));
        }
        if let Some(kind) = self.kind().filter(|_| self.mode == Mode::Managed) {
            // An id of another kind (a gateway's id at a tunnel's address) would reach the API as
            // a request about the wrong object.
            for id in std::iter::once(&self.id).chain(self.deposed.iter().map(|d| &d.id)) {
                if !kind.owns_id(id) {
                    return Err(WriteError::WrongKindId {
                        address: address.to_string(),
                        id: excerpt(id),
                        type_name: kind.type_name(),
                        form: kind.def().id_form(),
                        looks_like: ResourceKind::of_id(id).map(ResourceKind::type_name),
                    });
                }
            }
            for d in &self.deposed {
                // What deleting it needs (a tunnel's VPN gateway): without it the delete could
                // only fail, half-way through an apply.
                if let Some(missing) = kind
                    .def()
                    .delete_needs()
                    .iter()
                    .find(|a| !d.attributes.contains_key(**a))
                {
                    return Err(inconsistent(format!(
                        "its deposed object {} has no {missing}, which deleting it needs: add it to the entry's attributes, or delete the object in the console and remove the entry",
                        excerpt(&d.id)
                    )));
                }
            }
        }
        // The schema is looked up once per object, not once per attribute.
        let schema = self.kind().map(|k| k.schema());
        for (name, v) in &self.attributes {
            // The location is written only for an error (formatting it for every attribute was
            // a third of a large state's load).
            if !value_ok(v) {
                let mut location = format!("{address} attribute {name}");
                check_value(v, &mut location)?;
            }
            let sensitive = schema
                .and_then(|s| s.attr(name))
                .is_some_and(|a| a.sensitive);
            if sensitive && as_digest_marker(v).is_none() {
                return Err(WriteError::SensitiveInClear {
                    location: format!("{address} attribute {name}"),
                });
            }
            if self.secret_digests.contains_key(name.as_str()) {
                return Err(inconsistent(format!(
                    "attribute {name} is both in clear and in secret_digests"
                )));
            }
        }
        Ok(())
    }
}

impl OutputState {
    /// An output ready to store: a sensitive output becomes a digest marker (reusing `previous`'s when
    /// the value did not change); sensitive parts of other outputs become markers.
    pub fn new(value: &Value, sensitive: bool, previous: Option<&OutputState>) -> OutputState {
        let prev = previous.map(|p| &p.value);
        let value = if sensitive {
            if value.is_null() {
                Value::Null
            } else {
                mask_sensitive_reusing(&Value::sensitive(value.clone()), prev)
            }
        } else if value.contains_sensitive() {
            mask_sensitive_reusing(value, prev)
        } else {
            value.clone()
        };
        OutputState { sensitive, value }
    }
}

/// Whether [`check_value`] accepts `v` (without building locations).
fn value_ok(v: &Value) -> bool {
    match v {
        Value::Unknown | Value::Sensitive(_) => false,
        Value::List(items) => items.iter().all(value_ok),
        Value::Map(m) => {
            if m.len() == 1 {
                if let Some(key) = m.keys().next() {
                    if key == UNKNOWN_SENTINEL
                        || key == SENSITIVE_SENTINEL
                        || (key == SENSITIVE_DIGEST_KEY && as_digest_marker(v).is_none())
                    {
                        return false;
                    }
                }
            }
            m.values().all(value_ok)
        }
        _ => true,
    }
}

/// Rejects unknown values, sensitive values in clear and maps that would read back as a marker.
fn check_value(v: &Value, location: &mut String) -> Result<(), WriteError> {
    match v {
        Value::Unknown => Err(WriteError::Unknown {
            location: location.clone(),
        }),
        Value::Sensitive(_) => Err(WriteError::SensitiveInClear {
            location: location.clone(),
        }),
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = location.len();
                let _ = write!(location, "[{i}]");
                check_value(item, location)?;
                location.truncate(len);
            }
            Ok(())
        }
        Value::Map(m) => {
            if m.len() == 1 {
                if let Some(key) = m.keys().next() {
                    if key == UNKNOWN_SENTINEL || key == SENSITIVE_SENTINEL {
                        return Err(WriteError::ReservedKey {
                            location: location.clone(),
                            key: key.to_string(),
                        });
                    }
                    if key == SENSITIVE_DIGEST_KEY && as_digest_marker(v).is_none() {
                        return Err(WriteError::ReservedKey {
                            location: location.clone(),
                            key: key.to_string(),
                        });
                    }
                }
            }
            for (k, item) in m {
                let len = location.len();
                let _ = write!(location, ".{k}");
                check_value(item, location)?;
                location.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    /// Absent until recorded, so a state without it is written as before.
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud: Option<&'a Cloud>,
    format: &'a str,
    lineage: &'a str,
    outputs: &'a BTreeMap<String, OutputState>,
    resources: BTreeMap<String, &'a ResourceState>,
    serial: u64,
    tunnelform_version: &'a str,
    version: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeIn {
    /// Absent from files written before states recorded their cloud.
    #[serde(default)]
    cloud: Option<Cloud>,
    format: String,
    lineage: String,
    outputs: BTreeMap<String, OutputState>,
    resources: BTreeMap<String, ResourceState>,
    serial: u64,
    tunnelform_version: String,
    version: u32,
}

fn classify(e: &serde_json::Error, structural: bool) -> ParseError {
    let (line, column) = (e.line(), e.column());
    let message = strip_position(&e.to_string());
    match e.classify() {
        serde_json::error::Category::Eof => ParseError::Truncated { line, column },
        serde_json::error::Category::Data if structural => ParseError::Malformed {
            line,
            column,
            message,
        },
        _ => ParseError::Syntax {
            line,
            column,
            message,
        },
    }
}

/// serde_json appends " at line L column C"; the errors here say that themselves.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// At most 80 characters of untrusted text, for error messages.
pub(crate) fn excerpt(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Created => "created",
            Origin::Imported => "imported",
            Origin::Migrated => "migrated",
            Origin::Adopted => "adopted",
        })
    }
}

#[cfg(test)]
mod value_check_tests {
    use super::*;

    #[test]
    fn the_fast_check_accepts_exactly_what_check_value_accepts() {
        let marker = mask_sensitive_reusing(&Value::sensitive(Value::from("k3y")), None);
        let one = |k: &str, v: Value| Value::Map(Map::from([(k.to_string(), v)]));
        let values = vec![
            Value::Null,
            Value::from("plain"),
            Value::int(3),
            Value::Bool(true),
            Value::Unknown,
            Value::sensitive(Value::from("clear")),
            marker.clone(),
            Value::List(vec![Value::from("a"), marker.clone()]),
            Value::List(vec![Value::from("a"), Value::Unknown]),
            one("name", Value::from("x")),
            one("nested", Value::List(vec![one("deep", Value::Unknown)])),
            one("nested", Value::List(vec![one("deep", Value::from("ok"))])),
            one(UNKNOWN_SENTINEL, Value::Bool(true)),
            one(SENSITIVE_SENTINEL, Value::from("x")),
            one(SENSITIVE_DIGEST_KEY, Value::from("not a digest")),
            Value::Map(Map::from([
                (UNKNOWN_SENTINEL.to_string(), Value::Bool(true)),
                ("other".to_string(), Value::Null),
            ])),
            one("tags", one("team", Value::from("network"))),
        ];
        for v in &values {
            let mut location = String::from("x");
            assert_eq!(value_ok(v), check_value(v, &mut location).is_ok(), "{v:?}");
        }
        // Both answers occur.
        assert!(values.iter().any(value_ok));
        assert!(!values.iter().all(value_ok));
    }
}
