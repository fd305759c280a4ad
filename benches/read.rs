//! What a token-checked read costs over opening the same `secrecy` box directly.
//!
//! DESIGN.md goal: at most 10 ns added per read.

use std::hint::black_box;

use amanat::category::Biometric;
use amanat::{
    ConsentForm, ConsentLedger, DocumentHash, Grant, PersonalData, Policy, PolicyVersion, Purpose,
    RetentionSchedule, SubjectId,
};
use criterion::{Criterion, criterion_group, criterion_main};
use secrecy::{ExposeSecret, SecretBox};

fn read(c: &mut Criterion) {
    let ledger = ConsentLedger::new(PolicyVersion::new("bench").unwrap());
    let subject = SubjectId::new("cust-1").unwrap();
    ledger
        .grant(
            Grant::new(
                subject.clone(),
                ConsentForm::Written {
                    document_sha256: DocumentHash::of(b"form"),
                },
            )
            .purpose(Purpose::IDENTITY_VERIFICATION)
            .category::<Biometric>(),
        )
        .unwrap();
    let token = ledger
        .authorize::<Biometric>(&subject, &Purpose::IDENTITY_VERIFICATION)
        .unwrap();
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

criterion_group!(benches, read);
criterion_main!(benches);
