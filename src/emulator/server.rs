//! The HTTP side: one route `/v4/{service}/{command}`, the checks every call goes through, and
//! the point where a write becomes durable before it is answered.
//!
//! Flow of a call, each step answering with the reference's code (HTTP 200, envelope) when it
//! refuses:
//! 1. added latency (test knob);
//! 2. method POST (60008), query string parses (60002);
//! 3. `sdkappid` present (60012), numeric (60006), this app's (70020);
//! 4. `identifier` is an app admin (60010);
//! 5. `usersig` verifies for that identifier and app (70001/70002/70003/70009/70013/70014);
//! 6. `contenttype=json` (60002);
//! 7. a known service, `group_open_http_svc` or `im_open_login_svc` (60009), and a known
//!    command of it (10003 in the group service, 60009 in the account service);
//! 8. the command's rate limit (60007, or 10006 for `get_appid_group_list`);
//! 9. injected faults: 10002 or HTTP 502 before anything is applied;
//! 10. the body is a JSON object (60003);
//! 11. the command, under the store lock; its record is queued to the journal under that lock;
//! 12. the journal's fsync is awaited outside the lock, then the answer is sent — or, with the
//!     drop-response fault, HTTP 502 although the write is applied;
//! 13. a read answer over 1 MiB is replaced by 10018.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::Value;

use super::app::App;
use super::callbacks::{self, Callbacks, Origin, Write};
use super::commands::{self, Ctx};
use super::faults::{Fault, FaultState};
use super::journal::{Journal, Ticket};
use super::limits::RateLimits;
use super::listener::Peer;
use super::lock;
use super::rules::{Reject, codes};
use super::seed::SeedGroup;
use super::store::{Record, Store};
use super::wire::{ACCOUNT_SERVICE, Body, Command, GROUP_SERVICE, error_body};
use crate::usersig;

/// A read answer larger than this is 10018 (reference §1.5).
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// One call as the emulator saw it, for tests to inspect.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRequest {
    /// The command name from the URL (or the path, when it had no command).
    pub command: String,
    /// `GroupId`/`GroupIdList` of the request, plus a server-assigned ID.
    pub group_ids: Vec<String>,
    pub http_status: u16,
    /// The envelope's `ErrorCode`; `None` when the answer was HTTP 502.
    pub error_code: Option<i64>,
    /// The call changed the state (true even when its response was dropped).
    pub applied: bool,
    /// The parsed request body (`Null` when it was not JSON).
    pub body: Value,
    /// The call sent the group a system notification: `add_group_member` or
    /// `delete_group_member` changed the members without `Silence: 1`, in a type that
    /// notifies member changes.
    pub notice: bool,
}

/// Where acknowledged writes go.
pub(crate) enum Sink {
    Memory,
    Journal(Journal),
    /// Shut down: no more writes.
    Closed,
}

pub(crate) struct Data {
    /// The working store: commands that write validate and apply against it. With a journal it
    /// runs ahead of [`Shared::served`] by the writes whose fsync is in flight.
    pub store: Store,
    pub sink: Sink,
}

impl Data {
    /// Queues `record` for durability (and for the served store once durable); call right after
    /// applying it to the working store, under the same lock.
    pub fn persist(&self, record: &Record, served: &Mutex<Store>) -> Option<Ticket> {
        match &self.sink {
            Sink::Journal(journal) => Some(journal.submit(record)),
            Sink::Memory => {
                lock(served)
                    .apply(record)
                    .expect("the served store follows the working store");
                None
            }
            Sink::Closed => None,
        }
    }

    /// A ticket for an answer that changed nothing: it waits for the writes before it.
    pub fn barrier(&self) -> Option<Ticket> {
        match &self.sink {
            Sink::Journal(journal) => Some(journal.barrier()),
            Sink::Memory | Sink::Closed => None,
        }
    }

    /// Why a write is refused now, if it is.
    pub fn refuses_writes(&self) -> Option<&'static str> {
        match &self.sink {
            Sink::Closed => Some("the emulator is shutting down"),
            Sink::Journal(journal) if journal.failed() => Some(
                "the emulator refuses writes since a journal write failed (a full disk?); restart it",
            ),
            Sink::Journal(_) | Sink::Memory => None,
        }
    }
}

/// Commands that never write: answered from the served store, which holds only what is on
/// disk. Any other command (a new one too) runs against the working store.
fn reads_only(command: Command) -> bool {
    matches!(
        command,
        Command::GetGroupInfo
            | Command::GetAppidGroupList
            | Command::GetRoleInGroup
            | Command::GetGroupMemberInfo
    )
}

pub(crate) struct Shared {
    pub sdkappid: u64,
    pub secret_key: String,
    pub admins: Vec<String>,
    /// The console configuration the commands check against.
    pub app: App,
    pub data: Mutex<Data>,
    /// What reads see: only durable changes (see `journal`).
    pub served: Arc<Mutex<Store>>,
    pub limits: RateLimits,
    pub faults: Mutex<FaultState>,
    pub log: Mutex<RequestLog>,
    /// Whether the request log keeps bodies (it keeps anything at all).
    pub log_bodies: bool,
    /// Third-party callbacks, when configured.
    pub callbacks: Option<Callbacks>,
}

pub(crate) struct RequestLog {
    pub capacity: usize,
    pub entries: VecDeque<LoggedRequest>,
}

impl RequestLog {
    fn push(&mut self, entry: LoggedRequest) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v4/{service}/{command}", any(handle))
        .fallback(unknown_path)
        .with_state(shared)
}

/// Waits for a journal ticket; a failed or abandoned write is 10002.
pub(crate) async fn durable(ticket: Option<Ticket>) -> Result<(), String> {
    match ticket {
        None => Ok(()),
        Some(ticket) => match ticket.await {
            Ok(result) => result,
            Err(_) => Err("the journal writer stopped before the write was durable".to_owned()),
        },
    }
}

enum Outcome {
    Reply(Vec<u8>),
    BadGateway,
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    peer: Option<Extension<Peer>>,
    Path((service, command)): Path<(String, String)>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let latency = lock(&shared.faults).faults.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut entry = LoggedRequest {
        command: command.clone(),
        group_ids: Vec::new(),
        http_status: 200,
        error_code: None,
        applied: false,
        body: Value::Null,
        notice: false,
    };
    let client_ip = peer.map_or_else(
        || "127.0.0.1".to_owned(),
        |Extension(Peer(a))| a.ip().to_string(),
    );
    let outcome = shared
        .process(
            (&method, &service, &command),
            query,
            bytes,
            &mut entry,
            client_ip,
        )
        .await;
    let response = match outcome {
        Ok(Outcome::Reply(body)) => {
            entry.error_code = Some(0);
            json_response(body)
        }
        Ok(Outcome::BadGateway) => {
            entry.http_status = 502;
            bad_gateway()
        }
        Err(reject) => {
            entry.error_code = Some(reject.code);
            json_response(error_body(&reject))
        }
    };
    tracing::debug!(
        command,
        status = entry.http_status,
        code = entry.error_code,
        "emulator call"
    );
    lock(&shared.log).push(entry);
    response
}

impl Shared {
    async fn process(
        &self,
        (method, service, name): (&Method, &str, &str),
        query: Result<Query<HashMap<String, String>>, QueryRejection>,
        bytes: Result<Bytes, BytesRejection>,
        entry: &mut LoggedRequest,
        client_ip: String,
    ) -> Result<Outcome, Reject> {
        if method != Method::POST {
            return Err(Reject::new(
                codes::MALFORMED_REQUEST,
                format!("method {method} is not allowed; the REST API takes POST only"),
            ));
        }
        // A body over axum's limit (2 MiB) is refused like the gateway refuses an HTTP request
        // it cannot take: 60002 ("HTTP parse error"), in the envelope, not a bare 413. Not
        // 60003/10011: those say the JSON is bad, and the JSON was never read.
        let bytes = bytes.map_err(|rejection| {
            Reject::new(
                codes::HTTP_PARSE,
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    "the request body is larger than the 2 MiB limit".to_owned()
                } else {
                    format!("the request body cannot be read: {rejection}")
                },
            )
        })?;
        let bytes = &bytes[..];
        let Query(query) = query.map_err(|_| {
            Reject::new(codes::HTTP_PARSE, "the URL's query string cannot be parsed")
        })?;
        self.authenticate(&query)?;
        let unknown_command = match service {
            GROUP_SERVICE => codes::BAD_COMMAND,
            ACCOUNT_SERVICE => codes::BAD_RESOURCE,
            _ => {
                return Err(Reject::new(
                    codes::BAD_RESOURCE,
                    format!(
                        "unknown service {service:?}; this emulator serves {GROUP_SERVICE} and {ACCOUNT_SERVICE}"
                    ),
                ));
            }
        };
        let command = Command::parse(service, name).ok_or_else(|| {
            Reject::new(
                unknown_command,
                format!("unknown command {name:?} in {service}"),
            )
        })?;
        if !self.limits.admit(command, Instant::now()) {
            return Err(Reject::new(
                command.rate_limit_code(),
                format!(
                    "{name} is over its frequency limit of {} calls per second",
                    command.calls_per_second()
                ),
            ));
        }
        let fault = lock(&self.faults).pick(command);
        match fault {
            Some(Fault::Internal) => {
                return Err(Reject::new(codes::INTERNAL, "internal error (injected)"));
            }
            Some(Fault::BadGateway) => return Ok(Outcome::BadGateway),
            Some(Fault::DropResponse) | None => {}
        }
        let body = Body::parse(bytes)?;
        entry.group_ids = body.group_ids();
        if self.log_bodies {
            entry.body = body.to_value();
        }
        let ctx = Ctx {
            sdkappid: self.sdkappid,
            now: usersig::unix_now(),
            app: &self.app,
        };
        let (done, ticket, fired) = if reads_only(command) {
            let done = commands::run(command, &body, &mut lock(&self.served), &ctx)?;
            debug_assert!(done.record.is_none(), "{name} is a read");
            (done, None, Vec::new())
        } else {
            let mut data = lock(&self.data);
            if let Some(reason) = data.refuses_writes() {
                return Err(Reject::new(codes::INTERNAL, reason));
            }
            // The group before the write, when the write may fire callbacks.
            let watched = self.callbacks.is_some() && callbacks::fires(Write::Api(command));
            let named = entry.group_ids.first().cloned();
            let before = match (watched, &named) {
                (true, Some(id)) => data.store.get(id).map(SeedGroup::of),
                _ => None,
            };
            let done = commands::run(command, &body, &mut data.store, &ctx)?;
            let ticket = match &done.record {
                Some(record) => data.persist(record, &self.served),
                None => data.barrier(),
            };
            let fired = match (watched, &done.record) {
                (true, Some(_)) => {
                    let id = done.created.clone().or(named);
                    let after = id.and_then(|id| data.store.get(&id).map(SeedGroup::of));
                    let operator = query_param(&query, "identifier");
                    callbacks::after_write(
                        Write::Api(command),
                        before.as_ref(),
                        after.as_ref(),
                        operator,
                        callbacks::now_ms(),
                    )
                }
                _ => Vec::new(),
            };
            (done, ticket, fired)
        };
        entry.applied = done.record.is_some();
        entry.notice = done.notice;
        entry.group_ids.extend(done.created);
        durable(ticket).await.map_err(|reason| {
            Reject::new(
                codes::INTERNAL,
                format!("the write could not be made durable: {reason}"),
            )
        })?;
        // Durable: the callbacks go out (even when the answer is then dropped: the write
        // happened).
        if let Some(sender) = &self.callbacks {
            sender.send(fired, &Origin { client_ip });
        }
        if fault == Some(Fault::DropResponse) {
            return Ok(Outcome::BadGateway);
        }
        if done.body.len() > MAX_RESPONSE_BYTES {
            return Err(Reject::new(
                codes::RESPONSE_TOO_LARGE,
                "the response is larger than 1 MB; use a ResponseFilter or smaller pages",
            ));
        }
        Ok(Outcome::Reply(done.body))
    }

    /// Steps 3 to 6 of the flow.
    fn authenticate(&self, query: &HashMap<String, String>) -> Result<(), Reject> {
        let param = |name: &str| query.get(name).map(String::as_str);
        let sdkappid = param("sdkappid").ok_or_else(|| {
            Reject::new(codes::SDKAPPID_MISSING, "sdkappid is missing from the URL")
        })?;
        let sdkappid: u64 = sdkappid.parse().map_err(|_| {
            Reject::new(
                codes::SDKAPPID_INVALID,
                format!("sdkappid {sdkappid:?} is not a valid SDKAppID"),
            )
        })?;
        if sdkappid != self.sdkappid {
            return Err(Reject::new(
                codes::SDKAPPID_NOT_FOUND,
                format!("SDKAppID {sdkappid} does not exist"),
            ));
        }
        let identifier = param("identifier").unwrap_or("");
        if !self.admins.iter().any(|a| a == identifier) {
            return Err(Reject::new(
                codes::NOT_ADMIN,
                format!("identifier {identifier:?} is not an app admin"),
            ));
        }
        let sig = param("usersig").unwrap_or("");
        usersig::verify(
            &self.secret_key,
            self.sdkappid,
            identifier,
            sig,
            usersig::unix_now(),
        )
        .map_err(|e| Reject::new(e.code(), e.to_string()))?;
        if param("contenttype") != Some("json") {
            return Err(Reject::new(
                codes::HTTP_PARSE,
                "contenttype must be json in the URL",
            ));
        }
        Ok(())
    }
}

fn query_param<'q>(query: &'q HashMap<String, String>, name: &str) -> &'q str {
    query.get(name).map_or("", String::as_str)
}

async fn unknown_path(State(shared): State<Arc<Shared>>, uri: OriginalUri) -> Response {
    let path = uri.path().to_owned();
    lock(&shared.log).push(LoggedRequest {
        command: path.clone(),
        group_ids: Vec::new(),
        http_status: 200,
        error_code: Some(codes::BAD_RESOURCE),
        applied: false,
        body: Value::Null,
        notice: false,
    });
    json_response(error_body(&Reject::new(
        codes::BAD_RESOURCE,
        format!("no such resource {path:?}; URLs look like /v4/group_open_http_svc/<command>"),
    )))
}

/// The headers of the documentation's sample response (reference §1.3), on every answer.
const SAMPLE_HEADERS: [(header::HeaderName, &str); 5] = [
    (header::SERVER, "nginx"),
    (header::CONNECTION, "keep-alive"),
    (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
    (header::ACCESS_CONTROL_ALLOW_HEADERS, "X-Requested-With"),
    (header::ACCESS_CONTROL_ALLOW_METHODS, "POST"),
];

fn json_response(body: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        SAMPLE_HEADERS,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

fn bad_gateway() -> Response {
    (
        StatusCode::BAD_GATEWAY,
        [(header::SERVER, "nginx")],
        [(header::CONTENT_TYPE, "text/html")],
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
    )
        .into_response()
}
