//! API tokens as the portal and the REST API show them, and the rules for making one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Every token's secret starts with this, so that a leaked one is easy to recognise (and to scan
/// for in code and logs).
pub const TOKEN_PREFIX: &str = "rwd_";
/// Tokens one user may hold at once.
pub const MAX_TOKENS_PER_USER: usize = 20;
/// The longest a token may live, in days (a token may also never expire).
pub const MAX_TOKEN_DAYS: u32 = 365;
const MAX_NAME_CHARS: usize = 64;

/// A token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// `None`: the token never expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just made: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewApiToken {
    pub token: ApiToken,
    /// `rwd_…`, to send as `Authorization: Bearer rwd_…`.
    pub secret: String,
}

/// A token's name: 1 to 64 characters, no control characters, trimmed.
///
/// # Errors
/// [`AppError::Invalid`] naming the rule broken.
pub fn validate_token_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::invalid(format!("a token's name must be 1 to {MAX_NAME_CHARS} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid("a token's name must not hold control characters"));
    }
    Ok(name.to_owned())
}

/// How long a token lives: `0` for no expiry, else 1 to [`MAX_TOKEN_DAYS`] days.
///
/// # Errors
/// [`AppError::Invalid`] beyond the longest lifetime.
pub fn validate_token_days(days: u32) -> Result<Option<u32>, AppError> {
    match days {
        0 => Ok(None),
        1..=MAX_TOKEN_DAYS => Ok(Some(days)),
        _ => Err(AppError::invalid(format!("a token lives at most {MAX_TOKEN_DAYS} days (0 for no expiry)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_lifetimes_are_bounded() {
        assert_eq!(validate_token_name("  ci deploys ").unwrap(), "ci deploys");
        assert!(validate_token_name("   ").is_err());
        assert!(validate_token_name(&"x".repeat(65)).is_err());
        assert!(validate_token_name("a\u{7}b").is_err());
        assert_eq!(validate_token_days(0).unwrap(), None);
        assert_eq!(validate_token_days(30).unwrap(), Some(30));
        assert!(validate_token_days(366).is_err());
    }
}
