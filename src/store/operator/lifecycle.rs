//! Withdrawal, erasure, triggers, sweeps and key rotation: what ends a record, carried out
//! on what is kept.

use std::sync::Arc;
#[cfg(feature = "sqlite")]
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::Error;
use crate::RetentionSchedule;
use crate::audit::{AuditEntry, AuditEvent};
use crate::consent::{ConsentId, Hearing, Listener, Withdrawal};
use crate::data::RecordId;
#[cfg(feature = "sqlite")]
use crate::key::KeyProvider;
use crate::retention::{DestructionHook, DestructionRequest, HookError, SweepReport, Trigger};
#[cfg(feature = "sqlite")]
use crate::store::event_log::EventLog;
use crate::store::keys::KeyStore;
#[cfg(feature = "sqlite")]
use crate::store::keys::{RotationStep, SqliteKeyStore};
use crate::store::vault::{StoreError, Vault, shred};
use crate::vocab::{Purpose, SubjectId};

use super::Operator;

/// How far ahead of the operator's clock, or behind its latest change on record, a time
/// handed in may be: the system clock is read coarsely (a kernel tick, up to 10 ms), so a
/// caller's `Utc::now()` is often a few milliseconds ahead of it, and other threads write
/// while a sweep starts. A second destroys nothing a second early that matters; a sweep
/// dated a day or ten years ahead, or a closure dated a day back, is refused.
pub(super) const LEEWAY_MS: i64 = 1_000;

/// The embedded key store, the provider of its key-encryption key, and when to rotate.
#[cfg(feature = "sqlite")]
pub(super) struct Rotation {
    pub(super) store: Arc<SqliteKeyStore>,
    pub(super) provider: Arc<dyn KeyProvider>,
    pub(super) every: Duration,
    /// When it was last rotated (Unix seconds on the operator's clock).
    pub(super) last: std::sync::Mutex<i64>,
    /// A rotation a destruction called for that has not succeeded yet.
    pub(super) owed: std::sync::atomic::AtomicBool,
}

#[cfg(feature = "sqlite")]
impl Rotation {
    /// Rotates now, through step `last`, and says whether it did: not under a provider that
    /// can't both rotate and destroy.
    fn rotate(&self, now: DateTime<Utc>, last: RotationStep) -> Result<bool, Error> {
        let can = self.provider.capabilities();
        if !(can.rotate && can.destroy) {
            return Ok(false);
        }
        let mut noted = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.store
            .rotate_until(&*self.provider, now.timestamp(), last)
            .map_err(|e| Error::NotStored(StoreError::Keys(e)))?;
        *noted = now.timestamp();
        Ok(true)
    }

    /// After a sweep: rotates if it destroyed something, if an earlier rotation is owed,
    /// or if the last one is older than `every`.
    pub(super) fn after_sweep(&self, now: DateTime<Utc>, destroyed: bool) -> Result<(), String> {
        use std::sync::atomic::Ordering;
        let last = *self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let every = i64::try_from(self.every.as_secs()).unwrap_or(i64::MAX);
        let owed = destroyed || self.owed.load(Ordering::Acquire);
        if !owed && now.timestamp().saturating_sub(last) < every {
            return Ok(());
        }
        self.owed.store(true, Ordering::Release);
        self.rotate(now, RotationStep::OldDestroyed)
            .map_err(|e| e.to_string())?;
        self.owed.store(false, Ordering::Release);
        Ok(())
    }
}

/// Tells `schedule`, locked, of a withdrawal, without journaling the triggers: the
/// withdrawal's own change carries them.
pub(super) fn hear_withdrawal(
    schedule: &mut crate::retention::Locked<'_>,
    subject: &SubjectId,
    withdrawn: &[(ConsentId, Vec<crate::vocab::Purpose>)],
    at: DateTime<Utc>,
) {
    for purpose in withdrawn.iter().flat_map(|(_, purposes)| purposes) {
        schedule.trigger_kept(
            subject,
            Trigger::ConsentWithdrawn(purpose.clone()),
            at,
            false,
        );
    }
}

/// The retention schedule as the operator's ledger's listener: locked before a withdrawal is
/// written — a record kept meanwhile would be tracked after the withdrawal in the log, where
/// the replay does not bring it forward, and before the hearing here, which would — and
/// told of it, without journaling the triggers: the withdrawal's own change carries them.
pub(super) struct ScheduleHears(pub(super) Arc<RetentionSchedule>);

impl Listener for ScheduleHears {
    fn lock(&self) -> Box<dyn Hearing + '_> {
        Box::new(self.0.locked())
    }
}

impl Hearing for crate::retention::Locked<'_> {
    fn hear(&mut self, withdrawal: &Withdrawal) {
        hear_withdrawal(
            self,
            &withdrawal.subject,
            &withdrawal.withdrawn,
            withdrawal.at,
        );
    }
}

/// The record and time of a destruction the schedule recorded. Only the schedule's name
/// their rule; a copy's own `destroy` destroys that copy, not the record kept here.
pub(super) fn schedule_destruction(entry: &AuditEntry) -> Option<(RecordId, DateTime<Utc>)> {
    match &entry.event {
        AuditEvent::Destruction {
            record,
            rule: Some(_),
            ..
        } => Some((*record, entry.at)),
        _ => None,
    }
}

/// Shreds the operator's sealed copy of a record: the schedule's own destruction hook.
pub(super) struct Shredder {
    pub(super) keys: Arc<dyn KeyStore>,
    pub(super) vault: Arc<dyn Vault>,
}

impl DestructionHook for Shredder {
    fn name(&self) -> &'static str {
        "amanat vault"
    }

    fn destroy(&self, request: &DestructionRequest) -> Result<(), HookError> {
        // Asked again after a crash, it finds the key already gone: that is success.
        shred(&*self.keys, &*self.vault, request.record)
            .map(drop)
            .map_err(|e| HookError(e.to_string()))
    }
}

/// What ends consents and records: withdrawal, erasure, triggers, sweeps, and the
/// rotation of the key that wraps the records' keys.
impl Operator {
    /// Withdraws a consent for every purpose it still holds for
    /// ([`ConsentLedger::withdraw`]) and, in the same change, tells the retention schedule
    /// ([`Trigger::ConsentWithdrawn`] for each purpose): records collected on it fall due
    /// where the policy declares the purpose on consent (Tajik law Art. 12; ZRU-547 Art. 18). A crash keeps both or
    /// neither. The same as `self.ledger().withdraw(consent)`: the operator's ledger tells
    /// its schedule of every withdrawal, whichever call makes it.
    ///
    /// # Errors
    ///
    /// As [`ConsentLedger::withdraw`]; [`Error::NotStored`] if it could not be kept (it
    /// took effect in this process, schedule included).
    ///
    /// [`ConsentLedger::withdraw`]: crate::consent::ConsentLedger::withdraw
    pub fn withdraw(&self, consent: &ConsentId) -> Result<Withdrawal, Error> {
        self.ledger.withdraw(consent)
    }

    /// Withdraws `purpose` from every consent of `subject` that holds it now
    /// ([`ConsentLedger::withdraw_purpose`]), and tells the retention schedule in the same
    /// change, as [`withdraw`](Self::withdraw) does.
    ///
    /// # Errors
    ///
    /// As [`ConsentLedger::withdraw_purpose`]; [`Error::NotStored`] if it could not be
    /// kept (it took effect in this process, schedule included).
    ///
    /// [`ConsentLedger::withdraw_purpose`]: crate::consent::ConsentLedger::withdraw_purpose
    pub fn withdraw_purpose(
        &self,
        subject: &SubjectId,
        purpose: &Purpose,
    ) -> Result<Withdrawal, Error> {
        self.ledger.withdraw_purpose(subject, purpose)
    }

    /// Erases `subject` from the operator: the keys their entries in the log are sealed
    /// under are shredded, so their id, their consents' terms, a representative's name and
    /// mandate, their requests and notices can't be read from the log any more; the chain,
    /// which covers the ciphertext, verifies as before, and the trail shows each of their
    /// entries as [`Erased`](crate::audit::Event::Erased). The erasure is one entry of the
    /// log, [`SubjectErased`](crate::audit::Event::SubjectErased), written in one
    /// transaction with the shredding; snapshots, which hold what the entries hold, sealed
    /// under a key derived from the log's, are deleted with it (the next open reads the
    /// whole log, and keeps a new one), and the store zeroes what it deleted and truncates
    /// its write-ahead log.
    ///
    /// It does not reach copies of `log.db` made before: their entries and snapshots open
    /// to whoever holds the log's key too.
    ///
    /// Only what is over can be erased: refused while a record of the subject is kept, a
    /// consent of theirs is in force, a hold covers them, a request of theirs is not
    /// answered or a notice to them not sent. Erase a subject the backend no longer
    /// serves: a grant, request or notice for them waits until the erasure is done, and
    /// is kept under a new key.
    ///
    #[cfg_attr(feature = "sqlite", doc = "```")]
    #[cfg_attr(not(feature = "sqlite"), doc = "```ignore")]
    /// use amanat::category::Phone;
    /// use amanat::key::KeyDir;
    /// use amanat::store::Operator;
    /// use amanat::{ConsentForm, ElectronicMethod, Grant, Policy, Purpose, SubjectId};
    ///
    /// let (dir, keys) = (tempfile::tempdir()?, tempfile::tempdir()?);
    /// let policy = Policy::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies/imanum.toml"))?;
    /// let operator = Operator::open(dir.path(), policy, KeyDir::new(keys.path().join("k"))?)?;
    /// let subject = SubjectId::new("cust-1")?;
    /// let otp = ConsentForm::Electronic { method: ElectronicMethod::OneTimePassword };
    /// let consent = operator.ledger().grant(
    ///     Grant::new(subject.clone(), otp).purpose(Purpose::SERVICE_PROVISION).category::<Phone>(),
    /// )?;
    /// // Not while the consent is in force.
    /// assert_eq!(operator.erase_subject(&subject).unwrap_err().rule(), "not_erasable");
    /// operator.withdraw(&consent)?;
    /// operator.erase_subject(&subject)?;
    /// assert!(operator.ledger().history(&subject).is_empty());
    /// assert!(operator.audit_log().verify().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NotErasable`] with what stands in the way, or where the operator keeps its
    /// log in stores of yours, which seal nothing; [`Error::NotStored`] if the erasure
    /// could not be kept (nothing was erased then, or, if the log failed mid-write, the
    /// next open shows whether it was); [`Error::StillInFiles`] if it was, and what it
    /// deleted can't be wiped from the files yet (call it again later: with nothing left
    /// to shred, it records an erasure of no key and wipes).
    pub fn erase_subject(&self, subject: &SubjectId) -> Result<(), Error> {
        #[cfg(feature = "sqlite")]
        if let Some(log) = &self.event_log {
            return self.erase_from(log, subject);
        }
        let _ = subject;
        Err(Error::NotErasable {
            reason: "this operator's log is in stores that seal nothing",
        })
    }

    #[cfg(feature = "sqlite")]
    fn erase_from(&self, log: &EventLog, subject: &SubjectId) -> Result<(), Error> {
        let refused = |reason| Error::NotErasable { reason };
        // Each part held from its check to its forgetting, in the order a withdrawal takes
        // them: no record kept or hold placed, no grant, request or notice of theirs lands
        // between, to be forgotten here and read back at the next open.
        let mut schedule = self.schedule.locked();
        schedule.check_erasable(subject).map_err(refused)?;
        if !self.vault.records_of(subject)?.is_empty() {
            return Err(refused("a sealed record of theirs is in the vault"));
        }
        self.ledger.erase_with(subject, || {
            self.requests.erase_with(subject, || {
                self.disclosures.erase_with(subject, || {
                    self.notices.erase_with(subject, || {
                        let handles = log
                            .prepare_erasure(subject)
                            .map_err(|e| Error::NotStored(e.into()))?;
                        let erasure = AuditEvent::SubjectErased {
                            keys: handles.iter().map(hex::encode).collect(),
                        };
                        let kept = crate::audit::change(
                            Some(&self.audit),
                            Some(&self.journal),
                            self.ledger.clock().now(),
                            erasure,
                            crate::audit::Stands::IfRecorded,
                        );
                        log.erased(&handles, kept.is_ok());
                        kept
                    })
                })
            })
        })?;
        schedule.forget(subject);
        drop(schedule);
        // What the erasure deleted is zeroed in the files already; the write-ahead log's
        // older pages go once no reader holds the file.
        log.scrub().map_err(|e| Error::StillInFiles(e.into()))
    }

    /// Applies `trigger` to `subject`'s records at `at` ([`RetentionSchedule::trigger`]).
    /// [`trigger_now`](Self::trigger_now) applies it at the operator's clock.
    ///
    /// # Errors
    ///
    /// [`Error::RequestNotOpen`] or [`Error::UnknownRequest`] for a
    /// [`Trigger::ErasureRequested`] that names no open destruction request of `subject`'s.
    /// [`Error::TimeAhead`] if `at` is ahead of the operator's clock (by more than a
    /// second: a caller's `Utc::now()` may be read from a finer clock than its own), and
    /// [`Error::BeforeLastChange`] if it is before the last change on its record: nothing
    /// was done then. [`Error::NotStored`] if it could not be kept (it took effect in this
    /// process).
    ///
    /// [`RetentionSchedule::trigger`]: crate::RetentionSchedule::trigger
    pub fn trigger(
        &self,
        subject: &SubjectId,
        trigger: Trigger,
        at: DateTime<Utc>,
    ) -> Result<Vec<RecordId>, Error> {
        self.check_time(at)?;
        // A destruction at the subject's request answers one: the request must be open,
        // for destruction, and the subject's.
        if let Trigger::ErasureRequested { request, .. } = &trigger {
            let asked = self
                .requests
                .open_request(*request, &[crate::rights::RequestKind::Destruction])?;
            if asked.subject != *subject {
                return Err(Error::RequestNotOpen {
                    request: *request,
                    why: "it is another subject's",
                });
            }
        }
        let changed = self.schedule.trigger(subject, trigger, at);
        self.check_kept()?;
        Ok(changed)
    }

    /// Applies `trigger` to `subject`'s records now, on the operator's clock.
    ///
    /// # Errors
    ///
    /// As [`trigger`](Self::trigger).
    pub fn trigger_now(
        &self,
        subject: &SubjectId,
        trigger: Trigger,
    ) -> Result<Vec<RecordId>, Error> {
        self.trigger(subject, trigger, self.ledger.clock().now())
    }

    /// Destroys every record due at `now` ([`RetentionSchedule::sweep`]): the sealed copy's
    /// key is shredded first, so no copy of the vault opens it with the live key store; and
    /// the rotation that follows (below) leaves no copy of the key store that opens it
    /// either, where the provider can rotate and destroy. [`sweep_now`](Self::sweep_now)
    /// sweeps at the operator's clock: what a timer calls.
    ///
    /// First it looks for consents whose term ended since the last sweep (since the open,
    /// for the first): each purpose and category no other consent of the subject's still
    /// holds gets [`Trigger::ConsentTermEnded`], so the records collected for it fall due
    /// now where the policy declares the purpose on consent (ZRU-547 Art. 17). That look is
    /// one pass over the consents; one without a term of its own costs a load and a
    /// compare.
    ///
    /// # Errors
    ///
    /// [`Error::TimeAhead`] if `now` is ahead of the operator's clock by more than a
    /// second — a sweep dated ahead would destroy what is not due yet — and [`Error::BeforeLastChange`] if it is before
    /// the last change on its record: nothing was destroyed then.
    ///
    /// [`Error::NotStored`] if a destruction could not be kept: it was done, and the record
    /// is still due at the next open, whose first sweep destroys it again and records it
    /// once. (On other stores, where the audit log is written before the journal, the next
    /// open completes it from the audit log's record of it instead.)
    ///
    /// Then, where the key provider can rotate and destroy, it rotates the key-encryption
    /// key when the sweep destroyed something or the rotation interval has passed since
    /// the last one (on the operator's clock): after that, no copy of the key store taken
    /// before the sweep opens the destroyed records' keys either.
    /// [`Error::NotStored`] with [`StoreError::Keys`] if that rotation failed: the
    /// destructions stand, the store keeps the key it had.
    ///
    /// Where the policy's pack asks it (Uzbek law Art. 31), each destruction owes its
    /// subject and the recipients declared for the record's purpose and category a written
    /// notice ([`change_notices`](Self::change_notices)).
    ///
    /// [`RetentionSchedule::sweep`]: crate::RetentionSchedule::sweep
    pub fn sweep(&self, now: DateTime<Utc>) -> Result<SweepReport, Error> {
        self.check_time(now)?;
        // The reads of tokens still out, or never dropped, go on the record too.
        self.ledger.flush_reads();
        // A consent's term that ended ends the processing it allowed (ZRU-547 Art. 17):
        // its purposes' records fall due now, unless another consent holds them.
        let until = now.timestamp_millis();
        let after = self
            .terms_checked
            .fetch_max(until, std::sync::atomic::Ordering::AcqRel);
        for (subject, purpose, categories) in self.ledger.terms_ended(after, until) {
            let ended = Trigger::ConsentTermEnded {
                purpose,
                categories,
            };
            self.schedule.trigger_kept(&subject, ended, now, true);
        }
        // The schedule rotates the keys after it, where a destruction or the day calls for it.
        let report = self.schedule.sweep(now);
        // Each destruction is told where the pack asks it (Uzbek law Art. 31).
        for destroyed in &report.destroyed {
            self.notices.owe(
                &destroyed.subject,
                destroyed.record,
                &destroyed.category,
                &destroyed.purpose,
                crate::notices::RecordChange::Destroyed,
                destroyed.destroyed_at,
            );
        }
        // An overdue notice raises the alert hook, once (Tajik law Art. 21.1; ZRU-547
        // Art. 23).
        self.disclosures.check_overdue(now);
        self.check_kept()?;
        if let Some(why) = &report.keys_not_rotated {
            return Err(Error::NotStored(StoreError::Io(format!(
                "the key-encryption key was not rotated after the sweep: {why}"
            ))));
        }
        Ok(report)
    }

    /// Destroys every record due now, on the operator's clock.
    ///
    /// # Errors
    ///
    /// As [`sweep`](Self::sweep).
    pub fn sweep_now(&self) -> Result<SweepReport, Error> {
        self.sweep(self.ledger.clock().now())
    }

    /// Refuses a time more than [`LEEWAY_MS`] ahead of the operator's clock, or more than
    /// that before the latest change the retention schedule recorded — capped at the
    /// clock. The schedule's changes, not every entry of the log: a register's entry
    /// carries the time its caller gave, and one dated back would let a closure dated back
    /// through, one dated ahead would stop every sweep. The leeway also lets a sweep dated
    /// by the caller pass while other threads write.
    pub(super) fn check_time(&self, at: DateTime<Utc>) -> Result<(), Error> {
        let last = self.schedule.latest_change();
        let now = self.ledger.clock().now();
        let at_ms = at.timestamp_millis();
        if at_ms > now.timestamp_millis().saturating_add(LEEWAY_MS) {
            return Err(Error::TimeAhead { at, now });
        }
        match last.map(|last| last.min(now)) {
            Some(last) if at_ms < last.timestamp_millis().saturating_sub(LEEWAY_MS) => {
                Err(Error::BeforeLastChange { at, last })
            }
            _ => Ok(()),
        }
    }

    /// Rotates the key-encryption key that wraps the data keys now, and says whether it
    /// did: not under a provider that can't both rotate and destroy, nor on stores other
    /// than the embedded ones. See [`OperatorBuilder::rotate_keys_every`].
    ///
    /// # Errors
    ///
    /// [`Error::NotStored`] with [`StoreError::Keys`] if it failed; the store keeps the key
    /// it had.
    ///
    /// [`OperatorBuilder::rotate_keys_every`]: super::OperatorBuilder::rotate_keys_every
    #[cfg(feature = "sqlite")]
    pub fn rotate_keys(&self) -> Result<bool, Error> {
        self.rotate_keys_at(self.ledger.clock().now(), RotationStep::OldDestroyed)
    }

    /// [`rotate_keys`](Self::rotate_keys), stopping after `last`: the state a crash there
    /// leaves, for tests.
    #[doc(hidden)]
    #[cfg(feature = "sqlite")]
    pub fn rotate_keys_until(&self, last: RotationStep) -> Result<bool, Error> {
        self.rotate_keys_at(self.ledger.clock().now(), last)
    }

    #[cfg(feature = "sqlite")]
    pub(super) fn rotate_keys_at(
        &self,
        now: DateTime<Utc>,
        last: RotationStep,
    ) -> Result<bool, Error> {
        match &self.rotation {
            Some(rotation) => rotation.rotate(now, last),
            None => Ok(false),
        }
    }
}
