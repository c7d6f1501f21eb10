//! The emulator's own view of the wire: command names, request bodies and response shapes.
//!
//! These types are written from the reference independently of the client's (`crate::api`), so
//! a misspelled field cannot be wrong the same way on both sides. Request fields are read one by
//! one from the JSON object rather than through a derived struct: that way every type error
//! names its field (`ErrorInfo: "Name: invalid type: …"`), an account given as a number is
//! 60015 as the reference says, `null` counts as absent, and unknown fields are ignored like
//! the service does.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::rules::{Reject, codes};

/// The commands the emulator serves: `group_open_http_svc` and the `im_open_login_svc` account
/// commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    ImportGroup,
    CreateGroup,
    ModifyGroupBaseInfo,
    ChangeGroupOwner,
    DestroyGroup,
    GetGroupInfo,
    GetAppidGroupList,
    GetRoleInGroup,
    AddGroupMember,
    DeleteGroupMember,
    GetGroupMemberInfo,
    ModifyGroupMemberInfo,
    AccountImport,
    MultiaccountImport,
    AccountCheck,
    AccountDelete,
}

/// The group service, in every group command's URL.
pub const GROUP_SERVICE: &str = "group_open_http_svc";
/// The account service (`v4/im_open_login_svc/...`).
pub const ACCOUNT_SERVICE: &str = "im_open_login_svc";

impl Command {
    pub const ALL: [Command; 16] = [
        Command::ImportGroup,
        Command::CreateGroup,
        Command::ModifyGroupBaseInfo,
        Command::ChangeGroupOwner,
        Command::DestroyGroup,
        Command::GetGroupInfo,
        Command::GetAppidGroupList,
        Command::GetRoleInGroup,
        Command::AddGroupMember,
        Command::DeleteGroupMember,
        Command::GetGroupMemberInfo,
        Command::ModifyGroupMemberInfo,
        Command::AccountImport,
        Command::MultiaccountImport,
        Command::AccountCheck,
        Command::AccountDelete,
    ];

    /// The name in the URL.
    pub fn name(self) -> &'static str {
        match self {
            Command::ImportGroup => "import_group",
            Command::CreateGroup => "create_group",
            Command::ModifyGroupBaseInfo => "modify_group_base_info",
            Command::ChangeGroupOwner => "change_group_owner",
            Command::DestroyGroup => "destroy_group",
            Command::GetGroupInfo => "get_group_info",
            Command::GetAppidGroupList => "get_appid_group_list",
            Command::GetRoleInGroup => "get_role_in_group",
            Command::AddGroupMember => "add_group_member",
            Command::DeleteGroupMember => "delete_group_member",
            Command::GetGroupMemberInfo => "get_group_member_info",
            Command::ModifyGroupMemberInfo => "modify_group_member_info",
            Command::AccountImport => "account_import",
            Command::MultiaccountImport => "multiaccount_import",
            Command::AccountCheck => "account_check",
            Command::AccountDelete => "account_delete",
        }
    }

    /// The service in the URL, `v4/{service}/{name}`.
    pub fn service(self) -> &'static str {
        match self {
            Command::AccountImport
            | Command::MultiaccountImport
            | Command::AccountCheck
            | Command::AccountDelete => ACCOUNT_SERVICE,
            _ => GROUP_SERVICE,
        }
    }

    /// The command of this name, whatever its service.
    pub fn named(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The command at `v4/{service}/{name}`.
    pub fn parse(service: &str, name: &str) -> Option<Command> {
        Command::named(name).filter(|c| c.service() == service)
    }

    /// The documented frequency limit: 200/s for the group commands (modify_group_member_info:
    /// "200次/秒", `群组管理/修改群成员资料.md`) and account_import, 1/s
    /// for the app's group list, 100/s for multiaccount_import, account_check and
    /// account_delete (their pages under `账号管理/`).
    pub fn calls_per_second(self) -> f64 {
        match self {
            Command::GetAppidGroupList => 1.0,
            Command::MultiaccountImport | Command::AccountCheck | Command::AccountDelete => 100.0,
            _ => 200.0,
        }
    }

    /// The code for "over the limit": the group service's own 10006 for the list (its create
    /// doc names that case), the gateway's 60007 for the rest (reference §1.4, INFERENCE).
    pub fn rate_limit_code(self) -> i64 {
        match self {
            Command::GetAppidGroupList => codes::FREQUENCY_LIMITED,
            _ => codes::API_FREQUENCY,
        }
    }
}

pub(crate) type JsonObject = Map<String, Value>;

/// A request body: a JSON object.
pub(crate) struct Body(Map<String, Value>);

impl Body {
    /// The body must be a non-empty JSON object (60003 otherwise).
    pub fn parse(bytes: &[u8]) -> Result<Body, Reject> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Body(map)),
            Ok(_) => Err(Reject::new(
                codes::BAD_JSON,
                "the request body must be a JSON object",
            )),
            Err(e) => Err(Reject::new(
                codes::BAD_JSON,
                format!("the request body is not valid JSON: {e}"),
            )),
        }
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// An optional field; `null` is absent.
    pub fn opt<T: DeserializeOwned>(&self, field: &str) -> Result<Option<T>, Reject> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => T::deserialize(value)
                .map(Some)
                .map_err(|e| Reject::param(format!("{field}: {e}"))),
        }
    }

    /// An optional field whose zero value (`0`, `""`) also means "not given". Published server
    /// SDKs (Go structs, Java beans) send every optional field on every call, zero when unset;
    /// the service then applies the documented default, and so does the emulator. Only for
    /// fields whose zero value is not a legal setting.
    pub fn opt_nonzero<T: DeserializeOwned + Default + PartialEq>(
        &self,
        field: &str,
    ) -> Result<Option<T>, Reject> {
        Ok(self.opt::<T>(field)?.filter(|value| *value != T::default()))
    }

    pub fn req<T: DeserializeOwned>(&self, field: &str) -> Result<T, Reject> {
        self.opt(field)?
            .ok_or_else(|| Reject::param(format!("{field} is required")))
    }

    /// An optional account field: anything but a string is 60015.
    pub fn opt_account(&self, field: &str) -> Result<Option<String>, Reject> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => account(field, value).map(Some),
        }
    }

    pub fn req_account(&self, field: &str) -> Result<String, Reject> {
        self.opt_account(field)?
            .ok_or_else(|| Reject::param(format!("{field} is required")))
    }

    /// A required array of account strings.
    pub fn accounts(&self, field: &str) -> Result<Vec<String>, Reject> {
        self.req::<Vec<Value>>(field)?
            .iter()
            .map(|value| account(field, value))
            .collect()
    }

    /// A required array of objects, each with an account under `key` and the object itself.
    pub fn member_objects(
        &self,
        field: &str,
        key: &str,
    ) -> Result<Vec<(String, JsonObject)>, Reject> {
        self.req::<Vec<JsonObject>>(field)?
            .into_iter()
            .map(|item| {
                let name = format!("{field}.{key}");
                match item.get(key) {
                    None | Some(Value::Null) => Err(Reject::param(format!("{name} is required"))),
                    Some(value) => Ok((account(&name, value)?, item)),
                }
            })
            .collect()
    }

    /// The group IDs a request names, for the request log.
    pub fn group_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .0
            .get("GroupId")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .into_iter()
            .collect();
        if let Some(Value::Array(list)) = self.0.get("GroupIdList") {
            ids.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        ids
    }
}

fn account(field: &str, value: &Value) -> Result<String, Reject> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(Reject::new(
            codes::ACCOUNT_NOT_STRING,
            format!("{field}: an account must be a string, not {other}"),
        )),
    }
}

/// `{Key, Value}`, the shape of `AppDefinedData` items both ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct KeyValue {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value")]
    pub value: String,
}

/// The envelope every answer carries, with the command's own fields beside it.
#[derive(Serialize)]
struct Reply<'a, T> {
    #[serde(rename = "ActionStatus")]
    action_status: &'static str,
    #[serde(rename = "ErrorCode")]
    error_code: i64,
    #[serde(rename = "ErrorInfo")]
    error_info: &'a str,
    #[serde(flatten)]
    body: T,
}

/// A success body.
pub(crate) fn ok_body<T: Serialize>(body: &T) -> Vec<u8> {
    serde_json::to_vec(&Reply {
        action_status: "OK",
        error_code: 0,
        error_info: "",
        body,
    })
    .expect("replies serialize")
}

/// A failure body.
pub(crate) fn error_body(reject: &Reject) -> Vec<u8> {
    serde_json::to_vec(&Reply {
        action_status: "FAIL",
        error_code: reject.code,
        error_info: &reject.info,
        body: Empty {},
    })
    .expect("replies serialize")
}

/// The payload of envelope-only answers.
#[derive(Serialize)]
pub(crate) struct Empty {}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreatedGroup {
    pub group_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GroupInfoList {
    pub group_info: Vec<GroupInfoItem>,
}

/// One `GroupInfo` item; absent fields were filtered out (or the group was not found).
#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GroupInfoItem {
    pub group_id: String,
    pub error_code: i64,
    pub error_info: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appid: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub face_url: Option<String>,
    #[serde(rename = "Owner_Account", skip_serializing_if = "Option::is_none")]
    pub owner_account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_info_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_msg_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_msg_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_num: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_member_num: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_join_option: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mute_all_member: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shut_up_all_member: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_defined_data: Option<Vec<KeyValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_list: Option<Vec<MemberItem>>,
}

/// A member as `get_group_info` and `get_group_member_info` report it.
#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MemberItem {
    #[serde(rename = "Member_Account")]
    pub member_account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_flag: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_send_msg_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mute_until: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shut_up_until: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_card: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_member_defined_data: Option<Vec<KeyValue>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GroupList {
    pub total_count: u64,
    pub group_id_list: Vec<CreatedGroup>,
    pub next: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RoleList {
    pub user_id_list: Vec<RoleItem>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RoleItem {
    #[serde(rename = "Member_Account")]
    pub member_account: String,
    pub role: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AddedMembers {
    pub member_list: Vec<AddResult>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AddResult {
    #[serde(rename = "Member_Account")]
    pub member_account: String,
    /// 1 added, 2 already a member.
    pub result: u8,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MemberPage {
    pub member_num: u64,
    pub member_list: Vec<MemberItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `multiaccount_import`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ImportedAccounts {
    pub fail_accounts: Vec<String>,
}

/// `account_check` and `account_delete`: one `ResultItem` per requested account.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AccountResults {
    pub result_item: Vec<AccountResult>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AccountResult {
    #[serde(rename = "UserID")]
    pub user_id: String,
    pub result_code: i64,
    pub result_info: String,
    /// `Imported` or `NotImported` (account_check only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_status: Option<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_in_errors_and_accounts_must_be_strings() {
        let body = Body::parse(br#"{"Name": 5, "Owner_Account": 7, "Intro": null}"#).unwrap();
        let err = body.opt::<String>("Name").unwrap_err();
        assert_eq!(err.code, 10004);
        assert!(err.info.starts_with("Name: "), "{}", err.info);
        assert_eq!(body.opt_account("Owner_Account").unwrap_err().code, 60015);
        assert_eq!(body.opt::<String>("Intro").unwrap(), None);
        assert!(
            body.req::<String>("GroupId")
                .unwrap_err()
                .info
                .contains("GroupId")
        );
    }

    #[test]
    fn zero_values_count_as_absent_only_where_asked() {
        let body = Body::parse(br#"{"Limit": 0, "GroupType": "", "Next": 5}"#).unwrap();
        assert_eq!(body.opt_nonzero::<u64>("Limit").unwrap(), None);
        assert_eq!(body.opt::<u64>("Limit").unwrap(), Some(0));
        assert_eq!(body.opt_nonzero::<String>("GroupType").unwrap(), None);
        assert_eq!(body.opt_nonzero::<u64>("Next").unwrap(), Some(5));
        assert_eq!(body.opt_nonzero::<String>("Next").unwrap_err().code, 10004);
    }

    #[test]
    fn bodies_must_be_objects() {
        assert_eq!(Body::parse(b"").err().unwrap().code, 60003);
        assert_eq!(Body::parse(b"[1]").err().unwrap().code, 60003);
        assert_eq!(Body::parse(b"{\"a\":").err().unwrap().code, 60003);
    }

    #[test]
    fn envelope_sits_beside_the_payload() {
        let json: Value = serde_json::from_slice(&ok_body(&CreatedGroup {
            group_id: "g".into(),
        }))
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "GroupId": "g"})
        );
        let json: Value =
            serde_json::from_slice(&error_body(&Reject::param("Name is required"))).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"ActionStatus": "FAIL", "ErrorCode": 10004, "ErrorInfo": "Name is required"})
        );
    }
}
