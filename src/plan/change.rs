//! The plan as data: what each change does, with every changed field as an `(actual, desired)`
//! pair, the guards a saved plan is checked against, and the totals of the summary line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{ActualGroup, ApplyJoin, Group, GroupId, GroupType, Role};

use super::members::Membership;

/// A computed plan: the changes in apply order, what each touched group looked like when it was
/// read, and warnings for the reader.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// For every group a change touches: the state it was read in (saved-plan compare-and-swap).
    pub guards: BTreeMap<GroupId, Guard>,
    pub warnings: Vec<Warning>,
    /// How many declared groups in scope exist live: the base of `--max-update-percent`.
    #[serde(default)]
    pub existing_declared: usize,
    /// The ids the manifests mark `protect: true`, so that a saved plan is checked against
    /// them again when it is applied.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub protected: BTreeSet<GroupId>,
    /// The app and endpoint the plan was made against; set by the caller, not the planner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<PlanTarget>,
    /// A `--changed-only` plan: what it read and what it left unchecked; set by the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoped: Option<Scoped>,
}

/// What a `--changed-only` plan covered: every rendering says that drift of the other groups
/// was not checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scoped {
    /// Groups the change touches (declared differently, or removed from the baseline).
    pub changed: usize,
    /// Declared groups the change does not touch, not read: their drift was not checked.
    pub unchecked: usize,
    /// Whether the app's groups were listed for prune (the prune prefixes changed).
    pub listed: bool,
}

/// Where a plan was made: every rendering names it, so a plan against the emulator can never
/// pass for one against production.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTarget {
    pub sdkappid: u64,
    /// The region and domain, or the base URL; for the built-in emulator, its state file.
    pub endpoint: String,
    /// The built-in emulator that runs when no Tencent Cloud app is configured.
    pub builtin_emulator: bool,
    /// The region name (`singapore`), when the endpoint was given as a region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The base URL the requests went to; `None` for the built-in emulator, whose loopback
    /// port changes from run to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl fmt::Display for PlanTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.builtin_emulator {
            write!(
                f,
                "the built-in emulator (SDKAppID {}, {}), not Tencent Cloud: no app is configured",
                self.sdkappid, self.endpoint
            )
        } else {
            write!(f, "SDKAppID {} at {}", self.sdkappid, self.endpoint)
        }
    }
}

/// One change to one group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub id: GroupId,
    pub action: Action,
    /// With `--baseline`: whether the manifests under review cause this change or the live
    /// group had already drifted from the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// What a change does. The order of the variants is the apply order of the phases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Create(Create),
    Replace(Replace),
    Update(Update),
    /// Member adds, role changes and removals (`admins`, `members`). Runs after creates, so a
    /// new group has its owner, and before transfers, so a new owner is a member first.
    Members(Membership),
    Transfer(Transfer),
    Destroy(Destroy),
}

/// The phases of an apply, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Create,
    Update,
    Members,
    Transfer,
    Destroy,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Create,
        Phase::Update,
        Phase::Members,
        Phase::Transfer,
        Phase::Destroy,
    ];
}

impl Action {
    pub fn phase(&self) -> Phase {
        match self {
            Action::Create(_) | Action::Replace(_) => Phase::Create,
            Action::Update(_) => Phase::Update,
            Action::Members(_) => Phase::Members,
            Action::Transfer(_) => Phase::Transfer,
            Action::Destroy(_) => Phase::Destroy,
        }
    }

    /// The API commands this change calls, in order.
    pub fn commands(&self) -> Vec<&'static str> {
        match self {
            Action::Create(create) => create_commands(&create.desired),
            Action::Replace(replace) => {
                let mut commands = vec!["destroy_group"];
                commands.extend(create_commands(&replace.desired));
                commands
            }
            Action::Update(_) => vec!["modify_group_base_info"],
            Action::Members(members) => member_commands(members),
            Action::Transfer(transfer) => {
                let mut commands = vec!["change_group_owner"];
                commands.extend(transfer.after.iter().flat_map(member_commands));
                commands
            }
            Action::Destroy(_) => vec!["destroy_group"],
        }
    }
}

fn member_commands(members: &Membership) -> Vec<&'static str> {
    members.calls().iter().map(|call| call.command()).collect()
}

fn create_commands(desired: &Group) -> Vec<&'static str> {
    let mut commands = vec![create_command(desired)];
    if needs_modify_after_create(desired) {
        commands.push("modify_group_base_info");
    }
    commands
}

/// `import_group`, or `create_group` for the one type that cannot be imported.
pub fn create_command(desired: &Group) -> &'static str {
    match desired.group_type {
        Some(t) if !t.importable() => "create_group",
        _ => "import_group",
    }
}

/// Neither `import_group` nor `create_group` takes `MuteAllMember`, and a Community refuses
/// `ApplyJoinOption` at creation: a group that must start muted, or a Community with a join
/// option, gets a `modify_group_base_info` right after it is made.
pub fn needs_modify_after_create(desired: &Group) -> bool {
    desired.mute_all == Some(true) || apply_join_after_create(desired)
}

/// Whether the join option is set by the modify that follows creation (Community only).
pub fn apply_join_after_create(desired: &Group) -> bool {
    desired.group_type == Some(GroupType::Community) && desired.apply_join.is_some()
}

/// A group to make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Create {
    /// Every written field; `type` and `name` are always set.
    pub desired: Group,
}

/// A type change: destroy the group, then make it again. Members and history are lost; every
/// live value the manifest leaves unmanaged is carried over to the new group when its type
/// accepts it, and listed in `lost` when it does not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replace {
    pub actual_type: GroupType,
    pub member_num: u32,
    /// What the new group is made with: the manifest's fields, then the carried ones.
    pub desired: Group,
    /// The fields of `desired` taken from the live group, in manifest order. `Custom` carries
    /// the whole live map (the manifest does not write `custom`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carried: Vec<Field>,
    /// Live values the manifest leaves unmanaged that the new type refuses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost: Vec<Loss>,
}

/// A profile field, by its manifest name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Owner,
    Introduction,
    Notification,
    FaceUrl,
    MaxMembers,
    ApplyJoin,
    MuteAll,
    Custom,
    CreateTime,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Owner => "owner",
            Field::Introduction => "introduction",
            Field::Notification => "notification",
            Field::FaceUrl => "face_url",
            Field::MaxMembers => "max_members",
            Field::ApplyJoin => "apply_join",
            Field::MuteAll => "mute_all",
            Field::Custom => "custom",
            Field::CreateTime => "create_time",
        }
    }
}

/// A live value a replace cannot carry over because the new type refuses it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum Loss {
    /// Above the new type's member cap, or the new type (AVChatRoom) has none.
    MaxMembers { actual: u32 },
    /// The new type fixes its join option (Private: no applications; ChatRoom and AVChatRoom:
    /// free to join).
    ApplyJoin { actual: ApplyJoin },
    /// The new type (AVChatRoom) is made with `create_group`, which takes no `CreateTime`.
    CreateTime { actual: u64 },
}

impl Loss {
    pub fn field(&self) -> Field {
        match self {
            Loss::MaxMembers { .. } => Field::MaxMembers,
            Loss::ApplyJoin { .. } => Field::ApplyJoin,
            Loss::CreateTime { .. } => Field::CreateTime,
        }
    }

    /// Why a group of `new_type` cannot have the value, in words.
    pub fn why(&self, new_type: GroupType) -> String {
        let a = match new_type {
            GroupType::AVChatRoom => "an",
            _ => "a",
        };
        match self {
            Loss::MaxMembers { .. } => match new_type.member_cap() {
                None => format!("{a} {new_type} group has no member cap"),
                Some(cap) => format!("above {a} {new_type} group's cap of {cap}"),
            },
            Loss::ApplyJoin { .. } => match new_type {
                GroupType::Private => format!("{a} {new_type} group takes no join applications"),
                _ => format!("{a} {new_type} group is free to join; its join option is not set"),
            },
            Loss::CreateTime { .. } => {
                format!("{a} {new_type} group is made with create_group, which takes no CreateTime")
            }
        }
    }
}

/// Whether a group of this type can be made with, or given, its own join option: the types
/// with join applications (reference §4.3; the others fix it, and the REST API's answer to a
/// value for them is undocumented).
pub fn takes_apply_join(group_type: GroupType) -> bool {
    matches!(group_type, GroupType::Public | GroupType::Community)
}

/// A field's value before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff<T> {
    pub actual: Option<T>,
    pub desired: T,
    /// With `--baseline`: whether this field's change is the review's or drift. An update's
    /// fields are labelled one by one, since one group can have both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

impl<T> Diff<T> {
    /// An unlabelled change from `actual` to `desired`.
    pub fn new(actual: Option<T>, desired: T) -> Diff<T> {
        Diff {
            actual,
            desired,
            origin: None,
        }
    }
}

/// A custom (AppDefinedData) key whose value changes. `desired: None` deletes the key (sent
/// with an empty value); `actual: None` adds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomDiff {
    pub key: String,
    pub actual: Option<String>,
    pub desired: Option<String>,
    /// As [`Diff::origin`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// Profile fields to change with `modify_group_base_info`; only the changed ones are set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Diff<CompactString>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduction: Option<Diff<CompactString>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<Diff<CompactString>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_url: Option<Diff<CompactString>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<Diff<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_join: Option<Diff<ApplyJoin>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute_all: Option<Diff<bool>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom: Vec<CustomDiff>,
}

impl Update {
    pub fn is_empty(&self) -> bool {
        let Update {
            name,
            introduction,
            notification,
            face_url,
            max_members,
            apply_join,
            mute_all,
            custom,
        } = self;
        name.is_none()
            && introduction.is_none()
            && notification.is_none()
            && face_url.is_none()
            && max_members.is_none()
            && apply_join.is_none()
            && mute_all.is_none()
            && custom.is_empty()
    }

    /// The changed fields by their manifest names, a custom key as `custom.KEY`: what the
    /// reconcile record names.
    pub fn field_names(&self) -> Vec<String> {
        let Update {
            name,
            introduction,
            notification,
            face_url,
            max_members,
            apply_join,
            mute_all,
            custom,
        } = self;
        let mut names: Vec<String> = [
            name.is_some().then_some("name"),
            introduction.is_some().then_some("introduction"),
            notification.is_some().then_some("notification"),
            face_url.is_some().then_some("face_url"),
            max_members.is_some().then_some("max_members"),
            apply_join.is_some().then_some("apply_join"),
            mute_all.is_some().then_some("mute_all"),
        ]
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .collect();
        names.extend(custom.iter().map(|c| format!("custom.{}", c.key)));
        names
    }

    /// The origins of the changed fields, each once, "this change" first. An unlabelled field
    /// counts as "this change".
    pub fn origins(&self) -> Vec<Origin> {
        let mut found = [false, false];
        self.for_each_origin(|origin| found[origin as usize] = true);
        [Origin::ThisChange, Origin::Drift]
            .into_iter()
            .filter(|origin| found[*origin as usize])
            .collect()
    }

    /// The fields labelled `origin` (unlabelled ones count as "this change"), the others left
    /// out: the part of a split update that one section of a plan shows.
    pub fn part(&self, origin: Origin) -> Update {
        fn keep<T: Clone>(diff: &Option<Diff<T>>, origin: Origin) -> Option<Diff<T>> {
            diff.clone()
                .filter(|d| d.origin.unwrap_or(Origin::ThisChange) == origin)
        }
        let Update {
            name,
            introduction,
            notification,
            face_url,
            max_members,
            apply_join,
            mute_all,
            custom,
        } = self;
        Update {
            name: keep(name, origin),
            introduction: keep(introduction, origin),
            notification: keep(notification, origin),
            face_url: keep(face_url, origin),
            max_members: keep(max_members, origin),
            apply_join: keep(apply_join, origin),
            mute_all: keep(mute_all, origin),
            custom: custom
                .iter()
                .filter(|c| c.origin.unwrap_or(Origin::ThisChange) == origin)
                .cloned()
                .collect(),
        }
    }

    fn for_each_origin(&self, mut f: impl FnMut(Origin)) {
        let Update {
            name,
            introduction,
            notification,
            face_url,
            max_members,
            apply_join,
            mute_all,
            custom,
        } = self;
        let label = |o: Option<Origin>| o.unwrap_or(Origin::ThisChange);
        for origin in [
            name.as_ref().map(|d| d.origin),
            introduction.as_ref().map(|d| d.origin),
            notification.as_ref().map(|d| d.origin),
            face_url.as_ref().map(|d| d.origin),
            max_members.as_ref().map(|d| d.origin),
            apply_join.as_ref().map(|d| d.origin),
            mute_all.as_ref().map(|d| d.origin),
        ]
        .into_iter()
        .flatten()
        {
            f(label(origin));
        }
        for diff in custom {
            f(label(diff.origin));
        }
    }

    /// Labels each changed field: drift when `baseline` (the update the baseline manifests give
    /// for the same live group) makes the same change, "this change" otherwise.
    fn label_fields(&mut self, baseline: Option<&Update>) {
        fn label<T: PartialEq>(diff: &mut Option<Diff<T>>, base: Option<&Option<Diff<T>>>) {
            if let Some(diff) = diff {
                let same = base
                    .and_then(Option::as_ref)
                    .is_some_and(|base| base.actual == diff.actual && base.desired == diff.desired);
                diff.origin = Some(if same {
                    Origin::Drift
                } else {
                    Origin::ThisChange
                });
            }
        }
        let Update {
            name,
            introduction,
            notification,
            face_url,
            max_members,
            apply_join,
            mute_all,
            custom,
        } = self;
        label(name, baseline.map(|b| &b.name));
        label(introduction, baseline.map(|b| &b.introduction));
        label(notification, baseline.map(|b| &b.notification));
        label(face_url, baseline.map(|b| &b.face_url));
        label(max_members, baseline.map(|b| &b.max_members));
        label(apply_join, baseline.map(|b| &b.apply_join));
        label(mute_all, baseline.map(|b| &b.mute_all));
        for diff in custom {
            let same = baseline.is_some_and(|b| {
                b.custom.iter().any(|base| {
                    base.key == diff.key
                        && base.actual == diff.actual
                        && base.desired == diff.desired
                })
            });
            diff.origin = Some(if same {
                Origin::Drift
            } else {
                Origin::ThisChange
            });
        }
    }
}

/// An ownership transfer (`change_group_owner`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub actual: Option<CompactString>,
    pub desired: CompactString,
    /// What the old owner, an ordinary member once the transfer is made, needs where the
    /// manifest manages people: promoted (listed in `admins`) or removed (an exclusive member
    /// list leaves it out). Made right after `change_group_owner`, as part of this change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Membership>,
}

/// A group to disband.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destroy {
    pub group_type: GroupType,
    pub member_num: u32,
    pub reason: DestroyReason,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DestroyReason {
    /// The manifest says `ensure: absent`.
    Absent,
    /// Undeclared, under a prune prefix.
    Pruned { prefix: String },
}

/// Whether a change comes from the manifests under review or from drift (`--baseline`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    ThisChange = 0,
    Drift = 1,
}

/// What a group looked like when the plan read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Guard {
    /// The group did not exist.
    Absent,
    /// The group existed with this `InfoSeq`, member count and profile.
    Present {
        info_seq: u64,
        /// Members do not move `InfoSeq`; a destroy is checked against this count too.
        member_num: u32,
        /// SHA-256 over the whole profile: equal fingerprints, equal fields.
        fingerprint: String,
        /// A short digest per field (`name`, `custom.team`, …), only to say which fields
        /// changed when the fingerprint differs.
        fields: BTreeMap<String, String>,
        /// SHA-256 over the member list and roles, where the plan read it (the manifest
        /// manages people): a saved plan's member changes are made only while it is equal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        members: Option<String>,
    },
}

impl Guard {
    pub fn of(actual: Option<&ActualGroup>) -> Guard {
        match actual {
            None => Guard::Absent,
            Some(actual) => Guard::Present {
                info_seq: actual.info_seq,
                member_num: actual.member_num,
                fingerprint: fingerprint(&actual.group),
                fields: field_digests(&actual.group),
                members: actual.members.as_ref().map(member_fingerprint),
            },
        }
    }

    /// The fields whose digests differ between two guards of one group, by manifest name.
    pub fn changed_fields(&self, other: &Guard) -> Vec<String> {
        let empty = BTreeMap::new();
        let fields = |guard: &Guard| match guard {
            Guard::Present { fields, .. } => fields.clone(),
            Guard::Absent => empty.clone(),
        };
        let (a, b) = (fields(self), fields(other));
        let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        names
            .into_iter()
            .filter(|name| a.get(*name) != b.get(*name))
            .cloned()
            .collect()
    }
}

/// SHA-256 over the canonical JSON of a profile: equal fingerprints, equal fields.
pub fn fingerprint(group: &Group) -> String {
    let json = serde_json::to_vec(group).expect("a profile serializes");
    hex(&Sha256::digest(json))
}

/// SHA-256 over every member and its role, in account order.
pub fn member_fingerprint(members: &BTreeMap<CompactString, Role>) -> String {
    let json = serde_json::to_vec(members).expect("a member list serializes");
    hex(&Sha256::digest(json))
}

/// Eight hex digits of SHA-256 per profile field, custom keys one by one.
fn field_digests(group: &Group) -> BTreeMap<String, String> {
    let Group {
        id: _,
        group_type,
        name,
        owner,
        introduction,
        notification,
        face_url,
        max_members,
        apply_join,
        mute_all,
        custom,
        create_time,
    } = group;
    fn digest(value: &impl Serialize) -> String {
        let json = serde_json::to_vec(value).expect("a field serializes");
        hex(&Sha256::digest(json)[..4])
    }
    let mut fields = BTreeMap::new();
    let mut put = |name: &str, value: String| {
        fields.insert(name.to_owned(), value);
    };
    put("type", digest(group_type));
    put("name", digest(name));
    put("owner", digest(owner));
    put("introduction", digest(introduction));
    put("notification", digest(notification));
    put("face_url", digest(face_url));
    put("max_members", digest(max_members));
    put("apply_join", digest(apply_join));
    put("mute_all", digest(mute_all));
    put("create_time", digest(create_time));
    for (key, value) in custom.iter().flatten() {
        put(&format!("custom.{key}"), digest(&value));
    }
    fields
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Something the reader of a plan should know that does not stop it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// An AVChatRoom cannot be imported; it is made with `create_group` (no `CreateTime`,
    /// webhooks fire).
    CreatedNotImported { id: GroupId },
    /// A replace loses the group's members and message history.
    ReplaceLosesHistory { id: GroupId, member_num: u32 },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::CreatedNotImported { id } => write!(
                f,
                "group {id:?} is an AVChatRoom, which cannot be imported: it will be made with create_group"
            ),
            Warning::ReplaceLosesHistory { id, member_num } => write!(
                f,
                "group {id:?} will be destroyed and made again: its {member_num} members and its message history are lost"
            ),
        }
    }
}

/// Totals for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub replace: usize,
    pub update: usize,
    pub transfer: usize,
    pub destroy: usize,
    /// Members of the destroyed (and replaced) groups, all together.
    pub destroyed_members: u64,
    /// API calls the apply will make, read-backs not counted.
    pub api_calls: usize,
    /// Groups whose members or admins change.
    pub members: usize,
    /// The people those changes affect, all groups together.
    pub people: PeopleCounts,
}

/// How many people a plan's member changes touch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleCounts {
    pub added: usize,
    pub removed: usize,
    pub promoted: usize,
    pub demoted: usize,
    /// Members who get a group notice of an add or a removal (`members_silent` off).
    pub notified: u64,
}

impl PeopleCounts {
    fn count(&mut self, members: &Membership) {
        self.added += members.add.len();
        self.removed += members.remove.len();
        self.promoted += members.promoted();
        self.demoted += members.demoted();
        self.notified += u64::from(members.notify);
    }

    pub fn is_empty(&self) -> bool {
        self.added + self.removed + self.promoted + self.demoted == 0
    }

    /// Role changes, promotions and demotions together.
    pub fn role_changes(&self) -> usize {
        self.promoted + self.demoted
    }
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            summary.api_calls += change.action.commands().len();
            match &change.action {
                Action::Create(_) => summary.create += 1,
                Action::Replace(replace) => {
                    summary.replace += 1;
                    summary.destroyed_members += u64::from(replace.member_num);
                }
                Action::Update(_) => summary.update += 1,
                Action::Members(members) => {
                    summary.members += 1;
                    summary.people.count(members);
                }
                Action::Transfer(transfer) => {
                    summary.transfer += 1;
                    if let Some(after) = &transfer.after {
                        summary.people.count(after);
                    }
                }
                Action::Destroy(destroy) => {
                    summary.destroy += 1;
                    summary.destroyed_members += u64::from(destroy.member_num);
                }
            }
        }
        summary
    }

    /// Labels each change "this change" or "drift" against the plan the baseline manifests give
    /// for the same live state: a change the baseline would make identically is drift (live
    /// already differed from the baseline); anything the manifests under review alter, even in
    /// part, is "this change".
    ///
    /// An update is labelled field by field, each field against the baseline's update of the
    /// same group: an update with fields of both kinds is "this change" as a whole (the
    /// review causes it) and is shown split, each part in its own section. It is still one
    /// change and one `modify_group_base_info` call.
    pub fn label_origins(&mut self, baseline: &Plan) {
        for change in &mut self.changes {
            if let Action::Update(update) = &mut change.action {
                let base = baseline.changes.iter().find_map(|base| match &base.action {
                    Action::Update(base_update) if base.id == change.id => Some(base_update),
                    _ => None,
                });
                update.label_fields(base);
                change.origin = Some(
                    update
                        .origins()
                        .first()
                        .copied()
                        .unwrap_or(Origin::ThisChange),
                );
                continue;
            }
            let drift = baseline
                .changes
                .iter()
                .any(|base| base.id == change.id && base.action == change.action);
            change.origin = Some(if drift {
                Origin::Drift
            } else {
                Origin::ThisChange
            });
        }
    }
}
