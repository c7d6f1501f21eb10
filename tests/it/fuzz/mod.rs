//! Bad input never panics. Random bodies go to every emulator command over real HTTP with a
//! valid UserSig, and each answer must be HTTP 200 with a well-formed envelope; after the run
//! the journal replays to the same state. Random manifests go through the real binary, which
//! must end in a clear error (exit 1 with a message) or succeed, never panic (exit 101).
//!
//! The manifest loader's own properties (random bytes, token soup, structurally random YAML)
//! run in-process in `src/manifest/tests/fuzz.rs`; this file adds the binary's edge. Case
//! counts are bounded so the suite stays fast; `TIMCTL_FUZZ_CASES=N cargo test --test it fuzz`
//! runs more (see `cases`).

use proptest::prelude::*;
use proptest::test_runner::{Config as Cases, TestCaseError, TestRunner};
use serde_json::Value;
use timctl::emulator::{Command, Config, Emulator, GroupType, SeedMember};

use crate::support::seed_group;

mod strategies;

use strategies::{body, manifest_text};

/// `default` cases, or `TIMCTL_FUZZ_CASES` for a longer run.
fn cases(default: u32) -> Cases {
    let cases = std::env::var("TIMCTL_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    Cases {
        cases,
        failure_persistence: None,
        ..Cases::default()
    }
}

/// Checks one answer: HTTP 200, a JSON object with `ActionStatus` OK and `ErrorCode` 0, or
/// `ActionStatus` FAIL with a non-zero `ErrorCode` and an `ErrorInfo`.
fn check_envelope(command: &str, status: u16, text: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        status,
        200,
        "{} answered HTTP {}: {}",
        command,
        status,
        text
    );
    let reply: Value = serde_json::from_str(text)
        .map_err(|e| TestCaseError::fail(format!("{command}: not JSON ({e}): {text}")))?;
    let code = reply["ErrorCode"].as_i64();
    match reply["ActionStatus"].as_str() {
        Some("OK") => prop_assert_eq!(code, Some(0), "{}: {}", command, text),
        Some("FAIL") => {
            prop_assert!(code.is_some_and(|c| c != 0), "{}: {}", command, text);
            prop_assert!(
                reply["ErrorInfo"].as_str().is_some_and(|i| !i.is_empty()),
                "{}: {}",
                command,
                text
            );
        }
        _ => {
            return Err(TestCaseError::fail(format!(
                "{command}: no ActionStatus: {text}"
            )));
        }
    }
    Ok(())
}

#[test]
fn random_bodies_to_every_command_get_a_well_formed_answer_and_the_journal_keeps_up() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        state: Some(dir.path().join("state.json")),
        rate_limit_scale: 0.0,
        ..Config::dev()
    };
    let emulator = rt
        .block_on(Emulator::start(config.clone(), "127.0.0.1:0"))
        .unwrap();
    let mut seeds = Vec::new();
    for (id, kind) in [
        ("g1", GroupType::Public),
        ("g2", GroupType::Private),
        ("g3", GroupType::ChatRoom),
        ("live", GroupType::AVChatRoom),
        ("@TGS#_room", GroupType::Community),
    ] {
        let mut group = seed_group(id, kind, id);
        group.owner = Some("alice".into());
        if kind != GroupType::AVChatRoom {
            group.members.push(SeedMember {
                account: "bob".into(),
                role: timctl::emulator::Role::Admin,
                join_time: None,
            });
        }
        seeds.push(group);
    }
    rt.block_on(emulator.seed(seeds)).unwrap();

    let http = reqwest::Client::new();
    // Every command, creates more often and destroys less, so groups come and go.
    let mut names: Vec<&str> = Vec::new();
    for command in Command::ALL {
        let weight = match command {
            Command::ImportGroup | Command::CreateGroup => 3,
            Command::DestroyGroup => 1,
            _ => 2,
        };
        names.extend(std::iter::repeat_n(command.name(), weight));
    }
    names.push("no_such_command");
    let mut runner = TestRunner::new(cases(256));
    let strategy =
        prop::sample::select(names).prop_flat_map(|command| (Just(command), body(command)));
    let result = runner.run(&strategy, |(command, body)| {
        let (status, text) = rt
            .block_on(async {
                let response = http
                    .post(emulator.command_url(command))
                    .body(body)
                    .send()
                    .await?;
                let status = response.status().as_u16();
                Ok::<_, reqwest::Error>((status, response.text().await?))
            })
            .map_err(|e| {
                TestCaseError::fail(format!("{command}: no answer: {}", e.without_url()))
            })?;
        check_envelope(command, status, &text)
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }

    // Whatever the random writes did, the journal replays to the same state.
    let before = emulator.groups();
    rt.block_on(emulator.shutdown()).unwrap();
    let emulator = rt.block_on(Emulator::start(config, "127.0.0.1:0")).unwrap();
    assert_eq!(emulator.groups(), before);
    rt.block_on(emulator.shutdown()).unwrap();
}

#[test]
fn random_manifests_end_in_a_clear_error_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("groups")).unwrap();
    let mut runner = TestRunner::new(cases(24));
    let result = runner.run(&manifest_text(), |text| {
        std::fs::write(dir.path().join("groups/main.yaml"), &text).unwrap();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_timctl"))
            .arg("validate")
            .current_dir(dir.path())
            .env_clear()
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        match output.status.code() {
            Some(0) => prop_assert!(
                String::from_utf8_lossy(&output.stdout).starts_with("ok: "),
                "{}",
                text
            ),
            Some(1) => {
                prop_assert!(
                    stderr.contains("groups/main.yaml") && stderr.contains("error: "),
                    "{}\n--- stderr\n{}",
                    text,
                    stderr
                );
            }
            other => {
                return Err(TestCaseError::fail(format!(
                    "exit {other:?}\n{text}\n--- stderr\n{stderr}"
                )));
            }
        }
        prop_assert!(!stderr.contains("panicked"), "{}", stderr);
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
