//! Settings resolution on values: every setting through every source, the precedence between
//! them, and the refusals.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;

struct FakeEnv(HashMap<String, String>);

impl Env for FakeEnv {
    fn raw(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

fn env(pairs: &[(&str, &str)]) -> FakeEnv {
    FakeEnv(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// A scratch directory holding `timctl.yaml` with `text`.
fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timctl.yaml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn args_with(config: &Path) -> Flags {
    Flags {
        config: Some(config.to_owned()),
        ..Flags::default()
    }
}

fn resolve(args: &Flags, pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    Settings::resolve(args, &env(pairs))
}

#[test]
fn nothing_configured_means_the_embedded_emulator() {
    let (_dir, path) = config_file("");
    let settings = resolve(&args_with(&path), &[]).unwrap();
    assert_eq!(
        settings.target,
        Target::Embedded {
            state: PathBuf::from(EMBEDDED_STATE)
        }
    );
    assert_eq!(settings.timeout, DEFAULT_TIMEOUT);
    assert_eq!(settings.interval, DEFAULT_INTERVAL);
}

#[test]
fn a_region_with_a_key_signs_as_the_default_admin() {
    let (_dir, path) = config_file("");
    let args = Flags {
        sdkappid: Some("1400000000".into()),
        region: Some("singapore".into()),
        ..args_with(&path)
    };
    let settings = resolve(&args, &[("TIM_SECRET_KEY", "k3y")]).unwrap();
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
fn the_config_file_supplies_what_flags_leave_out_with_paths_relative_to_it() {
    let (dir, path) = config_file(
        "sdkappid: 42\nadmin: ops_admin\nendpoint: http://127.0.0.1:9/\nrate: 50\ntimeout: 30s\ninterval: 1h\nsecret_key_file: key.txt\nlimits:\n  name: 100\n",
    );
    std::fs::write(dir.path().join("key.txt"), "s3cret\n").unwrap();
    // Resolved from another working directory: key.txt is found beside timctl.yaml.
    let settings = resolve(&args_with(&path), &[]).unwrap();
    assert_eq!(settings.rate, Some(50.0));
    assert_eq!(settings.timeout, Duration::from_secs(30));
    assert_eq!(settings.interval, Duration::from_secs(3600));
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
fn a_usersig_is_used_when_no_key_is_given() {
    let (_dir, path) = config_file("");
    let args = Flags {
        sdkappid: Some("7".into()),
        ..args_with(&path)
    };
    let settings = resolve(&args, &[("TIM_USERSIG", "sig")]).unwrap();
    assert!(matches!(
        settings.target,
        Target::Remote {
            credentials: Credentials::UserSig(_),
            ..
        }
    ));
    let err = resolve(&args, &[]).unwrap_err();
    assert!(matches!(err, SettingsError::NoCredential(7)), "{err}");
}

/// Every connection setting, alone, without an SDKAppID: an error naming it, never the
/// emulator.
#[test]
fn any_connection_setting_without_an_sdkappid_is_refused_by_name() {
    let (dir, empty) = config_file("");
    let key = dir.path().join("key.txt");
    std::fs::write(&key, "k").unwrap();
    let flag_cases: Vec<(Flags, &str)> = vec![
        (
            Flags {
                admin: Some("ops".into()),
                ..args_with(&empty)
            },
            "--admin",
        ),
        (
            Flags {
                region: Some("singapore".into()),
                ..args_with(&empty)
            },
            "--region",
        ),
        (
            Flags {
                endpoint: Some("http://127.0.0.1:9".into()),
                ..args_with(&empty)
            },
            "--endpoint",
        ),
        (
            Flags {
                secret_key_file: Some(key.clone()),
                ..args_with(&empty)
            },
            "--secret-key-file",
        ),
    ];
    for (args, name) in flag_cases {
        let err = resolve(&args, &[]).unwrap_err();
        assert!(
            matches!(err, SettingsError::MissingSdkappid { .. }) && err.to_string().contains(name),
            "{name}: {err}"
        );
    }
    for var in [
        "TIM_SECRET_KEY",
        "TIM_USERSIG",
        "TIM_REGION",
        "TIM_ENDPOINT",
        "TIM_ADMIN",
    ] {
        let err = resolve(&args_with(&empty), &[(var, "x")]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(var) && text.contains("no SDKAppID") && text.contains("TIM_SDKAPPID"),
            "{var}: {text}"
        );
        assert!(!text.contains("\"x\""), "the value is not quoted: {text}");
    }
    for key in [
        "admin: ops",
        "region: seoul",
        "endpoint: http://127.0.0.1:9",
        "secret_key_file: key.txt",
    ] {
        let (_d, path) = config_file(key);
        let err = resolve(&args_with(&path), &[]).unwrap_err();
        let name = key.split(':').next().unwrap();
        assert!(
            err.to_string().contains(&format!("timctl.yaml: {name}")),
            "{key}: {err}"
        );
    }
}

/// What an unset GitHub secret becomes: every variable, empty or blank, is as if unset.
#[test]
fn empty_variables_count_as_unset() {
    let (_dir, path) = config_file("");
    for var in [
        "TIM_SDKAPPID",
        "TIM_ADMIN",
        "TIM_SECRET_KEY",
        "TIM_USERSIG",
        "TIM_REGION",
        "TIM_ENDPOINT",
        "TIM_RATE",
        "TIM_TIMEOUT",
        "TIMCTL_INTERVAL",
        "TIMCTL_CONFIG",
    ] {
        for blank in ["", "  "] {
            let settings = resolve(&args_with(&path), &[(var, blank)])
                .unwrap_or_else(|e| panic!("{var}={blank:?}: {e}"));
            assert_eq!(
                settings,
                resolve(&args_with(&path), &[]).unwrap(),
                "{var}={blank:?}"
            );
        }
    }
    // With an app configured, an empty TIM_SECRET_KEY does not hide TIM_USERSIG.
    let settings = resolve(
        &args_with(&path),
        &[
            ("TIM_SDKAPPID", "9"),
            ("TIM_SECRET_KEY", ""),
            ("TIM_USERSIG", "sig"),
        ],
    )
    .unwrap();
    assert!(matches!(
        settings.target,
        Target::Remote {
            credentials: Credentials::UserSig(_),
            ..
        }
    ));
}

/// Each setting through each of its sources, and the precedence flag > environment > file.
#[test]
fn every_setting_resolves_from_each_source_and_flags_win() {
    struct Case {
        flag: fn(&mut Flags, &str),
        var: &'static str,
        key: &'static str,
        /// Values for the flag, the variable and the file, all valid and all different.
        values: [&'static str; 3],
        read: fn(&Settings) -> String,
    }
    let remote = |s: &Settings| match &s.target {
        Target::Remote {
            endpoint,
            sdkappid,
            admin,
            ..
        } => (endpoint.to_string(), *sdkappid, admin.clone()),
        Target::Embedded { .. } => panic!("embedded"),
    };
    let _ = remote;
    let cases = [
        Case {
            flag: |a, v| a.sdkappid = Some(v.into()),
            var: "TIM_SDKAPPID",
            key: "sdkappid",
            values: ["11", "22", "33"],
            read: |s| match &s.target {
                Target::Remote { sdkappid, .. } => sdkappid.to_string(),
                _ => "embedded".into(),
            },
        },
        Case {
            flag: |a, v| a.admin = Some(v.into()),
            var: "TIM_ADMIN",
            key: "admin",
            values: ["flag_admin", "env_admin", "file_admin"],
            read: |s| match &s.target {
                Target::Remote { admin, .. } => admin.clone(),
                _ => "embedded".into(),
            },
        },
        Case {
            flag: |a, v| a.region = Some(v.into()),
            var: "TIM_REGION",
            key: "region",
            values: ["seoul", "tokyo", "frankfurt"],
            read: |s| match &s.target {
                Target::Remote { endpoint, .. } => endpoint.to_string(),
                _ => "embedded".into(),
            },
        },
        Case {
            flag: |a, v| a.endpoint = Some(v.into()),
            var: "TIM_ENDPOINT",
            key: "endpoint",
            values: [
                "http://127.0.0.1:1/",
                "http://127.0.0.1:2/",
                "http://127.0.0.1:3/",
            ],
            read: |s| match &s.target {
                Target::Remote { endpoint, .. } => endpoint.to_string(),
                _ => "embedded".into(),
            },
        },
        Case {
            flag: |a, v| a.rate = Some(v.into()),
            var: "TIM_RATE",
            key: "rate",
            values: ["10", "20", "30"],
            read: |s| format!("{:?}", s.rate),
        },
        Case {
            flag: |a, v| a.timeout = Some(v.into()),
            var: "TIM_TIMEOUT",
            key: "timeout",
            values: ["5s", "6s", "7s"],
            read: |s| format!("{:?}", s.timeout),
        },
    ];
    for case in cases {
        let [flag_value, env_value, file_value] = case.values;
        // The SDKAppID case supplies its own; the others get one from the environment.
        let base: Vec<(&str, &str)> = if case.var == "TIM_SDKAPPID" {
            vec![("TIM_SECRET_KEY", "k")]
        } else {
            vec![("TIM_SECRET_KEY", "k"), ("TIM_SDKAPPID", "5")]
        };
        let (_dir, path) = config_file(&format!("{}: {file_value}\n", case.key));
        let (_empty_dir, empty) = config_file("");
        let mut with_flag = args_with(&path);
        (case.flag)(&mut with_flag, flag_value);
        let mut env_pairs = base.clone();
        env_pairs.push((case.var, env_value));

        let expect = |args: &Flags, pairs: &[(&str, &str)], value: &str| {
            let mut only = args_with(&empty);
            (case.flag)(&mut only, value);
            let reference = resolve(&only, &base).unwrap();
            let got = resolve(args, pairs).unwrap_or_else(|e| panic!("{}: {e}", case.key));
            assert_eq!((case.read)(&got), (case.read)(&reference), "{}", case.key);
        };
        // All three: the flag wins.
        expect(&with_flag, &env_pairs, flag_value);
        // Environment and file: the environment wins.
        expect(&args_with(&path), &env_pairs, env_value);
        // The file alone.
        expect(&args_with(&path), &base, file_value);
    }
}

#[test]
fn the_key_file_flag_beats_the_key_variable_which_beats_the_file() {
    let (dir, path) = config_file("sdkappid: 1\nsecret_key_file: file.key\n");
    std::fs::write(dir.path().join("file.key"), "from-file").unwrap();
    let flag_key = dir.path().join("flag.key");
    std::fs::write(&flag_key, "from-flag").unwrap();
    let key_of = |s: Settings| match s.target {
        Target::Remote {
            credentials: Credentials::SecretKey(k),
            ..
        } => k,
        other => panic!("{other:?}"),
    };
    let with_flag = Flags {
        secret_key_file: Some(flag_key),
        ..args_with(&path)
    };
    assert_eq!(
        key_of(resolve(&with_flag, &[("TIM_SECRET_KEY", "from-env")]).unwrap()),
        "from-flag"
    );
    assert_eq!(
        key_of(resolve(&args_with(&path), &[("TIM_SECRET_KEY", "from-env")]).unwrap()),
        "from-env"
    );
    assert_eq!(
        key_of(resolve(&args_with(&path), &[]).unwrap()),
        "from-file"
    );
}

#[test]
fn region_and_endpoint_at_one_level_conflict_and_across_levels_the_higher_wins() {
    let (_dir, path) = config_file("sdkappid: 1\nregion: seoul\n");
    let pairs = [("TIM_SECRET_KEY", "k")];
    let args = Flags {
        region: Some("tokyo".into()),
        endpoint: Some("http://127.0.0.1:9".into()),
        ..args_with(&path)
    };
    let err = resolve(&args, &pairs).unwrap_err();
    assert!(
        err.to_string()
            .contains("--region and --endpoint are both given"),
        "{err}"
    );
    let args = Flags {
        region: Some("tokyo".into()),
        ..args_with(&path)
    };
    let settings = resolve(
        &args,
        &[
            ("TIM_SECRET_KEY", "k"),
            ("TIM_ENDPOINT", "http://127.0.0.1:9"),
        ],
    )
    .unwrap();
    assert!(matches!(
        settings.target,
        Target::Remote {
            endpoint: Endpoint::Region(Region::Tokyo),
            ..
        }
    ));
    let settings = resolve(
        &args_with(&path),
        &[
            ("TIM_SECRET_KEY", "k"),
            ("TIM_ENDPOINT", "http://127.0.0.1:9"),
        ],
    )
    .unwrap();
    assert!(matches!(
        settings.target,
        Target::Remote {
            endpoint: Endpoint::Url(_),
            ..
        }
    ));
}

#[test]
fn invalid_values_are_named_by_where_they_came_from() {
    let (_dir, path) = config_file("");
    let cases: [(&str, &str, &str); 8] = [
        (
            "TIM_SDKAPPID",
            "abc",
            "TIM_SDKAPPID: \"abc\" is not an SDKAppID",
        ),
        (
            "TIM_SDKAPPID",
            "0",
            "TIM_SDKAPPID: \"0\" is not an SDKAppID",
        ),
        (
            "TIM_RATE",
            "1e-300",
            "TIM_RATE: \"1e-300\" is not a number of calls per second",
        ),
        ("TIM_RATE", "NaN", "TIM_RATE: \"NaN\" is not a number"),
        (
            "TIM_TIMEOUT",
            "0s",
            "TIM_TIMEOUT: \"0s\" is not a duration from 1s to 10m",
        ),
        (
            "TIMCTL_INTERVAL",
            "18446744073709551615s",
            "TIMCTL_INTERVAL: \"18446744073709551615s\" is not a duration",
        ),
        (
            "TIMCTL_INTERVAL",
            "0s",
            "TIMCTL_INTERVAL: \"0s\" is not a duration from 10s",
        ),
        ("TIM_REGION", "mars", "TIM_REGION: unknown region \"mars\""),
    ];
    for (var, value, message) in cases {
        let mut pairs = vec![(var, value), ("TIM_SECRET_KEY", "k")];
        if var != "TIM_SDKAPPID" {
            pairs.push(("TIM_SDKAPPID", "1"));
        }
        let err = resolve(&args_with(&path), &pairs).unwrap_err();
        assert!(err.to_string().starts_with(message), "{var}={value}: {err}");
    }
    let (_d, file) = config_file("sdkappid: 1\nrate: 0\n");
    let err = resolve(&args_with(&file), &[("TIM_SECRET_KEY", "k")]).unwrap_err();
    assert!(
        err.to_string()
            .contains("timctl.yaml: rate: \"0\" is not a number"),
        "{err}"
    );
    let (_d, typo) = config_file("sdkapid: 1\n");
    assert!(matches!(
        resolve(&args_with(&typo), &[]).unwrap_err(),
        SettingsError::Parse { .. }
    ));
}

#[test]
fn secrets_are_redacted_in_debug_output() {
    let (_dir, path) = config_file("");
    let args = Flags {
        sdkappid: Some("7".into()),
        ..args_with(&path)
    };
    let settings = resolve(&args, &[("TIM_SECRET_KEY", "top-secret-key")]).unwrap();
    assert!(!format!("{settings:?}").contains("top-secret-key"));
}

#[cfg(unix)]
#[test]
fn a_fifo_as_settings_or_key_file_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("timctl.yaml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let err = resolve(&args_with(&fifo), &[]).unwrap_err();
    assert!(matches!(err, SettingsError::NotAFile { .. }), "{err}");
    let (_d, path) = config_file("sdkappid: 1\n");
    let args = Flags {
        secret_key_file: Some(fifo),
        ..args_with(&path)
    };
    assert!(matches!(
        resolve(&args, &[]).unwrap_err(),
        SettingsError::NotAFile { .. }
    ));
}

proptest! {
    /// Whatever text a numeric setting holds, in whichever source, resolution ends in a value
    /// within its range or a named error: never a panic.
    #[test]
    fn numeric_settings_never_panic(
        text in prop_oneof![
            "[0-9eE.+-]{0,24}",
            "[0-9]{1,30}(ns|ms|s|m|h|d|y)?",
            any::<f64>().prop_map(|f| f.to_string()),
            any::<u64>().prop_map(|n| format!("{n}s")),
            ".{0,12}",
        ],
        which in 0usize..4,
        source in 0usize..3,
    ) {
        let (var, key) = [
            ("TIM_RATE", "rate"),
            ("TIM_TIMEOUT", "timeout"),
            ("TIMCTL_INTERVAL", "interval"),
            ("TIM_SDKAPPID", "sdkappid"),
        ][which];
        let quoted = serde_json::to_string(&text).unwrap();
        let (_dir, path) = config_file(&if source == 2 { format!("{key}: {quoted}\n") } else { String::new() });
        let mut args = args_with(&path);
        let mut pairs = vec![("TIM_SECRET_KEY", "k".to_owned())];
        if which != 3 {
            pairs.push(("TIM_SDKAPPID", "1".to_owned()));
        }
        match source {
            0 => match which {
                0 => args.rate = Some(text.clone()),
                1 => args.timeout = Some(text.clone()),
                3 => args.sdkappid = Some(text.clone()),
                _ => {}
            },
            1 => pairs.push((var, text.clone())),
            _ => {}
        }
        let env = FakeEnv(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
        let interval = (source == 0 && which == 2).then_some(text.as_str());
        if let Ok(settings) = Settings::resolve_with_interval(&args, interval, &env) {
            prop_assert!(settings.rate.is_none_or(|r| RATE_RANGE.contains(&r)));
            prop_assert!(TIMEOUT_RANGE.contains(&settings.timeout));
            prop_assert!(INTERVAL_RANGE.contains(&settings.interval));
        }
    }
}
