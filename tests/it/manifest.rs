//! Manifests from real files: directories, the shipped examples, and the `validate` and
//! `schema` commands of the real binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use timctl::manifest::{self, Limits, ManifestErrors};
use timctl::model::{Ensure, GroupId, GroupType};

fn write(root: &Path, name: &str, text: &str) {
    let path = root.join(name);
    fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

fn shown(errors: ManifestErrors) -> Vec<String> {
    errors.problems().iter().map(ToString::to_string).collect()
}

fn timctl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_timctl"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run timctl")
}

/// What `timctl validate` printed on stderr, and its exit code.
struct Validated {
    code: Option<i32>,
    stderr: String,
}

/// Runs `timctl validate ARGS` in `dir`, failing the test if it has not finished within a
/// minute (a read that waits on a FIFO would never finish).
fn validate_in(dir: &Path, args: &[&str]) -> Validated {
    let out = tempfile::tempdir().expect("tempdir");
    let stderr_path = out.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_timctl"))
        .arg("validate")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&stderr_path).expect("create"))
        .spawn()
        .expect("run timctl");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().expect("kill");
            child.wait().expect("reap");
            panic!("timctl validate {args:?} did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Validated {
        code: status.code(),
        stderr: fs::read_to_string(stderr_path).expect("read stderr"),
    }
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn the_example_manifests_are_valid() {
    let loaded = manifest::load_manifests(&[PathBuf::from("examples/groups")], &Limits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.files.len(), 5);
    assert_eq!(loaded.desired.groups.len(), 12);
    let community = &loaded.desired.groups[&GroupId::from("@TGS#_developers")];
    assert_eq!(community.group.group_type, Some(GroupType::Community));
    assert_eq!(community.group.max_members, Some(100_000));
    let retired = &loaded.desired.groups[&GroupId::from("old-room")];
    assert_eq!(retired.ensure, Ensure::Absent);
    assert_eq!(
        *retired.source.file,
        *Path::new("examples/groups/retired.yml")
    );
    assert_eq!(retired.source.line, Some(6));
    // Every example points editors at the schema.
    for file in &loaded.files {
        let text = fs::read_to_string(file).expect("read");
        assert!(
            text.starts_with("# yaml-language-server: $schema=")
                && text.contains("schema/timctl.schema.json"),
            "{}",
            file.display()
        );
    }
}

#[test]
fn the_bad_example_reports_what_its_comment_says() {
    let text = fs::read_to_string("examples/bad/broken.yaml").expect("read");
    let expected: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# examples/"))
        .map(|l| format!("examples/{l}"))
        .collect();
    assert!(expected.len() >= 5);
    let errors = manifest::load(&[PathBuf::from("examples/bad")], &Limits::default())
        .expect_err("the bad example has problems");
    assert_eq!(shown(errors), expected);
}

#[test]
fn directories_are_walked_recursively_in_sorted_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "b.yaml", "groups: [{id: b}]\n");
    write(root, "a/z.yml", "groups: [{id: z}]\n");
    write(root, "a/deeper/y.YAML", "groups: [{id: y}]\n");
    write(root, "notes.txt", "not: [a manifest\n");
    write(root, ".hidden/x.yaml", "not: [a manifest\n");
    write(root, "timctl.yaml", "sdkappid: 1400000000\n");
    write(root, "empty.yaml", "# nothing yet\n");
    let loaded = manifest::load_manifests(&[root.to_owned()], &Limits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<_> = loaded
        .files
        .iter()
        .map(|f| f.strip_prefix(root).expect("under root").to_owned())
        .collect();
    assert_eq!(
        names,
        [
            Path::new("a/deeper/y.YAML"),
            Path::new("a/z.yml"),
            Path::new("b.yaml"),
            Path::new("empty.yaml"),
        ]
    );
    let ids: Vec<_> = loaded.desired.groups.keys().map(GroupId::as_str).collect();
    assert_eq!(ids, ["b", "y", "z"]);
}

#[test]
fn a_file_named_twice_is_read_once_and_an_explicit_file_is_read_whatever_its_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "g.yaml", "groups: [{id: a}]\n");
    write(root, "other.txt", "groups: [{id: b}]\n");
    let paths = [root.to_owned(), root.join("g.yaml"), root.join("other.txt")];
    let loaded =
        manifest::load_manifests(&paths, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.files.len(), 2);
    assert_eq!(loaded.desired.groups.len(), 2);
}

#[test]
fn every_problem_of_every_file_is_reported_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "a.yaml", "groups:\n  - id: x\n    nmae: X\n");
    write(
        root,
        "b.yaml",
        "groups:\n  - id: x\n  - id: y\n    type: public\n",
    );
    write(root, "c.yaml", "groups:\n  - id: [\n");
    let missing = root.join("missing");
    let errors =
        manifest::load(&[root.to_owned(), missing], &Limits::default()).expect_err("problems");
    let r = root.display();
    assert_eq!(
        shown(errors),
        [
            format!(r#"{r}/a.yaml:3: group "x": unknown key "nmae"; did you mean "name"?"#),
            format!(
                r#"{r}/b.yaml:2: group "x": field id: duplicate id, first declared at {r}/a.yaml:2"#
            ),
            format!(
                r#"{r}/b.yaml:4: group "y": field type: "public" is not one of Private, Public, ChatRoom, AVChatRoom, Community; did you mean "Public"?"#
            ),
            format!(
                "{r}/c.yaml:3: invalid YAML: did not find expected node content at line 3 column 1, while parsing a flow node"
            ),
            format!("{r}/missing: no such file or directory"),
        ]
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_walked_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "sub/g.yaml", "groups: [{id: a}]\n");
    std::os::unix::fs::symlink(root, root.join("sub/loop")).expect("symlink");
    let loaded = manifest::load_manifests(&[root.to_owned()], &Limits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.files.len(), 1);
}

#[test]
fn validate_prints_a_summary_or_every_problem() {
    let ok = timctl(&["validate", "examples/groups"]);
    assert!(ok.status.success());
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout),
        "ok: 12 groups in 5 files\n"
    );

    let bad = timctl(&["validate", "examples/groups", "examples/bad"]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.starts_with("examples/bad/broken.yaml:"), "{stderr}");
    assert!(
        stderr.ends_with("error: 10 problems in the manifests\n"),
        "{stderr}"
    );
}

#[test]
fn schema_prints_the_committed_schema() {
    let out = timctl(&["schema"]);
    assert!(out.status.success());
    let committed = fs::read_to_string("schema/timctl.schema.json").expect("read");
    assert_eq!(String::from_utf8_lossy(&out.stdout), committed);
}

#[cfg(unix)]
#[test]
fn validate_refuses_a_fifo_named_or_found_in_a_walk_without_waiting_on_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "groups/a.yaml", "groups: [{id: a}]\n");
    mkfifo(&root.join("groups/pipe.yaml"));
    // Not a manifest name: a walk passes it by, as it does any other file.
    mkfifo(&root.join("groups/pipe.txt"));
    let walked = validate_in(root, &["groups"]);
    assert_eq!(walked.code, Some(1));
    assert_eq!(
        walked.stderr,
        "groups/pipe.yaml: not a regular file (a FIFO)\nerror: 1 problem in the manifests\n"
    );
    let named = validate_in(root, &["groups/pipe.txt", "groups/a.yaml"]);
    assert_eq!(named.code, Some(1));
    assert_eq!(
        named.stderr,
        "groups/pipe.txt: not a regular file (a FIFO)\nerror: 1 problem in the manifests\n"
    );
}

#[test]
fn validate_refuses_a_manifest_larger_than_the_limit_without_reading_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "small.yaml", "groups: [{id: a}]\n");
    // Sparse: a byte over the limit costs no disk.
    let big = fs::File::create(root.join("big.yaml")).expect("create");
    big.set_len(manifest::MAX_MANIFEST_BYTES + 1)
        .expect("set_len");
    let run = validate_in(root, &["."]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "./big.yaml: larger than 64 MiB, the most a manifest file may hold; split it into \
         several files\nerror: 1 problem in the manifests\n"
    );
}

#[test]
fn validate_refuses_deep_nesting_before_parsing_it() {
    // 2 MB each. The parser's cost grows with the open collections: before this check the
    // `[` file took 14 s, and `{a: ` (quadratic) 42 s for only 200 KB, over an hour here.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "flow.yaml", &"[".repeat(2_000_000));
    write(
        root,
        "map.yaml",
        &format!("groups: {}", "{a: ".repeat(500_000)),
    );
    write(
        root,
        "block.yaml",
        &format!("groups:\n{}", "- ".repeat(1_000_000)),
    );
    let run = validate_in(root, &["flow.yaml", "map.yaml", "block.yaml"]);
    assert_eq!(run.code, Some(1));
    let deep = "lists and mappings nested more than 64 levels deep (a manifest needs about 5); \
                the file is not read further";
    assert_eq!(
        run.stderr,
        format!(
            "block.yaml:2: {deep}\nflow.yaml:1: {deep}\nmap.yaml:1: {deep}\n\
             error: 3 problems in the manifests\n"
        )
    );
}

/// Values the parser reads as numbers in another base (or as a float, a boolean) get a "quote
/// it" hint that quotes the text as written, in every place the hint fires; `017`, which YAML
/// 1.2 reads as the text "017", is no problem at all.
#[test]
fn validate_hints_quote_the_value_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "g.yaml",
        "groups:\n  - id: g1\n    type: Public\n    name: 0o17\n    introduction: 0x1F  # hex\n    \
         notification: 017\n    face_url: 1e3\n    owner: True\n    custom:\n      k: 0o17\n  \
         - id: 0x1F\n    type: Public\n    name: x\n  \
         - {id: g3, type: Public, name: 0x1F, introduction: 31}\n\
         prune:\n  id_prefixes: [ops-, 0o17]\n",
    );
    let run = validate_in(root, &["g.yaml"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "g.yaml:4: group \"g1\": field name: expected a string, found integer 15 (quote it: \"0o17\")\n\
         g.yaml:5: group \"g1\": field introduction: expected a string, found integer 31 (quote it: \"0x1F\")\n\
         g.yaml:7: group \"g1\": field face_url: expected a string, found number 1000.0 (quote it: \"1e3\")\n\
         g.yaml:8: group \"g1\": field owner: expected a string, found boolean true (quote it: \"True\")\n\
         g.yaml:10: group \"g1\": field custom.k: expected a string, found integer 15 (quote it: \"0o17\")\n\
         g.yaml:11: field groups[1].id: expected a string, found integer 31 (quote it: \"0x1F\")\n\
         g.yaml:14: group \"g3\": field name: expected a string, found integer 31 (quote it: \"0x1F\")\n\
         g.yaml:14: group \"g3\": field introduction: expected a string, found integer 31 (quote it: \"31\")\n\
         g.yaml:16: field prune.id_prefixes[1]: expected a string, found integer 15 (quote it: \"0o17\")\n\
         error: 9 problems in the manifests\n"
    );
}

/// A hint's quoted text, written back, is read as the text the user meant: the plan over HTTP
/// sets exactly `"0o17"`, `"0x1F"` and `017`.
#[test]
fn the_quoted_hint_plans_the_text_as_written() {
    let world = crate::support::World::new();
    world.write(
        "groups/g.yaml",
        "groups:\n  - id: ops-a\n    type: Public\n    name: \"0o17\"\n    \
         introduction: \"0x1F\"\n    notification: 017\n",
    );
    world
        .timctl(&["plan", "groups"])
        .code(0)
        .stdout_has("name: \"0o17\"")
        .stdout_has("introduction: \"0x1F\"")
        .stdout_has("notification: \"017\"");
    world.timctl(&["apply", "groups", "--auto-approve"]).code(0);
    let live = world.group("ops-a").expect("created");
    assert_eq!(
        (
            live.name.as_str(),
            live.introduction.as_str(),
            live.notification.as_str()
        ),
        ("0o17", "0x1F", "017")
    );
}

#[test]
fn validate_reports_numbers_out_of_range_as_field_problems_and_checks_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "g.yaml",
        "groups:\n  - id: a\n    max_members: 99999999999999999999\n  - id: b\n    \
         create_time: -1\n  - id: c\n    create_time: 1e400\n  - id: d\n    type: public\n",
    );
    let run = validate_in(root, &["g.yaml"]);
    assert_eq!(run.code, Some(1));
    let time = "create_time is a whole number of Unix seconds from 0 to 9999999999";
    assert_eq!(
        run.stderr,
        format!(
            "g.yaml:3: group \"a\": field max_members: 99999999999999999999 is out of range: \
             max_members is a whole number from 1 to 100000 (the most any group type allows)\n\
             g.yaml:5: group \"b\": field create_time: -1 is out of range: {time}\n\
             g.yaml:7: group \"c\": field create_time: 1e400 is out of range: {time}\n\
             g.yaml:9: group \"d\": field type: \"public\" is not one of Private, Public, \
             ChatRoom, AVChatRoom, Community; did you mean \"Public\"?\n\
             error: 4 problems in the manifests\n"
        )
    );
}

#[test]
fn validate_refuses_ids_with_whitespace_at_either_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "g.yaml",
        "groups:\n  - id: \" eng\"\n  - id: \"eng\\t\"\n  - id: eng\n",
    );
    let run = validate_in(root, &["g.yaml"]);
    assert_eq!(run.code, Some(1));
    let ends = "field id: must not start or end with whitespace (ids are taken as written)";
    assert_eq!(
        run.stderr,
        format!(
            "g.yaml:2: group \" eng\": {ends}\ng.yaml:3: group \"eng\\t\": {ends}\n\
             error: 2 problems in the manifests\n"
        )
    );
}

#[test]
fn validate_refuses_tags_it_cannot_honour_where_they_are_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "g.yaml",
        "groups:\n  - id: a\n    name: !!str 12\n    owner: !!binary b3Bz\n    custom:\n      \
         team: !custom x\n",
    );
    let run = validate_in(root, &["g.yaml"]);
    assert_eq!(run.code, Some(1));
    let refused = |tag: &str| {
        format!(
            "tag {tag} is not supported (only !!str, !!int, !!float, !!bool, !!null are); write \
             the value untagged, and any bytes as escapes in a double-quoted string: \"\\0\", \
             \"\\x7F\", \"\\u00E9\""
        )
    };
    assert_eq!(
        run.stderr,
        format!(
            "g.yaml:4: group \"a\": field owner: {}\ng.yaml:6: group \"a\": field custom.team: \
             {}\nerror: 2 problems in the manifests\n",
            refused("!!binary"),
            refused("!custom")
        )
    );
}

#[test]
fn validate_refuses_a_small_file_whose_aliases_would_build_millions_of_values() {
    // 14 KB: 2,000 aliases to a list of 2,000 items. It used to build 4 million values
    // (420 MB) before reporting the unknown keys.
    let dir = tempfile::tempdir().expect("tempdir");
    let items = vec!["x"; 2000].join(", ");
    let aliases = vec!["*a"; 2000].join(", ");
    write(
        dir.path(),
        "g.yaml",
        &format!("a: &a [{items}]\nb: [{aliases}]\n"),
    );
    let run = validate_in(dir.path(), &["g.yaml"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "g.yaml:1: more than 156044 YAML values, counting the copies that aliases (*name) make \
         (a file may build 4 a byte, at most 8000000); the file is not read further\n\
         error: 1 problem in the manifests\n"
    );
}

#[test]
fn validate_reports_people_problems_with_file_line_group_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "groups/people.yaml",
        "\
groups:
  - id: eng
    type: Public
    owner: alice
    max_members: 2
    admins: [bob]
    members:
      - carol
      - carol
  - id: live
    type: AVChatRoom
    members: [dave]
  - id: work
    type: Private
    admins: [bob]
",
    );
    let validated = validate_in(dir.path(), &["groups"]);
    assert_eq!(validated.code, Some(1));
    assert_eq!(
        validated.stderr,
        "\
groups/people.yaml:9: group \"eng\": field members: account \"carol\" is listed twice (first on line 8)
groups/people.yaml:12: group \"live\": field members: an AVChatRoom group stores no member list, so it has no members or admins to manage; remove members
groups/people.yaml:15: group \"work\": field admins: a Private (Work) group has no Admin role; remove admins
error: 3 problems in the manifests
"
    );
    write(
        dir.path(),
        "groups/people.yaml",
        "groups:\n  - id: eng\n    owner: alice\n    max_members: 2\n    admins: [bob]\n    members: [carol]\n",
    );
    let validated = validate_in(dir.path(), &["groups"]);
    assert_eq!(validated.code, Some(1));
    assert!(
        validated.stderr.starts_with(
            "groups/people.yaml:6: group \"eng\": field members: 3 people (owner, admins and members), more than max_members (2)\n"
        ),
        "{}",
        validated.stderr
    );
}
