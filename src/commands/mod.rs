//! The commands, one file each (cargo's `src/bin/cargo/commands/` is the model): each turns
//! its arguments into settings and options, calls the shared [`crate::pipeline`] or the module
//! that does the work, and prints. This module is the binary's edge: it sets up logging and the
//! runtime, prints an error chain once, and maps every outcome to an exit code here and nowhere
//! else (0 success or no changes, 1 error, 2 changes present with `--detailed-exitcode`).
//!
//! Dependencies point one way: `commands` → `cli` (the arguments) and → the library modules
//! (`pipeline`, `settings`, `apply`, `render`, …); nothing below imports `commands` or `cli`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command, LogFormat};
use crate::render::TextOptions;

mod apply;
mod completion;
mod emulator;
mod export;
mod man;
mod plan;
mod reconcile;
mod schema;
mod show;
mod usersig;
mod validate;

/// Exit code for "changes present" with `--detailed-exitcode`.
const EXIT_CHANGES: u8 = 2;

/// Parses the command line and runs it. Every usage error exits 1, like every other error
/// (clap's own convention is 2, which timctl keeps for "changes present"); `--help` and
/// `--version` exit 0, or 141 when their stdout is closed, as every command does.
pub fn main() -> ExitCode {
    let parsed = crate::shell::uniform(Cli::command())
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    match parsed {
        Ok(cli) => run(cli),
        Err(error) => {
            if error
                .print()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::from(crate::shell::EXIT_BROKEN_PIPE);
            }
            if error.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

/// Runs a parsed command line: logging, the runtime, the command, and its exit code.
pub fn run(cli: Cli) -> ExitCode {
    init_logging(cli.verbose, cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return fail(&anyhow::Error::new(error).context("cannot start the async runtime"));
        }
    };
    let verbose = cli.verbose;
    match runtime.block_on(dispatch(cli.command, verbose)) {
        Ok(code) => code,
        Err(error) => fail(&error),
    }
}

/// Prints the error chain once and returns exit code 1; a closed stdout (`timctl plan | head`)
/// ends quietly with [`crate::shell::EXIT_BROKEN_PIPE`].
fn fail(error: &anyhow::Error) -> ExitCode {
    if crate::shell::is_broken_pipe(error) {
        return ExitCode::from(crate::shell::EXIT_BROKEN_PIPE);
    }
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    ExitCode::FAILURE
}

fn init_logging(verbose: u8, format: LogFormat) {
    // The reconcile loop's one record per run is its output, so it is on by default.
    let default = match verbose {
        0 => "warn,timctl::reconcile=info",
        1 => "timctl=info",
        2 => "timctl=debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn dispatch(command: Command, verbose: u8) -> anyhow::Result<ExitCode> {
    match command {
        Command::Validate(args) => validate::run(&args),
        Command::Plan(args) => plan::run(args).await,
        Command::Apply(args) => apply::run(args, verbose).await,
        Command::Show(args) => show::run(&args),
        Command::Export(args) => export::run(args).await,
        Command::Reconcile(args) => reconcile::run(args).await,
        Command::Schema => schema::run(),
        Command::Emulator(args) => emulator::run(&args).await,
        Command::Usersig(args) => usersig::run(&args),
        Command::Completion(args) => completion::run(&args),
        Command::Man(args) => man::run(&args),
    }
}

pub(crate) fn text_options() -> TextOptions {
    TextOptions {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// Writes `text` to stdout with a final newline.
pub(crate) fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()?;
    Ok(())
}

/// "1 group", "2 groups".
pub(crate) fn count(n: usize, noun: &str) -> String {
    crate::render::plural(n as u64, noun, &format!("{noun}s"))
}

/// "saved 2026-12-01T10:00:00Z".
pub(crate) fn saved_when(saved_at: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(saved_at);
    format!("saved {}", humantime::format_rfc3339_seconds(time))
}

/// `ExitCode` 2 when `changes` and `--detailed-exitcode` asked for it, else 0.
pub(crate) fn changes_exit(detailed: bool, changes: bool) -> ExitCode {
    if detailed && changes {
        ExitCode::from(EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    }
}
