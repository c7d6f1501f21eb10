//! `timctl emulator`.

use std::process::ExitCode;

use crate::cli::EmulatorArgs;

/// Serves the emulator until Ctrl-C or SIGTERM.
pub async fn run(args: &EmulatorArgs) -> anyhow::Result<ExitCode> {
    crate::emulator::run(args.config()?, &args.listen).await?;
    Ok(ExitCode::SUCCESS)
}
