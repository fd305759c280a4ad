//! The audit log's chain (Tajik law Art. 25.1-25.2): an edited, deleted, inserted or
//! reordered entry of a written log is found, and the first bad one named.

use amanat::audit::{self, AuditError, AuditEvent, AuditLog};
use amanat::{Purpose, SubjectId};
use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;

fn event(n: u64) -> AuditEvent {
    AuditEvent::Authorization {
        subject: SubjectId::new(format!("cust-{n}")).unwrap(),
        purpose: Purpose::CREDIT_SCORING,
        category: "payment_card".into(),
        granted: !n.is_multiple_of(3),
        rule: n.is_multiple_of(3).then(|| "no_consent".to_owned()),
        consent: None,
        actor: None,
    }
}

fn at(n: u64) -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + TimeDelta::days(20_000) + TimeDelta::seconds(i64::try_from(n).unwrap())
}

fn written_log(entries: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path, 4).unwrap();
    for n in 1..=entries {
        log.append(at(n), event(n)).unwrap();
    }
    log.flush().unwrap();
    (dir, path)
}

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &std::path::Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn verify_file(path: &std::path::Path) -> Result<u64, AuditError> {
    audit::verify(&audit::read_file(path)?)
}

#[test]
fn a_written_log_verifies_and_reopens_where_it_stopped() {
    let (_dir, path) = written_log(10);
    assert_eq!(verify_file(&path), Ok(10));
    let log = AuditLog::open(&path, 4).unwrap();
    assert_eq!(log.append(at(11), event(11)).unwrap(), 11);
    assert_eq!(log.verify(), Ok(11));
}

#[test]
fn an_edited_entry_is_named() {
    let (_dir, path) = written_log(10);
    let mut lines = lines(&path);
    lines[4] = lines[4].replace("cust-5", "cust-6");
    write_lines(&path, &lines);
    assert!(matches!(
        verify_file(&path),
        Err(AuditError::Broken { position: 5, .. })
    ));
    // Opening a broken log is refused, so nothing is appended to it.
    assert!(AuditLog::open(&path, 1).is_err());
}

#[test]
fn a_deleted_entry_is_found_where_it_was() {
    let (_dir, path) = written_log(10);
    let mut lines = lines(&path);
    lines.remove(6);
    write_lines(&path, &lines);
    assert!(matches!(
        verify_file(&path),
        Err(AuditError::Broken { position: 7, .. })
    ));
}

#[test]
fn an_inserted_entry_is_found_where_it_was_put() {
    let (_dir, path) = written_log(10);
    let mut lines = lines(&path);
    let copy = lines[2].clone();
    lines.insert(5, copy);
    write_lines(&path, &lines);
    assert!(matches!(
        verify_file(&path),
        Err(AuditError::Broken { position: 6, .. })
    ));
}

#[test]
fn reordered_entries_are_found_at_the_first_moved() {
    let (_dir, path) = written_log(10);
    let mut lines = lines(&path);
    lines.swap(3, 8);
    write_lines(&path, &lines);
    assert!(matches!(
        verify_file(&path),
        Err(AuditError::Broken { position: 4, .. })
    ));
}

#[test]
fn a_line_that_is_not_an_entry_is_named() {
    let (_dir, path) = written_log(3);
    let mut lines = lines(&path);
    lines[1] = "{not json".into();
    write_lines(&path, &lines);
    assert_eq!(
        audit::read_file(&path).unwrap_err(),
        AuditError::Unreadable { line: 2 }
    );
}

#[test]
fn a_last_line_cut_short_is_cut_off_at_open_and_the_chain_goes_on() {
    let (_dir, path) = written_log(3);
    let whole = std::fs::read_to_string(&path).unwrap();
    // A fourth entry whose write a crash interrupted half-way.
    let fourth = {
        let scratch = AuditLog::in_memory();
        for n in 1..=4 {
            scratch.append(at(n), event(n)).unwrap();
        }
        serde_json::to_string(&scratch.entries().unwrap()[3]).unwrap()
    };
    std::fs::write(&path, format!("{whole}{}", &fourth[..fourth.len() / 2])).unwrap();
    let log = AuditLog::open(&path, 1).unwrap();
    assert_eq!(log.verify(), Ok(3));
    log.append(at(4), event(4)).unwrap();
    assert_eq!(log.verify(), Ok(4));
    drop(log);

    // A complete entry whose newline was lost is kept, and gets its newline back.
    let whole = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, whole.trim_end()).unwrap();
    let log = AuditLog::open(&path, 1).unwrap();
    assert_eq!(log.verify(), Ok(4));
    log.append(at(5), event(5)).unwrap();
    assert_eq!(verify_file(&path), Ok(5));
}

#[test]
fn a_broken_line_before_the_last_is_refused_and_the_file_left_as_it_is() {
    let (_dir, path) = written_log(3);
    let mut lines = lines(&path);
    lines[1] = "{not json".into();
    write_lines(&path, &lines);
    let before = std::fs::read(&path).unwrap();
    assert_eq!(
        AuditLog::open(&path, 1).unwrap_err(),
        AuditError::Unreadable { line: 2 }
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::common::cases(128), ..ProptestConfig::default() })]

    #[test]
    fn any_single_edit_is_found_at_its_entry(
        count in 1..40_u64,
        pick in any::<prop::sample::Index>(),
        edit in 0..4_u8,
    ) {
        let log = AuditLog::in_memory();
        for n in 1..=count {
            log.append(at(n), event(n)).unwrap();
        }
        let mut entries = log.entries().unwrap();
        prop_assert_eq!(audit::verify(&entries), Ok(count));
        let i = pick.index(entries.len());
        match edit {
            0 => entries[i].event = event(count + 100),
            1 => entries[i].at += TimeDelta::milliseconds(1),
            2 => entries[i].seq += 1,
            _ => entries[i].prev = entries[(i + 1) % entries.len()].hash,
        }
        let expected = u64::try_from(i).unwrap() + 1;
        let changed = entries[i] != log.entries().unwrap()[i];
        prop_assume!(changed);
        let found = matches!(
            audit::verify(&entries),
            Err(AuditError::Broken { position, .. }) if position == expected
        );
        prop_assert!(found);
    }
}

#[test]
fn a_memory_log_counts_its_entries() {
    let log = AuditLog::in_memory();
    for n in 1..=5 {
        assert_eq!(log.append(at(n), event(n)).unwrap(), n);
    }
    assert_eq!(log.verify(), Ok(5));
}

mod detection {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use amanat::SubjectId;
    use amanat::audit::{Alert, AlertHook, AlertKey, RefusalMonitor};

    use super::at;

    struct Pager(Arc<Mutex<Vec<Alert>>>);

    impl AlertHook for Pager {
        fn alert(&self, alert: &Alert) {
            self.0.lock().unwrap().push(alert.clone());
        }
    }

    fn monitor() -> (RefusalMonitor, Arc<Mutex<Vec<Alert>>>) {
        let paged = Arc::new(Mutex::new(Vec::new()));
        let monitor = RefusalMonitor::new(Duration::from_secs(60), 5, Pager(Arc::clone(&paged)));
        (monitor, paged)
    }

    #[test]
    fn the_alert_fires_once_per_episode_at_the_threshold_not_below_it_art_25_2() {
        let (monitor, paged) = monitor();
        // Each refusal is about a different subject: only the actor's count grows.
        let subject = |n: u64| SubjectId::new(format!("cust-{n}")).unwrap();
        for n in 1..=4 {
            assert!(monitor.refused("crawler", &subject(n), at(n)).is_empty());
        }
        let fired = monitor.refused("crawler", &subject(5), at(5));
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].key, AlertKey::Actor("crawler".into()));
        assert_eq!(fired[0].refusals, 5);
        for n in 6..=9 {
            assert!(monitor.refused("crawler", &subject(n), at(n)).is_empty());
        }
        // The window passes: the next refusal starts a new count, below the threshold.
        let later = 9 + 120;
        assert!(
            monitor
                .refused("crawler", &subject(100), at(later))
                .is_empty()
        );
        for n in 1..=3 {
            assert!(
                monitor
                    .refused("crawler", &subject(100 + n), at(later + n))
                    .is_empty()
            );
        }
        assert_eq!(
            monitor
                .refused("crawler", &subject(200), at(later + 4))
                .len(),
            1
        );
        assert_eq!(paged.lock().unwrap().len(), 2);
    }

    #[test]
    fn refusals_about_one_subject_alert_whoever_asked_art_25_2() {
        let (monitor, paged) = monitor();
        let target = SubjectId::new("cust-vip").unwrap();
        for n in 1..=5 {
            monitor.refused(&format!("service-{n}"), &target, at(n));
        }
        let alerts = paged.lock().unwrap().clone();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].key, AlertKey::Subject(target));
    }
}

/// Another database's table of audit entries, shared so that a reopened log sees it.
#[derive(Clone, Default)]
struct Table {
    rows: std::sync::Arc<std::sync::Mutex<Vec<audit::AuditEntry>>>,
    full: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl audit::AuditStore for Table {
    fn entries(&mut self) -> Result<Vec<audit::AuditEntry>, AuditError> {
        Ok(self.rows.lock().unwrap().clone())
    }

    fn write(&mut self, entry: &audit::AuditEntry) -> Result<(), AuditError> {
        if self.full.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(AuditError::Io("table full".into()));
        }
        self.rows.lock().unwrap().push(entry.clone());
        Ok(())
    }

    fn sync(&mut self) -> Result<(), AuditError> {
        Ok(())
    }
}

#[test]
fn a_log_kept_in_another_store_chains_on_across_reopenings_and_refuses_edits() {
    let table = Table::default();
    let event = |n: u32| AuditEvent::Authorization {
        subject: SubjectId::new(format!("cust-{n}")).unwrap(),
        purpose: Purpose::CREDIT_SCORING,
        category: "payment_card".into(),
        granted: false,
        rule: Some("no_consent".into()),
        consent: None,
        actor: None,
    };
    let log = AuditLog::with_store(Box::new(table.clone()), 1).unwrap();
    for n in 0..3 {
        log.append(chrono::Utc::now(), event(n)).unwrap();
    }
    drop(log);
    let log = AuditLog::with_store(Box::new(table.clone()), 1).unwrap();
    assert_eq!(log.append(chrono::Utc::now(), event(3)).unwrap(), 4);
    assert_eq!(log.verify(), Ok(4));

    // A failed write stops the log: nothing after it is kept.
    table.full.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(
        log.append(chrono::Utc::now(), event(4)),
        Err(AuditError::Io(_))
    ));
    table.full.store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(
        log.append(chrono::Utc::now(), event(5)),
        Err(AuditError::Stopped(_))
    ));
    assert_eq!(log.entries().unwrap().len(), 4);
    drop(log);

    // An entry edited in the table is refused at open.
    if let AuditEvent::Authorization { granted, .. } = &mut table.rows.lock().unwrap()[1].event {
        *granted = true;
    }
    assert!(matches!(
        AuditLog::with_store(Box::new(table.clone()), 1),
        Err(AuditError::Broken { .. })
    ));
}
