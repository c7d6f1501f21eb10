//! Command-line arguments (clap): what the user typed, and nothing else.
//!
//! Mirroring ripgrep's low/high split, the structs below only take the shape of the command
//! line. Connection flags leave here as raw [`crate::settings::Flags`], which
//! [`crate::settings`] resolves with the `TIM_*` variables and an optional `timctl.yaml`;
//! `commands` runs a command and maps its outcome to an exit code in one place. This
//! module depends on neither.

use std::path::PathBuf;
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
    /// Render a plan saved by `timctl plan --out`, checked as apply would check it; no network.
    Show(ShowArgs),
    /// Write manifests for the groups that exist live.
    Export(ExportArgs),
    /// Plan and apply in a loop, to correct drift from a long-running deployment.
    Reconcile(ReconcileArgs),
    /// Print the JSON Schema of the manifest format.
    Schema,
    /// Serve an emulator of the TIM group REST API.
    Emulator(EmulatorArgs),
    /// Print a UserSig for calling the REST API by hand, from the same settings as plan.
    Usersig(UsersigArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completion(CompletionArgs),
    /// Print the man page, or write one page per command into a directory.
    Man(ManArgs),
}

/// `timctl completion`.
#[derive(Debug, Clone, Args)]
pub struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `timctl man`.
#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Write timctl.1 and one timctl-COMMAND.1 per command into this directory instead of
    /// printing the one page of timctl.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// How to reach the TIM REST API. Every flag has an environment variable, and a key in
/// `timctl.yaml`; flags beat the environment, which beats the file. Values are parsed in
/// [`crate::settings`], which names the source of a bad one. With no connection setting
/// anywhere, timctl runs against its built-in emulator.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectionArgs {
    /// The app's SDKAppID [env: TIM_SDKAPPID]. Without any connection setting, the built-in
    /// emulator is used.
    #[arg(long, value_name = "ID")]
    pub sdkappid: Option<String>,
    /// The app admin account the calls are made as [env: TIM_ADMIN] [default: administrator].
    #[arg(long, value_name = "ACCOUNT")]
    pub admin: Option<String>,
    /// A file holding the app's secret key (or TIM_SECRET_KEY; or TIM_USERSIG).
    #[arg(long, value_name = "FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// The service region [env: TIM_REGION]: china, singapore, seoul, tokyo, frankfurt,
    /// silicon-valley, jakarta, mumbai (any case), or Tencent's names such as ap-singapore.
    #[arg(long)]
    pub region: Option<String>,
    /// A base URL instead of a region [env: TIM_ENDPOINT], e.g. http://127.0.0.1:8080 for an
    /// emulator.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Calls per second for the 200/s commands, for apps whose limits were raised
    /// [env: TIM_RATE].
    #[arg(long, value_name = "CALLS")]
    pub rate: Option<String>,
    /// Per-request timeout, e.g. 10s [env: TIM_TIMEOUT] [default: 10s].
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Settings file [env: TIMCTL_CONFIG] [default: timctl.yaml in the current directory, if
    /// present].
    #[arg(long, value_name = "FILE")]
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

impl ConnectionArgs {
    /// The flags as typed, for [`crate::settings`] to resolve.
    pub fn flags(&self) -> crate::settings::Flags {
        crate::settings::Flags {
            sdkappid: self.sdkappid.clone(),
            admin: self.admin.clone(),
            secret_key_file: self.secret_key_file.clone(),
            region: self.region.clone(),
            endpoint: self.endpoint.clone(),
            rate: self.rate.clone(),
            timeout: self.timeout.clone(),
            config: self.config.clone(),
        }
    }
}

impl ScopeArgs {
    pub fn options(&self) -> crate::plan::PlanOptions {
        let ids = |v: &[String]| v.iter().map(|s| GroupId::from(s.as_str())).collect();
        crate::plan::PlanOptions {
            allow_replace: self.allow_replace,
            targets: ids(&self.targets),
            excludes: ids(&self.excludes),
            ..Default::default()
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
    /// Also write the plan to this file, for `timctl apply FILE` (the plan is printed as
    /// well).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Succeed when the paths hold no manifest file.
    #[arg(long)]
    pub allow_empty: bool,
    /// Exit 2 when there are changes (0: none, 1: error).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// The base branch's manifests: label each change "this change" or "drift".
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: read and plan only the groups whose declaration differs from the
    /// baseline, and those removed from it (a pull request's plan costs what it changes;
    /// drift of the other groups is not checked, and the plan says so). A group removed
    /// under a prune prefix is destroyed without listing the app's groups.
    #[arg(long, requires = "baseline")]
    pub changed_only: bool,
    /// With `--format markdown`: show every account id as a short stable hash
    /// (`acct-1a2b3c4d`, per app) for a pull-request comment; counts stay. Refused with the
    /// other formats, which always show full ids.
    #[arg(long)]
    pub redact_accounts: bool,
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
    /// Output format [default: text]; json prints one document of every change's outcome on
    /// stdout, and the plan and summary on stderr.
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::render::ApplyFormat,
    #[command(flatten)]
    pub destroy: DestroyArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `timctl show`.
#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// A plan file saved by `timctl plan --out`.
    pub plan: PathBuf,
    /// Output format [default: text].
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// With `--format markdown`: show every account id as a short stable hash
    /// (`acct-1a2b3c4d`, per app) for a pull-request comment; counts stay. Refused with the
    /// other formats, which always show full ids.
    #[arg(long)]
    pub redact_accounts: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Limits on what one apply may do without `--force`.
#[derive(Debug, Clone, Args)]
pub struct DestroyArgs {
    /// Go on even when the plan goes past the limits below (never past `protect: true`).
    #[arg(long)]
    pub force: bool,
    /// Most groups one apply may destroy without --force.
    #[arg(long, default_value_t = 5, value_name = "GROUPS")]
    pub max_destroy: usize,
    /// Most members (all destroyed groups together) one apply may disband without --force.
    #[arg(long, default_value_t = 100, value_name = "MEMBERS")]
    pub max_destroy_members: u64,
    /// Most existing declared groups one apply may update or transfer without --force, in
    /// percent, once more than 10 exist.
    #[arg(long, default_value_t = 30, value_name = "PERCENT", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_update_percent: u32,
    /// Most people (all groups together) one apply may remove from groups without --force.
    #[arg(long, default_value_t = 20, value_name = "PEOPLE")]
    pub max_remove_members: usize,
    /// Most promotions to Admin and demotions from it (all groups together) one apply may
    /// make without --force.
    #[arg(long, default_value_t = 20, value_name = "PEOPLE")]
    pub max_role_changes: usize,
}

impl DestroyArgs {
    pub fn limits(&self) -> crate::plan::SafetyLimits {
        crate::plan::SafetyLimits {
            max_destroy: self.max_destroy,
            max_destroy_members: self.max_destroy_members,
            max_update_percent: self.max_update_percent,
            max_remove_members: self.max_remove_members,
            max_role_changes: self.max_role_changes,
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
    /// Only files an earlier export wrote (its first line starts "# Written by `timctl
    /// export`") are overwritten.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With --out: also overwrite files export did not write, and remove the files of groups
    /// that no longer exist (only files export wrote).
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Leave out empty fields (empty texts, no custom data, no admins), which are then
    /// unmanaged: a later change of one is not drift.
    #[arg(long)]
    pub minimal: bool,
    /// Also write each group's plain members (`members`, not the owner or admins) with
    /// `members_exclusive: true`, so a member added later is drift that apply removes. Reads
    /// every member list, Private groups' too.
    #[arg(long)]
    pub members: bool,
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
    /// Time between runs (a random ±10% is added), e.g. 10m, 1h [env: TIMCTL_INTERVAL]
    /// [default: 10m].
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
    /// Only plan and log; never apply.
    #[arg(long)]
    pub dry_run: bool,
    /// Run once and exit (for cron-style schedulers).
    #[arg(long)]
    pub once: bool,
    /// With --once: exit 2 when the run found drift (0: none, 1: error).
    #[arg(long, requires = "once")]
    pub detailed_exitcode: bool,
    /// Serve Prometheus metrics at /metrics and probes at /healthz and /readyz, e.g.
    /// 0.0.0.0:9100.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Serve the TIM webhook (third-party callback) endpoint on ADDR, e.g. 0.0.0.0:8443 (any
    /// path): each group event re-reads and reconciles just that group; the full pass every
    /// --interval stays. Signed callbacks need the console's token in TIM_CALLBACK_TOKEN or
    /// --webhook-token-file.
    #[arg(long, value_name = "ADDR")]
    pub webhook: Option<String>,
    /// A file holding the callback authentication token (else TIM_CALLBACK_TOKEN).
    #[arg(long, value_name = "FILE", requires = "webhook")]
    pub webhook_token_file: Option<PathBuf>,
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
    /// The app's secret key, to verify UserSigs. Visible to every user of the machine (`ps`):
    /// prefer --secret-key-file or TIM_SECRET_KEY. Without any of the three: the public
    /// development key.
    #[arg(long, conflicts_with = "secret_key_file")]
    pub secret_key: Option<String>,
    /// A file holding the app's secret key (surrounding whitespace ignored); else
    /// TIM_SECRET_KEY.
    #[arg(long, value_name = "FILE")]
    pub secret_key_file: Option<PathBuf>,
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
    /// Add these groups at start-up unless the state already has them (YAML or JSON list, or
    /// a map with `accounts`, `custom_keys` and `groups`); seeded owners and members are
    /// imported as accounts.
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// A group custom-field key configured for the app (repeatable); AppDefinedData with any
    /// other key is refused with 10004, as the cloud does for a key not set up in the console.
    #[arg(long = "custom-key", value_name = "KEY")]
    pub custom_keys: Vec<String>,
    /// Multiply the documented rate limits (200/s, get_appid_group_list 1/s); 0 = off.
    #[arg(long, default_value_t = 1.0, value_parser = scale)]
    pub rate_limit_scale: f64,
    /// Open connections at most; at the cap a new connection closes the oldest idle one.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// How long a client may take to send a request's headers, and a keep-alive connection
    /// may stay silent, e.g. 30s.
    #[arg(long, default_value = "30s", value_parser = header_timeout)]
    pub header_read_timeout: Duration,
    /// Send the documented third-party callbacks (Group.CallbackAfter…) to this URL after each
    /// durable change made through the API or the console.
    #[arg(long, value_name = "URL")]
    pub callback_url: Option<String>,
    /// The callbacks' authentication token: each callback carries `Sign` and `RequestTime`.
    /// Visible to every user of the machine (`ps`): prefer TIM_CALLBACK_TOKEN.
    #[arg(long, env = "TIM_CALLBACK_TOKEN", hide_env_values = true)]
    pub callback_token: Option<String>,
    /// Retry a callback this many times after a timeout (2 s); the service's default is 0.
    #[arg(long, default_value_t = 0, requires = "callback_url", value_parser = clap::value_parser!(u32).range(0..=10))]
    pub callback_retries: u32,
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
    /// The key: --secret-key, else --secret-key-file, else TIM_SECRET_KEY, else the
    /// development key.
    fn secret_key(&self) -> anyhow::Result<String> {
        if let Some(key) = &self.secret_key {
            return Ok(key.clone());
        }
        if let Some(path) = &self.secret_key_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!(e).context(format!(
                    "cannot read the secret key file {}",
                    path.display()
                ))
            })?;
            return Ok(text.trim().to_owned());
        }
        match std::env::var("TIM_SECRET_KEY") {
            Ok(key) if !key.is_empty() => Ok(key),
            _ => Ok(emulator::DEV_SECRET_KEY.to_owned()),
        }
    }

    pub fn config(&self) -> anyhow::Result<emulator::Config> {
        Ok(emulator::Config {
            sdkappid: self.sdkappid,
            secret_key: self.secret_key()?,
            admins: self.admins.clone(),
            state: self.state.clone(),
            // A second `timctl emulator` on one file is a mistake: say so at once.
            lock_wait: std::time::Duration::ZERO,
            journal_fail_after: None,
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
            custom_keys: emulator::CustomKeys::only(self.custom_keys.iter().cloned()),
            auto_import_accounts: false,
            connections: emulator::ConnectionLimits {
                max_connections: self.max_connections as usize,
                header_read_timeout: self.header_read_timeout,
            },
            callback: self
                .callback_url
                .as_ref()
                .map(|url| emulator::CallbackConfig {
                    token: self.callback_token.clone().filter(|t| !t.is_empty()),
                    retries: self.callback_retries,
                    ..emulator::CallbackConfig::new(url)
                }),
        })
    }
}

fn header_timeout(text: &str) -> Result<Duration, String> {
    let value = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if value < Duration::from_millis(100) || value > Duration::from_secs(3600) {
        return Err("must be between 100ms and 1h".to_owned());
    }
    Ok(value)
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
    /// The account to sign for [default: the admin the settings name, as every command
    /// calls as].
    #[arg(long, value_name = "ACCOUNT")]
    pub identifier: Option<String>,
    /// Validity, e.g. 180d, 24h.
    #[arg(long, default_value = "180d", value_parser = humantime::parse_duration)]
    pub expire: Duration,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `timctl validate`.
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// Manifest files or directories (walked for *.yaml and *.yml).
    #[arg(default_value = "groups")]
    pub paths: Vec<PathBuf>,
    /// Settings file, for its `limits`. [env: TIMCTL_CONFIG] [default: timctl.yaml, if
    /// present]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Succeed when the paths hold no manifest file.
    #[arg(long)]
    pub allow_empty: bool,
}
