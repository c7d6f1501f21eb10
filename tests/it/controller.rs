//! `timctl reconcile` as a watched, long-running controller: what its run records name, how it
//! exits for schedulers, and its metrics and health endpoints.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use timctl::emulator::GroupType;

use crate::support::{Run, World, seed_group};

const THREE_GROUPS: &str = "\
defaults:
  type: Public
groups:
  - id: ops-a
    name: A
  - id: ops-b
    name: B
    introduction: hello
  - id: ops-c
    name: C
";

/// A world where `ops-a` was renamed by hand and `ops-b` lacks its introduction; `ops-c` is in
/// sync.
fn drifted_world() -> World {
    let world = World::new();
    world.seed(vec![
        seed_group("ops-a", GroupType::Public, "A"),
        seed_group("ops-b", GroupType::Public, "B"),
        seed_group("ops-c", GroupType::Public, "C"),
    ]);
    world.write("groups/g.yaml", THREE_GROUPS);
    world.edit("ops-a", |g| g.name = "renamed by hand".into());
    world
}

/// The one `timctl::reconcile` record of a `--log-format json` run.
#[track_caller]
fn record(run: &Run) -> serde_json::Value {
    let records: Vec<serde_json::Value> = run
        .stderr
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|record: &serde_json::Value| record["target"] == "timctl::reconcile")
        .collect();
    assert_eq!(records.len(), 1, "{}", run.stderr);
    records.into_iter().next().unwrap()
}

#[test]
fn the_run_record_names_the_drifted_groups_and_fields_and_the_changed_groups() {
    let world = drifted_world();
    let dry = world.timctl(&[
        "--log-format",
        "json",
        "reconcile",
        "groups",
        "--once",
        "--dry-run",
    ]);
    dry.code(0);
    let dry = record(&dry);
    assert_eq!(dry["level"], "INFO", "{dry}");
    assert_eq!(
        dry["fields"]["drift"], "ops-a update name; ops-b update introduction",
        "{dry}"
    );
    assert_eq!(dry["fields"]["changed"], "", "a dry run changes nothing");

    let run = world.timctl(&["--log-format", "json", "reconcile", "groups", "--once"]);
    run.code(0);
    let run = record(&run);
    assert_eq!(run["level"], "INFO", "{run}");
    assert_eq!(
        run["fields"]["drift"], "ops-a update name; ops-b update introduction",
        "{run}"
    );
    assert_eq!(run["fields"]["changed"], "ops-a, ops-b", "{run}");
    assert_eq!(world.group("ops-a").unwrap().name, "A");

    world.edit("ops-c", |g| g.name = "renamed by hand".into());
    let text = world.timctl(&["reconcile", "groups", "--once"]);
    text.code(0)
        .stderr_has("drift=\"ops-c update name\"")
        .stderr_has("changed=\"ops-c\"");
}

#[test]
fn a_failed_run_is_logged_at_error_naming_the_file() {
    let world = World::new();
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: ops-a\n    type: Nope\n    name: A\n",
    );
    let run = world.timctl(&["--log-format", "json", "reconcile", "groups", "--once"]);
    run.code(1);
    let failed = record(&run);
    assert_eq!(failed["level"], "ERROR", "{failed}");
    let error = failed["fields"]["error"].as_str().unwrap();
    assert!(error.contains("g.yaml"), "{error}");
    assert!(!run.stderr.contains(timctl::emulator::DEV_SECRET_KEY));
}

#[test]
fn once_dry_run_detailed_exitcode_exits_2_on_drift_0_in_sync_1_on_error() {
    let world = drifted_world();
    let args = [
        "reconcile",
        "groups",
        "--once",
        "--dry-run",
        "--detailed-exitcode",
    ];
    world.timctl(&args).code(2);
    assert_eq!(
        world.group("ops-a").unwrap().name,
        "renamed by hand",
        "a dry run changes nothing"
    );
    world.timctl(&["reconcile", "groups", "--once"]).code(0);
    world.timctl(&args).code(0);
    world.write("groups/g.yaml", "groups: [\n");
    world.timctl(&args).code(1);
    world
        .timctl(&["reconcile", "groups", "--detailed-exitcode"])
        .code(1)
        .stderr_has("--once");
}

#[test]
fn an_interval_under_ten_seconds_is_refused_from_flag_env_and_file() {
    let world = World::new();
    world.write("groups/g.yaml", "groups: []\n");
    let message = "\"1s\" is not a duration from 10s to 30days";
    world
        .timctl(&["reconcile", "groups", "--once", "--interval", "1s"])
        .code(1)
        .stderr_has(&format!("--interval: {message}"));
    world
        .timctl_env(
            &["reconcile", "groups", "--once"],
            &[("TIMCTL_INTERVAL", "1s")],
        )
        .code(1)
        .stderr_has(&format!("TIMCTL_INTERVAL: {message}"));
    world.write("timctl.yaml", "interval: 1s\n");
    world
        .timctl(&["reconcile", "groups", "--once"])
        .code(1)
        .stderr_has(&format!("timctl.yaml: interval: {message}"));
    assert!(world.commands().is_empty(), "refused before any call");
}

/// A `timctl reconcile` in the background, its stderr lines on a channel; killed on drop.
struct Controller {
    child: Child,
    lines: Receiver<String>,
}

impl Controller {
    fn start(world: &World, args: &[&str]) -> Controller {
        let mut child = Command::new(env!("CARGO_BIN_EXE_timctl"))
            .args(args)
            .current_dir(world.dir.path())
            .env("TIM_SDKAPPID", world.emulator.sdkappid().to_string())
            .env("TIM_SECRET_KEY", timctl::emulator::DEV_SECRET_KEY)
            .env("TIM_ENDPOINT", world.emulator.base_url())
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Controller { child, lines }
    }

    /// The next stderr line containing `needle`, within 60 s.
    fn wait_for(&self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => continue,
                Err(error) => panic!("no line with {needle:?} within 60 s: {error}"),
            }
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(world: &World, url: &str) -> (u16, String) {
    world.rt.block_on(async {
        let answer = reqwest::get(url).await.expect("the metrics server answers");
        let status = answer.status().as_u16();
        (status, answer.text().await.unwrap())
    })
}

#[track_caller]
fn sample(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{page}"))
        .parse()
        .unwrap()
}

#[test]
fn metrics_and_health_are_served_while_reconcile_runs() {
    let world = drifted_world();
    let controller = Controller::start(
        &world,
        &[
            "--log-format",
            "json",
            "reconcile",
            "groups",
            "--interval",
            "10s",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    );
    let listening = controller.wait_for("metrics listening on http://");
    let base = listening
        .split("listening on ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    controller.wait_for("reconcile run finished");

    let (status, page) = get(&world, &format!("{base}/metrics"));
    assert_eq!(status, 200);
    let runs = "timctl_reconcile_runs_total{result=\"success\"}";
    assert_eq!(sample(&page, runs), 1.0, "{page}");
    assert_eq!(
        sample(&page, "timctl_reconcile_runs_total{result=\"failure\"}"),
        0.0
    );
    assert_eq!(sample(&page, "timctl_reconcile_changes_applied_total"), 2.0);
    assert_eq!(sample(&page, "timctl_reconcile_changes_failed_total"), 0.0);
    assert_eq!(sample(&page, "timctl_reconcile_drifted_groups"), 2.0);
    assert!(sample(&page, "timctl_reconcile_last_success_timestamp_seconds") > 1.5e9);
    assert!(sample(&page, "timctl_reconcile_last_run_duration_seconds") > 0.0);
    assert!(page.contains("# TYPE timctl_reconcile_runs_total counter"));
    assert!(!page.contains(timctl::emulator::DEV_SECRET_KEY));
    assert_eq!(get(&world, &format!("{base}/healthz")).0, 200);
    assert_eq!(get(&world, &format!("{base}/readyz")).0, 200);
    assert_eq!(get(&world, &format!("{base}/nothing")).0, 404);

    // Someone changes a group by hand; the next pass puts it back and the counters move.
    world.edit("ops-c", |g| g.name = "renamed by hand".into());
    controller.wait_for("reconcile run finished");
    let (_, page) = get(&world, &format!("{base}/metrics"));
    assert_eq!(sample(&page, runs), 2.0, "{page}");
    assert_eq!(sample(&page, "timctl_reconcile_changes_applied_total"), 3.0);
    assert_eq!(sample(&page, "timctl_reconcile_drifted_groups"), 1.0);
    assert_eq!(world.group("ops-c").unwrap().name, "C");
    assert_eq!(get(&world, &format!("{base}/healthz")).0, 200);
}

#[test]
fn an_unusable_metrics_address_stops_reconcile_before_any_call() {
    let world = World::new();
    world.write("groups/g.yaml", "groups: []\n");
    world
        .timctl(&[
            "reconcile",
            "groups",
            "--once",
            "--metrics-listen",
            "not-an-address",
        ])
        .code(1)
        .stderr_has("--metrics-listen: cannot listen on \"not-an-address\"");
    assert!(world.commands().is_empty());
}
