//! Files only the owner reads: the store's directories are created 0700 and its files 0600
//! whatever the process's umask, so another account on the host reads none of it; and a
//! key file that group or others could read is refused rather than used.

use std::fs::OpenOptions;
#[cfg(feature = "sqlite")]
use std::io;
#[cfg(feature = "sqlite")]
use std::path::Path;

/// Creates `dir` and any missing parent, each created one 0700 on Unix.
#[cfg(feature = "sqlite")]
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

#[cfg(feature = "sqlite")]
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

#[cfg(all(test, unix, feature = "sqlite"))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
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
