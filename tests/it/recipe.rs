//! The CI and deployment recipes shipped in `examples/`: the GitHub workflow, the Dockerfile
//! and the Kubernetes manifests are parsed and held to the rules the README promises (pinned
//! actions and timctl, a `permissions:` block per job, one plan comment found by the marker the
//! markdown plan carries, probes on the metrics port), and linted or built when the tool is
//! on PATH. Also the first pull request's empty baseline, end to end.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_yaml::Value;
use timctl::emulator::GroupType;
use timctl::render::MARKDOWN_MARKER;

use crate::support::{World, seed_group};

const WORKFLOW: &str = "examples/github/timctl.yml";
const DOCKERFILE: &str = "examples/docker/Dockerfile";
const CRONJOB: &str = "examples/kubernetes/drift-cronjob.yaml";
const DEPLOYMENT: &str = "examples/kubernetes/reconcile-deployment.yaml";

/// The current major version of each action the workflow uses (late 2026: the Node 24
/// releases); an older one fails the test.
const CURRENT_MAJORS: &[(&str, u32)] = &[
    ("actions/checkout", 6),
    ("actions/cache", 5),
    ("actions/github-script", 8),
    ("actions/upload-artifact", 6),
    ("actions/download-artifact", 7),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(rel: &str) -> Value {
    serde_yaml::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn documents(rel: &str) -> Vec<Value> {
    let text = read(rel);
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{rel}: {e}")))
        .filter(|doc| !doc.is_null())
        .collect()
}

fn jobs(workflow: &Value) -> Vec<(String, &Value)> {
    workflow["jobs"]
        .as_mapping()
        .expect("jobs")
        .iter()
        .map(|(name, job)| (name.as_str().unwrap().to_owned(), job))
        .collect()
}

fn steps(job: &Value) -> &[Value] {
    job["steps"].as_sequence().expect("steps")
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("")
}

fn is_full_sha(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn on_path(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file())
}

#[test]
fn every_workflow_job_has_permissions_and_nothing_is_granted_by_default() {
    let workflow = yaml(WORKFLOW);
    assert_eq!(
        workflow["permissions"],
        Value::Mapping(Default::default()),
        "top-level `permissions: {{}}`"
    );
    let jobs = jobs(&workflow);
    assert_eq!(jobs.len(), 3);
    for (name, job) in jobs {
        let permissions = job["permissions"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{WORKFLOW}: job {name} has no `permissions:` block"));
        assert_eq!(
            permissions
                .get("contents")
                .and_then(Value::as_str)
                .unwrap_or(""),
            "read",
            "{WORKFLOW}: job {name}: contents: read"
        );
        assert!(
            permissions
                .values()
                .all(|v| v.as_str() == Some("read") || v.as_str() == Some("write")),
            "{WORKFLOW}: job {name}: {permissions:?}"
        );
    }
}

#[test]
fn every_action_is_pinned_to_its_current_major_version_or_a_commit() {
    let workflow = yaml(WORKFLOW);
    let mut seen = 0;
    for (name, job) in jobs(&workflow) {
        for step in steps(job) {
            let Some(uses) = step["uses"].as_str() else {
                continue;
            };
            seen += 1;
            let (action, reference) = uses
                .split_once('@')
                .unwrap_or_else(|| panic!("{WORKFLOW}: job {name}: {uses} is not pinned"));
            if is_full_sha(reference) {
                continue;
            }
            let major: u32 = reference
                .strip_prefix('v')
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| {
                    panic!("{WORKFLOW}: job {name}: {uses}: a major version (vN) or a full SHA")
                });
            let current = CURRENT_MAJORS
                .iter()
                .find(|(a, _)| *a == action)
                .unwrap_or_else(|| panic!("{WORKFLOW}: job {name}: {action} has no known major"))
                .1;
            assert!(
                major >= current,
                "{WORKFLOW}: job {name}: {uses} is older than v{current}"
            );
        }
    }
    assert!(seen >= 8, "{seen} uses");
}

/// timctl is installed from one pinned commit, locked, and cached by that commit: never an
/// unpinned HEAD build per job.
#[test]
fn timctl_is_installed_locked_from_a_pinned_commit_and_cached() {
    let workflow = yaml(WORKFLOW);
    let rev = str_of(&workflow["env"], "TIMCTL_REV");
    assert!(
        is_full_sha(rev),
        "TIMCTL_REV {rev:?} is not a full commit id"
    );
    for (name, job) in jobs(&workflow) {
        let steps = steps(job);
        let installs: Vec<&Value> = steps
            .iter()
            .filter(|s| str_of(s, "run").contains("cargo install"))
            .collect();
        assert_eq!(installs.len(), 1, "job {name}: one install step");
        for step in &installs {
            let run = str_of(step, "run");
            for line in run.lines().filter(|l| l.contains("cargo install")) {
                assert!(line.contains("--locked"), "job {name}: {line}");
                assert!(
                    line.contains(r#"--rev "$TIMCTL_REV""#),
                    "job {name}: {line}"
                );
                assert!(
                    !line.contains("--branch") && !line.contains("--tag"),
                    "job {name}: {line}"
                );
            }
            // Built only when the cache keyed by the pinned commit missed.
            assert_eq!(
                str_of(step, "if"),
                "steps.timctl.outputs.cache-hit != 'true'",
                "job {name}"
            );
        }
        let cache = steps
            .iter()
            .find(|s| str_of(s, "uses").starts_with("actions/cache@"))
            .unwrap_or_else(|| panic!("job {name}: no cache step"));
        assert_eq!(str_of(cache, "id"), "timctl", "job {name}");
        assert!(
            str_of(&cache["with"], "key").contains("${{ env.TIMCTL_REV }}"),
            "job {name}: the cache key names the pinned commit"
        );
        assert_eq!(str_of(&cache["with"], "path"), "~/.cargo/bin/timctl");
    }
}

/// The comment script looks for exactly the marker the markdown plan starts with, and edits
/// the comment it finds instead of adding one.
#[test]
fn the_workflow_finds_its_comment_by_the_marker_the_markdown_plan_prints() {
    let workflow = yaml(WORKFLOW);
    let plan = jobs(&workflow)
        .into_iter()
        .find(|(name, _)| name == "plan")
        .unwrap()
        .1;
    let comment = steps(plan)
        .iter()
        .find(|s| str_of(s, "uses").starts_with("actions/github-script@"))
        .expect("comment step");
    let script = str_of(&comment["with"], "script");
    let start = script.find("const marker = '").expect("marker constant") + 16;
    let marker = &script[start..start + script[start..].find('\'').unwrap()];
    assert_eq!(marker, MARKDOWN_MARKER);
    // The failure notice the plan step writes in place of a plan carries the same marker.
    let text = read(WORKFLOW);
    assert!(text.matches("<!-- timctl-plan").count() >= 3);
    for (at, _) in text.match_indices("<!-- timctl-plan") {
        assert!(
            text[at..].starts_with(MARKDOWN_MARKER),
            "{}",
            &text[at..at + 30]
        );
    }
    assert!(script.contains("updateComment"), "{script}");
    assert!(script.contains("createComment"), "{script}");
    assert!(script.contains("github.paginate"), "every page of comments");

    // The real binary prints that marker first, whether or not there are changes.
    let world = World::new();
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: ops-a\n    type: Public\n    name: A\n",
    );
    let first = world.timctl(&["plan", "groups", "--format", "markdown"]);
    first.code(0);
    assert_eq!(
        first.stdout.lines().next(),
        Some(marker),
        "{}",
        first.stdout
    );
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    let none = world.timctl(&["plan", "groups", "--format", "markdown"]);
    none.code(0)
        .stdout_has("No changes. Live groups match the manifests.");
    assert_eq!(none.stdout.lines().next(), Some(marker), "{}", none.stdout);
}

/// Empty variables fall back to the README's defaults; secrets reach only the steps that
/// call the API; a fork's pull request (no secrets) is validated, then skipped with a notice.
#[test]
fn variables_have_defaults_and_a_pull_request_without_secrets_is_skipped_plainly() {
    let text = read(WORKFLOW);
    let workflow = yaml(WORKFLOW);
    assert_eq!(
        str_of(&workflow["env"], "TIM_REGION"),
        "${{ vars.TIM_REGION || 'china' }}"
    );
    assert_eq!(
        str_of(&workflow["env"], "TIMCTL_DIR"),
        "${{ vars.TIMCTL_DIR || 'groups' }}"
    );
    for (at, _) in text.match_indices("vars.") {
        let expression = &text[at..at + text[at..].find("}}").unwrap()];
        assert!(expression.contains("||"), "no default: {expression}");
    }
    let top_env = workflow["env"].as_mapping().unwrap();
    assert!(
        top_env
            .values()
            .all(|v| !v.as_str().unwrap_or("").contains("secrets.")),
        "secrets are passed per step, not to every step (cargo install included)"
    );

    let plan = jobs(&workflow)
        .into_iter()
        .find(|(name, _)| name == "plan")
        .unwrap()
        .1;
    let steps = steps(plan);
    let check = steps
        .iter()
        .position(|s| str_of(s, "id") == "secrets")
        .expect("a step that checks the secrets");
    let check_run = str_of(&steps[check], "run");
    assert!(check_run.contains("::notice"), "{check_run}");
    assert!(check_run.contains("GITHUB_STEP_SUMMARY"), "{check_run}");
    assert!(check_run.contains("fork"), "{check_run}");
    let validate = steps
        .iter()
        .position(|s| str_of(s, "run").contains("timctl validate"))
        .expect("validate");
    assert!(validate < check, "a fork's pull request is still validated");
    assert_eq!(str_of(&steps[validate], "if"), "");
    for step in &steps[check + 1..] {
        assert!(
            str_of(step, "if").starts_with("steps.secrets.outputs.ok == 'true'"),
            "{step:?}"
        );
    }
    // The plan uses the base branch as the baseline and is saved for the merge.
    let plan_run = steps
        .iter()
        .map(|s| str_of(s, "run"))
        .find(|r| r.contains(r#"timctl plan "$TIMCTL_DIR""#))
        .unwrap();
    assert!(plan_run.contains(r#"--baseline "/tmp/base/$TIMCTL_DIR""#));
    assert!(plan_run.contains("--out plan.json"));
    // The comment names no account (see tests/it/redact.rs).
    assert!(plan_run.contains("--format markdown --redact-accounts"));
    // Its cost follows the pull request: only the groups it touches are read.
    assert!(plan_run.contains("--changed-only"));
    assert!(
        steps
            .iter()
            .any(|s| str_of(s, "uses").starts_with("actions/upload-artifact@"))
    );
}

/// The merge applies the saved plan when the manifests are those it was made from, and warns
/// in plain words when it must re-plan.
#[test]
fn the_merge_applies_the_reviewed_plan_or_says_it_re_planned() {
    let workflow = yaml(WORKFLOW);
    let apply = jobs(&workflow)
        .into_iter()
        .find(|(name, _)| name == "apply")
        .unwrap()
        .1;
    assert_eq!(str_of(apply, "environment"), "production");
    assert_eq!(str_of(&apply["permissions"], "actions"), "read");
    let steps = steps(apply);
    assert!(steps.iter().any(
        |s| str_of(s, "uses").starts_with("actions/download-artifact@")
            && str_of(&s["with"], "run-id") == "${{ steps.reviewed.outputs.run-id }}"
    ));
    let run = steps
        .iter()
        .map(|s| str_of(s, "run"))
        .find(|r| r.contains("timctl apply"))
        .unwrap();
    let reviewed = run
        .find("timctl apply reviewed/plan.json")
        .expect("reviewed");
    let warning = run
        .find("::warning title=timctl re-planned::")
        .expect("warning");
    let fresh = run.find("timctl apply fresh.json").expect("re-plan");
    assert!(reviewed < warning && warning < fresh, "{run}");
    assert!(run.contains("reviewed/manifests.txt"), "{run}");
    assert!(
        !run.contains("--force"),
        "the destroy limits stay on: {run}"
    );
}

/// `actionlint` when it is installed (see the README); the structural tests above run always.
#[test]
fn the_workflow_passes_actionlint() {
    let Some(actionlint) = on_path("actionlint") else {
        eprintln!("note: actionlint is not on PATH; skipped linting {WORKFLOW}");
        return;
    };
    let output = Command::new(actionlint)
        .arg("-no-color")
        .arg(root().join(WORKFLOW))
        .output()
        .expect("actionlint runs");
    assert!(
        output.status.success(),
        "actionlint {WORKFLOW}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn pod_spec(doc: &Value) -> &Value {
    match doc["kind"].as_str() {
        Some("Deployment") => &doc["spec"]["template"]["spec"],
        Some("CronJob") => &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        kind => panic!("no pod in {kind:?}"),
    }
}

fn args(container: &Value) -> Vec<&str> {
    container["args"]
        .as_sequence()
        .expect("args")
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect()
}

fn flag_value<'a>(args: &[&'a str], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| *a == flag)
        .map(|i| args[i + 1])
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix(flag)?.strip_prefix('='))
        })
}

/// The key comes from a Secret mounted as a file and named by `--secret-key-file`, never from
/// the environment; the image is referenced by digest.
fn check_key_and_image(rel: &str, pod: &Value) {
    let container = &pod["containers"][0];
    assert!(
        str_of(container, "image").contains("@sha256:"),
        "{rel}: image by digest"
    );
    let args = args(container);
    let key_file = flag_value(&args, "--secret-key-file")
        .unwrap_or_else(|| panic!("{rel}: no --secret-key-file"));
    let mount = container["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| key_file.starts_with(&format!("{}/", str_of(m, "mountPath"))))
        .unwrap_or_else(|| panic!("{rel}: {key_file} is on no mount"));
    assert_eq!(mount["readOnly"], Value::Bool(true), "{rel}");
    let volume = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    assert!(
        volume["secret"]["secretName"].is_string(),
        "{rel}: the key's volume is a Secret"
    );
    let env = serde_yaml::to_string(&container["env"]).unwrap();
    assert!(
        !env.contains("TIM_SECRET_KEY"),
        "{rel}: key in the environment"
    );
    assert_eq!(
        pod["securityContext"]["runAsNonRoot"],
        Value::Bool(true),
        "{rel}"
    );
}

/// Every flag the example passes is one the command accepts (`--metrics-listen` is checked
/// once the binary has it: issue 12 point 5 adds it).
fn check_flags_exist(rel: &str, args: &[&str]) {
    let help = World::new().timctl(&[args[0], "--help"]);
    help.code(0);
    for flag in args.iter().filter(|a| a.starts_with("--")) {
        let flag = flag.split('=').next().unwrap();
        if flag == "--metrics-listen" && !help.stdout.contains(flag) {
            eprintln!("note: this timctl has no {flag} yet; not checked");
            continue;
        }
        assert!(
            help.stdout.contains(flag),
            "{rel}: timctl {} has no {flag}",
            args[0]
        );
    }
}

#[test]
fn the_kubernetes_deployment_probes_the_metrics_port() {
    let docs = documents(DEPLOYMENT);
    let deployment = docs
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("a Deployment");
    assert_eq!(deployment["spec"]["replicas"], Value::from(1));
    assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate");
    let pod = pod_spec(deployment);
    check_key_and_image(DEPLOYMENT, pod);
    let container = &pod["containers"][0];
    let args = args(container);
    assert_eq!(args[0], "reconcile");
    let listen = flag_value(&args, "--metrics-listen").expect("--metrics-listen");
    let port: u64 = listen.rsplit_once(':').unwrap().1.parse().unwrap();
    let ports = container["ports"].as_sequence().unwrap();
    let named = ports
        .iter()
        .find(|p| p["containerPort"].as_u64() == Some(port))
        .unwrap_or_else(|| panic!("{DEPLOYMENT}: port {port} is not declared"));
    for probe in ["livenessProbe", "readinessProbe"] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], "/healthz", "{probe}");
        let target = &get["port"];
        assert!(
            *target == named["name"] || target.as_u64() == Some(port),
            "{probe} targets {target:?}, not the metrics port {port}"
        );
    }
    let service = docs
        .iter()
        .find(|d| d["kind"] == "Service")
        .expect("a Service to scrape");
    assert_eq!(
        service["metadata"]["annotations"]["prometheus.io/path"],
        "/metrics"
    );
    let target = &service["spec"]["ports"][0]["targetPort"];
    assert!(*target == named["name"] || target.as_u64() == Some(port));
    check_flags_exist(DEPLOYMENT, &args);
}

#[test]
fn the_kubernetes_cronjob_is_a_drift_check_that_fails_on_drift() {
    let docs = documents(CRONJOB);
    let cronjob = docs
        .iter()
        .find(|d| d["kind"] == "CronJob")
        .expect("a CronJob");
    assert_eq!(cronjob["spec"]["concurrencyPolicy"], "Forbid");
    assert_eq!(
        cronjob["spec"]["jobTemplate"]["spec"]["backoffLimit"],
        Value::from(0)
    );
    let pod = pod_spec(cronjob);
    assert_eq!(pod["restartPolicy"], "Never");
    check_key_and_image(CRONJOB, pod);
    let args = args(&pod["containers"][0]);
    assert_eq!(args[0], "plan");
    assert!(args.contains(&"--detailed-exitcode"), "{args:?}");
    check_flags_exist(CRONJOB, &args);
}

#[test]
fn the_dockerfile_is_multi_stage_locked_small_and_not_root() {
    let text = read(DOCKERFILE);
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "{froms:?}");
    assert!(froms[0].contains("rust:") && froms[0].ends_with(" AS build"));
    assert!(froms[1].contains("distroless/cc"), "{}", froms[1]);
    assert!(text.contains("cargo build --locked --release"));
    let user = text
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("USER");
    assert!(
        !user.starts_with("0") && !user.starts_with("root"),
        "{user}"
    );
    assert!(text.contains(r#"ENTRYPOINT ["/usr/local/bin/timctl"]"#));
    let ignore = read("examples/docker/Dockerfile.dockerignore");
    assert!(ignore.lines().any(|l| l == "*"), "{ignore}");
    assert!(!ignore.contains("!target"), "{ignore}");
    // Everything the builder copies is let through the ignore file.
    for line in text
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        for source in line
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .split_last()
            .unwrap()
            .1
        {
            let source = source.trim_end_matches('/');
            assert!(
                ignore.contains(&format!("!{source}")),
                "{source} is ignored"
            );
            assert!(Path::new(&root().join(source)).exists(), "{source}");
        }
    }
}

/// Slow (a release build in a container): `cargo test --test it -- --ignored docker`.
#[test]
#[ignore]
fn the_dockerfile_builds_when_docker_is_present() {
    let daemon = Command::new("docker").arg("info").output();
    if !matches!(daemon, Ok(ref out) if out.status.success()) {
        eprintln!("note: no docker daemon; skipped building {DOCKERFILE}");
        return;
    }
    let tag = "timctl-recipe-test:latest";
    let build = Command::new("docker")
        .args(["build", "-f", DOCKERFILE, "-t", tag, "."])
        .current_dir(root())
        .status()
        .expect("docker build runs");
    assert!(build.success(), "docker build -f {DOCKERFILE} failed");
    let version = Command::new("docker")
        .args(["run", "--rm", tag, "validate", "--help"])
        .output()
        .expect("docker run");
    assert!(version.status.success());
}

/// The first pull request that adds the manifests' directory: the base branch has none, and
/// the plan is made against an empty baseline, with a note, every change "this change".
#[test]
fn a_baseline_directory_that_does_not_exist_is_an_empty_baseline() {
    let world = World::new();
    world.seed(vec![seed_group("ops-b", GroupType::Public, "B")]);
    world.write(
        "groups/g.yaml",
        "defaults:\n  type: Public\ngroups:\n  - id: ops-a\n    name: A\n  - id: ops-b\n    name: B2\n",
    );
    let run = world.timctl(&[
        "plan",
        "groups",
        "--baseline",
        "base/groups",
        "--format",
        "json",
    ]);
    run.code(0).stderr_has(
        "the --baseline base/groups does not exist; planning against an empty baseline",
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let origins: Vec<(&str, &str)> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["origin"].as_str().unwrap()))
        .collect();
    assert_eq!(
        origins,
        vec![("ops-a", "this_change"), ("ops-b", "this_change")]
    );
    world
        .timctl(&[
            "plan",
            "groups",
            "--baseline",
            "base/groups",
            "--format",
            "markdown",
        ])
        .code(0)
        .stdout_has("### This change");
    assert!(!run.stdout.contains("Note:"), "the note goes to stderr");
}

/// Only a missing baseline is empty: one that exists and does not load is still an error.
#[test]
fn a_baseline_that_exists_but_does_not_load_is_an_error() {
    let world = World::new();
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: ops-a\n    type: Public\n    name: A\n",
    );
    world.write("base/g.yaml", "groups: [ {id: ops-a, type: Nope} ]\n");
    world
        .timctl(&["plan", "groups", "--baseline", "base"])
        .code(1)
        .stderr_has("cannot load the --baseline manifests");
}
