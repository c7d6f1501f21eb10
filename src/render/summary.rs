//! The closing summary of an apply, in text: what failed, what is partly done, what was
//! skipped, and the counts.

use crate::apply::{Outcome, Report};

/// How many skipped changes the summary lists one by one without `-v`.
const SKIPPED_SHOWN: usize = 5;

/// The closing summary of an apply. Skipped changes are counted, and listed one by one only up
/// to [`SKIPPED_SHOWN`] unless `verbose`: an interrupted apply of 4,000 changes must not bury
/// its failures.
pub fn apply_summary(report: &Report, verbose: bool) -> String {
    let applied = report.count(|o| matches!(o, Outcome::Applied));
    let already = report.count(|o| matches!(o, Outcome::AlreadyApplied));
    let failed = report.count(|o| matches!(o, Outcome::Failed { .. }));
    let partial = report.count(|o| matches!(o, Outcome::Partial { .. }));
    let skipped = report.count(|o| matches!(o, Outcome::Skipped { .. }));
    let mut text = String::new();
    let mut skipped_shown = 0;
    let mut already_shown = 0;
    for result in &report.results {
        match &result.outcome {
            Outcome::Applied => {}
            Outcome::AlreadyApplied => {
                if verbose || already_shown < SKIPPED_SHOWN {
                    text.push_str(&format!(
                        "already applied: {} {}: the group already is as the plan leaves it\n",
                        result.label, result.id
                    ));
                    already_shown += 1;
                }
            }
            Outcome::Failed { code, message } => {
                let code = code.map(|c| format!(" [{c}]")).unwrap_or_default();
                text.push_str(&format!(
                    "failed: {} {}{code}: {message}\n",
                    result.label, result.id
                ));
            }
            Outcome::Partial {
                done,
                left,
                code,
                message,
            } => {
                let code = code.map(|c| format!(" [{c}]")).unwrap_or_default();
                text.push_str(&format!(
                    "partially applied: {} {}: {} done, {} still to do{code}: {message} (the next plan shows the step left)\n",
                    result.label,
                    result.id,
                    calls(done),
                    calls(left)
                ));
            }
            Outcome::Skipped { reason } => {
                if verbose || skipped_shown < SKIPPED_SHOWN {
                    text.push_str(&format!(
                        "skipped: {} {}: {reason}\n",
                        result.label, result.id
                    ));
                    skipped_shown += 1;
                }
            }
        }
    }
    if already > already_shown {
        text.push_str(&format!(
            "... and {} more already applied (run with -v to list them all)\n",
            already - already_shown
        ));
    }
    if skipped > skipped_shown {
        text.push_str(&format!(
            "... and {} more skipped (run with -v to list them all)\n",
            skipped - skipped_shown
        ));
    }
    for unmet in &report.unmet {
        text.push_str(&format!(
            "not in effect: {}: {} read back different from the plan\n",
            unmet.id,
            unmet.fields.join(", ")
        ));
    }
    if let Some(error) = &report.verify_error {
        text.push_str(&format!(
            "could not read the groups back to verify: {error}\n"
        ));
    }
    let mut counts = format!("{applied} applied");
    if already > 0 {
        counts.push_str(&format!(", {already} already applied"));
    }
    counts.push_str(&format!(", {failed} failed"));
    if partial > 0 {
        counts.push_str(&format!(", {partial} partially applied"));
    }
    counts.push_str(&format!(", {skipped} skipped"));
    text.push_str(&format!(
        "Apply {}: {counts}.",
        if report.failed() {
            "finished with errors"
        } else {
            "complete"
        }
    ));
    text
}

/// Commands in order, a run of one command counted: `add_group_member x4,
/// modify_group_member_info`.
fn calls(commands: &[&str]) -> String {
    let mut runs: Vec<(&str, usize)> = Vec::new();
    for command in commands {
        match runs.last_mut() {
            Some((last, n)) if last == command => *n += 1,
            _ => runs.push((command, 1)),
        }
    }
    runs.iter()
        .map(|(command, n)| match n {
            1 => (*command).to_owned(),
            n => format!("{command} x{n}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::ChangeResult;
    use crate::model::GroupId;
    use crate::plan::Phase;

    fn skipped(n: usize) -> Report {
        Report {
            results: (0..n)
                .map(|i| ChangeResult {
                    id: GroupId::from(format!("g{i:02}")),
                    phase: Phase::Update,
                    label: "update",
                    outcome: Outcome::Skipped {
                        reason: "interrupted before this change started".to_owned(),
                    },
                })
                .collect(),
            ..Report::default()
        }
    }

    #[test]
    fn the_summary_counts_skipped_changes_and_lists_the_first_few_unless_verbose() {
        let text = apply_summary(&skipped(12), false);
        assert_eq!(text.matches("skipped: update").count(), SKIPPED_SHOWN);
        assert!(text.contains("skipped: update g04: interrupted"), "{text}");
        assert!(!text.contains("g05"), "{text}");
        assert!(
            text.contains("... and 7 more skipped (run with -v to list them all)"),
            "{text}"
        );
        assert!(text.ends_with("0 applied, 0 failed, 12 skipped."), "{text}");
        let all = apply_summary(&skipped(12), true);
        assert_eq!(all.matches("skipped: update").count(), 12);
        assert!(!all.contains("more skipped"));
        assert!(!apply_summary(&skipped(3), false).contains("more skipped"));
    }
}
