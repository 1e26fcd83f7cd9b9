//! Helpers every server function uses to see the HTTP request it serves: the signed-in user, the
//! client address, and answering an error with its HTTP status.

use axum::extract::ConnectInfo;
use http::request::Parts;
use leptos::prelude::{expect_context, use_context};
use leptos_axum::ResponseOptions;
use std::net::SocketAddr;

use crate::error::AppError;

/// The request's head, as leptos_axum provides it.
///
/// # Errors
/// [`AppError::Internal`] outside a request (a wiring bug).
pub fn parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or_else(|| {
        tracing::error!("request Parts missing from the Leptos context");
        AppError::Internal
    })
}

/// The peer address of the connection, or `unknown` when the server was not started with
/// connection info.
pub fn client_ip(parts: &Parts) -> String {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string()).unwrap_or_else(|| "unknown".to_owned())
}

/// Passes a result through, setting the response status from the error if there is one.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let (Err(err), Some(opts)) = (&result, use_context::<ResponseOptions>()) {
        opts.set_status(http::StatusCode::from_u16(err.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR));
    }
    result
}

/// Adds a response header (a cookie, `Retry-After`).
pub fn set_header(name: http::HeaderName, value: &str) {
    if let Ok(v) = http::HeaderValue::from_str(value) {
        expect_context::<ResponseOptions>().append_header(name, v);
    }
}
