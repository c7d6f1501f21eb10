//! Manifests: the YAML files users review in pull requests → [`Desired`], the first stage of
//! the flow (manifests → desired; API → actual; plan; render or apply).
//!
//! This is the only stage that reads the user's files, and it checks everything it can before
//! anything touches the network: [`load`] either returns the whole desired state or every
//! problem at once ([`ManifestErrors`]), each pointing at a file, a line where one is known, a
//! group and a field. What needs the live state (is a `name` given for a group that must be
//! created, does a type change) is the planner's to check.
//!
//! The format (DESIGN §2): a file holds one or more YAML documents, each with optional
//! `defaults`, `groups` and `prune`. A group's fields override the document's `defaults` field
//! by field; a group's `custom` map replaces the default `custom` map whole (it is not merged
//! key by key), like every other field. Prune prefixes of every document are combined.
//!
//! - `files.rs`: which files are manifests;
//! - `document.rs`: one file → groups and prune prefixes;
//! - `scan.rs`: nesting too deep to parse, refused before the parser sees it;
//! - `plain.rs`: plain block YAML, read in one pass, which is nearly every manifest;
//! - `nodes.rs`: YAML values from the parser, on a budget that aliases cannot multiply;
//! - `tree.rs`: a document as the rules read it, from either reader, each value with its line;
//! - `fields.rs`: one group's (or `defaults`') fields, read one by one from that tree;
//! - `validate.rs`: the service's rules;
//! - `locate.rs`: line numbers, since the YAML parser gives them only with its errors;
//! - `suggest.rs`: "did you mean";
//! - `written.rs`: a scalar as written in the file, for hints that quote it;
//! - `schema.rs`: the JSON Schema that editors use to check manifests as they are typed.

mod document;
mod fields;
mod files;
mod locate;
mod nodes;
mod plain;
mod problem;
pub mod prune_scope;
mod scan;
mod schema;
pub(crate) mod suggest;
mod tree;
pub mod validate;
mod written;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::model::Desired;

pub use files::MAX_MANIFEST_BYTES;
// For the other files timctl reads (`timctl.yaml`, saved plans), which want the same bounds.
pub use document::Spent;
#[allow(
    unused_imports,
    reason = "callers outside the manifest loader match on it"
)]
pub(crate) use files::ReadError;
pub(crate) use files::read_bounded;
pub use problem::{ManifestErrors, Problem};
pub use schema::{schema, schema_json};

/// Byte limits on group fields (UTF-8 bytes). The defaults are the REST API's documented
/// limits; newer editions allow more, so the connection settings may raise them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub name: usize,
    pub introduction: usize,
    pub notification: usize,
    pub face_url: usize,
    /// Bytes of a custom (AppDefinedData) key.
    pub custom_key: usize,
    /// Bytes of a custom value.
    pub custom_value: usize,
    /// Number of custom keys on one group.
    pub custom_keys: usize,
    /// The group custom fields configured for the app in the console (`timctl.yaml`
    /// `custom_fields`): when given, any other key is refused, as the service refuses it.
    /// `None`: not declared, any well-formed key is accepted here.
    pub configured_keys: Option<std::collections::BTreeSet<String>>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            name: 30,
            introduction: 240,
            notification: 300,
            face_url: 100,
            custom_key: 16,
            custom_value: 512,
            custom_keys: 10,
            configured_keys: None,
        }
    }
}

/// The loaded manifests and the files they came from.
#[derive(Debug, Default)]
pub struct Manifests {
    pub desired: Desired,
    /// Every manifest file read, in reading order (files with no group included).
    pub files: Vec<PathBuf>,
    /// The files among them that declare a prune.
    pub prune_files: Vec<PathBuf>,
    /// The files' parsed trees, not freed yet: see [`Spent`].
    pub spent: Spent,
}

/// Reads and validates the manifests under `paths` (files, or directories walked recursively).
pub fn load(paths: &[PathBuf], limits: &Limits) -> Result<Desired, ManifestErrors> {
    load_manifests(paths, limits).map(|m| m.desired)
}

/// [`load`], also telling which files were read.
pub fn load_manifests(paths: &[PathBuf], limits: &Limits) -> Result<Manifests, ManifestErrors> {
    load_manifests_keeping(paths, limits, false)
}

/// [`load_manifests`]; with `keep_trees`, the files' parsed trees are kept in
/// [`Manifests::spent`] for the caller to free later (see [`Spent`]) rather than freed as
/// each file is read.
pub fn load_manifests_keeping(
    paths: &[PathBuf],
    limits: &Limits,
    keep_trees: bool,
) -> Result<Manifests, ManifestErrors> {
    let mut problems = Vec::new();
    let files = files::discover(paths, &mut problems);
    let (declared, spent) = read_files(&files, limits, keep_trees, &mut problems);
    let prune_files = declared.prune_files.iter().cloned().collect();
    let desired = resolve(declared, &mut problems);
    if problems.is_empty() {
        Ok(Manifests {
            desired,
            files,
            prune_files,
            spent,
        })
    } else {
        Err(ManifestErrors::new(problems))
    }
}

/// Loads the baseline manifests under `dir` beside the already loaded `head`, whose one root
/// directory is `head_root` (`None` when the head was named some other way).
///
/// A baseline is the base branch of a pull request: most of its files are byte for byte the
/// head's file at the same path below the root, and a file declares exactly what its bytes
/// say (defaults and ids are per document), so such a file's groups are the head's groups
/// from that file and are not parsed again. Only the files that differ are read, and a file
/// that declares a prune always is (the head keeps prune prefixes for the set, not per file).
/// The result is what loading `dir` whole would give, each group's `source` aside.
pub fn load_baseline(
    dir: &Path,
    head_root: Option<&Path>,
    head: &Manifests,
    limits: &Limits,
) -> Result<Desired, ManifestErrors> {
    let mut problems = Vec::new();
    let files = files::discover(&[dir.to_owned()], &mut problems);
    let head_files: BTreeSet<&Path> = head.files.iter().map(PathBuf::as_path).collect();
    let mut reused = BTreeSet::new();
    let mut to_read = Vec::new();
    for file in files {
        let twin = head_root
            .zip(file.strip_prefix(dir).ok())
            .map(|(root, relative)| root.join(relative))
            .filter(|twin| head_files.contains(twin.as_path()))
            .filter(|twin| !head.prune_files.contains(twin))
            .filter(|twin| same_bytes(&file, twin));
        match twin {
            Some(twin) => {
                reused.insert(twin);
            }
            None => to_read.push(file),
        }
    }
    let (mut declared, _trees) = read_files(&to_read, limits, false, &mut problems);
    // The groups of one file share its path: whether the file is reused is asked once.
    let mut file_reused: HashMap<*const Path, bool> = HashMap::new();
    declared.groups.extend(
        head.desired
            .groups
            .values()
            .filter(|group| {
                let file = &group.source.file;
                *file_reused
                    .entry(Arc::as_ptr(file))
                    .or_insert_with(|| reused.contains(&**file))
            })
            .map(Arc::clone),
    );
    let desired = resolve(declared, &mut problems);
    if problems.is_empty() {
        Ok(desired)
    } else {
        Err(ManifestErrors::new(problems))
    }
}

/// Whether two manifest files hold the same bytes (either unreadable: no).
fn same_bytes(a: &Path, b: &Path) -> bool {
    match (
        read_bounded(a, MAX_MANIFEST_BYTES),
        read_bounded(b, MAX_MANIFEST_BYTES),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Reads and parses `files` on up to one thread per core, and joins the results in file
/// order: the groups, and the problems, come out exactly as one thread reading the files in
/// order would give them. Also gives the parsed trees, when `keep_trees`.
///
/// Each thread takes the next file not taken yet, so that a thread slowed down (by the
/// client being made beside it, by another process) leaves its share to the others instead
/// of holding up the join.
fn read_files(
    files: &[PathBuf],
    limits: &Limits,
    keep_trees: bool,
    problems: &mut Vec<Problem>,
) -> (document::Declared, Spent) {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 8)
        .min(files.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let read = || {
        let mut parts = Vec::new();
        let mut spent = Spent::share(keep_trees, threads);
        loop {
            let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(file) = files.get(index) else {
                break;
            };
            let mut declared = document::Declared::default();
            let mut problems = Vec::new();
            match read_bounded(file, MAX_MANIFEST_BYTES) {
                Ok(bytes) => document::read_file_keeping(
                    file,
                    &bytes,
                    limits,
                    &mut declared,
                    &mut problems,
                    &mut spent,
                ),
                Err(error) => problems.push(files::read_problem(file, error)),
            }
            parts.push((index, declared, problems));
        }
        (parts, spent)
    };
    let mut parts = Vec::with_capacity(files.len());
    let mut spent = Spent::new(keep_trees);
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..threads).map(|_| scope.spawn(read)).collect();
        // This thread reads too.
        let mine = read();
        for (read, trees) in std::iter::once(mine).chain(
            others
                .into_iter()
                .map(|handle| handle.join().expect("a manifest reader does not panic")),
        ) {
            parts.extend(read);
            spent.extend(trees);
        }
    });
    parts.sort_unstable_by_key(|(index, ..)| *index);
    let mut declared = document::Declared::default();
    for (_, part, found) in parts {
        let document::Declared {
            groups,
            prune_prefixes,
            prune_files,
        } = part;
        declared.groups.extend(groups);
        declared.prune_prefixes.extend(prune_prefixes);
        declared.prune_files.extend(prune_files);
        problems.extend(found);
    }
    (declared, spent)
}

/// Indexes the declared groups by id; a second declaration of an id is a problem naming both.
///
/// Sorted in place, so that declarations of one id sit side by side and no second index of
/// ids is needed, then collected into the map in one pass, which gives it full nodes.
fn resolve(declared: document::Declared, problems: &mut Vec<Problem>) -> Desired {
    let mut groups = declared.groups;
    // Stable: of the declarations of one id, the one read first stays first.
    groups.sort_by(|a, b| a.group.id.cmp(&b.group.id));
    groups.dedup_by(|later, first| {
        let duplicate = later.group.id == first.group.id;
        if duplicate {
            problems.push(Problem {
                file: later.source.file.to_path_buf(),
                line: later.source.line,
                group: Some(later.group.id.clone()),
                field: Some("id".into()),
                message: format!("duplicate id, first declared at {}", first.source),
            });
        }
        duplicate
    });
    Desired {
        groups: groups
            .into_iter()
            .map(|group| (group.group.id.clone(), group))
            .collect(),
        prune_prefixes: declared.prune_prefixes,
    }
}
