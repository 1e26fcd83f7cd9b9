//! The REST API as the command line calls it: JSON in, JSON out, and an error that knows which
//! exit code it means.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::{Exit, Remote};

/// A failed call: what to print and how to exit.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self { exit, message: message.into() }
    }
}

pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
    subscription: Option<String>,
}

impl Api {
    /// # Errors
    /// A usage failure without a token.
    pub fn new(remote: &Remote) -> Result<Self, Failure> {
        let token = remote.token.clone().ok_or_else(|| {
            Failure::new(Exit::NotAllowed, "no API token: pass --token or set REWIND_TOKEN (make one on the portal's API tokens page)")
        })?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("rewind-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Failure::new(Exit::Refused, format!("cannot make an HTTP client: {e}")))?;
        Ok(Self { http, base: remote.server.trim_end_matches('/').to_owned(), token, subscription: remote.subscription.clone() })
    }

    /// `/subscriptions/{id}` for the `--subscription` given.
    ///
    /// # Errors
    /// A usage failure without one.
    pub fn subscription_path(&self) -> Result<String, Failure> {
        let sub = self.subscription.as_deref().ok_or_else(|| {
            Failure::new(Exit::Refused, "this command needs --subscription (or REWIND_SUBSCRIPTION): the subscription's id")
        })?;
        Ok(format!("/subscriptions/{sub}"))
    }

    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, Failure> {
        self.call(Method::GET, path, query, None).await
    }

    pub async fn post(&self, path: &str, query: &[(&str, &str)], body: &Value) -> Result<Value, Failure> {
        self.call(Method::POST, path, query, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Result<Value, Failure> {
        self.call(Method::DELETE, path, &[], None).await
    }

    async fn call(&self, method: Method, path: &str, query: &[(&str, &str)], body: Option<&Value>) -> Result<Value, Failure> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = self.http.request(method, &url).query(query).bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.map_err(|e| Failure::new(Exit::Refused, format!("cannot reach {}: {e}", self.base)))?;
        let status = res.status();
        let text = res.text().await.map_err(|e| Failure::new(Exit::Refused, format!("reading the answer from {url}: {e}")))?;
        let value: Value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        if status.is_success() {
            return Ok(value);
        }
        let message = value.pointer("/error/message").and_then(Value::as_str).map_or_else(|| value.to_string(), str::to_owned);
        let exit = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Exit::NotAllowed,
            StatusCode::NOT_FOUND => Exit::NotFound,
            _ => Exit::Refused,
        };
        Err(Failure::new(exit, format!("{} {}: {message}", status.as_u16(), status.canonical_reason().unwrap_or(""))))
    }
}
