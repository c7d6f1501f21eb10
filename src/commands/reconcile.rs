//! `timctl reconcile`.

use std::process::ExitCode;

use super::EXIT_CHANGES;
use crate::cli::ReconcileArgs;
use crate::reconcile::{self, Finished, Options};

/// The callback token, from `--webhook-token-file` or `TIM_CALLBACK_TOKEN` (empty: unset).
fn webhook_token(args: &ReconcileArgs) -> anyhow::Result<Option<String>> {
    if let Some(file) = &args.webhook_token_file {
        let text = std::fs::read_to_string(file).map_err(|error| {
            anyhow::anyhow!(
                "--webhook-token-file {}: cannot read it: {error}",
                file.display()
            )
        })?;
        let token = text.trim().to_owned();
        anyhow::ensure!(
            !token.is_empty(),
            "--webhook-token-file {}: the file is empty",
            file.display()
        );
        return Ok(Some(token));
    }
    Ok(std::env::var("TIM_CALLBACK_TOKEN")
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty()))
}

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
        webhook: args.webhook.clone(),
        webhook_token: webhook_token(&args)?,
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
