//! Third-party callbacks: a receiver on 127.0.0.1 records what the emulator POSTs after each
//! durable write (REST or console edit), and answers as each test tells it to: OK, HTTP 500,
//! late, or never.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use timctl::emulator::{CallbackConfig, Config, SeedMember};

use super::client::{Tim, config};

const TOKEN: &str = "callback-token-for-tests";

/// How the receiver answers one request.
#[derive(Clone, Copy)]
enum Answer {
    Ok,
    Status500,
    After(Duration),
}

#[derive(Debug, Clone)]
struct Received {
    query: HashMap<String, String>,
    body: Value,
    at: Instant,
}

#[derive(Default)]
struct Inbox {
    received: Vec<Received>,
    /// Answers for the next requests, in order; `Ok` when empty.
    script: VecDeque<Answer>,
}

/// A callback receiver on 127.0.0.1:0.
struct Receiver {
    url: String,
    inbox: Arc<Mutex<Inbox>>,
}

async fn receive(
    State(inbox): State<Arc<Mutex<Inbox>>>,
    Query(query): Query<HashMap<String, String>>,
    bytes: Bytes,
) -> Response {
    let answer = {
        let mut inbox = inbox.lock().unwrap();
        inbox.received.push(Received {
            query,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            at: Instant::now(),
        });
        inbox.script.pop_front().unwrap_or(Answer::Ok)
    };
    let ok = || {
        (
            StatusCode::OK,
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#,
        )
            .into_response()
    };
    match answer {
        Answer::Ok => ok(),
        Answer::Status500 => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        Answer::After(delay) => {
            tokio::time::sleep(delay).await;
            ok()
        }
    }
}

impl Receiver {
    async fn start(script: &[Answer]) -> Receiver {
        let inbox = Arc::new(Mutex::new(Inbox {
            received: Vec::new(),
            script: script.iter().copied().collect(),
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(Arc::clone(&inbox));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{addr}/hook"),
            inbox,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().received.clone()
    }

    /// Waits (up to 10 s) until `n` requests have arrived; returns them.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {n} callbacks, got {}: {got:#?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn commands(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| r.body["CallbackCommand"].as_str().unwrap_or("?").to_owned())
            .collect()
    }
}

fn with_callbacks(callback: CallbackConfig) -> Config {
    Config {
        callback: Some(callback),
        ..config()
    }
}

async fn tim_for(receiver: &Receiver) -> Tim {
    Tim::with(with_callbacks(CallbackConfig {
        token: Some(TOKEN.to_owned()),
        ..CallbackConfig::new(&receiver.url)
    }))
    .await
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The body without `EventTime` (checked to be a recent millisecond time).
fn without_event_time(received: &Received) -> Value {
    let mut body = received.body.clone();
    let at = body["EventTime"].as_u64().expect("EventTime is an integer");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        at <= now && now - at < 60_000,
        "EventTime {at} is ms, now {now}"
    );
    body.as_object_mut().unwrap().remove("EventTime");
    body
}

#[tokio::test]
async fn create_group_posts_after_create_with_the_documented_query_and_a_valid_sign() {
    let receiver = Receiver::start(&[]).await;
    let tim = tim_for(&receiver).await;
    let reply = tim
        .ok(
            "create_group",
            json!({"Type": "Public", "Name": "Eng", "Owner_Account": "alice",
                   "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol"}],
                   "AppDefinedData": [{"Key": "team", "Value": "platform"}]}),
        )
        .await;
    let id = reply["GroupId"].as_str().unwrap();
    let got = receiver.wait_for(1).await;
    let query = &got[0].query;
    assert_eq!(query["SdkAppid"], "1400000000");
    assert_eq!(query["CallbackCommand"], "Group.CallbackAfterCreateGroup");
    assert_eq!(query["contenttype"], "json");
    assert_eq!(query["ClientIP"], "127.0.0.1");
    assert_eq!(query["OptPlatform"], "RESTAPI");
    let time: u64 = query["RequestTime"]
        .parse()
        .expect("RequestTime is Unix seconds");
    assert!(timctl::usersig::unix_now().abs_diff(time) < 60);
    assert_eq!(
        query["Sign"],
        sha256_hex(&format!("{TOKEN}{time}")),
        "Sign = sha256(Token + RequestTime)"
    );
    assert!(
        !query.values().any(|v| v.contains(TOKEN)),
        "the token itself is never sent"
    );
    assert_eq!(
        without_event_time(&got[0]),
        json!({
            "CallbackCommand": "Group.CallbackAfterCreateGroup",
            "GroupId": id,
            "Type": "Public",
            "Operator_Account": "administrator",
            "Owner_Account": "alice",
            "Name": "Eng",
            "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol"}],
            "UserDefinedDataList": [{"Key": "team", "Value": "platform"}]
        })
    );
}

#[tokio::test]
async fn without_a_token_there_is_no_sign() {
    let receiver = Receiver::start(&[]).await;
    let tim = Tim::with(with_callbacks(CallbackConfig::new(&receiver.url))).await;
    tim.ok(
        "create_group",
        json!({"Type": "Public", "Name": "n", "Owner_Account": "alice"}),
    )
    .await;
    let got = receiver.wait_for(1).await;
    assert!(!got[0].query.contains_key("Sign"), "{:?}", got[0].query);
    assert!(!got[0].query.contains_key("RequestTime"));
}

#[tokio::test]
async fn each_rest_write_posts_its_documented_callback_and_imports_post_none() {
    let receiver = Receiver::start(&[]).await;
    let tim = tim_for(&receiver).await;
    // The migration API fires nothing (documented for import_group).
    tim.import("g").await;
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "Notification": "freeze", "FaceUrl": "https://x/y.png"}),
    )
    .await;
    // Neither custom data nor other base fields fire the info callback (documented: only
    // name, introduction, notification and face URL). Silence mutes the members' system
    // notification, not the app's callback. A member made admin fires the member-profile
    // callback with its new role.
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "AppDefinedData": [{"Key": "team", "Value": "x"}],
               "ApplyJoinOption": "FreeAccess"}),
    )
    .await;
    tim.ok(
        "add_group_member",
        json!({"GroupId": "g", "Silence": 1,
               "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol"}]}),
    )
    .await;
    tim.ok(
        "modify_group_member_info",
        json!({"GroupId": "g", "Member_Account": "carol", "Role": "Admin"}),
    )
    .await;
    tim.ok(
        "change_group_owner",
        json!({"GroupId": "g", "NewOwner_Account": "bob"}),
    )
    .await;
    tim.ok(
        "delete_group_member",
        json!({"GroupId": "g", "MemberToDel_Account": ["carol"]}),
    )
    .await;
    tim.ok("destroy_group", json!({"GroupId": "g"})).await;

    let got = receiver.wait_for(6).await;
    let bodies: Vec<Value> = got.iter().map(without_event_time).collect();
    assert_eq!(
        bodies,
        vec![
            json!({"CallbackCommand": "Group.CallbackAfterGroupInfoChanged", "GroupId": "g",
                   "Type": "Public", "Operator_Account": "administrator",
                   "Notification": "freeze", "FaceUrl": "https://x/y.png"}),
            json!({"CallbackCommand": "Group.CallbackAfterNewMemberJoin", "GroupId": "g",
                   "Type": "Public", "JoinType": "Invited", "Operator_Account": "administrator",
                   "NewMemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol"}]}),
            json!({"CallbackCommand": "Group.CallbackAfterMemberFieldChanged", "GroupId": "g",
                   "Type": "Public", "Operator_Account": "administrator",
                   "Member_Account": "carol", "Role": "Admin"}),
            json!({"CallbackCommand": "Group.CallbackAfterChangeGroupOwner", "GroupId": "g",
                   "Type": "Public", "Operator_Account": "administrator",
                   "OldOwner_Account": "alice", "NewOwner_Account": "bob"}),
            json!({"CallbackCommand": "Group.CallbackAfterMemberExit", "GroupId": "g",
                   "Type": "Public", "ExitType": "Kicked", "Operator_Account": "administrator",
                   "ExitMemberList": [{"Member_Account": "carol"}]}),
            json!({"CallbackCommand": "Group.CallbackAfterGroupDestroyed", "GroupId": "g",
                   "Type": "Public", "Owner_Account": "bob", "Name": "g",
                   "MemberList": [{"Member_Account": "alice"}, {"Member_Account": "bob"}]}),
        ]
    );
    for (received, body) in got.iter().zip(&bodies) {
        assert_eq!(received.query["CallbackCommand"], body["CallbackCommand"]);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.received().len(), 6, "{:?}", receiver.commands());
}

#[tokio::test]
async fn refused_writes_and_no_op_writes_post_nothing() {
    let receiver = Receiver::start(&[]).await;
    let tim = tim_for(&receiver).await;
    tim.import("g").await;
    tim.fails(
        "modify_group_base_info",
        json!({"GroupId": "g", "Name": "x".repeat(31)}),
        10004,
    )
    .await;
    tim.fails("destroy_group", json!({"GroupId": "missing"}), 10010)
        .await;
    tim.fails(
        "add_group_member",
        json!({"GroupId": "g", "MemberList": [{"Member_Account": "nobody"}]}),
        10019,
    )
    .await;
    // A modify that sets what is there changes nothing.
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "Name": "g"}),
    )
    .await;
    // The marker: callbacks go out in order, so once it arrives nothing came before it.
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "Introduction": "marker"}),
    )
    .await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].body["Introduction"], "marker", "{got:#?}");
    assert_eq!(got.len(), 1, "{:?}", receiver.commands());
}

#[tokio::test]
async fn a_console_edit_posts_the_callbacks_of_the_equivalent_rest_writes() {
    let receiver = Receiver::start(&[]).await;
    let tim = tim_for(&receiver).await;
    tim.import("g").await;
    tim.emu
        .edit_group("g", |g| {
            g.name = "renamed".to_owned();
            g.custom.insert("team".to_owned(), "ops".to_owned());
            g.owner = Some("bob".to_owned());
            g.members.push(SeedMember {
                account: "bob".to_owned(),
                role: timctl::emulator::Role::Owner,
                join_time: None,
            });
        })
        .await
        .unwrap();
    let got = receiver.wait_for(3).await;
    let bodies: Vec<Value> = got.iter().map(without_event_time).collect();
    assert_eq!(
        bodies,
        vec![
            json!({"CallbackCommand": "Group.CallbackAfterGroupInfoChanged", "GroupId": "g",
                   "Type": "Public", "Operator_Account": "administrator", "Name": "renamed"}),
            json!({"CallbackCommand": "Group.CallbackAfterNewMemberJoin", "GroupId": "g",
                   "Type": "Public", "JoinType": "Invited", "Operator_Account": "administrator",
                   "NewMemberList": [{"Member_Account": "bob"}]}),
            json!({"CallbackCommand": "Group.CallbackAfterChangeGroupOwner", "GroupId": "g",
                   "Type": "Public", "Operator_Account": "administrator",
                   "OldOwner_Account": "alice", "NewOwner_Account": "bob"}),
        ]
    );
    let query = &got[0].query;
    assert_eq!(query["OptPlatform"], "RESTAPI");
    assert_eq!(query["SdkAppid"], "1400000000");

    // Removing a member in the console posts the member-exit callback.
    tim.emu
        .edit_group("g", |g| g.members.retain(|m| m.account != "alice"))
        .await
        .unwrap();
    let got = receiver.wait_for(4).await;
    assert_eq!(
        without_event_time(&got[3]),
        json!({"CallbackCommand": "Group.CallbackAfterMemberExit", "GroupId": "g",
               "Type": "Public", "ExitType": "Kicked", "Operator_Account": "administrator",
               "ExitMemberList": [{"Member_Account": "alice"}]})
    );

    // Making a member admin in the console posts the member-profile callback.
    tim.emu
        .edit_group("g", |g| {
            g.members.push(SeedMember {
                account: "carol".to_owned(),
                role: timctl::emulator::Role::Member,
                join_time: None,
            });
        })
        .await
        .unwrap();
    tim.emu
        .edit_group("g", |g| {
            for member in &mut g.members {
                if member.account == "carol" {
                    member.role = timctl::emulator::Role::Admin;
                }
            }
        })
        .await
        .unwrap();
    let got = receiver.wait_for(6).await;
    assert_eq!(
        without_event_time(&got[5]),
        json!({"CallbackCommand": "Group.CallbackAfterMemberFieldChanged", "GroupId": "g",
               "Type": "Public", "Operator_Account": "administrator",
               "Member_Account": "carol", "Role": "Admin"})
    );
}

#[tokio::test]
async fn an_http_500_is_not_retried() {
    let receiver = Receiver::start(&[Answer::Status500]).await;
    let tim = Tim::with(with_callbacks(CallbackConfig {
        retries: 2,
        ..CallbackConfig::new(&receiver.url)
    }))
    .await;
    tim.import("g").await;
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "Name": "one"}),
    )
    .await;
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "Name": "two"}),
    )
    .await;
    let got = receiver.wait_for(2).await;
    let names: Vec<&Value> = got.iter().map(|r| &r.body["Name"]).collect();
    assert_eq!(
        names,
        [&json!("one"), &json!("two")],
        "the 500 was not sent again"
    );
}

#[tokio::test]
async fn a_timeout_is_retried_only_when_retries_are_configured() {
    // Retries on: the first attempt gets no answer within 2 s, the second is answered.
    let receiver = Receiver::start(&[Answer::After(Duration::from_secs(4))]).await;
    let tim = Tim::with(with_callbacks(CallbackConfig {
        retries: 1,
        ..CallbackConfig::new(&receiver.url)
    }))
    .await;
    tim.import("g").await;
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "Name": "one"}),
    )
    .await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got[0].body, got[1].body, "the same callback, sent again");
    let waited = got[1].at - got[0].at;
    assert!(
        waited >= Duration::from_millis(1900) && waited < Duration::from_secs(4),
        "retried after the 2 s timeout, not after the answer: {waited:?}"
    );

    // The documented default: no retry.
    let receiver = Receiver::start(&[Answer::After(Duration::from_secs(4))]).await;
    let tim = Tim::with(with_callbacks(CallbackConfig::new(&receiver.url))).await;
    tim.import("g").await;
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "Name": "one"}),
    )
    .await;
    tim.ok(
        "modify_group_base_info",
        json!({"GroupId": "g", "Name": "two"}),
    )
    .await;
    let got = receiver.wait_for(2).await;
    let names: Vec<&Value> = got.iter().map(|r| &r.body["Name"]).collect();
    assert_eq!(
        names,
        [&json!("one"), &json!("two")],
        "the timed-out one was not retried"
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_does_not_slow_the_api_and_a_full_queue_drops() {
    let receiver = Receiver::start(&[Answer::After(Duration::from_secs(3600)); 64]).await;
    let tim = Tim::with(with_callbacks(CallbackConfig {
        queue: 4,
        retries: 3,
        ..CallbackConfig::new(&receiver.url)
    }))
    .await;
    tim.import("g").await;
    let started = Instant::now();
    for i in 0..30 {
        tim.ok(
            "modify_group_base_info",
            json!({"GroupId": "g", "Name": format!("n{i}")}),
        )
        .await;
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "30 writes took {took:?} with a dead receiver"
    );
    // One in flight, four queued, the rest dropped.
    assert!(
        tim.emu.callbacks_dropped() >= 25,
        "dropped {}",
        tim.emu.callbacks_dropped()
    );
    assert!(receiver.received().len() <= 1);
}

#[tokio::test]
async fn a_write_that_does_not_reach_the_disk_posts_nothing() {
    let receiver = Receiver::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let tim = Tim::with(Config {
        state: Some(dir.path().join("state.json")),
        // One write for the accounts Tim imports, one for "g"; the next one fails.
        journal_fail_after: Some(2),
        ..with_callbacks(CallbackConfig::new(&receiver.url))
    })
    .await;
    tim.import("g").await;
    tim.fails("destroy_group", json!({"GroupId": "g"}), 10002)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.received().is_empty(), "{:?}", receiver.commands());
}

#[tokio::test]
async fn timctl_emulator_sends_signed_callbacks_with_callback_url_and_token() {
    let receiver = Receiver::start(&[]).await;
    let (mut child, base) = super::process::spawn_emulator_with(&[
        "--callback-url".as_ref(),
        receiver.url.as_ref(),
        "--callback-token".as_ref(),
        TOKEN.as_ref(),
    ]);
    let client = super::client::http();
    let reply: Value = client
        .post(super::process::command_url(&base, "create_group"))
        .body(json!({"Type": "Public", "Name": "n", "Owner_Account": "administrator"}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got = receiver.wait_for(1).await;
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(reply["ErrorCode"], 0, "{reply}");
    assert_eq!(got[0].body["GroupId"], reply["GroupId"]);
    let query = &got[0].query;
    assert_eq!(query["CallbackCommand"], "Group.CallbackAfterCreateGroup");
    let time = &query["RequestTime"];
    assert_eq!(query["Sign"], sha256_hex(&format!("{TOKEN}{time}")));
}
