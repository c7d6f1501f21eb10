//! Saved plans: `timctl plan --out FILE`, `timctl show FILE` and `timctl apply FILE`.
//!
//! A saved plan is what a reviewer approved; applying it must do exactly that or nothing. The
//! file is JSON: a marker and format version, the timctl version that wrote it, the SDKAppID it
//! was planned against, when, the [`Plan`] itself (for every touched group the guard it was
//! read with, which the applier checks before writing), and a **seal** over all of it.
//!
//! # Guarantees
//! - An edited file is refused before anything is sent: the file must be byte for byte what
//!   timctl writes for its content (so no key can be added, no value reformatted), and the seal
//!   must match that content (so no value can be changed).
//! - The seal is an HMAC-SHA256 keyed with a key derived from the app's secret key when the
//!   plan is made with one: nobody without the key can reseal an edited plan. A plan made with
//!   only a UserSig gets a plain SHA-256, which catches edits and truncation but can be
//!   recomputed; applying it where the secret key is configured is refused (the plan could
//!   have been resealed), so a sealed plan cannot be downgraded.
//! - The file holds no secret: neither the key nor a UserSig, and the HMAC reveals neither.
//! - Writes are atomic and durable: a temporary file beside the target is written, flushed to
//!   disk and renamed over it; a write that did not reach the disk is an error.
//!
//! # Errors
//! Every refusal names the file and says what to do (usually: run `timctl plan --out` again).

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::plan::Plan;

/// The saved-plan format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;

/// Saved plans larger than this are refused: one of 100,000 changed groups is far smaller.
pub const MAX_PLAN_BYTES: u64 = 1 << 30;

/// Derives the sealing key from the app's secret key, so the seal is never usable as anything
/// else (it is not a UserSig signature: those sign `TLS.identifier:…` lines).
const SEAL_CONTEXT: &[u8] = b"timctl saved plan seal v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPlan {
    /// Always `FORMAT_VERSION`; its presence marks the file as a saved plan.
    pub timctl_saved_plan: u32,
    pub timctl_version: String,
    pub sdkappid: u64,
    /// Unix seconds when the plan was saved.
    pub saved_at: u64,
    pub plan: Plan,
    pub seal: Seal,
}

/// What protects a saved plan's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    pub kind: SealKind,
    /// Lowercase hex.
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SealKind {
    /// Keyed with the app's secret key (derived): cannot be recomputed without it.
    HmacSha256,
    /// A digest: catches edits and truncation, but anyone can recompute it.
    Sha256,
}

/// The sealed part of the file: everything but the seal.
#[derive(Serialize)]
struct Content<'a> {
    timctl_saved_plan: u32,
    timctl_version: &'a str,
    sdkappid: u64,
    saved_at: u64,
    plan: &'a Plan,
}

#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error("{path} is larger than {MAX_PLAN_BYTES} bytes: refusing to read it as a saved plan")]
    TooLarge { path: PathBuf },
    #[error(
        "{path} is not a saved plan this timctl can read (truncated or edited?): run `timctl plan --out` again"
    )]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path} is a saved plan of format {found}; this timctl reads format {FORMAT_VERSION}: run `timctl plan --out` again"
    )]
    Version { path: PathBuf, found: u64 },
    #[error(
        "{path} was edited after `timctl plan --out` wrote it ({what}): refusing to apply it; nothing was changed. Run `timctl plan --out` again and review that"
    )]
    Tampered { path: PathBuf, what: &'static str },
    #[error(
        "{path} is sealed with the app's secret key, which is not configured here (only a UserSig): its integrity cannot be verified, so it is refused. Set TIM_SECRET_KEY or --secret-key-file"
    )]
    CannotVerify { path: PathBuf },
    #[error(
        "{path} was saved without the app's secret key, so its seal can be recomputed by anyone who edits it; with the key configured here it is refused. Run `timctl plan --out` with the key"
    )]
    Unkeyed { path: PathBuf },
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
    /// A saved plan of `plan`, sealed with `key` (the app's secret key) when there is one.
    pub fn new(sdkappid: u64, plan: Plan, key: Option<&str>) -> SavedPlan {
        let mut saved = SavedPlan {
            timctl_saved_plan: FORMAT_VERSION,
            timctl_version: env!("CARGO_PKG_VERSION").to_owned(),
            sdkappid,
            saved_at: crate::usersig::unix_now(),
            plan,
            seal: Seal {
                kind: SealKind::Sha256,
                value: String::new(),
            },
        };
        saved.seal = saved.compute_seal(key);
        saved
    }

    fn content(&self) -> Vec<u8> {
        serde_json::to_vec(&Content {
            timctl_saved_plan: self.timctl_saved_plan,
            timctl_version: &self.timctl_version,
            sdkappid: self.sdkappid,
            saved_at: self.saved_at,
            plan: &self.plan,
        })
        .expect("a plan serializes")
    }

    fn compute_seal(&self, key: Option<&str>) -> Seal {
        let content = self.content();
        match key {
            Some(key) => Seal {
                kind: SealKind::HmacSha256,
                value: hex(&hmac(&sealing_key(key), &content)),
            },
            None => Seal {
                kind: SealKind::Sha256,
                value: hex(&Sha256::digest(&content)),
            },
        }
    }

    /// The file's text: what [`SavedPlan::write`] writes and [`SavedPlan::read`] requires.
    fn text(&self) -> String {
        let mut json = serde_json::to_string_pretty(self).expect("a plan serializes");
        json.push('\n');
        json
    }

    /// Writes the plan atomically: a temporary file beside `path`, synced, then renamed.
    pub fn write(&self, path: &Path) -> Result<(), SavedPlanError> {
        let write_error = |source| SavedPlanError::Write {
            path: path.to_owned(),
            source,
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plan".to_owned());
        let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let result = (|| {
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(self.text().as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temp, path)?;
            // The rename is durable once the directory is.
            if let Ok(dir) = std::fs::File::open(&dir) {
                dir.sync_all()?;
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result.map_err(write_error)
    }

    /// `true` when `paths` is one file that holds (or once held: truncated) a saved plan rather
    /// than manifests: its text starts like one, or it is named `*.json` (manifests are YAML;
    /// an emptied plan file must not pass for an empty manifest set).
    pub fn is_plan_file(paths: &[PathBuf]) -> bool {
        let [path] = paths else {
            return false;
        };
        let Ok(meta) = std::fs::metadata(path) else {
            return false;
        };
        if !meta.is_file() {
            return false;
        }
        let mut head = [0u8; 256];
        let read = std::fs::File::open(path)
            .and_then(|mut file| file.read(&mut head))
            .unwrap_or(0);
        let head = String::from_utf8_lossy(&head[..read]);
        head.trim_start().starts_with('{') && head.contains("\"timctl_saved_plan\"")
            || path.extension().is_some_and(|ext| ext == "json")
    }

    /// Reads and verifies a saved plan. `key` is the app's secret key when the settings have
    /// one; see the module's guarantees for what each combination of seal and key allows.
    pub fn read(path: &Path, key: Option<&str>) -> Result<SavedPlan, SavedPlanError> {
        let text = read_bounded(path)?;
        let parse = |source| SavedPlanError::Parse {
            path: path.to_owned(),
            source,
        };
        let probe: serde_json::Value = serde_json::from_str(&text).map_err(parse)?;
        if let Some(found) = probe.get("timctl_saved_plan").and_then(|v| v.as_u64())
            && found != u64::from(FORMAT_VERSION)
        {
            return Err(SavedPlanError::Version {
                path: path.to_owned(),
                found,
            });
        }
        let saved: SavedPlan = serde_json::from_value(probe).map_err(parse)?;
        let tampered = |what| SavedPlanError::Tampered {
            path: path.to_owned(),
            what,
        };
        if saved.text() != text {
            return Err(tampered(
                "its text is not what timctl writes for its content",
            ));
        }
        let valid = match (saved.seal.kind, key) {
            (SealKind::HmacSha256, Some(key)) => {
                let expected = hmac(&sealing_key(key), &saved.content());
                unhex(&saved.seal.value).is_some_and(|given| given == expected)
            }
            (SealKind::HmacSha256, None) => {
                return Err(SavedPlanError::CannotVerify {
                    path: path.to_owned(),
                });
            }
            (SealKind::Sha256, Some(_)) => {
                return Err(SavedPlanError::Unkeyed {
                    path: path.to_owned(),
                });
            }
            (SealKind::Sha256, None) => saved.seal.value == hex(&Sha256::digest(saved.content())),
        };
        if !valid {
            return Err(tampered("its seal does not match its content"));
        }
        Ok(saved)
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

fn read_bounded(path: &Path) -> Result<String, SavedPlanError> {
    use crate::manifest::ReadError;
    let bytes = crate::manifest::read_bounded(path, MAX_PLAN_BYTES).map_err(|e| match e {
        ReadError::Io(source) => SavedPlanError::Read {
            path: path.to_owned(),
            source,
        },
        ReadError::NotRegular { .. } => SavedPlanError::NotAFile {
            path: path.to_owned(),
        },
        ReadError::TooLarge { .. } => SavedPlanError::TooLarge {
            path: path.to_owned(),
        },
    })?;
    String::from_utf8(bytes).map_err(|_| SavedPlanError::Tampered {
        path: path.to_owned(),
        what: "it is not UTF-8 text",
    })
}

fn sealing_key(secret_key: &str) -> Vec<u8> {
    hmac(secret_key.as_bytes(), SEAL_CONTEXT)
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

use crate::plan::hex;

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GroupId;
    use crate::plan::{Action, Change, Destroy, DestroyReason, Guard};

    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn plan() -> Plan {
        let mut plan = Plan::default();
        plan.changes.push(Change {
            id: GroupId::from("old"),
            action: Action::Destroy(Destroy {
                group_type: crate::model::GroupType::Public,
                member_num: 2,
                reason: DestroyReason::Absent,
            }),
            origin: None,
        });
        plan.guards.insert(GroupId::from("old"), Guard::Absent);
        plan
    }

    fn written(key: Option<&str>) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        SavedPlan::new(7, plan(), key).write(&path).unwrap();
        (dir, path)
    }

    #[test]
    fn a_written_plan_reads_back_with_the_same_key() {
        let (_dir, path) = written(Some(KEY));
        let saved = SavedPlan::read(&path, Some(KEY)).unwrap();
        assert_eq!(saved.plan, plan());
        assert_eq!(saved.seal.kind, SealKind::HmacSha256);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(KEY));
        let (_dir, unkeyed) = written(None);
        assert_eq!(SavedPlan::read(&unkeyed, None).unwrap().plan, plan());
    }

    #[test]
    fn any_edit_is_refused() {
        let (_dir, path) = written(Some(KEY));
        let text = std::fs::read_to_string(&path).unwrap();
        let edits = [
            text.replace("\"member_num\": 2", "\"member_num\": 1"),
            text.replace("\"sdkappid\": 7", "\"sdkappid\": 8"),
            text.replace("\"plan\": {", "\"plan\": {\n    \"extra\": 1,"),
            text.replace("  ", "   "),
            text[..text.len() / 2].to_owned(),
        ];
        for edited in edits {
            assert_ne!(edited, text);
            std::fs::write(&path, &edited).unwrap();
            let err = SavedPlan::read(&path, Some(KEY)).unwrap_err();
            assert!(
                matches!(
                    err,
                    SavedPlanError::Tampered { .. } | SavedPlanError::Parse { .. }
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn a_resealed_edit_without_the_key_is_refused() {
        let (_dir, path) = written(Some(KEY));
        let mut saved = SavedPlan::read(&path, Some(KEY)).unwrap();
        if let Action::Destroy(destroy) = &mut saved.plan.changes[0].action {
            destroy.member_num = 0;
        }
        // Resealed with another key: wrong seal.
        saved.seal = saved.compute_seal(Some("not the key"));
        std::fs::write(&path, saved.text()).unwrap();
        assert!(matches!(
            SavedPlan::read(&path, Some(KEY)).unwrap_err(),
            SavedPlanError::Tampered { .. }
        ));
        // Downgraded to a plain digest: refused where the key is known.
        saved.seal = saved.compute_seal(None);
        std::fs::write(&path, saved.text()).unwrap();
        assert!(matches!(
            SavedPlan::read(&path, Some(KEY)).unwrap_err(),
            SavedPlanError::Unkeyed { .. }
        ));
        // A keyed seal cannot be checked with a UserSig alone.
        let (_dir, keyed) = written(Some(KEY));
        assert!(matches!(
            SavedPlan::read(&keyed, None).unwrap_err(),
            SavedPlanError::CannotVerify { .. }
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("plan.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert!(matches!(
            SavedPlan::read(&fifo, None).unwrap_err(),
            SavedPlanError::NotAFile { .. }
        ));
    }

    #[test]
    fn an_older_format_is_refused_by_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "{\"timctl_saved_plan\": 1, \"plan\": {}}").unwrap();
        assert!(matches!(
            SavedPlan::read(&path, None).unwrap_err(),
            SavedPlanError::Version { found: 1, .. }
        ));
        assert!(SavedPlan::is_plan_file(&[path]));
    }
}
