//! Consent receipts (Tajik law Art. 25.1: the operator must be able to prove consent).
//!
//! - Export: a consent of the ledger as an [`Iso27560Record`] (ISO/IEC TS 27560) and as a
//!   Kantara Consent Receipt v1.1 document ([`Iso27560Record::to_kantara`]), both built from
//!   its [`ConsentProof`].
//! - Import: a Kantara Consent Receipt v1.1 from elsewhere, as evidence of a consent given
//!   to another controller. Every field the specification requires is checked, and each
//!   missing or malformed one is named by its path in the document.
//!
//! ```
//! use amanat::receipts::KantaraReceipt;
//! // The example published with the specification, unchanged (tests/data/README.md).
//! let json = include_str!("../tests/data/kantara-cr-v1.1-example.json");
//! let receipt = KantaraReceipt::parse(json)?;
//! assert_eq!(receipt.receipt_id(), "c1befd3e-b7e5-4ea6-8688-e9a565aade21");
//! assert_eq!(receipt.purposes().count(), 4);
//! # Ok::<(), amanat::receipts::ReceiptError>(())
//! ```

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::audit::ChainHash;
use crate::category::CategoryId;
use crate::consent::{ConsentEventKind, ConsentId, ConsentProof};
use crate::policy::{Country, Operator, Policy, RecipientRole};
use crate::vocab::{ConsentForm, Evidence, PolicyVersion, Purpose, SubjectId};

/// What is wrong with a receipt, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// The text is not JSON.
    #[error("a consent receipt is a JSON document: {0}")]
    NotJson(String),
    /// A required field is absent.
    #[error("{field}: required by Kantara Consent Receipt v1.1, missing")]
    Missing {
        /// Its path in the document, such as `services[0].purposes[1].termination`.
        field: String,
    },
    /// A receipt was asked for under another policy version than the consent's.
    #[error("the consent was given under policy {given}, not {passed}")]
    OtherPolicy {
        /// The version the consent was given under.
        given: String,
        /// The version passed.
        passed: String,
    },
    /// A field has the wrong type or an unusable value.
    #[error("{field}: expected {expected}")]
    Malformed {
        /// Its path in the document.
        field: String,
        /// What the specification wants there.
        expected: &'static str,
    },
}

/// A purpose of a service in a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiptPurpose {
    /// The service it belongs to.
    pub service: String,
    /// Its description, if the receipt gives one.
    pub purpose: Option<String>,
    /// `EXPLICIT`, `IMPLICIT`, `N/A`, …
    pub consent_type: String,
    /// The purpose categories.
    pub purpose_categories: Vec<String>,
    /// The personal-data categories.
    pub pii_categories: Vec<String>,
    /// When the consent ends, in words.
    pub termination: String,
    /// Whether data goes to a third party, and to whom.
    pub third_party: Option<String>,
}

/// A validated Kantara Consent Receipt v1.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KantaraReceipt {
    receipt_id: String,
    version: String,
    jurisdiction: String,
    consent_time: DateTime<Utc>,
    collection_method: String,
    principal: String,
    controllers: Vec<String>,
    policy_url: String,
    purposes: Vec<ReceiptPurpose>,
    sensitive: bool,
    sensitive_categories: Vec<String>,
}

fn field<'a>(object: &'a Value, path: &str, key: &str) -> Result<&'a Value, ReceiptError> {
    match object.get(key) {
        None | Some(Value::Null) => Err(ReceiptError::Missing {
            field: format!("{path}{key}"),
        }),
        Some(value) => Ok(value),
    }
}

fn text(object: &Value, path: &str, key: &str) -> Result<String, ReceiptError> {
    field(object, path, key)?
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ReceiptError::Malformed {
            field: format!("{path}{key}"),
            expected: "a string",
        })
}

fn list<'a>(object: &'a Value, path: &str, key: &str) -> Result<&'a Vec<Value>, ReceiptError> {
    field(object, path, key)?
        .as_array()
        .ok_or_else(|| ReceiptError::Malformed {
            field: format!("{path}{key}"),
            expected: "an array",
        })
}

fn texts(object: &Value, path: &str, key: &str) -> Result<Vec<String>, ReceiptError> {
    list(object, path, key)?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| ReceiptError::Malformed {
                    field: format!("{path}{key}[{i}]"),
                    expected: "a string",
                })
        })
        .collect()
}

fn flag(object: &Value, path: &str, key: &str) -> Result<bool, ReceiptError> {
    field(object, path, key)?
        .as_bool()
        .ok_or_else(|| ReceiptError::Malformed {
            field: format!("{path}{key}"),
            expected: "true or false",
        })
}

impl KantaraReceipt {
    /// Parses and checks a receipt.
    ///
    /// # Errors
    ///
    /// [`ReceiptError`] naming the first required field that is missing or malformed.
    pub fn parse(json: &str) -> Result<Self, ReceiptError> {
        let doc: Value =
            serde_json::from_str(json).map_err(|e| ReceiptError::NotJson(e.to_string()))?;
        if !doc.is_object() {
            return Err(ReceiptError::Malformed {
                field: "(document)".into(),
                expected: "a JSON object",
            });
        }
        let version = text(&doc, "", "version")?;
        let jurisdiction = text(&doc, "", "jurisdiction")?;
        let seconds =
            field(&doc, "", "consentTimestamp")?
                .as_i64()
                .ok_or(ReceiptError::Malformed {
                    field: "consentTimestamp".into(),
                    expected: "an integer number of seconds",
                })?;
        let consent_time = DateTime::from_timestamp(seconds, 0).ok_or(ReceiptError::Malformed {
            field: "consentTimestamp".into(),
            expected: "seconds within the representable range",
        })?;
        let collection_method = text(&doc, "", "collectionMethod")?;
        let receipt_id = text(&doc, "", "consentReceiptID")?;
        let principal = text(&doc, "", "piiPrincipalId")?;
        let mut controllers = Vec::new();
        for (i, controller) in list(&doc, "", "piiControllers")?.iter().enumerate() {
            let path = format!("piiControllers[{i}].");
            controllers.push(text(controller, &path, "piiController")?);
            for key in ["contact", "email", "phone"] {
                text(controller, &path, key)?;
            }
            field(controller, &path, "address")?;
        }
        if controllers.is_empty() {
            return Err(ReceiptError::Missing {
                field: "piiControllers[0]".into(),
            });
        }
        let policy_url = text(&doc, "", "policyUrl")?;
        let mut purposes = Vec::new();
        for (i, service) in list(&doc, "", "services")?.iter().enumerate() {
            let path = format!("services[{i}].");
            let name = text(service, &path, "service")?;
            for (j, purpose) in list(service, &path, "purposes")?.iter().enumerate() {
                let path = format!("services[{i}].purposes[{j}].");
                let discloses = flag(purpose, &path, "thirdPartyDisclosure")?;
                purposes.push(ReceiptPurpose {
                    service: name.clone(),
                    purpose: purpose
                        .get("purpose")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    consent_type: text(purpose, &path, "consentType")?,
                    purpose_categories: texts(purpose, &path, "purposeCategory")?,
                    pii_categories: texts(purpose, &path, "piiCategory")?,
                    termination: text(purpose, &path, "termination")?,
                    // Required only when data goes to a third party.
                    third_party: if discloses {
                        Some(text(purpose, &path, "thirdPartyName")?)
                    } else {
                        None
                    },
                });
            }
        }
        let sensitive = flag(&doc, "", "sensitive")?;
        let sensitive_categories = texts(&doc, "", "spiCat")?;
        Ok(Self {
            receipt_id,
            version,
            jurisdiction,
            consent_time,
            collection_method,
            principal,
            controllers,
            policy_url,
            purposes,
            sensitive,
            sensitive_categories,
        })
    }

    /// The receipt's id.
    pub fn receipt_id(&self) -> &str {
        &self.receipt_id
    }

    /// The specification version it declares.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The jurisdiction it names.
    pub fn jurisdiction(&self) -> &str {
        &self.jurisdiction
    }

    /// When consent was given.
    pub fn consent_time(&self) -> DateTime<Utc> {
        self.consent_time
    }

    /// How it was collected, in words.
    pub fn collection_method(&self) -> &str {
        &self.collection_method
    }

    /// The principal's id at the other controller. It is personal data: keep it out of
    /// logs.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The controllers' names.
    pub fn controllers(&self) -> &[String] {
        &self.controllers
    }

    /// The privacy policy it was given under.
    pub fn policy_url(&self) -> &str {
        &self.policy_url
    }

    /// Every purpose of every service.
    pub fn purposes(&self) -> impl Iterator<Item = &ReceiptPurpose> {
        self.purposes.iter()
    }

    /// Whether it covers sensitive data, and which categories.
    pub fn sensitive(&self) -> (bool, &[String]) {
        (self.sensitive, &self.sensitive_categories)
    }

    /// The receipt as evidence for a [`Grant`](crate::Grant): a record kept by another
    /// system, named by its receipt id.
    pub fn evidence(&self) -> Evidence {
        Evidence::External {
            system: format!("Kantara Consent Receipt {}", self.version),
            reference: self.receipt_id.clone(),
        }
    }
}

/// A consent exported as a record aligned with ISO/IEC TS 27560:2023 (consent record
/// information structure): who consented to what, under which notice, with whom it is
/// shared, where it is kept, for how long, how to withdraw, and each event since.
///
/// Built from a [`ConsentProof`] and the policy by [`Iso27560Record::new`]; serializes to
/// JSON with the standard's field names. It holds ids, purposes, categories and the
/// operator's declarations — never a personal value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Iso27560Record {
    /// The structure this follows.
    pub schema_version: &'static str,
    /// The consent's id.
    pub record_id: ConsentId,
    /// The subject's opaque id.
    pub pii_principal_id: SubjectId,
    /// The notice the consent was given under.
    pub privacy_notice: PrivacyNotice,
    /// The language the notice was shown in.
    pub language: String,
    /// How consent was collected: `written`, `electronic: one_time_password`, `implied`.
    pub collection_method: String,
    /// Whether it was given expressly (written or electronic) rather than implied.
    pub explicit: bool,
    /// Each purpose with the categories it uses, its retention and its recipients.
    pub purposes: Vec<RecordPurpose>,
    /// The lawful basis: consent, and the article that makes it one.
    pub lawful_basis: String,
    /// The categories of personal data covered.
    pub pii_information: Vec<CategoryId>,
    /// The controller, as the policy declares it: its `contact` is `null` when the policy
    /// publishes none.
    pub pii_controllers: Vec<Operator>,
    /// Where the data is kept.
    pub storage_locations: Vec<Country>,
    /// The retention rules that apply, in words.
    pub retention_period: Vec<String>,
    /// The law it was given under.
    pub jurisdiction: Country,
    /// Who receives the data.
    pub recipient_third_parties: Vec<ThirdParty>,
    /// How to withdraw.
    pub withdrawal_method: String,
    /// When the latest event happened.
    pub event_time: DateTime<Utc>,
    /// How long the consent lasts from its latest event (ISO 8601), `None` for "until
    /// withdrawn".
    pub validity_duration: Option<String>,
    /// Who recorded the events: the operator.
    pub entity_id: String,
    /// The latest event: `given`, `renewed`, `withdrawn`, `expired`, `invalidated`.
    pub event_type: &'static str,
    /// The consent's state after it, as a W3C DPV consent status.
    pub event_state: &'static str,
    /// Every event, oldest first, in the same terms.
    pub events: Vec<RecordEvent>,
}

/// The notice a consent was given under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PrivacyNotice {
    /// The policy version.
    pub version: PolicyVersion,
    /// SHA-256 of the policy's JSON form, as lower-case hex.
    pub hash: ChainHash,
    /// Where it is published, if the policy says.
    pub url: Option<String>,
}

/// A purpose in an [`Iso27560Record`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RecordPurpose {
    /// The purpose's id.
    pub purpose: Purpose,
    /// As the policy describes it.
    pub description: String,
    /// The categories it uses under this consent.
    pub pii_information: Vec<CategoryId>,
    /// Its retention rules, in words.
    pub retention_period: Vec<String>,
    /// The recipients declared for it.
    pub recipient_third_parties: Vec<ThirdParty>,
}

/// A recipient in an [`Iso27560Record`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ThirdParty {
    /// Its name.
    pub name: String,
    /// Where it is.
    pub country: Country,
    /// `processor`, `third_party` or `state_body`.
    pub role: RecipientRole,
}

/// An event in an [`Iso27560Record`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RecordEvent {
    /// When.
    pub event_time: DateTime<Utc>,
    /// How long the consent lasts from it (ISO 8601), `None` for "until withdrawn" or
    /// after it ended.
    pub validity_duration: Option<String>,
    /// Who recorded it.
    pub entity_id: String,
    /// What happened.
    pub event_type: &'static str,
    /// The state after it, as a W3C DPV consent status.
    pub event_state: &'static str,
}

/// The consent's "given" event: what it covered.
struct Given<'a> {
    purposes: &'a [Purpose],
    categories: &'a [CategoryId],
    form: &'a ConsentForm,
    valid_until: Option<DateTime<Utc>>,
}

fn given(proof: &ConsentProof) -> Option<Given<'_>> {
    proof.events.iter().find_map(|event| match &event.kind {
        ConsentEventKind::Given {
            purposes,
            categories,
            form,
            valid_until,
            ..
        } => Some(Given {
            purposes,
            categories,
            form,
            valid_until: *valid_until,
        }),
        _ => None,
    })
}

/// ISO 8601 duration from `from` to `until`, in whole seconds.
fn duration(from: DateTime<Utc>, until: Option<DateTime<Utc>>) -> Option<String> {
    until.map(|until| format!("PT{}S", (until - from).num_seconds().max(0)))
}

/// The W3C DPV status after an event.
fn dpv_status(kind: &ConsentEventKind) -> &'static str {
    match kind {
        ConsentEventKind::Given { .. } => "dpv:ConsentGiven",
        ConsentEventKind::Renewed { .. } => "dpv:RenewedConsentGiven",
        ConsentEventKind::Withdrawn { .. } => "dpv:ConsentWithdrawn",
        ConsentEventKind::Expired => "dpv:ConsentExpired",
        ConsentEventKind::Invalidated { .. } => "dpv:ConsentInvalidated",
        ConsentEventKind::LegalBasisUsed { .. } => "dpv:ConsentStatusValidForProcessing",
    }
}

/// Whether a consent for `purposes` on `categories` covers this pair.
fn covers<'a>(
    purposes: &'a [Purpose],
    categories: &'a [CategoryId],
) -> impl Fn(&Purpose, &str) -> bool + 'a {
    move |purpose, category| {
        purposes.contains(purpose) && categories.iter().any(|c| c.as_str() == category)
    }
}

fn third_parties(
    policy: &Policy,
    purposes: &[Purpose],
    categories: &[CategoryId],
) -> Vec<ThirdParty> {
    policy
        .recipients_for(covers(purposes, categories))
        .map(|r| ThirdParty {
            name: r.name.clone(),
            country: r.country,
            role: r.role,
        })
        .collect()
}

fn retention(policy: &Policy, purposes: &[Purpose], categories: &[CategoryId]) -> Vec<String> {
    policy.retention_texts_for(covers(purposes, categories))
}

impl Iso27560Record {
    /// The record of the consent `proof` is about, under `policy`, whose notice was shown
    /// in `language` (an ISO 639-1 code such as `uz`, `tg`, `ru`).
    ///
    /// # Errors
    ///
    /// [`ReceiptError::Missing`] naming `events` if the proof holds no "given" event;
    /// [`ReceiptError::OtherPolicy`] if `policy` is not the version the consent was given
    /// under, whose text the notice hash must describe.
    ///
    /// The record is built from the proof as it is: check it first with
    /// [`ConsentProof::verify_against`] when it comes from elsewhere.
    pub fn new(
        proof: &ConsentProof,
        policy: &Policy,
        language: &str,
    ) -> Result<Self, ReceiptError> {
        let given = given(proof).ok_or(ReceiptError::Missing {
            field: "events[given]".into(),
        })?;
        if *policy.version() != proof.policy_version {
            return Err(ReceiptError::OtherPolicy {
                given: proof.policy_version.to_string(),
                passed: policy.version().to_string(),
            });
        }
        let operator = policy.operator();
        let entity_id = operator.name.clone();
        // The latest end of validity, as renewals moved it.
        let mut valid_until = given.valid_until;
        let mut events = Vec::with_capacity(proof.events.len());
        for event in &proof.events {
            if let ConsentEventKind::Renewed { valid_until: until } = &event.kind {
                valid_until = *until;
            }
            let open = matches!(
                event.kind,
                ConsentEventKind::Given { .. } | ConsentEventKind::Renewed { .. }
            );
            events.push(RecordEvent {
                event_time: event.at,
                validity_duration: if open {
                    duration(event.at, valid_until)
                } else {
                    None
                },
                entity_id: entity_id.clone(),
                event_type: event.change(),
                event_state: dpv_status(&event.kind),
            });
        }
        let purposes = given
            .purposes
            .iter()
            .map(|purpose| RecordPurpose {
                purpose: purpose.clone(),
                description: policy
                    .purpose(purpose)
                    .map(|p| p.description.clone())
                    .unwrap_or_default(),
                pii_information: given.categories.to_vec(),
                retention_period: retention(
                    policy,
                    std::slice::from_ref(purpose),
                    given.categories,
                ),
                recipient_third_parties: third_parties(
                    policy,
                    std::slice::from_ref(purpose),
                    given.categories,
                ),
            })
            .collect();
        let storage_locations = policy
            .storage()
            .iter()
            .filter(|s| {
                s.categories.is_empty()
                    || s.categories
                        .iter()
                        .any(|c| given.categories.iter().any(|k| k.as_str() == c))
            })
            .map(|s| s.country)
            .collect();
        let latest = events.last().cloned().ok_or(ReceiptError::Missing {
            field: "events".into(),
        })?;
        Ok(Self {
            schema_version: "ISO/IEC TS 27560:2023",
            record_id: proof.consent,
            pii_principal_id: proof.subject.clone(),
            privacy_notice: PrivacyNotice {
                version: proof.policy_version.clone(),
                hash: ChainHash::of_json(policy),
                url: operator.policy_url.clone(),
            },
            language: language.to_owned(),
            collection_method: match given.form {
                ConsentForm::Written { .. } => "written".to_owned(),
                ConsentForm::Electronic { method } => format!(
                    "electronic: {}",
                    serde_json::to_value(method)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
                ConsentForm::Implied => "implied".to_owned(),
            },
            explicit: !matches!(given.form, ConsentForm::Implied),
            purposes,
            lawful_basis: format!("consent ({})", policy.pack().title),
            pii_information: given.categories.to_vec(),
            pii_controllers: vec![operator.clone()],
            storage_locations,
            retention_period: retention(policy, given.purposes, given.categories),
            jurisdiction: policy.pack().home,
            recipient_third_parties: third_parties(policy, given.purposes, given.categories),
            withdrawal_method: crate::rights::withdrawal_method(operator),
            event_time: latest.event_time,
            validity_duration: latest.validity_duration,
            entity_id,
            event_type: latest.event_type,
            event_state: latest.event_state,
            events,
        })
    }

    /// When the consent ends, in words: ended already, at a known time, or on withdrawal.
    fn termination(&self) -> String {
        match (self.event_type, self.validity_duration.as_deref()) {
            ("given" | "renewed", None) => "until withdrawn".to_owned(),
            ("given" | "renewed", Some(duration)) => {
                format!("{duration} after {}", self.event_time.to_rfc3339())
            }
            (ended, _) => format!("ended: {ended} at {}", self.event_time.to_rfc3339()),
        }
    }

    /// The same consent as a Kantara Consent Receipt v1.1 document, which
    /// [`KantaraReceipt::parse`] accepts.
    ///
    /// # Errors
    ///
    /// [`ReceiptError::Missing`] for `policyUrl` when the policy's operator declares no
    /// notice address: the specification requires a URL, and the library does not make one
    /// up.
    ///
    /// When the policy publishes no contact or no telephone number,
    /// `piiControllers[0].contact`, `.email` and `.phone` — required strings whose form the
    /// specification does not prescribe — read [`NOT_PUBLISHED`](crate::policy::NOT_PUBLISHED):
    /// a value a v1.1 reader such as [`KantaraReceipt::parse`] accepts, and no contact made
    /// up. The controller's address is the policy's.
    pub fn to_kantara(&self, policy: &Policy) -> Result<Value, ReceiptError> {
        let operator = policy.operator();
        let contact = operator.contact_or_not_published();
        let phone = operator
            .phone
            .clone()
            .unwrap_or_else(|| crate::policy::NOT_PUBLISHED.to_owned());
        let policy_url = operator.policy_url.clone().ok_or(ReceiptError::Missing {
            field: "policyUrl".into(),
        })?;
        let given_at = self
            .events
            .first()
            .map_or(self.event_time, |e| e.event_time);
        let special: Vec<&str> = self
            .pii_information
            .iter()
            .filter(|c| policy.category(c.as_str()).is_some_and(|d| d.special))
            .map(CategoryId::as_str)
            .collect();
        let purposes: Vec<Value> = self
            .purposes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let names: Vec<&str> = p
                    .recipient_third_parties
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect();
                let mut purpose = json!({
                    "purpose": if p.description.is_empty() { p.purpose.as_str() } else { &p.description },
                    "purposeCategory": [p.purpose.as_str()],
                    "consentType": if self.explicit { "EXPLICIT" } else { "IMPLICIT" },
                    "piiCategory": p.pii_information.iter().map(super::category::CategoryId::as_str).collect::<Vec<_>>(),
                    "primaryPurpose": i == 0,
                    "termination": self.termination(),
                    "thirdPartyDisclosure": !names.is_empty(),
                });
                if !names.is_empty() {
                    purpose["thirdPartyName"] = Value::from(names.join(", "));
                }
                purpose
            })
            .collect();
        Ok(json!({
            "version": "KI-CR-v1.1.0",
            "jurisdiction": self.jurisdiction.as_str(),
            "consentTimestamp": given_at.timestamp(),
            "collectionMethod": self.collection_method,
            "consentReceiptID": self.record_id.to_string(),
            "language": self.language,
            "piiPrincipalId": self.pii_principal_id.as_str(),
            "piiControllers": [{
                "piiController": operator.name,
                "contact": contact,
                "address": { "streetAddress": operator.address, "addressCountry": self.jurisdiction.as_str() },
                "email": contact,
                "phone": phone,
            }],
            "policyUrl": policy_url,
            "services": [{ "service": operator.name, "purposes": purposes }],
            "sensitive": !special.is_empty(),
            "spiCat": special,
        }))
    }
}
