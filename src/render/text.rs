//! The terminal view of a plan: terraform-like blocks a person reads before typing "yes".
//!
//! One block per change, a sign and a headline (`+ create`, `~ update`, `~ owner`, `- destroy`,
//! `-/+ replace`), one line per field, multi-line texts as a line diff; then what cannot be
//! undone (every destroy and replace with its members, as the markdown's caution callout says
//! it), the warnings, the totals and the number of API calls. Colour is ANSI and only when the caller asks for it.

use std::fmt::Write as _;

use similar::ChangeTag;

use super::{
    DELETED, Loses, LosesWhy, NO_CHANGES, NONE, Row, RowValue, Tone, api_calls_sentence, headline,
    losses, losses_sentence, marker, plural, quote, rows, scoped_sentence, sections, show_id,
    summary_counts, tone, warning_message,
};
use crate::plan::{Change, Plan};

/// How the text view is drawn. The caller decides colour: on for a terminal, off when
/// `NO_COLOR` is set or the output is not a terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextOptions {
    pub color: bool,
}

/// Renders the plan for a terminal.
pub fn text(plan: &Plan, options: &TextOptions) -> String {
    let paint = Paint(options.color);
    let header = match &plan.target {
        Some(target) if target.builtin_emulator => format!(
            "{} planned against {target}.\n\n",
            paint.tone(Tone::Change, "Note:")
        ),
        Some(target) => format!("Planned against {target}.\n\n"),
        None => String::new(),
    };
    let header = match &plan.scoped {
        Some(scoped) => format!(
            "{header}{} {}\n\n",
            paint.tone(Tone::Change, "Note:"),
            scoped_sentence(scoped)
        ),
        None => header,
    };
    if plan.is_empty() {
        return format!("{header}{NO_CHANGES}\n");
    }
    let mut out = header;
    out.push_str("timctl will perform the following actions:\n");
    for section in sections(plan) {
        if let Some(title) = section.title {
            let _ = write!(out, "\n{}\n", paint.bold(&format!("{title}:")));
        }
        for change in section.changes {
            out.push('\n');
            block(&mut out, &change, paint);
        }
    }
    destroy_caution(&mut out, plan, paint);
    if !plan.warnings.is_empty() {
        out.push('\n');
        for warning in &plan.warnings {
            let _ = writeln!(
                out,
                "{} {}",
                paint.tone(Tone::Change, "Warning:"),
                warning_message(warning)
            );
        }
    }
    let summary = plan.summary();
    let _ = write!(
        out,
        "\n{} {}.\n{}\n",
        paint.bold("Plan:"),
        summary_counts(&summary),
        api_calls_sentence(&summary)
    );
    out
}

/// What cannot be undone, as the markdown's callout says it: the sentence, then one line per
/// destroy or replace with its type, its members and why.
fn destroy_caution(out: &mut String, plan: &Plan, paint: Paint) {
    let (rows, members) = losses(plan);
    if rows.is_empty() {
        return;
    }
    let (sentence, why) = losses_sentence(rows.len(), members);
    let _ = writeln!(
        out,
        "\n{} {} {why}",
        paint.tone(Tone::Remove, "Caution:"),
        paint.bold(&sentence)
    );
    for Loses {
        change,
        kind,
        types,
        member_num,
        why,
    } in rows
    {
        let types = match types {
            (actual, Some(desired)) => format!("{actual} -> {desired}"),
            (actual, None) => actual.to_string(),
        };
        let why = match why {
            LosesWhy::Absent => "ensure: absent".to_owned(),
            LosesWhy::Pruned(prefix) => format!("pruned: prefix {}", quote(prefix)),
            LosesWhy::TypeChange => "type change (--allow-replace)".to_owned(),
        };
        let _ = writeln!(
            out,
            "  - {}: {kind} ({types}, {}), {why}",
            show_id(&change.id),
            plural(member_num, "member", "members")
        );
    }
}

fn block(out: &mut String, change: &Change, paint: Paint) {
    let _ = writeln!(
        out,
        "  {} {}",
        paint.tone(tone(&change.action), marker(&change.action)),
        headline(change)
    );
    for Row { label, value, note } in rows(&change.action) {
        let after = note
            .as_deref()
            .map(|note| format!(" ({note})"))
            .unwrap_or_default();
        match value {
            RowValue::Set(value) => {
                let _ = writeln!(out, "      {label}: {value}{after}");
            }
            RowValue::Lost(value) => {
                let lost = match note {
                    Some(why) => format!("(lost: {why})"),
                    None => "(lost)".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "      {label}: {value} {}",
                    paint.tone(Tone::Remove, &lost)
                );
            }
            RowValue::Change { actual, desired } => {
                let _ = writeln!(
                    out,
                    "      {label}: {} -> {}",
                    actual.as_deref().unwrap_or(NONE),
                    desired.as_deref().unwrap_or(DELETED)
                );
            }
            RowValue::Person {
                tone,
                account,
                roles,
            } => {
                let sign = match tone {
                    Tone::Add => "+",
                    Tone::Change => "~",
                    Tone::Remove => "-",
                };
                let line = match roles {
                    Some((actual, desired)) => format!("{label} {account}: {actual} -> {desired}"),
                    None => format!("{label} {account}"),
                };
                let _ = writeln!(out, "      {} {line}{after}", paint.tone(tone, sign));
            }
            RowValue::Lines(lines) => {
                let _ = writeln!(out, "      {label}:{after}");
                for line in lines {
                    let (sign, tone) = match line.tag {
                        ChangeTag::Equal => (" ", None),
                        ChangeTag::Delete => ("-", Some(Tone::Remove)),
                        ChangeTag::Insert => ("+", Some(Tone::Add)),
                    };
                    let body = if line.text.is_empty() {
                        sign.to_owned()
                    } else {
                        format!("{sign} {}", line.text)
                    };
                    let body = match tone {
                        Some(tone) => paint.tone(tone, &body),
                        None => body,
                    };
                    let _ = writeln!(out, "        {body}");
                }
            }
        }
    }
}

/// ANSI colour, or nothing.
#[derive(Clone, Copy, Debug)]
struct Paint(bool);

impl Paint {
    fn tone(self, tone: Tone, s: &str) -> String {
        let code = match tone {
            Tone::Add => "32",
            Tone::Change => "33",
            Tone::Remove => "31",
        };
        self.wrap(code, s)
    }

    fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }

    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
}
