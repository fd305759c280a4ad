//! What a snapshot of the operator's log holds, and how the open replays it: the changes of
//! the entries it covers, each as the replay reads it back, in lanes that two threads replay
//! at once.
//!
//! A body is its format (`ams4`), how many consents its changes give (a little-endian
//! `u64`, so that the open sizes the ledger's maps before it reads them), then each change
//! as one item:
//!
//! | bytes | what |
//! |---|---|
//! | 1 | its lane, with [`HEARD`] set if the other lane's thread must hear it too |
//! | 4 | the length of what follows, little-endian |
//! | n | its time and its event, in postcard: `(secs, nanos, event)` |
//!
//! Lane 0 holds the changes of the retention schedule, the registers and the policy, which
//! are replayed in order on the open's thread. A change of the consent ledger goes to lane 1
//! or 2 by its subject: each subject's changes in one lane, so each lane keeps its subjects'
//! order, and the two replay on two threads — the ledger's changes of two subjects do not
//! depend on each other, and nothing else depends on the ledger's while it replays. Which
//! lane a subject is in is a fixed function of its id (the top bit of its FNV-1a hash), so
//! that the same changes always make the same body, and an item whose lane is not its
//! change's is refused: [`Operator::verify_full`](super::Operator::verify_full)
//! compares them byte for byte.

use crate::audit::Event;
use crate::consent::ReplayLane;
use crate::error::StoreError;
use crate::event::{Change, GivenRef, given_in};
use crate::log::{Seq, Snapshot};
use crate::vocab::SubjectId;

use super::replay::{is_heard, route};

/// What a body starts with: the format its items are in. A snapshot of another format,
/// which an earlier version kept, is passed over and the entries it covers read instead.
/// `ams2` held the items `ams1` held: it said that the log sealed the body, so that an
/// `ams1` body, which an earlier version kept in clear, is replaced by the next snapshot,
/// which covers it. `ams3` items encode legal holds with their ground and the purposes they
/// keep a record readable for, postponements with the statutory minimum, and destructions
/// with the holds a court's order outweighed. `ams4` items encode transfer notices with
/// their recipient, and the statements that a record was made public by its subject.
const FORMAT: [u8; 4] = *b"ams4";

/// The length of the count of consents after the format.
const CONSENTS_COUNT: usize = 8;

/// Where the items start.
const ITEMS: usize = FORMAT.len() + CONSENTS_COUNT;

/// The lane of the changes replayed in order on the open's thread.
const REST: u8 = 0;

/// The ledger's lane the open's thread replays beside [`REST`].
const OURS: u8 = 1;

/// The ledger's lane the second thread replays.
const THEIRS: u8 = 2;

/// Set on a ledger change the rest must hear too: a withdrawal the retention schedule heard
/// of when it was made.
const HEARD: u8 = 0x80;

/// A snapshot's body as it is built.
pub(super) struct SnapshotBody {
    bytes: Vec<u8>,
    consents: u64,
}

impl SnapshotBody {
    pub(super) fn new() -> Self {
        let mut bytes = Vec::from(FORMAT);
        bytes.extend_from_slice(&[0; CONSENTS_COUNT]);
        Self { bytes, consents: 0 }
    }

    /// Appends the change of `event` at `at`; `None` if it can't be encoded (the change is
    /// then read from the log's entries again at the next open).
    pub(super) fn push(mut self, at: chrono::DateTime<chrono::Utc>, event: &Event) -> Option<Self> {
        self.bytes.push(lane(event));
        let length_at = self.bytes.len();
        self.bytes.extend_from_slice(&[0; 4]);
        let change = (at.timestamp(), at.timestamp_subsec_nanos(), event);
        self.bytes = postcard::to_extend(&change, self.bytes).ok()?;
        let length = u32::try_from(self.bytes.len() - length_at - 4).ok()?;
        self.bytes[length_at..length_at + 4].copy_from_slice(&length.to_le_bytes());
        if matches!(event, Event::ConsentGiven { .. }) {
            self.consents += 1;
        }
        Some(self)
    }

    pub(super) fn finish(mut self) -> Vec<u8> {
        self.bytes[FORMAT.len()..ITEMS].copy_from_slice(&self.consents.to_le_bytes());
        self.bytes
    }
}

/// The lane of `event`, as its item's first byte.
fn lane(event: &Event) -> u8 {
    let subject = match event {
        Event::ConsentGiven { given, .. } => &given.subject,
        Event::ConsentRenewed { subject, .. }
        | Event::ConsentWithdrawn { subject, .. }
        | Event::ConsentInvalidated { subject, .. }
        | Event::LegalBasisUsed { subject, .. } => subject,
        _ => return REST,
    };
    lane_of(subject) | if is_heard(event) { HEARD } else { 0 }
}

/// The ledger's lane of `subject`'s changes: the top bit of FNV-1a of its id (the low bit
/// is only the parity of the bytes: ids that differ by an even digit would share a lane),
/// fixed so that the same changes make the same body on every machine and version.
fn lane_of(subject: &SubjectId) -> u8 {
    lane_of_text(subject.as_str())
}

/// [`lane_of`] the subject whose id is `subject`.
fn lane_of_text(subject: &str) -> u8 {
    let hash = subject.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    if hash >> 31 == 0 { OURS } else { THEIRS }
}

/// Whether `snapshot` is in the format this version reads.
pub(super) fn is_readable(snapshot: &Snapshot) -> bool {
    snapshot.body.starts_with(&FORMAT)
}

/// How many consents `snapshot` says its changes give, checked against its length: each
/// takes more than a byte, and a count beyond that must not size an allocation.
///
/// # Errors
///
/// [`StoreError::Corrupt`] if the body is not one this library wrote.
pub(super) fn consents(snapshot: &Snapshot) -> Result<usize, StoreError> {
    let (count, changes) = split(snapshot)?;
    usize::try_from(count)
        .ok()
        .filter(|&count| count <= changes.len())
        .ok_or_else(|| foreign(snapshot.to))
}

/// The count at the front of `snapshot`'s body, and its items.
fn split(snapshot: &Snapshot) -> Result<(u64, &[u8]), StoreError> {
    let after = snapshot
        .body
        .strip_prefix(&FORMAT)
        .ok_or_else(|| foreign(snapshot.to))?;
    match after.split_first_chunk::<CONSENTS_COUNT>() {
        Some((count, items)) => Ok((u64::from_le_bytes(*count), items)),
        None => Err(foreign(snapshot.to)),
    }
}

fn foreign(to: Seq) -> StoreError {
    StoreError::Corrupt(format!(
        "the snapshot to entry {to} holds what this library did not write"
    ))
}

/// Each item of `snapshot`'s body: its lane byte and its encoded change.
fn items(snapshot: &Snapshot) -> impl Iterator<Item = Result<(u8, &[u8]), StoreError>> {
    let mut rest = split(snapshot).map(|(_, items)| items);
    std::iter::from_fn(move || {
        let items = match &mut rest {
            Ok([]) => return None,
            Ok(items) => items,
            Err(_) => return Some(Err(foreign(snapshot.to))),
        };
        let item = items
            .split_first()
            .and_then(|(lane, after)| {
                let (length, after) = after.split_first_chunk::<4>()?;
                let length = usize::try_from(u32::from_le_bytes(*length)).ok()?;
                (after.len() >= length).then(|| (*lane, after.split_at(length)))
            })
            .map(|(lane, (change, after))| {
                *items = after;
                (lane, change)
            });
        if item.is_none() {
            // Nothing more is read from a body cut short.
            rest = Err(foreign(snapshot.to));
        }
        Some(item.ok_or_else(|| foreign(snapshot.to)))
    })
}

/// The change an item in `lane` holds, which must be that lane's.
fn decode(lane_byte: u8, change: &[u8], to: Seq) -> Result<Change, StoreError> {
    let (secs, nanos, event): (i64, u32, Event) =
        postcard::from_bytes(change).map_err(|_| foreign(to))?;
    let at = chrono::DateTime::from_timestamp(secs, nanos).ok_or_else(|| foreign(to))?;
    if lane(&event) != lane_byte {
        return Err(StoreError::Corrupt(format!(
            "the snapshot to entry {to} holds a change in a lane not its own"
        )));
    }
    Ok(Change::new(at, event))
}

/// Every change `snapshots` keep, in order, to `visit`.
///
/// # Errors
///
/// [`StoreError::Corrupt`] if a body is not one this library wrote; `visit`'s error.
pub(super) fn replay_in_order(
    snapshots: &[Snapshot],
    visit: &mut dyn FnMut(Change) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    for snapshot in snapshots {
        for item in items(snapshot) {
            let (lane, change) = item?;
            visit(decode(lane, change, snapshot.to)?)?;
        }
    }
    Ok(())
}

/// A consent given, as a snapshot holds it, to the ledger straight: see
/// [`ConsentLedger::replay_given`](crate::ConsentLedger).
pub(super) type GivenVisit<'a> =
    dyn Fn(&mut ReplayLane, GivenRef<'_>) -> Result<(), StoreError> + Sync + 'a;

/// Every change `snapshots` keep: the ledger's to `ledger`, on two threads at once, each
/// subject's in order — a consent given to `given` if there is one, read without copying
/// its texts — every other, and the ledger's the rest must hear, to `rest`, in order, on
/// this thread. `rest` must not read what `ledger` builds: it runs beside it. Should the
/// system refuse a second thread, this one replays both lanes.
///
/// # Errors
///
/// [`StoreError::Corrupt`] if a body is not one this library wrote; `ledger`'s, `given`'s
/// or `rest`'s error. Once one lane fails, the other stops at its next change.
pub(super) fn replay_in_lanes(
    snapshots: &[Snapshot],
    ledger: &(dyn Fn(Change) -> Result<(), StoreError> + Sync),
    given: Option<&GivenVisit<'_>>,
    rest: &mut dyn FnMut(Change) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let to_ledger = |state: &mut ReplayLane, lane: u8, change: &[u8], to: Seq| match given
        .map(|_| given_in(change))
    {
        Some(Ok(Some(consent))) => {
            // A consent given is never heard, and goes in its subject's lane.
            if lane != lane_of_text(consent.subject) {
                return Err(StoreError::Corrupt(format!(
                    "the snapshot to entry {to} holds a change in a lane not its own"
                )));
            }
            given.map_or(Ok(()), |given| given(state, consent))
        }
        Some(Err(_)) => Err(foreign(to)),
        Some(Ok(None)) | None => ledger(decode(lane, change, to)?),
    };
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let theirs = std::thread::Builder::new()
            .name("amanat-replay".into())
            .spawn_scoped(scope, || {
                let mut state = ReplayLane::default();
                let done = replay_lane(snapshots, &failed, &mut |lane, change, to| {
                    if lane & !HEARD == THEIRS {
                        to_ledger(&mut state, lane, change, to)?;
                    }
                    Ok(())
                });
                if done.is_err() {
                    failed.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                done
            });
        let alone = theirs.is_err();
        let mut state = ReplayLane::default();
        let ours = replay_lane(snapshots, &failed, &mut |lane, change, to| {
            let in_ledger = lane & !HEARD;
            let ledgers = in_ledger == OURS || (alone && in_ledger == THEIRS);
            if ledgers && lane & HEARD == 0 {
                to_ledger(&mut state, lane, change, to)
            } else if in_ledger == REST || in_ledger == OURS || alone {
                route(decode(lane, change, to)?, ledger, rest)
            } else if in_ledger != THEIRS {
                // No thread's: not an item this library wrote.
                Err(foreign(to))
            } else if lane & HEARD != 0 {
                rest(decode(lane, change, to)?)
            } else {
                Ok(())
            }
        });
        if ours.is_err() {
            failed.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let theirs = match theirs {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => Ok(()),
        };
        ours.and(theirs)
    })
}

/// What a lane does with an item: its lane byte, its encoded change, and where its
/// snapshot ends.
type ItemVisit<'a> = dyn FnMut(u8, &[u8], Seq) -> Result<(), StoreError> + 'a;

/// Every item of `snapshots` to `visit` with its lane, until one fails or `failed` is set.
fn replay_lane(
    snapshots: &[Snapshot],
    failed: &std::sync::atomic::AtomicBool,
    visit: &mut ItemVisit<'_>,
) -> Result<(), StoreError> {
    for snapshot in snapshots {
        for item in items(snapshot) {
            if failed.load(std::sync::atomic::Ordering::Relaxed) {
                // The other lane's error is the one reported.
                return Ok(());
            }
            let (lane, change) = item?;
            visit(lane, change, snapshot.to)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::event::ChainHash;
    use crate::store::replay::is_ledger_change;
    use crate::{ConsentId, PolicyVersion, Purpose};

    fn subject(n: usize) -> SubjectId {
        SubjectId::new(format!("cust-{n}")).unwrap()
    }

    fn renewed(subject: SubjectId, consent: ConsentId) -> Event {
        Event::ConsentRenewed {
            subject,
            consent,
            valid_until: None,
            digest: ChainHash::of(b"renewed"),
        }
    }

    fn withdrawn(subject: SubjectId, consent: ConsentId, retention: bool) -> Event {
        Event::ConsentWithdrawn {
            subject,
            consent,
            purposes: vec![Purpose::MARKETING_ANALYTICS],
            retention,
            digest: ChainHash::of(b"withdrawn"),
        }
    }

    fn adopted(n: usize) -> Event {
        Event::PolicyChange {
            version: PolicyVersion::new(format!("v{n}")).unwrap(),
        }
    }

    fn snapshot_of(events: &[Event]) -> Snapshot {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let body = events
            .iter()
            .try_fold(SnapshotBody::new(), |body, event| body.push(at, event))
            .unwrap()
            .finish();
        Snapshot {
            from: Seq::FIRST,
            to: Seq::FIRST,
            head: [0; 32],
            body,
            mac: [0; 32],
        }
    }

    fn given(subject: SubjectId, consent: ConsentId) -> Event {
        Event::ConsentGiven {
            given: Box::new(crate::event::Given {
                consent,
                subject,
                at: chrono::DateTime::from_timestamp(1_700_000_000, 5).unwrap(),
                purposes: vec![Purpose::MARKETING_ANALYTICS],
                categories: vec![(crate::category::CategoryId::new("phone"), false)],
                form: crate::vocab::ConsentForm::Electronic {
                    method: crate::vocab::ElectronicMethod::OneTimePassword,
                },
                given_by: crate::vocab::GivenBy::Subject,
                policy_version: PolicyVersion::new("v1").unwrap(),
                evidence: None,
                recipients: Vec::new(),
                cross_border: false,
                valid_until: None,
            }),
            digest: ChainHash::of(b"given"),
        }
    }

    /// Many subjects' changes, with the rest's between them.
    fn changes() -> Vec<Event> {
        let mut events = Vec::new();
        for n in 0..40 {
            let consent = ConsentId::random();
            events.push(given(subject(n), consent));
            events.push(renewed(subject(n), consent));
            events.push(adopted(n));
            events.push(withdrawn(subject(n), consent, n % 3 == 0));
            events.push(renewed(subject(n), consent));
        }
        events
    }

    #[test]
    fn a_subject_s_changes_share_a_lane_and_subjects_spread_over_both() {
        let ours = (0..100).filter(|&n| lane_of(&subject(n)) == OURS).count();
        assert!((30..=70).contains(&ours), "{ours} of 100 in one lane");
        // Ids whose digits are all even, which the parity of the bytes put in one lane.
        let even = (0..200)
            .map(|n| SubjectId::new(format!("user-{}", n * 2 % 10 + n / 5 * 20)).unwrap())
            .filter(|id| lane_of(id) == OURS)
            .count();
        assert!((60..=140).contains(&even), "{even} of 200 in one lane");
        assert_eq!(
            lane_of(&subject(7)),
            lane_of(&SubjectId::new("cust-7").unwrap())
        );
    }

    /// What a test compares of a ledger's change: its kind, subject and reference.
    type Seen = (
        &'static str,
        Option<SubjectId>,
        Option<crate::audit::Reference>,
    );

    fn seen(event: &Event) -> Seen {
        (event.name(), event.subject().cloned(), event.reference())
    }

    #[test]
    fn the_lanes_replay_every_change_once_and_each_subject_s_in_order() {
        let events = changes();
        let snapshot = snapshot_of(&events);
        // Consents given as changes, and straight from their encoding.
        for straight in [false, true] {
            let ledger = Mutex::new(Vec::new());
            let mut rest = Vec::new();
            let given = |_: &mut ReplayLane, consent: GivenRef<'_>| {
                ledger.lock().unwrap().push((
                    "consent_given",
                    Some(SubjectId::new(consent.subject).unwrap()),
                    Some(crate::audit::Reference::Consent(consent.consent)),
                ));
                Ok(())
            };
            replay_in_lanes(
                std::slice::from_ref(&snapshot),
                &|change| {
                    ledger.lock().unwrap().push(seen(change.event()));
                    Ok(())
                },
                straight.then_some(&given as &GivenVisit<'_>),
                &mut |change| {
                    rest.push(change.event().clone());
                    Ok(())
                },
            )
            .unwrap();
            let ledger = ledger.into_inner().unwrap();
            // In order, by subject: what each lane kept.
            for n in 0..40 {
                let of = |seen: Vec<Seen>| -> Vec<Seen> {
                    seen.into_iter()
                        .filter(|(_, whose, _)| whose.as_ref() == Some(&subject(n)))
                        .collect()
                };
                let expected = of(events
                    .iter()
                    .filter(|event| is_ledger_change(event))
                    .map(seen)
                    .collect());
                assert_eq!(
                    of(ledger.clone()),
                    expected,
                    "cust-{n}, straight: {straight}"
                );
            }
            // The rest: the policy changes, in order, and the withdrawals the schedule heard.
            let expected: Vec<Event> = events
                .iter()
                .filter(|event| !is_ledger_change(event) || is_heard(event))
                .cloned()
                .collect();
            assert_eq!(rest, expected);
        }
    }

    #[test]
    fn in_order_every_change_is_read_back_as_written() {
        let events = changes();
        let mut in_order = Vec::new();
        replay_in_order(&[snapshot_of(&events)], &mut |change| {
            in_order.push(change.event().clone());
            Ok(())
        })
        .unwrap();
        assert_eq!(in_order, events);
    }

    #[test]
    fn a_body_cut_anywhere_is_refused_and_never_read_past() {
        let whole = snapshot_of(&changes()[..8]);
        for length in 0..whole.body.len() {
            let mut cut = snapshot_of(&[]);
            cut.body = whole.body[..length].to_vec();
            let read = replay_in_order(std::slice::from_ref(&cut), &mut |_| Ok(()));
            let ends_between_items = length == ITEMS
                || items(&whole)
                    .scan(ITEMS, |at, item| {
                        *at += 5 + item.unwrap().1.len();
                        Some(*at)
                    })
                    .any(|end| end == length);
            assert_eq!(read.is_ok(), ends_between_items, "cut at {length}");
        }
    }

    #[test]
    fn an_item_in_a_lane_not_its_own_is_refused_in_order_and_in_lanes() {
        let events = changes();
        for (from, to) in [
            (OURS, THEIRS),
            (THEIRS, OURS),
            (OURS, REST),
            (REST, OURS),
            (OURS, 5),
        ] {
            let mut snapshot = snapshot_of(&events);
            let at = items(&snapshot)
                .scan(ITEMS, |at, item| {
                    let (lane, change) = item.unwrap();
                    let here = *at;
                    *at += 5 + change.len();
                    Some((here, lane))
                })
                .find(|&(_, lane)| lane == from)
                .unwrap()
                .0;
            snapshot.body[at] = to;
            let one = std::slice::from_ref(&snapshot);
            assert!(
                replay_in_order(one, &mut |_| Ok(())).is_err(),
                "{from} as {to}"
            );
            // Each consent given read as a change, and straight.
            let given: &GivenVisit<'_> = &|_, _| Ok(());
            for given in [None, Some(given)] {
                let lanes = replay_in_lanes(one, &|_| Ok(()), given, &mut |_| Ok(()));
                assert!(
                    matches!(lanes, Err(StoreError::Corrupt(_))),
                    "{from} as {to}"
                );
            }
        }
    }

    #[test]
    fn a_count_beyond_what_the_body_can_hold_is_refused() {
        let mut snapshot = snapshot_of(&changes()[..4]);
        let beyond = u64::try_from(snapshot.body.len()).unwrap();
        snapshot.body[FORMAT.len()..ITEMS].copy_from_slice(&beyond.to_le_bytes());
        assert!(matches!(consents(&snapshot), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn a_failing_lane_stops_the_replay_with_its_error() {
        let snapshot = snapshot_of(&changes());
        let failed = replay_in_lanes(
            std::slice::from_ref(&snapshot),
            &|change| match change.event().subject() {
                Some(subject) if subject.as_str() == "cust-17" => {
                    Err(StoreError::Corrupt("cust-17".into()))
                }
                _ => Ok(()),
            },
            None,
            &mut |_| Ok(()),
        );
        assert!(matches!(failed, Err(StoreError::Corrupt(why)) if why == "cust-17"));
    }
}
