//! What the storage tests share: how to reach the object-store emulators that
//! `scripts/emulators.sh` starts on loopback (the test command does).

use std::collections::BTreeMap;

/// moto (S3): `REWIND_TEST_S3_ENDPOINT` or loopback port 5000.
pub fn s3_options() -> BTreeMap<String, String> {
    let endpoint = std::env::var("REWIND_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5000".into());
    [
        ("aws_endpoint", endpoint.as_str()),
        ("aws_region", "us-east-1"),
        ("aws_access_key_id", "test"),
        ("aws_secret_access_key", "test"),
        ("allow_http", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Azurite (Azure Blob), with its well-known development account.
pub fn azure_options() -> BTreeMap<String, String> {
    BTreeMap::from([("azure_storage_use_emulator".to_owned(), "true".to_owned())])
}
