//! `timctl show`.

use std::process::ExitCode;

use super::{print, saved_when, text_options};
use crate::cli::ShowArgs;
use crate::live;
use crate::render::{self, Format};
use crate::saved::SavedPlan;
use crate::settings::{ProcessEnv, Settings};

/// `timctl show PLANFILE`: renders a saved plan, checked as apply would check it, offline.
pub fn run(args: &ShowArgs) -> anyhow::Result<ExitCode> {
    if args.redact_accounts && args.format != Format::Markdown {
        anyhow::bail!(render::REDACT_NEEDS_MARKDOWN);
    }
    let settings = Settings::resolve(&args.connection.flags(), &ProcessEnv)?;
    let saved = SavedPlan::read(&args.plan, live::seal_key(&settings).as_deref())?;
    let rendered = match args.format {
        Format::Text => render::text(&saved.plan, &text_options()),
        Format::Markdown => {
            render::markdown_for(&saved.plan, args.redact_accounts.then_some(saved.sdkappid))
        }
        Format::Json => render::json(&saved.plan),
    };
    if args.format != Format::Json {
        eprintln!(
            "{}: a saved plan ({}) for SDKAppID {}",
            args.plan.display(),
            saved_when(saved.saved_at),
            saved.sdkappid
        );
    }
    print(&rendered)?;
    Ok(ExitCode::SUCCESS)
}
