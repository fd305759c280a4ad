//! Working days: the unit the law counts its deadlines in.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

/// Which days are working days: every day but the weekend days, the holidays that fall on
/// the same date every year (New Year, 8 March), and one-off days off (holidays that move
/// with the lunar calendar, like Ramadan and Kurban Hayit, or a day moved by decree).
///
/// Every deadline in the library — a subject's request (Tajik law Art. 25.1; ZRU-547 Art. 11, 22, 24), a transfer
/// notice (Art. 21) — is counted on the policy's calendar.
///
/// ```
/// use amanat::policy::WorkingCalendar;
/// use chrono::{NaiveDate, Weekday};
///
/// let calendar = WorkingCalendar::new([Weekday::Sat, Weekday::Sun])
///     .with_fixed_holiday(1, 1)
///     .with_day_off(NaiveDate::from_ymd_opt(2025, 3, 31).unwrap());
/// // A notice owed on Friday 28 March 2025 is due three working days later: Monday
/// // 31 March is a day off, so Tuesday, Wednesday, Thursday.
/// let friday = NaiveDate::from_ymd_opt(2025, 3, 28).unwrap();
/// assert_eq!(
///     calendar.add_working_days(friday, 3),
///     NaiveDate::from_ymd_opt(2025, 4, 3)
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorkingCalendar {
    weekend: Vec<Weekday>,
    /// (month, day) pairs.
    fixed: BTreeSet<(u32, u32)>,
    days_off: BTreeSet<NaiveDate>,
}

impl WorkingCalendar {
    /// A calendar whose only days off are `weekend`.
    pub fn new(weekend: impl IntoIterator<Item = Weekday>) -> Self {
        let mut days: Vec<_> = weekend.into_iter().collect();
        days.sort_by_key(Weekday::num_days_from_monday);
        days.dedup();
        Self {
            weekend: days,
            fixed: BTreeSet::new(),
            days_off: BTreeSet::new(),
        }
    }

    /// Adds a holiday on the same date every year. A date that does not exist in a year
    /// (29 February) is simply not a holiday that year, and one that never exists (30
    /// February) is never one.
    #[must_use]
    pub fn with_fixed_holiday(mut self, month: u32, day: u32) -> Self {
        self.fixed.insert((month, day));
        self
    }

    /// Adds a single day off.
    #[must_use]
    pub fn with_day_off(mut self, date: NaiveDate) -> Self {
        self.days_off.insert(date);
        self
    }

    /// The weekend days, Monday first.
    pub fn weekend(&self) -> &[Weekday] {
        &self.weekend
    }

    /// The holidays that fall on the same date every year, as (month, day).
    pub fn fixed_holidays(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.fixed.iter().copied()
    }

    /// The one-off days off, in order.
    pub fn days_off(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.days_off.iter().copied()
    }

    /// Whether the calendar has working days at all: some day of the week is not a weekend
    /// day, and the yearly holidays do not cover every date of the year. A calendar without
    /// one can count no deadline.
    pub fn has_working_day(&self) -> bool {
        // 366 dates (29 February included) fixed as holidays leave no day in any year;
        // fewer leave a date that falls on every weekday over the years.
        self.weekend.len() < 7 && self.fixed.len() < 366
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.weekend.contains(&date.weekday())
            && !self.fixed.contains(&(date.month(), date.day()))
            && !self.days_off.contains(&date)
    }

    /// The `n`-th working day after `date` — the day a deadline of `n` working days that
    /// starts on `date` falls due. With `n = 0`, `date` itself. `None` only when no such
    /// day exists before the end of the calendar (a calendar with no working weekday, or a
    /// date at the end of time).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> Option<NaiveDate> {
        if n > 0 && !self.has_working_day() {
            return None;
        }
        let mut day = date;
        let mut left = n;
        while left > 0 {
            day = day.succ_opt()?;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        Some(day)
    }

    /// How many working days lie after `from` up to and including `to`; negative when `to`
    /// is before `from`. `working_days_between(d, add_working_days(d, n))` is `n`.
    ///
    /// Counts by whole weeks and by each year's holidays, not day by day, so a span of
    /// centuries costs no more than its years.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (start, end, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let total = (end - start).num_days();
        let working_per_week = i64::try_from(7 - self.weekend.len()).unwrap_or(0);
        let mut count = total / 7 * working_per_week;
        // The days after the last whole week.
        let mut day = start + chrono::Days::new(u64::try_from(total / 7 * 7).unwrap_or(0));
        while day < end {
            day = match day.succ_opt() {
                Some(next) => next,
                None => break,
            };
            if !self.weekend.contains(&day.weekday()) {
                count += 1;
            }
        }
        let in_span = |date: &NaiveDate| start < *date && *date <= end;
        let weekday_off = |date: &NaiveDate| self.weekend.contains(&date.weekday());
        for year in start.year()..=end.year() {
            for &(month, day) in &self.fixed {
                if let Some(date) = NaiveDate::from_ymd_opt(year, month, day)
                    && in_span(&date)
                    && !weekday_off(&date)
                {
                    count -= 1;
                }
            }
        }
        for date in self.days_off.iter().filter(|d| in_span(d)) {
            if !weekday_off(date) && !self.fixed.contains(&(date.month(), date.day())) {
                count -= 1;
            }
        }
        sign * count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_week_without_working_days_counts_nothing() {
        let all = WorkingCalendar::new([
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]);
        assert_eq!(all.add_working_days(date(2025, 1, 1), 1), None);
        assert_eq!(
            all.add_working_days(date(2025, 1, 1), 0),
            Some(date(2025, 1, 1))
        );
        assert_eq!(
            all.working_days_between(date(2025, 1, 1), date(2025, 2, 1)),
            0
        );
    }

    #[test]
    fn the_end_of_time_is_not_a_panic() {
        let calendar = WorkingCalendar::new([Weekday::Sun]);
        assert_eq!(calendar.add_working_days(NaiveDate::MAX, 1), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, ..Default::default() })]

        #[test]
        fn counting_by_weeks_agrees_with_counting_day_by_day(
            from in 0..3000_i64,
            span in -800..800_i64,
            weekend in proptest::collection::vec(0..7_u8, 0..3),
            fixed in proptest::collection::vec((1..=12_u32, 1..=31_u32), 0..8),
            off in proptest::collection::vec(0..4000_i64, 0..8),
        ) {
            let base = date(2020, 1, 1);
            let at = |n: i64| base + chrono::TimeDelta::days(n);
            let mut calendar = WorkingCalendar::new(
                weekend.iter().map(|d| Weekday::try_from(*d).unwrap()),
            );
            for (m, d) in fixed {
                calendar = calendar.with_fixed_holiday(m, d);
            }
            for n in off {
                calendar = calendar.with_day_off(at(n));
            }
            let (a, b) = (at(from), at(from + span));
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let naive = lo
                .iter_days()
                .skip(1)
                .take_while(|d| *d <= hi)
                .filter(|d| calendar.is_working_day(*d))
                .count();
            let naive = i64::try_from(naive).unwrap() * if a <= b { 1 } else { -1 };
            proptest::prop_assert_eq!(calendar.working_days_between(a, b), naive);
        }
    }

    #[test]
    fn every_date_a_holiday_is_no_working_day() {
        let mut calendar = WorkingCalendar::new([Weekday::Sun]);
        for (month, days) in [
            (1, 31),
            (2, 29),
            (3, 31),
            (4, 30),
            (5, 31),
            (6, 30),
            (7, 31),
            (8, 31),
            (9, 30),
            (10, 31),
            (11, 30),
            (12, 31),
        ] {
            for day in 1..=days {
                calendar = calendar.with_fixed_holiday(month, day);
            }
        }
        assert!(!calendar.has_working_day());
        assert_eq!(calendar.add_working_days(date(2025, 1, 1), 1), None);
    }

    #[test]
    fn a_span_of_millennia_is_counted_quickly() {
        let calendar = WorkingCalendar::new([Weekday::Sat, Weekday::Sun]).with_fixed_holiday(1, 1);
        let days = calendar.working_days_between(date(-5000, 1, 1), date(5000, 1, 1));
        assert!(days > 2_500_000);
    }

    #[test]
    fn counting_back_is_negative() {
        let calendar = WorkingCalendar::new([Weekday::Sat, Weekday::Sun]);
        let monday = date(2025, 6, 2);
        let friday = date(2025, 6, 6);
        assert_eq!(calendar.working_days_between(monday, friday), 4);
        assert_eq!(calendar.working_days_between(friday, monday), -4);
    }
}
