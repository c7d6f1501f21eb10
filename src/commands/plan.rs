//! `timctl plan`.

use std::process::ExitCode;

use anyhow::Context;

use super::{changes_exit, print, text_options};
use crate::cli::PlanArgs;
use crate::pipeline::{self, Planned};
use crate::render::{self, Format};
use crate::saved::SavedPlan;
use crate::settings::{ProcessEnv, Settings};

/// `timctl plan`: renders what apply would change; `--out` saves it for `timctl apply FILE`.
pub async fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    if args.redact_accounts && args.format != Format::Markdown {
        anyhow::bail!(render::REDACT_NEEDS_MARKDOWN);
    }
    let options = crate::plan::PlanOptions {
        changed_only: args.changed_only,
        ..args.scope.options()
    };
    let Planned {
        connection,
        plan,
        seal_key,
        inputs,
    } = pipeline::plan(
        &args.paths,
        args.baseline.as_deref(),
        &options,
        &Settings::resolve(&args.connection.flags(), &ProcessEnv)?,
        args.allow_empty,
    )
    .await?;
    let rendered = match args.format {
        Format::Text => render::text(&plan, &text_options()),
        Format::Markdown => {
            render::markdown_for(&plan, args.redact_accounts.then_some(connection.sdkappid))
        }
        Format::Json => render::json(&plan),
    };
    print(&rendered)?;
    if let Some(out) = &args.out {
        SavedPlan::new(connection.sdkappid, plan.clone(), seal_key.as_deref())
            .write(out)
            .with_context(|| format!("cannot save the plan to {}", out.display()))?;
        eprintln!(
            "Saved the plan to {}; apply it with: timctl apply {}",
            out.display(),
            out.display()
        );
    }
    connection.close().await;
    inputs.leave_to_exit();
    Ok(changes_exit(args.detailed_exitcode, !plan.is_empty()))
}
