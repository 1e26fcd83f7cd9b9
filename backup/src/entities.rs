//! The backup tables (migration `m20261125_000004_backup`).

pub mod backup_key;
pub mod backup_segment;
pub mod backup_snapshot;
pub mod backup_state;
pub mod restore_job;
