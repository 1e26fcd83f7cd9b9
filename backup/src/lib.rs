//! Rewind's continuous backup and point-in-time restore (SPEC §3a, §4).
//!
//! - [`ship`] moves each account's change log into backup storage as sealed [`segment`]s, each
//!   named in a hash-chained manifest, and tracks the latest restorable time;
//! - [`catalog`] records each account's database and container events as they are shipped, so
//!   the restore page reads them without decrypting the log;
//! - [`keys`] holds the envelope encryption (a data key per account, wrapped);
//! - [`periodic`] takes periodic-mode full backups from a consistent read of the live account;
//! - [`storage`] is the create-only object store the segments live in;
//! - [`snapshot`] takes base snapshots from the backup itself, so a restore replays a bounded
//!   tail of log; [`chunk`] is their format (and periodic backups'): sorted, size-bounded chunks;
//! - [`replay`] streams an account as it was at any instant from backup storage alone;
//! - [`lease`] lets one replica at a time run a named background job;
//! - [`restore`] chooses what to bring back and writes it into the target account;
//! - [`journal`] keeps the catalog (keys, snapshots, restore points, the account) in backup
//!   storage too, and [`recover`] rebuilds it from there when the service database is lost;
//! - [`verify`] checks that every object the catalog names is in every store, whole and right;
//! - [`retention`] is the one code that deletes backup objects, once no restore point needs them.
//!
//! Scheduling (which account to ship when, which job to run) belongs to the server's workers.

pub mod catalog;
pub mod chunk;
mod cpu;
pub mod entities;
pub mod error;
pub mod journal;
pub mod keys;
pub mod lease;
pub mod migrate;
pub mod pace;
pub mod periodic;
pub mod recover;
pub mod replay;
pub mod restore;
pub mod retention;
pub mod segment;
pub mod ship;
pub mod snapshot;
pub mod storage;
pub mod usage;
pub mod verify;

pub use error::BackupError;
