//! Rewind's control plane, server-only and free of Leptos: the database rows, the service master
//! key, the audit ledger, sessions, authorization (the one [`authz::Caller::authorize`]), account
//! keys and the life of a restore. The portal's server functions
//! and the server's workers call into it; nothing here knows about pages or requests.

pub mod access;
pub mod account_keys;
pub mod account_names;
pub mod accounts;
pub mod api_tokens;
pub mod audit;
pub mod audit_bursts;
pub mod audit_log;
pub mod authz;
pub mod backup_catalog;
pub mod backup_status;
pub mod crypto;
pub mod db;
pub mod explorer;
pub mod login_limiter;
pub mod new_account;
pub mod password;
pub mod restore;
pub mod retention;
pub mod session;
pub mod sign_in;
pub mod state;
pub mod subscriptions;
pub mod tokens;
pub mod users;
pub mod verification;

pub use ctx::Ctx;

mod ctx;
