//! [`OperatorBuilder`]: an operator configured, and opened — everything it keeps read
//! back and checked.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::audit::{AlertHook, AuditEvent, Reference};
use crate::category::{Category, CategoryId};
use crate::clock::{Clock, SystemClock};
use crate::consent::ConsentLedger;
use crate::data::RecordId;
use crate::disclosure::Disclosures;
use crate::event::Journaled;
#[cfg(feature = "sqlite")]
use crate::key::KeyProvider;
#[cfg(feature = "sqlite")]
use crate::log::Anchor;
use crate::notices::ChangeNotices;
use crate::policy::{Country, Policy};
use crate::retention::DestructionHook;
use crate::rights::SubjectRequests;
#[cfg(feature = "sqlite")]
use crate::store::keys::RotationStep;
use crate::store::vault::{StoreError, shred};
use crate::{Error, RetentionSchedule};

#[cfg(feature = "sqlite")]
use super::lifecycle::Rotation;
use super::{
    Operator, lifecycle::ScheduleHears, lifecycle::Shredder, lifecycle::hear_withdrawal,
    lifecycle::schedule_destruction, stores::Stores,
};

/// Where an operator keeps what it keeps.
pub(super) enum Place {
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
    alerts: Option<Arc<dyn AlertHook>>,
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
    ///
    /// [`FileAnchor`]: crate::log::FileAnchor
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

    /// Raises `hook` once for each transfer notice that is overdue, as the operator's
    /// [`sweep`](Operator::sweep) finds it
    /// ([`Disclosures::check_overdue`](crate::disclosure::Disclosures::check_overdue)).
    pub fn alerts(mut self, hook: Arc<dyn AlertHook>) -> Self {
        self.alerts = Some(hook);
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
    ///
    /// [`SqliteKeyStore::open_with`]: crate::store::keys::SqliteKeyStore::open_with
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
        let schedule = Arc::new(schedule.build());
        let mut disclosures = Disclosures::new(Arc::clone(&policy)).audit(Arc::clone(&audit));
        if let Some(hook) = self.alerts {
            disclosures = disclosures.alerts(hook);
        }
        let disclosures = Arc::new(disclosures);
        let notices = ChangeNotices::new(Arc::clone(&policy)).audit(Arc::clone(&audit));
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
                (Reference::Notice(n), "change_notice_owed") => notices.replay_erased(n),
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
            | AuditEvent::Blocked { .. }
            | AuditEvent::Unblocked { .. }
            | AuditEvent::Rectified { .. }
            | AuditEvent::Destruction { .. } => schedule.replay(change),
            AuditEvent::NoticeOwed { .. }
            | AuditEvent::NoticeSent { .. }
            | AuditEvent::MadePublic { .. } => disclosures.replay(change),
            AuditEvent::ChangeNoticeOwed { .. } | AuditEvent::ChangeNoticeSent { .. } => {
                notices.replay(change)
            }
            AuditEvent::RequestReceived { .. }
            | AuditEvent::RequestCompleted { .. }
            | AuditEvent::IdentityVerified { .. }
            | AuditEvent::Exported { .. } => requests.replay(change),
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
                log.replay_in_lanes(
                    &ledger_part,
                    &|lane, given| ledger.replay_given(lane, given),
                    &mut rest,
                )?;
            }
            #[cfg(not(feature = "sqlite"))]
            Some(never) => match never {},
            None => journal.replay(&mut |change| {
                crate::store::replay::route(change, &ledger_part, &mut rest)
            })?,
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
        notices.attach(Arc::clone(&journaled));
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
                // Every sweep is followed by a rotation where a destruction or the day calls
                // for it.
                let after = Arc::clone(&rotation);
                schedule.after_sweep(Arc::new(move |now, destroyed| {
                    after.after_sweep(now, destroyed)
                }));
                Some(rotation)
            }
            None => None,
        };

        // Every withdrawal, however it is made — `Operator::withdraw`, or
        // `ledger().withdraw()` — is heard by the schedule in the same change.
        if ledger
            .heard_by(Arc::new(ScheduleHears(Arc::clone(&schedule))))
            .is_err()
        {
            return Err(StoreError::Io(
                "the ledger already had a listener for its withdrawals".into(),
            ));
        }
        // Every record collected from a third party with the operator's tokens owes its
        // notice here as it is collected.
        if !disclosures.hear_collections(&ledger) {
            return Err(StoreError::Io(
                "the ledger already owed its collections' notices elsewhere".into(),
            ));
        }
        let operator = Operator {
            dir,
            policy,
            ledger,
            schedule,
            disclosures,
            notices,
            requests,
            audit,
            journal: journaled,
            keys,
            vault,
            #[cfg(feature = "sqlite")]
            rotation,
            #[cfg(feature = "sqlite")]
            event_log,
            terms_checked: std::sync::atomic::AtomicI64::new(i64::MIN),
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

/// How the operator's log is kept: see the builder's settings.
#[cfg(feature = "sqlite")]
pub(super) struct LogSettings {
    pub(super) anchor: Option<Box<dyn Anchor>>,
    pub(super) checkpoint_every: Option<u64>,
    pub(super) audit_sync_within: Duration,
    /// Why a backup is being restored, when one is.
    pub(super) restore: Option<String>,
    /// How many changes after the last snapshot make the open keep a new one.
    pub(super) snapshot_after: usize,
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

impl Operator {
    pub(super) fn builder_on(place: Place, policy: Policy) -> OperatorBuilder {
        OperatorBuilder {
            place,
            policy,
            clock: Arc::new(SystemClock),
            location: None,
            token_ttl: None,
            hooks: Vec::new(),
            alerts: None,
            #[cfg(feature = "sqlite")]
            rotate_every: DAILY,
            #[cfg(feature = "sqlite")]
            log: LogSettings::default(),
        }
    }
}
