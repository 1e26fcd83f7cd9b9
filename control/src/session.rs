//! Server-side sessions: a random token in an `HttpOnly`, `SameSite=Strict` cookie, its SHA-256
//! in the `sessions` table, with idle and absolute expiry checked on every use.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use domain::error::AppError;
use http::HeaderMap;
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use std::time::Duration;

use crate::db::{session, user};

/// How long sign-in sessions live and how their cookie is marked.
#[derive(Debug, Clone)]
pub struct SessionPolicy {
    /// A session unused for this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute_timeout: Duration,
    /// Mark the cookie `Secure` (the portal is served over TLS).
    pub secure_cookie: bool,
}

/// The session cookie's name.
pub const COOKIE_NAME: &str = "rewind_session";

/// A signed-in request: the user and the session it came with.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: user::Model,
    pub session_hash: String,
}

/// Starts a session for `user_id` and returns the token to put in the cookie.
///
/// # Errors
/// Database errors, as [`AppError::Internal`].
pub async fn create(db: &DatabaseConnection, user_id: &str, client_ip: &str) -> Result<String, AppError> {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let now = Utc::now();
    session::ActiveModel {
        id_hash: Set(hash_token(&token)),
        user_id: Set(user_id.to_owned()),
        created_at: Set(now),
        last_seen_at: Set(now),
        client_ip: Set(client_ip.to_owned()),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// The signed-in user behind the request's cookie, if the session is valid now. Expired sessions
/// are deleted as they are found.
///
/// # Errors
/// Database errors, as [`AppError::Internal`].
pub async fn authenticate(db: &DatabaseConnection, policy: &SessionPolicy, headers: &HeaderMap) -> Result<Option<Authenticated>, AppError> {
    let Some(token) = token_from_headers(headers) else {
        return Ok(None);
    };
    let id_hash = hash_token(&token);
    let Some((s, Some(u))) = session::Entity::find_by_id(id_hash.clone()).find_also_related(user::Entity).one(db).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    if is_expired(&s, now, policy) || u.disabled {
        session::Entity::delete_by_id(id_hash).exec(db).await?;
        return Ok(None);
    }
    // Touch at most once a minute: enough precision for a 30-minute idle timeout, far fewer writes.
    if now - s.last_seen_at > chrono::Duration::seconds(60) {
        let mut active: session::ActiveModel = s.into();
        active.last_seen_at = Set(now);
        active.update(db).await?;
    }
    Ok(Some(Authenticated { user: u, session_hash: id_hash }))
}

/// Ends the session with this hash.
///
/// # Errors
/// Database errors, as [`AppError::Internal`].
pub async fn end(db: &DatabaseConnection, session_hash: &str) -> Result<(), AppError> {
    session::Entity::delete_by_id(session_hash.to_owned()).exec(db).await?;
    Ok(())
}

/// Ends every session of `user_id` except `keep` (after a password change).
///
/// # Errors
/// Database errors, as [`AppError::Internal`].
pub async fn end_others(db: &DatabaseConnection, user_id: &str, keep: &str) -> Result<(), AppError> {
    session::Entity::delete_many().filter(session::Column::UserId.eq(user_id)).filter(session::Column::IdHash.ne(keep)).exec(db).await?;
    Ok(())
}

/// The hash of the token in the request's cookie, for rotating a session at sign-in.
pub fn presented_hash(headers: &HeaderMap) -> Option<String> {
    token_from_headers(headers).map(|t| hash_token(&t))
}

/// `Set-Cookie` value carrying a new session token.
pub fn set_cookie(token: &str, policy: &SessionPolicy) -> String {
    format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        policy.absolute_timeout.as_secs(),
        if policy.secure_cookie { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(policy: &SessionPolicy) -> String {
    format!("{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}", if policy.secure_cookie { "; Secure" } else { "" })
}

fn is_expired(s: &session::Model, now: DateTime<Utc>, policy: &SessionPolicy) -> bool {
    let idle = chrono::Duration::from_std(policy.idle_timeout).unwrap_or(chrono::Duration::MAX);
    let absolute = chrono::Duration::from_std(policy.absolute_timeout).unwrap_or(chrono::Duration::MAX);
    now - s.last_seen_at > idle || now - s.created_at > absolute
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> SessionPolicy {
        SessionPolicy { idle_timeout: Duration::from_secs(1800), absolute_timeout: Duration::from_secs(43200), secure_cookie: false }
    }

    fn session_at(created: DateTime<Utc>, seen: DateTime<Utc>) -> session::Model {
        session::Model { id_hash: "h".into(), user_id: "u".into(), created_at: created, last_seen_at: seen, client_ip: "127.0.0.1".into() }
    }

    #[test]
    fn the_token_is_read_from_among_other_cookies() {
        let mut h = HeaderMap::new();
        h.insert(http::header::COOKIE, "a=1; rewind_session=tok; b=2".parse().unwrap());
        assert_eq!(token_from_headers(&h).as_deref(), Some("tok"));
        h.insert(http::header::COOKIE, "rewind_session=".parse().unwrap());
        assert_eq!(token_from_headers(&h), None);
    }

    #[test]
    fn sessions_expire_when_idle_or_too_old() {
        let now = Utc::now();
        let p = policy();
        assert!(!is_expired(&session_at(now, now), now, &p));
        assert!(is_expired(&session_at(now, now - chrono::Duration::minutes(31)), now, &p));
        assert!(is_expired(&session_at(now - chrono::Duration::hours(13), now), now, &p));
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_only_over_tls() {
        let mut p = policy();
        let c = set_cookie("t", &p);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"));
        p.secure_cookie = true;
        assert!(set_cookie("t", &p).ends_with("; Secure"));
    }
}
