//! Prune never widens with narrower input: pointing timctl at fewer files must never destroy
//! more.
//!
//! A prune destroys every live group under its prefixes that *the manifests given* do not
//! declare. Given only `groups/teams/team.yml`, which declares the prune, the groups declared
//! in `groups/other.yaml` would look undeclared and be destroyed. So a prune governs a whole
//! manifest set, and a run whose paths leave part of that set out is refused before anything
//! is read from the service.
//!
//! The set a prune governs is every manifest under its **root**: the nearest directory above
//! the declaring file that holds `timctl.yaml` (or `timctl.yml`) or `.git`; failing that, the
//! working directory when it holds the file; failing that, the file's own directory. The root
//! is walked with the manifest rules (hidden entries and the settings file skipped), without
//! entering nested repositories (a base-branch checkout) or the `--baseline` directory. A
//! file there is a manifest when a document in it is a mapping with `groups` or `prune`, or,
//! when it does not parse, when a line starts with `groups:` or `prune:`: a broken manifest
//! still counts, so it cannot shrink the set.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Deserialize as _;

/// Files larger than this are not read to tell whether they are manifests; they count as one.
const PROBE_LIMIT: u64 = 64 << 20;

/// How many missing files the error lists.
const SHOWN: usize = 5;

/// A prune whose manifest set was not given whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialPrune {
    /// The file that declares the prune.
    pub file: PathBuf,
    /// The root of the set it governs.
    pub root: PathBuf,
    /// Manifests under the root that the paths given leave out.
    pub missing: Vec<PathBuf>,
}

impl fmt::Display for PartialPrune {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self
            .missing
            .iter()
            .take(SHOWN)
            .map(|p| p.display().to_string())
            .collect();
        let more = self.missing.len().saturating_sub(SHOWN);
        write!(
            f,
            "{} declares a prune, which governs every manifest under {}, but the paths given leave out {}: {}{}. Pruning part of the set would destroy the groups the other files declare, so nothing is planned: give the whole set (e.g. `timctl plan {}`), or move the prune into a file of the set you mean",
            self.file.display(),
            self.root.display(),
            if self.missing.len() == 1 {
                "1 of them".to_owned()
            } else {
                format!("{} of them", self.missing.len())
            },
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
            self.root.display()
        )
    }
}

impl std::error::Error for PartialPrune {}

/// Checks that `loaded` (every manifest file read) holds the whole set each file of
/// `prune_files` governs. `excluded` directories (the baseline) are not part of any set.
pub fn check(
    prune_files: &[PathBuf],
    loaded: &[PathBuf],
    excluded: &[PathBuf],
) -> Result<(), PartialPrune> {
    let canonical = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let loaded: BTreeSet<PathBuf> = loaded.iter().map(|p| canonical(p)).collect();
    let excluded: Vec<PathBuf> = excluded.iter().map(|p| canonical(p)).collect();
    let cwd = std::env::current_dir().map(|d| canonical(&d)).ok();
    for file in prune_files {
        let absolute = canonical(file);
        let root = root_of(&absolute, cwd.as_deref());
        let mut missing = Vec::new();
        walk(&root, &root, &excluded, &mut |path| {
            if !loaded.contains(path) && is_manifest(path) {
                missing.push(path.to_owned());
            }
        });
        if !missing.is_empty() {
            let shown = |p: &Path| {
                cwd.as_deref()
                    .and_then(|cwd| p.strip_prefix(cwd).ok())
                    .map(Path::to_owned)
                    .unwrap_or_else(|| p.to_owned())
            };
            let root_shown = shown(&root);
            return Err(PartialPrune {
                file: file.clone(),
                root: if root_shown.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    root_shown
                },
                missing: missing.iter().map(|p| shown(p)).collect(),
            });
        }
    }
    Ok(())
}

/// The root of the set a prune in `file` governs (see the module documentation).
fn root_of(file: &Path, cwd: Option<&Path>) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("/"));
    for ancestor in dir.ancestors() {
        let marked = ["timctl.yaml", "timctl.yml", ".git"]
            .iter()
            .any(|name| ancestor.join(name).exists());
        if marked {
            return ancestor.to_owned();
        }
    }
    match cwd {
        Some(cwd) if file.starts_with(cwd) => cwd.to_owned(),
        _ => dir.to_owned(),
    }
}

/// Every `*.yaml`/`*.yml` regular file under `dir`, by the manifest walk's rules.
fn walk(root: &Path, dir: &Path, excluded: &[PathBuf], found: &mut dyn FnMut(&Path)) {
    if excluded.iter().any(|e| dir.starts_with(e)) {
        return;
    }
    if dir != root && dir.join(".git").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name == "timctl.yaml" || name == "timctl.yml" {
            continue;
        }
        // Symlinks are not followed: a link out of the tree does not widen the set.
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(root, &path, excluded, found);
        } else if meta.is_file() && is_yaml_name(&path) {
            found(&path);
        }
    }
}

fn is_yaml_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Whether a file holds timctl manifests (see the module documentation).
fn is_manifest(path: &Path) -> bool {
    let mut bytes = Vec::new();
    let read = fs::File::open(path)
        .and_then(|file| file.take(PROBE_LIMIT + 1).read_to_end(&mut bytes))
        .is_ok();
    if !read || bytes.len() as u64 > PROBE_LIMIT {
        return true;
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut parsed_all = true;
    for document in serde_yaml::Deserializer::from_str(&text) {
        match serde_yaml::Value::deserialize(document) {
            Ok(serde_yaml::Value::Mapping(map)) => {
                if map.contains_key("groups") || map.contains_key("prune") {
                    return true;
                }
            }
            Ok(_) => {}
            Err(_) => {
                parsed_all = false;
                break;
            }
        }
    }
    !parsed_all
        && text
            .lines()
            .any(|line| line.starts_with("groups:") || line.starts_with("prune:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("timctl.yaml"), "").unwrap();
        for (rel, text) in files {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    const PRUNE: &str = "groups:\n  - id: ops-team\nprune:\n  id_prefixes: [ops-]\n";
    const GROUPS: &str = "groups:\n  - id: ops-a\n";

    #[test]
    fn a_prune_given_without_the_rest_of_its_set_is_refused() {
        let dir = tree(&[("groups/teams/team.yml", PRUNE), ("groups/a.yaml", GROUPS)]);
        let team = dir.path().join("groups/teams/team.yml");
        let err = check(
            std::slice::from_ref(&team),
            std::slice::from_ref(&team),
            &[],
        )
        .unwrap_err();
        assert_eq!(err.missing.len(), 1);
        assert!(err.missing[0].ends_with("groups/a.yaml"), "{err}");
        assert!(err.to_string().contains("leave out 1 of them"), "{err}");
        let all = [team.clone(), dir.path().join("groups/a.yaml")];
        check(std::slice::from_ref(&team), &all, &[]).unwrap();
    }

    #[test]
    fn other_yaml_hidden_dirs_nested_repos_and_the_baseline_are_not_part_of_the_set() {
        let dir = tree(&[
            ("groups/p.yaml", PRUNE),
            ("docker-compose.yml", "services:\n  web: {}\n"),
            (".github/workflows/ci.yml", GROUPS),
            ("base/.git/HEAD", ""),
            ("base/groups/a.yaml", GROUPS),
            ("baseline/groups/a.yaml", GROUPS),
        ]);
        let p = dir.path().join("groups/p.yaml");
        check(
            std::slice::from_ref(&p),
            std::slice::from_ref(&p),
            &[dir.path().join("baseline")],
        )
        .unwrap();
    }

    #[test]
    fn a_broken_manifest_still_counts() {
        let dir = tree(&[
            ("groups/p.yaml", PRUNE),
            ("groups/broken.yaml", "groups:\n  - id: [\n"),
        ]);
        let p = dir.path().join("groups/p.yaml");
        assert!(check(std::slice::from_ref(&p), std::slice::from_ref(&p), &[]).is_err());
    }
}
