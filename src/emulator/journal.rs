//! Durability for `--state`: an append-only journal of [`Record`]s, one JSON line each.
//!
//! Flow: at start-up [`open`] reads the whole file, replays it into a [`Store`], then compacts
//! it (the state as `put` lines into `FILE.tmp`, fsync, the old file kept as `FILE.bak`, rename
//! over `FILE`, fsync the directory) and opens it for appending. A write command applies its record to the store and, still under
//! the store lock so that file order is apply order, hands the line to [`Journal::submit`]; the
//! response waits for the returned [`Ticket`]. A writer thread takes every line queued so far,
//! writes them in one go and fsyncs once for the batch (group commit).
//!
//! Guarantees:
//! - One process per state file: [`open`] first takes an exclusive OS lock on `FILE.lock` and
//!   holds it until the journal is dropped. A second process is refused (or, with a wait, waits
//!   that long first), so nobody compacts a file another process still appends to.
//! - A write is acknowledged only after its line, newline included, has been fsynced.
//! - The file starts with a header line naming the format and version; a file without it is not
//!   ours and start-up refuses it.
//! - A last line without its newline was cut by a crash mid-append. Its fsync never finished, so
//!   it was never acknowledged: replay drops it when it is not a whole record (and says so on
//!   stderr), and keeps it when it is one (only the newline was lost; keeping it loses nothing).
//! - Recovery never destroys its input: compaction keeps the previous file as `FILE.bak` and
//!   `FILE` exists at every step (see [`compact`]). A read-only file or directory is refused,
//!   not replaced. Any other line that does
//!   not parse or does not apply is corruption: start-up stops with the path and line number and
//!   the file is left exactly as it was.
//! - Two stores: commands validate and apply against the *working* store (which runs ahead by
//!   the writes in flight); reads are answered from the *served* store, which the writer changes
//!   only after the fsync. So no read ever shows a change that is not on disk.
//! - After a failed write or fsync the change is not served, its caller gets 10002, the file is
//!   cut back to its last durable length (best effort), and every later write is refused (the
//!   emulator answers 10002) while reads go on: what is on disk after a failed fsync is unknown,
//!   so only a restart, which re-reads the file, can go on safely. 10002 means "outcome
//!   unknown", as in the service: if the bytes did reach the disk, a restart shows the change.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::store::{Record, Store};

/// The first line of every state file.
const HEADER: &str = r#"{"timctl_emulator_state":1}"#;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot read the emulator state {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} is not a timctl emulator state file (its first line is not {HEADER}); refusing to use or overwrite it"
    )]
    NotAStateFile { path: PathBuf },
    #[error(
        "emulator state {path} is corrupt at line {line}: {reason}; the file was left untouched"
    )]
    Corrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error(
        "the emulator state {path} is in use by another timctl process (it holds the lock on {lock}){}; only one process may use a state file at a time",
        waited_for(*.waited)
    )]
    Locked {
        path: PathBuf,
        lock: PathBuf,
        waited: Duration,
    },
    #[error("cannot take the lock {lock} of the emulator state")]
    Lock {
        lock: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} is read-only; refusing to use the emulator state there (the emulator appends to and compacts it: make it writable or choose another --state file)"
    )]
    ReadOnly { path: PathBuf },
    #[error(
        "cannot write the emulator state {path} (the file is left as it was: nothing acknowledged is lost; free the space or fix the cause, then start again)"
    )]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn waited_for(waited: Duration) -> String {
    if waited.is_zero() {
        String::new()
    } else {
        format!(" (waited {})", humantime::format_duration(waited))
    }
}

/// The append side of an open journal.
pub(crate) struct Journal {
    queue: Option<mpsc::Sender<Job>>,
    writer: Option<thread::JoinHandle<()>>,
    /// Set by the writer when a write or fsync fails; never cleared.
    failed: Arc<AtomicBool>,
    /// Held for the journal's life: the exclusive lock on `FILE.lock`. Dropped last.
    _lock: File,
}

struct Job {
    /// The line and its record; `None` for a barrier (see [`Journal::barrier`]).
    change: Option<(Vec<u8>, Record)>,
    done: oneshot::Sender<Result<(), String>>,
}

/// Resolves when the submitted line is durable; `Err` carries a description of the failure.
pub(crate) type Ticket = oneshot::Receiver<Result<(), String>>;

/// Takes the lock beside `path` (waiting up to `lock_wait` for another process to let it go),
/// then reads, replays and compacts the journal at `path` (created when missing) and opens it
/// for appending. Blocking: call it off the async executor.
pub(crate) fn open(
    path: &Path,
    lock_wait: Duration,
    fail_after: Option<usize>,
) -> Result<(Store, Arc<Mutex<Store>>, Journal), JournalError> {
    refuse_read_only(path)?;
    let lock = take_lock(path, lock_wait)?;
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(JournalError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let store = replay(path, &bytes)?;
    compact(path, &store).map_err(|source| JournalError::Write {
        path: path.to_owned(),
        source,
    })?;
    let file = OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|source| JournalError::Write {
            path: path.to_owned(),
            source,
        })?;
    let (queue, jobs) = mpsc::channel();
    let served = Arc::new(Mutex::new(store.clone()));
    let failed = Arc::new(AtomicBool::new(false));
    let writer_side = Writer {
        file,
        served: Arc::clone(&served),
        failed: Arc::clone(&failed),
        fail_after,
        written: 0,
    };
    let writer = thread::Builder::new()
        .name("emulator-journal".to_owned())
        .spawn(move || writer_side.run(jobs))
        .map_err(|source| JournalError::Write {
            path: path.to_owned(),
            source,
        })?;
    let journal = Journal {
        queue: Some(queue),
        writer: Some(writer),
        failed,
        _lock: lock,
    };
    Ok((store, served, journal))
}

/// A read-only file or directory says "do not change this"; renaming a new journal over the
/// file would, so it is refused before anything is touched. Checked on the permission bits,
/// not by trying, because root may write anyway.
fn refuse_read_only(path: &Path) -> Result<(), JournalError> {
    for candidate in [path, dir_of(path)] {
        if let Ok(meta) = fs::metadata(candidate)
            && meta.permissions().readonly()
        {
            return Err(JournalError::ReadOnly {
                path: candidate.to_owned(),
            });
        }
    }
    Ok(())
}

/// `FILE.lock`: a file of its own, so that renaming a new journal over `FILE` keeps the lock.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The exclusive OS lock (`flock` on Unix, `LockFileEx` on Windows) on `FILE.lock`, released by
/// the OS when the process ends however it ends. The lock file is never deleted: deleting it
/// would let a third process lock a new file while a second still waits on the old one.
fn take_lock(path: &Path, wait: Duration) -> Result<File, JournalError> {
    let lock = sibling(path, ".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|source| JournalError::Lock {
            lock: lock.clone(),
            source,
        })?;
    let deadline = Instant::now() + wait;
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(source)) => return Err(JournalError::Lock { lock, source }),
        }
        if Instant::now() >= deadline {
            return Err(JournalError::Locked {
                path: path.to_owned(),
                lock,
                waited: wait,
            });
        }
        if !told {
            eprintln!(
                "timctl: waiting for the lock on {} held by another timctl (up to {})",
                path.display(),
                humantime::format_duration(wait)
            );
            told = true;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

fn replay(path: &Path, bytes: &[u8]) -> Result<Store, JournalError> {
    let mut store = Store::default();
    // Everything after the last newline is a torn append (or nothing at all).
    let complete = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(end) => &bytes[..=end],
        None => &[][..],
    };
    if complete.is_empty() && !HEADER.as_bytes().starts_with(bytes) {
        // Not even a cut-off header: some other file, which compaction must not replace.
        return Err(JournalError::NotAStateFile {
            path: path.to_owned(),
        });
    }
    let tail = &bytes[complete.len()..];
    // A complete record whose newline did not make it: kept (its bytes are all there).
    let kept_tail: Option<Record> = if complete.is_empty() {
        None
    } else {
        serde_json::from_slice(tail).ok()
    };
    if !tail.is_empty() && kept_tail.is_none() && tail != HEADER.as_bytes() {
        eprintln!(
            "emulator: {}: dropping an incomplete last line (a write cut off by a crash, never acknowledged)",
            path.display()
        );
    }
    let last_line = complete.split_inclusive(|&b| b == b'\n').count() + 1;
    let mut lines = complete.split_inclusive(|&b| b == b'\n');
    match lines.next() {
        None => return Ok(store),
        Some(first) if first.strip_suffix(b"\n") == Some(HEADER.as_bytes()) => {}
        Some(_) => {
            return Err(JournalError::NotAStateFile {
                path: path.to_owned(),
            });
        }
    }
    for (index, line) in lines.enumerate() {
        let corrupt = |reason: String| JournalError::Corrupt {
            path: path.to_owned(),
            line: index + 2,
            reason,
        };
        let record: Record = serde_json::from_slice(line).map_err(|e| corrupt(e.to_string()))?;
        store.apply(&record).map_err(corrupt)?;
    }
    if let Some(record) = kept_tail {
        store
            .apply(&record)
            .map_err(|reason| JournalError::Corrupt {
                path: path.to_owned(),
                line: last_line,
                reason,
            })?;
    }
    Ok(store)
}

/// Writes the state as a fresh journal beside `path` and renames it into place, keeping the
/// file it replaces as `FILE.bak`.
///
/// Steps: write `FILE.tmp`, fsync it; link `FILE` as `FILE.bak` (a copy, fsynced, where links
/// are not supported), fsync the directory; rename `FILE.tmp` over `FILE`, fsync the directory.
/// `FILE` always exists, old or new, so a crash at any step leaves a file that recovers; the
/// old journal survives as `FILE.bak` until the next start-up's compaction.
fn compact(path: &Path, store: &Store) -> io::Result<()> {
    let tmp = sibling(path, ".tmp");
    let written = (|| {
        let mut out = io::BufWriter::new(File::create(&tmp)?);
        out.write_all(HEADER.as_bytes())?;
        out.write_all(b"\n")?;
        for record in store.snapshot() {
            out.write_all(&line_of(&record))?;
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()
    })();
    if let Err(error) = written {
        // A full disk: the half-written copy goes, `FILE` stays as it was.
        let _ = fs::remove_file(&tmp);
        return Err(error);
    }
    if path.exists() {
        let bak = sibling(path, ".bak");
        match fs::remove_file(&bak) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if fs::hard_link(path, &bak).is_err() {
            fs::copy(path, &bak)?;
            File::open(&bak)?.sync_all()?;
        }
        sync_dir(path)?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(path)
}

fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(dir_of(path))?.sync_all()
}

/// A record as one journal line, newline included.
pub(crate) fn line_of(record: &Record) -> Vec<u8> {
    let mut line = serde_json::to_vec(record).expect("records serialize");
    line.push(b'\n');
    line
}

impl Journal {
    /// Queues a record for the writer. Call it under the store lock, right after applying the
    /// record to the working store, so the file keeps the order of the store. The writer
    /// applies it to the served store once it is durable, before the ticket resolves.
    pub fn submit(&self, record: &Record) -> Ticket {
        self.send(Some((line_of(record), record.clone())))
    }

    /// A ticket that resolves once everything queued before it is durable: for an answer that
    /// wrote nothing but was computed from the working store (a no-op modify).
    pub fn barrier(&self) -> Ticket {
        self.send(None)
    }

    /// A write or fsync has failed: every later write is refused until a restart.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    fn send(&self, change: Option<(Vec<u8>, Record)>) -> Ticket {
        let (done, ticket) = oneshot::channel();
        let job = Job { change, done };
        if let Some(queue) = &self.queue
            && let Err(mpsc::SendError(job)) = queue.send(job)
        {
            let _ = job
                .done
                .send(Err("the journal writer has stopped".to_owned()));
        }
        ticket
    }
}

impl Drop for Journal {
    /// Lets the writer finish what is queued, then joins it.
    fn drop(&mut self) {
        self.queue.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The writer thread's side of the journal.
struct Writer {
    file: File,
    /// What the emulator serves: changed only here, after the fsync.
    served: Arc<Mutex<Store>>,
    failed: Arc<AtomicBool>,
    /// Test knob: fail like a full disk once this many records are written.
    fail_after: Option<usize>,
    written: usize,
}

impl Writer {
    fn run(mut self, jobs: mpsc::Receiver<Job>) {
        while let Ok(first) = jobs.recv() {
            let mut batch = vec![first];
            batch.extend(jobs.try_iter());
            let outcome = if self.failed.load(Ordering::SeqCst) {
                Err("an earlier journal write failed; restart the emulator".to_owned())
            } else {
                self.write(&batch)
            };
            for job in batch {
                let _ = job.done.send(outcome.clone());
            }
        }
    }

    /// Writes and fsyncs the batch's lines (group commit), then serves their records.
    fn write(&mut self, batch: &[Job]) -> Result<(), String> {
        let changes: Vec<&(Vec<u8>, Record)> =
            batch.iter().filter_map(|j| j.change.as_ref()).collect();
        if changes.is_empty() {
            return Ok(());
        }
        let bytes: Vec<u8> = changes
            .iter()
            .flat_map(|(line, _)| line.iter().copied())
            .collect();
        let durable_len = self.file.metadata().map(|m| m.len()).ok();
        let result = match self.fail_after {
            Some(n) if self.written + changes.len() > n => Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device (injected by the journal_fail_after test knob)",
            )),
            _ => self
                .file
                .write_all(&bytes)
                .and_then(|()| self.file.sync_data()),
        };
        if let Err(e) = result {
            // Best effort: cut a partial append, so a restart does not find it either.
            if let Some(len) = durable_len {
                let _ = self.file.set_len(len).and_then(|()| self.file.sync_data());
            }
            let reason = e.to_string();
            eprintln!(
                "emulator: journal write failed ({reason}); the change is not served, and every later write is refused until the emulator is restarted (reads are still served)"
            );
            self.failed.store(true, Ordering::SeqCst);
            return Err(reason);
        }
        self.written += changes.len();
        let mut served = super::lock(&self.served);
        for (_, record) in changes {
            served
                .apply(record)
                .expect("the served store follows the working store");
        }
        Ok(())
    }
}
