//! One account's backup page: its policy (and, for those allowed, a form to change it that shows
//! which restore points a change drops before it is saved), what can be restored, how far
//! behind shipping is, storage used over time, and backup verification.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::authz::my_permissions;
use crate::backups::{
    BackupStatus, BackupVerification, ChangeBackupPolicy, PreviewBackupPolicy, UsageSample, VerifyBackups, get_backup_status,
    last_verification,
};
use crate::components::{FormError, LoadError, TypeToConfirm, format_bytes, format_time};
use crate::domain::rbac::actions;
use crate::domain::restore::BackupPoint;
use crate::domain::{BackupPolicy, ContinuousTier, Redundancy};

/// The backup page of the account in the URL.
#[component]
pub fn BackupPage() -> impl IntoView {
    let params = use_params_map();
    // Bumped after a policy change, so the page reads the account's backups again.
    let saved = RwSignal::new(0u32);
    let key = move || {
        let p = params.read();
        (p.get("sub").unwrap_or_default(), p.get("account").unwrap_or_default(), saved.get())
    };
    let status = Resource::new(key, |(sub, name, _)| get_backup_status(sub, name));
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let sub = params.read_untracked().get("sub").unwrap_or_default();
                match status.await {
                    Ok(s) => view! { <Backups sub=sub status=s saved=saved/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Backups(sub: String, status: BackupStatus, saved: RwSignal<u32>) -> impl IntoView {
    let account_href = format!("/subscriptions/{sub}/accounts/{}", status.account_name);
    let (sub_p, id) = (sub.clone(), status.account_id.clone());
    let perms = Resource::new(move || (sub_p.clone(), id.clone()), |(s, a)| my_permissions(s, a));
    let (sub_l, name_l) = (sub.clone(), status.account_name.clone());
    let last = Resource::new(move || (sub_l.clone(), name_l.clone()), |(s, n)| last_verification(s, n));
    let (sub_v, name_v, policy) = (StoredValue::new(sub.clone()), StoredValue::new(status.account_name.clone()), status.policy);
    let title = format!("Backups of {}", status.account_name);
    let crumb = status.account_name.clone();
    view! {
        <p class="crumbs">
            <A href="/subscriptions">"Subscriptions"</A>" / "<A href=format!("/subscriptions/{sub}")>"Subscription"</A>" / "
            <A href=account_href>{crumb}</A>" / Backups"
        </p>
        <h1>{title}</h1>
        <Facts status=status.clone()/>
        <RestorePoints status=status.clone()/>
        <UsageChart samples=status.usage.clone()/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let p = perms.await.unwrap_or_default();
                // Without backups/read the page does not load at all; the last result may be absent.
                let last = last.await.ok().flatten();
                let (sub, name) = (sub_v.get_value(), name_v.get_value());
                view! {
                    {p.allows(actions::ACCOUNTS_BACKUP_POLICY_WRITE).then(|| view! {
                        <PolicyForm sub=sub.clone() name=name.clone() policy=policy saved=saved/>
                        {matches!(policy, BackupPolicy::Periodic { .. }).then(|| view! {
                            <Migrate sub=sub.clone() name=name.clone() saved=saved/>
                        })}
                    })}
                    <Verification sub=sub.clone() name=name.clone() may_verify=p.allows(actions::BACKUPS_VERIFY) last=last/>
                }
            })}
        </Transition>
    }
}

#[component]
fn Facts(status: BackupStatus) -> impl IntoView {
    let mode = match status.policy {
        BackupPolicy::Periodic { .. } => "Periodic".to_owned(),
        BackupPolicy::Continuous { tier, .. } => format!("Continuous, {} days", tier.retention_days()),
    };
    let window = match (status.oldest_restorable, status.latest_restorable) {
        (Some(o), Some(l)) => Some(format!("{} to {}", format_time(&o), format_time(&l))),
        _ => None,
    };
    view! {
        <dl class="facts card" data-testid="backup-facts">
            <dt>"Mode"</dt><dd data-testid="backup-mode">{mode}</dd>
            <dt>"Policy"</dt><dd data-testid="backup-policy">{status.policy.summary()}</dd>
            <dt>"Redundancy"</dt><dd>{status.policy.redundancy().to_string()}</dd>
            <dt>"Encryption"</dt><dd>{status.encryption.clone()}</dd>
            <dt>"Stored"</dt><dd data-testid="stored-bytes">{format_bytes(status.stored_bytes)}</dd>
            {status.migrated_at.map(|m| view! {
                <dt>"Migrated"</dt><dd data-testid="migrated-at">{format!("from periodic backup, {}", format_time(&m))}</dd>
            })}
            {matches!(status.policy, BackupPolicy::Continuous { .. }).then(|| view! {
                <dt>"Restorable window"</dt>
                <dd data-testid="backup-window">{window.unwrap_or_else(|| "No restore point yet: the first backup runs within seconds.".into())}</dd>
                <dt>"Shipping lag"</dt>
                <dd data-testid="backup-lag">{status.lag_ms.map_or_else(|| "—".to_owned(), |ms| format!("{:.1} s behind", ms as f64 / 1000.0))}</dd>
            })}
        </dl>
    }
}

/// Periodic: each backup within retention. Continuous: the base snapshots and the log after them.
#[component]
fn RestorePoints(status: BackupStatus) -> impl IntoView {
    let periodic = matches!(status.policy, BackupPolicy::Periodic { .. });
    let (title, rows, empty) = if periodic {
        ("Backups within retention", status.points.clone(), "No backup yet: the first runs within minutes of the account's creation.")
    } else {
        ("Base snapshots", status.snapshots, "No base snapshot yet: restores replay the log from the start.")
    };
    view! {
        <section class="card" data-testid="restore-points">
            <h2>{title}</h2>
            {if rows.is_empty() {
                view! { <p>{empty}</p> }.into_any()
            } else {
                view! { <PointTable rows=rows/> }.into_any()
            }}
            {(!periodic).then(|| view! {
                <p data-testid="backup-log">{match (status.log_from, status.log_to) {
                    (Some(from), Some(to)) => format!("Change log: {} segment(s), {}, changes from {} to {}.",
                        status.log_segments, format_bytes(status.log_bytes), format_time(&from), format_time(&to)),
                    _ => "Change log: nothing shipped yet.".to_owned(),
                }}</p>
            })}
        </section>
        {(!periodic && !status.points.is_empty()).then(|| view! {
            <section class="card" data-testid="periodic-points">
                <h2>"Periodic backups from before the migration"</h2>
                <p class="muted">"Restorable by request until each expires."</p>
                <PointTable rows=status.points.clone()/>
            </section>
        })}
    }
}

#[component]
fn PointTable(rows: Vec<BackupPoint>) -> impl IntoView {
    view! {
        <table class="list">
            <thead><tr><th>"Taken"</th><th>"Items"</th><th>"Size"</th><th>"Note"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|p| view! {
                    <tr>
                        <td>{format_time(&p.taken_at)}</td><td>{p.items}</td><td>{format_bytes(p.bytes)}</td>
                        <td>{(!p.deleted_containers.is_empty()).then(|| format!(
                            "holds deleted {}", p.deleted_containers.join(", ")))}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Storage used over time as a line (an SVG drawn from the recorded samples, ending now).
#[component]
fn UsageChart(samples: Vec<UsageSample>) -> impl IntoView {
    const W: f64 = 600.0;
    const H: f64 = 120.0;
    const PAD: f64 = 4.0;
    let (Some(first), Some(last)) = (samples.first().copied(), samples.last().copied()) else {
        return ().into_any();
    };
    let span = (last.at - first.at).num_seconds().max(1) as f64;
    let top = samples.iter().map(|s| s.bytes).max().unwrap_or(0).max(1) as f64;
    let xy = |s: &UsageSample| {
        let x = PAD + (s.at - first.at).num_seconds() as f64 / span * (W - 2.0 * PAD);
        let y = H - PAD - s.bytes as f64 / top * (H - 2.0 * PAD);
        (x, y)
    };
    let points: Vec<(f64, f64)> = samples.iter().map(xy).collect();
    let line = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ");
    let (lx, ly) = points.last().copied().unwrap_or((PAD, H - PAD));
    view! {
        <section class="card" data-testid="storage-chart">
            <h2>"Storage used"</h2>
            <svg viewBox=format!("0 0 {W} {H}") class="chart" role="img"
                aria-label=format!("Backup storage used over time: {} now", format_bytes(last.bytes))>
                <line x1=PAD y1={H - PAD} x2={W - PAD} y2={H - PAD} class="axis"/>
                <polyline points=line class="series"/>
                <circle cx=lx cy=ly r="3" class="series-end"/>
            </svg>
            <p class="muted">{format!("{} now; {} sample(s) since {}, highest {}.",
                format_bytes(last.bytes), samples.len(), format_time(&first.at), format_bytes(top as i64))}</p>
        </section>
    }
    .into_any()
}

/// The policy form: "Review change" shows the policy after it and what it drops; "Save change"
/// saves exactly what was reviewed.
#[component]
fn PolicyForm(sub: String, name: String, policy: BackupPolicy, saved: RwSignal<u32>) -> impl IntoView {
    let preview = ServerAction::<PreviewBackupPolicy>::new();
    let save = ServerAction::<ChangeBackupPolicy>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            saved.update(|n| *n += 1);
        }
    });
    let (sub_s, name_s) = (StoredValue::new(sub.clone()), StoredValue::new(name.clone()));
    let redundancy_now = policy.redundancy();
    let redundancy = move || {
        view! {
            <label>"Redundancy (applies to backups taken from now on)"
                <select name="redundancy">
                    {[Redundancy::Local, Redundancy::Zone, Redundancy::Geo].into_iter().map(|r| view! {
                        <option value=r.to_string() selected={r == redundancy_now}>{r.to_string()}</option>
                    }).collect_view()}
                </select>
            </label>
        }
    };
    let fields = match policy {
        BackupPolicy::Periodic { interval_hours, retention_hours, .. } => view! {
            <input type="hidden" name="mode" value="Periodic"/>
            <label>"Backup interval (hours, 1–24)"
                <input type="number" name="interval_hours" min="1" max="24" value=interval_hours.to_string()/>
            </label>
            <label>"Retention (hours, twice the interval to 720)"
                <input type="number" name="retention_hours" min="2" max="720" value=retention_hours.to_string()/>
            </label>
            {redundancy()}
        }
        .into_any(),
        BackupPolicy::Continuous { tier, .. } => view! {
            <label>"Tier"
                <select name="mode">
                    {[ContinuousTier::Continuous7Days, ContinuousTier::Continuous30Days].into_iter().map(|t| view! {
                        <option value=t.to_string() selected={t == tier}>{format!("{} days", t.retention_days())}</option>
                    }).collect_view()}
                </select>
            </label>
            <p class="muted">"30 → 7 days drops the older history at once; 7 → 30 brings nothing older back."</p>
            {redundancy()}
        }
        .into_any(),
    };
    let reviewed = move || preview.value().get().and_then(Result::ok);
    view! {
        <section class="card" data-testid="policy-form">
            <h2>"Change backup policy"</h2>
            <ActionForm action=preview attr:class="form">
                <input type="hidden" name="subscription_id" value=sub/>
                <input type="hidden" name="name" value=name/>
                {fields}
                <button type="submit" class="secondary" disabled=move || preview.pending().get()>"Review change"</button>
            </ActionForm>
            <FormError value=preview.value()/>
            {move || reviewed().map(|p| {
                let after = p.after;
                view! {
                    <div class="review" data-testid="policy-review">
                        <p>"After the change: "<strong>{after.summary()}</strong></p>
                        {if p.drops.is_empty() {
                            view! { <p data-testid="policy-drops">"No restore point is dropped."</p> }.into_any()
                        } else {
                            view! {
                                <p class="error">"Saving drops at once:"</p>
                                <ul data-testid="policy-drops">{p.drops.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}</ul>
                            }.into_any()
                        }}
                        <button type="button" disabled=move || save.pending().get()
                            on:click=move |_| { save.dispatch(change_to(sub_s.get_value(), name_s.get_value(), after)); }>
                            "Save change"
                        </button>
                    </div>
                }
            })}
            <FormError value=save.value()/>
        </section>
    }
}

/// Migration to continuous backup, behind the irreversible-action confirmation: the account's
/// name typed, as for deleting it.
#[component]
fn Migrate(sub: String, name: String, saved: RwSignal<u32>) -> impl IntoView {
    let migrate = ServerAction::<ChangeBackupPolicy>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = migrate.value().get() {
            saved.update(|n| *n += 1);
        }
    });
    let confirmed = RwSignal::new(false);
    view! {
        <section class="card danger" data-testid="migrate">
            <h2>"Migrate to continuous backup"</h2>
            <details>
                <summary>"Migrate this account to continuous backup…"</summary>
                <p>"Continuous backup restores to any second of the last 7 or 30 days. The migration is one-way and cannot be \
                    cancelled: the account can never go back to periodic backup. Restore points exist from the moment it completes; \
                    the periodic backups taken so far stay restorable by request until they expire."</p>
                <ActionForm action=migrate attr:class="form">
                    <input type="hidden" name="subscription_id" value=sub/>
                    <input type="hidden" name="name" value=name.clone()/>
                    <label>"Continuous tier"
                        <select name="mode">
                            <option value=ContinuousTier::Continuous7Days.to_string()>"7 days"</option>
                            <option value=ContinuousTier::Continuous30Days.to_string()>"30 days"</option>
                        </select>
                    </label>
                    <TypeToConfirm expected=name.clone() label="Confirm migration" confirmed=confirmed/>
                    <button type="submit" class="danger" disabled=move || !confirmed.get() || migrate.pending().get()>"Migrate to continuous backup"</button>
                    <FormError value=migrate.value()/>
                </ActionForm>
            </details>
        </section>
    }
}

/// The change that makes an account's policy `after`.
fn change_to(subscription_id: String, name: String, after: BackupPolicy) -> ChangeBackupPolicy {
    let (mode, interval_hours, retention_hours) = match after {
        BackupPolicy::Periodic { interval_hours, retention_hours, .. } => {
            ("Periodic".to_owned(), Some(interval_hours.to_string()), Some(retention_hours.to_string()))
        }
        BackupPolicy::Continuous { tier, .. } => (tier.to_string(), None, None),
    };
    ChangeBackupPolicy {
        subscription_id,
        name,
        mode: Some(mode),
        interval_hours,
        retention_hours,
        redundancy: Some(after.redundancy().to_string()),
    }
}

/// The last verification of the account's backups and, for those allowed, "verify now" (whose
/// result then shows in its place).
#[component]
fn Verification(sub: String, name: String, may_verify: bool, last: Option<BackupVerification>) -> impl IntoView {
    let verify = ServerAction::<VerifyBackups>::new();
    let last = StoredValue::new(last);
    let shown = move || verify.value().get().and_then(Result::ok).or_else(|| last.get_value());
    view! {
        <section class="card" data-testid="verification">
            <h2>"Backup verification"</h2>
            {move || match shown() {
                Some(v) => view! { <VerificationResult v=v/> }.into_any(),
                None => view! { <p data-testid="verification-result">"Not verified yet."</p> }.into_any(),
            }}
            {may_verify.then(|| view! {
                <ActionForm action=verify attr:class="form inline-form">
                    <input type="hidden" name="subscription_id" value=sub.clone()/>
                    <input type="hidden" name="name" value=name.clone()/>
                    <label class="check"><input type="checkbox" name="deep" value="on"/>"Read every copy (deep)"</label>
                    <button type="submit" disabled=move || verify.pending().get()>"Verify now"</button>
                </ActionForm>
                <FormError value=verify.value()/>
            })}
        </section>
    }
}

#[component]
fn VerificationResult(v: BackupVerification) -> impl IntoView {
    let verdict = if v.passed { "Passed".to_owned() } else { format!("{} problem(s)", v.problem_count) };
    let class = if v.passed { "state state-Online" } else { "state state-Failed" };
    view! {
        <p data-testid="verification-result">
            <span class=class>{verdict}</span>
            {format!(" — {} check of {} object copies ({} bytes), {} by {}",
                if v.deep { "deep" } else { "presence" }, v.objects, v.bytes, format_time(&v.finished_at), v.requested_by)}
        </p>
        {(!v.problems.is_empty()).then(|| view! {
            <ul class="problems" data-testid="verification-problems">
                {v.problems.into_iter().map(|p| view! { <li><code>{p}</code></li> }).collect_view()}
            </ul>
        })}
    }
}
