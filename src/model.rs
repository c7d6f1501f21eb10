//! The vocabulary shared by every stage of the flow: manifests → `Desired`, API → `Actual`,
//! `(Desired, Actual)` → `Plan`.
//!
//! [`Group`] is the one profile type used on both sides, so the diff in `plan.rs` is symmetric:
//! in a desired group `None` means "unmanaged, leave it alone"; in an actual group `None` means the
//! service did not report the field (an ownerless group has `owner: None`). What only one side
//! knows lives beside the profile: the manifest's `ensure`/`protect`/source location in
//! [`DesiredGroup`], the service's `InfoSeq`, member count and member roles in [`ActualGroup`].
//!
//! Nothing here does I/O.

mod custom;
mod join;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use compact_str::CompactString;
pub use custom::Custom;
pub use join::{Pair, side_by_side};

/// A GroupId, the identity of a group. Validation of its shape lives in `manifest::validate`.
///
/// Held in place, without a heap allocation, up to 24 bytes: most ids, which every group holds
/// twice (as its map key and in its profile) on both sides of a plan.
#[derive(
    Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct GroupId(#[schemars(with = "String")] pub CompactString);

/// Shows the id as a quoted string, the way messages quote it: `group "eng"`.
impl fmt::Debug for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl GroupId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for GroupId {
    fn from(s: &str) -> Self {
        GroupId(s.into())
    }
}

impl From<String> for GroupId {
    fn from(s: String) -> Self {
        GroupId(s.into())
    }
}

/// The REST API's group types (legacy names: Private = Work, ChatRoom = Meeting).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum GroupType {
    Private,
    Public,
    ChatRoom,
    AVChatRoom,
    Community,
}

impl GroupType {
    pub const ALL: [GroupType; 5] = [
        GroupType::Private,
        GroupType::Public,
        GroupType::ChatRoom,
        GroupType::AVChatRoom,
        GroupType::Community,
    ];

    /// The wire name, also the manifest name.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::Private => "Private",
            GroupType::Public => "Public",
            GroupType::ChatRoom => "ChatRoom",
            GroupType::AVChatRoom => "AVChatRoom",
            GroupType::Community => "Community",
        }
    }

    pub fn parse(s: &str) -> Option<GroupType> {
        GroupType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// `import_group` refuses AVChatRoom (10007); such groups are made with `create_group`.
    pub fn importable(self) -> bool {
        self != GroupType::AVChatRoom
    }

    /// `change_group_owner` refuses AVChatRoom (10007).
    pub fn transferable(self) -> bool {
        self != GroupType::AVChatRoom
    }

    /// Largest `MaxMemberCount`/`MaxMemberNum` the type accepts (AVChatRoom: unlimited).
    pub fn member_cap(self) -> Option<u32> {
        match self {
            GroupType::Community => Some(100_000),
            GroupType::AVChatRoom => None,
            _ => Some(6_000),
        }
    }
}

impl fmt::Display for GroupType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `ApplyJoinOption`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum ApplyJoin {
    FreeAccess,
    NeedPermission,
    DisableApply,
}

impl ApplyJoin {
    pub const ALL: [ApplyJoin; 3] = [
        ApplyJoin::FreeAccess,
        ApplyJoin::NeedPermission,
        ApplyJoin::DisableApply,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApplyJoin::FreeAccess => "FreeAccess",
            ApplyJoin::NeedPermission => "NeedPermission",
            ApplyJoin::DisableApply => "DisableApply",
        }
    }

    pub fn parse(s: &str) -> Option<ApplyJoin> {
        ApplyJoin::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for ApplyJoin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A group's profile: the same type for desired and actual (see the module header).
///
/// `custom` maps AppDefinedData keys to values; values may hold any character, `\0` included.
/// When a desired group writes `custom`, the map is the whole set of managed keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub group_type: Option<GroupType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduction: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_url: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_join: Option<ApplyJoin>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute_all: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Custom>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<u64>,
}

impl Group {
    pub fn new(id: impl Into<CompactString>) -> Group {
        Group {
            id: GroupId(id.into()),
            ..Group::default()
        }
    }
}

/// Whether the manifest wants the group to exist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ensure {
    #[default]
    Present,
    Absent,
}

/// Where in the user's files a thing was declared, for error messages and plan output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Shared by every group of the file.
    pub file: Arc<Path>,
    /// 1-based line of the group's entry, where the parser gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl Default for Source {
    fn default() -> Source {
        Source {
            file: Arc::from(Path::new("")),
            line: None,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}", self.file.display(), line),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// Who the manifest says belongs to a group and who moderates it (`admins`, `members`,
/// `members_exclusive`, `members_silent`). `None` = not written, so not managed.
///
/// Admins are members: an account in `admins` need not be repeated in `members`. The owner is a
/// member whatever the lists say, and is never removed or demoted through them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct People {
    /// Written: exactly these accounts hold the Admin role (the owner, listed here, keeps Owner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admins: Option<BTreeSet<CompactString>>,
    /// Written: these accounts must be members (added when missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<BTreeSet<CompactString>>,
    /// Members that are not listed, not admins and not the owner are removed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive: bool,
    /// Adds and removals are sent with `Silence: 1` (no group notice).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
}

impl People {
    fn is_default(&self) -> bool {
        *self == People::default()
    }

    /// Whether the member list must be read: `admins` or `members` is written.
    pub fn managed(&self) -> bool {
        self.admins.is_some() || self.members.is_some()
    }
}

/// One group as the manifests declare it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredGroup {
    pub group: Group,
    pub ensure: Ensure,
    pub protect: bool,
    pub source: Source,
    #[serde(default, skip_serializing_if = "People::is_default")]
    pub people: People,
}

/// The resolved manifests: every declared group, and the prune scope.
///
/// Groups are behind pointers here and in [`Actual`]: a `BTreeMap` built in one pass from a
/// sorted list first gathers its pairs in a vector, and with pointers that vector (and the
/// map's nodes) hold 8 bytes rather than 240-byte groups, which at 100,000 groups is the
/// difference between a transient copy of 25 MB and one of 1 MB. Here they are shared
/// pointers, so that a pull request's baseline holds the head's groups of every file it has
/// unchanged without copying them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desired {
    pub groups: BTreeMap<GroupId, Arc<DesiredGroup>>,
    /// Live groups whose id starts with one of these and that no manifest declares are
    /// destroyed. Empty: prune is off.
    pub prune_prefixes: BTreeSet<String>,
}

impl Desired {
    /// The prune prefix `id` starts with, if any.
    pub fn prune_prefix(&self, id: &GroupId) -> Option<&String> {
        self.prune_prefixes
            .iter()
            .find(|prefix| id.as_str().starts_with(prefix.as_str()))
    }

    /// Whether `id` is under a prune prefix.
    pub fn prunes(&self, id: &GroupId) -> bool {
        self.prune_prefix(id).is_some()
    }
}

/// A member's role, as `get_role_in_group` answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    Owner,
    Admin,
    Member,
    NotMember,
}

/// One group as the service reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActualGroup {
    /// Every field the service reported; `group_type` is always `Some`.
    pub group: Group,
    /// `InfoSeq`: grows on every profile change. The compare-and-swap token of saved plans.
    pub info_seq: u64,
    /// `MemberNum`.
    pub member_num: u32,
    /// Roles of the accounts the reader was asked about (desired owners that differ from the
    /// actual one), from `get_role_in_group`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, Role>,
    /// Every member and its role, from `get_group_member_info`; read only for groups whose
    /// manifest writes `admins` or `members`. `None`: not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<BTreeMap<CompactString, Role>>,
}

/// The live groups that were read: the declared ones that exist, plus (when prune is on or on
/// export) the listed ones. Groups are boxed for the reason given at [`Desired`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actual {
    pub groups: BTreeMap<GroupId, Box<ActualGroup>>,
    /// Accounts the plan relies on, as `account_check` answered: imported or not. An account
    /// not in the map was not asked about.
    pub accounts: BTreeMap<String, bool>,
}
