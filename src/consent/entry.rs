//! What the ledger keeps for each subject: its consents, each with masks that let
//! `authorize` pass over it without loading the record, and the events of its history.

use std::sync::Arc;

use super::ConsentEvent;
use super::history::{self, Event, Later};
use super::record::ConsentRecord;

/// How many consents a subject's bucket holds inline.
const INLINE: usize = 3;

/// A subject's consents and history, in the subject map's bucket. A million subjects are
/// a million buckets, and twice as many in a map that has just doubled, so each word here
/// is counted: the first consents inline, so that `authorize` goes from the bucket
/// straight to the records without another dependent cache miss, and whatever else (more
/// consents, any other event) behind one pointer, allocated only for a subject who has it.
#[derive(Default)]
pub(super) struct SubjectEntry {
    first: [Option<Held>; INLINE],
    more: Option<Box<More>>,
}

/// What does not fit a subject's bucket.
#[derive(Default)]
struct More {
    /// The consents given after the first [`INLINE`], in the order given.
    consents: Vec<Held>,
    /// The rest of the history. `authorize` never reads it.
    later: Later,
}

impl SubjectEntry {
    /// The subject's consents, in the order given: the history reads them as its
    /// consents given.
    pub(super) fn consents(&self) -> impl Iterator<Item = &Held> + Clone {
        let more: &[Held] = self.more.as_deref().map_or(&[], |more| &more.consents);
        self.first.iter().map_while(Option::as_ref).chain(more)
    }

    /// How many consents the subject gave.
    pub(super) fn given(&self) -> usize {
        let inline = self.first.iter().take_while(|held| held.is_some()).count();
        inline + self.more.as_ref().map_or(0, |more| more.consents.len())
    }

    /// Adds a consent given on `record`.
    pub(super) fn give(&mut self, record: &Arc<ConsentRecord>) {
        self.give_owned(Arc::clone(record));
    }

    /// Adds a consent given on `record`, whose count the caller took.
    pub(super) fn give_owned(&mut self, record: Arc<ConsentRecord>) {
        let held = Held::new(record);
        match self.first.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(held),
            None => self
                .more
                .get_or_insert_with(Box::default)
                .consents
                .push(held),
        }
    }

    /// Adds `event` to the subject's history, after everything before it.
    pub(super) fn then(&mut self, event: Event) {
        match event {
            Event::Given(record) => self.give(&record),
            event => {
                let given = self.given();
                self.more
                    .get_or_insert_with(Box::default)
                    .later
                    .push(given, event);
            }
        }
    }

    /// Whether nothing is recorded for the subject.
    pub(super) fn is_empty(&self) -> bool {
        self.first[0].is_none() && self.more.is_none()
    }

    /// The subject's history as of `now`, oldest first.
    pub(super) fn history(&self, now: i64) -> Vec<ConsentEvent> {
        let later = self.more.as_ref().map(|more| &more.later);
        history::materialize(
            self.consents().map(|held| &*held.record),
            self.given(),
            later.map_or(&[][..], Later::events),
            now,
        )
    }
}

/// A subject's consent with masks of its purposes and categories beside it, so that
/// `authorize` skips a consent that can't grant without loading the record: on a cold
/// subject each record is a cache miss or two, and most of a subject's consents are for
/// other purposes or data.
pub(super) struct Held {
    /// [`Purpose::bit`] of each purpose the consent names. A purpose never leaves a
    /// consent (withdrawal only flags it), so the mask never changes.
    ///
    /// [`Purpose::bit`]: crate::vocab::Purpose::bit
    purpose_bits: u32,
    /// [`CategoryId::bit`] of each category it covers; fixed at grant too.
    ///
    /// [`CategoryId::bit`]: crate::category::CategoryId::bit
    category_bits: u32,
    record: Arc<ConsentRecord>,
}

impl Held {
    pub(super) fn new(record: Arc<ConsentRecord>) -> Self {
        Self {
            purpose_bits: record.purposes().iter().fold(0, |mask, p| mask | p.bit()),
            category_bits: record
                .categories()
                .iter()
                .fold(0, |mask, (c, _)| mask | c.bit()),
            record,
        }
    }

    /// Whether the consent may name the purpose of `bit`: a false answer is certain, a
    /// true one is checked against the record.
    #[inline]
    pub(super) fn may_name(&self, bit: u32) -> bool {
        self.purpose_bits & bit != 0
    }

    /// Whether it may cover the category of `bit`, as [`may_name`](Self::may_name).
    #[inline]
    pub(super) fn may_cover(&self, bit: u32) -> bool {
        self.category_bits & bit != 0
    }
}

impl std::ops::Deref for Held {
    type Target = Arc<ConsentRecord>;

    fn deref(&self) -> &Arc<ConsentRecord> {
        &self.record
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use crate::category::Phone;
    use crate::clock::ManualClock;
    use crate::consent::tests::otp;
    use crate::consent::{ConsentEventKind, ConsentLedger};
    use crate::vocab::{PolicyVersion, Purpose, SubjectId};
    use crate::{ConsentId, Grant};

    /// The history keeps a consent given as its record only: at one instant, where the
    /// order can't come from the times, each event still comes where it happened.
    #[test]
    fn a_history_made_in_one_instant_keeps_its_order_and_comes_back_after_the_clock_moves() {
        let clock = ManualClock::new(chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        let ledger = ConsentLedger::builder(PolicyVersion::new("t").unwrap())
            .clock(clock.clone())
            .build();
        let subject = SubjectId::new("cust-1").unwrap();
        let give = |purpose: Purpose| {
            ledger
                .grant(
                    Grant::new(subject.clone(), otp())
                        .purpose(purpose)
                        .category::<Phone>(),
                )
                .unwrap()
        };
        let first = give(Purpose::MARKETING_ANALYTICS);
        ledger.withdraw(&first).unwrap();
        let second = give(Purpose::SERVICE_PROVISION);
        ledger.renew(&second, None).unwrap();
        let third = give(Purpose::MARKETING_ANALYTICS);
        let expected: [(ConsentId, &str); 5] = [
            (first, "given"),
            (first, "withdrawn"),
            (second, "given"),
            (second, "renewed"),
            (third, "given"),
        ];
        let seen = |history: Vec<crate::consent::ConsentEvent>| {
            history
                .into_iter()
                .map(|event| (event.consent.unwrap(), event.change()))
                .collect::<Vec<_>>()
        };
        assert_eq!(seen(ledger.history(&subject)), expected);
        clock.advance(TimeDelta::days(1));
        let history = ledger.history(&subject);
        assert!(matches!(
            &history[0].kind,
            ConsentEventKind::Given { purposes, .. } if purposes == &[Purpose::MARKETING_ANALYTICS]
        ));
        assert_eq!(seen(history), expected);
    }
}
