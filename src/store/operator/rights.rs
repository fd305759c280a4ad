//! The subject's rights carried out on what the operator keeps: blocking, destruction at
//! the subject's request, and a copy of their own data (Tajik law Art. 22.1, 25.1; Uzbek
//! law Art. 30, 31). Each answers a request of the register, and each is kept in the log,
//! so that it holds after a restart.

use std::fmt;
use std::io;

use chrono::{DateTime, Utc};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::Error;
use crate::category::{Category, CategoryId};
use crate::consent::ConsentToken;
use crate::data::PersonalData;
use crate::data::RecordId;
use crate::notices::RecordChange;
use crate::retention::{SweepReport, TrackedRecord, Trigger};
use crate::rights::RequestKind;
use crate::store::seal::SealError;
use crate::vocab::{Purpose, SubjectId};

use super::records::{sealing, unframed};
use super::{Operator, Sealable};

/// How the identity of the subject behind an access request was verified, as
/// [`Operator::verify_identity`] records it before an export.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdentityCheck {
    /// How: "passport shown at the Tashkent branch", "one-time password to the number on
    /// file".
    pub method: String,
    /// Who verified it: the employee or the system.
    pub verified_by: String,
}

impl IdentityCheck {
    /// A verification by `method`, made by `verified_by`.
    pub fn new(method: impl Into<String>, verified_by: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            verified_by: verified_by.into(),
        }
    }
}

/// The subject's own data, decrypted, for one access request: the one deliberate door out
/// of the operator (Tajik law Art. 25.1). Its values are zeroed when it drops; it is not
/// `Clone`, and its `Debug` shows no value. [`write_json`](Self::write_json) writes it as a
/// document for the subject, to a writer the caller hands it — nowhere else.
pub struct Export {
    subject: SubjectId,
    request: u64,
    at: DateTime<Utc>,
    records: Vec<ExportedRecord>,
}

/// One record of an [`Export`]: what it is, and its value.
pub struct ExportedRecord {
    /// The record.
    pub record: RecordId,
    /// Its category.
    pub category: CategoryId,
    /// The purpose it was collected for.
    pub purpose: Purpose,
    /// When it was collected.
    pub collected_at: DateTime<Utc>,
    value: Zeroizing<Vec<u8>>,
}

impl ExportedRecord {
    /// The value, as it was sealed: a text's UTF-8, or the bytes of a file.
    pub fn value(&self) -> &[u8] {
        &self.value
    }
}

impl fmt::Debug for ExportedRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportedRecord")
            .field("record", &self.record)
            .field("category", &self.category)
            .field("purpose", &self.purpose)
            .field("collected_at", &self.collected_at)
            .field("value", &"[REDACTED]")
            .finish()
    }
}

impl fmt::Debug for Export {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Export")
            .field("subject", &self.subject)
            .field("request", &self.request)
            .field("at", &self.at)
            .field("records", &self.records)
            .finish()
    }
}

/// The document [`Export::write_json`] writes.
#[derive(Serialize)]
struct Document<'a> {
    subject: &'a SubjectId,
    request: u64,
    exported_at: DateTime<Utc>,
    records: Vec<DocumentRecord<'a>>,
}

#[derive(Serialize)]
struct DocumentRecord<'a> {
    record: RecordId,
    category: &'a CategoryId,
    purpose: &'a Purpose,
    collected_at: DateTime<Utc>,
    /// The value as text, where it is UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    /// The value's bytes in hexadecimal, where it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    hex: Option<Hex>,
}

/// A value's bytes in hexadecimal, zeroed when it drops.
struct Hex(Zeroizing<String>);

impl Serialize for Hex {
    fn serialize<S: serde::Serializer>(&self, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_str(&self.0)
    }
}

impl Export {
    /// Whose data it is.
    pub fn subject(&self) -> &SubjectId {
        &self.subject
    }

    /// The request it answers.
    pub fn request(&self) -> u64 {
        self.request
    }

    /// When it was made.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// The records, oldest first.
    pub fn records(&self) -> &[ExportedRecord] {
        &self.records
    }

    /// Writes the export to `out` as one JSON document: the subject, the request, and each
    /// record with its category, purpose, collection time and value (as text where it is
    /// UTF-8, in hexadecimal where it is not).
    ///
    /// # Errors
    ///
    /// `out`'s error.
    pub fn write_json(&self, out: impl io::Write) -> io::Result<()> {
        let document = Document {
            subject: &self.subject,
            request: self.request,
            exported_at: self.at,
            records: self
                .records
                .iter()
                .map(|r| {
                    let text = std::str::from_utf8(&r.value).ok();
                    DocumentRecord {
                        record: r.record,
                        category: &r.category,
                        purpose: &r.purpose,
                        collected_at: r.collected_at,
                        text,
                        hex: text
                            .is_none()
                            .then(|| Hex(Zeroizing::new(hex::encode(&*r.value)))),
                    }
                })
                .collect(),
        };
        serde_json::to_writer_pretty(out, &document).map_err(io::Error::from)
    }
}

/// The subject's rights on what the operator keeps.
impl Operator {
    /// Blocks `record` for blocking request `request` (Tajik law Art. 22.1; ZRU-547 Art. 17, 31): kept,
    /// and read by no one — no consent, no other basis — but a purpose a statutory minimum
    /// or a legal hold keeps it for; every copy fetched before and after refuses, and so
    /// it stays after a reopen. Blocking protects the subject: it takes effect even when it
    /// can't be kept. Lift it with [`unblock`](Self::unblock).
    ///
    /// Where the policy's pack asks it (Uzbek law Art. 31), the subject and the recipients
    /// declared for the record's purpose and category are owed a written notice of it
    /// ([`change_notices`](Self::change_notices)).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRequest`]; [`Error::RequestNotOpen`] if the request was answered or
    /// is not for blocking or destruction; [`Error::UnknownRecord`] if the record is not
    /// the requester's, or not kept; [`Error::NotStored`] if it could not be kept (it took
    /// effect in this process).
    pub fn block(&self, request: u64, record: RecordId) -> Result<(), Error> {
        let asked = self
            .requests
            .open_request(request, &[RequestKind::Blocking, RequestKind::Destruction])?;
        self.subjects_record(&asked.subject, record)?;
        let now = self.ledger.clock().now();
        if self
            .schedule
            .block(record, Some(request), now.timestamp_millis())?
        {
            let tracked = self.schedule.records_of_record(record);
            self.tell(&asked.subject, tracked, RecordChange::Blocked, now);
        }
        self.check_kept()
    }

    /// Owes the notices of `change` to `subject`'s `record` the policy's pack asks (Uzbek
    /// law Art. 31): to the subject and the recipients declared for its purpose and
    /// category. `tracked` is the record as the schedule kept it, read before a change
    /// that ends it.
    fn tell(
        &self,
        subject: &SubjectId,
        tracked: Option<TrackedRecord>,
        change: RecordChange,
        at: DateTime<Utc>,
    ) {
        if let Some(tracked) = tracked {
            self.notices.owe(
                subject,
                tracked.record,
                &tracked.category,
                &tracked.purpose,
                change,
                at,
            );
        }
    }

    /// Lifts the block on `record` for blocking request `request` — the subject asking for
    /// their block lifted: once it is kept, since it widens processing again. A record due
    /// (past its deadline, an erasure refused under a law, a rectified value) still opens
    /// to no consent once unblocked.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRequest`]; [`Error::RequestNotOpen`] if the request was answered or
    /// is not for blocking; [`Error::UnknownRecord`] if the record is not the requester's,
    /// or not kept; [`Error::NotStored`] if it could not be kept (the record stays
    /// blocked).
    ///
    /// The register takes a request as the caller records it: the request ties the
    /// unblocking to the subject and to the record on the record, it proves nothing of
    /// who asked.
    pub fn unblock(&self, request: u64, record: RecordId) -> Result<(), Error> {
        let asked = self
            .requests
            .open_request(request, &[RequestKind::Blocking])?;
        self.subjects_record(&asked.subject, record)?;
        self.schedule
            .unblock(record, self.ledger.clock().now_millis())?;
        self.check_kept()
    }

    /// Destroys `record` for destruction request `request` (Tajik law Art. 22.1; ZRU-547 Art. 17, 31):
    /// due now with [`DestructionReason::SubjectRequest`], and swept at once — its sealed
    /// copy's key shredded, every hook asked — as [`sweep_now`](Self::sweep_now) does.
    /// Where a statutory minimum, a legal hold, or its own retention rule — one that cites
    /// a law, for a purpose on another basis than consent — keeps it, it is blocked
    /// instead and the refusal names the law; the request still stands, and the record is
    /// destroyed once nothing keeps it.
    ///
    /// Where the policy's pack asks it (Uzbek law Art. 31), the subject and the recipients
    /// declared for the record's purpose and category are owed a written notice of it
    /// ([`change_notices`](Self::change_notices)).
    ///
    /// [`DestructionReason::SubjectRequest`]: crate::DestructionReason::SubjectRequest
    ///
    /// # Errors
    ///
    /// [`Error::KeptByLaw`] if a statutory minimum or a hold keeps it (it is blocked);
    /// [`Error::UnknownRequest`]; [`Error::RequestNotOpen`] if the request was answered or
    /// is not for destruction; [`Error::UnknownRecord`] if the record is not the
    /// requester's, or not kept; as [`sweep`](Self::sweep) otherwise.
    pub fn erase(&self, request: u64, record: RecordId) -> Result<SweepReport, Error> {
        let asked = self
            .requests
            .open_request(request, &[RequestKind::Destruction])?;
        self.subjects_record(&asked.subject, record)?;
        let now = self.ledger.clock().now();
        let kept_under = self
            .schedule
            .kept_under(record, now.timestamp_millis())
            .or_else(|| self.kept_by_its_rule(record));
        // Due now either way: what keeps it postpones the destruction, and once that ends
        // the next sweep carries the request out.
        self.trigger(
            &asked.subject,
            Trigger::ErasureRequested { record, request },
            now,
        )?;
        if let Some(kept_under) = kept_under {
            if self
                .schedule
                .block(record, Some(request), now.timestamp_millis())?
            {
                let tracked = self.schedule.records_of_record(record);
                self.tell(&asked.subject, tracked, RecordChange::Blocked, now);
            }
            self.check_kept()?;
            return Err(Error::KeptByLaw { record, kept_under });
        }
        // The sweep owes the notices of the destruction.
        self.sweep(now)
    }

    /// The law a record's own retention rule cites, where the record was collected for a
    /// purpose on another basis than consent — a legal obligation's — and its period has
    /// not run out: the subject's request does not end what a law requires kept.
    fn kept_by_its_rule(&self, record: RecordId) -> Option<String> {
        let tracked = self.schedule.records_of_record(record)?;
        let purpose = self.policy.purpose(&tracked.purpose)?;
        if purpose.basis == crate::vocab::BasisKind::Consent {
            return None;
        }
        let rule = self
            .policy
            .retention_for(tracked.category.as_str(), &tracked.purpose)?;
        (!rule.reference.trim().is_empty()).then(|| rule.reference.clone())
    }

    /// Corrects `record` for rectification request `request` (Tajik law Art. 8.4, 22.1;
    /// ZRU-547 Art. 11, 31; IMANUM §5.1): `value` is kept as a new record — sealed under a new key,
    /// with the old record's purpose, collection time and deadline — and the old record
    /// falls due as wrong data and is swept at once, its key shredded; where a statutory
    /// minimum or a hold keeps it, it is blocked instead. Returns the new record. The
    /// token must open the old record: a record it can't read can't be corrected through
    /// it. A crash between keeping the new record and recording the correction leaves
    /// both; rectify again.
    ///
    /// Where the policy's pack asks it (Uzbek law Art. 31), the subject and the recipients
    /// declared for the record's purpose and category are owed a written notice of it
    /// ([`change_notices`](Self::change_notices)).
    ///
    /// # Errors
    ///
    /// The token's refusals on the old record; [`Error::UnknownRequest`];
    /// [`Error::RequestNotOpen`] if the request was answered or is not for rectification;
    /// [`Error::UnknownRecord`] if the record is not the requester's of category `C`; as
    /// [`keep`](Self::keep) and [`sweep`](Self::sweep) otherwise.
    pub fn rectify<T, C>(
        &self,
        request: u64,
        record: RecordId,
        value: T,
        token: &ConsentToken<C>,
    ) -> Result<RecordId, Error>
    where
        T: Sealable + Send + Sync + 'static,
        C: Category,
    {
        let asked = self
            .requests
            .open_request(request, &[RequestKind::Rectification])?;
        self.subjects_record(&asked.subject, record)?;
        if token.subject() != &asked.subject {
            return Err(Error::UnknownRecord { record });
        }
        // What the token may not read, it may not correct.
        let old = self.fetch::<T, C>(record, token)?;
        old.with(token, |_| ())?;
        let mut corrected = PersonalData::restored(
            value,
            RecordId::random(),
            old.purpose().clone(),
            old.collected_at().timestamp_millis(),
            token,
        )?;
        drop(old);
        self.keep(&mut corrected, token)?;
        let now = self.ledger.clock().now();
        let before = self.schedule.records_of_record(record);
        self.schedule.rectified(
            &asked.subject,
            record,
            corrected.id(),
            request,
            now.timestamp_millis(),
        )?;
        self.tell(&asked.subject, before, RecordChange::Rectified, now);
        self.check_kept()?;
        self.sweep(now)?;
        Ok(corrected.id())
    }

    /// Records that the identity of the subject behind access request `request` was
    /// verified, how and by whom, at the operator's clock: what [`export`](Self::export)
    /// requires first.
    ///
    /// # Errors
    ///
    /// [`Error::BlankVerification`] if the method or the verifier is blank;
    /// [`Error::UnknownRequest`]; [`Error::RequestNotOpen`] if it is answered or not an
    /// access request; [`Error::NotStored`] or [`Error::AuditUnavailable`] if it could not
    /// be kept (it was not recorded then).
    pub fn verify_identity(&self, request: u64, check: IdentityCheck) -> Result<(), Error> {
        if check.method.trim().is_empty() || check.verified_by.trim().is_empty() {
            return Err(Error::BlankVerification { request });
        }
        self.requests.verify_identity(
            request,
            check.method,
            check.verified_by,
            self.ledger.clock().now(),
        )?;
        Ok(())
    }

    /// The requester's own data, decrypted, for access request `request` (Tajik law Art.
    /// 25.1): every record of theirs the operator keeps, blocked ones included, and
    /// nobody else's. Once the requester's identity is verified
    /// ([`verify_identity`](Self::verify_identity)), once per request, and kept on the
    /// record — which records it held, never their values — before it is handed back.
    /// Answer the request with [`SubjectRequests::complete`] once it is sent.
    ///
    /// [`SubjectRequests::complete`]: crate::rights::SubjectRequests::complete
    ///
    /// # Errors
    ///
    /// [`Error::IdentityNotVerified`]; [`Error::AlreadyExported`];
    /// [`Error::UnknownRequest`]; [`Error::RequestNotOpen`] if it is answered or not an
    /// access request; [`Error::NotStored`] if a sealed value can't be read, or the export
    /// could not be kept on the record (nothing is handed back then).
    pub fn export(&self, request: u64) -> Result<Export, Error> {
        let at = self.ledger.clock().now();
        self.requests.export_with(request, at, |asked| {
            let mut records = Vec::new();
            for tracked in self.schedule.records_of(&asked.subject) {
                let Some((_, sealed)) = self.vault.get(tracked.record)? else {
                    // Tracked and never sealed here: kept elsewhere, by the program.
                    continue;
                };
                let bytes = match sealed.open(&*self.keys) {
                    Ok(bytes) => bytes,
                    // Shredded by a destruction under way: it is no longer theirs to have.
                    Err(SealError::Shredded { .. }) => continue,
                    Err(other) => return Err(sealing(other)),
                };
                let value = unframed(&tracked.category, &asked.subject, &bytes).ok_or(
                    Error::UnknownRecord {
                        record: tracked.record,
                    },
                )?;
                records.push(ExportedRecord {
                    record: tracked.record,
                    category: tracked.category,
                    purpose: tracked.purpose,
                    collected_at: tracked.collected_at,
                    value: Zeroizing::new(value.to_vec()),
                });
            }
            let ids = records.iter().map(|r| r.record).collect();
            Ok((
                ids,
                Export {
                    subject: asked.subject.clone(),
                    request,
                    at,
                    records,
                },
            ))
        })
    }

    /// Refuses a record that is not `subject`'s, as one never kept.
    fn subjects_record(&self, subject: &SubjectId, record: RecordId) -> Result<(), Error> {
        match self.schedule.tracked(record) {
            Some((tracked, _)) if tracked.subject == *subject => Ok(()),
            _ => Err(Error::UnknownRecord { record }),
        }
    }
}
