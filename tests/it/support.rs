//! A small builder that runs the real `timctl` binary against an emulator on 127.0.0.1:0.
//!
//! The emulator runs in this test process (so a test can seed it, edit groups out of band, read
//! its request log and inject faults); the binary reaches it over HTTP with a real UserSig
//! signed from the emulator's key, exactly as it would reach Tencent Cloud.
//!
//! As a real app must, every World first imports the accounts its tests name as owners and
//! members ([`CAST`]) through the emulator's `multiaccount_import` over HTTP; a test that needs
//! others calls [`World::import_accounts`]. Seeding a group imports its people itself.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use timctl::emulator::{self, Config, Emulator, Faults, SeedGroup};

/// The people the tests use as owners and members, imported into every World's app.
pub const CAST: &[&str] = &[
    "alice",
    "bob",
    "carol",
    "dave",
    "mallory",
    "zed",
    "ops_bot",
    "host_bot",
    "devrel_bot",
];

/// Imports `accounts` into the emulator's app through `multiaccount_import` over real HTTP,
/// as the first admin, 100 a call; panics unless every one was imported. Faults are held off
/// for the call (a test's injected failures are for the code under test).
pub async fn import_accounts(emulator: &Emulator, accounts: &[&str]) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let faults = emulator.faults();
    emulator.set_faults(Faults::default());
    for chunk in accounts.chunks(100) {
        let body = serde_json::json!({ "Accounts": chunk });
        let reply: serde_json::Value = http
            .post(emulator.command_url("multiaccount_import"))
            .body(body.to_string())
            .send()
            .await
            .expect("multiaccount_import answers")
            .json()
            .await
            .expect("a JSON answer");
        assert_eq!(reply["ErrorCode"], 0, "multiaccount_import failed: {reply}");
        assert_eq!(reply["FailAccounts"], serde_json::json!([]), "{reply}");
    }
    emulator.set_faults(faults);
}

/// One emulator, one scratch directory, and a way to run `timctl` against them.
pub struct World {
    pub rt: tokio::runtime::Runtime,
    pub emulator: Emulator,
    pub dir: tempfile::TempDir,
}

/// What one run of the binary printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the output when it is not the expected one.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Run {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

impl World {
    pub fn new() -> World {
        World::with(Config::dev())
    }

    pub fn with(config: Config) -> World {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let emulator = rt
            .block_on(Emulator::start(config, "127.0.0.1:0"))
            .expect("emulator starts");
        rt.block_on(import_accounts(&emulator, CAST));
        emulator.clear_request_log();
        World {
            rt,
            emulator,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a file under the scratch directory (parents created).
    pub fn write(&self, rel: &str, text: &str) -> &World {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    /// Runs `timctl ARGS` in the scratch directory, pointed at the emulator.
    pub fn timctl(&self, args: &[&str]) -> Run {
        self.timctl_env(args, &[])
    }

    pub fn timctl_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let sdkappid = self.emulator.sdkappid().to_string();
        let url = self.emulator.base_url();
        let mut all = vec![
            ("TIM_SDKAPPID", sdkappid.as_str()),
            ("TIM_SECRET_KEY", emulator::DEV_SECRET_KEY),
            ("TIM_ENDPOINT", url.as_str()),
        ];
        all.extend_from_slice(env);
        self.bare(args, &all)
    }

    /// Runs `timctl ARGS` in the scratch directory with only `env` (and `PATH`, `NO_COLOR`):
    /// what a user with a fresh shell and no connection settings gets.
    pub fn bare(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_timctl"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let output = command.output().expect("timctl runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Starts `timctl ARGS` in the scratch directory, pointed at the emulator, with its output
    /// piped: for tests that signal it while it runs.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.spawn_env(args, &[])
    }

    /// [`World::spawn`] with more environment variables.
    pub fn spawn_env(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_timctl"))
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TIM_SDKAPPID", self.emulator.sdkappid().to_string())
            .env("TIM_SECRET_KEY", emulator::DEV_SECRET_KEY)
            .env("TIM_ENDPOINT", self.emulator.base_url())
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("timctl starts")
    }

    /// Imports more accounts through the account API (see [`import_accounts`]).
    pub fn import_accounts(&self, accounts: &[&str]) {
        self.rt.block_on(import_accounts(&self.emulator, accounts));
    }

    pub fn seed(&self, groups: Vec<SeedGroup>) {
        self.rt.block_on(self.emulator.seed(groups)).expect("seed");
    }

    /// Changes a group as someone would in the console.
    pub fn edit(&self, id: &str, edit: impl FnOnce(&mut SeedGroup)) {
        self.rt
            .block_on(self.emulator.edit_group(id, edit))
            .expect("out-of-band edit");
    }

    pub fn group(&self, id: &str) -> Option<SeedGroup> {
        self.emulator.group(id)
    }

    /// Commands the emulator has seen since the last clear, in order.
    pub fn commands(&self) -> Vec<String> {
        self.emulator
            .request_log()
            .into_iter()
            .map(|r| r.command)
            .collect()
    }

    /// Write commands the emulator applied since the last clear.
    pub fn writes(&self) -> Vec<String> {
        self.emulator
            .request_log()
            .into_iter()
            .filter(|r| r.applied)
            .map(|r| format!("{} {}", r.command, r.group_ids.join(",")))
            .collect()
    }

    pub fn clear_log(&self) {
        self.emulator.clear_request_log();
    }
}

/// A seed group owned by `owner` with these members and roles (the owner is added as Owner).
pub fn owned_group(
    id: &str,
    kind: emulator::GroupType,
    owner: &str,
    members: &[(&str, emulator::Role)],
) -> SeedGroup {
    let mut group = seed_group(id, kind, id);
    group.owner = Some(owner.to_owned());
    group.members = members
        .iter()
        .map(|(account, role)| emulator::SeedMember {
            account: (*account).to_owned(),
            role: *role,
            join_time: None,
        })
        .collect();
    group
}

/// A seed group with the fields every group needs.
pub fn seed_group(id: &str, kind: emulator::GroupType, name: &str) -> SeedGroup {
    serde_json::from_value(serde_json::json!({
        "id": id,
        "type": kind,
        "name": name,
    }))
    .expect("a minimal seed group")
}

/// Every file below `dir`, for scanning outputs.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// A child process killed when the test ends, however it ends.
pub struct Killed(pub std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the real `timctl emulator` on a free port of 127.0.0.1, rate limits off, with these
/// extra arguments; returns it (killed when dropped) and its base URL, read from its first
/// stdout line.
pub fn spawn_emulator(args: &[&std::ffi::OsStr]) -> (Killed, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_timctl"))
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit-scale",
            "0",
        ])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("timctl emulator runs");
    let stdout = child.stdout.take().expect("piped stdout");
    let child = Killed(child);
    let mut first = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .expect("a first line");
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    (child, url)
}
