//! Disclosure: every transfer of personal data goes through a permit, and the notice the
//! subject is owed is worked out with it (Tajik law Art. 16, 18, 21).
//!
//! A [`TransferPermit<C>`] is issued by a [`Disclosures`] register from a token for the
//! transfer's purpose, only when the policy declares the recipient for that purpose and
//! category, and — for a recipient abroad — when its country is on the adequacy list, the
//! subject consented to transfers abroad, or the policy states a treaty or law ground
//! (Art. 18). [`Disclosures::disclose`] then hands the value to your transfer code and
//! records the [`TransferNotice`] owed, due within the pack's deadline on the policy's
//! calendar, unless an exemption of the pack applies — under Tajik law Art. 21.3, the
//! subject consented to this recipient; under either law, the recipient is a state body
//! performing its duties (ZRU-547 Art. 23), or the subject made
//! the record's data public, or had it made public — stated on the record
//! ([`PersonalData::made_public`]), for a category declared public-access says nothing of
//! who published a given value.
//!
//! Data a third party gave owes its own notice, from the operator now holding it
//! (Art. 21.1). The register hears of such a record as it is collected, through the
//! ledger whose token collected it ([`Disclosures::hear_collections`]): a record sits in a
//! layer below this register and can't name it, so the register is reached the way the
//! audit log is, through the ledger's services. An [`Operator`](crate::store::Operator)'s
//! register hears its ledger from the start.
//!
//! A notice not sent by its due day raises the register's [`AlertHook`] once
//! ([`Disclosures::check_overdue`]; an operator's sweep checks), and a recipient the
//! policy declares with `hold_until_notified` receives nothing more until it is sent.
//!
//! A permit is typed by category, so a passport permit can't carry a selfie:
//!
//! ```compile_fail
//! # use amanat::{category::{Biometric, Passport}, disclosure::{Disclosures, TransferPermit}, PersonalData};
//! fn send(d: &Disclosures, selfie: &PersonalData<Vec<u8>, Biometric>, permit: &TransferPermit<Passport>) {
//!     let _ = d.disclose(selfie, permit, |bytes| bytes.len());
//! }
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::category::Named;
use crate::error::StoreError;
use crate::event::{self as journal, Change, Journaled};

use chrono::{DateTime, Utc};
use serde::Serialize;
use zeroize::Zeroize;

use crate::Error;
use crate::audit::{self, Alert, AlertHook, AlertKey, AuditEvent, AuditLog, Stands};
use crate::category::Category;
use crate::consent::{Collected, CollectionNotices, ConsentLedger, ConsentToken};
use crate::data::{PersonalData, Publication, RecordId, Source};
use crate::policy::{Country, Policy, RecipientRole, TransferBasis};
pub use crate::vocab::register::TransferNotice;
use crate::vocab::{Actor, LegalBasis, Purpose, SubjectId};

/// Why a transfer abroad is allowed (Art. 18).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CrossBorderGround {
    /// Not abroad: the recipient is in the home country.
    Domestic,
    /// The country is on the policy's adequacy list.
    Adequate,
    /// The subject consented to transfers abroad.
    SubjectConsent,
    /// A ground the policy states for the recipient: a treaty, a law, protection of rights,
    /// approved clauses or standards.
    Stated(TransferBasis),
}

/// Leave to send one subject's data of category `C` to one recipient for one purpose.
/// Made only by [`Disclosures::permit`]; not cloneable, not serializable.
pub struct TransferPermit<C: Category> {
    token: ConsentToken<C>,
    recipient: String,
    country: Country,
    ground: CrossBorderGround,
    notice_owed: bool,
}

impl<C: Category> TransferPermit<C> {
    /// The recipient's id in the policy.
    pub fn recipient(&self) -> &str {
        &self.recipient
    }

    /// The recipient's country.
    pub fn country(&self) -> Country {
        self.country
    }

    /// Why crossing the border (or not) is allowed.
    pub fn ground(&self) -> CrossBorderGround {
        self.ground
    }

    /// Whether a disclosure under this permit owes the subject a notice (Art. 21): the
    /// subject did not consent to this recipient, nor is it a state body performing its
    /// duties. A record its subject made public owes none even so
    /// ([`DisclosureReceipt::notice`] says what a disclosure owed).
    pub fn notice_owed(&self) -> bool {
        self.notice_owed
    }

    /// The subject.
    pub fn subject(&self) -> &SubjectId {
        self.token.subject()
    }

    /// The purpose.
    pub fn purpose(&self) -> &Purpose {
        self.token.purpose()
    }
}

impl<C: Category> fmt::Debug for TransferPermit<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransferPermit")
            .field("category", &C::ID)
            .field("subject", self.subject())
            .field("purpose", self.purpose())
            .field("recipient", &self.recipient)
            .field("country", &self.country)
            .field("ground", &self.ground)
            .field("notice_owed", &self.notice_owed)
            .field("token", &self.token)
            .finish()
    }
}

/// What a disclosure did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DisclosureReceipt {
    /// The record disclosed.
    pub record: RecordId,
    /// To whom.
    pub recipient: String,
    /// Its country.
    pub country: Country,
    /// Why crossing the border (or not) was allowed.
    pub ground: CrossBorderGround,
    /// The legal basis of the transfer.
    pub basis: LegalBasis,
    /// The notice owed, if any: none when the permit owes none, or the record was made
    /// public by its subject before the transfer.
    pub notice: Option<u64>,
}

/// The register of transfers: issues permits, runs disclosures, keeps the notices owed.
pub struct Disclosures {
    policy: Arc<Policy>,
    /// By number from 1; `None` where the notice was erased with its subject.
    notices: Mutex<Vec<Option<TransferNotice>>>,
    /// What an operator keeps of the records stated made public by their subjects.
    published: Mutex<HashMap<RecordId, (SubjectId, Publication)>>,
    /// The overdue notices already alerted, by number.
    alerted: Mutex<HashSet<u64>>,
    alerts: Option<Arc<dyn AlertHook>>,
    audit: Option<Arc<AuditLog>>,
    journal: OnceLock<Arc<Journaled>>,
}

// Counts, not contents: where subjects published their data is not for a log line.
impl fmt::Debug for Disclosures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disclosures")
            .field("policy", self.policy.version())
            .field("notices", &self.notices().len())
            .field("alerts", &self.alerts.is_some())
            .field("audit", &self.audit.is_some())
            .finish_non_exhaustive()
    }
}

impl Disclosures {
    /// A register for `policy`'s recipients and calendar.
    pub fn new(policy: Arc<Policy>) -> Self {
        Self {
            policy,
            notices: Mutex::new(Vec::new()),
            published: Mutex::new(HashMap::new()),
            alerted: Mutex::new(HashSet::new()),
            alerts: None,
            audit: None,
            journal: OnceLock::new(),
        }
    }

    /// Raises `hook` once for each notice found overdue
    /// ([`check_overdue`](Self::check_overdue)).
    #[must_use]
    pub fn alerts(mut self, hook: Arc<dyn AlertHook>) -> Self {
        self.alerts = Some(hook);
        self
    }

    /// Owes here, as each is collected, the notice of every record collected from a third
    /// party with a token of `ledger` ([`PersonalData::collect_from`]): no call of
    /// [`collected_from_third_party`](Self::collected_from_third_party) is needed for them.
    /// A ledger owes them in one register: returns `false`, and changes nothing, if
    /// `ledger` has one already (an [`Operator`](crate::store::Operator)'s has its own).
    ///
    /// ```
    /// use amanat::category::Phone;
    /// use amanat::data::Source;
    /// use amanat::disclosure::Disclosures;
    /// use amanat::{ConsentForm, ConsentLedger, ElectronicMethod, Grant, PersonalData, Policy,
    ///              Purpose, SubjectId};
    /// use std::sync::Arc;
    ///
    /// let policy = Policy::from_toml_str(include_str!("../examples/policies/imanum.toml"))?;
    /// let disclosures = Arc::new(Disclosures::new(Arc::new(policy.clone())));
    /// let ledger = ConsentLedger::with_policy(policy);
    /// assert!(disclosures.hear_collections(&ledger));
    ///
    /// let subject = SubjectId::new("cust-7")?;
    /// ledger.grant(
    ///     Grant::new(subject.clone(), ConsentForm::Electronic {
    ///         method: ElectronicMethod::OneTimePassword,
    ///     })
    ///     .purpose(Purpose::SERVICE_PROVISION)
    ///     .category::<Phone>(),
    /// )?;
    /// let token = ledger.authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)?;
    /// let from_bureau = Source::ThirdParty { name: "KATM".into() };
    /// let phone = PersonalData::collect_from(&subject, String::from("+998901234567"), from_bureau, &token)?;
    /// // The notice was owed as the phone was collected.
    /// let owed = disclosures.pending_notices(phone.collected_at());
    /// assert_eq!(owed.len(), 1);
    /// assert_eq!(owed[0].record, phone.id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hear_collections(self: &Arc<Self>, ledger: &ConsentLedger) -> bool {
        ledger
            .owe_collections_in(Arc::clone(self) as Arc<dyn CollectionNotices>)
            .is_ok()
    }

    /// Records every disclosure, notice owed and notice sent in `log`. Without it, a
    /// disclosure and a notice owed are recorded in the audit log of the ledger the token
    /// or the data came from, if it keeps one — but a notice sent is not, since
    /// [`mark_sent`](Self::mark_sent) has neither: give the register the log to record it.
    #[must_use]
    pub fn audit(mut self, log: Arc<AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }

    fn notices(&self) -> std::sync::MutexGuard<'_, Vec<Option<TransferNotice>>> {
        self.notices.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Issues a permit to send the token's subject's data of category `C` to `recipient`
    /// (the policy's id) for the token's purpose. The token is consumed: it lives on in the
    /// permit, which a withdrawal fails like the token.
    ///
    /// # Errors
    ///
    /// [`Error::RecipientNotDeclared`] if the policy does not declare the recipient for this
    /// purpose and category (Art. 16); [`Error::TransferHeld`] if the policy declares it
    /// with `hold_until_notified` and a notice of an earlier transfer to it is overdue on
    /// the token's day, until that notice is [marked sent](Self::mark_sent);
    /// [`Error::CrossBorderRefused`] if the recipient is
    /// abroad in a country neither adequate, nor consented to, nor covered by a stated
    /// ground (Art. 18); the token's own refusals.
    pub fn permit<C: Category>(
        &self,
        token: ConsentToken<C>,
        recipient: &str,
    ) -> Result<TransferPermit<C>, Error> {
        token.still_valid()?;
        let declared = self.policy.recipient(recipient).filter(|r| {
            r.purposes.contains(token.purpose()) && r.categories.iter().any(|c| c == C::NAME)
        });
        let Some(declared) = declared else {
            return Err(Error::RecipientNotDeclared {
                recipient: recipient.to_owned(),
                purpose: token.purpose().clone(),
                category: C::ID,
            });
        };
        let on_consent = token.consent().is_some();
        let pack = self.policy.pack();
        // A processor is entrusted with the processing itself: on consent, only a written
        // one, an electronic document included (ZRU-547 Art. 31).
        if let (Some(rule), Some(consent)) = (pack.processor_written, token.consent())
            && declared.role == RecipientRole::Processor
            && token
                .consent_strength(pack)
                .is_none_or(|kind| kind < crate::vocab::FormKind::Written)
        {
            return Err(Error::WrittenConsentRequired {
                subject: token.subject().clone(),
                purpose: token.purpose().clone(),
                category: C::ID,
                consent,
                article: rule.article,
            });
        }
        // The law in force on the day of the transfer, not the day the policy was written:
        // the Uzbek grounds and localisation changed in 2026.
        let today = token.checked_at().date_naive();
        self.check_hold(recipient, today)?;
        let refused_by = |article| Error::CrossBorderRefused {
            subject: token.subject().clone(),
            recipient: recipient.to_owned(),
            country: declared.country.to_string(),
            article,
        };
        let refused = || refused_by(pack.articles.transfers_abroad.article);
        let accepted = |basis| pack.accepts_transfer(basis, today).is_some();
        let ground = if declared.country == pack.home {
            CrossBorderGround::Domestic
        } else if let Some(rule) = pack
            .localisation
            .iter()
            .find(|rule| rule.covers_transfers && rule.in_force_on(C::NAME, today))
        {
            // Data the law keeps at home leaves on no ground (ZRU-547 Art. 27-1 as amended).
            return Err(refused_by(rule.citation.article));
        } else if self.policy.adequacy().contains(&declared.country) {
            CrossBorderGround::Adequate
        } else if on_consent && token.consented_cross_border() && accepted(TransferBasis::Consent) {
            CrossBorderGround::SubjectConsent
        } else {
            match declared.transfer_basis {
                // Protection of rights stands only when the processing itself does.
                Some(TransferBasis::ProtectionOfRights)
                    if matches!(token.legal_basis(), LegalBasis::ProtectionOfRights { .. })
                        && accepted(TransferBasis::ProtectionOfRights) =>
                {
                    CrossBorderGround::Stated(TransferBasis::ProtectionOfRights)
                }
                Some(
                    basis @ (TransferBasis::Treaty
                    | TransferBasis::Law
                    | TransferBasis::StandardClauses
                    | TransferBasis::InternationalStandards),
                ) if accepted(basis) => CrossBorderGround::Stated(basis),
                _ => return Err(refused()),
            }
        };
        // The pack's exemptions (Tajik law Art. 21.3; ZRU-547 Art. 23): the subject's
        // consent to this transfer (Tajik law only), a state body's duties. Data made public
        // by the subject is the record's to say, not the category's: `disclose` asks it.
        let exempt = pack.notice_exemptions;
        let consented = exempt.consent && on_consent && token.consented_to_recipient(recipient);
        let state_duty = exempt.state_body && declared.role == RecipientRole::StateBody;
        Ok(TransferPermit {
            notice_owed: !(consented || state_duty),
            recipient: recipient.to_owned(),
            country: declared.country,
            ground,
            token,
        })
    }

    /// Hands `data`'s value to `send` — your code that transfers it — under `permit`, and
    /// records the notice owed: none when the permit owes none, or the subject made the
    /// record public before now ([`PersonalData::made_public`], or
    /// [`Operator::made_public`](crate::store::Operator::made_public) for a record an
    /// operator keeps). Data a third party gave owes its own notice too, here, if it is not
    /// owed already ([`collected_from_third_party`](Self::collected_from_third_party)).
    ///
    /// # Errors
    ///
    /// As [`PersonalData::read`] with the permit's token; [`Error::AuditUnavailable`] if
    /// the audit log can't record the disclosure; [`Error::NotStored`] if an
    /// [`Operator`](crate::store::Operator)'s journal can't keep the notice it owes.
    /// `send` is not called then.
    pub fn disclose<T: Zeroize, C: Category, R>(
        &self,
        data: &PersonalData<T, C>,
        permit: &TransferPermit<C>,
        send: impl FnOnce(&T) -> R,
    ) -> Result<(R, DisclosureReceipt), Error> {
        let log = self.audit.as_ref().or(permit.token.audit_log());
        let now = permit.token.checked_at();
        // A permit taken before a notice to its recipient fell overdue is held too.
        self.check_hold(&permit.recipient, now.date_naive())?;
        // Art. 21.3: made public by the subject, by the time of the transfer.
        let public = data
            .publication()
            .cloned()
            .or_else(|| self.publication(data.id()))
            .is_some_and(|publication| publication.at <= now);
        let owed =
            permit.notice_owed && !(public && self.policy.pack().notice_exemptions.made_public);
        // The disclosure and its notice are on the record before `send` sees the value: a
        // transfer the audit log can't record is not made.
        let recorded = data.with(&permit.token, |value| {
            let mut notices = self.notices();
            let notice = owed.then(|| notices.len() as u64 + 1);
            audit::record(log, now, || AuditEvent::Disclosure {
                record: data.id(),
                subject: data.subject().clone(),
                category: C::NAME.into(),
                actor: permit.token.actor().cloned(),
                recipient: permit.recipient.clone(),
                country: permit.country.to_string(),
                notice,
            })?;
            if notice.is_some() {
                let declared = self.policy.recipient(&permit.recipient);
                let owed = self.notice(
                    &mut notices,
                    &Collected {
                        record: data.id(),
                        subject: data.subject(),
                        category: C::ID,
                        purpose: permit.purpose(),
                        source: data.source(),
                        at: now,
                    },
                    Holder {
                        recipient: Some(permit.recipient.clone()),
                        name: declared.map_or_else(|| permit.recipient.clone(), |r| r.name.clone()),
                        address: declared.map(|r| r.address.clone()).unwrap_or_default(),
                    },
                );
                debug_assert_eq!(Some(owed), notice);
                // A transfer widens processing: one whose notice can't be kept is not made.
                if let Err(failed) = self.keep_notice(log, &notices, Stands::IfRecorded) {
                    notices.pop();
                    return Err(failed);
                }
            }
            // `send` is your code: it runs without the register's lock.
            drop(notices);
            Ok::<_, Error>((send(value), notice))
        });
        let (outcome, notice) = recorded??;
        // Sent on from here: the operator holds it, so its own notice is owed if a third
        // party gave it and nothing owed that yet.
        self.collected_from_third_party(data);
        Ok((
            outcome,
            DisclosureReceipt {
                record: data.id(),
                recipient: permit.recipient.clone(),
                country: permit.country,
                ground: permit.ground,
                basis: permit.token.legal_basis().clone(),
                notice,
            },
        ))
    }

    /// Records the notice owed for data collected from a third party rather than from the
    /// subject (Art. 21.1): the operator, now holding it, tells the subject. Returns its
    /// number, or `None` when the data came from the subject. Once per record: a record
    /// whose notice is owed already — as it was collected, through a ledger this register
    /// [hears](Self::hear_collections), or by an earlier call — gets that notice's number.
    pub fn collected_from_third_party<T: Zeroize, C: Category>(
        &self,
        data: &PersonalData<T, C>,
    ) -> Option<u64> {
        self.owe_collected(
            &Collected {
                record: data.id(),
                subject: data.subject(),
                category: C::ID,
                purpose: data.purpose(),
                source: data.source(),
                at: data.collected_at(),
            },
            data.audit_log(),
        )
    }

    /// Owes the notice of `collected`, if a third party gave it and none is owed yet.
    fn owe_collected(&self, collected: &Collected<'_>, log: Option<&Arc<AuditLog>>) -> Option<u64> {
        if !matches!(collected.source, Source::ThirdParty { .. }) {
            return None;
        }
        // Once per record, however often it is asked.
        let operator = self.policy.operator();
        let mut notices = self.notices();
        if let Some(known) = notices.iter().flatten().find(|n| {
            n.record == collected.record && n.recipient.is_none() && n.holder == operator.name
        }) {
            return Some(known.id);
        }
        let id = self.notice(
            &mut notices,
            collected,
            Holder {
                recipient: None,
                name: operator.name.clone(),
                address: operator.address.clone(),
            },
        );
        let log = self.audit.as_ref().or(log);
        // Owed to the subject whatever happens: a log or journal that can't keep it stops,
        // and an Operator reports it.
        let _ = self.keep_notice(log, &notices, Stands::Regardless);
        Some(id)
    }

    /// Adds the notice owed of `what` happening to `holder` to `notices`, and returns its
    /// number.
    fn notice(
        &self,
        notices: &mut Vec<Option<TransferNotice>>,
        what: &Collected<'_>,
        holder: Holder,
    ) -> u64 {
        let at = what.at;
        let due = self
            .policy
            .transfer_notice_due(at.date_naive())
            // A calendar that can't count that far owes the notice at once.
            .unwrap_or_else(|| at.date_naive());
        let id = notices.len() as u64 + 1;
        let notice = TransferNotice {
            id,
            subject: what.subject.clone(),
            record: what.record,
            category: what.category.clone(),
            holder: holder.name,
            address: holder.address,
            purpose: what.purpose.clone(),
            source: what.source.clone(),
            recipient: holder.recipient,
            at,
            due,
            sent_at: None,
        };
        notices.push(Some(notice));
        id
    }

    /// Keeps the notice owed last added, in `log` and the journal.
    ///
    /// # Errors
    ///
    /// [`Error::AuditUnavailable`] or [`Error::NotStored`] if it can't be kept; the log or
    /// the journal stops then.
    fn keep_notice(
        &self,
        log: Option<&Arc<AuditLog>>,
        notices: &[Option<TransferNotice>],
        stands: Stands,
    ) -> Result<(), Error> {
        notices
            .last()
            .and_then(Option::as_ref)
            .map_or(Ok(()), |notice| {
                audit::change(
                    log,
                    self.journal.get().map(|j| &**j),
                    notice.at,
                    AuditEvent::NoticeOwed {
                        notice: notice.clone(),
                    },
                    stands,
                )
            })
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
    /// [`StoreError::Corrupt`] if it is out of order or names an unknown notice.
    pub(crate) fn replay(&self, change: Change) -> Result<(), StoreError> {
        let mut notices = self.notices();
        let at = change.at;
        match change.event {
            AuditEvent::NoticeOwed { notice } => {
                journal::replay_next(&mut notices, notice.id, Some(notice), "notice")
            }
            AuditEvent::NoticeSent { notice } => {
                // One erased with its subject stays erased.
                journal::replay_close(&mut notices, notice, "notice", |owed| {
                    if let Some(owed) = owed {
                        owed.sent_at.get_or_insert(at);
                    }
                })
            }
            AuditEvent::MadePublic {
                record,
                subject,
                publication,
                ..
            } => {
                self.published_map().insert(record, (subject, publication));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Runs `erase` with the register locked — no notice of `subject`'s lands
    /// meanwhile — once every one of theirs was sent;
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
            &mut self.notices(),
            |r| r.subject == *subject,
            |r| r.sent_at.is_none(),
            "a notice to them is not sent yet",
            erase,
        )?;
        // Where they published their data goes with them.
        self.published_map()
            .retain(|_, (whose, _)| whose != subject);
        Ok(())
    }

    /// Replays notice `id`, owed to a subject since erased: its number stays taken.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] if it is out of order.
    pub(crate) fn replay_erased(&self, id: u64) -> Result<(), StoreError> {
        journal::replay_next(&mut self.notices(), id, None, "notice")
    }

    /// Notices not yet sent and not yet overdue at `now`, oldest first.
    pub fn pending_notices(&self, now: DateTime<Utc>) -> Vec<TransferNotice> {
        let today = now.date_naive();
        self.notices()
            .iter()
            .flatten()
            .filter(|n| n.sent_at.is_none() && n.due >= today)
            .cloned()
            .collect()
    }

    /// Notices not sent by the end of their due day, as of `now`. Only lists them:
    /// [`check_overdue`](Self::check_overdue) raises the alert.
    pub fn overdue_notices(&self, now: DateTime<Utc>) -> Vec<TransferNotice> {
        let today = now.date_naive();
        self.notices()
            .iter()
            .flatten()
            .filter(|n| n.sent_at.is_none() && n.due < today)
            .cloned()
            .collect()
    }

    /// Raises the [alert hook](Self::alerts) for every notice not sent by the end of its
    /// due day, as of `now`, that it was not raised for before, and returns those alerts —
    /// whether or not there is a hook. Once per notice in this register's life: call it as
    /// often as you like (an [`Operator`](crate::store::Operator)'s sweep does); an
    /// operator reopened raises each notice still overdue once more. The alert names the
    /// notice, its recipient and due day — never the subject or the data.
    ///
    /// ```
    /// use amanat::audit::{Alert, AlertHook, AlertKey};
    /// use amanat::disclosure::Disclosures;
    /// use amanat::Policy;
    /// use std::sync::{Arc, Mutex};
    ///
    /// struct Pager(Mutex<Vec<Alert>>);
    /// impl AlertHook for Pager {
    ///     fn alert(&self, alert: &Alert) { self.0.lock().unwrap().push(alert.clone()); }
    /// }
    ///
    /// let policy = Arc::new(Policy::from_toml_str(include_str!("../examples/policies/imanum.toml"))?);
    /// let pager = Arc::new(Pager(Mutex::new(Vec::new())));
    /// let disclosures = Disclosures::new(policy).alerts(pager.clone());
    /// // Nothing is owed yet, so nothing is overdue.
    /// assert!(disclosures.check_overdue(chrono::Utc::now()).is_empty());
    /// assert!(pager.0.lock().unwrap().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_overdue(&self, now: DateTime<Utc>) -> Vec<Alert> {
        let today = now.date_naive();
        let fired: Vec<Alert> = {
            let notices = self.notices();
            let mut alerted = self.alerted.lock().unwrap_or_else(PoisonError::into_inner);
            notices
                .iter()
                .flatten()
                .filter(|n| n.sent_at.is_none() && n.due < today && alerted.insert(n.id))
                .map(|n| Alert {
                    key: AlertKey::OverdueNotice {
                        notice: n.id,
                        recipient: n.recipient.clone(),
                        due: n.due,
                    },
                    refusals: 0,
                    at: now,
                })
                .collect()
        };
        // The hook runs outside the locks: it may be slow, and may send the notice.
        if let Some(hook) = &self.alerts {
            for alert in &fired {
                hook.alert(alert);
            }
        }
        fired
    }

    /// The oldest notice of a transfer to `recipient` not sent by the end of its due day,
    /// as of `today`.
    /// Refuses a transfer to `recipient` while a notice of one to it is overdue on `today`,
    /// where the policy holds its transfers until notified.
    fn check_hold(&self, recipient: &str, today: chrono::NaiveDate) -> Result<(), Error> {
        let held = self
            .policy
            .recipient(recipient)
            .is_some_and(|r| r.hold_until_notified);
        match held.then(|| self.overdue_to(recipient, today)).flatten() {
            Some(notice) => Err(Error::TransferHeld {
                recipient: recipient.to_owned(),
                notice,
                article: self.policy.pack().transfer_notice.citation.article,
            }),
            None => Ok(()),
        }
    }

    fn overdue_to(&self, recipient: &str, today: chrono::NaiveDate) -> Option<u64> {
        self.notices()
            .iter()
            .flatten()
            .find(|n| {
                n.sent_at.is_none() && n.due < today && n.recipient.as_deref() == Some(recipient)
            })
            .map(|n| n.id)
    }

    fn published_map(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<RecordId, (SubjectId, Publication)>> {
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Where `record` came from, where a third party gave it: the notice its collection
    /// owes names the source, and the register keeps it for as long as the record's
    /// subject is known — what a copy fetched from an operator's store is told of it.
    pub(crate) fn collected_from(&self, record: RecordId) -> Option<Source> {
        let operator = &self.policy.operator().name;
        self.notices()
            .iter()
            .flatten()
            .find(|n| {
                n.record == record
                    && n.recipient.is_none()
                    && n.holder == *operator
                    && matches!(n.source, Source::ThirdParty { .. })
            })
            .map(|n| n.source.clone())
    }

    /// What an operator keeps of `record`'s publication by its subject, if anything.
    pub(crate) fn publication(&self, record: RecordId) -> Option<Publication> {
        self.published_map()
            .get(&record)
            .map(|(_, publication)| publication.clone())
    }

    /// Records that notice `id` was sent at `at`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownNotice`] if there is no such notice; [`Error::SentBeforeOwed`] if
    /// `at` is before the notice was owed.
    pub fn mark_sent(&self, id: u64, at: DateTime<Utc>) -> Result<(), Error> {
        let mut notices = self.notices();
        let notice = crate::slot(id)
            .and_then(|i| notices.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or(Error::UnknownNotice { notice: id })?;
        // A notice is not sent before it was owed: a time before it would lift a hold
        // on the recipient with a notice never sent.
        if at < notice.at {
            return Err(Error::SentBeforeOwed {
                notice: id,
                owed_at: notice.at,
            });
        }
        if notice.sent_at.is_none() {
            notice.sent_at = Some(at);
            // Sent is sent: the record of it is best effort, and so is keeping it (the
            // journal stops where it can't, and an Operator reports it).
            let _ = audit::change(
                self.audit.as_ref(),
                self.journal.get().map(|j| &**j),
                at,
                AuditEvent::NoticeSent { notice: id },
                Stands::Regardless,
            );
        }
        Ok(())
    }
}

/// Who holds the data a notice is about, as the notice names it.
struct Holder {
    /// The policy's id of the recipient of a transfer; `None` for the operator.
    recipient: Option<String>,
    name: String,
    address: String,
}

impl CollectionNotices for Disclosures {
    fn collected(&self, collected: &Collected<'_>, log: Option<&Arc<AuditLog>>) {
        self.owe_collected(collected, log);
    }

    /// Keeps that `subject`'s `record` was made public, as `publication` says: in the audit
    /// log and the journal first, for it narrows what the subject is told.
    ///
    /// # Errors
    ///
    /// [`Error::BlankPublication`] if it names no place; [`Error::AuditUnavailable`] or
    /// [`Error::NotStored`] if it can't be kept — nothing changes then.
    fn keep_publication(
        &self,
        record: RecordId,
        subject: &SubjectId,
        publication: Publication,
        actor: Option<&Actor>,
        at: DateTime<Utc>,
    ) -> Result<(), Error> {
        if publication.reference.trim().is_empty() {
            return Err(Error::BlankPublication { record });
        }
        // Held while it is kept, so the replay's order is this one's.
        let mut published = self.published_map();
        audit::change(
            self.audit.as_ref(),
            self.journal.get().map(|j| &**j),
            at,
            AuditEvent::MadePublic {
                actor: actor.cloned(),
                record,
                subject: subject.clone(),
                publication: publication.clone(),
            },
            Stands::IfRecorded,
        )?;
        published.insert(record, (subject.clone(), publication));
        Ok(())
    }
}
