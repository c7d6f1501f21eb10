//! What can go wrong talking to the service, and which of it is worth another try.
//!
//! Every variant names the command; the transport-level ones (`Http`, `Transport`, `Decode`,
//! `TooLarge`) also name the endpoint's `host:port`. None carries the request URL (its query
//! string holds the UserSig), and every text that came from the server or the transport is
//! [`Redacted`], library errors included ([`Cause`]): an echoing server cannot make an error,
//! its `Debug` or a log line show a secret.
//!
//! Transient (DESIGN §4): transport errors, HTTP 5xx and 429, and the codes the reference marks
//! as internal or frequency-limited. Everything else is final for the call.

use crate::model::GroupId;

use super::redact::{Cause, Redacted};
use super::wire::Command;

/// Codes worth retrying: internal errors and timeouts, and frequency limits.
pub const TRANSIENT_CODES: [i64; 9] = [
    10002, 10006, 60007, 60011, 60018, 60019, 70169, 70202, 70500,
];

/// Codes saying "too many calls": the pacer slows down when it sees one.
pub const RATE_LIMIT_CODES: [i64; 5] = [10006, 60007, 60011, 60018, 60019];

/// `get_group_info` item codes (and write answers) meaning "no such group".
pub const NOT_FOUND_CODES: [i64; 2] = [10010, 10015];

/// `import_group` / `create_group` answers meaning "this GroupId is taken".
pub const ID_IN_USE_CODES: [i64; 2] = [10021, 10025];

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The service answered with a non-zero `ErrorCode`.
    #[error("{command}{} failed with error {code} ({}){}", for_group(group), code_meaning(*code), info_suffix(info))]
    Service {
        command: Command,
        /// The group the answer is about, when the call or the item names one.
        group: Option<GroupId>,
        code: i64,
        info: Redacted,
    },
    /// The HTTP status was not 200 (the service answers 200 unless the network failed). A 3xx
    /// is one of these: redirects are never followed, and their `Location` is not shown.
    #[error("{command} to {host} got HTTP status {status}{}", redirect_note(*status))]
    Http {
        command: Command,
        /// `host:port` of the endpoint, never its path or query.
        host: String,
        status: u16,
    },
    /// No answer: connection refused, reset, timed out.
    #[error("{command} to {host} {}", if *timed_out { "timed out" } else { "failed" })]
    Transport {
        command: Command,
        host: String,
        timed_out: bool,
        #[source]
        source: Cause,
    },
    /// The body was not the JSON the reference describes.
    #[error("{command} to {host} got a body that could not be decoded")]
    Decode {
        command: Command,
        host: String,
        #[source]
        source: Cause,
    },
    /// The body was longer than [`MAX_BODY`](super::MAX_BODY) (the service's answers are at
    /// most 1 MB); it was not read further.
    #[error(
        "{command} to {host} got an answer larger than {limit} bytes; TIM answers are at most 1 MB"
    )]
    TooLarge {
        command: Command,
        host: String,
        limit: usize,
    },
    /// The body decoded but holds a value the client cannot interpret.
    #[error(
        "{command}{} answered with an unexpected {field}: {value:?}",
        for_group(group)
    )]
    Unexpected {
        command: Command,
        group: Option<GroupId>,
        field: &'static str,
        value: Redacted,
    },
    /// `add_group_member` answered, but did not make the account a member.
    #[error("add_group_member for group {:?} did not add {account:?}: {why}", group.as_str())]
    MemberNotAdded {
        group: GroupId,
        account: String,
        why: &'static str,
    },
    /// A group to create has no type (the manifest checks prevent this).
    #[error("{command} for group {:?} needs a group type", group.as_str())]
    MissingType { command: Command, group: GroupId },
    /// A transient failure repeated until the retry budget ran out.
    #[error("{command} gave up after {attempts} attempts")]
    GaveUp {
        command: Command,
        attempts: u32,
        #[source]
        last: Box<ApiError>,
    },
    /// `ClientConfig::rate` must be a positive number of calls per second.
    #[error("rate {rate} is not a positive number of calls per second")]
    InvalidRate { rate: f64 },
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot set up the HTTP client")]
    Setup {
        #[source]
        source: reqwest::Error,
    },
}

fn for_group(group: &Option<GroupId>) -> String {
    group
        .as_ref()
        .map(|g| format!(" for group {:?}", g.as_str()))
        .unwrap_or_default()
}

fn redirect_note(status: u16) -> &'static str {
    if (300..400).contains(&status) {
        " (a redirect, not followed)"
    } else {
        ""
    }
}

fn info_suffix(info: &Redacted) -> String {
    if info.is_empty() {
        String::new()
    } else {
        format!(": {info}")
    }
}

impl ApiError {
    /// The service's error code, looking through [`ApiError::GaveUp`].
    pub fn code(&self) -> Option<i64> {
        match self {
            ApiError::Service { code, .. } => Some(*code),
            ApiError::GaveUp { last, .. } => last.code(),
            _ => None,
        }
    }

    /// The command that failed, when the error comes from a call.
    pub fn command(&self) -> Option<Command> {
        match self {
            ApiError::Service { command, .. }
            | ApiError::Http { command, .. }
            | ApiError::Transport { command, .. }
            | ApiError::Decode { command, .. }
            | ApiError::TooLarge { command, .. }
            | ApiError::Unexpected { command, .. }
            | ApiError::MissingType { command, .. }
            | ApiError::GaveUp { command, .. } => Some(*command),
            ApiError::MemberNotAdded { .. } => Some(Command::AddGroupMember),
            ApiError::InvalidRate { .. } | ApiError::Setup { .. } => None,
        }
    }

    /// Whether the same request may succeed if sent again later (DESIGN §4). An error that
    /// already went through the retries ([`ApiError::GaveUp`]) is not.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport { .. } => true,
            ApiError::Http { status, .. } => *status >= 500 || *status == 429,
            ApiError::Service { code, .. } => TRANSIENT_CODES.contains(code),
            _ => false,
        }
    }

    /// Whether the service said "too many calls".
    pub fn is_rate_limited(&self) -> bool {
        match self {
            ApiError::Http { status, .. } => *status == 429,
            ApiError::Service { code, .. } => RATE_LIMIT_CODES.contains(code),
            _ => false,
        }
    }

    /// Whether the service refused because the request was certainly not carried out (a
    /// frequency limit), as opposed to a failure after which a write may or may not have
    /// taken effect.
    pub(crate) fn certainly_not_applied(&self) -> bool {
        self.is_rate_limited()
    }
}

/// A short English meaning of a service error code (reference §1.4, §1.5), for messages.
pub fn code_meaning(code: i64) -> &'static str {
    match code {
        10002 => "internal error",
        10003 => "invalid command",
        10004 => "invalid parameter",
        10005 => "too many accounts in the request",
        10006 => "operation frequency limited",
        10007 => "insufficient permission",
        10009 => "the owner may not leave this group",
        10010 => "group does not exist or was disbanded",
        10011 => "request body could not be parsed",
        10012 => "invalid operator account",
        10013 => "already a member",
        10014 => "group is full",
        10015 => "invalid group ID",
        10016 => "rejected by the app's webhook",
        10017 => "sender is muted",
        10018 => "response larger than 1 MB",
        10019 => "account does not exist",
        10021 => "group ID already used by someone else",
        10023 => "message rate limited",
        10024 => "already handled",
        10025 => "group ID already used by you",
        10026 => "command disabled for this app",
        10036 => "AVChatRoom quota reached",
        10037 => "too many groups created or joined by one account",
        10038 => "member count over the plan limit",
        10058 => "trial edition group limit reached",
        60002 => "HTTP parse error",
        60003 => "request JSON could not be parsed",
        60004 | 60005 => "account or signature error",
        60006 => "SDKAppID invalid",
        60007 => "REST API call frequency over the limit",
        60008 => "timeout or malformed HTTP request",
        60009 => "request resource error",
        60010 => "requires an app admin",
        60011 => "SDKAppID request rate over the limit",
        60012 => "sdkappid missing",
        60013 => "response JSON parse error",
        60014 => "account swap timed out",
        60015 => "account field is not a string",
        60016 => "SDKAppID disabled",
        60017 => "request disabled",
        60018 | 60019 => "too frequent, retry later",
        60020 => "Pro package expired",
        60021 => "caller IP not allowed",
        70001 => "UserSig expired",
        70002 => "UserSig is empty",
        70003 | 70005 => "UserSig invalid",
        70009 => "UserSig signature check failed (wrong key?)",
        70013 => "identifier differs from the UserSig's",
        70014 => "SDKAppID differs from the UserSig's",
        70016 => "public key missing",
        70020 => "SDKAppID not found",
        70050 => "too many verification attempts",
        70107 => "user does not exist",
        70169 | 70202 => "internal timeout",
        70206 => "invalid batch count",
        70402 => "invalid parameter",
        70403 => "requires an app admin",
        70500 => "internal error",
        80001 => "text-safety filter hit",
        80002 => "message body too long",
        _ => "undocumented code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: i64) -> ApiError {
        ApiError::Service {
            command: Command::ImportGroup,
            group: Some(GroupId::from("eng")),
            code,
            info: "detail".into(),
        }
    }

    #[test]
    fn documented_transient_codes_are_transient_and_others_final() {
        for code in TRANSIENT_CODES {
            assert!(service(code).is_transient(), "{code}");
        }
        for code in [
            10003, 10004, 10007, 10010, 10015, 10021, 10025, 70001, 70009, 80001,
        ] {
            assert!(!service(code).is_transient(), "{code}");
        }
    }

    #[test]
    fn http_5xx_and_429_are_transient() {
        let http = |status| ApiError::Http {
            command: Command::GetGroupInfo,
            host: "127.0.0.1:8080".into(),
            status,
        };
        assert!(http(502).is_transient() && http(500).is_transient() && http(429).is_transient());
        assert!(!http(404).is_transient() && !http(403).is_transient());
        assert!(http(429).is_rate_limited() && !http(502).is_rate_limited());
        assert!(!http(307).is_transient());
    }

    #[test]
    fn transport_level_errors_name_the_host_and_a_redirect_says_so() {
        let http = |status| ApiError::Http {
            command: Command::GetGroupInfo,
            host: "127.0.0.1:8080".into(),
            status,
        };
        assert_eq!(
            http(502).to_string(),
            "get_group_info to 127.0.0.1:8080 got HTTP status 502"
        );
        assert_eq!(
            http(307).to_string(),
            "get_group_info to 127.0.0.1:8080 got HTTP status 307 (a redirect, not followed)"
        );
        let too_large = ApiError::TooLarge {
            command: Command::GetGroupInfo,
            host: "console.tim.qq.com:443".into(),
            limit: 2 << 20,
        };
        assert_eq!(
            too_large.to_string(),
            "get_group_info to console.tim.qq.com:443 got an answer larger than 2097152 bytes; TIM answers are at most 1 MB"
        );
        assert!(!too_large.is_transient());
    }

    #[test]
    fn rate_limit_codes_are_a_subset_of_transient_ones() {
        for code in RATE_LIMIT_CODES {
            assert!(service(code).is_transient() && service(code).is_rate_limited());
        }
        assert!(!service(10002).is_rate_limited());
    }

    #[test]
    fn gave_up_is_final_but_keeps_the_code() {
        let err = ApiError::GaveUp {
            command: Command::ImportGroup,
            attempts: 6,
            last: Box::new(service(10002)),
        };
        assert!(!err.is_transient());
        assert_eq!(err.code(), Some(10002));
        assert_eq!(err.to_string(), "import_group gave up after 6 attempts");
    }

    #[test]
    fn service_message_names_command_group_code_meaning_and_info() {
        assert_eq!(
            service(10021).to_string(),
            "import_group for group \"eng\" failed with error 10021 (group ID already used by someone else): detail"
        );
        let bare = ApiError::Service {
            command: Command::GetAppidGroupList,
            group: None,
            code: 99999,
            info: Redacted::default(),
        };
        assert_eq!(
            bare.to_string(),
            "get_appid_group_list failed with error 99999 (undocumented code)"
        );
    }
}
