//! The Tajik pack: Law No. 1537 of 3 August 2018, read from its text (`tajikistan-2018.md`
//! lists every citation with the words it rests on).

use chrono::Weekday;

use super::{
    Articles, BIOMETRIC, BasisRule, DayCount, Deadline, JurisdictionPack, Localisation, Localised,
    TransferRule, WrittenConsentRule, date, law, secondary,
};
use crate::vocab::FormKind;
use crate::vocab::border::{Country, TransferBasis};
use crate::vocab::register::RequestKind;

/// The earliest day the law can apply from: it applies from its official publication
/// (Art. 27), whose date is not in the text; it was signed on this day.
const SIGNED: chrono::NaiveDate = date(2018, 8, 3);

const BIOMETRIC_WRITTEN: super::Citation = law(
    "Law No. 1537, Art. 17.1",
    "biometric data the operator uses to identify the subject is processed only with the \
     subject's written consent, save the cases of part 2",
);

const STORAGE: super::Citation = law(
    "Law No. 1537, Art. 14.2",
    "the personal database is located only in Tajikistan, save cases agreed with the \
     authorised body",
);

const BIOMETRIC_GROUNDS: super::Citation = law(
    "Law No. 1537, Art. 17.2",
    "biometric data without consent: prosecution and justice, court acts, and the laws on \
     defence, security, operational-search work, terrorism, extremism, corruption, money \
     laundering and its financing, sentences, citizenship and civil service",
);

const ANSWER: &str = "the law sets no time to answer it: amanat applies Law No. 1537 Art. 25.1's three \
                      working days for handing the subject their data";

impl JurisdictionPack {
    /// Law of the Republic of Tajikistan "On the Protection of Personal Data", 3 August
    /// 2018, No. 1537.
    ///
    #[doc = include_str!("tajikistan-2018.md")]
    pub const TAJIKISTAN_2018: JurisdictionPack = JurisdictionPack {
        id: "tajikistan-2018",
        title: "Law of the Republic of Tajikistan \"On the Protection of Personal Data\", \
                3 August 2018, No. 1537",
        law: "Law No. 1537",
        home: Country::TJ,
        in_force: SIGNED,
        in_force_citation: secondary(
            "Law No. 1537, Art. 27",
            "the law applies from its official publication; the date of publication is not \
             in the text, so amanat counts from the day it was signed, 3 August 2018, which \
             can only be earlier",
        ),
        written_consent: &[WrittenConsentRule {
            category: BIOMETRIC,
            citation: BIOMETRIC_WRITTEN,
        }],
        // Biometric data needs written consent (Art. 17.1), which already limits its bases.
        restricted: &[],
        special_written: None,
        representative_written: None,
        electronic_document: &[],
        electronic_document_citation: secondary(
            "Law No. 1537, Art. 17.1",
            "the law asks written consent for biometric data and does not say whether an \
             electronic document is written: amanat counts only a signed document",
        ),
        processor_written: None,
        automated_decisions: None,
        articles: Articles {
            registration: law(
                "Law No. 1537, Art. 5.2",
                "collection and processing need the authorised body's certificate of \
                 conformity",
            ),
            written_consent: BIOMETRIC_WRITTEN,
            special_bases: BIOMETRIC_GROUNDS,
            depersonalised: law(
                "Law No. 1537, Art. 19",
                "data processed for statistical, social and scientific research is \
                 depersonalised",
            ),
            other_bases: law(
                "Law No. 1537, Art. 12",
                "without consent: state bodies performing the duties the law sets them, and \
                 the protection of constitutional rights and freedoms",
            ),
            retention: law(
                "Law No. 1537, Art. 14.3, 20",
                "data is kept until the purposes of processing are achieved unless the law \
                 sets otherwise (Law No. 1537 Art. 14.3), and destroyed when that term ends, when the legal \
                 relationship ends, or when a court decision takes effect (Law No. 1537 Art. 20)",
            ),
            storage: STORAGE,
            transfers_abroad: law(
                "Law No. 1537, Art. 18",
                "to countries that protect personal data alike; to others only with consent, \
                 under a treaty, where the law requires it, or to protect rights when consent \
                 can't be had",
            ),
            access: law(
                "Law No. 1537, Art. 22.4",
                "the subject's right to be told of the collection and processing of their data",
            ),
            proof_of_consent: law(
                "Law No. 1537, Art. 25.1",
                "the operator presents proof that the subject's consent was obtained",
            ),
        },
        subject_request: Deadline {
            days: 3,
            counted_in: DayCount::Working,
            citation: law(
                "Law No. 1537, Art. 25.1",
                "the operator hands the subject or their representative the data about them \
                 within three working days of the request (4th indent)",
            ),
        },
        request_deadlines: &[
            (
                RequestKind::Rectification,
                Deadline {
                    days: 3,
                    counted_in: DayCount::Working,
                    citation: secondary(
                        "Law No. 1537, Art. 22.1",
                        "the subject may demand that their data be corrected; the law sets no \
                         time to answer it: amanat applies Law No. 1537 Art. 25.1's three working days",
                    ),
                },
            ),
            (
                RequestKind::Blocking,
                Deadline {
                    days: 3,
                    counted_in: DayCount::Working,
                    citation: secondary("Law No. 1537, Art. 22.1", ANSWER),
                },
            ),
            (
                RequestKind::Destruction,
                Deadline {
                    days: 3,
                    counted_in: DayCount::Working,
                    citation: secondary("Law No. 1537, Art. 22.1", ANSWER),
                },
            ),
            (
                RequestKind::Withdrawal,
                Deadline {
                    days: 0,
                    counted_in: DayCount::Calendar,
                    citation: secondary(
                        "Law No. 1537, Art. 11.1",
                        "the subject or their representative gives consent and withdraws it; \
                         a withdrawal takes effect when it is made: the same day",
                    ),
                },
            ),
        ],
        transfer_notice: Deadline {
            days: 3,
            counted_in: DayCount::Working,
            citation: law(
                "Law No. 1537, Art. 21.1",
                "who transferred data to a third party, and a third party that got it not \
                 from the subject, notify the subject within three working days",
            ),
        },
        notice_exemptions: super::NoticeExemptions {
            consent: true,
            state_body: true,
            made_public: true,
            citation: law(
                "Law No. 1537, Art. 21.3",
                "no notice where the subject consented to the transfer, a state body performs \
                 its duties, the subject made the data public or had it made public, or the \
                 notice would violate others' rights",
            ),
        },
        // Art. 21 asks a notice of a transfer only.
        change_notice: None,
        localisation: &[Localisation {
            categories: Localised::All,
            from: SIGNED,
            until: None,
            waivable_by_agreement: true,
            // Art. 14.2 places the database; transfers abroad are Art. 18's.
            covers_transfers: false,
            citation: STORAGE,
        }],
        transfer_bases: &[
            TransferRule {
                basis: TransferBasis::Consent,
                from: SIGNED,
                until: None,
                citation: law(
                    "Law No. 1537, Art. 18.2",
                    "the consent of the subject or their representative to the transfer abroad",
                ),
            },
            TransferRule {
                basis: TransferBasis::Treaty,
                from: SIGNED,
                until: None,
                citation: law(
                    "Law No. 1537, Art. 18.2",
                    "the cases of international treaties Tajikistan recognises",
                ),
            },
            TransferRule {
                basis: TransferBasis::Law,
                from: SIGNED,
                until: None,
                citation: law(
                    "Law No. 1537, Art. 18.2",
                    "the cases the law provides, where needed to protect the constitutional \
                     order, public order, rights, health, defence or state security",
                ),
            },
            TransferRule {
                basis: TransferBasis::ProtectionOfRights,
                from: SIGNED,
                until: None,
                citation: law(
                    "Law No. 1537, Art. 18.2",
                    "to protect constitutional rights and freedoms when the subject's consent \
                     can't be had",
                ),
            },
        ],
        weakest_consent: FormKind::Implied,
        weakest_consent_citation: secondary(
            "Law No. 1537, Art. 8.1",
            "processing needs the consent of the subject or their representative; the law \
             prescribes no form, save written consent for biometric data (Law No. 1537 Art. 17.1)",
        ),
        // Art. 12's list is closed: no ground of a private operator's legal duty, and no
        // court order of its own (a court is a state body performing its duties).
        bases_without_consent: &[
            BasisRule {
                basis: "state_function",
                citation: law(
                    "Law No. 1537, Art. 12",
                    "state bodies performing the duties the law sets them",
                ),
            },
            BasisRule {
                basis: "protection_of_rights",
                citation: law(
                    "Law No. 1537, Art. 12",
                    "protection of the constitutional rights and freedoms of the person and the \
                     citizen",
                ),
            },
            BasisRule {
                basis: "biometric_exception",
                citation: BIOMETRIC_GROUNDS,
            },
        ],
        weekend: &[Weekday::Sat, Weekday::Sun],
        weekend_citation: secondary(
            "Labour Code of the Republic of Tajikistan",
            "a five-day working week; not stated in Law No. 1537, check the policy's calendar",
        ),
    };
}
