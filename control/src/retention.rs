//! The retention sweep from the control plane's side: what each account keeps, from its policy
//! and the clock ([`keep`]), and a pass over every account with backups ([`sweep_pass`], run by
//! a leased worker), each sweep that removed something audited, and the storage each account's
//! backups take then sampled (`backup::usage`).

use backup::entities::restore_job::{self, JobState};
use backup::retention::{Keep, Swept};
use chrono::{DateTime, Duration, Utc};
use domain::audit::Outcome;
use domain::{AccountState, BackupPolicy};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::Ctx;
use crate::audit::{Record, append_all};
use crate::db::account;
use crate::restore::{oldest_restorable, periodic_backups_until};

/// The least number of periodic backups an account keeps, whatever their age (SPEC §3b).
const LEAST_COPIES: u32 = 2;

/// What `row`'s backups must keep as of `now`; `None` while it is being restored into (its
/// backups begin when the restore does). An account migrated to continuous backup keeps its
/// window and, while its periodic backups from before may still be restored, everything since
/// the oldest of them could have been taken.
pub fn keep(row: &account::Model, now: DateTime<Utc>) -> Option<Keep> {
    if row.state == AccountState::Restoring {
        return None;
    }
    let retention = match row.backup_policy {
        BackupPolicy::Continuous { tier, .. } => Duration::days(i64::from(tier.retention_days())),
        BackupPolicy::Periodic { retention_hours, .. } => Duration::hours(i64::from(retention_hours)),
    };
    // A migrated account's periodic backups stay restorable by request until the newest of them
    // expires (a deleted container's last one, 30 days after it was taken).
    let periodic_until = periodic_backups_until(row);
    if row.deleted_at.is_some_and(|d| d + retention <= now) && periodic_until.is_none_or(|until| until <= now) {
        return Some(Keep::Nothing);
    }
    match row.backup_policy {
        BackupPolicy::Continuous { .. } => oldest_restorable(row, now).map(|oldest| match periodic_until {
            // Everything from the oldest periodic backup that may still be restored: the window
            // sweep keeps the snapshots from the one it stands on (their points with them).
            Some(until) if now < until => Keep::Window { oldest: oldest.min(now - (until - row.migrated_at.unwrap_or(now))) },
            _ => Keep::Window { oldest },
        }),
        BackupPolicy::Periodic { interval_hours, retention_hours, .. } => Some(Keep::Points {
            since: now - retention,
            deleted_since: now - backup::retention::DELETED_CONTAINERS_KEPT,
            newest: usize::try_from((retention_hours / interval_hours.max(1)).max(LEAST_COPIES)).unwrap_or(usize::MAX),
        }),
    }
}

/// Sweeps every account with backups as of `now` — but the sources of restores not finished —
/// and returns what went, per account id. One account's failure does not stop the others (it
/// is logged and its sweep runs again next pass).
///
/// # Errors
/// Database errors listing the accounts.
pub async fn sweep_pass(ctx: &Ctx<'_>, now: DateTime<Utc>) -> Result<Vec<(String, Swept)>, sea_orm::DbErr> {
    let kek = ctx.backup_kek();
    let keyed: std::collections::HashSet<String> =
        backup::entities::backup_key::Entity::find().all(ctx.db).await?.into_iter().map(|k| k.account_id).collect();
    // A restore filed, waiting or running reads the backups it was planned on: its source is
    // left alone until it ends.
    let restoring: std::collections::HashSet<String> = restore_job::Entity::find()
        .filter(restore_job::Column::State.is_in([JobState::AwaitingApproval, JobState::Pending, JobState::Running]))
        .all(ctx.db)
        .await?
        .into_iter()
        .map(|j| j.source_account_id)
        .collect();
    let mut out = Vec::new();
    for row in account::Entity::find().all(ctx.db).await?.into_iter().filter(|a| keyed.contains(&a.id) && !restoring.contains(&a.id)) {
        let Some(keep) = keep(&row, now) else { continue };
        let storage = match ctx.backup_storage.writing_for(row.backup_policy.redundancy()) {
            Ok(storage) => storage,
            Err(e) => {
                tracing::warn!(account = %row.name, error = %e, "cannot sweep the account's backups");
                continue;
            }
        };
        match backup::retention::sweep(ctx.db, &storage, &kek, &row.id, keep).await {
            Ok(swept) if swept.is_empty() => {}
            Ok(swept) => {
                audit(ctx, &row, keep, &swept).await;
                out.push((row.id.clone(), swept));
            }
            Err(e) => tracing::warn!(account = %row.name, error = %e, "retention sweep failed; it runs again next pass"),
        }
        // What is left is what the account's backups take: the backup page's chart.
        if keep != Keep::Nothing
            && let Err(e) = backup::usage::sample(ctx.db, &row.id, now).await
        {
            tracing::warn!(account = %row.name, error = %e, "recording backup storage used failed");
        }
    }
    Ok(out)
}

async fn audit(ctx: &Ctx<'_>, row: &account::Model, keep: Keep, swept: &Swept) {
    let why = match keep {
        Keep::Window { oldest } => format!("outside the restorable window, which begins {}", oldest.to_rfc3339()),
        Keep::Points { since, newest, .. } => {
            format!("backups older than {} beyond the newest {newest} (but deleted containers' last, 30 days)", since.to_rfc3339())
        }
        Keep::Nothing => "everything: the account was deleted longer ago than its retention".to_owned(),
    };
    let scope = row.scope();
    let record = Record {
        user_id: String::new(),
        user_name: "rewind (retention)".into(),
        client_ip: String::new(),
        action: "backups/sweep".into(),
        scope: scope.to_string(),
        resource: scope.to_string(),
        outcome: Outcome::Succeeded,
        detail: format!(
            "removed {} snapshot(s), {} segment(s), {} restore point(s): {} object copies, {} bytes — {why}",
            swept.snapshots, swept.segments, swept.points, swept.objects, swept.bytes
        ),
    };
    append_all(ctx.db, vec![record]).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{ContinuousTier, CreateMode, KeyManagement, Redundancy};

    fn row(policy: BackupPolicy, state: AccountState, deleted_at: Option<DateTime<Utc>>, created_at: DateTime<Utc>) -> account::Model {
        account::Model {
            id: "a".into(),
            subscription_id: "s".into(),
            name: "a".into(),
            region: "local".into(),
            api_kind: domain::ApiKind::Sql,
            state,
            created_at,
            deleted_at,
            backup_policy: policy,
            key_management: KeyManagement::ServiceManaged,
            create_mode: CreateMode::Default,
            sealed_keys: String::new(),
            restore_parameters: None,
            online_since: None,
            customer_key: None,
            migrated_at: None,
            periodic_retention_hours: None,
        }
    }

    #[test]
    fn what_an_account_keeps_follows_its_policy_and_the_clock() {
        let now = Utc::now();
        let long_ago = now - Duration::days(100);
        let seven = BackupPolicy::Continuous { tier: ContinuousTier::Continuous7Days, redundancy: Redundancy::Local };
        assert_eq!(keep(&row(seven, AccountState::Online, None, long_ago), now), Some(Keep::Window { oldest: now - Duration::days(7) }));
        // A young account's window starts at its creation.
        let young = now - Duration::days(2);
        assert_eq!(keep(&row(seven, AccountState::Online, None, young), now), Some(Keep::Window { oldest: young }));
        // Deleted: its window until its retention runs out, then nothing.
        let deleted = now - Duration::days(3);
        assert_eq!(
            keep(&row(seven, AccountState::Deleted, Some(deleted), long_ago), now),
            Some(Keep::Window { oldest: now - Duration::days(7) })
        );
        assert_eq!(keep(&row(seven, AccountState::Deleted, Some(now - Duration::days(8)), long_ago), now), Some(Keep::Nothing));
        // Being restored into: nothing is swept.
        assert_eq!(keep(&row(seven, AccountState::Restoring, None, long_ago), now), None);

        let periodic =
            |interval_hours, retention_hours| BackupPolicy::Periodic { interval_hours, retention_hours, redundancy: Redundancy::Local };
        assert_eq!(
            keep(&row(periodic(4, 24), AccountState::Online, None, long_ago), now),
            Some(Keep::Points { since: now - Duration::hours(24), newest: 6, deleted_since: now - Duration::days(30) })
        );
        // Never fewer than two copies.
        assert_eq!(
            keep(&row(periodic(8, 8), AccountState::Online, None, long_ago), now),
            Some(Keep::Points { since: now - Duration::hours(8), newest: 2, deleted_since: now - Duration::days(30) })
        );
        assert_eq!(keep(&row(periodic(4, 24), AccountState::Deleted, Some(now - Duration::hours(25)), long_ago), now), Some(Keep::Nothing));

        // Migrated from periodic to continuous: while its periodic backups may still be
        // restored (30 days at least, for a deleted container's last), everything since the
        // oldest of them; then its window (from the migration) rules.
        let migrated = |at: DateTime<Utc>, hours, state, deleted_at| account::Model {
            migrated_at: Some(at),
            periodic_retention_hours: Some(hours),
            ..row(seven, state, deleted_at, long_ago)
        };
        let month = now - Duration::days(30);
        assert_eq!(keep(&migrated(now - Duration::hours(10), 48, AccountState::Online, None), now), Some(Keep::Window { oldest: month }));
        assert_eq!(keep(&migrated(now - Duration::hours(49), 48, AccountState::Online, None), now), Some(Keep::Window { oldest: month }));
        assert_eq!(
            keep(&migrated(now - Duration::days(31), 48, AccountState::Online, None), now),
            Some(Keep::Window { oldest: now - Duration::days(7) })
        );
        // Deleted longer ago than its tier's 7 days, its periodic backups (kept 30 days) not
        // expired yet: kept until they are.
        let (at, deleted) = (now - Duration::days(9), Some(now - Duration::days(8)));
        assert_eq!(keep(&migrated(at, 720, AccountState::Deleted, deleted), now), Some(Keep::Window { oldest: month }));
        assert_eq!(keep(&migrated(at, 720, AccountState::Deleted, deleted), now + Duration::days(22)), Some(Keep::Nothing));
    }
}
