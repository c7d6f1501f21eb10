//! Members and admins as code, end to end: the real binary against the emulator over HTTP.
//! Every apply is followed by a plan that must say "No changes".

use std::collections::BTreeMap;

use timctl::emulator::{self, Role as SeedRole, SeedGroup, SeedMember};

use crate::support::{World, owned_group, seed_group};

const NO_CHANGES: &str = "No changes. Live groups match the manifests.";

/// A Public group owned by alice with these members (alice is added as Owner).
fn group(id: &str, members: &[(&str, SeedRole)]) -> SeedGroup {
    owned_group(id, emulator::GroupType::Public, "alice", members)
}

/// Every member of the live group and its role.
fn members(world: &World, id: &str) -> BTreeMap<String, SeedRole> {
    world
        .group(id)
        .expect("the group exists")
        .members
        .into_iter()
        .map(|m| (m.account, m.role))
        .collect()
}

fn roles(pairs: &[(&str, SeedRole)]) -> BTreeMap<String, SeedRole> {
    pairs.iter().map(|(a, r)| ((*a).to_owned(), *r)).collect()
}

fn manifest(world: &World, body: &str) {
    world.write(
        "groups/eng.yaml",
        &format!("groups:\n  - id: eng\n    type: Public\n    name: eng\n{body}"),
    );
}

#[test]
fn adding_removing_promoting_and_demoting_converge_and_a_second_plan_is_empty() {
    use SeedRole::{Admin, Member, Owner};
    let world = World::new();
    world.seed(vec![group(
        "eng",
        &[("bob", Admin), ("carol", Member), ("mallory", Member)],
    )]);
    manifest(
        &world,
        "    admins: [carol]\n    members: [bob, dave]\n    members_exclusive: true\n",
    );
    world
        .timctl(&["plan", "groups", "--detailed-exitcode"])
        .code(2)
        .stdout_has(
            "  ~ members eng (1 to add, 1 to promote, 1 to demote, 1 to remove)\n      + member dave\n      ~ role bob: Admin -> Member\n      ~ role carol: Member -> Admin\n      - member mallory\n      notice: 5 members get a group notice\n",
        )
        .stdout_has(
            "members of 1 group: 1 to add, 1 to remove, 1 to promote, 1 to demote, 5 get a group notice.",
        );
    world.clear_log();
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    assert_eq!(
        world
            .writes()
            .iter()
            .map(|w| w.split(' ').next().unwrap().to_owned())
            .collect::<Vec<_>>(),
        [
            "add_group_member",
            "modify_group_member_info",
            "modify_group_member_info",
            "delete_group_member"
        ]
    );
    assert_eq!(
        members(&world, "eng"),
        roles(&[
            ("alice", Owner),
            ("bob", Member),
            ("carol", Admin),
            ("dave", Member)
        ])
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn an_additive_list_adds_and_keeps_everyone_else_and_an_exclusive_one_removes_them() {
    use SeedRole::{Admin, Member, Owner};
    let world = World::new();
    world.seed(vec![group("eng", &[("bob", Admin), ("mallory", Member)])]);
    manifest(&world, "    members: [carol]\n");
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    assert_eq!(
        members(&world, "eng"),
        roles(&[
            ("alice", Owner),
            ("bob", Admin),
            ("carol", Member),
            ("mallory", Member)
        ]),
        "additive: nobody removed, admins unmanaged"
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);

    // Exclusive: mallory goes; bob stays (a live admin while `admins` is unmanaged); alice
    // owns the group. Silent: no group notice.
    manifest(
        &world,
        "    members: [carol]\n    members_exclusive: true\n    members_silent: true\n",
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has("      - member mallory\n      notice: none (members_silent)\n");
    world.clear_log();
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    let log = world.emulator.request_log();
    let delete = log
        .iter()
        .find(|r| r.command == "delete_group_member")
        .expect("a delete");
    assert_eq!(delete.body["Silence"], 1, "{:?}", delete.body);
    assert!(!delete.notice, "a silent removal sends no group notice");
    assert_eq!(
        members(&world, "eng"),
        roles(&[("alice", Owner), ("bob", Admin), ("carol", Member)])
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn ownership_moves_to_a_declared_non_member_who_is_added_first() {
    use SeedRole::{Admin, Member, Owner};
    let world = World::new();
    world.seed(vec![group("eng", &[("bob", Member)])]);
    // zed is not a member yet; alice, the old owner, is to be an admin once it moves.
    manifest(
        &world,
        "    owner: zed\n    admins: [alice]\n    members: [bob, zed]\n    members_exclusive: true\n",
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has("  ~ members eng (1 to add)\n      + member zed\n")
        .stdout_has(
            "  ~ owner eng: \"alice\" -> \"zed\"\n      ~ role alice: Member -> Admin (after the transfer)\n",
        );
    world.clear_log();
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    let writes: Vec<String> = world
        .writes()
        .iter()
        .map(|w| w.split(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        writes,
        [
            "add_group_member",
            "change_group_owner",
            "modify_group_member_info"
        ]
    );
    assert_eq!(world.group("eng").unwrap().owner.as_deref(), Some("zed"));
    assert_eq!(
        members(&world, "eng"),
        roles(&[("alice", Admin), ("bob", Member), ("zed", Owner)])
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);

    // Back to alice, leaving zed out of an exclusive list: zed is removed after the transfer.
    manifest(
        &world,
        "    owner: alice\n    admins: []\n    members: [bob]\n    members_exclusive: true\n",
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has("      - member zed (after the transfer)\n");
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    assert_eq!(
        members(&world, "eng"),
        roles(&[("alice", Owner), ("bob", Member)])
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn a_new_group_is_made_with_its_people() {
    use SeedRole::{Admin, Member, Owner};
    let world = World::new();
    manifest(
        &world,
        "    owner: alice\n    admins: [bob]\n    members: [carol]\n",
    );
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    assert_eq!(
        members(&world, "eng"),
        roles(&[("alice", Owner), ("bob", Admin), ("carol", Member)])
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn the_people_gates_stop_the_apply_and_force_passes() {
    use SeedRole::Member;
    let world = World::new();
    world.seed(vec![group(
        "eng",
        &[("bob", Member), ("carol", Member), ("mallory", Member)],
    )]);
    manifest(
        &world,
        "    admins: [bob, carol]\n    members: []\n    members_exclusive: true\n",
    );
    world.clear_log();
    world
        .timctl(&[
            "apply",
            "groups",
            "--auto-approve",
            "--max-remove-members",
            "0",
        ])
        .code(1)
        .stderr_has("the plan removes 1 people from groups, more than --max-remove-members 0: nothing was changed");
    world
        .timctl(&["apply", "groups", "--auto-approve", "--max-role-changes", "1"])
        .code(1)
        .stderr_has(
            "the plan changes the role of 2 people (2 promoted, 0 demoted), more than --max-role-changes 1: nothing was changed",
        );
    assert!(world.writes().is_empty(), "{:?}", world.writes());
    world
        .timctl(&[
            "apply",
            "groups",
            "--auto-approve",
            "--max-role-changes",
            "1",
            "--max-remove-members",
            "0",
            "--force",
        ])
        .code(0);
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn a_saved_plan_skips_a_group_whose_members_changed_after_review() {
    use SeedRole::Member;
    let world = World::new();
    world.seed(vec![
        group("eng", &[("bob", Member)]),
        group("ops", &[("bob", Member)]),
    ]);
    world.write(
        "groups/all.yaml",
        "groups:\n  - id: eng\n    members: [carol]\n  - id: ops\n    members: [carol]\n",
    );
    world
        .timctl(&["plan", "groups", "--out", "plan.json"])
        .code(0);
    // After review, someone adds a member to eng by hand.
    world.edit("eng", |g| {
        g.members.push(SeedMember {
            account: "dave".into(),
            role: Member,
            join_time: None,
        })
    });
    world
        .timctl(&["apply", "plan.json"])
        .code(1)
        .stdout_has("skipped: members eng: saved plan is stale: the group changed since the plan (its members or their roles changed live since the plan read them)");
    assert!(
        !members(&world, "eng").contains_key("carol"),
        "the stale group is left alone"
    );
    assert!(
        members(&world, "ops").contains_key("carol"),
        "the other group is applied"
    );
}

#[test]
fn people_who_are_not_imported_stop_the_plan_naming_file_group_field_and_account() {
    let world = World::new();
    world.seed(vec![group("eng", &[])]);
    manifest(&world, "    members: [carol, ghost]\n");
    world.clear_log();
    world.timctl(&["plan", "groups"]).code(1).stderr_has(
        "groups/eng.yaml:2: group \"eng\": field members: account \"ghost\" is not imported in the app",
    );
    assert!(world.writes().is_empty());
}

#[test]
fn member_writes_whose_answers_are_lost_or_refused_are_sent_again_harmlessly() {
    use SeedRole::{Admin, Member, Owner};
    use timctl::emulator::{Command, Fault};
    let world = World::new();
    world.seed(vec![group("eng", &[("bob", Member), ("mallory", Member)])]);
    manifest(
        &world,
        "    admins: [bob]\n    members: [carol]\n    members_exclusive: true\n",
    );
    let emulator = &world.emulator;
    for command in [
        Command::AddGroupMember,
        Command::ModifyGroupMemberInfo,
        Command::DeleteGroupMember,
    ] {
        emulator.fail_next(command, Fault::DropResponse);
        emulator.fail_next(command, Fault::Internal);
        emulator.fail_next(command, Fault::BadGateway);
    }
    world.clear_log();
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(0)
        .stdout_has("Apply complete: 1 applied, 0 failed, 0 skipped.");
    let log = emulator.request_log();
    for command in [
        "add_group_member",
        "modify_group_member_info",
        "delete_group_member",
    ] {
        let calls: Vec<(u16, Option<i64>, bool)> = log
            .iter()
            .filter(|r| r.command == command)
            .map(|r| (r.http_status, r.error_code, r.applied))
            .collect();
        // Lost (applied), then refused twice (not applied), then a repeat that finds the work
        // already done or does it again to the same effect.
        assert_eq!(calls.len(), 4, "{command}: {calls:?}");
        assert_eq!(calls[0], (502, None, true), "{command}");
        assert_eq!(
            &calls[1..3],
            [(200, Some(10002), false), (502, None, false)]
        );
        assert_eq!(calls[3].1, Some(0), "{command}: {calls:?}");
    }
    assert_eq!(
        members(&world, "eng"),
        roles(&[("alice", Owner), ("bob", Admin), ("carol", Member)])
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn people_the_live_group_cannot_hold_stop_the_plan_before_any_write() {
    let world = World::new();
    let mut room = seed_group("live", emulator::GroupType::AVChatRoom, "live");
    room.owner = Some("alice".into());
    room.members.clear();
    let mut work = seed_group("work", emulator::GroupType::Private, "work");
    work.owner = Some("alice".into());
    world.seed(vec![room, work]);
    // The manifests leave the type to the live groups, so validation cannot see it.
    world.write(
        "groups/all.yaml",
        "groups:\n  - id: live\n    members: [bob]\n  - id: work\n    admins: [bob]\n",
    );
    world.clear_log();
    world
        .timctl(&["plan", "groups"])
        .code(1)
        .stderr_has("groups/all.yaml:2: group \"live\": field members: the live group is an AVChatRoom, which stores no member list")
        .stderr_has("groups/all.yaml:4: group \"work\": field admins: the live group is Private (Work), which has no Admin role");
    assert!(world.writes().is_empty(), "{:?}", world.writes());
}

#[cfg(unix)]
#[test]
fn a_first_interrupt_stops_a_member_change_between_its_calls_and_the_next_plan_shows_the_rest() {
    use std::time::{Duration, Instant};
    let world = World::with(timctl::emulator::Config {
        faults: timctl::emulator::Faults {
            latency: Duration::from_millis(700),
            ..Default::default()
        },
        ..timctl::emulator::Config::dev()
    });
    world.seed(vec![group("eng", &[])]);
    // One add, then five promotions: six calls, one at a time.
    manifest(&world, "    admins: [bob, carol, dave, mallory, zed]\n");
    world.clear_log();
    let child = world.spawn(&["apply", "groups", "--auto-approve"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !world.commands().iter().any(|c| c == "add_group_member") {
        assert!(Instant::now() < deadline, "the apply never added");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("partially applied: members eng: add_group_member")
            && stdout.contains("still to do: interrupted: the member calls left were not made"),
        "{stdout}"
    );
    let promoted = world
        .commands()
        .iter()
        .filter(|c| *c == "modify_group_member_info")
        .count();
    assert!(
        promoted < 5,
        "the change stopped between its calls: {promoted} of 5 made"
    );
    // The next plan shows exactly the promotions not made.
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(&format!("members eng ({} to promote)", 5 - promoted));
}
