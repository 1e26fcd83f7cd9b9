//! The REST API (`/api/v1`): JSON over the same control-plane operations as the portal's server
//! functions — each handler authenticates an API token, then calls the very function the portal
//! calls, which authorizes through the one `Caller::authorize` and audits. Described by an
//! OpenAPI document built from the handlers themselves (`/api/v1/openapi.json`, browsable at
//! `/api/docs`), so a route cannot be served without being described.

mod access;
mod accounts;
mod auth;
mod backups;
mod docs;
mod error;
mod restores;
mod subscriptions;
mod tokens;
mod users;

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use control::state::AppState;

pub use error::ErrorBody;

/// Where the API lives; its version is in the path.
pub const BASE: &str = "/api/v1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rewind REST API",
        description = "Subscriptions, accounts, users and access, restorable resources and point-in-time restores, for scripts and the `rewind` command line. \
                       Authenticate with an API token (made on the portal's API tokens page) as `Authorization: Bearer rwd_…`; \
                       it acts with the roles of the user who made it. Every error answers `{\"error\": {\"code\", \"message\"}}`."
    ),
    modifiers(&BearerAuth),
    security(("token" = [])),
    tags(
        (name = "subscriptions", description = "Subscriptions, which hold accounts"),
        (name = "accounts", description = "Database accounts"),
        (name = "backups", description = "Verifying an account's backups"),
        (name = "restore", description = "Restorable resources and restores (Cosmos DB's restorable* resources)"),
        (name = "access", description = "Roles and role assignments at a subscription or an account"),
        (name = "users", description = "The service's users"),
        (name = "tokens", description = "The caller's own API tokens"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme("token", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// The API's routes and its OpenAPI document, from the same list.
pub fn api<S: Clone + Send + Sync + 'static>(state: AppState) -> (Router<S>, utoipa::openapi::OpenApi) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(subscriptions::list, subscriptions::create))
        .routes(routes!(subscriptions::get, subscriptions::rename))
        .routes(routes!(accounts::list, accounts::create))
        .routes(routes!(accounts::get, accounts::delete))
        .routes(routes!(accounts::list_keys))
        .routes(routes!(accounts::regenerate_key))
        .routes(routes!(accounts::change_backup_policy))
        .routes(routes!(accounts::rotate_backup_key))
        .routes(routes!(accounts::customer_keys))
        .routes(routes!(backups::verify))
        .routes(routes!(backups::last))
        .routes(routes!(backups::status))
        .routes(routes!(backups::preview_policy))
        .routes(routes!(restores::restorable_accounts))
        .routes(routes!(restores::restorable_resources))
        .routes(routes!(restores::events))
        .routes(routes!(restores::database_events))
        .routes(routes!(restores::container_events))
        .routes(routes!(restores::backups))
        .routes(routes!(restores::restore_in_place))
        .routes(routes!(restores::start, restores::list))
        .routes(routes!(restores::get))
        .routes(routes!(restores::request))
        .routes(routes!(restores::approve))
        .routes(routes!(restores::reject))
        .routes(routes!(access::list_roles, access::create_role))
        .routes(routes!(access::delete_role))
        .routes(routes!(access::list_assignments, access::create_assignment))
        .routes(routes!(access::delete_assignment))
        .routes(routes!(access::list_account_assignments, access::create_account_assignment))
        .routes(routes!(access::delete_account_assignment))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::update))
        .routes(routes!(tokens::list))
        .routes(routes!(tokens::revoke))
        .with_state(state)
        .split_for_parts();
    (Router::new().nest(BASE, router.method_not_allowed_fallback(error::no_such_method)), doc)
}

/// The API with its document at `/api/v1/openapi.json` and the reference page at `/api/docs`.
pub fn router<S: Clone + Send + Sync + 'static>(state: AppState) -> Router<S> {
    let (api, doc) = api(state);
    let json = serde_json::to_string_pretty(&doc).unwrap_or_default();
    let page = docs::page(&doc);
    api.route(
        &format!("{BASE}/openapi.json"),
        get(move || {
            let json = json.clone();
            async move { ([(http::header::CONTENT_TYPE, "application/json")], json) }
        }),
    )
    .route("/api/docs", get(move || std::future::ready(docs::serve(page.clone()))))
    // Anything else under the API is a JSON 404, not the portal's page.
    .route(&format!("{BASE}/{{*rest}}"), axum::routing::any(error::no_such_route))
}
