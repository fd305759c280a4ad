//! What can go wrong with the audit log.

/// Where the chain breaks, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The entry at this position (counted from 1) is not the one the chain expects: edited,
    /// or an entry before it was deleted, inserted or moved.
    #[error("audit entry at position {position} breaks the chain: {problem}")]
    Broken {
        /// The position, from 1.
        position: u64,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A line of the file is not an entry.
    #[error("audit line {line} is not an entry")]
    Unreadable {
        /// The line, from 1.
        line: u64,
    },
    /// The file could not be read or written.
    #[error("audit file: {0}")]
    Io(String),
    /// An earlier write failed, so the log takes no more entries: a half-written line
    /// must not be followed by more, and an action that can't be recorded is not done.
    /// Reopen the file to go on; opening checks what reached it.
    #[error("audit log stopped after a failed write: {0}")]
    Stopped(String),
    /// An event was handed to an operator's audit log, which records only what the library
    /// does as it does it: a consent given or withdrawn, an authorization, a disclosure, a
    /// destruction. Nothing was written.
    #[error(
        "an operator's audit log takes no appended {event} event: it records what the operator does"
    )]
    NotAppendable {
        /// The event's name.
        event: &'static str,
    },
}
