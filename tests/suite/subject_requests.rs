//! Subjects' requests (Tajik law Art. 22): each is due three working days after it
//! arrives, on the policy's calendar, and the overdue ones are listed.

use std::sync::Arc;

use crate::common::{customer, imanum};
use amanat::Error;
use amanat::rights::{RequestKind, SubjectRequests};
use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};

fn register() -> SubjectRequests {
    SubjectRequests::new(Arc::new(imanum()))
}

#[test]
fn a_request_is_due_three_working_days_after_it_arrives_art_22() {
    let requests = register();
    // Friday 6 June 2025 is Kurban Hayit in the IMANUM calendar; the request arrives on
    // Thursday 5 June: Monday 9, Tuesday 10, Wednesday 11.
    let received = Utc.with_ymd_and_hms(2025, 6, 5, 9, 0, 0).unwrap();
    let id = requests.receive(customer(), RequestKind::Destruction, received);
    let request = requests.get(id).unwrap();
    assert_eq!(request.due, NaiveDate::from_ymd_opt(2025, 6, 11).unwrap());
    assert_eq!(request.kind, RequestKind::Destruction);

    assert!(
        requests
            .overdue_requests(received + TimeDelta::days(6))
            .is_empty()
    );
    assert_eq!(
        requests
            .overdue_requests(received + TimeDelta::days(7))
            .len(),
        1
    );
    requests
        .complete(id, received + TimeDelta::days(7))
        .unwrap();
    assert!(
        requests
            .overdue_requests(received + TimeDelta::days(8))
            .is_empty()
    );
    assert!(requests.open_requests().is_empty());
    assert!(matches!(
        requests.complete(9, received),
        Err(Error::UnknownRequest { request: 9 })
    ));
}

#[test]
fn each_kind_of_request_is_due_on_its_own_deadline_with_its_article_art_25_1() {
    let requests = register();
    // Thursday 12 June 2025.
    let received = Utc.with_ymd_and_hms(2025, 6, 12, 9, 0, 0).unwrap();
    let due = |kind| {
        let id = requests.receive(customer(), kind, received);
        requests.get(id).unwrap().due
    };
    let tuesday = NaiveDate::from_ymd_opt(2025, 6, 17).unwrap();
    assert_eq!(due(RequestKind::Access), tuesday);
    assert_eq!(due(RequestKind::Destruction), tuesday);
    // A withdrawal takes effect when it is made.
    assert_eq!(due(RequestKind::Withdrawal), received.date_naive());
    let policy = imanum();
    for kind in [
        RequestKind::Access,
        RequestKind::Rectification,
        RequestKind::Blocking,
        RequestKind::Destruction,
        RequestKind::Withdrawal,
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
    assert!(report.contains("a request for Destruction: within 3 working days"));
    assert!(report.contains("a request for Withdrawal: the same day"));
}
