//! Consent receipts from elsewhere: a Kantara Consent Receipt v1.1 imported as evidence of
//! a consent given to another controller (Tajik law Art. 25.1: the operator must be able
//! to prove consent).
//!
//! Every field the specification requires is checked, and each missing or malformed one is
//! named by its path in the document.
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
use serde_json::Value;

use crate::vocab::Evidence;

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
