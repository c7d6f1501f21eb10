//! Reading member lists (`get_group_member_info`) for the groups whose manifest manages
//! `admins` or `members`: every member and its role, read once per group per run.
//!
//! Pages hold [`MEMBER_PAGE`] members. The page's field table allows `Limit` up to 6000, but its
//! paging text says at most 200 (100 recommended) [reference §3.9]; the smaller is kept, so no
//! answer nears the 1 MB limit either. A Community pages with `Next` (its page forbids
//! `Offset`), every other type with `Offset`. Groups are read concurrently, the pages of one
//! group in order; every call goes through the client's pacer (200 calls/s).
//!
//! Errors: a page that repeats a cursor, or a list that ends before the `MemberNum` it
//! announced, or one member listed twice, is [`ApiError::Unexpected`] naming the group: a
//! member list is never taken as complete when it may not be.

use std::collections::{BTreeMap, BTreeSet};

use compact_str::CompactString;

use crate::model::{GroupId, GroupType, Role};

use super::client::Client;
use super::error::ApiError;
use super::read::parse_role;
use super::wire::{Command, MemberInfoRequest, MemberInfoResponse};

/// Members per `get_group_member_info` page.
pub const MEMBER_PAGE: u32 = 200;

/// Most pages read for one group: a Community's 100,000 members at [`MEMBER_PAGE`] a page,
/// with room to spare; a cursor that never ends stops here.
const MAX_PAGES: usize = 1_000;

impl Client {
    /// Every member and its role, for each of `groups` (id and type).
    pub async fn read_members(
        &self,
        groups: &[(GroupId, GroupType)],
    ) -> Result<BTreeMap<GroupId, BTreeMap<CompactString, Role>>, ApiError> {
        let answers = self
            .concurrently(
                groups.to_vec(),
                |client, (group, kind)| async move {
                    let members = client.group_members(&group, kind).await?;
                    Ok((group, members))
                },
                |_| {},
            )
            .await?;
        Ok(answers.into_iter().collect())
    }

    /// One group's members, page after page.
    async fn group_members(
        &self,
        group: &GroupId,
        kind: GroupType,
    ) -> Result<BTreeMap<CompactString, Role>, ApiError> {
        let unexpected = |field: &'static str, value: String| ApiError::Unexpected {
            command: Command::GetGroupMemberInfo,
            group: Some(group.clone()),
            field,
            value: self.redactor().text(&value),
        };
        let community = kind == GroupType::Community;
        let mut members = BTreeMap::new();
        let mut cursors = BTreeSet::new();
        let mut next = String::new();
        let mut announced = 0;
        for _ in 0..MAX_PAGES {
            let request = MemberInfoRequest {
                group_id: group.0.clone(),
                member_info_filter: vec!["Role"],
                limit: MEMBER_PAGE,
                offset: (!community).then_some(members.len() as u64),
                next: community.then(|| next.clone()),
            };
            let groups = std::slice::from_ref(group);
            let page: MemberInfoResponse = self
                .call(Command::GetGroupMemberInfo, groups, &request)
                .await
                .result?;
            announced = page.member_num;
            let got = page.member_list.len();
            for entry in page.member_list {
                let role = parse_role(&entry.role)
                    .filter(|r| *r != Role::NotMember)
                    .ok_or_else(|| unexpected("Role", entry.role.clone()))?;
                let account = CompactString::from(entry.member_account);
                if members.insert(account.clone(), role).is_some() {
                    return Err(unexpected(
                        "MemberList",
                        format!("member {account:?} listed twice"),
                    ));
                }
            }
            let more = if community {
                match page.next.as_ref().and_then(|c| c.more()) {
                    Some(cursor) if !cursors.insert(cursor.clone()) => {
                        return Err(unexpected(
                            "Next",
                            format!("{cursor} (a cursor already returned)"),
                        ));
                    }
                    Some(cursor) => {
                        next = cursor;
                        true
                    }
                    None => false,
                }
            } else {
                got == MEMBER_PAGE as usize && (members.len() as u64) < announced
            };
            if !more || got == 0 {
                break;
            }
        }
        if (members.len() as u64) < announced {
            return Err(unexpected(
                "MemberList",
                format!("{} members read, MemberNum says {announced}", members.len()),
            ));
        }
        Ok(members)
    }
}
