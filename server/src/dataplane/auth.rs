//! Which account a request is for, and whether its master-key signature is good: one of the
//! account's four keys, read-only keys only for reads, `x-ms-date` within 15 minutes.

use chrono::{DateTime, Utc};
use http::{HeaderMap, Method};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use control::accounts::open_keys;
use control::db::account;
use control::state::AppState;
use engine::signature::{self, Signed};

use super::operation::Operation;
use super::path::Resource;
use super::reply::DataError;

/// How far `x-ms-date` may be from the server's clock.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// The account the request is for, and which of its keys signed it.
#[derive(Debug)]
pub struct Authorized {
    pub account: account::Model,
    pub key: &'static str,
}

/// The live account named `account_name`.
///
/// # Errors
/// 404 for an unknown account, 503 for one that is not `Online`.
pub async fn find_account(state: &AppState, account_name: &str) -> Result<account::Model, DataError> {
    let row = account::Entity::find()
        .filter(account::Column::Name.eq(account_name))
        .filter(account::Column::DeletedAt.is_null())
        .one(&state.db)
        .await
        .map_err(engine::EngineError::from)?
        .ok_or_else(|| DataError::NoAccount(format!("account {account_name:?} does not exist")))?;
    if row.state != domain::AccountState::Online {
        return Err(DataError::Unavailable(format!("account {account_name:?} is {}; it serves requests once it is Online", row.state)));
    }
    Ok(row)
}

/// Checks that one of `row`'s keys signed `operation` on `resource`, and returns which.
///
/// # Errors
/// 401 for a missing or wrong signature, 403 for a write signed with a read-only key or a stale
/// date.
pub fn verify_key(
    state: &AppState,
    row: &account::Model,
    method: &Method,
    headers: &HeaderMap,
    resource: &Resource,
    operation: &Operation,
) -> Result<&'static str, DataError> {
    let header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| DataError::Unauthorized("the Authorization header is missing".into()))?;
    let sig = signature::parse_authorization(header).map_err(DataError::Unauthorized)?;
    let date = headers
        .get("x-ms-date")
        .or_else(|| headers.get(http::header::DATE))
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| DataError::Unauthorized("the x-ms-date header is missing".into()))?;
    let sent =
        DateTime::parse_from_rfc2822(date).map_err(|_| DataError::Unauthorized(format!("x-ms-date {date:?} is not an RFC 1123 date")))?;
    let skew = (Utc::now() - sent.with_timezone(&Utc)).num_seconds().abs();
    if skew > MAX_SKEW_SECONDS {
        return Err(DataError::Forbidden(format!(
            "the request's x-ms-date is {skew} s away from the server's clock (at most {MAX_SKEW_SECONDS} s allowed)"
        )));
    }

    let keys =
        open_keys(&state.master_key, row).map_err(|_| engine::EngineError::Db(sea_orm::DbErr::Custom("account keys unreadable".into())))?;
    let (resource_type, link) = resource.signed_as();
    let signed = Signed { verb: method.as_str(), resource_type, resource_link: &link, date };
    let read_write = [("primary key", &keys.primary_master_key), ("secondary key", &keys.secondary_master_key)];
    let read_only =
        [("primary read-only key", &keys.primary_readonly_master_key), ("secondary read-only key", &keys.secondary_readonly_master_key)];
    if let Some((key, _)) = read_write.iter().find(|(_, k)| signature::verify(k, &signed, &sig)) {
        return Ok(key);
    }
    if let Some((key, _)) = read_only.iter().find(|(_, k)| signature::verify(k, &signed, &sig)) {
        if operation.is_read() {
            return Ok(key);
        }
        return Err(DataError::Forbidden(format!("a read-only key cannot be used to write ({} used)", key)));
    }
    Err(DataError::Unauthorized(format!(
        "the signature does not match any key of account {:?} (signed as {} {resource_type:?} {link:?})",
        row.name,
        method.as_str()
    )))
}
