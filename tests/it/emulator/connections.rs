//! The server against hostile or careless clients: an oversized body is answered in the
//! envelope; idle connections beyond the cap do not starve real calls; a client that never
//! finishes its headers is cut off.

use serde_json::json;

use super::client::Tim;

#[tokio::test]
async fn a_body_over_the_limit_is_answered_in_the_envelope() {
    let tim = Tim::start().await;
    let name = "x".repeat(3 << 20);
    let url = tim.url(
        "group_open_http_svc/import_group",
        &tim.query("administrator"),
    );
    let (status, reply) = tim
        .post(
            &url,
            json!({"GroupId": "g", "Type": "Public", "Name": name}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["ActionStatus"], "FAIL");
    assert_eq!(reply["ErrorCode"], 60002);
    assert!(tim.emu.group("g").is_none());
}

/// Raises this test process's soft open-file limit toward its hard limit; returns the soft
/// limit now in force.
fn raise_open_files(wanted: u64) -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let target = limit.maximum.map_or(wanted, |hard| hard.min(wanted));
    if limit.current.is_some_and(|soft| soft < target) {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(target),
                maximum: limit.maximum,
            },
        );
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Whether the server has closed `stream` (EOF or reset), waiting up to `wait`.
async fn closed_by_server(stream: &mut tokio::net::TcpStream, wait: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(wait, stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

use std::time::Duration;

#[tokio::test]
async fn idle_connections_beyond_the_cap_close_the_oldest_and_real_calls_go_on() {
    const CAP: usize = 1024;
    const IDLE: usize = 1500;
    let soft = raise_open_files(8192);
    assert!(
        soft >= (IDLE + 256) as u64,
        "this test needs {} open files; the hard limit allows {soft}",
        IDLE + 256
    );
    // The real binary, a process of its own with its own descriptors.
    let cap = CAP.to_string();
    let (_emulator, url) = crate::support::spawn_emulator(&[
        "--max-connections".as_ref(),
        cap.as_ref(),
        "--header-read-timeout".as_ref(),
        "5m".as_ref(),
    ]);
    let addr = url.trim_start_matches("http://").to_owned();

    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        idle.push(
            tokio::net::TcpStream::connect(&addr)
                .await
                .expect("the server accepts a connection"),
        );
    }
    // A real call on a fresh connection: answered although 1,500 sockets sit idle.
    let http = super::client::http();
    let sig = timctl::usersig::sign(
        timctl::emulator::DEV_SECRET_KEY,
        timctl::emulator::DEV_SDKAPPID,
        "administrator",
        timctl::usersig::unix_now(),
        3600,
    );
    let reply: serde_json::Value = tokio::time::timeout(
        Duration::from_secs(20),
        http.post(format!(
            "{url}/v4/group_open_http_svc/get_appid_group_list?sdkappid={}&identifier=administrator&usersig={sig}&random=1&contenttype=json",
            timctl::emulator::DEV_SDKAPPID
        ))
        .body("{}")
        .send(),
    )
    .await
    .expect("the call is answered in time")
    .expect("the call is answered")
    .json()
    .await
    .unwrap();
    assert_eq!(reply["ErrorCode"], 0, "{reply}");

    // The server holds at most CAP connections: the oldest idle ones were closed to make
    // room, the newest are still open.
    let overflow = IDLE + 1 - CAP;
    for (n, stream) in idle.iter_mut().take(overflow).enumerate() {
        assert!(
            closed_by_server(stream, Duration::from_secs(10)).await,
            "idle connection #{n} (one of the {overflow} oldest) is still open"
        );
    }
    for (n, stream) in idle.iter_mut().rev().take(100).enumerate() {
        assert!(
            !closed_by_server(stream, Duration::from_millis(5)).await,
            "connection #{} (one of the newest) was closed",
            IDLE - 1 - n
        );
    }
}

/// An emulator that gives clients half a second for their headers and their body.
async fn impatient() -> super::client::Tim {
    super::client::Tim::with(timctl::emulator::Config {
        connections: timctl::emulator::ConnectionLimits {
            max_connections: 1024,
            header_read_timeout: Duration::from_millis(500),
        },
        ..super::client::config()
    })
    .await
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    use tokio::io::AsyncWriteExt;
    let tim = impatient().await;
    let addr = tim.emu.addr();
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /v4/group_open_http_svc/get_appid_group_list HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    // Still sending one header byte at a time: the timeout counts the whole head.
    let trickle = tokio::spawn(async move {
        for byte in b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
            if slow.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        slow
    });
    // Meanwhile the server answers others.
    let url = tim.url(
        "group_open_http_svc/get_appid_group_list",
        &tim.query("administrator"),
    );
    let (status, reply) = tim.post(&url, "{}").await;
    assert_eq!(
        (status, reply["ErrorCode"].as_i64()),
        (200, Some(0)),
        "{reply}"
    );
    assert!(
        closed_by_server(&mut silent, Duration::from_secs(10)).await,
        "a connection that never sent a byte is still open"
    );
    let mut slow = trickle.await.unwrap();
    assert!(
        closed_by_server(&mut slow, Duration::from_secs(10)).await,
        "a client trickling its headers is still connected"
    );
}

#[tokio::test]
async fn answers_carry_the_headers_of_the_documentation_sample() {
    let tim = super::client::Tim::start().await;
    let url = tim.url(
        "group_open_http_svc/get_appid_group_list",
        &tim.query("administrator"),
    );
    let response = tim.http.post(&url).body("{}").send().await.unwrap();
    let headers = response.headers().clone();
    let reply: serde_json::Value = response.json().await.unwrap();
    assert_eq!(reply["ErrorCode"], 0, "{reply}");
    for (name, value) in [
        ("server", "nginx"),
        ("connection", "keep-alive"),
        ("access-control-allow-origin", "*"),
        ("access-control-allow-headers", "X-Requested-With"),
        ("access-control-allow-methods", "POST"),
        ("content-type", "application/json; charset=utf-8"),
    ] {
        assert_eq!(
            headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "header {name} in {headers:?}"
        );
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_body_gets_60002_in_time() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tim = impatient().await;
    let query = tim.query("administrator");
    let mut slow = tokio::net::TcpStream::connect(tim.emu.addr())
        .await
        .unwrap();
    slow.write_all(
        format!(
            "POST /v4/group_open_http_svc/import_group?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{\"GroupId\""
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            match slow.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.windows(9).any(|w| w == b"ErrorCode") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer while the body trickles");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.contains("\"ErrorCode\":60002"), "{text}");
    assert!(tim.emu.groups().is_empty());
}
