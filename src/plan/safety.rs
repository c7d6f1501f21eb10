//! Why a plan cannot be made, and the limits that stop an apply before it starts.

use std::collections::BTreeSet;
use std::fmt;

use crate::model::{GroupId, GroupType};

use super::{Action, Plan};

/// A reason the plan cannot be made. Every one is collected before any is reported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "group {id:?}: type cannot change from {actual} to {desired} in place (pass --allow-replace to destroy and re-create it, losing members and history)"
    )]
    TypeChange {
        id: GroupId,
        actual: GroupType,
        desired: GroupType,
    },
    #[error("group {id:?}: does not exist, and field {field} is required to create it")]
    MissingForCreate { id: GroupId, field: &'static str },
    #[error(
        "group {id:?}: field owner: {owner:?} is not a member of the group, so ownership cannot move to them (add them first)"
    )]
    OwnerNotMember { id: GroupId, owner: String },
    #[error(
        "{at}: group {id:?}: field {field}: account {account:?} is not imported in the app (account_check: NotImported), so it cannot {role}: import it first (account_import)"
    )]
    AccountNotImported {
        /// Where the group is declared (`file:line`).
        at: String,
        id: GroupId,
        field: &'static str,
        account: String,
        role: &'static str,
    },
    #[error("group {id:?}: field owner: a {group_type} group cannot change owner")]
    TransferRefused { id: GroupId, group_type: GroupType },
    #[error("group {id:?}: field max_members: a {group_type} group has no member cap to set")]
    MemberCapRefused { id: GroupId, group_type: GroupType },
    #[error("group {id:?}: field apply_join: a {group_type} group is made without ApplyJoinOption")]
    ApplyJoinAtCreate { id: GroupId, group_type: GroupType },
    #[error(
        "group {id:?}: does not exist, and ids starting with @TGS# are assigned by the service: it cannot be created with this id (a Community's custom id starts with @TGS#_)"
    )]
    ReservedId { id: GroupId },
    #[error("group {id:?}: is protected (protect: true) and would be destroyed{why}")]
    Protected { id: GroupId, why: String },
    #[error(
        "group {id:?}: would be destroyed, but its id differs only by case or surrounding whitespace from the declared group {declared:?}: did you mean that one? (ids are exact: fix the declaration, or --exclude the group)"
    )]
    LookalikeDestroy { id: GroupId, declared: GroupId },
    #[error(
        "prune is on (id_prefixes {prefixes:?}) but no manifest declares a group: refusing to plan the destruction of every group under those prefixes"
    )]
    PruneWithoutGroups { prefixes: Vec<String> },
    #[error("{at}: group {id:?}: field {field}: {why}")]
    PeopleRefused {
        /// Where the group is declared (`file:line`).
        at: String,
        id: GroupId,
        field: &'static str,
        why: String,
    },
    #[error(
        "group {id:?}: its member list was not read, so its admins and members cannot be planned"
    )]
    MembersNotRead { id: GroupId },
}

/// Every reason the plan cannot be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanErrors(pub Vec<PlanError>);

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "the plan cannot be made ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, error) in self.0.iter().enumerate() {
            if i + 1 < n {
                writeln!(f, "  - {error}")?;
            } else {
                write!(f, "  - {error}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for PlanErrors {}

/// Limits on what one apply may do without `--force` (DESIGN §3 "Safety").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SafetyLimits {
    /// Most groups destroyed (replaces included).
    pub max_destroy: usize,
    /// Most members of the destroyed groups, all together.
    pub max_destroy_members: u64,
    /// Most updated or transferred groups, in percent of the existing declared ones, once
    /// there are more than [`UPDATE_GATE_MIN_GROUPS`] of those.
    pub max_update_percent: u32,
    /// Most people removed from groups, all groups together.
    pub max_remove_members: usize,
    /// Most promotions and demotions, all groups together.
    pub max_role_changes: usize,
}

/// The update threshold applies only above this many existing declared groups (octoDNS's
/// `MIN_EXISTING_RECORDS`): in a small app a third of the groups is a handful.
pub const UPDATE_GATE_MIN_GROUPS: usize = 10;

impl Default for SafetyLimits {
    fn default() -> Self {
        SafetyLimits {
            max_destroy: 5,
            max_destroy_members: 100,
            max_update_percent: 30,
            max_remove_members: 20,
            max_role_changes: 20,
        }
    }
}

/// Why an apply stops before doing anything.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SafetyError {
    #[error(
        "the plan destroys {count} groups, more than --max-destroy {limit}: nothing was changed (review the plan, then pass --force or raise --max-destroy)"
    )]
    TooManyGroups { count: usize, limit: usize },
    #[error(
        "the plan destroys groups holding {members} members, more than --max-destroy-members {limit}: nothing was changed (disbanding notifies every member and loses the history; pass --force to go on)"
    )]
    TooManyMembers { members: u64, limit: u64 },
    #[error(
        "the plan updates or transfers {count} of the {existing} existing declared groups ({percent}%), more than --max-update-percent {limit}: nothing was changed (one edit to `defaults` rewrites every group it covers; review the plan, then pass --force or raise --max-update-percent)"
    )]
    TooManyUpdates {
        count: usize,
        existing: usize,
        percent: u64,
        limit: u32,
    },
    #[error(
        "the plan removes {count} people from groups, more than --max-remove-members {limit}: nothing was changed (review who is removed, then pass --force or raise --max-remove-members)"
    )]
    TooManyRemovals { count: usize, limit: usize },
    #[error(
        "the plan changes the role of {count} people ({promoted} promoted, {demoted} demoted), more than --max-role-changes {limit}: nothing was changed (review who moderates, then pass --force or raise --max-role-changes)"
    )]
    TooManyRoleChanges {
        count: usize,
        promoted: usize,
        demoted: usize,
        limit: usize,
    },
    #[error(
        "group {id:?} is protected (protect: true) and the plan would destroy it: nothing was changed (--force does not lift protect)"
    )]
    Protected { id: GroupId },
}

/// Checks the limits; `--force` skips this check (not [`check_protected`]).
pub fn check_limits(plan: &Plan, limits: SafetyLimits) -> Result<(), SafetyError> {
    let summary = plan.summary();
    let count = summary.destroy + summary.replace;
    if count > limits.max_destroy {
        return Err(SafetyError::TooManyGroups {
            count,
            limit: limits.max_destroy,
        });
    }
    if summary.destroyed_members > limits.max_destroy_members {
        return Err(SafetyError::TooManyMembers {
            members: summary.destroyed_members,
            limit: limits.max_destroy_members,
        });
    }
    let people = summary.people;
    if people.removed > limits.max_remove_members {
        return Err(SafetyError::TooManyRemovals {
            count: people.removed,
            limit: limits.max_remove_members,
        });
    }
    if people.role_changes() > limits.max_role_changes {
        return Err(SafetyError::TooManyRoleChanges {
            count: people.role_changes(),
            promoted: people.promoted,
            demoted: people.demoted,
            limit: limits.max_role_changes,
        });
    }
    let updated: BTreeSet<&GroupId> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Update(_) | Action::Transfer(_)))
        .map(|c| &c.id)
        .collect();
    let existing = plan.existing_declared;
    if existing > UPDATE_GATE_MIN_GROUPS
        && updated.len() as u64 * 100 > u64::from(limits.max_update_percent) * existing as u64
    {
        return Err(SafetyError::TooManyUpdates {
            count: updated.len(),
            existing,
            percent: updated.len() as u64 * 100 / existing as u64,
            limit: limits.max_update_percent,
        });
    }
    Ok(())
}

/// No change of the plan destroys a group the manifests protect, whatever the flags.
pub fn check_protected(plan: &Plan) -> Result<(), SafetyError> {
    match plan.changes.iter().find(|c| {
        matches!(c.action, Action::Destroy(_) | Action::Replace(_))
            && plan.protected.contains(&c.id)
    }) {
        Some(change) => Err(SafetyError::Protected {
            id: change.id.clone(),
        }),
        None => Ok(()),
    }
}
