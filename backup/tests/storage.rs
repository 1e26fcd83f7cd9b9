//! The backup storage contract, run against each kind of store: a local folder, S3 (moto) and
//! Azure Blob (Azurite). `scripts/emulators.sh` starts the emulators on loopback (the test command
//! does); each test works under a prefix of its own in their `rewind-tests` bucket and container.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use backup::BackupError;
use backup::storage::{BackupStorage, Put};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Folder,
    S3,
    Azure,
}

const EVERY_KIND: [Kind; 3] = [Kind::Folder, Kind::S3, Kind::Azure];

fn s3_options() -> BTreeMap<String, String> {
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

fn azure_options() -> BTreeMap<String, String> {
    BTreeMap::from([("azure_storage_use_emulator".to_owned(), "true".to_owned())])
}

/// A fresh, empty store of that kind (a new prefix in the emulators' bucket or container).
fn fresh(kind: Kind, dir: &tempfile::TempDir) -> BackupStorage {
    let prefix = format!("t-{:016x}", rand::random::<u64>());
    match kind {
        Kind::Folder => BackupStorage::open(&format!("file://{}", dir.path().join(prefix).display()), &BTreeMap::new()).unwrap(),
        Kind::S3 => BackupStorage::open(&format!("s3://rewind-tests/{prefix}"), &s3_options()).unwrap(),
        Kind::Azure => BackupStorage::open(&format!("az://rewind-tests/{prefix}"), &azure_options()).unwrap(),
    }
}

#[tokio::test]
async fn an_object_is_written_once_and_reads_back_as_written() {
    let dir = tempfile::tempdir().unwrap();
    for kind in EVERY_KIND {
        let store = fresh(kind, &dir);
        store.check().await.unwrap();
        assert_eq!(store.put_new("acct/segments/1-2", b"first".to_vec()).await.unwrap(), Put::Written, "{kind:?}");
        // Create-only: a second writer of the same name finds it there and changes nothing.
        assert_eq!(store.put_new("acct/segments/1-2", b"second".to_vec()).await.unwrap(), Put::AlreadyThere, "{kind:?}");
        assert_eq!(store.get("acct/segments/1-2").await.unwrap(), b"first", "{kind:?}");
    }
}

#[tokio::test]
async fn an_object_of_many_mebibytes_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let big: Vec<u8> = (0..24 * 1024 * 1024).map(|_| rand::random::<u8>()).collect();
    for kind in EVERY_KIND {
        let store = fresh(kind, &dir);
        assert_eq!(store.put_new("acct/chunks/big", big.clone()).await.unwrap(), Put::Written, "{kind:?}");
        assert!(store.get("acct/chunks/big").await.unwrap() == big, "{kind:?}: the object read back differs");
    }
}

#[tokio::test]
async fn a_missing_object_is_an_integrity_error_naming_the_object_and_the_store() {
    let dir = tempfile::tempdir().unwrap();
    for kind in EVERY_KIND {
        let store = fresh(kind, &dir);
        let e = store.get("acct/segments/7-9").await.unwrap_err();
        assert!(matches!(e, BackupError::Integrity(_)), "{kind:?}: {e}");
        let message = e.to_string();
        assert!(message.contains("acct/segments/7-9") && message.contains(store.label()), "{kind:?}: {message}");
    }
}

#[tokio::test]
async fn stores_under_different_prefixes_do_not_see_each_other() {
    let dir = tempfile::tempdir().unwrap();
    for kind in EVERY_KIND {
        let (a, b) = (fresh(kind, &dir), fresh(kind, &dir));
        a.put_new("x", b"a".to_vec()).await.unwrap();
        assert_eq!(b.put_new("x", b"b".to_vec()).await.unwrap(), Put::Written, "{kind:?}");
        assert_eq!(a.get("x").await.unwrap(), b"a", "{kind:?}");
    }
}

#[tokio::test]
async fn a_store_that_cannot_be_used_fails_its_check_naming_it() {
    // A bucket and a container that do not exist.
    let s3 = BackupStorage::open("s3://no-such-bucket/p", &s3_options()).unwrap();
    let e = s3.check().await.unwrap_err().to_string();
    assert!(e.contains("s3://no-such-bucket/p"), "{e}");
    let az = BackupStorage::open("az://no-such-container/p", &azure_options()).unwrap();
    let e = az.check().await.unwrap_err().to_string();
    assert!(e.contains("az://no-such-container/p"), "{e}");
    // A wrong account key: Azurite checks the signature.
    let mut wrong = azure_options();
    wrong.insert("azure_storage_account_key".into(), "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=".into());
    let az = BackupStorage::open("az://rewind-tests/p", &wrong).unwrap();
    let e = az.check().await.unwrap_err().to_string();
    assert!(e.contains("az://rewind-tests/p") && !e.contains("d3Jvbmcta2V5"), "{e}");
}

#[test]
fn urls_and_options_are_checked_before_anything_is_contacted() {
    let none = BTreeMap::new();
    let err = |url: &str, options: &BTreeMap<String, String>| BackupStorage::open(url, options).unwrap_err().to_string();
    assert!(err("not a url", &none).contains("not a URL"));
    assert!(err("gs://bucket/p", &none).contains("unknown scheme \"gs\""));
    assert!(err("file:///tmp/x", &s3_options()).contains("a local folder takes no options"));
    let typo = BTreeMap::from([("aws_acess_key_id".to_owned(), "k".to_owned())]);
    assert!(err("s3://b/p", &typo).contains("unknown option \"aws_acess_key_id\""));
    // S3's keys are not Azure's (allow_http, a client option, is both's).
    assert!(err("az://c/p", &s3_options()).contains("unknown option \"aws_access_key_id\""));
    assert_eq!(BackupStorage::open("s3://b/some/prefix/", &s3_options()).unwrap().label(), "s3://b/some/prefix");
}
