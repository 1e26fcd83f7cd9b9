//! The server's shared state: the database, the master key, the session policy, the login
//! limiter, backup storage, the throughput buckets and query gate shared by the data plane and
//! the portal's explorer, and the audit log's burst counter. The `server` crate builds one at
//! start-up (its composition root) and hands it to the portal, the data plane and the workers;
//! nothing here depends on who calls.

use sea_orm::DatabaseConnection;
use std::sync::Arc;

use crate::audit_bursts::Bursts;
use crate::crypto::MasterKey;
use crate::login_limiter::LoginLimiter;
pub use crate::session::SessionPolicy;

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
    /// The keys that wrap backup data keys: the service-managed key (from the master key) and
    /// the customer-managed ones in the configured directory.
    pub backup_keys: backup::keys::KeyWrapKey,
    /// Provisioned throughput, spent alike by the data plane and the portal's explorer.
    pub throttle: Arc<engine::throughput::Throttle>,
    /// Bounds on query work (see `engine::query::gate`).
    pub queries: Arc<engine::query::QueryGate>,
    /// Repeated failures audited as counted rows (see `audit_bursts`).
    pub audit_bursts: Arc<Bursts>,
}

impl AppState {
    /// What the control plane's operations work with.
    pub fn ctx(&self) -> crate::Ctx<'_> {
        crate::Ctx {
            db: &self.db,
            backup_storage: &self.backup_storage,
            master_key: &self.master_key,
            backup_keys: &self.backup_keys,
            public_url: &self.public_url,
        }
    }
}
