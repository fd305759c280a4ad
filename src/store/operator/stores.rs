//! [`Stores`]: where an operator keeps what it keeps, and the files of its directory.

use std::fmt;
#[cfg(feature = "sqlite")]
use std::path::Path;
use std::sync::Arc;

use crate::audit::AuditLog;
#[cfg(feature = "sqlite")]
use crate::key::KeyProvider;
#[cfg(feature = "sqlite")]
use crate::log::{Anchor, FileAnchor, Log, LogStore};
#[cfg(feature = "sqlite")]
use crate::store::event_log::{EventLog, LogAudit, LogJournal};
use crate::store::journal::{Journal, MemoryJournal};
#[cfg(feature = "sqlite")]
use crate::store::keys::SqliteKeyStore;
use crate::store::keys::{KeyStore, MemoryKeyStore};
#[cfg(feature = "sqlite")]
use crate::store::vault::StoreError;
use crate::store::vault::{MemoryVault, Vault};

#[cfg(feature = "sqlite")]
use super::builder::LogSettings;

/// The files of an operator's directory.
#[cfg(feature = "sqlite")]
mod files {
    /// The authenticated log of changes and audit entries (format 2).
    pub(super) const LOG: &str = "log.db";
    /// Where the checkpoints are anchored by default: in the key directory, which a copy
    /// of the data directory does not carry.
    pub(super) const ANCHORS: &str = "anchors";
    /// amanat 0.1's journal and audit file (format 1): refused.
    pub(super) const JOURNAL: &str = "journal.db";
    pub(super) const VAULT: &str = "vault.db";
    pub(super) const KEYS: &str = "keys.db";
    pub(super) const MASTER_KEY: &str = "master.key";
    pub(super) const AUDIT: &str = "audit.jsonl";
    pub(super) const LOCK: &str = "lock";
}

/// The stores an [`Operator`] keeps everything in: the journal of changes, the key store,
/// the vault of sealed records and the audit log. Each is a trait but the log: give your
/// own database's implementations here, or take the embedded ones.
///
/// [`Operator`]: super::Operator
pub struct Stores {
    pub(super) journal: Arc<dyn Journal>,
    pub(super) keys: Arc<dyn KeyStore>,
    pub(super) vault: Arc<dyn Vault>,
    pub(super) audit: Arc<AuditLog>,
    /// Held for as long as the stores are open: one operator per directory.
    pub(super) lock: Option<std::fs::File>,
    /// The embedded key store and its provider, which the operator rotates.
    #[cfg(feature = "sqlite")]
    pub(super) rotation: Option<(Arc<SqliteKeyStore>, Arc<dyn KeyProvider>)>,
    /// The authenticated log the journal and the audit log share, in a directory.
    #[cfg(feature = "sqlite")]
    pub(super) event_log: Option<Arc<EventLog>>,
    /// The restore to record once the operator is open, if its log is a backup that falls
    /// short of the anchor.
    #[cfg(feature = "sqlite")]
    pub(super) restoring: Option<Restoring>,
}

/// A restore of the log from a backup, as the log records it.
#[cfg(feature = "sqlite")]
pub(super) struct Restoring {
    pub(super) entries: u64,
    pub(super) anchored: u64,
    pub(super) reason: String,
}

impl fmt::Debug for Stores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stores")
            .field("audit", &self.audit)
            .finish_non_exhaustive()
    }
}

/// Whether the log at `path` holds an entry, read without writing a byte beside it (a
/// read-only connection would make its `-wal` and `-shm`): entries not yet checkpointed
/// out of a write-ahead log that is there count too. A log created by an open that stopped
/// before anything was written holds none.
#[cfg(feature = "sqlite")]
fn holds_entries(path: &Path) -> bool {
    use rusqlite::{Connection, OpenFlags};
    if !path.exists() {
        return false;
    }
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return true;
    }
    // A URI, for `immutable`: the characters it gives a meaning to, escaped.
    let escaped = path
        .display()
        .to_string()
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23");
    let uri = format!("file:{escaped}?immutable=1");
    Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
    )
    .and_then(|db| db.query_row("SELECT count(*) > 0 FROM entries", [], |r| r.get(0)))
    // One that can't be read is the log's own open to refuse, by name.
    .unwrap_or(false)
}

impl Stores {
    /// The stores given. Keep `keys` apart from `vault`: a copy of the vault is harmless
    /// only while the keys it needs are not in it.
    pub fn new(
        journal: Arc<dyn Journal>,
        keys: Arc<dyn KeyStore>,
        vault: Arc<dyn Vault>,
        audit: Arc<AuditLog>,
    ) -> Self {
        Self {
            journal,
            keys,
            vault,
            audit,
            lock: None,
            #[cfg(feature = "sqlite")]
            rotation: None,
            #[cfg(feature = "sqlite")]
            event_log: None,
            #[cfg(feature = "sqlite")]
            restoring: None,
        }
    }

    /// Stores in memory, gone with the process: for tests, and to try the library out.
    pub fn in_memory() -> Self {
        Self::new(
            Arc::new(MemoryJournal::new()),
            Arc::new(MemoryKeyStore::new()),
            Arc::new(MemoryVault::new()),
            Arc::new(AuditLog::in_memory()),
        )
    }

    /// The embedded stores in directory `dir`, created if missing: `journal.db`,
    /// `vault.db`, `keys.db` under the key-encryption key `keys` gives
    /// ([`SqliteKeyStore::open_with`]), and `audit.jsonl` (every entry synced before the
    /// action it records is acknowledged). A lock on `dir/lock` is held while they are
    /// open: one operator per directory.
    ///
    /// # Errors
    ///
    /// As [`OperatorBuilder::open`].
    ///
    /// [`OperatorBuilder::open`]: super::OperatorBuilder::open
    #[cfg(feature = "sqlite")]
    pub fn in_dir(
        dir: impl AsRef<Path>,
        keys: impl KeyProvider + 'static,
    ) -> Result<Self, StoreError> {
        Self::in_dir_under(dir.as_ref(), Arc::new(keys), LogSettings::default())
    }

    #[cfg(feature = "sqlite")]
    pub(super) fn in_dir_under(
        dir: &Path,
        provider: Arc<dyn KeyProvider>,
        settings: LogSettings,
    ) -> Result<Self, StoreError> {
        use crate::store::log::SqliteLogStore;
        use crate::store::vault::SqliteVault;
        keys_apart(dir, &*provider)?;
        if dir.join(files::JOURNAL).exists() || dir.join(files::AUDIT).exists() {
            return Err(StoreError::OldFormat { version: 1 });
        }
        if dir.join(files::VAULT).exists() && !dir.join(files::LOG).exists() {
            // Created afresh, it would say nothing was ever kept.
            return Err(StoreError::Corrupt(
                "the log is missing beside the vault: restore it before opening".into(),
            ));
        }
        if (!dir.join(files::KEYS).exists() || !dir.join(files::VAULT).exists())
            && holds_entries(&dir.join(files::LOG))
        {
            // Created afresh beside a log that kept records, they would be empty: every
            // record the log tracks unreadable, or taken for destroyed. And an open refused
            // later, for tampering, must not have written them.
            return Err(StoreError::Corrupt(
                "the key store or the vault is missing beside the log: restore it before \
                 opening"
                    .into(),
            ));
        }
        crate::files::create_dir(dir).map_err(|e| StoreError::Io(e.to_string()))?;
        // Again, now that the directory exists and every link in its path resolves: no
        // file is written before both checks pass.
        keys_apart(dir, &*provider)?;
        let io = |e: std::io::Error| StoreError::Io(e.to_string());
        let lock = crate::files::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(files::LOCK))
            .map_err(io)?;
        lock.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => StoreError::InUse,
            std::fs::TryLockError::Error(e) => io(e),
        })?;
        // Settled once the log is read and checked (`OperatorBuilder::open`): an open
        // refused for tampering destroys no key version a backup may need.
        let keys = Arc::new(SqliteKeyStore::open_unsettled(
            dir.join(files::KEYS),
            &*provider,
        )?);
        let anchor: Option<Box<dyn Anchor>> = match settings.anchor {
            Some(anchor) => Some(anchor),
            None => match provider.directory() {
                Some(key_dir) => Some(Box::new(FileAnchor::new(
                    key_dir.join(files::ANCHORS),
                    dir,
                )?)),
                None => None,
            },
        };
        let store: Arc<dyn LogStore> = Arc::new(SqliteLogStore::open(dir.join(files::LOG))?);
        let mut log = Log::builder(store);
        if let Some(anchor) = anchor {
            log = log.anchor(anchor);
        }
        if let Some(every) = settings.checkpoint_every {
            log = log.checkpoint_every(every);
        }
        // The log's own open checks only what follows the last checkpoint. Everything the
        // operator reads below — the audit entries, then the replay — it reads through
        // `Log::read_from` from the first entry, which checks each entry's hash, link and
        // MAC as it goes: a withdrawal deleted before a checkpoint is refused, not replayed
        // as undone. (A snapshot replayed from its checkpoint would read only the entries
        // after it.)
        let (log, behind) = match &settings.restore {
            Some(_) => log.open_restored(&*provider)?,
            None => (log.open(&*provider)?, None),
        };
        let restoring = behind
            .zip(settings.restore)
            .map(|(checkpoint, reason)| Restoring {
                entries: log.head().map_or(0, |h| h.seq.get()),
                anchored: checkpoint.count.get(),
                reason,
            });
        let event_log = EventLog::new(log, settings.audit_sync_within, settings.snapshot_after);
        // Every byte of the audit entries is authenticated by the log, so the audit chain
        // is not verified again: it goes on from the last entry, which the replay notes in
        // its one pass. Audit-only entries queue until the next change or flush: never a
        // sync of their own.
        let audit = Arc::new(AuditLog::with_store_after(
            Box::new(LogAudit(Arc::clone(&event_log))),
            usize::MAX,
        ));
        let stores = Self::new(
            Arc::new(LogJournal {
                log: Arc::clone(&event_log),
                audit: Arc::clone(&audit),
            }),
            Arc::clone(&keys) as Arc<dyn KeyStore>,
            Arc::new(SqliteVault::open(dir.join(files::VAULT))?),
            audit,
        );
        Ok(Self {
            lock: Some(lock),
            rotation: Some((keys, provider)),
            event_log: Some(event_log),
            restoring,
            ..stores
        })
    }
}

/// Refuses key material inside the data directory `dir` — a key file 0.1 left there, or
/// the provider's key directory in it (or holding it) — before anything is written: a copy
/// of the directory would carry the keys that open it.
#[cfg(feature = "sqlite")]
fn keys_apart(dir: &Path, provider: &dyn KeyProvider) -> Result<(), StoreError> {
    let legacy = dir.join(files::MASTER_KEY);
    if legacy.exists() {
        return Err(StoreError::KeysInsideData { path: legacy });
    }
    if let Some(key_dir) = provider.directory() {
        let io = |e: std::io::Error| StoreError::Io(e.to_string());
        let (data, keys) = (
            crate::files::resolve(dir).map_err(io)?,
            crate::files::resolve(key_dir).map_err(io)?,
        );
        if keys.starts_with(&data) || data.starts_with(&keys) {
            return Err(StoreError::KeysInsideData {
                path: key_dir.to_path_buf(),
            });
        }
    }
    Ok(())
}
