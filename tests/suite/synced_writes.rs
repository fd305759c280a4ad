//! What keeping and destroying a record cost in synced writes, and in which order (issue 16,
//! item 2): the vault, the key store and the log are three databases, so a record's keeping
//! is not one transaction, and the order is what leaves nothing unaccounted after a crash.
//! Each write counted here is one synced transaction of the embedded stores (an `strace`
//! of an operator in a directory shows the same syncs: BENCHMARKS.md).

use std::sync::{Arc, Mutex};

use amanat::data::RecordId;
use amanat::retention::Trigger;
use amanat::store::journal::{Change, Journal, MemoryJournal};
use amanat::store::keys::{DataKey, KeyError, KeyStore, MemoryKeyStore};
use amanat::store::seal::Sealed;
use amanat::store::vault::{MemoryVault, StoreError, Vault, VaultEntry};
use amanat::store::{Operator, Stores};
use amanat::{ManualClock, SubjectId};

use crate::common::{collected_phone, customer, imanum, monday};

/// Every durable write, in order: `log:<change>`, `keys`, `vault`.
#[derive(Clone, Default)]
struct Writes(Arc<Mutex<Vec<String>>>);

impl Writes {
    fn note(&self, write: impl Into<String>) {
        self.0.lock().unwrap().push(write.into());
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct CountedLog(MemoryJournal, Writes);

impl Journal for CountedLog {
    fn append(&self, change: &Change) -> Result<(), StoreError> {
        self.1.note(format!("log:{}", change.kind()));
        self.0.append(change)
    }
    fn replay(
        &self,
        visit: &mut dyn FnMut(Change) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.0.replay(visit)
    }
}

struct CountedKeys(MemoryKeyStore, Writes);

impl KeyStore for CountedKeys {
    fn create(&self, record: RecordId, subject: &SubjectId) -> Result<DataKey, KeyError> {
        self.1.note("keys");
        self.0.create(record, subject)
    }
    fn get(&self, record: RecordId) -> Result<DataKey, KeyError> {
        self.0.get(record)
    }
    fn shred(&self, record: RecordId) -> Result<bool, KeyError> {
        self.1.note("keys");
        self.0.shred(record)
    }
    fn shred_subject(&self, subject: &SubjectId) -> Result<usize, KeyError> {
        self.1.note("keys");
        self.0.shred_subject(subject)
    }
}

struct CountedVault(MemoryVault, Writes);

impl Vault for CountedVault {
    fn put(&self, entry: &VaultEntry, sealed: &Sealed) -> Result<(), StoreError> {
        self.1.note("vault");
        self.0.put(entry, sealed)
    }
    fn get(&self, record: RecordId) -> Result<Option<(VaultEntry, Sealed)>, StoreError> {
        self.0.get(record)
    }
    fn remove(&self, record: RecordId) -> Result<bool, StoreError> {
        self.1.note("vault");
        self.0.remove(record)
    }
    fn records_of(&self, subject: &SubjectId) -> Result<Vec<RecordId>, StoreError> {
        self.0.records_of(subject)
    }
    fn records(&self) -> Result<Vec<RecordId>, StoreError> {
        self.0.records()
    }
}

#[test]
fn keeping_a_record_is_four_synced_writes_and_destroying_it_three_then_its_notice_in_crash_safe_order()
 {
    let writes = Writes::default();
    let stores = Stores::new(
        Arc::new(CountedLog(MemoryJournal::new(), writes.clone())),
        Arc::new(CountedKeys(MemoryKeyStore::new(), writes.clone())),
        Arc::new(CountedVault(MemoryVault::new(), writes.clone())),
        Arc::new(amanat::audit::AuditLog::in_memory()),
    );
    let clock = ManualClock::new(monday());
    let operator = Operator::with_stores(stores, imanum())
        .clock(clock.clone())
        .open()
        .unwrap();
    let (token, mut phone) = collected_phone(&operator);
    writes.take();

    operator.keep(&mut phone, &token).unwrap();
    // Announced, then the key, then the sealed value, then tracked — the step that
    // acknowledges. A crash before the last leaves a copy announced and never tracked,
    // which the next open shreds.
    assert_eq!(
        writes.take(),
        ["log:keeping", "keys", "vault", "log:tracked"]
    );

    let now = amanat::Clock::now(&clock);
    operator
        .trigger(&customer(), Trigger::AccountClosed, now)
        .unwrap();
    writes.take();
    assert_eq!(operator.sweep(now).unwrap().destroyed.len(), 1);
    // The key first — the copy is unreadable from then on — then the sealed value, then
    // the destruction on the record. A crash before the last leaves the record tracked
    // and due: the next sweep destroys it again, and records it once. Then the notice the
    // Uzbek law owes the subject of it (Art. 31).
    assert_eq!(
        writes.take(),
        ["keys", "vault", "log:destruction", "log:change_notice_owed"]
    );
}
