//! Rewind's data engine: the databases, containers and items of every account, stored through
//! sea-orm on SQLite or PostgreSQL, with every change appended to the account's change log in the
//! same transaction; and the Cosmos DB master-key request signature.
//!
//! The engine knows nothing of HTTP or the portal: the server's REST data plane and the portal's
//! data explorer both call [`store`].

pub mod activity;
mod bulk;
pub mod changelog;
pub mod entities;
pub mod error;
pub mod limits;
pub mod patch;
pub mod query;
pub mod scan;
pub mod signature;
pub mod store;
pub mod throughput;

pub use error::EngineError;
