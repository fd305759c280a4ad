//! The subject's rights (Tajik law Art. 22): requests for access, correction, blocking,
//! destruction and withdrawal, each with the date it is due on the policy's calendar.
//!
//! ```
//! use amanat::rights::{RequestKind, SubjectRequests};
//! use amanat::{Policy, SubjectId};
//! use chrono::{TimeZone, Utc};
//! use std::sync::Arc;
//!
//! let policy = Arc::new(Policy::from_toml_str(include_str!(
//!     "../examples/policies/imanum.toml"))?);
//! let requests = SubjectRequests::new(policy);
//! // Thursday 12 June 2025: due Tuesday 17 June, three working days on.
//! let received = Utc.with_ymd_and_hms(2025, 6, 12, 9, 0, 0).unwrap();
//! let id = requests.receive(SubjectId::new("cust-1")?, RequestKind::Access, received);
//! assert_eq!(requests.get(id).unwrap().due.to_string(), "2025-06-17");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::policy::Policy;
use crate::vocab::SubjectId;

/// What the subject asks for (Art. 22.1-22.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RequestKind {
    /// To be told what is processed, why, by whom, for how long (Art. 22.2-22.4).
    Access,
    /// To have incomplete or wrong data corrected.
    Rectification,
    /// To have processing suspended.
    Blocking,
    /// To have data destroyed.
    Destruction,
    /// To withdraw consent.
    Withdrawal,
}

/// One request and its dates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SubjectRequest {
    /// Its number.
    pub id: u64,
    /// Who asked.
    pub subject: SubjectId,
    /// For what.
    pub kind: RequestKind,
    /// When it arrived.
    pub received: DateTime<Utc>,
    /// The last day to answer, on the policy's calendar.
    pub due: NaiveDate,
    /// When it was answered, once it was.
    pub completed: Option<DateTime<Utc>>,
}

/// The register of subjects' requests.
#[derive(Debug)]
pub struct SubjectRequests {
    policy: Arc<Policy>,
    requests: Mutex<Vec<SubjectRequest>>,
}

impl SubjectRequests {
    /// A register counting deadlines on `policy`'s pack and calendar.
    pub fn new(policy: Arc<Policy>) -> Self {
        Self {
            policy,
            requests: Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SubjectRequest>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a request received at `received` and returns its number.
    pub fn receive(&self, subject: SubjectId, kind: RequestKind, received: DateTime<Utc>) -> u64 {
        let day = received.date_naive();
        // A calendar that can't count that far makes the request due at once.
        let due = self.policy.subject_request_due(day).unwrap_or(day);
        let mut requests = self.lock();
        let id = requests.len() as u64 + 1;
        requests.push(SubjectRequest {
            id,
            subject,
            kind,
            received,
            due,
            completed: None,
        });
        id
    }

    /// The request with this number.
    pub fn get(&self, id: u64) -> Option<SubjectRequest> {
        self.lock().get(crate::slot(id)?).cloned()
    }

    /// Records that request `id` was answered at `at`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRequest`] if there is no such request.
    pub fn complete(&self, id: u64, at: DateTime<Utc>) -> Result<(), Error> {
        let mut requests = self.lock();
        let request = crate::slot(id)
            .and_then(|i| requests.get_mut(i))
            .ok_or(Error::UnknownRequest { request: id })?;
        request.completed.get_or_insert(at);
        Ok(())
    }

    /// Requests not answered by the end of their due day, as of `now`.
    pub fn overdue_requests(&self, now: DateTime<Utc>) -> Vec<SubjectRequest> {
        let today = now.date_naive();
        self.lock()
            .iter()
            .filter(|r| r.completed.is_none() && r.due < today)
            .cloned()
            .collect()
    }

    /// Requests not yet answered, oldest first.
    pub fn open_requests(&self) -> Vec<SubjectRequest> {
        self.lock()
            .iter()
            .filter(|r| r.completed.is_none())
            .cloned()
            .collect()
    }
}
