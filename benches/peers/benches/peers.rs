//! The same consent decision made by amanat, Cedar and Rego on the same customers
//! (1 k, 100 k and 1 M; `AMANAT_PEER_SUBJECTS=1000,100000` to choose), the same queries in
//! the same order. Before anything is timed, each peer's decisions on the first
//! [`CHECKED`] queries (all of them for up to 100 k subjects) are compared with
//! amanat's, and the run fails on the first disagreement.
//!
//! Each timed call answers one query of a fixed stride through the customers, so that it
//! lands on a cold one, and only checked queries are timed: the sequence starts over
//! after the last one checked. The query is built outside the timing in the form each engine
//! takes (a parsed `SubjectId`, a Cedar `Request`, a Rego input value): what is timed is
//! the decision alone, which favours the peers, whose requests cost more to build.

use std::collections::HashMap;
use std::hint::black_box;

use amanat::SubjectId;
use amanat_peers::{Amanat, Cedar, Dataset, Rego, agreement};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

/// At most this many queries are checked for agreement per size.
const CHECKED: usize = 600_000;

fn sizes() -> Vec<usize> {
    std::env::var("AMANAT_PEER_SUBJECTS").map_or_else(
        |_| vec![1_000, 100_000, 1_000_000],
        |sizes| {
            sizes
                .split(',')
                .map(|n| {
                    n.trim()
                        .parse()
                        .expect("AMANAT_PEER_SUBJECTS: a comma-separated list of subject counts")
                })
                .collect()
        },
    )
}

fn decide(c: &mut Criterion) {
    for subjects in sizes() {
        let data = Dataset::new(subjects);
        let checked = data.full_round().min(CHECKED);
        // amanat, Rego, then Cedar: loading Cedar frees the most (its peak is about twice
        // what it keeps), and no engine is then loaded into what it freed.
        let amanat = Amanat::load(&data);
        let mut rego = Rego::load(&data);
        let cedar = Cedar::load(&data);
        let expected = amanat.decide_all(&data, checked);
        let allowed = expected.iter().filter(|allowed| **allowed).count();
        assert!(
            allowed > 0 && allowed < checked,
            "the checked queries must be both allowed and denied"
        );
        for (peer, decided) in [
            ("cedar", cedar.decide_all(&data, checked)),
            ("rego", rego.decide_all(&data, checked)),
        ] {
            if let Err(disagreement) = agreement(peer, &expected, &decided) {
                panic!("{disagreement}: {:?}", data.query(disagreement.query));
            }
        }
        eprintln!(
            "{subjects} subjects: cedar and rego agree with amanat on {checked} queries ({allowed} allowed)"
        );

        let mut group = c.benchmark_group(format!("decide_{subjects}_subjects"));
        // The floor for any engine keyed by subject: finding the subject among as many,
        // with amanat's hasher, the same fresh ids and the same order. What a decision
        // costs above it is the engine's own.
        let floor: HashMap<SubjectId, usize, foldhash::fast::RandomState> = (0..subjects)
            .map(|n| {
                (
                    SubjectId::new(Dataset::subject_id(n)).expect("a valid id"),
                    n,
                )
            })
            .collect();
        let mut next = 0;
        group.bench_function("floor_hashmap_lookup", |b| {
            b.iter_batched_ref(
                || {
                    next = (next + 1) % checked;
                    let query = data.query(next);
                    SubjectId::new(Dataset::subject_id(query.subject)).expect("a valid id")
                },
                |subject| black_box(floor.get(subject).copied()),
                BatchSize::SmallInput,
            );
        });
        drop(floor);
        let mut next = 0;
        group.bench_function("amanat_authorize", |b| {
            b.iter_batched_ref(
                || {
                    next = (next + 1) % checked;
                    Amanat::query(&data.query(next))
                },
                |query| black_box(amanat.decide(query)),
                BatchSize::SmallInput,
            );
        });
        let mut next = 0;
        group.bench_function("cedar_is_authorized", |b| {
            b.iter_batched_ref(
                || {
                    next = (next + 1) % checked;
                    Cedar::request(&data, &data.query(next))
                },
                |request| black_box(cedar.decide(request)),
                BatchSize::SmallInput,
            );
        });
        let mut next = 0;
        group.bench_function("regorus_eval_rule", |b| {
            b.iter_batched(
                || {
                    next = (next + 1) % checked;
                    Rego::input(&data, &data.query(next))
                },
                |input| black_box(rego.decide(input)),
                BatchSize::SmallInput,
            );
        });
        group.finish();
    }
}

criterion_group!(benches, decide);
criterion_main!(benches);
