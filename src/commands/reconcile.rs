//! `timctl reconcile`.

use std::process::ExitCode;

use super::EXIT_CHANGES;
use crate::cli::ReconcileArgs;
use crate::reconcile::{self, Finished, Options};

/// Plans and applies in a loop (see [`crate::reconcile`]). With `--once`, a failed run exits 1
/// and, with `--detailed-exitcode`, drift exits 2.
pub async fn run(args: ReconcileArgs) -> anyhow::Result<ExitCode> {
    let options = Options {
        paths: args.paths.clone(),
        flags: args.connection.flags(),
        interval: args.interval.clone(),
        dry_run: args.dry_run,
        once: args.once,
        metrics_listen: args.metrics_listen.clone(),
        plan: args.scope.options(),
        force: args.destroy.force,
        limits: args.destroy.limits(),
    };
    let Finished { failed, drift } = reconcile::run(options).await?;
    Ok(if failed && args.once {
        ExitCode::FAILURE
    } else if drift && args.detailed_exitcode {
        ExitCode::from(EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    })
}
