//! The embedded store on SQLite: what a decision costs on an operator, whose ledger
//! reports it to the log, against the bare ledger; what a grant and a withdrawal cost when
//! each is kept before it is acknowledged (one synced batch of the authenticated log,
//! holding the change and its audit entry), from one thread and from sixteen sharing syncs,
//! against the same grant in memory and a bare synced SQLite insert; and how long reopening
//! takes with a million consents to rebuild (and their million audit entries, and the whole
//! log, to verify), against reading the same rows and nothing more
//! (`AMANAT_BENCH_CONSENTS` to change the million).

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amanat::audit::{AuditEntry, AuditError, AuditEvent, AuditLog, AuditStore};
use amanat::category::Phone;
use amanat::log::Log;
use amanat::store::kek::KeyDir;
use amanat::store::{Operator, SqliteLogStore};
use amanat::{ConsentForm, ConsentLedger, ElectronicMethod, Grant, Policy, Purpose, SubjectId};
use criterion::{BatchSize, Criterion, SamplingMode, criterion_group};

fn policy() -> Policy {
    Policy::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/policies/imanum.toml"
    ))
    .unwrap()
}

fn grant(subject: SubjectId) -> Grant<amanat::consent::WithPurpose, amanat::consent::WithCategory> {
    Grant::new(
        subject,
        ConsentForm::Electronic {
            method: ElectronicMethod::OneTimePassword,
        },
    )
    .purpose(Purpose::SERVICE_PROVISION)
    .category::<Phone>()
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// The key directory of the data directory `dir`: the same one at every open, outside it.
fn keys_of(dir: &Path) -> KeyDir {
    let name = dir.file_name().unwrap().to_string_lossy();
    KeyDir::new(Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-keys"))).unwrap()
}

fn fresh_subject() -> SubjectId {
    SubjectId::new(format!("cust-{}", NEXT.fetch_add(1, Ordering::Relaxed))).unwrap()
}

fn writes(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let operator = Operator::open(
        dir.path().join("operator"),
        policy(),
        KeyDir::new(dir.path().join("keys")).unwrap(),
    )
    .unwrap();
    let memory = ConsentLedger::with_policy(policy());
    let bare = rusqlite::Connection::open(dir.path().join("bare.db")).unwrap();
    bare.pragma_update(None, "journal_mode", "WAL").unwrap();
    bare.pragma_update(None, "synchronous", "FULL").unwrap();
    bare.execute_batch("CREATE TABLE plain (subject TEXT NOT NULL, body TEXT NOT NULL);")
        .unwrap();

    let mut group = c.benchmark_group("operator");
    group.bench_function("bare_sqlite_insert_synced", |b| {
        b.iter(|| {
            bare.execute(
                "INSERT INTO plain (subject, body) VALUES (?1, ?2)",
                rusqlite::params![fresh_subject().as_str(), "{\"change\":\"consent_given\"}"],
            )
            .unwrap()
        });
    });
    group.bench_function("grant_in_memory", |b| {
        b.iter(|| memory.grant(black_box(grant(fresh_subject()))).unwrap());
    });
    group.bench_function("grant_kept", |b| {
        b.iter(|| {
            operator
                .ledger()
                .grant(black_box(grant(fresh_subject())))
                .unwrap()
        });
    });
    // Sixteen threads granting at once: the log writes what they queued meanwhile in one
    // batch, so they share its syncs. The time is per grant, sustained: each sample is
    // long enough (thousands of grants per thread) that the threads' start and their
    // ragged finish, when fewer and fewer are left to share a sync, weigh nothing. With
    // criterion's default 100 samples in 5 s, each thread made about sixty grants a sample
    // and a grant measured 52 µs where the steady rate is 37 µs.
    let operator = std::sync::Arc::new(operator);
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("grant_kept_16_threads", |b| {
        b.iter_custom(|iters| {
            let each = iters.div_ceil(16);
            let start = std::time::Instant::now();
            let threads: Vec<_> = (0..16)
                .map(|_| {
                    let operator = std::sync::Arc::clone(&operator);
                    std::thread::spawn(move || {
                        for _ in 0..each {
                            operator.ledger().grant(grant(fresh_subject())).unwrap();
                        }
                    })
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
            // Per grant: the threads made `each * 16` of them, a few more than `iters`.
            start.elapsed() * u32::try_from(iters).unwrap() / u32::try_from(each * 16).unwrap()
        });
    });
    group
        .sample_size(100)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("withdraw_kept", |b| {
        b.iter_batched(
            || operator.ledger().grant(grant(fresh_subject())).unwrap(),
            |consent| operator.ledger().withdraw(&consent).unwrap(),
            BatchSize::SmallInput,
        );
    });
    // The same decision on the bare ledger and on the operator, whose ledger reports each
    // authorization to its log (an audit-only entry, synced with the next change): one
    // customer over and over, warm (issue 20, item 6: within twice the bare ledger's). Last
    // in the group: the entries it reports are written behind it.
    let regular = SubjectId::new("cust-regular").unwrap();
    memory.grant(grant(regular.clone())).unwrap();
    operator.ledger().grant(grant(regular.clone())).unwrap();
    group.bench_function("authorize_in_memory_same_subject", |b| {
        b.iter(|| {
            memory
                .authorize::<Phone>(black_box(&regular), &Purpose::SERVICE_PROVISION)
                .is_ok()
        });
    });
    group.bench_function("authorize_kept_same_subject", |b| {
        b.iter(|| {
            operator
                .ledger()
                .authorize::<Phone>(black_box(&regular), &Purpose::SERVICE_PROVISION)
                .is_ok()
        });
    });
    group.finish();
}

/// A log of `count` consents, each as the library wrote it before it sealed entries under
/// their subjects' keys (which it still reads): one real grant's entry — the change, which
/// is its own audit entry — repeated with its own subject and id, and an audit-only entry
/// (an authorization) beside each, chained as the audit log chains them and appended in
/// large batches: as many entries as 0.1's two files held. The bench has no door to the
/// keyring, and a million grants through the operator would take minutes to write.
fn log_of(dir: &Path, count: u64) {
    let given = {
        let operator = Operator::open(dir, policy(), keys_of(dir)).unwrap();
        let subject = SubjectId::new("cust-template").unwrap();
        let consent = operator.ledger().grant(grant(subject)).unwrap();
        // From the trail: in the log, the entry is sealed under the subject's key.
        let given = operator
            .audit_log()
            .entries()
            .unwrap()
            .into_iter()
            .find(|entry| matches!(entry.event, AuditEvent::ConsentGiven { .. }))
            .map(|entry| serde_json::to_string(&entry.event).unwrap())
            .unwrap();
        drop(operator);
        given.replace(&consent.to_string(), "{consent}")
    };
    // The template's log goes: the million are written from the first entry on.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("log.db{suffix}")));
    }
    let _ = std::fs::remove_dir_all(keys_of(dir).path().join("anchors"));
    let store = SqliteLogStore::open(dir.join("log.db")).unwrap();
    let log = Log::builder(store).open(&keys_of(dir)).unwrap();
    let batch = Arc::new(Mutex::new(Vec::with_capacity(100_000)));
    let flush = |batch: &mut Vec<Vec<u8>>| {
        let payloads: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        log.append_all(&payloads).unwrap();
        batch.clear();
    };
    let audit = AuditLog::with_store(Box::new(Payloads(Arc::clone(&batch))), usize::MAX).unwrap();
    let at = chrono::Utc::now();
    for n in 1..count {
        let subject = SubjectId::new(format!("cust-{n}")).unwrap();
        let event: AuditEvent = serde_json::from_str(
            &given
                .replace("cust-template", subject.as_str())
                .replace("{consent}", &uuid_for(n)),
        )
        .unwrap();
        audit.append(at, event).unwrap();
        audit
            .append(
                at,
                AuditEvent::Authorization {
                    actor: None,
                    subject,
                    purpose: Purpose::SERVICE_PROVISION,
                    category: "phone".into(),
                    granted: true,
                    rule: None,
                    consent: Some(uuid_for(n).parse().unwrap()),
                },
            )
            .unwrap();
        let mut batch = batch.lock().unwrap();
        if batch.len() >= 100_000 {
            flush(&mut batch);
        }
    }
    flush(&mut batch.lock().unwrap());
    log.close().unwrap();
}

/// Where the bench's audit log puts its entries: as the operator's log payloads, each
/// tagged as a change or an audit-only entry.
struct Payloads(Arc<Mutex<Vec<Vec<u8>>>>);

impl AuditStore for Payloads {
    fn entries(&mut self) -> Result<Vec<AuditEntry>, AuditError> {
        Ok(Vec::new())
    }

    fn write(&mut self, entry: &AuditEntry) -> Result<(), AuditError> {
        let tag: &[u8] = if entry.event.is_change() { b"c" } else { b"a" };
        let mut payload = tag.to_vec();
        serde_json::to_writer(&mut payload, entry).unwrap();
        self.0.lock().unwrap().push(payload);
        Ok(())
    }

    fn sync(&mut self) -> Result<(), AuditError> {
        Ok(())
    }
}

/// `operator`, once it is seen to hold the million consents.
fn opened(operator: Operator) -> Operator {
    assert_eq!(
        operator
            .ledger()
            .consents_of(&SubjectId::new("cust-1").unwrap())
            .len(),
        1
    );
    operator
}

/// A distinct, well-formed consent id for the `n`th consent.
fn uuid_for(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

fn reopen(c: &mut Criterion) {
    let count: u64 = std::env::var("AMANAT_BENCH_CONSENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    log_of(dir.path(), count);

    let mut group = c.benchmark_group(format!("reopen_{count}_consents"));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(60));
    group.bench_function("read_rows_only", |b| {
        b.iter(|| {
            let db = rusqlite::Connection::open(dir.path().join("log.db")).unwrap();
            let mut query = db
                .prepare("SELECT payload FROM entries ORDER BY seq")
                .unwrap();
            let mut rows = query.query([]).unwrap();
            let mut bytes = 0;
            while let Some(row) = rows.next().unwrap() {
                bytes += row.get_ref(0).unwrap().as_blob().unwrap().len();
            }
            black_box(bytes)
        });
    });
    // Each open in a process of its own, as a restart opens, timed around the open alone:
    // opened again and again in one process, each would start from the heap the last one
    // freed, which is not what a restart sees.
    group.bench_function("operator_open_whole_log", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| open_in_child(dir.path())).sum());
    });
    // The first open keeps a snapshot of the million; the timed ones start from it.
    drop(Operator::open(dir.path(), policy(), keys_of(dir.path())).unwrap());
    group.bench_function("operator_open_from_snapshot", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| open_in_child(dir.path())).sum());
    });
    group.finish();
}

/// Set in a child this bench starts to open the store in the directory it names.
const CHILD: &str = "AMANAT_BENCH_OPEN";

/// How long opening the store in `dir` took in a child process.
fn open_in_child(dir: &Path) -> Duration {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD, dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let nanos = String::from_utf8(output.stdout).unwrap();
    Duration::from_nanos(nanos.trim().parse().unwrap())
}

/// In a child: opens the store in `dir`, checks it holds the million, and prints how many
/// nanoseconds the open took.
fn child(dir: &Path) {
    // No open keeps a snapshot: the whole log is read until the parent keeps one, and
    // then that one.
    let start = std::time::Instant::now();
    let operator = Operator::builder(dir, policy(), keys_of(dir))
        .snapshot_after(usize::MAX)
        .open()
        .unwrap();
    let took = start.elapsed();
    let _operator = opened(operator);
    println!("{}", took.as_nanos());
    // The million are not dropped one by one: the process ends.
    std::process::exit(0);
}

criterion_group!(benches, writes, reopen);

fn main() {
    if let Some(dir) = std::env::var_os(CHILD) {
        child(Path::new(&dir));
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
