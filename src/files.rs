//! Files only the owner reads: the store's directories are created 0700 and its files 0600
//! whatever the process's umask, so another account on the host reads none of it; and a
//! key file that group or others could read is refused rather than used.

use std::fs::OpenOptions;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Creates `dir` and any missing parent, each created one 0700 on Unix.
pub(crate) fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Options that create a file 0600 on Unix (the umask can only take bits away).
pub(crate) fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

#[cfg(feature = "sqlite")]
/// Creates `path` empty and 0600 if it does not exist, so that a database opened on it
/// afterwards (and SQLite's `-wal` and `-shm` files, which take their database's mode)
/// is private from its first byte.
pub(crate) fn precreate(path: &Path) -> io::Result<()> {
    match options().write(true).create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The mode bits of `path` that give group or others access, if any (Unix only; `None`
/// elsewhere and for a file that can't be read).
pub(crate) fn loose_bits(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Writes a new key file whole or not at all: a temporary file of its own (0600, never an
/// existing file or link), synced, linked into place — never over a file that appeared
/// meanwhile — and the directory synced.
pub(crate) fn write_key(path: &Path, key: &[u8]) -> io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".new");
    let temporary = PathBuf::from(temporary);
    // One a crash left behind is ours, and unlinking it (a link among them) touches no other
    // file; the key it held was never in use.
    match std::fs::remove_file(&temporary) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let written = (|| {
        let mut file = options().write(true).create_new(true).open(&temporary)?;
        file.write_all(key)?;
        file.sync_all()?;
        std::fs::hard_link(&temporary, path)?;
        std::fs::remove_file(&temporary)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Why a key directory or key file is not this process's alone, if it isn't: a symbolic
/// link (it could point anywhere, the data directory included), another user's (they could
/// have planted the key), or, for a directory, open to group or others. A key file's own
/// mode bits are [`loose_bits`]' business. Unix only; `None` elsewhere.
pub(crate) fn not_ours(path: &Path, dir: bool) -> io::Result<Option<&'static str>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::symlink_metadata(path)?;
        if meta.file_type().is_symlink() {
            return Ok(Some("is a symbolic link"));
        }
        if meta.is_dir() != dir {
            return Ok(Some(if dir {
                "is not a directory"
            } else {
                "is not a file"
            }));
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Ok(Some("belongs to another user"));
        }
        if dir && meta.mode() & 0o077 != 0 {
            return Ok(Some("is open to group or others (make it 0700)"));
        }
        Ok(None)
    }
    #[cfg(not(unix))]
    {
        let _ = (path, dir);
        Ok(None)
    }
}

/// `path` made absolute with its symbolic links resolved, as far as it exists; the rest
/// applied as written, `..` included: what does not exist yet can't be a link, so taking
/// a `..` there lexically is exact (`/a/not-yet/../keys` is `/a/keys`).
pub(crate) fn resolve(path: &Path) -> io::Result<PathBuf> {
    use std::path::Component;
    let path = std::path::absolute(path)?;
    let mut existing = path.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(mut found) = existing.canonicalize() {
            for part in rest.iter().rev() {
                match part {
                    Component::ParentDir => {
                        found.pop();
                    }
                    Component::CurDir => {}
                    other => found.push(other.as_os_str()),
                }
            }
            return Ok(found);
        }
        let (Some(parent), Some(last)) = (existing.parent(), existing.components().next_back())
        else {
            return Ok(path);
        };
        rest.push(last);
        existing = parent;
    }
}

#[cfg(all(test, unix, feature = "sqlite"))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_path_resolves_through_dot_dot_where_it_does_not_exist_yet() {
        let root = tempfile::tempdir().unwrap();
        let keys = root.path().join("keys");
        std::fs::create_dir(&keys).unwrap();
        let real = keys.canonicalize().unwrap();
        for sneaky in [
            root.path().join("not-yet").join("..").join("keys"),
            root.path()
                .join("not-yet")
                .join(".")
                .join("..")
                .join("keys")
                .join("data"),
            keys.join("data").join("..").join("."),
        ] {
            let resolved = resolve(&sneaky).unwrap();
            assert!(
                resolved.starts_with(&real),
                "{} -> {}",
                sneaky.display(),
                resolved.display()
            );
        }
        assert!(
            !resolve(&root.path().join("elsewhere"))
                .unwrap()
                .starts_with(&real)
        );
    }

    #[test]
    fn created_files_and_directories_are_the_owners_alone() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a").join("b");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("f");
        precreate(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(loose_bits(&file), None);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(loose_bits(&file), Some(0o640));
        // An existing file is left as it is.
        precreate(&file).unwrap();
        assert_eq!(mode(&file), 0o640);
    }
}
