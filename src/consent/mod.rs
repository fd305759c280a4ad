//! Consent: who agreed to what, the history that proves it, and the tokens it grants.
//!
//! The [`ConsentLedger`] is an append-only record of consent events per subject. It answers
//! one question, fast — *may this purpose use this category of this subject's data right
//! now?* — with a [`ConsentToken`] or a typed [`Error`].

mod adopt;
mod authorize;
mod basis;
mod builder;
mod entry;
#[cfg(feature = "sqlite")]
mod forget;
mod grant;
mod granting;
mod history;
mod proof;
mod queries;
mod record;
mod replay;
mod token;
mod withdraw;

use std::fmt;
use std::sync::{Arc, RwLock};

use arc_swap::ArcSwap;
use dashmap::DashMap;
use dashmap::mapref::one::RefMut;
use foldhash::fast::RandomState;

pub use crate::vocab::ids::{ConsentId, ParseIdError};
pub use adopt::Adoption;
use basis::BasisUse;
pub use builder::LedgerBuilder;
use entry::SubjectEntry;
pub use grant::{Grant, NoCategory, NoPurpose, WithCategory, WithPurpose};
pub use history::{ConsentEvent, ConsentEventKind};
pub use proof::{ConsentProof, ProofError};
use record::ConsentRecord;
pub(crate) use record::{Collected, CollectionNotices, Services};
#[cfg(feature = "sqlite")]
pub(crate) use replay::ReplayLane;
pub use token::ConsentToken;
pub use withdraw::Withdrawal;
pub(crate) use withdraw::{Hearing, Listener};

use crate::Error;
use crate::audit::{self, AuditEvent, AuditLog, RefusalMonitor};
use crate::category::{Category, CategoryId};
use crate::clock::Clock;
use crate::event::Journaled;
use crate::policy::Policy;
use crate::vocab::{PolicyVersion, Purpose, SubjectId};
use history::Event;

/// "No end": a consent without `valid_until`.
const NEVER: i64 = i64::MAX;

/// The most purposes one consent may name: each has a bit in `ConsentRecord::withdrawn`.
const MAX_PURPOSES: usize = 64;

/// The append-only record of who consented to what, and the only issuer of
/// [`ConsentToken`]s.
///
/// In memory, `Send + Sync`: share one behind an `Arc` between all the threads that
/// process personal data. Lookups take a read lock on one shard of the subject map, so
/// authorizations for different subjects don't wait for each other.
///
/// ```
/// use amanat::{category::Phone, ConsentForm, ConsentLedger, Error, Grant, PersonalData,
///              PolicyVersion, Purpose, SubjectId, ElectronicMethod};
///
/// let ledger = ConsentLedger::new(PolicyVersion::new("2025-07-01")?);
/// let subject = SubjectId::new("cust-1")?;
/// let consent = ledger.grant(
///     Grant::new(subject.clone(), ConsentForm::Electronic { method: ElectronicMethod::OneTimePassword })
///         .purpose(Purpose::SERVICE_PROVISION)
///         .category::<Phone>(),
/// )?;
///
/// let token = ledger.authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)?;
/// let phone = PersonalData::collect(&subject, String::from("+998901234567"), &token)?;
/// assert_eq!(phone.read(&token)?.len(), 13);
///
/// ledger.withdraw(&consent)?;
/// assert!(matches!(phone.read(&token), Err(Error::ConsentWithdrawn { .. })));
/// # Ok::<(), amanat::Error>(())
/// ```
pub struct ConsentLedger {
    terms: ArcSwap<Terms>,
    /// Held for reading by `grant` and for writing by `adopt`, so that no consent is
    /// recorded under a version while a newer one that requires re-consent is adopted.
    adoption: RwLock<()>,
    clock: Arc<dyn Clock>,
    token_ttl_ms: i64,
    subjects: DashMap<SubjectId, SubjectEntry, RandomState>,
    consents: DashMap<ConsentId, Arc<ConsentRecord>, RandomState>,
    vocabulary: Vocabulary,
    audit: Option<Arc<AuditLog>>,
    monitor: Option<Arc<RefusalMonitor>>,
    services: Arc<Services>,
    journal: Option<Arc<Journaled>>,
    /// What hears every withdrawal: set by an operator, once, for its retention schedule.
    listener: std::sync::OnceLock<Arc<dyn withdraw::Listener>>,
}

/// The policy version in force, and the policy when there is one.
#[derive(Debug)]
struct Terms {
    version: PolicyVersion,
    policy: Option<Arc<Policy>>,
}

impl Terms {
    fn of(policy: Policy) -> Self {
        Self {
            version: policy.version().clone(),
            policy: Some(Arc::new(policy)),
        }
    }
}

/// The purposes the ledger has seen, one shared copy each, so that the strings `authorize`
/// compares are the same few allocations, warm in cache, however many consents name them;
/// and the lists of purposes and of categories consents name, one shared copy each: most
/// consents name one of a handful, and a record then holds a pointer to it, not a copy —
/// a pointer to one [`Shape`](record::Shape) of its lists and policy version.
#[derive(Default)]
struct Vocabulary {
    purposes: DashMap<Purpose, (), RandomState>,
    purpose_lists: SharedLists<Purpose>,
    category_lists: SharedLists<(CategoryId, bool)>,
    /// What records hold alike: the lists above and a policy version.
    shapes: Shared<record::Shape>,
}

impl Vocabulary {
    fn canonical(&self, purpose: Purpose) -> Purpose {
        if purpose.is_static() {
            return purpose;
        }
        self.purposes.entry(purpose).or_default().key().clone()
    }
}

/// How many distinct values a [`Shared`] keeps: a policy's consents name a few
/// combinations of its purposes and categories, and a caller naming ever new ones gets a
/// copy of its own past this, so that a look-up scans a short list.
const SHARED_LISTS: usize = 64;

/// Values shared by the records that hold them: read without a lock (a replay on two
/// threads looks one up for every consent), added to under one.
struct Shared<T: ?Sized> {
    known: ArcSwap<Vec<Arc<T>>>,
    adding: parking_lot::Mutex<()>,
}

/// Lists shared so.
type SharedLists<T> = Shared<[T]>;

impl<T: ?Sized> Default for Shared<T> {
    fn default() -> Self {
        Self {
            known: ArcSwap::from_pointee(Vec::new()),
            adding: parking_lot::Mutex::new(()),
        }
    }
}

impl<T: PartialEq> Shared<[T]> {
    /// The shared copy of `list`, made and kept if it is new and there is room.
    fn share_list(&self, list: Vec<T>) -> Arc<[T]> {
        self.find(|known| *known == *list)
            .unwrap_or_else(|| self.keep(list.into()))
    }

    /// The shared list `matches` picks, or else the one `make` makes, kept if there is
    /// room: a list the caller holds as something else (text) is made only if new.
    ///
    /// # Errors
    ///
    /// `make`'s.
    #[cfg(feature = "sqlite")]
    fn share_matching<E>(
        &self,
        matches: impl Fn(&[T]) -> bool,
        make: impl FnOnce() -> Result<Vec<T>, E>,
    ) -> Result<Arc<[T]>, E> {
        match self.find(matches) {
            Some(known) => Ok(known),
            None => Ok(self.keep(make()?.into())),
        }
    }
}

impl<T: ?Sized + PartialEq> Shared<T> {
    /// The shared copy of `value`, kept if it is new and there is room.
    fn share(&self, value: T) -> Arc<T>
    where
        T: Sized,
    {
        self.find(|known| *known == value)
            .unwrap_or_else(|| self.keep(Arc::new(value)))
    }

    fn find(&self, matches: impl Fn(&T) -> bool) -> Option<Arc<T>> {
        self.known
            .load()
            .iter()
            .find(|known| matches(known))
            .cloned()
    }

    /// `value`, or the equal one another thread kept meanwhile; kept if there is room.
    fn keep(&self, value: Arc<T>) -> Arc<T> {
        let _adding = self.adding.lock();
        let known = self.known.load_full();
        if let Some(found) = known.iter().find(|known| ***known == *value) {
            return Arc::clone(found);
        }
        if known.len() < SHARED_LISTS {
            let mut more = Vec::with_capacity(known.len() + 1);
            more.extend(known.iter().cloned());
            more.push(Arc::clone(&value));
            self.known.store(Arc::new(more));
        }
        value
    }
}

/// The reads of tokens still alive, or never dropped, are reported as the ledger goes.
impl Drop for ConsentLedger {
    fn drop(&mut self) {
        self.services.flush_reads();
    }
}

// What every concern of the ledger shares: its accessors, the audit of consent events,
// and the one way to lock a consent's subject.
impl ConsentLedger {
    /// Reports to the audit log every read made through this ledger's tokens since they
    /// were last reported. A token reports its reads when it drops; this reaches the
    /// tokens still alive and those that will never drop (`mem::forget`), so that no read
    /// escapes the record. Each read is a relaxed add to a counter the ledger holds, so the
    /// count is exact whenever it is taken. The ledger flushes when it drops, and an
    /// [`Operator`](crate::store::Operator) at every sweep; call it on a timer for a
    /// tighter record.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use amanat::audit::{AuditEvent, AuditLog};
    /// use amanat::category::Phone;
    /// use amanat::{ConsentForm, ConsentLedger, ElectronicMethod, Grant, PersonalData, PolicyVersion, Purpose, SubjectId};
    ///
    /// let log = Arc::new(AuditLog::in_memory());
    /// let ledger = ConsentLedger::builder(PolicyVersion::new("v1")?).audit(Arc::clone(&log)).build();
    /// let subject = SubjectId::new("cust-1")?;
    /// ledger.grant(Grant::new(subject.clone(), ConsentForm::Electronic { method: ElectronicMethod::OneTimePassword })
    ///     .purpose(Purpose::SERVICE_PROVISION).category::<Phone>())?;
    /// let token = ledger.authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)?;
    /// let phone = PersonalData::collect(&subject, String::from("+998901234567"), &token)?;
    /// phone.with(&token, |_| ())?;
    /// std::mem::forget(token);
    /// ledger.flush_reads();
    /// assert!(log.entries()?.iter().any(|e| matches!(e.event, AuditEvent::Reads { count: 1, .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush_reads(&self) {
        self.services.flush_reads();
    }

    /// Whether this ledger issued `token`. Every door that takes a token asks: a token of
    /// a private ledger, another operator's, or an earlier instance of this operator
    /// opens nothing here.
    pub(crate) fn issued<C: Category>(&self, token: &ConsentToken<C>) -> bool {
        token.issued_by(&self.services)
    }

    /// Removes the entry of `subject` made for an action the audit log then refused, if
    /// nothing else has been recorded for the subject meanwhile.
    #[cold]
    fn forget_if_empty(&self, subject: &SubjectId) {
        self.subjects
            .remove_if(subject, |_, entry| entry.is_empty());
    }

    /// Whether an audit log or a refusal monitor watches what the ledger decides.
    fn watched(&self) -> bool {
        self.audit.is_some() || self.monitor.is_some()
    }

    /// The audit log the ledger records in, if it was given one.
    pub fn audit_log(&self) -> Option<&Arc<AuditLog>> {
        self.audit.as_ref()
    }

    /// Keeps an event of `record` as a change — in the audit log and the journal,
    /// whichever the ledger has, or once in a journal that is its own audit trail — at the
    /// time the event carries. `retention` marks a withdrawal the retention schedule heard
    /// of in the same call.
    ///
    /// An event that protects the subject (a withdrawal, an invalidation) has taken effect
    /// before this is called and stands whatever it returns: it is journaled even when the
    /// audit log can't record it, a failure stops the log or the journal, and what widens
    /// processing is refused next.
    ///
    /// # Errors
    ///
    /// [`Error::AuditUnavailable`] if the audit log can't record a grant or a renewal;
    /// [`Error::NotStored`] if the journal can't keep the event.
    fn keep_event(
        &self,
        record: &ConsentRecord,
        event: &Event,
        retention: bool,
    ) -> Result<(), Error> {
        if self.audit.is_none() && self.journal.is_none() {
            return Ok(());
        }
        let public = history::public(event);
        let digest = public.digest();
        let (subject, consent) = (record.subject.clone(), record.id);
        let change = match event {
            Event::Given(_) => AuditEvent::ConsentGiven {
                given: Box::new(record::given_of(record)),
                digest,
            },
            Event::Renewed { valid_until, .. } => AuditEvent::ConsentRenewed {
                subject,
                consent,
                valid_until: history::end(*valid_until),
                digest,
            },
            Event::Withdrawn { purposes, .. } => AuditEvent::ConsentWithdrawn {
                subject,
                consent,
                purposes: purposes.clone(),
                retention,
                digest,
            },
            Event::Invalidated { by, .. } => AuditEvent::ConsentInvalidated {
                subject,
                consent,
                by: by.clone(),
                digest,
            },
            // A basis used is kept where it is made, with the actor and the category.
            Event::BasisUsed(_) => return Ok(()),
        };
        let stands = if matches!(event, Event::Withdrawn { .. } | Event::Invalidated { .. }) {
            audit::Stands::Regardless
        } else {
            audit::Stands::IfRecorded
        };
        audit::change(
            self.audit.as_ref(),
            self.journal.as_deref(),
            public.at,
            change,
            stands,
        )
    }

    /// The ledger's clock.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// Has `register` owe the notice of every record collected from a third party with a
    /// token of this ledger, from now on. Once: a second register is refused.
    pub(crate) fn owe_collections_in(
        &self,
        register: Arc<dyn CollectionNotices>,
    ) -> Result<(), Arc<dyn CollectionNotices>> {
        self.services.collections.set(register)
    }

    /// Has `listener` hear every withdrawal from now on, whichever call makes it, and
    /// journals each as heard. Once: a second listener is refused and handed back.
    pub(crate) fn heard_by(&self, listener: Arc<dyn Listener>) -> Result<(), Arc<dyn Listener>> {
        self.listener.set(listener)
    }

    /// The consent's record, and its subject's entry locked for writing. The id map's guard
    /// is released before the subject map is locked (see `grant` for the one lock order).
    fn lock_consent(
        &self,
        consent: &ConsentId,
    ) -> Result<(Arc<ConsentRecord>, RefMut<'_, SubjectId, SubjectEntry>), Error> {
        let unknown = || Error::UnknownConsent { consent: *consent };
        let record = self
            .consents
            .get(consent)
            .map(|r| Arc::clone(r.value()))
            .ok_or_else(unknown)?;
        let entry = self.subjects.get_mut(&record.subject).ok_or_else(unknown)?;
        Ok((record, entry))
    }
}

/// Counts, not contents: a ledger's `Debug` goes into logs.
impl fmt::Debug for ConsentLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let terms = self.terms.load();
        f.debug_struct("ConsentLedger")
            .field("policy_version", &terms.version)
            .field("enforces_policy", &terms.policy.is_some())
            .field("clock", &self.clock)
            .field("token_ttl_ms", &self.token_ttl_ms)
            .field("subjects", &self.subjects.len())
            .field("consents", &self.consents.len())
            .field("purposes", &self.vocabulary.purposes.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit;
    use crate::category::Phone;
    use crate::vocab::{ConsentForm, ElectronicMethod};

    // Shared with the tests of the files beside this one.
    pub(super) fn ledger() -> ConsentLedger {
        ConsentLedger::new(PolicyVersion::new("t").unwrap())
    }

    pub(super) fn otp() -> ConsentForm {
        ConsentForm::Electronic {
            method: ElectronicMethod::OneTimePassword,
        }
    }

    #[test]
    fn consents_naming_the_same_purposes_share_one_list_and_past_the_bound_get_their_own() {
        let lists = SharedLists::default();
        let list = |n: usize| vec![Purpose::new(format!("purpose_{n}")).unwrap()];
        let first = lists.share_list(list(0));
        let again = lists.share_list(list(0));
        assert!(Arc::ptr_eq(&first, &again));
        for n in 1..SHARED_LISTS {
            lists.share_list(list(n));
        }
        let past = lists.share_list(list(SHARED_LISTS));
        assert_eq!(*past, *list(SHARED_LISTS));
        assert!(!Arc::ptr_eq(&past, &lists.share_list(list(SHARED_LISTS))));
        assert_eq!(lists.known.load().len(), SHARED_LISTS);
        assert!(Arc::ptr_eq(&first, &lists.share_list(list(0))));
    }

    #[test]
    fn consents_given_alike_share_one_shape_and_the_usual_record_fits_its_class() {
        let ledger = ledger();
        let give = |n: usize| {
            ledger
                .grant(
                    crate::Grant::new(SubjectId::new(format!("cust-{n}")).unwrap(), otp())
                        .purpose(Purpose::SERVICE_PROVISION)
                        .category::<crate::category::Phone>(),
                )
                .unwrap()
        };
        let (first, second) = (give(1), give(2));
        let record = |id| Arc::clone(ledger.consents.get(&id).unwrap().value());
        assert!(Arc::ptr_eq(&record(first).shape, &record(second).shape));
        assert_eq!(ledger.vocabulary.shapes.known.load().len(), 1);
    }

    /// Every write to `/dev/full` fails with "no space left": the log fails at its first
    /// sync, the second append.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_audit_log_refuses_what_widens_and_still_lets_the_subject_withdraw() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let ledger = ConsentLedger::builder(PolicyVersion::new("t").unwrap())
            .audit(Arc::new(AuditLog::writing_to(full, 2)))
            .build();
        let subject = SubjectId::new("s").unwrap();
        let grant = || {
            Grant::new(subject.clone(), otp())
                .purpose(Purpose::SERVICE_PROVISION)
                .category::<Phone>()
        };
        let consent = ledger.grant(grant()).unwrap();
        // The entry for this token can't reach the disk: no token.
        assert!(matches!(
            ledger.authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION),
            Err(Error::AuditUnavailable(audit::AuditError::Io(_)))
        ));
        // Withdrawal is the subject's right: done all the same.
        ledger.withdraw(&consent).unwrap();
        // The log has stopped: a new consent is refused and not recorded.
        assert!(matches!(
            ledger.grant(grant()),
            Err(Error::AuditUnavailable(audit::AuditError::Stopped(_)))
        ));
        assert_eq!(ledger.consents_of(&subject), [consent]);
        // A newcomer refused that way leaves no empty entry behind.
        let newcomer = SubjectId::new("t").unwrap();
        assert!(
            ledger
                .grant(
                    Grant::new(newcomer.clone(), otp())
                        .purpose(Purpose::SERVICE_PROVISION)
                        .category::<Phone>()
                )
                .is_err()
        );
        assert!(ledger.subjects.get(&newcomer).is_none());
    }

    #[test]
    fn consents_share_one_copy_of_each_purpose() {
        let ledger = ledger();
        for n in 0..3 {
            ledger
                .grant(
                    Grant::new(SubjectId::new(format!("s{n}")).unwrap(), otp())
                        .purpose(Purpose::new("loyalty_programme").unwrap())
                        .purpose(Purpose::CREDIT_SCORING)
                        .category::<Phone>(),
                )
                .unwrap();
        }
        let records: Vec<_> = ledger
            .consents
            .iter()
            .map(|r| Arc::clone(r.value()))
            .collect();
        let first = records[0].purposes()[0].as_str();
        assert!(
            records
                .iter()
                .all(|r| std::ptr::eq(r.purposes()[0].as_str(), first))
        );
        assert_eq!(ledger.vocabulary.purposes.len(), 1);
    }
}
