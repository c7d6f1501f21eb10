//! The commands that make, change and remove groups: `import_group`, `create_group`,
//! `modify_group_base_info`, `change_group_owner`, `destroy_group`.
//!
//! Choices where the reference is unsure:
//! - `MuteAllMember`/`ShutUpAllMember` are not create/import fields in any doc: they are ignored
//!   there (set them with a modify), like every unknown field.
//! - An empty `Owner_Account` at create/import means "no owner"; an empty `Name` is refused.
//! - A GroupId in use is always 10021 (never 10025: every caller is an app admin, not a user).
//! - `MaxMemberNum` may be set below the current member count; it only stops further adds.
//! - Changing the owner to the current owner is a no-op; changing it to a non-member is 10004.
//! - `MaxMemberCount`/`MaxMemberNum` 0, `ApplyJoinOption` "" and import's `CreateTime` 0 are
//!   "not given" (the default at create/import, no change at modify), since published SDKs
//!   send zero values; none of them is a legal setting.
//! - import_group's default cap is 2000 for every type it imports, Community included (its
//!   page gives one default); create_group keeps the older per-type defaults.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::super::app::{check_custom_count, with_imports};
use super::super::rules::{
    self, ApplyJoin, FACE_URL_MAX, GroupType, INTRODUCTION_MAX, NAME_MAX, NOTIFICATION_MAX, Reject,
    Role, codes,
};
use super::super::store::{Group, Member, Record, Store, new_members};
use super::super::wire::{Body, CreatedGroup, Empty, JsonObject, KeyValue, ok_body};
use super::{Ctx, Done, check_count, custom_fields, named_group};

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// `import_group` (`import = true`) and `create_group`.
pub(super) fn new_group(
    body: &Body,
    store: &mut Store,
    ctx: &Ctx,
    import: bool,
) -> Result<Done, Reject> {
    let kind = GroupType::parse("Type", &body.req::<String>("Type")?)?;
    if import && !kind.keeps_members() {
        return Err(Reject::new(
            codes::NOT_ALLOWED,
            "Type: import_group does not support AVChatRoom groups; use create_group",
        ));
    }
    let name: String = body.req("Name")?;
    check_name(&name)?;
    let introduction = text_field(body, "Introduction", INTRODUCTION_MAX)?.unwrap_or_default();
    let notification = text_field(body, "Notification", NOTIFICATION_MAX)?.unwrap_or_default();
    let face_url = text_field(body, "FaceUrl", FACE_URL_MAX)?.unwrap_or_default();
    let owner = body.opt_account("Owner_Account")?.unwrap_or_default();
    let default_max = match import {
        true => rules::IMPORT_MAX_MEMBERS_DEFAULT,
        false => kind.default_max_members(),
    };
    let max_members = rules::max_members(
        "MaxMemberCount",
        kind,
        body.opt_nonzero::<u64>("MaxMemberCount")?,
        default_max,
    )?;
    let apply_join = match body.opt_nonzero::<String>("ApplyJoinOption")? {
        Some(_) if import && kind == GroupType::Community => {
            return Err(Reject::param(
                "ApplyJoinOption cannot be given when importing a Community group",
            ));
        }
        Some(value) => ApplyJoin::parse(&value)?,
        None => kind.default_apply_join(),
    };
    let custom: BTreeMap<String, String> = custom_fields(body, ctx)?
        .into_iter()
        .filter(|kv| !kv.value.is_empty())
        .map(|kv| (kv.key, kv.value))
        .collect();
    check_custom_count("AppDefinedData", custom.len())?;
    // "不填会以请求时刻为准" (`导入群基础资料.md`): absent or 0 is the request time.
    let create_time = match import {
        true => body.opt_nonzero::<u64>("CreateTime")?.unwrap_or(ctx.now),
        false => ctx.now,
    };
    let others = match import {
        true => Vec::new(),
        false => initial_members(body, kind, ctx.now)?,
    };
    let members = new_members(kind, &owner, create_time, others);
    rules::check_fits("MaxMemberCount", kind, members.len(), max_members)?;
    let mut imports = ctx
        .app
        .require_accounts(store, "Owner_Account", [owner.as_str()])?;
    let listed = members.keys().filter(|a| **a != owner).map(String::as_str);
    imports.extend(
        ctx.app
            .require_accounts(store, "MemberList.Member_Account", listed)?,
    );
    let requested: Option<String> = body.opt("GroupId")?;
    let assigned = requested.is_none();
    let id = match requested {
        Some(id) => {
            rules::check_group_id(&id, kind, false)?;
            if store.contains(&id) {
                return Err(Reject::new(
                    codes::GROUP_ID_IN_USE,
                    format!("GroupId {id:?} is already in use"),
                ));
            }
            id
        }
        None => assign_id(store, kind),
    };
    let group = Group {
        id: id.clone(),
        kind,
        name,
        introduction,
        notification,
        face_url,
        owner,
        max_members,
        apply_join,
        mute_all: false,
        custom,
        create_time,
        info_seq: 1,
        last_info_time: ctx.now,
        list_seq: store.next_list_seq(),
    };
    let record = Record::Put {
        group,
        members: members.into_values().collect(),
    };
    store.apply(&record).map_err(internal)?;
    let record = with_imports(store, imports, record);
    Ok(Done {
        body: ok_body(&CreatedGroup {
            group_id: id.clone(),
        }),
        record: Some(record),
        created: assigned.then_some(id),
        notice: false,
    })
}

/// `MemberList` of create_group: accounts with `Role` "Admin" or none, and their
/// `AppMemberDefinedData` (`创建群组.md`), joined `now`.
fn initial_members(body: &Body, kind: GroupType, now: u64) -> Result<Vec<Member>, Reject> {
    if body.opt::<serde_json::Value>("MemberList")?.is_none() {
        return Ok(Vec::new());
    }
    let items = body.member_objects("MemberList", "Member_Account")?;
    if items.is_empty() {
        return Ok(Vec::new());
    }
    if !kind.keeps_members() {
        return Err(Reject::new(
            codes::NOT_ALLOWED,
            "MemberList: an AVChatRoom group cannot be given members",
        ));
    }
    check_count("MemberList", items.len(), rules::CREATE_MEMBERS_MAX)?;
    items
        .into_iter()
        .map(|(account, item)| {
            rules::check_account("MemberList.Member_Account", &account)?;
            let role = match item.get("Role") {
                None | Some(serde_json::Value::Null) => Role::Member,
                // As modify_group_member_info refuses it: a Work (Private) group has no
                // admins ("是否支持设置管理员", `群组系统.md`).
                Some(serde_json::Value::String(role)) if role == "Admin" && !kind.allows_admins() => {
                    return Err(Reject::new(
                        codes::NOT_ALLOWED,
                        format!(
                            "MemberList.Role: a {} group has no admins; {account:?} cannot be Admin",
                            kind.as_str()
                        ),
                    ));
                }
                Some(serde_json::Value::String(role)) if role == "Admin" => Role::Admin,
                Some(other) => {
                    return Err(Reject::param(format!(
                        "MemberList.Role: only \"Admin\" may be given, not {other}"
                    )));
                }
            };
            let custom = member_custom_fields(&item)?;
            Ok(Member {
                account,
                role,
                join_time: now,
                custom,
                profile: Default::default(),
            })
        })
        .collect()
}

/// A `MemberList` item's `AppMemberDefinedData`: well-formed keys, values of at most 64 bytes,
/// at most 5 fields; an empty value sets nothing. Any well-formed key is taken: the emulator
/// has no console setting for member fields (README, "The emulator").
fn member_custom_fields(item: &JsonObject) -> Result<BTreeMap<String, String>, Reject> {
    const FIELD: &str = "MemberList.AppMemberDefinedData";
    let items: Vec<KeyValue> = match item.get("AppMemberDefinedData") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(value) => Vec::<KeyValue>::deserialize(value)
            .map_err(|e| Reject::param(format!("{FIELD}: {e}")))?,
    };
    let mut custom = BTreeMap::new();
    for kv in items {
        rules::check_custom_key(FIELD, &kv.key)?;
        rules::check_len(
            &format!("{FIELD} value of key {:?}", kv.key),
            &kv.value,
            rules::MEMBER_CUSTOM_VALUE_MAX,
        )?;
        if !kv.value.is_empty() {
            custom.insert(kv.key, kv.value);
        }
    }
    if custom.len() > rules::MEMBER_CUSTOM_FIELDS_MAX {
        return Err(Reject::param(format!(
            "{FIELD}: a member holds at most {} custom fields, not {}",
            rules::MEMBER_CUSTOM_FIELDS_MAX,
            custom.len()
        )));
    }
    Ok(custom)
}

/// `modify_group_base_info`.
pub(super) fn modify(body: &Body, store: &mut Store, ctx: &Ctx) -> Result<Done, Reject> {
    let entry = named_group(body, store)?;
    let mut group = entry.group.clone();
    if let Some(name) = body.opt::<String>("Name")? {
        check_name(&name)?;
        group.name = name;
    }
    if let Some(text) = text_field(body, "Introduction", INTRODUCTION_MAX)? {
        group.introduction = text;
    }
    if let Some(text) = text_field(body, "Notification", NOTIFICATION_MAX)? {
        group.notification = text;
    }
    if let Some(text) = text_field(body, "FaceUrl", FACE_URL_MAX)? {
        group.face_url = text;
    }
    // Ignored for AVChatRoom (always 0), as the reference says. 0 and "" are "not given"
    // (no change), as at create and import: SDKs send them on every call.
    if let Some(max) = body.opt_nonzero::<u64>("MaxMemberNum")? {
        group.max_members =
            rules::max_members("MaxMemberNum", group.kind, Some(max), group.max_members)?;
    }
    if let Some(value) = body.opt_nonzero::<String>("ApplyJoinOption")? {
        group.apply_join = ApplyJoin::parse(&value)?;
    }
    if let Some(mute) = mute_all(body)? {
        group.mute_all = mute;
    }
    for kv in custom_fields(body, ctx)? {
        if kv.value.is_empty() {
            group.custom.remove(&kv.key);
        } else {
            group.custom.insert(kv.key, kv.value);
        }
    }
    check_custom_count("AppDefinedData", group.custom.len())?;
    let record = profile_change(store, group, Vec::new(), ctx);
    Ok(Done {
        body: ok_body(&Empty {}),
        record,
        created: None,
        notice: false,
    })
}

/// `MuteAllMember` or its older name `ShutUpAllMember`; both given must agree.
fn mute_all(body: &Body) -> Result<Option<bool>, Reject> {
    let parse = |field: &str| -> Result<Option<bool>, Reject> {
        body.opt::<String>(field)?
            .map(|value| rules::parse_switch(field, &value))
            .transpose()
    };
    match (parse("MuteAllMember")?, parse("ShutUpAllMember")?) {
        (Some(a), Some(b)) if a != b => Err(Reject::param(
            "MuteAllMember and ShutUpAllMember (its older name) disagree",
        )),
        (a, b) => Ok(a.or(b)),
    }
}

/// `change_group_owner`.
pub(super) fn change_owner(body: &Body, store: &mut Store, ctx: &Ctx) -> Result<Done, Reject> {
    let entry = named_group(body, store)?;
    let new_owner = body.req_account("NewOwner_Account")?;
    rules::check_account("NewOwner_Account", &new_owner)?;
    let imports = ctx
        .app
        .require_accounts(store, "NewOwner_Account", [new_owner.as_str()])?;
    if !entry.group.kind.keeps_members() {
        return Err(Reject::new(
            codes::NOT_ALLOWED,
            "change_group_owner does not support AVChatRoom groups",
        ));
    }
    let Some(new_member) = entry.members.get(&new_owner) else {
        return Err(Reject::param(format!(
            "NewOwner_Account {new_owner:?} is not a member of group {:?}",
            entry.group.id
        )));
    };
    let mut upsert = vec![Member {
        role: Role::Owner,
        ..new_member.clone()
    }];
    if let Some(old) = entry.members.get(&entry.group.owner)
        && old.account != new_owner
    {
        upsert.push(Member {
            role: Role::Member,
            ..old.clone()
        });
    }
    let mut group = entry.group.clone();
    group.owner = new_owner;
    let record = profile_change(store, group, upsert, ctx).map(|r| with_imports(store, imports, r));
    Ok(Done {
        body: ok_body(&Empty {}),
        record,
        created: None,
        notice: false,
    })
}

/// `destroy_group`.
pub(super) fn destroy(body: &Body, store: &mut Store) -> Result<Done, Reject> {
    let id = named_group(body, store)?.group.id.clone();
    let record = Record::Delete { id };
    store.apply(&record).map_err(internal)?;
    Ok(Done {
        body: ok_body(&Empty {}),
        record: Some(record),
        created: None,
        notice: false,
    })
}

/// Applies a new profile when it differs from the stored one: `InfoSeq` + 1 and `LastInfoTime`
/// now. Returns the record to journal, or `None` when nothing changed.
fn profile_change(
    store: &mut Store,
    mut group: Group,
    upsert: Vec<Member>,
    ctx: &Ctx,
) -> Option<Record> {
    let current = &store.get(&group.id)?.group;
    if *current == group {
        return None;
    }
    group.info_seq = current.info_seq + 1;
    group.last_info_time = ctx.now;
    let record = Record::Update {
        group,
        upsert,
        remove: Vec::new(),
    };
    store
        .apply(&record)
        .expect("an update of a group just read applies");
    Some(record)
}

fn check_name(name: &str) -> Result<(), Reject> {
    if name.is_empty() {
        return Err(Reject::param("Name must not be empty"));
    }
    rules::check_len("Name", name, NAME_MAX)
}

fn text_field(body: &Body, field: &str, max: usize) -> Result<Option<String>, Reject> {
    let value: Option<String> = body.opt(field)?;
    if let Some(value) = &value {
        rules::check_len(field, value, max)?;
    }
    Ok(value)
}

/// A server-assigned ID, shaped like the service's (`@TGS#…`, Community `@TGS#_@TGS#c…`).
fn assign_id(store: &Store, kind: GroupType) -> String {
    loop {
        let suffix: String = (0..8)
            .map(|_| ID_ALPHABET[rand::random_range(0..ID_ALPHABET.len())] as char)
            .collect();
        let id = match kind {
            GroupType::Community => format!("@TGS#_@TGS#c{suffix}"),
            GroupType::AVChatRoom => format!("@TGS#a{suffix}"),
            _ => format!("@TGS#2{suffix}"),
        };
        if !store.contains(&id) {
            return id;
        }
    }
}

fn internal(reason: String) -> Reject {
    Reject::new(codes::INTERNAL, reason)
}
