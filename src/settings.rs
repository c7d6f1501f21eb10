//! Resolved settings: flags beat `TIM_*` variables, which beat `timctl.yaml`; with no SDKAppID
//! anywhere and no other connection setting either, the built-in emulator.
//!
//! Raw values come in from three places: [`Flags`] (what the user typed, unparsed; the CLI
//! fills it, and this module knows nothing of clap), the environment ([`Env`], so tests can pass their own) and the settings
//! file. Every value is parsed here, once, and a bad one is named by where it came from
//! (`TIM_RATE: "fast" is not …`, `timctl.yaml: rate: …`), so a typo in a CI variable is never a
//! mystery. An empty (or all-blank) variable counts as unset: that is what an unset GitHub
//! secret or variable becomes.
//!
//! # Guarantees
//! - Production is never silently missed: with no SDKAppID but any other connection setting
//!   present (a key, a UserSig, a region, an endpoint, an admin, a key file), resolution fails
//!   naming what is set and what is missing, instead of falling back to the emulator.
//! - Numbers are bounded: rates, timeouts and intervals outside sane ranges are refused here,
//!   so nothing downstream can overflow or spin.
//! - This is the only place that reads credentials. They are held as [`Credentials`], whose
//!   `Debug` never shows them, and no error here quotes a credential's value.

use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_yaml::Value;

use crate::api::{Credentials, Endpoint, EndpointError, Region};
use crate::manifest::Limits;

/// Where the embedded emulator keeps its state, relative to the working directory.
pub const EMBEDDED_STATE: &str = ".timctl/emulator.json";

/// The default app admin (the console always has it).
pub const DEFAULT_ADMIN: &str = "administrator";

/// The settings file read from the working directory when `--config` is not given.
pub const CONFIG_FILE: &str = "timctl.yaml";

/// Calls per second `--rate` accepts for the 200/s commands.
pub const RATE_RANGE: RangeInclusive<f64> = 0.1..=10_000.0;
/// Per-request timeouts `--timeout` accepts. The service gives itself 3 s per request.
pub const TIMEOUT_RANGE: RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(600);
/// Intervals `reconcile --interval` accepts: a full pass reads every declared group, and the
/// app's group list at 1 call/s when pruning, so a shorter one would only queue passes.
pub const INTERVAL_RANGE: RangeInclusive<Duration> =
    Duration::from_secs(10)..=Duration::from_secs(30 * 24 * 3600);

/// The default request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default time between reconcile passes.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(600);

/// Which service the run talks to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A Tencent Cloud region or an explicit endpoint.
    Remote {
        endpoint: Endpoint,
        sdkappid: u64,
        admin: String,
        credentials: Credentials,
    },
    /// No connection setting anywhere: the built-in emulator with state in a local file.
    Embedded { state: PathBuf },
}

/// The connection flags as typed, before any parsing; `None` is "not given". `timctl.yaml`
/// paths are relative to that file; `secret_key_file` and `config` as typed, to the current
/// directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub sdkappid: Option<String>,
    pub admin: Option<String>,
    pub secret_key_file: Option<PathBuf>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub rate: Option<String>,
    pub timeout: Option<String>,
    pub config: Option<PathBuf>,
}

/// Everything a command needs to reach the service and validate manifests.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub target: Target,
    /// Calls per second for the 200/s commands; `None` keeps the documented limits.
    pub rate: Option<f64>,
    /// Per-request timeout (connecting included).
    pub timeout: Duration,
    /// Time between `reconcile` passes.
    pub interval: Duration,
    pub limits: Limits,
}

/// Where a raw value came from; errors name it so the user knows what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Flag(&'static str),
    Env(&'static str),
    File { path: PathBuf, key: &'static str },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => f.write_str(flag),
            Origin::Env(var) => f.write_str(var),
            Origin::File { path, key } => write!(f, "{}: {key}", path.display()),
        }
    }
}

impl Origin {
    /// Flags beat the environment, which beats the file.
    fn rank(&self) -> u8 {
        match self {
            Origin::Flag(_) => 2,
            Origin::Env(_) => 1,
            Origin::File { .. } => 0,
        }
    }
}

/// A raw value and where it came from.
#[derive(Clone, Debug)]
struct Raw<T> {
    value: T,
    origin: Origin,
}

/// Why settings could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error("{path} is larger than {limit} bytes: it cannot be a settings or key file")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{path}: invalid settings")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_yaml::Error,
    },
    #[error("{origin}: {value:?} is not {expected}")]
    Invalid {
        origin: Origin,
        value: String,
        expected: String,
    },
    #[error("{origin}: {reason}")]
    Endpoint {
        origin: Origin,
        #[source]
        reason: EndpointError,
    },
    #[error("{first} and {second} are both given: choose one")]
    Conflict { first: Origin, second: Origin },
    #[error(
        "no SDKAppID is configured, but {} set: refusing to fall back to the built-in emulator (set TIM_SDKAPPID or --sdkappid for the app these settings are for, or remove them to use the emulator)",
        list_set(.present)
    )]
    MissingSdkappid { present: Vec<Origin> },
    #[error(
        "SDKAppID {0} is configured but no credential: set TIM_SECRET_KEY, --secret-key-file or TIM_USERSIG"
    )]
    NoCredential(u64),
    #[error("the secret key file {0} is empty")]
    EmptyKeyFile(PathBuf),
}

fn list_set(present: &[Origin]) -> String {
    let names: Vec<String> = present.iter().map(Origin::to_string).collect();
    match names.as_slice() {
        [one] => format!("{one} is"),
        _ => format!("{} are", names.join(", ")),
    }
}

/// The environment, passed in so resolution stays testable.
pub trait Env {
    /// The raw value of a variable, or `None` when it is unset.
    fn raw(&self, name: &str) -> Option<String>;

    /// The value of a variable; empty or all-blank counts as unset.
    fn var(&self, name: &str) -> Option<String> {
        self.raw(name).filter(|v| !v.trim().is_empty())
    }
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn raw(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// `timctl.yaml`: settings kept in the repository (never a secret key itself). Numbers are
/// read as YAML scalars and parsed like the flags, so `rate: "fast"` gets the same message as
/// `--rate fast`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    sdkappid: Option<Value>,
    admin: Option<String>,
    region: Option<String>,
    endpoint: Option<String>,
    rate: Option<Value>,
    timeout: Option<Value>,
    interval: Option<Value>,
    secret_key_file: Option<PathBuf>,
    /// The group custom fields (AppDefinedData keys) configured for the app in the console.
    custom_fields: Option<Vec<String>>,
    #[serde(default)]
    limits: LimitsFile,
}

/// Byte limits a newer edition raises (DESIGN §2).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    name: Option<usize>,
    introduction: Option<usize>,
    notification: Option<usize>,
    face_url: Option<usize>,
    custom_key: Option<usize>,
    custom_value: Option<usize>,
    custom_keys: Option<usize>,
}

/// A loaded settings file and where it is (relative paths in it are relative to it).
#[derive(Debug, Default)]
struct Config {
    path: Option<PathBuf>,
    file: ConfigFile,
}

impl Config {
    fn origin(&self, key: &'static str) -> Origin {
        Origin::File {
            path: self
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from(CONFIG_FILE)),
            key,
        }
    }

    /// `path` as written in the file, made relative to the file's directory.
    fn relative(&self, path: &Path) -> PathBuf {
        match self.path.as_deref().and_then(Path::parent) {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_owned(),
        }
    }
}

/// The first of flag, variable and file value that is set, with its origin.
fn pick<T>(
    flag: Option<(T, &'static str)>,
    env: Option<(T, &'static str)>,
    file: Option<(T, Origin)>,
) -> Option<Raw<T>> {
    flag.map(|(value, name)| Raw {
        value,
        origin: Origin::Flag(name),
    })
    .or_else(|| {
        env.map(|(value, name)| Raw {
            value,
            origin: Origin::Env(name),
        })
    })
    .or_else(|| file.map(|(value, origin)| Raw { value, origin }))
}

/// One string setting from its three places.
fn text_setting(
    flag: &Option<String>,
    flag_name: &'static str,
    env: &dyn Env,
    var: &'static str,
    file: Option<String>,
    config: &Config,
    key: &'static str,
) -> Option<Raw<String>> {
    pick(
        flag.clone()
            .filter(|v| !v.trim().is_empty())
            .map(|v| (v, flag_name)),
        env.var(var).map(|v| (v, var)),
        file.filter(|v| !v.trim().is_empty())
            .map(|v| (v, config.origin(key))),
    )
}

/// A YAML scalar as the text a flag would carry.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

fn invalid(raw: &Raw<String>, expected: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        origin: raw.origin.clone(),
        value: raw.value.clone(),
        expected: expected.into(),
    }
}

/// A positive SDKAppID.
fn parse_sdkappid(raw: &Raw<String>) -> Result<u64, SettingsError> {
    match raw.value.trim().parse::<u64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(invalid(raw, "an SDKAppID (a positive whole number)")),
    }
}

/// Calls per second within [`RATE_RANGE`].
fn parse_rate(raw: &Raw<String>) -> Result<f64, SettingsError> {
    let expected = format!(
        "a number of calls per second from {} to {}",
        RATE_RANGE.start(),
        RATE_RANGE.end()
    );
    match raw.value.trim().parse::<f64>() {
        Ok(rate) if RATE_RANGE.contains(&rate) => Ok(rate),
        _ => Err(invalid(raw, expected)),
    }
}

/// A duration (`10s`, `1m30s`, or a plain number of seconds) within `range`.
fn parse_duration(
    raw: &Raw<String>,
    range: &RangeInclusive<Duration>,
) -> Result<Duration, SettingsError> {
    let text = raw.value.trim();
    let parsed = match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && (0.0..=1e12).contains(&secs) => {
            Some(Duration::from_secs_f64(secs))
        }
        Ok(_) => None,
        Err(_) => humantime::parse_duration(text).ok(),
    };
    match parsed {
        Some(duration) if range.contains(&duration) => Ok(duration),
        _ => Err(invalid(
            raw,
            format!(
                "a duration from {} to {} (e.g. 30s, 10m)",
                humantime::format_duration(*range.start()),
                humantime::format_duration(*range.end())
            ),
        )),
    }
}

/// What the reconcile loop and the client read besides the target: the same three places.
struct Tuning {
    rate: Option<f64>,
    timeout: Duration,
    interval: Duration,
}

fn tuning(
    args: &Flags,
    interval_flag: Option<&str>,
    env: &dyn Env,
    config: &Config,
) -> Result<Tuning, SettingsError> {
    let file = &config.file;
    let rate = text_setting(
        &args.rate,
        "--rate",
        env,
        "TIM_RATE",
        file.rate.as_ref().map(scalar_text),
        config,
        "rate",
    )
    .map(|raw| parse_rate(&raw))
    .transpose()?;
    let timeout = text_setting(
        &args.timeout,
        "--timeout",
        env,
        "TIM_TIMEOUT",
        file.timeout.as_ref().map(scalar_text),
        config,
        "timeout",
    )
    .map(|raw| parse_duration(&raw, &TIMEOUT_RANGE))
    .transpose()?
    .unwrap_or(DEFAULT_TIMEOUT);
    let interval = text_setting(
        &interval_flag.map(str::to_owned),
        "--interval",
        env,
        "TIMCTL_INTERVAL",
        file.interval.as_ref().map(scalar_text),
        config,
        "interval",
    )
    .map(|raw| parse_duration(&raw, &INTERVAL_RANGE))
    .transpose()?
    .unwrap_or(DEFAULT_INTERVAL);
    Ok(Tuning {
        rate,
        timeout,
        interval,
    })
}

impl Settings {
    /// Resolves the flags, the environment and the settings file.
    pub fn resolve(args: &Flags, env: &dyn Env) -> Result<Settings, SettingsError> {
        Settings::resolve_with_interval(args, None, env)
    }

    /// [`Settings::resolve`], with `reconcile --interval` as typed.
    pub fn resolve_with_interval(
        args: &Flags,
        interval: Option<&str>,
        env: &dyn Env,
    ) -> Result<Settings, SettingsError> {
        let config = load_config(args.config.as_deref(), env)?;
        let Tuning {
            rate,
            timeout,
            interval,
        } = tuning(args, interval, env, &config)?;
        let limits = limits(&config.file);
        let target = target(args, env, &config)?;
        Ok(Settings {
            target,
            rate,
            timeout,
            interval,
            limits,
        })
    }
}

fn target(args: &Flags, env: &dyn Env, config: &Config) -> Result<Target, SettingsError> {
    let file = &config.file;
    let sdkappid = text_setting(
        &args.sdkappid,
        "--sdkappid",
        env,
        "TIM_SDKAPPID",
        file.sdkappid.as_ref().map(scalar_text),
        config,
        "sdkappid",
    );
    let admin = text_setting(
        &args.admin,
        "--admin",
        env,
        "TIM_ADMIN",
        file.admin.clone(),
        config,
        "admin",
    );
    let region = text_setting(
        &args.region,
        "--region",
        env,
        "TIM_REGION",
        file.region.clone(),
        config,
        "region",
    );
    let endpoint = text_setting(
        &args.endpoint,
        "--endpoint",
        env,
        "TIM_ENDPOINT",
        file.endpoint.clone(),
        config,
        "endpoint",
    );
    let key_file: Option<Raw<PathBuf>> = pick(
        args.secret_key_file
            .clone()
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| (p, "--secret-key-file")),
        None,
        file.secret_key_file
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| (config.relative(p), config.origin("secret_key_file"))),
    );
    let key_var = env.var("TIM_SECRET_KEY");
    let usersig_var = env.var("TIM_USERSIG");

    let Some(sdkappid) = sdkappid else {
        let mut present: Vec<Origin> = [&admin, &region, &endpoint]
            .into_iter()
            .flatten()
            .map(|raw| raw.origin.clone())
            .collect();
        present.extend(key_file.as_ref().map(|raw| raw.origin.clone()));
        present.extend(key_var.as_ref().map(|_| Origin::Env("TIM_SECRET_KEY")));
        present.extend(usersig_var.as_ref().map(|_| Origin::Env("TIM_USERSIG")));
        if !present.is_empty() {
            return Err(SettingsError::MissingSdkappid { present });
        }
        return Ok(Target::Embedded {
            state: PathBuf::from(EMBEDDED_STATE),
        });
    };
    let sdkappid = parse_sdkappid(&sdkappid)?;
    let endpoint = match (region, endpoint) {
        (Some(region), Some(url)) if region.origin.rank() == url.origin.rank() => {
            return Err(SettingsError::Conflict {
                first: region.origin,
                second: url.origin,
            });
        }
        (Some(region), Some(url)) if url.origin.rank() > region.origin.rank() => {
            parse_endpoint(&url)?
        }
        (Some(region), _) => parse_region(&region)?,
        (None, Some(url)) => parse_endpoint(&url)?,
        (None, None) => Endpoint::Region(Region::China),
    };
    let admin = admin.map_or_else(
        || DEFAULT_ADMIN.to_owned(),
        |raw| raw.value.trim().to_owned(),
    );
    // Flags beat the environment, which beats the file; a key beats a UserSig at one level,
    // since a key can sign a fresh UserSig when the old one expires.
    let credentials = match key_file {
        Some(raw) if raw.origin.rank() == 2 => Some(read_key_file(&raw.value)?),
        key_file => match (key_var, usersig_var, key_file) {
            (Some(key), _, _) => Some(Credentials::SecretKey(key.trim().to_owned())),
            (None, Some(sig), _) => Some(Credentials::UserSig(sig.trim().to_owned())),
            (None, None, Some(raw)) => Some(read_key_file(&raw.value)?),
            (None, None, None) => None,
        },
    }
    .ok_or(SettingsError::NoCredential(sdkappid))?;
    Ok(Target::Remote {
        endpoint,
        sdkappid,
        admin,
        credentials,
    })
}

fn parse_region(raw: &Raw<String>) -> Result<Endpoint, SettingsError> {
    raw.value
        .trim()
        .parse::<Region>()
        .map(Endpoint::Region)
        .map_err(|reason| SettingsError::Endpoint {
            origin: raw.origin.clone(),
            reason,
        })
}

fn parse_endpoint(raw: &Raw<String>) -> Result<Endpoint, SettingsError> {
    Endpoint::url(raw.value.trim()).map_err(|reason| SettingsError::Endpoint {
        origin: raw.origin.clone(),
        reason,
    })
}

/// Settings and key files are small; anything bigger is not one.
const SMALL_FILE_LIMIT: u64 = 1 << 20;

/// Reads a small regular file: never blocks on a FIFO, never slurps a huge file.
fn read_small_file(path: &Path) -> Result<String, SettingsError> {
    use crate::manifest::ReadError;
    let read_error = |source| SettingsError::Read {
        path: path.to_owned(),
        source,
    };
    let bytes = crate::manifest::read_bounded(path, SMALL_FILE_LIMIT).map_err(|e| match e {
        ReadError::Io(source) => read_error(source),
        ReadError::NotRegular { .. } => SettingsError::NotAFile {
            path: path.to_owned(),
        },
        ReadError::TooLarge { limit } => SettingsError::TooLarge {
            path: path.to_owned(),
            limit,
        },
    })?;
    String::from_utf8(bytes).map_err(|e| {
        read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        ))
    })
}

fn read_key_file(path: &Path) -> Result<Credentials, SettingsError> {
    let key = read_small_file(path)?;
    let key = key.trim();
    if key.is_empty() {
        return Err(SettingsError::EmptyKeyFile(path.to_owned()));
    }
    Ok(Credentials::SecretKey(key.to_owned()))
}

/// The manifest limits alone, for `timctl validate` (which needs no credential).
pub fn limits_from(config: Option<&Path>, env: &dyn Env) -> Result<Limits, SettingsError> {
    Ok(limits(&load_config(config, env)?.file))
}

fn load_config(explicit: Option<&Path>, env: &dyn Env) -> Result<Config, SettingsError> {
    let from_env = env.var("TIMCTL_CONFIG").map(PathBuf::from);
    let path = match explicit.map(Path::to_owned).or(from_env) {
        Some(path) => path,
        None => {
            let default = Path::new(CONFIG_FILE);
            match std::fs::symlink_metadata(default) {
                Ok(_) => default.to_owned(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
                Err(source) => {
                    return Err(SettingsError::Read {
                        path: default.to_owned(),
                        source,
                    });
                }
            }
        }
    };
    let text = read_small_file(&path)?;
    let file = if text.trim().is_empty() {
        ConfigFile::default()
    } else {
        serde_yaml::from_str(&text).map_err(|source| SettingsError::Parse {
            path: path.clone(),
            source,
        })?
    };
    Ok(Config {
        path: Some(path),
        file,
    })
}

fn limits(config: &ConfigFile) -> Limits {
    let defaults = Limits::default();
    let file = &config.limits;
    let LimitsFile {
        name,
        introduction,
        notification,
        face_url,
        custom_key,
        custom_value,
        custom_keys,
    } = file;
    Limits {
        name: name.unwrap_or(defaults.name),
        introduction: introduction.unwrap_or(defaults.introduction),
        notification: notification.unwrap_or(defaults.notification),
        face_url: face_url.unwrap_or(defaults.face_url),
        custom_key: custom_key.unwrap_or(defaults.custom_key),
        custom_value: custom_value.unwrap_or(defaults.custom_value),
        custom_keys: custom_keys.unwrap_or(defaults.custom_keys),
        configured_keys: config
            .custom_fields
            .as_ref()
            .map(|keys| keys.iter().cloned().collect()),
    }
}

#[cfg(test)]
mod tests;
