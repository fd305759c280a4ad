//! Destruction reaches the backups (issue 15, item 3): the key-encryption key never lives in
//! the data directory, so a copy of that directory opens nothing shredded — nor anything at
//! all on its own — and a copy of the key store opens nothing once the provider has
//! destroyed the KEK it was wrapped under. Rotation survives a kill at each of its steps;
//! key material in the wrong place is a typed error that changes nothing.
#![cfg(feature = "sqlite")]

use std::path::Path;
use std::sync::Arc;

use amanat::category::Phone;
use amanat::data::RecordId;
use amanat::retention::Trigger;
use amanat::store::kek::{Capabilities, Kek, KeyDir, KeyProvider, KeyPurpose, KeyVersion};
use amanat::store::keys::{KeyError, KeyStore, RotationStep, SqliteKeyStore};
use amanat::store::{Operator, StoreError};
use amanat::{ManualClock, Purpose};
use chrono::TimeDelta;

use crate::common::{
    customer, cut_log_before, fingerprints, imanum, imanum_operator, keep_phone, kept_phone,
    keys_for, monday,
};

const PHONE: &str = "+998901234567";

/// The phone number as `operator` reads it back.
fn phone_of(operator: &Operator, record: RecordId) -> String {
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let phone = operator.fetch::<String, Phone>(record, &token).unwrap();
    phone.read(&token).unwrap().clone()
}

/// Copies every file of `from` into `to`, as a backup of the directory would.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

fn versions(keys: &KeyDir) -> Vec<u32> {
    keys.versions(KeyPurpose::WrapDataKeys)
        .unwrap()
        .into_iter()
        .map(KeyVersion::get)
        .collect()
}

#[test]
fn a_backup_of_the_data_directory_taken_before_a_shred_opens_nothing_after_it_art_1() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, record) = kept_phone(dir.path(), &clock);
    assert_eq!(phone_of(&operator, record), PHONE);
    drop(operator);
    let backup = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), backup.path());

    // The account is closed; the sweep shreds the phone number and rotates the KEK.
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    operator
        .trigger(&customer(), Trigger::AccountClosed, monday())
        .unwrap();
    clock.set(monday() + TimeDelta::days(1));
    let report = operator.sweep_now().unwrap();
    assert_eq!(report.destroyed.len(), 1);
    drop(operator);
    let live = keys_for(dir.path());
    assert_eq!(
        versions(&live),
        [2],
        "the KEK the backup was wrapped under is destroyed"
    );

    // The backup, restored, does not open with the live key provider, and takes nothing
    // from it.
    let live_before = fingerprints(live.path());
    let backup_before = fingerprints(backup.path());
    let restored = Operator::open(backup.path(), imanum(), keys_for(dir.path()));
    assert!(
        matches!(
            restored,
            Err(StoreError::Keys(KeyError::KekMissing {
                purpose: KeyPurpose::WrapDataKeys,
                ..
            }))
        ),
        "{restored:?}"
    );
    let keys = SqliteKeyStore::open_with(backup.path().join("keys.db"), &live);
    assert!(matches!(keys, Err(KeyError::KekMissing { .. })));
    assert_eq!(fingerprints(live.path()), live_before);
    assert_eq!(fingerprints(backup.path()), backup_before);
}

#[test]
fn a_copy_of_the_data_directory_alone_opens_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, record) = kept_phone(dir.path(), &clock);
    assert_eq!(phone_of(&operator, record), PHONE);
    drop(operator);
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), copy.path());
    let before = fingerprints(copy.path());

    // No key of the data directory is in it: a thief's own key directory opens nothing.
    let thief_root = tempfile::tempdir().unwrap();
    let thief = thief_root.path().join("keys");
    let refused = Operator::open(copy.path(), imanum(), KeyDir::new(&thief).unwrap());
    assert!(
        matches!(refused, Err(StoreError::Keys(KeyError::KekMissing { .. }))),
        "{refused:?}"
    );
    // A key of the thief's own making at the version the store names does not open it.
    let made = KeyDir::new(&thief).unwrap();
    made.create(KeyPurpose::WrapDataKeys).unwrap();
    let refused = Operator::open(copy.path(), imanum(), made);
    assert!(
        matches!(refused, Err(StoreError::Keys(KeyError::WrongKey))),
        "{refused:?}"
    );
    assert_eq!(fingerprints(copy.path()), before);
}

#[test]
fn a_key_store_copied_before_a_rotation_opens_nothing_after_the_old_kek_is_destroyed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, record) = kept_phone(dir.path(), &clock);
    drop(operator);
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("keys.db"), copy.path().join("keys.db")).unwrap();

    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert!(operator.rotate_keys().unwrap());
    // The live store opens under the new version.
    assert_eq!(phone_of(&operator, record), PHONE);
    drop(operator);

    let live = keys_for(dir.path());
    assert_eq!(versions(&live), [2]);
    let opened = SqliteKeyStore::open_with(copy.path().join("keys.db"), &live);
    assert!(
        matches!(
            opened,
            Err(KeyError::KekMissing {
                purpose: KeyPurpose::WrapDataKeys,
                version
            }) if version == KeyVersion::new(1)
        ),
        "{opened:?}"
    );
}

#[test]
fn a_kill_at_each_step_of_a_rotation_leaves_a_store_that_opens_with_the_old_or_the_new_key() {
    for (step, settled) in [
        // The new version wrapped nothing committed: rolled back.
        (RotationStep::NewVersionMade, 1),
        // The store is under the new version: the old one is destroyed at open.
        (RotationStep::Rewrapped, 2),
        (RotationStep::OldDestroyed, 2),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(monday());
        let (operator, record) = kept_phone(dir.path(), &clock);
        assert!(operator.rotate_keys_until(step).unwrap());
        // Stopped there, as a kill would leave it: the files as they are now.
        let keys = keys_for(dir.path());
        let left = versions(&keys);
        drop(operator);
        assert!(!left.is_empty(), "{step:?}: no key left");

        let operator = imanum_operator(dir.path(), &clock).open().unwrap();
        assert_eq!(phone_of(&operator, record), PHONE, "{step:?}");
        assert_eq!(versions(&keys), [settled], "{step:?}: left {left:?}");
        // And it rotates again from there.
        assert!(operator.rotate_keys().unwrap());
        assert_eq!(versions(&keys), [settled + 1], "{step:?}");
        assert_eq!(phone_of(&operator, record), PHONE, "{step:?}");
    }
}

#[test]
fn the_operator_rotates_daily_and_after_every_sweep_that_destroyed_something() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, record) = kept_phone(dir.path(), &clock);
    let keys = keys_for(dir.path());
    clock.set(monday() + TimeDelta::hours(1));
    operator.sweep_now().unwrap();
    assert_eq!(versions(&keys), [1], "nothing destroyed, not a day yet");
    clock.set(monday() + TimeDelta::hours(25));
    operator.sweep_now().unwrap();
    assert_eq!(versions(&keys), [2], "a day passed");
    assert_eq!(phone_of(&operator, record), PHONE);
    operator
        .trigger_now(&customer(), Trigger::AccountClosed)
        .unwrap();
    clock.set(monday() + TimeDelta::hours(26));
    let report = operator.sweep_now().unwrap();
    assert_eq!(report.destroyed.len(), 1);
    assert_eq!(versions(&keys), [3], "a sweep destroyed something");
    drop(operator);

    // The schedule outlives the process: reopened an hour later, it does not rotate.
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    clock.set(monday() + TimeDelta::hours(27));
    operator.sweep_now().unwrap();
    assert_eq!(versions(&keys), [3]);
}

/// A provider that holds one key and can neither rotate nor destroy, as an environment
/// variable does.
struct Fixed(Kek);

impl KeyProvider for Fixed {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            rotate: false,
            destroy: false,
        }
    }
    fn versions(&self, _: KeyPurpose) -> Result<Vec<KeyVersion>, KeyError> {
        Ok(vec![KeyVersion::new(1)])
    }
    fn key(&self, purpose: KeyPurpose, version: KeyVersion) -> Result<Kek, KeyError> {
        if version != KeyVersion::new(1) {
            return Err(KeyError::KekMissing { purpose, version });
        }
        Ok(Kek::from_slice(self.0.expose()).unwrap())
    }
}

#[test]
fn under_a_provider_that_can_not_destroy_the_operator_never_rotates_and_a_key_store_copy_still_opens()
 {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let provider = Arc::new(Fixed(Kek::random()));
    let operator = Operator::builder(dir.path(), imanum(), Arc::clone(&provider))
        .clock(clock.clone())
        .open()
        .unwrap();
    let record = keep_phone(&operator);
    drop(operator);
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("keys.db"), copy.path().join("keys.db")).unwrap();

    let operator = Operator::builder(dir.path(), imanum(), Arc::clone(&provider))
        .clock(clock.clone())
        .open()
        .unwrap();
    assert!(!operator.rotate_keys().unwrap());
    operator
        .trigger(&customer(), Trigger::AccountClosed, monday())
        .unwrap();
    clock.set(monday() + TimeDelta::days(2));
    assert_eq!(operator.sweep_now().unwrap().destroyed.len(), 1);
    drop(operator);
    // What the docs of such a provider say: the live store lost the key, the copy did not.
    let live = SqliteKeyStore::open_with(dir.path().join("keys.db"), &*provider).unwrap();
    assert!(matches!(live.get(record), Err(KeyError::Shredded { .. })));
    let copied = SqliteKeyStore::open_with(copy.path().join("keys.db"), &*provider).unwrap();
    assert!(copied.get(record).is_ok());
}

#[test]
fn a_key_directory_inside_the_data_directory_is_refused_and_nothing_is_changed() {
    let dir = tempfile::tempdir().unwrap();
    // Private, as a data directory the store makes itself is, so that it could pass for a
    // key directory: only its place refuses it.
    #[cfg(unix)]
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let clock = ManualClock::new(monday());
    drop(kept_phone(dir.path(), &clock));
    let before = fingerprints(dir.path());
    for inside in [dir.path().join("keys"), dir.path().to_path_buf()] {
        let refused = Operator::open(dir.path(), imanum(), KeyDir::new(&inside).unwrap());
        assert!(
            matches!(refused, Err(StoreError::KeysInsideData { ref path }) if *path == inside),
            "{refused:?}"
        );
        assert_eq!(fingerprints(dir.path()), before);
    }
    // Nor the data directory inside the key directory: a backup of the keys would carry the
    // data.
    let root = tempfile::tempdir().unwrap();
    let keys = root.path().join("keys");
    let refused = Operator::open(keys.join("data"), imanum(), KeyDir::new(&keys).unwrap());
    assert!(matches!(refused, Err(StoreError::KeysInsideData { .. })));
    assert!(!keys.join("data").exists(), "nothing is created");
}

#[test]
fn a_data_directory_that_reaches_the_key_directory_through_dot_dot_is_refused() {
    // The path names a directory that does not exist yet, then climbs back into the keys.
    let root = tempfile::tempdir().unwrap();
    let keys = root.path().join("keys");
    for sneaky in [
        root.path().join("not-yet").join("..").join("keys"),
        root.path()
            .join("not-yet")
            .join("..")
            .join("keys")
            .join("data"),
    ] {
        let refused = Operator::open(&sneaky, imanum(), KeyDir::new(&keys).unwrap());
        assert!(
            matches!(refused, Err(StoreError::KeysInsideData { .. })),
            "{}: {refused:?}",
            sneaky.display()
        );
        assert!(!keys.join("vault.db").exists() && !keys.join("data").exists());
    }
}

#[test]
fn a_store_of_0_1_with_its_master_key_inside_is_refused_until_the_key_is_moved_out() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    drop(kept_phone(dir.path(), &clock));
    // 0.1 kept its key-encryption key in the data directory as master.key.
    let keys = keys_for(dir.path());
    let master = dir.path().join("master.key");
    std::fs::copy(
        keys.file(KeyPurpose::WrapDataKeys, KeyVersion::new(1)),
        &master,
    )
    .unwrap();
    let before = fingerprints(dir.path());
    let refused = imanum_operator(dir.path(), &clock).open();
    assert!(
        matches!(refused, Err(StoreError::KeysInsideData { ref path }) if *path == master),
        "{refused:?}"
    );
    let shown = refused.unwrap_err().to_string();
    assert!(
        shown.contains("master.key") && shown.contains("move it"),
        "{shown}"
    );
    assert_eq!(fingerprints(dir.path()), before);
    // Moved out, it opens.
    std::fs::remove_file(&master).unwrap();
    assert!(imanum_operator(dir.path(), &clock).open().is_ok());
}

#[test]
fn rotating_the_key_that_wraps_data_keys_leaves_the_other_purposes_keys_alone() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let keys = keys_for(dir.path());
    let log = keys.create(KeyPurpose::AuthenticateLog).unwrap();
    let checkpoints = keys.create(KeyPurpose::SignCheckpoints).unwrap();
    let log_key = *keys.key(KeyPurpose::AuthenticateLog, log).unwrap().expose();
    let (operator, record) = kept_phone(dir.path(), &clock);
    assert!(operator.rotate_keys().unwrap());
    drop(operator);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert_eq!(phone_of(&operator, record), PHONE);
    assert_eq!(versions(&keys), [2]);
    assert_eq!(keys.versions(KeyPurpose::AuthenticateLog).unwrap(), [log]);
    assert_eq!(
        keys.versions(KeyPurpose::SignCheckpoints).unwrap(),
        [checkpoints]
    );
    assert_eq!(
        *keys.key(KeyPurpose::AuthenticateLog, log).unwrap().expose(),
        log_key
    );
}

#[test]
fn a_copy_shredded_at_open_is_followed_by_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, _) = kept_phone(dir.path(), &clock);
    drop(operator);
    let keys = keys_for(dir.path());
    assert_eq!(versions(&keys), [1]);
    // A crash after the copy was sealed and before it was tracked: its keeping was never
    // acknowledged, and the open shreds it.
    cut_log_before(dir.path(), "tracked");

    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert!(operator.schedule().records_of(&customer()).is_empty());
    assert_eq!(
        versions(&keys),
        [2],
        "the copy shredded at open rotated the KEK"
    );
    operator.audit_log().verify().unwrap();
}

#[cfg(unix)]
#[test]
fn a_key_directory_others_can_enter_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let keys = root.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(matches!(
        KeyDir::new(&keys),
        Err(KeyError::Untrusted { ref path, .. }) if *path == keys
    ));
}

#[cfg(unix)]
#[test]
fn a_key_file_that_is_a_symbolic_link_is_refused_and_nothing_is_created() {
    // The link could point anywhere — into the data directory, or at a key someone else
    // keeps a copy of.
    let root = tempfile::tempdir().unwrap();
    let keys = KeyDir::new(root.path().join("keys")).unwrap();
    let elsewhere = root.path().join("elsewhere.key");
    std::fs::write(&elsewhere, [7_u8; 32]).unwrap();
    std::fs::set_permissions(
        &elsewhere,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        &elsewhere,
        keys.file(KeyPurpose::WrapDataKeys, KeyVersion::new(1)),
    )
    .unwrap();
    let data = root.path().join("data");
    let refused = Operator::open(&data, imanum(), keys);
    assert!(
        matches!(
            refused,
            Err(StoreError::Keys(KeyError::Untrusted { reason, .. })) if reason.contains("link")
        ),
        "{refused:?}"
    );
    assert!(!data.join("vault.db").exists());
}

#[cfg(target_os = "linux")]
#[test]
fn a_key_file_planted_by_another_user_is_refused() {
    // Someone who could write the key directory before us leaves a key they keep a copy
    // of. Changing a file's owner takes root, as CI runs; elsewhere the test says so.
    let root = tempfile::tempdir().unwrap();
    let keys = KeyDir::new(root.path().join("keys")).unwrap();
    let planted = keys.file(KeyPurpose::WrapDataKeys, KeyVersion::new(1));
    std::fs::write(&planted, [7_u8; 32]).unwrap();
    std::fs::set_permissions(
        &planted,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    if std::os::unix::fs::chown(&planted, Some(65_534), Some(65_534)).is_err() {
        eprintln!("not root: can't give the planted key to another user; run as root (CI does)");
        return;
    }
    let refused = Operator::open(root.path().join("data"), imanum(), keys);
    assert!(
        matches!(
            refused,
            Err(StoreError::Keys(KeyError::Untrusted { reason, .. })) if reason.contains("another user")
        ),
        "{refused:?}"
    );
}

/// Puts the files of `backup` back in `dir`, in place of the directory's own.
fn put_back(backup: &Path, dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && path.file_name().unwrap() != "lock" {
            std::fs::remove_file(path).unwrap();
        }
    }
    copy_dir(backup, dir);
}

#[test]
fn a_backup_older_than_the_anchor_opens_only_as_a_restore_on_the_record() {
    use amanat::audit::AuditEvent;
    use amanat::log::{LogError, Problem};
    let (dir, backup) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let clock = ManualClock::new(monday());
    let (operator, record) = kept_phone(dir.path(), &clock);
    let consent = operator.ledger().consents_of(&customer())[0];
    drop(operator);
    copy_dir(dir.path(), backup.path());
    // A consent given after the backup: it is lost with what the backup lacks.
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    operator
        .ledger()
        .grant(
            crate::common::otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION)
                .category::<Phone>(),
        )
        .unwrap();
    drop(operator);
    put_back(backup.path(), dir.path());

    // To the anchor, the backup is a log cut short.
    assert!(matches!(
        imanum_operator(dir.path(), &clock).open(),
        Err(StoreError::Log(cut)) if matches!(*cut, LogError::Tampered {
            problem: Problem::Truncated,
            ..
        })
    ));
    let operator = imanum_operator(dir.path(), &clock)
        .restore("disk replaced, incident 42")
        .open()
        .unwrap();
    assert_eq!(operator.ledger().consents_of(&customer()), [consent]);
    assert_eq!(phone_of(&operator, record), PHONE);
    let restores: Vec<(u64, u64, String)> = operator
        .audit_log()
        .entries()
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event {
            AuditEvent::Restored {
                entries,
                anchored,
                reason,
            } => Some((entries, anchored, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(restores.len(), 1);
    let (entries, anchored, reason) = &restores[0];
    assert!(entries < anchored, "{entries} of {anchored}");
    assert_eq!(reason, "disk replaced, incident 42");
    let key = operator.checkpoint_key().unwrap();
    drop(operator);

    // On the record and anchored: the directory opens as any other, and passes the
    // auditor's check; a restore asked again, with nothing lost, records nothing.
    drop(imanum_operator(dir.path(), &clock).open().unwrap());
    let again = imanum_operator(dir.path(), &clock)
        .restore("asked twice")
        .open()
        .unwrap();
    let recorded = again
        .audit_log()
        .entries()
        .unwrap()
        .iter()
        .filter(|e| matches!(e.event, AuditEvent::Restored { .. }))
        .count();
    assert_eq!(recorded, 1);
    drop(again);
    let anchor =
        amanat::log::FileAnchor::new(keys_for(dir.path()).path().join("anchors"), dir.path())
            .unwrap();
    let store = amanat::store::SqliteLogStore::open(dir.path().join("log.db")).unwrap();
    amanat::log::verify_against_anchor(&store, &key, &anchor).unwrap();
}

#[test]
fn a_log_rewritten_without_the_keys_is_not_restored() {
    use amanat::log::{Entry, LogError, Problem, Seq};
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    drop(kept_phone(dir.path(), &clock).0);
    let db = rusqlite::Connection::open(dir.path().join("log.db")).unwrap();
    // The consent, edited: its hash made afresh, its MAC can't be.
    let rows: Vec<(i64, i64, Vec<u8>, Vec<u8>)> = db
        .prepare("SELECT seq, at, prev, payload FROM entries ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let (seq, at, prev, mut edited) = rows
        .into_iter()
        .find(|row| crate::common::is_change(&row.3, "consent_given"))
        .unwrap();
    *edited.last_mut().unwrap() ^= 1;
    let prev: [u8; 32] = prev.try_into().unwrap();
    let hash = Entry::compute_hash(Seq::new(seq.unsigned_abs()), at, &prev, &edited);
    db.execute(
        "UPDATE entries SET payload = ?1, hash = ?2 WHERE seq = ?3",
        rusqlite::params![edited, hash.to_vec(), seq],
    )
    .unwrap();
    drop(db);
    assert!(matches!(
        imanum_operator(dir.path(), &clock)
            .restore("whatever")
            .open(),
        Err(StoreError::Log(forged)) if matches!(*forged, LogError::Tampered {
            problem: Problem::BadMac,
            ..
        })
    ));
}

/// A second restore cuts the record of the first: it still says how far the log once
/// reached, from the anchor's whole history (found by a review: it recorded only the
/// first restore's checkpoint).
#[test]
fn a_second_restore_records_how_far_the_anchored_log_once_reached() {
    use amanat::audit::AuditEvent;
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, _) = kept_phone(dir.path(), &clock);
    let kept = i64::try_from(operator.audit_log().entries().unwrap().len()).unwrap();
    for i in 0..10 {
        operator
            .ledger()
            .grant(
                crate::common::otp_grant(
                    &crate::common::subject(format!("s{i}")),
                    Purpose::SERVICE_PROVISION,
                )
                .category::<Phone>(),
            )
            .unwrap();
    }
    drop(operator);
    let log = dir.path().join("log.db");
    let head: i64 = rusqlite::Connection::open(&log)
        .unwrap()
        .query_row("SELECT max(seq) FROM entries", [], |r| r.get(0))
        .unwrap();
    let cut = || {
        rusqlite::Connection::open(&log)
            .unwrap()
            .execute_batch(&format!(
                "DELETE FROM entries WHERE seq > {kept}; \
                 DELETE FROM checkpoints WHERE count > {kept}; \
                 DELETE FROM snapshots WHERE last > {kept};"
            ))
            .unwrap();
    };
    let restores = |operator: &Operator| -> Vec<(u64, u64)> {
        operator
            .audit_log()
            .entries()
            .unwrap()
            .into_iter()
            .filter_map(|e| match e.event {
                AuditEvent::Restored {
                    entries, anchored, ..
                } => Some((entries, anchored)),
                _ => None,
            })
            .collect()
    };
    let furthest = (kept.unsigned_abs(), head.unsigned_abs());
    cut();
    let first = imanum_operator(dir.path(), &clock)
        .restore("incident 1")
        .open()
        .unwrap();
    assert_eq!(restores(&first), [furthest]);
    drop(first);
    // The same cut again takes the first restore's entry with it.
    cut();
    let second = imanum_operator(dir.path(), &clock)
        .restore("incident 2")
        .open()
        .unwrap();
    assert_eq!(restores(&second), [furthest]);
}
