//! The app-wide reads: `get_group_info` and `get_appid_group_list`.
//!
//! Choices where the reference is unsure:
//! - Without a `ResponseFilter`, `get_group_info` returns every base field including `InfoSeq`,
//!   and the mute switch under both names (`MuteAllMember` and `ShutUpAllMember`), since clients
//!   of both doc generations exist. With a filter, only what it names: base fields by name
//!   (`AppDefinedData` and `MemberList` may be named there too, meaning all of them),
//!   `AppDefinedDataFilter_Group` selects custom keys, `MemberInfoFilter` member fields.
//! - An unknown group is an item with `ErrorCode` 10010 (10015 for an ID no group could have);
//!   the top level stays OK. An empty `GroupIdList` or more than 50 IDs is 10004.
//! - `AppDefinedDataFilter_GroupMember` selects member custom keys; given without a
//!   `MemberInfoFilter`, the member list carries `Member_Account` and those keys only.
//! - AVChatRoom: no `MemberNum` and no `MemberList`, even when a filter names them (the 2025
//!   page; the older sample answered both).
//! - `get_appid_group_list`: `Limit` above 10000 is 10004, `Limit` 0 and `GroupType` "" mean
//!   not given (SDKs send them); `BChatRoom` is a valid filter that matches no group; `Next`
//!   is the `list_seq` of the last group returned (creation order, above 2^32), 0 when the
//!   list is complete.

use super::super::rules::{self, GroupType, Reject, switch};
use super::super::store::{Entry, Store};
use super::super::wire::{Body, CreatedGroup, GroupInfoItem, GroupInfoList, GroupList, ok_body};
use super::members::MemberFields;
use super::{Ctx, Done, custom_list, find_group};

#[derive(serde::Deserialize, Default)]
struct ResponseFilter {
    #[serde(rename = "GroupBaseInfoFilter")]
    base: Option<Vec<String>>,
    #[serde(rename = "MemberInfoFilter")]
    members: Option<Vec<String>>,
    #[serde(rename = "AppDefinedDataFilter_Group")]
    custom_keys: Option<Vec<String>>,
    #[serde(rename = "AppDefinedDataFilter_GroupMember")]
    member_custom_keys: Option<Vec<String>>,
}

/// `get_group_info`.
pub(super) fn group_info(body: &Body, store: &mut Store, ctx: &Ctx) -> Result<Done, Reject> {
    let ids: Vec<String> = body.req("GroupIdList")?;
    if ids.is_empty() {
        return Err(Reject::param("GroupIdList must not be empty"));
    }
    if ids.len() > rules::GROUP_INFO_IDS_MAX {
        return Err(Reject::param(format!(
            "GroupIdList has {} IDs, more than the {} allowed",
            ids.len(),
            rules::GROUP_INFO_IDS_MAX
        )));
    }
    let filter: Option<ResponseFilter> = body.opt("ResponseFilter")?;
    let group_info = ids
        .into_iter()
        .map(|id| match find_group(store, &id) {
            Ok(entry) => info_item(entry, filter.as_ref(), ctx),
            Err(reject) => GroupInfoItem {
                group_id: id,
                error_code: reject.code,
                error_info: reject.info,
                ..GroupInfoItem::default()
            },
        })
        .collect();
    Ok(Done::read(ok_body(&GroupInfoList { group_info })))
}

fn info_item(entry: &Entry, filter: Option<&ResponseFilter>, ctx: &Ctx) -> GroupInfoItem {
    let sdkappid = ctx.sdkappid;
    let base = filter.map(|f| f.base.as_deref().unwrap_or_default());
    let want = |field: &str| base.is_none_or(|names| names.iter().any(|n| n == field));
    let g = &entry.group;
    let custom_keys = filter.and_then(|f| f.custom_keys.as_deref());
    let custom = (custom_keys.is_some() || want("AppDefinedData"))
        .then(|| custom_list(&g.custom, custom_keys));
    let member_keys = filter.and_then(|f| f.member_custom_keys.as_deref());
    let member_fields = match filter {
        // "仅支持拉取群详细资料（成员数量不支持），同时不支持拉取成员列表" for AVChatRoom
        // (https://cloud.tencent.com/document/product/269/1616, 2025-12-15).
        _ if !g.kind.keeps_members() => None,
        None => Some(MemberFields::ALL),
        Some(ResponseFilter {
            members: Some(names),
            ..
        }) => Some(MemberFields::named(names)),
        Some(_) if member_keys.is_some() => Some(MemberFields::named(&[])),
        Some(_) => want("MemberList").then_some(MemberFields::ALL),
    }
    .map(|fields| fields.custom_keys(member_keys));
    GroupInfoItem {
        group_id: g.id.clone(),
        error_code: 0,
        error_info: String::new(),
        r#type: want("Type").then_some(g.kind.as_str()),
        appid: want("Appid").then_some(sdkappid),
        name: want("Name").then(|| g.name.clone()),
        introduction: want("Introduction").then(|| g.introduction.clone()),
        notification: want("Notification").then(|| g.notification.clone()),
        face_url: want("FaceUrl").then(|| g.face_url.clone()),
        owner_account: want("Owner_Account").then(|| g.owner.clone()),
        create_time: want("CreateTime").then_some(g.create_time),
        info_seq: want("InfoSeq").then_some(g.info_seq),
        last_info_time: want("LastInfoTime").then_some(g.last_info_time),
        last_msg_time: want("LastMsgTime").then_some(0),
        next_msg_seq: want("NextMsgSeq").then_some(1),
        member_num: (g.kind.keeps_members() && want("MemberNum"))
            .then_some(entry.members.len() as u64),
        max_member_num: want("MaxMemberNum").then_some(g.max_members),
        apply_join_option: want("ApplyJoinOption").then_some(g.apply_join.as_str()),
        mute_all_member: want("MuteAllMember").then_some(switch(g.mute_all)),
        shut_up_all_member: want("ShutUpAllMember").then_some(switch(g.mute_all)),
        app_defined_data: custom,
        member_list: member_fields.map(|fields| {
            entry
                .members
                .values()
                .map(|m| fields.item(m, ctx.now))
                .collect()
        }),
    }
}

/// `get_appid_group_list`.
pub(super) fn group_list(body: &Body, store: &mut Store) -> Result<Done, Reject> {
    // "如果不填，默认为最大值 10000" (`获取APP中的所有群组.md`): absent or 0 is the default.
    let limit = body
        .opt_nonzero::<u64>("Limit")?
        .unwrap_or(rules::LIST_LIMIT_MAX);
    if limit > rules::LIST_LIMIT_MAX {
        return Err(Reject::param(format!(
            "Limit {limit} is outside 1..={}",
            rules::LIST_LIMIT_MAX
        )));
    }
    let next = body.opt::<u64>("Next")?.unwrap_or(0);
    let filter = match body.opt_nonzero::<String>("GroupType")?.as_deref() {
        None => TypeFilter::All,
        // The page lists BChatRoom among the filters; no group can be one any more.
        Some("BChatRoom") => TypeFilter::BChatRoom,
        Some(other) => TypeFilter::Only(GroupType::parse("GroupType", other).map_err(|_| {
            Reject::param(format!(
                "GroupType: {other:?} is not one of Private, Public, ChatRoom, AVChatRoom, BChatRoom, Community"
            ))
        })?),
    };
    let matches = |entry: &&Entry| match filter {
        TypeFilter::All => true,
        TypeFilter::Only(kind) => entry.group.kind == kind,
        TypeFilter::BChatRoom => false,
    };
    let total_count = store.iter().filter(matches).count() as u64;
    let mut page: Vec<&Entry> = store
        .iter_after(next)
        .filter(matches)
        .take(limit as usize + 1)
        .collect();
    let more = page.len() as u64 > limit;
    page.truncate(limit as usize);
    let next = match (more, page.last()) {
        (true, Some(last)) => last.group.list_seq,
        _ => 0,
    };
    Ok(Done::read(ok_body(&GroupList {
        total_count,
        group_id_list: page
            .into_iter()
            .map(|entry| CreatedGroup {
                group_id: entry.group.id.clone(),
            })
            .collect(),
        next,
    })))
}

/// `GroupType` of `get_appid_group_list`.
#[derive(Clone, Copy)]
enum TypeFilter {
    All,
    Only(GroupType),
    /// The legacy type, still a valid filter; it matches nothing.
    BChatRoom,
}
