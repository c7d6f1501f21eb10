//! `timctl reconcile`: plan and apply in a loop, for a long-running deployment that puts back
//! what someone changed by hand.
//!
//! Each run re-reads the manifests (a GitOps sync may have changed them), plans against the
//! live state, and applies with the same destroy limits as `apply`. Each run ends with exactly
//! one structured log record (`timctl::reconcile`, info level; `--log-format json` for
//! machines). Between runs it sleeps for the interval plus or minus 10% jitter, so that many
//! replicas do not hit the API in step. SIGTERM or Ctrl-C stops it cleanly: during a sleep at
//! once, during an apply after the calls in flight (no new change starts).

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rand::RngExt;

use crate::apply::{self, ApplyOptions, Outcome};
use crate::cli::ReconcileArgs;
use crate::interrupt::{self, Interrupt, cancel_on_signal};
use crate::live::Connection;
use crate::pipeline;
use crate::plan;
use crate::settings::{ProcessEnv, Settings};

/// What one run did, for its log record.
#[derive(Debug, Default)]
struct RunRecord {
    changes: usize,
    applied: usize,
    failed: usize,
    skipped: usize,
    error: Option<String>,
}

pub async fn run(args: ReconcileArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::resolve_with_interval(
        &args.connection.flags(),
        args.interval.as_deref(),
        &ProcessEnv,
    )?;
    let connection = Connection::open(&settings).await?;
    let interrupt = cancel_on_signal();
    let stop = interrupt.cancel.clone();
    let mut last_failed;
    loop {
        let started = Instant::now();
        let record = run_once(&args, &settings, &connection, &interrupt).await;
        last_failed = record.error.is_some() || record.failed > 0;
        tracing::info!(
            target: "timctl::reconcile",
            dry_run = args.dry_run,
            changes = record.changes,
            applied = record.applied,
            failed = record.failed,
            skipped = record.skipped,
            error = record.error.as_deref().unwrap_or(""),
            seconds = started.elapsed().as_secs_f64(),
            "reconcile run finished"
        );
        if args.once || stop.load(Ordering::SeqCst) {
            break;
        }
        let pause = jittered(settings.interval);
        let mut watch = Box::pin(interrupt::shutdown_signal());
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = &mut watch => break,
            _ = wait_for(&stop) => break,
        }
    }
    connection.close().await;
    Ok(if last_failed && args.once {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn wait_for(flag: &std::sync::atomic::AtomicBool) {
    while !flag.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn run_once(
    args: &ReconcileArgs,
    settings: &Settings,
    connection: &Connection,
    interrupt: &Interrupt,
) -> RunRecord {
    let mut record = RunRecord::default();
    let desired = match pipeline::load(&args.paths, settings, &[]) {
        Ok(desired) => desired,
        Err(error) => {
            record.error = Some(format!("{error:#}"));
            return record;
        }
    };
    let options = args.scope.options();
    let plan = match pipeline::plan_against(connection, &desired, None, &options).await {
        Ok(plan) => plan,
        Err(error) => {
            record.error = Some(format!("{error:#}"));
            return record;
        }
    };
    record.changes = plan.changes.len();
    if args.dry_run || plan.is_empty() {
        return record;
    }
    let safe = plan::check_protected(&plan).and_then(|()| {
        if args.destroy.force {
            Ok(())
        } else {
            plan::check_limits(&plan, args.destroy.limits())
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
    if !report.unmet.is_empty() || report.verify_error.is_some() {
        record.error = Some(crate::render::apply_summary(&report, true));
    }
    record
}

/// The interval plus or minus up to 10%.
fn jittered(interval: Duration) -> Duration {
    let factor = rand::rng().random_range(0.9..=1.1);
    interval.mul_f64(factor)
}
