//! Reading a file whole, within bounds: regular files only, never more than the limit.

use std::fs;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use crate::manifest::files::{open_regular, read_limited};
use crate::manifest::{MAX_MANIFEST_BYTES, ReadError, read_bounded};

#[test]
fn a_file_of_exactly_the_limit_is_read_and_one_byte_more_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("g.yaml");
    fs::write(&path, "0123456789").expect("write");
    assert_eq!(read_bounded(&path, 10).expect("fits"), b"0123456789");
    let error = read_bounded(&path, 9).expect_err("too large");
    assert!(
        matches!(error, ReadError::TooLarge { limit: 9 }),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "larger than 9 bytes");
}

#[test]
fn a_reader_longer_than_its_metadata_said_is_cut_at_the_limit() {
    // A file that grows after its size was checked: `len` says 4, the reader holds 13.
    let error = read_limited(&b"grown past it"[..], 4, 10).expect_err("too large");
    assert!(
        matches!(error, ReadError::TooLarge { limit: 10 }),
        "{error:?}"
    );
    assert_eq!(
        read_limited(&b"just right"[..], 4, 10).expect("fits").len(),
        10
    );
}

#[test]
fn the_limit_is_shown_in_the_unit_it_was_chosen_in() {
    let shown = |limit| ReadError::TooLarge { limit }.to_string();
    assert_eq!(shown(MAX_MANIFEST_BYTES), "larger than 64 MiB");
    assert_eq!(shown(512 << 10), "larger than 512 KiB");
    assert_eq!(shown(1000), "larger than 1000 bytes");
}

#[test]
fn a_directory_is_not_a_regular_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = read_bounded(dir.path(), 10).expect_err("a directory");
    assert_eq!(error.to_string(), "not a regular file (a directory)");
}

/// Makes a FIFO at `path` with the system's `mkfifo` (the crate has no unsafe code to call
/// mkfifo(3) itself).
#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Runs `read` on another thread and fails if it has not returned within a minute (opening a
/// FIFO for reading blocks until a writer comes, which here is never).
#[cfg(unix)]
fn without_blocking<T: Send + 'static>(read: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || send.send(read()));
    receive
        .recv_timeout(Duration::from_secs(60))
        .expect("the read blocked on the FIFO")
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_being_opened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pipe.yaml");
    mkfifo(&path);
    let error = without_blocking(move || read_bounded(&path, 10).expect_err("a FIFO"));
    assert_eq!(error.to_string(), "not a regular file (a FIFO)");
}

#[cfg(unix)]
#[test]
fn a_fifo_swapped_in_after_the_check_is_refused_on_the_opened_handle() {
    // The path was a regular file when checked; by the open it is a FIFO.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("g.yaml");
    mkfifo(&path);
    let error = without_blocking(move || open_regular(&path, 10).map(|_| ()).expect_err("FIFO"));
    assert_eq!(error.to_string(), "not a regular file (a FIFO)");
}
