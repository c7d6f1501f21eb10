//! Plans that say where they point (issue 12, point 4): every rendering names the app and the
//! endpoint, the text plan warns about destroys as the markdown does, multi-line diffs carry no
//! "no newline" marker line, the documented JSON examples are what the binary prints, and
//! `apply --format json` reports every change's outcome.

use timctl::emulator::{Command as Cmd, Fault, GroupType, Role, SeedMember};

use crate::support::{Run, World, seed_group};

/// The page that documents the JSON plan and the apply outcome.
const PAGE: &str = include_str!("../../schema/plan-json.md");

fn member(account: &str) -> SeedMember {
    SeedMember {
        account: account.into(),
        role: Role::Member,
        join_time: None,
    }
}

/// The scenario of the documented examples: `eng-announce` renamed and given to bob, `ops-new`
/// made muted, and `old-room`, with a member, destroyed.
fn example_world() -> World {
    let world = World::new();
    let mut eng = seed_group("eng-announce", GroupType::Public, "Ops");
    eng.owner = Some("alice".into());
    eng.members.push(member("bob"));
    let mut old = seed_group("old-room", GroupType::Public, "Old room");
    old.owner = Some("alice".into());
    old.members.push(member("carol"));
    world.seed(vec![eng, old]);
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: eng-announce\n    type: Public\n    name: Operations\n    owner: bob\n  - id: ops-new\n    type: ChatRoom\n    name: New\n    mute_all: true\n  - id: old-room\n    ensure: absent\n",
    );
    world
}

/// Every attempt of the next `command` calls fails with 10002 (the client tries 6 times).
fn fail_every_attempt(world: &World, command: Cmd) {
    for _ in 0..6 {
        world.emulator.fail_next(command, Fault::Internal);
    }
}

/// The output with the emulator's port, which differs from run to run, as 8080.
fn masked(world: &World, run: &Run) -> String {
    let url = world.emulator.base_url();
    let url = url.trim_end_matches('/');
    run.stdout.replace(url, "http://127.0.0.1:8080")
}

/// The JSON block under `heading` on the page.
fn example(heading: &str) -> String {
    let block: String = PAGE
        .lines()
        .skip_while(|line| *line != heading)
        .skip_while(|line| *line != "```json")
        .skip(1)
        .take_while(|line| *line != "```")
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(
        !block.is_empty(),
        "the page has no example under {heading:?}"
    );
    block
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not one JSON document ({error})\n--- stdout\n{}\n--- stderr\n{}",
            run.stdout, run.stderr
        )
    })
}

#[test]
fn the_documented_plan_example_is_what_plan_prints() {
    let world = example_world();
    let run = world.timctl(&["plan", "groups", "--format", "json"]);
    run.code(0);
    assert_eq!(
        masked(&world, &run),
        example("### Example: a plan against an emulator")
    );
}

#[test]
fn the_documented_apply_example_is_what_apply_prints() {
    let world = example_world();
    // The create's follow-up modify (create phase) fails on every attempt, so the create is
    // partial; the update's modify comes in a later phase and goes through; the owner
    // transfer fails.
    fail_every_attempt(&world, Cmd::ModifyGroupBaseInfo);
    fail_every_attempt(&world, Cmd::ChangeGroupOwner);
    let run = world.timctl(&["apply", "groups", "--auto-approve", "--format", "json"]);
    run.code(1);
    assert_eq!(
        masked(&world, &run),
        example("### Example: an apply outcome")
    );
}

/// One applied, one failed, one partial: each named with its outcome, its error and its steps,
/// in one document on stdout; the plan and the human summary on stderr.
#[test]
fn apply_format_json_reports_every_change_outcome_on_stdout() {
    let world = example_world();
    fail_every_attempt(&world, Cmd::ModifyGroupBaseInfo);
    fail_every_attempt(&world, Cmd::ChangeGroupOwner);
    let run = world.timctl(&["apply", "groups", "--auto-approve", "--format", "json"]);
    run.code(1).stderr_has("~ update eng-announce").stderr_has(
        "Apply finished with errors: 2 applied, 1 failed, 1 partially applied, 0 skipped.",
    );
    assert!(!run.stdout.contains("Apply finished"), "{}", run.stdout);
    let doc = json(&run);
    assert_eq!(doc["status"], "failed");
    assert_eq!(doc["target"]["sdkappid"], 1400000000);
    let url = format!("{}/", world.emulator.base_url().trim_end_matches('/'));
    assert_eq!(doc["target"]["url"], url.as_str());
    assert_eq!(doc["summary"]["applied"], 2);
    let changes = doc["changes"].as_array().unwrap();
    let find = |id: &str, action: &str| {
        changes
            .iter()
            .find(|c| c["id"] == id && c["action"] == action)
            .unwrap_or_else(|| panic!("no {action} {id} in {doc:#}"))
    };
    let update = find("eng-announce", "update");
    assert_eq!(update["outcome"], "applied");
    assert_eq!(update["error"], serde_json::Value::Null);
    assert_eq!(
        update["done"],
        serde_json::json!(["modify_group_base_info"])
    );
    let transfer = find("eng-announce", "transfer");
    assert_eq!(transfer["outcome"], "failed");
    assert_eq!(transfer["error"]["code"], 10002);
    assert!(
        transfer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("change_group_owner gave up after 6 attempts")
    );
    assert_eq!(transfer["left"], serde_json::json!(["change_group_owner"]));
    let create = find("ops-new", "create");
    assert_eq!(create["outcome"], "partial");
    assert_eq!(create["done"], serde_json::json!(["import_group"]));
    assert_eq!(
        create["left"],
        serde_json::json!(["modify_group_base_info"])
    );
    assert_eq!(find("old-room", "destroy")["outcome"], "applied");
    // What it says is what happened.
    assert_eq!(world.group("eng-announce").unwrap().name, "Operations");
    assert_eq!(
        world.group("eng-announce").unwrap().owner.as_deref(),
        Some("alice")
    );
    assert!(world.group("old-room").is_none());

    // A run with nothing to do still prints a document, with no change and status complete.
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: ops-new\n    type: ChatRoom\n    name: New\n",
    );
    let run = world.timctl(&["apply", "groups", "--auto-approve", "--format", "json"]);
    run.code(0);
    let doc = json(&run);
    assert_eq!(doc["status"], "complete");
    assert_eq!(doc["changes"], serde_json::json!([]));
}

/// Text, markdown and JSON, fresh and from a saved plan: each names the SDKAppID and where
/// the requests went; a user name and password in the endpoint URL are never shown.
#[test]
fn every_rendering_names_the_sdkappid_and_the_endpoint() {
    let world = example_world();
    let base = format!("{}/", world.emulator.base_url().trim_end_matches('/'));
    let with_password = base.replacen("http://", "http://deploy:hunter2secret@", 1);
    let env = [("TIM_ENDPOINT", with_password.as_str())];
    let says = format!("SDKAppID 1400000000 at {base}");
    let runs = [
        world.timctl_env(&["plan", "groups"], &env),
        world.timctl_env(&["plan", "groups", "--format", "markdown"], &env),
        world.timctl_env(
            &["plan", "groups", "--format", "json", "--out", "plan.json"],
            &env,
        ),
        world.timctl_env(&["show", "plan.json"], &env),
        world.timctl_env(&["show", "plan.json", "--format", "markdown"], &env),
        world.timctl_env(&["show", "plan.json", "--format", "json"], &env),
    ];
    for (i, run) in runs.iter().enumerate() {
        run.code(0);
        assert!(!run.stdout.contains("hunter2secret") && !run.stderr.contains("hunter2secret"));
        if i % 3 == 2 {
            let doc = json(run);
            assert_eq!(doc["target"]["sdkappid"], 1400000000, "{}", run.stdout);
            assert_eq!(doc["target"]["url"], base.as_str());
            assert_eq!(doc["target"]["endpoint"], base.as_str());
            assert_eq!(doc["target"]["region"], serde_json::Value::Null);
        } else {
            run.stdout_has(&says);
        }
    }
    assert!(!world.read("plan.json").contains("hunter2secret"));
}

/// The text plan says what the markdown callout says: how many groups and members a destroy
/// disbands, and each group with why.
#[test]
fn a_text_plan_with_a_destroy_warns_as_the_markdown_does() {
    let world = example_world();
    let (destroys, why) = (
        "This plan destroys 1 group holding 2 members in total.",
        "Disbanding a group notifies every member and loses its message history.",
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has(&format!(
            "Caution: {destroys} {why}\n  - old-room: destroy (Public, 2 members), ensure: absent\n"
        ));
    world
        .timctl(&["plan", "groups", "--format", "markdown"])
        .code(0)
        .stdout_has(&format!("> [!CAUTION]\n> **{destroys}** {why}"))
        .stdout_has("> | `old-room` | destroy | Public | 2 | `ensure: absent` |");
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: eng-announce\n    type: Public\n    name: Operations\n",
    );
    let run = world.timctl(&["plan", "groups"]);
    run.code(0);
    assert!(
        !run.stdout.contains("Caution:"),
        "no destroy, no caution\n{}",
        run.stdout
    );
}

/// A multi-line text whose live value has no final newline and whose manifest value has one
/// (a YAML `|` block), and the other way round: the diff shows the ending on the line itself.
#[test]
fn a_multi_line_field_without_a_final_newline_has_no_marker_line() {
    let world = World::new();
    let mut group = seed_group("g", GroupType::Public, "G");
    group.introduction = "one\ntwo".into();
    group.notification = "a\nb\n".into();
    world.seed(vec![group]);
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: g\n    type: Public\n    name: G\n    introduction: |\n      one\n      two\n    notification: \"a\\nc\"\n",
    );
    let text = world.timctl(&["plan", "groups"]);
    text.code(0)
        .stdout_has("        one\n        - two\n        + two\\n\n")
        .stdout_has("        a\n        - b\\n\n        + c\n");
    let markdown = world.timctl(&["plan", "groups", "--format", "markdown"]);
    markdown
        .code(0)
        .stdout_has("-     two\n+     two\\n\n")
        .stdout_has("-     b\\n\n+     c\n");
    for run in [&text, &markdown] {
        assert!(!run.stdout.contains("No newline"), "{}", run.stdout);
    }
}

/// The JSON Schema of the plan, beside the page.
const PLAN_SCHEMA: &str = include_str!("../../schema/plan.schema.json");

/// Checks `value` against `schema`, the subset of JSON Schema `plan.schema.json` uses, and
/// strictly: an object key the schema does not name is an error unless the schema says
/// `additionalProperties`, so a key timctl prints is never left undocumented. A keyword the
/// checker does not know is an error too, so it never passes a value by skipping a rule.
fn check(
    root: &serde_json::Value,
    schema: &serde_json::Value,
    value: &serde_json::Value,
    at: &str,
) -> Vec<String> {
    use serde_json::Value;
    let mut errors = Vec::new();
    let Value::Object(rules) = schema else {
        return vec![format!("{at}: the schema is not an object")];
    };
    for (keyword, rule) in rules {
        match keyword.as_str() {
            "$schema" | "title" | "description" | "$defs" => {}
            "$ref" => {
                let name = rule.as_str().unwrap().strip_prefix("#/$defs/").unwrap();
                errors.extend(check(root, &root["$defs"][name], value, at));
            }
            "type" => {
                let types: Vec<&str> = match rule {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
                    _ => panic!("{at}: bad type rule"),
                };
                let is = |t: &str| match t {
                    "null" => value.is_null(),
                    "boolean" => value.is_boolean(),
                    "integer" => value.is_i64() || value.is_u64(),
                    "string" => value.is_string(),
                    "array" => value.is_array(),
                    "object" => value.is_object(),
                    other => panic!("{at}: unknown type {other}"),
                };
                if !types.iter().any(|t| is(t)) {
                    errors.push(format!("{at}: {value} is not {types:?}"));
                }
            }
            "const" if value != rule => errors.push(format!("{at}: {value} is not {rule}")),
            "const" => {}
            "enum" if !rule.as_array().unwrap().contains(value) => {
                errors.push(format!("{at}: {value} is not one of {rule}"))
            }
            "enum" => {}
            "minimum" => {
                if value.as_f64().is_some_and(|n| n < rule.as_f64().unwrap()) {
                    errors.push(format!("{at}: {value} is below {rule}"));
                }
            }
            "minItems" => {
                if value
                    .as_array()
                    .is_some_and(|a| (a.len() as u64) < rule.as_u64().unwrap())
                {
                    errors.push(format!("{at}: fewer than {rule} items"));
                }
            }
            "oneOf" => {
                let matching = rule
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|branch| check(root, branch, value, at).is_empty())
                    .count();
                if matching != 1 {
                    errors.push(format!(
                        "{at}: {value} matches {matching} branches of oneOf"
                    ));
                }
            }
            "required" => {
                if let Value::Object(object) = value {
                    for key in rule.as_array().unwrap() {
                        if !object.contains_key(key.as_str().unwrap()) {
                            errors.push(format!("{at}: {key} is missing"));
                        }
                    }
                }
            }
            "items" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    errors.extend(check(root, rule, item, &format!("{at}[{i}]")));
                }
            }
            "properties" | "additionalProperties" => {}
            other => panic!("{at}: the checker does not know the keyword {other}"),
        }
    }
    if let Value::Object(object) = value {
        let properties = rules.get("properties").and_then(Value::as_object);
        for (key, item) in object {
            let at = format!("{at}.{key}");
            match (
                properties.and_then(|p| p.get(key)),
                rules.get("additionalProperties"),
            ) {
                (Some(rule), _) => errors.extend(check(root, rule, item, &at)),
                (None, Some(rule)) => errors.extend(check(root, rule, item, &at)),
                (None, None) if rules.contains_key("type") => {
                    errors.push(format!("{at}: the schema does not document this key"))
                }
                (None, None) => {}
            }
        }
    }
    errors
}

fn assert_valid(doc: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(PLAN_SCHEMA).unwrap();
    let errors = check(&schema, &schema, doc, "$");
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

/// Real `plan --format json` output of every kind of change, reason and warning validates
/// against `schema/plan.schema.json`, and the checker refuses a key the schema leaves out.
#[test]
fn plan_json_output_validates_against_the_documented_schema() {
    let world = example_world();
    let mut replaced = seed_group("ty-a", GroupType::Public, "Ty");
    replaced.owner = Some("alice".into());
    replaced.max_members = Some(5000);
    world.seed(vec![
        replaced,
        seed_group("gone-x", GroupType::Public, "Gone"),
    ]);
    world.write(
        "groups/more.yaml",
        "prune: {id_prefixes: [gone-]}\ngroups:\n  - id: ty-a\n    type: AVChatRoom\n    name: Ty\n  - id: av-new\n    type: AVChatRoom\n    name: Live\n    owner: alice\n",
    );
    world.write(
        "groups/g.yaml",
        &world.read("groups/g.yaml").replacen(
            "groups:\n",
            "prune: {id_prefixes: [gone-]}\ngroups:\n",
            1,
        ),
    );
    let run = world.timctl(&["plan", "groups", "--format", "json", "--allow-replace"]);
    run.code(0);
    let doc = json(&run);
    for action in ["create", "replace", "update", "transfer", "destroy"] {
        assert!(
            doc["changes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["action"] == action),
            "no {action} in {doc:#}"
        );
    }
    assert!(
        doc["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["reason"]["kind"] == "pruned")
    );
    assert_eq!(doc["warnings"].as_array().unwrap().len(), 3, "{doc:#}");
    assert_valid(&doc);
    assert_valid(&serde_json::from_str(&example("### Example: a plan against a region")).unwrap());

    let schema: serde_json::Value = serde_json::from_str(PLAN_SCHEMA).unwrap();
    let mut undocumented = doc.clone();
    undocumented["changes"][0]["surprise"] = true.into();
    assert_eq!(
        check(&schema, &schema, &undocumented, "$"),
        ["$.changes[0].surprise: the schema does not document this key"]
    );
    let mut wrong = doc;
    wrong["target"]["sdkappid"] = "1400000000".into();
    assert!(!check(&schema, &schema, &wrong, "$").is_empty());
}
