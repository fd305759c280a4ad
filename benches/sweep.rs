//! `sweep` with ten million tracked records of which ten thousand are due, and the cost
//! of scheduling one more record.
//!
//! DESIGN.md goal: sweep ≤ 20 ms with 10 M tracked and 10 k due.

use std::hint::black_box;
use std::sync::Arc;

use amanat::category::{Category, PaymentCard};
use amanat::data::RecordId;
use amanat::retention::RetentionSchedule;
use amanat::{Policy, Purpose, SubjectId};
use chrono::{DateTime, TimeDelta, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const TRACKED: usize = 10_000_000;
const DUE: usize = 10_000;

fn sweep(c: &mut Criterion) {
    let tracked = std::env::var("AMANAT_BENCH_TRACKED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(TRACKED);
    let policy =
        Arc::new(Policy::from_toml_str(include_str!("../examples/policies/imanum.toml")).unwrap());
    // Card data for credit scoring is kept one year after collection.
    let purpose = Purpose::CREDIT_SCORING;
    let schedule = RetentionSchedule::new(policy);
    let start = DateTime::<Utc>::from_timestamp(1_751_360_400, 0).unwrap();
    let subjects: Vec<SubjectId> = (0..1000)
        .map(|n| SubjectId::new(format!("cust-{n:04}")).unwrap())
        .collect();
    // The standing population: collected over the last year, due later than any sweep
    // below looks.
    for n in 0..tracked {
        let collected = start + TimeDelta::seconds(i64::try_from(n % 30_000_000).unwrap());
        schedule
            .track_record(
                RecordId::random(),
                &subjects[n % subjects.len()],
                PaymentCard::ID,
                &purpose,
                collected,
            )
            .unwrap();
    }
    let year = TimeDelta::days(365);
    let mut group = c.benchmark_group(format!("retention_{tracked}_tracked"));
    group.sample_size(20);
    // Each sample adds 10 k records collected a year before `now`, then times the sweep
    // that destroys exactly them.
    let mut round = 0_i64;
    group.bench_function("sweep_10k_due", |b| {
        b.iter_batched(
            || {
                round += 1;
                let collected = start - year - TimeDelta::days(400) + TimeDelta::minutes(round);
                for n in 0..DUE {
                    schedule
                        .track_record(
                            RecordId::random(),
                            &subjects[n % subjects.len()],
                            PaymentCard::ID,
                            &purpose,
                            collected,
                        )
                        .unwrap();
                }
                // A year of months is 365 or 366 days; 366 days covers both.
                collected + TimeDelta::days(366)
            },
            |now| {
                let report = schedule.sweep(now);
                assert_eq!(report.destroyed.len(), DUE);
                black_box(report)
            },
            BatchSize::PerIteration,
        );
    });
    // The floor for any schedule keyed by record: the same n in an ordered queue and a
    // hash map, and the 10 k due popped from one and removed from the other.
    let mut queue: std::collections::BTreeSet<(i64, u128)> = (1..=tracked as u64)
        .map(|n| (i64::MAX - i64::try_from(n).unwrap(), u128::from(n)))
        .collect();
    let mut map: std::collections::HashMap<u128, u64, foldhash::fast::RandomState> =
        (1..=tracked as u64).map(|n| (u128::from(n), n)).collect();
    let mut next = tracked as u128;
    group.bench_function("baseline_queue_and_map_10k_due", |b| {
        b.iter_custom(|iterations| {
            let mut timed = std::time::Duration::ZERO;
            for _ in 0..iterations {
                for _ in 0..DUE {
                    next += 1;
                    queue.insert((0, next));
                    map.insert(next, 0);
                }
                let started = std::time::Instant::now();
                let mut removed = 0;
                while let Some(&(due, id)) = queue.first() {
                    if due > 0 {
                        break;
                    }
                    queue.pop_first();
                    removed += usize::from(map.remove(&id).is_some());
                }
                timed += started.elapsed();
                assert_eq!(black_box(removed), DUE);
            }
            timed
        });
    });
    drop((queue, map));
    group.bench_function("schedule_one_record", |b| {
        b.iter_batched(
            RecordId::random,
            |record| {
                schedule
                    .track_record(record, &subjects[7], PaymentCard::ID, &purpose, start)
                    .unwrap();
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, sweep);
criterion_main!(benches);
