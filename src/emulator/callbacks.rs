//! Third-party callbacks (webhooks): after a write is durable, the emulator POSTs the
//! documented "after" callback to the configured URL, as the service does for an app that has
//! callbacks switched on in the console.
//!
//! What the documentation says, and what this module does with it (sources in README, "The
//! emulator", Callbacks):
//! - The URL gets `SdkAppid`, `CallbackCommand`, `contenttype=json`, `ClientIP` and
//!   `OptPlatform` (`RESTAPI` for REST calls); with an authentication token also `Sign` and
//!   `RequestTime`, where `Sign = hex(sha256(token + RequestTime))` (Unix seconds).
//! - The body is the callback's JSON, with `EventTime` in milliseconds.
//! - The service waits 2 s for an answer. "After" callbacks are not retried by default; the
//!   console can switch on retries after a timeout ([`CallbackConfig::retries`]). An answer that
//!   is not HTTP 200 with JSON is a failure, logged and not retried: the service ignores what an
//!   "after" callback answers.
//!
//! Flow: the server (or `Emulator::edit_group`) computes the callbacks of a write from the
//! group before and after (`after_write`) once the write is durable, and `Callbacks::send`
//! queues them; one background task delivers them in order. The queue is bounded: when it is
//! full a callback is dropped with a warning, so a slow or dead receiver never slows an answer.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::rules::{GroupType, Role};
use super::seed::SeedGroup;
use super::wire::Command;

/// How long the service waits for a callback's answer (the webhook overview).
pub const CALLBACK_TIMEOUT: Duration = Duration::from_secs(2);
/// Callbacks waiting to be delivered, at most, by default.
pub const DEFAULT_QUEUE: usize = 10_000;

pub const AFTER_CREATE_GROUP: &str = "Group.CallbackAfterCreateGroup";
pub const AFTER_GROUP_INFO_CHANGED: &str = "Group.CallbackAfterGroupInfoChanged";
pub const AFTER_GROUP_DESTROYED: &str = "Group.CallbackAfterGroupDestroyed";
pub const AFTER_NEW_MEMBER_JOIN: &str = "Group.CallbackAfterNewMemberJoin";
pub const AFTER_MEMBER_EXIT: &str = "Group.CallbackAfterMemberExit";
pub const AFTER_CHANGE_GROUP_OWNER: &str = "Group.CallbackAfterChangeGroupOwner";
pub const AFTER_MEMBER_FIELD_CHANGED: &str = "Group.CallbackAfterMemberFieldChanged";

/// Where and how to send callbacks (the console's callback configuration).
#[derive(Clone)]
pub struct CallbackConfig {
    /// The callback URL; the query parameters are appended to it.
    pub url: String,
    /// The authentication token: with it, every callback carries `Sign` and `RequestTime`.
    pub token: Option<String>,
    /// Retries after a timeout (0: the documented default, no retry).
    pub retries: u32,
    /// How many callbacks may wait for delivery; more are dropped with a warning.
    pub queue: usize,
}

impl CallbackConfig {
    /// Callbacks to `url`, without authentication, retries off, the default queue.
    pub fn new(url: &str) -> CallbackConfig {
        CallbackConfig {
            url: url.to_owned(),
            token: None,
            retries: 0,
            queue: DEFAULT_QUEUE,
        }
    }

    /// The URL without its query or user info (either may hold secrets), how callbacks are
    /// signed and retried: for the start-up banner.
    pub fn describe(&self) -> String {
        let shown = match reqwest::Url::parse(&self.url) {
            Ok(mut url) => {
                url.set_query(None);
                let _ = url.set_username("");
                let _ = url.set_password(None);
                url.to_string()
            }
            Err(_) => "<invalid URL>".to_owned(),
        };
        let signed = match self.token {
            Some(_) => "signed with the token",
            None => "unsigned (no token)",
        };
        format!(
            "{shown} ({signed}; {} retries after a {} s timeout)",
            self.retries,
            CALLBACK_TIMEOUT.as_secs()
        )
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| format!("the callback URL {:?} is not a URL: {e}", self.url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "the callback URL {:?} must be http or https",
                self.url
            ));
        }
        if self.token.as_deref() == Some("") {
            return Err("the callback token must not be empty".to_owned());
        }
        if self.queue == 0 {
            return Err("the callback queue must hold at least 1".to_owned());
        }
        Ok(())
    }
}

impl fmt::Debug for CallbackConfig {
    /// Never shows the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackConfig")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("retries", &self.retries)
            .field("queue", &self.queue)
            .finish()
    }
}

/// One callback to deliver.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Callback {
    pub command: &'static str,
    pub group_id: String,
    pub body: Value,
}

/// Where a change came from, for `ClientIP`.
pub(crate) struct Origin {
    pub client_ip: String,
}

/// What kind of write changed a group: the REST command, or an edit in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    Api(Command),
    Console,
}

/// Whether this kind of write can fire callbacks at all (so the server snapshots the group).
pub(crate) fn fires(write: Write) -> bool {
    match write {
        Write::Api(command) => matches!(
            command,
            Command::CreateGroup
                | Command::ModifyGroupBaseInfo
                | Command::ChangeGroupOwner
                | Command::DestroyGroup
                | Command::AddGroupMember
                | Command::DeleteGroupMember
                | Command::ModifyGroupMemberInfo
        ),
        Write::Console => true,
    }
}

/// Milliseconds since the Unix epoch, for `EventTime`.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The callbacks a durable write fires, from the group before and after it (`None`: not
/// there). `import_group`, `import_group_member` and seeding fire none (documented: imports
/// are for migration). A member made or unmade admin fires
/// `Group.CallbackAfterMemberFieldChanged` with its new `Role`; the owner's role moves with
/// the owner change, which has its own callback. Name cards are not modelled.
pub(crate) fn after_write(
    write: Write,
    before: Option<&SeedGroup>,
    after: Option<&SeedGroup>,
    operator: &str,
    event_time_ms: u64,
) -> Vec<Callback> {
    let mut out = Vec::new();
    let mut push = |command: &'static str, group: &SeedGroup, mut body: Value| {
        body["CallbackCommand"] = json!(command);
        body["GroupId"] = json!(group.id);
        body["Type"] = json!(group.kind.as_str());
        body["EventTime"] = json!(event_time_ms);
        out.push(Callback {
            command,
            group_id: group.id.clone(),
            body,
        });
    };
    if !fires(write) {
        return out;
    }
    match (before, after) {
        (None, Some(group)) => {
            let owner = group.owner.clone().unwrap_or_default();
            let members: Vec<Value> = group
                .members
                .iter()
                .filter(|m| m.account != owner)
                .map(|m| json!({"Member_Account": m.account}))
                .collect();
            let custom: Vec<Value> = group
                .custom
                .iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect();
            push(
                AFTER_CREATE_GROUP,
                group,
                json!({
                    "Operator_Account": operator,
                    "Owner_Account": owner,
                    "Name": group.name,
                    "MemberList": members,
                    "UserDefinedDataList": custom,
                }),
            );
        }
        (Some(group), None) => {
            let mut body = json!({
                "Owner_Account": group.owner.clone().unwrap_or_default(),
                "Name": group.name,
            });
            // "This field will not be returned for communities."
            if group.kind != GroupType::Community {
                body["MemberList"] = group
                    .members
                    .iter()
                    .map(|m| json!({"Member_Account": m.account}))
                    .collect();
            }
            push(AFTER_GROUP_DESTROYED, group, body);
        }
        (Some(old), Some(new)) => {
            let mut info = json!({"Operator_Account": operator});
            let mut changed = false;
            for (field, was, is) in [
                ("Name", &old.name, &new.name),
                ("Introduction", &old.introduction, &new.introduction),
                ("Notification", &old.notification, &new.notification),
                ("FaceUrl", &old.face_url, &new.face_url),
            ] {
                if was != is {
                    info[field] = json!(is);
                    changed = true;
                }
            }
            if changed {
                push(AFTER_GROUP_INFO_CHANGED, new, info);
            }
            let accounts = |g: &SeedGroup| -> BTreeSet<String> {
                g.members.iter().map(|m| m.account.clone()).collect()
            };
            let (was, is) = (accounts(old), accounts(new));
            let joined: Vec<Value> = is
                .difference(&was)
                .map(|a| json!({"Member_Account": a}))
                .collect();
            if !joined.is_empty() {
                push(
                    AFTER_NEW_MEMBER_JOIN,
                    new,
                    json!({
                        "JoinType": "Invited",
                        "Operator_Account": operator,
                        "NewMemberList": joined,
                    }),
                );
            }
            if old.owner != new.owner {
                push(
                    AFTER_CHANGE_GROUP_OWNER,
                    new,
                    json!({
                        "Operator_Account": operator,
                        "OldOwner_Account": old.owner.clone().unwrap_or_default(),
                        "NewOwner_Account": new.owner.clone().unwrap_or_default(),
                    }),
                );
            }
            let roles: BTreeMap<&str, Role> = old
                .members
                .iter()
                .map(|m| (m.account.as_str(), m.role))
                .collect();
            for member in &new.members {
                let Some(&role) = roles.get(member.account.as_str()) else {
                    continue;
                };
                if role != member.role && ![role, member.role].contains(&Role::Owner) {
                    push(
                        AFTER_MEMBER_FIELD_CHANGED,
                        new,
                        json!({
                            "Operator_Account": operator,
                            "Member_Account": member.account,
                            "Role": member.role.as_str(),
                        }),
                    );
                }
            }
            let left: Vec<Value> = was
                .difference(&is)
                .map(|a| json!({"Member_Account": a}))
                .collect();
            if !left.is_empty() {
                push(
                    AFTER_MEMBER_EXIT,
                    new,
                    json!({
                        "ExitType": "Kicked",
                        "Operator_Account": operator,
                        "ExitMemberList": left,
                    }),
                );
            }
        }
        (None, None) => {}
    }
    out
}

/// `hex(sha256(token + request_time))`, the documented signature.
pub fn sign(token: &str, request_time: u64) -> String {
    let digest = Sha256::digest(format!("{token}{request_time}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

struct Delivery {
    callback: Callback,
    client_ip: String,
}

/// The sending side: queues callbacks for the delivery task.
pub(crate) struct Callbacks {
    queue: mpsc::Sender<Delivery>,
    dropped: Arc<AtomicU64>,
}

impl Callbacks {
    /// Starts the delivery task (on the current runtime).
    pub fn start(config: CallbackConfig, sdkappid: u64) -> Callbacks {
        let (queue, deliveries) = mpsc::channel(config.queue);
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(CALLBACK_TIMEOUT)
            .build()
            .expect("an HTTP client without TLS settings builds");
        tokio::spawn(deliver(deliveries, http, config, sdkappid));
        Callbacks {
            queue,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Queues these callbacks; drops (with a warning) those the full queue cannot take.
    pub fn send(&self, callbacks: Vec<Callback>, origin: &Origin) {
        for callback in callbacks {
            let (command, group) = (callback.command, callback.group_id.clone());
            let delivery = Delivery {
                callback,
                client_ip: origin.client_ip.clone(),
            };
            if self.queue.try_send(delivery).is_err() {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(
                    command,
                    group,
                    dropped,
                    "emulator: the callback queue is full (the receiver is slow or down); dropping this callback"
                );
            }
        }
    }

    /// How many callbacks were dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn deliver(
    mut deliveries: mpsc::Receiver<Delivery>,
    http: reqwest::Client,
    config: CallbackConfig,
    sdkappid: u64,
) {
    while let Some(delivery) = deliveries.recv().await {
        let Delivery {
            callback,
            client_ip,
        } = delivery;
        let body = callback.body.to_string();
        for attempt in 0..=config.retries {
            let url = url(&config, sdkappid, callback.command, &client_ip);
            let sent = http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let outcome = match sent {
                Ok(response) => {
                    let status = response.status();
                    let answer = response.bytes().await;
                    match (status, answer) {
                        (reqwest::StatusCode::OK, Ok(bytes))
                            if serde_json::from_slice::<Value>(&bytes).is_ok() =>
                        {
                            Ok(())
                        }
                        (reqwest::StatusCode::OK, Ok(_)) => {
                            Err(("the answer is not JSON".to_owned(), false))
                        }
                        (_, Err(e)) => Err(failure(e)),
                        (status, Ok(_)) => Err((format!("the answer is HTTP {status}"), false)),
                    }
                }
                Err(e) => Err(failure(e)),
            };
            match outcome {
                Ok(()) => break,
                Err((reason, timed_out)) => {
                    let retry = timed_out && attempt < config.retries;
                    tracing::warn!(
                        command = callback.command,
                        group = callback.group_id,
                        attempt = attempt + 1,
                        retry,
                        "emulator: callback failed: {reason}"
                    );
                    if !retry {
                        break;
                    }
                }
            }
        }
    }
}

/// Why a delivery failed (without the URL, which holds `Sign`), and whether it timed out.
fn failure(error: reqwest::Error) -> (String, bool) {
    let timed_out = error.is_timeout();
    (error.without_url().to_string(), timed_out)
}

/// The callback URL with the documented query parameters.
fn url(config: &CallbackConfig, sdkappid: u64, command: &str, client_ip: &str) -> String {
    let mut url = reqwest::Url::parse(&config.url).expect("checked at start-up");
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("SdkAppid", &sdkappid.to_string())
            .append_pair("CallbackCommand", command)
            .append_pair("contenttype", "json")
            .append_pair("ClientIP", client_ip)
            .append_pair("OptPlatform", "RESTAPI");
        if let Some(token) = &config.token {
            let now = crate::usersig::unix_now();
            query
                .append_pair("Sign", &sign(token, now))
                .append_pair("RequestTime", &now.to_string());
        }
    }
    url.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_matches_the_documented_sample() {
        assert_eq!(
            sign("xxxxyyyy", 1669872112),
            "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"
        );
    }

    #[test]
    fn describe_hides_the_query_and_user_info() {
        let config = CallbackConfig {
            token: Some("tok".to_owned()),
            ..CallbackConfig::new("http://user:pw@127.0.0.1:9/hook?key=secret")
        };
        assert_eq!(
            config.describe(),
            "http://127.0.0.1:9/hook (signed with the token; 0 retries after a 2 s timeout)"
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let config = CallbackConfig {
            token: Some("s3cret-token".to_owned()),
            ..CallbackConfig::new("http://127.0.0.1:9/hook")
        };
        assert!(!format!("{config:?}").contains("s3cret-token"));
    }

    #[test]
    fn imports_fire_nothing() {
        let group = SeedGroup::new("g", GroupType::Public, "G");
        let fired = after_write(Write::Api(Command::ImportGroup), None, Some(&group), "a", 1);
        assert!(fired.is_empty());
    }

    fn member(account: &str, role: Role) -> super::super::seed::SeedMember {
        super::super::seed::SeedMember {
            account: account.to_owned(),
            role,
            join_time: None,
        }
    }

    #[test]
    fn a_member_made_or_unmade_admin_fires_a_member_field_change_with_its_role() {
        let mut before = SeedGroup::new("g", GroupType::Public, "G");
        before.owner = Some("o".into());
        before.members = vec![
            member("o", Role::Owner),
            member("a", Role::Admin),
            member("m", Role::Member),
            member("n", Role::Member),
        ];
        let mut after = before.clone();
        after.members[1].role = Role::Member;
        after.members[2].role = Role::Admin;
        let write = Write::Api(Command::ModifyGroupMemberInfo);
        let fired = after_write(write, Some(&before), Some(&after), "admin", 7);
        let bodies: Vec<&Value> = fired.iter().map(|c| &c.body).collect();
        assert_eq!(
            bodies,
            [
                &json!({"CallbackCommand": AFTER_MEMBER_FIELD_CHANGED, "GroupId": "g",
                    "Type": "Public", "EventTime": 7, "Operator_Account": "admin",
                    "Member_Account": "a", "Role": "Member"}),
                &json!({"CallbackCommand": AFTER_MEMBER_FIELD_CHANGED, "GroupId": "g",
                    "Type": "Public", "EventTime": 7, "Operator_Account": "admin",
                    "Member_Account": "m", "Role": "Admin"}),
            ]
        );

        // An owner change moves the owner's role: that is the owner change's callback only.
        let mut moved = before.clone();
        moved.owner = Some("m".into());
        moved.members[0].role = Role::Member;
        moved.members[2].role = Role::Owner;
        let fired = after_write(Write::Console, Some(&before), Some(&moved), "admin", 7);
        let commands: Vec<&str> = fired.iter().map(|c| c.command).collect();
        assert_eq!(commands, [AFTER_CHANGE_GROUP_OWNER]);
    }
}
