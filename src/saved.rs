//! Saved plans: `timctl plan --out FILE` and `timctl apply FILE`.
//!
//! The file is JSON: a marker and version, the timctl version that wrote it, the SDKAppID it
//! was planned against, and the [`Plan`] itself, including for every touched group the
//! `InfoSeq` and profile fingerprint it was read with (the guards the applier checks before
//! writing). It holds no credential: the settings at apply time supply those.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::Plan;

/// The saved-plan format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPlan {
    /// Always `FORMAT_VERSION`; its presence marks the file as a saved plan.
    pub timctl_saved_plan: u32,
    pub timctl_version: String,
    pub sdkappid: u64,
    pub plan: Plan,
}

#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a plan file this timctl can read")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} is a saved plan of format {found}; this timctl reads format {FORMAT_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error(
        "the saved plan was made against SDKAppID {planned}, but the settings point at {configured}: refusing to apply it"
    )]
    WrongApp { planned: u64, configured: u64 },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SavedPlan {
    pub fn new(sdkappid: u64, plan: Plan) -> SavedPlan {
        SavedPlan {
            timctl_saved_plan: FORMAT_VERSION,
            timctl_version: env!("CARGO_PKG_VERSION").to_owned(),
            sdkappid,
            plan,
        }
    }

    pub fn write(&self, path: &Path) -> Result<(), SavedPlanError> {
        let mut json = serde_json::to_string_pretty(self).expect("a plan serializes");
        json.push('\n');
        std::fs::write(path, json).map_err(|source| SavedPlanError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// `Some` when `paths` is one file that holds a saved plan; `None` for manifests.
    pub fn detect(paths: &[PathBuf]) -> Result<Option<SavedPlan>, SavedPlanError> {
        let [path] = paths else {
            return Ok(None);
        };
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(path).map_err(|source| SavedPlanError::Read {
            path: path.clone(),
            source,
        })?;
        let Ok(probe) = serde_json::from_str::<serde_json::Value>(&text) else {
            return Ok(None);
        };
        let Some(version) = probe.get("timctl_saved_plan").and_then(|v| v.as_u64()) else {
            return Ok(None);
        };
        if version != u64::from(FORMAT_VERSION) {
            return Err(SavedPlanError::Version {
                path: path.clone(),
                found: u32::try_from(version).unwrap_or(u32::MAX),
            });
        }
        serde_json::from_value(probe)
            .map(Some)
            .map_err(|source| SavedPlanError::Parse {
                path: path.clone(),
                source,
            })
    }

    pub fn check_target(&self, configured: u64) -> Result<(), SavedPlanError> {
        if self.sdkappid == configured {
            Ok(())
        } else {
            Err(SavedPlanError::WrongApp {
                planned: self.sdkappid,
                configured,
            })
        }
    }
}
