//! The Rewind server: configuration, start-up, and the HTTP layers around the portal (CSRF
//! protection, the sign-in guard for pages). The portal itself and its server functions live in
//! the `app` crate.

pub mod audit_export;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod csrf;
pub mod dataplane;
pub mod page_guard;
pub mod rest;
pub mod startup;
pub mod telemetry;
pub mod workers;

pub use config::Settings;
pub use startup::Application;
