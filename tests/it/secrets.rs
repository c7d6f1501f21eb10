//! The secret key and UserSigs never leave the process: every command that talks to the
//! service runs at the most verbose log level (`-vvv` enables `trace` for every crate, the HTTP
//! stack included), in text and JSON log formats, through successes, retries, lost answers,
//! refusals, a wrong key, a dead endpoint and the built-in emulator; then stdout, stderr and
//! every file left in the working directory are scanned.
//!
//! A UserSig is recognised by shape rather than by value (timctl signs its own, with its own
//! timestamp): zlib output in timctl's base64 starts with `eJ`, so any `eJ` followed by 40 or
//! more base64url-ish characters counts, as does the query parameter `usersig=`.

use std::path::Path;
use std::process::{Command as Process, Stdio};

use timctl::emulator::{self, Command, Config, Fault, GroupType, Role, SeedMember};

use crate::support::{Run, World, files_below, seed_group};

const KEY: &str = "k3y-of-the-secrets-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const WRONG_KEY: &str = "wrong-k3y-of-the-secrets-test-0a1b2c3d4e5f60718293a4b5c6d7e8f9";

/// What in `text` looks like a secret, described without repeating it whole.
fn leaks(text: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for secret in forbidden {
        if text.contains(secret) {
            found.push(format!("a secret starting {:?}", &secret[..8]));
        }
    }
    if text.to_ascii_lowercase().contains("usersig=") {
        found.push("the query parameter usersig=".to_owned());
    }
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices("eJ") {
        let len = bytes[at..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || b"*_-%+/=".contains(b))
            .count();
        if len >= 42 {
            let token = &text[at..at + len];
            let decodes = timctl::usersig::decode(token).is_ok();
            found.push(format!(
                "a UserSig-shaped token {}... ({len} chars, decodes as a UserSig: {decodes})",
                &token[..12]
            ));
        }
    }
    found
}

/// Collects every output and fails with all the leaks at once.
struct Scan {
    forbidden: Vec<String>,
    problems: Vec<String>,
}

impl Scan {
    fn text(&mut self, label: &str, text: &str) {
        let forbidden: Vec<&str> = self.forbidden.iter().map(String::as_str).collect();
        for leak in leaks(text, &forbidden) {
            self.problems.push(format!("{label}: {leak}"));
        }
    }

    fn run(&mut self, label: &str, run: &Run) {
        self.text(&format!("{label} stdout"), &run.stdout);
        self.text(&format!("{label} stderr"), &run.stderr);
    }

    fn files(&mut self, dir: &Path) {
        for path in files_below(dir) {
            let bytes = std::fs::read(&path).unwrap();
            self.text(
                &path.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            );
        }
    }

    #[track_caller]
    fn assert_clean(&self) {
        assert!(
            self.problems.is_empty(),
            "secrets leaked:\n{}",
            self.problems.join("\n")
        );
    }
}

#[test]
fn the_scan_finds_keys_and_usersigs() {
    let sig = timctl::usersig::sign(KEY, 1_400_000_000, "administrator", 1_700_000_000, 86_400);
    assert!(sig.starts_with("eJ"), "the shape the scan looks for");
    let url = format!("GET /v4/group_open_http_svc/x?sdkappid=1&usersig={sig}&random=1");
    assert_eq!(leaks(&url, &[]).len(), 2, "{:?}", leaks(&url, &[]));
    assert!(
        leaks(&format!("{{\"sig\":\"{sig}\"}}"), &[])[0].contains("decodes as a UserSig: true")
    );
    assert_eq!(leaks(&format!("key={KEY}"), &[KEY]).len(), 1);
    assert!(leaks("eJust a sentence, Name: eJ-short", &[KEY]).is_empty());
}

const GROUPS: &str = "groups:
  - {id: eng, type: Public, name: Engineering, owner: alice, mute_all: true, custom: {team: core}}
  - {id: live, type: AVChatRoom, name: Keynote}
";

#[test]
fn no_output_log_or_file_holds_the_key_or_a_usersig() {
    let world = World::with(Config {
        secret_key: KEY.to_owned(),
        ..Config::dev()
    });
    let mut old = seed_group("old", GroupType::Public, "Old");
    old.owner = Some("alice".into());
    old.members.push(SeedMember {
        account: "bob".into(),
        role: Role::Member,
        join_time: None,
    });
    world.seed(vec![old]);
    let usersig = world.emulator.usersig("administrator");
    let mut scan = Scan {
        forbidden: vec![
            KEY.to_owned(),
            WRONG_KEY.to_owned(),
            emulator::DEV_SECRET_KEY.to_owned(),
            usersig.clone(),
        ],
        problems: Vec::new(),
    };
    let key = [("TIM_SECRET_KEY", KEY)];
    let timctl = |args: &[&str]| world.timctl_env(args, &key);

    world.write("groups/main.yaml", GROUPS);
    let run = timctl(&["-vvv", "plan", "groups", "--out", "plan.json"]);
    run.code(0).stdout_has("+ create eng");
    scan.run("plan --out", &run);
    let run = timctl(&["-vvv", "apply", "plan.json"]);
    run.code(0).stdout_has("Apply complete: 2 applied");
    scan.run("apply plan.json", &run);
    let run = timctl(&["-vvv", "--log-format", "json", "plan", "groups"]);
    run.code(0).stderr_has("\"level\":\"TRACE\"");
    scan.run("json plan", &run);

    // Retries after a lost answer, then a change that fails on every attempt.
    world.write(
        "groups/main.yaml",
        &format!("{GROUPS}  - {{id: old, type: Public, name: Renamed, owner: bob}}\n  - {{id: new, type: Public, name: New}}\n"),
    );
    world
        .emulator
        .fail_next(Command::ImportGroup, Fault::DropResponse);
    world
        .emulator
        .fail_next(Command::ChangeGroupOwner, Fault::DropResponse);
    for _ in 0..6 {
        world
            .emulator
            .fail_next(Command::ModifyGroupBaseInfo, Fault::Internal);
    }
    let run = timctl(&["-vvv", "apply", "groups", "--auto-approve"]);
    run.code(1)
        .stdout_has("failed: update old [10002]: modify_group_base_info gave up after 6 attempts")
        .stderr_has("create confirmed by read-back");
    scan.run("failing apply", &run);
    let run = timctl(&["-vvv", "--log-format", "json", "apply", "--auto-approve"]);
    run.code(0);
    scan.run("json apply", &run);
    let run = timctl(&["-vvv", "export", "--out", "exported"]);
    run.code(0);
    scan.run("export", &run);
    let run = timctl(&["-vvv", "reconcile", "--once"]);
    run.code(0);
    scan.run("reconcile", &run);

    // Refused: the wrong key, then no service at all.
    let run = world.timctl_env(&["-vvv", "plan"], &[("TIM_SECRET_KEY", WRONG_KEY)]);
    run.code(1).stderr_has("70009");
    scan.run("wrong key", &run);
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let run = world.timctl_env(
        &["-vvv", "--log-format", "json", "plan"],
        &[("TIM_SECRET_KEY", KEY), ("TIM_ENDPOINT", &dead)],
    );
    run.code(1).stderr_has("Connection refused");
    scan.run("dead endpoint", &run);

    // A UserSig given instead of the key is as secret.
    let run = world.timctl_env(
        &["-vvv", "plan", "--detailed-exitcode"],
        &[("TIM_SECRET_KEY", ""), ("TIM_USERSIG", &usersig)],
    );
    run.code(0).stdout_has("No changes.");
    scan.run("TIM_USERSIG plan", &run);

    // `timctl usersig` prints one by design; its log must not repeat it, nor show the key.
    let run = timctl(&["-vvv", "usersig"]);
    run.code(0);
    assert_eq!(run.stdout.lines().count(), 1);
    assert!(run.stdout.starts_with("eJ") && !run.stdout.contains(KEY));
    scan.text("usersig stderr", &run.stderr);

    // The built-in emulator, in this process's own HTTP server and state file.
    let offline = world.path("offline");
    std::fs::create_dir_all(offline.join("groups")).unwrap();
    std::fs::write(offline.join("groups/main.yaml"), GROUPS).unwrap();
    for args in [
        &["-vvv", "apply", "--auto-approve"][..],
        &["-vvv", "--log-format", "json", "plan"][..],
    ] {
        let output = Process::new(env!("CARGO_BIN_EXE_timctl"))
            .args(args)
            .current_dir(&offline)
            .env_clear()
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        scan.text("offline stdout", &String::from_utf8_lossy(&output.stdout));
        scan.text("offline stderr", &String::from_utf8_lossy(&output.stderr));
    }
    assert!(offline.join(".timctl/emulator.json").exists());

    assert!(world.path("plan.json").exists() && world.path("exported").is_dir());
    scan.files(world.dir.path());
    scan.assert_clean();
}
