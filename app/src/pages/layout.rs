//! The frame around every signed-in page: header, navigation, the user menu.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};

use crate::SessionContext;
use crate::authz::my_permissions;
use crate::domain::rbac::actions;

/// Header and navigation around the signed-in pages.
#[component]
pub fn Layout() -> impl IntoView {
    let session = expect_context::<SessionContext>();
    let logout = session.logout;
    // After signing out, load the sign-in page afresh so no signed-in state survives in memory.
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            let _ = window().location().assign("/login");
        }
    });

    let root =
        Resource::new(move || session.user.get().map(|u| u.ok().flatten().map(|u| u.id)), |_| my_permissions(String::new(), String::new()));

    view! {
        <header class="topbar">
            <a class="brand" href="/subscriptions">"Rewind"</a>
            <nav>
                <A href="/subscriptions">"Subscriptions"</A>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let p = root.await.unwrap_or_default();
                        view! {
                            {p.allows(actions::USERS_READ).then(|| view! { <A href="/users">"Users"</A> })}
                            {p.allows(actions::AUDIT_LOG_READ).then(|| view! { <A href="/audit">"Audit log"</A> })}
                        }
                    })}
                </Transition>
            </nav>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match session.user.await {
                        Ok(Some(user)) => view! {
                            <div class="user-menu">
                                <span class="user-name" data-testid="user-name">{user.name.clone()}</span>
                                <A href="/password">"Change password"</A>
                                <A href="/tokens">"API tokens"</A>
                                <ActionForm action=logout>
                                    <button type="submit" class="link">"Sign out"</button>
                                </ActionForm>
                            </div>
                            {user.must_change_password.then(|| view! {
                                <p class="banner">"Please " <A href="/password">"change your password"</A> " before you go on."</p>
                            })}
                        }.into_any(),
                        _ => view! {
                            <div class="user-menu"><a href="/login">"Sign in"</a></div>
                        }.into_any(),
                    }
                })}
            </Transition>
        </header>
        <main class="content">
            <Outlet/>
        </main>
    }
}

/// `/`: straight on to the subscriptions.
#[component]
pub fn Home() -> impl IntoView {
    view! { <Redirect path="/subscriptions"/> }
}

/// Any unknown path.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="content narrow">
            <h1>"Not found"</h1>
            <p>"There is no page at this address. " <a href="/subscriptions">"Go to your subscriptions"</a></p>
        </main>
    }
}
