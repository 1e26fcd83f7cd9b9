//! Sends signed-out visitors of portal pages to the sign-in page (and signed-in visitors of the
//! sign-in page onward, and users with a first-time password to the password page), on the
//! server, before anything renders. Server functions check the
//! session themselves; static files and the health check need none.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::Method;

use control::session;
use control::state::AppState;

/// Paths that are not portal pages.
fn is_page(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || path.starts_with("/cosmos/")
        || path.starts_with("/audit/export")
        || path == "/healthz"
        || path == "/favicon.ico")
}

/// Axum middleware; see the module docs.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if req.method() != Method::GET || !is_page(&path) {
        return next.run(req).await;
    }
    let auth = match session::authenticate(&state.db, &state.sessions, req.headers()).await {
        Ok(a) => a,
        Err(_) => return next.run(req).await,
    };
    match (auth, path.as_str()) {
        (None, "/login") => next.run(req).await,
        (None, _) => Redirect::to("/login").into_response(),
        (Some(a), _) if a.user.must_change_password && path != "/password" => Redirect::to("/password").into_response(),
        (Some(_), "/login") => Redirect::to("/subscriptions").into_response(),
        (Some(_), _) => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::is_page;

    #[test]
    fn assets_api_and_health_are_not_pages() {
        for p in ["/api/login", "/pkg/rewind.js", "/healthz", "/cosmos/a/dbs"] {
            assert!(!is_page(p), "{p}");
        }
        for p in ["/", "/login", "/subscriptions/x"] {
            assert!(is_page(p), "{p}");
        }
    }
}
