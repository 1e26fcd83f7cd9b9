//! Database rows (sea-orm entities). Server-only: rows never travel to the browser; each feature
//! module turns them into its own wire types.

pub mod account;
pub mod api_token;
pub mod audit_entry;
pub mod login_failure;
pub mod role;
pub mod role_assignment;
pub mod session;
pub mod subscription;
pub mod user;
