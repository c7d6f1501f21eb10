//! The client against a scripted stand-in of the service: each test says how every command
//! answers (by call count and request body) and checks what the client sent and concluded.
//! This is not the emulator: it knows no rules, so these tests pin the client's own behaviour
//! (query string, batching, retries, write confirmation, redaction).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::model::{GroupId, GroupType, Role};
use crate::usersig;

use super::*;

const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const APP: u64 = 1_400_000_000;

/// An answer of the stand-in.
enum Reply {
    Json(Value),
    Status(u16),
}

fn ok(extra: Value) -> Reply {
    let mut body = json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    Reply::Json(body)
}

fn fail(code: i64) -> Reply {
    Reply::Json(
        json!({"ActionStatus": "FAIL", "ErrorCode": code, "ErrorInfo": format!("error {code}")}),
    )
}

/// Answers one command: `(request body, how many earlier calls of this command)`.
type Handler = Box<dyn Fn(&Value, usize) -> Reply + Send + Sync>;

#[derive(Debug, Clone)]
struct Recorded {
    command: String,
    query: HashMap<String, String>,
    body: Value,
}

#[derive(Default)]
struct Script {
    handlers: HashMap<String, Handler>,
    calls: HashMap<String, usize>,
    requests: Vec<Recorded>,
}

struct Fake {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
}

impl Fake {
    async fn start() -> Fake {
        let script = Arc::new(Mutex::new(Script::default()));
        let app = Router::new()
            .route("/v4/group_open_http_svc/{command}", post(answer))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Fake { addr, script }
    }

    fn on(&self, command: &str, handler: impl Fn(&Value, usize) -> Reply + Send + Sync + 'static) {
        let mut script = self.script.lock().unwrap();
        script
            .handlers
            .insert(command.to_owned(), Box::new(handler));
    }

    fn requests(&self, command: &str) -> Vec<Recorded> {
        let script = self.script.lock().unwrap();
        script
            .requests
            .iter()
            .filter(|r| r.command == command)
            .cloned()
            .collect()
    }

    fn client(&self) -> Client {
        let endpoint = Endpoint::url(&format!("http://{}", self.addr)).unwrap();
        client_for(endpoint)
    }
}

fn client_for(endpoint: Endpoint) -> Client {
    let mut config = ClientConfig::new(
        endpoint,
        APP,
        "administrator",
        Credentials::SecretKey(KEY.to_owned()),
    );
    config.retry = RetryPolicy {
        max_attempts: 6,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(2),
    };
    Client::new(config).unwrap()
}

async fn answer(
    State(script): State<Arc<Mutex<Script>>>,
    Path(command): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut script = script.lock().unwrap();
    let count = script.calls.entry(command.clone()).or_default();
    let nth = *count;
    *count += 1;
    let reply = match script.handlers.get(&command) {
        Some(handler) => handler(&body, nth),
        None => ok(json!({})),
    };
    script.requests.push(Recorded {
        command,
        query,
        body,
    });
    match reply {
        Reply::Json(value) => axum::Json(value).into_response(),
        Reply::Status(status) => StatusCode::from_u16(status).unwrap().into_response(),
    }
}

/// `get_group_info` items for the requested ids: ids starting with `gone` do not exist, the
/// others are Public groups named after their id.
fn group_info(body: &Value) -> Reply {
    let items: Vec<Value> = body["GroupIdList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| {
            let id = id.as_str().unwrap();
            if id.starts_with("gone") {
                json!({"GroupId": id, "ErrorCode": 10010, "ErrorInfo": "group not exist"})
            } else {
                json!({"GroupId": id, "ErrorCode": 0, "ErrorInfo": "", "Type": "Public",
                       "Name": id, "Owner_Account": "alice", "MemberNum": 1, "InfoSeq": 3,
                       "MemberList": [{"Member_Account": "alice", "Role": "Owner"}]})
            }
        })
        .collect();
    ok(json!({"GroupInfo": items}))
}

fn ids(names: impl IntoIterator<Item = String>) -> Vec<GroupId> {
    names.into_iter().map(GroupId::from).collect()
}

#[tokio::test]
async fn every_request_carries_the_admin_a_valid_usersig_and_a_fresh_random() {
    let fake = Fake::start().await;
    let client = fake.client();
    let g = GroupId::from("g");
    client.destroy_group(&g).await.unwrap();
    client.destroy_group(&g).await.unwrap();
    let requests = fake.requests("destroy_group");
    assert_eq!(requests.len(), 2);
    for request in &requests {
        let q = &request.query;
        assert_eq!(q["sdkappid"], APP.to_string());
        assert_eq!(q["identifier"], "administrator");
        assert_eq!(q["contenttype"], "json");
        q["random"].parse::<u32>().unwrap();
        usersig::verify(
            KEY,
            APP,
            "administrator",
            &q["usersig"],
            usersig::unix_now(),
        )
        .unwrap();
        assert_eq!(request.body, json!({"GroupId": "g"}));
    }
    assert_ne!(requests[0].query["random"], requests[1].query["random"]);
}

#[tokio::test]
async fn declared_groups_are_read_50_at_a_time_and_missing_ones_are_absent() {
    let fake = Fake::start().await;
    fake.on("get_group_info", |body, _| group_info(body));
    let mut wanted = ids((0..110).map(|i| format!("g{i:03}")));
    wanted.extend(ids((0..10).map(|i| format!("gone{i}"))));
    let actual = fake.client().read_groups(&wanted).await.unwrap();
    assert_eq!(actual.groups.len(), 110);
    let g = &actual.groups[&GroupId::from("g007")];
    assert_eq!(g.group.group_type, Some(GroupType::Public));
    assert_eq!((g.info_seq, g.member_num), (3, 1));
    let requests = fake.requests("get_group_info");
    assert_eq!(requests.len(), 3);
    let mut asked = BTreeSet::new();
    for request in &requests {
        let list = request.body["GroupIdList"].as_array().unwrap();
        assert!(list.len() <= 50);
        assert!(request.body.get("ResponseFilter").is_none());
        asked.extend(list.iter().map(|v| v.as_str().unwrap().to_owned()));
    }
    assert_eq!(asked.len(), 120);
}

#[tokio::test]
async fn a_group_the_service_refuses_to_show_fails_the_read_by_name() {
    let fake = Fake::start().await;
    fake.on("get_group_info", |_, _| {
        ok(json!({"GroupInfo": [
            {"GroupId": "fine", "ErrorCode": 0, "Type": "Public"},
            {"GroupId": "secret", "ErrorCode": 10007, "ErrorInfo": "no permission"}
        ]}))
    });
    let err = fake
        .client()
        .read_groups(&ids(["fine".into(), "secret".into()]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApiError::Service { group: Some(g), code: 10007, .. } if g.as_str() == "secret")
    );
}

#[tokio::test]
async fn an_answer_over_1_mb_is_asked_again_in_halves() {
    let fake = Fake::start().await;
    fake.on("get_group_info", |body, _| {
        if body["GroupIdList"].as_array().unwrap().len() > 10 {
            fail(10018)
        } else {
            group_info(body)
        }
    });
    let wanted = ids((0..50).map(|i| format!("g{i}")));
    let actual = fake.client().read_groups(&wanted).await.unwrap();
    assert_eq!(actual.groups.len(), 50);
    assert_eq!(fake.requests("get_group_info").len(), 1 + 2 + 4 + 8);
}

#[tokio::test]
async fn an_item_with_an_internal_error_is_asked_again() {
    let fake = Fake::start().await;
    fake.on("get_group_info", |body, nth| {
        if nth == 0 {
            ok(json!({"GroupInfo": [
                {"GroupId": "a", "ErrorCode": 0, "Type": "Public"},
                {"GroupId": "b", "ErrorCode": 10002, "ErrorInfo": "internal"}
            ]}))
        } else {
            group_info(body)
        }
    });
    let actual = fake
        .client()
        .read_groups(&ids(["a".into(), "b".into()]))
        .await
        .unwrap();
    assert_eq!(actual.groups.len(), 2);
    let requests = fake.requests("get_group_info");
    assert_eq!(requests[1].body, json!({"GroupIdList": ["b"]}));
}

#[tokio::test]
async fn transient_failures_are_retried_and_final_ones_are_not() {
    let fake = Fake::start().await;
    fake.on("change_group_owner", |_, nth| match nth {
        0 => Reply::Status(502),
        1 => fail(10002),
        _ => ok(json!({})),
    });
    fake.on("modify_group_base_info", |_, _| fail(10004));
    let client = fake.client();
    let g = GroupId::from("g");
    assert_eq!(
        client.change_group_owner(&g, "bob").await.unwrap(),
        WriteOutcome::Applied
    );
    assert_eq!(fake.requests("change_group_owner").len(), 3);
    let fields = ModifyFields {
        name: Some("x".into()),
        ..ModifyFields::default()
    };
    let err = client
        .modify_group_base_info(&g, &fields)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(10004));
    assert_eq!(fake.requests("modify_group_base_info").len(), 1);
}

#[tokio::test]
async fn a_persistent_internal_error_gives_up_after_the_budget() {
    let fake = Fake::start().await;
    fake.on("get_role_in_group", |_, _| fail(70500));
    let err = fake
        .client()
        .roles(&GroupId::from("g"), &["bob".into()])
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::GaveUp { attempts: 6, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), Some(70500));
    assert_eq!(fake.requests("get_role_in_group").len(), 6);
}

#[tokio::test]
async fn a_rate_limit_answer_is_retried() {
    let fake = Fake::start().await;
    fake.on("destroy_group", |_, nth| {
        if nth == 0 { fail(60007) } else { ok(json!({})) }
    });
    let outcome = fake
        .client()
        .destroy_group(&GroupId::from("g"))
        .await
        .unwrap();
    assert_eq!(outcome, WriteOutcome::Applied);
    assert_eq!(fake.requests("destroy_group").len(), 2);
}

fn eng() -> crate::model::Group {
    crate::model::Group {
        group_type: Some(GroupType::Public),
        name: Some("eng".into()),
        ..crate::model::Group::new("eng")
    }
}

#[tokio::test]
async fn an_import_whose_answer_was_lost_is_confirmed_by_reading_it_back() {
    let fake = Fake::start().await;
    fake.on("import_group", |_, nth| {
        if nth == 0 {
            Reply::Status(502)
        } else {
            fail(10025)
        }
    });
    fake.on("get_group_info", |body, _| group_info(body));
    let outcome = fake.client().import_group(&eng()).await.unwrap();
    assert_eq!(outcome, WriteOutcome::ConfirmedAfterRetry);
    assert_eq!(fake.requests("import_group").len(), 2);
    assert_eq!(fake.requests("get_group_info").len(), 1);
}

#[tokio::test]
async fn an_id_in_use_by_a_different_group_is_a_conflict_even_after_a_retry() {
    let fake = Fake::start().await;
    fake.on("import_group", |_, nth| {
        if nth == 0 {
            Reply::Status(502)
        } else {
            fail(10021)
        }
    });
    fake.on("get_group_info", |_, _| {
        ok(json!({"GroupInfo": [{"GroupId": "eng", "ErrorCode": 0, "Type": "Private", "Name": "eng"}]}))
    });
    let err = fake.client().import_group(&eng()).await.unwrap_err();
    assert_eq!(err.code(), Some(10021));
}

#[tokio::test]
async fn an_id_in_use_without_a_lost_answer_is_a_conflict_and_is_not_read_back() {
    for first in [None, Some(60007)] {
        let fake = Fake::start().await;
        fake.on("import_group", move |_, nth| match (nth, first) {
            (0, Some(code)) => fail(code),
            _ => fail(10025),
        });
        fake.on("get_group_info", |body, _| group_info(body));
        let err = fake.client().import_group(&eng()).await.unwrap_err();
        assert_eq!(err.code(), Some(10025));
        assert!(fake.requests("get_group_info").is_empty(), "{first:?}");
    }
}

#[tokio::test]
async fn destroying_a_group_that_is_gone_counts_as_done() {
    let fake = Fake::start().await;
    fake.on("destroy_group", |body, nth| {
        match (body["GroupId"].as_str(), nth) {
            (Some("lost"), 0) => Reply::Status(502),
            _ => fail(10010),
        }
    });
    let client = fake.client();
    assert_eq!(
        client.destroy_group(&GroupId::from("lost")).await.unwrap(),
        WriteOutcome::ConfirmedAfterRetry
    );
    assert_eq!(
        client.destroy_group(&GroupId::from("never")).await.unwrap(),
        WriteOutcome::AlreadyInPlace
    );
}

#[tokio::test]
async fn an_owner_change_refused_after_a_lost_answer_is_checked_against_the_role() {
    for (role, confirmed) in [("Owner", true), ("Member", false)] {
        let fake = Fake::start().await;
        fake.on("change_group_owner", |_, nth| {
            if nth == 0 {
                Reply::Status(502)
            } else {
                fail(10004)
            }
        });
        fake.on("get_role_in_group", move |_, _| {
            ok(json!({"UserIdList": [{"Member_Account": "bob", "Role": role}]}))
        });
        let result = fake
            .client()
            .change_group_owner(&GroupId::from("g"), "bob")
            .await;
        assert_eq!(result.is_ok(), confirmed, "{role}: {result:?}");
    }
}

#[tokio::test]
async fn roles_are_read_per_group() {
    let fake = Fake::start().await;
    fake.on("get_role_in_group", |body, _| {
        let group = body["GroupId"].as_str().unwrap();
        let list: Vec<Value> = body["User_Account"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let role = if group == "a" { "Owner" } else { "NotMember" };
                json!({"Member_Account": a, "Role": role})
            })
            .collect();
        ok(json!({"UserIdList": list}))
    });
    let wanted = BTreeMap::from([
        (GroupId::from("a"), BTreeSet::from(["bob".to_owned()])),
        (
            GroupId::from("b"),
            BTreeSet::from(["bob".to_owned(), "eve".to_owned()]),
        ),
        (GroupId::from("c"), BTreeSet::new()),
    ]);
    let roles = fake.client().read_roles(&wanted).await.unwrap();
    assert_eq!(roles.len(), 2);
    assert_eq!(roles[&GroupId::from("a")]["bob"], Role::Owner);
    assert_eq!(roles[&GroupId::from("b")]["eve"], Role::NotMember);
}

#[tokio::test]
async fn the_group_list_follows_the_64_bit_cursor() {
    let fake = Fake::start().await;
    fake.on("get_appid_group_list", |body, _| {
        match body["Next"].as_u64() {
            Some(0) => ok(
                json!({"TotalCount": 3, "GroupIdList": [{"GroupId": "b"}, {"GroupId": "a"}],
                             "Next": 4454685361u64}),
            ),
            _ => ok(json!({"TotalCount": 3, "GroupIdList": [{"GroupId": "c"}], "Next": 0})),
        }
    });
    let listed = fake
        .client()
        .list_group_ids(Some(GroupType::Public))
        .await
        .unwrap();
    assert_eq!(listed, ids(["a".into(), "b".into(), "c".into()]));
    let bodies: Vec<Value> = fake
        .requests("get_appid_group_list")
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert_eq!(
        bodies,
        [
            json!({"Limit": 10000, "Next": 0, "GroupType": "Public"}),
            json!({"Limit": 10000, "Next": 4454685361u64, "GroupType": "Public"})
        ]
    );
}

#[tokio::test]
async fn an_empty_modify_sends_nothing() {
    let fake = Fake::start().await;
    let outcome = fake
        .client()
        .modify_group_base_info(&GroupId::from("g"), &ModifyFields::default())
        .await
        .unwrap();
    assert_eq!(outcome, WriteOutcome::AlreadyInPlace);
    assert!(fake.requests("modify_group_base_info").is_empty());
}

/// Every `Display` and `Debug` of an error and its causes.
fn error_text(err: &ApiError) -> String {
    let mut text = format!("{err:?}");
    let mut cause: Option<&dyn std::error::Error> = Some(err);
    while let Some(c) = cause {
        text.push_str(&format!("\n{c}"));
        cause = c.source();
    }
    text
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_error_or_log_line_shows_the_key_the_usersig_or_the_url() {
    // A global subscriber, not a scoped one: tracing caches per-callsite interest across
    // threads, so a thread-local subscriber can miss lines while other tests run in parallel.
    // Lines from other tests land here too, which only widens what is checked.
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    let logs = LOGS
        .get_or_init(|| {
            let logs = Captured::default();
            let writer = logs.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other test installs a global subscriber");
            logs
        })
        .clone();

    // Nothing listens on a port we just released: every attempt is a transport error.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = client_for(Endpoint::url(&format!("http://127.0.0.1:{port}")).unwrap());
    let transport = unreachable
        .destroy_group(&GroupId::from("g"))
        .await
        .unwrap_err();
    assert!(
        matches!(&transport, ApiError::GaveUp { last, .. } if matches!(**last, ApiError::Transport { .. }))
    );

    let fake = Fake::start().await;
    fake.on("destroy_group", |_, _| Reply::Status(502));
    fake.on("get_group_info", |_, _| fail(70009));
    let client = fake.client();
    let http = client.destroy_group(&GroupId::from("g")).await.unwrap_err();
    let service = client.read_groups(&ids(["g".into()])).await.unwrap_err();
    let sig = fake.requests("get_group_info")[0].query["usersig"].clone();

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("destroy_group") && logs.contains("70009"),
        "{logs}"
    );
    for text in [
        error_text(&transport),
        error_text(&http),
        error_text(&service),
        logs,
    ] {
        for secret in [KEY, sig.as_str(), "usersig=", "/v4/"] {
            assert!(!text.contains(secret), "{secret:?} shown in:\n{text}");
        }
    }
    assert!(format!("{client:?}").contains("sdkappid"));
    assert!(!format!("{client:?}").contains(KEY));
}
