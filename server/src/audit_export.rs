//! `GET /audit/export?format=csv|json&subscription_id=&from=&to=&user=&action=&outcome=`:
//! the audit log as a download, under the same permission as reading it in the portal.

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use serde::Deserialize;

use app::authz::ssr::Caller;
use control::audit::to_csv;
use control::audit_log;
use control::state::AppState;
use domain::audit::AuditFilter;
use domain::error::AppError;

/// Exports are capped so that one request cannot pull an unbounded log into memory.
const EXPORT_LIMIT: u64 = 100_000;

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
    #[serde(default)]
    subscription_id: String,
    #[serde(flatten)]
    filter: AuditFilter,
}

/// The handler; errors come back as the portal's JSON error with its status.
pub async fn export(State(state): State<AppState>, Query(q): Query<ExportQuery>, parts: Parts) -> Response {
    match run(state, q, &parts).await {
        Ok(r) => r,
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::to_string(&e).unwrap_or_default();
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    }
}

async fn run(state: AppState, q: ExportQuery, parts: &Parts) -> Result<Response, AppError> {
    let caller = Caller::from_request(state, parts).await?;
    let (content_type, ext) = match q.format.as_str() {
        "" | "csv" => ("text/csv; charset=utf-8", "csv"),
        "json" => ("application/json", "json"),
        other => return Err(AppError::invalid(format!("format must be csv or json (got {other:?})"))),
    };
    let entries = audit_log::read(&caller, &q.subscription_id, &q.filter, EXPORT_LIMIT).await?;
    let body = if ext == "csv" { to_csv(&entries) } else { serde_json::to_string_pretty(&entries).map_err(|_| AppError::Internal)? };
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"rewind-audit.{ext}\"")),
        ],
        body,
    )
        .into_response())
}
