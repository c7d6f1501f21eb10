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

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Emulator(_) | Command::Usersig(_) => ExitCode::SUCCESS,
    }
}
