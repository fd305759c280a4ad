//! `authorize` with a million subjects in the ledger.
//!
//! DESIGN.md goal: median at most 200 ns. Each subject has three consents — an OTP consent
//! for phone and passport, a written one for the selfie, and a marketing consent, a tenth
//! of them withdrawn — so the lookup walks a realistic list, not a single entry.
//!
//! Before the timings it prints the ledger's memory: the process's resident set before
//! and after the consents are granted (issue 20: at most 250 bytes a consent).

use std::collections::HashMap;
use std::hint::black_box;

use amanat::category::{Biometric, Passport, Phone};
use amanat::{
    ConsentForm, ConsentLedger, DocumentHash, ElectronicMethod, Grant, Policy, PolicyVersion,
    Purpose, SubjectId,
};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const SUBJECTS: usize = 1_000_000;

fn ledger_with(subjects: usize) -> (ConsentLedger, Vec<SubjectId>) {
    let ledger = ConsentLedger::new(PolicyVersion::new("bench").unwrap());
    let otp = ConsentForm::Electronic {
        method: ElectronicMethod::OneTimePassword,
    };
    let written = ConsentForm::Written {
        document_sha256: DocumentHash::of(b"form"),
    };
    let ids: Vec<_> = (0..subjects)
        .map(|n| SubjectId::new(format!("cust-{n:08}")).unwrap())
        .collect();
    let before = resident();
    for (n, subject) in ids.iter().enumerate() {
        ledger
            .grant(
                Grant::new(subject.clone(), otp.clone())
                    .purpose(Purpose::IDENTITY_VERIFICATION)
                    .purpose(Purpose::SERVICE_PROVISION)
                    .category::<Phone>()
                    .category::<Passport>(),
            )
            .unwrap();
        ledger
            .grant(
                Grant::new(subject.clone(), written.clone())
                    .purpose(Purpose::IDENTITY_VERIFICATION)
                    .category::<Biometric>(),
            )
            .unwrap();
        let marketing = ledger
            .grant(
                Grant::new(subject.clone(), otp.clone())
                    .purpose(Purpose::MARKETING_ANALYTICS)
                    .category::<Phone>(),
            )
            .unwrap();
        if n % 10 == 0 {
            ledger.withdraw(&marketing).unwrap();
        }
    }
    if let (Some(before), Some(after)) = (before, resident()) {
        let grown = after.saturating_sub(before);
        println!(
            "ledger of {subjects} subjects with {} consents: {} MB resident, {} bytes a consent",
            3 * subjects,
            grown / 1_000_000,
            grown / (3 * subjects as u64).max(1),
        );
    }
    (ledger, ids)
}

/// The process's resident set in bytes, where `/proc` tells it.
fn resident() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn authorize(c: &mut Criterion) {
    let subjects = std::env::var("AMANAT_BENCH_SUBJECTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(SUBJECTS);
    let (ledger, ids) = ledger_with(subjects);
    // A fixed stride through the ids so each lookup lands on a cold, different subject,
    // as requests from many customers do.
    let mut next = 0_usize;
    let mut pick = move || {
        next = (next + 7919) % subjects;
        next
    };

    // The floor for any design keyed by subject: one hash lookup among as many keys, with
    // the same hasher and the same stride. What `authorize` costs above it is its own.
    let bare: HashMap<SubjectId, usize, foldhash::fast::RandomState> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| (id.clone(), n))
        .collect();

    let mut group = c.benchmark_group(format!("authorize_{subjects}_subjects"));
    group.bench_function("baseline_hashmap_lookup", |b| {
        b.iter_batched_ref(
            || ids[pick()].clone(),
            |subject| black_box(bare.get(subject).copied()),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("granted_selfie", |b| {
        b.iter_batched_ref(
            || ids[pick()].clone(),
            |subject| {
                black_box(
                    ledger
                        .authorize::<Biometric>(subject, &Purpose::IDENTITY_VERIFICATION)
                        .is_ok(),
                )
            },
            BatchSize::SmallInput,
        );
    });
    // The same customer over and over: several checks within one request, or a hot
    // customer. Shows what the lookup costs once memory latency is out of the way.
    let regular = ids[subjects / 2].clone();
    group.bench_function("granted_selfie_same_subject", |b| {
        b.iter(|| {
            black_box(
                ledger
                    .authorize::<Biometric>(black_box(&regular), &Purpose::IDENTITY_VERIFICATION)
                    .is_ok(),
            )
        });
    });
    group.bench_function("refused_selfie_for_marketing", |b| {
        b.iter_batched_ref(
            || ids[pick()].clone(),
            |subject| {
                black_box(
                    ledger
                        .authorize::<Biometric>(subject, &Purpose::MARKETING_ANALYTICS)
                        .is_err(),
                )
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

/// What enforcing a policy adds: the same decision on a one-subject ledger, with and
/// without the IMANUM policy.
fn policy_overhead(c: &mut Criterion) {
    let policy = Policy::from_toml_str(include_str!("../examples/policies/imanum.toml")).unwrap();
    let subject = SubjectId::new("cust-1").unwrap();
    let written = ConsentForm::Written {
        document_sha256: DocumentHash::of(b"form"),
    };
    let plain = ConsentLedger::new(policy.version().clone());
    let enforcing = ConsentLedger::with_policy(policy);
    let mut group = c.benchmark_group("authorize_policy_overhead");
    for (name, ledger) in [
        ("without_policy", &plain),
        ("with_imanum_policy", &enforcing),
    ] {
        ledger
            .grant(
                Grant::new(subject.clone(), written.clone())
                    .purpose(Purpose::IDENTITY_VERIFICATION)
                    .category::<Biometric>(),
            )
            .unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    ledger
                        .authorize::<Biometric>(
                            black_box(&subject),
                            &Purpose::IDENTITY_VERIFICATION,
                        )
                        .is_ok(),
                )
            });
        });
    }
    group.finish();
}

criterion_group!(benches, authorize, policy_overhead);
criterion_main!(benches);
