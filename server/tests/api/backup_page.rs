//! The backup page's operations over HTTP on SQLite and PostgreSQL: a periodic account's backups
//! within retention listed newest first; a retention change previewed with exactly the backups the
//! sweeper would then drop, named, and nothing saved by a preview; rules refused by name; the
//! storage series sampled once an hour by the sweep pass; a continuous account's window and lag,
//! and 30 → 7 days previewed as the window's start moving forward, then saved.

use backup::entities::backup_point;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_message, json_ok, spawn_app};
use crate::restore::backed_up_through;

async fn status(app: &TestApp, sub: &str, name: &str) -> Value {
    json_ok(app.call("backup_status", &[("subscription_id", sub), ("name", name)]).await).await
}

async fn preview(app: &TestApp, sub: &str, name: &str, change: &[(&str, &str)]) -> reqwest::Response {
    let mut args = vec![("subscription_id", sub), ("name", name)];
    args.extend_from_slice(change);
    app.call("preview_backup_policy", &args).await
}

fn secs(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn the_backup_page_shows_backups_and_what_a_change_drops(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login().await;
    let sub = app.subscription("S").await;
    let id = app.account(&sub, "per").await["id"].as_str().unwrap().to_owned();
    // The first periodic backup is taken as soon as the account exists.
    let mut first = None;
    for _ in 0..200 {
        first = backup_point::Entity::find().filter(backup_point::Column::AccountId.eq(&id)).one(&app.state.db).await.unwrap();
        if first.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let first = first.expect("a first periodic backup within 20 s");
    // Four older backups, as if the account had been backed up for two days.
    let now = Utc::now();
    for hours in [10, 20, 30, 40] {
        backup_point::ActiveModel {
            account_id: Set(id.clone()),
            taken_at: Set(now - Duration::hours(hours)),
            seq: Set(first.seq),
            items: Set(hours),
            bytes: Set(first.bytes),
            // They held a container the newest backup no longer does.
            containers: Set(Some(r#"["shop/old"]"#.into())),
            journaled: Set(true),
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }
    let keep_48 = [("interval_hours", "4"), ("retention_hours", "48")];
    let mut args = vec![("subscription_id", sub.as_str()), ("name", "per")];
    args.extend_from_slice(&keep_48);
    json_ok(app.call("change_backup_policy", &args).await).await;

    let s = status(&app, &sub, "per").await;
    assert_eq!(s["policy"]["retention_hours"], 48, "{s}");
    let items: Vec<i64> = s["points"].as_array().unwrap().iter().map(|p| p["items"].as_i64().unwrap()).collect();
    assert_eq!(items[1..], [10, 20, 30, 40], "newest first: {s}");
    assert_eq!(
        (s["points"][0]["deleted_containers"].clone(), s["points"][1]["deleted_containers"].clone()),
        (json!([]), json!(["shop/old"]))
    );
    assert!(s["stored_bytes"].as_i64().unwrap() >= first.bytes, "{s}");
    assert!(s["oldest_restorable"].is_null() && s["lag_ms"].is_null(), "periodic: no window: {s}");

    // Down to 8 h: the newest two stay (8 ÷ 4 copies; the second is also the last backup of the
    // deleted container), the three older ones go — named.
    let p = json_ok(preview(&app, &sub, "per", &[("retention_hours", "8")]).await).await;
    let drops: Vec<&str> = p["drops"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert_eq!(drops.len(), 3, "{p}");
    for (drop, hours) in drops.iter().zip([20, 30, 40]) {
        assert!(drop.contains(&secs(now - Duration::hours(hours))), "{drop}");
    }
    assert_eq!(p["after"]["retention_hours"], 8, "{p}");
    // Up to 6-hourly backups kept 48 h: eight copies, nothing dropped.
    let p = json_ok(preview(&app, &sub, "per", &[("interval_hours", "6")]).await).await;
    assert_eq!(p["drops"], serde_json::json!([]), "{p}");
    // Rules, by name; a preview saves nothing.
    let e = error_message(preview(&app, &sub, "per", &[("retention_hours", "7")]).await, StatusCode::BAD_REQUEST).await;
    assert!(e.contains("twice the interval"), "{e}");
    let e = error_message(preview(&app, &sub, "per", &[("interval_hours", "x")]).await, StatusCode::BAD_REQUEST).await;
    assert!(e.contains("backup interval must be a whole number"), "{e}");
    assert_eq!(status(&app, &sub, "per").await["policy"]["retention_hours"], 48);

    // Storage used: one sample per hour at most, from the sweep pass; the series ends now.
    let ctx = app.state.ctx();
    control::retention::sweep_pass(&ctx, now).await.unwrap();
    control::retention::sweep_pass(&ctx, now + Duration::minutes(30)).await.unwrap();
    let usage = status(&app, &sub, "per").await["usage"].as_array().unwrap().clone();
    assert_eq!(usage.len(), 2, "one sample and now: {usage:?}");
    assert_eq!(usage[0]["bytes"], usage[1]["bytes"], "{usage:?}");
    control::retention::sweep_pass(&ctx, now + Duration::minutes(61)).await.unwrap();
    assert_eq!(status(&app, &sub, "per").await["usage"].as_array().unwrap().len(), 3);

    // A continuous account made 20 days ago (its row moved back): the window, the lag, and
    // 30 → 7 days giving up the first thirteen days, shown before it is saved.
    let args = [("subscription_id", sub.as_str()), ("name", "con"), ("region", "local"), ("mode", "Continuous30Days")];
    let c = json_ok(app.call("create_account", &args).await).await;
    backed_up_through(&app, &sub, "con", Utc::now()).await;
    let row = control::db::account::Entity::find_by_id(c["id"].as_str().unwrap()).one(&app.state.db).await.unwrap().unwrap();
    let created = row.created_at - Duration::days(20);
    let mut moved: control::db::account::ActiveModel = row.into();
    moved.created_at = Set(created);
    moved.update(&app.state.db).await.unwrap();
    let s = status(&app, &sub, "con").await;
    assert_eq!(s["oldest_restorable"].as_str().map(|t| DateTime::parse_from_rfc3339(t).unwrap()), Some(created.into()), "{s}");
    let lag = s["lag_ms"].as_i64().unwrap();
    assert!((0..10_000).contains(&lag), "{s}");
    let p = json_ok(preview(&app, &sub, "con", &[("mode", "Continuous7Days")]).await).await;
    let drops = p["drops"].as_array().unwrap();
    assert_eq!(drops.len(), 1, "{p}");
    assert!(drops[0].as_str().unwrap().contains(&secs(created)), "{p}");
    let e = error_message(preview(&app, &sub, "con", &[("mode", "Periodic")]).await, StatusCode::BAD_REQUEST).await;
    assert!(e.contains("one-way"), "{e}");
    let args = [("subscription_id", sub.as_str()), ("name", "con"), ("mode", "Continuous7Days")];
    json_ok(app.call("change_backup_policy", &args).await).await;
    let s = status(&app, &sub, "con").await;
    let oldest = DateTime::parse_from_rfc3339(s["oldest_restorable"].as_str().unwrap()).unwrap();
    assert!((Utc::now() - Duration::days(7) - oldest.with_timezone(&Utc)).num_seconds().abs() < 60, "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_backup_page_shows_backups_and_what_a_change_drops() {
    the_backup_page_shows_backups_and_what_a_change_drops(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_backup_page_shows_backups_and_what_a_change_drops() {
    the_backup_page_shows_backups_and_what_a_change_drops(Backend::Postgres).await;
}
