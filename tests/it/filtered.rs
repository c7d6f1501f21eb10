//! Reads that do not grow with the members: where the app's custom fields are declared
//! (`timctl.yaml custom_fields`), `get_group_info` asks for the base fields and those keys and
//! no member list. The real binary against the emulator over HTTP.

use timctl::emulator::{GroupType, Role};

use crate::support::{World, owned_group};

const NO_CHANGES: &str = "No changes. Live groups match the manifests.";

/// `big`, a Public group of alice with 300 members and two custom keys set.
fn seeded() -> World {
    let world = World::new();
    let crowd: Vec<String> = (0..300).map(|i| format!("fan{i:03}")).collect();
    let members: Vec<(&str, Role)> = crowd.iter().map(|a| (a.as_str(), Role::Member)).collect();
    let mut big = owned_group("big", GroupType::Public, "alice", &members);
    big.custom.insert("team".into(), "core".into());
    big.custom.insert("zone".into(), "eu".into());
    world.seed(vec![big]);
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: big\n    type: Public\n    name: big\n    owner: alice\n    custom:\n      team: core\n      zone: eu\n",
    );
    world
}

fn group_info_bodies(world: &World) -> Vec<serde_json::Value> {
    world
        .emulator
        .request_log()
        .into_iter()
        .filter(|r| r.command == "get_group_info")
        .map(|r| r.body)
        .collect()
}

#[test]
fn declared_custom_fields_read_base_fields_and_those_keys_and_no_member_list() {
    let world = seeded();
    world.write("timctl.yaml", "custom_fields: [team, zone]\n");
    world.clear_log();
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
    let bodies = group_info_bodies(&world);
    assert_eq!(bodies.len(), 1);
    let filter = &bodies[0]["ResponseFilter"];
    assert_eq!(
        filter["AppDefinedDataFilter_Group"],
        serde_json::json!(["team", "zone"])
    );
    let base: Vec<&str> = filter["GroupBaseInfoFilter"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for field in [
        "Name",
        "Owner_Account",
        "InfoSeq",
        "MemberNum",
        "MuteAllMember",
    ] {
        assert!(base.contains(&field), "{field} in {base:?}");
    }
    assert!(filter.get("MemberInfoFilter").is_none(), "{filter}");

    // What the filter returns is still compared in full: a configured key changed live is
    // drift, and one the manifest does not write is deleted.
    world.edit("big", |g| {
        g.custom.insert("zone".into(), "us".into());
    });
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: big\n    type: Public\n    name: big\n    owner: alice\n    custom:\n      team: core\n",
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has("custom.zone: \"us\" -> (deleted)");
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(NO_CHANGES);
    assert!(!world.group("big").unwrap().custom.contains_key("zone"));
}

#[test]
fn without_the_declaration_the_read_is_unfiltered_and_verbose_output_says_why() {
    let world = seeded();
    world.clear_log();
    world
        .timctl(&["plan", "groups", "-v"])
        .code(0)
        .stdout_has(NO_CHANGES)
        .stderr_has("get_group_info is read without a ResponseFilter");
    let bodies = group_info_bodies(&world);
    assert!(
        bodies.iter().all(|b| b.get("ResponseFilter").is_none()),
        "{bodies:?}"
    );
}
