//! The app's console configuration, as the commands see it: who the admins are, which group
//! custom-field keys are configured, and whether unknown accounts are refused or (built-in
//! demo only) imported on first use.
//!
//! In the cloud a group's owner and members must be accounts imported into the app
//! (`im_open_login_svc`), and `AppDefinedData` keys must first be configured in the console
//! (Feature Configuration → group custom fields; `群组系统.md`, `功能配置.md`). The emulator
//! follows both rules; [`CustomKeys::Any`] and `auto_import_accounts` relax them for the
//! built-in demo, which has no console.

use std::collections::BTreeSet;

use super::rules::{self, Reject, codes};
use super::store::{Record, Store};

/// The group custom-field keys an app has configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomKeys {
    /// Any well-formed key (the built-in demo); a group still holds at most 10.
    Any,
    /// Only these keys, as configured in the console.
    Only(BTreeSet<String>),
}

impl CustomKeys {
    /// The keys given, configured.
    pub fn only<S: Into<String>>(keys: impl IntoIterator<Item = S>) -> CustomKeys {
        CustomKeys::Only(keys.into_iter().map(Into::into).collect())
    }

    pub fn allows(&self, key: &str) -> bool {
        match self {
            CustomKeys::Any => true,
            CustomKeys::Only(keys) => keys.contains(key),
        }
    }

    /// Adds `more` to a list of configured keys (`Any` stays `Any`).
    pub fn extend(&mut self, more: impl IntoIterator<Item = String>) {
        if let CustomKeys::Only(keys) = self {
            keys.extend(more);
        }
    }
}

pub(crate) struct App {
    pub admins: Vec<String>,
    pub custom_keys: CustomKeys,
    pub auto_import_accounts: bool,
}

impl App {
    /// Whether `account` exists in the app: imported, or an app admin.
    pub fn account_exists(&self, store: &Store, account: &str) -> bool {
        store.has_account(account) || self.admins.iter().any(|a| a == account)
    }

    /// Checks that every account a write names exists. Returns those to import on first use
    /// (only with `auto_import_accounts`); otherwise an unknown one is 10019.
    pub fn require_accounts<'a>(
        &self,
        store: &Store,
        field: &str,
        accounts: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<String>, Reject> {
        let mut missing: Vec<String> = Vec::new();
        for account in accounts {
            if account.is_empty()
                || self.account_exists(store, account)
                || missing.iter().any(|m| m == account)
            {
                continue;
            }
            if !self.auto_import_accounts {
                return Err(Reject::new(
                    codes::ACCOUNT_NOT_FOUND,
                    format!(
                        "{field}: account {account:?} does not exist; import it first (v4/im_open_login_svc/account_import)"
                    ),
                ));
            }
            tracing::info!(
                account,
                "emulator: importing an unknown account on first use (built-in demo)"
            );
            missing.push(account.to_owned());
        }
        Ok(missing)
    }

    /// The custom-field key checks: syntax, then configured for the app (10004, as the
    /// service answers "all defined key is invalid" for an unconfigured key; reported in
    /// doocs/qcloud-im-server-sdk-java issue #142).
    pub fn check_custom_key(&self, field: &str, key: &str) -> Result<(), Reject> {
        rules::check_custom_key(field, key)?;
        if !self.custom_keys.allows(key) {
            return Err(Reject::param(format!(
                "{field}: key {key:?} is not a group custom field configured for this app (all defined key is invalid); configure it first"
            )));
        }
        Ok(())
    }
}

/// 10004 when a group would hold more custom fields than the documented 10.
pub(crate) fn check_custom_count(field: &str, count: usize) -> Result<(), Reject> {
    if count > rules::GROUP_CUSTOM_FIELDS_MAX {
        return Err(Reject::param(format!(
            "{field}: a group holds at most {} custom fields, not {count}",
            rules::GROUP_CUSTOM_FIELDS_MAX
        )));
    }
    Ok(())
}

/// `record`, preceded by the import of `accounts` when there are any. Applies that import to
/// the store (the caller has applied `record` already).
pub(crate) fn with_imports(store: &mut Store, accounts: Vec<String>, record: Record) -> Record {
    if accounts.is_empty() {
        return record;
    }
    let import = Record::Accounts {
        import: accounts,
        delete: Vec::new(),
    };
    store.apply(&import).expect("an account import applies");
    Record::Batch {
        records: vec![import, record],
    }
}
