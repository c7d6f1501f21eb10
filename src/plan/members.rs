//! Member changes of one group, computed from the manifest's `admins`/`members` and the member
//! list read live: pure, like the rest of the planner.
//!
//! The plan carries the result as [`super::Action::Members`] (adds, role changes, removals of
//! one group, in the phase between updates and ownership transfers), and, for the owner a
//! transfer leaves behind, as the transfer's follow-up ([`super::Transfer::after`]).
//!
//! Guarantees: the owner (live, or the one a transfer makes) is never removed or demoted here
//! (`change_group_owner` moves ownership first); a new owner who is not yet a member but is
//! declared in `admins` or `members` is among the adds, so the transfer can follow; roles change
//! only where `admins` is written; removals happen only with `members_exclusive`.

use std::collections::{BTreeMap, BTreeSet};

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::model::{GroupType, People, Role};

/// The member changes of one group, each list sorted by account. Applied in this order: adds
/// (so new admins and a new owner are members), role changes, removals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// `+ member carol`: `add_group_member`.
    pub add: Vec<CompactString>,
    /// `~ role bob: Member -> Admin`: `modify_group_member_info`. An account added in this
    /// plan shows as `Member -> Admin`.
    pub roles: Vec<RoleChange>,
    /// `- member eve`: `delete_group_member`.
    pub remove: Vec<CompactString>,
    /// Adds and removals are sent with `Silence: 1`.
    pub silent: bool,
    /// How many members get a group notice from these adds and removals: everyone in the
    /// group once the adds are made, when anything is added or removed without `Silence`.
    #[serde(default)]
    pub notify: u32,
}

/// Most accounts per `add_group_member` call (reference §3.8).
pub const ADD_PER_CALL: usize = 300;
/// Most accounts per `delete_group_member` call (`群组管理/删除群组成员.md`: "一次最多删除100个").
pub const REMOVE_PER_CALL: usize = 100;

/// One API call of a [`Membership`], in apply order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberCall<'a> {
    /// `add_group_member` with up to [`ADD_PER_CALL`] accounts.
    Add(&'a [CompactString]),
    /// `modify_group_member_info` with one account's `Role`.
    Role(&'a RoleChange),
    /// `delete_group_member` with up to [`REMOVE_PER_CALL`] accounts.
    Remove(&'a [CompactString]),
}

impl MemberCall<'_> {
    pub fn command(self) -> &'static str {
        match self {
            MemberCall::Add(_) => "add_group_member",
            MemberCall::Role(_) => "modify_group_member_info",
            MemberCall::Remove(_) => "delete_group_member",
        }
    }
}

/// One role change, `(actual, desired)`: Member -> Admin (promote) or Admin -> Member (demote).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChange {
    pub account: CompactString,
    pub actual: Role,
    pub desired: Role,
}

impl Membership {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.roles.is_empty() && self.remove.is_empty()
    }

    /// The calls that make these changes, in order: adds (batched), roles (one account a
    /// call), removals (batched).
    pub fn calls(&self) -> Vec<MemberCall<'_>> {
        (0..).map_while(|step| self.call(step)).collect()
    }

    /// Call number `step` of [`Membership::calls`], without listing the others: the applier
    /// asks for each in turn, and a change can hold thousands.
    pub fn call(&self, step: usize) -> Option<MemberCall<'_>> {
        let adds = self.add.len().div_ceil(ADD_PER_CALL);
        if step < adds {
            return self.add.chunks(ADD_PER_CALL).nth(step).map(MemberCall::Add);
        }
        let step = step - adds;
        if let Some(role) = self.roles.get(step) {
            return Some(MemberCall::Role(role));
        }
        self.remove
            .chunks(REMOVE_PER_CALL)
            .nth(step - self.roles.len())
            .map(MemberCall::Remove)
    }

    /// Whether `live` (every member and its role) already holds these changes: each added
    /// account a member, each role as desired, each removed account gone.
    pub fn holds(&self, live: &BTreeMap<CompactString, Role>) -> bool {
        self.unmet(live).is_empty()
    }

    /// The fields (`members`, `admins`) whose changes `live` does not hold.
    pub fn unmet(&self, live: &BTreeMap<CompactString, Role>) -> Vec<&'static str> {
        let mut unmet = Vec::new();
        if self.add.iter().any(|a| !live.contains_key(a.as_str()))
            || self.remove.iter().any(|a| live.contains_key(a.as_str()))
        {
            unmet.push("members");
        }
        if self
            .roles
            .iter()
            .any(|r| live.get(r.account.as_str()) != Some(&r.desired))
        {
            unmet.push("admins");
        }
        unmet
    }

    /// How many accounts become Admin.
    pub fn promoted(&self) -> usize {
        self.roles
            .iter()
            .filter(|r| r.desired == Role::Admin)
            .count()
    }

    /// How many accounts stop being Admin.
    pub fn demoted(&self) -> usize {
        self.roles.len() - self.promoted()
    }
}

/// The changes that make `live` (every member and its role) hold the `people` declared.
/// `owner` is the owner the group will have: the declared one, or the live one when the
/// manifest leaves it unmanaged; `live_owner` the one it has now.
pub fn membership(
    people: &People,
    owner: Option<&str>,
    live_owner: Option<&str>,
    live: &BTreeMap<CompactString, Role>,
) -> Membership {
    let owners: BTreeSet<&str> = owner.into_iter().chain(live_owner).collect();
    let is_owner = |account: &str| owners.contains(account);
    let declared: BTreeSet<&CompactString> = [&people.admins, &people.members]
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    let add: Vec<CompactString> = declared
        .iter()
        .filter(|a| !live.contains_key(a.as_str()))
        .map(|a| (*a).clone())
        .collect();
    let remove: Vec<CompactString> = match (&people.members, people.exclusive) {
        (Some(members), true) => live
            .iter()
            .filter(|(account, role)| {
                let kept_as_admin = match &people.admins {
                    Some(admins) => admins.contains(account.as_str()),
                    None => **role == Role::Admin,
                };
                !members.contains(account.as_str())
                    && !kept_as_admin
                    && !is_owner(account)
                    && **role != Role::Owner
            })
            .map(|(account, _)| account.clone())
            .collect(),
        _ => Vec::new(),
    };
    let mut roles = Vec::new();
    if let Some(admins) = &people.admins {
        let accounts: BTreeSet<&CompactString> = admins.iter().chain(live.keys()).collect();
        for account in accounts {
            if is_owner(account) || remove.contains(account) {
                continue;
            }
            let actual = live.get(account).copied().unwrap_or(Role::Member);
            if actual == Role::Owner {
                continue;
            }
            let desired = if admins.contains(account) {
                Role::Admin
            } else {
                Role::Member
            };
            if actual != desired {
                roles.push(RoleChange {
                    account: account.clone(),
                    actual,
                    desired,
                });
            }
        }
    }
    let notify = if people.silent || (add.is_empty() && remove.is_empty()) {
        0
    } else {
        (live.len() + add.len()) as u32
    };
    Membership {
        add,
        roles,
        remove,
        silent: people.silent,
        notify,
    }
}

/// What the owner a transfer leaves behind needs once it is an ordinary member (the service
/// makes the old owner a Member): promoted when `admins` lists it, removed when the member
/// list is exclusive and lists it nowhere. `None` when nothing is needed.
pub fn after_transfer(
    people: &People,
    old_owner: &str,
    live: &BTreeMap<CompactString, Role>,
) -> Option<Membership> {
    let listed = |list: &Option<BTreeSet<CompactString>>| {
        list.as_ref().is_some_and(|l| l.contains(old_owner))
    };
    let account = CompactString::from(old_owner);
    let mut after = Membership {
        silent: people.silent,
        ..Membership::default()
    };
    if listed(&people.admins) {
        after.roles.push(RoleChange {
            account,
            actual: Role::Member,
            desired: Role::Admin,
        });
    } else if people.exclusive && people.members.is_some() && !listed(&people.members) {
        after.remove.push(account);
        if !people.silent {
            after.notify = live.len().saturating_sub(1) as u32;
        }
    }
    (!after.is_empty()).then_some(after)
}

/// Why the live group cannot hold the people declared, as `(field, message)`; empty when it
/// can. For the checks validation could not make because the manifest leaves the type or the
/// cap to the live group: an AVChatRoom keeps no member list, a Private (Work) group has no
/// Admin role, and the members after the changes must fit `cap` (the `max_members` the group
/// will have).
pub fn refusals(
    people: &People,
    live_type: GroupType,
    cap: Option<u32>,
    live: Option<&BTreeMap<CompactString, Role>>,
    changes: &Membership,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let field = if people.admins.is_some() {
        "admins"
    } else {
        "members"
    };
    if !people.managed() {
        return out;
    }
    if live_type == GroupType::AVChatRoom {
        out.push((
            field,
            "the live group is an AVChatRoom, which stores no member list".to_owned(),
        ));
        return out;
    }
    if live_type == GroupType::Private && people.admins.as_ref().is_some_and(|a| !a.is_empty()) {
        out.push((
            "admins",
            "the live group is Private (Work), which has no Admin role".to_owned(),
        ));
    }
    let now = live.map_or(0, BTreeMap::len);
    let after = (now + changes.add.len()).saturating_sub(changes.remove.len());
    if let Some(cap) = cap
        && after > cap as usize
    {
        out.push((
            "members",
            format!("the group would hold {after} members, more than its max_members ({cap})"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(accounts: &[&str]) -> Option<BTreeSet<CompactString>> {
        Some(accounts.iter().map(|a| CompactString::from(*a)).collect())
    }

    fn names(accounts: &[&str]) -> Vec<CompactString> {
        accounts.iter().map(|a| CompactString::from(*a)).collect()
    }

    /// alice owns it; bob is Admin; carol and eve are members.
    fn live() -> BTreeMap<CompactString, Role> {
        [
            ("alice", Role::Owner),
            ("bob", Role::Admin),
            ("carol", Role::Member),
            ("eve", Role::Member),
        ]
        .into_iter()
        .map(|(a, r)| (CompactString::from(a), r))
        .collect()
    }

    fn role(account: &str, actual: Role, desired: Role) -> RoleChange {
        RoleChange {
            account: account.into(),
            actual,
            desired,
        }
    }

    #[test]
    fn in_sync_is_empty() {
        let people = People {
            admins: set(&["bob"]),
            members: set(&["carol", "eve"]),
            exclusive: true,
            silent: false,
        };
        let m = membership(&people, Some("alice"), Some("alice"), &live());
        assert!(m.is_empty(), "{m:?}");
    }

    #[test]
    fn members_are_added_and_only_exclusive_removes() {
        let additive = People {
            members: set(&["carol", "dave"]),
            ..People::default()
        };
        let m = membership(&additive, Some("alice"), Some("alice"), &live());
        assert_eq!(
            (m.add, m.remove, m.roles),
            (names(&["dave"]), vec![], vec![])
        );

        let exclusive = People {
            exclusive: true,
            silent: true,
            ..additive
        };
        let m = membership(&exclusive, Some("alice"), Some("alice"), &live());
        // bob stays: admins is unmanaged and he is a live admin; alice stays: the owner.
        assert_eq!(m.add, names(&["dave"]));
        assert_eq!(m.remove, names(&["eve"]));
        assert!(m.roles.is_empty() && m.silent);
    }

    #[test]
    fn written_admins_are_exactly_the_admins() {
        let people = People {
            admins: set(&["carol", "dave"]),
            ..People::default()
        };
        let m = membership(&people, Some("alice"), Some("alice"), &live());
        assert_eq!(m.add, names(&["dave"]));
        assert_eq!(
            m.roles,
            [
                role("bob", Role::Admin, Role::Member),
                role("carol", Role::Member, Role::Admin),
                role("dave", Role::Member, Role::Admin),
            ]
        );
        assert_eq!((m.promoted(), m.demoted()), (2, 1));
        assert!(m.remove.is_empty());
    }

    #[test]
    fn an_exclusive_list_removes_an_admin_rather_than_demoting_it() {
        let people = People {
            admins: set(&[]),
            members: set(&["carol", "eve"]),
            exclusive: true,
            silent: false,
        };
        let m = membership(&people, Some("alice"), Some("alice"), &live());
        assert_eq!(m.remove, names(&["bob"]));
        assert!(m.roles.is_empty() && m.add.is_empty());
    }

    #[test]
    fn the_owner_is_never_removed_or_demoted() {
        // The owner listed nowhere, admins empty, exclusive: alice keeps Owner and stays.
        let people = People {
            admins: set(&["alice"]),
            members: set(&[]),
            exclusive: true,
            silent: false,
        };
        let m = membership(&people, None, Some("alice"), &live());
        assert_eq!(m.remove, names(&["bob", "carol", "eve"]));
        assert!(m.roles.is_empty() && m.add.is_empty(), "{m:?}");
    }

    #[test]
    fn a_declared_new_owner_who_is_not_a_member_is_added_first_and_kept() {
        let people = People {
            members: set(&["carol", "eve", "zed"]),
            exclusive: true,
            ..People::default()
        };
        let m = membership(&people, Some("zed"), Some("alice"), &live());
        assert_eq!(m.add, names(&["zed"]));
        // alice, the owner until the transfer, is not removed by this plan.
        assert!(m.remove.is_empty(), "{m:?}");
        // Not declared: not added (the transfer stays a plan error for the planner to report).
        let undeclared = People {
            members: set(&["carol"]),
            ..People::default()
        };
        let m = membership(&undeclared, Some("zed"), Some("alice"), &live());
        assert!(m.add.is_empty());
    }

    #[test]
    fn a_new_owner_listed_in_admins_is_neither_promoted_nor_demoted() {
        let people = People {
            admins: set(&["bob", "carol"]),
            ..People::default()
        };
        let m = membership(&people, Some("carol"), Some("alice"), &live());
        assert!(m.roles.is_empty(), "{m:?}");
    }

    #[test]
    fn the_live_group_can_refuse_what_validation_could_not_see() {
        let people = People {
            admins: set(&["bob"]),
            members: set(&["carol", "dave", "zed"]),
            ..People::default()
        };
        let live = live();
        let m = membership(&people, Some("alice"), Some("alice"), &live);
        let refused = |kind, cap| refusals(&people, kind, cap, Some(&live), &m);
        assert_eq!(refused(GroupType::Public, Some(6)), []);
        assert_eq!(
            refused(GroupType::Public, Some(5)),
            [(
                "members",
                "the group would hold 6 members, more than its max_members (5)".to_owned()
            )]
        );
        assert_eq!(
            refused(GroupType::Private, None),
            [(
                "admins",
                "the live group is Private (Work), which has no Admin role".to_owned()
            )]
        );
        assert_eq!(
            refused(GroupType::AVChatRoom, Some(1)),
            [(
                "admins",
                "the live group is an AVChatRoom, which stores no member list".to_owned()
            )]
        );
        assert_eq!(
            refusals(&People::default(), GroupType::AVChatRoom, None, None, &m),
            []
        );
    }
}
