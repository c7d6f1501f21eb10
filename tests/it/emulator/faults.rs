//! Test knobs: injected failures, lost responses, latency, scripted faults, the request log,
//! seeding and out-of-band edits.

use std::time::{Duration, Instant};

use serde_json::json;
use timctl::emulator::{Command, Config, Fault, Faults, GroupType, SeedGroup, SeedMember};

use super::client::{Tim, config};

#[tokio::test]
async fn injected_failures_apply_nothing_and_dropped_responses_apply_everything() {
    let tim = Tim::start().await;
    let import = |id: &str| json!({"GroupId": id, "Type": "Public", "Name": "n"});

    tim.emu.set_faults(Faults {
        fail_rate: 1.0,
        ..Faults::default()
    });
    tim.fails("import_group", import("a"), 10002).await;
    assert!(tim.emu.group("a").is_none());

    tim.emu.set_faults(Faults {
        fail_502_rate: 1.0,
        ..Faults::default()
    });
    let url = tim.url(
        "group_open_http_svc/import_group",
        &tim.query("administrator"),
    );
    let (status, _) = tim.post(&url, import("b").to_string()).await;
    assert_eq!(status, 502);
    assert!(tim.emu.group("b").is_none());

    tim.emu.set_faults(Faults {
        drop_response_rate: 1.0,
        ..Faults::default()
    });
    let (status, _) = tim.post(&url, import("c").to_string()).await;
    assert_eq!(status, 502);
    assert!(tim.emu.group("c").is_some(), "the write was applied");

    tim.emu.set_faults(Faults::default());
    tim.fails("import_group", import("c"), 10021).await;
    let log = tim.emu.request_log();
    let statuses: Vec<(u16, Option<i64>, bool)> = log
        .iter()
        .map(|r| (r.http_status, r.error_code, r.applied))
        .collect();
    assert_eq!(
        statuses,
        [
            (200, Some(10002), false),
            (502, None, false),
            (502, None, true),
            (200, Some(10021), false)
        ]
    );
    assert_eq!(log[2].command, "import_group");
    assert_eq!(log[2].group_ids, ["c"]);
    assert_eq!(log[2].body["Name"], "n");
    assert_eq!(
        log[3].body["GroupId"], "c",
        "refused calls keep their body too"
    );
}

#[tokio::test]
async fn scripted_faults_hit_only_the_next_call_of_their_command() {
    let tim = Tim::start().await;
    tim.emu
        .fail_next(Command::ModifyGroupBaseInfo, Fault::Internal);
    tim.import("g").await;
    let modify = json!({"GroupId": "g", "Name": "x"});
    tim.fails("modify_group_base_info", modify.clone(), 10002)
        .await;
    assert_eq!(tim.emu.group("g").unwrap().name, "g");
    tim.ok("modify_group_base_info", modify).await;
    assert_eq!(tim.emu.group("g").unwrap().name, "x");
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let tim = Tim::with(Config {
        faults: Faults {
            latency: Duration::from_millis(150),
            ..Faults::default()
        },
        ..config()
    })
    .await;
    let started = Instant::now();
    tim.ok("get_appid_group_list", json!({})).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn seeded_groups_are_served_and_console_edits_bump_info_seq() {
    let tim = Tim::start().await;
    let mut seed = SeedGroup::new("@TGS#2SEEDED01", GroupType::Public, "Seeded");
    seed.owner = Some("alice".into());
    seed.members.push(SeedMember {
        account: "bob".into(),
        role: timctl::emulator::Role::Admin,
        join_time: None,
    });
    seed.custom.insert("team".into(), "ops".into());
    tim.emu.seed(vec![seed]).await.unwrap();

    let info = tim.info("@TGS#2SEEDED01").await;
    assert_eq!(info["Name"], "Seeded");
    assert_eq!(info["MemberNum"], 2);
    assert_eq!(info["InfoSeq"], 1);

    tim.emu
        .edit_group("@TGS#2SEEDED01", |g| {
            g.notification = "changed by hand".into()
        })
        .await
        .unwrap();
    let info = tim.info("@TGS#2SEEDED01").await;
    assert_eq!(info["Notification"], "changed by hand");
    assert_eq!(info["InfoSeq"], 2);

    tim.emu
        .edit_group("@TGS#2SEEDED01", |g| g.owner = Some("bob".into()))
        .await
        .unwrap();
    let roles = tim
        .ok(
            "get_role_in_group",
            json!({"GroupId": "@TGS#2SEEDED01", "User_Account": ["alice", "bob"]}),
        )
        .await;
    assert_eq!(
        roles["UserIdList"],
        json!([{"Member_Account": "alice", "Role": "Member"}, {"Member_Account": "bob", "Role": "Owner"}])
    );
    assert_eq!(tim.info("@TGS#2SEEDED01").await["InfoSeq"], 3);

    let bad = SeedGroup::new("x", GroupType::Public, &"n".repeat(31));
    let err = tim.emu.seed(vec![bad]).await.unwrap_err().to_string();
    assert!(err.contains("Name"), "{err}");
}

#[tokio::test]
async fn a_seed_file_is_loaded_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.yaml");
    std::fs::write(
        &path,
        "- id: eng\n  type: Public\n  name: Engineering\n  owner: alice\n  members: [{account: bob}]\n\
         - {id: '@TGS#_room', type: Community, name: Room, custom: {k: v}}\n",
    )
    .unwrap();
    let tim = Tim::with(Config {
        seed: Some(path),
        ..config()
    })
    .await;
    assert_eq!(tim.info("eng").await["MemberNum"], 2);
    assert_eq!(
        tim.info("@TGS#_room").await["AppDefinedData"],
        json!([{"Key": "k", "Value": "v"}])
    );
}
