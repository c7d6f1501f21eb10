//! The checks every call goes through before its command runs: URL, method, app, admin,
//! UserSig, body. Every refusal is HTTP 200 with the envelope, and none shows the key or the
//! UserSig.

use serde_json::Value;
use timctl::usersig;

use super::client::{Tim, http};

const SVC: &str = "group_open_http_svc/get_appid_group_list";

fn query(sdkappid: &str, identifier: &str, sig: &str) -> String {
    format!("sdkappid={sdkappid}&identifier={identifier}&usersig={sig}&random=7&contenttype=json")
}

/// Asserts an envelope failure and that nothing secret leaked into it.
fn assert_fails(tim: &Tim, what: &str, status: u16, reply: &Value, code: i64, secrets: &[&str]) {
    assert_eq!(status, 200, "{what}: HTTP {status}");
    assert_eq!(reply["ActionStatus"], "FAIL", "{what}: {reply}");
    assert_eq!(reply["ErrorCode"], code, "{what}: {reply}");
    let text = reply.to_string();
    assert!(!text.contains(&tim.key), "{what}: the key leaked");
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(!text.contains(secret), "{what}: a UserSig leaked");
    }
}

#[tokio::test]
async fn usersig_checks_have_the_reference_codes() {
    let tim = Tim::start().await;
    let app = tim.emu.sdkappid();
    let now = usersig::unix_now();
    let sign = |key: &str, app: u64, who: &str, time: u64, expire: u64| {
        usersig::sign(key, app, who, time, expire)
    };
    let cases = [
        (
            "expired",
            sign(&tim.key, app, "administrator", now - 7200, 3600),
            70001,
        ),
        ("empty", String::new(), 70002),
        ("undecodable", "not-a-usersig".to_owned(), 70003),
        (
            "wrong key",
            sign("another key", app, "administrator", now, 3600),
            70009,
        ),
        (
            "identifier mismatch",
            sign(&tim.key, app, "alice", now, 3600),
            70013,
        ),
        (
            "sdkappid mismatch",
            sign(&tim.key, app + 1, "administrator", now, 3600),
            70014,
        ),
    ];
    for (what, sig, code) in &cases {
        let url = tim.url(SVC, &query(&app.to_string(), "administrator", sig));
        let (status, reply) = tim.post(&url, "{}").await;
        assert_fails(&tim, what, status, &reply, *code, &[sig]);
    }
    let good = tim.emu.usersig("administrator");
    let url = tim.url(SVC, &query(&app.to_string(), "administrator", &good));
    assert_eq!(tim.post(&url, "{}").await.1["ErrorCode"], 0);
}

#[tokio::test]
async fn query_checks_have_the_reference_codes() {
    let tim = Tim::start().await;
    let app = tim.emu.sdkappid().to_string();
    let admin_sig = tim.emu.usersig("administrator");
    let alice_sig = tim.emu.usersig("alice");
    let secrets = [admin_sig.as_str(), alice_sig.as_str()];
    let cases = [
        (
            "no sdkappid",
            format!("identifier=administrator&usersig={admin_sig}&contenttype=json"),
            60012,
        ),
        (
            "sdkappid not a number",
            query("abc", "administrator", &admin_sig),
            60006,
        ),
        (
            "unknown sdkappid",
            query("1400000001", "administrator", &admin_sig),
            70020,
        ),
        (
            "identifier not an admin",
            query(&app, "alice", &alice_sig),
            60010,
        ),
        (
            "no identifier",
            format!("sdkappid={app}&usersig={admin_sig}&contenttype=json"),
            60010,
        ),
        (
            "no contenttype",
            format!("sdkappid={app}&identifier=administrator&usersig={admin_sig}"),
            60002,
        ),
    ];
    for (what, q, code) in &cases {
        let (status, reply) = tim.post(&tim.url(SVC, q), "{}").await;
        assert_fails(&tim, what, status, &reply, *code, &secrets);
    }
}

#[tokio::test]
async fn url_method_and_body_checks_have_the_reference_codes() {
    let tim = Tim::start().await;
    let q = tim.query("administrator");
    let secrets = [q.as_str()];
    let cases: [(&str, String, &str, i64); 5] = [
        ("malformed JSON", tim.url(SVC, &q), "{\"Limit\":", 60003),
        ("empty body", tim.url(SVC, &q), "", 60003),
        ("not an object", tim.url(SVC, &q), "[]", 60003),
        (
            "unknown command",
            tim.url("group_open_http_svc/import_everything", &q),
            "{}",
            10003,
        ),
        (
            "unknown service",
            tim.url("openim/get_appid_group_list", &q),
            "{}",
            60009,
        ),
    ];
    for (what, url, body, code) in cases {
        let (status, reply) = tim.post(&url, body).await;
        assert_fails(&tim, what, status, &reply, code, &secrets);
    }
    let response = http()
        .get(tim.url(SVC, &q))
        .send()
        .await
        .expect("HTTP works");
    let status = response.status().as_u16();
    let reply: Value = response.json().await.unwrap();
    assert_fails(&tim, "GET", status, &reply, 60008, &secrets);
    let (status, reply) = tim
        .post(&format!("{}/index.html", tim.emu.base_url()), "{}")
        .await;
    assert_fails(&tim, "unknown path", status, &reply, 60009, &secrets);
}

#[tokio::test]
async fn any_configured_admin_may_call() {
    let tim = Tim::with(timctl::emulator::Config {
        admins: vec!["administrator".into(), "ops_bot".into()],
        ..super::client::config()
    })
    .await;
    let url = tim.url(SVC, &tim.query("ops_bot"));
    let (status, reply) = tim.post(&url, "{}").await;
    assert_eq!(
        (status, reply["ErrorCode"].as_i64()),
        (200, Some(0)),
        "{reply}"
    );
}
