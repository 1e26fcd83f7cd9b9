//! The restore page of a subscription: restorable accounts (live and deleted) with their
//! restorable windows, and the restore jobs with live progress.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use std::time::Duration;

use crate::components::{LoadError, format_time};
use crate::restore::{JOBS_PAGE, RestoreJob, decide_restore_request, list_restorable_accounts, list_restore_jobs};

/// How often the job list refreshes while the page is open.
const POLL: Duration = Duration::from_secs(1);

/// Restorable accounts and restore jobs of the subscription in the URL.
#[component]
pub fn RestorePage() -> impl IntoView {
    let params = use_params_map();
    let sub_id = move || params.read().get("sub").unwrap_or_default();
    let accounts = Resource::new(sub_id, list_restorable_accounts);
    let tick = RwSignal::new(0u64);
    // Refresh the jobs while the page is open (in the browser only).
    Effect::new(move |_| {
        let handle = set_interval_with_handle(move || tick.update(|t| *t += 1), POLL).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    });
    // Jobs are paged: the newest page, or the page older than `before` (its first job's id).
    let before = RwSignal::new(None::<String>);
    let jobs = Resource::new(move || (sub_id(), before.get(), tick.get()), |(s, b, _)| list_restore_jobs(s, b));

    view! {
        <p class="crumbs">
            <A href="/subscriptions">"Subscriptions"</A>" / "
            <A href=move || format!("/subscriptions/{}", sub_id())>"Subscription"</A>" / restore"
        </p>
        <h1>"Point-in-time restore"</h1>
        <p class="hint">"Accounts with continuous backup can be restored to any second of their restorable window, into a new account; deleted accounts stay restorable for their retention period. Accounts with periodic backup are restored from one of their full backups by request, once approved."</p>
        <h2>"Restorable accounts"</h2>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match accounts.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty" data-testid="no-restorable">"No restorable accounts you can see. Accounts need continuous backup to be restored to a point in time."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="list" data-testid="restorable-accounts">
                            <thead><tr>
                                <th>"Account"</th><th>"State"</th><th>"Backup"</th><th>"Created"</th>
                                <th>"Oldest restore point"</th><th>"Latest restore point"</th><th></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|a| {
                                    let href = format!("/subscriptions/{}/restore/{}", sub_id(), a.id);
                                    let window = a.oldest_restorable.zip(a.latest_restorable);
                                    let restorable = a.can_restore && window.is_some();
                                    let requestable = a.periodic && a.can_request && window.is_some();
                                    view! {
                                        <tr data-account=a.name.clone()>
                                            <td>{a.name.clone()}</td>
                                            <td>
                                                <span class=format!("state state-{}", a.state)>{a.state.to_string()}</span>
                                                {a.deleted_at.map(|d| view! { <span class="hint">" since "{format_time(&d)}</span> })}
                                            </td>
                                            <td>{a.tier.clone()}</td>
                                            <td>{format_time(&a.created_at)}</td>
                                            <td>{a.oldest_restorable.map_or_else(|| "no restore point yet".to_owned(), |t| format_time(&t))}</td>
                                            <td>{a.latest_restorable.map_or_else(String::new, |t| format_time(&t))}</td>
                                            <td>
                                                {restorable.then(|| view! { <A href=href.clone() attr:class="button">"Restore…"</A> })}
                                                {requestable.then(|| view! { <A href=href.clone() attr:class="button">"Request restore…"</A> })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Transition>
        <h2>"Restore jobs"</h2>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match jobs.await {
                    Ok(list) if list.is_empty() && before.get_untracked().is_none() => {
                        view! { <p class="empty">"No restores yet."</p> }.into_any()
                    }
                    Ok(list) => {
                        // A full page may have older jobs after it.
                        let older = (list.len() as u64 == JOBS_PAGE).then(|| list.last().map(|j| j.id.clone())).flatten();
                        let paged = before.get_untracked().is_some();
                        view! {
                            <Jobs jobs=list/>
                            <p class="pager">
                                {paged.then(|| view! {
                                    <button type="button" on:click=move |_| before.set(None)>"Newest jobs"</button>
                                })}
                                {older.map(|id| view! {
                                    <button type="button" data-testid="older-jobs" on:click=move |_| before.set(Some(id.clone()))>"Older jobs"</button>
                                })}
                            </p>
                        }.into_any()
                    }
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Jobs(jobs: Vec<RestoreJob>) -> impl IntoView {
    let decide = Action::new(move |(sub, id, approve, reason): &(String, String, bool, String)| {
        let args = (sub.clone(), id.clone(), approve.to_string(), reason.clone());
        async move { decide_restore_request(args.0, args.1, args.2, args.3).await }
    });
    let sub = use_params_map().read_untracked().get("sub").unwrap_or_default();
    view! {
        {move || decide.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
        <table class="list" data-testid="restore-jobs">
            <thead><tr>
                <th>"Source"</th><th>"Target"</th><th>"Restore point"</th><th>"What"</th>
                <th>"State"</th><th>"Progress"</th><th>"Requested"</th>
            </tr></thead>
            <tbody>
                {jobs.into_iter().map(|j| {
                    let what = if j.resources.is_empty() { "whole account".to_owned() } else { j.resources.join(", ") };
                    let pct = j.percent();
                    let phase = if j.is_finished() { String::new() } else { format!("{} · ", j.phase.as_str()) };
                    view! {
                        <tr data-target=j.target_account_name.clone() data-state=j.state.as_str()>
                            <td>{j.source_account_name.clone()}</td>
                            <td>{j.target_account_name.clone()}</td>
                            <td>{format_time(&j.restore_at)}</td>
                            <td>{what}{j.ttl_disabled.then_some(" (TTL off)")}</td>
                            <td>
                                <span class=format!("state job-{}", j.state.as_str())>{j.state.as_str()}</span>
                                {(!j.message.is_empty()).then(|| view! { <div class="hint job-message">{j.message.clone()}</div> })}
                                {j.can_decide.then(|| {
                                    let reason = RwSignal::new(String::new());
                                    let (s1, s2, id1, id2) = (sub.clone(), sub.clone(), j.id.clone(), j.id.clone());
                                    view! {
                                        <div class="row-form decide">
                                            <input type="text" placeholder="reason (optional)" aria-label="Reason"
                                                on:input=move |ev| reason.set(event_target_value(&ev)) prop:value=reason/>
                                            <button type="button" disabled=move || decide.pending().get()
                                                on:click=move |_| { decide.dispatch((s1.clone(), id1.clone(), true, reason.get_untracked())); }>"Approve"</button>
                                            <button type="button" class="danger" disabled=move || decide.pending().get()
                                                on:click=move |_| { decide.dispatch((s2.clone(), id2.clone(), false, reason.get_untracked())); }>"Reject"</button>
                                        </div>
                                    }
                                })}
                            </td>
                            <td>
                                // A native bar: no inline style, so the page works under a strict CSP.
                                <progress class="progress" max="100" value=pct.to_string() aria-label="Restore progress" aria-valuenow=pct.to_string()></progress>
                                <span class="hint">{format!("{phase}{} of {} items", j.items_done, j.items_total)}</span>
                            </td>
                            <td>{j.requested_by.clone()}<br/><span class="hint">{format_time(&j.created_at)}</span></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
