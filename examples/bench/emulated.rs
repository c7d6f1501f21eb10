//! The emulator the benchmark talks to: by default in a child process (this same program with
//! `--serve-emulator`), so that the CPU and memory measured in the parent are timctl's alone;
//! with `--in-process`, in this process like timctl's embedded mode.
//!
//! The child seeds the same scenario from the same arguments, prints its URL on the first line
//! of stdout, then answers each `stats` line on stdin with one JSON line (its call counts, CPU
//! and peak memory) and shuts down when stdin closes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use timctl::emulator::{self, Emulator, Faults};

use crate::Args;
use crate::measure::{self, CallCounter, Calls};
use crate::scenario::Scenario;

/// What the emulator's side reports.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Stats {
    pub calls: Calls,
    /// The emulator process's CPU seconds and peak memory, when it is a separate process.
    pub cpu_seconds: Option<f64>,
    pub peak_mb: Option<f64>,
}

pub enum Emulated {
    InProcess {
        emulator: Emulator,
        counter: CallCounter,
    },
    Child {
        url: String,
        child: Child,
        stdin: ChildStdin,
        stdout: BufReader<ChildStdout>,
    },
}

impl Emulated {
    pub async fn start(args: &Args, scenario: &Scenario) -> anyhow::Result<Emulated> {
        if args.in_process {
            let counter = CallCounter::install();
            let emulator = start_seeded(args, scenario).await?;
            return Ok(Emulated::InProcess { emulator, counter });
        }
        measure::install_warnings();
        let exe = std::env::current_exe().context("cannot find the benchmark's executable")?;
        let mut child = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .arg("--serve-emulator")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start the emulator process")?;
        let stdin = child.stdin.take().context("no stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().context("no stdout")?);
        let mut url = String::new();
        stdout.read_line(&mut url)?;
        if url.trim().is_empty() {
            bail!("the emulator process exited before it was ready");
        }
        Ok(Emulated::Child {
            url: url.trim().to_owned(),
            child,
            stdin,
            stdout,
        })
    }

    pub fn url(&self) -> String {
        match self {
            Emulated::InProcess { emulator, .. } => emulator.base_url(),
            Emulated::Child { url, .. } => url.clone(),
        }
    }

    pub fn stats(&mut self) -> anyhow::Result<Stats> {
        match self {
            Emulated::InProcess { counter, .. } => Ok(Stats {
                calls: counter.snapshot(),
                ..Stats::default()
            }),
            Emulated::Child { stdin, stdout, .. } => {
                stdin.write_all(b"stats\n")?;
                stdin.flush()?;
                let mut line = String::new();
                stdout.read_line(&mut line)?;
                serde_json::from_str(&line).context("the emulator process answered nonsense")
            }
        }
    }

    pub async fn shutdown(self) -> anyhow::Result<()> {
        match self {
            Emulated::InProcess { emulator, .. } => Ok(emulator.shutdown().await?),
            Emulated::Child {
                mut child, stdin, ..
            } => {
                drop(stdin);
                let status = child.wait()?;
                if !status.success() {
                    bail!("the emulator process ended with {status}");
                }
                Ok(())
            }
        }
    }
}

/// An emulator with the documented rate limits (scaled to `--rate`), the given latency, and the
/// scenario's live groups.
async fn start_seeded(args: &Args, scenario: &Scenario) -> anyhow::Result<Emulator> {
    let config = emulator::Config {
        faults: Faults {
            latency: args.latency,
            ..Faults::default()
        },
        rate_limit_scale: args.rate.map_or(1.0, |rate| rate / 200.0),
        // Nobody reads it, and at 100,000 groups it would hold megabytes of bodies.
        request_log_capacity: 0,
        ..emulator::Config::dev()
    };
    let emulator = Emulator::start(config, "127.0.0.1:0").await?;
    let seeding = Instant::now();
    let accounts = scenario.accounts_to_import();
    emulator
        .import_accounts(&accounts.iter().map(String::as_str).collect::<Vec<_>>())
        .await?;
    for chunk in scenario.seeds(5_000) {
        emulator.seed(chunk).await?;
    }
    eprintln!(
        "emulator: seeded {} live groups in {:.1} s",
        emulator.groups().len(),
        seeding.elapsed().as_secs_f64()
    );
    Ok(emulator)
}

/// `--serve-emulator`: the child's whole life.
pub async fn serve(args: &Args, scenario: &Scenario) -> anyhow::Result<()> {
    let counter = CallCounter::install();
    let emulator = start_seeded(args, scenario).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", emulator.base_url())?;
    out.flush()?;
    drop(out);
    let answering = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        for line in std::io::stdin().lock().lines() {
            if line?.trim() == "stats" {
                let stats = Stats {
                    calls: counter.snapshot(),
                    cpu_seconds: measure::process_cpu().map(|cpu| cpu.as_secs_f64()),
                    peak_mb: measure::peak_memory().map(crate::mb),
                };
                writeln!(out, "{}", serde_json::to_string(&stats)?)?;
                out.flush()?;
            }
        }
        Ok(())
    });
    answering.await??;
    emulator.shutdown().await?;
    Ok(())
}
