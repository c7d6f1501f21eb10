//! Command-line arguments (clap) and their resolution into settings.
//!
//! Raw arguments live here as clap structs; each subcommand resolves them once into the
//! settings its module needs, and `main` maps any error to an exit code in one place.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::emulator::{self, EmulatorError};
use crate::usersig;

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
    /// Serve an emulator of the TIM group REST API.
    Emulator(EmulatorArgs),
    /// Print a UserSig for calling the REST API by hand (TIM_SDKAPPID, TIM_SECRET_KEY).
    Usersig(UsersigArgs),
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
    fn config(&self) -> emulator::Config {
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

/// Failures of the subcommands, printed with their causes by [`main`].
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0} is not set")]
    MissingEnv(&'static str),
    #[error("{var} is not valid: {reason}")]
    InvalidEnv { var: &'static str, reason: String },
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Emulator(#[from] EmulatorError),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    let result = match cli.command {
        Command::Emulator(args) => run_emulator(&args),
        Command::Usersig(args) => print_usersig(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let mut text = format!("error: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                text.push_str(&format!("\n  caused by: {cause}"));
                source = cause.source();
            }
            eprintln!("{text}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(cli: &Cli) {
    let level = ["warn", "info", "debug", "trace"][usize::from(cli.verbose.min(3))];
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match cli.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

fn run_emulator(args: &EmulatorArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(emulator::run(args.config(), &args.listen))?;
    Ok(())
}

/// Prints a UserSig for TIM_SDKAPPID signed with TIM_SECRET_KEY (the key is never printed).
fn print_usersig(args: &UsersigArgs) -> Result<(), CliError> {
    let env = |var: &'static str| match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(value),
        Ok(_) | Err(std::env::VarError::NotPresent) => Err(CliError::MissingEnv(var)),
        Err(std::env::VarError::NotUnicode(_)) => Err(CliError::InvalidEnv {
            var,
            reason: "not UTF-8".to_owned(),
        }),
    };
    let sdkappid: u64 =
        env("TIM_SDKAPPID")?
            .trim()
            .parse()
            .map_err(|e: std::num::ParseIntError| CliError::InvalidEnv {
                var: "TIM_SDKAPPID",
                reason: e.to_string(),
            })?;
    let key = env("TIM_SECRET_KEY")?;
    println!(
        "{}",
        usersig::sign(
            &key,
            sdkappid,
            &args.identifier,
            usersig::unix_now(),
            args.expire.as_secs()
        )
    );
    Ok(())
}
