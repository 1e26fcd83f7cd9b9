//! Sealed change-log segments: a run of consecutive change-log entries, serialised as JSON lines,
//! compressed with zstd and encrypted with AES-256-GCM under the account's data key.
//!
//! The object's identity — account, kind, sequence range — is the encryption's associated data,
//! so an object moved to another name or swapped for another account's fails to open instead of
//! being replayed in the wrong place.
//!
//! Snapshot chunks ([`crate::chunk`]) use the same sealing under their own identity.
//!
//! Layout: `RWB1` ‖ 12-byte nonce ‖ ciphertext ‖ 16-byte tag.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use chrono::{DateTime, Utc};
use domain::resource::{ChangeOp, ResourceType};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::BackupError;
use crate::keys::DataKey;

const MAGIC: &[u8; 4] = b"RWB1";
const NONCE_LEN: usize = 12;
/// zstd level 1: on JSON it keeps most of level 3's ratio at about twice the speed, and sealing
/// is what a snapshot merge and a restore spend most of their CPU on.
const ZSTD_LEVEL: i32 = 1;
const TAG_LEN: usize = 16;

/// One change as a backup keeps it (the change-log row, minus the account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: i64,
    pub committed_at: DateTime<Utc>,
    pub op: ChangeOp,
    pub resource_type: ResourceType,
    pub database_id: String,
    pub container_id: String,
    pub pk: Option<String>,
    pub item_id: Option<String>,
    pub body: Option<String>,
}

impl From<engine::entities::change::Model> for Entry {
    fn from(m: engine::entities::change::Model) -> Self {
        Self {
            seq: m.seq,
            committed_at: m.committed_at,
            op: m.op,
            resource_type: m.resource_type,
            database_id: m.database_id,
            container_id: m.container_id,
            pk: m.pk,
            item_id: m.item_id,
            body: m.body,
        }
    }
}

/// Where a segment lives in backup storage.
pub fn object_key(account_id: &str, first_seq: i64, last_seq: i64) -> String {
    format!("accounts/{account_id}/log/{first_seq:020}-{last_seq:020}.seg")
}

fn aad(account_id: &str, first_seq: i64, last_seq: i64) -> Vec<u8> {
    format!("rewind/backup/v1/{account_id}/log/{first_seq}-{last_seq}").into_bytes()
}

/// Seals `entries` (consecutive, `first_seq..=last_seq`) for `account_id`.
///
/// # Errors
/// [`BackupError::Invalid`] if the entries are empty or not consecutive.
pub fn seal(key: &DataKey, account_id: &str, entries: &[Entry]) -> Result<Vec<u8>, BackupError> {
    let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
        return Err(BackupError::Invalid("a segment needs at least one entry".into()));
    };
    if entries.windows(2).any(|w| w[1].seq != w[0].seq + 1) {
        return Err(BackupError::Invalid("segment entries must be consecutive".into()));
    }
    seal_lines(key, &aad(account_id, first.seq, last.seq), entries)
}

/// Opens a segment that the manifest says holds `first_seq..=last_seq` of `account_id`.
///
/// # Errors
/// [`BackupError::Integrity`] when the object is not a segment, was altered, belongs elsewhere,
/// or does not hold exactly the range named.
pub fn open(key: &DataKey, account_id: &str, first_seq: i64, last_seq: i64, bytes: Vec<u8>) -> Result<Vec<Entry>, BackupError> {
    let name = object_key(account_id, first_seq, last_seq);
    let entries = open_lines(key, &aad(account_id, first_seq, last_seq), &name, bytes)?;
    let consecutive = entries.windows(2).all(|w| w[1].seq == w[0].seq + 1);
    if !consecutive || entries.first().map(|e| e.seq) != Some(first_seq) || entries.last().map(|e| e.seq) != Some(last_seq) {
        return Err(BackupError::Integrity(format!("{name}: does not hold the sequence range its name says")));
    }
    Ok(entries)
}

/// Where a base snapshot lives in backup storage.
pub fn snapshot_key(account_id: &str, seq: i64) -> String {
    format!("accounts/{account_id}/snapshots/{seq:020}.snap")
}

fn snapshot_aad(account_id: &str, seq: i64) -> Vec<u8> {
    format!("rewind/backup/v1/{account_id}/snapshot/{seq}").into_bytes()
}

/// Seals a snapshot in the format from before chunking (one object of `create` entries), so
/// that reading one stays tested.
#[cfg(test)]
pub(crate) fn seal_snapshot(key: &DataKey, account_id: &str, seq: i64, entries: &[Entry]) -> Result<Vec<u8>, BackupError> {
    seal_lines(key, &snapshot_aad(account_id, seq), entries)
}

/// Opens a snapshot written before chunking (one object holding the whole account).
///
/// # Errors
/// [`BackupError::Integrity`] when the object was altered, moved or is not that snapshot.
pub fn open_snapshot(key: &DataKey, account_id: &str, seq: i64, bytes: Vec<u8>) -> Result<Vec<Entry>, BackupError> {
    open_lines(key, &snapshot_aad(account_id, seq), &snapshot_key(account_id, seq), bytes)
}

fn seal_lines(key: &DataKey, aad: &[u8], entries: &[Entry]) -> Result<Vec<u8>, BackupError> {
    let mut lines = Vec::new();
    for e in entries {
        serde_json::to_writer(&mut lines, e).map_err(|e| BackupError::Invalid(format!("entry does not serialise: {e}")))?;
        lines.push(b'\n');
    }
    seal_plain(key, aad, &lines)
}

fn open_lines(key: &DataKey, aad: &[u8], name: &str, bytes: Vec<u8>) -> Result<Vec<Entry>, BackupError> {
    let lines = open_plain(key, aad, name, bytes)?;
    parse_entries(name, &lines)
}

/// Reads JSON-lines entries.
pub(crate) fn parse_entries(name: &str, lines: &[u8]) -> Result<Vec<Entry>, BackupError> {
    let mut entries = Vec::new();
    for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        entries.push(
            serde_json::from_slice::<Entry>(line).map_err(|e| BackupError::Integrity(format!("{name}: holds an unreadable entry: {e}")))?,
        );
    }
    Ok(entries)
}

/// Compresses and encrypts `plain` under `aad` (the object's identity), in one buffer.
pub(crate) fn seal_plain(key: &DataKey, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, BackupError> {
    let header = MAGIC.len() + NONCE_LEN;
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let mut out = Vec::with_capacity(header + zstd::zstd_safe::compress_bound(plain.len()) + TAG_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&nonce);
    // Compressed into the room after the header, which is not zeroed first (a cursor at the
    // header's end writes there and sets the length).
    let mut cursor = std::io::Cursor::new(out);
    cursor.set_position(header as u64);
    zstd::bulk::Compressor::new(ZSTD_LEVEL)
        .and_then(|mut c| c.compress_to_buffer(plain, &mut cursor))
        .map_err(|e| BackupError::Invalid(format!("compression failed: {e}")))?;
    let mut out = cursor.into_inner();
    let cipher = Aes256Gcm::new(&key.0.into());
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(nonce), aad, (&mut out[header..]).into())
        .map_err(|_| BackupError::Invalid("encryption failed".into()))?;
    out.extend_from_slice(tag.as_slice());
    Ok(out)
}

/// Decrypts (in place) and decompresses an object sealed by [`seal_plain`] under `aad`.
///
/// # Errors
/// [`BackupError::Integrity`], naming `name`, when it is not a Rewind object, fails
/// authentication or does not decompress.
pub(crate) fn open_plain(key: &DataKey, aad: &[u8], name: &str, mut bytes: Vec<u8>) -> Result<Vec<u8>, BackupError> {
    let bad = |why: &str| BackupError::Integrity(format!("{name}: {why}"));
    let header = MAGIC.len() + NONCE_LEN;
    if bytes.len() < header + TAG_LEN || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad("not a Rewind backup object"));
    }
    let nonce: [u8; NONCE_LEN] = bytes[MAGIC.len()..header].try_into().map_err(|_| bad("truncated"))?;
    let body_end = bytes.len() - TAG_LEN;
    let tag = aes_gcm::Tag::try_from(&bytes[body_end..]).map_err(|_| bad("truncated"))?;
    let cipher = Aes256Gcm::new(&key.0.into());
    cipher
        .decrypt_inout_detached(&Nonce::from(nonce), aad, (&mut bytes[header..body_end]).into(), &tag)
        .map_err(|_| bad("fails authentication (altered, moved from another name or account, or another key)"))?;
    let compressed = &bytes[header..body_end];
    let decompressed = match zstd::zstd_safe::get_frame_content_size(compressed) {
        // Sealing writes one frame that records its size (and it was just authenticated): the
        // output is allocated once, at its size, instead of grown and copied as it streams.
        Ok(Some(size)) if size <= MAX_ONE_SHOT => zstd::bulk::decompress(compressed, size as usize),
        _ => zstd::stream::decode_all(compressed),
    };
    decompressed.map_err(|e| bad(&format!("does not decompress: {e}")))
}

/// Objects whose plain size is above this are decompressed as a stream.
const MAX_ONE_SHOT: u64 = 1 << 30;

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64) -> Entry {
        Entry {
            seq,
            committed_at: Utc::now(),
            op: ChangeOp::Create,
            resource_type: ResourceType::Item,
            database_id: "db".into(),
            container_id: "c".into(),
            pk: Some("[\"a\"]".into()),
            item_id: Some(format!("i{seq}")),
            body: Some(format!("{{\"id\":\"i{seq}\",\"v\":\"{}\"}}", "x".repeat(100))),
        }
    }

    #[test]
    fn a_sealed_segment_opens_to_the_same_entries() {
        let key = DataKey::generate();
        let entries: Vec<_> = (5..=9).map(entry).collect();
        let sealed = seal(&key, "acct", &entries).unwrap();
        assert_eq!(open(&key, "acct", 5, 9, sealed).unwrap(), entries);
    }

    #[test]
    fn segments_are_compressed_and_hold_no_plaintext() {
        let key = DataKey::generate();
        let entries: Vec<_> = (1..=50).map(entry).collect();
        let sealed = seal(&key, "acct", &entries).unwrap();
        let plain: usize = entries.iter().map(|e| serde_json::to_vec(e).unwrap().len()).sum();
        assert!(sealed.len() < plain / 4, "{} bytes sealed from {plain}", sealed.len());
        assert!(!sealed.windows(4).any(|w| w == b"i10\""));
    }

    #[test]
    fn a_sealed_object_records_its_size_so_it_opens_in_one_allocation() {
        let key = DataKey::generate();
        let plain: Vec<u8> = (0..300_000u32).flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes()).collect();
        let sealed = seal_plain(&key, b"aad", &plain).unwrap();
        let header = MAGIC.len() + NONCE_LEN;
        let mut body = sealed[header..sealed.len() - TAG_LEN].to_vec();
        let nonce: [u8; NONCE_LEN] = sealed[MAGIC.len()..header].try_into().unwrap();
        let tag = aes_gcm::Tag::try_from(&sealed[sealed.len() - TAG_LEN..]).unwrap();
        Aes256Gcm::new(&key.0.into()).decrypt_inout_detached(&Nonce::from(nonce), b"aad", (&mut body[..]).into(), &tag).unwrap();
        assert_eq!(zstd::zstd_safe::get_frame_content_size(&body).unwrap(), Some(plain.len() as u64));
        assert_eq!(open_plain(&key, b"aad", "obj", sealed).unwrap(), plain);
    }

    #[test]
    fn a_moved_swapped_or_altered_segment_is_detected() {
        let key = DataKey::generate();
        let sealed = seal(&key, "acct", &[entry(1), entry(2)]).unwrap();
        assert!(matches!(open(&key, "other", 1, 2, sealed.clone()), Err(BackupError::Integrity(_))));
        assert!(matches!(open(&key, "acct", 3, 4, sealed.clone()), Err(BackupError::Integrity(_))));
        assert!(matches!(open(&DataKey::generate(), "acct", 1, 2, sealed.clone()), Err(BackupError::Integrity(_))));
        let mut altered = sealed.clone();
        let last = altered.len() - 20;
        altered[last] ^= 1;
        assert!(matches!(open(&key, "acct", 1, 2, altered), Err(BackupError::Integrity(_))));
    }

    #[test]
    fn gaps_are_refused_when_sealing() {
        let key = DataKey::generate();
        assert!(seal(&key, "acct", &[entry(1), entry(3)]).is_err());
        assert!(seal(&key, "acct", &[]).is_err());
    }
}
