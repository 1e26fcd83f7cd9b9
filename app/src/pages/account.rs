//! One account's overview: state, region, backup policy, endpoint, keys on request, delete; links
//! to its data explorer, access control, backup page and restore.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::accounts::{Account, DeleteAccount, ListKeys, RegenerateKey, get_account};
use crate::authz::my_permissions;
use crate::components::{FormError, LoadError, TypeToConfirm, format_time};
use crate::domain::rbac::actions;
use crate::domain::{BackupPolicy, KeyKind};

/// The overview of the account in the URL.
#[component]
pub fn AccountPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (p.get("sub").unwrap_or_default(), p.get("account").unwrap_or_default())
    };
    let account = Resource::new(key, |(sub, name)| get_account(sub, name));

    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(a) => view! { <Overview account=a/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Overview(account: Account) -> impl IntoView {
    let sub_href = format!("/subscriptions/{}", account.subscription_id);
    let (sub, id, name) = (account.subscription_id.clone(), account.id.clone(), account.name.clone());
    let perms = Resource::new(move || (sub.clone(), id.clone()), |(s, a)| my_permissions(s, a));
    let access_href = StoredValue::new(format!("/subscriptions/{}/accounts/{}/access", account.subscription_id, account.name));
    let (sub_v, name_v) = (StoredValue::new(account.subscription_id.clone()), StoredValue::new(name));
    let restore_href = StoredValue::new(format!("/subscriptions/{}/restore/{}", account.subscription_id, account.id));
    let continuous = matches!(account.backup_policy, BackupPolicy::Continuous { .. });
    view! {
        <p class="crumbs"><A href="/subscriptions">"Subscriptions"</A>" / "<A href=sub_href>"Subscription"</A>" / "{account.name.clone()}</p>
        <h1>{account.name.clone()}</h1>
        <dl class="facts card" data-testid="account-overview">
            <dt>"State"</dt><dd><span class=format!("state state-{}", account.state)>{account.state.to_string()}</span></dd>
            <dt>"Region"</dt><dd>{account.region.clone()}</dd>
            <dt>"API"</dt><dd>{account.api_kind.to_string()}</dd>
            <dt>"Created"</dt><dd>{format_time(&account.created_at)}</dd>
            <dt>"Backup policy"</dt><dd data-testid="backup-policy">{account.backup_policy.summary()}</dd>
            <dt>"Encryption"</dt>
            <dd data-testid="encryption">{account.key_management.describe(account.customer_key.as_deref())}</dd>
            <dt>"Endpoint"</dt><dd><code data-testid="endpoint">{account.endpoint.clone()}</code></dd>
            <dt>"Account id"</dt><dd><code>{account.id.clone()}</code></dd>
            {account.restore_parameters.clone().map(|r| view! {
                <dt>"Restored from"</dt>
                <dd data-testid="restored-from">
                    {r.source_account_name.clone()}" as of "{format_time(&r.restore_at)}
                    {(!r.resources.is_empty()).then(|| format!(" ({})", r.resources.join(", ")))}
                </dd>
            })}
        </dl>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let p = perms.await.unwrap_or_default();
                let (sub, name) = (sub_v.get_value(), name_v.get_value());
                view! {
                    <p class="links">
                        <A href=format!("{}/explorer", access_href.get_value().trim_end_matches("/access"))>"Data explorer"</A>
                        {p.allows(actions::ROLE_ASSIGNMENTS_READ).then(|| view! {
                            <A href=access_href.get_value()>"Access control"</A>
                        })}
                        {p.allows(actions::BACKUPS_READ).then(|| view! {
                            <A href=format!("{}/backup", access_href.get_value().trim_end_matches("/access"))>"Backups"</A>
                        })}
                        {(continuous && p.allows(actions::RESTORABLE_READ)).then(|| view! {
                            <A href=restore_href.get_value()>"Restore to a point in time"</A>
                        })}
                    </p>
                    {p.allows(actions::ACCOUNTS_LIST_KEYS).then(|| view! { <Keys sub=sub.clone() name=name.clone()/> })}
                    {p.allows(actions::ACCOUNTS_DELETE).then(|| view! { <Delete sub=sub.clone() name=name.clone()/> })}
                }
            })}
        </Transition>
    }
}

/// Keys stay hidden until asked for; asking is a server call (and, later, an audited one).
#[component]
fn Keys(sub: String, name: String) -> impl IntoView {
    let show = ServerAction::<ListKeys>::new();
    let regen = ServerAction::<RegenerateKey>::new();
    // The newest keys we know: from regenerating if that happened last, else from showing.
    let shown = move || regen.value().get().and_then(Result::ok).or_else(|| show.value().get().and_then(Result::ok));
    let (sub_for_form, name_for_form) = (StoredValue::new(sub), StoredValue::new(name));
    view! {
        <section class="card">
            <h2>"Keys"</h2>
            {move || match shown() {
                Some(k) => {
                    let rows = [
                        ("Primary key", k.primary_master_key, KeyKind::PrimaryMaster),
                        ("Secondary key", k.secondary_master_key, KeyKind::SecondaryMaster),
                        ("Primary read-only key", k.primary_readonly_master_key, KeyKind::PrimaryReadonly),
                        ("Secondary read-only key", k.secondary_readonly_master_key, KeyKind::SecondaryReadonly),
                    ];
                    view! {
                        <dl class="facts keys" data-testid="keys">
                            {rows.into_iter().map(|(label, key, kind)| view! {
                                <dt>{label}</dt>
                                <dd>
                                    <code>{key}</code>
                                    <button type="button" class="secondary small" title="Replace this key; the old one stops working at once"
                                        on:click=move |_| { regen.dispatch(RegenerateKey { subscription_id: sub_for_form.get_value(), name: name_for_form.get_value(), kind }); }>
                                        "Regenerate"
                                    </button>
                                </dd>
                            }).collect_view()}
                        </dl>
                    }.into_any()
                }
                None => view! {
                    <ActionForm action=show>
                        <input type="hidden" name="subscription_id" value=sub_for_form.get_value()/>
                        <input type="hidden" name="name" value=name_for_form.get_value()/>
                        <button type="submit">"Show keys"</button>
                    </ActionForm>
                }.into_any(),
            }}
            <FormError value=show.value()/>
            <FormError value=regen.value()/>
        </section>
    }
}

/// Deleting asks for the account's name to be typed, as the Azure portal does.
#[component]
fn Delete(sub: String, name: String) -> impl IntoView {
    let delete = ServerAction::<DeleteAccount>::new();
    let navigate = use_navigate();
    let back = format!("/subscriptions/{sub}");
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate(&back, Default::default());
        }
    });
    let confirmed = RwSignal::new(false);
    view! {
        <section class="card danger">
            <h2>"Delete account"</h2>
            <details>
                <summary>"Delete this account…"</summary>
                <p>"The account leaves the list at once. Its backups are kept for their retention period, so it stays restorable."</p>
                <ActionForm action=delete attr:class="form">
                    <input type="hidden" name="subscription_id" value=sub/>
                    <input type="hidden" name="name" value=name.clone()/>
                    <TypeToConfirm expected=name.clone() label="Confirm account name" confirmed=confirmed/>
                    <button type="submit" class="danger" disabled=move || !confirmed.get() || delete.pending().get()>"Delete account"</button>
                    <FormError value=delete.value()/>
                </ActionForm>
            </details>
        </section>
    }
}
