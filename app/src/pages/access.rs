//! Access control for a subscription or one account: assignments (inherited ones marked), adding
//! and removing them, and the subscription's custom roles.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::access::{
    CreateCustomRole, CreateRoleAssignment, DeleteCustomRole, DeleteRoleAssignment, list_role_assignments, list_role_definitions,
};
use crate::accounts::get_account;
use crate::components::{FormError, LoadError};
use crate::domain::rbac::ALL_ACTIONS;
use crate::subscriptions::get_subscription;

/// `/subscriptions/:sub/access` and `/subscriptions/:sub/accounts/:account/access`.
#[component]
pub fn AccessPage() -> impl IntoView {
    let params = use_params_map();
    let sub = move || params.read().get("sub").unwrap_or_default();
    let account_name = move || params.read().get("account").unwrap_or_default();
    // (subscription id, account id or empty at subscription scope, display name).
    let scope = Resource::new(
        move || (sub(), account_name()),
        |(sub, name)| async move {
            if name.is_empty() {
                get_subscription(sub.clone()).await.map(|s| (sub, String::new(), s.name))
            } else {
                get_account(sub.clone(), name.clone()).await.map(|a| (sub, a.id, a.name))
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match scope.await {
                    Ok((sub, account_id, name)) => view! { <Access sub account_id name/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Access(sub: String, account_id: String, name: String) -> impl IntoView {
    let add = ServerAction::<CreateRoleAssignment>::new();
    let remove = ServerAction::<DeleteRoleAssignment>::new();
    let create_role = ServerAction::<CreateCustomRole>::new();
    let delete_role = ServerAction::<DeleteCustomRole>::new();
    let (s1, a1) = (sub.clone(), account_id.clone());
    let assignments =
        Resource::new(move || (add.version().get(), remove.version().get()), move |_| list_role_assignments(s1.clone(), a1.clone()));
    let s2 = sub.clone();
    let roles =
        Resource::new(move || (create_role.version().get(), delete_role.version().get()), move |_| list_role_definitions(s2.clone()));
    let at_account = !account_id.is_empty();
    let back = if at_account { format!("/subscriptions/{sub}/accounts/{name}") } else { format!("/subscriptions/{sub}") };
    let title = if at_account { format!("Access control: account {name}") } else { format!("Access control: subscription {name}") };
    let (sub_v, acct_v) = (StoredValue::new(sub.clone()), StoredValue::new(account_id.clone()));

    view! {
        <p class="crumbs"><A href="/subscriptions">"Subscriptions"</A>" / "<A href=back>"Back"</A></p>
        <h1>{title}</h1>
        <h2>"Role assignments"</h2>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match assignments.await {
                    Ok(list) => view! {
                        <table class="list" data-testid="assignments">
                            <thead><tr><th>"User"</th><th>"Role"</th><th>"Scope"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|a| view! {
                                    <tr>
                                        <td>{a.user_name.clone()}</td>
                                        <td>{a.role_name.clone()}</td>
                                        <td>{a.scope_kind.as_str()}{a.inherited.then_some(" (inherited)")}</td>
                                        <td>
                                            {(!a.inherited).then(|| view! {
                                                <ActionForm action=remove>
                                                    <input type="hidden" name="subscription_id" value=sub_v.get_value()/>
                                                    <input type="hidden" name="account_id" value=acct_v.get_value()/>
                                                    <input type="hidden" name="assignment_id" value=a.id.clone()/>
                                                    <button type="submit" class="secondary">"Remove"</button>
                                                </ActionForm>
                                            })}
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Transition>
        <FormError value=remove.value()/>

        <h2>"Add a role assignment"</h2>
        <ActionForm action=add attr:class="card form inline-form">
            <input type="hidden" name="subscription_id" value=sub.clone()/>
            <input type="hidden" name="account_id" value=account_id.clone()/>
            <label>"User name" <input type="text" name="user_name" required/></label>
            <label>"Role"
                <select name="role_id">
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            roles.await.unwrap_or_default().into_iter().map(|r| view! {
                                <option value=r.id.clone()>{r.name.clone()}</option>
                            }).collect_view()
                        })}
                    </Transition>
                </select>
            </label>
            <button type="submit">"Add assignment"</button>
            <FormError value=add.value()/>
        </ActionForm>

        {(!at_account).then(|| view! {
            <h2>"Roles"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match roles.await {
                        Ok(list) => view! {
                            <table class="list" data-testid="roles">
                                <thead><tr><th>"Role"</th><th>"Actions"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|r| view! {
                                        <tr>
                                            <td><strong>{r.name.clone()}</strong><br/><span class="hint">{r.description.clone()}</span></td>
                                            <td><code>{r.actions.join(", ")}</code></td>
                                            <td>{(!r.builtin).then(|| view! {
                                                <ActionForm action=delete_role>
                                                    <input type="hidden" name="subscription_id" value=sub_v.get_value()/>
                                                    <input type="hidden" name="role_id" value=r.id.clone()/>
                                                    <button type="submit" class="secondary">"Delete"</button>
                                                </ActionForm>
                                            })}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                    }
                })}
            </Transition>
            <FormError value=delete_role.value()/>
            <RoleEditor sub=sub_v.get_value() action=create_role/>
        })}
    }
}

/// The custom-role editor: actions grouped and explained, picked with checkboxes.
#[component]
fn RoleEditor(sub: String, action: ServerAction<CreateCustomRole>) -> impl IntoView {
    let picked = RwSignal::new(Vec::<String>::new());
    let mut groups: Vec<&str> = ALL_ACTIONS.iter().map(|a| a.group).collect();
    groups.dedup();
    view! {
        <h2>"Create a custom role"</h2>
        <ActionForm action attr:class="card form">
            <input type="hidden" name="subscription_id" value=sub/>
            <label>"Name" <input type="text" name="name" required maxlength="64"/></label>
            <label>"Description" <input type="text" name="description"/></label>
            <input type="hidden" name="actions" prop:value=move || picked.get().join(",")/>
            <div class="action-groups">
                {groups.into_iter().map(|g| view! {
                    <fieldset>
                        <legend>{g}</legend>
                        {ALL_ACTIONS.iter().filter(|a| a.group == g).map(|a| {
                            let name = a.name.to_owned();
                            let n2 = name.clone();
                            view! {
                                <label class="check">
                                    <input type="checkbox" value=name.clone()
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            picked.update(|p| {
                                                p.retain(|x| x != &n2);
                                                if on { p.push(n2.clone()); }
                                            });
                                        }/>
                                    <code>{name}</code>" — "{a.description}
                                </label>
                            }
                        }).collect_view()}
                    </fieldset>
                }).collect_view()}
            </div>
            <button type="submit">"Create role"</button>
            <FormError value=action.value()/>
        </ActionForm>
    }
}
