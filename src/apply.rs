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
//!   skipped if its `InfoSeq` or any field the plan read has changed since: a per-group
//!   compare-and-swap, so a reviewed plan never overwrites an edit made after review.
//! - Retries are safe: the client confirms an `import_group` that answers "ID in use" after a
//!   lost response by reading it back, and counts a repeated `destroy_group` that finds the
//!   group gone as done.
//!
//! # Errors
//! Nothing here returns early on an API error: every outcome lands in the [`Report`], and the
//! caller turns a report with failures into exit code 1.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::api::{ApiError, Client, ModifyFields, fields_set_after_create};
use crate::live::{self, progress_bar};
use crate::model::{Actual, CompactString, GroupId};
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
    /// Not attempted: the group changed since the plan, or an earlier change to it failed.
    Skipped {
        reason: String,
    },
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
            || self
                .results
                .iter()
                .any(|r| !matches!(r.outcome, Outcome::Applied))
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
        Action::Transfer(_) => "owner",
        Action::Destroy(_) => "destroy",
    }
}

/// Applies `plan` and reports every outcome.
pub async fn apply(client: &Client, plan: &Plan, options: &ApplyOptions) -> Report {
    let mut report = Report::default();
    // Groups that must get no further change: skipped by their guard, or a change failed.
    let mut stopped: BTreeMap<GroupId, String> = BTreeMap::new();
    let mut verified: BTreeSet<GroupId> = BTreeSet::new();
    for phase in [
        Phase::Create,
        Phase::Update,
        Phase::Transfer,
        Phase::Destroy,
    ] {
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
                Some(reason) => report.results.push(ChangeResult {
                    id: change.id.clone(),
                    phase,
                    label: label(&change.action),
                    outcome: Outcome::Skipped {
                        reason: reason.clone(),
                    },
                }),
                None => runnable.push(change.clone()),
            }
        }
        for result in run_phase(client, runnable, &bar, options).await {
            if let Outcome::Failed { message, .. } = &result.outcome {
                stopped.insert(
                    result.id.clone(),
                    format!("an earlier change to this group failed: {message}"),
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
                match execute(&client, &change).await {
                    Ok(()) => Outcome::Applied,
                    Err(error) => Outcome::Failed {
                        code: error.code(),
                        message: error_chain(&error),
                    },
                }
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

/// The calls one change makes, in order.
async fn execute(client: &Client, change: &Change) -> Result<(), ApiError> {
    let id = &change.id;
    match &change.action {
        Action::Create(create) => create_group(client, &create.desired).await,
        Action::Replace(replace) => {
            client.destroy_group(id).await?;
            create_group(client, &replace.desired).await
        }
        Action::Update(update) => client
            .modify_group_base_info(id, &modify_fields(update))
            .await
            .map(drop),
        Action::Transfer(transfer) => client
            .change_group_owner(id, &transfer.desired)
            .await
            .map(drop),
        Action::Destroy(_) => client.destroy_group(id).await.map(drop),
    }
}

async fn create_group(client: &Client, desired: &crate::model::Group) -> Result<(), ApiError> {
    match plan::create_command(desired) {
        "create_group" => client.create_group(desired).await?,
        _ => client.import_group(desired).await?,
    };
    if let Some(fields) = fields_set_after_create(desired) {
        client.modify_group_base_info(&desired.id, &fields).await?;
    }
    Ok(())
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

/// Re-reads `ids` and stops every group whose state differs from the plan's guard.
async fn check_guards(
    client: &Client,
    plan: &Plan,
    ids: &[GroupId],
    stopped: &mut BTreeMap<GroupId, String>,
    progress: bool,
) {
    if ids.is_empty() {
        return;
    }
    let actual = match live::read_groups(client, ids, progress.then_some("recheck")).await {
        Ok(actual) => actual,
        Err(error) => {
            let reason = format!(
                "could not re-read the group before writing: {}",
                error_chain(&error)
            );
            for id in ids {
                stopped.insert(id.clone(), reason.clone());
            }
            return;
        }
    };
    for id in ids {
        let Some(expected) = plan.guards.get(id) else {
            continue;
        };
        let found = Guard::of(actual.groups.get(id).map(Box::as_ref));
        if &found != expected {
            stopped.insert(id.clone(), guard_mismatch(expected, &found));
        }
    }
}

fn guard_mismatch(expected: &Guard, found: &Guard) -> String {
    match (expected, found) {
        (Guard::Absent, Guard::Present { .. }) => {
            "changed since the plan: the group was created by someone else".to_owned()
        }
        (Guard::Present { .. }, Guard::Absent) => {
            "changed since the plan: the group no longer exists".to_owned()
        }
        (Guard::Present { info_seq: a, .. }, Guard::Present { info_seq: b, .. }) if a != b => {
            format!("changed since the plan: InfoSeq {a} -> {b}")
        }
        _ => "changed since the plan: its fields differ from what the plan read".to_owned(),
    }
}

/// Reads every touched group back and records fields that did not take effect.
async fn verify(client: &Client, plan: &Plan, report: &mut Report, progress: bool) {
    let applied: BTreeSet<(GroupId, &'static str)> = report
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Applied)
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
    let mut unmet: BTreeMap<GroupId, Vec<&'static str>> = BTreeMap::new();
    for change in &plan.changes {
        if !applied.contains(&(change.id.clone(), label(&change.action))) {
            continue;
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
        Phase::Transfer => "transfer",
        Phase::Destroy => "destroy",
    }
}
