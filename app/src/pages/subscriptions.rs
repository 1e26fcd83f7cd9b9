//! The list of subscriptions, with create and rename.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::{FormError, LoadError, format_time};
use crate::subscriptions::{CreateSubscription, RenameSubscription, list_subscriptions};

/// Subscriptions, a form to create one, and rename in place.
#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let create = ServerAction::<CreateSubscription>::new();
    let rename = ServerAction::<RenameSubscription>::new();
    let subs = Resource::new(move || (create.version().get(), rename.version().get()), |_| list_subscriptions());

    view! {
        <h1>"Subscriptions"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match subs.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No subscriptions yet. Create one below."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="list" data-testid="subscriptions">
                            <thead><tr><th>"Name"</th><th>"Accounts"</th><th>"Created"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| {
                                    let href = format!("/subscriptions/{}", s.id);
                                    let (name, id) = (s.name.clone(), s.id.clone());
                                    view! {
                                        <tr>
                                            <td><A href=href>{name.clone()}</A></td>
                                            <td>{s.account_count}</td>
                                            <td>{format_time(&s.created_at)}</td>
                                            <td>
                                                <details class="inline">
                                                    <summary>"Rename"</summary>
                                                    <ActionForm action=rename attr:class="row-form">
                                                        <input type="hidden" name="id" value=id.clone()/>
                                                        <input type="text" name="name" value=s.name aria-label="New name" required/>
                                                        <button type="submit">"Save"</button>
                                                    </ActionForm>
                                                </details>
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
        <FormError value=rename.value()/>

        <h2>"Create a subscription"</h2>
        <ActionForm action=create attr:class="card form inline-form">
            <label>"Name" <input type="text" name="name" required maxlength="64"/></label>
            <button type="submit" disabled=move || create.pending().get()>"Create subscription"</button>
            <FormError value=create.value()/>
        </ActionForm>
    }
}
