//! Why a plan cannot be made, and the destroy limits that stop an apply before it starts.

use std::fmt;

use crate::model::{GroupId, GroupType};

use super::Plan;

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
        "prune is on (id_prefixes {prefixes:?}) but no manifest declares a group: refusing to plan the destruction of every group under those prefixes"
    )]
    PruneWithoutGroups { prefixes: Vec<String> },
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

/// Limits on what one apply may destroy (DESIGN §3 "Safety").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestroyLimits {
    pub max_groups: usize,
    pub max_members: u64,
}

impl Default for DestroyLimits {
    fn default() -> Self {
        DestroyLimits {
            max_groups: 5,
            max_members: 100,
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
}

/// Checks the destroy limits; `--force` skips this check.
pub fn check_destroy_limits(plan: &Plan, limits: DestroyLimits) -> Result<(), SafetyError> {
    let summary = plan.summary();
    let count = summary.destroy + summary.replace;
    if count > limits.max_groups {
        return Err(SafetyError::TooManyGroups {
            count,
            limit: limits.max_groups,
        });
    }
    if summary.destroyed_members > limits.max_members {
        return Err(SafetyError::TooManyMembers {
            members: summary.destroyed_members,
            limit: limits.max_members,
        });
    }
    Ok(())
}
