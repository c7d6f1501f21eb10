//! Review and GitOps flows: saved plans, drift labels, delete guards, export, scoping, and the
//! machine-readable outputs.

use timctl::emulator::{GroupType, SeedMember};

use crate::support::{World, seed_group};

const NO_CHANGES: &str = "No changes. Live groups match the manifests.";

fn manifest(groups: &[(&str, &str)]) -> String {
    let mut text = String::from("defaults:\n  type: Public\ngroups:\n");
    for (id, name) in groups {
        text.push_str(&format!("  - id: {id}\n    name: {name}\n"));
    }
    text
}

fn members(n: usize) -> Vec<SeedMember> {
    (0..n)
        .map(|i| SeedMember {
            account: format!("user{i}"),
            role: timctl::emulator::Role::Member,
            join_time: None,
        })
        .collect()
}

#[test]
fn a_saved_plan_skips_a_group_edited_after_review_and_applies_the_others() {
    let world = World::new();
    world.seed(vec![
        seed_group("ops-a", GroupType::Public, "A"),
        seed_group("ops-b", GroupType::Public, "B"),
    ]);
    world.write(
        "groups/g.yaml",
        &manifest(&[("ops-a", "A2"), ("ops-b", "B2"), ("ops-c", "C")]),
    );
    world
        .timctl(&["plan", "groups", "--out", "plan.json"])
        .code(0);
    let saved = world.read("plan.json");
    assert!(saved.contains("\"info_seq\""), "{saved}");
    assert!(!saved.contains(timctl::emulator::DEV_SECRET_KEY));

    world.edit("ops-b", |g| g.notification = "edited after review".into());
    world
        .timctl(&["apply", "plan.json"])
        .code(1)
        .stdout_has("skipped: update ops-b: saved plan is stale: the group changed since the plan (notification edited live); not applied")
        .stdout_has("2 applied, 0 failed, 1 skipped");
    assert_eq!(world.group("ops-a").unwrap().name, "A2");
    assert_eq!(
        world.group("ops-b").unwrap().name,
        "B",
        "the human edit wins"
    );
    assert_eq!(
        world.group("ops-b").unwrap().notification,
        "edited after review"
    );
    assert!(world.group("ops-c").is_some());
}

#[test]
fn a_saved_plan_is_not_applied_to_another_app() {
    let world = World::new();
    world.write("groups/g.yaml", &manifest(&[("ops-a", "A")]));
    world
        .timctl(&["plan", "groups", "--out", "plan.json"])
        .code(0);
    world
        .timctl_env(&["apply", "plan.json"], &[("TIM_SDKAPPID", "1400000001")])
        .code(1)
        .stderr_has("made against SDKAppID 1400000000");
    assert!(world.group("ops-a").is_none());
}

#[test]
fn baseline_labels_drift_apart_from_this_change() {
    let world = World::new();
    world.seed(vec![
        seed_group("ops-a", GroupType::Public, "A"),
        seed_group("ops-b", GroupType::Public, "B"),
    ]);
    world.write("base/g.yaml", &manifest(&[("ops-a", "A"), ("ops-b", "B")]));
    world.write(
        "groups/g.yaml",
        &manifest(&[("ops-a", "A2"), ("ops-b", "B")]),
    );
    world.edit("ops-b", |g| g.name = "B by hand".into());
    let run = world.timctl(&["plan", "groups", "--baseline", "base", "--format", "json"]);
    run.code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let origins: Vec<(String, String)> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["origin"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        origins,
        vec![
            ("ops-a".to_owned(), "this_change".to_owned()),
            ("ops-b".to_owned(), "drift".to_owned())
        ]
    );
    world
        .timctl(&["plan", "groups", "--baseline", "base"])
        .code(0)
        .stdout_has("This change")
        .stdout_has("Drift");
}

/// One group with a change under review (`name`) and two drifted fields (`notification`,
/// `mute_all`): each field is listed under its own section, in every view, and the apply is
/// still one modify call that sets all three.
#[test]
fn baseline_splits_a_group_with_a_change_and_drift_per_field() {
    let world = World::new();
    let mut seeded = seed_group("ops-a", GroupType::Public, "A");
    seeded.notification = "Be kind".into();
    world.seed(vec![seeded]);
    let group = |name: &str| {
        format!(
            "groups:\n  - id: ops-a\n    type: Public\n    name: {name}\n    notification: Be kind\n    mute_all: false\n"
        )
    };
    world.write("base/g.yaml", &group("A"));
    world.write("groups/g.yaml", &group("A2"));
    world.edit("ops-a", |g| {
        g.notification = "edited by hand".into();
        g.mute_all = true;
    });

    let text = world.timctl(&["plan", "groups", "--baseline", "base"]);
    text.code(0);
    let out = &text.stdout;
    let drift_at = out
        .find("\nDrift (live already differed from the baseline):\n")
        .unwrap_or_else(|| panic!("a drift section: {out}"));
    let (this_change, drift) = out.split_at(drift_at);
    let this_change = &this_change[this_change.find("\nThis change:\n").expect("this change")..];
    assert!(this_change.contains("~ update ops-a"), "{out}");
    assert!(this_change.contains(r#"name: "A" -> "A2""#), "{out}");
    assert!(!this_change.contains("notification"), "{out}");
    assert!(!this_change.contains("mute_all"), "{out}");
    assert!(drift.contains("~ update ops-a"), "{out}");
    assert!(
        drift.contains(r#"notification: "edited by hand" -> "Be kind""#),
        "{out}"
    );
    assert!(drift.contains("mute_all: true -> false"), "{out}");
    assert!(!drift.contains("name:"), "{out}");
    assert!(out.contains("Plan: 0 to create, 1 to update, 0 owner transfers, 0 to destroy."));
    assert!(out.contains("The apply will make 1 API call."), "{out}");

    let md = world.timctl(&[
        "plan",
        "groups",
        "--baseline",
        "base",
        "--format",
        "markdown",
    ]);
    md.code(0);
    let out = &md.stdout;
    let drift_at = out
        .find("### Drift (live already differed from the baseline)\n")
        .unwrap_or_else(|| panic!("a drift section: {out}"));
    let (this_change, drift) = out.split_at(drift_at);
    let this_change = &this_change[this_change.find("### This change\n").expect("this change")..];
    assert!(this_change.contains("update ops-a (1 field)"), "{out}");
    assert!(this_change.contains("+   name: \"A2\""), "{out}");
    assert!(!this_change.contains("notification"), "{out}");
    assert!(drift.contains("update ops-a (2 fields)"), "{out}");
    assert!(drift.contains("+   notification: \"Be kind\""), "{out}");
    assert!(drift.contains("+   mute_all: false"), "{out}");
    assert!(!drift.contains("name:"), "{out}");
    assert!(
        out.contains("| this change | 0 | 1 | 0 | 0 | 0 | 1 |"),
        "{out}"
    );
    assert!(out.contains("| drift | 0 | 1 | 0 | 0 | 0 | 0 |"), "{out}");
    assert!(
        out.contains("| **total** | 0 | 1 | 0 | 0 | 0 | 1 |"),
        "{out}"
    );

    let run = world.timctl(&["plan", "groups", "--baseline", "base", "--format", "json"]);
    run.code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let changes = json["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "one change for one group: {json}");
    let change = &changes[0];
    assert_eq!(change["origin"], "this_change");
    assert_eq!(
        change["commands"],
        serde_json::json!(["modify_group_base_info"])
    );
    let origin = |field: &str| change["fields"][field]["origin"].clone();
    assert_eq!(origin("name"), "this_change", "{json}");
    assert_eq!(origin("notification"), "drift", "{json}");
    assert_eq!(origin("mute_all"), "drift", "{json}");
    assert_eq!(json["summary"]["api_calls"], 1);

    world.clear_log();
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    assert_eq!(
        world.writes(),
        vec!["modify_group_base_info ops-a".to_owned()]
    );
    let live = world.group("ops-a").unwrap();
    assert_eq!(
        (
            live.name.as_str(),
            live.notification.as_str(),
            live.mute_all
        ),
        ("A2", "Be kind", false)
    );
}

#[test]
fn destroys_are_guarded_by_limits_protect_and_prune_scope() {
    let world = World::new();
    let mut big = seed_group("ops-big", GroupType::Public, "Big");
    big.members = members(150);
    world.seed(vec![
        big,
        seed_group("ops-keep", GroupType::Public, "Keep"),
        seed_group("ops-stray", GroupType::Public, "Stray"),
        seed_group("other-stray", GroupType::Public, "Other"),
    ]);
    let base = "groups:\n  - id: ops-keep\n    type: Public\n    name: Keep\n";
    world.write(
        "groups/g.yaml",
        &format!("{base}  - id: ops-big\n    ensure: absent\nprune:\n  id_prefixes: [\"ops-\"]\n"),
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has("- destroy ops-big (Public, 150 members)")
        .stdout_has("- destroy ops-stray");
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(1)
        .stderr_has("more than --max-destroy-members 100: nothing was changed");
    assert!(world.group("ops-big").is_some() && world.group("ops-stray").is_some());
    world
        .timctl(&[
            "apply",
            "groups",
            "--auto-approve",
            "--max-destroy",
            "1",
            "--max-destroy-members",
            "1000",
        ])
        .code(1)
        .stderr_has("more than --max-destroy 1");
    world
        .timctl(&["apply", "groups", "--auto-approve", "--force"])
        .code(0);
    assert!(world.group("ops-big").is_none() && world.group("ops-stray").is_none());
    assert!(
        world.group("other-stray").is_some(),
        "outside every prune prefix"
    );
    assert!(world.group("ops-keep").is_some());
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn a_protected_group_is_never_destroyed() {
    let world = World::new();
    world.seed(vec![seed_group("ops-keep", GroupType::Public, "Keep")]);
    // Declared and protected: a type change with --allow-replace would destroy it.
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: ops-keep\n    type: ChatRoom\n    name: Keep\n    protect: true\n",
    );
    world
        .timctl(&[
            "apply",
            "groups",
            "--auto-approve",
            "--force",
            "--allow-replace",
        ])
        .code(1)
        .stderr_has(r#"group "ops-keep": is protected (protect: true) and would be destroyed"#);
    assert_eq!(world.group("ops-keep").unwrap().kind, GroupType::Public);
}

#[test]
fn prune_with_no_declared_group_is_refused() {
    let world = World::new();
    world.seed(vec![seed_group("ops-a", GroupType::Public, "A")]);
    world.write("groups/p.yaml", "prune:\n  id_prefixes: [\"ops-\"]\n");
    world
        .timctl(&["apply", "groups", "--auto-approve", "--force"])
        .code(1)
        .stderr_has("no manifest declares a group");
    assert!(world.group("ops-a").is_some());
}

#[test]
fn export_then_plan_says_no_changes() {
    let world = World::new();
    let mut rich = seed_group("ops-rich", GroupType::Public, "丰富的群");
    rich.introduction = "line one\nline two\n".into();
    rich.notification = "notice".into();
    rich.owner = Some("alice".into());
    rich.mute_all = true;
    rich.custom.insert("k".into(), "v\0w".into());
    world.seed(vec![
        rich,
        seed_group("ops-room", GroupType::ChatRoom, "Room"),
        seed_group("ops-live", GroupType::AVChatRoom, "Live"),
        seed_group("@TGS#_ops", GroupType::Community, "Community"),
        seed_group("misc", GroupType::Private, "Misc"),
    ]);
    world
        .timctl(&["export", "--id-prefix", "ops-", "--out", "exported"])
        .code(0)
        .stderr_has("Exported 3 groups");
    world.timctl(&["validate", "exported"]).code(0);
    world
        .timctl(&["plan", "exported", "--detailed-exitcode"])
        .code(0)
        .stdout_has(NO_CHANGES);
    let all = world.timctl(&["export"]);
    all.code(0).stdout_has("id: misc").stdout_has("'@TGS#_ops'");
    world.write("all/groups.yaml", &all.stdout);
    world
        .timctl(&["plan", "all", "--detailed-exitcode"])
        .code(0)
        .stdout_has(NO_CHANGES);
    world
        .timctl(&["export", "--type", "Community"])
        .code(0)
        .stdout_has("@TGS#_ops");
}

#[test]
fn target_and_exclude_limit_plan_and_apply() {
    let world = World::new();
    world.write(
        "groups/g.yaml",
        &manifest(&[("ops-a", "A"), ("ops-b", "B"), ("ops-c", "C")]),
    );
    world
        .timctl(&["plan", "groups", "--target", "ops-b"])
        .code(0)
        .stdout_has("1 to create");
    world
        .timctl(&["apply", "groups", "--auto-approve", "--exclude", "ops-b"])
        .code(0);
    assert!(world.group("ops-a").is_some() && world.group("ops-c").is_some());
    assert!(world.group("ops-b").is_none());
    world
        .timctl(&["plan", "groups", "--detailed-exitcode"])
        .code(2)
        .stdout_has("+ create ops-b");
}

#[test]
fn json_and_markdown_outputs() {
    let world = World::new();
    world.seed(vec![
        seed_group("ops-a", GroupType::Public, "A"),
        seed_group("ops-old", GroupType::Public, "Old"),
    ]);
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: ops-a\n    type: Public\n    name: A2\n  - id: ops-new\n    type: ChatRoom\n    name: New\n  - id: ops-old\n    ensure: absent\n",
    );
    let json = world.timctl(&["plan", "groups", "--format", "json"]);
    json.code(0);
    // The emulator's port differs from run to run.
    let url = world.emulator.base_url();
    let url = url.trim_end_matches('/');
    let masked = |text: &str| text.replace(url, "http://127.0.0.1:PORT");
    let value: serde_json::Value = serde_json::from_str(&masked(&json.stdout)).unwrap();
    insta::assert_json_snapshot!("e2e_plan_json", value);
    let markdown = world.timctl(&["plan", "groups", "--format", "markdown"]);
    markdown.code(0);
    insta::assert_snapshot!("e2e_plan_markdown", masked(&markdown.stdout));
}

#[test]
fn reconcile_once_corrects_drift_and_logs_one_record() {
    let world = World::new();
    world.seed(vec![seed_group("ops-a", GroupType::Public, "A")]);
    world.write("groups/g.yaml", &manifest(&[("ops-a", "A")]));
    world.edit("ops-a", |g| g.name = "changed by hand".into());
    let run = world.timctl(&["--log-format", "json", "reconcile", "groups", "--once"]);
    run.code(0);
    assert_eq!(world.group("ops-a").unwrap().name, "A");
    let records: Vec<serde_json::Value> = run
        .stderr
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|record: &serde_json::Value| record["target"] == "timctl::reconcile")
        .collect();
    assert_eq!(records.len(), 1, "{}", run.stderr);
    assert_eq!(records[0]["fields"]["changes"], 1);
    assert_eq!(records[0]["fields"]["applied"], 1);
    assert_eq!(records[0]["fields"]["failed"], 0);

    world.edit("ops-a", |g| g.name = "again".into());
    world
        .timctl(&["reconcile", "groups", "--once", "--dry-run"])
        .code(0);
    assert_eq!(
        world.group("ops-a").unwrap().name,
        "again",
        "dry run changes nothing"
    );
}

#[cfg(unix)]
#[test]
fn reconcile_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let world = World::new();
    world.write("groups/g.yaml", &manifest(&[("ops-a", "A")]));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_timctl"))
        .args([
            "--log-format",
            "json",
            "reconcile",
            "groups",
            "--interval",
            "1h",
        ])
        .current_dir(world.dir.path())
        .env("TIM_SDKAPPID", world.emulator.sdkappid().to_string())
        .env("TIM_SECRET_KEY", timctl::emulator::DEV_SECRET_KEY)
        .env("TIM_ENDPOINT", world.emulator.base_url())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (lines, records) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let first = loop {
        match records.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(line) if line.contains("reconcile run finished") => break line,
            Ok(_) => continue,
            Err(error) => {
                let _ = child.kill();
                panic!("no reconcile record within 60 s: {error}");
            }
        }
    };
    assert!(first.contains("\"applied\":1"), "{first}");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "a clean stop on SIGTERM");
    assert!(world.group("ops-a").is_some());
}

#[test]
fn a_saved_plan_is_applied_as_saved() {
    let world = World::new();
    world.write(
        "groups/g.yaml",
        &manifest(&[("ops-a", "A"), ("ops-b", "B")]),
    );
    world
        .timctl(&["plan", "groups", "--out", "plan.json"])
        .code(0);
    world
        .timctl(&["apply", "plan.json", "--target", "ops-a"])
        .code(1)
        .stderr_has("a saved plan is applied exactly as it was saved");
    assert!(world.group("ops-a").is_none());
    world.timctl(&["apply", "plan.json"]).code(0);
    assert!(world.group("ops-a").is_some() && world.group("ops-b").is_some());
}

#[test]
fn an_export_manages_its_empty_fields_so_a_later_live_value_is_drift() {
    let world = World::new();
    world.seed(vec![seed_group("ops-plain", GroupType::Public, "Plain")]);
    world
        .timctl(&["export", "--out", "exported"])
        .code(0)
        .stderr_has("Exported 1 group to");
    let text = world.read("exported/ops-plain.yaml");
    for field in ["face_url: ''", "introduction: ''", "custom: {}"] {
        assert!(text.contains(field), "{field} missing from\n{text}");
    }
    world
        .timctl(&["plan", "exported", "--detailed-exitcode"])
        .code(0)
        .stdout_has(NO_CHANGES);
    world
        .timctl(&["export", "--minimal", "--out", "minimal"])
        .code(0);
    world.edit("ops-plain", |g| {
        g.face_url = "https://cdn.example/face.png".into();
        g.custom.insert("team".into(), "growth".into());
    });
    world
        .timctl(&["plan", "exported", "--detailed-exitcode"])
        .code(2)
        .stdout_has("face_url")
        .stdout_has("https://cdn.example/face.png")
        .stdout_has("team");
    world
        .timctl(&["plan", "minimal", "--detailed-exitcode"])
        .code(0)
        .stdout_has(NO_CHANGES);
    world
        .timctl(&["apply", "exported", "--auto-approve"])
        .code(0);
    let group = world.group("ops-plain").unwrap();
    assert_eq!(group.face_url, "");
    assert!(
        group.custom.values().all(String::is_empty),
        "{:?}",
        group.custom
    );
    world
        .timctl(&["plan", "exported", "--detailed-exitcode"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

/// The group count `validate` prints for `dir`.
fn validated(world: &World, dir: &str) -> String {
    let run = world.timctl(&["validate", dir]);
    run.code(0);
    run.stdout.trim().to_owned()
}

#[test]
fn export_writes_one_file_per_group_whatever_the_ids_fold_to() {
    let world = World::new();
    let ids = [
        "Team-A", "team-a", "team/a", "team_a", "timctl", "TIMCTL", "con",
    ];
    world.seed(
        ids.iter()
            .map(|id| seed_group(id, GroupType::Public, "T"))
            .collect(),
    );
    world
        .timctl(&["export", "--out", "exported"])
        .code(0)
        .stderr_has("Exported 7 groups to");
    assert_eq!(validated(&world, "exported"), "ok: 7 groups in 7 files");
    let names: Vec<String> = std::fs::read_dir(world.path("exported"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_lowercase())
        .collect();
    let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
    assert_eq!(distinct.len(), 7, "{names:?}");
    assert!(
        !names
            .iter()
            .any(|n| n == "timctl.yaml" || n == "timctl.yml")
    );
    world
        .timctl(&["plan", "exported", "--detailed-exitcode"])
        .code(0)
        .stdout_has(NO_CHANGES);
    // Exported again: the same files, overwritten in place.
    world
        .timctl(&["export", "--out", "exported"])
        .code(0)
        .stderr_has("Exported 7 groups to");
    assert_eq!(validated(&world, "exported"), "ok: 7 groups in 7 files");
}

#[test]
fn export_never_overwrites_or_removes_a_file_it_did_not_write() {
    let world = World::new();
    world.seed(vec![
        seed_group("ops-a", GroupType::Public, "A"),
        seed_group("ops-b", GroupType::Public, "B"),
    ]);
    let hand = "groups:\n  - id: ops-a\n    name: Mine\n";
    world.write("exported/ops-a.yaml", hand);
    world.write(
        "exported/notes.yaml",
        "groups:\n  - id: ops-gone\n    name: Gone\n",
    );
    world
        .timctl(&["export", "--out", "exported"])
        .code(1)
        .stderr_has("ops-a.yaml")
        .stderr_has("--force");
    assert_eq!(world.read("exported/ops-a.yaml"), hand);
    assert!(
        !world.path("exported/ops-b.yaml").exists(),
        "nothing is written"
    );

    // --force overwrites it, and removes a file of a group gone only when export wrote it.
    world
        .timctl(&["export", "--out", "exported", "--force"])
        .code(0)
        .stderr_has("Exported 2 groups to");
    assert!(world.read("exported/ops-a.yaml").contains("name: A"));
    world.write("gone/g.yaml", "groups:\n  - {id: ops-b, ensure: absent}\n");
    world
        .timctl(&["apply", "gone", "--auto-approve", "--force"])
        .code(0);
    assert!(world.group("ops-b").is_none());
    world
        .timctl(&["export", "--out", "exported"])
        .code(0)
        .stderr_has("Exported 1 group to")
        .stderr_has("pass --force to remove them")
        .stderr_has("ops-b.yaml");
    assert!(
        world.path("exported/ops-b.yaml").exists(),
        "left without --force"
    );
    world
        .timctl(&["export", "--out", "exported", "--force"])
        .code(0)
        .stderr_has("Removed 1 file of groups that no longer exist")
        .stderr_has("ops-b.yaml");
    assert!(!world.path("exported/ops-b.yaml").exists());
    assert_eq!(
        world.read("exported/notes.yaml"),
        "groups:\n  - id: ops-gone\n    name: Gone\n",
        "a hand-written file is never removed"
    );
    std::fs::remove_file(world.path("exported/notes.yaml")).unwrap();
    assert_eq!(validated(&world, "exported"), "ok: 1 group in 1 file");
}
