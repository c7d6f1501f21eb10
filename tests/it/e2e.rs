//! plan and apply end to end: the real binary, the emulator over HTTP, and after every apply a
//! second plan that must say "No changes".

use timctl::emulator::{ApplyJoin, GroupType, SeedMember};

use crate::support::{World, seed_group};

const NO_CHANGES: &str = "No changes. Live groups match the manifests.";

const GROUPS: &str = r#"
defaults:
  type: Public
  owner: ops_bot
groups:
  - id: eng-announce
    name: Engineering
    introduction: |
      Announcements for the engineering org.
      Release notes and deploy windows.
    notification: Deploy freeze on Friday
    face_url: https://example.com/eng.png
    max_members: 2000
    apply_join: NeedPermission
    mute_all: true
    custom:
      team: platform
      zone: "a\0b"
    create_time: 1448357837
  - id: "@TGS#_devs"
    type: Community
    name: 开发者社区
    max_members: 100000
  - id: room
    type: ChatRoom
    name: Ops room
  - id: live
    type: AVChatRoom
    name: Keynote
"#;

fn applied_world() -> World {
    let world = World::new();
    world.write("groups/main.yaml", GROUPS);
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(0)
        .stdout_has("Apply complete: 4 applied, 0 failed, 0 skipped.");
    world
}

#[test]
fn plan_apply_then_plan_is_empty() {
    let world = World::new();
    world.write("groups/main.yaml", GROUPS);
    let plan = world.timctl(&["plan", "groups", "--detailed-exitcode"]);
    plan.code(2)
        .stdout_has("+ create eng-announce")
        .stdout_has("Plan: 4 to create, 0 to update, 0 owner transfers, 0 to destroy.")
        .stdout_has("The apply will make 5 API calls.");
    assert!(
        !world.writes().iter().any(|w| !w.starts_with("get_")),
        "plan wrote: {:?}",
        world.writes()
    );

    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(0)
        .stdout_has("Apply complete: 4 applied, 0 failed, 0 skipped.");
    let eng = world.group("eng-announce").expect("created");
    assert_eq!(eng.name, "Engineering");
    assert!(eng.mute_all, "muted right after import");
    assert_eq!(eng.custom["zone"], "a\0b");
    assert_eq!(eng.create_time, Some(1448357837));
    assert_eq!(eng.owner.as_deref(), Some("ops_bot"));
    assert!(world.group("@TGS#_devs").is_some());
    assert!(
        world.group("live").is_some(),
        "AVChatRoom made with create_group"
    );

    world
        .timctl(&["plan", "groups", "--detailed-exitcode"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn out_of_band_changes_show_up_as_drift_and_apply_puts_them_back() {
    let world = applied_world();
    world.edit("eng-announce", |g| {
        g.name = "Renamed by hand".into();
        g.custom.insert("legacy".into(), "1".into());
        g.mute_all = false;
    });
    world
        .timctl(&["plan", "groups", "--detailed-exitcode"])
        .code(2)
        .stdout_has("~ update eng-announce")
        .stdout_has(r#""Renamed by hand" -> "Engineering""#)
        .stdout_has("legacy");
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    let eng = world.group("eng-announce").unwrap();
    assert_eq!(eng.name, "Engineering");
    assert!(!eng.custom.contains_key("legacy"), "unmanaged key deleted");
    assert!(eng.mute_all);
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn omitted_fields_stay_as_they_are() {
    let world = applied_world();
    world.edit("room", |g| {
        g.introduction = "written in the console".into();
        g.custom.insert("anything".into(), "x".into());
    });
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn a_bad_manifest_reports_every_problem_and_calls_nothing() {
    let world = World::new();
    world.write(
        "groups/bad.yaml",
        r#"groups:
  - id: eng
    type: Public
    name: "this name is longer than thirty bytes"
    nmae: typo
  - id: eng
    type: Pubic
"#,
    );
    let run = world.timctl(&["plan", "groups"]);
    run.code(1)
        .stderr_has(
            r#"groups/bad.yaml:4: group "eng": field name: 37 bytes, at most 30 (UTF-8 bytes)"#,
        )
        .stderr_has(r#"unknown key "nmae"; did you mean "name"?"#)
        .stderr_has("Pubic");
    assert!(
        world.commands().is_empty(),
        "no call before validation passes"
    );
    world.timctl(&["apply", "groups", "--auto-approve"]).code(1);
    assert!(world.commands().is_empty());
}

#[test]
fn owner_changes_transfer_to_members_only() {
    let world = applied_world();
    world.edit("room", |g| {
        g.members.push(SeedMember {
            account: "bob".into(),
            role: timctl::emulator::Role::Member,
            join_time: None,
        });
    });
    let changed = GROUPS.replace(
        "    type: ChatRoom\n    name: Ops room\n",
        "    type: ChatRoom\n    name: Ops room\n    owner: bob\n",
    );
    world.write("groups/main.yaml", &changed);
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has("~ owner room")
        .stdout_has("1 owner transfer");
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    assert_eq!(world.group("room").unwrap().owner.as_deref(), Some("bob"));
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);

    let to_stranger = changed.replace("owner: bob", "owner: mallory");
    world.write("groups/main.yaml", &to_stranger);
    world.clear_log();
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(1)
        .stderr_has(r#"group "room": field owner: "mallory" is not a member"#);
    assert!(
        !world.commands().iter().any(|c| c == "change_group_owner"),
        "refused at plan time"
    );
}

#[test]
fn a_type_change_needs_allow_replace() {
    let world = applied_world();
    let changed = GROUPS.replace("    type: ChatRoom\n", "    type: Private\n");
    world.write("groups/main.yaml", &changed);
    world
        .timctl(&["plan", "groups"])
        .code(1)
        .stderr_has("type cannot change from ChatRoom to Private");
    world
        .timctl(&["plan", "groups", "--allow-replace"])
        .code(0)
        .stdout_has("-/+ replace room");
    world
        .timctl(&["apply", "groups", "--allow-replace", "--auto-approve"])
        .code(0);
    assert_eq!(world.group("room").unwrap().kind, GroupType::Private);
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

/// The issue-11 case: a replace of a group whose owner, introduction and custom data the
/// manifest leaves unmanaged keeps them, and every view of the plan says so field by field.
#[test]
fn a_replace_keeps_the_unmanaged_owner_introduction_and_custom_data_and_names_them() {
    let world = World::new();
    let mut seeded = seed_group("ty-a", GroupType::Public, "Team A");
    seeded.owner = Some("alice".into());
    seeded.introduction = "Where team A talks".into();
    seeded.custom.insert("team".into(), "a".into());
    seeded.apply_join = Some(ApplyJoin::FreeAccess);
    world.seed(vec![seeded]);
    world.write(
        "groups/main.yaml",
        "groups:\n  - id: ty-a\n    type: Private\n    name: Team A\n",
    );

    world
        .timctl(&["plan", "groups", "--allow-replace"])
        .code(0)
        .stdout_has("-/+ replace ty-a (Public -> Private, 1 member lost)")
        .stdout_has("      owner: \"alice\" (carried over)\n")
        .stdout_has("      introduction: \"Where team A talks\" (carried over)\n")
        .stdout_has("      custom.team: \"a\" (carried over)\n")
        .stdout_has("      members: 1 (lost)\n")
        .stdout_has("      history: all messages (lost)\n")
        .stdout_has(
            "      apply_join: FreeAccess (lost: a Private group takes no join applications)\n",
        );
    world
        .timctl(&["plan", "groups", "--allow-replace", "--format", "markdown"])
        .code(0)
        .stdout_has("+   owner: \"alice\" (carried over)\n")
        .stdout_has("+   introduction: \"Where team A talks\" (carried over)\n")
        .stdout_has("+   custom.team: \"a\" (carried over)\n")
        .stdout_has("-   members: 1 (lost)\n")
        .stdout_has(
            "-   apply_join: FreeAccess (lost: a Private group takes no join applications)\n",
        );
    let json = world.timctl(&["plan", "groups", "--allow-replace", "--format", "json"]);
    json.code(0);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let change = &document["changes"][0];
    assert_eq!(change["action"], "replace", "{change}");
    let carried: Vec<&str> = change["carried"]
        .as_array()
        .expect("carried")
        .iter()
        .map(|field| field.as_str().unwrap())
        .collect();
    for field in ["owner", "introduction", "custom"] {
        assert!(carried.contains(&field), "{field} not carried: {change}");
    }
    assert_eq!(
        change["fields"]["owner"],
        serde_json::json!({"actual": "alice", "desired": "alice", "origin": null})
    );
    assert_eq!(
        change["custom"]["team"],
        serde_json::json!({"actual": "a", "desired": "a", "origin": null})
    );
    let lost: Vec<&str> = change["lost"]
        .as_array()
        .expect("lost")
        .iter()
        .map(|loss| loss["field"].as_str().unwrap())
        .collect();
    assert_eq!(lost, vec!["members", "history", "apply_join"], "{change}");

    world
        .timctl(&["apply", "groups", "--allow-replace", "--auto-approve"])
        .code(0);
    let made = world.group("ty-a").expect("the group is made again");
    assert_eq!(made.kind, GroupType::Private);
    assert_eq!(made.owner.as_deref(), Some("alice"));
    assert_eq!(made.introduction, "Where team A talks");
    assert_eq!(made.custom.get("team").map(String::as_str), Some("a"));
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

/// A saved plan of a replace holds what it carries over: `show` names it and `apply` makes the
/// group with it.
#[test]
fn a_saved_replace_carries_over_what_it_showed() {
    let world = World::new();
    let mut seeded = seed_group("ty-b", GroupType::ChatRoom, "Team B");
    seeded.owner = Some("alice".into());
    seeded.notification = "Standup at ten".into();
    seeded.mute_all = true;
    world.seed(vec![seeded]);
    world.write(
        "groups/main.yaml",
        "groups:\n  - id: ty-b\n    type: Public\n    name: Team B\n",
    );
    world
        .timctl(&["plan", "groups", "--allow-replace", "--out", "plan.json"])
        .code(0);
    world
        .timctl(&["show", "plan.json"])
        .code(0)
        .stdout_has("      owner: \"alice\" (carried over)\n")
        .stdout_has("      notification: \"Standup at ten\" (carried over)\n")
        .stdout_has("      mute_all: true (carried over)\n");
    world.timctl(&["apply", "plan.json"]).code(0);
    let made = world.group("ty-b").expect("the group is made again");
    assert_eq!(made.kind, GroupType::Public);
    assert_eq!(made.owner.as_deref(), Some("alice"));
    assert_eq!(made.notification, "Standup at ten");
    assert!(made.mute_all);
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn apply_refuses_to_prompt_without_a_terminal() {
    let world = World::new();
    world.write("groups/main.yaml", GROUPS);
    world
        .timctl(&["apply", "groups"])
        .code(1)
        .stderr_has("stdin is not a terminal");
    assert!(world.group("room").is_none());
}

#[test]
fn a_seeded_group_is_adopted_without_changes() {
    let world = World::new();
    world.seed(vec![seed_group("room", GroupType::ChatRoom, "Ops room")]);
    world.write(
        "groups/main.yaml",
        "groups:\n  - id: room\n    type: ChatRoom\n    name: Ops room\n",
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn the_embedded_emulator_runs_the_whole_flow_offline() {
    let world = World::new();
    world.write("groups/main.yaml", GROUPS);
    let offline = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_timctl"));
        command
            .args(args)
            .current_dir(world.dir.path())
            .env_clear()
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null());
        let output = command.output().unwrap();
        (
            output.status.code().unwrap(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = offline(&["plan", "groups"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("using the built-in emulator"), "{stderr}");
    assert!(stdout.contains("4 to create"), "{stdout}");
    let (code, _, stderr) = offline(&["apply", "groups", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(world.path(".timctl/emulator.json").exists());
    let (code, stdout, _) = offline(&["plan", "groups"]);
    assert_eq!(code, 0);
    assert!(stdout.contains(NO_CHANGES), "{stdout}");
}

/// The built-in demo has no console: it imports the examples' owners on first use and takes
/// their custom keys, so a fresh clone can plan and apply them with no settings at all.
#[test]
fn the_built_in_demo_applies_the_shipped_examples_from_a_fresh_start() {
    let dir = tempfile::tempdir().unwrap();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/groups");
    let offline = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_timctl"))
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (
            output.status.code().unwrap(),
            text(&output.stdout),
            text(&output.stderr),
        )
    };
    let (code, stdout, stderr) = offline(&["plan", examples]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("10 to create"), "{stdout}");
    let (code, stdout, stderr) = offline(&["apply", examples, "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("10 applied, 0 failed"), "{stdout}");
    let (code, stdout, _) = offline(&["plan", examples]);
    assert_eq!(code, 0);
    assert!(stdout.contains(NO_CHANGES), "{stdout}");
}

#[test]
fn the_shipped_examples_apply_cleanly() {
    let world = World::new();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/groups");
    world.timctl(&["validate", examples]).code(0);
    world
        .timctl(&["plan", examples, "--detailed-exitcode"])
        .code(2)
        .stdout_has("10 to create");
    world
        .timctl(&["apply", examples, "--auto-approve"])
        .code(0)
        .stdout_has("10 applied, 0 failed");
    world
        .timctl(&["plan", examples, "--detailed-exitcode"])
        .code(0)
        .stdout_has(NO_CHANGES);
}
