//! `timctl reconcile`.

use std::process::ExitCode;

use crate::cli::ReconcileArgs;

/// Plans and applies in a loop (see [`crate::reconcile`]).
pub async fn run(args: ReconcileArgs) -> anyhow::Result<ExitCode> {
    crate::reconcile::run(args).await
}
