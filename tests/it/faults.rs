//! apply under a misbehaving service: internal errors (10002), HTTP 502, latency spikes and
//! writes that are applied but whose answer is lost. Whatever the faults, one run converges,
//! nothing is created or destroyed twice, and nothing is lost.
//!
//! The big test draws faults at random, at rates low enough that six failed attempts in a row
//! (the client's retry budget) are out of reach: 6% of calls fail, so one call exhausts its
//! budget with probability 0.06⁶ ≈ 5·10⁻⁸, about 2·10⁻⁵ per run of ~400 calls. On top of that it
//! queues one-shot faults, so every kind of fault is certain to fire at least a few times. The
//! other tests script one fault each with `fail_next` and are fully deterministic.
//!
//! A long variant (2,150 changes, about 15 s) is ignored by default; run it with
//! `cargo test --test it faults -- --ignored`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use timctl::emulator::{Command, Fault, Faults, GroupType, LoggedRequest, Role, SeedMember};

use crate::support::{World, seed_group};

const NO_CHANGES: &str = "No changes. Live groups match the manifests.";

/// How many changes of each kind the big test makes.
#[derive(Clone, Copy)]
struct Scale {
    /// Groups to create.
    new: usize,
    /// Existing groups to update.
    old: usize,
    /// The first `moved` old groups also get a new owner.
    moved: usize,
    /// Existing groups to destroy.
    gone: usize,
}

impl Scale {
    fn changes(self) -> usize {
        self.new + self.old + self.moved + self.gone
    }
}

fn new_id(i: usize) -> String {
    format!("new-{i:03}")
}

fn old_id(i: usize) -> String {
    format!("old-{i:03}")
}

fn gone_id(i: usize) -> String {
    format!("gone-{i:02}")
}

/// Every 20th new group is an AVChatRoom (made with `create_group`, not `import_group`).
fn new_kind(i: usize) -> GroupType {
    if i % 20 == 7 {
        GroupType::AVChatRoom
    } else {
        GroupType::Public
    }
}

/// Every 10th new Public group is muted, which takes a modify right after the import.
fn new_muted(i: usize) -> bool {
    i % 10 == 3
}

fn member(account: &str) -> SeedMember {
    SeedMember {
        account: account.into(),
        role: Role::Member,
        join_time: None,
    }
}

/// Old groups owned by alice with bob as a member, and groups to destroy.
fn seed_existing(world: &World, Scale { old, gone, .. }: Scale) {
    let mut groups = Vec::new();
    for i in 0..old {
        let mut group = seed_group(&old_id(i), GroupType::Public, &format!("Old {i}"));
        group.owner = Some("alice".into());
        group.members.push(member("bob"));
        group.custom.insert("legacy".into(), "yes".into());
        groups.push(group);
    }
    for i in 0..gone {
        let mut group = seed_group(&gone_id(i), GroupType::Public, &format!("Gone {i}"));
        group.owner = Some("alice".into());
        groups.push(group);
    }
    world.seed(groups);
}

/// Creates, updates (renames, a custom key deleted and one set), transfers and destroys.
fn big_manifest(scale: Scale) -> String {
    let mut text = String::from("defaults:\n  owner: alice\ngroups:\n");
    for i in 0..scale.new {
        text.push_str(&format!(
            "  - id: {}\n    type: {:?}\n    name: New {i}\n    introduction: made under faults\n",
            new_id(i),
            new_kind(i)
        ));
        if new_kind(i) != GroupType::AVChatRoom {
            text.push_str(&format!("    custom: {{batch: \"{}\"}}\n", i % 7));
        }
        if new_muted(i) && new_kind(i) == GroupType::Public {
            text.push_str("    mute_all: true\n");
        }
    }
    for i in 0..scale.old {
        text.push_str(&format!(
            "  - id: {}\n    type: Public\n    name: Renamed {i}\n    custom: {{fresh: \"{i}\"}}\n",
            old_id(i)
        ));
        if i < scale.moved {
            text.push_str("    owner: bob\n");
        }
    }
    for i in 0..scale.gone {
        text.push_str(&format!("  - id: {}\n    ensure: absent\n", gone_id(i)));
    }
    text
}

/// Applied writes of `command` per group.
fn applied_per_group(log: &[LoggedRequest], commands: &[&str]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for request in log
        .iter()
        .filter(|r| r.applied && commands.contains(&r.command.as_str()))
    {
        *counts.entry(request.group_ids[0].clone()).or_default() += 1;
    }
    counts
}

/// `(HTTP status, ErrorCode, applied)` of every call of `command`, in order. (An injected
/// 10002 or 502 comes before the body is read, so its log entry names no group: the tests
/// that use this touch one group per command.)
fn calls(world: &World, command: &str) -> Vec<(u16, Option<i64>, bool)> {
    world
        .emulator
        .request_log()
        .iter()
        .filter(|r| r.command == command)
        .map(|r| (r.http_status, r.error_code, r.applied))
        .collect()
}

#[test]
fn many_changes_converge_in_one_run_under_random_faults_and_latency_spikes() {
    converge_under_faults(Scale {
        new: 200,
        old: 100,
        moved: 20,
        gone: 10,
    });
}

#[test]
#[ignore = "long: about 15 s; run with `cargo test --test it faults -- --ignored`"]
fn thousands_of_changes_converge_in_one_run_under_random_faults_and_latency_spikes() {
    converge_under_faults(Scale {
        new: 1500,
        old: 500,
        moved: 100,
        gone: 50,
    });
}

fn converge_under_faults(scale: Scale) {
    let Scale {
        new,
        old,
        moved,
        gone,
    } = scale;
    let world = World::new();
    seed_existing(&world, scale);
    world.write("groups/all.yaml", &big_manifest(scale));
    world.clear_log();

    let rates = Faults {
        latency: Duration::ZERO,
        fail_rate: 0.02,
        fail_502_rate: 0.02,
        drop_response_rate: 0.02,
    };
    world.emulator.set_faults(rates);
    // Certain faults of every kind, first in line for their command.
    let queued = [
        (Command::GetGroupInfo, Fault::BadGateway),
        (Command::GetGroupInfo, Fault::Internal),
        (Command::GetRoleInGroup, Fault::Internal),
        (Command::ImportGroup, Fault::DropResponse),
        (Command::ImportGroup, Fault::Internal),
        (Command::ImportGroup, Fault::DropResponse),
        (Command::CreateGroup, Fault::DropResponse),
        (Command::ModifyGroupBaseInfo, Fault::DropResponse),
        (Command::ModifyGroupBaseInfo, Fault::BadGateway),
        (Command::ChangeGroupOwner, Fault::DropResponse),
        (Command::ChangeGroupOwner, Fault::Internal),
        (Command::DestroyGroup, Fault::DropResponse),
        (Command::DestroyGroup, Fault::BadGateway),
    ];
    for (command, fault) in queued {
        world.emulator.fail_next(command, fault);
    }
    let at_least = |kind: Fault| queued.iter().filter(|(_, f)| *f == kind).count();

    // Latency spikes: 250 ms on every call for a tenth of a second, then none, until done.
    let done = AtomicBool::new(false);
    let run = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut spike = false;
            while !done.load(Ordering::SeqCst) {
                spike = !spike;
                let latency = if spike {
                    Duration::from_millis(250)
                } else {
                    Duration::ZERO
                };
                world.emulator.set_faults(Faults { latency, ..rates });
                std::thread::sleep(Duration::from_millis(100));
            }
            world.emulator.set_faults(rates);
        });
        let max_destroy = gone.to_string();
        let run = world.timctl(&[
            "apply",
            "groups",
            "--auto-approve",
            "--max-destroy",
            &max_destroy,
            "--max-update-percent",
            "100",
        ]);
        done.store(true, Ordering::SeqCst);
        run
    });
    run.code(0)
        .stdout_has(&format!(
            "Plan: {new} to create, {old} to update, {moved} owner transfers, {gone} to destroy."
        ))
        .stdout_has(&format!(
            "Apply complete: {} applied, 0 failed, 0 skipped.",
            scale.changes()
        ));

    let log = world.emulator.request_log();
    let injected = |status: u16, code: Option<i64>, applied: bool| {
        log.iter()
            .filter(|r| r.http_status == status && r.error_code == code && r.applied == applied)
            .count()
    };
    assert!(injected(502, None, true) >= at_least(Fault::DropResponse));
    assert!(injected(502, None, false) >= at_least(Fault::BadGateway));
    assert!(injected(200, Some(10002), false) >= at_least(Fault::Internal));

    // Nothing created or destroyed twice, nothing missing.
    let created = applied_per_group(&log, &["import_group", "create_group"]);
    let expected: BTreeMap<String, usize> = (0..new).map(|i| (new_id(i), 1)).collect();
    assert_eq!(created, expected, "each new group created exactly once");
    let destroyed = applied_per_group(&log, &["destroy_group"]);
    let expected: BTreeMap<String, usize> = (0..gone).map(|i| (gone_id(i), 1)).collect();
    assert_eq!(destroyed, expected, "each group destroyed exactly once");

    // Every group as planned.
    for i in 0..new {
        let group = world.group(&new_id(i)).expect("created");
        assert_eq!(group.kind, new_kind(i), "{}", group.id);
        assert_eq!(group.name, format!("New {i}"));
        assert_eq!(group.introduction, "made under faults");
        assert_eq!(group.owner.as_deref(), Some("alice"));
        if new_kind(i) == GroupType::Public {
            assert_eq!(group.custom["batch"], (i % 7).to_string(), "{}", group.id);
            assert_eq!(group.mute_all, new_muted(i), "{}", group.id);
        }
    }
    for i in 0..old {
        let group = world.group(&old_id(i)).expect("still there");
        assert_eq!(group.name, format!("Renamed {i}"));
        assert!(!group.custom.contains_key("legacy"), "{}", group.id);
        assert_eq!(group.custom["fresh"], i.to_string());
        let owner = if i < moved { "bob" } else { "alice" };
        assert_eq!(group.owner.as_deref(), Some(owner), "{}", group.id);
    }
    for i in 0..gone {
        assert!(
            world.group(&gone_id(i)).is_none(),
            "{} destroyed",
            gone_id(i)
        );
    }

    // The faults stay on: the next plan still reads through them.
    world
        .timctl(&["plan", "groups", "--detailed-exitcode"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

/// A world with one group seeded, owned by alice with bob as a member.
fn seeded(id: &str) -> World {
    let world = World::new();
    let mut group = seed_group(id, GroupType::Public, "Before");
    group.owner = Some("alice".into());
    group.members.push(member("bob"));
    world.seed(vec![group]);
    world.clear_log();
    world
}

const LOST: (u16, Option<i64>, bool) = (502, None, true);
const ID_IN_USE: (u16, Option<i64>, bool) = (200, Some(10021), false);

#[test]
fn a_create_whose_answer_is_lost_is_confirmed_by_reading_back_and_not_repeated() {
    let world = World::new();
    world.write(
        "groups/main.yaml",
        "groups:\n  - {id: team, type: Public, name: Team, mute_all: true}\n  - {id: live, type: AVChatRoom, name: Live}\n",
    );
    world
        .emulator
        .fail_next(Command::ImportGroup, Fault::DropResponse);
    world
        .emulator
        .fail_next(Command::CreateGroup, Fault::DropResponse);
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(0)
        .stdout_has("Apply complete: 2 applied, 0 failed, 0 skipped.");
    // The retry is refused as "ID in use"; reading the group back shows it is ours.
    assert_eq!(calls(&world, "import_group"), [LOST, ID_IN_USE]);
    assert_eq!(calls(&world, "create_group"), [LOST, ID_IN_USE]);
    assert!(
        world.group("team").unwrap().mute_all,
        "the modify after the create was still sent"
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn internal_errors_and_gateway_errors_are_retried_and_applied_once() {
    let world = seeded("old");
    world.write(
        "groups/main.yaml",
        "groups:\n  - {id: new, type: Public, name: New}\n  - {id: old, type: Public, name: After, owner: bob}\n",
    );
    let emulator = &world.emulator;
    for command in [
        Command::ImportGroup,
        Command::ModifyGroupBaseInfo,
        Command::ChangeGroupOwner,
    ] {
        emulator.fail_next(command, Fault::Internal);
        emulator.fail_next(command, Fault::BadGateway);
    }
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(0)
        .stdout_has("Apply complete: 3 applied, 0 failed, 0 skipped.");
    let refused = (200, Some(10002), false);
    let gateway = (502, None, false);
    let ok = (200, Some(0), true);
    assert_eq!(calls(&world, "import_group"), [refused, gateway, ok]);
    assert_eq!(
        calls(&world, "modify_group_base_info"),
        [refused, gateway, ok]
    );
    assert_eq!(calls(&world, "change_group_owner"), [refused, gateway, ok]);
    let old = world.group("old").unwrap();
    assert_eq!(
        (old.name.as_str(), old.owner.as_deref()),
        ("After", Some("bob"))
    );
}

#[test]
fn a_modify_or_transfer_whose_answer_is_lost_is_sent_again_harmlessly() {
    let world = seeded("g");
    world.write(
        "groups/main.yaml",
        "groups:\n  - {id: g, type: Public, name: After, owner: bob, custom: {k: v}}\n",
    );
    world
        .emulator
        .fail_next(Command::ModifyGroupBaseInfo, Fault::DropResponse);
    world
        .emulator
        .fail_next(Command::ChangeGroupOwner, Fault::DropResponse);
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(0)
        .stdout_has("Apply complete: 2 applied, 0 failed, 0 skipped.");
    // The second modify and the second transfer find nothing left to do.
    assert_eq!(
        calls(&world, "modify_group_base_info"),
        [LOST, (200, Some(0), false)]
    );
    assert_eq!(
        calls(&world, "change_group_owner"),
        [LOST, (200, Some(0), false)]
    );
    let g = world.group("g").unwrap();
    assert_eq!(g.name, "After");
    assert_eq!(g.custom["k"], "v");
    assert_eq!(g.owner.as_deref(), Some("bob"));
    assert_eq!(
        g.info_seq,
        Some(3),
        "one modify and one transfer changed the profile"
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn a_destroy_whose_answer_is_lost_is_done_when_the_retry_finds_no_group() {
    let world = seeded("gone");
    world.write(
        "groups/main.yaml",
        "groups:\n  - {id: gone, ensure: absent}\n",
    );
    world
        .emulator
        .fail_next(Command::DestroyGroup, Fault::DropResponse);
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(0)
        .stdout_has("Apply complete: 1 applied, 0 failed, 0 skipped.");
    assert_eq!(
        calls(&world, "destroy_group"),
        [LOST, (200, Some(10010), false)]
    );
    assert!(world.group("gone").is_none());
}

#[test]
fn a_create_that_fails_on_every_attempt_is_reported_and_the_next_run_converges() {
    let world = World::new();
    world.write(
        "groups/main.yaml",
        "groups:\n  - {id: g, type: Public, name: G, mute_all: true}\n",
    );
    // The first attempt is applied but its answer lost; the other five answer HTTP 502.
    world
        .emulator
        .fail_next(Command::ImportGroup, Fault::DropResponse);
    for _ in 0..5 {
        world
            .emulator
            .fail_next(Command::ImportGroup, Fault::BadGateway);
    }
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(1)
        .stdout_has("failed: create g: import_group gave up after 6 attempts")
        .stdout_has("Apply finished with errors: 0 applied, 1 failed, 0 skipped.");
    assert_eq!(calls(&world, "import_group").len(), 6);
    assert!(
        calls(&world, "modify_group_base_info").is_empty(),
        "no further change to a group whose create failed"
    );

    // The group was created by the lost attempt: the next run updates it, never re-imports it.
    world.clear_log();
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(0)
        .stdout_has("~ update g")
        .stdout_has("Apply complete: 1 applied, 0 failed, 0 skipped.");
    assert!(calls(&world, "import_group").is_empty());
    assert!(world.group("g").unwrap().mute_all);
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
}

#[test]
fn a_failed_list_page_is_asked_again_and_prune_destroys_exactly_the_undeclared_groups() {
    let world = World::new();
    world.seed(
        ["gone-a", "gone-b", "gone-keep", "other"]
            .iter()
            .map(|id| seed_group(id, GroupType::Public, id))
            .collect(),
    );
    world.write(
        "groups/main.yaml",
        "prune: {id_prefixes: [gone-]}\ngroups:\n  - {id: gone-keep, type: Public, name: gone-keep}\n",
    );
    world.clear_log();
    world
        .emulator
        .fail_next(Command::GetAppidGroupList, Fault::BadGateway);
    world
        .emulator
        .fail_next(Command::GetAppidGroupList, Fault::Internal);
    world
        .timctl(&["apply", "groups", "--auto-approve"])
        .code(0)
        .stdout_has("Plan: 0 to create, 0 to update, 0 owner transfers, 2 to destroy.")
        .stdout_has("Apply complete: 2 applied, 0 failed, 0 skipped.");
    assert_eq!(
        calls(&world, "get_appid_group_list"),
        [
            (502, None, false),
            (200, Some(10002), false),
            (200, Some(0), false)
        ]
    );
    let left: Vec<String> = world.emulator.groups().into_iter().map(|g| g.id).collect();
    assert_eq!(left, ["gone-keep", "other"]);
}
