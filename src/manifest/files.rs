//! Which files are manifests: the paths the user names, with directories walked.
//!
//! A file named on the command line is read whatever its name. A directory is walked
//! recursively for `*.yaml` and `*.yml`, in sorted order so that results and messages do not
//! depend on the filesystem. A walk skips hidden entries (`.git/`, `.timctl/`) and the
//! connection settings file `timctl.yaml`/`timctl.yml`, which lives beside the manifests but is
//! not one. Each file is read once even when named twice or reached through a symlink.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::problem::Problem;

/// Names a directory walk never treats as manifests.
const SETTINGS_FILES: &[&str] = &["timctl.yaml", "timctl.yml"];

/// The manifest files under `paths`, in order; unreadable paths become problems.
pub(crate) fn discover(paths: &[PathBuf], problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    let mut walk = Walk::default();
    for path in paths {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk.dir(path, problems),
            Ok(_) => walk.file(path),
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
                Ok(_) if is_manifest_name(&path) => self.file(&path),
                Ok(_) => {}
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

/// Reads a file's bytes, or says why not.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Problem> {
    fs::read(path).map_err(|e| io_problem(path, &e))
}

fn io_problem(path: &Path, error: &std::io::Error) -> Problem {
    let message = match error.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        _ => format!("cannot read: {error}"),
    };
    Problem {
        file: path.to_owned(),
        line: None,
        group: None,
        field: None,
        message,
    }
}
