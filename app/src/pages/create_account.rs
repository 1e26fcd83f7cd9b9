//! The create-account form, with the name and policy rules checked as the user types.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::accounts::{CreateAccount, list_customer_keys};
use crate::components::FormError;
use crate::domain::{AccountName, BackupMode, BackupPolicyInput};

/// Name, region and backup policy for a new account.
#[component]
pub fn CreateAccountPage() -> impl IntoView {
    let params = use_params_map();
    let sub_id = move || params.read().get("sub").unwrap_or_default();
    let create = ServerAction::<CreateAccount>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(account)) = create.value().get() {
            navigate(&format!("/subscriptions/{}/accounts/{}", account.subscription_id, account.name), Default::default());
        }
    });

    let name = RwSignal::new(String::new());
    let mode = RwSignal::new(BackupMode::Periodic);
    let interval = RwSignal::new("4".to_string());
    let retention = RwSignal::new("8".to_string());
    let name_problem = move || {
        let n = name.get();
        (!n.is_empty()).then(|| AccountName::parse(&n).err()).flatten().map(|e| e.to_string())
    };
    let policy_problem = move || {
        BackupPolicyInput {
            mode: mode.get().to_string(),
            interval_hours: Some(interval.get()),
            retention_hours: Some(retention.get()),
            redundancy: None,
        }
        .validate()
        .err()
        .map(|e| e.to_string())
    };
    let periodic = move || mode.get() == BackupMode::Periodic;
    let keys = Resource::new(sub_id, list_customer_keys);

    view! {
        <p class="crumbs">
            <A href="/subscriptions">"Subscriptions"</A>" / "
            <A href=move || format!("/subscriptions/{}", sub_id())>"Subscription"</A>" / new account"
        </p>
        <h1>"Create a database account"</h1>
        <ActionForm action=create attr:class="card form">
            <input type="hidden" name="subscription_id" value=sub_id/>
            <label>"Account name"
                <input type="text" name="name" required minlength="3" maxlength="44"
                    placeholder="orders-prod"
                    on:input=move |ev| name.set(event_target_value(&ev))
                    prop:value=name/>
            </label>
            <p class="hint">"3–44 characters: lowercase letters, digits and hyphens."</p>
            {move || name_problem().map(|p| view! { <p class="error field-error">{p}</p> })}
            <label>"Region"
                <input type="text" name="region" value="local" required/>
            </label>
            <fieldset>
                <legend>"Backup policy"</legend>
                <label>"Mode"
                    <select name="mode" on:change=move |ev| { if let Ok(m) = event_target_value(&ev).parse() { mode.set(m) } } prop:value=move || mode.get().to_string()>
                        <option value="Periodic">"Periodic (default)"</option>
                        <option value="Continuous7Days">"Continuous, 7 days"</option>
                        <option value="Continuous30Days">"Continuous, 30 days"</option>
                    </select>
                </label>
                <label>"Backup interval (hours, 1–24)"
                    <input type="number" name="interval_hours" min="1" max="24"
                        disabled=move || !periodic()
                        on:input=move |ev| interval.set(event_target_value(&ev))
                        prop:value=interval/>
                </label>
                <label>"Retention (hours, 2× interval to 720)"
                    <input type="number" name="retention_hours" min="2" max="720"
                        disabled=move || !periodic()
                        on:input=move |ev| retention.set(event_target_value(&ev))
                        prop:value=retention/>
                </label>
                <label>"Backup storage redundancy"
                    <select name="redundancy">
                        <option value="Geo" selected>"Geo (default)"</option>
                        <option value="Zone">"Zone"</option>
                        <option value="Local">"Local"</option>
                    </select>
                </label>
                {move || policy_problem().map(|p| view! { <p class="error field-error">{p}</p> })}
                {move || (!periodic()).then(|| view! {
                    <p class="hint">"Continuous mode is permanent: an account can never go back to periodic."</p>
                })}
            </fieldset>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    // Offered only where the operator configured customer keys (and the caller
                    // may create accounts).
                    let names = keys.await.unwrap_or_default();
                    (!names.is_empty()).then(|| view! {
                        <label>"Backup encryption"
                            <select name="customer_key" data-testid="customer-key">
                                <option value="" selected>"Service-managed key (default)"</option>
                                {names.into_iter().map(|k| view! {
                                    <option value=k.clone()>{format!("Customer-managed key: {k}")}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    })
                })}
            </Transition>
            <button type="submit" disabled=move || create.pending().get()>"Create account"</button>
            <FormError value=create.value()/>
        </ActionForm>
    }
}
