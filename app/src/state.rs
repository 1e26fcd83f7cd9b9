//! The server's state as the portal's server functions reach it: provided by the server as
//! Leptos context for each request (the state itself is `control::state`).

pub use control::state::{AppState, SessionPolicy};

use crate::error::AppError;

/// The state provided by the server for this request.
///
/// # Errors
/// [`AppError::Internal`] if called outside a request the server set up (a wiring bug).
pub fn current() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AppError::Internal
    })
}
