//! Withdrawal reaches every thread at once (Tajik law Art. 11.2): reader threads hold
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
