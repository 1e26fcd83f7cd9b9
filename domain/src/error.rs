//! The one error type every server function returns.
//!
//! It travels over the wire (so the portal can show the message) and maps to an HTTP status on the
//! server, so that a script calling `/api/...` sees `403`, `409` or `429` rather than a generic 500.

use serde::{Deserialize, Serialize};
#[cfg(feature = "server-fn")]
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

/// What went wrong, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 401: no valid session, or wrong credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403: signed in but not allowed, or a cross-site request.
    #[error("{0}")]
    Forbidden(String),
    /// 400: the input is malformed; the message names the field and the rule.
    #[error("{0}")]
    Invalid(String),
    /// 404: the named resource does not exist (or is not visible to the caller).
    #[error("{0}")]
    NotFound(String),
    /// 409: the name is taken or the resource is in the wrong state.
    #[error("{0}")]
    Conflict(String),
    /// 429: too many attempts; the message says when to try again.
    #[error("{0}")]
    TooManyRequests(String),
    /// 500: something failed inside the service; details are in the server log only.
    #[error("internal error; the server log has the details")]
    Internal,
    /// The server-function machinery itself failed (network, decoding); the message says how.
    #[error("{0}")]
    ServerFn(String),
}

#[cfg(feature = "server-fn")]
impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value.to_string())
    }
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::Invalid(_) => 400,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::TooManyRequests(_) => 429,
            AppError::Internal | AppError::ServerFn(_) => 500,
        }
    }

    /// A stable name for the kind of error, for scripts (the REST API's `error.code`).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "Unauthenticated",
            AppError::Forbidden(_) => "Forbidden",
            AppError::Invalid(_) => "BadRequest",
            AppError::NotFound(_) => "NotFound",
            AppError::Conflict(_) => "Conflict",
            AppError::TooManyRequests(_) => "TooManyRequests",
            AppError::Internal | AppError::ServerFn(_) => "InternalError",
        }
    }

    /// Shorthand for an [`AppError::Invalid`] from any message.
    pub fn invalid(msg: impl Into<String>) -> Self {
        AppError::Invalid(msg.into())
    }
}

#[cfg(feature = "db")]
mod db {
    use super::AppError;

    impl From<sea_orm::DbErr> for AppError {
        fn from(err: sea_orm::DbErr) -> Self {
            tracing::error!(error = %err, "database error");
            AppError::Internal
        }
    }

    impl From<sea_orm::TransactionError<AppError>> for AppError {
        fn from(err: sea_orm::TransactionError<AppError>) -> Self {
            match err {
                sea_orm::TransactionError::Connection(e) => e.into(),
                sea_orm::TransactionError::Transaction(e) => e,
            }
        }
    }
}

/// Maps a unique-constraint violation (a concurrent insert that won the race) to 409 with
/// `message`; any other database error stays internal.
#[cfg(feature = "db")]
pub fn conflict_on_unique(err: sea_orm::DbErr, message: &str) -> AppError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict(message.into()),
        _ => err.into(),
    }
}
