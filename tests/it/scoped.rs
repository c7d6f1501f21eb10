//! Scoped pull-request plans (`plan --baseline DIR --changed-only`) and prune from history: the
//! real binary against the emulator over HTTP, with the calls counted in the request log.

use std::collections::BTreeSet;

use crate::support::World;

/// `ops-00` … `ops-{n-1}`, Public, under the prune prefix `ops-`; `edit` may change the list.
fn manifest(n: usize, edit: impl Fn(&mut Vec<String>)) -> String {
    let mut groups: Vec<String> = (0..n)
        .map(|i| format!("  - id: ops-{i:02}\n    name: ops-{i:02}\n"))
        .collect();
    edit(&mut groups);
    format!(
        "defaults:\n  type: Public\nprune:\n  id_prefixes: [\"ops-\"]\ngroups:\n{}",
        groups.concat()
    )
}

/// 20 groups applied from `base/`.
fn base() -> World {
    let world = World::new();
    world.write("base/g.yaml", &manifest(20, |_| {}));
    world.timctl(&["apply", "base", "--auto-approve"]).code(0);
    world
}

/// [`base`], and `head/`, the pull request: ops-03 renamed, ops-07 removed, ops-20 added.
fn pull_request() -> World {
    let world = base();
    world.write(
        "head/g.yaml",
        &manifest(21, |groups| {
            groups[3] = "  - id: ops-03\n    name: Renamed\n".to_owned();
            groups.remove(7);
        }),
    );
    world
}

/// The group ids `get_group_info` was asked about, and how many calls each command took.
fn reads(world: &World) -> (BTreeSet<String>, usize, usize) {
    let log = world.emulator.request_log();
    let info: Vec<_> = log
        .iter()
        .filter(|r| r.command == "get_group_info")
        .collect();
    let ids = info.iter().flat_map(|r| r.group_ids.clone()).collect();
    let lists = log
        .iter()
        .filter(|r| r.command == "get_appid_group_list")
        .count();
    (ids, info.len(), lists)
}

#[test]
fn a_changed_only_plan_reads_only_what_the_change_touches_and_says_so() {
    let world = pull_request();
    // Drift elsewhere, which the scoped plan does not look at.
    world.edit("ops-11", |g| g.name = "Hand-edited".into());
    world.clear_log();
    let run = world.timctl(&[
        "plan",
        "head",
        "--baseline",
        "base",
        "--changed-only",
        "--detailed-exitcode",
    ]);
    run.code(2)
        .stdout_has("Note: --changed-only: read only the 3 groups this change touches; drift of the other 18 declared groups was not checked (a full plan checks it).")
        .stdout_has("~ update ops-03")
        .stdout_has("- destroy ops-07 (Public, 0 members) [pruned: prefix \"ops-\"]")
        .stdout_has("+ create ops-20");
    assert!(!run.stdout.contains("ops-11"), "{}", run.stdout);
    let (ids, calls, lists) = reads(&world);
    assert_eq!(
        ids,
        ["ops-03", "ops-07", "ops-20"]
            .map(str::to_owned)
            .into_iter()
            .collect()
    );
    assert_eq!((calls, lists), (1, 0), "one read, no listing of the app");

    // Markdown and JSON say it too.
    world
        .timctl(&[
            "plan",
            "head",
            "--baseline",
            "base",
            "--changed-only",
            "--format",
            "markdown",
        ])
        .code(0)
        .stdout_has("> [!NOTE]\n> --changed-only: read only the 3 groups");
    let json = world.timctl(&[
        "plan",
        "head",
        "--baseline",
        "base",
        "--changed-only",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        doc["scoped"],
        serde_json::json!({"changed": 3, "unchecked": 18, "listed": false})
    );

    // The full plan still lists the app and finds the drift.
    world.clear_log();
    world
        .timctl(&["plan", "head", "--baseline", "base"])
        .code(0)
        .stdout_has("ops-11");
    assert!(reads(&world).2 > 0, "the full plan lists the app for prune");
}

#[test]
fn a_pull_request_that_changes_nothing_reads_nothing() {
    let world = base();
    world.edit("ops-11", |g| g.name = "Hand-edited".into());
    world.clear_log();
    world
        .timctl(&[
            "plan",
            "base",
            "--baseline",
            "base",
            "--changed-only",
            "--detailed-exitcode",
        ])
        .code(0)
        .stdout_has("read only the 0 groups this change touches; drift of the other 20 declared groups was not checked")
        .stdout_has("No changes.");
    assert_eq!(reads(&world), (BTreeSet::new(), 0, 0));
}

#[test]
fn prune_from_history_keeps_every_guard() {
    let world = World::new();
    world.write(
        "base/g.yaml",
        &manifest(8, |groups| {
            groups.push("  - id: keep-1\n    name: keep-1\n".to_owned());
        }),
    );
    world.timctl(&["apply", "base", "--auto-approve"]).code(0);
    // Six groups under the prefix removed, and one outside it.
    world.write("head/g.yaml", &manifest(2, |_| {}));
    world.clear_log();
    world
        .timctl(&[
            "plan",
            "head",
            "--baseline",
            "base",
            "--changed-only",
            "--out",
            "plan.json",
        ])
        .code(0)
        .stdout_has("Plan: 0 to create, 0 to update, 0 owner transfers, 6 to destroy.");
    assert_eq!(reads(&world).2, 0, "no listing");
    // A group outside every prune prefix is never destroyed, scoped or not.
    assert!(!world.read("plan.json").contains("\"keep-1\""));
    // The destroy limit holds for the saved scoped plan as for any other.
    world
        .timctl(&["apply", "plan.json"])
        .code(1)
        .stderr_has("the plan destroys 6 groups, more than --max-destroy 5: nothing was changed");
    assert!(world.group("ops-05").is_some());
    world
        .timctl(&["apply", "plan.json", "--max-destroy", "6"])
        .code(0);
    assert!(world.group("ops-05").is_none() && world.group("keep-1").is_some());
}

#[test]
fn changed_prune_prefixes_list_the_app_as_a_full_plan_does() {
    let world = World::new();
    world.write("base/g.yaml", &manifest(2, |_| {}));
    world.timctl(&["apply", "base", "--auto-approve"]).code(0);
    world.seed(vec![crate::support::seed_group(
        "tmp-x",
        timctl::emulator::GroupType::Public,
        "tmp",
    )]);
    // The pull request adds the prefix `tmp-`: only listing can find what it covers.
    world.write(
        "head/g.yaml",
        &manifest(2, |_| {}).replace("[\"ops-\"]", "[\"ops-\", \"tmp-\"]"),
    );
    world.clear_log();
    world
        .timctl(&["plan", "head", "--baseline", "base", "--changed-only"])
        .code(0)
        .stdout_has("The prune prefixes changed, so the app's groups were listed for prune.")
        .stdout_has("- destroy tmp-x");
    assert!(reads(&world).2 > 0, "the app was listed");
}

#[test]
fn changed_only_needs_a_baseline() {
    let world = World::new();
    world.write("head/g.yaml", &manifest(1, |_| {}));
    world
        .timctl(&["plan", "head", "--changed-only"])
        .code(1)
        .stderr_has("--baseline");
}
