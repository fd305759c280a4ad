//! An operator's log entry about a subject, sealed under the subject's key: the clear
//! part is [`payload`](crate::payload)'s, and the audit entry's JSON, which names the
//! subject, is encrypted and bound to it.

use crate::audit::AuditEntry;

use crate::log::{Nonce, SealKey};
use crate::payload::{Header, entry_json, sealed_header};

/// The payload of `entry` sealed under `key` with `nonce`, from `event_json`, the entry's
/// event as `serde_json` writes it: both made before the audit log's lock, which this runs
/// under.
pub(super) fn seal_encoded(
    change: bool,
    entry: &AuditEntry,
    event_json: &[u8],
    key: &SealKey,
    nonce: &Nonce,
) -> Result<Vec<u8>, String> {
    let mut payload = sealed_header(change, entry, &key.handle())?;
    let json = entry_json(entry, event_json)?;
    let sealed = key
        .seal_with(nonce, &payload, &json)
        .ok_or("an audit entry too long to seal")?;
    payload.extend_from_slice(&sealed);
    Ok(payload)
}

/// The audit entry `header`'s payload seals, opened with its key: refused unless it
/// authenticates and says what the clear part says.
pub(super) fn open(header: &Header<'_>, key: &SealKey) -> Result<AuditEntry, String> {
    let json = key
        .open(header.aad, header.sealed)
        .ok_or("a sealed entry does not open under its key")?;
    let entry: AuditEntry = serde_json::from_slice(&json).map_err(|e| {
        format!(
            "a sealed entry is not an audit entry (column {})",
            e.column()
        )
    })?;
    if header.agrees(&entry) {
        Ok(entry)
    } else {
        Err(format!(
            "sealed audit entry {} says otherwise than its clear part",
            header.seq
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Event, Reference};
    use crate::event::ChainHash;
    use crate::key::Kek;
    use crate::log::Keyring;
    use crate::payload::header;
    use crate::vocab::SubjectId;
    use crate::vocab::ids::RecordId;
    use chrono::DateTime;

    fn sealed(change: bool, entry: &AuditEntry, key: &SealKey) -> Vec<u8> {
        let event = serde_json::to_vec(&entry.event).unwrap();
        seal_encoded(change, entry, &event, key, &crate::log::Nonce::random()).unwrap()
    }

    fn entry() -> AuditEntry {
        AuditEntry {
            seq: 7,
            at: DateTime::from_timestamp_millis(1_700_000_000_123).unwrap(),
            event: Event::Keeping {
                record: RecordId::random(),
                subject: SubjectId::new("cust-canary-41").unwrap(),
            },
            prev: ChainHash([1; 32]),
            hash: ChainHash([2; 32]),
        }
    }

    #[test]
    fn a_sealed_entry_opens_whole_and_hides_its_subject() {
        let keyring = Keyring::new(&Kek::random()).unwrap();
        let (_, key) = keyring.create(b"cust-canary-41");
        let entry = entry();
        let payload = sealed(true, &entry, &key);
        assert!(!payload.windows(14).any(|w| w == b"cust-canary-41"));
        let header = header(&payload).unwrap();
        assert_eq!(open(&header, &key).unwrap(), entry);
        let erased = header.erased();
        assert_eq!(
            (erased.seq, erased.prev, erased.hash),
            (7, entry.prev, entry.hash)
        );
        assert!(matches!(
            erased.event,
            Event::Erased { ref was, change: true, reference: Some(Reference::Record(_)), .. }
                if was == "keeping"
        ));
    }

    #[test]
    fn every_byte_of_the_clear_part_is_bound_to_the_ciphertext() {
        let keyring = Keyring::new(&Kek::random()).unwrap();
        let (_, key) = keyring.create(b"s");
        let payload = sealed(false, &entry(), &key);
        let aad = header(&payload).unwrap().aad.len();
        for i in 0..aad {
            let mut edited = payload.clone();
            edited[i] ^= 0x20;
            let opened = header(&edited).and_then(|h| open(&h, &key));
            assert!(opened.is_err(), "byte {i} of the clear part was not bound");
        }
        for cut in 0..payload.len() {
            assert!(
                header(&payload[..cut])
                    .and_then(|h| open(&h, &key))
                    .is_err()
            );
        }
    }
}
