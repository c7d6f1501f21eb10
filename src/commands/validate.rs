//! `timctl validate`.

use std::process::ExitCode;

use super::{count, print};
use crate::cli::ValidateArgs;
use crate::manifest;
use crate::pipeline;
use crate::settings::{self, ProcessEnv};

/// Prints `ok: N groups in M files`, or every problem on stderr and exits 1. No network.
pub fn run(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let limits = settings::limits_from(args.config.as_deref(), &ProcessEnv)?;
    match manifest::load_manifests(&args.paths, &limits) {
        Ok(m) => {
            if !args.allow_empty
                && let Err(empty) = pipeline::no_manifest(&args.paths, &m.files)
            {
                eprintln!("error: {empty}");
                return Ok(ExitCode::FAILURE);
            }
            if let Err(partial) = manifest::prune_scope::check(&m.prune_files, &m.files, &[]) {
                eprintln!("error: {partial}");
                return Ok(ExitCode::FAILURE);
            }
            let groups = count(m.desired.groups.len(), "group");
            print(&format!("ok: {groups} in {}", count(m.files.len(), "file")))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("{errors}");
            let problems = count(errors.problems().len(), "problem");
            eprintln!("error: {problems} in the manifests");
            Ok(ExitCode::FAILURE)
        }
    }
}
