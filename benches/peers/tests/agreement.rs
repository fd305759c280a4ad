//! The three engines decide every question of a full round alike, and the round asks
//! questions that are granted and refused for every reason, so agreeing means something.

use amanat_peers::{Amanat, Cat, Cedar, Dataset, Disagreement, Rego, agreement};

const SUBJECTS: usize = 1_000;

#[test]
fn cedar_and_rego_decide_a_full_round_as_amanat_does() {
    let data = Dataset::new(SUBJECTS);
    let round = data.full_round();
    let expected = Amanat::load(&data).decide_all(&data, round);
    agreement(
        "cedar",
        &expected,
        &Cedar::load(&data).decide_all(&data, round),
    )
    .unwrap();
    agreement(
        "rego",
        &expected,
        &Rego::load(&data).decide_all(&data, round),
    )
    .unwrap();
}

#[test]
fn amanat_decides_each_kind_of_question_by_the_datasets_rule() {
    let data = Dataset::new(SUBJECTS);
    let amanat = Amanat::load(&data);
    for i in 0..data.full_round() {
        let query = data.query(i);
        let n = query.subject;
        let purpose = query.purpose.as_str();
        let expected = match (purpose, query.category) {
            // The written selfie consent ended on day 1 for every seventh subject.
            ("identity_verification", Cat::Biometric) => !n.is_multiple_of(7),
            // Every tenth subject withdrew from marketing.
            ("marketing_analytics", Cat::Phone) => !n.is_multiple_of(10),
            ("service_provision", Cat::Passport) => true,
            // Every fifth subject consented: in writing for half of them, by OTP (too
            // weak for a special category) for the other half.
            ("service_provision", Cat::Biometric) => n.is_multiple_of(10),
            ("marketing_analytics", Cat::Biometric) | ("credit_scoring", Cat::Phone) => false,
            other => panic!("the round asks an unexpected question: {other:?}"),
        };
        assert_eq!(
            amanat.decide(&Amanat::query(&query)),
            expected,
            "query {i}: {query:?}"
        );
    }
}

#[test]
fn a_full_round_asks_every_subject_every_question() {
    let data = Dataset::new(SUBJECTS);
    let mut asked = std::collections::HashSet::new();
    for i in 0..data.full_round() {
        let q = data.query(i);
        asked.insert((q.subject, q.purpose.as_str(), q.category.name()));
    }
    assert_eq!(asked.len(), data.full_round());
}

#[test]
fn one_decision_differing_is_a_disagreement() {
    let amanat = [true, false, true, false];
    assert_eq!(agreement("peer", &amanat, &amanat), Ok(()));
    let err = agreement("peer", &amanat, &[true, false, false, false]).unwrap_err();
    assert_eq!(
        err,
        Disagreement {
            peer: "peer",
            query: 2,
            amanat: true,
            differing: 1
        }
    );
    assert_eq!(
        err.to_string(),
        "peer decides 1 of the queries differently from amanat, first query 2 (amanat: allow)"
    );
    let short = agreement("peer", &amanat, &[true, false]).unwrap_err();
    assert_eq!((short.query, short.differing), (2, 2));
}
