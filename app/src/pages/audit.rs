//! The audit log: filters, the entries, export as CSV or JSON, and the chain check.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::audit::{ListAudit, VerifyAuditChain};
use crate::components::{FormError, format_time};

/// `/audit` (the whole log) and `/subscriptions/:sub/audit` (one subscription's entries).
#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_params_map();
    let sub = move || params.read().get("sub").unwrap_or_default();
    let list = ServerAction::<ListAudit>::new();
    let verify = ServerAction::<VerifyAuditChain>::new();
    // Show the newest entries straight away.
    Effect::new(move |_| {
        list.dispatch(ListAudit {
            subscription_id: sub(),
            from: String::new(),
            to: String::new(),
            user: String::new(),
            action: String::new(),
            outcome: String::new(),
        });
    });
    let (from, to, user, action, outcome) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    // The export links carry the filters as typed.
    let export = move |format: &str| {
        let mut q = format!("/audit/export?format={format}&subscription_id={}", encode(&sub()));
        for (k, v) in [("from", from), ("to", to), ("user", user), ("action", action), ("outcome", outcome)] {
            q.push_str(&format!("&{k}={}", encode(&v.get())));
        }
        q
    };

    view! {
        <h1>"Audit log"</h1>
        <ActionForm action=list attr:class="card form inline-form" attr:data-testid="audit-filters">
            <input type="hidden" name="subscription_id" value=sub/>
            <label>"From" <input type="text" name="from" placeholder="YYYY-MM-DD" on:input=move |ev| from.set(event_target_value(&ev))/></label>
            <label>"To" <input type="text" name="to" placeholder="YYYY-MM-DD" on:input=move |ev| to.set(event_target_value(&ev))/></label>
            <label>"User" <input type="text" name="user" on:input=move |ev| user.set(event_target_value(&ev))/></label>
            <label>"Action" <input type="text" name="action" placeholder="accounts/*" on:input=move |ev| action.set(event_target_value(&ev))/></label>
            <label>"Outcome"
                <select name="outcome" on:change=move |ev| outcome.set(event_target_value(&ev))>
                    <option value="">"any"</option>
                    <option value="succeeded">"succeeded"</option>
                    <option value="failed">"failed"</option>
                    <option value="denied">"denied"</option>
                </select>
            </label>
            <button type="submit">"Filter"</button>
        </ActionForm>
        <p class="exports">
            "Export: " <a href=move || export("csv") download>"CSV"</a> " · " <a href=move || export("json") download>"JSON"</a>
        </p>
        <FormError value=list.value()/>
        {move || list.value().get().and_then(Result::ok).map(|entries| view! {
            <table class="list" data-testid="audit">
                <thead><tr><th>"#"</th><th>"Time"</th><th>"User"</th><th>"From"</th><th>"Action"</th><th>"Resource"</th><th>"Outcome"</th><th>"Detail"</th></tr></thead>
                <tbody>
                    {entries.into_iter().map(|e| {
                        let row_class = format!("outcome-{}", e.outcome);
                        view! {
                        <tr class=row_class>
                            <td>{e.seq}</td>
                            <td>{format_time(&e.at)}</td>
                            <td>{e.user_name}</td>
                            <td>{e.client_ip}</td>
                            <td><code>{e.action}</code></td>
                            <td><code>{e.resource}</code></td>
                            <td>{e.outcome.as_str()}</td>
                            <td>{e.detail}</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
        })}
        {move || sub().is_empty().then(|| view! {
            <section class="card">
                <h2>"Integrity"</h2>
                <ActionForm action=verify>
                    <button type="submit">"Verify the hash chain"</button>
                </ActionForm>
                <FormError value=verify.value()/>
                {move || verify.value().get().and_then(Result::ok).map(|r| match r.problem {
                    None => view! { <p class="ok" role="status">{format!("Intact: {} entries checked.", r.rows_checked)}</p> }.into_any(),
                    Some((seq, why)) => view! { <p class="error" role="status">{format!("Entry {seq}: {why}. {} entries before it are intact.", r.rows_checked)}</p> }.into_any(),
                })}
            </section>
        })}
    }
}

/// Percent-encodes a query value (the few characters filters contain that need it).
fn encode(v: &str) -> String {
    v.chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' | '.' | '~' | '*' | '/' | ':' => c.to_string(),
            other => {
                let mut buf = [0u8; 4];
                other.encode_utf8(&mut buf).bytes().map(|b| format!("%{b:02X}")).collect()
            }
        })
        .collect()
}
