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
