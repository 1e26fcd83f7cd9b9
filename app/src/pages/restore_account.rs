//! Restoring one account: pick a second inside its restorable window, see the databases and
//! containers that existed then, choose what to bring back, name the new account, review, start.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use std::collections::BTreeSet;

use crate::components::{FormError, LoadError, format_time};
use crate::domain::AccountName;
use crate::restore::{
    RequestRestore, RestorableAccount, StartRestore, list_backups, list_resource_events, list_restorable_accounts, preview_restore,
    restorable_resources, restore_in_place,
};

/// The restore form for the account (by id) in the URL.
#[component]
pub fn RestoreAccountPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (p.get("sub").unwrap_or_default(), p.get("account").unwrap_or_default())
    };
    let accounts = Resource::new(move || key().0, list_restorable_accounts);
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (sub, id) = key();
                match accounts.await {
                    Ok(list) => match list.into_iter().find(|a| a.id == id) {
                        Some(a) if a.periodic => view! { <RequestForm sub=sub account=a/> }.into_any(),
                        Some(a) => view! { <RestoreForm sub=sub account=a/> }.into_any(),
                        None => view! {
                            <p class="error" role="alert">"This account is not restorable, or you may not see its restore points."</p>
                        }.into_any(),
                    },
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `2026-11-25T10:15:30`, the form a `datetime-local` input with seconds holds.
fn input_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

#[component]
fn RestoreForm(sub: String, account: RestorableAccount) -> impl IntoView {
    let restore_page = format!("/subscriptions/{sub}/restore");
    let start = ServerAction::<StartRestore>::new();
    let navigate = use_navigate();
    let after = restore_page.clone();
    Effect::new(move |_| {
        if let Some(Ok(_)) = start.value().get() {
            navigate(&after, Default::default());
        }
    });

    let window = account.oldest_restorable.zip(account.latest_restorable);
    let src_name = StoredValue::new(account.name.clone());
    let at = RwSignal::new(account.latest_restorable.as_ref().map(input_time).unwrap_or_default());
    let target = RwSignal::new(format!("{}-restored", account.name));
    let picked = RwSignal::new(BTreeSet::<String>::new());
    let (sub_v, id_v) = (StoredValue::new(sub.clone()), StoredValue::new(account.id.clone()));
    let load = Action::new(move |at: &String| {
        let at = at.clone();
        async move { restorable_resources(sub_v.get_value(), id_v.get_value(), at).await }
    });
    let name_problem = move || AccountName::parse(&target.get()).err().map(|e| e.to_string());
    let resources = move || picked.get().into_iter().collect::<Vec<_>>().join(",");
    // A dry run: the plan the restore would run, checked as starting it would be, filed nowhere.
    let preview = Action::new(move |(at, target, resources): &(String, String, String)| {
        let (at, target, resources) = (at.clone(), target.clone(), resources.clone());
        async move { preview_restore(sub_v.get_value(), id_v.get_value(), at, target, resources, None).await }
    });
    let toggle = move |entry: String, on: bool| {
        picked.update(|p| {
            if on {
                p.insert(entry);
            } else {
                p.remove(&entry);
            }
        });
    };

    view! {
        <p class="crumbs">
            <A href="/subscriptions">"Subscriptions"</A>" / "
            <A href=format!("/subscriptions/{sub}")>"Subscription"</A>" / "
            <A href=restore_page.clone()>"Restore"</A>" / "{account.name.clone()}
        </p>
        <h1>"Restore "{account.name.clone()}</h1>
        <dl class="facts card" data-testid="restore-window">
            <dt>"State"</dt><dd>{account.state.to_string()}</dd>
            <dt>"Backup"</dt><dd>{account.tier.clone()}</dd>
            <dt>"Restorable from"</dt><dd>{window.map(|(o, _)| format_time(&o))}</dd>
            <dt>"Restorable to"</dt><dd>{window.map(|(_, l)| format_time(&l))}</dd>
        </dl>
        <ActionForm action=start attr:class="card form" attr:data-testid="restore-form">
            <input type="hidden" name="subscription_id" value=sub.clone()/>
            <input type="hidden" name="source_account_id" value=account.id.clone()/>
            <label>"Restore point (UTC, to the second)"
                <input type="datetime-local" step="1" name="restore_at" required
                    min=window.map(|(o, _)| input_time(&o)) max=window.map(|(_, l)| input_time(&l))
                    on:input=move |ev| at.set(event_target_value(&ev)) prop:value=at/>
            </label>
            <div>
                <button type="button" on:click=move |_| { load.dispatch(at.get()); }>"Show what existed then"</button>
            </div>
            {move || load.value().get().map(|r| match r {
                Ok(dbs) if dbs.is_empty() => view! { <p class="empty">"The account held no databases at that time."</p> }.into_any(),
                Ok(dbs) => view! {
                    <fieldset class="resources" data-testid="resources-at">
                        <legend>"What to restore (nothing ticked = the whole account)"</legend>
                        {dbs.into_iter().map(|d| {
                            let db_entry = d.id.clone();
                            let shared = d.shared_throughput;
                            view! {
                                <div class="resource-db">
                                    <label class="check">
                                        <input type="checkbox" data-resource=db_entry.clone()
                                            on:change={
                                                let e = db_entry.clone();
                                                move |ev| toggle(e.clone(), event_target_checked(&ev))
                                            }/>
                                        <strong>{d.id.clone()}</strong>
                                        {shared.map(|t| view! { <span class="hint">{format!(" shared {t} RU/s — restored whole")}</span> })}
                                    </label>
                                    {(shared.is_none()).then(|| d.containers.into_iter().map(|c| {
                                        let entry = format!("{}/{}", d.id, c.id);
                                        view! {
                                            <label class="check nested">
                                                <input type="checkbox" data-resource=entry.clone()
                                                    on:change={
                                                        let e = entry.clone();
                                                        move |ev| toggle(e.clone(), event_target_checked(&ev))
                                                    }/>
                                                {c.id.clone()}
                                                <span class="hint">{format!(" {} · {}", c.partition_key, c.throughput.map_or_else(|| "shared throughput".to_owned(), |t| format!("{t} RU/s")))}</span>
                                                {c.default_ttl.map(|t| view! { <span class="hint">{format!(" · TTL {t} s")}</span> })}
                                            </label>
                                        }
                                    }).collect_view())}
                                </div>
                            }
                        }).collect_view()}
                    </fieldset>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
            <input type="hidden" name="resources" prop:value=resources/>
            <label>"New account name"
                <input type="text" name="target_name" required minlength="3" maxlength="44"
                    on:input=move |ev| target.set(event_target_value(&ev)) prop:value=target/>
            </label>
            {move || name_problem().map(|m| view! { <p class="error">{m}</p> })}
            <label class="check">
                <input type="checkbox" name="ttl_disabled" value="on"/>
                "Restore with time-to-live disabled"
            </label>
            <p class="hint">"With TTL left on, restored items whose time to live has run out are purged soon after the restore."</p>
            <div class="card review" data-testid="restore-review">
                <strong>"Review"</strong>
                <p>{move || {
                    let what = if picked.get().is_empty() { "the whole account".to_owned() } else { resources().replace(',', ", ") };
                    format!("Restore {what} of {} as it was at {} UTC into a new account {:?}.", src_name.get_value(), at.get().replace('T', " "), target.get())
                }}</p>
                <p class="hint">"The new account gets fresh keys and the same continuous backup; role assignments, keys and network rules are not restored."</p>
                <button type="button" disabled=move || name_problem().is_some() || preview.pending().get()
                    on:click=move |_| { preview.dispatch((at.get(), target.get(), resources())); }>"Check the plan"</button>
                {move || preview.value().get().map(|r| match r {
                    Ok(p) => view! {
                        <p data-testid="restore-plan">{format!(
                            "Plan: {} database(s), {} container(s), about {} item(s); reads {:.1} KB of backup ({} snapshot chunk(s), {} log segment(s)).",
                            p.databases, p.containers, p.items, p.backup_bytes as f64 / 1024.0, p.chunks, p.segments
                        )}</p>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </div>
            <button type="submit" disabled=move || name_problem().is_some() || start.pending().get()>"Start restore"</button>
            <FormError value=start.value()/>
        </ActionForm>
        <Events sub=sub_v.get_value() account_id=id_v.get_value() restore_page=restore_page/>
    }
}

/// The account's database and container events, newest first; a deletion whose name is free can
/// be undone in place, restored as it was just before it.
#[component]
fn Events(sub: String, account_id: String, restore_page: String) -> impl IntoView {
    let (sub_v, id_v) = (StoredValue::new(sub), StoredValue::new(account_id));
    let events = Resource::new(move || (sub_v.get_value(), id_v.get_value()), |(s, a)| list_resource_events(s, a));
    let undo = Action::new(move |(at, name): &(String, String)| {
        let (at, name) = (at.clone(), name.clone());
        async move { restore_in_place(sub_v.get_value(), id_v.get_value(), at, name).await }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = undo.value().get() {
            navigate(&restore_page, Default::default());
        }
    });
    view! {
        <h2>"Database and container events"</h2>
        <p class="hint">"From the backup, newest first. A deleted database or container can be restored into this account as it was just before its deletion, if its name is free (restore a database before its containers)."</p>
        {move || undo.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No events yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="list" data-testid="resource-events">
                            <thead><tr><th>"When"</th><th>"Event"</th><th>"Resource"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|e| {
                                    let name = e.name();
                                    let at = e.restore_point.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                                    view! {
                                        <tr data-resource=name.clone() data-kind=e.kind.as_str()>
                                            <td>{format_time(&e.at)}</td>
                                            <td>{e.kind.as_str()}" "{e.resource_type.as_str()}</td>
                                            <td>{name.clone()}</td>
                                            <td>{e.restorable_in_place.then(|| {
                                                let args = (at.clone(), name.clone());
                                                view! {
                                                    <button type="button" disabled=move || undo.pending().get()
                                                        on:click=move |_| { undo.dispatch(args.clone()); }>"Restore in place"</button>
                                                }
                                            })}</td>
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
    }
}

/// A periodic account: pick one of its full backups and file a restore request; it runs once a
/// holder of the approve permission approves it.
#[component]
fn RequestForm(sub: String, account: RestorableAccount) -> impl IntoView {
    let restore_page = format!("/subscriptions/{sub}/restore");
    let request = ServerAction::<RequestRestore>::new();
    let navigate = use_navigate();
    let after = restore_page.clone();
    Effect::new(move |_| {
        if let Some(Ok(_)) = request.value().get() {
            navigate(&after, Default::default());
        }
    });
    let (sub_v, id_v) = (StoredValue::new(sub.clone()), StoredValue::new(account.id.clone()));
    let backups = Resource::new(move || (sub_v.get_value(), id_v.get_value()), |(s, a)| list_backups(s, a));
    view! {
        <p class="crumbs">
            <A href="/subscriptions">"Subscriptions"</A>" / "
            <A href=format!("/subscriptions/{sub}")>"Subscription"</A>" / "
            <A href=restore_page>"Restore"</A>" / "{account.name.clone()}
        </p>
        <h1>"Request a restore of "{account.name.clone()}</h1>
        <p class="hint">"This account uses periodic backup. Choose one of its full backups; the restore runs into a new account once a holder of the approve permission (Support) approves the request."</p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match backups.await {
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No backups within retention yet; the first is taken within seconds of the account's creation."</p> }.into_any(),
                    Ok(list) => view! {
                        <ActionForm action=request attr:class="card form" attr:data-testid="request-form">
                            <input type="hidden" name="subscription_id" value=sub_v.get_value()/>
                            <input type="hidden" name="account_id" value=id_v.get_value()/>
                            <label>"Backup"
                                <select name="backup_at">
                                    {list.into_iter().map(|b| view! {
                                        <option value=b.taken_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)>
                                            {format!("{} — {} items, {:.1} KB", format_time(&b.taken_at), b.items, b.bytes as f64 / 1024.0)}
                                        </option>
                                    }).collect_view()}
                                </select>
                            </label>
                            <label>"What to restore (db or db/container, comma-separated; empty = the whole account)"
                                <input type="text" name="resources" placeholder="shop, logs/events"/>
                            </label>
                            <label>"New account name (empty = <source>-restored<N>)"
                                <input type="text" name="target_name"/>
                            </label>
                            <button type="submit" disabled=move || request.pending().get()>"Request restore"</button>
                            <FormError value=request.value()/>
                        </ActionForm>
                    }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
