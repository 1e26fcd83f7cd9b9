//! Names of things and the rules they follow. Each constructor returns a message that names the
//! field and the broken rule, so the portal and the API can show it as is.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::AppError;

/// A database account name: 3–44 characters of lowercase letters, digits and hyphens, not starting
/// or ending with a hyphen (the rule Cosmos DB applies, since the name becomes part of a host name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountName(String);

impl AccountName {
    /// # Errors
    /// [`AppError::Invalid`] naming the rule the input breaks.
    pub fn parse(input: &str) -> Result<Self, AppError> {
        let len = input.chars().count();
        if !(3..=44).contains(&len) {
            return Err(AppError::invalid(format!("account name must be 3 to 44 characters long (got {len})")));
        }
        if let Some(bad) = input.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
            return Err(AppError::invalid(format!("account name may contain only lowercase letters, digits and hyphens (found {bad:?})")));
        }
        if input.starts_with('-') || input.ends_with('-') {
            return Err(AppError::invalid("account name must not start or end with a hyphen"));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A subscription's display name: 1–64 characters, no control characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SubscriptionName(String);

impl SubscriptionName {
    /// # Errors
    /// [`AppError::Invalid`] naming the rule the input breaks.
    pub fn parse(input: &str) -> Result<Self, AppError> {
        Ok(Self(display_name("subscription name", input, 64)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A region label such as `West Europe`: 1–64 letters, digits, spaces or hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionName(String);

impl RegionName {
    /// # Errors
    /// [`AppError::Invalid`] naming the rule the input breaks.
    pub fn parse(input: &str) -> Result<Self, AppError> {
        let name = display_name("region", input, 64)?;
        if let Some(bad) = name.chars().find(|c| !(c.is_alphanumeric() || *c == ' ' || *c == '-')) {
            return Err(AppError::invalid(format!("region may contain only letters, digits, spaces and hyphens (found {bad:?})")));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user's sign-in name: 1–64 characters of letters, digits, `.`, `_`, `-` or `@`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserName(String);

impl UserName {
    /// # Errors
    /// [`AppError::Invalid`] naming the rule the input breaks.
    pub fn parse(input: &str) -> Result<Self, AppError> {
        let len = input.chars().count();
        if !(1..=64).contains(&len) {
            return Err(AppError::invalid(format!("user name must be 1 to 64 characters long (got {len})")));
        }
        if let Some(bad) = input.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))) {
            return Err(AppError::invalid(format!("user name may contain only letters, digits, '.', '_', '-' and '@' (found {bad:?})")));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a new password against the policy: 12 to 256 characters (NIST SP 800-63B favours length
/// over composition rules).
///
/// # Errors
/// [`AppError::Invalid`] naming the rule the password breaks.
pub fn validate_new_password(password: &str) -> Result<(), AppError> {
    let len = password.chars().count();
    if len < 12 {
        return Err(AppError::invalid(format!("password must be at least 12 characters long (got {len})")));
    }
    if len > 256 {
        return Err(AppError::invalid("password must be at most 256 characters long"));
    }
    Ok(())
}

fn display_name(field: &str, input: &str, max: usize) -> Result<String, AppError> {
    let trimmed = input.trim();
    let len = trimmed.chars().count();
    if len == 0 {
        return Err(AppError::invalid(format!("{field} must not be empty")));
    }
    if len > max {
        return Err(AppError::invalid(format!("{field} must be at most {max} characters long (got {len})")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(AppError::invalid(format!("{field} must not contain control characters")));
    }
    Ok(trimmed.to_owned())
}

macro_rules! string_newtype_conversions {
    ($($ty:ident),*) => {$(
        impl TryFrom<String> for $ty {
            type Error = AppError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$ty> for String {
            fn from(value: $ty) -> Self {
                value.0
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
string_newtype_conversions!(AccountName, SubscriptionName, RegionName, UserName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_name_accepts_lowercase_digits_and_inner_hyphens() {
        for ok in ["abc", "orders-prod-01", &"a".repeat(44)] {
            assert!(AccountName::parse(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn account_name_too_short_or_long_says_the_length() {
        let err = AccountName::parse("ab").unwrap_err().to_string();
        assert!(err.contains("3 to 44") && err.contains("got 2"), "{err}");
        let err = AccountName::parse(&"a".repeat(45)).unwrap_err().to_string();
        assert!(err.contains("got 45"), "{err}");
    }

    #[test]
    fn account_name_refuses_uppercase_underscore_and_space_naming_the_character() {
        for (bad, ch) in [("Orders", "'O'"), ("my_acct", "'_'"), ("my acct", "' '")] {
            let err = AccountName::parse(bad).unwrap_err().to_string();
            assert!(err.contains(ch), "{bad}: {err}");
        }
    }

    #[test]
    fn account_name_refuses_leading_or_trailing_hyphen() {
        assert!(AccountName::parse("-abc").is_err());
        assert!(AccountName::parse("abc-").is_err());
    }

    #[test]
    fn subscription_name_is_trimmed_and_bounded() {
        assert_eq!(SubscriptionName::parse("  Prod  ").unwrap().as_str(), "Prod");
        assert!(SubscriptionName::parse("   ").is_err());
        assert!(SubscriptionName::parse(&"x".repeat(65)).is_err());
        assert!(SubscriptionName::parse("a\u{7}b").is_err());
    }

    #[test]
    fn region_allows_words_and_hyphens_only() {
        assert!(RegionName::parse("West Europe").is_ok());
        assert!(RegionName::parse("us-east-2").is_ok());
        assert!(RegionName::parse("west/europe").is_err());
    }

    #[test]
    fn user_name_rules() {
        assert!(UserName::parse("alice.smith@example").is_ok());
        assert!(UserName::parse("").is_err());
        assert!(UserName::parse("bob smith").is_err());
    }

    #[test]
    fn passwords_shorter_than_twelve_characters_are_refused() {
        assert!(validate_new_password("short").is_err());
        assert!(validate_new_password("correct horse battery").is_ok());
    }

    #[test]
    fn names_deserialize_through_validation() {
        let ok: Result<AccountName, _> = serde_json::from_str("\"good-name\"");
        assert!(ok.is_ok());
        let bad: Result<AccountName, _> = serde_json::from_str("\"Bad\"");
        assert!(bad.is_err());
    }
}
