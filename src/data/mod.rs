//! Personal data itself: a value that opens only to a consent token.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use parking_lot::{MappedRwLockReadGuard, RwLock, RwLockReadGuard};
use secrecy::{ExposeSecret, SecretBox};
use serde::Serialize;
use zeroize::Zeroize;

use crate::Error;
use crate::audit::{self, AuditEvent, AuditLog};
use crate::category::Named;
use crate::category::{Category, CategoryId};
use crate::clock::{Clock, millis_to_time};
use crate::consent::{Collected, ConsentToken, Services};
use crate::depersonalize::{Depersonalize, Depersonalized, Pseudonym, PseudonymKey};
use crate::vocab::ids::HoldId;
pub use crate::vocab::ids::RecordId;
pub(crate) use retention_cell::{Refusal, RetentionCell};

mod retention_cell;
pub use crate::vocab::register::{Publication, PublishedBy, Source};
pub use crate::vocab::retention::DestructionReason;
use crate::vocab::{Actor, Purpose, SubjectId};

/// A value of personal data of category `C`, with who it belongs to, when and why it was
/// collected, and where it came from.
///
/// The value sits in [`secrecy`]'s heap storage and is zeroized when the record is dropped,
/// rectified or destroyed. The only ways to it are [`read`](Self::read) and
/// [`with`](Self::with), and both want a [`ConsentToken<C>`] — a token of the same
/// category, for the same subject, whose consent still holds.
///
/// Purpose limitation (Art. 8.2) is enforced when the token is issued: a token for any
/// purpose the subject consented to on this category opens the record, whatever purpose
/// it was collected for — a passport collected for identity verification may be read for
/// credit scoring exactly when the subject agreed to that.
///
/// Tracked by a [`RetentionSchedule`](crate::RetentionSchedule), it refuses consent-based
/// reads once its retention deadline has passed — a legal hold keeps it for the basis that
/// holds it, such as an anti-money-laundering request — and every read once the schedule
/// has destroyed it, when its value is zeroized in place even though this record is still
/// owned somewhere (a read in progress at that instant delays the zeroizing to the next
/// sweep). A tracked record's value sits behind a read lock for that, so its reads cost a
/// few nanoseconds more than an untracked one's.
///
/// There is no `Clone`, `Copy`, `Display` or `Serialize`; `Debug` prints the category and
/// `[REDACTED]`.
///
/// ```
/// use amanat::{category::Passport, ConsentForm, ConsentLedger, DocumentHash, Grant,
///              PersonalData, PolicyVersion, Purpose, SubjectId};
///
/// let ledger = ConsentLedger::new(PolicyVersion::new("2025-07-01")?);
/// let subject = SubjectId::new("cust-7")?;
/// ledger.grant(
///     Grant::new(subject.clone(), ConsentForm::Written {
///         document_sha256: DocumentHash::of(b"signed consent form"),
///     })
///     .purpose(Purpose::IDENTITY_VERIFICATION)
///     .category::<Passport>(),
/// )?;
///
/// let token = ledger.authorize::<Passport>(&subject, &Purpose::IDENTITY_VERIFICATION)?;
/// let passport = PersonalData::collect(&subject, String::from("AA1234567"), &token)?;
/// assert_eq!(format!("{passport:?}"), "PersonalData<identity_document>([REDACTED])");
/// let series = passport.with(&token, |number| number[..2].to_owned())?;
/// assert_eq!(series, "AA");
/// # Ok::<(), amanat::Error>(())
/// ```
///
/// Reading with a token of another category does not compile:
///
/// ```compile_fail
/// # use amanat::{category::{Passport, Phone}, ConsentToken, PersonalData};
/// fn peek(passport: &PersonalData<String, Passport>, token: &ConsentToken<Phone>) {
///     let _ = passport.read(token);
/// }
/// ```
pub struct PersonalData<T: Zeroize, C: Category> {
    value: Storage<T>,
    id: RecordId,
    subject: SubjectId,
    purpose: Purpose,
    collected_at: i64,
    source: Source,
    /// That its subject made it public, or had it made public (Tajik law Art. 21.3). Out
    /// of line: most records have none.
    published: Option<Box<Publication>>,
    /// The ledger's clock and audit log.
    services: Arc<Services>,
    blocked: AtomicBool,
    /// Set when a retention schedule tracks the record: its deadline and whether it was
    /// destroyed, as the schedule sees them.
    retention: OnceLock<Arc<RetentionCell>>,
    category: PhantomData<fn() -> C>,
}

impl<T: Zeroize, C: Category> PersonalData<T, C> {
    /// Collects `value` from `subject` — collecting is processing too, so it needs a token
    /// for this subject and category; its purpose becomes the purpose of collection.
    ///
    /// The value is moved into protected storage first, so that it is zeroized even when
    /// the collection is refused. (A copy that the caller or the compiler made before the
    /// call is out of reach: see the crate docs on what is and isn't guaranteed.)
    ///
    /// # Errors
    ///
    /// [`Error::SubjectMismatch`] if the token is for someone else; the token's own refusals
    /// ([`Error::TokenExpired`], [`Error::ConsentWithdrawn`], [`Error::ConsentExpired`]);
    /// [`Error::AuditUnavailable`] if the token's ledger keeps an audit log that can't
    /// record the collection.
    pub fn collect(subject: &SubjectId, value: T, token: &ConsentToken<C>) -> Result<Self, Error> {
        Self::collect_from(subject, value, Source::Subject, token)
    }

    /// Collects `value` about `subject` that came from `source`, such as a third party.
    ///
    /// Data a third party gave owes the subject a notice (Tajik law Art. 21.1): when the
    /// token's ledger has a register of transfers
    /// ([`Disclosures::hear_collections`](crate::disclosure::Disclosures::hear_collections);
    /// an [`Operator`](crate::store::Operator)'s always has), the notice is owed there as
    /// the record is collected, with no call of yours. Without one, it is owed when the
    /// record first reaches a register: kept by an operator, disclosed, or handed to
    /// [`collected_from_third_party`](crate::disclosure::Disclosures::collected_from_third_party).
    ///
    /// # Errors
    ///
    /// As [`collect`](Self::collect).
    pub fn collect_from(
        subject: &SubjectId,
        value: T,
        source: Source,
        token: &ConsentToken<C>,
    ) -> Result<Self, Error> {
        let value = Storage::Plain(SecretBox::new(Box::new(value)));
        let now = token.check()?;
        crate::category::claim::<C>()?;
        if token.subject() != subject {
            return Err(Error::SubjectMismatch {
                token_subject: token.subject().clone(),
                data_subject: subject.clone(),
                category: C::ID,
            });
        }
        let data = Self {
            value,
            id: RecordId::random(),
            subject: token.subject().clone(),
            purpose: token.purpose().clone(),
            collected_at: now,
            source,
            published: None,
            services: token.services(),
            blocked: AtomicBool::new(false),
            retention: OnceLock::new(),
            category: PhantomData,
        };
        // On failure `data` drops here, and its value is zeroized: a collection that
        // leaves no trace is not made.
        audit::record(data.services.audit.as_ref(), millis_to_time(now), || {
            AuditEvent::Collection {
                record: data.id,
                subject: data.subject.clone(),
                category: C::NAME.into(),
                actor: token.actor().cloned(),
                purpose: data.purpose.clone(),
                source: match &data.source {
                    Source::Subject => "subject",
                    Source::ThirdParty { .. } => "third_party",
                }
                .to_owned(),
            }
        })?;
        if matches!(data.source, Source::ThirdParty { .. })
            && let Some(register) = data.services.collections.get()
        {
            register.collected(
                &Collected {
                    record: data.id,
                    subject: &data.subject,
                    category: C::ID,
                    purpose: &data.purpose,
                    source: &data.source,
                    at: millis_to_time(now),
                },
                data.services.audit.as_ref(),
            );
        }
        Ok(data)
    }

    /// A record read back from a store, with its own id, purpose and collection time, for
    /// the subject of `token` — which the caller has checked the record belongs to.
    ///
    /// # Errors
    ///
    /// The token's own refusals, as [`read`](Self::read).
    pub(crate) fn restored(
        value: T,
        id: RecordId,
        purpose: Purpose,
        collected_at: i64,
        token: &ConsentToken<C>,
    ) -> Result<Self, Error> {
        let value = Storage::Plain(SecretBox::new(Box::new(value)));
        token.check()?;
        Ok(Self {
            value,
            id,
            subject: token.subject().clone(),
            purpose,
            collected_at,
            source: Source::Subject,
            published: None,
            services: token.services(),
            blocked: AtomicBool::new(false),
            retention: OnceLock::new(),
            category: PhantomData,
        })
    }

    /// Opens the value for as long as both the record and the token are borrowed.
    ///
    /// # Errors
    ///
    /// [`Error::TokenExpired`]; [`Error::ConsentWithdrawn`] or [`Error::ConsentExpired`] if
    /// the consent the token stands on no longer holds; [`Error::SubjectMismatch`] if the
    /// token is for another subject; [`Error::Blocked`] if the record is blocked.
    #[inline]
    pub fn read<'a>(&'a self, token: &'a ConsentToken<C>) -> Result<Exposed<'a, T>, Error> {
        self.check(token)?;
        token.count_read();
        match &self.value {
            Storage::Plain(value) => Ok(Exposed {
                value: Shown::Plain(value.expose_secret()),
            }),
            Storage::Tracked(vault) => RwLockReadGuard::try_map(vault.0.read(), |v| {
                v.as_ref().map(ExposeSecret::expose_secret)
            })
            .map(|guard| Exposed {
                value: Shown::Guarded(guard),
            })
            .map_err(|_| self.retention_error(Refusal::Destroyed)),
        }
    }

    /// Runs `f` on the value and returns what it returns. Prefer it to
    /// [`read`](Self::read): the value can't escape the closure by reference.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read); `f` is not called then.
    #[inline]
    pub fn with<R>(&self, token: &ConsentToken<C>, f: impl FnOnce(&T) -> R) -> Result<R, Error> {
        self.check(token)?;
        token.count_read();
        match &self.value {
            Storage::Plain(value) => Ok(f(value.expose_secret())),
            Storage::Tracked(vault) => match vault.0.read().as_ref() {
                Some(value) => Ok(f(value.expose_secret())),
                None => Err(self.retention_error(Refusal::Destroyed)),
            },
        }
    }

    #[inline]
    fn check(&self, token: &ConsentToken<C>) -> Result<(), Error> {
        let now = token
            .check_for(&self.services)
            .map_err(|refused| refused.unwrap_or_else(|| self.foreign(token)))?;
        if token.subject() != &self.subject {
            return Err(self.mismatch(token));
        }
        if self.blocked.load(Ordering::Acquire) {
            return Err(self.blocked_error());
        }
        if let Some(cell) = self.retention.get() {
            cell.admits(now, token.consent().is_some(), || token.purpose())
                .map_err(|why| self.retention_error(why))?;
        }
        Ok(())
    }

    #[cold]
    fn retention_error(&self, why: Refusal) -> Error {
        match why {
            Refusal::Destroyed => Error::RecordDestroyed {
                subject: self.subject.clone(),
                category: C::ID,
                record: self.id,
            },
            Refusal::Blocked => self.blocked_error(),
            Refusal::Expired(deadline) => Error::RetentionExpired {
                subject: self.subject.clone(),
                category: C::ID,
                record: self.id,
                deadline: millis_to_time(deadline),
            },
        }
    }

    /// Ties the record to a schedule's view of it. The schedule checked `is_tracked` under
    /// `&mut`, so no other schedule can have set it since.
    pub(crate) fn attach_retention(&self, cell: Arc<RetentionCell>) {
        let _ = self.retention.set(cell);
    }

    pub(crate) fn is_tracked(&self) -> bool {
        self.retention.get().is_some()
    }

    /// Refuses a token of another ledger, and records the attempt in this record's log:
    /// whoever holds such a token is not who the record's ledger answers to.
    #[cold]
    fn foreign(&self, token: &ConsentToken<C>) -> Error {
        // The refusal stands whether or not the log can take it.
        let _ = audit::record(
            self.services.audit.as_ref(),
            self.services.clock.now(),
            || AuditEvent::Authorization {
                actor: token.actor().cloned(),
                subject: self.subject.clone(),
                purpose: token.purpose().clone(),
                category: C::NAME.into(),
                granted: false,
                rule: Some("foreign_token".to_owned()),
                consent: None,
            },
        );
        Error::ForeignToken {
            subject: self.subject.clone(),
            category: C::ID,
            record: Some(self.id),
        }
    }

    #[cold]
    fn mismatch(&self, token: &ConsentToken<C>) -> Error {
        Error::SubjectMismatch {
            token_subject: token.subject().clone(),
            data_subject: self.subject.clone(),
            category: C::ID,
        }
    }

    /// The audit log of the ledger whose token collected the record, if it keeps one.
    pub(crate) fn audit_log(&self) -> Option<&Arc<AuditLog>> {
        self.services.audit.as_ref()
    }

    /// Records a change to the record in the audit log, when there is one.
    fn audit_change(&self, change: &str, actor: Option<&Actor>) -> Result<(), Error> {
        audit::record(
            self.services.audit.as_ref(),
            self.services.clock.now(),
            || AuditEvent::Change {
                record: self.id,
                subject: self.subject.clone(),
                category: C::NAME.into(),
                actor: actor.cloned(),
                change: change.to_owned(),
            },
        )
    }

    #[cold]
    fn blocked_error(&self) -> Error {
        Error::Blocked {
            subject: self.subject.clone(),
            category: C::ID,
            record: self.id,
        }
    }

    /// Replaces the value with a corrected one (Art. 8.4, 22.1; IMANUM §5.1); the old value
    /// is zeroized.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read); [`Error::AuditUnavailable`] if the audit log can't record
    /// the change. The new value is zeroized when the change is refused.
    pub fn rectify(&mut self, value: T, token: &ConsentToken<C>) -> Result<(), Error> {
        let value = SecretBox::new(Box::new(value));
        self.check(token)?;
        match &self.value {
            Storage::Plain(_) => {
                self.audit_change("rectified", token.actor())?;
                if let Storage::Plain(old) = &mut self.value {
                    *old = value;
                }
                Ok(())
            }
            Storage::Tracked(vault) => {
                let vault = Arc::clone(vault);
                // Held while the change is recorded, so the schedule can't destroy the
                // value between the record and the change.
                let mut slot = vault.0.write();
                if slot.is_none() {
                    // A destroyed record stays destroyed; the new value drops, zeroized.
                    return Err(self.retention_error(Refusal::Destroyed));
                }
                self.audit_change("rectified", token.actor())?;
                *slot = Some(value);
                Ok(())
            }
        }
    }

    /// The keyed pseudonym of the value (Art. 1, 19): the same value maps to the same
    /// pseudonym under one key and reveals nothing without it. Depersonalising is
    /// processing, so it needs a token like a read.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn pseudonymize(
        &self,
        token: &ConsentToken<C>,
        key: &PseudonymKey,
    ) -> Result<Depersonalized<Pseudonym>, Error>
    where
        T: Depersonalize,
    {
        self.with(token, |value| Depersonalized::new(key.pseudonym(value)))
    }

    /// The value masked by its type's rule (a card's first six and last four digits).
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn masked(&self, token: &ConsentToken<C>) -> Result<Depersonalized<String>, Error>
    where
        T: Depersonalize,
    {
        self.with(token, |value| Depersonalized::new(value.mask()))
    }

    /// Suspends processing while keeping the data (Art. 1, 22.1): every read, `with` and
    /// `rectify` is refused until [`unblock`](Self::unblock). Takes `&self`, so a record
    /// shared between threads can be blocked where it is.
    ///
    /// Blocking protects the subject, so it holds even when the audit log can't record it.
    pub fn block(&self) {
        self.blocked.store(true, Ordering::Release);
        let _ = self.audit_change("blocked", None);
    }

    /// Lifts a [`block`](Self::block).
    ///
    /// # Errors
    ///
    /// [`Error::AuditUnavailable`] if the audit log can't record it; the record stays
    /// blocked.
    pub fn unblock(&self) -> Result<(), Error> {
        self.audit_change("unblocked", None)?;
        self.blocked.store(false, Ordering::Release);
        Ok(())
    }

    /// Whether the record is blocked: this copy, or — for a record a schedule tracks, or a
    /// copy fetched from an operator's store — the record itself.
    pub fn is_blocked(&self) -> bool {
        self.blocked.load(Ordering::Acquire)
            || self.retention.get().is_some_and(|cell| cell.is_blocked())
    }

    /// Destroys the record: the value is zeroized and the record consumed, so no code can
    /// use it afterwards. Needs no token — destruction is what the subject is owed when
    /// consent ends.
    ///
    /// With an audit log, the destruction is recorded; a log that can't record it does not
    /// stop it.
    pub fn destroy(self, reason: DestructionReason) -> DestructionReceipt {
        let destroyed_at = self.services.clock.now();
        let _ = audit::record(self.services.audit.as_ref(), destroyed_at, || {
            AuditEvent::Destruction {
                record: self.id,
                reason: reason.clone(),
                rule: None,
                overrode: Vec::new(),
            }
        });
        DestructionReceipt {
            record: self.id,
            subject: self.subject.clone(),
            category: C::ID,
            purpose: self.purpose.clone(),
            collected_at: millis_to_time(self.collected_at),
            destroyed_at,
            reason,
            rule: None,
            hooks_confirmed: Vec::new(),
            holds_overridden: Vec::new(),
        }
        // `self` drops here: SecretBox zeroizes the value before freeing it, and a vault
        // shared with a schedule is zeroized below.
    }

    /// Moves the value into a vault the schedule can zeroize in place, and returns the
    /// schedule's handle to it.
    pub(crate) fn share_with_schedule(&mut self) -> Arc<dyn Purge>
    where
        T: Send + Sync + 'static,
    {
        match &self.value {
            Storage::Tracked(vault) => Arc::clone(vault) as Arc<dyn Purge>,
            Storage::Plain(_) => {
                let vault = Arc::new(Vault(RwLock::new(None)));
                if let Storage::Plain(value) =
                    std::mem::replace(&mut self.value, Storage::Tracked(Arc::clone(&vault)))
                {
                    *vault.0.write() = Some(value);
                }
                vault
            }
        }
    }

    /// The record's id.
    pub fn id(&self) -> RecordId {
        self.id
    }

    /// Whose data this is.
    pub fn subject(&self) -> &SubjectId {
        &self.subject
    }

    /// The purpose it was collected for.
    pub fn purpose(&self) -> &Purpose {
        &self.purpose
    }

    /// The category's id.
    pub fn category(&self) -> CategoryId {
        C::ID
    }

    /// When it was collected.
    pub fn collected_at(&self) -> DateTime<Utc> {
        millis_to_time(self.collected_at)
    }

    /// Where it came from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// That its subject made it public, or had it made public, when that was stated
    /// ([`made_public`](Self::made_public)).
    pub fn publication(&self) -> Option<&Publication> {
        self.published.as_deref()
    }

    /// States that the subject made this record's data public, or had it made public, as
    /// `publication` says where and when (Tajik law Art. 21.3): a transfer of it from then
    /// on owes the subject no notice. Only such a statement exempts a record — a category
    /// declared public-access does not, for the law asks who published the data, not what
    /// kind it is. A later statement replaces an earlier one.
    ///
    /// The statement narrows what the subject is told, so it is made only if the audit
    /// log records it. An [`Operator`](crate::store::Operator) keeps it with the record
    /// when [`keep`](crate::store::Operator::keep) is called after it; for a record it
    /// keeps already, use [`Operator::made_public`](crate::store::Operator::made_public).
    ///
    /// ```
    /// use amanat::{category::Phone, ConsentForm, ConsentLedger, ElectronicMethod, Grant,
    ///              PersonalData, PolicyVersion, Purpose, SubjectId};
    /// use amanat::data::{Publication, PublishedBy};
    /// use chrono::{TimeZone, Utc};
    ///
    /// let ledger = ConsentLedger::new(PolicyVersion::new("2025-07-01")?);
    /// let subject = SubjectId::new("cust-7")?;
    /// ledger.grant(
    ///     Grant::new(subject.clone(), ConsentForm::Electronic {
    ///         method: ElectronicMethod::OneTimePassword,
    ///     })
    ///     .purpose(Purpose::SERVICE_PROVISION)
    ///     .category::<Phone>(),
    /// )?;
    /// let token = ledger.authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)?;
    /// let mut phone = PersonalData::collect(&subject, String::from("+992900000001"), &token)?;
    /// let published = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap();
    /// phone.made_public(
    ///     Publication::by_subject("the subject's business listing, yellowpages.tj/4411", published),
    ///     &token,
    /// )?;
    /// assert_eq!(phone.publication().map(|p| p.by), Some(PublishedBy::Subject));
    /// # Ok::<(), amanat::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read); [`Error::BlankPublication`] if `publication` names no
    /// place; [`Error::AuditUnavailable`] if the audit log can't record the statement.
    pub fn made_public(
        &mut self,
        publication: Publication,
        token: &ConsentToken<C>,
    ) -> Result<(), Error> {
        self.check(token)?;
        if publication.reference.trim().is_empty() {
            return Err(Error::BlankPublication { record: self.id });
        }
        let now = self.services.clock.now();
        match self.services.collections.get() {
            // A record kept in an operator's store: the statement is the operator's record
            // of it, kept with the record for every later copy and after a reopen.
            Some(register) if self.retention.get().is_some() => register.keep_publication(
                self.id,
                &self.subject,
                publication.clone(),
                token.actor(),
                now,
            )?,
            _ => audit::record(self.services.audit.as_ref(), now, || {
                AuditEvent::MadePublic {
                    actor: token.actor().cloned(),
                    record: self.id,
                    subject: self.subject.clone(),
                    publication: publication.clone(),
                }
            })?,
        }
        self.published = Some(Box::new(publication));
        Ok(())
    }

    /// Restores where a record an operator kept came from.
    pub(crate) fn restore_source(&mut self, source: Source) {
        self.source = source;
    }

    /// Restores the statement an operator kept with the record.
    pub(crate) fn restore_publication(&mut self, publication: Publication) {
        self.published = Some(Box::new(publication));
    }
}

/// A tracked value is shared with its schedule; dropping the record must not leave it
/// there until the schedule gets round to it.
impl<T: Zeroize, C: Category> Drop for PersonalData<T, C> {
    fn drop(&mut self) {
        if let Storage::Tracked(vault) = &self.value {
            // Every read borrows `self`, which is going away, so only a read guard that was
            // leaked (`mem::forget`) can hold the lock: never wait for it. The value is then
            // zeroized when the schedule, the vault's other owner, lets it go.
            if let Some(mut slot) = vault.0.try_write() {
                *slot = None;
            }
        }
    }
}

impl<T: Zeroize, C: Category> fmt::Debug for PersonalData<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonalData<{}>([REDACTED])", C::ID)
    }
}

/// The value of a [`PersonalData`], opened by [`PersonalData::read`]; borrows both the
/// record and the token, so it can't outlive either.
///
/// Dereferences to the value. Its `Debug` stays redacted, so logging it by mistake leaks
/// nothing; print `*exposed` on purpose if you must.
///
/// Keeping it past its token does not compile:
///
/// ```compile_fail
/// # use amanat::{category::Phone, ConsentLedger, PersonalData, Purpose, SubjectId};
/// fn keep<'a>(data: &'a PersonalData<String, Phone>, ledger: &ConsentLedger, s: &SubjectId)
///     -> amanat::Exposed<'a, String>
/// {
///     let token = ledger.authorize::<Phone>(s, &Purpose::SERVICE_PROVISION).unwrap();
///     data.read(&token).unwrap()
/// }
/// ```
pub struct Exposed<'a, T> {
    value: Shown<'a, T>,
}

enum Shown<'a, T> {
    Plain(&'a T),
    /// A tracked record's value, read-locked so the schedule can't zeroize it mid-read.
    Guarded(MappedRwLockReadGuard<'a, T>),
}

impl<T> Deref for Exposed<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.value {
            Shown::Plain(value) => value,
            Shown::Guarded(guard) => guard,
        }
    }
}

/// Where a record's value lives.
enum Storage<T: Zeroize> {
    /// Owned by the record alone: read without any lock, the fast path.
    Plain(SecretBox<T>),
    /// Shared with a retention schedule, which zeroizes it in place when it destroys the
    /// record; reads take a read lock.
    Tracked(Arc<Vault<T>>),
}

/// A tracked value; `None` once the schedule has zeroized it.
pub(crate) struct Vault<T: Zeroize>(RwLock<Option<SecretBox<T>>>);

/// The schedule's handle on a tracked value, whatever its type.
pub(crate) trait Purge: Send + Sync {
    /// Zeroizes the value now if no read holds it, and says whether it did.
    fn purge(&self) -> bool;
}

impl<T: Zeroize + Send + Sync> Purge for Vault<T> {
    fn purge(&self) -> bool {
        // Never wait: the thread sweeping may be the one holding the read, and reads are
        // already refused; the schedule tries again at its next sweep.
        match self.0.try_write() {
            Some(mut slot) => {
                // Dropping the SecretBox zeroizes the value.
                *slot = None;
                true
            }
            None => false,
        }
    }
}

impl<T> fmt::Debug for Exposed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Exposed([REDACTED])")
    }
}

/// What a destruction did: which record, of whom, of which category, why and when —
/// never the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DestructionReceipt {
    /// The record destroyed.
    pub record: RecordId,
    /// Whose it was.
    pub subject: SubjectId,
    /// Its category.
    pub category: CategoryId,
    /// The purpose it had been collected for.
    pub purpose: Purpose,
    /// When it had been collected.
    pub collected_at: DateTime<Utc>,
    /// When it was destroyed.
    pub destroyed_at: DateTime<Utc>,
    /// Why.
    pub reason: DestructionReason,
    /// The retention rule that set the deadline, when a schedule destroyed the record.
    pub rule: Option<Arc<str>>,
    /// The destruction hooks that confirmed deleting their copies, by name.
    pub hooks_confirmed: Vec<String>,
    /// The legal holds a court's order to destroy outweighed — they stood on neither a
    /// court order nor a statute; empty when none was in the way.
    pub holds_overridden: Vec<HoldId>,
}

impl fmt::Display for DestructionReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {} ({} of subject {}, collected {} for {}) destroyed {}: ",
            self.record,
            self.category,
            self.subject,
            self.collected_at.format("%Y-%m-%d %H:%M:%S UTC"),
            self.purpose,
            self.destroyed_at.format("%Y-%m-%d %H:%M:%S UTC"),
        )?;
        match &self.reason {
            DestructionReason::ConsentWithdrawn => f.write_str("consent withdrawn"),
            DestructionReason::ConsentTermEnded => f.write_str("the consent's term ended"),
            DestructionReason::SubjectRequest => f.write_str("at the subject's request"),
            DestructionReason::PurposeAchieved => f.write_str("purpose achieved"),
            DestructionReason::RetentionExpired => f.write_str("retention period over"),
            DestructionReason::RelationshipEnded => f.write_str("relationship ended"),
            DestructionReason::CourtDecision { reference } => {
                write!(f, "court decision {reference}")
            }
            DestructionReason::Unlawful => f.write_str("data found unlawful or unnecessary"),
        }?;
        if let Some(rule) = &self.rule {
            write!(f, " ({rule})")?;
        }
        if !self.hooks_confirmed.is_empty() {
            write!(f, "; copies deleted by {}", self.hooks_confirmed.join(", "))?;
        }
        if !self.holds_overridden.is_empty() {
            let holds: Vec<String> = self
                .holds_overridden
                .iter()
                .map(ToString::to_string)
                .collect();
            write!(
                f,
                "; the court's order outweighed holds {}",
                holds.join(", ")
            )?;
        }
        Ok(())
    }
}
