//! `/api/docs`: the OpenAPI document as a readable page, rendered once at start-up from the
//! same document the API serves (no script, no third-party assets).

use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use std::fmt::Write;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `#/components/schemas/RestoreJob` → a link to its section; arrays and plain types in words.
fn schema_name(s: &Value) -> String {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{0}\">{0}</a>", esc(name));
    }
    match s.get("type").and_then(Value::as_str) {
        Some("array") => format!("array of {}", s.get("items").map(schema_name).unwrap_or_default()),
        Some(t) => esc(t),
        None => s
            .get("oneOf")
            .or_else(|| s.get("anyOf"))
            .and_then(Value::as_array)
            .map_or_else(|| "object".to_owned(), |alts| alts.iter().map(schema_name).collect::<Vec<_>>().join(" or ")),
    }
}

fn body_schema(content: Option<&Value>) -> Option<String> {
    content?.as_object()?.values().next()?.get("schema").map(schema_name)
}

/// The page's HTML.
pub fn page(doc: &utoipa::openapi::OpenApi) -> String {
    let doc = serde_json::to_value(doc).unwrap_or_default();
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(esc).unwrap_or_default();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Rewind REST API</title>\
         <link rel=\"stylesheet\" href=\"/pkg/rewind.css\"></head><body><main class=\"docs\"><h1>{}</h1><p>{}</p>\
         <p>The machine-readable document: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>. Every path below is under <code>/api/v1</code>.</p>",
        text(&doc["info"], "title"),
        text(&doc["info"], "description")
    );
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let _ = write!(out, "<section class=\"card\"><h2><code>{} {}</code></h2>", method.to_uppercase(), esc(path));
                let _ = write!(out, "<p>{}</p>", text(op, "summary"));
                if let Some(d) = op.get("description").and_then(Value::as_str) {
                    let _ = write!(out, "<p>{}</p>", esc(d));
                }
                if let Some(params) = op.get("parameters").and_then(Value::as_array).filter(|p| !p.is_empty()) {
                    out.push_str(
                        "<table class=\"list\"><thead><tr><th>Parameter</th><th>In</th><th>Required</th><th></th></tr></thead><tbody>",
                    );
                    for p in params {
                        let required = if p.get("required").and_then(Value::as_bool).unwrap_or(false) { "yes" } else { "no" };
                        let _ = write!(
                            out,
                            "<tr><td><code>{}</code></td><td>{}</td><td>{required}</td><td>{}</td></tr>",
                            text(p, "name"),
                            text(p, "in"),
                            text(p, "description")
                        );
                    }
                    out.push_str("</tbody></table>");
                }
                if let Some(schema) = body_schema(op.pointer("/requestBody/content")) {
                    let _ = write!(out, "<p>Body: {schema}</p>");
                }
                out.push_str("<table class=\"list\"><thead><tr><th>Status</th><th>Meaning</th><th>Body</th></tr></thead><tbody>");
                if let Some(responses) = op["responses"].as_object() {
                    for (status, r) in responses {
                        let body = body_schema(r.get("content")).unwrap_or_default();
                        let _ = write!(out, "<tr><td>{}</td><td>{}</td><td>{body}</td></tr>", esc(status), text(r, "description"));
                    }
                }
                out.push_str("</tbody></table></section>");
            }
        }
    }
    out.push_str("<h2>Schemas</h2>");
    if let Some(schemas) = doc.pointer("/components/schemas").and_then(Value::as_object) {
        for (name, s) in schemas {
            let _ = write!(out, "<section class=\"card\" id=\"schema-{0}\"><h3>{0}</h3>", esc(name));
            if let Some(values) = s.get("enum").and_then(Value::as_array) {
                let values: Vec<String> = values.iter().map(|v| format!("<code>{}</code>", esc(&v.to_string()))).collect();
                let _ = write!(out, "<p>One of {}</p>", values.join(", "));
            }
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                let required: Vec<&str> =
                    s.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                out.push_str("<table class=\"list\"><thead><tr><th>Field</th><th>Type</th><th>Required</th><th></th></tr></thead><tbody>");
                for (field, p) in props {
                    let req = if required.contains(&field.as_str()) { "yes" } else { "no" };
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code></td><td>{}</td><td>{req}</td><td>{}</td></tr>",
                        esc(field),
                        schema_name(p),
                        text(p, "description")
                    );
                }
                out.push_str("</tbody></table>");
            }
            out.push_str("</section>");
        }
    }
    out.push_str("</main></body></html>");
    out
}

/// Answers the page with its own Content-Security-Policy: the portal's stylesheet and nothing else.
pub fn serve(html: String) -> Response {
    let mut res = Html(html).into_response();
    res.headers_mut().insert(
        http::header::CONTENT_SECURITY_POLICY,
        http::HeaderValue::from_static("default-src 'none'; style-src 'self'; frame-ancestors 'none'"),
    );
    res
}
