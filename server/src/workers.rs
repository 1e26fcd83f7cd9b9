//! Background workers: each a loop around one testable step, stopped by the shutdown token.

pub mod ttl_purge;
