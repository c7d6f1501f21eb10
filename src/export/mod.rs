//! `timctl export`: turns live groups into manifests, for adopting timctl on an existing app.
//!
//! The output is written so that `timctl plan` on it says "No changes" at once, and so that it
//! manages every field it writes: each field the service reports a value for is written as it
//! is, empty ones included (`face_url: ""`, `custom: {}`), so that a later out-of-band change
//! of any of them is drift. `custom: {}` asks for no custom data at all: a key added live is
//! planned for removal. [`Form::Minimal`] leaves out empty text and an empty custom set instead
//! (unmanaged, and equal to what is live anyway), for those who want terse files. Two fields are
//! never written empty, as a manifest cannot say so: `name` (a group always has one) and
//! `owner` (an ownerless group has none to write). `create_time` is kept: it is never a diff,
//! and it lets a lost group be re-imported with its original creation time.
//!
//! Writing a directory of files is [`dir`]'s job.

mod dir;

use serde::Serialize;

pub use dir::{ExportDirError, Written, write_dir};

use crate::model::{Actual, CompactString, Group, GroupType};

/// The first line of every written file. Its start, [`dir::MARKER`], is how a later export
/// knows the file is its own to overwrite or remove.
const SCHEMA_LINE: &str =
    "# Written by `timctl export`: edit freely, then `timctl plan` shows the difference.";

/// Which fields an exported manifest writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Form {
    /// Every field the service reports, empty ones included: all of them are managed.
    #[default]
    Full,
    /// Empty text and an empty custom set left out, so unmanaged.
    Minimal,
}

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
pub fn manifest_group(live: &Group, form: Form) -> Group {
    let non_empty = |value: &Option<CompactString>| value.clone().filter(|v| !v.is_empty());
    let text = |value: &Option<CompactString>| match form {
        Form::Full => value.clone(),
        Form::Minimal => non_empty(value),
    };
    let live_room = live.group_type == Some(GroupType::AVChatRoom);
    Group {
        id: live.id.clone(),
        group_type: live.group_type,
        name: non_empty(&live.name),
        owner: non_empty(&live.owner),
        introduction: text(&live.introduction),
        notification: text(&live.notification),
        face_url: text(&live.face_url),
        max_members: live.max_members.filter(|_| !live_room),
        apply_join: live.apply_join,
        mute_all: live.mute_all,
        custom: live
            .custom
            .clone()
            .filter(|c| form == Form::Full || !c.is_empty()),
        create_time: live.create_time.filter(|_| !live_room),
    }
}

/// The text of a manifest file holding `groups`, in the given order.
fn file_text(groups: &[Group]) -> String {
    let file = ManifestFile {
        groups: groups.iter().collect(),
    };
    format!(
        "{SCHEMA_LINE}\n{}",
        serde_yaml::to_string(&file).expect("groups serialize to YAML")
    )
}

/// One YAML document holding every group, in id order.
pub fn render(actual: &Actual, form: Form) -> String {
    let groups: Vec<Group> = actual
        .groups
        .values()
        .map(|live| manifest_group(&live.group, form))
        .collect();
    file_text(&groups)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::model::{ActualGroup, Custom, GroupId};
    use std::collections::BTreeMap;

    pub(super) fn actual(groups: Vec<Group>) -> Actual {
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
                            members: None,
                        }),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn empty_text_and_custom_are_written_so_they_are_managed() {
        let mut live = Group::new("g");
        live.group_type = Some(GroupType::Public);
        live.name = Some("G".into());
        live.owner = None;
        live.introduction = Some(CompactString::default());
        live.face_url = Some(CompactString::default());
        live.custom = Some(Custom::new());
        let group = manifest_group(&live, Form::Full);
        assert_eq!(group.introduction.as_deref(), Some(""));
        assert_eq!(group.face_url.as_deref(), Some(""));
        assert_eq!(group.custom, Some(Custom::new()));
        assert_eq!(group.notification, None, "not reported, so not written");
        assert_eq!(group.owner, None);
        let text = render(&actual(vec![live]), Form::Full);
        assert!(
            text.contains("face_url: ''") && text.contains("custom: {}"),
            "{text}"
        );
    }

    #[test]
    fn the_minimal_form_leaves_empty_text_and_custom_unmanaged() {
        let mut live = Group::new("g");
        live.group_type = Some(GroupType::Public);
        live.name = Some("G".into());
        live.introduction = Some(CompactString::default());
        live.custom = Some(Custom::new());
        let group = manifest_group(&live, Form::Minimal);
        assert_eq!(group.introduction, None);
        assert_eq!(group.custom, None);
        assert_eq!(group.name.as_deref(), Some("G"));
    }

    #[test]
    fn values_with_control_characters_survive_yaml() {
        let mut live = Group::new("g");
        live.custom = Some(Custom::from([("k", "a\0b\n")]));
        let text = render(&actual(vec![live]), Form::Full);
        #[derive(serde::Deserialize)]
        struct File {
            groups: Vec<Group>,
        }
        let body: File = serde_yaml::from_str(&text).unwrap();
        assert_eq!(&body.groups[0].custom.as_ref().unwrap()["k"], "a\0b\n");
        assert_eq!(body.groups[0].id, GroupId::from("g"));
    }
}
