//! The signed-in user's API tokens: make one (its secret shown once), list, revoke.

use leptos::prelude::*;

use crate::components::{FormError, LoadError, format_time};
use crate::tokens::{CreateApiToken, RevokeApiToken, list_api_tokens};

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_tokens());
    view! {
        <h1>"API tokens"</h1>
        <p class="hint">
            "A token lets a script or the " <code>"rewind"</code> " command line act as you, with your roles, through the REST API ("
            <a href="/api/docs" rel="external">"reference"</a> "). Send it as " <code>"Authorization: Bearer rwd_…"</code> "."
        </p>
        {move || create.value().get().and_then(Result::ok).map(|made| view! {
            <div class="card ok" role="status" data-testid="new-token">
                <p>"Token " <strong>{made.token.name.clone()}</strong> " made. Copy its secret now: it is not shown again."</p>
                <code class="secret" data-testid="token-secret">{made.secret.clone()}</code>
            </div>
        })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(list) if list.is_empty() => view! { <p data-testid="tokens">"You hold no tokens."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="list" data-testid="tokens">
                            <thead><tr><th>"Name"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|t| view! {
                                    <tr>
                                        <td>{t.name.clone()}</td>
                                        <td>{format_time(&t.created_at)}</td>
                                        <td>{t.expires_at.as_ref().map_or_else(|| "never".to_owned(), format_time)}</td>
                                        <td>{t.last_used_at.as_ref().map_or_else(|| "never".to_owned(), format_time)}</td>
                                        <td>
                                            <ActionForm action=revoke>
                                                <input type="hidden" name="id" value=t.id.clone()/>
                                                <button type="submit" class="secondary">"Revoke"</button>
                                            </ActionForm>
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
        <FormError value=revoke.value()/>
        <h2>"Make a token"</h2>
        <ActionForm action=create attr:class="card form inline-form">
            <label>"Name" <input type="text" name="name" required maxlength="64" placeholder="ci-restores"/></label>
            <label>"Expires after (days; 0 = never)" <input type="number" name="days" min="0" max="365" value="90" required/></label>
            <button type="submit">"Make token"</button>
            <FormError value=create.value()/>
        </ActionForm>
    }
}
