//! The operator's directory: a copy taken before a destruction yields nothing after it, no
//! file in it holds a value in the clear, and a file that is not as this library left it —
//! written by a newer library, damaged, with an entry it did not write, or opened with
//! another master key — is refused with a typed error and left exactly as it was.

#![cfg(feature = "sqlite")]

use std::path::Path;

use crate::common::{change_kinds, cut_log_before, files, fingerprints, keys_for};
use crate::common::{customer, imanum, imanum_operator, imanum_version, monday, otp_grant};
use amanat::category::{IdentityDocument, Phone};
use amanat::data::Source;
use amanat::log::{LogError, Problem};
use amanat::retention::Trigger;
use amanat::store::Operator;
use amanat::store::kek::{KeyProvider, KeyPurpose};
use amanat::store::keys::{KeyError, KeyStore, SqliteKeyStore};
use amanat::store::seal::SealError;
use amanat::store::vault::{SqliteVault, StoreError, Vault};
use amanat::{Error, ManualClock, PersonalData, Purpose, SubjectId};
use chrono::TimeDelta;

const PASSPORT: &str = "AA0000CANARY";
const PHONE: &str = "+998900CANARY";

/// The customer's passport `record`, read back under a fresh token of theirs.
fn passport_of(operator: &Operator, record: amanat::data::RecordId) -> Result<String, Error> {
    let token = operator
        .ledger()
        .authorize::<IdentityDocument>(&customer(), &Purpose::SERVICE_PROVISION)?;
    let passport = operator.fetch::<String, IdentityDocument>(record, &token)?;
    Ok(passport.read(&token)?.to_string())
}

/// Stores another database would provide, kept by the test so that an operator can be
/// opened on them again.
struct Kept {
    journal: std::sync::Arc<dyn amanat::store::journal::Journal>,
    keys: std::sync::Arc<amanat::store::keys::MemoryKeyStore>,
    vault: std::sync::Arc<amanat::store::vault::MemoryVault>,
    audit: std::sync::Arc<amanat::audit::AuditLog>,
}

impl Kept {
    fn on(journal: std::sync::Arc<dyn amanat::store::journal::Journal>) -> Self {
        Self {
            journal,
            keys: std::sync::Arc::default(),
            vault: std::sync::Arc::default(),
            audit: std::sync::Arc::new(amanat::audit::AuditLog::in_memory()),
        }
    }

    fn open(&self, clock: &ManualClock) -> Operator {
        use std::sync::Arc;
        let stores = amanat::store::Stores::new(
            Arc::clone(&self.journal),
            Arc::clone(&self.keys) as _,
            Arc::clone(&self.vault) as _,
            Arc::clone(&self.audit),
        );
        Operator::with_stores(stores, imanum())
            .clock(clock.clone())
            .open()
            .unwrap()
    }
}

/// An operator with a customer's consent, passport and phone number kept, a phone number
/// from a credit bureau owed a notice, and an access request received.
fn onboarded(dir: &Path, clock: &ManualClock) -> (Operator, amanat::data::RecordId) {
    let operator = imanum_operator(dir, clock).open().unwrap();
    operator
        .ledger()
        .grant(
            otp_grant(&customer(), Purpose::SERVICE_PROVISION)
                .category::<Phone>()
                .category::<IdentityDocument>(),
        )
        .unwrap();
    let passport_token = operator
        .ledger()
        .authorize::<IdentityDocument>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut passport =
        PersonalData::collect(&customer(), PASSPORT.to_owned(), &passport_token).unwrap();
    operator.keep(&mut passport, &passport_token).unwrap();
    let phone_token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut phone = PersonalData::collect_from(
        &customer(),
        PHONE.to_owned(),
        Source::ThirdParty {
            name: "Credit bureau".into(),
        },
        &phone_token,
    )
    .unwrap();
    operator.disclosures().collected_from_third_party(&phone);
    operator.keep(&mut phone, &phone_token).unwrap();
    operator
        .requests()
        .receive(customer(), amanat::rights::RequestKind::Access, monday());
    (operator, passport.id())
}

fn holds(bytes: &[u8], value: &str) -> bool {
    bytes.windows(value.len()).any(|w| w == value.as_bytes())
}

#[test]
fn no_file_of_the_operator_holds_a_value_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, _) = onboarded(dir.path(), &clock);
    let in_the_clear = |when: &str| {
        for (path, bytes) in files(dir.path()) {
            assert!(
                !holds(&bytes, PASSPORT),
                "{} holds the passport {when}",
                path.display()
            );
            assert!(
                !holds(&bytes, PHONE),
                "{} holds the phone number {when}",
                path.display()
            );
        }
    };
    // While open (write-ahead logs and all) and once closed.
    in_the_clear("while open");
    drop(operator);
    in_the_clear("once closed");
}

#[test]
fn a_copy_taken_before_a_destruction_yields_nothing_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, passport) = onboarded(dir.path(), &clock);
    drop(operator);
    let backup = tempfile::tempdir().unwrap();
    for (path, bytes) in files(dir.path()) {
        std::fs::write(backup.path().join(path.file_name().unwrap()), bytes).unwrap();
    }

    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    clock.advance(TimeDelta::days(1));
    operator
        .trigger_now(&customer(), Trigger::AccountClosed)
        .unwrap();
    // The policy's statutory minimum keeps customer-due-diligence records five years.
    clock.advance(TimeDelta::days(5 * 366));
    let report = operator.sweep_now().unwrap();
    let receipt = report
        .destroyed
        .iter()
        .find(|r| r.record == passport)
        .expect("the passport falls due five years after the account is closed");
    assert!(
        receipt.hooks_confirmed.iter().any(|h| h == "amanat vault"),
        "the receipt says the sealed copy was shredded: {:?}",
        receipt.hooks_confirmed
    );
    // The record can't be read, even with a token that would open it.
    assert!(matches!(
        passport_of(&operator, passport),
        Err(Error::RecordDestroyed { .. })
    ));
    drop(operator);

    // Neither the live vault nor the copy opens it with the key store as it is now.
    let keys =
        SqliteKeyStore::open_with(dir.path().join("keys.db"), &keys_for(dir.path())).unwrap();
    assert!(matches!(keys.get(passport), Err(KeyError::Shredded { .. })));
    let live = SqliteVault::open(dir.path().join("vault.db")).unwrap();
    assert!(live.get(passport).unwrap().is_none());
    let copy = SqliteVault::open(backup.path().join("vault.db")).unwrap();
    let (_, sealed) = copy
        .get(passport)
        .unwrap()
        .expect("the copy still holds the ciphertext");
    assert!(matches!(
        sealed.open(&keys),
        Err(SealError::Shredded { .. })
    ));
    for (path, bytes) in files(backup.path()).into_iter().chain(files(dir.path())) {
        assert!(
            !holds(&bytes, PASSPORT),
            "{} holds the passport",
            path.display()
        );
    }
}

/// Opens `dir` after `damage`, expecting `refused`, and checks no file changed.
fn refused_untouched(damage: impl FnOnce(&Path), refused: impl FnOnce(&StoreError) -> bool) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    drop(onboarded(dir.path(), &clock));
    damage(dir.path());
    let before = fingerprints(dir.path());
    let keys_before = fingerprints(keys_for(dir.path()).path());
    let opened = imanum_operator(dir.path(), &clock).open();
    let error = opened.expect_err("a damaged directory must not open");
    assert!(refused(&error), "unexpected error: {error}");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(PASSPORT) && !shown.contains(PHONE));
    assert_eq!(
        before,
        fingerprints(dir.path()),
        "a refused open wrote to the directory"
    );
    assert_eq!(
        keys_before,
        fingerprints(keys_for(dir.path()).path()),
        "a refused open changed the key directory"
    );
}

#[test]
fn a_log_written_by_a_newer_library_is_refused_and_left_as_it_is() {
    refused_untouched(
        |dir| {
            let db = rusqlite::Connection::open(dir.join("log.db")).unwrap();
            db.pragma_update(None, "user_version", 99).unwrap();
        },
        |e| matches!(e, StoreError::NewerSchema { found: 99, .. }),
    );
}

#[test]
fn a_damaged_log_is_refused_and_left_as_it_is() {
    refused_untouched(
        |dir| {
            let path = dir.join("log.db");
            let mut bytes = std::fs::read(&path).unwrap();
            bytes[..16].copy_from_slice(b"not a database!!");
            std::fs::write(&path, bytes).unwrap();
        },
        |e| matches!(e, StoreError::Corrupt(_)),
    );
}

#[test]
fn a_log_entry_this_library_did_not_write_is_refused() {
    refused_untouched(
        |dir| {
            let db = rusqlite::Connection::open(dir.join("log.db")).unwrap();
            db.execute(
                "INSERT INTO entries (seq, at, prev, hash, mac, payload)
                 SELECT seq + 1, at, hash, hash, mac, ?1 FROM entries ORDER BY seq DESC LIMIT 1",
                [format!(
                    "c{{\"change\":\"consent_given\",\"secret\":\"{PASSPORT}\"}}"
                )],
            )
            .unwrap();
        },
        |e| matches!(e, StoreError::Log(log) if matches!(**log, LogError::Tampered { .. })),
    );
}

#[test]
fn another_key_encryption_key_is_refused_and_nothing_is_rewrapped() {
    refused_untouched(
        |dir| {
            let keys = keys_for(dir);
            for version in keys.versions(KeyPurpose::WrapDataKeys).unwrap() {
                std::fs::write(keys.file(KeyPurpose::WrapDataKeys, version), [7_u8; 32]).unwrap();
            }
        },
        |e| matches!(e, StoreError::Keys(KeyError::WrongKey)),
    );
}

#[test]
fn a_store_abroad_is_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let operator_dir = dir.path().join("operator");
    let clock = ManualClock::new(monday());
    let refused = imanum_operator(&operator_dir, &clock)
        .located_in("DE".parse().unwrap())
        .open();
    assert!(matches!(refused, Err(StoreError::Location(_))));
    assert!(!operator_dir.exists());
    // At home it opens.
    imanum_operator(&operator_dir, &clock)
        .located_in("UZ".parse().unwrap())
        .open()
        .unwrap();
}

#[test]
fn the_registers_resume_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, _) = onboarded(dir.path(), &clock);
    let notices = operator.disclosures().pending_notices(monday());
    let requests = operator.requests().open_requests();
    assert_eq!((notices.len(), requests.len()), (1, 1));
    drop(operator);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert_eq!(operator.disclosures().pending_notices(monday()), notices);
    assert_eq!(operator.requests().open_requests(), requests);
    // Numbering goes on where it stopped.
    let next = operator.requests().receive(
        customer(),
        amanat::rights::RequestKind::Destruction,
        monday(),
    );
    assert_eq!(next, requests[0].id + 1);
}

#[test]
fn an_operator_on_other_stores_rebuilds_from_them_alone() {
    use amanat::store::journal::MemoryJournal;
    use std::sync::Arc;

    // What another database would provide: the three traits and a log, kept by the caller.
    let journal = Arc::new(MemoryJournal::new());
    let kept = Kept::on(Arc::clone(&journal) as _);
    let clock = ManualClock::new(monday());
    let record = {
        let operator = kept.open(&clock);
        operator
            .ledger()
            .grant(
                otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<IdentityDocument>(),
            )
            .unwrap();
        let token = operator
            .ledger()
            .authorize::<IdentityDocument>(&customer(), &Purpose::SERVICE_PROVISION)
            .unwrap();
        let mut passport = PersonalData::collect(&customer(), PASSPORT.to_owned(), &token).unwrap();
        operator.keep(&mut passport, &token).unwrap();
        passport.id()
    };
    assert!(!journal.is_empty());

    let operator = kept.open(&clock);
    assert_eq!(passport_of(&operator, record).unwrap(), PASSPORT);
    assert!(!format!("{operator:?}").contains(PASSPORT));
    operator.audit_log().verify().unwrap();
}

#[test]
fn a_row_relabelled_as_another_category_does_not_open_to_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, passport) = onboarded(dir.path(), &clock);
    drop(operator);
    // Someone with write access to the vault's file files the passport under `phone`.
    let db = rusqlite::Connection::open(dir.path().join("vault.db")).unwrap();
    let changed = db
        .execute(
            "UPDATE sealed SET category = 'phone' WHERE record = ?1",
            [passport.as_bytes().as_slice()],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(db);

    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let phone_token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let refused = operator.fetch::<String, Phone>(passport, &phone_token);
    assert!(
        matches!(refused, Err(Error::UnknownRecord { record }) if record == passport),
        "{refused:?}"
    );
}

#[test]
fn a_row_refiled_under_another_subject_does_not_open_to_their_token() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, passport) = onboarded(dir.path(), &clock);
    let other = SubjectId::new("cust-2").unwrap();
    operator
        .ledger()
        .grant(otp_grant(&other, Purpose::SERVICE_PROVISION).category::<IdentityDocument>())
        .unwrap();
    drop(operator);
    let db = rusqlite::Connection::open(dir.path().join("vault.db")).unwrap();
    db.execute(
        "UPDATE sealed SET subject = 'cust-2' WHERE record = ?1",
        [passport.as_bytes().as_slice()],
    )
    .unwrap();
    drop(db);

    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let theirs = operator
        .ledger()
        .authorize::<IdentityDocument>(&other, &Purpose::SERVICE_PROVISION)
        .unwrap();
    let refused = operator.fetch::<String, IdentityDocument>(passport, &theirs);
    assert!(
        matches!(refused, Err(Error::UnknownRecord { .. })),
        "{refused:?}"
    );
    // The customer it belongs to still reads it.
    assert_eq!(passport_of(&operator, passport).unwrap(), PASSPORT);
}

#[test]
fn destroying_a_fetched_copy_leaves_the_kept_record_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, passport) = onboarded(dir.path(), &clock);
    let token = operator
        .ledger()
        .authorize::<IdentityDocument>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let copy = operator
        .fetch::<String, IdentityDocument>(passport, &token)
        .unwrap();
    copy.destroy(amanat::DestructionReason::SubjectRequest);
    drop(operator);

    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert_eq!(passport_of(&operator, passport).unwrap(), PASSPORT);
}

#[test]
fn a_missing_log_is_refused_and_nothing_is_shredded() {
    refused_untouched(
        |dir| {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(dir.join(format!("log.db{suffix}")));
            }
        },
        |e| matches!(e, StoreError::Corrupt(why) if why.contains("log is missing")),
    );
}

/// A first open killed after it made the log's file and before it made the vault leaves a
/// log with its tables and no entry: the next open goes on and makes the rest, instead of
/// taking the missing vault for one lost beside a log that kept records (found by the
/// crash test: a kill at that moment left a directory no open would accept again).
#[test]
fn a_first_open_cut_off_before_the_vault_was_made_opens_again() {
    let (dir, cut) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let log = amanat::store::SqliteLogStore::open(dir.path().join("log.db")).unwrap();
    // The files as a kill would leave them: copied while the log is still open.
    for name in ["log.db", "log.db-wal", "log.db-shm"] {
        let _ = std::fs::copy(dir.path().join(name), cut.path().join(name));
    }
    drop(log);
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(cut.path(), &clock).open().unwrap();
    operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    drop(operator);
    let operator = imanum_operator(cut.path(), &clock).open().unwrap();
    assert_eq!(operator.ledger().consents_of(&customer()).len(), 1);
}

/// Opens an operator in `dir`, then keeps a customer's data, and puts back the log as it
/// was before that: last night's backup of the log, restored beside today's vault.
fn log_restored_older_than_the_vault(dir: &Path, clock: &ManualClock) {
    drop(imanum_operator(dir, clock).open().unwrap());
    let old_log = std::fs::read(dir.join("log.db")).unwrap();
    drop(onboarded(dir, clock));
    std::fs::write(dir.join("log.db"), old_log).unwrap();
}

#[test]
fn a_log_older_than_its_anchored_checkpoint_is_refused_as_cut_short_and_nothing_is_shredded() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    log_restored_older_than_the_vault(dir.path(), &clock);

    let before = fingerprints(dir.path());
    let refused = imanum_operator(dir.path(), &clock).open();
    assert!(
        matches!(&refused, Err(StoreError::Log(log)) if matches!(
            **log,
            LogError::Tampered { problem: Problem::Truncated, .. }
        )),
        "{:?}",
        refused.err()
    );
    assert_eq!(before, fingerprints(dir.path()));
}

#[test]
fn a_log_older_than_the_vault_is_refused_without_its_anchor_too_and_nothing_is_shredded() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    log_restored_older_than_the_vault(dir.path(), &clock);
    // No witness to say the log was longer: the vault still names records it never kept.
    std::fs::remove_dir_all(keys_for(dir.path()).path().join("anchors")).unwrap();

    let before = fingerprints(dir.path());
    let refused = imanum_operator(dir.path(), &clock).open();
    assert!(
        matches!(&refused, Err(StoreError::Corrupt(why)) if why.contains("never mentioned")),
        "{:?}",
        refused.err()
    );
    assert_eq!(before, fingerprints(dir.path()));
}

#[test]
fn one_directory_serves_one_operator_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let first = imanum_operator(dir.path(), &clock).open().unwrap();
    let second = imanum_operator(dir.path(), &clock).open();
    assert!(
        matches!(second, Err(StoreError::InUse)),
        "{:?}",
        second.err()
    );
    drop(first);
    imanum_operator(dir.path(), &clock).open().unwrap();
}

#[test]
fn reopening_under_a_version_that_requires_reconsent_ends_the_older_consents_imanum_6() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    drop(onboarded(dir.path(), &clock));

    // A version that does not require re-consent changes nothing.
    let quiet = Operator::builder(
        dir.path(),
        imanum_version("v3-quiet", false),
        keys_for(dir.path()),
    )
    .clock(clock.clone())
    .open()
    .unwrap();
    assert!(
        quiet
            .ledger()
            .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
            .is_ok()
    );
    drop(quiet);

    let strict = Operator::builder(
        dir.path(),
        imanum_version("v4-reconsent", true),
        keys_for(dir.path()),
    )
    .clock(clock.clone())
    .open()
    .unwrap();
    let refused = strict
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION);
    assert!(
        matches!(refused, Err(Error::ReconsentRequired { .. })),
        "{refused:?}"
    );
    let history = strict.ledger().history(&customer());
    drop(strict);

    // Ended once: reopening under the same version changes nothing more.
    let again = Operator::builder(
        dir.path(),
        imanum_version("v4-reconsent", true),
        keys_for(dir.path()),
    )
    .clock(clock.clone())
    .open()
    .unwrap();
    assert_eq!(again.ledger().history(&customer()), history);
    again.audit_log().verify().unwrap();
}

#[test]
fn a_destruction_the_journal_missed_is_completed_at_open_and_recorded_once() {
    use amanat::audit::AuditEvent;
    use amanat::store::journal::{Change, Journal, MemoryJournal};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A journal whose disk fills up just as a destruction is to be kept: the moment a
    /// crash between the audit entry and the journal row leaves behind.
    struct FullAtDestruction {
        kept: MemoryJournal,
        full: AtomicBool,
    }
    impl Journal for FullAtDestruction {
        fn append(&self, change: &Change) -> Result<(), StoreError> {
            if self.full.load(Ordering::SeqCst) && change.kind() == "destruction" {
                return Err(StoreError::Io("disk full".into()));
            }
            self.kept.append(change)
        }
        fn replay(
            &self,
            visit: &mut dyn FnMut(Change) -> Result<(), StoreError>,
        ) -> Result<(), StoreError> {
            self.kept.replay(visit)
        }
    }

    let journal = Arc::new(FullAtDestruction {
        kept: MemoryJournal::new(),
        full: AtomicBool::new(false),
    });
    let stores = Kept::on(Arc::clone(&journal) as _);
    let clock = ManualClock::new(monday());
    let open = || stores.open(&clock);

    let operator = open();
    operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut phone = PersonalData::collect(&customer(), PHONE.to_owned(), &token).unwrap();
    operator.keep(&mut phone, &token).unwrap();
    let now = amanat::Clock::now(&clock);
    operator
        .trigger(&customer(), Trigger::AccountClosed, now)
        .unwrap();
    journal.full.store(true, Ordering::SeqCst);
    // Destroyed — the hooks ran, the key is gone, the log says so — but not kept.
    let swept = operator.sweep(now);
    assert!(
        matches!(&swept, Err(Error::NotStored(StoreError::Stopped(why))) if why.contains("disk full")),
        "{swept:?}"
    );
    drop(operator);
    journal.full.store(false, Ordering::SeqCst);

    let operator = open();
    assert!(operator.schedule().records_of(&customer()).is_empty());
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    assert!(matches!(
        operator.fetch::<String, Phone>(phone.id(), &token),
        Err(Error::RecordDestroyed { .. })
    ));
    let destructions = stores
        .audit
        .entries()
        .unwrap()
        .into_iter()
        .filter(
            |e| matches!(&e.event, AuditEvent::Destruction { record, .. } if *record == phone.id()),
        )
        .count();
    assert_eq!(destructions, 1);
    // And it is kept now: the next open finds nothing to complete.
    drop(operator);
    let mut kinds = Vec::new();
    journal
        .replay(&mut |c| {
            kinds.push(c.kind());
            Ok(())
        })
        .unwrap();
    assert_eq!(kinds.iter().filter(|k| **k == "destruction").count(), 1);
}

#[test]
fn a_destruction_a_crash_kept_from_the_log_is_done_again_and_recorded_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, passport) = onboarded(dir.path(), &clock);
    operator
        .trigger_now(&customer(), Trigger::AccountClosed)
        .unwrap();
    // Past the policy's statutory minimum for the passport.
    clock.advance(TimeDelta::days(5 * 366));
    let now = amanat::Clock::now(&clock);
    let destroyed = operator.sweep(now).unwrap().destroyed.len();
    assert!(destroyed >= 1);
    drop(operator);
    // As if the process died after the hooks ran and before the destructions were
    // written: the change and its audit entry are one entry, so both are gone.
    cut_log_before(dir.path(), "destruction");
    assert!(!change_kinds(dir.path()).iter().any(|k| k == "destruction"));

    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    operator.audit_log().verify().unwrap();
    assert_eq!(operator.schedule().records_of(&customer()).len(), destroyed);
    // Still due: the next sweep destroys them again, and records each once.
    assert_eq!(operator.sweep(now).unwrap().destroyed.len(), destroyed);
    assert!(matches!(
        passport_of(&operator, passport),
        Err(Error::RecordDestroyed { .. })
    ));
    let recorded = operator
        .audit_log()
        .entries()
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.event, amanat::audit::AuditEvent::Destruction { .. }))
        .count();
    assert_eq!(recorded, destroyed, "each destruction is recorded once");
    drop(operator);
    let kept = change_kinds(dir.path());
    assert_eq!(
        kept.iter().filter(|k| *k == "destruction").count(),
        destroyed,
        "and kept in the log"
    );
}

#[test]
fn a_withdrawal_through_the_operator_brings_deadlines_forward_in_the_same_change_art_11_1() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, _) = onboarded(dir.path(), &clock);
    clock.advance(TimeDelta::days(3));
    let consent = operator.ledger().consents_of(&customer())[0];
    let withdrawal = operator.withdraw(&consent).unwrap();
    let records = operator.schedule().records_of(&customer());
    assert_eq!(records.len(), 2);
    assert!(
        records.iter().all(|r| r.deadline == Some(withdrawal.at)),
        "{records:?}"
    );
    drop(operator);

    // One change carried both: no separate trigger was kept, and both come back.
    let kinds = change_kinds(dir.path());
    assert!(kinds.iter().any(|k| k == "consent_withdrawn"));
    assert!(!kinds.iter().any(|k| k == "triggered"), "{kinds:?}");
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert_eq!(operator.schedule().records_of(&customer()), records);
    let swept = operator.sweep(amanat::Clock::now(&clock)).unwrap();
    // The passport is a customer-due-diligence record: the policy's statutory minimum
    // keeps it, whatever consent collected it.
    assert_eq!(swept.destroyed.len(), 1);
    assert_eq!(swept.postponed.len(), 1);
}

#[test]
fn an_authorization_goes_to_disk_with_the_next_change_and_is_never_synced_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock)
        .audit_sync_within(std::time::Duration::from_secs(3600))
        .open()
        .unwrap();
    operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let authorizations = |dir: &Path| {
        crate::common::log_payloads(dir)
            .iter()
            .filter(|p| crate::common::entry_kind(p) == Some((false, "authorization".to_owned())))
            .count()
    };
    let before = authorizations(dir.path());
    let _token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    assert_eq!(
        authorizations(dir.path()),
        before,
        "an authorization alone waits for the next change"
    );
    operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION).category::<Phone>())
        .unwrap();
    assert_eq!(authorizations(dir.path()), before + 1, "and goes with it");
}

/// A crash keeps a change and its audit entry together or loses both: they are one entry
/// of the log, written once (issue 16: the audit entry was written apart from the change,
/// and another thread's batch could make it durable first).
#[test]
fn a_change_and_its_audit_entry_are_one_entry_of_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let consent = operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    operator.withdraw(&consent).unwrap();
    let trail = operator.audit_log().entries().unwrap();
    drop(operator);
    let kinds: Vec<(bool, String)> = crate::common::log_payloads(dir.path())
        .iter()
        .map(|p| crate::common::entry_kind(p).expect("an entry this library wrote"))
        .collect();
    // Each audit entry is one entry of the log, in the same order: none written twice.
    assert_eq!(
        kinds
            .iter()
            .map(|(_, kind)| kind.as_str())
            .collect::<Vec<_>>(),
        trail.iter().map(|e| e.event.name()).collect::<Vec<_>>()
    );
    let changes: Vec<&str> = kinds
        .iter()
        .filter(|(change, _)| *change)
        .map(|(_, kind)| kind.as_str())
        .collect();
    assert_eq!(
        changes.iter().filter(|k| k.starts_with("consent_")).count(),
        2,
        "one entry for the grant, one for the withdrawal"
    );
    assert!(trail.iter().any(|e| matches!(
        e.event,
        amanat::audit::AuditEvent::ConsentWithdrawn {
            retention: true,
            consent: c,
            ..
        } if c == consent
    )));
}
