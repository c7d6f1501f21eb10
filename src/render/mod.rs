//! Rendering a [`Plan`]: the same data shown three ways, for a person at a terminal ([`text`]),
//! for reviewers of a pull request ([`markdown`]) and for programs ([`json`]).
//!
//! Rendering is the last pure step of the flow: a renderer takes a finished plan and returns a
//! `String`. It does no I/O and reads no environment; the caller decides where the output goes
//! and whether it is coloured (a terminal without `NO_COLOR`).
//!
//! Guarantees shared by every view:
//! - Completeness: the structs of a change are destructured whole (here for the field rows that
//!   text and markdown share, in `json.rs` for the JSON view), so a field added to the plan does
//!   not compile until every view shows it.
//! - Visibility: user strings are shown with Rust-style escaping (`"a\0b"`), so control
//!   characters, trailing spaces and newlines are visible and can never drive the terminal or
//!   break the markup around them. In a line diff, a final newline that only one side has is
//!   shown as `\n` on that side's last line, not as a marker line of its own.
//! - Determinism: the output depends only on the plan.

mod json;
mod markdown;
mod outcome;
mod summary;
mod text;

#[cfg(test)]
mod tests;

use std::borrow::Cow;

use similar::{Algorithm, ChangeTag, capture_diff_slices};

use crate::model::{CompactString, Group, GroupId, GroupType, Role};
use crate::plan::{
    Action, Change, Create, CustomDiff, Destroy, DestroyReason, Diff, Field, Loss, Membership,
    Origin, PeopleCounts, Plan, Replace, RoleChange, Summary, Transfer, Update, Warning,
};

pub use json::{FORMAT_VERSION, json};
pub use markdown::{MARKDOWN_MARKER, MARKDOWN_MAX_CHARS, markdown};
pub use outcome::{ApplyFormat, outcome};
pub use summary::apply_summary;
pub use text::{TextOptions, text};

/// The views `timctl plan --format` offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Terraform-like blocks for a terminal.
    #[default]
    Text,
    /// A pull-request comment: summary table, callouts, a collapsible section per group.
    Markdown,
    /// A versioned document for programs (documented in schema/plan-json.md).
    Json,
}

/// Why `--redact-accounts` is refused with `--format text` or `json`: those views are for the
/// operator and for programs, which need the real ids.
pub const REDACT_NEEDS_MARKDOWN: &str = "--redact-accounts applies only to --format markdown (the pull-request comment); text and json always show full account ids";

/// The markdown view, with every account id redacted to a hash for `sdkappid` when one is
/// given (`--redact-accounts`, see [`crate::plan::redact_accounts`]).
pub fn markdown_for(plan: &Plan, redact_accounts: Option<u64>) -> String {
    match redact_accounts {
        Some(sdkappid) => markdown(
            &crate::plan::redact_accounts(plan, sdkappid),
            MARKDOWN_MAX_CHARS,
        ),
        None => markdown(plan, MARKDOWN_MAX_CHARS),
    }
}

/// What an empty plan says, in text and markdown alike.
const NO_CHANGES: &str = "No changes. Live groups match the manifests.";

/// Section titles when the plan was labelled with `--baseline`.
const THIS_CHANGE_TITLE: &str = "This change";
const DRIFT_TITLE: &str = "Drift (live already differed from the baseline)";

/// A string as a reader sees it: quoted, with Rust-style escapes (`"a\0b"`, `"x\ny"`).
fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// A group id as it is printed: bare when it is plain printable ASCII (what validation
/// allows), quoted otherwise so that a strange live id cannot hide or inject anything.
fn show_id(id: &GroupId) -> Cow<'_, str> {
    show_account(id.as_str())
}

/// An account (or a group id) as it is printed: bare when it is plain printable ASCII, quoted
/// otherwise, so that a strange value cannot hide or inject anything.
fn show_account(account: &str) -> Cow<'_, str> {
    if !account.is_empty() && account.bytes().all(|b| b.is_ascii_graphic()) {
        Cow::Borrowed(account)
    } else {
        Cow::Owned(quote(account))
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "Owner",
        Role::Admin => "Admin",
        Role::Member => "Member",
        Role::NotMember => "NotMember",
    }
}

/// `custom.team` for a well-formed key, `custom["odd key"]` for anything else.
fn custom_label(key: &str) -> String {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        format!("custom.{key}")
    } else {
        format!("custom[{}]", quote(key))
    }
}

/// What a `--changed-only` plan says in every view: which groups it read, and that the drift
/// of the others was not checked.
fn scoped_sentence(scoped: &crate::plan::Scoped) -> String {
    let crate::plan::Scoped {
        changed,
        unchecked,
        listed,
    } = *scoped;
    let mut text = format!(
        "--changed-only: read only the {} this change touches; drift of the other {} was not checked (a full plan checks it).",
        plural(changed as u64, "group", "groups"),
        plural(unchecked as u64, "declared group", "declared groups"),
    );
    if listed {
        text.push_str(" The prune prefixes changed, so the app's groups were listed for prune.");
    }
    text
}

/// `1 call`, `2 calls`.
pub(crate) fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `2 to create, 1 to replace, 3 to update, 1 owner transfer, 0 to destroy` (replaces only
/// when there are any), then the people the member changes touch, when there are any:
/// `; members of 2 groups: 3 to add, 1 to remove, 1 to promote, 0 to demote, 14 notified`.
fn summary_counts(summary: &Summary) -> String {
    let Summary {
        create,
        replace,
        update,
        transfer,
        destroy,
        destroyed_members: _,
        api_calls: _,
        members,
        people,
    } = *summary;
    let mut parts = vec![format!("{create} to create")];
    if replace > 0 {
        parts.push(format!("{replace} to replace"));
    }
    parts.push(format!("{update} to update"));
    parts.push(plural(transfer as u64, "owner transfer", "owner transfers"));
    parts.push(format!("{destroy} to destroy"));
    let mut out = parts.join(", ");
    if !people.is_empty() {
        out.push_str("; ");
        out.push_str(&people_counts(members, &people));
    }
    out
}

/// `members of 2 groups: 3 to add, 1 to remove, 1 to promote, 0 to demote, 14 get a group
/// notice`: the people a plan affects (what `--max-remove-members` and `--max-role-changes`
/// count).
fn people_counts(groups: usize, people: &PeopleCounts) -> String {
    let PeopleCounts {
        added,
        removed,
        promoted,
        demoted,
        notified,
    } = *people;
    format!(
        "members of {}: {added} to add, {removed} to remove, {promoted} to promote, {demoted} to demote, {} a group notice",
        plural(groups.max(1) as u64, "group", "groups"),
        match notified {
            1 => "1 gets".to_owned(),
            n => format!("{n} get"),
        }
    )
}

fn api_calls_sentence(summary: &Summary) -> String {
    format!(
        "The apply will make {}.",
        plural(summary.api_calls as u64, "API call", "API calls")
    )
}

/// The totals of a subset of the plan's changes.
fn summary_of<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Summary {
    Plan {
        changes: changes.into_iter().cloned().collect(),
        ..Plan::default()
    }
    .summary()
}

/// The changes of a plan in the sections they are shown in: one untitled section, or, when the
/// plan was labelled with `--baseline`, "this change" then "drift" (empty ones left out). An
/// update whose fields are of both kinds is split: each section shows it with its own fields.
struct Section<'a> {
    title: Option<&'static str>,
    changes: Vec<Cow<'a, Change>>,
}

fn sections(plan: &Plan) -> Vec<Section<'_>> {
    if plan.changes.iter().all(|change| change.origin.is_none()) {
        return vec![Section {
            title: None,
            changes: plan.changes.iter().map(Cow::Borrowed).collect(),
        }];
    }
    let (mut this_change, mut drift) = (Vec::new(), Vec::new());
    for change in &plan.changes {
        match split(change) {
            Some([own, drifted]) => {
                this_change.push(Cow::Owned(own));
                drift.push(Cow::Owned(drifted));
            }
            None if change.origin == Some(Origin::Drift) => drift.push(Cow::Borrowed(change)),
            None => this_change.push(Cow::Borrowed(change)),
        }
    }
    [(THIS_CHANGE_TITLE, this_change), (DRIFT_TITLE, drift)]
        .into_iter()
        .filter(|(_, changes)| !changes.is_empty())
        .map(|(title, changes)| Section {
            title: Some(title),
            changes,
        })
        .collect()
}

/// An update with fields of both origins as its "this change" part and its drift part.
fn split(change: &Change) -> Option<[Change; 2]> {
    let Action::Update(update) = &change.action else {
        return None;
    };
    if update.origins().len() < 2 {
        return None;
    }
    Some([Origin::ThisChange, Origin::Drift].map(|origin| Change {
        id: change.id.clone(),
        action: Action::Update(update.part(origin)),
        origin: Some(origin),
    }))
}

/// Whether a change is an update split across both sections.
fn is_split(change: &Change) -> bool {
    matches!(&change.action, Action::Update(update) if update.origins().len() > 1)
}

/// The sign of a change, terraform-style.
fn marker(action: &Action) -> &'static str {
    match action {
        Action::Create(_) => "+",
        Action::Replace(_) => "-/+",
        Action::Update(_) | Action::Members(_) | Action::Transfer(_) => "~",
        Action::Destroy(_) => "-",
    }
}

/// The colour family of a change: additions, in-place changes, removals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tone {
    Add,
    Change,
    Remove,
}

fn tone(action: &Action) -> Tone {
    match action {
        Action::Create(_) => Tone::Add,
        Action::Update(_) | Action::Members(_) | Action::Transfer(_) => Tone::Change,
        Action::Replace(_) | Action::Destroy(_) => Tone::Remove,
    }
}

/// The one line that names a change, without its sign:
/// `update eng`, `owner eng: "alice" -> "bob"`, `destroy old (Public, 12 members) [ensure: absent]`.
fn headline(change: &Change) -> String {
    let id = show_id(&change.id);
    let via = change.action.commands().join(", ");
    match &change.action {
        Action::Create(Create { desired }) => {
            format!("create {id} ({}) via {via}", type_name(desired))
        }
        Action::Replace(Replace {
            actual_type,
            member_num,
            desired,
            carried: _,
            lost: _,
        }) => format!(
            "replace {id} ({actual_type} -> {}, {} lost) via {via}",
            type_name(desired),
            plural(*member_num, "member", "members"),
        ),
        Action::Update(_) => format!("update {id}"),
        Action::Members(members) => format!("members {id} ({})", member_counts(members)),
        Action::Transfer(Transfer {
            actual,
            desired,
            after: _,
        }) => format!(
            "owner {id}: {} -> {}",
            actual.as_deref().map_or_else(|| NONE.to_owned(), quote),
            quote(desired)
        ),
        Action::Destroy(Destroy {
            group_type,
            member_num,
            reason,
        }) => format!(
            "destroy {id} ({group_type}, {}) [{}]",
            plural(*member_num, "member", "members"),
            destroy_reason(reason)
        ),
    }
}

/// `2 to add, 1 to promote, 1 to remove`: the non-zero counts of one group's member change.
fn member_counts(members: &Membership) -> String {
    let counts = [
        (members.add.len(), "to add"),
        (members.promoted(), "to promote"),
        (members.demoted(), "to demote"),
        (members.remove.len(), "to remove"),
    ];
    counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn type_name(group: &Group) -> &'static str {
    group.group_type.map_or("type unknown", |t| t.as_str())
}

fn destroy_reason(reason: &DestroyReason) -> String {
    match reason {
        DestroyReason::Absent => "ensure: absent".to_owned(),
        DestroyReason::Pruned { prefix } => format!("pruned: prefix {}", quote(prefix)),
    }
}

/// A warning in words. Written here rather than taken from `Warning`'s `Display` so that every
/// view quotes ids the same way.
fn warning_message(warning: &Warning) -> String {
    match warning {
        Warning::CreatedNotImported { id } => format!(
            "group {} is an AVChatRoom, which cannot be imported: it will be made with create_group (no create_time; creation callbacks fire)",
            quote(id.as_str())
        ),
        Warning::ReplaceLosesHistory { id, member_num } => format!(
            "group {} will be destroyed and made again: its {} and its message history are lost",
            quote(id.as_str()),
            plural(*member_num, "member", "members")
        ),
    }
}

/// A change that cannot be undone: a destroy, or the destroy half of a replace. Text and
/// markdown both list them above the totals, with the members each one disbands.
struct Loses<'a> {
    change: &'a Change,
    /// `destroy` or `replace`.
    kind: &'static str,
    /// The group's type, or `Public -> ChatRoom` for a replace (the arrow is the renderer's).
    types: (GroupType, Option<&'static str>),
    member_num: u32,
    why: LosesWhy<'a>,
}

enum LosesWhy<'a> {
    Absent,
    Pruned(&'a str),
    TypeChange,
}

/// Every destroy and replace of the plan, in plan order, and the members they disband.
fn losses(plan: &Plan) -> (Vec<Loses<'_>>, u64) {
    let mut rows = Vec::new();
    for change in &plan.changes {
        match &change.action {
            Action::Destroy(Destroy {
                group_type,
                member_num,
                reason,
            }) => rows.push(Loses {
                change,
                kind: "destroy",
                types: (*group_type, None),
                member_num: *member_num,
                why: match reason {
                    DestroyReason::Absent => LosesWhy::Absent,
                    DestroyReason::Pruned { prefix } => LosesWhy::Pruned(prefix),
                },
            }),
            Action::Replace(Replace {
                actual_type,
                member_num,
                desired,
                carried: _,
                lost: _,
            }) => rows.push(Loses {
                change,
                kind: "replace",
                types: (*actual_type, Some(type_name(desired))),
                member_num: *member_num,
                why: LosesWhy::TypeChange,
            }),
            Action::Create(_) | Action::Update(_) | Action::Members(_) | Action::Transfer(_) => {}
        }
    }
    let members = rows.iter().map(|row| u64::from(row.member_num)).sum();
    (rows, members)
}

/// The sentence above the list of destroys: `This plan destroys 2 groups holding 13 members
/// in total.`, then why that matters.
fn losses_sentence(groups: usize, members: u64) -> (String, &'static str) {
    (
        format!(
            "This plan destroys {} holding {} in total.",
            plural(groups as u64, "group", "groups"),
            plural(members, "member", "members"),
        ),
        "Disbanding a group notifies every member and loses its message history.",
    )
}

/// What an absent actual value is called.
const NONE: &str = "(none)";
/// What a custom key that is deleted becomes.
const DELETED: &str = "(deleted)";

/// One field of a change, as text and markdown show it.
struct Row {
    label: String,
    value: RowValue,
    /// Said after the value (`(carried over)`), or why a [`RowValue::Lost`] value is lost.
    note: Option<String>,
}

/// What a replace says of a value it takes from the live group.
const CARRIED: &str = "carried over";

enum RowValue {
    /// A value written at creation.
    Set(String),
    /// A value that changes; `None` is [`NONE`] on the actual side, [`DELETED`] on the desired.
    Change {
        actual: Option<String>,
        desired: Option<String>,
    },
    /// A multi-line text as a line diff (all insertions at creation).
    Lines(Vec<DiffLine>),
    /// A live value that a replace does not carry over.
    Lost(String),
    /// A person added (`member carol`, [`Tone::Add`]), removed (`member eve`,
    /// [`Tone::Remove`]) or whose role changes (`role bob: Member -> Admin`, [`Tone::Change`]);
    /// the row's label is `member` or `role`.
    Person {
        tone: Tone,
        account: String,
        /// For a role change: the role before and after.
        roles: Option<(&'static str, &'static str)>,
    },
}

/// One line of a multi-line field's diff.
struct DiffLine {
    tag: ChangeTag,
    /// The line without its terminator, control characters escaped; `\n` at its end when it
    /// is the last line of a text that ends with a newline while the other text does not.
    text: String,
}

/// What a final newline is shown as when only one side of a diff ends with one.
const FINAL_NEWLINE: &str = "\\n";

/// A text that reads as several lines: it holds a newline before its last character.
fn is_multi_line(s: &str) -> bool {
    s.strip_suffix('\n').unwrap_or(s).contains('\n')
}

/// A line-by-line diff. When exactly one side ends with a newline, its last line is a line of
/// its own kind (shown with a visible `\n`), so the change of ending shows as that line
/// changing, and no side needs a "no newline at end" marker line.
fn line_diff(actual: &str, desired: &str) -> Vec<DiffLine> {
    let ending_matters = !actual.is_empty()
        && !desired.is_empty()
        && actual.ends_with('\n') != desired.ends_with('\n');
    let lines = |s: &str| -> Vec<(String, bool)> {
        let mut lines: Vec<(String, bool)> = s
            .split_inclusive('\n')
            .map(|line| (line.strip_suffix('\n').unwrap_or(line).to_owned(), false))
            .collect();
        if ending_matters
            && s.ends_with('\n')
            && let Some(last) = lines.last_mut()
        {
            last.1 = true;
        }
        lines
    };
    let (old, new) = (lines(actual), lines(desired));
    capture_diff_slices(Algorithm::default(), &old, &new)
        .iter()
        .flat_map(|op| op.iter_changes(&old, &new))
        .map(|change| {
            let (line, final_newline) = change.value();
            let mut text = escape_line(&line);
            if final_newline {
                text.push_str(FINAL_NEWLINE);
            }
            DiffLine {
                tag: change.tag(),
                text,
            }
        })
        .collect()
}

/// Escapes control and invisible characters of one unquoted line, and its trailing spaces
/// (`\u{20}`), so that a change in them shows; quotes stay as they are.
fn escape_line(line: &str) -> String {
    let body = line.trim_end_matches(' ');
    let mut out = String::with_capacity(line.len());
    for c in body.chars() {
        match c {
            '"' | '\'' => out.push(c),
            c => out.extend(c.escape_debug()),
        }
    }
    for _ in body.len()..line.len() {
        out.push_str("\\u{20}");
    }
    out
}

fn set_text(rows: &mut Vec<Row>, label: &str, value: Option<&str>) {
    if let Some(value) = value {
        let value = if is_multi_line(value) {
            RowValue::Lines(line_diff("", value))
        } else {
            RowValue::Set(quote(value))
        };
        rows.push(Row {
            label: label.to_owned(),
            value,
            note: None,
        });
    }
}

fn set_plain(rows: &mut Vec<Row>, label: &str, value: Option<String>) {
    if let Some(value) = value {
        rows.push(Row {
            label: label.to_owned(),
            value: RowValue::Set(value),
            note: None,
        });
    }
}

fn change_text(rows: &mut Vec<Row>, label: &str, diff: &Option<Diff<CompactString>>) {
    if let Some(Diff {
        actual,
        desired,
        origin: _,
    }) = diff
    {
        let multi_line = is_multi_line(desired) || actual.as_deref().is_some_and(is_multi_line);
        let value = if multi_line {
            RowValue::Lines(line_diff(actual.as_deref().unwrap_or_default(), desired))
        } else {
            RowValue::Change {
                actual: actual.as_deref().map(quote),
                desired: Some(quote(desired)),
            }
        };
        rows.push(Row {
            label: label.to_owned(),
            value,
            note: None,
        });
    }
}

fn change_plain<T: ToString>(rows: &mut Vec<Row>, label: &str, diff: &Option<Diff<T>>) {
    if let Some(Diff {
        actual,
        desired,
        origin: _,
    }) = diff
    {
        rows.push(Row {
            label: label.to_owned(),
            value: RowValue::Change {
                actual: actual.as_ref().map(T::to_string),
                desired: Some(desired.to_string()),
            },
            note: None,
        });
    }
}

/// The written fields of a group that is made (create, or the second half of a replace); the
/// `carried` ones are marked. The id and type are in the headline.
fn group_rows(group: &Group, carried: &[Field]) -> Vec<Row> {
    let Group {
        id: _,
        group_type: _,
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
    let mut rows = Vec::new();
    let mark = |rows: &mut Vec<Row>, from: usize, field: Field| {
        if carried.contains(&field) {
            for row in &mut rows[from..] {
                row.note = Some(CARRIED.to_owned());
            }
        }
    };
    set_text(&mut rows, "name", name.as_deref());
    let at = rows.len();
    set_text(&mut rows, "owner", owner.as_deref());
    mark(&mut rows, at, Field::Owner);
    let at = rows.len();
    set_text(&mut rows, "introduction", introduction.as_deref());
    mark(&mut rows, at, Field::Introduction);
    let at = rows.len();
    set_text(&mut rows, "notification", notification.as_deref());
    mark(&mut rows, at, Field::Notification);
    let at = rows.len();
    set_text(&mut rows, "face_url", face_url.as_deref());
    mark(&mut rows, at, Field::FaceUrl);
    let at = rows.len();
    set_plain(&mut rows, "max_members", max_members.map(|n| n.to_string()));
    mark(&mut rows, at, Field::MaxMembers);
    let at = rows.len();
    set_plain(&mut rows, "apply_join", apply_join.map(|a| a.to_string()));
    mark(&mut rows, at, Field::ApplyJoin);
    let at = rows.len();
    set_plain(&mut rows, "mute_all", mute_all.map(|m| m.to_string()));
    mark(&mut rows, at, Field::MuteAll);
    let at = rows.len();
    for (key, value) in custom.iter().flatten() {
        set_text(&mut rows, &custom_label(key), Some(value));
    }
    mark(&mut rows, at, Field::Custom);
    let at = rows.len();
    set_plain(&mut rows, "create_time", create_time.map(|t| t.to_string()));
    mark(&mut rows, at, Field::CreateTime);
    rows
}

/// A replace: the fields the new group is made with (the carried ones marked), then what is
/// lost: the members, the message history and each live value the new type refuses.
fn replace_rows(replace: &Replace) -> Vec<Row> {
    let Replace {
        actual_type: _,
        member_num,
        desired,
        carried,
        lost,
    } = replace;
    let mut rows = group_rows(desired, carried);
    let mut lose = |label: &str, value: String, note: Option<String>| {
        rows.push(Row {
            label: label.to_owned(),
            value: RowValue::Lost(value),
            note,
        });
    };
    lose("members", member_num.to_string(), None);
    lose("history", "all messages".to_owned(), None);
    for loss in lost {
        let value = match loss {
            Loss::MaxMembers { actual } => actual.to_string(),
            Loss::ApplyJoin { actual } => actual.to_string(),
            Loss::CreateTime { actual } => actual.to_string(),
        };
        let why = desired.group_type.map(|t| loss.why(t));
        lose(loss.field().as_str(), value, why);
    }
    rows
}

/// The changed fields of an update.
fn update_rows(update: &Update) -> Vec<Row> {
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
    let mut rows = Vec::new();
    change_text(&mut rows, "name", name);
    change_text(&mut rows, "introduction", introduction);
    change_text(&mut rows, "notification", notification);
    change_text(&mut rows, "face_url", face_url);
    change_plain(&mut rows, "max_members", max_members);
    change_plain(&mut rows, "apply_join", apply_join);
    change_plain(&mut rows, "mute_all", mute_all);
    for CustomDiff {
        key,
        actual,
        desired,
        origin: _,
    } in custom
    {
        rows.push(Row {
            label: custom_label(key),
            value: RowValue::Change {
                actual: actual.as_deref().map(quote),
                desired: desired.as_deref().map(quote),
            },
            note: None,
        });
    }
    rows
}

/// One row per person a member change touches (adds, role changes, removals, in apply
/// order), then whether the group is notified. `note` is said after each person.
fn member_rows(members: &Membership, note: Option<&str>) -> Vec<Row> {
    let Membership {
        add,
        roles,
        remove,
        silent,
        notify,
    } = members;
    let person = |label: &str, tone, account: &str, roles| Row {
        label: label.to_owned(),
        value: RowValue::Person {
            tone,
            account: show_account(account).into_owned(),
            roles,
        },
        note: note.map(str::to_owned),
    };
    let mut rows: Vec<Row> = add
        .iter()
        .map(|account| person("member", Tone::Add, account, None))
        .collect();
    for RoleChange {
        account,
        actual,
        desired,
    } in roles
    {
        let pair = Some((role_name(*actual), role_name(*desired)));
        rows.push(person("role", Tone::Change, account, pair));
    }
    rows.extend(
        remove
            .iter()
            .map(|account| person("member", Tone::Remove, account, None)),
    );
    if !add.is_empty() || !remove.is_empty() {
        let notice = if *silent {
            "none (members_silent)".to_owned()
        } else {
            format!(
                "{} get a group notice",
                plural(*notify, "member", "members")
            )
        };
        rows.push(Row {
            label: "notice".to_owned(),
            value: RowValue::Set(notice),
            note: None,
        });
    }
    rows
}

/// The field rows under a change's headline.
fn rows(action: &Action) -> Vec<Row> {
    match action {
        Action::Create(Create { desired }) => group_rows(desired, &[]),
        Action::Replace(replace) => replace_rows(replace),
        Action::Update(update) => update_rows(update),
        Action::Members(members) => member_rows(members, None),
        Action::Transfer(Transfer {
            actual: _,
            desired: _,
            after,
        }) => after
            .as_ref()
            .map(|after| member_rows(after, Some("after the transfer")))
            .unwrap_or_default(),
        // The headline says it all.
        Action::Destroy(Destroy { .. }) => Vec::new(),
    }
}
