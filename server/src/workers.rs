//! Background workers: each a loop around one testable step, stopped by the shutdown token.

pub mod audit_bursts;
pub mod backup_shipper;
pub mod catalog_exporter;
pub mod periodic_backup;
pub mod restore_runner;
pub mod retention;
pub mod snapshotter;
pub mod ttl_purge;
pub mod verifier;
