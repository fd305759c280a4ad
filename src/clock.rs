//! Where the library gets the time from.
//!
//! Every deadline — a token's short life, a consent's end of validity — is checked against
//! a [`Clock`] handed to the [`ConsentLedger`](crate::ConsentLedger). Production code uses
//! [`SystemClock`]; tests use [`ManualClock`] and move it forward, so years of validity run
//! in milliseconds.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
#[cfg(any(test, not(any(target_os = "linux", target_os = "android"))))]
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

/// A shared clock is a clock, so a ledger and your own code can hold one `Arc<dyn Clock>`.
impl<T: Clock + ?Sized> Clock for Arc<T> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }

    fn now_millis(&self) -> i64 {
        (**self).now_millis()
    }
}

/// The operating system's real-time clock.
///
/// On Linux it reads the kernel's *coarse* real-time clock, which is updated every tick
/// (1–4 ms) and costs a few nanoseconds instead of tens: every read of personal data asks
/// the time, and every deadline the library keeps — a token's minutes, a consent's months —
/// is far coarser than a tick. Elsewhere it reads [`std::time::SystemTime`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        millis_to_time(self.now_millis())
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[inline]
    fn now_millis(&self) -> i64 {
        let now = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
        now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
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

    /// Moves the clock by `by` (backwards if negative), to millisecond precision,
    /// stopping at the ends of time rather than wrapping around.
    pub fn advance(&self, by: TimeDelta) {
        let by = by.num_milliseconds();
        // The closure always returns Some, so the update can't fail.
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |ms| {
                Some(ms.saturating_add(by))
            });
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
    fn system_clock_agrees_with_the_precise_clock_to_a_few_ticks() {
        let precise = |()| {
            i64::try_from(
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_millis(),
            )
            .unwrap()
        };
        let before = precise(());
        let coarse = SystemClock.now_millis();
        let after = precise(());
        // A coarse reading lags the precise one by at most a tick (4 ms at HZ=250).
        assert!(
            before - 50 <= coarse && coarse <= after,
            "{before} {coarse} {after}"
        );
        let dated = SystemClock.now().timestamp_millis();
        assert!(coarse <= dated && dated <= precise(()));
    }

    #[test]
    fn manual_clock_moves_both_ways_and_saturates_when_printed() {
        let clock = ManualClock::new(DateTime::UNIX_EPOCH);
        clock.advance(TimeDelta::hours(2));
        clock.advance(TimeDelta::hours(-1));
        assert_eq!(clock.now_millis(), 3_600_000);
        clock.advance(TimeDelta::MAX);
        clock.advance(TimeDelta::MAX);
        assert_eq!(clock.now_millis(), i64::MAX);
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        assert_eq!(shared.now_millis(), i64::MAX);
        assert_eq!(millis_to_time(i64::MAX), DateTime::<Utc>::MAX_UTC);
    }
}
