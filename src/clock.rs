//! Where the library gets the time from.
//!
//! Every deadline — a token's short life, a consent's end of validity — is checked against
//! a [`Clock`] handed to the [`ConsentLedger`](crate::ConsentLedger). Production code uses
//! [`SystemClock`]; tests use [`ManualClock`] and move it forward, so years of validity run
//! in milliseconds.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeDelta, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;

    /// The current time in milliseconds since the Unix epoch. Must agree with
    /// [`now`](Clock::now); override it when the clock can answer faster than by building a
    /// `DateTime`, since every read of personal data asks it.
    fn now_millis(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

/// The operating system's real-time clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn now_millis(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
            // A clock set before 1970 is still a clock; negative millis compare correctly.
            Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
        }
    }
}

/// A clock that stands still until told to move: for tests and simulations.
///
/// Clones share the same time, so a test keeps one handle and gives the ledger another.
///
/// ```
/// use amanat::{Clock, ManualClock};
/// use chrono::{TimeDelta, TimeZone, Utc};
///
/// let start = Utc.with_ymd_and_hms(2025, 7, 1, 9, 0, 0).unwrap();
/// let clock = ManualClock::new(start);
/// let handle = clock.clone();
/// handle.advance(TimeDelta::days(365));
/// assert_eq!(clock.now(), start + TimeDelta::days(365));
/// ```
#[derive(Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock showing `start`, to millisecond precision.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Arc::new(AtomicI64::new(start.timestamp_millis())))
    }

    /// Moves the clock by `by` (backwards if negative), to millisecond precision.
    pub fn advance(&self, by: TimeDelta) {
        self.0.fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: DateTime<Utc>) {
        self.0.store(to.timestamp_millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        millis_to_time(self.now_millis())
    }

    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

/// Converts the library's internal millisecond times back to a `DateTime`, saturating at
/// chrono's range so that "never" (`i64::MAX`) prints as the far future instead of failing.
pub(crate) fn millis_to_time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(if ms < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_millis_agree_with_now() {
        let clock = SystemClock;
        let before = clock.now().timestamp_millis();
        let millis = clock.now_millis();
        let after = clock.now().timestamp_millis();
        assert!(before <= millis && millis <= after);
    }

    #[test]
    fn manual_clock_moves_both_ways_and_saturates_when_printed() {
        let clock = ManualClock::new(DateTime::UNIX_EPOCH);
        clock.advance(TimeDelta::hours(2));
        clock.advance(TimeDelta::hours(-1));
        assert_eq!(clock.now_millis(), 3_600_000);
        assert_eq!(millis_to_time(i64::MAX), DateTime::<Utc>::MAX_UTC);
    }
}
