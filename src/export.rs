//! `timctl export`: turns live groups into manifests, for adopting timctl on an existing app.
//!
//! The output is written so that `timctl plan` on it says "No changes" at once: every field the
//! service reports is written as it is, except empty text and an empty custom set, which are
//! left out (unmanaged, and equal to what is live anyway). `create_time` is kept: it is never a
//! diff, and it lets a lost group be re-imported with its original creation time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::{Actual, CompactString, Group, GroupType};

/// The first line of every written file.
const SCHEMA_LINE: &str =
    "# Written by `timctl export`: edit freely, then `timctl plan` shows the difference.";

#[derive(Serialize)]
struct ManifestFile<'a> {
    groups: Vec<&'a Group>,
}

/// Filters the listed groups of an export.
#[derive(Clone, Debug, Default)]
pub struct ExportFilter {
    pub id_prefixes: Vec<String>,
    pub group_type: Option<GroupType>,
}

impl ExportFilter {
    pub fn matches(&self, id: &str) -> bool {
        self.id_prefixes.is_empty() || self.id_prefixes.iter().any(|p| id.starts_with(p.as_str()))
    }
}

/// The manifest form of a live group. An AVChatRoom has no member cap and takes no
/// `create_time` (it is made with `create_group`), so neither is written for one.
pub fn manifest_group(live: &Group) -> Group {
    let text = |value: &Option<CompactString>| value.clone().filter(|v| !v.is_empty());
    let live_room = live.group_type == Some(GroupType::AVChatRoom);
    Group {
        id: live.id.clone(),
        group_type: live.group_type,
        name: text(&live.name),
        owner: text(&live.owner),
        introduction: text(&live.introduction),
        notification: text(&live.notification),
        face_url: text(&live.face_url),
        max_members: live.max_members.filter(|_| !live_room),
        apply_join: live.apply_join,
        mute_all: live.mute_all,
        custom: live.custom.clone().filter(|c| !c.is_empty()),
        create_time: live.create_time.filter(|_| !live_room),
    }
}

/// One YAML document holding every group, in id order.
pub fn render(actual: &Actual) -> String {
    let groups: Vec<Group> = actual
        .groups
        .values()
        .map(|live| manifest_group(&live.group))
        .collect();
    let file = ManifestFile {
        groups: groups.iter().collect(),
    };
    format!(
        "{SCHEMA_LINE}\n{}",
        serde_yaml::to_string(&file).expect("groups serialize to YAML")
    )
}

/// One file per group: `DIR/<sanitized id>.yaml`. Returns the paths written.
pub fn write_dir(actual: &Actual, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    let mut written = Vec::new();
    for live in actual.groups.values() {
        let group = manifest_group(&live.group);
        let stem = file_stem(group.id.as_str());
        let n = taken.entry(stem.clone()).or_insert(0);
        *n += 1;
        let name = if *n == 1 {
            format!("{stem}.yaml")
        } else {
            format!("{stem}-{n}.yaml")
        };
        let path = dir.join(name);
        let file = ManifestFile {
            groups: vec![&group],
        };
        let text = format!(
            "{SCHEMA_LINE}\n{}",
            serde_yaml::to_string(&file).expect("groups serialize to YAML")
        );
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

/// A file name for a GroupId: `[A-Za-z0-9_.-]` kept, anything else becomes `_`.
fn file_stem(id: &str) -> String {
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
    let stem = stem.trim_start_matches('.').to_owned();
    if stem.is_empty() {
        "group".to_owned()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActualGroup, Custom, GroupId};

    fn actual(groups: Vec<Group>) -> Actual {
        Actual {
            accounts: Default::default(),
            groups: groups
                .into_iter()
                .map(|group| {
                    (
                        group.id.clone(),
                        Box::new(ActualGroup {
                            group,
                            info_seq: 1,
                            member_num: 1,
                            roles: BTreeMap::new(),
                        }),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn empty_text_and_custom_are_left_unmanaged() {
        let mut live = Group::new("g");
        live.group_type = Some(GroupType::Public);
        live.name = Some("G".into());
        live.introduction = Some(CompactString::default());
        live.custom = Some(Custom::new());
        let group = manifest_group(&live);
        assert_eq!(group.introduction, None);
        assert_eq!(group.custom, None);
        assert_eq!(group.name.as_deref(), Some("G"));
    }

    #[test]
    fn ids_become_safe_distinct_file_names() {
        let dir = tempfile::tempdir().unwrap();
        let a = Group::new("@TGS#_abc");
        let b = Group::new("@TGS#_abc ");
        let c = Group::new("../x");
        let written = write_dir(&actual(vec![a, b, c]), dir.path()).unwrap();
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["_x.yaml", "_TGS__abc.yaml", "_TGS__abc_.yaml"]);
        assert!(written.iter().all(|p| p.parent() == Some(dir.path())));
    }

    #[test]
    fn values_with_control_characters_survive_yaml() {
        let mut live = Group::new("g");
        live.custom = Some(Custom::from([("k", "a\0b\n")]));
        let text = render(&actual(vec![live]));
        #[derive(serde::Deserialize)]
        struct File {
            groups: Vec<Group>,
        }
        let body: File = serde_yaml::from_str(&text).unwrap();
        assert_eq!(&body.groups[0].custom.as_ref().unwrap()["k"], "a\0b\n");
        assert_eq!(body.groups[0].id, GroupId::from("g"));
    }
}
