//! How an operator's log entry holds an audit entry: in clear — a tag byte (`c` for a
//! change, `a` for an audit-only entry) and the entry's JSON — or, for an entry about a
//! subject, sealed under the subject's key, with what the trail, the replay and an auditor
//! need once the key is shredded kept in clear beside it.
//!
//! A sealed payload: the tag (`C` for a change, `A` for an audit-only entry), the key's
//! handle (16 bytes), the audit entry's position and time in milliseconds (8 bytes each,
//! big-endian), its `prev` and `hash` (32 each), the event's name (its length in one byte,
//! then it), the reference (one byte for its kind, then 16 bytes for a record or a consent,
//! 8 for the others), then a nonce and the ciphertext of the audit entry's JSON. Everything
//! before the nonce is authenticated with it, so none of it can be changed in a copy and
//! still open.

#![cfg_attr(
    not(feature = "sqlite"),
    allow(dead_code, reason = "only an operator's own log seals entries")
)]

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use crate::audit::{AuditEntry, Event, Reference};
use crate::event::ChainHash;
use crate::vocab::ids::{ConsentId, HoldId, RecordId};

/// How an operator's log tags a payload that is a change, which the replay applies.
pub(crate) const CHANGE_TAG: u8 = b'c';
/// How an operator's log tags an audit-only payload.
pub(crate) const AUDIT_TAG: u8 = b'a';

/// `entry`'s JSON, its event's given: the fields in the order, and with the names and
/// encodings, its `Serialize` gives them.
pub(crate) fn entry_json(
    entry: &AuditEntry,
    event_json: &[u8],
) -> Result<Zeroizing<Vec<u8>>, String> {
    use std::io::Write as _;
    let failed = |e: serde_json::Error| format!("an audit entry can't be written: {e}");
    let mut json = ZeroizedOnGrowth::with_capacity(event_json.len() + 320);
    let _ = json.write_all(b"{\"seq\":");
    serde_json::to_writer(&mut json, &entry.seq).map_err(failed)?;
    let _ = json.write_all(b",\"at\":");
    serde_json::to_writer(&mut json, &entry.at).map_err(failed)?;
    let _ = json.write_all(b",\"event\":");
    let _ = json.write_all(event_json);
    let _ = json.write_all(b",\"prev\":");
    serde_json::to_writer(&mut json, &entry.prev).map_err(failed)?;
    let _ = json.write_all(b",\"hash\":");
    serde_json::to_writer(&mut json, &entry.hash).map_err(failed)?;
    let _ = json.write_all(b"}");
    Ok(json.0)
}

/// `value`'s JSON, in a buffer that leaves no copy of it behind: for what names a subject.
///
/// # Errors
///
/// `serde_json`'s, if `value` can't be written as JSON.
pub(crate) fn zeroized_json<T: serde::Serialize + ?Sized>(
    value: &T,
) -> Result<Zeroizing<Vec<u8>>, serde_json::Error> {
    let mut json = ZeroizedOnGrowth::with_capacity(1024);
    serde_json::to_writer(&mut json, value)?;
    Ok(json.0)
}

/// A buffer that, when it must grow, moves to a larger one itself and zeroes the one it
/// leaves: a vector grown by its own means frees its old allocation as it is, with every
/// byte written so far in it.
struct ZeroizedOnGrowth(Zeroizing<Vec<u8>>);

impl ZeroizedOnGrowth {
    fn with_capacity(capacity: usize) -> Self {
        Self(Zeroizing::new(Vec::with_capacity(capacity)))
    }
}

impl std::io::Write for ZeroizedOnGrowth {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let needed = self.0.len().saturating_add(bytes.len());
        if needed > self.0.capacity() {
            let mut larger = Vec::with_capacity(needed.max(self.0.capacity().saturating_mul(2)));
            larger.extend_from_slice(&self.0);
            // The old buffer, zeroed whole as it drops.
            self.0 = Zeroizing::new(larger);
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The audit entry an operator's log entry holds, and whether it was written as a change;
/// `None` for a payload this library did not write. The error, where there is one, names
/// a place in the JSON, never its content.
pub(crate) fn from_log_payload(payload: &[u8]) -> Result<(bool, AuditEntry), String> {
    let (change, json) = match payload.split_first() {
        Some((&CHANGE_TAG, json)) => (true, json),
        Some((&AUDIT_TAG, json)) => (false, json),
        _ => return Err("the entry is not tagged as this library tags its entries".into()),
    };
    let entry: AuditEntry = serde_json::from_slice(json)
        .map_err(|e| format!("the entry is not an audit entry (column {})", e.column()))?;
    if change && !entry.event.is_change() {
        return Err(format!(
            "audit entry {} is tagged as a change and holds a {} event",
            entry.seq,
            entry.event.name()
        ));
    }
    Ok((change, entry))
}

/// A change sealed under its subject's key.
pub(crate) const SEALED_CHANGE: u8 = b'C';
/// An audit-only entry sealed likewise.
pub(crate) const SEALED_AUDIT: u8 = b'A';

const RECORD: u8 = 1;
const HOLD: u8 = 2;
const NOTICE: u8 = 3;
const REQUEST: u8 = 4;
const CONSENT: u8 = 5;

/// Whether `payload` is sealed, and a change if so.
pub(crate) fn sealed_kind(payload: &[u8]) -> Option<bool> {
    match payload.first() {
        Some(&SEALED_CHANGE) => Some(true),
        Some(&SEALED_AUDIT) => Some(false),
        _ => None,
    }
}

/// The clear part of `entry` sealed under the key `handle` names: what the cipher then
/// authenticates.
pub(crate) fn sealed_header(
    change: bool,
    entry: &AuditEntry,
    handle: &[u8; 16],
) -> Result<Vec<u8>, String> {
    let mut header = vec![if change { SEALED_CHANGE } else { SEALED_AUDIT }];
    header.extend_from_slice(handle);
    header.extend_from_slice(&entry.seq.to_be_bytes());
    header.extend_from_slice(&entry.at.timestamp_millis().to_be_bytes());
    header.extend_from_slice(&entry.prev.0);
    header.extend_from_slice(&entry.hash.0);
    let name = entry.event.name().as_bytes();
    header.push(u8::try_from(name.len()).map_err(|_| "an event name too long")?);
    header.extend_from_slice(name);
    match entry.event.reference() {
        None => header.push(0),
        Some(Reference::Record(record)) => {
            header.push(RECORD);
            header.extend_from_slice(record.as_bytes());
        }
        Some(Reference::Consent(consent)) => {
            header.push(CONSENT);
            header.extend_from_slice(consent.as_bytes());
        }
        Some(Reference::Hold(hold)) => {
            header.push(HOLD);
            header.extend_from_slice(&hold.0.to_be_bytes());
        }
        Some(Reference::Notice(n)) => {
            header.push(NOTICE);
            header.extend_from_slice(&n.to_be_bytes());
        }
        Some(Reference::Request(n)) => {
            header.push(REQUEST);
            header.extend_from_slice(&n.to_be_bytes());
        }
    }
    Ok(header)
}

/// What a sealed payload keeps in clear.
pub(crate) struct Header<'a> {
    /// Whether it is a change.
    pub(crate) change: bool,
    /// The handle of the key it is sealed under.
    pub(crate) handle: [u8; 16],
    /// The audit entry's position.
    pub(crate) seq: u64,
    at: DateTime<Utc>,
    prev: ChainHash,
    /// The audit entry's hash.
    pub(crate) hash: ChainHash,
    was: &'a str,
    /// What the entry is about.
    pub(crate) reference: Option<Reference>,
    /// Everything up to the nonce: what the cipher authenticates.
    pub(crate) aad: &'a [u8],
    /// The nonce and the ciphertext.
    pub(crate) sealed: &'a [u8],
}

/// Reads from the front of a slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let (head, rest) = self
            .0
            .split_at_checked(n)
            .ok_or("a sealed entry cut short")?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        self.take(N)?
            .try_into()
            .map_err(|_| "a sealed entry cut short".to_string())
    }

    fn u64(&mut self) -> Result<u64, String> {
        self.array().map(u64::from_be_bytes)
    }
}

/// The clear part of a sealed `payload`.
pub(crate) fn header(payload: &[u8]) -> Result<Header<'_>, String> {
    let change = sealed_kind(payload).ok_or("not a sealed entry")?;
    let mut read = Reader(payload.get(1..).unwrap_or_default());
    let handle = read.array()?;
    let seq = read.u64()?;
    let at = DateTime::from_timestamp_millis(i64::from_be_bytes(read.array()?))
        .ok_or("a sealed entry's time out of range")?;
    let prev = ChainHash(read.array()?);
    let hash = ChainHash(read.array()?);
    let length = read.array::<1>()?[0];
    let was = std::str::from_utf8(read.take(usize::from(length))?)
        .map_err(|_| "a sealed entry's name is not text")?;
    let reference = match read.array::<1>()?[0] {
        0 => None,
        RECORD => Some(Reference::Record(RecordId::from_bytes(read.array()?))),
        CONSENT => Some(Reference::Consent(ConsentId::from_bytes(read.array()?))),
        HOLD => Some(Reference::Hold(HoldId(read.u64()?))),
        NOTICE => Some(Reference::Notice(read.u64()?)),
        REQUEST => Some(Reference::Request(read.u64()?)),
        _ => return Err("a sealed entry's reference is of no known kind".into()),
    };
    let aad_len = payload.len() - read.0.len();
    Ok(Header {
        change,
        handle,
        seq,
        at,
        prev,
        hash,
        was,
        reference,
        aad: &payload[..aad_len],
        sealed: read.0,
    })
}

impl Header<'_> {
    /// Whether `entry`, opened from the sealed part, is what the clear part says.
    pub(crate) fn agrees(&self, entry: &AuditEntry) -> bool {
        entry.seq == self.seq
            && entry.at.timestamp_millis() == self.at.timestamp_millis()
            && entry.prev == self.prev
            && entry.hash == self.hash
            && entry.event.name() == self.was
            && entry.event.reference() == self.reference
            && (!self.change || entry.event.is_change())
    }

    /// How the trail shows the entry once its key is shredded.
    pub(crate) fn erased(&self) -> AuditEntry {
        AuditEntry {
            seq: self.seq,
            at: self.at,
            event: Event::Erased {
                was: self.was.to_owned(),
                change: self.change,
                key: hex::encode(self.handle),
                reference: self.reference,
            },
            prev: self.prev,
            hash: self.hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_grown_through_its_own_buffer_is_the_json_serde_writes() {
        let long: Vec<String> = (0..500).map(|n| format!("recipient-{n}")).collect();
        let json = zeroized_json(&long).unwrap();
        assert!(json.len() > 1024);
        assert_eq!(*json, serde_json::to_vec(&long).unwrap());
    }

    #[test]
    fn an_entrys_json_from_its_events_is_the_json_serde_writes_of_it() {
        for entry in crate::audit::tests::varied_entries() {
            let event = serde_json::to_vec(&entry.event).unwrap();
            assert_eq!(
                *entry_json(&entry, &event).unwrap(),
                serde_json::to_vec(&entry).unwrap(),
                "{entry:?}"
            );
        }
    }
}
