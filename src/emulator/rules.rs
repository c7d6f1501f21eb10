//! The service's field rules: what each group type allows, the GroupId grammar, byte limits,
//! enum values and custom-field syntax (reference §3, §4).
//!
//! Every check answers with the service's code and an `ErrorInfo` that names the offending
//! field, so a client test can tell which rule it broke. The commands call these before they
//! touch the store; seeding calls them too, so a seeded group is one the service could hold.
//!
//! Choices where the reference is unsure (listed in the module docs of `emulator`):
//! - The byte limits are the REST docs' 30/240/300/100, not the newer SDK docs' 100/400/400/500.
//! - Only the legacy REST type names are accepted (`Work`/`Meeting` are refused with 10004).
//! - `ApplyJoinOption` is stored as given for every type (the docs only say it "takes effect"
//!   for types that accept applications), except that a Community refuses it at import.

use serde::{Deserialize, Serialize};

/// A refusal: the service's error code and the `ErrorInfo` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reject {
    pub code: i64,
    pub info: String,
}

impl Reject {
    pub fn new(code: i64, info: impl Into<String>) -> Reject {
        Reject {
            code,
            info: info.into(),
        }
    }

    /// 10004, invalid parameter.
    pub fn param(info: impl Into<String>) -> Reject {
        Reject::new(codes::INVALID_PARAMETER, info)
    }
}

/// The error codes the emulator answers with (reference §1.4, §1.5).
pub mod codes {
    pub const INTERNAL: i64 = 10002;
    pub const BAD_COMMAND: i64 = 10003;
    pub const INVALID_PARAMETER: i64 = 10004;
    pub const TOO_MANY_ACCOUNTS: i64 = 10005;
    pub const FREQUENCY_LIMITED: i64 = 10006;
    pub const NOT_ALLOWED: i64 = 10007;
    pub const GROUP_NOT_FOUND: i64 = 10010;
    pub const GROUP_FULL: i64 = 10014;
    pub const INVALID_GROUP_ID: i64 = 10015;
    pub const RESPONSE_TOO_LARGE: i64 = 10018;
    /// "请求的用户帐号不存在": an account field names an account that was never imported
    /// (`增加群组成员.md` and the group table of `11错误码.md`, qcloud-documents).
    pub const ACCOUNT_NOT_FOUND: i64 = 10019;
    pub const GROUP_ID_IN_USE: i64 = 10021;
    pub const HTTP_PARSE: i64 = 60002;
    pub const BAD_JSON: i64 = 60003;
    pub const SDKAPPID_INVALID: i64 = 60006;
    pub const API_FREQUENCY: i64 = 60007;
    pub const MALFORMED_REQUEST: i64 = 60008;
    pub const BAD_RESOURCE: i64 = 60009;
    pub const NOT_ADMIN: i64 = 60010;
    pub const SDKAPPID_MISSING: i64 = 60012;
    pub const ACCOUNT_NOT_STRING: i64 = 60015;
    pub const SDKAPPID_NOT_FOUND: i64 = 70020;
    /// The account service's own codes (`账号管理/*.md`, `11错误码.md` 帐号错误码).
    pub const USER_NOT_FOUND: i64 = 70107;
    pub const BATCH_COUNT: i64 = 70206;
    pub const ACCOUNT_PARAMETER: i64 = 70402;
}

/// Name, Introduction, Notification, FaceUrl: bytes of UTF-8 (reference §4.5, REST docs).
pub const NAME_MAX: usize = 30;
pub const INTRODUCTION_MAX: usize = 240;
pub const NOTIFICATION_MAX: usize = 300;
pub const FACE_URL_MAX: usize = 100;
/// Custom group field key and value (reference §4.6).
pub const CUSTOM_KEY_MAX: usize = 16;
pub const CUSTOM_VALUE_MAX: usize = 512;
/// Group custom fields one group may hold: "群组维度最多支持10个字段" (`群组系统.md`; the
/// console guide says 5, reference §4.6).
pub const GROUP_CUSTOM_FIELDS_MAX: usize = 10;
/// A UserID: "长度不超过32字节" (`导入单个帐号.md`, `导入多个帐号.md`).
pub const USER_ID_MAX: usize = 32;
/// Accounts per multiaccount_import / account_check / account_delete call ("单次最多…100个").
pub const ACCOUNT_BATCH_MAX: usize = 100;
/// Custom GroupId (reference §4.4).
pub const GROUP_ID_MAX: usize = 48;
/// Per-request list sizes (reference §3).
pub const CREATE_MEMBERS_MAX: usize = 100;
pub const ADD_MEMBERS_MAX: usize = 300;
pub const DELETE_MEMBERS_MAX: usize = 100;
pub const ROLE_ACCOUNTS_MAX: usize = 500;
pub const GROUP_INFO_IDS_MAX: usize = 50;
pub const LIST_LIMIT_MAX: u64 = 10_000;
/// `MaxMemberCount` when import_group leaves it out, for every type it imports:
/// "最大群成员数量，最大为6000，不填默认为2000个" (`群组管理/导入群基础资料.md`, qcloud-documents).
pub const IMPORT_MAX_MEMBERS_DEFAULT: u64 = 2_000;
/// Group-member custom fields (`AppMemberDefinedData`): values of at most 64 bytes, at most 5
/// fields per member (`群组系统.md`, `功能配置.md`; reference §4.6).
pub const MEMBER_CUSTOM_VALUE_MAX: usize = 64;
pub const MEMBER_CUSTOM_FIELDS_MAX: usize = 5;
pub const MEMBER_PAGE_MAX: u64 = 6_000;
/// `NameCard`: "群名片（最大不超过50个字节）" (`群组管理/修改群成员资料.md`).
pub const NAME_CARD_MAX: usize = 50;

/// The REST API's group types, legacy names (reference §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GroupType {
    Private,
    Public,
    ChatRoom,
    AVChatRoom,
    Community,
}

impl GroupType {
    const ALL: [GroupType; 5] = [
        GroupType::Private,
        GroupType::Public,
        GroupType::ChatRoom,
        GroupType::AVChatRoom,
        GroupType::Community,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::Private => "Private",
            GroupType::Public => "Public",
            GroupType::ChatRoom => "ChatRoom",
            GroupType::AVChatRoom => "AVChatRoom",
            GroupType::Community => "Community",
        }
    }

    pub(crate) fn parse(field: &str, value: &str) -> Result<GroupType, Reject> {
        GroupType::ALL
            .into_iter()
            .find(|t| t.as_str() == value)
            .ok_or_else(|| {
                Reject::param(format!(
                    "{field}: {value:?} is not one of Private, Public, ChatRoom, AVChatRoom, Community"
                ))
            })
    }

    /// AVChatRoom keeps no member list: no import, no owner transfer, no added members.
    pub fn keeps_members(self) -> bool {
        self != GroupType::AVChatRoom
    }

    /// The highest `MaxMemberCount`/`MaxMemberNum` accepted; `None` = not capped (AVChatRoom,
    /// whose value is ignored and reported as 0).
    pub fn member_cap(self) -> Option<u64> {
        match self {
            GroupType::AVChatRoom => None,
            GroupType::Community => Some(100_000),
            _ => Some(6_000),
        }
    }

    /// `MaxMemberCount` when create_group leaves it out: the older create doc's per-type
    /// defaults (reference §3.1), Community at its cap. import_group has its own default,
    /// [`IMPORT_MAX_MEMBERS_DEFAULT`].
    pub fn default_max_members(self) -> u64 {
        match self {
            GroupType::Private => 200,
            GroupType::Public => 2_000,
            GroupType::ChatRoom => 6_000,
            GroupType::AVChatRoom => 0,
            GroupType::Community => 100_000,
        }
    }

    /// Whether a member may be made `Admin`: the group-system page's member-management table,
    /// "是否支持设置管理员": Work (Private) 不支持, Public and Meeting (ChatRoom) 支持, AVChatRoom
    /// 不支持 (`1产品简介/群组系统/群组系统.md`). Community, newer than that table, has admins
    /// in the newer docs and the modify page lists it as supported.
    pub fn allows_admins(self) -> bool {
        matches!(
            self,
            GroupType::Public | GroupType::ChatRoom | GroupType::Community
        )
    }

    /// Whether members can be muted: "Private 群（同新版本中的 Work（好友工作群））不支持禁言
    /// 群用户" (`群组管理/修改群成员资料.md`); AVChatRoom keeps no member profiles at all.
    pub fn allows_member_mute(self) -> bool {
        !matches!(self, GroupType::Private | GroupType::AVChatRoom)
    }

    /// Whether adding or removing members sends the group a system notification when not
    /// `Silence`: the group-system table "是否支持成员变更通知" says Work, Public and AVChatRoom
    /// yes, Meeting (ChatRoom) no (`群组系统.md`); Community, not in that table, is taken as
    /// yes. A Private group notifies only once activated by a first message
    /// (`增加群组成员.md`), and the emulator carries no messages, so its Private groups never do.
    pub fn notifies_member_changes(self) -> bool {
        matches!(
            self,
            GroupType::Public | GroupType::AVChatRoom | GroupType::Community
        )
    }

    /// Communities join freely; the others default to `NeedPermission` (reference §4.3).
    pub fn default_apply_join(self) -> ApplyJoin {
        match self {
            GroupType::Community => ApplyJoin::FreeAccess,
            _ => ApplyJoin::NeedPermission,
        }
    }
}

/// `ApplyJoinOption` (reference §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApplyJoin {
    FreeAccess,
    NeedPermission,
    DisableApply,
}

impl ApplyJoin {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplyJoin::FreeAccess => "FreeAccess",
            ApplyJoin::NeedPermission => "NeedPermission",
            ApplyJoin::DisableApply => "DisableApply",
        }
    }

    pub(crate) fn parse(value: &str) -> Result<ApplyJoin, Reject> {
        [
            ApplyJoin::FreeAccess,
            ApplyJoin::NeedPermission,
            ApplyJoin::DisableApply,
        ]
        .into_iter()
        .find(|o| o.as_str() == value)
        .ok_or_else(|| {
            Reject::param(format!(
                "ApplyJoinOption: {value:?} is not one of FreeAccess, NeedPermission, DisableApply"
            ))
        })
    }
}

/// A member's role (reference §4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Member => "Member",
        }
    }

    pub(crate) fn parse(field: &str, value: &str) -> Result<Role, Reject> {
        [Role::Owner, Role::Admin, Role::Member]
            .into_iter()
            .find(|r| r.as_str() == value)
            .ok_or_else(|| {
                Reject::param(format!(
                    "{field}: {value:?} is not one of Owner, Admin, Member"
                ))
            })
    }
}

/// A member's `MsgFlag`: "AcceptAndNotify 代表接收并提示消息，Discard 代表不接收也不提示消息，
/// AcceptNotNotify 代表接收消息但不提示" (`群组管理/修改群成员资料.md`); a new member has
/// `AcceptAndNotify`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MsgFlag {
    #[default]
    AcceptAndNotify,
    AcceptNotNotify,
    Discard,
}

impl MsgFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            MsgFlag::AcceptAndNotify => "AcceptAndNotify",
            MsgFlag::AcceptNotNotify => "AcceptNotNotify",
            MsgFlag::Discard => "Discard",
        }
    }

    pub fn is_default(&self) -> bool {
        *self == MsgFlag::AcceptAndNotify
    }

    pub(crate) fn parse(field: &str, value: &str) -> Result<MsgFlag, Reject> {
        [
            MsgFlag::AcceptAndNotify,
            MsgFlag::AcceptNotNotify,
            MsgFlag::Discard,
        ]
        .into_iter()
        .find(|f| f.as_str() == value)
        .ok_or_else(|| {
            Reject::param(format!(
                "{field}: {value:?} is not one of AcceptAndNotify, AcceptNotNotify, Discard"
            ))
        })
    }
}

/// `"On"`/`"Off"` of `MuteAllMember` / `ShutUpAllMember`.
pub fn parse_switch(field: &str, value: &str) -> Result<bool, Reject> {
    match value {
        "On" => Ok(true),
        "Off" => Ok(false),
        other => Err(Reject::param(format!(
            "{field}: {other:?} is neither \"On\" nor \"Off\""
        ))),
    }
}

pub fn switch(on: bool) -> &'static str {
    if on { "On" } else { "Off" }
}

/// A byte limit counted in UTF-8 bytes.
pub fn check_len(field: &str, value: &str, max: usize) -> Result<(), Reject> {
    if value.len() > max {
        return Err(Reject::param(format!(
            "{field} is {} bytes, more than the {max} allowed (UTF-8 bytes)",
            value.len()
        )));
    }
    Ok(())
}

/// Printable ASCII (space included), at most 48 bytes: the shape any GroupId has.
pub fn is_well_formed_group_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= GROUP_ID_MAX && id.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// The rules for a GroupId a caller chooses (reference §4.4). With `server_style_allowed`
/// (seeding), IDs shaped like server-assigned ones are accepted too.
pub fn check_group_id(id: &str, kind: GroupType, server_style_allowed: bool) -> Result<(), Reject> {
    if id.is_empty() {
        return Err(Reject::param("GroupId must not be empty"));
    }
    if let Some(bad) = id.bytes().find(|b| !(0x20..=0x7e).contains(b)) {
        return Err(Reject::param(format!(
            "GroupId {id:?} holds byte 0x{bad:02x}; only printable ASCII is allowed"
        )));
    }
    if id.len() > GROUP_ID_MAX {
        return Err(Reject::param(format!(
            "GroupId is {} bytes, more than the {GROUP_ID_MAX} allowed",
            id.len()
        )));
    }
    if kind == GroupType::Community {
        if !id.starts_with("@TGS#_") {
            return Err(Reject::param(format!(
                "GroupId {id:?}: a Community GroupId must start with \"@TGS#_\""
            )));
        }
    } else if id.starts_with("@TGS#") && !server_style_allowed {
        return Err(Reject::param(format!(
            "GroupId {id:?}: a custom GroupId must not start with \"@TGS#\""
        )));
    }
    Ok(())
}

/// A custom field key: at most 16 bytes of `[A-Za-z0-9_]`.
pub fn check_custom_key(field: &str, key: &str) -> Result<(), Reject> {
    if key.is_empty()
        || key.len() > CUSTOM_KEY_MAX
        || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Reject::param(format!(
            "{field}: key {key:?} must be 1 to {CUSTOM_KEY_MAX} bytes of A-Z a-z 0-9 _"
        )));
    }
    Ok(())
}

/// A custom field value: any characters, at most 512 bytes.
pub fn check_custom_value(field: &str, key: &str, value: &str) -> Result<(), Reject> {
    check_len(
        &format!("{field} value of key {key:?}"),
        value,
        CUSTOM_VALUE_MAX,
    )
}

/// The member cap a group gets from `given` (`MaxMemberCount`, `MaxMemberNum`, …): checked
/// against the type's limit, `default` when absent, 0 for AVChatRoom (ignored).
pub fn max_members(
    field: &str,
    kind: GroupType,
    given: Option<u64>,
    default: u64,
) -> Result<u64, Reject> {
    match (kind.member_cap(), given) {
        (None, _) => Ok(0),
        (Some(_), None) => Ok(default),
        (Some(cap), Some(value)) if value == 0 || value > cap => Err(Reject::param(format!(
            "{field} {value} is outside 1..={cap} for a {} group",
            kind.as_str()
        ))),
        (Some(_), Some(value)) => Ok(value),
    }
}

/// 10014 when `members` do not fit the cap `max` named by `field` (AVChatRoom: no cap).
pub fn check_fits(field: &str, kind: GroupType, members: usize, max: u64) -> Result<(), Reject> {
    if kind.keeps_members() && members as u64 > max {
        return Err(Reject::new(
            codes::GROUP_FULL,
            format!("the group is full: {members} members do not fit {field} {max}"),
        ));
    }
    Ok(())
}

/// An account name's shape: non-empty (whether it was imported is the commands' check).
pub fn check_account(field: &str, account: &str) -> Result<(), Reject> {
    if account.is_empty() {
        return Err(Reject::param(format!("{field} must not be empty")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids_follow_the_reference() {
        let ok = |id: &str, kind| check_group_id(id, kind, false).is_ok();
        assert!(ok("eng announce ~!", GroupType::Public));
        assert!(ok(&"a".repeat(48), GroupType::Public));
        assert!(!ok(&"a".repeat(49), GroupType::Public));
        assert!(!ok("", GroupType::Public));
        assert!(!ok("caf\u{e9}", GroupType::Public));
        assert!(!ok("tab\there", GroupType::Public));
        assert!(!ok("@TGS#abc", GroupType::Public));
        assert!(check_group_id("@TGS#abc", GroupType::Public, true).is_ok());
        assert!(ok("@TGS#_mine", GroupType::Community));
        assert!(!ok("mine", GroupType::Community));
    }

    #[test]
    fn lengths_count_utf8_bytes() {
        assert!(check_len("Name", &"\u{4e2d}".repeat(10), NAME_MAX).is_ok());
        let err = check_len("Name", &"\u{4e2d}".repeat(11), NAME_MAX).unwrap_err();
        assert_eq!(err.code, 10004);
        assert!(err.info.contains("Name is 33 bytes"), "{}", err.info);
    }

    #[test]
    fn custom_keys_and_caps() {
        assert!(check_custom_key("AppDefinedData", "Team_1").is_ok());
        assert!(check_custom_key("AppDefinedData", "team-1").is_err());
        assert!(check_custom_key("AppDefinedData", &"k".repeat(17)).is_err());
        assert!(check_custom_value("AppDefinedData", "k", &"\0".repeat(512)).is_ok());
        assert!(check_custom_value("AppDefinedData", "k", &"v".repeat(513)).is_err());
        let max = |kind: GroupType, given| {
            max_members("MaxMemberNum", kind, given, kind.default_max_members())
        };
        assert_eq!(max(GroupType::Public, Some(6000)), Ok(6000));
        assert!(max(GroupType::Public, Some(6001)).is_err());
        assert!(max(GroupType::Public, Some(0)).is_err());
        assert_eq!(max(GroupType::Public, None), Ok(2000));
        assert_eq!(max(GroupType::Community, Some(100_000)), Ok(100_000));
        assert_eq!(max(GroupType::AVChatRoom, Some(9)), Ok(0));
        assert_eq!(
            check_fits("MaxMemberNum", GroupType::Public, 3, 2)
                .unwrap_err()
                .code,
            10014
        );
        assert!(check_fits("MaxMemberNum", GroupType::AVChatRoom, 3, 0).is_ok());
    }
}
