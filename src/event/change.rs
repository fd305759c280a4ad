//! A change, as a journal keeps it: an event that replay applies, and when it happened.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::vocabulary::Event;
use crate::error::StoreError;
use crate::vocab::SubjectId;

/// One change to what must outlive the process, as a [`Journal`](super::Journal) keeps it:
/// an [`Event`] that [is a change](Event::is_change), and when it happened.
///
/// A journal stores and returns it whole (its [`to_json`](Self::to_json) form is stable
/// across patch releases), and only the library applies it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// When it happened, to the millisecond.
    pub(crate) at: DateTime<Utc>,
    /// What happened.
    #[serde(flatten)]
    pub(crate) event: Event,
}

impl Change {
    /// `event`, made at `at`.
    pub(crate) fn new(at: DateTime<Utc>, event: Event) -> Self {
        Self { at, event }
    }

    /// The change's name: `consent_given`, `consent_withdrawn`, `tracked`, `hold_placed`,
    /// `destruction`, `notice_owed`, `request_received`, …
    pub fn kind(&self) -> &'static str {
        self.event.name()
    }

    /// What happened.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The subject the change is about, where it names one directly: a store can index
    /// by it.
    pub fn subject(&self) -> Option<&SubjectId> {
        self.event.subject()
    }

    /// When it was made.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// The change as one line of JSON: what a store keeps.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] if it can't be written as JSON (a change is ids, strings,
    /// numbers and dates: never, in practice); a store keeps nothing then.
    pub fn to_json(&self) -> Result<String, StoreError> {
        serde_json::to_string(self)
            .map_err(|e| StoreError::Io(format!("a {} change can't be written: {e}", self.kind())))
    }

    /// A change from what [`to_json`](Self::to_json) wrote.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] if `json` is not a change this library wrote (the error
    /// names the place, never the content).
    pub fn from_json(json: &str) -> Result<Self, StoreError> {
        let change: Self = serde_json::from_str(json).map_err(|e| {
            StoreError::Corrupt(format!(
                "a journal entry is not a change this library wrote (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        if change.event.is_change() {
            Ok(change)
        } else {
            Err(StoreError::Corrupt(format!(
                "a journal entry holds a {} event, which is not a change",
                change.kind()
            )))
        }
    }
}
