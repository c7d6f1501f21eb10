//! The account commands of `im_open_login_svc`: `account_import`, `multiaccount_import`,
//! `account_check`, `account_delete`. Facts from qcloud-documents
//! `product/移动与通信/即时通信/9服务端 API/服务端API/账号管理/` (导入单个帐号.md,
//! 导入多个帐号.md, 查询帐号.md, 删除帐号.md) and `11错误码.md`:
//! - `account_import` takes `UserID` (older pages: `Identifier`), at most 32 bytes, and optional
//!   `Nick`/`FaceUrl`; importing an account twice creates it once. 200 calls/s.
//! - `multiaccount_import` takes `Accounts` (≤ 100 names, each ≤ 32 bytes) and answers
//!   `FailAccounts`; `account_check` takes `CheckItem` `[{UserID}]` (≤ 100) and answers
//!   `ResultItem` `[{UserID, ResultCode, ResultInfo, AccountStatus: Imported|NotImported}]`;
//!   `account_delete` takes `DeleteItem` `[{UserID}]` (≤ 100) and answers `ResultItem`, with
//!   `ResultCode` 70107 `Err_TLS_PT_Open_Login_Account_Not_Exist` for an unknown account.
//!   100 calls/s each.
//! - Codes: 70402 invalid parameter, 70206 batch count invalid, 60015 an account that is not
//!   a string.
//!
//! Choices where the documentation is unsure:
//! - An empty list or one over 100 is 70206; a name that is empty or over 32 bytes is 70402 for
//!   account_import and lands in `FailAccounts` for multiaccount_import.
//! - `Nick` and `FaceUrl` are checked for type and not kept (no command here reads them).
//! - App admins always exist (the console creates them): account_check reports them
//!   `Imported`, and account_delete refuses them per item with 70402.
//! - Deleting an account leaves the groups it owns or belongs to as they are; it only stops
//!   new uses of the name. The trial-edition account cap (70398) and the "professional
//!   edition cannot delete" rule (71000) are not emulated.

use super::super::rules::{self, Reject, codes};
use super::super::store::{Record, Store};
use super::super::wire::{AccountResult, AccountResults, Body, Empty, ImportedAccounts, ok_body};
use super::{Ctx, Done};

/// The account service answers 70402 where the group service says 10004.
fn account_code(reject: Reject) -> Reject {
    match reject.code {
        codes::INVALID_PARAMETER => Reject::new(codes::ACCOUNT_PARAMETER, reject.info),
        _ => reject,
    }
}

/// Why `user_id` cannot be an account name, if it cannot.
fn bad_user_id(field: &str, user_id: &str) -> Option<Reject> {
    if user_id.is_empty() {
        return Some(Reject::new(
            codes::ACCOUNT_PARAMETER,
            format!("{field} must not be empty"),
        ));
    }
    if user_id.len() > rules::USER_ID_MAX {
        return Some(Reject::new(
            codes::ACCOUNT_PARAMETER,
            format!(
                "{field} is {} bytes, more than the {} allowed",
                user_id.len(),
                rules::USER_ID_MAX
            ),
        ));
    }
    None
}

fn check_batch(field: &str, len: usize) -> Result<(), Reject> {
    if len == 0 || len > rules::ACCOUNT_BATCH_MAX {
        return Err(Reject::new(
            codes::BATCH_COUNT,
            format!(
                "{field} has {len} accounts; 1 to {} are allowed per call",
                rules::ACCOUNT_BATCH_MAX
            ),
        ));
    }
    Ok(())
}

fn import_record(store: &mut Store, accounts: Vec<String>) -> Option<Record> {
    let fresh: Vec<String> = accounts
        .into_iter()
        .filter(|a| !store.has_account(a))
        .collect();
    if fresh.is_empty() {
        return None;
    }
    let record = Record::Accounts {
        import: fresh,
        delete: Vec::new(),
    };
    store.apply(&record).expect("an account import applies");
    Some(record)
}

/// `account_import`.
pub(super) fn import(body: &Body, store: &mut Store) -> Result<Done, Reject> {
    let user_id = match body.opt_account("UserID")? {
        Some(id) => id,
        None => body
            .req_account("Identifier")
            .map_err(|_| Reject::new(codes::ACCOUNT_PARAMETER, "UserID is required"))?,
    };
    for field in ["Nick", "FaceUrl"] {
        body.opt::<String>(field).map_err(account_code)?;
    }
    if let Some(reject) = bad_user_id("UserID", &user_id) {
        return Err(reject);
    }
    let record = import_record(store, vec![user_id]);
    Ok(Done {
        body: ok_body(&Empty {}),
        record,
        created: None,
        notice: false,
    })
}

/// `multiaccount_import`.
pub(super) fn import_many(body: &Body, store: &mut Store) -> Result<Done, Reject> {
    let accounts = body.accounts("Accounts").map_err(account_code)?;
    check_batch("Accounts", accounts.len())?;
    let (good, fail_accounts): (Vec<String>, Vec<String>) = accounts
        .into_iter()
        .partition(|a| bad_user_id("Accounts", a).is_none());
    let mut good_unique: Vec<String> = Vec::with_capacity(good.len());
    for account in good {
        if !good_unique.contains(&account) {
            good_unique.push(account);
        }
    }
    let record = import_record(store, good_unique);
    Ok(Done {
        body: ok_body(&ImportedAccounts { fail_accounts }),
        record,
        created: None,
        notice: false,
    })
}

/// The `UserID`s of `CheckItem` / `DeleteItem`.
fn items(body: &Body, field: &str) -> Result<Vec<String>, Reject> {
    let items = body.member_objects(field, "UserID").map_err(account_code)?;
    check_batch(field, items.len())?;
    Ok(items.into_iter().map(|(user_id, _)| user_id).collect())
}

/// `account_check`.
pub(super) fn check(body: &Body, store: &mut Store, ctx: &Ctx) -> Result<Done, Reject> {
    let result_item = items(body, "CheckItem")?
        .into_iter()
        .map(|user_id| {
            // The built-in demo makes accounts on first use, so to it every account exists.
            let imported = ctx.app.auto_import_accounts || ctx.app.account_exists(store, &user_id);
            AccountResult {
                user_id,
                result_code: 0,
                result_info: String::new(),
                account_status: Some(if imported { "Imported" } else { "NotImported" }),
            }
        })
        .collect();
    Ok(Done::read(ok_body(&AccountResults { result_item })))
}

/// `account_delete`.
pub(super) fn delete(body: &Body, store: &mut Store, ctx: &Ctx) -> Result<Done, Reject> {
    let mut delete: Vec<String> = Vec::new();
    let result_item = items(body, "DeleteItem")?
        .into_iter()
        .map(|user_id| {
            let (result_code, result_info) = if ctx.app.admins.contains(&user_id) {
                (
                    codes::ACCOUNT_PARAMETER,
                    "an app admin is managed in the console and cannot be deleted".to_owned(),
                )
            } else if store.has_account(&user_id) || delete.contains(&user_id) {
                if !delete.contains(&user_id) {
                    delete.push(user_id.clone());
                }
                (0, String::new())
            } else {
                (
                    codes::USER_NOT_FOUND,
                    "Err_TLS_PT_Open_Login_Account_Not_Exist".to_owned(),
                )
            };
            AccountResult {
                user_id,
                result_code,
                result_info,
                account_status: None,
            }
        })
        .collect();
    let record = (!delete.is_empty()).then(|| Record::Accounts {
        import: Vec::new(),
        delete,
    });
    if let Some(record) = &record {
        store.apply(record).expect("an account delete applies");
    }
    Ok(Done {
        body: ok_body(&AccountResults { result_item }),
        record,
        created: None,
        notice: false,
    })
}
