//! `timctl schema`.

use std::process::ExitCode;

use super::print;
use crate::manifest;

/// Prints the JSON Schema of the manifest format.
pub fn run() -> anyhow::Result<ExitCode> {
    print(&manifest::schema_json())?;
    Ok(ExitCode::SUCCESS)
}
