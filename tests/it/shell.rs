//! What a shell user expects of the real binary: completion scripts, man pages, `--version`,
//! a quiet end on a closed pipe, warnings for a scope that matches nothing, no silent empty
//! plan, byte order marks in every document, and help texts in one style.

use std::io::Read;
use std::process::{Command, Stdio};

use timctl::emulator;

use crate::support::World;

const TWO_GROUPS: &str = "\
groups:
  - id: ops-team
    type: Public
    name: Ops
    owner: alice
  - id: dev-team
    type: Public
    name: Dev
    owner: alice
";

const SUBCOMMANDS: &[&str] = &["validate", "plan", "apply", "show", "export", "reconcile"];

#[test]
fn completion_scripts_for_every_shell_name_the_subcommands() {
    let world = World::new();
    for (shell, marker) in [
        ("bash", "complete -F _timctl"),
        ("zsh", "#compdef timctl"),
        ("fish", "complete -c timctl"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[timctl]"),
    ] {
        let run = world.bare(&["completion", shell], &[]);
        run.code(0).stdout_has(marker);
        for sub in SUBCOMMANDS {
            run.stdout_has(sub);
        }
        assert!(run.stdout.contains("allow-empty"), "{shell}: flags too");
    }
    world
        .bare(&["completion", "tcsh"], &[])
        .code(1)
        .stderr_has("invalid value 'tcsh'");
}

#[test]
fn the_man_page_renders_and_one_page_per_command_is_written() {
    let world = World::new();
    let run = world.bare(&["man"], &[]);
    run.code(0)
        .stdout_has(".TH timctl 1")
        .stdout_has("Keep Tencent Cloud Chat groups equal to what Git declares");
    for sub in SUBCOMMANDS {
        run.stdout_has(&format!("timctl\\-{sub}"));
    }
    world
        .bare(&["man", "--out", "man"], &[])
        .code(0)
        .stderr_has("Wrote 12 man pages to man");
    let plan = world.read("man/timctl-plan.1");
    assert!(
        plan.starts_with(".ie") || plan.contains(".TH timctl-plan 1"),
        "{plan}"
    );
    assert!(plan.contains(".TH timctl-plan 1"), "{plan}");
    assert!(plan.contains("allow\\-empty"), "{plan}");
    assert!(world.read("man/timctl.1").contains(".TH timctl 1"));
    assert!(!world.path("man/timctl-help.1").exists());
}

#[test]
fn version_prints_the_crate_version() {
    let world = World::new();
    let run = world.bare(&["--version"], &[]);
    run.code(0);
    assert_eq!(
        run.stdout,
        format!("timctl {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// Runs `timctl ARGS` against the world's emulator with stdout a pipe closed before the
/// binary writes to it; returns its exit code and stderr.
fn with_closed_stdout(world: &World, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_timctl"))
        .args(args)
        .current_dir(world.dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("TIM_SDKAPPID", world.emulator.sdkappid().to_string())
        .env("TIM_SECRET_KEY", emulator::DEV_SECRET_KEY)
        .env("TIM_ENDPOINT", world.emulator.base_url())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("timctl runs");
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    let status = child.wait().expect("wait");
    (status.code(), stderr)
}

#[test]
fn a_closed_pipe_ends_quietly_with_status_141() {
    let world = World::new();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/groups");
    for args in [
        vec!["plan", examples],
        vec!["schema"],
        vec!["man"],
        vec!["--help"],
    ] {
        let (code, stderr) = with_closed_stdout(&world, &args);
        assert_eq!(code, Some(141), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            !stderr.to_lowercase().contains("broken pipe"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_target_or_exclude_that_matches_nothing_warns_with_a_did_you_mean() {
    let world = World::new();
    world.write("groups/teams.yaml", TWO_GROUPS);
    let run = world.timctl(&["plan", "--target", "ops-tem", "--exclude", "zzz"]);
    run.code(0)
        .stderr_has(
            r#"warning: --target "ops-tem" matches no group the manifests declare or prune; did you mean "ops-team"?"#,
        )
        .stderr_has(r#"warning: --exclude "zzz" matches no group the manifests declare or prune"#);
    assert!(
        !run.stderr
            .contains(r#""zzz" matches no group the manifests declare or prune;"#)
    );
    let fine = world.timctl(&["plan", "--target", "ops-team", "--exclude", "dev-team"]);
    fine.code(0).stdout_has("+ create ops-team");
    assert!(!fine.stderr.contains("warning"), "{}", fine.stderr);
}

#[test]
fn validate_and_plan_on_a_path_without_manifests_fail_unless_allow_empty() {
    let world = World::new();
    std::fs::create_dir_all(world.path("groups")).unwrap();
    world.write("groups/README.md", "not a manifest");
    world
        .timctl(&["validate"])
        .code(1)
        .stderr_has("no manifest file (*.yaml, *.yml) in groups; pass --allow-empty");
    world
        .timctl(&["validate", "--allow-empty"])
        .code(0)
        .stdout_has("ok: 0 groups in 0 files");
    world.clear_log();
    world
        .timctl(&["plan", "--detailed-exitcode"])
        .code(1)
        .stderr_has("no manifest file (*.yaml, *.yml) in groups; pass --allow-empty");
    assert!(world.commands().is_empty(), "{:?}", world.commands());
    world
        .timctl(&["plan", "--allow-empty"])
        .code(0)
        .stdout_has("No changes.");
}

#[test]
fn a_byte_order_mark_works_at_the_start_of_every_document() {
    let world = World::new();
    let doc = |id: &str| {
        format!("groups:\n  - id: {id}\n    type: Public\n    name: N\n    owner: alice\n")
    };
    let bom = "\u{feff}";
    // At the start of the file, before a `---` line (files joined with cat), and at the
    // start of the document after a `---` line.
    let text = format!(
        "{bom}{}{bom}---\n{}---\n{bom}{}",
        doc("a1"),
        doc("a2"),
        doc("a3")
    );
    world.write("groups/bom.yaml", &text);
    world
        .timctl(&["validate"])
        .code(0)
        .stdout_has("ok: 3 groups in 1 file");
    let plan = world.timctl(&["plan"]);
    plan.code(0)
        .stdout_has("+ create a1")
        .stdout_has("+ create a2")
        .stdout_has("+ create a3");
    // A problem in a document that starts with a BOM names its own line.
    let bad = format!(
        "{}---\n{bom}groups:\n  - id: b1\n    type: Public\n    name: N\n    colour: red\n",
        doc("a1")
    );
    world.write("groups/bom.yaml", &bad);
    world
        .timctl(&["validate"])
        .code(1)
        .stderr_has("bom.yaml:11: group \"b1\": unknown key \"colour\"");
}

#[test]
fn help_texts_are_sentences_with_env_and_default_notes_last() {
    let world = World::new();
    let run = world.bare(&["plan", "--help"], &[]);
    run.code(0)
        .stdout_has(
            "The app's SDKAppID. Without any connection setting, the built-in emulator is used. [env: TIM_SDKAPPID]",
        )
        .stdout_has("Per-request timeout, e.g. 10s. [env: TIM_TIMEOUT] [default: 10s]")
        .stdout_has("Show what apply would change.");
    assert_eq!(
        run.stdout.matches("[default: text]").count(),
        2,
        "{}",
        run.stdout
    );
    let short = world.bare(&["plan", "-h"], &[]);
    short
        .code(0)
        .stdout_has("Output format. [default: text]")
        .stdout_has("Print help (see more with '--help').");
}

#[test]
fn out_names_a_file_for_plan_and_a_directory_for_export_and_man() {
    let world = World::new();
    world
        .bare(&["plan", "-h"], &[])
        .code(0)
        .stdout_has("--out <FILE>");
    world
        .bare(&["export", "-h"], &[])
        .code(0)
        .stdout_has("--out <DIR>");
    world
        .bare(&["man", "-h"], &[])
        .code(0)
        .stdout_has("--out <DIR>");
}
