//! Resolved connection settings: flags and `TIM_*` variables first, then `timctl.yaml`, then
//! the built-in emulator when no sdkappid is configured anywhere.
//!
//! This is the only place that reads credentials. They are held as [`Credentials`], whose
//! `Debug` never shows them, so a settings value can be logged.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::api::{Credentials, Endpoint, EndpointError, Region};
use crate::cli::ConnectionArgs;
use crate::manifest::Limits;

/// Where the embedded emulator keeps its state, relative to the working directory.
pub const EMBEDDED_STATE: &str = ".timctl/emulator.json";

/// The default app admin (the console always has it).
pub const DEFAULT_ADMIN: &str = "administrator";

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
    /// No sdkappid anywhere: the built-in emulator with state in a local file.
    Embedded { state: PathBuf },
}

/// Everything a command needs to reach the service and validate manifests.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub target: Target,
    /// Calls per second for the 200/s commands; `None` keeps the documented limits.
    pub rate: Option<f64>,
    pub limits: Limits,
}

/// `timctl.yaml`: connection settings kept in the repository (never a secret key itself).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    sdkappid: Option<u64>,
    admin: Option<String>,
    region: Option<String>,
    endpoint: Option<String>,
    rate: Option<f64>,
    secret_key_file: Option<PathBuf>,
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

/// Why settings could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid connection settings")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_yaml::Error,
    },
    #[error("invalid --region or --endpoint")]
    Endpoint(#[source] EndpointError),
    #[error("--region and --endpoint both given: choose one")]
    RegionAndEndpoint,
    #[error(
        "sdkappid {0} is configured but no credential: set TIM_SECRET_KEY, --secret-key-file or TIM_USERSIG"
    )]
    NoCredential(u64),
    #[error("the secret key file {0} is empty")]
    EmptyKeyFile(PathBuf),
    #[error("--rate must be a positive number of calls per second")]
    Rate,
}

/// The environment, passed in so resolution stays testable.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Settings {
    /// Resolves flags (clap has already merged their `TIM_*` variables), the credential
    /// variables and `timctl.yaml`.
    pub fn resolve(args: &ConnectionArgs, env: &dyn Env) -> Result<Settings, SettingsError> {
        let config = load_config(args.config.as_deref())?;
        let rate = args.rate.or(config.rate);
        if rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return Err(SettingsError::Rate);
        }
        let limits = limits(&config.limits);
        let Some(sdkappid) = args.sdkappid.or(config.sdkappid) else {
            return Ok(Settings {
                target: Target::Embedded {
                    state: PathBuf::from(EMBEDDED_STATE),
                },
                rate,
                limits,
            });
        };
        let admin = args
            .admin
            .clone()
            .or(config.admin)
            .unwrap_or_else(|| DEFAULT_ADMIN.to_owned());
        let region = args.region.clone().or(config.region);
        let endpoint = args.endpoint.clone().or(config.endpoint);
        let endpoint = match (region, endpoint) {
            (Some(_), Some(_)) if args.region.is_some() && args.endpoint.is_some() => {
                return Err(SettingsError::RegionAndEndpoint);
            }
            // A flag beats the file: an explicit endpoint flag wins over a region in the file.
            (_, Some(url)) if args.endpoint.is_some() => Endpoint::url(&url),
            (Some(region), _) => region.parse::<Region>().map(Endpoint::Region),
            (None, Some(url)) => Endpoint::url(&url),
            (None, None) => Ok(Endpoint::Region(Region::China)),
        }
        .map_err(SettingsError::Endpoint)?;
        let key_file = args.secret_key_file.clone().or(config.secret_key_file);
        let credentials =
            credentials(env, key_file.as_deref())?.ok_or(SettingsError::NoCredential(sdkappid))?;
        Ok(Settings {
            target: Target::Remote {
                endpoint,
                sdkappid,
                admin,
                credentials,
            },
            rate,
            limits,
        })
    }
}

fn credentials(
    env: &dyn Env,
    key_file: Option<&Path>,
) -> Result<Option<Credentials>, SettingsError> {
    if let Some(key) = env.var("TIM_SECRET_KEY") {
        return Ok(Some(Credentials::SecretKey(key.trim().to_owned())));
    }
    if let Some(path) = key_file {
        let key = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let key = key.trim();
        if key.is_empty() {
            return Err(SettingsError::EmptyKeyFile(path.to_owned()));
        }
        return Ok(Some(Credentials::SecretKey(key.to_owned())));
    }
    Ok(env
        .var("TIM_USERSIG")
        .map(|sig| Credentials::UserSig(sig.trim().to_owned())))
}

/// The manifest limits alone, for `timctl validate` (which needs no credential).
pub fn limits_from(config: Option<&Path>) -> Result<Limits, SettingsError> {
    Ok(limits(&load_config(config)?.limits))
}

fn load_config(explicit: Option<&Path>) -> Result<ConfigFile, SettingsError> {
    let default = Path::new("timctl.yaml");
    let path = match explicit {
        Some(path) => path,
        None if default.is_file() => default,
        None => return Ok(ConfigFile::default()),
    };
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: path.to_owned(),
        source,
    })?;
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    serde_yaml::from_str(&text).map_err(|source| SettingsError::Parse {
        path: path.to_owned(),
        source,
    })
}

fn limits(file: &LimitsFile) -> Limits {
    let defaults = Limits::default();
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
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct FakeEnv(HashMap<&'static str, &'static str>);

    impl Env for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| v.to_string())
        }
    }

    fn env(pairs: &[(&'static str, &'static str)]) -> FakeEnv {
        FakeEnv(pairs.iter().copied().collect())
    }

    fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("timctl.yaml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn no_sdkappid_means_the_embedded_emulator() {
        let (_dir, path) = config_file("");
        let args = ConnectionArgs {
            config: Some(path),
            ..ConnectionArgs::default()
        };
        let settings = Settings::resolve(&args, &env(&[])).unwrap();
        assert_eq!(
            settings.target,
            Target::Embedded {
                state: PathBuf::from(EMBEDDED_STATE)
            }
        );
    }

    #[test]
    fn a_region_with_a_key_signs_as_the_default_admin() {
        let (_dir, path) = config_file("");
        let args = ConnectionArgs {
            sdkappid: Some(1400000000),
            region: Some("singapore".into()),
            config: Some(path),
            ..ConnectionArgs::default()
        };
        let settings = Settings::resolve(&args, &env(&[("TIM_SECRET_KEY", "k3y")])).unwrap();
        assert_eq!(
            settings.target,
            Target::Remote {
                endpoint: Endpoint::Region(Region::Singapore),
                sdkappid: 1400000000,
                admin: "administrator".into(),
                credentials: Credentials::SecretKey("k3y".into()),
            }
        );
    }

    #[test]
    fn the_config_file_supplies_what_flags_leave_out() {
        let (dir, path) = config_file(
            "sdkappid: 42\nadmin: ops_admin\nendpoint: http://127.0.0.1:9/\nrate: 50\nsecret_key_file: key.txt\nlimits:\n  name: 100\n",
        );
        let key = dir.path().join("key.txt");
        std::fs::write(&key, "s3cret\n").unwrap();
        let args = ConnectionArgs {
            config: Some(path),
            secret_key_file: Some(key),
            ..ConnectionArgs::default()
        };
        let settings = Settings::resolve(&args, &env(&[])).unwrap();
        assert_eq!(settings.rate, Some(50.0));
        assert_eq!(settings.limits.name, 100);
        assert_eq!(settings.limits.introduction, Limits::default().introduction);
        assert_eq!(
            settings.target,
            Target::Remote {
                endpoint: Endpoint::url("http://127.0.0.1:9/").unwrap(),
                sdkappid: 42,
                admin: "ops_admin".into(),
                credentials: Credentials::SecretKey("s3cret".into()),
            }
        );
    }

    #[test]
    fn a_usersig_is_the_last_resort_credential() {
        let (_dir, path) = config_file("");
        let args = ConnectionArgs {
            sdkappid: Some(7),
            config: Some(path),
            ..ConnectionArgs::default()
        };
        let settings = Settings::resolve(&args, &env(&[("TIM_USERSIG", "sig")])).unwrap();
        assert!(matches!(
            settings.target,
            Target::Remote {
                credentials: Credentials::UserSig(_),
                ..
            }
        ));
        let err = Settings::resolve(&args, &env(&[])).unwrap_err();
        assert!(matches!(err, SettingsError::NoCredential(7)));
    }

    #[test]
    fn bad_settings_are_refused() {
        let (_dir, path) = config_file("sdkappid: 1\nregion: mars\n");
        let args = ConnectionArgs {
            config: Some(path.clone()),
            ..ConnectionArgs::default()
        };
        let err = Settings::resolve(&args, &env(&[("TIM_SECRET_KEY", "k")])).unwrap_err();
        assert!(
            matches!(
                err,
                SettingsError::Endpoint(EndpointError::UnknownRegion { .. })
            ),
            "{err}"
        );
        let (_dir2, typo) = config_file("sdkapid: 1\n");
        let args = ConnectionArgs {
            config: Some(typo),
            ..ConnectionArgs::default()
        };
        assert!(matches!(
            Settings::resolve(&args, &env(&[])).unwrap_err(),
            SettingsError::Parse { .. }
        ));
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let (_dir, path) = config_file("");
        let args = ConnectionArgs {
            sdkappid: Some(7),
            config: Some(path),
            ..ConnectionArgs::default()
        };
        let settings =
            Settings::resolve(&args, &env(&[("TIM_SECRET_KEY", "top-secret-key")])).unwrap();
        assert!(!format!("{settings:?}").contains("top-secret-key"));
    }
}
