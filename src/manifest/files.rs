//! Which files are manifests: the paths the user names, with directories walked.
//!
//! A file named on the command line is read whatever its name. A directory is walked
//! recursively for `*.yaml` and `*.yml`, in sorted order so that results and messages do not
//! depend on the filesystem. A walk skips hidden entries (`.git/`, `.timctl/`) and the
//! connection settings file `timctl.yaml`/`timctl.yml`, which lives beside the manifests but is
//! not one. Each file is read once even when named twice or reached through a symlink.
//!
//! Only regular files are read, and only up to a size limit ([`read_bounded`]): a FIFO or a
//! device named `*.yaml` would otherwise block the run or feed it without end. The check is
//! made on the path before opening (a device is never opened) and again on the opened handle,
//! so a path swapped for a FIFO in between is refused too; on Unix the open itself does not
//! wait for a writer.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::problem::Problem;

/// The most bytes one manifest file may hold: 64 MiB.
///
/// The benchmark's 100,000 groups (`examples/bench`, about 190 bytes a group) take 18.9 MiB
/// written as a single file (the benchmark itself writes 100 files of 190 KiB), so this leaves
/// more than three times the largest app measured. It bounds what one file can cost: loading
/// the 18.9 MiB file takes about 0.5 GB of memory, so a file at the limit about 1.6 GB.
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// Names a directory walk never treats as manifests.
const SETTINGS_FILES: &[&str] = &["timctl.yaml", "timctl.yml"];

/// The manifest files under `paths`, in order; unreadable paths become problems.
pub(crate) fn discover(paths: &[PathBuf], problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    let mut walk = Walk::default();
    for path in paths {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk.dir(path, problems),
            Ok(meta) if meta.is_file() => walk.file(path),
            Ok(meta) => problems.push(not_regular_problem(path, &meta)),
            Err(e) => problems.push(io_problem(path, &e)),
        }
    }
    walk.files
}

#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    /// Canonical paths of files and directories already taken.
    seen: BTreeSet<PathBuf>,
}

impl Walk {
    fn first_visit(&mut self, path: &Path) -> bool {
        let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        self.seen.insert(canonical)
    }

    fn file(&mut self, path: &Path) {
        if self.first_visit(path) {
            self.files.push(path.to_owned());
        }
    }

    fn dir(&mut self, dir: &Path, problems: &mut Vec<Problem>) {
        if !self.first_visit(dir) {
            return;
        }
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return problems.push(io_problem(dir, &e)),
        };
        let mut paths = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => paths.push(entry.path()),
                Err(e) => problems.push(io_problem(dir, &e)),
            }
        }
        paths.sort();
        for path in paths {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') || SETTINGS_FILES.contains(&name) {
                continue;
            }
            match fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => self.dir(&path, problems),
                Ok(_) if !is_manifest_name(&path) => {}
                Ok(meta) if meta.is_file() => self.file(&path),
                Ok(meta) => problems.push(not_regular_problem(&path, &meta)),
                Err(e) => problems.push(io_problem(&path, &e)),
            }
        }
    }
}

fn is_manifest_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Why the manifest file at `path` was not read, as a problem.
pub(crate) fn read_problem(path: &Path, error: ReadError) -> Problem {
    match error {
        ReadError::Io(e) => io_problem(path, &e),
        ReadError::TooLarge { .. } => problem(
            path,
            format!("{error}, the most a manifest file may hold; split it into several files"),
        ),
        ReadError::NotRegular { .. } => problem(path, error.to_string()),
    }
}

/// Why a file was not read whole.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("cannot read")]
    Io(#[source] io::Error),
    /// A directory, FIFO, socket or device: `kind` says which.
    #[error("not a regular file ({kind})")]
    NotRegular { kind: &'static str },
    #[error("larger than {}", Bytes(*limit))]
    TooLarge { limit: u64 },
}

/// The whole of the regular file at `path`, if it holds at most `limit` bytes.
///
/// Guarantees: no FIFO, socket or device is read, and none is even opened unless it replaced
/// a regular file between the check of the path and the open; the open never waits (for a
/// FIFO's writer); at most `limit + 1` bytes are read whatever the file's size says, so a file
/// that grows while it is read is refused rather than read without end.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    check_regular(&fs::metadata(path).map_err(ReadError::Io)?, limit)?;
    let (file, len) = open_regular(path, limit)?;
    read_limited(file, len, limit)
}

/// Opens `path` without waiting (on Unix) and checks the opened handle: a regular file of at most
/// `limit` bytes. Returns the file and its size.
pub(super) fn open_regular(path: &Path, limit: u64) -> Result<(File, u64), ReadError> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO for reading otherwise waits for a writer; a regular file's reads
        // ignore the flag.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    check_regular(&meta, limit)?;
    Ok((file, meta.len()))
}

/// Reads at most `limit` bytes from `reader`, refusing more; `len` is the expected size.
pub(super) fn read_limited(reader: impl Read, len: u64, limit: u64) -> Result<Vec<u8>, ReadError> {
    let capacity = usize::try_from(len.min(limit)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity.saturating_add(1));
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

fn check_regular(meta: &Metadata, limit: u64) -> Result<(), ReadError> {
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            kind: file_kind(meta),
        });
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(())
}

/// What a file that is not a regular file is, for messages.
fn file_kind(meta: &Metadata) -> &'static str {
    if meta.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
    }
    "a special file"
}

/// A byte count as people write limits: `64 MiB`, `512 KiB`, `1000 bytes`.
struct Bytes(u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            n if n >= 1 << 20 && n % (1 << 20) == 0 => write!(f, "{} MiB", n >> 20),
            n if n >= 1 << 10 && n % (1 << 10) == 0 => write!(f, "{} KiB", n >> 10),
            1 => f.write_str("1 byte"),
            n => write!(f, "{n} bytes"),
        }
    }
}

fn not_regular_problem(path: &Path, meta: &Metadata) -> Problem {
    let error = ReadError::NotRegular {
        kind: file_kind(meta),
    };
    problem(path, error.to_string())
}

fn problem(path: &Path, message: String) -> Problem {
    Problem {
        file: path.to_owned(),
        line: None,
        group: None,
        field: None,
        message,
    }
}

fn io_problem(path: &Path, error: &io::Error) -> Problem {
    let message = match error.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        _ => format!("cannot read: {error}"),
    };
    problem(path, message)
}
