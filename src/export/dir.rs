//! `timctl export --out DIR`: one manifest file per group, written so that no file is ever lost.
//!
//! Guarantees:
//! - A file is export's own when its first line starts with [`MARKER`] (every file it writes
//!   does). Export overwrites its own files, and with `force` removes them; it never removes any
//!   other file. A file that is not its own at a name it needs (compared with case folded, as a
//!   case-insensitive file system would) is an error before anything is written, unless `force`
//!   (then it is overwritten, still never removed).
//! - A file's name depends on its group's id alone, so exports with other filters name a group
//!   the same way: the id itself when it is all of `[a-z0-9_.-]`, does not start with `.` and is
//!   not a reserved name (`timctl.yaml`/`timctl.yml`, the settings file, and the Windows device
//!   names); otherwise the id with every other character made `_`, then `~` and 8 hex digits of
//!   the id's SHA-256. Plain names are lowercase and distinct ids give distinct ones; every other
//!   name holds a `~`, which no plain name does; so names are distinct with case folded, and the
//!   rare equal hash is broken by a further `~2`. One file holds one group, so the number of
//!   groups reported is the number a later `validate` of the directory loads.
//! - Each file is written to a hidden temporary file beside it, synced, and renamed over its
//!   name; the directory is synced at the end. A crash leaves the old file or the new one.
//! - Stale files are export's own files in DIR (not below it) that this run did not write and
//!   whose groups all fall in its scope (id prefixes, type): those groups no longer exist, or
//!   are now written under another name. With `force` they are removed; without, they are left
//!   and listed, for the caller to tell the user.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{ExportFilter, Options, file_text, manifest_entry};
use crate::manifest::{MAX_MANIFEST_BYTES, read_bounded};
use crate::model::{Actual, GroupType};

/// How every file export writes starts, and how a later export recognises one.
pub const MARKER: &str = "# Written by `timctl export`";

/// Names a group's file never takes, compared with case folded: the settings file the manifest
/// loader skips, and names Windows reserves for devices.
const RESERVED_STEMS: &[&str] = &[
    "timctl", "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7",
    "com8", "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// What an export into a directory did.
#[derive(Debug, Default)]
pub struct Written {
    /// One file per exported group, in id order.
    pub files: Vec<PathBuf>,
    /// Stale files removed (only with `force`).
    pub removed: Vec<PathBuf>,
    /// Stale files left in place for lack of `force`.
    pub left: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportDirError {
    #[error("{}", not_ours(paths))]
    NotOurs { paths: Vec<PathBuf> },
    #[error("cannot create the directory {}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot list the directory {}", path.display())]
    List {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot remove {}", path.display())]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn not_ours(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let (subject, it) = if paths.len() == 1 {
        ("a file", "it")
    } else {
        ("files", "them")
    };
    format!(
        "export would overwrite {subject} it did not write (the first line is not `{MARKER}…`): \
         {}; move {it} away, or pass --force to overwrite {it}",
        shown.join(", ")
    )
}

/// An entry of the output directory that could clash with a file export writes.
struct Existing {
    name: String,
    /// `Some` when the file is export's own: the groups it declares, or `None` when they
    /// cannot be read (it is then never stale).
    ours: Option<Option<Vec<Declared>>>,
}

/// The parts of an exported file that say which groups it holds.
#[derive(Deserialize)]
struct DeclaredFile {
    groups: Vec<Declared>,
}

#[derive(Deserialize)]
struct Declared {
    id: String,
    #[serde(rename = "type")]
    group_type: Option<String>,
}

/// Writes one file per group into `dir` (created if missing); see the module's guarantees.
/// `filter` is the export's scope: only stale files of groups in it are removed.
pub fn write_dir(
    actual: &Actual,
    dir: &Path,
    filter: &ExportFilter,
    options: Options,
    force: bool,
) -> Result<Written, ExportDirError> {
    std::fs::create_dir_all(dir).map_err(|source| ExportDirError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    let existing = scan(dir)?;
    let mut taken = BTreeSet::new();
    let mut planned = Vec::with_capacity(actual.groups.len());
    let mut conflicts = Vec::new();
    for live in actual.groups.values() {
        let entry = manifest_entry(live, options);
        let name = file_name(entry.group.id.as_str(), &mut taken);
        for other in existing.get(&fold(&name)).into_iter().flatten() {
            if other.ours.is_none() {
                conflicts.push(dir.join(&other.name));
            }
        }
        planned.push((name, file_text(std::slice::from_ref(&entry))));
    }
    if !force && !conflicts.is_empty() {
        return Err(ExportDirError::NotOurs { paths: conflicts });
    }
    let mut written = Written::default();
    for (name, text) in planned {
        let path = dir.join(name);
        write_atomic(dir, &path, text.as_bytes()).map_err(|source| ExportDirError::Write {
            path: path.clone(),
            source,
        })?;
        written.files.push(path);
    }
    for (folded, entries) in &existing {
        if taken.contains(folded) {
            continue;
        }
        for entry in entries {
            let Some(Some(declared)) = &entry.ours else {
                continue;
            };
            if declared.is_empty() || !declared.iter().all(|d| in_scope(d, filter)) {
                continue;
            }
            let path = dir.join(&entry.name);
            if force {
                std::fs::remove_file(&path).map_err(|source| ExportDirError::Remove {
                    path: path.clone(),
                    source,
                })?;
                written.removed.push(path);
            } else {
                written.left.push(path);
            }
        }
    }
    // The renames and removals are durable once the directory is.
    if let Ok(handle) = std::fs::File::open(dir) {
        handle.sync_all().map_err(|source| ExportDirError::Write {
            path: dir.to_owned(),
            source,
        })?;
    }
    Ok(written)
}

/// The visible `*.yaml`/`*.yml` entries of `dir`, by folded name.
fn scan(dir: &Path) -> Result<BTreeMap<String, Vec<Existing>>, ExportDirError> {
    let list_error = |source| ExportDirError::List {
        path: dir.to_owned(),
        source,
    };
    let mut out: BTreeMap<String, Vec<Existing>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        // A name that is not UTF-8 is never one export wrote; its lossy form only names it.
        let (name, utf8) = match entry.file_name().into_string() {
            Ok(name) => (name, true),
            Err(raw) => (raw.to_string_lossy().into_owned(), false),
        };
        let folded = fold(&name);
        if name.starts_with('.') || !(folded.ends_with(".yaml") || folded.ends_with(".yml")) {
            continue;
        }
        let path = entry.path();
        let regular = utf8 && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
        // An unreadable file is not export's own: never overwritten without force, never removed.
        let bytes = regular
            .then(|| read_bounded(&path, MAX_MANIFEST_BYTES).ok())
            .flatten();
        let ours = bytes
            .filter(|bytes| bytes.starts_with(MARKER.as_bytes()))
            .map(|bytes| {
                serde_yaml::from_slice::<DeclaredFile>(&bytes)
                    .ok()
                    .map(|file| file.groups)
            });
        out.entry(folded).or_default().push(Existing { name, ours });
    }
    Ok(out)
}

fn in_scope(declared: &Declared, filter: &ExportFilter) -> bool {
    filter.matches(&declared.id)
        && filter.group_type.is_none_or(|wanted| {
            declared.group_type.as_deref().and_then(GroupType::parse) == Some(wanted)
        })
}

/// Names are compared as a case-insensitive file system would (ASCII is all a name holds
/// besides what the sanitizer replaced).
fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// The file name for the group `id`, distinct (folded) from every name in `taken`, which it
/// joins.
fn file_name(id: &str, taken: &mut BTreeSet<String>) -> String {
    let plain = !id.is_empty()
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        && !is_reserved(id);
    let base = if plain {
        id.to_owned()
    } else {
        let digest = Sha256::digest(id.as_bytes());
        let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}~{hash}", sanitized(id))
    };
    let mut name = format!("{base}.yaml");
    let mut n = 1;
    while !taken.insert(fold(&name)) {
        n += 1;
        name = format!("{base}~{n}.yaml");
    }
    name
}

/// Windows reserves a device name whatever extensions follow it (`con.x.yaml`).
fn is_reserved(stem: &str) -> bool {
    let first = stem.split('.').next().unwrap_or(stem);
    RESERVED_STEMS.contains(&fold(first).as_str())
}

/// `[A-Za-z0-9_.-]` kept, anything else `_`; no leading dot (a hidden file is not loaded).
fn sanitized(id: &str) -> String {
    let stem: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_start_matches('.');
    if stem.is_empty() {
        "group".to_owned()
    } else {
        stem.to_owned()
    }
}

/// A hidden temporary file beside `path`, synced, then renamed over it.
fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::actual;
    use crate::model::Group;

    fn names(ids: &[&str]) -> Vec<String> {
        let mut taken = BTreeSet::new();
        ids.iter().map(|id| file_name(id, &mut taken)).collect()
    }

    #[test]
    fn names_are_distinct_with_case_folded_and_never_reserved() {
        let ids = [
            "Team-A", "team-a", "team/a", "team_a", "timctl", "TIMCTL", "con", "a b", "a_b", ".x",
            "",
        ];
        let names = names(&ids);
        let folded: BTreeSet<String> = names.iter().map(|n| fold(n)).collect();
        assert_eq!(folded.len(), ids.len(), "{names:?}");
        assert_eq!(names[1], "team-a.yaml");
        assert_eq!(names[3], "team_a.yaml");
        assert_eq!(names[0], "Team-A~5ee609b6.yaml", "as the README shows");
        assert_eq!(names[2], "team_a~65f838a2.yaml");
        for name in &names {
            let stem = name.strip_suffix(".yaml").unwrap();
            assert!(!is_reserved(stem) && !name.starts_with('.'), "{name}");
        }
    }

    #[test]
    fn a_name_depends_on_its_id_alone() {
        assert_eq!(names(&["Team-A"]), names(&["team-a", "Team-A"])[1..]);
    }

    #[test]
    fn an_equal_hash_is_broken_by_a_counter() {
        let mut taken = BTreeSet::new();
        let first = file_name("X", &mut taken);
        let base = first.strip_suffix(".yaml").unwrap().to_owned();
        assert_eq!(file_name("X", &mut taken), format!("{base}~2.yaml"));
    }

    #[test]
    fn a_file_export_did_not_write_is_neither_overwritten_nor_removed() {
        let dir = tempfile::tempdir().unwrap();
        let hand = dir.path().join("team-a.yaml");
        std::fs::write(&hand, "groups: [{id: team-a, name: Mine}]\n").unwrap();
        let groups = actual(vec![Group::new("team-a")]);
        let filter = ExportFilter::default();
        let err = write_dir(&groups, dir.path(), &filter, Options::default(), false).unwrap_err();
        assert!(
            matches!(&err, ExportDirError::NotOurs { paths } if paths == std::slice::from_ref(&hand))
        );
        assert!(err.to_string().contains("--force"), "{err}");
        assert!(std::fs::read_to_string(&hand).unwrap().contains("Mine"));
        let none = actual(vec![]);
        let written = write_dir(&none, dir.path(), &filter, Options::default(), true).unwrap();
        assert!(written.removed.is_empty() && written.left.is_empty());
        assert!(hand.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_a_needed_name_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.txt");
        std::fs::write(&target, format!("{MARKER}\ngroups: [{{id: g}}]\n")).unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("g.yaml")).unwrap();
        let groups = actual(vec![Group::new("g")]);
        let err = write_dir(
            &groups,
            dir.path(),
            &ExportFilter::default(),
            Options::default(),
            false,
        );
        assert!(matches!(err, Err(ExportDirError::NotOurs { .. })));
        assert!(
            std::fs::read_to_string(&target)
                .unwrap()
                .ends_with("[{id: g}]\n")
        );
    }

    #[test]
    fn stale_files_out_of_scope_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let all = ExportFilter::default();
        let both = actual(vec![Group::new("ops-a"), Group::new("dev-a")]);
        write_dir(&both, dir.path(), &all, Options::default(), false).unwrap();
        let ops = ExportFilter {
            id_prefixes: vec!["ops-".into()],
            group_type: None,
        };
        let written =
            write_dir(&actual(vec![]), dir.path(), &ops, Options::default(), true).unwrap();
        assert_eq!(written.removed, vec![dir.path().join("ops-a.yaml")]);
        assert!(dir.path().join("dev-a.yaml").exists());
        assert!(!dir.path().join("ops-a.yaml").exists());

        let mut public = Group::new("pub-a");
        public.group_type = Some(GroupType::Public);
        write_dir(
            &actual(vec![public]),
            dir.path(),
            &all,
            Options::default(),
            false,
        )
        .unwrap();
        let private = ExportFilter {
            id_prefixes: Vec::new(),
            group_type: Some(GroupType::Private),
        };
        let written = write_dir(
            &actual(vec![]),
            dir.path(),
            &private,
            Options::default(),
            true,
        )
        .unwrap();
        assert!(written.removed.is_empty(), "{:?}", written.removed);
        assert!(dir.path().join("pub-a.yaml").exists());
    }
}
