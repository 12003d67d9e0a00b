//! tunnelform's state (layer 3): what tunnelform knows it manages, kept safe on disk.
//!
//! - [`State`]: the versioned envelope (format version, serial, lineage, resources by address,
//!   outputs), read by version first and written in a canonical order ([`state`]).
//! - [`SecretDigest`] and masking: no secret is ever written in clear ([`secret`], with the threat
//!   note).
//! - [`StateFile`]: atomic saves (temp file, fsync, rename, fsync of the directory) with the previous
//!   version kept as `<path>.backup`; unreadable files are never overwritten.
//! - [`StateLock`]: one writer at a time, through an OS lock that dies with its process.
//! - [`StateBackend`]: where a state lives ([`LocalBackend`]: the files above; PostgreSQL in the
//!   `tunnelform-state-pg` crate), read, written, journaled and locked through one interface.
//! - [`Journal`]: the append-only record of cloud operations in flight, for crash recovery.
//! - [`migrate_terraform`]: a Terraform v4 state of the Tencent Cloud provider to a tunnelform state.
//!
//! Nothing here prints or talks to the network; logs go through `tracing`.

pub mod backend;
pub mod deps;
pub mod file;
mod fsutil;
pub mod journal;
pub mod lock;
pub mod migrate;
pub mod moves;
pub mod peek;
pub mod secret;
pub mod state;
pub mod timestamp;

pub use backend::{
    check_replace, BackendError, BoxFuture, HeldLock, LocalBackend, OnWait, ReplaceError,
    StateBackend,
};
pub use deps::AddressSet;
pub use file::{StateError, StateFile};
pub use fsutil::{backup_path, journal_path, lock_path};
pub use journal::{
    Intent, Journal, JournalAction, JournalError, OpId, OpResult, Outcome, Record, Sent,
    UnfinishedOp,
};
pub use lock::{
    current_who, force_unlock, lock_holder, LockError, LockInfo, LockRecord, StateLock,
};
pub use migrate::{
    migrate_terraform, migrate_terraform_with, MigrateError, MigrateOptions, MigrateWarning,
};
pub use moves::{apply_renames, plan_move, MoveError};
pub use secret::{
    as_digest_marker, digest_marker, mask_sensitive, mask_sensitive_reusing, Digests, SecretDigest,
};
pub use state::{
    AttributeError, Cloud, DeposedObject, IdentityMismatch, Origin, OutputState, ParseError,
    ResourceState, State, StateIdentity, WriteError, STATE_FORMAT, STATE_FORMAT_VERSION,
    TUNNELFORM_VERSION,
};
pub use timestamp::Timestamp;
