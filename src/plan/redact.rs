//! `--redact-accounts`: the same plan with every account id replaced by a short stable hash,
//! for a pull-request comment that the public (or a wide team) can read.
//!
//! `acct-1a2b3c4d` is the first 8 hex digits of SHA-256 over [`DOMAIN`], the SDKAppID and the
//! account: the same account reads the same in every plan of one app (a reviewer can follow
//! "the same person" across groups and runs), and differently in another app.
//!
//! Guarantees: every struct of the plan that holds an account is destructured whole here, so a
//! new field does not compile until it is handled; counts, group ids, names and notices are
//! left as they are; the guards (whose per-field digests include an unsalted one of the owner)
//! are dropped, so the result is for display only and is never saved or applied.

use compact_str::CompactString;
use sha2::{Digest, Sha256};

use super::{
    Action, Change, Create, Destroy, Membership, Plan, Replace, RoleChange, Transfer, Update,
};
use crate::model::Group;

/// The fixed domain string of the hash, so that it matches no other SHA-256 of an account.
pub const DOMAIN: &str = "timctl redact-accounts v1";

/// `acct-` and 8 hex digits of SHA-256 over [`DOMAIN`], the SDKAppID and the account, each
/// ended by a NUL so that no two inputs run together.
pub fn redacted_account(sdkappid: u64, account: &str) -> CompactString {
    let mut hash = Sha256::new();
    hash.update(DOMAIN.as_bytes());
    hash.update([0]);
    hash.update(sdkappid.to_string().as_bytes());
    hash.update([0]);
    hash.update(account.as_bytes());
    let digest = hash.finalize();
    format!("acct-{}", super::change::hex(&digest[..4])).into()
}

/// The plan with every account id replaced by [`redacted_account`] for `sdkappid`, and no
/// guards (see the module's guarantees).
pub fn redact_accounts(plan: &Plan, sdkappid: u64) -> Plan {
    let Plan {
        changes,
        guards: _,
        warnings,
        existing_declared,
        protected,
        target,
        scoped,
    } = plan;
    let redact = |account: &str| redacted_account(sdkappid, account);
    Plan {
        changes: changes
            .iter()
            .map(|change| {
                let Change { id, action, origin } = change;
                Change {
                    id: id.clone(),
                    action: redact_action(action, &redact),
                    origin: *origin,
                }
            })
            .collect(),
        guards: Default::default(),
        // Warnings name groups and counts only.
        warnings: warnings.clone(),
        existing_declared: *existing_declared,
        protected: protected.clone(),
        target: target.clone(),
        scoped: *scoped,
    }
}

fn redact_action(action: &Action, redact: &dyn Fn(&str) -> CompactString) -> Action {
    match action {
        Action::Create(Create { desired }) => Action::Create(Create {
            desired: redact_group(desired, redact),
        }),
        Action::Replace(Replace {
            actual_type,
            member_num,
            desired,
            carried,
            lost,
        }) => Action::Replace(Replace {
            actual_type: *actual_type,
            member_num: *member_num,
            desired: redact_group(desired, redact),
            carried: carried.clone(),
            lost: lost.clone(),
        }),
        // An update holds no account (the owner moves by a transfer); destructured so that
        // one added to it does not compile until it is redacted.
        Action::Update(Update {
            name,
            introduction,
            notification,
            face_url,
            max_members,
            apply_join,
            mute_all,
            custom,
        }) => Action::Update(Update {
            name: name.clone(),
            introduction: introduction.clone(),
            notification: notification.clone(),
            face_url: face_url.clone(),
            max_members: max_members.clone(),
            apply_join: apply_join.clone(),
            mute_all: mute_all.clone(),
            custom: custom.clone(),
        }),
        Action::Members(members) => Action::Members(redact_membership(members, redact)),
        Action::Transfer(Transfer {
            actual,
            desired,
            after,
        }) => Action::Transfer(Transfer {
            actual: actual.as_deref().map(redact),
            desired: redact(desired),
            after: after.as_ref().map(|after| redact_membership(after, redact)),
        }),
        Action::Destroy(Destroy {
            group_type,
            member_num,
            reason,
        }) => Action::Destroy(Destroy {
            group_type: *group_type,
            member_num: *member_num,
            reason: reason.clone(),
        }),
    }
}

fn redact_group(group: &Group, redact: &dyn Fn(&str) -> CompactString) -> Group {
    let Group {
        id,
        group_type,
        name,
        owner,
        introduction,
        notification,
        face_url,
        max_members,
        apply_join,
        mute_all,
        custom,
        create_time,
    } = group;
    Group {
        id: id.clone(),
        group_type: *group_type,
        name: name.clone(),
        owner: owner.as_deref().map(redact),
        introduction: introduction.clone(),
        notification: notification.clone(),
        face_url: face_url.clone(),
        max_members: *max_members,
        apply_join: *apply_join,
        mute_all: *mute_all,
        custom: custom.clone(),
        create_time: *create_time,
    }
}

/// Each list sorted by its hashes, so that the order does not hint at the ids either.
fn redact_membership(members: &Membership, redact: &dyn Fn(&str) -> CompactString) -> Membership {
    let Membership {
        add,
        roles,
        remove,
        silent,
        notify,
    } = members;
    let accounts = |list: &[CompactString]| {
        let mut out: Vec<CompactString> = list.iter().map(|a| redact(a)).collect();
        out.sort();
        out
    };
    let mut roles: Vec<RoleChange> = roles
        .iter()
        .map(
            |RoleChange {
                 account,
                 actual,
                 desired,
             }| RoleChange {
                account: redact(account),
                actual: *actual,
                desired: *desired,
            },
        )
        .collect();
    roles.sort_by(|a, b| a.account.cmp(&b.account));
    Membership {
        add: accounts(add),
        roles,
        remove: accounts(remove),
        silent: *silent,
        notify: *notify,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_stable_for_one_app_and_differs_across_apps_and_accounts() {
        let a = redacted_account(1_400_000_000, "alice");
        assert_eq!(a, redacted_account(1_400_000_000, "alice"));
        assert_ne!(a, redacted_account(1_400_000_001, "alice"));
        assert_ne!(a, redacted_account(1_400_000_000, "bob"));
        assert_eq!(a.len(), "acct-".len() + 8);
        assert!(a.starts_with("acct-"));
        assert!(a[5..].bytes().all(|b| b.is_ascii_hexdigit()));
        // Fixed by the domain string: a change of scheme changes every hash in review history.
        let mut hash = Sha256::new();
        hash.update(b"timctl redact-accounts v1\x001400000000\x00alice");
        let digest = hash.finalize();
        let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(a, format!("acct-{hex}"));
    }
}
