//! The Cosmos DB for NoSQL REST API on each account's endpoint, `/cosmos/<account>/…`, so the
//! official SDKs work against Rewind. Requests are authorized by master-key signatures
//! ([`auth`]), routed by resource path ([`path`]), and answered in Cosmos DB's shapes
//! ([`reply`]) from the engine's store.

mod audit;
mod auth;
mod handlers;
mod operation;
mod path;
mod reply;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::any;

use control::state::AppState;

/// What data-plane handlers share: the application state (whose throughput buckets the portal's
/// explorer draws on too).
#[derive(Clone)]
pub struct DataPlane {
    pub app: AppState,
}

/// Requests may carry an item of up to 2 MB plus protocol overhead; bigger bodies are refused
/// before they are read. (The engine answers 413 for items over 2 MB that fit in this.)
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The data-plane routes, ready to merge into a router of any state.
pub fn router<S: Clone + Send + Sync + 'static>(state: AppState) -> Router<S> {
    Router::new()
        .route("/cosmos/{account}", any(handlers::handle_root))
        .route("/cosmos/{account}/", any(handlers::handle_root))
        .route("/cosmos/{account}/{*rest}", any(handlers::handle))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(DataPlane { app: state })
}
