//! The proof that a processing is allowed right now.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use super::{BasisUse, ConsentId, ConsentRecord, Services};
use crate::Error;
use crate::audit::{AuditEvent, AuditLog};
use crate::category::Named;
use crate::category::{Category, CategoryId};
use crate::clock::{Clock, millis_to_time};
use crate::vocab::{Actor, LegalBasis, PolicyVersion, Purpose, SubjectId};

/// Proof, checked when it was issued, that subject S allowed purpose P on category `C`
/// under policy version V — or that a legal basis other than consent covers it — until a
/// short expiry.
///
/// Only [`ConsentLedger::authorize`](crate::ConsentLedger::authorize) and
/// [`ConsentLedger::authorize_with_basis`](crate::ConsentLedger::authorize_with_basis) make
/// one. It can't be cloned, serialized or built by hand, so it can't outlive the process
/// that checked it or be forged; and it stays tied to the consent it came from, so a
/// withdrawal makes it fail at its next use, at once.
///
/// Its `Debug` shows who, what and until when — never any personal value, since a token
/// holds none.
#[must_use = "a token is only useful to read or collect data with"]
pub struct ConsentToken<C: Category> {
    grounds: Grounds,
    expires_at: i64,
    /// Set when an audit log or a monitor watches the ledger, or the caller named itself:
    /// boxed, so that a token of an unwatched ledger stays three words.
    observed: Option<Box<Observed>>,
    // `fn() -> C` keeps the token Send + Sync whatever the marker type is.
    category: PhantomData<fn() -> C>,
}

/// What a watched token carries besides its grounds.
struct Observed {
    actor: Option<Actor>,
    /// The token's read count, shared with its ledger; `None` when the ledger keeps no
    /// log to report it to.
    reads: Option<(Arc<Services>, Arc<ReadCount>)>,
}

/// How many values a token opened, counted as they happen (a relaxed add) and reported
/// to the audit log as one entry: when the token drops, or when its ledger flushes the
/// counts it holds — so reads through a token that is never dropped (`mem::forget`) are
/// still on the record.
pub(crate) struct ReadCount {
    reads: AtomicU64,
    /// The entry the count goes into.
    event: AuditEvent,
}

impl ReadCount {
    pub(crate) fn new(event: AuditEvent) -> Self {
        Self {
            reads: AtomicU64::new(0),
            event,
        }
    }

    /// Reports the reads counted since the last report, if any.
    pub(crate) fn report(&self, services: &Services) {
        let count = self.reads.swap(0, Ordering::Relaxed);
        if count == 0 {
            return;
        }
        if let Some(log) = &services.audit {
            let mut event = self.event.clone();
            if let AuditEvent::Reads { count: slot, .. } = &mut event {
                *slot = count;
            }
            // Nothing to refuse any more: the reads happened. A failed log stops itself
            // and refuses what comes next.
            let _ = log.record(services.clock.now(), event);
        }
    }
}

/// Reports what the token read: one audit entry per token, not per read, so a loop over a
/// million reads costs one entry. On `Observed` rather than on the token, so that dropping
/// a token of an unwatched ledger runs no code of ours.
impl Drop for Observed {
    fn drop(&mut self) {
        if let Some((services, count)) = &self.reads {
            count.report(services);
        }
    }
}

pub(crate) enum Grounds {
    Consent {
        record: Arc<ConsentRecord>,
        purpose: usize,
    },
    Basis(Arc<BasisUse>),
}

impl<C: Category> ConsentToken<C> {
    pub(crate) fn new(grounds: Grounds, expires_at: i64) -> Self {
        Self {
            grounds,
            expires_at,
            observed: None,
            category: PhantomData,
        }
    }

    /// Whose data this token opens.
    pub fn subject(&self) -> &SubjectId {
        match &self.grounds {
            Grounds::Consent { record, .. } => &record.subject,
            Grounds::Basis(basis) => &basis.subject,
        }
    }

    /// The category it opens.
    pub fn category(&self) -> CategoryId {
        C::ID
    }

    /// For which purpose.
    pub fn purpose(&self) -> &Purpose {
        match &self.grounds {
            Grounds::Consent { record, purpose } => &record.purposes()[*purpose],
            Grounds::Basis(basis) => &basis.purpose,
        }
    }

    /// The policy version the consent (or the basis) was checked under.
    pub fn policy_version(&self) -> &PolicyVersion {
        match &self.grounds {
            Grounds::Consent { record, .. } => record.policy_version(),
            Grounds::Basis(basis) => &basis.policy_version,
        }
    }

    /// The consent this token stands on, or `None` when it stands on another legal basis.
    pub fn consent(&self) -> Option<ConsentId> {
        match &self.grounds {
            Grounds::Consent { record, .. } => Some(record.id),
            Grounds::Basis(_) => None,
        }
    }

    /// The legal basis this token stands on: [`LegalBasis::Consent`] or the basis (with its
    /// reference) it was issued under.
    pub fn legal_basis(&self) -> &LegalBasis {
        match &self.grounds {
            Grounds::Consent { .. } => &LegalBasis::Consent,
            Grounds::Basis(basis) => &basis.basis,
        }
    }

    /// When the token stops being valid.
    pub fn expires_at(&self) -> DateTime<Utc> {
        millis_to_time(self.expires_at)
    }

    /// The strength `pack`'s law gives the consent the token stands on, as `authorize`
    /// weighed it; `None` for a token on another legal basis, or a consent that counts for
    /// nothing under the pack.
    pub(crate) fn consent_strength(
        &self,
        pack: &crate::policy::JurisdictionPack,
    ) -> Option<crate::vocab::FormKind> {
        match &self.grounds {
            Grounds::Consent { record, .. } => record.strength(Some(pack)),
            Grounds::Basis(_) => None,
        }
    }

    /// Whether the consent behind the token names `recipient` (Art. 21 exemption).
    pub(crate) fn consented_to_recipient(&self, recipient: &str) -> bool {
        match &self.grounds {
            Grounds::Consent { record, .. } => record.recipients().iter().any(|r| r == recipient),
            Grounds::Basis(_) => false,
        }
    }

    /// Whether the consent behind the token agrees to transfers abroad (Art. 18).
    pub(crate) fn consented_cross_border(&self) -> bool {
        match &self.grounds {
            Grounds::Consent { record, .. } => record.cross_border,
            Grounds::Basis(_) => false,
        }
    }

    /// Names who the token was issued to.
    pub(crate) fn issued_to(mut self, actor: Option<&Actor>) -> Self {
        let reads = self.audit_log().is_some().then(|| {
            let services = self.services();
            let count = services.count_reads(AuditEvent::Reads {
                subject: self.subject().clone(),
                purpose: self.purpose().clone(),
                category: C::NAME.into(),
                consent: self.consent(),
                actor: actor.cloned(),
                count: 0,
            });
            (services, count)
        });
        self.observed = Some(Box::new(Observed {
            actor: actor.cloned(),
            reads,
        }));
        self
    }

    /// Who the token was issued to, if the caller named itself.
    pub fn actor(&self) -> Option<&Actor> {
        self.observed.as_ref().and_then(|o| o.actor.as_ref())
    }

    /// The audit log of the ledger that issued the token, for what is done with it.
    pub(crate) fn audit_log(&self) -> Option<&Arc<AuditLog>> {
        match &self.grounds {
            Grounds::Consent { record, .. } => record.services.audit.as_ref(),
            Grounds::Basis(basis) => basis.services.audit.as_ref(),
        }
    }

    /// Counts one opening of a value, when the ledger keeps an audit log. Relaxed: the
    /// count is only ever taken whole, by a swap, when it is reported.
    #[inline]
    pub(crate) fn count_read(&self) {
        // Counted only where the count is going somewhere: a ledger with a monitor and
        // no audit log has nothing to write it to.
        if let Some(observed) = &self.observed
            && let Some((_, count)) = &observed.reads
        {
            count.reads.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The time on the token's clock.
    pub(crate) fn checked_at(&self) -> DateTime<Utc> {
        self.clock().now()
    }

    /// Re-checks the token now, for code that acts on it without reading data.
    pub(crate) fn still_valid(&self) -> Result<(), Error> {
        self.check().map(|_| ())
    }

    fn clock(&self) -> &dyn Clock {
        match &self.grounds {
            Grounds::Consent { record, .. } => &*record.services.clock,
            Grounds::Basis(basis) => &*basis.clock,
        }
    }

    /// The ledger's clock and audit log, for records collected with this token.
    pub(crate) fn services(&self) -> Arc<Services> {
        Arc::clone(self.ledger())
    }

    /// The services of the ledger that issued the token: their allocation is the ledger's
    /// identity, shared by its records and tokens, so checking it adds no bytes to either.
    #[inline]
    fn ledger(&self) -> &Arc<Services> {
        match &self.grounds {
            Grounds::Consent { record, .. } => &record.services,
            Grounds::Basis(basis) => &basis.services,
        }
    }

    /// Whether the ledger whose services are `services` issued this token. Records and
    /// operators ask before anything else: a token of a private ledger, or of an earlier
    /// instance of the operator, opens nothing of theirs.
    #[inline]
    pub(crate) fn issued_by(&self, services: &Arc<Services>) -> bool {
        Arc::ptr_eq(self.ledger(), services)
    }

    /// Checks the token is still good: not past its expiry and, for a consent, neither
    /// withdrawn nor expired. Returns the time it checked at, in milliseconds.
    #[inline]
    pub(crate) fn check(&self) -> Result<i64, Error> {
        let now = self.clock().now_millis();
        if now >= self.expires_at {
            return Err(self.refusal(Refusal::TokenExpired));
        }
        if let Grounds::Consent { record, purpose } = &self.grounds {
            // Acquire pairs with the Release store in `withdraw`: once withdraw has
            // returned, this load sees it.
            if record.is_withdrawn(*purpose) {
                return Err(self.refusal(Refusal::Withdrawn));
            }
            let valid_until = record.valid_until.load(Ordering::Acquire);
            if now >= valid_until {
                return Err(self.refusal(Refusal::ConsentExpired(valid_until)));
            }
        }
        Ok(now)
    }

    /// [`check`](Self::check) for data of the ledger whose services are `ledger`, in one
    /// pass over the token's grounds: `Err(None)` if another ledger issued the token. The
    /// read path's checks, so each arm loads its grounds once. It repeats `check`'s tests
    /// on purpose: sharing them through helpers that return `Result<(), Error>` cost the
    /// read path 7 to 8 more instructions a read (callgrind, `read_path` harness).
    #[inline]
    pub(crate) fn check_for(&self, ledger: &Arc<Services>) -> Result<i64, Option<Error>> {
        match &self.grounds {
            Grounds::Consent { record, purpose } => {
                if !Arc::ptr_eq(&record.services, ledger) {
                    return Err(None);
                }
                let now = record.services.clock.now_millis();
                if now >= self.expires_at {
                    return Err(Some(self.refusal(Refusal::TokenExpired)));
                }
                // Acquire pairs with the Release store in `withdraw`: once withdraw has
                // returned, this load sees it.
                if record.is_withdrawn(*purpose) {
                    return Err(Some(self.refusal(Refusal::Withdrawn)));
                }
                let valid_until = record.valid_until.load(Ordering::Acquire);
                if now >= valid_until {
                    return Err(Some(self.refusal(Refusal::ConsentExpired(valid_until))));
                }
                Ok(now)
            }
            Grounds::Basis(basis) => {
                if !Arc::ptr_eq(&basis.services, ledger) {
                    return Err(None);
                }
                let now = basis.clock.now_millis();
                if now >= self.expires_at {
                    return Err(Some(self.refusal(Refusal::TokenExpired)));
                }
                Ok(now)
            }
        }
    }

    #[cold]
    fn refusal(&self, why: Refusal) -> Error {
        let subject = self.subject().clone();
        let purpose = self.purpose().clone();
        let category = C::ID;
        let consent = self.consent();
        let ended_by = match &self.grounds {
            Grounds::Consent { record, purpose } => record.ended_by_policy(*purpose),
            Grounds::Basis(_) => None,
        };
        match (why, consent) {
            (Refusal::Withdrawn, Some(consent)) => match ended_by {
                Some(policy_version) => Error::ReconsentRequired {
                    subject,
                    purpose,
                    category,
                    consent,
                    policy_version,
                },
                None => Error::ConsentWithdrawn {
                    subject,
                    purpose,
                    category,
                    consent,
                },
            },
            (Refusal::ConsentExpired(at), Some(consent)) => Error::ConsentExpired {
                subject,
                purpose,
                category,
                consent,
                expired_at: millis_to_time(at),
            },
            _ => Error::TokenExpired {
                subject,
                purpose,
                category,
                expired_at: millis_to_time(self.expires_at),
            },
        }
    }
}

enum Refusal {
    TokenExpired,
    Withdrawn,
    ConsentExpired(i64),
}

impl<C: Category> fmt::Debug for ConsentToken<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsentToken")
            .field("category", &C::ID)
            .field("subject", self.subject())
            .field("purpose", self.purpose())
            .field("basis", &self.legal_basis().name())
            .field("consent", &self.consent())
            .field("policy_version", self.policy_version())
            .field("expires_at", &self.expires_at())
            .finish()
    }
}
