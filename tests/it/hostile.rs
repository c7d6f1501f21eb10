//! A hostile or broken server learns nothing it did not already get, and makes timctl print
//! nothing secret: the real binary runs `plan` against small raw-TCP servers on 127.0.0.1 that
//! echo the request URL (which carries the UserSig) back in every place an answer can hold
//! text, redirect to a second listener, stream an endless body, or never answer.
//!
//! Each server records the UserSig it was sent, so the scan looks for the exact value (raw,
//! percent-encoded, and the `TLS.sig` HMAC inside it) besides the key and anything shaped like
//! a UserSig. Every loop and wait is bounded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use timctl::api::{ApiError, Client, ClientConfig, Credentials, Endpoint, RetryPolicy};
use timctl::emulator::DEV_SECRET_KEY;
use timctl::model::GroupId;

use crate::support::{Run, World};

const GROUPS: &str = "groups:\n  - {id: eng, type: Public, name: Engineering}\n";

/// What a server saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    /// The request target: path and query.
    target: String,
    /// The `usersig` query value, percent-decoded.
    usersig: String,
}

/// How a server answers.
enum Answer {
    /// A whole response, then the connection is closed.
    Reply {
        status: &'static str,
        headers: Vec<String>,
        body: Vec<u8>,
    },
    /// `200 OK` and `total` bytes of body (declared in `Content-Length` or not), then close.
    Stream { total: usize, declared: bool },
    /// Reads the request and never answers (the connection is held for 30 s at most).
    Silent,
}

type Answering = Arc<dyn Fn(&Seen) -> Answer + Send + Sync>;

/// A server on 127.0.0.1 answering every request with `answer`.
struct Server {
    addr: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
}

impl Server {
    fn start(world: &World, answer: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Server {
        let answer: Answering = Arc::new(answer);
        let listener = world.rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (log, count) = (seen.clone(), connections.clone());
        world.rt.spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(socket, answer.clone(), log.clone()));
            }
        });
        Server {
            addr,
            seen,
            connections,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn host(&self) -> String {
        self.addr.to_string()
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// One connection: one request, one answer, then close.
async fn serve(mut socket: TcpStream, answer: Answering, log: Arc<Mutex<Vec<Seen>>>) {
    let Some(seen) = read_request(&mut socket).await else {
        return;
    };
    log.lock().unwrap().push(seen.clone());
    match answer(&seen) {
        Answer::Reply {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for header in headers {
                head.push_str(&header);
                head.push_str("\r\n");
            }
            head.push_str("\r\n");
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&body).await;
        }
        Answer::Stream { total, declared } => {
            let length = if declared {
                format!("Content-Length: {total}\r\n")
            } else {
                String::new()
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n"
            );
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..total / chunk.len() {
                if socket.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        }
        Answer::Silent => tokio::time::sleep(Duration::from_secs(30)).await,
    }
    let _ = socket.shutdown().await;
}

/// Reads one request (head and `Content-Length` body, 1 MiB at most).
async fn read_request(socket: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(1 << 20);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let target = head.split_whitespace().nth(1)?.to_owned();
    let usersig = target
        .split_once('?')
        .map(|(_, query)| query)
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("usersig="))
        .map(percent_decode)
        .unwrap_or_default();
    Some(Seen { target, usersig })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 3 <= bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every byte but letters and digits as `%XX`: how a server might re-encode what it echoes.
fn percent_encode_all(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What a hostile server echoes: the request URL, the UserSig percent-encoded, and the HMAC
/// inside it.
fn echo(seen: &Seen) -> String {
    let hmac = timctl::usersig::decode(&seen.usersig)
        .map(|doc| doc.sig)
        .unwrap_or_default();
    format!(
        "you sent {} (encoded {}, signature {hmac})",
        seen.target,
        percent_encode_all(&seen.usersig)
    )
}

fn json_reply(status: &'static str, body: serde_json::Value) -> Answer {
    Answer::Reply {
        status,
        headers: vec!["Content-Type: application/json".to_owned()],
        body: body.to_string().into_bytes(),
    }
}

/// The secrets a server could have echoed, in the forms it could have echoed them.
fn forbidden(seen: &[Seen]) -> Vec<String> {
    let mut secrets = vec![DEV_SECRET_KEY.to_owned()];
    for seen in seen {
        assert!(seen.usersig.starts_with("eJ"), "a signed UserSig was sent");
        secrets.push(seen.usersig.clone());
        secrets.push(percent_encode_all(&seen.usersig));
        secrets.push(timctl::usersig::decode(&seen.usersig).unwrap().sig);
    }
    secrets
}

/// Everything in `run`'s output that holds or looks like a secret.
fn leaks(run: &Run, secrets: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        for secret in secrets {
            if text.contains(secret.as_str()) {
                found.push(format!("{stream}: a secret starting {:?}", &secret[..8]));
            }
        }
        let lower = text.to_ascii_lowercase();
        for (at, _) in lower.match_indices("usersig=") {
            if !text[at + "usersig=".len()..].starts_with("<redacted>") {
                found.push(format!("{stream}: an unredacted usersig= value"));
            }
        }
        for (at, _) in text.match_indices("eJ") {
            let len = text.as_bytes()[at..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || b"*_-%+/=".contains(b))
                .count();
            if len >= 42 {
                found.push(format!("{stream}: a UserSig-shaped token at byte {at}"));
            }
        }
    }
    found
}

/// Runs `plan` once at `-vvv` and once with JSON logs against `server`, and checks that both
/// fail with exit code 1, with an error line holding every one of `expected`, and leak nothing.
fn plan_fails_cleanly(world: &World, server: &Server, expected: &[&str]) {
    world.write("groups/main.yaml", GROUPS);
    for args in [
        &["-vvv", "plan", "groups"][..],
        &["-vvv", "--log-format", "json", "plan", "groups"][..],
    ] {
        let run = world.timctl_env(args, &[("TIM_ENDPOINT", &server.url())]);
        run.code(1);
        let error: String = run
            .stderr
            .lines()
            .filter(|line| line.starts_with("error:") || line.starts_with("  caused by:"))
            .collect::<Vec<_>>()
            .join("\n");
        for needle in expected {
            assert!(
                error.contains(needle),
                "{args:?}: the error lacks {needle:?}:\n{error}\n--- stderr\n{}",
                run.stderr
            );
        }
        let leaked = leaks(&run, &forbidden(&server.seen()));
        assert!(
            leaked.is_empty(),
            "{args:?} leaked:\n{}\n--- stdout\n{}\n--- stderr\n{}",
            leaked.join("\n"),
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn an_error_info_echoing_the_request_url_is_redacted() {
    let world = World::new();
    let server = Server::start(&world, |seen| {
        json_reply(
            "200 OK",
            json!({"ActionStatus": "FAIL", "ErrorCode": 10004, "ErrorInfo": echo(seen)}),
        )
    });
    plan_fails_cleanly(
        &world,
        &server,
        &[
            "get_group_info",
            "10004",
            "usersig=<redacted>",
            "<redacted>",
        ],
    );
}

#[test]
fn a_group_item_echoing_the_request_url_is_redacted() {
    let world = World::new();
    let server = Server::start(&world, |seen| {
        json_reply(
            "200 OK",
            json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "",
                   "GroupInfo": [{"GroupId": "eng", "ErrorCode": 10004, "ErrorInfo": echo(seen)}]}),
        )
    });
    plan_fails_cleanly(&world, &server, &["10004", "usersig=<redacted>"]);
    let server = Server::start(&world, |seen| {
        json_reply(
            "200 OK",
            json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "",
                   "GroupInfo": [{"GroupId": "eng", "ErrorCode": 0, "Type": echo(seen)}]}),
        )
    });
    plan_fails_cleanly(&world, &server, &["unexpected Type", "usersig=<redacted>"]);
}

#[test]
fn a_body_that_does_not_decode_and_echoes_the_url_is_redacted() {
    let world = World::new();
    // Valid JSON of the wrong shape: the decoder quotes the string it refused.
    let server = Server::start(&world, |seen| {
        json_reply(
            "200 OK",
            json!({"ActionStatus": "FAIL", "ErrorCode": echo(seen)}),
        )
    });
    let host = server.host();
    plan_fails_cleanly(
        &world,
        &server,
        &[&format!("get_group_info to {host}"), "could not be decoded"],
    );
    // Not JSON at all.
    let server = Server::start(&world, |seen| Answer::Reply {
        status: "200 OK",
        headers: vec!["Content-Type: text/html".to_owned()],
        body: format!("<html>{}</html>", echo(seen)).into_bytes(),
    });
    let host = server.host();
    plan_fails_cleanly(&world, &server, &[&format!("get_group_info to {host}")]);
}

#[test]
fn an_http_error_echoing_the_url_names_the_host_and_nothing_secret() {
    let world = World::new();
    let server = Server::start(&world, |seen| Answer::Reply {
        status: "500 Internal Server Error",
        headers: vec!["Content-Type: text/plain".to_owned()],
        body: echo(seen).into_bytes(),
    });
    let host = server.host();
    plan_fails_cleanly(
        &world,
        &server,
        &[&format!("get_group_info to {host} got HTTP status 500")],
    );
}

#[test]
fn a_redirect_is_not_followed_and_its_location_not_shown() {
    let world = World::new();
    let elsewhere = Server::start(&world, |_| {
        json_reply(
            "200 OK",
            json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "GroupInfo": []}),
        )
    });
    let target = elsewhere.url();
    let server = Server::start(&world, move |seen| Answer::Reply {
        status: "307 Temporary Redirect",
        headers: vec![format!("Location: {target}/steal{}", seen.target)],
        body: Vec::new(),
    });
    world.write("groups/main.yaml", GROUPS);
    let run = world.timctl_env(
        &["-vvv", "plan", "groups"],
        &[("TIM_ENDPOINT", &server.url())],
    );
    assert_eq!(
        elsewhere.connections.load(Ordering::SeqCst),
        0,
        "the redirect target was contacted: {:?}",
        elsewhere.seen()
    );
    assert!(
        !run.stderr.contains("/steal") && !run.stderr.contains(&elsewhere.host()),
        "the Location is shown:\n{}",
        run.stderr
    );
    let host = server.host();
    plan_fails_cleanly(
        &world,
        &server,
        &[&format!(
            "get_group_info to {host} got HTTP status 307 (a redirect, not followed)"
        )],
    );
    assert_eq!(elsewhere.connections.load(Ordering::SeqCst), 0);
}

#[test]
fn an_endless_body_is_cut_off_with_a_clear_error() {
    let world = World::new();
    for declared in [false, true] {
        let server = Server::start(&world, move |_| Answer::Stream {
            total: 8 << 20,
            declared,
        });
        let host = server.host();
        let started = Instant::now();
        plan_fails_cleanly(
            &world,
            &server,
            &[&format!("get_group_info to {host}"), "larger than"],
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_server_that_never_answers_times_out_naming_the_host() {
    let world = World::new();
    let server = Server::start(&world, |_| Answer::Silent);
    let mut config = ClientConfig::new(
        Endpoint::url(&server.url()).unwrap(),
        1_400_000_000,
        "administrator",
        Credentials::SecretKey(DEV_SECRET_KEY.to_owned()),
    );
    config.timeout = Duration::from_millis(300);
    config.retry = RetryPolicy {
        max_attempts: 2,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(1),
    };
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let err = world
        .rt
        .block_on(client.read_groups(&[GroupId::from("eng")]))
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(server.seen().len(), 2, "each attempt reached the server");
    let ApiError::GaveUp { last, .. } = &err else {
        panic!("not retried to the end: {err:?}");
    };
    assert_eq!(
        last.to_string(),
        format!("get_group_info to {} timed out", server.host())
    );
}

#[test]
fn the_timeout_setting_bounds_a_silent_server_from_the_command_line() {
    let world = World::new();
    world.write("groups/main.yaml", GROUPS);
    let server = Server::start(&world, |_| Answer::Silent);
    let started = Instant::now();
    let run = world.timctl_env(
        &["plan", "groups"],
        &[("TIM_ENDPOINT", &server.url()), ("TIM_TIMEOUT", "1s")],
    );
    run.code(1)
        .stderr_has(&format!("get_group_info to {} timed out", server.host()));
    // Six attempts of one second each and their backoff, not six of the default ten.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert!(leaks(&run, &forbidden(&server.seen())).is_empty());
}
