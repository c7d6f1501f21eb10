//! `timctl reconcile`: plan and apply in a loop, for a long-running deployment that puts back
//! what someone changed by hand.
//!
//! Each run re-reads the manifests (a GitOps sync may have changed them), plans against the
//! live state, and applies with the same destroy limits as `apply`. Each run ends with exactly
//! one structured log record (`timctl::reconcile`; `--log-format json` for machines): info
//! level, or error when the run failed; it names each drifted group, what the change does and
//! the fields it changes (`drift`), and the groups it changed (`changed`). With
//! `--metrics-listen` each run is also counted (see [`crate::metrics`]). Between runs it sleeps for the interval plus or minus 10% jitter, so that many
//! replicas do not hit the API in step. SIGTERM or Ctrl-C stops it cleanly: during a sleep at
//! once, during an apply after the calls in flight (no new change starts).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rand::RngExt;

use crate::apply::{self, ApplyOptions, Outcome};
use crate::interrupt::{self, Interrupt, cancel_on_signal};
use crate::live::Connection;
use crate::metrics::{self, Metrics, Pass};
use crate::model::{Desired, GroupId};
use crate::pipeline;
use crate::plan::{self, Action, Change, PlanOptions, SafetyLimits};
use crate::settings::{Flags, ProcessEnv, Settings};
use crate::webhook::{self, Webhook};

/// How long events are gathered before a run reconciles the groups they name.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// What one run did, for its log record.
#[derive(Debug, Default)]
struct RunRecord {
    changes: usize,
    applied: usize,
    failed: usize,
    skipped: usize,
    error: Option<String>,
    /// Each planned change as `ID ACTION [FIELDS]`; `None` when the run did not get to a plan.
    drift: Option<Vec<String>>,
    /// How many groups `drift` names.
    groups: usize,
    /// The groups whose changes were applied.
    changed: Vec<String>,
}

/// Emits the run's record at `$level`.
macro_rules! run_record {
    ($level:ident, $args:expr, $record:expr, $started:expr) => {
        tracing::$level!(
            target: "timctl::reconcile",
            dry_run = $args.dry_run,
            changes = $record.changes,
            applied = $record.applied,
            failed = $record.failed,
            skipped = $record.skipped,
            drift = $record.drift.as_deref().unwrap_or_default().join("; "),
            changed = $record.changed.join(", "),
            error = $record.error.as_deref().unwrap_or(""),
            seconds = $started.elapsed().as_secs_f64(),
            "reconcile run finished"
        )
    };
}

/// What a reconcile loop is asked to do (the `reconcile` command fills it from its flags).
#[derive(Debug, Clone)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    /// Connection flags as typed, and `--interval` as typed.
    pub flags: Flags,
    pub interval: Option<String>,
    /// Only plan and log.
    pub dry_run: bool,
    /// One run, then return.
    pub once: bool,
    pub metrics_listen: Option<String>,
    /// `--webhook ADDR`: serve the callback endpoint and reconcile the groups events name.
    pub webhook: Option<String>,
    /// The callback authentication token.
    pub webhook_token: Option<String>,
    pub plan: PlanOptions,
    /// Skip the destroy limits.
    pub force: bool,
    pub limits: SafetyLimits,
}

/// How the loop ended, for the command to turn into an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    /// The last run failed (an error, or a change that failed).
    pub failed: bool,
    /// The last run found changes to make (drift).
    pub drift: bool,
}

pub async fn run(args: Options) -> anyhow::Result<Finished> {
    let settings =
        Settings::resolve_with_interval(&args.flags, args.interval.as_deref(), &ProcessEnv)?;
    let metrics = match &args.metrics_listen {
        Some(addr) => {
            let metrics = Metrics::new(settings.interval);
            let bound = metrics::serve(addr, metrics.clone()).await?;
            eprintln!("metrics listening on http://{bound}");
            Some(metrics)
        }
        None => None,
    };
    let connection = Connection::open(&settings).await?;
    let (events_tx, mut events) = tokio::sync::mpsc::channel(webhook::QUEUE);
    if let Some(addr) = &args.webhook {
        let endpoint = Webhook {
            sdkappid: connection.sdkappid,
            token: args.webhook_token.clone(),
        };
        let bound = webhook::serve(addr, endpoint, events_tx.clone()).await?;
        eprintln!("webhook listening on http://{bound}");
    }
    // Without --webhook nothing sends; the sender kept here keeps `recv` pending, not closed.
    let _events_tx = events_tx;
    let interrupt = cancel_on_signal();
    let stop = interrupt.cancel.clone();
    let mut last_failed;
    let mut last_drift;
    // When the next full pass is due; the event-driven runs in between leave it as it is.
    let mut next_full: Option<Instant> = None;
    // The groups the next run is limited to, and the manifests they were judged by: `None`
    // for a full pass.
    let mut only: Option<(BTreeSet<GroupId>, anyhow::Result<Desired>)> = None;
    loop {
        let started = Instant::now();
        let record = match only.take() {
            None => {
                let loaded = pipeline::load(&args.paths, &settings, &[]);
                run_once(&args, &args.plan, loaded, &connection, &interrupt).await
            }
            Some((ids, loaded)) => {
                tracing::info!(target: "timctl::reconcile", groups = ids.len(), "reconciling the groups callbacks named");
                let scoped = PlanOptions {
                    only: Some(plan::Changed {
                        ids,
                        ..plan::Changed::default()
                    }),
                    ..args.plan.clone()
                };
                run_once(&args, &scoped, loaded, &connection, &interrupt).await
            }
        };
        last_failed = record.error.is_some() || record.failed > 0;
        last_drift = record.changes > 0;
        if last_failed {
            run_record!(error, args, record, started);
        } else {
            run_record!(info, args, record, started);
        }
        if let Some(metrics) = &metrics {
            metrics.record(&Pass {
                ok: !last_failed,
                drifted_groups: record.drift.as_ref().map(|_| record.groups),
                applied: record.applied,
                failed: record.failed,
                duration: started.elapsed(),
            });
        }
        if args.once || stop.load(Ordering::SeqCst) {
            break;
        }
        if next_full.is_none_or(|at| at <= Instant::now()) {
            next_full = Some(Instant::now() + jittered(settings.interval));
        }
        // Wait for the next full pass, or for events worth a run before it.
        let mut watch = Box::pin(interrupt::shutdown_signal());
        let stopped = loop {
            let pause = next_full.map_or(Duration::ZERO, |at| {
                at.saturating_duration_since(Instant::now())
            });
            tokio::select! {
                _ = tokio::time::sleep(pause) => {
                    next_full = None;
                    break false;
                }
                _ = &mut watch => break true,
                _ = wait_for(&stop) => break true,
                Some(first) = events.recv() => {
                    // Debounce: the events of the next moment go in the same run.
                    tokio::time::sleep(DEBOUNCE).await;
                    let mut batch = vec![first];
                    while let Ok(event) = events.try_recv() {
                        batch.push(event);
                    }
                    let loaded = pipeline::load(&args.paths, &settings, &[]);
                    if let Some(ids) = worth_a_run(loaded.as_ref().ok(), batch) {
                        only = Some((ids, loaded));
                        break false;
                    }
                }
            }
        };
        if stopped {
            break;
        }
    }
    connection.close().await;
    Ok(Finished {
        failed: last_failed,
        drift: last_drift,
    })
}

/// The groups of `events` that may differ from the manifests `desired` (see
/// [`webhook::Event::actionable`]); `None` when there are none. Manifests that did not load
/// (`None`) are the run's error to report: every event's group is kept then.
fn worth_a_run(
    desired: Option<&Desired>,
    events: Vec<webhook::Event>,
) -> Option<BTreeSet<GroupId>> {
    let ids: BTreeSet<GroupId> = events
        .into_iter()
        .filter(|event| {
            let act = desired.is_none_or(|d| event.actionable(d));
            if !act {
                tracing::debug!(target: "timctl::webhook", group = %event.group, command = %event.command, "the event reports what the manifests declare (or leave unmanaged); no read");
            }
            act
        })
        .map(|event| event.group)
        .collect();
    (!ids.is_empty()).then_some(ids)
}

async fn wait_for(flag: &std::sync::atomic::AtomicBool) {
    while !flag.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One run: plans the manifests `loaded` (read by the caller, once per run) with `options`
/// against the live groups and, unless `--dry-run`, applies.
async fn run_once(
    args: &Options,
    options: &PlanOptions,
    loaded: anyhow::Result<Desired>,
    connection: &Connection,
    interrupt: &Interrupt,
) -> RunRecord {
    let mut record = RunRecord::default();
    let desired = match loaded {
        Ok(desired) => desired,
        Err(error) => {
            record.error = Some(format!("{error:#}"));
            return record;
        }
    };
    let plan = match pipeline::plan_against(connection, &desired, None, options).await {
        Ok((plan, _)) => plan,
        Err(error) => {
            record.error = Some(format!("{error:#}"));
            return record;
        }
    };
    record.changes = plan.changes.len();
    record.drift = Some(plan.changes.iter().map(describe).collect());
    record.groups = plan
        .changes
        .iter()
        .map(|c| &c.id)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if args.dry_run || plan.is_empty() {
        return record;
    }
    let safe = plan::check_protected(&plan).and_then(|()| {
        if args.force {
            Ok(())
        } else {
            plan::check_limits(&plan, args.limits)
        }
    });
    if let Err(error) = safe {
        record.error = Some(error.to_string());
        return record;
    }
    let options = ApplyOptions {
        check_guards: false,
        progress: false,
        cancel: Some(interrupt.cancel.clone()),
        in_flight: interrupt.in_flight.clone(),
    };
    let report = apply::apply(&connection.client, &plan, &options).await;
    record.applied = report.count(|o| matches!(o, Outcome::Applied));
    record.failed = report.count(|o| matches!(o, Outcome::Failed { .. } | Outcome::Partial { .. }));
    record.skipped = report.count(|o| matches!(o, Outcome::Skipped { .. }));
    record.changed = report
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Applied))
        .map(|r| r.id.to_string())
        .collect();
    record.changed.sort();
    record.changed.dedup();
    if !report.unmet.is_empty() || report.verify_error.is_some() {
        record.error = Some(crate::render::apply_summary(&report, true));
    }
    record
}

/// A change for the run's record: `ops-a update name, custom.team`, `ops-b create`.
fn describe(change: &Change) -> String {
    let fields = match &change.action {
        Action::Update(update) => update.field_names(),
        Action::Replace(_) => vec!["type".to_owned()],
        Action::Members(members) => {
            let mut fields = Vec::new();
            if !members.add.is_empty() || !members.remove.is_empty() {
                fields.push("members".to_owned());
            }
            if !members.roles.is_empty() {
                fields.push("admins".to_owned());
            }
            fields
        }
        // "owner" is the verb and the field.
        Action::Create(_) | Action::Transfer(_) | Action::Destroy(_) => Vec::new(),
    };
    let mut text = format!("{} {}", change.id, apply::label(&change.action));
    if !fields.is_empty() {
        text.push(' ');
        text.push_str(&fields.join(", "));
    }
    text
}

/// The interval plus or minus up to 10%.
fn jittered(interval: Duration) -> Duration {
    let factor = rand::rng().random_range(0.9..=1.1);
    interval.mul_f64(factor)
}
