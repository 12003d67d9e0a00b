//! The journal of operations sent to the cloud: crash safety between the state's saves.
//!
//! `<state>.journal` is an append-only file of JSON lines. Its first line is a header
//! (`{"format":"tunnelform-journal","version":1}`); each further line is one [`Record`]:
//!
//! 1. before a write to the cloud, an [`Intent`] (operation id, address, action, kind, region);
//! 2. after the API answered, a [`Sent`] (request id, and the resource id and task id if any);
//! 3. after the task finished, an [`Outcome`] (ok, or failed with the error code and message).
//!
//! Every append is fsynced before it returns, so after a crash the journal says which operations
//! may have reached the cloud without their result being in the state: [`Journal::unfinished`]. Once
//! the state has recorded the outcomes, [`Journal::clear`] (or [`Journal::compact`]) empties it.
//!
//! A crash in the middle of an append leaves a partial last line; it is ignored (with a warning) and
//! cut off. Any other damage is a [`JournalError::Corrupt`] error, because silently skipping a record
//! could lose track of a created object.
//!
//! Records hold no attribute values (no [`tunnelform_model::Value`] at all), so the journal cannot
//! hold a pre-shared key. The free-text fields (`message`, ids) come from the API: callers must not
//! put secrets in them.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tunnelform_kinds::ResourceKind;
use tunnelform_model::Address;

use crate::fsutil;
use crate::state::excerpt;
use crate::timestamp::Timestamp;

/// The `format` of the journal's header line.
pub const JOURNAL_FORMAT: &str = "tunnelform-journal";
/// The journal format version this crate writes and reads.
pub const JOURNAL_VERSION: u32 = 1;

/// Identifies one operation across its records (a UUID).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpId(pub String);

impl OpId {
    pub fn new() -> OpId {
        OpId(uuid::Uuid::new_v4().to_string())
    }
}

impl Default for OpId {
    fn default() -> Self {
        OpId::new()
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an operation does to the object at its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JournalAction {
    Create,
    Update,
    Delete,
    /// The create half of a replacement.
    ReplaceCreate,
    /// The delete half of a replacement.
    ReplaceDelete,
    /// A change of tags through the tag service.
    Tag,
}

/// About to send a write to the cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    pub op_id: OpId,
    pub address: Address,
    pub action: JournalAction,
    #[serde(with = "kind_name")]
    pub kind: ResourceKind,
    pub region: String,
    pub at: Timestamp,
}

/// The API accepted the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sent {
    pub op_id: OpId,
    pub request_id: String,
    /// The object's id, when known (always after a create's response).
    pub resource_id: Option<String>,
    /// The asynchronous task to wait on, if the action has one.
    pub task_id: Option<String>,
    pub at: Timestamp,
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
pub enum OpResult {
    Ok,
    Failed { code: String, message: String },
}

/// The operation finished (its task succeeded or failed, or the API refused the request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub op_id: OpId,
    pub result: OpResult,
    pub at: Timestamp,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    Intent(Intent),
    Sent(Sent),
    Outcome(Outcome),
}

impl Record {
    pub fn op_id(&self) -> &OpId {
        match self {
            Record::Intent(r) => &r.op_id,
            Record::Sent(r) => &r.op_id,
            Record::Outcome(r) => &r.op_id,
        }
    }
}

impl Intent {
    /// An intent stamped now, with a fresh operation id.
    pub fn new(
        address: Address,
        action: JournalAction,
        kind: ResourceKind,
        region: impl Into<String>,
    ) -> Intent {
        Intent {
            op_id: OpId::new(),
            address,
            action,
            kind,
            region: region.into(),
            at: Timestamp::now(),
        }
    }
}

/// An operation with an intent and no outcome: it may or may not have reached the cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnfinishedOp {
    pub intent: Intent,
    /// The responses received, oldest first (empty when the request may not have been sent).
    pub sent: Vec<Sent>,
}

impl UnfinishedOp {
    /// The latest resource id reported for the operation.
    pub fn resource_id(&self) -> Option<&str> {
        self.sent
            .iter()
            .rev()
            .find_map(|s| s.resource_id.as_deref())
    }

    /// The latest task id reported for the operation.
    pub fn task_id(&self) -> Option<&str> {
        self.sent.iter().rev().find_map(|s| s.task_id.as_deref())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot {op} the journal {}: {cause}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        cause: io::Error,
    },

    #[error("the journal {} is damaged at line {line}: {detail}. It lists cloud operations whose results may not be in the state yet, so tunnelform will not guess: keep a copy of it, check the objects it names in the console or with `tunnelform plan`, then move it aside", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        detail: String,
    },

    #[error("the journal {} has format version {found}, newer than this tunnelform reads ({JOURNAL_VERSION}); upgrade tunnelform", path.display())]
    FutureVersion { path: PathBuf, found: u64 },

    #[error("journal record for operation {op_id} has no intent before it")]
    UnknownOp { op_id: OpId },

    #[error("operation {op_id} already has an intent in the journal")]
    DuplicateIntent { op_id: OpId },

    #[error("operation {op_id} already has an outcome in the journal")]
    AlreadyFinished { op_id: OpId },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u64,
}

/// The journal beside a state file.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// Open for appending once the file exists with its header.
    file: Option<File>,
    records: Vec<Record>,
    /// Each operation seen and whether its outcome is recorded (so an append checks in O(1)).
    ops: std::collections::HashMap<OpId, bool>,
    warnings: Vec<String>,
    /// Kept in memory only (a journal another backend stores): appends and rewrites touch no file.
    detached: bool,
}

fn index_ops(records: &[Record]) -> std::collections::HashMap<OpId, bool> {
    let mut ops = std::collections::HashMap::new();
    for r in records {
        let finished = ops.entry(r.op_id().clone()).or_insert(false);
        if let Record::Outcome(_) = r {
            *finished = true;
        }
    }
    ops
}

impl Journal {
    /// Opens (without creating) `<state_path>.journal` and reads its records. A partial last line left
    /// by a crash is cut off, with a warning in [`Journal::warnings`].
    pub fn open(state_path: &Path) -> Result<Journal, JournalError> {
        Journal::open_at(fsutil::journal_path(state_path))
    }

    /// Opens a journal file by its own path.
    pub fn open_at(path: impl Into<PathBuf>) -> Result<Journal, JournalError> {
        let path = path.into();
        let mut journal = Journal {
            path,
            file: None,
            records: Vec::new(),
            ops: Default::default(),
            warnings: Vec::new(),
            detached: false,
        };
        let bytes = match fs::read(&journal.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(journal),
            Err(e) => return Err(journal.io("read")(e)),
        };
        let parsed = parse(&journal.path, &bytes)?;
        journal.records = parsed.records;
        journal.ops = index_ops(&journal.records);
        let mut file = OpenOptions::new()
            .append(true)
            .open(&journal.path)
            .map_err(journal.io("open"))?;
        if let Some(tail) = parsed.torn_tail {
            let warning = format!(
                "the journal {} ended with a partial record (a crash during a write); ignored {} byte(s)",
                journal.path.display(),
                tail
            );
            tracing::warn!("{warning}");
            journal.warnings.push(warning);
            file.set_len(parsed.good_len as u64)
                .map_err(journal.io("truncate"))?;
            file.sync_all().map_err(journal.io("fsync"))?;
        } else if parsed.needs_newline {
            file.write_all(b"\n").map_err(journal.io("write"))?;
            file.sync_data().map_err(journal.io("fsync"))?;
        }
        if parsed.has_header {
            journal.file = Some(file);
        } else if parsed.good_len > 0 {
            // Only blank lines: start again from an empty file so the header comes first.
            file.set_len(0).map_err(journal.io("truncate"))?;
        }
        let mut started = std::collections::BTreeSet::new();
        for r in &journal.records {
            match r {
                Record::Intent(i) => {
                    started.insert(i.op_id.clone());
                }
                other if !started.contains(other.op_id()) => {
                    let warning = format!(
                        "the journal {} has a record for operation {} without its intent; it is ignored",
                        journal.path.display(),
                        other.op_id()
                    );
                    tracing::warn!("{warning}");
                    journal.warnings.push(warning);
                }
                _ => {}
            }
        }
        Ok(journal)
    }

    /// A journal held in memory, with `records` (in the order written), named `label` in messages:
    /// for a backend that stores the records itself. Appends check the sequence as usual and
    /// nothing is written anywhere.
    pub fn detached(label: impl Into<PathBuf>, records: Vec<Record>) -> Journal {
        Journal {
            path: label.into(),
            file: None,
            ops: index_ops(&records),
            records,
            warnings: Vec::new(),
            detached: true,
        }
    }

    fn io(&self, op: &'static str) -> impl FnOnce(io::Error) -> JournalError + '_ {
        move |cause| JournalError::Io {
            op,
            path: self.path.clone(),
            cause,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Warnings from opening (a partial last line that was dropped).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Every record, in the order written.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Appends `record` and makes it durable (fsync) before returning. A `Sent` or `Outcome` must
    /// follow its operation's `Intent`, and nothing may follow an `Outcome`.
    pub fn append(&mut self, record: &Record) -> Result<(), JournalError> {
        self.check_sequence(record)?;
        if !self.detached {
            let mut line = serde_json::to_vec(record).unwrap_or_default();
            line.push(b'\n');
            self.write_durably(&line)?;
        }
        self.note(record);
        Ok(())
    }

    /// Appends `bytes` (whole lines) to the file and makes them durable (fsync); on an error the
    /// file is cut back to where it was, so no partial line is left for the next append.
    fn write_durably(&mut self, bytes: &[u8]) -> Result<(), JournalError> {
        let path = self.path.clone();
        let file = self.writable()?;
        let before = file.metadata().map(|m| m.len()).ok();
        if let Err(cause) = file.write_all(bytes).and_then(|()| file.sync_data()) {
            if let Some(len) = before {
                let _ = file.set_len(len);
            }
            return Err(JournalError::Io {
                op: "append to",
                path,
                cause,
            });
        }
        Ok(())
    }

    /// Takes an appended record into the records read so far.
    fn note(&mut self, record: &Record) {
        let finished = self.ops.entry(record.op_id().clone()).or_insert(false);
        if let Record::Outcome(_) = record {
            *finished = true;
        }
        self.records.push(record.clone());
    }

    /// Appends `records` in order and makes them durable with one fsync: all of them or, on an
    /// error, none. Each must be allowed to follow the ones before it, as with [`Journal::append`].
    pub fn append_all(&mut self, records: &[Record]) -> Result<(), JournalError> {
        match records {
            [] => return Ok(()),
            [one] => return self.append(one),
            _ => {}
        }
        // The sequence is checked as if the records were appended one by one.
        let mut seen: std::collections::HashMap<&OpId, bool> = std::collections::HashMap::new();
        for record in records {
            let op = record.op_id();
            let finished = match seen.get(op) {
                Some(&f) => Some(f),
                None => self.ops.get(op).copied(),
            };
            if finished == Some(true) {
                return Err(JournalError::AlreadyFinished { op_id: op.clone() });
            }
            match (record, finished.is_some()) {
                (Record::Intent(_), true) => {
                    return Err(JournalError::DuplicateIntent { op_id: op.clone() })
                }
                (Record::Sent(_) | Record::Outcome(_), false) => {
                    return Err(JournalError::UnknownOp { op_id: op.clone() })
                }
                _ => {}
            }
            seen.insert(op, matches!(record, Record::Outcome(_)));
        }
        if !self.detached {
            let mut lines = Vec::new();
            for record in records {
                lines.extend(serde_json::to_vec(record).unwrap_or_default());
                lines.push(b'\n');
            }
            self.write_durably(&lines)?;
        }
        for record in records {
            self.note(record);
        }
        Ok(())
    }

    /// Checks that `record` may follow the records so far (an intent first, nothing after an
    /// outcome), without appending it.
    pub fn check_sequence(&self, record: &Record) -> Result<(), JournalError> {
        let op = record.op_id();
        let seen = self.ops.get(op).copied();
        if seen == Some(true) {
            return Err(JournalError::AlreadyFinished { op_id: op.clone() });
        }
        match (record, seen.is_some()) {
            (Record::Intent(_), true) => Err(JournalError::DuplicateIntent { op_id: op.clone() }),
            (Record::Sent(_) | Record::Outcome(_), false) => {
                Err(JournalError::UnknownOp { op_id: op.clone() })
            }
            _ => Ok(()),
        }
    }

    /// The append handle, creating the file (with its header, durably) on first use.
    fn writable(&mut self) -> Result<&mut File, JournalError> {
        if self.file.is_none() {
            let dir = fsutil::parent_dir(&self.path);
            fs::create_dir_all(&dir).map_err(self.io("create the directory of"))?;
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(self.io("create"))?;
            let len = f.metadata().map_err(self.io("inspect"))?.len();
            if len == 0 {
                f.write_all(&header_line()).map_err(self.io("write"))?;
                f.sync_all().map_err(self.io("fsync"))?;
                fsutil::sync_dir(&dir).map_err(|e| JournalError::Io {
                    op: e.op,
                    path: e.path,
                    cause: e.cause,
                })?;
            }
            self.file = Some(f);
        }
        match self.file.as_mut() {
            Some(f) => Ok(f),
            None => Err(JournalError::Io {
                op: "open",
                path: self.path.clone(),
                cause: io::Error::other("no handle"),
            }),
        }
    }

    /// Operations with an intent and no outcome, in the order they were started, with what the API
    /// answered for each.
    pub fn unfinished(&self) -> Vec<UnfinishedOp> {
        let mut order: Vec<OpId> = Vec::new();
        let mut ops: BTreeMap<OpId, UnfinishedOp> = BTreeMap::new();
        for r in &self.records {
            match r {
                Record::Intent(i) => {
                    order.push(i.op_id.clone());
                    ops.insert(
                        i.op_id.clone(),
                        UnfinishedOp {
                            intent: i.clone(),
                            sent: Vec::new(),
                        },
                    );
                }
                Record::Sent(s) => {
                    if let Some(op) = ops.get_mut(&s.op_id) {
                        op.sent.push(s.clone());
                    }
                }
                Record::Outcome(o) => {
                    ops.remove(&o.op_id);
                }
            }
        }
        order.into_iter().filter_map(|id| ops.remove(&id)).collect()
    }

    /// Empties the journal (atomically). Call it once the state records the outcome of every
    /// operation in it.
    pub fn clear(&mut self) -> Result<(), JournalError> {
        self.rewrite(Vec::new())
    }

    /// Drops the records of finished operations, keeping those of unfinished ones (atomically).
    /// Records that come before their operation's intent (ignored, with a warning, when the journal
    /// is opened) are dropped too, so the warning does not outlive the compaction.
    pub fn compact(&mut self) -> Result<(), JournalError> {
        let unfinished: std::collections::HashSet<OpId> = self
            .unfinished()
            .into_iter()
            .map(|u| u.intent.op_id)
            .collect();
        let mut started = std::collections::HashSet::new();
        let mut keep = Vec::new();
        for r in &self.records {
            if !unfinished.contains(r.op_id()) {
                continue;
            }
            match r {
                Record::Intent(i) => {
                    started.insert(i.op_id.clone());
                }
                other if !started.contains(other.op_id()) => continue,
                _ => {}
            }
            keep.push(r.clone());
        }
        self.rewrite(keep)
    }

    fn rewrite(&mut self, records: Vec<Record>) -> Result<(), JournalError> {
        if self.detached {
            self.ops = index_ops(&records);
            self.records = records;
            return Ok(());
        }
        if self.file.is_none() && records.is_empty() && !self.path.exists() {
            self.records.clear();
            self.ops.clear();
            return Ok(());
        }
        let mut bytes = header_line();
        for r in &records {
            bytes.extend(serde_json::to_vec(r).unwrap_or_default());
            bytes.push(b'\n');
        }
        fsutil::write_atomic(&self.path, &bytes).map_err(|e| JournalError::Io {
            op: e.op,
            path: e.path,
            cause: e.cause,
        })?;
        let file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(self.io("open"))?;
        self.file = Some(file);
        self.ops = index_ops(&records);
        self.records = records;
        Ok(())
    }
}

fn header_line() -> Vec<u8> {
    let mut h = serde_json::to_vec(&Header {
        format: JOURNAL_FORMAT.to_string(),
        version: u64::from(JOURNAL_VERSION),
    })
    .unwrap_or_default();
    h.push(b'\n');
    h
}

struct Parsed {
    records: Vec<Record>,
    has_header: bool,
    /// Bytes of a torn last line, if any.
    torn_tail: Option<usize>,
    good_len: usize,
    needs_newline: bool,
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Parsed, JournalError> {
    let corrupt = |line: usize, detail: String| JournalError::Corrupt {
        path: path.to_path_buf(),
        line,
        detail,
    };
    let mut out = Parsed {
        records: Vec::new(),
        has_header: false,
        torn_tail: None,
        good_len: 0,
        needs_newline: false,
    };
    let mut offset = 0;
    let mut line_no = 0;
    while offset < bytes.len() {
        line_no += 1;
        let (line, complete) = match bytes[offset..].iter().position(|b| *b == b'\n') {
            Some(i) => (&bytes[offset..offset + i], true),
            None => (&bytes[offset..], false),
        };
        let next = offset + line.len() + usize::from(complete);
        let text = std::str::from_utf8(line).ok();
        let parsed: Result<Option<Record>, String> = match text {
            None => Err("it is not UTF-8 text".to_string()),
            Some(t) if t.trim().is_empty() => Ok(None),
            Some(t) if !out.has_header => parse_header(t).map(|()| None),
            Some(t) => serde_json::from_str::<Record>(t)
                .map(Some)
                .map_err(|e| e.to_string()),
        };
        match parsed {
            Ok(record) => {
                if text.is_some_and(|t| !t.trim().is_empty()) && !out.has_header {
                    out.has_header = true;
                }
                if let Some(r) = record {
                    out.records.push(r);
                }
                out.good_len = next;
                out.needs_newline = !complete;
            }
            Err(detail) => {
                if !complete {
                    // A partial last line: a crash in the middle of an append.
                    out.torn_tail = Some(line.len());
                    break;
                }
                if let Some(t) = text {
                    if out.has_header {
                        return Err(corrupt(line_no, format!("{detail} in {:?}", excerpt(t))));
                    }
                    if let Some(found) = future_version(t) {
                        return Err(JournalError::FutureVersion {
                            path: path.to_path_buf(),
                            found,
                        });
                    }
                }
                return Err(corrupt(line_no, detail));
            }
        }
        offset = next;
    }
    if out.needs_newline && !out.has_header {
        out.needs_newline = false;
    }
    Ok(out)
}

fn parse_header(t: &str) -> Result<(), String> {
    let h: Header = serde_json::from_str(t)
        .map_err(|e| format!("the first line is not a journal header ({e})"))?;
    if h.format != JOURNAL_FORMAT {
        return Err(format!(
            "the first line names format {:?}, not {JOURNAL_FORMAT:?}",
            excerpt(&h.format)
        ));
    }
    if h.version != u64::from(JOURNAL_VERSION) {
        return Err(format!("unsupported journal version {}", h.version));
    }
    Ok(())
}

fn future_version(t: &str) -> Option<u64> {
    let h: Header = serde_json::from_str(t).ok()?;
    (h.format == JOURNAL_FORMAT && h.version > u64::from(JOURNAL_VERSION)).then_some(h.version)
}

mod kind_name {
    use super::*;

    pub fn serialize<S: Serializer>(kind: &ResourceKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(kind.type_name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ResourceKind, D::Error> {
        let s = String::deserialize(d)?;
        ResourceKind::from_type_name(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown resource type {:?}", excerpt(&s)))
        })
    }
}
