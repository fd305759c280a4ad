//! Records kept and fetched: sealed in the vault under keys of their own, and tracked.

use crate::consent::CollectionNotices as _;
use zeroize::Zeroizing;

use crate::Error;
use crate::audit::AuditEvent;
use crate::category::Named;
use crate::category::{Category, CategoryId};
use crate::consent::ConsentToken;
use crate::data::{PersonalData, RecordId};
use crate::store::seal::{SealError, Sealed};
use crate::store::vault::{StoreError, VaultEntry, shred};
use crate::vocab::SubjectId;

use super::{Operator, sealable::Sealable};

/// Records: kept sealed under keys of their own, and fetched back.
impl Operator {
    /// Whether every change so far was kept. A change the registers make without an
    /// error of their own — a trigger, a request received, a notice owed, a destruction —
    /// takes effect in this process even when it can't be kept; the store then stops,
    /// and this says so.
    ///
    /// # Errors
    ///
    /// [`Error::NotStored`] once the store has stopped: reopen it to go on from what was
    /// kept.
    pub fn check_kept(&self) -> Result<(), Error> {
        match self.journal.stopped() {
            Some(why) => Err(Error::NotStored(StoreError::Stopped(why))),
            None => Ok(()),
        }
    }

    /// Keeps `data` sealed in the vault under a key of its own, and tracks it in the
    /// retention schedule, which shreds that key when the record falls due. What is known
    /// of where it came from goes with it: a record a third party gave owes the subject
    /// its notice (Art. 21.1), owed as it was collected with the operator's token, and
    /// here if it was not; a record its subject made public
    /// ([`PersonalData::made_public`]) stays exempt from the notice of its transfers.
    ///
    /// # Errors
    ///
    /// The token's refusals, as [`PersonalData::read`]; [`Error::NoRetentionRule`] if the
    /// policy has no rule for the record; [`Error::AlreadyTracked`]; [`Error::NotStored`]
    /// if it could not be kept.
    pub fn keep<T, C>(
        &self,
        data: &mut PersonalData<T, C>,
        token: &ConsentToken<C>,
    ) -> Result<(), Error>
    where
        T: Sealable + Send + Sync + 'static,
        C: Category,
    {
        // A record of another ledger is refused by `with` below, since the token is ours.
        self.own(token, data.id())?;
        crate::category::claim::<C>()?;
        // The category and the subject are sealed with the value: the vault's row names
        // them in the clear, and a row relabelled by someone with the file must not open
        // to another category's or another subject's token.
        let bytes = data.with(token, |value| {
            framed(&C::ID, data.subject(), &value.to_sealed_bytes())
        })?;
        let entry = VaultEntry::new(
            data.id(),
            data.subject().clone(),
            C::NAME,
            data.purpose().clone(),
            data.collected_at(),
        );
        // Announced first: a sealed copy a crash leaves behind is then known at open for
        // what it is, and shredded rather than taken for a journal gone missing.
        crate::audit::change(
            Some(&self.audit),
            Some(&self.journal),
            self.ledger.clock().now(),
            AuditEvent::Keeping {
                record: data.id(),
                subject: data.subject().clone(),
            },
            crate::audit::Stands::IfRecorded,
        )?;
        let sealed =
            Sealed::seal(&*self.keys, data.id(), data.subject(), &bytes).map_err(sealing)?;
        if let Err(failed) = self.vault.put(&entry, &sealed) {
            // No key without its sealed value.
            let _ = self.keys.shred(data.id());
            return Err(failed.into());
        }
        // Tracking is the step that acknowledges: a sealed copy left untracked by a
        // failure here, or by a crash before it, is shredded (here, or at the next open).
        // The token is checked again under the schedule's lock: a withdrawal made since
        // the first check, which takes that lock to bring the subject's deadlines forward,
        // has then either been heard (and the copy is refused) or waits for this record.
        if let Err(refused) = self.schedule.track_if(data, &|| token.check().map(drop)) {
            let _ = shred(&*self.keys, &*self.vault, data.id());
            return Err(refused);
        }
        self.disclosures.collected_from_third_party(data);
        if let Some(publication) = data.publication() {
            // The record is kept: a statement the journal can't keep leaves the notices of
            // its transfers owed, the subject's side, and the store stopped, which
            // `check_kept` says.
            let _ = self.disclosures.keep_publication(
                data.id(),
                data.subject(),
                publication.clone(),
                token.actor(),
                self.ledger.clock().now(),
            );
        }
        Ok(())
    }

    /// States that the subject made kept `record` public, or had it made public, as
    /// `publication` says where and when (Tajik law Art. 21.3): a transfer of it from then
    /// on owes the subject no notice. The statement is kept with the record, and every
    /// copy fetched afterwards carries it; see [`PersonalData::made_public`].
    ///
    /// # Errors
    ///
    /// The token's refusals, checked first; [`Error::UnknownRecord`] if the token's
    /// subject has no kept record of category `C` with this id; [`Error::BlankPublication`]
    /// if `publication` names no place; [`Error::NotStored`] if it can't be kept.
    pub fn made_public<C: Category>(
        &self,
        record: RecordId,
        publication: crate::data::Publication,
        token: &ConsentToken<C>,
    ) -> Result<(), Error> {
        token.check()?;
        self.own(token, record)?;
        let blocked = match self.schedule.tracked(record) {
            Some((tracked, cell))
                if tracked.category == C::ID && tracked.subject == *token.subject() =>
            {
                cell.is_blocked()
            }
            _ => return Err(Error::UnknownRecord { record }),
        };
        // Blocked data is not processed (Tajik law Art. 22.1; ZRU-547 Art. 30), as a
        // copy's own `made_public` refuses it.
        if blocked {
            return Err(Error::Blocked {
                subject: token.subject().clone(),
                category: C::ID,
                record,
            });
        }
        self.disclosures.keep_publication(
            record,
            token.subject(),
            publication,
            token.actor(),
            self.ledger.clock().now(),
        )
    }

    /// Reads a kept record back under `token`, as the [`PersonalData`] it was: same id,
    /// purpose and collection time. The copy refuses reads past the record's deadline and
    /// after its destruction, like the original.
    ///
    /// # Errors
    ///
    /// The token's refusals, checked first; [`Error::RecordDestroyed`] if the schedule
    /// destroyed it; [`Error::UnknownRecord`] if the token's subject has no record of
    /// category `C` with this id; [`Error::NotStored`] if the vault can't be read or the
    /// sealed value does not open.
    pub fn fetch<T, C>(
        &self,
        record: RecordId,
        token: &ConsentToken<C>,
    ) -> Result<PersonalData<T, C>, Error>
    where
        T: Sealable + Send + Sync + 'static,
        C: Category,
    {
        // The token first: a refused token learns nothing of the record, not even that it
        // exists or was destroyed.
        token.check()?;
        self.own(token, record)?;
        // The record was sealed with its category's id: only the type that owns the id in
        // this process may open it.
        crate::category::claim::<C>()?;
        let destroyed = || Error::RecordDestroyed {
            subject: token.subject().clone(),
            category: C::ID,
            record,
        };
        // Whose it is, what and since when, as the journal says: the vault's row is only
        // where the ciphertext is.
        let Some((tracked, cell)) = self.schedule.tracked(record) else {
            return Err(if self.schedule.is_destroyed(record) {
                destroyed()
            } else {
                Error::UnknownRecord { record }
            });
        };
        if tracked.category != C::ID || tracked.subject != *token.subject() {
            // Another subject's record is unknown to this token, as one never kept.
            return Err(Error::UnknownRecord { record });
        }
        // A destruction under way has shredded the key, or the row, already.
        let (_, sealed) = self.vault.get(record)?.ok_or_else(destroyed)?;
        let bytes = sealed.open(&*self.keys).map_err(|failed| match failed {
            SealError::Shredded { .. } => destroyed(),
            other => sealing(other),
        })?;
        let value = unframed(&C::ID, token.subject(), &bytes)
            .ok_or(Error::UnknownRecord { record })
            .map(T::from_sealed_bytes)?
            .ok_or_else(|| {
                Error::NotStored(StoreError::Corrupt(format!(
                    "record {record} does not hold a value of the type asked for"
                )))
            })?;
        let mut data =
            PersonalData::restored(value, record, tracked.purpose, tracked.collected_at, token)?;
        if let Some(publication) = self.disclosures.publication(record) {
            data.restore_publication(publication);
        }
        // A third party's record stays one: its notices name the source it came from.
        if let Some(source) = self.disclosures.collected_from(record) {
            data.restore_source(source);
        }
        data.attach_retention(cell);
        // Destroying the record zeroizes this copy too, not only refuses it.
        self.schedule
            .watch_copy(record, &data.share_with_schedule());
        Ok(data)
    }

    /// Refuses a token this operator's ledger did not issue (one of a private ledger, or of
    /// the instance before a reopening), and records the attempt.
    fn own<C: Category>(&self, token: &ConsentToken<C>, record: RecordId) -> Result<(), Error> {
        if self.ledger.issued(token) {
            return Ok(());
        }
        let _ = self.audit.record(
            self.ledger.clock().now(),
            AuditEvent::Authorization {
                actor: token.actor().cloned(),
                subject: token.subject().clone(),
                purpose: token.purpose().clone(),
                category: C::NAME.into(),
                granted: false,
                rule: Some("foreign_token".to_owned()),
                consent: None,
            },
        );
        Err(Error::ForeignToken {
            subject: token.subject().clone(),
            category: C::ID,
            record: Some(record),
        })
    }
}

/// `value` prefixed with its category's id and its subject's, each ended by a zero byte, as
/// it is sealed.
fn framed(category: &CategoryId, subject: &SubjectId, value: &[u8]) -> Zeroizing<Vec<u8>> {
    let (id, whose) = (category.as_str().as_bytes(), subject.as_str().as_bytes());
    let mut out = Zeroizing::new(Vec::with_capacity(id.len() + whose.len() + 2 + value.len()));
    out.extend_from_slice(id);
    out.push(0);
    out.extend_from_slice(whose);
    out.push(0);
    out.extend_from_slice(value);
    out
}

/// The value of what [`framed`] sealed, if it is of `category` and `subject`.
pub(super) fn unframed<'a>(
    category: &CategoryId,
    subject: &SubjectId,
    sealed: &'a [u8],
) -> Option<&'a [u8]> {
    sealed
        .strip_prefix(category.as_str().as_bytes())?
        .strip_prefix(&[0])?
        .strip_prefix(subject.as_str().as_bytes())?
        .strip_prefix(&[0])
}

/// A sealing failure as the operator reports it.
pub(super) fn sealing(failed: SealError) -> Error {
    Error::NotStored(match failed {
        SealError::Keys(keys) => StoreError::Keys(keys),
        other => StoreError::Corrupt(other.to_string()),
    })
}
