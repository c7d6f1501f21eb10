//! `timctl completion`.

use std::process::ExitCode;

use clap::CommandFactory;

use super::print;
use crate::cli::{Cli, CompletionArgs};

/// Prints the completion script for a shell.
pub fn run(args: &CompletionArgs) -> anyhow::Result<ExitCode> {
    print(&crate::shell::completion(Cli::command(), args.shell))?;
    Ok(ExitCode::SUCCESS)
}
