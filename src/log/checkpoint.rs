//! Checkpoints: a signed statement of a synced prefix of the log (how many entries, and the
//! hash of the last), and the [`Anchor`]s that keep them where the log's own store can't
//! rewrite them.

use std::fmt;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use parking_lot::Mutex;

use super::entry::Hash;
use crate::error::{LogError, Problem};
use crate::vocab::ids::Seq;

/// Separates what a checkpoint signature signs from anything else signed with the key.
const CHECKPOINT_DOMAIN: &[u8] = b"amanat/log/checkpoint/v1";

/// A prefix of the log: its first `count` entries, the last of which hashes to `head`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// How many entries the prefix holds: the position of its last entry.
    pub count: Seq,
    /// The hash of the entry at `count`.
    pub head: Hash,
    /// When it was signed, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

impl Checkpoint {
    /// The bytes signed: a domain tag and the three fields, each of fixed length.
    fn message(&self) -> Vec<u8> {
        let mut message = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 48);
        message.extend_from_slice(CHECKPOINT_DOMAIN);
        message.extend_from_slice(&self.count.get().to_be_bytes());
        message.extend_from_slice(&self.head);
        message.extend_from_slice(&self.at_ms.to_be_bytes());
        message
    }
}

/// A [`Checkpoint`] with its Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// What is signed.
    pub checkpoint: Checkpoint,
    /// The Ed25519 signature over it.
    pub signature: [u8; 64],
}

impl fmt::Debug for SignedCheckpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedCheckpoint")
            .field("count", &self.checkpoint.count)
            .field("head", &hex::encode(self.checkpoint.head))
            .field("at_ms", &self.checkpoint.at_ms)
            .finish_non_exhaustive()
    }
}

impl SignedCheckpoint {
    /// Whether its signature verifies under `key` (strictly: no malleable encodings).
    pub fn verifies(&self, key: &CheckpointKey) -> bool {
        let signature = ed25519_dalek::Signature::from_bytes(&self.signature);
        key.0
            .verify_strict(&self.checkpoint.message(), &signature)
            .is_ok()
    }

    /// `Ok` if it verifies under `key`, else [`Problem::BadSignature`] at its count.
    pub(crate) fn check(&self, key: &CheckpointKey) -> Result<(), LogError> {
        if self.verifies(key) {
            Ok(())
        } else {
            Err(LogError::Tampered {
                position: self.checkpoint.count,
                problem: Problem::BadSignature,
            })
        }
    }

    /// One line of text, for a file or a witness that takes text:
    /// `v1 <count> <at_ms> <head in hex> <signature in hex>`.
    pub fn to_text(&self) -> String {
        format!(
            "v1 {} {} {} {}",
            self.checkpoint.count,
            self.checkpoint.at_ms,
            hex::encode(self.checkpoint.head),
            hex::encode(self.signature)
        )
    }

    /// The checkpoint [`to_text`](Self::to_text) wrote; `None` if `text` is not one. Its
    /// signature is not checked here.
    pub fn from_text(text: &str) -> Option<Self> {
        let mut parts = text.trim_end().split(' ');
        if parts.next()? != "v1" {
            return None;
        }
        let count = parts.next()?.parse().ok()?;
        let at_ms = parts.next()?.parse().ok()?;
        let head = hex::decode(parts.next()?).ok()?.try_into().ok()?;
        let signature = hex::decode(parts.next()?).ok()?.try_into().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            checkpoint: Checkpoint {
                count: Seq::new(count),
                head,
                at_ms,
            },
            signature,
        })
    }
}

/// The public key checkpoints are verified with: what an auditor needs, and all they need,
/// to check a log against its anchor. Exported with [`to_bytes`](Self::to_bytes) or as hex
/// (`Display`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CheckpointKey(VerifyingKey);

impl CheckpointKey {
    /// The key's 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The key from its 32 bytes.
    ///
    /// # Errors
    ///
    /// [`LogError::Key`] if they are not an Ed25519 public key.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, LogError> {
        VerifyingKey::from_bytes(bytes).map(Self).map_err(|_| {
            LogError::Key(crate::key::KeyError::Corrupt(
                "not an Ed25519 public key".into(),
            ))
        })
    }
}

impl fmt::Debug for CheckpointKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CheckpointKey({self})")
    }
}

impl fmt::Display for CheckpointKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0.to_bytes()))
    }
}

/// The signing half, derived from the `SignCheckpoints` KEK; zeroized when dropped.
pub(crate) struct Signer(SigningKey);

impl Signer {
    pub(crate) fn new(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    pub(crate) fn public(&self) -> CheckpointKey {
        CheckpointKey(self.0.verifying_key())
    }

    pub(crate) fn sign(&self, checkpoint: Checkpoint) -> SignedCheckpoint {
        SignedCheckpoint {
            checkpoint,
            signature: self.0.sign(&checkpoint.message()).to_bytes(),
        }
    }
}

/// Where checkpoints go to be kept out of the log's reach: a witness outside the host in a
/// real deployment (a transparency log, another service, a write-once bucket), or
/// [`FileAnchor`], a file in another directory.
///
/// The log publishes checkpoints in increasing count; `latest` answers the one of the
/// greatest count it holds.
pub trait Anchor: Send + Sync {
    /// Keeps `checkpoint`, durably, before returning.
    ///
    /// # Errors
    ///
    /// [`LogError::Anchor`] (or another) if it could not be kept; the log tries again at
    /// its next checkpoint.
    fn publish(&self, checkpoint: &SignedCheckpoint) -> Result<(), LogError>;

    /// The latest checkpoint published, if any.
    ///
    /// # Errors
    ///
    /// [`LogError::Anchor`] (or another) if it could not be read.
    fn latest(&self) -> Result<Option<SignedCheckpoint>, LogError>;

    /// Every checkpoint published, oldest first: what a restore reads to record how far
    /// the log once reached, even past an earlier restore. By default, the latest alone:
    /// a witness that keeps its history should give all of it.
    ///
    /// # Errors
    ///
    /// [`LogError::Anchor`] (or another) if it could not be read.
    fn history(&self) -> Result<Vec<SignedCheckpoint>, LogError> {
        Ok(self.latest()?.into_iter().collect())
    }
}

impl<A: Anchor + ?Sized> Anchor for std::sync::Arc<A> {
    fn publish(&self, checkpoint: &SignedCheckpoint) -> Result<(), LogError> {
        (**self).publish(checkpoint)
    }
    fn latest(&self) -> Result<Option<SignedCheckpoint>, LogError> {
        (**self).latest()
    }
    fn history(&self) -> Result<Vec<SignedCheckpoint>, LogError> {
        (**self).history()
    }
}
impl<T: Anchor + ?Sized> Anchor for Box<T> {
    fn publish(&self, checkpoint: &SignedCheckpoint) -> Result<(), LogError> {
        (**self).publish(checkpoint)
    }
    fn latest(&self) -> Result<Option<SignedCheckpoint>, LogError> {
        (**self).latest()
    }
    fn history(&self) -> Result<Vec<SignedCheckpoint>, LogError> {
        (**self).history()
    }
}

/// An anchor in memory, for tests and examples: it lives no longer than the process.
#[derive(Debug, Default)]
pub struct MemoryAnchor(Mutex<Vec<SignedCheckpoint>>);

impl MemoryAnchor {
    /// An empty anchor.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every checkpoint published, oldest first.
    pub fn all(&self) -> Vec<SignedCheckpoint> {
        self.0.lock().clone()
    }
}

impl Anchor for MemoryAnchor {
    fn publish(&self, checkpoint: &SignedCheckpoint) -> Result<(), LogError> {
        self.0.lock().push(*checkpoint);
        Ok(())
    }
    fn latest(&self) -> Result<Option<SignedCheckpoint>, LogError> {
        Ok(self.0.lock().last().copied())
    }
    fn history(&self) -> Result<Vec<SignedCheckpoint>, LogError> {
        Ok(self.all())
    }
}

/// Checkpoints appended to the file `checkpoints` (0600) in a directory of its own (0700),
/// one line each ([`SignedCheckpoint::to_text`]), synced before `publish` returns.
///
/// The directory must not be inside the data directory, nor hold it: whoever can rewrite
/// the data could then rewrite its witness in the same stroke. Best on another volume or
/// host, or backed by a write-once store; a file on the same machine only raises the bar to
/// someone who must find and edit two places, and only detects what happened before they
/// did.
#[derive(Debug)]
pub struct FileAnchor {
    file: PathBuf,
    // One publish at a time: two interleaved appends would tear each other's lines.
    write: Mutex<()>,
}

impl FileAnchor {
    /// The anchor in `dir`, created (0700) if missing, for a log whose data lives in
    /// `data_dir`.
    ///
    /// # Errors
    ///
    /// [`LogError::AnchorInsideData`] if `dir` lies inside `data_dir` or holds it (nothing
    /// is created then); [`LogError::Anchor`] if it can't be created, or is not this
    /// process's alone (a link, another user's, open to others).
    pub fn new(dir: impl AsRef<Path>, data_dir: impl AsRef<Path>) -> Result<Self, LogError> {
        let dir = dir.as_ref();
        let io = |e: std::io::Error| LogError::Anchor(e.to_string());
        let (anchor, data) = (
            crate::files::resolve(dir).map_err(io)?,
            crate::files::resolve(data_dir.as_ref()).map_err(io)?,
        );
        if anchor.starts_with(&data) || data.starts_with(&anchor) {
            return Err(LogError::AnchorInsideData {
                path: dir.to_path_buf(),
            });
        }
        crate::files::create_dir(dir).map_err(io)?;
        // One made before us must be ours alone, or whoever else can write it writes our
        // witness.
        if let Some(reason) = crate::files::not_ours(dir, true).map_err(io)? {
            return Err(LogError::Anchor(format!(
                "anchor directory {} can't be trusted: it {reason}",
                dir.display()
            )));
        }
        Ok(Self {
            file: dir.join("checkpoints"),
            write: Mutex::new(()),
        })
    }

    /// The file the checkpoints are written to.
    pub fn file(&self) -> &Path {
        &self.file
    }
}

impl Anchor for FileAnchor {
    fn publish(&self, checkpoint: &SignedCheckpoint) -> Result<(), LogError> {
        let io = |e: std::io::Error| LogError::Anchor(e.to_string());
        let _one = self.write.lock();
        let created = !self.file.exists();
        let mut file = crate::files::options()
            .append(true)
            .create(true)
            .open(&self.file)
            .map_err(io)?;
        // A line torn by a crash has no newline and is skipped by `latest`; start the next
        // one on a line of its own so it is not glued to the torn one.
        let mut line = String::new();
        if file.metadata().map_err(io)?.len() > 0 && !ends_with_newline(&self.file).map_err(io)? {
            line.push('\n');
        }
        line.push_str(&checkpoint.to_text());
        line.push('\n');
        file.write_all(line.as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)?;
        if created && let Some(dir) = self.file.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(())
    }

    fn history(&self) -> Result<Vec<SignedCheckpoint>, LogError> {
        self.all_lines()
    }

    fn latest(&self) -> Result<Option<SignedCheckpoint>, LogError> {
        let io = |e: std::io::Error| LogError::Anchor(e.to_string());
        let file = match std::fs::File::open(&self.file) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        // Only complete lines: the last may have been torn by a crash while it was written,
        // and a checkpoint not yet fully published is not yet a promise.
        let Some(line) = last_complete_line(file).map_err(io)? else {
            return Ok(None);
        };
        SignedCheckpoint::from_text(&line).map(Some).ok_or_else(|| {
            LogError::Anchor(format!(
                "{} holds a line that is not a checkpoint",
                self.file.display()
            ))
        })
    }
}

impl FileAnchor {
    /// Every complete line of the file, as checkpoints; a line torn by a crash is skipped.
    fn all_lines(&self) -> Result<Vec<SignedCheckpoint>, LogError> {
        let io = |e: std::io::Error| LogError::Anchor(e.to_string());
        let text = match std::fs::read_to_string(&self.file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(e)),
        };
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete
            .lines()
            .filter(|line| !line.is_empty())
            .map(|line| {
                SignedCheckpoint::from_text(line).ok_or_else(|| {
                    LogError::Anchor(format!(
                        "{} holds a line that is not a checkpoint",
                        self.file.display()
                    ))
                })
            })
            .collect()
    }
}

/// The last non-empty line of `file` that ends in a newline, read from the end: the file
/// gains a line per checkpoint — tens of thousands a day at the default interval — and
/// opening must not read them all.
fn last_complete_line(mut file: std::fs::File) -> std::io::Result<Option<String>> {
    use std::io::{Seek as _, SeekFrom};
    let len = file.metadata()?.len();
    let mut window: u64 = 1024;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail)?;
        let text = String::from_utf8_lossy(&tail);
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        let complete = complete.trim_end_matches('\n');
        match complete.rfind('\n') {
            // A newline before it in the window: the line is whole.
            Some(newline) => return Ok(Some(complete[newline + 1..].to_owned())),
            None if start == 0 => {
                return Ok((!complete.is_empty()).then(|| complete.to_owned()));
            }
            None => window = window.saturating_mul(4),
        }
    }
}

fn ends_with_newline(path: &Path) -> std::io::Result<bool> {
    use std::io::{Seek as _, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0_u8];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(count: u64) -> (Signer, SignedCheckpoint) {
        let signer = Signer::new(&[7; 32]);
        let checkpoint = signer.sign(Checkpoint {
            count: Seq::new(count),
            head: [count.to_le_bytes()[0]; 32],
            at_ms: 1_700_000_000_000,
        });
        (signer, checkpoint)
    }

    #[test]
    fn a_checkpoint_verifies_under_its_key_only_and_survives_text() {
        let (signer, checkpoint) = signed(3);
        assert!(checkpoint.verifies(&signer.public()));
        assert!(!checkpoint.verifies(&Signer::new(&[8; 32]).public()));
        let mut forged = checkpoint;
        forged.checkpoint.count = Seq::new(4);
        assert!(!forged.verifies(&signer.public()));
        let back = SignedCheckpoint::from_text(&checkpoint.to_text()).unwrap();
        assert_eq!(back, checkpoint);
        assert!(SignedCheckpoint::from_text("v1 3 nonsense").is_none());
        let key = CheckpointKey::from_bytes(&signer.public().to_bytes()).unwrap();
        assert_eq!(key, signer.public());
    }

    #[test]
    fn a_file_anchor_refuses_the_data_directory_and_skips_a_torn_line() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        std::fs::create_dir(&data).unwrap();
        for inside in [data.join("anchor"), data.clone(), root.path().to_path_buf()] {
            assert!(matches!(
                FileAnchor::new(&inside, &data),
                Err(LogError::AnchorInsideData { .. })
            ));
        }
        assert!(!data.join("anchor").exists());
        let anchor = FileAnchor::new(root.path().join("anchor"), &data).unwrap();
        assert_eq!(anchor.latest().unwrap(), None);
        let (_, first) = signed(1);
        let (_, second) = signed(2);
        anchor.publish(&first).unwrap();
        // A crash while the second was being written leaves half a line.
        let mut file = crate::files::options()
            .append(true)
            .open(anchor.file())
            .unwrap();
        file.write_all(&second.to_text().as_bytes()[..20]).unwrap();
        assert_eq!(anchor.latest().unwrap(), Some(first));
        anchor.publish(&second).unwrap();
        assert_eq!(anchor.latest().unwrap(), Some(second));
        // Read from the end: the latest of many, past the first window.
        for count in 3..=40 {
            anchor.publish(&signed(count).1).unwrap();
        }
        assert_eq!(anchor.latest().unwrap(), Some(signed(40).1));
        // A torn tail longer than the first window read from the end.
        let mut file = crate::files::options()
            .append(true)
            .open(anchor.file())
            .unwrap();
        file.write_all(&[b'x'; 3000]).unwrap();
        assert_eq!(anchor.latest().unwrap(), Some(signed(40).1));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(anchor.file())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
