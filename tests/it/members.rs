//! Reading member lists over real HTTP: only for groups whose manifest writes `admins` or
//! `members`, every page (`Offset` for most types, `Next` for Community), once per group.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use timctl::api::{Client, ClientConfig, Credentials, Endpoint, MEMBER_PAGE};
use timctl::emulator::{self, Config, Emulator, Role as SeedRole, SeedMember};
use timctl::live::read_actual;
use timctl::model::{
    CompactString, Desired, DesiredGroup, Ensure, Group, GroupId, People, Role, Source,
};
use timctl::plan::PlanOptions;

use crate::support::seed_group;

fn client(emulator: &Emulator) -> Client {
    Client::new(ClientConfig::new(
        Endpoint::url(&emulator.base_url()).unwrap(),
        emulator::DEV_SDKAPPID,
        emulator::DEV_ADMIN,
        Credentials::SecretKey(emulator::DEV_SECRET_KEY.to_owned()),
    ))
    .unwrap()
}

/// `alice` owns it; `m000`.. are members, the first `admins` of them Admin.
fn seeded(
    id: &str,
    kind: emulator::GroupType,
    members: usize,
    admins: usize,
) -> emulator::SeedGroup {
    let mut group = seed_group(id, kind, id);
    group.owner = Some("alice".into());
    group.members = (0..members)
        .map(|i| SeedMember {
            account: format!("m{i:03}"),
            role: if i < admins {
                SeedRole::Admin
            } else {
                SeedRole::Member
            },
            join_time: None,
        })
        .collect();
    group
}

fn declared(id: &str, owner: &str, people: People) -> (GroupId, Arc<DesiredGroup>) {
    let group = DesiredGroup {
        group: Group {
            owner: Some(owner.into()),
            ..Group::new(id)
        },
        ensure: Ensure::Present,
        protect: false,
        source: Source::default(),
        people,
    };
    (GroupId::from(id), Arc::new(group))
}

fn expected(members: usize, admins: usize) -> BTreeMap<CompactString, Role> {
    let mut roles: BTreeMap<CompactString, Role> = (0..members)
        .map(|i| {
            let role = if i < admins {
                Role::Admin
            } else {
                Role::Member
            };
            (CompactString::from(format!("m{i:03}")), role)
        })
        .collect();
    roles.insert("alice".into(), Role::Owner);
    roles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_lists_are_read_whole_only_where_people_are_declared() {
    let emulator = Emulator::start(Config::dev(), "127.0.0.1:0").await.unwrap();
    let community = "@TGS#_crowd";
    emulator
        .seed(vec![
            seeded("big", emulator::GroupType::Public, 449, 3),
            seeded(community, emulator::GroupType::Community, 250, 1),
            seeded("moved", emulator::GroupType::Public, 2, 0),
            seeded("plain", emulator::GroupType::Public, 5, 0),
            seeded("gone", emulator::GroupType::Public, 5, 0),
        ])
        .await
        .unwrap();
    emulator.clear_request_log();
    let people = People {
        admins: Some(BTreeSet::new()),
        ..People::default()
    };
    let desired = Desired {
        groups: [
            declared("big", "alice", people.clone()),
            declared(
                community,
                "alice",
                People {
                    members: Some(BTreeSet::new()),
                    ..People::default()
                },
            ),
            // A transfer to a member: its role comes from the member list.
            declared("moved", "m001", people.clone()),
            declared("plain", "alice", People::default()),
            // To be destroyed: its members do not matter.
            (GroupId::from("gone"), {
                let (_, mut gone) = declared("gone", "alice", people.clone());
                Arc::make_mut(&mut gone).ensure = Ensure::Absent;
                gone
            }),
        ]
        .into_iter()
        .collect(),
        prune_prefixes: BTreeSet::new(),
    };
    let actual = read_actual(
        &client(&emulator),
        &desired,
        None,
        &PlanOptions::default(),
        false,
    )
    .await
    .unwrap();

    let members = |id: &str| actual.groups[&GroupId::from(id)].members.clone();
    assert_eq!(members("big"), Some(expected(449, 3)));
    assert_eq!(members(community), Some(expected(250, 1)));
    assert_eq!(members("moved"), Some(expected(2, 0)));
    assert_eq!(members("plain"), None, "no people declared: not read");
    assert_eq!(
        actual.groups[&GroupId::from("moved")].roles,
        BTreeMap::from([("m001".to_owned(), Role::Member)])
    );

    let log = emulator.request_log();
    let pages: Vec<(String, serde_json::Value)> = log
        .iter()
        .filter(|r| r.command == "get_group_member_info")
        .map(|r| (r.group_ids.join(","), r.body.clone()))
        .collect();
    let of = |id: &str| -> Vec<&serde_json::Value> {
        pages
            .iter()
            .filter(|(g, _)| g == id)
            .map(|(_, b)| b)
            .collect()
    };
    // 450 members at 200 a page: three pages, by Offset.
    let big = of("big");
    assert_eq!(big.len(), 3, "{big:?}");
    for (n, body) in big.iter().enumerate() {
        assert_eq!(body["Limit"], MEMBER_PAGE);
        assert_eq!(body["Offset"], 200 * n as u64);
        assert!(body.get("Next").is_none(), "{body}");
    }
    // 251 members: two pages, by Next (a Community refuses Offset).
    let crowd = of(community);
    assert_eq!(crowd.len(), 2, "{crowd:?}");
    assert_eq!(crowd[0]["Next"], "");
    assert_eq!(crowd[1]["Next"], "200");
    assert!(crowd.iter().all(|b| b.get("Offset").is_none()));
    assert_eq!(of("moved").len(), 1);
    assert!(of("plain").is_empty());
    assert!(of("gone").is_empty());
    assert_eq!(members("gone"), None);
    assert!(
        log.iter().all(|r| r.command != "get_role_in_group"),
        "the member list answered the new owner's role"
    );
    assert!(log.iter().all(|r| r.error_code == Some(0)), "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_member_page_is_asked_again_and_no_member_is_lost() {
    let emulator = Emulator::start(Config::dev(), "127.0.0.1:0").await.unwrap();
    emulator
        .seed(vec![seeded("big", emulator::GroupType::Public, 299, 0)])
        .await
        .unwrap();
    emulator.clear_request_log();
    let command = emulator::Command::GetGroupMemberInfo;
    emulator.fail_next(command, emulator::Fault::Internal);
    emulator.fail_next(command, emulator::Fault::BadGateway);
    let desired = Desired {
        groups: [declared(
            "big",
            "alice",
            People {
                members: Some(BTreeSet::new()),
                ..People::default()
            },
        )]
        .into_iter()
        .collect(),
        prune_prefixes: BTreeSet::new(),
    };
    let actual = read_actual(
        &client(&emulator),
        &desired,
        None,
        &PlanOptions::default(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        actual.groups[&GroupId::from("big")].members,
        Some(expected(299, 0))
    );
    let pages: Vec<(Option<i64>, serde_json::Value)> = emulator
        .request_log()
        .into_iter()
        .filter(|r| r.command == "get_group_member_info")
        .map(|r| (r.error_code, r.body["Offset"].clone()))
        .collect();
    assert_eq!(
        pages,
        // Faulted calls are logged without their body.
        [
            (Some(10002), serde_json::Value::Null),
            (None, serde_json::Value::Null),
            (Some(0), 0.into()),
            (Some(0), 200.into()),
        ]
    );
}
