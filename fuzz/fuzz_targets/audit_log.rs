//! Audit rows: one JSON entry (`AuditEntry`), and a whole log file opened with
//! `AuditLog::open`, which must refuse what does not verify with a typed error, cut only a
//! torn last line, and go on appending to what it accepted.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use amanat::audit::{self, AuditEntry, AuditEvent, AuditLog};
use amanat::vocab::SubjectId;
use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;

/// One scratch file for the whole run, in memory where the machine has a tmpfs.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let dir = if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("amanat-fuzz-audit-{}.jsonl", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = serde_json::from_slice::<AuditEntry>(data) {
        let printed = serde_json::to_string(&entry).unwrap();
        let again: AuditEntry = serde_json::from_str(&printed).unwrap();
        assert_eq!(again, entry, "{printed}");
        // A lone entry is intact exactly when it verifies as the first of a chain.
        let chained = audit::verify([&entry]).is_ok();
        assert!(!chained || entry.is_intact());
    }

    let path = scratch();
    std::fs::write(path, data).unwrap();
    let read = audit::read_file(path);
    match AuditLog::open(path, 1) {
        Err(_) => {
            // Refused: a file without a torn last line is left as it was.
            if data.last().is_none_or(|&b| b == b'\n') {
                assert_eq!(std::fs::read(path).unwrap(), data);
            }
        }
        Ok(log) => {
            let entries = log.entries().unwrap();
            let count = log.verify().unwrap();
            assert_eq!(count, entries.len() as u64);
            // What the file held and verified is kept as it was, a torn tail aside.
            if let Ok(read) = read {
                assert_eq!(read, entries);
            }
            let at = entries
                .last()
                .map_or_else(|| Utc.timestamp_opt(0, 0).unwrap(), |e| e.at);
            let subject = SubjectId::new("fuzz").unwrap();
            let seq = log
                .append(
                    at,
                    AuditEvent::TriggerIgnored {
                        subject,
                        trigger: "fuzz".into(),
                        why: "a fuzz run".into(),
                    },
                )
                .unwrap();
            assert_eq!(seq, count + 1);
            assert_eq!(log.verify().unwrap(), count + 1);
        }
    }
});
