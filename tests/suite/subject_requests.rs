//! Subjects' requests: each is due on the pack's deadline for its kind — under the Uzbek
//! pack in days (ZRU-547 Art. 11, 22, 24), under the Tajik pack in working days on the
//! policy's calendar (Law No. 1537 Art. 25.1) — and the overdue ones are listed.

use std::sync::Arc;

use crate::common::{TAJIK, customer, imanum};
use amanat::Error;
use amanat::Policy;
use amanat::rights::{RequestKind, SubjectRequests};
use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};

fn register() -> SubjectRequests {
    SubjectRequests::new(Arc::new(imanum()))
}

#[test]
fn a_correction_is_due_three_days_after_it_arrives_and_listed_when_overdue_uz_art_11() {
    let requests = register();
    // Thursday 5 June 2025: three days, weekend included, to Sunday 8 June.
    let received = Utc.with_ymd_and_hms(2025, 6, 5, 9, 0, 0).unwrap();
    let id = requests.receive(customer(), RequestKind::Rectification, received);
    let request = requests.get(id).unwrap();
    assert_eq!(request.due, NaiveDate::from_ymd_opt(2025, 6, 8).unwrap());
    assert_eq!(request.kind, RequestKind::Rectification);

    assert!(
        requests
            .overdue_requests(received + TimeDelta::days(3))
            .is_empty()
    );
    assert_eq!(
        requests
            .overdue_requests(received + TimeDelta::days(4))
            .len(),
        1
    );
    requests
        .complete(id, received + TimeDelta::days(4))
        .unwrap();
    assert!(
        requests
            .overdue_requests(received + TimeDelta::days(5))
            .is_empty()
    );
    assert!(requests.open_requests().is_empty());
    assert!(matches!(
        requests.complete(9, received),
        Err(Error::UnknownRequest { request: 9 })
    ));
}

#[test]
fn an_access_request_is_due_three_working_days_after_it_arrives_tj_art_25_1() {
    let requests = SubjectRequests::new(Arc::new(Policy::from_toml_str(TAJIK).unwrap()));
    // Thursday 12 June 2025: Friday, Monday, Tuesday.
    let received = Utc.with_ymd_and_hms(2025, 6, 12, 9, 0, 0).unwrap();
    let id = requests.receive(customer(), RequestKind::Access, received);
    assert_eq!(
        requests.get(id).unwrap().due,
        NaiveDate::from_ymd_opt(2025, 6, 17).unwrap()
    );
}

#[test]
fn each_kind_of_request_is_due_on_its_own_deadline_with_its_article_uz_art_11_22_24() {
    let requests = register();
    // Thursday 12 June 2025.
    let received = Utc.with_ymd_and_hms(2025, 6, 12, 9, 0, 0).unwrap();
    let due = |kind| {
        let id = requests.receive(customer(), kind, received);
        requests.get(id).unwrap().due
    };
    let day = |d| NaiveDate::from_ymd_opt(2025, 6, d).unwrap();
    // Art. 22: ten days to answer (a refusal is due by then); Art. 24: an objection too.
    assert_eq!(due(RequestKind::Access), day(22));
    assert_eq!(due(RequestKind::Objection), day(22));
    // Art. 11's three days, which amanat also gives a destruction.
    assert_eq!(due(RequestKind::Rectification), day(15));
    assert_eq!(due(RequestKind::Destruction), day(15));
    // A withdrawal takes effect when it is made.
    assert_eq!(due(RequestKind::Withdrawal), received.date_naive());
    let policy = imanum();
    for kind in [
        RequestKind::Access,
        RequestKind::Rectification,
        RequestKind::Blocking,
        RequestKind::Destruction,
        RequestKind::Withdrawal,
        RequestKind::Objection,
    ] {
        let citation = policy.pack().request_deadline(kind).citation;
        assert!(
            citation.article.contains("ZRU-547"),
            "{kind:?}: {citation:?}"
        );
    }
    // Where the law sets no time, the pack says so.
    let destruction = policy
        .pack()
        .request_deadline(RequestKind::Destruction)
        .citation;
    assert!(destruction.secondary && destruction.note.contains("sets no time"));
    let report = policy.to_markdown();
    assert!(report.contains("a request for Destruction: within 3 days"));
    assert!(report.contains("a request for Objection: within 10 days (ZRU-547, Art. 24"));
    assert!(report.contains("a request for Withdrawal: the same day"));
}
