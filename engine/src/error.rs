//! What can go wrong in the engine, each with the HTTP status Cosmos DB answers it with.

use domain::error::AppError;

/// An engine failure.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// 400: the request is malformed; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// 404: the named resource does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 409: a resource with that id already exists.
    #[error("{0}")]
    Conflict(String),
    /// 412: the `If-Match` etag is not the current one.
    #[error("{0}")]
    PreconditionFailed(String),
    /// 413: the item or request is larger than allowed.
    #[error("{0}")]
    TooLarge(String),
    /// 429: the container's throughput, or the account's share of query work, is used up; retry
    /// after the given milliseconds.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_ms: u64 },
    /// 500: stored data is damaged (changed outside Rewind); the message names what.
    #[error("{0}")]
    Corrupt(String),
    /// 500: the database failed.
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl EngineError {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            EngineError::BadRequest(_) => 400,
            EngineError::NotFound(_) => 404,
            EngineError::Conflict(_) => 409,
            EngineError::PreconditionFailed(_) => 412,
            EngineError::TooLarge(_) => 413,
            EngineError::TooManyRequests { .. } => 429,
            EngineError::Corrupt(_) | EngineError::Db(_) => 500,
        }
    }

    /// Cosmos DB's error `code` string for the status.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::BadRequest(_) => "BadRequest",
            EngineError::NotFound(_) => "NotFound",
            EngineError::Conflict(_) => "Conflict",
            EngineError::PreconditionFailed(_) => "PreconditionFailed",
            EngineError::TooLarge(_) => "RequestEntityTooLarge",
            EngineError::TooManyRequests { .. } => "TooManyRequests",
            EngineError::Corrupt(_) | EngineError::Db(_) => "InternalServerError",
        }
    }
}

impl From<sea_orm::TransactionError<EngineError>> for EngineError {
    fn from(e: sea_orm::TransactionError<EngineError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

/// At most the first 100 characters of `input`, quoted, for an error message that echoes what
/// the caller sent without echoing megabytes of it.
pub fn excerpt(input: &str) -> String {
    const SHOWN: usize = 100;
    match input.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{:?}… ({} bytes)", &input[..cut], input.len()),
        None => format!("{input:?}"),
    }
}

/// How the control plane and the portal show an engine error.
impl From<EngineError> for AppError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::BadRequest(m) | EngineError::TooLarge(m) => AppError::Invalid(m),
            EngineError::NotFound(m) => AppError::NotFound(m),
            EngineError::Conflict(m) | EngineError::PreconditionFailed(m) => AppError::Conflict(m),
            EngineError::TooManyRequests { message, .. } => AppError::TooManyRequests(message),
            EngineError::Corrupt(m) => {
                tracing::error!(error = %m, "stored data is damaged");
                AppError::Internal
            }
            EngineError::Db(e) => e.into(),
        }
    }
}
