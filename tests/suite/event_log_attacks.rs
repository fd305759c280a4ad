//! The one log of events against a hostile caller, a failing store and a racing process:
//! attacks found by a review of the change that made each change one entry (issue 16),
//! each made into the rule it shows.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use amanat::audit::{self, AuditError, AuditLog};
use amanat::category::Phone;
use amanat::store::journal::{Journal, MemoryJournal};
use amanat::store::keys::MemoryKeyStore;
use amanat::store::vault::MemoryVault;
use amanat::store::{Operator, Stores};
use amanat::{ManualClock, Purpose};

#[cfg(feature = "sqlite")]
use crate::common::{collected_phone, full_size, imanum_operator, kept_phone};
use crate::common::{
    customer, imanum, imanum_version, ledger_under, monday, otp_grant, policy_day, subject,
};

/// Another database's table of audit entries, which the test can make refuse writes.
#[derive(Clone, Default)]
struct Table {
    rows: Arc<Mutex<Vec<audit::AuditEntry>>>,
    full: Arc<AtomicBool>,
}

impl audit::AuditStore for Table {
    fn entries(&mut self) -> Result<Vec<audit::AuditEntry>, AuditError> {
        Ok(self.rows.lock().unwrap().clone())
    }
    fn write(&mut self, entry: &audit::AuditEntry) -> Result<(), AuditError> {
        if self.full.load(Ordering::SeqCst) {
            return Err(AuditError::Io("table full".into()));
        }
        self.rows.lock().unwrap().push(entry.clone());
        Ok(())
    }
    fn sync(&mut self) -> Result<(), AuditError> {
        Ok(())
    }
}

struct Other {
    journal: Arc<MemoryJournal>,
    keys: Arc<MemoryKeyStore>,
    vault: Arc<MemoryVault>,
    table: Table,
}

impl Other {
    fn new() -> Self {
        Self {
            journal: Arc::default(),
            keys: Arc::default(),
            vault: Arc::default(),
            table: Table::default(),
        }
    }
    fn open(&self, clock: &ManualClock) -> Operator {
        let audit = Arc::new(AuditLog::with_store(Box::new(self.table.clone()), 1).unwrap());
        let stores = Stores::new(
            Arc::clone(&self.journal) as Arc<dyn Journal>,
            Arc::clone(&self.keys) as _,
            Arc::clone(&self.vault) as _,
            audit,
        );
        Operator::with_stores(stores, imanum())
            .clock(clock.clone())
            .open()
            .unwrap()
    }
}

/// An operator on other stores (`Stores::new`) whose audit log stops: a withdrawal, a
/// withdrawal by purpose and a request still reach the journal, and survive a reopen.
#[test]
fn a_withdrawal_acknowledged_after_the_audit_log_stopped_survives_a_reopen() {
    let clock = ManualClock::new(monday());
    let other = Other::new();
    let operator = other.open(&clock);
    let consent = operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    operator
        .ledger()
        .grant(otp_grant(&subject("cust-2"), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();

    // The audit database fails (a full disk, a dropped connection).
    other.table.full.store(true, Ordering::SeqCst);
    let withdrawn = operator.withdraw(&consent);
    let by_purpose = operator
        .ledger()
        .withdraw_purpose(&subject("cust-2"), &Purpose::SERVICE_PROVISION);
    // Acknowledged: the journal kept them, whatever the audit log says.
    assert!(withdrawn.is_ok() && by_purpose.is_ok());
    assert_eq!(operator.check_kept(), Ok(()));
    let request = operator.requests().receive(
        customer(),
        amanat::rights::RequestKind::Destruction,
        monday(),
    );
    assert!(
        operator
            .ledger()
            .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
            .is_err(),
        "withdrawn in this process"
    );
    drop(operator);

    other.table.full.store(false, Ordering::SeqCst);
    let reopened = other.open(&clock);
    for who in [customer(), subject("cust-2")] {
        assert!(
            reopened
                .ledger()
                .authorize::<Phone>(&who, &Purpose::SERVICE_PROVISION)
                .is_err(),
            "{who}'s withdrawal was lost"
        );
    }
    assert!(
        reopened.requests().get(request).is_some(),
        "the request was lost"
    );
}

/// Changes, audit-only entries, public appends, flushes and the 1 ms flusher race on one
/// operator; the audit chain verifies in the process and after reopening, and every
/// acknowledged consent is there.
#[cfg(feature = "sqlite")]
#[test]
fn racing_changes_audit_only_entries_and_the_flusher_keep_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock)
        .audit_sync_within(std::time::Duration::from_millis(1))
        .open()
        .unwrap();
    let acked = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..8 {
            let (operator, acked) = (&operator, &acked);
            s.spawn(move || {
                for i in 0..if full_size() { 40 } else { 10 } {
                    let who = subject(format!("t{t}-{i}"));
                    let consent = operator
                        .ledger()
                        .grant(otp_grant(&who, Purpose::SERVICE_PROVISION).category::<Phone>())
                        .unwrap();
                    acked.lock().unwrap().push(consent);
                    let token = operator
                        .ledger()
                        .authorize::<Phone>(&who, &Purpose::SERVICE_PROVISION)
                        .unwrap();
                    drop(token);
                    // A refusal: an audit-only entry, queued for the next write.
                    let refused = operator
                        .ledger()
                        .authorize::<Phone>(&who, &Purpose::MARKETING_ANALYTICS);
                    assert!(refused.is_err());
                    if i % 5 == 0 {
                        operator.audit_log().flush().unwrap();
                    }
                    if i % 3 == 0 {
                        operator.withdraw(&consent).unwrap();
                    }
                }
            });
        }
    });
    let n = operator.audit_log().verify().unwrap();
    drop(operator);
    let reopened = imanum_operator(dir.path(), &clock).open().unwrap();
    assert_eq!(reopened.audit_log().verify().unwrap(), n);
    for consent in acked.lock().unwrap().iter() {
        let proof = reopened.ledger().proof_of_consent(consent);
        assert!(proof.is_ok(), "{consent}: {proof:?}");
    }
    reopened.verify_full().unwrap();
}

/// Whoever can write to `log.db` takes the next position: the operator's next write fails
/// and its log stops. An authorization is refused from then on, as its audit entry could
/// never be written.
#[cfg(feature = "sqlite")]
#[test]
fn once_the_log_has_stopped_no_authorization_is_granted_unrecorded() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, _record) = kept_phone(dir.path(), &clock);
    operator.audit_log().flush().unwrap();
    let log = dir.path().join("log.db");
    rusqlite::Connection::open(&log)
        .unwrap()
        .execute_batch(
            "INSERT INTO entries (seq, at, prev, hash, mac, payload) \
             SELECT max(seq) + 1, 0, x'00', x'00', x'00', x'00' FROM entries;",
        )
        .unwrap();
    // The next change meets the taken position: the log stops.
    let second = operator
        .ledger()
        .grant(otp_grant(&subject("cust-2"), Purpose::SERVICE_PROVISION).category::<Phone>());
    assert!(second.is_err());
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION);
    assert!(
        matches!(token, Err(amanat::Error::AuditUnavailable(_))),
        "an authorization was granted though its audit entry can never be written"
    );
}

/// The audit entries of `Operator::keep` are dated when they are recorded, not with the
/// record's collection time: the trail's times never go backwards.
#[cfg(feature = "sqlite")]
#[test]
fn the_audit_entries_of_a_keep_are_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let (token, mut phone) = collected_phone(&operator);
    clock.advance(chrono::Duration::minutes(4));
    operator
        .ledger()
        .grant(otp_grant(&subject("cust-2"), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    operator.keep(&mut phone, &token).unwrap();
    let entries = operator.audit_log().entries().unwrap();
    assert!(entries.iter().any(|e| e.event.name() == "tracked"));
    assert!(
        entries.windows(2).all(|w| w[0].at <= w[1].at),
        "an entry recorded later carries an earlier time"
    );
}

/// An audit store that refuses the policy change (a full disk at that moment): `adopt`
/// reports `AuditUnavailable`, and the new policy is not in force.
#[derive(Clone, Default)]
struct RefusesPolicyChange(Table);

impl audit::AuditStore for RefusesPolicyChange {
    fn entries(&mut self) -> Result<Vec<audit::AuditEntry>, AuditError> {
        self.0.entries()
    }
    fn write(&mut self, entry: &audit::AuditEntry) -> Result<(), AuditError> {
        if format!("{:?}", entry.event).starts_with("PolicyChange") {
            return Err(AuditError::Io("disk full".into()));
        }
        self.0.write(entry)
    }
    fn sync(&mut self) -> Result<(), AuditError> {
        Ok(())
    }
}

#[test]
fn an_adoption_the_audit_log_refused_is_reported_failed_and_not_in_force() {
    let clock = ManualClock::new(policy_day());
    let store = RefusesPolicyChange::default();
    let log = Arc::new(AuditLog::with_store(Box::new(store.clone()), 1).unwrap());
    let ledger = ledger_under(&imanum(), &clock)
        .audit(Arc::clone(&log))
        .build();
    ledger
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let adopted = ledger.adopt(imanum_version("imanum-3", true));
    assert!(matches!(adopted, Err(amanat::Error::AuditUnavailable(_))));
    assert_ne!(ledger.policy_version().to_string(), "imanum-3");
    assert!(
        !ledger.history(&customer()).iter().any(|e| matches!(
            e.kind,
            amanat::consent::ConsentEventKind::Invalidated { .. }
        )),
        "the consent given under the policy in force was ended"
    );
}

/// A journal of another database hands back a `Change` holding an observation (built
/// through `Change`'s public `Deserialize`, past `from_json`'s check): the open refuses it
/// as corrupt, without a panic.
struct Hostile(Vec<amanat::store::journal::Change>);

impl Journal for Hostile {
    fn append(
        &self,
        _: &amanat::store::journal::Change,
    ) -> Result<(), amanat::store::vault::StoreError> {
        Ok(())
    }
    fn replay(
        &self,
        visit: &mut dyn FnMut(
            amanat::store::journal::Change,
        ) -> Result<(), amanat::store::vault::StoreError>,
    ) -> Result<(), amanat::store::vault::StoreError> {
        self.0.iter().cloned().try_for_each(visit)
    }
}

#[test]
fn a_journal_holding_an_observation_or_a_dangling_change_is_refused_without_a_panic() {
    let hostile = [
        r#"{"at":"2026-01-05T09:00:00Z","authorization":{"actor":null,"subject":"cust-1","purpose":"service_provision","category":"phone","granted":true,"rule":null,"consent":null}}"#,
        r#"{"at":"2026-01-05T09:00:00Z","reads":{"actor":null,"subject":"cust-1","purpose":"service_provision","category":"phone","consent":null,"count":18446744073709551615}}"#,
        r#"{"at":"2026-01-05T09:00:00Z","destruction":{"record":"7598741c-a8a2-43c8-b245-9d16e6add9f2","reason":"retention_expired","rule":null}}"#,
        r#"{"at":"2026-01-05T09:00:00Z","hold_released":{"hold":0}}"#,
        r#"{"at":"2026-01-05T09:00:00Z","notice_sent":{"notice":18446744073709551615}}"#,
        r#"{"at":"2026-01-05T09:00:00Z","request_completed":{"request":0,"subject":"cust-1","kind":"access"}}"#,
        r#"{"at":"2026-01-05T09:00:00Z","consent_withdrawn":{"subject":"cust-1","consent":"7598741c-a8a2-43c8-b245-9d16e6add9f2","purposes":["service_provision"],"retention":true,"digest":"0000000000000000000000000000000000000000000000000000000000000000"}}"#,
    ];
    for json in hostile {
        let change: amanat::store::journal::Change = serde_json::from_str(json).unwrap();
        let stores = Stores::new(
            Arc::new(Hostile(vec![change])),
            Arc::new(MemoryKeyStore::new()),
            Arc::new(MemoryVault::new()),
            Arc::new(AuditLog::in_memory()),
        );
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Operator::with_stores(stores, imanum())
                .clock(ManualClock::new(monday()))
                .open()
                .map(drop)
        }));
        assert!(matches!(opened, Ok(Err(_))), "{json}");
    }
}

/// A change handed to an operator's audit log is refused: a forged grant and a forged
/// withdrawal neither show in the trail nor make the honest proof of the consent fail, and
/// change nothing at open.
#[cfg(feature = "sqlite")]
#[test]
fn change_events_appended_through_the_public_audit_log_are_refused() {
    use amanat::audit::{AuditError, AuditEvent, ChainHash};
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let consent = operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let entries = operator.audit_log().entries().unwrap();
    let given = entries
        .iter()
        .find_map(|e| match &e.event {
            AuditEvent::ConsentGiven { given, .. } => Some(given.clone()),
            _ => None,
        })
        .unwrap();
    let mut forged = (*given).clone();
    forged.subject = subject("mallory");
    forged.consent = "11111111-1111-4111-8111-111111111111".parse().unwrap();
    let grant = operator.audit_log().append(
        monday(),
        AuditEvent::ConsentGiven {
            given: Box::new(forged),
            digest: ChainHash::of(b"x"),
        },
    );
    let withdrawal = operator.audit_log().append(
        monday(),
        AuditEvent::ConsentWithdrawn {
            subject: customer(),
            consent,
            purposes: vec![Purpose::SERVICE_PROVISION],
            retention: true,
            digest: ChainHash::of(b"x"),
        },
    );
    for (refused, event) in [(grant, "consent_given"), (withdrawal, "consent_withdrawn")] {
        assert_eq!(refused, Err(AuditError::NotAppendable { event }));
    }
    assert_eq!(operator.audit_log().entries().unwrap(), entries);
    let proof = operator.ledger().proof_of_consent(&consent).unwrap();
    assert!(proof.verify_against(operator.audit_log()).is_ok());
    drop(operator);
    let reopened = imanum_operator(dir.path(), &clock).open().unwrap();
    assert!(
        reopened
            .ledger()
            .consents_of(&subject("mallory"))
            .is_empty()
    );
    assert!(
        reopened
            .ledger()
            .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
            .is_ok()
    );
    assert!(reopened.audit_log().verify().is_ok());
}

/// On stores of yours, the operator's audit log is yours too: you keep a handle on it. Once
/// the operator is open, an entry handed to it is refused all the same (a found attack: a
/// destruction appended with a time ahead made the next open shred a record not yet due).
#[test]
fn an_operator_on_other_stores_refuses_an_appended_destruction() {
    use amanat::data::{DestructionReason, RecordId};
    let audit = Arc::new(AuditLog::in_memory());
    let stores = Stores::new(
        Arc::new(MemoryJournal::new()),
        Arc::new(MemoryKeyStore::new()),
        Arc::new(MemoryVault::new()),
        Arc::clone(&audit),
    );
    let operator = Operator::with_stores(stores, imanum())
        .clock(ManualClock::new(monday()))
        .open()
        .unwrap();
    let appended = audit.append(
        monday() + chrono::TimeDelta::days(400),
        audit::AuditEvent::Destruction {
            record: RecordId::random(),
            reason: DestructionReason::RetentionExpired,
            rule: Some("forged".into()),
            overrode: Vec::new(),
        },
    );
    assert_eq!(
        appended,
        Err(AuditError::NotAppendable {
            event: "destruction"
        })
    );
    assert!(operator.audit_log().entries().unwrap().is_empty());
}

/// An observation is no more the caller's to write than a change: a disclosure appended to
/// the trail would tell the subject of a transfer that never happened (found by a review).
#[cfg(feature = "sqlite")]
#[test]
fn a_disclosure_appended_to_the_trail_is_refused_and_told_to_no_one() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, record) = kept_phone(dir.path(), &clock);
    let appended = operator.audit_log().append(
        monday(),
        audit::AuditEvent::Disclosure {
            actor: None,
            record,
            subject: customer(),
            category: "phone".into(),
            recipient: "collector".into(),
            country: "RU".into(),
            notice: None,
        },
    );
    assert_eq!(
        appended,
        Err(AuditError::NotAppendable {
            event: "disclosure"
        })
    );
    let report = operator.access_report(&customer(), monday()).unwrap();
    assert!(report.transfers_made.is_empty());
}
