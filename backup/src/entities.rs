//! The backup tables (migrations `m20261125_000004_backup`, `m20261125_000007_resource_events`).

pub mod backup_event;
pub mod backup_key;
pub mod backup_segment;
pub mod backup_snapshot;
pub mod backup_state;
pub mod restore_job;
