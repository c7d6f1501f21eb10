//! `timctl export` writes people: `admins` for every group with an Admin role, and with
//! `--members` the plain members and `members_exclusive: true`. The real binary against the
//! emulator over HTTP; each export validates and plans as "No changes".

use timctl::emulator::{GroupType, Role, SeedGroup, SeedMember};

use crate::support::{World, owned_group, seed_group};

const NO_CHANGES: &str = "No changes. Live groups match the manifests.";

/// A group owned by alice with these members (alice is added as Owner).
fn group(id: &str, kind: GroupType, members: &[(&str, Role)]) -> SeedGroup {
    owned_group(id, kind, "alice", members)
}

/// Public `eng` (admins zed and bob, members carol and dave), Private `work` (member bob),
/// AVChatRoom `live`, and Community `@TGS#_big` (admin carol, 250 plain members: two pages).
fn seed(world: &World) -> Vec<String> {
    let crowd: Vec<String> = (0..250).map(|n| format!("user{n:03}")).collect();
    let mut big: Vec<(&str, Role)> = crowd.iter().map(|a| (a.as_str(), Role::Member)).collect();
    big.push(("carol", Role::Admin));
    world.seed(vec![
        group(
            "eng",
            GroupType::Public,
            &[
                ("zed", Role::Admin),
                ("bob", Role::Admin),
                ("dave", Role::Member),
                ("carol", Role::Member),
            ],
        ),
        group("work", GroupType::Private, &[("bob", Role::Member)]),
        seed_group("live", GroupType::AVChatRoom, "Live"),
        group("@TGS#_big", GroupType::Community, &big),
    ]);
    crowd
}

/// The groups of an exported file, as YAML values.
fn exported(world: &World, rel: &str) -> serde_yaml::Value {
    let text = world.read(rel);
    let file: serde_yaml::Value = serde_yaml::from_str(&text).expect("exported YAML");
    assert_eq!(
        file["groups"].as_sequence().map(Vec::len),
        Some(1),
        "{text}"
    );
    file["groups"][0].clone()
}

fn list(value: &serde_yaml::Value) -> Option<Vec<String>> {
    value.as_sequence().map(|items| {
        items
            .iter()
            .map(|i| i.as_str().expect("an account id").to_owned())
            .collect()
    })
}

/// The file export writes for `@TGS#_big` (the id sanitized, then its hash).
const BIG_FILE: &str = "_TGS__big~f129414b.yaml";

#[test]
fn export_writes_admins_and_a_new_admin_is_then_role_drift() {
    let world = World::new();
    seed(&world);
    world.clear_log();
    world
        .timctl(&["export", "--out", "exported"])
        .code(0)
        .stderr_has("Exported 4 groups");
    let reads: Vec<String> = world
        .emulator
        .request_log()
        .into_iter()
        .filter(|r| r.command == "get_group_member_info")
        .map(|r| r.group_ids.join(","))
        .collect();
    assert_eq!(
        reads.iter().filter(|g| *g == "@TGS#_big").count(),
        2,
        "251 members at 200 a page: {reads:?}"
    );
    assert!(
        !reads.iter().any(|g| g == "work" || g == "live"),
        "no member read for Private or AVChatRoom without --members: {reads:?}"
    );

    let eng = exported(&world, "exported/eng.yaml");
    assert_eq!(list(&eng["admins"]), Some(vec!["bob".into(), "zed".into()]));
    assert_eq!(eng["owner"].as_str(), Some("alice"));
    assert!(eng.get("members").is_none() && eng.get("members_exclusive").is_none());
    let big = exported(&world, &format!("exported/{BIG_FILE}"));
    assert_eq!(list(&big["admins"]), Some(vec!["carol".into()]));
    for id in ["work", "live"] {
        let group = exported(&world, &format!("exported/{id}.yaml"));
        assert!(group.get("admins").is_none(), "{id}: {group:?}");
        assert!(group.get("members").is_none(), "{id}: {group:?}");
    }
    world
        .timctl(&["validate", "exported"])
        .code(0)
        .stdout_has("ok: 4 groups in 4 files");
    world
        .timctl(&["plan", "exported", "--detailed-exitcode"])
        .code(0)
        .stdout_has(NO_CHANGES);

    // Someone makes carol an admin of eng in the console: the export manages admins, so drift.
    world.edit("eng", |g| {
        let carol = g.members.iter_mut().find(|m| m.account == "carol").unwrap();
        carol.role = Role::Admin;
    });
    world
        .timctl(&["plan", "exported", "--detailed-exitcode"])
        .code(2)
        .stdout_has("~ role carol: Admin -> Member");

    // Stdout holds the same fields, and --minimal leaves an empty admins out.
    world.seed(vec![group(
        "solo",
        GroupType::Public,
        &[("bob", Role::Member)],
    )]);
    let all = world.timctl(&["export"]);
    all.code(0).stdout_has("admins: []");
    let minimal = world.timctl(&["export", "--minimal", "--id-prefix", "solo"]);
    assert!(
        !minimal.code(0).stdout.contains("admins"),
        "{}",
        minimal.stdout
    );
}

#[test]
fn export_members_is_authoritative_and_a_later_member_is_removed() {
    let world = World::new();
    let crowd = seed(&world);
    world
        .timctl(&["export", "--members", "--out", "exported"])
        .code(0)
        .stderr_has("Exported 4 groups");

    let text = world.read("exported/eng.yaml");
    assert!(
        text.contains("members_exclusive: true  # apply removes members not listed"),
        "{text}"
    );
    let eng = exported(&world, "exported/eng.yaml");
    assert_eq!(list(&eng["admins"]), Some(vec!["bob".into(), "zed".into()]));
    assert_eq!(
        list(&eng["members"]),
        Some(vec!["carol".into(), "dave".into()]),
        "plain members only: not the owner, not the admins"
    );
    assert_eq!(eng["members_exclusive"].as_bool(), Some(true));
    let work = exported(&world, "exported/work.yaml");
    assert!(
        work.get("admins").is_none(),
        "no Admin role in a Private group"
    );
    assert_eq!(list(&work["members"]), Some(vec!["bob".into()]));
    let live = exported(&world, "exported/live.yaml");
    assert!(live.get("members").is_none() && live.get("members_exclusive").is_none());
    let big = exported(&world, &format!("exported/{BIG_FILE}"));
    assert_eq!(list(&big["members"]), Some(crowd));
    assert_eq!(list(&big["admins"]), Some(vec!["carol".into()]));

    world.timctl(&["validate", "exported"]).code(0);
    world
        .timctl(&["plan", "exported", "--detailed-exitcode"])
        .code(0)
        .stdout_has(NO_CHANGES);

    // Out of band: mallory joins work and dave becomes an admin of eng.
    world.edit("work", |g| {
        g.members.push(SeedMember {
            account: "mallory".into(),
            role: Role::Member,
            join_time: None,
        });
    });
    world.edit("eng", |g| {
        let dave = g.members.iter_mut().find(|m| m.account == "dave").unwrap();
        dave.role = Role::Admin;
    });
    world
        .timctl(&["plan", "exported", "--detailed-exitcode"])
        .code(2)
        .stdout_has("- member mallory")
        .stdout_has("~ role dave: Admin -> Member");
}

#[test]
fn without_members_a_later_member_is_no_drift() {
    let world = World::new();
    world.seed(vec![group(
        "eng",
        GroupType::Public,
        &[("bob", Role::Member)],
    )]);
    world.timctl(&["export", "--out", "exported"]).code(0);
    let text = world.read("exported/eng.yaml");
    assert!(
        text.contains("admins: []") && !text.contains("\n  members"),
        "{text}"
    );
    world.edit("eng", |g| {
        g.members.push(SeedMember {
            account: "carol".into(),
            role: Role::Member,
            join_time: None,
        });
    });
    world
        .timctl(&["plan", "exported", "--detailed-exitcode"])
        .code(0)
        .stdout_has(NO_CHANGES);
}
