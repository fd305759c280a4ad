//! The subject's rights (Tajik law Art. 22; ZRU-547 Art. 11, 22, 24, 30): requests for
//! access, correction, blocking, destruction, withdrawal and objection to an automated
//! decision, each with the date it is due under the pack, on the policy's calendar.
//!
//! ```
//! use amanat::rights::{RequestKind, SubjectRequests};
//! use amanat::{Policy, SubjectId};
//! use chrono::{TimeZone, Utc};
//! use std::sync::Arc;
//!
//! let policy = Arc::new(Policy::from_toml_str(include_str!(
//!     "../examples/policies/imanum.toml"))?);
//! let requests = SubjectRequests::new(policy);
//! // Thursday 12 June 2025: an access request is answered within ten days (ZRU-547
//! // Art. 22), a correction within three (Art. 11).
//! let received = Utc.with_ymd_and_hms(2025, 6, 12, 9, 0, 0).unwrap();
//! let id = requests.receive(SubjectId::new("cust-1")?, RequestKind::Access, received);
//! assert_eq!(requests.get(id).unwrap().due.to_string(), "2025-06-22");
//! let id = requests.receive(SubjectId::new("cust-1")?, RequestKind::Rectification, received);
//! assert_eq!(requests.get(id).unwrap().due.to_string(), "2025-06-15");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::error::StoreError;
use crate::event::{self as journal, Change, Journaled};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Error;
use crate::audit::{AuditEntry, AuditEvent, AuditLog};
use crate::category::CategoryId;
use crate::consent::{ConsentEvent, ConsentEventKind, ConsentId, ConsentLedger};
use crate::data::RecordId;
use crate::policy::{Deadline, Operator, Policy, Recipient};
use crate::retention::{RetentionSchedule, TrackedRecord};
pub use crate::vocab::register::{RequestKind, SubjectRequest};
use crate::vocab::{LegalBasis, PolicyVersion, Purpose, SubjectId};

/// The register of subjects' requests.
#[derive(Debug)]
pub struct SubjectRequests {
    policy: Arc<Policy>,
    /// By number from 1; `None` where the request was erased with its subject.
    requests: Mutex<Vec<Option<SubjectRequest>>>,
    /// The access requests whose requester's identity was verified, and those whose data
    /// was exported: a request is exported once, and only once verified.
    exports: Mutex<Exports>,
    audit: Option<Arc<AuditLog>>,
    journal: OnceLock<Arc<Journaled>>,
}

impl SubjectRequests {
    /// A register counting deadlines on `policy`'s pack and calendar.
    pub fn new(policy: Arc<Policy>) -> Self {
        Self {
            policy,
            requests: Mutex::new(Vec::new()),
            exports: Mutex::new(Exports::default()),
            audit: None,
            journal: OnceLock::new(),
        }
    }

    /// Records each request received and completed in `log`. A request is the subject's
    /// right: it is registered even when the log can't record it.
    #[must_use]
    pub fn audit(mut self, log: Arc<AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }

    /// Keeps a request's change. A request is the subject's right: it stands even if it
    /// can't be kept (the log or the journal stops then, and an Operator reports it).
    fn keep(&self, at: DateTime<Utc>, event: AuditEvent) {
        let _ = crate::audit::change(
            self.audit.as_ref(),
            self.journal.get().map(|j| &**j),
            at,
            event,
            crate::audit::Stands::Regardless,
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Option<SubjectRequest>>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a request received at `received` and returns its number.
    pub fn receive(&self, subject: SubjectId, kind: RequestKind, received: DateTime<Utc>) -> u64 {
        let day = received.date_naive();
        // A calendar that can't count that far makes the request due at once.
        let due = self.policy.request_due(kind, day).unwrap_or(day);
        let mut requests = self.lock();
        let id = requests.len() as u64 + 1;
        let request = SubjectRequest {
            id,
            subject,
            kind,
            received,
            due,
            completed: None,
        };
        self.keep(
            received,
            AuditEvent::RequestReceived {
                request: request.clone(),
            },
        );
        requests.push(Some(request));
        id
    }

    /// Starts writing changes to `journal`, once an [`Operator`](crate::store::Operator)
    /// has replayed it.
    pub(crate) fn attach(&self, journal: Arc<Journaled>) {
        let _ = self.journal.set(journal);
    }

    /// Applies a change read back from the journal.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] if it is out of order or names an unknown request.
    pub(crate) fn replay(&self, change: Change) -> Result<(), StoreError> {
        let mut requests = self.lock();
        let at = change.at;
        match change.event {
            AuditEvent::RequestReceived { request } => {
                journal::replay_next(&mut requests, request.id, Some(request), "request")
            }
            AuditEvent::RequestCompleted { request, .. } => {
                journal::replay_close(&mut requests, request, "request", |found| {
                    if let Some(found) = found {
                        found.completed.get_or_insert(at);
                    }
                })
            }
            AuditEvent::IdentityVerified { request, .. } => {
                self.exports().verified.insert(request);
                Ok(())
            }
            AuditEvent::Exported { request, .. } => {
                self.exports().exported.insert(request);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn exports(&self) -> std::sync::MutexGuard<'_, Exports> {
        self.exports.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Request `id`, open, of one of `kinds`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRequest`] if there is no such request; [`Error::RequestNotOpen`]
    /// if it was answered already or asks for something else.
    pub(crate) fn open_request(
        &self,
        id: u64,
        kinds: &[RequestKind],
    ) -> Result<SubjectRequest, Error> {
        let request = self.get(id).ok_or(Error::UnknownRequest { request: id })?;
        if request.completed.is_some() {
            return Err(Error::RequestNotOpen {
                request: id,
                why: "it was answered already",
            });
        }
        if !kinds.contains(&request.kind) {
            return Err(Error::RequestNotOpen {
                request: id,
                why: "it asks for something else",
            });
        }
        Ok(request)
    }

    /// Records that the identity of the subject behind access request `id` was verified
    /// by `verified_by`, by `method`, at `at`: it widens what may leave the operator, so it
    /// stands only once kept.
    ///
    /// # Errors
    ///
    /// As [`open_request`](Self::open_request) for an access request;
    /// [`Error::AuditUnavailable`] or [`Error::NotStored`] if it could not be kept.
    pub(crate) fn verify_identity(
        &self,
        id: u64,
        method: String,
        verified_by: String,
        at: DateTime<Utc>,
    ) -> Result<SubjectRequest, Error> {
        let request = self.open_request(id, &[RequestKind::Access])?;
        let mut exports = self.exports();
        crate::audit::change(
            self.audit.as_ref(),
            self.journal.get().map(|j| &**j),
            at,
            AuditEvent::IdentityVerified {
                subject: request.subject.clone(),
                request: id,
                method,
                verified_by,
            },
            crate::audit::Stands::IfRecorded,
        )?;
        exports.verified.insert(id);
        Ok(request)
    }

    /// Runs `export` for access request `id` — once verified, and once only — and keeps
    /// what it says it held before its output is handed back: an export that can't be
    /// kept on the record is not made.
    ///
    /// # Errors
    ///
    /// As [`open_request`](Self::open_request) for an access request;
    /// [`Error::IdentityNotVerified`], [`Error::AlreadyExported`]; `export`'s error;
    /// [`Error::AuditUnavailable`] or [`Error::NotStored`] if it could not be kept.
    pub(crate) fn export_with<T>(
        &self,
        id: u64,
        at: DateTime<Utc>,
        export: impl FnOnce(&SubjectRequest) -> Result<(Vec<RecordId>, T), Error>,
    ) -> Result<T, Error> {
        let request = self.open_request(id, &[RequestKind::Access])?;
        // Held across the export and its record: two calls can't both export it.
        let mut exports = self.exports();
        if !exports.verified.contains(&id) {
            return Err(Error::IdentityNotVerified { request: id });
        }
        if exports.exported.contains(&id) {
            return Err(Error::AlreadyExported { request: id });
        }
        let (records, output) = export(&request)?;
        crate::audit::change(
            self.audit.as_ref(),
            self.journal.get().map(|j| &**j),
            at,
            AuditEvent::Exported {
                subject: request.subject.clone(),
                request: id,
                records,
            },
            crate::audit::Stands::IfRecorded,
        )?;
        exports.exported.insert(id);
        Ok(output)
    }

    /// The request with this number.
    pub fn get(&self, id: u64) -> Option<SubjectRequest> {
        self.lock().get(crate::slot(id)?)?.clone()
    }

    /// Records that request `id` was answered at `at`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRequest`] if there is no such request.
    pub fn complete(&self, id: u64, at: DateTime<Utc>) -> Result<(), Error> {
        let mut requests = self.lock();
        let request = crate::slot(id)
            .and_then(|i| requests.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or(Error::UnknownRequest { request: id })?;
        if request.completed.is_none() {
            request.completed = Some(at);
            let event = AuditEvent::RequestCompleted {
                request: id,
                subject: request.subject.clone(),
                kind: request.kind,
            };
            self.keep(at, event);
            drop(requests);
        }
        Ok(())
    }

    /// Requests not answered by the end of their due day, as of `now`.
    pub fn overdue_requests(&self, now: DateTime<Utc>) -> Vec<SubjectRequest> {
        let today = now.date_naive();
        self.lock()
            .iter()
            .flatten()
            .filter(|r| r.completed.is_none() && r.due < today)
            .cloned()
            .collect()
    }

    /// Requests not yet answered, oldest first.
    pub fn open_requests(&self) -> Vec<SubjectRequest> {
        self.lock()
            .iter()
            .flatten()
            .filter(|r| r.completed.is_none())
            .cloned()
            .collect()
    }

    /// Runs `erase` with the register locked — no request of `subject`'s lands
    /// meanwhile — once every one of theirs was answered;
    /// then erases theirs, if `erase` succeeded: their numbers stay taken.
    ///
    /// # Errors
    ///
    /// [`Error::NotErasable`] if one of theirs is not (`erase` is not run); `erase`'s
    /// error (nothing is erased).
    #[cfg(feature = "sqlite")]
    pub(crate) fn erase_with(
        &self,
        subject: &SubjectId,
        erase: impl FnOnce() -> Result<(), Error>,
    ) -> Result<(), Error> {
        journal::erase_from(
            &mut self.lock(),
            |r| r.subject == *subject,
            |r| r.completed.is_none(),
            "a request of theirs is not answered yet",
            erase,
        )
    }

    /// Replays request `id`, of a subject since erased: its number stays taken.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] if it is out of order.
    pub(crate) fn replay_erased(&self, id: u64) -> Result<(), StoreError> {
        journal::replay_next(&mut self.lock(), id, None, "request")
    }
}

/// Which access requests were verified, and which exported.
#[derive(Debug, Default)]
struct Exports {
    verified: std::collections::HashSet<u64>,
    exported: std::collections::HashSet<u64>,
}

/// What a subject is told on an access request (Tajik law Art. 22.2-22.4): that their data
/// is processed, on which grounds and for which purposes, how, by whom and with whom, for
/// how long, how to exercise their rights, and which transfers were made or are planned.
///
/// It holds this subject's ids, purposes and dates and the operator's declarations — never
/// a personal value, and nothing of any other subject. It serializes to JSON with serde.
/// Build one with [`access_report`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AccessReport {
    /// Whom it is about.
    pub subject: SubjectId,
    /// When it was drawn up.
    pub generated_at: DateTime<Utc>,
    /// The policy version in force.
    pub policy_version: PolicyVersion,
    /// Whether the operator processes any of the subject's data.
    pub processed: bool,
    /// The operator: name, address, contact (`null` when the policy publishes none),
    /// registration.
    pub operator: Operator,
    /// Each legal ground the processing stands on, with its purpose.
    pub grounds: Vec<Ground>,
    /// How the data is processed.
    pub methods: Vec<String>,
    /// Who has access to the data.
    pub access: Vec<String>,
    /// The recipients the policy declares for the subject's purposes and categories, with
    /// where they are.
    pub recipients: Vec<Recipient>,
    /// The retention rule of each category and purpose the subject's data is held for.
    pub retention: Vec<String>,
    /// The subject's records the retention schedule keeps, with their deadlines.
    pub records: Vec<TrackedRecord>,
    /// How to exercise the rights.
    pub rights: Rights,
    /// Transfers of the subject's data made so far, from the audit log.
    pub transfers_made: Vec<TransferMade>,
    /// Transfers abroad the policy plans for the subject's purposes: the recipients outside
    /// the home country.
    pub transfers_planned: Vec<Recipient>,
    /// The decisions made about the subject solely by automated processing, such as a
    /// credit score: how each is made, what it may lead to, and how to object (ZRU-547
    /// Art. 24).
    pub automated_decisions: Vec<AutomatedDecisionMade>,
}

/// A decision made about the subject solely by automated processing, in an
/// [`AccessReport`]: what the operator must explain, and how the subject objects
/// (ZRU-547 Art. 24).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AutomatedDecisionMade {
    /// The purpose that makes it.
    pub purpose: Purpose,
    /// How the decision is made.
    pub logic: String,
    /// What it may lead to for the subject.
    pub effects: String,
    /// The request that objects to it: [`RequestKind::Objection`], filed like any other.
    pub object_by: RequestKind,
    /// How long the operator has to answer an objection, in writing, and the law that
    /// says so.
    pub answered_within: Deadline,
}

/// One legal ground in an [`AccessReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Ground {
    /// The purpose.
    pub purpose: Purpose,
    /// The purpose as the policy describes it.
    pub description: String,
    /// The legal basis, by name (`consent`, `contract`, `legal_obligation`, …).
    pub basis: &'static str,
    /// The consent, when the basis is consent.
    pub consent: Option<ConsentId>,
    /// The reference of another basis: the law, contract or order.
    pub reference: Option<String>,
    /// The categories of data it covers.
    pub categories: Vec<CategoryId>,
    /// Since when.
    pub since: DateTime<Utc>,
    /// `in_force`, `withdrawn`, `expired` or `invalidated` for a consent; `used` for another
    /// basis.
    pub state: &'static str,
}

/// How a subject exercises the rights, in an [`AccessReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Rights {
    /// What the subject may ask for.
    pub requests: Vec<RequestKind>,
    /// Where to ask: the operator's contact, or
    /// [`NOT_PUBLISHED`](crate::policy::NOT_PUBLISHED) followed by its registered address
    /// when the policy publishes none.
    pub contact: String,
    /// How long the operator has to answer, and the law that says so.
    pub answer_within: Deadline,
    /// Consent is withdrawn the way it was given, or by writing to the contact.
    pub withdrawal: String,
}

/// A transfer made, in an [`AccessReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TransferMade {
    /// When.
    pub at: DateTime<Utc>,
    /// The record sent.
    pub record: RecordId,
    /// Its category.
    pub category: String,
    /// To whom.
    pub recipient: String,
    /// Where the recipient is.
    pub country: String,
}

/// Where an [`AccessReport`] draws from: the policy and the ledger always; the retention
/// schedule and the audit log when the operator keeps them.
#[derive(Clone, Copy, Debug)]
pub struct ReportSources<'a> {
    policy: &'a Policy,
    ledger: &'a ConsentLedger,
    schedule: Option<&'a RetentionSchedule>,
    audit: Option<&'a AuditLog>,
}

impl<'a> ReportSources<'a> {
    /// The policy in force and the consent ledger.
    pub fn new(policy: &'a Policy, ledger: &'a ConsentLedger) -> Self {
        Self {
            policy,
            ledger,
            schedule: None,
            audit: None,
        }
    }

    /// Adds the records and deadlines of `schedule`.
    #[must_use]
    pub fn schedule(mut self, schedule: &'a RetentionSchedule) -> Self {
        self.schedule = Some(schedule);
        self
    }

    /// Adds the transfers recorded in `audit`.
    #[must_use]
    pub fn audit(mut self, audit: &'a AuditLog) -> Self {
        self.audit = Some(audit);
        self
    }
}

/// Answers `subject`'s access request from `sources` as of `now`: every item of Art. 22.4,
/// for this subject alone.
///
/// # Errors
///
/// [`Error::AuditUnavailable`] if the audit log can't be read.
///
/// ```
/// use amanat::rights::{access_report, ReportSources};
/// use amanat::{category::Phone, ConsentForm, ConsentLedger, ElectronicMethod, Grant, Policy,
///              Purpose, SubjectId};
/// use chrono::Utc;
///
/// let policy = Policy::from_toml_str(include_str!("../examples/policies/imanum.toml"))?;
/// let ledger = ConsentLedger::with_policy(policy.clone());
/// let subject = SubjectId::new("cust-1")?;
/// ledger.grant(
///     Grant::new(subject.clone(), ConsentForm::Electronic { method: ElectronicMethod::OneTimePassword })
///         .purpose(Purpose::SERVICE_PROVISION)
///         .category::<Phone>(),
/// )?;
///
/// let report = access_report(&subject, ReportSources::new(&policy, &ledger), Utc::now())?;
/// assert!(report.processed);
/// assert_eq!(report.grounds[0].state, "in_force");
/// assert_eq!(report.operator.name, "«IMAN HALAL INVESTMENTS KOMMANDITNOE TOVARISHESTVO» KT");
/// // The policy publishes no contact, and the report makes none up.
/// assert_eq!(report.operator.contact, None);
/// assert!(report.rights.contact.starts_with("not published"));
/// let json = serde_json::to_string_pretty(&report)?;
/// assert!(json.contains("service_provision"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn access_report(
    subject: &SubjectId,
    sources: ReportSources<'_>,
    now: DateTime<Utc>,
) -> Result<AccessReport, Error> {
    let policy = sources.policy;
    let history = sources.ledger.history(subject);
    let grounds = grounds(policy, &history);
    let records = sources
        .schedule
        .map(|s| s.records_of(subject))
        .unwrap_or_default();
    let transfers_made = match sources.audit {
        Some(log) => transfers_of(subject, &log.entries()?),
        None => Vec::new(),
    };
    // The purposes and categories the subject's data is held for: what the rest of the
    // report is narrowed to.
    let mut used: Vec<(Purpose, String)> = grounds
        .iter()
        .flat_map(|g| {
            g.categories
                .iter()
                .map(|c| (g.purpose.clone(), c.to_string()))
        })
        .chain(
            records
                .iter()
                .map(|r| (r.purpose.clone(), r.category.to_string())),
        )
        .collect();
    used.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    used.dedup();
    let held_for =
        |purpose: &Purpose, category: &str| used.iter().any(|(p, c)| p == purpose && c == category);
    let recipients: Vec<Recipient> = policy.recipients_for(held_for).cloned().collect();
    let home = policy.pack().home;
    let transfers_planned = recipients
        .iter()
        .filter(|r| r.country != home)
        .cloned()
        .collect();
    let retention = policy.retention_texts_for(held_for);
    // Only where the pack's law gives the subject the right to object (ZRU-547 Art. 24).
    let objection = policy.pack().automated_decisions.map(|rule| rule.objection);
    let automated_decisions: Vec<AutomatedDecisionMade> = policy
        .purposes()
        .iter()
        .filter(|p| used.iter().any(|(purpose, _)| *purpose == p.id))
        .filter_map(|p| {
            let objection = objection?;
            let decision = p.automated_decision.as_ref()?;
            Some(AutomatedDecisionMade {
                purpose: p.id.clone(),
                logic: decision.logic.clone(),
                effects: decision.effects.clone(),
                object_by: RequestKind::Objection,
                answered_within: objection,
            })
        })
        .collect();
    let mut requests = vec![
        RequestKind::Access,
        RequestKind::Rectification,
        RequestKind::Blocking,
        RequestKind::Destruction,
        RequestKind::Withdrawal,
    ];
    if !automated_decisions.is_empty() {
        requests.push(RequestKind::Objection);
    }
    let operator = policy.operator();
    Ok(AccessReport {
        subject: subject.clone(),
        generated_at: now,
        policy_version: policy.version().clone(),
        processed: !grounds.is_empty() || !records.is_empty(),
        operator: operator.clone(),
        methods: operator.methods.clone(),
        access: operator.access.clone(),
        grounds,
        recipients,
        retention,
        records,
        rights: Rights {
            requests,
            contact: match &operator.contact {
                Some(contact) => contact.clone(),
                None => format!(
                    "{}; write to the registered address: {}",
                    crate::policy::NOT_PUBLISHED,
                    operator.address
                ),
            },
            answer_within: policy.pack().subject_request,
            withdrawal: withdrawal_method(operator),
        },
        transfers_made,
        transfers_planned,
        automated_decisions,
    })
}

/// How a subject withdraws consent (Tajik law Art. 11.1; ZRU-547 Art. 21: in the form it
/// was given, or in writing), as reports and receipts say it: to the contact, or, where the
/// policy publishes none, to the registered address — never a contact made up.
pub(crate) fn withdrawal_method(operator: &Operator) -> String {
    match &operator.contact {
        Some(contact) => format!("the way the consent was given, or by writing to {contact}"),
        None => format!(
            "the way the consent was given, or by writing to the registered address: {} \
             (contact {})",
            operator.address,
            crate::policy::NOT_PUBLISHED
        ),
    }
}

/// Each consent purpose with its current state, and each other basis used, oldest first.
fn grounds(policy: &Policy, history: &[ConsentEvent]) -> Vec<Ground> {
    let mut grounds: Vec<Ground> = Vec::new();
    let describe = |purpose: &Purpose| {
        policy
            .purpose(purpose)
            .map(|p| p.description.clone())
            .unwrap_or_default()
    };
    for event in history {
        let of_consent = |g: &Ground| g.consent == event.consent;
        match &event.kind {
            ConsentEventKind::Given {
                purposes,
                categories,
                ..
            } => grounds.extend(purposes.iter().map(|purpose| Ground {
                purpose: purpose.clone(),
                description: describe(purpose),
                basis: LegalBasis::Consent.name(),
                consent: event.consent,
                reference: None,
                categories: categories.clone(),
                since: event.at,
                state: "in_force",
            })),
            ConsentEventKind::Withdrawn { purposes } => {
                for g in grounds.iter_mut().filter(|g| of_consent(g)) {
                    if purposes.contains(&g.purpose) && g.state == "in_force" {
                        g.state = "withdrawn";
                    }
                }
            }
            ConsentEventKind::Expired | ConsentEventKind::Invalidated { .. } => {
                let state = if matches!(event.kind, ConsentEventKind::Expired) {
                    "expired"
                } else {
                    "invalidated"
                };
                for g in grounds.iter_mut().filter(|g| of_consent(g)) {
                    if g.state == "in_force" {
                        g.state = state;
                    }
                }
            }
            ConsentEventKind::LegalBasisUsed {
                purpose,
                category,
                basis,
            } => {
                let reference = basis.reference().map(str::to_owned);
                // One ground per basis and reference, however often it was used.
                if let Some(known) = grounds.iter_mut().find(|g| {
                    g.consent.is_none()
                        && g.purpose == *purpose
                        && g.basis == basis.name()
                        && g.reference == reference
                }) {
                    if !known.categories.contains(category) {
                        known.categories.push(category.clone());
                    }
                } else {
                    grounds.push(Ground {
                        purpose: purpose.clone(),
                        description: describe(purpose),
                        basis: basis.name(),
                        consent: None,
                        reference,
                        categories: vec![category.clone()],
                        since: event.at,
                        state: "used",
                    });
                }
            }
            ConsentEventKind::Renewed { .. } => {}
        }
    }
    grounds
}

/// The disclosures of `subject`'s data the audit log holds.
fn transfers_of(subject: &SubjectId, entries: &[AuditEntry]) -> Vec<TransferMade> {
    entries
        .iter()
        .filter_map(|entry| match &entry.event {
            AuditEvent::Disclosure {
                record,
                subject: whose,
                category,
                recipient,
                country,
                ..
            } if whose == subject => Some(TransferMade {
                at: entry.at,
                record: *record,
                category: category.to_string(),
                recipient: recipient.clone(),
                country: country.clone(),
            }),
            _ => None,
        })
        .collect()
}
