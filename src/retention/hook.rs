//! The hooks that delete the copies of a record the library can't see, and what they are
//! asked.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::category::CategoryId;
use crate::data::RecordId;
use crate::vocab::SubjectId;

/// What a destruction hook is asked to do: delete every copy of one record it knows of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DestructionRequest {
    /// The same for every attempt at this record's destruction: a hook that already
    /// deleted the copy and failed to say so can recognise the retry.
    pub idempotency_key: String,
    /// The record.
    pub record: RecordId,
    /// Whose it is.
    pub subject: SubjectId,
    /// Its category.
    pub category: CategoryId,
    /// 1 for the first attempt.
    pub attempt: u32,
}

/// Why a hook could not delete its copy. Say what failed, never the data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HookError(pub String);

/// Your code that deletes the copies the library can't see: a database row, an object in
/// storage, a request to a processor to delete.
///
/// It must be idempotent on [`DestructionRequest::idempotency_key`]: a destruction is
/// retried until every hook confirms, and a hook that confirmed is not asked again.
pub trait DestructionHook: Send + Sync {
    /// The hook's name, for receipts.
    fn name(&self) -> &str;

    /// Deletes this record's copies.
    ///
    /// # Errors
    ///
    /// A [`HookError`] when the copies could not be deleted now; the schedule retries.
    fn destroy(&self, request: &DestructionRequest) -> Result<(), HookError>;
}

impl fmt::Debug for dyn DestructionHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DestructionHook({})", self.name())
    }
}

/// A registered hook, with its name read once: a hook's own code never runs under the
/// schedule's lock.
#[derive(Debug, Clone)]
pub(super) struct Registered {
    pub(super) name: String,
    pub(super) hook: Arc<dyn DestructionHook>,
}
