//! `--target` and `--exclude` ids that match no group: most often a typo, which would
//! otherwise plan nothing (or exclude nothing) in silence.

use crate::model::{Actual, Desired, GroupId};

use super::PlanOptions;

/// One warning per `--target` or `--exclude` id that names no group the manifests declare and
/// none a prune read live, with the closest such id as a "did you mean". An excluded id under a prune
/// prefix is taken as matching: it may be live, and excluded ids are not read.
pub fn unmatched_scope(options: &PlanOptions, desired: &Desired, actual: &Actual) -> Vec<String> {
    let known: Vec<&str> = desired
        .groups
        .keys()
        .chain(actual.groups.keys())
        .map(GroupId::as_str)
        .collect();
    let matches = |id: &GroupId| desired.groups.contains_key(id) || actual.groups.contains_key(id);
    let mut warnings = Vec::new();
    for (flag, ids) in [
        ("--target", &options.targets),
        ("--exclude", &options.excludes),
    ] {
        for id in ids {
            let pruned = desired.prunes(id);
            if matches(id) || (flag == "--exclude" && pruned) {
                continue;
            }
            let mut warning = format!(
                "{flag} {:?} matches no group the manifests declare or prune",
                id.as_str()
            );
            if let Some(close) = crate::manifest::suggest::closest(id.as_str(), &known, &[]) {
                warning.push_str(&format!("; did you mean {close:?}?"));
            }
            warnings.push(warning);
        }
    }
    warnings
}
