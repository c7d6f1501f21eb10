//! The pull-request view of a plan: what CI posts as a comment so that reviewers see the
//! consequences of a manifest change before they merge it.
//!
//! Layout: a hidden marker line ([`MARKDOWN_MARKER`]), a title, a summary table (split into "this change" and "drift" rows when the plan
//! was labelled with `--baseline`; an update with fields of both kinds counts in both rows,
//! its one API call under "this change"; people columns only when members change), callouts for
//! what cannot be undone (destroys and replaces with their member counts), for people removed
//! or changing role, and for owner transfers (with the old owner's follow-up), the warnings,
//! then one collapsible `<details>` section per group holding a ```` ```diff ```` block.
//! With `--redact-accounts` the plan is first passed through [`crate::plan::redact_accounts`],
//! so this module never sees an account id it should not print.
//!
//! Guarantees:
//! - The output fits in `max_chars` characters (GitHub caps a comment near 65,536): when it
//!   would not, group sections are dropped from the end and a notice says how many. The title,
//!   the summary table, the callouts and the warnings are never dropped, so the output exceeds
//!   the cap only if they alone do.
//! - User strings cannot break the markup: they are quoted with Rust escapes, put in code spans
//!   whose backtick fence is longer than any run inside them, `|` is escaped in table cells,
//!   text inside HTML is HTML-escaped, and a diff block's fence is longer than any backtick run
//!   in its body.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use similar::ChangeTag;

use super::{
    Loses, LosesWhy, NO_CHANGES, NONE, Row, RowValue, Tone, headline, is_split, losses,
    losses_sentence, marker, plural, quote, role_name, rows, scoped_sentence, sections, show_id,
    summary_of, warning_message,
};
use crate::model::GroupId;
use crate::plan::{Action, Change, Membership, Origin, PeopleCounts, Plan, Summary, Transfer};

/// The default size cap: room under GitHub's comment limit for a bot's own wrapper text.
pub const MARKDOWN_MAX_CHARS: usize = 60_000;

/// The hidden first line of every markdown plan (an HTML comment GitHub does not show): CI
/// finds the comment it posted before by this marker and edits it in place, so a pull request
/// carries one plan comment however often it is pushed (see `examples/github/timctl.yml`).
pub const MARKDOWN_MARKER: &str = "<!-- timctl-plan -->";

/// Renders the plan as a pull-request comment of at most `max_chars` characters (see the
/// module's guarantees for the one exception).
pub fn markdown(plan: &Plan, max_chars: usize) -> String {
    let mut head = format!("{MARKDOWN_MARKER}\n## timctl plan\n\n");
    match &plan.target {
        Some(target) if target.builtin_emulator => {
            let _ = writeln!(
                head,
                "> [!WARNING]\n> Planned against {}.\n",
                escape_inline(&target.to_string())
            );
        }
        Some(target) => {
            let _ = writeln!(
                head,
                "Planned against {}.\n",
                escape_inline(&target.to_string())
            );
        }
        None => {}
    }
    if let Some(scoped) = &plan.scoped {
        let _ = writeln!(
            head,
            "> [!NOTE]\n> {}\n",
            escape_inline(&scoped_sentence(scoped))
        );
    }
    if plan.is_empty() {
        head.push_str(NO_CHANGES);
        head.push('\n');
        return head;
    }
    summary_table(&mut head, plan);
    destroy_callout(&mut head, plan);
    people_callout(&mut head, plan);
    transfer_callout(&mut head, plan);
    if !plan.warnings.is_empty() {
        head.push_str("> [!NOTE]\n");
        for warning in &plan.warnings {
            let _ = writeln!(head, "> - {}", escape_inline(&warning_message(warning)));
        }
        head.push('\n');
    }
    let mut blocks = Vec::new();
    for section in sections(plan) {
        let mut heading = section.title.map(|title| format!("### {title}\n\n"));
        for group in by_group(&section.changes) {
            let mut block = heading.take().unwrap_or_default();
            details(&mut block, &group);
            blocks.push(block);
        }
    }
    fit(head, blocks, max_chars)
}

/// Joins the head and as many blocks as fit, in order, with a notice for the rest.
fn fit(head: String, blocks: Vec<String>, max_chars: usize) -> String {
    let head_len = head.chars().count();
    let lens: Vec<usize> = blocks.iter().map(|block| block.chars().count()).collect();
    let mut out = head;
    if head_len + lens.iter().sum::<usize>() <= max_chars {
        out.extend(blocks);
        // Each block ends with a blank line; the document ends with one newline.
        if out.ends_with("\n\n") {
            out.pop();
        }
        return out;
    }
    let mut len = head_len;
    let mut shown = 0;
    for (block, block_len) in blocks.iter().zip(&lens) {
        let hidden_after = blocks.len() - shown - 1;
        if len + block_len + truncation_notice(hidden_after).chars().count() > max_chars {
            break;
        }
        out.push_str(block);
        len += block_len;
        shown += 1;
    }
    out.push_str(&truncation_notice(blocks.len() - shown));
    out
}

fn truncation_notice(hidden: usize) -> String {
    format!(
        "> [!NOTE]\n> … {} not shown (output truncated to fit a comment); run `timctl plan` locally for the full plan.\n",
        plural(hidden as u64, "more group", "more groups")
    )
}

fn summary_table(out: &mut String, plan: &Plan) {
    const COLUMNS: &str = "create | update | owner | destroy | replace | API calls |";
    const ALIGN: &str = "---:|---:|---:|---:|---:|---:|";
    // The people columns only when members change, so that other plans read as before.
    const PEOPLE: &str = " added | removed | promoted | demoted | notified |";
    const PEOPLE_ALIGN: &str = "---:|---:|---:|---:|---:|";
    let people = !plan.summary().people.is_empty();
    let (extra, extra_align) = if people {
        (PEOPLE, PEOPLE_ALIGN)
    } else {
        ("", "")
    };
    let labelled = plan.changes.iter().any(|change| change.origin.is_some());
    if labelled {
        let _ = writeln!(out, "| | {COLUMNS}{extra}\n|---|{ALIGN}{extra_align}");
        // A split update counts as an update in both rows; its one API call, which also
        // sets the drifted fields, counts under "this change".
        let this_change = summary_of(
            plan.changes
                .iter()
                .filter(|c| c.origin != Some(Origin::Drift)),
        );
        let mut drift = summary_of(
            plan.changes
                .iter()
                .filter(|c| c.origin == Some(Origin::Drift) || is_split(c)),
        );
        drift.api_calls -= summary_of(plan.changes.iter().filter(|c| is_split(c))).api_calls;
        summary_row(out, Some("this change"), &this_change, people);
        summary_row(out, Some("drift"), &drift, people);
        summary_row(out, Some("**total**"), &plan.summary(), people);
    } else {
        let _ = writeln!(out, "| {COLUMNS}{extra}\n|{ALIGN}{extra_align}");
        summary_row(out, None, &plan.summary(), people);
    }
    out.push('\n');
}

fn summary_row(out: &mut String, label: Option<&str>, summary: &Summary, people_columns: bool) {
    let Summary {
        create,
        replace,
        update,
        transfer,
        destroy,
        destroyed_members: _,
        api_calls,
        members: _,
        people,
    } = *summary;
    if let Some(label) = label {
        let _ = write!(out, "| {label} ");
    }
    let _ = write!(
        out,
        "| {create} | {update} | {transfer} | {destroy} | {replace} | {api_calls} |"
    );
    if people_columns {
        let PeopleCounts {
            added,
            removed,
            promoted,
            demoted,
            notified,
        } = people;
        let _ = write!(
            out,
            " {added} | {removed} | {promoted} | {demoted} | {notified} |"
        );
    }
    out.push('\n');
}

/// The people a plan removes or whose role it changes, group by group, above the fold: like
/// a destroy, a removal is felt by a person (and told to the group unless `members_silent`).
fn people_callout(out: &mut String, plan: &Plan) {
    let mut rows: Vec<(&Change, usize, usize, usize)> = Vec::new();
    for change in &plan.changes {
        let members = match &change.action {
            Action::Members(members) => Some(members),
            Action::Transfer(transfer) => transfer.after.as_ref(),
            _ => None,
        };
        let Some(members) = members else {
            continue;
        };
        let (removed, promoted, demoted) =
            (members.remove.len(), members.promoted(), members.demoted());
        if removed + promoted + demoted == 0 {
            continue;
        }
        match rows.iter_mut().find(|row| row.0.id == change.id) {
            Some(row) => {
                row.1 += removed;
                row.2 += promoted;
                row.3 += demoted;
            }
            None => rows.push((change, removed, promoted, demoted)),
        }
    }
    if rows.is_empty() {
        return;
    }
    let removed: usize = rows.iter().map(|row| row.1).sum();
    let roles: usize = rows.iter().map(|row| row.2 + row.3).sum();
    let removing_groups = rows.iter().filter(|row| row.1 > 0).count();
    let role_groups = rows.iter().filter(|row| row.2 + row.3 > 0).count();
    let people = |n: usize| plural(n as u64, "person", "people");
    let groups = |n: usize| plural(n as u64, "group", "groups");
    let sentence = match (removed, roles) {
        (0, _) => format!(
            "This plan changes the role of {} in {}.",
            people(roles),
            groups(role_groups)
        ),
        (_, 0) => format!(
            "This plan removes {} from {}.",
            people(removed),
            groups(removing_groups)
        ),
        _ => format!(
            "This plan removes {} from {} and changes the role of {}.",
            people(removed),
            groups(removing_groups),
            people(roles)
        ),
    };
    let why = match (removed, roles) {
        (0, _) => "An admin can manage the group's members and profile.",
        (_, 0) => "A removed member loses access to the group and its messages.",
        _ => {
            "A removed member loses access to the group and its messages; an admin can manage its members and profile."
        }
    };
    let _ = write!(
        out,
        "> [!CAUTION]\n> **{sentence}** {why}\n>\n> | Group | Removed | Promoted | Demoted |\n> |---|---:|---:|---:|\n",
    );
    for (change, removed, promoted, demoted) in rows {
        let id = cell(&code(&show_id(&change.id)));
        let _ = writeln!(out, "> | {id} | {removed} | {promoted} | {demoted} |");
    }
    out.push('\n');
}

/// Everything that cannot be undone, with the members it affects, above the fold.
fn destroy_callout(out: &mut String, plan: &Plan) {
    let (rows, members) = losses(plan);
    if rows.is_empty() {
        return;
    }
    let (sentence, why) = losses_sentence(rows.len(), members);
    let _ = write!(
        out,
        "> [!CAUTION]\n> **{sentence}** {why}\n>\n> | Group | Change | Type | Members | Why |\n> |---|---|---|---:|---|\n",
    );
    for Loses {
        change,
        kind,
        types,
        member_num,
        why,
    } in rows
    {
        let id = cell(&code(&show_id(&change.id)));
        let types = match types {
            (actual, Some(desired)) => format!("{actual} → {desired}"),
            (actual, None) => actual.to_string(),
        };
        let why = match why {
            LosesWhy::Absent => "`ensure: absent`".to_owned(),
            LosesWhy::Pruned(prefix) => format!("pruned: prefix {}", cell(&code(&quote(prefix)))),
            LosesWhy::TypeChange => "type change (`--allow-replace`)".to_owned(),
        };
        let _ = writeln!(out, "> | {id} | {kind} | {types} | {member_num} | {why} |");
    }
    out.push('\n');
}

fn transfer_callout(out: &mut String, plan: &Plan) {
    let transfers: Vec<(&Change, &Transfer)> = plan
        .changes
        .iter()
        .filter_map(|change| match &change.action {
            Action::Transfer(transfer) => Some((change, transfer)),
            _ => None,
        })
        .collect();
    if transfers.is_empty() {
        return;
    }
    // The old owner's follow-up gets a column only when a transfer has one, so that other
    // plans read as before.
    let follow_up = transfers.iter().any(|(_, t)| t.after.is_some());
    let rows: Vec<String> = transfers
        .iter()
        .map(|(change, transfer)| {
            let Transfer {
                actual,
                desired,
                after,
            } = transfer;
            let mut row = format!(
                "| {} | {} | {} |",
                cell(&code(&show_id(&change.id))),
                actual
                    .as_deref()
                    .map_or_else(|| NONE.to_owned(), |owner| cell(&code(&quote(owner)))),
                cell(&code(&quote(desired))),
            );
            if follow_up {
                let then = match (actual, after) {
                    (None, _) => NONE.to_owned(),
                    (Some(_), None) => "stays a member".to_owned(),
                    (Some(_), Some(after)) => after_words(after),
                };
                let _ = write!(row, " {then} |");
            }
            row
        })
        .collect();
    let (columns, align) = if follow_up {
        (
            "| Group | Owner | New owner | Then the old owner |",
            "|---|---|---|---|",
        )
    } else {
        ("| Group | Owner | New owner |", "|---|---|---|")
    };
    let _ = write!(
        out,
        "> [!WARNING]\n> **{} owner.**\n>\n> {columns}\n> {align}\n",
        plural(rows.len() as u64, "group changes", "groups change"),
    );
    for row in rows {
        let _ = writeln!(out, "> {row}");
    }
    out.push('\n');
}

/// What a transfer's follow-up does to the old owner: `becomes Admin`, `is removed`.
fn after_words(after: &Membership) -> String {
    let Membership {
        add: _,
        roles,
        remove,
        silent: _,
        notify: _,
    } = after;
    let mut words: Vec<String> = roles
        .iter()
        .map(|role| format!("becomes {}", role_name(role.desired)))
        .collect();
    if !remove.is_empty() {
        words.push("is removed".to_owned());
    }
    if words.is_empty() {
        "stays a member".to_owned()
    } else {
        words.join(", ")
    }
}

/// The changes of a section grouped by group id, in order of first appearance.
fn by_group<'a>(changes: &'a [Cow<'_, Change>]) -> Vec<Vec<&'a Change>> {
    let mut index: HashMap<&GroupId, usize> = HashMap::new();
    let mut groups: Vec<Vec<&Change>> = Vec::new();
    for change in changes.iter().map(|change| &**change) {
        match index.get(&change.id) {
            Some(&i) => groups[i].push(change),
            None => {
                index.insert(&change.id, groups.len());
                groups.push(vec![change]);
            }
        }
    }
    groups
}

/// One group's collapsible section.
fn details(out: &mut String, group: &[&Change]) {
    let summary: Vec<String> = group
        .iter()
        .map(|change| {
            let mut line = format!("{} {}", marker(&change.action), headline(change));
            if let Action::Update(_) = &change.action {
                let fields = rows(&change.action).len();
                let _ = write!(line, " ({})", plural(fields as u64, "field", "fields"));
            }
            format!("<code>{}</code>", escape_html(&line))
        })
        .collect();
    let mut body = String::new();
    for change in group {
        diff_body(&mut body, change);
    }
    let fence = "`".repeat(longest_run(&body, '`').max(2) + 1);
    let _ = write!(
        out,
        "<details><summary>{}</summary>\n\n{fence}diff\n{body}{fence}\n\n</details>\n\n",
        summary.join(", ")
    );
}

/// A change as the lines of a ```` ```diff ```` block, so that GitHub colours additions green
/// and removals red.
fn diff_body(out: &mut String, change: &Change) {
    let _ = writeln!(out, "{} {}", marker(&change.action), headline(change));
    for Row { label, value, note } in rows(&change.action) {
        let after = note
            .as_deref()
            .map(|note| format!(" ({note})"))
            .unwrap_or_default();
        match value {
            RowValue::Set(value) => {
                let _ = writeln!(out, "+   {label}: {value}{after}");
            }
            RowValue::Lost(value) => {
                let lost = match note {
                    Some(why) => format!("(lost: {why})"),
                    None => "(lost)".to_owned(),
                };
                let _ = writeln!(out, "-   {label}: {value} {lost}");
            }
            RowValue::Change { actual, desired } => {
                if let Some(actual) = actual {
                    let _ = writeln!(out, "-   {label}: {actual}");
                }
                if let Some(desired) = desired {
                    let _ = writeln!(out, "+   {label}: {desired}");
                }
            }
            RowValue::Person {
                tone,
                account,
                roles,
            } => match (tone, roles) {
                (_, Some((actual, desired))) => {
                    let _ = writeln!(out, "-   {label} {account}: {actual}{after}");
                    let _ = writeln!(out, "+   {label} {account}: {desired}{after}");
                }
                (Tone::Remove, None) => {
                    let _ = writeln!(out, "-   {label} {account}{after}");
                }
                (_, None) => {
                    let _ = writeln!(out, "+   {label} {account}{after}");
                }
            },
            RowValue::Lines(lines) => {
                let all_new = lines.iter().all(|line| line.tag == ChangeTag::Insert);
                let _ = writeln!(out, "{}   {label}:{after}", if all_new { '+' } else { ' ' });
                for line in lines {
                    let sign = match line.tag {
                        ChangeTag::Equal => ' ',
                        ChangeTag::Delete => '-',
                        ChangeTag::Insert => '+',
                    };
                    let _ = writeln!(out, "{sign}     {}", line.text);
                }
            }
        }
    }
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for ch in s.chars() {
        run = if ch == c { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// An inline code span that shows `s` literally, whatever backticks it holds.
fn code(s: &str) -> String {
    let fence = "`".repeat(longest_run(s, '`') + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A table cell's content: GFM splits cells on `|` even inside code spans.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text shown as markdown prose with no markup of its own.
fn escape_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\`*_[]<>&|~!#".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
