//! What the ledger keeps for each subject: its consents, each with masks that let
//! `authorize` pass over it without loading the record, and the events of its history.

use std::sync::Arc;

use smallvec::SmallVec;

use super::history::Event;
use super::record::ConsentRecord;

#[derive(Default)]
pub(super) struct SubjectEntry {
    /// Inline for the usual handful, so that `authorize` goes from the map's bucket
    /// straight to the records without another dependent cache miss.
    pub(super) consents: SmallVec<[Held; 4]>,
    /// Boxed, so the bucket stays small: `authorize` never reads the history, and each
    /// line of the bucket is another miss on a cold subject.
    #[expect(
        clippy::box_collection,
        reason = "one pointer in the bucket instead of three words: each subject costs \
                  one more small allocation, and the history's paths one more pointer"
    )]
    pub(super) events: Box<Vec<Event>>,
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
    pub(super) fn new(record: &Arc<ConsentRecord>) -> Self {
        Self {
            purpose_bits: record.purposes.iter().fold(0, |mask, p| mask | p.bit()),
            category_bits: record
                .categories
                .iter()
                .fold(0, |mask, (c, _)| mask | c.bit()),
            record: Arc::clone(record),
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
