//! Files rdsdeck writes (the log, the SQL history, exports) are private and
//! never clobber anything: folders 0700, files 0600, no symlink followed, an
//! export never overwrites a file (a new, unique name instead).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Creates `dir` (and its parents) and makes `dir` itself 0700.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let meta = std::fs::symlink_metadata(dir)?;
    if meta.file_type().is_symlink() {
        return Err(io::Error::new(io::ErrorKind::PermissionDenied, format!("{} is a symbolic link: refusing to write through it", dir.display())));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Opens `path` for appending, 0600, in a private folder; a symlink at `path` is refused.
pub fn append_private(path: &Path) -> io::Result<File> {
    if let Some(d) = path.parent() {
        private_dir(d)?;
    }
    let f = OpenOptions::new().create(true).append(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(path)?;
    // A file made before this rule keeps its content but loses its wider permissions.
    if f.metadata()?.permissions().mode() & 0o077 != 0 {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}

/// Creates or truncates `path`, 0600; a symlink at `path` is refused (its folder is the caller's).
pub fn create_private(path: &Path) -> io::Result<File> {
    let f = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(path)?;
    if f.metadata()?.permissions().mode() & 0o077 != 0 {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}

/// Creates a new file `stem.ext` in the private folder `dir`, or `stem-2.ext`, `stem-3.ext`… when the
/// name is taken (by a file, a symlink, anything): an existing file is never opened.
pub fn create_unique(dir: &Path, stem: &str, ext: &str) -> io::Result<(File, PathBuf)> {
    private_dir(dir)?;
    for n in 1..=1000 {
        let name = if n == 1 { format!("{stem}.{ext}") } else { format!("{stem}-{n}.{ext}") };
        let path = dir.join(name);
        match OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(f) => return Ok((f, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("no free name for {stem}.{ext} in {}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_private() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("state/rdsdeck");
        let log = dir.join("rdsdeck.log");
        append_private(&log).unwrap();
        assert_eq!((mode(&dir), mode(&log)), (0o700, 0o600));
        // An older, world-readable file is tightened.
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        append_private(&log).unwrap();
        assert_eq!((mode(&dir), mode(&log)), (0o700, 0o600));
    }

    #[test]
    fn a_planted_symlink_is_never_followed() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let dir = t.path().join("exports");
        private_dir(&dir).unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("result.csv")).unwrap();
        let (mut f, path) = create_unique(&dir, "result", "csv").unwrap();
        assert_eq!(path, dir.join("result-2.csv"));
        use std::io::Write;
        f.write_all(b"a,b\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        std::os::unix::fs::symlink(&victim, dir.join("history")).unwrap();
        assert!(append_private(&dir.join("history")).is_err(), "appending through a symlink");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }

    #[test]
    fn two_exports_in_the_same_second_get_two_files() {
        let t = tempfile::tempdir().unwrap();
        let (_, a) = create_unique(t.path(), "rdsdeck-result-20261201-120000", "csv").unwrap();
        let (_, b) = create_unique(t.path(), "rdsdeck-result-20261201-120000", "csv").unwrap();
        assert_ne!(a, b);
        assert_eq!(mode(&a), 0o600);
    }
}
