//! Runs one command: resolves settings, connects, and wires the pure stages together.
//!
//! `run` is the binary's edge: it sets up logging and the runtime, prints an error chain once,
//! and maps every outcome to an exit code here and nowhere else (0 success or no changes,
//! 1 error, 2 changes present with `--detailed-exitcode`).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use clap::CommandFactory;

use crate::apply::{self, ApplyOptions, InFlight, Outcome, Report};
use crate::cli::{
    ApplyArgs, Cli, Command, ConnectionArgs, ExportArgs, LogFormat, PlanArgs, UsersigArgs,
    ValidateArgs,
};
use crate::export::{self, ExportFilter};
use crate::live::{self, Connection};
use crate::manifest;
use crate::model::Desired;
use crate::plan::{self, Plan, PlanOptions};
use crate::render::{self, Format, TextOptions};
use crate::saved::SavedPlan;
use crate::settings::{self, ProcessEnv, Settings};

/// Exit code for "changes present" with `--detailed-exitcode`.
const EXIT_CHANGES: u8 = 2;

/// Exit code of a run stopped by a second interrupt (128 + SIGINT).
pub const EXIT_ABORTED: i32 = 130;

pub fn run(cli: Cli) -> ExitCode {
    init_logging(cli.verbose, cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return fail(&anyhow::Error::new(error).context("cannot start the async runtime"));
        }
    };
    let verbose = cli.verbose;
    match runtime.block_on(dispatch(cli.command, verbose)) {
        Ok(code) => code,
        Err(error) => fail(&error),
    }
}

/// Prints the error chain once and returns exit code 1; a closed stdout (`timctl plan | head`)
/// ends quietly with [`crate::shell::EXIT_BROKEN_PIPE`].
fn fail(error: &anyhow::Error) -> ExitCode {
    if crate::shell::is_broken_pipe(error) {
        return ExitCode::from(crate::shell::EXIT_BROKEN_PIPE);
    }
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    ExitCode::FAILURE
}

fn init_logging(verbose: u8, format: LogFormat) {
    // The reconcile loop's one record per run is its output, so it is on by default.
    let default = match verbose {
        0 => "warn,timctl::reconcile=info",
        1 => "timctl=info",
        2 => "timctl=debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn dispatch(command: Command, verbose: u8) -> anyhow::Result<ExitCode> {
    match command {
        Command::Plan(args) => plan_command(args).await,
        Command::Apply(args) => apply_command(args, verbose).await,
        Command::Show(args) => show_command(&args),
        Command::Validate(args) => validate_command(&args),
        Command::Schema => {
            print(&manifest::schema_json())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export(args) => export_command(args).await,
        Command::Reconcile(args) => crate::reconcile::run(args).await,
        Command::Emulator(args) => {
            crate::emulator::run(args.config()?, &args.listen).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Usersig(args) => {
            print_usersig(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completion(args) => {
            print(&crate::shell::completion(Cli::command(), args.shell))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man(args) => {
            match &args.out {
                Some(dir) => crate::shell::write_man_pages(Cli::command(), dir)?,
                None => print(&crate::shell::man_page(Cli::command())?)?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

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
fn load_within(
    paths: &[PathBuf],
    settings: &Settings,
    excluded: &[PathBuf],
    allow_empty: bool,
) -> anyhow::Result<Desired> {
    let manifests = manifest::load_manifests(paths, &settings.limits)
        .map_err(|errors| anyhow::anyhow!("{errors}"))?;
    if !allow_empty {
        no_manifest(paths, &manifests.files)?;
    }
    manifest::prune_scope::check(&manifests.prune_files, &manifests.files, excluded)?;
    Ok(manifests.desired)
}

/// Everything `plan` and `apply` compute before they differ.
struct Planned {
    connection: Connection,
    plan: Plan,
    /// The key a saved plan is sealed with (the app's secret key), when there is one.
    seal_key: Option<String>,
}

async fn make_plan(
    paths: &[PathBuf],
    baseline: Option<&Path>,
    options: &PlanOptions,
    connection_args: &ConnectionArgs,
    allow_empty: bool,
) -> anyhow::Result<Planned> {
    let settings = Settings::resolve(connection_args, &ProcessEnv)?;
    // Manifests are loaded and validated before anything touches the network.
    let excluded: Vec<PathBuf> = baseline.map(Path::to_owned).into_iter().collect();
    let desired = load_within(paths, &settings, &excluded, allow_empty)?;
    // The baseline only labels changes; its prune destroys nothing, so it is not checked.
    let baseline = baseline
        .map(|dir| {
            manifest::load(&[dir.to_owned()], &settings.limits)
                .map_err(|errors| anyhow::anyhow!("{errors}"))
                .context("cannot load the --baseline manifests")
        })
        .transpose()?;
    let connection = Connection::open(&settings).await?;
    let mut plan = plan_against(&connection, &desired, baseline.as_ref(), options).await?;
    plan.target = Some(connection.target.clone());
    Ok(Planned {
        connection,
        plan,
        seal_key: live::seal_key(&settings),
    })
}

/// Reads the live state and plans; with a baseline, labels each change.
pub async fn plan_against(
    connection: &Connection,
    desired: &Desired,
    baseline: Option<&Desired>,
    options: &PlanOptions,
) -> anyhow::Result<Plan> {
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
    Ok(plan)
}

fn text_options() -> TextOptions {
    TextOptions {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()?;
    Ok(())
}

async fn plan_command(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let options = args.scope.options();
    let Planned {
        connection,
        plan,
        seal_key,
    } = make_plan(
        &args.paths,
        args.baseline.as_deref(),
        &options,
        &args.connection,
        args.allow_empty,
    )
    .await?;
    let rendered = match args.format {
        Format::Text => render::text(&plan, &text_options()),
        Format::Markdown => render::markdown(&plan, render::MARKDOWN_MAX_CHARS),
        Format::Json => render::json(&plan),
    };
    print(&rendered)?;
    if let Some(out) = &args.out {
        SavedPlan::new(connection.sdkappid, plan.clone(), seal_key.as_deref())
            .write(out)
            .with_context(|| format!("cannot save the plan to {}", out.display()))?;
        eprintln!(
            "Saved the plan to {}; apply it with: timctl apply {}",
            out.display(),
            out.display()
        );
    }
    connection.close().await;
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        ExitCode::from(EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    })
}

async fn apply_command(args: ApplyArgs, verbose: u8) -> anyhow::Result<ExitCode> {
    let limits = args.destroy.limits();
    let saved_path = SavedPlan::is_plan_file(&args.paths).then(|| args.paths[0].clone());
    let (connection, plan) = match &saved_path {
        Some(path) => {
            let scope = &args.scope;
            if !scope.targets.is_empty() || !scope.excludes.is_empty() || scope.allow_replace {
                bail!(
                    "--target, --exclude and --allow-replace shape a plan; a saved plan is applied exactly as it was saved (pass them to `timctl plan --out` instead)"
                );
            }
            let settings = Settings::resolve(&args.connection, &ProcessEnv)?;
            // Verified before anything is sent: an edited plan never reaches the service.
            let saved = SavedPlan::read(path, live::seal_key(&settings).as_deref())?;
            let connection = Connection::open(&settings).await?;
            saved.check_target(connection.sdkappid)?;
            plan::check_protected(&saved.plan)?;
            eprintln!(
                "Applying the saved plan {} ({}), made against {}.",
                path.display(),
                saved_when(saved.saved_at),
                saved
                    .plan
                    .target
                    .as_ref()
                    .map_or_else(|| format!("SDKAppID {}", saved.sdkappid), |t| t.to_string())
            );
            (connection, saved.plan)
        }
        None => {
            let options = args.scope.options();
            let Planned {
                connection, plan, ..
            } = make_plan(&args.paths, None, &options, &args.connection, true).await?;
            (connection, plan)
        }
    };
    print(&render::text(&plan, &text_options()))?;
    if plan.is_empty() {
        connection.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    plan::check_protected(&plan)?;
    if !args.destroy.force {
        match &saved_path {
            // Destroy limits against the groups as they are now, not as they were planned: a
            // group that grew since the plan is stopped as a fresh plan would stop it.
            Some(_) => {
                let current = apply::with_live_member_counts(&connection.client, &plan)
                    .await
                    .context("cannot re-read the groups the saved plan destroys")?;
                plan::check_limits(&current, limits)?;
            }
            None => plan::check_limits(&plan, limits)?,
        }
    }
    if saved_path.is_none() && !args.auto_approve {
        confirm()?;
    }
    let interrupt = cancel_on_signal();
    let options = ApplyOptions {
        check_guards: saved_path.is_some(),
        progress: std::io::stderr().is_terminal(),
        cancel: Some(interrupt.cancel.clone()),
        in_flight: interrupt.in_flight.clone(),
    };
    let report = apply::apply(&connection.client, &plan, &options).await;
    print(&summary(&report, verbose > 0))?;
    connection.close().await;
    Ok(if report.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// "saved 2026-12-01T10:00:00Z".
fn saved_when(saved_at: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(saved_at);
    format!("saved {}", humantime::format_rfc3339_seconds(time))
}

/// `timctl show PLANFILE`: renders a saved plan, checked as apply would check it, offline.
fn show_command(args: &crate::cli::ShowArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::resolve(&args.connection, &ProcessEnv)?;
    let saved = SavedPlan::read(&args.plan, live::seal_key(&settings).as_deref())?;
    let rendered = match args.format {
        Format::Text => render::text(&saved.plan, &text_options()),
        Format::Markdown => render::markdown(&saved.plan, render::MARKDOWN_MAX_CHARS),
        Format::Json => render::json(&saved.plan),
    };
    if args.format != Format::Json {
        eprintln!(
            "{}: a saved plan ({}) for SDKAppID {}",
            args.plan.display(),
            saved_when(saved.saved_at),
            saved.sdkappid
        );
    }
    print(&rendered)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints `ok: N groups in M files`, or every problem on stderr and exits 1. No network.
fn validate_command(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let limits = settings::limits_from(args.config.as_deref(), &ProcessEnv)?;
    match manifest::load_manifests(&args.paths, &limits) {
        Ok(m) => {
            if !args.allow_empty
                && let Err(empty) = no_manifest(&args.paths, &m.files)
            {
                eprintln!("error: {empty}");
                return Ok(ExitCode::FAILURE);
            }
            if let Err(partial) = manifest::prune_scope::check(&m.prune_files, &m.files, &[]) {
                eprintln!("error: {partial}");
                return Ok(ExitCode::FAILURE);
            }
            let groups = count(m.desired.groups.len(), "group");
            print(&format!("ok: {groups} in {}", count(m.files.len(), "file")))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("{errors}");
            let problems = count(errors.problems().len(), "problem");
            eprintln!("error: {problems} in the manifests");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// An error when `paths` held no manifest file: a mistyped or unmounted directory must not
/// plan (or validate) as "nothing declared".
fn no_manifest(paths: &[PathBuf], files: &[PathBuf]) -> anyhow::Result<()> {
    if files.is_empty() {
        bail!(
            "no manifest file (*.yaml, *.yml) in {}; pass --allow-empty if that is intended",
            shown_paths(paths)
        );
    }
    Ok(())
}

fn shown_paths(paths: &[std::path::PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    shown.join(", ")
}

/// "1 group", "2 groups".
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

async fn export_command(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::resolve(&args.connection, &ProcessEnv)?;
    let connection = Connection::open(&settings).await?;
    let filter = ExportFilter {
        id_prefixes: args.id_prefixes.clone(),
        group_type: args.group_type,
    };
    let ids: Vec<_> = connection
        .client
        .list_group_ids(filter.group_type)
        .await?
        .into_iter()
        .filter(|id| filter.matches(id.as_str()))
        .collect();
    let shown = std::io::stderr().is_terminal().then_some("read");
    let actual = live::read_groups(&connection.client, &ids, shown).await?;
    let form = if args.minimal {
        export::Form::Minimal
    } else {
        export::Form::Full
    };
    match &args.out {
        Some(dir) => {
            let written = export::write_dir(&actual, dir, &filter, form, args.force)
                .with_context(|| format!("cannot export to {}", dir.display()))?;
            eprintln!(
                "Exported {} to {}",
                count(written.files.len(), "group"),
                dir.display()
            );
            if !written.removed.is_empty() {
                eprintln!(
                    "Removed {} of groups that no longer exist: {}",
                    count(written.removed.len(), "file"),
                    shown_paths(&written.removed)
                );
            }
            if !written.left.is_empty() {
                eprintln!(
                    "warning: left {} an earlier export wrote for groups that no longer exist \
                     (or are now in another file); pass --force to remove them: {}",
                    count(written.left.len(), "file"),
                    shown_paths(&written.left)
                );
            }
        }
        None => print(&export::render(&actual, form))?,
    }
    connection.close().await;
    Ok(ExitCode::SUCCESS)
}

/// What the signal handler shares with the applier.
pub struct Interrupt {
    /// Raised by the first Ctrl-C or SIGTERM: no new change starts after it.
    pub cancel: Arc<AtomicBool>,
    /// The calls under way, named when a second signal aborts the run.
    pub in_flight: InFlight,
}

/// Watches for Ctrl-C and SIGTERM. The first raises the cancel flag: the applier starts no
/// new change and lets the changes under way finish, so every group stays as it was or as
/// planned. The second aborts at once with exit code 130, naming the calls that were in
/// flight (each may or may not have taken effect; the next plan shows which).
pub fn cancel_on_signal() -> Interrupt {
    let interrupt = Interrupt {
        cancel: Arc::new(AtomicBool::new(false)),
        in_flight: InFlight::default(),
    };
    let raised = Arc::clone(&interrupt.cancel);
    let in_flight = interrupt.in_flight.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!(
            "timctl: interrupted: finishing the changes under way, starting no new ones (interrupt again to abort at once)"
        );
        raised.store(true, Ordering::SeqCst);
        shutdown_signal().await;
        let calls = in_flight.describe();
        if calls.is_empty() {
            eprintln!("timctl: aborted; no call was in flight.");
        } else {
            eprintln!(
                "timctl: aborted with {} in flight; each may or may not have taken effect, and the next `timctl plan` shows what is left:",
                count(calls.len(), "call")
            );
            for call in calls {
                eprintln!("  {call}");
            }
        }
        std::process::exit(EXIT_ABORTED);
    });
    interrupt
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Prints a UserSig signed with the configured secret key, for the configured app and admin
/// (the same settings, from the same sources, as every other command). The key is never
/// printed; a UserSig-only configuration has nothing to sign with and says so.
fn print_usersig(args: &UsersigArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(&args.connection, &ProcessEnv)?;
    let (sdkappid, admin, key) = match &settings.target {
        crate::settings::Target::Remote {
            sdkappid,
            admin,
            credentials,
            ..
        } => match credentials {
            crate::api::Credentials::SecretKey(key) => (*sdkappid, admin.clone(), key.clone()),
            crate::api::Credentials::UserSig(_) => bail!(
                "cannot sign a UserSig: only a UserSig is configured (TIM_USERSIG or usersig in the settings file), not the app's secret key; give --secret-key-file or TIM_SECRET_KEY"
            ),
        },
        crate::settings::Target::Embedded { .. } => {
            eprintln!(
                "timctl: no sdkappid configured: signing for the built-in emulator (SDKAppID {}, its public development key)",
                crate::emulator::DEV_SDKAPPID
            );
            (
                crate::emulator::DEV_SDKAPPID,
                crate::emulator::DEV_ADMIN.to_owned(),
                crate::emulator::DEV_SECRET_KEY.to_owned(),
            )
        }
    };
    let identifier = args.identifier.clone().unwrap_or(admin);
    let now = crate::usersig::unix_now();
    print(&crate::usersig::sign(
        key.trim(),
        sdkappid,
        &identifier,
        now,
        args.expire.as_secs(),
    ))
}

/// Asks for "yes" on a terminal; refuses to prompt anywhere else.
fn confirm() -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to prompt for confirmation: stdin is not a terminal (pass --auto-approve to apply without asking)"
        );
    }
    eprint!("\nDo you want to apply these changes? Only 'yes' is accepted: ");
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        bail!("apply cancelled: nothing was changed");
    }
    Ok(())
}

/// How many skipped changes the summary lists one by one without `-v`.
const SKIPPED_SHOWN: usize = 5;

/// The closing summary of an apply. Skipped changes are counted, and listed one by one only up
/// to [`SKIPPED_SHOWN`] unless `verbose`: an interrupted apply of 4,000 changes must not bury
/// its failures.
pub fn summary(report: &Report, verbose: bool) -> String {
    let applied = report.count(|o| matches!(o, Outcome::Applied));
    let already = report.count(|o| matches!(o, Outcome::AlreadyApplied));
    let failed = report.count(|o| matches!(o, Outcome::Failed { .. }));
    let partial = report.count(|o| matches!(o, Outcome::Partial { .. }));
    let skipped = report.count(|o| matches!(o, Outcome::Skipped { .. }));
    let mut text = String::new();
    let mut skipped_shown = 0;
    let mut already_shown = 0;
    for result in &report.results {
        match &result.outcome {
            Outcome::Applied => {}
            Outcome::AlreadyApplied => {
                if verbose || already_shown < SKIPPED_SHOWN {
                    text.push_str(&format!(
                        "already applied: {} {}: the group already is as the plan leaves it\n",
                        result.label, result.id
                    ));
                    already_shown += 1;
                }
            }
            Outcome::Failed { code, message } => {
                let code = code.map(|c| format!(" [{c}]")).unwrap_or_default();
                text.push_str(&format!(
                    "failed: {} {}{code}: {message}\n",
                    result.label, result.id
                ));
            }
            Outcome::Partial {
                done,
                left,
                code,
                message,
            } => {
                let code = code.map(|c| format!(" [{c}]")).unwrap_or_default();
                text.push_str(&format!(
                    "partially applied: {} {}: {} done, {} still to do{code}: {message} (the next plan shows the step left)\n",
                    result.label,
                    result.id,
                    done.join(", "),
                    left.join(", ")
                ));
            }
            Outcome::Skipped { reason } => {
                if verbose || skipped_shown < SKIPPED_SHOWN {
                    text.push_str(&format!(
                        "skipped: {} {}: {reason}\n",
                        result.label, result.id
                    ));
                    skipped_shown += 1;
                }
            }
        }
    }
    if already > already_shown {
        text.push_str(&format!(
            "... and {} more already applied (run with -v to list them all)\n",
            already - already_shown
        ));
    }
    if skipped > skipped_shown {
        text.push_str(&format!(
            "... and {} more skipped (run with -v to list them all)\n",
            skipped - skipped_shown
        ));
    }
    for unmet in &report.unmet {
        text.push_str(&format!(
            "not in effect: {}: {} read back different from the plan\n",
            unmet.id,
            unmet.fields.join(", ")
        ));
    }
    if let Some(error) = &report.verify_error {
        text.push_str(&format!(
            "could not read the groups back to verify: {error}\n"
        ));
    }
    let mut counts = format!("{applied} applied");
    if already > 0 {
        counts.push_str(&format!(", {already} already applied"));
    }
    counts.push_str(&format!(", {failed} failed"));
    if partial > 0 {
        counts.push_str(&format!(", {partial} partially applied"));
    }
    counts.push_str(&format!(", {skipped} skipped"));
    text.push_str(&format!(
        "Apply {}: {counts}.",
        if report.failed() {
            "finished with errors"
        } else {
            "complete"
        }
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::ChangeResult;
    use crate::model::GroupId;
    use crate::plan::Phase;

    fn skipped(n: usize) -> Report {
        Report {
            results: (0..n)
                .map(|i| ChangeResult {
                    id: GroupId::from(format!("g{i:02}")),
                    phase: Phase::Update,
                    label: "update",
                    outcome: Outcome::Skipped {
                        reason: "interrupted before this change started".to_owned(),
                    },
                })
                .collect(),
            ..Report::default()
        }
    }

    #[test]
    fn the_summary_counts_skipped_changes_and_lists_the_first_few_unless_verbose() {
        let text = summary(&skipped(12), false);
        assert_eq!(text.matches("skipped: update").count(), SKIPPED_SHOWN);
        assert!(text.contains("skipped: update g04: interrupted"), "{text}");
        assert!(!text.contains("g05"), "{text}");
        assert!(
            text.contains("... and 7 more skipped (run with -v to list them all)"),
            "{text}"
        );
        assert!(text.ends_with("0 applied, 0 failed, 12 skipped."), "{text}");
        let all = summary(&skipped(12), true);
        assert_eq!(all.matches("skipped: update").count(), 12);
        assert!(!all.contains("more skipped"));
        assert!(!summary(&skipped(3), false).contains("more skipped"));
    }
}
