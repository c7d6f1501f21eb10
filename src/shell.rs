//! What a shell user expects around the commands: completion scripts, man pages, and a quiet
//! end when the reader of stdout goes away.
//!
//! Both generators take the clap command tree as a value (the caller builds it from
//! [`crate::cli::Cli`]), so this module knows nothing of the argument structs.

use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The exit status of a run whose stdout was closed by its reader (`timctl plan | head`):
/// 128 + SIGPIPE, what a shell reports for any Unix tool a closed pipe stops.
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// The command tree with every help text in one style: sentences in sentence case that end
/// with a full stop, then the notes `[env: VAR]` and `[default: VALUE]`, in that order, once
/// each (clap adds the default of an argument that has one, and its possible values, after
/// them). clap's derive drops the full stop of a one-paragraph doc comment and leaves notes
/// where the text puts them; this puts both right for the help, the man pages and the
/// completion descriptions alike.
pub fn uniform(mut command: clap::Command) -> clap::Command {
    command.build();
    uniform_built(command)
}

fn uniform_built(command: clap::Command) -> clap::Command {
    let about = command
        .get_about()
        .map(|a| uniform_text(&a.to_string(), false));
    let long_about = command
        .get_long_about()
        .map(|a| uniform_text(&a.to_string(), false));
    let mut command = command.mut_args(|arg| {
        let clap_default = !arg.get_default_values().is_empty() && !arg.is_hide_default_value_set();
        let help = arg
            .get_help()
            .map(|h| uniform_text(&h.to_string(), clap_default));
        let long = arg
            .get_long_help()
            .map(|h| uniform_text(&h.to_string(), clap_default));
        let arg = match help {
            Some(help) => arg.help(help),
            None => arg,
        };
        match long {
            Some(long) => arg.long_help(long),
            None => arg,
        }
    });
    if let Some(about) = about {
        command = command.about(about);
    }
    if let Some(long_about) = long_about {
        command = command.long_about(long_about);
    }
    command.mut_subcommands(uniform_built)
}

/// The notes a help text may carry, in the order they are put at its end.
const NOTE_STARTS: &[&str] = &["[env: ", "[default: "];

/// `text` as [`uniform`] writes it; `clap_default`: clap shows the default itself.
fn uniform_text(text: &str, clap_default: bool) -> String {
    let mut notes: Vec<Vec<String>> = vec![Vec::new(); NOTE_STARTS.len()];
    let mut body = String::new();
    let mut rest = text;
    loop {
        let found = NOTE_STARTS
            .iter()
            .enumerate()
            .filter_map(|(kind, start)| rest.find(start).map(|at| (at, kind)))
            .min();
        let Some((at, kind)) = found else { break };
        let Some(len) = rest[at..].find(']') else {
            break;
        };
        body.push_str(rest[..at].trim_end_matches(' '));
        notes[kind].push(rest[at..=at + len].to_owned());
        rest = &rest[at + len + 1..];
    }
    body.push_str(rest);
    let mut body = body.trim().to_owned();
    if let Some(first) = body.chars().next()
        && first.is_lowercase()
    {
        body = first.to_uppercase().chain(body.chars().skip(1)).collect();
    }
    if !body.is_empty() && !body.ends_with(['.', '!', '?', ':']) {
        body.push('.');
    }
    for (kind, found) in notes.into_iter().enumerate() {
        if clap_default && NOTE_STARTS[kind] == "[default: " {
            continue;
        }
        for note in found {
            body.push(' ');
            body.push_str(&note);
        }
    }
    body
}

/// The completion script for `shell`, for the command tree `command` (made [`uniform`]).
pub fn completion(command: clap::Command, shell: clap_complete::Shell) -> String {
    let mut command = uniform(command);
    let name = command.get_name().to_owned();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The man page of the whole command (roff), listing its subcommands.
pub fn man_page(command: clap::Command) -> anyhow::Result<String> {
    let mut out = Vec::new();
    clap_mangen::Man::new(uniform(command))
        .render(&mut out)
        .context("cannot render the man page")?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Writes `timctl.1` and one `timctl-<subcommand>.1` per subcommand into `dir` (created if
/// missing), and says so on stderr.
pub fn write_man_pages(command: clap::Command, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let command = uniform(command);
    let mut written = Vec::new();
    write_page(&command, command.get_name(), dir, &mut written)?;
    eprintln!("Wrote {} man pages to {}", written.len(), dir.display());
    Ok(())
}

fn write_page(
    command: &clap::Command,
    name: &str,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let path = dir.join(format!("{name}.1"));
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone())
        .title(name)
        .render(&mut out)
        .with_context(|| format!("cannot render the man page of {name}"))?;
    std::fs::write(&path, out).with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path);
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        write_page(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}

/// Whether `error` comes from writing to a pipe whose reader has gone.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The notes clap or a help text may end with, in the one order allowed.
    const NOTES: &[&str] = &["[env: ", "[default: ", "[possible values: "];

    /// A help text is uniform when it is sentences (capital first letter, full stop last),
    /// optionally followed by ` [env: X]` and then ` [default: Y]` notes, and names a default
    /// once (clap adds one for an argument that has a default value).
    fn check_help(place: &str, text: &str, has_default: bool, problems: &mut Vec<String>) {
        let mut body = text.trim_end();
        let mut notes = Vec::new();
        while body.ends_with(']') {
            let Some(start) = body.rfind(" [") else { break };
            let note = &body[start + 1..];
            if !NOTES.iter().any(|n| note.starts_with(n)) {
                break;
            }
            notes.push(note);
            body = body[..start].trim_end();
        }
        let first = body.chars().next();
        if !first.is_some_and(|c| c.is_uppercase() || c == '`') {
            problems.push(format!("{place}: does not start with a capital: {text:?}"));
        }
        if !body.ends_with('.') {
            problems.push(format!("{place}: no full stop before its notes: {text:?}"));
        }
        for note in NOTES {
            if body.contains(note.trim_end()) {
                problems.push(format!("{place}: a {note}…] note mid-text: {text:?}"));
            }
        }
        if has_default && notes.iter().any(|n| n.starts_with("[default: ")) {
            problems.push(format!(
                "{place}: names its default by hand, and clap adds it again: {text:?}"
            ));
        }
        notes.reverse();
        let order: Vec<usize> = notes
            .iter()
            .filter_map(|n| NOTES.iter().position(|p| n.starts_with(p)))
            .collect();
        if !order.is_sorted() {
            problems.push(format!("{place}: notes out of order: {text:?}"));
        }
    }

    fn walk(command: &clap::Command, path: &str, problems: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            let place = format!("{path} --{}", arg.get_long().unwrap_or(id));
            let help = arg
                .get_long_help()
                .or(arg.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            check_help(
                &place,
                &help,
                !arg.get_default_values().is_empty(),
                problems,
            );
        }
        for sub in command.get_subcommands() {
            let place = format!("{path} {}", sub.get_name());
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            check_help(&place, &about, false, problems);
            walk(sub, &place, problems);
        }
    }

    #[test]
    fn every_help_text_is_a_sentence_with_its_notes_last_in_one_style() {
        let command = uniform(crate::cli::Cli::command());
        let mut problems = Vec::new();
        walk(&command, "timctl", &mut problems);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn notes_move_to_the_end_after_a_full_stop_and_a_default_is_named_once() {
        assert_eq!(
            uniform_text(
                "The app's SDKAppID [env: TIM_SDKAPPID]. Without one, the emulator",
                false
            ),
            "The app's SDKAppID. Without one, the emulator. [env: TIM_SDKAPPID]"
        );
        assert_eq!(
            uniform_text(
                "A base URL [env: TIM_ENDPOINT], e.g. http://x [default: y]",
                false
            ),
            "A base URL, e.g. http://x. [env: TIM_ENDPOINT] [default: y]"
        );
        assert_eq!(
            uniform_text("output format [default: text]", true),
            "Output format."
        );
    }

    #[test]
    fn a_broken_pipe_is_recognised_through_context() {
        let error =
            anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("cannot print");
        assert!(is_broken_pipe(&error));
        let other = anyhow::Error::new(io::Error::from(io::ErrorKind::NotFound));
        assert!(!is_broken_pipe(&other));
    }
}
