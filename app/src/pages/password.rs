//! Changing one's own password.

use leptos::prelude::*;

use crate::auth::ChangePassword;
use crate::components::FormError;

/// Current password, new password twice.
#[component]
pub fn PasswordPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    view! {
        <h1>"Change password"</h1>
        <ActionForm action=change attr:class="card form">
            <label>"Current password"
                <input type="password" name="current" autocomplete="current-password" required/>
            </label>
            <label>"New password (at least 12 characters)"
                <input type="password" name="new" autocomplete="new-password" required minlength="12"/>
            </label>
            <label>"Confirm new password"
                <input type="password" name="confirm" autocomplete="new-password" required minlength="12"/>
            </label>
            <button type="submit" disabled=move || change.pending().get()>"Change password"</button>
            <FormError value=change.value()/>
            {move || matches!(change.value().get(), Some(Ok(()))).then(|| view! {
                <p class="ok" role="status">"Password changed. Your other sessions have been signed out."</p>
            })}
        </ActionForm>
    }
}
