//! Withdrawal reaches every thread at once (Tajik law Art. 11.1): reader threads hold
//! tokens and read in a loop while another thread withdraws. Once `withdraw` has returned,
//! no read on that consent succeeds — and reads on another consent go on untouched.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::common::written_grant;
use amanat::category::Biometric;
use amanat::{ConsentId, ConsentLedger, Error, PersonalData, PolicyVersion, Purpose, SubjectId};

const READERS: usize = 4;
const ROUNDS: usize = 25;

#[test]
fn no_read_succeeds_once_withdraw_has_returned() {
    race(|ledger, consent, _| {
        ledger.withdraw(consent).unwrap();
    });
}

#[test]
fn no_read_succeeds_once_withdraw_purpose_has_returned() {
    race(|ledger, _, subject| {
        ledger
            .withdraw_purpose(subject, &Purpose::IDENTITY_VERIFICATION)
            .unwrap();
    });
}

/// Readers open the selfie through `read` and `with` in turns while `withdraw` runs on the
/// main thread.
fn race(withdraw: impl Fn(&ConsentLedger, &ConsentId, &SubjectId)) {
    for round in 0..ROUNDS {
        let ledger = ConsentLedger::new(PolicyVersion::new("v1").unwrap());
        let subject = SubjectId::new(format!("cust-{round}")).unwrap();
        let consent = ledger
            .grant(written_grant(&subject, Purpose::IDENTITY_VERIFICATION).category::<Biometric>())
            .unwrap();
        ledger
            .grant(written_grant(&subject, Purpose::FRAUD_PREVENTION).category::<Biometric>())
            .unwrap();
        let token = ledger
            .authorize::<Biometric>(&subject, &Purpose::IDENTITY_VERIFICATION)
            .unwrap();
        let selfie = Arc::new(PersonalData::collect(&subject, vec![9_u8; 256], &token).unwrap());

        let returned = AtomicBool::new(false);
        let reads_before = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..READERS {
                let token = ledger
                    .authorize::<Biometric>(&subject, &Purpose::IDENTITY_VERIFICATION)
                    .unwrap();
                let other = ledger
                    .authorize::<Biometric>(&subject, &Purpose::FRAUD_PREVENTION)
                    .unwrap();
                let (selfie, returned, reads_before) = (&selfie, &returned, &reads_before);
                scope.spawn(move || {
                    let mut refusals_after = 0;
                    let mut turn = 0_usize;
                    while refusals_after < 100 {
                        turn += 1;
                        // Load the flag *before* the read: if withdraw had returned by
                        // then, the read must fail.
                        let after = returned.load(Ordering::Acquire);
                        let result = if turn.is_multiple_of(2) {
                            selfie.read(&token).map(|v| v.len())
                        } else {
                            selfie.with(&token, Vec::len)
                        };
                        if after {
                            assert!(
                                matches!(result, Err(Error::ConsentWithdrawn { .. })),
                                "a read succeeded after withdraw returned: {result:?}"
                            );
                            refusals_after += 1;
                            assert_eq!(selfie.read(&other).map(|v| v.len()), Ok(256));
                        } else if result.is_ok() {
                            reads_before.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
            // Let the readers get going, so the withdrawal lands among live reads.
            while reads_before.load(Ordering::Relaxed) < READERS * 50 {
                std::hint::spin_loop();
            }
            withdraw(&ledger, &consent, &subject);
            returned.store(true, Ordering::Release);
        });
        assert!(reads_before.load(Ordering::Relaxed) >= READERS * 50);
    }
}

/// A withdrawal of one consent for marketing brings forward the subject's marketing records
/// kept before it. A record kept under the subject's other marketing consent while the
/// withdrawal was being written comes after it in the journal, so the replay leaves it be;
/// the process that made both must leave it be too, or its deadline changes at the next
/// open.
#[test]
fn a_record_kept_while_a_withdrawal_is_written_has_the_same_deadline_after_a_reopen() {
    use amanat::category::Phone;
    use amanat::store::journal::Journal;
    use amanat::store::keys::MemoryKeyStore;
    use amanat::store::vault::MemoryVault;
    use amanat::store::{Operator, Stores};

    let clock = amanat::ManualClock::new(crate::common::monday());
    // The gap between the withdrawal's write and the operator's hearing of it, held
    // open for a keep on another thread.
    let journal = Arc::new(PauseAfter {
        inner: amanat::store::journal::MemoryJournal::new(),
        event: "consent_withdrawn",
        reached: std::sync::Mutex::new(false),
        go: std::sync::Mutex::new(false),
        wake: std::sync::Condvar::new(),
    });
    let (keys, vault) = (
        Arc::new(MemoryKeyStore::new()),
        Arc::new(MemoryVault::new()),
    );
    let open = || {
        let stores = Stores::new(
            Arc::clone(&journal) as Arc<dyn Journal>,
            Arc::clone(&keys) as _,
            Arc::clone(&vault) as _,
            Arc::new(amanat::audit::AuditLog::in_memory()),
        );
        Operator::with_stores(stores, crate::common::imanum())
            .clock(clock.clone())
            .open()
            .unwrap()
    };
    let operator = open();
    let customer = crate::common::customer();
    let marketing =
        || crate::common::otp_grant(&customer, Purpose::MARKETING_ANALYTICS).category::<Phone>();
    let consents = [
        operator.ledger().grant(marketing()).unwrap(),
        operator.ledger().grant(marketing()).unwrap(),
    ];

    // Issued before the withdrawal, and standing on whichever consent the ledger picks:
    // the keep below waits for nothing the ledger holds.
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer, &Purpose::MARKETING_ANALYTICS)
        .unwrap();
    let mut phone =
        PersonalData::collect(&customer, crate::common::PHONE.to_owned(), &token).unwrap();
    // The other consent is withdrawn.
    let stands = token.consent().unwrap();
    let withdrawn = consents.into_iter().find(|&c| c != stands).unwrap();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let reached = journal.reached.lock().unwrap();
            drop(
                journal
                    .wake
                    .wait_while(reached, |reached| !*reached)
                    .unwrap(),
            );
            // With the schedule locked across the withdrawal, the keep can't finish
            // before the journal's wait runs out.
            operator.keep(&mut phone, &token).unwrap();
            *journal.go.lock().unwrap() = true;
            journal.wake.notify_all();
        });
        operator.withdraw(&withdrawn).unwrap();
    });
    let record = phone.id();
    let before = operator.schedule().deadline(record);
    drop(operator);
    let after = open().schedule().deadline(record);
    assert_eq!(before, after);
}

/// A journal that, once it has kept a change named `event`, waits (up to a second) for
/// `go` before it returns.
struct PauseAfter {
    inner: amanat::store::journal::MemoryJournal,
    event: &'static str,
    reached: std::sync::Mutex<bool>,
    go: std::sync::Mutex<bool>,
    wake: std::sync::Condvar,
}

impl amanat::store::journal::Journal for PauseAfter {
    fn append(
        &self,
        change: &amanat::store::journal::Change,
    ) -> Result<(), amanat::store::StoreError> {
        self.inner.append(change)?;
        if change.kind() == self.event {
            *self.reached.lock().unwrap() = true;
            self.wake.notify_all();
            let go = self.go.lock().unwrap();
            let _ = self
                .wake
                .wait_timeout_while(go, std::time::Duration::from_secs(1), |go| !*go)
                .unwrap();
        }
        Ok(())
    }

    fn replay(
        &self,
        visit: &mut dyn FnMut(
            amanat::store::journal::Change,
        ) -> Result<(), amanat::store::StoreError>,
    ) -> Result<(), amanat::store::StoreError> {
        self.inner.replay(visit)
    }
}

/// A keep whose token's consent is withdrawn while the copy is being sealed is refused,
/// and the copy shredded: tracked, it would keep its whole retention after a withdrawal
/// that must bring it forward (Tajik law Art. 11.1; found by a review — the keep returned `Ok`).
#[test]
fn a_record_whose_consent_is_withdrawn_while_it_is_kept_is_refused_art_11_1() {
    use amanat::category::Phone;
    use amanat::store::keys::MemoryKeyStore;
    use amanat::store::vault::{MemoryVault, Vault};
    use amanat::store::{Operator, Stores};

    let clock = amanat::ManualClock::new(crate::common::monday());
    let journal = Arc::new(PauseAfter {
        inner: amanat::store::journal::MemoryJournal::new(),
        event: "keeping",
        reached: std::sync::Mutex::new(false),
        go: std::sync::Mutex::new(false),
        wake: std::sync::Condvar::new(),
    });
    let vault = Arc::new(MemoryVault::new());
    let stores = Stores::new(
        Arc::clone(&journal) as _,
        Arc::new(MemoryKeyStore::new()),
        Arc::clone(&vault) as _,
        Arc::new(amanat::audit::AuditLog::in_memory()),
    );
    let operator = Operator::with_stores(stores, crate::common::imanum())
        .clock(clock)
        .open()
        .unwrap();
    let customer = crate::common::customer();
    let consent = operator
        .ledger()
        .grant(crate::common::otp_grant(&customer, Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer, &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut phone =
        PersonalData::collect(&customer, crate::common::PHONE.to_owned(), &token).unwrap();
    let kept = std::thread::scope(|scope| {
        let keeping = scope.spawn(|| operator.keep(&mut phone, &token));
        drop(
            journal
                .wake
                .wait_while(journal.reached.lock().unwrap(), |reached| !*reached)
                .unwrap(),
        );
        operator.withdraw(&consent).unwrap();
        *journal.go.lock().unwrap() = true;
        journal.wake.notify_all();
        keeping.join().unwrap()
    });
    assert!(
        matches!(kept, Err(amanat::Error::ConsentWithdrawn { .. })),
        "{kept:?}"
    );
    assert!(operator.schedule().records_of(&customer).is_empty());
    assert!(vault.records().unwrap().is_empty());
}
