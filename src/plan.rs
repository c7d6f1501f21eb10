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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{
    Actual, ActualGroup, ApplyJoin, Desired, DesiredGroup, Ensure, Group, GroupId, GroupType, Role,
};

/// Choices the user makes on the command line that change what is planned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Plan a type change as destroy + create instead of refusing it.
    pub allow_replace: bool,
    /// When non-empty, only these groups are planned (`--target`).
    pub targets: BTreeSet<GroupId>,
    /// These groups are never planned (`--exclude`).
    pub excludes: BTreeSet<GroupId>,
}

impl PlanOptions {
    /// Whether a group is in scope of this run.
    pub fn in_scope(&self, id: &GroupId) -> bool {
        (self.targets.is_empty() || self.targets.contains(id)) && !self.excludes.contains(id)
    }
}

/// A computed plan: the changes in apply order, what each touched group looked like when it was
/// read, and warnings for the reader.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// For every group a change touches: the state it was read in (saved-plan compare-and-swap).
    pub guards: BTreeMap<GroupId, Guard>,
    pub warnings: Vec<Warning>,
}

/// One change to one group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub id: GroupId,
    pub action: Action,
    /// With `--baseline`: whether the manifests under review cause this change or the live
    /// group had already drifted from the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// What a change does. The order of the variants is the apply order of the phases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Create(Create),
    Replace(Replace),
    Update(Update),
    Transfer(Transfer),
    Destroy(Destroy),
}

/// The phases of an apply, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Create,
    Update,
    Transfer,
    Destroy,
}

impl Action {
    pub fn phase(&self) -> Phase {
        match self {
            Action::Create(_) | Action::Replace(_) => Phase::Create,
            Action::Update(_) => Phase::Update,
            Action::Transfer(_) => Phase::Transfer,
            Action::Destroy(_) => Phase::Destroy,
        }
    }

    /// The API commands this change calls, in order.
    pub fn commands(&self) -> Vec<&'static str> {
        match self {
            Action::Create(create) => create_commands(&create.desired),
            Action::Replace(replace) => {
                let mut commands = vec!["destroy_group"];
                commands.extend(create_commands(&replace.desired));
                commands
            }
            Action::Update(_) => vec!["modify_group_base_info"],
            Action::Transfer(_) => vec!["change_group_owner"],
            Action::Destroy(_) => vec!["destroy_group"],
        }
    }
}

fn create_commands(desired: &Group) -> Vec<&'static str> {
    let mut commands = vec![create_command(desired)];
    if needs_modify_after_create(desired) {
        commands.push("modify_group_base_info");
    }
    commands
}

/// `import_group`, or `create_group` for the one type that cannot be imported.
pub fn create_command(desired: &Group) -> &'static str {
    match desired.group_type {
        Some(t) if !t.importable() => "create_group",
        _ => "import_group",
    }
}

/// Neither `import_group` nor `create_group` takes `MuteAllMember`, and a Community refuses
/// `ApplyJoinOption` at creation: a group that must start muted, or a Community with a join
/// option, gets a `modify_group_base_info` right after it is made.
pub fn needs_modify_after_create(desired: &Group) -> bool {
    desired.mute_all == Some(true) || apply_join_after_create(desired)
}

/// Whether the join option is set by the modify that follows creation (Community only).
pub fn apply_join_after_create(desired: &Group) -> bool {
    desired.group_type == Some(GroupType::Community) && desired.apply_join.is_some()
}

/// A group to make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Create {
    /// Every written field; `type` and `name` are always set.
    pub desired: Group,
}

/// A type change: destroy the group, then make it again. Members and history are lost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replace {
    pub actual_type: GroupType,
    pub member_num: u32,
    pub desired: Group,
}

/// A field's value before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff<T> {
    pub actual: Option<T>,
    pub desired: T,
}

/// A custom (AppDefinedData) key whose value changes. `desired: None` deletes the key (sent
/// with an empty value); `actual: None` adds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomDiff {
    pub key: String,
    pub actual: Option<String>,
    pub desired: Option<String>,
}

/// Profile fields to change with `modify_group_base_info`; only the changed ones are set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Diff<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduction: Option<Diff<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<Diff<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_url: Option<Diff<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<Diff<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_join: Option<Diff<ApplyJoin>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute_all: Option<Diff<bool>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom: Vec<CustomDiff>,
}

impl Update {
    pub fn is_empty(&self) -> bool {
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
        name.is_none()
            && introduction.is_none()
            && notification.is_none()
            && face_url.is_none()
            && max_members.is_none()
            && apply_join.is_none()
            && mute_all.is_none()
            && custom.is_empty()
    }
}

/// An ownership transfer (`change_group_owner`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub actual: Option<String>,
    pub desired: String,
}

/// A group to disband.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destroy {
    pub group_type: GroupType,
    pub member_num: u32,
    pub reason: DestroyReason,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DestroyReason {
    /// The manifest says `ensure: absent`.
    Absent,
    /// Undeclared, under a prune prefix.
    Pruned { prefix: String },
}

/// Whether a change comes from the manifests under review or from drift (`--baseline`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    ThisChange,
    Drift,
}

/// What a group looked like when the plan read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Guard {
    /// The group did not exist.
    Absent,
    /// The group existed with this `InfoSeq` and these profile fields.
    Present { info_seq: u64, fingerprint: String },
}

impl Guard {
    pub fn of(actual: Option<&ActualGroup>) -> Guard {
        match actual {
            None => Guard::Absent,
            Some(actual) => Guard::Present {
                info_seq: actual.info_seq,
                fingerprint: fingerprint(&actual.group),
            },
        }
    }
}

/// SHA-256 over the canonical JSON of a profile: equal fingerprints, equal fields.
pub fn fingerprint(group: &Group) -> String {
    let json = serde_json::to_vec(group).expect("a profile serializes");
    Sha256::digest(json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Something the reader of a plan should know that does not stop it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// An AVChatRoom cannot be imported; it is made with `create_group` (no `CreateTime`,
    /// webhooks fire).
    CreatedNotImported { id: GroupId },
    /// A replace loses the group's members and message history.
    ReplaceLosesHistory { id: GroupId, member_num: u32 },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::CreatedNotImported { id } => write!(
                f,
                "group {id:?} is an AVChatRoom, which cannot be imported: it will be made with create_group"
            ),
            Warning::ReplaceLosesHistory { id, member_num } => write!(
                f,
                "group {id:?} will be destroyed and made again: its {member_num} members and its message history are lost"
            ),
        }
    }
}

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

/// Computes the changes that make `actual` equal to `desired`.
pub fn plan(desired: &Desired, actual: &Actual, options: &PlanOptions) -> Result<Plan, PlanErrors> {
    let mut planner = Planner::default();
    if !desired.prune_prefixes.is_empty() && desired.groups.is_empty() {
        planner.errors.push(PlanError::PruneWithoutGroups {
            prefixes: desired.prune_prefixes.iter().cloned().collect(),
        });
    }
    for (id, declared) in &desired.groups {
        if options.in_scope(id) {
            planner.group(declared, actual.groups.get(id), options);
        }
    }
    for (id, live) in &actual.groups {
        if desired.groups.contains_key(id) || !options.in_scope(id) {
            continue;
        }
        if let Some(prefix) = desired
            .prune_prefixes
            .iter()
            .find(|prefix| id.as_str().starts_with(prefix.as_str()))
        {
            planner.destroy(
                live,
                DestroyReason::Pruned {
                    prefix: prefix.clone(),
                },
            );
        }
    }
    planner.finish()
}

#[derive(Default)]
struct Planner {
    plan: Plan,
    errors: Vec<PlanError>,
}

impl Planner {
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
            (Ensure::Present, None) => self.create(desired),
            (Ensure::Present, Some(live)) => {
                let actual_type = live.group.group_type.unwrap_or(GroupType::Public);
                match desired.group_type {
                    Some(desired_type) if desired_type != actual_type => {
                        self.replace(declared, live, actual_type, desired_type, options)
                    }
                    _ => self.converge(desired, live, actual_type),
                }
            }
        }
    }

    fn create(&mut self, desired: &Group) {
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
        self.push(
            &desired.id,
            Action::Replace(Replace {
                actual_type,
                member_num: live.member_num,
                desired: creatable(desired),
            }),
            Some(live),
        );
    }

    fn converge(&mut self, desired: &Group, live: &ActualGroup, group_type: GroupType) {
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
        if let Some(owner) = &desired.owner
            && actual.owner.as_ref() != Some(owner)
        {
            if !group_type.transferable() {
                self.errors.push(PlanError::TransferRefused {
                    id: id.clone(),
                    group_type,
                });
                return;
            }
            match live.roles.get(owner) {
                Some(Role::NotMember) | None => self.errors.push(PlanError::OwnerNotMember {
                    id: id.clone(),
                    owner: owner.clone(),
                }),
                Some(_) => self.push(
                    id,
                    Action::Transfer(Transfer {
                        actual: actual.owner.clone(),
                        desired: owner.clone(),
                    }),
                    Some(live),
                ),
            }
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
    (actual.as_ref() != Some(desired)).then(|| Diff {
        actual: actual.clone(),
        desired: desired.clone(),
    })
}

/// Text fields the service leaves out when empty: absent and `""` are the same value.
fn diff_text(actual: &Option<String>, desired: &Option<String>) -> Option<Diff<String>> {
    let desired = desired.as_ref()?;
    let current = actual.as_deref().unwrap_or_default();
    (current != desired).then(|| Diff {
        actual: actual.clone(),
        desired: desired.clone(),
    })
}

/// A group that does not report mute-all is not muted.
fn diff_mute(actual: &Option<bool>, desired: &Option<bool>) -> Option<Diff<bool>> {
    let desired = (*desired)?;
    (actual.unwrap_or(false) != desired).then_some(Diff {
        actual: *actual,
        desired,
    })
}

fn diff_custom(
    actual: &Option<BTreeMap<String, String>>,
    desired: &Option<BTreeMap<String, String>>,
) -> Vec<CustomDiff> {
    let Some(desired) = desired else {
        return Vec::new();
    };
    let empty = BTreeMap::new();
    let actual = actual.as_ref().unwrap_or(&empty);
    let present = |map: &BTreeMap<String, String>, key: &str| {
        map.get(key).filter(|value| !value.is_empty()).cloned()
    };
    let keys: BTreeSet<&String> = actual.keys().chain(desired.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (before, after) = (present(actual, key), present(desired, key));
            (before != after).then(|| CustomDiff {
                key: key.clone(),
                actual: before,
                desired: after,
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
fn custom_unmet(
    actual: &Option<BTreeMap<String, String>>,
    desired: &Option<BTreeMap<String, String>>,
) -> bool {
    let Some(desired) = desired else {
        return false;
    };
    desired.iter().any(|(key, value)| {
        let live = actual
            .as_ref()
            .and_then(|map| map.get(key))
            .map_or("", String::as_str);
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
        let desired = |diff: &Option<Diff<String>>| diff.as_ref().map(|d| d.desired.clone());
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
                    .map(|c| (c.key.clone(), c.desired.clone().unwrap_or_default()))
                    .collect(),
            );
        }
        self
    }
}

/// Totals for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub replace: usize,
    pub update: usize,
    pub transfer: usize,
    pub destroy: usize,
    /// Members of the destroyed (and replaced) groups, all together.
    pub destroyed_members: u64,
    /// API calls the apply will make, read-backs not counted.
    pub api_calls: usize,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            summary.api_calls += change.action.commands().len();
            match &change.action {
                Action::Create(_) => summary.create += 1,
                Action::Replace(replace) => {
                    summary.replace += 1;
                    summary.destroyed_members += u64::from(replace.member_num);
                }
                Action::Update(_) => summary.update += 1,
                Action::Transfer(_) => summary.transfer += 1,
                Action::Destroy(destroy) => {
                    summary.destroy += 1;
                    summary.destroyed_members += u64::from(destroy.member_num);
                }
            }
        }
        summary
    }

    /// Labels each change "this change" or "drift" against the plan the baseline manifests give
    /// for the same live state: a change the baseline would make identically is drift (live
    /// already differed from the baseline); anything the manifests under review alter, even in
    /// part, is "this change".
    pub fn label_origins(&mut self, baseline: &Plan) {
        for change in &mut self.changes {
            let drift = baseline
                .changes
                .iter()
                .any(|base| base.id == change.id && base.action == change.action);
            change.origin = Some(if drift {
                Origin::Drift
            } else {
                Origin::ThisChange
            });
        }
    }
}

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

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
