//! The API's one error shape, `{"error": {"code": "NotFound", "message": "…"}}`, answered with
//! the status of the error (400, 401, 403, 404, 409, 429, 500).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, Uri};
use serde::Serialize;
use utoipa::ToSchema;

use domain::error::AppError;

/// What every failed call answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `BadRequest`, `Unauthenticated`, `Forbidden`, `NotFound`, `MethodNotAllowed`, `Conflict`, `TooManyRequests` or
    /// `InternalError`.
    pub code: String,
    /// What went wrong, naming the field, limit or permission.
    pub message: String,
}

/// An [`AppError`] answered in the API's shape.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError(AppError::invalid(format!("the request body is not what this call takes: {}", e.body_text())))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError(AppError::invalid(format!("the query string is not what this call takes: {}", e.body_text())))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody { error: ErrorDetail { code: self.0.code().to_owned(), message: self.0.to_string() } };
        (status, Json(body)).into_response()
    }
}

/// What a handler returns.
pub type ApiResult<T> = Result<T, ApiError>;

/// A route of the API called with a method it does not take (405, in the one shape).
pub async fn no_such_method(method: http::Method, uri: Uri) -> Response {
    let message = format!("{} does not take {method}; its methods are listed at /api/v1/openapi.json", uri.path());
    let body = ErrorBody { error: ErrorDetail { code: "MethodNotAllowed".to_owned(), message } };
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

/// Any path under the API that is not one of its routes.
pub async fn no_such_route(uri: Uri) -> ApiError {
    ApiError(AppError::NotFound(format!("no API route {}; the routes are listed at /api/v1/openapi.json", uri.path())))
}
