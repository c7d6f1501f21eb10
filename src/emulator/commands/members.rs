//! The member commands: `get_role_in_group`, `add_group_member`, `delete_group_member`,
//! `get_group_member_info`, `modify_group_member_info`.
//!
//! Members exist because `change_group_owner` needs the new owner to be one and `MemberNum` is
//! reported; the emulator keeps account, role and join time, nothing per-message. A member
//! added must be an imported account (10019 otherwise, as `增加群组成员.md` lists it).
//!
//! Choices where the reference is unsure:
//! - Member changes (adds, removals, roles, member profiles) do not touch `InfoSeq` or
//!   `LastInfoTime`: "群资料的每次变都会增加该值" (`群组系统.md`) is about the group's base
//!   fields, and the member profile is a table of its own there. `MemberNum` follows the list.
//! - `Silence`: an add or delete that changes the members without `Silence: 1` notifies the
//!   group (the request log's `notice`) when its type notifies member changes
//!   ([`rules::GroupType::notifies_member_changes`]).
//! - Deleting the owner is 10004 naming `MemberToDel_Account` (transfer ownership first);
//!   deleting a non-member is silently fine.
//! - An add that would exceed `MaxMemberNum` is refused whole with 10014.
//! - `get_role_in_group` answers `NotMember` for non-members.
//! - AVChatRoom keeps no member list: `get_role_in_group`, `add_group_member` and
//!   `get_group_member_info` answer 10007 for one, `delete_group_member` 10004 (each page's
//!   code).
//! - `get_group_member_info`: `Limit` 0 or absent means all, above 6000 is 10004; a Community
//!   pages with `Next` (an offset; a string, or the older page's integer) and refuses `Offset`.
//! - Member custom fields (`AppMemberDefinedData`) are set at create_group and reported by both
//!   member reads; `AppDefinedDataFilter_GroupMember` selects their keys.

use super::super::app::with_imports;
use super::super::rules::{self, MsgFlag, Reject, Role, codes};
use super::super::store::{Entry, Member, Record, Store};
use super::super::wire::{
    AddResult, AddedMembers, Body, Empty, KeyValue, MemberItem, MemberPage, RoleItem, RoleList,
    ok_body,
};
use super::{Ctx, Done, check_count, check_silence, custom_list, named_group};

/// Which member fields a reply carries (`Member_Account` always).
#[derive(Debug, Clone, Copy)]
pub(super) struct MemberFields<'a> {
    role: bool,
    join_time: bool,
    msg_seq: bool,
    msg_flag: bool,
    last_send_msg_time: bool,
    mute_until: bool,
    shut_up_until: bool,
    name_card: bool,
    custom: CustomKeys<'a>,
}

/// Which `AppMemberDefinedData` keys a reply carries.
#[derive(Debug, Clone, Copy)]
enum CustomKeys<'a> {
    None,
    All,
    /// `AppDefinedDataFilter_GroupMember`: "没有在过滤器中指明的字段将不被拉取".
    Only(&'a [String]),
}

impl<'a> MemberFields<'a> {
    pub const ALL: MemberFields<'static> = MemberFields {
        role: true,
        join_time: true,
        msg_seq: true,
        msg_flag: true,
        last_send_msg_time: true,
        mute_until: true,
        shut_up_until: true,
        name_card: true,
        custom: CustomKeys::All,
    };

    pub fn named(names: &[String]) -> MemberFields<'a> {
        let has = |field: &str| names.iter().any(|n| n == field);
        MemberFields {
            role: has("Role"),
            join_time: has("JoinTime"),
            msg_seq: has("MsgSeq"),
            msg_flag: has("MsgFlag"),
            last_send_msg_time: has("LastSendMsgTime"),
            mute_until: has("MuteUntil"),
            shut_up_until: has("ShutUpUntil"),
            name_card: has("NameCard"),
            custom: match has("AppMemberDefinedData") {
                true => CustomKeys::All,
                false => CustomKeys::None,
            },
        }
    }

    /// With `AppDefinedDataFilter_GroupMember` given, `AppMemberDefinedData` is reported with
    /// those keys only, whatever `MemberInfoFilter` says (the pages' "ALL IN ONE" samples).
    pub fn custom_keys(self, keys: Option<&'a [String]>) -> MemberFields<'a> {
        match keys {
            Some(keys) => MemberFields {
                custom: CustomKeys::Only(keys),
                ..self
            },
            None => self,
        }
    }

    /// The member as reported at `now`: a mute deadline already past is 0 ("0 表示未禁言").
    pub fn item(&self, member: &Member, now: u64) -> MemberItem {
        let mute_until = Some(member.profile.mute_until).filter(|&until| until > now);
        let mute_until = mute_until.unwrap_or(0);
        let custom = |keys: Option<&[String]>| custom_list(&member.custom, keys);
        MemberItem {
            member_account: member.account.clone(),
            role: self.role.then_some(member.role.as_str()),
            join_time: self.join_time.then_some(member.join_time),
            msg_seq: self.msg_seq.then_some(0),
            msg_flag: self.msg_flag.then_some(member.profile.msg_flag.as_str()),
            last_send_msg_time: self.last_send_msg_time.then_some(0),
            mute_until: self.mute_until.then_some(mute_until),
            shut_up_until: self.shut_up_until.then_some(mute_until),
            name_card: self.name_card.then(|| member.profile.name_card.clone()),
            app_member_defined_data: match self.custom {
                CustomKeys::None => None,
                CustomKeys::All => Some(custom(None)),
                CustomKeys::Only(keys) => Some(custom(Some(keys))),
            },
        }
    }
}

/// Refuses AVChatRoom, which keeps no member list, with `code`: the one the command's page
/// gives.
fn keeps_members(entry: &Entry, command: &str, code: i64) -> Result<(), Reject> {
    if entry.group.kind.keeps_members() {
        Ok(())
    } else {
        Err(Reject::new(
            code,
            format!("{command} does not support AVChatRoom groups"),
        ))
    }
}

/// `get_role_in_group`.
pub(super) fn roles(body: &Body, store: &mut Store) -> Result<Done, Reject> {
    let entry = named_group(body, store)?;
    let accounts = body.accounts("User_Account")?;
    check_count("User_Account", accounts.len(), rules::ROLE_ACCOUNTS_MAX)?;
    // "AVChatRoom（直播群）不支持该接口，对此类型群组进行操作将返回10007错误"
    // (`群组管理/查询用户在群组中的身份.md`).
    keeps_members(entry, "get_role_in_group", codes::NOT_ALLOWED)?;
    let user_id_list = accounts
        .into_iter()
        .map(|account| {
            let role = match entry.role_of(&account) {
                Some(role) => role.as_str(),
                None => "NotMember",
            };
            RoleItem {
                member_account: account,
                role,
            }
        })
        .collect();
    Ok(Done::read(ok_body(&RoleList { user_id_list })))
}

/// `add_group_member`.
pub(super) fn add(body: &Body, store: &mut Store, ctx: &Ctx) -> Result<Done, Reject> {
    let entry = named_group(body, store)?;
    let items = body.member_objects("MemberList", "Member_Account")?;
    check_count("MemberList", items.len(), rules::ADD_MEMBERS_MAX)?;
    let silent = check_silence(body)?;
    keeps_members(entry, "add_group_member", codes::NOT_ALLOWED)?;
    let mut results = Vec::with_capacity(items.len());
    let mut upsert: Vec<Member> = Vec::new();
    for (account, _) in items {
        rules::check_account("MemberList.Member_Account", &account)?;
        let known =
            entry.members.contains_key(&account) || upsert.iter().any(|m| m.account == account);
        if !known {
            upsert.push(Member {
                account: account.clone(),
                role: Role::Member,
                join_time: ctx.now,
                custom: Default::default(),
                profile: Default::default(),
            });
        }
        results.push(AddResult {
            member_account: account,
            result: if known { 2 } else { 1 },
        });
    }
    let imports = ctx.app.require_accounts(
        store,
        "MemberList.Member_Account",
        upsert.iter().map(|m| m.account.as_str()),
    )?;
    if !upsert.is_empty() {
        let after = entry.members.len() + upsert.len();
        rules::check_fits(
            "MaxMemberNum",
            entry.group.kind,
            after,
            entry.group.max_members,
        )?;
    }
    let record = (!upsert.is_empty()).then(|| Record::Update {
        group: entry.group.clone(),
        upsert,
        remove: Vec::new(),
    });
    let kind = entry.group.kind;
    apply(store, &record)?;
    let record = record.map(|r| with_imports(store, imports, r));
    Ok(Done {
        body: ok_body(&AddedMembers {
            member_list: results,
        }),
        notice: record.is_some() && !silent && kind.notifies_member_changes(),
        record,
        created: None,
    })
}

/// `delete_group_member`.
pub(super) fn delete(body: &Body, store: &mut Store) -> Result<Done, Reject> {
    let entry = named_group(body, store)?;
    let accounts = body.accounts("MemberToDel_Account")?;
    check_count(
        "MemberToDel_Account",
        accounts.len(),
        rules::DELETE_MEMBERS_MAX,
    )?;
    let silent = check_silence(body)?;
    body.opt::<String>("Reason")?;
    // "AVChatRoom（直播群）不支持删除群成员，对这种类型的群组进行操作时会返回10004错误"
    // (`群组管理/删除群组成员.md`).
    keeps_members(entry, "delete_group_member", codes::INVALID_PARAMETER)?;
    if let Some(owner) = accounts
        .iter()
        .find(|a| entry.role_of(a) == Some(Role::Owner))
    {
        return Err(Reject::param(format!(
            "MemberToDel_Account: {owner:?} owns group {:?} and cannot be deleted; transfer ownership first",
            entry.group.id
        )));
    }
    let mut remove: Vec<String> = accounts
        .into_iter()
        .filter(|a| entry.members.contains_key(a))
        .collect();
    remove.sort();
    remove.dedup();
    let kind = entry.group.kind;
    let record = (!remove.is_empty()).then(|| Record::Update {
        group: entry.group.clone(),
        upsert: Vec::new(),
        remove,
    });
    apply(store, &record)?;
    Ok(Done {
        body: ok_body(&Empty {}),
        notice: record.is_some() && !silent && kind.notifies_member_changes(),
        record,
        created: None,
    })
}

/// `modify_group_member_info` (`群组管理/修改群成员资料.md`): `Role` (`"Admin"` sets, `"Member"`
/// revokes the admin role), `MsgFlag`, `NameCard`, `AppMemberDefinedData` and the mute time
/// (`ShutUpTime` in that page, `MuteTime` in newer ones). The page's codes: 10004 for a bad
/// parameter, 10007 for what the group type or the role does not allow, 10010/10015 for the
/// group. A change is journaled as an `Update` of that one member with the profile unchanged:
/// a member profile is not the group profile, so `InfoSeq` stays ("群资料的每次变都会增加该值",
/// `群组系统.md`, is about the group's base fields).
pub(super) fn modify(body: &Body, store: &mut Store, ctx: &Ctx) -> Result<Done, Reject> {
    let entry = named_group(body, store)?;
    let account = body.req_account("Member_Account")?;
    rules::check_account("Member_Account", &account)?;
    let role = body
        .opt::<String>("Role")?
        .map(|role| match role.as_str() {
            "Admin" => Ok(Role::Admin),
            "Member" => Ok(Role::Member),
            "Owner" => Err(Reject::param(
                "Role: \"Owner\" cannot be set here; ownership moves with change_group_owner",
            )),
            other => Err(Reject::param(format!(
                "Role: {other:?} is not Admin or Member"
            ))),
        })
        .transpose()?;
    let msg_flag = body
        .opt::<String>("MsgFlag")?
        .map(|flag| MsgFlag::parse("MsgFlag", &flag))
        .transpose()?;
    let name_card = body.opt::<String>("NameCard")?;
    if let Some(card) = &name_card {
        rules::check_len("NameCard", card, rules::NAME_CARD_MAX)?;
    }
    let custom = body
        .opt::<Vec<KeyValue>>("AppMemberDefinedData")?
        .unwrap_or_default();
    let mute = mute_time(body)?;
    // "AVChatRoom（直播群）不存储群成员资料，所以不能修改成员资料 … 修改普通成员资料时会返回
    // 10007错误" (`群组管理/修改群成员资料.md`): the emulator keeps no AVChatRoom members at
    // all, so every one is refused so.
    keeps_members(entry, "modify_group_member_info", codes::NOT_ALLOWED)?;
    let group = &entry.group;
    // The page names no code for a target outside the group; 10004 naming the field, as
    // change_group_owner answers for a new owner who is not a member.
    let Some(old) = entry.members.get(&account) else {
        return Err(Reject::param(format!(
            "Member_Account {account:?} is not a member of group {:?}",
            group.id
        )));
    };
    let mut member = old.clone();
    if let Some(role) = role {
        // Only the owner role outranks the admin one and it moves only with change_group_owner
        // ("群主 … 转让群组", `群组系统.md`); the page names no code, so 10004 naming the field.
        if old.role == Role::Owner {
            return Err(Reject::param(format!(
                "Role: {account:?} owns group {:?}; the owner's role changes only with change_group_owner",
                group.id
            )));
        }
        // "是否支持设置管理员": Work (Private) and AVChatRoom 不支持 (`群组系统.md`); 10007 is the
        // page's "操作权限不足".
        if role == Role::Admin && !group.kind.allows_admins() {
            return Err(Reject::new(
                codes::NOT_ALLOWED,
                format!(
                    "Role: a {} group has no admins; {account:?} cannot be made Admin in group {:?}",
                    group.kind.as_str(),
                    group.id
                ),
            ));
        }
        member.role = role;
    }
    if let Some(flag) = msg_flag {
        member.profile.msg_flag = flag;
    }
    if let Some(card) = name_card {
        member.profile.name_card = card;
    }
    for kv in custom {
        rules::check_custom_key("AppMemberDefinedData", &kv.key)?;
        rules::check_len(
            &format!("AppMemberDefinedData value of key {:?}", kv.key),
            &kv.value,
            rules::MEMBER_CUSTOM_VALUE_MAX,
        )?;
        if kv.value.is_empty() {
            member.custom.remove(&kv.key);
        } else {
            member.custom.insert(kv.key, kv.value);
        }
    }
    if member.custom.len() > rules::MEMBER_CUSTOM_FIELDS_MAX {
        return Err(Reject::param(format!(
            "AppMemberDefinedData: a member holds at most {} custom fields, not {}",
            rules::MEMBER_CUSTOM_FIELDS_MAX,
            member.custom.len()
        )));
    }
    if let Some((field, seconds)) = mute {
        if !group.kind.allows_member_mute() {
            return Err(Reject::new(
                codes::NOT_ALLOWED,
                format!(
                    "{field}: members of a {} group cannot be muted (group {:?})",
                    group.kind.as_str(),
                    group.id
                ),
            ));
        }
        member.profile.mute_until = match seconds {
            0 => 0,
            seconds => ctx.now.saturating_add(seconds),
        };
    }
    let record = (member != *old).then(|| Record::Update {
        group: group.clone(),
        upsert: vec![member],
        remove: Vec::new(),
    });
    apply(store, &record)?;
    Ok(Done {
        body: ok_body(&Empty {}),
        record,
        created: None,
        notice: false,
    })
}

/// The mute time in seconds (0 unmutes): `ShutUpTime` in `修改群成员资料.md`, `MuteTime` in
/// newer pages; both given must agree. Returns the field name used, for `ErrorInfo`.
fn mute_time(body: &Body) -> Result<Option<(&'static str, u64)>, Reject> {
    match (body.opt::<u64>("MuteTime")?, body.opt::<u64>("ShutUpTime")?) {
        (Some(a), Some(b)) if a != b => Err(Reject::param(
            "MuteTime and ShutUpTime (its older name) disagree",
        )),
        (Some(a), _) => Ok(Some(("MuteTime", a))),
        (None, Some(b)) => Ok(Some(("ShutUpTime", b))),
        (None, None) => Ok(None),
    }
}

/// `get_group_member_info`.
pub(super) fn page(body: &Body, store: &mut Store, ctx: &Ctx) -> Result<Done, Reject> {
    let entry = named_group(body, store)?;
    keeps_members(entry, "get_group_member_info", codes::NOT_ALLOWED)?;
    let names = body.opt::<Vec<String>>("MemberInfoFilter")?;
    let custom_keys = body.opt::<Vec<String>>("AppDefinedDataFilter_GroupMember")?;
    let fields = match &names {
        Some(names) => MemberFields::named(names),
        None => MemberFields::ALL,
    }
    .custom_keys(custom_keys.as_deref());
    let roles = body
        .opt::<Vec<String>>("MemberRoleFilter")?
        .map(|names| {
            names
                .iter()
                .map(|n| Role::parse("MemberRoleFilter", n))
                .collect::<Result<Vec<Role>, Reject>>()
        })
        .transpose()?;
    let limit = match body.opt::<u64>("Limit")? {
        None | Some(0) => u64::MAX,
        Some(limit) if limit > rules::MEMBER_PAGE_MAX => {
            return Err(Reject::param(format!(
                "Limit {limit} is more than the {} allowed",
                rules::MEMBER_PAGE_MAX
            )));
        }
        Some(limit) => limit,
    };
    let community = entry.group.kind == rules::GroupType::Community;
    let offset = match (community, body.opt::<u64>("Offset")?.unwrap_or(0)) {
        (false, offset) => offset,
        (true, 0) => community_cursor(body)?,
        (true, _) => {
            return Err(Reject::param(
                "Offset: a Community group pages with Next, not Offset",
            ));
        }
    };
    let selected: Vec<&Member> = entry
        .members
        .values()
        .filter(|m| roles.as_ref().is_none_or(|r| r.contains(&m.role)))
        .collect();
    let member_list: Vec<MemberItem> = selected
        .iter()
        .skip(offset as usize)
        .take(limit.min(usize::MAX as u64) as usize)
        .map(|m| fields.item(m, ctx.now))
        .collect();
    let end = offset.saturating_add(member_list.len() as u64);
    let next = community.then(|| match end < selected.len() as u64 {
        true => end.to_string(),
        false => String::new(),
    });
    Ok(Done::read(ok_body(&MemberPage {
        member_num: entry.members.len() as u64,
        member_list,
        next,
    })))
}

/// A Community's `Next`: absent, `""` or `0` to start, else the cursor the last page returned.
/// The newer pages type it as a string (start with `""`); the older page as an integer, "首次
/// 调用填写0，续拉使用返回中的 Next 值" (`获取群组成员详细资料.md` at qcloud-documents
/// `da9fd19e`), so both forms are taken. The answer's `Next` is always the newer string.
fn community_cursor(body: &Body) -> Result<u64, Reject> {
    match body.opt::<serde_json::Value>("Next")? {
        None => Ok(0),
        Some(serde_json::Value::String(next)) if next.is_empty() => Ok(0),
        Some(serde_json::Value::String(next)) => next.parse().map_err(|_| {
            Reject::param(format!("Next {next:?} is not a cursor this group returned"))
        }),
        Some(serde_json::Value::Number(next)) => next.as_u64().ok_or_else(|| {
            Reject::param(format!("Next {next} is not a cursor this group returned"))
        }),
        Some(other) => Err(Reject::param(format!(
            "Next: expected a string or an integer, not {other}"
        ))),
    }
}

fn apply(store: &mut Store, record: &Option<Record>) -> Result<(), Reject> {
    match record {
        Some(record) => store
            .apply(record)
            .map_err(|reason| Reject::new(codes::INTERNAL, reason)),
        None => Ok(()),
    }
}
