//! Small pieces the pages share.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::error::AppError;

/// A UTC timestamp to the second, the way every page prints times.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The outcome of a form's last submission: its error, or nothing.
#[component]
pub fn FormError<T: Send + Sync + 'static>(#[prop(into)] value: Signal<Option<Result<T, AppError>>>) -> impl IntoView {
    move || {
        value.with(|v| match v {
            Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.to_string()}</p> }),
            _ => None,
        })
    }
}

/// An error from loading a page's data.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    let signed_out = matches!(error, AppError::Unauthenticated(_));
    view! {
        <div class="error" role="alert">
            <p>{error.to_string()}</p>
            {signed_out.then(|| view! { <p><a href="/login">"Sign in"</a></p> })}
        </div>
    }
}
