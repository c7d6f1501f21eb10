//! An emulator of the TIM group REST API and its account API, for tests, demos and offline
//! development (DESIGN §7). `timctl emulator` serves it; tests start it in-process with [`Emulator::start`].
//!
//! It is an independent implementation of the protocol in `reference/tim-rest-api.md`: it has
//! its own wire types and never imports the client's (`crate::api`, `crate::model`), so a field
//! the client misspells is not accepted by a server that misspells it the same way. It shares
//! only [`crate::usersig`], the pure UserSig algorithm.
//!
//! Layout, in the order a call flows through it: [`listener`] (connections: cap, header
//! timeout), [`server`] (HTTP, checks, durability point),
//! `limits` (rate limits), [`faults`] (test knobs), `wire` (request fields, response
//! shapes), `commands` (the group and account commands), `app` (the console configuration:
//! admins, custom keys, account policy), `rules` (field rules and codes), `store` (state and
//! the records that change it), `journal` (the `--state` file), [`seed`], and [`callbacks`]
//! (the webhooks sent once a write is durable).
//!
//! # Choices where the reference is unsure
//! - Codes: wrong method 60008; unknown service 60009; unknown command 10003; a non-admin
//!   identifier 60010 (not 10007); bad JSON 60003; unknown SDKAppID 70020; missing or wrong
//!   `contenttype` 60002. `random` is not checked.
//! - Rate limits: 60007 for the 200/s commands, 10006 for `get_appid_group_list` (1/s); token
//!   buckets of one second's capacity with 50 ms of jitter grace (see `limits`).
//! - Limits are the REST docs' (Name 30, Introduction 240, Notification 300, FaceUrl 100 UTF-8
//!   bytes); member caps 6000, Community 100000; AVChatRoom's `MaxMemberNum` is ignored and
//!   reported as 0. Default caps: create_group Private 200, Public 2000, ChatRoom 6000;
//!   import_group and seeds 2000 for every type (the import page). Zero values of optional
//!   fields (`MaxMemberCount: 0`, `ApplyJoinOption: ""`, …) mean "not given".
//! - Custom keys must be configured ([`Config::custom_keys`]: `--custom-key`, the seed file's
//!   `custom_keys`); others are 10004. A group holds at most 10. [`Config::dev`] configures
//!   [`DEV_CUSTOM_KEYS`]; the built-in demo allows any key ([`CustomKeys::Any`]).
//! - Accounts: owners and members must be imported (`im_open_login_svc`, see
//!   `commands::accounts`), else 10019; app admins always exist. Seeding a group imports its
//!   people. Only the built-in demo imports unknown accounts on first use
//!   ([`Config::auto_import_accounts`], logged). The owner is a member (role Owner), except in
//!   an AVChatRoom.
//! - `InfoSeq` starts at 1 and grows by one on each call that changes the profile (a no-op
//!   modify does not count; member changes, roles and member profiles do not count);
//!   `LastInfoTime` is set with it.
//! - `modify_group_member_info`: the owner's role and `Role: "Owner"` are 10004, a non-member
//!   target 10004, no cap on admins; `Silence` decides [`LoggedRequest::notice`] (see
//!   `commands::members`).
//! - More in the headers of `commands::{groups, reads, members}` and `journal`.

mod app;
pub mod callbacks;
mod commands;
pub mod faults;
mod journal;
mod limits;
pub mod listener;
mod rules;
pub mod seed;
pub mod server;
mod store;
mod wire;

use std::collections::BTreeSet;
use std::fmt;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use app::CustomKeys;
pub use callbacks::CallbackConfig;
pub use faults::{Fault, Faults};
pub use journal::JournalError;
pub use listener::ConnectionLimits;
pub use rules::{ApplyJoin, GroupType, Role};
pub use seed::{SeedFile, SeedGroup, SeedMember};
pub use server::LoggedRequest;
pub use wire::Command;

use app::App;
use faults::FaultState;
use limits::RateLimits;
use server::{Data, RequestLog, Shared, Sink};

/// The development app: `timctl emulator` without flags, and [`Config::dev`].
pub const DEV_SDKAPPID: u64 = 1_400_000_000;
/// The development secret key. Public by design; printed at start-up when in use.
pub const DEV_SECRET_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// The default app admin, as the console always provides it.
pub const DEV_ADMIN: &str = "administrator";
/// The group custom-field keys the development app has configured: those the examples and
/// the test suite use. (The console allows an app 10 group fields; the development app has
/// more so one app serves every test. Each group still holds at most 10.)
pub const DEV_CUSTOM_KEYS: &[&str] = &[
    "team",
    "zone",
    "tier",
    "topic",
    "topic_policy",
    "cost_center",
    "oncall",
    "retention_days",
    "legacy",
    "anything",
    "batch",
    "fresh",
    "k",
    "k1",
    "k2",
    "a",
    "b",
    "c",
];

/// How to run an emulator.
#[derive(Clone)]
pub struct Config {
    pub sdkappid: u64,
    pub secret_key: String,
    /// App admins: the only identifiers allowed to call.
    pub admins: Vec<String>,
    /// The journal file; `None` keeps state in memory only.
    pub state: Option<PathBuf>,
    /// How long to wait for another process to let go of the state file's lock before
    /// refusing to start; zero refuses at once.
    pub lock_wait: Duration,
    /// Test knob: the journal fails like a full disk once this many records have been written
    /// since start-up (seeded groups count). `None` in normal use.
    pub journal_fail_after: Option<usize>,
    /// Groups to add at start-up (those not already in the state).
    pub seed: Option<PathBuf>,
    pub faults: Faults,
    /// Multiplies every rate limit; 0 switches them off.
    pub rate_limit_scale: f64,
    /// How many recent calls [`Emulator::request_log`] keeps; 0 keeps none.
    pub request_log_capacity: usize,
    /// The group custom-field keys configured for the app (the seed file may add more).
    pub custom_keys: CustomKeys,
    /// Import an unknown owner or member on first use instead of refusing it with 10019. Only
    /// the built-in demo sets it (it has no console to import accounts in); each import is
    /// logged.
    pub auto_import_accounts: bool,
    /// The connection cap and header-read timeout of the server.
    pub connections: ConnectionLimits,
    /// Third-party callbacks after each durable change; `None` sends none.
    pub callback: Option<CallbackConfig>,
}

impl Config {
    /// The development app with the documented limits, no faults, in memory, logging calls.
    pub fn dev() -> Config {
        Config {
            sdkappid: DEV_SDKAPPID,
            secret_key: DEV_SECRET_KEY.to_owned(),
            admins: vec![DEV_ADMIN.to_owned()],
            state: None,
            lock_wait: Duration::ZERO,
            journal_fail_after: None,
            seed: None,
            faults: Faults::default(),
            rate_limit_scale: 1.0,
            request_log_capacity: 100_000,
            custom_keys: CustomKeys::only(DEV_CUSTOM_KEYS.iter().copied()),
            auto_import_accounts: false,
            connections: ConnectionLimits::DEFAULT,
            callback: None,
        }
    }

    fn check(&self) -> Result<(), EmulatorError> {
        let bad = |reason: String| Err(EmulatorError::Config(reason));
        if self.admins.is_empty() {
            return bad("at least one app admin is needed".to_owned());
        }
        if self.secret_key.is_empty() {
            return bad("the secret key must not be empty".to_owned());
        }
        if let CustomKeys::Only(keys) = &self.custom_keys {
            for key in keys {
                rules::check_custom_key("custom key", key)
                    .map_err(|r| EmulatorError::Config(r.info))?;
            }
        }
        if self.connections.max_connections == 0 {
            return bad("the connection cap must be at least 1".to_owned());
        }
        if self.connections.header_read_timeout.is_zero() {
            return bad("the header-read timeout must be more than 0".to_owned());
        }
        if !(self.rate_limit_scale.is_finite() && self.rate_limit_scale >= 0.0) {
            return bad(format!(
                "the rate-limit scale must be 0 or more, not {}",
                self.rate_limit_scale
            ));
        }
        if let Some(callback) = &self.callback {
            callback.check().map_err(EmulatorError::Config)?;
        }
        let f = &self.faults;
        for (name, rate) in [
            ("fail rate", f.fail_rate),
            ("502 rate", f.fail_502_rate),
            ("drop-response rate", f.drop_response_rate),
        ] {
            faults::check_rate(name, rate).map_err(EmulatorError::Config)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Config {
    /// Never shows the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("sdkappid", &self.sdkappid)
            .field("secret_key", &"<redacted>")
            .field("admins", &self.admins)
            .field("state", &self.state)
            .field("lock_wait", &self.lock_wait)
            .field("journal_fail_after", &self.journal_fail_after)
            .field("seed", &self.seed)
            .field("faults", &self.faults)
            .field("rate_limit_scale", &self.rate_limit_scale)
            .field("request_log_capacity", &self.request_log_capacity)
            .field("custom_keys", &self.custom_keys)
            .field("auto_import_accounts", &self.auto_import_accounts)
            .field("connections", &self.connections)
            .field("callback", &self.callback)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("invalid emulator settings: {0}")]
    Config(String),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    State(#[from] JournalError),
    #[error("cannot read the seed file {path}")]
    SeedFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "the seed file {path} is not a list of groups or a map of accounts, custom_keys and groups"
    )]
    SeedParse {
        path: PathBuf,
        #[source]
        source: serde_yaml::Error,
    },
    #[error("seed group {id:?} is invalid: {reason}")]
    Seed { id: String, reason: String },
    #[error("account {account:?} cannot be imported: {reason}")]
    Account { account: String, reason: String },
    #[error("group {0:?} does not exist")]
    NoSuchGroup(String),
    #[error("an out-of-band edit may not change the id or type of group {0:?}")]
    Immutable(String),
    #[error("the change could not be made durable: {0}")]
    Durability(String),
    #[error("the emulator has shut down")]
    ShutDown,
    #[error("the emulator's server failed")]
    Serve(#[source] io::Error),
}

/// A running emulator. Dropping it without [`Emulator::shutdown`] leaves the server running
/// until its runtime ends.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<io::Result<()>>>,
    groups_at_start: usize,
}

impl Emulator {
    /// Loads the state (refusing a corrupt one), adds the seed file's groups, and serves on
    /// `listen` (`127.0.0.1:0` picks a free port; see [`Emulator::addr`]).
    pub async fn start(config: Config, listen: &str) -> Result<Emulator, EmulatorError> {
        config.check()?;
        let seed_file = config.seed.as_deref().map(seed::read_file).transpose()?;
        let mut custom_keys = config.custom_keys.clone();
        if let Some(file) = &seed_file {
            for key in &file.custom_keys {
                rules::check_custom_key("custom_keys", key).map_err(|r| EmulatorError::Seed {
                    id: String::new(),
                    reason: r.info,
                })?;
            }
            custom_keys.extend(file.custom_keys.iter().cloned());
        }
        let (store, served, sink) = match config.state.clone() {
            Some(path) => {
                let (wait, fail_after) = (config.lock_wait, config.journal_fail_after);
                let (store, served, journal) =
                    tokio::task::spawn_blocking(move || journal::open(&path, wait, fail_after))
                        .await
                        .expect("the state loader does not panic")?;
                (store, served, Sink::Journal(journal))
            }
            None => (
                store::Store::default(),
                Arc::new(Mutex::new(store::Store::default())),
                Sink::Memory,
            ),
        };
        let groups_at_start = store.len();
        let shared = Arc::new(Shared {
            sdkappid: config.sdkappid,
            secret_key: config.secret_key.clone(),
            admins: config.admins.clone(),
            app: App {
                admins: config.admins.clone(),
                custom_keys,
                auto_import_accounts: config.auto_import_accounts,
            },
            data: Mutex::new(Data { store, sink }),
            served,
            limits: RateLimits::new(config.rate_limit_scale),
            faults: Mutex::new(FaultState::new(config.faults)),
            log: Mutex::new(RequestLog {
                capacity: config.request_log_capacity,
                entries: Default::default(),
            }),
            log_bodies: config.request_log_capacity > 0,
            callbacks: config
                .callback
                .clone()
                .map(|c| callbacks::Callbacks::start(c, config.sdkappid)),
        });
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: listen.to_owned(),
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: listen.to_owned(),
                source,
            })?;
        let mut emulator = Emulator {
            addr,
            shared: Arc::clone(&shared),
            stop: None,
            server: None,
            groups_at_start,
        };
        if let Some(file) = seed_file {
            let accounts: Vec<&str> = file.accounts.iter().map(String::as_str).collect();
            emulator.import_accounts(&accounts).await?;
            let groups = file.groups;
            let fresh = {
                let data = lock(&shared.data);
                groups
                    .into_iter()
                    .filter(|g| !data.store.contains(&g.id))
                    .collect()
            };
            emulator.seed(fresh).await?;
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let connections = config.connections;
        let app = server::router(shared);
        emulator.server = Some(tokio::spawn(async move {
            listener::serve(listener, app, connections, stopped).await
        }));
        emulator.stop = Some(stop);
        Ok(emulator)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the endpoint to give a client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn sdkappid(&self) -> u64 {
        self.shared.sdkappid
    }

    /// A UserSig for `identifier`, valid for a day, signed with this emulator's key.
    pub fn usersig(&self, identifier: &str) -> String {
        crate::usersig::sign(
            &self.shared.secret_key,
            self.shared.sdkappid,
            identifier,
            crate::usersig::unix_now(),
            86_400,
        )
    }

    /// The full URL of `command` (in its service; the group service for an unknown name),
    /// signed for the first admin.
    pub fn command_url(&self, command: &str) -> String {
        let admin = &self.shared.admins[0];
        let service = Command::named(command).map_or(wire::GROUP_SERVICE, Command::service);
        format!(
            "{}/v4/{service}/{command}?sdkappid={}&identifier={admin}&usersig={}&random=99999999&contenttype=json",
            self.base_url(),
            self.shared.sdkappid,
            self.usersig(admin)
        )
    }

    /// How many groups the state held at start-up (after replay, before seeding).
    pub fn groups_at_start(&self) -> usize {
        self.groups_at_start
    }

    /// Imports these accounts, durably, as `account_import` would (already imported ones are
    /// left as they are).
    pub async fn import_accounts(&self, accounts: &[&str]) -> Result<(), EmulatorError> {
        let ticket = {
            let mut data = lock(&self.shared.data);
            let mut import: BTreeSet<String> = BTreeSet::new();
            for &account in accounts {
                if account.is_empty() || account.len() > rules::USER_ID_MAX {
                    return Err(EmulatorError::Account {
                        account: account.to_owned(),
                        reason: format!("a UserID is 1 to {} bytes", rules::USER_ID_MAX),
                    });
                }
                if !data.store.has_account(account) {
                    import.insert(account.to_owned());
                }
            }
            if import.is_empty() {
                return Ok(());
            }
            let record = store::Record::Accounts {
                import: import.into_iter().collect(),
                delete: Vec::new(),
            };
            self.commit(&mut data, record)?
        };
        server::durable(ticket)
            .await
            .map_err(EmulatorError::Durability)
    }

    /// The imported accounts, sorted (app admins are not listed: they always exist).
    pub fn accounts(&self) -> Vec<String> {
        lock(&self.shared.data).store.accounts().cloned().collect()
    }

    /// A group's custom keys must be configured for the app, at most 10 of them.
    fn check_app(&self, group: &SeedGroup) -> Result<(), EmulatorError> {
        let seed_error = |reason: String| EmulatorError::Seed {
            id: group.id.clone(),
            reason,
        };
        for key in group.custom.keys() {
            self.shared
                .app
                .check_custom_key("custom", key)
                .map_err(|r| seed_error(r.info))?;
        }
        app::check_custom_count("custom", group.custom.len()).map_err(|r| seed_error(r.info))
    }

    /// The accounts `groups` name that the app does not have yet.
    fn people(data: &Data, app: &App, groups: &[&SeedGroup]) -> Vec<String> {
        let mut missing: BTreeSet<String> = BTreeSet::new();
        for group in groups {
            let named = group
                .owner
                .iter()
                .chain(group.members.iter().map(|m| &m.account));
            for account in named {
                if !account.is_empty() && !app.account_exists(&data.store, account) {
                    missing.insert(account.clone());
                }
            }
        }
        missing.into_iter().collect()
    }

    /// Creates or replaces these groups, durably, as if they had always been there; their
    /// owners and members are imported as accounts.
    pub async fn seed(&self, groups: Vec<SeedGroup>) -> Result<(), EmulatorError> {
        let now = crate::usersig::unix_now();
        let mut tickets = Vec::new();
        {
            let mut data = lock(&self.shared.data);
            // Check every group first, so a bad seed changes nothing.
            for group in &groups {
                group.validate()?;
                self.check_app(group)?;
            }
            let people =
                Emulator::people(&data, &self.shared.app, &groups.iter().collect::<Vec<_>>());
            if !people.is_empty() {
                let record = store::Record::Accounts {
                    import: people,
                    delete: Vec::new(),
                };
                tickets.push(self.commit(&mut data, record)?);
            }
            for group in &groups {
                let record = group.to_record(&data.store, now)?;
                tickets.push(self.commit(&mut data, record)?);
            }
        }
        for ticket in tickets {
            server::durable(ticket)
                .await
                .map_err(EmulatorError::Durability)?;
        }
        Ok(())
    }

    /// Changes a group as if in the console: the profile change bumps `InfoSeq` and sets
    /// `LastInfoTime`; members may be changed too (a new owner becomes a member with role
    /// Owner and the old one is demoted; new people are imported as accounts). The id and
    /// type cannot change; custom keys must be configured. Once durable, it fires the callbacks
    /// of the equivalent REST writes (see `callbacks`), with the first app admin as operator.
    pub async fn edit_group(
        &self,
        id: &str,
        edit: impl FnOnce(&mut SeedGroup),
    ) -> Result<(), EmulatorError> {
        let (ticket, fired) = {
            let mut data = lock(&self.shared.data);
            let entry = data
                .store
                .get(id)
                .ok_or_else(|| EmulatorError::NoSuchGroup(id.to_owned()))?;
            let before = SeedGroup::of(entry);
            let mut after = before.clone();
            edit(&mut after);
            if after.id != before.id || after.kind != before.kind {
                return Err(EmulatorError::Immutable(id.to_owned()));
            }
            // A new owner takes the role; the console demotes the old one.
            for member in &mut after.members {
                if member.role == Role::Owner && after.owner.as_ref() != Some(&member.account) {
                    member.role = Role::Member;
                }
            }
            let now = crate::usersig::unix_now();
            let profile_changed = {
                let (mut a, mut b) = (after.clone(), before.clone());
                a.members.clear();
                b.members.clear();
                a != b
            };
            if profile_changed {
                after.info_seq = before.info_seq.map(|seq| seq + 1);
                after.last_info_time = Some(now);
            }
            self.check_app(&after)?;
            let record = after.to_record(&data.store, now)?;
            let people = Emulator::people(&data, &self.shared.app, &[&after]);
            let record = match people.is_empty() {
                true => record,
                false => store::Record::Batch {
                    records: vec![
                        store::Record::Accounts {
                            import: people,
                            delete: Vec::new(),
                        },
                        record,
                    ],
                },
            };
            let ticket = self.commit(&mut data, record)?;
            let fired = match &self.shared.callbacks {
                Some(_) => {
                    let after = data.store.get(id).map(SeedGroup::of);
                    callbacks::after_write(
                        callbacks::Write::Console,
                        Some(&before),
                        after.as_ref(),
                        &self.shared.admins[0],
                        callbacks::now_ms(),
                    )
                }
                None => Vec::new(),
            };
            (ticket, fired)
        };
        server::durable(ticket)
            .await
            .map_err(EmulatorError::Durability)?;
        if let Some(sender) = &self.shared.callbacks {
            sender.send(
                fired,
                &callbacks::Origin {
                    client_ip: "127.0.0.1".to_owned(),
                },
            );
        }
        Ok(())
    }

    /// How many callbacks were dropped because their queue was full (0 without callbacks).
    pub fn callbacks_dropped(&self) -> u64 {
        self.shared.callbacks.as_ref().map_or(0, |c| c.dropped())
    }

    fn commit(
        &self,
        data: &mut Data,
        record: store::Record,
    ) -> Result<Option<journal::Ticket>, EmulatorError> {
        match data.refuses_writes() {
            None => {}
            Some(_) if matches!(data.sink, Sink::Closed) => return Err(EmulatorError::ShutDown),
            Some(reason) => return Err(EmulatorError::Durability(reason.to_owned())),
        }
        data.store.apply(&record).expect("a put always applies");
        Ok(data.persist(&record, &self.shared.served))
    }

    /// A snapshot of one group, members included, as served (durable changes only).
    pub fn group(&self, id: &str) -> Option<SeedGroup> {
        lock(&self.shared.served).get(id).map(SeedGroup::of)
    }

    /// Every group, in creation order, as served.
    pub fn groups(&self) -> Vec<SeedGroup> {
        lock(&self.shared.served)
            .iter()
            .map(SeedGroup::of)
            .collect()
    }

    pub fn faults(&self) -> Faults {
        lock(&self.shared.faults).faults
    }

    pub fn set_faults(&self, faults: Faults) {
        lock(&self.shared.faults).faults = faults;
    }

    /// Makes the next call of `command` fail with `fault` (queued faults go in order, before
    /// the random ones).
    pub fn fail_next(&self, command: Command, fault: Fault) {
        lock(&self.shared.faults).queue(command, fault);
    }

    /// Changes the rate-limit scale (0 = off); every bucket starts full again.
    pub fn set_rate_limit_scale(&self, scale: f64) {
        self.shared.limits.set_scale(scale);
    }

    /// The recent calls, oldest first.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).entries.iter().cloned().collect()
    }

    pub fn clear_request_log(&self) {
        lock(&self.shared.log).entries.clear();
    }

    /// Stops serving (letting calls in flight finish), then closes the journal after every
    /// queued write is durable.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = match self.server.take() {
            Some(server) => server.await.unwrap_or(Ok(())),
            None => Ok(()),
        };
        let sink = std::mem::replace(&mut lock(&self.shared.data).sink, Sink::Closed);
        tokio::task::spawn_blocking(move || drop(sink))
            .await
            .expect("closing the journal does not panic");
        served.map_err(EmulatorError::Serve)
    }
}

/// `timctl emulator`: serves until Ctrl-C or SIGTERM. The first stdout line is
/// `listening on http://ADDR` (the real port when 0 was asked for), for scripts to parse.
pub async fn run(config: Config, listen: &str) -> Result<(), EmulatorError> {
    let dev_key = config.secret_key == DEV_SECRET_KEY;
    let state = config.state.clone();
    listener::raise_open_file_limit();
    let emulator = Emulator::start(config.clone(), listen).await?;
    if dev_key && !emulator.addr().ip().is_loopback() {
        // A warning, not a refusal: containers in CI commonly listen on 0.0.0.0 on purpose.
        eprintln!(
            "emulator: warning: listening on {} beyond loopback with the public development key: anyone who can reach it can sign calls; pass --secret-key-file or TIM_SECRET_KEY",
            emulator.addr()
        );
    }
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "listening on {}", emulator.base_url());
    let _ = writeln!(out, "sdkappid: {}", config.sdkappid);
    let _ = writeln!(out, "admin: {}", config.admins.join(", "));
    if dev_key {
        let _ = writeln!(out, "secret key: {DEV_SECRET_KEY} (development default)");
    }
    let _ = match &state {
        Some(path) => writeln!(
            out,
            "state: {} ({} groups)",
            path.display(),
            emulator.groups().len()
        ),
        None => writeln!(out, "state: in memory only"),
    };
    if let Some(callback) = &config.callback {
        let _ = writeln!(out, "callbacks: {}", callback.describe());
    }
    let _ = out.flush();
    drop(out);
    wait_for_stop_signal().await;
    emulator.shutdown().await
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Locks a mutex, going on after a panic elsewhere (the data stays consistent: every change
/// is applied whole under the lock).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
