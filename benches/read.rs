//! What a token-checked read costs over opening the same `secrecy` box directly, and what
//! the full path of a request costs: authorize, then read the selfie.
//!
//! DESIGN.md goal: at most 10 ns added per read.

use std::hint::black_box;

use amanat::category::Biometric;
use amanat::{
    ConsentForm, ConsentLedger, ConsentToken, DocumentHash, Grant, PersonalData, Policy,
    PolicyVersion, Purpose, RetentionSchedule, SubjectId,
};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use secrecy::{ExposeSecret, SecretBox};

/// Grants `subject` a written consent to identity verification with the selfie, and
/// returns the token `authorize` then issues.
fn selfie_consent(ledger: &ConsentLedger, subject: &SubjectId) -> ConsentToken<Biometric> {
    let written = ConsentForm::Written {
        document_sha256: DocumentHash::of(b"form"),
    };
    ledger
        .grant(
            Grant::new(subject.clone(), written)
                .purpose(Purpose::IDENTITY_VERIFICATION)
                .category::<Biometric>(),
        )
        .unwrap();
    ledger
        .authorize::<Biometric>(subject, &Purpose::IDENTITY_VERIFICATION)
        .unwrap()
}

fn read(c: &mut Criterion) {
    let ledger = ConsentLedger::new(PolicyVersion::new("bench").unwrap());
    let subject = SubjectId::new("cust-1").unwrap();
    let token = selfie_consent(&ledger, &subject);
    let selfie = vec![0xA5_u8; 64 * 1024];
    let data = PersonalData::collect(&subject, selfie.clone(), &token).unwrap();
    let raw = SecretBox::new(Box::new(selfie));

    let mut group = c.benchmark_group("read");
    group.bench_function("raw_expose_secret", |b| {
        b.iter(|| black_box(black_box(&raw).expose_secret()[17]));
    });
    group.bench_function("amanat_read", |b| {
        b.iter(|| black_box(black_box(&data).read(black_box(&token)).unwrap()[17]));
    });
    group.bench_function("amanat_with", |b| {
        b.iter(|| {
            black_box(&data)
                .with(black_box(&token), |v| black_box(v[17]))
                .unwrap()
        });
    });
    // The same read on a record a retention schedule tracks: its value sits behind the
    // read lock the schedule needs to zeroize it in place.
    let policy = std::sync::Arc::new(
        Policy::from_toml_str(include_str!("../examples/policies/imanum.toml")).unwrap(),
    );
    let schedule = RetentionSchedule::new(policy);
    let mut tracked = PersonalData::collect(&subject, vec![0xA5_u8; 64 * 1024], &token).unwrap();
    schedule.track(&mut tracked).unwrap();
    group.bench_function("amanat_read_tracked", |b| {
        b.iter(|| black_box(black_box(&tracked).read(black_box(&token)).unwrap()[17]));
    });
    group.finish();
}

/// Customers in the many-customers case of [`request_path`]: each holds a 64 KiB selfie,
/// and so does the raw peer, so 2.6 GB in all.
const CUSTOMERS: usize = 20_000;

/// The path a request takes — `authorize`, then `read` the selfie with the token it
/// issued — against opening a `secrecy` box of the same bytes, which checks nothing.
/// Once for one customer over and over, once for a different customer each call.
fn request_path(c: &mut Criterion) {
    let ledger = ConsentLedger::new(PolicyVersion::new("bench").unwrap());
    let mut selfies = Vec::with_capacity(CUSTOMERS);
    let mut raw = Vec::with_capacity(CUSTOMERS);
    for n in 0..CUSTOMERS {
        let subject = SubjectId::new(format!("cust-{n:08}")).unwrap();
        let token = selfie_consent(&ledger, &subject);
        let selfie = vec![0xA5_u8; 64 * 1024];
        raw.push(SecretBox::new(Box::new(selfie.clone())));
        selfies.push((
            subject.clone(),
            PersonalData::collect(&subject, selfie, &token).unwrap(),
        ));
    }

    let mut group = c.benchmark_group("request_path");
    let (subject, selfie) = &selfies[CUSTOMERS / 2];
    let one_raw = &raw[CUSTOMERS / 2];
    group.bench_function("raw_expose_secret_one_customer", |b| {
        b.iter(|| black_box(black_box(one_raw).expose_secret()[17]));
    });
    group.bench_function("authorize_then_read_one_customer", |b| {
        b.iter(|| {
            let token = ledger
                .authorize::<Biometric>(black_box(subject), &Purpose::IDENTITY_VERIFICATION)
                .unwrap();
            black_box(selfie.read(&token).unwrap()[17])
        });
    });
    // A fixed stride through the customers, the same for both, so each call lands on
    // another customer's consent and selfie; the customer's id is parsed afresh, as from
    // a request, outside the timing.
    let stride = |next: &mut usize| {
        *next = (*next + 7919) % CUSTOMERS;
        *next
    };
    let mut next = 0;
    group.bench_function("raw_expose_secret_many_customers", |b| {
        b.iter_batched(
            || stride(&mut next),
            |n| black_box(raw[n].expose_secret()[17]),
            BatchSize::SmallInput,
        );
    });
    let mut next = 0;
    group.bench_function("authorize_then_read_many_customers", |b| {
        b.iter_batched_ref(
            || {
                let n = stride(&mut next);
                (SubjectId::new(format!("cust-{n:08}")).unwrap(), n)
            },
            |(subject, n)| {
                let token = ledger
                    .authorize::<Biometric>(subject, &Purpose::IDENTITY_VERIFICATION)
                    .unwrap();
                black_box(selfies[*n].1.read(&token).unwrap()[17])
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, read, request_path);
criterion_main!(benches);
