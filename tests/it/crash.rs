//! The real `timctl emulator --state FILE` killed with SIGKILL in the middle of a real
//! `timctl apply`: after a restart on the same file every write the emulator acknowledged is
//! there, and a second apply converges.
//!
//! The apply runs at `-vv --log-format json`, so the test sees each call the client got an
//! answer for ("call ok" with its command and groups) as it happens; it kills the emulator once
//! a good part of the imports are acknowledged, while the rest are in flight or queued.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use timctl::emulator::{DEV_SDKAPPID, DEV_SECRET_KEY};
use timctl::usersig;

use crate::support::{self, Killed};

const BIN: &str = env!("CARGO_BIN_EXE_timctl");
const GROUPS: usize = 300;
/// Acknowledged imports after which the emulator is killed.
const KILL_AFTER: usize = 100;

fn id(i: usize) -> String {
    format!("c-{i:03}")
}

/// Every 5th group is muted: an import and then a modify.
fn muted(i: usize) -> bool {
    i.is_multiple_of(5)
}

/// Starts `timctl emulator` on a free port with this state file; returns it and its URL.
fn spawn_emulator(state: &Path) -> (Killed, String) {
    support::spawn_emulator(&["--state".as_ref(), state.as_os_str()])
}

/// `timctl ARGS` against the emulator at `url`. The emulator has no rate limits and the client
/// paces at 500 calls/s: the imports left when the kill is decided take over 0.4 s to send, so
/// it lands mid-apply even on a busy machine, and the calls that fail after it spend their six
/// attempts in a few seconds.
fn timctl(dir: &Path, url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("TIM_SDKAPPID", DEV_SDKAPPID.to_string())
        .env("TIM_SECRET_KEY", DEV_SECRET_KEY)
        .env("TIM_ENDPOINT", url)
        .env("TIM_RATE", "500")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

/// The command and groups of a "call ok" log line.
fn call_ok(line: &str) -> Option<(String, Vec<String>)> {
    let event: Value = serde_json::from_str(line).ok()?;
    let fields = &event["fields"];
    if fields["message"] != "call ok" {
        return None;
    }
    let command = fields["command"].as_str()?.to_owned();
    let groups = serde_json::from_str(fields["groups"].as_str()?).ok()?;
    Some((command, groups))
}

/// The live groups among `ids`, with their `ShutUpAllMember` ("On"/"Off").
fn live_groups(url: &str, ids: &[String]) -> Vec<(String, String)> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let sig = usersig::sign(
        DEV_SECRET_KEY,
        DEV_SDKAPPID,
        "administrator",
        usersig::unix_now(),
        3600,
    );
    let endpoint = format!(
        "{url}/v4/group_open_http_svc/get_group_info?sdkappid={DEV_SDKAPPID}&identifier=administrator&usersig={sig}&random=1&contenttype=json"
    );
    let mut live = Vec::new();
    for chunk in ids.chunks(50) {
        let body = json!({
            "GroupIdList": chunk,
            "ResponseFilter": {"GroupBaseInfoFilter": ["Name", "ShutUpAllMember"]}
        });
        let reply: Value = rt.block_on(async {
            client
                .post(&endpoint)
                .body(body.to_string())
                .send()
                .await
                .expect("the restarted emulator answers")
                .json()
                .await
                .expect("a JSON answer")
        });
        for item in reply["GroupInfo"].as_array().expect("GroupInfo") {
            if item["ErrorCode"] == 0 {
                live.push((
                    item["GroupId"].as_str().unwrap().to_owned(),
                    item["ShutUpAllMember"].as_str().unwrap_or("").to_owned(),
                ));
            }
        }
    }
    live
}

#[test]
fn an_emulator_killed_mid_apply_keeps_every_acknowledged_write_and_the_next_apply_converges() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut manifest = String::from("groups:\n");
    for i in 0..GROUPS {
        manifest.push_str(&format!(
            "  - {{id: {}, type: Public, name: Crash {i}, mute_all: {}}}\n",
            id(i),
            muted(i)
        ));
    }
    std::fs::create_dir(dir.path().join("groups")).unwrap();
    std::fs::write(dir.path().join("groups/main.yaml"), manifest).unwrap();

    let (emulator, url) = spawn_emulator(&state);
    let mut apply = timctl(
        dir.path(),
        &url,
        &["-vv", "--log-format", "json", "apply", "--auto-approve"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("timctl apply runs");
    let mut stdout = apply.stdout.take().unwrap();
    let stderr = apply.stderr.take().unwrap();
    let apply = Killed(apply);

    // Reads the log to its end, killing the emulator the moment enough imports are
    // acknowledged (here rather than in another thread, to act as fast as possible).
    let log_reader = std::thread::spawn(move || {
        let mut emulator = emulator;
        let mut acked: Vec<(String, Vec<String>)> = Vec::new();
        let mut imports = 0;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some((command, groups)) = call_ok(&line) {
                if command == "import_group" {
                    imports += 1;
                    if imports == KILL_AFTER {
                        emulator.0.kill().expect("SIGKILL");
                        emulator.0.wait().unwrap();
                    }
                }
                acked.push((command, groups));
            }
        }
        acked
    });
    let out_reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });

    let mut apply = apply;
    let status = apply.0.wait().unwrap();
    let acked = log_reader.join().unwrap();
    let stdout = out_reader.join().unwrap();
    assert_eq!(status.code(), Some(1), "the apply fails:\n{stdout}");
    assert!(stdout.contains("Apply finished with errors"), "{stdout}");

    // What the emulator acknowledged, and what the apply reported as applied.
    let acked_imports: BTreeSet<String> = acked
        .iter()
        .filter(|(command, _)| command == "import_group")
        .flat_map(|(_, groups)| groups.clone())
        .collect();
    let acked_mutes: BTreeSet<String> = acked
        .iter()
        .filter(|(command, _)| command == "modify_group_base_info")
        .flat_map(|(_, groups)| groups.clone())
        .collect();
    assert!(
        acked_imports.len() >= KILL_AFTER,
        "the apply got far enough:\n{stdout}"
    );
    assert!(
        acked_imports.len() < GROUPS,
        "killed before the end: {} imports acknowledged",
        acked_imports.len()
    );
    let failed: BTreeSet<String> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("failed: create "))
        .map(|rest| rest.split([':', ' ']).next().unwrap().to_owned())
        .collect();
    assert!(!failed.is_empty(), "{stdout}");
    let reported: BTreeSet<String> = (0..GROUPS)
        .map(id)
        .filter(|id| !failed.contains(id))
        .collect();

    // Restart on the same state: every acknowledged write is there.
    let (_emulator, url) = spawn_emulator(&state);
    let all: Vec<String> = (0..GROUPS).map(id).collect();
    let live = live_groups(&url, &all);
    let present: BTreeSet<String> = live.iter().map(|(id, _)| id.clone()).collect();
    let missing: Vec<&String> = acked_imports.difference(&present).collect();
    assert!(missing.is_empty(), "acknowledged imports lost: {missing:?}");
    let missing: Vec<&String> = reported.difference(&present).collect();
    assert!(
        missing.is_empty(),
        "groups reported applied lost: {missing:?}"
    );
    for (id, mute) in &live {
        if acked_mutes.contains(id) {
            assert_eq!(mute, "On", "acknowledged mute of {id} lost");
        }
    }

    // The next apply creates only what is missing and finishes the rest.
    let run = timctl(dir.path(), &url, &["apply", "--auto-approve"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}");
    let to_create = GROUPS - present.len();
    assert!(
        stdout.contains(&format!("Plan: {to_create} to create,")),
        "{stdout}"
    );
    let run = timctl(dir.path(), &url, &["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("No changes. Live groups match the manifests."),
        "{stdout}"
    );
    assert_eq!(live_groups(&url, &all).len(), GROUPS);
}
