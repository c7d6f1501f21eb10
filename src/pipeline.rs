//! The one pipeline that `plan`, `apply` and `reconcile` share: load the manifests (every
//! problem at once, before any network call) → connect → read the live groups → plan.
//!
//! Settings come in resolved; what to do with the plan (render, save, apply) is the caller's.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::live::{self, Connection};
use crate::manifest;
use crate::model::{Actual, Desired};
use crate::plan::{self, Plan, PlanOptions};
use crate::settings::Settings;

/// Loads manifests with the limits the settings allow; every problem is reported at once. A
/// prune whose manifest set the paths do not hold whole is refused (`excluded`: directories
/// that are not part of any set, the baseline).
pub fn load(
    paths: &[PathBuf],
    settings: &Settings,
    excluded: &[PathBuf],
) -> anyhow::Result<Desired> {
    load_within(paths, settings, excluded, true)
}

/// [`load`]; unless `allow_empty`, paths that hold no manifest file are an error.
pub fn load_within(
    paths: &[PathBuf],
    settings: &Settings,
    excluded: &[PathBuf],
    allow_empty: bool,
) -> anyhow::Result<Desired> {
    load_manifests(paths, settings, excluded, allow_empty, false).map(|m| m.desired)
}

/// [`load_within`], also telling which files were read; with `keep_trees`, their parsed trees
/// are kept for the caller to free ([`manifest::Spent`]).
fn load_manifests(
    paths: &[PathBuf],
    settings: &Settings,
    excluded: &[PathBuf],
    allow_empty: bool,
    keep_trees: bool,
) -> anyhow::Result<manifest::Manifests> {
    let manifests = manifest::load_manifests_keeping(paths, &settings.limits, keep_trees)
        .map_err(|errors| anyhow::anyhow!("{errors}"))?;
    if !allow_empty {
        no_manifest(paths, &manifests.files)?;
    }
    manifest::prune_scope::check(&manifests.prune_files, &manifests.files, excluded)?;
    Ok(manifests)
}

/// An error when `paths` held no manifest file: a mistyped or unmounted directory must not
/// plan (or validate) as "nothing declared".
pub fn no_manifest(paths: &[PathBuf], files: &[PathBuf]) -> anyhow::Result<()> {
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        anyhow::bail!(
            "no manifest file (*.yaml, *.yml) in {}; pass --allow-empty if that is intended",
            shown.join(", ")
        );
    }
    Ok(())
}

/// Everything `plan` and `apply` compute before they differ.
pub struct Planned {
    pub connection: Connection,
    pub plan: Plan,
    /// The key a saved plan is sealed with (the app's secret key), when there is one.
    pub seal_key: Option<String>,
    /// What the plan was made from, given back rather than freed on the way out.
    pub inputs: Inputs,
}

/// The manifests and the live groups a plan was made from: at 10,000 groups, freeing them
/// one by one takes longer than planning them. A command that exits next hands them to
/// [`Inputs::leave_to_exit`]; anything else drops them.
#[expect(
    dead_code,
    reason = "held to be freed, or left to the exit, when the caller says"
)]
pub struct Inputs {
    desired: Desired,
    baseline: Option<Desired>,
    actual: Actual,
}

impl Inputs {
    /// Not freed: the process is about to exit, and the system takes all its memory back at
    /// once. Only for a command's last step, never in a loop (`reconcile` drops its inputs).
    pub fn leave_to_exit(self) {
        std::mem::forget(self);
    }
}

/// The whole pipeline: loads the manifests (and the baseline), connects, reads, plans.
pub async fn plan(
    paths: &[PathBuf],
    baseline: Option<&Path>,
    options: &PlanOptions,
    settings: &Settings,
    allow_empty: bool,
) -> anyhow::Result<Planned> {
    // Manifests are loaded and validated before anything touches the network.
    let excluded: Vec<PathBuf> = baseline.map(Path::to_owned).into_iter().collect();
    // A remote target's client is made meanwhile, on a thread of its own.
    let (head, prepared) = std::thread::scope(|scope| {
        let prepared = scope.spawn(|| Connection::prepare(settings));
        // A full read takes a while on the wire: the trees are freed meanwhile. A scoped
        // read is short, and keeping them would only take fresh memory for the next file.
        let keep_trees = !options.changed_only;
        let head = load_manifests(paths, settings, &excluded, allow_empty, keep_trees);
        let prepared = prepared
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (head, prepared)
    });
    let head = head?;
    // The baseline only labels changes; its prune destroys nothing, so it is not checked.
    // A baseline that does not exist (the base branch of the pull request that adds the
    // manifests' directory) declares nothing: every change is "this change". Any other
    // problem with it (unreadable, not a manifest) is still an error.
    let baseline = baseline
        .map(|dir| {
            let missing = std::fs::symlink_metadata(dir)
                .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound);
            if missing {
                eprintln!(
                    "Note: the --baseline {} does not exist; planning against an empty baseline (every change is \"this change\").",
                    dir.display()
                );
                return Ok(Desired::default());
            }
            // The head's files that the baseline holds unchanged are not parsed again.
            let head_root = match paths {
                [root] if root.is_dir() => Some(root.as_path()),
                _ => None,
            };
            manifest::load_baseline(dir, head_root, &head, &settings.limits)
                .map_err(|errors| anyhow::anyhow!("{errors}"))
                .context("cannot load the --baseline manifests")
        })
        .transpose()?;
    // Valid: what is left of reading them is freed while the reads are on the wire.
    head.spent.free_in_background();
    let desired = head.desired;
    let mut options = options.clone();
    let scoped = match (&baseline, options.changed_only) {
        (Some(baseline), true) => {
            let changed = plan::changed_groups(&desired, baseline);
            let listed = changed.prune_changed && !desired.prune_prefixes.is_empty();
            let count = changed.ids.len();
            options.only = Some(changed);
            Some(plan::Scoped {
                changed: count,
                unchecked: desired.groups.len() - options.scoped(&desired).count(),
                listed,
            })
        }
        (None, true) => anyhow::bail!("--changed-only needs --baseline DIR"),
        _ => None,
    };
    let connection = match prepared {
        Some(prepared) => {
            live::announce_reads(settings);
            prepared?
        }
        None => Connection::open(settings).await?,
    };
    let (mut plan, actual) =
        plan_against(&connection, &desired, baseline.as_ref(), &options).await?;
    plan.target = Some(connection.target.clone());
    plan.scoped = scoped;
    Ok(Planned {
        connection,
        plan,
        seal_key: live::seal_key(settings),
        inputs: Inputs {
            desired,
            baseline,
            actual,
        },
    })
}

/// Reads the live state and plans; with a baseline, labels each change. Gives back the plan
/// and the live state it was made against.
pub async fn plan_against(
    connection: &Connection,
    desired: &Desired,
    baseline: Option<&Desired>,
    options: &PlanOptions,
) -> anyhow::Result<(Plan, Actual)> {
    let progress = std::io::stderr().is_terminal();
    let actual =
        live::read_actual(&connection.client, desired, baseline, options, progress).await?;
    for warning in plan::unmatched_scope(options, desired, &actual) {
        eprintln!("warning: {warning}");
    }
    let mut plan =
        plan::plan(desired, &actual, options).map_err(|errors| anyhow::anyhow!("{errors}"))?;
    if let Some(baseline) = baseline {
        let lenient = PlanOptions {
            allow_replace: true,
            ..options.clone()
        };
        match plan::plan(baseline, &actual, &lenient) {
            Ok(base_plan) => plan.label_origins(&base_plan),
            Err(errors) => {
                tracing::warn!(%errors, "the baseline manifests do not plan; every change is labelled \"this change\"");
                plan.label_origins(&Plan::default());
            }
        }
    }
    Ok((plan, actual))
}
