//! The writes apply makes, each safe to retry (DESIGN §4).
//!
//! Flow: a write goes through the same retry loop as a read. What a retry means differs:
//! - `modify_group_base_info` is idempotent: the same request twice gives the same group.
//! - `change_group_owner` is idempotent in effect; if a retry after an unanswered attempt is
//!   refused, the new owner's role is read: already `Owner` means the first attempt worked.
//! - `import_group` / `create_group` are not: the second attempt of a create that worked
//!   answers "ID in use" (10021/10025). After an unanswered attempt that answer is checked by
//!   reading the group back, and counts as done if the group now exists with our type and
//!   name. timctl always sends a GroupId, so a create is never duplicated under a new id.
//! - `destroy_group` answered "no such group" (10010/10015) counts as done.
//!
//! Guarantees: a write is never counted as done on a guess; what could not be confirmed is an
//! error carrying the service's answer.

use std::collections::BTreeMap;

use compact_str::CompactString;

use crate::model::{ApplyJoin, Group, GroupId, Role};

use super::client::{Called, Client};
use super::error::{ApiError, ID_IN_USE_CODES, NOT_FOUND_CODES};
use super::wire::{
    AddMemberRequest, AddMemberResponse, ChangeOwnerRequest, Command, DeleteMemberRequest,
    DestroyRequest, Empty, KeyValue, MemberAccount, ModifyMemberRequest, ModifyRequest,
    NewGroupRequest, NewGroupResponse,
};

/// Most accounts per `add_group_member` request.
pub const ADD_MEMBER_BATCH: usize = 300;

/// How a write ended, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The service acknowledged the write.
    Applied,
    /// An attempt went unanswered and a later one was refused in a way that shows the first
    /// took effect (confirmed by reading the group back, where that was needed).
    ConfirmedAfterRetry,
    /// Nothing was needed: the group was already gone before we destroyed it, or there was
    /// nothing to modify.
    AlreadyInPlace,
}

/// The profile fields `modify_group_base_info` changes; `None` leaves a field alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModifyFields {
    pub name: Option<CompactString>,
    pub introduction: Option<CompactString>,
    pub notification: Option<CompactString>,
    pub face_url: Option<CompactString>,
    /// Sent as `MaxMemberNum`.
    pub max_members: Option<u32>,
    pub apply_join: Option<ApplyJoin>,
    /// Sent as `MuteAllMember` `"On"`/`"Off"`.
    pub mute_all: Option<bool>,
    /// Custom keys to set; an empty value deletes the key.
    pub custom: Vec<(String, String)>,
}

impl ModifyFields {
    pub fn is_empty(&self) -> bool {
        *self == ModifyFields::default()
    }

    fn to_request(&self, id: &GroupId) -> ModifyRequest {
        ModifyRequest {
            group_id: id.0.clone(),
            name: self.name.clone(),
            introduction: self.introduction.clone(),
            notification: self.notification.clone(),
            face_url: self.face_url.clone(),
            max_member_num: self.max_members,
            apply_join_option: self.apply_join.map(|a| a.as_str().to_owned()),
            mute_all_member: self
                .mute_all
                .map(|on| if on { "On" } else { "Off" }.to_owned()),
            app_defined_data: self
                .custom
                .iter()
                .map(|(key, value)| KeyValue {
                    key: key.as_str().into(),
                    value: value.as_str().into(),
                })
                .collect(),
        }
    }
}

/// What `import_group` / `create_group` cannot set and a `modify_group_base_info` right after
/// must: mute-all (a new group starts with it off). `None` when the create sets everything.
/// The applier sends these fields after a successful create.
pub fn fields_set_after_create(group: &Group) -> Option<ModifyFields> {
    crate::plan::needs_modify_after_create(group).then(|| ModifyFields {
        mute_all: (group.mute_all == Some(true)).then_some(true),
        apply_join: group
            .apply_join
            .filter(|_| crate::plan::apply_join_after_create(group)),
        ..ModifyFields::default()
    })
}

/// What `add_group_member` says for one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddResult {
    Failed,
    Added,
    AlreadyMember,
    /// Invited; waiting for the invitee to confirm.
    Invited,
}

impl Client {
    /// Creates a group with `import_group`: every written field, `CreateTime` included, no
    /// webhooks, no notifications. Cannot make an AVChatRoom (see [`Client::create_group`]) nor
    /// set mute-all (see [`fields_set_after_create`]).
    pub async fn import_group(&self, group: &Group) -> Result<WriteOutcome, ApiError> {
        let request = new_group_request(Command::ImportGroup, group, true)?;
        self.create_checked(Command::ImportGroup, group, &request)
            .await
    }

    /// Creates a group with `create_group`: for AVChatRoom, which cannot be imported.
    /// `CreateTime` is not sent (the service sets it).
    pub async fn create_group(&self, group: &Group) -> Result<WriteOutcome, ApiError> {
        let request = new_group_request(Command::CreateGroup, group, false)?;
        self.create_checked(Command::CreateGroup, group, &request)
            .await
    }

    async fn create_checked(
        &self,
        command: Command,
        group: &Group,
        request: &NewGroupRequest,
    ) -> Result<WriteOutcome, ApiError> {
        let ids = std::slice::from_ref(&group.id);
        let called: Called<NewGroupResponse> = self.call(command, ids, request).await;
        let err = match called.result {
            Ok(_) => return Ok(WriteOutcome::Applied),
            Err(err) => err,
        };
        let in_use = err
            .code()
            .is_some_and(|code| ID_IN_USE_CODES.contains(&code));
        if !(in_use && called.ambiguous_attempt) {
            return Err(err);
        }
        let actual = self.read_group(&group.id).await?;
        let ours = actual.is_some_and(|actual| {
            actual.group.group_type == group.group_type
                && (group.name.is_none() || actual.group.name == group.name)
        });
        if ours {
            tracing::info!(%command, group = %group.id, "create confirmed by read-back after a lost answer");
            Ok(WriteOutcome::ConfirmedAfterRetry)
        } else {
            Err(err)
        }
    }

    /// Changes the given fields only (`modify_group_base_info`). Empty fields: no call.
    pub async fn modify_group_base_info(
        &self,
        id: &GroupId,
        fields: &ModifyFields,
    ) -> Result<WriteOutcome, ApiError> {
        if fields.is_empty() {
            return Ok(WriteOutcome::AlreadyInPlace);
        }
        let request = fields.to_request(id);
        let called: Called<Empty> = self
            .call(
                Command::ModifyGroupBaseInfo,
                std::slice::from_ref(id),
                &request,
            )
            .await;
        called.result.map(|_| WriteOutcome::Applied)
    }

    /// Transfers ownership (`change_group_owner`). The new owner must be a member.
    pub async fn change_group_owner(
        &self,
        id: &GroupId,
        new_owner: &str,
    ) -> Result<WriteOutcome, ApiError> {
        let request = ChangeOwnerRequest {
            group_id: id.0.clone(),
            new_owner_account: new_owner.to_owned(),
        };
        let called: Called<Empty> = self
            .call(
                Command::ChangeGroupOwner,
                std::slice::from_ref(id),
                &request,
            )
            .await;
        let err = match called.result {
            Ok(_) => return Ok(WriteOutcome::Applied),
            Err(err) => err,
        };
        if !called.ambiguous_attempt || err.is_transient() || matches!(err, ApiError::GaveUp { .. })
        {
            return Err(err);
        }
        let roles = self.roles(id, &[new_owner.to_owned()]).await?;
        if roles.get(new_owner) == Some(&Role::Owner) {
            tracing::info!(group = %id, "owner change confirmed by read-back after a lost answer");
            Ok(WriteOutcome::ConfirmedAfterRetry)
        } else {
            Err(err)
        }
    }

    /// Disbands a group (`destroy_group`). A group that is already gone counts as done.
    pub async fn destroy_group(&self, id: &GroupId) -> Result<WriteOutcome, ApiError> {
        let request = DestroyRequest {
            group_id: id.0.clone(),
        };
        let called: Called<Empty> = self
            .call(Command::DestroyGroup, std::slice::from_ref(id), &request)
            .await;
        match called.result {
            Ok(_) => Ok(WriteOutcome::Applied),
            Err(err)
                if err
                    .code()
                    .is_some_and(|code| NOT_FOUND_CODES.contains(&code)) =>
            {
                if called.ambiguous_attempt {
                    Ok(WriteOutcome::ConfirmedAfterRetry)
                } else {
                    Ok(WriteOutcome::AlreadyInPlace)
                }
            }
            Err(err) => Err(err),
        }
    }

    /// Adds members (`add_group_member`, 300 per request, in order), with `Silence: 1` when
    /// `silent`. Retrying is safe: an account added by a lost attempt answers "already a
    /// member".
    pub async fn add_group_member(
        &self,
        id: &GroupId,
        accounts: &[String],
        silent: bool,
    ) -> Result<BTreeMap<String, AddResult>, ApiError> {
        let mut results = BTreeMap::new();
        for chunk in accounts.chunks(ADD_MEMBER_BATCH) {
            let request = AddMemberRequest {
                group_id: id.0.clone(),
                silence: silent.then_some(1),
                member_list: chunk
                    .iter()
                    .map(|account| MemberAccount {
                        member_account: account.clone(),
                    })
                    .collect(),
            };
            let response: AddMemberResponse = self
                .call(Command::AddGroupMember, std::slice::from_ref(id), &request)
                .await
                .result?;
            for member in response.member_list {
                let result = match member.result {
                    0 => AddResult::Failed,
                    1 => AddResult::Added,
                    2 => AddResult::AlreadyMember,
                    3 => AddResult::Invited,
                    other => {
                        return Err(ApiError::Unexpected {
                            command: Command::AddGroupMember,
                            group: Some(id.clone()),
                            field: "Result",
                            value: self.redactor().text(&other.to_string()),
                        });
                    }
                };
                results.insert(member.member_account, result);
            }
        }
        Ok(results)
    }

    /// Adds every one of `accounts` or fails: an account the service did not add (result 0)
    /// or only invited (3, waiting for the invitee) is an error naming it.
    pub async fn add_members(
        &self,
        id: &GroupId,
        accounts: &[String],
        silent: bool,
    ) -> Result<(), ApiError> {
        let results = self.add_group_member(id, accounts, silent).await?;
        for account in accounts {
            let why = match results.get(account) {
                Some(AddResult::Added | AddResult::AlreadyMember) => continue,
                Some(AddResult::Failed) => "the service answered Result 0 (not added)",
                Some(AddResult::Invited) => {
                    "the service answered Result 3 (invited, waiting for the invitee to confirm)"
                }
                None => "the answer does not list the account",
            };
            return Err(ApiError::MemberNotAdded {
                group: id.clone(),
                account: account.clone(),
                why,
            });
        }
        Ok(())
    }

    /// Removes members (`delete_group_member`, at most 100 a call), with `Silence: 1` when
    /// `silent`. Retrying is safe: removing someone who is not a member is no error.
    pub async fn delete_group_member(
        &self,
        id: &GroupId,
        accounts: &[String],
        silent: bool,
    ) -> Result<(), ApiError> {
        let request = DeleteMemberRequest {
            group_id: id.0.clone(),
            silence: silent.then_some(1),
            member_to_del_account: accounts.to_vec(),
        };
        let called: Called<Empty> = self
            .call(
                Command::DeleteGroupMember,
                std::slice::from_ref(id),
                &request,
            )
            .await;
        called.result.map(drop)
    }

    /// Sets one member's role (`modify_group_member_info` with `Role`): Admin or Member.
    pub async fn set_member_role(
        &self,
        id: &GroupId,
        account: &str,
        role: Role,
    ) -> Result<(), ApiError> {
        let role = match role {
            Role::Admin => "Admin",
            Role::Member => "Member",
            Role::Owner | Role::NotMember => {
                return Err(ApiError::Unexpected {
                    command: Command::ModifyGroupMemberInfo,
                    group: Some(id.clone()),
                    field: "Role",
                    value: self.redactor().text(&format!("{role:?}")),
                });
            }
        };
        let request = ModifyMemberRequest {
            group_id: id.0.clone(),
            member_account: account.to_owned(),
            role,
        };
        let called: Called<Empty> = self
            .call(
                Command::ModifyGroupMemberInfo,
                std::slice::from_ref(id),
                &request,
            )
            .await;
        called.result.map(drop)
    }
}

/// The `import_group` / `create_group` body: every field the group sets, custom values that
/// are not empty, `CreateTime` only for import.
fn new_group_request(
    command: Command,
    group: &Group,
    with_create_time: bool,
) -> Result<NewGroupRequest, ApiError> {
    let group_type = group.group_type.ok_or_else(|| ApiError::MissingType {
        command,
        group: group.id.clone(),
    })?;
    Ok(NewGroupRequest {
        owner_account: group.owner.clone(),
        r#type: group_type.as_str().to_owned(),
        group_id: group.id.0.clone(),
        name: group.name.clone(),
        introduction: group.introduction.clone(),
        notification: group.notification.clone(),
        face_url: group.face_url.clone(),
        max_member_count: group.max_members,
        // A Community refuses ApplyJoinOption at creation; it is set right after.
        apply_join_option: group
            .apply_join
            .filter(|_| !crate::plan::apply_join_after_create(group))
            .map(|a| a.as_str().to_owned()),
        app_defined_data: group
            .custom
            .iter()
            .flatten()
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| KeyValue {
                key: key.into(),
                value: value.into(),
            })
            .collect(),
        create_time: group.create_time.filter(|_| with_create_time),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::model::{Custom, GroupType};

    use super::*;

    fn eng() -> Group {
        Group {
            group_type: Some(GroupType::Public),
            name: Some("Eng".into()),
            owner: Some("alice".into()),
            max_members: Some(2000),
            apply_join: Some(ApplyJoin::NeedPermission),
            mute_all: Some(true),
            custom: Some(Custom::from([("team", "platform"), ("empty", "")])),
            create_time: Some(1_448_357_837),
            ..Group::new("eng")
        }
    }

    #[test]
    fn import_body_has_every_written_field_but_no_mute_and_no_empty_custom_value() {
        let request = new_group_request(Command::ImportGroup, &eng(), true).unwrap();
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({
                "Owner_Account": "alice", "Type": "Public", "GroupId": "eng", "Name": "Eng",
                "MaxMemberCount": 2000, "ApplyJoinOption": "NeedPermission",
                "AppDefinedData": [{"Key": "team", "Value": "platform"}],
                "CreateTime": 1448357837u64
            })
        );
    }

    #[test]
    fn create_body_has_no_create_time() {
        let room = Group {
            group_type: Some(GroupType::AVChatRoom),
            ..eng()
        };
        let request = new_group_request(Command::CreateGroup, &room, false).unwrap();
        assert_eq!(request.create_time, None);
        assert_eq!(request.r#type, "AVChatRoom");
    }

    #[test]
    fn a_group_without_type_cannot_be_created() {
        let err = new_group_request(Command::ImportGroup, &Group::new("x"), true).unwrap_err();
        assert!(matches!(err, ApiError::MissingType { .. }));
    }

    #[test]
    fn mute_all_on_is_set_after_create_and_off_is_the_default() {
        assert_eq!(
            fields_set_after_create(&eng()),
            Some(ModifyFields {
                mute_all: Some(true),
                ..ModifyFields::default()
            })
        );
        for mute_all in [Some(false), None] {
            let group = Group { mute_all, ..eng() };
            assert_eq!(fields_set_after_create(&group), None);
        }
    }

    #[test]
    fn modify_body_sends_only_set_fields_and_deletes_with_empty_values() {
        let fields = ModifyFields {
            name: Some("Ops".into()),
            max_members: Some(500),
            apply_join: Some(ApplyJoin::FreeAccess),
            mute_all: Some(false),
            custom: vec![("old".into(), String::new()), ("new".into(), "v".into())],
            ..ModifyFields::default()
        };
        assert_eq!(
            serde_json::to_value(fields.to_request(&GroupId::from("eng"))).unwrap(),
            json!({
                "GroupId": "eng", "Name": "Ops", "MaxMemberNum": 500,
                "ApplyJoinOption": "FreeAccess", "MuteAllMember": "Off",
                "AppDefinedData": [{"Key": "old", "Value": ""}, {"Key": "new", "Value": "v"}]
            })
        );
        assert!(ModifyFields::default().is_empty() && !fields.is_empty());
    }
}
