//! A hostile caller: code in the same process, with safe Rust and the public API only,
//! trying to open what its tokens don't entitle it to. Each test is the attack, written as
//! the attacker would, and the refusal it must meet (issue 15; SECURITY.md).

use std::sync::Arc;
use std::time::Duration;

use amanat::category::{Access, Biometric, Category, CategoryId, Phone};
use amanat::retention::{RetentionSchedule, Trigger};
#[cfg(all(feature = "sqlite", unix))]
use amanat::store::kek::{KeyPurpose, KeyVersion};
use amanat::{
    ConsentLedger, DestructionReason, Error, LegalBasis, ManualClock, PersonalData, PolicyVersion,
    Purpose,
};
use chrono::TimeDelta;

use crate::common::{customer, imanum, ledger_under, otp_grant, policy_day, written_grant};

/// A token of `ledger` for the customer's `C` on the AML law, without consent.
fn aml_token<C: Category>(ledger: &ConsentLedger) -> amanat::ConsentToken<C> {
    ledger
        .authorize_with_basis::<C>(
            &customer(),
            &Purpose::FRAUD_PREVENTION,
            LegalBasis::LegalObligation {
                reference: "AML law".into(),
            },
        )
        .unwrap()
}

/// A ledger the attacker makes for themselves: no policy, no log.
fn private_ledger() -> ConsentLedger {
    ConsentLedger::new(PolicyVersion::new("mine").unwrap())
}

/// The operator's ledger, with the customer's selfie collected on written consent.
fn selfie_of_customer() -> (ConsentLedger, PersonalData<Vec<u8>, Biometric>) {
    let ledger = ConsentLedger::new(PolicyVersion::new("v1").unwrap());
    ledger
        .grant(written_grant(&customer(), Purpose::IDENTITY_VERIFICATION).category::<Biometric>())
        .unwrap();
    let token = ledger
        .authorize::<Biometric>(&customer(), &Purpose::IDENTITY_VERIFICATION)
        .unwrap();
    let selfie = PersonalData::collect(&customer(), b"selfie".to_vec(), &token).unwrap();
    (ledger, selfie)
}

#[test]
fn a_consent_token_of_another_ledger_opens_no_record() {
    let (_, selfie) = selfie_of_customer();
    let mine = private_ledger();
    mine.grant(
        written_grant(&customer(), Purpose::new("anything").unwrap()).category::<Biometric>(),
    )
    .unwrap();
    let forged = mine
        .authorize::<Biometric>(&customer(), &Purpose::new("anything").unwrap())
        .unwrap();
    assert!(matches!(
        selfie.read(&forged),
        Err(Error::ForeignToken { .. })
    ));
    assert!(matches!(
        selfie.with(&forged, Vec::len),
        Err(Error::ForeignToken { .. })
    ));
}

#[test]
fn a_basis_token_of_another_ledger_opens_no_record() {
    let ledger = ConsentLedger::new(PolicyVersion::new("v1").unwrap());
    ledger
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let token = ledger
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let phone = PersonalData::collect(&customer(), "+998901234567".to_owned(), &token).unwrap();
    let mine = private_ledger();
    let forged = aml_token::<Phone>(&mine);
    assert!(matches!(
        phone.read(&forged),
        Err(Error::ForeignToken { .. })
    ));
}

/// A user type that claims the id of the built-in biometric category, without its rule.
enum NotBiometric {}

impl Category for NotBiometric {
    const ID: CategoryId = CategoryId::new("biometric");
    const SPECIAL: bool = false;
    const ACCESS: Access = Access::Restricted;
}

#[test]
fn a_type_reusing_a_built_in_category_id_is_refused_at_first_use() {
    let ledger = ConsentLedger::new(PolicyVersion::new("v1").unwrap());
    // Biometric is always registered first, so the impostor always loses.
    assert!(matches!(
        ledger.grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<NotBiometric>()),
        Err(Error::CategoryIdTaken { .. })
    ));
    let token = aml_token::<NotBiometric>(&ledger);
    assert!(matches!(
        PersonalData::collect(&customer(), b"x".to_vec(), &token),
        Err(Error::CategoryIdTaken { .. })
    ));
}

/// The customer's phone number on their OTP consent, tracked by a retention schedule
/// under the IMANUM policy.
struct Tracked {
    clock: ManualClock,
    ledger: ConsentLedger,
    schedule: RetentionSchedule,
    token: amanat::ConsentToken<Phone>,
    phone: PersonalData<String, Phone>,
}

fn tracked_phone() -> Tracked {
    let policy = Arc::new(imanum());
    let clock = ManualClock::new(policy_day());
    let ledger = ledger_under(&policy, &clock).build();
    let schedule = RetentionSchedule::builder(Arc::clone(&policy))
        .clock(clock.clone())
        .build();
    ledger
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let token = ledger
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut phone = PersonalData::collect(&customer(), "+998901234567".to_owned(), &token).unwrap();
    schedule.track(&mut phone).unwrap();
    Tracked {
        clock,
        ledger,
        schedule,
        token,
        phone,
    }
}

#[test]
fn past_its_deadline_a_record_opens_to_no_token_without_a_hold_art_20() {
    let Tracked {
        clock,
        ledger,
        schedule,
        token: _,
        phone,
    } = tracked_phone();
    schedule.trigger(&customer(), Trigger::AccountClosed, policy_day());
    clock.advance(TimeDelta::minutes(1));
    let basis = aml_token::<Phone>(&ledger);
    // No hold anywhere: the deadline binds the basis token as it binds consent.
    assert!(matches!(
        phone.read(&basis),
        Err(Error::RetentionExpired { .. })
    ));
}

#[test]
fn a_forgotten_exposed_value_does_not_stop_its_destruction() {
    let Tracked {
        clock: _,
        ledger: _,
        schedule,
        token,
        phone,
    } = tracked_phone();
    std::mem::forget(phone.read(&token).unwrap());
    schedule.trigger(&customer(), Trigger::AccountClosed, policy_day());
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let report = schedule.sweep(policy_day() + TimeDelta::days(1));
        let _ = done.send(report);
    });
    let report = finished
        .recv_timeout(Duration::from_secs(5))
        .expect("a forgotten reader deadlocked the destruction");
    assert_eq!(report.destroyed.len(), 1);
    // Reported, not hidden: the leaked guard still holds the value's lock.
    assert_eq!(report.not_yet_zeroized, [phone.id()]);
    assert!(phone.read(&token).is_err());
    drop(phone.destroy(DestructionReason::RetentionExpired));
}

#[cfg(feature = "sqlite")]
#[test]
fn an_operator_opens_its_records_to_no_token_of_another_ledger_and_records_the_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(crate::common::monday());
    let (operator, record) = crate::common::kept_phone(dir.path(), &clock);
    let mine = private_ledger();
    mine.grant(otp_grant(&customer(), Purpose::new("anything").unwrap()).category::<Phone>())
        .unwrap();
    let forged = mine
        .authorize::<Phone>(&customer(), &Purpose::new("anything").unwrap())
        .unwrap();
    assert!(matches!(
        operator.fetch::<String, Phone>(record, &forged),
        Err(Error::ForeignToken { .. })
    ));
    let basis = aml_token::<Phone>(&mine);
    assert!(matches!(
        operator.fetch::<String, Phone>(record, &basis),
        Err(Error::ForeignToken { .. })
    ));
    let refusals = operator
        .audit_log()
        .entries()
        .unwrap()
        .into_iter()
        .filter(|e| {
            matches!(&e.event, amanat::audit::AuditEvent::Authorization { granted: false, rule: Some(r), .. } if r == "foreign_token")
        })
        .count();
    assert_eq!(refusals, 2);
}

#[cfg(feature = "sqlite")]
#[test]
fn a_reopened_operator_refuses_the_tokens_and_copies_of_the_instance_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(crate::common::monday());
    let (operator, record) = crate::common::kept_phone(dir.path(), &clock);
    let old_token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let old_copy = operator.fetch::<String, Phone>(record, &old_token).unwrap();
    drop(operator);
    let reopened = crate::common::imanum_operator(dir.path(), &clock)
        .open()
        .unwrap();
    assert!(matches!(
        reopened.fetch::<String, Phone>(record, &old_token),
        Err(Error::ForeignToken { .. })
    ));
    let new_token = reopened
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    assert!(matches!(
        old_copy.read(&new_token),
        Err(Error::ForeignToken { .. })
    ));
    // Read again from the new instance, it opens.
    let copy = reopened.fetch::<String, Phone>(record, &new_token).unwrap();
    assert_eq!(copy.read(&new_token).unwrap().as_str(), "+998901234567");
}

/// A user type claiming the built-in phone category's id.
#[cfg(feature = "sqlite")]
enum NotAPhone {}

#[cfg(feature = "sqlite")]
impl Category for NotAPhone {
    const ID: CategoryId = CategoryId::new("phone");
    const SPECIAL: bool = false;
    const ACCESS: Access = Access::Public;
}

#[cfg(feature = "sqlite")]
#[test]
fn a_type_reusing_a_kept_records_category_id_fetches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(crate::common::monday());
    let (operator, record) = crate::common::kept_phone(dir.path(), &clock);
    let token = aml_token::<NotAPhone>(operator.ledger());
    assert!(matches!(
        operator.fetch::<String, NotAPhone>(record, &token),
        Err(Error::CategoryIdTaken { .. })
    ));
}

#[cfg(feature = "sqlite")]
#[test]
fn hostile_category_ids_read_from_input_do_not_stop_a_sweep_from_shredding() {
    // Thousands of distinct ids, as a hostile receipt or proof would carry them.
    for n in 0..5_000 {
        let id: CategoryId = serde_json::from_str(&format!("\"hostile_{n}\"")).unwrap();
        assert_eq!(id.as_str(), format!("hostile_{n}"));
    }
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(crate::common::monday());
    let (operator, record) = crate::common::kept_phone(dir.path(), &clock);
    operator
        .trigger(&customer(), Trigger::AccountClosed, crate::common::monday())
        .unwrap();
    clock.advance(TimeDelta::days(1));
    let report = operator.sweep_now().unwrap();
    assert_eq!(report.destroyed.len(), 1);
    drop(operator);
    // Destroyed means its key is gone from the key store.
    let keys = amanat::store::keys::SqliteKeyStore::open_with(
        dir.path().join("keys.db"),
        &crate::common::keys_for(dir.path()),
    )
    .unwrap();
    assert!(matches!(
        amanat::store::keys::KeyStore::get(&keys, record),
        Err(amanat::store::keys::KeyError::Shredded { .. })
    ));
}

#[cfg(all(feature = "sqlite", unix))]
#[test]
fn every_file_and_directory_the_store_creates_is_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("amanat").join("store");
    let clock = ManualClock::new(crate::common::monday());
    let (operator, _) = crate::common::kept_phone(&dir, &clock);
    let mut seen = 0;
    let mut walk = vec![root.path().join("amanat")];
    while let Some(path) = walk.pop() {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        if path.is_dir() {
            assert_eq!(mode, 0o700, "{}", path.display());
            walk.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode & 0o077, 0, "{} is {mode:o}", path.display());
            seen += 1;
        }
    }
    // The journal, vault, keys and their write-ahead logs, the key file, audit file, lock.
    assert!(seen >= 7, "only {seen} files");
    drop(operator);
}

#[cfg(all(feature = "sqlite", unix))]
#[test]
fn a_key_file_others_can_read_is_refused_at_open_and_nothing_is_changed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(crate::common::monday());
    drop(crate::common::kept_phone(dir.path(), &clock));
    let key_dir = crate::common::keys_for(dir.path());
    let key = key_dir.file(KeyPurpose::WrapDataKeys, KeyVersion::new(1));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = crate::common::fingerprints(dir.path());
    let keys_before = crate::common::fingerprints(key_dir.path());
    let refused = crate::common::imanum_operator(dir.path(), &clock).open();
    assert!(matches!(
        refused,
        Err(amanat::store::StoreError::Keys(amanat::store::keys::KeyError::ReadableByOthers { ref file, mode: 0o644 })) if *file == key
    ));
    assert_eq!(crate::common::fingerprints(dir.path()), before);
    assert_eq!(crate::common::fingerprints(key_dir.path()), keys_before);
}

/// How many values of `Watched` were zeroized: a fetched copy is one.
#[cfg(feature = "sqlite")]
static WIPED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A phone number that counts its zeroizing, to see a copy wiped where it lies.
#[cfg(feature = "sqlite")]
struct Watched(String);

#[cfg(feature = "sqlite")]
impl zeroize::Zeroize for Watched {
    fn zeroize(&mut self) {
        if self.0.contains("SWEPT-COPY") {
            WIPED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        self.0.zeroize();
    }
}

#[cfg(feature = "sqlite")]
impl amanat::store::Sealable for Watched {
    fn to_sealed_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(self.0.as_bytes().to_vec())
    }

    fn from_sealed_bytes(bytes: &[u8]) -> Option<Self> {
        String::from_utf8(bytes.to_vec()).ok().map(Watched)
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn a_copy_fetched_from_the_store_is_zeroized_where_it_lies_when_its_record_is_destroyed_art_20() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(crate::common::monday());
    let operator = crate::common::imanum_operator(dir.path(), &clock)
        .open()
        .unwrap();
    operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut kept =
        PersonalData::collect(&customer(), Watched("+998 SWEPT-COPY".into()), &token).unwrap();
    operator.keep(&mut kept, &token).unwrap();
    let record = kept.id();
    drop(kept);
    let wiped_before = WIPED.load(std::sync::atomic::Ordering::SeqCst);
    let copy = operator.fetch::<Watched, Phone>(record, &token).unwrap();
    operator
        .trigger(&customer(), Trigger::AccountClosed, crate::common::monday())
        .unwrap();
    // Within the token's five minutes: the read is refused for the destruction alone.
    clock.advance(TimeDelta::minutes(1));
    operator.sweep_now().unwrap();
    // Still held by the caller, and already wiped: not only refused.
    assert_eq!(
        WIPED.load(std::sync::atomic::Ordering::SeqCst),
        wiped_before + 1
    );
    assert!(matches!(
        copy.read(&token),
        Err(Error::RecordDestroyed { .. })
    ));
}

#[test]
fn reads_through_a_forgotten_token_still_reach_the_audit_log_art_25_1() {
    use amanat::audit::{AuditEvent, AuditLog};
    let log = Arc::new(AuditLog::in_memory());
    let ledger = ConsentLedger::builder(PolicyVersion::new("v1").unwrap())
        .audit(Arc::clone(&log))
        .build();
    ledger
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let token = ledger
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let phone = PersonalData::collect(&customer(), "+998901234567".to_owned(), &token).unwrap();
    for _ in 0..3 {
        phone.with(&token, |_| ()).unwrap();
    }
    std::mem::forget(token);
    drop(phone);
    // The ledger reports what its tokens read, dropped or not, as it goes.
    drop(ledger);
    let reads: u64 = log
        .entries()
        .unwrap()
        .iter()
        .map(|e| match e.event {
            AuditEvent::Reads { count, .. } => count,
            _ => 0,
        })
        .sum();
    assert_eq!(reads, 3);
}
