//! The machine view of a plan: `timctl plan --format json`, for CI bots, policy checks and
//! dashboards.
//!
//! Programs depend on this document, so it is built from its own structs instead of
//! serializing the planner's types: those may change, this format changes only with
//! [`FORMAT_VERSION`]. (The saved plan of `plan --out`, which `apply` reads back, is a different
//! file with its own rules.)
//!
//! The format (version 1) is documented, key by key and with examples, in
//! `schema/plan-json.md` at the top of the repository; a test checks that its examples are
//! what [`json`] and the binary print. A key added here is added there in the same change.

use std::collections::BTreeMap;

use serde::Serialize;

use super::role_name;
use super::warning_message;
use crate::model::{CompactString, Group};
use crate::plan::{
    Action, Change, Create, CustomDiff, Destroy, DestroyReason, Diff, Field, Loss, Membership,
    Origin, PeopleCounts, Plan, PlanTarget, Replace, RoleChange, Summary, Transfer, Update,
    Warning,
};

/// The version of the document [`json`] writes; see the module documentation.
pub const FORMAT_VERSION: u32 = 1;

/// Renders the plan as the versioned JSON document described in the module documentation.
pub fn json(plan: &Plan) -> String {
    let document = Document {
        format_version: FORMAT_VERSION,
        target: plan.target.as_ref().map(TargetView::of),
        scoped: plan.scoped.map(ScopedView::of),
        summary: summary(&plan.summary()),
        changes: plan.changes.iter().map(change).collect(),
        warnings: plan.warnings.iter().map(warning).collect(),
    };
    let mut out = serde_json::to_string_pretty(&document).expect("the JSON view serializes");
    out.push('\n');
    out
}

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    target: Option<TargetView<'a>>,
    /// `null` unless the plan was made with `--changed-only`.
    #[serde(skip_serializing_if = "Option::is_none")]
    scoped: Option<ScopedView>,
    summary: SummaryView,
    changes: Vec<ChangeView<'a>>,
    warnings: Vec<WarningView<'a>>,
}

/// What a `--changed-only` plan read and left unchecked.
#[derive(Serialize)]
struct ScopedView {
    changed: usize,
    unchecked: usize,
    listed: bool,
}

impl ScopedView {
    fn of(scoped: crate::plan::Scoped) -> ScopedView {
        let crate::plan::Scoped {
            changed,
            unchecked,
            listed,
        } = scoped;
        ScopedView {
            changed,
            unchecked,
            listed,
        }
    }
}

/// Where the plan was made; the apply outcome names it the same way.
#[derive(Serialize)]
pub(super) struct TargetView<'a> {
    sdkappid: u64,
    endpoint: &'a str,
    builtin_emulator: bool,
    region: Option<&'a str>,
    url: Option<&'a str>,
}

impl TargetView<'_> {
    pub(super) fn of(target: &PlanTarget) -> TargetView<'_> {
        let PlanTarget {
            sdkappid,
            endpoint,
            builtin_emulator,
            region,
            url,
        } = target;
        TargetView {
            sdkappid: *sdkappid,
            endpoint,
            builtin_emulator: *builtin_emulator,
            region: region.as_deref(),
            url: url.as_deref(),
        }
    }
}

/// The `action` of a change: `create`, `replace`, `update`, `transfer`, `destroy`.
pub(super) fn action_name(action: &Action) -> &'static str {
    match action {
        Action::Create(_) => "create",
        Action::Replace(_) => "replace",
        Action::Update(_) => "update",
        Action::Members(_) => "members",
        Action::Transfer(_) => "transfer",
        Action::Destroy(_) => "destroy",
    }
}

#[derive(Serialize)]
struct SummaryView {
    create: usize,
    replace: usize,
    update: usize,
    transfer: usize,
    destroy: usize,
    destroyed_members: u64,
    api_calls: usize,
    /// Groups whose members or admins change.
    members: usize,
    people: PeopleView,
}

/// The people the plan's member changes touch, all groups together.
#[derive(Serialize)]
struct PeopleView {
    added: usize,
    removed: usize,
    promoted: usize,
    demoted: usize,
    notified: u64,
}

/// One group's member change: accounts added, role changes, accounts removed.
#[derive(Serialize)]
struct MembersView<'a> {
    add: Vec<&'a str>,
    roles: Vec<RoleView<'a>>,
    remove: Vec<&'a str>,
    silent: bool,
    notified: u32,
}

#[derive(Serialize)]
struct RoleView<'a> {
    account: &'a str,
    actual: &'static str,
    desired: &'static str,
}

fn members_view(members: &Membership) -> MembersView<'_> {
    let Membership {
        add,
        roles,
        remove,
        silent,
        notify,
    } = members;
    MembersView {
        add: add.iter().map(CompactString::as_str).collect(),
        roles: roles
            .iter()
            .map(
                |RoleChange {
                     account,
                     actual,
                     desired,
                 }| RoleView {
                    account,
                    actual: role_name(*actual),
                    desired: role_name(*desired),
                },
            )
            .collect(),
        remove: remove.iter().map(CompactString::as_str).collect(),
        silent: *silent,
        notified: *notify,
    }
}

#[derive(Serialize)]
struct ChangeView<'a> {
    id: &'a str,
    action: &'static str,
    origin: Option<&'static str>,
    commands: Vec<&'static str>,
    member_num: Option<u32>,
    reason: Option<ReasonView<'a>>,
    fields: Fields<'a>,
    custom: BTreeMap<&'a str, Pair<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    carried: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lost: Option<Vec<LostView>>,
    /// A `members` change, or what a transfer does to the old owner after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<MembersView<'a>>,
}

/// A value a replace does not carry over.
#[derive(Serialize)]
struct LostView {
    field: &'static str,
    actual: serde_json::Value,
    reason: String,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ReasonView<'a> {
    Absent,
    Pruned { prefix: &'a str },
}

/// A value before and after, and whose change it is.
#[derive(Serialize)]
struct Pair<T> {
    actual: Option<T>,
    desired: Option<T>,
    origin: Option<&'static str>,
}

impl<T> Pair<T> {
    fn desired(value: T) -> Pair<T> {
        Pair {
            actual: None,
            desired: Some(value),
            origin: None,
        }
    }

    fn change(actual: Option<T>, desired: Option<T>, origin: Option<Origin>) -> Pair<T> {
        Pair {
            actual,
            desired,
            origin: origin.map(origin_name),
        }
    }

    fn labelled(mut self, origin: Option<&'static str>) -> Pair<T> {
        self.origin = origin;
        self
    }
}

fn origin_name(origin: Origin) -> &'static str {
    match origin {
        Origin::ThisChange => "this_change",
        Origin::Drift => "drift",
    }
}

impl Fields<'_> {
    /// Every pair labelled `origin`: a change that is not an update is labelled whole.
    fn labelled(self, origin: Option<&'static str>) -> Self {
        let Fields {
            group_type,
            name,
            owner,
            introduction,
            notification,
            face_url,
            max_members,
            apply_join,
            mute_all,
            create_time,
        } = self;
        Fields {
            group_type: group_type.map(|p| p.labelled(origin)),
            name: name.map(|p| p.labelled(origin)),
            owner: owner.map(|p| p.labelled(origin)),
            introduction: introduction.map(|p| p.labelled(origin)),
            notification: notification.map(|p| p.labelled(origin)),
            face_url: face_url.map(|p| p.labelled(origin)),
            max_members: max_members.map(|p| p.labelled(origin)),
            apply_join: apply_join.map(|p| p.labelled(origin)),
            mute_all: mute_all.map(|p| p.labelled(origin)),
            create_time: create_time.map(|p| p.labelled(origin)),
        }
    }
}

#[derive(Default, Serialize)]
struct Fields<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    group_type: Option<Pair<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<Pair<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<Pair<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    introduction: Option<Pair<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notification: Option<Pair<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    face_url: Option<Pair<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_members: Option<Pair<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    apply_join: Option<Pair<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mute_all: Option<Pair<bool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    create_time: Option<Pair<u64>>,
}

#[derive(Serialize)]
struct WarningView<'a> {
    kind: &'static str,
    id: &'a str,
    message: String,
}

fn summary(summary: &Summary) -> SummaryView {
    let Summary {
        create,
        replace,
        update,
        transfer,
        destroy,
        destroyed_members,
        api_calls,
        members,
        people,
    } = *summary;
    let PeopleCounts {
        added,
        removed,
        promoted,
        demoted,
        notified,
    } = people;
    SummaryView {
        create,
        replace,
        update,
        transfer,
        destroy,
        destroyed_members,
        api_calls,
        members,
        people: PeopleView {
            added,
            removed,
            promoted,
            demoted,
            notified,
        },
    }
}

fn change(change: &Change) -> ChangeView<'_> {
    let Change { id, action, origin } = change;
    let mut view = ChangeView {
        id: id.as_str(),
        action: action_name(action),
        origin: origin.map(origin_name),
        commands: action.commands(),
        member_num: None,
        reason: None,
        fields: Fields::default(),
        custom: BTreeMap::new(),
        carried: None,
        lost: None,
        members: None,
    };
    match action {
        Action::Create(Create { desired }) => {
            (view.fields, view.custom) = made(desired);
        }
        Action::Replace(Replace {
            actual_type,
            member_num,
            desired,
            carried,
            lost,
        }) => {
            view.member_num = Some(*member_num);
            (view.fields, view.custom) = made(desired);
            view.fields.group_type = Some(Pair::change(
                Some(actual_type.as_str()),
                desired.group_type.map(|t| t.as_str()),
                None,
            ));
            mark_carried(&mut view.fields, &mut view.custom, carried);
            view.carried = Some(carried.iter().map(|field| field.as_str()).collect());
            view.lost = Some(lost_view(*member_num, desired, lost));
        }
        Action::Update(update) => {
            // Each field carries its own label.
            (view.fields, view.custom) = updated(update);
            return view;
        }
        Action::Members(members) => view.members = Some(members_view(members)),
        Action::Transfer(Transfer {
            actual,
            desired,
            after,
        }) => {
            view.fields.owner = Some(Pair::change(actual.as_deref(), Some(desired), None));
            view.members = after.as_ref().map(members_view);
        }
        Action::Destroy(Destroy {
            group_type,
            member_num,
            reason,
        }) => {
            view.member_num = Some(*member_num);
            view.reason = Some(match reason {
                DestroyReason::Absent => ReasonView::Absent,
                DestroyReason::Pruned { prefix } => ReasonView::Pruned { prefix },
            });
            view.fields.group_type = Some(Pair::change(Some(group_type.as_str()), None, None));
        }
    }
    view.fields = view.fields.labelled(view.origin);
    view.custom = std::mem::take(&mut view.custom)
        .into_iter()
        .map(|(key, pair)| (key, pair.labelled(view.origin)))
        .collect();
    view
}

type CustomView<'a> = BTreeMap<&'a str, Pair<&'a str>>;

/// The written fields of a group that is made.
fn made(group: &Group) -> (Fields<'_>, CustomView<'_>) {
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
        create_time,
    } = group;
    let fields = Fields {
        group_type: group_type.map(|t| Pair::desired(t.as_str())),
        name: name.as_deref().map(Pair::desired),
        owner: owner.as_deref().map(Pair::desired),
        introduction: introduction.as_deref().map(Pair::desired),
        notification: notification.as_deref().map(Pair::desired),
        face_url: face_url.as_deref().map(Pair::desired),
        max_members: max_members.map(Pair::desired),
        apply_join: apply_join.map(|a| Pair::desired(a.as_str())),
        mute_all: mute_all.map(Pair::desired),
        create_time: create_time.map(Pair::desired),
    };
    let custom = custom
        .iter()
        .flatten()
        .map(|(key, value)| (key, Pair::desired(value)))
        .collect();
    (fields, custom)
}

/// A carried field was live before the replace and is the same after: `actual` is `desired`.
fn mark_carried(fields: &mut Fields<'_>, custom: &mut CustomView<'_>, carried: &[Field]) {
    fn same<T: Copy>(pair: &mut Option<Pair<T>>) {
        if let Some(pair) = pair {
            pair.actual = pair.desired;
        }
    }
    for field in carried {
        match field {
            Field::Owner => same(&mut fields.owner),
            Field::Introduction => same(&mut fields.introduction),
            Field::Notification => same(&mut fields.notification),
            Field::FaceUrl => same(&mut fields.face_url),
            Field::MaxMembers => same(&mut fields.max_members),
            Field::ApplyJoin => same(&mut fields.apply_join),
            Field::MuteAll => same(&mut fields.mute_all),
            Field::CreateTime => same(&mut fields.create_time),
            Field::Custom => {
                for pair in custom.values_mut() {
                    pair.actual = pair.desired;
                }
            }
        }
    }
}

/// What a replace loses: the members, the message history, and each refused value.
fn lost_view(member_num: u32, desired: &Group, lost: &[Loss]) -> Vec<LostView> {
    let mut view = vec![
        LostView {
            field: "members",
            actual: member_num.into(),
            reason: "the group is destroyed: its members are not carried over".to_owned(),
        },
        LostView {
            field: "history",
            actual: serde_json::Value::Null,
            reason: "the group is destroyed: its message history is not carried over".to_owned(),
        },
    ];
    for loss in lost {
        let actual = match loss {
            Loss::MaxMembers { actual } => (*actual).into(),
            Loss::ApplyJoin { actual } => actual.as_str().into(),
            Loss::CreateTime { actual } => (*actual).into(),
        };
        view.push(LostView {
            field: loss.field().as_str(),
            actual,
            reason: desired.group_type.map(|t| loss.why(t)).unwrap_or_default(),
        });
    }
    view
}

/// The changed fields of an update.
fn updated(update: &Update) -> (Fields<'_>, CustomView<'_>) {
    let Update {
        name,
        introduction,
        notification,
        face_url,
        max_members,
        apply_join,
        mute_all,
        custom,
    } = update;
    fn text(diff: &Option<Diff<CompactString>>) -> Option<Pair<&str>> {
        diff.as_ref().map(
            |Diff {
                 actual,
                 desired,
                 origin,
             }| Pair::change(actual.as_deref(), Some(desired.as_str()), *origin),
        )
    }
    let fields = Fields {
        name: text(name),
        introduction: text(introduction),
        notification: text(notification),
        face_url: text(face_url),
        max_members: max_members.as_ref().map(
            |Diff {
                 actual,
                 desired,
                 origin,
             }| Pair::change(*actual, Some(*desired), *origin),
        ),
        apply_join: apply_join.as_ref().map(
            |Diff {
                 actual,
                 desired,
                 origin,
             }| {
                Pair::change(actual.map(|a| a.as_str()), Some(desired.as_str()), *origin)
            },
        ),
        mute_all: mute_all.as_ref().map(
            |Diff {
                 actual,
                 desired,
                 origin,
             }| Pair::change(*actual, Some(*desired), *origin),
        ),
        ..Fields::default()
    };
    let custom = custom
        .iter()
        .map(
            |CustomDiff {
                 key,
                 actual,
                 desired,
                 origin,
             }| {
                (
                    key.as_str(),
                    Pair::change(actual.as_deref(), desired.as_deref(), *origin),
                )
            },
        )
        .collect();
    (fields, custom)
}

fn warning(warning: &Warning) -> WarningView<'_> {
    let (kind, id) = match warning {
        Warning::CreatedNotImported { id } => ("created_not_imported", id),
        Warning::ReplaceLosesHistory { id, member_num: _ } => ("replace_loses_history", id),
    };
    WarningView {
        kind,
        id: id.as_str(),
        message: warning_message(warning),
    }
}
