//! Users: create (with a first password to change), disable and re-enable.

use leptos::prelude::*;

use crate::components::{FormError, LoadError, format_time};
use crate::users::{CreateUser, SetUserDisabled, list_users};

/// The users page (needs `users/read`; creating needs `users/write`).
#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let toggle = ServerAction::<SetUserDisabled>::new();
    let users = Resource::new(move || (create.version().get(), toggle.version().get()), |_| list_users());
    view! {
        <h1>"Users"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => view! {
                        <table class="list" data-testid="users">
                            <thead><tr><th>"User"</th><th>"Status"</th><th>"Created"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|u| {
                                    let status = if u.disabled { "Disabled" } else if u.must_change_password { "Must change password" } else { "Active" };
                                    view! {
                                        <tr>
                                            <td>{u.name.clone()}</td>
                                            <td>{status}</td>
                                            <td>{format_time(&u.created_at)}</td>
                                            <td>
                                                <ActionForm action=toggle>
                                                    <input type="hidden" name="name" value=u.name.clone()/>
                                                    <input type="hidden" name="disabled" value=(!u.disabled).to_string()/>
                                                    <button type="submit" class="secondary">{if u.disabled { "Enable" } else { "Disable" }}</button>
                                                </ActionForm>
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
        <FormError value=toggle.value()/>
        <h2>"Create a user"</h2>
        <ActionForm action=create attr:class="card form inline-form">
            <label>"User name" <input type="text" name="name" required/></label>
            <label>"First password" <input type="password" name="password" required minlength="12" autocomplete="new-password"/></label>
            <button type="submit">"Create user"</button>
            <FormError value=create.value()/>
        </ActionForm>
        <p class="hint">"New users must change this password when they first sign in. Give them roles on a subscription's or account's Access control page."</p>
    }
}
