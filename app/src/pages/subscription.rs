//! One subscription: its live accounts.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::accounts::list_accounts;
use crate::authz::my_permissions;
use crate::components::{LoadError, format_time};
use crate::domain::rbac::actions;
use crate::restore::list_restorable_accounts;
use crate::subscriptions::get_subscription;

/// The accounts of the subscription in the URL.
#[component]
pub fn SubscriptionPage() -> impl IntoView {
    let params = use_params_map();
    let sub_id = move || params.read().get("sub").unwrap_or_default();
    let sub = Resource::new(sub_id, get_subscription);
    let accounts = Resource::new(sub_id, list_accounts);
    let perms = Resource::new(sub_id, |s| my_permissions(s, String::new()));
    // Restore points may be visible through account-level roles too: offer the restore page
    // whenever there is something on it for this user.
    let restorable = Resource::new(sub_id, list_restorable_accounts);

    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let sub = match sub.await {
                    Ok(s) => s,
                    Err(e) => return view! { <LoadError error=e/> }.into_any(),
                };
                let new_href = format!("/subscriptions/{}/new-account", sub.id);
                let access_href = format!("/subscriptions/{}/access", sub.id);
                let audit_href = format!("/subscriptions/{}/audit", sub.id);
                let restore_href = format!("/subscriptions/{}/restore", sub.id);
                let can_see_restore = restorable.await.is_ok_and(|l| !l.is_empty());
                let accounts = accounts.await;
                let p = perms.await.unwrap_or_default();
                view! {
                    <p class="crumbs"><A href="/subscriptions">"Subscriptions"</A>" / "{sub.name.clone()}</p>
                    <div class="title-row">
                        <h1>{sub.name.clone()}</h1>
                        {p.allows(actions::ACCOUNTS_WRITE).then(|| view! {
                            <A href=new_href attr:class="button">"Create account"</A>
                        })}
                    </div>
                    <p class="links">
                        {p.allows(actions::ROLE_ASSIGNMENTS_READ).then(|| view! { <A href=access_href>"Access control"</A> })}
                        " "
                        {p.allows(actions::AUDIT_LOG_READ).then(|| view! { <A href=audit_href>"Audit log"</A> })}
                        " "
                        {(can_see_restore || p.allows(actions::RESTORABLE_READ)).then(|| view! { <A href=restore_href>"Restore"</A> })}
                    </p>
                    {match accounts {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No accounts in this subscription yet."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="list" data-testid="accounts">
                                <thead><tr><th>"Account"</th><th>"Region"</th><th>"State"</th><th>"Backup"</th><th>"Created"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|a| {
                                        let href = format!("/subscriptions/{}/accounts/{}", a.subscription_id, a.name);
                                        view! {
                                            <tr>
                                                <td><A href=href>{a.name.clone()}</A></td>
                                                <td>{a.region.clone()}</td>
                                                <td><span class=format!("state state-{}", a.state)>{a.state.to_string()}</span></td>
                                                <td>{a.backup_policy.mode_name()}</td>
                                                <td>{format_time(&a.created_at)}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                    }}
                }.into_any()
            })}
        </Transition>
    }
}
