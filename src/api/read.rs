//! Reading live state (DESIGN §5): the declared groups, member roles for ownership
//! preconditions, and the app's group list for prune and export. Produces [`crate::model`]
//! types; nothing here writes.
//!
//! `get_group_info` is sent without a `ResponseFilter`. With a filter the service returns
//! custom fields only for the keys the filter names, and timctl must see every key on a group
//! to delete the ones a manifest no longer declares. The price is that member lists come
//! back too; they are skipped while parsing, and a batch whose answer exceeds the service's
//! 1 MB limit (10018) is split in halves and asked again.

use std::collections::{BTreeMap, BTreeSet};

use compact_str::CompactString;

use crate::model::{Actual, ActualGroup, ApplyJoin, Group, GroupId, GroupType, Role};

use super::client::Client;
use super::error::{ApiError, NOT_FOUND_CODES};
use super::redact::Redactor;
use super::wire::{
    AccountCheckRequest, AccountCheckResponse, BASE_FIELDS, Command, GetGroupInfoRequest,
    GetGroupInfoResponse, GroupInfo, GroupListRequest, GroupListResponse, ResponseFilter,
    RoleRequest, RoleResponse, UserIdItem,
};

/// Most ids per `get_group_info` request.
pub const GROUP_INFO_BATCH: usize = 50;
/// Most accounts per `get_role_in_group` request.
pub const ROLE_BATCH: usize = 500;
/// Most accounts per `account_check` request.
pub const ACCOUNT_CHECK_BATCH: usize = 100;
/// Page size of `get_appid_group_list` (its maximum).
pub const LIST_PAGE: u32 = 10_000;

/// Response larger than 1 MB.
const TOO_LARGE: i64 = 10018;

impl Client {
    /// Reads the given groups. A group the service does not know (10010/10015) is simply not
    /// in the result; any other per-group error fails the read. Batches of 50, concurrently.
    pub async fn read_groups(&self, ids: &[GroupId]) -> Result<Actual, ApiError> {
        self.read_groups_with_progress(ids, |_| {}).await
    }

    /// [`Client::read_groups`], telling `progress` how many more ids have been answered each
    /// time a batch is (for a progress bar). Duplicate ids are read, and counted, once.
    pub async fn read_groups_with_progress(
        &self,
        ids: &[GroupId],
        mut progress: impl FnMut(usize),
    ) -> Result<Actual, ApiError> {
        // Each id once, in order; ids from a map already are, and are not sorted again.
        let sorted: Vec<GroupId>;
        let unique = if ids.is_sorted_by(|a, b| a < b) {
            ids
        } else {
            let set: BTreeSet<&GroupId> = ids.iter().collect();
            sorted = set.into_iter().cloned().collect();
            &sorted
        };
        let batches: Vec<Vec<GroupId>> = unique
            .chunks(GROUP_INFO_BATCH)
            .map(<[GroupId]>::to_vec)
            .collect();
        let found = self
            .concurrently(
                batches,
                |client, batch| async move {
                    let asked = batch.len();
                    Ok((asked, client.read_batch(batch).await?))
                },
                |(asked, _)| progress(*asked),
            )
            .await?;
        Ok(Actual {
            accounts: BTreeMap::new(),
            groups: found
                .into_iter()
                .flat_map(|(_, found)| found)
                .map(|group| (group.group.id.clone(), group))
                .collect(),
        })
    }

    /// Reads one group; `None` if it does not exist.
    pub async fn read_group(&self, id: &GroupId) -> Result<Option<ActualGroup>, ApiError> {
        Ok(self
            .read_groups(std::slice::from_ref(id))
            .await?
            .groups
            .remove(id)
            .map(|group| *group))
    }

    /// One `get_group_info` batch, split further while the answer is too large, and asked again
    /// for the ids whose item reports a transient error.
    async fn read_batch(&self, batch: Vec<GroupId>) -> Result<Vec<Box<ActualGroup>>, ApiError> {
        let mut found = Vec::new();
        let mut pending = vec![(batch, 1u32)];
        while let Some((ids, round)) = pending.pop() {
            let request = GetGroupInfoRequest {
                group_id_list: ids.iter().map(|id| id.0.clone()).collect(),
                response_filter: self.custom_keys().map(|keys| ResponseFilter {
                    group_base_info_filter: BASE_FIELDS.to_vec(),
                    app_defined_data_filter_group: keys.to_vec(),
                }),
            };
            let called =
                self.call::<_, GetGroupInfoResponse>(Command::GetGroupInfo, &ids, &request);
            let response = match called.await.result {
                Err(err) if err.code() == Some(TOO_LARGE) && ids.len() > 1 => {
                    let (left, right) = ids.split_at(ids.len() / 2);
                    tracing::debug!(
                        groups = ids.len(),
                        "get_group_info answer too large, splitting"
                    );
                    pending.push((left.to_vec(), round));
                    pending.push((right.to_vec(), round));
                    continue;
                }
                other => other?,
            };
            let mut items: BTreeMap<CompactString, GroupInfo> = response
                .group_info
                .into_iter()
                .map(|item| (item.group_id.clone(), item))
                .collect();
            let mut retry = Vec::new();
            for id in ids {
                let item = items
                    .remove(id.as_str())
                    .ok_or_else(|| ApiError::Unexpected {
                        command: Command::GetGroupInfo,
                        group: Some(id.clone()),
                        field: "GroupInfo",
                        value: "no entry for a requested group".into(),
                    })?;
                match item_outcome(item, self.redactor())? {
                    ItemOutcome::Found(group) => found.push(group),
                    ItemOutcome::Absent => {}
                    ItemOutcome::Retry(err) if self.retry_policy().should_retry(&err, round) => {
                        retry.push(id)
                    }
                    ItemOutcome::Retry(err) => return Err(err),
                }
            }
            if !retry.is_empty() {
                let unit = rand::random::<f64>();
                tokio::time::sleep(self.retry_policy().delay(round, unit)).await;
                pending.push((retry, round + 1));
            }
        }
        Ok(found)
    }

    /// The roles of `accounts` in `group` (`get_role_in_group`, 500 accounts per request).
    pub async fn roles(
        &self,
        group: &GroupId,
        accounts: &[String],
    ) -> Result<BTreeMap<String, Role>, ApiError> {
        let unique: BTreeSet<&String> = accounts.iter().collect();
        let batches: Vec<(GroupId, Vec<String>)> = unique
            .into_iter()
            .cloned()
            .collect::<Vec<_>>()
            .chunks(ROLE_BATCH)
            .map(|chunk| (group.clone(), chunk.to_vec()))
            .collect();
        let answers = self
            .concurrently(
                batches,
                |client, (group, accounts)| async move { client.roles_batch(group, accounts).await },
                |_| {},
            )
            .await?;
        Ok(answers.into_iter().flatten().collect())
    }

    /// Roles for many groups at once: for each group, the roles of the given accounts.
    /// Which of `accounts` are imported in the app (`account_check`, 100 a call, concurrent
    /// and paced at 100 calls/s). An account the service could not check is an error: an
    /// account is never assumed to exist.
    pub async fn check_accounts(
        &self,
        accounts: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, bool>, ApiError> {
        let batches: Vec<Vec<String>> = accounts
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .chunks(ACCOUNT_CHECK_BATCH)
            .map(<[String]>::to_vec)
            .collect();
        let answers = self
            .concurrently(
                batches,
                |client, batch| async move { client.account_batch(batch).await },
                |_| {},
            )
            .await?;
        Ok(answers.into_iter().flatten().collect())
    }

    async fn account_batch(&self, accounts: Vec<String>) -> Result<Vec<(String, bool)>, ApiError> {
        let request = AccountCheckRequest {
            check_item: accounts
                .iter()
                .map(|user_id| UserIdItem {
                    user_id: user_id.clone(),
                })
                .collect(),
        };
        let response: AccountCheckResponse = self
            .call(Command::AccountCheck, &[], &request)
            .await
            .result?;
        let mut found = Vec::with_capacity(accounts.len());
        for item in response.result_item {
            if !accounts.contains(&item.user_id) {
                continue;
            }
            let imported = match (item.result_code, item.account_status.as_str()) {
                (0, "Imported") => true,
                (0, "NotImported") => false,
                (0, other) => {
                    return Err(ApiError::Unexpected {
                        command: Command::AccountCheck,
                        group: None,
                        field: "AccountStatus",
                        value: self.redactor().text(other),
                    });
                }
                (code, _) => {
                    return Err(ApiError::Service {
                        command: Command::AccountCheck,
                        group: None,
                        code,
                        info: self
                            .redactor()
                            .text(&format!("account {:?}: {}", item.user_id, item.result_info)),
                    });
                }
            };
            found.push((item.user_id, imported));
        }
        if let Some(missing) = accounts
            .iter()
            .find(|a| !found.iter().any(|(f, _)| f == *a))
        {
            return Err(ApiError::Unexpected {
                command: Command::AccountCheck,
                group: None,
                field: "ResultItem",
                value: self
                    .redactor()
                    .text(&format!("no answer for account {missing:?}")),
            });
        }
        Ok(found)
    }

    pub async fn read_roles(
        &self,
        wanted: &BTreeMap<GroupId, BTreeSet<String>>,
    ) -> Result<BTreeMap<GroupId, BTreeMap<String, Role>>, ApiError> {
        let batches: Vec<(GroupId, Vec<String>)> = wanted
            .iter()
            .filter(|(_, accounts)| !accounts.is_empty())
            .flat_map(|(group, accounts)| {
                let accounts: Vec<String> = accounts.iter().cloned().collect();
                accounts
                    .chunks(ROLE_BATCH)
                    .map(|chunk| (group.clone(), chunk.to_vec()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let answers = self
            .concurrently(
                batches,
                |client, (group, accounts)| async move {
                    let roles = client.roles_batch(group.clone(), accounts).await?;
                    Ok((group, roles))
                },
                |_| {},
            )
            .await?;
        let mut all: BTreeMap<GroupId, BTreeMap<String, Role>> = BTreeMap::new();
        for (group, roles) in answers {
            all.entry(group).or_default().extend(roles);
        }
        Ok(all)
    }

    async fn roles_batch(
        &self,
        group: GroupId,
        accounts: Vec<String>,
    ) -> Result<Vec<(String, Role)>, ApiError> {
        let request = RoleRequest {
            group_id: group.0.clone(),
            user_account: accounts,
        };
        let groups = std::slice::from_ref(&group);
        let response: RoleResponse = self
            .call(Command::GetRoleInGroup, groups, &request)
            .await
            .result?;
        response
            .user_id_list
            .into_iter()
            .map(|entry| {
                let role = parse_role(&entry.role).ok_or_else(|| ApiError::Unexpected {
                    command: Command::GetRoleInGroup,
                    group: Some(group.clone()),
                    field: "Role",
                    value: self.redactor().text(&entry.role),
                })?;
                Ok((entry.member_account, role))
            })
            .collect()
    }

    /// Every group id of the app, or of one type (`get_appid_group_list`, pages of 10,000 at
    /// 1 call/s), sorted.
    pub async fn list_group_ids(
        &self,
        group_type: Option<GroupType>,
    ) -> Result<Vec<GroupId>, ApiError> {
        let mut ids = BTreeSet::new();
        let mut seen_cursors = BTreeSet::new();
        let mut next = 0u64;
        loop {
            let request = GroupListRequest {
                limit: LIST_PAGE,
                next,
                group_type: group_type.map(|t| t.as_str().to_owned()),
            };
            let page: GroupListResponse = self
                .call(Command::GetAppidGroupList, &[], &request)
                .await
                .result?;
            tracing::debug!(
                total = page.total_count,
                page = page.group_id_list.len(),
                next = page.next,
                "listed groups"
            );
            ids.extend(page.group_id_list.into_iter().map(|g| GroupId(g.group_id)));
            if page.next == 0 {
                return Ok(ids.into_iter().collect());
            }
            if !seen_cursors.insert(page.next) {
                return Err(ApiError::Unexpected {
                    command: Command::GetAppidGroupList,
                    group: None,
                    field: "Next",
                    value: self
                        .redactor()
                        .text(&format!("{} (a cursor already returned)", page.next)),
                });
            }
            next = page.next;
        }
    }
}

/// What one `GroupInfo` item says.
enum ItemOutcome {
    Found(Box<ActualGroup>),
    Absent,
    /// A transient per-item error: ask for this group again.
    Retry(ApiError),
}

fn item_outcome(item: GroupInfo, redactor: &Redactor) -> Result<ItemOutcome, ApiError> {
    let id = GroupId(item.group_id.clone());
    match item.error_code {
        0 => Ok(ItemOutcome::Found(Box::new(actual_group(item, redactor)?))),
        code if NOT_FOUND_CODES.contains(&code) => Ok(ItemOutcome::Absent),
        code => {
            let err = ApiError::Service {
                command: Command::GetGroupInfo,
                group: Some(id),
                code,
                info: redactor.text(&item.error_info),
            };
            if err.is_transient() {
                Ok(ItemOutcome::Retry(err))
            } else {
                Err(err)
            }
        }
    }
}

/// Maps one successful `GroupInfo` item to the model; `redactor` cleans a value it refuses.
pub(crate) fn actual_group(item: GroupInfo, redactor: &Redactor) -> Result<ActualGroup, ApiError> {
    let id = GroupId(item.group_id);
    let unexpected = |field: &'static str, value: &str| ApiError::Unexpected {
        command: Command::GetGroupInfo,
        group: Some(id.clone()),
        field,
        value: redactor.text(value),
    };
    let type_name = item.r#type.unwrap_or_default();
    let group_type = parse_group_type(&type_name).ok_or_else(|| unexpected("Type", &type_name))?;
    let apply_join = match item.apply_join_option {
        Some(text) => {
            Some(ApplyJoin::parse(&text).ok_or_else(|| unexpected("ApplyJoinOption", &text))?)
        }
        None => None,
    };
    let mute_all = match item.mute_all_member.or(item.shut_up_all_member) {
        Some(text) => Some(parse_switch(&text).ok_or_else(|| unexpected("MuteAllMember", &text))?),
        None => None,
    };
    let custom = item
        .app_defined_data
        .unwrap_or_default()
        .into_iter()
        .filter(|kv| !kv.value.is_empty())
        .map(|kv| (kv.key, kv.value))
        .collect();
    Ok(ActualGroup {
        group: Group {
            id: id.clone(),
            group_type: Some(group_type),
            name: item.name,
            owner: item.owner_account.filter(|owner| !owner.is_empty()),
            introduction: item.introduction,
            notification: item.notification,
            face_url: item.face_url,
            max_members: item.max_member_num,
            apply_join,
            mute_all,
            custom: Some(custom),
            create_time: item.create_time,
        },
        info_seq: item.info_seq.unwrap_or(0),
        member_num: item.member_num.unwrap_or(0),
        roles: BTreeMap::new(),
        members: None,
    })
}

/// The REST type names, and the new product names the service may also use.
fn parse_group_type(text: &str) -> Option<GroupType> {
    match text {
        "Work" => Some(GroupType::Private),
        "Meeting" => Some(GroupType::ChatRoom),
        other => GroupType::parse(other),
    }
}

fn parse_switch(text: &str) -> Option<bool> {
    match text {
        "On" => Some(true),
        "Off" => Some(false),
        _ => None,
    }
}

pub(crate) fn parse_role(text: &str) -> Option<Role> {
    match text {
        "Owner" => Some(Role::Owner),
        "Admin" => Some(Role::Admin),
        "Member" => Some(Role::Member),
        "NotMember" => Some(Role::NotMember),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::Credentials;
    use crate::model::Custom;

    fn actual(item: GroupInfo) -> Result<ActualGroup, ApiError> {
        actual_group(item, &Redactor::default())
    }

    fn outcome_of(item: GroupInfo) -> Result<ItemOutcome, ApiError> {
        item_outcome(item, &Redactor::default())
    }

    fn item(value: serde_json::Value) -> GroupInfo {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn full_item_maps_every_field() {
        let actual = actual(item(json!({
            "GroupId": "eng", "ErrorCode": 0, "Type": "Public", "Name": "Eng",
            "Introduction": "intro", "Notification": "", "FaceUrl": "https://f",
            "Owner_Account": "alice", "CreateTime": 1448357837u64, "InfoSeq": 7,
            "MemberNum": 3, "MaxMemberNum": 2000, "ApplyJoinOption": "DisableApply",
            "MuteAllMember": "Off",
            "AppDefinedData": [{"Key": "team", "Value": "a\u{0}b"}, {"Key": "gone", "Value": ""}]
        })))
        .unwrap();
        let expected = Group {
            id: GroupId::from("eng"),
            group_type: Some(GroupType::Public),
            name: Some("Eng".into()),
            owner: Some("alice".into()),
            introduction: Some("intro".into()),
            notification: Some(CompactString::default()),
            face_url: Some("https://f".into()),
            max_members: Some(2000),
            apply_join: Some(ApplyJoin::DisableApply),
            mute_all: Some(false),
            custom: Some(Custom::from([("team", "a\u{0}b")])),
            create_time: Some(1_448_357_837),
        };
        assert_eq!(actual.group, expected);
        assert_eq!((actual.info_seq, actual.member_num), (7, 3));
    }

    #[test]
    fn old_mute_field_is_read_and_the_new_one_wins() {
        let old = actual(item(
            json!({"GroupId": "g", "Type": "Private", "ShutUpAllMember": "On"}),
        ));
        assert_eq!(old.unwrap().group.mute_all, Some(true));
        let both = actual(item(json!({
            "GroupId": "g", "Type": "Private", "ShutUpAllMember": "On", "MuteAllMember": "Off"
        })));
        assert_eq!(both.unwrap().group.mute_all, Some(false));
    }

    #[test]
    fn empty_owner_means_ownerless_and_missing_custom_means_none_set() {
        let actual = actual(item(
            json!({"GroupId": "g", "Type": "ChatRoom", "Owner_Account": ""}),
        ))
        .unwrap();
        assert_eq!(actual.group.owner, None);
        assert_eq!(actual.group.custom, Some(Custom::new()));
        assert_eq!(actual.group.mute_all, None);
    }

    #[test]
    fn new_product_type_names_are_understood() {
        let work = actual(item(json!({"GroupId": "g", "Type": "Work"}))).unwrap();
        assert_eq!(work.group.group_type, Some(GroupType::Private));
    }

    #[test]
    fn unknown_values_are_errors_naming_group_and_field() {
        for (field, value) in [
            ("Type", "BChatRoom"),
            ("ApplyJoinOption", "Maybe"),
            ("MuteAllMember", "on"),
        ] {
            let mut body = json!({"GroupId": "g", "Type": "Public"});
            body[field] = json!(value);
            let err = actual(item(body)).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(field) && text.contains(value) && text.contains("\"g\""),
                "{text}"
            );
        }
    }

    #[test]
    fn values_and_item_errors_from_the_server_are_redacted() {
        let redactor = Redactor::new(&Credentials::UserSig("the-given-usersig".to_owned()));
        let echo = "/v4/x?usersig=eJabc&random=1 the-given-usersig";
        let err = actual_group(item(json!({"GroupId": "g", "Type": echo})), &redactor).unwrap_err();
        let failed = item_outcome(
            item(json!({"GroupId": "g", "ErrorCode": 10004, "ErrorInfo": echo})),
            &redactor,
        )
        .err()
        .unwrap();
        for text in [err.to_string(), format!("{err:?}"), failed.to_string()] {
            assert!(
                text.contains("usersig=<redacted>&random=1 <redacted>")
                    && !text.contains("eJabc")
                    && !text.contains("the-given-usersig"),
                "{text}"
            );
        }
    }

    #[test]
    fn item_codes_split_into_found_absent_retry_and_error() {
        let outcome = |code: i64| {
            outcome_of(item(
                json!({"GroupId": "g", "ErrorCode": code, "Type": "Public"}),
            ))
        };
        assert!(matches!(outcome(0), Ok(ItemOutcome::Found(_))));
        assert!(matches!(outcome(10010), Ok(ItemOutcome::Absent)));
        assert!(matches!(outcome(10015), Ok(ItemOutcome::Absent)));
        assert!(matches!(outcome(10002), Ok(ItemOutcome::Retry(_))));
        let err = outcome(10007).err().unwrap();
        assert_eq!(err.code(), Some(10007));
    }

    #[test]
    fn roles_parse() {
        assert_eq!(parse_role("NotMember"), Some(Role::NotMember));
        assert_eq!(parse_role("Owner"), Some(Role::Owner));
        assert_eq!(parse_role("owner"), None);
    }
}
