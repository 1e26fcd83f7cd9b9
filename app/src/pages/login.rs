//! The sign-in page.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::SessionContext;
use crate::components::FormError;

/// User name and password; on success, on to the subscriptions.
#[component]
pub fn LoginPage() -> impl IntoView {
    let session = expect_context::<SessionContext>();
    let login = session.login;
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(user)) = login.value().get() {
            let next = if user.must_change_password { "/password" } else { "/subscriptions" };
            navigate(next, Default::default());
        }
    });

    view! {
        <main class="content narrow login">
            <h1>"Sign in to Rewind"</h1>
            <ActionForm action=login attr:class="card form">
                <label>
                    "User name"
                    <input type="text" name="username" autocomplete="username" required autofocus/>
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                <button type="submit" disabled=move || login.pending().get()>"Sign in"</button>
                <FormError value=login.value()/>
            </ActionForm>
        </main>
    }
}
