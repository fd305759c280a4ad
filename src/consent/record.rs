//! One consent as recorded, and the services it shares with the tokens and data it leads
//! to: what `authorize` reads, what a withdrawal flips, and the journal's form of it.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use once_cell::race::OnceBox;

use super::history::end;
use super::token::ReadCount;
use super::{ConsentId, ConsentLedger, NEVER};
use crate::Error;
use crate::audit::{AuditEvent, AuditLog};
use crate::category::{Category, CategoryId};
use crate::clock::{Clock, millis_to_time};
use crate::event::Given;
use crate::policy::JurisdictionPack;
use crate::vocab::ids::RecordId;
use crate::vocab::register::Source;
use crate::vocab::{
    ConsentForm, ElectronicMethod, Evidence, FormKind, GivenBy, PolicyVersion, Purpose, SubjectId,
};

/// One consent as recorded. The immutable part is what the subject agreed to; the atomics
/// are what tokens watch, so that a withdrawal reaches every token issued on it at once.
///
/// `authorize` reads every consent of a subject its masks don't rule out (see `Held`),
/// and with a million subjects each read is a cache miss; so everything it reads sits in
/// one allocation, at the front (`repr(C)` keeps the order), next to the reference count
/// that issuing a token bumps. A million consents are a million of these: what many
/// records hold alike (their lists and policy version) is one shared [`Shape`], and what
/// few hold is boxed, so that the usual record with its reference counts fits the
/// allocator's 128-byte class.
#[repr(C)]
pub(crate) struct ConsentRecord {
    pub(crate) valid_until: AtomicI64,
    /// Bit `i` set: withdrawn for `purposes()[i]`. A consent can be withdrawn for one
    /// purpose and stay for the others.
    pub(crate) withdrawn: AtomicU64,
    pub(crate) form_kind: FormKind,
    /// Whether the subject agreed to transfers abroad.
    pub(crate) cross_border: bool,
    /// How a consent without `details` was given: electronically by `Some` method, or
    /// implied.
    method: Option<ElectronicMethod>,
    /// Its purposes, its categories and its policy version, as the ledger shares them.
    pub(super) shape: Arc<Shape>,
    pub(crate) id: ConsentId,
    pub(crate) subject: SubjectId,
    /// How it was given and what proves it, where `method` does not say it all.
    details: Option<Box<Details>>,
    pub(crate) given_at: i64,
    /// The end of validity as given; `valid_until` moves with renewals.
    pub(crate) given_until: i64,
    /// The policy version that ended this consent by requiring re-consent, and the
    /// purposes it ended (those not already withdrawn by the subject): set once, and few
    /// consents are ever ended so; a pointer's room here.
    invalidated_by: OnceBox<(PolicyVersion, u64)>,
    /// The ledger's clock and audit log, for what is done with tokens issued on this
    /// consent and the data they collect.
    pub(crate) services: Arc<Services>,
}

/// How a consent was given, where its record's `method` does not say it all. Nearly every
/// consent is electronic or implied, given by the subject, naming no recipient, with no
/// evidence, and its record holds that in a byte. A written one's digest sits here, and
/// what fewer still carry (evidence; a representative's names and the recipients) in
/// boxes of their own, so that a written consent costs the allocator's 64-byte class.
struct Details {
    form: ConsentForm,
    evidence: Option<Box<Evidence>>,
    rare: Option<Box<Rare>>,
}

/// Who gave a consent, where not its subject, and the recipients it names.
struct Rare {
    given_by: GivenBy,
    /// Recipients the subject agreed to by name.
    recipients: Vec<String>,
}

/// Who gave a consent without [`Rare`] details.
static BY_SUBJECT: GivenBy = GivenBy::Subject;

impl Details {
    /// A record's `method` and `details` for a consent given so.
    fn of(
        form: ConsentForm,
        given_by: GivenBy,
        recipients: Vec<String>,
        evidence: Option<Evidence>,
    ) -> (Option<ElectronicMethod>, Option<Box<Self>>) {
        let plain = matches!(given_by, GivenBy::Subject) && recipients.is_empty();
        match (form, plain, evidence) {
            (ConsentForm::Electronic { method }, true, None) => (Some(method), None),
            (ConsentForm::Implied, true, None) => (None, None),
            (form, plain, evidence) => (
                None,
                Some(Box::new(Self {
                    form,
                    evidence: evidence.map(Box::new),
                    rare: (!plain).then(|| {
                        Box::new(Rare {
                            given_by,
                            recipients,
                        })
                    }),
                })),
            ),
        }
    }
}

/// What many consents share: the lists of purposes and categories they name and the policy
/// version they were given under, one allocation for the records that hold the same (the
/// ledger shares up to 64; each lane of a replay keeps its own copies).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) purposes: Arc<[Purpose]>,
    /// Each category with whether it was special when granted.
    pub(crate) categories: Arc<[(CategoryId, bool)]>,
    pub(crate) policy_version: PolicyVersion,
}

/// What the ledger shares with the records, tokens and data it leads to: one allocation,
/// so a `PersonalData` holds one pointer for both.
pub(crate) struct Services {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) audit: Option<Arc<AuditLog>>,
    /// The register that owes the notice of every record collected from a third party with
    /// a token of this ledger: set once, by the register, which sits in a layer above.
    pub(crate) collections: OnceLock<Arc<dyn CollectionNotices>>,
    /// The read counts of the tokens issued with a log to report to, live or forgotten.
    read_counts: Mutex<ReadCounts>,
}

/// A record just collected from a third party, as the register that owes its notice needs
/// it: everything but the value.
#[derive(Debug)]
pub(crate) struct Collected<'a> {
    pub(crate) record: RecordId,
    pub(crate) subject: &'a SubjectId,
    pub(crate) category: CategoryId,
    pub(crate) purpose: &'a Purpose,
    pub(crate) source: &'a Source,
    pub(crate) at: chrono::DateTime<chrono::Utc>,
}

/// The register that owes the subject a notice of every record a third party gave
/// (Tajik law Art. 21.1): a [`Disclosures`](crate::disclosure::Disclosures), which sits
/// above the records it hears of, and so is reached through the ledger, as its audit log is.
pub(crate) trait CollectionNotices: Send + Sync {
    /// Owes the notice of `collected`, once per record; `log` is the collecting ledger's.
    fn collected(&self, collected: &Collected<'_>, log: Option<&Arc<AuditLog>>);

    /// Keeps that `subject`'s `record` was made public, as the register keeps it for a
    /// record an operator holds: a statement made on a copy fetched from an operator's
    /// store is the operator's record of it, not the copy's alone.
    ///
    /// # Errors
    ///
    /// As the register's: [`Error::BlankPublication`], [`Error::AuditUnavailable`] or
    /// [`Error::NotStored`], nothing changed.
    fn keep_publication(
        &self,
        record: crate::vocab::ids::RecordId,
        subject: &SubjectId,
        publication: crate::vocab::register::Publication,
        actor: Option<&crate::vocab::Actor>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), Error>;
}

/// The read counts a ledger holds, pruned of dropped tokens' as it grows.
#[derive(Default)]
struct ReadCounts {
    counts: Vec<Arc<ReadCount>>,
    /// Prune when there are this many: twice what was left at the last pruning, so that
    /// registering stays constant time on average.
    prune_at: usize,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("audit", &self.audit.is_some())
            .field("collections", &self.collections.get().is_some())
            .finish_non_exhaustive()
    }
}

impl Services {
    pub(crate) fn new(clock: Arc<dyn Clock>, audit: Option<Arc<AuditLog>>) -> Self {
        Self {
            clock,
            audit,
            collections: OnceLock::new(),
            read_counts: Mutex::default(),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, ReadCounts> {
        self.read_counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a token's read count, so the ledger can report it even if the token
    /// itself is never dropped.
    pub(crate) fn count_reads(&self, event: AuditEvent) -> Arc<ReadCount> {
        let count = Arc::new(ReadCount::new(event));
        let mut counts = self.counts();
        counts.counts.push(Arc::clone(&count));
        if counts.counts.len() >= counts.prune_at {
            // A dropped token reported its own reads; only the ledger holds its count.
            counts.counts.retain(|c| Arc::strong_count(c) > 1);
            counts.prune_at = (counts.counts.len() * 2).max(64);
        }
        count
    }

    /// Reports the reads counted since the last report by every token with a count here.
    pub(crate) fn flush_reads(&self) {
        let mut counts = self.counts();
        for count in &counts.counts {
            count.report(self);
        }
        counts.counts.retain(|c| Arc::strong_count(c) > 1);
        counts.prune_at = (counts.counts.len() * 2).max(64);
    }
}

impl ConsentRecord {
    /// The purposes it names, in the order given.
    #[inline]
    pub(crate) fn purposes(&self) -> &[Purpose] {
        &self.shape.purposes
    }

    /// The categories it covers, each with whether it was special when granted.
    #[inline]
    pub(crate) fn categories(&self) -> &[(CategoryId, bool)] {
        &self.shape.categories
    }

    /// The policy version it was given under.
    pub(crate) fn policy_version(&self) -> &PolicyVersion {
        &self.shape.policy_version
    }

    /// The form it was given in.
    pub(crate) fn form(&self) -> ConsentForm {
        match (&self.details, self.method) {
            (Some(details), _) => details.form.clone(),
            (None, Some(method)) => ConsentForm::Electronic { method },
            (None, None) => ConsentForm::Implied,
        }
    }

    /// Who gave it.
    pub(crate) fn given_by(&self) -> &GivenBy {
        self.rare().map_or(&BY_SUBJECT, |rare| &rare.given_by)
    }

    fn rare(&self) -> Option<&Rare> {
        self.details.as_deref()?.rare.as_deref()
    }

    /// The recipients the subject agreed to by name.
    pub(crate) fn recipients(&self) -> &[String] {
        self.rare().map_or(&[], |rare| &rare.recipients)
    }

    /// What proves it was given.
    pub(crate) fn evidence(&self) -> Option<&Evidence> {
        self.details.as_deref()?.evidence.as_deref()
    }

    pub(crate) fn is_withdrawn(&self, purpose: usize) -> bool {
        self.withdrawn.load(Ordering::Acquire) & (1 << purpose) != 0
    }

    /// The policy version that ended `purpose` of this consent, if a policy did rather
    /// than the subject.
    pub(crate) fn ended_by_policy(&self, purpose: usize) -> Option<PolicyVersion> {
        self.invalidated_by
            .get()
            .filter(|ended| ended.1 & (1 << purpose) != 0)
            .map(|ended| ended.0.clone())
    }

    /// Records that policy `version` ended the consent's purposes of `open`, unless a
    /// policy ended it before.
    pub(super) fn invalidate(&self, version: PolicyVersion, open: u64) {
        let _ = self.invalidated_by.set(Box::new((version, open)));
    }

    /// Whether the consent can still change (be withdrawn or renewed): not ended by a
    /// policy, not withdrawn for every purpose, not expired — checked in that order.
    pub(super) fn ensure_open(&self, now: i64) -> Result<(), Error> {
        if let Some(ended) = self.invalidated_by.get() {
            return Err(Error::ConsentInvalidated {
                consent: self.id,
                policy_version: ended.0.clone(),
            });
        }
        if (0..self.purposes().len()).all(|p| self.is_withdrawn(p)) {
            return Err(Error::AlreadyWithdrawn { consent: self.id });
        }
        let valid_until = self.valid_until.load(Ordering::Acquire);
        if now >= valid_until {
            return Err(Error::ConsentNotInForce {
                consent: self.id,
                expired_at: millis_to_time(valid_until),
            });
        }
        Ok(())
    }

    /// The electronic method that confirmed it, for an electronic consent.
    fn electronic_method(&self) -> Option<ElectronicMethod> {
        self.method.or_else(|| match self.details.as_deref()?.form {
            ConsentForm::Electronic { method } => Some(method),
            _ => None,
        })
    }

    /// Whether a legal representative gave it.
    pub(crate) fn by_representative(&self) -> bool {
        self.details
            .as_deref()
            .and_then(|d| d.rare.as_deref())
            .is_some_and(|rare| matches!(rare.given_by, GivenBy::LegalRepresentative { .. }))
    }

    /// The strength the law of `pack` gives the consent's form — worked out when a token
    /// is asked, so that a policy adopted under another pack changes it at once: a
    /// digitally signed consent is written where the pack counts it as an electronic
    /// document (ZRU-547 Art. 21, 24, 25), and a legal representative's consent weaker
    /// than writing counts for nothing where the pack asks writing of it (ZRU-547
    /// Art. 21) — `None` then.
    pub(crate) fn strength(&self, pack: Option<&JurisdictionPack>) -> Option<FormKind> {
        let Some(pack) = pack else {
            return Some(self.form_kind);
        };
        let mut kind = self.form_kind;
        if kind == FormKind::Electronic
            && !pack.electronic_document.is_empty()
            && self
                .electronic_method()
                .is_some_and(|m| pack.is_electronic_document(m))
        {
            kind = FormKind::Written;
        }
        if kind < FormKind::Written
            && pack.representative_written.is_some()
            && self.by_representative()
        {
            return None;
        }
        Some(kind)
    }

    /// Whether the consent names category `C`, and whether it needs written consent: when
    /// either the type asking or the type the consent was granted for says so, so that a
    /// user category reusing a special category's id can't weaken the rule.
    pub(super) fn covers<C: Category>(&self) -> Option<bool> {
        self.categories()
            .iter()
            .find(|(id, _)| *id == C::ID)
            .map(|&(_, special)| special || C::SPECIAL)
    }
}

/// One bit for each purpose of `record`.
pub(super) fn purposes_mask(record: &ConsentRecord) -> u64 {
    u64::MAX >> (64 - record.purposes().len())
}

/// Marks as withdrawn the purposes of `record` that `pick` selects and that were not yet
/// withdrawn; returns them.
pub(super) fn withdraw_purposes(
    record: &ConsentRecord,
    pick: impl Fn(&Purpose) -> bool,
) -> Vec<Purpose> {
    let mask = record
        .purposes()
        .iter()
        .enumerate()
        .filter(|(_, p)| pick(p))
        .fold(0_u64, |mask, (i, _)| mask | 1 << i);
    // Every later read of the flags sees this store (coherence); AcqRel orders it with the
    // event pushed after it, for a caller that then tells other threads the withdrawal is
    // done.
    let newly = mask & !record.withdrawn.fetch_or(mask, Ordering::AcqRel);
    record
        .purposes()
        .iter()
        .enumerate()
        .filter(|(i, _)| newly & (1 << i) != 0)
        .map(|(_, p)| p.clone())
        .collect()
}

/// The journal's form of a consent as given.
pub(super) fn given_of(record: &ConsentRecord) -> Given {
    Given {
        consent: record.id,
        subject: record.subject.clone(),
        at: millis_to_time(record.given_at),
        purposes: record.purposes().to_vec(),
        categories: record.categories().to_vec(),
        form: record.form(),
        given_by: record.given_by().clone(),
        policy_version: record.policy_version().clone(),
        evidence: record.evidence().cloned(),
        recipients: record.recipients().to_vec(),
        cross_border: record.cross_border,
        valid_until: end(record.given_until),
    }
}

// Records made from the journal's form of a consent, by granting and by replay.
impl ConsentLedger {
    /// `version`, as the copy the policy in force holds if it is that one's: nearly every
    /// consent is given under it, and a replay reads a copy for each.
    pub(super) fn shared_version(&self, version: PolicyVersion) -> PolicyVersion {
        let terms = self.terms.load();
        if terms.version == version {
            terms.version.clone()
        } else {
            version
        }
    }

    /// `given`'s terms, its lists and its version as the ledger shares them.
    pub(super) fn terms_of(&self, given: Given) -> RecordTerms {
        let shape = self.vocabulary.shapes.share(Shape {
            purposes: self.vocabulary.purpose_lists.share_list(given.purposes),
            categories: self.vocabulary.category_lists.share_list(given.categories),
            policy_version: self.shared_version(given.policy_version),
        });
        RecordTerms {
            consent: given.consent,
            subject: given.subject,
            at: given.at,
            shape,
            form: given.form,
            given_by: given.given_by,
            evidence: given.evidence,
            recipients: given.recipients,
            cross_border: given.cross_border,
            valid_until: given.valid_until,
        }
    }

    /// The record of a consent given on `terms`.
    pub(super) fn record_of(&self, terms: RecordTerms) -> Arc<ConsentRecord> {
        let given_until = terms.valid_until.map_or(NEVER, |t| t.timestamp_millis());
        let form_kind = terms.form.kind();
        let (method, details) =
            Details::of(terms.form, terms.given_by, terms.recipients, terms.evidence);
        Arc::new(ConsentRecord {
            id: terms.consent,
            subject: terms.subject,
            withdrawn: AtomicU64::new(0),
            form_kind,
            method,
            invalidated_by: OnceBox::new(),
            shape: terms.shape,
            details,
            cross_border: terms.cross_border,
            given_at: terms.at.timestamp_millis(),
            given_until,
            valid_until: AtomicI64::new(given_until),
            services: Arc::clone(&self.services),
        })
    }
}

/// A consent as given, its lists of purposes and categories and its policy version as the
/// ledger shares them: what a record is made of, from a grant, a journal or a snapshot.
pub(super) struct RecordTerms {
    pub(super) consent: ConsentId,
    pub(super) subject: SubjectId,
    pub(super) at: chrono::DateTime<chrono::Utc>,
    /// Its lists and policy version.
    pub(super) shape: Arc<Shape>,
    pub(super) form: ConsentForm,
    pub(super) given_by: GivenBy,
    pub(super) evidence: Option<Evidence>,
    pub(super) recipients: Vec<String>,
    pub(super) cross_border: bool,
    pub(super) valid_until: Option<chrono::DateTime<chrono::Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::tests::{ledger, otp};
    use crate::vocab::DocumentHash;

    fn given(form: ConsentForm, given_by: GivenBy, evidence: Option<Evidence>) -> Given {
        Given {
            consent: ConsentId::random(),
            subject: SubjectId::new("cust-1").unwrap(),
            at: millis_to_time(1_700_000_000_123),
            purposes: vec![Purpose::SERVICE_PROVISION],
            categories: vec![(CategoryId::new("phone"), false)],
            form,
            given_by,
            policy_version: PolicyVersion::new("t").unwrap(),
            evidence,
            recipients: Vec::new(),
            cross_border: false,
            valid_until: None,
        }
    }

    #[test]
    fn a_record_gives_back_every_form_giver_evidence_and_recipient_it_was_made_with() {
        let representative = GivenBy::LegalRepresentative {
            name: "Guardian".into(),
            basis: "decision 12".into(),
        };
        let otp_evidence = Evidence::OneTimePassword {
            challenge_id: "sms-1".into(),
            confirmed_at: millis_to_time(1_700_000_000_000),
        };
        let written = ConsentForm::Written {
            document_sha256: DocumentHash::of(b"signed"),
        };
        let mut named = given(otp(), GivenBy::Subject, None);
        named.recipients = vec!["credit-bureau".into()];
        named.cross_border = true;
        named.valid_until = Some(millis_to_time(1_800_000_000_000));
        let cases = [
            given(otp(), GivenBy::Subject, None),
            given(ConsentForm::Implied, GivenBy::Subject, None),
            given(otp(), GivenBy::Subject, Some(otp_evidence)),
            given(written, GivenBy::Subject, None),
            given(ConsentForm::Implied, representative, None),
            named,
        ];
        let ledger = ledger();
        for case in cases {
            let record = ledger.record_of(ledger.terms_of(case.clone()));
            assert_eq!(given_of(&record), case);
        }
    }

    /// A million records are a million of these: what is shared or rare is behind a
    /// pointer, so that the usual one with its two reference counts asks the allocator for
    /// 120 bytes (glibc's 128-byte chunk), and a written consent's details for 56 (its
    /// 64-byte chunk).
    #[test]
    fn a_record_stays_small() {
        assert!(
            size_of::<ConsentRecord>() <= 104,
            "{} bytes",
            size_of::<ConsentRecord>()
        );
        assert!(size_of::<Details>() <= 56, "{} bytes", size_of::<Details>());
    }
}
