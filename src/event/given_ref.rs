//! A consent given, read from a compact encoding with its texts borrowed: the form in which
//! an operator's open rebuilds a million consents from a snapshot without a copy of what
//! their records share.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::ChainHash;
use crate::vocab::ids::ConsentId;
use crate::vocab::{ConsentForm, Evidence, GivenBy};

/// [`Given`](super::Given) as a binary encoding (postcard) holds it, field for field, its
/// ids and versions as the text they are written as: checked when used, as `Given`'s own
/// are when read.
#[derive(Debug, Deserialize)]
pub(crate) struct GivenRef<'a> {
    pub(crate) consent: ConsentId,
    pub(crate) subject: &'a str,
    #[serde(with = "crate::vocab::when")]
    pub(crate) at: DateTime<Utc>,
    #[serde(borrow)]
    pub(crate) purposes: Vec<&'a str>,
    #[serde(borrow)]
    pub(crate) categories: Vec<(&'a str, bool)>,
    pub(crate) form: ConsentForm,
    pub(crate) given_by: GivenBy,
    pub(crate) policy_version: &'a str,
    pub(crate) evidence: Option<Evidence>,
    pub(crate) recipients: Vec<String>,
    pub(crate) cross_border: bool,
    #[serde(with = "crate::vocab::when::option")]
    pub(crate) valid_until: Option<DateTime<Utc>>,
}

/// Where [`Event::ConsentGiven`](super::Event::ConsentGiven) is among the events: the index
/// a binary encoding writes before its fields.
const CONSENT_GIVEN: u32 = 1;

/// The consent an encoded `(secs, nanos, event)` gives, if its event is a
/// [`ConsentGiven`](super::Event::ConsentGiven) — `Ok(None)` for any other event —
/// as postcard wrote it.
///
/// # Errors
///
/// If it is a consent given that does not decode whole.
pub(crate) fn given_in(change: &[u8]) -> Result<Option<GivenRef<'_>>, postcard::Error> {
    let (_secs, rest) = postcard::take_from_bytes::<i64>(change)?;
    let (_nanos, rest) = postcard::take_from_bytes::<u32>(rest)?;
    let (variant, rest) = postcard::take_from_bytes::<u32>(rest)?;
    if variant != CONSENT_GIVEN {
        return Ok(None);
    }
    let (given, rest) = postcard::take_from_bytes::<GivenRef<'_>>(rest)?;
    let (_digest, rest) = postcard::take_from_bytes::<ChainHash>(rest)?;
    if rest.is_empty() {
        Ok(Some(given))
    } else {
        Err(postcard::Error::DeserializeBadEncoding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Event;
    use crate::category::CategoryId;
    use crate::event::Given;
    use crate::vocab::{PolicyVersion, Purpose, SubjectId};

    fn encoded(event: &Event) -> Vec<u8> {
        postcard::to_stdvec(&(1_700_000_000_i64, 7_u32, event)).unwrap()
    }

    #[test]
    fn a_consent_given_reads_back_field_for_field_with_its_texts_borrowed() {
        let given = Given {
            consent: ConsentId::random(),
            subject: SubjectId::new("cust-41").unwrap(),
            at: DateTime::from_timestamp(1_700_000_000, 123).unwrap(),
            purposes: vec![Purpose::CREDIT_SCORING, Purpose::new("own_use").unwrap()],
            categories: vec![
                (CategoryId::new("phone"), false),
                (CategoryId::new("biometric"), true),
            ],
            form: ConsentForm::Written {
                document_sha256: crate::vocab::DocumentHash::of(b"signed form"),
            },
            given_by: GivenBy::LegalRepresentative {
                name: "guardian".into(),
                basis: "decision 7".into(),
            },
            policy_version: PolicyVersion::new("2026-01").unwrap(),
            evidence: Some(Evidence::External {
                system: "crm".into(),
                reference: "r-1".into(),
            }),
            recipients: vec!["bureau".into()],
            cross_border: true,
            valid_until: DateTime::from_timestamp(1_800_000_000, 0),
        };
        let bytes = encoded(&Event::ConsentGiven {
            given: Box::new(given.clone()),
            digest: ChainHash::of(b"given"),
        });
        let read = given_in(&bytes).unwrap().unwrap();
        assert_eq!(read.consent, given.consent);
        assert_eq!(read.subject, given.subject.as_str());
        assert_eq!(read.at, given.at);
        let purposes: Vec<&str> = given.purposes.iter().map(Purpose::as_str).collect();
        assert_eq!(read.purposes, purposes);
        let categories: Vec<(&str, bool)> = given
            .categories
            .iter()
            .map(|(id, special)| (id.as_str(), *special))
            .collect();
        assert_eq!(read.categories, categories);
        assert_eq!(read.form, given.form);
        assert_eq!(read.given_by, given.given_by);
        assert_eq!(read.policy_version, given.policy_version.as_str());
        assert_eq!(read.evidence, given.evidence);
        assert_eq!(read.recipients, given.recipients);
        assert_eq!(read.cross_border, given.cross_border);
        assert_eq!(read.valid_until, given.valid_until);

        // Any other event is not one; one with bytes after it, or cut short, is refused.
        let other = encoded(&Event::PolicyChange {
            version: PolicyVersion::new("v2").unwrap(),
        });
        assert!(given_in(&other).unwrap().is_none());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(given_in(&longer).is_err());
        assert!(given_in(&bytes[..bytes.len() - 1]).is_err());
    }
}
