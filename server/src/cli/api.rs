//! The REST API as the command line calls it: JSON in, JSON out, and an error that knows which
//! exit code it means.

use reqwest::{Method, StatusCode, Url};
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

/// A path under `/api/v1`, kept as segments: each is percent-encoded when the URL is made, so
/// that a name holding a space, `%`, `?` or a letter outside ASCII reaches the server as it is
/// (database and container ids may hold all of those).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path(Vec<String>);

impl Path {
    /// This path with `segments` after it.
    #[must_use]
    pub fn join(&self, segments: &[&str]) -> Self {
        let mut all = self.0.clone();
        all.extend(segments.iter().map(|s| (*s).to_owned()));
        Self(all)
    }
}

pub struct Api {
    http: reqwest::Client,
    /// The server's base URL, checked once: it can be a base (http or https with a host).
    base: Url,
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
        let base = Url::parse(&remote.server)
            .ok()
            .filter(|u| !u.cannot_be_a_base())
            .ok_or_else(|| Failure::new(Exit::Refused, format!("--server {:?} is not an http(s) URL", remote.server)))?;
        Ok(Self { http, base, token, subscription: remote.subscription.clone() })
    }

    /// `/subscriptions/{id}` for the `--subscription` given.
    ///
    /// # Errors
    /// A usage failure without one.
    pub fn subscription_path(&self) -> Result<Path, Failure> {
        let sub = self.subscription.as_deref().ok_or_else(|| {
            Failure::new(Exit::Refused, "this command needs --subscription (or REWIND_SUBSCRIPTION): the subscription's id")
        })?;
        Ok(Path(vec!["subscriptions".into(), sub.to_owned()]))
    }

    /// A path from the API's root (`/api/v1/…`).
    pub fn path(segments: &[&str]) -> Path {
        Path(vec![]).join(segments)
    }

    /// The URL of `path` on the server (whose base URL may hold a path of its own).
    pub fn url(&self, path: &Path) -> Url {
        let mut url = self.base.clone();
        // A base URL can be a base (checked in `new`), so it has path segments.
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(["api", "v1"]).extend(&path.0);
        }
        url
    }

    pub async fn get(&self, path: &Path, query: &[(&str, &str)]) -> Result<Value, Failure> {
        self.call(Method::GET, path, query, None).await
    }

    pub async fn post(&self, path: &Path, query: &[(&str, &str)], body: &Value) -> Result<Value, Failure> {
        self.call(Method::POST, path, query, Some(body)).await
    }

    pub async fn patch(&self, path: &Path, body: &Value) -> Result<Value, Failure> {
        self.call(Method::PATCH, path, &[], Some(body)).await
    }

    pub async fn delete(&self, path: &Path) -> Result<Value, Failure> {
        self.call(Method::DELETE, path, &[], None).await
    }

    async fn call(&self, method: Method, path: &Path, query: &[(&str, &str)], body: Option<&Value>) -> Result<Value, Failure> {
        let url = self.url(path);
        let mut req = self.http.request(method, url.clone()).query(query).bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req
            .send()
            .await
            .map_err(|e| Failure::new(Exit::Refused, format!("cannot reach {}: {e}", self.base.as_str().trim_end_matches('/'))))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Output;

    fn client(server: &str) -> Result<Api, Failure> {
        let remote = Remote { server: server.into(), token: Some("t".into()), subscription: Some("sub 1".into()), output: Output::Json };
        Api::new(&remote)
    }

    #[test]
    fn path_segments_are_percent_encoded_and_the_base_path_is_kept() {
        let api = client("http://127.0.0.1:3000/").unwrap();
        let path = api.subscription_path().unwrap().join(&["restorableDatabaseAccounts", "a/b?c#d %e ü"]);
        assert_eq!(
            api.url(&path).as_str(),
            "http://127.0.0.1:3000/api/v1/subscriptions/sub%201/restorableDatabaseAccounts/a%2Fb%3Fc%23d%20%25e%20%C3%BC"
        );
        let behind_a_proxy = client("https://example.test/rewind").unwrap();
        assert_eq!(behind_a_proxy.url(&Path(vec!["x".into()])).as_str(), "https://example.test/rewind/api/v1/x");
        assert!(matches!(client("not a url"), Err(Failure { exit: Exit::Refused, .. })));
        assert!(matches!(client("mailto:ops@example.test"), Err(Failure { exit: Exit::Refused, .. })));
    }
}
