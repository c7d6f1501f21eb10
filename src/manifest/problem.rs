//! What is wrong with the user's manifests, pointing into their files.
//!
//! Loading never stops at the first problem: every check pushes a [`Problem`] and goes on, and
//! [`ManifestErrors`] reports them all at once, sorted by file and line, one per line:
//!
//! ```text
//! groups/eng.yaml:12: group "eng-announce": field name: 34 bytes, at most 30 (UTF-8 bytes)
//! groups/eng.yaml:3: group "x": unknown key "nmae"; did you mean "name"?
//! groups/eng.yaml:2: field defaults.type: "public" is not one of Private, …; did you mean "Public"?
//! ```
//!
//! The format is `FILE[:LINE]: [group "ID": ][field FIELD: ]MESSAGE`. `FIELD` is the key as
//! written inside a group (`name`, `custom.team`); outside a group, or in a group whose id is
//! unusable, it is the path from the document's root (`defaults.name`, `groups[2].name`,
//! `prune.id_prefixes[0]`).

use std::fmt;
use std::path::PathBuf;

use crate::model::GroupId;

/// One problem in the manifests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line, where the parser or the line locator gives one.
    pub line: Option<usize>,
    /// The group the problem is in, when it has a usable id.
    pub group: Option<GroupId>,
    /// The field the problem is about (see the module header for its spelling).
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(group) = &self.group {
            write!(f, "group {:?}: ", group.as_str())?;
        }
        if let Some(field) = &self.field {
            write!(f, "field {field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in the manifests; never empty.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ManifestErrors(Vec<Problem>);

impl ManifestErrors {
    /// Sorts by file, then line (problems without a line first), keeping the order of checks
    /// within a line.
    pub(crate) fn new(mut problems: Vec<Problem>) -> ManifestErrors {
        problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        ManifestErrors(problems)
    }

    pub fn problems(&self) -> &[Problem] {
        &self.0
    }

    pub fn into_problems(self) -> Vec<Problem> {
        self.0
    }
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(file: &str, line: Option<usize>, message: &str) -> Problem {
        Problem {
            file: file.into(),
            line,
            group: None,
            field: None,
            message: message.into(),
        }
    }

    #[test]
    fn display_includes_only_the_parts_present() {
        let mut p = problem("g/a.yaml", Some(12), "34 bytes, at most 30 (UTF-8 bytes)");
        p.group = Some("eng".into());
        p.field = Some("name".into());
        assert_eq!(
            p.to_string(),
            r#"g/a.yaml:12: group "eng": field name: 34 bytes, at most 30 (UTF-8 bytes)"#
        );
        assert_eq!(
            problem("g/b.yaml", None, "no such file").to_string(),
            "g/b.yaml: no such file"
        );
    }

    #[test]
    fn errors_are_sorted_by_file_then_line_and_keep_check_order_within_a_line() {
        let errors = ManifestErrors::new(vec![
            problem("b.yaml", Some(1), "b1"),
            problem("a.yaml", Some(9), "a9"),
            problem("a.yaml", Some(2), "a2 first"),
            problem("a.yaml", None, "a-"),
            problem("a.yaml", Some(2), "a2 second"),
        ]);
        assert_eq!(
            errors.to_string(),
            "a.yaml: a-\na.yaml:2: a2 first\na.yaml:2: a2 second\na.yaml:9: a9\nb.yaml:1: b1"
        );
    }
}
