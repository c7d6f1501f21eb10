//! How close timctl runs to the rate-limit floor: the shortest time the documented call
//! frequencies allow (200 calls/s per command; `get_appid_group_list` 1 call/s).
//!
//! ```text
//! cargo run --release --example bench -- --groups 10000 --latency 20ms
//! ```
//!
//! It starts the emulator with the documented rate limits and the given latency (in a child
//! process, or with `--in-process` in this one), seeds it with N groups (10 % drifted from the
//! manifests, 1 % missing, a few changing owner, 5 to destroy), writes the manifests to a
//! temporary directory, and runs the real code path, timing each phase: load the manifests
//! (`manifest::load`), read the live state (`live::read_actual`), plan (`plan::plan`), apply
//! (`apply::apply`, with its read-back), and a second read + plan, which must be empty.
//!
//! For each phase it prints the calls the emulator answered, the seconds taken, the floor
//! (calls / rate of their command, summed over the steps that must follow each other; within
//! an apply phase, whose commands run side by side, the slowest command), their ratio, the CPU
//! seconds and the peak resident memory of timctl's process. The planner's CPU is its thread's
//! alone. It fails if the plan is not the one the scenario implies, if anything failed, if the
//! second plan is not empty, or if the emulator answered any call with an error (a rate-limit
//! error above all), but `get_group_info`'s "larger than 1 MB", which timctl answers by
//! splitting the batch (reported on its own; floors count the halves).
//!
//! `--declared-members N` runs the members scenario instead: every group live with its fields
//! in sync, declaring N people in `admins` and `members` (`members_exclusive`,
//! `members_silent`). It first reads and plans the people in sync (the plan must be empty),
//! then manifests in which `--member-drift` (5 %) of each group's people differ: accounts
//! added, members removed, roles changed; the people gates (`--max-remove-members`,
//! `--max-role-changes`) are lifted as `--force` would.

mod emulated;
mod measure;
mod scenario;
mod scoped;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use serde::Serialize;

use timctl::api::{Client, ClientConfig, Command, Credentials, Endpoint, GROUP_INFO_BATCH};
use timctl::apply::{self, ApplyOptions};
use timctl::emulator;
use timctl::live;
use timctl::manifest::{self, Limits};
use timctl::model::{Desired, GroupId};
use timctl::plan::{self, Action, Phase, Plan, PlanOptions, SafetyLimits};

use emulated::Emulated;
use measure::Calls;
use scenario::{Expected, Scenario, Variant};

/// Benchmark timctl's plan and apply against the emulator with latency and rate limits.
#[derive(Debug, Parser)]
struct Args {
    /// Groups the manifests declare.
    #[arg(long, default_value_t = 10_000)]
    groups: usize,
    /// Latency the emulator adds to every request.
    #[arg(long, default_value = "20ms", value_parser = humantime::parse_duration)]
    latency: Duration,
    /// Fraction of live groups that differ from their manifest in one field.
    #[arg(long, default_value_t = 0.1)]
    drift: f64,
    /// Fraction of declared groups that do not exist yet.
    #[arg(long, default_value_t = 0.01)]
    new: f64,
    /// Fraction of groups whose owner changes.
    #[arg(long, default_value_t = 0.001)]
    transfers: f64,
    /// Groups declared `ensure: absent` (at most 5 keeps within the default destroy limits).
    #[arg(long, default_value_t = 5)]
    destroys: usize,
    /// Fraction of new groups declared muted (each takes a modify right after its import).
    #[arg(long, default_value_t = 0.25)]
    muted: f64,
    /// Members of each live group besides its owner (undeclared).
    #[arg(long, default_value_t = 2)]
    members: usize,
    /// The members scenario: every group live with its fields in sync, declaring this many
    /// people in `admins` and `members` (exclusive, silent); measured in sync, then with
    /// `--member-drift` of them differing. 0: the groups scenario.
    #[arg(long, default_value_t = 0, conflicts_with_all = ["drift", "new", "transfers", "destroys", "muted", "members"])]
    declared_members: usize,
    /// Fraction of each group's declared people that differ in the members scenario: two fifths
    /// added, two fifths removed, the rest changing role.
    #[arg(long, default_value_t = 0.05)]
    member_drift: f64,
    /// Client calls per second for the 200/s commands (timctl's `--rate`); the emulator's
    /// limits are scaled to match.
    #[arg(long)]
    rate: Option<f64>,
    /// The pull request scenario: every group live and in sync, the base manifests those, the
    /// head manifests with this many groups renamed; runs the timctl binary's
    /// `plan --baseline base --changed-only head` and its full `plan head`, as processes.
    #[arg(long, default_value_t = 0, conflicts_with_all = ["declared_members", "prune_pruned"])]
    pr_touch: usize,
    /// The prune scenario: the app holds `--groups` undeclared groups and, under a prune
    /// prefix, one kept and this many that the pull request removes from the manifests; runs
    /// the binary's `plan --baseline base --changed-only head` (prune from history) and
    /// `plan head` (which lists the app).
    #[arg(long, default_value_t = 0, conflicts_with = "declared_members")]
    prune_pruned: usize,
    /// Declare the app's custom fields (team, tier, legacy), as `timctl.yaml custom_fields`
    /// would: `get_group_info` is sent with a ResponseFilter, without member lists.
    #[arg(long)]
    custom_fields: bool,
    /// The timctl binary the pull request and prune scenarios run (default: `timctl` in the
    /// target directory the benchmark was built in; `cargo build --release` first).
    #[arg(long)]
    timctl: Option<PathBuf>,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Run the emulator in this process (CPU and memory then include it) instead of a child
    /// process.
    #[arg(long)]
    in_process: bool,
    /// Internal: be the emulator process.
    #[arg(long, hide = true)]
    serve_emulator: bool,
}

/// One line of the results.
#[derive(Debug, Serialize)]
struct Row {
    phase: &'static str,
    calls: u64,
    seconds: f64,
    floor_seconds: Option<f64>,
    ratio: Option<f64>,
    cpu_seconds: Option<f64>,
    peak_mb: Option<f64>,
}

/// Takes the measurements at the start of a phase.
struct Meter {
    started: Instant,
    cpu: Option<Duration>,
    calls: Calls,
}

impl Meter {
    fn start(emulated: &mut Emulated) -> anyhow::Result<Meter> {
        let calls = emulated.stats()?.calls;
        measure::reset_peak_memory();
        Ok(Meter {
            started: Instant::now(),
            cpu: measure::process_cpu(),
            calls,
        })
    }

    fn finish(self, emulated: &mut Emulated, phase: &'static str) -> anyhow::Result<(Row, Calls)> {
        let seconds = self.started.elapsed().as_secs_f64();
        let cpu = match (self.cpu, measure::process_cpu()) {
            (Some(before), Some(after)) => Some((after - before).as_secs_f64()),
            _ => None,
        };
        let peak_mb = measure::peak_memory().map(mb);
        let calls = emulated.stats()?.calls.since(&self.calls);
        let row = Row {
            phase,
            calls: calls.total(),
            seconds,
            floor_seconds: None,
            ratio: None,
            cpu_seconds: cpu,
            peak_mb,
        };
        Ok((row, calls))
    }
}

impl Row {
    fn with_floor(mut self, floor: f64) -> Row {
        self.floor_seconds = Some(floor);
        self.ratio = (floor > 0.0).then(|| self.seconds / floor);
        self
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.serve_emulator {
        return match emulated::serve(&args, &scenario(&args)).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("emulator process: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn scenario(args: &Args) -> Scenario {
    let in_sync = Scenario::in_sync(args.groups);
    if args.pr_touch > 0 || args.prune_pruned > 0 {
        // The pull request and prune scenarios: every group live and in sync; the prune
        // scenario's groups are not declared, and have no members but their owner.
        return Scenario {
            members: if args.prune_pruned > 0 {
                0
            } else {
                args.members
            },
            pruned: args.prune_pruned,
            ..in_sync
        };
    }
    if args.declared_members > 0 {
        // The members scenario: the groups' fields are all in sync.
        return Scenario {
            declared_members: args.declared_members,
            member_drift: args.member_drift,
            ..in_sync
        };
    }
    Scenario {
        drift: args.drift,
        new: args.new,
        transfers: args.transfers,
        destroys: args.destroys,
        muted: args.muted,
        members: args.members,
        ..in_sync
    }
}

/// Runs the benchmark; `Ok(false)` when it ran but something was wrong.
async fn run(args: Args) -> anyhow::Result<bool> {
    if args.pr_touch > 0 || args.prune_pruned > 0 {
        return scoped::run(&args, &scenario(&args)).await;
    }
    let scenario = scenario(&args);
    let expected = scenario.expected();
    let progress = std::io::stderr().is_terminal();
    let mut emulated = Emulated::start(&args, &scenario).await?;
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    // The manifests the plan and apply read; in the members scenario, the drifted ones.
    let manifests = dir.path().join("manifests");
    std::fs::create_dir(&manifests).context("cannot make a temporary directory")?;
    let files = scenario
        .write_manifests(&manifests, Variant::Drifted)
        .context("cannot write the manifests")?;
    eprintln!("wrote {files} manifest files");
    // The members scenario reads the people in sync first, from manifests of their own.
    let in_sync = if scenario.declared_members > 0 {
        let in_sync = dir.path().join("in-sync");
        std::fs::create_dir(&in_sync).context("cannot make a temporary directory")?;
        scenario
            .write_manifests(&in_sync, Variant::InSync)
            .context("cannot write the manifests")?;
        Some(in_sync)
    } else {
        None
    };
    let memory_at_start = measure::memory();

    let client = Client::new(client_config(&args, &emulated.url())?)?;
    let options = PlanOptions::default();
    let paths = [manifests];
    let mut rows = Vec::new();
    let mut problems = Vec::new();

    if let Some(in_sync) = &in_sync {
        let meter = Meter::start(&mut emulated)?;
        let desired = load(std::slice::from_ref(in_sync))?;
        rows.push(meter.finish(&mut emulated, "load in sync")?.0);
        let meter = Meter::start(&mut emulated)?;
        let actual = live::read_actual(&client, &desired, None, &options, progress).await?;
        let planned =
            plan::plan(&desired, &actual, &options).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (row, calls) = meter.finish(&mut emulated, "plan in sync")?;
        rows.push(row.with_floor(sequential_floor(&client, &calls)));
        if !planned.changes.is_empty() {
            problems.push(format!(
                "the plan of the people in sync is not empty: {} changes",
                planned.changes.len()
            ));
        }
    }

    // Load.
    let meter = Meter::start(&mut emulated)?;
    let desired = load(&paths)?;
    rows.push(meter.finish(&mut emulated, "load")?.0);

    // Read.
    let meter = Meter::start(&mut emulated)?;
    let actual = live::read_actual(&client, &desired, None, &options, progress).await?;
    let (row, calls) = meter.finish(&mut emulated, "read")?;
    rows.push(row.with_floor(sequential_floor(&client, &calls)));

    // Plan: pure and synchronous, so the thread's CPU time is the planner's alone.
    let meter = Meter::start(&mut emulated)?;
    let thread_cpu = measure::thread_cpu();
    let planned = plan::plan(&desired, &actual, &options);
    let planner_cpu = match (thread_cpu, measure::thread_cpu()) {
        (Some(before), Some(after)) => Some((after - before).as_secs_f64()),
        _ => None,
    };
    let plan = planned.map_err(|errors| anyhow::anyhow!("{errors}"))?;
    let mut row = meter.finish(&mut emulated, "plan")?.0;
    row.cpu_seconds = planner_cpu.or(row.cpu_seconds);
    rows.push(row);
    // What `timctl apply` holds while applying: the plan alone.
    drop(actual);
    drop(desired);
    let found = planned_counts(&plan);
    if found != expected {
        problems.push(format!(
            "the plan has {found:?}, the scenario expected {expected:?}"
        ));
    }
    // The scenario updates most of the groups on purpose: the update threshold is lifted, as
    // `--max-update-percent 100` would, and so are the people gates (the members scenario
    // removes and re-roles people in every group), as `--force` would; the destroy limits stay.
    plan::check_limits(
        &plan,
        SafetyLimits {
            max_update_percent: 100,
            max_remove_members: usize::MAX,
            max_role_changes: usize::MAX,
            ..SafetyLimits::default()
        },
    )?;

    // Apply.
    let meter = Meter::start(&mut emulated)?;
    let report = apply::apply(
        &client,
        &plan,
        &ApplyOptions {
            progress,
            ..ApplyOptions::default()
        },
    )
    .await;
    let (row, calls) = meter.finish(&mut emulated, "apply")?;
    let (mut floor, mut planned_calls) =
        apply_floor(&client, &plan, scenario.readback_member_pages());
    // Each answer too large splits a read-back batch in two: one call more that answers.
    let split = calls.too_large();
    if split > 0 {
        *planned_calls
            .entry(measure::TOO_LARGE.0.to_owned())
            .or_insert(0) += split;
        floor += split as f64 / client.rate_limit(Command::GetGroupInfo);
    }
    if calls.per_command_answered() != planned_calls {
        problems.push(format!(
            "apply made {:?}, the plan implies {planned_calls:?}",
            calls.per_command_answered()
        ));
    }
    rows.push(row.with_floor(floor));
    if report.failed() {
        problems.push(timctl::render::apply_summary(&report, true));
    }

    drop(plan);

    // A second run must find nothing to do.
    let desired = load(&paths)?;
    let meter = Meter::start(&mut emulated)?;
    let actual = live::read_actual(&client, &desired, None, &options, progress).await?;
    let again = plan::plan(&desired, &actual, &options).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (row, calls) = meter.finish(&mut emulated, "re-plan")?;
    rows.push(row.with_floor(sequential_floor(&client, &calls)));
    if !again.changes.is_empty() {
        problems.push(format!(
            "the second plan is not empty: {} changes",
            again.changes.len()
        ));
    }

    let emulator_stats = emulated.stats()?;
    let all = &emulator_stats.calls;
    if all.errors() > 0 {
        problems.push(format!(
            "the emulator answered errors: {}",
            all.describe_errors()
        ));
    }
    let rate = args.rate.unwrap_or(200.0);
    if args.json {
        let json = serde_json::json!({
            "groups": args.groups,
            "latency_ms": args.latency.as_millis() as u64,
            "rate": rate,
            "declared_members": args.declared_members,
            "custom_fields": args.custom_fields,
            "expected": {
                "creates": expected.creates, "updates": expected.updates,
                "transfers": expected.transfers, "destroys": expected.destroys,
                "members": expected.members, "member_adds": expected.member_adds,
                "member_removes": expected.member_removes,
                "role_changes": expected.role_changes,
            },
            "phases": rows,
            "planner_cpu_seconds": planner_cpu,
            "in_process_emulator": args.in_process,
            "memory_at_start_mb": memory_at_start.map(mb),
            "emulator_cpu_seconds": emulator_stats.cpu_seconds,
            "emulator_peak_mb": emulator_stats.peak_mb,
            "emulator_calls": all.total(),
            "rate_limited": all.rate_limited(),
            "errors": all.errors(),
            "too_large_split": all.too_large(),
            "problems": problems,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", headline(&args, &scenario, &expected, rate));
        print!("{}", table(&rows));
        println!();
        if let Some(cpu) = planner_cpu {
            println!("planner CPU alone: {cpu:.3} s");
        }
        let at_start = memory_at_start.map_or(0.0, mb);
        if args.in_process {
            println!(
                "CPU and memory are the whole process's, the emulator's included (resident before loading, groups seeded: {at_start:.0} MB)"
            );
        } else {
            println!(
                "CPU and memory are timctl's alone (resident before loading: {at_start:.0} MB); the emulator process used {:.1} CPU s, peak {:.0} MB",
                emulator_stats.cpu_seconds.unwrap_or(0.0),
                emulator_stats.peak_mb.unwrap_or(0.0)
            );
        }
        println!(
            "emulator answered {} calls: {} rate-limited, {} errors",
            all.total(),
            all.rate_limited(),
            all.errors()
        );
        if all.too_large() > 0 {
            println!(
                "of them {} get_group_info answers over 1 MB (member lists), each batch split in halves and asked again; the floors count the halves, not these",
                all.too_large()
            );
        }
    }
    for problem in &problems {
        eprintln!("problem: {problem}");
    }
    emulated.shutdown().await?;
    Ok(problems.is_empty())
}

/// The client timctl would configure: `--rate`, and with `--custom-fields` the scenario's
/// custom keys (the manifests' two and the key some drifted groups hold live).
fn client_config(args: &Args, url: &str) -> anyhow::Result<ClientConfig> {
    Ok(ClientConfig {
        rate: args.rate,
        custom_keys: args
            .custom_fields
            .then(|| CUSTOM_FIELDS.iter().map(|&key| key.to_owned()).collect()),
        ..ClientConfig::new(
            Endpoint::url(url)?,
            emulator::DEV_SDKAPPID,
            emulator::DEV_ADMIN,
            Credentials::SecretKey(emulator::DEV_SECRET_KEY.to_owned()),
        )
    })
}

/// The app's custom fields with `--custom-fields`.
const CUSTOM_FIELDS: [&str; 3] = ["team", "tier", "legacy"];

fn load(paths: &[PathBuf]) -> anyhow::Result<Desired> {
    manifest::load(paths, &Limits::default()).map_err(|errors| anyhow::anyhow!("{errors}"))
}

fn command(name: &str) -> Option<Command> {
    Command::ALL.into_iter().find(|c| c.as_str() == name)
}

/// The floor of steps that run one after the other, one command each (a read: list, groups,
/// roles): the sum of calls / rate.
fn sequential_floor(client: &Client, calls: &Calls) -> f64 {
    calls
        .per_command_answered()
        .iter()
        .map(|(name, &count)| {
            let rate = command(name).map_or(200.0, |c| client.rate_limit(c));
            count as f64 / rate
        })
        .sum()
}

/// The floor of an apply: for each phase (they run one after the other) the slowest command in
/// it, plus the read-back (the groups, then the `member_pages` of the member lists changed).
/// Also the calls the plan implies, per command.
fn apply_floor(client: &Client, plan: &Plan, member_pages: u64) -> (f64, BTreeMap<String, u64>) {
    let mut total = BTreeMap::new();
    let mut floor = 0.0;
    for phase in Phase::ALL {
        let mut calls: BTreeMap<&str, u64> = BTreeMap::new();
        for change in plan.changes.iter().filter(|c| c.action.phase() == phase) {
            for name in change.action.commands() {
                *calls.entry(name).or_insert(0) += 1;
                *total.entry(name.to_owned()).or_insert(0) += 1;
            }
        }
        floor += calls
            .iter()
            .map(|(name, &count)| {
                let rate = command(name).map_or(200.0, |c| client.rate_limit(c));
                count as f64 / rate
            })
            .fold(0.0, f64::max);
    }
    let touched: std::collections::BTreeSet<&GroupId> =
        plan.changes.iter().map(|change| &change.id).collect();
    let reads = touched.len().div_ceil(GROUP_INFO_BATCH) as u64;
    if reads > 0 {
        total.insert(Command::GetGroupInfo.as_str().to_owned(), reads);
        floor += reads as f64 / client.rate_limit(Command::GetGroupInfo);
    }
    if member_pages > 0 {
        let command = Command::GetGroupMemberInfo;
        total.insert(command.as_str().to_owned(), member_pages);
        floor += member_pages as f64 / client.rate_limit(command);
    }
    (floor, total)
}

fn planned_counts(plan: &Plan) -> Expected {
    let mut counts = Expected::default();
    for change in &plan.changes {
        match change.action.phase() {
            Phase::Create => counts.creates += 1,
            Phase::Update => counts.updates += 1,
            Phase::Members => {
                counts.members += 1;
                if let Action::Members(members) = &change.action {
                    counts.member_adds += members.add.len();
                    counts.member_removes += members.remove.len();
                    counts.role_changes += members.roles.len();
                }
            }
            Phase::Transfer => counts.transfers += 1,
            Phase::Destroy => counts.destroys += 1,
        }
    }
    counts
}

/// What was measured, in one line and a blank one.
fn headline(args: &Args, scenario: &Scenario, expected: &Expected, rate: f64) -> String {
    let latency = humantime::format_duration(args.latency);
    if args.declared_members > 0 {
        let drift = scenario.people_drift();
        format!(
            "{} groups, each declaring {} people ({} admins) besides its owner; drifted: {} groups, {} added, {} removed, {} role changes; latency {latency}; {rate} calls/s\n\n",
            args.groups,
            args.declared_members,
            drift.admins,
            expected.members,
            expected.member_adds,
            expected.member_removes,
            expected.role_changes,
        )
    } else {
        let filter = if args.custom_fields {
            "; custom_fields declared (get_group_info filtered)"
        } else {
            ""
        };
        format!(
            "{} groups: {} drifted, {} new, {} new owners, {} absent; {} live members each besides the owner; latency {latency}; {rate} calls/s{filter}\n\n",
            args.groups,
            expected.updates,
            expected.creates,
            expected.transfers,
            expected.destroys,
            args.members,
        )
    }
}

/// The rows as a Markdown table.
fn table(rows: &[Row]) -> String {
    let opt = |value: Option<f64>, digits: usize| match value {
        Some(v) => format!("{v:.digits$}"),
        None => "-".to_owned(),
    };
    let mut text = String::from(
        "| phase | calls | seconds | floor (s) | ratio | CPU (s) | peak memory (MB) |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        text.push_str(&format!(
            "| {} | {} | {:.2} | {} | {} | {} | {} |\n",
            row.phase,
            row.calls,
            row.seconds,
            opt(row.floor_seconds, 2),
            opt(row.ratio, 3),
            opt(row.cpu_seconds, 2),
            opt(row.peak_mb, 0),
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The members scenario end to end, small: the in-sync plan is empty, the drifted plan
    /// holds the scenario's adds, removals and role changes, the apply makes exactly the
    /// member calls the plan implies (its read-back two member pages a group: 211 members),
    /// and the second plan is empty. `run` reports any of these as a problem. 40 groups of 211
    /// members overflow one `get_group_info` answer (1 MB): the split read-back batches are
    /// counted as the plan's calls plus one for each answer too large.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_members_scenario_plans_applies_and_converges() {
        let args = Args::parse_from([
            "bench",
            "--groups",
            "40",
            "--declared-members",
            "210",
            "--latency",
            "0ms",
            "--in-process",
            "--json",
        ]);
        let scenario = scenario(&args);
        let expected = scenario.expected();
        assert_eq!(
            (
                expected.members,
                expected.member_adds,
                expected.member_removes,
                expected.role_changes
            ),
            (40, 40 * 4, 40 * 4, 40 * 3)
        );
        assert_eq!(scenario.readback_member_pages(), 80);
        assert!(run(args).await.expect("the benchmark runs"));
    }

    /// `--pr-touch 10`: every group live and in sync (the groups scenario's drift ignored), the
    /// head manifests the base ones with exactly 10 groups renamed, each its own checkout.
    #[test]
    fn pr_touch_writes_a_head_with_that_many_groups_changed() {
        let args = Args::parse_from(["bench", "--groups", "2500", "--pr-touch", "10"]);
        let scenario = scenario(&args);
        assert!((0..2500).all(|i| scenario.kind(i) == scenario::Kind::InSync));
        let dir = tempfile::tempdir().unwrap();
        scoped::write(&args, &scenario, dir.path()).unwrap();
        let base = load(&[dir.path().join("base")]).unwrap();
        let head = load(&[dir.path().join("head")]).unwrap();
        assert_eq!((base.groups.len(), head.groups.len()), (2500, 2500));
        let changed: Vec<&GroupId> = base
            .groups
            .iter()
            .filter(|(id, group)| head.groups[*id].group != group.group)
            .map(|(id, _)| id)
            .collect();
        assert_eq!(changed.len(), 10);
        assert_eq!(changed[0].as_str(), "bench-0000000");
        assert!(dir.path().join("head/.git").is_dir());
        let (phase, scoped) = &scoped::plans(&args)[0];
        assert_eq!(*phase, "plan --changed-only");
        assert!(scoped.contains(&"--changed-only") && scoped.contains(&"base"));
    }

    /// `--prune-pruned 3`: the app holds the `--groups` undeclared groups and 4 under the prune
    /// prefix; the base declares those 4, the head only the kept one, both with the prune.
    #[test]
    fn prune_pruned_seeds_the_prefix_and_the_head_removes_them() {
        let args = Args::parse_from(["bench", "--groups", "10", "--prune-pruned", "3"]);
        let scenario = scenario(&args);
        let seeded: Vec<String> = scenario.seeds(5_000).flatten().map(|g| g.id).collect();
        assert_eq!(seeded.len(), 14);
        assert_eq!(
            seeded[10..],
            ["pr-keep", "pr-0000", "pr-0001", "pr-0002"].map(String::from)
        );
        assert!(
            scenario
                .seeds(5_000)
                .flatten()
                .all(|g| g.members.is_empty())
        );
        let dir = tempfile::tempdir().unwrap();
        scoped::write(&args, &scenario, dir.path()).unwrap();
        let base = load(&[dir.path().join("base")]).unwrap();
        let head = load(&[dir.path().join("head")]).unwrap();
        assert_eq!((base.groups.len(), head.groups.len()), (4, 1));
        assert!(head.groups.keys().any(|id| id.as_str() == "pr-keep"));
        assert_eq!(head.prune_prefixes, base.prune_prefixes);
        assert!(head.prune_prefixes.contains("pr-"));
        assert_eq!(scoped::plans(&args)[1].0, "prune, full");
    }

    /// `--custom-fields` configures the client with the app's keys (a ResponseFilter); without
    /// it, no filter.
    #[test]
    fn custom_fields_configures_the_response_filter_keys() {
        let with = Args::parse_from(["bench", "--members", "1000", "--custom-fields"]);
        let config = client_config(&with, "http://127.0.0.1:1").unwrap();
        assert_eq!(
            config.custom_keys,
            Some(vec![
                "team".to_owned(),
                "tier".to_owned(),
                "legacy".to_owned()
            ])
        );
        let without = Args::parse_from(["bench", "--members", "1000"]);
        let config = client_config(&without, "http://127.0.0.1:1").unwrap();
        assert_eq!(config.custom_keys, None);
    }

    #[test]
    fn people_flags_conflict_with_the_groups_scenario() {
        let parsed = Args::try_parse_from(["bench", "--declared-members", "200", "--drift", "0.2"]);
        assert!(parsed.is_err());
    }

    #[test]
    fn five_percent_of_200_people_is_4_adds_4_removals_and_2_role_changes() {
        let scenario = Scenario {
            declared_members: 200,
            member_drift: 0.05,
            ..Scenario::in_sync(3)
        };
        let d = scenario.people_drift();
        assert_eq!(
            (d.admins, d.adds, d.removes, d.promotes, d.demotes),
            (5, 4, 4, 1, 1)
        );
        assert_eq!(scenario.expected().members, 3);
    }
}
