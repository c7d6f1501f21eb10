//! The real binary: `timctl emulator` killed with SIGKILL in the middle of concurrent writes
//! keeps every write it acknowledged; `timctl usersig` signs from the environment.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::json;
use timctl::emulator::{DEV_SDKAPPID, DEV_SECRET_KEY};
use timctl::usersig;

use super::client::http;

const BIN: &str = env!("CARGO_BIN_EXE_timctl");

/// Starts `timctl emulator` on a free port with its state in `state`; returns the child and
/// its base URL.
fn spawn_emulator(state: &std::path::Path) -> (Child, String) {
    spawn_emulator_with(&["--state".as_ref(), state.as_os_str()])
}

/// Starts `timctl emulator` on a free port with these extra arguments.
pub(super) fn spawn_emulator_with(args: &[&std::ffi::OsStr]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit-scale",
            "0",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("timctl runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a first line").expect("UTF-8");
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    let rest: Vec<String> = lines.map_while(Result::ok).take(4).collect();
    assert!(
        rest.contains(&format!("sdkappid: {DEV_SDKAPPID}")),
        "{rest:?}"
    );
    assert!(
        rest.contains(&"admin: administrator".to_owned()),
        "{rest:?}"
    );
    assert!(
        rest.iter()
            .any(|l| l.contains(DEV_SECRET_KEY) && l.contains("development"))
    );
    (child, url)
}

pub(super) fn command_url(base: &str, command: &str) -> String {
    service_url(base, "group_open_http_svc", command)
}

fn service_url(base: &str, service: &str, command: &str) -> String {
    let sig = usersig::sign(
        DEV_SECRET_KEY,
        DEV_SDKAPPID,
        "administrator",
        usersig::unix_now(),
        3600,
    );
    format!(
        "{base}/v4/{service}/{command}?sdkappid={DEV_SDKAPPID}&identifier=administrator&usersig={sig}&random=1&contenttype=json"
    )
}

/// True when the call was answered OK (an acknowledged write).
async fn acknowledged(client: &reqwest::Client, url: String, body: serde_json::Value) -> bool {
    let Ok(response) = client.post(url).body(body.to_string()).send().await else {
        return false;
    };
    match response.json::<serde_json::Value>().await {
        Ok(reply) => reply["ErrorCode"] == 0,
        Err(_) => false,
    }
}

async fn call(client: &reqwest::Client, url: String, body: serde_json::Value) -> serde_json::Value {
    let response = client
        .post(url)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

#[tokio::test]
async fn custom_keys_come_from_flags_and_the_seed_file_which_also_imports_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.yaml");
    std::fs::write(
        &seed,
        "accounts: [olga]
custom_keys: [zone]
groups:
  - {id: eng, type: Public, name: Eng, owner: pia, members: [{account: quinn}], custom: {zone: a}}
",
    )
    .unwrap();
    let (mut child, base) = spawn_emulator_with(&[
        "--custom-key".as_ref(),
        "team".as_ref(),
        "--custom-key".as_ref(),
        "tier".as_ref(),
        "--seed".as_ref(),
        seed.as_os_str(),
    ]);
    let client = http();
    let group = |owner: &str, key: &str| {
        json!({"Type": "Public", "Name": "n", "Owner_Account": owner,
               "AppDefinedData": [{"Key": key, "Value": "v"}]})
    };
    let url = || command_url(&base, "create_group");
    for key in ["team", "tier", "zone"] {
        let reply = call(&client, url(), group("olga", key)).await;
        assert_eq!(reply["ErrorCode"], 0, "{key}: {reply}");
    }
    let reply = call(&client, url(), group("olga", "legacy")).await;
    assert_eq!(reply["ErrorCode"], 10004, "an unconfigured key: {reply}");
    let reply = call(&client, url(), group("nobody", "team")).await;
    assert_eq!(
        reply["ErrorCode"], 10019,
        "an account never imported: {reply}"
    );
    let reply = call(
        &client,
        service_url(&base, "im_open_login_svc", "account_check"),
        json!({"CheckItem": [{"UserID": "pia"}, {"UserID": "quinn"}, {"UserID": "olga"}]}),
    )
    .await;
    let statuses: Vec<&str> = reply["ResultItem"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["AccountStatus"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses, ["Imported"; 3],
        "seeded people are imported: {reply}"
    );
    child.kill().unwrap();
    let _ = child.wait();
}

#[tokio::test]
async fn sigkill_after_acknowledged_writes_loses_none_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let (mut child, base) = spawn_emulator(&state);
    let client = http();

    // Concurrent writers: each imports its group, then renames it.
    let mut writers = tokio::task::JoinSet::new();
    for i in 0..64 {
        let (client, base) = (client.clone(), base.clone());
        writers.spawn(async move {
            let id = format!("g{i}");
            let imported = acknowledged(
                &client,
                command_url(&base, "import_group"),
                json!({"GroupId": id, "Type": "Public", "Name": "before"}),
            )
            .await;
            let renamed = imported
                && acknowledged(
                    &client,
                    command_url(&base, "modify_group_base_info"),
                    json!({"GroupId": id, "Name": "after"}),
                )
                .await;
            (id, imported, renamed)
        });
    }
    // Kill once a good part is acknowledged, while the rest may still be in flight.
    let mut results = Vec::new();
    while let Some(result) = writers.join_next().await {
        results.push(result.unwrap());
        if results.len() == 32 {
            child.kill().expect("SIGKILL");
        }
    }
    child.wait().unwrap();
    let acked: Vec<_> = results
        .iter()
        .filter(|(_, imported, _)| *imported)
        .collect();
    assert!(acked.len() >= 32, "{} acknowledged", acked.len());

    let (mut child, base) = spawn_emulator(&state);
    let ids: Vec<&String> = acked.iter().map(|(id, _, _)| id).collect();
    for chunk in ids.chunks(50) {
        let reply: serde_json::Value = client
            .post(command_url(&base, "get_group_info"))
            .body(
                json!({"GroupIdList": chunk, "ResponseFilter": {"GroupBaseInfoFilter": ["Name"]}})
                    .to_string(),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in reply["GroupInfo"].as_array().unwrap() {
            let id = item["GroupId"].as_str().unwrap();
            let (_, _, renamed) = results.iter().find(|(i, _, _)| i == id).unwrap();
            assert_eq!(item["ErrorCode"], 0, "acknowledged import of {id} was lost");
            if *renamed {
                assert_eq!(
                    item["Name"], "after",
                    "acknowledged modify of {id} was lost"
                );
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn usersig_signs_from_the_environment_and_never_prints_the_key() {
    let key = "a-secret-key-for-this-test";
    let out = Command::new(BIN)
        .args(["usersig", "--identifier", "ops_bot", "--expire", "1h"])
        .env("TIM_SDKAPPID", "1400000123")
        .env("TIM_SECRET_KEY", key)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains(key));
    let doc = usersig::verify(
        key,
        1_400_000_123,
        "ops_bot",
        stdout.trim(),
        usersig::unix_now(),
    )
    .expect("the printed UserSig verifies");
    assert_eq!(doc.expire, 3600);

    let out = Command::new(BIN)
        .arg("usersig")
        .env("TIM_SDKAPPID", "1400000123")
        .env_remove("TIM_SECRET_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TIM_SECRET_KEY"));

    let out = Command::new(BIN)
        .arg("usersig")
        .env("TIM_SDKAPPID", "app")
        .env("TIM_SECRET_KEY", key)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TIM_SDKAPPID") && !stderr.contains(key),
        "{stderr}"
    );
}

/// Waits at most `bound` for `child` to exit; kills it and returns `None` when it does not.
fn exit_within(child: &mut Child, bound: std::time::Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + bound;
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn a_second_emulator_process_on_one_state_file_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let (mut first, _) = spawn_emulator(&state);
    let mut second = Command::new(BIN)
        .args(["emulator", "--listen", "127.0.0.1:0", "--state"])
        .arg(&state)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = exit_within(&mut second, std::time::Duration::from_secs(10));
    first.kill().unwrap();
    first.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut stderr).unwrap();
    let status = status.expect("the second emulator exits instead of sharing the file");
    assert!(!status.success());
    assert!(
        stderr.contains("state.json") && stderr.contains("in use"),
        "{stderr}"
    );
}

/// `groups` groups named `prefix-NNN`, as a manifest.
fn many_groups(prefix: &str, groups: usize) -> String {
    let mut yaml = "defaults:\n  type: Public\n  owner: ops_bot\ngroups:\n".to_owned();
    for i in 0..groups {
        yaml.push_str(&format!(
            "  - id: {prefix}-{i:03}\n    name: {prefix} {i}\n"
        ));
    }
    yaml
}

/// Two `timctl apply` at once in one directory, both on the built-in emulator: the second
/// waits for the first's lock on `.timctl/emulator.json`, then applies; nothing either
/// acknowledged is lost.
#[test]
fn two_applies_on_the_built_in_emulator_take_turns_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for prefix in ["a", "b"] {
        std::fs::create_dir(dir.path().join(prefix)).unwrap();
        std::fs::write(
            dir.path().join(prefix).join("groups.yaml"),
            many_groups(prefix, 200),
        )
        .unwrap();
    }
    let timctl = |args: &[&str]| {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };
    // 200 creates at 100 calls/s: the first apply runs for about two seconds.
    let mut first = timctl(&["apply", "a", "--auto-approve", "--rate", "100"])
        .spawn()
        .unwrap();
    let mut first_err = BufReader::new(first.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("using the built-in emulator") {
        line.clear();
        assert!(first_err.read_line(&mut line).unwrap() > 0, "no start line");
    }
    let second = timctl(&["apply", "b", "--auto-approve", "--rate", "100"])
        .output()
        .unwrap();
    let first = first.wait_with_output().unwrap();
    let second_err = String::from_utf8_lossy(&second.stderr);
    assert!(first.status.success(), "{:?}", first);
    assert!(second.status.success(), "{second_err}");
    assert!(
        second_err.contains("waiting for the lock on .timctl/emulator.json"),
        "{second_err}"
    );
    for prefix in ["a", "b"] {
        let plan = timctl(&["plan", prefix]).output().unwrap();
        let stdout = String::from_utf8_lossy(&plan.stdout);
        assert!(plan.status.success(), "{plan:?}");
        assert!(stdout.contains("No changes"), "plan {prefix}: {stdout}");
    }
}

/// Starts `timctl emulator` with these extra arguments and environment; returns the child,
/// its URL and its stderr.
fn spawn_with(args: &[&str], env: &[(&str, &str)]) -> (Child, String, std::process::ChildStderr) {
    let mut command = Command::new(BIN);
    command
        .args(["emulator", "--rate-limit-scale", "0"])
        .args(args)
        .env_remove("TIM_SECRET_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let stderr = child.stderr.take().unwrap();
    (child, url, stderr)
}

async fn code_with_key(url: &str, key: &str) -> serde_json::Value {
    let sig = usersig::sign(
        key,
        DEV_SDKAPPID,
        "administrator",
        usersig::unix_now(),
        3600,
    );
    let endpoint = format!(
        "{url}/v4/group_open_http_svc/get_appid_group_list?sdkappid={DEV_SDKAPPID}&identifier=administrator&usersig={sig}&random=1&contenttype=json"
    );
    let reply: serde_json::Value = http()
        .post(endpoint)
        .body("{}")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["ErrorCode"].clone()
}

#[tokio::test]
async fn the_secret_key_comes_from_a_file_or_the_environment_not_only_argv() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("key");
    std::fs::write(&file, "key-from-a-file\n").unwrap();
    let (mut child, url, _) = spawn_with(
        &[
            "--listen",
            "127.0.0.1:0",
            "--secret-key-file",
            file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code_with_key(&url, "key-from-a-file").await, 0);
    assert_eq!(code_with_key(&url, DEV_SECRET_KEY).await, 70009);
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut child, url, _) = spawn_with(
        &["--listen", "127.0.0.1:0"],
        &[("TIM_SECRET_KEY", "key-from-the-environment")],
    );
    assert_eq!(code_with_key(&url, "key-from-the-environment").await, 0);
    assert_eq!(code_with_key(&url, DEV_SECRET_KEY).await, 70009);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn the_development_key_beyond_loopback_is_warned_about() {
    let (mut child, _, mut stderr) = spawn_with(&["--listen", "0.0.0.0:0"], &[]);
    // The warning comes before the first stdout line; killing first bounds the read.
    child.kill().unwrap();
    child.wait().unwrap();
    let mut line = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut line).unwrap();
    assert!(
        line.contains("warning") && line.contains("development key"),
        "{line}"
    );
}

#[test]
fn usersig_takes_the_same_settings_as_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let key = "a-key-from-a-file";
    std::fs::write(dir.path().join("key"), format!("{key}\n")).unwrap();
    std::fs::write(
        dir.path().join("timctl.yaml"),
        "sdkappid: 1400000777\nadmin: ops_bot\nsecret_key_file: key\n",
    )
    .unwrap();
    // timctl.yaml alone: its app, its admin, its key file (relative to the file).
    let out = Command::new(BIN)
        .arg("usersig")
        .current_dir(dir.path())
        .env_remove("TIM_SDKAPPID")
        .env_remove("TIM_SECRET_KEY")
        .env_remove("TIM_ADMIN")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    usersig::verify(
        key,
        1_400_000_777,
        "ops_bot",
        stdout.trim(),
        usersig::unix_now(),
    )
    .expect("signed with the file's key for the file's app and admin");
    // A flag beats the file.
    let out = Command::new(BIN)
        .args([
            "usersig",
            "--sdkappid",
            "1400000888",
            "--admin",
            "other_admin",
        ])
        .current_dir(dir.path())
        .env_remove("TIM_SDKAPPID")
        .env_remove("TIM_SECRET_KEY")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    usersig::verify(
        key,
        1_400_000_888,
        "other_admin",
        stdout.trim(),
        usersig::unix_now(),
    )
    .expect("the flags win");
    // Only a UserSig: nothing to sign with, said plainly, the UserSig never echoed.
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("usersig")
        .current_dir(empty.path())
        .env("TIM_SDKAPPID", "1400000123")
        .env("TIM_USERSIG", "eJw-a-usersig-value")
        .env_remove("TIM_SECRET_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("only a UserSig is configured") && !stderr.contains("eJw-a-usersig"),
        "{stderr}"
    );
    // No settings at all: the built-in emulator's app and development key.
    let out = Command::new(BIN)
        .arg("usersig")
        .current_dir(empty.path())
        .env_remove("TIM_SDKAPPID")
        .env_remove("TIM_USERSIG")
        .env_remove("TIM_SECRET_KEY")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    usersig::verify(
        DEV_SECRET_KEY,
        DEV_SDKAPPID,
        "administrator",
        stdout.trim(),
        usersig::unix_now(),
    )
    .expect("signed for the built-in emulator");
}
