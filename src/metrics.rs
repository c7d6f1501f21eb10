//! `reconcile --metrics-listen ADDR`: what the controller loop has done, as Prometheus metrics,
//! and whether it is still doing it, as health endpoints a Kubernetes Deployment can probe.
//!
//! The loop calls [`Metrics::record`] once per run; the HTTP server, on its own listener, only
//! reads. The text exposition format (version 0.0.4) is written by hand: six series do not
//! need a client library and its registry, and every Prometheus-compatible scraper reads it.
//! Nothing here sees the connection settings, so neither the secret key nor a UserSig can
//! reach a metric.
//!
//! - `GET /metrics`: the series below, all prefixed `timctl_reconcile_`.
//! - `GET /healthz`: 200 while the loop finishes runs: the last run (or, before the first, the
//!   start) ended at most 3 intervals ago; 503 otherwise, e.g. when a run hangs.
//! - `GET /readyz`: 200 once a run has finished without error, 503 before.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

/// How many intervals may pass without a finished run before `/healthz` answers 503.
pub const HEALTHY_INTERVALS: u32 = 3;

/// What one reconcile run did, as the metrics count it.
#[derive(Clone, Debug, Default)]
pub struct Pass {
    /// The run finished without an error and without a failed change.
    pub ok: bool,
    /// Groups with a planned change; `None` when the run did not get as far as a plan.
    pub drifted_groups: Option<usize>,
    pub applied: usize,
    /// Changes that failed or were partly applied.
    pub failed: usize,
    pub duration: Duration,
}

/// The controller's counters and gauges, shared by the loop and the HTTP server.
#[derive(Debug)]
pub struct Metrics {
    interval: Duration,
    started: Instant,
    state: Mutex<Totals>,
}

#[derive(Debug, Default)]
struct Totals {
    runs_success: u64,
    runs_failure: u64,
    changes_applied: u64,
    changes_failed: u64,
    drifted_groups: u64,
    last_success_unix: f64,
    last_duration: f64,
    last_finished: Option<Instant>,
    ready: bool,
}

impl Metrics {
    pub fn new(interval: Duration) -> Arc<Metrics> {
        Arc::new(Metrics {
            interval,
            started: Instant::now(),
            state: Mutex::new(Totals::default()),
        })
    }

    pub fn record(&self, pass: &Pass) {
        let mut totals = self.lock();
        if pass.ok {
            totals.runs_success += 1;
            totals.ready = true;
            totals.last_success_unix = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
        } else {
            totals.runs_failure += 1;
        }
        totals.changes_applied += pass.applied as u64;
        totals.changes_failed += pass.failed as u64;
        if let Some(groups) = pass.drifted_groups {
            totals.drifted_groups = groups as u64;
        }
        totals.last_duration = pass.duration.as_secs_f64();
        totals.last_finished = Some(Instant::now());
    }

    /// Whether the loop finished a run (or started) within [`HEALTHY_INTERVALS`] intervals of
    /// `now`.
    pub fn healthy(&self, now: Instant) -> bool {
        let since = self.lock().last_finished.unwrap_or(self.started);
        now.saturating_duration_since(since) <= self.interval * HEALTHY_INTERVALS
    }

    pub fn ready(&self) -> bool {
        self.lock().ready
    }

    /// The metrics in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let totals = self.lock();
        let mut out = String::new();
        let mut series = |name: &str, kind: &str, help: &str, samples: &[(&str, String)]| {
            let _ = writeln!(out, "# HELP timctl_reconcile_{name} {help}");
            let _ = writeln!(out, "# TYPE timctl_reconcile_{name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "timctl_reconcile_{name}{labels} {value}");
            }
        };
        series(
            "runs_total",
            "counter",
            "Reconcile runs by result (failure: an error or a failed change).",
            &[
                ("{result=\"success\"}", totals.runs_success.to_string()),
                ("{result=\"failure\"}", totals.runs_failure.to_string()),
            ],
        );
        series(
            "changes_applied_total",
            "counter",
            "Changes applied to groups.",
            &[("", totals.changes_applied.to_string())],
        );
        series(
            "changes_failed_total",
            "counter",
            "Changes that failed or were partly applied.",
            &[("", totals.changes_failed.to_string())],
        );
        series(
            "drifted_groups",
            "gauge",
            "Groups the last plan found different from the manifests.",
            &[("", totals.drifted_groups.to_string())],
        );
        series(
            "last_success_timestamp_seconds",
            "gauge",
            "Unix time the last successful run finished (0: none yet).",
            &[("", totals.last_success_unix.to_string())],
        );
        series(
            "last_run_duration_seconds",
            "gauge",
            "How long the last run took.",
            &[("", totals.last_duration.to_string())],
        );
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Totals> {
        // A panic while holding the lock leaves plain numbers behind; keep serving them.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Binds `addr` and serves the endpoints in the background; returns the bound address.
pub async fn serve(addr: &str, metrics: Arc<Metrics>) -> anyhow::Result<SocketAddr> {
    let app = Router::new()
        .route("/metrics", get(metrics_page))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(metrics);
    // The emulator's accept loop: a header-read timeout and a connection cap, so idle or slow
    // clients cannot starve the probes.
    Ok(crate::emulator::listener::serve_for_life(addr, "--metrics-listen", app).await?)
}

async fn metrics_page(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
}

async fn healthz(State(metrics): State<Arc<Metrics>>) -> (StatusCode, &'static str) {
    if metrics.healthy(Instant::now()) {
        (StatusCode::OK, "ok\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "no reconcile run finished within 3 intervals\n",
        )
    }
}

async fn readyz(State(metrics): State<Arc<Metrics>>) -> (StatusCode, &'static str) {
    if metrics.ready() {
        (StatusCode::OK, "ok\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "no reconcile run has succeeded yet\n",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(page: &str, series: &str) -> String {
        page.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {series} in\n{page}"))
            .to_owned()
    }

    #[test]
    fn a_pass_moves_the_counters_and_sets_the_gauges() {
        let metrics = Metrics::new(Duration::from_secs(60));
        let page = metrics.render();
        assert_eq!(
            value(&page, "timctl_reconcile_runs_total{result=\"success\"}"),
            "0"
        );
        assert_eq!(
            value(&page, "timctl_reconcile_last_success_timestamp_seconds"),
            "0"
        );
        metrics.record(&Pass {
            ok: true,
            drifted_groups: Some(2),
            applied: 2,
            failed: 0,
            duration: Duration::from_millis(1500),
        });
        metrics.record(&Pass {
            ok: false,
            drifted_groups: None,
            applied: 0,
            failed: 1,
            duration: Duration::from_millis(250),
        });
        let page = metrics.render();
        let one = |series: &str| value(&page, series);
        assert_eq!(one("timctl_reconcile_runs_total{result=\"success\"}"), "1");
        assert_eq!(one("timctl_reconcile_runs_total{result=\"failure\"}"), "1");
        assert_eq!(one("timctl_reconcile_changes_applied_total"), "2");
        assert_eq!(one("timctl_reconcile_changes_failed_total"), "1");
        assert_eq!(
            one("timctl_reconcile_drifted_groups"),
            "2",
            "a run without a plan keeps the last known count"
        );
        assert_eq!(one("timctl_reconcile_last_run_duration_seconds"), "0.25");
        let stamp: f64 = one("timctl_reconcile_last_success_timestamp_seconds")
            .parse()
            .unwrap();
        assert!(stamp > 1.5e9, "{stamp}");
        assert!(page.contains("# TYPE timctl_reconcile_runs_total counter\n"));
        assert!(page.contains("# TYPE timctl_reconcile_drifted_groups gauge\n"));
    }

    #[test]
    fn healthy_until_three_intervals_pass_without_a_finished_run() {
        let start = Instant::now();
        let metrics = Metrics::new(Duration::from_secs(10));
        assert!(metrics.healthy(start + Duration::from_secs(30)));
        assert!(!metrics.healthy(start + Duration::from_secs(31)));
        metrics.record(&Pass::default());
        let finished = Instant::now();
        assert!(metrics.healthy(finished + Duration::from_secs(29)));
        assert!(!metrics.healthy(finished + Duration::from_secs(31)));
    }

    #[test]
    fn ready_after_the_first_successful_run_only() {
        let metrics = Metrics::new(Duration::from_secs(10));
        assert!(!metrics.ready());
        metrics.record(&Pass::default());
        assert!(!metrics.ready(), "a failed run is not ready");
        metrics.record(&Pass {
            ok: true,
            ..Pass::default()
        });
        assert!(metrics.ready());
        metrics.record(&Pass::default());
        assert!(metrics.ready(), "stays ready after a later failure");
    }
}
