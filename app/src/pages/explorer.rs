//! The data explorer: databases and containers, items (browse, create, edit, delete) and queries.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::components::{FormError, LoadError};
use crate::explorer::{
    ExplorerCreateContainer, ExplorerCreateDatabase, ExplorerDeleteContainer, ExplorerDeleteDatabase, ExplorerDeleteItem, ExplorerQuery,
    ExplorerSaveItem, explorer_items, explorer_tree,
};

/// A submit handler that asks first and cancels the submission unless confirmed.
fn confirm_or_cancel(question: &'static str) -> impl Fn(leptos::ev::SubmitEvent) + Clone {
    move |ev: leptos::ev::SubmitEvent| {
        if !window().confirm_with_message(question).unwrap_or(false) {
            ev.prevent_default();
            ev.stop_immediate_propagation();
        }
    }
}

/// `/subscriptions/:sub/accounts/:account/explorer`
#[component]
pub fn ExplorerPage() -> impl IntoView {
    let params = use_params_map();
    let sub = move || params.read().get("sub").unwrap_or_default();
    let account = move || params.read().get("account").unwrap_or_default();
    let create_db = ServerAction::<ExplorerCreateDatabase>::new();
    let delete_db = ServerAction::<ExplorerDeleteDatabase>::new();
    let create_coll = ServerAction::<ExplorerCreateContainer>::new();
    let delete_coll = ServerAction::<ExplorerDeleteContainer>::new();
    let tree = Resource::new(
        move || {
            (
                sub(),
                account(),
                create_db.version().get(),
                delete_db.version().get(),
                create_coll.version().get(),
                delete_coll.version().get(),
            )
        },
        |(s, a, ..)| explorer_tree(s, a),
    );
    let selected = RwSignal::new(None::<(String, String)>);
    let back = move || format!("/subscriptions/{}/accounts/{}", sub(), account());

    view! {
        <p class="crumbs"><A href="/subscriptions">"Subscriptions"</A>" / "<A href=back>{account}</A>" / data explorer"</p>
        <h1>"Data explorer"</h1>
        <div class="explorer">
            <aside class="card tree" data-testid="tree">
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match tree.await {
                            Ok(dbs) if dbs.is_empty() => view! { <p class="empty">"No databases yet."</p> }.into_any(),
                            Ok(dbs) => dbs.into_iter().map(|d| {
                                let db_id = d.id.clone();
                                view! {
                                    <div class="tree-db">
                                        <strong>{d.id.clone()}</strong>
                                        <ActionForm action=delete_db attr:class="inline" on:submit=confirm_or_cancel("Delete this database and everything in it?")>
                                            <input type="hidden" name="subscription_id" value=sub/>
                                            <input type="hidden" name="name" value=account/>
                                            <input type="hidden" name="database" value=d.id.clone()/>
                                            <button type="submit" class="secondary small" title="Delete database">"×"</button>
                                        </ActionForm>
                                        <ul>
                                            {d.containers.into_iter().map(|c| {
                                                let (db2, c2) = (db_id.clone(), c.id.clone());
                                                let is_sel = { let (db3, c3) = (db_id.clone(), c.id.clone()); move || selected.get() == Some((db3.clone(), c3.clone())) };
                                                view! {
                                                    <li>
                                                        <button type="button" class="link-dark" class:selected=is_sel
                                                            on:click=move |_| selected.set(Some((db2.clone(), c2.clone())))>
                                                            {c.id.clone()}
                                                        </button>
                                                        <span class="hint">" "{c.partition_key.clone()}</span>
                                                    </li>
                                                }
                                            }).collect_view()}
                                        </ul>
                                    </div>
                                }
                            }).collect_view().into_any(),
                            Err(e) => view! { <LoadError error=e/> }.into_any(),
                        }
                    })}
                </Transition>
                <FormError value=delete_db.value()/>
                <h3>"New database"</h3>
                <ActionForm action=create_db attr:class="form">
                    <input type="hidden" name="subscription_id" value=sub/>
                    <input type="hidden" name="name" value=account/>
                    <label>"Database id" <input type="text" name="database" required/></label>
                    <button type="submit">"Create database"</button>
                    <FormError value=create_db.value()/>
                </ActionForm>
                <h3>"New container"</h3>
                <ActionForm action=create_coll attr:class="form">
                    <input type="hidden" name="subscription_id" value=sub/>
                    <input type="hidden" name="name" value=account/>
                    <label>"In database" <input type="text" name="database" required/></label>
                    <label>"Container id" <input type="text" name="container" required/></label>
                    <label>"Partition key" <input type="text" name="partition_key" value="/pk" required/></label>
                    <label>"Throughput (RU/s)" <input type="number" name="throughput" value="400" min="400" step="100"/></label>
                    <button type="submit">"Create container"</button>
                    <FormError value=create_coll.value()/>
                </ActionForm>
            </aside>
            <section class="pane">
                {move || match selected.get() {
                    None => view! { <p class="empty">"Pick a container on the left."</p> }.into_any(),
                    Some((db, coll)) => view! {
                        <ContainerView sub=sub() name=account() db coll delete=delete_coll/>
                    }.into_any(),
                }}
            </section>
        </div>
    }
}

#[component]
fn ContainerView(sub: String, name: String, db: String, coll: String, delete: ServerAction<ExplorerDeleteContainer>) -> impl IntoView {
    let save = ServerAction::<ExplorerSaveItem>::new();
    let remove = ServerAction::<ExplorerDeleteItem>::new();
    let query = ServerAction::<ExplorerQuery>::new();
    let after = RwSignal::new(String::new());
    let ctx = StoredValue::new((sub, name, db, coll));
    let page = Resource::new(
        move || (after.get(), save.version().get(), remove.version().get()),
        move |(a, ..)| {
            let (s, n, d, c) = ctx.get_value();
            explorer_items(s, n, d, c, a)
        },
    );
    let editor = RwSignal::new(String::new());
    let original = RwSignal::new(None::<(String, String)>);
    let json_problem = move || {
        let t = editor.get();
        (!t.trim().is_empty())
            .then(|| serde_json::from_str::<serde_json::Value>(&t).err().map(|e| format!("not valid JSON: {e}")))
            .flatten()
    };
    Effect::new(move |_| {
        if let Some(Ok(row)) = save.value().get() {
            editor.set(row.json.clone());
            original.set(Some((row.pk, row.id)));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            editor.set(String::new());
            original.set(None);
        }
    });
    let sql = RwSignal::new("SELECT * FROM c".to_string());
    let (s, n, d, c) = ctx.get_value();

    view! {
        <div class="title-row">
            <h2>{format!("{d} / {c}")}</h2>
            <ActionForm action=delete on:submit=confirm_or_cancel("Delete this container and all its items?")>
                <input type="hidden" name="subscription_id" value=s.clone()/>
                <input type="hidden" name="name" value=n.clone()/>
                <input type="hidden" name="database" value=d.clone()/>
                <input type="hidden" name="container" value=c.clone()/>
                <button type="submit" class="danger small">"Delete container"</button>
            </ActionForm>
        </div>
        <div class="split">
            <div>
                <h3>"Items"</h3>
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match page.await {
                            Ok(p) => view! {
                                <table class="list" data-testid="items">
                                    <thead><tr><th>"id"</th><th>"partition key"</th></tr></thead>
                                    <tbody>
                                        {p.items.into_iter().map(|it| {
                                            let (json, pk, id) = (it.json.clone(), it.pk.clone(), it.id.clone());
                                            view! {
                                                <tr>
                                                    <td><button type="button" class="link-dark" on:click=move |_| {
                                                        editor.set(json.clone());
                                                        original.set(Some((pk.clone(), id.clone())));
                                                    }>{it.id.clone()}</button></td>
                                                    <td><code>{it.pk.clone()}</code></td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <p>
                                    <button type="button" class="secondary small" on:click=move |_| after.set(String::new())>"First page"</button>
                                    {p.next.map(|n| view! {
                                        <button type="button" class="secondary small" on:click=move |_| after.set(n.clone())>"Next page"</button>
                                    })}
                                </p>
                            }.into_any(),
                            Err(e) => view! { <LoadError error=e/> }.into_any(),
                        }
                    })}
                </Transition>
                <button type="button" on:click=move |_| { editor.set("{\n  \"id\": \"\"\n}".into()); original.set(None); }>"New item"</button>
            </div>
            <div>
                <h3>{move || if original.get().is_some() { "Edit item" } else { "New item" }}</h3>
                <textarea class="json" rows="16" aria-label="Item JSON" spellcheck="false"
                    prop:value=editor on:input=move |ev| editor.set(event_target_value(&ev))></textarea>
                {move || json_problem().map(|p| view! { <p class="error field-error">{p}</p> })}
                <p>
                    <button type="button" disabled=move || json_problem().is_some() || editor.get().trim().is_empty()
                        on:click=move |_| {
                            let (s, n, d, c) = ctx.get_value();
                            let (opk, oid) = original.get().unwrap_or_default();
                            save.dispatch(ExplorerSaveItem { subscription_id: s, name: n, database: d, container: c, json: editor.get(), original_pk: opk, original_id: oid });
                        }>"Save item"</button>
                    {move || original.get().map(|(pk, id)| view! {
                        <button type="button" class="danger" on:click=move |_| {
                            let (s, n, d, c) = ctx.get_value();
                            remove.dispatch(ExplorerDeleteItem { subscription_id: s, name: n, database: d, container: c, pk: pk.clone(), id: id.clone() });
                        }>"Delete item"</button>
                    })}
                </p>
                <FormError value=save.value()/>
                <FormError value=remove.value()/>
            </div>
        </div>
        <h3>"Query"</h3>
        <textarea class="json" rows="3" aria-label="Query" spellcheck="false" prop:value=sql on:input=move |ev| sql.set(event_target_value(&ev))></textarea>
        <p><button type="button" on:click=move |_| {
            let (s, n, d, c) = ctx.get_value();
            query.dispatch(ExplorerQuery { subscription_id: s, name: n, database: d, container: c, sql: sql.get() });
        }>"Run query"</button></p>
        <FormError value=query.value()/>
        {move || query.value().get().and_then(Result::ok).map(|r| view! {
            <p class="hint" data-testid="query-stats">{format!("{}{} results · {:.2} RU", r.count, if r.more { "+" } else { "" }, r.request_charge)}</p>
            <pre class="json" data-testid="query-results">{r.json}</pre>
        })}
    }
}
