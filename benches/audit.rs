//! Appending to the hash-chained audit log: in memory, and to a JSON Lines file flushed in
//! batches. DESIGN.md goal: at least a million entries a second in memory.

use std::hint::black_box;
use std::time::Instant;

use amanat::audit::{AuditEvent, AuditLog};
use amanat::{Purpose, SubjectId};
use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn append(c: &mut Criterion) {
    let subject = SubjectId::new("cust-000123").unwrap();
    let event = AuditEvent::Authorization {
        subject,
        purpose: Purpose::CREDIT_SCORING,
        category: "payment_card".into(),
        granted: true,
        rule: None,
        consent: None,
        actor: None,
    };
    let now = Utc::now();
    let mut group = c.benchmark_group("audit_append");
    group.throughput(Throughput::Elements(1));
    // A fresh log per sample: one log kept across every sample grows to tens of millions
    // of entries, and the run then measures the kernel handing it fresh pages (a third of
    // the time, by perf) more than the append, and varies by ±30 % with it.
    group.bench_function("memory", |b| {
        b.iter_custom(|iters| {
            let memory = AuditLog::in_memory();
            let start = Instant::now();
            for _ in 0..iters {
                black_box(memory.append(now, event.clone()).unwrap());
            }
            let took = start.elapsed();
            drop(memory);
            took
        });
    });
    let dir = std::env::temp_dir().join(format!("amanat-audit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = AuditLog::open(dir.join("audit.jsonl"), 1024).unwrap();
    group.bench_function("file_batches_of_1024", |b| {
        b.iter(|| black_box(file.append(now, event.clone()).unwrap()));
    });
    group.finish();
    drop(file);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, append);
criterion_main!(benches);
