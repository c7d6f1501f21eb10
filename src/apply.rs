//! Executes a [`Plan`] against the API: the only module that writes to the service.
//!
//! # Flow
//! Phases run in order: creates (and replaces), updates, ownership transfers, destroys. Within
//! a phase every change runs concurrently; the client paces the calls to each command's
//! documented limit and retries transient failures. After the last phase every touched group
//! is read back and compared with the plan.
//!
//! # Guarantees
//! - One group's failure never stops the others; a group whose change failed gets no further
//!   change in later phases (it stays as it was, or as far as it got).
//! - With `check_guards` (a saved plan), each group is re-read before its first write and
//!   skipped if its `InfoSeq` or any field the plan read has changed since (and, for a destroy
//!   or replace, its member count): a per-group compare-and-swap, so a reviewed plan never
//!   overwrites an edit made after review. A group that already is as the plan would leave it
//!   is reported "already applied". A change without a guard is never written.
//! - A change that takes several calls (create then modify, destroy then create) and stops
//!   between them is reported as partially applied, naming the steps done and the step left;
//!   the next plan shows that step. A first interrupt starts no new change but lets a change
//!   under way make its remaining calls, so the window stays as short as the protocol allows.
//! - [`InFlight`] always knows which calls are under way, so a second interrupt can name them.
//! - Retries are safe: the client confirms an `import_group` that answers "ID in use" after a
//!   lost response by reading it back, and counts a repeated `destroy_group` that finds the
//!   group gone as done.
//!
//! # Errors
//! Nothing here returns early on an API error: every outcome lands in the [`Report`], and the
//! caller turns a report with failures into exit code 1.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::api::{ApiError, Client, ModifyFields, fields_set_after_create};
use crate::live::{self, progress_bar};
use crate::model::{Actual, CompactString, GroupId, Role};
use crate::plan::{self, Action, Change, Guard, Phase, Plan, Update};

/// How an apply runs.
#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    /// Re-read each group before its first write and skip it if it changed since the plan.
    pub check_guards: bool,
    /// Show a progress bar per phase on stderr.
    pub progress: bool,
    /// When raised (Ctrl-C, SIGTERM), no new change starts; calls in flight finish.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Where the calls under way are recorded, for the second interrupt's message.
    pub in_flight: InFlight,
}

/// The calls under way: for each change started and not finished, the command it is in.
#[derive(Clone, Debug, Default)]
pub struct InFlight(Arc<Mutex<BTreeMap<(GroupId, &'static str), &'static str>>>);

impl InFlight {
    fn set(&self, id: &GroupId, label: &'static str, command: &'static str) {
        self.lock().insert((id.clone(), label), command);
    }

    fn clear(&self, id: &GroupId, label: &'static str) {
        self.lock().remove(&(id.clone(), label));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(GroupId, &'static str), &'static str>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `update eng (modify_group_base_info)`, one per call under way, in id order.
    pub fn describe(&self) -> Vec<String> {
        self.lock()
            .iter()
            .map(|((id, label), command)| format!("{label} {id} ({command})"))
            .collect()
    }
}

impl ApplyOptions {
    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::SeqCst))
    }
}

/// What happened to one change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    /// The API refused or the call could not be made.
    Failed {
        code: Option<i64>,
        message: String,
    },
    /// Some calls of a multi-call change were made, then one failed or was not made.
    Partial {
        /// The calls that took effect, in order.
        done: Vec<&'static str>,
        /// The call that failed or was not made, then any after it.
        left: Vec<&'static str>,
        code: Option<i64>,
        message: String,
    },
    /// Not attempted: the group changed since the plan, or an earlier change to it failed.
    Skipped {
        reason: String,
    },
    /// Not needed: the saved plan was made before the group already came to this state.
    AlreadyApplied,
}

impl Outcome {
    /// Whether this outcome fails the run (exit 1).
    pub fn is_failure(&self) -> bool {
        !matches!(self, Outcome::Applied | Outcome::AlreadyApplied)
    }
}

/// One change and its outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangeResult {
    pub id: GroupId,
    pub phase: Phase,
    pub label: &'static str,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A field that did not take effect, found when the groups were read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unmet {
    pub id: GroupId,
    pub fields: Vec<&'static str>,
}

/// Everything the apply did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub results: Vec<ChangeResult>,
    pub unmet: Vec<Unmet>,
    /// The read-back itself failed; nothing could be verified.
    pub verify_error: Option<String>,
}

impl Report {
    pub fn failed(&self) -> bool {
        self.verify_error.is_some()
            || !self.unmet.is_empty()
            || self.results.iter().any(|r| r.outcome.is_failure())
    }

    pub fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| pred(&r.outcome)).count()
    }
}

/// Short verb for a change, as in the plan output.
pub fn label(action: &Action) -> &'static str {
    match action {
        Action::Create(_) => "create",
        Action::Replace(_) => "replace",
        Action::Update(_) => "update",
        Action::Members(_) => "members",
        Action::Transfer(_) => "owner",
        Action::Destroy(_) => "destroy",
    }
}

/// Applies `plan` and reports every outcome.
pub async fn apply(client: &Client, plan: &Plan, options: &ApplyOptions) -> Report {
    let mut report = Report::default();
    // Groups that must get no further change: skipped by their guard, already as planned, or
    // a change to them failed.
    let mut stopped: BTreeMap<GroupId, Outcome> = BTreeMap::new();
    let mut verified: BTreeSet<GroupId> = BTreeSet::new();
    for phase in Phase::ALL {
        let changes: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| c.action.phase() == phase)
            .collect();
        if changes.is_empty() {
            continue;
        }
        if options.check_guards {
            let unverified: Vec<GroupId> = changes
                .iter()
                .map(|c| c.id.clone())
                .filter(|id| !verified.contains(id) && !stopped.contains_key(id))
                .collect();
            check_guards(client, plan, &unverified, &mut stopped, options.progress).await;
            verified.extend(unverified);
        }
        let bar = progress_bar(options.progress, phase_name(phase), changes.len());
        let mut runnable = Vec::new();
        for change in changes {
            match stopped.get(&change.id) {
                Some(outcome) => report.results.push(ChangeResult {
                    id: change.id.clone(),
                    phase,
                    label: label(&change.action),
                    outcome: outcome.clone(),
                }),
                None => runnable.push(change.clone()),
            }
        }
        for result in run_phase(client, runnable, &bar, options).await {
            let reason = match &result.outcome {
                Outcome::Failed { .. } | Outcome::Partial { .. } => {
                    Some("an earlier change to this group did not complete")
                }
                Outcome::Skipped { .. } => Some("interrupted before this change started"),
                Outcome::Applied | Outcome::AlreadyApplied => None,
            };
            if let Some(reason) = reason {
                stopped.insert(
                    result.id.clone(),
                    Outcome::Skipped {
                        reason: reason.to_owned(),
                    },
                );
            }
            report.results.push(result);
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
    }
    verify(client, plan, &mut report, options.progress).await;
    report
}

async fn run_phase(
    client: &Client,
    changes: Vec<Change>,
    bar: &Option<indicatif::ProgressBar>,
    options: &ApplyOptions,
) -> Vec<ChangeResult> {
    // At most as many changes under way as the client has requests in flight: each change
    // makes one call at a time, so none waits for a connection slot behind the calls of
    // another command (a create's follow-up modify behind the queue of imports), and the
    // pacer alone sets the rate.
    let permits = Arc::new(Semaphore::new(client.max_in_flight()));
    let mut tasks = JoinSet::new();
    for change in changes {
        let client = client.clone();
        let permits = Arc::clone(&permits);
        let options = options.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let outcome = if options.cancelled() {
                Outcome::Skipped {
                    reason: "interrupted before this change started".to_owned(),
                }
            } else {
                let outcome = execute(&client, &change, &options).await;
                options.in_flight.clear(&change.id, label(&change.action));
                outcome
            };
            ChangeResult {
                id: change.id,
                phase: change.action.phase(),
                label: label(&change.action),
                outcome,
            }
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let result = joined.expect("an apply task does not panic");
        if let Some(bar) = bar {
            bar.inc(1);
        }
        tracing::info!(group = %result.id, change = result.label, outcome = ?result.outcome, "applied");
        results.push(result);
    }
    results.sort_by(|a, b| a.id.cmp(&b.id));
    results
}

/// Makes the calls of one change, in order, recording each in `in_flight` as it goes, and
/// tells how far it got. A member change stops between its calls at the first interrupt: each
/// call leaves the group consistent (unlike a replace between its destroy and its create), a
/// big one can take many calls, and the next plan shows the rest.
async fn execute(client: &Client, change: &Change, options: &ApplyOptions) -> Outcome {
    let id = &change.id;
    let label = label(&change.action);
    let commands = change.action.commands();
    let mut done: Vec<&'static str> = Vec::new();
    let stoppable = matches!(change.action, Action::Members(_));
    for (step, command) in commands.iter().enumerate() {
        if stoppable && step > 0 && options.cancelled() {
            return Outcome::Partial {
                done,
                left: commands[step..].to_vec(),
                code: None,
                message: "interrupted: the member calls left were not made".to_owned(),
            };
        }
        options.in_flight.set(id, label, command);
        let result = step_call(client, change, step).await;
        match result {
            Ok(()) => done.push(command),
            Err(error) => {
                let (code, message) = (error.code(), error_chain(&error));
                return if done.is_empty() {
                    Outcome::Failed { code, message }
                } else {
                    Outcome::Partial {
                        done,
                        left: commands[step..].to_vec(),
                        code,
                        message,
                    }
                };
            }
        }
    }
    Outcome::Applied
}

/// Call number `step` of a change, as listed by [`Action::commands`].
async fn step_call(client: &Client, change: &Change, step: usize) -> Result<(), ApiError> {
    let id = &change.id;
    match (&change.action, step) {
        (Action::Create(create), step) => create_step(client, &create.desired, step).await,
        (Action::Replace(_), 0) => client.destroy_group(id).await.map(drop),
        (Action::Replace(replace), step) => create_step(client, &replace.desired, step - 1).await,
        (Action::Update(update), _) => client
            .modify_group_base_info(id, &modify_fields(update))
            .await
            .map(drop),
        (Action::Members(members), step) => member_step(client, id, members, step).await,
        (Action::Transfer(transfer), 0) => client
            .change_group_owner(id, &transfer.desired)
            .await
            .map(drop),
        (Action::Transfer(transfer), step) => match &transfer.after {
            Some(after) => member_step(client, id, after, step - 1).await,
            None => Ok(()),
        },
        (Action::Destroy(_), _) => client.destroy_group(id).await.map(drop),
    }
}

/// Call number `step` of a member change, as listed by [`plan::Membership::calls`].
async fn member_step(
    client: &Client,
    id: &GroupId,
    members: &plan::Membership,
    step: usize,
) -> Result<(), ApiError> {
    let accounts =
        |list: &[CompactString]| -> Vec<String> { list.iter().map(|a| a.to_string()).collect() };
    match members.call(step) {
        Some(plan::MemberCall::Add(list)) => {
            client
                .add_members(id, &accounts(list), members.silent)
                .await
        }
        Some(plan::MemberCall::Role(change)) => {
            client
                .set_member_role(id, &change.account, change.desired)
                .await
        }
        Some(plan::MemberCall::Remove(list)) => {
            client
                .delete_group_member(id, &accounts(list), members.silent)
                .await
        }
        None => Ok(()),
    }
}

/// The member change a change makes, if any: a `members` change, or a transfer's follow-up.
fn member_change(action: &Action) -> Option<&plan::Membership> {
    match action {
        Action::Members(members) => Some(members),
        Action::Transfer(transfer) => transfer.after.as_ref(),
        _ => None,
    }
}

/// Step 0 makes the group; step 1 sets what creation cannot (mute-all, a Community's join
/// option).
async fn create_step(
    client: &Client,
    desired: &crate::model::Group,
    step: usize,
) -> Result<(), ApiError> {
    if step == 0 {
        match plan::create_command(desired) {
            "create_group" => client.create_group(desired).await?,
            _ => client.import_group(desired).await?,
        };
        return Ok(());
    }
    match fields_set_after_create(desired) {
        Some(fields) => client
            .modify_group_base_info(&desired.id, &fields)
            .await
            .map(drop),
        None => Ok(()),
    }
}

/// The request fields of an update: the desired value of each changed field; a custom key to
/// delete is sent with an empty value.
fn modify_fields(update: &Update) -> ModifyFields {
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
    let text = |diff: &Option<plan::Diff<CompactString>>| diff.as_ref().map(|d| d.desired.clone());
    ModifyFields {
        name: text(name),
        introduction: text(introduction),
        notification: text(notification),
        face_url: text(face_url),
        max_members: max_members.as_ref().map(|d| d.desired),
        apply_join: apply_join.as_ref().map(|d| d.desired),
        mute_all: mute_all.as_ref().map(|d| d.desired),
        custom: custom
            .iter()
            .map(|c| (c.key.clone(), c.desired.clone().unwrap_or_default()))
            .collect(),
    }
}

/// Re-reads `ids` and stops every group whose state differs from the plan's guard: skipped as
/// stale, or "already applied" when the group already is as its changes would leave it. A
/// change whose group has no guard is never written (a saved plan without its guard cannot be
/// verified).
async fn check_guards(
    client: &Client,
    plan: &Plan,
    ids: &[GroupId],
    stopped: &mut BTreeMap<GroupId, Outcome>,
    progress: bool,
) {
    if ids.is_empty() {
        return;
    }
    let actual = match live::read_groups(client, ids, progress.then_some("recheck")).await {
        Ok(actual) => actual,
        Err(error) => {
            let reason = format!(
                "could not re-read the group before writing, so the saved plan cannot be checked against it: {}",
                error_chain(&error)
            );
            for id in ids {
                stopped.insert(
                    id.clone(),
                    Outcome::Skipped {
                        reason: reason.clone(),
                    },
                );
            }
            return;
        }
    };
    // Member lists, re-read only for the groups whose saved changes touch members.
    let with_people: Vec<GroupId> = ids
        .iter()
        .filter(|id| {
            plan.changes
                .iter()
                .any(|c| &c.id == *id && member_change(&c.action).is_some())
        })
        .cloned()
        .collect();
    let members = match live::member_lists(client, &actual, &with_people).await {
        Ok(members) => members,
        Err(error) => {
            let reason = format!(
                "could not re-read the member list before writing, so the saved plan cannot be checked against it: {}",
                error_chain(&error)
            );
            for id in &with_people {
                stopped.insert(
                    id.clone(),
                    Outcome::Skipped {
                        reason: reason.clone(),
                    },
                );
            }
            BTreeMap::new()
        }
    };
    for id in ids {
        if stopped.contains_key(id) {
            continue;
        }
        let live = actual.groups.get(id).map(Box::as_ref);
        let live_members = members.get(id);
        let changes: Vec<&Change> = plan.changes.iter().filter(|c| &c.id == id).collect();
        let Some(expected) = plan.guards.get(id) else {
            stopped.insert(
                id.clone(),
                Outcome::Skipped {
                    reason: "the saved plan holds no guard for this group, so it cannot be checked against the live group: not applied".to_owned(),
                },
            );
            continue;
        };
        let people = with_people.contains(id);
        let mut found = Guard::of(live);
        if people && let Guard::Present { members, .. } = &mut found {
            *members = live_members.map(plan::member_fingerprint);
        }
        if people && let Guard::Present { members: None, .. } = expected {
            stopped.insert(
                id.clone(),
                Outcome::Skipped {
                    reason: "the saved plan changes members but holds no guard of the member list it read, so it cannot be checked against the live group: not applied".to_owned(),
                },
            );
            continue;
        }
        let destroys = changes
            .iter()
            .any(|c| matches!(c.action, Action::Destroy(_) | Action::Replace(_)));
        let Some(stale) = staleness(expected, &found, destroys, people) else {
            continue;
        };
        let outcome = if changes
            .iter()
            .all(|c| already_applied(c, live, live_members))
        {
            Outcome::AlreadyApplied
        } else {
            Outcome::Skipped {
                reason: format!(
                    "saved plan is stale: {stale}; not applied (run `timctl plan` again)"
                ),
            }
        };
        stopped.insert(id.clone(), outcome);
    }
}

/// How the group differs from what the plan read, in plain words; `None` when it does not.
/// Member counts matter only to a destroy or replace (members do not move `InfoSeq`); the
/// member list only to a change of members (`people`).
fn staleness(expected: &Guard, found: &Guard, destroys: bool, people: bool) -> Option<String> {
    match (expected, found) {
        (Guard::Absent, Guard::Absent) => None,
        (Guard::Absent, Guard::Present { .. }) => {
            Some("the group was created by someone else since the plan".to_owned())
        }
        (Guard::Present { .. }, Guard::Absent) => Some("the group no longer exists".to_owned()),
        (
            Guard::Present {
                info_seq: seq_a,
                member_num: members_a,
                fingerprint: print_a,
                members: list_a,
                ..
            },
            Guard::Present {
                info_seq: seq_b,
                member_num: members_b,
                fingerprint: print_b,
                members: list_b,
                ..
            },
        ) => {
            let mut parts = Vec::new();
            if print_a != print_b {
                let fields = expected.changed_fields(found);
                parts.push(if fields.is_empty() {
                    "its profile was edited live".to_owned()
                } else {
                    format!("{} edited live", fields.join(", "))
                });
            } else if seq_a != seq_b {
                parts.push(
                    "it was edited live (the fields timctl reads look as planned, so something was changed and perhaps changed back)"
                        .to_owned(),
                );
            }
            if destroys && members_a != members_b {
                parts.push(format!(
                    "its members changed from {members_a} to {members_b}"
                ));
            }
            if people && list_a != list_b {
                parts.push(
                    "its members or their roles changed live since the plan read them".to_owned(),
                );
            }
            (!parts.is_empty())
                .then(|| format!("the group changed since the plan ({})", parts.join("; ")))
        }
    }
}

/// Whether the live group already is as the change would leave it (`members`: its member
/// list, where it was read).
fn already_applied(
    change: &Change,
    live: Option<&crate::model::ActualGroup>,
    members: Option<&BTreeMap<CompactString, Role>>,
) -> bool {
    if let Some(changes) = member_change(&change.action)
        && !members.is_some_and(|members| changes.holds(members))
    {
        return false;
    }
    let live = live.map(|a| &a.group);
    match (&change.action, live) {
        (Action::Destroy(_), None) => true,
        (Action::Destroy(_), Some(_)) | (_, None) => false,
        (Action::Create(create), Some(live)) => {
            plan::unmet_fields(&create.desired, live).is_empty()
        }
        (Action::Replace(replace), Some(live)) => {
            plan::unmet_fields(&replace.desired, live).is_empty()
        }
        (Action::Update(update), Some(live)) => {
            plan::unmet_fields(&update.desired_group(&change.id), live).is_empty()
        }
        (Action::Members(_), Some(_)) => true,
        (Action::Transfer(transfer), Some(live)) => {
            live.owner.as_deref() == Some(transfer.desired.as_str())
        }
    }
}

/// The plan with each destroy's and replace's member count as the service reports it now, so
/// that a saved plan meets the destroy limits exactly as a fresh plan would. A group that no
/// longer exists counts zero.
pub async fn with_live_member_counts(client: &Client, plan: &Plan) -> Result<Plan, ApiError> {
    let ids: Vec<GroupId> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Destroy(_) | Action::Replace(_)))
        .map(|c| c.id.clone())
        .collect();
    let mut plan = plan.clone();
    if ids.is_empty() {
        return Ok(plan);
    }
    let actual = client.read_groups(&ids).await?;
    for change in &mut plan.changes {
        let live = actual.groups.get(&change.id).map_or(0, |a| a.member_num);
        match &mut change.action {
            Action::Destroy(destroy) => destroy.member_num = live,
            Action::Replace(replace) => replace.member_num = live,
            _ => {}
        }
    }
    Ok(plan)
}

/// Reads every touched group back and records fields that did not take effect.
async fn verify(client: &Client, plan: &Plan, report: &mut Report, progress: bool) {
    let applied: BTreeSet<(GroupId, &'static str)> = report
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Applied | Outcome::AlreadyApplied))
        .map(|r| (r.id.clone(), r.label))
        .collect();
    let ids: Vec<GroupId> = applied
        .iter()
        .map(|(id, _)| id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if ids.is_empty() {
        return;
    }
    let shown = progress.then_some("read back");
    let actual: Actual = match live::read_groups(client, &ids, shown).await {
        Ok(actual) => actual,
        Err(error) => {
            report.verify_error = Some(error_chain(&error));
            return;
        }
    };
    let with_people: Vec<GroupId> = plan
        .changes
        .iter()
        .filter(|c| {
            member_change(&c.action).is_some()
                && applied.contains(&(c.id.clone(), label(&c.action)))
        })
        .map(|c| c.id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let members = match live::member_lists(client, &actual, &with_people).await {
        Ok(members) => members,
        Err(error) => {
            report.verify_error = Some(error_chain(&error));
            return;
        }
    };
    let mut unmet: BTreeMap<GroupId, Vec<&'static str>> = BTreeMap::new();
    for change in &plan.changes {
        if !applied.contains(&(change.id.clone(), label(&change.action))) {
            continue;
        }
        if let Some(changes) = member_change(&change.action) {
            let missing = match members.get(&change.id) {
                Some(members) => changes.unmet(members),
                None => vec!["members"],
            };
            if !missing.is_empty() {
                unmet.entry(change.id.clone()).or_default().extend(missing);
            }
        }
        let live = actual.groups.get(&change.id).map(|a| &a.group);
        let missing: Vec<&'static str> = match (&change.action, live) {
            (Action::Destroy(_), None) => Vec::new(),
            (Action::Destroy(_), Some(_)) => vec!["ensure"],
            (_, None) => vec!["ensure"],
            (Action::Create(create), Some(live)) => plan::unmet_fields(&create.desired, live),
            (Action::Replace(replace), Some(live)) => plan::unmet_fields(&replace.desired, live),
            (Action::Update(update), Some(live)) => {
                plan::unmet_fields(&update.desired_group(&change.id), live)
            }
            (Action::Members(_), Some(_)) => Vec::new(),
            (Action::Transfer(transfer), Some(live)) => {
                if live.owner.as_deref() == Some(transfer.desired.as_str()) {
                    Vec::new()
                } else {
                    vec!["owner"]
                }
            }
        };
        if !missing.is_empty() {
            unmet.entry(change.id.clone()).or_default().extend(missing);
        }
    }
    report.unmet = unmet
        .into_iter()
        .map(|(id, mut fields)| {
            fields.dedup();
            Unmet { id, fields }
        })
        .collect();
}

/// An error and its causes on one line, for the summary.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Create => "create",
        Phase::Update => "update",
        Phase::Members => "members",
        Phase::Transfer => "transfer",
        Phase::Destroy => "destroy",
    }
}
