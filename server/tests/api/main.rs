//! Integration tests: the real server on port 0 with a fresh database, driven over HTTP.
//! Every test runs twice, against SQLite (module `sqlite`) and PostgreSQL (module `postgres`).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod helpers;

mod access;
mod accounts;
mod audit;
mod auth;
mod authz_matrix;
mod backup_page;
mod bootstrap;
mod cli;
mod cosmos;
mod csrf;
mod customer_keys;
mod hostile;
mod migration;
mod object_stores;
mod rate_limit;
mod recover;
mod replicas;
mod rest;
mod restore;
mod subscriptions;
mod users;
