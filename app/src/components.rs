//! Small pieces the pages share.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::error::AppError;

/// A UTC timestamp to the second, the way every page prints times.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A size in bytes, in the largest unit that keeps it at least 1 (decimal units, as storage
/// is billed).
pub fn format_bytes(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value.abs() >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} bytes") } else { format!("{value:.1} {}", UNITS[unit]) }
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

/// The field an irreversible action asks for first, as the Azure portal does: the account's name
/// typed. `confirmed` turns true while what is typed is `expected`.
#[component]
pub fn TypeToConfirm(expected: String, label: &'static str, confirmed: RwSignal<bool>) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    view! {
        <label>"Type the account name to confirm"
            <input type="text" aria-label=label autocomplete="off" prop:value=typed
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    confirmed.set(value == expected);
                    typed.set(value);
                }/>
        </label>
    }
}
