//! The Uzbek pack: ZRU-547 of 2 July 2019, read from its consolidated text (to ZRU-880 of
//! 2023); what only secondary sources say — ZRU-1125 of 2026, the Ministry of Justice
//! order's form — stays marked secondary. `uzbekistan-2019.md` lists every citation with the
//! words it rests on.

use chrono::Weekday;

use super::{
    Articles, AutomatedDecisionRule, BIOMETRIC, BasisRule, DayCount, Deadline, JurisdictionPack,
    Localisation, Localised, RestrictedCategory, TransferRule, date, law, secondary,
};
use crate::category::CategoryId;
use crate::vocab::border::{Country, TransferBasis};
use crate::vocab::register::RequestKind;
use crate::vocab::{ElectronicMethod, FormKind};

/// ZRU-547 Art. 36.
const IN_FORCE: chrono::NaiveDate = date(2019, 10, 1);
/// The day ZRU-1125 (secondary sources) rewrote Art. 15 and 27-1.
const ZRU_1125: chrono::NaiveDate = date(2026, 3, 26);

const SPECIAL_WRITTEN: super::Citation = law(
    "ZRU-547, Art. 25",
    "special data (racial or social origin, political, religious or other beliefs, party or \
     union membership, physical or mental health, private life, convictions) is processed on \
     the subject's written consent, an electronic document included",
);

const STORAGE: super::Citation = law(
    "ZRU-547, Art. 27-1",
    "Uzbek citizens' data processed with information technology is collected, systematised \
     and stored on hardware physically in Uzbekistan, in databases on the State register",
);

const TRANSFERS: super::Citation = law(
    "ZRU-547, Art. 15",
    "to countries that protect subjects' rights alike; to others with the subject's consent, \
     to protect the constitutional order, public order, citizens' rights, health and morals, \
     or under a treaty",
);

/// Art. 26: biometric and genetic data only on consent, save treaties, justice,
/// enforcement proceedings and the other cases a law provides.
const BIOMETRIC_CONSENT: super::Citation = law(
    "ZRU-547, Art. 26",
    "biometric and genetic data used to identify the subject are processed only with the \
     subject's consent, save treaties, justice, enforcement proceedings and the other cases \
     the law provides",
);

/// What Art. 26 lets reach biometric data without consent: its own grounds, a court's
/// decision, and the cases a law provides (a legal duty, a state body's).
const BIOMETRIC_BASES: &[&str] = &[
    "biometric_exception",
    "court_order",
    "legal_obligation",
    "state_function",
];

const OBJECTION: Deadline = Deadline {
    days: 10,
    counted_in: DayCount::Calendar,
    citation: law(
        "ZRU-547, Art. 24",
        "the operator considers an objection to an automated decision and tells the subject \
         the result in writing within ten days",
    ),
};

const LEGAL_DUTY: &str = "processing needed to perform the owner's or operator's duties set by \
                          law";

impl JurisdictionPack {
    /// Law of the Republic of Uzbekistan "On Personal Data", 2 July 2019, No. ZRU-547, as
    /// amended (localisation from 2021, narrowed by ZRU-1125 of 26 March 2026).
    ///
    #[doc = include_str!("uzbekistan-2019.md")]
    pub const UZBEKISTAN_2019: JurisdictionPack = JurisdictionPack {
        id: "uzbekistan-2019",
        title: "Law of the Republic of Uzbekistan \"On Personal Data\", 2 July 2019, No. ZRU-547",
        law: "ZRU-547",
        home: Country::UZ,
        in_force: IN_FORCE,
        in_force_citation: law(
            "ZRU-547, Art. 36",
            "the law enters into force on 1 October 2019",
        ),
        // Art. 26 asks consent for biometric and genetic data, in no particular form: the
        // written form is Art. 25's, for special data, and Art. 21's, for representatives.
        written_consent: &[],
        restricted: &[
            RestrictedCategory {
                category: BIOMETRIC,
                bases: BIOMETRIC_BASES,
                citation: BIOMETRIC_CONSENT,
            },
            RestrictedCategory {
                category: CategoryId::new("genetic"),
                bases: BIOMETRIC_BASES,
                citation: BIOMETRIC_CONSENT,
            },
        ],
        special_written: Some(SPECIAL_WRITTEN),
        representative_written: Some(law(
            "ZRU-547, Art. 21",
            "for a subject who lacks or has limited legal capacity, and for a minor, the legal \
             representative, parents or guardians consent in writing, an electronic document \
             included",
        )),
        electronic_document: &[ElectronicMethod::DigitalSignature],
        electronic_document_citation: secondary(
            "Law of the Republic of Uzbekistan \"On Electronic Document Management\" (2004)",
            "an electronic document is confirmed by an electronic digital signature; that law \
             is not among amanat's sources, so only a digitally signed consent counts as an \
             electronic document — a one-time password does not",
        ),
        processor_written: Some(law(
            "ZRU-547, Art. 31",
            "the operator entrusts the processing to a third party only on the subject's \
             written consent, an electronic document included, to perform a contract with \
             the subject, or where the law provides",
        )),
        automated_decisions: Some(AutomatedDecisionRule {
            consent_form: FormKind::Written,
            objection: OBJECTION,
            citation: law(
                "ZRU-547, Art. 24",
                "a decision with legal effect made solely by automated processing needs the \
                 subject's written consent (an electronic document included), a contract, or a \
                 law; the operator explains the procedure and its consequences, lets the \
                 subject object, and answers in writing within ten days",
            ),
        }),
        articles: Articles {
            registration: law(
                "ZRU-547, Art. 20",
                "personal databases are registered in the State register of personal \
                 databases; a change is reported within ten calendar days",
            ),
            written_consent: SPECIAL_WRITTEN,
            special_bases: law(
                "ZRU-547, Art. 25, 26",
                "special data without written consent only on the grounds of ZRU-547 Art. 25; \
                 biometric and genetic data without consent only for treaties, justice, \
                 enforcement proceedings and other cases in law (ZRU-547 Art. 26)",
            ),
            depersonalised: law(
                "ZRU-547, Art. 16",
                "data processed for historical, statistical, sociological or scientific \
                 research is depersonalised",
            ),
            other_bases: law(
                "ZRU-547, Art. 18",
                "processing on consent, a contract with the subject, the operator's legal \
                 duty, the protection of lawful interests, and the other grounds listed",
            ),
            retention: law(
                "ZRU-547, Art. 10, 17",
                "data is kept until the purpose of collecting and processing it is achieved \
                 (ZRU-547 Art. 10), and destroyed when the purpose is achieved, consent is withdrawn, \
                 the term the consent set ends, or a court decision takes effect (ZRU-547 Art. 17)",
            ),
            storage: STORAGE,
            transfers_abroad: TRANSFERS,
            access: law(
                "ZRU-547, Art. 22",
                "the subject's right to information on the processing of their data",
            ),
            proof_of_consent: law(
                "ZRU-547, Art. 31",
                "the operator presents proof that the subject's consent was obtained",
            ),
        },
        subject_request: Deadline {
            days: 10,
            counted_in: DayCount::Calendar,
            citation: secondary(
                "ZRU-547, Art. 22",
                "a refusal to inform the subject is sent in writing within ten days; the law \
                 sets no other time, so amanat holds the answer to the same ten days",
            ),
        },
        request_deadlines: &[
            (
                RequestKind::Rectification,
                Deadline {
                    days: 3,
                    counted_in: DayCount::Calendar,
                    citation: law(
                        "ZRU-547, Art. 11",
                        "data is changed or completed on the subject's request within three \
                         days of it",
                    ),
                },
            ),
            (
                RequestKind::Blocking,
                Deadline {
                    days: 3,
                    counted_in: DayCount::Calendar,
                    citation: secondary(
                        "ZRU-547, Art. 30",
                        "the subject may demand that processing be suspended; the law sets no \
                         time: amanat applies ZRU-547 Art. 11's three days",
                    ),
                },
            ),
            (
                RequestKind::Destruction,
                Deadline {
                    days: 3,
                    counted_in: DayCount::Calendar,
                    citation: secondary(
                        "ZRU-547, Art. 17",
                        "data is destroyed in the cases ZRU-547 Art. 17 lists; the law sets no time to \
                         answer a request: amanat applies ZRU-547 Art. 11's three days",
                    ),
                },
            ),
            (
                RequestKind::Withdrawal,
                Deadline {
                    days: 0,
                    counted_in: DayCount::Calendar,
                    citation: secondary(
                        "ZRU-547, Art. 21",
                        "consent is withdrawn in the form it was given, or in writing; a \
                         withdrawal takes effect when it is made: the same day",
                    ),
                },
            ),
            (RequestKind::Objection, OBJECTION),
        ],
        transfer_notice: Deadline {
            days: 3,
            counted_in: DayCount::Calendar,
            citation: law(
                "ZRU-547, Art. 23",
                "when data is given to a third party, the operator tells the subject in \
                 writing within three days, save state bodies, research and public sources",
            ),
        },
        // No exemption for the subject's consent: Art. 23 has none.
        notice_exemptions: super::NoticeExemptions {
            consent: false,
            state_body: true,
            made_public: true,
            citation: law(
                "ZRU-547, Art. 23",
                "no written notice where state bodies exercise their powers, for historical, \
                 statistical, sociological or scientific processing, or for data collected \
                 from public sources: amanat counts a record its subject made public as one \
                 in a public source",
            ),
        },
        change_notice: Some(Deadline {
            days: 3,
            counted_in: DayCount::Calendar,
            citation: secondary(
                "ZRU-547, Art. 31",
                "the subject and the other participants in processing are told in writing \
                 when data is changed, destroyed or its use restricted; the law sets no time: \
                 amanat applies ZRU-547 Art. 23's three days",
            ),
        }),
        localisation: &[
            Localisation {
                categories: Localised::All,
                from: date(2021, 4, 16),
                until: Some(ZRU_1125),
                waivable_by_agreement: false,
                covers_transfers: false,
                citation: STORAGE,
            },
            Localisation {
                categories: Localised::Only(&[
                    BIOMETRIC,
                    CategoryId::new("genetic"),
                    CategoryId::new("telecom_subscriber"),
                ]),
                from: ZRU_1125,
                until: None,
                waivable_by_agreement: false,
                // A selfie must stay onshore; phone, card and passport data may go abroad on
                // a transfer ground.
                covers_transfers: true,
                citation: secondary(
                    "ZRU-1125 of 26 March 2026, amending ZRU-547 Art. 27-1",
                    "local storage only for biometric data (facial images included), genetic \
                     data and telecom subscriber data",
                ),
            },
        ],
        transfer_bases: &[
            TransferRule {
                basis: TransferBasis::Consent,
                from: IN_FORCE,
                until: Some(ZRU_1125),
                citation: law(
                    "ZRU-547, Art. 15",
                    "the subject's consent to the cross-border transfer of their data",
                ),
            },
            TransferRule {
                basis: TransferBasis::ProtectionOfRights,
                from: IN_FORCE,
                until: Some(ZRU_1125),
                citation: law(
                    "ZRU-547, Art. 15",
                    "to protect the constitutional order, public order, citizens' rights and \
                     freedoms, and the population's health and morals",
                ),
            },
            TransferRule {
                basis: TransferBasis::Treaty,
                from: IN_FORCE,
                until: Some(ZRU_1125),
                citation: law(
                    "ZRU-547, Art. 15",
                    "the cases the Republic's international treaties provide",
                ),
            },
            TransferRule {
                basis: TransferBasis::StandardClauses,
                from: ZRU_1125,
                until: None,
                citation: secondary(
                    "ZRU-547 Art. 15 as amended by ZRU-1125",
                    "standard contract clauses or binding corporate rules approved by the authority",
                ),
            },
            TransferRule {
                basis: TransferBasis::InternationalStandards,
                from: ZRU_1125,
                until: None,
                citation: secondary(
                    "ZRU-547 Art. 15 as amended by ZRU-1125",
                    "international standards approved by the authority",
                ),
            },
        ],
        weakest_consent: FormKind::Electronic,
        weakest_consent_citation: law(
            "ZRU-547, Art. 21",
            "consent is given in any form that lets the fact it was given be proven: amanat \
             takes an implied consent as unprovable and asks at least an electronic one \
             (Ministry of Justice order No. 3478 of 2023 may ask a written or \
             electronic-document form: secondary sources disagree)",
        ),
        bases_without_consent: &[
            BasisRule {
                basis: "contract",
                citation: law(
                    "ZRU-547, Art. 18",
                    "processing needed to perform a contract the subject is party to, or to \
                     take steps at their request before one",
                ),
            },
            BasisRule {
                basis: "legal_obligation",
                citation: law("ZRU-547, Art. 18", LEGAL_DUTY),
            },
            BasisRule {
                basis: "state_function",
                citation: law("ZRU-547, Art. 18", LEGAL_DUTY),
            },
            BasisRule {
                basis: "protection_of_rights",
                citation: law(
                    "ZRU-547, Art. 18",
                    "processing needed to protect the lawful interests of the subject or \
                     another person",
                ),
            },
            BasisRule {
                basis: "court_order",
                citation: law(
                    "ZRU-547, Art. 17, 18",
                    "a court decision in force is carried out as the operator's legal duty \
                     (ZRU-547 Art. 18), and data is destroyed when one orders it (ZRU-547 Art. 17)",
                ),
            },
            BasisRule {
                basis: "biometric_exception",
                citation: law(
                    "ZRU-547, Art. 26",
                    "biometric and genetic data without consent: treaties, justice, \
                     enforcement proceedings and the other cases the law provides",
                ),
            },
        ],
        weekend: &[Weekday::Sat, Weekday::Sun],
        weekend_citation: secondary(
            "Labour Code of the Republic of Uzbekistan",
            "a five-day working week; check the policy's calendar",
        ),
    };
}
