//! What a valid manifest loads to: fields, defaults, documents, lines, prune.

use std::collections::BTreeSet;
use std::path::Path;

use super::{load_with, loads, problems};
use crate::manifest::Limits;
use crate::model::{ApplyJoin, Custom, DesiredGroup, Ensure, Group, GroupId, GroupType, Source};

fn group<'a>(desired: &'a crate::model::Desired, id: &str) -> &'a DesiredGroup {
    desired
        .groups
        .get(&GroupId::from(id))
        .expect("group declared")
}

#[test]
fn every_field_of_the_design_example_loads() {
    let desired = loads(
        "\
# yaml-language-server: $schema=../schema/timctl.schema.json
defaults:
  type: Public
  owner: ops_bot
groups:
  - id: eng-announce
    type: Public
    name: Engineering
    owner: alice
    introduction: |
      Announcements for the engineering org.
    notification: Deploy freeze on Friday
    face_url: https://example.com/eng.png
    max_members: 2000
    apply_join: NeedPermission
    mute_all: false
    custom:
      team: platform
      raw: \"a\\0b\"
    create_time: 1448357837
  - id: old-room
    ensure: absent
    protect: false
",
    );
    let expected = DesiredGroup {
        group: Group {
            id: "eng-announce".into(),
            group_type: Some(GroupType::Public),
            name: Some("Engineering".into()),
            owner: Some("alice".into()),
            introduction: Some("Announcements for the engineering org.\n".into()),
            notification: Some("Deploy freeze on Friday".into()),
            face_url: Some("https://example.com/eng.png".into()),
            max_members: Some(2000),
            apply_join: Some(ApplyJoin::NeedPermission),
            mute_all: Some(false),
            custom: Some(Custom::from([("team", "platform"), ("raw", "a\0b")])),
            create_time: Some(1448357837),
        },
        ensure: Ensure::Present,
        protect: false,
        source: Source {
            file: Path::new("g.yaml").into(),
            line: Some(6),
        },
        people: Default::default(),
    };
    assert_eq!(group(&desired, "eng-announce"), &expected);
    let old = group(&desired, "old-room");
    assert_eq!(old.ensure, Ensure::Absent);
    assert_eq!(old.group.owner.as_deref(), Some("ops_bot"));
    assert_eq!(old.source.line, Some(21));
    assert!(desired.prune_prefixes.is_empty());
}

#[test]
fn omitted_fields_stay_unmanaged() {
    let desired = loads("groups:\n  - id: bare\n");
    assert_eq!(
        group(&desired, "bare"),
        &DesiredGroup {
            group: Group::new("bare"),
            ensure: Ensure::Present,
            protect: false,
            source: Source {
                file: Path::new("g.yaml").into(),
                line: Some(2),
            },
            people: Default::default(),
        }
    );
}

#[test]
fn a_group_value_replaces_the_default_whole_custom_included() {
    let desired = loads(
        "\
defaults:
  owner: ops_bot
  mute_all: true
  custom: {team: platform, tier: gold}
groups:
  - id: a
  - id: b
    owner: alice
    custom: {topic: deploys}
",
    );
    let a = &group(&desired, "a").group;
    assert_eq!(a.owner.as_deref(), Some("ops_bot"));
    assert_eq!(a.mute_all, Some(true));
    assert_eq!(a.custom.as_ref().map(Custom::len), Some(2));
    let b = &group(&desired, "b").group;
    assert_eq!(b.owner.as_deref(), Some("alice"));
    assert_eq!(b.custom, Some(Custom::from([("topic", "deploys")])));
}

#[test]
fn defaults_apply_to_their_own_document_only_and_prune_prefixes_combine() {
    let desired = loads(
        "\
defaults: {owner: first}
groups: [{id: a}]
prune: {id_prefixes: [ops-]}
---
groups:
  - id: b
prune:
  id_prefixes:
    - tmp-
    - ops-
",
    );
    assert_eq!(group(&desired, "a").group.owner.as_deref(), Some("first"));
    assert_eq!(group(&desired, "b").group.owner, None);
    assert_eq!(group(&desired, "b").source.line, Some(6));
    assert_eq!(
        desired.prune_prefixes,
        BTreeSet::from(["ops-".to_owned(), "tmp-".to_owned()])
    );
}

#[test]
fn empty_and_comment_only_files_declare_nothing() {
    for text in [
        "",
        "# only a comment\n",
        "---\n",
        "groups:\n",
        "groups: []\n",
    ] {
        let desired = loads(text);
        assert!(desired.groups.is_empty(), "{text:?}");
    }
}

#[test]
fn yaml_merge_keys_share_fields_between_groups() {
    let desired = loads(
        "\
groups:
  - &base
    id: a
    type: ChatRoom
    mute_all: true
  - <<: *base
    id: b
",
    );
    assert_eq!(
        group(&desired, "b").group.group_type,
        Some(GroupType::ChatRoom)
    );
    assert_eq!(group(&desired, "b").group.mute_all, Some(true));
}

#[test]
fn protect_from_defaults_protects_every_group() {
    let desired = loads("defaults: {protect: true}\ngroups: [{id: a}, {id: b}]\n");
    assert!(desired.groups.values().all(|g| g.protect));
}

#[test]
fn limits_can_be_raised_for_newer_editions() {
    let text = format!("groups:\n  - id: a\n    name: {}\n", "n".repeat(100));
    let limits = Limits {
        name: 100,
        ..Limits::default()
    };
    assert!(load_with(&[("g.yaml", &text)], &limits).is_ok());
    assert_eq!(
        problems(&text),
        [r#"g.yaml:3: group "a": field name: 100 bytes, at most 30 (UTF-8 bytes)"#]
    );
}

#[test]
fn flow_style_groups_load_and_point_at_the_nearest_known_line() {
    let text = "# flow style\ngroups: [{id: a, name: 42}]\n";
    assert_eq!(
        problems(text),
        [
            r#"g.yaml:2: group "a": field name: expected a string, found integer 42 (quote it: "42")"#
        ]
    );
}

#[test]
fn brackets_quotes_and_hashes_in_text_are_only_text() {
    let brackets = "[{".repeat(40);
    let desired = loads(&format!(
        "\
# {brackets}
groups:
  - id: a # {brackets}
    name: \"[{{a\"
    owner: it's[
    introduction: |
      {brackets}
      # not a comment {brackets}
    notification: >-
      {brackets}
    custom: {{team: '[{{it''s', tier: \"]\\\"[\"}}
  - id: b
    introduction: '{brackets}
      {brackets}'
"
    ));
    let a = &desired.groups[&crate::model::GroupId::from("a")].group;
    assert_eq!(a.name.as_deref(), Some("[{a"));
    assert_eq!(a.owner.as_deref(), Some("it's["));
    assert_eq!(
        a.introduction.as_deref(),
        Some(format!("{brackets}\n# not a comment {brackets}\n").as_str())
    );
    assert_eq!(a.notification.as_deref(), Some(brackets.as_str()));
    assert_eq!(
        a.custom,
        Some(Custom::from([("team", "[{it's"), ("tier", "]\"[")]))
    );
    let b = &desired.groups[&crate::model::GroupId::from("b")].group;
    assert_eq!(
        b.introduction.as_deref(),
        Some(format!("{brackets} {brackets}").as_str())
    );
}

/// A baseline beside the head: files the head holds unchanged are taken from it, the others
/// read; the result is what loading the baseline whole gives, each group's `source` aside.
#[test]
fn a_baseline_reads_only_the_files_that_differ_from_the_head_and_loads_the_same_groups() {
    use crate::manifest::{load_baseline, load_manifests};
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    let write = |root: &Path, name: &str, text: &str| {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
        std::fs::write(path, text).expect("written");
    };
    let same = "defaults:\n  owner: alice\ngroups:\n  - id: same-a\n  - id: same-b\n";
    let prune = "prune:\n  id_prefixes: [pr-]\ngroups:\n  - id: pr-kept\n";
    for root in [&base, &head] {
        write(root, "same.yaml", same);
        write(root, "prune.yaml", prune);
    }
    write(
        &base,
        "changed.yaml",
        "groups:\n  - id: edited\n    name: Old\n",
    );
    write(
        &head,
        "changed.yaml",
        "groups:\n  - id: edited\n    name: New\n",
    );
    write(&base, "gone.yaml", "groups:\n  - id: removed\n");
    // The same bytes at another path: read, not taken.
    write(&base, "old/moved.yaml", "groups:\n  - id: moved\n");
    write(&head, "new/moved.yaml", "groups:\n  - id: moved\n");

    let limits = Limits::default();
    let loaded = load_manifests(std::slice::from_ref(&head), &limits).expect("the head loads");
    let whole = load_manifests(std::slice::from_ref(&base), &limits).expect("the baseline loads");
    let without_sources = |desired: &crate::model::Desired| {
        let mut desired = desired.clone();
        for group in desired.groups.values_mut() {
            std::sync::Arc::make_mut(group).source = Source::default();
        }
        desired
    };
    let scoped = load_baseline(&base, Some(&head), &loaded, &limits).expect("loads");
    assert_eq!(without_sources(&scoped), without_sources(&whole.desired));
    // Taken from the head: the unchanged file's groups point at the head's file.
    let taken = |id: &str| scoped.groups[&GroupId::from(id)].source.file.to_path_buf();
    assert_eq!(taken("same-a"), head.join("same.yaml"));
    assert_eq!(
        taken("pr-kept"),
        base.join("prune.yaml"),
        "a prune file is read"
    );
    assert_eq!(taken("moved"), base.join("old/moved.yaml"));
    assert_eq!(taken("edited"), base.join("changed.yaml"));
    // Without a head root nothing is taken.
    let read = load_baseline(&base, None, &loaded, &limits).expect("loads");
    assert_eq!(
        read.groups[&GroupId::from("same-a")]
            .source
            .file
            .to_path_buf(),
        base.join("same.yaml")
    );

    // A duplicate between a taken file and a read one is still found.
    write(&base, "gone.yaml", "groups:\n  - id: same-a\n");
    let errors = load_baseline(&base, Some(&head), &loaded, &limits).expect_err("a duplicate");
    assert!(errors.to_string().contains("duplicate id"), "{errors}");
}

/// A mapping of many keys costs time in proportion to them: each key's line is found by its
/// place, not by searching every key (100,000 custom keys once took 69 s in a release build;
/// `locate::tests` checks that no search is made), and every line is still right.
#[test]
fn many_keys_are_placed_in_linear_time_at_their_lines() {
    let keys: String = (0..100_000).map(|i| format!("      k{i}: v\n")).collect();
    let text = format!("groups:\n  - id: d\n    custom:\n{keys}");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{:?}", &found[..found.len().min(3)]);
    assert!(found[0].contains("100000 keys, at most 10"), "{found:?}");
    // A bad value deep in a wide mapping still points at its own line.
    let keys: String = (0..2_000).map(|i| format!("      k{i}: v\n")).collect();
    let text = format!("groups:\n  - id: d\n    custom:\n{keys}      bad: 1\n");
    let found = problems(&text);
    assert!(
        found
            .iter()
            .any(|p| p.contains(":2004:") && p.contains("custom.bad")),
        "{found:?}"
    );
}
