//! `timctl reconcile --webhook ADDR`: the TIM third-party callback (webhook) endpoint, so that
//! a group edited out of band is put back within seconds instead of at the next full pass.
//!
//! Flow: the service POSTs an after-change callback (`Group.CallbackAfterGroupInfoChanged`, …)
//! with `SdkAppid`, `CallbackCommand` and, when the console sets an authentication token,
//! `RequestTime` and `Sign` in the query string → this module checks the app and the signature
//! and answers as the service expects (`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`) →
//! it hands the event's `GroupId` to the reconcile loop, which debounces and re-reads and
//! reconciles just those groups (paced by the client like every call). The periodic full
//! pass stays as the resync safety net: an event that is lost, dropped or never sent (the
//! service sends none for custom data) is caught there.
//!
//! Guarantees: a callback for another app, without a valid `Sign` while a token is configured,
//! with a `RequestTime` more than [`MAX_SKEW`] away, or that does not parse, changes nothing,
//! is logged (never with the token or the signature), and is answered 403 or 400. An unknown
//! command is logged and answered OK (the service must not retry it) and changes nothing. The
//! queue to the loop is bounded: when it is full an event is dropped with a warning, never
//! blocking the answer. The accept loop is the emulator's (connection cap, header timeout).
//!
//! The signature is computed here, not borrowed from the emulator, so that one misreading of
//! the documentation cannot be wrong the same way on both sides.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::model::{Desired, Ensure, GroupId};

/// A callback whose `RequestTime` is further than this from the local clock is refused (a
/// replayed or forged request; the documentation recommends checking it).
pub const MAX_SKEW: Duration = Duration::from_secs(300);

/// Events waiting for the loop; more are dropped (the full pass catches them).
pub const QUEUE: usize = 10_000;

/// The after-change callbacks of a group, each naming it in `GroupId`.
pub const GROUP_EVENTS: [&str; 7] = [
    "Group.CallbackAfterCreateGroup",
    "Group.CallbackAfterGroupInfoChanged",
    "Group.CallbackAfterGroupDestroyed",
    "Group.CallbackAfterNewMemberJoin",
    "Group.CallbackAfterMemberExit",
    "Group.CallbackAfterChangeGroupOwner",
    "Group.CallbackAfterMemberFieldChanged",
];

/// Bodies are at most this long (a destroy callback lists every member).
const MAX_BODY: usize = 4 << 20;

/// What the endpoint checks.
#[derive(Clone)]
pub struct Webhook {
    pub sdkappid: u64,
    /// The console's callback authentication token; `None`: callbacks are not signed.
    pub token: Option<String>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("sdkappid", &self.sdkappid)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .finish()
    }
}

struct Endpoint {
    webhook: Webhook,
    events: mpsc::Sender<Event>,
}

/// One authenticated group callback.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub group: GroupId,
    pub command: String,
    pub body: serde_json::Value,
}

impl Event {
    /// Whether the event may leave the group other than the manifests declare, so that it is
    /// worth a read: a profile field the manifest writes reported with another value, an owner
    /// other than the declared one, a member change where members are managed, a destroy or a
    /// creation of a declared group, or any event for an undeclared group under a prune prefix.
    /// An event reporting the declared values (timctl's own writes echoing back) or touching
    /// only what the manifest leaves unmanaged is not. Anything this does not recognise is.
    pub fn actionable(&self, desired: &Desired) -> bool {
        let Some(declared) = desired.groups.get(&self.group) else {
            return desired.prunes(&self.group);
        };
        if declared.ensure == Ensure::Absent {
            return self.command != "Group.CallbackAfterGroupDestroyed";
        }
        let group = &declared.group;
        let people = &declared.people;
        let text = |key: &str| self.body.get(key).and_then(serde_json::Value::as_str);
        let accounts = |key: &str| -> Vec<&str> {
            self.body
                .get(key)
                .and_then(serde_json::Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|m| m.get("Member_Account")?.as_str())
                        .collect()
                })
                .unwrap_or_default()
        };
        let listed = |account: &str| {
            [&people.admins, &people.members]
                .into_iter()
                .flatten()
                .any(|list| list.contains(account))
        };
        match self.command.as_str() {
            "Group.CallbackAfterGroupInfoChanged" => [
                ("Name", &group.name),
                ("Introduction", &group.introduction),
                ("Notification", &group.notification),
                ("FaceUrl", &group.face_url),
            ]
            .into_iter()
            .any(|(key, want)| match (text(key), want) {
                (Some(reported), Some(want)) => reported != want.as_str(),
                _ => false,
            }),
            "Group.CallbackAfterChangeGroupOwner" => match (&group.owner, text("NewOwner_Account"))
            {
                (Some(want), Some(reported)) => reported != want.as_str(),
                (Some(_), None) => true,
                (None, _) => people.managed(),
            },
            "Group.CallbackAfterNewMemberJoin" => {
                people.managed()
                    && accounts("NewMemberList").iter().any(|account| {
                        let admin = people.admins.as_ref().is_some_and(|a| a.contains(*account));
                        admin || (people.exclusive && !listed(account))
                    })
            }
            "Group.CallbackAfterMemberExit" => {
                people.managed() && accounts("ExitMemberList").iter().any(|a| listed(a))
            }
            // A role set or cancelled: worth a read where admins are managed and the new
            // role is not the declared one. A name card alone is not managed.
            "Group.CallbackAfterMemberFieldChanged" => {
                match (&people.admins, text("Member_Account"), text("Role")) {
                    (None, ..) | (Some(_), _, None) => false,
                    (Some(admins), Some(account), Some(role @ ("Admin" | "Member"))) => {
                        (role == "Admin") != admins.contains(account)
                    }
                    (Some(_), ..) => true,
                }
            }
            // Destroyed or created: a declared group is read (and made again, or compared).
            _ => true,
        }
    }
}

/// Serves the endpoint on `addr` (any path) for the life of the process; returns the bound
/// address.
pub async fn serve(
    addr: &str,
    webhook: Webhook,
    events: mpsc::Sender<Event>,
) -> anyhow::Result<SocketAddr> {
    if webhook.token.is_none() {
        tracing::warn!(
            target: "timctl::webhook",
            "no callback token (TIM_CALLBACK_TOKEN or --webhook-token-file): callbacks are checked for the SDKAppID only; set the console's authentication token to have them signed"
        );
    }
    let state = Arc::new(Endpoint { webhook, events });
    let app = Router::new()
        .fallback(callback)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state);
    Ok(crate::emulator::listener::serve_for_life(addr, "--webhook", app).await?)
}

/// `hex(sha256(token + RequestTime))`, as the webhook overview computes `Sign`.
pub fn signature(token: &str, request_time: &str) -> String {
    crate::plan::hex(&Sha256::digest(format!("{token}{request_time}").as_bytes()))
}

/// Why a callback is refused.
#[derive(Debug, PartialEq, Eq)]
enum Refused {
    OtherApp,
    Unsigned,
    BadSignature,
    Stale,
    Malformed(&'static str),
}

impl Refused {
    fn status(&self) -> StatusCode {
        match self {
            Refused::Malformed(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::FORBIDDEN,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Refused::OtherApp => "SdkAppid is not this app's",
            Refused::Unsigned => "no Sign or RequestTime, and a callback token is configured",
            Refused::BadSignature => "Sign does not match the configured token",
            Refused::Stale => "RequestTime is more than 5 minutes from now",
            Refused::Malformed(why) => why,
        }
    }
}

/// Checks the query string; `now` in Unix seconds.
fn authenticate(
    webhook: &Webhook,
    query: &HashMap<String, String>,
    now: u64,
) -> Result<(), Refused> {
    let app = query
        .get("SdkAppid")
        .ok_or(Refused::Malformed("no SdkAppid"))?;
    if app.parse::<u64>().ok() != Some(webhook.sdkappid) {
        return Err(Refused::OtherApp);
    }
    let Some(token) = &webhook.token else {
        return Ok(());
    };
    let (Some(sign), Some(time)) = (query.get("Sign"), query.get("RequestTime")) else {
        return Err(Refused::Unsigned);
    };
    let expected = signature(token, time);
    let equal = expected.len() == sign.len()
        && expected
            .bytes()
            .zip(sign.to_ascii_lowercase().bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !equal {
        return Err(Refused::BadSignature);
    }
    let time: u64 = time
        .parse()
        .map_err(|_| Refused::Malformed("RequestTime is not a number"))?;
    if time.abs_diff(now) > MAX_SKEW.as_secs() {
        return Err(Refused::Stale);
    }
    Ok(())
}

fn answer(status: StatusCode, code: i64, info: &str) -> Response {
    let body = serde_json::json!({
        "ActionStatus": if code == 0 { "OK" } else { "FAIL" },
        "ErrorInfo": info,
        "ErrorCode": code,
    });
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn callback(
    State(endpoint): State<Arc<Endpoint>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let command = query.get("CallbackCommand").cloned().unwrap_or_default();
    if let Err(refused) = authenticate(&endpoint.webhook, &query, now) {
        tracing::warn!(
            target: "timctl::webhook",
            command = %command.escape_debug(),
            reason = refused.reason(),
            "callback refused; nothing changed"
        );
        return answer(refused.status(), 1, refused.reason());
    }
    if !GROUP_EVENTS.contains(&command.as_str()) {
        tracing::info!(
            target: "timctl::webhook",
            command = %command.escape_debug(),
            "callback of a command timctl does not act on; nothing changed"
        );
        return answer(StatusCode::OK, 0, "");
    }
    let body = serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default();
    let group = body
        .get("GroupId")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .filter(|id| !id.is_empty());
    let Some(group) = group else {
        let refused = Refused::Malformed("the body names no GroupId");
        tracing::warn!(target: "timctl::webhook", command = %command, reason = refused.reason(), "callback refused; nothing changed");
        return answer(refused.status(), 1, refused.reason());
    };
    tracing::info!(target: "timctl::webhook", command = %command, group = %group.escape_debug(), "callback");
    let event = Event {
        group: GroupId::from(group.as_str()),
        command,
        body,
    };
    if endpoint.events.try_send(event).is_err() {
        tracing::warn!(
            target: "timctl::webhook",
            group = %group.escape_debug(),
            "the event queue is full; this group waits for the next full pass"
        );
    }
    answer(StatusCode::OK, 0, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_app_and_the_signature_are_checked() {
        let open = Webhook {
            sdkappid: 1400000000,
            token: None,
        };
        let signed = Webhook {
            token: Some("secret".to_owned()),
            ..open.clone()
        };
        let now = 1_700_000_000;
        let sign = signature("secret", "1700000000");
        let good = query(&[
            ("SdkAppid", "1400000000"),
            ("RequestTime", "1700000000"),
            ("Sign", &sign),
        ]);
        assert_eq!(authenticate(&open, &good, now), Ok(()));
        assert_eq!(authenticate(&signed, &good, now), Ok(()));
        let other = query(&[("SdkAppid", "1400000001")]);
        assert_eq!(authenticate(&open, &other, now), Err(Refused::OtherApp));
        let unsigned = query(&[("SdkAppid", "1400000000")]);
        assert_eq!(
            authenticate(&signed, &unsigned, now),
            Err(Refused::Unsigned)
        );
        let forged = query(&[
            ("SdkAppid", "1400000000"),
            ("RequestTime", "1700000000"),
            ("Sign", &signature("guess", "1700000000")),
        ]);
        assert_eq!(
            authenticate(&signed, &forged, now),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            authenticate(&signed, &good, now + 301),
            Err(Refused::Stale),
            "a replay after five minutes"
        );
    }

    #[test]
    fn the_signature_is_the_documentations_sample() {
        // The webhook overview's example: token "xxxxyyyy", RequestTime 1669872112.
        assert_eq!(
            signature("xxxxyyyy", "1669872112"),
            "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"
        );
    }

    #[test]
    fn an_event_that_reports_the_declared_values_is_not_worth_a_read() {
        use crate::model::{DesiredGroup, Group, People, Source};
        let mut desired = Desired::default();
        desired.prune_prefixes.insert("ops-".to_owned());
        desired.groups.insert(
            GroupId::from("eng"),
            Arc::new(DesiredGroup {
                group: Group {
                    name: Some("Eng".into()),
                    owner: Some("alice".into()),
                    ..Group::new("eng")
                },
                ensure: Ensure::Present,
                protect: false,
                source: Source::default(),
                people: People::default(),
            }),
        );
        let event = |group: &str, command: &str, body: serde_json::Value| Event {
            group: GroupId::from(group),
            command: command.to_owned(),
            body,
        };
        let info = "Group.CallbackAfterGroupInfoChanged";
        let yes = |e: Event| assert!(e.actionable(&desired), "{e:?}");
        let no = |e: Event| assert!(!e.actionable(&desired), "{e:?}");
        yes(event(
            "eng",
            info,
            serde_json::json!({"Name": "Hand-edited"}),
        ));
        no(event("eng", info, serde_json::json!({"Name": "Eng"})));
        // The manifest leaves the notice unmanaged.
        no(event("eng", info, serde_json::json!({"Notification": "x"})));
        let owner = "Group.CallbackAfterChangeGroupOwner";
        yes(event(
            "eng",
            owner,
            serde_json::json!({"NewOwner_Account": "bob"}),
        ));
        no(event(
            "eng",
            owner,
            serde_json::json!({"NewOwner_Account": "alice"}),
        ));
        // Members are not managed here.
        no(event(
            "eng",
            "Group.CallbackAfterNewMemberJoin",
            serde_json::json!({}),
        ));
        yes(event(
            "eng",
            "Group.CallbackAfterGroupDestroyed",
            serde_json::json!({}),
        ));
        yes(event(
            "ops-new",
            "Group.CallbackAfterCreateGroup",
            serde_json::json!({}),
        ));
        no(event(
            "other",
            "Group.CallbackAfterCreateGroup",
            serde_json::json!({}),
        ));
    }

    #[test]
    fn a_role_change_is_worth_a_read_only_where_it_differs_from_the_declared_admins() {
        use crate::model::{DesiredGroup, Group, People, Source};
        let mut desired = Desired::default();
        for (id, admins) in [("ops", Some(["ann"])), ("eng", None)] {
            desired.groups.insert(
                GroupId::from(id),
                Arc::new(DesiredGroup {
                    group: Group::new(id),
                    ensure: Ensure::Present,
                    protect: false,
                    source: Source::default(),
                    people: People {
                        admins: admins.map(|a| a.into_iter().map(Into::into).collect()),
                        ..People::default()
                    },
                }),
            );
        }
        let changed = |group: &str, body: serde_json::Value| {
            Event {
                group: GroupId::from(group),
                command: "Group.CallbackAfterMemberFieldChanged".to_owned(),
                body,
            }
            .actionable(&desired)
        };
        let role = |account: &str, role: &str| serde_json::json!({"Member_Account": account, "Role": role});
        assert!(
            changed("ops", role("ann", "Member")),
            "a declared admin unmade"
        );
        assert!(
            changed("ops", role("bob", "Admin")),
            "an undeclared admin made"
        );
        assert!(
            !changed("ops", role("ann", "Admin")),
            "timctl's own promotion echoing"
        );
        assert!(
            !changed("ops", role("bob", "Member")),
            "an undeclared admin unmade"
        );
        assert!(
            changed("ops", role("bob", "Boss")),
            "a role this does not know"
        );
        assert!(
            changed("ops", serde_json::json!({"Role": "Admin"})),
            "no account"
        );
        let card = serde_json::json!({"Member_Account": "ann", "NameCard": "Ann"});
        assert!(!changed("ops", card), "a name card alone is not managed");
        assert!(
            !changed("eng", role("ann", "Admin")),
            "admins not managed here"
        );
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let webhook = Webhook {
            sdkappid: 1,
            token: Some("hunter2".to_owned()),
        };
        assert!(!format!("{webhook:?}").contains("hunter2"));
    }
}
