//! A small TIM client for the tests: signs real UserSigs with `timctl::usersig` and speaks
//! real HTTP with reqwest to an emulator on 127.0.0.1:0.

use serde_json::{Value, json};
use timctl::emulator::{Config, Emulator};

/// An emulator and a way to call it.
pub struct Tim {
    pub emu: Emulator,
    pub http: reqwest::Client,
    pub key: String,
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The development config with rate limits off, so functional tests never trip them.
pub fn config() -> Config {
    Config {
        rate_limit_scale: 0.0,
        ..Config::dev()
    }
}

impl Tim {
    pub async fn start() -> Tim {
        Tim::with(config()).await
    }

    pub async fn with(config: Config) -> Tim {
        let key = config.secret_key.clone();
        let emu = Emulator::start(config, "127.0.0.1:0")
            .await
            .expect("the emulator starts");
        crate::support::import_accounts(&emu, crate::support::CAST).await;
        emu.clear_request_log();
        Tim {
            emu,
            http: http(),
            key,
        }
    }

    /// The URL of `command` with this query string (sdkappid etc. as given).
    pub fn url(&self, service_command: &str, query: &str) -> String {
        format!("{}/v4/{service_command}?{query}", self.emu.base_url())
    }

    /// A query string signed for `identifier` with a fresh UserSig.
    pub fn query(&self, identifier: &str) -> String {
        let sig = self.emu.usersig(identifier);
        format!(
            "sdkappid={}&identifier={identifier}&usersig={sig}&random=99999999&contenttype=json",
            self.emu.sdkappid()
        )
    }

    /// POSTs raw bytes; returns the HTTP status and the body as JSON (Null when not JSON).
    pub async fn post(&self, url: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let response = self
            .http
            .post(url)
            .body(body)
            .send()
            .await
            .expect("HTTP works");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Calls `command` (in its service: group, or account for the `im_open_login_svc` ones)
    /// as the admin; asserts HTTP 200 and returns the body.
    pub async fn call(&self, command: &str, body: Value) -> Value {
        let service = timctl::emulator::Command::named(command)
            .map_or("group_open_http_svc", |c| c.service());
        let url = self.url(
            &format!("{service}/{command}"),
            &self.query("administrator"),
        );
        let (status, reply) = self.post(&url, body.to_string()).await;
        assert_eq!(status, 200, "{command} answered HTTP {status}: {reply}");
        reply
    }

    /// Calls and asserts success.
    pub async fn ok(&self, command: &str, body: Value) -> Value {
        let reply = self.call(command, body.clone()).await;
        assert_eq!(
            (reply["ActionStatus"].as_str(), reply["ErrorCode"].as_i64()),
            (Some("OK"), Some(0)),
            "{command} {body} failed: {reply}"
        );
        reply
    }

    /// Calls and asserts the failure code; returns `ErrorInfo`.
    pub async fn fails(&self, command: &str, body: Value, code: i64) -> String {
        let reply = self.call(command, body.clone()).await;
        assert_eq!(
            (reply["ActionStatus"].as_str(), reply["ErrorCode"].as_i64()),
            (Some("FAIL"), Some(code)),
            "{command} {body} should fail with {code}: {reply}"
        );
        reply["ErrorInfo"].as_str().expect("ErrorInfo").to_owned()
    }

    /// Imports a Public group owned by alice.
    pub async fn import(&self, id: &str) -> Value {
        self.ok(
            "import_group",
            json!({"GroupId": id, "Type": "Public", "Name": id, "Owner_Account": "alice"}),
        )
        .await
    }

    /// One group's `GroupInfo` item, unfiltered.
    pub async fn info(&self, id: &str) -> Value {
        let reply = self
            .ok("get_group_info", json!({"GroupIdList": [id]}))
            .await;
        reply["GroupInfo"][0].clone()
    }
}
