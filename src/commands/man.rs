//! `timctl man`.

use std::process::ExitCode;

use clap::CommandFactory;

use super::print;
use crate::cli::{Cli, ManArgs};

/// Prints the man page, or writes one page per command into `--out DIR`.
pub fn run(args: &ManArgs) -> anyhow::Result<ExitCode> {
    match &args.out {
        Some(dir) => crate::shell::write_man_pages(Cli::command(), dir)?,
        None => print(&crate::shell::man_page(Cli::command())?)?,
    }
    Ok(ExitCode::SUCCESS)
}
