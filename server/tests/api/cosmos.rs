//! A minimal Cosmos DB REST client for tests: requests signed with an account key exactly as
//! the SDKs sign them, with any body and headers — including ones no SDK would send.

use chrono::Utc;
use reqwest::{Client, Method, Response};
use serde_json::Value;

use crate::helpers::{TestApp, json_ok};

/// An account's endpoint and one of its keys.
#[derive(Clone)]
pub struct Cosmos {
    pub base: String,
    pub account: String,
    pub key: String,
    client: Client,
}

/// The resource type and link a path is signed over (feeds sign their parent).
fn signed_as(path: &str) -> (String, String) {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    match segs.len() {
        0 => (String::new(), String::new()),
        n if n % 2 == 1 => (segs[n - 1].to_owned(), segs[..n - 1].join("/")),
        n => (segs[n - 2].to_owned(), segs.join("/")),
    }
}

impl Cosmos {
    /// The account `name`'s endpoint with its key `which` (`primaryMasterKey`,
    /// `primaryReadonlyMasterKey`, …), read as the signed-in admin.
    pub async fn for_account(app: &TestApp, sub: &str, name: &str, which: &str) -> Self {
        let keys = json_ok(app.call("list_keys", &[("subscription_id", sub), ("name", name)]).await).await;
        Self { base: app.base.clone(), account: name.to_owned(), key: keys[which].as_str().unwrap().to_owned(), client: Client::new() }
    }

    /// The same account and key at another server (a replica).
    pub fn at(&self, base: &str) -> Self {
        Self { base: base.to_owned(), ..self.clone() }
    }

    /// The same endpoint with another key.
    pub fn with_key(&self, key: &str) -> Self {
        Self { key: key.to_owned(), ..self.clone() }
    }

    /// Sends `method path` with `headers` and a raw `body`, signed.
    pub async fn send(&self, method: Method, path: &str, headers: &[(&str, &str)], body: Option<String>) -> Response {
        let date = Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let (rtype, link) = signed_as(path);
        let signed = engine::signature::Signed { verb: method.as_str(), resource_type: &rtype, resource_link: &link, date: &date };
        let auth = engine::signature::authorization_header(&self.key, &signed).unwrap();
        let mut req = self
            .client
            .request(method, format!("{}/cosmos/{}/{}", self.base, self.account, path))
            .header("authorization", auth)
            .header("x-ms-date", date)
            .header("x-ms-version", "2018-12-31");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        req.send().await.unwrap()
    }

    /// POSTs a JSON body.
    pub async fn post(&self, path: &str, headers: &[(&str, &str)], body: &Value) -> Response {
        self.send(Method::POST, path, headers, Some(body.to_string())).await
    }

    /// A query request.
    pub async fn query(&self, db: &str, coll: &str, sql: &str, extra: &[(&str, &str)]) -> Response {
        let mut headers = vec![("x-ms-documentdb-isquery", "true"), ("content-type", "application/query+json")];
        headers.extend_from_slice(extra);
        self.send(Method::POST, &format!("dbs/{db}/colls/{coll}/docs"), &headers, Some(serde_json::json!({ "query": sql }).to_string()))
            .await
    }
}

/// The status and the Cosmos error message of a response.
pub async fn status_and_message(res: Response) -> (u16, String) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    let message = serde_json::from_str::<Value>(&text).ok().and_then(|v| v["message"].as_str().map(str::to_owned)).unwrap_or(text);
    (status, message)
}
