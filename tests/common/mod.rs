//! What the tests stand on, in one place: the IMANUM policy, a customer, the consent forms
//! and grants, the days the clocks start on, ledgers and operators under a policy, and how
//! big the long suites run.
//!
//! A test that needs something else (a policy of its own, a second customer) builds it
//! beside itself; what two files would otherwise both build lives here.

use amanat::consent::{LedgerBuilder, NoCategory, WithPurpose};
use amanat::{
    ConsentForm, DocumentHash, ElectronicMethod, Evidence, Grant, ManualClock, Policy, Purpose,
    SubjectId,
};
#[cfg(feature = "sqlite")]
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};

/// The IMANUM privacy policy as the examples ship it, under the Uzbek pack.
pub const IMANUM: &str = include_str!("../../examples/policies/imanum.toml");

/// The IMANUM policy, parsed.
pub fn imanum() -> Policy {
    Policy::from_toml_str(IMANUM).unwrap()
}

/// The IMANUM policy as a later `version`, requiring re-consent or not.
pub fn imanum_version(version: &str, reconsent: bool) -> Policy {
    let text = IMANUM
        .replace(
            "version = \"imanum-privacy-policy-2\"",
            &format!("version = \"{version}\""),
        )
        .replace(
            "requires_reconsent = false",
            &format!("requires_reconsent = {reconsent}"),
        );
    Policy::from_toml_str(&text).unwrap()
}

/// A small policy under the Tajik pack: phone and selfie for identity verification.
pub const TAJIK: &str = r#"version = "tj-1"
date = 2025-07-01
pack = "tajikistan-2018"

[operator]
name = "Dushanbe Pay LLC"
address = "Dushanbe"
contact = "privacy@pay.tj"
registration = "NCPD-0042"

[[category]]
id = "phone"

[[category]]
id = "biometric"

[[purpose]]
id = "identity_verification"
categories = ["phone", "biometric"]
basis = "consent"
written_for = ["biometric"]

[[retention]]
category = "phone"
purpose = "identity_verification"
after = "relationship_end"

[[retention]]
category = "biometric"
purpose = "identity_verification"
after = "relationship_end"
"#;

/// The customer most tests are about.
pub fn customer() -> SubjectId {
    subject("cust-1")
}

/// A subject with the id `id`.
pub fn subject(id: impl AsRef<str>) -> SubjectId {
    SubjectId::new(id).unwrap()
}

/// Consent given as a digitally signed electronic document: written under the Uzbek pack
/// (ZRU-547 Art. 21, 24), what IMANUM's credit scoring stands on.
pub fn signed() -> ConsentForm {
    ConsentForm::Electronic {
        method: ElectronicMethod::DigitalSignature,
    }
}

/// A digitally signed consent of `subject` to `purpose`, before its categories.
pub fn signed_grant(subject: &SubjectId, purpose: Purpose) -> Grant<WithPurpose, NoCategory> {
    Grant::new(subject.clone(), signed()).purpose(purpose)
}

/// Consent confirmed by a one-time password (IMANUM's onboarding).
pub fn otp() -> ConsentForm {
    ConsentForm::Electronic {
        method: ElectronicMethod::OneTimePassword,
    }
}

/// Consent on a signed form, as Tajik law Art. 17.1 asks for biometric data.
pub fn written() -> ConsentForm {
    ConsentForm::Written {
        document_sha256: DocumentHash::of(b"signed form"),
    }
}

/// What the SMS gateway confirmed for a one-time password, at `at`.
pub fn otp_evidence(challenge_id: impl Into<String>, at: DateTime<Utc>) -> Evidence {
    Evidence::OneTimePassword {
        challenge_id: challenge_id.into(),
        confirmed_at: at,
    }
}

/// A grant of `subject`'s consent by one-time password for `purpose`; the caller names the
/// categories.
pub fn otp_grant(subject: &SubjectId, purpose: Purpose) -> Grant<WithPurpose, NoCategory> {
    Grant::new(subject.clone(), otp()).purpose(purpose)
}

/// A grant of `subject`'s written consent for `purpose`; the caller names the categories.
pub fn written_grant(subject: &SubjectId, purpose: Purpose) -> Grant<WithPurpose, NoCategory> {
    Grant::new(subject.clone(), written()).purpose(purpose)
}

/// Tuesday 1 July 2025, 09:00 UTC: the day the IMANUM policy takes effect.
pub fn policy_day() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 7, 1, 9, 0, 0).unwrap()
}

/// Friday 13 June 2025, 10:00 in Tashkent: a deadline in working days counted from it
/// crosses a weekend.
pub fn friday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 13, 5, 0, 0).unwrap()
}

/// Monday 5 January 2026, 09:00 UTC: the operators' first day.
pub fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()
}

/// A ledger under `policy`, its version and its rules, on `clock`.
pub fn ledger_under(policy: &Policy, clock: &ManualClock) -> LedgerBuilder {
    amanat::ConsentLedger::builder(policy.version().clone())
        .policy(policy.clone())
        .clock(clock.clone())
}

/// An operator on `dir` under the IMANUM policy, with the key directory of `dir`
/// ([`keys_for`]), on `clock`.
#[cfg(feature = "sqlite")]
pub fn imanum_operator(
    dir: &std::path::Path,
    clock: &ManualClock,
) -> amanat::store::OperatorBuilder {
    amanat::store::Operator::builder(dir, imanum(), keys_for(dir)).clock(clock.clone())
}

/// An operator on `dir` with the customer's phone number kept ([`keep_phone`]), and the
/// record's id.
#[cfg(feature = "sqlite")]
pub fn kept_phone(
    dir: &Path,
    clock: &ManualClock,
) -> (amanat::store::Operator, amanat::data::RecordId) {
    let operator = imanum_operator(dir, clock).open().unwrap();
    let record = keep_phone(&operator);
    (operator, record)
}

/// The customer's phone number, as [`keep_phone`] keeps it.
pub const PHONE: &str = "+998901234567";

/// The customer's phone number ([`PHONE`]) collected through `operator`, on their OTP
/// consent for the service, and the token it was collected with; not kept yet.
pub fn collected_phone(
    operator: &amanat::store::Operator,
) -> (
    amanat::ConsentToken<amanat::category::Phone>,
    amanat::PersonalData<String, amanat::category::Phone>,
) {
    use amanat::category::Phone;
    operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let phone = amanat::PersonalData::collect(&customer(), PHONE.to_owned(), &token).unwrap();
    (token, phone)
}

/// Keeps the customer's phone number ([`PHONE`]) in `operator`, on their OTP consent for
/// the service, and returns the record's id.
#[cfg(feature = "sqlite")]
pub fn keep_phone(operator: &amanat::store::Operator) -> amanat::data::RecordId {
    let (token, mut phone) = collected_phone(operator);
    operator.keep(&mut phone, &token).unwrap();
    phone.id()
}

/// The key directory of the data directory `dir`: always the same one for it, and never
/// inside it — a directory of its own under Cargo's temporary directory for tests, named
/// after a hash of `dir`'s path, so a test that reopens `dir` (or a child process given
/// `dir`) finds the keys it was opened with.
#[cfg(feature = "sqlite")]
pub fn keys_for(dir: &Path) -> amanat::store::kek::KeyDir {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    std::path::absolute(dir).unwrap().hash(&mut hasher);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("keys")
        .join(format!("{:016x}", hasher.finish()));
    amanat::store::kek::KeyDir::new(path).unwrap()
}

/// Whether the long suites run at full size: under CI (`CI` set), or when asked for with
/// `AMANAT_FULL=1`. A local `cargo test` runs them smaller, to stay about a minute.
pub fn full_size() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
        || std::env::var_os("AMANAT_FULL").is_some_and(|v| v == "1")
}

/// A property test's case count: `full` at full size, an eighth of it (at least 4)
/// otherwise.
pub fn cases(full: u32) -> u32 {
    if full_size() { full } else { (full / 8).max(4) }
}

/// Every file under `dir`, with what it holds.
#[cfg(feature = "sqlite")]
pub fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// Each file's name with a hash of what it holds: what a refused open must leave as it was.
#[cfg(feature = "sqlite")]
pub fn fingerprints(dir: &Path) -> Vec<(String, u64)> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut out: Vec<(String, u64)> = files(dir)
        .into_iter()
        .map(|(path, bytes)| {
            let mut hasher = DefaultHasher::new();
            bytes.hash(&mut hasher);
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                hasher.finish(),
            )
        })
        .collect();
    out.sort();
    out
}

#[cfg(feature = "sqlite")]
/// The payloads of the operator's log in `dir`, oldest first, read from its file as a
/// backup tool would (the entries' MACs are not checked here).
pub fn log_payloads(dir: &Path) -> Vec<Vec<u8>> {
    use amanat::log::{LogStore, Seq};
    let store = amanat::store::SqliteLogStore::open(dir.join("log.db")).unwrap();
    let mut payloads = Vec::new();
    store
        .read_from(Seq::FIRST, &mut |entry| {
            payloads.push(entry.payload);
            Ok(())
        })
        .unwrap();
    payloads
}

#[cfg(feature = "sqlite")]
/// The kinds of the changes in the operator's log in `dir` (`consent_given`, `destruction`,
/// …), oldest first.
pub fn change_kinds(dir: &Path) -> Vec<String> {
    log_payloads(dir)
        .iter()
        .filter_map(|p| entry_kind(p))
        .filter(|(change, _)| *change)
        .map(|(_, kind)| kind)
        .collect()
}

#[cfg(feature = "sqlite")]
/// The kind of an operator's log entry (`consent_given`, `authorization`, …) and whether it
/// is a change, as anyone with the file reads it: from the JSON of an entry in clear, or
/// from the clear part of one sealed under its subject's key (after the tag, the handle,
/// the audit position and time and two hashes: the name's length, then the name).
pub fn entry_kind(payload: &[u8]) -> Option<(bool, String)> {
    const NAME_AT: usize = 1 + 16 + 8 + 8 + 32 + 32;
    let (&tag, rest) = payload.split_first()?;
    match tag {
        b'c' | b'a' => serde_json::from_slice::<amanat::audit::AuditEntry>(rest)
            .ok()
            .map(|entry| (tag == b'c', entry.event.name().to_owned())),
        b'C' | b'A' => {
            let length = usize::from(*payload.get(NAME_AT)?);
            let name = payload.get(NAME_AT + 1..NAME_AT + 1 + length)?;
            Some((tag == b'C', String::from_utf8(name.to_vec()).ok()?))
        }
        _ => None,
    }
}

#[cfg(feature = "sqlite")]
/// Writes the operator's log in `dir` again, with its own keys, keeping only the entries
/// `keep` accepts, and starts its anchor afresh: the state a crash leaves when it falls
/// between two entries the operator writes in separate batches, which no edit of the file
/// without the keys could make.
pub fn rewrite_log(dir: &Path, keep: impl Fn(&[u8]) -> bool) {
    use amanat::log::Log;
    let kept: Vec<Vec<u8>> = log_payloads(dir).into_iter().filter(|p| keep(p)).collect();
    // The subjects' keys go over as they are: the entries kept are sealed under them.
    let keyring = keyring_rows(dir);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("log.db{suffix}")));
    }
    let keys = keys_for(dir);
    let _ = std::fs::remove_dir_all(keys.path().join("anchors"));
    let store = amanat::store::SqliteLogStore::open(dir.join("log.db")).unwrap();
    let log = Log::builder(store).open(&keys).unwrap();
    let payloads: Vec<&[u8]> = kept.iter().map(Vec::as_slice).collect();
    log.append_all(&payloads).unwrap();
    drop(log);
    put_keyring_rows(dir, &keyring);
}

#[cfg(feature = "sqlite")]
/// A row of the keyring of an operator's log, as `sqlite3` reads it: handle, tag, wrapped
/// key, MAC.
pub type KeyringRow = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>, Vec<u8>);

#[cfg(feature = "sqlite")]
/// Every row of the keyring of the operator's log in `dir`.
pub fn keyring_rows(dir: &Path) -> Vec<KeyringRow> {
    let db = rusqlite::Connection::open(dir.join("log.db")).unwrap();
    let mut query = db
        .prepare("SELECT handle, tag, wrapped, mac FROM keyring")
        .unwrap();
    query
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[cfg(feature = "sqlite")]
/// Writes `rows` into the keyring of the operator's log in `dir`, each over any row of its
/// handle, as `sqlite3` would.
pub fn put_keyring_rows(dir: &Path, rows: &[KeyringRow]) {
    let db = rusqlite::Connection::open(dir.join("log.db")).unwrap();
    for row in rows {
        db.execute(
            "INSERT OR REPLACE INTO keyring (handle, tag, wrapped, mac) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![row.0, row.1, row.2, row.3],
        )
        .unwrap();
    }
}

#[cfg(feature = "sqlite")]
/// Cuts the operator's log in `dir` before its first change of `kind`, and starts its
/// anchor afresh: the state a crash leaves when it falls just before that change was
/// written.
pub fn cut_log_before(dir: &Path, kind: &str) {
    let reached = std::cell::Cell::new(false);
    rewrite_log(dir, |entry| {
        reached.set(reached.get() || is_change(entry, kind));
        !reached.get()
    });
}

#[cfg(feature = "sqlite")]
/// Whether `payload` is the log entry of a change of `kind`.
pub fn is_change(payload: &[u8], kind: &str) -> bool {
    entry_kind(payload).is_some_and(|(change, name)| change && name == kind)
}

/// Everything an operator shows about its subjects' state: what a reopen, a replay from
/// snapshots or from the whole log must give back the same.
#[cfg(feature = "sqlite")]
#[derive(Debug, PartialEq)]
pub struct OperatorState {
    pub histories: Vec<Vec<amanat::consent::ConsentEvent>>,
    pub consents: Vec<Vec<amanat::ConsentId>>,
    pub records: Vec<Vec<amanat::retention::TrackedRecord>>,
    pub tracked: usize,
    pub decisions: Vec<Result<(), &'static str>>,
    pub requests: Vec<amanat::rights::SubjectRequest>,
    pub overdue_requests: Vec<amanat::rights::SubjectRequest>,
    pub pending_notices: Vec<amanat::disclosure::TransferNotice>,
    pub overdue_notices: Vec<amanat::disclosure::TransferNotice>,
}

/// The state of `subjects` in `operator`, with what is overdue at `now`.
#[cfg(feature = "sqlite")]
pub fn operator_state(
    operator: &amanat::store::Operator,
    subjects: &[SubjectId],
    now: DateTime<Utc>,
) -> OperatorState {
    let ledger = operator.ledger();
    let mut decisions = Vec::new();
    for s in subjects {
        for purpose in [
            Purpose::SERVICE_PROVISION,
            Purpose::IDENTITY_VERIFICATION,
            Purpose::MARKETING_ANALYTICS,
        ] {
            decisions.push(
                ledger
                    .authorize::<amanat::category::Phone>(s, &purpose)
                    .map(drop)
                    .map_err(|e| e.rule()),
            );
            decisions.push(
                ledger
                    .authorize::<amanat::category::IdentityDocument>(s, &purpose)
                    .map(drop)
                    .map_err(|e| e.rule()),
            );
        }
    }
    OperatorState {
        histories: subjects.iter().map(|s| ledger.history(s)).collect(),
        consents: subjects.iter().map(|s| ledger.consents_of(s)).collect(),
        records: subjects
            .iter()
            .map(|s| operator.schedule().records_of(s))
            .collect(),
        tracked: operator.schedule().len(),
        decisions,
        requests: (1..).map_while(|id| operator.requests().get(id)).collect(),
        overdue_requests: operator.requests().overdue_requests(now),
        pending_notices: operator.disclosures().pending_notices(now),
        overdue_notices: operator.disclosures().overdue_notices(now),
    }
}
