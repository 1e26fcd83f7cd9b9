//! The backup storage contract, run against each kind of store: a local folder, S3 (moto) and
//! Azure Blob (Azurite); and redundancy over them: copies written where the policy says, read
//! from the next copy when one is missing or damaged. `scripts/emulators.sh` starts the emulators on loopback (the test command
//! does); each test works under a prefix of its own in their `rewind-tests` bucket and container.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use backup::BackupError;
use backup::storage::{BackupStorage, Put, Store};
use bytes::Bytes;
use domain::Redundancy;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Folder,
    S3,
    Azure,
}

const EVERY_KIND: [Kind; 3] = [Kind::Folder, Kind::S3, Kind::Azure];

/// A fresh, empty store of that kind (a new prefix in the emulators' bucket or container).
fn fresh(kind: Kind, dir: &tempfile::TempDir) -> Store {
    let prefix = format!("t-{:016x}", rand::random::<u64>());
    match kind {
        Kind::Folder => Store::open(&format!("file://{}", dir.path().join(prefix).display()), &BTreeMap::new()).unwrap(),
        Kind::S3 => Store::open(&format!("s3://rewind-tests/{prefix}"), &common::s3_options()).unwrap(),
        Kind::Azure => Store::open(&format!("az://rewind-tests/{prefix}"), &common::azure_options()).unwrap(),
    }
}

fn bytes(s: &[u8]) -> Bytes {
    Bytes::copy_from_slice(s)
}

#[tokio::test]
async fn an_object_is_written_once_and_reads_back_as_written() {
    let dir = tempfile::tempdir().unwrap();
    for kind in EVERY_KIND {
        let store = fresh(kind, &dir);
        store.check().await.unwrap();
        assert_eq!(store.put_new("acct/segments/1-2", bytes(b"first")).await.unwrap(), Put::Written, "{kind:?}");
        // Create-only: a second writer of the same name finds it there and changes nothing.
        assert_eq!(store.put_new("acct/segments/1-2", bytes(b"second")).await.unwrap(), Put::AlreadyThere, "{kind:?}");
        assert_eq!(store.get("acct/segments/1-2").await.unwrap(), b"first".as_slice(), "{kind:?}");
    }
}

#[tokio::test]
async fn an_object_of_many_mebibytes_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let big = Bytes::from((0..24 * 1024 * 1024).map(|_| rand::random::<u8>()).collect::<Vec<u8>>());
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
        a.put_new("x", bytes(b"a")).await.unwrap();
        assert_eq!(b.put_new("x", bytes(b"b")).await.unwrap(), Put::Written, "{kind:?}");
        assert_eq!(a.get("x").await.unwrap(), b"a".as_slice(), "{kind:?}");
    }
}

#[tokio::test]
async fn a_store_that_cannot_be_used_fails_its_check_naming_it() {
    // A bucket and a container that do not exist.
    let s3 = Store::open("s3://no-such-bucket/p", &common::s3_options()).unwrap();
    let e = s3.check().await.unwrap_err().to_string();
    assert!(e.contains("s3://no-such-bucket/p"), "{e}");
    let az = Store::open("az://no-such-container/p", &common::azure_options()).unwrap();
    let e = az.check().await.unwrap_err().to_string();
    assert!(e.contains("az://no-such-container/p"), "{e}");
    // A wrong account key: Azurite checks the signature.
    let mut wrong = common::azure_options();
    wrong.insert("azure_storage_account_key".into(), "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=".into());
    let az = Store::open("az://rewind-tests/p", &wrong).unwrap();
    let e = az.check().await.unwrap_err().to_string();
    assert!(e.contains("az://rewind-tests/p") && !e.contains("d3Jvbmcta2V5"), "{e}");
}

#[test]
fn urls_and_options_are_checked_before_anything_is_contacted() {
    let none = BTreeMap::new();
    let err = |url: &str, options: &BTreeMap<String, String>| Store::open(url, options).unwrap_err().to_string();
    assert!(err("not a url", &none).contains("not a URL"));
    assert!(err("gs://bucket/p", &none).contains("unknown scheme \"gs\""));
    assert!(err("file:///tmp/x", &common::s3_options()).contains("a local folder takes no options"));
    let typo = BTreeMap::from([("aws_acess_key_id".to_owned(), "k".to_owned())]);
    assert!(err("s3://b/p", &typo).contains("unknown option \"aws_acess_key_id\""));
    // S3's keys are not Azure's (allow_http, a client option, is both's).
    assert!(err("az://c/p", &common::s3_options()).contains("unknown option \"aws_access_key_id\""));
    assert_eq!(Store::open("s3://b/some/prefix/", &common::s3_options()).unwrap().label(), "s3://b/some/prefix");
}

/// What a manifest row records of an object: its SHA-256.
fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn copies_go_where_the_redundancy_says_and_a_damaged_copy_is_read_from_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("primary");
    let primary = Store::local(&folder).unwrap();
    let (zone, geo) = (fresh(Kind::S3, &dir), fresh(Kind::Azure, &dir));
    let storage = BackupStorage::new(primary, Some(zone.clone()), Some(geo.clone()));
    storage.check().await.unwrap();

    // Local keeps one copy; Zone the primary and the zone store; Geo the primary and the geo store.
    storage.writing_for(Redundancy::Local).unwrap().put_new("local", b"l".to_vec()).await.unwrap();
    assert!(zone.get("local").await.is_err() && geo.get("local").await.is_err());
    storage.writing_for(Redundancy::Geo).unwrap().put_new("geo", b"g".to_vec()).await.unwrap();
    assert!(zone.get("geo").await.is_err());
    assert_eq!(geo.get("geo").await.unwrap(), b"g".as_slice());
    let zoned = storage.writing_for(Redundancy::Zone).unwrap();
    let damage = ["deleted", "altered", "truncated", "renamed"];
    for key in damage {
        zoned.put_new(key, key.as_bytes().repeat(100)).await.unwrap();
        assert_eq!(zone.get(key).await.unwrap(), key.as_bytes().repeat(100), "{key}");
        assert!(geo.get(key).await.is_err(), "{key} went to the geo store");
    }
    // A second write of a name the primary holds gives the copies what the primary holds.
    assert_eq!(zoned.put_new("deleted", b"other".to_vec()).await.unwrap(), Put::AlreadyThere);
    assert_eq!(zone.get("deleted").await.unwrap(), b"deleted".repeat(100));

    // Each primary copy damaged in its own way.
    std::fs::remove_file(folder.join("deleted")).unwrap();
    let mut altered = std::fs::read(folder.join("altered")).unwrap();
    altered[10] ^= 1;
    std::fs::write(folder.join("altered"), altered).unwrap();
    std::fs::write(folder.join("truncated"), b"trunc").unwrap();
    std::fs::rename(folder.join("renamed"), folder.join("renamed-elsewhere")).unwrap();

    let reading = storage.reporting();
    for key in damage {
        let want = key.as_bytes().repeat(100);
        assert_eq!(reading.get_checked(key, &sha(&want)).await.unwrap(), want, "{key}");
    }
    let notes = reading.fallbacks();
    assert_eq!(notes.len(), damage.len(), "{notes:?}");
    for (key, note) in damage.iter().zip(&notes) {
        assert!(note.starts_with(key) && note.contains(&format!("read from {}", zone.label())), "{note}");
        let why = if matches!(*key, "deleted" | "renamed") { "missing" } else { "does not match its manifest hash" };
        assert!(note.contains(why), "{note}");
    }
    // An undamaged object reads from the primary and is not reported.
    assert_eq!(reading.get_checked("geo", &sha(b"g")).await.unwrap(), b"g");
    assert_eq!(reading.fallbacks().len(), damage.len());
    // No good copy anywhere: the error names every store and what it held.
    let e = reading.get_checked("truncated", &sha(b"something else")).await.unwrap_err().to_string();
    assert!(e.contains(&format!("file://{}", folder.display())) && e.contains(zone.label()) && e.contains(geo.label()), "{e}");
}

#[test]
fn a_redundancy_without_its_store_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let only = BackupStorage::new(Store::local(dir.path()).unwrap(), None, None);
    assert!(only.writing_for(Redundancy::Local).is_ok());
    let e = only.writing_for(Redundancy::Zone).unwrap_err().to_string();
    assert!(e.contains("backup_zone_url"), "{e}");
    let e = only.writing_for(Redundancy::Geo).unwrap_err().to_string();
    assert!(e.contains("backup_geo_url"), "{e}");
}
