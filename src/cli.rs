//! Command-line arguments (clap) and their resolution into settings.
//!
//! Raw arguments live here as clap structs; each subcommand resolves them once into the
//! settings its module needs, and `main` maps any error to an exit code in one place.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

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
    /// Check the manifests and report every problem; no network access.
    Validate(ValidateArgs),
    /// Print the JSON Schema of the manifest format.
    Schema,
}

/// `timctl emulator`.
#[derive(Debug, Clone, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Keep state durable in this journal file; without it, state is in memory only.
    #[arg(long)]
    pub state: Option<PathBuf>,
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
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Emulator(_) | Command::Usersig(_) => ExitCode::SUCCESS,
        Command::Validate(args) => validate(&args),
        Command::Schema => {
            print!("{}", crate::manifest::schema_json());
            ExitCode::SUCCESS
        }
    }
}

/// Prints `ok: N groups in M files`, or every problem on stderr and exits 1.
fn validate(args: &ValidateArgs) -> ExitCode {
    let limits = crate::manifest::Limits::default();
    match crate::manifest::load_manifests(&args.paths, &limits) {
        Ok(m) => {
            let groups = count(m.desired.groups.len(), "group");
            println!("ok: {groups} in {}", count(m.files.len(), "file"));
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            let problems = count(errors.problems().len(), "problem");
            eprintln!("error: {problems} in the manifests");
            ExitCode::FAILURE
        }
    }
}

/// "1 group", "2 groups".
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
