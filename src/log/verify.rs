//! The one walk every check makes: entry by entry, in order of position, each checked for
//! its position, its hash, its MAC (where the key is at hand), its link to the one before,
//! and against any checkpoint of its position.

use super::checkpoint::Checkpoint;
use super::entry::{Entry, GENESIS, MacKey};
use super::store::{Head, LogStore};
use crate::error::{LogError, Problem};
use crate::vocab::ids::Seq;

pub(crate) struct Walk<'a> {
    mac: Option<&'a MacKey>,
    checkpoints: Vec<Checkpoint>,
    expect: Seq,
    /// The hash the next entry must link to; `None` for the first entry of a walk that
    /// starts in the middle, whose predecessor is not read (a checkpoint vouches for it).
    prev: Option<super::Hash>,
    last: Option<Head>,
}

impl<'a> Walk<'a> {
    /// A walk from `from` (1 for the whole log, where the first entry must link to
    /// [`GENESIS`]), checking MACs under `mac` if given and each of `checkpoints` as it
    /// passes its count.
    pub(crate) fn new(from: Seq, mac: Option<&'a MacKey>, checkpoints: Vec<Checkpoint>) -> Self {
        let from = from.max(Seq::FIRST);
        Self {
            mac,
            checkpoints,
            expect: from,
            prev: (from == Seq::FIRST).then_some(GENESIS),
            last: None,
        }
    }

    pub(crate) fn visit(&mut self, entry: &Entry) -> Result<(), LogError> {
        let at = |problem| LogError::Tampered {
            position: entry.seq,
            problem,
        };
        if entry.seq < self.expect {
            return Err(LogError::Tampered {
                position: self.expect,
                problem: Problem::OutOfOrder,
            });
        }
        if entry.seq > self.expect {
            return Err(LogError::Tampered {
                position: self.expect,
                problem: Problem::Missing,
            });
        }
        // The hash first: an edit shows as an edit even where the MAC would fail too.
        if !entry.hash_is_sound() {
            return Err(at(Problem::HashMismatch));
        }
        if let Some(mac) = self.mac
            && !mac.verify(&entry.hash, &entry.mac)
        {
            return Err(at(Problem::BadMac));
        }
        if let Some(prev) = self.prev
            && entry.prev != prev
        {
            return Err(at(Problem::BrokenLink));
        }
        if self
            .checkpoints
            .iter()
            .any(|c| c.count == entry.seq && c.head != entry.hash)
        {
            return Err(at(Problem::CheckpointMismatch));
        }
        self.prev = Some(entry.hash);
        self.expect = entry.seq.next();
        self.last = Some(Head {
            seq: entry.seq,
            hash: entry.hash,
        });
        Ok(())
    }

    /// The head the walk ended on, once every checkpoint was reached.
    pub(crate) fn finish(self) -> Result<Option<Head>, LogError> {
        if self.checkpoints.iter().any(|c| c.count >= self.expect) {
            return Err(LogError::Tampered {
                position: self.expect,
                problem: Problem::Truncated,
            });
        }
        Ok(self.last)
    }
}

/// Walks `store` from the first of `checkpoints` (or from the start if `from_start`, or if
/// there is none).
pub(crate) fn walk<S: LogStore + ?Sized>(
    store: &S,
    mac: Option<&MacKey>,
    mut checkpoints: Vec<Checkpoint>,
    from_start: bool,
) -> Result<Option<Head>, LogError> {
    checkpoints.sort_by_key(|c| c.count);
    let from = if from_start {
        Seq::FIRST
    } else {
        checkpoints.first().map_or(Seq::FIRST, |c| c.count)
    };
    let mut walk = Walk::new(from, mac, checkpoints);
    store.read_from(from, &mut |entry| walk.visit(&entry))?;
    let read_nothing = walk.last.is_none();
    match walk.finish() {
        // Cut off below where the walk began: the first entry missing is the one after the
        // store's head, not the checkpoint's.
        Err(LogError::Tampered {
            position,
            problem: Problem::Truncated,
        }) if read_nothing => {
            let first_missing = store.head()?.map_or(Seq::FIRST, |h| h.seq.next());
            Err(LogError::Tampered {
                position: first_missing.min(position),
                problem: Problem::Truncated,
            })
        }
        other => other,
    }
}
