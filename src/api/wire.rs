//! The JSON bodies of the group commands, spelled exactly as the reference spells them
//! (reference §1.3, §3), and nothing else: mapping to and from [`crate::model`] lives in
//! `read.rs` and `write.rs`.
//!
//! The emulator has its own copies of these types on purpose (DESIGN §7): a misspelled field
//! here must not be misspelled the same way on the other side.
//!
//! Responses tolerate missing optional fields and ignore unknown ones (the service adds fields
//! over time, and `get_group_info` ships member lists we do not use); requests send only the
//! fields that are set.

use std::fmt;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// The commands the client speaks, all under `v4/group_open_http_svc/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    ImportGroup,
    CreateGroup,
    ModifyGroupBaseInfo,
    ChangeGroupOwner,
    DestroyGroup,
    GetGroupInfo,
    GetAppidGroupList,
    GetRoleInGroup,
    GetGroupMemberInfo,
    AddGroupMember,
    DeleteGroupMember,
    ModifyGroupMemberInfo,
    /// `im_open_login_svc/account_check`: which accounts are imported.
    AccountCheck,
}

impl Command {
    pub const ALL: [Command; 13] = [
        Command::ImportGroup,
        Command::CreateGroup,
        Command::ModifyGroupBaseInfo,
        Command::ChangeGroupOwner,
        Command::DestroyGroup,
        Command::GetGroupInfo,
        Command::GetAppidGroupList,
        Command::GetRoleInGroup,
        Command::GetGroupMemberInfo,
        Command::AddGroupMember,
        Command::DeleteGroupMember,
        Command::ModifyGroupMemberInfo,
        Command::AccountCheck,
    ];

    /// The last path segment of the command's URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::ImportGroup => "import_group",
            Command::CreateGroup => "create_group",
            Command::ModifyGroupBaseInfo => "modify_group_base_info",
            Command::ChangeGroupOwner => "change_group_owner",
            Command::DestroyGroup => "destroy_group",
            Command::GetGroupInfo => "get_group_info",
            Command::GetAppidGroupList => "get_appid_group_list",
            Command::GetRoleInGroup => "get_role_in_group",
            Command::GetGroupMemberInfo => "get_group_member_info",
            Command::AddGroupMember => "add_group_member",
            Command::DeleteGroupMember => "delete_group_member",
            Command::ModifyGroupMemberInfo => "modify_group_member_info",
            Command::AccountCheck => "account_check",
        }
    }

    /// The REST service the command belongs to (the path segment before it).
    pub fn service(self) -> &'static str {
        match self {
            Command::AccountCheck => "im_open_login_svc",
            _ => super::endpoint::SERVICE,
        }
    }

    /// The documented default call frequency, calls per second (reference §3).
    pub fn documented_rate(self) -> f64 {
        match self {
            Command::GetAppidGroupList => 1.0,
            Command::AccountCheck => 100.0,
            _ => 200.0,
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The part of every response that says how the call went.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Envelope {
    #[serde(rename = "ActionStatus")]
    pub action_status: String,
    #[serde(rename = "ErrorCode")]
    pub error_code: i64,
    /// Optional on success in some samples.
    #[serde(rename = "ErrorInfo", default)]
    pub error_info: String,
}

impl Envelope {
    pub fn is_ok(&self) -> bool {
        self.action_status == "OK" && self.error_code == 0
    }
}

/// A body with no fields beyond the envelope (`{}` parses into it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Empty {}

/// One `AppDefinedData` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    #[serde(rename = "Key")]
    pub key: CompactString,
    #[serde(rename = "Value")]
    pub value: CompactString,
}

/// `import_group` (with `CreateTime`) and `create_group` (without): the same fields otherwise.
/// Note `MaxMemberCount`, not `MaxMemberNum`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewGroupRequest {
    #[serde(rename = "Owner_Account", skip_serializing_if = "Option::is_none")]
    pub owner_account: Option<CompactString>,
    pub r#type: String,
    pub group_id: CompactString,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduction: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub face_url: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_member_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_join_option: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub app_defined_data: Vec<KeyValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_time: Option<u64>,
}

/// Answer of `import_group` / `create_group`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct NewGroupResponse {
    #[serde(rename = "GroupId", default)]
    pub group_id: Option<CompactString>,
}

/// `modify_group_base_info`: only the fields that change. An empty `Value` deletes that key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyRequest {
    pub group_id: CompactString,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduction: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub face_url: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_member_num: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_join_option: Option<String>,
    /// `"On"` / `"Off"`; the current name of the older `ShutUpAllMember`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mute_all_member: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub app_defined_data: Vec<KeyValue>,
}

/// `change_group_owner`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeOwnerRequest {
    #[serde(rename = "GroupId")]
    pub group_id: CompactString,
    #[serde(rename = "NewOwner_Account")]
    pub new_owner_account: String,
}

/// `destroy_group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DestroyRequest {
    #[serde(rename = "GroupId")]
    pub group_id: CompactString,
}

/// `get_group_info`: at most 50 ids, no `ResponseFilter` (see `read.rs` for why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetGroupInfoRequest {
    #[serde(rename = "GroupIdList")]
    pub group_id_list: Vec<CompactString>,
    #[serde(rename = "ResponseFilter", skip_serializing_if = "Option::is_none")]
    pub response_filter: Option<ResponseFilter>,
}

/// What `get_group_info` answers with once a filter is given: only the fields it names
/// (reference §3.6). No `MemberInfoFilter`: no member list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseFilter {
    #[serde(rename = "GroupBaseInfoFilter")]
    pub group_base_info_filter: Vec<&'static str>,
    #[serde(rename = "AppDefinedDataFilter_Group")]
    pub app_defined_data_filter_group: Vec<String>,
}

/// Every base field timctl reads: the profile, `InfoSeq` and `MemberNum` (guards, destroy
/// counts), and the mute switch under both its names.
pub const BASE_FIELDS: [&str; 13] = [
    "Type",
    "Name",
    "Introduction",
    "Notification",
    "FaceUrl",
    "Owner_Account",
    "CreateTime",
    "InfoSeq",
    "MemberNum",
    "MaxMemberNum",
    "ApplyJoinOption",
    "MuteAllMember",
    "ShutUpAllMember",
];

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct GetGroupInfoResponse {
    #[serde(rename = "GroupInfo", default)]
    pub group_info: Vec<GroupInfo>,
}

/// One item of `GroupInfo`, with its own `ErrorCode` (10010/10015: no such group). A failed
/// item carries only `GroupId`, `ErrorCode` and `ErrorInfo`, so every profile field is optional.
/// `MemberList` is not modelled and so skipped while parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupInfo {
    pub group_id: CompactString,
    #[serde(default)]
    pub error_code: i64,
    #[serde(default)]
    pub error_info: String,
    #[serde(default)]
    pub r#type: Option<String>,
    #[serde(default)]
    pub name: Option<CompactString>,
    #[serde(default)]
    pub introduction: Option<CompactString>,
    #[serde(default)]
    pub notification: Option<CompactString>,
    #[serde(default)]
    pub face_url: Option<CompactString>,
    #[serde(rename = "Owner_Account", default)]
    pub owner_account: Option<CompactString>,
    #[serde(default)]
    pub create_time: Option<u64>,
    #[serde(default)]
    pub info_seq: Option<u64>,
    #[serde(default)]
    pub member_num: Option<u32>,
    #[serde(default)]
    pub max_member_num: Option<u32>,
    #[serde(default)]
    pub apply_join_option: Option<String>,
    /// Current docs.
    #[serde(default)]
    pub mute_all_member: Option<String>,
    /// Older docs' name of the same switch.
    #[serde(default)]
    pub shut_up_all_member: Option<String>,
    #[serde(default)]
    pub app_defined_data: Option<Vec<KeyValue>>,
}

/// `get_appid_group_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupListRequest {
    #[serde(rename = "Limit")]
    pub limit: u32,
    #[serde(rename = "Next")]
    pub next: u64,
    #[serde(rename = "GroupType", skip_serializing_if = "Option::is_none")]
    pub group_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct GroupListResponse {
    #[serde(rename = "TotalCount", default)]
    pub total_count: Option<u64>,
    #[serde(rename = "GroupIdList", default)]
    pub group_id_list: Vec<GroupIdItem>,
    /// 64-bit cursor; 0 means the listing is complete.
    #[serde(rename = "Next", default)]
    pub next: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GroupIdItem {
    #[serde(rename = "GroupId")]
    pub group_id: CompactString,
}

/// `get_role_in_group`: at most 500 accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleRequest {
    #[serde(rename = "GroupId")]
    pub group_id: CompactString,
    #[serde(rename = "User_Account")]
    pub user_account: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RoleResponse {
    #[serde(rename = "UserIdList", default)]
    pub user_id_list: Vec<UserRole>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserRole {
    #[serde(rename = "Member_Account")]
    pub member_account: String,
    /// `Owner`, `Admin`, `Member` or `NotMember`.
    #[serde(rename = "Role")]
    pub role: String,
}

/// `get_group_member_info`: one page of a group's members, only their roles. A Community pages
/// with `Next` (no `Offset`), every other type with `Offset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberInfoRequest {
    #[serde(rename = "GroupId")]
    pub group_id: CompactString,
    /// `["Role"]`: `Member_Account` is always included.
    #[serde(rename = "MemberInfoFilter")]
    pub member_info_filter: Vec<&'static str>,
    #[serde(rename = "Limit")]
    pub limit: u32,
    #[serde(rename = "Offset", skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// The newer pages' string cursor: `""` on the first call.
    #[serde(rename = "Next", skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MemberInfoResponse {
    #[serde(rename = "MemberNum", default)]
    pub member_num: u64,
    #[serde(rename = "MemberList", default)]
    pub member_list: Vec<UserRole>,
    /// Community only: a string in the newer pages, an integer in the older one; empty or 0
    /// when there is no further page.
    #[serde(rename = "Next", default)]
    pub next: Option<Cursor>,
}

/// A paging cursor typed as a string or as an integer, depending on the page's edition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Cursor {
    Text(String),
    Number(u64),
}

impl Cursor {
    /// The cursor to send back, or `None` at the end of the list.
    pub fn more(&self) -> Option<String> {
        match self {
            Cursor::Text(t) if t.is_empty() || t == "0" => None,
            Cursor::Text(t) => Some(t.clone()),
            Cursor::Number(0) => None,
            Cursor::Number(n) => Some(n.to_string()),
        }
    }
}

/// `add_group_member`: at most 300 accounts. `Silence: 1` sends no group notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddMemberRequest {
    #[serde(rename = "GroupId")]
    pub group_id: CompactString,
    #[serde(rename = "Silence", skip_serializing_if = "Option::is_none")]
    pub silence: Option<u8>,
    #[serde(rename = "MemberList")]
    pub member_list: Vec<MemberAccount>,
}

/// `delete_group_member`: at most 100 accounts. `Silence: 1` sends no group notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeleteMemberRequest {
    #[serde(rename = "GroupId")]
    pub group_id: CompactString,
    #[serde(rename = "Silence", skip_serializing_if = "Option::is_none")]
    pub silence: Option<u8>,
    #[serde(rename = "MemberToDel_Account")]
    pub member_to_del_account: Vec<String>,
}

/// `modify_group_member_info`, the role only: `"Admin"` sets it, `"Member"` revokes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModifyMemberRequest {
    #[serde(rename = "GroupId")]
    pub group_id: CompactString,
    #[serde(rename = "Member_Account")]
    pub member_account: String,
    #[serde(rename = "Role")]
    pub role: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberAccount {
    #[serde(rename = "Member_Account")]
    pub member_account: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AddMemberResponse {
    #[serde(rename = "MemberList", default)]
    pub member_list: Vec<MemberResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MemberResult {
    #[serde(rename = "Member_Account")]
    pub member_account: String,
    /// 0 failed, 1 added, 2 already a member, 3 invited (waiting for confirmation).
    #[serde(rename = "Result")]
    pub result: u8,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn to_json(value: &impl Serialize) -> Value {
        serde_json::to_value(value).unwrap()
    }

    /// The full `get_group_info` sample of the reference's source [S9], comments removed.
    const GROUP_INFO_SAMPLE: &str = r#"{
        "ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": 0,
        "GroupInfo": [{
            "GroupId": "@TGS#2J4SZEAEL", "ErrorCode": 0, "ErrorInfo": "",
            "Type": "Public", "Name": "MyFirstGroup", "Introduction": "TestGroup",
            "Notification": "TestGroup", "FaceUrl": "http://this.is.face.url",
            "Owner_Account": "leckie", "CreateTime": 1426976500, "LastInfoTime": 1426976500,
            "LastMsgTime": 1426976600, "NextMsgSeq": 1234, "MemberNum": 2, "MaxMemberNum": 50,
            "ApplyJoinOption": "FreeAccess", "ShutUpAllMember": "On",
            "AppDefinedData": [
                {"Key": "GroupTestData1", "Value": "xxxx"},
                {"Key": "GroupTestData2", "Value": "abc\u0000\u0001"}
            ],
            "MemberList": [
                {"Member_Account": "leckie", "Role": "Owner", "JoinTime": 1425976500,
                 "MsgSeq": 1233, "MsgFlag": "AcceptAndNotify", "LastSendMsgTime": 1425976500,
                 "ShutUpUntil": 1431069882,
                 "AppMemberDefinedData": [{"Key": "MemberDefined1", "Value": "ModifyDefined1"}]},
                {"Member_Account": "peter", "Role": "Member", "JoinTime": 1425976500,
                 "MsgSeq": 1233, "MsgFlag": "AcceptAndNotify", "LastSendMsgTime": 1425976500,
                 "ShutUpUntil": 0}
            ]
        }]
    }"#;

    #[test]
    fn group_info_sample_parses_and_skips_the_member_list() {
        let envelope: Envelope = serde_json::from_str(GROUP_INFO_SAMPLE).unwrap();
        assert!(envelope.is_ok());
        let body: GetGroupInfoResponse = serde_json::from_str(GROUP_INFO_SAMPLE).unwrap();
        let item = &body.group_info[0];
        assert_eq!(item.group_id, "@TGS#2J4SZEAEL");
        assert_eq!(item.r#type.as_deref(), Some("Public"));
        assert_eq!(item.owner_account.as_deref(), Some("leckie"));
        assert_eq!(item.create_time, Some(1_426_976_500));
        assert_eq!((item.member_num, item.max_member_num), (Some(2), Some(50)));
        assert_eq!(item.shut_up_all_member.as_deref(), Some("On"));
        assert_eq!(item.mute_all_member, None);
        assert_eq!(item.info_seq, None);
        let data = item.app_defined_data.as_ref().unwrap();
        assert_eq!(data[1].value, "abc\u{0}\u{1}");
    }

    #[test]
    fn failed_group_info_item_has_only_its_code() {
        let body: GetGroupInfoResponse = serde_json::from_value(json!({
            "ActionStatus": "OK", "ErrorCode": 0,
            "GroupInfo": [{"GroupId": "gone", "ErrorCode": 10010, "ErrorInfo": "group not exist"}]
        }))
        .unwrap();
        let item = &body.group_info[0];
        assert_eq!((item.error_code, item.name.as_deref()), (10010, None));
    }

    #[test]
    fn envelope_tolerates_missing_error_info_and_reads_failures() {
        let ok: Envelope = serde_json::from_str(r#"{"ActionStatus":"OK","ErrorCode":0}"#).unwrap();
        assert!(ok.is_ok() && ok.error_info.is_empty());
        let fail: Envelope = serde_json::from_str(
            r#"{"ActionStatus":"FAIL","ErrorCode":10021,"ErrorInfo":"group id has been used"}"#,
        )
        .unwrap();
        assert!(!fail.is_ok());
        assert_eq!(fail.error_code, 10021);
    }

    #[test]
    fn group_list_cursor_is_64_bit() {
        let body: GroupListResponse = serde_json::from_str(
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"TotalCount":2,
               "GroupIdList":[{"GroupId":"@TGS#2J4SZEAEL"},{"GroupId":"@TGS#2C5SZEAEF"}],
               "Next":4454685361}"#,
        )
        .unwrap();
        assert_eq!(body.next, 4_454_685_361);
        assert_eq!(body.group_id_list[1].group_id, "@TGS#2C5SZEAEF");
        let request = GroupListRequest {
            limit: 10_000,
            next: u64::MAX,
            group_type: None,
        };
        assert_eq!(
            to_json(&request),
            json!({"Limit": 10000, "Next": 18446744073709551615u64})
        );
    }

    #[test]
    fn role_sample_parses() {
        let body: RoleResponse = serde_json::from_str(
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"UserIdList":[
                {"Member_Account":"leckie","Role":"Owner"},
                {"Member_Account":"peter","Role":"Member"},
                {"Member_Account":"wesley","Role":"NotMember"}]}"#,
        )
        .unwrap();
        assert_eq!(body.user_id_list[2].role, "NotMember");
        let request = RoleRequest {
            group_id: "g".into(),
            user_account: vec!["leckie".into()],
        };
        assert_eq!(
            to_json(&request),
            json!({"GroupId": "g", "User_Account": ["leckie"]})
        );
    }

    #[test]
    fn member_pages_send_offset_or_next_and_read_either_cursor() {
        let request = MemberInfoRequest {
            group_id: "g".into(),
            member_info_filter: vec!["Role"],
            limit: 200,
            offset: Some(400),
            next: None,
        };
        assert_eq!(
            to_json(&request),
            json!({"GroupId": "g", "MemberInfoFilter": ["Role"], "Limit": 200, "Offset": 400})
        );
        let page: MemberInfoResponse = serde_json::from_str(
            r#"{"ActionStatus":"OK","ErrorCode":0,"MemberNum":2,"Next":"2",
                "MemberList":[{"Member_Account":"leckie","Role":"Owner"},
                              {"Member_Account":"peter","Role":"Member"}]}"#,
        )
        .unwrap();
        assert_eq!(page.member_list.len(), 2);
        assert_eq!(page.next.and_then(|c| c.more()).as_deref(), Some("2"));
        let old: MemberInfoResponse =
            serde_json::from_str(r#"{"MemberNum":0,"MemberList":[],"Next":4454685361}"#).unwrap();
        assert_eq!(
            old.next.and_then(|c| c.more()).as_deref(),
            Some("4454685361")
        );
        for end in [r#""""#, "0", r#""0""#] {
            let last: MemberInfoResponse =
                serde_json::from_str(&format!(r#"{{"MemberNum":0,"Next":{end}}}"#)).unwrap();
            assert_eq!(last.next.and_then(|c| c.more()), None, "{end}");
        }
        assert_eq!(Command::GetGroupMemberInfo.documented_rate(), 200.0);
        assert!(Command::ALL.contains(&Command::GetGroupMemberInfo));
    }

    #[test]
    fn import_request_uses_max_member_count_and_owner_account() {
        let request = NewGroupRequest {
            owner_account: Some("leckie".into()),
            r#type: "Public".into(),
            group_id: "eng".into(),
            name: Some("Eng".into()),
            introduction: Some(CompactString::default()),
            max_member_count: Some(2000),
            apply_join_option: Some("NeedPermission".into()),
            app_defined_data: vec![KeyValue {
                key: "team".into(),
                value: "a\u{0}b".into(),
            }],
            create_time: Some(1_448_357_837),
            ..NewGroupRequest::default()
        };
        assert_eq!(
            to_json(&request),
            json!({
                "Owner_Account": "leckie", "Type": "Public", "GroupId": "eng", "Name": "Eng",
                "Introduction": "", "MaxMemberCount": 2000, "ApplyJoinOption": "NeedPermission",
                "AppDefinedData": [{"Key": "team", "Value": "a\u{0}b"}], "CreateTime": 1448357837u64
            })
        );
    }

    #[test]
    fn modify_request_sends_only_set_fields_with_max_member_num_and_mute_all_member() {
        let request = ModifyRequest {
            group_id: "eng".into(),
            max_member_num: Some(500),
            mute_all_member: Some("On".into()),
            app_defined_data: vec![KeyValue {
                key: "old".into(),
                value: CompactString::default(),
            }],
            ..ModifyRequest::default()
        };
        assert_eq!(
            to_json(&request),
            json!({
                "GroupId": "eng", "MaxMemberNum": 500, "MuteAllMember": "On",
                "AppDefinedData": [{"Key": "old", "Value": ""}]
            })
        );
    }

    #[test]
    fn small_requests_are_spelled_like_the_reference() {
        assert_eq!(
            to_json(&ChangeOwnerRequest {
                group_id: "g".into(),
                new_owner_account: "bob".into()
            }),
            json!({"GroupId": "g", "NewOwner_Account": "bob"})
        );
        assert_eq!(
            to_json(&DestroyRequest {
                group_id: "g".into()
            }),
            json!({"GroupId": "g"})
        );
        assert_eq!(
            to_json(&GetGroupInfoRequest {
                group_id_list: vec!["a".into(), "b".into()],
                response_filter: None,
            }),
            json!({"GroupIdList": ["a", "b"]})
        );
        assert_eq!(
            to_json(&GetGroupInfoRequest {
                group_id_list: vec!["a".into()],
                response_filter: Some(ResponseFilter {
                    group_base_info_filter: vec!["Name"],
                    app_defined_data_filter_group: vec!["team".into()],
                }),
            }),
            json!({"GroupIdList": ["a"], "ResponseFilter": {
                "GroupBaseInfoFilter": ["Name"], "AppDefinedDataFilter_Group": ["team"]}})
        );
        assert_eq!(
            to_json(&AddMemberRequest {
                group_id: "g".into(),
                silence: None,
                member_list: vec![MemberAccount {
                    member_account: "bob".into()
                }]
            }),
            json!({"GroupId": "g", "MemberList": [{"Member_Account": "bob"}]})
        );
        assert_eq!(
            to_json(&AddMemberRequest {
                group_id: "g".into(),
                silence: Some(1),
                member_list: Vec::new(),
            }),
            json!({"GroupId": "g", "Silence": 1, "MemberList": []})
        );
        assert_eq!(
            to_json(&DeleteMemberRequest {
                group_id: "g".into(),
                silence: Some(1),
                member_to_del_account: vec!["eve".into()],
            }),
            json!({"GroupId": "g", "Silence": 1, "MemberToDel_Account": ["eve"]})
        );
        assert_eq!(
            to_json(&ModifyMemberRequest {
                group_id: "g".into(),
                member_account: "bob".into(),
                role: "Admin",
            }),
            json!({"GroupId": "g", "Member_Account": "bob", "Role": "Admin"})
        );
        assert_eq!(
            to_json(&GroupListRequest {
                limit: 10,
                next: 0,
                group_type: Some("Public".into())
            }),
            json!({"Limit": 10, "Next": 0, "GroupType": "Public"})
        );
    }

    #[test]
    fn add_member_answer_parses() {
        let body: AddMemberResponse = serde_json::from_str(
            r#"{"ActionStatus":"OK","ErrorCode":0,"MemberList":[
                {"Member_Account":"tommy","Result":1},{"Member_Account":"jared","Result":2}]}"#,
        )
        .unwrap();
        assert_eq!(body.member_list[1].result, 2);
    }
}

/// `account_check`: at most 100 accounts a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountCheckRequest {
    #[serde(rename = "CheckItem")]
    pub check_item: Vec<UserIdItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserIdItem {
    #[serde(rename = "UserID")]
    pub user_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AccountCheckResponse {
    #[serde(rename = "ResultItem", default)]
    pub result_item: Vec<AccountCheckItem>,
}

/// One account's answer: `AccountStatus` is `Imported` or `NotImported`; a non-zero
/// `ResultCode` means the account could not be checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AccountCheckItem {
    #[serde(rename = "UserID", default)]
    pub user_id: String,
    #[serde(rename = "ResultCode", default)]
    pub result_code: i64,
    #[serde(rename = "ResultInfo", default)]
    pub result_info: String,
    #[serde(rename = "AccountStatus", default)]
    pub account_status: String,
}
