//! API tokens: credentials for scripts and the CLI, acting with the roles of the user who made
//! them. A token is a random secret shown once; only its SHA-256 is kept. The REST API accepts
//! it as `Authorization: Bearer rwd_…` (see [`authenticate`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use domain::api_token::{ApiToken, MAX_TOKENS_PER_USER, NewApiToken, TOKEN_PREFIX, validate_token_days, validate_token_name};
use domain::error::AppError;
use http::HeaderMap;
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};

use crate::db::{api_token, user};

/// A request authenticated by a token: the user it acts for and which token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: user::Model,
    pub token: api_token::Model,
}

fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl From<api_token::Model> for ApiToken {
    fn from(t: api_token::Model) -> Self {
        ApiToken { id: t.id, name: t.name, created_at: t.created_at, expires_at: t.expires_at, last_used_at: t.last_used_at }
    }
}

/// Makes a token for `user_id` named `name`, living `days` days (`0`: no expiry).
///
/// # Errors
/// 400 for a bad name or lifetime; 409 when the user holds the most tokens allowed or one of
/// that name already.
pub async fn create(db: &DatabaseConnection, user_id: &str, name: &str, days: u32) -> Result<NewApiToken, AppError> {
    let name = validate_token_name(name)?;
    let days = validate_token_days(days)?;
    let mine = api_token::Entity::find().filter(api_token::Column::UserId.eq(user_id));
    if mine.clone().count(db).await? >= MAX_TOKENS_PER_USER as u64 {
        return Err(AppError::Conflict(format!("you hold {MAX_TOKENS_PER_USER} tokens, the most allowed; revoke one first")));
    }
    if mine.filter(api_token::Column::Name.eq(&name)).count(db).await? > 0 {
        return Err(AppError::Conflict(format!("you already hold a token named {name:?}")));
    }
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let secret = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw));
    let now = Utc::now();
    let row = api_token::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        secret_hash: Set(hash_secret(&secret)),
        user_id: Set(user_id.to_owned()),
        name: Set(name),
        created_at: Set(now),
        expires_at: Set(days.map(|d| now + Duration::days(i64::from(d)))),
        last_used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(NewApiToken { token: row.into(), secret })
}

/// The tokens of `user_id`, newest first.
///
/// # Errors
/// Database errors.
pub async fn list(db: &DatabaseConnection, user_id: &str) -> Result<Vec<ApiToken>, AppError> {
    let rows =
        api_token::Entity::find().filter(api_token::Column::UserId.eq(user_id)).order_by_desc(api_token::Column::CreatedAt).all(db).await?;
    Ok(rows.into_iter().map(ApiToken::from).collect())
}

/// Revokes one of `user_id`'s tokens; it stops working at once. Returns its name.
///
/// # Errors
/// 404 when the user holds no token with that id.
pub async fn revoke(db: &DatabaseConnection, user_id: &str, token_id: &str) -> Result<String, AppError> {
    let row = api_token::Entity::find_by_id(token_id.to_owned())
        .filter(api_token::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("you hold no token {token_id}")))?;
    api_token::Entity::delete_by_id(row.id).exec(db).await?;
    Ok(row.name)
}

/// The token in an `Authorization: Bearer` header, if there is one.
pub fn presented(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The user and token behind `secret`, if it is a live token of an enabled user.
///
/// # Errors
/// Database errors.
pub async fn authenticate(db: &DatabaseConnection, secret: &str) -> Result<Option<Authenticated>, AppError> {
    if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 128 {
        return Ok(None);
    }
    let found = api_token::Entity::find()
        .filter(api_token::Column::SecretHash.eq(hash_secret(secret)))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    let Some((token, Some(user))) = found else {
        return Ok(None);
    };
    let now = Utc::now();
    if user.disabled || token.expires_at.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    // Marked used at most once a minute: enough to tell a token in use from a forgotten one.
    let token = if token.last_used_at.is_none_or(|at| now - at > Duration::seconds(60)) {
        let mut active: api_token::ActiveModel = token.into();
        active.last_used_at = Set(Some(now));
        active.update(db).await?
    } else {
        token
    };
    Ok(Some(Authenticated { user, token }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bearer_header_presents_a_token() {
        let mut h = HeaderMap::new();
        assert_eq!(presented(&h), None);
        h.insert(http::header::AUTHORIZATION, "Bearer rwd_abc".parse().unwrap());
        assert_eq!(presented(&h), Some("rwd_abc"));
        h.insert(http::header::AUTHORIZATION, "bearer  rwd_abc ".parse().unwrap());
        assert_eq!(presented(&h), Some("rwd_abc"));
        h.insert(http::header::AUTHORIZATION, "Basic dXNlcjpwYXNz".parse().unwrap());
        assert_eq!(presented(&h), None);
        h.insert(http::header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(presented(&h), None);
    }
}
