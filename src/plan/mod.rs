//! The pure planner: `plan(desired, actual, options) -> Plan`.
//!
//! This is the one place that decides what timctl will do. It does no I/O, no async, and its
//! output order is deterministic (phase, then group id), so a plan can be rendered, saved,
//! hashed, snapshot-tested and then interpreted by the applier. The plan is data, never
//! closures: every changed field carries its `(actual, desired)` pair.
//!
//! Flow: filter by `--target`/`--exclude` → for every declared group compare with its actual
//! twin → destroys for `ensure: absent` and for pruned prefixes → preconditions that the live
//! state must meet (new owner is a member, the type allows the operation, protected groups are
//! not destroyed) → every problem is collected and returned together as [`PlanErrors`].
//!
//! Guarantees: an empty plan means the live groups match the manifests; a plan never holds a
//! change that the service is known to refuse.

mod change;
mod members;
mod redact;
mod safety;
mod scope;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::model::{
    Actual, ActualGroup, CompactString, Custom, Desired, DesiredGroup, Ensure, Group, GroupId,
    GroupType, Pair, Role, side_by_side,
};

pub use change::*;
pub use members::{
    ADD_PER_CALL, MemberCall, Membership, REMOVE_PER_CALL, RoleChange, after_transfer, membership,
    refusals,
};
pub use redact::{redact_accounts, redacted_account};
pub use safety::*;
pub use scope::unmatched_scope;

/// Choices the user makes on the command line that change what is planned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Plan a type change as destroy + create instead of refusing it.
    pub allow_replace: bool,
    /// When non-empty, only these groups are planned (`--target`).
    pub targets: BTreeSet<GroupId>,
    /// These groups are never planned (`--exclude`).
    pub excludes: BTreeSet<GroupId>,
    /// `--changed-only`: with a baseline, read and plan only the groups the change touches
    /// (the pipeline fills [`PlanOptions::only`]).
    pub changed_only: bool,
    /// When set, only these groups are read and planned: the ones whose declaration differs
    /// from the baseline, and the ones removed from it ([`changed_groups`]).
    pub only: Option<Changed>,
}

/// The groups a change touches, as [`changed_groups`] finds them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changed {
    pub ids: BTreeSet<GroupId>,
    /// The prune prefixes differ from the baseline's: which live groups they now cover cannot
    /// be known from the manifests, so the app's groups are listed as in a full plan and every
    /// group under these (the new prefixes) is in scope.
    pub prune_changed: bool,
    pub prefixes: BTreeSet<String>,
}

impl PlanOptions {
    /// Whether a group is in scope of this run.
    pub fn in_scope(&self, id: &GroupId) -> bool {
        (self.targets.is_empty() || self.targets.contains(id))
            && !self.excludes.contains(id)
            && self.only.as_ref().is_none_or(|only| {
                only.ids.contains(id)
                    || only
                        .prefixes
                        .iter()
                        .any(|prefix| id.as_str().starts_with(prefix.as_str()))
            })
    }

    /// The declared groups this run may touch, as [`Self::in_scope`] tells, found without
    /// visiting every declared group when the run is limited to a list of ids (a scoped
    /// plan, an event): a pull request's run then costs what it touches.
    pub fn scoped<'a>(
        &'a self,
        desired: &'a Desired,
    ) -> Box<dyn Iterator<Item = (&'a GroupId, &'a DesiredGroup)> + 'a> {
        let groups: Box<dyn Iterator<Item = (&GroupId, &Arc<DesiredGroup>)>> = match &self.only {
            Some(only) if only.prefixes.is_empty() => Box::new(
                only.ids
                    .iter()
                    .filter_map(|id| desired.groups.get_key_value(id)),
            ),
            _ => Box::new(desired.groups.iter()),
        };
        Box::new(
            groups
                .filter(|(id, _)| self.in_scope(id))
                .map(|(id, group)| (id, &**group)),
        )
    }

    /// Whether prune lists the app's groups (`get_appid_group_list`): always, except in a
    /// scoped plan whose prune prefixes are the baseline's, where the groups to prune are the
    /// ones removed from the baseline ("prune from history").
    pub fn lists_app(&self) -> bool {
        self.only.as_ref().is_none_or(|only| only.prune_changed)
    }
}

/// The groups whose declaration differs between `desired` and `baseline` (where each is
/// declared, not the line it is on), and the groups the baseline declares that `desired` no
/// longer does: what a pull request touches.
pub fn changed_groups(desired: &Desired, baseline: &Desired) -> Changed {
    let same = |a: &DesiredGroup, b: &DesiredGroup| {
        let DesiredGroup {
            group,
            ensure,
            protect,
            source: _,
            people,
        } = a;
        *group == b.group && *ensure == b.ensure && *protect == b.protect && *people == b.people
    };
    let ids = side_by_side(&desired.groups, &baseline.groups)
        .filter_map(|pair| match pair {
            // A group of a file the baseline holds unchanged is the head's own (see
            // `manifest::load_baseline`): the same, with nothing to compare.
            Pair::Both(id, a, b) => (!Arc::ptr_eq(a, b) && !same(a, b)).then_some(id),
            Pair::Left(id, _) | Pair::Right(id, _) => Some(id),
        })
        .cloned()
        .collect();
    let prune_changed = desired.prune_prefixes != baseline.prune_prefixes;
    Changed {
        ids,
        prune_changed,
        prefixes: if prune_changed {
            desired.prune_prefixes.clone()
        } else {
            BTreeSet::new()
        },
    }
}

/// Computes the changes that make `actual` equal to `desired`.
pub fn plan(desired: &Desired, actual: &Actual, options: &PlanOptions) -> Result<Plan, PlanErrors> {
    let mut planner = Planner::default();
    if !desired.prune_prefixes.is_empty() && desired.groups.is_empty() {
        planner.errors.push(PlanError::PruneWithoutGroups {
            prefixes: desired.prune_prefixes.iter().cloned().collect(),
        });
    }
    // The declared groups in scope first, then the live ones no manifest declares: one walk
    // of both. A scoped run visits only its own: it is planned in what it touches. (A live
    // group declared out of scope comes out on the right, and is left alone below.)
    let mut undeclared = Vec::new();
    for pair in side_by_side(options.scoped(desired), &actual.groups) {
        let (id, declared, live) = match pair {
            Pair::Right(id, live) => {
                undeclared.push((id, live));
                continue;
            }
            Pair::Left(id, declared) => (id, declared, None),
            Pair::Both(id, declared, live) => (id, declared, Some(&**live)),
        };
        // Only changes of groups in scope are checked against it.
        if declared.protect {
            planner.plan.protected.insert(id.clone());
        }
        if live.is_some() && declared.ensure == Ensure::Present {
            planner.plan.existing_declared += 1;
        }
        planner.group(declared, live, options);
    }
    for (id, live) in undeclared {
        if !options.in_scope(id) || desired.groups.contains_key(id) {
            continue;
        }
        if let Some(prefix) = desired.prune_prefix(id) {
            planner.destroy(
                live,
                DestroyReason::Pruned {
                    prefix: prefix.clone(),
                },
            );
        }
    }
    planner.lookalike_destroys(desired);
    planner.accounts(desired, actual, options);
    planner.finish()
}

/// An id as a careless eye reads it: no surrounding whitespace, any case.
fn loose(id: &GroupId) -> String {
    id.as_str().trim().to_lowercase()
}

#[derive(Default)]
struct Planner {
    plan: Plan,
    errors: Vec<PlanError>,
}

impl Planner {
    /// Every owner the plan would set must be an imported account (`actual.accounts`, from
    /// `account_check`). A missing one replaces the "not a member" error it also causes.
    fn accounts(&mut self, desired: &Desired, actual: &Actual, options: &PlanOptions) {
        let mut missing = BTreeSet::new();
        for (id, declared) in options.scoped(desired) {
            if declared.ensure != Ensure::Present {
                continue;
            }
            let Some(owner) = &declared.group.owner else {
                continue;
            };
            if actual.accounts.get(owner.as_str()) != Some(&false) {
                continue;
            }
            let live = actual.groups.get(id);
            let made = live.is_none_or(|live| {
                declared
                    .group
                    .group_type
                    .is_some_and(|t| Some(t) != live.group.group_type)
            });
            if !made && live.is_some_and(|live| live.group.owner.as_ref() == Some(owner)) {
                continue;
            }
            missing.insert(id.clone());
            self.errors.push(PlanError::AccountNotImported {
                at: declared.source.to_string(),
                id: id.clone(),
                field: "owner",
                account: owner.to_string(),
                role: if made {
                    "own the group made here"
                } else {
                    "become the new owner"
                },
            });
        }
        // A replace carries the live owner over when the manifest leaves owner unmanaged: the
        // new group is made with it, so it must be imported too.
        for change in &self.plan.changes {
            let Action::Replace(replace) = &change.action else {
                continue;
            };
            let Some(owner) = replace
                .desired
                .owner
                .as_ref()
                .filter(|_| replace.carried.contains(&Field::Owner))
            else {
                continue;
            };
            if actual.accounts.get(owner.as_str()) != Some(&false) {
                continue;
            }
            let at = desired
                .groups
                .get(&change.id)
                .map(|declared| declared.source.to_string())
                .unwrap_or_default();
            self.errors.push(PlanError::AccountNotImported {
                at,
                id: change.id.clone(),
                field: "owner",
                account: owner.to_string(),
                role: "keep owning the group made again (the manifest leaves owner unmanaged, so the live owner is carried over)",
            });
        }
        // Every account a member change adds must be imported too.
        for change in &self.plan.changes {
            let Action::Members(members) = &change.action else {
                continue;
            };
            let Some(declared) = desired.groups.get(&change.id) else {
                continue;
            };
            for account in &members.add {
                if actual.accounts.get(account.as_str()) != Some(&false) {
                    continue;
                }
                let admin = declared
                    .people
                    .admins
                    .as_ref()
                    .is_some_and(|admins| admins.contains(account));
                self.errors.push(PlanError::AccountNotImported {
                    at: declared.source.to_string(),
                    id: change.id.clone(),
                    field: if admin { "admins" } else { "members" },
                    account: account.to_string(),
                    role: "be added to the group",
                });
            }
        }
        self.errors.retain(
            |error| !matches!(error, PlanError::OwnerNotMember { id, .. } if missing.contains(id)),
        );
    }

    /// A destroy of a live group whose id differs from a declared (kept) or protected id only
    /// by case or surrounding whitespace is almost certainly a typo on one side: refuse it.
    fn lookalike_destroys(&mut self, desired: &Desired) {
        let destroyed: Vec<&GroupId> = self
            .plan
            .changes
            .iter()
            .filter(|c| matches!(c.action, Action::Destroy(_)))
            .map(|c| &c.id)
            .collect();
        if destroyed.is_empty() {
            return;
        }
        let mut kept: std::collections::HashMap<String, Vec<&GroupId>> = Default::default();
        for (id, declared) in &desired.groups {
            if declared.ensure == Ensure::Present || declared.protect {
                kept.entry(loose(id)).or_default().push(id);
            }
        }
        for id in destroyed {
            let Some(similar) = kept.get(&loose(id)) else {
                continue;
            };
            if let Some(declared) = similar.iter().find(|d| **d != id) {
                self.errors.push(PlanError::LookalikeDestroy {
                    id: id.clone(),
                    declared: (*declared).clone(),
                });
            }
        }
    }

    fn finish(mut self) -> Result<Plan, PlanErrors> {
        if !self.errors.is_empty() {
            return Err(PlanErrors(self.errors));
        }
        self.plan
            .changes
            .sort_by(|a, b| (a.action.phase(), &a.id).cmp(&(b.action.phase(), &b.id)));
        Ok(self.plan)
    }

    fn push(&mut self, id: &GroupId, action: Action, actual: Option<&ActualGroup>) {
        self.plan.guards.insert(id.clone(), Guard::of(actual));
        self.plan.changes.push(Change {
            id: id.clone(),
            action,
            origin: None,
        });
    }

    fn group(
        &mut self,
        declared: &DesiredGroup,
        actual: Option<&ActualGroup>,
        options: &PlanOptions,
    ) {
        let desired = &declared.group;
        match (declared.ensure, actual) {
            (Ensure::Absent, None) => {}
            (Ensure::Absent, Some(live)) => {
                if declared.protect {
                    self.errors.push(PlanError::Protected {
                        id: desired.id.clone(),
                        why: " (ensure: absent)".to_owned(),
                    });
                }
                self.destroy(live, DestroyReason::Absent);
            }
            (Ensure::Present, None) => self.create(declared),
            (Ensure::Present, Some(live)) => {
                let actual_type = live.group.group_type.unwrap_or(GroupType::Public);
                match desired.group_type {
                    Some(desired_type) if desired_type != actual_type => {
                        self.replace(declared, live, actual_type, desired_type, options)
                    }
                    _ => self.converge(declared, live, actual_type),
                }
            }
        }
    }

    fn create(&mut self, declared: &DesiredGroup) {
        let desired = &declared.group;
        let Some(group_type) = desired.group_type else {
            self.errors.push(PlanError::MissingForCreate {
                id: desired.id.clone(),
                field: "type",
            });
            return;
        };
        if desired.name.as_deref().is_none_or(str::is_empty) {
            self.errors.push(PlanError::MissingForCreate {
                id: desired.id.clone(),
                field: "name",
            });
            return;
        }
        let reserved = desired.id.as_str().starts_with("@TGS#")
            && !(group_type == GroupType::Community && desired.id.as_str().starts_with("@TGS#_"));
        if reserved {
            self.errors.push(PlanError::ReservedId {
                id: desired.id.clone(),
            });
            return;
        }
        if !group_type.importable() {
            self.plan.warnings.push(Warning::CreatedNotImported {
                id: desired.id.clone(),
            });
        }
        self.push(
            &desired.id,
            Action::Create(Create {
                desired: creatable(desired),
            }),
            None,
        );
        self.new_group_people(declared, desired.owner.as_deref(), group_type, None);
    }

    /// The member changes of a group this plan makes (create or replace): it starts with its
    /// owner as its only member (`import_group` makes the owner one).
    fn new_group_people(
        &mut self,
        declared: &DesiredGroup,
        owner: Option<&str>,
        group_type: GroupType,
        actual: Option<&ActualGroup>,
    ) {
        let people = &declared.people;
        if !people.managed() {
            return;
        }
        let start: BTreeMap<CompactString, Role> = owner
            .map(|owner| (CompactString::from(owner), Role::Owner))
            .into_iter()
            .collect();
        let changes = membership(people, owner, owner, &start);
        let refused = refusals(
            people,
            group_type,
            declared.group.max_members,
            Some(&start),
            &changes,
        );
        if self.refused(declared, refused) || changes.is_empty() {
            return;
        }
        self.push(&declared.group.id, Action::Members(changes), actual);
    }

    /// The member changes of a live group whose manifest manages people; `None` when it does
    /// not, or when the live group refuses them (each refusal is a plan error).
    fn live_group_people(
        &mut self,
        declared: &DesiredGroup,
        live: &ActualGroup,
        group_type: GroupType,
    ) -> Option<Membership> {
        let people = &declared.people;
        if !people.managed() {
            return None;
        }
        let none = BTreeMap::new();
        let members = match (&live.members, group_type) {
            (Some(members), _) => members,
            (None, GroupType::AVChatRoom) => &none,
            // Fail closed: never plan people from a list that was not read.
            (None, _) => {
                self.errors.push(PlanError::MembersNotRead {
                    id: declared.group.id.clone(),
                });
                return None;
            }
        };
        let owner = declared
            .group
            .owner
            .as_deref()
            .or(live.group.owner.as_deref());
        let changes = membership(people, owner, live.group.owner.as_deref(), members);
        let cap = declared.group.max_members.or(live.group.max_members);
        let refused = refusals(people, group_type, cap, live.members.as_ref(), &changes);
        (!self.refused(declared, refused)).then_some(changes)
    }

    /// Records each refusal as a plan error; whether there was one.
    fn refused(&mut self, declared: &DesiredGroup, refused: Vec<(&'static str, String)>) -> bool {
        let any = !refused.is_empty();
        for (field, why) in refused {
            self.errors.push(PlanError::PeopleRefused {
                at: declared.source.to_string(),
                id: declared.group.id.clone(),
                field,
                why,
            });
        }
        any
    }

    fn replace(
        &mut self,
        declared: &DesiredGroup,
        live: &ActualGroup,
        actual_type: GroupType,
        desired_type: GroupType,
        options: &PlanOptions,
    ) {
        let desired = &declared.group;
        if !options.allow_replace {
            self.errors.push(PlanError::TypeChange {
                id: desired.id.clone(),
                actual: actual_type,
                desired: desired_type,
            });
            return;
        }
        if declared.protect {
            self.errors.push(PlanError::Protected {
                id: desired.id.clone(),
                why: format!(" (type change {actual_type} -> {desired_type} with --allow-replace)"),
            });
            return;
        }
        if desired.name.as_deref().is_none_or(str::is_empty) {
            self.errors.push(PlanError::MissingForCreate {
                id: desired.id.clone(),
                field: "name",
            });
            return;
        }
        self.plan.warnings.push(Warning::ReplaceLosesHistory {
            id: desired.id.clone(),
            member_num: live.member_num,
        });
        if !desired_type.importable() {
            self.plan.warnings.push(Warning::CreatedNotImported {
                id: desired.id.clone(),
            });
        }
        let (made, carried, lost) = carry_over(creatable(desired), &live.group, desired_type);
        let owner = made.owner.clone();
        self.push(
            &desired.id,
            Action::Replace(Replace {
                actual_type,
                member_num: live.member_num,
                desired: made,
                carried,
                lost,
            }),
            Some(live),
        );
        self.new_group_people(declared, owner.as_deref(), desired_type, Some(live));
    }

    fn converge(&mut self, declared: &DesiredGroup, live: &ActualGroup, group_type: GroupType) {
        let desired = &declared.group;
        let id = &desired.id;
        let actual = &live.group;
        let update = Update {
            name: diff_text(&actual.name, &desired.name),
            introduction: diff_text(&actual.introduction, &desired.introduction),
            notification: diff_text(&actual.notification, &desired.notification),
            face_url: diff_text(&actual.face_url, &desired.face_url),
            max_members: diff(&actual.max_members, &desired.max_members),
            apply_join: diff(&actual.apply_join, &desired.apply_join),
            mute_all: diff_mute(&actual.mute_all, &desired.mute_all),
            custom: diff_custom(&actual.custom, &desired.custom),
        };
        if update.max_members.is_some() && group_type.member_cap().is_none() {
            self.errors.push(PlanError::MemberCapRefused {
                id: id.clone(),
                group_type,
            });
        }
        if !update.is_empty() {
            self.push(id, Action::Update(update), Some(live));
        }
        let people = self.live_group_people(declared, live, group_type);
        // A new owner declared in `admins` or `members` who is not a member yet is added by
        // the member change, which runs before the transfer.
        let added = |account: &str| {
            people
                .as_ref()
                .is_some_and(|p| p.add.iter().any(|a| a == account))
        };
        let mut transfer = None;
        if let Some(owner) = &desired.owner
            && actual.owner.as_ref() != Some(owner)
        {
            if !group_type.transferable() {
                self.errors.push(PlanError::TransferRefused {
                    id: id.clone(),
                    group_type,
                });
            } else {
                // The member list, where it was read, answers the new owner's role.
                let role = live
                    .members
                    .as_ref()
                    .and_then(|members| members.get(owner.as_str()))
                    .or_else(|| live.roles.get(owner.as_str()));
                match role {
                    _ if added(owner) => transfer = Some(owner.clone()),
                    Some(Role::NotMember) | None => self.errors.push(PlanError::OwnerNotMember {
                        id: id.clone(),
                        owner: owner.to_string(),
                    }),
                    Some(_) => transfer = Some(owner.clone()),
                }
            }
        }
        if let Some(people) = people.filter(|p| !p.is_empty()) {
            self.push(id, Action::Members(people), Some(live));
        }
        if let Some(owner) = transfer {
            let after = match (&actual.owner, &live.members) {
                (Some(old), Some(members)) if declared.people.managed() && !old.is_empty() => {
                    after_transfer(&declared.people, old, members)
                }
                _ => None,
            };
            self.push(
                id,
                Action::Transfer(Transfer {
                    actual: actual.owner.clone(),
                    desired: owner,
                    after,
                }),
                Some(live),
            );
        }
    }

    fn destroy(&mut self, live: &ActualGroup, reason: DestroyReason) {
        self.push(
            &live.group.id,
            Action::Destroy(Destroy {
                group_type: live.group.group_type.unwrap_or(GroupType::Public),
                member_num: live.member_num,
                reason,
            }),
            Some(live),
        );
    }
}

/// The group a replace makes: `made` (the manifest's fields) plus every live value the manifest
/// leaves unmanaged that a `new_type` group accepts; the values it refuses are lost. Values a
/// new group gets anyway (an empty text, no custom keys, not muted) are not carried.
fn carry_over(
    mut made: Group,
    live: &Group,
    new_type: GroupType,
) -> (Group, Vec<Field>, Vec<Loss>) {
    let mut carried = Vec::new();
    let mut lost = Vec::new();
    let mut text =
        |field: Field, made: &mut Option<CompactString>, live: &Option<CompactString>| {
            if made.is_none()
                && let Some(value) = live.as_ref().filter(|value| !value.is_empty())
            {
                *made = Some(value.clone());
                carried.push(field);
            }
        };
    text(Field::Owner, &mut made.owner, &live.owner);
    text(
        Field::Introduction,
        &mut made.introduction,
        &live.introduction,
    );
    text(
        Field::Notification,
        &mut made.notification,
        &live.notification,
    );
    text(Field::FaceUrl, &mut made.face_url, &live.face_url);
    // An AVChatRoom reports 0: it has no cap, so there is nothing to carry.
    if made.max_members.is_none()
        && let Some(actual) = live.max_members.filter(|n| *n > 0)
    {
        match new_type.member_cap() {
            Some(cap) if actual <= cap => {
                made.max_members = Some(actual);
                carried.push(Field::MaxMembers);
            }
            _ => lost.push(Loss::MaxMembers { actual }),
        }
    }
    if made.apply_join.is_none()
        && let Some(actual) = live.apply_join
    {
        if takes_apply_join(new_type) {
            made.apply_join = Some(actual);
            carried.push(Field::ApplyJoin);
        } else {
            lost.push(Loss::ApplyJoin { actual });
        }
    }
    if made.mute_all.is_none() && live.mute_all == Some(true) {
        made.mute_all = Some(true);
        carried.push(Field::MuteAll);
    }
    if made.custom.is_none()
        && let Some(custom) = &live.custom
    {
        let mut custom = custom.clone();
        custom.retain(|_, value| !value.is_empty());
        if !custom.is_empty() {
            made.custom = Some(custom);
            carried.push(Field::Custom);
        }
    }
    if made.create_time.is_none()
        && let Some(actual) = live.create_time
    {
        if new_type.importable() {
            made.create_time = Some(actual);
            carried.push(Field::CreateTime);
        } else {
            lost.push(Loss::CreateTime { actual });
        }
    }
    (made, carried, lost)
}

/// The desired group as it is sent at creation: empty custom values mean "no such key".
fn creatable(desired: &Group) -> Group {
    let mut group = desired.clone();
    if let Some(custom) = &mut group.custom {
        custom.retain(|_, value| !value.is_empty());
    }
    group
}

fn diff<T: Clone + PartialEq>(actual: &Option<T>, desired: &Option<T>) -> Option<Diff<T>> {
    let desired = desired.as_ref()?;
    (actual.as_ref() != Some(desired)).then(|| Diff::new(actual.clone(), desired.clone()))
}

/// Text fields the service leaves out when empty: absent and `""` are the same value.
fn diff_text(
    actual: &Option<CompactString>,
    desired: &Option<CompactString>,
) -> Option<Diff<CompactString>> {
    let desired = desired.as_ref()?;
    let current = actual.as_deref().unwrap_or_default();
    (current != desired).then(|| Diff::new(actual.clone(), desired.clone()))
}

/// A group that does not report mute-all is not muted.
fn diff_mute(actual: &Option<bool>, desired: &Option<bool>) -> Option<Diff<bool>> {
    let desired = (*desired)?;
    (actual.unwrap_or(false) != desired).then_some(Diff::new(*actual, desired))
}

fn diff_custom(actual: &Option<Custom>, desired: &Option<Custom>) -> Vec<CustomDiff> {
    let Some(desired) = desired else {
        return Vec::new();
    };
    let empty = Custom::new();
    let actual = actual.as_ref().unwrap_or(&empty);
    // An empty value is no value: the service deletes a key written empty.
    fn present(value: Option<&str>) -> Option<&str> {
        value.filter(|value| !value.is_empty())
    }
    side_by_side(actual, desired)
        .filter_map(|pair| {
            let (key, before, after) = pair.sides();
            let (before, after) = (present(before), present(after));
            (before != after).then(|| CustomDiff {
                key: key.to_owned(),
                actual: before.map(str::to_owned),
                desired: after.map(str::to_owned),
                origin: None,
            })
        })
        .collect()
}

/// The written fields of `desired` that `actual` does not hold, by manifest name. The applier
/// uses it to report what did not take effect after reading the groups back.
pub fn unmet_fields(desired: &Group, actual: &Group) -> Vec<&'static str> {
    let Group {
        id: _,
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
        create_time: _,
    } = desired;
    let mut unmet = Vec::new();
    let mut check = |field, differs: bool| {
        if differs {
            unmet.push(field);
        }
    };
    check(
        "type",
        group_type.is_some() && *group_type != actual.group_type,
    );
    check("name", diff_text(&actual.name, name).is_some());
    check("owner", owner.is_some() && *owner != actual.owner);
    check(
        "introduction",
        diff_text(&actual.introduction, introduction).is_some(),
    );
    check(
        "notification",
        diff_text(&actual.notification, notification).is_some(),
    );
    check("face_url", diff_text(&actual.face_url, face_url).is_some());
    check(
        "max_members",
        diff(&actual.max_members, max_members).is_some(),
    );
    check("apply_join", diff(&actual.apply_join, apply_join).is_some());
    check("mute_all", diff_mute(&actual.mute_all, mute_all).is_some());
    check("custom", custom_unmet(&actual.custom, custom));
    unmet
}

/// Whether any key the desired map names holds another value live (only those keys: an
/// update checks the keys it changed, a create wrote exactly its keys).
fn custom_unmet(actual: &Option<Custom>, desired: &Option<Custom>) -> bool {
    let Some(desired) = desired else {
        return false;
    };
    desired.iter().any(|(key, value)| {
        let live = actual.as_ref().and_then(|map| map.get(key)).unwrap_or("");
        live != value
    })
}

impl Update {
    /// The profile this update leads to: the desired value of every changed field. Custom keys
    /// to delete are kept with an empty value, which [`unmet_fields`] reads as "absent".
    pub fn desired_group(&self, id: &GroupId) -> Group {
        let Update {
            name,
            introduction,
            notification,
            face_url,
            max_members,
            apply_join,
            mute_all,
            custom,
        } = self;
        let desired = |diff: &Option<Diff<CompactString>>| diff.as_ref().map(|d| d.desired.clone());
        Group {
            name: desired(name),
            introduction: desired(introduction),
            notification: desired(notification),
            face_url: desired(face_url),
            max_members: max_members.as_ref().map(|d| d.desired),
            apply_join: apply_join.as_ref().map(|d| d.desired),
            mute_all: mute_all.as_ref().map(|d| d.desired),
            ..Group::new(id.as_str())
        }
        .with_custom(custom)
    }
}

impl Group {
    fn with_custom(mut self, custom: &[CustomDiff]) -> Group {
        if !custom.is_empty() {
            // Only the changed keys are checked; keys the update leaves alone are not compared.
            self.custom = Some(
                custom
                    .iter()
                    .map(|c| (c.key.as_str(), c.desired.as_deref().unwrap_or_default()))
                    .collect(),
            );
        }
        self
    }
}

#[cfg(test)]
mod people_tests;
#[cfg(test)]
mod tests;
