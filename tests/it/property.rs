//! For random desired and actual states: apply, then plan again, and the plan is empty.
//!
//! The actual state is seeded into an in-process emulator; the desired state is built as the
//! manifest loader would build it. The real reader, planner, client and applier run against the
//! emulator over HTTP. The generated states stay inside what the planner accepts (no type
//! change, owners that are members or declared ones, no admins on a Private group, no people
//! on an AVChatRoom), because what it refuses is covered by the planner's own tests. Members
//! and roles are drawn too: live members with either role, and declared `admins`, `members`,
//! `members_exclusive` and `members_silent`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};

use timctl::api::{Client, ClientConfig, Credentials, Endpoint};
use timctl::apply::{ApplyOptions, apply};
use timctl::emulator::{self, Config, Emulator, SeedGroup, SeedMember};
use timctl::live::read_actual;
use timctl::model::{
    ApplyJoin, CompactString, Desired, DesiredGroup, Ensure, Group, GroupId, GroupType, People,
    Source,
};
use timctl::plan::{PlanOptions, plan};

/// The group ids a case draws from, each with its fixed type.
const POOL: [(&str, GroupType, emulator::GroupType); 6] = [
    ("p-public", GroupType::Public, emulator::GroupType::Public),
    (
        "p-private",
        GroupType::Private,
        emulator::GroupType::Private,
    ),
    ("p-room", GroupType::ChatRoom, emulator::GroupType::ChatRoom),
    (
        "p-room2",
        GroupType::ChatRoom,
        emulator::GroupType::ChatRoom,
    ),
    (
        "@TGS#_p-community",
        GroupType::Community,
        emulator::GroupType::Community,
    ),
    (
        "p-live",
        GroupType::AVChatRoom,
        emulator::GroupType::AVChatRoom,
    ),
];

const ACCOUNTS: [&str; 5] = ["alice", "bob", "carol", "dave", "eve"];

/// A subset of the accounts.
fn accounts() -> impl Strategy<Value = Vec<usize>> {
    prop::sample::subsequence((0..ACCOUNTS.len()).collect::<Vec<_>>(), 0..=ACCOUNTS.len())
}

/// What the manifest says of a group's people; admins and members drawn apart, so no account
/// is listed twice.
#[derive(Clone, Debug)]
struct Wanted {
    admins: Option<Vec<usize>>,
    members: Option<Vec<usize>>,
    exclusive: bool,
    silent: bool,
}

fn wanted() -> impl Strategy<Value = Wanted> {
    (
        prop::option::of(accounts()),
        prop::option::of(accounts()),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(admins, members, exclusive, silent)| {
            let members = members.map(|members| {
                members
                    .into_iter()
                    .filter(|m| !admins.as_ref().is_some_and(|a| a.contains(m)))
                    .collect::<Vec<_>>()
            });
            Wanted {
                exclusive: exclusive && members.is_some(),
                admins,
                members,
                silent,
            }
        })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("plain".to_owned()),
        Just("两行\n文字".to_owned()),
        Just("tab\tand \"quotes\"".to_owned()),
    ]
}

fn custom() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(
        prop::sample::select(vec!["k1", "k2", "team"]).prop_map(str::to_owned),
        prop::sample::select(vec!["v", "a\0b", "更多"]).prop_map(str::to_owned),
        0..3,
    )
}

/// What a live group looks like: its profile and its members.
#[derive(Clone, Debug)]
struct Live {
    name: String,
    introduction: String,
    notification: String,
    owner: Option<usize>,
    members: Vec<usize>,
    /// Which of `members` hold the Admin role (where the type has one).
    admins: Vec<usize>,
    max_members: u32,
    apply_join: ApplyJoin,
    mute_all: bool,
    custom: BTreeMap<String, String>,
}

fn live() -> impl Strategy<Value = Live> {
    (
        prop::sample::select(vec!["Alpha", "Beta", "群组"]),
        text(),
        text(),
        prop::option::of(0..ACCOUNTS.len()),
        (accounts(), accounts()),
        prop::sample::select(vec![50u32, 200, 500]),
        prop::sample::select(ApplyJoin::ALL.to_vec()),
        any::<bool>(),
        custom(),
    )
        .prop_map(
            |(
                name,
                introduction,
                notification,
                owner,
                (members, admins),
                max_members,
                apply_join,
                mute_all,
                custom,
            )| Live {
                name: name.to_owned(),
                introduction,
                notification,
                owner,
                admins: admins.into_iter().filter(|a| members.contains(a)).collect(),
                members,
                max_members,
                apply_join,
                mute_all,
                custom,
            },
        )
}

/// What the manifest says of a group: absent, or present with each field written or not.
#[derive(Clone, Debug)]
enum Wish {
    Undeclared,
    Absent,
    Present {
        name: Option<String>,
        introduction: Option<String>,
        notification: Option<String>,
        owner: Option<usize>,
        max_members: Option<u32>,
        apply_join: Option<ApplyJoin>,
        mute_all: Option<bool>,
        custom: Option<BTreeMap<String, String>>,
        people: Wanted,
    },
}

fn wish() -> impl Strategy<Value = Wish> {
    let present = (
        prop::option::of(
            prop::sample::select(vec!["Alpha", "Gamma", "新名字"]).prop_map(str::to_owned),
        ),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(0..ACCOUNTS.len()),
        prop::option::of(prop::sample::select(vec![50u32, 300])),
        prop::option::of(prop::sample::select(ApplyJoin::ALL.to_vec())),
        prop::option::of(any::<bool>()),
        prop::option::of(custom()),
        wanted(),
    )
        .prop_map(
            |(
                name,
                introduction,
                notification,
                owner,
                max_members,
                apply_join,
                mute_all,
                custom,
                people,
            )| {
                Wish::Present {
                    name,
                    introduction,
                    notification,
                    owner,
                    max_members,
                    apply_join,
                    mute_all,
                    custom,
                    people,
                }
            },
        );
    prop_oneof![1 => Just(Wish::Undeclared), 1 => Just(Wish::Absent), 4 => present]
}

type Case = Vec<(Option<Live>, Wish)>;

fn case() -> impl Strategy<Value = Case> {
    prop::collection::vec((prop::option::of(live()), wish()), POOL.len())
}

fn seed(id: &str, kind: emulator::GroupType, live: &Live) -> SeedGroup {
    let room = kind == emulator::GroupType::AVChatRoom;
    let mut group: SeedGroup = serde_json::from_value(serde_json::json!({
        "id": id, "type": kind, "name": live.name,
    }))
    .unwrap();
    group.introduction = live.introduction.clone();
    group.notification = live.notification.clone();
    group.owner = live.owner.map(|i| ACCOUNTS[i].to_owned());
    group.max_members = (!room).then_some(u64::from(live.max_members));
    group.apply_join = (kind != emulator::GroupType::Community).then_some(match live.apply_join {
        ApplyJoin::FreeAccess => emulator::ApplyJoin::FreeAccess,
        ApplyJoin::NeedPermission => emulator::ApplyJoin::NeedPermission,
        ApplyJoin::DisableApply => emulator::ApplyJoin::DisableApply,
    });
    group.mute_all = live.mute_all;
    group.custom = live.custom.clone();
    if !room {
        group.members = live
            .members
            .iter()
            .filter(|&&i| Some(i) != live.owner)
            .map(|&i| SeedMember {
                account: ACCOUNTS[i].to_owned(),
                role: if live.admins.contains(&i) && kind != emulator::GroupType::Private {
                    emulator::Role::Admin
                } else {
                    emulator::Role::Member
                },
                join_time: None,
            })
            .collect();
    }
    group
}

/// The manifest group for a wish, kept inside what the planner accepts for this live state.
fn declared(
    id: &str,
    group_type: GroupType,
    live: Option<&Live>,
    wish: &Wish,
) -> Option<DesiredGroup> {
    let entry = |group, ensure, people| DesiredGroup {
        group,
        ensure,
        protect: false,
        source: Source::default(),
        people,
    };
    match wish {
        Wish::Undeclared => None,
        Wish::Absent => Some(entry(Group::new(id), Ensure::Absent, People::default())),
        Wish::Present {
            name,
            introduction,
            notification,
            owner,
            max_members,
            apply_join,
            mute_all,
            custom,
            people,
        } => {
            let room = group_type == GroupType::AVChatRoom;
            let set = |list: &Option<Vec<usize>>| {
                list.as_ref().map(|l| {
                    l.iter()
                        .map(|&i| CompactString::from(ACCOUNTS[i]))
                        .collect()
                })
            };
            let people = match group_type {
                GroupType::AVChatRoom => People::default(),
                GroupType::Private => People {
                    admins: None,
                    members: set(&people.members),
                    exclusive: people.exclusive,
                    silent: people.silent,
                },
                _ => People {
                    admins: set(&people.admins),
                    members: set(&people.members),
                    exclusive: people.exclusive,
                    silent: people.silent,
                },
            };
            let declared_person = |i: usize| {
                [&people.admins, &people.members]
                    .into_iter()
                    .flatten()
                    .any(|l: &BTreeSet<CompactString>| l.contains(ACCOUNTS[i]))
            };
            // A new owner must already be a member or be declared (added first); an
            // AVChatRoom keeps its owner.
            let owner = match (live, owner) {
                (_, None) => None,
                (None, Some(i)) => Some(ACCOUNTS[*i].to_owned()),
                (Some(_), Some(_)) if room => None,
                (Some(live), Some(i)) => {
                    (live.owner == Some(*i) || live.members.contains(i) || declared_person(*i))
                        .then(|| ACCOUNTS[*i].to_owned())
                }
            };
            let group = Group {
                id: GroupId::from(id),
                group_type: Some(group_type),
                name: Some(name.as_deref().unwrap_or("Created").into()),
                owner: owner.map(Into::into),
                introduction: introduction.as_deref().map(Into::into),
                notification: notification.as_deref().map(Into::into),
                face_url: None,
                max_members: if room { None } else { *max_members },
                apply_join: *apply_join,
                mute_all: *mute_all,
                custom: custom.as_ref().map(|map| map.iter().collect()),
                create_time: None,
            };
            Some(entry(group, Ensure::Present, people))
        }
    }
}

async fn apply_then_plan(emulator: &Emulator, client: &Client, case: &Case) -> Result<(), String> {
    let mut seeds = Vec::new();
    let mut desired = Desired::default();
    for ((id, group_type, kind), (live, wish)) in POOL.iter().zip(case) {
        if let Some(live) = live {
            seeds.push(seed(id, *kind, live));
        }
        if let Some(entry) = declared(id, *group_type, live.as_ref(), wish) {
            desired.groups.insert(GroupId::from(*id), Arc::new(entry));
        }
    }
    emulator.seed(seeds).await.map_err(|e| e.to_string())?;
    let options = PlanOptions::default();
    let actual = read_actual(client, &desired, None, &options, false)
        .await
        .map_err(|e| e.to_string())?;
    let first = plan(&desired, &actual, &options).map_err(|e| e.to_string())?;
    let report = apply(client, &first, &ApplyOptions::default()).await;
    if report.failed() {
        return Err(format!("apply failed: {report:?}\nplan: {first:?}"));
    }
    let actual = read_actual(client, &desired, None, &options, false)
        .await
        .map_err(|e| e.to_string())?;
    let second = plan(&desired, &actual, &options).map_err(|e| e.to_string())?;
    if !second.is_empty() {
        return Err(format!(
            "second plan not empty: {second:?}\nfirst: {first:?}"
        ));
    }
    for entry in desired.groups.values() {
        check_live(emulator, entry)?;
    }
    // Clean slate for the next case.
    for (id, ..) in POOL {
        if emulator.group(id).is_some() {
            client
                .destroy_group(&GroupId::from(id))
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Compares a declared group with the emulator's own record of it, through the emulator's types
/// rather than the planner's, so a planner that forgot a field cannot hide it.
fn check_live(emulator: &Emulator, entry: &DesiredGroup) -> Result<(), String> {
    let want = &entry.group;
    let found = emulator.group(want.id.as_str());
    let Some(found) = found else {
        return match entry.ensure {
            Ensure::Absent => Ok(()),
            Ensure::Present => Err(format!("{} was not created", want.id)),
        };
    };
    if entry.ensure == Ensure::Absent {
        return Err(format!("{} was not destroyed", want.id));
    }
    let mismatch = |field: &str| {
        Err(format!(
            "{}: {field} differs: {found:?} vs {want:?}",
            want.id
        ))
    };
    let text = |w: &Option<CompactString>, f: &str| w.as_ref().is_some_and(|w| w != f);
    if text(&want.name, &found.name) {
        return mismatch("name");
    }
    if text(&want.introduction, &found.introduction) {
        return mismatch("introduction");
    }
    if text(&want.notification, &found.notification) {
        return mismatch("notification");
    }
    if want.owner.is_some() && want.owner.as_deref() != found.owner.as_deref() {
        return mismatch("owner");
    }
    if want
        .max_members
        .is_some_and(|m| Some(u64::from(m)) != found.max_members)
    {
        return mismatch("max_members");
    }
    if want
        .apply_join
        .is_some_and(|a| Some(a.as_str()) != found.apply_join.map(|f| f.as_str()))
    {
        return mismatch("apply_join");
    }
    if want.mute_all.is_some_and(|m| m != found.mute_all) {
        return mismatch("mute_all");
    }
    let found_custom = found.custom.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    if want
        .custom
        .as_ref()
        .is_some_and(|c| !c.iter().eq(found_custom))
    {
        return mismatch("custom");
    }
    check_people(&entry.people, &found)
}

/// The emulator's member list holds what the manifest declares: every declared account a
/// member, exactly the written admins Admin (the owner keeps Owner), and with an exclusive list
/// no one else but the owner and (unmanaged) admins.
fn check_people(people: &People, found: &SeedGroup) -> Result<(), String> {
    let roles: BTreeMap<&str, emulator::Role> = found
        .members
        .iter()
        .map(|m| (m.account.as_str(), m.role))
        .chain(found.owner.as_deref().map(|o| (o, emulator::Role::Owner)))
        .collect();
    let fail = |what: String| Err(format!("{}: {what}: {roles:?} vs {people:?}", found.id));
    for account in [&people.admins, &people.members]
        .into_iter()
        .flatten()
        .flatten()
    {
        if !roles.contains_key(account.as_str()) {
            return fail(format!("{account} is not a member"));
        }
    }
    for (account, role) in &roles {
        let owner = *role == emulator::Role::Owner;
        if let Some(admins) = &people.admins
            && !owner
            && (*role == emulator::Role::Admin) != admins.contains(*account)
        {
            return fail(format!("{account} has role {role:?}"));
        }
        if people.exclusive
            && !owner
            && !people.members.iter().flatten().any(|m| m == *account)
            && !people.admins.iter().flatten().any(|a| a == *account)
            && (people.admins.is_some() || *role != emulator::Role::Admin)
        {
            return fail(format!("{account} should have been removed"));
        }
    }
    Ok(())
}

#[test]
fn apply_then_plan_is_empty_for_random_states() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = Config {
        rate_limit_scale: 0.0,
        ..Config::dev()
    };
    let emulator = rt.block_on(Emulator::start(config, "127.0.0.1:0")).unwrap();
    rt.block_on(crate::support::import_accounts(&emulator, &ACCOUNTS));
    let client = Client::new(ClientConfig::new(
        Endpoint::url(&emulator.base_url()).unwrap(),
        emulator.sdkappid(),
        emulator::DEV_ADMIN,
        Credentials::SecretKey(emulator::DEV_SECRET_KEY.to_owned()),
    ))
    .unwrap();
    let mut runner = TestRunner::new(RunnerConfig {
        cases: 64,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    runner
        .run(&case(), |case| {
            rt.block_on(apply_then_plan(&emulator, &client, &case))
                .map_err(TestCaseError::fail)
        })
        .unwrap();
}
