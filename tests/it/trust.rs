//! The promises that must hold outside the happy path: a saved plan never does what a fresh
//! plan would refuse, production is never silently missed, exit codes mean one thing, deletes
//! never widen, and interrupted or half-done changes are told, not hidden.

use std::time::Duration;

use timctl::emulator::{Command as Cmd, Config, Fault, GroupType, SeedMember};

use crate::support::{Run, World, seed_group};

const NO_CHANGES: &str = "No changes. Live groups match the manifests.";

fn members(n: usize) -> Vec<SeedMember> {
    (0..n)
        .map(|i| SeedMember {
            account: format!("user{i}"),
            role: timctl::emulator::Role::Member,
            join_time: None,
        })
        .collect()
}

fn no_panic(run: &Run) {
    assert!(!run.stderr.contains("panicked"), "panic:\n{}", run.stderr);
}

// --- 1. A saved plan can never do what a fresh plan would refuse -----------------------------

fn saved_plan_world() -> World {
    let world = World::new();
    world.seed(vec![
        seed_group("ops-a", GroupType::Public, "A"),
        seed_group("ops-old", GroupType::Public, "Old"),
    ]);
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: ops-a\n    type: Public\n    name: A2\n  - id: ops-old\n    ensure: absent\n",
    );
    world
        .timctl(&["plan", "groups", "--out", "plan.json"])
        .code(0);
    world.clear_log();
    world
}

#[test]
fn an_edited_saved_plan_is_refused_before_any_call() {
    let world = saved_plan_world();
    let original = world.read("plan.json");
    let edits = [
        (
            "a desired value",
            original.replace("\"A2\"", "\"Hijacked\""),
        ),
        (
            "a guard emptied",
            original.replacen("\"state\": \"present\"", "\"state\": \"absent\"", 1),
        ),
        (
            "an added key",
            original.replacen("\"plan\": {", "\"plan\": {\n    \"note\": \"x\",", 1),
        ),
        ("truncated", original[..original.len() / 2].to_owned()),
        ("emptied", String::new()),
    ];
    for (what, edited) in edits {
        assert_ne!(edited, original, "{what}");
        let expected = if what == "a desired value" {
            "its seal does not match its content"
        } else {
            ""
        };
        world.write("plan.json", &edited);
        let run = world.timctl(&["apply", "plan.json"]);
        run.code(1);
        assert!(
            run.stderr.contains("plan.json was edited after")
                || run.stderr.contains("plan.json is not a saved plan"),
            "{what}: {}",
            run.stderr
        );
        run.stderr_has(expected);
        assert!(
            world.commands().is_empty(),
            "{what}: calls were made: {:?}",
            world.commands()
        );
    }
    // An added destroy, made to look like timctl's own output.
    let mut value: serde_json::Value = serde_json::from_str(&original).unwrap();
    value["plan"]["changes"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "id": "ops-a",
            "action": {"action": "destroy", "group_type": "Public", "member_num": 0, "reason": {"kind": "absent"}},
        }));
    let mut forged = serde_json::to_string_pretty(&value).unwrap();
    forged.push('\n');
    world.write("plan.json", &forged);
    world
        .timctl(&["apply", "plan.json"])
        .code(1)
        .stderr_has("plan.json was edited after");
    assert!(world.commands().is_empty());
    assert!(world.group("ops-a").is_some() && world.group("ops-old").is_some());
}

#[test]
fn a_saved_destroy_of_a_group_that_grew_is_stopped_as_a_fresh_plan_would_be() {
    let world = World::new();
    let mut small = seed_group("ops-old", GroupType::Public, "Old");
    small.members = members(2);
    world.seed(vec![small]);
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: ops-old\n    ensure: absent\n",
    );
    world
        .timctl(&["plan", "groups", "--out", "plan.json"])
        .code(0)
        .stdout_has("- destroy ops-old (Public, 2 members)");
    // Members join: InfoSeq does not move.
    world.edit("ops-old", |g| g.members = members(500));
    world
        .timctl(&["apply", "plan.json"])
        .code(1)
        .stderr_has("destroys groups holding 500 members, more than --max-destroy-members 100");
    assert!(world.group("ops-old").is_some());
    // With --force past the limits, the per-group guard still sees the members move.
    world
        .timctl(&["apply", "plan.json", "--force"])
        .code(1)
        .stdout_has("skipped: destroy ops-old: saved plan is stale: the group changed since the plan (its members changed from 2 to 500)");
    assert!(world.group("ops-old").is_some());
}

#[test]
fn a_saved_plan_names_what_changed_and_what_is_already_done() {
    let world = saved_plan_world();
    world.edit("ops-a", |g| {
        g.introduction = "edited live".into();
        g.custom.insert("team".into(), "x".into());
    });
    world
        .timctl(&["apply", "plan.json"])
        .code(1)
        .stdout_has("skipped: update ops-a: saved plan is stale: the group changed since the plan (custom.team, introduction edited live)")
        .stderr_has("Applying the saved plan plan.json (saved ");
    let world = saved_plan_world();
    world.timctl(&["apply", "plan.json"]).code(0);
    world
        .timctl(&["apply", "plan.json"])
        .code(0)
        .stdout_has("already applied: update ops-a")
        .stdout_has("already applied: destroy ops-old")
        .stdout_has("0 applied, 2 already applied, 0 failed, 0 skipped");
    assert!(!world.stdout_of_plan().contains("InfoSeq"));
}

impl World {
    fn stdout_of_plan(&self) -> String {
        self.timctl(&["plan", "groups"]).stdout
    }
}

#[test]
fn a_change_without_a_guard_is_never_written() {
    let world = World::new();
    world.seed(vec![seed_group("ops-a", GroupType::Public, "A")]);
    let client = timctl::api::Client::new(timctl::api::ClientConfig::new(
        timctl::api::Endpoint::url(&world.emulator.base_url()).unwrap(),
        world.emulator.sdkappid(),
        "administrator",
        timctl::api::Credentials::SecretKey(timctl::emulator::DEV_SECRET_KEY.into()),
    ))
    .unwrap();
    let plan = timctl::plan::Plan {
        changes: vec![timctl::plan::Change {
            id: "ops-a".into(),
            action: timctl::plan::Action::Destroy(timctl::plan::Destroy {
                group_type: timctl::model::GroupType::Public,
                member_num: 0,
                reason: timctl::plan::DestroyReason::Absent,
            }),
            origin: None,
        }],
        ..timctl::plan::Plan::default()
    };
    let options = timctl::apply::ApplyOptions {
        check_guards: true,
        ..Default::default()
    };
    let report = world
        .rt
        .block_on(timctl::apply::apply(&client, &plan, &options));
    assert!(report.failed());
    let text = timctl::render::apply_summary(&report, false);
    assert!(text.contains("holds no guard for this group"), "{text}");
    assert!(world.group("ops-a").is_some());
}

#[test]
fn show_renders_a_saved_plan_in_every_format_and_refuses_an_edited_one() {
    let world = saved_plan_world();
    world
        .timctl(&["show", "plan.json"])
        .code(0)
        .stdout_has("Planned against SDKAppID 1400000000 at http://127.0.0.1:")
        .stdout_has("~ update ops-a")
        .stdout_has("- destroy ops-old");
    world
        .timctl(&["show", "plan.json", "--format", "markdown"])
        .code(0)
        .stdout_has("## timctl plan");
    let json = world.timctl(&["show", "plan.json", "--format", "json"]);
    json.code(0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["summary"]["destroy"], 1);
    assert!(world.commands().is_empty(), "show is offline");
    let edited = world.read("plan.json").replace("\"A2\"", "\"A3\"");
    world.write("plan.json", &edited);
    world
        .timctl(&["show", "plan.json"])
        .code(1)
        .stderr_has("was edited after");
}

// --- 2. No silent fallback to the emulator -------------------------------------------------

#[test]
fn any_connection_setting_without_an_sdkappid_stops_instead_of_using_the_emulator() {
    let world = World::new();
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: a\n    type: Public\n    name: A\n",
    );
    for (var, value) in [
        ("TIM_SECRET_KEY", "prod-key-value"),
        ("TIM_USERSIG", "prod-sig-value"),
        ("TIM_REGION", "singapore"),
        ("TIM_ENDPOINT", "https://console.tim.qq.com"),
    ] {
        let run = world.bare(&["plan", "groups"], &[(var, value)]);
        run.code(1)
            .stderr_has(&format!("no SDKAppID is configured, but {var} is set"));
        assert!(!run.stderr.contains(value) || var == "TIM_REGION" || var == "TIM_ENDPOINT");
        assert!(
            !world.path(".timctl").exists(),
            "{var}: the emulator started"
        );
    }
    world.write("timctl.yaml", "region: seoul\n");
    world
        .bare(&["plan", "groups"], &[])
        .code(1)
        .stderr_has("timctl.yaml: region is set");
    std::fs::remove_file(world.path("timctl.yaml")).unwrap();
    world.write("key.txt", "k");
    world
        .bare(&["plan", "groups", "--secret-key-file", "key.txt"], &[])
        .code(1)
        .stderr_has("--secret-key-file is set");
    assert!(!world.path(".timctl").exists());
}

#[test]
fn a_plan_against_the_built_in_emulator_says_so_in_every_format() {
    let world = World::new();
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: a\n    type: Public\n    name: A\n",
    );
    // Empty variables, as unset CI secrets become, count as unset.
    let empty = [
        ("TIM_SDKAPPID", ""),
        ("TIM_SECRET_KEY", ""),
        ("TIM_REGION", ""),
    ];
    world.bare(&["plan", "groups"], &empty)
        .code(0)
        .stdout_has("Note: planned against the built-in emulator (SDKAppID 1400000000, state in .timctl/emulator.json), not Tencent Cloud");
    world
        .bare(&["plan", "groups", "--format", "markdown"], &empty)
        .code(0)
        .stdout_has("> [!WARNING]\n> Planned against the built-in emulator");
    let json = world.bare(&["plan", "groups", "--format", "json"], &empty);
    json.code(0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["target"]["builtin_emulator"], true);
}

// --- 3. Exit codes mean one thing ----------------------------------------------------------

#[test]
fn every_error_exits_1_and_only_changes_exit_2() {
    let world = World::new();
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: a\n    type: Public\n    name: A\n",
    );
    for args in [
        &["plan", "--no-such-flag"][..],
        &[][..],
        &["no-such-command"][..],
        &["plan", "--format", "yaml"][..],
        &["apply", "--max-update-percent", "101"][..],
    ] {
        let run = world.timctl(args);
        run.code(1);
        no_panic(&run);
    }
    world.timctl(&["--help"]).code(0).stdout_has("Usage:");
    world.timctl(&["--version"]).code(0).stdout_has("timctl ");
    world
        .timctl(&["plan", "groups", "--detailed-exitcode"])
        .code(2);
    world.timctl(&["plan", "groups"]).code(0);
    world
        .timctl_env(&["plan", "groups"], &[("TIM_SDKAPPID", "abc")])
        .code(1)
        .stderr_has("TIM_SDKAPPID: \"abc\" is not an SDKAppID");
}

#[test]
fn no_numeric_setting_panics_from_any_source() {
    let world = World::new();
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: a\n    type: Public\n    name: A\n",
    );
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 7] = [
        (
            &["plan", "groups", "--rate", "1e-300"],
            &[],
            "--rate: \"1e-300\"",
        ),
        (
            &["plan", "groups"],
            &[("TIM_RATE", "inf")],
            "TIM_RATE: \"inf\"",
        ),
        (
            &["plan", "groups", "--timeout", "99999999999999999999s"],
            &[],
            "--timeout:",
        ),
        (
            &[
                "reconcile",
                "groups",
                "--once",
                "--interval",
                "18446744073709551615s",
            ],
            &[],
            "--interval: \"18446744073709551615s\" is not a duration",
        ),
        (
            &["reconcile", "groups", "--once", "--interval", "0s"],
            &[],
            "--interval: \"0s\" is not a duration from 10s",
        ),
        (
            &["reconcile", "groups", "--once"],
            &[("TIMCTL_INTERVAL", "0s")],
            "TIMCTL_INTERVAL: \"0s\"",
        ),
        (
            &["plan", "groups", "--sdkappid=-1"],
            &[],
            "--sdkappid: \"-1\"",
        ),
    ];
    for (args, env, message) in cases {
        let run = world.timctl_env(args, env);
        run.code(1).stderr_has(message);
        no_panic(&run);
    }
    world.write("timctl.yaml", "interval: 18446744073709551615s\n");
    let run = world.timctl(&["reconcile", "groups", "--once"]);
    run.code(1).stderr_has("timctl.yaml: interval:");
    no_panic(&run);
}

// --- 4. Deletes never widen ----------------------------------------------------------------

#[test]
fn fewer_files_never_destroy_more() {
    let world = World::new();
    world.seed(vec![
        seed_group("ops-a", GroupType::Public, "A"),
        seed_group("ops-team", GroupType::Public, "Team"),
    ]);
    world.write(
        "groups/a.yaml",
        "groups:\n  - id: ops-a\n    type: Public\n    name: A\n",
    );
    world.write(
        "groups/teams/team.yml",
        "groups:\n  - id: ops-team\n    type: Public\n    name: Team\nprune:\n  id_prefixes: [\"ops-\"]\n",
    );
    world.clear_log();
    world
        .timctl(&["plan", "groups/teams/team.yml"])
        .code(1)
        .stderr_has("groups/teams/team.yml declares a prune, which governs every manifest under")
        .stderr_has("groups/a.yaml");
    assert!(world.commands().is_empty(), "{:?}", world.commands());
    world
        .timctl(&["apply", "groups/teams", "--auto-approve"])
        .code(1)
        .stderr_has("declares a prune");
    world
        .timctl(&["validate", "groups/teams"])
        .code(1)
        .stderr_has("declares a prune");
    assert!(world.group("ops-a").is_some());
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn a_destroy_of_a_lookalike_of_a_declared_id_is_a_plan_error() {
    let world = World::new();
    world.seed(vec![
        seed_group("ops-Keep", GroupType::Public, "Keep"),
        seed_group("ops-keep", GroupType::Public, "Keep"),
    ]);
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: ops-Keep\n    type: Public\n    name: Keep\nprune:\n  id_prefixes: [\"ops-\"]\n",
    );
    world
        .timctl(&["apply", "groups", "--auto-approve", "--force"])
        .code(1)
        .stderr_has("group \"ops-keep\": would be destroyed, but its id differs only by case or surrounding whitespace from the declared group \"ops-Keep\": did you mean that one?");
    assert!(world.group("ops-keep").is_some());
}

#[test]
fn one_edit_to_defaults_cannot_rewrite_the_fleet_unguarded() {
    let world = World::new();
    let ids: Vec<String> = (0..12).map(|i| format!("team-{i:02}")).collect();
    let manifest = |notice: &str| {
        let mut text = format!("defaults:\n  type: Public\n  notification: {notice}\ngroups:\n");
        for id in &ids {
            text.push_str(&format!("  - id: {id}\n    name: {id}\n"));
        }
        text
    };
    world.write("groups/g.yaml", &manifest("Welcome"));
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    world.write("groups/g.yaml", &manifest("Hijacked"));
    world.clear_log();
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(1)
        .stderr_has("the plan updates or transfers 12 of the 12 existing declared groups (100%), more than --max-update-percent 30: nothing was changed");
    assert!(!world.writes().iter().any(|w| w.starts_with("modify")));
    world
        .timctl(&[
            "apply",
            "groups",
            "--auto-approve",
            "--max-update-percent",
            "100",
        ])
        .code(0);
    assert_eq!(world.group("team-00").unwrap().notification, "Hijacked");
}

// --- 7. Interrupts and partial groups are told, not hidden --------------------------------

#[test]
fn a_create_stopped_between_its_calls_is_partially_applied_and_the_next_plan_shows_the_step() {
    let world = World::new();
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: muted\n    type: Public\n    name: Muted\n    mute_all: true\n",
    );
    for _ in 0..6 {
        world
            .emulator
            .fail_next(Cmd::ModifyGroupBaseInfo, Fault::Internal);
    }
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(1)
        .stdout_has("partially applied: create muted: import_group done, modify_group_base_info still to do")
        .stdout_has("0 applied, 0 failed, 1 partially applied, 0 skipped");
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has("~ update muted")
        .stdout_has("mute_all: false -> true");
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[cfg(unix)]
#[test]
fn a_second_interrupt_aborts_at_once_naming_the_calls_in_flight() {
    let world = World::with(Config {
        faults: timctl::emulator::Faults {
            latency: Duration::from_secs(4),
            ..Default::default()
        },
        ..Config::dev()
    });
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: slow-a\n    type: Public\n    name: A\n  - id: slow-b\n    type: Public\n    name: B\n",
    );
    let child = world.spawn(&["apply", "groups", "--auto-approve"]);
    // Every call takes 4 s: once the read is answered, the imports are under way for 4 s.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !world.commands().iter().any(|c| c == "get_group_info") {
        assert!(
            std::time::Instant::now() < deadline,
            "no read reached the emulator"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let kill = |signal: &str| {
        let status = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    kill("-TERM");
    std::thread::sleep(Duration::from_millis(300));
    kill("-INT");
    let started = std::time::Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the abort waited for the calls"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: finishing the changes under way"),
        "{stderr}"
    );
    assert!(
        stderr.contains("aborted with 2 calls in flight"),
        "{stderr}"
    );
    assert!(stderr.contains("create slow-a (import_group)"), "{stderr}");
    assert!(stderr.contains("create slow-b (import_group)"), "{stderr}");
}

// --- The app's configured custom fields, checked before any call ---------------------------

#[test]
fn custom_keys_the_app_has_not_configured_are_reported_by_validate() {
    let world = World::new();
    world.write("timctl.yaml", "custom_fields: [team, zone]\n");
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: a\n    type: Public\n    name: A\n    custom:\n      team: x\n      tema: y\n      owner_id: z\n",
    );
    world.clear_log();
    let run = world.timctl(&["validate", "groups"]);
    run.code(1)
        .stderr_has("group \"a\": field custom.tema: key \"tema\" is not a custom field configured for the app (timctl.yaml custom_fields); did you mean \"team\"?")
        .stderr_has("field custom.owner_id: key \"owner_id\" is not a custom field configured for the app (timctl.yaml custom_fields) (team, zone)");
    world.timctl(&["plan", "groups"]).code(1);
    assert!(world.commands().is_empty(), "{:?}", world.commands());
    world.write("timctl.yaml", "custom_fields: [team, tema, owner_id]\n");
    world.timctl(&["validate", "groups"]).code(0);
}

// --- Identity pre-flight -------------------------------------------------------------------

/// A replace carries over the live owner of a group whose owner is unmanaged, so that owner
/// goes through the pre-flight too: an account deleted since is named before any write.
#[test]
fn a_carried_over_owner_that_is_no_longer_imported_stops_the_replace_before_any_write() {
    let world = World::new();
    let mut seeded = seed_group("ops-r", GroupType::Public, "R");
    seeded.owner = Some("zed".into());
    world.seed(vec![seeded]);
    // Deleting an account leaves the groups it owns as they are.
    let reply: serde_json::Value = world.rt.block_on(async {
        reqwest::Client::new()
            .post(world.emulator.command_url("account_delete"))
            .body(serde_json::json!({"DeleteItem": [{"UserID": "zed"}]}).to_string())
            .send()
            .await
            .expect("account_delete answers")
            .json()
            .await
            .expect("a JSON answer")
    });
    assert_eq!(reply["ErrorCode"], 0, "{reply}");
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: ops-r\n    type: Private\n    name: R\n",
    );
    world.clear_log();
    world
        .timctl(&["apply", "groups", "--allow-replace", "--auto-approve"])
        .code(1)
        .stderr_has("groups/g.yaml:2: group \"ops-r\": field owner: account \"zed\" is not imported in the app (account_check: NotImported), so it cannot keep owning the group made again (the manifest leaves owner unmanaged, so the live owner is carried over)");
    assert!(
        world
            .writes()
            .iter()
            .all(|w| w.starts_with("get_") || w.starts_with("account_check")),
        "{:?}",
        world.writes()
    );
    assert_eq!(world.group("ops-r").unwrap().kind, GroupType::Public);
}

#[test]
fn an_owner_that_is_not_an_imported_account_stops_the_plan_before_any_write() {
    let world = World::new();
    world.seed(vec![seed_group("ops-a", GroupType::Public, "A")]);
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: ops-new\n    type: Public\n    name: New\n    owner: ghost_new\n  - id: ops-a\n    type: Public\n    name: A\n    owner: ghost_owner\n",
    );
    world.clear_log();
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(1)
        .stderr_has("groups/g.yaml:2: group \"ops-new\": field owner: account \"ghost_new\" is not imported in the app")
        .stderr_has("groups/g.yaml:6: group \"ops-a\": field owner: account \"ghost_owner\" is not imported in the app (account_check: NotImported), so it cannot become the new owner");
    assert!(
        world
            .writes()
            .iter()
            .all(|w| w.starts_with("get_") || w.starts_with("account_check")),
        "{:?}",
        world.writes()
    );
    assert!(world.commands().iter().any(|c| c == "account_check"));
    assert!(world.group("ops-new").is_none());
    // Once imported, the create goes ahead (the transfer still needs a member).
    world.rt.block_on(crate::support::import_accounts(
        &world.emulator,
        &["ghost_new"],
    ));
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: ops-new\n    type: Public\n    name: New\n    owner: ghost_new\n",
    );
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}
