//! The embedded default: one directory holding everything an operator of personal data
//! must keep, rebuilt as it was at every open.

use std::fmt;
#[cfg(feature = "sqlite")]
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use zeroize::{Zeroize, Zeroizing};

#[cfg(feature = "sqlite")]
use super::event_log::{EventLog, LogAudit, LogJournal};
use super::journal::{Journal, MemoryJournal};
use super::keys::{KeyStore, MemoryKeyStore};
#[cfg(feature = "sqlite")]
use super::keys::{RotationStep, SqliteKeyStore};
use super::seal::{SealError, Sealed};
use super::vault::{MemoryVault, StoreError, Vault, VaultEntry, shred};
use crate::audit::{AuditEntry, AuditEvent, AuditLog, Reference};
use crate::category::Named;
use crate::category::{Category, CategoryId};
use crate::clock::{Clock, SystemClock};
use crate::consent::{ConsentId, ConsentLedger, ConsentToken, Withdrawal};
use crate::data::{PersonalData, RecordId};
use crate::disclosure::Disclosures;
use crate::event::Journaled;
#[cfg(feature = "sqlite")]
use crate::key::KeyProvider;
#[cfg(feature = "sqlite")]
use crate::log::{Anchor, FileAnchor, Log, LogStore};
#[cfg(feature = "sqlite")]
use crate::log::{CheckpointKey, Verified};
use crate::policy::{Country, Policy};
use crate::retention::{DestructionHook, DestructionRequest, HookError, SweepReport, Trigger};
use crate::rights::{AccessReport, ReportSources, SubjectRequests};
use crate::vocab::SubjectId;
use crate::{Error, RetentionSchedule};

/// A value that can be sealed in a vault and read back: its bytes, and the value again
/// from them.
pub trait Sealable: Zeroize + Sized {
    /// The value as bytes, zeroized when dropped.
    fn to_sealed_bytes(&self) -> Zeroizing<Vec<u8>>;

    /// The value from what [`to_sealed_bytes`](Self::to_sealed_bytes) gave, or `None` if
    /// they are not such a value.
    fn from_sealed_bytes(bytes: &[u8]) -> Option<Self>;
}

impl Sealable for Vec<u8> {
    fn to_sealed_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.clone())
    }

    fn from_sealed_bytes(bytes: &[u8]) -> Option<Self> {
        Some(bytes.to_vec())
    }
}

impl Sealable for String {
    fn to_sealed_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.as_bytes().to_vec())
    }

    fn from_sealed_bytes(bytes: &[u8]) -> Option<Self> {
        std::str::from_utf8(bytes).ok().map(str::to_owned)
    }
}

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
pub struct Stores {
    journal: Arc<dyn Journal>,
    keys: Arc<dyn KeyStore>,
    vault: Arc<dyn Vault>,
    audit: Arc<AuditLog>,
    /// Held for as long as the stores are open: one operator per directory.
    lock: Option<std::fs::File>,
    /// The embedded key store and its provider, which the operator rotates.
    #[cfg(feature = "sqlite")]
    rotation: Option<(Arc<SqliteKeyStore>, Arc<dyn KeyProvider>)>,
    /// The authenticated log the journal and the audit log share, in a directory.
    #[cfg(feature = "sqlite")]
    event_log: Option<Arc<EventLog>>,
    /// The restore to record once the operator is open, if its log is a backup that falls
    /// short of the anchor.
    #[cfg(feature = "sqlite")]
    restoring: Option<Restoring>,
}

/// A restore of the log from a backup, as the log records it.
#[cfg(feature = "sqlite")]
struct Restoring {
    entries: u64,
    anchored: u64,
    reason: String,
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
    #[cfg(feature = "sqlite")]
    pub fn in_dir(
        dir: impl AsRef<Path>,
        keys: impl KeyProvider + 'static,
    ) -> Result<Self, StoreError> {
        Self::in_dir_under(dir.as_ref(), Arc::new(keys), LogSettings::default())
    }

    #[cfg(feature = "sqlite")]
    fn in_dir_under(
        dir: &Path,
        provider: Arc<dyn KeyProvider>,
        settings: LogSettings,
    ) -> Result<Self, StoreError> {
        use super::log::SqliteLogStore;
        use super::vault::SqliteVault;
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

/// Where an operator keeps what it keeps.
enum Place {
    #[cfg(feature = "sqlite")]
    Dir(PathBuf, Arc<dyn KeyProvider>),
    Stores(Stores),
}

/// Configures an [`Operator`] before it opens.
#[must_use = "call open() to open the operator's store"]
pub struct OperatorBuilder {
    place: Place,
    policy: Policy,
    clock: Arc<dyn Clock>,
    location: Option<Country>,
    token_ttl: Option<Duration>,
    hooks: Vec<(CategoryId, Arc<dyn DestructionHook>)>,
    #[cfg(feature = "sqlite")]
    rotate_every: Duration,
    #[cfg(feature = "sqlite")]
    log: LogSettings,
}

/// How often the operator rotates its key-encryption key by default: daily.
#[cfg(feature = "sqlite")]
const DAILY: Duration = Duration::from_secs(24 * 60 * 60);

impl fmt::Debug for OperatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperatorBuilder")
            .field(
                "dir",
                &match &self.place {
                    #[cfg(feature = "sqlite")]
                    Place::Dir(dir, _) => Some(dir),
                    Place::Stores(_) => None::<&PathBuf>,
                },
            )
            .field("policy", self.policy.version())
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl OperatorBuilder {
    /// The clock everything checks time against. Default: [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Where the stores are: checked against the policy at open (Tajik law Art. 14.2;
    /// ZRU-547 Art. 27-1). Default: the policy's home country.
    pub fn located_in(mut self, country: Country) -> Self {
        self.location = Some(country);
        self
    }

    /// How long the ledger's tokens live. Default: 5 minutes.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = Some(ttl);
        self
    }

    /// How often the operator rotates the key-encryption key that wraps its data keys —
    /// re-wraps every live data key under a new version and has the provider destroy the
    /// old — checked at each [`sweep`](Operator::sweep) on the operator's clock; it also
    /// rotates after every sweep that destroyed something. Default: daily. Only where the
    /// provider can both rotate and destroy ([`Capabilities`](crate::key::Capabilities));
    /// under any other, it never rotates.
    #[cfg(feature = "sqlite")]
    pub fn rotate_keys_every(mut self, every: Duration) -> Self {
        self.rotate_every = every;
        self
    }

    /// Where the log's signed checkpoints are published: a witness the data directory's
    /// administrator can't rewrite — another host, a write-once store, a transparency
    /// service. Default: a [`FileAnchor`] in `anchors/` of the key provider's directory
    /// (none for a provider without one, such as [`EnvKey`](crate::key::EnvKey)), which a
    /// copy of the data directory doesn't carry. Without an anchor, deleting the log's tail
    /// together with its stored checkpoints goes unnoticed.
    #[cfg(feature = "sqlite")]
    pub fn anchor(mut self, anchor: impl Anchor + 'static) -> Self {
        self.log.anchor = Some(Box::new(anchor));
        self
    }

    /// How many entries at most go unanchored: a checkpoint is signed and anchored every
    /// `n` entries, and at least every second while entries are written. Default:
    /// [`DEFAULT_CHECKPOINT_EVERY`](crate::log::DEFAULT_CHECKPOINT_EVERY). The entries
    /// after the last anchored checkpoint are the window in which a cut tail can't be told
    /// from a crash.
    #[cfg(feature = "sqlite")]
    pub fn checkpoint_every(mut self, n: u64) -> Self {
        self.log.checkpoint_every = Some(n.max(1));
        self
    }

    /// Opens a data directory restored from a backup whose log ends before the last
    /// checkpoint the anchor holds — which [`open`](Self::open) otherwise refuses as
    /// truncation — and records the restore: an
    /// [`Event::Restored`](crate::audit::Event::Restored) with `reason`, how many entries
    /// the backup holds and the anchored count it falls short of, then a checkpoint the
    /// anchor takes as its latest. What the backup lacks is lost: withdrawals, destructions
    /// and holds made after it among the rest — apply them again.
    ///
    /// Only a log these keys wrote is restored: every entry is verified from the first, its
    /// MAC among the rest, so a log rewritten without the keys is refused as at any open.
    /// If the log holds the anchored prefix, nothing was lost and nothing is recorded.
    /// Whoever can set this and edit the directory can cut the log's tail, as a restore
    /// does; the restore is then on the record, with the count of what was cut.
    #[cfg(feature = "sqlite")]
    pub fn restore(mut self, reason: impl Into<String>) -> Self {
        self.log.restore = Some(reason.into());
        self
    }

    /// Keeps a snapshot at open once the log holds at least `changes` changes after the
    /// last one (at least 1; [`DEFAULT_SNAPSHOT_AFTER`] by default). A snapshot holds the
    /// changes up to an entry, compact, with a MAC under the log's key, bound to that
    /// entry's hash: the next open applies them without reading the log before it, and
    /// checks only what follows — an edit of the log before the snapshot is then found by
    /// [`Operator::verify_full`], not by the open.
    #[cfg(feature = "sqlite")]
    pub fn snapshot_after(mut self, changes: usize) -> Self {
        self.log.snapshot_after = changes.max(1);
        self
    }

    /// How long an audit-only entry (an authorization, a count of reads) waits at most
    /// for the disk: it goes with the next change, or with a flush at most this long
    /// after it. A crash can lose the audit-only entries of the last such interval; never
    /// a change, and never a change's own audit entry. Default:
    /// [`DEFAULT_AUDIT_SYNC_WITHIN`] (100 ms).
    #[cfg(feature = "sqlite")]
    pub fn audit_sync_within(mut self, within: Duration) -> Self {
        self.log.audit_sync_within = within;
        self
    }

    /// Registers `hook` to delete the copies of category `C` kept outside the operator's
    /// directory; the operator's own sealed copy is shredded by a hook of its own.
    pub fn hook<C: Category>(mut self, hook: impl DestructionHook + 'static) -> Self {
        self.hooks.push((C::ID, Arc::new(hook)));
        self
    }

    /// Opens the stores — the directory, created if missing — and rebuilds everything from
    /// the journal: consents with their history, deadlines, holds and destructions,
    /// notices and requests, with their original ids and times. Sealed copies whose keeping
    /// was never acknowledged are shredded (and, on other stores, destructions the audit
    /// log recorded and the journal lacks are completed); where any was, the
    /// key-encryption key is rotated then, as after a sweep.
    ///
    /// # Errors
    ///
    /// [`StoreError::Location`] if the policy refuses the location (nothing is created);
    /// [`StoreError::InUse`] if another operator has the directory open;
    /// [`StoreError::KeysInsideData`] if a key directory or key file lies in the data
    /// directory (0.1 kept `master.key` there: move it out first);
    /// [`StoreError::NewerSchema`], [`StoreError::Corrupt`], [`StoreError::Keys`] (a wrong
    /// key-encryption key, a key file others can read, or a key the provider destroyed,
    /// among them) or [`StoreError::Audit`] for a file that is not as this library left it
    /// — nothing is written to it then; [`StoreError::Io`] otherwise.
    ///
    /// A rotation of the key-encryption key that a crash interrupted is settled once the
    /// log has been read and checked ([`SqliteKeyStore::open_with`] settles it at once):
    /// an open refused for tampering destroys no version a backup may still need.
    pub fn open(self) -> Result<Operator, StoreError> {
        let today = self.clock.now().date_naive();
        if let Some(country) = self.location {
            self.policy
                .check_store_location(country, today)
                .map_err(|refused| StoreError::Location(Box::new(refused)))?;
        }
        let (dir, stores) = match self.place {
            #[cfg(feature = "sqlite")]
            Place::Dir(dir, provider) => {
                let stores = Stores::in_dir_under(&dir, provider, self.log)?;
                (Some(dir), stores)
            }
            Place::Stores(stores) => (None, stores),
        };
        let Stores {
            journal,
            keys,
            vault,
            audit,
            lock,
            #[cfg(feature = "sqlite")]
            rotation,
            #[cfg(feature = "sqlite")]
            event_log,
            #[cfg(feature = "sqlite")]
            restoring,
        } = stores;
        // Every entry in it is the operator's own from now on, on whatever store.
        audit.own();
        // An operator's own log writes each change as its audit entry: once, for both.
        #[cfg(feature = "sqlite")]
        let carries_audit = event_log.is_some();
        #[cfg(not(feature = "sqlite"))]
        let carries_audit = false;
        let journaled = Arc::new(if carries_audit {
            Journaled::carrying_audit(Arc::clone(&journal))
        } else {
            Journaled::new(Arc::clone(&journal))
        });
        let policy = Arc::new(self.policy);

        let mut ledger = ConsentLedger::builder(policy.version().clone())
            .policy((*policy).clone())
            .clock(Arc::clone(&self.clock))
            .audit(Arc::clone(&audit))
            .journal(Arc::clone(&journaled));
        if let Some(ttl) = self.token_ttl {
            ledger = ledger.token_ttl(ttl);
        }
        #[cfg(feature = "sqlite")]
        if let Some(log) = &event_log {
            ledger = ledger.capacity(log.consents_hint()?);
        }
        let ledger = ledger.build();

        let shredder: Arc<dyn DestructionHook> = Arc::new(Shredder {
            keys: Arc::clone(&keys),
            vault: Arc::clone(&vault),
        });
        let mut schedule =
            RetentionSchedule::builder(Arc::clone(&policy)).clock(Arc::clone(&self.clock));
        // Every category the policy names gets the shredder, or the operator does not open:
        // a record of one without it would be reported destroyed and kept.
        for category in policy.categories() {
            let id = CategoryId::parse(&category.id).map_err(|_| StoreError::NoShredder {
                category: category.id.clone(),
            })?;
            schedule = schedule.hook_for(id, Arc::clone(&shredder));
        }
        for (category, hook) in self.hooks {
            schedule = schedule.hook_for(category, hook);
        }
        // Built without the log and the journal: the replay records nothing twice.
        let schedule = schedule.build();
        let disclosures = Disclosures::new(Arc::clone(&policy)).audit(Arc::clone(&audit));
        let requests = SubjectRequests::new(Arc::clone(&policy)).audit(Arc::clone(&audit));

        let mut keeping = std::collections::HashSet::new();
        let mut in_force = None;
        // Everything but the ledger: it reads nothing the ledger builds, so the ledger's
        // changes can replay beside it.
        let mut rest = |change: crate::event::Change| match change.event() {
            AuditEvent::Keeping { record, .. } => {
                keeping.insert(*record);
                Ok(())
            }
            AuditEvent::PolicyChange { version } => {
                in_force = Some(version.clone());
                Ok(())
            }
            AuditEvent::ConsentWithdrawn {
                subject,
                consent,
                purposes,
                retention: true,
                ..
            } => {
                hear_withdrawal(
                    &mut schedule.locked(),
                    subject,
                    &[(*consent, purposes.clone())],
                    change.at(),
                );
                Ok(())
            }
            // The ledger's, which `ledger.replay` replays; and one that is only on the
            // record, with nothing to rebuild.
            AuditEvent::ConsentGiven { .. }
            | AuditEvent::ConsentRenewed { .. }
            | AuditEvent::ConsentWithdrawn { .. }
            | AuditEvent::ConsentInvalidated { .. }
            | AuditEvent::LegalBasisUsed { .. }
            | AuditEvent::Restored { .. }
            | AuditEvent::SubjectErased { .. }
            | AuditEvent::Erased {
                reference: None, ..
            } => Ok(()),
            // A change erased with its subject: the numbers and ids it took stay taken.
            AuditEvent::Erased {
                was,
                reference: Some(reference),
                ..
            } => match (*reference, was.as_str()) {
                (Reference::Notice(n), "notice_owed") => disclosures.replay_erased(n),
                (Reference::Request(n), "request_received") => requests.replay_erased(n),
                (reference @ (Reference::Record(_) | Reference::Hold(_)), _) => {
                    schedule.replay_erased(reference);
                    Ok(())
                }
                _ => Ok(()),
            },
            AuditEvent::Tracked { .. }
            | AuditEvent::Triggered { .. }
            | AuditEvent::HoldPlaced { .. }
            | AuditEvent::HoldReleased { .. }
            | AuditEvent::Destruction { .. } => schedule.replay(change),
            AuditEvent::NoticeOwed { .. } | AuditEvent::NoticeSent { .. } => {
                disclosures.replay(change)
            }
            AuditEvent::RequestReceived { .. } | AuditEvent::RequestCompleted { .. } => {
                requests.replay(change)
            }
            other => Err(StoreError::Corrupt(format!(
                "the journal holds a {} event, which is not a change",
                other.name()
            ))),
        };
        let ledger_part = |change| ledger.replay(change);
        // The operator's own log replays its snapshots in lanes; another journal, in order.
        #[cfg(feature = "sqlite")]
        let in_lanes = event_log.as_ref();
        #[cfg(not(feature = "sqlite"))]
        let in_lanes = None::<std::convert::Infallible>;
        match in_lanes {
            #[cfg(feature = "sqlite")]
            Some(log) => {
                log.replay_in_lanes(&ledger_part, &|given| ledger.replay_given(given), &mut rest)?;
            }
            #[cfg(not(feature = "sqlite"))]
            Some(never) => match never {},
            None => journal
                .replay(&mut |change| super::replay::route(change, &ledger_part, &mut rest))?,
        }
        // A sealed copy the journal never heard of means the journal is missing, or older
        // than the vault: rebuilt from it, the operator would shred what it can't see.
        let (untracked, unknown): (Vec<RecordId>, Vec<RecordId>) = vault
            .records()?
            .into_iter()
            .filter(|record| !schedule.tracks(*record))
            .partition(|record| keeping.contains(record) || schedule.is_destroyed(*record));
        if !unknown.is_empty() {
            return Err(StoreError::Corrupt(format!(
                "the vault holds {} records the journal never mentioned: is the journal \
                 missing, or older than the vault?",
                unknown.len()
            )));
        }
        // One being kept when the process stopped was never acknowledged; kept, it would
        // never fall due. One whose destruction stopped after its hooks finishes.
        let mut shreds_at_open = 0_usize;
        for record in untracked {
            shred(&*keys, &*vault, record)?;
            shreds_at_open += 1;
        }
        schedule.attach(None, Arc::clone(&journaled));
        // In the operator's own log a destruction and its audit entry are one entry: the
        // audit chain goes on from the last entry the replay noted, and there is nothing to
        // complete. Other stores write the audit log before the journal: a destruction it
        // records that the journal lacks was interrupted after every hook confirmed. It is
        // kept now, and recorded once (the schedule has no audit log yet), not destroyed
        // and recorded again.
        #[cfg(feature = "sqlite")]
        let audited = match &event_log {
            Some(log) => {
                audit.resume_after(log.noted_last()?)?;
                Vec::new()
            }
            None => audit.entries()?,
        };
        #[cfg(not(feature = "sqlite"))]
        let audited = audit.entries()?;
        let destructions: Vec<_> = audited.iter().filter_map(schedule_destruction).collect();
        for (record, at) in destructions {
            if schedule.was_due_and_unheld(record, at) {
                shred(&*keys, &*vault, record)?;
                schedule.complete_destruction(record, at);
                shreds_at_open += 1;
            }
        }
        schedule.attach(Some(Arc::clone(&audit)), Arc::clone(&journaled));
        // The policy given now over the one the journal was last written under: a new
        // version that requires re-consent ends what it ends, as adopting it would have.
        ledger
            .resume_under(in_force.as_ref())
            .map_err(|failed| match failed {
                Error::NotStored(why) => why,
                Error::AuditUnavailable(why) => StoreError::Audit(why),
                other => StoreError::Io(other.to_string()),
            })?;
        disclosures.attach(Arc::clone(&journaled));
        requests.attach(Arc::clone(&journaled));
        // A backup restored: on the record, and anchored, before anything else is written.
        #[cfg(feature = "sqlite")]
        if let (Some(restoring), Some(log)) = (restoring, &event_log) {
            crate::audit::change(
                Some(&audit),
                Some(&journaled),
                self.clock.now(),
                AuditEvent::Restored {
                    entries: restoring.entries,
                    anchored: restoring.anchored,
                    reason: restoring.reason,
                },
                crate::audit::Stands::IfRecorded,
            )
            .map_err(|failed| match failed {
                Error::NotStored(why) => why,
                other => StoreError::Io(other.to_string()),
            })?;
            log.log().checkpoint()?;
        }
        #[cfg(feature = "sqlite")]
        let rotation = match rotation {
            Some((store, provider)) => {
                // The log is read and checked: a rotation a crash interrupted is settled.
                store.settle(&*provider)?;
                let noted = store.rotated_at()?;
                let last = if let Some(at) = noted {
                    at
                } else {
                    let now = self.clock.now().timestamp();
                    store.note_rotated(now)?;
                    now
                };
                let rotation = Arc::new(Rotation {
                    store,
                    provider,
                    every: self.rotate_every,
                    last: std::sync::Mutex::new(last),
                    owed: std::sync::atomic::AtomicBool::new(false),
                });
                // However a sweep is started — `Operator::sweep`, or `schedule().sweep()` —
                // a destruction is followed by a rotation.
                let after = Arc::clone(&rotation);
                schedule.after_sweep(Arc::new(move |now, destroyed| {
                    after.after_sweep(now, destroyed)
                }));
                Some(rotation)
            }
            None => None,
        };

        let operator = Operator {
            dir,
            policy,
            ledger,
            schedule,
            disclosures,
            requests,
            audit,
            journal: journaled,
            keys,
            vault,
            #[cfg(feature = "sqlite")]
            rotation,
            #[cfg(feature = "sqlite")]
            event_log,
            _lock: lock,
        };
        // A destruction completed here is followed by a rotation, as one a sweep does.
        #[cfg(feature = "sqlite")]
        if shreds_at_open > 0 {
            operator
                .rotate_keys_at(operator.ledger.clock().now(), RotationStep::OldDestroyed)
                .map_err(|failed| match failed {
                    Error::NotStored(why) => why,
                    other => StoreError::Io(other.to_string()),
                })?;
        }
        #[cfg(not(feature = "sqlite"))]
        let _ = shreds_at_open;
        // Opened: what the replay read after the last snapshot becomes the next one.
        #[cfg(feature = "sqlite")]
        if let Some(log) = &operator.event_log {
            log.keep_snapshot()?;
        }
        Ok(operator)
    }
}

/// The embedded key store, the provider of its key-encryption key, and when to rotate.
#[cfg(feature = "sqlite")]
struct Rotation {
    store: Arc<SqliteKeyStore>,
    provider: Arc<dyn KeyProvider>,
    every: Duration,
    /// When it was last rotated (Unix seconds on the operator's clock).
    last: std::sync::Mutex<i64>,
    /// A rotation a destruction called for that has not succeeded yet.
    owed: std::sync::atomic::AtomicBool,
}

#[cfg(feature = "sqlite")]
impl Rotation {
    /// Rotates now, through step `last`, and says whether it did: not under a provider that
    /// can't both rotate and destroy.
    fn rotate(&self, now: DateTime<Utc>, last: RotationStep) -> Result<bool, Error> {
        let can = self.provider.capabilities();
        if !(can.rotate && can.destroy) {
            return Ok(false);
        }
        let mut noted = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.store
            .rotate_until(&*self.provider, now.timestamp(), last)
            .map_err(|e| Error::NotStored(StoreError::Keys(e)))?;
        *noted = now.timestamp();
        Ok(true)
    }

    /// After a sweep: rotates if it destroyed something, if an earlier rotation is owed,
    /// or if the last one is older than `every`.
    fn after_sweep(&self, now: DateTime<Utc>, destroyed: bool) -> Result<(), String> {
        use std::sync::atomic::Ordering;
        let last = *self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let every = i64::try_from(self.every.as_secs()).unwrap_or(i64::MAX);
        let owed = destroyed || self.owed.load(Ordering::Acquire);
        if !owed && now.timestamp().saturating_sub(last) < every {
            return Ok(());
        }
        self.owed.store(true, Ordering::Release);
        self.rotate(now, RotationStep::OldDestroyed)
            .map_err(|e| e.to_string())?;
        self.owed.store(false, Ordering::Release);
        Ok(())
    }
}

/// Tells `schedule`, locked, of a withdrawal, without journaling the triggers: the
/// withdrawal's own change carries them.
fn hear_withdrawal(
    schedule: &mut crate::retention::Locked<'_>,
    subject: &SubjectId,
    withdrawn: &[(ConsentId, Vec<crate::vocab::Purpose>)],
    at: DateTime<Utc>,
) {
    for purpose in withdrawn.iter().flat_map(|(_, purposes)| purposes) {
        schedule.trigger_kept(
            subject,
            Trigger::ConsentWithdrawn(purpose.clone()),
            at,
            false,
        );
    }
}

/// The record and time of a destruction the schedule recorded. Only the schedule's name
/// their rule; a copy's own `destroy` destroys that copy, not the record kept here.
fn schedule_destruction(entry: &AuditEntry) -> Option<(RecordId, DateTime<Utc>)> {
    match &entry.event {
        AuditEvent::Destruction {
            record,
            rule: Some(_),
            ..
        } => Some((*record, entry.at)),
        _ => None,
    }
}

/// Shreds the operator's sealed copy of a record: the schedule's own destruction hook.
struct Shredder {
    keys: Arc<dyn KeyStore>,
    vault: Arc<dyn Vault>,
}

impl DestructionHook for Shredder {
    fn name(&self) -> &'static str {
        "amanat vault"
    }

    fn destroy(&self, request: &DestructionRequest) -> Result<(), HookError> {
        // Asked again after a crash, it finds the key already gone: that is success.
        shred(&*self.keys, &*self.vault, request.record)
            .map(drop)
            .map_err(|e| HookError(e.to_string()))
    }
}

/// Everything an operator of personal data keeps, in one directory: the consent ledger,
/// the retention schedule, the registers of transfer notices and subject requests — all
/// written to a journal before each change takes effect and rebuilt from it at open — the
/// audit log, and the personal data itself, sealed with a key per record in a vault whose
/// keys are kept in a file of their own. [`Operator::with_stores`] runs on other stores.
///
/// Copies of records read with [`fetch`](Self::fetch) belong to the operator that read
/// them: after reopening, read them again from the new one.
///
// `Operator::open` is the embedded SQLite store's: without it, the example is not built.
#[cfg_attr(feature = "sqlite", doc = "```")]
#[cfg_attr(not(feature = "sqlite"), doc = "```ignore")]
/// use amanat::category::Phone;
/// use amanat::store::Operator;
/// use amanat::store::kek::KeyDir;
/// use amanat::{ConsentForm, ElectronicMethod, Grant, PersonalData, Policy, Purpose, SubjectId};
///
/// let dir = tempfile::tempdir()?;
/// // The key-encryption keys live apart from the data: a copy of `dir` alone opens nothing
/// // once a record in it is shredded.
/// let keys = tempfile::tempdir()?;
/// let policy = Policy::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies/imanum.toml"))?;
/// let subject = SubjectId::new("cust-1")?;
/// let record = {
///     let operator = Operator::open(dir.path(), policy.clone(), KeyDir::new(keys.path().join("amanat-keys"))?)?;
///     operator.ledger().grant(
///         Grant::new(subject.clone(), ConsentForm::Electronic { method: ElectronicMethod::OneTimePassword })
///             .purpose(Purpose::SERVICE_PROVISION)
///             .category::<Phone>(),
///     )?;
///     let token = operator.ledger().authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)?;
///     let mut phone = PersonalData::collect(&subject, String::from("+998901234567"), &token)?;
///     operator.keep(&mut phone, &token)?;
///     phone.id()
/// };
///
/// // Another process, another day: the consent and the sealed phone number are there.
/// let operator = Operator::open(dir.path(), policy, KeyDir::new(keys.path().join("amanat-keys"))?)?;
/// let token = operator.ledger().authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)?;
/// let phone = operator.fetch::<String, Phone>(record, &token)?;
/// assert_eq!(phone.read(&token)?.as_str(), "+998901234567");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Operator {
    dir: Option<PathBuf>,
    policy: Arc<Policy>,
    ledger: ConsentLedger,
    schedule: RetentionSchedule,
    disclosures: Disclosures,
    requests: SubjectRequests,
    audit: Arc<AuditLog>,
    journal: Arc<Journaled>,
    keys: Arc<dyn KeyStore>,
    vault: Arc<dyn Vault>,
    #[cfg(feature = "sqlite")]
    rotation: Option<Arc<Rotation>>,
    /// The log the journal and the audit log share, closed as the operator drops.
    #[cfg(feature = "sqlite")]
    event_log: Option<Arc<EventLog>>,
    /// The directory's lock, released when the operator drops.
    _lock: Option<std::fs::File>,
}

impl Drop for Operator {
    fn drop(&mut self) {
        // Before the lock is released: the next operator finds every acknowledged entry
        // on disk and the last checkpoint signed.
        #[cfg(feature = "sqlite")]
        if let Some(log) = &self.event_log {
            log.close();
        }
    }
}

impl fmt::Debug for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operator")
            .field("dir", &self.dir)
            .field("policy", self.policy.version())
            .field("ledger", &self.ledger)
            .field("schedule", &self.schedule)
            .field("stopped", &self.journal.stopped())
            .finish_non_exhaustive()
    }
}

impl Operator {
    /// Opens the operator's directory `dir` under `policy`, with the key-encryption keys
    /// of `keys` (a [`KeyDir`](crate::key::KeyDir) outside `dir`, an
    /// [`EnvKey`](crate::key::EnvKey), or your KMS), on the system clock, located in the
    /// policy's home country. See [`OperatorBuilder::open`].
    ///
    /// # Errors
    ///
    /// As [`OperatorBuilder::open`].
    #[cfg(feature = "sqlite")]
    pub fn open(
        dir: impl AsRef<Path>,
        policy: Policy,
        keys: impl KeyProvider + 'static,
    ) -> Result<Self, StoreError> {
        Self::builder(dir, policy, keys).open()
    }

    /// Starts configuring an operator on the embedded stores in `dir`
    /// ([`Stores::in_dir`]) under `policy`, with the key-encryption keys of `keys`.
    #[cfg(feature = "sqlite")]
    pub fn builder(
        dir: impl AsRef<Path>,
        policy: Policy,
        keys: impl KeyProvider + 'static,
    ) -> OperatorBuilder {
        Self::builder_on(
            Place::Dir(dir.as_ref().to_path_buf(), Arc::new(keys)),
            policy,
        )
    }

    /// Starts configuring an operator on `stores` under `policy`: your own database's, or
    /// [`Stores::in_memory`].
    pub fn with_stores(stores: Stores, policy: Policy) -> OperatorBuilder {
        Self::builder_on(Place::Stores(stores), policy)
    }

    fn builder_on(place: Place, policy: Policy) -> OperatorBuilder {
        OperatorBuilder {
            place,
            policy,
            clock: Arc::new(SystemClock),
            location: None,
            token_ttl: None,
            hooks: Vec::new(),
            #[cfg(feature = "sqlite")]
            rotate_every: DAILY,
            #[cfg(feature = "sqlite")]
            log: LogSettings::default(),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The consent ledger: every grant, renewal and withdrawal through it is kept before
    /// it is acknowledged.
    pub fn ledger(&self) -> &ConsentLedger {
        &self.ledger
    }

    /// The retention schedule: records tracked, triggers, holds and destructions are kept.
    /// Sweep through [`sweep`](Self::sweep), which also says when the store has stopped.
    pub fn schedule(&self) -> &RetentionSchedule {
        &self.schedule
    }

    /// The register of transfers and the notices they owe.
    pub fn disclosures(&self) -> &Disclosures {
        &self.disclosures
    }

    /// The register of subjects' requests.
    pub fn requests(&self) -> &SubjectRequests {
        &self.requests
    }

    /// The audit trail: every entry the operator wrote, to read and verify. It takes no
    /// appended entry ([`AuditError::NotAppendable`](crate::audit::AuditError)), and it is
    /// lent, not shared: no ledger, schedule or register of yours can be built on it to
    /// write into it, and none of it outlives the operator.
    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// The public key the log's checkpoints are signed with, for an auditor's
    /// [`verify_against_anchor`](crate::log::verify_against_anchor); `None` for an
    /// operator on stores without the authenticated log.
    #[cfg(feature = "sqlite")]
    pub fn checkpoint_key(&self) -> Option<CheckpointKey> {
        self.event_log
            .as_ref()
            .map(|log| log.log().checkpoint_key())
    }

    /// Verifies the whole log from its first entry — every hash, link and MAC, and every
    /// checkpoint the store holds — where opening checks only what follows the last
    /// checkpoint, and checks that every snapshot holds exactly the changes of the entries
    /// it covers, where opening trusts its MAC; `None` for an operator on stores without
    /// the authenticated log.
    ///
    /// # Errors
    ///
    /// [`StoreError::Log`] with [`LogError::Tampered`](crate::log::LogError::Tampered)
    /// naming the first bad entry; [`StoreError::Io`] if the log can't be read.
    #[cfg(feature = "sqlite")]
    pub fn verify_full(&self) -> Result<Option<Verified>, StoreError> {
        self.event_log
            .as_ref()
            .map(|log| {
                let verified = log.log().verify_full()?;
                log.check_snapshots()?;
                Ok(verified)
            })
            .transpose()
    }

    /// Whether every change so far was kept. A change the registers make without an
    /// error of their own — a trigger, a request received, a notice owed, a destruction —
    /// takes effect in this process even when it can't be kept; the store then stops,
    /// and this says so.
    ///
    /// # Errors
    ///
    /// [`Error::NotStored`] once the store has stopped: reopen it to go on from what was
    /// kept.
    pub fn check_kept(&self) -> Result<(), Error> {
        match self.journal.stopped() {
            Some(why) => Err(Error::NotStored(StoreError::Stopped(why))),
            None => Ok(()),
        }
    }

    /// Keeps `data` sealed in the vault under a key of its own, and tracks it in the
    /// retention schedule, which shreds that key when the record falls due.
    ///
    /// # Errors
    ///
    /// The token's refusals, as [`PersonalData::read`]; [`Error::NoRetentionRule`] if the
    /// policy has no rule for the record; [`Error::AlreadyTracked`]; [`Error::NotStored`]
    /// if it could not be kept.
    pub fn keep<T, C>(
        &self,
        data: &mut PersonalData<T, C>,
        token: &ConsentToken<C>,
    ) -> Result<(), Error>
    where
        T: Sealable + Send + Sync + 'static,
        C: Category,
    {
        // A record of another ledger is refused by `with` below, since the token is ours.
        self.own(token, data.id())?;
        crate::category::claim::<C>()?;
        // The category and the subject are sealed with the value: the vault's row names
        // them in the clear, and a row relabelled by someone with the file must not open
        // to another category's or another subject's token.
        let bytes = data.with(token, |value| {
            framed(&C::ID, data.subject(), &value.to_sealed_bytes())
        })?;
        let entry = VaultEntry::new(
            data.id(),
            data.subject().clone(),
            C::NAME,
            data.purpose().clone(),
            data.collected_at(),
        );
        // Announced first: a sealed copy a crash leaves behind is then known at open for
        // what it is, and shredded rather than taken for a journal gone missing.
        crate::audit::change(
            Some(&self.audit),
            Some(&self.journal),
            self.ledger.clock().now(),
            AuditEvent::Keeping {
                record: data.id(),
                subject: data.subject().clone(),
            },
            crate::audit::Stands::IfRecorded,
        )?;
        let sealed =
            Sealed::seal(&*self.keys, data.id(), data.subject(), &bytes).map_err(sealing)?;
        if let Err(failed) = self.vault.put(&entry, &sealed) {
            // No key without its sealed value.
            let _ = self.keys.shred(data.id());
            return Err(failed.into());
        }
        // Tracking is the step that acknowledges: a sealed copy left untracked by a
        // failure here, or by a crash before it, is shredded (here, or at the next open).
        // The token is checked again under the schedule's lock: a withdrawal made since
        // the first check, which takes that lock to bring the subject's deadlines forward,
        // has then either been heard (and the copy is refused) or waits for this record.
        if let Err(refused) = self.schedule.track_if(data, &|| token.check().map(drop)) {
            let _ = shred(&*self.keys, &*self.vault, data.id());
            return Err(refused);
        }
        Ok(())
    }

    /// Reads a kept record back under `token`, as the [`PersonalData`] it was: same id,
    /// purpose and collection time. The copy refuses reads past the record's deadline and
    /// after its destruction, like the original.
    ///
    /// # Errors
    ///
    /// The token's refusals, checked first; [`Error::RecordDestroyed`] if the schedule
    /// destroyed it; [`Error::UnknownRecord`] if the token's subject has no record of
    /// category `C` with this id; [`Error::NotStored`] if the vault can't be read or the
    /// sealed value does not open.
    pub fn fetch<T, C>(
        &self,
        record: RecordId,
        token: &ConsentToken<C>,
    ) -> Result<PersonalData<T, C>, Error>
    where
        T: Sealable + Send + Sync + 'static,
        C: Category,
    {
        // The token first: a refused token learns nothing of the record, not even that it
        // exists or was destroyed.
        token.check()?;
        self.own(token, record)?;
        // The record was sealed with its category's id: only the type that owns the id in
        // this process may open it.
        crate::category::claim::<C>()?;
        let destroyed = || Error::RecordDestroyed {
            subject: token.subject().clone(),
            category: C::ID,
            record,
        };
        // Whose it is, what and since when, as the journal says: the vault's row is only
        // where the ciphertext is.
        let Some((tracked, cell)) = self.schedule.tracked(record) else {
            return Err(if self.schedule.is_destroyed(record) {
                destroyed()
            } else {
                Error::UnknownRecord { record }
            });
        };
        if tracked.category != C::ID || tracked.subject != *token.subject() {
            // Another subject's record is unknown to this token, as one never kept.
            return Err(Error::UnknownRecord { record });
        }
        // A destruction under way has shredded the key, or the row, already.
        let (_, sealed) = self.vault.get(record)?.ok_or_else(destroyed)?;
        let bytes = sealed.open(&*self.keys).map_err(|failed| match failed {
            SealError::Shredded { .. } => destroyed(),
            other => sealing(other),
        })?;
        let value = unframed(&C::ID, token.subject(), &bytes)
            .ok_or(Error::UnknownRecord { record })
            .map(T::from_sealed_bytes)?
            .ok_or_else(|| {
                Error::NotStored(StoreError::Corrupt(format!(
                    "record {record} does not hold a value of the type asked for"
                )))
            })?;
        let mut data =
            PersonalData::restored(value, record, tracked.purpose, tracked.collected_at, token)?;
        data.attach_retention(cell);
        // Destroying the record zeroizes this copy too, not only refuses it.
        self.schedule
            .watch_copy(record, &data.share_with_schedule());
        Ok(data)
    }

    /// Refuses a token this operator's ledger did not issue (one of a private ledger, or of
    /// the instance before a reopening), and records the attempt.
    fn own<C: Category>(&self, token: &ConsentToken<C>, record: RecordId) -> Result<(), Error> {
        if self.ledger.issued(token) {
            return Ok(());
        }
        let _ = self.audit.record(
            self.ledger.clock().now(),
            AuditEvent::Authorization {
                actor: token.actor().cloned(),
                subject: token.subject().clone(),
                purpose: token.purpose().clone(),
                category: C::NAME.into(),
                granted: false,
                rule: Some("foreign_token".to_owned()),
                consent: None,
            },
        );
        Err(Error::ForeignToken {
            subject: token.subject().clone(),
            category: C::ID,
            record: Some(record),
        })
    }

    /// Withdraws a consent for every purpose it still holds for
    /// ([`ConsentLedger::withdraw`]) and, in the same change, tells the retention schedule
    /// ([`Trigger::ConsentWithdrawn`] for each purpose): records collected on it fall due
    /// where the policy declares the purpose on consent (Art. 11.2). A crash keeps both or
    /// neither.
    ///
    /// # Errors
    ///
    /// As [`ConsentLedger::withdraw`]; [`Error::NotStored`] if it could not be kept (it
    /// took effect in this process, schedule included).
    pub fn withdraw(&self, consent: &ConsentId) -> Result<Withdrawal, Error> {
        // Locked across the withdrawal's write and its hearing: a record kept meanwhile
        // would be tracked after the withdrawal in the log, where the replay does not
        // bring it forward, and before the hearing here, which would.
        let mut schedule = self.schedule.locked();
        let (withdrawal, kept) = self.ledger.withdraw_kept(consent, true)?;
        hear_withdrawal(
            &mut schedule,
            &withdrawal.subject,
            &withdrawal.withdrawn,
            withdrawal.at,
        );
        kept.map(|()| withdrawal)
    }

    /// Erases `subject` from the operator: the keys their entries in the log are sealed
    /// under are shredded, so their id, their consents' terms, a representative's name and
    /// mandate, their requests and notices can't be read from the log any more; the chain,
    /// which covers the ciphertext, verifies as before, and the trail shows each of their
    /// entries as [`Erased`](crate::audit::Event::Erased). The erasure is one entry of the
    /// log, [`SubjectErased`](crate::audit::Event::SubjectErased), written in one
    /// transaction with the shredding; snapshots, which hold what the entries hold, sealed
    /// under a key derived from the log's, are deleted with it (the next open reads the
    /// whole log, and keeps a new one), and the store zeroes what it deleted and truncates
    /// its write-ahead log.
    ///
    /// It does not reach copies of `log.db` made before: their entries and snapshots open
    /// to whoever holds the log's key too.
    ///
    /// Only what is over can be erased: refused while a record of the subject is kept, a
    /// consent of theirs is in force, a hold covers them, a request of theirs is not
    /// answered or a notice to them not sent. Erase a subject the backend no longer
    /// serves: a grant, request or notice for them waits until the erasure is done, and
    /// is kept under a new key.
    ///
    #[cfg_attr(feature = "sqlite", doc = "```")]
    #[cfg_attr(not(feature = "sqlite"), doc = "```ignore")]
    /// use amanat::category::Phone;
    /// use amanat::key::KeyDir;
    /// use amanat::store::Operator;
    /// use amanat::{ConsentForm, ElectronicMethod, Grant, Policy, Purpose, SubjectId};
    ///
    /// let (dir, keys) = (tempfile::tempdir()?, tempfile::tempdir()?);
    /// let policy = Policy::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies/imanum.toml"))?;
    /// let operator = Operator::open(dir.path(), policy, KeyDir::new(keys.path().join("k"))?)?;
    /// let subject = SubjectId::new("cust-1")?;
    /// let otp = ConsentForm::Electronic { method: ElectronicMethod::OneTimePassword };
    /// let consent = operator.ledger().grant(
    ///     Grant::new(subject.clone(), otp).purpose(Purpose::SERVICE_PROVISION).category::<Phone>(),
    /// )?;
    /// // Not while the consent is in force.
    /// assert_eq!(operator.erase_subject(&subject).unwrap_err().rule(), "not_erasable");
    /// operator.withdraw(&consent)?;
    /// operator.erase_subject(&subject)?;
    /// assert!(operator.ledger().history(&subject).is_empty());
    /// assert!(operator.audit_log().verify().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NotErasable`] with what stands in the way, or where the operator keeps its
    /// log in stores of yours, which seal nothing; [`Error::NotStored`] if the erasure
    /// could not be kept (nothing was erased then, or, if the log failed mid-write, the
    /// next open shows whether it was); [`Error::StillInFiles`] if it was, and what it
    /// deleted can't be wiped from the files yet (call it again later: with nothing left
    /// to shred, it records an erasure of no key and wipes).
    pub fn erase_subject(&self, subject: &SubjectId) -> Result<(), Error> {
        #[cfg(feature = "sqlite")]
        if let Some(log) = &self.event_log {
            return self.erase_from(log, subject);
        }
        let _ = subject;
        Err(Error::NotErasable {
            reason: "this operator's log is in stores that seal nothing",
        })
    }

    #[cfg(feature = "sqlite")]
    fn erase_from(&self, log: &EventLog, subject: &SubjectId) -> Result<(), Error> {
        let refused = |reason| Error::NotErasable { reason };
        // Each part held from its check to its forgetting, in the order a withdrawal takes
        // them: no record kept or hold placed, no grant, request or notice of theirs lands
        // between, to be forgotten here and read back at the next open.
        let mut schedule = self.schedule.locked();
        schedule.check_erasable(subject).map_err(refused)?;
        if !self.vault.records_of(subject)?.is_empty() {
            return Err(refused("a sealed record of theirs is in the vault"));
        }
        self.ledger.erase_with(subject, || {
            self.requests.erase_with(subject, || {
                self.disclosures.erase_with(subject, || {
                    let handles = log
                        .prepare_erasure(subject)
                        .map_err(|e| Error::NotStored(e.into()))?;
                    let erasure = AuditEvent::SubjectErased {
                        keys: handles.iter().map(hex::encode).collect(),
                    };
                    let kept = crate::audit::change(
                        Some(&self.audit),
                        Some(&self.journal),
                        self.ledger.clock().now(),
                        erasure,
                        crate::audit::Stands::IfRecorded,
                    );
                    log.erased(&handles, kept.is_ok());
                    kept
                })
            })
        })?;
        schedule.forget(subject);
        drop(schedule);
        // What the erasure deleted is zeroed in the files already; the write-ahead log's
        // older pages go once no reader holds the file.
        log.scrub().map_err(|e| Error::StillInFiles(e.into()))
    }

    /// Applies `trigger` to `subject`'s records ([`RetentionSchedule::trigger`]).
    ///
    /// # Errors
    ///
    /// [`Error::NotStored`] if it could not be kept (it took effect in this process).
    pub fn trigger(
        &self,
        subject: &SubjectId,
        trigger: Trigger,
        at: DateTime<Utc>,
    ) -> Result<Vec<RecordId>, Error> {
        let changed = self.schedule.trigger(subject, trigger, at);
        self.check_kept()?;
        Ok(changed)
    }

    /// Destroys every record due at `now` ([`RetentionSchedule::sweep`]): the sealed copy's
    /// key is shredded first, so no copy of the vault opens it with the live key store; and
    /// the rotation that follows (below) leaves no copy of the key store that opens it
    /// either, where the provider can rotate and destroy.
    ///
    /// # Errors
    ///
    /// [`Error::NotStored`] if a destruction could not be kept: it was done, and the record
    /// is still due at the next open, whose first sweep destroys it again and records it
    /// once. (On other stores, where the audit log is written before the journal, the next
    /// open completes it from the audit log's record of it instead.)
    ///
    /// Then, where the key provider can rotate and destroy, it rotates the key-encryption
    /// key when the sweep destroyed something or the rotation interval has passed since
    /// the last one (on the operator's clock): after that, no copy of the key store taken
    /// before the sweep opens the destroyed records' keys either.
    /// [`Error::NotStored`] with [`StoreError::Keys`] if that rotation failed: the
    /// destructions stand, the store keeps the key it had.
    pub fn sweep(&self, now: DateTime<Utc>) -> Result<SweepReport, Error> {
        // The reads of tokens still out, or never dropped, go on the record too.
        self.ledger.flush_reads();
        // The schedule rotates the keys after it, where a destruction or the day calls for it.
        let report = self.schedule.sweep(now);
        self.check_kept()?;
        if let Some(why) = &report.keys_not_rotated {
            return Err(Error::NotStored(StoreError::Io(format!(
                "the key-encryption key was not rotated after the sweep: {why}"
            ))));
        }
        Ok(report)
    }

    /// Rotates the key-encryption key that wraps the data keys now, and says whether it
    /// did: not under a provider that can't both rotate and destroy, nor on stores other
    /// than the embedded ones. See [`OperatorBuilder::rotate_keys_every`].
    ///
    /// # Errors
    ///
    /// [`Error::NotStored`] with [`StoreError::Keys`] if it failed; the store keeps the key
    /// it had.
    #[cfg(feature = "sqlite")]
    pub fn rotate_keys(&self) -> Result<bool, Error> {
        self.rotate_keys_at(self.ledger.clock().now(), RotationStep::OldDestroyed)
    }

    /// [`rotate_keys`](Self::rotate_keys), stopping after `last`: the state a crash there
    /// leaves, for tests.
    #[doc(hidden)]
    #[cfg(feature = "sqlite")]
    pub fn rotate_keys_until(&self, last: RotationStep) -> Result<bool, Error> {
        self.rotate_keys_at(self.ledger.clock().now(), last)
    }

    #[cfg(feature = "sqlite")]
    fn rotate_keys_at(&self, now: DateTime<Utc>, last: RotationStep) -> Result<bool, Error> {
        match &self.rotation {
            Some(rotation) => rotation.rotate(now, last),
            None => Ok(false),
        }
    }

    /// What `subject` is told on an access request, from everything the operator keeps
    /// ([`access_report`](crate::rights::access_report)).
    ///
    /// # Errors
    ///
    /// As [`access_report`](crate::rights::access_report).
    pub fn access_report(
        &self,
        subject: &SubjectId,
        now: DateTime<Utc>,
    ) -> Result<AccessReport, Error> {
        crate::rights::access_report(
            subject,
            ReportSources::new(&self.policy, &self.ledger)
                .schedule(&self.schedule)
                .audit(&self.audit),
            now,
        )
    }
}

/// `value` prefixed with its category's id and its subject's, each ended by a zero byte, as
/// it is sealed.
fn framed(category: &CategoryId, subject: &SubjectId, value: &[u8]) -> Zeroizing<Vec<u8>> {
    let (id, whose) = (category.as_str().as_bytes(), subject.as_str().as_bytes());
    let mut out = Zeroizing::new(Vec::with_capacity(id.len() + whose.len() + 2 + value.len()));
    out.extend_from_slice(id);
    out.push(0);
    out.extend_from_slice(whose);
    out.push(0);
    out.extend_from_slice(value);
    out
}

/// The value of what [`framed`] sealed, if it is of `category` and `subject`.
fn unframed<'a>(category: &CategoryId, subject: &SubjectId, sealed: &'a [u8]) -> Option<&'a [u8]> {
    sealed
        .strip_prefix(category.as_str().as_bytes())?
        .strip_prefix(&[0])?
        .strip_prefix(subject.as_str().as_bytes())?
        .strip_prefix(&[0])
}

/// A sealing failure as the operator reports it.
fn sealing(failed: SealError) -> Error {
    Error::NotStored(match failed {
        SealError::Keys(keys) => StoreError::Keys(keys),
        other => StoreError::Corrupt(other.to_string()),
    })
}

/// How the operator's log is kept: see the builder's settings.
#[cfg(feature = "sqlite")]
struct LogSettings {
    anchor: Option<Box<dyn Anchor>>,
    checkpoint_every: Option<u64>,
    audit_sync_within: Duration,
    /// Why a backup is being restored, when one is.
    restore: Option<String>,
    /// How many changes after the last snapshot make the open keep a new one.
    snapshot_after: usize,
}

/// How many changes read from the log after its last snapshot make an open keep a new
/// one, by default.
#[cfg(feature = "sqlite")]
pub const DEFAULT_SNAPSHOT_AFTER: usize = 10_000;

/// How long an audit-only entry waits at most for the disk, by default.
#[cfg(feature = "sqlite")]
pub const DEFAULT_AUDIT_SYNC_WITHIN: Duration = Duration::from_millis(100);

#[cfg(feature = "sqlite")]
impl Default for LogSettings {
    fn default() -> Self {
        Self {
            anchor: None,
            checkpoint_every: None,
            audit_sync_within: DEFAULT_AUDIT_SYNC_WITHIN,
            restore: None,
            snapshot_after: DEFAULT_SNAPSHOT_AFTER,
        }
    }
}
