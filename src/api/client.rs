//! The HTTP side of the client: one request (credentials in the query, JSON body, envelope
//! check), its retries, and running many requests at once.
//!
//! Flow of one call: take an in-flight slot → wait for the command's pacer → POST → decode the
//! envelope → on a transient failure wait (backoff) and go again. The typed commands in
//! `read.rs` and `write.rs` are built on [`Client::call`].
//!
//! Guarantees: the request URL (its query holds the UserSig) is never logged nor put in an
//! error; `tracing` sees the command, the group ids, the attempt, the time taken and the code.
//! Every text from the server or the transport is redacted (`redact.rs`) where the error is
//! built. Redirects are never followed (the service does not redirect; following one would
//! send the UserSig wherever `Location` points). An answer is read up to [`MAX_BODY`] bytes.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::model::GroupId;

use super::credentials::{Credentials, Signer};
use super::endpoint::Endpoint;
use super::error::ApiError;
use super::pacing::Pacer;
use super::redact::Redactor;
use super::retry::RetryPolicy;
use super::wire::{Command, Envelope};

/// Most bytes of an answer the client reads. The service answers at most 1 MB (a larger answer
/// is error 10018), so twice that leaves room for any framing while a broken or hostile server
/// cannot make the client buffer an endless body.
pub const MAX_BODY: usize = 2 << 20;

/// Everything needed to talk to one app.
///
/// For settings: `timeout` is what a `--timeout` flag should set (it bounds a whole request,
/// the body included, so a server that never answers costs `timeout` per attempt, times
/// `retry.max_attempts`); `connect_timeout` bounds the TCP and TLS handshake and is capped at
/// `timeout`.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub endpoint: Endpoint,
    pub sdkappid: u64,
    /// The app admin account requests are made as (`identifier`).
    pub admin: String,
    pub credentials: Credentials,
    /// Calls per second to assume for every command documented at 200/s, for apps that bought
    /// a higher limit (or to leave room for other tools sharing the app). `None`: 200.
    /// `get_appid_group_list` is always paced at 1 call/s.
    pub rate: Option<f64>,
    /// Per-request timeout, from sending to the last byte of the answer. The service gives
    /// itself 3 s, so this should be longer.
    pub timeout: Duration,
    /// Timeout of connecting (TCP and TLS), at most `timeout`.
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    /// Most requests in flight at once across all clones of the client.
    pub max_in_flight: usize,
    /// The group custom fields the app has configured (`timctl.yaml custom_fields`), when
    /// known: `get_group_info` is then sent with a `ResponseFilter` naming every base field
    /// and these keys and no member field, so its answers do not grow with the members. `None`:
    /// no filter (every key is returned, and every member list with it).
    pub custom_keys: Option<Vec<String>>,
}

impl ClientConfig {
    /// A configuration with the defaults: documented rates, 10 s timeout (5 s to connect),
    /// 6 attempts, 256 in flight.
    pub fn new(
        endpoint: Endpoint,
        sdkappid: u64,
        admin: impl Into<String>,
        credentials: Credentials,
    ) -> ClientConfig {
        ClientConfig {
            endpoint,
            sdkappid,
            admin: admin.into(),
            credentials,
            rate: None,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            max_in_flight: 256,
            custom_keys: None,
        }
    }
}

/// A client of one app's group REST API. Cheap to clone; clones share the connection pool,
/// the pacers and the in-flight limit.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: Endpoint,
    /// `host:port` of the endpoint, for transport errors.
    host: String,
    /// Command URLs without their query, indexed by `Command as usize`.
    urls: Vec<Url>,
    sdkappid: u64,
    admin: String,
    signer: Signer,
    pacer: Pacer,
    retry: RetryPolicy,
    in_flight: Semaphore,
    max_in_flight: usize,
    custom_keys: Option<Vec<String>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint)
            .field("sdkappid", &self.inner.sdkappid)
            .field("admin", &self.inner.admin)
            .finish_non_exhaustive()
    }
}

/// How a call with retries ended.
#[derive(Debug)]
pub(crate) struct Called<T> {
    pub result: Result<T, ApiError>,
    /// Some attempt failed in a way that does not rule out that the service carried it out
    /// (no answer, HTTP 5xx, internal error): a write may have taken effect even though this
    /// call reports an error, or reports the refusal of a later attempt.
    pub ambiguous_attempt: bool,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, ApiError> {
        if let Some(rate) = config.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(ApiError::InvalidRate { rate });
        }
        // reqwest is built without a default crypto provider; install ring's once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout.min(config.timeout))
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(20))
            .user_agent(concat!("timctl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| ApiError::Setup {
                source: source.without_url(),
            })?;
        let urls = Command::ALL
            .iter()
            .map(|command| {
                config
                    .endpoint
                    .service_url(command.service(), command.as_str())
            })
            .collect();
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                urls,
                signer: Signer::new(config.credentials, config.sdkappid, config.admin.clone()),
                host: config.endpoint.host_port(),
                endpoint: config.endpoint,
                sdkappid: config.sdkappid,
                admin: config.admin,
                pacer: Pacer::new(config.rate),
                retry: config.retry,
                in_flight: Semaphore::new(config.max_in_flight.max(1)),
                max_in_flight: config.max_in_flight.max(1),
                custom_keys: config.custom_keys,
            }),
        })
    }

    /// The configured custom keys `get_group_info` filters on (see
    /// [`ClientConfig::custom_keys`]).
    pub(crate) fn custom_keys(&self) -> Option<&[String]> {
        self.inner.custom_keys.as_deref()
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    pub fn sdkappid(&self) -> u64 {
        self.inner.sdkappid
    }

    pub fn admin(&self) -> &str {
        &self.inner.admin
    }

    /// The call frequency the client keeps `command` under, calls per second.
    pub fn rate_limit(&self, command: Command) -> f64 {
        self.inner.pacer.limit(command)
    }

    /// Most requests in flight at once across all clones of the client.
    pub fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight
    }

    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// Cleans text from the server before it goes into an error.
    pub(crate) fn redactor(&self) -> &Redactor {
        self.inner.signer.redactor()
    }

    /// Sends `body` to `command`, retrying transient failures. `groups` are the groups the
    /// request is about, for logs and error messages.
    pub(crate) async fn call<Req, Resp>(
        &self,
        command: Command,
        groups: &[GroupId],
        body: &Req,
    ) -> Called<Resp>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let policy = self.inner.retry;
        let mut ambiguous_attempt = false;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let started = Instant::now();
            let result = self.attempt(command, groups, body).await;
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let err = match result {
                Ok(resp) => {
                    tracing::debug!(%command, ?groups, attempts, elapsed_ms, code = 0, "call ok");
                    return Called {
                        result: Ok(resp),
                        ambiguous_attempt,
                    };
                }
                Err(err) => err,
            };
            tracing::debug!(
                %command, ?groups, attempts, elapsed_ms, code = err.code(),
                transient = err.is_transient(), error = %err, "call failed"
            );
            if err.is_rate_limited() {
                match err.code() {
                    Some(60011) => self.inner.pacer.penalize_all(),
                    _ => self.inner.pacer.penalize(command),
                }
            }
            if err.is_transient() && !err.certainly_not_applied() {
                ambiguous_attempt = true;
            }
            if !policy.should_retry(&err, attempts) {
                let err = if err.is_transient() {
                    ApiError::GaveUp {
                        command,
                        attempts,
                        last: Box::new(err),
                    }
                } else {
                    err
                };
                return Called {
                    result: Err(err),
                    ambiguous_attempt,
                };
            }
            tokio::time::sleep(policy.delay(attempts, rand::random::<f64>())).await;
        }
    }

    /// One request, no retry.
    async fn attempt<Req, Resp>(
        &self,
        command: Command,
        groups: &[GroupId],
        body: &Req,
    ) -> Result<Resp, ApiError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let inner = &*self.inner;
        let _slot = inner
            .in_flight
            .acquire()
            .await
            .expect("the in-flight semaphore is never closed");
        inner.pacer.acquire(command).await;
        let mut url = inner.urls[command as usize].clone();
        let usersig = inner.signer.usersig();
        url.query_pairs_mut()
            .append_pair("sdkappid", &inner.sdkappid.to_string())
            .append_pair("identifier", &inner.admin)
            .append_pair("usersig", usersig.expose())
            .append_pair("random", &rand::random::<u32>().to_string())
            .append_pair("contenttype", "json");
        let redactor = inner.signer.redactor();
        let host = || inner.host.clone();
        let transport = |source: reqwest::Error| ApiError::Transport {
            command,
            host: host(),
            timed_out: source.is_timeout(),
            source: redactor.cause(&source.without_url()),
        };
        let mut response = inner
            .http
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(ApiError::Http {
                command,
                host: host(),
                status,
            });
        }
        let too_large = || ApiError::TooLarge {
            command,
            host: host(),
            limit: MAX_BODY,
        };
        let declared = response.content_length().unwrap_or(0);
        if declared > MAX_BODY as u64 {
            return Err(too_large());
        }
        let mut bytes = Vec::with_capacity(declared as usize);
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > MAX_BODY {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        let decode = |source: serde_json::Error| ApiError::Decode {
            command,
            host: host(),
            source: redactor.cause(&source),
        };
        let envelope: Envelope = serde_json::from_slice(&bytes).map_err(decode)?;
        if !envelope.is_ok() {
            return Err(ApiError::Service {
                command,
                group: single(groups),
                code: envelope.error_code,
                info: redactor.text(&envelope.error_info),
            });
        }
        serde_json::from_slice(&bytes).map_err(decode)
    }

    /// Runs `task` on every item concurrently (bounded by the pacer and the in-flight limit)
    /// and collects the results in item order; `done` sees each result as it arrives (for a
    /// progress bar). The first error wins; the other tasks are cancelled.
    pub(crate) async fn concurrently<I, T, F, Fut>(
        &self,
        items: Vec<I>,
        task: F,
        mut done: impl FnMut(&T),
    ) -> Result<Vec<T>, ApiError>
    where
        F: Fn(Client, I) -> Fut,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
        T: Send + 'static,
    {
        let count = items.len();
        let mut set = JoinSet::new();
        for (index, item) in items.into_iter().enumerate() {
            let run = task(self.clone(), item);
            set.spawn(async move { (index, run.await) });
        }
        let mut slots: Vec<Option<T>> = (0..count).map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            let (index, result) = match joined {
                Ok(done) => done,
                Err(err) => std::panic::resume_unwind(err.into_panic()),
            };
            let result = result?;
            done(&result);
            slots[index] = Some(result);
        }
        Ok(slots
            .into_iter()
            .map(|slot| slot.expect("every task reported"))
            .collect())
    }
}

/// The group an answer is about, when the request names exactly one.
fn single(groups: &[GroupId]) -> Option<GroupId> {
    match groups {
        [group] => Some(group.clone()),
        _ => None,
    }
}
