//! `--state`: every acknowledged write is there after a restart; a torn last line is dropped;
//! a corrupt or foreign file stops start-up and is left untouched.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;
use timctl::emulator::{Config, Emulator, EmulatorError, JournalError};

use super::client::{Tim, config};

fn with_state(path: &Path) -> Config {
    Config {
        state: Some(path.to_owned()),
        ..config()
    }
}

/// Writes of every kind, leaving groups "a" (changed), "c" (community) and no "b".
async fn write_everything(tim: &Tim) {
    tim.import("a").await;
    tim.import("b").await;
    tim.ok(
        "create_group",
        json!({"GroupId": "@TGS#_c", "Type": "Community", "Name": "c", "Owner_Account": "zed"}),
    )
    .await;
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "a", "Name": "A", "MuteAllMember": "On",
               "AppDefinedData": [{"Key": "k", "Value": "line\nbreak\u{0}"}]}),
    )
    .await;
    tim.ok(
        "add_group_member",
        json!({"GroupId": "a", "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol"}]}),
    )
    .await;
    tim.ok(
        "change_group_owner",
        json!({"GroupId": "a", "NewOwner_Account": "bob"}),
    )
    .await;
    tim.ok(
        "delete_group_member",
        json!({"GroupId": "a", "MemberToDel_Account": ["carol"]}),
    )
    .await;
    tim.ok("destroy_group", json!({"GroupId": "b"})).await;
}

fn state_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emulator.json");
    (dir, path)
}

#[tokio::test]
async fn every_write_survives_a_restart() {
    let (_dir, path) = state_file();
    let tim = Tim::with(with_state(&path)).await;
    write_everything(&tim).await;
    let before = tim.emu.groups();
    let info_before = tim.info("a").await;
    tim.emu.shutdown().await.unwrap();

    let tim = Tim::with(with_state(&path)).await;
    assert_eq!(tim.emu.groups_at_start(), 2);
    assert_eq!(tim.emu.groups(), before);
    assert_eq!(tim.info("a").await, info_before);
    assert_eq!(tim.info("b").await["ErrorCode"], 10010);
    // The list order (and so the cursors) survive too; new groups go after.
    tim.import("d").await;
    let list = tim.ok("get_appid_group_list", json!({})).await;
    assert_eq!(
        list["GroupIdList"],
        json!([{"GroupId": "a"}, {"GroupId": "@TGS#_c"}, {"GroupId": "d"}])
    );
}

#[tokio::test]
async fn a_torn_last_line_is_dropped_and_compacted_away() {
    let (_dir, path) = state_file();
    let tim = Tim::with(with_state(&path)).await;
    write_everything(&tim).await;
    let before = tim.emu.groups();
    tim.emu.shutdown().await.unwrap();

    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(br#"{"op":"put","group":{"id":"half-writ"#);
    std::fs::write(&path, &bytes).unwrap();

    let emu = Emulator::start(with_state(&path), "127.0.0.1:0")
        .await
        .unwrap();
    assert_eq!(emu.groups(), before);
    emu.shutdown().await.unwrap();
    let compacted = std::fs::read_to_string(&path).unwrap();
    assert!(compacted.ends_with('\n') && !compacted.contains("half-writ"));
}

#[tokio::test]
async fn a_corrupt_journal_stops_start_up_and_is_left_untouched() {
    let (_dir, path) = state_file();
    let tim = Tim::with(with_state(&path)).await;
    write_everything(&tim).await;
    tim.emu.shutdown().await.unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, r#"{"op":"put","group":"#);
    let corrupt = lines.join("\n") + "\n";
    std::fs::write(&path, &corrupt).unwrap();

    let err = Emulator::start(with_state(&path), "127.0.0.1:0")
        .await
        .err()
        .expect("a corrupt state refuses to start");
    assert!(
        matches!(
            &err,
            EmulatorError::State(JournalError::Corrupt { line: 3, .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("emulator.json"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), corrupt);

    // A complete line that does not apply is corruption too.
    let orphan = text.clone() + "{\"op\":\"delete\",\"id\":\"never-existed\"}\n";
    std::fs::write(&path, &orphan).unwrap();
    let err = Emulator::start(with_state(&path), "127.0.0.1:0")
        .await
        .err()
        .expect("an orphan record refuses to start");
    assert!(err.to_string().contains("never-existed"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), orphan);
}

#[tokio::test]
async fn a_file_that_is_not_a_state_file_is_refused_and_left_untouched() {
    let (_dir, path) = state_file();
    for content in ["groups:\n  - id: eng\n", "hello"] {
        std::fs::write(&path, content).unwrap();
        let err = Emulator::start(with_state(&path), "127.0.0.1:0")
            .await
            .err()
            .expect("a foreign file refuses to start");
        assert!(
            matches!(
                &err,
                EmulatorError::State(JournalError::NotAStateFile { .. })
            ),
            "{err:?}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), content);
    }
}

#[tokio::test]
async fn the_seed_file_does_not_undo_changes_kept_in_the_state() {
    let (dir, path) = state_file();
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        r#"[{"id": "eng", "type": "Public", "name": "Seeded"}]"#,
    )
    .unwrap();
    let seeded = Config {
        seed: Some(seed),
        ..with_state(&path)
    };
    let tim = Tim::with(seeded.clone()).await;
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "eng", "Name": "Changed"}),
    )
    .await;
    tim.emu.shutdown().await.unwrap();

    let tim = Tim::with(seeded).await;
    assert_eq!(tim.info("eng").await["Name"], "Changed");
}

#[tokio::test]
async fn a_second_emulator_on_one_state_file_is_refused_naming_the_file() {
    let (_dir, path) = state_file();
    let tim = Tim::with(with_state(&path)).await;
    tim.import("a").await;

    let err = Emulator::start(with_state(&path), "127.0.0.1:0")
        .await
        .err()
        .expect("a second writer refuses to start");
    assert!(
        matches!(&err, EmulatorError::State(JournalError::Locked { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("emulator.json"), "{err}");
    // Waiting is bounded, and said.
    let waiting = Config {
        lock_wait: Duration::from_millis(300),
        ..with_state(&path)
    };
    let started = Instant::now();
    let err = Emulator::start(waiting.clone(), "127.0.0.1:0")
        .await
        .err()
        .expect("still locked");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(err.to_string().contains("waited"), "{err}");
    // The first one is untouched by the attempts and lets go at shutdown.
    tim.import("b").await;
    tim.emu.shutdown().await.unwrap();
    let emu = Emulator::start(waiting, "127.0.0.1:0").await.unwrap();
    assert_eq!(emu.groups().len(), 2);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_complete_last_record_without_its_newline_is_kept() {
    let (_dir, path) = state_file();
    let tim = Tim::with(with_state(&path)).await;
    write_everything(&tim).await;
    tim.emu.shutdown().await.unwrap();

    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(br#"{"op":"delete","id":"a"}"#);
    std::fs::write(&path, &bytes).unwrap();

    let emu = Emulator::start(with_state(&path), "127.0.0.1:0")
        .await
        .unwrap();
    assert!(
        emu.group("a").is_none(),
        "the whole last record was dropped"
    );
    assert!(emu.group("@TGS#_c").is_some());
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn compaction_keeps_the_journal_it_replaces_as_bak() {
    let (dir, path) = state_file();
    let tim = Tim::with(with_state(&path)).await;
    write_everything(&tim).await;
    tim.emu.shutdown().await.unwrap();
    let journal = std::fs::read(&path).unwrap();

    let emu = Emulator::start(with_state(&path), "127.0.0.1:0")
        .await
        .unwrap();
    let bak = dir.path().join("emulator.json.bak");
    assert_eq!(std::fs::read(&bak).unwrap(), journal);
    assert!(!dir.path().join("emulator.json.tmp").exists());
    emu.shutdown().await.unwrap();
    // The .bak is itself a state file that starts.
    let emu = Emulator::start(with_state(&bak), "127.0.0.1:0")
        .await
        .unwrap();
    assert_eq!(emu.groups().len(), 2);
    emu.shutdown().await.unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn a_read_only_state_file_or_directory_is_refused_and_left_alone() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let set_mode = |p: &Path, mode| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let (dir, path) = state_file();
    let tim = Tim::with(with_state(&path)).await;
    tim.import("a").await;
    tim.emu.shutdown().await.unwrap();
    let before = std::fs::read(&path).unwrap();
    let inode = std::fs::metadata(&path).unwrap().ino();

    set_mode(&path, 0o444);
    let err = Emulator::start(with_state(&path), "127.0.0.1:0")
        .await
        .err()
        .expect("a read-only state file is refused");
    assert!(
        matches!(&err, EmulatorError::State(JournalError::ReadOnly { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("emulator.json"), "{err}");
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode, "replaced");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    set_mode(&path, 0o644);

    set_mode(dir.path(), 0o555);
    let err = Emulator::start(with_state(&path), "127.0.0.1:0")
        .await
        .err();
    set_mode(dir.path(), 0o755);
    let err = err.expect("a read-only directory is refused");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode, "replaced");
}

#[tokio::test]
async fn a_write_that_does_not_reach_the_disk_is_refused_and_never_served() {
    let (_dir, path) = state_file();
    let full_disk = Config {
        // One write for the accounts Tim imports, one for "a".
        journal_fail_after: Some(2),
        ..with_state(&path)
    };
    let tim = Tim::with(full_disk).await;
    tim.import("a").await;
    let body = json!({"GroupId": "b", "Type": "Public", "Name": "b", "Owner_Account": "alice"});
    tim.fails("import_group", body.clone(), 10002).await;
    assert_eq!(
        tim.info("b").await["ErrorCode"],
        10010,
        "served a lost write"
    );
    assert!(tim.emu.group("b").is_none());
    // Every later write is refused, also one that would change nothing; reads go on.
    let info = tim.fails("import_group", body, 10002).await;
    assert!(info.contains("restart"), "{info}");
    tim.fails(
        "modify_group_base_info",
        json!({"GroupId": "a", "Name": "a"}),
        10002,
    )
    .await;
    assert_eq!(tim.info("a").await["ErrorCode"], 0);
    tim.emu.shutdown().await.unwrap();

    let emu = Emulator::start(with_state(&path), "127.0.0.1:0")
        .await
        .unwrap();
    let ids: Vec<String> = emu.groups().into_iter().map(|g| g.id).collect();
    assert_eq!(ids, ["a"]);
    emu.shutdown().await.unwrap();
}

/// A full disk at start-up: the compacted copy cannot be written (its path leads to
/// `/dev/full`, which refuses every write with ENOSPC). Start-up stops, saying the state is
/// left as it was; the journal is untouched and the half-written copy is gone.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_full_disk_at_start_up_stops_it_and_leaves_the_journal_as_it_was() {
    let (dir, path) = state_file();
    let tim = Tim::with(with_state(&path)).await;
    write_everything(&tim).await;
    tim.emu.shutdown().await.unwrap();
    let journal = std::fs::read(&path).unwrap();
    let tmp = dir.path().join("emulator.json.tmp");
    std::os::unix::fs::symlink("/dev/full", &tmp).unwrap();

    let Err(error) = Emulator::start(with_state(&path), "127.0.0.1:0").await else {
        panic!("started although the state could not be written");
    };
    let chain = format!("{:#}", anyhow::Error::new(error));
    assert!(
        chain.contains("left as it was") && chain.contains("No space left"),
        "{chain}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), journal);
    assert!(
        std::fs::symlink_metadata(&tmp).is_err(),
        "the half-written copy is left"
    );

    // With space again, it starts with every acknowledged write.
    let emu = Emulator::start(with_state(&path), "127.0.0.1:0")
        .await
        .unwrap();
    assert_eq!(emu.groups().len(), 2);
    emu.shutdown().await.unwrap();
}
