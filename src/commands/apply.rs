//! `timctl apply`.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::{print, saved_when, text_options};
use crate::apply::{self, ApplyOptions, Report};
use crate::cli::ApplyArgs;
use crate::interrupt::cancel_on_signal;
use crate::live::{self, Connection};
use crate::pipeline::{self, Planned};
use crate::plan;
use crate::render;
use crate::saved::SavedPlan;
use crate::settings::{ProcessEnv, Settings};

/// `timctl apply [PATHS | PLANFILE]`: plans and applies after a confirmation, or applies a
/// saved plan exactly as reviewed (each group's guard checked first).
pub async fn run(args: ApplyArgs, verbose: u8) -> anyhow::Result<ExitCode> {
    let limits = args.destroy.limits();
    let saved_path = SavedPlan::is_plan_file(&args.paths).then(|| args.paths[0].clone());
    let (connection, plan) = match &saved_path {
        Some(path) => {
            let scope = &args.scope;
            if !scope.targets.is_empty() || !scope.excludes.is_empty() || scope.allow_replace {
                bail!(
                    "--target, --exclude and --allow-replace shape a plan; a saved plan is applied exactly as it was saved (pass them to `timctl plan --out` instead)"
                );
            }
            let settings = Settings::resolve(&args.connection.flags(), &ProcessEnv)?;
            // Verified before anything is sent: an edited plan never reaches the service.
            let saved = SavedPlan::read(path, live::seal_key(&settings).as_deref())?;
            let connection = Connection::open(&settings).await?;
            saved.check_target(connection.sdkappid)?;
            plan::check_protected(&saved.plan)?;
            eprintln!(
                "Applying the saved plan {} ({}), made against {}.",
                path.display(),
                saved_when(saved.saved_at),
                saved
                    .plan
                    .target
                    .as_ref()
                    .map_or_else(|| format!("SDKAppID {}", saved.sdkappid), |t| t.to_string())
            );
            (connection, saved.plan)
        }
        None => {
            let options = args.scope.options();
            let Planned {
                connection, plan, ..
            } = pipeline::plan(
                &args.paths,
                None,
                &options,
                &Settings::resolve(&args.connection.flags(), &ProcessEnv)?,
                true,
            )
            .await?;
            (connection, plan)
        }
    };
    // With --format json, stdout holds only the outcome document.
    let json = args.format == render::ApplyFormat::Json;
    let shown = render::text(&plan, &text_options());
    if json {
        eprint!("{shown}");
    } else {
        print(&shown)?;
    }
    if plan.is_empty() {
        if json {
            print(&render::outcome(&plan, &Report::default()))?;
        }
        connection.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    plan::check_protected(&plan)?;
    if !args.destroy.force {
        match &saved_path {
            // Destroy limits against the groups as they are now, not as they were planned: a
            // group that grew since the plan is stopped as a fresh plan would stop it.
            Some(_) => {
                let current = apply::with_live_member_counts(&connection.client, &plan)
                    .await
                    .context("cannot re-read the groups the saved plan destroys")?;
                plan::check_limits(&current, limits)?;
            }
            None => plan::check_limits(&plan, limits)?,
        }
    }
    if saved_path.is_none() && !args.auto_approve {
        confirm()?;
    }
    let interrupt = cancel_on_signal();
    let options = ApplyOptions {
        check_guards: saved_path.is_some(),
        progress: std::io::stderr().is_terminal(),
        cancel: Some(interrupt.cancel.clone()),
        in_flight: interrupt.in_flight.clone(),
    };
    let report = apply::apply(&connection.client, &plan, &options).await;
    if json {
        eprintln!("{}", render::apply_summary(&report, verbose > 0));
        print(&render::outcome(&plan, &report))?;
    } else {
        print(&render::apply_summary(&report, verbose > 0))?;
    }
    connection.close().await;
    Ok(if report.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Asks for "yes" on a terminal; refuses to prompt anywhere else.
fn confirm() -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to prompt for confirmation: stdin is not a terminal (pass --auto-approve to apply without asking)"
        );
    }
    eprint!("\nDo you want to apply these changes? Only 'yes' is accepted: ");
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        bail!("apply cancelled: nothing was changed");
    }
    Ok(())
}
