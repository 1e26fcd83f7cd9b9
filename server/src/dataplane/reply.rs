//! Answers in Cosmos DB's shapes: JSON bodies, `{"code","message"}` errors, and the headers the
//! SDKs read (`x-ms-request-charge` on every response, `x-ms-activity-id`, `etag`).

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use engine::EngineError;

/// A data-plane failure, as Cosmos DB reports it.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// From the engine (400, 404, 409, 412, 413, 429, 500).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// 401: missing or wrong signature.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: read-only key used for a write, or a stale `x-ms-date`.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such account.
    #[error("{0}")]
    NoAccount(String),
    /// 405: the verb does not apply to the resource.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 503: the account exists but is not `Online` (a restore is writing it).
    #[error("{0}")]
    Unavailable(String),
}

impl DataError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            DataError::Engine(e) => (StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), e.code()),
            DataError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "Unauthorized"),
            DataError::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden"),
            DataError::NoAccount(_) => (StatusCode::NOT_FOUND, "NotFound"),
            DataError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
            DataError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
        }
    }
}

impl IntoResponse for DataError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            DataError::Engine(EngineError::Db(e)) => {
                tracing::error!(error = %e, "data plane database error");
                "internal error; the server log has the details".to_owned()
            }
            DataError::Engine(e @ EngineError::Corrupt(_)) => {
                tracing::error!(error = %e, "data plane found damaged data");
                e.to_string()
            }
            other => other.to_string(),
        };
        let retry = match &self {
            DataError::Engine(EngineError::TooManyRequests { retry_after_ms, .. }) => Some(*retry_after_ms),
            _ => None,
        };
        let charge = if retry.is_some() { 0.0 } else { 1.0 };
        let mut res = Reply::json(status, json!({ "code": code, "message": message }), charge).into_response();
        if let Some(ms) = retry
            && let Ok(v) = HeaderValue::from_str(&ms.to_string())
        {
            res.headers_mut().insert("x-ms-retry-after-ms", v);
        }
        res
    }
}

/// A successful answer.
#[derive(Debug)]
pub struct Reply {
    status: StatusCode,
    body: Option<Value>,
    charge: f64,
    headers: HeaderMap,
}

impl Reply {
    pub fn json(status: StatusCode, body: Value, charge: f64) -> Self {
        Self { status, body: Some(body), charge, headers: HeaderMap::new() }
    }

    pub fn empty(status: StatusCode, charge: f64) -> Self {
        Self { status, body: None, charge, headers: HeaderMap::new() }
    }

    /// The request units this answer charges.
    pub fn charge(&self) -> f64 {
        self.charge
    }

    /// Adds a header (etag, continuation).
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let body = self.body.map(|b| b.to_string()).unwrap_or_default();
        let mut res = Response::builder().status(self.status).body(Body::from(body)).unwrap_or_default();
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Ok(v) = HeaderValue::from_str(&format!("{:.2}", self.charge)) {
            h.insert("x-ms-request-charge", v);
        }
        if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
            h.insert("x-ms-activity-id", v);
        }
        h.insert("x-ms-session-token", HeaderValue::from_static("0:0#0"));
        h.extend(self.headers);
        res
    }
}
