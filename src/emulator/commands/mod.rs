//! The commands (twelve of the group service, four of the account service): each validates
//! its request against the rules, reads or changes the [`Store`], and returns the response
//! body plus, for a write, the [`Record`] to journal.
//!
//! Commands run under the store lock and never block: durability, faults and rate limits are
//! the server's business. A command that changes nothing (a modify that sets what is already
//! there) returns no record, so `InfoSeq` grows only on a real profile change.

mod accounts;
mod groups;
mod members;
mod reads;

use std::collections::BTreeMap;

use super::app::App;
use super::rules::{self, Reject, codes};
use super::store::{Entry, Record, Store};
use super::wire::{Body, Command, KeyValue};

/// What a command needs to know besides its body.
pub(crate) struct Ctx<'a> {
    pub sdkappid: u64,
    /// Unix seconds.
    pub now: u64,
    pub app: &'a App,
}

/// A command's answer.
pub(crate) struct Done {
    pub body: Vec<u8>,
    /// The change to make durable before answering; `None` for reads and no-ops.
    pub record: Option<Record>,
    /// A server-assigned GroupId, for the request log.
    pub created: Option<String>,
    /// The call sent the group a system notification (a member added or removed without
    /// `Silence`), for the request log.
    pub notice: bool,
}

impl Done {
    fn read(body: Vec<u8>) -> Done {
        Done {
            body,
            record: None,
            created: None,
            notice: false,
        }
    }
}

pub(crate) fn run(
    command: Command,
    body: &Body,
    store: &mut Store,
    ctx: &Ctx,
) -> Result<Done, Reject> {
    match command {
        Command::ImportGroup => groups::new_group(body, store, ctx, true),
        Command::CreateGroup => groups::new_group(body, store, ctx, false),
        Command::ModifyGroupBaseInfo => groups::modify(body, store, ctx),
        Command::ChangeGroupOwner => groups::change_owner(body, store, ctx),
        Command::DestroyGroup => groups::destroy(body, store),
        Command::GetGroupInfo => reads::group_info(body, store, ctx),
        Command::GetAppidGroupList => reads::group_list(body, store),
        Command::GetRoleInGroup => members::roles(body, store),
        Command::AddGroupMember => members::add(body, store, ctx),
        Command::DeleteGroupMember => members::delete(body, store),
        Command::GetGroupMemberInfo => members::page(body, store, ctx),
        Command::ModifyGroupMemberInfo => members::modify(body, store, ctx),
        Command::AccountImport => accounts::import(body, store),
        Command::MultiaccountImport => accounts::import_many(body, store),
        Command::AccountCheck => accounts::check(body, store, ctx),
        Command::AccountDelete => accounts::delete(body, store, ctx),
    }
}

/// The group a request names: 10015 for an ID no group could have, 10010 for one that is not
/// there (never was, or was destroyed).
fn find_group<'s>(store: &'s Store, id: &str) -> Result<&'s Entry, Reject> {
    if !rules::is_well_formed_group_id(id) {
        return Err(Reject::new(
            codes::INVALID_GROUP_ID,
            format!("GroupId {id:?} is not a valid group ID"),
        ));
    }
    store.get(id).ok_or_else(|| {
        Reject::new(
            codes::GROUP_NOT_FOUND,
            format!("group {id:?} does not exist or was destroyed"),
        )
    })
}

/// The `GroupId` of a request and its group.
fn named_group<'s>(body: &Body, store: &'s Store) -> Result<&'s Entry, Reject> {
    let id: String = body.req("GroupId")?;
    find_group(store, &id)
}

/// `AppDefinedData` items, each key (configured for the app) and value checked.
fn custom_fields(body: &Body, ctx: &Ctx) -> Result<Vec<KeyValue>, Reject> {
    let items: Vec<KeyValue> = body.opt("AppDefinedData")?.unwrap_or_default();
    for item in &items {
        ctx.app.check_custom_key("AppDefinedData", &item.key)?;
        rules::check_custom_value("AppDefinedData", &item.key, &item.value)?;
    }
    Ok(items)
}

/// `AppDefinedData` as the wire lists it, optionally only some keys.
fn custom_list(custom: &BTreeMap<String, String>, keys: Option<&[String]>) -> Vec<KeyValue> {
    custom
        .iter()
        .filter(|(key, _)| keys.is_none_or(|keys| keys.contains(key)))
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: value.clone(),
        })
        .collect()
}

/// `Silence`: 0 or 1 when given; whether it is 1 ("静默", no system notification).
fn check_silence(body: &Body) -> Result<bool, Reject> {
    match body.opt::<u64>("Silence")? {
        None | Some(0) => Ok(false),
        Some(1) => Ok(true),
        Some(other) => Err(Reject::param(format!(
            "Silence must be 0 or 1, not {other}"
        ))),
    }
}

/// A list size: empty is 10004, over `max` is 10005.
fn check_count(field: &str, len: usize, max: usize) -> Result<(), Reject> {
    if len == 0 {
        return Err(Reject::param(format!("{field} must not be empty")));
    }
    if len > max {
        return Err(Reject::new(
            codes::TOO_MANY_ACCOUNTS,
            format!("{field} has {len} entries, more than the {max} allowed"),
        ));
    }
    Ok(())
}
