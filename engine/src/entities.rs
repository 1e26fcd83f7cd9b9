//! Rows of the data plane's tables.

pub mod change;
pub mod container;
pub mod database;
pub mod item;
pub mod sequence;
