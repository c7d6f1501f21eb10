//! The client at its default pacing against the emulator at the documented limits (200 calls/s
//! per command, one second of burst): many concurrent reads and an apply running at the same
//! time, over real HTTP, are never answered with a rate-limit error.
//!
//! A run this short cannot catch a pacer a few percent too fast (the service's one-second
//! bucket absorbs it; the pacer's unit tests check the rate itself with paused time); it
//! catches calls that are not paced, paced per client clone instead of per command, or let
//! out in bursts.

use std::collections::{BTreeMap, BTreeSet};

use timctl::api::{Client, ClientConfig, Credentials, Endpoint};
use timctl::apply::{self, ApplyOptions};
use timctl::emulator::{self, Config, Emulator};
use timctl::model::{Actual, Desired, DesiredGroup, Ensure, Group, GroupId, GroupType, Source};
use timctl::plan::{self, PlanOptions};

/// Codes that mean "too many calls".
const RATE_LIMIT_CODES: [i64; 5] = [60007, 10006, 60011, 60018, 60019];

fn client(emulator: &Emulator) -> Client {
    Client::new(ClientConfig::new(
        Endpoint::url(&emulator.base_url()).unwrap(),
        emulator::DEV_SDKAPPID,
        emulator::DEV_ADMIN,
        Credentials::SecretKey(emulator::DEV_SECRET_KEY.to_owned()),
    ))
    .unwrap()
}

fn declared(id: String) -> DesiredGroup {
    DesiredGroup {
        group: Group {
            group_type: Some(GroupType::Public),
            name: Some(format!("Paced {id}").into()),
            owner: Some("alice".into()),
            ..Group::new(id)
        },
        ensure: Ensure::Present,
        protect: false,
        source: Source::default(),
        people: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reads_and_writes_are_never_rate_limited() {
    let emulator = Emulator::start(Config::dev(), "127.0.0.1:0").await.unwrap();
    crate::support::import_accounts(&emulator, crate::support::CAST).await;
    emulator.clear_request_log();
    let client = client(&emulator);

    // 300 get_group_info calls (groups that do not exist are simply absent)...
    let absent: Vec<GroupId> = (0..15_000)
        .map(|i| GroupId::from(format!("absent-{i:05}")))
        .collect();
    // ...while 250 groups are imported and read back (5 more get_group_info calls).
    let desired = Desired {
        groups: (0..250)
            .map(|i| {
                let group = declared(format!("paced-{i:03}"));
                (group.group.id.clone(), std::sync::Arc::new(group))
            })
            .collect(),
        prune_prefixes: BTreeSet::new(),
    };
    let plan = plan::plan(&desired, &Actual::default(), &PlanOptions::default()).unwrap();
    assert_eq!(plan.changes.len(), 250);

    let options = ApplyOptions::default();
    let (read, report) = tokio::join!(
        client.read_groups(&absent),
        apply::apply(&client, &plan, &options),
    );
    assert!(read.unwrap().groups.is_empty());
    assert!(
        !report.failed(),
        "{}",
        timctl::render::apply_summary(&report, true)
    );

    let log = emulator.request_log();
    let refused: Vec<_> = log
        .iter()
        .filter(|r| r.error_code.is_some_and(|c| RATE_LIMIT_CODES.contains(&c)))
        .map(|r| (r.command.clone(), r.error_code))
        .collect();
    assert_eq!(refused, Vec::new(), "rate-limited calls");
    let mut calls: BTreeMap<&str, usize> = BTreeMap::new();
    for request in &log {
        *calls.entry(request.command.as_str()).or_default() += 1;
    }
    assert_eq!(
        calls,
        BTreeMap::from([("get_group_info", 305), ("import_group", 250)])
    );
    assert_eq!(emulator.groups().len(), 250);
}
