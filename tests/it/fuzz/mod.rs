//! Bad input never panics. Random bodies go to every emulator command over real HTTP with a
//! valid UserSig, and each answer must be HTTP 200 with a well-formed envelope; after the run
//! the journal replays to the same state. Random credentials (forged, tampered, expired and
//! garbage UserSigs, wrong apps and admins) are refused before any command runs, and only
//! good ones get in. Random manifests go through the real binary, which must end in a clear
//! error (exit 1 with a message) or succeed, never panic (exit 101).
//!
//! The manifest loader's own properties (random bytes, token soup, structurally random YAML)
//! run in-process in `src/manifest/tests/fuzz.rs`; this file adds the binary's edge. Case
//! counts are bounded so the suite stays fast; `TIMCTL_FUZZ_CASES=N cargo test --test it fuzz`
//! runs more (see `cases`).

use proptest::prelude::*;
use proptest::test_runner::{Config as Cases, TestCaseError, TestRunner};
use serde_json::Value;
use timctl::emulator::{
    Command, Config, DEV_SDKAPPID, DEV_SECRET_KEY, Emulator, GroupType, SeedMember,
};

use crate::support::seed_group;

mod strategies;

use strategies::{body, json, manifest_text};

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

/// The codes that refuse a call before its command runs: query string, SDKAppID, admin,
/// UserSig.
const REFUSED_AT_THE_DOOR: &[i64] = &[
    60002, 60006, 60010, 60012, 70001, 70002, 70003, 70009, 70013, 70014, 70020,
];

/// One way to fill the query string, and whether it is the one that must be let in.
#[derive(Debug, Clone)]
struct Credentials {
    sdkappid: Option<String>,
    identifier: Option<String>,
    usersig: Option<String>,
    contenttype: Option<String>,
    valid: bool,
}

/// A zlib-compressed, base64url document: how a UserSig is built, with any content.
fn pack(document: &Value) -> String {
    use base64::Engine;
    use std::io::Write;
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    zlib.write_all(document.to_string().as_bytes()).unwrap();
    let standard = base64::engine::general_purpose::STANDARD.encode(zlib.finish().unwrap());
    standard
        .replace('+', "*")
        .replace('/', "-")
        .replace('=', "_")
}

fn credentials() -> impl Strategy<Value = Credentials> {
    let now = timctl::usersig::unix_now();
    let sdkappid = DEV_SDKAPPID;
    let sign = move |identifier: &str, time: u64, expire: u64| {
        timctl::usersig::sign(DEV_SECRET_KEY, sdkappid, identifier, time, expire)
    };
    let forged = (
        prop::sample::select(vec!["2.0", "1.0", ""]),
        prop::sample::select(vec!["administrator", "alice", ""]),
        prop_oneof![
            Just(Value::from(sdkappid)),
            any::<u64>().prop_map(Value::from)
        ],
        any::<u32>(),
        any::<u32>(),
        "[A-Za-z0-9+/=]{0,60}",
    )
        .prop_map(move |(ver, identifier, app, time, expire, sig)| {
            pack(&serde_json::json!({
                "TLS.ver": ver, "TLS.identifier": identifier, "TLS.sdkappid": app,
                "TLS.time": now.saturating_sub(u64::from(time % 3600)),
                "TLS.expire": expire, "TLS.sig": sig,
            }))
        });
    let usersig = prop_oneof![
        3 => Just(sign("administrator", now, 3600)).prop_map(|s| (s, true)),
        1 => Just(sign("alice", now, 3600)).prop_map(|s| (s, false)),
        1 => Just(sign("administrator", now - 7200, 3600)).prop_map(|s| (s, false)),
        1 => (any::<prop::sample::Index>(), any::<prop::sample::Index>()).prop_map(
            move |(at, by)| {
                // One character of a good signature changed. A few changes leave the document
                // as it was (the padding bits after deflate's last code are ignored by every
                // inflater): those must still be let in.
                let good = sign("administrator", now, 3600);
                let mut sig: Vec<char> = good.chars().collect();
                let at = at.index(sig.len());
                let alphabet: Vec<char> = "AbZ09*-_".chars().filter(|c| *c != sig[at]).collect();
                sig[at] = alphabet[by.index(alphabet.len())];
                let sig: String = sig.into_iter().collect();
                let same = timctl::usersig::decode(&sig).ok() == timctl::usersig::decode(&good).ok();
                (sig, same)
            }
        ),
        2 => forged.prop_map(|s| (s, false)),
        1 => json().prop_map(|v| (pack(&v), false)),
        1 => "\\PC{0,80}".prop_map(|s| (s, false)),
    ];
    let field = |good: &'static str, bad: Vec<&'static str>| {
        prop_oneof![
            6 => Just(Some(good.to_owned())).prop_map(|v| (v, true)),
            1 => Just((None, false)),
            1 => prop::sample::select(bad).prop_map(|v| (Some(v.to_owned()), false)),
        ]
    };
    (
        field(
            "1400000000",
            vec!["1400000001", "abc", "", "-1", "99999999999999999999"],
        ),
        field("administrator", vec!["alice", "", "Administrator"]),
        prop::option::weighted(0.95, usersig),
        field("json", vec!["xml", "", "JSON"]),
    )
        .prop_map(
            |((sdkappid, a), (identifier, b), usersig, (contenttype, c))| {
                let (usersig, d) = match usersig {
                    Some((sig, good)) => (Some(sig), good),
                    None => (None, false),
                };
                Credentials {
                    sdkappid,
                    identifier,
                    usersig,
                    contenttype,
                    valid: a && b && c && d,
                }
            },
        )
}

#[test]
fn random_credentials_are_refused_at_the_door_and_only_good_ones_get_in() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let emulator = rt
        .block_on(Emulator::start(
            Config {
                rate_limit_scale: 0.0,
                ..Config::dev()
            },
            "127.0.0.1:0",
        ))
        .unwrap();
    let http = reqwest::Client::new();
    let mut runner = TestRunner::new(cases(256));
    let result = runner.run(&credentials(), |credentials| {
        let mut url = reqwest::Url::parse(&format!(
            "{}/v4/group_open_http_svc/get_group_info",
            emulator.base_url()
        ))
        .unwrap();
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in [
                ("sdkappid", &credentials.sdkappid),
                ("identifier", &credentials.identifier),
                ("usersig", &credentials.usersig),
                ("contenttype", &credentials.contenttype),
            ] {
                if let Some(value) = value {
                    query.append_pair(name, value);
                }
            }
        }
        let (status, text) = rt
            .block_on(async {
                let response = http
                    .post(url)
                    .body(r#"{"GroupIdList": ["nope"]}"#)
                    .send()
                    .await?;
                let status = response.status().as_u16();
                Ok::<_, reqwest::Error>((status, response.text().await?))
            })
            .map_err(|e| TestCaseError::fail(format!("no answer: {}", e.without_url())))?;
        check_envelope("get_group_info", status, &text)?;
        let code = serde_json::from_str::<Value>(&text).unwrap()["ErrorCode"]
            .as_i64()
            .unwrap();
        if credentials.valid {
            prop_assert_eq!(code, 0, "{:?}: {}", credentials, text);
        } else {
            prop_assert!(
                REFUSED_AT_THE_DOOR.contains(&code),
                "{:?}: {}",
                credentials,
                text
            );
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
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
