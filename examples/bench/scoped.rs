//! The pull request (`--pr-touch`) and prune (`--prune-pruned`) scenarios: the real timctl
//! binary run as a process, start to exit (manifest loading included), against the emulator.
//!
//! Pull request: every group is live and in sync; the base manifests are those, the head
//! manifests rename `--pr-touch` groups. Rows: loading the head and the baseline beside it in this process (what the
//! scoped plan's process loads), `timctl plan --baseline base --changed-only head`, and the full
//! `timctl plan head` of the same head.
//!
//! Prune: the app holds `--groups` groups no manifest declares and, under the prune prefix, one
//! kept and `--prune-pruned` that the head manifests no longer declare. Rows: the scoped plan
//! (prune from history: the removed groups read by id, no listing) and the full plan (which
//! lists the app's groups at 1 call/s, 10,000 ids a call).
//!
//! Each plan runs with `--detailed-exitcode` and must exit 2 (changes), and the emulator must
//! answer no call with an error.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use timctl::api::Client;
use timctl::emulator;

use crate::emulated::Emulated;
use crate::scenario::Scenario;
use crate::{Args, Meter};

/// The timctl binary: `--timctl`, or `timctl` in the target directory of this example
/// (`target/release/examples/bench` → `target/release/timctl`).
pub fn binary(args: &Args) -> anyhow::Result<PathBuf> {
    if let Some(path) = &args.timctl {
        return Ok(path.clone());
    }
    let exe = std::env::current_exe().context("cannot find the benchmark's executable")?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .context("the benchmark's executable is not in a target directory")?;
    Ok(dir.join(format!("timctl{}", std::env::consts::EXE_SUFFIX)))
}

/// The plans each scenario runs, as timctl arguments with their phase's name.
pub fn plans(args: &Args) -> Vec<(&'static str, Vec<&'static str>)> {
    let scoped = vec![
        "plan",
        "--baseline",
        "base",
        "--changed-only",
        "--detailed-exitcode",
        "head",
    ];
    let full = vec!["plan", "--detailed-exitcode", "head"];
    if args.prune_pruned > 0 {
        vec![("prune, scoped", scoped), ("prune, full", full)]
    } else {
        vec![("plan --changed-only", scoped), ("plan (full)", full)]
    }
}

/// Writes the scenario's base and head manifests into `dir/base` and `dir/head`.
pub fn write(args: &Args, scenario: &Scenario, dir: &Path) -> anyhow::Result<()> {
    let (base, head) = (dir.join("base"), dir.join("head"));
    std::fs::create_dir(&base).context("cannot make a temporary directory")?;
    std::fs::create_dir(&head).context("cannot make a temporary directory")?;
    // Each its own checkout, as CI checks out the base branch beside the head: a prune's root
    // is the nearest directory holding `.git`.
    for dir in [&base, &head] {
        std::fs::create_dir(dir.join(".git")).context("cannot make a temporary directory")?;
    }
    if args.prune_pruned > 0 {
        scenario
            .write_prune_manifests(&base, &head)
            .context("cannot write the manifests")?;
    } else {
        scenario
            .write_manifests(&base, crate::scenario::Variant::InSync)
            .context("cannot write the manifests")?;
        scenario
            .write_touched_manifests(&base, &head, args.pr_touch)
            .context("cannot write the manifests")?;
    }
    Ok(())
}

/// Runs the scenario; `Ok(false)` when it ran but something was wrong.
pub async fn run(args: &Args, scenario: &Scenario) -> anyhow::Result<bool> {
    let timctl = binary(args)?;
    if !timctl.is_file() {
        bail!(
            "{}: no timctl binary there: build it first (cargo build --release) or pass --timctl",
            timctl.display()
        );
    }
    let mut emulated = Emulated::start(args, scenario).await?;
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    write(args, scenario, dir.path())?;
    let client = Client::new(crate::client_config(args, &emulated.url())?)?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();

    if args.pr_touch > 0 {
        // What the scoped plan's process loads before any call: the head, then the baseline
        // beside it (its files that the head holds unchanged are taken, not parsed).
        let meter = Meter::start(&mut emulated)?;
        let (base, head) = (dir.path().join("base"), dir.path().join("head"));
        let limits = timctl::manifest::Limits::default();
        let loaded = timctl::manifest::load_manifests(std::slice::from_ref(&head), &limits)
            .map_err(|errors| anyhow::anyhow!("{errors}"))?;
        let baseline = timctl::manifest::load_baseline(&base, Some(&head), &loaded, &limits)
            .map_err(|errors| anyhow::anyhow!("{errors}"))?;
        rows.push(meter.finish(&mut emulated, "load head + baseline")?.0);
        drop((loaded, baseline));
    }

    for (phase, plan_args) in plans(args) {
        let meter = Meter::start(&mut emulated)?;
        let output = process(args, &timctl, dir.path(), &emulated.url(), &plan_args)?;
        let (mut row, calls) = meter.finish(&mut emulated, phase)?;
        // The CPU and memory are the child's, not this process's.
        row.cpu_seconds = None;
        row.peak_mb = None;
        rows.push(row.with_floor(crate::sequential_floor(&client, &calls)));
        if output.status.code() != Some(2) {
            problems.push(format!(
                "timctl {} exited with {} (2 expected: changes): {}",
                plan_args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        eprintln!("{phase}: {:?}", calls.per_command_answered(),);
    }

    let all = emulated.stats()?.calls;
    if all.errors() > 0 {
        problems.push(format!(
            "the emulator answered errors: {}",
            all.describe_errors()
        ));
    }
    let latency = humantime::format_duration(args.latency);
    if args.json {
        let json = serde_json::json!({
            "groups": args.groups,
            "pr_touch": args.pr_touch,
            "prune_pruned": args.prune_pruned,
            "latency_ms": args.latency.as_millis() as u64,
            "phases": rows,
            "emulator_calls": all.total(),
            "errors": all.errors(),
            "problems": problems,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        if args.prune_pruned > 0 {
            println!(
                "{} live groups undeclared, {} under the prune prefix removed by the pull request; latency {latency}\n",
                args.groups, args.prune_pruned
            );
        } else {
            println!(
                "{} groups in sync, {} renamed by the pull request; latency {latency}\n",
                args.groups, args.pr_touch
            );
        }
        print!("{}", crate::table(&rows));
        println!(
            "\nThe plans are the timctl binary ({}) as a process, start to exit",
            timctl.display()
        );
    }
    for problem in &problems {
        eprintln!("problem: {problem}");
    }
    emulated.shutdown().await?;
    Ok(problems.is_empty())
}

/// Runs `timctl ARGS` in `dir`, pointed at the emulator, and waits for it.
fn process(
    args: &Args,
    timctl: &Path,
    dir: &Path,
    url: &str,
    plan_args: &[&str],
) -> anyhow::Result<std::process::Output> {
    let mut command = std::process::Command::new(timctl);
    command
        .args(plan_args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("TIM_SDKAPPID", emulator::DEV_SDKAPPID.to_string())
        .env("TIM_SECRET_KEY", emulator::DEV_SECRET_KEY)
        .env("TIM_ENDPOINT", url)
        .stdin(Stdio::null());
    if let Some(rate) = args.rate {
        command.env("TIM_RATE", rate.to_string());
    }
    command
        .output()
        .with_context(|| format!("cannot run {}", timctl.display()))
}
