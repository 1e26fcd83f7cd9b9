//! The backup tables (migrations `m20261125_000004_backup`, `m20261125_000007_resource_events`,
//! `m20261126_000008_snapshot_chunks`, `m20261126_000012_backup_points`, `m20261127_000013_catalog_in_storage`,
//! `m20261127_000014_backup_verifications`, `m20261127_000017_backup_usage`).

pub mod backup_event;
pub mod backup_journal;
pub mod backup_key;
pub mod backup_point;
pub mod backup_segment;
pub mod backup_snapshot;
pub mod backup_snapshot_chunk;
pub mod backup_state;
pub mod backup_usage;
pub mod backup_verification;
pub mod job_lease;
pub mod restore_job;
