//! Command-line arguments (clap) and their resolution into settings.
//!
//! Raw arguments live here as clap structs, mirroring ripgrep's low/high split: the structs
//! below are what the user typed; [`crate::settings`] turns them, the `TIM_*` variables and an
//! optional `timctl.yaml` into one resolved `Settings`. [`crate::run`] executes a command and
//! maps its error to an exit code in one place.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::emulator;
use crate::model::GroupId;
use crate::render::Format;

#[derive(Debug, Parser)]
#[command(name = "timctl", version, about = "Keep Tencent Cloud Chat groups equal to what Git declares", long_about = None)]
pub struct Cli {
    /// More logging (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the manifests and report every problem; no network access.
    Validate(ValidateArgs),
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Make the live groups equal to the manifests (or to a saved plan).
    Apply(ApplyArgs),
    /// Write manifests for the groups that exist live.
    Export(ExportArgs),
    /// Plan and apply in a loop, to correct drift from a long-running deployment.
    Reconcile(ReconcileArgs),
    /// Print the JSON Schema of the manifest format.
    Schema,
    /// Serve an emulator of the TIM group REST API.
    Emulator(EmulatorArgs),
    /// Print a UserSig for calling the REST API by hand (TIM_SDKAPPID, TIM_SECRET_KEY).
    Usersig(UsersigArgs),
}

/// How to reach the TIM REST API. Every flag has an environment variable; with no sdkappid
/// anywhere, timctl runs against its built-in emulator.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectionArgs {
    /// The app's SDKAppID. Without one, the built-in emulator is used.
    #[arg(long, env = "TIM_SDKAPPID")]
    pub sdkappid: Option<u64>,
    /// The app admin account the calls are made as [default: administrator].
    #[arg(long, env = "TIM_ADMIN")]
    pub admin: Option<String>,
    /// A file holding the app's secret key (TIM_SECRET_KEY also works).
    #[arg(long)]
    pub secret_key_file: Option<PathBuf>,
    /// The service region: china, singapore, seoul, tokyo, frankfurt, silicon-valley, jakarta,
    /// mumbai.
    #[arg(long, env = "TIM_REGION")]
    pub region: Option<String>,
    /// A base URL instead of a region, e.g. http://127.0.0.1:8080 for an emulator.
    #[arg(long, env = "TIM_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Calls per second for the 200/s commands, for apps whose limits were raised.
    #[arg(long, env = "TIM_RATE")]
    pub rate: Option<f64>,
    /// Connection settings file [default: timctl.yaml in the current directory, if present].
    #[arg(long, env = "TIMCTL_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Which groups a run covers, and how.
#[derive(Debug, Clone, Default, Args)]
pub struct ScopeArgs {
    /// Only plan this group (repeatable).
    #[arg(long = "target", value_name = "ID")]
    pub targets: Vec<String>,
    /// Never plan this group (repeatable).
    #[arg(long = "exclude", value_name = "ID")]
    pub excludes: Vec<String>,
    /// Plan a type change as destroy + create (members and history are lost).
    #[arg(long)]
    pub allow_replace: bool,
}

impl ScopeArgs {
    pub fn options(&self) -> crate::plan::PlanOptions {
        let ids = |v: &[String]| v.iter().map(|s| GroupId::from(s.as_str())).collect();
        crate::plan::PlanOptions {
            allow_replace: self.allow_replace,
            targets: ids(&self.targets),
            excludes: ids(&self.excludes),
        }
    }
}

/// `timctl plan`.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// Manifest files or directories (read recursively for *.yaml, *.yml).
    #[arg(default_value = "groups")]
    pub paths: Vec<PathBuf>,
    /// Output format [default: text].
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Save the plan to this file for `timctl apply FILE`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit 2 when there are changes (0: none, 1: error).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// The base branch's manifests: label each change "this change" or "drift".
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `timctl apply`.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// Manifest files or directories, or one plan file saved by `timctl plan --out`.
    #[arg(default_value = "groups")]
    pub paths: Vec<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    #[command(flatten)]
    pub destroy: DestroyArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Limits on what one apply may destroy.
#[derive(Debug, Clone, Args)]
pub struct DestroyArgs {
    /// Go on even when the plan destroys more than the limits allow.
    #[arg(long)]
    pub force: bool,
    /// Most groups one apply may destroy without --force.
    #[arg(long, default_value_t = 5)]
    pub max_destroy: usize,
    /// Most members (all destroyed groups together) one apply may disband without --force.
    #[arg(long, default_value_t = 100)]
    pub max_destroy_members: u64,
}

impl DestroyArgs {
    pub fn limits(&self) -> crate::plan::DestroyLimits {
        crate::plan::DestroyLimits {
            max_groups: self.max_destroy,
            max_members: self.max_destroy_members,
        }
    }
}

/// `timctl export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Only groups whose id starts with this (repeatable).
    #[arg(long = "id-prefix", value_name = "PREFIX")]
    pub id_prefixes: Vec<String>,
    /// Only groups of this type (Private, Public, ChatRoom, AVChatRoom, Community).
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_group_type)]
    pub group_type: Option<crate::model::GroupType>,
    /// Write one manifest per group into this directory instead of printing one document.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

fn parse_group_type(s: &str) -> Result<crate::model::GroupType, String> {
    crate::model::GroupType::parse(s).ok_or_else(|| {
        format!(
            "unknown group type {s:?}: expected Private, Public, ChatRoom, AVChatRoom or Community"
        )
    })
}

/// `timctl reconcile`.
#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    /// Manifest files or directories, re-read on every run.
    #[arg(default_value = "groups")]
    pub paths: Vec<PathBuf>,
    /// Time between runs (a random ±10% is added), e.g. 10m, 1h.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub interval: Duration,
    /// Only plan and log; never apply.
    #[arg(long)]
    pub dry_run: bool,
    /// Run once and exit (for cron-style schedulers).
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub destroy: DestroyArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `timctl emulator`.
#[derive(Clone, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (port 0 picks a free one; the first stdout line names the address).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Keep state durable in this journal file; without it, state is in memory only.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// The SDKAppID the emulator answers to.
    #[arg(long, default_value_t = emulator::DEV_SDKAPPID)]
    pub sdkappid: u64,
    /// The app's secret key, to verify UserSigs (default: the public development key).
    #[arg(long, default_value = emulator::DEV_SECRET_KEY, hide_default_value = true)]
    pub secret_key: String,
    /// An app admin allowed to call (repeatable).
    #[arg(long = "admin", default_value = emulator::DEV_ADMIN)]
    pub admins: Vec<String>,
    /// Latency added to every call, e.g. 20ms.
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    pub latency: Duration,
    /// Fraction of calls answered ErrorCode 10002 without being applied.
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    pub fail_rate: f64,
    /// Fraction of calls answered HTTP 502 without being applied.
    #[arg(long = "fail-502-rate", default_value_t = 0.0, value_parser = fraction)]
    pub fail_502_rate: f64,
    /// Fraction of calls applied but answered HTTP 502 (a lost response).
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    pub drop_response_rate: f64,
    /// Add these groups at start-up unless the state already has them (YAML or JSON list).
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Multiply the documented rate limits (200/s, get_appid_group_list 1/s); 0 = off.
    #[arg(long, default_value_t = 1.0, value_parser = scale)]
    pub rate_limit_scale: f64,
}

impl std::fmt::Debug for EmulatorArgs {
    /// Never shows the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorArgs")
            .field("listen", &self.listen)
            .field("state", &self.state)
            .field("sdkappid", &self.sdkappid)
            .field("admins", &self.admins)
            .finish_non_exhaustive()
    }
}

impl EmulatorArgs {
    pub fn config(&self) -> emulator::Config {
        emulator::Config {
            sdkappid: self.sdkappid,
            secret_key: self.secret_key.clone(),
            admins: self.admins.clone(),
            state: self.state.clone(),
            seed: self.seed.clone(),
            faults: emulator::Faults {
                latency: self.latency,
                fail_rate: self.fail_rate,
                fail_502_rate: self.fail_502_rate,
                drop_response_rate: self.drop_response_rate,
            },
            rate_limit_scale: self.rate_limit_scale,
            // Nobody can read the log of a separate process.
            request_log_capacity: 0,
        }
    }
}

fn fraction(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|e| format!("{e}"))?;
    emulator::faults::check_rate("the rate", value)
}

fn scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(v) => Err(format!("the scale must be 0 or more, not {v}")),
        Err(e) => Err(e.to_string()),
    }
}

/// `timctl usersig`.
#[derive(Debug, Clone, Args)]
pub struct UsersigArgs {
    /// The account to sign for (an app admin for REST calls).
    #[arg(long, default_value = "administrator")]
    pub identifier: String,
    /// Validity, e.g. 180d, 24h.
    #[arg(long, default_value = "180d", value_parser = humantime::parse_duration)]
    pub expire: Duration,
}

/// `timctl validate`.
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// Manifest files or directories (walked for *.yaml and *.yml).
    #[arg(default_value = "groups")]
    pub paths: Vec<PathBuf>,
    /// Connection settings file, for its `limits` [default: timctl.yaml, if present].
    #[arg(long, env = "TIMCTL_CONFIG")]
    pub config: Option<PathBuf>,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::run::run(cli)
}
