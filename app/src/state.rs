//! What every server function and page render on the server can reach: the database, the master
//! key, the session policy, the login limiter, the throughput buckets and query gate shared with
//! the data plane, and the audit log's burst counter. The `server` crate builds one at start-up
//! and provides it as Leptos context.

use sea_orm::DatabaseConnection;
use std::sync::Arc;

use crate::error::AppError;
use control::audit_bursts::Bursts;
use control::crypto::MasterKey;
use control::login_limiter::LoginLimiter;
pub use control::session::SessionPolicy;

/// Shared server state, cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub master_key: Arc<MasterKey>,
    pub sessions: SessionPolicy,
    pub limiter: Arc<LoginLimiter>,
    /// The portal's external base URL, e.g. `http://127.0.0.1:3000` (no trailing slash).
    pub public_url: String,
    /// Where backups are kept.
    pub backup_storage: backup::storage::BackupStorage,
    /// Provisioned throughput, spent alike by the data plane and the portal's explorer.
    pub throttle: Arc<engine::throughput::Throttle>,
    /// Bounds on query work (see `engine::query::gate`).
    pub queries: Arc<engine::query::QueryGate>,
    /// Repeated failures audited as counted rows (see `audit::Bursts`).
    pub audit_bursts: Arc<Bursts>,
}

impl AppState {
    /// What the control plane's operations work with.
    pub fn ctx(&self) -> control::Ctx<'_> {
        control::Ctx { db: &self.db, backup_storage: &self.backup_storage, master_key: &self.master_key, public_url: &self.public_url }
    }

    /// The state provided by the server for this request.
    ///
    /// # Errors
    /// [`AppError::Internal`] if called outside a request the server set up (a wiring bug).
    pub fn current() -> Result<Self, AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the Leptos context");
            AppError::Internal
        })
    }
}
