//! Cross-site request forgery protection for the portal.
//!
//! A state-changing request (anything but GET, HEAD, OPTIONS) is refused when the browser says it
//! comes from another site: `Sec-Fetch-Site` other than `same-origin`/`none`, or, from browsers
//! that do not send that header, an `Origin` whose host differs from the request's `Host`.
//! Requests with neither header come from non-browser clients, which carry no ambient cookies
//! and so cannot be forged this way. The session cookie's `SameSite=Strict` is the second wall.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};

use domain::error::AppError;

/// Why a request was judged cross-site, or `None` if it may go on.
pub fn cross_site_reason(method: &Method, headers: &HeaderMap) -> Option<String> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return match site {
            "same-origin" | "none" => None,
            other => Some(format!("Sec-Fetch-Site is {other:?}")),
        };
    }
    let origin = headers.get(header::ORIGIN)?;
    let Ok(origin) = origin.to_str() else {
        return Some("Origin header is not text".into());
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/')).unwrap_or("");
    if origin_host.eq_ignore_ascii_case(host) && !host.is_empty() {
        None
    } else {
        Some(format!("Origin {origin:?} does not match host {host:?}"))
    }
}

/// Axum middleware applying [`cross_site_reason`].
pub async fn protect(req: Request, next: Next) -> Response {
    // The data plane authenticates every request by key signature, and the REST API by bearer
    // token, never by cookie: a forged cross-site request carries nothing they accept.
    if req.uri().path().starts_with("/cosmos/") || req.uri().path().starts_with(&format!("{}/", crate::rest::BASE)) {
        return next.run(req).await;
    }
    if let Some(reason) = cross_site_reason(req.method(), req.headers()) {
        tracing::warn!(path = %req.uri().path(), %reason, "cross-site request refused");
        let body = AppError::Forbidden(format!("cross-site request refused: {reason}"));
        let json = serde_json::to_string(&body).unwrap_or_default();
        return (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "application/json")], Body::from(json)).into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn reads_are_never_refused() {
        let h = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(cross_site_reason(&Method::GET, &h).is_none());
    }

    #[test]
    fn same_origin_fetches_and_typed_navigation_pass() {
        for site in ["same-origin", "none"] {
            assert!(cross_site_reason(&Method::POST, &headers(&[("sec-fetch-site", site)])).is_none());
        }
    }

    #[test]
    fn cross_site_and_same_site_posts_are_refused() {
        for site in ["cross-site", "same-site"] {
            let r = cross_site_reason(&Method::POST, &headers(&[("sec-fetch-site", site)]));
            assert!(r.unwrap().contains(site));
        }
    }

    #[test]
    fn without_fetch_metadata_the_origin_must_match_the_host() {
        let ok = headers(&[("origin", "http://127.0.0.1:3000"), ("host", "127.0.0.1:3000")]);
        assert!(cross_site_reason(&Method::POST, &ok).is_none());
        let bad = headers(&[("origin", "https://evil.example"), ("host", "127.0.0.1:3000")]);
        assert!(cross_site_reason(&Method::POST, &bad).unwrap().contains("evil.example"));
        let null = headers(&[("origin", "null"), ("host", "127.0.0.1:3000")]);
        assert!(cross_site_reason(&Method::DELETE, &null).is_some());
    }

    #[test]
    fn non_browser_clients_without_either_header_pass() {
        assert!(cross_site_reason(&Method::POST, &HeaderMap::new()).is_none());
    }
}
