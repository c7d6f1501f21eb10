//! The member commands: `get_role_in_group`, `add_group_member`, `delete_group_member`,
//! `get_group_member_info`.
//!
//! Members exist because `change_group_owner` needs the new owner to be one and `MemberNum` is
//! reported; the emulator keeps account, role and join time, nothing per-message. A member
//! added must be an imported account (10019 otherwise, as `增加群组成员.md` lists it).
//!
//! Choices where the reference is unsure:
//! - Member changes do not touch `InfoSeq` (they are not profile changes).
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
use super::super::rules::{self, Reject, Role, codes};
use super::super::store::{Entry, Member, Record, Store};
use super::super::wire::{
    AddResult, AddedMembers, Body, Empty, MemberItem, MemberPage, RoleItem, RoleList, ok_body,
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

    pub fn item(&self, member: &Member) -> MemberItem {
        let custom = |keys: Option<&[String]>| custom_list(&member.custom, keys);
        MemberItem {
            member_account: member.account.clone(),
            role: self.role.then_some(member.role.as_str()),
            join_time: self.join_time.then_some(member.join_time),
            msg_seq: self.msg_seq.then_some(0),
            msg_flag: self.msg_flag.then_some("AcceptAndNotify"),
            last_send_msg_time: self.last_send_msg_time.then_some(0),
            mute_until: self.mute_until.then_some(0),
            shut_up_until: self.shut_up_until.then_some(0),
            name_card: self.name_card.then(String::new),
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
    check_silence(body)?;
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
    apply(store, &record)?;
    let record = record.map(|r| with_imports(store, imports, r));
    Ok(Done {
        body: ok_body(&AddedMembers {
            member_list: results,
        }),
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
    check_silence(body)?;
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
    let record = (!remove.is_empty()).then(|| Record::Update {
        group: entry.group.clone(),
        upsert: Vec::new(),
        remove,
    });
    apply(store, &record)?;
    Ok(Done {
        body: ok_body(&Empty {}),
        record,
        created: None,
    })
}

/// `get_group_member_info`.
pub(super) fn page(body: &Body, store: &mut Store) -> Result<Done, Reject> {
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
        .map(|m| fields.item(m))
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
