//! Database rows (sea-orm entities). Server-only: rows never travel to the browser; each feature
//! module turns them into its own wire types.

pub mod account;
pub mod session;
pub mod subscription;
pub mod user;
