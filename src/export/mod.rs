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

use std::collections::BTreeMap;

use serde::Serialize;

pub use dir::{ExportDirError, Written, write_dir};

use crate::model::{Actual, ActualGroup, CompactString, Group, GroupId, GroupType, Role};

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

/// What an export writes: the [`Form`] of the profile, and whether `members` is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub form: Form,
    /// `--members`: write `members` and `members_exclusive: true`.
    pub members: bool,
}

/// The comment on every `members_exclusive: true` export writes.
const EXCLUSIVE_COMMENT: &str =
    "  # apply removes members not listed here (owner and admins aside)";

#[derive(Serialize)]
struct ManifestFile<'a> {
    groups: Vec<&'a Entry>,
}

/// One group of an exported manifest: its profile, then its people.
#[derive(Debug, PartialEq, Serialize)]
struct Entry {
    #[serde(flatten)]
    group: Group,
    #[serde(skip_serializing_if = "Option::is_none")]
    admins: Option<Vec<CompactString>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<Vec<CompactString>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    members_exclusive: bool,
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

/// Whether export writes people for a group of this type, and so reads its member list.
fn reads_members(kind: Option<GroupType>, options: Options) -> bool {
    match kind {
        None | Some(GroupType::AVChatRoom) => false,
        Some(GroupType::Private) => options.members,
        Some(_) => true,
    }
}

/// The groups of `actual` whose member list the export needs, with their types.
pub fn member_lists(actual: &Actual, options: Options) -> Vec<(GroupId, GroupType)> {
    actual
        .groups
        .values()
        .filter_map(|live| {
            let kind = live.group.group_type?;
            reads_members(Some(kind), options).then(|| (live.group.id.clone(), kind))
        })
        .collect()
}

/// The accounts of `members` holding `role`, sorted.
fn holding(members: &BTreeMap<CompactString, Role>, role: Role) -> Vec<CompactString> {
    members
        .iter()
        .filter(|(_, r)| **r == role)
        .map(|(account, _)| account.clone())
        .collect()
}

/// The manifest entry of a live group: [`manifest_group`], and its people as the module
/// header describes. A group whose member list was not read gets no people (unmanaged).
fn manifest_entry(live: &ActualGroup, options: Options) -> Entry {
    let mut group = manifest_group(&live.group, options.form);
    let kind = live.group.group_type;
    let members = live
        .members
        .as_ref()
        .filter(|_| reads_members(kind, options));
    let admins = members
        .filter(|_| kind != Some(GroupType::Private))
        .map(|m| holding(m, Role::Admin))
        .filter(|a| options.form == Form::Full || !a.is_empty());
    let plain = members
        .filter(|_| options.members)
        .map(|m| holding(m, Role::Member));
    if let Some(max) = group.max_members
        && people(&group, &admins, &plain) > max as usize
    {
        group.max_members = None;
    }
    Entry {
        group,
        admins,
        members_exclusive: plain.is_some(),
        members: plain,
    }
}

/// How many people validation counts: the owner, the admins and the members, when any list
/// is written.
fn people(
    group: &Group,
    admins: &Option<Vec<CompactString>>,
    members: &Option<Vec<CompactString>>,
) -> usize {
    let listed: std::collections::BTreeSet<&CompactString> =
        admins.iter().chain(members).flatten().collect();
    if listed.is_empty() {
        return 0;
    }
    let owner = group.owner.as_ref().filter(|o| !listed.contains(o));
    listed.len() + usize::from(owner.is_some())
}

/// The groups whose `max_members` the export leaves out because their people do not fit in
/// it (see the module header).
pub fn over_full(actual: &Actual, options: Options) -> Vec<GroupId> {
    actual
        .groups
        .values()
        .filter(|live| {
            live.group.max_members.is_some()
                && manifest_entry(live, options).group.max_members.is_none()
        })
        .map(|live| live.group.id.clone())
        .collect()
}

/// The text of a manifest file holding `groups`, in the given order.
fn file_text(groups: &[Entry]) -> String {
    let file = ManifestFile {
        groups: groups.iter().collect(),
    };
    let text = serde_yaml::to_string(&file).expect("groups serialize to YAML");
    format!("{SCHEMA_LINE}\n{}", commented(text))
}

/// `text` with [`EXCLUSIVE_COMMENT`] after each group's `members_exclusive: true`. A group's
/// keys are indented 2 spaces (the `groups` items are not indented) and the lines of a block
/// scalar further, so such a line is a key; the commented text is kept only if it reads back
/// as the same YAML, else none is.
fn commented(text: String) -> String {
    const KEY: &str = "  members_exclusive: true";
    if !text.contains(KEY) {
        return text;
    }
    let with: String = text
        .split_inclusive('\n')
        .map(|line| match line.strip_suffix('\n') {
            Some(KEY) => format!("{KEY}{EXCLUSIVE_COMMENT}\n"),
            _ => line.to_owned(),
        })
        .collect();
    let read = |t: &str| serde_yaml::from_str::<serde_yaml::Value>(t).ok();
    if read(&with).is_some() && read(&with) == read(&text) {
        with
    } else {
        text
    }
}

/// One YAML document holding every group, in id order.
pub fn render(actual: &Actual, options: Options) -> String {
    let groups: Vec<Entry> = actual
        .groups
        .values()
        .map(|live| manifest_entry(live, options))
        .collect();
    file_text(&groups)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::model::Custom;
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
        let text = render(&actual(vec![live]), Options::default());
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

    /// A live group of `kind` owned by alice, with this member list read.
    fn peopled(kind: GroupType, members: &[(&str, Role)]) -> ActualGroup {
        let mut group = Group::new("g");
        group.group_type = Some(kind);
        group.owner = Some("alice".into());
        group.max_members = Some(3);
        let mut list: BTreeMap<CompactString, Role> =
            members.iter().map(|(a, r)| ((*a).into(), *r)).collect();
        list.insert("alice".into(), Role::Owner);
        ActualGroup {
            group,
            info_seq: 1,
            member_num: list.len() as u32,
            roles: BTreeMap::new(),
            members: Some(list),
        }
    }

    const FULL: Options = Options {
        form: Form::Full,
        members: false,
    };
    const MEMBERS: Options = Options {
        form: Form::Full,
        members: true,
    };

    fn accounts(list: &[&str]) -> Option<Vec<CompactString>> {
        Some(list.iter().map(|a| (*a).into()).collect())
    }

    #[test]
    fn admins_are_written_sorted_without_the_owner_and_members_only_when_asked() {
        let live = peopled(
            GroupType::Public,
            &[
                ("zed", Role::Admin),
                ("bob", Role::Admin),
                ("carol", Role::Member),
            ],
        );
        let entry = manifest_entry(&live, FULL);
        assert_eq!(entry.admins, accounts(&["bob", "zed"]));
        assert_eq!((entry.members, entry.members_exclusive), (None, false));
        let entry = manifest_entry(&live, MEMBERS);
        assert_eq!(entry.admins, accounts(&["bob", "zed"]));
        assert_eq!(entry.members, accounts(&["carol"]));
        assert!(entry.members_exclusive);
        let none = peopled(GroupType::Community, &[("carol", Role::Member)]);
        assert_eq!(manifest_entry(&none, FULL).admins, accounts(&[]));
        let minimal = Options {
            form: Form::Minimal,
            members: true,
        };
        let entry = manifest_entry(&none, minimal);
        assert_eq!(
            entry.admins, None,
            "an empty admins is left out, as any empty field"
        );
        assert_eq!(entry.members, accounts(&["carol"]));
    }

    #[test]
    fn private_and_avchatroom_groups_get_no_admins() {
        let private = peopled(GroupType::Private, &[("bob", Role::Member)]);
        assert_eq!(manifest_entry(&private, FULL).admins, None);
        let entry = manifest_entry(&private, MEMBERS);
        assert_eq!((entry.admins, entry.members), (None, accounts(&["bob"])));
        let room = peopled(GroupType::AVChatRoom, &[("bob", Role::Member)]);
        let entry = manifest_entry(&room, MEMBERS);
        assert_eq!((entry.admins, entry.members), (None, None));
        assert!(!entry.members_exclusive);
        let mut groups = actual(vec![]);
        for (id, live) in [("p", private), ("r", room)] {
            let mut live = live;
            live.group.id = id.into();
            groups.groups.insert(id.into(), Box::new(live));
        }
        assert_eq!(member_lists(&groups, FULL), []);
        assert_eq!(
            member_lists(&groups, MEMBERS),
            [(GroupId::from("p"), GroupType::Private)]
        );
    }

    #[test]
    fn a_group_with_more_people_than_its_max_members_gets_no_max_members() {
        let fits = peopled(
            GroupType::Public,
            &[("bob", Role::Admin), ("carol", Role::Member)],
        );
        assert_eq!(manifest_entry(&fits, MEMBERS).group.max_members, Some(3));
        let over = peopled(
            GroupType::Public,
            &[
                ("bob", Role::Admin),
                ("carol", Role::Member),
                ("dave", Role::Member),
            ],
        );
        assert_eq!(manifest_entry(&over, FULL).group.max_members, Some(3));
        assert_eq!(manifest_entry(&over, MEMBERS).group.max_members, None);
        let mut groups = actual(vec![]);
        groups.groups.insert("g".into(), Box::new(over));
        assert_eq!(over_full(&groups, MEMBERS), [GroupId::from("g")]);
        assert_eq!(over_full(&groups, FULL), []);
    }

    #[test]
    fn members_exclusive_carries_a_comment_that_survives_a_look_alike_value() {
        let mut live = peopled(GroupType::Public, &[("bob", Role::Member)]);
        let tricky = "members_exclusive: true\n  members_exclusive: true\n";
        live.group.introduction = Some(tricky.into());
        live.group.notification = Some(format!("x\n{tricky}").into());
        let mut groups = actual(vec![]);
        groups.groups.insert("g".into(), Box::new(live));
        let text = render(&groups, MEMBERS);
        assert_eq!(text.matches(EXCLUSIVE_COMMENT).count(), 1, "{text}");
        #[derive(serde::Deserialize)]
        struct File {
            groups: Vec<serde_yaml::Value>,
        }
        let body: File = serde_yaml::from_str(&text).unwrap();
        let group = &body.groups[0];
        assert_eq!(group["introduction"].as_str(), Some(tricky));
        assert_eq!(
            group["notification"].as_str(),
            Some(&*format!("x\n{tricky}"))
        );
        assert_eq!(group["members_exclusive"].as_bool(), Some(true));
        assert_eq!(group["admins"], serde_yaml::Value::Sequence(vec![]));
    }

    #[test]
    fn values_with_control_characters_survive_yaml() {
        let mut live = Group::new("g");
        live.custom = Some(Custom::from([("k", "a\0b\n")]));
        let text = render(&actual(vec![live]), Options::default());
        #[derive(serde::Deserialize)]
        struct File {
            groups: Vec<Group>,
        }
        let body: File = serde_yaml::from_str(&text).unwrap();
        assert_eq!(&body.groups[0].custom.as_ref().unwrap()["k"], "a\0b\n");
        assert_eq!(body.groups[0].id, GroupId::from("g"));
    }
}
