//! The machine view of an apply: `timctl apply --format json`, for CI jobs and bots that must
//! know what happened to each change, not only whether the run failed.
//!
//! One document, printed on stdout once the apply is over (the plan and the human summary go to
//! stderr), rather than a stream of events: a reader parses it once and finds every change in
//! it. It is built from its own structs, like the plan's JSON view, and versioned with the same
//! [`FORMAT_VERSION`] rules. The format, with an example that a test checks against the real
//! binary, is documented in `schema/plan-json.md` ("The apply outcome").

use serde::Serialize;

use super::json::{FORMAT_VERSION, TargetView, action_name};
use crate::apply::{ChangeResult, Outcome, Report, Unmet, label};
use crate::plan::Plan;

/// The views `timctl apply --format` offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyFormat {
    /// The plan, then a summary, for a terminal.
    #[default]
    Text,
    /// One JSON document of every change's outcome on stdout (see `schema/plan-json.md`); the
    /// plan and the summary go to stderr.
    Json,
}

/// Renders what an apply of `plan` did as the outcome document. `report` is empty when the
/// plan was: the document then lists no change.
pub fn outcome(plan: &Plan, report: &Report) -> String {
    let Report {
        results,
        unmet,
        verify_error,
    } = report;
    let count = |pred: fn(&Outcome) -> bool| report.count(pred);
    let document = Document {
        format_version: FORMAT_VERSION,
        target: plan.target.as_ref().map(TargetView::of),
        status: if report.failed() {
            "failed"
        } else {
            "complete"
        },
        summary: SummaryView {
            applied: count(|o| matches!(o, Outcome::Applied)),
            already_applied: count(|o| matches!(o, Outcome::AlreadyApplied)),
            failed: count(|o| matches!(o, Outcome::Failed { .. })),
            partial: count(|o| matches!(o, Outcome::Partial { .. })),
            skipped: count(|o| matches!(o, Outcome::Skipped { .. })),
        },
        changes: results.iter().map(|result| change(plan, result)).collect(),
        unmet: unmet
            .iter()
            .map(|Unmet { id, fields }| UnmetView {
                id: id.as_str(),
                fields: fields.clone(),
            })
            .collect(),
        verify_error: verify_error.as_deref(),
    };
    let mut out = serde_json::to_string_pretty(&document).expect("the outcome serializes");
    out.push('\n');
    out
}

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    target: Option<TargetView<'a>>,
    status: &'static str,
    summary: SummaryView,
    changes: Vec<ChangeView<'a>>,
    unmet: Vec<UnmetView<'a>>,
    verify_error: Option<&'a str>,
}

#[derive(Serialize)]
struct SummaryView {
    applied: usize,
    already_applied: usize,
    failed: usize,
    partial: usize,
    skipped: usize,
}

#[derive(Serialize)]
struct ChangeView<'a> {
    id: &'a str,
    action: &'static str,
    outcome: &'static str,
    commands: Vec<&'static str>,
    done: Vec<&'static str>,
    left: Vec<&'static str>,
    error: Option<ErrorView<'a>>,
    reason: Option<&'a str>,
}

#[derive(Serialize)]
struct ErrorView<'a> {
    code: Option<i64>,
    message: &'a str,
}

#[derive(Serialize)]
struct UnmetView<'a> {
    id: &'a str,
    fields: Vec<&'static str>,
}

fn change<'a>(plan: &'a Plan, result: &'a ChangeResult) -> ChangeView<'a> {
    let ChangeResult {
        id,
        phase: _,
        label: result_label,
        outcome,
    } = result;
    // A group has at most one change per label (a create and a replace are never both).
    let planned = plan
        .changes
        .iter()
        .find(|change| change.id == *id && label(&change.action) == *result_label);
    let commands = planned.map(|c| c.action.commands()).unwrap_or_default();
    let action = planned.map_or(*result_label, |c| action_name(&c.action));
    let mut view = ChangeView {
        id: id.as_str(),
        action,
        outcome: "",
        commands: commands.clone(),
        done: Vec::new(),
        left: Vec::new(),
        error: None,
        reason: None,
    };
    match outcome {
        Outcome::Applied => {
            view.outcome = "applied";
            view.done = commands;
        }
        Outcome::AlreadyApplied => view.outcome = "already_applied",
        Outcome::Failed { code, message } => {
            view.outcome = "failed";
            view.left = commands;
            view.error = Some(ErrorView {
                code: *code,
                message,
            });
        }
        Outcome::Partial {
            done,
            left,
            code,
            message,
        } => {
            view.outcome = "partial";
            view.done = done.clone();
            view.left = left.clone();
            view.error = Some(ErrorView {
                code: *code,
                message,
            });
        }
        Outcome::Skipped { reason } => {
            view.outcome = "skipped";
            view.left = commands;
            view.reason = Some(reason);
        }
    }
    view
}
