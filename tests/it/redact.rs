//! `--redact-accounts`: a markdown plan for a pull request that names no account, end to end
//! with the real binary against the emulator over HTTP.

use timctl::emulator::{self, Role as SeedRole, SeedMember};
use timctl::plan::redacted_account;

use crate::support::{World, seed_group};

/// Every account the manifest or the live group names, the owners included.
const ACCOUNTS: &[&str] = &["alice", "bob", "carol", "dave", "mallory", "zed"];

/// `eng` owned by alice (bob an admin, carol and mallory members) is to be owned by zed, who
/// is added first; alice becomes an admin after the transfer, carol is promoted, bob demoted,
/// dave added and mallory removed. `ops` is made, owned by dave, with carol as its admin.
fn world() -> World {
    let world = World::new();
    let mut eng = seed_group("eng", emulator::GroupType::Public, "eng");
    eng.owner = Some("alice".into());
    eng.members = [
        ("bob", SeedRole::Admin),
        ("carol", SeedRole::Member),
        ("mallory", SeedRole::Member),
    ]
    .into_iter()
    .map(|(account, role)| SeedMember {
        account: account.to_owned(),
        role,
        join_time: None,
    })
    .collect();
    world.seed(vec![eng]);
    world.write(
        "groups/eng.yaml",
        "groups:\n  - id: eng\n    type: Public\n    name: eng\n    owner: zed\n    admins: [alice, carol]\n    members: [bob, dave, zed]\n    members_exclusive: true\n  - id: ops\n    type: Public\n    name: Ops\n    owner: dave\n    admins: [carol]\n",
    );
    world
}

#[track_caller]
fn assert_redacted(world: &World, out: &str) {
    let sdkappid = world.emulator.sdkappid();
    for account in ACCOUNTS {
        assert!(
            !out.contains(account),
            "{account:?} shows in the redacted plan:\n{out}"
        );
        let hash = redacted_account(sdkappid, account);
        assert!(
            out.contains(hash.as_str()),
            "{hash} ({account}) not in:\n{out}"
        );
    }
}

#[test]
fn a_redacted_markdown_plan_names_no_account_and_keeps_counts_and_stable_hashes() {
    let world = world();
    let args = [
        "plan",
        "groups",
        "--format",
        "markdown",
        "--redact-accounts",
    ];
    let first = world.timctl(&args);
    first.code(0);
    assert_redacted(&world, &first.stdout);
    let hash = |account| redacted_account(world.emulator.sdkappid(), account);
    first
        // The people columns: 3 added (dave and zed to eng, carol to ops), 1 removed,
        // 3 promoted (carol twice, alice after the transfer), 1 demoted.
        .stdout_has("| added | removed | promoted | demoted | notified |\n")
        .stdout_has(" | 3 | 1 | 3 | 1 |")
        .stdout_has(
            "> **This plan removes 1 person from 1 group and changes the role of 4 people.**",
        )
        .stdout_has(&format!(
            "> | `eng` | `\"{}\"` | `\"{}\"` | becomes Admin |\n",
            hash("alice"),
            hash("zed")
        ))
        .stdout_has(&format!("-   member {}\n", hash("mallory")))
        .stdout_has(&format!("+   owner: \"{}\"\n", hash("dave")))
        .stdout_has(&format!(
            "+   role {}: Admin (after the transfer)\n",
            hash("alice")
        ))
        // Group ids and names are not accounts.
        .stdout_has("`eng`")
        .stdout_has("+   name: \"Ops\"\n");

    // The same account reads the same in every run.
    let second = world.timctl(&args);
    second.code(0);
    assert_eq!(first.stdout, second.stdout);

    // A saved plan shown the same way gives the same hashes; text still names everyone.
    world
        .timctl(&["plan", "groups", "--out", "plan.json"])
        .code(0)
        .stdout_has("owner eng: \"alice\" -> \"zed\"")
        .stdout_has("- member mallory");
    let shown = world.timctl(&[
        "show",
        "plan.json",
        "--format",
        "markdown",
        "--redact-accounts",
    ]);
    shown.code(0);
    assert_redacted(&world, &shown.stdout);
    assert!(
        shown
            .stdout
            .contains(&format!("-   member {}\n", hash("mallory"))),
        "{}",
        shown.stdout
    );
    assert!(!shown.stderr.contains("mallory"), "{}", shown.stderr);
}

#[test]
fn redact_accounts_is_refused_outside_markdown() {
    let world = world();
    for format in ["text", "json"] {
        let run = world.timctl(&["plan", "groups", "--format", format, "--redact-accounts"]);
        run.code(1).stderr_has(
            "--redact-accounts applies only to --format markdown (the pull-request comment)",
        );
        assert_eq!(run.stdout, "", "nothing is printed");
    }
    world.clear_log();
    world
        .timctl(&["plan", "groups", "--redact-accounts"])
        .code(1);
    assert_eq!(
        world.commands(),
        Vec::<String>::new(),
        "refused before any request"
    );
    world
        .timctl(&["plan", "groups", "--out", "plan.json"])
        .code(0);
    world
        .timctl(&["show", "plan.json", "--redact-accounts"])
        .code(1)
        .stderr_has("--redact-accounts applies only to --format markdown");
}
