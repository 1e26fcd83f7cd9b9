//! First start: the first admin is created once, as root Owner, however often start-up runs.

use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::TestApp;

async fn the_first_admin_is_created_once_as_root_owner(app: TestApp) {
    let settings = rewind_server::Settings::from_figment(
        figment::Figment::new().merge(figment::providers::Serialized::default("admin_password", "another-password-1")),
    )
    .unwrap();
    let again = rewind_server::bootstrap::ensure_first_admin(&app.state.db, &settings).await.unwrap();
    assert_eq!(again, rewind_server::bootstrap::FirstAdmin::Existing);
    assert_eq!(control::db::user::Entity::find().count(&app.state.db).await.unwrap(), 1);
    let assignments = control::db::role_assignment::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(assignments.len(), 1);
    assert_eq!((assignments[0].role_id.as_str(), assignments[0].scope_kind.as_str()), ("builtin:Owner", "root"));
}

crate::on_both_backends!(the_first_admin_is_created_once_as_root_owner);

/// Two replicas booting at once on one fresh PostgreSQL database: the migrations run once (under
/// an advisory lock) and both start, with one first admin between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_booting_together_on_one_postgresql_database_both_start() {
    use crate::helpers::{Backend, PgDatabase, spawn_app_with};
    use figment::providers::Serialized;
    let pg = PgDatabase::create().await;
    let shared = || figment::Figment::new().merge(Serialized::default("database_url", pg.url.clone()));
    let (a, b) = tokio::join!(spawn_app_with(Backend::Sqlite, shared()), spawn_app_with(Backend::Sqlite, shared()));
    for app in [&a, &b] {
        let res = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
        assert!(res.status().is_success());
        app.login().await;
    }
    assert_eq!(control::db::user::Entity::find().count(&a.state.db).await.unwrap(), 1);
}
